/*  bulwark — the control socket's server.
 *
 *  Clients live in a fixed array of BW_CTL_CLIENTS_MAX slots; a slot's
 *  generation changes when it is reused, so that the result of a slow
 *  command never reaches a later client of the same slot.  A client with
 *  a command on the command thread reads no further requests until its
 *  reply is queued: replies keep request order.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "ctl.h"
#include "log.h"

#define CTL_EVENTS  32
#define CTL_TICK_MS 500     /* Idle checks. */
#define CTL_FLUSH_MS 1000   /* bw_ctl_stop(): time to send what waits. */

enum { EV_LISTEN = -1, EV_WAKE = -2 };

struct client {
	int fd;                  /* -1: free slot. */
	unsigned gen;
	bool busy;               /* A command runs on the command thread. */
	bool closing;            /* Close once the output is sent. */
	bool watched;            /* In the epoll set. */
	uint64_t active_ms;
	char *in;                /* BW_CTL_REQUEST_MAX octets. */
	size_t in_len;
	char *out;
	size_t out_off, out_len, out_cap;
};

/* A slow command, queued for the command thread and back. */
struct job {
	struct job *next;
	unsigned slot, gen;
	const struct bw_ctl_command *cmd;
	struct bw_ctl_request req;
	char *reply;             /* Set by the command thread. */
	size_t reply_len;
};

struct bw_ctl {
	struct bw_ctl_conf conf;
	char *path;
	int lfd, ep, wake;
	bool listening;          /* lfd is in the epoll set. */
	pthread_t loop, worker;
	bool stop;               /* Guarded by mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, *done; /* Guarded by mu. */
	struct client cl[BW_CTL_CLIENTS_MAX];
	unsigned nclients;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void wake(struct bw_ctl *c)
{
	uint64_t one = 1;

	(void)!write(c->wake, &one, sizeof(one));
}

/* ---- Output. ---- */

/* Queues a reply line (takes \a line); a client that lets too much pile
 * up is closed. */
static void out_put(struct client *cl, char *line, size_t len)
{
	if (line == NULL) {  /* No memory for the reply: end the session. */
		cl->closing = true;
		return;
	}
	if (cl->out_len - cl->out_off + len > BW_CTL_OUT_MAX) {
		free(line);
		cl->closing = true;
		cl->out_off = cl->out_len = 0;
		return;
	}
	if (cl->out_len + len > cl->out_cap && cl->out_off > 0) {
		memmove(cl->out, cl->out + cl->out_off, cl->out_len - cl->out_off);
		cl->out_len -= cl->out_off;
		cl->out_off = 0;
	}
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_len + len + 4096;
		char *n = realloc(cl->out, cap);

		if (n == NULL) {
			free(line);
			cl->closing = true;
			return;
		}
		cl->out = n;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, line, len);
	cl->out_len += len;
	free(line);
}

static void reply_error(struct client *cl, const struct bw_json *id,
                        const char *code, const char *msg)
{
	size_t len = 0;
	char *line = bw_ctl_encode_error(id, code, msg, &len);

	out_put(cl, line, len);
}

/* An error reply to a request that did not decode, with its id when the
 * line is at least a JSON object that has one. */
static void reply_bad(struct client *cl, const char *line, size_t len,
                      const char *code, const char *msg)
{
	struct bw_json *tree = NULL;
	char ignored[64];

	if (bw_json_parse(line, len, &tree, ignored, sizeof(ignored)) != 0)
		tree = NULL;
	reply_error(cl, bw_json_get(tree, "id"), code, msg);
	bw_json_free(tree);
}

/* Sends what it can; false when the client is gone. */
static bool out_flush(struct client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t w = send(cl->fd, cl->out + cl->out_off,
		                 cl->out_len - cl->out_off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		cl->out_off += (size_t)w;
	}
	cl->out_off = cl->out_len = 0;
	return true;
}

/* ---- Clients. ---- */

static void watch(struct bw_ctl *c, unsigned slot)
{
	struct client *cl = &c->cl[slot];
	struct epoll_event ev = { .data.u64 = slot };

	ev.events = (cl->busy || cl->closing ? 0 : EPOLLIN) |
	            (cl->out_len > cl->out_off ? EPOLLOUT : 0);
	/* Nothing to wait for (a command runs): out of the set, or a
	 * hang-up, which epoll always reports, would spin the loop. */
	if (ev.events == 0 && cl->watched)
		(void)epoll_ctl(c->ep, EPOLL_CTL_DEL, cl->fd, NULL);
	else if (ev.events != 0)
		(void)epoll_ctl(c->ep, cl->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
		                cl->fd, &ev);
	cl->watched = ev.events != 0;
}

