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


def query(name="www.t.example.", rdtype="A", payload=1232):
	return compare.Query(dns.name.from_text(name), dns.rdatatype.from_text(rdtype),
		4242, edns=payload)


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

	def test_reader_rejects_compression_loop(self):
		wire = bytes(12) + b"\xc0\x0c"
		wire = wire[:5] + b"\x01" + wire[6:]
		with self.assertRaises(dnswire.FormatError):
			dnswire.Message(wire)


if __name__ == "__main__":
	unittest.main()
