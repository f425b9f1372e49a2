/*  bulwark — the zone registry: which zones are loaded, from where, and
 *  the zone set published from them.
 *
 *  Every change (zone-load, zone-unload, a reload's batch) builds a new
 *  immutable zone set aside, publishes it with bw_zoneset_publish() (RCU:
 *  rcu_xchg_pointer, then synchronize_rcu), and only then closes the
 *  tables that the old set held.  Changes are serialized; readers of the
 *  registry (zone-list, zone-status, stats) take a short lock and never
 *  wait for a table to be verified.  Zones loaded or unloaded through the
 *  control socket are recorded in DIRECTORY/zones.state, written
 *  atomically, and applied again at start.
 */
#ifndef BULWARK_CP_REGISTRY_H
#define BULWARK_CP_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ctl_proto.h"
#include "json.h"

/*! Name of the state file in `directory`. */
#define BW_REG_STATE "zones.state"

struct bw_registry;

/*!
 * \brief Creates an empty registry.
 * \param directory  Where the state file lives (NULL: no state file).
 * \param slots      Counter rows per zone (counting threads).
 * \return The registry, or NULL when out of memory.
 */
struct bw_registry *bw_reg_new(const char *directory, unsigned slots);

/*!
 * \brief Unpublishes the zone set, then frees every table and \a r.
 */
void bw_reg_free(struct bw_registry *r);

/*!
 * \brief Loads every zone of \a conf, then applies the state file, and
 *        publishes the result.  A zone that fails to load is logged and
 *        skipped.
 * \return The number of zones that failed.
 */
size_t bw_reg_start(struct bw_registry *r, const struct bw_conf *conf);

/*!
 * \brief zone-load: opens and verifies \a path, checks that it holds
 *        \a apex, publishes it (replacing that zone's table) and records
 *        it in the state file.  Returns after no worker uses the old set.
 * \param result  Set to the result object on success.
 * \return 0, or a negative error with \a e filled; nothing changed then.
 */
int bw_reg_load(struct bw_registry *r, const char *zone, const char *path,
                struct bw_json **result, struct bw_ctl_error *e);

/*! \brief zone-unload; as bw_reg_load(). */
int bw_reg_unload(struct bw_registry *r, const char *zone,
                  struct bw_json **result, struct bw_ctl_error *e);

/*!
 * \brief reload: applies the zones of \a next (the new configuration)
 *        against those of \a prev (the running one), in one publication.
 */
int bw_reg_reload(struct bw_registry *r, const struct bw_conf *prev,
                  const struct bw_conf *next, struct bw_json **result,
                  struct bw_ctl_error *e);

/*! \brief zone-list: {"zones": [...]}; NULL when out of memory. */
struct bw_json *bw_reg_list(struct bw_registry *r);

/*! \brief zone-status of one zone. */
int bw_reg_status(struct bw_registry *r, const char *zone,
                  struct bw_json **result, struct bw_ctl_error *e);

/*! \brief Appends {"zone": ..., counters...} per zone to \a arr. */
void bw_reg_stats(struct bw_registry *r, struct bw_json *arr);

/*! \brief Makes the zones' current counter values their baseline. */
void bw_reg_stats_reset(struct bw_registry *r);

/*! \brief Number of loaded zones. */
size_t bw_reg_count(struct bw_registry *r);

/*! \brief Zone sets published since bw_reg_new(). */
uint64_t bw_reg_publications(struct bw_registry *r);

/*!
 * \brief Writes a zone name for logs and replies: presentation form,
 *        lowercase, with the final dot.
 */
void bw_reg_zone_text(const uint8_t *apex, char *out, size_t cap);

#endif /* BULWARK_CP_REGISTRY_H */
