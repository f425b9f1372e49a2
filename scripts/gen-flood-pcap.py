#!/usr/bin/python3
"""Make a random-subdomain flood scenario: zones, a pcap of queries and a
JSON-lines description of every query.

    gen-flood-pcap.py --zone-dir DIR -o FLOOD.pcap [--sidecar FLOOD.jsonl]
        [--seed S] [--zones example.com.,example.net.] [--names N]
        [--duration 15] [--legit-rate 1000] [--flood-rate 10000]
        [--flood-start 3] [--flood-end 9] [--flood-parents example.com.]
        [--clients 1000] [--ipv4-clients 200] [--server-cookie-share 0.3]
        [--client-cookie-share 0.3] [--cookie-secret HEX32] ...
    gen-flood-pcap.py --selftest     # SipHash-2-4 and RFC 9018 vectors

What it writes (the same arguments give the same files byte for byte,
except the server cookies, which carry --cookie-time: the generation time
unless given):

zones      DIR/ZONE.zone for every zone of --zones (default example.com.
           and example.net.): SOA, two NS, and --names names (www, mail,
           api, cdn, ns1, ns2, host00007, ...), each with one A record (in
           192.0.2.0/24 or 198.51.100.0/24) and one AAAA record (in
           2001:db8::/32).  No label of an existing name is 12 characters
           or longer, so no flood name exists.

pcap       classic pcap (Ethernet, microsecond timestamps from
           2024-01-01T00:00:00Z) of UDP DNS queries to --dst4/--dst6 port
           --port, from --src-mac to --dst-mac, with correct IPv4 header and
           UDP checksums, in time order:
  legitimate  --legit-rate q/s, evenly spaced, for the whole --duration,
              from --clients addresses: --ipv4-clients of them in
              192.0.2.0/24 and 198.51.100.0/24 (never .0, .1, .255 or the
              server's address), the rest in 2001:db8::/32, each in a /56
              of its own.  A client is drawn uniformly for every query; the
              name by Zipf popularity (--zipf) over all names of all zones,
              type A or AAAA (--aaaa-share).  A share of the queries
              (--legit-nx-share) are typos: a random label under a zone of
              --legit-nx-zones (default: the zones that are not flooded),
              answered NXDOMAIN.  Each client keeps one cookie mode for the
              whole run: --server-cookie-share of them send a client cookie
              and a valid server cookie (RFC 9018, made with --cookie-secret
              at --cookie-time for the client's address: replay it within
              the hour), --client-cookie-share a client cookie only, the
              rest no cookie (with EDNS for --edns of those queries).
  flood       --flood-rate q/s (default 10 x --legit-rate), evenly spaced,
              from --flood-start to --flood-end seconds: a random label of
              12-20 characters [a-z0-9] under a parent of --flood-parents,
              type A.  --resolver-share of it comes from --resolvers
              resolver-like addresses (half IPv4, half IPv6, not clients;
              each with its own client cookie, no server cookie), the rest
              from spoofed addresses: a fresh random address in 2001:db8::/32
              for every query, never in a /56 of a client or a resolver
              (EDNS without a cookie for --flood-edns of them).  With
              --mark-prefix P, a share --mark-share of the flood labels
              start with P (a name set a filter can match).
  Every query has RD=0, a random source port 1024-65535 and a random ID;
  (source address, port, ID) is unique in the file.

sidecar    one JSON object per line (default: the pcap's name with .jsonl):
           first {"kind": "meta", ...} with the parameters, the files, the
           cookie time and the counts; then one line per query, in pcap
           order:
             {"t": seconds from the first query's slot, "src": address,
              "sport": port, "id": ID, "qname": name, "qtype": "A",
              "kind": "legit" | "flood", "cookie": "none" | "client" |
              "server", and for legit "expect": {"rcode": "NOERROR",
              "rdata": ["192.0.2.7"]} or {"rcode": "NXDOMAIN"}; for flood
              "parent", "source": "spoofed" | "resolver", "marked"}.

Addresses are only ever from 192.0.2.0/24, 198.51.100.0/24 and
2001:db8::/32 (the documentation prefixes), rdata included.
"""

import argparse
import bisect
import importlib.util
import ipaddress
import json
import os
import random
import struct
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))


