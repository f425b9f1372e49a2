#!/usr/bin/python3
"""Veth benchmark: bulwarkd's DPDK dataplane (net_af_xdp and net_af_packet)
against Knot DNS (XDP and kernel UDP) and NSD (kernel UDP), all driven by
kxdpgun over a veth pair between two network namespaces, in one run.

    scripts/bench-veth.py --zone Z --origin O --queries Q [--build build]
        [--duration 5] [--rounds 3] [--rate 2000000] [--batch 10]
        [--modes LIST] [--napi threaded|softirq] [--json FILE] [--verbose]

Run as root.  Q is a query file with one "NAME TYPE" per line (kxdpgun's
and dnsperf's format), e.g. from `scripts/gen-zone.py -n 100000 -o Z -q Q`.

The program creates two namespaces, bwbS-PID (server, interface vS,
192.0.2.53/24) and bwbG-PID (generator, interface vG, 192.0.2.1/24),
joined by a veth pair, and deletes them at the end (also on an error,
SIGINT or SIGTERM).  Every server serves the same zone with one serving
thread on the server CPU (default 1); kxdpgun runs on the generator CPU
(default 0) with one thread (vG has one queue) at a fixed offered rate:

    bulwark-af_xdp     bulwarkd, io dpdk, net_af_xdp on vS, 1 worker
    bulwark-af_packet  bulwarkd, io dpdk, net_af_packet on vS, 1 worker
    knot-xdp           knotd, `xdp: listen: vS@53`, udp-workers 1
    knot-udp           knotd on kernel UDP, udp-workers 1
    nsd-udp            nsd on kernel UDP, server-count 1

bulwarkd's EAL gets `-l GEN_CPU,SERVER_CPU`: its main lcore (control plane,
idle during the test) shares the generator's CPU and its one worker runs on
the server CPU.  knotd and nsd run under `taskset -c SERVER_CPU` and, once
started, every thread of theirs is pinned there again (knotd pins its
workers itself, round robin over all CPUs).  For bulwarkd vS has no
address (bulwarkd answers ARP itself); for knotd and nsd (XDP too: the
kernel answers ARP there) vS has 192.0.2.53/24.  Any XDP program left on
vS (knotd leaves its own) is removed before the next server starts.

Where the kernel's veth receive work runs matters on two CPUs.  With
--napi threaded (the default) both veth ends use threaded NAPI with GRO
on; vS's NAPI thread is pinned to the server CPU and vG's to the
generator CPU, so each side pays for its own receive path, as a server
does for its NIC queue.  With --napi softirq the receive work runs as a
softirq on the CPU that sent the packet (queries: the generator's CPU;
answers: the server's CPU); then the generator's CPU also carries the
servers' receive path and may become the limit (answered near 100%: the
server was not saturated).

Each round runs every mode once (interleaved, so that the machine's noise
hits them alike): start the server, check it answers SOA from the
generator namespace, ping to fill the neighbour table, a short warm-up,
then kxdpgun for --duration seconds; the answered rate of a mode is the
median over the rounds.  A mode that cannot run is reported as
"failed: reason" and the rest go on; the exit status is 0 unless no mode
gave a number.  The numbers are indicative: other work on the machine
shares the two CPUs.
"""

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

SERVER_ADDR = "192.0.2.53"
GEN_ADDR = "192.0.2.1"
PREFIX_LEN = 24
SERVER_IF = "vS"
GEN_IF = "vG"

MODES = ["bulwark-af_xdp", "bulwark-af_packet", "knot-xdp", "knot-udp", "nsd-udp"]
LABELS = {
	"bulwark-af_xdp": ("bulwarkd", "io dpdk, net_af_xdp, 1 worker"),
	"bulwark-af_packet": ("bulwarkd", "io dpdk, net_af_packet, 1 worker"),
	"knot-xdp": ("knotd", "XDP, udp-workers 1"),
	"knot-udp": ("knotd", "kernel UDP, udp-workers 1"),
	"nsd-udp": ("nsd", "kernel UDP, server-count 1"),
}
BASELINE = "bulwark-af_xdp"


def log(msg):
	print(msg, file=sys.stderr, flush=True)


class Failure(Exception):
	"""A mode cannot run; the message goes into the report."""


