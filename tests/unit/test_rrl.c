/*  bulwark — unit tests: response-rate limiting (BIND's rate-limit) and
 *  prefix matching.  Time is a fake millisecond clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "bulwark/flood.h"
#include "rrl.h"

#define T0 1000000ull         /* The fake clock starts here (ms). */
#define NAME_A 0x1111111111111111ull
#define NAME_B 0x2222222222222222ull
#define QT_A 1
#define QT_AAAA 28

struct fx {
	struct bw_rrl *r;
	struct bw_rrl_conf c;
	unsigned workers;
};

static int setup(void **state)
{
	static struct fx f;

	f.r = bw_rrl_new(1024);
	assert_non_null(f.r);
	bw_rrl_conf_default(&f.c);
	f.c.enabled = true;
	f.c.slip = 0;
	f.workers = 1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	bw_rrl_free(f->r);
	return 0;
}

/* Source address from text: 4 octets for IPv4, 16 for IPv6. */
static bool addr_of(const char *ip, uint8_t *out)
{
	bool v6 = strchr(ip, ':') != NULL;

	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, ip, out), 1);
	return v6;
}

static enum bw_rrl_verdict ask(struct fx *f, const char *ip, enum bw_rrl_class cls,
                               uint16_t qtype, uint64_t name, uint64_t t)
{
	uint8_t a[16];
	struct bw_rrl_key k = { .addr = a, .cls = cls, .qtype = qtype,
	                        .name_hash = name };

	k.v6 = addr_of(ip, a);
	return bw_rrl_account(f->r, &f->c, &k, f->workers, t);
}

/* A positive answer for NAME_A/A from \a ip. */
static enum bw_rrl_verdict pos(struct fx *f, const char *ip, uint64_t t)
{
	return ask(f, ip, BW_RRL_RESPONSE, QT_A, NAME_A, t);
}

/* Asks \a n times at \a t; returns how many were answered. */
static unsigned oks(struct fx *f, const char *ip, enum bw_rrl_class cls,
                    uint16_t qtype, uint64_t name, uint64_t t, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += ask(f, ip, cls, qtype, name, t) == BW_RRL_OK;
	return ok;
}

static unsigned pos_oks(struct fx *f, const char *ip, uint64_t t, unsigned n)
{
	return oks(f, ip, BW_RRL_RESPONSE, QT_A, NAME_A, t, n);
}

/* One query every \a step ms from \a from to \a to (inclusive). */
static void flood(struct fx *f, const char *ip, uint64_t from, uint64_t to,
                  uint64_t step)
{
	for (uint64_t t = from; t <= to; t += step)
		pos(f, ip, t);
}

static void test_defaults(void **state)
{
	struct bw_rrl_conf c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	bw_rrl_conf_default(&c);
	assert_false(c.enabled);
	for (int i = 0; i < BW_RRL_CLASSES; i++)
		assert_int_equal(c.rate[i], 0);
	assert_int_equal(c.window, 15);
	assert_int_equal(c.slip, 2);
	assert_int_equal(c.ipv4_prefix, 24);
	assert_int_equal(c.ipv6_prefix, 56);
	assert_int_equal(c.qps_scale, 0);
	assert_false(c.log_only);
	assert_int_equal(c.table_size, 20000);
	assert_int_equal(c.nexempt, 0);
	assert_string_equal(bw_rrl_class_names[BW_RRL_RESPONSE], "responses");
	assert_string_equal(bw_rrl_class_names[BW_RRL_NXDOMAIN], "nxdomains");
	assert_string_equal(bw_rrl_class_names[BW_RRL_REFERRAL], "referrals");
	assert_string_equal(bw_rrl_class_names[BW_RRL_NODATA], "nodata");
	assert_string_equal(bw_rrl_class_names[BW_RRL_ERROR], "errors");
	assert_string_equal(bw_rrl_class_names[BW_RRL_ALL], "all");
}

/* rate 10, one worker: ten in a burst, one per 100 ms after, at most ten
 * banked; a limited response is debited too (BIND), so it is paid back
 * before the next answer. */