def _load_gen_query_pcap():
	"""gen-query-pcap.py (hyphenated, so not importable by name): the pcap,
	checksum, name and Zipf helpers live there."""
	spec = importlib.util.spec_from_file_location("gen_query_pcap",
		os.path.join(HERE, "gen-query-pcap.py"))
	mod = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(mod)
	return mod


gqp = _load_gen_query_pcap()

BASE_TIME = gqp.BASE_TIME
V4_NETS = (ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("198.51.100.0/24"))
V6_NET = ipaddress.ip_network("2001:db8::/32")
LABEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
FIXED_NAMES = ("www", "mail", "api", "cdn", "ns1", "ns2")
T_A, T_AAAA, T_OPT = 1, 28, 41
OPT_COOKIE = 10
EDNS_SIZE = 1232
FLOOD_LABEL = (12, 20)           # length range of a flood label
TYPO_LABEL = (5, 10)             # length range of a legitimate typo


# ---------------------------------------------------------------------------
# SipHash-2-4 and RFC 9018 server cookies

MASK64 = (1 << 64) - 1


def _rotl(x, b):
	return ((x << b) | (x >> (64 - b))) & MASK64


def _sipround(v0, v1, v2, v3):
	v0 = (v0 + v1) & MASK64
	v1 = _rotl(v1, 13) ^ v0
	v0 = _rotl(v0, 32)
	v2 = (v2 + v3) & MASK64
	v3 = _rotl(v3, 16) ^ v2
	v0 = (v0 + v3) & MASK64
	v3 = _rotl(v3, 21) ^ v0
	v2 = (v2 + v1) & MASK64
	v1 = _rotl(v1, 17) ^ v2
	v2 = _rotl(v2, 32)
	return v0, v1, v2, v3


def siphash24(key, data):
	"""SipHash-2-4 of DATA with the 16-octet KEY, as the 8 octets that the
	reference implementation writes (little-endian)."""
	k0, k1 = struct.unpack("<QQ", key)
	v0 = k0 ^ 0x736f6d6570736575
	v1 = k1 ^ 0x646f72616e646f6d
	v2 = k0 ^ 0x6c7967656e657261
	v3 = k1 ^ 0x7465646279746573
	n = len(data)
	tail = n & ~7
	for off in range(0, tail, 8):
		m, = struct.unpack_from("<Q", data, off)
		v3 ^= m
		v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
		v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
		v0 ^= m
	last = ((n & 0xFF) << 56) | int.from_bytes(data[tail:], "little")
	v3 ^= last
	v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
	v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
	v0 ^= last
	v2 ^= 0xFF
	for _ in range(4):
		v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
	return struct.pack("<Q", v0 ^ v1 ^ v2 ^ v3)


def server_cookie(secret, client_cookie, client_ip, timestamp):
	"""RFC 9018 server cookie: version 1, three reserved zero octets, the
	32-bit TIMESTAMP and the first 8 octets of SipHash-2-4(client cookie |
	version | reserved | timestamp | client IP) keyed with SECRET."""
	head = b"\x01\0\0\0" + struct.pack("!I", timestamp)
	return head + siphash24(secret, client_cookie + head + client_ip)


# RFC 9018 Appendix A.1-A.3: secret, client cookie, client IP, time, cookie
RFC9018_VECTORS = (
	("e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100",
		1559731985, "010000005cf79f111f8130c3eee29480"),
	("e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100",
		1559734385, "010000005cf7a871d4a564a1442aca77"),
	("e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", "203.0.113.203",
		1559734700, "010000005cf7a9acf73a7810aca2381e"),
)


def selftest():
	"""SipHash-2-4 reference vectors (key 00..0f, messages 00.., lengths 0,
	1, 8 and 15) and the RFC 9018 examples; raises AssertionError."""
	key = bytes(range(16))
	msg = bytes(range(64))
	for n, want in ((0, "310e0edd47db6f72"), (1, "fd67dc93c539f874"),
			(8, "6224939a79f5f593"), (15, "e545be4961ca29a1")):
		got = siphash24(key, msg[:n]).hex()
		assert got == want, "SipHash-2-4, %d octets: %s, expected %s" % (n, got, want)
	for secret, cc, ip, ts, want in RFC9018_VECTORS:
		got = server_cookie(bytes.fromhex(secret), bytes.fromhex(cc),
			ipaddress.ip_address(ip).packed, ts).hex()
		assert got == want, "RFC 9018 %s at %d: %s, expected %s" % (ip, ts, got, want)


