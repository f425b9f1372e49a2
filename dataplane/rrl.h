/*  bulwark — response-rate limiting with BIND's semantics, per worker.
 *
 *  One fixed-size table per worker, 4-way set associative: a key is the
 *  source prefix (rate-limit's ipv4-prefix-length / ipv6-prefix-length),
 *  the response class, and for positive answers the query name and type;
 *  NXDOMAINs and NODATAs count by the name the caller gives (the closest
 *  encloser, so all NXDOMAINs under one parent are one response), referrals
 *  by the delegation point, errors by class only.  Each entry holds a
 *  balance of responses credited at rate / workers per second (in
 *  thousandths), capped at one second's worth (at least one response);
 *  an entry unused for longer than `window` starts over; the debt is
 *  limited to window seconds' worth (BIND's rrl.c).  Over the limit,
 *  every slip'th response is slipped (sent small with TC=1, or
 *  BADCOOKIE), the others dropped.  all-per-
 *  second is a second entry per source prefix that every response debits.
 *  qps-scale lowers the rates when the worker's query rate is above
 *  qps-scale / workers.  A full bucket replaces its least recently used
 *  entry, so an attacker who cycles through more keys than the table
 *  holds is forgotten and starts with a full balance (documented in
 *  docs/floods.md).  No allocation after bw_rrl_new().
 */
#ifndef BULWARK_DP_RRL_H
#define BULWARK_DP_RRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/flood.h"

enum bw_rrl_verdict {
	BW_RRL_OK = 0,     /*!< Within the limit: answer. */
	BW_RRL_DROP,       /*!< Over: send nothing. */
	BW_RRL_SLIP,       /*!< Over: send the small TC=1 (or BADCOOKIE). */
};

/*! What one response is, for rate limiting. */
struct bw_rrl_key {
	const uint8_t *addr;      /*!< Source: 4 or 16 octets. */
	bool v6;
	enum bw_rrl_class cls;    /*!< Not BW_RRL_ALL. */
	uint16_t qtype;           /*!< Used for BW_RRL_RESPONSE only. */
	uint64_t name_hash;       /*!< Name identity (see above); unused for
	                               BW_RRL_ERROR. */
};

struct bw_rrl;

/*!
 * \brief Allocates a table of at least \a entries entries (rounded up to a
 *        power of two of 4-entry buckets; at least 64 entries).
 * \return NULL when out of memory.
 */
struct bw_rrl *bw_rrl_new(unsigned entries);

void bw_rrl_free(struct bw_rrl *r);

/*! \brief Bytes the table of \a r uses. */
size_t bw_rrl_bytes(const struct bw_rrl *r);

/*! \brief Entries of \a r (after rounding). */
unsigned bw_rrl_entries(const struct bw_rrl *r);

/*!
 * \brief Debits one response and says what to do with it.
 *
 * \param r        The worker's table.
 * \param c        Settings (c->enabled must be true).
 * \param k        The response.
 * \param workers  Rates are divided by this (at least 1).
 * \param now_ms   Monotonic milliseconds.
 * \return BW_RRL_OK, BW_RRL_DROP or BW_RRL_SLIP.  log_only is the
 *         caller's business: the verdict is what would happen.
 */
enum bw_rrl_verdict bw_rrl_account(struct bw_rrl *r, const struct bw_rrl_conf *c,
                                   const struct bw_rrl_key *k, unsigned workers,
                                   uint64_t now_ms);

/*! \brief Forgets every entry (settings changed). */
void bw_rrl_clear(struct bw_rrl *r);

#endif /* BULWARK_DP_RRL_H */
