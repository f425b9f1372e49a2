/*  bulwark — bulwarkd: the authoritative server.
 *
 *  Loads the configuration and every zone, publishes the zone set, starts
 *  the UDP workers and the TCP loop, then waits for signals: SIGHUP reloads the
 *  configuration's zones, SIGTERM and SIGINT stop the server.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bulwark/answer.h"
#include "bulwark/compile.h"
#include "bulwark/dataplane.h"
#include "bulwark/err.h"
#include "bulwark/table.h"
#include "bulwark/zoneset.h"
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "registry.h"
#include "tcp.h"
#include "udp.h"

#ifndef BW_VERSION
#define BW_VERSION "unknown"
#endif

#define DEFAULT_CONF "/etc/bulwark/bulwark.conf"

/* ---- Reload. ---- */

static bool str_same(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

static bool addrs_same(const struct bw_conf *a, const struct bw_conf *b)
{
	if (a->nlisten != b->nlisten)
		return false;
	for (size_t i = 0; i < a->nlisten; i++)
		if (a->listen[i].len != b->listen[i].len ||
		    memcmp(&a->listen[i].ss, &b->listen[i].ss, a->listen[i].len) != 0)
			return false;
	return true;
}

/* Settings that the running workers keep until a restart. */
static bool restart_needed(const struct bw_conf *a, const struct bw_conf *b)
{
	return !addrs_same(a, b) || a->io != b->io || a->workers != b->workers ||
	       !str_same(a->control_socket, b->control_socket) ||
	       !str_same(a->directory, b->directory) ||
	       !str_same(a->eal_args, b->eal_args) || a->nports != b->nports ||
	       a->mbufs != b->mbufs ||
	       a->cpu_first != b->cpu_first ||
	       a->edns_udp_size != b->edns_udp_size ||
	       a->tcp_clients != b->tcp_clients ||
	       a->tcp_idle_timeout != b->tcp_idle_timeout ||
	       a->tcp_clients_per_address != b->tcp_clients_per_address ||
	       a->tcp_keepalive_timeout != b->tcp_keepalive_timeout ||
	       a->nsid_len != b->nsid_len ||
	       (a->nsid_len > 0 && memcmp(a->nsid, b->nsid, a->nsid_len) != 0) ||
	       !str_same(a->version, b->version) ||
	       !str_same(a->server_id, b->server_id);
}

double bw_daemon_uptime(const struct bw_daemon *dm)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - dm->started_mono.tv_sec) +
	       (double)(now.tv_nsec - dm->started_mono.tv_nsec) / 1e9;
}

static int reload_locked(struct bw_daemon *dm, struct bw_json **result,
                         struct bw_ctl_error *e)
{
	struct bw_diag d = { .emit = bw_log_diag };
	struct bw_conf *nc = NULL, *prev;
	int rc;

	bw_log(LOG_INFO, "reloading %s", dm->conf_path);
	if ((rc = bw_conf_load(dm->conf_path, &nc, &d)) != 0) {
		e->code = BW_CTL_ECONF;
		if (d.first_msg[0] != '\0')
			snprintf(e->msg, sizeof(e->msg), "%.200s:%u: %.280s", d.first_file,
			         d.first_line, d.first_msg);
		else
			snprintf(e->msg, sizeof(e->msg), "%s: %s", dm->conf_path,
			         bw_strerror(rc));
		return rc;
	}
	if (restart_needed(dm->conf_start, nc)) {
		bw_conf_free(nc);
		e->code = BW_CTL_ERESTART;
		snprintf(e->msg, sizeof(e->msg), "changes to listen-on, dataplane, "
		         "directory, control-socket, edns-udp-size, tcp-*, nsid, version "
		         "or server-id take effect only after a restart; nothing was "
		         "applied");
		return BW_EINVAL;
	}
	prev = dm->conf;
	rc = bw_reg_reload(dm->reg, prev, nc, result, e);
	if (rc != 0) {
		bw_conf_free(nc);
		return rc;
	}
	if (dm->flood != NULL) {
		struct bw_json *notes = bw_json_arr();
		bw_floodctl_reconfigure(dm->flood, nc, notes);
		if (*result != NULL && notes->n > 0)
			bw_json_set(*result, "notes", notes);
		else
			bw_json_free(notes);
	}
	pthread_mutex_lock(&dm->conf_mu);
	dm->conf = nc;
	pthread_mutex_unlock(&dm->conf_mu);
	if (prev != dm->conf_start)
		bw_conf_free(prev);
	return 0;
}

