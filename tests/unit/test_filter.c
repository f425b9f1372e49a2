/*  bulwark — unit tests: operator filters (Hyperscan) over query names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bulwark/wire.h"
#include "filter.h"

#define ERRLEN 256

/* Longest presentation text bw_filter_name_text() may write, with NUL. */
#define TEXT_MAX 1005

static void wire(const char *text, uint8_t *out, size_t *len)
{
	int n = bw_name_from_text(out, text, strlen(text), NULL);

	assert_true(n > 0);
	bw_name_lower(out);
	*len = (size_t)n;
}

static struct bw_filter_rule rule(unsigned id, bool literal, const char *pat,
                                  enum bw_filter_action action,
                                  const char *zone)
{
	struct bw_filter_rule r;
	size_t len;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.literal = literal;
	assert_true(strlen(pat) <= BW_FILTER_PATTERN_MAX);
	strcpy(r.pattern, pat);
	r.action = action;
	if (zone != NULL) {
		wire(zone, r.zone, &len);
		r.has_zone = true;
		r.zone_len = (uint8_t)len;
	}
	return r;
}

static struct bw_filter_db *compile(const struct bw_filter_rule *r, size_t n,
                                    unsigned workers)
{
	struct bw_filter_db *db = NULL;
	char err[ERRLEN] = "";

	if (bw_filter_compile(r, n, workers, &db, err, sizeof(err)) != 0)
		fail_msg("compile: %s", err);
	assert_non_null(db);
	return db;
}

/* Compiles and expects a failure whose message starts with \a want. */
static void compile_err(const struct bw_filter_rule *r, size_t n,
                        const char *want)
{
	struct bw_filter_db *db = (struct bw_filter_db *)&db;
	char err[ERRLEN] = "";

	assert_int_equal(bw_filter_compile(r, n, 1, &db, err, sizeof(err)), -1);
	assert_null(db);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error \"%s\", want \"%s...\"", err, want);
}

/* Matches \a name with worker \a w; the action, or -1 for no hit. */
static int match_w(const struct bw_filter_db *db, unsigned w,
                   const char *name, unsigned *index)
{
	uint8_t n[BW_NAME_MAXLEN];
	size_t len;
	struct bw_filter_hit hit = { .action = BW_FA_MAX, .index = ~0u };

	wire(name, n, &len);
	if (!bw_filter_match(db, w, n, len, &hit))
		return -1;
	assert_true(hit.action < BW_FA_MAX);
	if (index != NULL)
		*index = hit.index;
	return (int)hit.action;
}

static int match(const struct bw_filter_db *db, const char *name)
{
	return match_w(db, 0, name, NULL);
}

static void check_text(const uint8_t *n, size_t len, const char *want)
{
	char *out = malloc(TEXT_MAX);     /* exact size: ASan sees overruns */

	assert_non_null(out);
	assert_int_equal(bw_filter_name_text(n, len, out), strlen(want));
	assert_string_equal(out, want);
	free(out);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(bw_filter_action_names[BW_FA_LOG_ONLY], "log-only");
	assert_string_equal(bw_filter_action_names[BW_FA_RATE_LIMIT], "rate-limit");
	assert_string_equal(bw_filter_action_names[BW_FA_TRUNCATE], "truncate");
	assert_string_equal(bw_filter_action_names[BW_FA_REFUSE], "refuse");
	assert_string_equal(bw_filter_action_names[BW_FA_DROP], "drop");
}

/* Hyperscan's message, with the id of the rule it names. */
static void test_compile_errors(void **state)
{
	struct bw_filter_rule r[3];

	(void)state;
	r[0] = rule(10, false, "good", BW_FA_DROP, NULL);
	r[1] = rule(42, false, "(", BW_FA_DROP, NULL);
	r[2] = rule(11, false, "fine", BW_FA_DROP, NULL);
	compile_err(r, 3, "pattern 42: Missing close parenthesis");
	r[1] = rule(43, false, "(abc)?", BW_FA_DROP, NULL);
	compile_err(r, 3, "pattern 43: Pattern matches empty buffer");
	r[1] = rule(44, false, "x*", BW_FA_DROP, NULL);
	compile_err(r, 3, "pattern 44: Pattern matches empty buffer");
	r[1] = rule(45, true, "", BW_FA_DROP, NULL);
	compile_err(r, 3, "pattern 45: Pattern matches empty buffer");
	r[2] = rule(46, false, "ab^cd", BW_FA_DROP, NULL);
	compile_err(r + 2, 1, "pattern 46: Embedded start anchors not supported");
}

