/*  bulwark — SHA-1 (FIPS 180-4), internal to the dataplane.
 *
 *  Used for NSEC3 hashes (RFC 5155), which the answer engine computes per
 *  query: no allocation, no library behind it.  Not for anything that
 *  needs collision resistance.
 */
#ifndef BULWARK_DATAPLANE_SHA1_H
#define BULWARK_DATAPLANE_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define BW_SHA1_LEN   20
#define BW_SHA1_BLOCK 64

struct bw_sha1 {
	uint32_t h[5];
	uint64_t total;                 /*!< Octets hashed so far. */
	uint8_t buf[BW_SHA1_BLOCK];     /*!< Partial block. */
	size_t nbuf;
};

/*!
 * \brief Starts a new digest.
 */
void bw_sha1_init(struct bw_sha1 *c);

/*!
 * \brief Adds \a len octets of \a data.
 */
void bw_sha1_update(struct bw_sha1 *c, const void *data, size_t len);

/*!
 * \brief Pads, writes the digest to \a out; \a c must be initialised
 *        again before it is reused.
 */
void bw_sha1_final(struct bw_sha1 *c, uint8_t out[BW_SHA1_LEN]);

/*!
 * \brief Digest of one buffer.
 */
void bw_sha1(const void *data, size_t len, uint8_t out[BW_SHA1_LEN]);

#endif /* BULWARK_DATAPLANE_SHA1_H */