int bw_daemon_reload(struct bw_daemon *dm, struct bw_json **result,
                     struct bw_ctl_error *e)
{
	int rc;

	pthread_mutex_lock(&dm->reload_mu);
	rc = reload_locked(dm, result, e);
	pthread_mutex_unlock(&dm->reload_mu);
	if (rc != 0)
		bw_log(LOG_ERR, "reload failed (%s): %s", e->code, e->msg);
	else
		bw_log(LOG_INFO, "reload done: %zu zones", bw_reg_count(dm->reg));
	return rc;
}

static void reload(struct bw_daemon *dm)
{
	struct bw_ctl_error e = { 0 };
	struct bw_json *result = NULL;

	(void)bw_daemon_reload(dm, &result, &e);
	bw_json_free(result);
}

/* ---- Startup and shutdown. ---- */

static void answer_conf(struct bw_daemon *dm)
{
	const struct bw_conf *c = dm->conf_start;

	bw_answer_conf_default(&dm->answer);
	dm->answer.udp_max = c->edns_udp_size;
	dm->answer.nsid = c->nsid;
	dm->answer.nsid_len = (uint16_t)c->nsid_len;
	dm->answer.version_bind = c->version;
	dm->answer.id_server = c->server_id;
	dm->answer.tcp_keepalive = (uint16_t)c->tcp_keepalive_timeout;
}

static int write_pid(struct bw_daemon *dm)
{
	const char *path = dm->conf_start->pid_file;
	FILE *f;

	if (path == NULL)
		return 0;
	f = fopen(path, "w");
	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
	    fclose(f) != 0) {
		bw_log(LOG_ERR, "pid-file %s: %s", path, strerror(errno));
		return BW_EIO;
	}
	dm->pid_written = true;
	return 0;
}

static int start_udp(struct bw_daemon *dm)
{
	const struct bw_conf *c = dm->conf_start;
	struct bw_udp_conf uc = {
		.addrs = c->listen, .naddrs = c->nlisten, .workers = c->workers,
		.cpu_first = c->cpu_first, .answer = &dm->answer,
		.flood = bw_floodctl_workers(dm->flood),
	};
	char err[256] = "";
	int rc = bw_udp_start(&uc, &dm->udp, err, sizeof(err));

	if (rc != 0)
		bw_log(LOG_ERR, "cannot start UDP workers: %s", err);
	return rc;
}

static void dpdk_log(const char *msg)
{
	bw_log(LOG_INFO, "%s", msg);
}

/* The dataplane's view of the `port` statements; freed by the caller. */
static struct bw_dpdk_port_conf *dpdk_ports(const struct bw_conf *c,
                                            char (*names)[16])
{
	struct bw_dpdk_port_conf *pc = calloc(c->nports, sizeof(*pc));
	struct bw_dpdk_addr *addrs;
	size_t total = 0;

	for (size_t i = 0; i < c->nports; i++)
		total += c->ports[i].naddrs;
	addrs = calloc(total + 1, sizeof(*addrs));
	if (pc == NULL || addrs == NULL) {
		free(pc);
		free(addrs);
		return NULL;
	}
	for (size_t i = 0; i < c->nports; i++) {
		const struct bw_conf_port *cp = &c->ports[i];

		pc[i].name = cp->name;
		snprintf(names[i], sizeof(names[i]), "bwx%u", (unsigned)(i % 1000));
		pc[i].exception = cp->no_exception ? NULL :
		                  cp->exception != NULL ? cp->exception : names[i];
		pc[i].addrs = addrs;
		pc[i].naddrs = cp->naddrs;
		for (size_t k = 0; k < cp->naddrs; k++, addrs++) {
			addrs->ss = cp->addrs[k].ss;
			addrs->prefix = cp->addrs[k].prefix;
		}
	}
	return pc;
}

