/*  bulwark — the DPDK packet loop and the exception path.
 *
 *  A worker polls its queue pairs (32 frames a burst), answers each frame
 *  with bw_pkt_handle(), transmits the responses on the queue the query
 *  came from and hands frames for the kernel to the exception thread
 *  through a single-producer ring.  No allocation, lock, system call or
 *  log message happens in the loop.  The zone set is read once per burst
 *  as a liburcu QSBR reader: one quiescent state per loop iteration, and
 *  offline while no frame arrives, so that publishers never wait for an
 *  idle worker.
 */
#include <time.h>
#include <urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "bulwark/zoneset.h"
#include "dpdk_impl.h"

/* Empty polls before a worker goes offline for RCU. */
#define IDLE_POLLS 256
/* Sleep of the exception thread when it found nothing to move. */
#define EXC_IDLE_NS 50000

static inline bool stopping(const struct bw_dpdk *dp)
{
	return __atomic_load_n(&dp->stop, __ATOMIC_RELAXED) != 0;
}

/* Counters are written by their owner only (see bw_stat_add in udp.h). */
static inline void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
	                 __ATOMIC_RELAXED);
}

/* Asks the NIC for the checksums that bw_pkt_handle() left to it. */
static inline void tx_offload(struct rte_mbuf *m, const struct bw_pkt_out *o,
                              unsigned offload)
{
	m->ol_flags = 0;
	if (!o->udp || offload == 0)
		return;
	m->l2_len = o->l2_len;
	m->l3_len = o->l3_len;
	m->ol_flags = RTE_MBUF_F_TX_UDP_CKSUM |
	              (o->ipv6 ? RTE_MBUF_F_TX_IPV6
	                       : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
}

/* Sends \a n frames on one queue; frees and counts what the port refused. */
static void send_burst(struct bw_pkt_stats *st, uint16_t pid, uint16_t q,
                       struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = n == 0 ? 0 : rte_eth_tx_burst(pid, q, m, n);

	stat_add(&st->tx, sent);
	if (unlikely(sent < n)) {
		stat_add(&st->drop[BW_DROP_TX], n - sent);
		rte_pktmbuf_free_bulk(m + sent, n - sent);
	}
}

/* Gives frames for the kernel to the exception thread. */
static void to_kernel(struct dp_worker *w, const struct dp_port *p,
                      struct rte_mbuf **m, unsigned n)
{
	unsigned done = 0;

	if (n == 0)
		return;
	if (p->tap != BW_DPDK_NO_PORT)
		done = rte_ring_sp_enqueue_burst(w->to_kernel, (void **)m, n, NULL);
	if (unlikely(done < n)) {
		stat_add(&w->st.drop[BW_DROP_EXCEPTION], n - done);
		rte_pktmbuf_free_bulk(m + done, n - done);
	}
}

/* One received burst of one queue pair. */
static void handle_burst(struct dp_worker *w, const struct dp_port *p,
                         uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	struct bw_pkt_ctx *c = &w->ctx;
	uint16_t ntx = 0, nexc = 0, ndrop = 0;
	uint64_t t0 = rte_rdtsc();
	struct bw_pkt_out out;

	c->port = &p->addrs;
	c->offload = p->offload;
	c->zs = bw_zoneset_current();   /* Once per burst (QSBR reader). */
	if (c->flood != NULL) {
		struct bw_flood_req rq;
		c->pol = bw_flood_policy_current();
		bw_flood_clock(&rq);
		c->now_ms = rq.now_ms;
		c->now_s = rq.now_s;
	}
	/* Passes over the burst, so that its cache misses overlap: the frames,
	 * the table buckets of their names, the nodes, then the answers. */
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++)
		bw_pkt_prefetch(c, rte_pktmbuf_mtod(pkts[i], uint8_t *),
		                pkts[i]->data_len, &w->hint[i]);
	for (uint16_t i = 0; i < n; i++)
		bw_answer_prefetch_nodes(&w->hint[i]);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		enum bw_pkt_verdict v;

		if (unlikely(m->nb_segs != 1)) {
			stat_add(&w->st.rx, 1);
			stat_add(&w->st.drop[BW_DROP_TOO_BIG], 1);
			w->drop[ndrop++] = m;
			continue;
		}
		v = bw_pkt_handle(c, rte_pktmbuf_mtod(m, uint8_t *), m->data_len,
		                  (size_t)m->data_len + rte_pktmbuf_tailroom(m), &out);
		if (likely(v == BW_PKT_TX)) {
			m->data_len = out.len;
			m->pkt_len = out.len;
			tx_offload(m, &out, p->offload);
			w->tx[ntx++] = m;
		} else if (v == BW_PKT_EXCEPTION) {
			w->exc[nexc++] = m;
		} else {
			w->drop[ndrop++] = m;
		}
	}
	send_burst(&w->st, p->pid, q, w->tx, ntx);
	to_kernel(w, p, w->exc, nexc);
	if (ndrop > 0)
		rte_pktmbuf_free_bulk(w->drop, ndrop);
	stat_add(&w->st.busy_cycles, rte_rdtsc() - t0);
}

