"""Query sets for the differential tests, reproducible from a fixed seed.

From a zone file: every owner name and every empty non-terminal, asked for
the types present there, the common types and a few that are absent;
random labels one and two levels below each name (NXDOMAIN, wildcard
matches, referrals); then the same questions again with random 0x20 case,
with and without EDNS and with payload sizes from below the 512 minimum to
4096.

DS is one of the common types, so it is asked at the apex, at every
delegation and below one (a referral). The random names below every name
are NXDOMAIN under every kind of closest encloser (empty non-terminals
included), and the common types at an empty non-terminal are NODATA. When
the zone is signed or DO is used, the DNSSEC cases are added: the DNSSEC
types at the apex, at delegations and at wildcards; names below every
wildcard's parent asked for the types the wildcard has and lacks (wildcard
answers and wildcard NODATA); names one and two levels below every
delegation asked for DS, A and NSEC (below an opt-out insecure delegation
the proof is the opt-out span).

The DO bit: off by default (the question set is then the same as without
the DO options); do="all" sets it on every query (with EDNS: a query with
DO always carries an OPT record), do="mix" on half of them, chosen by a
second random stream so the rest of the set does not change.

From a dnsperf file (`NAME TYPE` per line): every line once, with the same
kind of variation.
"""

import random

import dns.name
import dns.rdatatype
import dns.zone

from compare import Query, random_case

T = dns.rdatatype
COMMON_TYPES = (T.A, T.AAAA, T.NS, T.MX, T.TXT, T.SOA, T.CNAME, T.DNAME, T.SRV,
	T.PTR, T.CAA, T.DS, T.ANY)
ABSENT_TYPES = (T.NAPTR, T.SSHFP, T.TLSA, T.HTTPS, T.LOC, T.HINFO, T.SPF, 65000)
LEAF_TYPES = (T.A, T.AAAA, T.MX, T.TXT, T.NS, T.ANY)
# (payload or None for no EDNS, weight); RFC 6891 6.2.5: below 512 means 512
EDNS_CHOICES = ((None, 3), (0, 1), (100, 1), (511, 1), (512, 3), (1232, 6),
	(1400, 1), (4096, 4))
OUTSIDE_NAMES = ("outside.test.", "www.outside.test.", "example.", "arpa.")
# asked at the apex, at delegations and at wildcards whatever the zone holds
DNSSEC_TYPES = (T.DNSKEY, T.NSEC3PARAM, T.RRSIG, T.NSEC, T.NSEC3, T.CDS, T.CDNSKEY)
# what a wildcard's expansion is asked for: present (answer) or not (NODATA)
WILDCARD_TYPES = (T.A, T.AAAA, T.MX, T.TXT, T.SRV, T.DS, T.CNAME, T.NSEC)
DO_CHOICES = ("off", "all", "mix")


def _pick_edns(rng):
	total = sum(w for _, w in EDNS_CHOICES)
	pick = rng.uniform(0, total)
	for payload, weight in EDNS_CHOICES:
		pick -= weight
		if pick <= 0:
			return payload
	return EDNS_CHOICES[-1][0]


def _random_label(rng):
	alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"
	size = rng.randint(3, 12)
	label = "".join(rng.choice(alphabet) for _ in range(size)).strip("-")
	return (label or "x").encode()


def load_zone(zonefile, origin):
	return dns.zone.from_file(zonefile, origin, relativize=False, check_origin=True)


def zone_names(zone):
	"""{name: set of types} for the zone's nodes and empty non-terminals."""
	origin = zone.origin
	names = {}
	for name, node in zone.nodes.items():
		names[name] = {rds.rdtype for rds in node.rdatasets}
		parent = name
		while parent != origin and len(parent) > len(origin):
			parent = parent.parent()
			names.setdefault(parent, set())
	return names


def _below(name, depth, rng):
	for _ in range(depth):
		name = dns.name.Name((_random_label(rng),) + name.labels)
	return name


