#!/usr/bin/python3
"""Generate a large synthetic zone and a matching dnsperf query file.

    gen-zone.py [-n NAMES] [-o ZONEFILE] [-q QUERYFILE] [--queries COUNT]
                [--origin ORIGIN] [--seed SEED]

The zone has NAMES owner names (default 1,000,000) in a realistic mix:
hosts with A/AAAA/TXT, mail domains with MX, CNAMEs, delegations with
in-bailiwick glue or out-of-zone servers, names below empty non-terminals,
wildcards, and _service TXT records. The query file (dnsperf's `NAME TYPE`
per line) mixes positive answers, NODATA, NXDOMAIN and referrals. The same
seed gives the same files byte for byte.
"""

import argparse
import random
import sys
import time

WORDS = ("www", "mail", "api", "cdn", "shop", "blog", "app", "dev", "vpn", "ns",
	"db", "git", "img", "static", "auth", "id", "pay", "news", "docs", "m",
	"home", "cloud", "edge", "video", "files", "login", "portal", "web", "srv",
	"mx", "go", "my", "store", "data", "test", "stage", "eu", "us", "asia")

# kind, weight: the share of owner names of each kind
KINDS = (("host", 50), ("mail", 8), ("cname", 10), ("deleg", 12), ("ent", 6),
	("wild", 3), ("txt", 6), ("dual", 5))

# query class, weight
QUERY_MIX = (("positive", 65), ("nodata", 7), ("nxdomain", 16), ("referral", 12))


def b36(n):
	digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	out = ""
	while True:
		n, r = divmod(n, 36)
		out = digits[r] + out
		if n == 0:
			return out


def weighted(choices, rng, count):
	names = [c for c, _ in choices]
	weights = [w for _, w in choices]
	return rng.choices(names, weights, k=count)


class Generator:
	"""Writes the zone and remembers what the queries need to ask."""

	def __init__(self, origin, rng):
		self.origin = origin
		self.rng = rng
		self.hosts = []      # names with A records (CNAME and MX targets)
		self.answers = []    # (name, type) with data
		self.cuts = []       # delegated names
		self.plain = []      # existing names, for NODATA and NXDOMAIN below
		self.rrs = 0

	def ip4(self):
		r = self.rng.getrandbits(24)
		return "10.%d.%d.%d" % (r >> 16, (r >> 8) & 255, r & 255)

	def ip6(self):
		return "2001:db8:%x:%x::%x" % (self.rng.getrandbits(16),
			self.rng.getrandbits(16), self.rng.getrandbits(16))

	def label(self, i):
		# the separator keeps labels unique: "m-x1" never equals "mx-1"
		return "%s-%s" % (self.rng.choice(WORDS), b36(i))

	def entry(self, kind, i):
		"""Zone lines for one owner name of KIND (relative names)."""
		name = self.label(i)
		return getattr(self, "_" + kind)(name)

	def _host(self, name, aaaa=0.4):
		out = ["%s A %s" % (name, self.ip4())]
		self.answers.append((name, "A"))
		if self.rng.random() < aaaa:
			out.append("%s AAAA %s" % (name, self.ip6()))
			self.answers.append((name, "AAAA"))
		if self.rng.random() < 0.1:
			out.append('%s TXT "v=spf1 ip4:%s -all"' % (name, self.ip4()))
			self.answers.append((name, "TXT"))
		self.hosts.append(name)
		self.plain.append(name)
		return out

	def _dual(self, name):
		return self._host(name, aaaa=1.0)

	def _mail(self, name):
		out = self._host(name, aaaa=0.2)
		target = self.rng.choice(self.hosts)
		out.append("%s MX 10 %s" % (name, target))
		out.append("%s MX 20 mx.%s.example.net." % (name, name))
		self.answers.append((name, "MX"))
		return out

	def _cname(self, name):
		target = self.rng.choice(self.hosts) if self.hosts else "@"
		self.answers.append((name, "A"))
		self.plain.append(name)
		return ["%s CNAME %s" % (name, target)]

	def _deleg(self, name):
		self.cuts.append(name)
		if self.rng.random() < 0.3:
			return ["%s NS ns%d.hoster%d.example.net." % (name, k, self.rng.randrange(50))
				for k in (1, 2)]
		out = []
		for k in (1, 2):
			out.append("%s NS ns%d.%s" % (name, k, name))
			out.append("ns%d.%s A %s" % (k, name, self.ip4()))
			if self.rng.random() < 0.5:
				out.append("ns%d.%s AAAA %s" % (k, name, self.ip6()))
		return out

	def _ent(self, name):
		# a.b.NAME exists, so b.NAME and NAME are empty non-terminals
		leaf = "%s.%s.%s" % (self.rng.choice(WORDS), self.rng.choice(WORDS), name)
		self.answers.append((leaf, "A"))
		self.plain.append(name)
		return ["%s A %s" % (leaf, self.ip4())]

	def _wild(self, name):
		self.answers.append(("x%d.%s" % (self.rng.randrange(1000), name), "A"))
		self.plain.append(name)
		return ["*.%s A %s" % (name, self.ip4()), '*.%s TXT "wildcard"' % name,
			"%s A %s" % (name, self.ip4())]

	def _txt(self, name):
		owner = "_acme-challenge.%s" % name
		self.answers.append((owner, "TXT"))
		return ['%s TXT "%032x"' % (owner, self.rng.getrandbits(128))]

	def header(self):
		return ["$ORIGIN %s" % self.origin, "$TTL 3600",
			"@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 300",
			"@ NS ns1", "@ NS ns2", "ns1 A 192.0.2.53", "ns1 AAAA 2001:db8::53",
			"ns2 A 192.0.2.54", "@ A 192.0.2.1", "@ MX 10 ns1"]


