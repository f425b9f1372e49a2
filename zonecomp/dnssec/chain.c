/*  bulwark — NSEC and NSEC3 chains: building them for the signer and
 *  checking those of zones signed elsewhere, with their RRSIG times.
 *
 *  Nodes come in canonical order (zone.c), so the NSEC chain is the list
 *  of authoritative nodes as they are, and the names below a node follow
 *  it.  NSEC3 work goes through a list of (hash, node) sorted by hash.
 */
#include "chain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulwark/err.h"
#include "bulwark/nsec3.h"
#include "bulwark/wire.h"

/* Longest type bitmap: 256 windows of 2 + 32 octets. */
#define BITMAP_MAX (256 * 34)
#define TIME_TXTLEN 16
#define TYPES_TXTLEN 512

/* ---- Which nodes take part. ---- */

/* An owner of NSEC3 records only: a hashed name, not a name of the zone. */
static bool is_hashed(const struct bw_zone_node *n)
{
	for (uint16_t i = 0; i < n->nrrsets; i++)
		if (n->rrsets[i].type != BW_TYPE_NSEC3 &&
		    n->rrsets[i].type != BW_TYPE_RRSIG)
			return false;
	return bw_zone_rrset(n, BW_TYPE_NSEC3) != NULL;
}

/* Authoritative names with data: the owners of the NSEC chain. */
static bool nsec_owner(const struct bw_zone_node *n)
{
	return !(n->flags & (BW_ZN_GLUE | BW_ZN_ENT)) && !is_hashed(n);
}

static bool insecure_deleg(const struct bw_zone_node *n)
{
	return (n->flags & BW_ZN_DELEG) && bw_zone_rrset(n, BW_TYPE_DS) == NULL;
}

/* Names the signer signs RRsets at. */
static bool node_signed(const struct bw_zone_node *n)
{
	return !(n->flags & (BW_ZN_GLUE | BW_ZN_ENT)) && !insecure_deleg(n);
}

enum nsec3_need { NEED_NONE, NEED_OPTIONAL, NEED_REQUIRED };

/* Whether node \a i needs an NSEC3 (RFC 5155 §7.1): optional for insecure
 * delegations and for empty non-terminals that only lead to them. */
static enum nsec3_need nsec3_need(const struct bw_zone *z, size_t i)
{
	const struct bw_zone_node *n = &z->nodes[i];

	if ((n->flags & BW_ZN_GLUE) || is_hashed(n))
		return NEED_NONE;
	if (insecure_deleg(n))
		return NEED_OPTIONAL;
	if (!(n->flags & BW_ZN_ENT) || (n->flags & BW_ZN_APEX))
		return NEED_REQUIRED;
	for (size_t j = i + 1; j < z->nnodes &&
	     bw_name_is_sub(z->nodes[j].name, n->name); j++) {
		const struct bw_zone_node *m = &z->nodes[j];
		if (!(m->flags & (BW_ZN_ENT | BW_ZN_GLUE)) && !insecure_deleg(m))
			return NEED_REQUIRED;
	}
	return NEED_OPTIONAL;
}

/* ---- Type bitmaps. ---- */

/* Types at \a n but those in \a skip, plus those in \a add (0: none), in
 * wire form; returns the length. */
static size_t node_bitmap(const struct bw_zone_node *n, const uint16_t skip[4],
                          const uint16_t add[2], uint8_t out[BITMAP_MAX])
{
	struct bw_bitmap bm;

	bw_bitmap_init(&bm);
	for (uint16_t i = 0; i < n->nrrsets; i++) {
		uint16_t t = n->rrsets[i].type;
		if (t != skip[0] && t != skip[1] && t != skip[2] && t != skip[3])
			bw_bitmap_add(&bm, t);
	}
	for (int i = 0; i < 2; i++)
		if (add[i] != 0)
			bw_bitmap_add(&bm, add[i]);
	return (size_t)bw_bitmap_write(&bm, out, BITMAP_MAX);
}

/* NSEC: the types there, RRSIG and NSEC (RFC 4034 §4.1.2). */
static size_t nsec_bitmap(const struct bw_zone_node *n, uint8_t out[BITMAP_MAX])
{
	static const uint16_t skip[4] = { BW_TYPE_NSEC3 };
	static const uint16_t add[2] = { BW_TYPE_RRSIG, BW_TYPE_NSEC };

	return node_bitmap(n, skip, add, out);
}

/* NSEC3: the types there, RRSIG when \a sig, NSEC3PARAM when \a param. */
static size_t nsec3_bitmap(const struct bw_zone_node *n, bool sig, bool param,
                           uint8_t out[BITMAP_MAX])
{
	static const uint16_t skip[4] = { BW_TYPE_NSEC, BW_TYPE_NSEC3,
	                                  BW_TYPE_RRSIG, BW_TYPE_NSEC3PARAM };
	const uint16_t add[2] = { sig ? BW_TYPE_RRSIG : 0,
	                          param ? BW_TYPE_NSEC3PARAM : 0 };

	return node_bitmap(n, skip, add, out);
}

