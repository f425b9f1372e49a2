/*  bulwark — unit tests: Space-Saving summaries, HyperLogLog, merging and
 *  the seqlock ring of the flood sketches.  Streams come from a fixed-seed
 *  splitmix64, so every run sees the same numbers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sketch.h"

#define ZIPF_ITEMS 5000
#define HEAVY      4                     /* Extra parents at 4% each. */
#define ITEMS      (ZIPF_ITEMS + HEAVY)
#define STREAM     200000
#define HLL_TOL    0.28                  /* 3 standard errors of 1.04/sqrt(128). */

/* ---- Test data. ---- */

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* splitmix64. */
static uint64_t rnd(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ull;
	return mix(*state);
}

static double unit(uint64_t *state)
{
	return (double)(rnd(state) >> 11) * 0x1p-53;
}

static uint64_t phash(uint32_t id)
{
	return mix(id + 1ull);
}

/* Wire name <8 digits>.example. of parent \a id. */
static size_t pname(uint32_t id, uint8_t out[32])
{
	char digits[16];

	snprintf(digits, sizeof(digits), "%08u", (unsigned)id);
	out[0] = 8;
	memcpy(out + 1, digits, 8);
	memcpy(out + 9, "\x07" "example", 9);
	return 18;
}

static void nx(struct bw_sketch *s, uint32_t id, uint64_t label)
{
	uint8_t name[32];
	size_t len = pname(id, name);

	bw_sketch_nxdomain(s, phash(id), name, len, label);
}

/* The parent id of a counter (its hash and its name must agree). */
static uint32_t parent_id(const struct bw_sk_parent *p)
{
	for (uint32_t id = 0; id < ITEMS; id++) {
		if (phash(id) != p->hash)
			continue;
		uint8_t name[32];
		size_t len = pname(id, name);
		assert_int_equal(p->name_len, len);
		assert_memory_equal(p->name, name, len);
		return id;
	}
	fail_msg("counter of an unknown parent");
	return 0;
}

static const struct bw_sk_parent *find_parent(const struct bw_sketch *s,
                                              uint32_t id)
{
	for (unsigned i = 0; i < s->nparents; i++)
		if (s->parent[i].hash == phash(id))
			return &s->parent[i];
	return NULL;
}

/* The counter of \a id; fails the test when there is none. */
static const struct bw_sk_parent *get_parent(const struct bw_sketch *s,
                                             uint32_t id)
{
	static const struct bw_sk_parent none;
	const struct bw_sk_parent *p = find_parent(s, id);

	if (p == NULL)
		fail_msg("parent %u has no counter", (unsigned)id);
	return p != NULL ? p : &none;  /* Not reached when NULL. */
}

static double zipf_cdf[ZIPF_ITEMS];

/* Zipf with exponent 1 over ZIPF_ITEMS items. */
static int setup_zipf(void **state)
{
	double sum = 0;

	(void)state;
	for (unsigned i = 0; i < ZIPF_ITEMS; i++)
		zipf_cdf[i] = sum += 1.0 / (i + 1);
	for (unsigned i = 0; i < ZIPF_ITEMS; i++)
		zipf_cdf[i] /= sum;
	return 0;
}

