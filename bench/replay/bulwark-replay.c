/*  bulwark-replay — a DPDK DNS traffic generator for capacity tests.
 *
 *  bulwark-replay [EAL options] -- [options]   (see docs/replay.md)
 *
 *  One lcore sends and receives in a loop: queries paced with the TSC
 *  against a schedule (fixed rate, as fast as possible, or a ramp),
 *  responses matched to an outstanding-query table indexed by the client
 *  port and DNS ID, latencies in log-linear histograms.  Nothing is
 *  allocated in the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "replay.h"

#define RX_DESC     1024
#define TX_DESC     1024
#define POOL_MBUFS  16383
#define POOL_CACHE  256
#define LINK_WAIT_MS 3000

enum slot_state { SLOT_FREE = 0, SLOT_SENT, SLOT_ANSWERED };

/*! One outstanding query. */
struct slot {
	uint64_t tsc;        /*!< When it was sent. */
	uint32_t key;        /*!< Client address key. */
	uint16_t id;         /*!< DNS ID. */
	uint8_t state;       /*!< enum slot_state */
};

enum pace { PACE_RATE, PACE_MAX, PACE_RAMP };

struct opts {
	uint16_t port;
	const char *pcaps[64];
	unsigned npcaps;
	const char *queries;
	bool dnssec_ok, quiet, loops_set;
	enum pace pace;
	double rate, ramp_start, ramp_step, ramp_max;
	uint64_t loops;
	double duration;
	double timeout_ms;
	const char *json;
	const char *src_mac;
	struct bw_replay_rewrite rw;
};

/*! Everything the packet loop uses. */
struct run {
	const struct opts *o;
	struct bw_replay_set set;
	struct bw_replay_rewrite rw;
	struct rte_mempool *pool;
	struct slot *slots;
	uint64_t seq, expire, outstanding, limit;
	uint64_t hz, t0, t_stop, timeout, last_send, next_sec;
	double seconds;                  /*!< Length of the sending, or 0. */
	uint64_t seg_tsc, seg_seq;       /*!< Pacing: the schedule's origin. */
	double seg_rate;
	bool sending;
	struct bw_replay_stats st;
	char port_name[RTE_ETH_NAME_MAX_LEN];
};

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
	(void)sig;
	stop_now = 1;
}

/* ---- Options. ---- */

static void usage(FILE *f)
{
	fprintf(f,
	"usage: bulwark-replay [EAL options] -- [options]\n"
	"  --port N             DPDK port (default 0)\n"
	"  --pcap FILE          queries to send (repeatable; pcap or pcapng)\n"
	"  --queries FILE       \"NAME TYPE\" lines instead of pcaps (EDNS0 1232)\n"
	"  --do                 with --queries: DO=1\n"
	"  --dst-mac MAC --dst4 ADDR --dst6 ADDR --dst-port P   rewrite destination\n"
	"  --src-mac MAC        source MAC (default: the port's)\n"
	"  --src4 PREFIX --src6 PREFIX   spread sources over these prefixes\n"
	"  --rate QPS | --max | --ramp START:STEP:MAX   pacing (default 1000 q/s)\n"
	"  --loops N | --duration S      length (default 1 loop)\n"
	"  --timeout MS         a query unanswered this long is lost (1000)\n"
	"  --json FILE          the report as JSON (\"-\": stdout)\n"
	"  --quiet              no progress line\n");
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
	           &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_num(const char *s, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min)
		return -1;
	*out = v;
	return 0;
}

static int parse_ramp(const char *s, struct opts *o)
{
	if (sscanf(s, "%lf:%lf:%lf", &o->ramp_start, &o->ramp_step, &o->ramp_max) != 3 ||
	    o->ramp_start <= 0 || o->ramp_step < 0 || o->ramp_max < o->ramp_start)
		return -1;
	o->pace = PACE_RAMP;
	return 0;
}

enum {
	OPT_PORT = 256, OPT_PCAP, OPT_QUERIES, OPT_DO, OPT_DST_MAC, OPT_DST4,
	OPT_DST6, OPT_DST_PORT, OPT_SRC_MAC, OPT_SRC4, OPT_SRC6, OPT_RATE, OPT_MAX,
	OPT_RAMP, OPT_LOOPS, OPT_DURATION, OPT_TIMEOUT, OPT_JSON, OPT_QUIET, OPT_HELP,
};

