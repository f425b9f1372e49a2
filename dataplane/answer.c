/*  bulwark — the answer engine.
 *
 *  A query is parsed once (the name lowercased, its label offsets and the
 *  hashes of all its suffixes computed in one pass), the zone and the
 *  node are found by hash, and the response is assembled by copying
 *  pre-rendered blobs.  Blobs used for an exact match are copied as they
 *  are; otherwise (wildcards, referrals, negative answers, CNAME chains)
 *  their compression pointers are relocated.  Nothing here allocates.
 */
#include <string.h>

#include "bulwark/answer.h"
#include "bulwark/nsec3.h"
#include "bulwark/wire.h"
#include "cookie.h"
#include "table_impl.h"
#include "zoneset_impl.h"

#define MAX_CHAIN 8        /* CNAME/DNAME hops followed inside a zone. */
#define UDP_MIN   512
#define OPT_LEN   11       /* Root owner, type, class, TTL, rdlen. */
#define EDE_LEN   6        /* Option header and the info-code. */
#define KA_LEN    6        /* Option header and the TIMEOUT (RFC 7828). */
#define COOKIE_LEN (4 + BW_COOKIE_CLIENT_LEN + BW_COOKIE_SERVER_LEN)
#define RCODE_BADCOOKIE 23 /* RFC 7873 §8. */
#define EDE_NOT_AUTHORITATIVE 20
#define PTR_LIMIT 0x4000

/* A name in the response: lowercase copy, labels, suffix hashes and where
 * its labels are in the response (for relocating pointers). */
struct nm {
	uint8_t lname[BW_NAME_MAXLEN + BW_HASH_PAD];  /* Slack for hashing. */
	uint8_t len;
	int nl;
	uint8_t loff[BW_NAME_MAXLABELS + 1];
	uint16_t roff[BW_NAME_MAXLABELS + 1];
	uint64_t hash[BW_NAME_MAXLABELS + 1];
};

struct actx {
	const struct bw_answer_conf *conf;
	const uint8_t *q;
	size_t qlen;
	size_t qend;            /* End of the question section. */
	uint16_t qtype, qclass;
	bool edns, do_bit, nsid;
	bool ka, ka_bad;        /* edns-tcp-keepalive: seen; with a TIMEOUT. */
	bool ka_out;            /* TCP: the OPT carries our keepalive. */
	uint8_t edns_version;
	uint16_t edns_size;
	const uint8_t *cookie;  /* COOKIE option data, or NULL. */
	uint16_t cookie_len;
	bool cookie_bad;        /* Of a length RFC 7873 §4 does not allow. */
	bool cookie_out;        /* The OPT carries our server cookie. */
	enum bw_cookie_state cookie_state;
	uint8_t server_cookie[BW_COOKIE_SERVER_LEN];
	struct nm name;         /* The question name. */

	uint8_t *r;
	size_t limit;           /* Room for sections, OPT reserved. */
	size_t pos;
	uint16_t count[3];
	uint16_t rcode;
	bool aa, tc, referral;
	uint16_t ede;           /* RFC 8914 extended error, 0: none. */
	bool dnssec;            /* DO=1 and a signed zone: signed blobs. */
	int npending, nadded;
	uint32_t pending[6];    /* Denial blobs the authority still needs. */
	uint32_t added[12];     /* Denial blobs already in the response. */
	const struct bw_table *zone;
	uint64_t id_hash;       /* bw_answer_info.name_hash. */
	uint64_t next_hash;
	uint8_t ce_off, ce_len;
};

/* ---- Query parsing. ---- */

static void nm_hash(struct nm *n)
{
	n->hash[0] = BW_HASH_ROOT;
	for (int k = 1; k <= n->nl; k++)
		n->hash[k] = bw_hash_label_padded(n->hash[k - 1],
		                                  n->lname + n->loff[n->nl - k]);
}

/* Copies \a len octets of a wire name, A-Z turned to a-z, 8 at a time.
 * Length octets (0-63) are below 'A' and stay as they are. */
static void lower_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t x, low7;
		memcpy(&x, src + i, 8);
		low7 = x & ~high;
		/* High bit of each octet: at least 'A', above 'Z', ASCII. */
		uint64_t ge_a = low7 + (0x80 - 'A') * ones;
		uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ones;
		uint64_t upper = ge_a & ~gt_z & ~x & high;
		x |= upper >> 2;                     /* 0x80 >> 2 == 0x20 */
		memcpy(dst + i, &x, 8);
	}
	for (; i < len; i++)
		dst[i] = bw_lower(src[i]);
}

/* Reads the question name (no compression allowed) at offset 12. */
static bool scan_qname(struct actx *c)
{
	struct nm *n = &c->name;
	size_t pos = BW_HDR_LEN, len = 0;

	n->nl = 0;
	for (;;) {
		if (pos >= c->qlen)
			return false;
		uint8_t l = c->q[pos];
		if (l > BW_LABEL_MAXLEN || len + l + 1 > BW_NAME_MAXLEN ||
		    pos + l + 1 > c->qlen)
			return false;
		n->loff[n->nl] = (uint8_t)len;
		n->roff[n->nl] = (uint16_t)pos;
		len += l + 1u;
		pos += l + 1u;
		if (l == 0)
			break;
		n->nl++;
	}
	/* Uncompressed from offset 12: the name is one run of octets. */
	lower_copy(n->lname, c->q + BW_HDR_LEN, len);
	n->len = (uint8_t)len;
	if (pos + 4 > c->qlen)
		return false;
	c->qtype = bw_get16(c->q + pos);
	c->qclass = bw_get16(c->q + pos + 2);
	c->qend = pos + 4;
	return true;
}

/* ... and hashes its suffixes. */
static bool parse_qname(struct actx *c)
{
	if (!scan_qname(c))
		return false;
	nm_hash(&c->name);
	return true;
}

