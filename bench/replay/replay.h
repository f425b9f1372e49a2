/*  bulwark-replay — a DPDK DNS traffic generator for capacity tests.
 *
 *  Internal header shared by the modules of bench/replay: the query
 *  templates (replay_load.c), the frame rewriting and the neighbour
 *  replies (replay_net.c), the statistics and the report
 *  (replay_stats.c), and the main program (bulwark-replay.c).
 */
#ifndef BULWARK_REPLAY_H
#define BULWARK_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BW_REPLAY_BURST      32
/*! Outstanding-query table: slot = sequence number modulo its size. */
#define BW_REPLAY_SLOTS_LOG  20
#define BW_REPLAY_RCODES     25   /* 0..23 (BADCOOKIE), then the rest. */
#define BW_REPLAY_SLOTS      (1u << BW_REPLAY_SLOTS_LOG)
/*! Client ports used: slot % PORTS is the port's offset from PORT_BASE,
 *  slot / PORTS the DNS ID, so (port, ID) is unique among the slots. */
#define BW_REPLAY_PORT_BASE  16384u
#define BW_REPLAY_PORTS      16384u
/*! Histogram: 2^SUB linear buckets per power of two (< 1% error). */
#define BW_REPLAY_HIST_SUB   7
#define BW_REPLAY_HIST_N     ((64 - BW_REPLAY_HIST_SUB + 1) << BW_REPLAY_HIST_SUB)
#define BW_REPLAY_SECONDS_MAX 86400

/*! One query ready to send: a whole Ethernet frame and its offsets. */
struct bw_replay_tmpl {
	size_t off;          /*!< Offset of the frame in the arena. */
	uint16_t len;        /*!< Frame length (no trailing padding). */
	uint16_t l3;         /*!< Offset of the IP header. */
	uint16_t l4;         /*!< Offset of the UDP header. */
	bool v6;             /*!< IPv6 (else IPv4). */
};

/*! A growable byte arena and the templates pointing into it. */
struct bw_replay_set {
	uint8_t *arena;
	size_t used, cap;
	struct bw_replay_tmpl *t;
	size_t n, tcap;
	uint64_t frames;     /*!< Frames read from the captures. */
	uint64_t skipped;    /*!< Of those, not an Ethernet UDP DNS query. */
	uint32_t *src4;      /*!< Distinct IPv4 sources (network order), sorted. */
	size_t nsrc4;
	uint8_t (*src6)[16]; /*!< Distinct IPv6 sources, sorted. */
	size_t nsrc6;
};

/*! An address prefix to spread sources over. */
struct bw_replay_prefix {
	bool set;
	uint8_t addr[16];    /*!< Network order; IPv4 in the first 4 octets. */
	unsigned len;        /*!< Prefix length in bits. */
};

/*! What the frames are rewritten to. */
struct bw_replay_rewrite {
	bool dst_mac_set, dst4_set, dst6_set, dst_port_set;
	uint8_t dst_mac[6], src_mac[6];
	uint8_t dst4[4], dst6[16];
	uint16_t dst_port;
	struct bw_replay_prefix src4, src6;
};

/*! A log-linear latency histogram in TSC cycles. */
struct bw_replay_hist {
	uint64_t n;
	uint64_t max;
	uint64_t b[BW_REPLAY_HIST_N];
};

/*! One second of the run (events that happened in it). */
struct bw_replay_second {
	double offered_qps;
	uint64_t sent, answered, lost, tc;
	double p50, p99, p999;           /*!< Microseconds. */
};

/*! Counters of the whole run. */
struct bw_replay_stats {
	uint64_t sent, answered, lost, unmatched, duplicates, tc;
	uint64_t rcode[BW_REPLAY_RCODES];  /*!< Extended (with OPT's upper
	                                         bits); the last counts the
	                                         rest. */
	uint64_t rx, tx, tx_full, rx_other, arp_replies, nd_replies;
	uint64_t cur_sent, cur_answered, cur_lost, cur_tc;
	struct bw_replay_hist total, cur;
	struct bw_replay_second *sec;    /*!< BW_REPLAY_SECONDS_MAX entries. */
	size_t nsec;
	double duration_s;               /*!< First to last send. */
	double tsc_hz;
};

/* ---- replay_load.c ---- */

