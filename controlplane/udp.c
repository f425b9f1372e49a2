/*  bulwark — `io socket`: UDP over kernel sockets.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "bulwark/err.h"
#include "bulwark/flood.h"
#include "bulwark/zoneset.h"
#include "udp.h"

#define UDP_MSG_MAX  65535  /* Largest datagram taken or sent. */
#define UDP_WAIT_MS  100    /* Longest wait before a stop is seen. */
#define UDP_RCVBUF   (1 << 20)

/* Room for one IP_PKTINFO or IPV6_PKTINFO control message. */
union udp_cmsg {
	struct cmsghdr hdr;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

/* One listen socket of a worker. */
struct udp_sock {
	int fd;
	bool wild;                /* Bound to any: answer from the query's
	                             destination address (pktinfo). */
};

/* Per-worker state: counters first, on their own cache lines. */
struct udp_worker {
	struct bw_udp_stats st;
	struct bw_udp *u;
	unsigned id;
	struct bw_flood_worker *flood;   /* NULL: no mitigation. */
	const struct bw_flood_policy *pol;  /* Snapshot for the batch. */
	struct bw_flood_req rq;          /* Times of the batch. */
	pthread_t thread;
	bool started;
	struct udp_sock *socks;
	struct pollfd *pfd;
	uint8_t *qbuf;            /* BW_UDP_BURST queries. */
	uint8_t *rbuf;            /* BW_UDP_BURST responses. */
	struct mmsghdr rx[BW_UDP_BURST];
	struct mmsghdr tx[BW_UDP_BURST];
	struct iovec rx_iov[BW_UDP_BURST];
	struct iovec tx_iov[BW_UDP_BURST];
	struct sockaddr_storage peer[BW_UDP_BURST];
	union udp_cmsg rx_cmsg[BW_UDP_BURST];
	union udp_cmsg tx_cmsg[BW_UDP_BURST];
} __attribute__((aligned(64)));

struct bw_udp {
	struct bw_udp_conf conf;
	struct udp_worker *workers;
	int stop;                 /* Set once; read with relaxed loads. */
};

/* ---- Counters. ---- */

unsigned bw_udp_workers(const struct bw_udp *u)
{
	return u->conf.workers;
}

void bw_udp_worker_stats(const struct bw_udp *u, unsigned w,
                         struct bw_udp_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < u->conf.workers; i++) {
		if (w < u->conf.workers && i != w)
			continue;
		const struct bw_udp_stats *st = &u->workers[i].st;

		sum->rx += bw_stat_get(&st->rx);
		sum->tx += bw_stat_get(&st->tx);
		sum->dropped += bw_stat_get(&st->dropped);
		for (unsigned r = 0; r < BW_UDP_RCODES; r++)
			sum->rcode[r] += bw_stat_get(&st->rcode[r]);
	}
}

void bw_udp_stats(const struct bw_udp *u, struct bw_udp_stats *sum)
{
	bw_udp_worker_stats(u, ~0u, sum);
}

/* ---- The packet loop. ---- */

static void rx_prepare(struct udp_worker *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct msghdr *h = &w->rx[i].msg_hdr;

		h->msg_name = &w->peer[i];
		h->msg_namelen = sizeof(w->peer[i]);
		h->msg_iov = &w->rx_iov[i];
		h->msg_iovlen = 1;
		h->msg_control = &w->rx_cmsg[i];
		h->msg_controllen = sizeof(w->rx_cmsg[i]);
		h->msg_flags = 0;
	}
}

/*
 * Source address for a reply on a wildcard socket: the query's destination,
 * taken from its pktinfo.  Returns the control length, 0 when none.
 */
static size_t tx_pktinfo(const struct msghdr *rx, union udp_cmsg *out)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(rx); c != NULL; c = CMSG_NXTHDR((struct msghdr *)rx, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)(void *)CMSG_DATA(c);
			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
		} else if (c->cmsg_level != IPPROTO_IPV6 ||
		           c->cmsg_type != IPV6_PKTINFO) {
			continue;
		}
		memcpy(out, c, c->cmsg_len);
		return CMSG_SPACE(c->cmsg_len - CMSG_LEN(0));
	}
	return 0;
}

