/*  bulwark — DNS server cookies (RFC 7873, RFC 9018) with SipHash-2-4.
 *
 *  A server cookie is 16 octets: version 1, three reserved octets (zero),
 *  a 32-bit timestamp (seconds, serial arithmetic) and the first 8 octets
 *  of SipHash-2-4 keyed with the server secret over
 *  client cookie | version | reserved | timestamp | client IP
 *  (RFC 9018 section 4.4).  Used on the fast path: no allocation.
 */
#ifndef BULWARK_DP_COOKIE_H
#define BULWARK_DP_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/flood.h"

#define BW_COOKIE_CLIENT_LEN 8
#define BW_COOKIE_SERVER_LEN 16       /*!< The server cookies we make. */
#define BW_COOKIE_SERVER_MIN 8        /*!< RFC 7873 section 4. */
#define BW_COOKIE_SERVER_MAX 32
/*! A server cookie is accepted for this long after its timestamp ... */
#define BW_COOKIE_MAX_AGE 3600
/*! ... and this far in the future (clock skew across a fleet). */
#define BW_COOKIE_MAX_SKEW 300
/*! A valid cookie older than this is replaced by a fresh one. */
#define BW_COOKIE_REFRESH 1800

/*!
 * \brief SipHash-2-4 of \a len octets with a 128-bit key; the 64-bit
 *        result as the reference implementation's little-endian output
 *        (\a out, 8 octets).
 */
void bw_siphash24(const uint8_t key[16], const void *msg, size_t len,
                  uint8_t out[8]);

/*!
 * \brief Makes the server cookie for a client cookie and client address
 *        (4 or 16 octets) at time \a now.
 */
void bw_cookie_make(const struct bw_cookie_secret *s,
                    const uint8_t client[BW_COOKIE_CLIENT_LEN],
                    const uint8_t *ip, size_t iplen, uint32_t now,
                    uint8_t out[BW_COOKIE_SERVER_LEN]);

/*!
 * \brief Checks the server cookie that came with a client cookie.
 *
 * \param server  Its octets, \a slen of them (8..32).
 * \param now     Current time: the timestamp must be within
 *                [now - BW_COOKIE_MAX_AGE, now + BW_COOKIE_MAX_SKEW].
 * \param stamp   Set to the cookie's timestamp when it verifies (may be
 *                NULL).
 * \return BW_COOKIE_VALID (made with keys->cur, or with keys->prev when
 *         has_prev) or BW_COOKIE_BAD.
 */
enum bw_cookie_state bw_cookie_check(const struct bw_cookie_keys *keys,
                                     const uint8_t client[BW_COOKIE_CLIENT_LEN],
                                     const uint8_t *server, size_t slen,
                                     const uint8_t *ip, size_t iplen,
                                     uint32_t now, uint32_t *stamp);

/*!
 * \brief Reads a secret written as 32 hexadecimal digits (BIND's
 *        cookie-secret for siphash24).
 * \return 0, or -1 for anything else (length, digits).
 */
int bw_cookie_secret_parse(const char *hex, struct bw_cookie_secret *out);

/*! \brief Writes a secret as 32 lowercase hex digits and a NUL. */
void bw_cookie_secret_text(const struct bw_cookie_secret *s, char out[33]);

#endif /* BULWARK_DP_COOKIE_H */
