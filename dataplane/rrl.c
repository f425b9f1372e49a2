/*  bulwark — response-rate limiting (see rrl.h).
 *
 *  A bucket is one cache line of four 16-octet entries.  An entry is a
 *  tag (the key hash with its low four bits holding the slip counter; 0
 *  when free), the balance in thousandths of a response and the time of
 *  last use in milliseconds since r->epoch.  Credit is counted as the
 *  difference of floor(rate * t / 1000) at the two times, so that while
 *  the rate stays the same rounding loses at most one thousandth in all,
 *  however often a client asks (rounding each call's credit would starve
 *  rates of a few per second shared by many workers).
 */
#include <stdlib.h>
#include <string.h>

#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "rrl.h"

#define WAYS        4
#define SLIP_BITS   0xfull        /* Low bits of a tag: slip counter. */
#define SLIP_MAX    15u           /* What SLIP_BITS can count to. */
#define MILLI       1000          /* Thousandths in a response. */
#define RATE_MAX    1000000000u   /* Thousandths per second: 10^6/s. */
#define DEBT_MAX    2000000000ll  /* Most debt an int32 balance holds. */
#define WINDOW_MAX  3600u
#define ENTRIES_MAX (1u << 31)
#define TIME_REBASE (1ull << 31)  /* Entry times are kept below this... */
#define TIME_KEEP   (1ull << 30)  /* ...by moving the epoch to now - this. */

/* Seeds that keep the key spaces apart. */
#define SEED_V4     0x243f6a8885a308d3ull
#define SEED_V6     0x13198a2e03707344ull
#define SEED_KEY    0xa4093822299f31d0ull

const char *const bw_rrl_class_names[BW_RRL_CLASSES] = {
	[BW_RRL_RESPONSE] = "responses", [BW_RRL_NXDOMAIN] = "nxdomains",
	[BW_RRL_REFERRAL] = "referrals", [BW_RRL_NODATA] = "nodata",
	[BW_RRL_ERROR] = "errors", [BW_RRL_ALL] = "all",
};

struct bw_rrl_entry {
	uint64_t tag;             /* Key hash & ~SLIP_BITS | slip counter. */
	int32_t milli;            /* Balance, thousandths of a response. */
	uint32_t t;               /* Last use, ms since bw_rrl.epoch. */
};

struct bw_rrl_bucket {
	struct bw_rrl_entry e[WAYS];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct bw_rrl_bucket) == 64, "a bucket is a cache line");

struct bw_rrl {
	uint32_t mask;            /* Buckets - 1. */
	bool started;             /* epoch is set. */
	uint64_t epoch;           /* now_ms that entry time 0 stands for. */
	uint64_t qps_start;       /* Start of the current qps second. */
	uint32_t qps_count;       /* Calls in it so far. */
	uint32_t qps_last;        /* Calls in the second before. */
	struct bw_rrl_bucket b[];
};

/* One class's limit for this call, per worker. */
struct limit {
	int64_t rate;             /* Thousandths of a response per second. */
	int64_t full;             /* Most credit: a second's, at least one
	                             response (rates below one per second
	                             per worker could never answer). */
	int64_t floor;            /* Most debt (negative). */
	uint32_t window_ms;
	unsigned slip;
};

/* qps-scale's factor num / den, 1 / 1 when off or not reached. */
struct scale {
	uint64_t num, den;
};

void bw_rrl_conf_default(struct bw_rrl_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->window = 15;
	c->slip = 2;
	c->ipv4_prefix = 24;
	c->ipv6_prefix = 56;
	c->table_size = 20000;
}

/* ---- Prefixes. ---- */

static bool prefix_covers(const uint8_t *pfx, unsigned len, const uint8_t *addr,
                          unsigned bits)
{
	if (len > bits)
		len = bits;
	if (memcmp(pfx, addr, len / 8) != 0)
		return false;
	if (len % 8 == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - len % 8));
	return ((pfx[len / 8] ^ addr[len / 8]) & mask) == 0;
}

