/*  bulwark — per-worker flood sketches: Space-Saving summaries of parents
 *  (each with a HyperLogLog) and of source prefixes, their merge, and the
 *  seqlock ring that hands finished sketches to the control plane.
 *
 *  Lookups go through a small open-addressed index (linear probing, at
 *  most half full, deletion by shifting back, no tombstones), so a hit
 *  costs one mix, one index octet and one counter.  A miss with every
 *  counter taken replaces the first slot of a cached mask of the slots at
 *  the smallest count; the counts are scanned again only when the mask
 *  runs out (about once per 64 misses when every query misses).  The
 *  index hashes are not keyed: a client choosing colliding keys only
 *  lengthens probes up to the linear scan that the index replaces.
 *
 *  Memory per worker (x86-64): a parent counter is 400 octets (hash,
 *  count, err, name, 128 registers), a source counter 32; one sketch is
 *  64 * 400 + 64 * 32 + 2 * 128 + 2 * 8 + 24 = 27,944 octets (27.3 KiB,
 *  most of it names and registers that a hit touches one line of); the
 *  ring holds two, 55,920 octets (54.6 KiB) per worker, next to L1d size:
 *  the sketch being written is the part that stays hot.  The control
 *  plane needs one sketch per snapshot copy and per merge result.
 */
#include <math.h>
#include <string.h>

#include "bulwark/table.h"
#include "sketch.h"

#define IDX_MASK     (BW_SK_INDEX - 1)
#define HLL_RANK_MAX (64 - BW_SK_HLL_BITS + 1)

_Static_assert((BW_SK_INDEX & IDX_MASK) == 0, "index size is a power of two");
_Static_assert(BW_SK_INDEX >= 2 * BW_SK_PARENTS &&
               BW_SK_INDEX >= 2 * BW_SK_SOURCES, "index at most half full");
_Static_assert(HLL_RANK_MAX < 64, "2^-rank is exact in a double");
_Static_assert(BW_SK_PARENTS <= 64 && BW_SK_SOURCES <= 64,
               "slot + 1 fits an index octet, a slot has a bit of a mask");

/* ---- Open-addressed index of counter slots. ---- */

/* Mixed hash of the key in counter \a slot of \a s. */
typedef uint64_t (*slot_hash_fn)(const struct bw_sketch *s, unsigned slot);

static unsigned idx_home(uint64_t mixed)
{
	return (unsigned)mixed & IDX_MASK;
}

static unsigned idx_next(unsigned i)
{
	return (i + 1) & IDX_MASK;
}

/* Puts \a slot at the end of the probe run from \a mixed. */
static void idx_insert(uint8_t idx[BW_SK_INDEX], uint64_t mixed, unsigned slot)
{
	unsigned i = idx_home(mixed);

	while (idx[i] != 0)
		i = idx_next(i);
	idx[i] = (uint8_t)(slot + 1);
}

/* Removes \a slot (hashing to \a mixed): later entries of the run whose
 * home is not after the gap move back into it. */
static void idx_remove(uint8_t idx[BW_SK_INDEX], uint64_t mixed, unsigned slot,
                       const struct bw_sketch *s, slot_hash_fn hash)
{
	unsigned gap = idx_home(mixed);

	while (idx[gap] != slot + 1)
		gap = idx_next(gap);
	for (unsigned i = idx_next(gap); idx[i] != 0; i = idx_next(i)) {
		unsigned home = idx_home(hash(s, idx[i] - 1u));
		if (((i - home) & IDX_MASK) >= ((i - gap) & IDX_MASK)) {
			idx[gap] = idx[i];
			gap = i;
		}
	}
	idx[gap] = 0;
}

static void idx_rebuild(uint8_t idx[BW_SK_INDEX], unsigned n,
                        const struct bw_sketch *s, slot_hash_fn hash)
{
	memset(idx, 0, BW_SK_INDEX);
	for (unsigned i = 0; i < n; i++)
		idx_insert(idx, hash(s, i), i);
}

/* ---- Space-Saving, for either kind of counter. ---- */

/* One kind of counter seen through offsets, so that parents and sources
 * share the code below. */
struct ss_kind {
	size_t size;              /* Of an element. */
	size_t count, err;        /* Offsets of the uint32_t count and err. */
	unsigned max;             /* Counters in a sketch. */
	bool (*same)(const void *a, const void *b);   /* Same key. */
	void (*fold)(void *into, const void *add);    /* Rest of a union. */
};

