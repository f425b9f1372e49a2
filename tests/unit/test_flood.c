/*  Unit tests: the flood mitigation fast path — COOKIE options answered by
 *  the engine (RFC 7873/9018), the small responses that stand in for an
 *  answer, rate-limiting identities, and bw_flood_answer(): filters,
 *  parents under attack, response-rate limiting, exemptions, sketches.
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
#include "bulwark/flood.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "bulwark/zoneset.h"
#include "cookie.h"
#include "filter.h"
#include "sketch.h"
#include "util.h"

static const char zone_text[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@ 86400 IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
	"@ NS ns1\n"
	"ns1 A 192.0.2.1\n"
	"www A 192.0.2.80\n"
	"a.b.ent A 192.0.2.7\n"
	"sub NS ns.sub\n"
	"ns.sub A 192.0.2.53\n";

static const uint8_t client_ip[4] = { 198, 51, 100, 7 };
static const uint8_t client_cookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

struct fixture {
	struct bw_table *table;
	struct bw_zoneset *zs;
	struct bw_answer_conf conf;
	struct bw_cookie_keys keys;
	struct bw_answer_client cl;
	struct bw_flood_policy pol;
	struct bw_flood_worker *w;
	struct bw_flood_req rq;
	uint8_t q[512];
	size_t qlen;
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
	assert_int_equal(bw_cookie_secret_parse("e5e973e5a6b2a43f48e7dc849e37bfcf",
	                                        &F->keys.cur), 0);
	F->cl = (struct bw_answer_client){ .addr = client_ip, .keys = &F->keys,
	                                   .now = 1700000000 };
	F->w = bw_flood_worker_new(0, 1024);
	assert_non_null(F->w);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bw_flood_worker_free(F->w);
	bw_zoneset_free(F->zs);
	bw_table_close(F->table);
	free(F);
	return 0;
}

/* Resets the policy, the worker and the request before each test. */
static int reset(void **state)
{
	(void)state;
	bw_flood_worker_free(F->w);
	F->w = bw_flood_worker_new(0, 1024);
	bw_flood_policy_default(&F->pol);
	F->pol.keys = F->keys;
	F->pol.generation = 1;
	F->rq = (struct bw_flood_req){ .addr = client_ip, .now_ms = 1000000,
	                               .now_s = 1700000000 };
	return 0;
}

/* A query with EDNS and, when clen > 0, a COOKIE option of clen octets
 * (the client cookie, then \a server). */
static void query(const char *name, uint16_t type, size_t clen,
                  const uint8_t *server)
{
	struct tu_q o = { .id = 7, .edns = true, .bufsize = 1232 };

	F->qlen = tu_query(F->q, name, type, &o);
	if (clen == 0)
		return;
	uint8_t *p = F->q + F->qlen;
	bw_put16(F->q + F->qlen - 2, (uint16_t)(4 + clen));  /* OPT rdlen. */
	bw_put16(p, BW_EDNS_COOKIE);
	bw_put16(p + 2, (uint16_t)clen);
	memcpy(p + 4, client_cookie, clen < 8 ? clen : 8);
	if (clen > 8)
		memcpy(p + 12, server, clen - 8);
	F->qlen += 4 + clen;
}

static size_t answer_from(unsigned flags)
{
	size_t len = bw_answer_from(F->zs, &F->conf, &F->cl, F->q, F->qlen, F->r,
	                            sizeof(F->r), flags, &F->info);
	if (len > 0)
		tu_parse(F->r, len, &F->resp);
	return len;
}

static size_t flood(void)
{
	size_t len = bw_flood_answer(F->w, &F->pol, F->zs, &F->conf, &F->rq, F->q,
	                             F->qlen, F->r, 1232, 0, &F->info);
	if (len > 0)
		tu_parse(F->r, len, &F->resp);
	return len;
}

/* The COOKIE option of the last response: its length, and its octets. */
static size_t resp_cookie(uint8_t out[40])
{
	int i = tu_find(&F->resp, 2, BW_TYPE_OPT);
	const struct tu_rr *opt;

	assert_true(i >= 0);
	opt = &F->resp.rr[i];
	for (size_t at = 0; at + 4 <= opt->rdlen;) {
		uint16_t code = bw_get16(opt->rdata + at), len = bw_get16(opt->rdata + at + 2);
		if (code == BW_EDNS_COOKIE) {
			assert_true(len <= 40);
			memcpy(out, opt->rdata + at + 4, len);
			return len;
		}
		at += 4u + len;
	}
	return 0;
}

