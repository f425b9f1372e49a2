"""The comparison core of the differential tests.

A query (built here, byte for byte: ID, flags, qname case, EDNS, payload,
DO) goes to two servers, A and B. Both replies are parsed and compared:

- header: opcode, rcode (with the EDNS extended bits) and the flags
  QR AA TC RD RA AD CD;
- EDNS: present or not, version, DO (the advertised payload is a
  configuration choice of each server and is only reported when it differs
  in presence);
- answer and authority: RRsets with their TTLs, RR by RR, order-insensitive,
  owner names and names inside RDATA case-insensitive (RFC 4343); RRSIGs
  are RRsets of their own, keyed by owner and covered type (RFC 4034 3),
  compared like the others in whichever section they are, TTLs included;
- additional: by the policy given: exact (like the other sections), ignore,
  subset (A's RRsets are a subset of B's: A may leave out, never add),
  superset (the reverse).

Each reply is also checked against invariants that need no reference: the
ID and the question are echoed byte for byte (0x20 case included), QR is
set, and a UDP reply fits the requester's limit (512 without EDNS, the
advertised payload but at least 512 with it).

When a reply has TC=1, only the headers are compared (so TC itself, rcode,
AA ...): what a server puts into a truncated reply is its own choice
(RFC 2181 section 9 lets it send what fits, RFC 7766 lets it send nothing),
and a client throws that content away and asks again over TCP. With
tcp_on_tc the harness does the same and compares the two TCP replies in full.
The report counts the queries truncated by both servers.

Replies that are byte for byte identical (and not truncated) are not parsed:
only the invariants are checked.

Every accepted difference is a Rule in ACCEPTED below: a name, a
justification and a predicate over one difference item. An item no rule
explains is a mismatch. An RRSIG RRset that one reply has and the other
lacks is explained by the rule that explains the RRset it covers, when
that RRset is missing from the same reply too (a signature goes with its
RRset, RFC 4035 3.1.1); a rule never covers an RRSIG on its own account
unless it says so.
"""

import collections
import dataclasses
import socket
import struct
import time
from typing import Callable, List, Optional

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dnswire

FLAGS = (("QR", dns.flags.QR), ("AA", dns.flags.AA), ("TC", dns.flags.TC),
	("RD", dns.flags.RD), ("RA", dns.flags.RA), ("AD", dns.flags.AD),
	("CD", dns.flags.CD))
SECTIONS = ("answer", "authority", "additional")
POLICIES = ("exact", "ignore", "subset", "superset")


@dataclasses.dataclass
class Query:
	"""One query, fully specified so both servers get the same bytes."""

	qname: dns.name.Name
	qtype: int
	qid: int
	edns: Optional[int] = None  # advertised payload, None: no OPT record
	do: bool = False
	rd: bool = False
	cd: bool = False

	def wire(self):
		flags = (dns.flags.RD if self.rd else 0) | (dns.flags.CD if self.cd else 0)
		msg = dns.message.Message(id=self.qid)
		msg.flags = flags
		msg.question.append(dns.rrset.RRset(self.qname, dns.rdataclass.IN, self.qtype))
		if self.edns is not None:
			msg.use_edns(0, dns.flags.DO if self.do else 0, self.edns)
		return msg.to_wire()

	def question_len(self):
		return len(self.qname.to_wire()) + 4

	def udp_limit(self):
		return 512 if self.edns is None else max(512, self.edns)

	def describe(self):
		edns = "no-edns" if self.edns is None else "edns=%d%s" % (
			self.edns, "+do" if self.do else "")
		return "%s %s id=%d %s%s%s" % (self.qname.to_text(),
			dns.rdatatype.to_text(self.qtype), self.qid, edns,
			" +rd" if self.rd else "", " +cd" if self.cd else "")


@dataclasses.dataclass
class Item:
	"""One difference between the replies of A and B (or one broken invariant)."""

	what: str            # header, edns, section, invariant, transport
	field: str           # rcode, AA, answer, ...
	kind: str            # differs, only_a, only_b, ttl, a, b
	key: Optional[tuple] = None  # (owner, rdtype, rdclass) for section items
	a: str = ""
	b: str = ""

	def kind_of(self):
		"""A short class of the difference, for counting in the report."""
		if self.what == "section":
			return "%s %s %s" % (self.field, type_text(self.key[1]), self.kind)
		if self.what == "invariant":
			return "invariant %s" % self.field
		return "%s %s" % (self.what, self.field)

	def describe(self):
		if self.what == "section":
			owner, rdtype, _ = self.key
			head = "%s %s %s: " % (self.field, owner, type_text(rdtype))
			if self.kind == "only_a":
				return head + "only in A:\n    A: " + self.a.replace("\n", "\n    A: ")
			if self.kind == "only_b":
				return head + "only in B:\n    B: " + self.b.replace("\n", "\n    B: ")
			return head + "%s\n    A: %s\n    B: %s" % (self.kind,
				self.a.replace("\n", "\n    A: "), self.b.replace("\n", "\n    B: "))
		if self.what == "invariant":
			return "invariant %s broken by %s: %s" % (self.field, self.kind.upper(),
				self.a or self.b)
		return "%s %s: A=%s B=%s" % (self.what, self.field, self.a, self.b)


RRSIG_KEY = dns.rdatatype.RRSIG << 16


def rrsig_key_type(covered):
	"""The section key type of the RRSIG RRset that covers COVERED."""
	return RRSIG_KEY | covered


def covered_type(rdtype):
	"""The type an RRSIG section key type covers, None for other types."""
	return rdtype & 0xFFFF if rdtype >> 16 == dns.rdatatype.RRSIG else None


