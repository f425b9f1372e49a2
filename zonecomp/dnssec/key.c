/*  bulwark — DNSSEC keys: algorithms, key material through OpenSSL 3,
 *  DNSKEY rdata, key tags, DS/CDS/CDNSKEY.  The files are in keyfile.c.
 */
#include "key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "keyalg.h"

static const struct bw_key_alg_info alg_infos[] = {
	{ BW_ALG_RSASHA1, "RSASHA1", "RSA", "SHA1", NULL, 0, 0 },
	{ BW_ALG_RSASHA1_NSEC3, "NSEC3RSASHA1", "RSA", "SHA1", NULL, 0, 0 },
	{ BW_ALG_RSASHA256, "RSASHA256", "RSA", "SHA256", NULL, 0, 0 },
	{ BW_ALG_RSASHA512, "RSASHA512", "RSA", "SHA512", NULL, 0, 0 },
	{ BW_ALG_ECDSAP256SHA256, "ECDSAP256SHA256", "EC", "SHA256", "P-256",
	  32, 256 },
	{ BW_ALG_ECDSAP384SHA384, "ECDSAP384SHA384", "EC", "SHA384", "P-384",
	  48, 384 },
	{ BW_ALG_ED25519, "ED25519", "ED25519", NULL, NULL, 32, 256 },
	{ BW_ALG_ED448, "ED448", "ED448", NULL, NULL, 57, 456 },
};

/* The private fields of an RSA key, in the order BIND writes them. */
static const struct {
	const char *tag;
	const char *param;
} rsa_fields[] = {
	{ "Modulus", OSSL_PKEY_PARAM_RSA_N },
	{ "PublicExponent", OSSL_PKEY_PARAM_RSA_E },
	{ "PrivateExponent", OSSL_PKEY_PARAM_RSA_D },
	{ "Prime1", OSSL_PKEY_PARAM_RSA_FACTOR1 },
	{ "Prime2", OSSL_PKEY_PARAM_RSA_FACTOR2 },
	{ "Exponent1", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
	{ "Exponent2", OSSL_PKEY_PARAM_RSA_EXPONENT2 },
	{ "Coefficient", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
};

#define NRSA (sizeof(rsa_fields) / sizeof(rsa_fields[0]))
#define MAXMATERIAL 1024   /* largest binary field: a 4096-bit modulus */

const struct bw_key_alg_info *bw_key_alg_info(uint8_t alg)
{
	for (size_t i = 0; i < sizeof(alg_infos) / sizeof(alg_infos[0]); i++) {
		if (alg_infos[i].alg == alg)
			return &alg_infos[i];
	}
	return NULL;
}

const char *bw_key_alg_name(uint8_t alg)
{
	const struct bw_key_alg_info *ai = bw_key_alg_info(alg);

	return ai ? ai->name : NULL;
}

int bw_key_alg_from_text(const char *txt, uint8_t *alg)
{
	char *end;
	unsigned long v = strtoul(txt, &end, 10);

	if (end != txt && *end == '\0' && v <= 255 && bw_key_alg_info((uint8_t)v)) {
		*alg = (uint8_t)v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(alg_infos) / sizeof(alg_infos[0]); i++) {
		if (strcasecmp(alg_infos[i].name, txt) == 0) {
			*alg = alg_infos[i].alg;
			return 0;
		}
	}
	return BW_EINVAL;
}

uint16_t bw_key_tag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;

	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

/* ---- Base64 of the .private fields. ---- */

int bw_key_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	if (cap < 4 * ((len + 2) / 3) + 1)
		return BW_ENOSPC;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

int bw_key_b64_decode(const char *in, uint8_t *out, size_t cap)
{
	size_t len = strlen(in);
	size_t pad = 0;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
		return BW_ESYNTAX;
	while (pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	return n < 0 ? BW_ESYNTAX : n - (int)pad;
}

/* ---- Public keys in DNSKEY form (RFC 3110, 6605, 8080). ---- */

static int rsa_pub_to_wire(const EVP_PKEY *pk, uint8_t *out, size_t cap)
{
	BIGNUM *n = NULL, *e = NULL;
	int rc = BW_EIO;

	if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e))
		goto out;
	size_t nl = (size_t)BN_num_bytes(n), el = (size_t)BN_num_bytes(e);
	size_t hl = el < 256 ? 1 : 3;
	rc = BW_ENOSPC;
	if (el > 0xffff || hl + el + nl > cap)
		goto out;
	if (hl == 1) {
		out[0] = (uint8_t)el;
	} else {
		out[0] = 0;
		bw_put16(out + 1, (uint16_t)el);
	}
	BN_bn2bin(e, out + hl);
	BN_bn2bin(n, out + hl + el);
	rc = (int)(hl + el + nl);
out:
	BN_free(n);
	BN_free(e);
	return rc;
}

static int pub_to_wire(const struct bw_key_alg_info *ai, const EVP_PKEY *pk,
                       uint8_t *out, size_t cap)
{
	uint8_t pt[1 + 2 * 48];
	size_t len = cap;

	if (ai->group == NULL && ai->size == 0)
		return rsa_pub_to_wire(pk, out, cap);
	if (ai->group == NULL) {
		if (!EVP_PKEY_get_raw_public_key(pk, out, &len))
			return BW_EIO;
		return (int)len;
	}
	if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pt,
	                                     sizeof(pt), &len) ||
	    len != 1 + 2u * ai->size || pt[0] != 0x04)
		return BW_EIO;
	if (len - 1 > cap)
		return BW_ENOSPC;
	memcpy(out, pt + 1, len - 1);
	return (int)(len - 1);
}

