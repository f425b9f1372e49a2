/*  bulwark — DNS over TCP (RFC 7766, RFC 7828) on kernel sockets.
 *
 *  One thread, one epoll set, level-triggered.  Per connection: an input
 *  buffer that collects length-prefixed queries, an output queue of framed
 *  responses, and a place in one of two lists kept in order of last
 *  activity, one per idle timeout (tcp-idle-timeout, and the keepalive
 *  timeout once the client has sent edns-tcp-keepalive).  The head of a
 *  list is its connection idle longest: the one that times out first; the
 *  older of the two heads makes room.  A hash table counts the open
 *  connections of each client address.  Closed connections are freed after
 *  the batch of events, so that a later event of the same batch never sees
 *  freed memory.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "bulwark/err.h"
#include "bulwark/flood.h"
#include "bulwark/wire.h"
#include "bulwark/zoneset.h"
#include "tcp.h"

#define TCP_EVENTS       64              /* epoll events per wait. */
#define TCP_BACKLOG      1024
#define TCP_ACCEPT_BURST 32              /* accept() calls per readiness. */
#define TCP_IN_FIRST     1024            /* First input buffer. */
#define TCP_OUT_FIRST    1024            /* First output buffer. */
#define TCP_OUT_KEEP     (16u << 10)     /* Larger drained buffers are freed. */
#define TCP_CLIENTS_MIN  64              /* Smallest client table. */

/* What an epoll event points at; the first member of each such struct. */
enum ev_kind {
	EV_WAKE,
	EV_LISTEN,
	EV_CONN,
};

struct tcp_listener {
	enum ev_kind kind;
	int fd;
};

/* Who a client is for tcp-clients-per-address: IPv4 address or IPv6 /64. */
struct tcp_client_key {
	uint64_t addr;
	uint32_t family;
};

/* A slot of the client table; conns == 0: free. */
struct tcp_client {
	struct tcp_client_key key;
	uint32_t conns;
};

struct tcp_conn {
	enum ev_kind kind;
	int fd;                    /* -1 once closed. */
	uint32_t events;           /* What epoll watches now. */
	bool eof;                  /* The client has finished sending. */
	bool keepalive;            /* Sent edns-tcp-keepalive: in act[1]. */
	struct tcp_client_key client;
	uint8_t peer[16];          /* Client address (cookies, filters). */
	bool peer6;
	uint64_t active_ms;        /* Last complete query or write progress. */
	struct tcp_conn *prev;     /* Activity order, oldest first; */
	struct tcp_conn *next;     /* next also links the dead list. */
	uint8_t *in;               /* Received, not yet answered. */
	size_t in_len;
	size_t in_cap;
	uint8_t *out;              /* Framed responses; [out_off, out_len)
	                              is still to send. */
	size_t out_off;
	size_t out_len;
	size_t out_cap;
};

/* Connections with one idle timeout, in order of activity, oldest first. */
struct tcp_list {
	struct tcp_conn *head;
	struct tcp_conn *tail;
	uint64_t idle_ms;
};

struct bw_tcp {
	struct bw_tcp_stats st;    /* Written by the loop only. */
	uint64_t open;             /* Connections open (relaxed store). */
	struct bw_tcp_conf conf;
	int ep;
	struct tcp_listener wake;  /* eventfd written by bw_tcp_stop(). */
	struct tcp_listener *ls;   /* One per listen address. */
	struct tcp_list act[2];    /* [0] idle_ms, [1] keepalive_ms. */
	struct tcp_conn *dead;     /* Closed during this batch. */
	struct tcp_client *clients;  /* Open addressing, linear probing. */
	size_t clients_mask;       /* Slots - 1 (a power of two, at least
	                              twice max_conns: never full). */
	uint64_t seed;             /* Of the client hash. */
	unsigned nconns;
	uint64_t now_ms;           /* Taken once per batch. */
	const struct bw_zoneset *zs;  /* Snapshot of this batch, or NULL. */
	uint8_t *rbuf;             /* One response. */
	pthread_t thread;
	bool started;
	int stop;                  /* Set once; read with relaxed loads. */
};

