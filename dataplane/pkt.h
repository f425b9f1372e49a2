/*  bulwark — one received frame in, one verdict out.
 *
 *  The packet logic of the DPDK workers, kept free of DPDK so that it is
 *  tested (and fuzzed) on plain buffers: Ethernet with up to two VLAN tags,
 *  ARP, IPv4, IPv6, NDP, ICMP echo and UDP queries to our addresses.  A
 *  query is answered by bw_answer() and the frame is rewritten in place
 *  into the response; ARP requests, neighbour solicitations and echo
 *  requests for our addresses are answered the same way.  Everything else
 *  that is for us goes to the exception path (the kernel); the rest is
 *  dropped.  Every outcome moves one counter.
 *
 *  Never reads outside [frame, frame + len) and never writes outside
 *  [frame, frame + cap).
 */
#ifndef BULWARK_DP_PKT_H
#define BULWARK_DP_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/answer.h"
#include "bulwark/dataplane.h"
#include "bulwark/flood.h"

/*! Addresses of one family a port answers on. */
#define BW_PKT_ADDRS_MAX 16
/*! Largest DNS query copied aside (UDP payloads above this are dropped). */
#define BW_PKT_QUERY_MAX 4096

/*! What bw_pkt_handle() decided. */
enum bw_pkt_verdict {
	BW_PKT_DROP = 0,     /*!< Free the packet (a drop counter moved). */
	BW_PKT_TX,           /*!< Rewritten in place: send it back out. */
	BW_PKT_EXCEPTION,    /*!< For the kernel: the exception path. */
};

/*! What a port answers for; immutable while workers run. */
struct bw_pkt_port {
	uint8_t mac[6];
	uint16_t mtu;                       /*!< Largest IP packet sent. */
	uint16_t n4, n6;
	uint8_t v4[BW_PKT_ADDRS_MAX][4];
	uint16_t v4_port[BW_PKT_ADDRS_MAX]; /*!< DNS UDP port, host order. */
	uint8_t v6[BW_PKT_ADDRS_MAX][16];
	uint16_t v6_port[BW_PKT_ADDRS_MAX];
};

/*! Checksum work left to the NIC (BW_PKT_OFFLOAD_*). */
#define BW_PKT_OFFLOAD_IPV4  0x1u   /*!< IPv4 header checksum. */
#define BW_PKT_OFFLOAD_UDP   0x2u   /*!< UDP checksum (IPv4 and IPv6). */

/*! What the caller needs to send a BW_PKT_TX frame. */
struct bw_pkt_out {
	uint16_t len;        /*!< New frame length. */
	uint8_t l2_len;      /*!< Ethernet + VLAN header length. */
	uint8_t l3_len;      /*!< IP header length (0: not IP). */
	bool ipv6;
	bool udp;            /*!< A UDP response; with BW_PKT_OFFLOAD_UDP
	                          its checksum field holds the pseudo-header
	                          sum for the NIC to finish. */
};

/*! Per-worker context of bw_pkt_handle(). */
struct bw_pkt_ctx {
	const struct bw_pkt_port *port;
	const struct bw_zoneset *zs;         /*!< May be NULL: queries drop. */
	const struct bw_answer_conf *answer;
	struct bw_pkt_stats *st;
	unsigned offload;                    /*!< BW_PKT_OFFLOAD_* bits. */
	unsigned slot;                       /*!< Row of the zone counters. */
	struct bw_flood_worker *flood;       /*!< NULL: no mitigation. */
	const struct bw_flood_policy *pol;   /*!< Snapshot for the burst. */
	uint64_t now_ms;                     /*!< Monotonic, for the burst. */
	uint32_t now_s;                      /*!< Wall clock, for cookies. */
	uint8_t query[BW_PKT_QUERY_MAX];     /*!< Scratch: the query. */
};

/*!
 * \brief Handles one received frame.
 *
 * \param c      Worker context; its counters move.
 * \param frame  The frame (contiguous), starting at the Ethernet header.
 * \param len    Its length.
 * \param cap    Writable bytes from \a frame (at least \a len): room for
 *               a response longer than the query.
 * \param out    Filled for BW_PKT_TX.
 * \return What to do with the frame.
 */
enum bw_pkt_verdict bw_pkt_handle(struct bw_pkt_ctx *c, uint8_t *frame,
                                  size_t len, size_t cap,
                                  struct bw_pkt_out *out);

/*!
 * \brief Prefetches the table data that answering this frame will read
 *        first, when it looks like a UDP query (no checks beyond bounds:
 *        bw_pkt_handle() decides).  See bw_answer_prefetch().
 */
void bw_pkt_prefetch(const struct bw_pkt_ctx *c, const uint8_t *frame,
                     size_t len, struct bw_answer_hint *hint);

/*!
 * \brief One's-complement sum of \a len bytes added to \a sum (not folded,
 *        not inverted), as the Internet checksum needs.
 */
uint32_t bw_pkt_cksum_add(uint32_t sum, const void *data, size_t len);

/*! \brief Folds a sum to 16 bits and inverts it. */
uint16_t bw_pkt_cksum_fold(uint32_t sum);

#endif /* BULWARK_DP_PKT_H */
