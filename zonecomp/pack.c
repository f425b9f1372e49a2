/*  bulwark — packing a checked zone into a table.
 *
 *  Nodes are spread over shards by the top bits of their name hash; each
 *  shard holds its hash buckets, its nodes and the blobs its nodes use, so
 *  that an update can later replace single shards.
 */
#include <stdlib.h>
#include <string.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "pack.h"
#include "render.h"

#define SHARD_TARGET 65536  /* Nodes per shard, roughly. */

struct buf {
	uint8_t *data;
	size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	uint8_t *d = realloc(b->data, cap);
	if (d == NULL)
		return BW_ENOMEM;
	memset(d + b->cap, 0, cap - b->cap);
	b->data = d;
	b->cap = cap;
	return 0;
}

struct shard {
	uint32_t nnodes, nbuckets, max_probe;
	uint32_t nodes_off, blobs_off;
	size_t nodes_size;
	struct buf blobs;
};

struct packer {
	const struct bw_zone *z;
	struct bw_diag *d;
	struct bw_rnd *rnd;
	unsigned shard_bits;
	struct shard *shards;
	uint64_t *hash;         /* Per node. */
	uint32_t *node_off;     /* Per node, shard offset. */
	size_t *first_blob;     /* Per node, index into blob_off. */
	uint32_t *blob_off;     /* Per RRset, shard offset of its blob. */
	uint32_t ttls[65536];   /* Per-record TTLs of the RRset being rendered. */
};

static unsigned shard_of(const struct packer *p, uint64_t h)
{
	return p->shard_bits ? (unsigned)(h >> (64 - p->shard_bits)) : 0;
}

static size_t node_size(const struct bw_zone_node *n)
{
	size_t sz = sizeof(struct bw_tbl_node) +
	            n->nrrsets * sizeof(struct bw_tbl_type) + n->name_len;
	return (sz + BW_TBL_ALIGN - 1) & ~(size_t)(BW_TBL_ALIGN - 1);
}

static uint32_t pow2_at_least(size_t n)
{
	uint32_t v = 8;
	while (v < n)
		v *= 2;
	return v;
}

/* Sizes of every shard, and where each node goes inside its shard. */
static void layout(struct packer *p)
{
	const struct bw_zone *z = p->z;
	size_t nshards = (size_t)1 << p->shard_bits;

	for (size_t i = 0; i < z->nnodes; i++) {
		p->hash[i] = bw_hash_name(z->nodes[i].name);
		p->shards[shard_of(p, p->hash[i])].nnodes++;
	}
	for (size_t s = 0; s < nshards; s++) {
		struct shard *sh = &p->shards[s];
		/* Load factor at most about 0.7: short probes, small tables. */
		sh->nbuckets = pow2_at_least((size_t)sh->nnodes * 10 / 7 + 1);
		sh->nodes_off = sh->nbuckets * (uint32_t)sizeof(struct bw_tbl_bucket);
		sh->nodes_size = 0;
	}
	for (size_t i = 0; i < z->nnodes; i++) {
		struct shard *sh = &p->shards[shard_of(p, p->hash[i])];
		p->node_off[i] = sh->nodes_off + (uint32_t)sh->nodes_size;
		sh->nodes_size += node_size(&z->nodes[i]);
	}
	for (size_t s = 0; s < nshards; s++) {
		struct shard *sh = &p->shards[s];
		sh->blobs_off = sh->nodes_off + (uint32_t)sh->nodes_size;
	}
}

static bool is_glue_target(uint16_t type)
{
	return type == BW_TYPE_NS || type == BW_TYPE_MX || type == BW_TYPE_SRV;
}

/* Target name of the i-th record of an NS, MX or SRV RRset. */
static const uint8_t *target_of(const struct bw_zone_rrset *rs, uint16_t i)
{
	struct bw_rdata_name nm[BW_RDATA_MAXNAMES];
	const struct bw_zone_rdata *rd = &rs->rd[i];

	if (bw_rdata_names(rs->type, rd->data, rd->len, nm) < 1)
		return NULL;
	return rd->data + nm[0].off;
}

static bool named_before(const struct bw_zone_rrset *rs, uint16_t i,
                         const uint8_t *target)
{
	for (uint16_t j = 0; j < i; j++) {
		const uint8_t *prev = target_of(rs, j);
		if (prev != NULL && bw_name_equal(prev, target))
			return true;
	}
	return false;
}