static void test_tokens(void **state)
{
	struct fx *f = *state;

	f->c.rate[BW_RRL_RESPONSE] = 10;
	assert_int_equal(pos_oks(f, "192.0.2.1", T0, 10), 10);
	assert_int_equal(pos(f, "192.0.2.1", T0), BW_RRL_DROP);
	/* Clients that stopped at ten: one more 100 ms later, not 99. */
	assert_int_equal(pos_oks(f, "198.51.100.1", T0, 10), 10);
	assert_int_equal(pos(f, "198.51.100.1", T0 + 100), BW_RRL_OK);
	assert_int_equal(pos(f, "198.51.100.1", T0 + 100), BW_RRL_DROP);
	assert_int_equal(pos_oks(f, "198.51.101.1", T0, 10), 10);
	assert_int_equal(pos(f, "198.51.101.1", T0 + 99), BW_RRL_DROP);
	/* The first owes 1.0: at +100 ms it is back to 0, still limited
	 * (and owes 1.0 again); at +300 ms it has 1.0... */
	assert_int_equal(pos(f, "192.0.2.1", T0 + 100), BW_RRL_DROP);
	assert_int_equal(pos(f, "192.0.2.1", T0 + 300), BW_RRL_OK);
	assert_int_equal(pos(f, "192.0.2.1", T0 + 300), BW_RRL_DROP);
	/* ...a second and the debt later, ten; five seconds later (within
	 * the window), still ten: at most a second's worth is banked. */
	assert_int_equal(pos_oks(f, "192.0.2.1", T0 + 1400, 11), 10);
	assert_int_equal(pos_oks(f, "192.0.2.1", T0 + 6400, 20), 10);
	/* Credit by the millisecond, nothing lost to rounding: a drained
	 * client asking every 100 ms is always answered. */
	assert_int_equal(pos_oks(f, "203.0.113.1", T0, 10), 10);
	for (uint64_t t = T0 + 100; t <= T0 + 10000; t += 100)
		assert_int_equal(pos(f, "203.0.113.1", t), BW_RRL_OK);
	assert_int_equal(pos(f, "203.0.113.1", T0 + 10099), BW_RRL_DROP);
}

/* rate 5 over 2 workers: 2.5/s each, kept in thousandths. */
static void test_worker_share(void **state)
{
	struct fx *f = *state;
	static const uint64_t at[] = { 200, 600, 1000, 1400, 1800 };

	f->c.rate[BW_RRL_RESPONSE] = 5;
	f->workers = 2;
	assert_int_equal(pos_oks(f, "192.0.2.1", T0, 2), 2);  /* 0.5 left */
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(pos(f, "192.0.2.1", T0 + at[i]), BW_RRL_OK);
	/* Five in two seconds; 200 ms more give only 0.5. */
	assert_int_equal(pos(f, "192.0.2.1", T0 + 2000), BW_RRL_DROP);
	/* A burst is what one worker's second holds. */
	assert_int_equal(pos_oks(f, "192.0.9.2", T0, 3), 2);
	f->workers = 1;
	assert_int_equal(pos_oks(f, "198.51.100.1", T0, 6), 5);
	f->workers = 3;
	assert_int_equal(pos_oks(f, "203.0.113.1", T0, 3), 1);
	/* Under one per second per worker, a full entry still holds one
	 * response (else none could ever be answered): 0.5/s here. */
	f->workers = 10;
	assert_int_equal(pos_oks(f, "192.0.10.1", T0, 3), 1);
	assert_int_equal(pos(f, "192.0.10.1", T0 + 3999), BW_RRL_DROP);
	assert_int_equal(pos(f, "192.0.10.1", T0 + 8000), BW_RRL_OK);
	/* workers 0 counts as 1. */
	f->workers = 0;
	assert_int_equal(pos_oks(f, "198.51.200.1", T0, 6), 5);
}

/* BIND's numbers: the debt stops at -window * rate, so a client limited
 * for a long time is limited for as long as one limited for a short
 * time; once it stops it is answered again only after the window (not
 * within a second: rate * window of debt takes window seconds to earn
 * back), when an entry unused for longer than the window starts over. */
