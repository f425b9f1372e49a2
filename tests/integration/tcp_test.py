#!/usr/bin/python3
"""Integration test: bulwarkd answers over TCP (RFC 7766).

    tcp_test.py --build BUILD

Writes a small zone with RRsets too large for UDP, compiles it with
bulwark-compile from BUILD and starts bulwarkd on a free loopback port
(tests/diff/bulwark.py), with a short `tcp-idle-timeout` and
`tcp-keepalive-timeout`. Then checks: TCP and UDP give the same answers;
truncated UDP answers come back whole over TCP, also through dig and kdig,
asked over TCP at once and retrying over TCP after TC=1; pipelined queries
(replies matched by ID, in any order) and byte-by-byte queries; idle
connections are closed and active ones are not; a slow reader does not
hold up other clients; many connections at once; half-close; bad framing;
edns-tcp-keepalive (RFC 7828): echoed with the configured TIMEOUT over
TCP, never sent over UDP, FORMERR when a query's option is not empty (over
TCP), and the longer idle timeout of a connection that sent it. On a
second server with `tcp-clients 4`, a new connection makes room by
closing the one idle longest; on a third with `tcp-clients-per-address
2`, a client's third connection is closed at once, evicts no one, and
other addresses (127.0.0.2, ::1) are still served.
"""

import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "diff"))

import dns.edns  # noqa: E402
import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

from bulwark import Bulwark  # noqa: E402

ORIGIN = "tcp.test."
IDLE_TENTHS = 10          # tcp-idle-timeout: 1 s
KEEPALIVE_TENTHS = 30     # tcp-keepalive-timeout: 3 s
PER_ADDRESS = 2           # tcp-clients-per-address of the third server
KEEPALIVE = 11            # EDNS option code (RFC 7828)
NSID = "bw-tcp-test"
BIG_RRS = 200             # big TXT: about 50 KB, near the 64 KiB limit
MID_RRS = 16              # mid TXT: about 3 KB, truncated over UDP


def zone_text():
	lines = [
		"$ORIGIN %s" % ORIGIN,
		"$TTL 3600",
		"@ SOA ns1 hostmaster 1 7200 3600 1209600 300",
		"@ NS ns1",
		"ns1 A 192.0.2.1",
		"www A 192.0.2.80",
		"www AAAA 2001:db8::80",
		"mail MX 10 www",
	]
	for i in range(BIG_RRS):
		lines.append('big TXT "%03d-%s"' % (i, "b" * 240))
	for i in range(MID_RRS):
		lines.append('mid TXT "%03d-%s"' % (i, "m" * 170))
	for i in range(60):
		lines.append("n%d A 198.51.100.%d" % (i, i))
	return "\n".join(lines) + "\n"


class TcpBulwark(Bulwark):
	"""bulwarkd with TCP options added to the harness's configuration."""

	def __init__(self, zonefile, build_dir, options, ipv6=False, origin=ORIGIN):
		super().__init__(zonefile, origin, build_dir)
		self.options = options
		self.ipv6 = ipv6
		self.exit_status = None
		self.exit_log = ""

	def prepare(self):
		argv = super().prepare()
		path = self.path("bulwark.conf")
		with open(path) as f:
			conf = f.read()
		options = self.options
		if self.ipv6:
			options = options + ["listen-on-v6 port %d { ::1; }" % self.port]
		extra = "".join("\t%s;\n" % o for o in options)
		new = conf.replace("options {\n", "options {\n" + extra, 1)
		assert new != conf, "no options block in the harness configuration"
		self.write("bulwark.conf", new)
		return argv

	def _kill(self):
		# keep how the server ended (a sanitizer's report fails the test)
		proc = self.proc
		super()._kill()
		if proc is not None:
			self.exit_status = proc.returncode
			self.exit_log = self.log_tail()


def stopped_cleanly(srv):
	if srv.exit_status == 0:
		return True
	print("FAIL  bulwarkd exited with status %s on SIGTERM:\n%s" %
		(srv.exit_status, srv.exit_log))
	return False


# ---- Helpers. ----