/* What Hyperscan is not asked about. */
static void test_bad_input(void **state)
{
	struct bw_filter_rule r = rule(5, false, "x", BW_FA_DROP, NULL);
	struct bw_filter_db *db = NULL;
	char err[ERRLEN];

	(void)state;
	compile_err(&r, 0, "no filter rules");
	assert_int_equal(bw_filter_compile(&r, 1, 0, &db, err, sizeof(err)), -1);
	assert_null(db);
	r.action = BW_FA_MAX;
	compile_err(&r, 1, "pattern 5: unknown action");
	r = rule(6, false, "x", BW_FA_DROP, "example.com.");
	r.zone_len = 3;
	compile_err(&r, 1, "pattern 6: zone is not a wire name");
	r = rule(7, false, "x", BW_FA_DROP, NULL);
	memset(r.pattern, 'a', sizeof(r.pattern));
	compile_err(&r, 1, "pattern 7: pattern too long");
	/* No db, or a worker it was not made for: no hit. */
	r = rule(8, false, "x", BW_FA_DROP, NULL);
	db = compile(&r, 1, 2);
	assert_int_equal(match_w(db, 2, "x.", NULL), -1);
	assert_int_equal(match_w(NULL, 0, "x.", NULL), -1);
	bw_filter_free(db);
	bw_filter_free(NULL);
}

/* A literal is a substring of the text, metacharacters and all. */
static void test_literal_regex(void **state)
{
	struct bw_filter_rule r[2];
	struct bw_filter_db *db;
	unsigned idx = 9;

	(void)state;
	r[0] = rule(1, true, "a.b", BW_FA_REFUSE, NULL);
	r[1] = rule(2, false, "x.y", BW_FA_TRUNCATE, NULL);
	db = compile(r, 2, 1);
	assert_int_equal(match_w(db, 0, "a.b.test.", &idx), BW_FA_REFUSE);
	assert_int_equal(idx, 0);
	assert_int_equal(match(db, "axb.test."), -1);
	assert_int_equal(match_w(db, 0, "x.y.test.", &idx), BW_FA_TRUNCATE);
	assert_int_equal(idx, 1);
	assert_int_equal(match(db, "xzy.test."), BW_FA_TRUNCATE);
	assert_int_equal(match(db, "xy.test."), -1);
	bw_filter_free(db);

	/* Regex syntax in a literal means itself. */
	r[0] = rule(1, true, "a(b|c)*[", BW_FA_DROP, NULL);
	r[1] = rule(2, true, "\\032", BW_FA_LOG_ONLY, NULL);
	db = compile(r, 2, 1);
	assert_int_equal(match(db, "a(b|c)*[.test."), BW_FA_DROP);
	assert_int_equal(match(db, "ab.test."), -1);
	assert_int_equal(match(db, "a\\ b.test."), BW_FA_LOG_ONLY);
	assert_int_equal(match(db, "a032.test."), -1);
	bw_filter_free(db);
}

static void test_anchors(void **state)
{
	struct bw_filter_rule r[2];
	struct bw_filter_db *db;

	(void)state;
	r[0] = rule(1, false, "^[a-z0-9]{16}\\.example\\.com\\.$", BW_FA_DROP,
	            NULL);
	r[1] = rule(2, false, "^www\\.", BW_FA_LOG_ONLY, NULL);
	db = compile(r, 2, 1);
	assert_int_equal(match(db, "0123456789abcdef.example.com."), BW_FA_DROP);
	assert_int_equal(match(db, "x.0123456789abcdef.example.com."), -1);
	assert_int_equal(match(db, "0123456789abcdef.example.com.evil."), -1);
	assert_int_equal(match(db, "0123456789abcde.example.com."), -1);
	assert_int_equal(match(db, "0123456789abcdefa.example.com."), -1);
	assert_int_equal(match(db, "www.example.com."), BW_FA_LOG_ONLY);
	assert_int_equal(match(db, "a.www.example.com."), -1);
	bw_filter_free(db);
}

