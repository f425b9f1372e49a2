#!/usr/bin/python3
"""Integration test: zone swaps under load.

    swap_test.py --build BUILD [--seconds S] [--rate QPS] [--swaps N]

bulwarkd runs with `io dpdk` (net_af_packet, one worker) in namespace
bwsA<pid>, on one end of a veth pair whose other end is in namespace
bwsB<pid> (addresses from 192.0.2.0/24 only). The zone swap.test exists in
two versions, A (serial 1) and B (serial 2), that differ in every name the
test asks for; both are compiled to tables with bulwark-compile.

1. Reference answers: from namespace B every query template is sent once
   with A published, once with B published (zone-load). The answers are
   checked with dnspython (rcode, AA, serial, data) and kept as bytes; the
   A and B answer of every template must differ.
2. Load: a generator in namespace B (this file, --generator) sends UDP
   queries at a paced rate (--rate, default 10,000 q/s) for --seconds
   (default 60), each with a unique (source port, id): NSOCK sockets, query
   i goes out of socket i % NSOCK with id i // NSOCK. It records for each
   query the CLOCK_MONOTONIC time just before sendto() and just after the
   response was read, and which reference the response equals byte for
   byte (id aside): A, B, or none (a mix, garbage). It counts responses
   that match no query sent, or a query already answered.
3. Meanwhile the test (in the root namespace, same clock: time.monotonic)
   performs --swaps (1,000) zone-load swaps B, A, B, ... over the raw JSON
   line protocol of the control socket, paced over the run, each stamped
   just before the request and just after the reply.

Checks:
- every query sent is answered exactly once (no loss, no duplicate, no
  unmatched response), and the dataplane's counters (`stats`: udp.received,
  udp.sent, udp.answers, per worker too) grew by exactly the queries, plus
  the frames the stats account for otherwise (ARP/ND/echo, frames from and
  to the kernel); no drops;
- every response is byte-identical to the A or the B reference of its
  query (id aside): a complete answer of one version, never a mix. The
  templates make a mix visible: SOA, NODATA and NXDOMAIN answers carry the
  serial; onlya/onlyb are an answer in one version and NXDOMAIN with the
  other version's SOA in the other (rcode, flags and serial must agree);
  NS and CNAME answers hold version-specific data in two sections or two
  RRsets (glue, the CNAME target's address);
- ordering: the table that built a response was published at some moment
  in [send, receive] of the query. With req[k] / rep[k] the stamps of swap
  k (version V[k], V[-1] = A), K the last swap with rep[K] < send and J the
  last swap with req[J] < receive, the version must be one of V[K..J].
  When J == K (no swap started before the response came back, after K
  completed) that is exactly V[K]: a query sent after swap K's reply is
  answered from K's version. The stamps are conservative (send stamped
  before sendto, receive after recv, req before the request, rep after the
  reply), so the check never blames the server for the client's delays;
- every zone-load succeeds with the expected serial and previous_serial;
- RSS of bulwarkd (VmRSS) after all swaps within 5% of RSS after the first
  10 swaps;
- bulwarkd exits 0 on SIGTERM.

The test process and the generator keep off the worker's CPU (lcore 1)
when there is another CPU, and the AF_PACKET ring holds 4,096 frames
(the PMD's default is 512), so that a worker descheduled for a while on a
busy machine delays answers instead of losing queries. The generator
sustains about 25k q/s on a 2-CPU machine without loss; 10k q/s leaves a
margin. meson runs it with --seconds 20 (1,000 swaps every 18 ms; about
23 s in all); the default 60 s takes about 62 s.

Everything started (namespaces, veth, bulwarkd, generator, files, the EAL
runtime directory) is removed in every case (finally, atexit, signals).
"""

import argparse
import array
import bisect
import functools
import json
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dpdk_util  # noqa: E402
from dpdk_util import (Cleanup, TestFailure, check, unready,  # noqa: E402
	veth_pair, veth_up)

PID = os.getpid()
NS_A = "bwsA%d" % PID
NS_B = "bwsB%d" % PID
VETH_A = "sa%d" % PID            # interface names are at most 15 octets
VETH_B = "sb%d" % PID
SRV4, CLI4 = "192.0.2.53", "192.0.2.1"
ORIGIN = "swap.test."
RSS_TOLERANCE = 0.05
WARMUP_SWAPS = 10
LEAD = 1.0                       # seconds of load before the first swap
TAIL = 1.0                       # and after the last one
DRAIN = 2.0                      # the generator waits this long for stragglers
WORKER_LCORE = 1                 # the worker's lcore (= CPU); the EAL's main one is 0
RING_FRAMES = 4096               # AF_PACKET ring (PMD default 512): ~0.4 s of
                                 # queries at 10k q/s if the worker is descheduled

VERSIONS = ("A", "B")
SERIAL = {"A": 1, "B": 2}
NNAMES = 32                      # n0 ... n31: different A records per version


# ---- The zone and the queries. ----

