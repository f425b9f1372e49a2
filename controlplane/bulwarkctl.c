/*  bulwarkctl — the client of bulwarkd's control socket (docs/bulwarkctl.md).
 *
 *  Builds one request from the command line (ctl_cmd.c), sends it on the
 *  UNIX socket, reads one reply line and prints its result.  The whole
 *  exchange, connect included, is bounded by -t.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "ctl_cmd.h"
#include "ctl_proto.h"

#ifndef BW_VERSION
#define BW_VERSION "unknown"
#endif

/* Exit status (docs/bulwarkctl.md). */
enum {
	EXIT_OK = 0,
	EXIT_DAEMON = 1,    /* The daemon answered with an error. */
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,   /* Not running, or cannot connect. */
	EXIT_PERM = 4,      /* Permission denied on the socket. */
	EXIT_PROTO = 5,     /* Timeout, bad reply, I/O error. */
};

#define DEFAULT_TIMEOUT 60.0
/* Largest configuration file read for -c. */
#define CONF_MAX (16u << 20)

struct opts {
	const char *socket;
	const char *conf;
	bool json;
	double timeout;
};

/* Prints "bulwarkctl: ..." to stderr; returns \a code. */
static int fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("bulwarkctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void usage(FILE *out)
{
	char *cmds = bw_ctl_cmd_help(NULL);

	fprintf(out,
	        "usage: bulwarkctl [-s SOCKET] [-c CONF] [--json] [-t SECONDS] "
	        "COMMAND [ARGS]\n"
	        "\n"
	        "Talks to bulwarkd over its control socket.\n"
	        "\n"
	        "Options:\n"
	        "  -s, --socket SOCKET    the control socket (default: CONF's "
	        "control-socket,\n"
	        "                         else %s)\n"
	        "  -c, --config CONF      read the socket from CONF's options "
	        "{ control-socket }\n"
	        "      --json             print the result as JSON\n"
	        "  -t, --timeout SECONDS  give up after SECONDS (default %g)\n"
	        "  -h, --help             print this help\n"
	        "  -V, --version          print the version\n"
	        "\n"
	        "%s",
	        BW_CTL_DEFAULT_SOCKET, DEFAULT_TIMEOUT,
	        cmds != NULL ? cmds : "");
	free(cmds);
}

static int parse_timeout(const char *arg, double *out)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(arg, &end);
	/* At most a day: poll() takes milliseconds in an int. */
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(t) ||
	    t <= 0 || t > 86400)
		return fail(EXIT_USAGE, "-t: expected a number of seconds "
		            "(0 < SECONDS <= 86400), not '%s'", arg);
	*out = t;
	return 0;
}

/* Parses the global options; \a done is set when nothing remains to do. */
static int parse_opts(int argc, char **argv, struct opts *o, bool *done)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* "+": stop at the command, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+s:c:t:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'c':
			o->conf = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			if (parse_timeout(optarg, &o->timeout) != 0)
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			*done = true;
			return 0;
		case 'V':
			puts("bulwarkctl " BW_VERSION);
			*done = true;
			return 0;
		default:
			fputs("Try 'bulwarkctl help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* ---- The socket's path. ---- */

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t n;
	char *buf = f != NULL ? malloc(CONF_MAX + 1) : NULL;

	if (f == NULL)
		return -errno;
	n = buf != NULL ? fread(buf, 1, CONF_MAX + 1, f) : 0;
	if (buf == NULL || ferror(f) || n > CONF_MAX) {
		int rc = buf == NULL ? BW_ENOMEM : ferror(f) ? BW_EIO : BW_ERANGE;

		free(buf);
		fclose(f);
		return rc;
	}
	fclose(f);
	*text = buf;
	*len = n;
	return 0;
}

