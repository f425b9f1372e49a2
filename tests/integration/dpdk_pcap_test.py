#!/usr/bin/python3
"""Integration test: the DPDK packet path, frame by frame, against a pcap.

    dpdk_pcap_test.py --build BUILD [--keep] [--seed N]

Writes a small zone (golden.test) and a pcap of crafted frames addressed
to a net_pcap port (02:70:63:61:70:00, 192.0.2.53, 2001:db8::53): DNS
queries over IPv4 and IPv6 (positive, NXDOMAIN, wildcard, referral,
NODATA, CNAME, out of zone, EDNS sizes 512/1232/4096, DO=1, a big TXT set
that is truncated without EDNS), 802.1Q and QinQ tagged frames, ARP
requests, neighbour solicitations (solicited-node multicast and unicast),
ICMP and ICMPv6 echo requests, and frames that must get no response:
for the kernel, which is absent (`exception none`: drop.exception_full),
such as TCP to port 53, fragments, IP options, DAD; and dropped ones, such
as other addresses, a DNS response, bad checksums and lengths, runts,
multicast sources (also for an NS: RFC 4291 2.7).  bulwarkd (`io dpdk`, `exception none`) reads it as
rx_pcap and writes its responses to a tx_pcap.

Then every response is matched to its query and checked: Ethernet
addresses, VLAN tags, swapped addresses and ports, lengths, TTL/hop limit,
IPv4 header, UDP, ICMP and ICMPv6 checksums (computed here), NA flags and
option.  DNS payloads must equal byte for byte what a second bulwarkd
(`io socket` on 127.0.0.1, same zone, same edns-udp-size) answers to the
same query, and dnspython checks rcode and flags.  Finally the counters of
/bulwark/stats (taken just before the stop) must be exactly what the
crafted frames imply, and the output pcap must hold `tx` frames.
"""

import argparse
import collections
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "diff"))

import dns.edns  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.opcode  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402

from bulwark import Bulwark  # noqa: E402
from dpdk_util import RUN_DIR, DpdkServer, eal_args  # noqa: E402

ORIGIN = "golden.test."
EDNS_UDP_SIZE = 1232
BIG_TXT_RRS = 4            # 4 x 200 octets: > 512, < 1232 on the wire
PORT_MAC = bytes.fromhex("027063617000")
BCAST = b"\xff" * 6
OUR4 = socket.inet_pton(socket.AF_INET, "192.0.2.53")
OUR6 = socket.inet_pton(socket.AF_INET6, "2001:db8::53")
SOLICITED6 = socket.inet_pton(socket.AF_INET6, "ff02::1:ff00:53")
SOLICITED_MAC = bytes.fromhex("3333ff000053")
TPID_8021Q, TPID_8021AD = 0x8100, 0x88a8
ET_IPV4, ET_ARP, ET_IPV6 = 0x0800, 0x0806, 0x86dd
BASE_TIME = 1704067200


def ip4(text):
	return socket.inet_pton(socket.AF_INET, text)


def ip6(text):
	return socket.inet_pton(socket.AF_INET6, text)


def ntop(addr):
	return socket.inet_ntop(socket.AF_INET if len(addr) == 4 else socket.AF_INET6, addr)


def mac_text(m):
	return ":".join("%02x" % b for b in m)


# ---- The zone. ----

def zone_text():
	lines = [
		"$ORIGIN %s" % ORIGIN,
		"$TTL 3600",
		"@ SOA ns1 hostmaster 2024060101 7200 3600 1209600 300",
		"@ NS ns1",
		"@ NS ns2",
		"ns1 A 192.0.2.1",
		"ns2 AAAA 2001:db8::2",
		"www A 192.0.2.80",
		"www AAAA 2001:db8::80",
		"alias CNAME www",
		"*.wild A 192.0.2.99",
		'*.wild TXT "wildcard"',
		"sub NS ns.sub",
		"ns.sub A 192.0.2.100",
		"ns.sub AAAA 2001:db8::100",
	]
	for i in range(BIG_TXT_RRS):
		lines.append('big TXT "%02d-%s"' % (i, chr(ord("a") + i) * 197))
	return "\n".join(lines) + "\n"


# ---- Checksums and headers. ----

def csum(data):
	if len(data) % 2:
		data += b"\0"
	s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
	while s >> 16:
		s = (s & 0xffff) + (s >> 16)
	return ~s & 0xffff


def pseudo(src, dst, proto, length):
	if len(src) == 4:
		return src + dst + struct.pack("!BBH", 0, proto, length)
	return src + dst + struct.pack("!IxxxB", length, proto)


def l4_cksum(src, dst, proto, seg):
	"""Checksum of SEG (its checksum field zero) with the pseudo-header."""
	c = csum(pseudo(src, dst, proto, len(seg)) + seg)
	return 0xffff if (c == 0 and proto == 17) else c


def eth_hdr(dst, src, ethertype, tags=()):
	h = dst + src
	for tpid, tci in tags:
		h += struct.pack("!HH", tpid, tci)
	return h + struct.pack("!H", ethertype)


def ipv4_pkt(src, dst, proto, payload, ident, ttl=64, frag=0x4000, bad_cksum=False):
	hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag,
		ttl, proto, 0, src, dst)
	ck = csum(hdr)
	if bad_cksum:
		ck ^= 0x5a5a
	return hdr[:10] + struct.pack("!H", ck) + hdr[12:] + payload


def ipv6_pkt(src, dst, nh, payload, hlim=64, flow=0):
	return struct.pack("!IHBB16s16s", 0x60000000 | flow, len(payload), nh, hlim,
		src, dst) + payload


def udp_seg(src, dst, sport, dport, payload):
	u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
	return u[:6] + struct.pack("!H", l4_cksum(src, dst, 17, u)) + u[8:]


def tcp_syn(src, dst, sport, dport, seq):
	t = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
	return t[:16] + struct.pack("!H", l4_cksum(src, dst, 6, t)) + t[18:]


def icmp4_echo(ident, seq, data):
	m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
	return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def icmp6_msg(src, dst, body):
	"""ICMPv6 message BODY (checksum field zero) with its checksum."""
	return body[:2] + struct.pack("!H", l4_cksum(src, dst, 58, body)) + body[4:]


def pad60(frame):
	return frame + b"\0" * max(0, 60 - len(frame))


# ---- pcap. ----

def write_pcap(path, frames):
	with open(path, "wb") as f:
		f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
		for i, fr in enumerate(frames):
			f.write(struct.pack("<IIII", BASE_TIME + i // 1000, (i % 1000) * 1000,
				len(fr), len(fr)))
			f.write(fr)


def read_pcap(path):
	"""Frames of a classic pcap (either byte order, micro or nano)."""
	with open(path, "rb") as f:
		data = f.read()
	if len(data) < 24:
		raise AssertionError("%s: %d octets, no pcap header" % (path, len(data)))
	magic = data[:4]
	if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
		e = "<"
	elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
		e = ">"
	else:
		raise AssertionError("%s: not a pcap file (magic %s)" % (path, magic.hex()))
	link = struct.unpack(e + "I", data[20:24])[0]
	if link != 1:
		raise AssertionError("%s: link type %d, not Ethernet" % (path, link))
	frames, off = [], 24
	while off < len(data):
		if off + 16 > len(data):
			raise AssertionError("%s: truncated record header at %d" % (path, off))
		_, _, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
		off += 16
		fr = data[off:off + incl]
		if len(fr) != incl:
			raise AssertionError("%s: truncated record at %d" % (path, off))
		if incl != orig:
			raise AssertionError("%s: frame %d captured %d of %d octets" %
				(path, len(frames), incl, orig))
		frames.append(fr)
		off += incl
	return frames