static bool parse_opt(struct actx *c, const uint8_t *rr, size_t rdlen)
{
	const uint8_t *opt = rr + 10;
	size_t at = 0;

	if (c->edns)
		return false;  /* More than one OPT: FORMERR (RFC 6891). */
	c->edns = true;
	c->edns_size = bw_get16(rr + 2);
	c->edns_version = rr[5];
	c->do_bit = (bw_get16(rr + 6) & BW_EDNS_DO) != 0;
	while (at < rdlen) {
		if (at + 4 > rdlen)
			return false;
		uint16_t code = bw_get16(opt + at), olen = bw_get16(opt + at + 2);
		if (at + 4 + olen > rdlen)
			return false;
		if (code == BW_EDNS_NSID) {
			c->nsid = true;
		} else if (code == BW_EDNS_TCP_KEEPALIVE) {
			c->ka = true;
			c->ka_bad |= olen != 0;
		} else if (code == BW_EDNS_COOKIE && c->cookie == NULL) {
			/* A client cookie alone, or with a server cookie of 8 to
			 * 32 octets (RFC 7873 §4). */
			c->cookie = opt + at + 4;
			c->cookie_len = olen;
			c->cookie_bad = olen != BW_COOKIE_CLIENT_LEN &&
			                (olen < BW_COOKIE_CLIENT_LEN + BW_COOKIE_SERVER_MIN ||
			                 olen > BW_COOKIE_CLIENT_LEN + BW_COOKIE_SERVER_MAX);
		}
		at += 4u + olen;
	}
	return true;
}

/* Walks the records after the question; only OPT matters. */
static bool parse_records(struct actx *c, unsigned count, unsigned ar_from)
{
	size_t pos = c->qend;

	for (unsigned i = 0; i < count; i++) {
		size_t next;
		bool root = pos < c->qlen && c->q[pos] == 0;
		if (bw_name_unpack(c->q, c->qlen, pos, NULL, &next) < 0 ||
		    next + 10 > c->qlen)
			return false;
		const uint8_t *rr = c->q + next;
		size_t rdlen = bw_get16(rr + 8);
		if (next + 10 + rdlen > c->qlen)
			return false;
		if (bw_get16(rr) == BW_TYPE_OPT &&
		    (i < ar_from || !root || !parse_opt(c, rr, rdlen)))
			return false;
		pos = next + 10 + rdlen;
	}
	return pos == c->qlen;  /* Trailing octets make the query malformed. */
}

/* ---- Response assembly. ---- */

static void begin_response(struct actx *c, bool with_question)
{
	size_t qlen = with_question ? c->qend - BW_HDR_LEN : 0;

	memcpy(c->r, c->q, 2);
	memcpy(c->r + BW_HDR_LEN, c->q + BW_HDR_LEN, qlen);
	c->pos = BW_HDR_LEN + qlen;
	c->count[0] = c->count[1] = c->count[2] = 0;
	c->aa = c->tc = c->referral = false;
	c->ede = 0;
	c->dnssec = false;
	c->npending = c->nadded = 0;
}

static size_t opt_size(const struct actx *c)
{
	if (!c->edns)
		return 0;
	/* An extended error only comes with empty responses: no room kept. */
	return OPT_LEN + (c->nsid && c->conf->nsid_len ? 4u + c->conf->nsid_len : 0) +
	       (c->ka_out ? KA_LEN : 0) + (c->cookie_out ? COOKIE_LEN : 0);
}

static void set_limit(struct actx *c, size_t cap, bool tcp)
{
	size_t limit = UDP_MIN;

	if (tcp)
		limit = BW_ANSWER_MAX;
	else if (c->edns && c->edns_size > UDP_MIN)
		limit = c->edns_size < c->conf->udp_max ? c->edns_size : c->conf->udp_max;
	if (limit < UDP_MIN)
		limit = UDP_MIN;
	if (limit > cap)
		limit = cap;
	c->limit = limit - opt_size(c);
}

/* Offset of the suffix with k labels of name n, in the response. */
static size_t rel_target(const struct nm *n, unsigned k, bool wild,
                         unsigned ctx_labels)
{
	if (wild && k == ctx_labels)
		return n->roff[0];
	return n->roff[n->nl - (int)k];
}

/* How much of a blob fits: whole RRsets only. */
static size_t fit(const struct actx *c, const struct bw_tbl_blob *b,
                  uint16_t counts[3])
{
	size_t room = c->limit - c->pos;
	const struct bw_tbl_cut *cut = bw_tbl_blob_cuts(b);

	counts[0] = b->an;
	counts[1] = b->ns;
	counts[2] = b->ar;
	if (b->len <= room)
		return b->len;
	counts[0] = counts[1] = counts[2] = 0;
	size_t take = 0;
	for (uint16_t i = 0; i < b->ncut && cut[i].end <= room; i++) {
		take = cut[i].end;
		counts[0] = cut[i].an;
		counts[1] = cut[i].ns;
		counts[2] = cut[i].ar;
	}
	return take;
}

/* Writes the relocated pointers of one RRset moved from [beg, end) of the
 * blob to blob offset dst; false when one points into what was left out. */
static bool move_rels(struct actx *c, const struct bw_tbl_blob *b, size_t at,
                      size_t beg, size_t end, size_t dst, size_t kept,
                      const struct nm *n, bool wild)
{
	const struct bw_tbl_rel *rel = bw_tbl_blob_rels(b);

	for (uint16_t i = 0; i < b->nrel; i++) {
		if (rel[i].pos < beg || rel[i].pos >= end)
			continue;
		size_t target;
		if (rel[i].what & BW_REL_CTX) {
			unsigned k = rel[i].what & 0xff;
			if ((int)k > n->nl)
				return false;
			target = rel_target(n, k, wild, b->ctx_labels);
		} else if (rel[i].what < kept) {
			target = at + rel[i].what;
		} else {
			return false;
		}
		if (target >= PTR_LIMIT)
			return false;
		bw_put16(c->r + at + dst + (rel[i].pos - beg), (uint16_t)(0xc000 | target));
	}
	return true;
}

/* Fixes the pointers of the first \a take octets of a blob put at \a at. */
static bool relocate(struct actx *c, const struct bw_tbl_blob *b, size_t at,
                     size_t take, const struct nm *n, bool wild)
{
	return move_rels(c, b, at, 0, take, 0, take, n, wild);
}

/*
 * After a cut in the additional section, adds each later RRset that still
 * fits, as Knot DNS does, so small glue behind a large RRset is not lost.
 */
