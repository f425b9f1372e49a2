#!/usr/bin/python3
"""Integration test: bulwarkd with `io dpdk` on a veth pair between two
network namespaces, queried by the kernel's ordinary clients.

    dpdk_veth_test.py --build BUILD [--modes af_packet,af_xdp]

Creates namespaces bwvA<pid> and bwvB<pid> joined by a veth pair (addresses
from 192.0.2.0/24 and 2001:db8::/32 only). For each mode bulwarkd runs in
namespace A on its end of the pair (net_af_packet0 or net_af_xdp0), with
the exception TAP that lets the kernel's TCP listener serve the same
addresses. From namespace B, after flushing the neighbour caches (so that
192.0.2.53 is resolved by ARP and 2001:db8::53 by NDP, both answered by the
DPDK worker):

- dig and kdig over UDP, IPv4 and IPv6: A, AAAA, NXDOMAIN (with the SOA),
  a referral with glue;
- dig +tcp and kdig +tcp over IPv4 and IPv6 (the TAP and the kernel's TCP
  listener): the same answers as over UDP, and a ~32 KB TXT set;
- a TXT set above 512 octets asked without EDNS: TC=1 over UDP, and dig
  and kdig fall back to TCP and get every record; with EDNS it comes whole
  over UDP; a set too big for EDNS too: TC=1, then TCP;
- ping and ping -6, also of 1400 octets (echo answered by the worker, once),
  and fragmented ones (the kernel reassembles and answers through the TAP;
  IPv4 fragments with af_xdp only, see the note that af_packet prints);
- the neighbour entries of namespace B carry the MAC of the veth in A;
- load: 2,000 UDP queries over IPv4 and 1,000 over IPv6 from a dnspython
  sender in namespace B (16 in flight), every one answered and counted
  once; 100 TCP queries per family, 4 connections at once;
- telemetry (/bulwark/stats, /bulwark/ports): arp, nd, echo, answers (equal
  to the UDP queries sent), tc, exception.tcp/fragment/ipv6_ext,
  to_kernel/from_kernel, exception_tx, no exception_full or tx_full drops;
- once more, with net.ipv6.conf.all.accept_dad=1 in namespace A: bulwarkd
  starts and serves TCP on 2001:db8::53 (fails on a bulwarkd bug, see
  TENTATIVE_BUG).

With AF_PACKET the kernel of namespace A also takes every frame of the
veth; the test keeps its stack off the veth for that mode (see
kernel_stack_on_veth). af_xdp is skipped (with the reason) only when the
EAL cannot create the net_af_xdp device; any other failure fails the test.
Namespaces, bulwarkd and temporary files are removed in every case
(finally, atexit, signals).
"""

import argparse
import json
import os
import re
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from dpdk_util import (Cleanup, TestFailure, check, ns, run,  # noqa: E402
	unready, veth_pair, veth_up)

PID = os.getpid()
NS_A = "bwvA%d" % PID
NS_B = "bwvB%d" % PID
VETH_A = "va%d" % PID            # interface names are at most 15 octets
VETH_B = "vb%d" % PID
SRV4, SRV6 = "192.0.2.53", "2001:db8::53"
CLI4, CLI6 = "192.0.2.1", "2001:db8::1"
ORIGIN = "live.test."
WWW4, WWW6 = "192.0.2.80", "2001:db8::80"
GLUE4 = "192.0.2.99"
TXT_RRS = 8                       # 8 x 116 octets: > 512, < 1232 (EDNS)
HUGE_RRS = 150                    # 150 x 217 octets: ~32 KB, TCP only
LOAD4, LOAD6 = 2000, 1000
LOAD_WINDOW = 16                  # UDP queries in flight
LOAD_TCP = 100                    # TCP queries per family, one connection each
LOAD_TCP_PARALLEL = 4             # connections at once
LOAD_TIME = 15.0                  # seconds, per load run
MODES = {
	"af_packet": "net_af_packet0,iface=%s",
	"af_xdp": "net_af_xdp0,iface=%s",
}


class Skip(Exception):
	pass


# ---- The load sender (runs inside namespace B: --load-client). ----

LOAD_NAMES = [
	# (name, type, rcode, expected answer rdata or None)
	("www.live.test.", "A", "NOERROR", WWW4),
	("www.live.test.", "AAAA", "NOERROR", WWW6),
	("nope%d.live.test.", "A", "NXDOMAIN", None),
	("live.test.", "SOA", "NOERROR", None),
]


