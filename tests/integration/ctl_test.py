#!/usr/bin/python3
"""Integration test: bulwarkd's control socket and bulwarkctl.

    ctl_test.py --build BUILD

Starts bulwarkd from BUILD (io socket, two workers, 127.0.0.1 on a free
port) in a temporary directory that is its `directory`, with the
`control-socket` and the `pid-file` inside it, and zones compiled by
bulwark-compile from small zone texts written here. Then checks
(docs/control-protocol.md):

- bulwarkctl round trips: status (text and --json), zone-list, zone-load
  of a new zone answered by the next query, zone-status and its query
  counters, an atomic replacement (previous_serial, the SOA serial right
  after), zone-unload (REFUSED), unknown zones, invalid tables (truncated,
  random bytes, another zone's) refused with nothing changed, stats,
  stats --reset and stats --prometheus (every line well formed);
- the raw protocol: bad requests of every kind, a 100 KB line, a client
  stuck in the middle of a line, 64 and more idle clients, a client that
  reads none of its replies, pipelined requests (order and "id"), the
  10 s timeout of an incomplete line;
- the socket's mode 0660, and "permission denied" (exit 4) for a user
  outside the daemon's group (as root only: the check runs bulwarkctl as
  nobody through setpriv);
- no daemon: exit 3;
- reload: added, removed and changed zones; a syntax error (config-error
  with file:line); a listen-on change (restart-needed, nothing applied);
  SIGHUP;
- restarts: bulwarkctl stop, zones loaded with zone-load and zones
  unloaded with zone-unload kept across a restart (zones.state), a table
  corrupted on disk skipped, kill -9 during a zone-load of a 300,000-name
  table (three delays) leaving the old or the new zone set, consistent
  with zones.state, and a garbage zones.state moved to zones.state.bad.

Every process the test starts is stopped by its pid, also when a check
fails.
"""

import argparse
import atexit
import json
import os
import re
import signal
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "diff"))

import dns.edns  # noqa: E402
import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

from refserver import free_port  # noqa: E402

CLIENTS_MAX = 64           # BW_CTL_CLIENTS_MAX
IDLE_S = 10.0              # the daemon's control-socket idle timeout
REQUEST_MAX = 65536
BIG_NAMES = 300000
NOBODY = 65534

# Every process started here, stopped by pid in the end whatever happened.
_PROCS = []


def _reap_all():
	for proc in list(_PROCS):
		stop_proc(proc)


atexit.register(_reap_all)


def stop_proc(proc, sig=signal.SIGTERM, wait=10):
	if proc.poll() is None:
		try:
			proc.send_signal(sig)
			proc.wait(timeout=wait)
		except subprocess.TimeoutExpired:
			proc.kill()
			proc.wait()
		except ProcessLookupError:
			pass
	if proc in _PROCS:
		_PROCS.remove(proc)


# ---- Zones. ----

def zone_text(origin, serial, www, extra=0):
	lines = [
		"$ORIGIN %s." % origin,
		"$TTL 300",
		"@ SOA ns1 hostmaster %d 7200 3600 1209600 300" % serial,
		"@ NS ns1",
		"ns1 A 192.0.2.53",
		"www A %s" % www,
		"mail MX 10 www",
	]
	lines += ["h%d A 198.51.100.%d" % (i, i % 250) for i in range(extra)]
	return "\n".join(lines) + "\n"


# ---- DNS. ----

def dns_query(port, name, rdtype="A", tcp=False, timeout=2.0):
	q = dns.message.make_query(name, rdtype)
	if tcp:
		return dns.query.tcp(q, "127.0.0.1", port=port, timeout=timeout)
	return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)


def soa_serial(port, zone):
	"""The SOA serial over UDP, or the rcode's name when not NOERROR."""
	r = dns_query(port, zone, "SOA")
	if r.rcode() != dns.rcode.NOERROR:
		return dns.rcode.to_text(r.rcode())
	for rrset in r.answer:
		if rrset.rdtype == dns.rdatatype.SOA:
			return rrset[0].serial
	return "no SOA in the answer"


def www_address(port, zone):
	r = dns_query(port, "www." + zone, "A")
	if r.rcode() != dns.rcode.NOERROR:
		return dns.rcode.to_text(r.rcode())
	return r.answer[0][0].address if r.answer else "empty answer"


# ---- The control socket, raw. ----

def unix_connect(path, timeout=5.0):
	"""Connects, waiting up to TIMEOUT while the listen backlog is full
	(a non-blocking connect on a UNIX socket fails with EAGAIN then)."""
	deadline = time.monotonic() + timeout
	while True:
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.settimeout(timeout)
		try:
			s.connect(path)
			return s
		except BlockingIOError:
			s.close()
			if time.monotonic() > deadline:
				raise
			time.sleep(0.01)
		except OSError:
			s.close()
			raise


class Lines:
	"""Reads reply lines from a socket."""

	def __init__(self, sock):
		self.sock = sock
		self.buf = b""
		self.eof = False

	def line(self, timeout=5.0):
		"""The next line (without its newline); None at EOF or a reset;
		raises socket.timeout when nothing comes within TIMEOUT."""
		deadline = time.monotonic() + timeout
		while b"\n" not in self.buf:
			if self.eof:
				return None
			left = deadline - time.monotonic()
			if left <= 0:
				raise socket.timeout("no reply line within %.1f s" % timeout)
			self.sock.settimeout(left)
			try:
				chunk = self.sock.recv(1 << 20)
			except ConnectionResetError:
				chunk = b""
			if not chunk:
				self.eof = True
			self.buf += chunk
		line, self.buf = self.buf.split(b"\n", 1)
		return line

	def reply(self, timeout=5.0):
		line = self.line(timeout)
		assert line is not None, "connection closed without a reply"
		return parse_reply(line)

	def closed(self, within=3.0):
		"""True when the daemon closes the connection within WITHIN s
		(after any lines still unread)."""
		deadline = time.monotonic() + within
		while time.monotonic() < deadline:
			try:
				if self.line(max(0.01, deadline - time.monotonic())) is None:
					return True
			except socket.timeout:
				return False
		return False


def parse_reply(line):
	try:
		rep = json.loads(line)
	except ValueError as err:
		raise AssertionError("reply is not JSON (%s): %r" % (err, line[:300]))
	assert isinstance(rep, dict) and rep.get("version") == 1 and \
		isinstance(rep.get("ok"), bool), "malformed reply: %r" % line[:300]
	if rep["ok"]:
		assert isinstance(rep.get("result"), dict), "ok reply without a result object: %r" % line[:300]
	else:
		err = rep.get("error")
		assert isinstance(err, dict) and isinstance(err.get("code"), str) and \
			isinstance(err.get("message"), str), "malformed error reply: %r" % line[:300]
	return rep


def request_line(command, args=None, **extra):
	req = {"version": 1, "command": command}
	if args is not None:
		req["args"] = args
	req.update(extra)
	return (json.dumps(req) + "\n").encode()


def error_code(rep):
	return None if rep["ok"] else rep["error"]["code"]


# ---- The daemon. ----