def type_text(rdtype):
	"""A section key type as text: A, NSEC, RRSIG(NSEC) ..."""
	covered = covered_type(rdtype)
	if covered is not None:
		return "RRSIG(%s)" % dns.rdatatype.to_text(covered)
	return dns.rdatatype.to_text(rdtype)


class Reply:
	"""A parsed reply reduced to what is compared."""

	def __init__(self, wire):
		self.wire = wire
		self.msg = None
		self.error = None
		if wire is None:
			self.error = "no reply (timeout)"
			return
		try:
			self.msg = dnswire.Message(wire)
		except (dnswire.FormatError, IndexError, struct.error) as err:
			self.error = "unparsable reply: %s" % err
			return
		self.sections = {name: self._rrsets(rrs)
			for name, rrs in zip(SECTIONS, self.msg.sections)}

	@staticmethod
	def _rrsets(rrs):
		"""{(owner, type, class): [(rdata, ttl, RR)] sorted}, owners lowercased."""
		out = collections.defaultdict(list)
		for rr in rrs:
			rdtype = rr.rdtype
			if rdtype == dns.rdatatype.RRSIG and len(rr.rdata) >= 2:
				# RRSIGs form one RRset per covered type (RFC 4034 3)
				rdtype = rrsig_key_type(struct.unpack("!H", rr.rdata[:2])[0])
			out[(rr.owner(), rdtype, rr.rdclass)].append((rr.rdata, rr.ttl, rr))
		return {key: sorted(rrs, key=lambda e: e[:2]) for key, rrs in out.items()}

	@property
	def ok(self):
		return self.msg is not None

	def has_flag(self, flag):
		return bool(self.msg.flags & flag)

	def rcode(self):
		return self.msg.rcode()

	def count(self, section):
		return sum(len(rrs) for rrs in self.sections[section].values())

	def names_in(self, section, rdtypes):
		"""Lowercased names in the RDATA of the RRsets of RDTYPES in SECTION."""
		out = set()
		for key, rrs in self.sections[section].items():
			if key[1] in rdtypes:
				out |= {_rdata_name(key[1], rr[0]) for rr in rrs}
		return out

	def text(self):
		if not self.ok:
			return self.error
		try:
			return dns.message.from_wire(self.wire).to_text()
		except dns.exception.DNSException as err:
			return "(dnspython cannot print it: %s)" % err


def _rdata_name(rdtype, rdata):
	"""The target name of an NS, MX or SRV RDATA (canonical form) as text."""
	skip = {dns.rdatatype.MX: 2, dns.rdatatype.SRV: 6}.get(rdtype, 0)
	labels, _ = dnswire.read_name(rdata, skip)
	return dnswire.name_text(labels)


class ZoneData:
	"""What the rules need to know about the zone both servers serve."""

	def __init__(self, zone):
		self.origin = zone.origin
		self.nodes = {name.canonicalize(): node for name, node in zone.nodes.items()}
		self.cuts = {name for name, node in self.nodes.items()
			if name != self.origin and node.get_rdataset(dns.rdataclass.IN,
				dns.rdatatype.NS) is not None}

	def cut_above(self, name):
		"""The delegation point at or above NAME (a Name), or None."""
		name = name.canonicalize()
		while len(name) > len(self.origin):
			if name in self.cuts:
				return name
			name = name.parent()
		return None

	def addresses(self, name):
		"""The A and AAAA rdatasets the zone holds at NAME."""
		node = self.nodes.get(name.canonicalize())
		if node is None:
			return []
		return [rds for rds in node.rdatasets
			if rds.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)]

	def signatures(self, name, covered):
		"""The RRSIG rdataset covering COVERED at NAME, or None."""
		node = self.nodes.get(name.canonicalize())
		if node is None:
			return None
		return node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, covered)

	def types_at(self, name):
		"""The types the zone holds at NAME (empty: no node there)."""
		node = self.nodes.get(name.canonicalize())
		return {rds.rdtype for rds in node.rdatasets} if node is not None else set()

	def below_nsec3_owner(self, name):
		"""True when an ancestor of NAME holds NSEC3 records (a hashed owner)."""
		name = name.canonicalize()
		while len(name) > len(self.origin) + 1:
			name = name.parent()
			if dns.rdatatype.NSEC3 in self.types_at(name):
				return True
		return False


def min_rrset_size(rdataset):
	"""Bytes an RRset takes at least in a message (owner compressed to a pointer)."""
	return sum(12 + len(rd.to_wire()) for rd in rdataset)


@dataclasses.dataclass
class Context:
	"""What a rule may look at: the query, both replies, who A and B are."""

	query: Query
	a_name: str
	b_name: str
	origin: dns.name.Name
	ra: Reply
	rb: Reply
	zone: Optional[ZoneData] = None
	transport: str = "udp"

	def extra_from(self, item):
		"""The server whose reply holds the RRset the other one lacks."""
		return {"only_a": self.a_name, "only_b": self.b_name}.get(item.kind)

	def lacking(self, item):
		"""The server whose reply lacks the RRset of ITEM."""
		return {"only_a": self.b_name, "only_b": self.a_name}.get(item.kind)

	def reply_of(self, server):
		return self.ra if server == self.a_name else self.rb

	def other(self, server):
		return self.rb if server == self.a_name else self.ra

	def limit(self):
		return self.query.udp_limit() if self.transport == "udp" else 65535


@dataclasses.dataclass
class Rule:
	"""An accepted difference: why it is acceptable and exactly when it applies."""

	name: str
	why: str
	applies: Callable[[Context, Item], bool]


# -- the accepted differences ----------------------------------------------

def _apex_ns(ctx, key):
	return key[1] == dns.rdatatype.NS and key[0] == ctx.origin.to_text().lower()


