/*  bulwark — C shims of the fast-path micro-benchmarks (bench_fastpath).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/answer.h"
#include "bulwark/dataplane.h"
#include "bulwark/flood.h"
#include "bulwark/nsec3.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "cookie.h"
#include "filter.h"
#include "pkt.h"
#include "rrl.h"
#include "shim_fastpath.h"
#include "sketch.h"
#include "table_impl.h"

/* Seeded inputs: the same on every run. */
static uint64_t rnd(uint64_t *s)
{
	return bw_hash_mix(*s += 0x9e3779b97f4a7c15ull);
}

static void rnd_fill(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(s);
}

/* ---- Packets. ---- */

#define FRAMES_MAX 8192
#define FRAME_SLOT 512          /* Largest query frame: 14 + 40 + 8 + 282. */
#define RX_CAP     2048
#define DNS_PORT   53

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x53 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t our_v4[4] = { 192, 0, 2, 53 };
static const uint8_t our_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };

struct bwf_pkt {
	struct bw_pkt_stats st;   /* First: 64-byte aligned. */
	struct bw_pkt_port port;
	struct bw_pkt_ctx ctx;
	size_t n;
	uint16_t len[FRAMES_MAX];
	uint8_t rx[RX_CAP];
	uint8_t frames[FRAMES_MAX][FRAME_SLOT];
};

/* IPv4 or IPv6 header, UDP header and query i (\a peer is its source). */
static size_t make_frame(uint8_t *f, bool v6, uint16_t dport, size_t i,
                         const uint8_t *q, size_t qlen)
{
	size_t l4 = 14 + (v6 ? 40u : 20u), ulen = 8 + qlen;
	uint8_t *ip = f + 14, *udp = f + l4;

	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	bw_put16(f + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		static const uint8_t peer[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
		memset(ip, 0, 40);
		ip[0] = 0x60;
		bw_put16(ip + 4, (uint16_t)ulen);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, peer, 16);
		bw_put16(ip + 22, (uint16_t)(i + 1));
		memcpy(ip + 24, our_v6, 16);
	} else {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		bw_put16(ip + 2, (uint16_t)(20 + ulen));
		bw_put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = 17;
		ip[12] = 198;
		ip[13] = 51;
		ip[14] = (uint8_t)(100 + i / 250);
		ip[15] = (uint8_t)(1 + i % 250);
		memcpy(ip + 16, our_v4, 4);
		bw_put16(ip + 10, bw_pkt_cksum_fold(bw_pkt_cksum_add(0, ip, 20)));
	}
	bw_put16(udp, (uint16_t)(40000 + i % 20000));
	bw_put16(udp + 2, dport);
	bw_put16(udp + 4, (uint16_t)ulen);
	bw_put16(udp + 6, 0);
	memcpy(udp + 8, q, qlen);
	if (v6) {
		/* Pseudo-header: addresses, length, next header (RFC 8200 8.1). */
		uint8_t tail[8] = { 0, 0, (uint8_t)(ulen >> 8), (uint8_t)ulen, 0, 0, 0, 17 };
		uint32_t s = bw_pkt_cksum_add(0, ip + 8, 32);
		s = bw_pkt_cksum_add(s, tail, sizeof(tail));
		uint16_t ck = bw_pkt_cksum_fold(bw_pkt_cksum_add(s, udp, ulen));
		bw_put16(udp + 6, ck == 0 ? 0xffff : ck);
	}
	return l4 + ulen;
}

struct bwf_pkt *bwf_pkt_new(const struct bwb *b, enum bwb_kind kind, bool v6,
                            enum bwf_frame what)
{
	struct bwf_pkt *p = aligned_alloc(64, (sizeof(*p) + 63) & ~(size_t)63);
	size_t n = bwb_count(b, kind), qlen;

