/*  bulwark — the zone set's layout and its longest-suffix match
 *  (internal to the dataplane).
 */
#ifndef BULWARK_DATAPLANE_ZONESET_IMPL_H
#define BULWARK_DATAPLANE_ZONESET_IMPL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bulwark/answer.h"
#include "bulwark/zoneset.h"
#include "table_impl.h"

struct bw_zoneset_slot {
	uint64_t hash;                 /*!< Hash of the apex name. */
	const struct bw_table *table;  /*!< NULL: empty slot. */
};

/*! Tables up to this size stay in the CPU caches once warm: prefetching
 *  for them costs a second parse of every query and saves nothing. */
#define BW_ZONESET_CACHED (16u << 20)

struct bw_zoneset {
	size_t count;
	uint32_t mask;
	uint8_t max_labels;            /*!< Most labels of any apex. */
	bool prefetch;                 /*!< A table beyond BW_ZONESET_CACHED:
	                                    burst prefetching pays. */
	struct bw_zoneset_slot slots[];
};

/*!
 * \brief The zone with the longest apex that is a suffix of a name.
 *
 * \param zs     Zone set.
 * \param hash   hash[k]: hash of the name's suffix with k labels.
 * \param lname  Lowercase wire name.
 * \param loff   Offsets of the name's labels in \a lname.
 * \param nl     Number of labels.
 * \return The table, or NULL.
 */
static inline const struct bw_table *
bw_zoneset_match(const struct bw_zoneset *zs, const uint64_t *hash,
                 const uint8_t *lname, const uint8_t *loff, int nl)
{
	int k = nl < zs->max_labels ? nl : zs->max_labels;

	for (; k >= 0; k--) {
		const uint8_t *suffix = lname + loff[nl - k];
		uint32_t at = (uint32_t)hash[k] & zs->mask;
		for (;;) {
			const struct bw_zoneset_slot *s = &zs->slots[at];
			if (s->table == NULL)
				break;
			if (s->hash == hash[k] && s->table->hdr->apex_labels == k &&
			    memcmp(s->table->hdr->apex, suffix, s->table->hdr->apex_len) == 0)
				return s->table;
			at = (at + 1) & zs->mask;
		}
	}
	return NULL;
}

/* One thread writes a row: a relaxed load and store is enough, and keeps
 * the control plane's relaxed reads free of torn values. */
static inline void bw_zone_stat_inc(struct bw_zone_stats *row, enum bw_zone_stat i)
{
	__atomic_store_n(&row->n[i], __atomic_load_n(&row->n[i], __ATOMIC_RELAXED) + 1,
	                 __ATOMIC_RELAXED);
}

/*! \brief bw_zone_count() for the dataplane's own callers. */
static inline void bw_zone_count_inline(const struct bw_answer_info *info,
                                        unsigned slot)
{
	static const uint8_t by_kind[] = {
		[BW_ANS_POSITIVE] = BW_ZSTAT_POSITIVE,
		[BW_ANS_REFERRAL] = BW_ZSTAT_REFERRAL,
		[BW_ANS_NODATA] = BW_ZSTAT_NODATA,
		[BW_ANS_NXDOMAIN] = BW_ZSTAT_NXDOMAIN,
		[BW_ANS_REFUSED] = BW_ZSTAT_ERROR,
		[BW_ANS_ERROR] = BW_ZSTAT_ERROR,
	};
	const struct bw_table *t = info->zone;

	if (t == NULL || t->stats == NULL || slot >= t->stats_rows ||
	    info->kind == BW_ANS_DROP)
		return;
	struct bw_zone_stats *row = &t->stats[slot];
	bw_zone_stat_inc(row, BW_ZSTAT_ANSWERS);
	if ((size_t)info->kind < sizeof(by_kind) && by_kind[info->kind] != 0)
		bw_zone_stat_inc(row, (enum bw_zone_stat)by_kind[info->kind]);
	if (info->do_bit)
		bw_zone_stat_inc(row, BW_ZSTAT_DO);
	if (info->tc)
		bw_zone_stat_inc(row, BW_ZSTAT_TC);
}

#endif /* BULWARK_DATAPLANE_ZONESET_IMPL_H */