/* Adds the A and AAAA of one target; false when the blob is full. */
static bool add_addresses(struct packer *p, const uint8_t *target)
{
	uint8_t lname[BW_NAME_MAXLEN];
	memcpy(lname, target, bw_name_len(target));
	bw_name_lower(lname);
	const struct bw_zone_node *n = bw_zone_find(p->z, lname);

	for (uint16_t t = 0; n != NULL && t < n->nrrsets; t++) {
		const struct bw_zone_rrset *a = &n->rrsets[t];
		if ((a->type == BW_TYPE_A || a->type == BW_TYPE_AAAA) &&
		    !bw_rnd_rrset(p->rnd, BW_SEC_AR, target, a, a->ttl, NULL))
			return false;
	}
	return true;
}

/*
 * A and AAAA of the in-zone targets of NS, MX and SRV records, glue
 * included (as Knot DNS and NSD do).  In a referral the glue of targets
 * below the cut comes first and must fit (RFC 9471); the rest follows.
 */
static void add_additional(struct packer *p, const struct bw_zone_rrset *rs,
                           const uint8_t *cut)
{
	for (int pass = cut ? 0 : 1; pass < 2; pass++) {
		for (uint16_t i = 0; i < rs->count; i++) {
			const uint8_t *target = target_of(rs, i);
			if (target == NULL || named_before(rs, i, target) ||
			    (cut && bw_name_is_sub(target, cut) != (pass == 0)))
				continue;
			if (!add_addresses(p, target))
				return;
		}
		if (pass == 0)
			bw_rnd_require(p->rnd);
	}
}

/* An RRSIG's TTL is that of the RRset it covers (RFC 4034 §3). */
static const uint32_t *rrsig_ttls(struct packer *p, const struct bw_zone_node *n,
                                  const struct bw_zone_rrset *rs)
{
	if (rs->type != BW_TYPE_RRSIG)
		return NULL;
	for (uint16_t i = 0; i < rs->count; i++) {
		const struct bw_zone_rrset *covered = rs->rd[i].len >= 2 ?
			bw_zone_rrset(n, bw_get16(rs->rd[i].data)) : NULL;
		p->ttls[i] = covered ? covered->ttl : rs->ttl;
	}
	return p->ttls;
}

/* Renders the blob that answers one type at one node. */
static int render_type(struct packer *p, const struct bw_zone_node *n,
                       const struct bw_zone_rrset *rs)
{
	bool referral = (n->flags & BW_ZN_DELEG) && rs->type == BW_TYPE_NS;
	struct bw_rnd *r = p->rnd;

	bw_rnd_begin(r, n->name, referral ? 0 : BW_TB_AA);
	enum bw_rnd_section sec = referral ? BW_SEC_NS : BW_SEC_AN;
	if (!bw_rnd_rrset(r, sec, n->name, rs, rs->ttl, rrsig_ttls(p, n, rs))) {
		char name[BW_NAME_MAXTEXT], type[16];
		bw_name_to_text(name, sizeof(name), n->name);
		bw_type_to_text(rs->type, type, sizeof(type));
		bw_diag_report(p->d, BW_DIAG_ERROR, rs->file, rs->line,
		               "RRset %s %s is too large to be sent in one message",
		               name, type);
		return BW_EZONE;
	}
	if (is_glue_target(rs->type))
		add_additional(p, rs, referral ? n->name : NULL);
	return 0;
}

static int append_blob(struct buf *b, const struct bw_rnd *r, uint32_t *at)
{
	size_t sz = bw_rnd_size(r);
	int ret = buf_reserve(b, sz + 2);
	if (ret != 0)
		return ret;
	*at = (uint32_t)b->len;
	bw_rnd_write(r, b->data + b->len);
	b->len += (sz + 1) & ~(size_t)1;  /* Blobs are 2-aligned. */
	return 0;
}