def query(name, rdtype="A", qid=None, payload=1232, options=None):
	q = dns.message.make_query(name, rdtype, use_edns=0, payload=payload,
		options=options)
	if qid is not None:
		q.id = qid
	return q


def keepalive_query(name, rdtype="A", qid=None, data=b""):
	"""A query with an edns-tcp-keepalive option (empty, as RFC 7828 wants)."""
	return query(name, rdtype, qid, options=[dns.edns.GenericOption(KEEPALIVE, data)])


def keepalive_of(reply):
	"""The data of the reply's keepalive options (a list, usually 0 or 1)."""
	return [o.to_wire() for o in reply.options if o.otype == KEEPALIVE]


def frame(wire):
	return struct.pack("!H", len(wire)) + wire


def connect(port, timeout=5.0, source="127.0.0.1", dest="127.0.0.1"):
	s = socket.create_connection((dest, port), timeout=timeout,
		source_address=(source, 0))
	s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
	return s


def recv_exact(sock, n):
	buf = b""
	while len(buf) < n:
		chunk = sock.recv(n - len(buf))
		if not chunk:
			raise EOFError("connection closed after %d of %d octets" %
				(len(buf), n))
		buf += chunk
	return buf


def recv_msg(sock):
	(n,) = struct.unpack("!H", recv_exact(sock, 2))
	return dns.message.from_wire(recv_exact(sock, n))


def closed_by_server(sock, within):
	"""True when the server closes SOCK (EOF or reset) within WITHIN seconds."""
	sock.settimeout(within)
	try:
		return sock.recv(1) == b""
	except ConnectionResetError:
		return True
	except socket.timeout:
		return False


def same_reply(a, b):
	"""Compare two replies, the TC flag aside."""
	return (a.id == b.id and a.rcode() == b.rcode() and
		(a.flags & ~dns.flags.TC) == (b.flags & ~dns.flags.TC) and
		a.question == b.question and a.answer == b.answer and
		a.authority == b.authority and a.additional == b.additional)


def big_complete(reply, count=BIG_RRS):
	return (not reply.flags & dns.flags.TC and len(reply.answer) == 1 and
		len(reply.answer[0]) == count)


# ---- Checks. Each returns None or raises AssertionError. ----

def check_same_as_udp(srv):
	cases = [(ORIGIN, "SOA"), (ORIGIN, "NS"), ("www." + ORIGIN, "A"),
		("www." + ORIGIN, "TXT"), ("mail." + ORIGIN, "MX"),
		("nope." + ORIGIN, "A"), ("www.example.", "A")]
	for name, rdtype in cases:
		q = query(name, rdtype)
		u = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3)
		t = dns.query.tcp(q, "127.0.0.1", port=srv.port, timeout=3)
		assert not u.flags & dns.flags.TC, "%s %s truncated over UDP" % (name, rdtype)
		assert same_reply(u, t), "%s %s: UDP and TCP differ:\n%s\n---\n%s" % (
			name, rdtype, u, t)


def check_truncated_then_whole(srv):
	for name, count in (("mid." + ORIGIN, MID_RRS), ("big." + ORIGIN, BIG_RRS)):
		q = query(name, "TXT")
		u = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3)
		assert u.flags & dns.flags.TC, "%s: UDP reply not truncated" % name
		t = dns.query.tcp(q, "127.0.0.1", port=srv.port, timeout=3)
		assert big_complete(t, count), "%s: TCP reply incomplete: TC=%s, %s" % (
			name, bool(t.flags & dns.flags.TC), [len(r) for r in t.answer])
		assert len(t.to_wire()) > 1232


def answer_lines(out):
	return [ln for ln in out.splitlines() if ln and not ln.startswith(";")]


def run_tool(argv):
	done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
	assert done.returncode == 0, "%s: exit %d\n%s%s" % (argv, done.returncode,
		done.stdout, done.stderr)
	return done.stdout