static uint64_t hash_of(const char *name)
{
	uint8_t wire[BW_NAME_MAXLEN];

	tu_name(wire, name);
	return bw_hash_name(wire);
}

/* ---- The engine's COOKIE handling. ---- */

static void test_cookie_learned(void **state)
{
	uint8_t c[40];

	(void)state;
	query("www.example.com.", BW_TYPE_A, 8, NULL);
	assert_true(answer_from(0) > 0);
	assert_int_equal(F->info.cookie, BW_COOKIE_CLIENT);
	assert_int_equal(F->resp.an, 1);
	assert_int_equal(resp_cookie(c), 24);
	assert_memory_equal(c, client_cookie, 8);
	/* The server cookie is RFC 9018's, for this client at this time. */
	assert_int_equal(bw_cookie_check(&F->keys, c, c + 8, 16, client_ip, 4,
	                                 F->cl.now, NULL), BW_COOKIE_VALID);
	/* Sent back, it is valid; one octet off, it is not, and the answer
	 * is the same with a fresh cookie. */
	query("www.example.com.", BW_TYPE_A, 24, c + 8);
	assert_true(answer_from(0) > 0);
	assert_int_equal(F->info.cookie, BW_COOKIE_VALID);
	c[20] ^= 1;
	query("www.example.com.", BW_TYPE_A, 24, c + 8);
	assert_true(answer_from(0) > 0);
	assert_int_equal(F->info.cookie, BW_COOKIE_BAD);
	assert_int_equal(F->resp.an, 1);
	assert_int_equal(resp_cookie(c), 24);
}

static void test_cookie_malformed(void **state)
{
	static const uint8_t server[40];
	static const size_t bad[] = { 1, 7, 9, 15, 41 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		query("www.example.com.", BW_TYPE_A, bad[i], server);
		assert_true(answer_from(0) > 0);
		assert_int_equal(F->resp.rcode, BW_RCODE_FORMERR);
		assert_int_equal(F->info.cookie, BW_COOKIE_MALFORMED);
	}
	/* 8 + 8 .. 8 + 32 are well formed (a server cookie not of ours). */
	query("www.example.com.", BW_TYPE_A, 40, server);
	assert_true(answer_from(0) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_NOERROR);
	assert_int_equal(F->info.cookie, BW_COOKIE_BAD);
}

static void test_cookie_off(void **state)
{
	uint8_t c[40];

	(void)state;
	F->cl.keys = NULL;  /* answer-cookie no: the option is ignored. */
	query("www.example.com.", BW_TYPE_A, 8, NULL);
	assert_true(answer_from(0) > 0);
	assert_int_equal(F->info.cookie, BW_COOKIE_NONE);
	assert_int_equal(resp_cookie(c), 0);
	query("www.example.com.", BW_TYPE_A, 5, client_cookie);
	assert_true(answer_from(0) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_NOERROR);
	F->cl.keys = &F->keys;
}