# ---- Cases. ----

class Case:
	"""One crafted frame and what it must produce.

	kind: dns, arp, na, echo4, echo6 (a response), or none (no response).
	moves: the counters of /bulwark/stats it moves ("drop.not_ours": 1).
	"""

	def __init__(self, name, kind, frame, src_mac, tags=(), moves=None, **kw):
		self.name = name
		self.kind = kind
		self.frame = frame
		self.src_mac = src_mac
		self.tags = b"".join(struct.pack("!HH", t, c) for t, c in tags)
		self.moves = collections.Counter({"rx": 1})
		self.moves.update(moves or {})
		self.__dict__.update(kw)
		self.response = None

	def key(self):
		"""Key of its expected response (see response_key)."""
		if self.kind == "dns":
			return ("udp%d" % (4 if len(self.src_ip) == 4 else 6), self.dst_ip,
				self.src_ip, self.dport, self.sport, self.qid)
		if self.kind == "arp":
			return ("arp", self.spa, self.sha)
		if self.kind == "na":
			return ("na", self.src_ip, self.target)
		if self.kind in ("echo4", "echo6"):
			return (self.kind, self.dst_ip, self.src_ip, self.ident, self.seq)
		return getattr(self, "forbidden_key", None)


class Builder:
	def __init__(self, seed):
		self.rnd = random.Random(seed)
		self.cases = []
		self.n = 0
		self.used_ports = set()
		self.used_ids = set()

	# unique sources
	def mac(self):
		self.n += 1
		return bytes([0x02, 0x00, 0x5e, 0x10, self.n >> 8, self.n & 0xff])

	def src4(self):
		return ip4("198.51.100.%d" % (10 + self.n)) if self.n % 2 else \
			ip4("203.0.113.%d" % (10 + self.n))

	def src6(self):
		return ip6("2001:db8:%x::%x" % (1 + self.n % 3, 0x1000 + self.n))

	def sport(self):
		while True:
			p = self.rnd.randrange(1024, 65536)
			if p not in self.used_ports:
				self.used_ports.add(p)
				return p

	def qid(self):
		while True:
			i = self.rnd.randrange(0, 65536)
			if i not in self.used_ids:
				self.used_ids.add(i)
				return i

	def add(self, case):
		self.cases.append(case)
		return case

	# DNS
	def dns(self, name, qname, qtype, fam=4, edns=None, do=False, tags=(), rd=False,
			rcode="NOERROR", aa=True, tc=False, check=None, trailer=b"",
			dst_mac=PORT_MAC, rdclass="IN", edns_version=0, opcode=dns.opcode.QUERY,
			wire_fix=None, qtype_bucket=None, parsed=True, udp_cksum=True):
		"""A query; PARSED=False: the engine cannot read past the header
		(no question or OPT in the response, qtype bucket "other")."""
		mac = self.mac()
		q = dns.message.make_query(qname, qtype, rdclass=rdclass)
		if edns:
			q.use_edns(edns_version, payload=edns, ednsflags=dns.flags.DO if do else 0)
		q.id = self.qid()
		q.flags = dns.flags.RD if rd else 0
		q.set_opcode(opcode)
		payload = q.to_wire()
		if wire_fix:
			payload = wire_fix(payload)
		sport = self.sport()
		if qtype_bucket is None:
			qtype_bucket = dns.rdatatype.to_text(dns.rdatatype.from_text(qtype)) \
				if parsed else "other"
		moves = {"tx": 1, "answers": 1, "rcode." + rcode: 1, "qtype." + qtype_bucket: 1}
		if edns and parsed:
			moves["edns"] = 1
		if do and parsed:
			moves["do"] = 1
		if tc:
			moves["tc"] = 1
		if fam == 4:
			src, dst = self.src4(), OUR4
			seg = udp_seg(src, dst, sport, 53, payload)
			if not udp_cksum:     # no checksum: allowed over IPv4 (RFC 768)
				seg = seg[:6] + b"\0\0" + seg[8:]
			l3 = ipv4_pkt(src, dst, 17, seg,
				ident=self.rnd.randrange(65536), ttl=self.rnd.choice((37, 52, 64, 128, 255)),
				frag=self.rnd.choice((0, 0x4000)))
			et = ET_IPV4
		else:
			src, dst = self.src6(), OUR6
			l3 = ipv6_pkt(src, dst, 17, udp_seg(src, dst, sport, 53, payload),
				hlim=self.rnd.choice((1, 44, 64, 255)), flow=self.rnd.randrange(1 << 20))
			et = ET_IPV6
		frame = eth_hdr(dst_mac, mac, et, tags) + l3 + trailer
		return self.add(Case(name, "dns", frame, mac, tags, moves, src_ip=src,
			dst_ip=dst, sport=sport, dport=53, qid=q.id, query=q, payload=payload,
			edns=edns, do=do, rd=rd, rcode=rcode, aa=aa, tc=tc, check=check,
			opcode=opcode, parsed=parsed, ask_engine=True))

	# ARP
	def arp(self, name, tags=(), broadcast=True, tpa=OUR4, moves=None):
		mac = self.mac()
		spa = self.src4()
		body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, spa, b"\0" * 6, tpa)
		frame = pad60(eth_hdr(BCAST if broadcast else PORT_MAC, mac, ET_ARP, tags) + body)
		if moves is not None:
			return self.add(Case(name, "none", frame, mac, tags, moves,
				forbidden_key=("arp", spa, mac)))
		return self.add(Case(name, "arp", frame, mac, tags, {"tx": 1, "arp": 1},
			spa=spa, sha=mac))

	# Neighbour solicitation
	def ns(self, name, src=None, unicast=False, tags=(), hlim=255, moves=None):
		mac = self.mac()
		src = src or self.src6()
		dst = OUR6 if unicast else SOLICITED6
		body = struct.pack("!BBHI16s", 135, 0, 0, 0, OUR6) + struct.pack("!BB6s", 1, 1, mac)
		l3 = ipv6_pkt(src, dst, 58, icmp6_msg(src, dst, body), hlim=hlim)
		frame = eth_hdr(PORT_MAC if unicast else SOLICITED_MAC, mac, ET_IPV6, tags) + l3
		if moves is not None:
			return self.add(Case(name, "none", frame, mac, tags, moves,
				forbidden_key=("na", src, OUR6)))
		return self.add(Case(name, "na", frame, mac, tags, {"tx": 1, "nd": 1},
			src_ip=src, target=OUR6))

	# Echo
	def echo4(self, name, tags=(), size=56):
		mac = self.mac()
		src = self.src4()
		ident, seq = self.rnd.randrange(65536), self.rnd.randrange(65536)
		data = bytes(self.rnd.randrange(256) for _ in range(size))
		msg = icmp4_echo(ident, seq, data)
		frame = eth_hdr(PORT_MAC, mac, ET_IPV4, tags) + ipv4_pkt(src, OUR4, 1, msg,
			ident=self.rnd.randrange(65536), ttl=63)
		return self.add(Case(name, "echo4", frame, mac, tags, {"tx": 1, "echo": 1},
			src_ip=src, dst_ip=OUR4, ident=ident, seq=seq, icmp=msg))

	def echo6(self, name, tags=(), size=56):
		mac = self.mac()
		src = self.src6()
		ident, seq = self.rnd.randrange(65536), self.rnd.randrange(65536)
		data = bytes(self.rnd.randrange(256) for _ in range(size))
		body = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data
		msg = icmp6_msg(src, OUR6, body)
		frame = eth_hdr(PORT_MAC, mac, ET_IPV6, tags) + ipv6_pkt(src, OUR6, 58, msg, hlim=61)
		return self.add(Case(name, "echo6", frame, mac, tags, {"tx": 1, "echo": 1},
			src_ip=src, dst_ip=OUR6, ident=ident, seq=seq, icmp=msg))

	def silent(self, name, frame, mac, moves, **kw):
		return self.add(Case(name, "none", frame, mac, (), moves, **kw))

	def more_silent(self, query, exc_full):
		"""Malformed, kernel-bound and foreign frames: no response."""
		def v4(name, make, moves, ethertype=ET_IPV4, dst_mac=PORT_MAC):
			mac, src = self.mac(), self.src4()
			self.silent(name, eth_hdr(dst_mac, mac, ethertype) + make(src), mac, moves)

		def v6(name, make, moves, dst_mac=PORT_MAC):
			mac, src = self.mac(), self.src6()
			self.silent(name, eth_hdr(dst_mac, mac, ET_IPV6) + make(src), mac, moves)

		def udp4(src, dst=OUR4):
			return udp_seg(src, dst, self.sport(), 53, query)

		def kernel(what):
			return dict(exc_full, **{"exception." + what: 1})

		def with_ihl6(src):
			pkt = ipv4_pkt(src, OUR4, 17, udp4(src), ident=21)
			hdr = bytes([0x46]) + pkt[1:2] + struct.pack("!H", 24 + len(pkt) - 20) + \
				pkt[4:10] + b"\0\0" + pkt[12:20] + b"\x01\x01\x01\x00"
			hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
			return hdr + pkt[20:]

		def total_too_big(src):
			pkt = bytearray(ipv4_pkt(src, OUR4, 17, udp4(src), ident=22))
			struct.pack_into("!HH", pkt, 2, len(pkt) + 100, struct.unpack("!H", pkt[4:6])[0])
			struct.pack_into("!H", pkt, 10, 0)
			struct.pack_into("!H", pkt, 10, csum(bytes(pkt[:20])))
			return bytes(pkt)

		def udp_len_too_big(src):
			seg = bytearray(udp4(src))
			struct.pack_into("!H", seg, 4, len(seg) + 20)
			return ipv4_pkt(src, OUR4, 17, bytes(seg), ident=23)

		def hop_by_hop(src):
			seg = udp_seg(src, OUR6, self.sport(), 53, query)
			return ipv6_pkt(src, OUR6, 0, bytes([17, 0, 1, 4, 0, 0, 0, 0]) + seg)

		def icmp6_to(dst, body, src):
			return ipv6_pkt(src, dst, 58, icmp6_msg(src, dst, body), hlim=255)

		v4("v4 fragment (MF) to port 53", lambda s: ipv4_pkt(s, OUR4, 17, udp4(s),
			ident=24, frag=0x2000), kernel("fragment"))
		v4("v4 header with options", with_ihl6, kernel("ip_options"))
		v4("v4 GRE to our address", lambda s: ipv4_pkt(s, OUR4, 47, b"\0" * 24, ident=25),
			kernel("proto"))
		v4("v4 ICMP port unreachable", lambda s: ipv4_pkt(s, OUR4, 1,
			(lambda m: m[:2] + struct.pack("!H", csum(m)) + m[4:])(
				struct.pack("!BBHI", 3, 3, 0, 0) + b"\x45" + b"\0" * 27), ident=26),
			kernel("proto"))
		v4("v4 ICMP echo with a bad checksum", lambda s: ipv4_pkt(s, OUR4, 1,
			(lambda m: m[:2] + struct.pack("!H", csum(m) ^ 0x0101) + m[4:])(
				icmp4_echo(1, 2, b"x" * 16)), ident=27), {"drop.bad_cksum": 1})
		v4("v4 UDP length above the IP payload", udp_len_too_big, {"drop.bad_udp": 1})
		v4("v4 total length above the frame", total_too_big, {"drop.bad_ip": 1})
		v4("IP version 5 in an IPv4 frame", lambda s: bytes([0x55]) +
			ipv4_pkt(s, OUR4, 17, udp4(s), ident=28)[1:], {"drop.bad_ip": 1})
		v4("v4 query from a multicast source", lambda s: ipv4_pkt(ip4("224.0.0.251"), OUR4,
			17, udp4(ip4("224.0.0.251")), ident=29), {"drop.bad_src": 1})
		v4("unicast frame of another EtherType (0x88b5)", lambda s: b"\0" * 46,
			kernel("l2"), ethertype=0x88b5)
		v4("broadcast frame of another EtherType (0x88b5)", lambda s: b"\0" * 46,
			{"drop.not_ours": 1}, ethertype=0x88b5, dst_mac=BCAST)
		v6("v6 hop-by-hop header before UDP", hop_by_hop, kernel("ipv6_ext"))
		v6("v6 query from a multicast source", lambda s: ipv6_pkt(ip6("ff05::fb"), OUR6, 17,
			udp_seg(ip6("ff05::fb"), OUR6, self.sport(), 53, query)), {"drop.bad_src": 1})
		v6("v6 payload length above the frame", lambda s: (lambda p: p[:4] +
			struct.pack("!H", len(p)) + p[6:])(ipv6_pkt(s, OUR6, 17,
			udp_seg(s, OUR6, self.sport(), 53, query))), {"drop.bad_ip": 1})
		v6("ICMPv6 echo with a bad checksum", lambda s: ipv6_pkt(s, OUR6, 58,
			(lambda m: m[:2] + bytes([m[2] ^ 0x10, m[3]]) + m[4:])(icmp6_msg(s, OUR6,
				struct.pack("!BBHHH", 128, 0, 0, 3, 4) + b"y" * 8))), {"drop.bad_cksum": 1})
		v6("router advertisement to all-nodes", lambda s: icmp6_to(ip6("ff02::1"),
			struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0), ip6("fe80::1")),
			kernel("neigh"), dst_mac=bytes.fromhex("333300000001"))
		mac = self.mac()
		self.silent("runt frame (10 octets)", PORT_MAC + mac[:4], mac, {"drop.runt": 1})
		mac = self.mac()
		body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac, self.src4(),
			PORT_MAC, OUR4)
		self.silent("ARP reply to us", pad60(eth_hdr(PORT_MAC, mac, ET_ARP) + body), mac,
			kernel("neigh"))
		mac = self.mac()
		body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x01" + mac[1:],
			self.src4(), b"\0" * 6, OUR4)
		self.silent("ARP request from a multicast sender MAC", pad60(eth_hdr(BCAST, mac,
			ET_ARP) + body), mac, {"drop.bad_src": 1})
		mac = self.mac()
		body = struct.pack("!HHBBH8s4s8s4s", 1, 0x0800, 8, 4, 1, mac + b"\0\0",
			self.src4(), b"\0" * 8, OUR4)
		self.silent("ARP request with hardware length 8", pad60(eth_hdr(BCAST, mac,
			ET_ARP) + body), mac, {"drop.bad_neigh": 1})