/* Splits RSA public key wire form into exponent and modulus. */
static int rsa_pub_split(const uint8_t *p, size_t len, const uint8_t **e,
                         size_t *el, const uint8_t **n, size_t *nl)
{
	size_t hl = 1;

	if (len < 1)
		return BW_EMALF;
	*el = p[0];
	if (*el == 0) {
		if (len < 3)
			return BW_EMALF;
		*el = bw_get16(p + 1);
		hl = 3;
	}
	if (*el == 0 || hl + *el >= len)
		return BW_EMALF;
	*e = p + hl;
	*n = p + hl + *el;
	*nl = len - hl - *el;
	return 0;
}

static int bld_push_bin(OSSL_PARAM_BLD *b, const char *name,
                        const uint8_t *p, size_t len, BIGNUM **bn)
{
	*bn = BN_bin2bn(p, (int)len, NULL);
	if (*bn == NULL || !OSSL_PARAM_BLD_push_BN(b, name, *bn))
		return BW_ENOMEM;
	return 0;
}

/* Builds a key from OpenSSL parameters. */
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *b,
                               int selection)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pk, selection, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pk;
}

static EVP_PKEY *rsa_pub_from_wire(const uint8_t *p, size_t len)
{
	const uint8_t *e, *n;
	size_t el, nl;
	BIGNUM *bn[2] = { NULL, NULL };
	EVP_PKEY *pk = NULL;
	OSSL_PARAM_BLD *b;

	if (rsa_pub_split(p, len, &e, &el, &n, &nl) != 0)
		return NULL;
	b = OSSL_PARAM_BLD_new();
	if (b && bld_push_bin(b, OSSL_PKEY_PARAM_RSA_N, n, nl, &bn[0]) == 0 &&
	    bld_push_bin(b, OSSL_PKEY_PARAM_RSA_E, e, el, &bn[1]) == 0)
		pk = pkey_fromdata("RSA", b, EVP_PKEY_PUBLIC_KEY);
	OSSL_PARAM_BLD_free(b);
	BN_free(bn[0]);
	BN_free(bn[1]);
	return pk;
}

