/*  bulwark — the DPDK dataplane: ports, per-core workers, exception path.
 *
 *  bulwarkd's `io dpdk`: the EAL is initialised from `eal-args`, every
 *  configured port gets one RX/TX queue pair per worker lcore (as many as
 *  it has), and each worker answers the queries of its queues from the
 *  zone set published with bw_zoneset_publish().  Frames for us that are
 *  not UDP queries (TCP, fragments, ...) go to the kernel through one TAP
 *  interface per port, and the kernel's frames go out on the port.
 */
#ifndef BULWARK_DATAPLANE_H
#define BULWARK_DATAPLANE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct bw_answer_conf;
struct bw_flood_worker;

/*! Buckets of bw_pkt_stats.rcode; the last one counts larger rcodes. */
#define BW_PKT_RCODES 24

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
	BW_DROP_MITIGATED,   /*!< Flood mitigation sent nothing (a filter,
	                          rate limiting, a parent under attack). */
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

/*! Largest number of addresses per family on one port. */
#define BW_DPDK_PORT_ADDRS 16

/*! One address of a port: the DNS port, and the prefix length given to
 *  the exception interface (the on-link subnet for the kernel). */
struct bw_dpdk_addr {
	struct sockaddr_storage ss;
	unsigned prefix;
};

struct bw_dpdk_port_conf {
	const char *name;         /*!< PCI address or vdev ("net_pcap0,..."). */
	const char *exception;    /*!< Kernel name of its exception TAP, or
	                               NULL: frames for the kernel drop. */
	const struct bw_dpdk_addr *addrs;
	size_t naddrs;
};

struct bw_dpdk_conf {
	const char *eal_args;     /*!< Split at white space ("..." groups). */
	const struct bw_dpdk_port_conf *ports;
	size_t nports;
	unsigned workers;
	int lcore_first;          /*!< Workers on lcores lcore_first...; -1:
	                               the EAL's first worker lcores. */
	unsigned mbufs;           /*!< Mbufs per socket; 0: enough for the
	                               queues. */
	const struct bw_answer_conf *answer;  /*!< Must outlive the workers. */
	struct bw_flood_worker *const *flood; /*!< Worker i uses flood[i];
	                               NULL: no mitigation.  Must outlive the
	                               workers. */
	void (*log)(const char *msg);  /*!< Start-up messages; may be NULL. */
};

struct bw_dpdk;

/*!
 * \brief Initialises the EAL, configures and starts every port and its
 *        exception interface, registers the telemetry commands
 *        (/bulwark/stats, /bulwark/worker, /bulwark/ports) and launches
 *        the workers.  Logs link status, queues and offloads of each port.
 *
 * The EAL can be initialised once per process: a failed start cannot be
 * retried.
 * \param err  Set to the reason of a failure.
 * \return 0 or a negative error.
 */
int bw_dpdk_start(const struct bw_dpdk_conf *conf, struct bw_dpdk **out,
                  char *err, size_t errlen);

/*!
 * \brief Stops the workers and the exception path, closes the ports and
 *        cleans up the EAL; frees \a dp (NULL is accepted).
 */
void bw_dpdk_stop(struct bw_dpdk *dp);

/*! \brief Number of workers. */
unsigned bw_dpdk_workers(const struct bw_dpdk *dp);

/*!
 * \brief Sums the counters of every worker into \a sum (relaxed reads: a
 *        snapshot); with \a worker < bw_dpdk_workers(), that worker's only.
 */
void bw_dpdk_stats(const struct bw_dpdk *dp, unsigned worker,
                   struct bw_pkt_stats *sum);

/*! \brief Worker index that means "all of them" for bw_dpdk_stats(). */
#define BW_DPDK_ALL_WORKERS (~0u)

#endif /* BULWARK_DATAPLANE_H */
