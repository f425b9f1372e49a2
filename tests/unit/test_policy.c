/*  bulwark — unit tests of the dnssec-policy reader of the compiler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bulwark/err.h"
#include "dnssec/policy.h"

#define DAY 86400u
#define DATA BW_TEST_DATA "/policy"

/* ---- Helpers. ---- */

/* What the diagnostics said: the first error and the warnings. */
struct seen {
	unsigned errors, warnings;
	unsigned line;
	char file[512];
	char msg[512];
	char warn[1024];   /* Warnings, one per line. */
};

static void capture(void *ctx, enum bw_diag_level lvl, const char *file,
                    unsigned line, const char *msg)
{
	struct seen *s = ctx;
	size_t n = strlen(s->warn);

	if (lvl == BW_DIAG_WARN) {
		s->warnings++;
		snprintf(s->warn + n, sizeof(s->warn) - n, "%u: %s\n", line, msg);
		return;
	}
	if (lvl != BW_DIAG_ERROR || s->errors++ > 0)
		return;
	s->line = line;
	snprintf(s->file, sizeof(s->file), "%s", file != NULL ? file : "");
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

static int load(const char *path, const char *name, struct bw_policy *p,
                struct seen *s)
{
	struct bw_diag d = { .emit = capture, .ctx = s };

	memset(s, 0, sizeof(*s));
	return bw_policy_load(path, name, p, &d);
}

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bw-test-policy-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static const char *const tmpfiles[] = { "t.conf", "inc.conf" };

static int remove_dir(void **state)
{
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof(tmpfiles) / sizeof(tmpfiles[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, tmpfiles[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

/* Writes \a text to a file of the temporary directory; returns its path. */
static const char *write_tmp(const char *name, const char *text)
{
	static char path[2][128];
	static unsigned which;
	char *p = path[which++ & 1];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* Loads the policy "p" from \a text; it must load. */
static void load_text(const char *text, struct bw_policy *p, struct seen *s)
{
	const char *path = write_tmp("t.conf", text);
	int rc = load(path, "p", p, s);

	if (rc != 0)
		fail_msg("%s:%u: %s", s->file, s->line, s->msg);
}

static void assert_default_timing(const struct bw_policy *p)
{
	assert_int_equal(p->dnskey_ttl, 3600);
	assert_int_equal(p->signatures_validity, 14 * DAY);
	assert_int_equal(p->signatures_validity_dnskey, 14 * DAY);
	assert_int_equal(p->signatures_refresh, 5 * DAY);
	assert_int_equal(p->max_zone_ttl, DAY);
	assert_int_equal(p->publish_safety, 3600);
	assert_int_equal(p->retire_safety, 3600);
	assert_int_equal(p->purge_keys, 90 * DAY);
	assert_int_equal(p->zone_propagation_delay, 300);
	assert_int_equal(p->parent_ds_ttl, DAY);
	assert_int_equal(p->parent_propagation_delay, 3600);
}

static void assert_default_csk(const struct bw_policy *p)
{
	assert_int_equal(p->nkeys, 1);
	assert_int_equal(p->keys[0].role, BW_KEY_CSK);
	assert_int_equal(p->keys[0].alg, BW_ALG_ECDSAP256SHA256);
	assert_int_equal(p->keys[0].lifetime, 0);
	assert_int_equal(p->keys[0].bits, 0);
}

/* ---- Durations. ---- */

static void test_durations(void **state)
{
	static const struct { const char *txt; uint32_t secs; } good[] = {
		{ "0", 0 }, { "3600", 3600 }, { "1d", DAY }, { "2w", 14 * DAY },
		{ "1h30m", 5400 }, { "1D", DAY }, { "P1D", DAY }, { "PT1H", 3600 },
		{ "p1d", DAY }, { "P2W", 14 * DAY }, { "PT90S", 90 },
		{ "P1Y", 365 * DAY }, { "P1M", 31 * DAY }, { "PT1M", 60 },
		{ "P1Y2M3DT4H5M6S", 430 * DAY + 4 * 3600 + 5 * 60 + 6 },
		{ "P1DT2H", DAY + 7200 },
	};
	static const char *const bad[] = {
		"", "P", "PT", "P1H", "P1D2Y", "P1W1D", "P1DT", "1x", "P1.5D",
		"PD", "P1DX", "P200Y", "-1", "P1D1D", "1d-",
	};
	uint32_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 7;
		if (bw_policy_duration(good[i].txt, &v) != 0 || v != good[i].secs)
			fail_msg("'%s': got %u, want %u", good[i].txt, v, good[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bw_policy_duration(bad[i], &v) != BW_ESYNTAX)
			fail_msg("'%s' was accepted as %u", bad[i], v);
}

/* ---- Good files. ---- */

static void test_builtin_default(void **state)
{
	struct bw_policy p;
	struct seen s;

	(void)state;
	memset(&p, 0xa5, sizeof(p));
	bw_policy_default(&p);
	assert_string_equal(p.name, "default");
	assert_default_csk(&p);
	assert_default_timing(&p);
	assert_false(p.nsec3);
	assert_int_equal(p.ncds_digests, 1);
	assert_int_equal(p.cds_digests[0], BW_DS_SHA256);

	/* "default" from a file that does not define it, and with no file. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(load(DATA "/full.conf", "default", &p, &s), 0);
	assert_string_equal(p.name, "default");
	assert_default_csk(&p);
	assert_default_timing(&p);
	memset(&p, 0, sizeof(p));
	assert_int_equal(load(NULL, "default", &p, &s), 0);
	assert_default_csk(&p);
	assert_int_equal(s.errors + s.warnings, 0);
}

static void test_full_policy(void **state)
{
	struct bw_policy p;
	struct seen s;

	(void)state;
	assert_int_equal(load(DATA "/full.conf", "split", &p, &s), 0);
	assert_int_equal(s.errors + s.warnings, 0);
	assert_string_equal(p.name, "split");
	assert_int_equal(p.nkeys, 2);
	assert_int_equal(p.keys[0].role, BW_KEY_KSK);
	assert_int_equal(p.keys[0].alg, BW_ALG_RSASHA256);
	assert_int_equal(p.keys[0].lifetime, 365 * DAY);
	assert_int_equal(p.keys[0].bits, 2048);
	assert_int_equal(p.keys[1].role, BW_KEY_ZSK);
	assert_int_equal(p.keys[1].alg, BW_ALG_RSASHA256);
	assert_int_equal(p.keys[1].lifetime, 60 * DAY);
	assert_int_equal(p.keys[1].bits, 1024);
	assert_int_equal(p.dnskey_ttl, 3600);
	assert_int_equal(p.signatures_validity, 21 * DAY);
	assert_int_equal(p.signatures_validity_dnskey, 21 * DAY);
	assert_int_equal(p.signatures_refresh, 5 * DAY);
	assert_int_equal(p.max_zone_ttl, 2 * DAY);
	assert_int_equal(p.publish_safety, 7200);
	assert_int_equal(p.retire_safety, 3 * 3600);
	assert_int_equal(p.purge_keys, 30 * DAY);
	assert_int_equal(p.zone_propagation_delay, 600);
	assert_int_equal(p.parent_ds_ttl, 5400);
	assert_int_equal(p.parent_propagation_delay, DAY + 7200);
	assert_int_equal(p.ncds_digests, 2);
	assert_int_equal(p.cds_digests[0], BW_DS_SHA256);
	assert_int_equal(p.cds_digests[1], BW_DS_SHA384);
	assert_false(p.nsec3);
}

/* Policies of an included file; one without `keys` gets the default CSK. */
static void test_included_policies(void **state)
{
	struct bw_policy p;
	struct seen s;

	(void)state;
	assert_int_equal(load(DATA "/full.conf", "other", &p, &s), 0);
	assert_int_equal(p.nkeys, 1);
	assert_int_equal(p.keys[0].role, BW_KEY_CSK);
	assert_int_equal(p.keys[0].alg, BW_ALG_ED25519);
	assert_default_timing(&p);

	assert_int_equal(load(DATA "/full.conf", "nokeys", &p, &s), 0);
	assert_string_equal(p.name, "nokeys");
	assert_default_csk(&p);
	assert_int_equal(p.dnskey_ttl, 300);
}

static void test_nsec3_optout(void **state)
{
	struct bw_policy p;
	struct seen s;

	(void)state;
	assert_int_equal(load(DATA "/nsec3.conf", "nsec3-optout", &p, &s), 0);
	assert_int_equal(s.errors + s.warnings, 0);
	assert_default_csk(&p);
	assert_true(p.nsec3);
	assert_true(p.nsec3_optout);
	assert_int_equal(p.nsec3_iterations, 0);
	assert_int_equal(p.nsec3_salt_len, 0);

	/* A bare `nsec3param;` takes RFC 9276's parameters. */
	assert_int_equal(load(DATA "/nsec3.conf", "ed", &p, &s), 0);
	assert_int_equal(s.errors + s.warnings, 0);
	assert_true(p.nsec3);
	assert_false(p.nsec3_optout);
	assert_int_equal(p.nkeys, 2);
	assert_int_equal(p.keys[0].role, BW_KEY_KSK);
	assert_int_equal(p.keys[1].role, BW_KEY_ZSK);
	assert_int_equal(p.keys[0].alg, BW_ALG_ED25519);
	assert_int_equal(p.keys[1].alg, BW_ALG_ED25519);
}

/* RFC 9276: iterations and salt load, with a warning each. */
static void test_nsec3_warnings(void **state)
{
	struct bw_policy p;
	struct seen s;

	(void)state;
	load_text("dnssec-policy p {\n"
	          "  nsec3param iterations 10\n"
	          "    salt-length 8;\n"
	          "};\n", &p, &s);
	assert_int_equal(s.warnings, 2);
	assert_non_null(strstr(s.warn, "2: nsec3param iterations 10: RFC 9276"));
	assert_non_null(strstr(s.warn, "2: nsec3param salt-length 8: RFC 9276"));
	assert_int_equal(p.nsec3_iterations, 10);
	assert_int_equal(p.nsec3_salt_len, 8);
	assert_false(p.nsec3_optout);
}

static void test_other_forms(void **state)
{
	struct bw_policy p;
	struct seen s;

	(void)state;
	/* Fixed-size algorithms ignore a size, with a warning; aliases of
	 * BIND; keywords in any case; `include` inside the block. */
	write_tmp("inc.conf", "dnskey-ttl PT5M;\n");
	load_text("dnssec-policy p { keys {\n"
	          "  KSK lifetime P2Y algorithm ECDSA384 384;\n"
	          "  zsk lifetime P90D algorithm 14 512;\n"
	          " };\n"
	          " include \"inc.conf\";\n"
	          " inline-signing no;\n"
	          " cds-digest-types { 2; sha256; };\n"
	          "};\n", &p, &s);
	assert_int_equal(s.warnings, 1);
	assert_non_null(strstr(s.warn, "3: ECDSAP384SHA384 keys are 384 bits"));
	assert_int_equal(p.keys[0].alg, BW_ALG_ECDSAP384SHA384);
	assert_int_equal(p.keys[0].bits, 0);
	assert_int_equal(p.keys[1].bits, 0);
	assert_int_equal(p.keys[0].lifetime, 2 * 365 * DAY);
	assert_int_equal(p.dnskey_ttl, 300);
	assert_int_equal(p.ncds_digests, 1);

	/* Short lifetimes that still allow a rollover: a warning, as BIND. */
	load_text("dnssec-policy p { keys {\n"
	          "  csk lifetime 20d algorithm 13;\n"
	          "}; };\n", &p, &s);
	assert_int_equal(s.warnings, 1);
	assert_non_null(strstr(s.warn, "2: key lifetime 1728000 s is shorter "
	                               "than 30 days"));
	assert_int_equal(p.keys[0].lifetime, 20 * DAY);
}

/* ---- Bad input. ---- */

struct bad {
	const char *name;   /* Policy asked for; NULL: "p". */
	const char *text;
	unsigned line;
	const char *msg;
};

static const struct bad bads[] = {
	{ NULL, "dnssec-policy p {\n  foo 1;\n};\n", 2,
	  "unknown option 'foo' in dnssec-policy 'p'" },
	{ NULL, "dnssec-policy p {\n\n  dnskey-ttl 1x;\n};\n", 3,
	  "bad duration '1x' for dnskey-ttl" },
	{ NULL, "dnssec-policy p { signatures-validity P1W2D; };\n", 1,
	  "bad duration 'P1W2D' for signatures-validity" },
	{ NULL, "dnssec-policy p { keys {\n csk lifetime unlimited algorithm "
	  "foo;\n}; };\n", 2, "unknown algorithm 'foo'" },
	{ NULL, "dnssec-policy p { keys {\n csk lifetime unlimited algorithm "
	  "rsasha1;\n}; };\n", 2, "RSASHA1 (5) is for verifying old zones only" },
	{ NULL, "dnssec-policy p { keys {\n"
	  "  csk lifetime unlimited algorithm 13;\n"
	  "  ksk lifetime unlimited algorithm 13;\n"
	  "}; };\n", 3,
	  "ksk of ECDSAP256SHA256 conflicts with the csk at line 2" },
	{ NULL, "dnssec-policy p { keys {\n"
	  "  ksk lifetime unlimited algorithm 8;\n"
	  "  zsk lifetime unlimited algorithm 8;\n"
	  "  zsk lifetime unlimited algorithm 8;\n"
	  "}; };\n", 4, "second zsk of RSASHA256 (first at line 3)" },
	{ NULL, "dnssec-policy p { keys {\n"
	  "  ksk lifetime unlimited algorithm 15;\n"
	  "}; };\n", 2, "ED25519 has no zsk" },
	{ NULL, "dnssec-policy p {\n  dnskey-ttl 3600\n  purge-keys 1d;\n};\n", 2,
	  "missing ';' after '3600'" },
	{ NULL, "dnssec-policy p {\n  dnskey-ttl 3600;\n}\nzone \"x\" { };\n", 3,
	  "missing ';' after '}'" },
	{ NULL, "options {\n  directory \"/tmp\";\n}\nzone \"x\" { };\n"
	  "dnssec-policy p { };\n", 3, "missing ';' after '}'" },
	{ "absent", "dnssec-policy p { };\n", 0,
	  "no dnssec-policy named 'absent' in " },
	{ "insecure", "dnssec-policy p { };\n", 0,
	  "dnssec-policy 'insecure' signs nothing" },
	{ "none", "", 0, "dnssec-policy 'none' signs nothing" },
	{ NULL, "dnssec-policy p {\n dnskey-ttl 1h;\n dnskey-ttl 2h;\n};\n", 3,
	  "'dnskey-ttl' is set twice in dnssec-policy 'p' (first at " },
	{ NULL, "dnssec-policy p { };\n\ndnssec-policy \"p\" { };\n", 3,
	  "dnssec-policy 'p' is defined twice (first at " },
	{ NULL, "dnssec-policy default {\n};\n", 1,
	  "cannot redefine the built-in dnssec-policy 'default'" },
	{ NULL, "dnssec-policy p {\n  keys { };\n};\n", 2,
	  "dnssec-policy 'p' has no keys" },
	{ NULL, "dnssec-policy p {\n signatures-validity 5d;\n};\n", 1,
	  "signatures-refresh (432000 s) must be at most 90% of "
	  "signatures-validity (432000 s)" },
	{ NULL, "dnssec-policy p { keys {\n csk lifetime unlimited algorithm "
	  "rsasha256 512;\n}; };\n", 2,
	  "key size '512' is out of range for RSASHA256 (1024 to 4096)" },
	{ NULL, "dnssec-policy p {\n nsec3param iterations 200;\n};\n", 2,
	  "nsec3param iterations 200 is out of range" },
	{ NULL, "dnssec-policy p {\n nsec3param salt-length 300;\n};\n", 2,
	  "salt-length 300 is too large (at most 255)" },
	{ NULL, "dnssec-policy p {\n nsec3param optout maybe;\n};\n", 2,
	  "expected yes or no for optout, found 'maybe'" },
	{ NULL, "dnssec-policy p {\n nsec3param opt-out yes;\n};\n", 2,
	  "unknown nsec3param option 'opt-out'" },
	{ NULL, "options { };\n/* not\n closed\n", 2, "unterminated /* comment" },
	{ NULL, "options {\n version \"abc\n};\n", 2, "unterminated string" },
	{ NULL, "dnssec-policy p {\n  dnskey-ttl 1h;\n", 3,
	  "missing '}' for the '{' at line 1" },
	{ NULL, "acl a {\n 192.0.2.1;\n", 3, "missing '}' for the '{' at line 1" },
	{ NULL, "\ninclude \"missing.conf\";\n", 2, "cannot read '" },
	{ NULL, "dnssec-policy p { keys {\n zsk lifetime 1d algorithm 13;\n"
	  " ksk lifetime unlimited algorithm 13;\n}; };\n", 2,
	  "key lifetime 86400 s is shorter than a rollover of the zsk takes" },
	{ NULL, "dnssec-policy p { keys {\n ksk algorithm 13;\n}; };\n", 2,
	  "expected 'lifetime' in keys, found 'algorithm'" },
	{ NULL, "dnssec-policy p { keys {\n xsk lifetime 1d algorithm 13;\n}; };\n",
	  2, "expected ksk, zsk or csk in keys, found 'xsk'" },
	{ NULL, "dnssec-policy p { keys {\n csk lifetime unlimited 13;\n}; };\n",
	  2, "expected 'algorithm' after 'unlimited' in keys, found '13'" },
	{ NULL, "dnssec-policy p {\n cds-digest-types { sha-512; };\n};\n", 2,
	  "unknown digest type 'sha-512' in cds-digest-types" },
	{ NULL, "dnssec-policy p {\n inline-signing;\n};\n", 2,
	  "expected yes or no, found ';'" },
	{ NULL, "dnssec-policy p {\n nsec3param iterations x;\n};\n", 2,
	  "expected a number for iterations, found 'x'" },
	{ NULL, "}\n", 1, "expected a statement name, found '}'" },
	{ NULL, "dnssec-policy p {\n keys { csk lifetime unlimited algorithm 13; "
	  "}\n dnskey-ttl 1h;\n};\n", 2, "missing ';' after '}'" },
};

static void check_bad(const struct bad *b, size_t i)
{
	const char *path = write_tmp("t.conf", b->text);
	const char *name = b->name != NULL ? b->name : "p";
	struct bw_policy p, untouched;
	struct seen s;
	int rc;

	memset(&p, 0x5a, sizeof(p));
	memcpy(&untouched, &p, sizeof(p));
	rc = load(path, name, &p, &s);
	if (rc == 0 || s.errors == 0)
		fail_msg("case %zu (line %u '%s'): accepted", i, b->line, b->msg);
	if (s.line != b->line || strstr(s.msg, b->msg) == NULL)
		fail_msg("case %zu: got %u '%s', want %u '%s'", i, s.line, s.msg,
		         b->line, b->msg);
	/* Errors name the file; a failed policy is not written. */
	if (b->line != 0 && strcmp(s.file, path) != 0)
		fail_msg("case %zu: error in '%s', not '%s'", i, s.file, path);
	assert_memory_equal(&p, &untouched, sizeof(p));
}

static void test_bad_inputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		check_bad(&bads[i], i);
}

/* An error inside an included file names that file and its line. */
static void test_error_in_include(void **state)
{
	struct bw_policy p;
	struct seen s;
	const char *inc = write_tmp("inc.conf", "\n\ndnssec-policy p { bar; };\n");
	char want[160];

	(void)state;
	snprintf(want, sizeof(want), "%s", inc);
	const char *path = write_tmp("t.conf", "include \"inc.conf\";\n");
	assert_int_equal(load(path, "p", &p, &s), BW_ECONF);
	assert_string_equal(s.file, want);
	assert_int_equal(s.line, 3);
	assert_non_null(strstr(s.msg, "unknown option 'bar'"));
}

static void test_include_loop(void **state)
{
	struct bw_policy p;
	struct seen s;

	(void)state;
	assert_int_equal(load(DATA "/loop.conf", "p", &p, &s), BW_EDEPTH);
	assert_int_equal(s.line, 1);
	assert_non_null(strstr(s.msg, "include nested too deep"));
}

static void test_unreadable(void **state)
{
	struct bw_policy p;
	struct seen s;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	assert_int_equal(load(path, "p", &p, &s), -ENOENT);
	assert_string_equal(s.file, path);
	assert_non_null(strstr(s.msg, "cannot read"));
	assert_int_equal(load(NULL, "p", &p, &s), BW_ECONF);
	assert_non_null(strstr(s.msg, "needs a configuration file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_builtin_default),
		cmocka_unit_test(test_full_policy),
		cmocka_unit_test(test_included_policies),
		cmocka_unit_test(test_nsec3_optout),
		cmocka_unit_test(test_nsec3_warnings),
		cmocka_unit_test(test_other_forms),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_error_in_include),
		cmocka_unit_test(test_include_loop),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
