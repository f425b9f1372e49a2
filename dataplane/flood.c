/*  bulwark — the flood mitigation fast path (see bulwark/flood.h).
 *
 *  Order per query: operator filters (before the answer, so that a drop
 *  costs no lookup), the answer with its COOKIE option, the sketches, the
 *  action for a parent under attack, response-rate limiting.  A client
 *  with a valid server cookie, or over TCP, is exempt from the last two.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "bulwark/flood.h"
#include "bulwark/wire.h"
#include "cookie.h"
#include "filter.h"
#include "rrl.h"
#include "sketch.h"

const char *const bw_flood_action_names[BW_FLOOD_ACTIONS] = {
	[BW_FLOOD_NONE] = "none", [BW_FLOOD_RATE_LIMIT] = "rate-limit",
	[BW_FLOOD_REQUIRE_COOKIE] = "require-cookie", [BW_FLOOD_DROP] = "drop",
};

const char *const bw_flood_counter_names[BW_FC_MAX] = {
	[BW_FC_COOKIE_CLIENT] = "cookie_client",
	[BW_FC_COOKIE_VALID] = "cookie_valid",
	[BW_FC_COOKIE_BAD] = "cookie_bad",
	[BW_FC_COOKIE_MALFORMED] = "cookie_malformed",
	[BW_FC_EXEMPT] = "rrl_exempt",
	[BW_FC_RRL_PASS] = "rrl_pass",
	[BW_FC_RRL_DROP] = "rrl_drop",
	[BW_FC_RRL_SLIP] = "rrl_slip",
	[BW_FC_RRL_SLIP_COOKIE] = "rrl_slip_badcookie",
	[BW_FC_RRL_LOG_ONLY] = "rrl_log_only",
	[BW_FC_FILTER_LOG] = "filter_log_only",
	[BW_FC_FILTER_RATE_PASS] = "filter_rate_pass",
	[BW_FC_FILTER_RATE_DROP] = "filter_rate_drop",
	[BW_FC_FILTER_TRUNCATE] = "filter_truncate",
	[BW_FC_FILTER_REFUSE] = "filter_refuse",
	[BW_FC_FILTER_DROP] = "filter_drop",
	[BW_FC_ATTACK_SEEN] = "attack_nxdomain",
	[BW_FC_ATTACK_EXEMPT] = "attack_exempt",
	[BW_FC_ATTACK_PASS] = "attack_pass",
	[BW_FC_ATTACK_DROP] = "attack_drop",
	[BW_FC_ATTACK_TRUNCATE] = "attack_truncate",
	[BW_FC_ATTACK_BADCOOKIE] = "attack_badcookie",
};

/* ---- The policy. ---- */

static struct bw_flood_policy *flood_current;

void bw_flood_policy_default(struct bw_flood_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->workers = 1;
	bw_rrl_conf_default(&p->rrl);
	p->cookies = true;
	p->filter_rate = 100;
	p->attack_action = BW_FLOOD_RATE_LIMIT;
	p->attack_rate = 100;
	p->interval_ms = 250;
	p->detect = true;
}

struct bw_flood_policy *bw_flood_policy_publish(struct bw_flood_policy *p)
{
	struct bw_flood_policy *old = rcu_xchg_pointer(&flood_current, p);

	synchronize_rcu();
	return old;
}

const struct bw_flood_policy *bw_flood_policy_current(void)
{
	return rcu_dereference(flood_current);
}

void bw_flood_clock(struct bw_flood_req *rq)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
	clock_gettime(CLOCK_REALTIME_COARSE, &real);
	rq->now_ms = (uint64_t)mono.tv_sec * 1000 + (uint64_t)mono.tv_nsec / 1000000;
	rq->now_s = (uint32_t)real.tv_sec;
}

/* ---- Worker state. ---- */

/* Cache-line aligned memory (C11 wants the size a multiple of it). */
static void *line_alloc(size_t size)
{
	return aligned_alloc(64, (size + 63) & ~(size_t)63);
}

struct bw_flood_worker *bw_flood_worker_new(unsigned id, unsigned rrl_entries)
{
	struct bw_flood_worker *w = line_alloc(sizeof(*w));