static void tx_prepare(struct udp_worker *w, unsigned i, unsigned t,
                       size_t len, bool wild)
{
	struct msghdr *h = &w->tx[t].msg_hdr;
	const struct msghdr *q = &w->rx[i].msg_hdr;

	w->tx_iov[t].iov_base = w->rbuf + (size_t)i * UDP_MSG_MAX;
	w->tx_iov[t].iov_len = len;
	h->msg_name = &w->peer[i];
	h->msg_namelen = q->msg_namelen;
	h->msg_iov = &w->tx_iov[t];
	h->msg_iovlen = 1;
	h->msg_flags = 0;
	h->msg_controllen = wild ? tx_pktinfo(q, &w->tx_cmsg[t]) : 0;
	h->msg_control = h->msg_controllen > 0 ? &w->tx_cmsg[t] : NULL;
}

/* Sends tx[0..n); a datagram the kernel refuses is counted and skipped. */
static void tx_flush(struct udp_worker *w, int fd, unsigned n)
{
	unsigned done = 0;
	int r;

	while (done < n) {
		r = sendmmsg(fd, w->tx + done, n - done, 0);
		if (caa_unlikely(r <= 0)) {
			if (r < 0 && errno == EINTR)
				continue;
			bw_stat_add(&w->st.dropped, 1);
			done++;
			continue;
		}
		done += (unsigned)r;
		bw_stat_add(&w->st.tx, (uint64_t)r);
	}
}

bool bw_udp_peer_ip(const struct sockaddr_storage *ss, uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *a6 = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;

	if (ss->ss_family == AF_INET6 && memcmp(a6, mapped, sizeof(mapped)) != 0) {
		memcpy(out, a6, 16);
		return true;
	}
	if (ss->ss_family == AF_INET6)
		memcpy(out, a6 + 12, 4);
	else
		memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	return false;
}

/* The answer, through the flood mitigation when there is one. */
static size_t answer_flood(struct udp_worker *w, const struct bw_zoneset *zs,
                           unsigned i, struct bw_answer_info *info)
{
	const uint8_t *q = w->qbuf + (size_t)i * UDP_MSG_MAX;
	uint8_t *r = w->rbuf + (size_t)i * UDP_MSG_MAX;
	uint8_t addr[16];

	if (w->flood == NULL)
		return bw_answer(zs, w->u->conf.answer, q, w->rx[i].msg_len, r,
		                 UDP_MSG_MAX, 0, info);
	w->rq.addr = addr;
	w->rq.v6 = bw_udp_peer_ip(&w->peer[i], addr);
	return bw_flood_answer(w->flood, w->pol, zs, w->u->conf.answer, &w->rq,
	                       q, w->rx[i].msg_len, r, UDP_MSG_MAX, 0, info);
}

/* Answers one received datagram into slot \a t; false when dropped. */
static bool answer_one(struct udp_worker *w, const struct bw_zoneset *zs,
                       unsigned i, unsigned t, bool wild)
{
	struct bw_answer_info info;
	size_t len;

	if (caa_unlikely(zs == NULL || (w->rx[i].msg_hdr.msg_flags & MSG_TRUNC)))
		return false;
	len = answer_flood(w, zs, i, &info);
	if (len == 0)
		return false;
	bw_stat_add(&w->st.rcode[info.rcode < BW_UDP_RCODES ? info.rcode :
	                      BW_UDP_RCODES - 1], 1);
	bw_zone_count(&info, w->id);
	tx_prepare(w, i, t, len, wild);
	return true;
}