static void test_caseless(void **state)
{
	struct bw_filter_rule r[2];
	struct bw_filter_db *db;

	(void)state;
	r[0] = rule(1, false, "^EVIL[A-Z]+\\.", BW_FA_REFUSE, NULL);
	r[1] = rule(2, true, "BaD", BW_FA_TRUNCATE, NULL);
	db = compile(r, 2, 1);
	/* wire() lowercases, as the parser does. */
	assert_int_equal(match(db, "EvilOne.example."), BW_FA_REFUSE);
	assert_int_equal(match(db, "evilone.example."), BW_FA_REFUSE);
	assert_int_equal(match(db, "xbadx.example."), BW_FA_TRUNCATE);
	assert_int_equal(match(db, "XBADX.example."), BW_FA_TRUNCATE);
	bw_filter_free(db);
}

/* The strongest action wins; among equals the lowest index. */
static void test_strongest(void **state)
{
	struct bw_filter_rule r[6];
	struct bw_filter_db *db;
	unsigned idx = 99;

	(void)state;
	r[0] = rule(1, true, "e", BW_FA_LOG_ONLY, NULL);
	r[1] = rule(2, true, "bad", BW_FA_TRUNCATE, NULL);
	r[2] = rule(3, false, "bad\\.ex", BW_FA_REFUSE, NULL);
	r[3] = rule(4, false, "\\.", BW_FA_RATE_LIMIT, NULL);
	r[4] = rule(5, false, "^worst\\.", BW_FA_DROP, NULL);
	r[5] = rule(6, true, "ample", BW_FA_REFUSE, NULL);
	db = compile(r, 6, 1);
	assert_int_equal(match_w(db, 0, "bad.example.", &idx), BW_FA_REFUSE);
	assert_int_equal(idx, 2);
	assert_int_equal(match_w(db, 0, "bad.test.", &idx), BW_FA_TRUNCATE);
	assert_int_equal(idx, 1);
	assert_int_equal(match_w(db, 0, "x.y.", &idx), BW_FA_RATE_LIMIT);
	assert_int_equal(idx, 3);
	assert_int_equal(match_w(db, 0, "worst.bad.example.", &idx), BW_FA_DROP);
	assert_int_equal(idx, 4);
	assert_int_equal(match_w(db, 0, "sample.", &idx), BW_FA_REFUSE);
	assert_int_equal(idx, 5);
	assert_int_equal(match_w(db, 0, "e.", &idx), BW_FA_RATE_LIMIT);
	assert_int_equal(match(db, "."), BW_FA_RATE_LIMIT);
	bw_filter_free(db);
}

/* Among equals the lowest index, whichever Hyperscan reports first. */
static void test_ties(void **state)
{
	struct bw_filter_rule r[4];
	struct bw_filter_db *db;
	unsigned idx = 99;

	(void)state;
	r[0] = rule(1, true, "example", BW_FA_REFUSE, NULL);
	r[1] = rule(2, false, "^bad", BW_FA_REFUSE, NULL);
	db = compile(r, 2, 1);
	assert_int_equal(match_w(db, 0, "bad.example.", &idx), BW_FA_REFUSE);
	assert_int_equal(idx, 0);
	bw_filter_free(db);

	/* Drops too; a drop rule outside its zone does not end the scan. */
	r[0] = rule(1, false, "^bad", BW_FA_DROP, "org.");
	r[1] = rule(2, true, "example", BW_FA_DROP, NULL);
	r[2] = rule(3, false, "^bad", BW_FA_DROP, NULL);
	r[3] = rule(4, false, "^b", BW_FA_DROP, NULL);
	db = compile(r, 4, 1);
	assert_int_equal(match_w(db, 0, "bad.example.", &idx), BW_FA_DROP);
	assert_int_equal(idx, 1);
	assert_int_equal(match_w(db, 0, "bad.example.org.", &idx), BW_FA_DROP);
	assert_int_equal(idx, 0);
	assert_int_equal(match_w(db, 0, "bad.test.", &idx), BW_FA_DROP);
	assert_int_equal(idx, 2);
	bw_filter_free(db);
}

