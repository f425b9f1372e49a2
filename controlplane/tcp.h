/*  bulwark — DNS over TCP (RFC 7766) on kernel sockets.
 *
 *  One event-loop thread (epoll, non-blocking sockets) accepts on every
 *  listen address, reads 2-byte length-prefixed queries (pipelined or
 *  split over segments), answers each with bw_answer(BW_ANSWER_TCP) and
 *  queues the responses per connection.  The loop is a liburcu QSBR reader
 *  of the set published with bw_zoneset_publish().
 *
 *  Limits: connections in total (the one idle longest makes room), per
 *  client address (IPv4: the address, IPv6: its /64; one more is closed
 *  at once), and an idle timeout per connection, longer once the client
 *  has sent an edns-tcp-keepalive option (RFC 7828).
 */
#ifndef BULWARK_CP_TCP_H
#define BULWARK_CP_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "bulwark/answer.h"
#include "conf.h"
#include "udp.h"

/*! Output queued on one connection before it is read no further. */
#define BW_TCP_OUT_MAX (256u << 10)

/*! Counters of the TCP loop (written by the loop only). */
struct bw_tcp_stats {
	uint64_t accepted;              /*!< Connections accepted. */
	uint64_t closed_idle;           /*!< Closed after the idle timeout. */
	uint64_t evicted;               /*!< Closed to make room (tcp-clients). */
	uint64_t refused_per_client;    /*!< Closed right after accept(): the
	                                     client had per_client open (not
	                                     counted in accepted). */
	uint64_t closed_error;          /*!< Closed on a socket error, a
	                                     message shorter than a header or
	                                     a shortage of memory. */
	uint64_t rx;                    /*!< Queries received. */
	uint64_t tx;                    /*!< Responses queued. */
	uint64_t dropped;               /*!< Queries not answered. */
	uint64_t rcode[BW_UDP_RCODES];  /*!< Responses built, by rcode. */
};

struct bw_tcp_conf {
	const struct bw_conf_addr *addrs;  /*!< Addresses to listen on. */
	size_t naddrs;
	unsigned max_conns;                /*!< Open connections, at least 1. */
	unsigned per_client;               /*!< Open connections per client
	                                        (IPv4 address, IPv6 /64), at
	                                        least 1. */
	unsigned idle_ms;                  /*!< A connection that receives no
	                                        complete query and takes no
	                                        response bytes for this long
	                                        is closed. */
	unsigned keepalive_ms;             /*!< The same, for a connection that
	                                        has sent an edns-tcp-keepalive
	                                        option; 0: idle_ms. */
	const struct bw_answer_conf *answer;  /*!< Must outlive the loop. */
	unsigned stats_slot;               /*!< Row of the zone counters. */
	struct bw_flood_worker *flood;     /*!< Cookies, filters and sketches
	                                        (TCP is exempt from rate
	                                        limits); NULL: none. */
};

struct bw_tcp;

/*!
 * \brief Opens every listen socket, then starts the loop thread.  It
 *        inherits the caller's signal mask and answers from the set
 *        given to bw_zoneset_publish(); while that is NULL, queries are
 *        skipped and counted.
 *
 * When max_conns connections are open, a new one closes the connection
 * that has been idle longest; a new one from a client that has per_client
 * open is closed instead, and no other connection is.
 *
 * \param conf    Settings (copied).
 * \param out     Set to the running service.
 * \param err     Buffer for the reason of a failure ("ADDRESS: bind: ...").
 * \param errlen  Its size.
 * \return 0 or a negative error; nothing runs on failure.
 */
int bw_tcp_start(const struct bw_tcp_conf *conf, struct bw_tcp **out,
                 char *err, size_t errlen);

/*!
 * \brief Wakes the loop, joins it, closes every connection and listen
 *        socket and frees \a t (NULL is accepted).
 */
void bw_tcp_stop(struct bw_tcp *t);

/*!
 * \brief Copies the loop's counters (relaxed reads: a snapshot).
 * \param open  Set to the connections open now; may be NULL.
 */
void bw_tcp_stats(const struct bw_tcp *t, struct bw_tcp_stats *st,
                  uint64_t *open);

#endif /* BULWARK_CP_TCP_H */