static size_t fill_rest(struct actx *c, const struct bw_tbl_blob *b, size_t at,
                        size_t take, size_t out, uint16_t counts[3],
                        const struct nm *n, bool wild)
{
	const struct bw_tbl_cut *cut = bw_tbl_blob_cuts(b);

	for (uint16_t i = 0; i < b->ncut; i++) {
		size_t beg = i ? cut[i - 1].end : 0, len = cut[i].end - beg;
		if (beg < take || at + out + len > c->limit)
			continue;
		memcpy(c->r + at + out, b->wire + beg, len);
		if (!move_rels(c, b, at, beg, cut[i].end, out, take, n, wild))
			continue;
		out += len;
		counts[2] += (uint16_t)(cut[i].ar - (i ? cut[i - 1].ar : 0));
	}
	return out;
}

/* The unsigned first part of a blob that serves DO=0 and DO=1. */
static size_t put_plain(struct actx *c, const struct bw_tbl_blob *b,
                        const struct nm *n, bool wild)
{
	size_t at = c->pos;

	if (at + b->plain > c->limit) {
		c->tc = true;
		return 0;
	}
	memcpy(c->r + at, b->wire, b->plain);
	if (!relocate(c, b, at, b->plain, n, wild)) {
		c->tc = true;
		return 0;
	}
	c->pos += b->plain;
	c->count[0] += b->plain_an;
	return at;
}

/*
 * Appends a blob for name n.  Returns where it starts, or 0 when not all
 * of its answer and authority records fit (TC is then set).
 */
static size_t put_blob(struct actx *c, const struct bw_tbl_blob *b,
                       const struct nm *n, bool wild)
{
	uint16_t counts[3];
	size_t at = c->pos;

	if (b->plain != 0 && !c->dnssec)
		return put_plain(c, b, n, wild);
	size_t take = fit(c, b, counts);
	bool direct = at == BW_HDR_LEN + b->ctx_len + 4u && n->roff[0] == BW_HDR_LEN &&
	              n->nl == b->ctx_labels && !wild;

	memcpy(c->r + at, b->wire, take);
	if (!direct && !relocate(c, b, at, take, n, wild)) {
		c->tc = true;
		return 0;
	}
	if (take < b->len && take >= b->need)
		take = fill_rest(c, b, at, take, take, counts, n, wild);
	c->pos += take;
	for (int s = 0; s < 3; s++)
		c->count[s] += counts[s];
	if (take < b->need) {
		c->tc = true;
		return 0;
	}
	return at;
}

/* ---- DNSSEC: signed blobs and denial of existence. ---- */

/* The blob (DO=1 or not) of the i-th type entry of a node. */
static const struct bw_tbl_blob *type_blob(const struct actx *c,
                                           const struct bw_table *t, uint64_t h,
                                           const struct bw_tbl_node *node,
                                           uint16_t i)
{
	if (c->dnssec && (node->flags & BW_TN_SIGNED))
		return bw_table_do_blob_at(t, h, node, i);
	return bw_table_blob_at(t, h, node, i);
}

static const struct bw_tbl_blob *pick(const struct actx *c,
                                      const struct bw_table *t, uint64_t h,
                                      const struct bw_tbl_node *node,
                                      uint16_t type)
{
	for (uint16_t i = 0; i < node->ntypes; i++) {
		if (node->types[i].type == type)
			return type_blob(c, t, h, node, i);
	}
	return NULL;
}

/* Queues a denial blob (common offset) for the authority section. */
static void want(struct actx *c, uint32_t blob)
{
	for (int i = 0; i < c->npending; i++) {
		if (c->pending[i] == blob)
			return;
	}
	if (c->npending < (int)(sizeof(c->pending) / sizeof(c->pending[0])))
		c->pending[c->npending++] = blob;
}

static void want_proof(struct actx *c, const struct bw_table *t, uint32_t off)
{
	uint32_t count, blob;

	if (off == 0)
		return;
	memcpy(&count, t->common + off, 4);
	for (uint32_t i = 0; i < count; i++) {
		memcpy(&blob, t->common + off + 4 + 4 * i, 4);
		want(c, blob);
	}
}

/* Writes the queued denial blobs that are not in the response yet. */
static void flush(struct actx *c, const struct bw_table *t)
{
	for (int i = 0; i < c->npending && !c->tc; i++) {
		bool dup = false;
		for (int j = 0; j < c->nadded; j++)
			dup |= c->added[j] == c->pending[i];
		if (dup)
			continue;
		put_blob(c, bw_table_common_blob(t, c->pending[i]), &c->name, false);
		if (c->nadded < (int)(sizeof(c->added) / sizeof(c->added[0])))
			c->added[c->nadded++] = c->pending[i];
	}
	c->npending = 0;
}

/* Position after the last index entry in [lo, hi) whose owner is at or
 * before \a lname, by name comparisons (lo when there is none). */
static size_t nsec_search(const struct bw_table *t, const struct bw_tbl_nsec *idx,
                          size_t lo, size_t hi, const uint8_t *lname)
{
	size_t l = lo, h = hi;

	while (l < h) {
		size_t mid = l + (h - l) / 2;
		if (bw_name_cmp(t->common + idx[mid].name, lname) <= 0)
			l = mid + 1;
		else
			h = mid;
	}
	return l;
}

/* First position in keys[lo, hi) whose key is above (or, with \a eq, at
 * least) \a k; hi when there is none. */
static size_t key_bound(const struct bw_tbl_key *keys, size_t lo, size_t hi,
                        struct bw_tbl_key k, bool eq)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (eq ? bw_tbl_key_less(keys[mid], k) : !bw_tbl_key_less(k, keys[mid]))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The NSEC whose owner is the last at or before a name (canonical order).
 * With the table's sort keys: a search in the sample (a few hundred KiB,
 * cache-resident), then in one block of BW_TBL_SAMPLE keys, and name
 * comparisons only among entries whose keys equal the query's. */