def write_zone(path, count, gen, rng):
	kinds = weighted(KINDS, rng, count)
	with open(path, "w") as f:
		f.write("\n".join(gen.header()) + "\n")
		chunk = []
		for i, kind in enumerate(kinds):
			chunk += gen.entry(kind, i)
			if len(chunk) >= 50000:
				gen.rrs += len(chunk)
				f.write("\n".join(chunk) + "\n")
				chunk = []
		gen.rrs += len(chunk)
		f.write("\n".join(chunk) + "\n")


def query_line(cls, gen, rng):
	if cls == "referral" and not gen.cuts:
		cls = "nxdomain"
	if cls == "positive":
		name, rtype = rng.choice(gen.answers)
	elif cls == "nodata":
		name, rtype = rng.choice(gen.plain), rng.choice(("MX", "SRV", "CAA", "NAPTR"))
	elif cls == "nxdomain":
		name = "%s.%s" % (b36(rng.getrandbits(40)), rng.choice(gen.plain)) \
			if rng.random() < 0.5 else "nx%s" % b36(rng.getrandbits(40))
		rtype = rng.choice(("A", "AAAA", "TXT"))
	else:
		name = "%s.%s" % (rng.choice(WORDS), rng.choice(gen.cuts))
		rtype = rng.choice(("A", "AAAA", "DS", "NS"))
	suffix = gen.origin if gen.origin != "." else ""
	return "%s.%s %s" % (name, suffix, rtype) if suffix else "%s. %s" % (name, rtype)


def write_queries(path, count, gen, rng):
	classes = weighted(QUERY_MIX, rng, count)
	with open(path, "w") as f:
		for start in range(0, count, 100000):
			lines = [query_line(c, gen, rng) for c in classes[start:start + 100000]]
			f.write("\n".join(lines) + "\n")


def main(argv=None):
	p = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	p.add_argument("-n", "--names", type=int, default=1000000)
	p.add_argument("-o", "--output", default="synthetic.zone")
	p.add_argument("-q", "--query-file", default="synthetic-queries.txt")
	p.add_argument("--queries", type=int, help="query lines (default: as many as names)")
	p.add_argument("--origin", default="synthetic.example.")
	p.add_argument("--seed", type=int, default=20240101)
	args = p.parse_args(argv)
	origin = args.origin if args.origin.endswith(".") else args.origin + "."
	started = time.monotonic()
	rng = random.Random(args.seed)
	gen = Generator(origin, rng)
	write_zone(args.output, args.names, gen, rng)
	write_queries(args.query_file, args.queries or args.names, gen, rng)
	print("%s: %d names, %d records; %s: %d queries; %.1fs" % (args.output,
		args.names, gen.rrs + len(gen.header()), args.query_file,
		args.queries or args.names, time.monotonic() - started), file=sys.stderr)
	return 0


if __name__ == "__main__":
	sys.exit(main())