def load_client(server, count, window, limit):
	"""Sends COUNT queries to SERVER:53 with WINDOW in flight, each once;
	prints a JSON report. Unconnected socket: ICMP errors are ignored."""
	import dns.message
	import dns.rcode
	import dns.rdatatype

	fam = socket.AF_INET6 if ":" in server else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_DGRAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
	s.settimeout(0.2)
	queries = []
	for i in range(count):
		name, qtype, rcode, rdata = LOAD_NAMES[i % len(LOAD_NAMES)]
		if "%d" in name:
			name = name % i
		q = dns.message.make_query(name, qtype, use_edns=0 if i % 3 == 0 else False)
		q.id = i & 0xffff
		queries.append((q.to_wire(), name, qtype, rcode, rdata))
	pending = {}
	sent = answered = dup = 0
	errors = []
	start = time.time()
	deadline = start + limit
	last_progress = start
	while (sent < count or pending) and time.time() < deadline:
		while sent < count and len(pending) < window:
			wire = queries[sent][0]
			s.sendto(wire, (server, 53))
			pending[sent & 0xffff] = sent
			sent += 1
		try:
			data, _ = s.recvfrom(65535)
		except socket.timeout:
			if time.time() - last_progress > 2.0:
				break      # what is still pending is lost
			continue
		try:
			r = dns.message.from_wire(data)
		except Exception as e:  # noqa: BLE001
			errors.append("unparsable response: %s" % e)
			continue
		idx = pending.pop(r.id, None)
		if idx is None:
			dup += 1
			continue
		last_progress = time.time()
		_, name, qtype, rcode, rdata = queries[idx]
		answered += 1
		got = dns.rcode.to_text(r.rcode())
		qok = (len(r.question) == 1 and r.question[0].name.to_text().lower() == name
			and dns.rdatatype.to_text(r.question[0].rdtype) == qtype)
		if not qok or got != rcode:
			errors.append("query %d %s %s: rcode %s question %s" %
				(idx, name, qtype, got, r.question))
		elif rdata is not None:
			vals = [rd.to_text() for rrs in r.answer for rd in rrs]
			if vals != [rdata]:
				errors.append("query %d %s %s: answer %s" % (idx, name, qtype, vals))
	elapsed = time.time() - start
	print(json.dumps({"sent": sent, "answered": answered, "lost": len(pending),
		"dup": dup, "errors": errors[:10], "nerrors": len(errors),
		"elapsed": elapsed}))


def tcp_load_client(server, count, parallel, limit):
	"""COUNT queries over TCP, a connection each, PARALLEL at once."""
	import threading

	import dns.message
	import dns.query
	import dns.rcode

	lock = threading.Lock()
	state = {"next": 0, "sent": 0, "answered": 0, "errors": []}
	deadline = time.time() + limit

	def worker():
		while time.time() < deadline:
			with lock:
				i = state["next"]
				if i >= count:
					return
				state["next"] += 1
				state["sent"] += 1
			name, qtype, rcode, rdata = LOAD_NAMES[i % len(LOAD_NAMES)]
			if "%d" in name:
				name = name % i
			q = dns.message.make_query(name, qtype)
			try:
				r = dns.query.tcp(q, server, timeout=3)
			except Exception as e:  # noqa: BLE001
				with lock:
					state["errors"].append("query %d %s %s: %r" % (i, name, qtype, e))
				continue
			err = None
			if dns.rcode.to_text(r.rcode()) != rcode:
				err = "rcode %s" % dns.rcode.to_text(r.rcode())
			elif rdata is not None and [rd.to_text() for rrs in r.answer
					for rd in rrs] != [rdata]:
				err = "answer %s" % r.answer
			with lock:
				if err:
					state["errors"].append("query %d %s %s: %s" % (i, name, qtype, err))
				else:
					state["answered"] += 1

	start = time.time()
	threads = [threading.Thread(target=worker) for _ in range(parallel)]
	for t in threads:
		t.start()
	for t in threads:
		t.join()
	print(json.dumps({"sent": state["sent"], "answered": state["answered"],
		"lost": 0, "dup": 0, "errors": state["errors"][:10],
		"nerrors": len(state["errors"]), "elapsed": time.time() - start}))


CLEANUP = Cleanup()


