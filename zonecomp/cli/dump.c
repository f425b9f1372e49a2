/*  bulwark — printing a table back as a master file.
 *
 *  Every node's type entries point at blobs whose first RRset is that
 *  node's RRset of the type, so the zone is read back from the blobs by
 *  placing each behind its context name, as the answer engine would.
 */
#include <stdlib.h>
#include <string.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "dump.h"
#include "table_impl.h"

struct node_ref {
	const struct bw_tbl_node *node;
	uint64_t hash;
};

struct collect {
	struct node_ref *refs;
	size_t n, cap;
	bool oom;
};

static void collect_node(void *arg, const struct bw_tbl_node *node, uint64_t h)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct node_ref *r = realloc(c->refs, cap * sizeof(*r));
		if (r == NULL) {
			c->oom = true;
			return;
		}
		c->refs = r;
		c->cap = cap;
	}
	c->refs[c->n++] = (struct node_ref){ node, h };
}

static int cmp_ref(const void *a, const void *b)
{
	const struct node_ref *x = a, *y = b;
	return bw_name_cmp(bw_tbl_node_name(x->node), bw_tbl_node_name(y->node));
}

/* Number of names in the rdata of types whose names we compress, and the
 * fixed octets before the first name; -1 for other types. */
static int compressed_layout(uint16_t type, size_t *lead, size_t *trail)
{
	*lead = *trail = 0;
	switch (type) {
	case BW_TYPE_NS: case BW_TYPE_CNAME: case BW_TYPE_PTR:
	case 3: case 4: case 7: case 8: case 9:  /* MD MF MB MG MR */
		return 1;
	case BW_TYPE_MX:
		*lead = 2;
		return 1;
	case 14:  /* MINFO */
		return 2;
	case BW_TYPE_SOA:
		*trail = 20;
		return 2;
	default:
		return -1;
	}
}

/* Copies rdata out of a message, expanding compressed names. */
static int rdata_unpack(uint16_t type, const uint8_t *msg, size_t msglen,
                        size_t pos, size_t rdlen, uint8_t *out, size_t *outlen)
{
	size_t lead, trail, at = 0, end = pos + rdlen;
	int names = compressed_layout(type, &lead, &trail);

	if (names < 0 || rdlen < lead) {
		memcpy(out, msg + pos, rdlen);
		*outlen = rdlen;
		return 0;
	}
	memcpy(out, msg + pos, lead);
	at = lead;
	pos += lead;
	for (int i = 0; i < names; i++) {
		size_t next;
		int len = bw_name_unpack(msg, msglen, pos, out + at, &next);
		if (len < 0 || next > end)
			return BW_EMALF;
		at += (size_t)len;
		pos = next;
	}
	if (end - pos != trail)
		return BW_EMALF;
	memcpy(out + at, msg + pos, trail);
	*outlen = at + trail;
	return 0;
}

static int print_rr(FILE *out, const uint8_t *owner, uint16_t type,
                    uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	char name[BW_NAME_MAXTEXT], tname[32];
	static char text[4 * 65536];

	bw_name_to_text(name, sizeof(name), owner);
	bw_type_to_text(type, tname, sizeof(tname));
	if (bw_rdata_to_text(type, rd, rdlen, text, sizeof(text)) < 0)
		return BW_EMALF;
	return fprintf(out, "%s\t%u\tIN\t%s\t%s\n", name, ttl, tname, text) < 0
	       ? BW_EIO : 0;
}

/* Prints the first \a count records of a blob placed behind its context
 * name, each with the owner it decodes to. */
static int dump_records(FILE *out, const uint8_t *ctx, const struct bw_tbl_blob *b,
                        unsigned count)
{
	static uint8_t msg[BW_HDR_LEN + BW_NAME_MAXLEN + 4 + 65536];
	static uint8_t rd[65536];
	uint8_t owner[BW_NAME_MAXLEN];
	size_t start = BW_HDR_LEN + b->ctx_len + 4u, pos = start;

	memcpy(msg + BW_HDR_LEN, ctx, b->ctx_len);
	memcpy(msg + start, b->wire, b->len);
	for (unsigned i = 0; i < count; i++) {
		size_t next, rdlen;
		if (bw_name_unpack(msg, start + b->len, pos, owner, &next) < 0 ||
		    next + 10 > start + b->len)
			return BW_EMALF;
		const uint8_t *rr = msg + next;
		uint16_t type = bw_get16(rr), len = bw_get16(rr + 8);
		if (next + 10 + len > start + b->len ||
		    rdata_unpack(type, msg, start + b->len, next + 10, len, rd, &rdlen) != 0)
			return BW_EMALF;
		int ret = print_rr(out, owner, type, bw_get32(rr + 4), rd, rdlen);
		if (ret != 0)
			return ret;
		pos = next + 10 + len;
	}
	return 0;
}