# ---- Content checks of DNS responses (dnspython). Return a problem or None. ----

def rrset(msg_section, name, rdtype):
	for rs in msg_section:
		if rs.name == dns.name.from_text(name) and rs.rdtype == dns.rdatatype.from_text(rdtype):
			return rs
	return None


def has(section_name, name, rdtype, values=None, count=None):
	def check(m):
		rs = rrset(getattr(m, section_name), name, rdtype)
		if rs is None:
			return "no %s %s in the %s section" % (name, rdtype, section_name)
		if values is not None and sorted(r.to_text() for r in rs) != sorted(values):
			return "%s %s in %s is %s, expected %s" % (name, rdtype, section_name,
				sorted(r.to_text() for r in rs), sorted(values))
		if count is not None and len(rs) != count:
			return "%s %s has %d records, expected %d" % (name, rdtype, len(rs), count)
		return None
	return check


def empty(section_name):
	def check(m):
		sec = getattr(m, section_name)
		return "%s section not empty: %s" % (section_name, [r.to_text() for r in sec]) \
			if sec else None
	return check


def all_of(*checks):
	def check(m):
		for c in checks:
			p = c(m)
			if p:
				return p
		return None
	return check


def negative(m):
	return all_of(empty("answer"), has("authority", ORIGIN, "SOA"))(m)


