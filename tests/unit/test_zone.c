/*  bulwark — unit tests of the in-memory zone and its checks.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "zone.h"

#define MAX_MSGS 64
#define FILE_NAME "t.zone"

/* One record of a test zone; its line is its index + 1. */
struct trr {
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const char *rdata;   /* See make_rdata(). */
	uint16_t cls;        /* 0: IN. */
};

struct msg {
	enum bw_diag_level lvl;
	unsigned line;
	char text[512];
};

struct tctx {
	struct bw_diag d;
	struct msg msgs[MAX_MSGS];
	size_t nmsgs;
	int add_ret;
	int ret;
	struct bw_zone *z;
};

static void emit(void *ctx, enum bw_diag_level lvl, const char *file,
                 unsigned line, const char *text)
{
	struct tctx *t = ctx;

	(void)file;
	if (t->nmsgs == MAX_MSGS)
		return;
	t->msgs[t->nmsgs].lvl = lvl;
	t->msgs[t->nmsgs].line = line;
	snprintf(t->msgs[t->nmsgs].text, sizeof(t->msgs[0].text), "%s", text);
	t->nmsgs++;
}

static void make_name(uint8_t *out, const char *txt)
{
	assert_true(bw_name_from_text(out, txt, strlen(txt), NULL) > 0);
}

/* Rdata from a short form: A/AAAA addresses, names for NS, CNAME, DNAME,
 * "PREF NAME" for MX, one string for TXT, "SERIAL MINIMUM" for SOA, a
 * signer name for RRSIG. */
static uint16_t make_rdata(uint16_t type, const char *txt, uint8_t *out)
{
	char a[256];
	unsigned u1, u2;

	switch (type) {
	case BW_TYPE_A:
		assert_int_equal(inet_pton(AF_INET, txt, out), 1);
		return 4;
	case BW_TYPE_AAAA:
		assert_int_equal(inet_pton(AF_INET6, txt, out), 1);
		return 16;
	case BW_TYPE_MX:
		assert_int_equal(sscanf(txt, "%u %255s", &u1, a), 2);
		bw_put16(out, (uint16_t)u1);
		make_name(out + 2, a);
		return (uint16_t)(2 + bw_name_len(out + 2));
	case BW_TYPE_TXT:
		out[0] = (uint8_t)strlen(txt);
		memcpy(out + 1, txt, out[0]);
		return (uint16_t)(1 + out[0]);
	case BW_TYPE_SOA: {
		assert_int_equal(sscanf(txt, "%u %u", &u1, &u2), 2);
		make_name(out, "ns.Example.com.");
		size_t n = bw_name_len(out);
		make_name(out + n, "hostmaster.example.com.");
		n += bw_name_len(out + n);
		uint32_t v[5] = { u1, 7200, 3600, 1209600, u2 };
		for (int i = 0; i < 5; i++)
			bw_put32(out + n + 4 * i, v[i]);
		return (uint16_t)(n + 20);
	}
	case BW_TYPE_RRSIG:
		memset(out, 0, 18);
		bw_put16(out, BW_TYPE_CNAME);
		out[2] = 13;
		make_name(out + 18, txt);
		memcpy(out + 18 + bw_name_len(out + 18), "SIG!", 4);
		return (uint16_t)(18 + bw_name_len(out + 18) + 4);
	default:
		make_name(out, txt);
		return (uint16_t)bw_name_len(out);
	}
}

static int add_trr(struct tctx *t, const struct trr *r, unsigned line)
{
	uint8_t owner[BW_NAME_MAXLEN], rdata[1024];
	struct bw_rr rr = {
		.owner = owner, .type = r->type, .ttl = r->ttl,
		.cls = r->cls ? r->cls : BW_CLASS_IN, .rdata = rdata,
		.file = FILE_NAME, .line = line,
	};

	make_name(owner, r->owner);
	rr.rdlen = make_rdata(r->type, r->rdata, rdata);
	return bw_zone_add(t->z, &rr, &t->d);
}

static void start(struct tctx *t, const char *apex)
{
	uint8_t a[BW_NAME_MAXLEN];

	memset(t, 0, sizeof(*t));
	t->d.emit = emit;
	t->d.ctx = t;
	make_name(a, apex);
	t->z = bw_zone_new(a);
	assert_non_null(t->z);
}

/* Adds records [from, to) but those of type \a skip (0: none), each at
 * its index + 1 as line. */