def run(argv, check=True, timeout=60):
	"""Run a command; on failure raise Failure with its output."""
	try:
		done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
			text=True, timeout=timeout)
	except subprocess.TimeoutExpired:
		raise Failure("%s: no exit within %gs" % (" ".join(argv[:6]), timeout))
	except OSError as err:
		raise Failure("%s: %s" % (argv[0], err))
	if check and done.returncode != 0:
		out = (done.stderr or done.stdout).strip()
		raise Failure("%s: exit %d%s" % (" ".join(argv), done.returncode,
			": " + out.splitlines()[-1] if out else ""))
	return done


# ---- Cleanup: everything started is stopped, everything made is removed. ----

_CLEANUPS = []    # callables, run last-in first-out


def _cleanup():
	if _CLEANUPS:
		# a second ^C must not cut the cleanup short
		for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
			signal.signal(sig, signal.SIG_IGN)
	while _CLEANUPS:
		fn = _CLEANUPS.pop()
		try:
			fn()
		except Exception as err:  # keep cleaning up
			log("cleanup: %s" % err)


class Interrupted(BaseException):
	pass


def _on_signal(signum, frame):
	raise Interrupted("signal %d" % signum)


atexit.register(_cleanup)


# ---- Namespaces and the veth pair. ----

class Netns:
	def __init__(self, name):
		self.name = name
		self.made = False

	def create(self):
		run(["ip", "netns", "add", self.name])
		self.made = True
		_CLEANUPS.append(self.delete)
		self.ip("link", "set", "lo", "up")

	def delete(self):
		if self.made:
			subprocess.run(["ip", "netns", "del", self.name],
				stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
			self.made = False

	def argv(self, *argv):
		return ["ip", "netns", "exec", self.name] + list(argv)

	def ip(self, *args, check=True):
		return run(["ip", "-n", self.name] + list(args), check=check)

	def exec(self, *argv, check=True, timeout=60):
		return run(self.argv(*argv), check=check, timeout=timeout)

	def sh(self, script, check=True):
		return run(self.argv("sh", "-c", script), check=check)


class Veth:
	"""vS in the server namespace, vG in the generator namespace."""

	def __init__(self, srv_ns, gen_ns, napi, server_cpu, gen_cpu):
		self.s = srv_ns
		self.g = gen_ns
		self.napi = napi
		self.server_cpu = server_cpu
		self.gen_cpu = gen_cpu
		self.napi_warned = False
		self.verbose = False
		self.pinned = set()

	def create(self):
		run(["ip", "link", "add", SERVER_IF, "netns", self.s.name, "type", "veth",
			"peer", "name", GEN_IF, "netns", self.g.name])
		for ns, ifname in ((self.s, SERVER_IF), (self.g, GEN_IF)):
			# one queue each: one kxdpgun thread, one server queue
			ns.exec("ethtool", "-L", ifname, "rx", "1", "tx", "1", check=False)
			# no IPv6 on the veth itself (router solicitations, MLD); bulwarkd's
			# exception interface keeps it
			ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" %
				ifname, check=False)
			ns.ip("link", "set", ifname, "up")
		self.g.ip("addr", "add", "%s/%d" % (GEN_ADDR, PREFIX_LEN), "dev", GEN_IF)
		# a precaution: what the kernel sends from G (kdig's SOA check, ping)
		# carries full checksums, as on a real wire, when bulwarkd reads raw
		# frames on vS (kxdpgun writes its own; on this kernel the SOA check
		# passed with the offload on too)
		self.g.exec("ethtool", "-K", GEN_IF, "tx", "off", check=False)
		if self.napi == "threaded":
			for ns, ifname in ((self.s, SERVER_IF), (self.g, GEN_IF)):
				# GRO on: veth keeps its NAPI (and the NAPI thread) whether or
				# not an XDP program is attached
				ns.exec("ethtool", "-K", ifname, "gro", "on", check=False)
				ns.sh("echo 1 > /sys/class/net/%s/threaded" % ifname)
		self.pin_napi()

	def configure_server(self, with_address):
		"""vS for the next server: no XDP program; the address or none."""
		for kind in ("xdp", "xdpgeneric"):
			self.s.ip("link", "set", "dev", SERVER_IF, kind, "off", check=False)
		self.s.ip("addr", "flush", "dev", SERVER_IF)
		if with_address:
			self.s.ip("addr", "add", "%s/%d" % (SERVER_ADDR, PREFIX_LEN),
				"dev", SERVER_IF)
		self.g.ip("neigh", "flush", "dev", GEN_IF, check=False)

	def napi_pids(self, ns, ifname):
		done = ns.exec(sys.executable, os.path.abspath(__file__),
			"--napi-threads", ifname, check=False)
		if done.returncode != 0:
			return None, done.stderr.strip()
		return [int(x) for x in done.stdout.split()], ""

	def pin_napi(self):
		"""Threaded NAPI: vS's threads on the server CPU, vG's on the generator's."""
		if self.napi != "threaded":
			return
		for ns, ifname, cpu in ((self.s, SERVER_IF, self.server_cpu),
				(self.g, GEN_IF, self.gen_cpu)):
			pids, err = self.napi_pids(ns, ifname)
			if pids is None or not pids:
				if not self.napi_warned:
					log("warning: no NAPI thread found for %s (%s); not pinned" %
						(ifname, err or "none"))
					self.napi_warned = True
				continue
			for pid in pids:
				if self.verbose and pid not in self.pinned:
					log("    NAPI thread %d of %s pinned to CPU %d" % (pid, ifname, cpu))
					self.pinned.add(pid)
				try:
					os.sched_setaffinity(pid, {cpu})
				except OSError as err:
					log("warning: cannot pin NAPI thread %d of %s: %s" %
						(pid, ifname, err))