# ---- Helpers. ----

def setup_network():
	veth_pair(CLEANUP, NS_A, VETH_A, NS_B, VETH_B)
	return veth_up(NS_A, VETH_A, NS_B, VETH_B, [CLI4 + "/24", CLI6 + "/64"])


def zone_text():
	lines = [
		"$ORIGIN %s" % ORIGIN,
		"$TTL 300",
		"@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 300",
		"@ NS ns1",
		"ns1 A %s" % SRV4,
		"ns1 AAAA %s" % SRV6,
		"www A %s" % WWW4,
		"www AAAA %s" % WWW6,
		"sub NS ns.sub",
		"ns.sub A %s" % GLUE4,
	]
	for i in range(TXT_RRS):
		lines.append('big TXT "%02d-%s"' % (i, "t" * 100))
	for i in range(HUGE_RRS):
		lines.append('huge TXT "%03d-%s"' % (i, "h" * 200))
	return "\n".join(lines) + "\n"


def conf_text(zdir, vdev, prefix):
	from dpdk_util import eal_args
	return """options {
	directory "%s";
	pid-file none;
	listen-on { %s; };
	listen-on-v6 { %s; };
};
dataplane {
	io dpdk;
	eal-args "%s";
	port "%s" { address %s/24; address %s/64; };
	workers 1-1;
};
zone "%s" { file "live.test.zone"; };
// The load sends a distinct NXDOMAIN name in every fourth query, as fast
// as the port goes: a random-subdomain flood by definition.  This test is
// about the dataplane; the mitigation has tests of its own (flood_test.py).
flood-mitigation { enable no; };
""" % (zdir, SRV4, SRV6, eal_args(prefix), vdev, SRV4, SRV6, ORIGIN.rstrip("."))


SECTIONS = {";; ANSWER SECTION:": "answer", ";; AUTHORITY SECTION:": "authority",
	";; ADDITIONAL SECTION:": "additional"}


def parse_dig(out):
	"""dig or kdig text output -> status, flags, sections, transport."""
	r = {"status": None, "flags": set(), "answer": [], "authority": [],
		"additional": [], "transport": None, "raw": out}
	m = re.search(r"status: (\w+)", out)
	if m:
		r["status"] = m.group(1)
	m = re.search(r";; [Ff]lags: ([a-z ]*);", out)
	if m:
		r["flags"] = set(m.group(1).split())
	sec = None
	for line in out.splitlines():
		if line in SECTIONS:
			sec = SECTIONS[line]
			continue
		if not line.strip() or line.startswith(";"):
			sec = None if not line.strip() else sec
			continue
		if sec is not None:
			f = line.split(None, 4)
			if len(f) == 5 and f[3] != "OPT":
				r[sec].append((f[0].lower(), f[3], f[4].strip()))
	# dig 9.18: ";; SERVER: 192.0.2.53#53(192.0.2.53) (TCP)";
	# kdig: ";; From 192.0.2.53@53(TCP) in 0.3 ms".
	m = re.search(r";; SERVER: .*\((UDP|TCP)\)", out) or \
		re.search(r";; From .*@53\((UDP|TCP)\)", out)
	if m:
		r["transport"] = m.group(1)
	return r


class Client:
	"""dig/kdig from namespace B; counts the UDP queries it sends."""

	def __init__(self):
		self.udp_queries = 0
		self.queries = 0

	def query(self, tool, server, name, qtype, tcp=False, extra=(), udp_sent=1,
			wait=3):
		if tool == "dig":
			argv = ["dig", "@" + server, name, qtype, "+time=%d" % wait, "+tries=1"]
		else:
			argv = ["kdig", "@" + server, name, qtype, "+time=%d" % wait, "+retry=0"]
		if tcp:
			argv.append("+tcp")
		argv += list(extra)
		done = ns(NS_B, argv, timeout=20, ok=False)
		self.queries += 1
		if not tcp:
			self.udp_queries += udp_sent
		r = parse_dig(done.stdout + done.stderr)
		r["argv"] = " ".join(argv)
		r["rc"] = done.returncode
		if done.returncode != 0 or r["status"] is None:
			raise TestFailure("%s: exit %d, no answer:\n%s%s" % (r["argv"],
				done.returncode, done.stdout, done.stderr))
		return r


def rdatas(r, rtype, sec="answer"):
	return sorted(x[2] for x in r[sec] if x[1] == rtype)