def referral(m):
	return all_of(empty("answer"),
		has("authority", "sub." + ORIGIN, "NS", ["ns.sub." + ORIGIN]),
		has("additional", "ns.sub." + ORIGIN, "A", ["192.0.2.100"]),
		has("additional", "ns.sub." + ORIGIN, "AAAA", ["2001:db8::100"]))(m)


def build_cases(seed):
	b = Builder(seed)
	www_a = has("answer", "www." + ORIGIN, "A", ["192.0.2.80"])
	www_aaaa = has("answer", "www." + ORIGIN, "AAAA", ["2001:db8::80"])
	big_full = has("answer", "big." + ORIGIN, "TXT", count=BIG_TXT_RRS)
	q8021 = [(TPID_8021Q, 100)]
	qinq = [(TPID_8021AD, 200), (TPID_8021Q, 0x2000 | 300)]   # PCP 1 inside

	# DNS over IPv4 and IPv6
	b.dns("v4 A www", "www." + ORIGIN, "A", check=www_a)
	b.dns("v6 AAAA www (EDNS 1232)", "www." + ORIGIN, "AAAA", fam=6, edns=1232, check=www_aaaa)
	b.dns("v4 AAAA www (EDNS 4096)", "www." + ORIGIN, "AAAA", edns=4096, check=www_aaaa)
	b.dns("v6 A www", "www." + ORIGIN, "A", fam=6, check=www_a)
	b.dns("v4 NXDOMAIN (EDNS 1232)", "nope." + ORIGIN, "A", edns=1232, rcode="NXDOMAIN",
		check=negative)
	b.dns("v6 NXDOMAIN", "no.such.name." + ORIGIN, "AAAA", fam=6, rcode="NXDOMAIN",
		check=negative)
	b.dns("v4 wildcard A", "host1.wild." + ORIGIN, "A",
		check=has("answer", "host1.wild." + ORIGIN, "A", ["192.0.2.99"]))
	b.dns("v6 wildcard TXT (EDNS 1232)", "a.b.wild." + ORIGIN, "TXT", fam=6, edns=1232,
		check=has("answer", "a.b.wild." + ORIGIN, "TXT", ['"wildcard"']))
	b.dns("v4 referral", "www.sub." + ORIGIN, "A", aa=False, check=referral)
	b.dns("v6 referral NS at the cut (EDNS 1232)", "sub." + ORIGIN, "NS", fam=6, edns=1232,
		aa=False, check=referral)
	b.dns("v4 NODATA MX", "www." + ORIGIN, "MX", check=negative)
	b.dns("v6 NODATA TXT (EDNS DO=1)", "www." + ORIGIN, "TXT", fam=6, edns=1232, do=True,
		check=negative)
	b.dns("v4 A www (EDNS 4096 DO=1)", "www." + ORIGIN, "A", edns=4096, do=True, check=www_a)
	b.dns("v6 NXDOMAIN (EDNS 512 DO=1)", "gone." + ORIGIN, "A", fam=6, edns=512, do=True,
		rcode="NXDOMAIN", check=negative)
	b.dns("v4 CNAME", "alias." + ORIGIN, "A", rd=True, check=all_of(
		has("answer", "alias." + ORIGIN, "CNAME", ["www." + ORIGIN]), www_a))
	b.dns("v4 SOA apex", ORIGIN, "SOA", check=has("answer", ORIGIN, "SOA", count=1))
	b.dns("v6 NS apex (EDNS 1232)", ORIGIN, "NS", fam=6, edns=1232, check=all_of(
		has("answer", ORIGIN, "NS", ["ns1." + ORIGIN, "ns2." + ORIGIN]),
		has("additional", "ns1." + ORIGIN, "A", ["192.0.2.1"]),
		has("additional", "ns2." + ORIGIN, "AAAA", ["2001:db8::2"])))
	b.dns("v4 mixed case, RD=1", "WwW.GoLdEn.TeSt.", "A", rd=True, check=www_a)
	# truncation
	b.dns("v4 big TXT, no EDNS (TC)", "big." + ORIGIN, "TXT", tc=True)
	b.dns("v6 big TXT, no EDNS (TC)", "big." + ORIGIN, "TXT", fam=6, tc=True)
	b.dns("v4 big TXT, EDNS 512 (TC)", "big." + ORIGIN, "TXT", edns=512, tc=True)
	b.dns("v6 big TXT, EDNS 1232", "big." + ORIGIN, "TXT", fam=6, edns=1232, check=big_full)
	b.dns("v4 big TXT, EDNS 4096", "big." + ORIGIN, "TXT", edns=4096, check=big_full)
	b.dns("v4 big TXT, EDNS 1232 DO=1", "big." + ORIGIN, "TXT", edns=1232, do=True,
		check=big_full)
	# outside the zone
	b.dns("v4 out of zone (REFUSED)", "www.example.org.", "A", rcode="REFUSED", aa=False,
		check=empty("answer"))
	b.dns("v6 out of zone (REFUSED, EDNS 1232)", "golden.test.invalid.", "AAAA", fam=6,
		edns=1232, rcode="REFUSED", aa=False, check=empty("answer"))
	# tagged
	b.dns("802.1Q v4 A www", "www." + ORIGIN, "A", tags=q8021, check=www_a)
	b.dns("802.1Q v6 AAAA www (EDNS 1232)", "www." + ORIGIN, "AAAA", fam=6, edns=1232,
		tags=q8021, check=www_aaaa)
	b.dns("QinQ v4 NXDOMAIN", "qinq." + ORIGIN, "A", tags=qinq, rcode="NXDOMAIN",
		check=negative)
	b.dns("QinQ v6 big TXT (EDNS 1232)", "big." + ORIGIN, "TXT", fam=6, edns=1232,
		tags=qinq, check=big_full)
	b.dns("QinQ v4 big TXT, no EDNS (TC)", "big." + ORIGIN, "TXT", tags=qinq, tc=True)
	# Ethernet trailer after the IP packet (padding, FCS): not in the response
	b.dns("v4 A with an Ethernet trailer", "www." + ORIGIN, "A", check=www_a,
		trailer=b"\xde\xad\xbe\xef" * 3)
	b.dns("v6 wildcard with an Ethernet trailer", "x.wild." + ORIGIN, "A", fam=6,
		check=has("answer", "x.wild." + ORIGIN, "A", ["192.0.2.99"]), trailer=b"\xee" * 6)

	# other rcodes and classes
	b.dns("v4 EDNS version 1 (BADVERS)", "www." + ORIGIN, "A", edns=1232, edns_version=1,
		rcode="BADVERS", aa=False, check=empty("answer"))
	b.dns("v6 EDNS version 1, DO=1 (BADVERS)", "www." + ORIGIN, "AAAA", fam=6, edns=1232,
		do=True, edns_version=1, rcode="BADVERS", aa=False, check=empty("answer"))
	b.dns("v4 opcode STATUS (NOTIMP)", "www." + ORIGIN, "A", opcode=dns.opcode.STATUS,
		rcode="NOTIMP", aa=False, check=empty("answer"))
	b.dns("v6 QDCOUNT 2 (FORMERR)", "www." + ORIGIN, "A", fam=6, edns=1232,
		wire_fix=lambda w: w[:5] + b"\x02" + w[6:], rcode="FORMERR", aa=False,
		parsed=False)
	b.dns("v4 trailing octets after the query (FORMERR)", "www." + ORIGIN, "A",
		wire_fix=lambda w: w + b"\0\0", rcode="FORMERR", aa=False, check=empty("answer"))
	b.dns("v4 AXFR over UDP (REFUSED)", ORIGIN, "AXFR", rcode="REFUSED", aa=False,
		qtype_bucket="other", check=empty("answer"))
	b.dns("v6 ANY www", "www." + ORIGIN, "ANY", fam=6, edns=1232, check=lambda m:
		None if m.answer else "empty answer to ANY")
	b.dns("v4 CH TXT version.bind", "version.bind.", "TXT", rdclass="CH",
		check=has("answer", "version.bind.", "TXT"))
	b.dns("v4 query without UDP checksum", "www." + ORIGIN, "A", udp_cksum=False,
		check=www_a)

	# ARP, NDP, echo
	b.arp("ARP request (broadcast)")
	b.arp("ARP request (unicast)", broadcast=False)
	b.arp("802.1Q ARP request", tags=q8021)
	b.ns("NS to solicited-node multicast")
	b.ns("NS from link-local to solicited-node", src=ip6("fe80::2c0:ffee:fe00:7"))
	b.ns("NS unicast (NUD)", unicast=True)
	b.ns("QinQ NS to solicited-node multicast", tags=qinq)
	b.echo4("ICMP echo")
	b.echo4("802.1Q ICMP echo (odd size)", tags=q8021, size=33)
	b.echo6("ICMPv6 echo")
	b.echo6("QinQ ICMPv6 echo", tags=qinq, size=100)

	# frames that must produce no response
	exc_full = {"drop.exception_full": 1}
	mac = b.mac()
	src = b.src4()
	b.silent("v4 TCP SYN to port 53", pad60(eth_hdr(PORT_MAC, mac, ET_IPV4) +
		ipv4_pkt(src, OUR4, 6, tcp_syn(src, OUR4, b.sport(), 53, 12345), ident=7)), mac,
		dict(exc_full, **{"exception.tcp": 1}))
	mac = b.mac()
	src = b.src6()
	b.silent("v6 TCP SYN to port 53", eth_hdr(PORT_MAC, mac, ET_IPV6) +
		ipv6_pkt(src, OUR6, 6, tcp_syn(src, OUR6, b.sport(), 53, 777)), mac,
		dict(exc_full, **{"exception.tcp": 1}))
	mac = b.mac()
	src = b.src4()
	q = dns.message.make_query("www." + ORIGIN, "A")
	b.silent("v4 UDP to port 5353 of ours", eth_hdr(PORT_MAC, mac, ET_IPV4) +
		ipv4_pkt(src, OUR4, 17, udp_seg(src, OUR4, b.sport(), 5353, q.to_wire()), ident=8),
		mac, dict(exc_full, **{"exception.udp_port": 1}))
	mac = b.mac()
	src = b.src4()
	other4 = ip4("192.0.2.54")
	b.silent("v4 query for another IP", eth_hdr(PORT_MAC, mac, ET_IPV4) +
		ipv4_pkt(src, other4, 17, udp_seg(src, other4, b.sport(), 53, q.to_wire()), ident=9),
		mac, {"drop.not_ours": 1})
	mac = b.mac()
	src = b.src6()
	other6 = ip6("2001:db8::54")
	b.silent("v6 query for another IP", eth_hdr(PORT_MAC, mac, ET_IPV6) +
		ipv6_pkt(src, other6, 17, udp_seg(src, other6, b.sport(), 53, q.to_wire())),
		mac, {"drop.not_ours": 1})
	mac = b.mac()
	src = b.src4()
	b.silent("v4 query to another MAC", eth_hdr(bytes.fromhex("020000000099"), mac, ET_IPV4) +
		ipv4_pkt(src, OUR4, 17, udp_seg(src, OUR4, b.sport(), 53, q.to_wire()), ident=10),
		mac, {"drop.not_ours": 1})
	b.arp("ARP request for another IP", tpa=ip4("192.0.2.54"), moves={"drop.not_ours": 1})
	# a DNS response (QR=1) to port 53: the engine builds nothing
	mac = b.mac()
	src = b.src4()
	sport = b.sport()
	rq = dns.message.make_query("www." + ORIGIN, "A")
	rq.id = b.qid()
	resp = dns.message.make_response(rq)
	resp_wire = resp.to_wire()
	b.silent("v4 DNS response (QR=1) to port 53", eth_hdr(PORT_MAC, mac, ET_IPV4) +
		ipv4_pkt(src, OUR4, 17, udp_seg(src, OUR4, sport, 53, resp_wire), ident=11),
		mac, {"drop.dns": 1}, payload=resp_wire, ask_engine=True, qid=rq.id,
		forbidden_key=("udp4", OUR4, src, 53, sport, rq.id))
	mac = b.mac()
	src = b.src6()
	sport = b.sport()
	short = b"\x12\x34\x01\x00\x00"
	b.silent("v6 DNS header of 5 octets", eth_hdr(PORT_MAC, mac, ET_IPV6) +
		ipv6_pkt(src, OUR6, 17, udp_seg(src, OUR6, sport, 53, short)),
		mac, {"drop.dns": 1}, payload=short, ask_engine=True)
	mac = b.mac()
	src = b.src4()
	b.silent("v4 bad IPv4 header checksum", eth_hdr(PORT_MAC, mac, ET_IPV4) +
		ipv4_pkt(src, OUR4, 17, udp_seg(src, OUR4, b.sport(), 53, q.to_wire()), ident=12,
			bad_cksum=True), mac, {"drop.bad_cksum": 1})
	mac = b.mac()
	src = b.src4()
	b.silent("v4 query from source port 0", eth_hdr(PORT_MAC, mac, ET_IPV4) +
		ipv4_pkt(src, OUR4, 17, udp_seg(src, OUR4, 0, 53, q.to_wire()), ident=13),
		mac, {"drop.bad_src": 1})
	b.ns("NS with hop limit 64", hlim=64, moves={"drop.bad_neigh": 1})
	b.ns("DAD NS (source ::)", src=bytes(16),
		moves=dict(exc_full, **{"exception.neigh": 1}))
	# RFC 4291 2.7: a multicast address is never a source (the kernel drops
	# such packets); pkt.c drops UDP, ARP and echo from multicast sources
	# as bad_src ("no answer goes there"), so an NS from one is no different
	b.ns("NS from a multicast source (ff02::1)", src=ip6("ff02::1"),
		moves={"drop.bad_src": 1})
	b.more_silent(q.to_wire(), exc_full)

	mac = b.mac()
	src = b.src4()
	b.silent("frame from the port's own MAC", eth_hdr(PORT_MAC, PORT_MAC, ET_IPV4) +
		ipv4_pkt(src, OUR4, 17, udp_seg(src, OUR4, b.sport(), 53, q.to_wire()), ident=14),
		PORT_MAC, {"drop.not_ours": 1})
	return b.cases


