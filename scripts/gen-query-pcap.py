#!/usr/bin/python3
"""Make DNS query pcaps for capacity tests, or retarget an existing capture.

    gen-query-pcap.py gen --zone ZONEFILE --origin ORIGIN -o OUT.pcap [-n COUNT]
                          [--seed S] [--positive W --nxdomain W --nodata W
                          --referral W] [--edns F] [--do F] [--edns-size SPEC]
                          [--ipv6 F] [--sources N] [--zipf S] [--vlan ID] ...
    gen-query-pcap.py retarget IN.pcap -o OUT.pcap [--dst-mac M] [--dst4 A]
                          [--dst6 A] [--port P]

Both write classic pcap (LINKTYPE_ETHERNET, microsecond timestamps) that
tcpreplay, dpdk-pdump/pcap PMDs and kxdpgun-style replayers take as it is.

gen
    Reads the zone with a light master-file parser (owner names and types
    only: $ORIGIN, $TTL, $INCLUDE, relative names, '@', blank owners,
    comments, parentheses) and sorts its names into:
      data names    own at least one queryable type (RRSIG, NSEC and NSEC3
                    are never asked for; names owning only those, such as
                    NSEC3 hashes, are left out),
      cuts          non-apex owners of NS; they and everything below them
                    (glue included) answer with a referral.
    Each query belongs to one class; --positive, --nxdomain, --nodata and
    --referral are weights (normalised, so 7/3 works as well as 0.7/0.3):
      positive  a data name and one of its types, picked uniformly among
                the name's types.  A CNAME owner is asked for A (the answer
                is the chain); a wildcard owner '*.P' is asked as
                '<random label>.P' (a synthesised answer).  Popularity is
                Zipf-like: the names are put in a random order fixed by the
                seed and rank r (1-based) has weight 1/r**ZIPF; 0 = uniform.
      nxdomain  the random-subdomain pattern: a random 8-16 character
                [a-z0-9] label in front of a random existing parent (the
                apex or a data name; not at or below a cut, not owning a
                wildcard child, a DNAME or a CNAME), type A.  Parents are
                uniform, labels never repeat an existing name.
      nodata    a data name that is not a CNAME or wildcard owner, asked for
                one of A/AAAA/MX/TXT that it lacks (NAPTR, then SRV/CAA/...
                when it has all four); same Zipf popularity as positive.
      referral  a cut, or www./mail./api. in front of one, type A; cuts
                ranked and drawn with the same Zipf law.
    The mix is exact, not sampled: the count of each class (and of IPv6,
    EDNS, DO and each EDNS size) is the weight times COUNT rounded by
    largest remainder, and the order is shuffled with the seed.  --edns is
    the share of queries with an OPT record, --do the share of those with
    DO=1 (DO needs EDNS, so DO queries always have OPT), --edns-size the
    advertised UDP sizes ("1232,4096" equal shares, or "1232:0.7,4096:0.3").
    Queries have RD=0, random IDs, source addresses drawn uniformly from
    --sources addresses fixed by the seed inside --src4-prefix/--src6-prefix
    (capped at the prefix's size), random source ports 1024-65535, DF and
    TTL 64 (IPv4) or hop limit 64 (IPv6), and correct IPv4 header and UDP
    checksums.  Timestamps start at 2024-01-01T00:00:00Z, --rate apart.
    The same arguments and zone give the same file byte for byte.

retarget
    Reads classic pcap (any byte order, micro- or nanosecond) or pcapng with
    Ethernet (optional 802.1Q/802.1ad tags), raw IP (101, 12, 14), Linux
    SLL (113), SLL2 (276) or BSD loopback (0, 108) frames; keeps UDP DNS
    queries (destination port --in-port, default 53, QR=0, not fragmented,
    fully captured); rewrites the destination MAC, IP address and port;
    recomputes the IPv4 header and UDP checksums; writes Ethernet frames.
    Frames that had no Ethernet header get --src-mac as the source MAC
    (SLL inputs keep their captured link address).  Prints what it kept
    and why it skipped the rest; exits 1 when it kept nothing.
"""

import argparse
import bisect
import ipaddress
import itertools
import os
import random
import struct
import sys
import time

LINKTYPE_ETHERNET = 1
PCAP_SNAPLEN = 65535
BASE_TIME = 1704067200          # 2024-01-01T00:00:00Z: fixed, for reproducible files

# RR type mnemonics (RFC 1035 and successors, IANA registry) -> code
TYPE_CODES = {
	"A": 1, "NS": 2, "MD": 3, "MF": 4, "CNAME": 5, "SOA": 6, "MB": 7, "MG": 8,
	"MR": 9, "NULL": 10, "WKS": 11, "PTR": 12, "HINFO": 13, "MINFO": 14,
	"MX": 15, "TXT": 16, "RP": 17, "AFSDB": 18, "X25": 19, "ISDN": 20, "RT": 21,
	"NSAP": 22, "NSAP-PTR": 23, "SIG": 24, "KEY": 25, "PX": 26, "GPOS": 27,
	"AAAA": 28, "LOC": 29, "NXT": 30, "EID": 31, "NIMLOC": 32, "SRV": 33,
	"ATMA": 34, "NAPTR": 35, "KX": 36, "CERT": 37, "A6": 38, "DNAME": 39,
	"SINK": 40, "APL": 42, "DS": 43, "SSHFP": 44, "IPSECKEY": 45,
	"RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "DHCID": 49, "NSEC3": 50,
	"NSEC3PARAM": 51, "TLSA": 52, "SMIMEA": 53, "HIP": 55, "NINFO": 56,
	"RKEY": 57, "TALINK": 58, "CDS": 59, "CDNSKEY": 60, "OPENPGPKEY": 61,
	"CSYNC": 62, "ZONEMD": 63, "SVCB": 64, "HTTPS": 65, "SPF": 99, "NID": 104,
	"L32": 105, "L64": 106, "LP": 107, "EUI48": 108, "EUI64": 109, "URI": 256,
	"CAA": 257, "AVC": 258, "DOA": 259, "AMTRELAY": 260, "TA": 32768,
	"DLV": 32769,
}
TYPE_NAMES = {code: name for name, code in TYPE_CODES.items()}
T_A, T_NS, T_CNAME, T_MX, T_TXT, T_AAAA = 1, 2, 5, 15, 16, 28
T_DNAME, T_RRSIG, T_NSEC, T_NSEC3, T_OPT = 39, 46, 47, 50, 41
NEVER_ASKED = frozenset((T_RRSIG, T_NSEC, T_NSEC3))
NODATA_TYPES = (T_A, T_AAAA, T_MX, T_TXT)
NODATA_FALLBACK = (35, 33, 257, 52, 44, 99)   # NAPTR, SRV, CAA, TLSA, SSHFP, SPF
CLASSES = frozenset(("IN", "CH", "CS", "HS"))

