/*  bulwark — unit tests: NSEC and NSEC3 chains, built and checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bulwark/nsec3.h"
#include "bulwark/wire.h"
#include "dnssec/chain.h"
#include "parser.h"
#include "zone.h"

/* ---- Zones from text; messages kept for the assertions. ---- */

static char msgs[1 << 16];

static void keep_msg(void *ctx, enum bw_diag_level lvl, const char *file,
                     unsigned line, const char *msg)
{
	size_t len = strlen(msgs);
	static const char *const names[] = { "error", "warning", "note" };

	(void)ctx;
	snprintf(msgs + len, sizeof(msgs) - len, "%s:%u: %s: %s\n",
	         file ? file : "", line, names[lvl], msg);
}

static void diag_init(struct bw_diag *d)
{
	memset(d, 0, sizeof(*d));
	d->emit = keep_msg;
	msgs[0] = '\0';
}

struct add_ctx {
	struct bw_zone *z;
	struct bw_diag *d;
};

static int add_rr(void *ctx, const struct bw_rr *rr)
{
	struct add_ctx *a = ctx;

	return bw_zone_add(a->z, rr, a->d);
}

/* The zone of \a text, finished when \a finish. */
static struct bw_zone *zone_parse(const char *text, const char *name,
                                  bool finish)
{
	uint8_t origin[BW_NAME_MAXLEN];
	struct bw_diag d;
	struct bw_parse_opts opts = { .origin = origin };

	diag_init(&d);
	assert_true(bw_name_from_text(origin, "example.", 8, NULL) > 0);
	struct bw_zone *z = bw_zone_new(origin);
	assert_non_null(z);
	struct add_ctx a = { z, &d };
	int ret = bw_parse_string(text, strlen(text), name, &opts, add_rr, &a, &d);
	if (ret == 0 && finish)
		ret = bw_zone_finish(z, &d);
	if (ret != 0)
		fail_msg("zone rejected: %s", msgs);
	return z;
}

static struct bw_zone *zone_from(const char *text, const char *name)
{
	return zone_parse(text, name, true);
}

/* "owner ttl TYPE rdata" of record \a i. */
static const char *rr_text(const struct bw_chain *c, size_t i)
{
	static char buf[BW_NAME_MAXTEXT + 2048];
	char owner[BW_NAME_MAXTEXT], type[16], rd[1024];
	const struct bw_rr *rr = &c->rrs[i];

	assert_int_equal(rr->cls, BW_CLASS_IN);
	assert_true(bw_name_to_text(owner, sizeof(owner), rr->owner) > 0);
	bw_type_to_text(rr->type, type, sizeof(type));
	assert_int_equal(bw_rdata_check(rr->type, rr->rdata, rr->rdlen), 0);
	assert_true(bw_rdata_to_text(rr->type, rr->rdata, rr->rdlen, rd,
	                             sizeof(rd)) >= 0);
	snprintf(buf, sizeof(buf), "%s %u %s %s", owner, rr->ttl, type, rd);
	return buf;
}

static void expect_chain(const struct bw_chain *c, const char *const *want,
                         size_t n)
{
	for (size_t i = 0; i < n && i < c->count; i++)
		assert_string_equal(rr_text(c, i), want[i]);
	assert_int_equal(c->count, n);
}

/* ---- Building. ---- */

static const char zone_small[] =
	"$ORIGIN example.\n"
	"$TTL 3600\n"
	"@ 7200 SOA ns1 host 1 3600 900 604800 300\n"
	"@ NS ns1\n"
	"@ MX 10 ns1\n"
	"ns1 A 192.0.2.1\n"
	"a.b.c A 192.0.2.2\n"
	"*.w TXT \"wild\"\n"
	"big TYPE1000 \\# 0\n"
	"insec NS ns.other.\n"
	"sec NS ns.sec\n"
	"sec DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n"
	"ns.sec A 192.0.2.3\n"
	"x.y.z NS ns.other.\n";

/* Canonical order, TTL min(7200, 300), glue and empty non-terminals left
 * out, bitmaps with RRSIG and NSEC, back to the apex. */
