/*  bulwark — the answer engine: query bytes in, response bytes out.
 *
 *  Transport-agnostic and allocation-free: the same function serves the
 *  kernel-socket workers, the DPDK workers and TCP.
 */
#ifndef BULWARK_ANSWER_H
#define BULWARK_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bw_zoneset;
struct bw_table;

/*! Settings of the engine; immutable while workers use them. */
struct bw_answer_conf {
	uint16_t udp_max;          /*!< Our EDNS UDP payload limit (1232). */
	uint16_t nsid_len;         /*!< 0: no NSID. */
	const uint8_t *nsid;       /*!< NSID payload, answered on request. */
	const char *version_bind;  /*!< CH TXT version.bind; NULL: REFUSED. */
	const char *id_server;     /*!< CH TXT id.server / hostname.bind;
	                                NULL: REFUSED. */
	uint16_t tcp_keepalive;    /*!< edns-tcp-keepalive (RFC 7828) TIMEOUT
	                                in tenths of a second, sent over TCP
	                                to a query that carries the option;
	                                0: never sent. */
};

/*! What kind of response was built (for statistics and rate limiting). */
enum bw_answer_kind {
	BW_ANS_DROP = 0,     /*!< Nothing to send. */
	BW_ANS_POSITIVE,     /*!< Answer section with data (also CNAME). */
	BW_ANS_REFERRAL,
	BW_ANS_NODATA,
	BW_ANS_NXDOMAIN,
	BW_ANS_REFUSED,
	BW_ANS_ERROR,        /*!< FORMERR, NOTIMP, BADVERS, SERVFAIL. */
};

struct bw_answer_info {
	enum bw_answer_kind kind;
	uint8_t rcode;             /*!< Extended rcode's low 4 bits + upper. */
	bool tc;
	bool edns;
	bool do_bit;
	uint16_t qtype;
	bool keepalive;            /*!< The query carried an empty
	                                edns-tcp-keepalive option (also over
	                                UDP, where it is ignored). */
	const struct bw_table *zone;  /*!< Zone answered from, or NULL. */
};

/*! The query came over TCP: 64 KiB limit, edns-tcp-keepalive answered; a
 *  keepalive option with a TIMEOUT in it (RFC 7828 §3.2.1: clients send it
 *  empty) is FORMERR.  Over UDP the option is ignored (RFC 7828 §3). */
#define BW_ANSWER_TCP 0x1u

/*! Largest response the engine builds (TCP). */
#define BW_ANSWER_MAX 65535

/*!
 * \brief Builds the response to one query.
 *
 * \param zs     Zones to answer from (an RCU-protected snapshot).
 * \param conf   Engine settings.
 * \param q      Query message.
 * \param qlen   Its length.
 * \param resp   Output buffer; may not overlap \a q.
 * \param cap    Its size; UDP needs 65535 at most, TCP 65535.
 * \param flags  BW_ANSWER_TCP or 0.
 * \param info   Filled with what was answered; may be NULL.
 * \return Response length, or 0 when the query is to be dropped.
 */
size_t bw_answer(const struct bw_zoneset *zs, const struct bw_answer_conf *conf,
                 const uint8_t *q, size_t qlen, uint8_t *resp, size_t cap,
                 unsigned flags, struct bw_answer_info *info);

/*! Names bw_answer_prefetch() looks at: the query's and its suffixes. */
#define BW_ANSWER_HINT_NAMES 3

/*! What bw_answer_prefetch() found, for bw_answer_prefetch_nodes(). */
struct bw_answer_hint {
	const struct bw_table *table;   /*!< NULL: nothing to prefetch. */
	uint64_t hash[BW_ANSWER_HINT_NAMES];
	unsigned n;
};

/*!
 * \brief Starts loading into the cache the table buckets that bw_answer()
 *        reads first for this query: those of its name and of the
 *        suffixes that an NXDOMAIN or a referral walks through.  Sets
 *        \a hint->table to NULL for a query it cannot parse or that no
 *        zone holds.
 *
 * For callers with a burst of queries: prefetch the buckets of them all,
 * then their nodes (bw_answer_prefetch_nodes()), then answer them, so that
 * the cache misses of the burst overlap.
 */
void bw_answer_prefetch(const struct bw_zoneset *zs, const uint8_t *q,
                        size_t qlen, struct bw_answer_hint *hint);

/*!
 * \brief Starts loading the nodes that the buckets of \a hint point at
 *        (reads the buckets: call it after they had time to arrive).
 */
void bw_answer_prefetch_nodes(const struct bw_answer_hint *hint);

/*!
 * \brief Default settings: udp_max 1232, no NSID, CH queries REFUSED, no
 *        TCP keepalive.
 */
void bw_answer_conf_default(struct bw_answer_conf *conf);

#endif /* BULWARK_ANSWER_H */