static void listen_watch(struct bw_ctl *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(int64_t)EV_LISTEN };

	if (on == c->listening)
		return;
	(void)epoll_ctl(c->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, c->lfd, &ev);
	c->listening = on;
}

static void client_close(struct bw_ctl *c, unsigned slot)
{
	struct client *cl = &c->cl[slot];

	if (cl->fd < 0)
		return;
	close(cl->fd);  /* Also leaves the epoll set. */
	cl->fd = -1;
	cl->gen++;
	cl->busy = cl->closing = cl->watched = false;
	cl->in_len = cl->out_off = cl->out_len = 0;
	c->nclients--;
	listen_watch(c, true);
}

static void accept_all(struct bw_ctl *c)
{
	while (c->nclients < BW_CTL_CLIENTS_MAX) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned slot = 0;

		if (fd < 0)
			return;
		while (c->cl[slot].fd >= 0)
			slot++;
		struct client *cl = &c->cl[slot];
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = slot };
		if (cl->in == NULL && (cl->in = malloc(BW_CTL_REQUEST_MAX)) == NULL) {
			close(fd);
			return;
		}
		cl->fd = fd;
		cl->active_ms = now_ms();
		c->nclients++;
		if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			client_close(c, slot);
		else
			cl->watched = true;
	}
	listen_watch(c, false);  /* Full: the rest waits in the backlog. */
}

/* ---- Requests. ---- */

static const struct bw_ctl_command *lookup(const struct bw_ctl *c,
                                           const char *name)
{
	for (size_t i = 0; i < c->conf.ncmds; i++)
		if (strcmp(c->conf.cmds[i].name, name) == 0)
			return &c->conf.cmds[i];
	return NULL;
}

/* Runs a command; returns the reply line. */
static char *run(const struct bw_ctl *c, const struct bw_ctl_command *cmd,
                 const struct bw_ctl_request *req, size_t *len)
{
	struct bw_ctl_error e = { .code = BW_CTL_EINTERNAL };
	struct bw_json *result = NULL;
	int rc = cmd->fn(c->conf.ctx, req->args, &result, &e);

	if (rc == 0 && result == NULL)
		result = bw_json_obj();
	if (rc != 0 || result == NULL) {
		bw_json_free(result);
		if (rc == 0)
			snprintf(e.msg, sizeof(e.msg), "out of memory");
		return bw_ctl_encode_error(req->id, e.code, e.msg, len);
	}
	return bw_ctl_encode_ok(req->id, result, len);
}

static void enqueue(struct bw_ctl *c, unsigned slot,
                    const struct bw_ctl_command *cmd, struct bw_ctl_request *req)
{
	struct job *j = calloc(1, sizeof(*j));
	struct client *cl = &c->cl[slot];

	if (j == NULL) {
		reply_error(cl, req->id, BW_CTL_EINTERNAL, "out of memory");
		bw_ctl_request_clear(req);
		return;
	}
	*j = (struct job){ .slot = slot, .gen = cl->gen, .cmd = cmd, .req = *req };
	cl->busy = true;
	pthread_mutex_lock(&c->mu);
	struct job **tail = &c->todo;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = j;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void request(struct bw_ctl *c, unsigned slot, const char *line,
                    size_t len)
{
	struct client *cl = &c->cl[slot];
	struct bw_ctl_request req;
	const struct bw_ctl_command *cmd;
	const char *code = BW_CTL_EBADREQ;
	char err[512] = "";
	size_t rlen = 0;

	if (bw_ctl_decode_request(line, len, &req, &code, err, sizeof(err)) != 0) {
		reply_bad(cl, line, len, code, err);
		return;
	}
	cmd = lookup(c, req.command);
	if (cmd == NULL) {
		snprintf(err, sizeof(err), "unknown command '%.200s'", req.command);
		reply_error(cl, req.id, BW_CTL_ECOMMAND, err);
	} else if (bw_ctl_check_args(req.args, cmd->required, cmd->allowed, err,
	                             sizeof(err)) != 0) {
		char msg[sizeof(err) + 64];

		snprintf(msg, sizeof(msg), "%s: %s", cmd->name, err);
		reply_error(cl, req.id, BW_CTL_EARG, msg);
	} else if (cmd->slow) {
		enqueue(c, slot, cmd, &req);
		return;  /* The job owns the request now. */
	} else {
		char *r = run(c, cmd, &req, &rlen);

		out_put(cl, r, rlen);
	}
	bw_ctl_request_clear(&req);
}

/* Handles the complete lines in the input buffer. */
static void requests(struct bw_ctl *c, unsigned slot)
{
	struct client *cl = &c->cl[slot];
	size_t start = 0;

	while (!cl->busy && !cl->closing) {
		char *nl = memchr(cl->in + start, '\n', cl->in_len - start);

		if (nl == NULL)
			break;
		size_t len = (size_t)(nl - (cl->in + start));
		if (len > 0 && cl->in[start + len - 1] == '\r')
			len--;  /* Tolerate CRLF (telnet, nc -C). */
		if (len > 0)
			request(c, slot, cl->in + start, len);
		start = (size_t)(nl - cl->in) + 1;
	}
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->in_len == BW_CTL_REQUEST_MAX && !cl->closing &&
	    memchr(cl->in, '\n', cl->in_len) == NULL) {
		reply_error(cl, NULL, BW_CTL_ETOOBIG, "the request is longer than "
		            "65536 octets");
		cl->closing = true;
	}
}