static uint32_t nsec_cover(const struct bw_table *t, const uint8_t *lname)
{
	const struct bw_tbl_header *hd = t->hdr;
	const struct bw_tbl_nsec *idx = (const void *)(t->common + hd->denial_index);
	size_t n = hd->denial_count, at;

	if (hd->denial_keys == 0) {
		at = nsec_search(t, idx, 1, n, lname);   /* [0] is the apex. */
		return idx[at - 1].blob;
	}
	const struct bw_tbl_key *keys = (const void *)(t->common + hd->denial_keys);
	const struct bw_tbl_key *sample = (const void *)(t->common + hd->denial_sample);
	size_t ns = (n + BW_TBL_SAMPLE - 1) / BW_TBL_SAMPLE;
	struct bw_tbl_key k = bw_tbl_denial_key(lname, hd->apex_labels);
	/* Blocks s with sample[s] <= k end before the first key above k. */
	size_t s = key_bound(sample, 0, ns, k, false);
	size_t lo = s == 0 ? 0 : (s - 1) * BW_TBL_SAMPLE;
	size_t hi = lo + BW_TBL_SAMPLE < n ? lo + BW_TBL_SAMPLE : n;
	size_t ub = key_bound(keys, lo, hi, k, false);

	if (ub == 0 || bw_tbl_key_less(keys[ub - 1], k))
		return idx[ub == 0 ? 0 : ub - 1].blob;   /* Decided by the keys. */
	at = nsec_search(t, idx, key_bound(keys, 0, ub, k, true), ub, lname);
	return idx[at == 0 ? 0 : at - 1].blob;
}

/* The NSEC3 whose hash is the last at or before the hash of a name
 * (wrapping round to the last one). */
static uint32_t nsec3_cover(const struct bw_table *t, const uint8_t *lname)
{
	const struct bw_tbl_header *hd = t->hdr;
	const struct bw_tbl_nsec3 *idx = (const void *)(t->common + hd->denial_index);
	uint8_t h[BW_NSEC3_HASH_LEN];
	size_t lo = 0, hi = hd->denial_count;

	bw_nsec3_hash(lname, hd->nsec3_salt, hd->nsec3_salt_len,
	              hd->nsec3_iterations, h);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(idx[mid].hash, h, BW_NSEC3_HASH_LEN) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return idx[lo == 0 ? hd->denial_count - 1 : lo - 1].blob;
}

static bool is_nsec3(const struct bw_table *t)
{
	return (t->hdr->flags & BW_TBL_F_NSEC3) != 0;
}

/* Proof that the name (or, for NSEC3, the next closer name below the
 * closest encloser with k labels) does not exist. */
static void want_cover(struct actx *c, const struct bw_table *t,
                       const struct nm *n, int k)
{
	if (!is_nsec3(t))
		want(c, nsec_cover(t, n->lname));
	else if (k < n->nl)
		want(c, nsec3_cover(t, n->lname + n->loff[n->nl - k - 1]));
}

/* Where the answer section of a blob ends (the additional follows). */
static size_t answer_end(const struct bw_tbl_blob *b, uint16_t counts[3])
{
	const struct bw_tbl_cut *cut = bw_tbl_blob_cuts(b);
	size_t end = b->len;

	counts[0] = b->an;
	counts[1] = b->ns;
	counts[2] = 0;
	for (uint16_t i = 0; i < b->ncut && cut[i].ar == 0; i++) {
		end = cut[i].end;
		counts[0] = cut[i].an;
		counts[1] = cut[i].ns;
	}
	return b->ncut && cut[0].ar == 0 ? end : b->len;
}

/*
 * The last blob of an answer: the queued denial records go into the
 * authority section, before its additional records.
 */
static void put_final(struct actx *c, const struct bw_table *t,
                      const struct bw_tbl_blob *b, const struct nm *n, bool wild)
{
	uint16_t counts[3];
	size_t at = c->pos, bound = answer_end(b, counts);

	if (c->npending == 0 || bound >= b->len) {
		put_blob(c, b, n, wild);
		flush(c, t);
		return;
	}
	if (at + bound > c->limit) {
		c->tc = true;
		return;
	}
	memcpy(c->r + at, b->wire, bound);
	if (!relocate(c, b, at, bound, n, wild)) {
		c->tc = true;
		return;
	}
	c->pos += bound;
	c->count[0] += counts[0];
	c->count[1] += counts[1];
	flush(c, t);
	counts[2] = 0;
	c->pos = at + fill_rest(c, b, at, bound, c->pos - at, counts, n, wild);
	c->count[2] += counts[2];
}

static void put_negative(struct actx *c, const struct bw_table *t,
                         const struct nm *n, uint16_t rcode, uint32_t proof)
{
	c->rcode = rcode;
	if (!c->dnssec) {
		put_blob(c, t->neg, n, false);
		return;
	}
	put_blob(c, bw_table_common_blob(t, t->hdr->neg_do), n, false);
	want_proof(c, t, proof);
	flush(c, t);
}

static uint32_t node_proof(const struct actx *c, const struct bw_tbl_node *node,
                           bool wild)
{
	if (!c->dnssec || !(node->flags & BW_TN_SIGNED))
		return 0;
	return wild ? bw_tbl_node_signed(node)->wild_denial
	            : bw_tbl_node_signed(node)->denial;
}

/* ---- Lookups. ---- */

static const struct bw_tbl_node *find_suffix(const struct bw_table *t,
                                             const struct nm *n, int k)
{
	size_t off = n->loff[n->nl - k];
	return bw_table_lookup(t, n->hash[k], n->lname + off, n->len - off);
}

static void referral(struct actx *c, const struct bw_table *t,
                     const struct nm *n, int cut_labels, bool first)
{
	const struct bw_tbl_node *cut = find_suffix(t, n, cut_labels);
	const struct bw_tbl_blob *b = cut ? pick(c, t, n->hash[cut_labels],
	                                         cut, BW_TYPE_NS) : NULL;
	if (b == NULL) {
		c->rcode = BW_RCODE_SERVFAIL;  /* Checked tables never get here. */
		return;
	}
	if (first) {
		c->aa = false;
		c->id_hash = n->hash[cut_labels];
	}
	c->referral = true;
	put_blob(c, b, n, false);
}

/* Answers qtype at a node (for a wildcard, ce is the closest encloser);
 * returns the CNAME target position or 0. */
