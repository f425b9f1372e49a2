/*  bulwark — packing a checked zone into a table.
 *
 *  Nodes are spread over shards by the top bits of their name hash; each
 *  shard holds its hash buckets, its nodes and the blobs its nodes use, so
 *  that an update can later replace single shards.
 *
 *  The table is written out shard by shard as each is rendered, so that
 *  only the zone, the common area and one shard are in memory at a time
 *  (a 10M-name signed table is about 10 GiB).
 */
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/err.h"
#include "bulwark/nsec3.h"
#include "bulwark/wire.h"
#include "grow.h"
#include "pack.h"
#include "render.h"

#define SHARD_TARGET 65536  /* Nodes per shard, roughly. */

struct buf {
	uint8_t *data;
	size_t len, cap;
};

/* Offsets inside an area are 32-bit. */
#define AREA_MAX UINT32_MAX

static int buf_reserve(struct buf *b, size_t n)
{
	size_t old = b->cap;

	if (b->len + n > AREA_MAX)
		return BW_ERANGE;
	int ret = bw_grow((void **)&b->data, &b->cap, b->len + n, 1, 4096);

	if (ret == 0 && b->cap > old)
		memset(b->data + old, 0, b->cap - old);  /* Padding stays zero. */
	return ret;
}

struct shard {
	uint32_t nnodes, nbuckets, max_probe;
	uint32_t nodes_off, blobs_off;
	size_t nodes_size;
	size_t first;           /* Its nodes start at packer.order[first]. */
};

/* DNSSEC data of a signed zone: the denial chain and the proofs. */
struct n3_entry {
	uint8_t hash[20];
	size_t node;            /* Zone node that owns the NSEC3. */
};

struct dnssec {
	bool on, nsec3;
	uint8_t alg, salt_len;
	uint16_t iterations;
	uint8_t salt[255];
	size_t *owner;          /* NSEC: nodes with an NSEC, canonical order. */
	size_t nowner;
	struct n3_entry *n3;    /* NSEC3: owners by hash. */
	size_t nn3;
	uint32_t *denial_blob;  /* Per node: common offset of its NSEC(3) blob. */
	uint32_t *proof;        /* Per node: NODATA proof (common offset). */
	uint32_t *wild_proof;   /* Per node: no-wildcard proof. */
	struct bw_zone_rdata *sigrd;
	struct bw_zone_rrset sigset;
};

struct packer {
	const struct bw_zone *z;
	struct bw_diag *d;
	struct bw_rnd *rnd;
	unsigned shard_bits;
	struct shard *shards;
	struct buf region;      /* The shard being rendered. */
	uint32_t *order;        /* Nodes of the name tree grouped by shard,
	                           canonical order inside each. */
	uint64_t *hash;         /* Per node. */
	uint32_t *node_off;     /* Per node, shard offset. */
	size_t *first_blob;     /* Per node, index into blob_off. */
	uint32_t *blob_off;     /* Per RRset, shard offset of its blob. */
	uint32_t *do_off;       /* Per RRset, shard offset of its DO=1 blob. */
	struct buf common;      /* Zone-wide blobs, proofs and indexes. */
	uint32_t neg_at, neg_do_at, index_at, keys_at, sample_at;
	size_t nincluded;       /* Nodes in the name tree. */
	struct dnssec ds;
	uint32_t ttls[65536];   /* Per-record TTLs of the RRset being rendered. */
};

/* NSEC3 owners are kept out of the name tree (RFC 5155 §7.2). */
static bool skipped(const struct packer *p, size_t i)
{
	return p->ds.nsec3 && (p->z->nodes[i].flags & BW_ZN_NSEC3);
}

static unsigned shard_of(const struct packer *p, uint64_t h)
{
	return p->shard_bits ? (unsigned)(h >> (64 - p->shard_bits)) : 0;
}

