#!/usr/bin/python3
"""Replay a flood scenario (scripts/gen-flood-pcap.py) over a veth pair and
measure what the server answered.

As a library (flood_test.py, scripts/bench-flood.py):

    meta, queries = read_sidecar(SIDECAR)
    link = Link(CLEANUP, meta)             # namespaces + veth, MACs of the pcap
    link.create()
    link.configure("dpdk" | "kernel")      # the server side for that kind
    ... start the server in link.srv_ns ...
    wait_ready(link, "example.com.")
    poller = Poller(["bulwarkctl", "-s", SOCK, "--json", "flood-status"])
    rep = replay(link, PCAP, WORKDIR, poller=poller, actions=[(3.0, fn)])
    summary = analyse(meta, queries, rep)  # a dict; print_summary(summary)

As a program (the server is any command, started in the server namespace):

    flood_replay.py --pcap FLOOD.pcap [--sidecar FLOOD.jsonl]
        --server 'nsd -d -c /tmp/x/nsd.conf' [--mode kernel|dpdk]
        [--ready example.com.] [--poll 'bulwarkctl -s SOCK --json flood-status']
        [--gen-cpu 0] [--server-cpu 1] [--json OUT] [--keep DIR]
    flood_replay.py --analyse DIR    # again, from what --keep kept

The link: namespaces bwfS<pid> (server, interface fs<pid>) and bwfC<pid>
(client, interface fc<pid>) for the tag "f", deleted in every case.  The veth ends get the
MAC addresses the pcap was made for (its destination MAC on the server
side, its source MAC on the client side), so that any pcap of
gen-flood-pcap.py replays unchanged and the server's responses come back
to the client end.  The client end has 192.0.2.1/24, no IPv6 (the link
stays quiet) and TX checksum offload off; the client's kernel drops the
responses (they are for addresses it does not have), after tcpdump saw
them.
  dpdk    the server end has no address; rp_filter and disable_ipv6 keep
          the kernel off it (docs/dataplane.md): a DPDK port (net_af_packet)
          owns it, with 192.0.2.53/24 and 2001:db8::53/64 as its addresses.
  kernel  the server end has 192.0.2.53/32 and 2001:db8::53/128 and default
          routes via 192.0.2.1 and 2001:db8::1, with permanent neighbour
          entries for both (the client end's MAC): the responses to the
          spoofed sources go back over the veth with no ARP or ND.

The replay: tcpdump on the client end (both directions, UDP port 53, whole
frames) records every query as it leaves and every response; tcpreplay
sends the pcap (-K, preloaded).  Debian 12's tcpreplay 4.4.3 sleeps from
packet to packet at the recorded timing, so its overhead adds up
(tcpreplay issue #724): 11k packets/s go out 20-40% slower than the pcap
says.  Its paced mode (-p RATE) keeps to a fixed start and is exact.  So
when the legitimate queries and the flood are each evenly spaced (as
gen-flood-pcap.py writes them), replay() sends them as two streams, one
tcpreplay -p each, the flood's started at its offset: the same packets at
the recorded times, to within the few milliseconds a tcpreplay takes to
start.  Other pcaps go out at the recorded timing (-T nano with 1 ns of
timer slack: it sleeps between packets instead of spinning, which leaves
the generator's CPU to tcpdump and the control plane).  Either way every
time used is the time a query really left (the capture's timestamp, the
kernel's wall clock), and the rates are measured over those times; the
summary reports the lag behind the pcap.  A Poller thread runs its command
(flood-status) every 100 ms and records when each parent appears in
"attacks" and disappears, on the same wall clock.  Actions (offset after
the first packet left, a function) run in the calling thread during the
replay, each stamped before and after.

The analysis matches responses to the sidecar by (client address, port,
ID):
  legit   sent, answered, answered correctly (rcode as expected, TC=0, and
          for NOERROR exactly the expected rdata of the query's type in the
          answer section), by cookie mode; examples of the misses;
  flood   queries and responses per second over the flood (first to last
          flood query sent), responses by kind: nxdomain (a full answer),
          tc (TC=1), badcookie (extended rcode 23), refused, other; by
          source (spoofed, resolver); and in windows by the time the query
          left: before detection (flood start to the first poll that showed
          the parent), after detection (from detection + 0.5 s to the flood
          end), the whole flood;
  detection  per parent: first seen (the first poll that showed it, in
          seconds after the flood's first query), gone (the first poll
          after that which did not, after the flood's first and after its
          last query), the server's "since"; every parent flagged that is
          not a flood parent;
  timeline  per 0.25 s from the flood start: flood queries, flood responses
          (by kind), legitimate queries and correct answers.
"""

import argparse
import importlib.util
import ipaddress
import json
import os
import shlex
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from dpdk_util import (Cleanup, TestFailure, check, run, ns,  # noqa: E402
	veth_pair)


def _load_script(name):
	"""A script of scripts/ as a module (its name has hyphens)."""
	spec = importlib.util.spec_from_file_location(name.replace("-", "_"),
		os.path.join(TOP, "scripts", name + ".py"))
	mod = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(mod)
	return mod


gqp = _load_script("gen-query-pcap")     # read_capture()