/* EC parameters: the group, the public point and maybe the private key. */
static EVP_PKEY *ec_from_wire(const struct bw_key_alg_info *ai,
                              const uint8_t *pub, size_t len,
                              const uint8_t *priv, size_t privlen)
{
	uint8_t pt[1 + 2 * 48];
	BIGNUM *d = NULL;
	EVP_PKEY *pk = NULL;
	OSSL_PARAM_BLD *b;

	if (len != 2u * ai->size)
		return NULL;
	pt[0] = 0x04;
	memcpy(pt + 1, pub, len);
	b = OSSL_PARAM_BLD_new();
	if (b == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
	                                     ai->group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt,
	                                      len + 1))
		goto out;
	if (priv && bld_push_bin(b, OSSL_PKEY_PARAM_PRIV_KEY, priv, privlen,
	                         &d) != 0)
		goto out;
	pk = pkey_fromdata("EC", b, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
out:
	OSSL_PARAM_BLD_free(b);
	BN_clear_free(d);
	return pk;
}

static EVP_PKEY *pub_from_wire(const struct bw_key_alg_info *ai,
                               const uint8_t *p, size_t len)
{
	if (ai->group != NULL)
		return ec_from_wire(ai, p, len, NULL, 0);
	if (ai->size == 0)
		return rsa_pub_from_wire(p, len);
	if (len != ai->size)
		return NULL;
	return EVP_PKEY_new_raw_public_key_ex(NULL, ai->type, NULL, p, len);
}

/* ---- Fields of .private and .state. ---- */

const char *bw_key_field_get(const struct bw_key_fields *f, const char *tag)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcasecmp(f->v[i].tag, tag) == 0)
			return f->v[i].value;
	}
	return NULL;
}

int bw_key_field_add(struct bw_key_fields *f, const char *tag,
                     const char *value)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct bw_key_field *v = realloc(f->v, cap * sizeof(*v));
		if (v == NULL)
			return BW_ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	char *t = strdup(tag), *val = strdup(value);
	if (t == NULL || val == NULL) {
		free(t);
		free(val);
		return BW_ENOMEM;
	}
	f->v[f->n++] = (struct bw_key_field){ t, val };
	return 0;
}

int bw_key_field_set(struct bw_key_fields *f, const char *tag,
                     const char *value)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcasecmp(f->v[i].tag, tag) != 0)
			continue;
		char *val = strdup(value);
		if (val == NULL)
			return BW_ENOMEM;
		free(f->v[i].value);
		f->v[i].value = val;
		return 0;
	}
	return bw_key_field_add(f, tag, value);
}

void bw_key_fields_clear(struct bw_key_fields *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].tag);
		if (f->v[i].value)
			OPENSSL_cleanse(f->v[i].value, strlen(f->v[i].value));
		free(f->v[i].value);
	}
	free(f->v);
	*f = (struct bw_key_fields){ NULL, 0, 0 };
}

/* Adds a binary field in base64. */
static int field_add_bin(struct bw_key_fields *f, const char *tag,
                         const uint8_t *p, size_t len)
{
	char txt[4 * (MAXMATERIAL / 3 + 1) + 1];
	int rc = bw_key_b64_encode(p, len, txt, sizeof(txt));

	if (rc >= 0)
		rc = bw_key_field_add(f, tag, txt);
	OPENSSL_cleanse(txt, sizeof(txt));
	return rc;
}

/* Decodes a binary field. */
static int field_get_bin(const struct bw_key_fields *f, const char *tag,
                         uint8_t *out, size_t cap)
{
	const char *v = bw_key_field_get(f, tag);

	return v ? bw_key_b64_decode(v, out, cap) : BW_ESYNTAX;
}

/* ---- Private key material. ---- */