QUERY_CLASSES = ("positive", "nxdomain", "nodata", "referral")
REFERRAL_PREFIXES = ("", "www.", "mail.", "api.")
LABEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
NX_PARENT_MAX_TEXT = 230        # leaves room for a 16-byte label within 255 octets
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class ZoneError(Exception):
	"""A zone-file problem, with file:line in the message."""


# ---------------------------------------------------------------------------
# names

def lower_name(text):
	"""Case-fold a name the DNS way (ASCII letters only)."""
	return text.lower() if text.isascii() else text.translate(ASCII_LOWER)


def absolute(token, origin):
	"""Resolve an owner/origin token against ORIGIN ('@', relative, absolute)."""
	if token == "@":
		if origin is None:
			raise ValueError("'@' with no origin")
		return origin
	if token.endswith(".") and not token.endswith("\\."):
		return token
	if origin is None:
		raise ValueError("relative name %r with no origin" % token)
	return token + ("." if origin == "." else "." + origin)


def split_labels(name):
	"""Labels of an absolute text name as bytes, honouring \\X and \\DDD."""
	if name == ".":
		return []
	if "\\" not in name:
		return [label.encode("latin-1") for label in name[:-1].split(".")]
	labels, cur, i = [], bytearray(), 0
	while i < len(name):
		c = name[i]
		if c == "\\":
			if name[i + 1:i + 4].isdigit() and len(name[i + 1:i + 4]) == 3:
				cur.append(int(name[i + 1:i + 4]))
				i += 4
				continue
			cur += name[i + 1].encode("latin-1")
			i += 2
			continue
		if c == ".":
			labels.append(bytes(cur))
			cur = bytearray()
		else:
			cur += c.encode("latin-1")
		i += 1
	if cur:
		labels.append(bytes(cur))
	return labels


def name_wire(name):
	"""Uncompressed wire form of an absolute text name; ValueError if invalid."""
	out = bytearray()
	for label in split_labels(name):
		if not 0 < len(label) < 64:
			raise ValueError("bad label length in %r" % name)
		out.append(len(label))
		out += label
	out.append(0)
	if len(out) > 255:
		raise ValueError("name longer than 255 octets: %r" % name)
	return bytes(out)


def parent_suffixes(name, apex):
	"""Yield NAME and its ancestors that are strictly below APEX."""
	if "\\" in name:
		labels = split_labels(name)
		depth = len(split_labels(apex))
		for k in range(len(labels) - depth):
			yield ".".join(l.decode("latin-1") for l in labels[k:]) + "."
		return
	stop = len(apex)
	i = 0
	while len(name) - i > stop:
		yield name[i:]
		i = name.index(".", i) + 1


def type_text(code):
	"""Mnemonic of a type code (TYPEnnn when unknown)."""
	return TYPE_NAMES.get(code) or "TYPE%d" % code


# ---------------------------------------------------------------------------
# zone reading

def _scan_line(line, depth):
	"""Strip a comment and parentheses outside quotes from one physical line.

	Returns (text, depth) with parentheses replaced by spaces and DEPTH
	updated.  Only the slow path for lines with '(' ')' or quoted ';'.
	"""
	out = []
	quoted = False
	i, n = 0, len(line)
	while i < n:
		c = line[i]
		if c == "\\":
			out.append(line[i:i + 2])
			i += 2
			continue
		if c == '"':
			quoted = not quoted
		elif not quoted:
			if c == ";":
				break
			if c == "(":
				depth += 1
				c = " "
			elif c == ")":
				depth -= 1
				c = " "
		out.append(c)
		i += 1
	return "".join(out), depth


def _record_type(tokens):
	"""The type code in TOKENS (the fields after the owner): skip TTL/class."""
	for tok in tokens[:3]:
		if tok[0].isdigit():
			continue                        # TTL, maybe with units (1h30m)
		up = tok.upper()
		if up in CLASSES or up.startswith("CLASS"):
			continue
		code = TYPE_CODES.get(up)
		if code is None:
			if up.startswith("TYPE") and up[4:].isdigit():
				code = int(up[4:])
			else:
				raise ValueError("unknown type or field %r" % tok)
		return code
	raise ValueError("no record type")