def check_dig(srv):
	base = ["dig", "@127.0.0.1", "-p", str(srv.port), "big." + ORIGIN, "TXT",
		"+noall", "+answer", "+stats", "+tries=1", "+time=5"]
	# +tcp asks over TCP at once; plain dig retries over TCP after TC=1
	for extra in (["+tcp"], []):
		out = run_tool(base + extra)
		n = len(answer_lines(out))
		assert n == BIG_RRS, "dig %s: %d answers, not %d:\n%s" % (extra, n, BIG_RRS, out)
		assert "(TCP)" in out, "dig %s did not use TCP:\n%s" % (extra, out)


def check_dig_fallback(srv):
	"""Plain dig (no +tcp, no +ignore) gets TC=1 over UDP, then all over TCP."""
	for name, count in (("mid." + ORIGIN, MID_RRS), ("big." + ORIGIN, BIG_RRS)):
		out = run_tool(["dig", "@127.0.0.1", "-p", str(srv.port), name, "TXT",
			"+tries=1", "+time=5"])
		assert "Truncated, retrying in TCP mode" in out, \
			"dig %s: no TC=1 over UDP first:\n%s" % (name, out)
		n = len([ln for ln in answer_lines(out) if "\tTXT\t" in ln])
		assert n == count, "dig %s: %d answers, not %d:\n%s" % (name, n, count, out)
		assert "(TCP)" in out, "dig %s: last reply not over TCP:\n%s" % (name, out)


def check_kdig(srv):
	"""kdig +tcp, and kdig retrying over TCP after TC=1 (its default)."""
	if shutil.which("kdig") is None:
		print("  (kdig not found: skipped)")
		return
	base = ["kdig", "@127.0.0.1", "-p", str(srv.port), "+retry=0", "+time=5"]
	out = run_tool(base + ["+tcp", "+short", "big." + ORIGIN, "TXT"])
	assert len(out.splitlines()) == BIG_RRS, "kdig +tcp: %d answers" % len(out.splitlines())
	for name, count in (("mid." + ORIGIN, MID_RRS), ("big." + ORIGIN, BIG_RRS)):
		out = run_tool(base + ["+noall", "+answer", "+stats", name, "TXT"])
		n = len([ln for ln in answer_lines(out) if "\tTXT\t" in ln])
		assert n == count, "kdig %s: %d answers, not %d:\n%s" % (name, n, count, out)
		assert "(TCP)" in out, "kdig %s: reply not over TCP:\n%s" % (name, out)
	# and with +ignore it keeps the truncated UDP reply
	out = run_tool(base + ["+ignore", "+noall", "+answer", "+stats",
		"big." + ORIGIN, "TXT"])
	assert "(UDP)" in out, "kdig +ignore did not stay on UDP:\n%s" % out


def replies_by_id(sock, queries):
	"""Reads one reply per query, in whatever order they come (RFC 7766
	§7 lets a server reorder), and returns them by ID; an unknown or a
	repeated ID, or a reply to another question, fails."""
	want = {q.id: q for q in queries}
	assert len(want) == len(queries), "the test's query IDs repeat"
	got = {}
	for _ in queries:
		r = recv_msg(sock)
		assert r.id in want, "reply with unknown ID %d" % r.id
		assert r.id not in got, "two replies with ID %d" % r.id
		assert r.question == want[r.id].question, \
			"reply %d answers another question" % r.id
		got[r.id] = r
	return got


def check_pipelining(srv):
	queries = [query("n%d.%s" % (i, ORIGIN), "A", qid=1000 + i) for i in range(50)]
	with connect(srv.port) as s:
		s.sendall(b"".join(frame(q.to_wire()) for q in queries))
		by_id = replies_by_id(s, queries)
	for i, q in enumerate(queries):
		assert by_id[q.id].answer[0][0].address == "198.51.100.%d" % i


