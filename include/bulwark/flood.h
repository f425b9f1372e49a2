/*  bulwark — random-subdomain flood mitigation: the settings and the
 *  per-worker fast path shared by the control plane and the workers.
 *
 *  A worker answers a query with bw_flood_answer() instead of bw_answer():
 *  operator filters (Hyperscan), DNS cookies (RFC 7873/9018), response-rate
 *  limiting (BIND's rate-limit semantics) and the actions for parents under
 *  attack are applied around the answer engine, and the worker's sketches
 *  are fed.  Everything a worker reads is either its own struct
 *  bw_flood_worker or an immutable struct bw_flood_policy published with
 *  RCU (bw_flood_policy_publish()); the control plane merges the sketches
 *  (bw_sketch_ring_snapshot()) and publishes new policies.  No locks, no
 *  allocation, no system calls on the fast path.  docs/floods.md is the
 *  operator's reference.
 */
#ifndef BULWARK_FLOOD_H
#define BULWARK_FLOOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/answer.h"

struct bw_zoneset;
struct bw_filter_db;
struct bw_rrl;

/* ---- Addresses and prefixes. ---- */

/*! An IPv4 or IPv6 prefix (exempt-clients, source prefixes). */
struct bw_prefix {
	uint8_t addr[16];         /*!< IPv4 in the first 4 octets. */
	uint8_t len;              /*!< Prefix length in bits. */
	bool v6;
};

/*!
 * \brief Whether \a addr (4 or 16 octets after \a v6) is inside one of
 *        \a n prefixes.
 */
bool bw_prefix_match(const struct bw_prefix *list, size_t n,
                     const uint8_t *addr, bool v6);

/* ---- Response-rate limiting (BIND's `rate-limit { ... };`). ---- */

/*! Response classes, each with its own limit (BIND's names). */
enum bw_rrl_class {
	BW_RRL_RESPONSE = 0,  /*!< Positive answers: responses-per-second. */
	BW_RRL_NXDOMAIN,      /*!< nxdomains-per-second. */
	BW_RRL_REFERRAL,      /*!< referrals-per-second. */
	BW_RRL_NODATA,        /*!< nodata-per-second. */
	BW_RRL_ERROR,         /*!< errors-per-second (REFUSED, FORMERR, ...). */
	BW_RRL_ALL,           /*!< all-per-second: every response together. */
	BW_RRL_CLASSES
};

extern const char *const bw_rrl_class_names[BW_RRL_CLASSES];

/*! Most exempt-clients prefixes. */
#define BW_RRL_EXEMPT_MAX 64

struct bw_rrl_conf {
	bool enabled;             /*!< A rate-limit block is present. */
	unsigned rate[BW_RRL_CLASSES]; /*!< Responses per second for the
	                               whole server, 0: no limit (BIND
	                               defaults: the class limits default to
	                               responses-per-second; all-per-second
	                               to 0). */
	unsigned window;          /*!< Seconds, 1..3600; 15 unless set. */
	unsigned slip;            /*!< 0..10; 2 unless set. */
	uint8_t ipv4_prefix;      /*!< 0..32; 24 unless set. */
	uint8_t ipv6_prefix;      /*!< 0..128; 56 unless set. */
	unsigned qps_scale;       /*!< 0: off. */
	bool log_only;            /*!< Count and log, never limit. */
	unsigned table_size;      /*!< Entries per worker (max-table-size);
	                               20000 unless set, rounded up to a
	                               power of two of 4-entry buckets. */
	size_t nexempt;
	struct bw_prefix exempt[BW_RRL_EXEMPT_MAX];
};

/*! \brief BIND's defaults, disabled. */
void bw_rrl_conf_default(struct bw_rrl_conf *c);

/* ---- DNS cookies (RFC 7873, RFC 9018). ---- */

/* enum bw_cookie_state is in answer.h: the engine reports it. */

/*! A SipHash-2-4 secret (BIND's cookie-secret, 128 bits). */
struct bw_cookie_secret {
	uint8_t key[16];
};

/*! Secrets: server cookies are made with cur and verified against cur
 *  and, when set, prev (for rollover across a fleet). */
struct bw_cookie_keys {
	struct bw_cookie_secret cur, prev;
	bool has_prev;
};

/* ---- Operator filters (Hyperscan). ---- */