# ---------------------------------------------------------------------------
# zones

def zone_names(n):
	"""N relative names: the fixed ones, then host00007-style names."""
	names = list(FIXED_NAMES[:n])
	width = max(5, len(str(n)))
	names += ["host%0*d" % (width, i) for i in range(len(names), n)]
	return names


def rdata_a(z, i):
	"""An IPv4 address in the documentation prefixes for name I of zone Z."""
	k = (z * 7919 + i) % 508
	net = V4_NETS[k // 254]
	return str(net.network_address + 1 + k % 254)


def rdata_aaaa(z, i):
	return str(V6_NET.network_address + ((z + 1) << 80) + i + 1)


def write_zone(path, origin, z, names):
	"""The master file of zone number Z; returns {name: {"A": .., "AAAA": ..}}."""
	data = {}
	lines = ["$ORIGIN %s" % origin, "$TTL 3600",
		"@ SOA ns1 hostmaster 2026120201 7200 3600 1209600 300",
		"@ NS ns1", "@ NS ns2"]
	for i, rel in enumerate(names):
		a, aaaa = rdata_a(z, i), rdata_aaaa(z, i)
		lines.append("%s A %s" % (rel, a))
		lines.append("%s AAAA %s" % (rel, aaaa))
		data["%s.%s" % (rel, origin)] = {"A": a, "AAAA": aaaa}
	with open(path, "w") as f:
		f.write("\n".join(lines) + "\n")
	return data


# ---------------------------------------------------------------------------
# addresses and clients

def v4_pool(exclude):
	"""Usable client addresses of the IPv4 documentation prefixes."""
	pool = []
	for net in V4_NETS:
		for h in range(2, 255):          # never .0, .1 (routers) or .255
			a = net.network_address + h
			if a not in exclude:
				pool.append(a.packed)
	return pool


def random_v6(rng, taken56=None):
	"""A random address in 2001:db8::/32 whose /56 is not in TAKEN56 (nor
	2001:db8::/56, the server's)."""
	base = int(V6_NET.network_address)
	while True:
		net56 = 1 + int(rng.random() * ((1 << 24) - 1))
		if taken56 is None or net56 not in taken56:
			return (base + (net56 << 72) + rng.getrandbits(72)).to_bytes(16, "big"), net56


def net56_of(packed):
	return (int.from_bytes(packed, "big") >> 72) & 0xFFFFFF


class Client:
	"""A source address with its cookie mode and cookie option."""

	__slots__ = ("addr", "text", "mode", "cookie")

	def __init__(self, addr, mode, cookie):
		self.addr = addr
		self.text = str(ipaddress.ip_address(addr))
		self.mode = mode        # "none" | "client" | "server"
		self.cookie = cookie    # the COOKIE option data, or None


def make_clients(args, rng, exclude4):
	"""The legitimate clients and the resolver-like flood sources."""
	pool4 = v4_pool(exclude4)
	n4 = min(args.ipv4_clients, args.clients)
	r4 = args.resolvers // 2
	if n4 + r4 > len(pool4):
		raise SystemExit("error: --ipv4-clients %d and %d IPv4 resolvers do not fit "
			"in %d addresses" % (n4, r4, len(pool4)))
	addrs4 = rng.sample(pool4, n4 + r4)
	taken56 = set()
	addrs6 = []
	for _ in range(args.clients - n4 + args.resolvers - r4):
		a, k = random_v6(rng, taken56)
		taken56.add(k)
		addrs6.append(a)
	legit_addrs = addrs4[:n4] + addrs6[:args.clients - n4]
	resolver_addrs = addrs4[n4:] + addrs6[args.clients - n4:]
	modes = gqp.exact_mix(len(legit_addrs), [1 - args.server_cookie_share -
		args.client_cookie_share, args.client_cookie_share, args.server_cookie_share], rng)
	clients = []
	for addr, m in zip(legit_addrs, modes):
		clients.append(Client(addr, ("none", "client", "server")[m],
			cookie_option(args, rng, addr, ("none", "client", "server")[m])))
	resolvers = [Client(a, "client", cookie_option(args, rng, a, "client"))
		for a in resolver_addrs]
	return clients, resolvers, taken56


def cookie_option(args, rng, addr, mode):
	"""COOKIE option data for a client of MODE (None for "none")."""
	if mode == "none":
		return None
	cc = rng.getrandbits(64).to_bytes(8, "big")
	if mode == "client":
		return cc
	return cc + server_cookie(args.cookie_secret, cc, addr, args.cookie_time)


# ---------------------------------------------------------------------------
# packets

def opt_rr(cookie):
	"""An OPT record (UDP size 1232, DO=0), with a COOKIE option if given."""
	rdata = b"" if cookie is None else struct.pack("!HH", OPT_COOKIE, len(cookie)) + cookie
	return b"\0" + struct.pack("!HHIH", T_OPT, EDNS_SIZE, 0, len(rdata)) + rdata


def dns_query(qid, qname_wire, qtype, opt):
	"""A query with RD=0 and an optional OPT record (wire bytes)."""
	head = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 1 if opt else 0)
	return head + qname_wire + struct.pack("!HH", qtype, 1) + (opt or b"")


