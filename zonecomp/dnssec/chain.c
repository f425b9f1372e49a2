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

/* An owner of NSEC3 records (and their RRSIGs) only: a hashed name, not
 * a name of the zone.  So is an owner of stray RRSIGs, which the
 * signature check reports. */
static bool is_hashed(const struct bw_zone_node *n)
{
	for (uint16_t i = 0; i < n->nrrsets; i++)
		if (n->rrsets[i].type != BW_TYPE_NSEC3 &&
		    n->rrsets[i].type != BW_TYPE_RRSIG)
			return false;
	return n->nrrsets > 0;
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

/* Orders struct hname and struct hrec (below): both start with the hash. */
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

/* ---- Checking a signed zone: reporting. ---- */

struct chk {
	const struct bw_zone *z;
	struct bw_diag *d;
	uint32_t now, horizon;
	int64_t earliest;          /* Seconds from now; INT64_MAX: none. */
	unsigned soon_sigs, soon_sets;
};

static void chk_report(const struct chk *c, enum bw_diag_level lvl,
                       const struct bw_zone_node *n,
                       const struct bw_zone_rrset *rs, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Reports at \a rs, else at the first RRset of \a n, else nowhere. */
static void chk_report(const struct chk *c, enum bw_diag_level lvl,
                       const struct bw_zone_node *n,
                       const struct bw_zone_rrset *rs, const char *fmt, ...)
{
	va_list ap;

	if (rs == NULL && n != NULL && n->nrrsets > 0)
		rs = &n->rrsets[0];
	va_start(ap, fmt);
	bw_diag_vreport(c->d, lvl, rs ? rs->file : NULL, rs ? rs->line : 0,
	                fmt, ap);
	va_end(ap);
}

static const char *name_txt(char buf[BW_NAME_MAXTEXT], const uint8_t *name)
{
	if (bw_name_to_text(buf, BW_NAME_MAXTEXT, name) < 0)
		strcpy(buf, "?");
	return buf;
}

static const char *hash_txt(char buf[BW_NSEC3_LABEL_LEN + 1],
                            const uint8_t hash[BW_NSEC3_HASH_LEN])
{
	bw_base32hex_encode(hash, BW_NSEC3_HASH_LEN, buf, BW_NSEC3_LABEL_LEN + 1);
	return buf;
}

/* The types of a wire bitmap as text, through the NSEC printer. */
static const char *types_txt(char buf[TYPES_TXTLEN], const uint8_t *bm,
                             size_t len)
{
	uint8_t rd[1 + BITMAP_MAX] = { 0 };
	char tmp[TYPES_TXTLEN + 2];

	memcpy(rd + 1, bm, len);
	if (len == 0 ||
	    bw_rdata_to_text(BW_TYPE_NSEC, rd, 1 + len, tmp, sizeof(tmp)) < 2)
		strcpy(buf, len == 0 ? "no types" : "...");
	else
		snprintf(buf, TYPES_TXTLEN, "%s", tmp + 2);
	return buf;
}

static const char *time_txt(char buf[TIME_TXTLEN], uint32_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, TIME_TXTLEN, "%Y%m%d%H%M%S", &tm) == 0)
		snprintf(buf, TIME_TXTLEN, "%u", t);
	return buf;
}

/* ---- Checking: NSEC. ---- */

static void check_bitmap(const struct chk *c, const struct bw_zone_node *n,
                         const struct bw_zone_rrset *rs, const char *what,
                         const uint8_t *have, size_t hlen,
                         const uint8_t *want, size_t wlen)
{
	char nm[BW_NAME_MAXTEXT], ht[TYPES_TXTLEN], wt[TYPES_TXTLEN];

	if (hlen == wlen && memcmp(have, want, hlen) == 0)
		return;
	chk_report(c, BW_DIAG_ERROR, n, rs, "%s type bitmap for %s lists %s, "
	           "but the types there are %s", what, name_txt(nm, n->name),
	           types_txt(ht, have, hlen), types_txt(wt, want, wlen));
}

