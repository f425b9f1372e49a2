/*  bulwark — signing a checked zone: DNSKEY, the NSEC or NSEC3 chain and
 *  an RRSIG over every authoritative RRset (internal to zonecomp).
 */
#ifndef BULWARK_ZONECOMP_DNSSEC_SIGNER_H
#define BULWARK_ZONECOMP_DNSSEC_SIGNER_H

#include <stdbool.h>
#include <stdint.h>

#include "bulwark/diag.h"
#include "zone.h"

struct bw_signer_opts {
	const char *keydir;          /*!< Keys K<zone>+alg+tag.{key,private}. */
	uint32_t now;                /*!< Signing time; 0: the clock. */
	uint32_t validity;           /*!< Signatures' lifetime (seconds). */
	uint32_t dnskey_validity;    /*!< For DNSKEY, CDS and CDNSKEY. */
	uint32_t dnskey_ttl;         /*!< 0: the SOA's TTL. */
	bool nsec3;
	bool optout;
	uint16_t iterations;
	uint8_t salt_len;
	uint8_t salt[255];
	const struct bw_policy *policy; /*!< Keys to make when the directory
	                                  has none (NULL: one CSK, 13). */
	unsigned threads;            /*!< 0: one per core. */
};

/*!
 * \brief Signs a finished zone and replaces it by the signed one.
 *
 * Existing DNSSEC records of the input (RRSIG, NSEC, NSEC3, NSEC3PARAM,
 * DNSKEY, CDS, CDNSKEY) are dropped and made anew.  Inception is
 * back-dated by an hour; each RRset's expiration is spread over the last
 * quarter of the validity period by a hash of its owner and type, so that
 * re-signing spreads out.  Keys: all keys of the zone in the directory;
 * KSKs (and CSKs) sign DNSKEY, CDS and CDNSKEY, ZSKs (and CSKs) the rest.
 * A directory without keys gets a new CSK (BIND's default policy).
 *
 * \param zone  A finished zone, signed in place (reopened and finished
 *              again). On error it is left unusable, only to be freed.
 * \return 0, or a negative error with the reason in \a d.
 */
int bw_signer_run(struct bw_zone *zone, const struct bw_signer_opts *o,
                  struct bw_diag *d);

#endif /* BULWARK_ZONECOMP_DNSSEC_SIGNER_H */