/* A zone-scoped rule applies at and below its zone only. */
static void test_zone(void **state)
{
	struct bw_filter_rule r[3];
	struct bw_filter_db *db;
	unsigned idx = 99;

	(void)state;
	r[0] = rule(1, true, "example", BW_FA_DROP, "example.com.");
	r[1] = rule(2, false, "^www\\.", BW_FA_REFUSE, "com.");
	r[2] = rule(3, false, "zz", BW_FA_LOG_ONLY, ".");
	db = compile(r, 3, 1);
	assert_int_equal(match(db, "example.com."), BW_FA_DROP);
	assert_int_equal(match(db, "a.b.example.com."), BW_FA_DROP);
	assert_int_equal(match(db, "notexample.com."), -1);
	assert_int_equal(match(db, "a.notexample.com."), -1);
	/* The zone's octets end the name but do not start a label. */
	assert_int_equal(match(db, "a\\007example.com."), -1);
	assert_int_equal(match(db, "a.\\007example.com."), -1);
	assert_int_equal(match(db, "example.com.net."), -1);
	assert_int_equal(match(db, "example.org."), -1);
	/* The zone rule loses; a weaker one outside it still applies. */
	assert_int_equal(match_w(db, 0, "www.example.org.", &idx), -1);
	assert_int_equal(match_w(db, 0, "www.notexample.com.", &idx),
	                 BW_FA_REFUSE);
	assert_int_equal(idx, 1);
	assert_int_equal(match(db, "www.example.com."), BW_FA_DROP);
	assert_int_equal(match(db, "www.com."), BW_FA_REFUSE);
	assert_int_equal(match(db, "zz.anything."), BW_FA_LOG_ONLY);
	bw_filter_free(db);
}

static void test_name_text(void **state)
{
	uint8_t n[BW_NAME_MAXLEN];
	size_t len;

	(void)state;
	check_text((const uint8_t *)"", 1, ".");
	wire("www.example.com.", n, &len);
	check_text(n, len, "www.example.com.");
	memcpy(n, "\003a.b\001\\\000", 7);
	check_text(n, 7, "a\\.b.\\\\.");
	memcpy(n, "\006 \000\177\377!~\000", 8);
	check_text(n, 8, "\\032\\000\\127\\255!~.");
	memcpy(n, "\002\041\176\001\040\000", 6);
	check_text(n, 6, "!~.\\032.");
	/* The longest: 63 + 63 + 63 + 61 octets of \255, 1004 characters. */
	char want[TEXT_MAX] = "";
	size_t at = 0;
	static const uint8_t labels[] = { 63, 63, 63, 61 };
	for (size_t i = 0; i < sizeof(labels); i++) {
		n[at++] = labels[i];
		memset(n + at, 0xff, labels[i]);
		at += labels[i];
		for (unsigned k = 0; k < labels[i]; k++)
			strcat(want, "\\255");
		strcat(want, ".");
	}
	n[at++] = 0;
	assert_int_equal(at, BW_NAME_MAXLEN);
	assert_int_equal(strlen(want), TEXT_MAX - 1);
	check_text(n, at, want);
}

/* Names the parser would have refused end the text early, within
 * bounds. */
static void test_name_text_malformed(void **state)
{
	uint8_t n[600];
	char want[TEXT_MAX] = "";

	(void)state;
	check_text((const uint8_t *)"\005ab", 3, ".");
	check_text((const uint8_t *)"\002ab\005cd", 6, "ab.");
	check_text((const uint8_t *)"\002ab\100cd\000", 7, "ab.");
	/* Labels of 63 \255 beyond 255 octets: three fit. */
	memset(n, 0, sizeof(n));
	for (size_t at = 0; at + 64 <= sizeof(n); at += 64) {
		n[at] = 63;
		memset(n + at + 1, 0xff, 63);
	}
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned k = 0; k < 63; k++)
			strcat(want, "\\255");
		strcat(want, ".");
	}
	check_text(n, sizeof(n), want);
	/* One label of 253 octets would need 1013 characters. */
	n[0] = 253;
	n[254] = 0;
	check_text(n, 255, ".");
}

/* Patterns see the escapes. */
static void test_match_escaped(void **state)
{
	struct bw_filter_rule r[2];
	struct bw_filter_db *db;

	(void)state;
	r[0] = rule(1, false, "^a\\\\\\.b\\.", BW_FA_DROP, NULL);
	r[1] = rule(2, false, "\\\\[0-9]{3}", BW_FA_LOG_ONLY, NULL);
	db = compile(r, 2, 1);
	assert_int_equal(match(db, "a\\.b.example."), BW_FA_DROP);
	assert_int_equal(match(db, "a.b.example."), -1);
	assert_int_equal(match(db, "x\\007y.example."), BW_FA_LOG_ONLY);
	assert_int_equal(match(db, "xy.example."), -1);
	bw_filter_free(db);
}