/* ---- The record list. ---- */

static int chain_grow(struct bw_chain *c, size_t bytes)
{
	if (c->count == c->caprrs) {
		size_t cap = c->caprrs ? 2 * c->caprrs : 256;
		struct bw_rr *rrs = realloc(c->rrs, cap * sizeof(*rrs));
		size_t *offs = rrs ? realloc(c->offs, cap * sizeof(*offs)) : NULL;
		if (rrs != NULL)
			c->rrs = rrs;
		if (offs == NULL)
			return BW_ENOMEM;
		c->offs = offs;
		c->caprrs = cap;
	}
	if (bytes > c->cap - c->used) {
		size_t cap = c->cap ? 2 * c->cap : 1u << 16;
		while (cap - c->used < bytes)
			cap *= 2;
		uint8_t *mem = realloc(c->mem, cap);
		if (mem == NULL)
			return BW_ENOMEM;
		c->mem = mem;
		c->cap = cap;
	}
	return 0;
}

/* Appends a record; returns where its owner then its rdata go, valid
 * until the next call, or NULL. */
static uint8_t *chain_add(struct bw_chain *c, uint16_t type, uint32_t ttl,
                          size_t olen, size_t rdlen)
{
	if (chain_grow(c, olen + rdlen) != 0)
		return NULL;
	c->rrs[c->count] = (struct bw_rr){ .type = type, .cls = BW_CLASS_IN,
	                                   .ttl = ttl, .rdlen = (uint16_t)rdlen };
	c->offs[c->count++] = c->used;
	uint8_t *p = c->mem + c->used;
	c->used += olen + rdlen;
	return p;
}

/* Turns the offsets into pointers once the memory stops moving. */
static void chain_fix(struct bw_chain *c)
{
	for (size_t i = 0; i < c->count; i++) {
		c->rrs[i].owner = c->mem + c->offs[i];
		c->rrs[i].rdata = c->rrs[i].owner + bw_name_len(c->rrs[i].owner);
	}
	free(c->offs);
	c->offs = NULL;
}

void bw_chain_free(struct bw_chain *c)
{
	free(c->rrs);
	free(c->offs);
	free(c->mem);
	memset(c, 0, sizeof(*c));
}

/* min(SOA TTL, SOA MINIMUM): RFC 9077, RFC 2308 §5. */
static uint32_t chain_ttl(const struct bw_zone *z)
{
	return z->soa_minimum < z->soa_ttl ? z->soa_minimum : z->soa_ttl;
}

/* ---- NSEC. ---- */

/* First NSEC owner at index \a i or after it. */
static size_t next_owner(const struct bw_zone *z, size_t i)
{
	while (i < z->nnodes && !nsec_owner(&z->nodes[i]))
		i++;
	return i;
}

static int add_nsec(struct bw_chain *c, const struct bw_zone_node *n,
                    const uint8_t *next, uint32_t ttl)
{
	uint8_t bm[BITMAP_MAX];
	size_t blen = nsec_bitmap(n, bm), nlen = bw_name_len(next);
	uint8_t *p = chain_add(c, BW_TYPE_NSEC, ttl, n->name_len, nlen + blen);

	if (p == NULL)
		return BW_ENOMEM;
	memcpy(p, n->name, n->name_len);
	memcpy(p + n->name_len, next, nlen);
	memcpy(p + n->name_len + nlen, bm, blen);
	return 0;
}

int bw_chain_build_nsec(const struct bw_zone *z, struct bw_chain *out)
{
	uint32_t ttl = chain_ttl(z);
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = next_owner(z, 0), j; ret == 0 && i < z->nnodes; i = j) {
		j = next_owner(z, i + 1);
		ret = add_nsec(out, &z->nodes[i],
		               j < z->nnodes ? z->nodes[j].name : z->apex, ttl);
	}
	if (ret != 0) {
		bw_chain_free(out);
		return ret;
	}
	chain_fix(out);
	return 0;
}

/* ---- NSEC3: hashed names. ---- */

struct nsec3_params {
	uint8_t flags;
	uint16_t iterations;
	uint8_t salt_len;
	const uint8_t *salt;
};

struct hname {
	uint8_t hash[BW_NSEC3_HASH_LEN];
	uint32_t node;
	uint8_t need;              /* enum nsec3_need */
};

static int hname_cmp(const void *a, const void *b)
{
	return memcmp(a, b, BW_NSEC3_HASH_LEN);
}

/* Hashes the names that need an NSEC3 (and the optional ones when
 * \a optional), sorted by hash. */