def zone_text(v):
	"""Version v ("A" or "B"): every name the test asks for differs."""
	b = v == "B"
	lines = [
		"$ORIGIN %s" % ORIGIN,
		"$TTL 300",
		"@ SOA ns1 hostmaster %d 7200 3600 1209600 300" % SERIAL[v],
		"@ NS ns1",
		"ns1 A %s" % ("192.0.2.20" if b else "192.0.2.10"),
		"v A %s" % ("192.0.2.2" if b else "192.0.2.1"),
		'v TXT "version %s"' % v,
		"c CNAME v",
		"%s A 192.0.2.%d" % ("onlyb" if b else "onlya", 4 if b else 3),
	]
	for i in range(NNAMES):
		lines.append("n%d A 198.51.100.%d" % (i, 100 + i if b else i))
	return "\n".join(lines) + "\n"


def templates():
	"""(qname, qtype, edns) of each query template."""
	t = [
		("swap.test.", "SOA", False),    # the serial
		("swap.test.", "SOA", True),
		("swap.test.", "NS", False),     # NS + glue
		("v.swap.test.", "A", False),
		("v.swap.test.", "A", True),
		("v.swap.test.", "TXT", False),
		("v.swap.test.", "AAAA", False),  # NODATA + SOA (serial)
		("c.swap.test.", "A", False),     # CNAME + A
		("onlya.swap.test.", "A", False),  # A: answer; B: NXDOMAIN + SOA
		("onlyb.swap.test.", "A", False),  # the other way round
		("nope.swap.test.", "A", False),  # NXDOMAIN + SOA (serial)
		("nope.swap.test.", "TXT", True),
	]
	for i in range(NNAMES):
		t.append(("n%d.swap.test." % i, "A", False))
	return t


def expected(v, qname, qtype):
	"""(rcode, [(section, owner, type, rdata text)]) for version v, the
	sections that must hold them (other records are allowed only as the
	reference shows them: the test compares bytes after this check)."""
	b = v == "B"
	soa = ("authority", "swap.test.", "SOA",
		"ns1.swap.test. hostmaster.swap.test. %d 7200 3600 1209600 300" % SERIAL[v])
	glue = "192.0.2.20" if b else "192.0.2.10"
	vaddr = "192.0.2.2" if b else "192.0.2.1"
	if qname == "swap.test." and qtype == "SOA":
		return "NOERROR", [("answer",) + soa[1:]]
	if qname == "swap.test." and qtype == "NS":
		return "NOERROR", [("answer", "swap.test.", "NS", "ns1.swap.test."),
			("additional", "ns1.swap.test.", "A", glue)]
	if qname == "v.swap.test." and qtype == "A":
		return "NOERROR", [("answer", qname, "A", vaddr)]
	if qname == "v.swap.test." and qtype == "TXT":
		return "NOERROR", [("answer", qname, "TXT", '"version %s"' % v)]
	if qname == "v.swap.test." and qtype == "AAAA":
		return "NOERROR", [soa]
	if qname == "c.swap.test.":
		return "NOERROR", [("answer", qname, "CNAME", "v.swap.test."),
			("answer", "v.swap.test.", "A", vaddr)]
	if qname == "onlya.swap.test.":
		return ("NXDOMAIN", [soa]) if b else ("NOERROR",
			[("answer", qname, "A", "192.0.2.3")])
	if qname == "onlyb.swap.test.":
		return ("NOERROR", [("answer", qname, "A", "192.0.2.4")]) if b else \
			("NXDOMAIN", [soa])
	if qname.startswith("nope."):
		return "NXDOMAIN", [soa]
	if qname.startswith("n"):
		i = int(qname.split(".")[0][1:])
		return "NOERROR", [("answer", qname, "A", "198.51.100.%d" %
			(100 + i if b else i))]
	raise ValueError(qname)


def query_wire(qname, qtype, edns):
	"""The query with id 0 (the generator writes the id)."""
	import dns.message
	q = dns.message.make_query(qname, qtype, use_edns=0 if edns else False,
		payload=1232)
	q.id = 0
	q.flags &= ~0x0100       # RD=0, as an authoritative server is asked
	return q.to_wire()


def check_reference(v, tmpl, wire):
	"""The reference answer of version v to a template: what it must be."""
	import dns.flags
	import dns.message
	import dns.rcode
	qname, qtype, edns = tmpl
	r = dns.message.from_wire(wire)
	rcode, rrs = expected(v, qname, qtype)
	what = "version %s, %s %s%s" % (v, qname, qtype, " +edns" if edns else "")
	check(dns.rcode.to_text(r.rcode()) == rcode, "%s: rcode %s, expected %s:\n%s"
		% (what, dns.rcode.to_text(r.rcode()), rcode, r))
	check(r.flags & dns.flags.AA, "%s: AA not set:\n%s" % (what, r))
	check(not r.flags & dns.flags.TC, "%s: TC set:\n%s" % (what, r))
	check(len(r.question) == 1 and r.question[0].name.to_text() == qname,
		"%s: question %s" % (what, r.question))
	check((r.edns >= 0) == edns, "%s: EDNS %d in the answer" % (what, r.edns))
	have = set()
	for sec in ("answer", "authority", "additional"):
		for rrset in getattr(r, sec):
			for rd in rrset:
				have.add((sec, rrset.name.to_text(), dns.rdatatype.to_text(
					rrset.rdtype), rd.to_text()))
	for e in rrs:
		check(e in have, "%s: %s missing from the answer:\n%s" % (what, e, r))
	# Nothing of the other version, nor a second SOA/serial.
	other = VERSIONS[1 - VERSIONS.index(v)]
	for e in expected(other, qname, qtype)[1]:
		check(e not in have or e in rrs, "%s: holds %s of version %s:\n%s" %
			(what, e, other, r))
	return r