def expect(r, status, rtype=None, values=None, aa=True, transport=None):
	check(r["status"] == status, "%s: status %s, expected %s:\n%s" %
		(r["argv"], r["status"], status, r["raw"]))
	if aa:
		check("aa" in r["flags"], "%s: AA not set:\n%s" % (r["argv"], r["raw"]))
	if rtype is not None:
		got = rdatas(r, rtype)
		check(got == sorted(values), "%s: %s answer %s, expected %s:\n%s" %
			(r["argv"], rtype, got, sorted(values), r["raw"]))
	if transport is not None:
		check(r["transport"] == transport, "%s: answered over %s, expected %s:\n%s"
			% (r["argv"], r["transport"], transport, r["raw"]))


def flush_neigh():
	for fam in ("-4", "-6"):
		run(["ip", "-n", NS_B, fam, "neigh", "flush", "dev", VETH_B])
	left = json.loads(run(["ip", "-n", NS_B, "-j", "neigh", "show", "dev",
		VETH_B]).stdout or "[]")
	left = [e for e in left if e.get("dst") in (SRV4, SRV6)
		and "FAILED" not in e.get("state", []) and e.get("lladdr")]
	check(not left, "neighbour entries left after the flush: %s" % left)


def neigh_entries():
	got = json.loads(run(["ip", "-n", NS_B, "-j", "neigh", "show", "dev",
		VETH_B]).stdout or "[]")
	return {e["dst"]: e for e in got}


def ping(server, v6, size=None):
	argv = ["ping"] + (["-6"] if v6 else []) + ["-c", "2", "-i", "0.2", "-W", "2"]
	if size is not None:
		argv += ["-s", str(size)]
	argv.append(server)
	done = ns(NS_B, argv, timeout=15, ok=False)
	m = re.search(r"(\d+) packets transmitted, (\d+) received", done.stdout)
	check(done.returncode == 0 and m and int(m.group(2)) == 2,
		"%s: no echo replies (exit %d):\n%s%s" % (" ".join(argv),
		done.returncode, done.stdout, done.stderr))
	check("duplicates" not in done.stdout, "%s: duplicate echo replies:\n%s" %
		(" ".join(argv), done.stdout))


def load(server, count, proto):
	done = ns(NS_B, ["/usr/bin/python3", os.path.abspath(__file__), "--load-client",
		proto, server, str(count), str(LOAD_WINDOW if proto == "udp" else
		LOAD_TCP_PARALLEL), str(LOAD_TIME)], timeout=LOAD_TIME + 15, ok=False)
	try:
		rep = json.loads(done.stdout.strip().splitlines()[-1])
	except (ValueError, IndexError):
		raise TestFailure("load client (%s to %s) failed (%d):\n%s%s" % (proto,
			server, done.returncode, done.stdout, done.stderr))
	check(rep["sent"] == count and rep["answered"] == count and rep["nerrors"] == 0
		and rep["dup"] == 0, "%s load to %s: %s" % (proto, server, rep))
	rep["server"], rep["proto"] = server, proto
	return rep


# ---- One mode. ----

def af_xdp_unavailable(log):
	"""The reason when the EAL could not create the net_af_xdp device."""
	m = re.search(r'port "net_af_xdp0[^"]*": cannot create the virtual device: (.*)',
		log)
	if not m:
		return None
	# The EAL's and the PMD's own lines (not bulwarkd's) just before the
	# error say why.
	lines = log[:m.start()].splitlines()
	detail = [ln.strip() for ln in lines if ln.strip() and
		not re.match(r"\s*bulwarkd[[ ]", ln) and not ln.startswith("TELEMETRY")][-3:]
	return "%s%s" % (m.group(1).strip(), (" (" + "; ".join(detail) + ")")
		if detail else "")


def kernel_stack_on_veth(enabled):
	"""AF_PACKET only taps the veth: the kernel of namespace A still takes
	every frame itself, and since the TAP in the same namespace holds
	192.0.2.53 and 2001:db8::53 (weak host model) it answers them too:
	ICMP port unreachable for every UDP query (a connected client such as
	dig then fails with "connection refused"), a second echo reply, a
	second copy of every TCP segment. For af_packet the test keeps the
	kernel off the veth (strict rp_filter: the route back is via the TAP;
	no IPv6 on it); AF_XDP takes the frames before the kernel sees them."""
	ns(NS_A, ["sysctl", "-q", "-w",
		"net.ipv4.conf.%s.rp_filter=%d" % (VETH_A, 0 if enabled else 1),
		"net.ipv6.conf.%s.disable_ipv6=%d" % (VETH_A, 0 if enabled else 1)])