def check_pipelining_mixed(srv):
	"""Small and 50 KB replies, NXDOMAIN and keepalive in one pipeline."""
	kinds = [("n7." + ORIGIN, "A"), ("big." + ORIGIN, "TXT"),
		("nope." + ORIGIN, "A"), ("mid." + ORIGIN, "TXT"), (ORIGIN, "SOA")]
	queries = [query(n, t, qid=(7919 * i) & 0xffff)
		for i, (n, t) in enumerate(kinds * 8)]
	queries.append(keepalive_query("www." + ORIGIN, "AAAA", qid=4711))
	with connect(srv.port) as s:
		s.sendall(b"".join(frame(q.to_wire()) for q in queries))
		by_id = replies_by_id(s, queries)
	for q in queries:
		r = by_id[q.id]
		name = q.question[0].name.to_text()
		if name.startswith("big."):
			assert big_complete(r), "reply %d: big TXT incomplete" % q.id
		elif name.startswith("mid."):
			assert big_complete(r, MID_RRS), "reply %d: mid TXT incomplete" % q.id
		elif name.startswith("nope."):
			assert r.rcode() == dns.rcode.NXDOMAIN
		else:
			assert r.rcode() == dns.rcode.NOERROR and r.answer
	assert keepalive_of(by_id[4711]) == [struct.pack("!H", KEEPALIVE_TENTHS)]


def check_split_writes(srv):
	q = query("www." + ORIGIN, "AAAA", qid=4242)
	with connect(srv.port) as s:
		for octet in frame(q.to_wire()):
			s.send(bytes([octet]))
			time.sleep(0.002)
		r = recv_msg(s)
		assert r.id == 4242 and r.answer[0][0].address == "2001:db8::80"
		# the next query split across two writes, with its prefix split too
		w = frame(query(ORIGIN, "SOA", qid=4343).to_wire())
		s.send(w[:1])
		time.sleep(0.05)
		s.send(w[1:])
		assert recv_msg(s).id == 4343


def check_idle_timeout(srv):
	idle = IDLE_TENTHS / 10
	with connect(srv.port) as quiet:
		start = time.monotonic()
		assert closed_by_server(quiet, idle + 2), "idle connection not closed"
		elapsed = time.monotonic() - start
		assert idle * 0.9 <= elapsed <= idle + 1, "closed after %.2f s" % elapsed
	# a connection that asks every idle/3 seconds stays open
	with connect(srv.port) as busy:
		for i in range(7):
			busy.sendall(frame(query("www." + ORIGIN, qid=i).to_wire()))
			assert recv_msg(busy).id == i, "active connection was closed"
			time.sleep(idle / 3)
	# a connection that sent half a query is idle as well
	with connect(srv.port) as half:
		half.sendall(frame(query("www." + ORIGIN).to_wire())[:7])
		assert closed_by_server(half, idle + 2), "half-query connection not closed"


def check_many_connections(srv, n=200):
	socks = [connect(srv.port) for _ in range(n)]
	try:
		for i, s in enumerate(socks):
			s.sendall(frame(query("n%d.%s" % (i % 60, ORIGIN), qid=i).to_wire()))
		for i, s in enumerate(socks):
			assert recv_msg(s).id == i, "connection %d: wrong reply" % i
	finally:
		for s in socks:
			s.close()


def check_slow_reader(srv):
	"""A client that queues megabytes and reads nothing holds up no one.

	200 answers of 50 KB are more than the kernel's socket buffers take,
	so the server stops reading that connection until the client reads.
	"""
	q = query("big." + ORIGIN, "TXT")
	n = 200
	with connect(srv.port) as slow:
		slow.sendall(b"".join(frame(query("big." + ORIGIN, "TXT", qid=i).to_wire())
			for i in range(n)))
		time.sleep(0.3)
		t = dns.query.tcp(q, "127.0.0.1", port=srv.port, timeout=3)
		assert big_complete(t), "other client not served while one reads slowly"
		for i in range(n):
			r = recv_msg(slow)
			assert r.id == i and big_complete(r), "slow reader: reply %d" % i


def check_half_close(srv):
	with connect(srv.port) as s:
		s.sendall(frame(query(ORIGIN, "SOA", qid=7).to_wire()) +
			frame(query("big." + ORIGIN, "TXT", qid=8).to_wire()))
		s.shutdown(socket.SHUT_WR)
		assert recv_msg(s).id == 7
		r = recv_msg(s)
		assert r.id == 8 and big_complete(r)
		assert closed_by_server(s, 3), "not closed after the client's FIN"


