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