static void add_range(struct tctx *t, const struct trr *rrs, size_t from,
                      size_t to, uint16_t skip)
{
	for (size_t i = from; i < to; i++) {
		if (skip != 0 && rrs[i].type == skip)
			continue;
		int ret = add_trr(t, &rrs[i], (unsigned)i + 1);
		if (ret != 0)
			t->add_ret = ret;
	}
}

/* Builds a zone; results stay in \a t. */
static void build(struct tctx *t, const char *apex, const struct trr *rrs,
                  size_t n)
{
	start(t, apex);
	add_range(t, rrs, 0, n, 0);
	t->ret = bw_zone_finish(t->z, &t->d);
}

static void done(struct tctx *t)
{
	bw_zone_free(t->z);
	t->z = NULL;
}

static const struct bw_zone_node *find(const struct tctx *t, const char *name)
{
	uint8_t w[BW_NAME_MAXLEN];

	make_name(w, name);
	bw_name_lower(w);
	return bw_zone_find(t->z, w);
}

/* Index of the first message of \a lvl that contains \a part, or -1. */
static int msg_find(const struct tctx *t, enum bw_diag_level lvl,
                    const char *part)
{
	for (size_t i = 0; i < t->nmsgs; i++)
		if (t->msgs[i].lvl == lvl && strstr(t->msgs[i].text, part) != NULL)
			return (int)i;
	return -1;
}

static void assert_msg(const struct tctx *t, enum bw_diag_level lvl,
                       unsigned line, const char *text)
{
	int i = msg_find(t, lvl, text);
	if (i < 0) {
		for (size_t k = 0; k < t->nmsgs; k++)
			print_message("  got %u: %s\n", t->msgs[k].line,
			              t->msgs[k].text);
		fail_msg("no message \"%s\"", text);
	}
	assert_int_equal(t->msgs[i].line, line);
}

#define SOA(serial)  { "example.com.", BW_TYPE_SOA, 3600, serial " 300", 0 }
#define APEX_NS      { "example.com.", BW_TYPE_NS, 3600, "ns1.example.com.", 0 }
#define NS1_A        { "ns1.example.com.", BW_TYPE_A, 3600, "192.0.2.1", 0 }

/* ---- Basics. ---- */

static void test_basic(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("2024010101"), APEX_NS, NS1_A,
		{ "WWW.Example.COM.", BW_TYPE_A, 60, "192.0.2.80", 0 },
		{ "www.example.com.", BW_TYPE_AAAA, 60, "2001:db8::80", 0 },
		{ "www.example.com.", BW_TYPE_A, 60, "192.0.2.8", 0 },
	};
	struct tctx t;

	build(&t, "Example.Com.", rrs, sizeof(rrs) / sizeof(rrs[0]));
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.d.errors, 0);
	assert_int_equal(t.d.warnings, 0);
	assert_int_equal(t.z->apex_labels, 2);
	assert_int_equal(t.z->serial, 2024010101u);
	assert_int_equal(t.z->soa_minimum, 300);
	assert_int_equal(t.z->soa_ttl, 3600);
	assert_int_equal(t.z->nnodes, 3);
	assert_ptr_equal(find(&t, "example.com."), &t.z->nodes[0]);
	assert_int_equal(t.z->nodes[0].flags, BW_ZN_APEX);
	assert_memory_equal(t.z->nodes[0].name, "\7example\3com", 13);

	const struct bw_zone_node *www = find(&t, "www.example.com.");
	assert_non_null(www);
	assert_memory_equal(www->name, "\3www\7example\3com", 17);
	assert_int_equal(www->labels, 3);
	assert_int_equal(www->flags, 0);
	assert_int_equal(www->nrrsets, 2);
	assert_int_equal(www->rrsets[0].type, BW_TYPE_A);
	assert_int_equal(www->rrsets[1].type, BW_TYPE_AAAA);
	/* Rdatas in canonical order, the RRset placed at its first record. */
	const struct bw_zone_rrset *a = bw_zone_rrset(www, BW_TYPE_A);
	assert_int_equal(a->count, 2);
	assert_memory_equal(a->rd[0].data, "\xc0\x00\x02\x08", 4);
	assert_memory_equal(a->rd[1].data, "\xc0\x00\x02\x50", 4);
	assert_int_equal(a->line, 4);
	assert_string_equal(a->file, FILE_NAME);
	assert_null(bw_zone_rrset(www, BW_TYPE_TXT));
	assert_null(find(&t, "nope.example.com."));
	done(&t);
}

