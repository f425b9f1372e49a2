/*  bulwark — C shims that the Google Benchmark programs call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulwark/answer.h"
#include "bulwark/compile.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "bulwark/zoneset.h"
#include "shim.h"
#include "table_impl.h"

/* Queries are packed one after another in a byte pool and read in order,
 * so the benchmark's own data streams through the cache. */
struct bwb_query {
	uint32_t off;          /* Pool offset: text, NUL, lname, wire. */
	uint16_t qlen;
	uint8_t len;           /* lname length. */
	uint8_t tlen;          /* text length (names longer are skipped). */
};

struct bwb_pool {
	uint8_t *data;
	size_t len, cap;
};

struct bwb {
	struct bw_table *table;
	struct bw_zoneset *zs;
	struct bw_answer_conf conf;
	double compile_seconds;
	struct bwb_query *q[BWB_NKINDS];
	size_t n[BWB_NKINDS], cap[BWB_NKINDS];
	struct bwb_pool pool;
	bool do_bit;           /* Queries ask for DNSSEC records. */
	uint8_t resp[65536];
	uint8_t scratch[BW_NAME_MAXLEN];
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int push(struct bwb *b, enum bwb_kind k, const struct bwb_query *q)
{
	if (b->n[k] == b->cap[k]) {
		size_t cap = b->cap[k] ? b->cap[k] * 2 : 1024;
		struct bwb_query *p = realloc(b->q[k], cap * sizeof(*p));
		if (p == NULL)
			return -1;
		b->q[k] = p;
		b->cap[k] = cap;
	}
	b->q[k][b->n[k]++] = *q;
	return 0;
}

static const char *q_text(const struct bwb *b, const struct bwb_query *q)
{
	return (const char *)b->pool.data + q->off;
}

static const uint8_t *q_lname(const struct bwb *b, const struct bwb_query *q)
{
	return b->pool.data + q->off + q->tlen + 1;
}

static const uint8_t *q_wire(const struct bwb *b, const struct bwb_query *q)
{
	return q_lname(b, q) + q->len;
}

static bool make_query(struct bwb *b, struct bwb_query *q, const char *name,
                       const char *type)
{
	uint8_t wire[BW_HDR_LEN + BW_NAME_MAXLEN + 4 + 11];
	size_t tlen = strlen(name);
	uint16_t t;
	int len = bw_name_from_text(wire + BW_HDR_LEN, name, tlen, (const uint8_t *)"");

	if (len < 0 || tlen > 255 || bw_type_from_text(type, strlen(type), &t) != 0)
		return false;
	memset(wire, 0, BW_HDR_LEN);
	wire[5] = 1;
	bw_put16(wire + BW_HDR_LEN + len, t);
	bw_put16(wire + BW_HDR_LEN + len + 2, BW_CLASS_IN);
	q->qlen = (uint16_t)(BW_HDR_LEN + len + 4);
	if (b->do_bit) {
		/* EDNS, 1232 octets, DO=1. */
		static const uint8_t opt[11] = { 0, 0, 41, 4, 0xd0, 0, 0, 0x80, 0, 0, 0 };
		wire[11] = 1;
		memcpy(wire + q->qlen, opt, sizeof(opt));
		q->qlen += sizeof(opt);
	}
	q->len = (uint8_t)len;
	q->tlen = (uint8_t)tlen;

	size_t need = tlen + 1 + (size_t)len + q->qlen;
	if (b->pool.len + need > b->pool.cap) {
		size_t cap = b->pool.cap ? b->pool.cap * 2 : 1 << 20;
		uint8_t *d = realloc(b->pool.data, cap);
		if (d == NULL)
			return false;
		b->pool.data = d;
		b->pool.cap = cap;
	}
	uint8_t *p = b->pool.data + b->pool.len;
	q->off = (uint32_t)b->pool.len;
	memcpy(p, name, tlen + 1);
	memcpy(p + tlen + 1, wire + BW_HDR_LEN, (size_t)len);
	bw_name_lower(p + tlen + 1);
	memcpy(p + tlen + 1 + len, wire, q->qlen);
	b->pool.len += need;
	return true;
}

static enum bwb_kind classify(struct bwb *b, const struct bwb_query *q)
{
	struct bw_answer_info info;
	bw_answer(b->zs, &b->conf, q_wire(b, q), q->qlen, b->resp, sizeof(b->resp),
	          0, &info);
	switch (info.kind) {
	case BW_ANS_NXDOMAIN:
		return BWB_MISS;
	case BW_ANS_REFERRAL:
		return BWB_REFERRAL;
	case BW_ANS_DROP: case BW_ANS_POSITIVE: case BW_ANS_NODATA:
	case BW_ANS_REFUSED: case BW_ANS_ERROR:
		break;
	}
	const uint8_t *lname = q_lname(b, q);
	if (bw_table_lookup(b->table, bw_hash_name(lname), lname, q->len))
		return BWB_HIT;
	return BWB_WILDCARD;
}

static int read_queries(struct bwb *b, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048], name[1100], type[32];
	struct bwb_query q;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%1023s %31s", name, type) != 2 ||
		    !make_query(b, &q, name, type))
			continue;
		if (push(b, BWB_ALL, &q) != 0 || push(b, classify(b, &q), &q) != 0)
			break;
	}
	fclose(f);
	return 0;
}

