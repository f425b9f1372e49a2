/*  bulwark — tcp_load: a pipelining DNS-over-TCP load generator.
 *
 *      tcp_load -p PORT -f QUERYFILE [-s ADDR] [-c CONNS] [-w WINDOW]
 *               [-b BATCH] [-t SECONDS] [-W WARMUP] [-n MAXQUERIES]
 *
 *  Opens CONNS connections to ADDR (default 127.0.0.1) and keeps up to
 *  WINDOW queries outstanding on each: once BATCH (default 1) or more of
 *  them are answered, as many new queries go out in one write.  Queries are the "NAME TYPE" lines of
 *  QUERYFILE (dnsperf's format), in order and round and round, each with
 *  EDNS (1232, DO=0).  After WARMUP seconds it prints "measuring", after
 *  SECONDS more one JSON line: {"responses": N, "seconds": S, "rcodes":
 *  {"0": N, ...}}; scripts/bench-tcp.py reads both.  One thread, epoll.
 *  Exits 1 when the server closes a connection or on any error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP   (256u << 10)   /* Receive buffer: holds the largest message. */
#define EVENTS   64
#define OPT_RR   "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"  /* 11 octets */

struct frames {
	uint8_t *buf;               /* Framed queries, one after the other. */
	size_t len, cap;
	size_t *off;                /* Start of each; off[n] is the end. */
	size_t n, ncap;
};

struct conn {
	int fd;
	uint8_t *in;
	size_t in_len;
	uint8_t *out;               /* [out_off, out_len) is still to send. */
	size_t out_off, out_len, out_cap;
	uint32_t events;
	size_t owed;                /* Answered, not yet replaced. */
};

struct load {
	struct frames q;
	size_t next;                /* Next query to send. */
	struct conn *conns;
	unsigned nconns;
	size_t batch;
	int ep;
	uint64_t responses;
	uint64_t rcodes[16];
};

static void die(const char *what)
{
	fprintf(stderr, "tcp_load: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 4096;
	p = realloc(p, *cap * size);
	if (p == NULL)
		die("realloc");
	return p;
}

/* ---- Queries. ---- */

static int type_code(const char *t)
{
	static const struct { const char *name; int code; } types[] = {
		{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 },
		{ "PTR", 12 }, { "MX", 15 }, { "TXT", 16 }, { "AAAA", 28 },
		{ "SRV", 33 }, { "NAPTR", 35 }, { "DS", 43 }, { "RRSIG", 46 },
		{ "NSEC", 47 }, { "DNSKEY", 48 }, { "NSEC3", 50 },
		{ "NSEC3PARAM", 51 }, { "TLSA", 52 }, { "SVCB", 64 },
		{ "HTTPS", 65 }, { "ANY", 255 }, { "CAA", 257 },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(t, types[i].name) == 0)
			return types[i].code;
	if (strncasecmp(t, "TYPE", 4) == 0 && t[4] >= '0' && t[4] <= '9')
		return atoi(t + 4) <= 65535 ? atoi(t + 4) : -1;
	return -1;
}

/* Writes NAME as a wire name at p (room for 255); its length, or 0. */
static size_t name_wire(const char *name, uint8_t *p)
{
	size_t len = 0;

	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (l == 0 || l > 63 || len + l + 2 > 255)
			return 0;
		p[len] = (uint8_t)l;
		memcpy(p + len + 1, name, l);
		len += l + 1;
		name += l + (dot != NULL);
	}
	p[len++] = 0;
	return len;
}

static void add_query(struct frames *q, const char *name, int type)
{
	uint8_t msg[2 + 12 + 255 + 4 + 11];
	size_t nl = name_wire(name, msg + 14), len;
	uint16_t id = (uint16_t)q->n;

	if (nl == 0)
		return;
	len = 12 + nl + 4 + 11;
	memset(msg, 0, 14);
	msg[0] = (uint8_t)(len >> 8);
	msg[1] = (uint8_t)len;
	msg[2] = (uint8_t)(id >> 8);
	msg[3] = (uint8_t)id;
	msg[7] = 1;   /* QDCOUNT */
	msg[13] = 1;  /* ARCOUNT: the OPT record */
	msg[14 + nl] = (uint8_t)(type >> 8);
	msg[15 + nl] = (uint8_t)type;
	msg[16 + nl] = 0;
	msg[17 + nl] = 1;  /* IN */
	memcpy(msg + 18 + nl, OPT_RR, 11);
	q->buf = grow(q->buf, &q->cap, q->len + 2 + len, 1);
	memcpy(q->buf + q->len, msg, 2 + len);
	q->off = grow(q->off, &q->ncap, q->n + 2, sizeof(*q->off));
	q->off[q->n++] = q->len;
	q->len += 2 + len;
	q->off[q->n] = q->len;
}

static void read_queries(struct frames *q, const char *path, size_t max)
{
	char line[1024], name[512], type[32];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		die(path);
	while (q->n < max && fgets(line, sizeof(line), f) != NULL) {
		int code;

		if (sscanf(line, "%511s %31s", name, type) != 2 || name[0] == ';')
			continue;
		code = type_code(type);
		if (code >= 0)
			add_query(q, name, code);
	}
	fclose(f);
	if (q->n == 0) {
		errno = 0;
		die("no queries in the file");
	}
}

/* ---- Connections. ---- */

static void watch(struct load *l, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };

	ev.events = EPOLLIN | (c->out_off < c->out_len ? EPOLLOUT : 0);
	if (ev.events != c->events && epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		die("epoll_ctl");
	c->events = ev.events;
}

static void flush(struct load *l, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0)
			c->out_off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			break;
		else if (n < 0 && errno != EINTR)
			die("send");
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	watch(l, c);
}