static int start_dpdk(struct bw_daemon *dm)
{
	const struct bw_conf *c = dm->conf_start;
	char (*names)[16] = calloc(c->nports + 1, sizeof(*names));
	struct bw_dpdk_port_conf *pc = names != NULL ? dpdk_ports(c, names) : NULL;
	struct bw_dpdk_conf dc = {
		.eal_args = c->eal_args, .ports = pc, .nports = c->nports,
		.workers = c->workers, .lcore_first = c->cpu_first,
		.mbufs = c->mbufs, .answer = &dm->answer, .log = dpdk_log,
		.flood = bw_floodctl_workers(dm->flood),
	};
	char err[512] = "";
	int rc = pc == NULL ? BW_ENOMEM : bw_dpdk_start(&dc, &dm->dpdk, err, sizeof(err));

	if (rc != 0)
		bw_log(LOG_ERR, "cannot start the DPDK dataplane: %s",
		       err[0] != '\0' ? err : bw_strerror(rc));
	if (pc != NULL)
		free((void *)pc[0].addrs);
	free(pc);
	free(names);
	return rc;
}

static int start_tcp(struct bw_daemon *dm)
{
	const struct bw_conf *c = dm->conf_start;
	struct bw_tcp_conf tc = {
		.addrs = c->listen, .naddrs = c->nlisten,
		.max_conns = c->tcp_clients,
		.per_client = c->tcp_clients_per_address,
		.idle_ms = c->tcp_idle_timeout * 100u,
		.keepalive_ms = c->tcp_keepalive_timeout * 100u,
		.answer = &dm->answer,
		.stats_slot = c->workers,  /* After the UDP/DPDK workers' rows. */
		.flood = bw_floodctl_workers(dm->flood)[c->workers],
	};
	char err[256] = "";
	int rc = bw_tcp_start(&tc, &dm->tcp, err, sizeof(err));

	if (rc != 0)
		bw_log(LOG_ERR, "cannot start TCP: %s", err);
	return rc;
}

static void summary(const struct bw_daemon *dm)
{
	const struct bw_conf *c = dm->conf_start;
	char addr[INET6_ADDRSTRLEN + 32];

	bw_log(LOG_NOTICE, "bulwarkd %s started: io %s, %u worker%s, "
	       "%zu zone%s", BW_VERSION, c->io == BW_CONF_IO_DPDK ? "dpdk" : "socket",
	       c->workers, c->workers == 1 ? "" : "s",
	       bw_reg_count(dm->reg), bw_reg_count(dm->reg) == 1 ? "" : "s");
	for (size_t i = 0; i < c->nlisten; i++) {
		bw_conf_addr_text(&c->listen[i].ss, addr, sizeof(addr));
		bw_log(LOG_INFO, "listening on %s (%s)", addr,
		       c->io == BW_CONF_IO_DPDK ? "TCP" : "UDP, TCP");
	}
	if (c->control_socket != NULL)
		bw_log(LOG_INFO, "control socket %s", c->control_socket);
}

static int start_ctl(struct bw_daemon *dm)
{
	struct bw_ctl_conf cc = {
		.path = dm->conf_start->control_socket, .cmds = bw_daemon_commands,
		.ncmds = bw_daemon_ncommands, .ctx = dm,
	};
	char err[512] = "";
	int rc;

	if (cc.path == NULL)
		return 0;
	rc = bw_ctl_start(&cc, &dm->ctl, err, sizeof(err));
	if (rc != 0)
		bw_log(LOG_ERR, "cannot start the control socket: %s", err);
	return rc;
}

static int start_zones(struct bw_daemon *dm)
{
	const struct bw_conf *c = dm->conf_start;

	/* One counter row per UDP or DPDK worker, and one for TCP. */
	dm->reg = bw_reg_new(c->directory, c->workers + 1);
	if (dm->reg == NULL)
		return BW_ENOMEM;
	(void)bw_reg_start(dm->reg, c);  /* Failed zones are logged, skipped. */
	return 0;
}