enum bw_filter_action {
	BW_FA_LOG_ONLY = 0,   /*!< Count (and sample), answer as usual. */
	BW_FA_RATE_LIMIT,     /*!< Answer within the rule's rate. */
	BW_FA_TRUNCATE,       /*!< Answer TC=1 with the question only. */
	BW_FA_REFUSE,         /*!< Answer REFUSED. */
	BW_FA_DROP,           /*!< No answer. */
	BW_FA_MAX
};

extern const char *const bw_filter_action_names[BW_FA_MAX];

/* ---- Parents under attack. ---- */

/*! What the workers do with NXDOMAIN answers under a parent that the
 *  detector flagged (`attack-action` in flood-mitigation). */
enum bw_flood_action {
	BW_FLOOD_NONE = 0,        /*!< Log and report only. */
	BW_FLOOD_RATE_LIMIT,      /*!< attack-nxdomains-per-second for the
	                               parent, the rest dropped (never
	                               slipped: a slip is a response too). */
	BW_FLOOD_REQUIRE_COOKIE,  /*!< Without a valid cookie: BADCOOKIE to
	                               a client cookie, TC=1 otherwise. */
	BW_FLOOD_DROP,            /*!< Without a valid cookie: no answer. */
	BW_FLOOD_ACTIONS
};

extern const char *const bw_flood_action_names[BW_FLOOD_ACTIONS];

/*! Most parents flagged at once. */
#define BW_FLOOD_ATTACK_MAX 64

struct bw_flood_attack {
	uint64_t hash;            /*!< bw_hash of the lowercase wire name. */
	uint8_t name[255];        /*!< Lowercase wire name. */
	uint8_t name_len;
};

/* ---- What the workers read: one immutable policy. ---- */

struct bw_flood_policy {
	uint64_t generation;      /*!< Grows with every publication. */
	unsigned workers;         /*!< Rates are shared among this many
	                               workers (each gets rate / workers). */
	struct bw_rrl_conf rrl;
	bool cookies;             /*!< answer-cookie: COOKIE options are
	                               answered and verified. */
	struct bw_cookie_keys keys;
	const struct bw_filter_db *filters;  /*!< NULL: no filters. */
	unsigned filter_rate;     /*!< Responses per second of one
	                               rate-limit filter rule, server-wide. */
	enum bw_flood_action attack_action;
	unsigned attack_rate;     /*!< attack-nxdomains-per-second of one
	                               flagged parent, server-wide. */
	unsigned sample;          /*!< Keep one in this many flood names for
	                               the sampled log; 0: none. */
	unsigned interval_ms;     /*!< Sketch interval (100..1000). */
	bool detect;              /*!< Feed the sketches (detection on). */
	unsigned nattack;         /*!< Sorted by hash. */
	struct bw_flood_attack attack[BW_FLOOD_ATTACK_MAX];
};

/*! \brief A policy that does nothing but answer (no RRL, cookies on
 *         with a zero secret, no filters, no attacks). */
void bw_flood_policy_default(struct bw_flood_policy *p);

/*!
 * \brief Publishes \a p (RCU: rcu_xchg_pointer + synchronize_rcu) and
 *        returns the previous policy, which nobody reads any longer.
 */
struct bw_flood_policy *bw_flood_policy_publish(struct bw_flood_policy *p);

/*! \brief The current policy; QSBR read side (between quiescent states);
 *         NULL before the first publication: queries are answered plain. */
const struct bw_flood_policy *bw_flood_policy_current(void);

/* ---- Counters. ---- */

/*! What the mitigation did, per worker (written by it only). */
enum bw_flood_counter {
	BW_FC_COOKIE_CLIENT = 0,  /*!< Queries with a client cookie only. */
	BW_FC_COOKIE_VALID,       /*!< Queries with a valid server cookie. */
	BW_FC_COOKIE_BAD,         /*!< Server cookie did not verify. */
	BW_FC_COOKIE_MALFORMED,   /*!< COOKIE of a bad length: FORMERR. */
	BW_FC_EXEMPT,             /*!< Rate limiting skipped: cookie, TCP or
	                               exempt-clients. */
	BW_FC_RRL_PASS,           /*!< Checked and answered. */
	BW_FC_RRL_DROP,           /*!< Over the limit: dropped. */
	BW_FC_RRL_SLIP,           /*!< Over the limit: slipped (TC=1). */
	BW_FC_RRL_SLIP_COOKIE,    /*!< Over the limit: slipped as BADCOOKIE. */
	BW_FC_RRL_LOG_ONLY,       /*!< Would have been limited (log-only). */
	BW_FC_FILTER_LOG,         /*!< Filter hits by action... */
	BW_FC_FILTER_RATE_PASS,
	BW_FC_FILTER_RATE_DROP,
	BW_FC_FILTER_TRUNCATE,
	BW_FC_FILTER_REFUSE,
	BW_FC_FILTER_DROP,
	BW_FC_ATTACK_SEEN,        /*!< NXDOMAIN under a flagged parent. */
	BW_FC_ATTACK_EXEMPT,      /*!< ... from a client with a valid
	                               cookie or over TCP: answered. */
	BW_FC_ATTACK_PASS,        /*!< ... answered within attack rate. */
	BW_FC_ATTACK_DROP,        /*!< ... dropped. */
	BW_FC_ATTACK_TRUNCATE,    /*!< ... answered TC=1. */
	BW_FC_ATTACK_BADCOOKIE,   /*!< ... answered BADCOOKIE. */
	BW_FC_MAX
};