class Daemon:
	"""bulwarkd in DIR, configuration DIR/bulwark.conf, restarted at will."""

	def __init__(self, build, workdir):
		self.bulwarkd = program(build, "controlplane", "bulwarkd")
		self.ctl_bin = program(build, "controlplane", "bulwarkctl")
		self.dir = workdir
		self.conf = os.path.join(workdir, "bulwark.conf")
		self.sock = os.path.join(workdir, "ctl.sock")
		self.pidfile = os.path.join(workdir, "bulwarkd.pid")
		self.state = os.path.join(workdir, "zones.state")
		self.port = free_port()
		self.proc = None
		self.starts = 0
		self.logpath = None
		self.zones = []        # the configuration's: (name, "table"|"file", path)

	def conf_text(self, zones=None, port=None, broken=False, extra=""):
		zones = self.zones if zones is None else zones
		lines = [
			"options {",
			'\tdirectory "%s";' % self.dir,
			'\tcontrol-socket "ctl.sock";',
			'\tpid-file "bulwarkd.pid";',
			"\tlisten-on port %d { 127.0.0.1; };" % (port or self.port),
			"};",
			"dataplane {",
			"\tio socket;",
			"\tworkers 2;",
			"};",
		]
		for name, kind, path in zones:
			lines.append('zone "%s" { %s "%s"; };' % (name, kind, path))
		if extra:
			lines.append(extra)
		if broken:
			lines.append('zone "broken.test" { table "x.bwz" }')  # no ';'
			lines.append('zone "after.test" { table "y.bwz"; };')
		return "\n".join(lines) + "\n"

	def write_conf(self, zones=None, **kw):
		if zones is not None:
			self.zones = list(zones)
		text = self.conf_text(**kw)
		with open(self.conf, "w") as f:
			f.write(text)
		return text

	def start(self, timeout=30.0):
		self.starts += 1
		self.logpath = os.path.join(self.dir, "bulwarkd.%d.log" % self.starts)
		log = open(self.logpath, "ab")
		self.proc = subprocess.Popen([self.bulwarkd, "-c", self.conf, "-f"],
			cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
			stderr=subprocess.STDOUT, start_new_session=True)
		log.close()
		_PROCS.append(self.proc)
		deadline = time.monotonic() + timeout
		# ready: the pid file holds the new pid (written once UDP and TCP
		# serve) and the control socket answers
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				raise AssertionError("bulwarkd exited with status %d at start:\n%s" %
					(self.proc.returncode, self.log()))
			if self._pidfile_pid() == self.proc.pid:
				try:
					if self.req("status", timeout=1)["ok"]:
						return
				except (OSError, AssertionError):
					pass
			time.sleep(0.02)
		raise AssertionError("bulwarkd not ready within %.0f s:\n%s" % (timeout, self.log()))

	def _pidfile_pid(self):
		try:
			with open(self.pidfile) as f:
				return int(f.read().strip() or 0)
		except (OSError, ValueError):
			return None

	def running(self):
		return self.proc is not None and self.proc.poll() is None

	def ensure(self):
		"""Restart the daemon when an earlier check left it dead."""
		if not self.running():
			print("  (bulwarkd was not running: started again)")
			self.start()

	def term(self):
		"""SIGTERM by pid; returns the exit status."""
		proc = self.proc
		if proc is None:
			return None
		stop_proc(proc)
		return proc.returncode

	def kill9(self):
		proc = self.proc
		if proc is not None and proc.poll() is None:
			os.kill(proc.pid, signal.SIGKILL)
			proc.wait()
		if proc in _PROCS:
			_PROCS.remove(proc)

	def log(self, lines=40):
		try:
			with open(self.logpath, "rb") as f:
				text = f.read().decode("utf-8", "replace")
		except (OSError, TypeError):
			return ""
		return "\n".join(text.splitlines()[-lines:])

	def ctl(self, *args, json_out=False, sock=None, timeout=15, prefix=(), binary=None):
		argv = list(prefix) + [binary or self.ctl_bin, "-s", sock or self.sock, "-t", "10"]
		if json_out:
			argv.append("--json")
		argv += [str(a) for a in args]
		return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
			stdin=subprocess.DEVNULL)

	def ctl_ok(self, *args, json_out=False):
		done = self.ctl(*args, json_out=json_out)
		assert done.returncode == 0, "bulwarkctl %s: exit %d, stderr: %s" % (
			" ".join(map(str, args)), done.returncode, done.stderr.strip())
		if json_out:
			try:
				return json.loads(done.stdout)
			except ValueError as err:
				raise AssertionError("bulwarkctl --json %s: not JSON (%s):\n%s" %
					(" ".join(map(str, args)), err, done.stdout[:500]))
		return done.stdout

	def ctl_fail(self, code, *args):
		"""Runs bulwarkctl expecting exit CODE; returns its stderr."""
		done = self.ctl(*args)
		assert done.returncode == code, "bulwarkctl %s: exit %d, not %d\nstdout: %s\nstderr: %s" % (
			" ".join(map(str, args)), done.returncode, code, done.stdout.strip(),
			done.stderr.strip())
		return done.stderr

	def req(self, command, args=None, timeout=5.0, **extra):
		with unix_connect(self.sock, timeout) as s:
			s.sendall(request_line(command, args, **extra))
			return Lines(s).reply(timeout)

	def result(self, command, args=None, **extra):
		rep = self.req(command, args, **extra)
		assert rep["ok"], "%s %s: %s" % (command, args or "", rep["error"])
		return rep["result"]

	def served(self):
		"""{zone: (serial, source, table)} from zone-list."""
		return {z["zone"]: (z["serial"], z["source"], z["table"])
			for z in self.result("zone-list")["zones"]}


def program(build, *parts):
	path = os.path.join(build, *parts)
	if not os.access(path, os.X_OK):
		raise SystemExit("%s is missing: build it first (ninja -C %s)" % (path, build))
	return path


class Ctx:
	"""What the checks share."""

	def __init__(self, build, tmp):
		self.build = build
		self.tmp = tmp
		self.d = Daemon(build, tmp)
		self.compiler = program(build, "zonecomp", "cli", "bulwark-compile")
		self.tables = {}
		self.big = None            # (path, serial) once compiled
		self.big_thread = None
		self.big_error = None
		self.half = None           # the client stuck in the middle of a line
		self.bad_tables = set()    # zones whose state-file table is corrupt

	def path(self, name):
		return os.path.join(self.tmp, name)

	def compile(self, name, origin, serial, www, extra=0, zonefile=None):
		if zonefile is None:
			zonefile = self.path(name + ".zone")
			with open(zonefile, "w") as f:
				f.write(zone_text(origin, serial, www, extra))
		table = self.path(name + ".bwz")
		done = subprocess.run([self.compiler, zonefile, "-o", table, "-z", origin],
			capture_output=True, text=True, timeout=120)
		if done.returncode != 0:
			raise RuntimeError("bulwark-compile %s: exit %d\n%s%s" % (zonefile,
				done.returncode, done.stdout, done.stderr))
		self.tables[name] = table
		return table

	def start_big(self):
		"""Generates and compiles the 300k-name zone in the background."""
		def work():
			try:
				zonefile = self.path("big.zone")
				done = subprocess.run([sys.executable, os.path.join(SRC, "scripts", "gen-zone.py"),
					"-n", str(BIG_NAMES), "-o", zonefile, "--origin", "big.test",
					"-q", os.devnull, "--queries", "1", "--seed", "7"],
					capture_output=True, text=True, timeout=300)
				if done.returncode != 0:
					raise RuntimeError("gen-zone.py: exit %d\n%s" % (done.returncode, done.stderr))
				table = self.compile("big", "big.test", 0, None, zonefile=zonefile)
				with open(zonefile) as f:
					for ln in f:
						m = re.search(r"\bSOA\s+\S+\s+\S+\s+(\d+)", ln)
						if m:
							self.big = (table, int(m.group(1)))
							break
				if self.big is None:
					raise RuntimeError("no SOA serial in %s" % zonefile)
			except Exception as err:  # reported by the check that needs it
				self.big_error = err
		self.big_thread = threading.Thread(target=work, daemon=True)
		self.big_thread.start()

	def need_big(self):
		self.big_thread.join(300)
		if self.big is None:
			raise AssertionError("the big zone could not be made: %s" % self.big_error)
		return self.big


# ---- 1. bulwarkctl round trips. ----

def check_status(c):
	d = c.d
	text = d.ctl_ok("status")
	st = d.ctl_ok("status", json_out=True)
	zl = d.ctl_ok("zone-list", json_out=True)
	for key in ("version", "pid", "started", "uptime", "config", "io", "workers",
			"zones", "publications", "listen", "ports"):
		assert key in st, "status --json: no '%s' in %s" % (key, st)
	assert isinstance(st["version"], str) and re.match(r"^\d+\.\d+", st["version"]), \
		"status: version %r" % st["version"]
	assert st["pid"] == d.proc.pid, "status: pid %s, the daemon is %d" % (st["pid"], d.proc.pid)
	assert st["zones"] == len(d.zones) == len(zl["zones"]), \
		"status: zones %s, configured %d, zone-list %d" % (st["zones"], len(d.zones), len(zl["zones"]))
	assert st["io"] == "socket" and st["workers"] == 2 and st["ports"] == [], \
		"status: io %s, workers %s, ports %s" % (st["io"], st["workers"], st["ports"])
	assert st["listen"] == ["127.0.0.1 port %d" % d.port], "status: listen %s" % st["listen"]
	assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", st["started"]), "status: started %r" % st["started"]
	viaconf = subprocess.run([d.ctl_bin, "-c", d.conf, "--json", "status"], capture_output=True,
		text=True, timeout=15)
	assert viaconf.returncode == 0 and json.loads(viaconf.stdout)["pid"] == d.proc.pid, \
		"bulwarkctl -c CONF status (the socket from the configuration): exit %d: %s" % (
			viaconf.returncode, viaconf.stderr)
	for key, want in (("version", st["version"]), ("pid", str(d.proc.pid)),
			("zones", str(st["zones"])), ("io", "socket")):
		assert re.search(r"^%s:\s+%s\s*$" % (key, re.escape(want)), text, re.M), \
			"status (text): no line '%s: %s' in:\n%s" % (key, want, text)


def check_zone_list(c):
	d = c.d
	text = d.ctl_ok("zone-list")
	zl = d.ctl_ok("zone-list", json_out=True)["zones"]
	names = [z["zone"] for z in zl]
	want = sorted(n + "." for n, _, _ in d.zones)
	assert names == want, "zone-list: %s, want %s (in name order)" % (names, want)
	for z in zl:
		for key in ("serial", "names", "size", "source", "table", "loaded"):
			assert key in z, "zone-list: no '%s' in %s" % (key, z)
		assert z["source"] == "config", "zone-list: %s source %s" % (z["zone"], z["source"])
		conf = [p for n, k, p in d.zones if n + "." == z["zone"]][0]
		kind = [k for n, k, p in d.zones if n + "." == z["zone"]][0]
		if kind == "table":
			assert z["table"] == os.path.join(d.dir, conf), "zone-list: %s table %s" % (z["zone"], z["table"])
		else:
			assert z["table"] is None, "zone-list: %s compiled from a file, table %r" % (z["zone"], z["table"])
		assert z["zone"] in text, "zone-list (text): %s missing:\n%s" % (z["zone"], text)


def check_zone_load_new(c):
	d = c.d
	res = d.ctl_ok("zone-load", "new.test", c.tables["new1"], json_out=True)
	# the next query is answered from it
	addr = www_address(d.port, "new.test")
	assert addr == "192.0.2.10", "www.new.test right after zone-load: %s" % addr
	out = subprocess.run(["dig", "@127.0.0.1", "-p", str(d.port), "www.new.test", "A",
		"+short", "+tries=1", "+time=2"], capture_output=True, text=True, timeout=10).stdout
	assert out.strip() == "192.0.2.10", "dig www.new.test: %r" % out
	assert res.get("zone") == "new.test." and res.get("serial") == 10, "zone-load result: %s" % res
	assert "previous_serial" in res and res["previous_serial"] is None, \
		"zone-load of a new zone: previous_serial %r, want null" % res.get("previous_serial")
	assert res.get("size") == os.path.getsize(c.tables["new1"]), "zone-load: size %s, file %d" % (
		res.get("size"), os.path.getsize(c.tables["new1"]))
	assert re.match(r"^[0-9a-f]{16}$", str(res.get("checksum"))), "zone-load: checksum %r" % res.get("checksum")
	for key in ("verify_seconds", "publish_seconds"):
		assert isinstance(res.get(key), (int, float)) and res[key] >= 0, "zone-load: %s %r" % (key, res.get(key))
	c.new1_checksum = res["checksum"]
	zl = d.served()
	assert zl.get("new.test.") == (10, "control", c.tables["new1"]), "zone-list after zone-load: %s" % zl.get("new.test.")
	assert d.result("status")["zones"] == len(d.zones) + 1, "status: zones not counted after zone-load"