/* RFC 4034 §6.1's example of canonical order. */
static void test_canonical_order(void **state)
{
	(void)state;
	static const char *const order[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.",
		"*.z.example.", "\\200.z.example.",
	};
	static const int shuffle[] = { 5, 8, 2, 4, 1, 7, 3, 6 };
	struct trr rrs[10] = {
		{ "example.", BW_TYPE_SOA, 60, "1 60", 0 },
		{ "example.", BW_TYPE_NS, 60, "ns.example.net.", 0 },
	};
	for (int i = 0; i < 8; i++)
		rrs[2 + i] = (struct trr){ order[shuffle[i]], BW_TYPE_TXT, 60,
		                           "x", 0 };
	struct tctx t;
	uint8_t w[BW_NAME_MAXLEN];

	build(&t, "example.", rrs, 10);
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.z->nnodes, 9);
	for (size_t i = 0; i < 9; i++) {
		make_name(w, order[i]);
		bw_name_lower(w);
		assert_int_equal(t.z->nodes[i].name_len, bw_name_len(w));
		assert_memory_equal(t.z->nodes[i].name, w, bw_name_len(w));
		if (i > 0)
			assert_true(bw_name_cmp(t.z->nodes[i - 1].name,
			                        t.z->nodes[i].name) < 0);
	}
	/* Wildcard flags. */
	assert_int_equal(t.z->nodes[7].flags, BW_ZN_WILDCARD);
	assert_int_equal(t.z->nodes[5].flags, BW_ZN_HAS_WILDCARD);
	assert_int_equal(t.z->nodes[6].flags, 0);
	done(&t);
}

static void test_duplicates_merged(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "www.example.com.", BW_TYPE_MX, 60, "10 Mail.Example.com.", 0 },
		{ "www.example.com.", BW_TYPE_MX, 60, "10 mail.example.com.", 0 },
		{ "WWW.example.com.", BW_TYPE_MX, 60, "20 mail.example.com.", 0 },
		{ "ns1.example.com.", BW_TYPE_A, 3600, "192.0.2.1", 0 },
		{ "mail.example.com.", BW_TYPE_A, 60, "192.0.2.25", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, sizeof(rrs) / sizeof(rrs[0]));
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.d.warnings, 0);
	const struct bw_zone_rrset *mx =
		bw_zone_rrset(find(&t, "www.example.com."), BW_TYPE_MX);
	assert_non_null(mx);
	assert_int_equal(mx->count, 2);
	/* The first record as written is kept, case and all. */
	assert_memory_equal(mx->rd[0].data, "\0\12\4Mail\7Example\3com", 20);
	assert_int_equal(bw_get16(mx->rd[1].data), 20);
	assert_int_equal(bw_zone_rrset(find(&t, "ns1.example.com."),
	                               BW_TYPE_A)->count, 1);
	done(&t);
}

static void test_ttl_normalised(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "www.example.com.", BW_TYPE_A, 3600, "192.0.2.9", 0 },
		{ "www.example.com.", BW_TYPE_A, 300, "192.0.2.1", 0 },
		{ "txt.example.com.", BW_TYPE_TXT, 300, "b", 0 },
		{ "txt.example.com.", BW_TYPE_TXT, 3600, "a", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, sizeof(rrs) / sizeof(rrs[0]));
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.d.warnings, 2);
	assert_msg(&t, BW_DIAG_WARN, 5,
	           "TTL 300 differs from 3600 for www.example.com. A; using 3600");
	assert_msg(&t, BW_DIAG_WARN, 7,
	           "TTL 3600 differs from 300 for txt.example.com. TXT; using 300");
	const struct bw_zone_rrset *a =
		bw_zone_rrset(find(&t, "www.example.com."), BW_TYPE_A);
	assert_int_equal(a->ttl, 3600);
	assert_int_equal(a->line, 4);
	const struct bw_zone_rrset *txt =
		bw_zone_rrset(find(&t, "txt.example.com."), BW_TYPE_TXT);
	assert_int_equal(txt->ttl, 300);
	assert_int_equal(txt->line, 6);
	assert_memory_equal(txt->rd[0].data, "\1a", 2);
	done(&t);
}

/* ---- SOA and NS at the apex. ---- */

static void test_no_soa(void **state)
{
	(void)state;
	static const struct trr rrs[] = { APEX_NS, NS1_A };
	struct tctx t;

	build(&t, "example.com.", rrs, 2);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 1);
	assert_string_equal(t.d.first_msg, "no SOA at the zone apex");
	done(&t);
}