class ZoneNames:
	"""Owner names of a zone file and the set of types each one owns.

	types_by_name maps lower-case absolute text names to interned tuples of
	type codes, so a million names cost one dict entry each.
	"""

	def __init__(self):
		self.types_by_name = {}
		self.apex = None
		self.soa_owner = None
		self.records = 0
		self.lines = 0
		self._single = {}
		self._combos = {}

	def add(self, owner, code):
		"""Record that OWNER owns an RRset of type CODE."""
		self.records += 1
		d = self.types_by_name
		cur = d.get(owner)
		if cur is None:
			t = self._single.get(code)
			if t is None:
				t = self._single[code] = (code,)
			d[owner] = t
		elif code not in cur:
			key = (cur, code)
			t = self._combos.get(key)
			if t is None:
				t = self._combos[key] = tuple(sorted(cur + (code,)))
			d[owner] = t
		if code == 6 and self.soa_owner is None:
			self.soa_owner = owner

	def read(self, path, origin, depth=0):
		"""Parse master file PATH starting with ORIGIN (absolute or None)."""
		if depth > 8:
			raise ZoneError("%s: $INCLUDE nested too deep" % path)
		prev_tok = prev_owner = None
		lineno = 0
		pending = None          # (first line number, blank owner?, [texts]) inside ( )
		paren = 0
		with open(path, encoding="latin-1") as f:
			for lineno, line in enumerate(f, 1):
				first = lineno      # where the record starts, for messages
				if paren or "(" in line or ")" in line or ('"' in line and ";" in line):
					text, paren = _scan_line(line, paren)
					if paren < 0:
						raise ZoneError("%s:%d: unbalanced ')'" % (path, lineno))
					if pending is None:
						pending = (lineno, line[:1] in (" ", "\t"), [text])
					else:
						pending[2].append(text)
					if paren:
						continue
					first, blank, parts = pending
					pending = None
					text = " ".join(parts)
				else:
					if ";" in line:
						line = line[:line.index(";")]
					text, blank = line, line[:1] in (" ", "\t")
				tokens = text.split(None, 4)
				if not tokens:
					continue
				try:
					if not blank and tokens[0][0] == "$":
						origin = self._directive(tokens, origin, path, first, depth)
						continue
					if blank:
						if prev_owner is None:
							raise ValueError("blank owner before any owner")
						owner, rest = prev_owner, tokens
					else:
						tok = tokens[0]
						if tok != prev_tok:
							prev_owner = lower_name(absolute(tok, origin))
							prev_tok = tok
						owner, rest = prev_owner, tokens[1:]
					code = _record_type(rest)
				except ValueError as e:
					raise ZoneError("%s:%d: %s" % (path, first, e))
				self.add(owner, code)
				if origin is None and code == 6:
					origin = owner      # no --origin and no $ORIGIN yet: use the SOA owner
		self.lines += lineno
		if paren:
			raise ZoneError("%s: unbalanced '(' at end of file" % path)
		return origin

	def _directive(self, tokens, origin, path, lineno, depth):
		"""Handle $ORIGIN, $TTL, $INCLUDE; warn about others.  Returns origin.

		Raises ValueError for a bad name; ZoneError comes from an included file.
		"""
		word = tokens[0].upper()
		if word == "$ORIGIN" and len(tokens) >= 2:
			return lower_name(absolute(tokens[1], origin))
		if word == "$TTL":
			return origin
		if word == "$INCLUDE" and len(tokens) >= 2:
			inc = tokens[1]
			if not os.path.isabs(inc) and not os.path.exists(inc):
				inc = os.path.join(os.path.dirname(path), inc)
			inc_origin = origin
			if len(tokens) >= 3:
				inc_origin = lower_name(absolute(tokens[2], origin))
			self.read(inc, inc_origin, depth + 1)
			return origin           # $INCLUDE does not change the includer's origin
		print("%s:%d: %s ignored" % (path, lineno, tokens[0]), file=sys.stderr)
		return origin


def load_zone(path, origin):
	"""Read PATH; the apex is ORIGIN if given, else the SOA owner."""
	zn = ZoneNames()
	start = None
	if origin:
		start = lower_name(origin if origin.endswith(".") else origin + ".")
	zn.read(path, start)
	zn.apex = start or zn.soa_owner
	if zn.apex is None:
		raise ZoneError("%s: no --origin and no SOA record" % path)
	return zn


class Catalog:
	"""What the query classes draw from, built from a ZoneNames.

	data/data_types: names with data in popularity order (index 0 is rank 1)
	and the types a positive query may ask for; nodata: indexes into data
	usable for NODATA; nx_parents: parents for random subdomains; cuts:
	delegation points in popularity order.
	"""

	def __init__(self, zn, rng):
		self.zn = zn
		apex = zn.apex
		names = zn.types_by_name
		if apex not in names:
			raise ZoneError("apex %s owns no records (wrong --origin?)" % apex)
		cutset, wild_parents = set(), set()
		for n, types in names.items():
			if T_NS in types and n != apex:
				cutset.add(n)
			if n.startswith("*."):
				wild_parents.add(n[2:])
		tail = "." + apex if apex != "." else ""
		stop = len(apex)
		info_cache = {}         # types tuple -> (asked types, NODATA ok, NX parent ok)
		data, nx_parents, cuts = [], [], []
		self.out_of_zone = self.below_cut = 0
		for n, types in names.items():
			if tail and n != apex and not n.endswith(tail):
				self.out_of_zone += 1
				continue
			if cutset:
				if "\\" in n:
					under = any(x in cutset for x in parent_suffixes(n, apex))
				else:           # parent_suffixes() inlined: this loop sees every name
					under, i, ln = False, 0, len(n)
					while ln - i > stop:
						if n[i:] in cutset:
							under = True
							break
						i = n.index(".", i) + 1
				if under:
					if n in cutset:
						cuts.append(n)
					else:
						self.below_cut += 1
					continue
			info = info_cache.get(types)
			if info is None:
				cname = T_CNAME in types
				q = (T_A,) if cname else tuple(t for t in types if t not in NEVER_ASKED)
				info = info_cache[types] = (q, not cname, not cname and T_DNAME not in types)
			if not info[0]:
				continue
			wild = n.startswith("*.")
			data.append((n, info[0], info[1] and not wild))
			if info[2] and not wild and n not in wild_parents and len(n) <= NX_PARENT_MAX_TEXT:
				nx_parents.append(n)
		rng.shuffle(data)       # popularity ranks: a seed-fixed random order
		self.data = [d[0] for d in data]
		self.data_types = [d[1] for d in data]
		self.nodata = [i for i, d in enumerate(data) if d[2]]
		self.nx_parents = nx_parents
		rng.shuffle(cuts)
		self.cuts = cuts

	def summary(self):
		"""One line about what was found."""
		return ("%d names: %d with data, %d cuts, %d below cuts, %d NXDOMAIN parents,"
			" %d out of zone" % (len(self.zn.types_by_name), len(self.data), len(self.cuts),
			self.below_cut, len(self.nx_parents), self.out_of_zone))


# ---------------------------------------------------------------------------
# mixes and picks

def exact_counts(n, weights):
	"""Split N into integer counts proportional to WEIGHTS (largest remainder)."""
	total = float(sum(weights))
	if total <= 0:
		raise ValueError("weights sum to zero")
	raw = [n * w / total for w in weights]
	counts = [int(r) for r in raw]
	left = n - sum(counts)
	for i in sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))[:left]:
		counts[i] += 1
	return counts


