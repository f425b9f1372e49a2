#!/usr/bin/python3
"""Scale of a signed zone: compile, load and memory at 1M and 10M names,
bulwarkd against knotd and nsd serving the same signed zone, in one run.

For each size: a zone from scripts/gen-zone.py (fixed seed), signed with
NSEC3 (one ECDSAP256SHA256 CSK; iterations 0, no salt, no opt-out):

  * bulwark-compile -j THREADS: wall time, peak RSS (wait4), the table's
    size and its ratio to the signed records' wire size;
  * bulwarkd (io socket, 127.0.0.1, flood mitigation off) started with no
    zone, then `bulwarkctl zone-load`: from the command to the first SOA
    answer from the table, with the table out of the page cache (cold),
    then a second zone-load of it (warm); VmRSS and PSS after the load;
  * the table dumped once (`bulwark-compile --dump`) as the zone file for
    knotd and nsd: from the start to the first SOA answer, with the file
    out of the page cache; RSS and PSS after the load (NSD: summed over its
    processes; forked children share pages, which RSS counts once per
    process and PSS divides among them); nsd-checkzone's time and peak RSS.

One server runs at a time. Before each one MemAvailable is checked against
an estimate (scaled from a smaller size of the same run or of --estimates
FILE), and while it loads it is stopped when MemAvailable falls under
--reserve-mib, so that the machine neither swaps nor meets the OOM killer;
a skipped or stopped server is reported as such. Everything started is
stopped by its pid, also on failure.

    scripts/bench-scale.py [--build build] [--sizes 1000000,10000000]
        [--workdir DIR] [--keep] [--json FILE] [--estimates FILE]
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "diff"))

import benchlib  # noqa: E402
from benchlib import LowMemory, Poller, drop_cached, mem_available_kb, mem_kb  # noqa: E402
from refserver import Knot, Nsd, free_port, soa_answers  # noqa: E402

ORIGIN = "example."
SEED = 1
# disk a size needs: zone text, signed zone text, table (measured at 1M:
# 0.7 + 0.7 + 1.1 GB), with room to spare
DISK_PER_NAME = 3000
MiB = 1024 * 1024


class BenchError(Exception):
	"""A step of the benchmark failed."""


def log(msg):
	print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def pick_workdir():
	"""A temporary directory on the disk (not tmpfs) with the most free space."""
	fstype = {}
	with open("/proc/mounts") as f:
		for line in f:
			parts = line.split()
			fstype[parts[1]] = parts[2]
	best = None
	for d in (tempfile.gettempdir(), "/var/tmp", "/work", os.path.expanduser("~")):
		if not os.path.isdir(d) or not os.access(d, os.W_OK):
			continue
		mount = d
		while not os.path.ismount(mount):
			mount = os.path.dirname(mount)
		if fstype.get(mount) in ("tmpfs", "ramfs", "devtmpfs"):
			continue
		st = os.statvfs(d)
		free = st.f_bavail * st.f_frsize
		if best is None or free > best[0]:
			best = (free, d)
	return tempfile.mkdtemp(prefix="bw-bench-scale-", dir=best[1])


def disk_free(path):
	st = os.statvfs(path)
	return st.f_bavail * st.f_frsize


class Measured:
	"""A refserver server timed from its start to the first SOA answer, its
	peak memory sampled meanwhile, stopped when free memory runs low."""

	start_timeout = 4 * 3600.0
	reserve_kb = 0

	def copy_zone(self):
		# a hard link, not a copy of a zone file of many GB
		dest = self.path("zone.db")
		try:
			os.link(self.zonefile, dest)
		except OSError:
			shutil.copyfile(self.zonefile, dest)
		os.chmod(dest, 0o644)
		return dest

	def _wait_ready(self):
		# called right after the Popen: time from here
		t0 = time.monotonic()
		self.peak = {"rss": 0, "pss": 0}
		deadline = t0 + self.start_timeout
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				raise BenchError("%s exited with status %d:\n%s" %
					(self.name, self.proc.returncode, self.log_tail()))
			if soa_answers(self.port, self.origin):
				self.load_seconds = time.monotonic() - t0
				return
			m = mem_kb(self.proc.pid)
			for k in self.peak:
				self.peak[k] = max(self.peak[k], m[k])
			if mem_available_kb() < self.reserve_kb:
				raise LowMemory("%s stopped while loading: MemAvailable under %d MiB "
					"(it had %d MiB RSS)" % (self.name, self.reserve_kb >> 10, m["rss"] >> 10))
			time.sleep(0.1)
		raise BenchError("%s did not answer within %ds" % (self.name, self.start_timeout))


class MeasuredKnot(Measured, Knot):
	pass


class MeasuredNsd(Measured, Nsd):
	pass


def mem_row(m):
	return {"rss_bytes": m["rss"] * 1024, "pss_bytes": m["pss"] * 1024,
		"anon_bytes": m["anon"] * 1024, "file_bytes": m["file"] * 1024,
		"processes": m["procs"]}


def enough_memory(name, need_bytes, reserve_kb):
	"""None when NEED_BYTES fits in MemAvailable above the reserve, else why not."""
	avail = mem_available_kb() * 1024
	if need_bytes and avail - need_bytes < reserve_kb * 1024:
		return ("skipped: needs about %.1f GiB, MemAvailable %.1f GiB, reserve %.1f GiB" %
			(need_bytes / 2**30, avail / 2**30, reserve_kb / 2**20))
	return None


def make_zone(work, names):
	zone = os.path.join(work, "zone.db")
	t0 = time.monotonic()
	subprocess.run([sys.executable, os.path.join(HERE, "gen-zone.py"), "-n", str(names),
		"--seed", str(SEED), "--origin", ORIGIN, "-o", zone,
		"-q", os.path.join(work, "q.txt"), "--queries", "1000"],
		check=True, stdout=subprocess.DEVNULL)
	return zone, time.monotonic() - t0


def compile_signed(a, work, zone, reserve_kb):
	keydir = os.path.join(work, "keys")
	os.makedirs(keydir, exist_ok=True)
	table = os.path.join(work, "zone.bwz")
	argv = [os.path.join(a.build, "zonecomp", "cli", "bulwark-compile"), zone,
		"-z", ORIGIN, "-k", keydir, "-j", str(a.threads), "-o", table]
	argv += benchlib.write_policy(os.path.join(work, "policy.conf"))
	out = os.path.join(work, "compile.log")
	with open(out, "w") as f:
		status, wall, maxrss = benchlib.run_measured(argv, f, subprocess.STDOUT, reserve_kb)
	text = open(out).read()
	if status != 0:
		raise BenchError("bulwark-compile failed (%d):\n%s" % (status, text[-2000:]))
	m = re.search(r"wrote .*?: (\d+) names, (\d+) records, table (\d+) bytes "
		r"\(([\d.]+)x the records' wire size of (\d+) bytes\)", text)
	res = {"seconds": wall, "peak_rss_bytes": maxrss * 1024, "threads": a.threads,
		"table_bytes": os.path.getsize(table)}
	if m:
		res.update(names=int(m.group(1)), records=int(m.group(2)),
			wire_bytes=int(m.group(5)), ratio=float(m.group(4)))
	return table, res


def dump(a, work, table):
	signed = os.path.join(work, "signed.db")
	t0 = time.monotonic()
	with open(signed, "w") as f:
		subprocess.run([os.path.join(a.build, "zonecomp", "cli", "bulwark-compile"),
			"--dump", table], stdout=f, check=True)
	return signed, time.monotonic() - t0


def run_bulwarkd(a, work, table):
	"""Start bulwarkd with no zone, zone-load TABLE cold then warm."""
	port = free_port()
	sock = os.path.join(work, "ctl.sock")
	conf = os.path.join(work, "bulwark.conf")
	with open(conf, "w") as f:
		f.write('options { directory "%s"; control-socket "%s"; '
			'listen-on port %d { 127.0.0.1; }; };\n'
			'dataplane { io socket; workers 1; };\n'
			'flood-mitigation { enable no; };\n' % (work, sock, port))
	ctl = [os.path.join(a.build, "controlplane", "bulwarkctl"), "-s", sock,
		"-t", "86400", "--json"]
	logf = open(os.path.join(work, "bulwarkd.log"), "w")
	proc = subprocess.Popen([os.path.join(a.build, "controlplane", "bulwarkd"), "-c", conf],
		stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
		start_new_session=True)
	poller = None
	try:
		end = time.monotonic() + 60
		while not os.path.exists(sock):
			if time.monotonic() > end or proc.poll() is not None:
				raise BenchError("bulwarkd did not start; see %s/bulwarkd.log" % work)
			time.sleep(0.05)
		# one query a millisecond: the poller must not take a core from the load
		poller = Poller(port, ORIGIN, interval=0.001)
		poller.start()
		res = {}
		for phase in ("cold", "warm"):
			if phase == "cold":
				drop_cached(table)
			serial = None if phase == "cold" else res["cold"]["serial"]
			poller.first.pop(serial, None)
			t0 = time.monotonic()
			done = subprocess.run(ctl + ["zone-load", ORIGIN, table],
				capture_output=True, text=True)
			t1 = time.monotonic()
			if done.returncode != 0:
				raise BenchError("zone-load failed: %s%s" % (done.stdout, done.stderr))
			reply = json.loads(done.stdout)
			first = poller.seen_after(reply["serial"], t0, timeout=60)
			res[phase] = {"serial": reply["serial"], "command_seconds": t1 - t0, "first_answer_seconds": first - t0,
				"verify_seconds": reply.get("verify_seconds"),
				"publish_seconds": reply.get("publish_seconds")}
			if phase == "cold":
				res["after_load"] = mem_row(mem_kb(proc.pid))
		res["after_reload"] = mem_row(mem_kb(proc.pid))
		res["answers_polled"] = poller.answers
		return res
	finally:
		if poller is not None:
			poller.stop = True
		if proc.poll() is None:
			proc.terminate()
			try:
				proc.wait(timeout=60)
			except subprocess.TimeoutExpired:
				proc.kill()
				proc.wait()
		logf.close()


def run_reference(cls, signed, reserve_kb):
	"""Start CLS (knotd or nsd) on SIGNED cold; time to first answer, memory."""
	drop_cached(signed)
	server = cls(signed, ORIGIN)
	server.reserve_kb = reserve_kb
	with server:
		load = server.load_seconds
		time.sleep(1.0)
		res = {"load_seconds": load, "after_load": mem_row(mem_kb(server.proc.pid)),
			"peak_while_loading_rss_bytes": server.peak["rss"] * 1024,
			"peak_while_loading_pss_bytes": server.peak["pss"] * 1024}
	return res


def run_checkzone(work, signed, reserve_kb):
	with open(os.path.join(work, "checkzone.log"), "w") as f:
		status, wall, maxrss = benchlib.run_measured(["nsd-checkzone", ORIGIN, signed],
			f, subprocess.STDOUT, reserve_kb)
	return {"seconds": wall, "peak_rss_bytes": maxrss * 1024, "status": status}


def estimate(estimates, server, names):
	"""Bytes SERVER takes at NAMES, from the largest measured smaller size."""
	known = [(n, b) for (s, n), b in estimates.items() if s == server and n <= names]
	if not known:
		return 0
	n, b = max(known)
	return int(b * names / n * 1.1)


def guarded(res, key, server, need, reserve_kb, fn, *args):
	"""Run FN(*ARGS) into RES[KEY] unless memory is short; record failures."""
	why = enough_memory(server, need, reserve_kb)
	if why is not None:
		log("%s: %s" % (server, why))
		res[key] = {"skipped": why}
		return None
	log("%s: starting (MemAvailable %.1f GiB)" % (server, mem_available_kb() / 2**20))
	try:
		res[key] = fn(*args)
	except (LowMemory, BenchError, RuntimeError, subprocess.CalledProcessError) as err:
		log("%s: %s" % (server, err))
		res[key] = {"failed": str(err)[:2000]}
		return None
	log("%s: %s" % (server, json.dumps(res[key])))
	return res[key]


def run_size(a, names, estimates, reserve_kb):
	res = {"names": names}
	need = names * DISK_PER_NAME
	base = a.workdir
	if disk_free(base) < need:
		res["skipped"] = "needs about %.0f GB of disk in %s, %.0f GB free" % (
			need / 1e9, base, disk_free(base) / 1e9)
		log(res["skipped"])
		return res
	why = enough_memory("bulwark-compile", estimate(estimates, "bulwark-compile", names),
		reserve_kb)
	if why is not None:
		res["skipped"] = "bulwark-compile " + why
		log(res["skipped"])
		return res
	work = os.path.join(base, "n%d" % names)
	os.makedirs(work, exist_ok=True)
	tempfile.tempdir = work  # the reference servers' directories go here too
	try:
		log("%d names: generating" % names)
		zone, res["generate_seconds"] = make_zone(work, names)
		res["zone_bytes"] = os.path.getsize(zone)
		log("%d names: compiling and signing" % names)
		need = estimate(estimates, "bulwark-compile", names)
		c = guarded(res, "compile", "bulwark-compile", need, reserve_kb,
			compile_signed, a, work, zone, reserve_kb)
		if c is None:
			return res
		table, res["compile"] = c
		estimates[("bulwark-compile", names)] = res["compile"]["peak_rss_bytes"]
		if not a.keep:
			os.unlink(zone)  # the dump is what the servers get
		signed, res["dump_seconds"] = dump(a, work, table)
		res["signed_zone_bytes"] = os.path.getsize(signed)
		log("%d names: table %d bytes, signed zone %d bytes" % (names,
			res["compile"]["table_bytes"], res["signed_zone_bytes"]))
		if "bulwarkd" in a.servers:
			guarded(res, "bulwarkd", "bulwarkd", 0,
				reserve_kb, run_bulwarkd, a, work, table)
		for server, cls in (("knotd", MeasuredKnot), ("nsd", MeasuredNsd)):
			if server not in a.servers:
				continue
			r = guarded(res, server, server, estimate(estimates, server, names),
				reserve_kb, run_reference, cls, signed, reserve_kb)
			if r is not None:
				estimates[(server, names)] = max(r["after_load"]["rss_bytes"],
					r["peak_while_loading_rss_bytes"])
		if "nsd" in a.servers and a.checkzone:
			guarded(res, "nsd-checkzone", "nsd-checkzone",
				estimate(estimates, "nsd-checkzone", names), reserve_kb,
				run_checkzone, work, signed, reserve_kb)
		return res
	finally:
		tempfile.tempdir = None
		if not a.keep:
			shutil.rmtree(work, ignore_errors=True)


def fmt_bytes(n):
	return "%.2f GiB" % (n / 2**30) if n >= 2**30 else "%.0f MiB" % (n / 2**20)


def table_rows(results):
	"""Markdown rows: size, server, load, RSS, PSS, on disk, compile."""
	rows = []
	for r in results:
		size = "{:,}".format(r["names"])
		if "skipped" in r:
			rows.append((size, "all", r["skipped"], "", "", "", ""))
			continue
		c = r.get("compile", {})
		if "seconds" not in c:
			rows.append((size, "bulwark-compile", c.get("skipped") or c.get("failed", ""),
				"", "", "", ""))
			continue
		comp = "%.0f s, peak RSS %s (-j %d)" % (c["seconds"], fmt_bytes(c["peak_rss_bytes"]),
			c["threads"])
		disk = "table %s (%.2fx wire %s)" % (fmt_bytes(c["table_bytes"]),
			c.get("ratio", 0), fmt_bytes(c.get("wire_bytes", 0)))
		b = r.get("bulwarkd")
		if b and "cold" in b:
			# warm: the same serial is already served, so the command's reply
			# (sent once every worker answers from the new table) is the mark
			rows.append((size, "bulwarkd", "%.2f s cold, %.2f s warm" % (
				b["cold"]["first_answer_seconds"], b["warm"]["command_seconds"]),
				fmt_bytes(b["after_load"]["rss_bytes"]), fmt_bytes(b["after_load"]["pss_bytes"]),
				disk, comp))
		elif b:
			rows.append((size, "bulwarkd", b.get("skipped") or b.get("failed"), "", "", disk, comp))
		zdisk = "zone text %s" % fmt_bytes(r["signed_zone_bytes"])
		for server in ("knotd", "nsd"):
			s = r.get(server)
			if s is None:
				continue
			if "load_seconds" not in s:
				rows.append((size, server, s.get("skipped") or s.get("failed"), "", "", zdisk, ""))
				continue
			m = s["after_load"]
			rss = fmt_bytes(m["rss_bytes"])
			if m["processes"] > 1:
				rss += " (sum of %d processes)" % m["processes"]
			extra = ""
			chk = r.get("nsd-checkzone") if server == "nsd" else None
			if chk and "seconds" in chk:
				extra = "nsd-checkzone %.0f s, peak RSS %s" % (chk["seconds"],
					fmt_bytes(chk["peak_rss_bytes"]))
			elif chk:
				extra = "nsd-checkzone: " + (chk.get("skipped") or chk.get("failed"))
			rows.append((size, server, "%.1f s cold" % s["load_seconds"], rss,
				fmt_bytes(m["pss_bytes"]), zdisk, extra))
	return rows


def markdown(results):
	out = ["| size | server | load to first answer | RSS after load | PSS after load "
		"| table or zone size | compile/sign |", "| ---: | --- | ---: | ---: | ---: | --- | --- |"]
	for row in table_rows(results):
		out.append("| " + " | ".join(row) + " |")
	return "\n".join(out)


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
	ap.add_argument("--sizes", default="1000000,10000000")
	ap.add_argument("--servers", default="bulwarkd,knotd,nsd")
	ap.add_argument("--threads", type=int, default=2)
	ap.add_argument("--workdir", help="default: a temporary directory on the disk "
		"with the most free space")
	ap.add_argument("--keep", action="store_true", help="keep the work directory")
	ap.add_argument("--json", help="write the results to FILE (after each size)")
	ap.add_argument("--estimates", help="JSON of an earlier run, to scale memory "
		"needs from before starting a server")
	ap.add_argument("--reserve-mib", type=int, default=1536,
		help="stop a server or the compiler when MemAvailable falls under this")
	ap.add_argument("--no-checkzone", dest="checkzone", action="store_false")
	a = ap.parse_args()
	# SIGTERM unwinds like ^C, so that every finally stops what it started
	signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
	a.build = os.path.abspath(a.build)
	a.servers = a.servers.split(",")
	sizes = [int(s) for s in a.sizes.split(",")]
	made = a.workdir is None
	a.workdir = os.path.abspath(a.workdir) if a.workdir else pick_workdir()
	os.makedirs(a.workdir, exist_ok=True)
	reserve_kb = a.reserve_mib * 1024
	estimates = {}
	if a.estimates:
		for r in json.load(open(a.estimates))["results"]:
			for key, field in (("compile", "peak_rss_bytes"), ("nsd-checkzone", "peak_rss_bytes")):
				if field in r.get(key, {}):
					estimates[(key if key != "compile" else "bulwark-compile", r["names"])] = r[key][field]
			for server in ("knotd", "nsd"):
				s = r.get(server, {})
				if "after_load" in s:
					estimates[(server, r["names"])] = max(s["after_load"]["rss_bytes"],
						s["peak_while_loading_rss_bytes"])
	log("work directory %s (%.0f GB free), MemAvailable %.1f GiB" % (a.workdir,
		disk_free(a.workdir) / 1e9, mem_available_kb() / 2**20))
	results = []
	doc = {"origin": ORIGIN, "seed": SEED, "denial": "NSEC3 iterations 0, no salt, no opt-out",
		"key": "one ECDSAP256SHA256 CSK", "threads": a.threads, "cpus": os.cpu_count(),
		"mem_total_kib": int(open("/proc/meminfo").readline().split()[1]),
		"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "results": results}
	try:
		for names in sizes:
			results.append(run_size(a, names, estimates, reserve_kb))
			if "nsd-checkzone" in results[-1] and "peak_rss_bytes" in results[-1]["nsd-checkzone"]:
				estimates[("nsd-checkzone", names)] = results[-1]["nsd-checkzone"]["peak_rss_bytes"]
			if a.json:
				with open(a.json, "w") as f:
					json.dump(doc, f, indent=1)
	finally:
		if made and not a.keep:
			shutil.rmtree(a.workdir, ignore_errors=True)
	print(markdown(results))
	return 0


if __name__ == "__main__":
	sys.exit(main())