	if (p == NULL)
		return NULL;
	memset(p, 0, sizeof(*p));
	memcpy(p->port.mac, our_mac, 6);
	p->port.mtu = 1500;
	p->port.n4 = p->port.n6 = 1;
	memcpy(p->port.v4[0], our_v4, 4);
	memcpy(p->port.v6[0], our_v6, 16);
	p->port.v4_port[0] = p->port.v6_port[0] = DNS_PORT;
	p->ctx.port = &p->port;
	p->ctx.zs = bwb_zoneset(b);
	p->ctx.answer = bwb_conf(b);
	p->ctx.st = &p->st;
	p->n = n < FRAMES_MAX ? n : FRAMES_MAX;
	for (size_t i = 0; i < p->n; i++) {
		const uint8_t *q = bwb_query(b, kind, i, &qlen);
		size_t len = make_frame(p->frames[i], v6,
		                        what == BWF_FRAME_PORT ? 5353 : DNS_PORT,
		                        i, q, qlen);
		/* A runt stops inside the IP header. */
		p->len[i] = (uint16_t)(what == BWF_FRAME_RUNT ? 14 + 12 : len);
	}
	return p;
}

void bwf_pkt_free(struct bwf_pkt *p)
{
	free(p);
}

size_t bwf_pkt_count(const struct bwf_pkt *p)
{
	return p->n;
}

size_t bwf_pkt_copy(struct bwf_pkt *p, size_t i)
{
	memcpy(p->rx, p->frames[i], p->len[i]);
	return p->rx[p->len[i] - 1];
}

int bwf_pkt_handle(struct bwf_pkt *p, size_t i)
{
	struct bw_pkt_out out;

	memcpy(p->rx, p->frames[i], p->len[i]);
	return (int)bw_pkt_handle(&p->ctx, p->rx, p->len[i], RX_CAP, &out);
}

/* ---- Checksum. ---- */

uint16_t bwf_cksum(const uint8_t *buf, size_t len)
{
	return bw_pkt_cksum_fold(bw_pkt_cksum_add(0, buf, len));
}

/* ---- NSEC3 hash. ---- */

int bwf_nsec3_hash(const struct bwb *b, enum bwb_kind kind, size_t i)
{
	const struct bw_tbl_header *hd = bwb_table(b)->hdr;
	uint8_t h[BW_NSEC3_HASH_LEN];
	size_t len;

	bw_nsec3_hash(bwb_query_lname(b, kind, i, &len), hd->nsec3_salt,
	              hd->nsec3_salt_len, hd->nsec3_iterations, h);
	return h[0];
}

/* ---- Response-rate limiting. ---- */

struct bwf_rrl_src {
	uint8_t addr[4];
	uint64_t name_hash;
};

struct bwf_rrl {
	struct bw_rrl *table;
	struct bw_rrl_conf conf;
	unsigned nkeys;
	struct bwf_rrl_src *src;
};

/* BIND-like limits, as scripts/bench-mitigation.py sets them. */
static void rrl_conf_bench(struct bw_rrl_conf *c)
{
	bw_rrl_conf_default(c);
	c->enabled = true;
	for (int k = 0; k < BW_RRL_ALL; k++)
		c->rate[k] = 1000;
	c->rate[BW_RRL_NXDOMAIN] = 100;
	c->window = 5;
}

struct bwf_rrl *bwf_rrl_new(unsigned nkeys)
{
	struct bwf_rrl *r = calloc(1, sizeof(*r));
	uint64_t seed = 1;

	if (r == NULL)
		return NULL;
	rrl_conf_bench(&r->conf);
	r->nkeys = nkeys ? nkeys : 1;
	r->table = bw_rrl_new(r->conf.table_size);
	r->src = calloc(r->nkeys, sizeof(*r->src));
	if (r->table == NULL || r->src == NULL) {
		bwf_rrl_free(r);
		return NULL;
	}
	for (unsigned i = 0; i < r->nkeys; i++) {
		/* Distinct /24s: the key is the prefix. */
		uint32_t a = (uint32_t)((i * 2654435761u) & 0xffffffu);
		r->src[i].addr[0] = (uint8_t)(a >> 16);
		r->src[i].addr[1] = (uint8_t)(a >> 8);
		r->src[i].addr[2] = (uint8_t)a;
		r->src[i].addr[3] = (uint8_t)(1 + rnd(&seed) % 254);
		r->src[i].name_hash = rnd(&seed);
	}
	return r;
}

