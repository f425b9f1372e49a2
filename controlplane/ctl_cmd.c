/*  bulwark — bulwarkctl's commands: from the command line to a request,
 *  from a result to text (docs/bulwarkctl.md).
 *
 *  One table lists the commands with their arguments; a builder per
 *  command fills the request's "args".  Results are rendered by one
 *  generic renderer, so that a new member of a result needs no change
 *  here.  Nothing in this file does I/O.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bulwark/err.h"
#include "ctl_cmd.h"
#include "ctl_proto.h"
#include "strbuf.h"

/* Wire limits of names (RFC 1035 §2.3.4). */
#define NAME_MAXLEN 255
#define LABEL_MAXLEN 63

/* Writes the reason into \a err; returns \a rc. */
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- Text. ---- */

static void put_pad(struct bw_strbuf *b, size_t n)
{
	static const char spaces[] = "                                ";

	for (; n > sizeof(spaces) - 1; n -= sizeof(spaces) - 1)
		bw_strbuf_add(b, spaces, sizeof(spaces) - 1);
	bw_strbuf_add(b, spaces, n);
}

/* ---- Zone names. ---- */

/* One octet of presentation text, 0x100 added when escaped; -1 on a bad
 * escape. */
static int name_octet(const char *s, size_t len, size_t *i)
{
	int v = 0;

	if (s[*i] != '\\')
		return (unsigned char)s[(*i)++];
	if (++*i >= len)
		return -1;
	if (s[*i] < '0' || s[*i] > '9')
		return (unsigned char)s[(*i)++] | 0x100;
	for (int k = 0; k < 3; k++, ++*i) {
		if (*i >= len || s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (s[*i] - '0');
	}
	return v > 255 ? -1 : v | 0x100;
}

int bw_ctl_cmd_check_zone(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name), i = 0, label = 0, wire = 1;

	if (len == 0)
		return fail(err, errlen, BW_ESYNTAX, "empty name");
	if (strcmp(name, ".") == 0)
		return 0;
	while (i < len) {
		int c = name_octet(name, len, &i);

		if (c < 0)
			return fail(err, errlen, BW_ESYNTAX, "bad escape (\\DDD "
			            "is 000 to 255, \\X one character)");
		if (c == '.' && label == 0)
			return fail(err, errlen, BW_ESYNTAX, "empty label");
		if (c == '.') {
			label = 0;
			continue;
		}
		/* A label's first octet also brings its length octet. */
		wire += label == 0 ? 2 : 1;
		if (++label > LABEL_MAXLEN)
			return fail(err, errlen, BW_ESYNTAX, "label longer "
			            "than %d octets", LABEL_MAXLEN);
		if (wire > NAME_MAXLEN)
			return fail(err, errlen, BW_ESYNTAX, "name longer "
			            "than %d octets", NAME_MAXLEN);
	}
	return 0;
}

/* ---- Paths. ---- */

/* Appends the components of \a p to \a b ("/a/b").  \a popable counts the
 * components at the end of \a b that ".." may remove: those of a
 * physical directory (\a physical), never those given by the user. */
static void path_push(struct bw_strbuf *b, const char *p, bool physical,
                      size_t *popable)
{
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		bool dotdot = n == 2 && p[0] == '.' && p[1] == '.';

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* "//" and "/./" are nothing. */
		} else if (dotdot && (physical || *popable > 0 ||
		                      b->len == 0)) {
			/* "/.." is "/". */
			if (b->len > 0 && !b->failed) {
				bw_strbuf_trunc(b, (size_t)(strrchr(b->d, '/') - b->d));
				if (*popable > 0)
					(*popable)--;
			}
		} else {
			bw_strbuf_adds(b, "/");
			bw_strbuf_add(b, p, n);
			*popable = physical ? *popable + 1 : 0;
		}
		p += n + (p[n] == '/');
	}
}

char *bw_ctl_cmd_abspath(const char *cwd, const char *path)
{
	struct bw_strbuf b = { 0 };
	size_t popable = 0;

	if (path[0] == '\0')
		return NULL;
	if (path[0] != '/') {
		if (cwd == NULL || cwd[0] != '/')
			return NULL;
		path_push(&b, cwd, true, &popable);
	}
	path_push(&b, path, false, &popable);
	if (b.len == 0)
		bw_strbuf_adds(&b, "/");
	return bw_strbuf_take(&b);
}

/* ---- The commands. ---- */

struct cmd;

/* What a builder works on. */
struct cmd_ctx {
	const struct cmd *cmd;
	const char **pos;          /* Positional arguments. */
	size_t npos;
	unsigned flags;            /* Bit i: cmd->flags[i] was given. */
	bool help;                 /* -h or --help after the command. */
	const char *cwd;
	struct bw_ctl_cmd_req *req;
	char *err;
	size_t errlen;
};

