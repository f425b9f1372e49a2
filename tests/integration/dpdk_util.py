"""Helpers for the tests that run bulwarkd with `io dpdk`.

    with DpdkServer(build, conf_body, netns=None) as srv:
        srv.telemetry("/bulwark/stats")   # dict, from the EAL's telemetry
        srv.wait_for(lambda st: st["rx"] >= n)
    srv.log                               # everything bulwarkd printed

    CLEANUP = Cleanup()                   # what to remove, in every case
    veth_pair(CLEANUP, "nsA", "va", "nsB", "vb")
    mac = veth_up("nsA", "va", "nsB", "vb", ["192.0.2.1/24"])
    run(argv), ns("nsB", argv)            # TestFailure when they fail
    result = CLEANUP.call(test, args)     # None: failed (FAIL printed)

The EAL runs with --no-huge and a --file-prefix of its own, so several
tests (and the developer's own runs) never share DPDK runtime files.
Everything started is stopped, also when the test fails.
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

RUN_DIR = "/var/run/dpdk"


class TestFailure(Exception):
	pass


def check(cond, msg):
	if not cond:
		raise TestFailure(msg)


# ---- Clean-up: always. ----

def on_signal(signum, _frame):
	raise SystemExit(128 + signum)


class Cleanup:
	"""What a test started, removed by run() (once): processes killed,
	servers stopped, namespaces deleted, directories and the EAL runtime
	directories of the prefixes removed."""

	def __init__(self):
		self.procs = []
		self.servers = []
		self.namespaces = []
		self.dirs = []
		self.prefixes = []
		self.done = False

	def install(self):
		"""run() at exit; SIGTERM, SIGINT and SIGHUP exit (128 + signal)."""
		atexit.register(self.run)
		for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
			signal.signal(sig, on_signal)

	def call(self, fn, *args):
		"""install(), then fn(*args) and run(); returns what fn returned,
		or None after printing a TestFailure or a timeout as FAIL. A
		signal is printed and exits."""
		self.install()
		try:
			return fn(*args)
		except TestFailure as e:
			print("FAIL: %s" % e)
		except subprocess.TimeoutExpired as e:
			print("FAIL: timed out: %s" % e)
		except SystemExit as e:
			print("FAIL: interrupted by signal %d" % ((e.code or 128) - 128))
			raise
		finally:
			self.run()
		return None

	def server(self, build_dir, conf_text, prefix, netns=None, start_timeout=40):
		"""A DpdkServer (not started) whose EAL prefix, directory and
		process run() removes."""
		self.prefixes.append(prefix)
		srv = DpdkServer(build_dir, conf_text, prefix, netns=netns,
			start_timeout=start_timeout)
		self.dirs.append(srv.tmp)
		self.servers.append(srv)
		return srv

	def run(self):
		if self.done:
			return
		self.done = True
		for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
			signal.signal(sig, signal.SIG_IGN)   # clean-up is not cut short
		for p in self.procs:
			if p.poll() is None:
				p.kill()
				try:
					p.wait(5)
				except subprocess.TimeoutExpired:
					pass
		for srv in self.servers:
			try:
				srv.stop()
			except Exception as e:  # noqa: BLE001
				print("cleanup: stopping bulwarkd: %s" % e, file=sys.stderr)
		for n in reversed(self.namespaces):
			subprocess.run(["ip", "netns", "del", n], capture_output=True)
		for d in self.dirs:
			shutil.rmtree(d, ignore_errors=True)
		for p in self.prefixes:     # only our own EAL runtime directories
			shutil.rmtree(os.path.join(RUN_DIR, p), ignore_errors=True)


# ---- Commands and the veth pair. ----

def unready(build_dir, programs):
	"""Why this host cannot run the test, or None: one of PROGRAMS (path
	parts below BUILD_DIR) is not built, or we are not root."""
	for prog in programs:
		path = os.path.join(build_dir, *prog)
		if not os.access(path, os.X_OK):
			return "%s is missing: build it first" % path
	if os.geteuid() != 0:
		return "needs root (network namespaces, DPDK)"
	return None


def run(argv, timeout=15, ok=True):
	"""Runs ARGV; with OK, a non-zero exit raises TestFailure."""
	done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
	if ok and done.returncode != 0:
		raise TestFailure("%s failed (%d):\n%s%s" % (" ".join(argv),
			done.returncode, done.stdout, done.stderr))
	return done


def ns(name, argv, **kw):
	"""run() inside the network namespace NAME."""
	return run(["ip", "netns", "exec", name] + argv, **kw)


def veth_pair(cleanup, ns_a, veth_a, ns_b, veth_b, **kw):
	"""Namespaces NS_A and NS_B (deleted by CLEANUP) joined by a veth pair,
	VETH_A in NS_A and VETH_B in NS_B, both still down; loopback up.
	KW goes to run()."""
	for n in (ns_a, ns_b):
		run(["ip", "netns", "add", n], **kw)
		cleanup.namespaces.append(n)
	run(["ip", "link", "add", veth_a, "netns", ns_a, "type", "veth",
		"peer", "name", veth_b, "netns", ns_b], **kw)
	for n in (ns_a, ns_b):
		run(["ip", "-n", n, "link", "set", "lo", "up"], **kw)


def veth_up(ns_a, veth_a, ns_b, veth_b, addrs_b, **kw):
	"""Brings up both ends of a veth_pair(), VETH_B with the addresses
	ADDRS_B ("192.0.2.1/24"; IPv6 ones without DAD); returns the MAC of
	VETH_A. KW goes to run()."""
	run(["ip", "-n", ns_a, "link", "set", veth_a, "up"], **kw)
	for a in addrs_b:
		run(["ip", "-n", ns_b, "addr", "add", a, "dev", veth_b] +
			(["nodad"] if ":" in a else []), **kw)
	run(["ip", "-n", ns_b, "link", "set", veth_b, "up"], **kw)
	# veth hands over partial checksums; the kernel behind the TAP would
	# drop such TCP segments.
	ns(ns_b, ["ethtool", "-K", veth_b, "tx", "off"], **kw)
	info = json.loads(run(["ip", "-n", ns_a, "-j", "link", "show", "dev",
		veth_a], **kw).stdout)
	return info[0]["address"].lower()


def eal_args(prefix, lcores="0-1", memory=512, extra=""):
	"""EAL arguments for a test: no hugepages, no PCI, own runtime dir."""
	return ("-l %s --no-huge -m %d --no-pci --file-prefix %s "
		"--log-level=lib.eal:warning %s" % (lcores, memory, prefix, extra)).strip()


class DpdkServer:
	"""bulwarkd -c CONF -f, optionally inside a network namespace."""

	def __init__(self, build_dir, conf_text, prefix, netns=None, start_timeout=30):
		self.build_dir = os.path.abspath(build_dir)
		self.conf_text = conf_text
		self.prefix = prefix
		self.netns = netns
		self.start_timeout = start_timeout
		self.tmp = tempfile.mkdtemp(prefix="bw-dpdk-")
		self.proc = None
		self.log = ""
		self.returncode = None

	def path(self, name):
		return os.path.join(self.tmp, name)

	def program(self, *parts):
		return os.path.join(self.build_dir, *parts)

	def start(self):
		conf = self.path("bulwark.conf")
		with open(conf, "w") as f:
			f.write(self.conf_text)
		argv = [self.program("controlplane", "bulwarkd"), "-c", conf, "-f"]
		if self.netns:
			argv = ["ip", "netns", "exec", self.netns] + argv
		self.logf = open(self.path("bulwarkd.log"), "w+")
		self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT)
		deadline = time.time() + self.start_timeout
		while time.time() < deadline:
			if self.proc.poll() is not None:
				self.stop()
				raise RuntimeError("bulwarkd exited with %s:\n%s" %
					(self.returncode, self.log))
			if "started: io dpdk" in self.read_log():
				return self
			time.sleep(0.1)
		self.stop()
		raise RuntimeError("bulwarkd did not start in %ds:\n%s" %
			(self.start_timeout, self.log))

	def read_log(self):
		self.logf.flush()
		with open(self.path("bulwarkd.log")) as f:
			return f.read()

	def telemetry(self, cmd):
		"""One telemetry command; returns its value (a dict)."""
		path = os.path.join(RUN_DIR, self.prefix, "dpdk_telemetry.v2")
		with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
			s.settimeout(5)
			s.connect(path)
			json.loads(s.recv(65536).decode())    # the greeting
			s.send(cmd.encode())
			reply = json.loads(s.recv(1 << 20).decode())
		return reply[cmd.split(",")[0]]

	def stats(self):
		return self.telemetry("/bulwark/stats")

	def wait_for(self, cond, timeout=20, what="condition"):
		"""Polls /bulwark/stats until cond(stats) holds; returns the stats."""
		deadline = time.time() + timeout
		st = None
		while time.time() < deadline:
			st = self.stats()
			if cond(st):
				return st
			time.sleep(0.1)
		raise AssertionError("timed out waiting for %s; stats: %s" % (what, st))

	def stop(self):
		"""SIGTERM, then SIGKILL after 10 s; keeps the log."""
		if self.proc is not None and self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(10)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		if self.proc is not None:
			self.returncode = self.proc.returncode
			self.log = self.read_log()
			self.logf.close()
			self.proc = None
		return self.returncode

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.stop()
		return False


def compile_zone(build_dir, zonefile, origin, out):
	"""bulwark-compile ZONE -o OUT -z ORIGIN; raises on failure."""
	argv = [os.path.join(build_dir, "zonecomp", "cli", "bulwark-compile"),
		zonefile, "-o", out, "-z", origin]
	done = subprocess.run(argv, capture_output=True, text=True)
	if done.returncode != 0:
		raise RuntimeError("bulwark-compile failed:\n" + done.stdout + done.stderr)
	return out