static uint32_t ss_get(const void *e, size_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)e + off, sizeof(v));
	return v;
}

static void ss_add(void *e, size_t off, uint32_t v)
{
	uint32_t sum = ss_get(e, off) + v;

	memcpy((uint8_t *)e + off, &sum, sizeof(sum));
}

/* Bit mask of the elements of \a elems (\a n) with the smallest count. */
static uint64_t ss_min_mask(const struct ss_kind *k, const void *elems,
                            unsigned n)
{
	const uint8_t *e = elems;
	uint32_t min = UINT32_MAX;
	uint64_t mask = 0;

	for (unsigned i = 0; i < n; i++, e += k->size) {
		uint32_t c = ss_get(e, k->count);
		if (c < min) {
			min = c;
			mask = 0;
		}
		if (c == min)
			mask |= 1ull << i;
	}
	return mask;
}

/* The first element with the smallest count (\a n > 0). */
static unsigned ss_min(const struct ss_kind *k, const void *elems, unsigned n)
{
	return (unsigned)__builtin_ctzll(ss_min_mask(k, elems, n));
}

/* The counter to take over: the first slot of the cached mask of smallest
 * counts, rescanned when used up.  The mask stays right because counts
 * only grow and every slot that moves leaves it (here and in
 * min_moved()): its bits are slots still at the smallest count of the
 * last scan. */
static unsigned min_take(uint64_t *mask, const struct ss_kind *k,
                         const void *elems, unsigned n)
{
	if (*mask == 0)
		*mask = ss_min_mask(k, elems, n);
	unsigned slot = (unsigned)__builtin_ctzll(*mask);
	*mask &= *mask - 1;
	return slot;
}

static void min_moved(uint64_t *mask, unsigned slot)
{
	*mask &= ~(1ull << slot);
}

/* What a key that a summary lacks may have had: its smallest count when
 * it is full, else nothing. */
static uint32_t ss_floor(const struct ss_kind *k, const void *elems, unsigned n)
{
	if (n < k->max)
		return 0;
	return ss_get((const uint8_t *)elems + ss_min(k, elems, n) * k->size,
	              k->count);
}

static int ss_find(const struct ss_kind *k, const void *elems, unsigned n,
                   const void *key)
{
	for (unsigned i = 0; i < n; i++)
		if (k->same((const uint8_t *)elems + i * k->size, key))
			return (int)i;
	return -1;
}

/* Offers \a c, with \a extra added to its count and err, to the k->max
 * largest counters of \a elems. */
static void ss_offer(const struct ss_kind *k, void *elems, unsigned *n,
                     const void *c, uint32_t extra)
{
	unsigned slot = *n;

	if (slot < k->max) {
		(*n)++;
	} else {
		slot = ss_min(k, elems, *n);
		uint32_t least = ss_get((uint8_t *)elems + slot * k->size, k->count);
		if (least >= ss_get(c, k->count) + extra)
			return;
	}
	uint8_t *e = (uint8_t *)elems + slot * k->size;
	memcpy(e, c, k->size);
	ss_add(e, k->count, extra);
	ss_add(e, k->err, extra);
}

/* Unites \a add (\a add_n) into \a into (\a n), as bw_sketch_merge()
 * says. */
static void ss_merge(const struct ss_kind *k, void *into, unsigned *n,
                     const void *add, unsigned add_n)
{
	uint32_t floor_into = ss_floor(k, into, *n);
	uint32_t floor_add = ss_floor(k, add, add_n);
	uint64_t used = 0;
	uint8_t *e = into;

	/* Keys of \a into, with what \a add has (or may have had) of them. */
	for (unsigned i = 0; i < *n; i++, e += k->size) {
		int j = ss_find(k, add, add_n, e);
		if (j < 0) {
			ss_add(e, k->count, floor_add);
			ss_add(e, k->err, floor_add);
			continue;
		}
		const uint8_t *a = (const uint8_t *)add + (unsigned)j * k->size;
		ss_add(e, k->count, ss_get(a, k->count));
		ss_add(e, k->err, ss_get(a, k->err));
		k->fold(e, a);
		used |= 1ull << j;
	}
	/* Keys only \a add has. */
	for (unsigned j = 0; j < add_n; j++)
		if (!(used >> j & 1))
			ss_offer(k, into, n, (const uint8_t *)add + j * k->size,
			         floor_into);
}