def napi_threads(ifname):
	"""Pids of the NAPI threads of IFNAME in this namespace (netdev netlink)."""
	NETLINK_GENERIC, GENL_ID_CTRL = 16, 16
	CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 3, 1, 2
	NETDEV_CMD_NAPI_GET = 11
	NAPI_IFINDEX, NAPI_PID = 1, 4
	NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
	NLMSG_ERROR, NLMSG_DONE = 2, 3

	def attr(kind, data):
		n = 4 + len(data)
		return struct.pack("=HH", n, kind) + data + b"\0" * (-n % 4)

	def attrs(buf):
		out = {}
		while len(buf) >= 4:
			n, kind = struct.unpack_from("=HH", buf)
			if n < 4:
				break
			out[kind & 0x3fff] = buf[4:n]
			buf = buf[(n + 3) & ~3:]
		return out

	sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
	sock.bind((0, 0))
	seq = [0]

	def request(family, cmd, flags, payload):
		seq[0] += 1
		body = struct.pack("=BBH", cmd, 1, 0) + payload
		sock.send(struct.pack("=IHHII", 16 + len(body), family, flags, seq[0], 0)
			+ body)
		replies = []
		while True:
			data = sock.recv(1 << 16)
			while len(data) >= 16:
				n, kind, _, _, _ = struct.unpack_from("=IHHII", data)
				if kind == NLMSG_ERROR:
					errno = -struct.unpack_from("=i", data, 16)[0]
					if errno:
						raise OSError(errno, os.strerror(errno))
					return replies
				if kind == NLMSG_DONE:
					return replies
				replies.append(attrs(data[20:n]))
				data = data[(n + 3) & ~3:]
				if not flags & NLM_F_DUMP:
					return replies

	fam = request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_REQUEST,
		attr(CTRL_ATTR_FAMILY_NAME, b"netdev\0"))
	family = struct.unpack("=H", fam[0][CTRL_ATTR_FAMILY_ID][:2])[0]
	index = socket.if_nametoindex(ifname)
	pids = []
	for napi in request(family, NETDEV_CMD_NAPI_GET, NLM_F_REQUEST | NLM_F_DUMP,
			attr(NAPI_IFINDEX, struct.pack("=I", index))):
		if NAPI_IFINDEX in napi and struct.unpack("=I", napi[NAPI_IFINDEX][:4])[0] \
				!= index:
			continue
		if NAPI_PID in napi:
			pids.append(struct.unpack("=I", napi[NAPI_PID][:4])[0])
	return pids


# ---- Servers. ----