static uint64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void bw_tcp_stats(const struct bw_tcp *t, struct bw_tcp_stats *st,
                  uint64_t *open)
{
	st->accepted = bw_stat_get(&t->st.accepted);
	st->closed_idle = bw_stat_get(&t->st.closed_idle);
	st->evicted = bw_stat_get(&t->st.evicted);
	st->refused_per_client = bw_stat_get(&t->st.refused_per_client);
	st->closed_error = bw_stat_get(&t->st.closed_error);
	st->rx = bw_stat_get(&t->st.rx);
	st->tx = bw_stat_get(&t->st.tx);
	st->dropped = bw_stat_get(&t->st.dropped);
	for (unsigned r = 0; r < BW_UDP_RCODES; r++)
		st->rcode[r] = bw_stat_get(&t->st.rcode[r]);
	if (open != NULL)
		*open = bw_stat_get(&t->open);
}

/* ---- The activity lists. ---- */

static void list_unlink(struct tcp_list *l, struct tcp_conn *c)
{
	*(c->prev != NULL ? &c->prev->next : &l->head) = c->next;
	*(c->next != NULL ? &c->next->prev : &l->tail) = c->prev;
	c->prev = c->next = NULL;
}

static void list_append(struct tcp_list *l, struct tcp_conn *c)
{
	c->prev = l->tail;
	c->next = NULL;
	*(l->tail != NULL ? &l->tail->next : &l->head) = c;
	l->tail = c;
}

static struct tcp_list *conn_list(struct bw_tcp *t, const struct tcp_conn *c)
{
	return &t->act[c->keepalive];
}

/* The connection did something: it moves to the end of its list. */
static void conn_touch(struct bw_tcp *t, struct tcp_conn *c)
{
	struct tcp_list *l = conn_list(t, c);

	c->active_ms = t->now_ms;
	if (l->tail != c) {
		list_unlink(l, c);
		list_append(l, c);
	}
}

/* The client sent edns-tcp-keepalive: the longer timeout applies. */
static void conn_keepalive(struct bw_tcp *t, struct tcp_conn *c)
{
	if (c->keepalive)
		return;
	list_unlink(conn_list(t, c), c);
	c->keepalive = true;
	list_append(conn_list(t, c), c);
}

/* The connection idle longest, or NULL when none is open. */
static struct tcp_conn *oldest(const struct bw_tcp *t)
{
	struct tcp_conn *a = t->act[0].head, *b = t->act[1].head;

	if (a == NULL || (b != NULL && b->active_ms < a->active_ms))
		return b;
	return a;
}

/* ---- Open connections per client. ---- */

static void client_key(const struct sockaddr_storage *ss,
                       struct tcp_client_key *k)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const uint8_t *a = s6->sin6_addr.s6_addr;

	k->family = ss->ss_family;
	if (ss->ss_family == AF_INET6) {
		k->addr = 0;
		for (unsigned i = 0; i < 8; i++)  /* The /64. */
			k->addr = k->addr << 8 | a[i];
	} else {
		k->addr = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
	}
}

/* splitmix64's finisher over a secret seed: clients cannot aim at a slot. */
static size_t client_hash(const struct bw_tcp *t, const struct tcp_client_key *k)
{
	uint64_t x = k->addr ^ t->seed ^ ((uint64_t)k->family << 56);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return (size_t)(x ^ (x >> 31)) & t->clients_mask;
}

static bool key_eq(const struct tcp_client_key *a, const struct tcp_client_key *b)
{
	return a->addr == b->addr && a->family == b->family;
}

/* The slot of \a k, or the free slot where it would go. */
static size_t client_slot(const struct bw_tcp *t, const struct tcp_client_key *k)
{
	size_t i = client_hash(t, k);

	while (t->clients[i].conns != 0 && !key_eq(&t->clients[i].key, k))
		i = (i + 1) & t->clients_mask;
	return i;
}