def exact_mix(n, weights, rng):
	"""A shuffled list of N indexes into WEIGHTS, each as often as its share."""
	seq = []
	for i, c in enumerate(exact_counts(n, weights)):
		seq += [i] * c
	rng.shuffle(seq)
	return seq


def zipf_cumulative(count, exponent):
	"""Cumulative weights 1/r**exponent for ranks 1..COUNT."""
	return list(itertools.accumulate(r ** -exponent for r in range(1, count + 1)))


def zipf_picks(count, k, exponent, rng):
	"""K indexes in [0, COUNT) drawn with Zipf-like rank popularity."""
	if k == 0:
		return []
	if exponent == 0:
		return [int(rng.random() * count) for _ in range(k)]
	cum = zipf_cumulative(count, exponent)
	total, hi, rnd = cum[-1], count - 1, rng.random
	bis = bisect.bisect
	return [bis(cum, rnd() * total, 0, hi) for _ in range(k)]


def parse_sizes(spec):
	"""'1232,4096' or '1232:0.7,4096:0.3' -> ([sizes], [weights])."""
	sizes, weights, weighted = [], [], None
	for part in spec.split(","):
		part = part.strip()
		if not part:
			continue
		size, sep, w = part.partition(":")
		if weighted is None:
			weighted = bool(sep)
		elif weighted != bool(sep):
			raise argparse.ArgumentTypeError("give a weight for every size or for none")
		s = int(size)
		if not 512 <= s <= 65535:
			raise argparse.ArgumentTypeError("EDNS size %d outside 512-65535" % s)
		sizes.append(s)
		weights.append(float(w) if sep else 1.0)
	if not sizes or sum(weights) <= 0:
		raise argparse.ArgumentTypeError("no EDNS sizes in %r" % spec)
	return sizes, weights


def fraction(text):
	"""argparse type: a float in [0, 1]."""
	v = float(text)
	if not 0.0 <= v <= 1.0:
		raise argparse.ArgumentTypeError("%s is not within 0..1" % text)
	return v


def weight(text):
	"""argparse type: a non-negative float."""
	v = float(text)
	if v < 0:
		raise argparse.ArgumentTypeError("%s is negative" % text)
	return v


def prefix_of(version):
	"""argparse type factory: an IPv4 or IPv6 prefix (host bits allowed)."""
	def parse(text):
		try:
			net = ipaddress.ip_network(text, strict=False)
		except ValueError as e:
			raise argparse.ArgumentTypeError(str(e))
		if net.version != version:
			raise argparse.ArgumentTypeError("%s is not an IPv%d prefix" % (text, version))
		return net
	return parse


def address_of(version):
	"""argparse type factory: an IPv4 or IPv6 address -> packed bytes."""
	def parse(text):
		try:
			addr = ipaddress.ip_address(text)
		except ValueError as e:
			raise argparse.ArgumentTypeError(str(e))
		if addr.version != version:
			raise argparse.ArgumentTypeError("%s is not an IPv%d address" % (text, version))
		return addr.packed
	return parse


def mac(text):
	"""argparse type: aa:bb:cc:dd:ee:ff (or with '-') -> 6 bytes."""
	b = bytes.fromhex(text.replace(":", "").replace("-", ""))
	if len(b) != 6:
		raise argparse.ArgumentTypeError("%r is not a MAC address" % text)
	return b


def source_pool(net, count, rng):
	"""COUNT distinct host addresses (packed, checksum partial) in network NET.

	The network address, and for IPv4 prefixes up to /30 the broadcast
	address, are left out.  Fewer than COUNT when the prefix is smaller.
	"""
	hostbits = net.max_prefixlen - net.prefixlen
	if hostbits <= 1:                           # /32, /31, /128, /127: all usable
		lo, hi = 0, (1 << hostbits) - 1
	else:                                       # host parts allowed: lo..hi
		lo, hi = 1, (1 << hostbits) - (2 if net.version == 4 else 1)
	avail = hi - lo + 1
	k = min(count, avail)
	if avail <= 1 << 22:
		hosts = rng.sample(range(lo, hi + 1), k)
	else:
		seen, hosts = set(), []
		while len(hosts) < k:
			h = rng.getrandbits(hostbits)
			if lo <= h <= hi and h not in seen:
				seen.add(h)
				hosts.append(h)
	base = int(net.network_address)
	width = net.max_prefixlen // 8
	pool = []
	for h in hosts:
		b = (base + h).to_bytes(width, "big")
		pool.append((b, int.from_bytes(b, "big") % 0xFFFF))
	return pool, avail


# ---------------------------------------------------------------------------
# pcap writing and checksums

def pcap_file_header(linktype=LINKTYPE_ETHERNET, snaplen=PCAP_SNAPLEN):
	"""Classic pcap global header, little-endian, microsecond timestamps."""
	return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


def ones_sum(data):
	"""Sum of DATA as 16-bit big-endian words, modulo 0xFFFF (ones' complement).

	2**16 = 1 (mod 0xFFFF), so the whole buffer read as one integer has the
	same residue as the sum of its words; the C-level int conversion is far
	faster than a Python loop over words.
	"""
	if len(data) & 1:
		data += b"\0"
	return int.from_bytes(data, "big") % 0xFFFF


def udp_check(s):
	"""UDP checksum field from a residue S (0 is sent as 0xFFFF)."""
	return 0xFFFF - s if s else 0xFFFF


def ip_check(s):
	"""IPv4 header checksum field from a residue S."""
	return 0xFFFF - s if s else 0


def eth_header(dst, src, vlan, ethertype):
	"""Ethernet header, with one 802.1Q tag when VLAN is not None."""
	if vlan is None:
		return dst + src + struct.pack("!H", ethertype)
	return dst + src + struct.pack("!HHH", 0x8100, vlan & 0x0FFF, ethertype)


# ---------------------------------------------------------------------------
# gen

