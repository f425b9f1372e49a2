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

/*! What a query's COOKIE option held (RFC 7873). */
enum bw_cookie_state {
	BW_COOKIE_NONE = 0,    /*!< No option, or cookies not answered. */
	BW_COOKIE_CLIENT,      /*!< A client cookie only. */
	BW_COOKIE_BAD,         /*!< A server cookie that does not verify
	                            (wrong hash, version, age or length). */
	BW_COOKIE_VALID,       /*!< A server cookie of ours, in date. */
	BW_COOKIE_MALFORMED,   /*!< Of a length RFC 7873 §4 does not allow:
	                            the answer is FORMERR. */
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
	enum bw_cookie_state cookie;  /*!< With a client (bw_answer_from()). */
	uint64_t name_hash;        /*!< Identity of the answer for rate
	                                limiting: the hash of the closest
	                                encloser for an NXDOMAIN, of the
	                                delegation point for a referral, of
	                                the query name otherwise. */
	uint64_t next_hash;        /*!< NXDOMAIN: hash of the next closer
	                                name (the label below the encloser). */
	uint8_t ce_off;            /*!< NXDOMAIN: the closest encloser is the
	                                question name's suffix at response
	                                offset 12 + ce_off ... */
	uint8_t ce_len;            /*!< ... of ce_len octets (0: not known,
	                                e.g. at the end of a CNAME chain). */
	bool mitigated;            /*!< Nothing sent because the flood
	                                mitigation said so (bw_flood_answer). */
};

/*! Where a query came from, for DNS cookies (RFC 7873, RFC 9018). */
struct bw_cookie_keys;
struct bw_answer_client {
	const uint8_t *addr;       /*!< Source address, 4 or 16 octets. */
	bool v6;
	const struct bw_cookie_keys *keys;  /*!< NULL: COOKIE options are
	                                ignored (answer-cookie no). */
	uint32_t now;              /*!< Wall-clock seconds. */
};

/*! The query came over TCP: 64 KiB limit, edns-tcp-keepalive answered; a
 *  keepalive option with a TIMEOUT in it (RFC 7828 §3.2.1: clients send it
 *  empty) is FORMERR.  Over UDP the option is ignored (RFC 7828 §3). */
#define BW_ANSWER_TCP 0x1u

/*! Instead of the answer: the question with TC=1 and no records (a
 *  rate-limit slip), BADCOOKIE (RFC 7873 §5.2.3; TC=1 without EDNS), or
 *  REFUSED.  The COOKIE option is answered as usual. */
#define BW_ANSWER_SLIP      0x2u
#define BW_ANSWER_BADCOOKIE 0x4u
#define BW_ANSWER_REFUSE    0x8u

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

/*!
 * \brief bw_answer() for a query from \a cl: COOKIE options are checked
 *        and answered with a fresh server cookie (info->cookie says what
 *        came), a COOKIE of a bad length is FORMERR (RFC 7873 §5.2.2).
 *        \a flags may add BW_ANSWER_SLIP, BW_ANSWER_BADCOOKIE or
 *        BW_ANSWER_REFUSE.  \a cl NULL: as bw_answer().
 */
size_t bw_answer_from(const struct bw_zoneset *zs,
                      const struct bw_answer_conf *conf,
                      const struct bw_answer_client *cl, const uint8_t *q,
                      size_t qlen, uint8_t *resp, size_t cap, unsigned flags,
                      struct bw_answer_info *info);

/*!
 * \brief Copies the question name of a query in lowercase wire form.
 * \param lname  At least 255 octets.
 * \return Its length, or 0 when the query has no parsable question.
 */
size_t bw_answer_qname(const uint8_t *q, size_t qlen, uint8_t *lname);

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