def wait_counters(d, zone, want, within=2.0):
	"""Polls zone-status until the query counters reach WANT (a dict)."""
	deadline = time.monotonic() + within
	while True:
		q = d.ctl_ok("zone-status", zone, json_out=True)["queries"]
		if all(q.get(k) == v for k, v in want.items()) or time.monotonic() > deadline:
			return q
		time.sleep(0.05)


def check_zone_status(c):
	d = c.d
	st = d.ctl_ok("zone-status", "new.test", json_out=True)
	text = d.ctl_ok("zone-status", "new.test")
	assert st["zone"] == "new.test." and st["serial"] == 10, "zone-status: %s" % st
	assert st["checksum"] == c.new1_checksum, "zone-status checksum %s, zone-load said %s" % (
		st["checksum"], c.new1_checksum)
	assert st["size"] == os.path.getsize(c.tables["new1"]), "zone-status size %s" % st["size"]
	assert st["signed"] is False and st["expiry"] is None and st["expiry_in"] is None, \
		"zone-status of an unsigned zone: signed %r, expiry %r, expiry_in %r" % (
			st["signed"], st["expiry"], st["expiry_in"])
	names = ("answers", "positive", "referral", "nodata", "nxdomain", "error", "do", "tc")
	for k in names:
		assert isinstance(st["queries"].get(k), int), "zone-status: queries.%s %r" % (k, st["queries"].get(k))
	assert "checksum:" in text and "new.test." in text, "zone-status (text):\n%s" % text
	before = st["queries"]
	for _ in range(3):
		assert dns_query(d.port, "www.new.test").rcode() == dns.rcode.NOERROR
	for i in range(2):
		assert dns_query(d.port, "nx%d.new.test" % i).rcode() == dns.rcode.NXDOMAIN
	want = dict(before)
	want["answers"] += 5
	want["positive"] += 3
	want["nxdomain"] += 2
	got = wait_counters(d, "new.test", want)
	c.new_counters = got
	assert got == want, "zone-status counters after 3 positive and 2 NXDOMAIN answers over " \
		"UDP:\n  before %s\n  got    %s\n  want   %s" % (before, got, want)


def check_zone_counters_tcp(c):
	d = c.d
	before = d.ctl_ok("zone-status", "new.test", json_out=True)["queries"]
	assert dns_query(d.port, "www.new.test", tcp=True).rcode() == dns.rcode.NOERROR
	assert dns_query(d.port, "nx.new.test", tcp=True).rcode() == dns.rcode.NXDOMAIN
	want = dict(before)
	want["answers"] += 2
	want["positive"] += 1
	want["nxdomain"] += 1
	got = wait_counters(d, "new.test", want)
	c.new_counters = got
	assert got == want, "zone-status counters after 1 positive and 1 NXDOMAIN answer over " \
		"TCP (the protocol counts UDP and TCP):\n  before %s\n  got    %s\n  want   %s" % (
			before, got, want)


def check_zone_replace(c):
	d = c.d
	results = []
	stop = threading.Event()
	loaded_at = [None]

	def querier():
		while not stop.is_set():
			sent = time.monotonic()
			try:
				r = dns_query(d.port, "www.new.test", timeout=1)
				addr = r.answer[0][0].address if r.rcode() == dns.rcode.NOERROR and r.answer else None
				results.append((sent, dns.rcode.to_text(r.rcode()), addr))
			except dns.exception.Timeout:
				results.append((sent, "timeout", None))

	t = threading.Thread(target=querier, daemon=True)
	t.start()
	time.sleep(0.1)
	try:
		res = d.ctl_ok("zone-load", "new.test", c.tables["new2"], json_out=True)
		loaded_at[0] = time.monotonic()
		serial = soa_serial(d.port, "new.test.")
		time.sleep(0.1)
	finally:
		stop.set()
		t.join(5)
	assert res["serial"] == 11 and res.get("previous_serial") == 10, \
		"zone-load of version 2: serial %s, previous_serial %r (want 11, 10)" % (
			res["serial"], res.get("previous_serial"))
	assert serial == 11, "SOA serial right after the zone-load of version 2: %s" % serial
	bad = [r for r in results if r[1] != "NOERROR" or r[2] not in ("192.0.2.10", "192.0.2.11")]
	assert not bad, "during the replacement, %d of %d answers were neither version: %s" % (
		len(bad), len(results), bad[:5])
	stale = [r for r in results if r[0] > loaded_at[0] and r[2] != "192.0.2.11"]
	assert not stale, "queries sent after zone-load returned got the old version: %s" % stale[:5]
	# the counters go on across versions
	q = d.ctl_ok("zone-status", "new.test", json_out=True)["queries"]
	assert q["answers"] >= c.new_counters["answers"] + len(results), \
		"counters not kept across zone-load: answers %d, were %d, then %d more queries" % (
			q["answers"], c.new_counters["answers"], len(results))


def check_zone_unload(c):
	d = c.d
	out = d.ctl_ok("zone-unload", "new.test", json_out=True)
	assert out == {"zone": "new.test.", "serial": 11}, "zone-unload result: %s" % out
	r = dns_query(d.port, "www.new.test")
	assert r.rcode() == dns.rcode.REFUSED, "www.new.test after zone-unload: %s" % dns.rcode.to_text(r.rcode())
	assert "new.test." not in d.served(), "new.test still in zone-list after zone-unload"
	# load version 1 again for what follows: over the raw socket, with a
	# name in capitals and a path relative to `directory`
	rep = d.req("zone-load", {"zone": "NEW.Test", "table": os.path.basename(c.tables["new1"])})
	assert rep["ok"] and rep["result"]["zone"] == "new.test.", \
		"zone-load NEW.Test with a relative table: %s" % rep
	assert d.served().get("new.test.") == (10, "control", c.tables["new1"]), \
		"zone-list after a zone-load with a relative path: %s" % (d.served().get("new.test."),)
	assert www_address(d.port, "new.test") == "192.0.2.10"


def check_unknown_zone(c):
	d = c.d
	for cmd in ("zone-status", "zone-unload"):
		err = d.ctl_fail(1, cmd, "nope.test")
		assert "nope.test" in err and "unknown-zone" in err, \
			"bulwarkctl %s nope.test: stderr does not name the zone and unknown-zone: %r" % (cmd, err)
	rep = d.req("zone-status", {"zone": "nope.test."})
	assert error_code(rep) == "unknown-zone" and "nope.test" in rep["error"]["message"], \
		"zone-status nope.test. (raw): %s" % rep


def check_usage_errors(c):
	d = c.d
	for args, words in ((["zone-load", "new.test"], "NAME TABLE"),
			(["zone-status"], "zone-status"), (["frobnicate"], "frobnicate"),
			(["zone-unload", "a..example"], "empty label"), (["stats", "--x"], "--x")):
		err = d.ctl_fail(2, *args)
		assert words in err, "bulwarkctl %s: stderr %r does not say %r" % (" ".join(args), err, words)