static uint32_t zipf(uint64_t *seed)
{
	double u = unit(seed);
	unsigned lo = 0, hi = ZIPF_ITEMS - 1;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One event of the mixed stream: a query from src, NXDOMAIN under parent
 * id with a random next-closer label when nx. */
struct ev {
	uint32_t id;
	uint64_t label;
	uint8_t src[4];
	bool nx;
};

static const uint8_t SRC_A[4] = { 198, 51, 100, 0 };   /* 20% of queries */
static const uint8_t SRC_B[4] = { 203, 0, 113, 0 };    /* 10% */

static void ev_next(uint64_t *seed, struct ev *e)
{
	uint64_t r = rnd(seed);
	unsigned u = (unsigned)(r % 100), v = (unsigned)(r >> 8) % 100;

	e->id = u < 4 * HEAVY ? ZIPF_ITEMS + u / 4 : zipf(seed);
	e->label = rnd(seed);
	e->nx = v >= 25;
	if (v % 10 < 2)
		memcpy(e->src, SRC_A, 4);
	else if (v % 10 == 2)
		memcpy(e->src, SRC_B, 4);
	else
		memcpy(e->src, (uint8_t[4]){ 10, (uint8_t)(r >> 32),
		                             (uint8_t)(r >> 40), 0 }, 4);
}

/* Feeds events [from, to) of the stream from \a seed into \a s. */
static void feed(struct bw_sketch *s, uint64_t seed, size_t from, size_t to)
{
	struct ev e;

	for (size_t i = 0; i < to; i++) {
		ev_next(&seed, &e);
		if (i < from)
			continue;
		bw_sketch_query(s, e.src, false, 24, e.nx);
		if (e.nx)
			nx(s, e.id, e.label);
	}
}

/* True NXDOMAINs per parent in events [0, n). */
static void truth(uint64_t seed, size_t n, uint32_t count[ITEMS])
{
	struct ev e;

	memset(count, 0, ITEMS * sizeof(count[0]));
	for (size_t i = 0; i < n; i++) {
		ev_next(&seed, &e);
		count[e.id] += e.nx;
	}
}

/* Every counter within its bounds, every item above N / k present. */
static void check_parents(const struct bw_sketch *s, const uint32_t count[ITEMS],
                          uint64_t n)
{
	for (unsigned i = 0; i < s->nparents; i++) {
		const struct bw_sk_parent *p = &s->parent[i];
		uint32_t t = count[parent_id(p)];
		assert_true(p->count >= t);
		assert_true(p->count - p->err <= t);
	}
	for (uint32_t id = 0; id < ITEMS; id++)
		if (count[id] > n / BW_SK_PARENTS)
			assert_non_null(find_parent(s, id));
}

static uint64_t sum_counts(const struct bw_sketch *s)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < s->nparents; i++)
		sum += s->parent[i].count;
	return sum;
}

/* ---- Space-Saving. ---- */

static void test_parents_zipf(void **state)
{
	static struct bw_sketch s;
	static uint32_t count[ITEMS];
	uint64_t n = 0;

	(void)state;
	bw_sketch_clear(&s);
	feed(&s, 1, 0, STREAM);
	truth(1, STREAM, count);
	for (uint32_t id = 0; id < ITEMS; id++)
		n += count[id];
	assert_int_equal(s.nxdomain, n);
	assert_int_equal(s.queries, STREAM);
	assert_int_equal(s.nparents, BW_SK_PARENTS);
	/* Space-Saving keeps the sum of counts equal to the stream length. */
	assert_int_equal(sum_counts(&s), n);
	check_parents(&s, count, n);
	for (uint32_t id = ZIPF_ITEMS; id < ITEMS; id++)
		assert_non_null(find_parent(&s, id));
}

static void test_parents_dominant(void **state)
{
	static struct bw_sketch s;
	uint64_t seed = 2;
	uint32_t dominant = 0, n = 0;
	const uint32_t target = ITEMS + 1;  /* Not among the random ones. */

	(void)state;
	bw_sketch_clear(&s);
	for (unsigned i = 0; i < 60000; i++, n++) {
		if (rnd(&seed) % 4 == 0) {
			nx(&s, target, rnd(&seed));
			dominant++;
		} else {
			nx(&s, 100000 + (uint32_t)(rnd(&seed) % 10000), rnd(&seed));
		}
	}
	assert_int_equal(sum_counts(&s), n);
	const struct bw_sk_parent *p = get_parent(&s, target);
	assert_true(p->count >= dominant);
	assert_true(p->count - p->err <= dominant);
	assert_true(p->err <= n / BW_SK_PARENTS);
	for (unsigned i = 0; i < s.nparents; i++)
		assert_true(s.parent[i].count <= p->count);
}

/* Reference Space-Saving by linear scans, same ties (first smallest). */
struct ref {
	unsigned n;
	uint64_t hash[BW_SK_PARENTS];
	uint32_t count[BW_SK_PARENTS], err[BW_SK_PARENTS];
};

static void ref_add(struct ref *r, uint64_t hash)
{
	unsigned min = 0;

	for (unsigned i = 0; i < r->n; i++) {
		if (r->hash[i] == hash) {
			r->count[i]++;
			return;
		}
		if (r->count[i] < r->count[min])
			min = i;
	}
	if (r->n < BW_SK_PARENTS) {
		min = r->n++;
		r->count[min] = r->err[min] = 0;
	} else {
		r->err[min] = r->count[min];
	}
	r->hash[min] = hash;
	r->count[min]++;
}