class QueryPlan:
	"""The COUNT questions of a run, drawn class by class in the mixed order.

	counts holds the exact number per class; iterating yields the questions.
	"""

	def __init__(self, cat, n, mix, zipf, rng, want_text):
		self.counts = dict.fromkeys(QUERY_CLASSES, 0)
		self.classes = exact_mix(n, mix, rng)
		per = exact_counts(n, mix)
		for name, c in zip(QUERY_CLASSES, per):
			self.counts[name] = c
		self.cat = cat
		self.rng = rng
		self.want_text = want_text
		self.wire_cache = {}
		self.pos = iter(zipf_picks(len(cat.data), per[0], zipf, rng))
		self.nod = iter(zipf_picks(len(cat.nodata), per[2], zipf, rng))
		self.ref = iter(zipf_picks(len(cat.cuts), per[3], zipf, rng))
		self.wild_labels = {}

	def _wire(self, name):
		"""Cached wire form of an existing name."""
		w = self.wire_cache.get(name)
		if w is None:
			w = self.wire_cache[name] = name_wire(name)
		return w

	def _positive(self):
		"""(name, type): a popular data name and one of its types."""
		cat, rng = self.cat, self.rng
		i = next(self.pos)
		name, types = cat.data[i], cat.data_types[i]
		qtype = types[int(rng.random() * len(types))] if len(types) > 1 else types[0]
		if name.startswith("*."):
			label = self.wild_labels.get(name)
			if label is None:
				label = self.wild_labels[name] = random_label(rng)
			name = label + name[1:]
		return name, qtype

	def _nxdomain(self):
		"""(name, type, label, parent): a fresh random label under a parent."""
		cat, rng = self.cat, self.rng
		parents, names = cat.nx_parents, cat.zn.types_by_name
		while True:
			parent = parents[int(rng.random() * len(parents))]
			label = random_label(rng)
			name = label + "." + parent if parent != "." else label + "."
			if name not in names:
				return name, T_A, label, parent

	def _nodata(self):
		"""(name, type): a popular data name and a type it does not own."""
		cat, rng = self.cat, self.rng
		i = cat.nodata[next(self.nod)]
		name = cat.data[i]
		have = self.cat.zn.types_by_name[name]
		absent = [t for t in NODATA_TYPES if t not in have]
		if absent:
			qtype = absent[int(rng.random() * len(absent))]
		else:
			qtype = next((t for t in NODATA_FALLBACK if t not in have), 65280)
		return name, qtype

	def _referral(self):
		"""(name, A): a popular cut, or a name just below it."""
		rng = self.rng
		cut = self.cat.cuts[next(self.ref)]
		prefix = REFERRAL_PREFIXES[int(rng.random() * len(REFERRAL_PREFIXES))]
		name = prefix + cut
		if prefix and len(name) > 250:
			name = cut
		return name, T_A

	def __iter__(self):
		"""Yield (class index, question bytes, text line or None)."""
		pack = struct.Struct("!HH").pack
		want = self.want_text
		wire = self._wire
		for cls in self.classes:
			if cls == 1:
				name, qtype, label, parent = self._nxdomain()
				q = bytes((len(label),)) + label.encode() + wire(parent) + pack(qtype, 1)
			else:
				if cls == 0:
					name, qtype = self._positive()
				elif cls == 2:
					name, qtype = self._nodata()
				else:
					name, qtype = self._referral()
				q = wire(name) + pack(qtype, 1)
			yield cls, q, ("%s %s\n" % (name, type_text(qtype)) if want else None)


def random_label(rng):
	"""A random 8-16 character label of [a-z0-9]."""
	return "".join(rng.choices(LABEL_CHARS, k=8 + int(rng.random() * 9)))


def effective_mix(args, cat):
	"""Class weights after dropping classes the zone cannot produce."""
	mix = [args.positive, args.nxdomain, args.nodata, args.referral]
	have = [len(cat.data), len(cat.nx_parents), len(cat.nodata), len(cat.cuts)]
	for i, name in enumerate(QUERY_CLASSES):
		if mix[i] > 0 and not have[i]:
			print("warning: the zone gives no %s queries; dropping --%s" % (name, name),
				file=sys.stderr)
			mix[i] = 0.0
	if sum(mix) <= 0:
		raise SystemExit("error: no query class left to generate")
	return mix


