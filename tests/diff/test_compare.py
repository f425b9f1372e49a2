#!/usr/bin/python3
"""Checks of the comparison core itself, with replies built in memory."""

import os
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402
import dns.zone  # noqa: E402

import compare  # noqa: E402
import dnswire  # noqa: E402
import queries  # noqa: E402

ORIGIN = dns.name.from_text("t.example.")
ZONE_TEXT = """$ORIGIN t.example.
$TTL 300
@ SOA ns1 host 1 2 3 4 5
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
www A 192.0.2.3
mx MX 10 www
"""


def query(name="www.t.example.", rdtype="A", payload=1232, do=False):
	return compare.Query(dns.name.from_text(name), dns.rdatatype.from_text(rdtype),
		4242, edns=payload, do=do)


SIG = "20740101000000 20240101000000 4242 t.example. AAAA"


def sig(owner, ttl, covered, labels=3):
	"""An RRSIG line for reply(): the signature bytes do not matter here."""
	return "%s %d RRSIG %s 13 %d %d %s" % (owner, ttl, covered, labels, ttl, SIG)


def explained(q, wa, wb, a_name, b_name):
	"""[(item kind, rule name or None)] for the differences of two replies."""
	zone = compare.ZoneData(dns.zone.from_text(ZONE_TEXT, ORIGIN, relativize=False))
	ra, rb = compare.Reply(wa), compare.Reply(wb)
	ctx = compare.Context(q, a_name, b_name, ORIGIN, ra, rb, zone)
	out = []
	for item in compare.compare_replies(q, q.wire(), ra, rb):
		rule = compare.explain(ctx, item)
		out.append((item.kind_of(), rule.name if rule else None))
	return sorted(out)


def reply(q, answer=(), authority=(), additional=(), flags=dns.flags.AA, tc=False):
	msg = dns.message.from_wire(q.wire())
	resp = dns.message.make_response(msg)
	resp.flags |= flags | (dns.flags.TC if tc else 0)
	for section, texts in ((resp.answer, answer), (resp.authority, authority),
			(resp.additional, additional)):
		for text in texts:
			name, ttl, rdtype, rdata = text.split(None, 3)
			section.append(dns.rrset.from_text(name, int(ttl), "IN", rdtype, rdata))
	return resp.to_wire()


def items(q, wa, wb, additional="exact"):
	return compare.compare_replies(q, q.wire(), compare.Reply(wa), compare.Reply(wb),
		additional)