static size_t node_size(const struct packer *p, const struct bw_zone_node *n)
{
	size_t sz = sizeof(struct bw_tbl_node) +
	            n->nrrsets * sizeof(struct bw_tbl_type) + n->name_len +
	            bw_tbl_signed_size(p->ds.on ? BW_TN_SIGNED : 0, n->nrrsets);
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
static int layout(struct packer *p)
{
	const struct bw_zone *z = p->z;
	size_t nshards = (size_t)1 << p->shard_bits;

	for (size_t i = 0; i < z->nnodes; i++) {
		p->hash[i] = bw_hash_name(z->nodes[i].name);
		if (skipped(p, i))
			continue;
		p->shards[shard_of(p, p->hash[i])].nnodes++;
		p->nincluded++;
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
		if (skipped(p, i))
			continue;
		p->node_off[i] = sh->nodes_off + (uint32_t)sh->nodes_size;
		sh->nodes_size += node_size(p, &z->nodes[i]);
	}
	for (size_t s = 0, first = 0; s < nshards; s++) {
		struct shard *sh = &p->shards[s];
		sh->blobs_off = sh->nodes_off + (uint32_t)sh->nodes_size;
		sh->first = first;
		first += sh->nnodes;
	}
	/* Blobs go in node order inside each shard, as they always have. */
	size_t *next = calloc(nshards, sizeof(*next));
	if (next == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < z->nnodes; i++) {
		if (skipped(p, i))
			continue;
		unsigned s = shard_of(p, p->hash[i]);
		p->order[p->shards[s].first + next[s]++] = (uint32_t)i;
	}
	free(next);
	return 0;
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

static bool put_signed(struct packer *p, enum bw_rnd_section sec,
                       const struct bw_zone_node *n, const uint8_t *owner,
                       const struct bw_zone_rrset *rs, uint32_t ttl, bool sign);

/* Adds the A and AAAA of one target; false when the blob is full.  With
 * \a sign, authoritative addresses come with their RRSIGs. */
static bool add_addresses(struct packer *p, const uint8_t *target, bool sign)
{
	uint8_t lname[BW_NAME_MAXLEN];
	memcpy(lname, target, bw_name_len(target));
	bw_name_lower(lname);
	const struct bw_zone_node *n = bw_zone_find(p->z, lname);

	for (uint16_t t = 0; n != NULL && t < n->nrrsets; t++) {
		const struct bw_zone_rrset *a = &n->rrsets[t];
		if ((a->type == BW_TYPE_A || a->type == BW_TYPE_AAAA) &&
		    !put_signed(p, BW_SEC_AR, n, target, a, a->ttl,
		                sign && !(n->flags & BW_ZN_GLUE)))
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
                           const uint8_t *cut, bool sign)
{
	for (int pass = cut ? 0 : 1; pass < 2; pass++) {
		for (uint16_t i = 0; i < rs->count; i++) {
			const uint8_t *target = target_of(rs, i);
			if (target == NULL || named_before(rs, i, target) ||
			    (cut && bw_name_is_sub(target, cut) != (pass == 0)))
				continue;
			if (!add_addresses(p, target, sign))
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
		add_additional(p, rs, referral ? n->name : NULL, false);
	return 0;
}

/* ---- DNSSEC: signatures, denial blobs and proofs. ---- */

/* The RRSIGs at node n that cover \a type, as an RRset (scratch). */
static const struct bw_zone_rrset *sigs_for(struct packer *p,
                                            const struct bw_zone_node *n,
                                            uint16_t type)
{
	const struct bw_zone_rrset *all = bw_zone_rrset(n, BW_TYPE_RRSIG);
	uint16_t k = 0;

	for (uint16_t i = 0; all != NULL && i < all->count; i++) {
		if (all->rd[i].len >= 2 && bw_get16(all->rd[i].data) == type)
			p->ds.sigrd[k++] = all->rd[i];
	}
	if (k == 0)
		return NULL;
	p->ds.sigset = *all;
	p->ds.sigset.count = k;
	p->ds.sigset.rd = p->ds.sigrd;
	return &p->ds.sigset;
}

/* An RRset, followed by its signatures when \a sign. */
static bool put_signed(struct packer *p, enum bw_rnd_section sec,
                       const struct bw_zone_node *n, const uint8_t *owner,
                       const struct bw_zone_rrset *rs, uint32_t ttl, bool sign)
{
	if (!bw_rnd_rrset(p->rnd, sec, owner, rs, ttl, NULL))
		return false;
	const struct bw_zone_rrset *sig = sign ? sigs_for(p, n, rs->type) : NULL;
	if (sig == NULL)
		return true;
	if (!bw_rnd_rrset(p->rnd, sec, owner, sig, ttl, NULL))
		return false;
	bw_rnd_join(p->rnd);  /* Never an RRSIG without its RRset. */
	return true;
}

static uint16_t denial_type(const struct packer *p)
{
	return p->ds.nsec3 ? BW_TYPE_NSEC3 : BW_TYPE_NSEC;
}

/* The NSEC or NSEC3 of a node and its RRSIG, in authority. */
static bool put_denial(struct packer *p, size_t node)
{
	const struct bw_zone_node *n = &p->z->nodes[node];
	const struct bw_zone_rrset *rs = bw_zone_rrset(n, denial_type(p));

	return rs != NULL && put_signed(p, BW_SEC_NS, n, n->name, rs, rs->ttl, true);
}

/* Greatest NSEC owner at or before \a lname in canonical order. */
static size_t nsec_cover(const struct packer *p, const uint8_t *lname)
{
	size_t lo = 0, hi = p->ds.nowner;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (bw_name_cmp(p->z->nodes[p->ds.owner[mid]].name, lname) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	return p->ds.owner[lo];
}

/* The NSEC3 whose hash is the greatest at or before \a h (wrapping);
 * \a exact tells whether it matches. */
static size_t n3_cover(const struct packer *p, const uint8_t h[20], bool *exact)
{
	size_t lo = 0, hi = p->ds.nn3;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(p->ds.n3[mid].hash, h, 20) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t at = lo == 0 ? p->ds.nn3 - 1 : lo - 1;
	*exact = memcmp(p->ds.n3[at].hash, h, 20) == 0;
	return p->ds.n3[at].node;
}

static void n3_hash(const struct packer *p, const uint8_t *lname, uint8_t h[20])
{
	bw_nsec3_hash(lname, p->ds.salt, p->ds.salt_len, p->ds.iterations, h);
}

/* NSEC3 closest-provable-encloser proof for a name with no NSEC3 of its
 * own (an opt-out delegation): the encloser's NSEC3, the next closer's
 * cover. */
static int n3_cpe_proof(const struct packer *p, const uint8_t *name,
                        size_t out[3])
{
	uint8_t h[20];
	const uint8_t *next = name;
	bool exact;

	for (const uint8_t *a = name + *name + 1; ; a += *a + 1) {
		n3_hash(p, a, h);
		size_t match = n3_cover(p, h, &exact);
		if (exact) {
			n3_hash(p, next, h);
			out[0] = match;
			out[1] = n3_cover(p, h, &exact);
			return 2;
		}
		if (*a == 0 || bw_name_equal(a, p->z->apex))
			return 0;
		next = a;
	}
}

/* What proves that node i has no RRset of the type asked (NODATA), or at
 * a cut that there is no DS. */
static int proof_nodes(const struct packer *p, size_t i, size_t out[3])
{
	const struct bw_zone_node *n = &p->z->nodes[i];
	uint8_t h[20];
	bool exact;

	if (!p->ds.nsec3) {
		out[0] = bw_zone_rrset(n, BW_TYPE_NSEC) ? i : nsec_cover(p, n->name);
		return 1;
	}
	n3_hash(p, n->name, h);
	out[0] = n3_cover(p, h, &exact);
	return exact ? 1 : n3_cpe_proof(p, n->name, out);
}

/* What proves that no wildcard exists below node i as closest encloser. */
static int wild_nodes(const struct packer *p, size_t i, size_t out[3])
{
	const struct bw_zone_node *n = &p->z->nodes[i];
	uint8_t wname[BW_NAME_MAXLEN + 2] = { 1, '*' };
	uint8_t h[20];
	bool exact;

	if (n->name_len + 2 > BW_NAME_MAXLEN)
		return 0;
	memcpy(wname + 2, n->name, n->name_len);
	if (!p->ds.nsec3) {
		out[0] = nsec_cover(p, wname);
		return 1;
	}
	n3_hash(p, wname, h);
	out[0] = n3_cover(p, h, &exact);
	return 1;
}

/* Types whose DO=1 blob also serves DO=0 (as its first part): those
 * with no additional section. */
static bool shares_blob(const struct bw_zone_node *n, const struct bw_zone_rrset *rs)
{
	return rs->type != BW_TYPE_RRSIG && !is_glue_target(rs->type) &&
	       !((n->flags & BW_ZN_DELEG) && rs->type == BW_TYPE_NS);
}

/* The DO=1 blob of one type at one node. */
static int render_do_type(struct packer *p, size_t i, const struct bw_zone_rrset *rs)
{
	const struct bw_zone_node *n = &p->z->nodes[i];
	bool referral = (n->flags & BW_ZN_DELEG) && rs->type == BW_TYPE_NS;
	bool sign = !referral && !(n->flags & BW_ZN_GLUE);

	if (rs->type == BW_TYPE_RRSIG)
		return render_type(p, n, rs);
	bw_rnd_begin(p->rnd, n->name, referral ? 0 : BW_TB_AA);
	bool ok = bw_rnd_rrset(p->rnd, referral ? BW_SEC_NS : BW_SEC_AN, n->name,
	                       rs, rs->ttl, NULL);
	if (ok && shares_blob(n, rs))
		bw_rnd_mark_plain(p->rnd);
	const struct bw_zone_rrset *sig = sign ? sigs_for(p, n, rs->type) : NULL;
	if (ok && sig != NULL) {
		ok = bw_rnd_rrset(p->rnd, BW_SEC_AN, n->name, sig, rs->ttl, NULL);
		bw_rnd_join(p->rnd);
	}
	if (ok && referral) {
		/* The DS and its RRSIG, or the proof that there is none. */
		const struct bw_zone_rrset *ds = bw_zone_rrset(n, BW_TYPE_DS);
		size_t proof[3];
		int k = ds ? 0 : proof_nodes(p, i, proof);
		if (ds != NULL)
			ok = put_signed(p, BW_SEC_NS, n, n->name, ds, ds->ttl, true);
		for (int j = 0; j < k && ok; j++)
			ok = put_denial(p, proof[j]);
	}
	if (!ok) {
		bw_diag_report(p->d, BW_DIAG_ERROR, rs->file, rs->line,
		               "signed RRset is too large to be sent in one message");
		return BW_EZONE;
	}
	if (is_glue_target(rs->type))
		add_additional(p, rs, referral ? n->name : NULL, !referral);
	return 0;
}

static void buf_align4(struct buf *b)
{
	while (b->len & 3)
		b->len++;
}

/* Writes a proof (a list of denial blobs, without repeats) to the common
 * area; returns its offset, 0 for an empty one. */
static int put_proof(struct packer *p, const size_t *nodes, int k, uint32_t *at)
{
	uint32_t blobs[3];
	uint32_t count = 0;

	*at = 0;
	for (int j = 0; j < k; j++) {
		uint32_t b = p->ds.denial_blob[nodes[j]];
		bool dup = false;
		for (uint32_t m = 0; m < count; m++)
			dup |= blobs[m] == b;
		if (b != 0 && !dup)
			blobs[count++] = b;
	}
	if (count == 0)
		return 0;
	buf_align4(&p->common);
	int ret = buf_reserve(&p->common, 4 + 4 * count);
	if (ret != 0)
		return ret;
	*at = (uint32_t)p->common.len;
	memcpy(p->common.data + p->common.len, &count, 4);
	memcpy(p->common.data + p->common.len + 4, blobs, 4 * count);
	p->common.len += 4 + 4 * count;
	return 0;
}

static int append_blob(struct buf *b, const struct bw_rnd *r, uint32_t *at);

static int cmp_n3(const void *a, const void *b)
{
	return memcmp(((const struct n3_entry *)a)->hash,
	              ((const struct n3_entry *)b)->hash, 20);
}

/* Signed when the apex has RRSIGs and an NSEC or NSEC3PARAM. */
static void ds_detect(struct packer *p)
{
	const struct bw_zone_node *apex = &p->z->nodes[0];
	const struct bw_zone_rrset *param = bw_zone_rrset(apex, BW_TYPE_NSEC3PARAM);

	p->ds.on = bw_zone_rrset(apex, BW_TYPE_RRSIG) != NULL &&
	           (param != NULL || bw_zone_rrset(apex, BW_TYPE_NSEC) != NULL);
	if (!p->ds.on || param == NULL || param->rd[0].len < 5)
		return;
	const uint8_t *rd = param->rd[0].data;
	p->ds.nsec3 = true;
	p->ds.alg = rd[0];
	p->ds.iterations = bw_get16(rd + 2);
	p->ds.salt_len = rd[4];
	if (5u + rd[4] <= param->rd[0].len)
		memcpy(p->ds.salt, rd + 5, rd[4]);
}

/* The denial chain: NSEC owners in canonical order, or NSEC3 owners by
 * hash (decoded from their first label). */
static int ds_chain(struct packer *p)
{
	const struct bw_zone *z = p->z;

	p->ds.owner = calloc(z->nnodes, sizeof(*p->ds.owner));
	p->ds.n3 = calloc(z->nnodes, sizeof(*p->ds.n3));
	p->ds.denial_blob = calloc(z->nnodes, sizeof(uint32_t));
	p->ds.proof = calloc(z->nnodes, sizeof(uint32_t));
	p->ds.wild_proof = calloc(z->nnodes, sizeof(uint32_t));
	p->ds.sigrd = calloc(65536, sizeof(*p->ds.sigrd));
	if (!p->ds.owner || !p->ds.n3 || !p->ds.denial_blob || !p->ds.proof ||
	    !p->ds.wild_proof || !p->ds.sigrd)
		return BW_ENOMEM;
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct bw_zone_node *n = &z->nodes[i];
		if (!p->ds.nsec3 && bw_zone_rrset(n, BW_TYPE_NSEC) != NULL)
			p->ds.owner[p->ds.nowner++] = i;
		if (p->ds.nsec3 && (n->flags & BW_ZN_NSEC3) &&
		    bw_base32hex_decode((const char *)n->name + 1, n->name[0],
		                        p->ds.n3[p->ds.nn3].hash, 20) == 20)
			p->ds.n3[p->ds.nn3++].node = i;
	}
	qsort(p->ds.n3, p->ds.nn3, sizeof(*p->ds.n3), cmp_n3);
	if ((p->ds.nsec3 ? p->ds.nn3 : p->ds.nowner) == 0) {
		bw_diag_report(p->d, BW_DIAG_ERROR, NULL, 0,
		               "the zone is signed but has no %s chain",
		               p->ds.nsec3 ? "NSEC3" : "NSEC");
		return BW_EZONE;
	}
	return 0;
}

/* Renders one denial blob per NSEC/NSEC3 owner into the common area. */
static int ds_denial_blobs(struct packer *p)
{
	const struct bw_zone *z = p->z;

	for (size_t i = 0; i < z->nnodes; i++) {
		if (bw_zone_rrset(&z->nodes[i], denial_type(p)) == NULL)
			continue;
		bw_rnd_begin(p->rnd, z->apex, BW_TB_AA);
		if (!put_denial(p, i))
			return BW_EZONE;
		int ret = append_blob(&p->common, p->rnd, &p->ds.denial_blob[i]);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* NODATA and no-wildcard proofs of every node of the name tree. */
static int ds_proofs(struct packer *p)
{
	for (size_t i = 0; i < p->z->nnodes; i++) {
		size_t nodes[3];
		if (skipped(p, i) || (p->z->nodes[i].flags & BW_ZN_GLUE))
			continue;
		int ret = put_proof(p, nodes, proof_nodes(p, i, nodes), &p->ds.proof[i]);
		if (ret == 0)
			ret = put_proof(p, nodes, wild_nodes(p, i, nodes),
			                &p->ds.wild_proof[i]);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* The sorted index the engine searches for covering records. */
static int ds_index(struct packer *p)
{
	size_t n = p->ds.nsec3 ? p->ds.nn3 : p->ds.nowner;
	size_t entry = p->ds.nsec3 ? sizeof(struct bw_tbl_nsec3) : sizeof(struct bw_tbl_nsec);
	uint32_t *names = calloc(n + 1, sizeof(*names));

	if (names == NULL)
		return BW_ENOMEM;
	/* NSEC owners' names first, then the index that points at them. */
	for (size_t j = 0; j < n && !p->ds.nsec3; j++) {
		const struct bw_zone_node *o = &p->z->nodes[p->ds.owner[j]];
		if (buf_reserve(&p->common, o->name_len) != 0)
			break;
		names[j] = (uint32_t)p->common.len;
		memcpy(p->common.data + p->common.len, o->name, o->name_len);
		p->common.len += o->name_len;
	}
	buf_align4(&p->common);
	int ret = buf_reserve(&p->common, n * entry);
	if (ret == 0) {
		p->index_at = (uint32_t)p->common.len;
		for (size_t j = 0; j < n; j++) {
			uint8_t *e = p->common.data + p->common.len + j * entry;
			if (p->ds.nsec3) {
				struct bw_tbl_nsec3 x = { .blob = p->ds.denial_blob[p->ds.n3[j].node] };
				memcpy(x.hash, p->ds.n3[j].hash, 20);
				memcpy(e, &x, sizeof(x));
			} else {
				struct bw_tbl_nsec x = { names[j], p->ds.denial_blob[p->ds.owner[j]] };
				memcpy(e, &x, sizeof(x));
			}
		}
		p->common.len += n * entry;
	}
	free(names);
	return ret;
}

/* For NSEC: the sort keys of the index, and every BW_TBL_SAMPLE-th of
 * them, so that the engine's covering search touches few cache lines. */
static int ds_keys(struct packer *p)
{
	size_t n = p->ds.nowner, ns = (n + BW_TBL_SAMPLE - 1) / BW_TBL_SAMPLE;
	struct bw_tbl_key prev = { 0, 0 };
	int ret;

	while (p->common.len & 7)
		p->common.len++;
	ret = buf_reserve(&p->common, (n + ns) * sizeof(prev));
	if (ret != 0)
		return ret;
	p->keys_at = (uint32_t)p->common.len;
	p->sample_at = (uint32_t)(p->common.len + n * sizeof(prev));
	for (size_t j = 0; j < n; j++) {
		const struct bw_zone_node *o = &p->z->nodes[p->ds.owner[j]];
		struct bw_tbl_key k = bw_tbl_denial_key(o->name, p->z->apex_labels);

		assert(!bw_tbl_key_less(k, prev));   /* Canonical order. */
		prev = k;
		memcpy(p->common.data + p->keys_at + j * sizeof(k), &k, sizeof(k));
		if (j % BW_TBL_SAMPLE == 0)
			memcpy(p->common.data + p->sample_at +
			       j / BW_TBL_SAMPLE * sizeof(k), &k, sizeof(k));
	}
	p->common.len += (n + ns) * sizeof(prev);
	return 0;
}

/* The SOA in authority, TTL min(SOA TTL, MINIMUM) (RFC 2308), for
 * NXDOMAIN and NODATA; with \a sign its RRSIG follows. */
static int render_negative(struct packer *p, bool sign, uint32_t *at)
{
	const struct bw_zone *z = p->z;
	const struct bw_zone_rrset *soa = bw_zone_rrset(&z->nodes[0], BW_TYPE_SOA);
	uint32_t ttl = z->soa_ttl < z->soa_minimum ? z->soa_ttl : z->soa_minimum;

	bw_rnd_begin(p->rnd, z->nodes[0].name, BW_TB_AA);
	if (soa == NULL || !put_signed(p, BW_SEC_NS, &z->nodes[0], z->nodes[0].name,
	                               soa, ttl, sign))
		return BW_EZONE;
	return append_blob(&p->common, p->rnd, at);
}

/* Everything zone-wide that a signed table adds. */
static int ds_prepare(struct packer *p)
{
	int ret = ds_chain(p);
	if (ret == 0)
		ret = render_negative(p, true, &p->neg_do_at);
	if (ret == 0)
		ret = ds_denial_blobs(p);
	if (ret == 0)
		ret = ds_proofs(p);
	if (ret == 0)
		ret = ds_index(p);
	if (ret == 0 && !p->ds.nsec3)
		ret = ds_keys(p);
	return ret;
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

/* Type entries and proofs of node \a i, in the region of its shard. */
static void write_types(const struct packer *p, size_t i, uint8_t *base)
{
	const struct bw_zone_node *zn = &p->z->nodes[i];
	struct bw_tbl_node *tn = (struct bw_tbl_node *)(void *)(base + p->node_off[i]);

	for (uint16_t t = 0; t < zn->nrrsets; t++) {
		tn->types[t].type = zn->rrsets[t].type;
		tn->types[t].blob = p->blob_off[p->first_blob[i] + t];
	}
	if (!p->ds.on)
		return;
	struct bw_tbl_signed *sg = (struct bw_tbl_signed *)(void *)&tn->types[zn->nrrsets];
	sg->denial = p->ds.proof[i];
	sg->wild_denial = p->ds.wild_proof[i];
	for (uint16_t t = 0; t < zn->nrrsets; t++)
		sg->do_blob[t] = p->do_off[p->first_blob[i] + t];
}

/* Node \a i and its bucket, in the region \a base of its shard. */
static void pack_node(const struct packer *p, size_t i, struct shard *sh,
                      uint8_t *base)
{
	const struct bw_zone_node *zn = &p->z->nodes[i];
	struct bw_tbl_node *tn = (struct bw_tbl_node *)(void *)(base + p->node_off[i]);

	tn->name_len = zn->name_len;
	tn->labels = zn->labels;
	tn->cut_labels = zn->cut_labels;
	tn->flags = (uint16_t)((zn->flags & 0xff) | (p->ds.on ? BW_TN_SIGNED : 0));
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

/* The blobs of node \a i, appended to the shard's region. */
static int render_node(struct packer *p, size_t i)
{
	const struct bw_zone_node *zn = &p->z->nodes[i];
	struct buf *b = &p->region;

	for (uint16_t t = 0; t < zn->nrrsets; t++) {
		const struct bw_zone_rrset *rs = &zn->rrsets[t];
		uint32_t *plain = &p->blob_off[p->first_blob[i] + t];
		int ret = 0;
		if (!p->ds.on || !shares_blob(zn, rs)) {
			ret = render_type(p, zn, rs);
			if (ret == 0)
				ret = append_blob(b, p->rnd, plain);
			if (ret != 0)
				return ret;
		}
		if (!p->ds.on)
			continue;
		uint32_t *dnssec = &p->do_off[p->first_blob[i] + t];
		ret = render_do_type(p, i, rs);
		if (ret == 0)
			ret = append_blob(b, p->rnd, dnssec);
		if (ret != 0)
			return ret;
		if (shares_blob(zn, rs))
			*plain = *dnssec;
	}
	return 0;
}

/* Renders shard \a s into p->region: buckets, nodes, then blobs. */
static int render_shard(struct packer *p, struct shard *sh)
{
	struct buf *b = &p->region;

	if (b->len > 0)
		memset(b->data, 0, b->len);  /* Padding and empty buckets are zero. */
	b->len = 0;
	int ret = buf_reserve(b, sh->blobs_off);
	if (ret != 0)
		return ret;
	b->len = sh->blobs_off;
	for (size_t k = sh->first; k < sh->first + sh->nnodes && ret == 0; k++)
		ret = render_node(p, p->order[k]);
	for (size_t k = sh->first; k < sh->first + sh->nnodes && ret == 0; k++) {
		pack_node(p, p->order[k], sh, b->data);
		write_types(p, p->order[k], b->data);
	}
	return ret;
}

static void fill_header(const struct packer *p, struct bw_tbl_header *h,
                        uint64_t len, uint64_t dir, uint64_t common)
{
	const struct bw_zone *z = p->z;

	memcpy(h->magic, BW_TBL_MAGIC, 8);
	h->version = BW_TBL_VERSION;
	h->endian = BW_TBL_ENDIAN;
	h->file_size = len;
	h->header_size = BW_TBL_HDR_SIZE;
	h->serial = z->serial;
	h->nnodes = (uint32_t)p->nincluded;
	h->shard_bits = p->shard_bits;
	h->shard_dir = dir;
	h->neg_blob = common + p->neg_at;
	h->apex_len = z->apex_len;
	h->apex_labels = z->apex_labels;
	memcpy(h->apex, z->apex, z->apex_len);
	bw_name_lower(h->apex);
	h->common = common;
	h->common_size = p->common.len;
	if (p->ds.on) {
		h->flags = BW_TBL_F_SIGNED | (p->ds.nsec3 ? BW_TBL_F_NSEC3 : BW_TBL_F_NSEC);
		h->neg_do = p->neg_do_at;
		h->denial_index = p->index_at;
		h->denial_count = (uint32_t)(p->ds.nsec3 ? p->ds.nn3 : p->ds.nowner);
		h->denial_keys = p->keys_at;
		h->denial_sample = p->sample_at;
		h->nsec3_alg = p->ds.alg;
		h->nsec3_iterations = p->ds.iterations;
		h->nsec3_salt_len = p->ds.salt_len;
		memcpy(h->nsec3_salt, p->ds.salt, p->ds.salt_len);
	}
}

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~(uint64_t)7;
}

/* Zeros from \a from up to the next multiple of 8. */
static int write_pad(const struct bw_pack_out *o, uint64_t from)
{
	static const uint8_t zero[8];

	return align8(from) == from ? 0 :
	       o->write(o->arg, from, zero, (size_t)(align8(from) - from));
}

/* The checksum of the \a len bytes written, read back in pieces (so that
 * a table of many GiB is never mapped or in memory at once). */
static int checksum(const struct bw_pack_out *o, uint64_t len, uint64_t *sum)
{
	const size_t piece = 1u << 20;   /* A multiple of 32. */
	uint8_t *buf = malloc(piece);
	struct bw_tbl_sum s;
	int ret = 0;

	if (buf == NULL)
		return BW_ENOMEM;
	bw_tbl_sum_init(&s);
	for (uint64_t off = 0; ret == 0; off += piece) {
		size_t n = len - off < piece ? (size_t)(len - off) : piece;
		ret = o->read(o->arg, off, buf, n);
		if (ret == 0 && n < piece) {
			*sum = bw_tbl_sum_end(&s, buf, n);
			break;
		}
		if (ret == 0)
			bw_tbl_sum_add(&s, buf, n);
	}
	free(buf);
	return ret;
}

/* Writes the file: common area, each shard as soon as it is rendered,
 * then the shard directory, and the header with the checksum of all the
 * rest last. */
static int emit(struct packer *p, const struct bw_pack_out *o, size_t *outlen)
{
	size_t nshards = (size_t)1 << p->shard_bits;
	uint64_t dir = BW_TBL_HDR_SIZE;
	uint64_t common = align8(dir + nshards * sizeof(struct bw_tbl_shard));
	struct bw_tbl_shard *sd = calloc(nshards, sizeof(*sd));
	uint8_t hdr[BW_TBL_HDR_SIZE] = { 0 };

	if (sd == NULL)
		return BW_ENOMEM;
	int ret = o->write(o->arg, common, p->common.data, p->common.len);
	uint64_t len = common + p->common.len;
	if (ret == 0)
		ret = write_pad(o, len);
	len = align8(len);
	/* The common area is in the file now; its memory can go. */
	free(p->common.data);
	p->common.data = NULL;
	for (size_t s = 0; s < nshards && ret == 0; s++) {
		struct shard *sh = &p->shards[s];
		ret = render_shard(p, sh);
		if (ret == 0)
			ret = o->write(o->arg, len, p->region.data, p->region.len);
		if (ret == 0)
			ret = write_pad(o, len + p->region.len);
		sd[s] = (struct bw_tbl_shard){
			.base = len, .size = p->region.len,
			.nbuckets = sh->nbuckets, .nnodes = sh->nnodes,
			.max_probe = sh->max_probe,
			.nodes_off = sh->nodes_off, .blobs_off = sh->blobs_off,
		};
		len = align8(len + p->region.len);
	}
	if (ret == 0)
		ret = o->write(o->arg, dir, sd, nshards * sizeof(*sd));
	free(sd);
	struct bw_tbl_header *h = (struct bw_tbl_header *)(void *)hdr;
	fill_header(p, h, len, dir, common);
	if (ret == 0)
		ret = o->write(o->arg, 0, hdr, sizeof(hdr));
	if (ret == 0)
		ret = checksum(o, len, &h->checksum);
	if (ret == 0)
		ret = o->write(o->arg, offsetof(struct bw_tbl_header, checksum),
		               &h->checksum, sizeof(h->checksum));
	*outlen = len;
	return ret;
}

static void packer_free(struct packer *p)
{
	free(p->shards);
	free(p->region.data);
	free(p->order);
	free(p->hash);
	free(p->node_off);
	free(p->first_blob);
	free(p->blob_off);
	free(p->do_off);
	free(p->rnd);
	free(p->common.data);
	free(p->ds.owner);
	free(p->ds.n3);
	free(p->ds.denial_blob);
	free(p->ds.proof);
	free(p->ds.wild_proof);
	free(p->ds.sigrd);
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
	p->order = calloc(z->nnodes, sizeof(*p->order));
	p->hash = calloc(z->nnodes, sizeof(*p->hash));
	p->node_off = calloc(z->nnodes, sizeof(*p->node_off));
	p->first_blob = calloc(z->nnodes, sizeof(*p->first_blob));
	p->blob_off = calloc(nrrsets + 1, sizeof(*p->blob_off));
	p->do_off = calloc(nrrsets + 1, sizeof(*p->do_off));
	p->rnd = malloc(sizeof(*p->rnd));
	if (!p->shards || !p->order || !p->hash || !p->node_off ||
	    !p->first_blob || !p->blob_off || !p->do_off || !p->rnd)
		return BW_ENOMEM;
	for (size_t i = 0, k = 0; i < z->nnodes; i++) {
		p->first_blob[i] = k;
		k += z->nodes[i].nrrsets;
	}
	return 0;
}

int bw_pack_zone(const struct bw_zone *z, struct bw_diag *d,
                 const struct bw_pack_out *out, size_t *len)
{
	struct packer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return BW_ENOMEM;
	int ret = z->nnodes > 0 ? packer_init(p, z, d) : BW_EZONE;
	if (ret == 0) {
		ds_detect(p);
		ret = layout(p);
	}
	if (ret == 0) {
		/* The negative blob first: common offset 0 means "none". */
		ret = render_negative(p, false, &p->neg_at);
	}
	if (ret == 0 && p->ds.on)
		ret = ds_prepare(p);
	if (ret == 0)
		ret = emit(p, out, len);
	if (ret == BW_ERANGE)
		bw_diag_report(d, BW_DIAG_ERROR, NULL, 0, "the zone is too large for "
		               "one table: an area of it passes 4 GiB");
	packer_free(p);
	free(p);
	return ret;
}
