/*  bulwark — building an immutable zone set.
 */
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "bulwark/wire.h"
#include "bulwark/zoneset.h"
#include "zoneset_impl.h"

static void insert(struct bw_zoneset *zs, const struct bw_table *t)
{
	uint32_t at = (uint32_t)t->apex_hash & zs->mask;

	for (;;) {
		struct bw_zoneset_slot *s = &zs->slots[at];
		if (s->table == NULL) {
			s->hash = t->apex_hash;
			s->table = t;
			zs->count++;
			break;
		}
		if (s->hash == t->apex_hash &&
		    s->table->hdr->apex_len == t->hdr->apex_len &&
		    memcmp(s->table->hdr->apex, t->hdr->apex, t->hdr->apex_len) == 0) {
			s->table = t;  /* The later table for one apex wins. */
			break;
		}
		at = (at + 1) & zs->mask;
	}
	if (t->hdr->apex_labels > zs->max_labels)
		zs->max_labels = t->hdr->apex_labels;
	if (t->size > BW_ZONESET_CACHED)
		zs->prefetch = true;
}

struct bw_zoneset *bw_zoneset_new(struct bw_table *const *tables, size_t n)
{
	size_t nslots = 8;

	while (nslots < n * 2)
		nslots *= 2;
	struct bw_zoneset *zs = calloc(1, sizeof(*zs) + nslots * sizeof(zs->slots[0]));
	if (zs == NULL)
		return NULL;
	zs->mask = (uint32_t)(nslots - 1);
	for (size_t i = 0; i < n; i++)
		insert(zs, tables[i]);
	return zs;
}

void bw_zoneset_free(struct bw_zoneset *zs)
{
	free(zs);
}

size_t bw_zoneset_count(const struct bw_zoneset *zs)
{
	return zs->count;
}

const struct bw_table *bw_zoneset_find(const struct bw_zoneset *zs,
                                       const uint8_t *lname)
{
	uint8_t loff[BW_NAME_MAXLABELS + 1];
	uint64_t hash[BW_NAME_MAXLABELS + 1];
	int nl = 0;
	size_t pos = 0;

	while (lname[pos] != 0 && nl < BW_NAME_MAXLABELS) {
		loff[nl++] = (uint8_t)pos;
		pos += lname[pos] + 1u;
	}
	loff[nl] = (uint8_t)pos;
	hash[0] = BW_HASH_ROOT;
	for (int k = 1; k <= nl; k++)
		hash[k] = bw_hash_label(hash[k - 1], lname + loff[nl - k]);
	return bw_zoneset_match(zs, hash, lname, loff, nl);
}

/* ---- Per-zone counters. ---- */

const char *const bw_zone_stat_names[BW_ZSTAT_MAX] = {
	[BW_ZSTAT_ANSWERS] = "answers",
	[BW_ZSTAT_POSITIVE] = "positive",
	[BW_ZSTAT_REFERRAL] = "referral",
	[BW_ZSTAT_NODATA] = "nodata",
	[BW_ZSTAT_NXDOMAIN] = "nxdomain",
	[BW_ZSTAT_ERROR] = "error",
	[BW_ZSTAT_DO] = "do",
	[BW_ZSTAT_TC] = "tc",
};

void bw_table_set_stats(struct bw_table *t, struct bw_zone_stats *rows,
                        unsigned nrows)
{
	t->stats = rows;
	t->stats_rows = rows != NULL ? nrows : 0;
}

void bw_zone_count(const struct bw_answer_info *info, unsigned slot)
{
	bw_zone_count_inline(info, slot);
}

void bw_zone_stats_sum(const struct bw_zone_stats *rows, unsigned nrows,
                       uint64_t sum[BW_ZSTAT_MAX])
{
	memset(sum, 0, BW_ZSTAT_MAX * sizeof(sum[0]));
	for (unsigned r = 0; r < nrows; r++)
		for (unsigned i = 0; i < BW_ZSTAT_MAX; i++)
			sum[i] += __atomic_load_n(&rows[r].n[i], __ATOMIC_RELAXED);
}

/* ---- Publication. ---- */

static struct bw_zoneset *published;

struct bw_zoneset *bw_zoneset_current(void)
{
	return rcu_dereference(published);
}

struct bw_zoneset *bw_zoneset_publish(struct bw_zoneset *zs)
{
	/* rcu_xchg_pointer orders the set's construction before its
	 * publication; synchronize_rcu waits for every online reader to
	 * pass a quiescent state, after which none holds the old pointer. */
	struct bw_zoneset *old = rcu_xchg_pointer(&published, zs);

	synchronize_rcu();
	return old;
}
