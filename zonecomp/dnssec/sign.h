/*  bulwark — RRSIGs over one RRset (internal to zonecomp).
 *
 *  The signed data is built as RFC 4034 §3.1.8.1 says: the RRSIG rdata
 *  without the signature, then every RR of the set in canonical form
 *  (§6.2: owner and embedded names lowercased, the original TTL) and
 *  canonical order (§6.3), duplicates left out.  ECDSA signatures are the
 *  raw r||s of RFC 6605 §4, EdDSA signatures those of RFC 8080 §4.
 *
 *  Every call uses its own OpenSSL contexts: threads may sign with the
 *  same key at the same time.
 */
#ifndef BULWARK_ZONECOMP_DNSSEC_SIGN_H
#define BULWARK_ZONECOMP_DNSSEC_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "zone.h"

/*! Fixed part of RRSIG rdata before the signer name. */
#define BW_RRSIG_FIXED 18

/*!
 * \brief Signs an RRset of class IN.
 *
 * \param key         Key with its private part.
 * \param owner       Owner (wire, any case); a wildcard owner "*.x" gives
 *                    the labels count of "x" (RFC 4034 §3.1.3).
 * \param type        Type of the RRset.
 * \param ttl         Its TTL, written as the original TTL.
 * \param rd          Its rdatas, in any order and case.
 * \param count       Their number (at least 1).
 * \param inception   Signature inception (seconds, RFC 1982 arithmetic).
 * \param expiration  Signature expiration.
 * \param out         RRSIG rdata.
 * \param cap         Its size (BW_RRSIG_FIXED + 255 + BW_SIG_MAXLEN is
 *                    always enough).
 * \return Rdata length, BW_EINVAL (no private key, no rdata),
 *         BW_ENOSPC, BW_ENOMEM or BW_EIO (OpenSSL failed).
 */
int bw_sign_rrset(const struct bw_key *key, const uint8_t *owner,
                  uint16_t type, uint32_t ttl, const struct bw_zone_rdata *rd,
                  size_t count, uint32_t inception, uint32_t expiration,
                  uint8_t *out, size_t cap);

/*!
 * \brief Checks an RRSIG over an RRset with a key: algorithm, key tag,
 *        signer name, labels and the signature itself.  The validity
 *        period is not looked at.
 *
 * \param key    Key (public part suffices; see bw_key_from_dnskey()).
 * \param owner  Owner of the RRset; when the RRSIG's labels count is
 *               smaller, the signature is checked for the wildcard that
 *               the owner was expanded from (RFC 4035 §5.3.2).
 * \param type   Type of the RRset; must be the type covered.
 * \param rd     The RRset's rdatas.
 * \param count  Their number.
 * \param rrsig  RRSIG rdata.
 * \param len    Its length.
 * \return 0 when the signature is good, BW_EINVAL when it is not (or does
 *         not belong to the key), BW_EMALF, BW_ENOMEM or BW_EIO.
 */
int bw_sign_verify(const struct bw_key *key, const uint8_t *owner,
                   uint16_t type, const struct bw_zone_rdata *rd, size_t count,
                   const uint8_t *rrsig, size_t len);

#endif /* BULWARK_ZONECOMP_DNSSEC_SIGN_H */