static void test_nsec_build(void **state)
{
	static const char *const want[] = {
		"example. 300 NSEC big.example. NS SOA MX RRSIG NSEC",
		"big.example. 300 NSEC a.b.c.example. RRSIG NSEC TYPE1000",
		"a.b.c.example. 300 NSEC insec.example. A RRSIG NSEC",
		"insec.example. 300 NSEC ns1.example. NS RRSIG NSEC",
		"ns1.example. 300 NSEC sec.example. A RRSIG NSEC",
		"sec.example. 300 NSEC *.w.example. NS DS RRSIG NSEC",
		"*.w.example. 300 NSEC x.y.z.example. TXT RRSIG NSEC",
		"x.y.z.example. 300 NSEC example. NS RRSIG NSEC",
	};
	struct bw_zone *z = zone_from(zone_small, "small");
	struct bw_chain c;

	(void)state;
	assert_int_equal(bw_chain_build_nsec(z, &c), 0);
	expect_chain(&c, want, sizeof(want) / sizeof(want[0]));
	/* Bitmaps octet by octet: A (1), RRSIG (46), NSEC (47); and
	 * TYPE1000 in window 3, octet 29. */
	static const uint8_t abc[] = { 0, 6, 0x40, 0, 0, 0, 0, 0x03 };
	assert_int_equal(c.rrs[2].rdlen, 15 + sizeof(abc));
	assert_memory_equal(c.rrs[2].rdata + 15, abc, sizeof(abc));
	const struct bw_rr *big = &c.rrs[1];
	size_t nl = bw_name_len(big->rdata);
	assert_int_equal(big->rdlen, nl + 8 + 32);
	assert_memory_equal(big->rdata + nl, "\x00\x06\0\0\0\0\0\x03\x03\x1e", 10);
	assert_int_equal(big->rdata[nl + 8 + 2 + 29], 0x80);
	bw_chain_free(&c);
	bw_zone_free(z);
}

/* With Opt-Out the insecure delegations and the empty non-terminals y.z
 * and z that lead only to one are left out; b.c and c stay.  The same
 * records as dnssec-signzone -3 - -A makes for this zone. */
static void test_nsec3_optout(void **state)
{
	static const char *const want[] = {
		"3msev9usmd4br9s97v51r2tdvmr9iqo1.example. 300 NSEC3 1 1 0 - "
		"ATUTAKMS2NNIOD8SIE19KMFB3UQD60KQ NS SOA MX RRSIG NSEC3PARAM",
		"atutakms2nniod8sie19kmfb3uqd60kq.example. 300 NSEC3 1 1 0 - "
		"D1MQ62M4MJGK65MGMKD443EV3MKV9VNB",
		"d1mq62m4mjgk65mgmkd443ev3mkv9vnb.example. 300 NSEC3 1 1 0 - "
		"KGQB5F8CKE123Q17PAPOMFBRL1TC0551 NS DS RRSIG",
		"kgqb5f8cke123q17papomfbrl1tc0551.example. 300 NSEC3 1 1 0 - "
		"M1O89LFDO9RRF2F8R8SS42D81D09V48M",
		"m1o89lfdo9rrf2f8r8ss42d81d09v48m.example. 300 NSEC3 1 1 0 - "
		"NDUQQO4NE4PJH2DSB3B775D1ROKVPI74 A RRSIG",
		"nduqqo4ne4pjh2dsb3b775d1rokvpi74.example. 300 NSEC3 1 1 0 - "
		"P9N5PTEVJSJOSKR5U50VC77GP9BDSCK8 A RRSIG",
		"p9n5ptevjsjoskr5u50vc77gp9bdsck8.example. 300 NSEC3 1 1 0 - "
		"QDKHK9PFMQMR76IL6UTFBH9VP9BV31LQ TXT RRSIG",
		"qdkhk9pfmqmr76il6utfbh9vp9bv31lq.example. 300 NSEC3 1 1 0 - "
		"TF4V2JBVF5IQ28BHEOT32E5NSH2DBOF3 RRSIG TYPE1000",
		"tf4v2jbvf5iq28bheot32e5nsh2dbof3.example. 300 NSEC3 1 1 0 - "
		"3MSEV9USMD4BR9S97V51R2TDVMR9IQO1",
		"example. 0 NSEC3PARAM 1 0 0 -",
	};
	struct bw_zone *z = zone_from(zone_small, "small");
	struct bw_chain c;

	(void)state;
	assert_int_equal(bw_chain_build_nsec3(z, NULL, 0, 0, true, &c), 0);
	expect_chain(&c, want, sizeof(want) / sizeof(want[0]));
	bw_chain_free(&c);
	bw_zone_free(z);
}