static int conf_socket(const char *conf, char **path)
{
	char *text = NULL, err[512];
	size_t len = 0;
	int rc = read_file(conf, &text, &len);

	if (rc == BW_ERANGE)
		return fail(EXIT_USAGE, "%s: larger than %u MiB", conf,
		            CONF_MAX >> 20);
	if (rc == BW_EACCES)
		return fail(EXIT_PERM, "permission denied on %s", conf);
	if (rc != 0)
		return fail(EXIT_USAGE, "cannot read %s: %s", conf, strerror(-rc));
	rc = bw_ctl_cmd_conf_socket(text, len, conf, path, err, sizeof(err));
	free(text);
	if (rc == BW_ENOENT)
		return fail(EXIT_CONNECT, "%s has no control-socket in options: "
		            "bulwarkd serves no control socket", conf);
	if (rc == BW_ESYNTAX)
		return fail(EXIT_USAGE, "%s", err);
	if (rc != 0)
		return fail(EXIT_PROTO, "out of memory");
	return 0;
}

/* -s, else the config's control-socket, else the default. */
static int socket_path(const struct opts *o, char **path)
{
	if (o->socket != NULL || o->conf == NULL) {
		*path = strdup(o->socket != NULL ? o->socket :
		               BW_CTL_DEFAULT_SOCKET);
		return *path != NULL ? 0 : fail(EXIT_PROTO, "out of memory");
	}
	return conf_socket(o->conf, path);
}

/* ---- The exchange. ---- */

struct conn {
	int fd;
	const char *path;
	const char *command;
	struct timespec deadline;  /* CLOCK_MONOTONIC */
	double timeout;
};

/* Milliseconds left before the deadline (0 when passed). */
static int time_left(const struct conn *c)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(c->deadline.tv_sec - now.tv_sec) * 1000000000LL +
	     (c->deadline.tv_nsec - now.tv_nsec);
	/* Rounded up: poll() must not wake before the deadline. */
	return ns > 0 ? (int)((ns + 999999) / 1000000) : 0;
}

static void set_deadline(struct conn *c)
{
	struct timespec *d = &c->deadline;
	time_t whole = (time_t)c->timeout;

	clock_gettime(CLOCK_MONOTONIC, d);
	d->tv_sec += whole;
	d->tv_nsec += (long)((c->timeout - (double)whole) * 1e9);
	if (d->tv_nsec >= 1000000000L) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000L;
	}
}

static int timed_out(const struct conn *c)
{
	return fail(EXIT_PROTO, "%s: no reply from bulwarkd within %g s "
	            "(the command may still complete)", c->command, c->timeout);
}

/* Waits until \a c->fd is ready for \a events; 0 or an exit status. */
static int wait_for(const struct conn *c, short events)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int n, left;

	do {
		left = time_left(c);
		n = left > 0 ? poll(&p, 1, left) : 0;
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(EXIT_PROTO, "poll: %s", strerror(errno));
	return n == 0 ? timed_out(c) : 0;
}

static int connect_error(const struct conn *c, int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return fail(EXIT_CONNECT, "cannot connect to %s: bulwarkd is "
		            "not running (or not on this socket)", c->path);
	case EACCES:
	case EPERM:
		return fail(EXIT_PERM, "permission denied on %s (are you in "
		            "the daemon's group?)", c->path);
	case EAGAIN:
		return fail(EXIT_PROTO, "cannot connect to %s: no room in its "
		            "backlog within %g s", c->path, c->timeout);
	default:
		return fail(EXIT_CONNECT, "cannot connect to %s: %s", c->path,
		            strerror(err));
	}
}

