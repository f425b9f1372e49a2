#!/usr/bin/python3
"""Shared parts of the veth benchmarks (scripts/bench-veth.py, scripts/peers.py).

Two network namespaces joined by a veth pair (vS on the server side, vG on
the generator side), threaded NAPI pinned per side, the servers (bulwarkd
io dpdk on net_af_xdp / net_af_packet, knotd XDP and kernel UDP, nsd)
started in the server namespace with every thread on one CPU, kxdpgun's
summary parser, and a cleanup stack that stops and removes everything
that was started or made, also on an error, SIGINT or SIGTERM.

A bench object that the servers use has: args (server_cpu, gen_cpu,
dpdk_memory), srv and gen (Netns), veth (Veth), tmp, dpdk_prefix, origin,
zone_name, zonefile, compiled_table() and soa_answers(); VethBench gives
all but the zone and its table.

Run as `vethbench.py --napi-threads IFNAME` (inside a namespace) it prints
the pids of IFNAME's NAPI threads.
"""

import atexit
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

SERVER_ADDR = "192.0.2.53"
GEN_ADDR = "192.0.2.1"
PREFIX_LEN = 24
SERVER_IF = "vS"
GEN_IF = "vG"

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

CLEANUPS = []    # callables, run last-in first-out


def cleanup():
	if CLEANUPS:
		# a second ^C must not cut the cleanup short
		for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
			signal.signal(sig, signal.SIG_IGN)
	while CLEANUPS:
		fn = CLEANUPS.pop()
		try:
			fn()
		except Exception as err:  # keep cleaning up
			log("cleanup: %s" % err)


class Interrupted(BaseException):
	pass


def _on_signal(signum, frame):
	raise Interrupted("signal %d" % signum)


atexit.register(cleanup)


# ---- Namespaces and the veth pair. ----

class Netns:
	def __init__(self, name):
		self.name = name
		self.made = False

	def create(self):
		run(["ip", "netns", "add", self.name])
		self.made = True
		CLEANUPS.append(self.delete)
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
		self.dir = bench.workdir(mode)
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
		CLEANUPS.append(self.stop)
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
		if self.stop in CLEANUPS:
			CLEANUPS.remove(self.stop)


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
// A capacity benchmark: the replayed queries include NXDOMAINs at a
// flood's rate, which the default detection would (rightly) rate-limit.
// The other servers run without RRL; so does bulwarkd here.
flood-mitigation {{ enable no; }};
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

# ---- The two namespaces, the veth pair and what every bench asks of them. ----

class VethBench:
	"""Namespaces bwbS-PID / bwbG-PID, the veth pair, a work directory."""

	def __init__(self, args, tmp_prefix):
		self.args = args
		self.build = os.path.abspath(args.build)
		pid = os.getpid()
		self.srv = Netns("bwbS-%d" % pid)
		self.gen = Netns("bwbG-%d" % pid)
		self.veth = Veth(self.srv, self.gen, args.napi, args.server_cpu, args.gen_cpu)
		self.veth.verbose = args.verbose
		self.dpdk_prefix = "bwveth%d" % pid
		self.tmp = tempfile.mkdtemp(prefix=tmp_prefix)
		os.chmod(self.tmp, 0o755)
		CLEANUPS.append(self.remove_files)

	def set_zone(self, zonefile, origin):
		self.zonefile = os.path.abspath(zonefile)
		self.origin = origin if origin.endswith(".") else origin + "."
		self.zone_name = self.origin.rstrip(".") or "."

	def workdir(self, mode):
		"""The directory of one server mode (configuration, zone copy, log)."""
		return os.path.join(self.tmp, mode)

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

	def kxdpgun(self, mac, duration, rate, queries):
		"""kxdpgun on the generator CPU for DURATION s at RATE; its output."""
		a = self.args
		argv = ["taskset", "-c", str(a.gen_cpu), "kxdpgun", "-t", str(duration),
			"-Q", str(rate), "-b", str(a.batch), "-F", str(a.gen_cpu),
			"-I", GEN_IF, "-R", mac, "-i", queries, SERVER_ADDR]
		done = self.gen.exec(*argv, check=False, timeout=float(duration) + 60)
		if done.returncode != 0:
			err = (done.stderr.strip() or done.stdout.strip()).splitlines()
			raise Failure("kxdpgun exit %d: %s" % (done.returncode,
				err[-1] if err else ""))
		return done.stdout


def install_signal_handlers():
	"""SIGINT, SIGTERM and SIGHUP raise Interrupted (the cleanup runs)."""
	for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
		signal.signal(sig, _on_signal)


if __name__ == "__main__":
	if len(sys.argv) == 3 and sys.argv[1] == "--napi-threads":
		print(" ".join(str(p) for p in napi_threads(sys.argv[2])))
		sys.exit(0)
	sys.exit("usage: vethbench.py --napi-threads IFNAME")