/* One recvmmsg() batch on one socket; returns the datagrams taken. */
static unsigned serve_batch(struct udp_worker *w, const struct udp_sock *s)
{
	const struct bw_zoneset *zs;
	unsigned ntx = 0;
	int n;

	n = recvmmsg(s->fd, w->rx, BW_UDP_BURST, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	/* One snapshot per batch; valid until the next quiescent state. */
	zs = bw_zoneset_current();
	if (w->flood != NULL) {
		w->pol = bw_flood_policy_current();
		bw_flood_clock(&w->rq);
	}
	for (unsigned i = 0; i < (unsigned)n; i++) {
		if (answer_one(w, zs, i, ntx, s->wild))
			ntx++;
	}
	bw_stat_add(&w->st.rx, (uint64_t)n);
	bw_stat_add(&w->st.dropped, (uint64_t)n - ntx);
	tx_flush(w, s->fd, ntx);
	rx_prepare(w, (unsigned)n);
	return (unsigned)n;
}

/* Idle: offline for RCU while blocked, so publishers never wait on us. */
static void wait_ready(struct udp_worker *w)
{
	rcu_thread_offline();
	(void)poll(w->pfd, w->u->conf.naddrs, UDP_WAIT_MS);
	rcu_thread_online();
}

static void *worker_main(void *arg)
{
	struct udp_worker *w = arg;
	struct bw_udp *u = w->u;

	rcu_register_thread();
	while (!__atomic_load_n(&u->stop, __ATOMIC_RELAXED)) {
		unsigned got = 0;

		for (size_t i = 0; i < u->conf.naddrs; i++)
			got += serve_batch(w, &w->socks[i]);
		rcu_quiescent_state();
		if (got == 0)
			wait_ready(w);
	}
	rcu_unregister_thread();
	return NULL;
}

/* ---- Setup. ---- */

static bool addr_is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static int set_opt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

/* Options that may fail without harm. */
static void sock_tune(int fd, int family)
{
	(void)set_opt(fd, SOL_SOCKET, SO_RCVBUF, UDP_RCVBUF);
	/* No path-MTU discovery: spoofed ICMP cannot shrink our responses. */
	if (family == AF_INET)
		(void)set_opt(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT);
	else
		(void)set_opt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER,
		              IPV6_PMTUDISC_OMIT);
}

static int sock_opts(int fd, int family, bool wild)
{
	if (set_opt(fd, SOL_SOCKET, SO_REUSEPORT, 1) != 0)
		return -1;
	if (family == AF_INET6 && set_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) != 0)
		return -1;
	if (wild && family == AF_INET)
		return set_opt(fd, IPPROTO_IP, IP_PKTINFO, 1);
	if (wild)
		return set_opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	return 0;
}

static int sock_open(const struct bw_conf_addr *a, struct udp_sock *s,
                     char *err, size_t errlen)
{
	int family = a->ss.ss_family;
	char text[INET6_ADDRSTRLEN + 32];
	const char *what = "socket";
	int rc;

	s->wild = addr_is_any(&a->ss);
	s->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd >= 0) {
		what = "setsockopt";
		sock_tune(s->fd, family);
		if (sock_opts(s->fd, family, s->wild) == 0) {
			what = "bind";
			if (bind(s->fd, (const struct sockaddr *)&a->ss, a->len) == 0)
				return 0;
		}
	}
	rc = -errno;
	bw_conf_addr_text(&a->ss, text, sizeof(text));
	snprintf(err, errlen, "%s: %s: %s", text, what, strerror(-rc));
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return rc;
}

