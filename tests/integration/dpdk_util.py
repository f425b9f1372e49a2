"""Helpers for the tests that run bulwarkd with `io dpdk`.

    with DpdkServer(build, conf_body, netns=None) as srv:
        srv.telemetry("/bulwark/stats")   # dict, from the EAL's telemetry
        srv.wait_for(lambda st: st["rx"] >= n)
    srv.log                               # everything bulwarkd printed

The EAL runs with --no-huge and a --file-prefix of its own, so several
tests (and the developer's own runs) never share DPDK runtime files.
Everything started is stopped, also when the test fails.
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time

RUN_DIR = "/var/run/dpdk"


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
