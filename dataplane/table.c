/*  bulwark — loading and checking a packed answer table.
 *
 *  Everything the answer engine will follow is checked here once, before
 *  the table can be published: the header, the checksum, every shard,
 *  bucket, node, type entry, blob, cut and relocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "table_impl.h"

struct check {
	char *err;
	size_t errlen;
	const uint8_t *common;    /* Common area, for proofs. */
	uint64_t common_size;
	uint8_t apex_labels;
	bool is_signed;
};

static int fail(struct check *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct check *c, int code, const char *fmt, ...)
{
	if (c->err != NULL && c->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static bool in_range(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int check_blob(struct check *c, const uint8_t *base, uint64_t size,
                      uint64_t off, uint8_t max_ctx_labels)
{
	if ((off & 1) != 0 || !in_range(off, sizeof(struct bw_tbl_blob), size))
		return fail(c, BW_ETABLE, "blob at %llu out of bounds",
		            (unsigned long long)off);
	const struct bw_tbl_blob *b = (const void *)(base + off);
	if (!in_range(off, bw_tbl_blob_size(b), size))
		return fail(c, BW_ETABLE, "blob at %llu runs past its shard",
		            (unsigned long long)off);
	if (b->ctx_labels > max_ctx_labels || b->ctx_len == 0 ||
	    (b->flags & BW_TB_TARGET && b->target >= b->len) || b->need > b->len ||
	    b->plain > b->len || b->plain_an > b->an)
		return fail(c, BW_ETABLE, "blob at %llu has a bad context or target",
		            (unsigned long long)off);
	const struct bw_tbl_cut *cut = bw_tbl_blob_cuts(b);
	for (uint16_t i = 0; i < b->ncut; i++) {
		if (cut[i].end > b->len || (i > 0 && cut[i].end < cut[i - 1].end))
			return fail(c, BW_ETABLE, "blob at %llu: bad cut",
			            (unsigned long long)off);
	}
	const struct bw_tbl_rel *rel = bw_tbl_blob_rels(b);
	for (uint16_t i = 0; i < b->nrel; i++) {
		bool ctx = rel[i].what & BW_REL_CTX;
		unsigned k = rel[i].what & 0xff;
		if ((unsigned)rel[i].pos + 2 > b->len ||
		    (ctx && (k == 0 || k > b->ctx_labels)) ||
		    (!ctx && rel[i].what >= rel[i].pos))
			return fail(c, BW_ETABLE, "blob at %llu: bad relocation",
			            (unsigned long long)off);
	}
	return 0;
}

static int check_blob(struct check *c, const uint8_t *base, uint64_t size,
                      uint64_t off, uint8_t max_ctx_labels);

/* A proof: a count and that many blobs of the common area. */
static int check_proof(struct check *c, uint32_t off)
{
	uint32_t count;

	if (off == 0)
		return 0;
	if (!c->is_signed || (off & 3) != 0 || !in_range(off, 4, c->common_size))
		return fail(c, BW_ETABLE, "proof at %u out of bounds", off);
	memcpy(&count, c->common + off, 4);
	if (count > 8 || !in_range(off + 4, 4u * count, c->common_size))
		return fail(c, BW_ETABLE, "proof at %u out of bounds", off);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t b;
		memcpy(&b, c->common + off + 4 + 4 * i, 4);
		int ret = check_blob(c, c->common, c->common_size, b, c->apex_labels);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static int check_node(struct check *c, const struct bw_tbl_shard *sd,
                      const uint8_t *base, uint32_t off, uint32_t tag)
{
	if (off < sd->nodes_off || off >= sd->blobs_off || (off & 7) != 0 ||
	    !in_range(off, sizeof(struct bw_tbl_node), sd->blobs_off))
		return fail(c, BW_ETABLE, "node offset %u out of bounds", off);
	const struct bw_tbl_node *n = (const void *)(base + off);
	if (!in_range(off, bw_tbl_node_size(n), sd->blobs_off))
		return fail(c, BW_ETABLE, "node at %u runs past the node area", off);
	const uint8_t *name = bw_tbl_node_name(n);
	if (bw_name_check(name, n->name_len) != n->name_len ||
	    bw_name_labels(name) != n->labels)
		return fail(c, BW_ETABLE, "node at %u has a malformed name", off);
	if ((uint32_t)(bw_hash_name(name) >> 32) != tag)
		return fail(c, BW_ETABLE, "node at %u has a wrong hash tag", off);
	if ((n->flags & BW_TN_GLUE) && n->cut_labels >= n->labels)
		return fail(c, BW_ETABLE, "node at %u: bad zone cut", off);
	const struct bw_tbl_signed *sg = bw_tbl_node_signed(n);
	for (uint16_t i = 0; i < n->ntypes; i++) {
		uint32_t b = n->types[i].blob;
		uint32_t d = (n->flags & BW_TN_SIGNED) ? sg->do_blob[i] : b;
		if (b < sd->blobs_off || d < sd->blobs_off)
			return fail(c, BW_ETABLE, "node at %u: blob outside blob area", off);
		int ret = check_blob(c, base, sd->size, b, n->labels);
		if (ret == 0 && d != b)
			ret = check_blob(c, base, sd->size, d, n->labels);
		if (ret != 0)
			return ret;
	}
	if (n->flags & BW_TN_SIGNED) {
		int ret = check_proof(c, sg->denial);
		if (ret == 0)
			ret = check_proof(c, sg->wild_denial);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static int check_shard(struct check *c, const uint8_t *data, size_t size,
                       const struct bw_tbl_shard *sd, unsigned s,
                       unsigned shard_bits)
{
	uint32_t nb = sd->nbuckets;

	if (!in_range(sd->base, sd->size, size) || (sd->base & 7) != 0 ||
	    nb == 0 || (nb & (nb - 1)) != 0 || sd->max_probe >= nb ||
	    sd->nodes_off != nb * sizeof(struct bw_tbl_bucket) ||
	    sd->nodes_off > sd->blobs_off || sd->blobs_off > sd->size)
		return fail(c, BW_ETABLE, "shard %u has a bad directory entry", s);
	const uint8_t *base = data + sd->base;
	const struct bw_tbl_bucket *bk = (const void *)base;
	uint32_t nodes = 0;
	for (uint32_t i = 0; i < nb; i++) {
		if (bk[i].node == 0)
			continue;
		int ret = check_node(c, sd, base, bk[i].node, bk[i].tag);
		if (ret != 0)
			return ret;
		const struct bw_tbl_node *n = (const void *)(base + bk[i].node);
		uint64_t h = bw_hash_name(bw_tbl_node_name(n));
		if (shard_bits > 0 && (h >> (64 - shard_bits)) != s)
			return fail(c, BW_ETABLE, "node in the wrong shard %u", s);
		if ((((uint32_t)i - (uint32_t)h) & (nb - 1)) > sd->max_probe)
			return fail(c, BW_ETABLE, "shard %u: probe bound violated", s);
		nodes++;
	}
	if (nodes != sd->nnodes)
		return fail(c, BW_ETABLE, "shard %u: node count mismatch", s);
	return 0;
}

static int check_header(struct check *c, const uint8_t *data, size_t size)
{
	const struct bw_tbl_header *h = (const void *)data;

	if (size < BW_TBL_HDR_SIZE || memcmp(h->magic, BW_TBL_MAGIC, 8) != 0)
		return fail(c, BW_ETABLE, "not a bulwark table (bad magic or too short)");
	if (h->endian != BW_TBL_ENDIAN)
		return fail(c, BW_ETABLE, "table was written on a host of other endianness");
	if (h->version != BW_TBL_VERSION)
		return fail(c, BW_EVERSION, "table format version %u, expected %u",
		            h->version, BW_TBL_VERSION);
	if (h->file_size != size)
		return fail(c, BW_ETABLE, "table is %zu bytes, header says %llu "
		            "(truncated?)", size, (unsigned long long)h->file_size);
	if (h->header_size != BW_TBL_HDR_SIZE)
		return fail(c, BW_ETABLE, "bad header size");
	if (bw_tbl_checksum(data, size) != h->checksum)
		return fail(c, BW_ECHECKSUM, "checksum mismatch (corrupted table)");
	if (h->shard_bits > 24 ||
	    !in_range(h->shard_dir, ((uint64_t)sizeof(struct bw_tbl_shard)) << h->shard_bits, size) ||
	    (h->shard_dir & 7) != 0)
		return fail(c, BW_ETABLE, "bad shard directory");
	if (h->apex_len == 0 || bw_name_check(h->apex, h->apex_len) != h->apex_len ||
	    bw_name_labels(h->apex) != h->apex_labels)
		return fail(c, BW_ETABLE, "bad apex name");
	return 0;
}

/* The common area and, in signed tables, its negative blob and index. */
static int check_common(struct check *c, const uint8_t *data, size_t size,
                        const struct bw_tbl_header *h)
{
	if (!in_range(h->common, h->common_size, size) || (h->common & 7) != 0)
		return fail(c, BW_ETABLE, "bad common area");
	c->common = data + h->common;
	c->common_size = h->common_size;
	c->apex_labels = h->apex_labels;
	c->is_signed = (h->flags & BW_TBL_F_SIGNED) != 0;
	if (!c->is_signed)
		return 0;
	bool nsec3 = (h->flags & BW_TBL_F_NSEC3) != 0;
	size_t entry = nsec3 ? sizeof(struct bw_tbl_nsec3) : sizeof(struct bw_tbl_nsec);
	if (h->denial_count == 0 || (h->denial_index & 3) != 0 ||
	    !in_range(h->denial_index, (uint64_t)entry * h->denial_count, c->common_size))
		return fail(c, BW_ETABLE, "bad denial index");
	if (!nsec3 && h->denial_keys != 0 &&
	    ((h->denial_keys & 7) != 0 || (h->denial_sample & 7) != 0 ||
	     !in_range(h->denial_keys, (uint64_t)h->denial_count *
	               sizeof(struct bw_tbl_key), c->common_size) ||
	     !in_range(h->denial_sample, ((uint64_t)h->denial_count + BW_TBL_SAMPLE - 1) /
	               BW_TBL_SAMPLE * sizeof(struct bw_tbl_key), c->common_size)))
		return fail(c, BW_ETABLE, "bad NSEC search keys");
	int ret = check_blob(c, c->common, c->common_size, h->neg_do, h->apex_labels);
	for (uint32_t i = 0; i < h->denial_count && ret == 0; i++) {
		const uint8_t *e = c->common + h->denial_index + (size_t)i * entry;
		uint32_t blob, name;
		memcpy(&blob, e + (nsec3 ? 20 : 4), 4);
		memcpy(&name, e, 4);
		ret = check_blob(c, c->common, c->common_size, blob, h->apex_labels);
		if (ret == 0 && !nsec3 &&
		    (name >= c->common_size ||
		     bw_name_check(c->common + name, c->common_size - name) < 0))
			ret = fail(c, BW_ETABLE, "bad NSEC owner in the index");
	}
	return ret;
}

static int check_table(struct check *c, const uint8_t *data, size_t size)
{
	int ret = check_header(c, data, size);
	if (ret != 0)
		return ret;
	const struct bw_tbl_header *h = (const void *)data;
	const struct bw_tbl_shard *sd = (const void *)(data + h->shard_dir);
	uint64_t nodes = 0;
	ret = check_common(c, data, size, h);
	if (ret != 0)
		return ret;
	for (unsigned s = 0; s < (1u << h->shard_bits); s++) {
		ret = check_shard(c, data, size, &sd[s], s, h->shard_bits);
		if (ret != 0)
			return ret;
		nodes += sd[s].nnodes;
	}
	if (nodes != h->nnodes)
		return fail(c, BW_ETABLE, "node count mismatch");
	ret = check_blob(c, data, size, h->neg_blob, h->apex_labels);
	if (ret != 0)
		return ret;
	return 0;
}

static struct bw_table *table_new(const uint8_t *data, size_t size, bool mapped)
{
	const struct bw_tbl_header *h = (const void *)data;
	size_t nshards = (size_t)1 << h->shard_bits;
	struct bw_table *t = calloc(1, sizeof(*t) + nshards * sizeof(t->shards[0]));

	if (t == NULL)
		return NULL;
	t->data = data;
	t->size = size;
	t->mapped = mapped;
	t->owned = true;
	t->hdr = h;
	t->shard_bits = h->shard_bits;
	t->neg = (const void *)(data + h->neg_blob);
	t->common = data + h->common;
	t->apex_hash = bw_hash_name(h->apex);
	const struct bw_tbl_shard *sd = (const void *)(data + h->shard_dir);
	for (size_t s = 0; s < nshards; s++) {
		t->shards[s].base = data + sd[s].base;
		t->shards[s].buckets = (const void *)(data + sd[s].base);
		t->shards[s].mask = sd[s].nbuckets - 1;
		t->shards[s].max_probe = sd[s].max_probe;
	}
	return t;
}

static void release(const uint8_t *data, size_t size, bool mapped)
{
	if (mapped)
		munmap((void *)data, size);
	else
		free((void *)data);
}

static int open_checked(const uint8_t *data, size_t size, bool mapped,
                        bool owned, struct bw_table **out, char *err,
                        size_t errlen)
{
	struct check c = { .err = err, .errlen = errlen };
	int ret = check_table(&c, data, size);

	if (ret == 0) {
		*out = table_new(data, size, mapped);
		if (*out == NULL)
			ret = fail(&c, BW_ENOMEM, "out of memory");
	}
	if (ret != 0 && owned)
		release(data, size, mapped);
	return ret;
}

int bw_table_from_mem(uint8_t *buf, size_t len, bool owned,
                      struct bw_table **out, char *err, size_t errlen)
{
	/* The checks read 8-byte fields: the buffer must be 8-aligned. */
	if (((uintptr_t)buf & 7) != 0) {
		struct check c = { .err = err, .errlen = errlen };
		if (owned)
			free(buf);
		return fail(&c, BW_EINVAL, "table buffer is not 8-byte aligned");
	}
	int ret = open_checked(buf, len, false, owned, out, err, errlen);
	if (ret == 0)
		(*out)->owned = owned;
	return ret;
}

int bw_table_open(const char *path, struct bw_table **out, char *err,
                  size_t errlen)
{
	struct check c = { .err = err, .errlen = errlen };
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(&c, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || st.st_size < BW_TBL_HDR_SIZE) {
		close(fd);
		return fail(&c, BW_ETABLE, "%s: not a bulwark table (too short)", path);
	}
	void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int saved = errno;
	close(fd);
	if (data == MAP_FAILED)
		return fail(&c, -saved, "%s: mmap: %s", path, strerror(saved));
	int ret = open_checked(data, (size_t)st.st_size, true, true, out, err, errlen);
	if (ret != 0 && err != NULL && errlen > 0) {
		char reason[256];
		snprintf(reason, sizeof(reason), "%s", err);
		snprintf(err, errlen, "%s: %s", path, reason);
	}
	return ret;
}

void bw_table_close(struct bw_table *t)
{
	if (t == NULL)
		return;
	if (t->owned)
		release(t->data, t->size, t->mapped);
	free(t);
}

const uint8_t *bw_table_apex(const struct bw_table *t)
{
	return t->hdr->apex;
}

uint32_t bw_table_serial(const struct bw_table *t)
{
	return t->hdr->serial;
}

uint64_t bw_table_checksum(const struct bw_table *t)
{
	return t->hdr->checksum;
}

size_t bw_table_size(const struct bw_table *t)
{
	return t->hdr->file_size;
}

size_t bw_table_nodes(const struct bw_table *t)
{
	return t->hdr->nnodes;
}

uint32_t bw_table_sig_expiry(const struct bw_table *t)
{
	return t->hdr->sig_expiry;
}

void bw_table_foreach(const struct bw_table *t,
                      void (*fn)(void *ctx, const struct bw_tbl_node *n,
                                 uint64_t h),
                      void *ctx)
{
	for (size_t s = 0; s < ((size_t)1 << t->shard_bits); s++) {
		const struct bw_table_shard *sh = &t->shards[s];
		for (uint32_t i = 0; i <= sh->mask; i++) {
			if (sh->buckets[i].node == 0)
				continue;
			const struct bw_tbl_node *n =
				(const void *)(sh->base + sh->buckets[i].node);
			fn(ctx, n, bw_hash_name(bw_tbl_node_name(n)));
		}
	}
}