def proc_stat(pid):
	"""(parent pid, start time) of PID from /proc, or None."""
	try:
		with open("/proc/%d/stat" % pid) as f:
			fields = f.read().rsplit(")", 1)[1].split()
		return int(fields[1]), int(fields[19])
	except (OSError, ValueError, IndexError):
		return None


def descendants(pid):
	"""(pid, start time) of the children of PID, recursively."""
	kids = {}
	for entry in os.listdir("/proc"):
		if entry.isdigit():
			st = proc_stat(int(entry))
			if st:
				kids.setdefault(st[0], []).append((int(entry), st[1]))
	out, todo = [], [pid]
	while todo:
		for kid in kids.get(todo.pop(), []):
			out.append(kid)
			todo.append(kid[0])
	return out


def pin_all_threads(pids, cpu):
	for pid in pids:
		try:
			tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
		except OSError:
			continue
		for tid in tids:
			try:
				os.sched_setaffinity(tid, {cpu})
			except OSError:
				pass


class Server:
	"""One server process in the server namespace, started for one round."""

	start_timeout = 60.0
	needs_address = True

	def __init__(self, bench, mode):
		self.b = bench
		self.mode = mode
		self.dir = os.path.join(bench.tmp, mode)
		os.makedirs(self.dir, exist_ok=True)
		os.chmod(self.dir, 0o755)
		self.proc = None
		self.logf = None
		self.family = []

	def path(self, name):
		return os.path.join(self.dir, name)

	def write(self, name, text):
		with open(self.path(name), "w") as f:
			f.write(text)
		return self.path(name)

	def argv(self):
		raise NotImplementedError

	def ready_in_log(self, text):
		return True

	def log_text(self):
		try:
			with open(self.path("server.log"), errors="replace") as f:
				return f.read()
		except OSError:
			return ""

	def log_reason(self):
		"""A short reason from the server's log: its last error line."""
		lines = [ln.strip() for ln in self.log_text().splitlines() if ln.strip()]
		for ln in reversed(lines):
			if re.search(r"error|fail|cannot|denied|not permitted", ln, re.I):
				return ln[-200:]
		return lines[-1][-200:] if lines else "no output"

	def start(self):
		self.b.veth.configure_server(self.needs_address)
		argv = self.argv()
		self.logf = open(self.path("server.log"), "w")
		self.proc = subprocess.Popen(self.b.srv.argv(*argv), cwd=self.dir,
			stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT,
			start_new_session=True)
		_CLEANUPS.append(self.stop)
		deadline = time.monotonic() + self.start_timeout
		logged = False
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				raise Failure("exited with status %d: %s" % (self.proc.returncode,
					self.log_reason()))
			if not logged:
				logged = self.ready_in_log(self.log_text())
			if logged and self.b.soa_answers():
				self.pin()
				self.b.veth.pin_napi()
				return self
			time.sleep(0.2)
		raise Failure("no SOA answer from %s within %ds: %s" % (SERVER_ADDR,
			self.start_timeout, self.log_reason()))

	def pin(self):
		"""Every thread of the server and its children on the server CPU."""
		self.family = descendants(self.proc.pid)
		pin_all_threads([self.proc.pid] + [p for p, _ in self.family],
			self.b.args.server_cpu)

	def stop(self):
		if self.proc is None:
			return
		family = descendants(self.proc.pid) if self.proc.poll() is None \
			else list(self.family)
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(timeout=15)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		# children that outlived their parent (ours: same pid, same start time)
		for pid, started in family:
			st = proc_stat(pid)
			if st and st[1] == started:
				try:
					os.kill(pid, signal.SIGKILL)
				except OSError:
					pass
		self.proc = None
		if self.logf:
			self.logf.close()
			self.logf = None
		if self.stop in _CLEANUPS:
			_CLEANUPS.remove(self.stop)