def _is_referral(reply):
	"""No answer, not authoritative, an NS RRset below the apex in authority."""
	return reply.count("answer") == 0 and not reply.has_flag(dns.flags.AA) and \
		any(key[1] == dns.rdatatype.NS for key in reply.sections["authority"])


def _ns_targets(reply, section="authority"):
	"""Lowercased names of the name servers in the NS RRsets of SECTION."""
	return reply.names_in(section, (dns.rdatatype.NS,))


def _answer_targets(reply):
	"""Lowercased names that additional section processing starts from."""
	return reply.names_in("answer", (dns.rdatatype.MX, dns.rdatatype.SRV,
		dns.rdatatype.NS))


def _is_address_item(item, field="additional"):
	return item.what == "section" and item.field == field and \
		item.key[1] in (dns.rdatatype.A, dns.rdatatype.AAAA)


def _nsd_extra(ctx, item, field):
	return ctx.extra_from(item) == "nsd" and item.what == "section" and \
		item.field == field


def _nsd_authority_ns(ctx, item):
	"""NSD's extra apex NS RRset in the authority of an answer."""
	if not _nsd_extra(ctx, item, "authority"):
		return False
	reply = ctx.reply_of("nsd")
	return _apex_ns(ctx, item.key) and reply.count("answer") > 0


def _nsd_authority_glue(ctx, item):
	"""Addresses NSD adds for the name servers of its extra apex NS RRset."""
	if not _nsd_extra(ctx, item, "additional") or not _is_address_item(item):
		return False
	reply = ctx.reply_of("nsd")
	other = ctx.other("nsd")
	return item.key[0] in _ns_targets(reply) and reply.count("answer") > 0 and \
		item.key[0] not in _answer_targets(reply) and \
		not any(_apex_ns(ctx, key) for key in other.sections["authority"])


def _payload_differs(ctx, item):
	return item.what == "edns" and item.field == "payload"


def _any_subset(ctx, item):
	"""RFC 8482: each server picked a non-empty subset of the RRsets at the name."""
	if ctx.query.qtype != dns.rdatatype.ANY or item.what != "section":
		return False
	if ctx.ra.rcode() != dns.rcode.NOERROR or ctx.rb.rcode() != dns.rcode.NOERROR:
		return False
	if item.field == "authority":
		return _nsd_authority_ns(ctx, item)
	return ctx.ra.count("answer") > 0 and ctx.rb.count("answer") > 0


def _nsd_no_tc_for_glue(ctx, item):
	"""Knot sets TC=1 on a referral whose in-domain glue does not all fit; NSD does not."""
	if item.what != "header" or item.field != "TC" or "nsd" not in (ctx.a_name, ctx.b_name):
		return False
	nsd, other = ctx.reply_of("nsd"), ctx.other("nsd")
	return not nsd.has_flag(dns.flags.TC) and other.has_flag(dns.flags.TC) and \
		_is_referral(nsd) and _lacks_glue(ctx, nsd)


def _referral_tc_do(ctx, item):
	"""With DO a referral's proof and signed addresses compete for space:
	one server sets TC, the other sends a referral without all the addresses."""
	if not ctx.query.do or item.what != "header" or item.field != "TC":
		return False
	whole = ctx.rb if ctx.ra.has_flag(dns.flags.TC) else ctx.ra
	return _is_referral(whole) and _lacks_glue(ctx, whole)


def _lacks_glue(ctx, reply):
	"""True when REPLY omits address RRsets the zone holds for its NS targets."""
	if ctx.zone is None:
		return False
	have = {key[:2] for key in reply.sections["additional"]}
	for target in _ns_targets(reply):
		for rds in ctx.zone.addresses(dns.name.from_text(target)):
			if (target, rds.rdtype) not in have:
				return True
	return False


def _overflows(ctx, reply, item):
	"""True when the RRset of ITEM would not have fitted into REPLY."""
	if ctx.zone is None:
		return False
	name = dns.name.from_text(item.key[0])
	size = sum(min_rrset_size(rds) for rds in ctx.zone.addresses(name)
		if rds.rdtype == item.key[1])
	sigs = ctx.zone.signatures(name, item.key[1]) if ctx.query.do else None
	if sigs is not None:
		size += min_rrset_size(sigs)
	return len(reply.wire) + size > ctx.limit()


def _nsd_glue_order(ctx, item):
	"""A full referral: NSD fills all A glue first, Knot A and AAAA name by name."""
	if "nsd" not in (ctx.a_name, ctx.b_name) or not _is_address_item(item):
		return False
	lacking = ctx.reply_of(ctx.lacking(item))
	return _is_referral(ctx.ra) and _is_referral(ctx.rb) and \
		item.key[0] in _ns_targets(lacking) and _overflows(ctx, lacking, item)


def _nsd_additional_stops(ctx, item):
	"""NSD stops adding additional data at the first RRset that does not fit."""
	if ctx.lacking(item) != "nsd" or not _is_address_item(item) or ctx.zone is None:
		return False
	other = ctx.other("nsd")
	have = {key[:2] for key in other.sections["additional"]}
	for target in _answer_targets(other):
		for rds in ctx.zone.addresses(dns.name.from_text(target)):
			if (target, rds.rdtype) not in have:
				return True
	return False


def _nsd_no_glue_as_additional(ctx, item):
	"""Knot adds glue (data below a zone cut) for MX/SRV targets; NSD does not."""
	if ctx.lacking(item) != "nsd" or not _is_address_item(item) or ctx.zone is None:
		return False
	other = ctx.other("nsd")
	return other.count("answer") > 0 and item.key[0] in _answer_targets(other) and \
		ctx.zone.cut_above(dns.name.from_text(item.key[0])) is not None


