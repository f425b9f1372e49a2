/*  Unit tests: the answer engine (RFC 1034 §4.3.2 semantics, wildcards,
 *  CNAME/DNAME, referrals, negative answers, EDNS, truncation, malformed
 *  queries).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulwark/answer.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "bulwark/zoneset.h"
#include "util.h"

static const char zone_text[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@ 86400 IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
	"@ NS ns1\n"
	"@ NS ns2.example.net.\n"
	"@ MX 10 mail\n"
	"ns1 A 192.0.2.1\n"
	"mail A 192.0.2.25\n"
	"mail AAAA 2001:db8::25\n"
	"www A 192.0.2.80\n"
	"www AAAA 2001:db8::80\n"
	"alias CNAME www\n"
	"alias2 CNAME alias\n"
	"outside CNAME www.example.org.\n"
	"dangling CNAME nothere\n"
	"loop1 CNAME loop2\n"
	"loop2 CNAME loop1\n"
	"*.wild A 192.0.2.99\n"
	"*.wild TXT \"wildcard\"\n"
	"exists.wild A 192.0.2.98\n"
	"*.cw CNAME www\n"
	"a.b.ent A 192.0.2.7\n"
	"dn DNAME target.example.com.\n"
	"x.target A 192.0.2.77\n"
	"dnout DNAME example.org.\n"
	"sub NS ns.sub\n"
	"sub NS ns.other\n"
	"sub DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
	"ns.sub A 192.0.2.53\n"
	"other NS ns.other\n"
	"ns.other A 192.0.2.54\n"
	"ns.other AAAA 2001:db8::54\n"
	"big TXT \"" "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "\"\n"
	"big TXT \"" "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "\"\n"
	"big TXT \"" "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "\"\n"
	"big TXT \"" "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "\"\n"
	"big TXT \"" "4123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "\"\n"
	"Mixed.Case A 192.0.2.5\n"
	"_sip._udp SRV 0 5 5060 mail\n";

struct fixture {
	struct bw_table *table;
	struct bw_zoneset *zs;
	struct bw_answer_conf conf;
	uint8_t q[512];
	uint8_t r[65536];
	struct tu_resp resp;
	struct bw_answer_info info;
};

static struct fixture *F;

static int setup(void **state)
{
	(void)state;
	F = calloc(1, sizeof(*F));
	F->table = tu_load(zone_text, "example.com.");
	F->zs = bw_zoneset_new(&F->table, 1);
	bw_answer_conf_default(&F->conf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bw_zoneset_free(F->zs);
	bw_table_close(F->table);
	free(F);
	return 0;
}

/* Sends one query; returns the response length (0: dropped). */
static size_t ask_opt(const char *name, uint16_t type, const struct tu_q *o)
{
	size_t qlen = tu_query(F->q, name, type, o);
	size_t len = bw_answer(F->zs, &F->conf, F->q, qlen, F->r, sizeof(F->r), 0,
	                       &F->info);
	if (len > 0)
		tu_parse(F->r, len, &F->resp);
	return len;
}

static size_t ask(const char *name, uint16_t type)
{
	return ask_opt(name, type, NULL);
}

static void expect(uint8_t rcode, bool aa, uint16_t an, uint16_t ns, uint16_t ar)
{
	assert_int_equal(F->resp.rcode, rcode);
	assert_int_equal(!!(F->resp.flags & BW_FLAG_AA), aa);
	assert_int_equal(F->resp.an, an);
	assert_int_equal(F->resp.ns, ns);
	assert_int_equal(F->resp.ar, ar);
	assert_true(F->resp.flags & BW_FLAG_QR);
}

static void expect_owner(size_t i, const char *name)
{
	uint8_t wire[255];
	tu_name(wire, name);
	assert_true(i < F->resp.nrr);
	assert_true(bw_name_equal(F->resp.rr[i].owner, wire));
}