class BulwarkDpdk(Server):
	needs_address = False
	vdev = None

	def argv(self):
		a = self.b.args
		# main lcore (control plane) on the generator's CPU, the worker alone
		# on the server CPU
		eal = ("-l %d,%d --main-lcore %d --no-huge -m %d --no-pci --file-prefix %s "
			"--log-level=lib.eal:warning" % (a.gen_cpu, a.server_cpu, a.gen_cpu,
			a.dpdk_memory, self.b.dpdk_prefix))
		conf = f"""options {{
	directory "{self.dir}";
	pid-file none;
}};
dataplane {{
	io dpdk;
	eal-args "{eal}";
	port "{self.vdev},iface={SERVER_IF}" {{
		address {SERVER_ADDR}/{PREFIX_LEN};
		address 2001:db8::53/64;
	}};
	workers {a.server_cpu}-{a.server_cpu};
}};
zone "{self.b.zone_name}" {{
	table "{self.b.compiled_table()}";
}};
"""
		return [self.b.program("controlplane", "bulwarkd"), "-c",
			self.write("bulwark.conf", conf), "-f"]

	def ready_in_log(self, text):
		return "started: io dpdk" in text

	def pin(self):
		# the EAL pins the main lcore and the worker itself
		self.family = descendants(self.proc.pid)


class BulwarkAfXdp(BulwarkDpdk):
	vdev = "net_af_xdp0"


class BulwarkAfPacket(BulwarkDpdk):
	vdev = "net_af_packet0"


class Knot(Server):
	xdp = False

	def argv(self):
		zone = self.path("zone.db")
		if not os.path.exists(zone):
			shutil.copyfile(self.b.zonefile, zone)
			os.chmod(zone, 0o644)
		for name in os.listdir(self.dir):
			# fresh state every round: no journal, timers or old socket
			if name not in ("zone.db", "server.log", "knot.conf"):
				p = self.path(name)
				shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
		xdp = f"""xdp:
    listen: {SERVER_IF}@53
    udp: on
""" if self.xdp else ""
		conf = f"""server:
    rundir: "{self.dir}"
    listen: {SERVER_ADDR}@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
{xdp}log:
  - target: stderr
    any: info
database:
    storage: "{self.dir}"
template:
  - id: default
    storage: "{self.dir}"
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
zone:
  - domain: "{self.b.origin}"
    file: "{zone}"
"""
		return ["taskset", "-c", str(self.b.args.server_cpu), "knotd", "-c",
			self.write("knot.conf", conf)]

	def ready_in_log(self, text):
		return "server started" in text and ("loaded, serial" in text)


class KnotXdp(Knot):
	xdp = True

	def start(self):
		super().start()
		if "initialized XDP interface" not in self.log_text():
			raise Failure("knotd did not initialize XDP on %s: %s" %
				(SERVER_IF, self.log_reason()))
		return self


class KnotUdp(Knot):
	xdp = False


class Nsd(Server):
	def argv(self):
		zone = self.path("zone.db")
		if not os.path.exists(zone):
			shutil.copyfile(self.b.zonefile, zone)
			os.chmod(zone, 0o644)
		for name in ("zone.list", "xfrd.state", "nsd.pid"):
			if os.path.exists(self.path(name)):
				os.unlink(self.path(name))
		conf = f"""server:
	ip-address: {SERVER_ADDR}
	port: 53
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "{self.dir}"
	pidfile: "{self.path('nsd.pid')}"
	database: ""
	zonelistfile: "{self.path('zone.list')}"
	xfrdfile: "{self.path('xfrd.state')}"
	xfrdir: "{self.dir}"
	verbosity: 1
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: "{self.b.origin}"
	zonefile: "{zone}"
"""
		return ["taskset", "-c", str(self.b.args.server_cpu), "nsd", "-d", "-c",
			self.write("nsd.conf", conf)]

	def ready_in_log(self, text):
		return "nsd started" in text


SERVERS = {
	"bulwark-af_xdp": BulwarkAfXdp,
	"bulwark-af_packet": BulwarkAfPacket,
	"knot-xdp": KnotXdp,
	"knot-udp": KnotUdp,
	"nsd-udp": Nsd,
}


# ---- kxdpgun. ----