def _questions(names, rng):
	"""(name, type) pairs: every name with its types, and names below each."""
	out = []
	for name in sorted(names):
		types = set(COMMON_TYPES) | names[name] | {rng.choice(ABSENT_TYPES)}
		out += [(name, t) for t in sorted(types)]
		for depth in (1, 1, 2):
			out.append((_below(name, depth, rng), rng.choice(LEAF_TYPES)))
	for text in OUTSIDE_NAMES:
		out.append((dns.name.from_text(text), T.A))
	return [(name, t) for name, t in out if len(name.to_wire()) <= 255]


def _dnssec_questions(names, origin, rng):
	"""The DNSSEC cases that the general questions may miss (see the top).

	DS at every name is already among the general questions (COMMON_TYPES)."""
	out = [(origin, t) for t in DNSSEC_TYPES]
	for name in sorted(names):
		types = names[name]
		if name.labels and name.labels[0] == b"*":
			parent = name.parent()
			out += [(_below(parent, 1, rng), t) for t in WILDCARD_TYPES]
			out += [(_below(parent, 2, rng), T.A), (_below(name, 1, rng), T.TXT)]
			out += [(name, t) for t in DNSSEC_TYPES]
		if T.NS in types and name != origin:
			out += [(name, t) for t in DNSSEC_TYPES]
			out += [(_below(name, 1, rng), t) for t in (T.DS, T.A, T.NSEC)]
			out.append((_below(name, 2, rng), T.DS))
	return [(name, t) for name, t in out if len(name.to_wire()) <= 255]


def make_query(name, qtype, rng, plain=False):
	"""A query for NAME/QTYPE: plain = EDNS 1232, case as given, RD off."""
	if plain:
		return Query(name, qtype, rng.randrange(65536), edns=1232)
	if rng.random() < 0.5:
		name = random_case(name, rng)
	return Query(name, qtype, rng.randrange(65536), edns=_pick_edns(rng),
		rd=rng.random() < 0.5, cd=rng.random() < 0.05)


def set_do(queries, do="off", seed=20240101):
	"""Set the DO bit on all queries (do="all") or half of them ("mix").

	A query without EDNS that gets DO gets EDNS with a payload from the
	usual choices; the choices come from a second random stream."""
	if do == "off":
		return queries
	rng = random.Random(seed ^ 0xD0)
	for query in queries:
		if do == "all" or rng.random() < 0.5:
			query.do = True
			while query.edns is None:
				query.edns = _pick_edns(rng)
	return queries


def from_zone(zone, count=None, seed=20240101, variants=2, do="off", dnssec=False):
	"""The query set for a dns.zone.Zone: each question plain, then VARIANTS varied.

	DNSSEC adds the DNSSEC cases (without it the set is the one the
	unsigned tests always had)."""
	rng = random.Random(seed)
	names = zone_names(zone)
	questions = _questions(names, rng)
	if dnssec:
		questions += _dnssec_questions(names, zone.origin, random.Random(seed ^ 0x5EC))
	queries = [make_query(n, t, rng, plain=True) for n, t in questions]
	for _ in range(variants):
		queries += [make_query(n, t, rng) for n, t in questions]
	return set_do(_resize(queries, questions, count, rng), do, seed)


def _resize(queries, questions, count, rng):
	if count is None or count == len(queries):
		return queries
	if count < len(queries):
		keep = sorted(rng.sample(range(len(queries)), count))
		return [queries[i] for i in keep]
	while len(queries) < count:
		name, qtype = rng.choice(questions)
		queries.append(make_query(name, qtype, rng))
	return queries


def read_dnsperf(path):
	"""[(name, type)] from a dnsperf query file; blank lines and ; comments skipped.

	A leading # is part of a name, as for dnsperf (the root corpus has one)."""
	out = []
	with open(path) as f:
		for line in f:
			fields = line.split()
			if not fields or fields[0].startswith(";"):
				continue
			qtype = dns.rdatatype.from_text(fields[1]) if len(fields) > 1 else T.A
			out.append((dns.name.from_text(fields[0]), qtype))
	return out


def from_dnsperf(path, count=None, seed=20240101, do="off"):
	"""One varied query per line of a dnsperf file."""
	rng = random.Random(seed)
	questions = read_dnsperf(path)
	queries = [make_query(n, t, rng) for n, t in questions]
	return set_do(_resize(queries, questions, count, rng), do, seed)