static void test_exact(void **state)
{
	(void)state;
	assert_true(ask("www.example.com.", BW_TYPE_A) > 0);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	assert_int_equal(F->resp.id, 0x1234);
	assert_int_equal(F->resp.rr[0].type, BW_TYPE_A);
	assert_int_equal(F->resp.rr[0].ttl, 3600);
	assert_memory_equal(F->resp.rr[0].rdata, "\xc0\x00\x02\x50", 4);
	assert_int_equal(F->info.kind, BW_ANS_POSITIVE);
}

static void test_case_echoed(void **state)
{
	(void)state;
	ask("WwW.ExAmPlE.cOm.", BW_TYPE_AAAA);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	/* The question keeps the client's case (0x20); so does the owner,
	 * which is compressed to it. */
	assert_memory_equal(F->resp.qname, "\003WwW\007ExAmPlE\003cOm", 17);
	assert_memory_equal(F->resp.rr[0].owner, "\003WwW\007ExAmPlE\003cOm", 17);
	ask("mixed.case.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
}

/* Only A-Z are folded: the octets next to them in ASCII ('@', '[', '`',
 * '{') and their 8-bit twins (0xc1 is not 0xe1) stay as they are, also in
 * names longer than the 8 octets folded at a time. */
static void test_case_octets(void **state)
{
	struct bw_table *t = tu_load("$ORIGIN fold.test.\n$TTL 60\n"
	                             "@ SOA ns h 1 3600 900 604800 300\n@ NS ns\n"
	                             "ns A 192.0.2.1\n"
	                             "a@[`{\\193zz.longer-label A 192.0.2.2\n",
	                             "fold.test.");
	struct bw_zoneset *zs = bw_zoneset_new(&t, 1);
	struct tu_q o = { .id = 3 };
	static const struct { const char *name; uint8_t rcode; } cases[] = {
		{ "a@[`{\\193zz.longer-label.fold.test.", BW_RCODE_NOERROR },
		{ "A@[`{\\193ZZ.LONGER-LABEL.FOLD.TEST.", BW_RCODE_NOERROR },
		{ "a`[`{\\193zz.longer-label.fold.test.", BW_RCODE_NXDOMAIN },
		{ "a@{`{\\193zz.longer-label.fold.test.", BW_RCODE_NXDOMAIN },
		{ "a@[@{\\193zz.longer-label.fold.test.", BW_RCODE_NXDOMAIN },
		{ "a@[`[\\193zz.longer-label.fold.test.", BW_RCODE_NXDOMAIN },
		{ "a@[`{\\225zz.longer-label.fold.test.", BW_RCODE_NXDOMAIN },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t qlen = tu_query(F->q, cases[i].name, BW_TYPE_A, &o);
		size_t len = bw_answer(zs, &F->conf, F->q, qlen, F->r, sizeof(F->r),
		                       0, &F->info);
		assert_true(len > 0);
		tu_parse(F->r, len, &F->resp);
		if (F->resp.rcode != cases[i].rcode)
			fail_msg("%s: rcode %u", cases[i].name, F->resp.rcode);
	}
	bw_zoneset_free(zs);
	bw_table_close(t);
}

static void test_mx_additional(void **state)
{
	(void)state;
	ask("example.com.", BW_TYPE_MX);
	expect(BW_RCODE_NOERROR, true, 1, 0, 2);
	assert_true(tu_find(&F->resp, 2, BW_TYPE_A) >= 0);
	assert_true(tu_find(&F->resp, 2, BW_TYPE_AAAA) >= 0);
	expect_owner((size_t)tu_find(&F->resp, 2, BW_TYPE_A), "mail.example.com.");
	ask("example.com.", BW_TYPE_NS);
	expect(BW_RCODE_NOERROR, true, 2, 0, 1);
	ask("_sip._udp.example.com.", BW_TYPE_SRV);
	expect(BW_RCODE_NOERROR, true, 1, 0, 2);
}

static void test_cname_chain(void **state)
{
	(void)state;
	ask("alias2.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 3, 0, 0);
	assert_int_equal(F->resp.rr[0].type, BW_TYPE_CNAME);
	assert_int_equal(F->resp.rr[1].type, BW_TYPE_CNAME);
	assert_int_equal(F->resp.rr[2].type, BW_TYPE_A);
	expect_owner(0, "alias2.example.com.");
	expect_owner(1, "alias.example.com.");
	expect_owner(2, "www.example.com.");
	ask("alias.example.com.", BW_TYPE_CNAME);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	ask("alias.example.com.", BW_TYPE_MX);  /* CNAME, then NODATA. */
	expect(BW_RCODE_NOERROR, true, 1, 1, 0);
	assert_int_equal(F->resp.rr[1].type, BW_TYPE_SOA);
}

static void test_cname_ends(void **state)
{
	(void)state;
	ask("outside.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	ask("dangling.example.com.", BW_TYPE_A);  /* RFC 6604 */
	expect(BW_RCODE_NXDOMAIN, true, 1, 1, 0);
	ask("loop1.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 2, 0, 0);
}

static void test_wildcard(void **state)
{
	(void)state;
	ask("foo.bar.wild.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	expect_owner(0, "foo.bar.wild.example.com.");
	assert_memory_equal(F->resp.rr[0].rdata, "\xc0\x00\x02\x63", 4);
	ask("q.wild.example.com.", BW_TYPE_TXT);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	ask("q.wild.example.com.", BW_TYPE_MX);  /* Wildcard NODATA. */
	expect(BW_RCODE_NOERROR, true, 0, 1, 0);
	/* An existing name is not covered by the wildcard. */
	ask("exists.wild.example.com.", BW_TYPE_TXT);
	expect(BW_RCODE_NOERROR, true, 0, 1, 0);
	ask("below.exists.wild.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NXDOMAIN, true, 0, 1, 0);
	/* The wildcard itself, asked literally. */
	ask("*.wild.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	ask("zz.cw.example.com.", BW_TYPE_AAAA);  /* Wildcard CNAME. */
	expect(BW_RCODE_NOERROR, true, 2, 0, 0);
	expect_owner(0, "zz.cw.example.com.");
	expect_owner(1, "www.example.com.");
}

static void test_ent_and_nxdomain(void **state)
{
	(void)state;
	ask("b.ent.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 0, 1, 0);
	ask("ent.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 0, 1, 0);
	ask("nope.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NXDOMAIN, true, 0, 1, 0);
	assert_int_equal(F->resp.rr[0].type, BW_TYPE_SOA);
	/* TTL = min(SOA TTL, MINIMUM). */
	assert_int_equal(F->resp.rr[0].ttl, 300);
	expect_owner(0, "example.com.");
	assert_int_equal(F->info.kind, BW_ANS_NXDOMAIN);
	ask("www.example.com.", BW_TYPE_MX);
	expect(BW_RCODE_NOERROR, true, 0, 1, 0);
	assert_int_equal(F->info.kind, BW_ANS_NODATA);
}

static void test_dname(void **state)
{
	(void)state;
	ask("x.dn.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 3, 0, 0);
	assert_int_equal(F->resp.rr[0].type, BW_TYPE_DNAME);
	expect_owner(0, "dn.example.com.");
	assert_int_equal(F->resp.rr[1].type, BW_TYPE_CNAME);
	expect_owner(1, "x.dn.example.com.");
	uint8_t target[255];
	tu_name(target, "x.target.example.com.");
	assert_true(bw_name_equal(F->resp.rr[1].rdata, target));
	assert_int_equal(F->resp.rr[2].type, BW_TYPE_A);
	ask("a.b.dnout.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, true, 2, 0, 0);
	ask("dn.example.com.", BW_TYPE_DNAME);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	/* A synthesized name longer than 255 octets: YXDOMAIN. */
	/* 3 labels of 59 octets and one of 57: a 254-octet query name. */
	char longname[300] = "";
	for (int i = 0; i < 3; i++)
		strcat(longname, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghi.");
	strcat(longname, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefg.");
	strcat(longname, "dn.example.com.");
	ask(longname, BW_TYPE_A);
	assert_int_equal(F->resp.rcode, BW_RCODE_YXDOMAIN);
	assert_int_equal(F->resp.an, 1);
}

static void test_referral(void **state)
{
	(void)state;
	ask("www.sub.example.com.", BW_TYPE_A);
	expect(BW_RCODE_NOERROR, false, 0, 2, 3);
	assert_int_equal(F->info.kind, BW_ANS_REFERRAL);
	assert_int_equal(F->resp.rr[0].type, BW_TYPE_NS);
	expect_owner(0, "sub.example.com.");
	/* In-bailiwick glue and sibling glue. */
	assert_true(tu_find(&F->resp, 2, BW_TYPE_A) >= 0);
	assert_true(tu_find(&F->resp, 2, BW_TYPE_AAAA) >= 0);
	ask("sub.example.com.", BW_TYPE_NS);
	expect(BW_RCODE_NOERROR, false, 0, 2, 3);
	ask("ns.sub.example.com.", BW_TYPE_A);  /* Glue is not an answer. */
	expect(BW_RCODE_NOERROR, false, 0, 2, 3);
	/* DS is answered from the parent side, authoritatively. */
	ask("sub.example.com.", BW_TYPE_DS);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	ask("other.example.com.", BW_TYPE_DS);
	expect(BW_RCODE_NOERROR, true, 0, 1, 0);
}

static void test_any_and_refused(void **state)
{
	(void)state;
	ask("www.example.com.", BW_TYPE_ANY);  /* RFC 8482: one RRset. */
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	ask("www.example.org.", BW_TYPE_A);
	expect(BW_RCODE_REFUSED, false, 0, 0, 0);
	assert_int_equal(F->info.kind, BW_ANS_REFUSED);
	ask("com.", BW_TYPE_A);
	expect(BW_RCODE_REFUSED, false, 0, 0, 0);
}

static void test_edns(void **state)
{
	(void)state;
	struct tu_q o = { .id = 7, .edns = true, .bufsize = 4096, .do_bit = true };
	ask_opt("www.example.com.", BW_TYPE_A, &o);
	expect(BW_RCODE_NOERROR, true, 1, 0, 1);
	assert_true(F->resp.opt);
	assert_true(F->resp.opt_do);
	assert_int_equal(F->resp.opt_size, 1232);
	o.version = 1;
	ask_opt("www.example.com.", BW_TYPE_A, &o);
	assert_int_equal(F->resp.rcode, BW_RCODE_BADVERS);
	assert_int_equal(F->resp.an, 0);
	o.version = 0;
	o.nsid = true;
	F->conf.nsid = (const uint8_t *)"node1";
	F->conf.nsid_len = 5;
	ask_opt("www.example.com.", BW_TYPE_A, &o);
	int i = tu_find(&F->resp, 2, BW_TYPE_OPT);
	assert_true(i >= 0);
	assert_int_equal(F->resp.rr[i].rdlen, 9);
	assert_memory_equal(F->resp.rr[i].rdata + 4, "node1", 5);
	F->conf.nsid_len = 0;
}

static void test_truncation(void **state)
{
	(void)state;
	ask("big.example.com.", BW_TYPE_TXT);  /* ~560 octets > 512. */
	assert_true(F->resp.flags & BW_FLAG_TC);
	assert_int_equal(F->resp.an, 0);
	struct tu_q o = { .id = 8, .edns = true, .bufsize = 1232 };
	ask_opt("big.example.com.", BW_TYPE_TXT, &o);
	assert_false(F->resp.flags & BW_FLAG_TC);
	assert_int_equal(F->resp.an, 5);
	/* Below 512 counts as 512. */
	o.bufsize = 100;
	ask_opt("big.example.com.", BW_TYPE_TXT, &o);
	assert_true(F->resp.flags & BW_FLAG_TC);
	/* Over TCP the limit is 64 KiB. */
	size_t qlen = tu_query(F->q, "big.example.com.", BW_TYPE_TXT, NULL);
	size_t len = bw_answer(F->zs, &F->conf, F->q, qlen, F->r, sizeof(F->r),
	                       BW_ANSWER_TCP, NULL);
	tu_parse(F->r, len, &F->resp);
	assert_int_equal(F->resp.an, 5);
}

static size_t raw(const uint8_t *q, size_t qlen)
{
	size_t len = bw_answer(F->zs, &F->conf, q, qlen, F->r, sizeof(F->r), 0,
	                       &F->info);
	if (len > 0)
		tu_parse(F->r, len, &F->resp);
	return len;
}

static void test_malformed(void **state)
{
	(void)state;
	size_t qlen = tu_query(F->q, "www.example.com.", BW_TYPE_A, NULL);
	uint8_t q[600];

	assert_int_equal(raw(F->q, 11), 0);          /* Runt. */
	memcpy(q, F->q, qlen);
	q[2] |= 0x80;                                 /* QR=1: never answer. */
	assert_int_equal(raw(q, qlen), 0);
	memcpy(q, F->q, qlen);
	q[2] = 5 << 3;                                /* UPDATE: NOTIMP. */
	assert_true(raw(q, qlen) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_NOTIMP);
	memcpy(q, F->q, qlen);
	q[5] = 2;                                     /* QDCOUNT 2. */
	assert_true(raw(q, qlen) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_FORMERR);
	assert_int_equal(F->resp.qd, 0);
	memcpy(q, F->q, qlen);                        /* Trailing octets. */
	q[qlen] = 0;
	assert_true(raw(q, qlen + 1) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_FORMERR);
	assert_true(raw(F->q, qlen - 1) > 0);         /* Question cut short. */
	assert_int_equal(F->resp.rcode, BW_RCODE_FORMERR);
	memcpy(q, F->q, 12);                          /* Pointer in QNAME. */
	memcpy(q + 12, "\xc0\x0c\x00\x01\x00\x01", 6);
	assert_true(raw(q, 18) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_FORMERR);
	struct tu_q o = { .id = 9, .edns = true, .bufsize = 1232 };
	qlen = tu_query(q, "www.example.com.", BW_TYPE_A, &o);
	memcpy(q + qlen, q + qlen - 11, 11);          /* Two OPT records. */
	q[11] = 2;
	assert_true(raw(q, qlen + 11) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_FORMERR);
	qlen = tu_query(q, "www.example.com.", BW_TYPE_A, &o);
	bw_put16(q + qlen - 2, 8);                    /* OPT rdlen lies. */
	assert_true(raw(q, qlen) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_FORMERR);
	/* Too many labels' worth of octets: over 255. */
	memcpy(q, F->q, 12);
	size_t p = 12;
	for (int i = 0; i < 5; i++) {
		q[p] = 63;
		memset(q + p + 1, 'a', 63);
		p += 64;
	}
	q[p++] = 0;
	memcpy(q + p, "\x00\x01\x00\x01", 4);
	assert_true(raw(q, p + 4) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_FORMERR);
}

static void test_chaos(void **state)
{
	(void)state;
	struct tu_q o = { .id = 3, .qclass = BW_CLASS_CH };
	ask_opt("version.bind.", BW_TYPE_TXT, &o);
	expect(BW_RCODE_REFUSED, false, 0, 0, 0);
	F->conf.version_bind = "bulwark";
	ask_opt("VERSION.BIND.", BW_TYPE_TXT, &o);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	assert_int_equal(F->resp.rr[0].cls, BW_CLASS_CH);
	assert_memory_equal(F->resp.rr[0].rdata, "\007bulwark", 8);
	F->conf.version_bind = NULL;
	o.qclass = BW_CLASS_HS;
	ask_opt("www.example.com.", BW_TYPE_A, &o);
	expect(BW_RCODE_REFUSED, false, 0, 0, 0);
}

static void test_meta_types(void **state)
{
	(void)state;
	ask("example.com.", BW_TYPE_AXFR);
	assert_int_equal(F->resp.rcode, BW_RCODE_REFUSED);
	ask("example.com.", 254);
	assert_int_equal(F->resp.rcode, BW_RCODE_NOTIMP);
	ask("example.com.", BW_TYPE_OPT);
	assert_int_equal(F->resp.rcode, BW_RCODE_FORMERR);
	ask("www.example.com.", 65000);                /* Unknown type: NODATA. */
	expect(BW_RCODE_NOERROR, true, 0, 1, 0);
}

/* Longest-suffix zone selection and DS from the parent zone. */
static void test_zoneset(void **state)
{
	(void)state;
	struct bw_table *t[2];
	t[0] = F->table;
	t[1] = tu_load("$ORIGIN sub.example.com.\n$TTL 60\n"
	               "@ SOA ns hm 7 1 1 1 60\n@ NS ns\nns A 192.0.2.9\n"
	               "www A 192.0.2.10\n", NULL);
	struct bw_zoneset *zs = bw_zoneset_new(t, 2);
	uint8_t name[255];

	tu_name(name, "www.sub.example.com.");
	assert_ptr_equal(bw_zoneset_find(zs, name), t[1]);
	tu_name(name, "www.example.com.");
	assert_ptr_equal(bw_zoneset_find(zs, name), t[0]);
	tu_name(name, "example.org.");
	assert_null(bw_zoneset_find(zs, name));

	size_t qlen = tu_query(F->q, "www.sub.example.com.", BW_TYPE_A, NULL);
	size_t len = bw_answer(zs, &F->conf, F->q, qlen, F->r, sizeof(F->r), 0, NULL);
	tu_parse(F->r, len, &F->resp);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	qlen = tu_query(F->q, "sub.example.com.", BW_TYPE_DS, NULL);
	len = bw_answer(zs, &F->conf, F->q, qlen, F->r, sizeof(F->r), 0, NULL);
	tu_parse(F->r, len, &F->resp);
	expect(BW_RCODE_NOERROR, true, 1, 0, 0);
	assert_int_equal(F->resp.rr[0].type, BW_TYPE_DS);
	bw_zoneset_free(zs);
	bw_table_close(t[1]);
}

/* ---- Signed zone, DO=1 (RFC 4035 §3.1). ---- */

static const char signed_text[] =
	"$ORIGIN example.org.\n"
	"$TTL 600\n"
	"@ SOA ns1 hostmaster 7 3600 900 604800 300\n"
	"@ NS ns1\n"
	"ns1 A 192.0.2.1\n"
	"www A 192.0.2.80\n"
	"*.wild TXT \"w\"\n"
	"secure NS ns.secure\n"
	"secure DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
	"ns.secure A 192.0.2.53\n"
	"insecure NS ns.insecure\n"
	"ns.insecure A 192.0.2.54\n";

static int count_type(const struct tu_resp *r, int section, uint16_t type)
{
	int n = 0;
	for (size_t i = 0; i < r->nrr; i++)
		n += r->rr[i].section == section && r->rr[i].type == type;
	return n;
}

/* Runs a DO=1 (or DO=0) query against the signed zone. */
static void ask_signed(struct bw_zoneset *zs, const char *name, uint16_t type,
                       bool do_bit)
{
	struct tu_q o = { .id = 11, .edns = true, .bufsize = 4096, .do_bit = do_bit };
	size_t qlen = tu_query(F->q, name, type, &o);
	size_t len = bw_answer(zs, &F->conf, F->q, qlen, F->r, sizeof(F->r), 0,
	                       &F->info);
	assert_true(len > 0);
	tu_parse(F->r, len, &F->resp);
	assert_false(F->resp.flags & BW_FLAG_TC);
}

static void test_dnssec_answers(void **state)
{
	(void)state;
	struct bw_table *t = tu_load_signed(signed_text, "example.org.");
	struct bw_zoneset *zs = bw_zoneset_new(&t, 1);
	const struct tu_resp *r = &F->resp;

	/* Positive: the RRset and its RRSIG; without DO, no RRSIG. */
	ask_signed(zs, "www.example.org.", BW_TYPE_A, true);
	assert_int_equal(count_type(r, 0, BW_TYPE_A), 1);
	assert_int_equal(count_type(r, 0, BW_TYPE_RRSIG), 1);
	assert_true(r->opt_do);
	ask_signed(zs, "www.example.org.", BW_TYPE_A, false);
	assert_int_equal(r->an, 1);
	assert_int_equal(count_type(r, 0, BW_TYPE_RRSIG), 0);
	/* NXDOMAIN: SOA, the NSEC covering the name, the one covering the
	 * wildcard (here the same), each signed. */
	ask_signed(zs, "nope.example.org.", BW_TYPE_A, true);
	assert_int_equal(r->rcode, BW_RCODE_NXDOMAIN);
	assert_int_equal(count_type(r, 1, BW_TYPE_SOA), 1);
	assert_true(count_type(r, 1, BW_TYPE_NSEC) >= 1);
	assert_int_equal(count_type(r, 1, BW_TYPE_RRSIG),
	                 1 + count_type(r, 1, BW_TYPE_NSEC));
	ask_signed(zs, "nope.example.org.", BW_TYPE_A, false);
	assert_int_equal(r->ns, 1);
	/* NODATA: the name's own NSEC. */
	ask_signed(zs, "www.example.org.", BW_TYPE_MX, true);
	assert_int_equal(r->rcode, BW_RCODE_NOERROR);
	assert_int_equal(count_type(r, 1, BW_TYPE_NSEC), 1);
	assert_int_equal(count_type(r, 1, BW_TYPE_RRSIG), 2);
	/* Wildcard: expanded answer, its RRSIG, and the NSEC proving that the
	 * name itself does not exist. */
	ask_signed(zs, "x.wild.example.org.", BW_TYPE_TXT, true);
	assert_int_equal(count_type(r, 0, BW_TYPE_TXT), 1);
	assert_int_equal(count_type(r, 0, BW_TYPE_RRSIG), 1);
	assert_int_equal(count_type(r, 1, BW_TYPE_NSEC), 1);
	/* Referrals: DS and its RRSIG, or the NSEC proving there is no DS. */
	ask_signed(zs, "a.secure.example.org.", BW_TYPE_A, true);
	assert_false(r->flags & BW_FLAG_AA);
	assert_int_equal(count_type(r, 1, BW_TYPE_DS), 1);
	assert_int_equal(count_type(r, 1, BW_TYPE_RRSIG), 1);
	ask_signed(zs, "a.insecure.example.org.", BW_TYPE_A, true);
	assert_int_equal(count_type(r, 1, BW_TYPE_DS), 0);
	assert_int_equal(count_type(r, 1, BW_TYPE_NSEC), 1);
	assert_int_equal(count_type(r, 2, BW_TYPE_A), 1);
	/* DS from the parent side, signed; absent DS: NODATA with the NSEC. */
	ask_signed(zs, "secure.example.org.", BW_TYPE_DS, true);
	assert_true(r->flags & BW_FLAG_AA);
	assert_int_equal(count_type(r, 0, BW_TYPE_DS), 1);
	assert_int_equal(count_type(r, 0, BW_TYPE_RRSIG), 1);
	ask_signed(zs, "insecure.example.org.", BW_TYPE_DS, true);
	assert_int_equal(r->an, 0);
	assert_int_equal(count_type(r, 1, BW_TYPE_NSEC), 1);
	bw_zoneset_free(zs);
	bw_table_close(t);
}

/* Names with long common prefixes (equal NSEC sort keys), deep names and
 * odd octets: the covering search with keys must find the predecessor. */
static void test_nsec_cover(void **state)
{
	char *text = malloc(64 * 1024);
	size_t len = 0;
	(void)state;

	assert_non_null(text);
	len += (size_t)sprintf(text + len, "$ORIGIN cover.test.\n$TTL 600\n"
	                       "@ SOA ns1 h 1 3600 900 604800 300\n@ NS ns1\n"
	                       "ns1 A 192.0.2.1\na A 192.0.2.2\nb.a A 192.0.2.3\n"
	                       "\\000x A 192.0.2.4\n\\255 A 192.0.2.5\n"
	                       "x.y.zz A 192.0.2.6\n");
	for (int i = 0; i < 300; i += 3)
		len += (size_t)sprintf(text + len, "customer-%04d A 192.0.2.7\n"
		                       "deep.customer-%04d A 192.0.2.8\n", i, i);
	struct bw_table *t = tu_load_signed(text, "cover.test.");
	struct bw_zoneset *zs = bw_zoneset_new(&t, 1);
	static const char *const missing[] = {
		"customer-0100a.cover.test.", "customer-0098.cover.test.",
		"customer-0298z.cover.test.", "customer-.cover.test.",
		"customer.cover.test.", "customer-0150.sub.cover.test.",
		"x.deep.customer-0003.cover.test.", "customer-1.cover.test.",
		"zzzz.cover.test.", "0.cover.test.", "c.a.cover.test.",
		"\\000.cover.test.", "\\255\\255.cover.test.", "w.zz.cover.test.",
		"CUSTOMER-0050.cover.test.", "aa.cover.test.",
	};

	/* Keys never decrease in canonical order. */
	uint8_t a[BW_NAME_MAXLEN], b[BW_NAME_MAXLEN];
	tu_name(a, "customer-0003.cover.test.");
	tu_name(b, "deep.customer-0003.cover.test.");
	assert_false(bw_tbl_key_less(bw_tbl_denial_key(b, 2), bw_tbl_denial_key(a, 2)));
	tu_name(a, "a.cover.test.");
	tu_name(b, "a\\000.cover.test.");
	assert_true(bw_name_cmp(a, b) < 0);
	assert_false(bw_tbl_key_less(bw_tbl_denial_key(b, 2), bw_tbl_denial_key(a, 2)));

	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		uint8_t q[BW_NAME_MAXLEN];
		bool covered = false;

		ask_signed(zs, missing[i], BW_TYPE_A, true);
		if (F->resp.rcode != BW_RCODE_NXDOMAIN)
			fail_msg("%s: rcode %u", missing[i], F->resp.rcode);
		tu_name(q, missing[i]);
		bw_name_lower(q);
		/* One NSEC in authority has owner < name < next (or next is
		 * the apex: the last NSEC of the chain). */
		for (size_t k = 0; k < F->resp.nrr; k++) {
			const struct tu_rr *rr = &F->resp.rr[k];
			uint8_t owner[BW_NAME_MAXLEN], next[BW_NAME_MAXLEN];
			if (rr->section != 1 || rr->type != BW_TYPE_NSEC)
				continue;
			memcpy(owner, rr->owner, sizeof(owner));
			memcpy(next, rr->rdata, bw_name_check(rr->rdata, rr->rdlen));
			bw_name_lower(owner);
			bw_name_lower(next);
			covered |= bw_name_cmp(owner, q) < 0 &&
			           (bw_name_cmp(q, next) < 0 || bw_name_labels(next) == 2);
		}
		if (!covered)
			fail_msg("no NSEC covers %s", missing[i]);
	}
	bw_zoneset_free(zs);
	bw_table_close(t);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_case_echoed),
		cmocka_unit_test(test_case_octets),
		cmocka_unit_test(test_mx_additional),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_cname_ends),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_ent_and_nxdomain),
		cmocka_unit_test(test_dname),
		cmocka_unit_test(test_referral),
		cmocka_unit_test(test_any_and_refused),
		cmocka_unit_test(test_edns),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_chaos),
		cmocka_unit_test(test_meta_types),
		cmocka_unit_test(test_zoneset),
		cmocka_unit_test(test_dnssec_answers),
		cmocka_unit_test(test_nsec_cover),
	};
	return cmocka_run_group_tests_name("answer", tests, setup, teardown);
}