def _additional_full(ctx, item):
	"""An address RRset (or its RRSIG) one reply carries and the other
	could not fit."""
	if "bulwark" not in (ctx.a_name, ctx.b_name) or item.what != "section" or \
			item.field != "additional" or ctx.zone is None:
		return False
	covered = covered_type(item.key[1])
	if (covered or item.key[1]) not in (dns.rdatatype.A, dns.rdatatype.AAAA):
		return False
	lacking = ctx.reply_of(ctx.lacking(item))
	targets = _ns_targets(lacking) | _answer_targets(lacking)
	if item.key[0] not in targets or lacking.has_flag(dns.flags.TC):
		return False
	if covered is None:
		return _overflows(ctx, lacking, item)
	sigs = ctx.zone.signatures(dns.name.from_text(item.key[0]), covered)
	return sigs is not None and \
		len(lacking.wire) + min_rrset_size(sigs) > ctx.limit()


def _tc_glue_fits(ctx, item):
	"""The reference truncates a referral whose in-domain glue did not fit
	its reply; bulwark's smaller reply holds all of that glue."""
	if item.what != "header" or item.field != "TC" or \
			"bulwark" not in (ctx.a_name, ctx.b_name) or ctx.zone is None:
		return False
	bw, other = ctx.reply_of("bulwark"), ctx.other("bulwark")
	if bw.has_flag(dns.flags.TC) or not other.has_flag(dns.flags.TC) or \
			not _is_referral(bw):
		return False
	cuts = [dns.name.from_text(key[0]) for key in bw.sections["authority"]
		if key[1] == dns.rdatatype.NS]
	have = {key[:2] for key in bw.sections["additional"]}
	for target in _ns_targets(bw):
		name = dns.name.from_text(target)
		if not any(name.is_subdomain(cut) for cut in cuts):
			continue
		for rds in ctx.zone.addresses(name):
			if (target, rds.rdtype) not in have:
				return False
	return True


def _bulwark_copies_cd(ctx, item):
	"""bulwark copies CD as RFC 4035 3.1.6 says; NSD 4.6 and Knot DNS 3.2 clear it."""
	if item.what != "header" or item.field != "CD" or not ctx.query.cd:
		return False
	return ctx.reply_of("bulwark").has_flag(dns.flags.CD) and \
		not ctx.other("bulwark").has_flag(dns.flags.CD)


# -- DNSSEC (DO=1) ---------------------------------------------------------------

def _section_rrsig(item, field):
	return item.what == "section" and item.field == field and \
		covered_type(item.key[1]) is not None


def _rrsig_qtype(ctx, item):
	"""qtype RRSIG: each answers with a non-empty part of the RRSIGs at the name."""
	if ctx.query.qtype != dns.rdatatype.RRSIG:
		return False
	if item.what == "header" and item.field == "TC":
		return True
	if not _section_rrsig(item, "answer") or item.kind not in ("only_a", "only_b"):
		return False
	return ctx.ra.rcode() == ctx.rb.rcode() == dns.rcode.NOERROR and \
		ctx.ra.count("answer") > 0 and ctx.rb.count("answer") > 0


def _additional_rrsig(ctx, item):
	"""An additional RRSIG RRset one reply left out while keeping the RRset."""
	if not ctx.query.do or not _section_rrsig(item, "additional") or \
			item.kind not in ("only_a", "only_b"):
		return False
	key = (item.key[0], covered_type(item.key[1]), item.key[2])
	return key in ctx.ra.sections["additional"] and key in ctx.rb.sections["additional"]


def _additional_full_do(ctx, item):
	"""With DO, an address RRset (with its RRSIGs) that did not fit one reply."""
	if not ctx.query.do or not _is_address_item(item):
		return False
	lacking = ctx.reply_of(ctx.lacking(item))
	targets = _ns_targets(lacking) | _answer_targets(lacking)
	return item.key[0] in targets and _overflows(ctx, lacking, item)


def _nsd_nsec3_owner_exists(ctx, item):
	"""Below a hashed NSEC3 owner name NSD proves from that name, Knot from the real
	closest encloser."""
	if "nsd" not in (ctx.a_name, ctx.b_name) or ctx.zone is None or \
			not ctx.zone.below_nsec3_owner(ctx.query.qname):
		return False
	if item.what == "header" and item.field == "TC":
		# NSD's short proof fits where the full one does not
		return not ctx.reply_of("nsd").has_flag(dns.flags.TC)
	if item.what != "section" or item.field != "authority":
		return False
	return (covered_type(item.key[1]) or item.key[1]) == dns.rdatatype.NSEC3


def _nsd_nsec3_at_wildcard_owner(ctx, item):
	"""NODATA at a wildcard's own name asked literally: NSD adds NSEC3s of the
	wildcard NODATA proof besides the matching one."""
	qname = ctx.query.qname
	if "nsd" not in (ctx.a_name, ctx.b_name) or ctx.zone is None or \
			qname.labels[:1] != (b"*",) or not ctx.zone.types_at(qname):
		return False
	if item.what == "header" and item.field == "TC":
		# NSD's longer proof needs TC where the minimal one fits
		return ctx.reply_of("nsd").has_flag(dns.flags.TC)
	if ctx.extra_from(item) != "nsd" or item.what != "section" or \
			item.field != "authority":
		return False
	return (covered_type(item.key[1]) or item.key[1]) == dns.rdatatype.NSEC3


def _dnssec_qtype_cname(ctx, item):
	"""qtype NSEC or NSEC3 at a CNAME: one server follows the CNAME, the other
	answers NODATA for the DNSSEC type."""
	if ctx.query.qtype not in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3):
		return False
	qname = ctx.query.qname.to_text().lower()
	cname = (qname, dns.rdatatype.CNAME, dns.rdataclass.IN)
	has = [not truncated(r) and cname in r.sections["answer"] for r in (ctx.ra, ctx.rb)]
	if item.what == "header" and item.field == "TC":
		# the CNAME answer and the NODATA proof differ in size
		return any(has)
	if item.what != "section" or item.field not in ("answer", "authority"):
		return False
	return has[0] != has[1]