static void test_window_and_debt(void **state)
{
	struct fx *f = *state;
	const uint64_t end = T0 + 400000;

	f->c.rate[BW_RRL_RESPONSE] = 10;
	/* 100 qps for 20 s and for 300 s, ending at the same time. */
	flood(f, "198.51.100.1", end - 300000, end, 10);
	flood(f, "192.0.2.1", end - 20000, end, 10);
	/* Then one query every 2 s: +20 - 1 each time from -150. */
	for (uint64_t k = 1; k <= 7; k++) {
		assert_int_equal(pos(f, "192.0.2.1", end + 2000 * k), BW_RRL_DROP);
		assert_int_equal(pos(f, "198.51.100.1", end + 2000 * k), BW_RRL_DROP);
	}
	assert_int_equal(pos(f, "192.0.2.1", end + 16000), BW_RRL_OK);
	assert_int_equal(pos(f, "198.51.100.1", end + 16000), BW_RRL_OK);

	/* Silent after a flood: at exactly the window the debt is paid
	 * (balance 0, this response limited); one ms later a fresh start. */
	const uint64_t e2 = end + 100000;
	flood(f, "203.0.113.1", e2 - 10000, e2, 10);
	flood(f, "203.0.113.2", e2 - 10000, e2, 10);  /* /24: same entry */
	flood(f, "192.0.2.200", e2 - 10000, e2 - 1, 10);
	flood(f, "192.0.3.1", e2 - 10000, e2, 10);
	assert_int_equal(pos(f, "203.0.113.9", e2 + 15000), BW_RRL_DROP);
	assert_int_equal(pos_oks(f, "192.0.3.1", e2 + 15001, 11), 10);
	assert_int_equal(pos(f, "192.0.3.1", e2 + 15001), BW_RRL_DROP);
	/* And 14.9 s is well inside the debt. */
	assert_int_equal(pos(f, "192.0.2.200", e2 + 14900), BW_RRL_DROP);
}

/* Which limited responses slip: the first, then every slip'th. */
static void check_slip(struct fx *f, unsigned slip, const char *ip, const char *want)
{
	char got[16] = { 0 };

	f->c.slip = slip;
	assert_int_equal(pos(f, ip, T0), BW_RRL_OK);
	for (size_t i = 0; i < strlen(want); i++) {
		enum bw_rrl_verdict v = pos(f, ip, T0);
		got[i] = v == BW_RRL_SLIP ? 'S' : v == BW_RRL_DROP ? 'D' : 'O';
	}
	assert_string_equal(got, want);
}

static void test_slip(void **state)
{
	struct fx *f = *state;

	f->c.rate[BW_RRL_RESPONSE] = 1;
	check_slip(f, 0, "192.0.2.1", "DDDDDDDDD");
	check_slip(f, 1, "192.0.3.1", "SSSSSSSSS");
	check_slip(f, 2, "192.0.4.1", "SDSDSDSDS");
	check_slip(f, 3, "192.0.5.1", "SDDSDDSDD");
	check_slip(f, 10, "192.0.6.1", "SDDDDDDDDDS");
	/* Slip 3 after "SD": a fresh start (idle past the window) counts
	 * from the beginning again. */
	f->c.slip = 3;
	assert_int_equal(pos(f, "192.0.7.1", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "192.0.7.1", T0), BW_RRL_SLIP);
	assert_int_equal(pos(f, "192.0.7.1", T0), BW_RRL_DROP);
	assert_int_equal(pos(f, "192.0.7.1", T0 + 16000), BW_RRL_OK);
	assert_int_equal(pos(f, "192.0.7.1", T0 + 16000), BW_RRL_SLIP);
}

/* Each class has its own limit and entries; a class at 0 is not limited. */
static void test_classes(void **state)
{
	struct fx *f = *state;
	const char *ip = "192.0.2.1";

	f->c.rate[BW_RRL_RESPONSE] = 10;
	f->c.rate[BW_RRL_NXDOMAIN] = 2;
	assert_int_equal(oks(f, ip, BW_RRL_NXDOMAIN, QT_A, NAME_A, T0, 5), 2);
	assert_int_equal(pos_oks(f, ip, T0, 11), 10);
	assert_int_equal(oks(f, ip, BW_RRL_NODATA, QT_A, NAME_A, T0, 100), 100);
	assert_int_equal(oks(f, ip, BW_RRL_REFERRAL, QT_A, NAME_A, T0, 100), 100);
	assert_int_equal(oks(f, ip, BW_RRL_ERROR, QT_A, NAME_A, T0, 100), 100);
	/* Out of range: counted as an error. */
	f->c.rate[BW_RRL_ERROR] = 1;
	assert_int_equal(oks(f, ip, BW_RRL_ALL, QT_A, NAME_A, T0, 3), 1);
	assert_int_equal(oks(f, ip, BW_RRL_ERROR, QT_A, NAME_A, T0, 3), 0);
}

