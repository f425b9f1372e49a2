"""A small, strict DNS message reader for the comparison.

The harness compares tens of thousands of replies; this reader does only
what the comparison needs and is several times faster than building full
dnspython messages. Names are decompressed, including those inside the
RDATA of the types that carry names, so that RDATA compares canonically
(RFC 4034 6.2: uncompressed, lowercase names). dnspython is still used to
print an RR for a report.
"""

import functools
import struct

import dns.rdata
import dns.rdataclass
import dns.rdatatype


class FormatError(Exception):
	"""The message is malformed (pointer loop, truncated RR, bad label)."""


T = dns.rdatatype
# RDATA layouts: a sequence of fields; "n" is a domain name, an int is that
# many fixed bytes, "s" one character-string, "*" the rest (raw)
LAYOUTS = {
	T.NS: ("n",), T.MD: ("n",), T.MF: ("n",), T.CNAME: ("n",), T.MB: ("n",),
	T.MG: ("n",), T.MR: ("n",), T.PTR: ("n",), T.DNAME: ("n",),
	T.SOA: ("n", "n", 20), T.MINFO: ("n", "n"), T.RP: ("n", "n"),
	T.MX: (2, "n"), T.AFSDB: (2, "n"), T.RT: (2, "n"), T.KX: (2, "n"),
	T.PX: (2, "n", "n"), T.SRV: (6, "n"), T.NAPTR: (4, "s", "s", "s", "n"),
	T.RRSIG: (18, "n", "*"), T.NSEC: ("n", "*"),
}


def read_name(wire, pos):
	"""(labels as lowercased bytes tuple, original-case tuple, next position)."""
	labels = []
	end = None
	jumps = 0
	total = 0
	while True:
		if pos >= len(wire):
			raise FormatError("name runs past the end")
		size = wire[pos]
		if size & 0xC0 == 0xC0:
			if pos + 1 >= len(wire):
				raise FormatError("truncated pointer")
			if end is None:
				end = pos + 2
			pos = ((size & 0x3F) << 8) | wire[pos + 1]
			jumps += 1
			if jumps > 126:
				raise FormatError("compression loop")
			continue
		if size & 0xC0:
			raise FormatError("bad label type")
		pos += 1
		if size == 0:
			break
		label = wire[pos:pos + size]
		if len(label) != size:
			raise FormatError("label runs past the end")
		labels.append(label)
		total += size + 1
		if total > 254:
			raise FormatError("name longer than 255 bytes")
		pos += size
	return tuple(labels), end if end is not None else pos


_SPECIAL = set(b'"().;\\@$')


@functools.lru_cache(maxsize=65536)
def name_text(labels):
	"""Presentation format of LABELS, escaped the way dnspython does it."""
	if not labels:
		return "."
	out = []
	for label in labels:
		text = []
		for c in label:
			if c in _SPECIAL:
				text.append("\\" + chr(c))
			elif 0x20 < c < 0x7F:
				text.append(chr(c))
			else:
				text.append("\\%03d" % c)
		out.append("".join(text))
	return ".".join(out) + "."


def name_wire(labels):
	return b"".join(bytes([len(l)]) + l for l in labels) + b"\x00"


def canonical_rdata(wire, start, end, rdtype):
	"""RDATA with every name decompressed and lowercased."""
	layout = LAYOUTS.get(rdtype)
	if layout is None:
		return wire[start:end]
	out = []
	pos = start
	for field in layout:
		if field == "n":
			labels, pos = read_name(wire, pos)
			out.append(name_wire(labels).lower())
		elif field == "s":
			size = wire[pos] if pos < end else 0
			out.append(wire[pos:pos + 1 + size])
			pos += 1 + size
		elif field == "*":
			out.append(wire[pos:end])
			pos = end
		else:
			out.append(wire[pos:pos + field])
			pos += field
		if pos > end:
			raise FormatError("RDATA of type %d runs past its length" % rdtype)
	if pos != end:
		raise FormatError("RDATA of type %d has %d stray bytes" % (rdtype, end - pos))
	return b"".join(out)


