/*  bulwark — the DPDK dataplane's internal state (see bulwark/dataplane.h).
 */
#ifndef BULWARK_DP_DPDK_IMPL_H
#define BULWARK_DP_DPDK_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bulwark/dataplane.h"
#include "pkt.h"

#define BW_DPDK_BURST     32     /* Frames per rx/tx burst. */
#define BW_DPDK_RX_DESC   1024
#define BW_DPDK_TX_DESC   1024
#define BW_DPDK_RING      1024   /* Exception rings, per worker. */
#define BW_DPDK_WORKER_RXQ 64    /* Queues one worker can poll. */
#define BW_DPDK_NO_PORT   UINT16_MAX

/* One configured port; immutable once the workers run, except for the
 * exception counters that the exception thread alone writes. */
struct dp_port {
	char name[128];
	uint16_t pid;             /* ethdev port id. */
	uint16_t tap;             /* Exception TAP port id, or NO_PORT. */
	char tap_name[16];
	uint16_t nq;              /* RX/TX queue pairs. */
	unsigned offload;         /* BW_PKT_OFFLOAD_* used on TX. */
	unsigned q0_worker;       /* Worker that owns queue 0: it sends the
	                             kernel's frames. */
	struct bw_pkt_port addrs;
	uint64_t to_kernel;       /* Exception frames given to the kernel. */
	uint64_t from_kernel;     /* Kernel frames handed to a worker. */
	uint64_t exc_dropped;     /* Lost on the exception path. */
};

/* A queue pair that a worker polls. */
struct dp_rxq {
	uint16_t pidx;            /* Index into bw_dpdk.ports. */
	uint16_t queue;
};

/* Per-core state: counters first, then what the loop reads. */
struct dp_worker {
	struct bw_pkt_stats st;
	struct bw_dpdk *dp;
	unsigned id;
	unsigned lcore;
	unsigned nrxq;
	struct dp_rxq rxq[BW_DPDK_WORKER_RXQ];
	struct rte_ring *to_kernel;   /* SP: this worker; SC: exception. */
	struct rte_ring *inject;      /* SP: exception thread; SC: this. */
	struct bw_pkt_ctx ctx;
	struct rte_mbuf *tx[BW_DPDK_BURST];
	struct rte_mbuf *exc[BW_DPDK_BURST];
	struct rte_mbuf *drop[BW_DPDK_BURST];
	struct bw_answer_hint hint[BW_DPDK_BURST];
} __rte_cache_aligned;

struct bw_dpdk {
	struct dp_port *ports;
	unsigned nports;
	uint16_t port_index[RTE_MAX_ETHPORTS];   /* ethdev id -> index. */
	struct dp_worker *workers;
	unsigned nworkers;
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES];  /* Per socket. */
	const struct bw_answer_conf *answer;
	pthread_t exc_thread;
	bool exc_started;
	bool eal_up;
	bool launched;
	int stop;                 /* Set once; relaxed loads in the loops. */
	uint64_t started_tsc;
};

/*! \brief The worker loop (rte_eal_remote_launch). */
int bw_dp_worker_main(void *arg);

/*! \brief The exception path thread: workers <-> TAP interfaces. */
void *bw_dp_exception_main(void *arg);

/*! \brief Registers the telemetry commands over \a dp (one per process). */
void bw_dp_telemetry_register(struct bw_dpdk *dp);

/*! \brief Forgets \a dp: telemetry answers "not running". */
void bw_dp_telemetry_unregister(void);

#endif /* BULWARK_DP_DPDK_IMPL_H */