/* The workers' mitigation state, before the workers. */
static int start_flood(struct bw_daemon *dm)
{
	char err[256] = "";
	int rc = bw_floodctl_start(dm->conf_start, dm->conf_start->workers,
	                           &dm->flood, err, sizeof(err));

	if (rc != 0)
		bw_log(LOG_ERR, "cannot start: %s", err);
	return rc;
}

static int start(struct bw_daemon *dm)
{
	struct bw_diag d = { .emit = bw_log_diag };
	int rc = bw_conf_load(dm->conf_path, &dm->conf_start, &d);

	if (rc != 0) {
		bw_log(LOG_ERR, "%s: cannot load the configuration: %s",
		       dm->conf_path, bw_strerror(rc));
		return rc;
	}
	dm->conf = dm->conf_start;
	dm->started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &dm->started_mono);
	answer_conf(dm);
	/* The control socket first: a second daemon on it stops here. */
	rc = start_ctl(dm);
	if (rc == 0)
		rc = start_zones(dm);
	if (rc == 0)
		rc = start_flood(dm);
	if (rc == 0)
		rc = dm->conf_start->io == BW_CONF_IO_DPDK ? start_dpdk(dm) : start_udp(dm);
	/* With io dpdk, TCP is served only where listen-on asks for it. */
	if (rc == 0 && (dm->conf_start->io != BW_CONF_IO_DPDK ||
	                dm->conf_start->nlisten > 0))
		rc = start_tcp(dm);
	if (rc == 0)
		rc = write_pid(dm);
	if (rc == 0)
		summary(dm);
	return rc;
}

static void log_stats(const struct bw_udp *udp)
{
	struct bw_udp_stats st;

	bw_udp_stats(udp, &st);
	bw_log(LOG_INFO, "UDP: %" PRIu64 " received, %" PRIu64 " sent, %" PRIu64
	       " dropped; NOERROR %" PRIu64 ", NXDOMAIN %" PRIu64 ", REFUSED %"
	       PRIu64, st.rx, st.tx, st.dropped, st.rcode[BW_RCODE_NOERROR],
	       st.rcode[BW_RCODE_NXDOMAIN], st.rcode[BW_RCODE_REFUSED]);
}

static void log_dpdk_stats(const struct bw_dpdk *dp)
{
	struct bw_pkt_stats st;
	char drops[512] = "", exc[512] = "";
	size_t nd = 0, ne = 0;

	for (unsigned w = 0; w <= bw_dpdk_workers(dp); w++) {
		unsigned which = w < bw_dpdk_workers(dp) ? w : BW_DPDK_ALL_WORKERS;

		bw_dpdk_stats(dp, which, &st);
		nd = ne = 0;
		drops[0] = exc[0] = '\0';
		for (unsigned i = 0; i < BW_DROP_MAX; i++)
			if (st.drop[i] != 0 && nd < sizeof(drops))
				nd += (size_t)snprintf(drops + nd, sizeof(drops) - nd, " %s %" PRIu64,
				                       bw_pkt_drop_names[i], st.drop[i]);
		for (unsigned i = 0; i < BW_EXC_MAX; i++)
			if (st.exc[i] != 0 && ne < sizeof(exc))
				ne += (size_t)snprintf(exc + ne, sizeof(exc) - ne, " %s %" PRIu64,
				                       bw_pkt_exc_names[i], st.exc[i]);
		char who[32];
		if (which == BW_DPDK_ALL_WORKERS)
			snprintf(who, sizeof(who), "DPDK");
		else
			snprintf(who, sizeof(who), "DPDK worker %u", w);
		bw_log(LOG_INFO, "%s: %" PRIu64 " received, %" PRIu64 " sent, %" PRIu64
		       " answers (NOERROR %" PRIu64 ", NXDOMAIN %" PRIu64 ", REFUSED %"
		       PRIu64 ", FORMERR %" PRIu64 ", TC %" PRIu64 "), ARP %" PRIu64
		       ", ND %" PRIu64 ", echo %" PRIu64 "; dropped:%s; to the kernel:%s",
		       who, st.rx, st.tx, st.answers, st.rcode[BW_RCODE_NOERROR],
		       st.rcode[BW_RCODE_NXDOMAIN], st.rcode[BW_RCODE_REFUSED],
		       st.rcode[BW_RCODE_FORMERR], st.tc, st.arp, st.nd, st.echo,
		       nd > 0 ? drops : " none", ne > 0 ? exc : " none");
	}
}