/* End of the run of frames from \a start that name one port: they go
 * out in one burst. */
static inline unsigned same_port_run(struct rte_mbuf *const *m, unsigned start,
                                     unsigned n)
{
	unsigned end = start + 1;

	while (end < n && m[end]->port == m[start]->port)
		end++;
	return end;
}

/* Frames from the kernel, for ports whose queue 0 this worker owns. */
static bool inject(struct dp_worker *w)
{
	struct rte_mbuf *m[BW_DPDK_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->inject, (void **)m,
	                                       BW_DPDK_BURST, NULL);

	for (unsigned start = 0, end; start < n; start = end) {
		end = same_port_run(m, start, n);
		send_burst(&w->st, m[start]->port, 0, m + start,
		           (uint16_t)(end - start));
		stat_add(&w->st.exc_tx, end - start);
	}
	return n > 0;
}

int bw_dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct bw_dpdk *dp = w->dp;
	struct rte_mbuf *pkts[BW_DPDK_BURST];
	unsigned idle = 0;
	bool online = true;

	rcu_register_thread();
	while (!stopping(dp)) {
		bool busy = false;

		for (unsigned i = 0; i < w->nrxq; i++) {
			const struct dp_rxq *rq = &w->rxq[i];
			const struct dp_port *p = &dp->ports[rq->pidx];
			uint16_t n = rte_eth_rx_burst(p->pid, rq->queue, pkts,
			                              BW_DPDK_BURST);
			if (n == 0)
				continue;
			if (unlikely(!online)) {
				rcu_thread_online();
				online = true;
			}
			handle_burst(w, p, rq->queue, pkts, n);
			busy = true;
		}
		busy |= inject(w);
		if (busy) {
			idle = 0;
			rcu_quiescent_state();
		} else if (online && ++idle >= IDLE_POLLS) {
			rcu_thread_offline();
			online = false;
		} else {
			rte_pause();
		}
	}
	if (!online)
		rcu_thread_online();
	rcu_unregister_thread();
	return 0;
}

/* ---- The exception thread. ---- */

/* Worker frames -> the TAP of the port they arrived on. */
static bool exc_up(struct bw_dpdk *dp, struct dp_worker *w)
{
	struct rte_mbuf *m[BW_DPDK_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->to_kernel, (void **)m,
	                                       BW_DPDK_BURST, NULL);

	for (unsigned start = 0, end; start < n; start = end) {
		end = same_port_run(m, start, n);
		struct dp_port *p = &dp->ports[dp->port_index[m[start]->port]];
		uint16_t cnt = (uint16_t)(end - start);
		uint16_t sent = rte_eth_tx_burst(p->tap, 0, m + start, cnt);

		stat_add(&p->to_kernel, sent);
		if (sent < cnt) {
			stat_add(&p->exc_dropped, cnt - sent);
			rte_pktmbuf_free_bulk(m + start + sent, cnt - sent);
		}
	}
	return n > 0;
}

/* TAP frames -> the worker that owns queue 0 of the port. */
static bool exc_down(struct bw_dpdk *dp, struct dp_port *p)
{
	struct rte_mbuf *m[BW_DPDK_BURST];
	uint16_t n = rte_eth_rx_burst(p->tap, 0, m, BW_DPDK_BURST);
	unsigned done;

	if (n == 0)
		return false;
	for (uint16_t i = 0; i < n; i++)
		m[i]->port = p->pid;
	done = rte_ring_sp_enqueue_burst(dp->workers[p->q0_worker].inject,
	                                 (void **)m, n, NULL);
	stat_add(&p->from_kernel, done);
	if (done < n) {
		stat_add(&p->exc_dropped, n - done);
		rte_pktmbuf_free_bulk(m + done, n - done);
	}
	return true;
}

void *bw_dp_exception_main(void *arg)
{
	struct bw_dpdk *dp = arg;
	const struct timespec nap = { .tv_nsec = EXC_IDLE_NS };

	while (!stopping(dp)) {
		bool busy = false;

		for (unsigned i = 0; i < dp->nworkers; i++)
			busy |= exc_up(dp, &dp->workers[i]);
		for (unsigned i = 0; i < dp->nports; i++)
			if (dp->ports[i].tap != BW_DPDK_NO_PORT)
				busy |= exc_down(dp, &dp->ports[i]);
		if (!busy)
			nanosleep(&nap, NULL);
	}
	return NULL;
}
