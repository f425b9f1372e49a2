/*  bulwark — DNS server cookies (RFC 9018 section 4) and SipHash-2-4
 *  (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012).
 */
#include "cookie.h"

#include <string.h>

/* ---- SipHash-2-4. ---- */

/*! The four state words. */
struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (unsigned i = 8; i-- > 0;)
		x = (x << 8) | p[i];
	return x;
}

static void store_le64(uint8_t *p, uint64_t x)
{
	for (unsigned i = 0; i < 8; i++, x >>= 8)
		p[i] = (uint8_t)x;
}

/*! One SipRound (the paper's figure 2.1). */
static void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13) ^ s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17) ^ s->v2;
	s->v2 = rotl64(s->v2, 32);
}

/*! Compression of one message word: c = 2 rounds. */
static void sip_compress(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

void bw_siphash24(const uint8_t key[16], const void *msg, size_t len,
                  uint8_t out[8])
{
	const uint8_t *p = msg;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	struct sip s = {
		k0 ^ UINT64_C(0x736f6d6570736575), k1 ^ UINT64_C(0x646f72616e646f6d),
		k0 ^ UINT64_C(0x6c7967656e657261), k1 ^ UINT64_C(0x7465646279746573),
	};
	size_t full = len & ~(size_t)7;
	uint64_t last = (uint64_t)(len & 0xff) << 56;

	/* Whole words, then the tail with the length in the top octet. */
	for (size_t i = 0; i < full; i += 8)
		sip_compress(&s, load_le64(p + i));
	for (size_t i = full; i < len; i++)
		last |= (uint64_t)p[i] << (8 * (i - full));
	sip_compress(&s, last);
	/* Finalization: d = 4 rounds. */
	s.v2 ^= 0xff;
	for (unsigned r = 0; r < 4; r++)
		sip_round(&s);
	store_le64(out, s.v0 ^ s.v1 ^ s.v2 ^ s.v3);
}

/* ---- Server cookies. ---- */

/*! Octets of the hash input: client cookie, version, reserved, timestamp
 *  and at most an IPv6 address. */
#define COOKIE_INPUT_MAX (BW_COOKIE_CLIENT_LEN + 8 + 16)
/*! Version, reserved and timestamp: the server cookie before its hash. */
#define COOKIE_HEAD_LEN 8
#define COOKIE_VERSION 1

/*! The hash of a server cookie whose first 8 octets are \a head. */
static void cookie_hash(const struct bw_cookie_secret *s,
                        const uint8_t client[BW_COOKIE_CLIENT_LEN],
                        const uint8_t head[COOKIE_HEAD_LEN],
                        const uint8_t *ip, size_t iplen, uint8_t out[8])
{
	uint8_t in[COOKIE_INPUT_MAX];

	if (iplen > 16)
		iplen = 16;
	memcpy(in, client, BW_COOKIE_CLIENT_LEN);
	memcpy(in + BW_COOKIE_CLIENT_LEN, head, COOKIE_HEAD_LEN);
	memcpy(in + BW_COOKIE_CLIENT_LEN + COOKIE_HEAD_LEN, ip, iplen);
	bw_siphash24(s->key, in, BW_COOKIE_CLIENT_LEN + COOKIE_HEAD_LEN + iplen,
	             out);
}

void bw_cookie_make(const struct bw_cookie_secret *s,
                    const uint8_t client[BW_COOKIE_CLIENT_LEN],
                    const uint8_t *ip, size_t iplen, uint32_t now,
                    uint8_t out[BW_COOKIE_SERVER_LEN])
{
	/* Version, reserved, timestamp in network order, then the hash. */
	out[0] = COOKIE_VERSION;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(now >> 24);
	out[5] = (uint8_t)(now >> 16);
	out[6] = (uint8_t)(now >> 8);
	out[7] = (uint8_t)now;
	cookie_hash(s, client, out, ip, iplen, out + COOKIE_HEAD_LEN);
}

/*! Whether \a a and \a b (8 octets) are equal, in constant time. */
static bool hash_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	for (unsigned i = 0; i < 8; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/*!
 * Whether \a stamp lies in [now - MAX_AGE, now + MAX_SKEW] in serial
 * number arithmetic (RFC 1982, 32 bits): both distances are taken modulo
 * 2^32, so the window holds across the wrap-around.
 */
static bool stamp_in_window(uint32_t stamp, uint32_t now)
{
	return (uint32_t)(now - stamp) <= BW_COOKIE_MAX_AGE ||
	       (uint32_t)(stamp - now) <= BW_COOKIE_MAX_SKEW;
}

/*! Whether \a server (16 octets) has the hash \a s makes. */
static bool cookie_verifies(const struct bw_cookie_secret *s,
                            const uint8_t client[BW_COOKIE_CLIENT_LEN],
                            const uint8_t *server, const uint8_t *ip,
                            size_t iplen)
{
	uint8_t h[8];

	cookie_hash(s, client, server, ip, iplen, h);
	return hash_equal(h, server + COOKIE_HEAD_LEN);
}

enum bw_cookie_state bw_cookie_check(const struct bw_cookie_keys *keys,
                                     const uint8_t client[BW_COOKIE_CLIENT_LEN],
                                     const uint8_t *server, size_t slen,
                                     const uint8_t *ip, size_t iplen,
                                     uint32_t now, uint32_t *stamp)
{
	uint32_t ts;

	/* Only cookies of ours: 16 octets, version 1, from 4 or 16. */
	if (slen != BW_COOKIE_SERVER_LEN || server[0] != COOKIE_VERSION ||
	    (iplen != 4 && iplen != 16))
		return BW_COOKIE_BAD;
	ts = (uint32_t)server[4] << 24 | (uint32_t)server[5] << 16 |
	     (uint32_t)server[6] << 8 | server[7];
	if (!stamp_in_window(ts, now))
		return BW_COOKIE_BAD;
	if (!cookie_verifies(&keys->cur, client, server, ip, iplen) &&
	    !(keys->has_prev &&
	      cookie_verifies(&keys->prev, client, server, ip, iplen)))
		return BW_COOKIE_BAD;
	if (stamp != NULL)
		*stamp = ts;
	return BW_COOKIE_VALID;
}

/* ---- Secrets as text. ---- */

#define SECRET_DIGITS (2 * sizeof(((struct bw_cookie_secret *)0)->key))

/*! The value of a hexadecimal digit, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int bw_cookie_secret_parse(const char *hex, struct bw_cookie_secret *out)
{
	struct bw_cookie_secret s;

	if (hex == NULL || strlen(hex) != SECRET_DIGITS)
		return -1;
	for (size_t i = 0; i < sizeof(s.key); i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		s.key[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = s;
	return 0;
}

void bw_cookie_secret_text(const struct bw_cookie_secret *s, char out[33])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < sizeof(s->key); i++) {
		out[2 * i] = digits[s->key[i] >> 4];
		out[2 * i + 1] = digits[s->key[i] & 15];
	}
	out[SECRET_DIGITS] = '\0';
}
