/*  bulwark — an immutable set of loaded zones with longest-suffix lookup.
 *
 *  Built aside by the control plane and published as a whole (RCU); the
 *  workers only read it.
 */
#ifndef BULWARK_ZONESET_H
#define BULWARK_ZONESET_H

#include <stddef.h>
#include <stdint.h>

struct bw_table;
struct bw_zoneset;
struct bw_answer_info;

/*! Per-zone counters, by what was answered. */
enum bw_zone_stat {
	BW_ZSTAT_ANSWERS = 0,  /*!< Every response built from the zone. */
	BW_ZSTAT_POSITIVE,
	BW_ZSTAT_REFERRAL,
	BW_ZSTAT_NODATA,
	BW_ZSTAT_NXDOMAIN,
	BW_ZSTAT_ERROR,        /*!< FORMERR, NOTIMP, REFUSED, SERVFAIL. */
	BW_ZSTAT_DO,           /*!< Queries with the DO bit. */
	BW_ZSTAT_TC,           /*!< Truncated responses. */
	BW_ZSTAT_MAX,
};

/*! The names of enum bw_zone_stat, for statistics output. */
extern const char *const bw_zone_stat_names[BW_ZSTAT_MAX];

/*!
 * One row of a zone's counters.  A zone has one row per counting thread
 * (a slot: UDP or DPDK worker, TCP loop), each written by that thread
 * only; rows are cache-line aligned so that threads never share a line.
 */
struct bw_zone_stats {
	uint64_t n[BW_ZSTAT_MAX];
} __attribute__((aligned(64)));

/*!
 * \brief Attaches counter rows to a table before it is published.  The
 *        rows belong to the caller and must outlive every set that holds
 *        the table; a zone keeps its rows when a new version replaces its
 *        table.
 * \param rows   \a nrows rows, zeroed by the caller when new; NULL: none.
 */
void bw_table_set_stats(struct bw_table *t, struct bw_zone_stats *rows,
                        unsigned nrows);

/*!
 * \brief Counts one response in the counters of the zone it came from
 *        (nothing when it came from no zone or the zone has no rows).
 * \param info  As filled by bw_answer().
 * \param slot  The calling thread's row.
 */
void bw_zone_count(const struct bw_answer_info *info, unsigned slot);

/*!
 * \brief Sums \a nrows rows (relaxed reads: a snapshot).
 */
void bw_zone_stats_sum(const struct bw_zone_stats *rows, unsigned nrows,
                       uint64_t sum[BW_ZSTAT_MAX]);

/*!
 * \brief Builds a zone set over \a n loaded tables (not owned; they must
 *        outlive the set).  Two tables for one apex: the later one wins.
 * \return The set, or NULL when out of memory.
 */
struct bw_zoneset *bw_zoneset_new(struct bw_table *const *tables, size_t n);

void bw_zoneset_free(struct bw_zoneset *zs);

size_t bw_zoneset_count(const struct bw_zoneset *zs);

/*!
 * \brief The table whose apex is the longest suffix of \a lname.
 * \param lname  Lowercase wire name.
 * \return The table, or NULL when no loaded zone contains the name.
 */
const struct bw_table *bw_zoneset_find(const struct bw_zoneset *zs,
                                       const uint8_t *lname);

/*!
 * \brief Makes \a zs the set that every worker answers from (UDP on
 *        kernel sockets or DPDK, and TCP), and waits until no worker uses
 *        the previous one.
 *
 * Must not be called from a registered RCU reader thread.
 * \param zs  New set, or NULL.
 * \return The previous set, now unused: the caller frees it (and its
 *         tables).
 */
struct bw_zoneset *bw_zoneset_publish(struct bw_zoneset *zs);

/*!
 * \brief The published zone set (rcu_dereference).
 *
 * Call only from a registered, online liburcu QSBR reader; the set stays
 * valid until that thread's next quiescent state.
 * \return The set, or NULL when none is published.
 */
struct bw_zoneset *bw_zoneset_current(void);

#endif /* BULWARK_ZONESET_H */