/* Appends \a n queries (the next ones of the file) and sends them. */
static void queue(struct load *l, struct conn *c, size_t n)
{
	while (n > 0) {
		size_t k = l->q.n - l->next < n ? l->q.n - l->next : n;
		size_t from = l->q.off[l->next], bytes = l->q.off[l->next + k] - from;

		c->out = grow(c->out, &c->out_cap, c->out_len + bytes, 1);
		memcpy(c->out + c->out_len, l->q.buf + from, bytes);
		c->out_len += bytes;
		l->next = (l->next + k) % l->q.n;
		n -= k;
	}
	flush(l, c);
}

/* Counts the complete responses received and keeps the rest. */
static size_t responses(struct load *l, struct conn *c)
{
	size_t off = 0, done = 0;

	while (c->in_len - off >= 2) {
		size_t len = (size_t)c->in[off] << 8 | c->in[off + 1];

		if (c->in_len - off - 2 < len)
			break;
		if (len >= 4)
			l->rcodes[c->in[off + 5] & 0xf]++;
		off += 2 + len;
		done++;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return done;
}

static void readable(struct load *l, struct conn *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, MSG_DONTWAIT);
	size_t done;

	if (n == 0) {
		errno = 0;
		die("the server closed a connection");
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		die("recv");
	}
	c->in_len += (size_t)n;
	done = responses(l, c);
	l->responses += done;
	c->owed += done;
	if (c->owed >= l->batch) {
		queue(l, c, c->owed);
		c->owed = 0;
	}
}

/* Reads exactly \a n octets (blocking, within the socket's timeout). */
static void recv_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = recv(fd, p, n, 0);

		if (k <= 0) {
			if (k == 0)
				errno = 0;
			die("first response");
		}
		p += k;
		n -= (size_t)k;
	}
}

/*
 * One query and its response before the load starts: the server has
 * accepted the connection, so connecting the next one never overflows a
 * short listen backlog (a dropped SYN costs seconds of retransmission).
 */
static void first_exchange(struct load *l, struct conn *c)
{
	const uint8_t *q = l->q.buf + l->q.off[0];
	size_t qlen = l->q.off[1] - l->q.off[0];

	if (send(c->fd, q, qlen, MSG_NOSIGNAL) != (ssize_t)qlen)
		die("first query");
	recv_all(c->fd, c->in, 2);
	recv_all(c->fd, c->in + 2, (size_t)c->in[0] << 8 | c->in[1]);
}

static void conn_open(struct load *l, struct conn *c, const struct sockaddr_in *sa,
                      size_t window)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	struct timeval tv = { .tv_sec = 10 };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	/* Bounds connect() and the first exchange. */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0)
		die("connect");
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->in = malloc(IN_CAP);
	if (c->in == NULL)
		die("malloc");
	first_exchange(l, c);
	c->events = EPOLLIN;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		die("epoll_ctl");
	queue(l, c, window);
}

static void run_until(struct load *l, double end)
{
	struct epoll_event ev[EVENTS];
	double t;

	while ((t = now()) < end) {
		int ms = (int)((end - t) * 1000) + 1;
		int n = epoll_wait(l->ep, ev, EVENTS, ms < 100 ? ms : 100);

		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;

			if (ev[i].events & (EPOLLERR | EPOLLHUP | EPOLLIN))
				readable(l, c);
			if (ev[i].events & EPOLLOUT)
				flush(l, c);
		}
	}
}

static void report(const struct load *l, uint64_t base, const uint64_t *rc0,
                   double seconds)
{
	bool first = true;

	printf("{\"responses\": %llu, \"seconds\": %.6f, \"rcodes\": {",
	       (unsigned long long)(l->responses - base), seconds);
	for (unsigned r = 0; r < 16; r++) {
		if (l->rcodes[r] == rc0[r])
			continue;
		printf("%s\"%u\": %llu", first ? "" : ", ", r,
		       (unsigned long long)(l->rcodes[r] - rc0[r]));
		first = false;
	}
	printf("}}\n");
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr, "usage: tcp_load -p PORT -f QUERYFILE [-s ADDR] [-c CONNS] "
	        "[-w WINDOW] [-b BATCH] [-t SECONDS] [-W WARMUP] [-n MAXQUERIES]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct load l = { .ep = -1 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *file = NULL, *addr = "127.0.0.1";
	unsigned long window = 64, maxq = 1000000, port = 0;
	double seconds = 5, warmup = 1, start;
	uint64_t base, rc0[16];
	int opt;

	l.nconns = 16;
	l.batch = 1;
	while ((opt = getopt(argc, argv, "p:f:s:c:w:b:t:W:n:")) != -1) {
		switch (opt) {
		case 'p':
			port = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			file = optarg;
			break;
		case 's':
			addr = optarg;
			break;
		case 'c':
			l.nconns = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			window = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			l.batch = strtoul(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'W':
			warmup = strtod(optarg, NULL);
			break;
		case 'n':
			maxq = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (file == NULL || port == 0 || port > 65535 || l.nconns == 0 ||
	    window == 0 || l.batch == 0 || l.batch > window || seconds <= 0 ||
	    inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		usage();
	sa.sin_port = htons((uint16_t)port);
	read_queries(&l.q, file, maxq);
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	l.conns = calloc(l.nconns, sizeof(*l.conns));
	if (l.ep < 0 || l.conns == NULL)
		die("setup");
	for (unsigned i = 0; i < l.nconns; i++)
		conn_open(&l, &l.conns[i], &sa, window);
	run_until(&l, now() + warmup);
	base = l.responses;
	memcpy(rc0, l.rcodes, sizeof(rc0));
	printf("measuring\n");
	fflush(stdout);
	start = now();
	run_until(&l, start + seconds);
	report(&l, base, rc0, now() - start);
	return 0;
}