static void test_forced_responses(void **state)
{
	uint8_t c[40];

	(void)state;
	query("www.example.com.", BW_TYPE_A, 8, NULL);
	assert_true(answer_from(BW_ANSWER_SLIP) > 0);
	assert_true(F->resp.flags & BW_FLAG_TC);
	assert_int_equal(F->resp.an + F->resp.ns, 0);
	assert_int_equal(F->resp.qd, 1);
	assert_int_equal(resp_cookie(c), 24);
	assert_true(answer_from(BW_ANSWER_BADCOOKIE) > 0);
	assert_int_equal(F->resp.rcode, 23);
	assert_int_equal(F->resp.an, 0);
	assert_int_equal(resp_cookie(c), 24);
	assert_true(answer_from(BW_ANSWER_REFUSE) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_REFUSED);
	/* No cookie, no BADCOOKIE: the slip is TC=1. */
	query("www.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(answer_from(BW_ANSWER_BADCOOKIE) > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_NOERROR);
	assert_true(F->resp.flags & BW_FLAG_TC);
}

static void test_identities(void **state)
{
	(void)state;
	query("www.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(answer_from(0) > 0);
	assert_int_equal(F->info.kind, BW_ANS_POSITIVE);
	assert_true(F->info.name_hash == hash_of("www.example.com."));
	/* NXDOMAIN: the closest encloser, the next closer name. */
	query("x.y.Example.COM.", BW_TYPE_A, 0, NULL);
	assert_true(answer_from(0) > 0);
	assert_int_equal(F->info.kind, BW_ANS_NXDOMAIN);
	assert_true(F->info.name_hash == hash_of("example.com."));
	assert_true(F->info.next_hash == hash_of("y.example.com."));
	assert_int_equal(F->info.ce_off, 4);
	assert_int_equal(F->info.ce_len, 13);
	query("q.b.ent.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(answer_from(0) > 0);
	assert_true(F->info.name_hash == hash_of("b.ent.example.com."));
	/* Referral: the delegation point. */
	query("deep.www.sub.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(answer_from(0) > 0);
	assert_int_equal(F->info.kind, BW_ANS_REFERRAL);
	assert_true(F->info.name_hash == hash_of("sub.example.com."));
}

/* ---- bw_flood_answer(). ---- */

static void test_plain_without_policy(void **state)
{
	size_t len;

	(void)state;
	query("www.example.com.", BW_TYPE_A, 8, NULL);
	len = bw_flood_answer(F->w, NULL, F->zs, &F->conf, &F->rq, F->q, F->qlen,
	                      F->r, 1232, 0, &F->info);
	assert_true(len > 0);
	assert_int_equal(F->info.cookie, BW_COOKIE_NONE);
}

static void test_rrl(void **state)
{
	unsigned ok = 0, slip = 0, drop = 0;

	(void)state;
	F->pol.rrl.enabled = true;
	F->pol.rrl.rate[BW_RRL_NXDOMAIN] = 2;
	F->pol.rrl.slip = 2;
	for (int i = 0; i < 10; i++) {
		char name[64];
		snprintf(name, sizeof(name), "r%d.example.com.", i);
		query(name, BW_TYPE_A, 0, NULL);
		if (flood() == 0)
			drop++;
		else if (F->resp.flags & BW_FLAG_TC)
			slip++;
		else
			ok++;
	}
	/* NXDOMAINs of one parent are one response: 2 answered, then every
	 * other one slipped. */
	assert_int_equal(ok, 2);
	assert_int_equal(slip, 4);
	assert_int_equal(drop, 4);
	assert_int_equal(F->w->st.c[BW_FC_RRL_PASS], 2);
	assert_int_equal(F->w->st.c[BW_FC_RRL_SLIP], 4);
	assert_int_equal(F->w->st.c[BW_FC_RRL_DROP], 4);
	assert_true(F->info.mitigated || F->resp.flags & BW_FLAG_TC);
	/* Positive answers have their own limit (none here). */
	query("www.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(flood() > 0);
	assert_int_equal(F->resp.an, 1);
	/* A client cookie turns the slip into BADCOOKIE. */
	query("r0.example.com.", BW_TYPE_A, 8, NULL);
	unsigned bad = 0;
	for (int i = 0; i < 4; i++)
		bad += flood() > 0 && F->resp.rcode == 23;
	assert_int_equal(bad, 2);
	/* Debt builds up to window seconds' worth (BIND): a second later the
	 * parent is still limited; after the window it starts over. */
	F->rq.now_ms += 1000;
	query("r1.example.com.", BW_TYPE_A, 0, NULL);
	assert_false(flood() > 0 && F->resp.rcode == BW_RCODE_NXDOMAIN);
	F->rq.now_ms += 16000;
	query("r1.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(flood() > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_NXDOMAIN);
}

static void test_rrl_exemptions(void **state)
{
	uint8_t c[40];

	(void)state;
	F->pol.rrl.enabled = true;
	F->pol.rrl.rate[BW_RRL_RESPONSE] = 1;
	F->pol.rrl.slip = 0;
	query("www.example.com.", BW_TYPE_A, 8, NULL);
	assert_true(flood() > 0);
	assert_int_equal(resp_cookie(c), 24);
	assert_int_equal(flood(), 0);       /* Over the limit. */
	/* A valid server cookie: exempt. */
	query("www.example.com.", BW_TYPE_A, 24, c + 8);
	for (int i = 0; i < 5; i++)
		assert_true(flood() > 0);
	/* TCP: exempt. */
	query("www.example.com.", BW_TYPE_A, 0, NULL);
	F->rq.tcp = true;
	assert_true(bw_flood_answer(F->w, &F->pol, F->zs, &F->conf, &F->rq, F->q,
	                            F->qlen, F->r, sizeof(F->r), BW_ANSWER_TCP,
	                            &F->info) > 0);
	F->rq.tcp = false;
	assert_int_equal(flood(), 0);
	/* exempt-clients. */
	F->pol.rrl.exempt[0] = (struct bw_prefix){ .addr = { 198, 51, 100 }, .len = 24 };
	F->pol.rrl.nexempt = 1;
	assert_true(flood() > 0);
	assert_int_equal(F->w->st.c[BW_FC_EXEMPT], 7);
	/* log-only: counted, answered. */
	F->pol.rrl.nexempt = 0;
	F->pol.rrl.log_only = true;
	assert_true(flood() > 0);
	assert_int_equal(F->w->st.c[BW_FC_RRL_LOG_ONLY], 1);
}

static void set_attack(const char *parent, enum bw_flood_action action)
{
	uint8_t wire[BW_NAME_MAXLEN];

	tu_name(wire, parent);
	F->pol.nattack = 1;
	F->pol.attack[0].hash = bw_hash_name(wire);
	F->pol.attack[0].name_len = (uint8_t)bw_name_len(wire);
	memcpy(F->pol.attack[0].name, wire, F->pol.attack[0].name_len);
	F->pol.attack_action = action;
	F->pol.generation++;
}

static void test_attack_rate_limit(void **state)
{
	unsigned answered = 0;
	uint8_t c[40];

	(void)state;
	set_attack("example.com.", BW_FLOOD_RATE_LIMIT);
	F->pol.attack_rate = 3;
	for (int i = 0; i < 10; i++) {
		char name[64];
		snprintf(name, sizeof(name), "z%d.example.com.", i);
		query(name, BW_TYPE_A, 0, NULL);
		answered += flood() > 0;
	}
	assert_int_equal(answered, 3);
	assert_int_equal(F->w->st.c[BW_FC_ATTACK_SEEN], 10);
	assert_int_equal(F->w->st.c[BW_FC_ATTACK_DROP], 7);
	/* Existing names under the parent are not touched. */
	query("www.example.com.", BW_TYPE_A, 8, NULL);
	assert_true(flood() > 0);
	assert_int_equal(F->resp.an, 1);
	/* Nor clients with a valid cookie. */
	assert_int_equal(resp_cookie(c), 24);
	query("z99.example.com.", BW_TYPE_A, 24, c + 8);
	assert_true(flood() > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_NXDOMAIN);
	assert_int_equal(F->w->st.c[BW_FC_ATTACK_EXEMPT], 1);
	/* Another parent is not under attack. */
	query("q.b.ent.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(flood() > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_NXDOMAIN);
}

static void test_attack_cookie_and_drop(void **state)
{
	(void)state;
	set_attack("example.com.", BW_FLOOD_REQUIRE_COOKIE);
	query("zz.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(flood() > 0);
	assert_true(F->resp.flags & BW_FLAG_TC);
	assert_int_equal(F->resp.an + F->resp.ns, 0);
	query("zz.example.com.", BW_TYPE_A, 8, NULL);
	assert_true(flood() > 0);
	assert_int_equal(F->resp.rcode, 23);
	set_attack("example.com.", BW_FLOOD_DROP);
	assert_int_equal(flood(), 0);
	assert_true(F->info.mitigated);
	set_attack("example.com.", BW_FLOOD_NONE);
	assert_true(flood() > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_NXDOMAIN);
	assert_int_equal(F->w->st.c[BW_FC_ATTACK_PASS], 1);
}

static void test_filters(void **state)
{
	struct bw_filter_rule rules[3] = {
		{ .id = 1, .pattern = "^bad[0-9]+\\.example\\.com\\.$", .action = BW_FA_DROP },
		{ .id = 2, .literal = true, .pattern = "tc.example", .action = BW_FA_TRUNCATE },
		{ .id = 3, .pattern = "^www\\.", .action = BW_FA_REFUSE },
	};
	struct bw_filter_db *db;
	char err[256];

	(void)state;
	assert_int_equal(bw_filter_compile(rules, 3, 1, &db, err, sizeof(err)), 0);
	F->pol.filters = db;
	query("bad12.example.com.", BW_TYPE_A, 0, NULL);
	assert_int_equal(flood(), 0);
	assert_true(F->info.mitigated);
	query("Bad12.Example.com.", BW_TYPE_A, 0, NULL);
	assert_int_equal(flood(), 0);
	query("x.tc.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(flood() > 0);
	assert_true(F->resp.flags & BW_FLAG_TC);
	query("www.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(flood() > 0);
	assert_int_equal(F->resp.rcode, BW_RCODE_REFUSED);
	query("ns1.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(flood() > 0);
	assert_int_equal(F->resp.an, 1);
	assert_int_equal(F->w->st.c[BW_FC_FILTER_DROP], 2);
	assert_int_equal(F->w->st.c[BW_FC_FILTER_TRUNCATE], 1);
	assert_int_equal(F->w->st.c[BW_FC_FILTER_REFUSE], 1);
	F->pol.filters = NULL;
	bw_filter_free(db);
}

static void test_filter_rate_limit(void **state)
{
	struct bw_filter_rule rule = { .id = 9, .pattern = "example", .action = BW_FA_RATE_LIMIT };
	struct bw_filter_db *db;
	unsigned answered = 0;
	char err[256];

	(void)state;
	assert_int_equal(bw_filter_compile(&rule, 1, 1, &db, err, sizeof(err)), 0);
	F->pol.filters = db;
	F->pol.filter_rate = 4;
	query("www.example.com.", BW_TYPE_A, 0, NULL);
	for (int i = 0; i < 10; i++)
		answered += flood() > 0;
	assert_int_equal(answered, 4);
	F->rq.now_ms += 500;     /* Half a second: two more. */
	for (int i = 0; i < 10; i++)
		answered += flood() > 0;
	assert_int_equal(answered, 6);
	F->pol.filters = NULL;
	bw_filter_free(db);
}

static void test_sketch_fed(void **state)
{
	struct bw_sketch *sk;
	uint8_t parent[BW_NAME_MAXLEN];

	(void)state;
	for (int i = 0; i < 50; i++) {
		char name[64];
		snprintf(name, sizeof(name), "n%d.EXAMPLE.com.", i);
		query(name, BW_TYPE_A, 0, NULL);
		assert_true(flood() > 0);
	}
	query("www.example.com.", BW_TYPE_A, 0, NULL);
	assert_true(flood() > 0);
	sk = &F->w->sk->buf[F->w->sk->cur];
	assert_int_equal(sk->queries, 51);
	assert_int_equal(sk->nxdomain, 50);
	assert_int_equal(sk->nparents, 1);
	tu_name(parent, "example.com.");
	assert_int_equal(sk->parent[0].name_len, 13);
	assert_memory_equal(sk->parent[0].name, parent, 13);
	assert_int_equal(sk->parent[0].count, 50);
	double d = bw_sketch_hll_estimate(sk->parent[0].hll);
	assert_true(d > 40 && d < 60);
	/* One query in BW_SK_SOURCE_SAMPLE reaches the source summary. */
	assert_int_equal(sk->nsources, 1);
	assert_int_equal(sk->source[0].queries, 51 / BW_SK_SOURCE_SAMPLE);
	assert_int_equal(sk->source[0].plen, 24);
	assert_int_equal(sk->source[0].addr[3], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cookie_learned, reset),
		cmocka_unit_test_setup(test_cookie_malformed, reset),
		cmocka_unit_test_setup(test_cookie_off, reset),
		cmocka_unit_test_setup(test_forced_responses, reset),
		cmocka_unit_test_setup(test_identities, reset),
		cmocka_unit_test_setup(test_plain_without_policy, reset),
		cmocka_unit_test_setup(test_rrl, reset),
		cmocka_unit_test_setup(test_rrl_exemptions, reset),
		cmocka_unit_test_setup(test_attack_rate_limit, reset),
		cmocka_unit_test_setup(test_attack_cookie_and_drop, reset),
		cmocka_unit_test_setup(test_filters, reset),
		cmocka_unit_test_setup(test_filter_rate_limit, reset),
		cmocka_unit_test_setup(test_sketch_fed, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