/* Heavy churn through the index (many evictions) matches linear scans. */
static void test_parents_reference(void **state)
{
	static struct bw_sketch s;
	static struct ref r;
	uint64_t seed = 3;

	(void)state;
	bw_sketch_clear(&s);
	memset(&r, 0, sizeof(r));
	for (unsigned i = 0; i < 100000; i++) {
		uint64_t x = rnd(&seed);
		/* Half the events on 40 steady parents, half on 3,000 others. */
		uint32_t id = x & 1 ? (uint32_t)(x >> 8) % 40 : (uint32_t)(x >> 8) % 3000;
		nx(&s, id, x);
		ref_add(&r, phash(id));
	}
	assert_int_equal(s.nparents, r.n);
	for (unsigned i = 0; i < r.n; i++) {
		assert_true(s.parent[i].hash == r.hash[i]);
		assert_int_equal(s.parent[i].count, r.count[i]);
		assert_int_equal(s.parent[i].err, r.err[i]);
	}
}

/* A parent that takes over a counter starts with empty registers. */
static void test_parents_takeover(void **state)
{
	static struct bw_sketch s;

	(void)state;
	bw_sketch_clear(&s);
	for (uint32_t id = 0; id < BW_SK_PARENTS; id++)
		for (unsigned i = 0; i < 1000 + id; i++)
			nx(&s, id, i);
	nx(&s, 999, 1);
	const struct bw_sk_parent *p = get_parent(&s, 999);
	assert_null(find_parent(&s, 0));          /* The smallest went. */
	assert_int_equal(p->err, 1000);
	assert_int_equal(p->count, 1001);
	double e = bw_sketch_hll_estimate(p->hll);
	assert_true(e > 0.9 && e < 1.1);
}

/* ---- HyperLogLog. ---- */

static void check_hll(uint64_t n, bool weak)
{
	static struct bw_sketch s;
	uint64_t seed = 4;

	bw_sketch_clear(&s);
	nx(&s, 7, 0);
	memset(s.parent[0].hll, 0, BW_SK_HLL);
	for (uint64_t i = 0; i < n; i++)
		nx(&s, 7, weak ? i : rnd(&seed));
	double e = bw_sketch_hll_estimate(s.parent[0].hll);
	double tol = n <= 10 ? 1.5 : HLL_TOL * (double)n;
	print_message("hll %s n=%llu estimate %.1f\n", weak ? "sequential" : "random",
	              (unsigned long long)n, e);
	assert_true(e >= (double)n - tol && e <= (double)n + tol);
}

static void test_hll_accuracy(void **state)
{
	static const uint64_t sizes[] = { 0, 10, 100, 1000, 10000, 100000 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_hll(sizes[i], false);
		check_hll(sizes[i], true);   /* Weak hashes are mixed first. */
	}
}

static void test_hll_duplicates(void **state)
{
	static struct bw_sketch s;
	uint8_t once[BW_SK_HLL];
	uint64_t seed = 5;

	(void)state;
	bw_sketch_clear(&s);
	for (unsigned i = 0; i < 1000; i++)
		nx(&s, 1, mix(i));
	memcpy(once, s.parent[0].hll, BW_SK_HLL);
	for (unsigned k = 0; k < 5; k++)
		for (unsigned i = 0; i < 1000; i++)
			nx(&s, 1, mix((unsigned)(rnd(&seed) % 1000)));
	assert_memory_equal(s.parent[0].hll, once, BW_SK_HLL);
	assert_int_equal(s.parent[0].count, 6000);
	double e = bw_sketch_hll_estimate(once);
	assert_true(e > 1000 * (1 - HLL_TOL) && e < 1000 * (1 + HLL_TOL));
	uint8_t empty[BW_SK_HLL] = { 0 };
	assert_true(bw_sketch_hll_estimate(empty) == 0);
}

/* ---- Sources. ---- */

static const struct bw_sk_source *find_source(const struct bw_sketch *s,
                                              const uint8_t *addr, bool v6,
                                              uint8_t plen)
{
	for (unsigned i = 0; i < s->nsources; i++) {
		const struct bw_sk_source *c = &s->source[i];
		if (c->v6 == v6 && c->plen == plen &&
		    memcmp(c->addr, addr, v6 ? 16 : 4) == 0)
			return c;
	}
	return NULL;
}

static const struct bw_sk_source *get_source(const struct bw_sketch *s,
                                             const uint8_t *addr, bool v6,
                                             uint8_t plen)
{
	static const struct bw_sk_source none;
	const struct bw_sk_source *c = find_source(s, addr, v6, plen);

	if (c == NULL)
		fail_msg("source has no counter");
	return c != NULL ? c : &none;  /* Not reached when NULL. */
}