TENTATIVE_BUG = ("bulwarkd bug: its TCP listener binds %s before the kernel "
	"has made the address usable on the exception interface (the address is "
	"still IFA_F_TENTATIVE: dataplane/dpdk.c adds it with SIOCSIFADDR and only "
	"sets accept_dad=0 on the TAP; the kernel clears the tentative flag later, "
	"from its addrconf work queue, and does full DAD when "
	"net.ipv6.conf.all.accept_dad >= 1), so bind() fails with EADDRNOTAVAIL "
	"and bulwarkd exits" % SRV6)


def start_server(mode, build, zdir, tag=""):
	"""bulwarkd in namespace A on the veth; Skip for a missing af_xdp."""
	kernel_stack_on_veth(mode != "af_packet")
	vdev = MODES[mode] % VETH_A
	prefix = "bwveth%d%s%s" % (PID, mode.replace("_", ""), tag)
	srv = CLEANUP.server(build, conf_text(zdir, vdev, prefix), prefix, netns=NS_A)
	try:
		srv.start()
	except RuntimeError as e:
		reason = af_xdp_unavailable(str(e)) if mode == "af_xdp" else None
		if reason is not None:
			raise Skip("af_xdp: not available on this kernel: %s" % reason)
		if re.search(r"cannot start TCP: %s port 53: TCP bind: Cannot assign "
				r"requested address" % re.escape(SRV6), str(e)):
			raise TestFailure("%s%s: %s.\n%s" % (mode, " (with net.ipv6.conf.all."
				"accept_dad=1 in %s)" % NS_A if tag == "dad" else "", TENTATIVE_BUG, e))
		raise TestFailure("%s: bulwarkd did not start: %s" % (mode, e))
	return srv


def run_mode(mode, build, zdir, mac):
	t0 = time.time()
	srv = start_server(mode, build, zdir)
	t_start = time.time() - t0
	try:
		res = exercise(mode, srv, mac)
	except Exception:
		srv.stop()
		print("---- bulwarkd log (%s) ----\n%s\n----" % (mode, srv.log[-6000:]),
			file=sys.stderr)
		raise
	srv.stop()
	check(srv.returncode == 0, "%s: bulwarkd exited with %s:\n%s" %
		(mode, srv.returncode, srv.log[-4000:]))
	res["start"] = t_start
	res["total"] = time.time() - t0
	return res


def dad_check(mode, build, zdir):
	"""The exception interface's IPv6 address must be usable by the TCP
	listener when bulwarkd has started, also where the kernel does DAD
	(net.ipv6.conf.all.accept_dad=1 overrides the TAP's accept_dad=0)."""
	t0 = time.time()
	ns(NS_A, ["sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=1"])
	try:
		srv = start_server(mode, build, zdir, tag="dad")
		try:
			# DAD may still run (up to ~2 s): SYN retransmits cover it.
			r = Client().query("kdig", SRV6, "www.live.test", "AAAA", tcp=True,
				wait=8)
			expect(r, "NOERROR", "AAAA", [WWW6], transport="TCP")
		finally:
			srv.stop()
	finally:
		ns(NS_A, ["sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0"])
	return time.time() - t0


def print_mode(mode, r):
	print("%s: ok in %.1f s (start %.1f s, udp %.1f s, tcp %.1f s, tc %.1f s); "
		"%d dig/kdig queries; load %s" % (mode, r["total"], r["start"], r["udp"],
		r["tcp"], r["tc"], r["queries"], r["load"]))
	print("%s: %s%s" % (mode, r["counters"],
		"; drops %s" % r["drops"] if r["drops"] else "; no drops"))
	for n in r["notes"]:
		print("%s: note: %s" % (mode, n))
	sys.stdout.flush()