def check_bad_framing(srv):
	# a response (QR=1) is not answered; the query after it is
	resp = dns.message.make_response(query(ORIGIN, "SOA", qid=1))
	with connect(srv.port) as s:
		s.sendall(frame(resp.to_wire()) + frame(query(ORIGIN, "NS", qid=2).to_wire()))
		assert recv_msg(s).id == 2
	# a message shorter than a DNS header closes the connection
	for short in (b"", b"\x12\x34\x00\x00\x00"):
		with connect(srv.port) as s:
			s.sendall(frame(short) + frame(query(ORIGIN, "NS").to_wire()))
			assert closed_by_server(s, 3), "%d-octet message not refused" % len(short)
	# and the server still answers
	t = dns.query.tcp(query(ORIGIN, "SOA"), "127.0.0.1", port=srv.port, timeout=3)
	assert t.rcode() == dns.rcode.NOERROR


def check_eviction(srv4):
	"""tcp-clients 4: a fifth connection closes the one idle longest."""
	olds = []
	for i in range(4):
		s = connect(srv4.port)
		s.sendall(frame(query(ORIGIN, "SOA", qid=i).to_wire()))
		assert recv_msg(s).id == i
		olds.append(s)
		time.sleep(0.05)
	# the first becomes the most recently active one
	olds[0].sendall(frame(query(ORIGIN, "SOA", qid=10).to_wire()))
	assert recv_msg(olds[0]).id == 10
	try:
		with connect(srv4.port) as new:
			new.sendall(frame(query(ORIGIN, "SOA", qid=5).to_wire()))
			assert recv_msg(new).id == 5, "new connection not served"
			assert closed_by_server(olds[1], 2), "oldest idle connection kept"
			for s in (olds[0], olds[2], olds[3]):
				assert not closed_by_server(s, 0.05), "a newer connection was closed"
	finally:
		for s in olds:
			s.close()


def check_keepalive_tcp(srv):
	"""The TIMEOUT comes back to a query that asks, and only to one that does."""
	want = [struct.pack("!H", KEEPALIVE_TENTHS)]
	with connect(srv.port) as s:
		s.sendall(frame(keepalive_query("www." + ORIGIN, qid=1).to_wire()))
		r = recv_msg(s)
		assert r.rcode() == dns.rcode.NOERROR and r.answer, "keepalive query:\n%s" % r
		assert keepalive_of(r) == want, "keepalive options %s" % keepalive_of(r)
		s.sendall(frame(query("www." + ORIGIN, qid=2).to_wire()))
		r = recv_msg(s)
		assert keepalive_of(r) == [], "keepalive sent unasked: %s" % r
		# on a 50 KB answer, and next to NSID
		s.sendall(frame(keepalive_query("big." + ORIGIN, "TXT", qid=3).to_wire()))
		r = recv_msg(s)
		assert big_complete(r) and keepalive_of(r) == want
		both = query("www." + ORIGIN, qid=4, options=[
			dns.edns.GenericOption(dns.edns.NSID, b""),
			dns.edns.GenericOption(KEEPALIVE, b"")])
		s.sendall(frame(both.to_wire()))
		r = recv_msg(s)
		codes = [int(o.otype) for o in r.options]
		assert codes == [dns.edns.NSID, KEEPALIVE], "options %s" % codes
		assert r.options[0].to_wire() == NSID.encode() and keepalive_of(r) == want
	# dig +keepalive shows the value
	out = run_tool(["dig", "@127.0.0.1", "-p", str(srv.port), "+tcp",
		"+keepalive", "+tries=1", "+time=5", "www." + ORIGIN, "A"])
	assert "TCP KEEPALIVE: %.1f secs" % (KEEPALIVE_TENTHS / 10) in out, \
		"dig +keepalive:\n%s" % out


def check_keepalive_udp(srv):
	"""Over UDP the option is ignored: a normal answer, no keepalive."""
	for data in (b"", b"\x00\x64"):
		q = keepalive_query("www." + ORIGIN, qid=77, data=data)
		u = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3)
		assert u.rcode() == dns.rcode.NOERROR and u.answer, "UDP %r:\n%s" % (data, u)
		assert keepalive_of(u) == [], "keepalive over UDP: %s" % u
		plain = dns.query.udp(query("www." + ORIGIN, qid=77), "127.0.0.1",
			port=srv.port, timeout=3)
		assert same_reply(u, plain), "UDP with option %r differs:\n%s\n---\n%s" % (
			data, u, plain)