struct cmd {
	const char *name;
	const char *params;        /* Positional parameters, for messages. */
	unsigned min, max;         /* Number of positional arguments. */
	const char *const *flags;  /* Options allowed, NULL-terminated. */
	int (*build)(struct cmd_ctx *x);
	const char *help;          /* One line. */
	const char *detail;        /* More for "help COMMAND", or NULL. */
};

/* A usage error of the command: "zone-load: ...". */
static int usage(struct cmd_ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage(struct cmd_ctx *x, const char *fmt, ...)
{
	int n = snprintf(x->err, x->errlen, "%s: ", x->cmd->name);
	va_list ap;

	if (n >= 0 && (size_t)n < x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return BW_EINVAL;
}

/* The request's args object, made on first use (NULL: no memory). */
static struct bw_json *args_of(struct cmd_ctx *x)
{
	if (x->req->args == NULL)
		x->req->args = bw_json_obj();
	return x->req->args;
}

static int build_plain(struct cmd_ctx *x)
{
	(void)x;
	return 0;
}

static int build_zone(struct cmd_ctx *x)
{
	char why[96];

	if (bw_ctl_cmd_check_zone(x->pos[0], why, sizeof(why)) != 0)
		return usage(x, "invalid zone name '%s': %s", x->pos[0], why);
	if (args_of(x) == NULL)
		return BW_ENOMEM;
	bw_json_set_str(x->req->args, "zone", x->pos[0]);
	return 0;
}

static int build_zone_load(struct cmd_ctx *x)
{
	const char *table = x->pos[1];
	int rc = build_zone(x);
	char *abs;

	if (rc != 0)
		return rc;
	if (table[0] == '\0')
		return usage(x, "empty TABLE");
	abs = bw_ctl_cmd_abspath(x->cwd, table);
	if (abs == NULL && table[0] != '/' && (x->cwd == NULL || x->cwd[0] != '/'))
		return usage(x, "cannot make '%s' absolute: the current "
		             "directory is unknown", table);
	if (abs == NULL)
		return BW_ENOMEM;
	bw_json_set_str(x->req->args, "table", abs);
	free(abs);
	return 0;
}

static const char *const stats_flags[] = { "--reset", "--prometheus", NULL };
#define STATS_RESET 0x1u
#define STATS_PROMETHEUS 0x2u

static int build_stats(struct cmd_ctx *x)
{
	if (x->flags == 0)
		return 0;
	if (args_of(x) == NULL)
		return BW_ENOMEM;
	if (x->flags & STATS_RESET)
		bw_json_set_bool(x->req->args, "reset", true);
	if (x->flags & STATS_PROMETHEUS) {
		bw_json_set_str(x->req->args, "format", "prometheus");
		x->req->raw = "prometheus";
	}
	return 0;
}

static const char *const filter_flags[] = { "--literal", NULL };

static int build_filter_add(struct cmd_ctx *x)
{
	static const char *const actions[] = {
		"drop", "refuse", "truncate", "rate-limit", "log-only", NULL,
	};
	size_t a = 0;
	char why[96];

	while (actions[a] != NULL && strcmp(actions[a], x->pos[1]) != 0)
		a++;
	if (x->pos[0][0] == '\0')
		return usage(x, "empty PATTERN");
	if (actions[a] == NULL)
		return usage(x, "ACTION '%s' is not drop, refuse, truncate, "
		             "rate-limit or log-only", x->pos[1]);
	if (x->npos > 2 && bw_ctl_cmd_check_zone(x->pos[2], why, sizeof(why)) != 0)
		return usage(x, "invalid zone name '%s': %s", x->pos[2], why);
	if (args_of(x) == NULL)
		return BW_ENOMEM;
	bw_json_set_str(x->req->args, "pattern", x->pos[0]);
	bw_json_set_str(x->req->args, "action", x->pos[1]);
	if (x->npos > 2)
		bw_json_set_str(x->req->args, "zone", x->pos[2]);
	if (x->flags != 0)
		bw_json_set_bool(x->req->args, "literal", true);
	return 0;
}

static int build_filter_del(struct cmd_ctx *x)
{
	char *end;
	unsigned long id = strtoul(x->pos[0], &end, 10);

	if (x->pos[0][0] < '1' || x->pos[0][0] > '9' || *end != '\0' ||
	    id > 0xffffffffu)
		return usage(x, "ID '%s' is not a filter number", x->pos[0]);
	if (args_of(x) == NULL)
		return BW_ENOMEM;
	bw_json_set_u64(x->req->args, "id", id);
	return 0;
}

static const char *const secret_flags[] = { "--drop-previous", NULL };

static int build_cookie_secret(struct cmd_ctx *x)
{
	const char *s = x->npos > 0 ? x->pos[0] : NULL;

	if (s != NULL && (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32))
		return usage(x, "SECRET must be 32 hexadecimal digits (siphash24)");
	if ((s != NULL || x->flags != 0) && args_of(x) == NULL)
		return BW_ENOMEM;
	if (s != NULL)
		bw_json_set_str(x->req->args, "secret", s);
	if (x->flags != 0)
		bw_json_set_bool(x->req->args, "drop-previous", true);
	return 0;
}

static const struct cmd *find_cmd(const char *name);

static int build_help(struct cmd_ctx *x)
{
	const struct cmd *c = x->npos > 0 ? find_cmd(x->pos[0]) : NULL;

	if (x->npos > 0 && c == NULL)
		return usage(x, "unknown command '%s'", x->pos[0]);
	x->req->local = true;
	x->req->topic = c != NULL ? c->name : NULL;
	return 0;
}

static const struct cmd commands[] = {
	{ "status", "", 0, 0, NULL, build_plain,
	  "the daemon's version, pid, uptime and counts", NULL },
	{ "zone-list", "", 0, 0, NULL, build_plain,
	  "the loaded zones, their serials and tables", NULL },
	{ "zone-status", "NAME", 1, 1, NULL, build_zone,
	  "one zone: table, signatures, query counters", NULL },
	{ "zone-load", "NAME TABLE", 2, 2, NULL, build_zone_load,
	  "load or replace zone NAME from file TABLE",
	  "TABLE is made absolute against the current directory and read by\n"
	  "bulwarkd, which verifies it; the reply comes once every worker\n"
	  "answers from the new table.  Any failure leaves the zone as it was.\n" },
	{ "zone-unload", "NAME", 1, 1, NULL, build_zone,
	  "stop serving zone NAME", NULL },
	{ "stats", "", 0, 0, stats_flags, build_stats,
	  "the counters: UDP, workers, TCP, zones",
	  "  --reset       count from now on (later stats report the difference)\n"
	  "  --prometheus  print the Prometheus text exposition format\n" },
	{ "reload", "", 0, 0, NULL, build_plain,
	  "re-read the configuration, apply changes", NULL },
	{ "stop", "", 0, 0, NULL, build_plain, "stop bulwarkd", NULL },
	{ "flood-status", "", 0, 0, NULL, build_plain,
	  "parents under attack, top parents and sources, mitigation counters",
	  NULL },
	{ "filter-add", "PATTERN ACTION [ZONE]", 2, 3, filter_flags,
	  build_filter_add, "add an operator filter over query names",
	  "PATTERN is a regular expression (Hyperscan, caseless) matched against\n"
	  "the query name in lowercase presentation form with its trailing dot\n"
	  "(\"www.example.com.\"); with --literal it is a plain substring.\n"
	  "ACTION is drop, refuse, truncate (TC=1), rate-limit or log-only; with\n"
	  "ZONE the filter applies only to names at or below it.  A pattern that\n"
	  "does not compile changes nothing.\n"
	  "  --literal     match PATTERN as a literal substring\n" },
	{ "filter-del", "ID", 1, 1, NULL, build_filter_del,
	  "remove the filter with number ID", NULL },
	{ "filter-list", "", 0, 0, NULL, build_plain,
	  "the operator filters in force", NULL },
	{ "cookie-secret", "[SECRET]", 0, 1, secret_flags, build_cookie_secret,
	  "roll the DNS cookie secret over, or show fingerprints",
	  "SECRET (32 hex digits) makes the server cookies from now on; the\n"
	  "previous secret still verifies them until --drop-previous.\n"
	  "  --drop-previous  stop accepting cookies of the previous secret\n" },
	{ "help", "[COMMAND]", 0, 1, NULL, build_help,
	  "list the commands, or explain one", NULL },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int flag_index(const struct cmd *c, const char *arg)
{
	for (int i = 0; c->flags != NULL && c->flags[i] != NULL; i++)
		if (strcmp(c->flags[i], arg) == 0)
			return i;
	return -1;
}

/* True for bulwarkctl's own options ("--json", "-s X", "--socket=X"). */
static bool is_global_option(const char *arg)
{
	static const char *const globals[] = {
		"-s", "-c", "-t", "-V", "--socket", "--config", "--timeout",
		"--json", "--version", NULL,
	};
	size_t n = strcspn(arg, "=");

	for (size_t i = 0; globals[i] != NULL; i++)
		if (strlen(globals[i]) == n && strncmp(globals[i], arg, n) == 0)
			return true;
	return false;
}

/* Sorts the command's arguments into options and positional ones. */
static int split_args(struct cmd_ctx *x, int argc, char *const *argv)
{
	bool options = true;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int f;

		if (options && strcmp(a, "--") == 0) {
			options = false;
		} else if (!options || a[0] != '-' || a[1] == '\0') {
			x->pos[x->npos++] = a;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			x->help = true;
			return 0;
		} else if ((f = flag_index(x->cmd, a)) >= 0) {
			x->flags |= 1u << f;
		} else if (is_global_option(a)) {
			return usage(x, "option '%s' must come before the "
			             "command", a);
		} else {
			return usage(x, "unknown option '%s'", a);
		}
	}
	return 0;
}

static int check_count(struct cmd_ctx *x)
{
	if (x->npos < x->cmd->min)
		return usage(x, "expected %s", x->cmd->params);
	if (x->npos > x->cmd->max)
		return usage(x, "unexpected argument '%s'",
		             x->pos[x->cmd->max]);
	return 0;
}

int bw_ctl_cmd_build(int argc, char *const *argv, const char *cwd,
                     struct bw_ctl_cmd_req *req, char *err, size_t errlen)
{
	struct cmd_ctx x = { .cwd = cwd, .req = req, .err = err,
	                     .errlen = errlen };
	int rc;

	memset(req, 0, sizeof(*req));
	if (argc < 1)
		return fail(err, errlen, BW_EINVAL, "no command given "
		            "(try 'bulwarkctl help')");
	x.cmd = find_cmd(argv[0]);
	if (x.cmd == NULL)
		return fail(err, errlen, BW_EINVAL, "unknown command '%s' "
		            "(try 'bulwarkctl help')", argv[0]);
	x.pos = calloc((size_t)argc, sizeof(*x.pos));
	if (x.pos == NULL)
		return BW_ENOMEM;
	req->command = x.cmd->name;
	rc = split_args(&x, argc - 1, argv + 1);
	if (rc == 0 && x.help) {
		req->command = "help";
		req->local = true;
		req->topic = x.cmd->name;
	} else if (rc == 0) {
		rc = check_count(&x);
		rc = rc != 0 ? rc : x.cmd->build(&x);
	}
	if (rc == 0 && req->args != NULL && req->args->failed)
		rc = BW_ENOMEM;
	if (rc != 0)
		bw_ctl_cmd_req_clear(req);
	free(x.pos);
	return rc;
}

void bw_ctl_cmd_req_clear(struct bw_ctl_cmd_req *req)
{
	bw_json_free(req->args);
	memset(req, 0, sizeof(*req));
}

char *bw_ctl_cmd_encode(const struct bw_ctl_cmd_req *req, size_t *len)
{
	struct bw_json *args = bw_json_copy(req->args);

	if (req->args != NULL && args == NULL)
		return NULL;
	return bw_ctl_encode_request(req->command, args, len);
}

/* ---- Help. ---- */

/* "stats [--reset] [--prometheus]" */
static void put_synopsis(struct bw_strbuf *b, const struct cmd *c)
{
	bw_strbuf_adds(b, c->name);
	if (c->params[0] != '\0') {
		bw_strbuf_adds(b, " ");
		bw_strbuf_adds(b, c->params);
	}
	for (size_t i = 0; c->flags != NULL && c->flags[i] != NULL; i++) {
		bw_strbuf_adds(b, " [");
		bw_strbuf_adds(b, c->flags[i]);
		bw_strbuf_adds(b, "]");
	}
}

static void put_command_list(struct bw_strbuf *b)
{
	size_t width = 0, start;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		start = b->len;
		put_synopsis(b, &commands[i]);
		if (b->len - start > width)
			width = b->len - start;
		bw_strbuf_trunc(b, start);
	}
	bw_strbuf_adds(b, "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		bw_strbuf_adds(b, "  ");
		start = b->len;
		put_synopsis(b, &commands[i]);
		put_pad(b, width + 2 - (b->len - start));
		bw_strbuf_adds(b, commands[i].help);
		bw_strbuf_adds(b, "\n");
	}
}

char *bw_ctl_cmd_help(const char *topic)
{
	const struct cmd *c = topic != NULL ? find_cmd(topic) : NULL;
	struct bw_strbuf b = { 0 };

	if (topic != NULL && c == NULL)
		return NULL;
	if (c == NULL) {
		put_command_list(&b);
		return bw_strbuf_take(&b);
	}
	bw_strbuf_adds(&b, "usage: bulwarkctl [OPTIONS] ");
	put_synopsis(&b, c);
	bw_strbuf_adds(&b, "\n\n");
	/* The one-line help as a sentence. */
	bw_strbuf_printf(&b, "%c", c->help[0] >= 'a' && c->help[0] <= 'z' ?
	           c->help[0] - 'a' + 'A' : c->help[0]);
	bw_strbuf_adds(&b, c->help + 1);
	bw_strbuf_adds(&b, ".\n");
	if (c->detail != NULL) {
		bw_strbuf_adds(&b, "\n");
		bw_strbuf_adds(&b, c->detail);
	}
	return bw_strbuf_take(&b);
}

/* ---- Rendering results. ---- */

/* Columns on a terminal: one per UTF-8 code point. */
static size_t text_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* Appends text with C0 and C1 control characters escaped, so that
 * nothing from the daemon moves the cursor or breaks a line. */
static void put_text(struct bw_strbuf *b, const char *s, size_t n)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool c1 = c == 0xc2 && i + 1 < n &&
		          (unsigned char)s[i + 1] >= 0x80 &&
		          (unsigned char)s[i + 1] <= 0x9f;

		if (c >= 0x20 && c != 0x7f && !c1)
			continue;
		bw_strbuf_add(b, s + done, i - done);
		if (c1)
			bw_strbuf_printf(b, "\\u%04x", (unsigned char)s[++i]);
		else if (c == '\n' || c == '\t')
			bw_strbuf_adds(b, c == '\n' ? "\\n" : "\\t");
		else
			bw_strbuf_printf(b, "\\x%02x", c);
		done = i + 1;
	}
	bw_strbuf_add(b, s + done, n - done);
}