static const struct option long_opts[] = {
	{"port", required_argument, NULL, OPT_PORT},
	{"pcap", required_argument, NULL, OPT_PCAP},
	{"queries", required_argument, NULL, OPT_QUERIES},
	{"do", no_argument, NULL, OPT_DO},
	{"dst-mac", required_argument, NULL, OPT_DST_MAC},
	{"dst4", required_argument, NULL, OPT_DST4},
	{"dst6", required_argument, NULL, OPT_DST6},
	{"dst-port", required_argument, NULL, OPT_DST_PORT},
	{"src-mac", required_argument, NULL, OPT_SRC_MAC},
	{"src4", required_argument, NULL, OPT_SRC4},
	{"src6", required_argument, NULL, OPT_SRC6},
	{"rate", required_argument, NULL, OPT_RATE},
	{"max", no_argument, NULL, OPT_MAX},
	{"ramp", required_argument, NULL, OPT_RAMP},
	{"loops", required_argument, NULL, OPT_LOOPS},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"json", required_argument, NULL, OPT_JSON},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

/* One option; returns 0 or -1 (bad value). */
static int opt_one(struct opts *o, int c, const char *arg)
{
	struct bw_replay_rewrite *rw = &o->rw;
	double v;

	switch (c) {
	case OPT_PORT:
		if (parse_num(arg, 0, &v) != 0 || v >= RTE_MAX_ETHPORTS)
			return -1;
		o->port = (uint16_t)v;
		return 0;
	case OPT_PCAP:
		if (o->npcaps == sizeof(o->pcaps) / sizeof(o->pcaps[0]))
			return -1;
		o->pcaps[o->npcaps++] = arg;
		return 0;
	case OPT_QUERIES: o->queries = arg; return 0;
	case OPT_DO: o->dnssec_ok = true; return 0;
	case OPT_DST_MAC:
		rw->dst_mac_set = true;
		return parse_mac(arg, rw->dst_mac);
	case OPT_DST4:
		rw->dst4_set = true;
		return inet_pton(AF_INET, arg, rw->dst4) == 1 ? 0 : -1;
	case OPT_DST6:
		rw->dst6_set = true;
		return inet_pton(AF_INET6, arg, rw->dst6) == 1 ? 0 : -1;
	case OPT_DST_PORT:
		if (parse_num(arg, 1, &v) != 0 || v > 65535)
			return -1;
		rw->dst_port_set = true;
		rw->dst_port = (uint16_t)v;
		return 0;
	case OPT_SRC_MAC: o->src_mac = arg; return parse_mac(arg, rw->src_mac);
	case OPT_SRC4: return bw_replay_prefix_parse(arg, false, &rw->src4);
	case OPT_SRC6: return bw_replay_prefix_parse(arg, true, &rw->src6);
	case OPT_RATE: o->pace = PACE_RATE; return parse_num(arg, 1e-3, &o->rate);
	case OPT_MAX: o->pace = PACE_MAX; return 0;
	case OPT_RAMP: return parse_ramp(arg, o);
	case OPT_LOOPS:
		if (parse_num(arg, 1, &v) != 0)
			return -1;
		o->loops = (uint64_t)v;
		o->loops_set = true;
		return 0;
	case OPT_DURATION: return parse_num(arg, 1e-3, &o->duration);
	case OPT_TIMEOUT: return parse_num(arg, 1, &o->timeout_ms);
	case OPT_JSON: o->json = arg; return 0;
	case OPT_QUIET: o->quiet = true; return 0;
	default: return -1;
	}
}

/* Returns 0, 1 (--help) or -1. */
static int opts_parse(struct opts *o, int argc, char **argv)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->pace = PACE_RATE;
	o->rate = 1000;
	o->loops = 1;
	o->timeout_ms = 1000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP)
			return 1;
		if (opt_one(o, c, optarg) != 0) {
			fprintf(stderr, "bulwark-replay: bad option %s%s%s\n",
			        argv[optind - 1], optarg ? " " : "", optarg ? optarg : "");
			return -1;
		}
	}
	if (optind != argc || (o->npcaps == 0) == (o->queries == NULL)) {
		fprintf(stderr, "bulwark-replay: give --pcap FILE... or --queries FILE\n");
		return -1;
	}
	return 0;
}

/* ---- Queries. ---- */