struct bwb *bwb_open(const char *zone, const char *origin, const char *queries)
{
	return bwb_open_signed(zone, origin, queries, getenv("BW_BENCH_KEYDIR"),
	                       getenv("BW_BENCH_POLICY"));
}

struct bwb *bwb_open_signed(const char *zone, const char *origin,
                            const char *queries, const char *keydir,
                            const char *policy_spec)
{
	struct bwb *b = calloc(1, sizeof(*b));
	struct bw_compile_opts opts = { 0 };
	struct bw_diag d = { .quiet = 1 };
	uint8_t apex[BW_NAME_MAXLEN], *data;
	char err[256];
	size_t len;

	if (b == NULL)
		return NULL;
	if (origin != NULL && bw_name_from_text(apex, origin, strlen(origin),
	                                        (const uint8_t *)"") > 0)
		opts.origin = apex;
	/* Signed: a key directory (and a policy as CONF:NAME), DO=1 queries. */
	opts.keydir = keydir;
	b->do_bit = opts.keydir != NULL;
	char *policy = policy_spec != NULL ? strdup(policy_spec) : NULL;
	if (policy != NULL && strchr(policy, ':') != NULL) {
		*strchr(policy, ':') = '\0';
		opts.policy_conf = policy;
		opts.policy_name = policy + strlen(policy) + 1;
	}
	double t0 = now();
	if (bw_compile_file(zone, &opts, &d, &data, &len) != 0 ||
	    bw_table_from_mem(data, len, true, &b->table, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench: %s: cannot compile: %s:%u: %s\n", zone,
		        d.first_file, d.first_line, d.first_msg);
		free(b);
		return NULL;
	}
	b->compile_seconds = now() - t0;
	free(policy);
	b->zs = bw_zoneset_new(&b->table, 1);
	bw_answer_conf_default(&b->conf);
	if (b->zs == NULL || read_queries(b, queries) != 0) {
		fprintf(stderr, "bench: %s: cannot read queries\n", queries);
		bwb_close(b);
		return NULL;
	}
	return b;
}

void bwb_close(struct bwb *b)
{
	if (b == NULL)
		return;
	for (int k = 0; k < BWB_NKINDS; k++)
		free(b->q[k]);
	free(b->pool.data);
	bw_zoneset_free(b->zs);
	bw_table_close(b->table);
	free(b);
}

size_t bwb_count(const struct bwb *b, enum bwb_kind kind)
{
	return b->n[kind];
}

int bwb_name_parse(struct bwb *b, enum bwb_kind kind, size_t i)
{
	const struct bwb_query *q = &b->q[kind][i];
	return bw_name_from_text(b->scratch, q_text(b, q), q->tlen,
	                         (const uint8_t *)"");
}

int bwb_lookup(struct bwb *b, enum bwb_kind kind, size_t i)
{
	const struct bwb_query *q = &b->q[kind][i];
	const uint8_t *lname = q_lname(b, q);
	const struct bw_table *t = bw_zoneset_find(b->zs, lname);
	size_t off = 0;

	if (t == NULL)
		return 0;
	/* Exact match, then the closest encloser as the engine searches it. */
	while (lname[off] != 0) {
		const uint8_t *s = lname + off;
		if (bw_table_lookup(t, bw_hash_name(s), s, q->len - off))
			return 1;
		off += lname[off] + 1u;
	}
	return 0;
}

size_t bwb_answer(struct bwb *b, enum bwb_kind kind, size_t i)
{
	const struct bwb_query *q = &b->q[kind][i];
	return bw_answer(b->zs, &b->conf, q_wire(b, q), q->qlen, b->resp,
	                 sizeof(b->resp), 0, NULL);
}

double bwb_compile_seconds(const struct bwb *b)
{
	return b->compile_seconds;
}

size_t bwb_table_size(const struct bwb *b)
{
	return bw_table_size(b->table);
}

const uint8_t *bwb_query(const struct bwb *b, enum bwb_kind kind, size_t i,
                         size_t *len)
{
	const struct bwb_query *q = &b->q[kind][i];
	*len = q->qlen;
	return q_wire(b, q);
}

const uint8_t *bwb_query_lname(const struct bwb *b, enum bwb_kind kind,
                               size_t i, size_t *len)
{
	const struct bwb_query *q = &b->q[kind][i];
	*len = q->len;
	return q_lname(b, q);
}

const struct bw_zoneset *bwb_zoneset(const struct bwb *b)
{
	return b->zs;
}

const struct bw_answer_conf *bwb_conf(const struct bwb *b)
{
	return &b->conf;
}

const struct bw_table *bwb_table(const struct bwb *b)
{
	return b->table;
}