void bwf_rrl_free(struct bwf_rrl *r)
{
	if (r == NULL)
		return;
	bw_rrl_free(r->table);
	free(r->src);
	free(r);
}

int bwf_rrl_account(struct bwf_rrl *r, size_t i)
{
	const struct bwf_rrl_src *s = &r->src[i % r->nkeys];
	struct bw_rrl_key k = {
		.addr = s->addr, .v6 = false, .cls = BW_RRL_RESPONSE,
		.qtype = BW_TYPE_A, .name_hash = s->name_hash,
	};
	return (int)bw_rrl_account(r->table, &r->conf, &k, 1, 1000000 + i / 1000);
}

/* ---- DNS cookies. ---- */

#define COOKIE_CLIENTS 1024
#define COOKIE_NOW     1700000000u

struct bwf_cookie_client {
	uint8_t client[BW_COOKIE_CLIENT_LEN];
	uint8_t v4[4], v6[16];
	uint8_t server[3][BW_COOKIE_SERVER_LEN];   /* By enum bwf_cookie_case. */
};

struct bwf_cookie {
	struct bw_cookie_keys keys;
	uint8_t out[BW_COOKIE_SERVER_LEN];
	struct bwf_cookie_client cl[COOKIE_CLIENTS];
};

struct bwf_cookie *bwf_cookie_new(void)
{
	struct bwf_cookie *c = calloc(1, sizeof(*c));
	uint64_t seed = 2;

	if (c == NULL)
		return NULL;
	rnd_fill(&seed, c->keys.cur.key, 16);
	rnd_fill(&seed, c->keys.prev.key, 16);
	c->keys.has_prev = true;
	for (size_t i = 0; i < COOKIE_CLIENTS; i++) {
		struct bwf_cookie_client *k = &c->cl[i];
		rnd_fill(&seed, k->client, sizeof(k->client));
		rnd_fill(&seed, k->v4, sizeof(k->v4));
		rnd_fill(&seed, k->v6, sizeof(k->v6));
		bw_cookie_make(&c->keys.cur, k->client, k->v4, 4, COOKIE_NOW - 10,
		               k->server[BWF_COOKIE_CUR]);
		bw_cookie_make(&c->keys.prev, k->client, k->v4, 4, COOKIE_NOW - 10,
		               k->server[BWF_COOKIE_PREV]);
		memcpy(k->server[BWF_COOKIE_FORGED], k->server[BWF_COOKIE_CUR],
		       BW_COOKIE_SERVER_LEN);
		k->server[BWF_COOKIE_FORGED][BW_COOKIE_SERVER_LEN - 1] ^= 1;
	}
	return c;
}

void bwf_cookie_free(struct bwf_cookie *c)
{
	free(c);
}

uint8_t bwf_cookie_make(struct bwf_cookie *c, size_t i, bool v6)
{
	const struct bwf_cookie_client *k = &c->cl[i % COOKIE_CLIENTS];

	bw_cookie_make(&c->keys.cur, k->client, v6 ? k->v6 : k->v4, v6 ? 16 : 4,
	               COOKIE_NOW, c->out);
	return c->out[8];
}

int bwf_cookie_check(struct bwf_cookie *c, size_t i, enum bwf_cookie_case kc)
{
	const struct bwf_cookie_client *k = &c->cl[i % COOKIE_CLIENTS];

	return (int)bw_cookie_check(&c->keys, k->client, k->server[kc],
	                            BW_COOKIE_SERVER_LEN, k->v4, 4, COOKIE_NOW, NULL);
}

/* ---- Operator filters. ---- */

#define NAMES_MAX 8192

/* scripts/bench-mitigation.py's ten: they match nothing of gen-zone.py. */
static const char *const filters10[] = {
	"^[a-z0-9]{40}\\.", "\\.evil\\.example\\.$", "xn--", "^_[a-z]+\\._tcp\\.",
	"(^|\\.)ddos[0-9]+\\.", "spam-", "^[0-9]{30}", "\\.test\\.invalid\\.$",
	"^aaaa+\\.", "bad(host|name)[0-9]{5}",
};

#define NFILTERS10 (sizeof(filters10) / sizeof(filters10[0]))