static int load(struct run *r)
{
	const struct opts *o = r->o;
	char err[512];
	bool v6 = !o->rw.dst4_set && o->rw.dst6_set;

	for (unsigned i = 0; i < o->npcaps; i++)
		if (bw_replay_load_pcap(&r->set, o->pcaps[i], err, sizeof(err)) != 0)
			goto fail;
	if (o->queries != NULL) {
		if (!o->rw.dst_mac_set || !(o->rw.dst4_set || o->rw.dst6_set)) {
			snprintf(err, sizeof(err), "--queries needs --dst-mac and --dst4 "
			         "or --dst6");
			goto fail;
		}
		if (bw_replay_load_queries(&r->set, o->queries, v6, o->dnssec_ok, err,
		                           sizeof(err)) != 0)
			goto fail;
		if (!v6 && !r->rw.src4.set)
			(void)bw_replay_prefix_parse("198.51.100.0/24", false, &r->rw.src4);
		if (v6 && !r->rw.src6.set)
			(void)bw_replay_prefix_parse("2001:db8:1::/48", true, &r->rw.src6);
	}
	if (r->set.n == 0) {
		snprintf(err, sizeof(err), "no UDP DNS queries to send (%llu frames "
		         "read, all skipped)", (unsigned long long)r->set.frames);
		goto fail;
	}
	bw_replay_set_sources(&r->set);
	return 0;
fail:
	fprintf(stderr, "bulwark-replay: %s\n", err);
	return -1;
}

/* ---- The port. ---- */

