#!/usr/bin/python3
"""Publication latency of zone-load for a large table.

Generates a zone of N names (scripts/gen-zone.py) in two versions that
differ in their SOA serial, compiles both, starts bulwarkd (io socket, one
worker, 127.0.0.1, a free port) with the first, then loads the versions in
turn through the control socket while a poller sends SOA queries without
pause. For each round it reports:

- command: from sending zone-load to its reply;
- verify: the daemon's time to open and check the table (verify_seconds);
- grace: the swap and the grace period (publish_seconds): the time the
  control plane waits for every worker to pass a quiescent state;
- first answer: from sending zone-load to the first SOA answer with the
  new serial.

Medians over the rounds, and bulwarkd's RSS before and after.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "diff"))

from benchlib import Ctl, Poller, rss  # noqa: E402
from refserver import free_port  # noqa: E402

ORIGIN = "synthetic.example."


def make_zones(work, names):
	z1 = os.path.join(work, "v1.zone")
	subprocess.run([sys.executable, os.path.join(HERE, "gen-zone.py"), "-n",
		str(names), "-o", z1, "-q", os.path.join(work, "q.txt"),
		"--origin", ORIGIN], check=True, stdout=subprocess.DEVNULL)
	text = open(z1).read()
	m = re.search(r"SOA\s+\S+\s+\S+\s+\(?\s*(\d+)", text)
	if m is None:
		raise RuntimeError("no SOA serial found in the generated zone")
	serial = int(m.group(1))
	z2 = os.path.join(work, "v2.zone")
	with open(z2, "w") as f:
		f.write(text[:m.start(1)] + str(serial + 1) + text[m.end(1):])
	return [(z1, serial), (z2, serial + 1)]


def compile_zone(build, zone, out):
	t0 = time.monotonic()
	subprocess.run([os.path.join(build, "zonecomp", "cli", "bulwark-compile"),
		zone, "-o", out, "-z", ORIGIN], check=True, capture_output=True)
	return time.monotonic() - t0


def main():
	p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	p.add_argument("--build", default=os.path.join(HERE, "..", "build"))
	p.add_argument("--names", type=int, default=1000000)
	p.add_argument("--rounds", type=int, default=6)
	a = p.parse_args()
	build = os.path.abspath(a.build)
	work = tempfile.mkdtemp(prefix="bw-bench-publish-")
	proc = None
	try:
		zones = make_zones(work, a.names)
		tables = []
		for i, (zone, serial) in enumerate(zones):
			out = os.path.join(work, "v%d.bwz" % (i + 1))
			secs = compile_zone(build, zone, out)
			tables.append((out, serial))
			print("compiled %s: %.1f s, %d bytes" % (os.path.basename(out), secs,
				os.path.getsize(out)))
		port = free_port()
		sock = os.path.join(work, "ctl.sock")
		conf = os.path.join(work, "bulwark.conf")
		with open(conf, "w") as f:
			f.write('options { directory "%s"; control-socket "%s"; '
				'listen-on port %d { 127.0.0.1; }; };\n'
				'dataplane { io socket; workers 1; };\n'
				'zone "%s" { table "%s"; };\n' % (work, sock, port, ORIGIN, tables[0][0]))
		proc = subprocess.Popen([os.path.join(build, "controlplane", "bulwarkd"),
			"-c", conf], stderr=open(os.path.join(work, "bulwarkd.log"), "w"))
		end = time.monotonic() + 120
		while not os.path.exists(sock):
			if time.monotonic() > end or proc.poll() is not None:
				raise RuntimeError("bulwarkd did not start; see %s/bulwarkd.log" % work)
			time.sleep(0.05)
		ctl = Ctl(sock)
		while ctl.call("status")["zones"] != 1:
			time.sleep(0.1)
		poller = Poller(port, ORIGIN)
		poller.start()
		poller.seen_after(tables[0][1], 0)
		rss0 = rss(proc.pid)
		rows = []
		for r in range(a.rounds):
			table, serial = tables[(r + 1) % 2]
			poller.first.pop(serial, None)
			t0 = time.monotonic()
			res = ctl.call("zone-load", zone=ORIGIN, table=table)
			t1 = time.monotonic()
			tf = poller.seen_after(serial, t0)
			rows.append((t1 - t0, res["verify_seconds"], res["publish_seconds"], tf - t0))
		poller.stop = True
		rss1 = rss(proc.pid)
		print("\n%d names, table %d bytes, %d rounds, %d SOA answers polled\n" %
			(a.names, os.path.getsize(tables[0][0]), a.rounds, poller.answers))
		print("| round | command s | verify s | grace s | first answer s |")
		print("|---|---|---|---|---|")
		for i, row in enumerate(rows):
			print("| %d | %.4f | %.4f | %.6f | %.4f |" % ((i + 1,) + row))
		med = [statistics.median(col) for col in zip(*rows)]
		print("| median | %.4f | %.4f | %.6f | %.4f |" % tuple(med))
		print("\nRSS before the rounds %.1f MiB, after %.1f MiB" %
			(rss0 / 2**20, rss1 / 2**20))
	finally:
		if proc is not None and proc.poll() is None:
			proc.terminate()
			proc.wait(timeout=30)
		subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
	main()