def check_keepalive_formerr(srv):
	"""RFC 7828 §3.2.1: a query's option has no TIMEOUT; one that has is
	malformed (FORMERR, as Unbound answers) and the connection goes on."""
	with connect(srv.port) as s:
		s.sendall(frame(keepalive_query("www." + ORIGIN, qid=5,
			data=b"\x00\x64").to_wire()))
		r = recv_msg(s)
		assert r.id == 5 and r.rcode() == dns.rcode.FORMERR, "got:\n%s" % r
		assert not r.answer and keepalive_of(r) == []
		s.sendall(frame(query("www." + ORIGIN, qid=6).to_wire()))
		r = recv_msg(s)
		assert r.id == 6 and r.rcode() == dns.rcode.NOERROR


def check_keepalive_idle(srv):
	"""A connection that sent the option is closed after the keepalive
	timeout, not after tcp-idle-timeout."""
	idle, keep = IDLE_TENTHS / 10, KEEPALIVE_TENTHS / 10
	with connect(srv.port) as s, connect(srv.port) as plain:
		s.sendall(frame(keepalive_query(ORIGIN, "SOA", qid=9).to_wire()))
		plain.sendall(frame(query(ORIGIN, "SOA", qid=10).to_wire()))
		assert recv_msg(s).id == 9 and recv_msg(plain).id == 10
		start = time.monotonic()
		assert closed_by_server(plain, idle + 2), "plain connection not closed"
		assert not closed_by_server(s, max(0.0, idle + 0.5 -
			(time.monotonic() - start))), "keepalive connection closed at the idle timeout"
		assert closed_by_server(s, keep + 2), "keepalive connection not closed"
		elapsed = time.monotonic() - start
		assert keep * 0.9 <= elapsed <= keep + 1, "closed after %.2f s" % elapsed
	# the longer timeout stays with the connection: later queries need not ask
	with connect(srv.port) as s:
		s.sendall(frame(keepalive_query(ORIGIN, "SOA", qid=11).to_wire()))
		assert recv_msg(s).id == 11
		time.sleep(idle / 2)
		s.sendall(frame(query(ORIGIN, "SOA", qid=12).to_wire()))
		assert recv_msg(s).id == 12
		assert not closed_by_server(s, idle + 0.5), "closed at the idle timeout"


def has_ipv6_loopback():
	try:
		with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
			s.bind(("::1", 0))
		return True
	except OSError:
		return False


def served(sock, qid):
	"""True when SOCK still gets an answer."""
	try:
		sock.sendall(frame(query(ORIGIN, "SOA", qid=qid).to_wire()))
		sock.settimeout(3)
		return recv_msg(sock).id == qid
	except (OSError, EOFError):
		return False


def check_per_client(srvp):
	"""tcp-clients-per-address 2, tcp-clients 5: with 127.0.0.1 (2),
	127.0.0.2 (1) and ::1 (2) connected, the server is full; a third
	connection of 127.0.0.1 or of ::1 is closed at once, and none of the
	others is (no eviction).  Once one of 127.0.0.1's closes, it may open
	another."""
	open_socks = []

	def conn(**kw):
		s = connect(srvp.port, **kw)
		open_socks.append(s)
		return s

	try:
		mine = [conn() for _ in range(PER_ADDRESS)]
		other = conn(source="127.0.0.2")
		v6_kw = {"source": "::1", "dest": "::1"}
		if not srvp.ipv6:  # no IPv6 loopback: 127.0.0.3 fills the server
			print("  (no ::1: IPv6 part skipped)")
			v6_kw = {"source": "127.0.0.3"}
		v6 = [conn(**v6_kw) for _ in range(PER_ADDRESS)]
		everyone = mine + [other] + v6
		for i, s in enumerate(everyone):
			assert served(s, i), "connection %d not served" % i
		for kw in ({}, v6_kw):
			extra = conn(**kw)
			assert closed_by_server(extra, 1), \
				"%s: connection over the limit kept" % kw.get("source", "127.0.0.1")
		for i, s in enumerate(everyone):
			assert served(s, 20 + i), "connection %d closed by a refusal" % i
		# a slot of 127.0.0.1 comes free when one of its connections closes
		mine[0].close()
		for attempt in range(50):
			again = conn()
			if served(again, 40 + attempt):
				break
			time.sleep(0.05)
		else:
			raise AssertionError("127.0.0.1 refused after closing one")
		for i, s in enumerate(everyone[1:]):
			assert served(s, 100 + i), "connection %d closed" % (i + 1)
	finally:
		for s in open_socks:
			s.close()