def check_invalid_tables(c):
	d = c.d
	with open(c.tables["new2"], "rb") as f:
		good = f.read()
	trunc = c.path("truncated.bwz")
	with open(trunc, "wb") as f:
		f.write(good[:len(good) // 2])
	rnd = c.path("random.bwz")
	with open(rnd, "wb") as f:
		f.write(os.urandom(len(good)))
	empty = c.path("empty.bwz")
	open(empty, "wb").close()
	missing = c.path("missing.bwz")
	before_list = d.served()
	before_pub = d.result("status")["publications"]
	before_state = open(d.state, "rb").read()
	cases = [(trunc, "invalid-table"), (rnd, "invalid-table"), (empty, "invalid-table"),
		(missing, "invalid-table"), (c.tables["a"], "zone-mismatch")]
	problems = []
	for path, code in cases:
		err = d.ctl_fail(1, "zone-load", "new.test", path)
		if "(%s)" % code not in err or os.path.basename(path) not in err:
			problems.append("%s: stderr %r, want the loader's reason naming the file and (%s)" % (
				os.path.basename(path), err.strip(), code))
		if code == "zone-mismatch" and "a.test" not in err:
			problems.append("zone-mismatch does not name the zone the table holds: %r" % err.strip())
		addr = www_address(d.port, "new.test")
		if addr != "192.0.2.10":
			problems.append("after the failed zone-load of %s, www.new.test is %s" % (
				os.path.basename(path), addr))
	assert not problems, "\n  ".join(problems)
	assert d.served() == before_list, "zone-list changed after failed zone-loads"
	assert d.result("status")["publications"] == before_pub, "failed zone-loads published a zone set"
	assert open(d.state, "rb").read() == before_state, "failed zone-loads rewrote zones.state"
	st = d.ctl_ok("zone-status", "new.test", json_out=True)
	assert st["serial"] == 10 and st["checksum"] == c.new1_checksum, "zone-status after failures: %s" % st


def check_stats(c):
	d = c.d
	st = d.ctl_ok("stats", json_out=True)
	for key in ("since", "uptime", "udp", "workers", "tcp", "zones"):
		assert key in st, "stats: no '%s'" % key
	assert len(st["workers"]) == 2, "stats: %d workers" % len(st["workers"])
	assert st["udp"]["received"] > 0, "stats: no UDP query counted: %s" % st["udp"]
	zones = {z["zone"]: z for z in st["zones"]}
	assert set(zones) == set(d.served()), "stats zones %s, zone-list %s" % (sorted(zones), sorted(d.served()))
	assert zones["new.test."]["answers"] > 0, "stats: no answers counted for new.test."
	text = d.ctl_ok("stats")
	assert "udp:" in text and "new.test." in text, "stats (text):\n%s" % text[:500]
	d.ctl_ok("stats", "--reset")
	after = d.ctl_ok("stats", json_out=True)
	nonzero = [k for k in ("received", "sent", "dropped") if after["udp"][k] != 0]
	nonzero += ["rcode " + k for k, v in after["udp"]["rcode"].items() if v != 0]
	nonzero += ["worker %s %s" % (w["worker"], k) for w in after["workers"]
		for k in ("received", "sent") if w[k] != 0]
	nonzero += ["zone %s %s" % (z["zone"], k) for z in after["zones"] for k, v in z.items()
		if k != "zone" and v != 0]
	nonzero += ["tcp " + k for k in ("accepted", "received", "sent") if after["tcp"][k] != 0]
	assert not nonzero, "stats right after --reset, not 0: %s" % ", ".join(nonzero)
	assert after["since"] >= st["since"], "stats: since %s after the reset, %s before" % (after["since"], st["since"])
	for _ in range(3):
		dns_query(d.port, "www.new.test")
	dns_query(d.port, "nx.new.test")
	dns_query(d.port, "www.new.test", tcp=True)
	deadline = time.monotonic() + 2
	while True:
		grown = d.ctl_ok("stats", json_out=True)
		z = {x["zone"]: x for x in grown["zones"]}["new.test."]
		if (grown["udp"]["received"] >= 4 and z["answers"] >= 4) or time.monotonic() > deadline:
			break
		time.sleep(0.05)
	assert grown["udp"]["received"] == 4 and grown["udp"]["rcode"].get("NXDOMAIN") == 1, \
		"stats after the reset and 4 UDP queries: udp %s" % grown["udp"]
	assert z["answers"] >= 4 and z["positive"] >= 3 and z["nxdomain"] == 1, \
		"stats after the reset and 3 positive, 1 NXDOMAIN UDP answers (and 1 over TCP): " \
		"new.test. %s" % z
	assert grown["tcp"]["received"] == 1, "stats after the reset and 1 TCP query: tcp %s" % grown["tcp"]


PROM_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
PROM_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
PROM_SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*,?)?\})? (\S+)(?: (-?\d+))?$" % (
	PROM_NAME, PROM_LABEL, PROM_LABEL))
PROM_TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % PROM_NAME)
PROM_HELP = re.compile(r"^# HELP (%s)(?: .*)?$" % PROM_NAME)


def parse_prometheus(text):
	"""{(name, labels): value}; raises AssertionError on any bad line."""
	problems, samples, types = [], {}, {}
	done_families, current = set(), None
	for no, line in enumerate(text.split("\n"), 1):
		if line == "":
			continue
		if line.startswith("#"):
			m = PROM_TYPE.match(line)
			if m:
				if m.group(1) in types:
					problems.append("line %d: second TYPE for %s" % (no, m.group(1)))
				types[m.group(1)] = m.group(2)
				if current is not None:
					done_families.add(current)
				current = m.group(1)
			elif line.startswith("# TYPE") or (line.startswith("# HELP") and not PROM_HELP.match(line)):
				problems.append("line %d: malformed: %r" % (no, line))
			continue
		m = PROM_SAMPLE.match(line)
		if not m:
			problems.append("line %d: malformed sample: %r" % (no, line))
			continue
		name, labels, value = m.group(1), m.group(2) or "", m.group(3)
		try:
			v = float(value)
		except ValueError:
			problems.append("line %d: value %r is not a number" % (no, value))
			continue
		if name not in types:
			problems.append("line %d: %s has no TYPE line before it" % (no, name))
		elif name != current or name in done_families:
			problems.append("line %d: %s outside its family's group" % (no, name))
		elif types[name] == "counter" and (v < 0 or not name.endswith("_total")):
			problems.append("line %d: counter %s = %s" % (no, name, value))
		key = (name, labels)
		if key in samples:
			problems.append("line %d: %s{%s} twice" % (no, name, labels))
		samples[key] = v
	if not text.endswith("\n"):
		problems.append("the text does not end with a newline")
	assert not problems, "bad Prometheus text:\n  " + "\n  ".join(problems[:20])
	return samples, types


def check_prometheus(c):
	d = c.d
	text = d.ctl_ok("stats", "--prometheus")
	js = d.ctl_ok("stats", json_out=True)
	raw = d.result("stats", {"format": "prometheus"})
	assert isinstance(raw.get("prometheus"), str), "stats format prometheus (raw): %s" % raw
	samples, types = parse_prometheus(text)
	assert len(samples) > 20, "only %d samples:\n%s" % (len(samples), text)
	parse_prometheus(raw["prometheus"])
	missing = []
	for z in js["zones"]:
		for k, v in z.items():
			if k == "zone":
				continue
			key = ("bulwark_zone_%s_total" % k, 'zone="%s"' % z["zone"])
			if key not in samples:
				missing.append("%s{%s}" % key)
			elif samples[key] != v:
				missing.append("%s{%s} = %s, JSON says %s" % (key + (samples[key], v)))
	assert not missing, "per-zone samples missing or wrong: %s" % ", ".join(missing[:10])
	for name in ("bulwark_udp_received_total", "bulwark_tcp_accepted_total", "bulwark_uptime_seconds"):
		assert any(k[0] == name for k in samples), "no %s sample" % name
	workers = {k[1] for k in samples if k[0] == "bulwark_worker_received_total"}
	assert workers == {'worker="0"', 'worker="1"'}, "worker samples: %s" % workers
	assert samples[("bulwark_udp_received_total", "")] == js["udp"]["received"], \
		"bulwark_udp_received_total %s, JSON %s" % (samples[("bulwark_udp_received_total", "")], js["udp"]["received"])


# ---- 2. The raw protocol. ----

def check_bad_requests(c):
	d = c.d
	cases = [
		(b"this is not json\n", "bad-request"),
		(b"[1, 2, 3]\n", "bad-request"),
		(b'"status"\n', "bad-request"),
		(b'{"version": 1}\n', "bad-request"),
		(b'{"version": 1, "command": 7}\n', "bad-request"),
		(b'{"version": 2, "command": "status"}\n', "unsupported-version"),
		(b'{"command": "status"}\n', "unsupported-version"),
		(b'{"version": 1, "command": "frobnicate"}\n', "unknown-command"),
		(b'{"version": 1, "command": "status", "args": {"verbose": true}}\n', "bad-argument"),
		(b'{"version": 1, "command": "zone-status", "args": {"zon": "a.test"}}\n', "bad-argument"),
		(b'{"version": 1, "command": "zone-status"}\n', "bad-argument"),
		(b'{"version": 1, "command": "zone-load", "args": {"zone": "a.test"}}\n', "bad-argument"),
		(b'{"version": 1, "command": "zone-status", "args": {"zone": 5}}\n', "bad-argument"),
		(b'{"version": 1, "command": "stats", "args": {"reset": "yes"}}\n', "bad-argument"),
		(b'{"version": 1, "command": "stats", "args": {"format": "xml"}}\n', "bad-argument"),
		(b'{"version": 1, "command": "stats", "args": []}\n', "bad-argument"),
		(b'{"version": 1, "command": "zone-status", "args": {"zone": "a..b"}}\n', "bad-argument"),
		(b'{"version": 1, "command": "status", "extra": 1}\n', "bad-request"),
		(b'{"version": 1, "command": "status", "command": "stop"}\n', "bad-request"),
		(b'{"version": 1, "command": "st\xffatus"}\n', "bad-request"),
		(b'{"version": 1, "command": "status", "id": ' + b"[" * 30000 + b"]" * 30000 + b"}\n",
			"bad-request"),
		(b'{"version": 1, "command": "status"} trailing\n', "bad-request"),
	]
	problems = []
	# one connection for all: an error does not end the session
	with unix_connect(d.sock) as s:
		rd = Lines(s)
		for line, code in cases:
			s.sendall(line)
			rep = rd.reply()
			if error_code(rep) != code:
				problems.append("%s -> %s, want %s" % (line.strip().decode(), rep, code))
			elif code == "unsupported-version" and "1" not in rep["error"]["message"]:
				problems.append("unsupported-version does not say which versions: %s" % rep)
			elif code in ("unknown-command", "bad-argument") and not any(
					w in rep["error"]["message"] for w in ("frobnicate", "verbose", "zon", "zone",
						"table", "reset", "format", "args", "a..b")):
				problems.append("%s: the message does not name what is wrong: %s" % (code, rep))
		s.sendall(request_line("status", id="still-here"))
		rep = rd.reply()
		if not rep["ok"] or rep.get("id") != "still-here":
			problems.append("status after the errors on the same connection: %s" % rep)
	assert not problems, "\n  ".join(problems)


def check_error_ids(c):
	"""An error reply to a request object carries its id (the protocol:
	"id: copied into the reply unchanged")."""
	d = c.d
	cases = [
		({"version": 1, "command": "frobnicate", "id": 1}, "unknown-command"),
		({"version": 1, "command": "status", "args": {"x": 1}, "id": 2}, "bad-argument"),
		({"version": 1, "command": "zone-status", "args": {"zone": "nope.test"}, "id": 3}, "unknown-zone"),
		({"version": 2, "command": "status", "id": 4}, "unsupported-version"),
		({"command": "status", "id": 5}, "unsupported-version"),
		({"version": 1, "command": "status", "args": [], "id": 6}, "bad-argument"),
		({"version": 1, "command": 7, "id": 7}, "bad-request"),
		({"version": 1, "command": "status", "extra": True, "id": 8}, "bad-request"),
	]
	problems = []
	with unix_connect(d.sock) as s:
		rd = Lines(s)
		for req, code in cases:
			s.sendall((json.dumps(req) + "\n").encode())
			rep = rd.reply()
			if error_code(rep) != code:
				problems.append("%s -> %s, want %s" % (json.dumps(req), rep, code))
			elif rep.get("id", "<none>") != req["id"]:
				problems.append("%s (%s): id %s in the reply, want %s" % (
					json.dumps(req), code, rep.get("id", "<none>"), req["id"]))
	assert not problems, "\n  ".join(problems)


