/*  bulwark — unit tests: SipHash-2-4 and DNS server cookies (RFC 9018).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cookie.h"

/* ---- Helpers. ---- */

/*! Decodes \a n octets of lowercase or uppercase hex; fails the test on
 *  anything else. */
static void unhex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void tohex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static struct bw_cookie_secret secret(const char *s)
{
	struct bw_cookie_secret k;

	unhex(s, k.key, sizeof(k.key));
	return k;
}

/* ---- SipHash-2-4. ---- */

/* The reference vectors (the SipHash paper's vectors.h, vectors_sip64):
 * key 00 01 .. 0f, message 00 01 .. of length i; the output read as a
 * little-endian 64-bit number. */
static const uint64_t sip64[64] = {
	0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a,
	0x85676696d7fb7e2d, 0xcf2794e0277187b7, 0x18765564cd99a68d,
	0xcbc9466e58fee3ce, 0xab0200f58b01d137, 0x93f5f5799a932462,
	0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
	0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee,
	0xa129ca6149be45e5, 0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794,
	0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd, 0xbed65cf21aa2ee98,
	0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
	0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3,
	0x2f2e6163076bcfad, 0xde4daaaca71dc9a5, 0xa6a2506687956571,
	0xad87a3535c49ef28, 0x32d892fad841c342, 0x7127512f72f27cce,
	0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
	0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d,
	0x9abfd8766a33735c, 0x0e3ea96b5304a7d0, 0xad0c42d6fc585992,
	0x187306c89bc215a9, 0xd4a60abcf3792b95, 0xf935451de4f21df2,
	0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
	0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72,
	0xa192d576b245165a, 0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f,
	0x7fa8220ba3b2ecea, 0x245731c13ca42499, 0xb78dbfaf3a8d83bd,
	0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
	0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57,
	0x958a324ceb064572,
};

static void check_sip(size_t len)
{
	uint8_t key[16], msg[64], out[8], want[8];

	for (unsigned i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (unsigned i = 0; i < 8; i++)
		want[i] = (uint8_t)(sip64[len] >> (8 * i));
	bw_siphash24(key, msg, len, out);
	assert_memory_equal(out, want, 8);
}

/* The lengths the brief names: empty, one octet, around one word, and
 * the longest vector. */
static void test_siphash_named(void **state)
{
	(void)state;
	check_sip(0);
	check_sip(1);
	check_sip(7);
	check_sip(8);
	check_sip(15);
	check_sip(63);
}

/* Every vector: each tail length 0..7 at several word counts. */
static void test_siphash_all(void **state)
{
	(void)state;
	for (size_t len = 0; len < 64; len++)
		check_sip(len);
}

/* The message pointer need not be aligned. */
static void test_siphash_unaligned(void **state)
{
	uint8_t key[16], buf[72], out[8], want[8];

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < 64; i++)
		buf[i + 3] = (uint8_t)i;
	for (unsigned i = 0; i < 8; i++)
		want[i] = (uint8_t)(sip64[37] >> (8 * i));
	bw_siphash24(key, buf + 3, 37, out);
	assert_memory_equal(out, want, 8);
}

/* ---- RFC 9018 Appendix A. ---- */

#define SECRET_A "e5e973e5a6b2a43f48e7dc849e37bfcf"
#define SECRET_OLD "dd3bdf9344b678b185a6f5cb60fca715"
#define SECRET_NEW "445536bcd2513298075a5d379663c962"
#define IP_A "c6336464"                            /* 198.51.100.100 */
#define IP_B "cb0071cb"                            /* 203.0.113.203 */
#define IP_6 "20010db80220000159ded0f4876982b8"    /* 2001:db8:220:1:
                                                      59de:d0f4:8769:82b8 */

/*! A server cookie made (or received) in the appendix. */
struct vector {
	const char *name;
	const char *secret;   /*!< The one it was made with. */
	const char *client;   /*!< Client cookie. */
	const char *ip;
	uint32_t at;          /*!< Its timestamp. */
	const char *server;   /*!< The server cookie. */
};

/* The four cookies the server hands out (reserved 0, made by us). */
static const struct vector made[] = {
	{ "A.1", SECRET_A, "2464c4abcf10c957", IP_A, 1559731985,
	  "010000005cf79f111f8130c3eee29480" },
	{ "A.2", SECRET_A, "2464c4abcf10c957", IP_A, 1559734385,
	  "010000005cf7a871d4a564a1442aca77" },
	{ "A.3", SECRET_A, "fc93fc62807ddb86", IP_B, 1559734700,
	  "010000005cf7a9acf73a7810aca2381e" },
	{ "A.4", SECRET_NEW, "22681ab97d52c298", IP_6, 1559741961,
	  "010000005cf7c609a6bb79d16625507a" },
};