SERVER4, SERVER6 = "192.0.2.53", "2001:db8::53"
CLIENT4, CLIENT6 = "192.0.2.1", "2001:db8::1"
RCODE_TEXT = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
	5: "REFUSED", 16: "BADVERS", 23: "BADCOOKIE"}
KINDS = ("nxdomain", "tc", "badcookie", "refused", "other")
BIN = 0.25                     # timeline bin, seconds
AFTER_GRACE = 0.5              # "after detection" starts this long after it
MIN_BEFORE = 0.2               # shortest "before detection" window that is rated
PR_SET_TIMERSLACK = 29


# ---- The scenario. ----

def read_sidecar(path):
	"""(meta, [query record]) of a gen-flood-pcap.py sidecar."""
	with open(path) as f:
		meta = json.loads(f.readline())
		check(meta.get("kind") == "meta", "%s: no meta line first" % path)
		queries = [json.loads(line) for line in f if line.strip()]
	return meta, queries


def generate(workdir, name="flood", **opts):
	"""Runs scripts/gen-flood-pcap.py (zones into WORKDIR, WORKDIR/NAME.pcap
	and .jsonl); OPTS become its options (flood_rate=1000 ->
	--flood-rate 1000; lists are joined with commas).  Returns (pcap,
	sidecar, meta, queries)."""
	pcap = os.path.join(workdir, name + ".pcap")
	argv = [sys.executable, os.path.join(TOP, "scripts", "gen-flood-pcap.py"),
		"--zone-dir", workdir, "-o", pcap]
	for k, v in opts.items():
		if v is not None:
			argv += ["--" + k.replace("_", "-"), ",".join(v) if isinstance(v, (list,
				tuple)) else str(v)]
	run(argv, timeout=300)
	sidecar = os.path.splitext(pcap)[0] + ".jsonl"
	meta, queries = read_sidecar(sidecar)
	return pcap, sidecar, meta, queries


def mitigation_conf(secret, attack_action="rate-limit", hold_down=2, interval=250,
		nxdomain_rate=2000, distinct_rate=1000, rps=100, nxps=20, slip=2):
	"""The mitigation statements that flood_test.py and bench-flood.py give
	bulwarkd: ("options" part, top-level part).  BIND's rate-limit, with
	per-address IPv4 buckets (the legitimate IPv4 clients share two /24s)
	and /56 for IPv6; detection thresholds far above the legitimate
	NXDOMAIN rate (about 10/s) and far below the flood's (10,000/s)."""
	options = """	cookie-secret "%s";
	rate-limit {
		responses-per-second %d;
		nxdomains-per-second %d;
		ipv4-prefix-length 32;
		ipv6-prefix-length 56;
		slip %d;
		window 5;
	};
""" % (secret, rps, nxps, slip)
	top = """flood-mitigation {
	interval %d;
	nxdomain-rate %d;
	distinct-rate %d;
	release-percent 50;
	hold-down %d;
	attack-action %s;
	attack-nxdomains-per-second 100;
};
""" % (interval, nxdomain_rate, distinct_rate, hold_down, attack_action)
	return options, top


# ---- The link. ----

class Link:
	"""The two namespaces and the veth pair between them (see the module's
	docstring); removed by CLEANUP."""

	def __init__(self, cleanup, meta, tag="f"):
		pid = os.getpid()
		self.cleanup = cleanup
		self.srv_ns, self.cli_ns = "bw%sS%d" % (tag, pid), "bw%sC%d" % (tag, pid)
		self.srv_if, self.cli_if = "%ss%d" % (tag, pid), "%sc%d" % (tag, pid)
		self.srv_mac, self.cli_mac = meta["dst_mac"], meta["src_mac"]
		self.mode = None

	def create(self):
		veth_pair(self.cleanup, self.srv_ns, self.srv_if, self.cli_ns, self.cli_if)
		ns(self.cli_ns, ["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
			"net.ipv6.conf.default.disable_ipv6=1"])
		for n, dev, mac in ((self.srv_ns, self.srv_if, self.srv_mac),
				(self.cli_ns, self.cli_if, self.cli_mac)):
			run(["ip", "-n", n, "link", "set", dev, "address", mac])
		run(["ip", "-n", self.cli_ns, "addr", "add", CLIENT4 + "/24", "dev", self.cli_if])
		run(["ip", "-n", self.cli_ns, "link", "set", self.cli_if, "up"])
		ns(self.cli_ns, ["ethtool", "-K", self.cli_if, "tx", "off"])
		run(["ip", "-n", self.cli_ns, "neigh", "replace", SERVER4, "lladdr",
			self.srv_mac, "dev", self.cli_if, "nud", "permanent"])
		run(["ip", "-n", self.srv_ns, "link", "set", self.srv_if, "up"])
		return self

	def configure(self, mode):
		"""The server end for a DPDK port ("dpdk") or a kernel server."""
		check(mode in ("dpdk", "kernel"), "mode %r" % mode)
		ip = ["ip", "-n", self.srv_ns]
		run(ip + ["addr", "flush", "dev", self.srv_if])
		run(ip + ["route", "flush", "dev", self.srv_if], ok=False)
		run(ip + ["-6", "route", "flush", "dev", self.srv_if], ok=False)
		sysctl = ["sysctl", "-q", "-w"]
		if mode == "dpdk":
			ns(self.srv_ns, sysctl + ["net.ipv4.conf.%s.rp_filter=1" % self.srv_if,
				"net.ipv6.conf.%s.disable_ipv6=1" % self.srv_if])
		else:
			ns(self.srv_ns, sysctl + ["net.ipv4.conf.%s.rp_filter=0" % self.srv_if,
				"net.ipv6.conf.%s.disable_ipv6=0" % self.srv_if])
			run(ip + ["addr", "add", SERVER4 + "/32", "dev", self.srv_if])
			run(ip + ["addr", "add", SERVER6 + "/128", "dev", self.srv_if, "nodad"])
			for gw, fam in ((CLIENT4, "-4"), (CLIENT6, "-6")):
				run(ip + [fam, "route", "add", gw, "dev", self.srv_if])
				run(ip + [fam, "route", "add", "default", "via", gw, "dev", self.srv_if])
				run(ip + ["neigh", "replace", gw, "lladdr", self.cli_mac, "dev",
					self.srv_if, "nud", "permanent"])
		self.mode = mode

	def tx_packets(self):
		info = json.loads(run(["ip", "-n", self.cli_ns, "-s", "-j", "link", "show",
			"dev", self.cli_if]).stdout)
		return info[0]["stats64"]["tx"]["packets"]