# ---- Parsing and checking responses. ----

def u16(b, off):
	return struct.unpack("!H", b[off:off + 2])[0]


def split_l2(fr):
	"""(dst, src, tag octets, ethertype, l3 offset) of a frame."""
	if len(fr) < 14:
		raise ValueError("frame of %d octets" % len(fr))
	off = 12
	et = u16(fr, off)
	while et in (TPID_8021Q, TPID_8021AD) and off < 20:
		off += 4
		et = u16(fr, off)
	return fr[:6], fr[6:12], fr[12:off], et, off + 2


def response_key(fr):
	"""The key that ties a response to its query (Case.key)."""
	_, _, _, et, l3 = split_l2(fr)
	p = fr[l3:]
	if et == ET_ARP and len(p) >= 28:
		return ("arp", p[24:28], p[18:24])
	if et == ET_IPV4 and len(p) >= 20:
		ihl = (p[0] & 0xf) * 4
		src, dst, proto, l4 = p[12:16], p[16:20], p[9], p[ihl:]
		if proto == 17 and len(l4) >= 10:
			return ("udp4", src, dst, u16(l4, 0), u16(l4, 2), u16(l4, 8))
		if proto == 1 and len(l4) >= 8:
			return ("echo4", src, dst, u16(l4, 4), u16(l4, 6))
	if et == ET_IPV6 and len(p) >= 40:
		src, dst, nh, l4 = p[8:24], p[24:40], p[6], p[40:]
		if nh == 17 and len(l4) >= 10:
			return ("udp6", src, dst, u16(l4, 0), u16(l4, 2), u16(l4, 8))
		if nh == 58 and len(l4) >= 8 and l4[0] == 136 and len(l4) >= 24:
			return ("na", dst, l4[8:24])
		if nh == 58 and len(l4) >= 8:
			return ("echo6", src, dst, u16(l4, 4), u16(l4, 6))
	return None