bool bw_prefix_match(const struct bw_prefix *list, size_t n,
                     const uint8_t *addr, bool v6)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].v6 == v6 &&
		    prefix_covers(list[i].addr, list[i].len, addr, v6 ? 128 : 32))
			return true;
	return false;
}

/* ---- The table. ---- */

struct bw_rrl *bw_rrl_new(unsigned entries)
{
	size_t nb = 64 / WAYS;

	if (entries > ENTRIES_MAX)
		return NULL;
	while (nb * WAYS < entries)
		nb *= 2;
	struct bw_rrl *r = aligned_alloc(64, sizeof(*r) + nb * sizeof(r->b[0]));
	if (r == NULL)
		return NULL;
	r->mask = (uint32_t)(nb - 1);
	bw_rrl_clear(r);
	return r;
}

void bw_rrl_free(struct bw_rrl *r)
{
	free(r);
}

size_t bw_rrl_bytes(const struct bw_rrl *r)
{
	return sizeof(*r) + ((size_t)r->mask + 1) * sizeof(r->b[0]);
}

unsigned bw_rrl_entries(const struct bw_rrl *r)
{
	return (r->mask + 1) * WAYS;
}

void bw_rrl_clear(struct bw_rrl *r)
{
	memset(r->b, 0, ((size_t)r->mask + 1) * sizeof(r->b[0]));
	r->started = false;
	r->epoch = 0;
	r->qps_start = 0;
	r->qps_count = 0;
	r->qps_last = 0;
}

/* Moves the epoch \a shift ms forward, once every 2^30 ms (12 days): one
 * pass over the table.  Times that would fall before the new epoch are
 * far older than any window, so they all become 0. */
static void rebase(struct bw_rrl *r, uint64_t shift)
{
	for (size_t i = 0; i <= r->mask; i++)
		for (int w = 0; w < WAYS; w++) {
			struct bw_rrl_entry *e = &r->b[i].e[w];
			e->t = e->t > shift ? (uint32_t)(e->t - shift) : 0;
		}
	r->epoch += shift;
}

/* \a now in entry time (ms since the epoch, below TIME_REBASE). */
static uint32_t entry_time(struct bw_rrl *r, uint64_t now)
{
	if (!r->started) {
		r->epoch = now;
		r->started = true;
	}
	if (now < r->epoch)
		return 0;  /* A clock behind the first call: as the first call. */
	uint64_t rel = now - r->epoch;
	if (rel >= TIME_REBASE) {
		rebase(r, rel - TIME_KEEP);
		rel = TIME_KEEP;
	}
	return (uint32_t)rel;
}

/* The entry for key hash \a h; a new one (replacing a free entry or the
 * least recently used) starts with \a full and slip counter 0. */
static struct bw_rrl_entry *entry_get(struct bw_rrl *r, uint64_t h, uint32_t now,
                                      int64_t full)
{
	struct bw_rrl_bucket *b = &r->b[(h >> 32) & r->mask];
	uint64_t tag = h & ~SLIP_BITS;
	struct bw_rrl_entry *victim = &b->e[0];
	uint64_t oldest = UINT64_MAX;

	for (int i = 0; i < WAYS; i++) {
		struct bw_rrl_entry *e = &b->e[i];
		if ((e->tag & ~SLIP_BITS) == tag)
			return e;
		uint64_t rank = e->tag == 0 ? 0 : (uint64_t)e->t + 1;
		if (rank < oldest) {
			oldest = rank;
			victim = e;
		}
	}
	victim->tag = tag;
	victim->milli = (int32_t)full;
	victim->t = now;
	return victim;
}

/* ---- Keys. ---- */

static uint64_t prefix_mask(unsigned bits)
{
	return bits == 0 ? 0 : ~0ull << (64 - bits);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)bw_get32(p) << 32 | bw_get32(p + 4);
}