static size_t node_answer(struct actx *c, const struct bw_table *t,
                          const struct bw_tbl_node *node, uint64_t h,
                          const struct nm *n, const struct bw_tbl_node *ce)
{
	const struct bw_tbl_blob *b;
	bool wild = ce != NULL;

	if (c->qtype == BW_TYPE_ANY)
		b = node->ntypes > 0 ? type_blob(c, t, h, node, 0) : NULL;
	else
		b = pick(c, t, h, node, c->qtype);
	if (b != NULL) {
		put_final(c, t, b, n, wild);
		return 0;
	}
	/* NSEC may sit beside a CNAME (RFC 4035 §2.5): never a reason to
	 * follow it. */
	if ((node->flags & BW_TN_CNAME) && c->qtype != BW_TYPE_NSEC) {
		b = pick(c, t, h, node, BW_TYPE_CNAME);
		size_t at = b ? put_blob(c, b, n, wild) : 0;
		return at && (b->flags & BW_TB_TARGET) ? at + b->target : 0;
	}
	/* NSEC3 wildcard NODATA also proves the closest encloser. */
	if (wild && is_nsec3(t))
		want_proof(c, t, node_proof(c, ce, false));
	put_negative(c, t, n, BW_RCODE_NOERROR, node_proof(c, node, false));
	return 0;
}

/* Copies the labels of n before its last k labels to the response. */
static bool put_prefix(struct actx *c, const struct nm *n, int k)
{
	for (int i = 0; i < n->nl - k; i++) {
		const uint8_t *lab = c->r + n->roff[i];
		size_t l = (size_t)lab[0] + 1;
		if (c->pos + l > c->limit)
			return false;
		memmove(c->r + c->pos, lab, l);
		c->pos += l;
	}
	return true;
}

/* RFC 6672: the DNAME, then a CNAME synthesized from it; returns the
 * position of the synthesized target, or 0. */
static size_t dname_answer(struct actx *c, const struct bw_table *t,
                           const struct bw_tbl_node *node, int k,
                           const struct nm *n)
{
	const struct bw_tbl_blob *b = pick(c, t, n->hash[k], node, BW_TYPE_DNAME);
	size_t at = b ? put_blob(c, b, n, false) : 0;

	if (at == 0 || !(b->flags & BW_TB_TARGET))
		return 0;
	size_t tpos = at + b->target;
	uint8_t target[BW_NAME_MAXLEN];
	int tlen = bw_name_unpack(c->r, c->pos, tpos, target, NULL);
	size_t prefix = n->loff[n->nl - k];
	if (tlen < 0)
		return 0;
	if (prefix + (size_t)tlen > BW_NAME_MAXLEN) {
		c->rcode = BW_RCODE_YXDOMAIN;
		return 0;
	}
	size_t rr = c->pos;
	if (rr + 12 + prefix + 2 > c->limit || n->roff[0] >= PTR_LIMIT ||
	    tpos >= PTR_LIMIT) {
		c->tc = true;
		return 0;
	}
	bw_put16(c->r + rr, (uint16_t)(0xc000 | n->roff[0]));
	bw_put16(c->r + rr + 2, BW_TYPE_CNAME);
	bw_put16(c->r + rr + 4, BW_CLASS_IN);
	memcpy(c->r + rr + 6, b->wire + 6, 4);  /* The DNAME's TTL. */
	c->pos = rr + 12;
	put_prefix(c, n, k);
	bw_put16(c->r + c->pos, (uint16_t)(0xc000 | tpos));
	c->pos += 2;
	bw_put16(c->r + rr + 10, (uint16_t)(c->pos - rr - 12));
	c->count[0]++;
	return rr + 12;
}

static const struct bw_tbl_node *find_wildcard(const struct bw_table *t,
                                               const struct nm *n, int k,
                                               uint64_t *h)
{
	static const uint8_t star[2] = { 1, '*' };
	uint8_t wname[BW_NAME_MAXLEN + 2];
	size_t off = n->loff[n->nl - k], len = n->len - off;

	if (len + 2 > BW_NAME_MAXLEN)
		return NULL;
	memcpy(wname, star, 2);
	memcpy(wname + 2, n->lname + off, len);
	*h = bw_hash_label(n->hash[k], star);
	return bw_table_lookup(t, *h, wname, len + 2);
}

/* Records the closest encloser (k labels) of the query name, the rate-
 * limiting identity of an NXDOMAIN (a referral overrides it). */
static void note_encloser(struct actx *c, const struct nm *n, int k)
{
	size_t off = n->loff[n->nl - k];

	c->id_hash = n->hash[k];
	c->next_hash = n->hash[k + 1];
	c->ce_off = (uint8_t)off;
	c->ce_len = (uint8_t)(n->len - off);
}

/* One step of resolution in zone t; returns the next chain target or 0. */
static size_t resolve(struct actx *c, const struct bw_table *t,
                      const struct nm *n, bool first)
{
	const struct bw_tbl_node *node = find_suffix(t, n, n->nl);
	int zl = t->hdr->apex_labels, k = n->nl;

	if (node != NULL) {
		if (node->flags & BW_TN_GLUE)
			referral(c, t, n, node->cut_labels, first);
		else if ((node->flags & BW_TN_DELEG) && c->qtype != BW_TYPE_DS)
			referral(c, t, n, k, first);
		else
			return node_answer(c, t, node, n->hash[k], n, NULL);
		return 0;
	}
	/* The closest encloser: the longest existing ancestor. */
	for (k = n->nl - 1; k >= zl; k--) {
		node = find_suffix(t, n, k);
		if (node != NULL)
			break;
	}
	if (node == NULL) {
		c->rcode = BW_RCODE_SERVFAIL;
		return 0;
	}
	if (first)
		note_encloser(c, n, k);
	if (node->flags & BW_TN_GLUE) {
		referral(c, t, n, node->cut_labels, first);
	} else if (node->flags & BW_TN_DELEG) {
		referral(c, t, n, k, first);
	} else if (node->flags & BW_TN_DNAME) {
		return dname_answer(c, t, node, k, n);
	} else if (node->flags & BW_TN_HAS_WILDCARD) {
		uint64_t h;
		const struct bw_tbl_node *w = find_wildcard(t, n, k, &h);
		if (c->dnssec)
			want_cover(c, t, n, k);  /* The query name does not exist. */
		if (w != NULL)
			return node_answer(c, t, w, h, n, node);
		put_negative(c, t, n, BW_RCODE_NXDOMAIN, node_proof(c, node, true));
	} else {
		/* RFC 4035 §3.1.3.2, RFC 5155 §7.2.2: closest encloser, next
		 * closer name, wildcard. */
		if (c->dnssec && is_nsec3(t))
			want_proof(c, t, node_proof(c, node, false));
		if (c->dnssec)
			want_cover(c, t, n, k);
		put_negative(c, t, n, BW_RCODE_NXDOMAIN, node_proof(c, node, true));
	}
	return 0;
}