static unsigned client_conns(const struct bw_tcp *t, const struct tcp_client_key *k)
{
	return t->clients[client_slot(t, k)].conns;
}

static void client_add(struct bw_tcp *t, const struct tcp_client_key *k)
{
	struct tcp_client *cl = &t->clients[client_slot(t, k)];

	cl->key = *k;
	cl->conns++;
}

/* Removes one connection; a client with none left leaves the table, and
 * the slots after it move back (no tombstones: lookups stay short). */
static void client_del(struct bw_tcp *t, const struct tcp_client_key *k)
{
	size_t hole = client_slot(t, k), i = hole;

	if (t->clients[hole].conns == 0 || --t->clients[hole].conns > 0)
		return;
	for (;;) {
		i = (i + 1) & t->clients_mask;
		if (t->clients[i].conns == 0)
			return;
		size_t home = client_hash(t, &t->clients[i].key);
		/* Moves back unless its home lies cyclically in (hole, i]. */
		if (((i - home) & t->clients_mask) >= ((i - hole) & t->clients_mask)) {
			t->clients[hole] = t->clients[i];
			t->clients[i].conns = 0;
			hole = i;
		}
	}
}

/* ---- Connections. ---- */

static void conn_free(struct tcp_conn *c)
{
	free(c->in);
	free(c->out);
	free(c);
}

/* Closes the socket now, frees the memory after the batch. */
static void conn_close(struct bw_tcp *t, struct tcp_conn *c, uint64_t *why)
{
	if (why != NULL)
		bw_stat_add(why, 1);
	close(c->fd);
	c->fd = -1;
	list_unlink(conn_list(t, c), c);
	client_del(t, &c->client);
	c->next = t->dead;
	t->dead = c;
	t->nconns--;
}

static void free_dead(struct bw_tcp *t)
{
	while (t->dead != NULL) {
		struct tcp_conn *c = t->dead;

		t->dead = c->next;
		conn_free(c);
	}
}

static size_t out_pending(const struct tcp_conn *c)
{
	return c->out_len - c->out_off;
}

/* Room for \a n more octets at the end of the output queue. */
static bool out_reserve(struct tcp_conn *c, size_t n)
{
	size_t cap = c->out_cap > 0 ? c->out_cap : TCP_OUT_FIRST;
	uint8_t *p;

	if (c->out_cap - c->out_len >= n)
		return true;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_cap - c->out_len >= n)
			return true;
	}
	while (cap - c->out_len < n)
		cap *= 2;
	p = realloc(c->out, cap);
	if (p == NULL)
		return false;
	c->out = p;
	c->out_cap = cap;
	return true;
}

/* Sends what the socket takes; false when the connection was closed. */
static bool conn_flush(struct bw_tcp *t, struct tcp_conn *c)
{
	while (out_pending(c) > 0) {
		ssize_t n = send(c->fd, c->out + c->out_off, out_pending(c),
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			conn_touch(t, c);
		} else if (n < 0 && errno == EAGAIN) {
			return true;
		} else if (n < 0 && errno != EINTR) {
			conn_close(t, c, &t->st.closed_error);
			return false;
		}
	}
	c->out_off = c->out_len = 0;
	if (c->out_cap > TCP_OUT_KEEP) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	return true;
}

/* The answer, through the flood mitigation when there is one. */
static size_t answer_flood(struct bw_tcp *t, const struct tcp_conn *c,
                           const uint8_t *q, size_t qlen,
                           struct bw_answer_info *info)
{
	struct bw_flood_req rq = { .addr = c->peer, .v6 = c->peer6, .tcp = true };