/* Hash of the source address masked to the prefix length. */
static uint64_t prefix_hash(const struct bw_rrl_conf *c, const uint8_t *addr, bool v6)
{
	if (!v6) {
		unsigned len = c->ipv4_prefix < 32 ? c->ipv4_prefix : 32;
		uint64_t a = (uint64_t)bw_get32(addr) << 32;
		return bw_hash_mix((a & prefix_mask(len)) ^ SEED_V4);
	}
	unsigned len = c->ipv6_prefix < 128 ? c->ipv6_prefix : 128;
	uint64_t hi = get64(addr) & prefix_mask(len < 64 ? len : 64);
	uint64_t lo = get64(addr + 8) & prefix_mask(len > 64 ? len - 64 : 0);
	return bw_hash_mix(bw_hash_mix(hi ^ SEED_V6) ^ lo);
}

/* What tells responses from one prefix apart within class \a cls: as
 * BIND's make_key(), the qtype for positive answers only, no name for
 * errors (nor for all-per-second). */
static uint64_t class_part(enum bw_rrl_class cls, uint16_t qtype, uint64_t name)
{
	uint64_t tag = (((uint64_t)cls + 1) << 56) ^ SEED_KEY;

	if (cls == BW_RRL_RESPONSE)
		tag ^= (uint64_t)qtype << 32;
	if (cls == BW_RRL_ERROR || cls == BW_RRL_ALL)
		name = 0;
	return bw_hash_mix(name ^ tag);
}

static uint64_t key_hash(uint64_t prefix, uint64_t part)
{
	uint64_t h = bw_hash_mix(prefix ^ part);
	return (h & ~SLIP_BITS) == 0 ? SLIP_BITS + 1 : h;  /* 0 is free. */
}

/* ---- Accounting. ---- */

/* Calls in the last whole second, or so far in this one when more (as
 * BIND keeps the larger of its running and last estimates). */
static uint64_t qps_measure(struct bw_rrl *r, uint64_t now)
{
	if (now >= r->qps_start + 1000) {
		uint64_t gone = now - r->qps_start;
		r->qps_last = gone < 2000 ? r->qps_count : 0;
		r->qps_count = 0;
		r->qps_start = now - gone % 1000;
	}
	r->qps_count++;
	return r->qps_count > r->qps_last ? r->qps_count : r->qps_last;
}

/* BIND's qps-scale: rates times qps-scale / measured, here per worker. */
static struct scale scale_get(struct bw_rrl *r, const struct bw_rrl_conf *c,
                              unsigned workers, uint64_t now)
{
	struct scale s = { 1, 1 };

	if (c->qps_scale == 0)
		return s;
	uint64_t seen = qps_measure(r, now) * workers;
	if (seen > c->qps_scale) {
		s.num = c->qps_scale;
		s.den = seen;
	}
	return s;
}

/* rate (per second, server-wide) as thousandths per second per worker,
 * times the qps-scale factor. */
static uint64_t worker_rate(unsigned rate, unsigned workers, struct scale s)
{
	uint64_t m = (uint64_t)rate * MILLI / workers;

	if (m > RATE_MAX)
		m = RATE_MAX;
	if (s.num < s.den) {
		uint64_t least = MILLI / workers;
		m = m * s.num / s.den;
		if (m < least)
			m = least;  /* BIND: a scaled rate is at least 1/s. */
	}
	return m > 0 ? m : 1;
}

