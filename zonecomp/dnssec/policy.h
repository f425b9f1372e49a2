/*  bulwark — dnssec-policy blocks of a named.conf file (internal to
 *  zonecomp).
 *
 *  bulwark-compile -c CONF --policy NAME signs as the `dnssec-policy`
 *  block NAME of CONF says, written as BIND 9.18 reads it.  The rest of
 *  CONF (options, zone, key, acl, dataplane, ...) is skipped; `include`
 *  is followed.  Durations are seconds, BIND units ("1h30m", "2w") or
 *  ISO 8601 ("P1Y2M3DT4H5M6S", "P2W"; a year is 365 days and a month 31,
 *  as in BIND).
 */
#ifndef BULWARK_ZONECOMP_DNSSEC_POLICY_H
#define BULWARK_ZONECOMP_DNSSEC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/diag.h"
#include "key.h"

/*! Most keys in one policy. */
#define BW_POLICY_KEYS_MAX 8u
/*! Most NSEC3 iterations a policy may ask for (BIND 9.18's limit). */
#define BW_POLICY_NSEC3_ITER_MAX 150u

/*! One line of `keys { ... };`. */
struct bw_policy_key {
	enum bw_key_role role;  /*!< BW_KEY_KSK, BW_KEY_ZSK or BW_KEY_CSK. */
	uint32_t lifetime;      /*!< Seconds; 0: unlimited. */
	uint8_t alg;
	unsigned bits;          /*!< 0: the algorithm's default size. */
};

/*! A dnssec-policy; durations in seconds. */
struct bw_policy {
	char name[64];
	struct bw_policy_key keys[BW_POLICY_KEYS_MAX];
	size_t nkeys;
	uint32_t dnskey_ttl;                  /*!< 3600. */
	uint32_t signatures_validity;         /*!< 14 days. */
	uint32_t signatures_validity_dnskey;  /*!< 14 days. */
	uint32_t signatures_refresh;          /*!< 5 days. */
	bool nsec3;                           /*!< false: NSEC. */
	uint16_t nsec3_iterations;            /*!< 0. */
	bool nsec3_optout;                    /*!< false. */
	uint8_t nsec3_salt_len;               /*!< 0. */
	/* Key timing: parsed and checked, kept for rollovers. */
	uint32_t max_zone_ttl;                /*!< 1 day. */
	uint32_t publish_safety;              /*!< 1 hour. */
	uint32_t retire_safety;               /*!< 1 hour. */
	uint32_t purge_keys;                  /*!< 90 days. */
	uint32_t zone_propagation_delay;      /*!< 5 minutes. */
	uint32_t parent_ds_ttl;               /*!< 1 day. */
	uint32_t parent_propagation_delay;    /*!< 1 hour. */
	uint8_t cds_digests[4];               /*!< `cds-digest-types`; SHA-256. */
	size_t ncds_digests;
};

/*!
 * \brief Fills \a p with BIND's built-in "default" policy: one CSK,
 *        ECDSAP256SHA256, unlimited lifetime, NSEC, BIND's timings.
 */
void bw_policy_default(struct bw_policy *p);

/*!
 * \brief Reads the dnssec-policy \a name from \a conf_path.
 *
 * "default" with no block of that name in the file is the built-in
 * policy.  "insecure" and "none" are refused: they sign nothing.
 *
 * \param conf_path  named.conf-style file; may be NULL for "default".
 * \param name       Policy name.
 * \param out        Set on success only.
 * \param d          Errors and warnings, with file:line.
 * \return 0, BW_ECONF (reported), BW_EDEPTH (includes too deep),
 *         BW_ENOMEM, or a negative errno when the file cannot be read.
 */
int bw_policy_load(const char *conf_path, const char *name,
                   struct bw_policy *out, struct bw_diag *d);

/*!
 * \brief Parses a duration as dnssec-policy does: seconds, BIND units or
 *        ISO 8601.
 * \return 0, or BW_ESYNTAX (also when it exceeds 32 bits of seconds).
 */
int bw_policy_duration(const char *txt, uint32_t *secs);

#endif /* BULWARK_ZONECOMP_DNSSEC_POLICY_H */