static void readable(struct bw_ctl *c, unsigned slot)
{
	struct client *cl = &c->cl[slot];
	ssize_t r;

	if (cl->in_len == BW_CTL_REQUEST_MAX)
		return;  /* Full of requests that wait for a command to end. */
	r = recv(cl->fd, cl->in + cl->in_len, BW_CTL_REQUEST_MAX - cl->in_len, 0);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		/* Closed or half-closed: answer what came, then close. */
		requests(c, slot);
		cl->closing = true;
		return;
	}
	cl->in_len += (size_t)r;
	cl->active_ms = now_ms();
	requests(c, slot);
}

/* After any event: flush, close when done, and watch what is needed. */
static void settle(struct bw_ctl *c, unsigned slot)
{
	struct client *cl = &c->cl[slot];

	if (cl->fd < 0)
		return;
	if (!out_flush(cl) || (cl->closing && !cl->busy && cl->out_off == cl->out_len)) {
		client_close(c, slot);
		return;
	}
	watch(c, slot);
}

/* ---- Slow commands. ---- */

static void *worker_main(void *arg)
{
	struct bw_ctl *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->todo == NULL && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->todo == NULL)
			break;
		struct job *j = c->todo;
		c->todo = j->next;
		pthread_mutex_unlock(&c->mu);
		j->reply = run(c, j->cmd, &j->req, &j->reply_len);
		pthread_mutex_lock(&c->mu);
		j->next = c->done;
		c->done = j;
		wake(c);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Hands finished jobs' replies to their clients. */
static void collect(struct bw_ctl *c)
{
	struct job *j;

	pthread_mutex_lock(&c->mu);
	j = c->done;
	c->done = NULL;
	pthread_mutex_unlock(&c->mu);
	while (j != NULL) {
		struct job *next = j->next;
		struct client *cl = &c->cl[j->slot];

		if (cl->fd >= 0 && cl->gen == j->gen) {
			out_put(cl, j->reply, j->reply_len);
			cl->busy = false;
			cl->active_ms = now_ms();
			requests(c, j->slot);
			settle(c, j->slot);
		} else {
			free(j->reply);  /* The client left; the command ran. */
		}
		bw_ctl_request_clear(&j->req);
		free(j);
		j = next;
	}
}

/* ---- The loop. ---- */

static void expire(struct bw_ctl *c, uint64_t now)
{
	unsigned idle = c->conf.idle_ms ? c->conf.idle_ms : BW_CTL_IDLE_MS;

	for (unsigned s = 0; s < BW_CTL_CLIENTS_MAX; s++) {
		struct client *cl = &c->cl[s];

		if (cl->fd < 0 || cl->busy || now - cl->active_ms < idle)
			continue;
		/* Output still waiting after the limit: a reader that stalled. */
		if (cl->in_len > 0 && cl->out_len == cl->out_off && !cl->closing) {
			reply_error(cl, NULL, BW_CTL_ETIMEOUT, "the request was not "
			            "complete within the time limit");
			(void)out_flush(cl);
		}
		client_close(c, s);
	}
}

static bool stopping(struct bw_ctl *c)
{
	bool s;

	pthread_mutex_lock(&c->mu);
	s = c->stop;
	pthread_mutex_unlock(&c->mu);
	return s;
}

static void event(struct bw_ctl *c, const struct epoll_event *ev)
{
	int64_t tag = (int64_t)ev->data.u64;

	if (tag == EV_WAKE) {
		uint64_t n;

		(void)!read(c->wake, &n, sizeof(n));
		collect(c);
	} else if (tag == EV_LISTEN) {
		accept_all(c);
	} else {
		unsigned slot = (unsigned)tag;

		if (c->cl[slot].fd < 0)
			return;
		if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			readable(c, slot);
		if (ev->events & EPOLLOUT)
			c->cl[slot].active_ms = now_ms();
		settle(c, slot);
	}
}