/* The NSEC of owner \a n, whose successor in the chain is \a next. */
static void check_nsec_at(const struct chk *c, const struct bw_zone_node *n,
                          const uint8_t *next)
{
	const struct bw_zone_rrset *rs = bw_zone_rrset(n, BW_TYPE_NSEC);
	char nm[BW_NAME_MAXTEXT], a[BW_NAME_MAXTEXT], b[BW_NAME_MAXTEXT];
	uint8_t bm[BITMAP_MAX];

	if (rs == NULL) {
		chk_report(c, BW_DIAG_ERROR, n, rs, "no NSEC at %s",
		           name_txt(nm, n->name));
		return;
	}
	if (rs->count != 1) {
		chk_report(c, BW_DIAG_ERROR, n, rs, "%u NSEC records at %s",
		           rs->count, name_txt(nm, n->name));
		return;
	}
	const uint8_t *rd = rs->rd[0].data;
	int len = bw_name_check(rd, rs->rd[0].len);
	if (len < 0)
		return;  /* Cannot happen: the parser checked the rdata. */
	if (!bw_name_equal(rd, next))
		chk_report(c, BW_DIAG_ERROR, n, rs, "NSEC at %s points to %s, "
		           "expected %s", name_txt(nm, n->name), name_txt(a, rd),
		           name_txt(b, next));
	size_t blen = nsec_bitmap(n, bm);
	check_bitmap(c, n, rs, "NSEC", rd + len, rs->rd[0].len - (size_t)len,
	             bm, blen);
}

static void check_nsec(const struct chk *c)
{
	const struct bw_zone *z = c->z;

	for (size_t i = next_owner(z, 0), j; i < z->nnodes; i = j) {
		j = next_owner(z, i + 1);
		check_nsec_at(c, &z->nodes[i],
		              j < z->nnodes ? z->nodes[j].name : z->apex);
	}
}

/* ---- Checking: NSEC3. ---- */

/* An NSEC3 of the zone, by the hash its owner stands for (first: see
 * hname_cmp). */
struct hrec {
	uint8_t hash[BW_NSEC3_HASH_LEN];
	uint32_t node;
	uint8_t flags;
	const uint8_t *next;       /* Next hashed owner (20 octets). */
	const uint8_t *bitmap;
	size_t bitmap_len;
};

/* Reads the NSEC3PARAM at the apex; false when there is none to use. */
static bool read_param(const struct chk *c, struct nsec3_params *p)
{
	const struct bw_zone_node *apex = &c->z->nodes[0];
	const struct bw_zone_rrset *rs = bw_zone_rrset(apex, BW_TYPE_NSEC3PARAM);
	char nm[BW_NAME_MAXTEXT];

	if (rs == NULL)
		return false;
	const uint8_t *rd = rs->rd[0].data;
	if (rs->rd[0].len < 5 || rs->rd[0].len != 5u + rd[4])
		return false;  /* Cannot happen: the parser checked the rdata. */
	if (rd[0] != BW_NSEC3_ALG_SHA1) {
		chk_report(c, BW_DIAG_ERROR, apex, rs, "NSEC3PARAM at %s uses hash "
		           "algorithm %u; only SHA-1 (1) is defined",
		           name_txt(nm, apex->name), rd[0]);
		return false;
	}
	*p = (struct nsec3_params){ rd[1], bw_get16(rd + 2), rd[4], rd + 5 };
	return true;
}

/* The hash a hashed owner stands for; false when it is not one. */
static bool owner_hash(const struct bw_zone *z, const struct bw_zone_node *n,
                       uint8_t hash[BW_NSEC3_HASH_LEN])
{
	return n->labels == z->apex_labels + 1 &&
	       n->name[0] == BW_NSEC3_LABEL_LEN &&
	       bw_base32hex_decode((const char *)n->name + 1, BW_NSEC3_LABEL_LEN,
	                           hash, BW_NSEC3_HASH_LEN) == BW_NSEC3_HASH_LEN;
}

/* Reads the NSEC3 at \a n into \a h; false (with an error) when it is not
 * one of the chain of \a p. */