def parse_kxdpgun(out, duration):
	"""Counts and rates from kxdpgun's summary (its own pps where printed)."""
	sent = re.search(r"total queries:\s+(\d+)(?:\s+\(([\d.]+) pps\))?", out)
	recv = re.search(r"total replies:\s+(\d+)(?:\s+\(([\d.]+) pps\))?", out)
	if not sent or not recv:
		raise Failure("cannot parse kxdpgun output: %s" %
			(out.strip().splitlines() or ["(empty)"])[-1])
	secs = float(duration)
	n_sent, n_recv = int(sent.group(1)), int(recv.group(1))
	rcodes = {m.group(1): int(m.group(2))
		for m in re.finditer(r"responded (\S+):\s+(\d+)", out)}
	return {"sent": n_sent, "answered": n_recv, "seconds": secs,
		"sent_qps": float(sent.group(2)) if sent.group(2) else n_sent / secs,
		"answered_qps": float(recv.group(2)) if recv.group(2) else n_recv / secs,
		"answered_pct": 100.0 * n_recv / n_sent if n_sent else 0.0,
		"rcodes": rcodes}


class Bench:
	def __init__(self, args):
		self.args = args
		self.zonefile = os.path.abspath(args.zone)
		self.origin = args.origin if args.origin.endswith(".") else args.origin + "."
		self.zone_name = self.origin.rstrip(".") or "."
		self.queries = os.path.abspath(args.queries)
		self.build = os.path.abspath(args.build)
		pid = os.getpid()
		self.srv = Netns("bwbS-%d" % pid)
		self.gen = Netns("bwbG-%d" % pid)
		self.veth = Veth(self.srv, self.gen, args.napi, args.server_cpu, args.gen_cpu)
		self.veth.verbose = args.verbose
		self.dpdk_prefix = "bwveth%d" % pid
		self.tmp = tempfile.mkdtemp(prefix="bw-veth-")
		os.chmod(self.tmp, 0o755)
		_CLEANUPS.append(self.remove_files)
		self.table = None
		self.table_error = None

	def remove_files(self):
		shutil.rmtree(os.path.join("/var/run/dpdk", self.dpdk_prefix),
			ignore_errors=True)
		if self.args.keep:
			log("kept %s" % self.tmp)
		else:
			shutil.rmtree(self.tmp, ignore_errors=True)

	def program(self, *parts):
		path = os.path.join(self.build, *parts)
		if not os.access(path, os.X_OK):
			raise Failure("%s is missing: build it first (ninja -C %s)" %
				(path, self.build))
		return path

	def compiled_table(self):
		"""The zone compiled for bulwarkd (once); Failure if it cannot be."""
		if self.table is None and self.table_error is None:
			table = os.path.join(self.tmp, "zone.bwz")
			try:
				argv = [self.program("zonecomp", "cli", "bulwark-compile"),
					self.zonefile, "-o", table, "-z", self.origin]
				done = run(argv, check=False, timeout=600)
				if done.returncode != 0:
					out = (done.stderr or done.stdout).strip().splitlines()
					raise Failure("bulwark-compile failed (%d): %s" % (done.returncode,
						out[-1] if out else ""))
				log(done.stderr.strip() or done.stdout.strip())
				self.table = table
			except Failure as err:
				self.table_error = str(err)
		if self.table_error:
			raise Failure(self.table_error)
		return self.table

	def setup(self):
		log("namespaces %s (%s %s/%d) and %s (%s %s/%d), NAPI %s" % (
			self.srv.name, SERVER_IF, SERVER_ADDR, PREFIX_LEN, self.gen.name,
			GEN_IF, GEN_ADDR, PREFIX_LEN, self.args.napi))
		self.srv.create()
		self.gen.create()
		self.veth.create()

	def soa_answers(self):
		done = self.gen.exec("kdig", "@" + SERVER_ADDR, "+retry=0", "+timeout=1",
			"+norecurse", self.origin, "SOA", check=False, timeout=10)
		return done.returncode == 0 and "status: NOERROR" in done.stdout and \
			re.search(r"\bSOA\b", done.stdout.split("ANSWER SECTION", 1)[-1]) \
			is not None

	def neighbour(self):
		"""Ping the server (fills vG's neighbour table); its MAC."""
		self.gen.exec("ping", "-c", "3", "-i", "0.2", "-W", "1", SERVER_ADDR,
			check=False)
		out = self.gen.ip("-j", "neigh", "show", SERVER_ADDR, "dev", GEN_IF).stdout
		for entry in json.loads(out or "[]"):
			if entry.get("lladdr") and "FAILED" not in entry.get("state", []) and \
					"INCOMPLETE" not in entry.get("state", []):
				return entry["lladdr"]
		raise Failure("no ARP answer for %s on %s" % (SERVER_ADDR, GEN_IF))

	def kxdpgun(self, mac, duration):
		a = self.args
		argv = ["taskset", "-c", str(a.gen_cpu), "kxdpgun", "-t", str(duration),
			"-Q", str(a.rate), "-b", str(a.batch), "-F", str(a.gen_cpu),
			"-I", GEN_IF, "-R", mac, "-i", self.queries, SERVER_ADDR]
		done = self.gen.exec(*argv, check=False, timeout=float(duration) + 60)
		if done.returncode != 0:
			err = (done.stderr.strip() or done.stdout.strip()).splitlines()
			raise Failure("kxdpgun exit %d: %s" % (done.returncode,
				err[-1] if err else ""))
		return done.stdout

	def measure(self, mode):
		server = SERVERS[mode](self, mode)
		try:
			server.start()
			mac = self.neighbour()
			if self.args.warmup > 0:
				self.kxdpgun(mac, self.args.warmup)
			self.veth.pin_napi()
			out = self.kxdpgun(mac, self.args.duration)
			if server.proc.poll() is not None:
				raise Failure("server exited during the run: %s" % server.log_reason())
		finally:
			server.stop()
			log_tail = server.log_text()
		res = parse_kxdpgun(out, self.args.duration)
		res["raw"] = [ln for ln in out.splitlines() if ln.strip()]
		if self.args.verbose:
			for ln in res["raw"]:
				log("    kxdpgun: %s" % ln)
			if log_tail and mode.startswith("bulwark"):
				for ln in log_tail.splitlines():
					if "DPDK:" in ln:
						log("    bulwarkd: %s" % ln.strip())
		return res