def exercise(mode, srv, mac):
	res = {"notes": []}
	if mode == "af_packet":
		res["notes"].append("kernel stack of %s kept off the veth (rp_filter=1, "
			"disable_ipv6=1): AF_PACKET leaves it every frame, and it would "
			"answer each UDP query with ICMP port unreachable" % NS_A)
	m = re.search(r"MAC ([0-9a-f:]{17})", srv.read_log(), re.I)
	check(m and m.group(1).lower() == mac, "%s: port MAC %s, veth MAC %s" %
		(mode, m.group(1) if m else None, mac))
	base = srv.stats()
	cl = Client()

	# Normal resolution: ARP for 192.0.2.53, NDP for 2001:db8::53.
	flush_neigh()
	t = time.time()
	for tool in ("kdig", "dig"):
		for srv_addr in (SRV4, SRV6):
			r = cl.query(tool, srv_addr, "www.live.test", "A")
			expect(r, "NOERROR", "A", [WWW4], transport="UDP")
			r = cl.query(tool, srv_addr, "www.live.test", "AAAA")
			expect(r, "NOERROR", "AAAA", [WWW6], transport="UDP")
			r = cl.query(tool, srv_addr, "missing.live.test", "A")
			expect(r, "NXDOMAIN", "A", [])
			check(rdatas(r, "SOA", "authority"), "%s: NXDOMAIN without SOA:\n%s"
				% (r["argv"], r["raw"]))
			r = cl.query(tool, srv_addr, "host.sub.live.test", "A")
			expect(r, "NOERROR", "A", [], aa=False)
			check(rdatas(r, "NS", "authority") == ["ns.sub.live.test."] and
				rdatas(r, "A", "additional") == [GLUE4],
				"%s: not a referral to sub.live.test with glue:\n%s" %
				(r["argv"], r["raw"]))
	res["udp"] = time.time() - t

	# The neighbour entries of B point at the veth in A.
	nb = neigh_entries()
	for addr in (SRV4, SRV6):
		e = nb.get(addr)
		check(e is not None and e.get("lladdr", "").lower() == mac and
			not set(e.get("state", [])) & {"FAILED", "INCOMPLETE"},
			"%s: neighbour entry of %s in %s: %s (expected lladdr %s)" %
			(mode, addr, NS_B, e, mac))

	# TCP through the exception TAP to the kernel's listener.
	t = time.time()
	huge = ['"%03d-%s"' % (i, "h" * 200) for i in range(HUGE_RRS)]
	for tool in ("kdig", "dig"):
		for srv_addr in (SRV4, SRV6):
			u = cl.query(tool, srv_addr, "www.live.test", "A")
			r = cl.query(tool, srv_addr, "www.live.test", "A", tcp=True)
			expect(r, "NOERROR", "A", [WWW4], transport="TCP")
			check(r["answer"] == u["answer"], "%s: TCP answer %s, UDP %s" %
				(r["argv"], r["answer"], u["answer"]))
			u = cl.query(tool, srv_addr, "www.live.test", "AAAA")
			r = cl.query(tool, srv_addr, "www.live.test", "AAAA", tcp=True)
			expect(r, "NOERROR", "AAAA", [WWW6], transport="TCP")
			check(r["answer"] == u["answer"], "%s: TCP answer %s, UDP %s" %
				(r["argv"], r["answer"], u["answer"]))
			# ~32 KB: many segments each way through the TAP.
			r = cl.query(tool, srv_addr, "huge.live.test", "TXT", tcp=True)
			expect(r, "NOERROR", "TXT", huge, transport="TCP")
	res["tcp"] = time.time() - t

	# TC=1 without EDNS (answer > 512), and the fall-back to TCP; with
	# EDNS the same set fits in one UDP answer.
	t = time.time()
	big = ['"%02d-%s"' % (i, "t" * 100) for i in range(TXT_RRS)]
	for srv_addr in (SRV4, SRV6):
		r = cl.query("dig", srv_addr, "big.live.test", "TXT", extra=["+noedns", "+ignore"])
		check(r["status"] == "NOERROR" and "tc" in r["flags"] and
			len(rdatas(r, "TXT")) < TXT_RRS and r["transport"] == "UDP",
			"%s: expected a truncated UDP answer:\n%s" % (r["argv"], r["raw"]))
		r = cl.query("dig", srv_addr, "big.live.test", "TXT", extra=["+noedns"])
		check("Truncated, retrying in TCP mode" in r["raw"],
			"%s: dig did not retry over TCP:\n%s" % (r["argv"], r["raw"]))
		expect(r, "NOERROR", "TXT", big, transport="TCP")
		check("tc" not in r["flags"], "%s: TC set over TCP" % r["argv"])
		r = cl.query("kdig", srv_addr, "big.live.test", "TXT", extra=["+noedns"])
		expect(r, "NOERROR", "TXT", big, transport="TCP")
		r = cl.query("dig", srv_addr, "big.live.test", "TXT")
		expect(r, "NOERROR", "TXT", big, transport="UDP")
		check("tc" not in r["flags"], "%s: TC set with EDNS:\n%s" % (r["argv"], r["raw"]))
		r = cl.query("kdig", srv_addr, "big.live.test", "TXT", extra=["+edns"])
		expect(r, "NOERROR", "TXT", big, transport="UDP")
		# With EDNS too big for UDP: TC=1, then TCP.
		r = cl.query("dig", srv_addr, "huge.live.test", "TXT")
		check("Truncated, retrying in TCP mode" in r["raw"],
			"%s: dig did not retry over TCP:\n%s" % (r["argv"], r["raw"]))
		expect(r, "NOERROR", "TXT", huge, transport="TCP")
	res["tc"] = time.time() - t

	# ICMP echo, answered by the worker (exactly once: nothing else answers).
	for addr, v6 in ((SRV4, False), (SRV6, True)):
		ping(addr, v6)
		ping(addr, v6, size=1400)
	# Fragmented echo requests: fragments go to the kernel (exception
	# path), which reassembles them and answers through the TAP.
	ping(SRV6, True, size=3000)
	if mode == "af_packet":
		res["notes"].append("IPv4 fragments not tested: the AF_PACKET PMD "
			"joins the socket to a PACKET_FANOUT group with "
			"PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles them into "
			"one frame that its ring cuts to its frame size")
	else:
		ping(SRV4, False, size=3000)

	st = srv.wait_for(lambda st: st["answers"] - base["answers"] >= cl.udp_queries,
		timeout=5, what="answers >= %d UDP queries" % cl.udp_queries)
	check(st["answers"] - base["answers"] == cl.udp_queries, "%s: %d answers for %d "
		"UDP queries" % (mode, st["answers"] - base["answers"], cl.udp_queries))

	# Load.
	t = time.time()
	mid = srv.stats()
	lres = [load(SRV4, LOAD4, "udp"), load(SRV6, LOAD6, "udp")]
	after = srv.wait_for(lambda st: st["answers"] - mid["answers"] >= LOAD4 + LOAD6,
		timeout=5, what="answers grown by %d" % (LOAD4 + LOAD6))
	grown = after["answers"] - mid["answers"]
	check(grown == LOAD4 + LOAD6, "%s: answers grew by %d during the load, %d "
		"queries were sent" % (mode, grown, LOAD4 + LOAD6))
	lres += [load(SRV4, LOAD_TCP, "tcp"), load(SRV6, LOAD_TCP, "tcp")]
	res["load"] = "udp %d+%d, tcp %d+%d queries in %.1f s (%s)" % (LOAD4, LOAD6,
		LOAD_TCP, LOAD_TCP, time.time() - t, ", ".join("%s/%s %.0f q/s" %
		(x["proto"], "v6" if ":" in x["server"] else "v4", x["sent"] / x["elapsed"])
		for x in lres))
	end = srv.stats()
	check(end["answers"] == after["answers"], "%s: TCP load changed the worker's "
		"answers (%d -> %d)" % (mode, after["answers"], end["answers"]))

	# Counters (ports first: what the kernel handed over is sent after).
	for _ in range(30):
		ports = srv.telemetry("/bulwark/ports")
		st = srv.stats()
		if list(ports.values())[0]["from_kernel"] == st["exception_tx"]:
			break
		time.sleep(0.1)
	d = {k: st[k] - base[k] for k in ("arp", "nd", "echo", "answers", "tc",
		"exception_tx")}
	exc = {k: st["exception"][k] - base["exception"][k] for k in st["exception"]}
	check(d["arp"] >= 1, "%s: arp %d, expected >= 1" % (mode, d["arp"]))
	check(d["nd"] >= 1, "%s: nd %d, expected >= 1" % (mode, d["nd"]))
	check(d["echo"] >= 8, "%s: echo %d, expected >= 8" % (mode, d["echo"]))
	check(d["answers"] == cl.udp_queries + LOAD4 + LOAD6, "%s: answers %d, %d UDP "
		"queries" % (mode, d["answers"], cl.udp_queries + LOAD4 + LOAD6))
	check(d["tc"] >= 6, "%s: tc %d, expected >= 6" % (mode, d["tc"]))
	check(exc["tcp"] > 0, "%s: exception.tcp is 0" % mode)
	check(exc["ipv6_ext"] >= 6, "%s: exception.ipv6_ext %d, expected >= 6 "
		"(IPv6 fragments)" % (mode, exc["ipv6_ext"]))
	if mode != "af_packet":
		check(exc["fragment"] >= 6, "%s: exception.fragment %d, expected >= 6" %
			(mode, exc["fragment"]))
	check(d["exception_tx"] > 0, "%s: exception_tx is 0" % mode)
	check(st["drop"]["exception_full"] == 0, "%s: drop.exception_full %d" %
		(mode, st["drop"]["exception_full"]))
	check(st["drop"]["tx_full"] == 0, "%s: drop.tx_full %d" %
		(mode, st["drop"]["tx_full"]))
	check(len(ports) == 1, "%s: /bulwark/ports: %s" % (mode, ports))
	p = list(ports.values())[0]
	check(p["to_kernel"] > 0 and p["from_kernel"] > 0, "%s: port to_kernel %d, "
		"from_kernel %d" % (mode, p["to_kernel"], p["from_kernel"]))
	check(p["exception_interface"] == "bwx0", "%s: exception interface %r" %
		(mode, p["exception_interface"]))
	check(p["exception_dropped"] == 0, "%s: exception_dropped %d" %
		(mode, p["exception_dropped"]))
	check(p["from_kernel"] == st["exception_tx"], "%s: %d frames from the kernel, "
		"%d sent" % (mode, p["from_kernel"], st["exception_tx"]))
	drops = {k: v for k, v in st["drop"].items() if v}
	res["counters"] = ("arp %d nd %d echo %d answers %d tc %d exc.tcp %d "
		"exc.fragment %d exc.ipv6_ext %d exc_tx %d to_kernel %d from_kernel %d" % (
		d["arp"], d["nd"], d["echo"], d["answers"], d["tc"], exc["tcp"],
		exc["fragment"], exc["ipv6_ext"], d["exception_tx"], p["to_kernel"],
		p["from_kernel"]))
	res["drops"] = drops
	res["queries"] = cl.queries
	return res