/* Without Opt-Out every delegation and empty non-terminal is there:
 * insec (NS only), x.y.z, y.z and z (empty). */
static void test_nsec3_all(void **state)
{
	static const char *const present[] = {
		"t4g8ueml51fvj551vod3jpgi7s2k79c5.example. 300 NSEC3 1 0 0 - "
		"TF4V2JBVF5IQ28BHEOT32E5NSH2DBOF3 NS",
		"tuqq8r5pt3dht8n8q4bqqkq4kieuvvit.example. 300 NSEC3 1 0 0 - "
		"3MSEV9USMD4BR9S97V51R2TDVMR9IQO1 NS",
		"8umn3h9dq4n2rvsl1s589enn0o5j8b96.example. 300 NSEC3 1 0 0 - "
		"AA2DT7JEL133P8PHDRMNTAQ9AFROS0CT",
		"aa2dt7jel133p8phdrmntaq9afros0ct.example. 300 NSEC3 1 0 0 - "
		"ATUTAKMS2NNIOD8SIE19KMFB3UQD60KQ",
	};
	struct bw_zone *z = zone_from(zone_small, "small");
	struct bw_chain c;

	(void)state;
	assert_int_equal(bw_chain_build_nsec3(z, NULL, 0, 0, false, &c), 0);
	assert_int_equal(c.count, 9 + 4 + 1);  /* + insec, x.y.z, y.z, z */
	for (size_t k = 0; k < sizeof(present) / sizeof(present[0]); k++) {
		size_t i = 0;
		while (i < c.count && strcmp(rr_text(&c, i), present[k]) != 0)
			i++;
		if (i == c.count)
			fail_msg("missing: %s", present[k]);
	}
	/* Hash order, closed. */
	for (size_t i = 0; i + 1 < c.count; i++) {
		const struct bw_rr *a = &c.rrs[i], *b = &c.rrs[(i + 1) % (c.count - 1)];
		assert_int_equal(a->type, BW_TYPE_NSEC3);
		assert_true(i + 2 == c.count || memcmp(a->owner, b->owner, 33) < 0);
		char next[40];
		assert_true(bw_base32hex_encode(a->rdata + 6, 20, next, sizeof(next)) > 0);
		assert_memory_equal(next, b->owner + 1, 32);
	}
	bw_chain_free(&c);
	bw_zone_free(z);
}

/* The zone of RFC 5155 Appendix A and the NSEC3 records listed there. */
static const char zone_rfc5155[] =
	"$ORIGIN example.\n"
	"$TTL 3600\n"
	"@ SOA ns1.example. bugs.x.w.example. 1 3600 300 3600000 3600\n"
	"@ NS ns1.example.\n"
	"@ NS ns2.example.\n"
	"@ MX 1 xx.example.\n"
	"@ DNSKEY 256 3 7 AwEAAaetidLzsKWUt4swWR8yu0wPHPiUi8LUsAD0QPWU+wzt89epO6tH\n"
	"@ DNSKEY 257 3 7 AwEAAcUlFV1vhmqx6NSOUOq2R/dsR7Xm3upJj7IommWSpJABVfW8Q0rO\n"
	"2t7b4g4vsa5smi47k61mv5bv1a22bojr A 192.0.2.127\n"
	"a NS ns1.a.example.\n"
	"a NS ns2.a.example.\n"
	"a DS 58470 5 1 3079F1593EBAD6DC121E202A8B766A6A4837206C\n"
	"ns1.a A 192.0.2.5\n"
	"ns2.a A 192.0.2.6\n"
	"ai A 192.0.2.9\n"
	"ai HINFO \"KLH-10\" \"ITS\"\n"
	"ai AAAA 2001:db8::f00:baa9\n"
	"c NS ns1.c.example.\n"
	"c NS ns2.c.example.\n"
	"ns1.c A 192.0.2.7\n"
	"ns2.c A 192.0.2.8\n"
	"ns1 A 192.0.2.1\n"
	"ns2 A 192.0.2.2\n"
	"*.w MX 1 ai.example.\n"
	"x.w MX 1 xx.example.\n"
	"x.y.w MX 1 xx.example.\n"
	"xx A 192.0.2.10\n"
	"xx HINFO \"KLH-10\" \"TOPS-20\"\n"
	"xx AAAA 2001:db8::f00:baaa\n";

#define RFC_NSEC3(owner, next, types) \
	owner ".example. 3600 NSEC3 1 1 12 AABBCCDD " next types

