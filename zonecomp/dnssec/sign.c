/*  bulwark — RRSIGs over one RRset: the signed data in canonical form,
 *  signing and verifying through OpenSSL 3.
 */
#include "sign.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "keyalg.h"

#define DER_MAX (BW_SIG_MAXLEN + 16)

/* One rdata in canonical form, inside the signed-data buffer. */
struct canon_rd {
	const uint8_t *p;
	uint16_t len;
};

static int canon_cmp(const void *a, const void *b)
{
	const struct canon_rd *x = a, *y = b;

	return bw_rdata_cmp(x->p, x->len, y->p, y->len);
}

/* Copies the rdatas after \a area in canonical form and sorts them. */
static void canon_rdatas(uint16_t type, const struct bw_zone_rdata *rd,
                         size_t count, uint8_t *area, struct canon_rd *c)
{
	for (size_t i = 0; i < count; i++) {
		memcpy(area, rd[i].data, rd[i].len);
		bw_rdata_canonicalize(type, area, rd[i].len);
		c[i] = (struct canon_rd){ area, rd[i].len };
		area += rd[i].len;
	}
	qsort(c, count, sizeof(*c), canon_cmp);
}

/* Writes the records of the RRset, duplicates left out. */
static size_t put_records(uint8_t *p, const uint8_t *name, size_t nl,
                          uint16_t type, uint32_t ttl,
                          const struct canon_rd *c, size_t count)
{
	uint8_t *start = p;

	for (size_t i = 0; i < count; i++) {
		if (i > 0 && canon_cmp(&c[i - 1], &c[i]) == 0)
			continue;
		memcpy(p, name, nl);
		p += nl;
		bw_put16(p, type);
		bw_put16(p + 2, BW_CLASS_IN);
		bw_put32(p + 4, ttl);
		bw_put16(p + 8, c[i].len);
		memcpy(p + 10, c[i].p, c[i].len);
		p += 10 + c[i].len;
	}
	return (size_t)(p - start);
}

/*
 * The data that is signed: \a hdr (RRSIG rdata without the signature),
 * then the RRset in canonical form.  The caller frees *out.
 */
static int signed_data(const uint8_t *hdr, size_t hdrlen, const uint8_t *owner,
                       uint16_t type, uint32_t ttl,
                       const struct bw_zone_rdata *rd, size_t count,
                       uint8_t **out, size_t *outlen)
{
	uint8_t name[BW_NAME_MAXLEN];
	size_t nl = bw_name_len(owner), total = hdrlen, rdsum = 0;

	for (size_t i = 0; i < count; i++)
		rdsum += rd[i].len;
	total += count * (nl + 10) + rdsum;
	uint8_t *buf = malloc(total + rdsum);
	struct canon_rd *c = malloc(count * sizeof(*c));
	if (buf == NULL || c == NULL) {
		free(buf);
		free(c);
		return BW_ENOMEM;
	}
	memcpy(name, owner, nl);
	bw_name_lower(name);
	canon_rdatas(type, rd, count, buf + total, c);
	memcpy(buf, hdr, hdrlen);
	*outlen = hdrlen + put_records(buf + hdrlen, name, nl, type, ttl, c, count);
	free(c);
	*out = buf;
	return 0;
}

/* ---- ECDSA signatures: DER (OpenSSL) <-> r||s (RFC 6605 §4). ---- */

static int der_to_raw(const uint8_t *der, size_t len, size_t size, uint8_t *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int rc = BW_EIO;

	if (sig == NULL)
		return BW_EIO;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, (int)size) == (int)size &&
	    BN_bn2binpad(s, out + size, (int)size) == (int)size)
		rc = (int)(2 * size);
	ECDSA_SIG_free(sig);
	return rc;
}

static int raw_to_der(const uint8_t *raw, size_t size, uint8_t *der)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, (int)size, NULL);
	BIGNUM *s = BN_bin2bn(raw + size, (int)size, NULL);
	int len = BW_ENOMEM;

	if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
		r = s = NULL;   /* owned by sig now */
		unsigned char *p = der;
		len = i2d_ECDSA_SIG(sig, &p);
		if (len <= 0 || len > DER_MAX)
			len = BW_EIO;
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return len;
}

/* ---- Signing. ---- */