	if (t->conf.flood == NULL)
		return bw_answer(t->zs, t->conf.answer, q, qlen, t->rbuf,
		                 BW_ANSWER_MAX, BW_ANSWER_TCP, info);
	bw_flood_clock(&rq);
	return bw_flood_answer(t->conf.flood, bw_flood_policy_current(), t->zs,
	                       t->conf.answer, &rq, q, qlen, t->rbuf,
	                       BW_ANSWER_MAX, BW_ANSWER_TCP, info);
}

/* Answers one query into the output queue; BW_ENOMEM closes. */
static int answer_one(struct bw_tcp *t, struct tcp_conn *c, const uint8_t *q,
                      size_t qlen)
{
	struct bw_answer_info info;
	size_t len = 0;

	bw_stat_add(&t->st.rx, 1);
	conn_touch(t, c);
	if (caa_likely(t->zs != NULL))
		len = answer_flood(t, c, q, qlen, &info);
	if (len == 0) {
		bw_stat_add(&t->st.dropped, 1);
		return 0;
	}
	bw_zone_count(&info, t->conf.stats_slot);
	if (info.keepalive)
		conn_keepalive(t, c);
	if (!out_reserve(c, 2 + len))
		return BW_ENOMEM;
	c->out[c->out_len] = (uint8_t)(len >> 8);
	c->out[c->out_len + 1] = (uint8_t)len;
	memcpy(c->out + c->out_len + 2, t->rbuf, len);
	c->out_len += 2 + len;
	bw_stat_add(&t->st.tx, 1);
	bw_stat_add(&t->st.rcode[info.rcode < BW_UDP_RCODES ? info.rcode :
	                         BW_UDP_RCODES - 1], 1);
	return 0;
}

/* Length of the first buffered message, or -1 when its prefix is partial. */
static long in_next_len(const struct tcp_conn *c, size_t off)
{
	if (c->in_len - off < 2)
		return -1;
	return (long)((size_t)c->in[off] << 8 | c->in[off + 1]);
}

/* Drops \a off answered octets and makes room for the next message. */
static bool in_consume(struct tcp_conn *c, size_t off)
{
	long next;
	uint8_t *p;

	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	next = in_next_len(c, 0);
	if (next < 0 || (size_t)next + 2 <= c->in_cap)
		return true;
	p = realloc(c->in, (size_t)next + 2);
	if (p == NULL)
		return false;
	c->in = p;
	c->in_cap = (size_t)next + 2;
	return true;
}

/*
 * Answers every complete query buffered while the output queue is under
 * its cap.  Returns the number answered, or a negative error when the
 * connection must be closed.
 */
static int conn_answer(struct bw_tcp *t, struct tcp_conn *c)
{
	size_t off = 0;
	int n = 0, rc = 0;
	long len;

	while (out_pending(c) < BW_TCP_OUT_MAX &&
	       (len = in_next_len(c, off)) >= 0 &&
	       c->in_len - off - 2 >= (size_t)len) {
		if (len < BW_HDR_LEN)  /* Not even a header: a broken client. */
			return BW_EMALF;
		rc = answer_one(t, c, c->in + off + 2, (size_t)len);
		if (rc != 0)
			return rc;
		off += 2 + (size_t)len;
		n++;
	}
	return in_consume(c, off) ? n : BW_ENOMEM;
}

/* A complete query is buffered (and waits for room in the output). */
static bool in_complete(const struct tcp_conn *c)
{
	long len = in_next_len(c, 0);

	return len >= 0 && c->in_len - 2 >= (size_t)len;
}

/* Sets what epoll watches: input while there is room, output while queued. */
static bool conn_watch(struct bw_tcp *t, struct tcp_conn *c)
{
	struct epoll_event ev = { .data.ptr = c };

	ev.events = (!c->eof && out_pending(c) < BW_TCP_OUT_MAX ? EPOLLIN : 0) |
	            (out_pending(c) > 0 ? EPOLLOUT : 0);
	if (ev.events == c->events)
		return true;
	if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		conn_close(t, c, &t->st.closed_error);
		return false;
	}
	c->events = ev.events;
	return true;
}