/* ---- HyperLogLog. ---- */

static void hll_add(uint8_t reg[BW_SK_HLL], uint64_t label_hash)
{
	/* Callers' hashes may be weak in some bits: mix first.  The top bits
	 * pick the register, the rank is the position of the first one in
	 * the rest (the low marker bit caps it at HLL_RANK_MAX). */
	uint64_t x = bw_hash_mix(label_hash);
	unsigned i = (unsigned)(x >> (64 - BW_SK_HLL_BITS));
	uint64_t rest = (x << BW_SK_HLL_BITS) | (1ull << (BW_SK_HLL_BITS - 1));
	uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);

	if (rank > reg[i])
		reg[i] = rank;
}

static void hll_merge(uint8_t into[BW_SK_HLL], const uint8_t add[BW_SK_HLL])
{
	for (unsigned i = 0; i < BW_SK_HLL; i++)
		if (add[i] > into[i])
			into[i] = add[i];
}

/* Natural logarithm of \a x > 0 without libm (the dataplane does not link
 * it): x = f * 2^e, f in [1, 2), ln f = 2 atanh(z), z = (f - 1) / (f + 1)
 * in [0, 1/3); each term shrinks by z^2 < 1/9, 20 terms are plenty, and
 * ln 1 comes out exactly 0. */
static double ln_pos(double x)
{
	int e;
	double f = 2 * frexp(x, &e);
	double z = (f - 1) / (f + 1), z2 = z * z, term = z, sum = 0;

	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return 2 * sum + (e - 1) * 0.693147180559945309417;
}

double bw_sketch_hll_estimate(const uint8_t reg[BW_SK_HLL])
{
	const double m = BW_SK_HLL;
	const double alpha = 0.7213 / (1 + 1.079 / m);  /* m >= 128 */
	double sum = 0;
	unsigned zeros = 0;

	for (unsigned i = 0; i < BW_SK_HLL; i++) {
		sum += 1.0 / (double)(1ull << reg[i]);  /* reg <= HLL_RANK_MAX */
		zeros += reg[i] == 0;
	}
	double e = alpha * m * m / sum;
	/* Small range: linear counting over the empty registers. */
	if (e <= 2.5 * m && zeros > 0)
		return m * ln_pos(m / zeros);
	return e;  /* 64-bit hashes: no large-range correction. */
}

/* ---- Parents. ---- */

static bool parent_same(const void *a, const void *b)
{
	const struct bw_sk_parent *pa = a, *pb = b;

	return pa->hash == pb->hash;
}

static void parent_fold(void *into, const void *add)
{
	struct bw_sk_parent *p = into;
	const struct bw_sk_parent *q = add;

	hll_merge(p->hll, q->hll);
}

static const struct ss_kind parent_kind = {
	.size = sizeof(struct bw_sk_parent),
	.count = offsetof(struct bw_sk_parent, count),
	.err = offsetof(struct bw_sk_parent, err),
	.max = BW_SK_PARENTS,
	.same = parent_same,
	.fold = parent_fold,
};

static uint64_t parent_slot_hash(const struct bw_sketch *s, unsigned slot)
{
	return bw_hash_mix(s->parent[slot].hash);
}

/* The counter of \a hash (mixed: \a mixed), or NULL. */
static struct bw_sk_parent *parent_find(struct bw_sketch *s, uint64_t hash,
                                        uint64_t mixed)
{
	for (unsigned i = idx_home(mixed); s->pidx[i] != 0; i = idx_next(i)) {
		struct bw_sk_parent *p = &s->parent[s->pidx[i] - 1];
		if (p->hash == hash)
			return p;
	}
	return NULL;
}