def check_too_large(c):
	d = c.d
	with unix_connect(d.sock) as s:
		line = b'{"version": 1, "command": "status", "id": "' + b"x" * 100000 + b'"}\n'
		try:
			s.sendall(line)
		except (BrokenPipeError, ConnectionResetError):
			pass  # the daemon may close before taking it all
		rd = Lines(s)
		rep = rd.reply()
		assert error_code(rep) == "request-too-large", "100 KB line: %s" % rep
		assert rd.closed(3), "connection not closed after request-too-large"
	# exactly at the limit (65,536 octets with the newline) is served
	pad = REQUEST_MAX - len(request_line("status", id=""))
	with unix_connect(d.sock) as s:
		s.sendall(request_line("status", id="y" * pad))
		rep = Lines(s).reply()
		assert rep["ok"] and rep.get("id") == "y" * pad, \
			"a request of exactly 65536 octets: %s" % (error_code(rep) or "id not echoed")


def timed_status(d, within=1.0):
	t0 = time.monotonic()
	rep = d.req("status", timeout=within + 2)
	dt = time.monotonic() - t0
	assert rep["ok"], "status: %s" % rep
	assert dt < within, "status took %.2f s (limit %.1f s)" % (dt, within)
	return dt


def check_half_line(c):
	d = c.d
	half = unix_connect(d.sock)
	half.sendall(b'{"version": 1, "command": "sta')
	idle = unix_connect(d.sock)  # sends nothing at all
	c.half = (half, idle, time.monotonic())
	time.sleep(0.2)
	dt = timed_status(d, 1.0)
	print("  (status served in %.3f s while a client sits in the middle of a line)" % dt)


def check_many_idle(c):
	d = c.d
	clients = []
	try:
		n = CLIENTS_MAX + 6
		for _ in range(n):
			clients.append(unix_connect(d.sock, timeout=3))
		time.sleep(0.3)
		late = unix_connect(d.sock, timeout=3)
		clients.append(late)
		late.sendall(request_line("status", id="late"))
		rd = Lines(late)
		try:
			early = rd.reply(0.7)
		except socket.timeout:
			early = None
		assert early is None, "a client beyond %d connected ones was served: at most %d should be " \
			"connected at once (the rest wait in the backlog)" % (CLIENTS_MAX, CLIENTS_MAX)
		for s in clients[:20]:
			s.close()
		t0 = time.monotonic()
		rep = rd.reply(5)
		assert rep["ok"] and rep.get("id") == "late", "the waiting client: %s" % rep
		print("  (the client in the backlog was served %.3f s after 20 others left)" %
			(time.monotonic() - t0))
	finally:
		for s in clients:
			s.close()
	time.sleep(0.2)
	timed_status(d, 1.0)


def check_non_reader(c):
	d = c.d
	line = request_line("stats")
	n = 20000    # about 30 MB of replies: more than the 16 MiB a client may leave unread
	nr = unix_connect(d.sock, timeout=10)
	sent = [0]

	def writer():
		try:
			nr.sendall(line * n)
			sent[0] = n
		except OSError:
			sent[0] = -1  # the daemon closed it before taking everything

	t = threading.Thread(target=writer, daemon=True)
	try:
		t.start()
		time.sleep(0.2)
		# each 64 KB read of stats requests costs the loop about 0.1 s here:
		# others wait a few tenths, never for the whole flood
		worst = max(timed_status(d, 2.0) for _ in range(5))
		print("  (status served in %.3f s at worst while another client reads nothing)" % worst)
		t.join(30)
		assert not t.is_alive(), "the daemon stopped reading the non-reading client's requests"
		rd = Lines(nr)
		got = 0
		deadline = time.monotonic() + 20
		while time.monotonic() < deadline:
			ln = rd.line(10)
			if ln is None:
				break
			got += 1
		assert rd.eof, "the non-reading client was not disconnected"
		assert got < n, "the non-reading client got all %d replies: never disconnected" % n
		print("  (the non-reading client was disconnected after %d of %d replies)" % (got, n))
	finally:
		nr.close()
	timed_status(d, 1.0)


def check_pipeline(c):
	d = c.d
	big, big_serial = c.need_big()
	reqs = [
		request_line("status", id=1),
		request_line("zone-load", {"zone": "big.test", "table": big}, id="load"),
		request_line("zone-status", {"zone": "big.test."}, id=[3]),
		request_line("frobnicate", id={"n": 4}),
		request_line("zone-unload", {"zone": "big.test"}, id=5.5),
		request_line("zone-status", {"zone": "big.test"}, id="gone"),
		request_line("zone-list", id=None),
		request_line("status", id="last"),
	]
	with unix_connect(d.sock, timeout=30) as s:
		s.sendall(b"".join(reqs))
		rd = Lines(s)
		reps = [rd.reply(30) for _ in reqs]
	ids = [r.get("id", "<none>") for r in reps]
	want = [1, "load", [3], {"n": 4}, 5.5, "gone", None, "last"]
	assert ids == want, "pipelined replies' ids %s, want %s (request order)" % (ids, want)
	oks = [r["ok"] for r in reps]
	assert oks == [True, True, True, False, True, False, True, True], \
		"pipelined replies ok %s: %s" % (oks, [error_code(r) for r in reps])
	assert reps[1]["result"]["serial"] == big_serial, "big zone-load: %s" % reps[1]["result"]
	assert reps[2]["result"]["serial"] == big_serial, "zone-status after zone-load: %s" % reps[2]["result"]
	assert error_code(reps[3]) == "unknown-command", reps[3]
	assert error_code(reps[5]) == "unknown-zone", "zone-status after zone-unload: %s" % reps[5]
	assert "big.test." not in [z["zone"] for z in reps[6]["result"]["zones"]]


def check_slow_beside(c):
	"""A zone-load runs on its own thread: status is served meanwhile, and
	a zone-unload sent during it waits its turn."""
	d = c.d
	big, big_serial = c.need_big()
	with unix_connect(d.sock, timeout=30) as a, unix_connect(d.sock, timeout=30) as u:
		t0 = time.monotonic()
		a.sendall(request_line("zone-load", {"zone": "big.test", "table": big}, id="load"))
		time.sleep(0.01)
		u.sendall(request_line("zone-unload", {"zone": "big.test"}, id="unload"))
		dt = timed_status(d, 1.0)
		ra, ru = Lines(a), Lines(u)
		rep_a = ra.reply(30)
		t_load = time.monotonic() - t0
		rep_u = ru.reply(30)
	assert rep_a["ok"] and rep_a["result"]["serial"] == big_serial, "zone-load: %s" % rep_a
	assert rep_u["ok"] and rep_u["result"]["serial"] == big_serial, \
		"a zone-unload sent during the zone-load did not wait for it: %s" % rep_u
	assert dt < t_load, "status (%.3f s) was not served before the zone-load ended (%.3f s)" % (dt, t_load)
	assert "big.test." not in d.served()
	print("  (status in %.3f s during a zone-load of %.3f s)" % (dt, t_load))


def check_half_line_timeout(c):
	half, idle, t0 = c.half
	try:
		wait = t0 + IDLE_S + 2.5 - time.monotonic()
		rd = Lines(half)
		rep = rd.reply(max(wait, 0.1))
		dt = time.monotonic() - t0
		assert error_code(rep) == "timeout", "the client stuck in a line got %s" % rep
		assert rd.closed(2), "the client stuck in a line was not closed after the timeout error"
		assert IDLE_S - 0.5 <= dt <= IDLE_S + 2.5, "timeout after %.1f s, not %.0f s" % (dt, IDLE_S)
		rd = Lines(idle)
		assert rd.closed(max(0.1, t0 + IDLE_S + 2.5 - time.monotonic())), \
			"a client that sent nothing was not closed after %.0f s" % IDLE_S
		assert rd.buf == b"", "an idle client got %r" % rd.buf
	finally:
		half.close()
		idle.close()


def check_still_serving(c):
	d = c.d
	assert d.running(), "bulwarkd exited:\n%s" % d.log()
	timed_status(d, 1.0)
	for name, _, _ in d.zones:
		assert soa_serial(d.port, name + ".") != "REFUSED", "%s not answered" % name
	assert www_address(d.port, "new.test") == "192.0.2.10"


# ---- 3, 4. Permissions; no daemon. ----

def check_socket_mode(c):
	d = c.d
	st = os.stat(d.sock)
	assert stat.S_ISSOCK(st.st_mode), "%s is not a socket" % d.sock
	assert stat.S_IMODE(st.st_mode) == 0o660, "socket mode %o, not 660" % stat.S_IMODE(st.st_mode)
	assert st.st_uid == os.getuid() and st.st_gid == os.getgid(), \
		"socket owned by %d:%d, the daemon runs as %d:%d" % (st.st_uid, st.st_gid, os.getuid(), os.getgid())


