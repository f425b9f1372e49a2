/*  bulwark — per-worker flood sketches, merged by the control plane.
 *
 *  For each interval (flood-mitigation's `interval`, 100 ms to 1 s) a
 *  worker fills one struct bw_sketch:
 *  - NXDOMAIN parents (the closest encloser of each NXDOMAIN answer) as a
 *    Space-Saving summary of BW_SK_PARENTS counters, each with a
 *    HyperLogLog of the distinct next-closer names seen under it;
 *  - source prefixes as a Space-Saving summary by queries, with the
 *    NXDOMAINs they got while they held a counter;
 *  - totals of queries and NXDOMAINs.
 *  Space-Saving: a hit adds one; a miss with every counter taken replaces
 *  the smallest counter c_min, starting at c_min + 1 with err = c_min (the
 *  count overestimates by at most err, and every item with more than
 *  N / k occurrences holds a counter).  A new parent's HyperLogLog starts
 *  empty.
 *
 *  The worker writes one sketch while the other, finished, waits for the
 *  control plane (struct bw_sketch_ring, a seqlock keyed by the interval
 *  number); the control plane copies the finished sketches of every worker
 *  and merges them (bw_sketch_merge()).  No allocation, no locks.
 */
#ifndef BULWARK_DP_SKETCH_H
#define BULWARK_DP_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BW_SK_PARENTS  64       /*!< Parent counters per sketch. */
#define BW_SK_SOURCES  64       /*!< Source-prefix counters per sketch. */
#define BW_SK_HLL_BITS 7
#define BW_SK_HLL      (1u << BW_SK_HLL_BITS)  /*!< Registers: ~9% error. */
/*! The workers feed one query in this many to the source summary (the
 *  others count in the totals only): with many sources nearly every
 *  query misses the summary, and a miss costs a replacement.  Source
 *  counts are estimates of 1 / BW_SK_SOURCE_SAMPLE of the queries. */
#define BW_SK_SOURCE_SAMPLE 8
#define BW_SK_INDEX    128      /*!< Index slots: twice the counters. */

struct bw_sk_parent {
	uint64_t hash;            /*!< Hash of the lowercase wire name. */
	uint32_t count;           /*!< NXDOMAINs (Space-Saving estimate). */
	uint32_t err;             /*!< Overestimate bound of count. */
	uint8_t name_len;
	uint8_t name[255];        /*!< Lowercase wire name. */
	uint8_t hll[BW_SK_HLL];   /*!< Distinct next-closer names. */
};

struct bw_sk_source {
	uint8_t addr[16];         /*!< The prefix (host bits zero). */
	bool v6;
	uint8_t plen;
	uint32_t queries;         /*!< Space-Saving estimate. */
	uint32_t err;
	uint32_t nxdomain;        /*!< NXDOMAINs while it held the counter. */
};

struct bw_sketch {
	uint64_t queries;
	uint64_t nxdomain;
	unsigned nparents;
	unsigned nsources;
	struct bw_sk_parent parent[BW_SK_PARENTS];
	struct bw_sk_source source[BW_SK_SOURCES];
	/* Kept by the functions below, not part of the summary: open-
	 * addressed indexes of parent[] and source[] (slot + 1, 0 for empty),
	 * and bit masks of the slots known to hold the smallest count (0 for
	 * not known).  bw_sketch_merge() ignores and rebuilds them; a sketch
	 * changed by hand must not be counted into afterwards. */
	uint8_t pidx[BW_SK_INDEX];
	uint8_t sidx[BW_SK_INDEX];
	uint64_t pmin;
	uint64_t smin;
};

/*! \brief Empties \a s. */
void bw_sketch_clear(struct bw_sketch *s);

/*!
 * \brief Counts one query from source prefix \a addr (4 octets, 16 when
 *        \a v6; host bits already cleared to \a plen), and whether its
 *        answer was NXDOMAIN (the only place s->nxdomain moves).
 */
void bw_sketch_query(struct bw_sketch *s, const uint8_t *addr, bool v6,
                     uint8_t plen, bool nxdomain);

/*!
 * \brief Counts one NXDOMAIN under \a parent (lowercase wire name,
 *        \a len octets, hash \a parent_hash), whose next-closer name
 *        hashes to \a label_hash.
 */
void bw_sketch_nxdomain(struct bw_sketch *s, uint64_t parent_hash,
                        const uint8_t *parent, size_t len, uint64_t label_hash);

/*! \brief HyperLogLog estimate of BW_SK_HLL registers (with the small-
 *         range correction). */
double bw_sketch_hll_estimate(const uint8_t reg[BW_SK_HLL]);

/*!
 * \brief Adds \a add into \a into: totals summed, parents and sources
 *        united by key (counts and errs summed, registers maxed; a key
 *        missing from one side gets that side's smallest count added to
 *        its count and its err when that side was full), then the
 *        BW_SK_PARENTS / BW_SK_SOURCES largest kept.
 */
void bw_sketch_merge(struct bw_sketch *into, const struct bw_sketch *add);

/*! One worker's pair of sketches. */
struct bw_sketch_ring {
	struct bw_sketch buf[2];
	uint64_t done[2];         /*!< Interval number + 1 that buf[i] holds
	                               when finished; 0 while being written. */
	unsigned cur;             /*!< Written by the worker. */
	uint64_t interval;        /*!< Interval number of buf[cur]. */
};

/*! \brief Sets up a ring (both sketches empty, nothing finished). */
void bw_sketch_ring_init(struct bw_sketch_ring *r);

/*!
 * \brief The worker's sketch for interval \a interval (now_ms / period):
 *        when the interval changed, the current sketch is marked finished
 *        for its interval and the other one is emptied and taken.
 */
struct bw_sketch *bw_sketch_ring_current(struct bw_sketch_ring *r,
                                         uint64_t interval);

/*!
 * \brief Copies the sketch that a worker finished for interval
 *        \a interval into \a out (control plane, concurrently with the
 *        worker).
 * \return false when that worker has not finished that interval (it was
 *         idle, or is still in it), or when the copy was torn by the
 *         worker reusing the buffer.
 */
bool bw_sketch_ring_snapshot(const struct bw_sketch_ring *r, uint64_t interval,
                             struct bw_sketch *out);

#endif /* BULWARK_DP_SKETCH_H */