extern const char *const bw_flood_counter_names[BW_FC_MAX];

struct bw_flood_stats {
	uint64_t c[BW_FC_MAX];
} __attribute__((aligned(64)));

/* ---- The fast path. ---- */

/*! Per-filter-rule token buckets a worker keeps. */
#define BW_FILTER_RULES_MAX 256
/*! Attack names a worker's sample ring holds. */
#define BW_FLOOD_SAMPLES 64

/*! A token bucket in thousandths of a response. */
struct bw_flood_bucket {
	int64_t milli;
	uint64_t last_ms;
	uint64_t generation;      /*!< Policy it was filled under. */
};

/*! A sampled flood query name (lowercase wire form). */
struct bw_flood_sample {
	uint8_t name[255];
	uint8_t len;
};

struct bw_sketch_ring;

/*! One worker's mitigation state, allocated once (bw_flood_worker_new). */
struct bw_flood_worker {
	struct bw_flood_stats st;
	unsigned id;
	struct bw_rrl *rrl;
	struct bw_sketch_ring *sk;
	uint64_t sample_seen;
	uint64_t source_seen;     /*!< Queries, for BW_SK_SOURCE_SAMPLE. */
	struct bw_flood_bucket attack_bucket[BW_FLOOD_ATTACK_MAX];
	struct bw_flood_bucket filter_bucket[BW_FILTER_RULES_MAX];
	/* Sampled names: the worker writes at samples_head (release), the
	 * control plane reads behind it. */
	uint64_t samples_head;
	struct bw_flood_sample samples[BW_FLOOD_SAMPLES];
};

/*!
 * \brief Allocates a worker's state: the RRL table (\a rrl_entries), the
 *        sketches, the counters.  Called before the worker runs.
 * \return NULL when out of memory.
 */
struct bw_flood_worker *bw_flood_worker_new(unsigned id, unsigned rrl_entries);

/*! \brief Frees what bw_flood_worker_new() allocated (NULL accepted). */
void bw_flood_worker_free(struct bw_flood_worker *w);

/*! Where a query came from. */
struct bw_flood_req {
	const uint8_t *addr;      /*!< Source address: 4 or 16 octets. */
	bool v6;
	bool tcp;                 /*!< TCP: exempt from RRL and attacks. */
	uint64_t now_ms;          /*!< Monotonic milliseconds (coarse). */
	uint32_t now_s;           /*!< Wall-clock seconds (cookie times). */
};

/*!
 * \brief Fills the times of \a rq from the coarse clocks (vDSO reads,
 *        no system call): once per burst.
 */
void bw_flood_clock(struct bw_flood_req *rq);

/*!
 * \brief bw_answer() with the flood mitigation around it.
 *
 * With \a pol NULL it is bw_answer() with cookies ignored.  Otherwise:
 * filters first (a drop costs no answer), then the answer (with a COOKIE
 * option answered from \a pol's keys), then the sketches, the attack
 * actions and response-rate limiting.  Counters in \a w move.
 * \return Response length, or 0 when nothing is to be sent.
 */
size_t bw_flood_answer(struct bw_flood_worker *w, const struct bw_flood_policy *pol,
                       const struct bw_zoneset *zs,
                       const struct bw_answer_conf *conf,
                       const struct bw_flood_req *rq, const uint8_t *q,
                       size_t qlen, uint8_t *resp, size_t cap, unsigned flags,
                       struct bw_answer_info *info);

#endif /* BULWARK_FLOOD_H */