/* NXDOMAINs, NODATAs and referrals count by name, whatever the qtype;
 * errors count by prefix only; positive answers by name and qtype. */
static void test_keys(void **state)
{
	struct fx *f = *state;
	const char *ip = "192.0.2.1";

	f->c.rate[BW_RRL_RESPONSE] = 2;
	f->c.rate[BW_RRL_NXDOMAIN] = 2;
	f->c.rate[BW_RRL_NODATA] = 2;
	f->c.rate[BW_RRL_REFERRAL] = 2;
	f->c.rate[BW_RRL_ERROR] = 2;
	for (int cls = BW_RRL_NXDOMAIN; cls <= BW_RRL_NODATA; cls++) {
		assert_int_equal(oks(f, ip, cls, QT_A, NAME_A, T0, 1), 1);
		assert_int_equal(oks(f, ip, cls, QT_AAAA, NAME_A, T0, 2), 1);
		assert_int_equal(oks(f, ip, cls, QT_A, NAME_B, T0, 3), 2);
	}
	assert_int_equal(oks(f, ip, BW_RRL_ERROR, QT_A, NAME_A, T0, 1), 1);
	assert_int_equal(oks(f, ip, BW_RRL_ERROR, QT_AAAA, NAME_B, T0, 2), 1);
	/* Positive answers: another qtype or name is another key. */
	assert_int_equal(oks(f, ip, BW_RRL_RESPONSE, QT_A, NAME_A, T0, 3), 2);
	assert_int_equal(oks(f, ip, BW_RRL_RESPONSE, QT_AAAA, NAME_A, T0, 3), 2);
	assert_int_equal(oks(f, ip, BW_RRL_RESPONSE, QT_A, NAME_B, T0, 3), 2);
}

static void test_prefixes(void **state)
{
	struct fx *f = *state;

	f->c.rate[BW_RRL_RESPONSE] = 1;
	/* /24 */
	assert_int_equal(pos(f, "192.0.2.1", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "192.0.2.200", T0), BW_RRL_DROP);
	assert_int_equal(pos(f, "192.0.3.1", T0), BW_RRL_OK);
	/* /56 */
	assert_int_equal(pos(f, "2001:db8:0:100::1", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "2001:db8:0:1ff:ffff::1", T0), BW_RRL_DROP);
	assert_int_equal(pos(f, "2001:db8:0:200::1", T0), BW_RRL_OK);
	/* The same octets in the other family are another client. */
	assert_int_equal(pos(f, "c000:201::", T0), BW_RRL_OK);
	/* Odd lengths: /23 and /57. */
	f->c.ipv4_prefix = 23;
	f->c.ipv6_prefix = 57;
	assert_int_equal(pos(f, "198.51.100.1", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "198.51.101.255", T0), BW_RRL_DROP);
	assert_int_equal(pos(f, "198.51.102.1", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "2001:db8:1:100::", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "2001:db8:1:17f:ffff::", T0), BW_RRL_DROP);
	assert_int_equal(pos(f, "2001:db8:1:180::", T0), BW_RRL_OK);
	/* /32 and /128: one address each; /0: everybody. */
	f->c.ipv4_prefix = 32;
	f->c.ipv6_prefix = 128;
	assert_int_equal(pos(f, "203.0.113.1", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "203.0.113.2", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "203.0.113.2", T0), BW_RRL_DROP);
	assert_int_equal(pos(f, "2001:db8:2::1", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "2001:db8:2::2", T0), BW_RRL_OK);
	f->c.ipv4_prefix = 0;
	f->c.ipv6_prefix = 0;
	assert_int_equal(pos(f, "10.0.0.1", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "172.16.0.1", T0), BW_RRL_DROP);
	assert_int_equal(pos(f, "fe80::1", T0), BW_RRL_OK);
	assert_int_equal(pos(f, "2001:db8:ffff::1", T0), BW_RRL_DROP);
}

/* all-per-second: one more entry per prefix, debited by every response,
 * limited ones included; over it a response is dropped, never slipped. */