/*
 * Answers what is buffered and sends, as long as both make progress, then
 * watches for what comes next.  A client that has finished sending is
 * closed once everything is answered and sent.
 */
static void conn_progress(struct bw_tcp *t, struct tcp_conn *c)
{
	int n;

	do {
		n = conn_answer(t, c);
		if (n < 0) {
			conn_close(t, c, &t->st.closed_error);
			return;
		}
		if (!conn_flush(t, c))
			return;
	} while (n > 0 && out_pending(c) < BW_TCP_OUT_MAX);
	if (c->eof && out_pending(c) == 0 && !in_complete(c))
		conn_close(t, c, NULL);
	else
		(void)conn_watch(t, c);
}

/* One recv(); false when the connection was closed. */
static bool conn_read(struct bw_tcp *t, struct tcp_conn *c)
{
	ssize_t n;

	if (c->eof || out_pending(c) >= BW_TCP_OUT_MAX || c->in_len == c->in_cap)
		return true;
	n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (n > 0)
		c->in_len += (size_t)n;
	else if (n == 0)
		c->eof = true;
	else if (errno != EAGAIN && errno != EINTR) {
		conn_close(t, c, &t->st.closed_error);
		return false;
	}
	return true;
}

static void conn_event(struct bw_tcp *t, struct tcp_conn *c, uint32_t ev)
{
	if (c->fd < 0)
		return;
	if (ev & EPOLLERR) {
		conn_close(t, c, &t->st.closed_error);
		return;
	}
	if ((ev & EPOLLOUT) && !conn_flush(t, c))
		return;
	if ((ev & (EPOLLIN | EPOLLHUP)) && !conn_read(t, c))
		return;
	conn_progress(t, c);
}

static void peer_copy(struct tcp_conn *c, const struct sockaddr_storage *ss)
{
	c->peer6 = bw_udp_peer_ip(ss, c->peer);
}

static void conn_open(struct bw_tcp *t, int fd, const struct tcp_client_key *k,
                      const struct sockaddr_storage *ss)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int one = 1;

	if (c != NULL)
		c->in = malloc(TCP_IN_FIRST);
	if (c == NULL || c->in == NULL ||
	    epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		bw_stat_add(&t->st.closed_error, 1);
		if (c != NULL)
			conn_free(c);
		close(fd);
		return;
	}
	/* Responses go out whole; never wait for the ACK of the previous. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->kind = EV_CONN;
	c->fd = fd;
	c->events = EPOLLIN;
	c->in_cap = TCP_IN_FIRST;
	c->client = *k;
	peer_copy(c, ss);
	c->active_ms = t->now_ms;
	list_append(conn_list(t, c), c);
	client_add(t, k);
	t->nconns++;
	bw_stat_add(&t->st.accepted, 1);
}

/* Makes room for one more connection: the one idle longest goes. */
static bool evict_oldest(struct bw_tcp *t)
{
	struct tcp_conn *c = oldest(t);

	if (c == NULL)
		return false;
	conn_close(t, c, &t->st.evicted);
	return true;
}

/* A new connection: refused when its client has its share, else opened. */
static void conn_accept(struct bw_tcp *t, int fd, const struct sockaddr_storage *ss)
{
	struct tcp_client_key k;

	client_key(ss, &k);
	if (client_conns(t, &k) >= t->conf.per_client) {
		bw_stat_add(&t->st.refused_per_client, 1);
		close(fd);
		return;
	}
	if (t->nconns >= t->conf.max_conns)
		(void)evict_oldest(t);
	conn_open(t, fd, &k, ss);
}

static void listen_ready(struct bw_tcp *t, int lfd)
{
	for (unsigned i = 0; i < TCP_ACCEPT_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			conn_accept(t, fd, &ss);
		} else if (errno == EAGAIN) {
			return;
		} else if (errno == EMFILE || errno == ENFILE ||
		           errno == ENOBUFS || errno == ENOMEM) {
			/* Out of descriptors or memory: free some, else wait. */
			if (!evict_oldest(t))
				return;
		}
	}
}

