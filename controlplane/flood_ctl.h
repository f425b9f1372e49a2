/*  bulwark — flood mitigation in the control plane.
 *
 *  Owns every worker's struct bw_flood_worker (the io workers', then one
 *  for the TCP loop), runs the detector thread that merges their sketches
 *  every `interval` and flags and releases parents under attack, keeps the
 *  operator's filters and the cookie secrets, and publishes the policy the
 *  workers read (RCU).  Filters and secrets set through bulwarkctl are
 *  kept in DIRECTORY/flood.state (written before they are published, like
 *  zones.state).  docs/floods.md is the operator's reference.
 */
#ifndef BULWARK_CP_FLOOD_CTL_H
#define BULWARK_CP_FLOOD_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "bulwark/flood.h"
#include "conf.h"
#include "ctl_proto.h"
#include "json.h"

/*! Filters and secrets set at run time. */
#define BW_FLOOD_STATE "flood.state"

struct bw_floodctl;

/*!
 * \brief Allocates the workers' state (\a workers io workers and one for
 *        TCP), reads flood.state, publishes the first policy and starts
 *        the detector.  Call before the workers start.
 * \return 0 or a negative error with the reason in \a err.
 */
int bw_floodctl_start(const struct bw_conf *conf, unsigned workers,
                      struct bw_floodctl **out, char *err, size_t errlen);

/*!
 * \brief Stops the detector, publishes no policy and frees everything;
 *        call after the workers stopped (NULL is accepted).
 */
void bw_floodctl_stop(struct bw_floodctl *fc);

/*! \brief The workers' states: io worker i uses [i], TCP [workers]. */
struct bw_flood_worker *const *bw_floodctl_workers(const struct bw_floodctl *fc);

/*!
 * \brief Applies the settings of a reloaded configuration (rate-limit,
 *        cookies, flood-mitigation); \a notes gets a warning for what
 *        needs a restart (max-table-size).
 */
void bw_floodctl_reconfigure(struct bw_floodctl *fc, const struct bw_conf *conf,
                             struct bw_json *notes);

/*! \brief The flood-status command's result. */
struct bw_json *bw_floodctl_status(struct bw_floodctl *fc);

/*! \brief The counters for `stats` ({"rrl_drop": n, ...}). */
struct bw_json *bw_floodctl_stats(struct bw_floodctl *fc);

/*!
 * \brief filter-add: compiles the rules with one more, records and
 *        publishes them.  Nothing changes on error (Hyperscan's message).
 */
int bw_floodctl_filter_add(struct bw_floodctl *fc, const struct bw_json *args,
                           struct bw_json **result, struct bw_ctl_error *e);

/*! \brief filter-del: removes the rule with the given id. */
int bw_floodctl_filter_del(struct bw_floodctl *fc, const struct bw_json *args,
                           struct bw_json **result, struct bw_ctl_error *e);

/*! \brief filter-list. */
struct bw_json *bw_floodctl_filter_list(struct bw_floodctl *fc);

/*!
 * \brief cookie-secret: with `secret`, the new secret makes cookies and
 *        the previous one still verifies them (rollover); with
 *        `drop-previous`, only the current one is kept.  Without either,
 *        reports fingerprints.
 */
int bw_floodctl_cookie_secret(struct bw_floodctl *fc, const struct bw_json *args,
                              struct bw_json **result, struct bw_ctl_error *e);

#endif /* BULWARK_CP_FLOOD_CTL_H */