/* Reads a name written earlier in the response into n. */
static bool nm_from_response(struct nm *n, const uint8_t *r, size_t end,
                             size_t pos)
{
	size_t len = 0;

	n->nl = 0;
	for (int jumps = 0; jumps < BW_NAME_MAXLABELS; ) {
		if (pos >= end)
			return false;
		uint8_t l = r[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= end)
				return false;
			size_t to = (size_t)(l & 0x3f) << 8 | r[pos + 1];
			if (to >= pos)
				return false;
			pos = to;
			jumps++;
			continue;
		}
		if (l > BW_LABEL_MAXLEN || len + l + 1 > BW_NAME_MAXLEN ||
		    pos + l + 1 > end || n->nl >= BW_NAME_MAXLABELS)
			return false;
		n->loff[n->nl] = (uint8_t)len;
		n->roff[n->nl] = (uint16_t)pos;
		n->lname[len] = l;
		for (size_t i = 1; i <= l; i++)
			n->lname[len + i] = bw_lower(r[pos + i]);
		len += l + 1u;
		if (l == 0) {
			n->len = (uint8_t)len;
			nm_hash(n);
			return true;
		}
		pos += l + 1u;
		n->nl++;
	}
	return false;
}

static bool in_zone(const struct bw_table *t, const struct nm *n)
{
	int zl = t->hdr->apex_labels;

	return n->nl >= zl &&
	       memcmp(n->lname + n->loff[n->nl - zl], t->hdr->apex, t->hdr->apex_len) == 0;
}

static bool seen_before(const uint64_t *seen, int n, uint64_t h)
{
	for (int i = 0; i < n; i++) {
		if (seen[i] == h)
			return true;
	}
	return false;
}

static void answer_zone(struct actx *c, const struct bw_table *t)
{
	struct nm chain;
	const struct nm *n = &c->name;
	uint64_t seen[MAX_CHAIN];

	c->aa = true;
	c->zone = t;
	c->dnssec = c->do_bit && (t->hdr->flags & BW_TBL_F_SIGNED);
	for (int hop = 0; hop < MAX_CHAIN; hop++) {
		seen[hop] = n->hash[n->nl];
		size_t next = resolve(c, t, n, hop == 0);
		if (next == 0 || c->tc || !nm_from_response(&chain, c->r, c->pos, next) ||
		    !in_zone(t, &chain))
			break;
		/* A name met before ends the chain (a loop). */
		if (seen_before(seen, hop + 1, chain.hash[chain.nl]))
			break;
		n = &chain;
	}
	if (c->dnssec)
		flush(c, t);  /* Proofs of a wildcard CNAME whose chain left. */
}

static void answer_in(struct actx *c, const struct bw_zoneset *zs)
{
	const struct nm *n = &c->name;
	const struct bw_table *t = zs ? bw_zoneset_match(zs, n->hash, n->lname,
	                                                 n->loff, n->nl) : NULL;

	/* DS lives on the parent side of a cut (RFC 4035 §3.1.4.1). */
	if (t != NULL && c->qtype == BW_TYPE_DS && n->nl > 0 &&
	    t->hdr->apex_labels == n->nl) {
		const struct bw_table *parent =
			bw_zoneset_match(zs, n->hash, n->lname, n->loff + 1, n->nl - 1);
		if (parent != NULL)
			t = parent;
	}
	if (t == NULL) {
		c->rcode = BW_RCODE_REFUSED;
		c->ede = EDE_NOT_AUTHORITATIVE;
		return;
	}
	answer_zone(c, t);
}

/* ---- CHAOS class: version.bind and friends. ---- */

static const char *chaos_text(const struct actx *c)
{
	static const uint8_t version_bind[] = "\007version\004bind";
	static const uint8_t version_server[] = "\007version\006server";
	static const uint8_t id_server[] = "\002id\006server";
	static const uint8_t hostname_bind[] = "\010hostname\004bind";
	const uint8_t *l = c->name.lname;
	size_t len = c->name.len;

	if (c->qtype != BW_TYPE_TXT && c->qtype != BW_TYPE_ANY)
		return NULL;
	if ((len == sizeof(version_bind) && memcmp(l, version_bind, len) == 0) ||
	    (len == sizeof(version_server) && memcmp(l, version_server, len) == 0))
		return c->conf->version_bind;
	if ((len == sizeof(id_server) && memcmp(l, id_server, len) == 0) ||
	    (len == sizeof(hostname_bind) && memcmp(l, hostname_bind, len) == 0))
		return c->conf->id_server;
	return NULL;
}

static void answer_chaos(struct actx *c)
{
	const char *text = chaos_text(c);
	size_t tlen = text ? strlen(text) : 0;

	if (text == NULL) {
		c->rcode = BW_RCODE_REFUSED;
		return;
	}
	if (tlen > 255)
		tlen = 255;
	if (c->pos + 13 + tlen > c->limit) {
		c->tc = true;
		return;
	}
	uint8_t *p = c->r + c->pos;
	bw_put16(p, 0xc000 | BW_HDR_LEN);
	bw_put16(p + 2, BW_TYPE_TXT);
	bw_put16(p + 4, BW_CLASS_CH);
	bw_put32(p + 6, 0);
	bw_put16(p + 10, (uint16_t)(tlen + 1));
	p[12] = (uint8_t)tlen;
	memcpy(p + 13, text, tlen);
	c->pos += 13 + tlen;
	c->count[0] = 1;
	c->aa = true;
}

/* ---- Finishing. ---- */