static void test_all_per_second(void **state)
{
	struct fx *f = *state;

	f->c.slip = 2;
	f->c.rate[BW_RRL_RESPONSE] = 100;
	f->c.rate[BW_RRL_ALL] = 5;
	for (uint64_t n = 1; n <= 5; n++)
		assert_int_equal(ask(f, "192.0.2.1", BW_RRL_RESPONSE, QT_A, n, T0),
		                 BW_RRL_OK);
	for (uint64_t n = 6; n <= 10; n++)
		assert_int_equal(ask(f, "192.0.2.9", BW_RRL_RESPONSE, QT_A, n, T0),
		                 BW_RRL_DROP);
	/* A class without a limit is still under all-per-second. */
	assert_int_equal(ask(f, "192.0.2.1", BW_RRL_NXDOMAIN, QT_A, 1, T0),
	                 BW_RRL_DROP);
	assert_int_equal(oks(f, "192.0.3.1", BW_RRL_NXDOMAIN, QT_A, 1, T0, 6), 5);

	/* Class limited first: that response slips and still debits all. */
	f->c.rate[BW_RRL_RESPONSE] = 1;
	f->c.rate[BW_RRL_ALL] = 3;
	const char *ip = "198.51.100.1";
	assert_int_equal(ask(f, ip, BW_RRL_RESPONSE, QT_A, 1, T0), BW_RRL_OK);
	assert_int_equal(ask(f, ip, BW_RRL_RESPONSE, QT_A, 1, T0), BW_RRL_SLIP);
	assert_int_equal(ask(f, ip, BW_RRL_RESPONSE, QT_A, 2, T0), BW_RRL_OK);
	assert_int_equal(ask(f, ip, BW_RRL_RESPONSE, QT_A, 3, T0), BW_RRL_DROP);
	/* Both limited: all-per-second's verdict, a drop, wins. */
	f->c.slip = 1;
	f->c.rate[BW_RRL_ALL] = 2;
	ip = "198.51.101.1";
	assert_int_equal(ask(f, ip, BW_RRL_RESPONSE, QT_A, 1, T0), BW_RRL_OK);
	assert_int_equal(ask(f, ip, BW_RRL_RESPONSE, QT_A, 1, T0), BW_RRL_SLIP);
	assert_int_equal(ask(f, ip, BW_RRL_RESPONSE, QT_A, 1, T0), BW_RRL_DROP);
	/* All-per-second alone. */
	f->c.rate[BW_RRL_RESPONSE] = 0;
	f->c.rate[BW_RRL_ALL] = 3;
	assert_int_equal(oks(f, "203.0.113.1", BW_RRL_RESPONSE, QT_A, 1, T0, 4), 3);
}

/* qps-scale: above qps-scale / workers queries per second on this worker,
 * the rates are multiplied by (qps-scale / workers) / measured. */
static void test_qps_scale(void **state)
{
	struct fx *f = *state;
	const uint64_t s = 5000000;  /* A whole second. */

	f->c.rate[BW_RRL_RESPONSE] = 10;
	f->c.qps_scale = 100;
	/* 50 queries in a second: under the scale, nothing changes. */
	assert_int_equal(oks(f, "10.0.0.1", BW_RRL_ERROR, 0, 0, s, 50), 50);
	assert_int_equal(pos_oks(f, "192.0.2.1", s + 1000, 11), 10);
	/* 200 in the next: half the rate in the second after. */
	assert_int_equal(oks(f, "10.0.0.1", BW_RRL_ERROR, 0, 0, s + 2000, 200), 200);
	assert_int_equal(pos_oks(f, "198.51.100.1", s + 3000, 11), 5);
	/* After a quiet second the rates are whole again. */
	assert_int_equal(pos_oks(f, "203.0.113.1", s + 5000, 11), 10);
	assert_int_equal(oks(f, "10.0.0.1", BW_RRL_ERROR, 0, 0, s + 6000, 200), 200);
	assert_int_equal(pos_oks(f, "203.0.114.1", s + 8000, 11), 10);

	/* Two workers: 200 each is 400 against 100 (a quarter), of 20/2. */
	bw_rrl_clear(f->r);
	f->workers = 2;
	f->c.rate[BW_RRL_RESPONSE] = 20;
	f->c.qps_scale = 100;
	assert_int_equal(oks(f, "10.0.0.1", BW_RRL_ERROR, 0, 0, s, 200), 200);
	assert_int_equal(pos_oks(f, "192.0.2.1", s + 1000, 11), 2);
	/* A running second above the last one counts at once. */
	bw_rrl_clear(f->r);
	f->workers = 1;
	f->c.rate[BW_RRL_RESPONSE] = 10;
	assert_int_equal(oks(f, "10.0.0.1", BW_RRL_ERROR, 0, 0, s, 400), 400);
	assert_int_equal(pos_oks(f, "192.0.2.1", s + 1, 11), 2);
}

