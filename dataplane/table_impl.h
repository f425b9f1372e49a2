/*  bulwark — the loaded table as the dataplane sees it, and its fast
 *  lookups (internal to the dataplane).
 */
#ifndef BULWARK_DATAPLANE_TABLE_IMPL_H
#define BULWARK_DATAPLANE_TABLE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bulwark/table.h"

struct bw_zone_stats;

struct bw_table_shard {
	const uint8_t *base;
	const struct bw_tbl_bucket *buckets;
	uint32_t mask;
	uint32_t max_probe;
};

struct bw_table {
	const uint8_t *data;
	size_t size;
	bool mapped;                     /*!< munmap, else free. */
	bool owned;                      /*!< Released by bw_table_close(). */
	const struct bw_tbl_header *hdr;
	unsigned shard_bits;
	const struct bw_tbl_blob *neg;   /*!< SOA in authority. */
	const uint8_t *common;           /*!< Zone-wide blobs and proofs. */
	uint64_t apex_hash;
	struct bw_zone_stats *stats;     /*!< Counter rows, or NULL. */
	unsigned stats_rows;
	struct bw_table_shard shards[];
};

/*!
 * \brief Finds the node of a lowercase name with hash \a h, or NULL.
 */
static inline const struct bw_tbl_node *
bw_table_lookup(const struct bw_table *t, uint64_t h, const uint8_t *lname,
                size_t len)
{
	unsigned s = t->shard_bits ? (unsigned)(h >> (64 - t->shard_bits)) : 0;
	const struct bw_table_shard *sh = &t->shards[s];
	uint32_t at = (uint32_t)h & sh->mask, tag = (uint32_t)(h >> 32);

	for (uint32_t probe = 0; probe <= sh->max_probe; probe++) {
		const struct bw_tbl_bucket *b = &sh->buckets[at];
		if (b->node == 0)
			return NULL;
		if (b->tag == tag) {
			const struct bw_tbl_node *n =
				(const struct bw_tbl_node *)(const void *)(sh->base + b->node);
			if (n->name_len == len &&
			    memcmp(bw_tbl_node_name(n), lname, len) == 0)
				return n;
		}
		at = (at + 1) & sh->mask;
	}
	return NULL;
}

/*! \brief Prefetches the bucket where a lookup of hash \a h starts. */
static inline void bw_table_prefetch(const struct bw_table *t, uint64_t h)
{
	unsigned s = t->shard_bits ? (unsigned)(h >> (64 - t->shard_bits)) : 0;
	const struct bw_table_shard *sh = &t->shards[s];

	__builtin_prefetch(&sh->buckets[(uint32_t)h & sh->mask]);
}

/*!
 * \brief Prefetches the node that a lookup of hash \a h would compare
 *        first (the first bucket with its tag); reads the buckets.
 */
static inline void bw_table_prefetch_node(const struct bw_table *t, uint64_t h)
{
	unsigned s = t->shard_bits ? (unsigned)(h >> (64 - t->shard_bits)) : 0;
	const struct bw_table_shard *sh = &t->shards[s];
	uint32_t at = (uint32_t)h & sh->mask, tag = (uint32_t)(h >> 32);

	for (uint32_t probe = 0; probe <= sh->max_probe; probe++) {
		const struct bw_tbl_bucket *b = &sh->buckets[at];
		if (b->node == 0)
			return;
		if (b->tag == tag) {
			__builtin_prefetch(sh->base + b->node);
			__builtin_prefetch(sh->base + b->node + 64);
			return;
		}
		at = (at + 1) & sh->mask;
	}
}

/*!
 * \brief The blob that answers \a type at node \a n (found in table \a t
 *        with hash \a h), or NULL when the node has no such RRset.
 */
static inline const struct bw_tbl_blob *
bw_table_blob(const struct bw_table *t, uint64_t h, const struct bw_tbl_node *n,
              uint16_t type)
{
	unsigned s = t->shard_bits ? (unsigned)(h >> (64 - t->shard_bits)) : 0;

	for (uint16_t i = 0; i < n->ntypes; i++) {
		if (n->types[i].type == type)
			return (const struct bw_tbl_blob *)(const void *)
			       (t->shards[s].base + n->types[i].blob);
	}
	return NULL;
}

/*! Blob of the i-th type entry of a node. */
static inline const struct bw_tbl_blob *
bw_table_blob_at(const struct bw_table *t, uint64_t h,
                 const struct bw_tbl_node *n, uint16_t i)
{
	unsigned s = t->shard_bits ? (unsigned)(h >> (64 - t->shard_bits)) : 0;
	return (const struct bw_tbl_blob *)(const void *)
	       (t->shards[s].base + n->types[i].blob);
}

/*! A blob of the common area. */
static inline const struct bw_tbl_blob *
bw_table_common_blob(const struct bw_table *t, uint32_t off)
{
	return (const struct bw_tbl_blob *)(const void *)(t->common + off);
}

/*! The DO=1 blob of the i-th type entry of a signed node. */
static inline const struct bw_tbl_blob *
bw_table_do_blob_at(const struct bw_table *t, uint64_t h,
                    const struct bw_tbl_node *n, uint16_t i)
{
	unsigned s = t->shard_bits ? (unsigned)(h >> (64 - t->shard_bits)) : 0;
	return (const struct bw_tbl_blob *)(const void *)
	       (t->shards[s].base + bw_tbl_node_signed(n)->do_blob[i]);
}

/*!
 * \brief Calls \a fn for every node of the table (in bucket order).
 */
void bw_table_foreach(const struct bw_table *t,
                      void (*fn)(void *ctx, const struct bw_tbl_node *n,
                                 uint64_t h),
                      void *ctx);

#endif /* BULWARK_DATAPLANE_TABLE_IMPL_H */