static int evp_sign(const struct bw_key *k, const uint8_t *data, size_t len,
                    uint8_t *sig, size_t cap)
{
	const struct bw_key_alg_info *ai = bw_key_alg_info(k->alg);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[DER_MAX];
	size_t dl = sizeof(der);
	int rc = BW_EIO;

	if (ctx == NULL)
		return BW_ENOMEM;
	if (EVP_DigestSignInit_ex(ctx, NULL, ai->md, NULL, NULL, k->pkey,
	                          NULL) == 1 &&
	    EVP_DigestSign(ctx, der, &dl, data, len) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	if (rc != 0)
		return rc;
	if (ai->group != NULL)
		return cap < 2u * ai->size ? BW_ENOSPC : der_to_raw(der, dl, ai->size, sig);
	if (dl > cap)
		return BW_ENOSPC;
	memcpy(sig, der, dl);
	return (int)dl;
}

/* Labels of an owner, the "*" of a wildcard not counted. */
static uint8_t sig_labels(const uint8_t *owner)
{
	int n = bw_name_labels(owner);

	if (owner[0] == 1 && owner[1] == '*')
		n--;
	return (uint8_t)n;
}

int bw_sign_rrset(const struct bw_key *key, const uint8_t *owner,
                  uint16_t type, uint32_t ttl, const struct bw_zone_rdata *rd,
                  size_t count, uint32_t inception, uint32_t expiration,
                  uint8_t *out, size_t cap)
{
	size_t sl = bw_name_len(key->owner), hl = BW_RRSIG_FIXED + sl;
	uint8_t *data;
	size_t dlen;
	int rc;

	if (!key->has_private || count == 0 || bw_key_alg_info(key->alg) == NULL)
		return BW_EINVAL;
	if (cap < hl)
		return BW_ENOSPC;
	bw_put16(out, type);
	out[2] = key->alg;
	out[3] = sig_labels(owner);
	bw_put32(out + 4, ttl);
	bw_put32(out + 8, expiration);
	bw_put32(out + 12, inception);
	bw_put16(out + 16, key->tag);
	memcpy(out + BW_RRSIG_FIXED, key->owner, sl);
	bw_name_lower(out + BW_RRSIG_FIXED);
	if ((rc = signed_data(out, hl, owner, type, ttl, rd, count, &data,
	                      &dlen)) != 0)
		return rc;
	rc = evp_sign(key, data, dlen, out + hl, cap - hl);
	free(data);
	return rc < 0 ? rc : (int)hl + rc;
}

/* ---- Verifying. ---- */

static int evp_verify(const struct bw_key *k, const uint8_t *data, size_t len,
                      const uint8_t *sig, size_t siglen)
{
	const struct bw_key_alg_info *ai = bw_key_alg_info(k->alg);
	uint8_t der[DER_MAX];
	EVP_MD_CTX *ctx;
	int rc = BW_EINVAL;

	if (ai->group != NULL) {
		if (siglen != 2u * ai->size)
			return BW_EINVAL;
		int n = raw_to_der(sig, ai->size, der);
		if (n < 0)
			return n;
		sig = der;
		siglen = (size_t)n;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return BW_ENOMEM;
	if (EVP_DigestVerifyInit_ex(ctx, NULL, ai->md, NULL, NULL, k->pkey,
	                            NULL) != 1)
		rc = BW_EIO;
	else if (EVP_DigestVerify(ctx, sig, siglen, data, len) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* The name that was signed: the owner, or the wildcard it came from. */
static int signed_owner(const uint8_t *owner, uint8_t labels, uint8_t *out)
{
	int have = bw_name_labels(owner);
	const uint8_t *p = owner;

	if (labels > have)
		return BW_EINVAL;
	if (labels == have) {
		memcpy(out, owner, bw_name_len(owner));
		return 0;
	}
	for (int i = 0; i < have - labels; i++)
		p += p[0] + 1;
	out[0] = 1;
	out[1] = '*';
	memcpy(out + 2, p, bw_name_len(p));
	return 0;
}

int bw_sign_verify(const struct bw_key *key, const uint8_t *owner,
                   uint16_t type, const struct bw_zone_rdata *rd, size_t count,
                   const uint8_t *rrsig, size_t len)
{
	uint8_t hdr[BW_RRSIG_FIXED + BW_NAME_MAXLEN], name[BW_NAME_MAXLEN];
	uint8_t *data;
	size_t dlen;
	int sl, rc;

	if (len < BW_RRSIG_FIXED + 1 ||
	    (sl = bw_name_check(rrsig + BW_RRSIG_FIXED, len - BW_RRSIG_FIXED)) < 0)
		return BW_EMALF;
	if (bw_get16(rrsig) != type || rrsig[2] != key->alg ||
	    bw_get16(rrsig + 16) != key->tag || count == 0 ||
	    !bw_name_equal(rrsig + BW_RRSIG_FIXED, key->owner) ||
	    bw_key_alg_info(key->alg) == NULL ||
	    signed_owner(owner, rrsig[3], name) != 0)
		return BW_EINVAL;
	memcpy(hdr, rrsig, BW_RRSIG_FIXED + (size_t)sl);
	bw_name_lower(hdr + BW_RRSIG_FIXED);
	rc = signed_data(hdr, BW_RRSIG_FIXED + (size_t)sl, name, type,
	                 bw_get32(rrsig + 4), rd, count, &data, &dlen);
	if (rc != 0)
		return rc;
	rc = evp_verify(key, data, dlen, rrsig + BW_RRSIG_FIXED + sl,
	                len - BW_RRSIG_FIXED - (size_t)sl);
	free(data);
	return rc;
}