static size_t shown_width(struct bw_strbuf *scratch, const char *s)
{
	bw_strbuf_trunc(scratch, 0);
	put_text(scratch, s, strlen(s));
	return text_width(scratch->d, scratch->len);
}

static bool is_scalar(const struct bw_json *v)
{
	return v->type != BW_JSON_ARR && v->type != BW_JSON_OBJ;
}

/* An array of objects, printed as a table. */
static bool is_table(const struct bw_json *v)
{
	if (v->type != BW_JSON_ARR || v->n == 0)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i]->type != BW_JSON_OBJ)
			return false;
	return true;
}

/* A value printed on the line of its key. */
static bool is_line(const struct bw_json *v)
{
	return !is_table(v) && !(v->type == BW_JSON_OBJ && v->n > 0);
}

static void put_json(struct bw_strbuf *b, const struct bw_json *v)
{
	char *text = bw_json_dump(v, 0, NULL);

	if (text == NULL)
		b->failed = true;
	else
		bw_strbuf_adds(b, text);
	free(text);
}

static void put_value(struct bw_strbuf *b, const struct bw_json *v);

/* Scalars comma-joined; anything deeper as compact JSON. */
static void put_list(struct bw_strbuf *b, const struct bw_json *v)
{
	for (size_t i = 0; i < v->n; i++) {
		if (!is_scalar(v->items[i])) {
			put_json(b, v);
			return;
		}
	}
	for (size_t i = 0; i < v->n; i++) {
		bw_strbuf_adds(b, i > 0 ? ", " : "");
		put_value(b, v->items[i]);
	}
}