static int port_init(struct run *r)
{
	struct rte_eth_conf conf;
	struct rte_ether_addr mac;
	struct rte_eth_link link;
	uint16_t pid = r->o->port, nrx = RX_DESC, ntx = TX_DESC;
	int socket, rc;

	if (!rte_eth_dev_is_valid_port(pid)) {
		fprintf(stderr, "bulwark-replay: no port %u (%u available; give one "
		        "with --vdev or a PCI device)\n", pid, rte_eth_dev_count_avail());
		return -1;
	}
	socket = rte_eth_dev_socket_id(pid);
	if (socket < 0)
		socket = (int)rte_socket_id();
	r->pool = rte_pktmbuf_pool_create("replay_mbufs", POOL_MBUFS, POOL_CACHE, 0,
	                                  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (r->pool == NULL) {
		fprintf(stderr, "bulwark-replay: mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(pid, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(pid, 0, nrx, (unsigned)socket, NULL, r->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(pid, 0, ntx, (unsigned)socket, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(pid);
	if (rc != 0) {
		fprintf(stderr, "bulwark-replay: port %u: %s\n", pid, rte_strerror(-rc));
		return -1;
	}
	(void)rte_eth_promiscuous_enable(pid);
	(void)rte_eth_allmulticast_enable(pid);
	(void)rte_eth_dev_get_name_by_port(pid, r->port_name);
	if (r->o->src_mac == NULL && rte_eth_macaddr_get(pid, &mac) == 0)
		memcpy(r->rw.src_mac, mac.addr_bytes, 6);
	for (int ms = 0; ms < LINK_WAIT_MS; ms += 100) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(pid, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			break;
		rte_delay_ms(100);
	}
	return 0;
}

/* ---- Pacing. ---- */

/* How many queries the schedule wants sent by \a now. */
static uint64_t due(const struct run *r, uint64_t now)
{
	if (r->o->pace == PACE_MAX)
		return UINT64_MAX;
	if (now <= r->seg_tsc)
		return r->seg_seq;
	return r->seg_seq + (uint64_t)((double)(now - r->seg_tsc) * r->seg_rate /
	                               (double)r->hz) + 1;
}

/* A ramp starts a new segment, STEP faster, at each second. */
static void ramp_step(struct run *r, uint64_t at)
{
	const struct opts *o = r->o;

	if (o->pace != PACE_RAMP || !r->sending)
		return;
	uint64_t d = due(r, at);
	r->seg_seq = d > 0 ? d - 1 : 0;
	r->seg_tsc = at;
	r->seg_rate = r->seg_rate + o->ramp_step;
	if (r->seg_rate > o->ramp_max)
		r->seg_rate = o->ramp_max;
}

/* ---- The loop. ---- */

/* Frees slots whose query timed out (lost) or was answered long enough
 * ago; always keeps room for a burst in the table. */
static void expire(struct run *r, uint64_t now)
{
	while (r->expire < r->seq) {
		struct slot *s = &r->slots[r->expire & (BW_REPLAY_SLOTS - 1)];
		bool old = now - s->tsc > r->timeout;
		bool full = r->seq - r->expire > BW_REPLAY_SLOTS - 2 * BW_REPLAY_BURST;

		if (s->state == SLOT_SENT && !old)
			break;
		if (s->state == SLOT_ANSWERED && !old && !full)
			break;
		if (s->state == SLOT_SENT) {
			r->st.lost++;
			r->st.cur_lost++;
			r->outstanding--;
		}
		s->state = SLOT_FREE;
		r->expire++;
	}
}

/* Sends up to \a n queries from r->seq on. */
static void send_burst(struct run *r, unsigned n, uint64_t now)
{
	struct rte_mbuf *m[BW_REPLAY_BURST];
	uint16_t k;

	if (rte_pktmbuf_alloc_bulk(r->pool, m, n) != 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		uint64_t seq = r->seq + i;
		const struct bw_replay_tmpl *t = &r->set.t[seq % r->set.n];
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(m[i], t->len);
		struct slot *s = &r->slots[seq & (BW_REPLAY_SLOTS - 1)];

		s->key = bw_replay_build(&r->set, t, &r->rw, seq, d);
		s->id = bw_replay_id(seq);
		s->tsc = now;
		s->state = SLOT_SENT;
	}
	k = rte_eth_tx_burst(r->o->port, 0, m, (uint16_t)n);
	if (k < n) {
		/* The ring is full: these go out again with the next burst. */
		rte_pktmbuf_free_bulk(m + k, n - k);
		for (unsigned i = k; i < n; i++)
			r->slots[(r->seq + i) & (BW_REPLAY_SLOTS - 1)].state = SLOT_FREE;
		r->st.tx_full += n - k;
	}
	r->seq += k;
	r->outstanding += k;
	r->st.sent += k;
	r->st.cur_sent += k;
	r->st.tx += k;
	if (k > 0)
		r->last_send = now;
}

/* Stops sending at the end of the schedule or on a signal. */
static void check_stop(struct run *r, uint64_t now)
{
	if (r->sending && (stop_now || r->seq >= r->limit ||
	                   (r->t_stop != 0 && now >= r->t_stop))) {
		r->sending = false;
		r->st.duration_s = (double)((r->seq >= r->limit ? r->last_send : now) -
		                            r->t0) / (double)r->hz;
	}
}

static void tx_step(struct run *r, uint64_t now)
{
	uint64_t want, room;
	unsigned n;

	check_stop(r, now);
	if (!r->sending)
		return;
	want = due(r, now);
	if (want > r->limit)
		want = r->limit;
	if (want <= r->seq)
		return;
	room = BW_REPLAY_SLOTS - 2 * BW_REPLAY_BURST - (r->seq - r->expire);
	n = (unsigned)RTE_MIN(want - r->seq, (uint64_t)BW_REPLAY_BURST);
	if (r->seq - r->expire >= BW_REPLAY_SLOTS - 2 * BW_REPLAY_BURST)
		return;
	if (n > room)
		n = (unsigned)room;
	send_burst(r, n, now);
}

/* One response: matched, a duplicate, or unmatched. */
static void answer(struct run *r, const struct bw_replay_resp *p, uint64_t now)
{
	struct slot *s = &r->slots[p->slot];

	if (s->state == SLOT_FREE || s->key != p->key || s->id != p->id) {
		r->st.unmatched++;
		return;
	}
	if (s->state == SLOT_ANSWERED) {
		r->st.duplicates++;
		return;
	}
	s->state = SLOT_ANSWERED;
	r->outstanding--;
	r->st.answered++;
	r->st.cur_answered++;
	r->st.rcode[p->rcode < BW_REPLAY_RCODES - 1 ? p->rcode : BW_REPLAY_RCODES - 1]++;
	if (p->tc) {
		r->st.tc++;
		r->st.cur_tc++;
	}
	bw_replay_hist_add(&r->st.total, now - s->tsc);
	bw_replay_hist_add(&r->st.cur, now - s->tsc);
}

static void rx_step(struct run *r, uint64_t now)
{
	struct rte_mbuf *m[BW_REPLAY_BURST], *reply[BW_REPLAY_BURST];
	uint16_t n = rte_eth_rx_burst(r->o->port, 0, m, BW_REPLAY_BURST), nr = 0;
	struct bw_replay_resp p;
	bool arp;

	r->st.rx += n;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t len = rte_pktmbuf_data_len(m[i]);
		uint8_t *f = rte_pktmbuf_mtod(m[i], uint8_t *);
		enum bw_replay_rx what = m[i]->nb_segs == 1 && rte_pktmbuf_tailroom(m[i]) >= 64 ?
			bw_replay_parse(&r->set, &r->rw, f, &len, &p, &arp) : BW_REPLAY_RX_OTHER;

		if (what == BW_REPLAY_RX_RESPONSE) {
			answer(r, &p, now);
		} else if (what == BW_REPLAY_RX_REPLY) {
			m[i]->data_len = len;
			m[i]->pkt_len = len;
			reply[nr++] = m[i];
			m[i] = NULL;
			if (arp)
				r->st.arp_replies++;
			else
				r->st.nd_replies++;
		} else {
			r->st.rx_other++;
		}
	}
	for (uint16_t i = 0; i < n; i++)
		if (m[i] != NULL)
			rte_pktmbuf_free(m[i]);
	if (nr > 0) {
		uint16_t k = rte_eth_tx_burst(r->o->port, 0, reply, nr);
		if (k < nr)
			rte_pktmbuf_free_bulk(reply + k, nr - k);
	}
}

/* The end of a second: its record, the progress line, the ramp. */
static void tick(struct run *r, uint64_t now, bool tty)
{
	if (now < r->next_sec)
		return;
	bw_replay_second_close(&r->st, 1.0);
	if (!r->o->quiet)
		bw_replay_progress(&r->st, tty);
	ramp_step(r, r->next_sec);
	r->next_sec += r->hz;
}

static bool done(const struct run *r, uint64_t now)
{
	return !r->sending && (r->outstanding == 0 || now - r->last_send > r->timeout);
}

static void run_loop(struct run *r)
{
	bool tty = isatty(STDERR_FILENO);
	uint64_t now = rte_rdtsc();

	r->t0 = r->seg_tsc = r->last_send = now;
	r->next_sec = now + r->hz;
	r->sending = true;
	if (r->seconds > 0)
		r->t_stop = now + (uint64_t)(r->seconds * (double)r->hz);
	while (!done(r, now)) {
		tick(r, now, tty);
		tx_step(r, now);
		rx_step(r, now);
		expire(r, now);
		now = rte_rdtsc();
	}
	/* What is left timed out. */
	r->timeout = 0;
	expire(r, now + 1);
	double part = (double)(now - (r->next_sec - r->hz)) / (double)r->hz;
	if (r->st.cur_sent || r->st.cur_answered || r->st.cur_lost)
		bw_replay_second_close(&r->st, part);
	if (!r->o->quiet) {
		bw_replay_progress(&r->st, tty);
		if (tty)
			fputc('\n', stderr);
	}
}

/* ---- Set-up. ---- */

static int run_setup(struct run *r)
{
	const struct opts *o = r->o;

	r->hz = rte_get_tsc_hz();
	r->st.tsc_hz = (double)r->hz;
	r->timeout = (uint64_t)(o->timeout_ms * (double)r->hz / 1000.0);
	r->slots = calloc(BW_REPLAY_SLOTS, sizeof(*r->slots));
	r->st.sec = calloc(BW_REPLAY_SECONDS_MAX, sizeof(*r->st.sec));
	if (r->slots == NULL || r->st.sec == NULL) {
		fprintf(stderr, "bulwark-replay: out of memory\n");
		return -1;
	}
	r->seconds = o->duration;
	/* A ramp alone runs until the second at MAX q/s has been sent. */
	if (o->pace == PACE_RAMP && o->duration <= 0 && !o->loops_set)
		r->seconds = 1 + (o->ramp_step > 0 ?
		             (double)(uint64_t)((o->ramp_max - o->ramp_start) / o->ramp_step) : 0);
	r->limit = r->seconds > 0 && !o->loops_set ? UINT64_MAX :
	           o->loops * (uint64_t)r->set.n;
	r->seg_rate = o->pace == PACE_RAMP ? o->ramp_start : o->rate;
	return 0;
}

static int report(const struct run *r)
{
	const struct opts *o = r->o;
	FILE *f = stdout;

	if (o->json != NULL && strcmp(o->json, "-") != 0 &&
	    (f = fopen(o->json, "w")) == NULL) {
		fprintf(stderr, "bulwark-replay: %s: %s\n", o->json, strerror(errno));
		return -1;
	}
	if (o->json != NULL) {
		bw_replay_report_json(&r->st, &r->set, r->port_name, f);
		if (f != stdout && fclose(f) != 0)
			return -1;
	}
	bw_replay_report_text(&r->st, o->json != NULL && f == stdout ? stderr : stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static struct run r;
	struct opts o;
	int n = rte_eal_init(argc, argv);

	if (n < 0) {
		fprintf(stderr, "bulwark-replay: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[n] = argv[0];
	int rc = opts_parse(&o, argc - n, argv + n);
	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		rte_eal_cleanup();
		return rc > 0 ? 0 : 1;
	}
	r.o = &o;
	r.rw = o.rw;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = load(&r) == 0 && run_setup(&r) == 0 && port_init(&r) == 0 ? 0 : 1;
	if (rc == 0) {
		run_loop(&r);
		rc = report(&r) == 0 ? 0 : 1;
		(void)rte_eth_dev_stop(o.port);
		(void)rte_eth_dev_close(o.port);
	}
	bw_replay_set_free(&r.set);
	free(r.slots);
	free(r.st.sec);
	rte_eal_cleanup();
	return rc;
}