class Checker:
	def __init__(self):
		self.failures = []
		self.checked = 0

	def fail(self, case, msg):
		self.failures.append("%s: %s" % (case.name if case else "-", msg))

	def eq(self, case, what, got, want):
		if got != want:
			if isinstance(got, bytes):
				got, want = got.hex(), want.hex()
			self.fail(case, "%s is %s, expected %s" % (what, got, want))
			return False
		return True

	def l2(self, c, fr):
		dst, src, tags, et, l3 = split_l2(fr)
		self.eq(c, "Ethernet destination", mac_text(dst), mac_text(c.src_mac))
		self.eq(c, "Ethernet source", mac_text(src), mac_text(PORT_MAC))
		self.eq(c, "VLAN tags", tags, c.tags)
		return et, l3

	def ipv4(self, c, fr, l3, proto, src, dst):
		ip = fr[l3:]
		if len(ip) < 20:
			self.fail(c, "IPv4 header cut short")
			return None
		self.eq(c, "IPv4 version/IHL", ip[0], 0x45)
		total = u16(ip, 2)
		self.eq(c, "frame length", len(fr), l3 + total)
		# never fragmented, and DF set (docs/dataplane.md)
		self.eq(c, "IPv4 flags/fragment offset", "%04x" % u16(ip, 6), "4000")
		self.eq(c, "IPv4 TTL", ip[8], 64)
		self.eq(c, "IPv4 protocol", ip[9], proto)
		if csum(ip[:20]) != 0:
			self.fail(c, "IPv4 header checksum %04x wrong (expected %04x)" % (
				u16(ip, 10), csum(ip[:10] + b"\0\0" + ip[12:20])))
		self.eq(c, "IPv4 source", ntop(ip[12:16]), ntop(src))
		self.eq(c, "IPv4 destination", ntop(ip[16:20]), ntop(dst))
		return ip[20:total]

	def ipv6(self, c, fr, l3, nh, hlim, src, dst):
		ip = fr[l3:]
		if len(ip) < 40:
			self.fail(c, "IPv6 header cut short")
			return None
		self.eq(c, "IPv6 version", ip[0] >> 4, 6)
		plen = u16(ip, 4)
		self.eq(c, "frame length", len(fr), l3 + 40 + plen)
		self.eq(c, "IPv6 next header", ip[6], nh)
		self.eq(c, "IPv6 hop limit", ip[7], hlim)
		self.eq(c, "IPv6 source", ntop(ip[8:24]), ntop(src))
		self.eq(c, "IPv6 destination", ntop(ip[24:40]), ntop(dst))
		return ip[40:40 + plen]

	def dns_frame(self, c, fr):
		"""Headers of a DNS response; returns its payload or None."""
		et, l3 = self.l2(c, fr)
		if c.dns_fam == 4:
			if not self.eq(c, "EtherType", et, ET_IPV4):
				return None
			l4 = self.ipv4(c, fr, l3, 17, c.dst_ip, c.src_ip)
		else:
			if not self.eq(c, "EtherType", et, ET_IPV6):
				return None
			l4 = self.ipv6(c, fr, l3, 17, 64, c.dst_ip, c.src_ip)
		if l4 is None or len(l4) < 8:
			self.fail(c, "no UDP header")
			return None
		self.eq(c, "UDP source port", u16(l4, 0), c.dport)
		self.eq(c, "UDP destination port", u16(l4, 2), c.sport)
		self.eq(c, "UDP length", u16(l4, 4), len(l4))
		want = l4_cksum(c.dst_ip, c.src_ip, 17, l4[:6] + b"\0\0" + l4[8:])
		got = u16(l4, 6)
		if got != want:
			self.fail(c, "UDP checksum %04x, expected %04x" % (got, want))
		return l4[8:]

	def dns_content(self, c, wire, engine):
		"""The DNS payload: equal to the engine's, and as the case expects."""
		if engine is None:
			self.fail(c, "the socket-mode server did not answer this query")
		elif wire != engine:
			self.fail(c, "DNS payload differs from the answer engine's (socket mode):\n"
				"  dpdk   (%d): %s\n  socket (%d): %s" % (len(wire), wire.hex(),
				len(engine), engine.hex()))
		try:
			m = dns.message.from_wire(wire)
		except Exception as err:  # noqa: BLE001 - report any parse error
			self.fail(c, "response does not parse: %s (%s)" % (err, wire.hex()))
			return
		self.eq(c, "DNS id", m.id, c.qid)
		if not m.flags & dns.flags.QR:
			self.fail(c, "QR=0 in the response")
		self.eq(c, "opcode", dns.opcode.to_text(m.opcode()), dns.opcode.to_text(c.opcode))
		self.eq(c, "rcode", dns.rcode.to_text(m.rcode()), c.rcode)
		self.eq(c, "AA", bool(m.flags & dns.flags.AA), c.aa)
		self.eq(c, "TC", bool(m.flags & dns.flags.TC), c.tc)
		self.eq(c, "RD", bool(m.flags & dns.flags.RD), c.rd)
		self.eq(c, "RA", bool(m.flags & dns.flags.RA), False)
		self.eq(c, "question", [r.to_text() for r in m.question],
			[r.to_text() for r in c.query.question] if c.parsed else [])
		if c.edns is None or not c.parsed:
			self.eq(c, "EDNS in the response", m.edns, -1)
			limit = 512
		else:
			self.eq(c, "EDNS version", m.edns, 0)
			self.eq(c, "EDNS UDP size", m.payload, EDNS_UDP_SIZE)
			self.eq(c, "DO", bool(m.ednsflags & dns.flags.DO), c.do)
			limit = max(512, min(c.edns, EDNS_UDP_SIZE))
		if len(wire) > limit:
			self.fail(c, "response of %d octets above the limit %d" % (len(wire), limit))
		if c.check is not None:
			p = c.check(m)
			if p:
				self.fail(c, p)

	def arp(self, c, fr):
		et, l3 = self.l2(c, fr)
		self.eq(c, "EtherType", et, ET_ARP)
		a = fr[l3:]
		self.eq(c, "frame length", len(fr), l3 + 28)
		if len(a) < 28:
			return
		htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", a[:8])
		self.eq(c, "ARP htype/ptype/hlen/plen", (htype, ptype, hlen, plen), (1, 0x0800, 6, 4))
		self.eq(c, "ARP op", op, 2)
		self.eq(c, "ARP sender MAC", mac_text(a[8:14]), mac_text(PORT_MAC))
		self.eq(c, "ARP sender IP", ntop(a[14:18]), ntop(OUR4))
		self.eq(c, "ARP target MAC", mac_text(a[18:24]), mac_text(c.sha))
		self.eq(c, "ARP target IP", ntop(a[24:28]), ntop(c.spa))

	def na(self, c, fr):
		et, l3 = self.l2(c, fr)
		if not self.eq(c, "EtherType", et, ET_IPV6):
			return
		m = self.ipv6(c, fr, l3, 58, 255, OUR6, c.src_ip)
		if m is None:
			return
		if not self.eq(c, "NA length", len(m), 32):
			return
		self.eq(c, "ICMPv6 type/code", (m[0], m[1]), (136, 0))
		want = l4_cksum(OUR6, c.src_ip, 58, m[:2] + b"\0\0" + m[4:])
		if u16(m, 2) != want:
			self.fail(c, "ICMPv6 checksum %04x, expected %04x" % (u16(m, 2), want))
		self.eq(c, "NA flags (R S O)", m[4] & 0xe0, 0x60)
		self.eq(c, "NA reserved", m[4:8], b"\x60\0\0\0")
		self.eq(c, "NA target", ntop(m[8:24]), ntop(OUR6))
		self.eq(c, "NA option (type, length)", (m[24], m[25]), (2, 1))
		self.eq(c, "NA target link-layer address", mac_text(m[26:32]), mac_text(PORT_MAC))

	def echo4(self, c, fr):
		et, l3 = self.l2(c, fr)
		if not self.eq(c, "EtherType", et, ET_IPV4):
			return
		m = self.ipv4(c, fr, l3, 1, OUR4, c.src_ip)
		if m is None:
			return
		if not self.eq(c, "ICMP length", len(m), len(c.icmp)):
			return
		self.eq(c, "ICMP type/code", (m[0], m[1]), (0, 0))
		if csum(m) != 0:
			self.fail(c, "ICMP checksum %04x wrong" % u16(m, 2))
		self.eq(c, "ICMP id/seq/data", m[4:], c.icmp[4:])

	def echo6(self, c, fr):
		et, l3 = self.l2(c, fr)
		if not self.eq(c, "EtherType", et, ET_IPV6):
			return
		m = self.ipv6(c, fr, l3, 58, 64, OUR6, c.src_ip)
		if m is None:
			return
		if not self.eq(c, "ICMPv6 length", len(m), len(c.icmp)):
			return
		self.eq(c, "ICMPv6 type/code", (m[0], m[1]), (129, 0))
		want = l4_cksum(OUR6, c.src_ip, 58, m[:2] + b"\0\0" + m[4:])
		if u16(m, 2) != want:
			self.fail(c, "ICMPv6 checksum %04x, expected %04x" % (u16(m, 2), want))
		self.eq(c, "ICMPv6 id/seq/data", m[4:], c.icmp[4:])


