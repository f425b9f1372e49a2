#!/usr/bin/python3
"""Integration test: bulwarkd answers over TCP (RFC 7766).

    tcp_test.py --build BUILD

Writes a small zone with RRsets too large for UDP, compiles it with
bulwark-compile from BUILD and starts bulwarkd on a free loopback port
(tests/diff/bulwark.py), with a short `tcp-idle-timeout`. Then checks: TCP
and UDP give the same answers; truncated UDP answers come back whole over
TCP, also through dig and kdig; pipelined and byte-by-byte queries; idle
connections are closed and active ones are not; a slow reader does not
hold up other clients; many connections at once; half-close; bad framing;
and, on a second server with `tcp-clients 4`, that a new connection makes
room by closing the one idle longest.
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

import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

from bulwark import Bulwark  # noqa: E402

ORIGIN = "tcp.test."
IDLE_TENTHS = 10          # tcp-idle-timeout: 1 s
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

	def __init__(self, zonefile, build_dir, options):
		super().__init__(zonefile, ORIGIN, build_dir)
		self.options = options
		self.exit_status = None
		self.exit_log = ""

	def prepare(self):
		argv = super().prepare()
		path = self.path("bulwark.conf")
		with open(path) as f:
			conf = f.read()
		extra = "".join("\t%s;\n" % o for o in self.options)
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

def query(name, rdtype="A", qid=None, payload=1232):
	q = dns.message.make_query(name, rdtype, use_edns=0, payload=payload)
	if qid is not None:
		q.id = qid
	return q


def frame(wire):
	return struct.pack("!H", len(wire)) + wire


def connect(port, timeout=5.0):
	s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
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


def check_kdig(srv):
	if shutil.which("kdig") is None:
		print("  (kdig not found: skipped)")
		return
	out = run_tool(["kdig", "@127.0.0.1", "-p", str(srv.port), "+tcp",
		"+short", "big." + ORIGIN, "TXT"])
	assert len(out.splitlines()) == BIG_RRS, "kdig +tcp: %d answers" % len(out.splitlines())


def check_pipelining(srv):
	queries = [query("n%d.%s" % (i, ORIGIN), "A", qid=1000 + i) for i in range(50)]
	with connect(srv.port) as s:
		s.sendall(b"".join(frame(q.to_wire()) for q in queries))
		replies = [recv_msg(s) for _ in queries]
	by_id = {r.id: r for r in replies}
	assert sorted(by_id) == [q.id for q in queries], "IDs: %s" % sorted(by_id)
	for i, q in enumerate(queries):
		r = by_id[q.id]
		assert r.question == q.question, "reply %d answers another question" % q.id
		assert r.answer[0][0].address == "198.51.100.%d" % i


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


CHECKS = [
	("same answers over TCP and UDP", check_same_as_udp),
	("truncated over UDP, whole over TCP", check_truncated_then_whole),
	("dig +tcp and dig retrying after TC", check_dig),
	("kdig +tcp", check_kdig),
	("50 pipelined queries in one write", check_pipelining),
	("a query written byte by byte", check_split_writes),
	("idle timeout", check_idle_timeout),
	("200 connections at once", check_many_connections),
	("a slow reader holds up no one", check_slow_reader),
	("half-close", check_half_close),
	("bad framing", check_bad_framing),
]


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
			["tcp-idle-timeout %d" % IDLE_TENTHS, "tcp-clients 300"])
		with srv:
			failed = run_checks(srv, CHECKS)
		srv4 = TcpBulwark(zonefile, args.build, ["tcp-clients 4"])
		with srv4:
			failed += run_checks(srv4, [("tcp-clients: the idle one makes room",
				check_eviction)])
		failed += (not stopped_cleanly(srv)) + (not stopped_cleanly(srv4))
	finally:
		shutil.rmtree(tmp, ignore_errors=True)
	total = len(CHECKS) + 3
	print("%d of %d checks passed" % (total - failed, total))
	return 1 if failed else 0


if __name__ == "__main__":
	sys.exit(main())