class FrameMaker:
	"""Ethernet/IP/UDP frames to the server, checksums computed."""

	def __init__(self, args):
		self.eth4 = gqp.eth_header(args.dst_mac, args.src_mac, None, 0x0800)
		self.eth6 = gqp.eth_header(args.dst_mac, args.src_mac, None, 0x86DD)
		self.dst4, self.dst6, self.dport = args.dst4, args.dst6, args.port
		self.sum4, self.sum6 = gqp.ones_sum(self.dst4), gqp.ones_sum(self.dst6)
		self.ipid = 0

	def frame(self, src, sport, payload):
		ulen = 8 + len(payload)
		s = (gqp.ones_sum(src) + 17 + 2 * ulen + sport + self.dport +
			gqp.ones_sum(payload)) % 0xFFFF
		if len(src) == 16:
			s = (s + self.sum6) % 0xFFFF
			return self.eth6 + struct.pack("!IHBB16s16sHHHH", 0x60000000, ulen, 17, 64,
				src, self.dst6, sport, self.dport, ulen, gqp.udp_check(s)) + payload
		s = (s + self.sum4) % 0xFFFF
		self.ipid = (self.ipid + 1) & 0xFFFF
		hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, self.ipid, 0x4000, 64, 17,
			0, src, self.dst4)
		h = gqp.ip_check(gqp.ones_sum(hdr))
		return self.eth4 + hdr[:10] + struct.pack("!H", h) + hdr[12:] + struct.pack(
			"!HHHH", sport, self.dport, ulen, gqp.udp_check(s)) + payload


# ---------------------------------------------------------------------------
# the scenario

def random_label(rng, lo, hi, prefix=""):
	n = lo + int(rng.random() * (hi - lo + 1))
	return prefix + "".join(rng.choices(LABEL_CHARS, k=max(1, n - len(prefix))))