def cmd_gen(args):
	"""The gen subcommand: see the module docstring."""
	started = time.monotonic()
	rng = random.Random(args.seed)
	try:
		zn = load_zone(args.zone, args.origin)
		cat = Catalog(zn, rng)
	except (ZoneError, OSError) as e:
		raise SystemExit("error: %s" % e)
	parsed = time.monotonic()
	print("%s: %d lines, %d records, %s; %.1fs" % (args.zone, zn.lines, zn.records,
		cat.summary(), parsed - started), file=sys.stderr)

	n = args.count
	mix = effective_mix(args, cat)
	sizes, size_w = args.edns_size
	src4, avail4 = source_pool(args.src4_prefix, args.sources, rng)
	src6, avail6 = source_pool(args.src6_prefix, args.sources, rng)
	for pool, avail, pfx in ((src4, avail4, args.src4_prefix), (src6, avail6, args.src6_prefix)):
		if len(pool) < args.sources:
			print("note: %s holds %d hosts; using %d sources there" % (pfx, avail, len(pool)),
				file=sys.stderr)

	plan = QueryPlan(cat, n, mix, args.zipf, rng, bool(args.queries_out))
	fam = exact_mix(n, [1 - args.ipv6, args.ipv6], rng)
	edns = exact_mix(n, [1 - args.edns, args.edns], rng)
	n_edns = sum(edns)
	do_seq = exact_mix(n_edns, [1 - args.do, args.do], rng) if n_edns else []
	size_seq = exact_mix(n_edns, size_w, rng) if n_edns else []
	# OPT RR: root owner, TYPE 41, CLASS = UDP size, TTL = ext-rcode/version/flags
	opts = [[b"\0" + struct.pack("!HHIH", T_OPT, s, flags, 0) for flags in (0, 0x8000)]
		for s in sizes]

	dst4, dst6 = args.dst4, args.dst6
	dst4_sum, dst6_sum = ones_sum(dst4), ones_sum(dst6)
	eth4 = eth_header(args.dst_mac, args.src_mac, args.vlan, 0x0800)
	eth6 = eth_header(args.dst_mac, args.src_mac, args.vlan, 0x86DD)
	dport = args.port
	hdr4_const = 0x4500 + 0x4000 + ((64 << 8) | 17)   # ver/ihl, DF, TTL/proto
	rec = struct.Struct("<IIII").pack
	dnshdr = struct.Struct("!HHHHHH").pack
	ip4 = struct.Struct("!BBHHHBBH4s4sHHHH").pack
	ip6 = struct.Struct("!IHBB16s16sHHHH").pack
	from_bytes = int.from_bytes
	rnd, bits = rng.random, rng.getrandbits
	n4, n6 = len(src4), len(src6)
	rate = args.rate
	base_us = BASE_TIME * 1000000

	stats = {"do": 0, "v6": 0}
	size_counts = [0] * len(sizes)
	qtext = open(args.queries_out, "w", encoding="latin-1") if args.queries_out else None
	ei = 0
	with open(args.output, "wb") as out:
		out.write(pcap_file_header())
		buf, lines = [], []
		for i, (_cls, q, text) in enumerate(plan):
			if edns[i]:
				do = do_seq[ei]
				sz = size_seq[ei]
				ei += 1
				stats["do"] += do
				size_counts[sz] += 1
				dns = dnshdr(bits(16), 0, 1, 0, 0, 1) + q + opts[sz][do]
			else:
				dns = dnshdr(bits(16), 0, 1, 0, 0, 0) + q
			ulen = 8 + len(dns)
			sport = 1024 + int(rnd() * 64512)
			payload = from_bytes(dns + b"\0" if ulen & 1 else dns, "big")
			if fam[i]:
				src, ssum = src6[int(rnd() * n6)]
				s = (ssum + dst6_sum + 17 + 2 * ulen + sport + dport + payload) % 0xFFFF
				frame = eth6 + ip6(0x60000000, ulen, 17, 64, src, dst6, sport, dport, ulen,
					0xFFFF - s if s else 0xFFFF) + dns
				stats["v6"] += 1
			else:
				src, ssum = src4[int(rnd() * n4)]
				tot, ipid = 20 + ulen, bits(16)
				h = (hdr4_const + tot + ipid + ssum + dst4_sum) % 0xFFFF
				s = (ssum + dst4_sum + 17 + 2 * ulen + sport + dport + payload) % 0xFFFF
				frame = eth4 + ip4(0x45, 0, tot, ipid, 0x4000, 64, 17, 0xFFFF - h if h else 0,
					src, dst4, sport, dport, ulen, 0xFFFF - s if s else 0xFFFF) + dns
			sec, usec = divmod(base_us + i * 1000000 // rate, 1000000)
			flen = len(frame)
			buf.append(rec(sec, usec, flen, flen))
			buf.append(frame)
			if qtext:
				lines.append(text)
			if len(buf) >= 16384:
				out.write(b"".join(buf))
				buf.clear()
				if qtext:
					qtext.write("".join(lines))
					lines.clear()
		out.write(b"".join(buf))
		if qtext:
			qtext.write("".join(lines))
			qtext.close()
	size = os.path.getsize(args.output)
	elapsed = time.monotonic() - started
	c = plan.counts
	print("%s: %d queries: positive %d, nxdomain %d, nodata %d, referral %d" % (
		args.output, n, c["positive"], c["nxdomain"], c["nodata"], c["referral"]),
		file=sys.stderr)
	print("  EDNS %d (%s), DO %d; IPv4 %d, IPv6 %d; %d v4 / %d v6 sources" % (
		n_edns, ", ".join("%d: %d" % (s, k) for s, k in zip(sizes, size_counts)),
		stats["do"], n - stats["v6"], stats["v6"], n4, n6), file=sys.stderr)
	print("  %d bytes (%.1f MB); %.1fs (zone %.1fs, packets %.1fs)%s" % (
		size, size / 1e6, elapsed, parsed - started, elapsed - (parsed - started),
		"; queries in %s" % args.queries_out if args.queries_out else ""), file=sys.stderr)
	return 0


# ---------------------------------------------------------------------------
# retarget: reading captures

def read_capture(f):
	"""Yield (linktype, seconds, microseconds, frame, original length) from a
	classic pcap or pcapng stream F."""
	head = f.read(4)
	if len(head) < 4:
		raise ValueError("empty file")
	if head == b"\x0a\x0d\x0d\x0a":
		yield from _read_pcapng(f, head)
		return
	for endian in "<>":
		magic, = struct.unpack(endian + "I", head)
		if magic in (0xA1B2C3D4, 0xA1B23C4D):
			break
	else:
		raise ValueError("not a pcap or pcapng file (magic %s)" % head.hex())
	nano = magic == 0xA1B23C4D
	rest = f.read(20)
	if len(rest) < 20:
		raise ValueError("truncated pcap header")
	_, _, _, _, _, linktype = struct.unpack(endian + "HHiIII", rest)
	linktype &= 0xFFFF
	rh = struct.Struct(endian + "IIII")
	while True:
		h = f.read(16)
		if len(h) < 16:
			return
		sec, frac, caplen, origlen = rh.unpack(h)
		data = f.read(caplen)
		if len(data) < caplen:
			return
		yield linktype, sec, (frac // 1000 if nano else frac), data, origlen


def _read_pcapng(f, first):
	"""pcapng blocks: SHB, IDB (link type, if_tsresol), EPB and SPB."""
	endian = "<"
	ifaces = []                  # (linktype, snaplen, ticks per second)
	block_type = first
	while True:
		lenbytes = f.read(4)
		if len(lenbytes) < 4:
			return
		if block_type == b"\x0a\x0d\x0d\x0a":
			bom = f.read(4)
			endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
			blen, = struct.unpack(endian + "I", lenbytes)
			body = f.read(blen - 12)
			ifaces = []
		else:
			btype, = struct.unpack(endian + "I", block_type)
			blen, = struct.unpack(endian + "I", lenbytes)
			body = f.read(blen - 8)
			if btype == 1:
				lt, _, snap = struct.unpack(endian + "HHI", body[:8])
				ticks = 1000000
				opts = body[8:-4]
				while len(opts) >= 4:
					code, olen = struct.unpack(endian + "HH", opts[:4])
					if code == 0:
						break
					if code == 9 and olen >= 1:
						v = opts[4]
						ticks = 2 ** (v & 0x7F) if v & 0x80 else 10 ** v
					opts = opts[4 + ((olen + 3) & ~3):]
				ifaces.append((lt, snap, ticks))
			elif btype == 6 and len(body) >= 20:
				ifid, hi, lo, caplen, origlen = struct.unpack(endian + "IIIII", body[:20])
				lt, _, ticks = ifaces[ifid]
				ts = (hi << 32) | lo
				sec, frac = divmod(ts, ticks)
				yield lt, sec, frac * 1000000 // ticks, body[20:20 + caplen], origlen
			elif btype == 3 and len(body) >= 4 and ifaces:
				origlen, = struct.unpack(endian + "I", body[:4])
				lt, snap, _ = ifaces[0]
				caplen = min(origlen, snap) if snap else origlen
				yield lt, 0, 0, body[4:4 + caplen], origlen
		block_type = f.read(4)
		if len(block_type) < 4:
			return


def split_link(linktype, frame):
	"""Link layer of FRAME -> (source MAC or None, VLAN tags, ethertype, L3)
	or None when the link type is not handled."""
	if linktype == 1:
		if len(frame) < 14:
			return None
		src, off = frame[6:12], 12
		tags = b""
		etype, = struct.unpack_from("!H", frame, off)
		while etype in (0x8100, 0x88A8, 0x9100) and len(frame) >= off + 6:
			tags += frame[off:off + 4]
			off += 4
			etype, = struct.unpack_from("!H", frame, off)
		return src, tags, etype, frame[off + 2:]
	if linktype in (101, 12, 14, 0, 108):
		l3 = frame[4:] if linktype in (0, 108) else frame
		if not l3:
			return None
		v = l3[0] >> 4
		return None, b"", 0x0800 if v == 4 else 0x86DD if v == 6 else 0, l3
	if linktype == 113 and len(frame) >= 16:
		_, _, halen = struct.unpack_from("!HHH", frame, 0)
		etype, = struct.unpack_from("!H", frame, 14)
		return (frame[6:12] if halen == 6 else None), b"", etype, frame[16:]
	if linktype == 276 and len(frame) >= 20:
		etype, = struct.unpack_from("!H", frame, 0)
		halen = frame[11]
		return (frame[12:18] if halen == 6 else None), b"", etype, frame[20:]
	return None


def retarget_l3(etype, l3, dst4, dst4_sum, dst6, dst6_sum, in_port, port):
	"""Rewrite one IP packet carrying a DNS query; (packet, None) or (None, reason)."""
	if etype == 0x0800:
		if len(l3) < 20 or l3[0] >> 4 != 4:
			return None, "bad IPv4"
		ihl = (l3[0] & 15) * 4
		tot, = struct.unpack_from("!H", l3, 2)
		if ihl < 20 or tot < ihl + 8:
			return None, "bad IPv4"
		if tot > len(l3):
			return None, "truncated"
		if l3[9] != 17:
			return None, "not UDP"
		if struct.unpack_from("!H", l3, 6)[0] & 0x3FFF:
			return None, "fragment"
		hdr, udp = l3[:ihl], l3[ihl:tot]
		src_sum = ones_sum(hdr[12:16])
		dsum = dst4_sum
	elif etype == 0x86DD:
		if len(l3) < 40 or l3[0] >> 4 != 6:
			return None, "bad IPv6"
		plen, = struct.unpack_from("!H", l3, 4)
		if 40 + plen > len(l3):
			return None, "truncated"
		nh, off = l3[6], 40
		while nh in (0, 60):
			if off + 8 > 40 + plen:
				return None, "bad IPv6"
			nh, hl = l3[off], (l3[off + 1] + 1) * 8
			off += hl
		if nh == 44:
			return None, "fragment"
		if nh != 17:
			return None, "not UDP"
		hdr, udp = l3[:off], l3[off:40 + plen]
		src_sum = ones_sum(hdr[8:24])
		dsum = dst6_sum
	else:
		return None, "not IP"
	if len(udp) < 8:
		return None, "truncated"
	sport, dp, ulen = struct.unpack_from("!HHH", udp, 0)
	if dp != in_port:
		return None, "other port"
	if ulen < 8 or ulen > len(udp):
		return None, "bad UDP length"
	dns = udp[8:ulen]
	if len(dns) < 12:
		return None, "short DNS"
	if dns[2] & 0x80:
		return None, "response"
	s = (src_sum + dsum + 17 + 2 * ulen + sport + port + ones_sum(dns)) % 0xFFFF
	udp = struct.pack("!HHHH", sport, port, ulen, udp_check(s)) + dns
	if etype == 0x0800:
		hdr = bytearray(hdr)
		hdr[2:4] = struct.pack("!H", ihl + ulen)
		hdr[10:12] = b"\0\0"
		hdr[16:20] = dst4
		hdr[10:12] = struct.pack("!H", ip_check(ones_sum(bytes(hdr))))
	else:
		hdr = bytearray(hdr)
		hdr[4:6] = struct.pack("!H", len(hdr) - 40 + ulen)
		hdr[24:40] = dst6
	return bytes(hdr) + udp, None


def cmd_retarget(args):
	"""The retarget subcommand: see the module docstring."""
	dst4, dst6 = args.dst4, args.dst6
	d4s, d6s = ones_sum(dst4), ones_sum(dst6)
	kept, skipped = 0, {}
	default_src = args.src_mac or mac("02:00:00:00:00:01")
	rec = struct.Struct("<IIII").pack
	with open(args.input, "rb") as f, open(args.output, "wb") as out:
		out.write(pcap_file_header())
		buf = []
		try:
			for linktype, sec, usec, frame, origlen in read_capture(f):
				if origlen > len(frame):
					skipped["truncated"] = skipped.get("truncated", 0) + 1
					continue
				link = split_link(linktype, frame)
				if link is None:
					reason = "link type %d" % linktype
					skipped[reason] = skipped.get(reason, 0) + 1
					continue
				src, tags, etype, l3 = link
				pkt, reason = retarget_l3(etype, l3, dst4, d4s, dst6, d6s, args.in_port, args.port)
				if pkt is None:
					skipped[reason] = skipped.get(reason, 0) + 1
					continue
				if args.strip_vlan:
					tags = b""
				if args.vlan is not None:
					tags = struct.pack("!HH", 0x8100, args.vlan & 0x0FFF)
				smac = args.src_mac or src or default_src
				data = args.dst_mac + smac + tags + struct.pack("!H", etype) + pkt
				buf.append(rec(sec, usec, len(data), len(data)))
				buf.append(data)
				kept += 1
				if len(buf) >= 16384:
					out.write(b"".join(buf))
					buf.clear()
		except (ValueError, struct.error, IndexError) as e:
			raise SystemExit("error: %s: %s" % (args.input, e))
		out.write(b"".join(buf))
	total = kept + sum(skipped.values())
	detail = ", ".join("%s %d" % kv for kv in sorted(skipped.items()))
	print("%s: %d frames, kept %d queries, skipped %d%s -> %s" % (args.input, total, kept,
		total - kept, " (%s)" % detail if detail else "", args.output), file=sys.stderr)
	return 0 if kept else 1


# ---------------------------------------------------------------------------

def vlan_id(text):
	"""argparse type: an 802.1Q VLAN ID 0-4095."""
	v = int(text)
	if not 0 <= v <= 4095:
		raise argparse.ArgumentTypeError("VLAN ID %s outside 0-4095" % text)
	return v


def port_number(text):
	"""argparse type: a UDP port 1-65535."""
	v = int(text)
	if not 0 < v < 65536:
		raise argparse.ArgumentTypeError("port %s outside 1-65535" % text)
	return v


def build_parser():
	"""The command line."""
	p = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	sub = p.add_subparsers(dest="cmd", required=True)

	g = sub.add_parser("gen", help="generate queries for a zone",
		description="Generate a pcap of UDP DNS queries for a zone (see the top-level --help).")
	g.add_argument("--zone", required=True, help="master file to draw names from")
	g.add_argument("--origin",
		help="zone apex and initial $ORIGIN (default: the first SOA owner)")
	g.add_argument("-o", "--output", required=True, help="pcap to write")
	g.add_argument("-n", "--count", type=int, default=100000, help="queries (default 100000)")
	g.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
	g.add_argument("--positive", type=weight, default=0.7, help="weight of positive answers (0.7)")
	g.add_argument("--nxdomain", type=weight, default=0.3,
		help="weight of random-subdomain NXDOMAIN (0.3)")
	g.add_argument("--nodata", type=weight, default=0.0, help="weight of NODATA (0)")
	g.add_argument("--referral", type=weight, default=0.0, help="weight of referrals (0)")
	g.add_argument("--edns", type=fraction, default=0.9, help="share with an OPT record (0.9)")
	g.add_argument("--do", type=fraction, default=0.6, help="share of EDNS queries with DO=1 (0.6)")
	g.add_argument("--edns-size", type=parse_sizes, default=parse_sizes("1232,4096,512"),
		help="advertised UDP sizes, SIZE[:WEIGHT],... (1232,4096,512)")
	g.add_argument("--ipv6", type=fraction, default=0.2, help="share sent over IPv6 (0.2)")
	g.add_argument("--sources", type=int, default=1000,
		help="distinct source addresses per family (1000, capped at the prefix size)")
	g.add_argument("--src4-prefix", type=prefix_of(4), default="198.51.100.0/24", help="IPv4 sources (198.51.100.0/24)")
	g.add_argument("--src6-prefix", type=prefix_of(6), default="2001:db8:1::/48", help="IPv6 sources (2001:db8:1::/48)")
	g.add_argument("--zipf", type=float, default=1.0,
		help="popularity exponent: rank r has weight 1/r**ZIPF (1.0; 0 = uniform)")
	g.add_argument("--vlan", type=vlan_id, help="802.1Q tag every frame with this VLAN ID")
	g.add_argument("--dst-mac", type=mac, default=mac("02:70:63:61:70:00"),
		help="destination MAC (02:70:63:61:70:00)")
	g.add_argument("--src-mac", type=mac, default=mac("02:00:00:00:00:01"),
		help="source MAC (02:00:00:00:00:01)")
	g.add_argument("--dst4", type=address_of(4), default="192.0.2.53", help="IPv4 destination (192.0.2.53)")
	g.add_argument("--dst6", type=address_of(6), default="2001:db8::53", help="IPv6 destination (2001:db8::53)")
	g.add_argument("--port", type=port_number, default=53, help="destination port (53)")
	g.add_argument("--rate", type=int, default=100000,
		help="timestamp spacing as queries per second (100000)")
	g.add_argument("--queries-out", metavar="FILE",
		help="also write the queries as dnsperf 'NAME TYPE' lines, same order")
	g.set_defaults(func=cmd_gen)

	r = sub.add_parser("retarget", help="rewrite a capture's queries to another server",
		description="Keep the UDP DNS queries of a capture and point them at another server.")
	r.add_argument("input", help="pcap or pcapng to read")
	r.add_argument("-o", "--output", required=True, help="pcap to write")
	r.add_argument("--dst-mac", type=mac, default=mac("02:70:63:61:70:00"),
		help="destination MAC (02:70:63:61:70:00)")
	r.add_argument("--src-mac", type=mac,
		help="source MAC for every frame (default: keep it; 02:00:00:00:00:01 if none)")
	r.add_argument("--dst4", type=address_of(4), default="192.0.2.53", help="IPv4 destination (192.0.2.53)")
	r.add_argument("--dst6", type=address_of(6), default="2001:db8::53", help="IPv6 destination (2001:db8::53)")
	r.add_argument("--port", type=port_number, default=53, help="new destination port (53)")
	r.add_argument("--in-port", type=port_number, default=53,
		help="destination port that marks DNS queries in the input (53)")
	r.add_argument("--vlan", type=vlan_id, help="replace VLAN tags with one 802.1Q tag")
	r.add_argument("--strip-vlan", action="store_true", help="drop VLAN tags")
	r.set_defaults(func=cmd_retarget)
	return p


def main(argv=None):
	"""Entry point."""
	args = build_parser().parse_args(argv)
	if args.cmd == "gen":
		if args.count < 0:
			raise SystemExit("error: -n must not be negative")
		if args.sources < 1:
			raise SystemExit("error: --sources must be at least 1")
		if args.rate < 1:
			raise SystemExit("error: --rate must be at least 1")
		if args.zipf < 0:
			raise SystemExit("error: --zipf must not be negative")
	return args.func(args)


if __name__ == "__main__":
	sys.exit(main())