CHECKS = [
	("same answers over TCP and UDP", check_same_as_udp),
	("truncated over UDP, whole over TCP", check_truncated_then_whole),
	("dig +tcp and dig retrying after TC", check_dig),
	("dig: TC=1 over UDP, then the whole answer over TCP", check_dig_fallback),
	("kdig +tcp and kdig retrying after TC", check_kdig),
	("50 pipelined queries in one write", check_pipelining),
	("pipelined mixed replies, matched by ID", check_pipelining_mixed),
	("a query written byte by byte", check_split_writes),
	("idle timeout", check_idle_timeout),
	("200 connections at once", check_many_connections),
	("a slow reader holds up no one", check_slow_reader),
	("half-close", check_half_close),
	("bad framing", check_bad_framing),
	("edns-tcp-keepalive echoed over TCP", check_keepalive_tcp),
	("edns-tcp-keepalive ignored over UDP", check_keepalive_udp),
	("edns-tcp-keepalive with a TIMEOUT: FORMERR", check_keepalive_formerr),
	("edns-tcp-keepalive: the keepalive idle timeout", check_keepalive_idle),
]
EVICTION_CHECKS = [("tcp-clients: the idle one makes room", check_eviction)]
PER_CLIENT_CHECKS = [("tcp-clients-per-address", check_per_client)]


def run_checks(srv, checks):
	failed = 0
	for title, fn in checks:
		start = time.monotonic()
		try:
			fn(srv)
			print("ok    %s (%.1f s)" % (title, time.monotonic() - start))
		except (AssertionError, OSError, EOFError, dns.exception.DNSException,
				subprocess.SubprocessError) as err:
			failed += 1
			print("FAIL  %s: %s: %s" % (title, type(err).__name__, err))
	return failed


def main():
	p = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	p.add_argument("--build", required=True, help="meson build directory")
	args = p.parse_args()
	tmp = tempfile.mkdtemp(prefix="bw-tcp-test-")
	try:
		zonefile = os.path.join(tmp, "tcp.test.zone")
		with open(zonefile, "w") as f:
			f.write(zone_text())
		srv = TcpBulwark(zonefile, args.build,
			["tcp-idle-timeout %d" % IDLE_TENTHS, "tcp-clients 300",
			"tcp-clients-per-address 300",
			"tcp-keepalive-timeout %d" % KEEPALIVE_TENTHS, 'nsid "%s"' % NSID])
		with srv:
			failed = run_checks(srv, CHECKS)
		srv4 = TcpBulwark(zonefile, args.build,
			["tcp-clients 4", "tcp-clients-per-address 8"])
		with srv4:
			failed += run_checks(srv4, EVICTION_CHECKS)
		srvp = TcpBulwark(zonefile, args.build,
			["tcp-clients %d" % (2 * PER_ADDRESS + 1),
			"tcp-clients-per-address %d" % PER_ADDRESS],
			ipv6=has_ipv6_loopback())
		with srvp:
			failed += run_checks(srvp, PER_CLIENT_CHECKS)
		servers = (srv, srv4, srvp)
		failed += sum(not stopped_cleanly(s) for s in servers)
	finally:
		shutil.rmtree(tmp, ignore_errors=True)
	total = len(CHECKS) + len(EVICTION_CHECKS) + len(PER_CLIENT_CHECKS) + len(servers)
	print("%d of %d checks passed" % (total - failed, total))
	return 1 if failed else 0


if __name__ == "__main__":
	sys.exit(main())