static bool read_nsec3(const struct chk *c, const struct nsec3_params *p,
                       const struct bw_zone_node *n, struct hrec *h)
{
	const struct bw_zone_rrset *rs = bw_zone_rrset(n, BW_TYPE_NSEC3);
	const uint8_t *rd = rs->rd[0].data;
	size_t len = rs->rd[0].len, hl = 5u + p->salt_len;
	char nm[BW_NAME_MAXTEXT];

	if (!owner_hash(c->z, n, h->hash)) {
		chk_report(c, BW_DIAG_ERROR, n, rs, "NSEC3 owner %s is not a "
		           "hashed name", name_txt(nm, n->name));
		return false;
	}
	if (rs->count != 1 || len < hl + 1 + BW_NSEC3_HASH_LEN ||
	    rd[0] != BW_NSEC3_ALG_SHA1 || bw_get16(rd + 2) != p->iterations ||
	    rd[4] != p->salt_len || memcmp(rd + 5, p->salt, p->salt_len) != 0 ||
	    rd[hl] != BW_NSEC3_HASH_LEN) {
		chk_report(c, BW_DIAG_ERROR, n, rs, "NSEC3 at %s does not have "
		           "the parameters of the NSEC3PARAM", name_txt(nm, n->name));
		return false;
	}
	h->node = (uint32_t)(n - c->z->nodes);
	h->flags = rd[1];
	h->next = rd + hl + 1;
	h->bitmap = h->next + BW_NSEC3_HASH_LEN;
	h->bitmap_len = len - hl - 1 - BW_NSEC3_HASH_LEN;
	return true;
}

/* The NSEC3 records of the zone, sorted by hash. */
static int collect_nsec3(const struct chk *c, const struct nsec3_params *p,
                         struct hrec **out, size_t *count)
{
	const struct bw_zone *z = c->z;
	struct hrec *h = malloc((z->nnodes ? z->nnodes : 1) * sizeof(*h));
	size_t n = 0;

	if (h == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < z->nnodes; i++)
		if (bw_zone_rrset(&z->nodes[i], BW_TYPE_NSEC3) != NULL &&
		    read_nsec3(c, p, &z->nodes[i], &h[n]))
			n++;
	qsort(h, n, sizeof(*h), hname_cmp);
	*out = h;
	*count = n;
	return 0;
}

/* Next hashed owners: sorted, one closed chain. */
static void check_links(const struct chk *c, const struct hrec *h, size_t n)
{
	char nm[BW_NAME_MAXTEXT], a[BW_NSEC3_LABEL_LEN + 1];
	char b[BW_NSEC3_LABEL_LEN + 1];

	for (size_t i = 0; i < n; i++) {
		const uint8_t *want = h[(i + 1) % n].hash;
		if (memcmp(h[i].next, want, BW_NSEC3_HASH_LEN) == 0)
			continue;
		const struct bw_zone_node *o = &c->z->nodes[h[i].node];
		chk_report(c, BW_DIAG_ERROR, o, bw_zone_rrset(o, BW_TYPE_NSEC3),
		           "NSEC3 at %s: next hashed owner %s, expected %s",
		           name_txt(nm, o->name), hash_txt(a, h[i].next),
		           hash_txt(b, want));
	}
}

/* A name without NSEC3: an error unless it may be left out and the NSEC3
 * that covers it has Opt-Out. */
static void check_missing(const struct chk *c, const struct hname *w,
                          const struct hrec *cover)
{
	const struct bw_zone_node *n = &c->z->nodes[w->node];
	char nm[BW_NAME_MAXTEXT], h[BW_NSEC3_LABEL_LEN + 1];

	if (w->need == NEED_REQUIRED)
		chk_report(c, BW_DIAG_ERROR, n, NULL, "no NSEC3 for %s (%s)",
		           name_txt(nm, n->name), hash_txt(h, w->hash));
	else if (cover == NULL || !(cover->flags & BW_NSEC3_FLAG_OPTOUT))
		chk_report(c, BW_DIAG_ERROR, n, NULL, "no NSEC3 for %s (%s), and "
		           "the NSEC3 covering it has no Opt-Out flag",
		           name_txt(nm, n->name), hash_txt(h, w->hash));
}

