/*  bulwark — DPDK telemetry commands (readable with dpdk-telemetry.py):
 *
 *    /bulwark/stats          every worker's counters summed
 *    /bulwark/worker,N       the counters of worker N
 *    /bulwark/ports          per port: ethdev counters and exception path
 *
 *  The callbacks run on the EAL's telemetry thread and read the counters
 *  with relaxed loads while the workers write them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "dpdk_impl.h"

/* The running dataplane; NULL before start and after stop.  The lock
 * keeps bw_dpdk_stop() from freeing it under a callback. */
static struct bw_dpdk *tel_dp;
static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t relaxed(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Adds counters[i] under names[i] as a nested dictionary. */
static void add_group(struct rte_tel_data *d, const char *name,
                      const char *const *names, const uint64_t *counters,
                      unsigned n)
{
	struct rte_tel_data *g = rte_tel_data_alloc();

	if (g == NULL)
		return;
	rte_tel_data_start_dict(g);
	for (unsigned i = 0; i < n; i++)
		rte_tel_data_add_dict_u64(g, names[i], counters[i]);
	if (rte_tel_data_add_dict_container(d, name, g, 0) != 0)
		rte_tel_data_free(g);
}

static void add_stats(struct rte_tel_data *d, const struct bw_pkt_stats *st)
{
	static const char *const rcodes[BW_PKT_RCODES] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
		"RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADVERS", "BADSIG",
		"BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "other",
	};

	rte_tel_data_add_dict_u64(d, "rx", st->rx);
	rte_tel_data_add_dict_u64(d, "tx", st->tx);
	rte_tel_data_add_dict_u64(d, "answers", st->answers);
	rte_tel_data_add_dict_u64(d, "arp", st->arp);
	rte_tel_data_add_dict_u64(d, "nd", st->nd);
	rte_tel_data_add_dict_u64(d, "echo", st->echo);
	rte_tel_data_add_dict_u64(d, "tc", st->tc);
	rte_tel_data_add_dict_u64(d, "edns", st->edns);
	rte_tel_data_add_dict_u64(d, "do", st->do_bit);
	rte_tel_data_add_dict_u64(d, "exception_tx", st->exc_tx);
	rte_tel_data_add_dict_u64(d, "busy_cycles", st->busy_cycles);
	add_group(d, "drop", bw_pkt_drop_names, st->drop, BW_DROP_MAX);
	add_group(d, "exception", bw_pkt_exc_names, st->exc, BW_EXC_MAX);
	add_group(d, "rcode", rcodes, st->rcode, BW_PKT_RCODES);
	add_group(d, "qtype", bw_pkt_qtype_names, st->qtype, BW_QT_MAX);
}

static int tel_stats_locked(struct bw_dpdk *dp, const char *params,
                             struct rte_tel_data *d)
{
	struct bw_pkt_stats sum;

	(void)params;
	bw_dpdk_stats(dp, BW_DPDK_ALL_WORKERS, &sum);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "workers", dp->nworkers);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	rte_tel_data_add_dict_u64(d, "uptime_cycles", rte_rdtsc() - dp->started_tsc);
	add_stats(d, &sum);
	return 0;
}

static int tel_worker_locked(struct bw_dpdk *dp, const char *params,
                              struct rte_tel_data *d)
{
	struct bw_pkt_stats st;
	char *end;
	unsigned long id;

	if (params == NULL)
		return -1;
	id = strtoul(params, &end, 10);
	if (end == params || *end != '\0' || id >= dp->nworkers)
		return -1;
	bw_dpdk_stats(dp, (unsigned)id, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "lcore", dp->workers[id].lcore);
	rte_tel_data_add_dict_u64(d, "queues", dp->workers[id].nrxq);
	add_stats(d, &st);
	return 0;
}

static void add_port(struct rte_tel_data *d, const struct dp_port *p)
{
	struct rte_tel_data *g = rte_tel_data_alloc();
	struct rte_eth_stats es;
	char key[16];

	if (g == NULL)
		return;
	memset(&es, 0, sizeof(es));
	(void)rte_eth_stats_get(p->pid, &es);
	rte_tel_data_start_dict(g);
	rte_tel_data_add_dict_string(g, "name", p->name);
	rte_tel_data_add_dict_u64(g, "port_id", p->pid);
	rte_tel_data_add_dict_u64(g, "queues", p->nq);
	rte_tel_data_add_dict_u64(g, "ipackets", es.ipackets);
	rte_tel_data_add_dict_u64(g, "opackets", es.opackets);
	rte_tel_data_add_dict_u64(g, "imissed", es.imissed);
	rte_tel_data_add_dict_u64(g, "ierrors", es.ierrors);
	rte_tel_data_add_dict_u64(g, "oerrors", es.oerrors);
	rte_tel_data_add_dict_u64(g, "rx_nombuf", es.rx_nombuf);
	rte_tel_data_add_dict_string(g, "exception_interface",
	                             p->tap != BW_DPDK_NO_PORT ? p->tap_name : "");
	rte_tel_data_add_dict_u64(g, "to_kernel", relaxed(&p->to_kernel));
	rte_tel_data_add_dict_u64(g, "from_kernel", relaxed(&p->from_kernel));
	rte_tel_data_add_dict_u64(g, "exception_dropped", relaxed(&p->exc_dropped));
	/* Keys are plain words: the port's name (a devargs string) is a
	 * value. */
	snprintf(key, sizeof(key), "port%u", p->pid);
	if (rte_tel_data_add_dict_container(d, key, g, 0) != 0)
		rte_tel_data_free(g);
}

static int tel_ports_locked(struct bw_dpdk *dp, const char *params,
                             struct rte_tel_data *d)
{
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < dp->nports; i++)
		add_port(d, &dp->ports[i]);
	return 0;
}

typedef int (*tel_fn)(struct bw_dpdk *dp, const char *params,
                      struct rte_tel_data *d);

static int tel_call(tel_fn fn, const char *params, struct rte_tel_data *d)
{
	int rc = -1;

	pthread_mutex_lock(&tel_lock);
	if (tel_dp != NULL)
		rc = fn(tel_dp, params, d);
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_call(tel_stats_locked, params, d);
}

static int tel_worker(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_call(tel_worker_locked, params, d);
}

static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_call(tel_ports_locked, params, d);
}

void bw_dp_telemetry_register(struct bw_dpdk *dp)
{
	static bool registered;

	pthread_mutex_lock(&tel_lock);
	tel_dp = dp;
	pthread_mutex_unlock(&tel_lock);
	if (registered)
		return;
	registered = true;
	rte_telemetry_register_cmd("/bulwark/stats", tel_stats,
	                           "bulwark counters of all workers. No parameters");
	rte_telemetry_register_cmd("/bulwark/worker", tel_worker,
	                           "bulwark counters of one worker. Parameter: worker index");
	rte_telemetry_register_cmd("/bulwark/ports", tel_ports,
	                           "bulwark ports: ethdev and exception-path counters. "
	                           "No parameters");
}

void bw_dp_telemetry_unregister(void)
{
	pthread_mutex_lock(&tel_lock);
	tel_dp = NULL;
	pthread_mutex_unlock(&tel_lock);
}