static void put_value(struct bw_strbuf *b, const struct bw_json *v)
{
	switch (v->type) {
	case BW_JSON_NULL:
		bw_strbuf_adds(b, "-");
		break;
	case BW_JSON_BOOL:
		bw_strbuf_adds(b, v->b ? "true" : "false");
		break;
	case BW_JSON_NUM:
		bw_strbuf_add(b, v->str, v->len);
		break;
	case BW_JSON_STR:
		put_text(b, v->str, v->len);
		break;
	case BW_JSON_ARR:
		if (v->n == 0)
			bw_strbuf_adds(b, "-");
		else
			put_list(b, v);
		break;
	case BW_JSON_OBJ:
		if (v->n == 0)
			bw_strbuf_adds(b, "-");
		else
			put_json(b, v);
		break;
	}
}

/* A table being built from an array of objects. */
struct table {
	char **cols;       /* Column names, "a.b" for nested members. */
	size_t ncols, cap;
	char **cells;      /* nrows * ncols texts; NULL: absent. */
	size_t nrows;
	unsigned *kind;    /* Per column: KIND_NUM | KIND_OTHER seen. */
	size_t *width;
	bool nomem;
};

#define KIND_NUM 0x1u
#define KIND_OTHER 0x2u

static size_t table_find(const struct table *t, const char *name)
{
	size_t c = 0;

	while (c < t->ncols && strcmp(t->cols[c], name) != 0)
		c++;
	return c;
}

