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
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "diff"))

import dns.message  # noqa: E402
import dns.rdatatype  # noqa: E402

ORIGIN = "synthetic.example."


def free_port():
	with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


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


def rss(pid):
	for line in open("/proc/%d/status" % pid):
		if line.startswith("VmRSS:"):
			return int(line.split()[1]) * 1024
	return 0


class Ctl:
	"""One control-socket connection (JSON lines)."""

	def __init__(self, path):
		self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		self.s.connect(path)
		self.f = self.s.makefile("rwb")

	def call(self, command, **args):
		req = {"version": 1, "command": command}
		if args:
			req["args"] = args
		self.f.write(json.dumps(req).encode() + b"\n")
		self.f.flush()
		rep = json.loads(self.f.readline())
		if not rep["ok"]:
			raise RuntimeError("%s: %s" % (command, rep["error"]))
		return rep["result"]


class Poller(threading.Thread):
	"""Sends SOA queries back to back; remembers when each serial was first seen."""

	def __init__(self, port):
		super().__init__(daemon=True)
		self.port = port
		self.first = {}
		self.stop = False
		self.answers = 0

	def run(self):
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(0.5)
		s.connect(("127.0.0.1", self.port))
		q = dns.message.make_query(ORIGIN, "SOA")
		while not self.stop:
			q.id = (q.id + 1) & 0xffff
			s.send(q.to_wire())
			try:
				r = dns.message.from_wire(s.recv(4096))
			except (socket.timeout, Exception):
				continue
			now = time.monotonic()
			self.answers += 1
			for rrset in r.answer:
				if rrset.rdtype == dns.rdatatype.SOA:
					self.first.setdefault(rrset[0].serial, now)

	def seen_after(self, serial, t0, timeout=30.0):
		end = time.monotonic() + timeout
		while time.monotonic() < end:
			t = self.first.get(serial)
			if t is not None and t >= t0:
				return t
			time.sleep(0.0002)
		raise RuntimeError("serial %d never answered" % serial)


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
		poller = Poller(port)
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