/* A free counter, or the smallest one taken over (Space-Saving). */
static struct bw_sk_parent *parent_take(struct bw_sketch *s, uint64_t hash,
                                        uint64_t mixed, const uint8_t *name,
                                        size_t len)
{
	unsigned slot = s->nparents;
	uint32_t base = 0;

	if (slot < BW_SK_PARENTS) {
		s->nparents++;
	} else {
		slot = min_take(&s->pmin, &parent_kind, s->parent, s->nparents);
		base = s->parent[slot].count;
		idx_remove(s->pidx, parent_slot_hash(s, slot), slot, s,
		           parent_slot_hash);
	}
	idx_insert(s->pidx, mixed, slot);

	struct bw_sk_parent *p = &s->parent[slot];
	p->hash = hash;
	p->count = base;
	p->err = base;
	p->name_len = (uint8_t)(len < sizeof(p->name) ? len : sizeof(p->name));
	memcpy(p->name, name, p->name_len);
	memset(p->hll, 0, sizeof(p->hll));
	return p;
}

void bw_sketch_nxdomain(struct bw_sketch *s, uint64_t parent_hash,
                        const uint8_t *parent, size_t len, uint64_t label_hash)
{
	uint64_t mixed = bw_hash_mix(parent_hash);
	struct bw_sk_parent *p = parent_find(s, parent_hash, mixed);

	if (p == NULL)
		p = parent_take(s, parent_hash, mixed, parent, len);
	else
		min_moved(&s->pmin, (unsigned)(p - s->parent));
	p->count++;
	hll_add(p->hll, label_hash);
}

/* ---- Source prefixes. ---- */

/* A source key as words (the compiler keeps them in registers). */
struct skey {
	uint64_t lo, hi;          /* addr[0..7], addr[8..15]. */
	bool v6;
	uint8_t plen;
};

static struct skey skey_of(const struct bw_sk_source *c)
{
	struct skey k = { .v6 = c->v6, .plen = c->plen };

	memcpy(&k.lo, c->addr, sizeof(k.lo));
	memcpy(&k.hi, c->addr + 8, sizeof(k.hi));
	return k;
}

static uint64_t skey_hash(const struct skey *k)
{
	return bw_hash_mix(bw_hash_mix(k->lo ^ ((uint64_t)k->plen << 1 | k->v6)) ^
	                   k->hi);
}

static bool source_is(const struct bw_sk_source *c, const struct skey *k)
{
	struct skey ck = skey_of(c);

	return ck.lo == k->lo && ck.hi == k->hi && ck.v6 == k->v6 &&
	       ck.plen == k->plen;
}

static bool source_same(const void *a, const void *b)
{
	struct skey k = skey_of(b);

	return source_is(a, &k);
}

static void source_fold(void *into, const void *add)
{
	struct bw_sk_source *c = into;
	const struct bw_sk_source *d = add;

	c->nxdomain += d->nxdomain;
}

static const struct ss_kind source_kind = {
	.size = sizeof(struct bw_sk_source),
	.count = offsetof(struct bw_sk_source, queries),
	.err = offsetof(struct bw_sk_source, err),
	.max = BW_SK_SOURCES,
	.same = source_same,
	.fold = source_fold,
};

static uint64_t source_slot_hash(const struct bw_sketch *s, unsigned slot)
{
	struct skey k = skey_of(&s->source[slot]);

	return skey_hash(&k);
}

static struct bw_sk_source *source_find(struct bw_sketch *s,
                                        const struct skey *k, uint64_t mixed)
{
	for (unsigned i = idx_home(mixed); s->sidx[i] != 0; i = idx_next(i)) {
		struct bw_sk_source *c = &s->source[s->sidx[i] - 1];
		if (source_is(c, k))
			return c;
	}
	return NULL;
}

static struct bw_sk_source *source_take(struct bw_sketch *s,
                                        const struct skey *k, uint64_t mixed)
{
	unsigned slot = s->nsources;
	uint32_t base = 0;

	if (slot < BW_SK_SOURCES) {
		s->nsources++;
	} else {
		slot = min_take(&s->smin, &source_kind, s->source, s->nsources);
		base = s->source[slot].queries;
		idx_remove(s->sidx, source_slot_hash(s, slot), slot, s,
		           source_slot_hash);
	}
	idx_insert(s->sidx, mixed, slot);

	struct bw_sk_source *c = &s->source[slot];
	memcpy(c->addr, &k->lo, sizeof(k->lo));
	memcpy(c->addr + 8, &k->hi, sizeof(k->hi));
	c->v6 = k->v6;
	c->plen = k->plen;
	c->queries = base;
	c->err = base;
	c->nxdomain = 0;
	return c;
}