static void test_no_ns(void **state)
{
	(void)state;
	static const struct trr rrs[] = { SOA("1"), NS1_A };
	struct tctx t;

	build(&t, "example.com.", rrs, 2);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 1);
	assert_string_equal(t.d.first_msg, "no NS records at the zone apex");
	done(&t);
}

static void test_empty_zone(void **state)
{
	(void)state;
	struct tctx t;

	build(&t, "example.com.", NULL, 0);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 2);
	assert_int_equal(t.z->nnodes, 1);
	assert_int_equal(t.z->nodes[0].flags, BW_ZN_APEX | BW_ZN_ENT);
	done(&t);
}

static void test_two_soa(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("5"), APEX_NS, NS1_A, SOA("2"),
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 4);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 1);
	assert_string_equal(t.d.first_msg,
	                    "more than one SOA record at example.com.");
	assert_int_equal(t.d.first_line, 4);
	done(&t);
}

static void test_soa_not_at_apex(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "sub.example.com.", BW_TYPE_SOA, 60, "1 60", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 4);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 1);
	assert_int_equal(t.d.first_line, 4);
	assert_non_null(strstr(t.d.first_msg, "not the zone apex"));
	done(&t);
}

/* ---- Input rejected by bw_zone_add. ---- */

static void test_out_of_zone(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "foo.org.", BW_TYPE_A, 60, "192.0.2.1", 0 },
		{ "example.com.org.", BW_TYPE_A, 60, "192.0.2.1", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 5);
	assert_int_equal(t.add_ret, 0);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 2);
	assert_int_equal(t.d.first_line, 4);
	assert_string_equal(t.d.first_msg,
	                    "out-of-zone data: foo.org. is not in example.com.");
	assert_int_equal(t.z->nnodes, 2);
	done(&t);
}

static void test_class_not_in(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "www.example.com.", BW_TYPE_TXT, 60, "x", BW_CLASS_CH },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 4);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 1);
	assert_int_equal(t.d.first_line, 4);
	assert_non_null(strstr(t.d.first_msg, "class CH"));
	assert_null(find(&t, "www.example.com."));
	done(&t);
}

/* ---- CNAME and DNAME. ---- */

static void test_cname_and_other_data(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "www.example.com.", BW_TYPE_A, 60, "192.0.2.1", 0 },
		{ "www.example.com.", BW_TYPE_CNAME, 60, "host.example.net.", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 5);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 1);
	assert_string_equal(t.d.first_msg,
	                    "CNAME and other data at www.example.com.");
	assert_int_equal(t.d.first_line, 5);
	done(&t);
}

static void test_cname_beside_dnssec(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "www.example.com.", BW_TYPE_CNAME, 60, "host.example.net.", 0 },
		{ "www.example.com.", BW_TYPE_RRSIG, 60, "example.com.", 0 },
		{ "www.example.com.", BW_TYPE_RRSIG, 300, "other.example.", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 6);
	assert_int_equal(t.ret, 0);
	/* RRSIGs with their own TTLs are not an RRset with differing TTLs. */
	assert_int_equal(t.d.warnings, 0);
	const struct bw_zone_node *www = find(&t, "www.example.com.");
	assert_int_equal(www->nrrsets, 2);
	assert_int_equal(www->flags, BW_ZN_CNAME);
	done(&t);
}

static void test_cname_twice(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "www.example.com.", BW_TYPE_CNAME, 60, "b.example.net.", 0 },
		{ "www.example.com.", BW_TYPE_CNAME, 60, "B.example.net.", 0 },
		{ "www.example.com.", BW_TYPE_CNAME, 60, "a.example.net.", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 6);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 1);
	assert_string_equal(t.d.first_msg,
	                    "more than one CNAME record at www.example.com.");
	assert_int_equal(t.d.first_line, 6);
	done(&t);
}

static void test_cname_at_apex(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "example.com.", BW_TYPE_CNAME, 60, "b.example.net.", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 4);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 1);
	assert_string_equal(t.d.first_msg, "CNAME at the zone apex example.com.");
	assert_int_equal(t.d.first_line, 4);
	done(&t);
}