/* ---- The loop. ---- */

/* Closes the connections of \a l idle too long; returns the ms until the
 * next one is, or -1 when \a l is empty. */
static int64_t expire_list(struct bw_tcp *t, struct tcp_list *l)
{
	while (l->head != NULL && t->now_ms - l->head->active_ms >= l->idle_ms)
		conn_close(t, l->head, &t->st.closed_idle);
	if (l->head == NULL)
		return -1;
	return (int64_t)(l->head->active_ms + l->idle_ms - t->now_ms);
}

/* Closes the connections idle too long; returns the epoll timeout. */
static int expire_idle(struct bw_tcp *t)
{
	int64_t a = expire_list(t, &t->act[0]), b = expire_list(t, &t->act[1]);

	if (a < 0 || (b >= 0 && b < a))
		return (int)b;
	return (int)a;
}

static void dispatch(struct bw_tcp *t, const struct epoll_event *ev)
{
	const enum ev_kind *kind = ev->data.ptr;

	switch (*kind) {
	case EV_CONN:
		conn_event(t, ev->data.ptr, ev->events);
		break;
	case EV_LISTEN:
		listen_ready(t, ((const struct tcp_listener *)ev->data.ptr)->fd);
		break;
	case EV_WAKE:
		break;  /* The stop flag is checked at the top of the loop. */
	}
}

/* Idle: offline for RCU while blocked, so publishers never wait on us. */
static int wait_events(struct bw_tcp *t, struct epoll_event *ev, int timeout)
{
	int n;

	rcu_thread_offline();
	n = epoll_wait(t->ep, ev, TCP_EVENTS, timeout);
	rcu_thread_online();
	return n < 0 ? 0 : n;
}

static void close_all(struct bw_tcp *t)
{
	struct tcp_conn *c;

	while ((c = oldest(t)) != NULL)
		conn_close(t, c, NULL);
	free_dead(t);
}

static void *loop_main(void *arg)
{
	struct bw_tcp *t = arg;
	struct epoll_event ev[TCP_EVENTS];
	int timeout = -1;

	rcu_register_thread();
	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
		int n = wait_events(t, ev, timeout);

		t->now_ms = clock_ms();
		/* One snapshot per batch; valid until the quiescent state. */
		t->zs = bw_zoneset_current();
		for (int i = 0; i < n; i++)
			dispatch(t, &ev[i]);
		t->zs = NULL;
		timeout = expire_idle(t);
		free_dead(t);
		__atomic_store_n(&t->open, t->nconns, __ATOMIC_RELAXED);
		rcu_quiescent_state();
	}
	close_all(t);
	rcu_unregister_thread();
	return NULL;
}

/* ---- Setup. ---- */

static int listen_open(const struct bw_conf_addr *a, int *out, char *err,
                       size_t errlen)
{
	int family = a->ss.ss_family, one = 1, fd, rc;
	char text[INET6_ADDRSTRLEN + 32];
	const char *what = "socket";

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		what = "setsockopt";
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    (family != AF_INET6 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		                                      &one, sizeof(one)) == 0)) {
			what = "bind";
			if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
				what = "listen";
				if (listen(fd, TCP_BACKLOG) == 0) {
					*out = fd;
					return 0;
				}
			}
		}
	}
	rc = -errno;
	bw_conf_addr_text(&a->ss, text, sizeof(text));
	snprintf(err, errlen, "%s: TCP %s: %s", text, what, strerror(-rc));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int watch_fd(struct bw_tcp *t, struct tcp_listener *l, char *err,
                    size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
	int rc;

	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, l->fd, &ev) == 0)
		return 0;
	rc = -errno;
	snprintf(err, errlen, "epoll_ctl: %s", strerror(-rc));
	return rc;
}

