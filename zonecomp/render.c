/*  bulwark — rendering pre-built response parts (blobs).
 *
 *  A blob is rendered as if its context name stood in the question at
 *  offset 12.  Every compression pointer written is also recorded as a
 *  relocation, so the answer engine can place the blob behind any question
 *  or CNAME chain and fix the pointers.
 */
#include <string.h>

#include "bulwark/wire.h"
#include "render.h"

#define PTR_LIMIT 0x4000  /* Compression pointers have 14 bits. */

static void dict_add_name(struct bw_rnd *r, size_t off, const uint8_t *name,
                          size_t literal, uint8_t ctx_labels)
{
	size_t len = bw_name_len(name);

	if (r->nnamebuf + len > sizeof(r->namebuf))
		return;
	uint8_t *copy = r->namebuf + r->nnamebuf;
	memcpy(copy, name, len);
	bw_name_lower(copy);
	r->nnamebuf += len;

	/* One entry per label written literally; labels stay targets. */
	uint8_t k = ctx_labels;
	for (size_t i = 0; i < literal && copy[i] != 0; i += copy[i] + 1u) {
		if (off + i >= PTR_LIMIT || r->ndict == BW_RND_MAXDICT)
			break;
		r->dict[r->ndict++] = (struct bw_rnd_dict){
			.off = (uint16_t)(off + i), .len = (uint8_t)(len - i),
			.ctx_labels = k, .name = copy + i,
		};
		if (k > 0)
			k--;
	}
}

static const struct bw_rnd_dict *dict_find(const struct bw_rnd *r,
                                           const uint8_t *lsuffix, size_t len)
{
	for (size_t i = 0; i < r->ndict; i++) {
		const struct bw_rnd_dict *e = &r->dict[i];
		if (e->len == len && memcmp(e->name, lsuffix, len) == 0)
			return e;
	}
	return NULL;
}

void bw_rnd_begin(struct bw_rnd *r, const uint8_t *ctx, uint8_t flags)
{
	size_t len = bw_name_len(ctx);

	r->ndict = r->nnamebuf = r->ncut = r->nrel = 0;
	r->count[0] = r->count[1] = r->count[2] = 0;
	r->target = 0xffff;
	r->need = 0;
	r->plain = r->plain_an = 0;
	r->flags = flags;
	r->full = false;
	r->ctx_len = (uint8_t)len;
	r->ctx_labels = (uint8_t)bw_name_labels(ctx);
	memset(r->w, 0, BW_HDR_LEN);
	memcpy(r->w + BW_HDR_LEN, ctx, len);
	r->start = r->pos = BW_HDR_LEN + len + 4;
	dict_add_name(r, BW_HDR_LEN, ctx, len, r->ctx_labels);
}

static bool room(const struct bw_rnd *r, size_t n)
{
	return r->pos + n <= BW_RND_WIRE;
}

static bool put_name(struct bw_rnd *r, const uint8_t *name, bool compress)
{
	uint8_t lname[BW_NAME_MAXLEN];
	size_t len = bw_name_len(name);
	const struct bw_rnd_dict *m = NULL;
	size_t literal = 0;

	memcpy(lname, name, len);
	bw_name_lower(lname);
	if (compress) {
		while (lname[literal] != 0) {
			m = dict_find(r, lname + literal, len - literal);
			if (m != NULL)
				break;
			literal += lname[literal] + 1u;
		}
	}
	if (m == NULL)
		literal = len;
	if (!room(r, literal + (m ? 2 : 0)) || r->nrel == BW_RND_MAXREL)
		return false;

	size_t at = r->pos;
	memcpy(r->w + at, name, literal);
	r->pos += literal;
	if (m != NULL) {
		bw_put16(r->w + r->pos, (uint16_t)(0xc000 | m->off));
		r->rels[r->nrel++] = (struct bw_tbl_rel){
			.pos = (uint16_t)(r->pos - r->start),
			.what = m->ctx_labels ? (uint16_t)(BW_REL_CTX | m->ctx_labels)
			                      : (uint16_t)(m->off - r->start),
		};
		r->pos += 2;
	}
	if (literal > 0)
		dict_add_name(r, at, name, literal, 0);
	return true;
}