def _nsd_stops_at_authority_ns(ctx, item):
	"""NSD stops adding when its optional apex NS (with RRSIG) does not fit."""
	if ctx.lacking(item) != "nsd" or not ctx.query.do or ctx.zone is None or \
			not _is_address_item(item):
		return False
	nsd = ctx.reply_of("nsd")
	if nsd.count("answer") == 0 or \
			any(_apex_ns(ctx, key) for key in nsd.sections["authority"]):
		return False
	apex = ctx.zone.nodes.get(ctx.origin.canonicalize())
	ns = apex.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS) if apex else None
	sigs = ctx.zone.signatures(ctx.origin, dns.rdatatype.NS)
	size = sum(min_rrset_size(rds) for rds in (ns, sigs) if rds is not None)
	return len(nsd.wire) + size > ctx.limit()


def _wildcard_expanded(ctx):
	"""True when the query's name does not exist and a wildcard answered it."""
	if ctx.zone is None or ctx.zone.types_at(ctx.query.qname):
		return False
	qname = ctx.query.qname.to_text().lower()
	return any(key[0] == qname for key in ctx.ra.sections["answer"]) and \
		any(key[0] == qname for key in ctx.rb.sections["answer"])


def _knot_wildcard_nsec_no_proof(ctx, item):
	"""qtype NSEC answered from a wildcard: Knot sends no proof that the name is absent."""
	if ctx.query.qtype != dns.rdatatype.NSEC or ctx.lacking(item) != "knot":
		return False
	if item.what != "section" or item.field != "authority":
		return False
	rdtype = covered_type(item.key[1]) or item.key[1]
	return rdtype == dns.rdatatype.NSEC and _wildcard_expanded(ctx)


ACCEPTED: List[Rule] = [
	Rule("nsd-authority-ns",
		"NSD (minimal-responses: no, its default) puts the zone's NS RRset in "
		"the authority section of every positive answer. RFC 1034 4.3.2 "
		"allows it, RFC 2181 does not require it; Knot DNS and bulwark send "
		"minimal responses without it.",
		_nsd_authority_ns),
	Rule("nsd-authority-glue",
		"The addresses of the name servers in NSD's extra authority NS RRset "
		"(additional section processing of that RRset, RFC 1034 4.3.2 step 6).",
		_nsd_authority_glue),
	Rule("nsd-no-tc-for-glue",
		"A referral whose in-domain glue does not all fit: Knot DNS sets TC=1 "
		"(RFC 9471: glue is not optional), NSD 4.6 sends what fits with TC=0.",
		_nsd_no_tc_for_glue),
	Rule("nsd-glue-order",
		"A referral larger than the limit: NSD adds the A glue of every name "
		"server before any AAAA, Knot DNS adds A and AAAA name server by name "
		"server; each drops what does not fit (RFC 2181 9: no TC for additional).",
		_nsd_glue_order),
	Rule("nsd-additional-stops",
		"When an additional RRset does not fit, NSD adds no further additional "
		"data; Knot DNS skips that RRset and goes on with the next.",
		_nsd_additional_stops),
	Rule("nsd-no-glue-as-additional",
		"For an MX/SRV target below a zone cut Knot DNS adds the glue address "
		"as additional data, NSD does not (glue is not authoritative data).",
		_nsd_no_glue_as_additional),
	Rule("edns-payload",
		"The UDP payload size a server advertises in its OPT record is its "
		"own configuration (RFC 6891 6.2.3), not part of the answer.",
		_payload_differs),
	Rule("additional-full",
		"Additional data that does not fit is left out (RFC 2181 9). bulwark "
		"compresses names in rdata against every earlier name, Knot DNS only "
		"against the question and owners, so at 512 octets bulwark's "
		"referrals are smaller and carry more glue; the record set that one "
		"side lacks would not have fitted into that side's reply.",
		_additional_full),
	Rule("tc-glue-fits",
		"RFC 9471: a referral whose in-domain glue does not fit is truncated. "
		"The same glue fits into bulwark's reply (names in rdata compressed "
		"against every earlier name) where it did not fit into the "
		"reference's, so bulwark need not set TC.",
		_tc_glue_fits),
	Rule("cd-copied",
		"RFC 4035 3.1.6: a name server MUST copy CD from the query into the "
		"response. bulwark does; NSD 4.6 and Knot DNS 3.2 answer with CD=0.",
		_bulwark_copies_cd),
	Rule("any-subset",
		"RFC 8482: a server answers ANY with any non-empty subset of the "
		"RRsets at the name (NSD and Knot DNS each send one, not the same).",
		_any_subset),
	Rule("rrsig-qtype-subset",
		"qtype RRSIG: no RFC says which signatures answer it (RFC 4035 treats "
		"RRSIGs as part of the RRsets they cover; RFC 8482's reasoning for ANY "
		"applies). NSD answers with every RRSIG RRset at the name (so it "
		"truncates more often), Knot DNS with one of them.",
		_rrsig_qtype),
	Rule("additional-rrsig-dropped",
		"RFC 4035 3.1.1: a server MAY keep an additional RRset and drop its "
		"RRSIGs when space runs out. NSD adds each additional RRset with its "
		"RRSIGs; Knot DNS adds all additional RRsets first, then their RRSIGs "
		"as long as they fit.",
		_additional_rrsig),
	Rule("additional-full-do",
		"With DO=1 an additional RRset takes its RRSIGs along; what does not "
		"fit is left out (RFC 2181 9, RFC 4035 3.1.1), and NSD (RRset and "
		"RRSIGs together, A before AAAA) and Knot DNS (all RRsets, then the "
		"RRSIGs) fill the space in different orders.",
		_additional_full_do),
	Rule("nsd-nsec3-owner-exists",
		"A name below a hashed NSEC3 owner name: RFC 5155 7.2.8 says NSEC3 "
		"owner names do not exist, so the proof is the closest encloser proof "
		"from the real closest encloser (Knot DNS). NSD 4.6 takes the hashed "
		"name as the closest encloser and sends one NSEC3 (which fits where "
		"Knot's three need TC): an NSD defect that bulwark must not copy "
		"(the rule covers NSD only).",
		_nsd_nsec3_owner_exists),
	Rule("nsd-nsec3-at-wildcard-owner",
		"NODATA for a wildcard's own name (*.x asked literally, NSEC3): the "
		"matching NSEC3 is the whole proof (RFC 5155 7.2.3, Knot DNS); NSD "
		"adds NSEC3 records as for a wildcard NODATA (7.2.5). Extra records, "
		"the proof still validates; bulwark should send Knot's minimal one.",
		_nsd_nsec3_at_wildcard_owner),
	Rule("dnssec-qtype-cname",
		"qtype NSEC or NSEC3 at a name that owns a CNAME (or below a CNAME "
		"wildcard): RFC 1034 follows the CNAME for every type but CNAME, "
		"yet these types describe the zone, not the name's data. Knot DNS "
		"follows the CNAME for NSEC3 and answers NODATA for NSEC, NSD the "
		"other way round. bulwark should follow Knot DNS.",
		_dnssec_qtype_cname),
	Rule("referral-tc-do",
		"A signed referral (DO=1) whose name server addresses do not all fit "
		"next to the DS or the NSEC/NSEC3 proof: Knot DNS sets TC only when "
		"in-domain glue is missing (RFC 9471) and otherwise sends what fits, "
		"adding addresses before their RRSIGs; NSD 4.6 sets TC in more of "
		"these cases (e.g. when no address fits together with its RRSIG). "
		"bulwark should follow Knot DNS.",
		_referral_tc_do),
	Rule("nsd-stops-at-authority-ns",
		"With DO=1 NSD's optional apex NS RRset and its RRSIG often do not "
		"fit a 512-byte reply; NSD then adds nothing more, not even the "
		"additional addresses of MX/SRV targets that Knot DNS still fits "
		"(RFC 2181 9: additional data is optional).",
		_nsd_stops_at_authority_ns),
	Rule("knot-wildcard-nsec-no-proof",
		"qtype NSEC at a name a wildcard expands to: NSD adds the NSEC proving "
		"that the name does not exist (RFC 4035 3.1.3.3), Knot DNS 3.2 sends "
		"the synthesized NSEC without it (the rule covers Knot DNS lacking it).",
		_knot_wildcard_nsec_no_proof),
]