static struct limit limit_get(const struct bw_rrl_conf *c, unsigned rate,
                              unsigned workers, struct scale s)
{
	struct limit l;
	unsigned window = c->window == 0 ? 1 : c->window;

	if (window > WINDOW_MAX)
		window = WINDOW_MAX;
	l.rate = (int64_t)worker_rate(rate, workers, s);
	l.full = l.rate > MILLI ? l.rate : MILLI;
	l.floor = -(int64_t)window * l.rate;
	if (l.floor < -DEBT_MAX)
		l.floor = -DEBT_MAX;
	l.window_ms = window * 1000;
	l.slip = c->slip < SLIP_MAX ? c->slip : SLIP_MAX;
	if (l.slip > 2 && s.num < s.den) {
		l.slip = (unsigned)(l.slip * s.num / s.den);
		if (l.slip < 2)
			l.slip = 2;  /* BIND scales slip too, to no less than 2. */
	}
	return l;
}

/* Credit earned from floor(rate * t / 1000) at the two times. */
static int64_t accrued(int64_t rate, uint32_t t)
{
	return (int64_t)((uint64_t)rate * t / 1000);
}

static void set_slip(struct bw_rrl_entry *e, unsigned n)
{
	e->tag = (e->tag & ~SLIP_BITS) | n;
}

/* Credits \a e up to \a now: full after more than a window unused, else
 * by the time elapsed, never above full (a second's worth). */
static void credit(struct bw_rrl_entry *e, const struct limit *l, uint32_t now)
{
	if (now <= e->t)
		return;  /* Same millisecond, or the clock stepped back. */
	int64_t b = e->milli + accrued(l->rate, now) - accrued(l->rate, e->t);
	if (now - e->t > l->window_ms || b > l->full) {
		b = l->full;
		set_slip(e, 0);
	}
	e->milli = (int32_t)b;
	e->t = now;
}

/* Debits one response from \a e (BIND's debit_rrl_entry()). */
static enum bw_rrl_verdict debit(struct bw_rrl_entry *e, const struct limit *l,
                                 uint32_t now)
{
	credit(e, l, now);
	int64_t b = e->milli - MILLI;
	if (b >= 0) {
		e->milli = (int32_t)b;
		return BW_RRL_OK;
	}
	e->milli = (int32_t)(b < l->floor ? l->floor : b);
	if (l->slip == 0)
		return BW_RRL_DROP;
	/* The first limited response slips, then every slip'th. */
	unsigned n = (unsigned)(e->tag & SLIP_BITS);
	set_slip(e, (n + 1) % l->slip);
	return n == 0 ? BW_RRL_SLIP : BW_RRL_DROP;
}

static enum bw_rrl_verdict account(struct bw_rrl *r, uint64_t h,
                                   const struct limit *l, uint32_t now)
{
	return debit(entry_get(r, h, now, l->full), l, now);
}

enum bw_rrl_verdict bw_rrl_account(struct bw_rrl *r, const struct bw_rrl_conf *c,
                                   const struct bw_rrl_key *k, unsigned workers,
                                   uint64_t now_ms)
{
	enum bw_rrl_class cls = k->cls < BW_RRL_ALL ? k->cls : BW_RRL_ERROR;
	enum bw_rrl_verdict v = BW_RRL_OK;

	if (!c->enabled)
		return BW_RRL_OK;
	if (workers == 0)
		workers = 1;
	uint32_t now = entry_time(r, now_ms);
	struct scale s = scale_get(r, c, workers, now_ms);
	uint64_t pfx = prefix_hash(c, k->addr, k->v6);
	if (c->rate[cls] != 0) {
		struct limit l = limit_get(c, c->rate[cls], workers, s);
		uint64_t h = key_hash(pfx, class_part(cls, k->qtype, k->name_hash));
		v = account(r, h, &l, now);
	}
	if (c->rate[BW_RRL_ALL] != 0) {
		/* Every response debits the prefix's all-per-second entry too;
		 * over it, the response is dropped (BIND never slips these). */
		struct limit l = limit_get(c, c->rate[BW_RRL_ALL], workers, s);
		l.slip = 0;
		uint64_t h = key_hash(pfx, class_part(BW_RRL_ALL, 0, 0));
		enum bw_rrl_verdict va = account(r, h, &l, now);
		if (va != BW_RRL_OK)
			v = va;
	}
	return v;
}