/* The ten, then literals and expressions by turns; every action drop. */
static struct bw_filter_db *filters_compile(unsigned n)
{
	struct bw_filter_rule *rules = calloc(n, sizeof(*rules));
	struct bw_filter_db *db = NULL;
	char err[256];

	if (rules == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		rules[i].id = i + 1;
		rules[i].action = BW_FA_DROP;
		rules[i].literal = i >= NFILTERS10 && i % 2 == 0;
		if (i < NFILTERS10)
			snprintf(rules[i].pattern, sizeof(rules[i].pattern), "%s", filters10[i]);
		else if (rules[i].literal)
			snprintf(rules[i].pattern, sizeof(rules[i].pattern), "blocked%03u-", i);
		else
			snprintf(rules[i].pattern, sizeof(rules[i].pattern),
			         "^host%03u[a-z]{3}\\.", i);
	}
	if (bw_filter_compile(rules, n, 1, &db, err, sizeof(err)) != 0)
		fprintf(stderr, "bench: filters: %s\n", err);
	free(rules);
	return db;
}

struct bwf_name {
	uint16_t off;
	uint8_t len;
};

struct bwf_filter {
	struct bw_filter_db *db;
	size_t n;
	struct bwf_name name[2][NAMES_MAX];      /* [0] miss, [1] hit. */
	uint8_t pool[2][NAMES_MAX * 64];
	uint32_t pool_len[2];
};

/* Appends \a pre and \a lname as name f->n of pool \a h (at most 64
 * octets: the caller checks). */
static void filter_add(struct bwf_filter *f, int h, const uint8_t *pre,
                       size_t plen, const uint8_t *lname, size_t len)
{
	size_t at = f->pool_len[h];

	memcpy(f->pool[h] + at, pre, plen);
	memcpy(f->pool[h] + at + plen, lname, len);
	f->name[h][f->n].off = (uint16_t)(at / 64);
	f->name[h][f->n].len = (uint8_t)(plen + len);
	f->pool_len[h] += 64;
}

struct bwf_filter *bwf_filter_new(const struct bwb *b, unsigned nrules)
{
	struct bwf_filter *f = calloc(1, sizeof(*f));
	size_t nq = bwb_count(b, BWB_ALL), len;

	if (f == NULL || (f->db = filters_compile(nrules)) == NULL) {
		free(f);
		return NULL;
	}
	for (size_t i = 0; i < nq && f->n < NAMES_MAX; i++) {
		const uint8_t *lname = bwb_query_lname(b, BWB_ALL, i, &len);
		uint8_t pre[16];
		int plen = snprintf((char *)pre + 1, sizeof(pre) - 1, "ddos%zu", i % 1000);
		pre[0] = (uint8_t)plen;
		if (len + (size_t)plen + 1 > 64)
			continue;
		filter_add(f, 0, pre, 0, lname, len);
		filter_add(f, 1, pre, (size_t)plen + 1, lname, len);
		f->n++;
	}
	return f;
}

void bwf_filter_free(struct bwf_filter *f)
{
	if (f == NULL)
		return;
	bw_filter_free(f->db);
	free(f);
}

size_t bwf_filter_count(const struct bwf_filter *f)
{
	return f->n;
}

bool bwf_filter_match(struct bwf_filter *f, bool hit, size_t i)
{
	const struct bwf_name *nm = &f->name[hit][i];
	struct bw_filter_hit h;

	return bw_filter_match(f->db, 0, f->pool[hit] + (size_t)nm->off * 64,
	                       nm->len, &h);
}

/* ---- Flood sketches. ---- */

#define SK_HOT  32              /* Fewer than the counters: all hits. */
#define SK_KEYS 4096            /* Many more: every one a replacement. */

struct bwf_sketch {
	struct bw_sketch sk[2];   /* [0] misses, [1] hits. */
	uint64_t n;
	uint8_t parent[SK_KEYS][24];
	uint8_t parent_len[SK_KEYS];
	uint64_t parent_hash[SK_KEYS];
	uint8_t src[SK_KEYS][4];
};