static void table_add_col(struct table *t, const char *name)
{
	char **cols;

	if (table_find(t, name) < t->ncols)
		return;
	if (t->ncols == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 8;
		cols = realloc(t->cols, t->cap * sizeof(*cols));
		if (cols == NULL) {
			t->nomem = true;
			return;
		}
		t->cols = cols;
	}
	t->cols[t->ncols] = strdup(name);
	t->nomem |= t->cols[t->ncols++] == NULL;
}

static void table_set(struct table *t, size_t row, const char *name,
                      const struct bw_json *v)
{
	size_t c = table_find(t, name);
	struct bw_strbuf cell = { 0 };
	char **slot;

	if (c == t->ncols)
		return;
	slot = &t->cells[row * t->ncols + c];
	put_value(&cell, v);
	free(*slot);
	*slot = bw_strbuf_take(&cell);
	t->nomem |= *slot == NULL;
	t->kind[c] |= v->type == BW_JSON_NUM ? KIND_NUM :
	              v->type == BW_JSON_NULL ? 0 : KIND_OTHER;
}

/* Walks one row: adds its columns (\a row SIZE_MAX) or fills its cells.
 * \a name holds the prefix of nested members. */
static void table_walk(struct table *t, const struct bw_json *o,
                       struct bw_strbuf *name, size_t row)
{
	size_t base = name->len;