/* The cookies the clients send in A.3 (nonzero reserved octets, which
 * the hash covers as received) and A.4 (made with the old secret). */
static const struct vector sent[] = {
	{ "A.3 query", SECRET_A, "fc93fc62807ddb86", IP_B, 1559727985,
	  "01abcdef5cf78f71a314227b6679ebf5" },
	{ "A.4 query", SECRET_OLD, "22681ab97d52c298", IP_6, 1559741817,
	  "010000005cf7c57926556bd0934c72f8" },
};

/*! A vector decoded. */
struct parsed {
	struct bw_cookie_keys keys;   /*!< cur: the vector's secret. */
	uint8_t client[BW_COOKIE_CLIENT_LEN];
	uint8_t ip[16];
	size_t iplen;
	uint8_t server[BW_COOKIE_SERVER_LEN];
};

static struct parsed parse(const struct vector *v)
{
	struct parsed p;

	memset(&p, 0, sizeof(p));
	p.keys.cur = secret(v->secret);
	unhex(v->client, p.client, sizeof(p.client));
	p.iplen = strlen(v->ip) / 2;
	unhex(v->ip, p.ip, p.iplen);
	unhex(v->server, p.server, sizeof(p.server));
	return p;
}

static enum bw_cookie_state check_at(const struct parsed *p, uint32_t now)
{
	return bw_cookie_check(&p->keys, p->client, p->server,
	                       sizeof(p->server), p->ip, p->iplen, now, NULL);
}

/* make() gives the appendix's server cookies. */
static void test_rfc9018_make(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		struct parsed p = parse(&made[i]);
		uint8_t out[BW_COOKIE_SERVER_LEN];
		char h[2 * BW_COOKIE_SERVER_LEN + 1];

		bw_cookie_make(&p.keys.cur, p.client, p.ip, p.iplen, made[i].at,
		               out);
		tohex(out, sizeof(out), h);
		assert_string_equal(h, made[i].server);
	}
}

/* Every cookie of the appendix verifies at its time, and reports it. */
static void check_accepts(const struct vector *v)
{
	struct parsed p = parse(v);
	uint32_t stamp = 0;

	assert_int_equal(bw_cookie_check(&p.keys, p.client, p.server,
	                                 sizeof(p.server), p.ip, p.iplen,
	                                 v->at, &stamp),
	                 BW_COOKIE_VALID);
	assert_int_equal(stamp, v->at);
	assert_int_equal(check_at(&p, v->at), BW_COOKIE_VALID);
}

static void test_rfc9018_check(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		check_accepts(&made[i]);
	for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++)
		check_accepts(&sent[i]);
}

/* A.2: 40 minutes on, the A.1 cookie still verifies (older than
 * BW_COOKIE_REFRESH, so it is the caller's to renew); A.3: the cookie
 * the client sends is 6715 s old, past the hour. */
static void test_rfc9018_scenarios(void **state)
{
	struct parsed a1 = parse(&made[0]), a3 = parse(&sent[0]);
	uint32_t stamp = 0;

	(void)state;
	assert_int_equal(bw_cookie_check(&a1.keys, a1.client, a1.server,
	                                 sizeof(a1.server), a1.ip, a1.iplen,
	                                 made[1].at, &stamp),
	                 BW_COOKIE_VALID);
	assert_int_equal(stamp, made[0].at);
	assert_true(made[1].at - stamp > BW_COOKIE_REFRESH);
	assert_int_equal(check_at(&a3, made[2].at), BW_COOKIE_BAD);
}

/* One bit flipped anywhere in the server cookie, the client cookie or
 * the address: not ours. */