static void put_opt(struct actx *c)
{
	uint8_t *p = c->r + c->pos;
	bool nsid = c->nsid && c->conf->nsid_len > 0;
	uint16_t rdlen = (nsid ? (uint16_t)(4 + c->conf->nsid_len) : 0) +
	                 (c->ka_out ? KA_LEN : 0) + (c->ede ? EDE_LEN : 0) +
	                 (c->cookie_out ? COOKIE_LEN : 0);

	p[0] = 0;
	bw_put16(p + 1, BW_TYPE_OPT);
	bw_put16(p + 3, c->conf->udp_max);
	p[5] = (uint8_t)(c->rcode >> 4);
	p[6] = 0;  /* Version 0. */
	bw_put16(p + 7, c->do_bit ? BW_EDNS_DO : 0);
	bw_put16(p + 9, rdlen);
	if (nsid) {
		bw_put16(p + 11, BW_EDNS_NSID);
		bw_put16(p + 13, c->conf->nsid_len);
		memcpy(p + 15, c->conf->nsid, c->conf->nsid_len);
		p += 4 + c->conf->nsid_len;
	}
	if (c->ka_out) {
		bw_put16(p + 11, BW_EDNS_TCP_KEEPALIVE);
		bw_put16(p + 13, 2);
		bw_put16(p + 15, c->conf->tcp_keepalive);
		p += KA_LEN;
	}
	if (c->cookie_out) {
		bw_put16(p + 11, BW_EDNS_COOKIE);
		bw_put16(p + 13, COOKIE_LEN - 4);
		memcpy(p + 15, c->cookie, BW_COOKIE_CLIENT_LEN);
		memcpy(p + 15 + BW_COOKIE_CLIENT_LEN, c->server_cookie,
		       BW_COOKIE_SERVER_LEN);
		p += COOKIE_LEN;
	}
	if (c->ede) {
		bw_put16(p + 11, BW_EDNS_EDE);
		bw_put16(p + 13, 2);
		bw_put16(p + 15, c->ede);
	}
	c->pos += OPT_LEN + rdlen;
	c->count[2]++;
}

static size_t finish(struct actx *c, bool with_question)
{
	uint16_t qflags = bw_get16(c->q + 2);
	uint16_t flags = BW_FLAG_QR | (qflags & (0x7800 | BW_FLAG_RD | BW_FLAG_CD));

	if (c->aa)
		flags |= BW_FLAG_AA;
	if (c->tc)
		flags |= BW_FLAG_TC;
	flags |= c->rcode & 0xf;
	if (c->edns)
		put_opt(c);
	bw_put16(c->r + 2, flags);
	bw_put16(c->r + 4, with_question ? 1 : 0);
	bw_put16(c->r + 6, c->count[0]);
	bw_put16(c->r + 8, c->count[1]);
	bw_put16(c->r + 10, c->count[2]);
	return c->pos;
}

static enum bw_answer_kind kind_of(const struct actx *c)
{
	switch (c->rcode) {
	case BW_RCODE_NOERROR:
		if (c->referral)
			return BW_ANS_REFERRAL;
		return c->count[0] > 0 ? BW_ANS_POSITIVE : BW_ANS_NODATA;
	case BW_RCODE_NXDOMAIN:
		return BW_ANS_NXDOMAIN;
	case BW_RCODE_REFUSED:
		return BW_ANS_REFUSED;
	default:
		return BW_ANS_ERROR;
	}
}

static void fill_info(const struct actx *c, struct bw_answer_info *info,
                      size_t len)
{
	if (info == NULL)
		return;
	info->kind = len ? kind_of(c) : BW_ANS_DROP;
	info->rcode = (uint8_t)c->rcode;
	info->tc = c->tc;
	info->edns = c->edns;
	info->do_bit = c->do_bit;
	info->qtype = c->qtype;
	info->keepalive = c->ka && !c->ka_bad;
	info->zone = c->zone;
	info->cookie = c->cookie_state;
	info->name_hash = c->id_hash;
	info->next_hash = c->next_hash;
	info->ce_off = c->ce_off;
	info->ce_len = c->ce_len;
	info->mitigated = false;
}

/* Picks the rcode for queries we don't answer from zones, 0 if we do. */
static uint16_t precheck(const struct actx *c)
{
	if (c->edns && c->edns_version > 0)
		return BW_RCODE_BADVERS;
	switch (c->qtype) {
	case BW_TYPE_OPT:
	case 249: /* TKEY */
	case 250: /* TSIG */
		return BW_RCODE_FORMERR;
	case 253: /* MAILB */
	case 254: /* MAILA */
		return BW_RCODE_NOTIMP;
	case BW_TYPE_AXFR:
	case BW_TYPE_IXFR:
		return BW_RCODE_REFUSED;  /* Zone transfers are not served yet. */
	default:
		return 0;
	}
}

static size_t respond(struct actx *c, const struct bw_zoneset *zs, bool tcp,
                      size_t cap)
{
	set_limit(c, cap, tcp);
	begin_response(c, true);
	c->rcode = precheck(c);
	if (c->rcode != 0)
		return finish(c, true);
	if (c->qclass == BW_CLASS_IN)
		answer_in(c, zs);
	else if (c->qclass == BW_CLASS_CH)
		answer_chaos(c);
	else
		c->rcode = BW_RCODE_REFUSED;
	return finish(c, true);
}

/* A response with just the header (and the question when it parsed). */
static size_t error_response(struct actx *c, uint16_t rcode, bool with_question,
                             size_t cap)
{
	set_limit(c, cap, false);
	begin_response(c, with_question);
	c->rcode = rcode;
	return finish(c, with_question);
}

/* Settles the COOKIE option of a parsed query: checked against the
 * client's keys, answered with a fresh server cookie (RFC 9018 §4.3). */
static void cookie_settle(struct actx *c, const struct bw_answer_client *cl)
{
	size_t iplen = cl->v6 ? 16 : 4;

	if (c->cookie == NULL || cl->keys == NULL)
		return;
	if (c->cookie_bad) {
		c->cookie_state = BW_COOKIE_MALFORMED;
		return;
	}
	c->cookie_state = BW_COOKIE_CLIENT;
	if (c->cookie_len > BW_COOKIE_CLIENT_LEN)
		c->cookie_state = bw_cookie_check(cl->keys, c->cookie,
		                                  c->cookie + BW_COOKIE_CLIENT_LEN,
		                                  c->cookie_len - BW_COOKIE_CLIENT_LEN,
		                                  cl->addr, iplen, cl->now, NULL);
	bw_cookie_make(&cl->keys->cur, c->cookie, cl->addr, iplen, cl->now,
	               c->server_cookie);
	c->cookie_out = true;
}