static void write_types(const struct packer *p, uint8_t *file,
                        const uint64_t *shard_base)
{
	const struct bw_zone *z = p->z;

	for (size_t i = 0; i < z->nnodes; i++) {
		const struct bw_zone_node *zn = &z->nodes[i];
		uint8_t *base = file + shard_base[shard_of(p, p->hash[i])];
		struct bw_tbl_node *tn = (struct bw_tbl_node *)(void *)(base + p->node_off[i]);
		for (uint16_t t = 0; t < zn->nrrsets; t++) {
			tn->types[t].type = zn->rrsets[t].type;
			tn->types[t].blob = p->blob_off[p->first_blob[i] + t];
		}
	}
}

static void pack_nodes(struct packer *p, uint8_t *file, const uint64_t *shard_base)
{
	const struct bw_zone *z = p->z;

	for (size_t i = 0; i < z->nnodes; i++) {
		const struct bw_zone_node *zn = &z->nodes[i];
		unsigned s = shard_of(p, p->hash[i]);
		struct shard *sh = &p->shards[s];
		uint8_t *base = file + shard_base[s];
		struct bw_tbl_node *tn = (struct bw_tbl_node *)(void *)(base + p->node_off[i]);

		tn->name_len = zn->name_len;
		tn->labels = zn->labels;
		tn->cut_labels = zn->cut_labels;
		tn->flags = (uint16_t)zn->flags;
		tn->ntypes = zn->nrrsets;
		memcpy((uint8_t *)bw_tbl_node_name(tn), zn->name, zn->name_len);

		/* Buckets: linear probing from the hash's low bits. */
		struct bw_tbl_bucket *bk = (struct bw_tbl_bucket *)(void *)base;
		uint32_t mask = sh->nbuckets - 1, probe = 0;
		uint32_t at = (uint32_t)p->hash[i] & mask;
		while (bk[at].node != 0) {
			at = (at + 1) & mask;
			probe++;
		}
		bk[at].tag = (uint32_t)(p->hash[i] >> 32);
		bk[at].node = p->node_off[i];
		if (probe > sh->max_probe)
			sh->max_probe = probe;
	}
}

static int render_blobs(struct packer *p)
{
	const struct bw_zone *z = p->z;

	for (size_t i = 0; i < z->nnodes; i++) {
		const struct bw_zone_node *zn = &z->nodes[i];
		struct shard *sh = &p->shards[shard_of(p, p->hash[i])];
		for (uint16_t t = 0; t < zn->nrrsets; t++) {
			uint32_t at;
			int ret = render_type(p, zn, &zn->rrsets[t]);
			if (ret == 0)
				ret = append_blob(&sh->blobs, p->rnd, &at);
			if (ret != 0)
				return ret;
			p->blob_off[p->first_blob[i] + t] = sh->blobs_off + at;
		}
	}
	return 0;
}

static int render_negative(struct packer *p, struct buf *zb, uint32_t *at)
{
	const struct bw_zone *z = p->z;
	const struct bw_zone_rrset *soa = bw_zone_rrset(&z->nodes[0], BW_TYPE_SOA);
	uint32_t ttl = z->soa_ttl < z->soa_minimum ? z->soa_ttl : z->soa_minimum;

	if (soa == NULL)
		return BW_EZONE;
	bw_rnd_begin(p->rnd, z->nodes[0].name, BW_TB_AA);
	if (!bw_rnd_rrset(p->rnd, BW_SEC_NS, z->nodes[0].name, soa, ttl, NULL))
		return BW_EZONE;
	return append_blob(zb, p->rnd, at);
}

static void fill_header(const struct packer *p, uint8_t *file, size_t len,
                        uint64_t dir, uint64_t neg)
{
	struct bw_tbl_header *h = (struct bw_tbl_header *)(void *)file;
	const struct bw_zone *z = p->z;

	memcpy(h->magic, BW_TBL_MAGIC, 8);
	h->version = BW_TBL_VERSION;
	h->endian = BW_TBL_ENDIAN;
	h->file_size = len;
	h->header_size = BW_TBL_HDR_SIZE;
	h->serial = z->serial;
	h->nnodes = (uint32_t)z->nnodes;
	h->shard_bits = p->shard_bits;
	h->shard_dir = dir;
	h->neg_blob = neg;
	h->apex_len = z->apex_len;
	h->apex_labels = z->apex_labels;
	memcpy(h->apex, z->apex, z->apex_len);
	bw_name_lower(h->apex);
	h->checksum = bw_tbl_checksum(file, len);
}

static size_t align8(size_t v)
{
	return (v + 7) & ~(size_t)7;
}