static void log_tcp_stats(const struct bw_tcp *tcp)
{
	struct bw_tcp_stats st;

	bw_tcp_stats(tcp, &st, NULL);
	bw_log(LOG_INFO, "TCP: %" PRIu64 " connections (%" PRIu64 " closed idle, %"
	       PRIu64 " to make room, %" PRIu64 " on errors, %" PRIu64
	       " refused over tcp-clients-per-address), %" PRIu64
	       " queries, %" PRIu64 " answered, %" PRIu64 " dropped",
	       st.accepted, st.closed_idle, st.evicted, st.closed_error,
	       st.refused_per_client, st.rx, st.tx, st.dropped);
}

static void log_all_stats(const struct bw_daemon *dm)
{
	if (dm->udp != NULL)
		log_stats(dm->udp);
	if (dm->dpdk != NULL)
		log_dpdk_stats(dm->dpdk);
	if (dm->tcp != NULL)
		log_tcp_stats(dm->tcp);
}

static void shutdown_all(struct bw_daemon *dm)
{
	/* The control socket first: a running command finishes, and the
	 * reply to `stop` goes out. */
	bw_ctl_stop(dm->ctl);
	log_all_stats(dm);
	bw_tcp_stop(dm->tcp);
	bw_udp_stop(dm->udp);
	bw_dpdk_stop(dm->dpdk);
	bw_floodctl_stop(dm->flood);
	bw_reg_free(dm->reg);
	if (dm->pid_written)
		(void)unlink(dm->conf_start->pid_file);
	if (dm->conf != dm->conf_start)
		bw_conf_free(dm->conf);
	bw_conf_free(dm->conf_start);
	bw_json_free(dm->stats_base);
}

/* Signals are blocked in every thread and taken here, synchronously. */
static void serve(struct bw_daemon *dm, const sigset_t *set)
{
	for (;;) {
		int sig = sigwaitinfo(set, NULL);

		if (sig == SIGHUP) {
			reload(dm);
		} else if (sig == SIGUSR1) {
			log_all_stats(dm);
		} else if (sig == SIGTERM || sig == SIGINT) {
			bw_log(LOG_NOTICE, "%s: stopping", strsignal(sig));
			return;
		}
	}
}

/* ---- Command line. ---- */

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: bulwarkd [-c CONF] [-f] [-s] [-v] [-V] [-h]\n"
	        "  -c CONF  configuration file (default " DEFAULT_CONF ")\n"
	        "  -f       run in the foreground (this version always does)\n"
	        "  -s       log to syslog (facility daemon) instead of stderr\n"
	        "  -v       verbose: log debug messages\n"
	        "  -V       print the version and exit\n"
	        "  -h       print this help and exit\n"
	        "Signals: SIGHUP reloads the configuration, SIGUSR1 logs the counters,\n"
	        "SIGTERM/SIGINT stop.\n");
}

/* Returns -1 to go on, otherwise the exit status. */
static int parse_args(int argc, char **argv, struct bw_daemon *dm)
{
	int opt;

	while ((opt = getopt(argc, argv, "c:fsvVh")) != -1) {
		switch (opt) {
		case 'c': dm->conf_path = optarg; break;
		case 'f': break;
		case 's': bw_log_to_syslog(); break;
		case 'v': bw_log_set_level(LOG_DEBUG); break;
		case 'V': printf("bulwarkd %s\n", BW_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default:  usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bulwarkd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct bw_daemon dm = {
		.conf_path = DEFAULT_CONF,
		.conf_mu = PTHREAD_MUTEX_INITIALIZER,
		.reload_mu = PTHREAD_MUTEX_INITIALIZER,
	};
	sigset_t set;
	int rc = parse_args(argc, argv, &dm);

	if (rc >= 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	rc = start(&dm);
	if (rc == 0)
		serve(&dm, &set);
	shutdown_all(&dm);
	if (rc != 0)
		bw_log(LOG_ERR, "bulwarkd did not start");
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
