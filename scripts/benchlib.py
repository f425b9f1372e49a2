"""Helpers shared by the benchmark scripts (bench-sign.py, bench-publish.py,
bench-scale.py): the NSEC3 signing policy, the memory of a process tree,
a child's wall time and peak RSS with a free-memory guard, bulwarkd's
control socket and an SOA poller.
"""

import json
import os
import socket
import threading
import time

import dns.message
import dns.rdatatype

# RFC 9276 NSEC3: no salt, no extra iterations; one ECDSAP256SHA256 CSK
POLICY_NAME = "bench-nsec3"
POLICY = """dnssec-policy "bench-nsec3" {
	keys { csk lifetime unlimited algorithm ecdsap256sha256; };
	nsec3param iterations 0 optout no salt-length 0;
};
"""


def write_policy(path):
	"""Write POLICY to PATH; return the arguments bulwark-compile takes for it."""
	with open(path, "w") as f:
		f.write(POLICY)
	return ["-c", path, "--policy", POLICY_NAME]


def _status(pid):
	try:
		with open("/proc/%d/status" % pid) as f:
			return dict(line.split(":", 1) for line in f if ":" in line)
	except OSError:
		return None


def _kb(fields, key):
	return int(fields.get(key, "0 kB").split()[0])


def proc_tree(pid):
	"""PID and its descendants (NSD serves from forked children)."""
	children = {}
	for entry in os.listdir("/proc"):
		if entry.isdigit():
			fields = _status(int(entry))
			if fields is not None:
				children.setdefault(int(fields.get("PPid", "0")), []).append(int(entry))
	out, todo = [], [pid]
	while todo:
		p = todo.pop()
		out.append(p)
		todo += children.get(p, [])
	return out


def pss_kb(pid):
	"""Proportional set size of one process (smaps_rollup), 0 if unreadable."""
	try:
		with open("/proc/%d/smaps_rollup" % pid) as f:
			for line in f:
				if line.startswith("Pss:"):
					return int(line.split()[1])
	except OSError:
		pass
	return 0


def mem_kb(pid):
	"""Memory of PID and its descendants in KiB, each summed over the
	processes: rss (VmRSS; pages shared by forked children count once per
	process), anon and file (RssAnon, RssFile), and pss (each shared page
	divided among the processes that map it)."""
	total = {"rss": 0, "anon": 0, "file": 0, "pss": 0, "procs": 0}
	for p in proc_tree(pid):
		fields = _status(p)
		if fields is None:
			continue
		total["rss"] += _kb(fields, "VmRSS")
		total["anon"] += _kb(fields, "RssAnon")
		total["file"] += _kb(fields, "RssFile")
		total["pss"] += pss_kb(p)
		total["procs"] += 1
	return total


def rss_kb(pid):
	"""VmRSS of PID and its descendants, KiB."""
	return mem_kb(pid)["rss"]


def rss(pid):
	"""VmRSS of one process, bytes."""
	fields = _status(pid) or {}
	return _kb(fields, "VmRSS") * 1024


def mem_available_kb():
	with open("/proc/meminfo") as f:
		for line in f:
			if line.startswith("MemAvailable:"):
				return int(line.split()[1])
	return 0


class LowMemory(Exception):
	"""A child was stopped because free memory fell below the reserve."""


def run_measured(argv, stdout, stderr, reserve_kb=0, cwd=None):
	"""Run ARGV; return (status, wall seconds, peak RSS KiB from wait4).
	With RESERVE_KB, the child is killed (by its pid) and LowMemory raised
	when MemAvailable falls below it, before the machine would swap or OOM."""
	import subprocess
	start = time.monotonic()
	proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, cwd=cwd)
	try:
		while True:
			pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
			if pid == proc.pid:
				proc.returncode = os.waitstatus_to_exitcode(status)
				return proc.returncode, time.monotonic() - start, usage.ru_maxrss
			if reserve_kb and mem_available_kb() < reserve_kb:
				raise LowMemory("%s: MemAvailable under %d MiB" % (argv[0], reserve_kb >> 10))
			time.sleep(0.05)
	finally:
		if proc.returncode is None:
			proc.kill()
			os.waitpid(proc.pid, 0)
			proc.returncode = -9


def drop_cached(path):
	"""Write PATH's dirty pages and drop its pages from the page cache, so the
	next reader loads it from disk (only this file; other caches stay)."""
	fd = os.open(path, os.O_RDONLY)
	try:
		os.fsync(fd)
		os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
	finally:
		os.close(fd)


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
	"""Sends SOA queries for ORIGIN to 127.0.0.1:PORT, back to back or one
	per INTERVAL seconds; remembers when each serial was first seen."""

	def __init__(self, port, origin, interval=0.0):
		super().__init__(daemon=True)
		self.port = port
		self.origin = origin
		self.interval = interval
		self.first = {}
		self.stop = False
		self.answers = 0

	def run(self):
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(0.5)
		s.connect(("127.0.0.1", self.port))
		q = dns.message.make_query(self.origin, "SOA")
		while not self.stop:
			if self.interval:
				time.sleep(self.interval)
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