static int rsa_priv_export(const EVP_PKEY *pk, struct bw_key_fields *f)
{
	uint8_t bin[MAXMATERIAL];
	int rc = 0;

	for (size_t i = 0; i < NRSA && rc == 0; i++) {
		BIGNUM *bn = NULL;
		if (!EVP_PKEY_get_bn_param(pk, rsa_fields[i].param, &bn))
			return BW_EIO;
		int len = BN_bn2bin(bn, bin);
		BN_clear_free(bn);
		rc = field_add_bin(f, rsa_fields[i].tag, bin, (size_t)len);
	}
	OPENSSL_cleanse(bin, sizeof(bin));
	return rc;
}

static int ec_ed_priv_export(const struct bw_key_alg_info *ai,
                             const EVP_PKEY *pk, struct bw_key_fields *f)
{
	uint8_t bin[64];
	size_t len = sizeof(bin);
	BIGNUM *d = NULL;
	int rc = BW_EIO;

	if (ai->group == NULL) {
		if (EVP_PKEY_get_raw_private_key(pk, bin, &len))
			rc = 0;
	} else if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) &&
	           BN_bn2binpad(d, bin, ai->size) == (int)ai->size) {
		len = ai->size;
		rc = 0;
	}
	BN_clear_free(d);
	if (rc == 0)
		rc = field_add_bin(f, "PrivateKey", bin, len);
	OPENSSL_cleanse(bin, sizeof(bin));
	return rc;
}

static EVP_PKEY *rsa_priv_import(const struct bw_key_fields *f)
{
	uint8_t bin[MAXMATERIAL];
	BIGNUM *bn[NRSA] = { NULL };
	EVP_PKEY *pk = NULL;
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	size_t i;

	for (i = 0; b && i < NRSA; i++) {
		int len = field_get_bin(f, rsa_fields[i].tag, bin, sizeof(bin));
		if (len <= 0 || bld_push_bin(b, rsa_fields[i].param, bin,
		                             (size_t)len, &bn[i]) != 0)
			break;
	}
	if (i == NRSA)
		pk = pkey_fromdata("RSA", b, EVP_PKEY_KEYPAIR);
	for (i = 0; i < NRSA; i++)
		BN_clear_free(bn[i]);
	OSSL_PARAM_BLD_free(b);
	OPENSSL_cleanse(bin, sizeof(bin));
	return pk;
}

/* An EC key whose point does not belong to its private key fails here. */
static bool ec_pair_ok(EVP_PKEY *pk)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	bool ok = ctx && EVP_PKEY_pairwise_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static EVP_PKEY *ec_ed_priv_import(const struct bw_key_alg_info *ai,
                                   const struct bw_key *k)
{
	uint8_t bin[64];
	int len = field_get_bin(&k->priv, "PrivateKey", bin, sizeof(bin));
	EVP_PKEY *pk = NULL;

	if (len != (int)ai->size)
		return NULL;
	if (ai->group == NULL) {
		pk = EVP_PKEY_new_raw_private_key_ex(NULL, ai->type, NULL, bin,
		                                     ai->size);
	} else {
		pk = ec_from_wire(ai, k->rdata + 4, k->rdlen - 4u, bin, ai->size);
		if (pk && !ec_pair_ok(pk)) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
	}
	OPENSSL_cleanse(bin, sizeof(bin));
	return pk;
}

/* ---- Keys. ---- */

/* Sets the DNSKEY rdata from flags, algorithm and key; updates the tag. */
static int set_rdata(struct bw_key *k, const struct bw_key_alg_info *ai,
                     const EVP_PKEY *pk)
{
	int n = pub_to_wire(ai, pk, k->rdata + 4, sizeof(k->rdata) - 4);

	if (n < 0)
		return n;
	bw_put16(k->rdata, k->flags);
	k->rdata[2] = BW_DNSKEY_PROTOCOL;
	k->rdata[3] = k->alg;
	k->rdlen = (uint16_t)(4 + n);
	k->tag = bw_key_tag(k->rdata, k->rdlen);
	return 0;
}

static unsigned key_bits(const struct bw_key_alg_info *ai, const EVP_PKEY *pk)
{
	return ai->bits ? ai->bits : (unsigned)EVP_PKEY_get_bits(pk);
}