/* Slip is scaled too (BIND: when above 2, at least 2). */
static void test_qps_scale_slip(void **state)
{
	struct fx *f = *state;

	f->c.rate[BW_RRL_RESPONSE] = 1;
	f->c.slip = 8;
	f->c.qps_scale = 100;
	assert_int_equal(oks(f, "10.0.0.1", BW_RRL_ERROR, 0, 0, T0, 400), 400);
	check_slip(f, 8, "192.0.2.1", "SDSDS");
}

/* A full table replaces the least recently used entry of a bucket: a key
 * in use stays, a forgotten key starts over with a full balance; the
 * table never grows. */
static void test_lru(void **state)
{
	struct fx *f = *state;
	struct bw_rrl *small = bw_rrl_new(64);
	struct bw_rrl *keep = f->r;

	assert_non_null(small);
	f->r = small;
	f->c.rate[BW_RRL_RESPONSE] = 1;
	f->c.window = 3600;
	size_t bytes = bw_rrl_bytes(small);
	/* Deep in debt: limited for an hour unless forgotten. */
	assert_int_equal(oks(f, "192.0.2.1", BW_RRL_RESPONSE, QT_A, 1, T0, 10), 1);
	assert_int_equal(oks(f, "192.0.2.1", BW_RRL_RESPONSE, QT_A, 2, T0, 10), 1);
	for (uint64_t i = 0; i < 5000; i++) {
		uint64_t t = T0 + 1 + i;
		assert_int_equal(ask(f, "192.0.2.1", BW_RRL_RESPONSE, QT_A, 1000 + i, t),
		                 BW_RRL_OK);
		assert_int_equal(ask(f, "192.0.2.1", BW_RRL_RESPONSE, QT_A, 1, t),
		                 BW_RRL_DROP);
	}
	assert_int_equal(ask(f, "192.0.2.1", BW_RRL_RESPONSE, QT_A, 2, T0 + 6000),
	                 BW_RRL_OK);
	assert_int_equal(ask(f, "192.0.2.1", BW_RRL_RESPONSE, QT_A, 1, T0 + 6000),
	                 BW_RRL_DROP);
	assert_int_equal(bw_rrl_entries(small), 64);
	assert_int_equal(bw_rrl_bytes(small), bytes);
	f->r = keep;
	bw_rrl_free(small);
}

/* Entry times are 32-bit ms: crossing 2^31 ms after the first call moves
 * the epoch, with no credit gained or lost. */
static void test_clock(void **state)
{
	struct fx *f = *state;
	const uint64_t e = 77;  /* First call. */
	const uint64_t t = e + (1ull << 31);

	f->c.rate[BW_RRL_RESPONSE] = 10;
	assert_int_equal(pos(f, "10.0.0.1", e), BW_RRL_OK);
	assert_int_equal(pos_oks(f, "192.0.2.1", t - 100, 11), 10);
	assert_int_equal(pos(f, "192.0.2.1", t + 100), BW_RRL_OK);
	assert_int_equal(pos(f, "192.0.2.1", t + 100), BW_RRL_DROP);
	/* Backwards: no credit, no harm. */
	assert_int_equal(pos(f, "192.0.2.1", t - 5000), BW_RRL_DROP);
	assert_int_equal(pos(f, "192.0.2.1", t + 300), BW_RRL_DROP);
	assert_int_equal(pos(f, "192.0.2.1", t + 500), BW_RRL_OK);
	/* Far forward (past 2^32 ms): a fresh start. */
	assert_int_equal(pos_oks(f, "192.0.2.1", t + (1ull << 33), 11), 10);
	assert_int_equal(pos(f, "192.0.2.1", t + (1ull << 33) + 100), BW_RRL_DROP);
	assert_int_equal(pos(f, "192.0.2.1", t + (1ull << 33) + 300), BW_RRL_OK);
	/* Clearing forgets. */
	bw_rrl_clear(f->r);
	assert_int_equal(pos_oks(f, "192.0.2.1", t + (1ull << 33) + 300, 11), 10);
}