static void test_dname(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "old.example.com.", BW_TYPE_DNAME, 60, "new.example.net.", 0 },
		{ "www.old.example.com.", BW_TYPE_A, 60, "192.0.2.1", 0 },
		{ "a.b.old.example.com.", BW_TYPE_TXT, 60, "x", 0 },
		{ "older.example.com.", BW_TYPE_TXT, 60, "x", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 7);
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.d.warnings, 2);
	assert_msg(&t, BW_DIAG_WARN, 5, "www.old.example.com. A is occluded by "
	           "DNAME at old.example.com.");
	assert_msg(&t, BW_DIAG_WARN, 6, "a.b.old.example.com. TXT is occluded");
	assert_null(find(&t, "www.old.example.com."));
	assert_null(find(&t, "b.old.example.com."));
	assert_int_equal(find(&t, "old.example.com.")->flags, BW_ZN_DNAME);
	assert_non_null(find(&t, "older.example.com."));
	assert_int_equal(t.z->nnodes, 4);
	done(&t);
}

static void test_dname_twice(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "old.example.com.", BW_TYPE_DNAME, 60, "new.example.net.", 0 },
		{ "old.example.com.", BW_TYPE_DNAME, 60, "new.example.org.", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 5);
	assert_int_equal(t.ret, BW_EZONE);
	assert_int_equal(t.d.errors, 1);
	assert_string_equal(t.d.first_msg,
	                    "more than one DNAME record at old.example.com.");
	assert_int_equal(t.d.first_line, 5);
	done(&t);
}

/* ---- Zone cuts and glue. ---- */

static const struct trr deleg_rrs[] = {
	SOA("1"), APEX_NS, NS1_A,
	{ "sub.example.com.", BW_TYPE_NS, 60, "ns1.sub.example.com.", 0 },
	{ "sub.example.com.", BW_TYPE_NS, 60, "ns.x.sub.example.com.", 0 },
	{ "ns1.sub.example.com.", BW_TYPE_A, 60, "192.0.2.53", 0 },
	{ "ns.x.sub.example.com.", BW_TYPE_AAAA, 60, "2001:db8::53", 0 },
	{ "sub.example.com.", BW_TYPE_TXT, 60, "hidden", 0 },        /* 8 */
	{ "www.sub.example.com.", BW_TYPE_A, 60, "192.0.2.9", 0 },
	{ "www.sub.example.com.", BW_TYPE_TXT, 60, "hidden", 0 },    /* 10 */
	{ "deep.sub.example.com.", BW_TYPE_NS, 60, "ns.example.net.", 0 },
	{ "sub.example.com.", BW_TYPE_DS, 60, "ds.example.", 0 },
	{ "subway.example.com.", BW_TYPE_TXT, 60, "visible", 0 },
};

static void test_delegation(void **state)
{
	(void)state;
	struct tctx t;

	build(&t, "example.com.", deleg_rrs,
	      sizeof(deleg_rrs) / sizeof(deleg_rrs[0]));
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.d.warnings, 3);
	assert_msg(&t, BW_DIAG_WARN, 8, "sub.example.com. TXT is occluded by "
	           "delegation at sub.example.com.");
	assert_msg(&t, BW_DIAG_WARN, 10, "www.sub.example.com. TXT is occluded "
	           "by delegation at sub.example.com.");
	assert_msg(&t, BW_DIAG_WARN, 11, "deep.sub.example.com. NS is occluded");

	const struct bw_zone_node *sub = find(&t, "sub.example.com.");
	assert_int_equal(sub->flags, BW_ZN_DELEG);
	assert_int_equal(sub->nrrsets, 2);
	assert_int_equal(sub->rrsets[0].type, BW_TYPE_NS);
	assert_int_equal(sub->rrsets[1].type, BW_TYPE_DS);

	const struct bw_zone_node *www = find(&t, "www.sub.example.com.");
	assert_int_equal(www->flags, BW_ZN_GLUE);
	assert_int_equal(www->cut_labels, 3);
	assert_int_equal(www->nrrsets, 1);
	assert_int_equal(www->rrsets[0].type, BW_TYPE_A);

	/* The glue name's parent is an empty non-terminal below the cut. */
	const struct bw_zone_node *x = find(&t, "x.sub.example.com.");
	assert_int_equal(x->flags, BW_ZN_ENT | BW_ZN_GLUE);
	assert_int_equal(x->cut_labels, 3);
	assert_int_equal(x->nrrsets, 0);
	assert_int_equal(find(&t, "ns.x.sub.example.com.")->flags, BW_ZN_GLUE);
	/* All occluded: no node at all. */
	assert_null(find(&t, "deep.sub.example.com."));
	assert_int_equal(find(&t, "subway.example.com.")->flags, 0);
	assert_int_equal(t.z->nnodes, 8);
	done(&t);
}