static void test_workers(void **state)
{
	struct bw_filter_rule r = rule(1, false, "^bad", BW_FA_REFUSE, NULL);
	struct bw_filter_db *db;

	(void)state;
	db = compile(&r, 1, 4);
	for (unsigned w = 0; w < 4; w++) {
		assert_int_equal(match_w(db, w, "bad.example.", NULL), BW_FA_REFUSE);
		assert_int_equal(match_w(db, w, "good.example.", NULL), -1);
	}
	assert_int_equal(match_w(db, 4, "bad.example.", NULL), -1);
	bw_filter_free(db);
}

struct thread_arg {
	const struct bw_filter_db *db;
	unsigned worker;
	unsigned wrong;
};

static void *match_loop(void *p)
{
	struct thread_arg *a = p;
	uint8_t bad[BW_NAME_MAXLEN], good[BW_NAME_MAXLEN];
	int blen = bw_name_from_text(bad, "x1.bad.example.", 15, NULL);
	int glen = bw_name_from_text(good, "x1.good.example.", 16, NULL);
	struct bw_filter_hit hit;

	for (unsigned i = 0; i < 20000; i++) {
		if (!bw_filter_match(a->db, a->worker, bad, (size_t)blen, &hit) ||
		    hit.action != BW_FA_DROP || hit.index != 1)
			a->wrong++;
		if (bw_filter_match(a->db, a->worker, good, (size_t)glen, &hit))
			a->wrong++;
	}
	return NULL;
}

/* Two threads at once, each with its own scratch space. */
static void test_threads(void **state)
{
	struct bw_filter_rule r[2];
	struct bw_filter_db *db;
	struct thread_arg a[2];
	pthread_t t[2];

	(void)state;
	r[0] = rule(1, false, "^[a-z]+[0-9]\\.bad\\.", BW_FA_LOG_ONLY, NULL);
	r[1] = rule(2, true, ".bad.", BW_FA_DROP, NULL);
	db = compile(r, 2, 2);
	for (unsigned i = 0; i < 2; i++) {
		a[i] = (struct thread_arg){ .db = db, .worker = i };
		assert_int_equal(pthread_create(&t[i], NULL, match_loop, &a[i]), 0);
	}
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].wrong, 0);
	}
	bw_filter_free(db);
}

/* 256 rules compile, in order; 257 do not. */
static void test_many(void **state)
{
	struct bw_filter_rule *r = calloc(BW_FILTER_RULES_MAX + 1, sizeof(*r));
	struct bw_filter_db *db;
	char pat[32], lit[32];
	size_t n = 0;
	unsigned idx = 0;

	(void)state;
	assert_non_null(r);
	for (unsigned i = 0; i <= BW_FILTER_RULES_MAX; i++) {
		snprintf(pat, sizeof(pat), "^l%u\\.x%u", i, i % 7);
		snprintf(lit, sizeof(lit), "l%u.x%u", i, i % 7);
		r[i] = rule(1000 + i, i % 3 == 0, i % 3 == 0 ? lit : pat,
		            (enum bw_filter_action)(i % BW_FA_MAX), NULL);
	}
	compile_err(r, BW_FILTER_RULES_MAX + 1, "too many filter rules");
	db = compile(r, BW_FILTER_RULES_MAX, 3);
	const struct bw_filter_rule *got = bw_filter_rules(db, &n);
	assert_int_equal(n, BW_FILTER_RULES_MAX);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i].id, r[i].id);
		assert_string_equal(got[i].pattern, r[i].pattern);
		assert_int_equal(got[i].literal, r[i].literal);
		assert_int_equal(got[i].action, r[i].action);
	}
	assert_int_equal(match_w(db, 2, "l200.x4.", &idx), 200 % BW_FA_MAX);
	assert_int_equal(idx, 200);
	assert_int_equal(match_w(db, 1, "l255.x3.", &idx), 255 % BW_FA_MAX);
	assert_int_equal(idx, 255);
	assert_int_equal(match(db, "l256.x4."), -1);
	bw_filter_free(db);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_literal_regex),
		cmocka_unit_test(test_anchors),
		cmocka_unit_test(test_caseless),
		cmocka_unit_test(test_strongest),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_name_text),
		cmocka_unit_test(test_name_text_malformed),
		cmocka_unit_test(test_match_escaped),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