static int conn_open(struct conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int left = time_left(c);
	struct timeval tv = { .tv_sec = left / 1000,
	                      .tv_usec = left % 1000 * 1000 };

	if (left == 0)
		return timed_out(c);
	if (strlen(c->path) >= sizeof(sa.sun_path))
		return fail(EXIT_USAGE, "socket path longer than %zu octets: %s",
		            sizeof(sa.sun_path) - 1, c->path);
	memcpy(sa.sun_path, c->path, strlen(c->path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(EXIT_PROTO, "socket: %s", strerror(errno));
	/* A blocking connect waits while the daemon's backlog is full;
	 * SO_SNDTIMEO bounds that wait (EAGAIN). */
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return fail(EXIT_PROTO, "setsockopt: %s", strerror(errno));
	while (connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0)
		if (errno != EINTR)
			return connect_error(c, errno);
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0)
		return fail(EXIT_PROTO, "fcntl: %s", strerror(errno));
	return 0;
}

static int conn_send(const struct conn *c, const char *line, size_t len)
{
	int rc = 0;

	while (rc == 0 && len > 0) {
		ssize_t n = send(c->fd, line, len, MSG_NOSIGNAL);

		if (n > 0) {
			line += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			rc = wait_for(c, POLLOUT);
		} else if (n < 0 && errno != EINTR) {
			rc = fail(EXIT_PROTO, "%s: sending to %s: %s", c->command,
			          c->path, strerror(errno));
		}
	}
	return rc;
}

/* Makes room for at least one more read in \a *buf. */
static int grow(char **buf, size_t *cap, size_t used)
{
	size_t ncap = *cap ? 2 * *cap : 64u << 10;
	char *nbuf;

	if (used < *cap)
		return 0;
	if (ncap > BW_CTL_REPLY_MAX)
		ncap = BW_CTL_REPLY_MAX;
	nbuf = realloc(*buf, ncap);
	if (nbuf == NULL)
		return fail(EXIT_PROTO, "out of memory");
	*buf = nbuf;
	*cap = ncap;
	return 0;
}

/* Reads one line (at most BW_CTL_REPLY_MAX octets with its newline);
 * \a *len excludes the newline. */
static int conn_recv(const struct conn *c, char **line, size_t *len)
{
	char *buf = NULL, *nl = NULL;
	size_t used = 0, cap = 0;
	int rc = 0;

	while (rc == 0 && nl == NULL) {
		ssize_t n;

		if (used == BW_CTL_REPLY_MAX) {
			rc = fail(EXIT_PROTO, "%s: reply longer than %u MiB",
			          c->command, BW_CTL_REPLY_MAX >> 20);
			break;
		}
		rc = grow(&buf, &cap, used);
		n = rc == 0 ? recv(c->fd, buf + used, cap - used, 0) : 0;
		if (rc != 0)
			break;
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			rc = fail(EXIT_PROTO, "%s: bulwarkd closed the connection "
			          "%s", c->command, used > 0 ? "in the middle of "
			          "its reply" : "without a reply");
		else if (n < 0 && errno == EAGAIN)
			rc = wait_for(c, POLLIN);
		else if (n < 0 && errno != EINTR)
			rc = fail(EXIT_PROTO, "%s: reading from %s: %s", c->command,
			          c->path, strerror(errno));
		else if (n > 0 && (nl = memchr(buf + used, '\n', (size_t)n)) == NULL)
			used += (size_t)n;
	}
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*line = buf;
	*len = (size_t)(nl - buf);
	return 0;
}

/* Connects, sends \a req, reads the reply line. */
static int exchange(struct conn *c, const struct bw_ctl_cmd_req *req,
                    char **reply, size_t *len)
{
	size_t n;
	char *line = bw_ctl_cmd_encode(req, &n);
	int rc;

	if (line == NULL)
		return fail(EXIT_PROTO, "out of memory");
	if (n > BW_CTL_REQUEST_MAX) {
		free(line);
		return fail(EXIT_USAGE, "%s: request longer than %u octets",
		            c->command, BW_CTL_REQUEST_MAX);
	}
	rc = conn_open(c);
	if (rc == 0)
		rc = conn_send(c, line, n);
	if (rc == 0)
		rc = conn_recv(c, reply, len);
	free(line);
	return rc;
}

/* ---- Output. ---- */

/* Prints \a text, ended by a newline unless it has one or is empty. */
static int print_text(const char *text)
{
	size_t n = strlen(text);

	fputs(text, stdout);
	if (n > 0 && text[n - 1] != '\n')
		putchar('\n');
	if (fflush(stdout) != 0 || ferror(stdout))
		return fail(EXIT_PROTO, "cannot write the output: %s",
		            strerror(errno));
	return EXIT_OK;
}

/* --json: the result as JSON; stats --prometheus: its text as-is; else
 * the generic rendering. */
static int print_result(const struct bw_ctl_cmd_req *req,
                        const struct opts *o, const struct bw_json *result)
{
	const char *raw = NULL;
	char *text;
	int rc;

	if (!o->json && req->raw != NULL) {
		raw = bw_json_get_str(result, req->raw);
		if (raw == NULL)
			return fail(EXIT_PROTO, "%s: bad reply from bulwarkd: no "
			            "string '%s' in the result", req->command,
			            req->raw);
		return print_text(raw);
	}
	text = o->json ? bw_json_dump(result, BW_JSON_PRETTY, NULL) :
	       bw_ctl_cmd_render(result);
	if (text == NULL)
		return fail(EXIT_PROTO, "out of memory");
	rc = print_text(text);
	free(text);
	return rc;
}

static int handle_reply(const struct bw_ctl_cmd_req *req, const struct opts *o,
                        const char *line, size_t len)
{
	struct bw_ctl_reply rep;
	char err[256];
	int rc = bw_ctl_decode_reply(line, len, &rep, err, sizeof(err));

	if (rc == BW_ENOMEM)
		return fail(EXIT_PROTO, "out of memory");
	if (rc != 0)
		return fail(EXIT_PROTO, "%s: bad reply from bulwarkd: %s",
		            req->command, err);
	if (rep.ok)
		rc = print_result(req, o, rep.result);
	else
		rc = fail(EXIT_DAEMON, "%s: %s (%s)", req->command, rep.message,
		          rep.code);
	bw_ctl_reply_clear(&rep);
	return rc;
}

static int run(const struct bw_ctl_cmd_req *req, const struct opts *o)
{
	struct conn c = { .fd = -1, .command = req->command,
	                  .timeout = o->timeout };
	char *path = NULL, *reply = NULL;
	size_t len = 0;
	int rc = socket_path(o, &path);

	if (rc != 0)
		return rc;
	c.path = path;
	set_deadline(&c);
	rc = exchange(&c, req, &reply, &len);
	if (c.fd >= 0)
		close(c.fd);
	if (rc == 0)
		rc = handle_reply(req, o, reply, len);
	free(reply);
	free(path);
	return rc;
}

static int local_command(const struct bw_ctl_cmd_req *req)
{
	char *text;

	if (req->topic == NULL) {
		usage(stdout);
		return EXIT_OK;
	}
	text = bw_ctl_cmd_help(req->topic);
	if (text == NULL)
		return fail(EXIT_PROTO, "out of memory");
	fputs(text, stdout);
	free(text);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct opts o = { .timeout = DEFAULT_TIMEOUT };
	struct bw_ctl_cmd_req req;
	char err[512], *cwd;
	bool done = false;
	int rc = parse_opts(argc, argv, &o, &done);

	if (rc != 0 || done)
		return rc;
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cwd = getcwd(NULL, 0);
	rc = bw_ctl_cmd_build(argc - optind, argv + optind, cwd, &req, err,
	                      sizeof(err));
	free(cwd);
	if (rc == BW_ENOMEM)
		return fail(EXIT_PROTO, "out of memory");
	if (rc != 0)
		return fail(EXIT_USAGE, "%s", err);
	rc = req.local ? local_command(&req) : run(&req, &o);
	bw_ctl_cmd_req_clear(&req);
	return rc;
}