# -- comparing two replies ---------------------------------------------------

def compare_header(ra, rb):
	items = []
	if ra.msg.opcode() != rb.msg.opcode():
		items.append(Item("header", "opcode", "differs", None,
			dns.opcode.to_text(ra.msg.opcode()), dns.opcode.to_text(rb.msg.opcode())))
	if ra.rcode() != rb.rcode():
		items.append(Item("header", "rcode", "differs", None,
			dns.rcode.to_text(ra.rcode()), dns.rcode.to_text(rb.rcode())))
	for name, flag in FLAGS:
		fa, fb = ra.has_flag(flag), rb.has_flag(flag)
		if fa != fb:
			items.append(Item("header", name, "differs", None, str(int(fa)), str(int(fb))))
	return items


def compare_edns(ra, rb):
	ea, eb = ra.msg.edns(), rb.msg.edns()
	if (ea is None) != (eb is None):
		return [Item("edns", "present", "differs", None, str(ea is not None),
			str(eb is not None))]
	if ea is None:
		return []
	items = []
	for i, field in enumerate(("version", "DO", "options", "payload")):
		if ea[i] != eb[i]:
			items.append(Item("edns", field, "differs", None, str(ea[i]), str(eb[i])))
	return items


def _rr_text(rrs):
	return "\n".join(rr[2].text() for rr in rrs)


def compare_section(name, sa, sb, policy="exact"):
	"""Items for one section: RRsets only in A, only in B, or different."""
	if policy == "ignore":
		return []
	items = []
	for key in sorted(set(sa) | set(sb), key=str):
		a, b = sa.get(key), sb.get(key)
		if a is None:
			if policy != "subset":
				items.append(Item("section", name, "only_b", key, "", _rr_text(b)))
		elif b is None:
			if policy != "superset":
				items.append(Item("section", name, "only_a", key, _rr_text(a), ""))
		elif [rr[:2] for rr in a] != [rr[:2] for rr in b]:
			same_data = [d for d, _, _ in a] == [d for d, _, _ in b]
			kind = "ttl" if same_data else "differs"
			if not (policy in ("subset", "superset") and not same_data and
					_contained(a, b, policy)):
				items.append(Item("section", name, kind, key, _rr_text(a), _rr_text(b)))
	return items


def _contained(a, b, policy):
	"""RR-level containment within one RRset for the subset policies."""
	sa = {(d, t) for d, t, _ in a}
	sb = {(d, t) for d, t, _ in b}
	return sa <= sb if policy == "subset" else sb <= sa


