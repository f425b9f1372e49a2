/*  bulwark — the in-memory zone: records are collected in an arena, sorted
 *  into canonical order, grouped into nodes and RRsets, and checked.
 *
 *  Owner names are sorted through a key that memcmp orders as RFC 4034
 *  §6.1 does: labels from the right, each followed by a 0 octet, with the
 *  octets 0 and 1 escaped as 1 1 and 1 2 so that 0 only ever separates.
 *  The apex's labels, common to all owners, are left out of the key.
 */
#include "zone.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "bulwark/table.h"

#define ARENA_BLOCK  (1u << 20)
#define KEY_MAXLEN   (2 * BW_NAME_MAXLEN)
#define MAX_FILES    UINT16_MAX
#define TYPE_TXTLEN  16

/* ---- Arena: big blocks, freed all at once. ---- */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	uint8_t data[];
};

struct arena_kept {
	struct arena_kept *next;
	void *mem;
};

struct arena {
	struct arena_block *head;
	struct arena_kept *kept;   /* Memory given by bw_zone_adopt(). */
};

static uint8_t *arena_alloc(struct arena *a, size_t len)
{
	struct arena_block *b = a->head;

	if (b == NULL || b->cap - b->used < len) {
		size_t cap = len > ARENA_BLOCK ? len : ARENA_BLOCK;
		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	uint8_t *p = b->data + b->used;
	b->used += len;
	return p;
}

static int arena_keep(struct arena *a, void *mem)
{
	struct arena_kept *k = malloc(sizeof(*k));

	if (k == NULL) {
		free(mem);
		return BW_ENOMEM;
	}
	k->mem = mem;
	k->next = a->kept;
	a->kept = k;
	return 0;
}

static void arena_free(struct arena *a)
{
	while (a->kept != NULL) {
		struct arena_kept *next = a->kept->next;
		free(a->kept->mem);
		free(a->kept);
		a->kept = next;
	}
	while (a->head != NULL) {
		struct arena_block *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

/* ---- Records as added, before finish. ---- */

struct zrec {
	uint64_t kpfx[2];          /* First 16 octets of the sort key. */
	const uint8_t *name;       /* Lowercase wire name; its key follows. */
	const uint8_t *rd;         /* Rdata as written. */
	const uint8_t *crd;        /* Canonical rdata (== rd when equal). */
	uint32_t ttl;
	uint32_t seq;              /* Position in file order. */
	uint32_t line;
	uint16_t type;
	uint16_t rdlen;
	uint16_t file;             /* Index in priv->files. */
	uint16_t key_len;
	uint8_t name_len;
};

struct bw_zone_priv {
	struct arena arena;
	struct zrec *recs;
	size_t nrecs, caprecs;
	char **files;
	size_t nfiles;
	size_t last_file;
	unsigned add_errors;
	size_t nkept;              /* Records carried over by bw_zone_reopen(). */
	bool finished;
	size_t capnodes;
	struct bw_zone_rrset *rrsets;
	struct bw_zone_rdata *rdatas;
	uint32_t *rd_rec;          /* Record of each rdata, during finish. */
	uint32_t *index;           /* Name hash -> node number + 1. */
	size_t index_mask;
	uint8_t canon[BW_RDATA_MAXLEN];
};

static const uint8_t *rec_key(const struct zrec *r)
{
	return r->name + r->name_len;
}

/* ---- Small helpers on names. ---- */

static const char *name_txt(char buf[BW_NAME_MAXTEXT], const uint8_t *name)
{
	if (bw_name_to_text(buf, BW_NAME_MAXTEXT, name) < 0)
		strcpy(buf, "?");
	return buf;
}

static const char *type_txt(char buf[TYPE_TXTLEN], uint16_t type)
{
	bw_type_to_text(type, buf, TYPE_TXTLEN);
	return buf;
}

/* Offsets of the labels of \a name; returns their number. */
static int name_label_offs(const uint8_t *name, uint8_t offs[BW_NAME_MAXLABELS])
{
	int n = 0;

	for (uint8_t at = 0; name[at] != 0 && n < BW_NAME_MAXLABELS;
	     at = (uint8_t)(at + name[at] + 1))
		offs[n++] = at;
	return n;
}

/* The ancestor of \a name (with \a labels labels) that has \a keep labels. */
static const uint8_t *name_suffix(const uint8_t *name, int labels, int keep)
{
	for (; labels > keep; labels--)
		name += name[0] + 1;
	return name;
}

/* Sort key of \a name without its last \a skip labels (the apex's, which
 * every owner shares). */
static size_t name_key(const uint8_t *name, int skip, uint8_t key[KEY_MAXLEN])
{
	uint8_t offs[BW_NAME_MAXLABELS];
	int n = name_label_offs(name, offs) - skip;
	size_t k = 0;

	while (n-- > 0) {
		const uint8_t *l = name + offs[n];
		for (uint8_t i = 1; i <= l[0]; i++) {
			if (l[i] <= 1)
				key[k++] = 1;
			key[k++] = l[i] <= 1 ? (uint8_t)(l[i] + 1) : l[i];
		}
		key[k++] = 0;
	}
	return k;
}

static uint64_t key_prefix(const uint8_t *key, size_t len)
{
	uint64_t v = 0;

	for (size_t i = 0; i < 8; i++)
		v = v << 8 | (i < len ? key[i] : 0);
	return v;
}

/* ---- Zone creation and bw_zone_add. ---- */

struct bw_zone *bw_zone_new(const uint8_t *apex)
{
	int len = bw_name_check(apex, BW_NAME_MAXLEN);
	if (len < 0)
		return NULL;
	struct bw_zone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	z->priv = calloc(1, sizeof(*z->priv));
	if (z->priv == NULL) {
		free(z);
		return NULL;
	}
	memcpy(z->apex, apex, (size_t)len);
	bw_name_lower(z->apex);
	z->apex_len = (uint8_t)len;
	z->apex_labels = (uint8_t)bw_name_labels(z->apex);
	return z;
}

/* Class and zone membership; \a lname gets the lowercase owner. */
static bool zone_accepts(const struct bw_zone *z, const struct bw_rr *rr,
                         uint8_t lname[BW_NAME_MAXLEN], struct bw_diag *d)
{
	char a[BW_NAME_MAXTEXT], b[BW_NAME_MAXTEXT];

	if (rr->cls != BW_CLASS_IN) {
		char cls[TYPE_TXTLEN];
		bw_class_to_text(rr->cls, cls, sizeof(cls));
		bw_diag_report(d, BW_DIAG_ERROR, rr->file, rr->line,
		               "class %s is not supported (only IN)", cls);
		return false;
	}
	memcpy(lname, rr->owner, bw_name_len(rr->owner));
	bw_name_lower(lname);
	if (!bw_name_is_sub(lname, z->apex)) {
		bw_diag_report(d, BW_DIAG_ERROR, rr->file, rr->line,
		               "out-of-zone data: %s is not in %s",
		               name_txt(a, lname), name_txt(b, z->apex));
		return false;
	}
	return true;
}

static struct zrec *rec_push(struct bw_zone_priv *p)
{
	if (p->nrecs == p->caprecs) {
		size_t cap = p->caprecs ? p->caprecs * 2 : 1024;
		struct zrec *r = realloc(p->recs, cap * sizeof(*r));
		if (r == NULL)
			return NULL;
		p->recs = r;
		p->caprecs = cap;
	}
	return &p->recs[p->nrecs];
}

static void rec_set_key(struct zrec *r, const uint8_t *key, size_t klen)
{
	r->key_len = (uint16_t)klen;
	r->kpfx[0] = key_prefix(key, klen);
	r->kpfx[1] = klen > 8 ? key_prefix(key + 8, klen - 8) : 0;
}

static const uint8_t *node_name(const struct bw_zone *z, const uint8_t *lname);

/* Owner name and sort key; shared with the previous record, or with the
 * node of a reopened zone, when equal. */
static int rec_set_owner(const struct bw_zone *z, struct zrec *r,
                         const uint8_t *lname)
{
	struct bw_zone_priv *p = z->priv;
	size_t len = bw_name_len(lname);
	const struct zrec *prev = p->nrecs > 0 ? r - 1 : NULL;

	if (prev != NULL && prev->name_len == len &&
	    memcmp(prev->name, lname, len) == 0) {
		r->name = prev->name;
		r->name_len = prev->name_len;
		r->key_len = prev->key_len;
		r->kpfx[0] = prev->kpfx[0];
		r->kpfx[1] = prev->kpfx[1];
		return 0;
	}
	uint8_t key[KEY_MAXLEN];
	size_t klen = name_key(lname, z->apex_labels, key);
	const uint8_t *name = node_name(z, lname);
	if (name == NULL) {
		uint8_t *mem = arena_alloc(&p->arena, len + klen);
		if (mem == NULL)
			return BW_ENOMEM;
		memcpy(mem, lname, len);
		memcpy(mem + len, key, klen);
		name = mem;
	}
	r->name = name;
	r->name_len = (uint8_t)len;
	rec_set_key(r, key, klen);
	return 0;
}

/* Canonical form of the rdata, kept apart only when it differs. */
static int rec_set_canon(struct bw_zone_priv *p, struct zrec *r)
{
	r->crd = r->rd;
	if (r->rdlen == 0)
		return 0;
	memcpy(p->canon, r->rd, r->rdlen);
	bw_rdata_canonicalize(r->type, p->canon, r->rdlen);
	if (memcmp(p->canon, r->rd, r->rdlen) == 0)
		return 0;
	uint8_t *crd = arena_alloc(&p->arena, r->rdlen);
	if (crd == NULL)
		return BW_ENOMEM;
	memcpy(crd, p->canon, r->rdlen);
	r->crd = crd;
	return 0;
}

/* Rdata as written: a copy, or \a rr's own when not \a copy. */
static int rec_set_rdata(struct bw_zone_priv *p, struct zrec *r,
                         const struct bw_rr *rr, bool copy)
{
	r->rd = rr->rdata;
	r->rdlen = rr->rdlen;
	if (copy) {
		uint8_t *rd = arena_alloc(&p->arena, rr->rdlen);
		if (rd == NULL)
			return BW_ENOMEM;
		if (rr->rdlen > 0)
			memcpy(rd, rr->rdata, rr->rdlen);
		r->rd = rd;
	}
	return rec_set_canon(p, r);
}

/* File names are kept once each; records hold an index. */
static int rec_set_file(struct bw_zone_priv *p, struct zrec *r,
                        const char *file)
{
	const char *f = file != NULL ? file : "";
	size_t i = p->last_file;

	/* The same pointer when reopened from an RRset. */
	if (i >= p->nfiles || (p->files[i] != f && strcmp(p->files[i], f) != 0)) {
		for (i = 0; i < p->nfiles && strcmp(p->files[i], f) != 0; i++)
			;
	}
	if (i == p->nfiles) {
		if (p->nfiles == MAX_FILES)
			return BW_ERANGE;
		char **files = realloc(p->files, (p->nfiles + 1) * sizeof(*files));
		if (files == NULL)
			return BW_ENOMEM;
		p->files = files;
		p->files[i] = strdup(f);
		if (p->files[i] == NULL)
			return BW_ENOMEM;
		p->nfiles++;
	}
	p->last_file = i;
	r->file = (uint16_t)i;
	return 0;
}

static int zone_add(struct bw_zone *z, const struct bw_rr *rr, bool copy,
                    struct bw_diag *d)
{
	struct bw_zone_priv *p = z->priv;
	uint8_t lname[BW_NAME_MAXLEN];

	if (p->finished || bw_name_check(rr->owner, BW_NAME_MAXLEN) < 0)
		return BW_EINVAL;
	if (!zone_accepts(z, rr, lname, d)) {
		p->add_errors++;
		return 0;
	}
	struct zrec *r = rec_push(p);
	if (r == NULL)
		return BW_ENOMEM;
	r->type = rr->type;
	int ret = rec_set_owner(z, r, lname);
	if (ret == 0)
		ret = rec_set_rdata(p, r, rr, copy);
	if (ret == 0)
		ret = rec_set_file(p, r, rr->file);
	if (ret != 0)
		return ret;
	r->ttl = rr->ttl;
	r->line = rr->line;
	r->seq = (uint32_t)p->nrecs++;
	return 0;
}

int bw_zone_add(struct bw_zone *z, const struct bw_rr *rr, struct bw_diag *d)
{
	return zone_add(z, rr, true, d);
}

int bw_zone_add_ref(struct bw_zone *z, const struct bw_rr *rr,
                    struct bw_diag *d)
{
	return zone_add(z, rr, false, d);
}

int bw_zone_adopt(struct bw_zone *z, void *mem)
{
	return arena_keep(&z->priv->arena, mem);
}

/* ---- Sorting. ---- */

static int owner_cmp(const struct zrec *a, const struct zrec *b)
{
	for (int i = 0; i < 2; i++)
		if (a->kpfx[i] != b->kpfx[i])
			return a->kpfx[i] < b->kpfx[i] ? -1 : 1;
	if (a->name == b->name)
		return 0;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(rec_key(a), rec_key(b), n);
	if (c != 0)
		return c;
	return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static bool rdata_equal(const struct zrec *a, const struct zrec *b)
{
	return a->rdlen == b->rdlen && memcmp(a->crd, b->crd, a->rdlen) == 0;
}

/* Owner, type, canonical rdata, then file order. */
static int rec_cmp(const void *va, const void *vb)
{
	const struct zrec *a = va, *b = vb;
	int c = owner_cmp(a, b);

	if (c == 0)
		c = (int)a->type - (int)b->type;
	if (c == 0)
		c = bw_rdata_cmp(a->crd, a->rdlen, b->crd, b->rdlen);
	if (c == 0)
		c = (a->seq > b->seq) - (a->seq < b->seq);
	return c;
}

/* ---- Finish: grouping, checks, empty non-terminals. ---- */

struct fin {
	struct bw_zone *z;
	struct bw_zone_priv *p;
	struct bw_diag *d;
	size_t nrs, nrd;           /* RRsets and rdatas used so far. */
	const uint8_t *occ;        /* Zone cut or DNAME that hides what is
	                              below it, or NULL. */
	int occ_labels;
	bool occ_dname;
};

static const struct zrec *rd_rec(const struct fin *f,
                                 const struct bw_zone_rrset *rs, uint16_t i)
{
	return &f->p->recs[f->p->rd_rec[rs->rd + i - f->p->rdatas]];
}

/* The record of \a rs that came first (nth 0) or second (nth 1) in the
 * input. */
static const struct zrec *rrset_nth(const struct fin *f,
                                    const struct bw_zone_rrset *rs, int nth)
{
	const struct zrec *first = NULL, *second = NULL;

	for (uint16_t i = 0; i < rs->count; i++) {
		const struct zrec *r = rd_rec(f, rs, i);
		if (first == NULL || r->seq < first->seq) {
			second = first;
			first = r;
		} else if (second == NULL || r->seq < second->seq) {
			second = r;
		}
	}
	return nth == 0 ? first : second;
}

static void fin_report(const struct fin *f, enum bw_diag_level lvl,
                       const struct zrec *r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reports at the place of record \a r. */
static void fin_report(const struct fin *f, enum bw_diag_level lvl,
                       const struct zrec *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bw_diag_vreport(f->d, lvl, f->p->files[r->file], r->line, fmt, ap);
	va_end(ap);
}

static void warn_ttl(const struct fin *f, const struct zrec *r,
                     const struct bw_zone_rrset *rs)
{
	char n[BW_NAME_MAXTEXT], t[TYPE_TXTLEN];

	fin_report(f, BW_DIAG_WARN, r, "TTL %u differs from %u for %s %s; "
	           "using %u", r->ttl, rs->ttl, name_txt(n, r->name),
	           type_txt(t, rs->type), rs->ttl);
}

/* Builds the RRset of records [k, e) (one owner, one type). */
static int fin_rrset(struct fin *f, struct bw_zone_rrset *rs, size_t k,
                     size_t e)
{
	struct bw_zone_priv *p = f->p;
	const struct zrec *recs = p->recs;

	rs->type = recs[k].type;
	rs->rd = &p->rdatas[f->nrd];
	rs->count = 0;
	for (size_t m = k; m < e; m++) {
		if (m > k && rdata_equal(&recs[m - 1], &recs[m]))
			continue;
		if (rs->count == UINT16_MAX) {
			char n[BW_NAME_MAXTEXT], t[TYPE_TXTLEN];
			fin_report(f, BW_DIAG_ERROR, &recs[m],
			           "RRset %s %s has more than 65535 records",
			           name_txt(n, recs[m].name), type_txt(t, rs->type));
			return BW_EZONE;
		}
		p->rdatas[f->nrd] = (struct bw_zone_rdata){ recs[m].rdlen, recs[m].rd };
		p->rd_rec[f->nrd++] = (uint32_t)m;
		rs->count++;
	}
	const struct zrec *first = rrset_nth(f, rs, 0);
	if (first == NULL)
		return BW_EZONE;  /* Cannot happen: the RRset has a record. */
	rs->ttl = first->ttl;
	rs->file = p->files[first->file];
	rs->line = first->line;
	/* RRSIGs of one owner cover several types, each with its TTL. */
	for (size_t m = k; m < e && rs->type != BW_TYPE_RRSIG; m++)
		if (recs[m].ttl != rs->ttl)
			warn_ttl(f, &recs[m], rs);
	return 0;
}

typedef bool (*keep_fn)(uint16_t type);

static bool keep_glue(uint16_t type)
{
	return type == BW_TYPE_A || type == BW_TYPE_AAAA;
}

static bool keep_deleg(uint16_t type)
{
	return type == BW_TYPE_NS || type == BW_TYPE_DS ||
	       type == BW_TYPE_NSEC || type == BW_TYPE_RRSIG;
}

static bool keep_none(uint16_t type)
{
	(void)type;
	return false;
}

/* Leaves out the RRsets that \a keep refuses, with a warning each. */
static void node_filter(const struct fin *f, struct bw_zone_node *n,
                        keep_fn keep, const char *by)
{
	char t[TYPE_TXTLEN], o[BW_NAME_MAXTEXT], nm[BW_NAME_MAXTEXT];
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n->nrrsets; i++) {
		struct bw_zone_rrset *rs = &n->rrsets[i];
		if (keep(rs->type)) {
			n->rrsets[kept++] = *rs;
			continue;
		}
		fin_report(f, BW_DIAG_WARN, rrset_nth(f, rs, 0),
		           "%s %s is occluded by %s at %s", name_txt(nm, n->name),
		           type_txt(t, rs->type), by, name_txt(o, f->occ));
	}
	n->nrrsets = kept;
}

static void check_single(const struct fin *f, const struct bw_zone_node *n,
                         uint16_t type, const char *what)
{
	const struct bw_zone_rrset *rs = bw_zone_rrset(n, type);
	char nm[BW_NAME_MAXTEXT];

	if (rs != NULL && rs->count > 1)
		fin_report(f, BW_DIAG_ERROR, rrset_nth(f, rs, 1),
		           "more than one %s record at %s", what,
		           name_txt(nm, n->name));
}

static void check_soa(const struct fin *f, const struct bw_zone_node *n,
                      bool apex)
{
	const struct bw_zone_rrset *soa = bw_zone_rrset(n, BW_TYPE_SOA);
	char nm[BW_NAME_MAXTEXT];

	if (soa != NULL && !apex)
		fin_report(f, BW_DIAG_ERROR, rrset_nth(f, soa, 0),
		           "SOA record at %s, which is not the zone apex",
		           name_txt(nm, n->name));
	else if (apex)
		check_single(f, n, BW_TYPE_SOA, "SOA");
}

/* CNAME: not at the apex, alone (but for DNSSEC records), only one. */
static void check_cname(const struct fin *f, const struct bw_zone_node *n,
                        bool apex)
{
	const struct bw_zone_rrset *cn = bw_zone_rrset(n, BW_TYPE_CNAME);
	char nm[BW_NAME_MAXTEXT];

	if (cn == NULL)
		return;
	if (apex) {
		fin_report(f, BW_DIAG_ERROR, rrset_nth(f, cn, 0),
		           "CNAME at the zone apex %s", name_txt(nm, n->name));
		return;
	}
	check_single(f, n, BW_TYPE_CNAME, "CNAME");
	for (uint16_t i = 0; i < n->nrrsets; i++) {
		const struct bw_zone_rrset *rs = &n->rrsets[i];
		if (rs->type == BW_TYPE_CNAME || rs->type == BW_TYPE_RRSIG ||
		    rs->type == BW_TYPE_NSEC)
			continue;
		const struct zrec *a = rrset_nth(f, cn, 0);
		const struct zrec *b = rrset_nth(f, rs, 0);
		fin_report(f, BW_DIAG_ERROR, a->seq > b->seq ? a : b,
		           "CNAME and other data at %s", name_txt(nm, n->name));
		return;
	}
}

static bool below_occluder(const struct fin *f, const struct bw_zone_node *n)
{
	return f->occ != NULL && n->labels > f->occ_labels &&
	       bw_name_is_sub(n->name, f->occ);
}

static void set_occluder(struct fin *f, const struct bw_zone_node *n,
                         bool dname)
{
	f->occ = n->name;
	f->occ_labels = n->labels;
	f->occ_dname = dname;
}

/* Checks one node with data and marks cuts; drops what is occluded. */
static void fin_check_node(struct fin *f, struct bw_zone_node *n)
{
	if (!below_occluder(f, n))
		f->occ = NULL;
	if (f->occ != NULL && f->occ_dname) {
		node_filter(f, n, keep_none, "DNAME");
		return;
	}
	if (f->occ != NULL) {
		n->flags |= BW_ZN_GLUE;
		n->cut_labels = (uint8_t)f->occ_labels;
		node_filter(f, n, keep_glue, "delegation");
		return;
	}
	bool apex = n->labels == f->z->apex_labels;
	if (apex)
		n->flags |= BW_ZN_APEX;
	check_soa(f, n, apex);
	check_cname(f, n, apex);
	check_single(f, n, BW_TYPE_DNAME, "DNAME");
	if (!apex && bw_zone_rrset(n, BW_TYPE_NS) != NULL) {
		n->flags |= BW_ZN_DELEG;
		set_occluder(f, n, false);
		node_filter(f, n, keep_deleg, "delegation");
	} else if (bw_zone_rrset(n, BW_TYPE_DNAME) != NULL) {
		n->flags |= BW_ZN_DNAME;
		set_occluder(f, n, true);
	}
	if (bw_zone_rrset(n, BW_TYPE_CNAME) != NULL)
		n->flags |= BW_ZN_CNAME;
	/* NSEC3 records live in their own hashed tree (RFC 5155 §7.2). */
	if (bw_zone_rrset(n, BW_TYPE_NSEC3) != NULL)
		n->flags |= BW_ZN_NSEC3;
}

static struct bw_zone_node *node_push(struct bw_zone *z)
{
	struct bw_zone_priv *p = z->priv;

	if (z->nnodes == p->capnodes) {
		size_t cap = p->capnodes ? p->capnodes * 2 : 256;
		struct bw_zone_node *v = realloc(z->nodes, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		z->nodes = v;
		p->capnodes = cap;
	}
	struct bw_zone_node *n = &z->nodes[z->nnodes++];
	memset(n, 0, sizeof(*n));
	return n;
}

/* Number of trailing labels two lowercase names share. */
static int common_labels(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[BW_NAME_MAXLABELS], ob[BW_NAME_MAXLABELS];
	int na = name_label_offs(a, oa), nb = name_label_offs(b, ob);
	int c = 0;

	while (c < na && c < nb) {
		const uint8_t *la = a + oa[na - 1 - c], *lb = b + ob[nb - 1 - c];
		if (la[0] != lb[0] || memcmp(la + 1, lb + 1, la[0]) != 0)
			break;
		c++;
	}
	return c;
}

static int push_ent(struct bw_zone *z, const uint8_t *name, int labels,
                    uint32_t flags, uint8_t cut_labels)
{
	struct bw_zone_node *e = node_push(z);
	if (e == NULL)
		return BW_ENOMEM;
	e->name = name;
	e->name_len = (uint8_t)bw_name_len(name);
	e->labels = (uint8_t)labels;
	e->flags = flags;
	e->cut_labels = cut_labels;
	return 0;
}

/* Appends \a n after the empty non-terminals between it and the node
 * before it (the apex first of all). */
static int fin_push(struct bw_zone *z, const struct bw_zone_node *n)
{
	if (z->nnodes == 0 && n->labels != z->apex_labels &&
	    push_ent(z, z->apex, z->apex_labels, BW_ZN_APEX | BW_ZN_ENT, 0) != 0)
		return BW_ENOMEM;
	int common = z->nnodes > 0 ?
	             common_labels(z->nodes[z->nnodes - 1].name, n->name) :
	             n->labels;
	for (int l = common + 1; l < n->labels; l++) {
		bool glue = (n->flags & BW_ZN_GLUE) && l > n->cut_labels;
		int ret = push_ent(z, name_suffix(n->name, n->labels, l), l,
		                   BW_ZN_ENT | (glue ? BW_ZN_GLUE : 0),
		                   glue ? n->cut_labels : 0);
		if (ret != 0)
			return ret;
	}
	struct bw_zone_node *o = node_push(z);
	if (o == NULL)
		return BW_ENOMEM;
	*o = *n;
	return 0;
}

/* Groups records [i, j) of one owner into a node. */
static int fin_owner(struct fin *f, size_t i, size_t j)
{
	const struct zrec *recs = f->p->recs;
	struct bw_zone_node n = {
		.name = recs[i].name,
		.name_len = recs[i].name_len,
		.labels = (uint8_t)bw_name_labels(recs[i].name),
		.rrsets = &f->p->rrsets[f->nrs],
	};

	for (size_t k = i, e; k < j; k = e) {
		for (e = k + 1; e < j && recs[e].type == recs[k].type; e++)
			;
		if (n.nrrsets == UINT16_MAX) {
			char nm[BW_NAME_MAXTEXT];
			fin_report(f, BW_DIAG_ERROR, &recs[k], "too many types at %s",
			           name_txt(nm, n.name));
			return BW_EZONE;
		}
		int ret = fin_rrset(f, &n.rrsets[n.nrrsets], k, e);
		if (ret != 0)
			return ret;
		n.nrrsets++;
	}
	fin_check_node(f, &n);
	f->nrs += n.nrrsets;
	return n.nrrsets > 0 ? fin_push(f->z, &n) : 0;
}

/* Hash index over the finished nodes, for lookups by name. */
static int build_index(struct bw_zone *z)
{
	struct bw_zone_priv *p = z->priv;
	size_t n = 16;

	while (n < z->nnodes * 2)
		n *= 2;
	p->index = calloc(n, sizeof(*p->index));
	if (p->index == NULL)
		return BW_ENOMEM;
	p->index_mask = n - 1;
	for (size_t i = 0; i < z->nnodes; i++) {
		size_t at = (size_t)bw_hash_name(z->nodes[i].name) & p->index_mask;
		while (p->index[at] != 0)
			at = (at + 1) & p->index_mask;
		p->index[at] = (uint32_t)(i + 1);
	}
	return 0;
}

static size_t index_find(const struct bw_zone *z, const uint8_t *lname)
{
	const struct bw_zone_priv *p = z->priv;
	size_t len = bw_name_len(lname);
	size_t at = (size_t)bw_hash_name(lname) & p->index_mask;

	for (; p->index[at] != 0; at = (at + 1) & p->index_mask) {
		const struct bw_zone_node *n = &z->nodes[p->index[at] - 1];
		if (n->name_len == len && memcmp(n->name, lname, len) == 0)
			return p->index[at] - 1;
	}
	return z->nnodes;
}

/* The arena name of the node \a lname of a reopened zone, or NULL.  Not
 * an empty non-terminal's: that is a suffix of another name, with no key
 * after it. */
static const uint8_t *node_name(const struct bw_zone *z, const uint8_t *lname)
{
	if (z->priv->index == NULL)
		return NULL;
	size_t i = index_find(z, lname);
	if (i == z->nnodes || (z->nodes[i].flags & BW_ZN_ENT))
		return NULL;
	return z->nodes[i].name;
}

/* By hash once the index exists, else binary search in canonical order;
 * z->nnodes when absent. */
static size_t node_index(const struct bw_zone *z, const uint8_t *lname)
{
	size_t lo = 0, hi = z->nnodes;

	if (z->priv->index != NULL)
		return index_find(z, lname);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bw_name_cmp(z->nodes[mid].name, lname);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return z->nnodes;
}

static void fin_wildcards(struct bw_zone *z)
{
	for (size_t i = 0; i < z->nnodes; i++) {
		struct bw_zone_node *n = &z->nodes[i];
		if (n->labels <= z->apex_labels || n->name[0] != 1 ||
		    n->name[1] != '*')
			continue;
		n->flags |= BW_ZN_WILDCARD;
		size_t parent = node_index(z, n->name + 2);
		if (parent < z->nnodes)
			z->nodes[parent].flags |= BW_ZN_HAS_WILDCARD;
	}
}

/* True when \a name is at or below a zone cut of \a z. */
static bool under_cut(const struct bw_zone *z, const uint8_t *name)
{
	int labels = bw_name_labels(name);

	for (int l = labels; l > z->apex_labels; l--) {
		const struct bw_zone_node *n =
			bw_zone_find(z, name_suffix(name, labels, l));
		if (n != NULL && (n->flags & BW_ZN_DELEG))
			return true;
	}
	return false;
}

static bool has_address(const struct bw_zone_node *n)
{
	return n != NULL && (bw_zone_rrset(n, BW_TYPE_A) != NULL ||
	                     bw_zone_rrset(n, BW_TYPE_AAAA) != NULL);
}

static void check_glue_of(const struct fin *f, const struct bw_zone_node *n,
                          const struct bw_zone_rrset *ns)
{
	const struct bw_zone *z = f->z;

	for (uint16_t i = 0; i < ns->count; i++) {
		/* Carried over by bw_zone_reopen(): the finish before checked it. */
		if (rd_rec(f, ns, i)->seq < f->p->nkept)
			continue;
		uint8_t target[BW_NAME_MAXLEN];
		int len = bw_name_check(ns->rd[i].data, ns->rd[i].len);
		if (len < 0)
			continue;
		memcpy(target, ns->rd[i].data, (size_t)len);
		bw_name_lower(target);
		if (!bw_name_is_sub(target, z->apex) ||
		    (!(n->flags & BW_ZN_APEX) && !under_cut(z, target)) ||
		    has_address(bw_zone_find(z, target)))
			continue;
		char nm[BW_NAME_MAXTEXT];
		fin_report(f, BW_DIAG_WARN, rd_rec(f, ns, i),
		           "no glue for in-bailiwick NS target %s",
		           name_txt(nm, target));
	}
}

static void fin_check_glue(const struct fin *f)
{
	for (size_t i = 0; i < f->z->nnodes; i++) {
		const struct bw_zone_node *n = &f->z->nodes[i];
		const struct bw_zone_rrset *ns = bw_zone_rrset(n, BW_TYPE_NS);
		if (ns != NULL && (n->flags & (BW_ZN_APEX | BW_ZN_DELEG)))
			check_glue_of(f, n, ns);
	}
}

/* Serial and timers from the SOA; errors for a missing SOA or NS. */
static void fin_apex(const struct fin *f)
{
	struct bw_zone *z = f->z;
	const struct bw_zone_rrset *soa = bw_zone_rrset(&z->nodes[0], BW_TYPE_SOA);
	const char *file = f->p->nfiles > 0 ? f->p->files[0] : NULL;

	if (bw_zone_rrset(&z->nodes[0], BW_TYPE_NS) == NULL)
		bw_diag_report(f->d, BW_DIAG_ERROR, file, 0,
		               "no NS records at the zone apex");
	if (soa == NULL) {
		bw_diag_report(f->d, BW_DIAG_ERROR, file, 0,
		               "no SOA at the zone apex");
		return;
	}
	const uint8_t *rd = soa->rd[0].data;
	size_t len = soa->rd[0].len;
	int m = bw_name_check(rd, len);
	int r = m < 0 ? -1 : bw_name_check(rd + m, len - (size_t)m);
	if (r < 0 || len - (size_t)m - (size_t)r < 20)
		return;
	z->serial = bw_get32(rd + m + r);
	z->soa_minimum = bw_get32(rd + m + r + 16);
	z->soa_ttl = soa->ttl;
}

static int fin_alloc(struct bw_zone_priv *p)
{
	size_t n = p->nrecs > 0 ? p->nrecs : 1;

	p->rrsets = malloc(n * sizeof(*p->rrsets));
	p->rdatas = malloc(n * sizeof(*p->rdatas));
	p->rd_rec = malloc(n * sizeof(*p->rd_rec));
	if (p->rrsets == NULL || p->rdatas == NULL || p->rd_rec == NULL)
		return BW_ENOMEM;
	return 0;
}

static int fin_nodes(struct fin *f)
{
	struct bw_zone_priv *p = f->p;

	for (size_t i = 0, j; i < p->nrecs; i = j) {
		for (j = i + 1; j < p->nrecs && owner_cmp(&p->recs[i], &p->recs[j]) == 0; j++)
			;
		int ret = fin_owner(f, i, j);
		if (ret != 0)
			return ret;
	}
	if (f->z->nnodes == 0)
		return push_ent(f->z, f->z->apex, f->z->apex_labels,
		                BW_ZN_APEX | BW_ZN_ENT, 0);
	return 0;
}

/* The nodes and index from before bw_zone_reopen(): the records no
 * longer need them. */
static void fin_drop_old(struct bw_zone *z)
{
	free(z->nodes);
	free(z->priv->index);
	z->nodes = NULL;
	z->nnodes = 0;
	z->priv->capnodes = 0;
	z->priv->index = NULL;
}

int bw_zone_finish(struct bw_zone *z, struct bw_diag *d)
{
	struct bw_zone_priv *p = z->priv;
	struct fin f = { .z = z, .p = p, .d = d };
	unsigned errors = d->errors;

	if (p->finished)
		return BW_EINVAL;
	p->finished = true;
	fin_drop_old(z);
	int ret = fin_alloc(p);
	if (ret != 0)
		return ret;
	if (p->nrecs > 0)
		qsort(p->recs, p->nrecs, sizeof(*p->recs), rec_cmp);
	ret = fin_nodes(&f);
	if (ret == 0)
		ret = build_index(z);
	if (ret == 0) {
		fin_wildcards(z);
		fin_check_glue(&f);
		fin_apex(&f);
	}
	free(p->recs);
	free(p->rd_rec);
	p->recs = NULL;
	p->rd_rec = NULL;
	if (ret != 0)
		return ret;
	return d->errors > errors || p->add_errors > 0 ? BW_EZONE : 0;
}

/* ---- Reopening a finished zone. ---- */

static bool reopen_keeps(const struct bw_zone_rrset *rs, bw_zone_drop_fn drop)
{
	return drop == NULL || !drop(rs->type);
}

static size_t reopen_count(const struct bw_zone *z, bw_zone_drop_fn drop)
{
	size_t n = 0;

	for (size_t i = 0; i < z->nnodes; i++) {
		const struct bw_zone_node *nd = &z->nodes[i];
		for (uint16_t t = 0; t < nd->nrrsets; t++)
			if (reopen_keeps(&nd->rrsets[t], drop))
				n += nd->rrsets[t].count;
	}
	return n;
}

/* The records of \a n again, pointing at its name and rdata; the key
 * follows the name in the arena, as rec_set_owner() put it there. */
static int reopen_node(struct bw_zone *z, const struct bw_zone_node *n,
                       bw_zone_drop_fn drop)
{
	struct bw_zone_priv *p = z->priv;
	struct zrec proto = { .name = n->name, .name_len = n->name_len };
	uint8_t key[KEY_MAXLEN];

	rec_set_key(&proto, key, name_key(n->name, z->apex_labels, key));
	for (uint16_t t = 0; t < n->nrrsets; t++) {
		const struct bw_zone_rrset *rs = &n->rrsets[t];
		if (!reopen_keeps(rs, drop))
			continue;
		proto.type = rs->type;
		proto.ttl = rs->ttl;
		proto.line = rs->line;
		int ret = rec_set_file(p, &proto, rs->file);
		for (uint16_t i = 0; i < rs->count && ret == 0; i++) {
			struct zrec *r = &p->recs[p->nrecs];
			*r = proto;
			r->rd = rs->rd[i].data;
			r->rdlen = rs->rd[i].len;
			r->seq = (uint32_t)p->nrecs++;
			ret = rec_set_canon(p, r);
		}
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* The RRsets are records again: only names and flags stay, for lookups. */
static void reopen_release(struct bw_zone *z)
{
	struct bw_zone_priv *p = z->priv;

	for (size_t i = 0; i < z->nnodes; i++) {
		z->nodes[i].nrrsets = 0;
		z->nodes[i].rrsets = NULL;
	}
	free(p->rrsets);
	free(p->rdatas);
	p->rrsets = NULL;
	p->rdatas = NULL;
}

int bw_zone_reopen(struct bw_zone *z, bw_zone_drop_fn drop, size_t extra)
{
	struct bw_zone_priv *p = z->priv;

	if (!p->finished)
		return BW_EINVAL;
	size_t cap = reopen_count(z, drop) + extra;
	p->recs = cap > 0 ? malloc(cap * sizeof(*p->recs)) : NULL;
	if (p->recs == NULL && cap > 0)
		return BW_ENOMEM;
	p->caprecs = cap;
	p->nrecs = 0;
	/* Node order, then type and rdata order: file order for the next
	 * finish, so that each RRset keeps its place and TTL. */
	for (size_t i = 0; i < z->nnodes; i++) {
		if (z->nodes[i].nrrsets == 0)
			continue;
		int ret = reopen_node(z, &z->nodes[i], drop);
		if (ret != 0)
			return ret;
	}
	reopen_release(z);
	p->nkept = p->nrecs;
	p->add_errors = 0;
	p->finished = false;
	return 0;
}

/* ---- Lookups. ---- */

const struct bw_zone_node *bw_zone_find(const struct bw_zone *z,
                                        const uint8_t *lname)
{
	size_t i = node_index(z, lname);

	return i < z->nnodes ? &z->nodes[i] : NULL;
}

const struct bw_zone_rrset *bw_zone_rrset(const struct bw_zone_node *node,
                                          uint16_t type)
{
	for (uint16_t i = 0; i < node->nrrsets; i++) {
		if (node->rrsets[i].type == type)
			return &node->rrsets[i];
		if (node->rrsets[i].type > type)
			break;
	}
	return NULL;
}

void bw_zone_free(struct bw_zone *z)
{
	if (z == NULL)
		return;
	struct bw_zone_priv *p = z->priv;
	arena_free(&p->arena);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p->recs);
	free(p->rd_rec);
	free(p->rrsets);
	free(p->index);
	free(p->rdatas);
	free(z->nodes);
	free(p);
	free(z);
}