class Scenario:
	"""Draws the queries; keeps (source, port, ID) unique."""

	def __init__(self, args, rng, zones_data):
		self.args = args
		self.rng = rng
		self.keys = set()
		self.names = [(n, d) for zd in zones_data.values() for n, d in zd.items()]
		# the popularity order of the names is fixed by the seed
		rng.shuffle(self.names)
		self.cum = gqp.zipf_cumulative(len(self.names), args.zipf) if args.zipf else None
		self.existing = {n for n, _ in self.names}
		exclude4 = {ipaddress.ip_address(args.dst4)}
		self.clients, self.resolvers, self.taken56 = make_clients(args, rng, exclude4)
		self.nx_zones = args.legit_nx_zones

	def key(self, src):
		"""A source port and ID not used before from SRC."""
		rng = self.rng
		while True:
			sport, qid = 1024 + int(rng.random() * 64512), rng.getrandbits(16)
			if (src, sport, qid) not in self.keys:
				self.keys.add((src, sport, qid))
				return sport, qid

	def pick_name(self):
		rng = self.rng
		if self.cum is None:
			return self.names[int(rng.random() * len(self.names))]
		i = bisect.bisect(self.cum, rng.random() * self.cum[-1], 0, len(self.names) - 1)
		return self.names[i]

	def legit(self):
		"""(src, cookie option or None, EDNS, qname, qtype, record)."""
		rng, args = self.rng, self.args
		c = self.clients[int(rng.random() * len(self.clients))]
		edns = c.cookie is not None or rng.random() < args.edns
		rec = {"kind": "legit", "cookie": c.mode}
		if self.nx_zones and rng.random() < args.legit_nx_share:
			zone = self.nx_zones[int(rng.random() * len(self.nx_zones))]
			while True:
				qname = random_label(rng, *TYPO_LABEL) + "." + zone
				if qname not in self.existing:
					break
			qtype = "A"
			rec["expect"] = {"rcode": "NXDOMAIN"}
		else:
			qname, data = self.pick_name()
			qtype = "AAAA" if rng.random() < args.aaaa_share else "A"
			rec["expect"] = {"rcode": "NOERROR", "rdata": [data[qtype]]}
		return c.addr, c.text, c.cookie, edns, qname, qtype, rec

	def flood(self):
		rng, args = self.rng, self.args
		parent = args.flood_parents[int(rng.random() * len(args.flood_parents))]
		marked = bool(args.mark_prefix) and rng.random() < args.mark_share
		while True:
			label = random_label(rng, *FLOOD_LABEL, prefix=args.mark_prefix if marked else "")
			if args.mark_prefix and not marked and label.startswith(args.mark_prefix):
				continue
			qname = label + "." + parent
			if qname not in self.existing:
				break
		rec = {"kind": "flood", "parent": parent, "marked": marked}
		if self.resolvers and rng.random() < args.resolver_share:
			r = self.resolvers[int(rng.random() * len(self.resolvers))]
			rec.update(source="resolver", cookie="client")
			return r.addr, r.text, r.cookie, True, qname, "A", rec
		addr, _ = random_v6(rng, self.taken56)
		rec.update(source="spoofed", cookie="none")
		edns = rng.random() < args.flood_edns
		return addr, str(ipaddress.ip_address(addr)), None, edns, qname, "A", rec


def schedule(args):
	"""Sorted (t, kind) of every query: kind 0 legit, 1 flood."""
	n_legit = int(round(args.duration * args.legit_rate))
	slots = [(i / args.legit_rate, 0) for i in range(n_legit)]
	span = max(0.0, min(args.flood_end, args.duration) - args.flood_start)
	n_flood = int(round(span * args.flood_rate))
	slots += [(args.flood_start + j / args.flood_rate, 1) for j in range(n_flood)]
	slots.sort()
	return slots


def write_files(args, sc):
	"""The pcap and the sidecar; returns the counts."""
	fm = FrameMaker(args)
	rec_hdr = struct.Struct("<IIII").pack
	counts = {"legit": 0, "flood": 0, "legit_nxdomain": 0, "flood_resolver": 0,
		"flood_marked": 0, "legit_by_cookie": {"none": 0, "client": 0, "server": 0},
		"legit_ipv6": 0}
	wire_cache = {}
	base_us = BASE_TIME * 1000000
	with open(args.output, "wb") as out, open(args.sidecar, "w") as side:
		slots = schedule(args)
		side.write(json.dumps(meta(args, sc, slots)) + "\n")
		out.write(gqp.pcap_file_header())
		buf, lines = [], []
		for t, kind in slots:
			addr, text, cookie, edns, qname, qtype, rec = sc.legit() if kind == 0 \
				else sc.flood()
			sport, qid = sc.key(addr)
			qw = wire_cache.get(qname)
			if qw is None:
				qw = gqp.name_wire(qname)
				if kind == 0:
					wire_cache[qname] = qw
			payload = dns_query(qid, qw, T_AAAA if qtype == "AAAA" else T_A,
				opt_rr(cookie) if edns else None)
			frame = fm.frame(addr, sport, payload)
			sec, usec = divmod(base_us + int(round(t * 1e6)), 1000000)
			buf.append(rec_hdr(sec, usec, len(frame), len(frame)))
			buf.append(frame)
			rec = dict({"t": round(t, 6), "src": text, "sport": sport, "id": qid,
				"qname": qname, "qtype": qtype}, **rec)
			lines.append(json.dumps(rec))
			tally(counts, rec, len(addr) == 16)
			if len(buf) >= 16384:
				out.write(b"".join(buf))
				side.write("\n".join(lines) + "\n")
				buf.clear()
				lines.clear()
		out.write(b"".join(buf))
		if lines:
			side.write("\n".join(lines) + "\n")
	return counts