struct bwf_sketch *bwf_sketch_new(void)
{
	struct bwf_sketch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	bw_sketch_clear(&s->sk[0]);
	bw_sketch_clear(&s->sk[1]);
	for (size_t i = 0; i < SK_KEYS; i++) {
		char text[24];
		snprintf(text, sizeof(text), "p%zu.example.", i);
		int len = bw_name_from_text(s->parent[i], text, strlen(text),
		                            (const uint8_t *)"");
		s->parent_len[i] = (uint8_t)len;
		s->parent_hash[i] = bw_hash_name(s->parent[i]);
		s->src[i][0] = 10;
		s->src[i][1] = (uint8_t)(i >> 8);
		s->src[i][2] = (uint8_t)i;
	}
	for (size_t i = 0; i < SK_HOT; i++) {
		bw_sketch_nxdomain(&s->sk[1], s->parent_hash[i], s->parent[i],
		                   s->parent_len[i], i);
		bw_sketch_query(&s->sk[1], s->src[i], false, 24, false);
	}
	return s;
}

void bwf_sketch_free(struct bwf_sketch *s)
{
	free(s);
}

void bwf_sketch_nxdomain(struct bwf_sketch *s, bool hit, size_t i)
{
	size_t k = hit ? i % SK_HOT : i % SK_KEYS;

	bw_sketch_nxdomain(&s->sk[hit], s->parent_hash[k], s->parent[k],
	                   s->parent_len[k], bw_hash_mix(++s->n));
}

void bwf_sketch_query(struct bwf_sketch *s, bool hit, size_t i)
{
	size_t k = hit ? i % SK_HOT : i % SK_KEYS;

	bw_sketch_query(&s->sk[hit], s->src[k], false, 24, (i & 3) == 0);
}

/* ---- The whole mitigation. ---- */

#define FLOOD_SOURCES 10000

struct bwf_flood {
	struct bw_flood_worker *w;
	struct bw_flood_policy pol;
	bool off;
	const struct bwb *b;
	struct bw_flood_req rq;
	uint64_t calls, answered;
	uint8_t src[FLOOD_SOURCES][4];
	uint8_t resp[BW_ANSWER_MAX];
};

struct bwf_flood *bwf_flood_new(const struct bwb *b, enum bwf_policy mode)
{
	struct bwf_flood *f = calloc(1, sizeof(*f));
	uint64_t seed = 3;

	if (f == NULL)
		return NULL;
	f->b = b;
	f->off = mode == BWF_POL_OFF;
	bw_flood_policy_default(&f->pol);
	rnd_fill(&seed, f->pol.keys.cur.key, 16);
	if (mode >= BWF_POL_RRL)
		rrl_conf_bench(&f->pol.rrl);
	if (mode >= BWF_POL_FILTERS && (f->pol.filters = filters_compile(NFILTERS10)) == NULL) {
		bwf_flood_free(f);
		return NULL;
	}
	f->w = bw_flood_worker_new(0, f->pol.rrl.table_size);
	if (f->w == NULL) {
		bwf_flood_free(f);
		return NULL;
	}
	rnd_fill(&seed, &f->src[0][0], sizeof(f->src));
	bw_flood_clock(&f->rq);
	return f;
}

void bwf_flood_free(struct bwf_flood *f)
{
	if (f == NULL)
		return;
	bw_filter_free((struct bw_filter_db *)f->pol.filters);
	bw_flood_worker_free(f->w);
	free(f);
}

size_t bwf_flood_answer(struct bwf_flood *f, enum bwb_kind kind, size_t i)
{
	struct bw_answer_info info;
	size_t qlen, len;
	const uint8_t *q = bwb_query(f->b, kind, i, &qlen);

	if (f->calls++ % 32 == 0)
		bw_flood_clock(&f->rq);
	f->rq.addr = f->src[i % FLOOD_SOURCES];
	len = bw_flood_answer(f->w, f->off ? NULL : &f->pol, bwb_zoneset(f->b),
	                      bwb_conf(f->b), &f->rq, q, qlen, f->resp,
	                      sizeof(f->resp), 0, &info);
	f->answered += len != 0;
	return len;
}

double bwf_flood_answered(const struct bwf_flood *f)
{
	return f->calls ? (double)f->answered / (double)f->calls : 0;
}