class RR:
	"""One resource record: owner (labels), type, class, TTL, canonical RDATA."""

	__slots__ = ("labels", "rdtype", "rdclass", "ttl", "rdata")

	def __init__(self, labels, rdtype, rdclass, ttl, rdata):
		self.labels = labels
		self.rdtype = rdtype
		self.rdclass = rdclass
		self.ttl = ttl
		self.rdata = rdata

	def owner(self):
		"""The owner name as lowercased text."""
		return name_text(self.labels).lower()

	def text(self):
		try:
			rd = dns.rdata.from_wire(self.rdclass, self.rdtype, self.rdata, 0,
				len(self.rdata))
			data = rd.to_text()
		except Exception:  # a report must print even what dnspython rejects
			data = "\\# %d %s" % (len(self.rdata), self.rdata.hex())
		return "%s %d %s %s %s" % (name_text(self.labels), self.ttl,
			dns.rdataclass.to_text(self.rdclass), dns.rdatatype.to_text(self.rdtype), data)


class Message:
	"""Header fields and the RRs of the three sections; the OPT RR separately."""

	def __init__(self, wire):
		if len(wire) < 12:
			raise FormatError("shorter than a header")
		(self.id, self.flags, qdcount, ancount, nscount,
			arcount) = struct.unpack("!6H", wire[:12])
		pos = 12
		for _ in range(qdcount):
			_, pos = read_name(wire, pos)
			pos += 4
		self.sections = []
		self.opt = None
		for count in (ancount, nscount, arcount):
			rrs = []
			for _ in range(count):
				rr, pos = self._read_rr(wire, pos)
				if rr.rdtype == T.OPT:
					if self.opt is not None:
						raise FormatError("two OPT records")
					self.opt = rr
				else:
					rrs.append(rr)
			self.sections.append(rrs)
		if pos > len(wire):
			raise FormatError("message runs past the end")
		if pos != len(wire):
			raise FormatError("%d trailing bytes" % (len(wire) - pos))
		self.edns_info = self._edns()

	@staticmethod
	def _read_rr(wire, pos):
		labels, pos = read_name(wire, pos)
		if pos + 10 > len(wire):
			raise FormatError("truncated RR header")
		rdtype, rdclass, ttl, rdlen = struct.unpack("!HHIH", wire[pos:pos + 10])
		pos += 10
		if pos + rdlen > len(wire):
			raise FormatError("RDATA runs past the end")
		rdata = canonical_rdata(wire, pos, pos + rdlen, rdtype)
		return RR(labels, rdtype, rdclass, ttl, rdata), pos + rdlen

	def rcode(self):
		"""The full rcode, with the upper bits from OPT (RFC 6891)."""
		ext = (self.opt.ttl >> 24) << 4 if self.opt is not None else 0
		return ext | (self.flags & 0xF)

	def opcode(self):
		return (self.flags >> 11) & 0xF

	def _edns(self):
		"""None, or (version, DO, option summary, payload)."""
		if self.opt is None:
			return None
		version = (self.opt.ttl >> 16) & 0xFF
		do = bool(self.opt.ttl & 0x8000)
		return (version, do, " ".join(sorted(self._options())), self.opt.rdclass)

	def edns(self):
		return self.edns_info

	def _options(self):
		data = self.opt.rdata
		pos = 0
		while pos + 4 <= len(data):
			code, size = struct.unpack("!HH", data[pos:pos + 4])
			value = data[pos + 4:pos + 4 + size]
			# EDE (RFC 8914) by its info code: the text is free-form
			if code == 15 and len(value) >= 2:
				yield "EDE %d" % struct.unpack("!H", value[:2])[0]
			else:
				yield "option %d" % code
			pos += 4 + size
		if pos != len(data):
			raise FormatError("malformed OPT RDATA")