static struct bw_key *key_new(const uint8_t *owner, uint8_t alg, uint16_t flags)
{
	struct bw_key *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	memcpy(k->owner, owner, bw_name_len(owner));
	k->alg = alg;
	k->flags = flags;
	return k;
}

static EVP_PKEY *keygen(const struct bw_key_alg_info *ai, unsigned bits)
{
	if (ai->group)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", ai->group);
	if (ai->size)
		return EVP_PKEY_Q_keygen(NULL, NULL, ai->type);
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

/* The first lines of a new .private file, before the key material. */
static int priv_header(struct bw_key *k, const struct bw_key_alg_info *ai)
{
	char alg[48];

	snprintf(alg, sizeof(alg), "%u (%s)", k->alg, ai->name);
	int rc = bw_key_field_add(&k->priv, "Private-key-format", "v1.3");
	return rc ? rc : bw_key_field_add(&k->priv, "Algorithm", alg);
}

static int generate_fields(struct bw_key *k, const struct bw_key_alg_info *ai,
                           time_t now)
{
	static const char *const times[] = { "Created", "Publish", "Activate" };
	int rc = priv_header(k, ai);

	if (rc == 0)
		rc = ai->size ? ec_ed_priv_export(ai, k->pkey, &k->priv)
		              : rsa_priv_export(k->pkey, &k->priv);
	for (size_t i = 0; i < 3 && rc == 0; i++)
		rc = bw_key_set_time(k, false, times[i], now);
	return rc;
}

int bw_key_generate(struct bw_key **out, const uint8_t *owner, uint8_t alg,
                    unsigned bits, uint16_t flags, time_t now)
{
	const struct bw_key_alg_info *ai = bw_key_alg_info(alg);
	struct bw_key *k;
	int rc;

	if (bits == 0)
		bits = 2048;
	if (ai == NULL || (ai->size == 0 && (bits < 1024 || bits > 4096)))
		return BW_EINVAL;
	if ((k = key_new(owner, alg, flags)) == NULL)
		return BW_ENOMEM;
	k->pkey = keygen(ai, bits);
	rc = k->pkey ? set_rdata(k, ai, k->pkey) : BW_EIO;
	if (rc == 0) {
		k->has_private = true;
		k->bits = key_bits(ai, k->pkey);
		rc = generate_fields(k, ai, now);
	}
	if (rc != 0) {
		bw_key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int bw_key_set_public(struct bw_key *k, const uint8_t *rdata, size_t len)
{
	const struct bw_key_alg_info *ai;

	if (len < 5 || len > sizeof(k->rdata))
		return BW_EMALF;
	if ((ai = bw_key_alg_info(rdata[3])) == NULL)
		return BW_EINVAL;
	EVP_PKEY_free(k->pkey);
	k->pkey = pub_from_wire(ai, rdata + 4, len - 4);
	if (k->pkey == NULL)
		return BW_EMALF;
	memcpy(k->rdata, rdata, len);
	k->rdlen = (uint16_t)len;
	k->flags = bw_get16(rdata);
	k->alg = rdata[3];
	k->tag = bw_key_tag(rdata, len);
	k->bits = key_bits(ai, k->pkey);
	k->has_private = false;
	return 0;
}

int bw_key_from_dnskey(struct bw_key **out, const uint8_t *owner,
                       const uint8_t *rdata, size_t len)
{
	struct bw_key *k = key_new(owner, 0, 0);
	int rc;

	if (k == NULL)
		return BW_ENOMEM;
	if ((rc = bw_key_set_public(k, rdata, len)) != 0) {
		bw_key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int bw_key_load_private(struct bw_key *k)
{
	const struct bw_key_alg_info *ai = bw_key_alg_info(k->alg);
	uint8_t pub[BW_KEY_MAXRDATA];
	EVP_PKEY *pk;

	if (ai == NULL)
		return BW_EINVAL;
	pk = ai->size ? ec_ed_priv_import(ai, k) : rsa_priv_import(&k->priv);
	if (pk == NULL)
		return BW_EINVAL;
	/* The private key must be the one of the DNSKEY. */
	int n = pub_to_wire(ai, pk, pub, sizeof(pub));
	if (n != k->rdlen - 4 || memcmp(pub, k->rdata + 4, (size_t)n) != 0) {
		EVP_PKEY_free(pk);
		return BW_EINVAL;
	}
	EVP_PKEY_free(k->pkey);
	k->pkey = pk;
	k->has_private = true;
	return 0;
}

void bw_key_free(struct bw_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	bw_key_fields_clear(&k->priv);
	bw_key_fields_clear(&k->state);
	free(k);
}

static bool state_yes(const struct bw_key *k, const char *tag)
{
	const char *v = bw_key_field_get(&k->state, tag);

	return v && strcasecmp(v, "yes") == 0;
}

enum bw_key_role bw_key_role(const struct bw_key *k)
{
	if (bw_key_field_get(&k->state, "KSK") || bw_key_field_get(&k->state, "ZSK")) {
		unsigned r = (state_yes(k, "KSK") ? BW_KEY_KSK : 0) |
		             (state_yes(k, "ZSK") ? BW_KEY_ZSK : 0);
		if (r != 0)
			return (enum bw_key_role)r;
	}
	return (k->flags & BW_DNSKEY_SEP) ? BW_KEY_KSK : BW_KEY_ZSK;
}

int bw_key_revoke(struct bw_key *k, time_t when)
{
	k->flags |= BW_DNSKEY_REVOKE;
	bw_put16(k->rdata, k->flags);
	k->tag = bw_key_tag(k->rdata, k->rdlen);
	return bw_key_set_time(k, false, "Revoke", when);
}

/* ---- DS, CDS, CDNSKEY. ---- */

static const EVP_MD *ds_md(uint8_t digest)
{
	switch (digest) {
	case BW_DS_SHA1: return EVP_sha1();
	case BW_DS_SHA256: return EVP_sha256();
	case BW_DS_SHA384: return EVP_sha384();
	default: return NULL;
	}
}

int bw_key_ds(const uint8_t *owner, const uint8_t *rdata, size_t len,
              uint8_t digest, uint8_t *out, size_t cap)
{
	const EVP_MD *md = ds_md(digest);
	uint8_t name[BW_NAME_MAXLEN];
	size_t nl = bw_name_len(owner);
	unsigned dl = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (md == NULL || len < 4)
		return BW_EINVAL;
	if (cap < 4 + (size_t)EVP_MD_get_size(md))
		return BW_ENOSPC;
	memcpy(name, owner, nl);
	bw_name_lower(name);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return BW_ENOMEM;
	ok = EVP_DigestInit_ex(ctx, md, NULL) &&
	     EVP_DigestUpdate(ctx, name, nl) &&
	     EVP_DigestUpdate(ctx, rdata, len) &&
	     EVP_DigestFinal_ex(ctx, out + 4, &dl);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return BW_EIO;
	bw_put16(out, bw_key_tag(rdata, len));
	out[2] = rdata[3];
	out[3] = digest;
	return (int)(4 + dl);
}

static int put_delete(uint8_t *out, size_t cap, uint8_t second, uint8_t last)
{
	if (cap < 5)
		return BW_ENOSPC;
	out[0] = 0;
	out[1] = 0;
	out[2] = second;
	out[3] = 0;
	out[4] = last;
	return 5;
}

int bw_key_cds_delete(uint8_t *out, size_t cap)
{
	/* Key tag 0, algorithm 0, digest type 0, digest one zero octet. */
	return put_delete(out, cap, 0, 0);
}

int bw_key_cdnskey_delete(uint8_t *out, size_t cap)
{
	/* Flags 0, protocol 3, algorithm 0, key one zero octet ("AA=="). */
	return put_delete(out, cap, BW_DNSKEY_PROTOCOL, 0);
}