# ---- The generator (runs inside namespace B: --generator). ----

def open_sockets(n, rcvbuf=8 << 20):
	socks = []
	for _ in range(n):
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		try:
			s.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)     # SO_RCVBUFFORCE
		except OSError:
			s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
		s.bind((CLI4, 0))
		s.setblocking(False)
		socks.append(s)
	return socks


def gen_reference(server, spec):
	"""Sends each template once (one at a time); prints the answers (hex)."""
	tmpls = [bytes.fromhex(x) for x in spec["queries"]]
	s = open_sockets(1)[0]
	s.setblocking(True)
	s.settimeout(2.0)
	out = []
	for i, w in enumerate(tmpls):
		qid = 0x1000 + i
		s.sendto(struct.pack("!H", qid) + w[2:], (server, 53))
		while True:
			try:
				data = s.recv(65535)
			except socket.timeout:
				data = None
				break
			if len(data) >= 2 and struct.unpack("!H", data[:2])[0] == qid:
				break
		out.append(None if data is None else (b"\0\0" + data[2:]).hex())
	print(json.dumps({"answers": out}))
	sys.stdout.flush()


def generator(server, spec):
	"""The paced load; see the module's docstring. Reads its parameters
	from the JSON spec; prints "start T0" when it begins, then one JSON
	summary line; writes the per-query records to spec["out"]."""
	rate = float(spec["rate"])
	seconds = float(spec["seconds"])
	total = int(rate * seconds)
	tq = [bytes.fromhex(x)[2:] for x in spec["queries"]]
	refs = [(bytes.fromhex(a)[2:], bytes.fromhex(b)[2:]) for a, b in spec["refs"]]
	nt = len(tq)
	nsock = total // 65536 + 1
	socks = open_sockets(nsock)
	fds = {s.fileno(): k for k, s in enumerate(socks)}
	ep = select.epoll()
	for s in socks:
		ep.register(s.fileno(), select.EPOLLIN)
	dest = (server, 53)
	tsend = array.array("d", bytes(8 * total))
	trecv = array.array("d", bytes(8 * total))
	ver = array.array("b", b"\xff" * total)    # -1 none, 0 A, 1 B, 2 neither
	bad = []
	nbad = unmatched = dup = send_err = late_sends = 0
	answered = 0
	max_lag = 0.0
	mono = time.monotonic
	pack = struct.Struct("!H").pack
	unpack = struct.Struct("!H").unpack_from

	def drain(fd):
		nonlocal answered, nbad, unmatched, dup
		k = fds[fd]
		s = socks[k]
		while True:
			try:
				data, src = s.recvfrom(4096)
			except BlockingIOError:
				return
			t = mono()
			if len(data) < 12 or src != dest:
				unmatched += 1
				continue
			i = unpack(data, 0)[0] * nsock + k
			if i >= sent:
				unmatched += 1
				continue
			if trecv[i] != 0.0:
				dup += 1
				continue
			trecv[i] = t
			answered += 1
			body = data[2:]
			a, b = refs[i % nt]
			if body == a:
				ver[i] = 0
			elif body == b:
				ver[i] = 1
			else:
				ver[i] = 2
				nbad += 1
				if len(bad) < 5:
					bad.append({"query": i, "template": i % nt, "answer": data.hex()})

	sent = 0
	t0 = mono() + 0.05
	print("start %.9f" % t0)
	sys.stdout.flush()
	while True:
		now = mono()
		if sent < total:
			due = min(total, int((now - t0) * rate) + 1)
			if due > sent:
				# How late the first query of this burst leaves.
				lag = now - (t0 + sent / rate)
				if lag > max_lag:
					max_lag = lag
				if lag > 0.001:
					late_sends += 1
			n = 0
			while sent < due and n < 64:
				i = sent
				k = i % nsock
				t = mono()
				try:
					socks[k].sendto(pack((i // nsock) & 0xffff) + tq[i % nt], dest)
				except OSError:
					send_err += 1
					t = 0.0
				tsend[i] = t
				sent += 1
				n += 1
			if sent < total:
				timeout = max(0.0, t0 + sent / rate - mono())
			else:
				t_end = mono()
				timeout = 0.01
		else:
			if answered >= total or mono() - t_end > DRAIN:
				break
			timeout = 0.01
		for fd, _ev in ep.poll(timeout):
			drain(fd)
	elapsed = t_end - t0
	with open(spec["out"], "wb") as f:
		tsend.tofile(f)
		trecv.tofile(f)
		ver.tofile(f)
	print(json.dumps({"sent": sent - send_err, "send_errors": send_err,
		"answered": answered, "lost": sent - send_err - answered, "dup": dup,
		"unmatched": unmatched, "neither": nbad, "bad": bad, "nsock": nsock,
		"elapsed": elapsed, "rate": sent / elapsed if elapsed > 0 else 0,
		"max_lag": max_lag, "late_bursts": late_sends}))
	sys.stdout.flush()


CLEANUP = Cleanup()


# ---- Helpers. ----

run = functools.partial(dpdk_util.run, timeout=30)
ns = functools.partial(dpdk_util.ns, timeout=30)


def setup_network():
	veth_pair(CLEANUP, NS_A, VETH_A, NS_B, VETH_B, timeout=30)
	# No IPv6 anywhere: no neighbour discovery, MLD or router solicitations
	# on the link while the test counts frames.
	ns(NS_B, ["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
		"net.ipv6.conf.default.disable_ipv6=1"])
	ns(NS_A, ["sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1"])
	# AF_PACKET leaves the kernel of namespace A every frame; keep its
	# stack off the veth (see dpdk_veth_test.py, kernel_stack_on_veth).
	ns(NS_A, ["sysctl", "-q", "-w", "net.ipv4.conf.%s.rp_filter=1" % VETH_A,
		"net.ipv6.conf.%s.disable_ipv6=1" % VETH_A])
	mac = veth_up(NS_A, VETH_A, NS_B, VETH_B, [CLI4 + "/24"], timeout=30)
	# A permanent neighbour entry: no ARP refresh in the middle of the run.
	run(["ip", "-n", NS_B, "neigh", "replace", SRV4, "lladdr", mac, "dev",
		VETH_B, "nud", "permanent"])
	return mac


def conf_text(zdir, ctl, table, prefix):
	from dpdk_util import eal_args
	return """options {
	directory "%s";
	control-socket "%s";
	pid-file none;
};
dataplane {
	io dpdk;
	eal-args "%s";
	port "net_af_packet0,iface=%s,framecnt=%d" { address %s/24; };
	workers %d-%d;
};
zone "%s" { table "%s"; };
""" % (zdir, ctl, eal_args(prefix, lcores="0,%d" % WORKER_LCORE), VETH_A,
		RING_FRAMES, SRV4, WORKER_LCORE, WORKER_LCORE, ORIGIN.rstrip("."), table)


def off_worker_cpu():
	"""Keeps the calling thread (and what it starts) off the worker's CPU
	when there is another one: the worker polls, and every slice that
	another task takes from it delays answers and RCU grace periods."""
	cpus = os.sched_getaffinity(0) - {WORKER_LCORE}
	if cpus:
		os.sched_setaffinity(0, cpus)


class Ctl:
	"""The control socket, raw JSON lines, one connection (re-opened when
	it sat idle: the daemon closes connections idle for 10 s)."""

	def __init__(self, path):
		self.path = path
		self.sock = None
		self.buf = b""
		self.last = 0.0

	def connect(self):
		self.close()
		self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		self.sock.settimeout(30)
		self.sock.connect(self.path)
		self.buf = b""

	def close(self):
		if self.sock is not None:
			self.sock.close()
			self.sock = None

	def request(self, command, args=None, stamps=False):
		"""The reply (a dict); with stamps, (reply, t_request, t_reply)."""
		if self.sock is None or time.monotonic() - self.last > 5:
			self.connect()
		req = {"version": 1, "command": command}
		if args is not None:
			req["args"] = args
		line = (json.dumps(req) + "\n").encode()
		t_req = time.monotonic()
		self.sock.sendall(line)
		while b"\n" not in self.buf:
			chunk = self.sock.recv(1 << 20)
			if not chunk:
				raise TestFailure("control socket closed during %s" % command)
			self.buf += chunk
		t_rep = time.monotonic()
		self.last = t_rep
		line, self.buf = self.buf.split(b"\n", 1)
		reply = json.loads(line)
		return (reply, t_req, t_rep) if stamps else reply

	def ok(self, command, args=None):
		reply = self.request(command, args)
		check(reply.get("ok") is True, "%s %s: %s" % (command, args, reply))
		return reply["result"]


def vm_rss(pid):
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			if line.startswith("VmRSS:"):
				return int(line.split()[1])     # kB
	raise TestFailure("no VmRSS for pid %d" % pid)


def open_fds(pid):
	return len(os.listdir("/proc/%d/fd" % pid))


def table_maps(pid, tables):
	"""Mappings of each table file in bulwarkd (one while it is published)."""
	n = {v: 0 for v in tables}
	with open("/proc/%d/maps" % pid) as f:
		for line in f:
			for v, path in tables.items():
				if line.rstrip().endswith(path):
					n[v] += 1
	return n


def kernel_counters():
	"""Where the kernel drops datagrams: UDP in namespace B, the veth ends."""
	c = {}
	snmp = ns(NS_B, ["cat", "/proc/net/snmp"]).stdout.splitlines()
	for a, b in zip(snmp, snmp[1:]):
		if a.startswith("Udp:") and b.startswith("Udp:"):
			for k, v in zip(a.split()[1:], b.split()[1:]):
				if k in ("InErrors", "RcvbufErrors", "SndbufErrors", "NoPorts"):
					c["udp." + k] = int(v)
			break
	for n, dev in ((NS_A, VETH_A), (NS_B, VETH_B)):
		info = json.loads(run(["ip", "-n", n, "-s", "-j", "link", "show", "dev",
			dev]).stdout)[0]["stats64"]
		for d in ("rx", "tx"):
			for k in ("dropped", "errors", "packets"):
				c["%s.%s_%s" % (dev, d, k)] = info[d][k]
	return c


def percentile(v, p):
	s = sorted(v)
	if not s:
		return float("nan")
	return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def generator_argv(mode, spec_path):
	return ["ip", "netns", "exec", NS_B, "/usr/bin/python3",
		os.path.abspath(__file__), mode, SRV4, spec_path]


def references(tmp, queries):
	"""Each template's answer from the version published now (hex)."""
	spec = os.path.join(tmp, "ref.json")
	with open(spec, "w") as f:
		json.dump({"queries": queries}, f)
	done = run(generator_argv("--reference", spec), timeout=120)
	return json.loads(done.stdout.strip().splitlines()[-1])["answers"]


# ---- The test. ----

def frame_accounting(st0, st1, tel0, tel1):
	"""Deltas of the dataplane's counters between two `stats` results."""
	u0, u1 = st0["udp"], st1["udp"]
	d = {k: u1[k] - u0[k] for k in ("received", "sent", "answers", "arp", "nd",
		"echo", "tc")}
	d["drop"] = {k: u1["drop"][k] - u0["drop"].get(k, 0) for k in u1["drop"]}
	d["exception"] = {k: u1["exception"][k] - u0["exception"].get(k, 0)
		for k in u1["exception"]}
	d["exception_tx"] = tel1["exception_tx"] - tel0["exception_tx"]
	d["workers"] = [{k: w1[k] - w0[k] for k in ("received", "sent", "answers")}
		for w0, w1 in zip(st0["workers"], st1["workers"])]
	return d


def analyse(out_path, total, swaps, queries_per_t):
	"""Per-query checks against the swap stamps; returns a summary."""
	with open(out_path, "rb") as f:
		tsend = array.array("d")
		tsend.fromfile(f, total)
		trecv = array.array("d")
		trecv.fromfile(f, total)
		ver = array.array("b")
		ver.fromfile(f, total)
	req = [s["t_req"] for s in swaps]
	rep = [s["t_rep"] for s in swaps]
	vidx = [VERSIONS.index(s["version"]) for s in swaps]
	initial = 0                           # version A before the first swap
	covered = [0] * len(swaps)            # strictly ordered queries per swap
	strict = loose = 0
	wrong = []
	nwrong = 0
	after_reply = 0
	counts = [0, 0]
	rtts = []
	for i in range(total):
		v = ver[i]
		if v < 0 or v > 1:
			continue
		counts[v] += 1
		s, r = tsend[i], trecv[i]
		if i % 97 == 0:
			rtts.append(r - s)
		k = bisect.bisect_left(rep, s) - 1     # last swap with rep[k] < s
		j = bisect.bisect_left(req, r) - 1     # last swap with req[j] < r
		vk = vidx[k] if k >= 0 else initial
		if k >= 0:
			after_reply += 1
		if j == k:
			strict += 1
			if k >= 0:
				covered[k] += 1
			if v != vk:
				nwrong += 1
				if len(wrong) < 5:
					wrong.append("query %d (%s) sent %.6f, answered %.6f: version %s; "
						"swap %d (to %s) replied at %.6f, swap %d requested at %s" % (
						i, queries_per_t[i % len(queries_per_t)], s, r, VERSIONS[v], k,
						VERSIONS[vk], rep[k] if k >= 0 else float("nan"), k + 1,
						"%.6f" % req[k + 1] if k + 1 < len(req) else "never"))
		else:
			loose += 1                  # V[k] and V[k+1] are both possible
	return {"strict": strict, "loose": loose, "wrong": nwrong, "wrong_examples": wrong,
		"after_reply": after_reply, "A": counts[0], "B": counts[1],
		"covered": sum(1 for c in covered if c > 0),
		"covered_min": min(covered) if covered else 0,
		"rtt_median": percentile(rtts, 50), "rtt_p99": percentile(rtts, 99),
		"rtt_max": max(rtts) if rtts else float("nan")}


def describe(hexwire):
	try:
		import dns.message
		return str(dns.message.from_wire(bytes.fromhex(hexwire)))
	except Exception as e:  # noqa: BLE001
		return "unparsable (%s): %s" % (e, hexwire)


def main_test(args):
	from dpdk_util import compile_zone

	build = os.path.abspath(args.build)
	t_begin = time.monotonic()
	res = {}
	tmp = tempfile.mkdtemp(prefix="bw-swap-")
	CLEANUP.dirs.append(tmp)
	os.chmod(tmp, 0o755)
	tables = {}
	for v in VERSIONS:
		zf = os.path.join(tmp, "swap.test.%s.zone" % v)
		with open(zf, "w") as f:
			f.write(zone_text(v))
		tables[v] = compile_zone(build, zf, ORIGIN, os.path.join(tmp,
			"swap.test.%s.bwz" % v))

	mac = setup_network()
	prefix = "bwswap%d" % PID
	ctl_path = os.path.join(tmp, "ctl.sock")
	srv = CLEANUP.server(build, conf_text(tmp, ctl_path, tables["A"], prefix), prefix,
		netns=NS_A)
	try:
		srv.start()
	except RuntimeError as e:
		raise TestFailure("bulwarkd did not start: %s" % e)
	off_worker_cpu()       # after bulwarkd started: it pins its own threads
	try:
		res.update(exercise(args, srv, ctl_path, tables, tmp, mac))
	except BaseException:
		srv.stop()
		print("---- bulwarkd log (last lines) ----\n%s\n----" %
			"\n".join(srv.log.splitlines()[-60:]), file=sys.stderr)
		raise
	rc = srv.stop()
	check(rc == 0, "bulwarkd exited with %s on SIGTERM:\n%s" % (rc,
		"\n".join(srv.log.splitlines()[-40:])))
	res["total_time"] = time.monotonic() - t_begin
	return res


def exercise(args, srv, ctl_path, tables, tmp, mac):
	res = {}
	log = srv.read_log()
	check(mac in log.lower(),
		"port MAC is not the veth's %s:\n%s" % (mac, log[-2000:]))
	ctl = Ctl(ctl_path)
	status = ctl.ok("status")
	pid = status["pid"]
	check(status["io"] == "dpdk" and status["workers"] == 1,
		"status: %s" % status)
	check(os.path.exists("/proc/%d" % pid), "status pid %d: no such process" % pid)

	# 1. References.
	tl = templates()
	queries = [query_wire(*t).hex() for t in tl]
	refs = {}
	t = time.monotonic()
	for v in ("A", "B"):
		if v == "B":
			r = ctl.ok("zone-load", {"zone": ORIGIN, "table": tables["B"]})
			check(r["serial"] == SERIAL["B"], "zone-load B: %s" % r)
		answers = references(tmp, queries)
		for tmpl, a in zip(tl, answers):
			check(a is not None, "version %s: no answer to %s" % (v, tmpl))
			check_reference(v, tmpl, bytes.fromhex(a))
		refs[v] = answers
	for tmpl, a, b in zip(tl, refs["A"], refs["B"]):
		check(a != b, "%s: the same answer in versions A and B" % (tmpl,))
	r = ctl.ok("zone-load", {"zone": ORIGIN, "table": tables["A"]})
	check(r["serial"] == SERIAL["A"] and r["previous_serial"] == SERIAL["B"],
		"zone-load A: %s" % r)
	check(references(tmp, queries) == refs["A"], "the answers of version A "
		"changed after a swap to B and back")
	res["ref_time"] = time.monotonic() - t

	# 2. + 3. Load and swaps.
	total = int(args.rate * args.seconds)
	span = args.seconds - LEAD - TAIL
	check(span > 0, "--seconds too short")
	interval = span / args.swaps
	spec_path = os.path.join(tmp, "gen.json")
	out_path = os.path.join(tmp, "gen.out")
	with open(spec_path, "w") as f:
		json.dump({"rate": args.rate, "seconds": args.seconds, "queries": queries,
			"refs": list(zip(refs["A"], refs["B"])), "out": out_path}, f)
	st0 = ctl.ok("stats")
	tel0 = srv.stats()
	kc0 = kernel_counters()
	ports0 = srv.telemetry("/bulwark/ports")
	gen = subprocess.Popen(generator_argv("--generator", spec_path),
		stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
	CLEANUP.procs.append(gen)
	line = gen.stdout.readline()
	if not line.startswith("start "):
		gen.kill()
		raise TestFailure("generator did not start: %s%s" % (line,
			gen.communicate(timeout=10)[1]))
	t0 = float(line.split()[1])
	swaps = []
	rss = {}
	late = 0
	for k in range(args.swaps):
		at = t0 + LEAD + k * interval
		now = time.monotonic()
		if at > now:
			time.sleep(at - now)

		elif now - at > interval:
			late += 1
		v = "B" if k % 2 == 0 else "A"
		reply, t_req, t_rep = ctl.request("zone-load", {"zone": ORIGIN,
			"table": tables[v]}, stamps=True)
		swaps.append({"version": v, "t_req": t_req, "t_rep": t_rep,
			"reply": reply})
		check(reply.get("ok") is True, "swap %d (to %s): %s" % (k, v, reply))
		rr = reply["result"]
		prev = "A" if v == "B" else "B"
		check(rr["serial"] == SERIAL[v] and rr["previous_serial"] == SERIAL[prev],
			"swap %d (to %s): serial %s, previous_serial %s" % (k, v, rr["serial"],
			rr["previous_serial"]))
		if k + 1 == WARMUP_SWAPS:
			rss["warm"] = vm_rss(pid)
			rss["warm_fds"] = open_fds(pid)
			rss["warm_maps"] = table_maps(pid, tables)
		if gen.poll() is not None:
			raise TestFailure("the generator ended (%s) during swap %d: %s" % (
				gen.returncode, k, gen.stderr.read()))
	rss["end"] = vm_rss(pid)
	rss["end_fds"] = open_fds(pid)
	rss["end_maps"] = table_maps(pid, tables)
	t_swaps_end = time.monotonic()
	check(t_swaps_end < t0 + args.seconds, "%d swaps did not fit in %.0f s of load "
		"(the last ended %.1f s after the start)" % (args.swaps, args.seconds,
		t_swaps_end - t0))
	try:
		out, err = gen.communicate(timeout=args.seconds + 60)
	except subprocess.TimeoutExpired:
		raise TestFailure("the generator did not end")
	check(gen.returncode == 0, "generator failed (%d):\n%s" % (gen.returncode, err))
	g = json.loads(out.strip().splitlines()[-1])
	res["gen"] = g
	# Counters: wait until every response has left (they have: the
	# generator got them) and the kernel's frames are sent.
	time.sleep(0.2)
	for _ in range(20):
		st1 = ctl.ok("stats")
		tel1 = srv.stats()
		d = frame_accounting(st0, st1, tel0, tel1)
		if d["received"] == d["answers"] + d["arp"] + d["nd"] + d["echo"] + \
				sum(d["drop"].values()) + sum(d["exception"].values()):
			break
		time.sleep(0.1)
	ports1 = srv.telemetry("/bulwark/ports")
	kc1 = kernel_counters()
	res["kernel"] = {k: kc1[k] - kc0[k] for k in kc1}
	res["stats"] = d
	p0, p1 = list(ports0.values())[0], list(ports1.values())[0]
	res["port"] = {k: p1[k] - p0[k] for k in p1 if isinstance(p1[k], int)
		and isinstance(p0.get(k), int)}
	res["rss"] = rss
	lat = [s["t_rep"] - s["t_req"] for s in swaps]
	pub = [s["reply"]["result"]["publish_seconds"] for s in swaps]
	ver_s = [s["reply"]["result"]["verify_seconds"] for s in swaps]
	slow = sorted(range(len(swaps)), key=lambda k: lat[k])[-5:]
	res["slowest"] = ["#%d %.1f ms (verify %.3f, publish %.3f)" % (k, lat[k] * 1000,
		ver_s[k] * 1000, pub[k] * 1000) for k in reversed(slow)]
	res["swaps"] = {"n": len(swaps), "median": percentile(lat, 50),
		"p99": percentile(lat, 99), "max": max(lat), "late": late,
		"publish_median": percentile(pub, 50), "publish_p99": percentile(pub, 99),
		"verify_median": percentile(ver_s, 50), "interval": interval,
		"span": swaps[-1]["t_rep"] - swaps[0]["t_req"]}
	a = analyse(out_path, total, swaps, ["%s %s%s" % (q, t, " +edns" if e
		else "") for q, t, e in tl])
	res["order"] = a

	# The checks, the most telling first.
	problems = []
	if g["neither"]:
		problems.append("%d responses are neither the A nor the B answer of "
			"their query (a mix or garbage); the first:\n%s" % (g["neither"],
			"\n".join("query %d, template %s:\n%s" % (b["query"], tl[b["template"]],
			describe(b["answer"])) for b in g["bad"][:3])))
	if a["wrong"]:
		problems.append("%d responses (of %d strictly ordered) came from the "
			"version before the last completed swap:\n%s" % (a["wrong"],
			a["strict"], "\n".join(a["wrong_examples"])))
	if g["send_errors"]:
		problems.append("generator: %d sendto() errors" % g["send_errors"])
	ring_lost = res["kernel"]["%s.rx_packets" % VETH_A] - res["port"].get("ipackets", 0)
	if ring_lost > 0:
		problems.append("%d frames reached %s but not the DPDK port: lost in the "
			"AF_PACKET receive ring (%d frames), which the PMD does not count "
			"(port imissed %d): the worker did not poll for too long" % (ring_lost,
			VETH_A, RING_FRAMES, res["port"].get("imissed", 0)))
	if g["lost"] or g["dup"] or g["unmatched"]:
		problems.append("generator: %d sent, %d answered, %d lost, %d duplicate, "
			"%d unmatched responses (kernel counters: %s; port: %s; the generator's "
			"sends were up to %.1f ms late)" % (g["sent"], g["answered"], g["lost"],
			g["dup"], g["unmatched"], res["kernel"], res["port"], g["max_lag"] * 1000))
	if g["sent"] != total:
		problems.append("generator sent %d of %d queries" % (g["sent"], total))
	other_rx = d["arp"] + d["nd"] + d["echo"] + sum(d["drop"].values()) + \
		sum(d["exception"].values())
	if d["answers"] != g["sent"]:
		problems.append("dataplane: %d answers for %d queries sent" % (d["answers"],
			g["sent"]))
	if d["received"] != d["answers"] + other_rx:
		problems.append("dataplane: %d frames received, %d answers + %d other "
			"(%s)" % (d["received"], d["answers"], other_rx, d))
	if d["sent"] != d["answers"] + d["arp"] + d["nd"] + d["echo"] + d["exception_tx"]:
		problems.append("dataplane: %d frames sent, %d answers + %d arp/nd/echo + "
			"%d from the kernel" % (d["sent"], d["answers"], d["arp"] + d["nd"] +
			d["echo"], d["exception_tx"]))
	if any(d["drop"].values()):
		problems.append("dataplane drops: %s" % {k: v for k, v in d["drop"].items()
			if v})
	for w in d["workers"]:
		if w["answers"] != d["answers"]:
			problems.append("worker counters %s, total answers %d" % (w,
				d["answers"]))
	if rss["end"] > rss["warm"] * (1 + RSS_TOLERANCE) or \
			rss["end"] < rss["warm"] * (1 - RSS_TOLERANCE):
		problems.append("VmRSS %d kB after %d swaps, %d kB after %d (more than "
			"%.0f%% apart)" % (rss["end"], args.swaps, rss["warm"], WARMUP_SWAPS,
			RSS_TOLERANCE * 100))
	if rss["end_fds"] != rss["warm_fds"]:
		problems.append("bulwarkd has %d open files after %d swaps, %d after %d" %
			(rss["end_fds"], args.swaps, rss["warm_fds"], WARMUP_SWAPS))
	want = {"A": 1, "B": 0} if args.swaps % 2 == 0 else {"A": 0, "B": 1}
	if rss["end_maps"] != want:
		problems.append("table mappings after %d swaps: %s, expected %s (only the "
			"published table)" % (args.swaps, rss["end_maps"], want))
	if a["covered"] < len(swaps) // 2:
		problems.append("only %d of %d swaps were followed by a query that was "
			"sent after the swap's reply and answered before the next swap began: "
			"the ordering check says too little (raise --seconds or --rate)" %
			(a["covered"], len(swaps)))
	res["problems"] = problems
	return res


def report(args, res):
	g, s, a, d = res["gen"], res["swaps"], res["order"], res["stats"]
	print("load: %d queries in %.1f s (%.0f q/s paced at %.0f, %d sockets, max "
		"send lag %.1f ms): %d answered, %d lost, %d duplicate, %d unmatched; "
		"rtt median %.3f ms, p99 %.3f ms, max %.3f ms" % (g["sent"], g["elapsed"],
		g["rate"], args.rate, g["nsock"], g["max_lag"] * 1000, g["answered"],
		g["lost"], g["dup"], g["unmatched"], a["rtt_median"] * 1000,
		a["rtt_p99"] * 1000, a["rtt_max"] * 1000))
	print("versions: %d answers from A, %d from B, %d neither; %d ordered "
		"strictly (%d wrong), %d overlapping a swap (both allowed); %d sent after "
		"a swap's reply; %d of %d swaps checked strictly by a query after them" % (
		a["A"], a["B"], g["neither"], a["strict"], a["wrong"], a["loose"],
		a["after_reply"], a["covered"], s["n"]))
	print("swaps: %d zone-loads every %.1f ms over %.1f s, client latency median "
		"%.3f ms, p99 %.3f ms, max %.3f ms (server: verify median %.3f ms, "
		"publish median %.3f ms, p99 %.3f ms); %d started late" % (s["n"],
		s["interval"] * 1000, s["span"], s["median"] * 1000, s["p99"] * 1000,
		s["max"] * 1000, s["verify_median"] * 1000, s["publish_median"] * 1000,
		s["publish_p99"] * 1000, s["late"]))
	print("slowest swaps: %s" % ", ".join(res["slowest"]))
	print("dataplane: received %d, sent %d, answers %d, arp %d, nd %d, echo %d, "
		"from the kernel %d, drops %s, exceptions %s; port %s" % (d["received"],
		d["sent"], d["answers"], d["arp"], d["nd"], d["echo"], d["exception_tx"],
		{k: v for k, v in d["drop"].items() if v} or "none",
		{k: v for k, v in d["exception"].items() if v} or "none",
		{k: v for k, v in res["port"].items() if v}))
	print("kernel: %s" % ({k: v for k, v in res["kernel"].items() if v and not
		k.endswith("packets")} or "no drops or errors"))
	r = res["rss"]
	print("rss: %d kB after %d swaps, %d kB after %d (%+.2f%%); open files %d / %d; "
		"table mappings %s / %s" % (r["warm"], WARMUP_SWAPS, r["end"], s["n"],
		100.0 * (r["end"] - r["warm"]) / r["warm"], r["warm_fds"], r["end_fds"],
		r["warm_maps"], r["end_maps"]))


def main():
	if len(sys.argv) == 4 and sys.argv[1] in ("--generator", "--reference"):
		with open(sys.argv[3]) as f:
			spec = json.load(f)
		(generator if sys.argv[1] == "--generator" else gen_reference)(sys.argv[2],
			spec)
		return 0
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--build", required=True, help="meson build directory")
	ap.add_argument("--seconds", type=float, default=60.0,
		help="length of the load (default 60)")
	ap.add_argument("--rate", type=float, default=10000.0,
		help="queries per second (default 10000)")
	ap.add_argument("--swaps", type=int, default=1000,
		help="zone-load swaps during the load (default 1000)")
	args = ap.parse_args()
	check_args = args.swaps >= WARMUP_SWAPS + 1 and args.rate > 0
	if not check_args:
		ap.error("--swaps must be > %d, --rate > 0" % WARMUP_SWAPS)
	build = os.path.abspath(args.build)
	why = unready(build, [("controlplane", "bulwarkd"),
		("zonecomp", "cli", "bulwark-compile")])
	if why is not None:
		print("FAIL: %s" % why)
		return 2

	res = CLEANUP.call(main_test, args)
	if res is None:
		return 1
	report(args, res)
	if res["problems"]:
		for p in res["problems"]:
			print("FAIL: %s" % p)
		return 1
	print("PASS in %.1f s" % res["total_time"])
	return 0


if __name__ == "__main__":
	sys.exit(main())