static void check_flips(const struct vector *v)
{
	struct parsed p = parse(v);
	uint8_t *fields[] = { p.server, p.client, p.ip };
	size_t lens[] = { sizeof(p.server), sizeof(p.client), p.iplen };

	for (size_t f = 0; f < 3; f++) {
		for (size_t bit = 0; bit < 8 * lens[f]; bit++) {
			fields[f][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (check_at(&p, v->at) != BW_COOKIE_BAD)
				fail_msg("%s: field %zu bit %zu accepted", v->name, f,
				         bit);
			fields[f][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	assert_int_equal(check_at(&p, v->at), BW_COOKIE_VALID);
}

static void test_rfc9018_flips(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		check_flips(&made[i]);
	for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++)
		check_flips(&sent[i]);
}

/* An hour after the timestamp and five minutes before it, not a second
 * more. */
static void check_window(const struct vector *v)
{
	struct parsed p = parse(v);

	assert_int_equal(check_at(&p, v->at + BW_COOKIE_MAX_AGE), BW_COOKIE_VALID);
	assert_int_equal(check_at(&p, v->at + BW_COOKIE_MAX_AGE + 1),
	                 BW_COOKIE_BAD);
	assert_int_equal(check_at(&p, v->at - BW_COOKIE_MAX_SKEW),
	                 BW_COOKIE_VALID);
	assert_int_equal(check_at(&p, v->at - BW_COOKIE_MAX_SKEW - 1),
	                 BW_COOKIE_BAD);
	assert_int_equal(check_at(&p, v->at + 0x80000000u), BW_COOKIE_BAD);
	assert_int_equal(check_at(&p, v->at - 86400), BW_COOKIE_BAD);
}

static void test_rfc9018_window(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		check_window(&made[i]);
	for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++)
		check_window(&sent[i]);
}

/* A.4 after the rollover: the old cookie verifies with the old secret
 * as prev, and only then. */
static void test_rfc9018_rollover(void **state)
{
	struct parsed p = parse(&sent[1]);
	const struct bw_cookie_secret old = p.keys.cur;

	(void)state;
	p.keys.cur = secret(SECRET_NEW);
	p.keys.prev = old;
	p.keys.has_prev = true;
	assert_int_equal(check_at(&p, made[3].at), BW_COOKIE_VALID);
	p.keys.has_prev = false;
	assert_int_equal(check_at(&p, made[3].at), BW_COOKIE_BAD);
	/* A cookie made with the new secret verifies with either order. */
	struct parsed q = parse(&made[3]);
	q.keys.prev = old;
	q.keys.has_prev = true;
	assert_int_equal(check_at(&q, made[3].at), BW_COOKIE_VALID);
	q.keys.prev = q.keys.cur;
	q.keys.cur = old;
	assert_int_equal(check_at(&q, made[3].at), BW_COOKIE_VALID);
	q.keys.has_prev = false;
	assert_int_equal(check_at(&q, made[3].at), BW_COOKIE_BAD);
}

/* ---- Our own cookies. ---- */

/* The window holds across the 32-bit wrap (RFC 1982 arithmetic). */
static void test_cookie_wrap(void **state)
{
	struct parsed p = parse(&made[0]);
	const uint32_t at[] = { 0xffffff00u, 0xffffffffu, 0, 100, 0x7fffffffu,
	                        0x80000000u };

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		bw_cookie_make(&p.keys.cur, p.client, p.ip, p.iplen, at[i],
		               p.server);
		assert_int_equal(check_at(&p, at[i] + 3600), BW_COOKIE_VALID);
		assert_int_equal(check_at(&p, at[i] + 3601), BW_COOKIE_BAD);
		assert_int_equal(check_at(&p, at[i] - 300), BW_COOKIE_VALID);
		assert_int_equal(check_at(&p, at[i] - 301), BW_COOKIE_BAD);
	}
}

/* Only the 16-octet cookies we make: other lengths the RFC allows, even
 * with our cookie as their prefix, and other versions, are BAD; so is an
 * address of neither 4 nor 16 octets. */
static void test_cookie_lengths(void **state)
{
	struct parsed p = parse(&made[0]);
	uint8_t longer[BW_COOKIE_SERVER_MAX];
	uint32_t stamp = 7;

	(void)state;
	memset(longer, 0, sizeof(longer));
	memcpy(longer, p.server, sizeof(p.server));
	for (size_t n = BW_COOKIE_SERVER_MIN; n <= BW_COOKIE_SERVER_MAX; n++) {
		if (n == BW_COOKIE_SERVER_LEN)
			continue;
		assert_int_equal(bw_cookie_check(&p.keys, p.client, longer, n, p.ip,
		                                 p.iplen, made[0].at, &stamp),
		                 BW_COOKIE_BAD);
	}
	assert_int_equal(stamp, 7);
	assert_int_equal(bw_cookie_check(&p.keys, p.client, p.server,
	                                 sizeof(p.server), p.ip, 0, made[0].at,
	                                 NULL),
	                 BW_COOKIE_BAD);
	assert_int_equal(bw_cookie_check(&p.keys, p.client, p.server,
	                                 sizeof(p.server), p.ip, 5, made[0].at,
	                                 NULL),
	                 BW_COOKIE_BAD);
	for (unsigned v = 0; v < 256; v++) {
		p.server[0] = (uint8_t)v;
		assert_int_equal(check_at(&p, made[0].at),
		                 v == 1 ? BW_COOKIE_VALID : BW_COOKIE_BAD);
	}
}

/* An IPv4 address is not the same client as the IPv6 address that
 * begins with its octets. */
static void test_cookie_family(void **state)
{
	struct parsed p = parse(&made[0]);

	(void)state;
	memset(p.ip + 4, 0, 12);
	bw_cookie_make(&p.keys.cur, p.client, p.ip, 16, made[0].at, p.server);
	assert_int_equal(bw_cookie_check(&p.keys, p.client, p.server,
	                                 sizeof(p.server), p.ip, 16, made[0].at,
	                                 NULL),
	                 BW_COOKIE_VALID);
	assert_int_equal(check_at(&p, made[0].at), BW_COOKIE_BAD);
}

/* ---- Secrets as text. ---- */

static void test_secret_parse(void **state)
{
	struct bw_cookie_secret s, want = secret(SECRET_A);

	(void)state;
	assert_int_equal(bw_cookie_secret_parse(SECRET_A, &s), 0);
	assert_memory_equal(s.key, want.key, 16);
	assert_int_equal(bw_cookie_secret_parse("E5E973E5A6B2A43F48E7DC849E37BFCF",
	                                        &s),
	                 0);
	assert_memory_equal(s.key, want.key, 16);
	assert_int_equal(bw_cookie_secret_parse("00000000000000000000000000000000",
	                                        &s),
	                 0);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(s.key[i], 0);
}

static void test_secret_parse_errors(void **state)
{
	static const char *const bad[] = {
		"",
		"e5e973e5a6b2a43f48e7dc849e37bfc",     /* 31 digits */
		"e5e973e5a6b2a43f48e7dc849e37bfcf0",   /* 33 */
		"e5e973e5a6b2a43f48e7dc849e37bfcfe5",  /* 34 */
		"e5e973e5a6b2a43f48e7dc849e37bfcg",    /* not hex */
		"g5e973e5a6b2a43f48e7dc849e37bfcf",
		"e5e973e5a6b2a43f 8e7dc849e37bfcf",
		"0xe973e5a6b2a43f48e7dc849e37bfcf",
		"e5e973e5a6b2a43f48e7dc849e37bfc\n",
		"e5e973e5a6b2a43f48e7dc849e37bf-f",
	};
	struct bw_cookie_secret s, keep;

	(void)state;
	memset(&s, 0xab, sizeof(s));
	keep = s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bw_cookie_secret_parse(bad[i], &s) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(&s, &keep, sizeof(s));
	}
	assert_int_equal(bw_cookie_secret_parse(NULL, &s), -1);
}