def report(args, results, modes):
	base = results[BASELINE]["median_answered_qps"] \
		if BASELINE in results else None
	lines = []
	lines.append("veth, kxdpgun on CPU %d (1 thread, -Q %d, -b %d), servers on "
		"CPU %d, NAPI %s; median of %d round(s) x %g s" % (args.gen_cpu,
		args.rate, args.batch, args.server_cpu, args.napi, args.rounds,
		args.duration))
	lines.append("")
	lines.append("| server | mode | answered qps (median) | sent qps (median) "
		"| answered | ratio to bulwarkd af_xdp |")
	lines.append("| --- | --- | ---: | ---: | ---: | ---: |")
	for mode in modes:
		r = results[mode]
		server, label = LABELS[mode]
		med = r.get("median_answered_qps")
		if med is None:
			lines.append("| %s | %s | failed: %s | | | |" % (server, label,
				r["error"].replace("|", "/")))
			continue
		note = ""
		if len(r["rounds"]) < args.rounds:
			note = " (%d of %d rounds; failed: %s)" % (len(r["rounds"]),
				args.rounds, r["error"].replace("|", "/"))
		ratio = "%.2f" % (med / base) if base else "n/a"
		lines.append("| %s | %s | %s%s | %s | %.0f%% | %s |" % (server, label,
			"{:,.0f}".format(med), note, "{:,.0f}".format(r["median_sent_qps"]),
			r["median_answered_pct"], ratio))
	return "\n".join(lines)


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--napi-threads", metavar="IFNAME", help=argparse.SUPPRESS)
	ap.add_argument("--build", default=os.path.join(TOP, "build"),
		help="meson build directory (default: the source tree's build)")
	ap.add_argument("--zone", help="zone file")
	ap.add_argument("--origin", help="the zone's origin")
	ap.add_argument("--queries", help="query file, NAME TYPE per line")
	ap.add_argument("--duration", type=float, default=5,
		help="seconds of traffic per measurement (default 5)")
	ap.add_argument("--warmup", type=float, default=1,
		help="seconds of traffic before each measurement, not counted "
		"(default 1; 0: none)")
	ap.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
	ap.add_argument("--rate", type=int, default=2000000,
		help="offered queries per second, kxdpgun -Q (default 2,000,000)")
	ap.add_argument("--batch", type=int, default=10,
		help="kxdpgun -b (default 10, kxdpgun's own default)")
	ap.add_argument("--modes", default=",".join(MODES),
		help="comma-separated subset of: %s" % ", ".join(MODES))
	ap.add_argument("--napi", choices=["threaded", "softirq"], default="threaded",
		help="where veth receive work runs (default threaded, see above)")
	ap.add_argument("--server-cpu", type=int, default=1)
	ap.add_argument("--gen-cpu", type=int, default=0)
	ap.add_argument("--dpdk-memory", type=int, default=1024,
		help="EAL -m for bulwarkd, MB (default 1024)")
	ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
	ap.add_argument("--keep", action="store_true",
		help="keep the work directory (configurations, server logs)")
	ap.add_argument("-v", "--verbose", action="store_true",
		help="print kxdpgun's summary lines of every run")
	args = ap.parse_args()

	if args.napi_threads:
		# helper, run inside a namespace by the main program
		print(" ".join(str(p) for p in napi_threads(args.napi_threads)))
		return 0

	for opt in ("zone", "origin", "queries"):
		if not getattr(args, opt):
			ap.error("--%s is required" % opt)
	modes = [m.strip() for m in args.modes.split(",") if m.strip()]
	bad = [m for m in modes if m not in SERVERS]
	if bad:
		ap.error("unknown mode(s): %s (known: %s)" % (", ".join(bad),
			", ".join(MODES)))
	if os.geteuid() != 0:
		raise SystemExit("bench-veth.py: run as root (namespaces, XDP)")
	for tool in ("ip", "ethtool", "taskset", "kxdpgun", "kdig", "ping"):
		if shutil.which(tool) is None:
			raise SystemExit("bench-veth.py: %s is not installed" % tool)

	signal.signal(signal.SIGTERM, _on_signal)
	signal.signal(signal.SIGINT, _on_signal)
	signal.signal(signal.SIGHUP, _on_signal)

	results = {m: {"server": LABELS[m][0], "mode": LABELS[m][1], "rounds": [],
		"error": None} for m in modes}
	try:
		bench = Bench(args)
		if any(m.startswith("bulwark") for m in modes):
			try:
				bench.compiled_table()
			except Failure as err:
				log("%s; the bulwarkd modes fail" % err)
		bench.setup()
		for rnd in range(args.rounds):
			for mode in modes:
				r = results[mode]
				if r["error"] and not r["rounds"]:
					continue    # failed before it gave a number: do not retry
				try:
					res = bench.measure(mode)
				except Exception as err:  # Failure, or a bug: the others go on
					r["error"] = str(err) if isinstance(err, Failure) else \
						"%s: %s" % (type(err).__name__, err)
					log("round %d: %s: failed: %s" % (rnd + 1, mode, r["error"]))
					continue
				r["rounds"].append(res)
				log("round %d: %s: sent %s qps, answered %s qps (%.0f%%)" % (
					rnd + 1, mode, "{:,.0f}".format(res["sent_qps"]),
					"{:,.0f}".format(res["answered_qps"]), res["answered_pct"]))
	except Interrupted as err:
		log("interrupted (%s): cleaning up" % err)
		_cleanup()
		return 130
	except Failure as err:
		log("bench-veth.py: %s" % err)
		_cleanup()
		return 1
	finally:
		_cleanup()

	for r in results.values():
		if r["rounds"]:
			r["median_answered_qps"] = statistics.median(
				x["answered_qps"] for x in r["rounds"])
			r["median_sent_qps"] = statistics.median(
				x["sent_qps"] for x in r["rounds"])
			r["median_answered_pct"] = statistics.median(
				x["answered_pct"] for x in r["rounds"])
		else:
			r["median_answered_qps"] = None
	base = results.get(BASELINE, {}).get("median_answered_qps")
	for r in results.values():
		med = r["median_answered_qps"]
		r["ratio_to_bulwark_af_xdp"] = med / base if med is not None and base \
			else None

	print()
	print(report(args, results, modes))
	if args.json:
		out = {"config": {k: getattr(args, k) for k in ("zone", "origin", "queries",
			"duration", "warmup", "rounds", "rate", "batch", "napi", "server_cpu",
			"gen_cpu")}, "results": results}
		with open(args.json, "w") as f:
			json.dump(out, f, indent=2)
			f.write("\n")
	return 0 if any(r["rounds"] for r in results.values()) else 1


if __name__ == "__main__":
	sys.exit(main())