/* The epoll set, the wake-up eventfd and every listen socket. */
static int tcp_open(struct bw_tcp *t, char *err, size_t errlen)
{
	int rc;

	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (t->ep >= 0)
		t->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->ep < 0 || t->wake.fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "epoll or eventfd: %s", strerror(-rc));
		return rc;
	}
	rc = watch_fd(t, &t->wake, err, errlen);
	for (size_t i = 0; rc == 0 && i < t->conf.naddrs; i++) {
		rc = listen_open(&t->conf.addrs[i], &t->ls[i].fd, err, errlen);
		if (rc == 0)
			rc = watch_fd(t, &t->ls[i], err, errlen);
	}
	return rc;
}

/* The client table: twice max_conns slots or more, so never full. */
static bool clients_new(struct bw_tcp *t)
{
	size_t n = TCP_CLIENTS_MIN;

	while (n < 2 * (size_t)t->conf.max_conns)
		n *= 2;
	t->clients = calloc(n, sizeof(*t->clients));
	t->clients_mask = n - 1;
	/* Not secret-grade if getrandom() fails; only spreading suffers. */
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = clock_ms() * 0x9e3779b97f4a7c15ull;
	return t->clients != NULL;
}

static void tcp_free(struct bw_tcp *t)
{
	free(t->ls);
	free(t->rbuf);
	free(t->clients);
	free(t);
}

static struct bw_tcp *tcp_new(const struct bw_tcp_conf *conf)
{
	struct bw_tcp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->conf = *conf;
	t->ep = -1;
	t->wake = (struct tcp_listener){ .kind = EV_WAKE, .fd = -1 };
	t->act[0].idle_ms = conf->idle_ms;
	t->act[1].idle_ms = conf->keepalive_ms > 0 ? conf->keepalive_ms :
	                                             conf->idle_ms;
	t->ls = calloc(conf->naddrs, sizeof(*t->ls));
	t->rbuf = malloc(BW_ANSWER_MAX);
	if (!clients_new(t) || t->ls == NULL || t->rbuf == NULL) {
		tcp_free(t);
		return NULL;
	}
	for (size_t i = 0; i < conf->naddrs; i++)
		t->ls[i] = (struct tcp_listener){ .kind = EV_LISTEN, .fd = -1 };
	return t;
}

int bw_tcp_start(const struct bw_tcp_conf *conf, struct bw_tcp **out,
                 char *err, size_t errlen)
{
	struct bw_tcp *t;
	int rc;

	if (conf->naddrs == 0 || conf->max_conns == 0 || conf->per_client == 0 ||
	    conf->idle_ms == 0 || conf->answer == NULL) {
		snprintf(err, errlen, "no addresses, connections or timeout");
		return BW_EINVAL;
	}
	t = tcp_new(conf);
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return BW_ENOMEM;
	}
	rc = tcp_open(t, err, errlen);
	if (rc == 0) {
		rc = -pthread_create(&t->thread, NULL, loop_main, t);
		if (rc != 0)
			snprintf(err, errlen, "TCP thread: %s", strerror(-rc));
	}
	if (rc != 0) {
		bw_tcp_stop(t);
		return rc;
	}
	t->started = true;
	(void)pthread_setname_np(t->thread, "bw-tcp");
	*out = t;
	return 0;
}

void bw_tcp_stop(struct bw_tcp *t)
{
	uint64_t one = 1;

	if (t == NULL)
		return;
	/* The join below is what orders the loop's last accesses. */
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
	if (t->started) {
		/* Fails only when the counter is full: the loop is awake. */
		(void)!write(t->wake.fd, &one, sizeof(one));
		pthread_join(t->thread, NULL);
	}
	for (size_t i = 0; i < t->conf.naddrs; i++)
		if (t->ls[i].fd >= 0)
			close(t->ls[i].fd);
	if (t->wake.fd >= 0)
		close(t->wake.fd);
	if (t->ep >= 0)
		close(t->ep);
	tcp_free(t);
}