static void test_secret_text(void **state)
{
	static const char *const texts[] = {
		SECRET_A, SECRET_OLD, SECRET_NEW,
		"00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff",
		"0123456789abcdef0123456789abcdef",
	};
	struct bw_cookie_secret s, back;
	char out[33];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(bw_cookie_secret_parse(texts[i], &s), 0);
		memset(out, 'x', sizeof(out));
		bw_cookie_secret_text(&s, out);
		assert_string_equal(out, texts[i]);
		assert_int_equal(bw_cookie_secret_parse(out, &back), 0);
		assert_memory_equal(&s, &back, sizeof(s));
	}
	/* Uppercase comes back lowercase. */
	assert_int_equal(bw_cookie_secret_parse("ABCDEF0123456789ABCDEF0123456789",
	                                        &s),
	                 0);
	bw_cookie_secret_text(&s, out);
	assert_string_equal(out, "abcdef0123456789abcdef0123456789");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_named),
		cmocka_unit_test(test_siphash_all),
		cmocka_unit_test(test_siphash_unaligned),
		cmocka_unit_test(test_rfc9018_make),
		cmocka_unit_test(test_rfc9018_check),
		cmocka_unit_test(test_rfc9018_scenarios),
		cmocka_unit_test(test_rfc9018_flips),
		cmocka_unit_test(test_rfc9018_window),
		cmocka_unit_test(test_rfc9018_rollover),
		cmocka_unit_test(test_cookie_wrap),
		cmocka_unit_test(test_cookie_lengths),
		cmocka_unit_test(test_cookie_family),
		cmocka_unit_test(test_secret_parse),
		cmocka_unit_test(test_secret_parse_errors),
		cmocka_unit_test(test_secret_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
