/*  bulwark — NSEC3 hashing (RFC 5155 §5), shared by the compiler, which
 *  builds and checks NSEC3 chains, and the answer engine, which hashes the
 *  next closer name of a query.  Nothing here allocates.
 *
 *  Base32hex, for hashed owner labels, is in wire.h.
 */
#ifndef BULWARK_NSEC3_H
#define BULWARK_NSEC3_H

#include <stddef.h>
#include <stdint.h>

#include "bulwark/wire.h"

/*! SHA-1, the only NSEC3 hash algorithm (RFC 5155 §11). */
#define BW_NSEC3_ALG_SHA1   1
#define BW_NSEC3_HASH_LEN   20
/*! Length of a hashed owner label: 32 base32hex digits. */
#define BW_NSEC3_LABEL_LEN  BW_BASE32HEX_LEN(BW_NSEC3_HASH_LEN)
/*! The Opt-Out flag of NSEC3 (RFC 5155 §3.1.2.1). */
#define BW_NSEC3_FLAG_OPTOUT 0x01

/*!
 * \brief The NSEC3 hash of a name: IH(salt, x, 0) = H(x || salt),
 *        IH(salt, x, k) = H(IH(salt, x, k-1) || salt), with H = SHA-1.
 *
 * \param lname       Lowercase uncompressed wire name (RFC 5155 §5 hashes
 *                    the canonical form).
 * \param salt        Salt octets (may be NULL when \a salt_len is 0).
 * \param salt_len    Salt length.
 * \param iterations  Additional iterations.
 * \param out         The hash.
 * \return 0, or BW_EINVAL when \a lname is not a valid name.
 */
int bw_nsec3_hash(const uint8_t *lname, const uint8_t *salt, uint8_t salt_len,
                  uint16_t iterations, uint8_t out[BW_NSEC3_HASH_LEN]);

#endif /* BULWARK_NSEC3_H */