/* Prints the first RRset of a node's blob: the node's RRset of its type. */
static int dump_blob(FILE *out, const struct bw_tbl_node *node,
                     const struct bw_tbl_blob *b)
{
	const struct bw_tbl_cut *cut = bw_tbl_blob_cuts(b);
	unsigned count = b->ncut ? (unsigned)cut[0].an + cut[0].ns + cut[0].ar
	                         : (unsigned)b->an + b->ns + b->ar;

	if (b->plain != 0)
		count = b->plain_an;  /* The RRSIGs after it are dumped apart. */
	return dump_records(out, bw_tbl_node_name(node), b, count);
}

/* NSEC3 records live outside the name tree: in the index, by hash. */
struct nsec3_ref {
	uint8_t owner[BW_NAME_MAXLEN];
	const struct bw_tbl_blob *blob;
};

static struct nsec3_ref *nsec3_refs(const struct bw_table *t, size_t *n)
{
	const struct bw_tbl_header *h = t->hdr;
	size_t count = (h->flags & BW_TBL_F_NSEC3) ? h->denial_count : 0;
	struct nsec3_ref *refs = calloc(count + 1, sizeof(*refs));

	*n = 0;
	for (size_t i = 0; refs != NULL && i < count; i++) {
		const struct bw_tbl_nsec3 *e = (const void *)(t->common + h->denial_index +
		                                              i * sizeof(*e));
		char label[64];
		int len = bw_base32hex_encode(e->hash, 20, label, sizeof(label));
		if (len <= 0 || 1 + (size_t)len + h->apex_len > BW_NAME_MAXLEN)
			continue;
		refs[*n].owner[0] = (uint8_t)len;
		memcpy(refs[*n].owner + 1, label, (size_t)len);
		memcpy(refs[*n].owner + 1 + len, h->apex, h->apex_len);
		refs[(*n)++].blob = bw_table_common_blob(t, e->blob);
	}
	return refs;
}

static int dump_nsec3(FILE *out, const struct bw_table *t, const struct nsec3_ref *r)
{
	const struct bw_tbl_blob *b = r->blob;
	return dump_records(out, t->hdr->apex, b, (unsigned)b->an + b->ns + b->ar);
}

static int dump_node(FILE *out, const struct bw_table *t, const struct node_ref *r)
{
	const struct bw_tbl_node *n = r->node;
	const struct bw_tbl_blob *soa = bw_table_blob(t, r->hash, n, BW_TYPE_SOA);
	int ret = 0;

	/* The SOA comes first, as a master file expects. */
	if (soa != NULL)
		ret = dump_blob(out, n, soa);
	for (uint16_t i = 0; i < n->ntypes && ret == 0; i++) {
		if (n->types[i].type != BW_TYPE_SOA)
			ret = dump_blob(out, n, bw_table_blob_at(t, r->hash, n, i));
	}
	return ret;
}

int bw_dump_table(const struct bw_table *t, FILE *out)
{
	struct collect c = { 0 };
	char apex[BW_NAME_MAXTEXT];
	int ret = 0;

	bw_table_foreach(t, collect_node, &c);
	if (c.oom) {
		free(c.refs);
		return BW_ENOMEM;
	}
	qsort(c.refs, c.n, sizeof(*c.refs), cmp_ref);
	size_t nn3;
	struct nsec3_ref *n3 = nsec3_refs(t, &nn3);
	if (n3 == NULL) {
		free(c.refs);
		return BW_ENOMEM;
	}
	bw_name_to_text(apex, sizeof(apex), bw_table_apex(t));
	fprintf(out, "; zone %s serial %u, %zu names\n", apex,
	        bw_table_serial(t), c.n + nn3);
	/* Both lists are in canonical order: merge them. */
	for (size_t i = 0, j = 0; (i < c.n || j < nn3) && ret == 0; ) {
		if (j == nn3 || (i < c.n && bw_name_cmp(bw_tbl_node_name(c.refs[i].node),
		                                        n3[j].owner) < 0))
			ret = dump_node(out, t, &c.refs[i++]);
		else
			ret = dump_nsec3(out, t, &n3[j++]);
	}
	free(n3);
	free(c.refs);
	if (ret == 0 && fflush(out) != 0)
		ret = BW_EIO;
	return ret;
}