/* The small responses that stand in for an answer (BW_ANSWER_SLIP, ...). */
static size_t forced_response(struct actx *c, unsigned flags, size_t cap)
{
	if (flags & BW_ANSWER_REFUSE)
		return error_response(c, BW_RCODE_REFUSED, true, cap);
	if ((flags & BW_ANSWER_BADCOOKIE) && c->cookie_out)
		return error_response(c, RCODE_BADCOOKIE, true, cap);
	set_limit(c, cap, false);
	begin_response(c, true);
	c->rcode = BW_RCODE_NOERROR;
	c->tc = true;
	return finish(c, true);
}

static void actx_init(struct actx *c, const struct bw_answer_conf *conf,
                      const uint8_t *q, size_t qlen, uint8_t *resp)
{
	c->conf = conf;
	c->q = q;
	c->qlen = qlen;
	c->r = resp;
	c->zone = NULL;
	c->edns = c->do_bit = c->nsid = false;
	c->ka = c->ka_bad = c->ka_out = false;
	c->cookie = NULL;
	c->cookie_len = 0;
	c->cookie_bad = c->cookie_out = false;
	c->cookie_state = BW_COOKIE_NONE;
	c->edns_version = 0;
	c->edns_size = 0;
	c->qtype = 0;
	c->rcode = 0;
	c->aa = c->tc = c->referral = false;
	c->ede = 0;
	c->id_hash = c->next_hash = 0;
	c->ce_off = c->ce_len = 0;
}

size_t bw_answer_from(const struct bw_zoneset *zs,
                      const struct bw_answer_conf *conf,
                      const struct bw_answer_client *cl, const uint8_t *q,
                      size_t qlen, uint8_t *resp, size_t cap, unsigned flags,
                      struct bw_answer_info *info)
{
	struct actx c;
	struct bw_hdr h;
	size_t len = 0;

	actx_init(&c, conf, q, qlen, resp);
	if (qlen < BW_HDR_LEN || cap < UDP_MIN) {
		fill_info(&c, info, 0);
		return 0;
	}
	bw_hdr_read(q, &h);
	if (h.flags & BW_FLAG_QR) {
		fill_info(&c, info, 0);
		return 0;  /* Never answer a response. */
	}
	c.qend = BW_HDR_LEN;
	bool question = h.qdcount == 1 && parse_qname(&c);
	bool records = question &&
	               parse_records(&c, (unsigned)h.ancount + h.nscount + h.arcount,
	                             (unsigned)h.ancount + h.nscount);
	if (question)
		c.id_hash = c.name.hash[c.name.nl];
	/* Over UDP the keepalive option is ignored (RFC 7828 §3). */
	c.ka_out = c.ka && (flags & BW_ANSWER_TCP) && !c.ka_bad &&
	           conf->tcp_keepalive > 0;
	if (records && cl != NULL)
		cookie_settle(&c, cl);
	if (BW_OPCODE(h.flags) != BW_OPCODE_QUERY)
		len = error_response(&c, BW_RCODE_NOTIMP, question, cap);
	else if (!records || (c.cookie_bad && cl != NULL && cl->keys != NULL))
		len = error_response(&c, BW_RCODE_FORMERR, question, cap);
	else if (c.ka_bad && (flags & BW_ANSWER_TCP))
		/* RFC 7828 §3.2.1: clients send the option empty. */
		len = error_response(&c, BW_RCODE_FORMERR, question, cap);
	else if (flags & (BW_ANSWER_SLIP | BW_ANSWER_BADCOOKIE | BW_ANSWER_REFUSE))
		len = forced_response(&c, flags, cap);
	else
		len = respond(&c, zs, flags & BW_ANSWER_TCP, cap);
	fill_info(&c, info, len);
	return len;
}

size_t bw_answer(const struct bw_zoneset *zs, const struct bw_answer_conf *conf,
                 const uint8_t *q, size_t qlen, uint8_t *resp, size_t cap,
                 unsigned flags, struct bw_answer_info *info)
{
	return bw_answer_from(zs, conf, NULL, q, qlen, resp, cap, flags, info);
}

size_t bw_answer_qname(const uint8_t *q, size_t qlen, uint8_t *lname)
{
	struct actx c;

	if (qlen < BW_HDR_LEN || bw_get16(q + 4) != 1)
		return 0;
	c.q = q;
	c.qlen = qlen;
	if (!scan_qname(&c))
		return 0;
	memcpy(lname, c.name.lname, c.name.len);
	return c.name.len;
}

void bw_answer_prefetch(const struct bw_zoneset *zs, const uint8_t *q,
                        size_t qlen, struct bw_answer_hint *hint)
{
	struct actx c;
	const struct bw_table *t;

	hint->table = NULL;
	if (zs == NULL || !zs->prefetch || qlen < BW_HDR_LEN || bw_get16(q + 4) != 1)
		return;
	c.q = q;
	c.qlen = qlen;
	if (!parse_qname(&c))
		return;
	t = bw_zoneset_match(zs, c.name.hash, c.name.lname, c.name.loff, c.name.nl);
	if (t == NULL)
		return;
	hint->table = t;
	hint->n = 0;
	for (int k = c.name.nl; k > t->hdr->apex_labels &&
	     hint->n < BW_ANSWER_HINT_NAMES; k--) {
		hint->hash[hint->n++] = c.name.hash[k];
		bw_table_prefetch(t, c.name.hash[k]);
	}
}

void bw_answer_prefetch_nodes(const struct bw_answer_hint *hint)
{
	for (unsigned i = 0; hint->table != NULL && i < hint->n; i++)
		bw_table_prefetch_node(hint->table, hint->hash[i]);
}

void bw_answer_conf_default(struct bw_answer_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->udp_max = 1232;
}