static void test_missing_glue(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "example.com.", BW_TYPE_NS, 3600, "ns2.example.com.", 0 },
		{ "example.com.", BW_TYPE_NS, 3600, "ns.example.net.", 0 },
		{ "sub.example.com.", BW_TYPE_NS, 60, "NS1.sub.example.com.", 0 },
		{ "sub.example.com.", BW_TYPE_NS, 60, "ns.other.example.com.", 0 },
		{ "sub.example.com.", BW_TYPE_NS, 60, "ns.sub2.example.com.", 0 },
		{ "sub.example.com.", BW_TYPE_NS, 60, "www.example.com.", 0 },
		{ "sub2.example.com.", BW_TYPE_NS, 60, "ns.sub2.example.com.", 0 },
		{ "ns.sub2.example.com.", BW_TYPE_A, 60, "192.0.2.2", 0 },
		{ "www.example.com.", BW_TYPE_TXT, 60, "no address", 0 },
	};
	struct tctx t;

	build(&t, "example.com.", rrs, sizeof(rrs) / sizeof(rrs[0]));
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.d.errors, 0);
	assert_int_equal(t.d.warnings, 2);
	assert_msg(&t, BW_DIAG_WARN, 4, "no glue for in-bailiwick NS target "
	           "ns2.example.com.");
	assert_msg(&t, BW_DIAG_WARN, 6, "no glue for in-bailiwick NS target "
	           "ns1.sub.example.com.");
	done(&t);
}

static void test_empty_non_terminals(void **state)
{
	(void)state;
	static const struct trr rrs[] = {
		SOA("1"), APEX_NS, NS1_A,
		{ "a.b.c.example.com.", BW_TYPE_A, 60, "192.0.2.1", 0 },
		{ "x.c.example.com.", BW_TYPE_A, 60, "192.0.2.1", 0 },
		{ "*.w.example.com.", BW_TYPE_A, 60, "192.0.2.1", 0 },
	};
	static const char *const order[] = {
		"example.com.", "c.example.com.", "b.c.example.com.",
		"a.b.c.example.com.", "x.c.example.com.", "ns1.example.com.",
		"w.example.com.", "*.w.example.com.",
	};
	struct tctx t;

	build(&t, "example.com.", rrs, 6);
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.z->nnodes, 8);
	for (size_t i = 0; i < 8; i++)
		assert_ptr_equal(find(&t, order[i]), &t.z->nodes[i]);
	assert_int_equal(t.z->nodes[1].flags, BW_ZN_ENT);
	assert_int_equal(t.z->nodes[1].nrrsets, 0);
	assert_int_equal(t.z->nodes[1].labels, 3);
	assert_int_equal(t.z->nodes[2].flags, BW_ZN_ENT);
	assert_int_equal(t.z->nodes[3].flags, 0);
	assert_int_equal(t.z->nodes[6].flags, BW_ZN_ENT | BW_ZN_HAS_WILDCARD);
	assert_int_equal(t.z->nodes[7].flags, BW_ZN_WILDCARD);
	done(&t);
}

/* ---- Reopening a finished zone. ---- */

/* The first REOPEN_FIRST are finished, the rest added after reopening. */
#define REOPEN_FIRST 11
static const struct trr reopen_rrs[] = {
	SOA("1"), APEX_NS, NS1_A,
	{ "example.com.", BW_TYPE_NS, 3600, "ns2.example.com.", 0 },
	{ "www.example.com.", BW_TYPE_A, 60, "192.0.2.80", 0 },
	{ "www.example.com.", BW_TYPE_A, 300, "192.0.2.81", 0 },
	{ "a.b.c.example.com.", BW_TYPE_A, 60, "192.0.2.1", 0 },
	{ "sub.example.com.", BW_TYPE_NS, 60, "ns.sub.example.com.", 0 },
	{ "ns.sub.example.com.", BW_TYPE_A, 60, "192.0.2.53", 0 },
	{ "sub.example.com.", BW_TYPE_TXT, 60, "occluded", 0 },
	{ "*.w.example.com.", BW_TYPE_TXT, 60, "wild", 0 },
	/* A new owner below a new empty non-terminal, new types at existing
	 * owners (one sorting before the type there), a duplicate, data at
	 * an empty non-terminal, an owner with TXT only. */
	{ "new.x.example.com.", BW_TYPE_A, 60, "192.0.2.2", 0 },
	{ "WWW.example.com.", BW_TYPE_AAAA, 60, "2001:db8::80", 0 },
	{ "*.W.example.com.", BW_TYPE_A, 60, "192.0.2.3", 0 },
	{ "www.example.com.", BW_TYPE_A, 60, "192.0.2.80", 0 },
	{ "www.example.com.", BW_TYPE_RRSIG, 60, "example.com.", 0 },
	{ "b.c.example.com.", BW_TYPE_TXT, 60, "was empty", 0 },
	{ "gone.example.com.", BW_TYPE_TXT, 60, "dropped", 0 },
};
#define REOPEN_N (sizeof(reopen_rrs) / sizeof(reopen_rrs[0]))