def check_invariants(wire, query, query_wire, side, transport):
	"""Items for what any correct server must do, regardless of the other."""
	items = []
	qend = 12 + query.question_len()
	if len(wire) < 12 or wire[:2] != query_wire[:2]:
		items.append(Item("invariant", "id-echo", side, None, "reply ID differs"))
	if wire[12:qend] != query_wire[12:qend]:
		items.append(Item("invariant", "question-echo", side, None,
			"question not echoed byte for byte (0x20 case included)"))
	if len(wire) > 2 and not wire[2] & 0x80:
		items.append(Item("invariant", "qr", side, None, "QR not set"))
	if transport == "udp" and len(wire) > query.udp_limit():
		items.append(Item("invariant", "udp-size", side, None,
			"%d bytes over UDP, the limit is %d" % (len(wire), query.udp_limit())))
	return items


def truncated(reply):
	return reply.ok and reply.has_flag(dns.flags.TC)


def compare_replies(query, query_wire, ra, rb, additional="exact", transport="udp"):
	"""All difference items between two replies (empty: they agree)."""
	if not ra.ok or not rb.ok:
		if ra.ok == rb.ok and ra.error == rb.error:
			return []
		return [Item("transport", transport, "differs", None,
			ra.error or "reply", rb.error or "reply")]
	items = []
	for reply, side in ((ra, "a"), (rb, "b")):
		items += check_invariants(reply.wire, query, query_wire, side, transport)
	items += compare_header(ra, rb)
	items += compare_edns(ra, rb)
	if truncated(ra) or truncated(rb):
		return items
	items += compare_section("answer", ra.sections["answer"], rb.sections["answer"])
	items += compare_section("authority", ra.sections["authority"],
		rb.sections["authority"])
	items += compare_section("additional", ra.sections["additional"],
		rb.sections["additional"], additional)
	return items


def explain(ctx, item, rules=None):
	"""The first accepted difference that covers ITEM, or None."""
	rules = ACCEPTED if rules is None else rules
	for rule in rules:
		if rule.applies(ctx, item):
			return rule
	covered = _covered_item(ctx, item)
	if covered is not None:
		return explain(ctx, covered, rules)
	return None


def _covered_item(ctx, item):
	"""For an RRSIG RRset only one reply has: the same item for the RRset it
	covers, when that RRset is also only in that reply; else None."""
	if item.what != "section" or item.kind not in ("only_a", "only_b"):
		return None
	covered = covered_type(item.key[1])
	if covered is None:
		return None
	key = (item.key[0], covered, item.key[2])
	holder = ctx.ra if item.kind == "only_a" else ctx.rb
	other = ctx.rb if item.kind == "only_a" else ctx.ra
	section = item.field
	if key not in holder.sections[section] or key in other.sections[section]:
		return None
	text = _rr_text(holder.sections[section][key])
	return Item("section", section, item.kind, key,
		text if item.kind == "only_a" else "", text if item.kind == "only_b" else "")


# -- transports ----------------------------------------------------------------

class UdpClient:
	"""Sends a window of queries to one server and collects the replies."""

	def __init__(self, port, host="127.0.0.1", timeout=1.0, retries=3):
		self.addr = (host, port)
		self.timeout = timeout
		self.retries = retries
		self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
		self.sock.connect(self.addr)

	@staticmethod
	def _key(wire, qlen):
		return (wire[:2], wire[12:12 + qlen].lower())

	def exchange(self, batch):
		"""[(query, wire)] -> [reply wire or None], in the same order."""
		pending = collections.defaultdict(collections.deque)
		for i, (query, wire) in enumerate(batch):
			pending[self._key(wire, query.question_len())].append(i)
		replies = [None] * len(batch)
		for attempt in range(self.retries):
			for i, (query, wire) in enumerate(batch):
				if replies[i] is None:
					self.sock.send(wire)
			self._collect(batch, pending, replies, self.timeout * (attempt + 1))
			if all(r is not None for r in replies):
				break
		return replies

	def _collect(self, batch, pending, replies, timeout):
		deadline = time.monotonic() + timeout
		qlens = {query.question_len() for query, _ in batch}
		while any(r is None for r in replies):
			left = deadline - time.monotonic()
			if left <= 0:
				return
			self.sock.settimeout(left)
			try:
				wire = self.sock.recv(65535)
			except socket.timeout:
				return
			except ConnectionRefusedError:
				time.sleep(0.01)
				continue
			for qlen in qlens:
				slot = pending.get(self._key(wire, qlen))
				if slot:
					replies[slot.popleft()] = wire
					break

	def close(self):
		self.sock.close()


class TcpClient:
	"""One persistent TCP connection to a server (RFC 7766), reopened when closed."""

	def __init__(self, port, host="127.0.0.1", timeout=5.0):
		self.addr = (host, port)
		self.timeout = timeout
		self.sock = None

	def _connect(self):
		self.sock = socket.create_connection(self.addr, timeout=self.timeout)
		# with nothing listening, a loopback connect can pick the server's
		# port as its own and connect to itself (TCP simultaneous open)
		if self.sock.getsockname() == self.sock.getpeername():
			self.close()
			raise ConnectionRefusedError("nothing listens on TCP port %d" % self.addr[1])

	def _recv_exact(self, n):
		buf = b""
		while len(buf) < n:
			chunk = self.sock.recv(n - len(buf))
			if not chunk:
				raise ConnectionError("connection closed")
			buf += chunk
		return buf

	def exchange(self, wire):
		for attempt in range(2):
			try:
				if self.sock is None:
					self._connect()
				self.sock.sendall(struct.pack("!H", len(wire)) + wire)
				size = struct.unpack("!H", self._recv_exact(2))[0]
				return self._recv_exact(size)
			except OSError:
				self.close()
				if attempt == 1:
					return None
		return None

	def close(self):
		if self.sock is not None:
			self.sock.close()
			self.sock = None


# -- one query, both servers -------------------------------------------------