static void check_match(const struct chk *c, const struct hname *w,
                        const struct hrec *h)
{
	const struct bw_zone_node *n = &c->z->nodes[w->node];
	const struct bw_zone_node *o = &c->z->nodes[h->node];
	uint8_t bm[BITMAP_MAX];
	size_t len = nsec3_bitmap(n, bw_zone_rrset(n, BW_TYPE_RRSIG) != NULL,
	                          bw_zone_rrset(n, BW_TYPE_NSEC3PARAM) != NULL, bm);

	check_bitmap(c, n, bw_zone_rrset(o, BW_TYPE_NSEC3), "NSEC3", h->bitmap,
	             h->bitmap_len, bm, len);
}

/* Walks the names (\a w) and the records (\a h), both sorted by hash. */
static void check_names(const struct chk *c, const struct hname *w, size_t nw,
                        const struct hrec *h, size_t nh)
{
	char nm[BW_NAME_MAXTEXT];
	size_t i = 0, k = 0;

	while (i < nw || k < nh) {
		int cmp = i == nw ? 1 : k == nh ? -1 :
		          memcmp(w[i].hash, h[k].hash, BW_NSEC3_HASH_LEN);
		if (cmp == 0) {
			check_match(c, &w[i++], &h[k++]);
		} else if (cmp < 0) {
			check_missing(c, &w[i++], nh == 0 ? NULL :
			              &h[k > 0 ? k - 1 : nh - 1]);
		} else {
			const struct bw_zone_node *o = &c->z->nodes[h[k++].node];
			chk_report(c, BW_DIAG_ERROR, o, bw_zone_rrset(o, BW_TYPE_NSEC3),
			           "NSEC3 at %s matches no name of the zone",
			           name_txt(nm, o->name));
		}
	}
}

static int check_nsec3(const struct chk *c)
{
	struct nsec3_params p;
	struct hname *w = NULL;
	struct hrec *h = NULL;
	size_t nw = 0, nh = 0;

	if (!read_param(c, &p))
		return 0;
	int ret = hash_names(c->z, &p, true, &w, &nw);
	if (ret == 0)
		ret = collect_nsec3(c, &p, &h, &nh);
	if (ret == 0) {
		check_links(c, h, nh);
		check_names(c, w, nw, h, nh);
	}
	free(w);
	free(h);
	return ret;
}

/* ---- Checking: signatures. ---- */

/* RRSIG rdata: type covered (2), algorithm, labels, original TTL (4),
 * expiration (4), inception (4), key tag (2), signer, signature. */
#define RRSIG_EXPIRATION 8
#define RRSIG_MINLEN 18

static bool must_sign(const struct bw_zone_node *n, uint16_t type)
{
	return type != BW_TYPE_RRSIG &&
	       !((n->flags & BW_ZN_DELEG) && type == BW_TYPE_NS);
}

/* The RRSIGs at \a n over \a type: how many, how many soon, the first
 * expiry (seconds from now). */
static unsigned scan_sigs(const struct chk *c, const struct bw_zone_node *n,
                          uint16_t type, unsigned *soon, int64_t *first)
{
	const struct bw_zone_rrset *sig = bw_zone_rrset(n, BW_TYPE_RRSIG);
	unsigned count = 0;

	*soon = 0;
	*first = INT64_MAX;
	for (uint16_t i = 0; sig != NULL && i < sig->count; i++) {
		const uint8_t *rd = sig->rd[i].data;
		if (sig->rd[i].len < RRSIG_MINLEN || bw_get16(rd) != type)
			continue;
		/* Serial-number arithmetic: expirations wrap in 2106. */
		int64_t left = (int32_t)(bw_get32(rd + RRSIG_EXPIRATION) - c->now);
		count++;
		if (left < *first)
			*first = left;
		if (left >= 0 && left < (int64_t)c->horizon)
			(*soon)++;
	}
	return count;
}