	for (size_t i = 0; i < o->n && !t->nomem; i++) {
		const struct bw_json *v = o->items[i];

		bw_strbuf_adds(name, base > 0 ? "." : "");
		bw_strbuf_adds(name, o->keys[i]);
		t->nomem |= name->failed;
		if (t->nomem)
			break;
		if (v->type == BW_JSON_OBJ && v->n > 0)
			table_walk(t, v, name, row);
		else if (row == SIZE_MAX)
			table_add_col(t, name->d);
		else
			table_set(t, row, name->d, v);
		bw_strbuf_trunc(name, base);
	}
}

static void table_free(struct table *t)
{
	for (size_t i = 0; t->cells != NULL && i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (size_t c = 0; c < t->ncols; c++)
		free(t->cols[c]);
	free(t->cells);
	free(t->cols);
	free(t->kind);
	free(t->width);
}

/* Collects the columns, then the cells, of the array \a v. */
static void table_fill(struct table *t, const struct bw_json *v)
{
	struct bw_strbuf name = { 0 };

	for (size_t r = 0; r < v->n; r++)
		table_walk(t, v->items[r], &name, SIZE_MAX);
	t->nrows = v->n;
	/* One more column than needed: rows may have none. */
	t->cells = t->nomem ? NULL :
	           calloc(t->nrows * (t->ncols + 1), sizeof(char *));
	t->kind = calloc(t->ncols + 1, sizeof(*t->kind));
	t->width = calloc(t->ncols + 1, sizeof(*t->width));
	t->nomem |= t->cells == NULL || t->kind == NULL || t->width == NULL;
	for (size_t r = 0; r < v->n && !t->nomem; r++)
		table_walk(t, v->items[r], &name, r);
	free(name.d);
}

/* The header: column names upper-cased, escaped. */
static char **table_header(struct table *t)
{
	char **hdr = calloc(t->ncols + 1, sizeof(*hdr));
	struct bw_strbuf h = { 0 };

	t->nomem |= hdr == NULL;
	for (size_t c = 0; hdr != NULL && c < t->ncols; c++) {
		put_text(&h, t->cols[c], strlen(t->cols[c]));
		for (size_t i = 0; h.d != NULL && i < h.len; i++)
			if (h.d[i] >= 'a' && h.d[i] <= 'z')
				h.d[i] = (char)(h.d[i] - 'a' + 'A');
		hdr[c] = bw_strbuf_take(&h);
		t->nomem |= hdr[c] == NULL;
	}
	return hdr;
}

static const char *cell_text(const char *s)
{
	return s != NULL ? s : "-";
}

static void table_widths(struct table *t, char *const *hdr)
{
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = cell_text(hdr[c]);

		t->width[c] = text_width(s, strlen(s));
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w;

			s = cell_text(t->cells[r * t->ncols + c]);
			w = text_width(s, strlen(s));
			if (w > t->width[c])
				t->width[c] = w;
		}
	}
}

/* One line: numeric columns right-aligned, the others left-aligned. */
static void table_line(struct bw_strbuf *b, const struct table *t,
                       char *const *texts, size_t indent)
{
	put_pad(b, indent);
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = cell_text(texts[c]);
		size_t pad = t->width[c] - text_width(s, strlen(s));
		bool right = t->kind[c] == KIND_NUM;

		bw_strbuf_adds(b, c > 0 ? "  " : "");
		put_pad(b, right ? pad : 0);
		bw_strbuf_adds(b, s);
		put_pad(b, !right && c + 1 < t->ncols ? pad : 0);
	}
	bw_strbuf_adds(b, "\n");
}