def check_permission_denied(c):
	d = c.d
	if os.geteuid() != 0:
		print("  (skipped: not root, so bulwarkctl cannot be run as another user)")
		return
	if shutil.which("setpriv") is None:
		print("  (skipped: setpriv not found)")
		return
	# a copy that nobody may run, whatever the build directory's modes
	binary = c.path("bulwarkctl")
	shutil.copy(d.ctl_bin, binary)
	os.chmod(binary, 0o755)
	outsider = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
	done = d.ctl("status", prefix=outsider, binary=binary)
	assert done.returncode == 4, "bulwarkctl status as nobody:nogroup: exit %d, not 4\nstdout: %s\nstderr: %s" % (
		done.returncode, done.stdout, done.stderr)
	assert "permission denied" in done.stderr, "as nobody: stderr %r" % done.stderr
	# the daemon's group is let in
	insider = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % os.getgid(), "--clear-groups"]
	done = d.ctl("status", prefix=insider, binary=binary)
	assert done.returncode == 0, "bulwarkctl status as nobody in the daemon's group: exit %d: %s" % (
		done.returncode, done.stderr)


def check_not_running(c):
	d = c.d
	done = d.ctl("status", sock="/nonexistent/sock")
	assert done.returncode == 3, "bulwarkctl -s /nonexistent/sock status: exit %d, not 3: %s" % (
		done.returncode, done.stderr)
	assert "/nonexistent/sock" in done.stderr and "not running" in done.stderr, \
		"no clear message: %r" % done.stderr
	# a socket file that nobody listens on (a daemon that died)
	stale = c.path("stale.sock")
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.bind(stale)
	s.close()
	done = d.ctl("status", sock=stale)
	assert done.returncode == 3 and "not running" in done.stderr, \
		"bulwarkctl on a stale socket: exit %d: %r" % (done.returncode, done.stderr)


def check_second_daemon(c):
	"""A second bulwarkd on the same control socket refuses to start and
	leaves the first one's socket alone."""
	d = c.d
	log = open(c.path("second.log"), "wb")
	proc = subprocess.Popen([d.bulwarkd, "-c", d.conf, "-f"], cwd=d.dir,
		stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
		start_new_session=True)
	log.close()
	_PROCS.append(proc)
	try:
		rc = proc.wait(10)
	except subprocess.TimeoutExpired:
		rc = None
	finally:
		stop_proc(proc)
	text = open(c.path("second.log"), errors="replace").read()
	assert rc not in (None, 0), "a second bulwarkd on the same control socket did not fail (%s):\n%s" % (
		rc, text)
	assert "another bulwarkd" in text, "the second bulwarkd does not say why: %s" % text
	assert os.path.exists(d.sock), "the second bulwarkd removed the first one's socket"
	assert d._pidfile_pid() == d.proc.pid, "the second bulwarkd touched the pid file"
	timed_status(d, 1.0)


# ---- 5. reload. ----

def check_reload(c):
	d = c.d
	before = d.served()
	zones = [z for z in d.zones if z[0] != "b.test"]
	zones = [("c.test", "table", "c2.bwz") if z[0] == "c.test" else z for z in zones]
	zones.append(("d.test", "table", "d.bwz"))
	d.write_conf(zones)
	res = d.ctl_ok("reload", json_out=True)
	want = {"added": ["d.test."], "removed": ["b.test."], "changed": ["c.test."],
		"unchanged": len(zones) - 2, "failed": []}
	assert res == want, "reload: %s\n  want %s" % (res, want)
	assert soa_serial(d.port, "d.test.") == 1, "d.test after reload: %s" % soa_serial(d.port, "d.test.")
	assert soa_serial(d.port, "b.test.") == "REFUSED", "b.test after reload: %s" % soa_serial(d.port, "b.test.")
	assert soa_serial(d.port, "c.test.") == 101, "c.test after reload: %s" % soa_serial(d.port, "c.test.")
	after = d.served()
	assert after["new.test."] == before["new.test."], "reload touched the zone-loaded new.test"
	assert after["c.test."][2] == c.tables["c2"], "zone-list: c.test table %s" % (after["c.test."][2],)
	assert set(after) == set(before) - {"b.test."} | {"d.test."}, "zone-list after reload: %s" % sorted(after)
	# a table replaced on disk (bulwark-compile renames it into place)
	c.compile("d", "d.test", 2, "192.0.2.5")
	res = d.ctl_ok("reload", json_out=True)
	assert res["changed"] == ["d.test."] and res["added"] == [] and res["removed"] == [], \
		"reload after d.bwz was replaced on disk: %s" % res
	assert soa_serial(d.port, "d.test.") == 2, "d.test after its table changed: %s" % soa_serial(d.port, "d.test.")
	c.conf_serials["d.test."] = 2


def check_reload_syntax_error(c):
	d = c.d
	before = d.served()
	text = d.write_conf(broken=True, zones=d.zones + [("g.test", "table", "e.bwz")])
	line = [i for i, ln in enumerate(text.splitlines(), 1) if "broken.test" in ln][0]
	err = d.ctl_fail(1, "reload")
	assert "config-error" in err, "reload of a broken config: %r" % err
	assert re.search(r"%s:%d\b" % (re.escape(d.conf), line), err) or \
		re.search(r"bulwark\.conf:%d\b" % line, err), \
		"config-error does not give bulwark.conf:%d: %r" % (line, err)
	assert d.served() == before, "zones changed after a failed reload"
	for name in ("a.test.", "c.test.", "d.test."):
		assert soa_serial(d.port, name) != "REFUSED", "%s no longer served after a failed reload" % name
	d.write_conf(d.zones[:-1])  # back to the good one


def check_reload_restart_needed(c):
	d = c.d
	before = d.served()
	other = free_port()
	d.write_conf(d.zones + [("e.test", "table", "e.bwz")], port=other)
	err = d.ctl_fail(1, "reload")
	assert "restart-needed" in err, "reload with a new listen-on: %r" % err
	assert d.served() == before, "a reload refused with restart-needed changed the zones"
	assert soa_serial(d.port, "e.test.") == "REFUSED", "e.test served after restart-needed"
	assert soa_serial(d.port, "a.test.") == 1, "the old port no longer serves"
	d.write_conf(d.zones[:-1])


def check_sighup(c):
	d = c.d
	d.write_conf(d.zones + [("e.test", "table", "e.bwz")])
	pubs = d.result("status")["publications"]
	os.kill(d.proc.pid, signal.SIGHUP)
	deadline = time.monotonic() + 5
	while "e.test." not in d.served() and time.monotonic() < deadline:
		time.sleep(0.05)
	assert "e.test." in d.served(), "SIGHUP: e.test not loaded within 5 s:\n%s" % d.log(10)
	assert soa_serial(d.port, "e.test.") == 1
	assert d.result("status")["publications"] == pubs + 1, "SIGHUP: publications not counted"


def check_reload_unloaded(c):
	"""A configuration zone unloaded with zone-unload stays out on a reload
	until its zone statement changes."""
	d = c.d
	d.ctl_ok("zone-unload", "f.test")
	pubs = d.result("status")["publications"]
	res = d.ctl_ok("reload", json_out=True)
	assert res["added"] == [] and res["removed"] == [] and res["changed"] == [], \
		"reload with nothing changed: %s" % res
	pubs_after = d.result("status")["publications"]
	assert soa_serial(d.port, "f.test.") == "REFUSED", "a reload brought the zone-unloaded f.test back"
	shutil.copy(c.path("f.zone"), c.path("f2.zone"))
	d.write_conf([("f.test", "file", "f2.zone") if z[0] == "f.test" else z for z in d.zones])
	res = d.ctl_ok("reload", json_out=True)
	assert res["added"] == ["f.test."] or res["changed"] == ["f.test."], \
		"reload with f.test's statement changed: %s" % res
	assert soa_serial(d.port, "f.test.") == 7, "f.test after its statement changed: %s" % soa_serial(
		d.port, "f.test.")
	state_zones, unloaded = read_state(d)
	assert "f.test." not in unloaded, "zones.state still lists f.test as unloaded: %s" % unloaded
	assert pubs_after == pubs, "a reload that changed nothing counted a publication " \
		"(publications %d before, %d after)" % (pubs, pubs_after)


def check_reload_failed_zone(c):
	"""A zone whose new table fails is listed in failed and keeps its
	previous version."""
	d = c.d
	bad = c.path("c-bad.bwz")
	with open(bad, "wb") as f:
		f.write(open(c.tables["c1"], "rb").read()[:100])
	good = list(d.zones)
	d.write_conf([("c.test", "table", "c-bad.bwz") if z[0] == "c.test" else z for z in good])
	try:
		res = d.ctl_ok("reload", json_out=True)
		failed = res.get("failed", [])
		assert [f.get("zone") for f in failed] == ["c.test."] and "c-bad.bwz" in failed[0].get("error", ""), \
			"reload with c.test's table broken: %s" % res
		assert "c.test." not in res["changed"] + res["added"] + res["removed"], "reload: %s" % res
		assert soa_serial(d.port, "c.test.") == 101, "c.test lost its previous version: %s" % soa_serial(
			d.port, "c.test.")
	finally:
		d.write_conf(good)
	res = d.ctl_ok("reload", json_out=True)
	assert soa_serial(d.port, "c.test.") == 101 and res["failed"] == [], "back to c2.bwz: %s" % res


# ---- 6. Restarts. ----

# ---- Flood mitigation through the control socket. ----

def answered(port, name):
	"""The rcode text of a UDP answer, or None when nothing came."""
	try:
		return dns.rcode.to_text(dns_query(port, name, timeout=0.5).rcode())
	except dns.exception.Timeout:
		return None


