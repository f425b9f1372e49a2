/*  bulwark — `io socket`: UDP over kernel sockets.
 *
 *  N worker threads; each has its own SO_REUSEPORT socket per listen
 *  address, receives with recvmmsg(), answers with bw_answer() and sends
 *  with sendmmsg().  The zone set is published with liburcu QSBR.
 */
#ifndef BULWARK_CP_UDP_H
#define BULWARK_CP_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bulwark/answer.h"
#include "conf.h"

/*! Datagrams taken per recvmmsg() call. */
#define BW_UDP_BURST 32
/*! Buckets of bw_udp_stats.rcode; the last one counts larger rcodes. */
#define BW_UDP_RCODES 24

/*! Counters of one worker (written by that worker only), or a sum. */
struct bw_udp_stats {
	uint64_t rx;                      /*!< Datagrams received. */
	uint64_t tx;                      /*!< Responses sent. */
	uint64_t dropped;                 /*!< Not answered or not sent. */
	uint64_t rcode[BW_UDP_RCODES];    /*!< Responses built, by rcode. */
} __attribute__((aligned(64)));

/*
 * Counters written by one thread only (a worker, the TCP loop): a relaxed
 * load and store is enough; relaxed atomics keep readers free of torn
 * values and of data races, and the counters order nothing.
 */

/*! \brief Adds \a n to a counter that only the calling thread writes. */
static inline void bw_stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
	                 __ATOMIC_RELAXED);
}

/*! \brief Reads a counter that another thread writes. */
static inline uint64_t bw_stat_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/*!
 * \brief Copies the address of a peer (IPv4-mapped IPv6 as IPv4) into
 *        \a out: 4 octets for IPv4, 16 for IPv6.
 * \return true for IPv6.
 */
bool bw_udp_peer_ip(const struct sockaddr_storage *ss, uint8_t out[16]);

struct bw_udp_conf {
	const struct bw_conf_addr *addrs;  /*!< Addresses to listen on. */
	size_t naddrs;
	unsigned workers;                  /*!< Threads, at least 1. */
	int cpu_first;                     /*!< Pin worker i to CPU
	                                        cpu_first + i; -1: no pinning. */
	const struct bw_answer_conf *answer;  /*!< Must outlive the workers. */
	struct bw_flood_worker *const *flood; /*!< Worker i uses flood[i];
	                                        NULL: no mitigation. */
};

struct bw_udp;

/*!
 * \brief Opens every socket, then starts the workers.  They inherit the
 *        caller's signal mask and answer from the set given to
 *        bw_zoneset_publish(); while that is NULL, queries are dropped
 *        and counted.
 *
 * \param conf    Settings (copied).
 * \param out     Set to the running service.
 * \param err     Buffer for the reason of a failure ("ADDRESS: bind: ...").
 * \param errlen  Its size.
 * \return 0 or a negative error; nothing runs on failure.
 */
int bw_udp_start(const struct bw_udp_conf *conf, struct bw_udp **out,
                 char *err, size_t errlen);

/*!
 * \brief Stops the workers (each sees the request within ~100 ms), joins
 *        them, closes the sockets and frees \a u (NULL is accepted).
 */
void bw_udp_stop(struct bw_udp *u);

/*!
 * \brief Sums the counters of all workers (relaxed reads: a snapshot, not
 *        an instant).
 */
void bw_udp_stats(const struct bw_udp *u, struct bw_udp_stats *sum);

/*! \brief Number of workers. */
unsigned bw_udp_workers(const struct bw_udp *u);

/*!
 * \brief The counters of worker \a w (all of them when \a w is not a
 *        worker's index).
 */
void bw_udp_worker_stats(const struct bw_udp *u, unsigned w,
                         struct bw_udp_stats *sum);

#endif /* BULWARK_CP_UDP_H */