static void render_table(struct bw_strbuf *b, const struct bw_json *v,
                         size_t indent)
{
	struct table t = { 0 };
	char **hdr = NULL;

	table_fill(&t, v);
	if (!t.nomem)
		hdr = table_header(&t);
	if (!t.nomem) {
		table_widths(&t, hdr);
		table_line(b, &t, hdr, indent);
		for (size_t r = 0; r < t.nrows; r++)
			table_line(b, &t, t.cells + r * t.ncols, indent);
	}
	b->failed |= t.nomem;
	for (size_t c = 0; hdr != NULL && c < t.ncols; c++)
		free(hdr[c]);
	free(hdr);
	table_free(&t);
}

static void render_obj(struct bw_strbuf *b, const struct bw_json *o,
                       size_t indent);

static void render_block(struct bw_strbuf *b, const struct bw_json *v,
                         size_t indent)
{
	if (is_table(v))
		render_table(b, v, indent);
	else
		render_obj(b, v, indent);
}

/* "key:  value" lines, keys padded to the longest; blocks indented under
 * their key. */
static void render_obj(struct bw_strbuf *b, const struct bw_json *o,
                       size_t indent)
{
	struct bw_strbuf scratch = { 0 };
	size_t width = 0;

	for (size_t i = 0; i < o->n; i++) {
		size_t w = shown_width(&scratch, o->keys[i]);

		if (is_line(o->items[i]) && w > width)
			width = w;
	}
	for (size_t i = 0; i < o->n; i++) {
		const struct bw_json *v = o->items[i];

		put_pad(b, indent);
		put_text(b, o->keys[i], strlen(o->keys[i]));
		bw_strbuf_adds(b, ":");
		if (is_line(v)) {
			put_pad(b, width + 2 - shown_width(&scratch, o->keys[i]));
			put_value(b, v);
			bw_strbuf_adds(b, "\n");
		} else {
			bw_strbuf_adds(b, "\n");
			render_block(b, v, indent + 2);
		}
	}
	b->failed |= scratch.failed;
	free(scratch.d);
}

char *bw_ctl_cmd_render(const struct bw_json *result)
{
	struct bw_strbuf b = { 0 };

	if (result->type != BW_JSON_OBJ) {
		put_value(&b, result);
		bw_strbuf_adds(&b, "\n");
	} else if (result->n == 1 && !is_line(result->items[0])) {
		render_block(&b, result->items[0], 0);
	} else {
		render_obj(&b, result, 0);
	}
	return bw_strbuf_take(&b);
}

/* ---- The control socket of a configuration file. ---- */

enum conf_tok { CT_EOF, CT_WORD, CT_LBRACE, CT_RBRACE, CT_SEMI, CT_ERROR };

struct conf_lex {
	const char *s;
	size_t len, pos;
	unsigned line;
	const char *conf;
	char *err;
	size_t errlen;
};

static bool conf_at(const struct conf_lex *l, const char *two)
{
	return l->pos + 1 < l->len && l->s[l->pos] == two[0] &&
	       l->s[l->pos + 1] == two[1];
}

static bool conf_comment_start(const struct conf_lex *l)
{
	return l->s[l->pos] == '#' || conf_at(l, "//") || conf_at(l, "/*");
}

static int conf_error(struct conf_lex *l, const char *what)
{
	return fail(l->err, l->errlen, BW_ESYNTAX, "%s:%u: %s", l->conf,
	            l->line, what);
}

/* Skips white space and comments. */
static int conf_skip(struct conf_lex *l)
{
	while (l->pos < l->len) {
		char c = l->s[l->pos];
		bool block = conf_at(l, "/*");

		if (c == '\n')
			l->line++;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			l->pos++;
		} else if (block) {
			for (l->pos += 2; l->pos < l->len && !conf_at(l, "*/"); l->pos++)
				l->line += l->s[l->pos] == '\n';
			if (l->pos >= l->len)
				return conf_error(l, "unterminated /* comment");
			l->pos += 2;
		} else if (conf_comment_start(l)) {
			while (l->pos < l->len && l->s[l->pos] != '\n')
				l->pos++;
		} else {
			break;
		}
	}
	return 0;
}

/* A quoted string; a backslash takes the next character literally. */
static enum conf_tok conf_string(struct conf_lex *l, struct bw_strbuf *w)
{
	for (l->pos++; l->pos < l->len && l->s[l->pos] != '"'; l->pos++) {
		if (l->s[l->pos] == '\\' && l->pos + 1 < l->len)
			l->pos++;
		if (l->s[l->pos] == '\n')
			break;
		bw_strbuf_add(w, l->s + l->pos, 1);
	}
	if (l->pos >= l->len || l->s[l->pos] != '"') {
		conf_error(l, "unterminated quoted string");
		return CT_ERROR;
	}
	l->pos++;
	return CT_WORD;
}