void bw_sketch_query(struct bw_sketch *s, const uint8_t *addr, bool v6,
                     uint8_t plen, bool nxdomain)
{
	struct skey k = { .v6 = v6, .plen = plen };

	if (v6) {
		memcpy(&k.lo, addr, sizeof(k.lo));
		memcpy(&k.hi, addr + 8, sizeof(k.hi));
	} else {
		uint32_t w;
		memcpy(&w, addr, sizeof(w));
		k.lo = w;           /* addr[0..3] first, as memcpy would put them */
	}
	s->queries++;
	s->nxdomain += nxdomain;

	uint64_t mixed = skey_hash(&k);
	struct bw_sk_source *c = source_find(s, &k, mixed);
	if (c == NULL)
		c = source_take(s, &k, mixed);
	else
		min_moved(&s->smin, (unsigned)(c - s->source));
	c->queries++;
	c->nxdomain += nxdomain;
}

void bw_sketch_clear(struct bw_sketch *s)
{
	memset(s, 0, sizeof(*s));
}

/* ---- Merge (control plane). ---- */

void bw_sketch_merge(struct bw_sketch *into, const struct bw_sketch *add)
{
	into->queries += add->queries;
	into->nxdomain += add->nxdomain;
	ss_merge(&parent_kind, into->parent, &into->nparents, add->parent,
	         add->nparents);
	ss_merge(&source_kind, into->source, &into->nsources, add->source,
	         add->nsources);
	idx_rebuild(into->pidx, into->nparents, into, parent_slot_hash);
	idx_rebuild(into->sidx, into->nsources, into, source_slot_hash);
	into->pmin = 0;           /* Counts moved: not known. */
	into->smin = 0;
}

/* ---- Ring: a seqlock keyed by the interval number. ----
 *
 * done[i] is interval + 1 while buf[i] is finished, 0 while the worker
 * owns it.  The worker publishes a finished buffer with a release store;
 * before it reuses a buffer it stores 0 and fences, so a reader whose copy
 * saw any of the reuse sees done[i] changed when it checks again.  The
 * copy itself is plain memcpy racing with plain stores (the usual seqlock
 * compromise: a torn copy is thrown away, never used). */

void bw_sketch_ring_init(struct bw_sketch_ring *r)
{
	/* Before the worker and the reader start: thread creation orders it. */
	memset(r, 0, sizeof(*r));
	/* No interval yet: the first rotation publishes done = UINT64_MAX + 1,
	 * which is 0, "not finished". */
	r->interval = UINT64_MAX;
}

static struct bw_sketch *ring_rotate(struct bw_sketch_ring *r, uint64_t interval)
{
	unsigned old = r->cur, next = old ^ 1;

	/* Release: a reader that loads this value (acquire) sees every store
	 * the worker made into buf[old]. */
	__atomic_store_n(&r->done[old], r->interval + 1, __ATOMIC_RELEASE);
	/* Relaxed store, then a release fence before the clearing stores: a
	 * reader whose copy read any cleared or new octet and that then fences
	 * (acquire) sees done[next] == 0 (or later) when it loads it again. */
	__atomic_store_n(&r->done[next], 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	bw_sketch_clear(&r->buf[next]);
	r->cur = next;
	r->interval = interval;
	return &r->buf[next];
}

struct bw_sketch *bw_sketch_ring_current(struct bw_sketch_ring *r,
                                         uint64_t interval)
{
	if (interval == r->interval)
		return &r->buf[r->cur];
	return ring_rotate(r, interval);
}

bool bw_sketch_ring_snapshot(const struct bw_sketch_ring *r, uint64_t interval,
                             struct bw_sketch *out)
{
	for (unsigned i = 0; i < 2; i++) {
		/* Acquire: pairs with the worker's release store of done[i], so
		 * the copy below sees the finished sketch. */
		uint64_t d = __atomic_load_n(&r->done[i], __ATOMIC_ACQUIRE);
		if (d == 0 || d != interval + 1)
			continue;
		memcpy(out, &r->buf[i], sizeof(*out));
		/* Acquire fence: the copy's loads are done before done[i] is
		 * read again; pairs with the worker's release fence before it
		 * clears (a reuse the copy saw shows in the second load). */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		return __atomic_load_n(&r->done[i], __ATOMIC_RELAXED) == d;
	}
	return false;
}