# ---- Servers. ----

class EngineBulwark(Bulwark):
	"""bulwarkd with io socket, and the same edns-udp-size as the DPDK run."""

	def prepare(self):
		argv = super().prepare()
		path = self.path("bulwark.conf")
		with open(path) as f:
			conf = f.read()
		new = conf.replace("options {\n", "options {\n\tedns-udp-size %d;\n" %
			EDNS_UDP_SIZE, 1)
		assert new != conf, "no options block in the harness configuration"
		self.write("bulwark.conf", new)
		return argv


def engine_answers(build, zonefile, cases, keep):
	"""Payload -> the socket-mode server's answer (None: no answer)."""
	out = {}
	with EngineBulwark(zonefile, ORIGIN, build, keep=keep) as srv:
		with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
			s.connect(("127.0.0.1", srv.port))
			for c in cases:
				if not getattr(c, "ask_engine", False):
					continue
				expect_reply = c.kind == "dns"
				s.settimeout(3.0 if expect_reply else 0.3)
				s.send(c.payload)
				try:
					while True:
						wire = s.recv(65535)
						# the id ties it to this query (late replies are skipped)
						if len(wire) >= 2 and len(c.payload) >= 2 and wire[:2] == c.payload[:2]:
							break
				except socket.timeout:
					wire = None
				out[c.name] = wire
		rc = srv.proc.poll() if srv.proc else None
		if rc is not None:
			raise RuntimeError("socket-mode bulwarkd died (%s):\n%s" % (rc, srv.log_tail()))
	return out


def settle(srv, timeout=5.0):
	"""Stats once two reads 0.2 s apart agree (the last burst is counted)."""
	deadline = time.time() + timeout
	prev = srv.stats()
	while time.time() < deadline:
		time.sleep(0.2)
		cur = srv.stats()
		strip = lambda st: {k: v for k, v in st.items()  # noqa: E731
			if k not in ("uptime_cycles", "busy_cycles")}
		if strip(cur) == strip(prev):
			return cur
		prev = cur
	return prev


def dpdk_conf(tmp, prefix):
	in_pcap = os.path.join(tmp, "in.pcap")
	out_pcap = os.path.join(tmp, "out.pcap")
	conf = """options { directory "%s"; pid-file none; edns-udp-size %d;
	control-socket "ctl.sock"; };
dataplane {
	io dpdk;
	eal-args "%s";
	port "net_pcap0,rx_pcap=%s,tx_pcap=%s" {
		address 192.0.2.53;
		address 2001:db8::53;
		exception none;
	};
	workers 1-1;
};
zone "%s" { file "golden.test.zone"; };
""" % (tmp, EDNS_UDP_SIZE, eal_args(prefix), in_pcap, out_pcap, ORIGIN.rstrip("."))
	return conf, out_pcap


def bulwarkctl(build, tmp, *argv):
	"""Runs bulwarkctl --json on the server's control socket; its result."""
	done = subprocess.run([os.path.join(build, "controlplane", "bulwarkctl"),
		"-s", os.path.join(tmp, "ctl.sock"), "--json"] + list(argv),
		capture_output=True, text=True, timeout=30)
	if done.returncode != 0:
		raise AssertionError("bulwarkctl %s: exit %d: %s" % (" ".join(argv),
			done.returncode, done.stderr.strip()))
	return json.loads(done.stdout)


def ctl_checks(build, tmp, stats):
	"""The control socket with io dpdk: status, counters, zone-load/unload."""
	ctl = lambda *a: bulwarkctl(build, tmp, *a)  # noqa: E731
	st = ctl("status")
	assert st["io"] == "dpdk" and st["workers"] == 1 and st["zones"] == 1, st
	assert st["ports"][0]["addresses"] == ["192.0.2.53", "2001:db8::53"], st["ports"]
	js = ctl("stats")
	assert js["udp"]["received"] == stats["rx"], (js["udp"], stats["rx"])
	assert js["workers"][0]["answers"] == stats["answers"], js["workers"][0]
	zone = ORIGIN.rstrip(".")
	zs = ctl("zone-status", zone)
	q = zs["queries"]
	assert 0 < q["answers"] <= stats["answers"], (q, stats["answers"])
	table = os.path.join(tmp, "golden.bwz")
	subprocess.run([os.path.join(build, "zonecomp", "cli", "bulwark-compile"),
		os.path.join(tmp, "golden.test.zone"), "-o", table, "-z", ORIGIN],
		check=True, capture_output=True)
	ld = ctl("zone-load", zone, table)
	assert ld["previous_serial"] == ld["serial"] == zs["serial"], ld
	assert ctl("zone-status", zone)["queries"]["answers"] == q["answers"]
	assert ctl("zone-status", zone)["source"] == "control"
	ctl("zone-unload", zone)
	assert ctl("zone-list")["zones"] == []