static enum conf_tok conf_next(struct conf_lex *l, struct bw_strbuf *w)
{
	char c;

	bw_strbuf_trunc(w, 0);
	bw_strbuf_add(w, "", 0);
	if (conf_skip(l) != 0)
		return CT_ERROR;
	if (l->pos >= l->len)
		return CT_EOF;
	c = l->s[l->pos];
	if (c == '\0') {
		conf_error(l, "NUL character");
		return CT_ERROR;
	}
	if (c == '{' || c == '}' || c == ';') {
		l->pos++;
		return c == '{' ? CT_LBRACE : c == '}' ? CT_RBRACE : CT_SEMI;
	}
	if (c == '"')
		return conf_string(l, w);
	while (l->pos < l->len && strchr(" \t\r\n{};\"", l->s[l->pos]) == NULL &&
	       !conf_comment_start(l))
		bw_strbuf_add(w, l->s + l->pos++, 1);
	return CT_WORD;
}

/* Where the scan is: which statement, which block. */
struct conf_scan {
	unsigned depth;
	bool start;          /* The next word names a statement. */
	bool options;        /* The statement at depth 0 is "options". */
	bool in_options;     /* Inside the options block. */
	char **target;       /* Receives the statement's first argument. */
	char *socket, *directory;
	bool nomem;
};

static void conf_word(struct conf_scan *st, const char *word)
{
	if (st->start) {
		st->start = false;
		st->target = NULL;
		if (st->depth == 0)
			st->options = strcasecmp(word, "options") == 0;
		else if (st->depth == 1 && st->in_options &&
		         strcasecmp(word, "control-socket") == 0)
			st->target = &st->socket;
		else if (st->depth == 1 && st->in_options &&
		         strcasecmp(word, "directory") == 0)
			st->target = &st->directory;
	} else if (st->target != NULL) {
		free(*st->target);
		*st->target = strdup(word);
		st->nomem |= *st->target == NULL;
		st->target = NULL;
	}
}

static void conf_punct(struct conf_scan *st, enum conf_tok t)
{
	if (t == CT_LBRACE) {
		if (st->depth == 0 && st->options)
			st->in_options = true;
		st->depth++;
	} else if (t == CT_RBRACE && st->depth > 0) {
		st->depth--;
		if (st->depth == 0)
			st->in_options = false;
	}
	st->start = true;
	st->target = NULL;
}

/* "/a/b" joined to \a name, unless \a name is absolute. */
static void path_join(struct bw_strbuf *b, const char *name)
{
	if (name[0] == '/')
		bw_strbuf_trunc(b, 0);
	else if (b->len > 0 && b->d[b->len - 1] != '/')
		bw_strbuf_adds(b, "/");
	bw_strbuf_adds(b, name);
}

/* As bulwarkd resolves it: directory against the file's directory, the
 * socket against directory. */
static char *conf_resolve(const char *conf, const char *directory,
                          const char *socket)
{
	const char *slash = strrchr(conf, '/');
	struct bw_strbuf b = { 0 };

	if (slash == NULL)
		bw_strbuf_adds(&b, ".");
	else
		bw_strbuf_add(&b, conf, slash == conf ? 1 : (size_t)(slash - conf));
	if (directory != NULL)
		path_join(&b, directory);
	path_join(&b, socket);
	return bw_strbuf_take(&b);
}

int bw_ctl_cmd_conf_socket(const char *text, size_t len, const char *conf,
                           char **path, char *err, size_t errlen)
{
	struct conf_lex l = { .s = text, .len = len, .line = 1, .conf = conf,
	                      .err = err, .errlen = errlen };
	struct conf_scan st = { .start = true };
	struct bw_strbuf w = { 0 };
	enum conf_tok t;
	int rc = 0;

	*path = NULL;
	while ((t = conf_next(&l, &w)) != CT_EOF && t != CT_ERROR &&
	       !w.failed) {
		if (t == CT_WORD)
			conf_word(&st, w.d);
		else
			conf_punct(&st, t);
	}
	if (t == CT_ERROR)
		rc = BW_ESYNTAX;
	else if (w.failed || st.nomem)
		rc = BW_ENOMEM;
	else if (st.socket == NULL)
		rc = BW_ENOENT;
	else if ((*path = conf_resolve(conf, st.directory, st.socket)) == NULL)
		rc = BW_ENOMEM;
	free(w.d);
	free(st.socket);
	free(st.directory);
	return rc;
}