def tally(counts, rec, v6):
	counts[rec["kind"]] += 1
	if rec["kind"] == "legit":
		counts["legit_by_cookie"][rec["cookie"]] += 1
		counts["legit_nxdomain"] += rec["expect"]["rcode"] == "NXDOMAIN"
		counts["legit_ipv6"] += v6
	else:
		counts["flood_resolver"] += rec["source"] == "resolver"
		counts["flood_marked"] += rec["marked"]


def meta(args, sc, slots):
	"""The sidecar's first line."""
	n_flood = sum(k for _, k in slots)
	return {"kind": "meta", "seed": args.seed,
		"queries": {"legit": len(slots) - n_flood, "flood": n_flood}, "duration": args.duration,
		"legit_rate": args.legit_rate, "flood_rate": args.flood_rate,
		"flood_start": args.flood_start, "flood_end": min(args.flood_end, args.duration),
		"flood_parents": args.flood_parents, "zones": args.zones,
		"zone_files": {z: zone_path(args, z) for z in args.zones},
		"legit_nx_zones": args.legit_nx_zones, "mark_prefix": args.mark_prefix,
		"dst4": str(ipaddress.ip_address(args.dst4)),
		"dst6": str(ipaddress.ip_address(args.dst6)), "port": args.port,
		"dst_mac": args.dst_mac.hex(":"), "src_mac": args.src_mac.hex(":"),
		"cookie_time": args.cookie_time, "cookie_secret": args.cookie_secret.hex(),
		"base_time": BASE_TIME, "pcap": os.path.abspath(args.output),
		"clients": len(sc.clients), "ipv4_clients": sum(len(c.addr) == 4 for c in sc.clients),
		"resolvers": [r.text for r in sc.resolvers],
		"clients_by_cookie": {m: sum(c.mode == m for c in sc.clients)
			for m in ("none", "client", "server")}}


def zone_path(args, zone):
	return os.path.abspath(os.path.join(args.zone_dir, zone.rstrip(".") + ".zone"))


# ---------------------------------------------------------------------------
# command line

def absolute_name(text):
	text = text.strip().lower()
	return text if text.endswith(".") else text + "."


def name_list(text):
	return [absolute_name(t) for t in text.split(",") if t.strip()]


def secret(text):
	try:
		b = bytes.fromhex(text)
	except ValueError:
		b = b""
	if len(b) != 16:
		raise argparse.ArgumentTypeError("the secret is 32 hex digits (16 octets)")
	return b


def build_parser():
	p = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	a = p.add_argument
	a("--selftest", action="store_true", help="check SipHash-2-4 and RFC 9018 vectors")
	a("-o", "--output", help="pcap to write")
	a("--sidecar", help="JSON-lines description (default: OUTPUT with .jsonl)")
	a("--zone-dir", help="directory for the zone files (ZONE.zone)")
	a("--seed", type=int, default=1, help="random seed (1)")
	a("--zones", type=name_list, default=name_list("example.com.,example.net."),
		help="zones to write, comma-separated (example.com.,example.net.)")
	a("--names", type=int, default=1000, help="names per zone (1000)")
	a("--duration", type=float, default=15.0, help="seconds of legitimate traffic (15)")
	a("--legit-rate", type=float, default=1000.0, help="legitimate queries/s (1000)")
	a("--flood-rate", type=float, help="flood queries/s (10 x --legit-rate)")
	a("--flood-start", type=float, default=3.0, help="flood start, seconds (3)")
	a("--flood-end", type=float, default=9.0, help="flood end, seconds (9)")
	a("--flood-parents", type=name_list, default=name_list("example.com."),
		help="parents of the random labels, comma-separated (example.com.)")
	a("--clients", type=int, default=1000, help="legitimate client addresses (1000)")
	a("--ipv4-clients", type=int, default=200, help="of which IPv4 (200; at most 505)")
	a("--server-cookie-share", type=gqp.fraction, default=0.3,
		help="clients sending client + valid server cookies (0.3)")
	a("--client-cookie-share", type=gqp.fraction, default=0.3,
		help="clients sending a client cookie only (0.3)")
	a("--cookie-secret", type=secret, default=secret("000102030405060708090a0b0c0d0e0f"),
		help="server secret, 32 hex digits (000102...0f)")
	a("--cookie-time", type=int, help="server cookie timestamp (default: now)")
	a("--edns", type=gqp.fraction, default=0.8,
		help="share of queries of cookie-less clients with EDNS (0.8)")
	a("--zipf", type=float, default=1.0, help="name popularity exponent (1.0; 0 uniform)")
	a("--aaaa-share", type=gqp.fraction, default=0.3, help="legitimate AAAA queries (0.3)")
	a("--legit-nx-share", type=gqp.fraction, default=0.01,
		help="legitimate queries that are typos, NXDOMAIN (0.01)")
	a("--legit-nx-zones", type=name_list,
		help="zones of the typos (default: the zones not flooded)")
	a("--resolvers", type=int, default=4, help="resolver-like flood sources (4)")
	a("--resolver-share", type=gqp.fraction, default=0.4,
		help="share of the flood from the resolver-like sources (0.4)")
	a("--flood-edns", type=gqp.fraction, default=0.5,
		help="spoofed flood queries with EDNS (0.5)")
	a("--mark-prefix", default="", help="label prefix of the marked flood names")
	a("--mark-share", type=gqp.fraction, default=0.5,
		help="share of flood names with --mark-prefix (0.5)")
	a("--dst-mac", type=gqp.mac, default=gqp.mac("02:00:00:00:00:53"),
		help="destination MAC (02:00:00:00:00:53)")
	a("--src-mac", type=gqp.mac, default=gqp.mac("02:00:00:00:00:01"),
		help="source MAC (02:00:00:00:00:01)")
	a("--dst4", type=gqp.address_of(4), default="192.0.2.53", help="IPv4 server (192.0.2.53)")
	a("--dst6", type=gqp.address_of(6), default="2001:db8::53",
		help="IPv6 server (2001:db8::53)")
	a("--port", type=gqp.port_number, default=53, help="destination port (53)")
	return p