def wait_ready(link, origin, timeout=30, proc=None):
	"""Until the server answers SOA ORIGIN over UDP from the client side."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		if proc is not None and proc.poll() is not None:
			raise TestFailure("the server exited (%s) before it answered" % proc.returncode)
		done = ns(link.cli_ns, ["kdig", "@" + SERVER4, "+retry=0", "+timeout=1",
			"+norecurse", origin, "SOA"], ok=False, timeout=10)
		if done.returncode == 0 and "status: NOERROR" in done.stdout:
			return
		time.sleep(0.2)
	raise TestFailure("no SOA answer for %s from %s within %d s" % (origin, SERVER4,
		timeout))


# ---- Polling flood-status. ----

class Poller(threading.Thread):
	"""Runs ARGV every INTERVAL seconds; keeps (t_before, t_after, parents
	in "attacks" or None, the document or the error)."""

	def __init__(self, argv, interval=0.1):
		super().__init__(daemon=True)
		self.argv = argv
		self.interval = interval
		self.samples = []
		self.errors = 0
		self.last_error = None
		self.halt = threading.Event()

	def run(self):
		while not self.halt.is_set():
			t0 = time.time()
			doc, parents = None, None
			try:
				done = subprocess.run(self.argv, capture_output=True, text=True, timeout=5)
				if done.returncode != 0:
					raise ValueError("exit %d: %s" % (done.returncode,
						(done.stderr or done.stdout).strip()[-300:]))
				doc = json.loads(done.stdout)
				parents = [a["parent"].lower() for a in doc.get("attacks", [])]
			except (ValueError, KeyError, TypeError, OSError,
					subprocess.TimeoutExpired) as e:
				self.errors += 1
				self.last_error = str(e)
				doc = {"error": str(e)}
			t1 = time.time()
			self.samples.append((t0, t1, parents, doc))
			self.halt.wait(max(0.0, self.interval - (t1 - t0)))

	def stop(self):
		self.halt.set()
		if self.is_alive():
			self.join(10)


# ---- The replay. ----

class Tcpdump:
	"""tcpdump -w on the client end, until stop()."""

	def __init__(self, link, path, cpu=None):
		self.path = path
		argv = ["ip", "netns", "exec", link.cli_ns] + taskset(cpu) + ["tcpdump", "-i",
			link.cli_if, "-n", "-s", "0", "-B", "65536", "-Z", "root",
			"-w", path, "udp port 53"]
		self.err = []
		self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
			stderr=subprocess.PIPE, text=True)
		link.cleanup.procs.append(self.proc)
		self.reader = threading.Thread(target=self._read, daemon=True)
		self.reader.start()
		deadline = time.monotonic() + 10
		while not any("listening on" in e for e in self.err):
			if self.proc.poll() is not None or time.monotonic() > deadline:
				raise TestFailure("tcpdump did not start: %s" % "".join(self.err))
			time.sleep(0.02)

	def _read(self):
		for line in self.proc.stderr:
			self.err.append(line)

	def stop(self):
		"""SIGINT (it writes what it holds and its counts); the counts."""
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGINT)
			try:
				self.proc.wait(15)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		self.reader.join(5)
		st = {}
		for line in self.err:
			w = line.split()
			if len(w) >= 3 and w[0].isdigit() and " ".join(w[1:3]) in (
					"packets captured", "packets received", "packets dropped"):
				st[w[2]] = int(w[0])
		return st


def fine_timer_slack():
	"""1 ns of timer slack (inherited through exec): nanosleep() then wakes
	within microseconds instead of the default 50 us late, for every
	packet of tcpreplay -T nano."""
	import ctypes
	ctypes.CDLL(None, use_errno=True).prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)


def taskset(cpu):
	return [] if cpu is None else ["taskset", "-c", str(cpu)]


def tcpreplay_stats(out):
	"""Counts from tcpreplay's report."""
	st = {}
	for line in out.splitlines():
		w = line.split()
		if line.startswith("Actual:") and "sent in" in line:
			st["packets"] = int(w[1])
			st["seconds"] = float(w[w.index("in") + 1])
		elif line.strip().startswith(("Successful packets:", "Failed packets:")):
			st[w[0].lower()] = int(w[-1])
	return st


