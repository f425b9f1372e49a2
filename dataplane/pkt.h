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

/*! Addresses of one family a port answers on. */
#define BW_PKT_ADDRS_MAX 16
/*! Buckets of bw_pkt_stats.rcode; the last one counts larger rcodes. */
#define BW_PKT_RCODES 24
/*! Largest DNS query copied aside (UDP payloads above this are dropped). */
#define BW_PKT_QUERY_MAX 4096

enum bw_pkt_verdict {
	BW_PKT_DROP = 0,     /*!< Free the packet (a drop counter moved). */
	BW_PKT_TX,           /*!< Rewritten in place: send it back out. */
	BW_PKT_EXCEPTION,    /*!< For the kernel: the exception path. */
};

/*! Why a packet was dropped. */
enum bw_pkt_drop {
	BW_DROP_RUNT = 0,    /*!< Shorter than the headers it announces. */
	BW_DROP_NOT_OURS,    /*!< Other MAC or IP destination. */
	BW_DROP_BAD_IP,      /*!< Version, header or total length wrong. */
	BW_DROP_BAD_CKSUM,   /*!< IPv4 header checksum wrong. */
	BW_DROP_BAD_UDP,     /*!< UDP length wrong. */
	BW_DROP_BAD_SRC,     /*!< Source port 0, multicast/broadcast source. */
	BW_DROP_BAD_ARP,     /*!< Malformed ARP or neighbour discovery. */
	BW_DROP_DNS,         /*!< The answer engine built nothing (a response,
	                          a header shorter than 12 octets, ...). */
	BW_DROP_TOO_BIG,     /*!< Query above BW_PKT_QUERY_MAX, or a frame in
	                          several segments. */
	BW_DROP_NO_ZONES,    /*!< No zone set published. */
	BW_DROP_TX,          /*!< The port did not take the response. */
	BW_DROP_EXCEPTION,   /*!< The exception path was full or absent. */
	BW_DROP_MAX
};

/*! Why a packet went to the kernel. */
enum bw_pkt_exc {
	BW_EXC_TCP = 0,      /*!< TCP to one of our addresses. */
	BW_EXC_FRAGMENT,     /*!< IPv4 fragment. */
	BW_EXC_IP_OPTIONS,   /*!< IPv4 header with options. */
	BW_EXC_IPV6_EXT,     /*!< IPv6 extension header. */
	BW_EXC_PROTO,        /*!< Other IP protocol or ICMP type. */
	BW_EXC_UDP_PORT,     /*!< UDP to another port of our address. */
	BW_EXC_NEIGH,        /*!< ARP replies, NDP other than our NS, link-
	                          local multicast IPv6. */
	BW_EXC_L2,           /*!< Other EtherType to our MAC. */
	BW_EXC_MAX
};

/*! Query-type buckets of bw_pkt_stats.qtype. */
enum bw_pkt_qtype {
	BW_QT_A = 0, BW_QT_NS, BW_QT_CNAME, BW_QT_SOA, BW_QT_PTR, BW_QT_MX,
	BW_QT_TXT, BW_QT_AAAA, BW_QT_SRV, BW_QT_DS, BW_QT_RRSIG, BW_QT_NSEC,
	BW_QT_DNSKEY, BW_QT_NSEC3, BW_QT_SVCB, BW_QT_HTTPS, BW_QT_CAA,
	BW_QT_ANY, BW_QT_OTHER, BW_QT_MAX
};

/*! Counters of one worker (written by it only), or a sum. */
struct bw_pkt_stats {
	uint64_t rx;                       /*!< Frames received. */
	uint64_t tx;                       /*!< Frames sent (all kinds). */
	uint64_t answers;                  /*!< DNS responses built. */
	uint64_t arp;                      /*!< ARP replies built. */
	uint64_t nd;                       /*!< Neighbour adverts built. */
	uint64_t echo;                     /*!< Echo replies built. */
	uint64_t tc;                       /*!< Responses with TC=1. */
	uint64_t edns;                     /*!< Queries with EDNS. */
	uint64_t do_bit;                   /*!< Queries with DO=1. */
	uint64_t exc_tx;                   /*!< Frames from the kernel sent. */
	uint64_t busy_cycles;              /*!< TSC cycles in non-empty
	                                        bursts (DPDK workers). */
	uint64_t drop[BW_DROP_MAX];
	uint64_t exc[BW_EXC_MAX];
	uint64_t rcode[BW_PKT_RCODES];
	uint64_t qtype[BW_QT_MAX];
} __attribute__((aligned(64)));

/*! Names of the counters, for statistics output ("runt", "tcp", ...). */
extern const char *const bw_pkt_drop_names[BW_DROP_MAX];
extern const char *const bw_pkt_exc_names[BW_EXC_MAX];
extern const char *const bw_pkt_qtype_names[BW_QT_MAX];

/*! \brief Adds every counter of \a add to \a sum. */
void bw_pkt_stats_add(struct bw_pkt_stats *sum, const struct bw_pkt_stats *add);

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
 * \brief One's-complement sum of \a len bytes added to \a sum (not folded,
 *        not inverted), as the Internet checksum needs.
 */
uint32_t bw_pkt_cksum_add(uint32_t sum, const void *data, size_t len);

/*! \brief Folds a sum to 16 bits and inverts it. */
uint16_t bw_pkt_cksum_fold(uint32_t sum);

#endif /* BULWARK_DP_PKT_H */