static void test_sources_heavy(void **state)
{
	static struct bw_sketch s;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
	uint64_t seed = 6;
	uint32_t qa = 0, qb = 0, nxa = 0, nxb = 0, nxall = 0;

	(void)state;
	bw_sketch_clear(&s);
	for (unsigned i = 0; i < 100000; i++) {
		uint64_t r = rnd(&seed);
		bool isnx = (r >> 32) % 10 < 3;
		nxall += isnx;
		if (i == 0 || r % 100 < 15) {
			bw_sketch_query(&s, SRC_A, false, 24, isnx);
			qa++;
			nxa += isnx;
		} else if (i == 1 || r % 100 < 25) {
			bw_sketch_query(&s, v6, true, 48, isnx);
			qb++;
			nxb += isnx;
		} else {
			uint8_t a[4] = { 10, (uint8_t)(r >> 8), (uint8_t)(r >> 16), 0 };
			bw_sketch_query(&s, a, false, 24, isnx);
		}
	}
	assert_int_equal(s.queries, 100000);
	assert_int_equal(s.nxdomain, nxall);
	assert_int_equal(s.nsources, BW_SK_SOURCES);
	const struct bw_sk_source *a = get_source(&s, SRC_A, false, 24);
	const struct bw_sk_source *b = get_source(&s, v6, true, 48);
	/* Held from their first query: exact. */
	assert_int_equal(a->err, 0);
	assert_int_equal(a->queries, qa);
	assert_int_equal(a->nxdomain, nxa);
	assert_int_equal(b->err, 0);
	assert_int_equal(b->queries, qb);
	assert_int_equal(b->nxdomain, nxb);
	uint64_t sum = 0;
	for (unsigned i = 0; i < s.nsources; i++) {
		sum += s.source[i].queries;
		assert_true(s.source[i].nxdomain <= s.source[i].queries);
	}
	assert_int_equal(sum, 100000);
}

/* Prefix bytes, family and length make the key; v4 reads 4 octets. */
static void test_sources_keys(void **state)
{
	static struct bw_sketch s;
	uint8_t *v4 = malloc(4);   /* ASan sees an over-read. */
	uint8_t v6[16] = { 10 };

	(void)state;
	assert_non_null(v4);
	memcpy(v4, (uint8_t[4]){ 10, 0, 0, 0 }, 4);
	bw_sketch_clear(&s);
	bw_sketch_query(&s, v4, false, 8, true);
	bw_sketch_query(&s, v4, false, 16, false);
	bw_sketch_query(&s, v6, true, 8, false);
	bw_sketch_query(&s, v4, false, 8, false);
	assert_int_equal(s.nsources, 3);
	assert_int_equal(get_source(&s, v4, false, 8)->queries, 2);
	assert_int_equal(get_source(&s, v4, false, 8)->nxdomain, 1);
	assert_int_equal(get_source(&s, v4, false, 16)->queries, 1);
	assert_int_equal(get_source(&s, v6, true, 8)->queries, 1);
	assert_int_equal(s.queries, 4);
	assert_int_equal(s.nxdomain, 1);
	free(v4);
}

/* ---- Merge. ---- */

static void check_equal(const struct bw_sketch *a, const struct bw_sketch *b)
{
	assert_int_equal(a->queries, b->queries);
	assert_int_equal(a->nxdomain, b->nxdomain);
	assert_int_equal(a->nparents, b->nparents);
	assert_int_equal(a->nsources, b->nsources);
	assert_memory_equal(a->parent, b->parent, a->nparents * sizeof(a->parent[0]));
	assert_memory_equal(a->source, b->source, a->nsources * sizeof(a->source[0]));
}