static bool put_rdata(struct bw_rnd *r, uint16_t type, const uint8_t *rd,
                      size_t len)
{
	struct bw_rdata_name names[BW_RDATA_MAXNAMES];
	int n = bw_rdata_names(type, rd, len, names);
	size_t prev = 0;

	if (n < 0)
		n = 0;
	for (int i = 0; i < n; i++) {
		size_t chunk = names[i].off - prev;
		if (!room(r, chunk))
			return false;
		memcpy(r->w + r->pos, rd + prev, chunk);
		r->pos += chunk;
		if ((type == BW_TYPE_CNAME || type == BW_TYPE_DNAME) && i == 0) {
			r->target = (uint16_t)(r->pos - r->start);
			r->flags |= BW_TB_TARGET;
		}
		if (!put_name(r, rd + names[i].off, names[i].compress))
			return false;
		prev = names[i].off + names[i].len;
	}
	if (!room(r, len - prev))
		return false;
	memcpy(r->w + r->pos, rd + prev, len - prev);
	r->pos += len - prev;
	return true;
}

static bool put_rr(struct bw_rnd *r, const uint8_t *owner, uint16_t type,
                   uint32_t ttl, const struct bw_zone_rdata *rd)
{
	if (!put_name(r, owner, true) || !room(r, 10))
		return false;
	uint8_t *p = r->w + r->pos;
	bw_put16(p, type);
	bw_put16(p + 2, BW_CLASS_IN);
	bw_put32(p + 4, ttl);
	r->pos += 10;
	size_t rdstart = r->pos;
	if (!put_rdata(r, type, rd->data, rd->len))
		return false;
	bw_put16(p + 8, (uint16_t)(r->pos - rdstart));
	return true;
}

bool bw_rnd_rrset(struct bw_rnd *r, enum bw_rnd_section sec,
                  const uint8_t *owner, const struct bw_zone_rrset *rrset,
                  uint32_t ttl, const uint32_t *ttls)
{
	size_t pos = r->pos, ndict = r->ndict, nnb = r->nnamebuf;
	size_t nrel = r->nrel;
	uint16_t target = r->target;
	uint8_t flags = r->flags;

	for (uint16_t i = 0; i < rrset->count; i++) {
		if (r->ncut == BW_RND_MAXCUT ||
		    !put_rr(r, owner, rrset->type, ttls ? ttls[i] : ttl, &rrset->rd[i])) {
			/* Roll back to the state before this RRset. */
			r->pos = pos;
			r->ndict = ndict;
			r->nnamebuf = nnb;
			r->nrel = nrel;
			r->target = target;
			r->flags = flags;
			r->full = true;
			return false;
		}
	}
	r->count[sec] += rrset->count;
	if (sec != BW_SEC_AR)
		bw_rnd_require(r);
	r->cuts[r->ncut++] = (struct bw_tbl_cut){
		.end = (uint16_t)(r->pos - r->start),
		.an = r->count[0], .ns = r->count[1], .ar = r->count[2],
	};
	return true;
}

void bw_rnd_join(struct bw_rnd *r)
{
	if (r->ncut >= 2) {
		r->cuts[r->ncut - 2] = r->cuts[r->ncut - 1];
		r->ncut--;
	}
}

void bw_rnd_mark_plain(struct bw_rnd *r)
{
	r->plain = (uint16_t)(r->pos - r->start);
	r->plain_an = r->count[BW_SEC_AN];
}

void bw_rnd_require(struct bw_rnd *r)
{
	r->need = (uint16_t)(r->pos - r->start);
}

static size_t ncuts_stored(const struct bw_rnd *r)
{
	return r->ncut > 1 ? r->ncut : 0;
}

size_t bw_rnd_size(const struct bw_rnd *r)
{
	size_t len = r->pos - r->start;
	return offsetof(struct bw_tbl_blob, wire) + ((len + 1) & ~(size_t)1) +
	       ncuts_stored(r) * sizeof(struct bw_tbl_cut) +
	       r->nrel * sizeof(struct bw_tbl_rel);
}

void bw_rnd_write(const struct bw_rnd *r, uint8_t *out)
{
	struct bw_tbl_blob *b = (struct bw_tbl_blob *)(void *)out;
	size_t len = r->pos - r->start;

	memset(out, 0, bw_rnd_size(r));
	b->len = (uint16_t)len;
	b->an = r->count[0];
	b->ns = r->count[1];
	b->ar = r->count[2];
	b->ncut = (uint16_t)ncuts_stored(r);
	b->nrel = (uint16_t)r->nrel;
	b->target = r->target;
	b->need = r->need;
	b->plain = r->plain;
	b->plain_an = r->plain_an;
	b->ctx_len = r->ctx_len;
	b->ctx_labels = r->ctx_labels;
	b->flags = r->flags;
	memcpy(b->wire, r->w + r->start, len);
	memcpy((void *)bw_tbl_blob_cuts(b), r->cuts,
	       b->ncut * sizeof(struct bw_tbl_cut));
	memcpy((void *)bw_tbl_blob_rels(b), r->rels,
	       r->nrel * sizeof(struct bw_tbl_rel));
}