class CompareTest(unittest.TestCase):
	def test_same_rrset_in_another_order_and_case_agrees(self):
		q = query()
		wa = reply(q, ["www.t.example. 300 A 192.0.2.2", "www.t.example. 300 A 192.0.2.3"])
		wb = reply(q, ["WWW.t.example. 300 A 192.0.2.3", "www.T.example. 300 A 192.0.2.2"])
		self.assertEqual(items(q, wa, wb), [])

	def test_ttl_difference_is_reported(self):
		q = query()
		wa = reply(q, ["www.t.example. 300 A 192.0.2.2"])
		wb = reply(q, ["www.t.example. 301 A 192.0.2.2"])
		found = items(q, wa, wb)
		self.assertEqual([(i.field, i.kind) for i in found], [("answer", "ttl")])

	def test_missing_rr_and_flag_are_reported(self):
		q = query()
		wa = reply(q, ["www.t.example. 300 A 192.0.2.2", "www.t.example. 300 A 192.0.2.3"])
		wb = reply(q, ["www.t.example. 300 A 192.0.2.2"], flags=0)
		kinds = {(i.what, i.field, i.kind) for i in items(q, wa, wb)}
		self.assertEqual(kinds, {("section", "answer", "differs"),
			("header", "AA", "differs")})

	def test_rdata_names_compare_case_insensitively(self):
		q = query("mx.t.example.", "MX")
		wa = reply(q, ["mx.t.example. 300 MX 10 WWW.t.example."])
		wb = reply(q, ["mx.t.example. 300 MX 10 www.t.example."])
		self.assertEqual(items(q, wa, wb), [])

	def test_additional_policies(self):
		q = query("mx.t.example.", "MX")
		ans = ["mx.t.example. 300 MX 10 www.t.example."]
		wa = reply(q, ans)
		wb = reply(q, ans, additional=["www.t.example. 300 A 192.0.2.2"])
		self.assertEqual(len(items(q, wa, wb, "exact")), 1)
		self.assertEqual(items(q, wa, wb, "ignore"), [])
		self.assertEqual(items(q, wa, wb, "subset"), [])
		self.assertEqual(len(items(q, wa, wb, "superset")), 1)

	def test_truncated_replies_compare_headers_only(self):
		q = query()
		wa = reply(q, ["www.t.example. 300 A 192.0.2.2"], tc=True)
		wb = reply(q, [], tc=True)
		self.assertEqual(items(q, wa, wb), [])

	def test_question_case_must_be_echoed(self):
		q = query("WwW.t.example.")
		good = reply(q, ["WwW.t.example. 300 A 192.0.2.2"])
		bad = bytearray(good)
		bad[13:16] = b"www"
		found = items(q, bytes(bad), good)
		self.assertIn(("invariant", "question-echo", "a"),
			{(i.what, i.field, i.kind) for i in found})

	def test_udp_size_limit_is_checked(self):
		q = query(payload=None)
		big = reply(q, ['www.t.example. 300 TXT "%s%d"' % ("y" * 200, i) for i in range(3)])
		found = items(q, big, big)
		self.assertIn("udp-size", {i.field for i in found})

	def test_nsd_rule_only_covers_nsd(self):
		q = query()
		ans = ["www.t.example. 300 A 192.0.2.2"]
		wa = reply(q, ans, authority=["t.example. 300 NS ns1.t.example."])
		wb = reply(q, ans)
		zone = compare.ZoneData(dns.zone.from_text(ZONE_TEXT, ORIGIN, relativize=False))
		for a_name, expect in (("nsd", "nsd-authority-ns"), ("bulwark", None)):
			ra, rb = compare.Reply(wa), compare.Reply(wb)
			ctx = compare.Context(q, a_name, "knot", ORIGIN, ra, rb, zone)
			(item,) = compare.compare_replies(q, q.wire(), ra, rb)
			rule = compare.explain(ctx, item)
			self.assertEqual(rule.name if rule else None, expect)

	def test_rrsigs_are_rrsets_per_covered_type_with_ttls(self):
		q = query(do=True)
		ans = ["www.t.example. 300 A 192.0.2.2", sig("www.t.example.", 300, "A")]
		wa = reply(q, ans + [sig("www.t.example.", 300, "AAAA")])
		wb = reply(q, ans + [sig("www.t.example.", 300, "AAAA").replace(" 300 ", " 299 ", 1)])
		found = items(q, wa, wb)
		self.assertEqual([i.kind_of() for i in found], ["answer RRSIG(AAAA) ttl"])
		self.assertEqual(items(q, wa, wa), [])

	def test_rrsig_goes_with_the_rrset_a_rule_explains(self):
		q = query(do=True)
		ans = ["www.t.example. 300 A 192.0.2.2", sig("www.t.example.", 300, "A")]
		extra = ["t.example. 300 NS ns1.t.example.", sig("t.example.", 300, "NS", 2)]
		wa, wb = reply(q, ans, authority=extra), reply(q, ans)
		self.assertEqual(explained(q, wa, wb, "nsd", "knot"), [
			("authority NS only_a", "nsd-authority-ns"),
			("authority RRSIG(NS) only_a", "nsd-authority-ns")])
		# a lone RRSIG is not explained by the rule of an RRset that is not there
		wa = reply(q, ans, authority=extra[1:])
		self.assertEqual(explained(q, wa, wb, "nsd", "knot"),
			[("authority RRSIG(NS) only_a", None)])

	def test_additional_rrsig_may_be_dropped_but_not_the_rrset(self):
		q = query("mx.t.example.", "MX", do=True)
		ans = ["mx.t.example. 300 MX 10 www.t.example.", sig("mx.t.example.", 300, "MX")]
		add = ["www.t.example. 300 A 192.0.2.2"]
		wa = reply(q, ans, additional=add + [sig("www.t.example.", 300, "A")])
		wb = reply(q, ans, additional=add)
		self.assertEqual(explained(q, wa, wb, "nsd", "knot"),
			[("additional RRSIG(A) only_a", "additional-rrsig-dropped")])
		wb = reply(q, ans)
		self.assertIn(("additional A only_a", None), explained(q, wa, wb, "nsd", "knot"))

	def test_do_options(self):
		zone = dns.zone.from_text(ZONE_TEXT, ORIGIN, relativize=False)
		plain = queries.from_zone(zone)
		self.assertEqual([x.wire() for x in plain],
			[x.wire() for x in queries.from_zone(zone, do="off")])
		every = queries.from_zone(zone, do="all")
		self.assertTrue(all(x.do and x.edns is not None for x in every))
		mix = queries.from_zone(zone, do="mix")
		share = sum(x.do for x in mix) / len(mix)
		self.assertTrue(0.35 < share < 0.65, share)
		self.assertTrue(all(x.edns is not None for x in mix if x.do))
		signed = queries.from_zone(zone, dnssec=True)
		asked = {(x.qname, x.qtype) for x in signed}
		self.assertIn((ORIGIN, dns.rdatatype.DNSKEY), asked)
		self.assertIn((dns.name.from_text("www.t.example."), dns.rdatatype.DS), asked)

	def test_reader_rejects_compression_loop(self):
		wire = bytes(12) + b"\xc0\x0c"
		wire = wire[:5] + b"\x01" + wire[6:]
		with self.assertRaises(dnswire.FormatError):
			dnswire.Message(wire)


if __name__ == "__main__":
	unittest.main()