static void test_nsec3_rfc5155(void **state)
{
	static const char *const want[] = {
		RFC_NSEC3("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
		          "2T7B4G4VSA5SMI47K61MV5BV1A22BOJR",
		          " NS SOA MX RRSIG DNSKEY NSEC3PARAM"),
		RFC_NSEC3("2t7b4g4vsa5smi47k61mv5bv1a22bojr",
		          "2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S", " A RRSIG"),
		RFC_NSEC3("2vptu5timamqttgl4luu9kg21e0aor3s",
		          "35MTHGPGCU1QG68FAB165KLNSNK3DPVL", " MX RRSIG"),
		RFC_NSEC3("35mthgpgcu1qg68fab165klnsnk3dpvl",
		          "B4UM86EGHHDS6NEA196SMVMLO4ORS995", " NS DS RRSIG"),
		RFC_NSEC3("b4um86eghhds6nea196smvmlo4ors995",
		          "GJEQE526PLBF1G8MKLP59ENFD789NJGI", " MX RRSIG"),
		RFC_NSEC3("gjeqe526plbf1g8mklp59enfd789njgi",
		          "JI6NEOAEPV8B5O6K4EV33ABHA8HT9FGC",
		          " A HINFO AAAA RRSIG"),
		RFC_NSEC3("ji6neoaepv8b5o6k4ev33abha8ht9fgc",
		          "K8UDEMVP1J2F7EG6JEBPS17VP3N8I58H", ""),
		RFC_NSEC3("k8udemvp1j2f7eg6jebps17vp3n8i58h",
		          "KOHAR7MBB8DC2CE8A9QVL8HON4K53UHI", ""),
		RFC_NSEC3("kohar7mbb8dc2ce8a9qvl8hon4k53uhi",
		          "Q04JKCEVQVMU85R014C7DKBA38O0JI5R", " A RRSIG"),
		RFC_NSEC3("q04jkcevqvmu85r014c7dkba38o0ji5r",
		          "R53BQ7CC2UVMUBFU5OCMM6PERS9TK9EN", " A RRSIG"),
		RFC_NSEC3("r53bq7cc2uvmubfu5ocmm6pers9tk9en",
		          "T644EBQK9BIBCNA874GIVR6JOJ62MLHV", " MX RRSIG"),
		RFC_NSEC3("t644ebqk9bibcna874givr6joj62mlhv",
		          "0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM",
		          " A HINFO AAAA RRSIG"),
		"example. 0 NSEC3PARAM 1 0 12 AABBCCDD",
	};
	static const uint8_t salt[] = { 0xaa, 0xbb, 0xcc, 0xdd };
	struct bw_zone *z = zone_from(zone_rfc5155, "rfc5155");
	struct bw_chain c;

	(void)state;
	assert_int_equal(bw_chain_build_nsec3(z, salt, 4, 12, true, &c), 0);
	expect_chain(&c, want, sizeof(want) / sizeof(want[0]));
	bw_chain_free(&c);
	/* Without Opt-Out, c.example (insecure) gets one, NS only. */
	assert_int_equal(bw_chain_build_nsec3(z, salt, 4, 12, false, &c), 0);
	assert_int_equal(c.count, 14);
	assert_string_equal(rr_text(&c, 4), "4g6p9u5gvfshp30pqecj98b3maqbn1ck"
	                    ".example. 3600 NSEC3 1 0 12 AABBCCDD "
	                    "B4UM86EGHHDS6NEA196SMVMLO4ORS995 NS");
	bw_chain_free(&c);
	bw_zone_free(z);
}

/* The built chains go into a zone and come out the same. */
static void test_chain_into_zone(void **state)
{
	struct bw_zone *z = zone_from(zone_small, "small");
	struct bw_zone *z2 = zone_parse(zone_small, "small", false);
	struct bw_chain c;
	struct bw_diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(bw_chain_build_nsec3(z, NULL, 0, 0, true, &c), 0);
	for (size_t i = 0; i < c.count; i++)
		assert_int_equal(bw_zone_add(z2, &c.rrs[i], &d), 0);
	assert_int_equal(bw_zone_finish(z2, &d), 0);
	assert_int_equal(z2->nnodes, z->nnodes + c.count - 1);
	const struct bw_zone_rrset *p = bw_zone_rrset(&z2->nodes[0],
	                                              BW_TYPE_NSEC3PARAM);
	assert_non_null(p);
	assert_int_equal(p->ttl, 0);
	bw_chain_free(&c);
	bw_zone_free(z2);
	bw_zone_free(z);
}