static void check_sigs_of(struct chk *c, const struct bw_zone_node *n,
                          const struct bw_zone_rrset *rs)
{
	char nm[BW_NAME_MAXTEXT], t[16], tm[TIME_TXTLEN];
	unsigned soon;
	int64_t first;
	unsigned count = scan_sigs(c, n, rs->type, &soon, &first);

	bw_type_to_text(rs->type, t, sizeof(t));
	if (count == 0) {
		if (must_sign(n, rs->type))
			chk_report(c, BW_DIAG_ERROR, n, rs, "%s %s has no RRSIG",
			           name_txt(nm, n->name), t);
		return;
	}
	if (first < c->earliest)
		c->earliest = first;
	time_txt(tm, (uint32_t)(c->now + (uint32_t)first));
	if (first < 0) {
		chk_report(c, BW_DIAG_ERROR, n, rs, "RRSIG over %s %s expired "
		           "at %s", name_txt(nm, n->name), t, tm);
	} else if (soon > 0) {
		chk_report(c, BW_DIAG_WARN, n, rs, "RRSIG over %s %s expires at "
		           "%s, within %u seconds", name_txt(nm, n->name), t, tm,
		           c->horizon);
		c->soon_sigs += soon;
		c->soon_sets++;
	}
}

/* RRSIGs over a type that is not there (reported once per name). */
static void check_stray_sigs(const struct chk *c, const struct bw_zone_node *n)
{
	const struct bw_zone_rrset *sig = bw_zone_rrset(n, BW_TYPE_RRSIG);
	char nm[BW_NAME_MAXTEXT], t[16];

	for (uint16_t i = 0; sig != NULL && i < sig->count; i++) {
		uint16_t type = bw_get16(sig->rd[i].data);
		if (bw_zone_rrset(n, type) != NULL)
			continue;
		bw_type_to_text(type, t, sizeof(t));
		chk_report(c, BW_DIAG_ERROR, n, sig, "RRSIG at %s covers %s, which "
		           "is not there", name_txt(nm, n->name), t);
		return;
	}
}

static void check_sigs(struct chk *c)
{
	const struct bw_zone *z = c->z;

	for (size_t i = 0; i < z->nnodes; i++) {
		const struct bw_zone_node *n = &z->nodes[i];
		if (n->flags & BW_ZN_GLUE)
			continue;
		for (uint16_t k = 0; k < n->nrrsets; k++)
			if (n->rrsets[k].type != BW_TYPE_RRSIG)
				check_sigs_of(c, n, &n->rrsets[k]);
		check_stray_sigs(c, n);
	}
	if (c->soon_sets > 0)
		bw_diag_report(c->d, BW_DIAG_NOTE, NULL, 0, "%u RRSIGs over %u "
		               "RRsets expire within %u seconds", c->soon_sigs,
		               c->soon_sets, c->horizon);
}

int bw_chain_check_presigned(const struct bw_zone *z, uint32_t now,
                             uint32_t horizon, uint32_t *earliest,
                             struct bw_diag *d)
{
	struct chk c = { .z = z, .d = d, .now = now, .horizon = horizon,
	                 .earliest = INT64_MAX };
	const struct bw_zone_node *apex = &z->nodes[0];
	unsigned errors = d->errors;
	char nm[BW_NAME_MAXTEXT];
	int ret = 0;

	if (bw_zone_rrset(apex, BW_TYPE_NSEC) != NULL)
		check_nsec(&c);
	if (bw_zone_rrset(apex, BW_TYPE_NSEC3PARAM) != NULL)
		ret = check_nsec3(&c);
	else if (bw_zone_rrset(apex, BW_TYPE_NSEC) == NULL)
		chk_report(&c, BW_DIAG_ERROR, apex, NULL, "no NSEC and no "
		           "NSEC3PARAM at %s: the zone has no denial of existence",
		           name_txt(nm, apex->name));
	check_sigs(&c);
	if (earliest != NULL)
		*earliest = c.earliest == INT64_MAX ? 0 :
		            (uint32_t)(now + (uint32_t)c.earliest);
	if (ret != 0)
		return ret;
	return d->errors > errors ? BW_EZONE : 0;
}