static int worker_init(struct bw_udp *u, unsigned id, char *err, size_t errlen)
{
	struct udp_worker *w = &u->workers[id];
	size_t n = u->conf.naddrs;
	int rc;

	w->u = u;
	w->id = id;
	w->flood = u->conf.flood ? u->conf.flood[id] : NULL;
	w->socks = calloc(n, sizeof(*w->socks));
	w->pfd = calloc(n, sizeof(*w->pfd));
	w->qbuf = malloc((size_t)BW_UDP_BURST * UDP_MSG_MAX);
	w->rbuf = malloc((size_t)BW_UDP_BURST * UDP_MSG_MAX);
	for (size_t i = 0; w->socks != NULL && i < n; i++)
		w->socks[i].fd = -1;
	if (!w->socks || !w->pfd || !w->qbuf || !w->rbuf) {
		snprintf(err, errlen, "out of memory");
		return BW_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		rc = sock_open(&u->conf.addrs[i], &w->socks[i], err, errlen);
		if (rc != 0)
			return rc;
		w->pfd[i] = (struct pollfd){ .fd = w->socks[i].fd, .events = POLLIN };
	}
	for (unsigned i = 0; i < BW_UDP_BURST; i++)
		w->rx_iov[i] = (struct iovec){ w->qbuf + (size_t)i * UDP_MSG_MAX,
		                               UDP_MSG_MAX };
	rx_prepare(w, BW_UDP_BURST);
	return 0;
}

static void worker_fini(struct udp_worker *w)
{
	for (size_t i = 0; w->socks != NULL && i < w->u->conf.naddrs; i++)
		if (w->socks[i].fd >= 0)
			close(w->socks[i].fd);
	free(w->socks);
	free(w->pfd);
	free(w->qbuf);
	free(w->rbuf);
}

static int worker_spawn(struct udp_worker *w, char *err, size_t errlen)
{
	const struct bw_udp_conf *conf = &w->u->conf;
	pthread_attr_t attr;
	cpu_set_t cpus;
	char name[16];
	int rc;

	pthread_attr_init(&attr);
	if (conf->cpu_first >= 0) {
		CPU_ZERO(&cpus);
		CPU_SET((unsigned)conf->cpu_first + w->id, &cpus);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	rc = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, errlen, "worker %u%s: %s", w->id,
		         conf->cpu_first >= 0 ? " (pinned to its CPU)" : "",
		         strerror(rc));
		return -rc;
	}
	w->started = true;
	snprintf(name, sizeof(name), "bw-udp-%u", w->id);
	(void)pthread_setname_np(w->thread, name);
	return 0;
}

int bw_udp_start(const struct bw_udp_conf *conf, struct bw_udp **out,
                 char *err, size_t errlen)
{
	struct bw_udp *u = calloc(1, sizeof(*u));
	int rc = BW_ENOMEM;

	if (conf->workers == 0 || conf->naddrs == 0 || conf->answer == NULL) {
		snprintf(err, errlen, "no workers or no addresses");
		free(u);
		return BW_EINVAL;
	}
	if (u != NULL)
		u->workers = aligned_alloc(64, conf->workers * sizeof(*u->workers));
	if (u == NULL || u->workers == NULL) {
		snprintf(err, errlen, "out of memory");
		free(u);
		return BW_ENOMEM;
	}
	memset(u->workers, 0, conf->workers * sizeof(*u->workers));
	u->conf = *conf;
	/* Every socket is open before any thread runs. */
	for (unsigned i = 0; i < conf->workers; i++) {
		u->workers[i].u = u;
		rc = worker_init(u, i, err, errlen);
		if (rc != 0)
			break;
	}
	for (unsigned i = 0; rc == 0 && i < conf->workers; i++)
		rc = worker_spawn(&u->workers[i], err, errlen);
	if (rc != 0) {
		bw_udp_stop(u);
		return rc;
	}
	*out = u;
	return 0;
}

void bw_udp_stop(struct bw_udp *u)
{
	if (u == NULL)
		return;
	/* The join below is what orders the workers' last accesses. */
	__atomic_store_n(&u->stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < u->conf.workers; i++)
		if (u->workers[i].started)
			pthread_join(u->workers[i].thread, NULL);
	for (unsigned i = 0; i < u->conf.workers; i++)
		if (u->workers[i].u != NULL)
			worker_fini(&u->workers[i]);
	free(u->workers);
	free(u);
}