/* ---- Checking zones signed by dnssec-signzone. ---- */

static const char zone_sign[] =
	"$ORIGIN example.\n"
	"$TTL 3600\n"
	"@ 7200 SOA ns1 host 1 3600 900 604800 300\n"
	"@ NS ns1\n"
	"ns1 A 192.0.2.1\n"
	"a.b.c A 192.0.2.2\n"
	"*.w TXT \"wild\"\n"
	"insec NS ns.other.\n"
	"sec NS ns.other.\n"
	"sec DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n"
	"x.y.z NS ns.other.\n";

static char tmpdir[64];
static char *signed_nsec, *signed_nsec3, *signed_optout, *signed_text;

static int run(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	if (s != NULL && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s != NULL)
		s[n] = '\0';
	fclose(f);
	return s;
}

static char *sign(const char *opts, const char *out)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, out);
	if (run("dnssec-signzone -q -S -K %s -o example -N keep %s "
	        "-f %s %s/ex.zone >/dev/null 2>&1", tmpdir, opts, path,
	        tmpdir) != 0)
		return NULL;
	return slurp(path);
}

/* Keys and three signed variants, made once. */
static int sign_setup(void **state)
{
	(void)state;
	if (run("which dnssec-signzone dnssec-keygen >/dev/null 2>&1") != 0)
		return 0;  /* The tests skip. */
	strcpy(tmpdir, "/tmp/bw-chain-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	char path[128];
	snprintf(path, sizeof(path), "%s/ex.zone", tmpdir);
	FILE *f = fopen(path, "w");
	if (f == NULL || fputs(zone_sign, f) < 0 || fclose(f) != 0)
		return -1;
	if (run("dnssec-keygen -q -a ECDSAP256SHA256 -K %s example >/dev/null "
	        "&& dnssec-keygen -q -f KSK -a ECDSAP256SHA256 -K %s example "
	        ">/dev/null", tmpdir, tmpdir) != 0)
		return -1;
	/* One record per line, for the edits; and the usual layout. */
	signed_nsec = sign("-O full", "nsec.zone");
	signed_nsec3 = sign("-O full -3 - -H 0", "nsec3.zone");
	signed_optout = sign("-O full -3 - -H 0 -A", "optout.zone");
	signed_text = sign("-3 aabbccdd -H 5", "text.zone");
	return signed_nsec && signed_nsec3 && signed_optout && signed_text ?
	       0 : -1;
}

static int sign_teardown(void **state)
{
	(void)state;
	free(signed_nsec);
	free(signed_nsec3);
	free(signed_optout);
	free(signed_text);
	if (tmpdir[0] != '\0')
		run("rm -rf %s", tmpdir);
	return 0;
}

static void need_signed(void)
{
	if (signed_nsec == NULL) {
		print_message("dnssec-signzone is not installed: skipped\n");
		skip();
	}
}

/* Runs the check on \a text; returns its result, messages in msgs. */
static int check(const char *text, uint32_t now, uint32_t horizon,
                 uint32_t *earliest, struct bw_diag *d)
{
	struct bw_zone *z = zone_from(text, "signed.zone");

	diag_init(d);
	int ret = bw_chain_check_presigned(z, now, horizon, earliest, d);
	bw_zone_free(z);
	return ret;
}

static void expect_msg(const char *what)
{
	if (strstr(msgs, what) == NULL)
		fail_msg("no message with '%s' in:\n%s", what, msgs);
}

static void test_check_signed(void **state)
{
	const char *zones[] = { signed_nsec, signed_nsec3, signed_optout,
	                        signed_text };
	uint32_t now = (uint32_t)time(NULL), earliest;
	struct bw_diag d;

	(void)state;
	need_signed();
	for (int i = 0; i < 4; i++) {
		if (check(zones[i], now, 86400, &earliest, &d) != 0)
			fail_msg("zone %d: %s", i, msgs);
		assert_int_equal(d.errors, 0);
		assert_int_equal(d.warnings, 0);
		/* dnssec-signzone signs for 30 days by default. */
		assert_true(earliest > now + 29 * 86400u);
		assert_true(earliest <= now + 31 * 86400u);
	}
	/* The opt-out zone has no NSEC3 for insec, x.y.z, y.z and z. */
	assert_null(strstr(signed_optout, "T4G8UEML51FVJ551VOD3JPGI7S2K79C5"));
	assert_non_null(strstr(signed_nsec3, "T4G8UEML51FVJ551VOD3JPGI7S2K79C5"));
}

/* A copy of \a text in which the first line that starts with \a owner and
 * contains \a has is deleted (\a to NULL) or has \a from replaced by
 * \a to. */
static char *edit(const char *text, const char *owner, const char *has,
                  const char *from, const char *to)
{
	size_t n = strlen(text);
	char *out = malloc(n + 256);
	const char *line = text;

	assert_non_null(out);
	for (;;) {
		const char *end = strchr(line, '\n');
		assert_non_null(end);
		char buf[1024];
		size_t len = (size_t)(end - line);
		assert_true(len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (strncasecmp(buf, owner, strlen(owner)) == 0 &&
		    strstr(buf, has) != NULL)
			break;
		line = end + 1;
	}
	size_t pre = (size_t)(line - text), len = strcspn(line, "\n") + 1;
	memcpy(out, text, pre);
	out[pre] = '\0';
	if (to != NULL) {
		char buf[1024];
		memcpy(buf, line, len);
		buf[len] = '\0';
		char *at = strstr(buf, from);
		assert_non_null(at);
		*at = '\0';
		strcat(out, buf);
		strcat(out, to);
		strcat(out, at + strlen(from));
	}
	strcat(out, line + len);
	return out;
}

static void expect_error(char *text, const char *what)
{
	struct bw_diag d;

	if (check(text, (uint32_t)time(NULL), 86400, NULL, &d) != BW_EZONE)
		fail_msg("accepted; expected '%s'", what);
	expect_msg(what);
	free(text);
}

static void test_check_nsec_broken(void **state)
{
	(void)state;
	need_signed();
	expect_error(edit(signed_nsec, "ns1.example.", " NSEC\t", "", NULL),
	             "error: no NSEC at ns1.example.");
	expect_error(edit(signed_nsec, "ns1.example.", " NSEC\t",
	                  "A RRSIG NSEC", "A AAAA RRSIG NSEC"),
	             "error: NSEC type bitmap for ns1.example. lists A AAAA "
	             "RRSIG NSEC, but the types there are A RRSIG NSEC");
	expect_error(edit(signed_nsec, "ns1.example.", " NSEC\t",
	                  "sec.example.", "zz.example."),
	             "error: NSEC at ns1.example. points to zz.example., "
	             "expected sec.example.");
	/* A name without NSEC at all. */
	expect_error(edit(signed_nsec, "ns1.example.", " A\t", "192.0.2.1",
	                  "192.0.2.1\nnew.example. 3600 IN A 192.0.2.9"),
	             "error: no NSEC at new.example.");
}

static void test_check_nsec3_broken(void **state)
{
	(void)state;
	need_signed();
	/* ns1.example. hashes to m1o89lfdo9rrf2f8r8ss42d81d09v48m. */
	expect_error(edit(signed_nsec3, "M1O89LFDO9RRF2F8R8SS42D81D09V48M.",
	                  " NSEC3\t", " NDUQQO4NE4", " NDUQQO4NE5"),
	             "error: NSEC3 at m1o89lfdo9rrf2f8r8ss42d81d09v48m.example.: "
	             "next hashed owner nduqqo4ne5");
	expect_error(edit(signed_nsec3, "M1O89LFDO9RRF2F8R8SS42D81D09V48M.",
	                  " NSEC3\t", "", NULL),
	             "error: no NSEC3 for ns1.example. "
	             "(m1o89lfdo9rrf2f8r8ss42d81d09v48m)");
	expect_error(edit(signed_nsec3, "M1O89LFDO9RRF2F8R8SS42D81D09V48M.",
	                  " NSEC3\t", "", NULL),
	             "error: RRSIG at m1o89lfdo9rrf2f8r8ss42d81d09v48m.example. "
	             "covers NSEC3, which is not there");
	expect_error(edit(signed_nsec3, "M1O89LFDO9RRF2F8R8SS42D81D09V48M.",
	                  " NSEC3\t", " A RRSIG", " A MX RRSIG"),
	             "error: NSEC3 type bitmap for ns1.example. lists A MX RRSIG, "
	             "but the types there are A RRSIG");
	expect_error(edit(signed_nsec3, "M1O89LFDO9RRF2F8R8SS42D81D09V48M.",
	                  " NSEC3\t", "1 0 0 -", "1 0 1 -"),
	             "does not have the parameters of the NSEC3PARAM");
	/* An NSEC3 whose owner is no name's hash. */
	expect_error(edit(signed_nsec3, "M1O89LFDO9RRF2F8R8SS42D81D09V48M.",
	                  " NSEC3\t", "M1O89LFDO9", "M1O89LFDO8"),
	             "NSEC3 at m1o89lfdo8rrf2f8r8ss42d81d09v48m.example. matches "
	             "no name of the zone");
	/* Opt-Out cleared on the NSEC3 that covers insec.example. (t4g8...,
	 * between *.w's p9n5... and w's tf4v...). */
	expect_error(edit(signed_optout, "P9N5PTEVJSJOSKR5U50VC77GP9BDSCK8.",
	                  " NSEC3\t", "1 1 0 -", "1 0 0 -"),
	             "error: no NSEC3 for insec.example. "
	             "(t4g8ueml51fvj551vod3jpgi7s2k79c5), and the NSEC3 covering "
	             "it has no Opt-Out flag");
}

static unsigned count(const char *s, const char *what)
{
	unsigned n = 0;

	for (; (s = strstr(s, what)) != NULL; s += strlen(what))
		n++;
	return n;
}

/* Line of the first record that starts with \a owner and contains \a has. */
static unsigned line_of(const char *text, const char *owner, const char *has)
{
	unsigned line = 1;

	for (const char *p = text; *p; line++) {
		size_t len = strcspn(p, "\n");
		if (strncmp(p, owner, strlen(owner)) == 0 &&
		    memmem(p, len, has, strlen(has)) != NULL)
			return line;
		p += len + (p[len] == '\n');
	}
	return 0;
}

static void test_check_expiry(void **state)
{
	uint32_t now = (uint32_t)time(NULL), earliest;
	struct bw_diag d;
	char want[128];

	(void)state;
	need_signed();
	/* Everything expires within 31 days: one warning per RRset. */
	assert_int_equal(check(signed_nsec, now, 31 * 86400, &earliest, &d), 0);
	assert_true(d.warnings > 5);
	assert_int_equal(count(msgs, "warning: RRSIG over "), d.warnings);
	snprintf(want, sizeof(want), "signed.zone:%u: warning: RRSIG over "
	         "ns1.example. A expires at ",
	         line_of(signed_nsec, "ns1.example.", " A\t"));
	expect_msg(want);
	snprintf(want, sizeof(want), "note: %u RRSIGs over %u RRsets expire "
	         "within 2678400 seconds", count(signed_nsec, " IN RRSIG\t"),
	         d.warnings);
	expect_msg(want);
	/* Forty days later they have all expired. */
	assert_int_equal(check(signed_nsec3, now + 40 * 86400, 86400, NULL, &d),
	                 BW_EZONE);
	expect_msg("error: RRSIG over ns1.example. A expired at ");
	assert_int_equal(d.warnings, 0);
	/* An RRset without signature. */
	expect_error(edit(signed_nsec, "ns1.example.", " RRSIG\tA ", "", NULL),
	             "error: ns1.example. A has no RRSIG");
}

static void test_check_unsigned(void **state)
{
	struct bw_diag d;

	(void)state;
	assert_int_equal(check(zone_sign, 0, 0, NULL, &d), BW_EZONE);
	expect_msg("no NSEC and no NSEC3PARAM at example.");
}

int main(void)
{
	const struct CMUnitTest build[] = {
		cmocka_unit_test(test_nsec_build),
		cmocka_unit_test(test_nsec3_optout),
		cmocka_unit_test(test_nsec3_all),
		cmocka_unit_test(test_nsec3_rfc5155),
		cmocka_unit_test(test_chain_into_zone),
		cmocka_unit_test(test_check_unsigned),
	};
	const struct CMUnitTest presigned[] = {
		cmocka_unit_test(test_check_signed),
		cmocka_unit_test(test_check_nsec_broken),
		cmocka_unit_test(test_check_nsec3_broken),
		cmocka_unit_test(test_check_expiry),
	};
	int fails = cmocka_run_group_tests_name("build", build, NULL, NULL);

	return fails + cmocka_run_group_tests_name("presigned", presigned,
	                                           sign_setup, sign_teardown);
}