static void assert_same_zone(const struct bw_zone *a, const struct bw_zone *b)
{
	assert_int_equal(a->serial, b->serial);
	assert_int_equal(a->soa_ttl, b->soa_ttl);
	assert_int_equal(a->soa_minimum, b->soa_minimum);
	assert_int_equal(a->nnodes, b->nnodes);
	for (size_t i = 0; i < a->nnodes; i++) {
		const struct bw_zone_node *m = &a->nodes[i], *n = &b->nodes[i];
		assert_int_equal(m->name_len, n->name_len);
		assert_memory_equal(m->name, n->name, n->name_len);
		assert_int_equal(m->labels, n->labels);
		assert_int_equal(m->cut_labels, n->cut_labels);
		assert_int_equal(m->flags, n->flags);
		assert_int_equal(m->nrrsets, n->nrrsets);
		for (uint16_t t = 0; t < n->nrrsets; t++) {
			const struct bw_zone_rrset *r = &m->rrsets[t], *s = &n->rrsets[t];
			assert_int_equal(r->type, s->type);
			assert_int_equal(r->ttl, s->ttl);
			assert_int_equal(r->line, s->line);
			assert_string_equal(r->file, s->file);
			assert_int_equal(r->count, s->count);
			for (uint16_t k = 0; k < s->count; k++) {
				assert_int_equal(r->rd[k].len, s->rd[k].len);
				assert_memory_equal(r->rd[k].data, s->rd[k].data,
				                    s->rd[k].len);
			}
		}
	}
}

/* The rdata in memory given to the zone, not copied. */
static void add_trr_ref(struct tctx *t, const struct trr *r, unsigned line)
{
	uint8_t owner[BW_NAME_MAXLEN];
	uint8_t *rdata = malloc(1024);
	struct bw_rr rr = {
		.owner = owner, .type = r->type, .ttl = r->ttl,
		.cls = BW_CLASS_IN, .rdata = rdata, .file = FILE_NAME,
		.line = line,
	};

	assert_non_null(rdata);
	make_name(owner, r->owner);
	rr.rdlen = make_rdata(r->type, r->rdata, rdata);
	assert_int_equal(bw_zone_adopt(t->z, rdata), 0);
	assert_int_equal(bw_zone_add_ref(t->z, &rr, &t->d), 0);
}

static bool drop_txt(uint16_t type)
{
	return type == BW_TYPE_TXT;
}

static void test_reopen(void **state)
{
	(void)state;
	struct tctx t, u;

	start(&t, "example.com.");
	assert_int_equal(bw_zone_reopen(t.z, NULL, 0), BW_EINVAL);
	add_range(&t, reopen_rrs, 0, REOPEN_FIRST, 0);
	assert_int_equal(bw_zone_finish(t.z, &t.d), 0);
	assert_int_equal(t.d.warnings, 3);
	const uint8_t *wild = find(&t, "*.w.example.com.")->name;

	/* Reopened: the records added to those there, checked once more. */
	assert_int_equal(bw_zone_reopen(t.z, NULL, REOPEN_N - REOPEN_FIRST), 0);
	assert_int_equal(bw_zone_reopen(t.z, NULL, 0), BW_EINVAL);
	for (size_t i = REOPEN_FIRST; i < REOPEN_N; i++) {
		if (reopen_rrs[i].type == BW_TYPE_RRSIG)
			add_trr_ref(&t, &reopen_rrs[i], (unsigned)i + 1);
		else
			assert_int_equal(add_trr(&t, &reopen_rrs[i], (unsigned)i + 1), 0);
	}
	assert_int_equal(bw_zone_finish(t.z, &t.d), 0);
	assert_int_equal(t.add_ret, 0);
	build(&u, "example.com.", reopen_rrs, REOPEN_N);
	assert_int_equal(u.ret, 0);
	assert_int_equal(u.d.warnings, 3);
	assert_same_zone(t.z, u.z);
	/* No warning twice (missing glue, TTL, occlusion); the owner that
	 * was there keeps its name. */
	assert_int_equal(t.d.warnings, 3);
	assert_int_equal(t.d.errors, 0);
	assert_ptr_equal(find(&t, "*.w.example.com.")->name, wild);
	assert_int_equal(find(&t, "b.c.example.com.")->flags, 0);
	assert_int_equal(find(&t, "x.example.com.")->flags, BW_ZN_ENT);
	assert_int_equal(bw_zone_rrset(find(&t, "www.example.com."),
	                               BW_TYPE_A)->count, 2);
	done(&u);

	/* Reopened leaving TXT out: b.c is empty again, gone is gone. */
	assert_int_equal(bw_zone_reopen(t.z, drop_txt, 0), 0);
	assert_int_equal(bw_zone_finish(t.z, &t.d), 0);
	start(&u, "example.com.");
	add_range(&u, reopen_rrs, 0, REOPEN_N, BW_TYPE_TXT);
	assert_int_equal(bw_zone_finish(u.z, &u.d), 0);
	assert_same_zone(t.z, u.z);
	assert_int_equal(t.d.warnings, 3);
	assert_int_equal(find(&t, "b.c.example.com.")->flags, BW_ZN_ENT);
	assert_null(find(&t, "gone.example.com."));
	assert_int_equal(bw_zone_finish(t.z, &t.d), BW_EINVAL);
	done(&u);
	done(&t);
}