static void test_merge_halves(void **state)
{
	static struct bw_sketch a, b, whole;
	static uint32_t count[ITEMS];
	uint64_t n = 0;

	(void)state;
	bw_sketch_clear(&a);
	bw_sketch_clear(&b);
	bw_sketch_clear(&whole);
	feed(&a, 7, 0, STREAM / 2);
	feed(&b, 7, STREAM / 2, STREAM);
	feed(&whole, 7, 0, STREAM);
	truth(7, STREAM, count);
	for (uint32_t id = 0; id < ITEMS; id++)
		n += count[id];

	struct bw_sketch *m = &a;
	bool exact[HEAVY];
	for (unsigned h = 0; h < HEAVY; h++)
		exact[h] = get_parent(&a, ZIPF_ITEMS + h)->err == 0 &&
		           get_parent(&b, ZIPF_ITEMS + h)->err == 0;
	bw_sketch_merge(m, &b);

	assert_int_equal(m->queries, whole.queries);
	assert_int_equal(m->nxdomain, whole.nxdomain);
	assert_int_equal(m->nparents, BW_SK_PARENTS);
	check_parents(m, count, n);
	/* The same heavy hitters as one sketch of the whole stream. */
	for (uint32_t id = 0; id < ITEMS; id++)
		if (count[id] > n / BW_SK_PARENTS)
			assert_non_null(find_parent(&whole, id));
	unsigned same_hll = 0;
	for (unsigned h = 0; h < HEAVY; h++) {
		const struct bw_sk_parent *p = get_parent(m, ZIPF_ITEMS + h);
		const struct bw_sk_parent *w = get_parent(&whole, ZIPF_ITEMS + h);
		double e = bw_sketch_hll_estimate(p->hll);
		assert_true(e > count[ZIPF_ITEMS + h] * (1 - HLL_TOL) &&
		            e < count[ZIPF_ITEMS + h] * (1 + HLL_TOL));
		/* Held throughout in both halves: registers are the union's. */
		if (exact[h] && w->err == 0) {
			assert_memory_equal(p->hll, w->hll, BW_SK_HLL);
			same_hll++;
		}
	}
	assert_int_equal(same_hll, HEAVY);
	const struct bw_sk_source *sa = get_source(m, SRC_A, false, 24);
	const struct bw_sk_source *sw = get_source(&whole, SRC_A, false, 24);
	assert_int_equal(sa->queries, sw->queries);
	assert_int_equal(sa->nxdomain, sw->nxdomain);
	assert_non_null(find_source(m, SRC_B, false, 24));
}

static void test_merge_empty(void **state)
{
	static struct bw_sketch a, e;

	(void)state;
	bw_sketch_clear(&a);
	bw_sketch_clear(&e);
	feed(&a, 8, 0, 50000);
	bw_sketch_merge(&e, &a);
	check_equal(&e, &a);
	/* The merged sketch's index works: the same events keep them equal. */
	feed(&a, 9, 0, 20000);
	feed(&e, 9, 0, 20000);
	check_equal(&e, &a);
	/* Merging an empty sketch changes nothing. */
	bw_sketch_clear(&e);
	memcpy(&e, &a, sizeof(e));
	bw_sketch_merge(&e, &(struct bw_sketch){ 0 });
	check_equal(&e, &a);
}

/* Exact unions when neither side is full; a full side's floor otherwise. */
static void test_merge_floor(void **state)
{
	static struct bw_sketch a, b;

	(void)state;
	bw_sketch_clear(&a);
	bw_sketch_clear(&b);
	for (unsigned i = 0; i < 5; i++)
		nx(&a, 1, i);
	for (unsigned i = 0; i < 3; i++) {
		nx(&a, 2, i);
		nx(&b, 2, 100 + i);
	}
	nx(&b, 3, 0);
	bw_sketch_merge(&a, &b);
	assert_int_equal(a.nparents, 3);
	assert_int_equal(get_parent(&a, 1)->count, 5);
	assert_int_equal(get_parent(&a, 2)->count, 6);
	assert_int_equal(get_parent(&a, 3)->count, 1);
	assert_int_equal(get_parent(&a, 2)->err, 0);
	double e = bw_sketch_hll_estimate(get_parent(&a, 2)->hll);
	assert_true(e > 5.5 && e < 6.5);

	/* b full with smallest count 10: a's parent 1 may have had 10 there. */
	bw_sketch_clear(&b);
	for (uint32_t id = 10; id < 10 + BW_SK_PARENTS; id++)
		for (unsigned i = 0; i < id; i++)
			nx(&b, id, i);
	bw_sketch_merge(&a, &b);
	const struct bw_sk_parent *p = get_parent(&a, 1);
	assert_int_equal(p->count, 15);
	assert_int_equal(p->err, 10);
	assert_int_equal(a.nparents, BW_SK_PARENTS);
	/* Parent 3 (1 + 10) lost to the larger ones. */
	assert_null(find_parent(&a, 3));
}

/* ---- Ring. ---- */

