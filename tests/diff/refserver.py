"""Start and stop DNS servers on 127.0.0.1 for the differential tests.

Every server runs in the foreground as a child process, in a temporary
directory of its own, on a free loopback port. It is stopped by its pid
(never by name), on success, on failure (try/finally through the context
manager) and at interpreter exit (atexit), and its directory is removed.
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

_LIVE = []


def _stop_all():
	for server in list(_LIVE):
		server.stop()


atexit.register(_stop_all)


def free_port():
	"""A loopback port that is free for both UDP and TCP right now."""
	for _ in range(50):
		with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
			udp.bind(("127.0.0.1", 0))
			port = udp.getsockname()[1]
			with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
				try:
					tcp.bind(("127.0.0.1", port))
				except OSError:
					continue
				return port
	raise RuntimeError("no free loopback port")


def soa_answers(port, origin, timeout=0.3):
	"""True once the server on PORT answers an SOA query for ORIGIN with NOERROR."""
	query = dns.message.make_query(origin, dns.rdatatype.SOA)
	with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
		sock.settimeout(timeout)
		try:
			sock.sendto(query.to_wire(), ("127.0.0.1", port))
			wire, _ = sock.recvfrom(65535)
			reply = dns.message.from_wire(wire)
		except (OSError, dns.exception.DNSException):
			return False
	return reply.id == query.id and reply.rcode() == dns.rcode.NOERROR and \
		bool(reply.flags & dns.flags.AA)


class Server:
	"""A DNS server child process serving one zone on 127.0.0.1:port."""

	name = "server"
	start_timeout = 60.0

	def __init__(self, zonefile, origin, keep=False):
		self.zonefile = os.path.abspath(zonefile)
		self.origin = dns.name.from_text(origin).to_text()
		self.keep = keep
		self.port = None
		self.proc = None
		self.workdir = None
		self.log = None

	def prepare(self):
		"""Write the configuration into self.workdir; return the argv."""
		raise NotImplementedError

	def start(self):
		self.workdir = tempfile.mkdtemp(prefix="bw-%s-" % self.name)
		# the server may drop to another user; let it read its directory
		os.chmod(self.workdir, 0o755)
		_LIVE.append(self)
		try:
			self._start_once()
		except BaseException:
			self.stop()
			raise
		return self

	def _start_once(self):
		last_error = None
		for _ in range(3):
			self.port = free_port()
			argv = self.prepare()
			self.log = open(os.path.join(self.workdir, "server.log"), "ab")
			self.proc = subprocess.Popen(argv, cwd=self.workdir,
				stdin=subprocess.DEVNULL, stdout=self.log,
				stderr=subprocess.STDOUT, start_new_session=True)
			try:
				self._wait_ready()
				return
			except RuntimeError as err:
				last_error = err
				self._kill()
		raise last_error

	def _wait_ready(self):
		deadline = time.monotonic() + self.start_timeout
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				raise RuntimeError("%s exited with status %d:\n%s" %
					(self.name, self.proc.returncode, self.log_tail()))
			if soa_answers(self.port, self.origin):
				return
			time.sleep(0.1)
		raise RuntimeError("%s did not answer SOA %s on port %d within %ds:\n%s" %
			(self.name, self.origin, self.port, self.start_timeout, self.log_tail()))

	def log_tail(self, lines=30):
		path = os.path.join(self.workdir, "server.log")
		try:
			with open(path, "rb") as f:
				text = f.read().decode("utf-8", "replace")
		except OSError:
			return ""
		return "\n".join(text.splitlines()[-lines:])

	def _kill(self):
		if self.proc is None:
			return
		if self.proc.poll() is None:
			# only the process we started, by its pid
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(timeout=10)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		self.proc = None
		if self.log is not None:
			self.log.close()
			self.log = None

	def stop(self):
		self._kill()
		if self in _LIVE:
			_LIVE.remove(self)
		if self.workdir and not self.keep:
			shutil.rmtree(self.workdir, ignore_errors=True)
			self.workdir = None

	def path(self, *parts):
		return os.path.join(self.workdir, *parts)

	def write(self, filename, text):
		with open(self.path(filename), "w") as f:
			f.write(text)
		return self.path(filename)

	def copy_zone(self):
		"""Copy the zone into the work directory (readable after a privilege drop)."""
		dest = self.path("zone.db")
		shutil.copyfile(self.zonefile, dest)
		os.chmod(dest, 0o644)
		return dest

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.stop()
		return False


class Nsd(Server):
	"""NSD 4 with no database, no control channel and rate limiting off."""

	name = "nsd"

	def prepare(self):
		zone = self.copy_zone()
		conf = f"""server:
	ip-address: 127.0.0.1@{self.port}
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "{self.workdir}"
	pidfile: "{self.path('nsd.pid')}"
	database: ""
	zonelistfile: "{self.path('zone.list')}"
	xfrdfile: "{self.path('xfrd.state')}"
	xfrdir: "{self.workdir}"
	verbosity: 1
	# the tests send tens of thousands of queries from 127.0.0.1
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: "{self.origin}"
	zonefile: "{zone}"
"""
		conf_path = self.write("nsd.conf", conf)
		return ["nsd", "-d", "-c", conf_path]


class Knot(Server):
	"""Knot DNS 3 with defaults, in the foreground, storage in the work directory."""

	name = "knot"

	def prepare(self):
		zone = self.copy_zone()
		conf = f"""server:
    rundir: "{self.workdir}"
    listen: 127.0.0.1@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "{self.workdir}"
template:
  - id: default
    storage: "{self.workdir}"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: "{self.origin}"
    file: "{zone}"
"""
		conf_path = self.write("knot.conf", conf)
		return ["knotd", "-c", conf_path]


REFERENCES = {"nsd": Nsd, "knot": Knot}