/*! \brief Adds the UDP DNS queries of a classic pcap or pcapng file.
 *  \return 0, or -1 with a message in \a err. */
int bw_replay_load_pcap(struct bw_replay_set *s, const char *path,
                        char *err, size_t errlen);

/*! \brief Adds queries built from a "NAME TYPE" list (one per line).
 *  \param v6 IPv6 frames (else IPv4). \param dnssec_ok DO=1.
 *  \return 0, or -1 with a message in \a err. */
int bw_replay_load_queries(struct bw_replay_set *s, const char *path, bool v6,
                           bool dnssec_ok, char *err, size_t errlen);

/*! \brief Sorts the distinct source addresses (for ARP / ND replies). */
void bw_replay_set_sources(struct bw_replay_set *s);

/*! \brief Frees what the set holds. */
void bw_replay_set_free(struct bw_replay_set *s);

/* ---- replay_net.c ---- */

/*! \brief Writes the query frame of template \a t for sequence \a seq
 *         into \a out: rewritten addresses, port and ID from the slot,
 *         checksums.  \return the client address key to match on. */
uint32_t bw_replay_build(const struct bw_replay_set *s, const struct bw_replay_tmpl *t,
                         const struct bw_replay_rewrite *rw, uint64_t seq,
                         uint8_t *out);

/*! \brief The DNS ID of query \a seq: the slot's upper bits, then bits of
 *         the table lap (the client port holds the lower 14 bits). */
static inline uint16_t bw_replay_id(uint64_t seq)
{
	uint32_t slot = (uint32_t)(seq & (BW_REPLAY_SLOTS - 1));

	return (uint16_t)((slot >> 14) | ((seq >> BW_REPLAY_SLOTS_LOG) <<
	                  (BW_REPLAY_SLOTS_LOG - 14)));
}

/*! A response as bw_replay_parse() found it. */
struct bw_replay_resp {
	uint32_t slot;       /*!< From the client port and the DNS ID. */
	uint32_t key;        /*!< The client address key. */
	uint16_t id;         /*!< The DNS ID. */
	uint16_t rcode;      /*!< With the OPT record's upper 8 bits. */
	bool tc;
};

/*! What a received frame is. */
enum bw_replay_rx {
	BW_REPLAY_RX_OTHER = 0,    /*!< Not for us. */
	BW_REPLAY_RX_RESPONSE,     /*!< A DNS response to one of our ports. */
	BW_REPLAY_RX_REPLY,        /*!< Turned into an ARP / NA reply in place. */
};

/*! \brief Classifies a received frame; a response is decoded into \a r,
 *         an ARP request or neighbour solicitation for one of our source
 *         addresses is rewritten in place into the reply (\a len updated).
 *  \param arp set to true when the reply is ARP (else ND). */
enum bw_replay_rx bw_replay_parse(const struct bw_replay_set *s,
                                  const struct bw_replay_rewrite *rw,
                                  uint8_t *frame, uint16_t *len,
                                  struct bw_replay_resp *r, bool *arp);

/*! \brief Parses "ADDR/LEN" (IPv4 when \a v6 is false). \return 0 or -1. */
int bw_replay_prefix_parse(const char *text, bool v6, struct bw_replay_prefix *p);

/* ---- replay_stats.c ---- */

/*! \brief Adds one latency sample (TSC cycles). */
void bw_replay_hist_add(struct bw_replay_hist *h, uint64_t cycles);

/*! \brief The value (cycles) below which a share \a q of the samples lie. */
uint64_t bw_replay_hist_quantile(const struct bw_replay_hist *h, double q);

/*! \brief Closes the current second (of \a seconds length) into the
 *         per-second list and resets its counters. */
void bw_replay_second_close(struct bw_replay_stats *st, double seconds);

/*! \brief Prints one progress line for the last closed second. */
void bw_replay_progress(const struct bw_replay_stats *st, bool tty);

/*! \brief Writes the JSON report. */
void bw_replay_report_json(const struct bw_replay_stats *st, const struct bw_replay_set *s,
                           const char *port_name, FILE *f);

/*! \brief Prints a human-readable summary. */
void bw_replay_report_text(const struct bw_replay_stats *st, FILE *f);

#endif /* BULWARK_REPLAY_H */
