/*  bulwark — SHA-1 (FIPS 180-4 §6.1), written for NSEC3 hashing.
 */
#include "sha1.h"

#include <string.h>

#include "bulwark/wire.h"

static inline uint32_t rol(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

/* Round function and constant of step \a t (FIPS 180-4 §4.1.1, §4.2.1). */
static inline uint32_t round_f(unsigned t, uint32_t b, uint32_t c, uint32_t d)
{
	if (t < 20)
		return ((b & c) | (~b & d)) + 0x5a827999u;
	if (t < 40)
		return (b ^ c ^ d) + 0x6ed9eba1u;
	if (t < 60)
		return ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdcu;
	return (b ^ c ^ d) + 0xca62c1d6u;
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (unsigned t = 0; t < 16; t++)
		w[t] = bw_get32(p + 4 * t);
	for (unsigned t = 0; t < 80; t++) {
		/* The message schedule kept as a ring of 16 words. */
		if (t >= 16)
			w[t & 15] = rol(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^
			                w[(t - 14) & 15] ^ w[t & 15], 1);
		uint32_t tmp = rol(a, 5) + round_f(t, b, c, d) + e + w[t & 15];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void bw_sha1_init(struct bw_sha1 *c)
{
	c->h[0] = 0x67452301u;
	c->h[1] = 0xefcdab89u;
	c->h[2] = 0x98badcfeu;
	c->h[3] = 0x10325476u;
	c->h[4] = 0xc3d2e1f0u;
	c->total = 0;
	c->nbuf = 0;
}

void bw_sha1_update(struct bw_sha1 *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len == 0)
		return;
	c->total += len;
	if (c->nbuf > 0) {
		size_t n = BW_SHA1_BLOCK - c->nbuf;
		if (n > len)
			n = len;
		memcpy(c->buf + c->nbuf, p, n);
		c->nbuf += n;
		p += n;
		len -= n;
		if (c->nbuf < BW_SHA1_BLOCK)
			return;
		sha1_block(c->h, c->buf);
		c->nbuf = 0;
	}
	for (; len >= BW_SHA1_BLOCK; p += BW_SHA1_BLOCK, len -= BW_SHA1_BLOCK)
		sha1_block(c->h, p);
	memcpy(c->buf, p, len);
	c->nbuf = len;
}

void bw_sha1_final(struct bw_sha1 *c, uint8_t out[BW_SHA1_LEN])
{
	uint64_t bits = c->total * 8;

	/* 0x80, zeros up to 56 mod 64, then the bit length big-endian. */
	c->buf[c->nbuf++] = 0x80;
	if (c->nbuf > BW_SHA1_BLOCK - 8) {
		memset(c->buf + c->nbuf, 0, BW_SHA1_BLOCK - c->nbuf);
		sha1_block(c->h, c->buf);
		c->nbuf = 0;
	}
	memset(c->buf + c->nbuf, 0, BW_SHA1_BLOCK - 8 - c->nbuf);
	bw_put32(c->buf + 56, (uint32_t)(bits >> 32));
	bw_put32(c->buf + 60, (uint32_t)bits);
	sha1_block(c->h, c->buf);
	for (unsigned i = 0; i < 5; i++)
		bw_put32(out + 4 * i, c->h[i]);
}

void bw_sha1(const void *data, size_t len, uint8_t out[BW_SHA1_LEN])
{
	struct bw_sha1 c;

	bw_sha1_init(&c);
	bw_sha1_update(&c, data, len);
	bw_sha1_final(&c, out);
}