static void test_ring_rotation(void **state)
{
	struct bw_sketch_ring *r = malloc(sizeof(*r));
	static struct bw_sketch out, copy, empty;

	(void)state;
	assert_non_null(r);
	bw_sketch_ring_init(r);
	assert_false(bw_sketch_ring_snapshot(r, 0, &out));
	struct bw_sketch *s = bw_sketch_ring_current(r, 10);
	assert_false(bw_sketch_ring_snapshot(r, 0, &out));
	feed(s, 10, 0, 1000);
	assert_ptr_equal(bw_sketch_ring_current(r, 10), s);
	assert_false(bw_sketch_ring_snapshot(r, 10, &out));   /* Still in it. */
	assert_false(bw_sketch_ring_snapshot(r, 9, &out));    /* Never seen. */
	memcpy(&copy, s, sizeof(copy));

	struct bw_sketch *t = bw_sketch_ring_current(r, 11);
	assert_ptr_not_equal(t, s);
	bw_sketch_clear(&empty);
	assert_memory_equal(t, &empty, sizeof(empty));
	assert_true(bw_sketch_ring_snapshot(r, 10, &out));
	assert_memory_equal(&out, &copy, sizeof(out));
	assert_false(bw_sketch_ring_snapshot(r, 11, &out));
	feed(t, 11, 0, 500);
	memcpy(&copy, t, sizeof(copy));

	/* Idle in 12: the buffer of 10 is reused (and emptied) for 13. */
	assert_ptr_equal(bw_sketch_ring_current(r, 13), s);
	assert_memory_equal(s, &empty, sizeof(empty));
	assert_false(bw_sketch_ring_snapshot(r, 10, &out));
	assert_false(bw_sketch_ring_snapshot(r, 12, &out));
	assert_true(bw_sketch_ring_snapshot(r, 11, &out));
	assert_memory_equal(&out, &copy, sizeof(out));
	free(r);
}

#define ROUNDS 100000

struct race {
	struct bw_sketch_ring ring;
	uint64_t latest;           /* Last interval the writer filled. */
};

static uint8_t pattern(uint64_t interval)
{
	return (uint8_t)(interval % 251 + 1);  /* Never 0, the cleared value. */
}

/* The worker: every sketch is filled with its interval number. */
static void *race_writer(void *arg)
{
	struct race *rc = arg;

	for (uint64_t i = 1; i <= ROUNDS; i++) {
		struct bw_sketch *s = bw_sketch_ring_current(&rc->ring, i);
		memset(s, pattern(i), sizeof(*s));
		s->queries = i;
		s->nxdomain = i;
		__atomic_store_n(&rc->latest, i, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Whether \a s is the writer's sketch for \a interval, whole. */
static bool consistent(const struct bw_sketch *s, uint64_t interval)
{
	static struct bw_sketch want;

	memset(&want, pattern(interval), sizeof(want));
	want.queries = interval;
	want.nxdomain = interval;
	return memcmp(s, &want, sizeof(want)) == 0;
}

static void test_ring_race(void **state)
{
	struct race *rc = malloc(sizeof(*rc));
	static struct bw_sketch out;
	pthread_t w;
	unsigned long accepted = 0, refused = 0, torn = 0;

	(void)state;
	assert_non_null(rc);
	bw_sketch_ring_init(&rc->ring);
	rc->latest = 0;
	assert_int_equal(pthread_create(&w, NULL, race_writer, rc), 0);
	for (uint64_t last = 0; last < ROUNDS;) {
		last = __atomic_load_n(&rc->latest, __ATOMIC_ACQUIRE);
		for (uint64_t back = 0; back < 3 && back < last; back++) {
			if (!bw_sketch_ring_snapshot(&rc->ring, last - back, &out)) {
				refused++;
				continue;
			}
			accepted++;
			torn += !consistent(&out, last - back);
		}
	}
	pthread_join(w, NULL);
	print_message("ring race: %lu accepted, %lu refused\n", accepted, refused);
	assert_int_equal(torn, 0);
	assert_true(accepted > 0);
	assert_true(bw_sketch_ring_snapshot(&rc->ring, ROUNDS - 1, &out));
	assert_true(consistent(&out, ROUNDS - 1));
	free(rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parents_zipf),
		cmocka_unit_test(test_parents_dominant),
		cmocka_unit_test(test_parents_reference),
		cmocka_unit_test(test_parents_takeover),
		cmocka_unit_test(test_hll_accuracy),
		cmocka_unit_test(test_hll_duplicates),
		cmocka_unit_test(test_sources_heavy),
		cmocka_unit_test(test_sources_keys),
		cmocka_unit_test(test_merge_halves),
		cmocka_unit_test(test_merge_empty),
		cmocka_unit_test(test_merge_floor),
		cmocka_unit_test(test_ring_rotation),
		cmocka_unit_test(test_ring_race),
	};

	return cmocka_run_group_tests(tests, setup_zipf, NULL);
}