static int assemble(struct packer *p, const struct buf *zb, uint32_t neg_at,
                    uint8_t **out, size_t *outlen)
{
	size_t nshards = (size_t)1 << p->shard_bits;
	uint64_t dir = BW_TBL_HDR_SIZE;
	uint64_t zoff = align8(dir + nshards * sizeof(struct bw_tbl_shard));
	uint64_t *base = calloc(nshards, sizeof(*base));
	size_t len = align8(zoff + zb->len);

	if (base == NULL)
		return BW_ENOMEM;
	for (size_t s = 0; s < nshards; s++) {
		base[s] = len;
		len = align8(len + p->shards[s].blobs_off + p->shards[s].blobs.len);
	}
	uint8_t *file = calloc(1, len);
	if (file == NULL) {
		free(base);
		return BW_ENOMEM;
	}
	memcpy(file + zoff, zb->data, zb->len);
	struct bw_tbl_shard *sd = (struct bw_tbl_shard *)(void *)(file + dir);
	for (size_t s = 0; s < nshards; s++) {
		struct shard *sh = &p->shards[s];
		memcpy(file + base[s] + sh->blobs_off, sh->blobs.data, sh->blobs.len);
		sd[s] = (struct bw_tbl_shard){
			.base = base[s],
			.size = sh->blobs_off + sh->blobs.len,
			.nbuckets = sh->nbuckets, .nnodes = sh->nnodes,
			.nodes_off = sh->nodes_off, .blobs_off = sh->blobs_off,
		};
	}
	pack_nodes(p, file, base);
	for (size_t s = 0; s < nshards; s++)
		sd[s].max_probe = p->shards[s].max_probe;
	write_types(p, file, base);
	fill_header(p, file, len, dir, zoff + neg_at);
	free(base);
	*out = file;
	*outlen = len;
	return 0;
}

static void packer_free(struct packer *p)
{
	if (p->shards != NULL) {
		for (size_t s = 0; s < ((size_t)1 << p->shard_bits); s++)
			free(p->shards[s].blobs.data);
	}
	free(p->shards);
	free(p->hash);
	free(p->node_off);
	free(p->first_blob);
	free(p->blob_off);
	free(p->rnd);
	p->shards = NULL;
}

static int packer_init(struct packer *p, const struct bw_zone *z,
                       struct bw_diag *d)
{
	size_t nrrsets = 0;

	memset(p, 0, sizeof(*p));
	p->z = z;
	p->d = d;
	while (((size_t)SHARD_TARGET << p->shard_bits) < z->nnodes)
		p->shard_bits++;
	for (size_t i = 0; i < z->nnodes; i++)
		nrrsets += z->nodes[i].nrrsets;
	p->shards = calloc((size_t)1 << p->shard_bits, sizeof(*p->shards));
	p->hash = calloc(z->nnodes, sizeof(*p->hash));
	p->node_off = calloc(z->nnodes, sizeof(*p->node_off));
	p->first_blob = calloc(z->nnodes, sizeof(*p->first_blob));
	p->blob_off = calloc(nrrsets + 1, sizeof(*p->blob_off));
	p->rnd = malloc(sizeof(*p->rnd));
	if (!p->shards || !p->hash || !p->node_off || !p->first_blob ||
	    !p->blob_off || !p->rnd)
		return BW_ENOMEM;
	for (size_t i = 0, k = 0; i < z->nnodes; i++) {
		p->first_blob[i] = k;
		k += z->nodes[i].nrrsets;
	}
	return 0;
}

int bw_pack_zone(const struct bw_zone *z, struct bw_diag *d, uint8_t **out,
                 size_t *len)
{
	struct packer *p = calloc(1, sizeof(*p));
	struct buf zb = { 0 };
	uint32_t neg_at = 0;

	if (p == NULL)
		return BW_ENOMEM;
	int ret = z->nnodes > 0 ? packer_init(p, z, d) : BW_EZONE;
	if (ret == 0) {
		layout(p);
		ret = render_negative(p, &zb, &neg_at);
	}
	if (ret == 0)
		ret = render_blobs(p);
	if (ret == 0)
		ret = assemble(p, &zb, neg_at, out, len);
	free(zb.data);
	packer_free(p);
	free(p);
	return ret;
}