def check_filters(c):
	d = c.d
	z1, z2 = sorted(d.served())[:2]   # two zones served now, e.g. "b.test."
	f1 = d.ctl_ok("filter-add", "^bad[0-9]+\\." + re.escape(z1) + "$", "drop",
		json_out=True)
	f2 = d.ctl_ok("filter-add", "--literal", "refuse-me", "refuse", z2, json_out=True)
	assert f1["action"] == "drop" and f1["literal"] is False and f1["zone"] is None, f1
	assert f2["literal"] is True and f2["zone"] == z2 and f2["id"] > f1["id"], f2
	# in force for every query after the reply
	assert answered(d.port, "bad12." + z1) is None, "a dropped name was answered"
	assert answered(d.port, ("bad12." + z1).upper()) is None, "filters are not caseless"
	assert answered(d.port, "x.refuse-me." + z2) == "REFUSED"
	assert answered(d.port, "x.refuse-me." + z1) == "NXDOMAIN", "a zone filter applied outside it"
	assert answered(d.port, "good." + z1) == "NXDOMAIN"
	# a bad pattern: Hyperscan's message, nothing changes
	before = d.ctl_ok("filter-list", json_out=True)["filters"]
	err = d.ctl_fail(1, "filter-add", "a(b", "drop")
	assert "bad-argument" in err and "pattern" in err and "parenthes" in err.lower(), err
	assert d.ctl_ok("filter-list", json_out=True)["filters"] == before
	err = d.ctl_fail(1, "filter-del", "999")
	assert "no filter 999" in err, err
	rep = d.req("filter-add", {"pattern": "x", "action": "explode"})
	assert error_code(rep) == "bad-argument", rep
	text = d.ctl_ok("filter-list")
	assert "refuse-me" in text and "drop" in text, text
	# removed: answered again
	d.ctl_ok("filter-del", f1["id"])
	assert answered(d.port, "bad12." + z1) == "NXDOMAIN", "still dropped after filter-del"
	c.filters_kept = d.ctl_ok("filter-list", json_out=True)["filters"]
	assert [f["id"] for f in c.filters_kept] == [f2["id"]], c.filters_kept
	st = os.stat(os.path.join(d.dir, "flood.state"))
	assert st.st_mode & 0o777 == 0o600, "flood.state mode %o" % (st.st_mode & 0o777)


def check_cookie_secret(c):
	d = c.d
	first = d.ctl_ok("cookie-secret", json_out=True)
	assert len(first["current"]) == 16 and first["previous"] is None, first
	rolled = d.ctl_ok("cookie-secret", "00112233445566778899aabbccddeeff", json_out=True)
	assert rolled["previous"] == first["current"] and rolled["current"] != first["current"], rolled
	rep = d.req("cookie-secret", {"secret": "xyz"})
	assert error_code(rep) == "bad-argument", rep
	assert d.ctl_ok("cookie-secret", json_out=True) == rolled, "a refused secret changed something"
	# a query with a client cookie gets one back
	q = dns.message.make_query(sorted(d.served())[0], "SOA", use_edns=0, options=[
		dns.edns.GenericOption(dns.edns.COOKIE, bytes(range(8)))])
	r = dns.query.udp(q, "127.0.0.1", port=d.port, timeout=2)
	ck = [o for o in r.options if o.otype == dns.edns.COOKIE]
	assert ck and len(ck[0].to_wire()) == 24 and ck[0].to_wire()[:8] == bytes(range(8)), r.options
	dropped = d.ctl_ok("cookie-secret", "--drop-previous", json_out=True)
	assert dropped["previous"] is None and dropped["current"] == rolled["current"], dropped
	c.cookie_kept = dropped


def check_reload_flood_settings(c):
	d = c.d
	d.write_conf(extra="flood-mitigation { nxdomain-rate 1234; attack-action drop; };")
	try:
		d.ctl_ok("reload")
		s = d.ctl_ok("flood-status", json_out=True)["settings"]
		assert s["nxdomain_rate"] == 1234 and s["attack_action"] == "drop", s
		d.write_conf(extra="flood-mitigation { interval 50; };")
		err = d.ctl_fail(1, "reload")
		assert "config-error" in err and "interval" in err and "bulwark.conf:" in err, err
		assert d.ctl_ok("flood-status", json_out=True)["settings"]["nxdomain_rate"] == 1234
	finally:
		d.write_conf()
	d.ctl_ok("reload")
	s = d.ctl_ok("flood-status", json_out=True)["settings"]
	assert s["nxdomain_rate"] == 1000 and s["attack_action"] == "rate-limit", s


def check_flood_status(c):
	d = c.d
	st = d.ctl_ok("flood-status", json_out=True)
	for key in ("settings", "attacks", "released", "top_parents", "top_sources",
			"last_interval", "samples", "counters"):
		assert key in st, "flood-status lacks %s: %s" % (key, sorted(st))
	assert st["settings"]["filters"] == len(c.filters_kept), st["settings"]
	assert st["counters"]["filter_drop"] >= 2 and st["counters"]["filter_refuse"] >= 1, st["counters"]
	assert st["counters"]["cookie_client"] >= 1, st["counters"]
	stats = d.ctl_ok("stats", json_out=True)
	assert stats["flood"]["filter_drop"] >= 2, stats.get("flood")
	prom = d.ctl_ok("stats", "--prometheus")
	assert re.search(r"^bulwark_flood_filter_drop_total [1-9]", prom, re.M), prom[-2000:]
	assert re.search(r"^bulwark_flood_filters 1$", prom, re.M), "filters gauge"
	assert "flood-status" in d.ctl_ok("help")


def check_stop(c):
	d = c.d
	d.ctl_ok("zone-load", "new.test", c.tables["new2"])
	d.ctl_ok("zone-unload", "a.test")
	c.before_stop = d.served()
	proc = d.proc
	out = d.ctl_ok("stop", json_out=True)
	assert out == {"stopping": True}, "stop: %s" % out
	try:
		rc = proc.wait(10)
	except subprocess.TimeoutExpired:
		raise AssertionError("bulwarkd still running 10 s after stop")
	assert rc == 0, "bulwarkd exited with status %d after stop:\n%s" % (rc, d.log())
	assert not os.path.exists(d.sock), "the control socket is still there after stop"
	assert not os.path.exists(d.pidfile), "the pid file is still there after stop"
	if proc in _PROCS:
		_PROCS.remove(proc)


def check_restart_keeps(c):
	d = c.d
	if d.running():
		d.term()
	d.start()
	now = d.served()
	assert now == c.before_stop, "after a restart the zones differ:\n  before %s\n  now    %s" % (
		sorted(c.before_stop.items()), sorted(now.items()))
	assert now.get("new.test.") == (11, "control", c.tables["new2"]), "new.test after restart: %s" % (
		now.get("new.test."),)
	assert soa_serial(d.port, "new.test.") == 11, "new.test SOA after restart: %s" % soa_serial(d.port, "new.test.")
	assert soa_serial(d.port, "a.test.") == "REFUSED", "the zone-unloaded a.test is served after a restart"
	assert d.ctl_ok("filter-list", json_out=True)["filters"] == c.filters_kept, "filters lost at restart"
	assert d.ctl_ok("cookie-secret", json_out=True) == c.cookie_kept, "cookie secrets lost at restart"


