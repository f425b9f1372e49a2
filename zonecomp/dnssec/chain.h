/*  bulwark — NSEC and NSEC3 chains of a zone (internal to zonecomp).
 *
 *  The builders compute the denial records a signer adds to a finished
 *  zone; the checker verifies the chain and the signature times of a zone
 *  that was signed elsewhere (--presigned).
 *
 *  TTL of NSEC and NSEC3: RFC 4034 §4 asks for the SOA MINIMUM, RFC 9077
 *  for min(SOA TTL, SOA MINIMUM), the negative-caching TTL of RFC 2308 §5.
 *  Both chains use the latter, as BIND's signer does.  NSEC3PARAM gets TTL
 *  0, also as BIND's signer does: it is not meant to be cached.
 */
#ifndef BULWARK_ZONECOMP_DNSSEC_CHAIN_H
#define BULWARK_ZONECOMP_DNSSEC_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/diag.h"
#include "parser.h"
#include "zone.h"

/*! Records computed by a builder, ready for bw_zone_add(). */
struct bw_chain {
	struct bw_rr *rrs;     /*!< Class IN, file NULL, line 0; NSEC in
	                            canonical order, NSEC3 in hash order with
	                            the NSEC3PARAM last. */
	size_t count;
	uint8_t *mem;          /*!< Owners and rdatas (private). */
	size_t used, cap, caprrs;
	size_t *offs;          /*!< Owner and rdata offsets while building. */
};

/*!
 * \brief The NSEC chain (RFC 4034 §4): one NSEC per authoritative name,
 *        the apex and delegations included, glue and empty non-terminals
 *        not; each type bitmap lists the types there plus RRSIG and NSEC;
 *        the last record points back to the apex.
 * \param z    Zone after bw_zone_finish().
 * \param out  Filled; release it with bw_chain_free().
 * \return 0 or BW_ENOMEM.
 */
int bw_chain_build_nsec(const struct bw_zone *z, struct bw_chain *out);

/*!
 * \brief The NSEC3 chain (RFC 5155 §7.1) and the NSEC3PARAM at the apex.
 *
 * Every authoritative name, delegation and empty non-terminal gets an
 * NSEC3.  With \a optout, delegations without DS and the empty
 * non-terminals that exist only because of them are left out, and every
 * NSEC3 carries the Opt-Out flag.  Bitmaps list the types there, RRSIG
 * where the signer will sign (not at empty non-terminals nor insecure
 * delegations) and NSEC3PARAM at the apex.
 *
 * \param z           Zone after bw_zone_finish().
 * \param salt        Salt (NULL when \a salt_len is 0).
 * \param salt_len    Its length.
 * \param iterations  Additional hash iterations (RFC 9276: 0).
 * \param optout      Opt-Out for insecure delegations.
 * \param out         Filled; release it with bw_chain_free().
 * \return 0, BW_ENOMEM, or BW_EEXIST when two names hash alike.
 */
int bw_chain_build_nsec3(const struct bw_zone *z, const uint8_t *salt,
                         uint8_t salt_len, uint16_t iterations, bool optout,
                         struct bw_chain *out);

/*!
 * \brief Releases what a builder made; \a c may be zeroed or half built.
 */
void bw_chain_free(struct bw_chain *c);

/*!
 * \brief Checks a signed zone as read: its denial chain and its RRSIGs.
 *
 * The chain is NSEC when the apex has an NSEC, NSEC3 when it has an
 * NSEC3PARAM (both are checked during a transition).  NSEC: every
 * authoritative name has exactly one NSEC, whose next name is the next
 * authoritative name in canonical order (the apex after the last) and
 * whose bitmap lists the types there.  NSEC3: every owner hashes a name
 * of the zone with the NSEC3PARAM's parameters, every name that needs an
 * NSEC3 has one (insecure delegations may lack one when the NSEC3
 * covering them has Opt-Out), next hashed owners form one closed sorted
 * chain, bitmaps list the types there.
 *
 * Every RRset that must be signed has an RRSIG; an expired RRSIG is an
 * error; one that expires before \a now + \a horizon gives one warning
 * per RRset at the RRset's file:line, and a note counts them all.
 * Times compare in serial-number arithmetic (RFC 4034 §3.1.5).
 *
 * \param z         Zone after bw_zone_finish().
 * \param now       Current time (seconds since the epoch, mod 2^32).
 * \param horizon   Seconds ahead in which an expiry is worth a warning.
 * \param earliest  Set to the earliest RRSIG expiration, 0 when the zone
 *                  has none; may be NULL.
 * \param d         Diagnostics.
 * \return 0, BW_EZONE when an error was reported, or BW_ENOMEM.
 */
int bw_chain_check_presigned(const struct bw_zone *z, uint32_t now,
                             uint32_t horizon, uint32_t *earliest,
                             struct bw_diag *d);

#endif /* BULWARK_ZONECOMP_DNSSEC_CHAIN_H */