@dataclasses.dataclass
class Outcome:
	"""The verdict for one query, small enough to send between processes."""

	query: str
	status: str                    # match, explained, mismatch
	reasons: List[str]             # accepted-difference names that applied
	unexplained: List[str]         # item descriptions
	truncated_both: bool = False
	detail: str = ""
	kinds: List[str] = dataclasses.field(default_factory=list)  # item.kind_of()


class Prober:
	"""Queries two servers and judges their replies."""

	def __init__(self, a_name, a_port, b_name, b_port, origin, additional="exact",
			tcp_on_tc=True, zone=None, detail=True, rules=None):
		self.names = (a_name, b_name)
		self.udp = (UdpClient(a_port), UdpClient(b_port))
		self.tcp = (TcpClient(a_port), TcpClient(b_port))
		self.origin = dns.name.from_text(origin)
		self.additional = additional
		self.tcp_on_tc = tcp_on_tc
		self.zone = zone
		self.detail = detail
		self.rules = rules

	def close(self):
		for client in self.udp + self.tcp:
			client.close()

	def run(self, queries, window=64):
		outcomes = []
		for start in range(0, len(queries), window):
			batch = [(q, q.wire()) for q in queries[start:start + window]]
			wa = self.udp[0].exchange(batch)
			wb = self.udp[1].exchange(batch)
			for (query, wire), a, b in zip(batch, wa, wb):
				outcomes.append(self.judge(query, wire, a, b))
		return outcomes

	def judge(self, query, wire, wa, wb):
		if wa is not None and wa == wb and not wa[2] & 0x02:
			# byte-identical and not truncated: only the invariants can fail
			items = check_invariants(wa, query, wire, "a", "udp")
			if not items:
				return Outcome(query.describe(), "match", [], [])
		ra, rb = Reply(wa), Reply(wb)
		items = compare_replies(query, wire, ra, rb, self.additional, "udp")
		either_tc = truncated(ra) or truncated(rb)
		details = [("udp", ra, rb, items)]
		if either_tc and self.tcp_on_tc:
			ta = Reply(self.tcp[0].exchange(wire))
			tb = Reply(self.tcp[1].exchange(wire))
			tcp_items = compare_replies(query, wire, ta, tb, self.additional, "tcp")
			details.append(("tcp", ta, tb, tcp_items))
		return self._verdict(query, details, truncated(ra) and truncated(rb))

	def _verdict(self, query, details, both_tc):
		reasons, unexplained, kinds = [], [], []
		for transport, ra, rb, items in details:
			ctx = Context(query, self.names[0], self.names[1], self.origin, ra, rb,
				self.zone, transport)
			for item in items:
				rule = explain(ctx, item, self.rules)
				if rule is None:
					unexplained.append("[%s] %s" % (transport, item.describe()))
					kinds.append("[%s] %s" % (transport, item.kind_of()))
				else:
					reasons.append(rule.name)
		status = "mismatch" if unexplained else ("explained" if reasons else "match")
		detail = ""
		if status == "mismatch" and self.detail:
			detail = "\n".join("--- %s A (%s) ---\n%s\n--- %s B (%s) ---\n%s" % (
				transport, self.names[0], ra.text(), transport, self.names[1],
				rb.text()) for transport, ra, rb, _ in details)
		return Outcome(query.describe(), status, sorted(set(reasons)), unexplained,
			both_tc, detail, sorted(set(kinds)))


# -- the report -------------------------------------------------------------------

class Report:
	"""Totals over all outcomes; prints the first mismatches in full."""

	def __init__(self, a_name, b_name, show=20):
		self.a_name, self.b_name = a_name, b_name
		self.show = show
		self.total = 0
		self.status = collections.Counter()
		self.reasons = collections.Counter()
		self.kinds = collections.Counter()
		self.truncated_both = 0
		self.mismatches = []

	def add(self, outcome):
		self.total += 1
		self.status[outcome.status] += 1
		self.truncated_both += outcome.truncated_both
		for reason in outcome.reasons:
			self.reasons[reason] += 1
		if outcome.status == "mismatch":
			self.mismatches.append(outcome)
			self.kinds.update(outcome.kinds)

	def failed(self):
		return self.status["mismatch"] > 0

	def text(self, verbose=False):
		out = ["differential test: A=%s B=%s" % (self.a_name, self.b_name),
			"queries: %d  identical: %d  explained: %d  MISMATCHED: %d" % (
				self.total, self.status["match"], self.status["explained"],
				self.status["mismatch"]),
			"truncated in both over UDP (header compared, then TCP): %d" %
				self.truncated_both]
		if self.reasons:
			out.append("accepted differences (queries affected):")
			why = {rule.name: rule.why for rule in ACCEPTED}
			for name, count in self.reasons.most_common():
				out.append("  %6d  %s: %s" % (count, name, why.get(name, "")))
		if self.kinds:
			out.append("unexplained differences by kind (queries affected):")
			out += ["  %6d  %s" % (n, kind) for kind, n in self.kinds.most_common()]
		for outcome in self.mismatches[:self.show]:
			out.append("")
			out.append("MISMATCH %s" % outcome.query)
			out += ["  " + line for line in outcome.unexplained]
			if verbose:
				out.append(outcome.detail)
		if len(self.mismatches) > self.show:
			out.append("\n... and %d more mismatches" % (len(self.mismatches) - self.show))
		return "\n".join(out)


def random_case(name, rng):
	"""NAME with the case of each ASCII letter flipped at random (0x20 bits)."""
	labels = []
	for label in name.labels:
		labels.append(bytes(c ^ 0x20 if (65 <= (c & ~0x20) <= 90 and rng.random() < 0.5)
			else c for c in label))
	return dns.name.Name(labels)