def check_corrupt_table(c):
	d = c.d
	d.term()
	with open(c.tables["new2"], "r+b") as f:
		f.seek(os.path.getsize(c.tables["new2"]) // 2)
		chunk = f.read(64)
		f.seek(-len(chunk), 1)
		f.write(bytes(b ^ 0x5a for b in chunk))
	c.bad_tables.add("new.test.")
	d.start()
	log = open(d.logpath, errors="replace").read()
	assert re.search(r"new\.test.*(skipped|error)|error.*new\.test", log), \
		"no error about new.test in the log:\n%s" % d.log()
	now = d.served()
	want = {k: v for k, v in c.before_stop.items() if k != "new.test."}
	assert now == want, "after a restart with new.test's table corrupt: %s\n  want %s" % (
		sorted(now), sorted(want))
	assert soa_serial(d.port, "new.test.") == "REFUSED"
	for name in want:
		assert soa_serial(d.port, name) == now[name][0], "%s not served" % name


def read_state(d):
	"""zones.state, which must parse, as {zone: (serial, table)} and the unloaded set."""
	if not os.path.exists(d.state):
		return {}, set()
	raw = open(d.state, "rb").read()
	try:
		doc = json.loads(raw)
	except ValueError as err:
		raise AssertionError("zones.state does not parse (%s): %r" % (err, raw[:300]))
	assert isinstance(doc, dict) and isinstance(doc.get("zones"), list) and \
		isinstance(doc.get("unloaded"), list), "zones.state: %r" % raw[:300]
	zones = {}
	for z in doc["zones"]:
		assert {"zone", "table", "serial", "checksum"} <= set(z), "zones.state entry %s" % z
		zones[z["zone"]] = (z["serial"], z["table"])
	return zones, set(doc["unloaded"])


def expected_set(c, state_zones, unloaded):
	"""The zones a restarted daemon must serve, as {zone: (serial, source)}."""
	d = c.d
	want = {}
	conf_serials = c.conf_serials
	for name, _, _ in d.zones:
		if name + "." not in unloaded:
			want[name + "."] = (conf_serials[name + "."], "config")
	for name, (serial, _) in state_zones.items():
		if name not in c.bad_tables:
			want[name] = (serial, "control")
	return want


def check_kill9(c):
	d = c.d
	big, big_serial = c.need_big()
	d.ensure()
	# the time a zone-load of the big table takes, to aim the kills
	t0 = time.monotonic()
	res = d.ctl_ok("zone-load", "big.test", big, json_out=True)
	full = time.monotonic() - t0
	d.ctl_ok("zone-unload", "big.test")
	# the start, the middle of the verification, and about when the state
	# file is written and the set published
	verify = res["verify_seconds"]
	delays = [0.003, verify * 0.5, verify + 0.002]
	print("  (zone-load of %d names: %.3f s, verify %.3f s; kill -9 after %s)" % (
		res["names"], full, res["verify_seconds"], ", ".join("%.3f s" % x for x in delays)))
	outcomes = []
	for delay in delays:
		d.ensure()
		if "big.test." in d.served():
			d.ctl_ok("zone-unload", "big.test")
		old = d.served()
		s = unix_connect(d.sock)
		try:
			s.sendall(request_line("zone-load", {"zone": "big.test", "table": big}))
			time.sleep(delay)
			d.kill9()
		finally:
			s.close()
		state_zones, unloaded = read_state(d)
		d.start()
		now = {k: (v[0], v[1]) for k, v in d.served().items()}
		want = expected_set(c, state_zones, unloaded)
		assert now == want, "after kill -9 at %.3f s: served %s\n  zones.state says %s" % (
			delay, sorted(now.items()), sorted(want.items()))
		in_state = "big.test." in state_zones
		if in_state:
			assert state_zones["big.test."] == (big_serial, big), "zones.state big.test: %s" % (
				state_zones["big.test."],)
		old_set = {k: (v[0], v[1]) for k, v in old.items()}
		new_set = dict(old_set, **{"big.test.": (big_serial, "control")})
		assert now in (old_set, new_set), "after kill -9 at %.3f s: neither the old nor the new set: %s" % (
			delay, sorted(now.items()))
		got = soa_serial(d.port, "big.test.")
		assert got == (big_serial if in_state else "REFUSED"), "big.test SOA %s, in zones.state: %s" % (
			got, in_state)
		outcomes.append("%.3f s: %s" % (delay, "new" if in_state else "old"))
	print("  (outcomes: %s)" % "; ".join(outcomes))


def check_garbage_state(c):
	d = c.d
	d.term()
	garbage = b"\x00{not json at all\n"
	with open(d.state, "wb") as f:
		f.write(garbage)
	d.start()
	bad = d.state + ".bad"
	assert os.path.exists(bad), "zones.state.bad not made:\n%s" % d.log()
	assert open(bad, "rb").read() == garbage, "zones.state.bad is not the garbage state file"
	read_state(d)  # absent, or parses
	now = {k: (v[0], v[1]) for k, v in d.served().items()}
	want = expected_set(c, {}, set())
	assert now == want, "with a garbage zones.state: served %s, want the configuration's %s" % (
		sorted(now), sorted(want))
	assert "zones.state" in open(d.logpath, errors="replace").read(), "nothing logged about zones.state"


def check_reload_takes_over(c):
	"""A zone statement added for a zone loaded with zone-load takes it
	over on reload, and keeps it after a restart."""
	d = c.d
	d.ensure()
	d.ctl_ok("zone-load", "new.test", c.tables["new1"])
	assert d.served()["new.test."][:2] == (10, "control")
	c.compile("new3", "new.test", 12, "192.0.2.12")
	d.write_conf(d.zones + [("new.test", "table", "new3.bwz")])
	res = d.ctl_ok("reload", json_out=True)
	assert "new.test." in res["changed"] + res["added"], "reload: %s" % res
	assert d.served()["new.test."] == (12, "config", c.tables["new3"]), \
		"after reload: new.test %s" % (d.served()["new.test."],)
	assert soa_serial(d.port, "new.test.") == 12
	c.conf_serials["new.test."] = 12
	d.term()
	d.start()
	got = d.served().get("new.test.")
	state_zones, _ = read_state(d)
	assert got == (12, "config", c.tables["new3"]), \
		"after reload and a restart: new.test %s, the configuration says new3.bwz (serial 12); " \
		"zones.state: %s" % (got, state_zones)


def check_unload_overridden(c):
	"""A configuration zone replaced by zone-load, then unloaded, stays
	unloaded across a restart (as the running daemon has it)."""
	d = c.d
	d.ensure()
	e2 = c.compile("e2", "e.test", 2, "192.0.2.66")
	d.ctl_ok("zone-load", "e.test", e2)
	assert d.served()["e.test."][:2] == (2, "control")
	d.ctl_ok("zone-unload", "e.test")
	assert soa_serial(d.port, "e.test.") == "REFUSED"
	d.term()
	d.start()
	state_zones, unloaded = read_state(d)
	got = soa_serial(d.port, "e.test.")
	assert got == "REFUSED", "e.test (a configuration zone, zone-loaded then zone-unloaded) is " \
		"served again after a restart: SOA %s; zones.state unloaded %s" % (got, sorted(unloaded))


def check_stops_cleanly(c):
	d = c.d
	proc = d.proc
	rc = d.term()
	assert rc == 0, "bulwarkd exited with status %s on SIGTERM:\n%s" % (rc, d.log())
	assert not os.path.exists(d.sock) and not os.path.exists(d.pidfile), \
		"socket or pid file left after SIGTERM"
	assert proc.returncode == 0


CHECKS = [
	("status, text and --json", check_status),
	("zone-list", check_zone_list),
	("zone-load of a new zone, answered at once", check_zone_load_new),
	("zone-status and its query counters", check_zone_status),
	("zone counters include TCP answers", check_zone_counters_tcp),
	("zone-load of a new version replaces atomically", check_zone_replace),
	("zone-unload, then REFUSED", check_zone_unload),
	("unknown zone", check_unknown_zone),
	("bulwarkctl usage errors", check_usage_errors),
	("invalid tables change nothing", check_invalid_tables),
	("stats, stats --reset", check_stats),
	("stats --prometheus", check_prometheus),
	("raw: bad requests", check_bad_requests),
	("raw: error replies echo the id", check_error_ids),
	("raw: a 100 KB line", check_too_large),
	("raw: a client stuck in the middle of a line", check_half_line),
	("raw: more than 64 idle clients", check_many_idle),
	("raw: a client that reads no replies", check_non_reader),
	("raw: pipelined requests, in order, ids echoed", check_pipeline),
	("raw: status is served while a zone-load runs", check_slow_beside),
	("raw: the incomplete line times out", check_half_line_timeout),
	("still serving DNS and status", check_still_serving),
	("socket mode 0660", check_socket_mode),
	("permission denied outside the daemon's group", check_permission_denied),
	("daemon not running", check_not_running),
	("a second bulwarkd refuses the socket", check_second_daemon),
	("reload: added, removed, changed", check_reload),
	("reload: syntax error", check_reload_syntax_error),
	("reload: listen-on change needs a restart", check_reload_restart_needed),
	("SIGHUP reloads", check_sighup),
	("reload: a zone-unloaded zone stays out", check_reload_unloaded),
	("reload: a failed zone keeps its version", check_reload_failed_zone),
	("filter-add, filter-list, filter-del", check_filters),
	("cookie-secret rollover", check_cookie_secret),
	("flood-status and the flood counters", check_flood_status),
	("reload applies flood-mitigation settings", check_reload_flood_settings),
	("bulwarkctl stop", check_stop),
	("restart keeps zone-load and zone-unload", check_restart_keeps),
	("restart with a corrupt table", check_corrupt_table),
	("kill -9 during zone-load", check_kill9),
	("garbage zones.state", check_garbage_state),
	("reload takes over a zone-loaded zone", check_reload_takes_over),
	("an overridden zone, unloaded, stays unloaded", check_unload_overridden),
	("stops cleanly on SIGTERM", check_stops_cleanly),
]

# Checks that manage the daemon's life themselves.
NO_ENSURE = {check_stop, check_restart_keeps, check_corrupt_table, check_kill9,
	check_garbage_state}


def setup(c):
	c.start_big()
	c.compile("a", "a.test", 1, "192.0.2.1")
	c.compile("b", "b.test", 1, "192.0.2.2")
	c.compile("c1", "c.test", 100, "192.0.2.3")
	c.compile("c2", "c.test", 101, "192.0.2.4")
	c.compile("d", "d.test", 1, "192.0.2.5")
	c.compile("e", "e.test", 1, "192.0.2.6")
	c.compile("new1", "new.test", 10, "192.0.2.10", extra=20)
	c.compile("new2", "new.test", 11, "192.0.2.11", extra=30)
	with open(c.path("f.zone"), "w") as f:
		f.write(zone_text("f.test", 7, "192.0.2.7"))
	# serials of the configuration's zones as the checks leave them
	c.conf_serials = {"a.test.": 1, "b.test.": 1, "c.test.": 101, "d.test.": 1,
		"e.test.": 1, "f.test.": 7}
	c.d.write_conf([("a.test", "table", "a.bwz"), ("b.test", "table", "b.bwz"),
		("c.test", "table", "c1.bwz"), ("f.test", "file", "f.zone")])
	c.d.start()


def main():
	p = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	p.add_argument("--build", required=True, help="meson build directory")
	p.add_argument("--keep", action="store_true", help="keep the temporary directory")
	args = p.parse_args()
	# meson's timeout sends SIGTERM: stop the daemons on the way out
	signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
	build = os.path.abspath(args.build)
	tmp = tempfile.mkdtemp(prefix="bw-ctl-test-")
	# only the socket's own mode may keep another user out
	os.chmod(tmp, 0o755)
	failed = 0
	t_start = time.monotonic()
	c = None
	try:
		try:
			c = Ctx(build, tmp)
			setup(c)
		except (AssertionError, RuntimeError, OSError, subprocess.SubprocessError) as err:
			print("FAIL  setup: %s" % err)
			return 1
		for title, fn in CHECKS:
			start = time.monotonic()
			try:
				if fn not in NO_ENSURE:
					c.d.ensure()
				fn(c)
				print("ok    %s (%.1f s)" % (title, time.monotonic() - start))
			except Exception as err:  # noqa: B902 - any failure is this check's
				failed += 1
				print("FAIL  %s: %s: %s" % (title, type(err).__name__, err))
			sys.stdout.flush()
	finally:
		if c is not None and c.half is not None:
			for s in c.half[:2]:
				s.close()
		_reap_all()
		if args.keep:
			print("kept %s" % tmp)
		else:
			shutil.rmtree(tmp, ignore_errors=True)
	print("%d of %d checks passed (%.1f s)" % (len(CHECKS) - failed, len(CHECKS),
		time.monotonic() - t_start))
	return 1 if failed else 0


if __name__ == "__main__":
	sys.exit(main())