/* ---- Scale. ---- */

static void test_large_zone(void **state)
{
	(void)state;
	enum { N = 200000 };
	static const struct trr head[] = { SOA("1"), APEX_NS, NS1_A };
	struct tctx t;
	uint8_t a[BW_NAME_MAXLEN], owner[BW_NAME_MAXLEN], rd[4];
	struct timespec t0, t1;

	memset(&t, 0, sizeof(t));
	t.d.quiet = 1;
	make_name(a, "example.com.");
	t.z = bw_zone_new(a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(add_trr(&t, &head[i], (unsigned)i + 1), 0);
	/* Reverse order, every name under one of 100 parents (ENTs). */
	for (unsigned i = N; i-- > 0;) {
		char txt[64];
		snprintf(txt, sizeof(txt), "h%u.p%u.example.com.", i, i % 100);
		make_name(owner, txt);
		bw_put32(rd, 0xc0000200u + i);
		struct bw_rr rr = { .owner = owner, .type = BW_TYPE_A,
		                    .cls = BW_CLASS_IN, .ttl = 60, .rdlen = 4,
		                    .rdata = rd, .file = FILE_NAME, .line = i + 4 };
		assert_int_equal(bw_zone_add(t.z, &rr, &t.d), 0);
	}
	assert_int_equal(bw_zone_finish(t.z, &t.d), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) +
	              (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("  %d names in %.2f s\n", N, secs);
	assert_true(secs < 30.0);
	assert_int_equal(t.d.errors + t.d.warnings, 0);
	assert_int_equal(t.z->nnodes, 2 + 100 + N);
	for (size_t i = 1; i < t.z->nnodes; i++)
		assert_true(bw_name_cmp(t.z->nodes[i - 1].name,
		                        t.z->nodes[i].name) < 0);
	const struct bw_zone_node *n = find(&t, "h12345.p45.example.com.");
	assert_non_null(n);
	assert_memory_equal(n->rrsets[0].rd[0].data, "\xc0\x00\x32\x39", 4);
	assert_int_equal(find(&t, "p7.example.com.")->flags, BW_ZN_ENT);
	done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_canonical_order),
		cmocka_unit_test(test_duplicates_merged),
		cmocka_unit_test(test_ttl_normalised),
		cmocka_unit_test(test_no_soa),
		cmocka_unit_test(test_no_ns),
		cmocka_unit_test(test_empty_zone),
		cmocka_unit_test(test_two_soa),
		cmocka_unit_test(test_soa_not_at_apex),
		cmocka_unit_test(test_out_of_zone),
		cmocka_unit_test(test_class_not_in),
		cmocka_unit_test(test_cname_and_other_data),
		cmocka_unit_test(test_cname_beside_dnssec),
		cmocka_unit_test(test_cname_twice),
		cmocka_unit_test(test_cname_at_apex),
		cmocka_unit_test(test_dname),
		cmocka_unit_test(test_dname_twice),
		cmocka_unit_test(test_delegation),
		cmocka_unit_test(test_missing_glue),
		cmocka_unit_test(test_empty_non_terminals),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_large_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