static void test_disabled(void **state)
{
	struct fx *f = *state;

	f->c.rate[BW_RRL_RESPONSE] = 1;
	f->c.enabled = false;
	assert_int_equal(pos_oks(f, "192.0.2.1", T0, 100), 100);
}

static void test_sizes(void **state)
{
	static const unsigned in[][2] = {
		{ 0, 64 }, { 1, 64 }, { 64, 64 }, { 65, 128 }, { 128, 128 },
		{ 1000, 1024 }, { 20000, 32768 }, { 32768, 32768 },
		{ 32769, 65536 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct bw_rrl *r = bw_rrl_new(in[i][0]);
		assert_non_null(r);
		assert_int_equal(bw_rrl_entries(r), in[i][1]);
		/* 16 octets an entry, one 64-octet line for the header. */
		assert_int_equal(bw_rrl_bytes(r), (size_t)in[i][1] * 16 + 64);
		assert_int_equal((uintptr_t)r % 64, 0);
		bw_rrl_free(r);
	}
	assert_null(bw_rrl_new((1u << 31) + 1));
	bw_rrl_free(NULL);
}

static struct bw_prefix pfx(const char *ip, uint8_t len)
{
	struct bw_prefix p = { .len = len };

	p.v6 = addr_of(ip, p.addr);
	return p;
}

static bool in_list(const struct bw_prefix *l, size_t n, const char *ip)
{
	uint8_t a[16];
	bool v6 = addr_of(ip, a);

	return bw_prefix_match(l, n, a, v6);
}

static void test_prefix_match(void **state)
{
	struct bw_prefix l[4];

	(void)state;
	l[0] = pfx("192.0.2.0", 24);
	assert_true(in_list(l, 1, "192.0.2.0"));
	assert_true(in_list(l, 1, "192.0.2.255"));
	assert_false(in_list(l, 1, "192.0.3.0"));
	assert_false(in_list(l, 0, "192.0.2.1"));
	/* Family mismatch: the same leading octets do not match. */
	assert_false(in_list(l, 1, "c000:201::"));
	/* /0 is every address of its family only. */
	l[0] = pfx("0.0.0.0", 0);
	l[1] = pfx("::", 0);
	assert_true(in_list(l, 1, "255.255.255.255"));
	assert_false(in_list(l, 1, "::1"));
	assert_true(in_list(&l[1], 1, "2001:db8::1"));
	assert_false(in_list(&l[1], 1, "10.0.0.1"));
	/* /32 and /128 exactly; lengths beyond the family's count as it. */
	l[0] = pfx("198.51.100.7", 32);
	l[1] = pfx("2001:db8::7", 128);
	l[2] = pfx("203.0.113.5", 200);
	assert_true(in_list(l, 3, "198.51.100.7"));
	assert_false(in_list(l, 3, "198.51.100.6"));
	assert_true(in_list(l, 3, "2001:db8::7"));
	assert_false(in_list(l, 3, "2001:db8::6"));
	assert_true(in_list(l, 3, "203.0.113.5"));
	assert_false(in_list(l, 3, "203.0.113.4"));
	/* Odd lengths: /23, /57; bits past the length are ignored. */
	l[0] = pfx("192.0.3.77", 23);
	l[1] = pfx("2001:db8:0:17f::1", 57);
	assert_true(in_list(l, 2, "192.0.2.0"));
	assert_true(in_list(l, 2, "192.0.3.255"));
	assert_false(in_list(l, 2, "192.0.4.0"));
	assert_false(in_list(l, 2, "192.0.1.255"));
	assert_true(in_list(l, 2, "2001:db8:0:100::"));
	assert_true(in_list(l, 2, "2001:db8:0:17f:ffff:ffff:ffff:ffff"));
	assert_false(in_list(l, 2, "2001:db8:0:180::"));
	assert_false(in_list(l, 2, "2001:db8:0:ff::"));
	/* The last of several. */
	l[3] = pfx("10.1.0.0", 16);
	assert_true(in_list(l, 4, "10.1.200.3"));
	assert_false(in_list(l, 3, "10.1.200.3"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		T(test_tokens),
		T(test_worker_share),
		T(test_window_and_debt),
		T(test_slip),
		T(test_classes),
		T(test_keys),
		T(test_prefixes),
		T(test_all_per_second),
		T(test_qps_scale),
		T(test_qps_scale_slip),
		T(test_lru),
		T(test_clock),
		T(test_disabled),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_prefix_match),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