/* Gives waiting replies up to CTL_FLUSH_MS to leave. */
static void drain(struct bw_ctl *c)
{
	uint64_t end = now_ms() + CTL_FLUSH_MS;

	collect(c);
	for (;;) {
		struct pollfd p[BW_CTL_CLIENTS_MAX];
		nfds_t n = 0;

		for (unsigned s = 0; s < BW_CTL_CLIENTS_MAX; s++)
			if (c->cl[s].fd >= 0 && out_flush(&c->cl[s]) &&
			    c->cl[s].out_len > c->cl[s].out_off)
				p[n++] = (struct pollfd){ .fd = c->cl[s].fd, .events = POLLOUT };
		uint64_t now = now_ms();
		if (n == 0 || now >= end)
			break;
		(void)poll(p, n, (int)(end - now));
	}
	for (unsigned s = 0; s < BW_CTL_CLIENTS_MAX; s++)
		client_close(c, s);
}

static void *loop_main(void *arg)
{
	struct bw_ctl *c = arg;
	struct epoll_event evs[CTL_EVENTS];

	while (!stopping(c)) {
		int n = epoll_wait(c->ep, evs, CTL_EVENTS, CTL_TICK_MS);

		for (int i = 0; i < n; i++)
			event(c, &evs[i]);
		expire(c, now_ms());
	}
	return NULL;
}

/* ---- Start and stop. ---- */

/* A socket that a live process answers on is not ours to replace. */
static int claim_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, errlen, "%s: another bulwarkd answers on this control "
		         "socket", path);
		rc = BW_EEXIST;
	} else if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot remove the old socket: %s", path,
		         strerror(errno));
		rc = -errno;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create the directory: %s", dir,
		         strerror(errno));
		return -errno;
	}
	return 0;
}

static int open_socket(struct bw_ctl *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: control-socket path longer than %zu octets",
		         c->path, sizeof(sa.sun_path) - 1);
		return BW_ERANGE;
	}
	if ((rc = make_dir(c->path, err, errlen)) != 0 ||
	    (rc = claim_path(c->path, err, errlen)) != 0)
		return rc;
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* bind() creates the file under the umask; chmod sets 0660 exactly
	 * before anyone can be let in by listen(). */
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(c->path, 0660) != 0 || listen(c->lfd, 64) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		return rc;
	}
	return 0;
}

static void ctl_free(struct bw_ctl *c)
{
	for (unsigned s = 0; s < BW_CTL_CLIENTS_MAX; s++) {
		free(c->cl[s].in);
		free(c->cl[s].out);
	}
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->ep >= 0)
		close(c->ep);
	if (c->wake >= 0)
		close(c->wake);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->path);
	free(c);
}

static int ctl_setup(struct bw_ctl *c, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(int64_t)EV_WAKE };
	int rc = open_socket(c, err, errlen);

	if (rc != 0)
		return rc;
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	c->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->ep < 0 || c->wake < 0 ||
	    epoll_ctl(c->ep, EPOLL_CTL_ADD, c->wake, &ev) != 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return BW_EIO;
	}
	listen_watch(c, true);
	return 0;
}

int bw_ctl_start(const struct bw_ctl_conf *conf, struct bw_ctl **out,
                 char *err, size_t errlen)
{
	struct bw_ctl *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL || (c->path = strdup(conf->path)) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return BW_ENOMEM;
	}
	c->conf = *conf;
	c->lfd = c->ep = c->wake = -1;
	for (unsigned s = 0; s < BW_CTL_CLIENTS_MAX; s++)
		c->cl[s].fd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	rc = ctl_setup(c, err, errlen);
	if (rc == 0 && pthread_create(&c->worker, NULL, worker_main, c) != 0)
		rc = BW_ENOMEM;
	if (rc == 0 && pthread_create(&c->loop, NULL, loop_main, c) != 0) {
		pthread_mutex_lock(&c->mu);
		c->stop = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->worker, NULL);
		rc = BW_ENOMEM;
	}
	if (rc != 0) {
		if (c->lfd >= 0)
			(void)unlink(c->path);
		ctl_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void bw_ctl_stop(struct bw_ctl *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	wake(c);
	pthread_join(c->loop, NULL);
	pthread_join(c->worker, NULL);  /* Finishes the command it runs. */
	(void)unlink(c->path);
	drain(c);
	for (struct job *j = c->todo; j != NULL;) {
		struct job *next = j->next;

		bw_ctl_request_clear(&j->req);
		free(j);
		j = next;
	}
	ctl_free(c);
}