def split_streams(pcap, queries, workdir):
	"""The legitimate and the flood queries of PCAP as two pcaps, when each
	is evenly spaced (as gen-flood-pcap.py makes them): [(path, packets per
	second, offset of its first packet, count)]; None when a stream is not
	evenly spaced (then only the recorded timing replays it right)."""
	frames = {"legit": [], "flood": []}
	with open(pcap, "rb") as f:
		for q, (_lt, sec, usec, fr, _ol) in zip(queries, gqp.read_capture(f)):
			frames[q["kind"]].append((sec * 1000000 + usec, fr))
	t0 = min(v[0][0] for v in frames.values() if v)
	out = []
	for kind, fl in frames.items():
		if not fl:
			continue
		if len(fl) > 1:
			gap = (fl[-1][0] - fl[0][0]) / (len(fl) - 1)
			if gap <= 0 or any(abs(fl[i][0] - fl[0][0] - i * gap) > 2 for i in
					range(0, len(fl), max(1, len(fl) // 1000))):
				return None
			rate = 1e6 / gap
		else:
			rate = 1.0
		path = os.path.join(workdir, "stream-%s.pcap" % kind)
		rec = struct.Struct("<IIII").pack
		with open(path, "wb") as w:
			w.write(gqp.pcap_file_header())
			w.write(b"".join(rec(t // 1000000, t % 1000000, len(fr), len(fr)) + fr
				for t, fr in fl))
		out.append((path, rate, (fl[0][0] - t0) / 1e6, len(fl)))
	return sorted(out, key=lambda s: s[2])


def tcpreplay_argv(link, cpu, path, rate=None):
	"""tcpreplay of PATH on the client end: at RATE packets per second
	(-p: paced from a fixed start, exact), or at the recorded timing
	(-T nano with 1 ns timer slack, see fine_timer_slack)."""
	pace = ["-p", "%.6g" % rate] if rate else ["-T", "nano"]
	return ["ip", "netns", "exec", link.cli_ns] + taskset(cpu) + ["tcpreplay", "-i",
		link.cli_if, "-K", "--no-flow-stats"] + pace + [path]


class Senders:
	"""The tcpreplay processes of a replay: the first starts at once, the
	others (streams) when their offset has passed, from a thread."""

	def __init__(self, link, cpu, plan):
		self.link, self.cpu, self.plan = link, cpu, plan
		self.procs = []
		self.t_start = time.time()
		self.launch(0)
		self.thread = threading.Thread(target=self.later, daemon=True)
		self.thread.start()

	def launch(self, i):
		path, rate, _offset = self.plan[i]
		p = subprocess.Popen(tcpreplay_argv(self.link, self.cpu, path, rate),
			stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
			preexec_fn=fine_timer_slack)
		self.link.cleanup.procs.append(p)
		self.procs.append(p)

	def later(self):
		for i in range(1, len(self.plan)):
			time.sleep(max(0.0, self.t_start + self.plan[i][2] - time.time()))
			self.launch(i)

	def wait(self, timeout):
		"""All of them done; their counts summed."""
		self.thread.join(timeout)
		check(len(self.procs) == len(self.plan), "tcpreplay was not started")
		st = {}
		for p in self.procs:
			out, _ = p.communicate(timeout=timeout)
			check(p.returncode == 0, "tcpreplay failed (%d): %s" % (p.returncode,
				out.strip()[-500:]))
			for k, v in tcpreplay_stats(out).items():
				st[k] = max(st.get(k, 0), v) if k == "seconds" else st.get(k, 0) + v
		return st

	def kill(self):
		for p in self.procs:
			if p.poll() is None:
				p.kill()
				p.wait()


def replay(link, pcap, workdir, cpu=None, poller=None, actions=(), drain=2.0,
		timeout=None, queries=None):
	"""Replays PCAP on the client end while tcpdump records it (see the
	module's docstring); with QUERIES (its sidecar) and evenly spaced
	streams, as paced streams.  Returns what happened (a dict, JSON-ready
	but for the poll documents)."""
	streams = split_streams(pcap, queries, workdir) if queries else None
	plan = [(p, r, o) for p, r, o, _n in streams] if streams else [(pcap, None, 0.0)]
	cap = os.path.join(workdir, "capture.pcap")
	td = Tcpdump(link, cap, cpu)
	tx0 = link.tx_packets()
	if poller is not None:
		poller.start()
	res = {"capture": cap, "pcap": os.path.abspath(pcap), "actions": [],
		"timing": "streams %s" % ", ".join("%s at %.6g/s from +%.3f s" % (os.path.basename(
			p), r, o) for p, r, o in plan) if streams else "recorded"}
	senders = Senders(link, cpu, plan)
	res["t_popen"] = senders.t_start
	try:
		res["t_first_tx"] = first_tx(link, tx0, senders.procs[0])
		for offset, fn in actions:
			at = res["t_first_tx"] + offset
			time.sleep(max(0.0, at - time.time()))
			t_req = time.time()
			out = fn()
			res["actions"].append({"offset": offset, "t_req": t_req, "t_rep": time.time(),
				"result": out})
		res["tcpreplay"] = senders.wait(timeout)
		time.sleep(drain)
	finally:
		senders.kill()
		if poller is not None:
			poller.stop()
		res["tcpdump"] = td.stop()
	res["t_end"] = time.time()
	if poller is not None:
		res["polls"] = [(a, b, p) for a, b, p, _ in poller.samples]
		res["poll_docs"] = [d for _, _, _, d in poller.samples]
		res["poll_errors"] = poller.errors
		res["poll_last_error"] = poller.last_error
	return res


def first_tx(link, tx0, proc, timeout=60):
	"""Wall time (within 10 ms) at which the first replayed frame left."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		if link.tx_packets() > tx0:
			return time.time()
		if proc.poll() is not None:
			return time.time()
		time.sleep(0.01)
	raise TestFailure("tcpreplay sent nothing in %d s" % timeout)


# ---- Reading the capture. ----

def skip_name(m, off):
	while True:
		n = m[off]
		if n == 0:
			return off + 1
		if n & 0xC0 == 0xC0:
			return off + 2
		off += 1 + n


def parse_response(m):
	"""(full rcode, TC, [(type, rdata) of the answer section]) of a DNS
	response, or None when it does not parse."""
	try:
		flags, qd, an, nsc, ar = struct.unpack_from("!HHHHH", m, 2)
		off = 12
		for _ in range(qd):
			off = skip_name(m, off) + 4
		answers, ext = [], 0
		for i in range(an + nsc + ar):
			off = skip_name(m, off)
			rtype, _cls, ttl, rdlen = struct.unpack_from("!HHIH", m, off)
			off += 10
			if off + rdlen > len(m):
				return None
			if i < an:
				answers.append((rtype, m[off:off + rdlen]))
			elif i >= an + nsc and rtype == 41:
				ext = ttl >> 24
			off += rdlen
		return (ext << 4) | (flags & 0xF), bool(flags & 0x0200), answers
	except (IndexError, struct.error):
		return None


def read_capture(path, port=53):
	"""({key: time sent}, {key: [(time, dns message)]}) of the capture, the
	key being (client address packed, client port, ID)."""
	sent, resp = {}, {}
	with open(path, "rb") as f:
		for _lt, sec, usec, fr, _ol in gqp.read_capture(f):
			t = sec + usec * 1e-6
			et = fr[12:14]
			if et == b"\x08\x00" and len(fr) >= 34 and fr[23] == 17:
				u = 14 + (fr[14] & 15) * 4
				src, dst = fr[26:30], fr[30:34]
			elif et == b"\x86\xdd" and len(fr) >= 54 and fr[20] == 17:
				u, src, dst = 54, fr[22:38], fr[38:54]
			else:
				continue
			if len(fr) < u + 20:
				continue
			sport, dport = struct.unpack_from("!HH", fr, u)
			qid, flags = struct.unpack_from("!HH", fr, u + 8)
			if dport == port and not flags & 0x8000:
				sent.setdefault((src, sport, qid), t)
			elif sport == port and flags & 0x8000:
				resp.setdefault((dst, dport, qid), []).append((t, fr[u + 8:]))
	return sent, resp


# ---- The analysis. ----

def kind_of(parsed):
	if parsed is None:
		return "other"
	rcode, tc, _ = parsed
	if rcode == 23:
		return "badcookie"
	if tc:
		return "tc"
	if rcode == 5:
		return "refused"
	if rcode == 3:
		return "nxdomain"
	return "other"


def legit_verdict(q, parsed):
	"""None when the answer is right, else what is wrong with it."""
	if parsed is None:
		return "unparsable response"
	rcode, tc, answers = parsed
	want = q["expect"]["rcode"]
	if tc:
		return "TC=1 (rcode %s)" % RCODE_TEXT.get(rcode, rcode)
	if RCODE_TEXT.get(rcode, str(rcode)) != want:
		return "rcode %s, expected %s" % (RCODE_TEXT.get(rcode, rcode), want)
	if want != "NOERROR":
		return None
	qt = 28 if q["qtype"] == "AAAA" else 1
	have = sorted(str(ipaddress.ip_address(rd)) for t, rd in answers
		if t == qt and len(rd) in (4, 16))
	if have != sorted(q["expect"]["rdata"]):
		return "rdata %s, expected %s" % (have, q["expect"]["rdata"])
	return None


def percentile(v, p):
	s = sorted(v)
	if not s:
		return None
	return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def detection(meta, rep, flood_start, flood_end):
	"""Per parent: when the polls first showed it and when it was gone."""
	polls = rep.get("polls")
	if polls is None:
		return None
	flood_parents = set(meta["flood_parents"])
	par = {}
	for _t0, t1, parents in polls:
		if parents is None:
			continue
		for p in parents:
			d = par.setdefault(p, {"first_seen_wall": t1, "samples": 0, "gone_wall": None})
			d["last_seen_wall"] = t1
			d["samples"] += 1
			d["gone_wall"] = None
		for p, d in par.items():
			if p not in parents and d["gone_wall"] is None:
				d["gone_wall"] = t1
	docs = rep["poll_docs"]
	for p, d in par.items():
		d["flood_parent"] = p in flood_parents
		d["first_seen"] = d["first_seen_wall"] - flood_start if flood_start else None
		d["gone"] = (d["gone_wall"] - flood_end) if d["gone_wall"] and flood_end else None
		d["gone_after_start"] = (d["gone_wall"] - flood_start) if d["gone_wall"] and \
			flood_start else None
		d["since"] = next((a.get("since") for doc in docs for a in doc.get("attacks", [])
			if isinstance(a, dict) and a.get("parent", "").lower() == p), None)
	ok_polls = [t1 for _t0, t1, parents in polls if parents is not None]
	return {"polls": len(polls), "poll_errors": rep.get("poll_errors", 0),
		"poll_last_error": rep.get("poll_last_error"),
		"poll_span": [ok_polls[0] - flood_start, ok_polls[-1] - flood_start]
		if ok_polls and flood_start else None,
		"parents": par, "flagged_legit": sorted(p for p in par if p not in flood_parents),
		"missed": sorted(p for p in flood_parents if p not in par)}


def rate_window(floods, lo, hi):
	"""Flood queries sent in [lo, hi) and their responses, per second."""
	if hi is None or lo is None or hi - lo <= 0:
		return None
	sent = [f for f in floods if lo <= f[0] < hi]
	kinds = dict.fromkeys(KINDS, 0)
	for _, ks in sent:
		for k in ks:
			kinds[k] += 1
	n_resp = sum(kinds.values())
	sec = hi - lo
	return {"from": lo, "to": hi, "seconds": sec, "queries": len(sent),
		"qps": len(sent) / sec, "responses": n_resp, "rps": n_resp / sec,
		"kinds_per_second": {k: v / sec for k, v in kinds.items()}}


def analyse(meta, queries, rep):
	"""The summary of a replay (see the module's docstring)."""
	sent, resp = read_capture(rep["capture"], meta["port"])
	keyed = []
	for q in queries:
		k = (ipaddress.ip_address(q["src"]).packed, q["sport"], q["id"])
		keyed.append((k, q))
	used = set()
	# pcap time -> wall time: the median offset of the queries seen leaving;
	# the lag of each behind the earliest of its kind (its stream)
	offs = {"legit": [], "flood": []}
	for k, q in keyed:
		if k in sent:
			offs[q["kind"]].append(sent[k] - q["t"])
	all_offs = offs["legit"] + offs["flood"]
	offset = percentile(all_offs, 50) if all_offs else rep["t_first_tx"] - queries[0]["t"]
	lag = []
	for v in offs.values():
		if v:
			low = min(v)
			lag += [o - low for o in v]
	legit = {"sent": 0, "seen_sent": 0, "answered": 0, "correct": 0, "wrong": 0,
		"lost": 0, "duplicates": 0, "by_cookie": {}, "by_rcode": {}, "examples": []}
	flood_t = []                   # (time sent, [kinds of its responses])
	by_source = {}
	legit_t = []                   # (time sent, correct)
	for k, q in keyed:
		t = sent.get(k)
		rs = resp.get(k, [])
		if rs:
			used.add(k)
		if t is None:
			t = q["t"] + offset
		parsed = parse_response(rs[0][1]) if rs else None
		if q["kind"] == "legit":
			legit_t.append((t, tally_legit(legit, q, k in sent, rs, parsed, t)))
		else:
			ks = [kind_of(parse_response(m)) for _, m in rs]
			flood_t.append((t, ks))
			s = by_source.setdefault(q["source"], {"sent": 0, "responses": 0})
			s["sent"] += 1
			s["responses"] += len(ks)
	flood = flood_summary(flood_t, by_source)
	det = detection(meta, rep, flood.get("start"), flood.get("end"))
	flood["windows"] = windows(meta, flood_t, flood, det)
	for key in ("answered", "correct"):
		legit[key + "_pct"] = 100.0 * legit[key] / legit["sent"] if legit["sent"] else 0.0
	return {"replay": {"queries": len(queries), "tcpreplay": rep.get("tcpreplay"),
			"tcpdump": rep.get("tcpdump"), "seen_sent": len(all_offs),
			"timing": rep.get("timing"),
			"offset": offset, "lag_ms": {"median": ms(percentile(lag, 50)),
				"p99": ms(percentile(lag, 99)), "max": ms(max(lag) if lag else None)},
			"t_first": offset + queries[0]["t"], "actions": rep.get("actions", [])},
		"legit": legit, "flood": flood, "detection": det,
		"unmatched_responses": sum(len(v) for k, v in resp.items() if k not in used),
		"timeline": timeline(flood_t, legit_t, flood.get("start"))}


def ms(v):
	return None if v is None else round(v * 1000.0, 3)


def tally_legit(legit, q, seen, rs, parsed, t):
	"""Counts one legitimate query; whether it was answered correctly."""
	legit["sent"] += 1
	legit["seen_sent"] += seen
	c = legit["by_cookie"].setdefault(q["cookie"], {"sent": 0, "correct": 0})
	c["sent"] += 1
	if not rs:
		legit["lost"] += 1
		if len(legit["examples"]) < 10:
			legit["examples"].append({"t": t, "query": q, "problem": "no response"})
		return False
	legit["answered"] += 1
	legit["duplicates"] += len(rs) - 1
	rc = RCODE_TEXT.get(parsed[0], str(parsed[0])) if parsed else "unparsable"
	legit["by_rcode"][rc] = legit["by_rcode"].get(rc, 0) + 1
	why = legit_verdict(q, parsed)
	if why is None:
		legit["correct"] += 1
		c["correct"] += 1
		return True
	legit["wrong"] += 1
	if len(legit["examples"]) < 10:
		legit["examples"].append({"t": t, "query": q, "problem": why})
	return False


def flood_summary(flood_t, by_source):
	if not flood_t:
		return {"sent": 0}
	flood_t.sort(key=lambda f: f[0])
	start, end = flood_t[0][0], flood_t[-1][0]
	sec = max(end - start, 1e-9)
	kinds = dict.fromkeys(KINDS, 0)
	for _, ks in flood_t:
		for k in ks:
			kinds[k] += 1
	n_resp = sum(kinds.values())
	return {"sent": len(flood_t), "start": start, "end": end, "seconds": sec,
		"qps": len(flood_t) / sec, "responses": n_resp, "rps": n_resp / sec,
		"answered_queries": sum(1 for _, ks in flood_t if ks), "kinds": kinds,
		"by_source": by_source}


def windows(meta, flood_t, flood, det):
	"""Flood response rates before and after detection, and overall."""
	if not flood_t:
		return {}
	start, end = flood["start"], flood["end"] + 1e-6
	out = {"during": rate_window(flood_t, start, end)}
	if det is None:
		return out
	seen = [d["first_seen_wall"] for p, d in det["parents"].items() if d["flood_parent"]]
	if not seen or det["missed"]:
		return out
	t_det = max(seen)              # every flooded parent flagged
	out["detected_at"] = t_det - start
	out["before"] = rate_window(flood_t, start, min(t_det, end))
	out["after"] = rate_window(flood_t, t_det + AFTER_GRACE, end)
	after = out["after"]
	if after:
		out["reduction_vs_queries_pct"] = 100.0 * (1 - after["rps"] / flood["qps"])
		b = out["before"]
		if b and b["seconds"] >= MIN_BEFORE and b["rps"] > 0:
			out["reduction_vs_before_pct"] = 100.0 * (1 - after["rps"] / b["rps"])
	return out


def timeline(flood_t, legit_t, start):
	"""Per BIN seconds from the flood start (or the first legit query)."""
	if start is None:
		start = min(t for t, _ in legit_t) if legit_t else 0.0
	bins = {}

	def at(t):
		i = int((t - start) // BIN)
		return bins.setdefault(i, {"t": i * BIN, "flood_sent": 0, "flood_resp": 0,
			"legit_sent": 0, "legit_ok": 0, "kinds": dict.fromkeys(KINDS, 0)})
	for t, ks in flood_t:
		b = at(t)
		b["flood_sent"] += 1
		b["flood_resp"] += len(ks)
		for k in ks:
			b["kinds"][k] += 1
	for t, ok in legit_t:
		b = at(t)
		b["legit_sent"] += 1
		b["legit_ok"] += ok
	return [bins[i] for i in sorted(bins)]


# ---- Reports. ----

def print_summary(s, out=sys.stdout):
	"""A few lines for people."""
	r, lg, fl = s["replay"], s["legit"], s["flood"]
	tr = r.get("tcpreplay") or {}
	p = lambda *a: print(*a, file=out)  # noqa: E731
	p("replay (%s): %d queries, tcpreplay sent %s in %s s (failed %s); tcpdump %s; %d "
		"seen leaving, lag behind the pcap median %s ms, max %s ms" % (r.get("timing"),
		r["queries"], tr.get("packets"), tr.get("seconds"), tr.get("failed"),
		r.get("tcpdump"), r["seen_sent"], r["lag_ms"]["median"], r["lag_ms"]["max"]))
	p("legit: %d sent, %d answered (%.2f%%), %d correct (%.2f%%), %d wrong, %d lost; "
		"by cookie %s" % (lg["sent"], lg["answered"], lg["answered_pct"], lg["correct"],
		lg["correct_pct"], lg["wrong"], lg["lost"], lg["by_cookie"]))
	for e in lg["examples"][:5]:
		p("  legit miss at %.3f: %s %s from %s: %s" % (e["t"] - r["t_first"],
			e["query"]["qname"], e["query"]["qtype"], e["query"]["src"], e["problem"]))
	if fl.get("sent"):
		p("flood: %d queries over %.2f s (%.0f q/s), %d responses (%.0f/s): %s; by "
			"source %s" % (fl["sent"], fl["seconds"], fl["qps"], fl["responses"], fl["rps"],
			fl["kinds"], fl["by_source"]))
		w = fl["windows"]
		for name in ("before", "after", "during"):
			x = w.get(name)
			if x:
				p("  %-6s detection [%+.2f, %+.2f) s: %.0f q/s, %.0f responses/s %s" % (
					name, x["from"] - fl["start"], x["to"] - fl["start"], x["qps"], x["rps"],
					{k: round(v) for k, v in x["kinds_per_second"].items() if v}))
		for key in ("reduction_vs_queries_pct", "reduction_vs_before_pct"):
			if key in w:
				p("  %s: %.1f" % (key, w[key]))
	d = s.get("detection")
	if d:
		p("detection: %d polls (%d errors%s)" % (d["polls"], d["poll_errors"],
			": " + d["poll_last_error"] if d["poll_last_error"] else ""))
		for par, x in sorted(d["parents"].items()):
			p("  %s%s: first seen %s s after the flood start, gone %s s after its end, "
				"since %s" % (par, "" if x["flood_parent"] else " (NOT flooded)",
				"%.3f" % x["first_seen"] if x["first_seen"] is not None else "?",
				"%.3f" % x["gone"] if x["gone"] is not None else "never",
				x["since"]))
	if s["unmatched_responses"]:
		p("unmatched responses: %d" % s["unmatched_responses"])


def print_timeline(s, out=sys.stdout, every=2):
	"""The timeline, EVERY bins (from the flood start) a line."""
	groups = {}
	for b in s["timeline"]:
		groups.setdefault(int(b["t"] // (BIN * every)), []).append(b)
	sec = BIN * every
	for g in sorted(groups):
		chunk = groups[g]
		fs = sum(b["flood_sent"] for b in chunk) / sec
		fr = sum(b["flood_resp"] for b in chunk) / sec
		ls = sum(b["legit_sent"] for b in chunk)
		lo = sum(b["legit_ok"] for b in chunk)
		print("  t=%+6.2f flood %6.0f q/s %6.0f r/s  legit %4d/%4d ok" % (g * sec,
			fs, fr, lo, ls), file=out)


# ---- The program. ----

def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--pcap", help="from gen-flood-pcap.py")
	ap.add_argument("--sidecar", help="its JSON lines (default: PCAP with .jsonl)")
	ap.add_argument("--server", help="server command, run in the server namespace")
	ap.add_argument("--mode", choices=("kernel", "dpdk"), default="kernel")
	ap.add_argument("--ready", default="example.com.", help="zone to ask SOA for")
	ap.add_argument("--poll", help="command polled every 100 ms (flood-status --json)")
	ap.add_argument("--gen-cpu", type=int, help="CPU of tcpreplay and tcpdump")
	ap.add_argument("--server-cpu", type=int, help="CPU of the server (taskset)")
	ap.add_argument("--json", help="write the summary here")
	ap.add_argument("--keep", help="keep the capture and the replay record in DIR")
	ap.add_argument("--analyse", metavar="DIR", help="analyse what --keep kept")
	ap.add_argument("--timeline", action="store_true", help="print the timeline")
	args = ap.parse_args()
	if args.analyse:
		with open(os.path.join(args.analyse, "replay.json")) as f:
			rep = json.load(f)
		meta, queries = read_sidecar(rep["sidecar"])
		return report(args, analyse(meta, queries, rep))
	if not args.pcap or not args.server:
		ap.error("--pcap and --server (or --analyse)")
	if os.geteuid() != 0:
		raise SystemExit("flood_replay.py: run as root (network namespaces)")
	cleanup = Cleanup()
	summary = cleanup.call(run_cli, args, cleanup)
	if summary is None:
		return 1
	return report(args, summary)


def report(args, summary):
	print_summary(summary)
	if args.timeline:
		print_timeline(summary)
	if args.json:
		with open(args.json, "w") as f:
			json.dump(summary, f, indent=1, default=str)
	return 0


def run_cli(args, cleanup):
	sidecar = args.sidecar or os.path.splitext(args.pcap)[0] + ".jsonl"
	meta, queries = read_sidecar(sidecar)
	work = args.keep or tempfile.mkdtemp(prefix="bw-flood-")
	os.makedirs(work, exist_ok=True)
	if not args.keep:
		cleanup.dirs.append(work)
	link = Link(cleanup, meta).create()
	link.configure(args.mode)
	argv = ["ip", "netns", "exec", link.srv_ns] + taskset(args.server_cpu) + \
		shlex.split(args.server)
	logf = open(os.path.join(work, "server.log"), "w")
	srv = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT)
	cleanup.procs.append(srv)
	try:
		wait_ready(link, args.ready, proc=srv)
		poller = Poller(shlex.split(args.poll)) if args.poll else None
		rep = replay(link, args.pcap, work, cpu=args.gen_cpu, poller=poller,
			timeout=meta["duration"] * 3 + 60, queries=queries)
	finally:
		if srv.poll() is None:
			srv.send_signal(signal.SIGTERM)
			try:
				srv.wait(15)
			except subprocess.TimeoutExpired:
				srv.kill()
		logf.close()
	rep["sidecar"] = os.path.abspath(sidecar)
	if args.keep:
		with open(os.path.join(work, "replay.json"), "w") as f:
			json.dump(rep, f, default=str)
	return analyse(meta, queries, rep)


if __name__ == "__main__":
	sys.exit(main())
