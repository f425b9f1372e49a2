/*  bulwark — DNS over TCP (RFC 7766) on kernel sockets.
 *
 *  One thread, one epoll set, level-triggered.  Per connection: an input
 *  buffer that collects length-prefixed queries, an output queue of framed
 *  responses, and a place in a list kept in order of last activity (the
 *  head is the connection idle longest: it is the one that times out or
 *  makes room first).  Closed connections are freed after the batch of
 *  events, so that a later event of the same batch never sees freed memory.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "bulwark/zoneset.h"
#include "tcp.h"

#define TCP_EVENTS       64              /* epoll events per wait. */
#define TCP_BACKLOG      1024
#define TCP_ACCEPT_BURST 32              /* accept() calls per readiness. */
#define TCP_IN_FIRST     1024            /* First input buffer. */
#define TCP_OUT_FIRST    1024            /* First output buffer. */
#define TCP_OUT_KEEP     (16u << 10)     /* Larger drained buffers are freed. */

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

struct tcp_conn {
	enum ev_kind kind;
	int fd;                    /* -1 once closed. */
	uint32_t events;           /* What epoll watches now. */
	bool eof;                  /* The client has finished sending. */
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

struct bw_tcp {
	struct bw_tcp_stats st;    /* Written by the loop only. */
	uint64_t open;             /* Connections open (relaxed store). */
	struct bw_tcp_conf conf;
	int ep;
	struct tcp_listener wake;  /* eventfd written by bw_tcp_stop(). */
	struct tcp_listener *ls;   /* One per listen address. */
	struct tcp_conn *head;     /* Activity list. */
	struct tcp_conn *tail;
	struct tcp_conn *dead;     /* Closed during this batch. */
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
	st->closed_error = bw_stat_get(&t->st.closed_error);
	st->rx = bw_stat_get(&t->st.rx);
	st->tx = bw_stat_get(&t->st.tx);
	st->dropped = bw_stat_get(&t->st.dropped);
	for (unsigned r = 0; r < BW_UDP_RCODES; r++)
		st->rcode[r] = bw_stat_get(&t->st.rcode[r]);
	if (open != NULL)
		*open = bw_stat_get(&t->open);
}

/* ---- The activity list. ---- */

static void list_unlink(struct bw_tcp *t, struct tcp_conn *c)
{
	*(c->prev != NULL ? &c->prev->next : &t->head) = c->next;
	*(c->next != NULL ? &c->next->prev : &t->tail) = c->prev;
	c->prev = c->next = NULL;
}

static void list_append(struct bw_tcp *t, struct tcp_conn *c)
{
	c->prev = t->tail;
	c->next = NULL;
	*(t->tail != NULL ? &t->tail->next : &t->head) = c;
	t->tail = c;
}

/* The connection did something: it moves to the end of the list. */
static void conn_touch(struct bw_tcp *t, struct tcp_conn *c)
{
	c->active_ms = t->now_ms;
	if (t->tail != c) {
		list_unlink(t, c);
		list_append(t, c);
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
	list_unlink(t, c);
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

/* Answers one query into the output queue; BW_ENOMEM closes. */
static int answer_one(struct bw_tcp *t, struct tcp_conn *c, const uint8_t *q,
                      size_t qlen)
{
	struct bw_answer_info info;
	size_t len = 0;

	bw_stat_add(&t->st.rx, 1);
	conn_touch(t, c);
	if (caa_likely(t->zs != NULL))
		len = bw_answer(t->zs, t->conf.answer, q, qlen, t->rbuf,
		                BW_ANSWER_MAX, BW_ANSWER_TCP, &info);
	if (len == 0) {
		bw_stat_add(&t->st.dropped, 1);
		return 0;
	}
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

static void conn_open(struct bw_tcp *t, int fd)
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
	c->active_ms = t->now_ms;
	list_append(t, c);
	t->nconns++;
	bw_stat_add(&t->st.accepted, 1);
}

/* Makes room for one more connection: the one idle longest goes. */
static bool evict_oldest(struct bw_tcp *t)
{
	if (t->head == NULL)
		return false;
	conn_close(t, t->head, &t->st.evicted);
	return true;
}

static void listen_ready(struct bw_tcp *t, int lfd)
{
	for (unsigned i = 0; i < TCP_ACCEPT_BURST; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			if (t->nconns >= t->conf.max_conns)
				(void)evict_oldest(t);
			conn_open(t, fd);
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

/* Closes the connections idle too long; returns the epoll timeout. */
static int expire_idle(struct bw_tcp *t)
{
	while (t->head != NULL && t->now_ms - t->head->active_ms >= t->conf.idle_ms)
		conn_close(t, t->head, &t->st.closed_idle);
	if (t->head == NULL)
		return -1;
	return (int)(t->head->active_ms + t->conf.idle_ms - t->now_ms);
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
	while (t->head != NULL)
		conn_close(t, t->head, NULL);
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

static struct bw_tcp *tcp_new(const struct bw_tcp_conf *conf)
{
	struct bw_tcp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->conf = *conf;
	t->ep = -1;
	t->wake = (struct tcp_listener){ .kind = EV_WAKE, .fd = -1 };
	t->ls = calloc(conf->naddrs, sizeof(*t->ls));
	t->rbuf = malloc(BW_ANSWER_MAX);
	if (t->ls == NULL || t->rbuf == NULL) {
		free(t->ls);
		free(t->rbuf);
		free(t);
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

	if (conf->naddrs == 0 || conf->max_conns == 0 || conf->idle_ms == 0 ||
	    conf->answer == NULL) {
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
	free(t->ls);
	free(t->rbuf);
	free(t);
}