def check_args(p, args):
	if not args.output or not args.zone_dir:
		p.error("-o and --zone-dir are required")
	if args.flood_rate is None:
		args.flood_rate = 10 * args.legit_rate
	if args.cookie_time is None:
		args.cookie_time = int(time.time())
	if args.sidecar is None:
		args.sidecar = os.path.splitext(args.output)[0] + ".jsonl"
	if args.legit_nx_zones is None:
		args.legit_nx_zones = [z for z in args.zones if not any(
			f == z or f.endswith("." + z) for f in args.flood_parents)]
	if not 0 < args.names <= 99999 or args.clients < 1 or args.legit_rate <= 0 or \
			args.flood_rate < 0 or args.duration <= 0:
		p.error("--names 1-99999, --clients >= 1, positive rates and --duration")
	if args.server_cookie_share + args.client_cookie_share > 1:
		p.error("--server-cookie-share + --client-cookie-share > 1")
	if args.mark_prefix and (len(args.mark_prefix) >= FLOOD_LABEL[0] or
			any(c not in LABEL_CHARS for c in args.mark_prefix)):
		p.error("--mark-prefix: [a-z0-9], shorter than %d" % FLOOD_LABEL[0])
	for parent in args.flood_parents:
		if not any(parent == z or parent.endswith("." + z) for z in args.zones):
			print("warning: flood parent %s is in none of the zones" % parent,
				file=sys.stderr)


def main(argv=None):
	p = build_parser()
	args = p.parse_args(argv)
	if args.selftest:
		selftest()
		print("SipHash-2-4 and RFC 9018 vectors: ok")
		return 0
	check_args(p, args)
	selftest()
	started = time.monotonic()
	rng = random.Random(args.seed)
	os.makedirs(args.zone_dir, exist_ok=True)
	zones_data = {}
	for z, origin in enumerate(args.zones):
		zones_data[origin] = write_zone(zone_path(args, origin), origin, z,
			zone_names(args.names))
	sc = Scenario(args, rng, zones_data)
	counts = write_files(args, sc)
	print("%s: %d legitimate queries (%d NXDOMAIN typos; cookies: %s; IPv6 %d) and "
		"%d flood queries (%d from %d resolver-like sources, %d marked) in %.1f s; "
		"sidecar %s; zones %s; %.1f s" % (args.output, counts["legit"],
		counts["legit_nxdomain"], counts["legit_by_cookie"], counts["legit_ipv6"],
		counts["flood"], counts["flood_resolver"], len(sc.resolvers), counts["flood_marked"],
		args.duration, args.sidecar, ", ".join(zone_path(args, z) for z in args.zones),
		time.monotonic() - started), file=sys.stderr)
	return 0


if __name__ == "__main__":
	sys.exit(main())