static int hash_names(const struct bw_zone *z, const struct nsec3_params *p,
                      bool optional, struct hname **out, size_t *count)
{
	struct hname *h = malloc((z->nnodes ? z->nnodes : 1) * sizeof(*h));
	size_t n = 0;

	if (h == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < z->nnodes; i++) {
		enum nsec3_need need = nsec3_need(z, i);
		if (need == NEED_NONE || (need == NEED_OPTIONAL && !optional))
			continue;
		bw_nsec3_hash(z->nodes[i].name, p->salt, p->salt_len,
		              p->iterations, h[n].hash);
		h[n].node = (uint32_t)i;
		h[n++].need = (uint8_t)need;
	}
	qsort(h, n, sizeof(*h), hname_cmp);
	*out = h;
	*count = n;
	return 0;
}

/* Hashed owner label + apex, in wire form; returns its length. */
static size_t hashed_owner(const struct bw_zone *z,
                           const uint8_t hash[BW_NSEC3_HASH_LEN], uint8_t *out)
{
	char label[BW_NSEC3_LABEL_LEN + 1];

	bw_base32hex_encode(hash, BW_NSEC3_HASH_LEN, label, sizeof(label));
	out[0] = BW_NSEC3_LABEL_LEN;
	memcpy(out + 1, label, BW_NSEC3_LABEL_LEN);
	memcpy(out + 1 + BW_NSEC3_LABEL_LEN, z->apex, z->apex_len);
	return 1 + BW_NSEC3_LABEL_LEN + (size_t)z->apex_len;
}

/* Algorithm, flags, iterations, salt: the head of NSEC3 and all of
 * NSEC3PARAM; returns its length. */
static size_t nsec3_head(const struct nsec3_params *p, uint8_t flags,
                         uint8_t *out)
{
	out[0] = BW_NSEC3_ALG_SHA1;
	out[1] = flags;
	bw_put16(out + 2, p->iterations);
	out[4] = p->salt_len;
	if (p->salt_len > 0)
		memcpy(out + 5, p->salt, p->salt_len);
	return 5u + p->salt_len;
}

static int add_nsec3(struct bw_chain *c, const struct bw_zone *z,
                     const struct nsec3_params *p, const struct hname *h,
                     const struct hname *next)
{
	const struct bw_zone_node *n = &z->nodes[h->node];
	uint8_t bm[BITMAP_MAX];
	size_t blen = nsec3_bitmap(n, node_signed(n), n->flags & BW_ZN_APEX, bm);
	size_t olen = 1 + BW_NSEC3_LABEL_LEN + (size_t)z->apex_len;
	size_t hlen = 6u + p->salt_len;
	uint8_t *o = chain_add(c, BW_TYPE_NSEC3, chain_ttl(z), olen,
	                       hlen + BW_NSEC3_HASH_LEN + blen);

	if (o == NULL)
		return BW_ENOMEM;
	hashed_owner(z, h->hash, o);
	uint8_t *rd = o + olen;
	nsec3_head(p, p->flags, rd);
	rd[hlen - 1] = BW_NSEC3_HASH_LEN;
	memcpy(rd + hlen, next->hash, BW_NSEC3_HASH_LEN);
	memcpy(rd + hlen + BW_NSEC3_HASH_LEN, bm, blen);
	return 0;
}

static int add_nsec3param(struct bw_chain *c, const struct bw_zone *z,
                          const struct nsec3_params *p)
{
	uint8_t *o = chain_add(c, BW_TYPE_NSEC3PARAM, 0, z->apex_len,
	                       5u + p->salt_len);

	if (o == NULL)
		return BW_ENOMEM;
	memcpy(o, z->apex, z->apex_len);
	/* The flags of NSEC3PARAM are zero (RFC 5155 §4.1.2). */
	nsec3_head(p, 0, o + z->apex_len);
	return 0;
}

static int build_nsec3(struct bw_chain *c, const struct bw_zone *z,
                       const struct nsec3_params *p, const struct hname *h,
                       size_t n)
{
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < n; i++) {
		if (i > 0 && memcmp(h[i].hash, h[i - 1].hash, BW_NSEC3_HASH_LEN) == 0)
			return BW_EEXIST;
		ret = add_nsec3(c, z, p, &h[i], &h[(i + 1) % n]);
	}
	return ret == 0 ? add_nsec3param(c, z, p) : ret;
}

int bw_chain_build_nsec3(const struct bw_zone *z, const uint8_t *salt,
                         uint8_t salt_len, uint16_t iterations, bool optout,
                         struct bw_chain *out)
{
	struct nsec3_params p = { optout ? BW_NSEC3_FLAG_OPTOUT : 0, iterations,
	                          salt_len, salt };
	struct hname *h;
	size_t n;

	memset(out, 0, sizeof(*out));
	int ret = hash_names(z, &p, !optout, &h, &n);
	if (ret != 0)
		return ret;
	ret = build_nsec3(out, z, &p, h, n);
	free(h);
	if (ret != 0) {
		bw_chain_free(out);
		return ret;
	}
	chain_fix(out);
	return 0;
}