	if (w == NULL)
		return NULL;
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->rrl = bw_rrl_new(rrl_entries);
	w->sk = line_alloc(sizeof(*w->sk));
	if (w->rrl == NULL || w->sk == NULL) {
		bw_flood_worker_free(w);
		return NULL;
	}
	bw_sketch_ring_init(w->sk);
	return w;
}

void bw_flood_worker_free(struct bw_flood_worker *w)
{
	if (w == NULL)
		return;
	bw_rrl_free(w->rrl);
	free(w->sk);
	free(w);
}

/* Counters are written by their worker only (see bw_stat_add in udp.h). */
static inline void count(struct bw_flood_worker *w, enum bw_flood_counter c)
{
	__atomic_store_n(&w->st.c[c], __atomic_load_n(&w->st.c[c], __ATOMIC_RELAXED) + 1,
	                 __ATOMIC_RELAXED);
}

/* Takes one response out of a bucket refilled at rate / workers per
 * second, holding at most one second's worth (and at least one). */
static bool bucket_take(struct bw_flood_bucket *b, uint64_t generation,
                        unsigned rate, unsigned workers, uint64_t now_ms)
{
	int64_t per_s = (int64_t)rate * 1000 / (workers ? workers : 1);
	int64_t cap = per_s > 1000 ? per_s : 1000;

	if (b->generation != generation) {
		b->generation = generation;
		b->milli = cap;
	} else if (now_ms > b->last_ms) {
		b->milli += (int64_t)(now_ms - b->last_ms) * per_s / 1000;
		if (b->milli > cap)
			b->milli = cap;
	}
	b->last_ms = now_ms;
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

/* Keeps the query name for the sampled log (the reader is behind head). */
static void sample_name(struct bw_flood_worker *w, const struct bw_flood_policy *pol,
                        const uint8_t *name, size_t len)
{
	struct bw_flood_sample *s;

	if (pol->sample == 0 || ++w->sample_seen % pol->sample != 0)
		return;
	s = &w->samples[w->samples_head % BW_FLOOD_SAMPLES];
	for (size_t i = 0; i < len; i++)
		s->name[i] = bw_lower(name[i]);
	s->len = (uint8_t)len;
	/* Release: the name is written before the reader sees the slot. */
	__atomic_store_n(&w->samples_head, w->samples_head + 1, __ATOMIC_RELEASE);
}

/* ---- Filters. ---- */

/* Applies the operator's filters; returns false when the query is not to
 * be answered, else adds BW_ANSWER_* flags to *flags. */
static bool filter_stage(struct bw_flood_worker *w, const struct bw_flood_policy *pol,
                         const struct bw_flood_req *rq, const uint8_t *q,
                         size_t qlen, unsigned *flags)
{
	uint8_t lname[BW_NAME_MAXLEN];
	struct bw_filter_hit hit;
	size_t len = bw_answer_qname(q, qlen, lname);

	if (len == 0 || !bw_filter_match(pol->filters, w->id, lname, len, &hit))
		return true;
	sample_name(w, pol, lname, len);
	switch (hit.action) {
	case BW_FA_DROP:
		count(w, BW_FC_FILTER_DROP);
		return false;
	case BW_FA_REFUSE:
		count(w, BW_FC_FILTER_REFUSE);
		*flags |= BW_ANSWER_REFUSE;
		return true;
	case BW_FA_TRUNCATE:
		count(w, BW_FC_FILTER_TRUNCATE);
		*flags |= BW_ANSWER_SLIP;
		return true;
	case BW_FA_RATE_LIMIT:
		if (hit.index < BW_FILTER_RULES_MAX &&
		    !bucket_take(&w->filter_bucket[hit.index], pol->generation,
		                 pol->filter_rate, pol->workers, rq->now_ms)) {
			count(w, BW_FC_FILTER_RATE_DROP);
			return false;
		}
		count(w, BW_FC_FILTER_RATE_PASS);
		return true;
	case BW_FA_LOG_ONLY:
	case BW_FA_MAX:
		break;
	}
	count(w, BW_FC_FILTER_LOG);
	return true;
}

/* ---- Sketches. ---- */

/* Source address masked to a prefix length. */
static void prefix_of(const uint8_t *addr, bool v6, uint8_t plen, uint8_t out[16])
{
	size_t n = v6 ? 16 : 4, full = plen / 8;

	memset(out, 0, 16);
	memcpy(out, addr, full < n ? full : n);
	if (full < n && plen % 8)
		out[full] = addr[full] & (uint8_t)(0xff00 >> (plen % 8));
}

static void sketch_stage(struct bw_flood_worker *w, const struct bw_flood_policy *pol,
                         const struct bw_flood_req *rq, const uint8_t *resp,
                         const struct bw_answer_info *info)
{
	struct bw_sketch *sk = bw_sketch_ring_current(w->sk, rq->now_ms /
	                                              (pol->interval_ms ? pol->interval_ms : 250));
	uint8_t plen = rq->v6 ? pol->rrl.ipv6_prefix : pol->rrl.ipv4_prefix;
	uint8_t pfx[16], parent[BW_NAME_MAXLEN];
	bool nx = info->kind == BW_ANS_NXDOMAIN;

	if (++w->source_seen % BW_SK_SOURCE_SAMPLE == 0) {
		prefix_of(rq->addr, rq->v6, plen, pfx);
		bw_sketch_query(sk, pfx, rq->v6, plen, nx);
	} else {
		sk->queries++;
		sk->nxdomain += nx;
	}
	if (!nx || info->ce_len == 0)
		return;
	for (size_t i = 0; i < info->ce_len; i++)
		parent[i] = bw_lower(resp[BW_HDR_LEN + info->ce_off + i]);
	bw_sketch_nxdomain(sk, info->name_hash, parent, info->ce_len, info->next_hash);
}

/* ---- Parents under attack. ---- */

static int attack_find(const struct bw_flood_policy *pol, uint64_t hash)
{
	unsigned lo = 0, hi = pol->nattack;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (pol->attack[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pol->nattack && pol->attack[lo].hash == hash ? (int)lo : -1;
}

/* The verdict of the attack action: 0 answer as built, BW_ANSWER_SLIP or
 * BW_ANSWER_BADCOOKIE to answer small, ~0u to drop. */
static unsigned attack_stage(struct bw_flood_worker *w, const struct bw_flood_policy *pol,
                             const struct bw_flood_req *rq, const uint8_t *resp,
                             const struct bw_answer_info *info)
{
	int i = attack_find(pol, info->name_hash);

	if (i < 0)
		return 0;
	count(w, BW_FC_ATTACK_SEEN);
	sample_name(w, pol, resp + BW_HDR_LEN, (size_t)info->ce_off + info->ce_len);
	if (rq->tcp || info->cookie == BW_COOKIE_VALID) {
		count(w, BW_FC_ATTACK_EXEMPT);
		return 0;
	}
	switch (pol->attack_action) {
	case BW_FLOOD_RATE_LIMIT:
		if (bucket_take(&w->attack_bucket[i], pol->generation, pol->attack_rate,
		                pol->workers, rq->now_ms))
			break;
		count(w, BW_FC_ATTACK_DROP);
		return ~0u;
	case BW_FLOOD_REQUIRE_COOKIE:
		if (info->cookie == BW_COOKIE_CLIENT || info->cookie == BW_COOKIE_BAD) {
			count(w, BW_FC_ATTACK_BADCOOKIE);
			return BW_ANSWER_BADCOOKIE;
		}
		count(w, BW_FC_ATTACK_TRUNCATE);
		return BW_ANSWER_SLIP;
	case BW_FLOOD_DROP:
		count(w, BW_FC_ATTACK_DROP);
		return ~0u;
	case BW_FLOOD_NONE:
	case BW_FLOOD_ACTIONS:
		break;
	}
	count(w, BW_FC_ATTACK_PASS);
	return 0;
}

/* ---- Response-rate limiting. ---- */

static enum bw_rrl_class rrl_class(enum bw_answer_kind kind)
{
	switch (kind) {
	case BW_ANS_POSITIVE:
		return BW_RRL_RESPONSE;
	case BW_ANS_REFERRAL:
		return BW_RRL_REFERRAL;
	case BW_ANS_NODATA:
		return BW_RRL_NODATA;
	case BW_ANS_NXDOMAIN:
		return BW_RRL_NXDOMAIN;
	case BW_ANS_DROP:
	case BW_ANS_REFUSED:
	case BW_ANS_ERROR:
		break;
	}
	return BW_RRL_ERROR;
}

/* Same verdict encoding as attack_stage(). */
static unsigned rrl_stage(struct bw_flood_worker *w, const struct bw_flood_policy *pol,
                          const struct bw_flood_req *rq,
                          const struct bw_answer_info *info)
{
	struct bw_rrl_key k = {
		.addr = rq->addr, .v6 = rq->v6, .cls = rrl_class(info->kind),
		.qtype = info->qtype, .name_hash = info->name_hash,
	};
	enum bw_rrl_verdict v;

	if (rq->tcp || info->cookie == BW_COOKIE_VALID ||
	    bw_prefix_match(pol->rrl.exempt, pol->rrl.nexempt, rq->addr, rq->v6)) {
		count(w, BW_FC_EXEMPT);
		return 0;
	}
	v = bw_rrl_account(w->rrl, &pol->rrl, &k, pol->workers, rq->now_ms);
	if (v == BW_RRL_OK) {
		count(w, BW_FC_RRL_PASS);
		return 0;
	}
	if (pol->rrl.log_only) {
		count(w, BW_FC_RRL_LOG_ONLY);
		return 0;
	}
	if (v == BW_RRL_DROP) {
		count(w, BW_FC_RRL_DROP);
		return ~0u;
	}
	if (info->cookie == BW_COOKIE_CLIENT || info->cookie == BW_COOKIE_BAD) {
		count(w, BW_FC_RRL_SLIP_COOKIE);
		return BW_ANSWER_BADCOOKIE;
	}
	count(w, BW_FC_RRL_SLIP);
	return BW_ANSWER_SLIP;
}

static void cookie_count(struct bw_flood_worker *w, const struct bw_answer_info *info)
{
	static const enum bw_flood_counter by_state[] = {
		[BW_COOKIE_CLIENT] = BW_FC_COOKIE_CLIENT,
		[BW_COOKIE_BAD] = BW_FC_COOKIE_BAD,
		[BW_COOKIE_VALID] = BW_FC_COOKIE_VALID,
		[BW_COOKIE_MALFORMED] = BW_FC_COOKIE_MALFORMED,
	};

	if (info->cookie != BW_COOKIE_NONE)
		count(w, by_state[info->cookie]);
}

size_t bw_flood_answer(struct bw_flood_worker *w, const struct bw_flood_policy *pol,
                       const struct bw_zoneset *zs,
                       const struct bw_answer_conf *conf,
                       const struct bw_flood_req *rq, const uint8_t *q,
                       size_t qlen, uint8_t *resp, size_t cap, unsigned flags,
                       struct bw_answer_info *info)
{
	struct bw_answer_client cl;
	unsigned verdict = 0;
	size_t len;

	if (pol == NULL)
		return bw_answer(zs, conf, q, qlen, resp, cap, flags, info);
	if (pol->filters != NULL && !filter_stage(w, pol, rq, q, qlen, &flags)) {
		info->kind = BW_ANS_DROP;
		info->mitigated = true;
		return 0;
	}
	cl.addr = rq->addr;
	cl.v6 = rq->v6;
	cl.keys = pol->cookies ? &pol->keys : NULL;
	cl.now = rq->now_s;
	len = bw_answer_from(zs, conf, &cl, q, qlen, resp, cap, flags, info);
	if (len == 0 || (flags & ~BW_ANSWER_TCP) != 0)
		return len;     /* Nothing, or already what a filter asked. */
	cookie_count(w, info);
	if (pol->detect)
		sketch_stage(w, pol, rq, resp, info);
	if (info->kind == BW_ANS_NXDOMAIN && pol->nattack > 0)
		verdict = attack_stage(w, pol, rq, resp, info);
	if (verdict == 0 && pol->rrl.enabled)
		verdict = rrl_stage(w, pol, rq, info);
	if (verdict == 0)
		return len;
	if (verdict == ~0u) {
		info->kind = BW_ANS_DROP;
		info->mitigated = true;
		return 0;
	}
	return bw_answer_from(zs, conf, &cl, q, qlen, resp, cap, flags | verdict, info);
}