def run_all(modes, build):
	"""Every mode, then the DAD check with the first that ran; returns
	{mode: result} and the modes skipped."""
	summary, skipped = {}, []
	mac = setup_network()
	zdir = tempfile.mkdtemp(prefix="bw-veth-zone-")
	CLEANUP.dirs.append(zdir)
	with open(os.path.join(zdir, "live.test.zone"), "w") as f:
		f.write(zone_text())
	for mode in modes:
		try:
			summary[mode] = run_mode(mode, build, zdir, mac)
			print_mode(mode, summary[mode])
		except Skip as e:
			print(str(e))
			skipped.append(mode)
	if summary:
		mode = list(summary)[0]
		t = dad_check(mode, build, zdir)
		print("%s: IPv6 TCP listener with DAD on in namespace A: ok in %.1f s"
			% (mode, t))
	return summary, skipped


def main():
	if len(sys.argv) > 1 and sys.argv[1] == "--load-client":
		fn = load_client if sys.argv[2] == "udp" else tcp_load_client
		fn(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
		return 0
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--build", required=True, help="meson build directory")
	ap.add_argument("--modes", default="af_packet,af_xdp",
		help="comma-separated: af_packet, af_xdp")
	args = ap.parse_args()
	modes = [m.strip() for m in args.modes.split(",") if m.strip()]
	for m in modes:
		if m not in MODES:
			ap.error("unknown mode %r (af_packet, af_xdp)" % m)
	build = os.path.abspath(args.build)
	why = unready(build, [("controlplane", "bulwarkd")])
	if why is not None:
		print("FAIL: %s" % why)
		return 2

	t0 = time.time()
	done = CLEANUP.call(run_all, modes, build)
	if done is None:
		return 1
	summary, skipped = done
	total = time.time() - t0
	for mode in skipped:
		print("%s: skipped" % mode)
	if not summary:
		print("FAIL: no mode ran")
		return 1
	print("PASS (%s) in %.1f s" % (", ".join(summary), total))
	return 0


if __name__ == "__main__":
	sys.exit(main())