def run_dpdk(srv, out_pcap, nframes, ctl=None):
	"""Runs SRV until it has received every frame; its counters and output.
	CTL(stats) runs the control-socket checks while the server runs."""
	try:
		with srv:
			try:
				srv.wait_for(lambda st: st["rx"] >= nframes, timeout=20,
					what="rx == %d" % nframes)
			except AssertionError as err:
				raise AssertionError("%s\nbulwarkd log:\n%s" % (err, srv.read_log()))
			stats = settle(srv)
			worker0 = srv.telemetry("/bulwark/worker,0")
			ports = srv.telemetry("/bulwark/ports")
			if ctl is not None:
				ctl(stats)
		if srv.returncode != 0:
			raise AssertionError("bulwarkd (io dpdk) exited with %s:\n%s" %
				(srv.returncode, srv.log))
		return stats, worker0, ports, read_pcap(out_pcap)
	finally:
		srv.stop()


# ---- Counters. ----

def check_counters(chk, cases, stats, worker0, ports, nout):
	want = collections.Counter()
	for c in cases:
		want.update(c.moves)
	top = ["rx", "tx", "answers", "arp", "nd", "echo", "tc", "edns", "do", "exception_tx"]
	for k in top:
		got = stats.get(k)
		if got != want.get(k, 0):
			chk.failures.append("stats: %s is %s, expected %d" % (k, got, want.get(k, 0)))
	for group in ("drop", "exception", "rcode", "qtype"):
		g = stats.get(group)
		if not isinstance(g, dict):
			chk.failures.append("stats: no %s group" % group)
			continue
		for k, v in g.items():
			w = want.get("%s.%s" % (group, k), 0)
			if v != w:
				chk.failures.append("stats: %s.%s is %s, expected %d" % (group, k, v, w))
		for k in want:
			if k.startswith(group + ".") and k.split(".", 1)[1] not in g:
				chk.failures.append("stats: no counter %s" % k)
	if stats.get("workers") != 1:
		chk.failures.append("stats: workers is %s, expected 1" % stats.get("workers"))
	for k in top + ["drop", "exception", "rcode", "qtype"]:
		if worker0.get(k) != stats.get(k):
			chk.failures.append("/bulwark/worker,0 %s is %s, /bulwark/stats has %s" %
				(k, worker0.get(k), stats.get(k)))
	if nout != stats.get("tx"):
		chk.failures.append("output pcap has %d frames, stats tx is %s" % (nout, stats.get("tx")))
	p = ports.get("port0") if isinstance(ports, dict) else None
	if p is None:
		chk.failures.append("/bulwark/ports has no port0: %s" % ports)
	else:
		for k, w in (("ipackets", want["rx"]), ("opackets", want["tx"]), ("to_kernel", 0),
				("from_kernel", 0), ("exception_interface", "")):
			if p.get(k) != w:
				chk.failures.append("/bulwark/ports port0 %s is %s, expected %s" %
					(k, p.get(k), w))
	return want


# ---- Main. ----

def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--build", required=True, help="meson build directory")
	ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
	ap.add_argument("--seed", type=int, default=53053, help="seed of ids, ports, payloads")
	args = ap.parse_args()
	build = os.path.abspath(args.build)
	for prog in (("controlplane", "bulwarkd"), ("zonecomp", "cli", "bulwark-compile")):
		if not os.access(os.path.join(build, *prog), os.X_OK):
			print("FAIL  %s is missing: build it first (ninja -C %s)" %
				(os.path.join(build, *prog), build))
			return 2
	t0 = time.time()
	tmp = tempfile.mkdtemp(prefix="bw-dpdk-pcap-")
	os.chmod(tmp, 0o755)
	prefix = "bwgold%d" % os.getpid()
	dsrv = None
	cases = []
	chk = Checker()
	try:
		zonefile = os.path.join(tmp, "golden.test.zone")
		with open(zonefile, "w") as f:
			f.write(zone_text())
		cases = build_cases(args.seed)
		for c in cases:
			if c.kind == "dns":
				c.dns_fam = 4 if len(c.src_ip) == 4 else 6
		write_pcap(os.path.join(tmp, "in.pcap"), [c.frame for c in cases])

		conf, out_pcap = dpdk_conf(tmp, prefix)
		dsrv = DpdkServer(build, conf, prefix)
		stats, worker0, ports, out = run_dpdk(dsrv, out_pcap, len(cases),
			lambda st: ctl_checks(build, tmp, st))

		# the engine's answers, from a socket-mode server; kept off CPU 1,
		# where DPDK workers of other tests may spin
		try:
			cpus = os.sched_getaffinity(0)
			if 0 in cpus and len(cpus) > 1:
				os.sched_setaffinity(0, {0})
		except OSError:
			pass
		engine = engine_answers(build, zonefile, cases, args.keep)

		# the engine's silence where the dataplane drops a DNS payload
		for c in cases:
			if c.kind == "none" and getattr(c, "ask_engine", False) and engine.get(c.name):
				chk.fail(c, "the socket-mode server answered it: %s" % engine[c.name].hex())

		# match responses
		by_key = {}
		for c in cases:
			k = c.key()
			if k is not None:
				if k in by_key:
					raise RuntimeError("test bug: two cases with key %s" % (k,))
				by_key[k] = c
		for i, fr in enumerate(out):
			try:
				k = response_key(fr)
			except ValueError as err:
				k = None
				chk.failures.append("output frame %d: %s" % (i, err))
			c = by_key.get(k)
			if c is None:
				chk.failures.append("output frame %d matches no query: %s" % (i, fr.hex()))
			elif c.kind == "none":
				chk.fail(c, "answered, but must not be (output frame %d: %s)" % (i, fr.hex()))
			elif c.response is not None:
				chk.fail(c, "answered twice (output frame %d)" % i)
			else:
				c.response = fr
		for c in cases:
			if c.kind == "none":
				continue
			if c.response is None:
				chk.fail(c, "no response in the output pcap")
				continue
			chk.checked += 1
			if c.kind == "dns":
				wire = chk.dns_frame(c, c.response)
				if wire is not None:
					chk.dns_content(c, wire, engine.get(c.name))
			else:
				getattr(chk, c.kind)(c, c.response)

		want = check_counters(chk, cases, stats, worker0, ports, len(out))
	except (AssertionError, RuntimeError) as err:
		chk.failures.append(str(err))
		want = None
	finally:
		if dsrv is not None and not args.keep:
			shutil.rmtree(dsrv.tmp, ignore_errors=True)
		rundir = os.path.join(RUN_DIR, prefix)
		if os.path.isdir(rundir):
			shutil.rmtree(rundir, ignore_errors=True)
		if args.keep:
			print("kept %s%s" % (tmp, " and %s" % dsrv.tmp if dsrv else ""))
		else:
			shutil.rmtree(tmp, ignore_errors=True)

	kinds = collections.Counter(c.kind for c in cases)
	print("dpdk_pcap_test: %d frames (%s), %d responses checked, %.1f s" % (
		len(cases), ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
		chk.checked, time.time() - t0))
	if want is not None:
		print("  counters: rx %d tx %d answers %d arp %d nd %d echo %d tc %d edns %d do %d; "
			"%s" % (want["rx"], want["tx"], want["answers"], want["arp"], want["nd"],
			want["echo"], want["tc"], want["edns"], want["do"], ", ".join(
				"%s %d" % (k, v) for k, v in sorted(want.items())
				if k.startswith(("drop.", "exception.", "rcode.")))))
	if chk.failures:
		for f in chk.failures:
			print("FAIL  " + f)
		print("FAILED: %d problems" % len(chk.failures))
		return 1
	print("PASS")
	return 0


if __name__ == "__main__":
	sys.exit(main())
