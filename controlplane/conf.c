/*  bulwark — bulwarkd configuration: named.conf syntax.
 *
 *  Two passes.  The reader turns the text (and its includes) into a tree of
 *  statements: a name, then values that are words, quoted strings or
 *  { blocks }, then ';'.  The checker walks that tree with one handler
 *  table per block kind and fills struct bw_conf.  A later statement is a
 *  new handler in a table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "conf.h"
#include "cookie.h"

#ifndef BW_VERSION
#define BW_VERSION "unknown"
#endif

#define CONF_FILE_MAX   (16u << 20)  /* Larger config files are refused. */
#define BLOCK_DEPTH_MAX 32           /* Nesting of { } blocks. */
#define TEXT_MAX        255          /* version, server-id, nsid. */
#define EDNS_DEFAULT    1232
#define TCP_CLIENTS_DEFAULT 1024
#define TCP_IDLE_DEFAULT    100      /* Tenths of a second: 10 s. */
#define TCP_PER_ADDR_DEFAULT 32
#define TCP_KEEPALIVE_DEFAULT 300    /* Tenths of a second: 30 s (BIND). */
#define FLOOD_INTERVAL_DEFAULT 250   /* Milliseconds. */
#define FLOOD_NXDOMAIN_DEFAULT 1000
#define FLOOD_DISTINCT_DEFAULT 500
#define FLOOD_RELEASE_DEFAULT  50    /* Percent. */
#define FLOOD_HOLD_DEFAULT     10    /* Seconds. */
#define FLOOD_ATTACK_DEFAULT   100
#define FLOOD_FILTER_DEFAULT   100
#define FLOOD_LOG_RATE_DEFAULT 10

/* ---- The generic tree. ---- */

enum val_type { V_WORD, V_STRING, V_BLOCK };

struct cstmt;

struct cval {
	enum val_type type;
	unsigned line;
	char *text;               /* V_WORD, V_STRING. */
	struct cstmt *block;      /* V_BLOCK: its statements. */
};

struct cstmt {
	char *name;
	struct cval *vals;
	size_t nvals;
	const char *file;         /* Points into bw_conf.files. */
	unsigned line;
	struct cstmt *next;
};

static void stmt_free(struct cstmt *s)
{
	while (s != NULL) {
		struct cstmt *next = s->next;

		for (size_t i = 0; i < s->nvals; i++) {
			free(s->vals[i].text);
			stmt_free(s->vals[i].block);
		}
		free(s->vals);
		free(s->name);
		free(s);
		s = next;
	}
}

/* ---- Parse state and errors. ---- */

struct pctx {
	struct bw_diag *d;
	struct bw_conf *c;
	unsigned errors;
	bool nomem;
	unsigned include_depth;
	unsigned block_depth;
	struct bw_conf_zone *zone;  /* Zone being checked. */
	bool nsid_set;
	bool rrl_set[BW_RRL_CLASSES]; /* Rates given in rate-limit. */
};

static void pverr(struct pctx *p, const char *file, unsigned line,
                  const char *fmt, va_list ap)
{
	bw_diag_vreport(p->d, BW_DIAG_ERROR, file, line, fmt, ap);
	p->errors++;
}

/* Reports an error; returns BW_ECONF. */
static int perr(struct pctx *p, const char *file, unsigned line,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int perr(struct pctx *p, const char *file, unsigned line,
                const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pverr(p, file, line, fmt, ap);
	va_end(ap);
	return BW_ECONF;
}

/* Reports an error; returns false. */
static bool pfail(struct pctx *p, const char *file, unsigned line,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static bool pfail(struct pctx *p, const char *file, unsigned line,
                  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pverr(p, file, line, fmt, ap);
	va_end(ap);
	return false;
}

static void *pmem(struct pctx *p, void *ptr)
{
	if (ptr == NULL)
		p->nomem = true;
	return ptr;
}

static char *pstrdup(struct pctx *p, const char *s)
{
	return pmem(p, strdup(s));
}

/* Appends one element to a growing array; false when out of memory. */
static bool grow(void **arr, size_t *n, size_t size)
{
	void *a = realloc(*arr, (*n + 1) * size);

	if (a == NULL)
		return false;
	memset((char *)a + *n * size, 0, size);
	*arr = a;
	(*n)++;
	return true;
}

/* ---- Files and paths. ---- */

/* Reads a file into a NUL-terminated buffer. */
static int read_whole(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nbuf;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (f == NULL)
		return -errno;
	while (rc == 0 && !feof(f)) {
		if (cap - n < 4096 + 1) {
			cap = cap == 0 ? 8192 : 2 * cap;
			nbuf = cap > CONF_FILE_MAX ? NULL : realloc(buf, cap);
			if (nbuf == NULL)
				rc = cap > CONF_FILE_MAX ? BW_ERANGE : BW_ENOMEM;
			else
				buf = nbuf;
			continue;
		}
		n += fread(buf + n, 1, cap - n - 1, f);
		if (ferror(f))
			rc = errno != 0 ? -errno : BW_EIO;
	}
	fclose(f);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Directory part of a path ("." when there is none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* \a name relative to \a dir, unless it is absolute. */
static char *path_join(const char *dir, const char *name)
{
	char *out;

	if (name[0] == '/' || dir == NULL)
		return strdup(name);
	if (asprintf(&out, "%s/%s", dir, name) < 0)
		return NULL;
	return out;
}

static const char *add_file(struct pctx *p, char *path)
{
	struct bw_conf *c = p->c;

	if (path == NULL || !grow((void **)&c->files, &c->nfiles, sizeof(char *))) {
		free(path);
		p->nomem = true;
		return NULL;
	}
	c->files[c->nfiles - 1] = path;
	return path;
}

/* ---- Lexer. ---- */

enum tok_type { T_EOF, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_SEMI };

struct tok {
	enum tok_type type;
	unsigned line;
	char *text;               /* Malloc'ed for T_WORD and T_STRING. */
};

struct lexer {
	const char *file;
	const char *buf;
	size_t len, pos;
	unsigned line;
};

static int lex_comment(struct pctx *p, struct lexer *lx)
{
	const char *s = lx->buf + lx->pos;
	unsigned start = lx->line;

	if (s[0] == '#' || (s[0] == '/' && s[1] == '/')) {
		while (lx->pos < lx->len && lx->buf[lx->pos] != '\n')
			lx->pos++;
		return 0;
	}
	for (lx->pos += 2; lx->pos < lx->len; lx->pos++) {
		if (lx->buf[lx->pos] == '\n')
			lx->line++;
		if (lx->buf[lx->pos] == '*' && lx->buf[lx->pos + 1] == '/') {
			lx->pos += 2;
			return 0;
		}
	}
	return perr(p, lx->file, start, "unterminated /* comment");
}

static bool comment_start(const char *s)
{
	return s[0] == '#' || (s[0] == '/' && (s[1] == '/' || s[1] == '*'));
}

static int lex_space(struct pctx *p, struct lexer *lx)
{
	while (lx->pos < lx->len) {
		char ch = lx->buf[lx->pos];

		if (ch == '\n') {
			lx->line++;
			lx->pos++;
		} else if (ch == ' ' || ch == '\t' || ch == '\r' ||
		           ch == '\f' || ch == '\v') {
			lx->pos++;
		} else if (comment_start(lx->buf + lx->pos)) {
			int rc = lex_comment(p, lx);
			if (rc != 0)
				return rc;
		} else {
			break;
		}
	}
	return 0;
}

/* A quoted string; a backslash takes the next character literally. */
static int lex_string(struct pctx *p, struct lexer *lx, struct tok *t)
{
	char *out = pmem(p, malloc(lx->len - lx->pos + 1));
	size_t n = 0;

	if (out == NULL)
		return BW_ENOMEM;
	for (lx->pos++; lx->pos < lx->len; lx->pos++) {
		char ch = lx->buf[lx->pos];

		if (ch == '"') {
			lx->pos++;
			out[n] = '\0';
			t->text = out;
			return 0;
		}
		if (ch == '\\' && lx->pos + 1 < lx->len)
			ch = lx->buf[++lx->pos];
		if (ch == '\n' || ch == '\0')
			break;
		out[n++] = ch;
	}
	free(out);
	if (lx->pos < lx->len && lx->buf[lx->pos] == '\0')
		return perr(p, lx->file, t->line, "NUL character in string");
	return perr(p, lx->file, t->line,
	            "unterminated string (missing '\"' on this line)");
}

static bool word_char(const char *s)
{
	return *s != '\0' && strchr(" \t\r\n\f\v{};\"", *s) == NULL &&
	       !comment_start(s);
}

static int lex_word(struct pctx *p, struct lexer *lx, struct tok *t)
{
	size_t start = lx->pos;

	while (lx->pos < lx->len && word_char(lx->buf + lx->pos))
		lx->pos++;
	if (lx->pos == start)
		return perr(p, lx->file, lx->line, "unexpected character 0x%02x",
		            (unsigned char)lx->buf[start]);
	t->text = pmem(p, strndup(lx->buf + start, lx->pos - start));
	return t->text == NULL ? BW_ENOMEM : 0;
}

static int lex_next(struct pctx *p, struct lexer *lx, struct tok *t)
{
	int rc = lex_space(p, lx);

	memset(t, 0, sizeof(*t));
	t->line = lx->line;
	if (rc != 0 || lx->pos >= lx->len)
		return rc;
	switch (lx->buf[lx->pos]) {
	case '{': t->type = T_LBRACE; break;
	case '}': t->type = T_RBRACE; break;
	case ';': t->type = T_SEMI; break;
	case '"':
		t->type = T_STRING;
		return lex_string(p, lx, t);
	default:
		t->type = T_WORD;
		return lex_word(p, lx, t);
	}
	lx->pos++;
	return 0;
}

/* ---- Reader: text to tree. ---- */

static int read_list(struct pctx *p, struct lexer *lx, unsigned open_line,
                     struct cstmt ***tail);
static int read_file(struct pctx *p, const char *path, const char *from,
                     unsigned from_line, struct cstmt ***tail);

static int add_val(struct pctx *p, struct cstmt *s, enum val_type type,
                   unsigned line, char *text)
{
	if (!grow((void **)&s->vals, &s->nvals, sizeof(struct cval))) {
		free(text);
		p->nomem = true;
		return BW_ENOMEM;
	}
	s->vals[s->nvals - 1] = (struct cval){ .type = type, .line = line,
	                                       .text = text };
	return 0;
}

static int read_block(struct pctx *p, struct lexer *lx, struct cstmt *s,
                      unsigned line)
{
	struct cstmt **tail;
	int rc;

	if (p->block_depth >= BLOCK_DEPTH_MAX)
		return perr(p, lx->file, line, "blocks nested too deep");
	rc = add_val(p, s, V_BLOCK, line, NULL);
	if (rc != 0)
		return rc;
	tail = &s->vals[s->nvals - 1].block;
	p->block_depth++;
	rc = read_list(p, lx, line, &tail);
	p->block_depth--;
	return rc;
}

static const char *last_text(const struct cstmt *s)
{
	if (s->nvals == 0)
		return s->name;
	return s->vals[s->nvals - 1].type == V_BLOCK ? "}" :
	       s->vals[s->nvals - 1].text;
}

/* Values of one statement up to its ';'. */
static int read_vals(struct pctx *p, struct lexer *lx, struct cstmt *s)
{
	unsigned last = s->line;
	bool after_block = false;
	struct tok t;
	int rc;

	for (;;) {
		rc = lex_next(p, lx, &t);
		if (rc != 0)
			return rc;
		switch (t.type) {
		case T_SEMI:
			return 0;
		case T_WORD:
		case T_STRING:
			/* After '}', a value on a later line is a new statement. */
			if (after_block && t.line != last) {
				free(t.text);
				return perr(p, lx->file, last, "missing ';' after '}'");
			}
			rc = add_val(p, s, t.type == T_WORD ? V_WORD : V_STRING,
			             t.line, t.text);
			after_block = false;
			break;
		case T_LBRACE:
			rc = read_block(p, lx, s, t.line);
			after_block = true;
			break;
		case T_RBRACE:
		case T_EOF:
			return perr(p, lx->file, last, "missing ';' after '%s'",
			            last_text(s));
		}
		if (rc != 0)
			return rc;
		last = lx->line;
	}
}

static int read_include(struct pctx *p, struct lexer *lx, struct cstmt *s,
                        struct cstmt ***tail)
{
	char *dir, *path;
	int rc;

	if (s->nvals != 1 || s->vals[0].type == V_BLOCK)
		return perr(p, lx->file, s->line,
		            "include needs one file name: include \"FILE\";");
	if (p->include_depth >= BW_CONF_INCLUDE_MAX) {
		perr(p, lx->file, s->line, "include nested too deep (limit %u)",
		     BW_CONF_INCLUDE_MAX);
		return BW_EDEPTH;
	}
	dir = dir_of(lx->file);
	path = dir != NULL ? path_join(dir, s->vals[0].text) : NULL;
	free(dir);
	if (path == NULL)
		return BW_ENOMEM;
	p->include_depth++;
	rc = read_file(p, path, lx->file, s->line, tail);
	p->include_depth--;
	free(path);
	return rc;
}

static int read_stmt(struct pctx *p, struct lexer *lx, struct tok *name,
                     struct cstmt ***tail)
{
	struct cstmt *s = pmem(p, calloc(1, sizeof(*s)));
	int rc;

	if (s == NULL) {
		free(name->text);
		return BW_ENOMEM;
	}
	s->name = name->text;
	s->file = lx->file;
	s->line = name->line;
	rc = read_vals(p, lx, s);
	if (rc == 0 && strcmp(s->name, "include") == 0) {
		rc = read_include(p, lx, s, tail);
		stmt_free(s);
		return rc;
	}
	if (rc != 0) {
		stmt_free(s);
		return rc;
	}
	**tail = s;
	*tail = &s->next;
	return 0;
}

static const char *tok_text(const struct tok *t)
{
	switch (t->type) {
	case T_LBRACE: return "{";
	case T_RBRACE: return "}";
	case T_SEMI:   return ";";
	case T_EOF:    return "end of file";
	case T_WORD:
	case T_STRING: return t->text;
	}
	return "?";
}

/* Statements until '}' (open_line > 0) or the end of the file. */
static int read_list(struct pctx *p, struct lexer *lx, unsigned open_line,
                     struct cstmt ***tail)
{
	struct tok t;
	int rc;

	for (;;) {
		rc = lex_next(p, lx, &t);
		if (rc != 0)
			return rc;
		if (t.type == T_WORD) {
			rc = read_stmt(p, lx, &t, tail);
			if (rc != 0)
				return rc;
			continue;
		}
		if (t.type == T_EOF && open_line > 0)
			return perr(p, lx->file, t.line,
			            "missing '}' for the '{' at line %u", open_line);
		if ((t.type == T_EOF && open_line == 0) ||
		    (t.type == T_RBRACE && open_line > 0))
			return 0;
		rc = perr(p, lx->file, t.line,
		          "expected a statement name, found '%s'", tok_text(&t));
		free(t.text);
		return rc;
	}
}

static int read_file(struct pctx *p, const char *path, const char *from,
                     unsigned from_line, struct cstmt ***tail)
{
	struct lexer lx = { .line = 1 };
	char *buf = NULL;
	int rc = read_whole(path, &buf, &lx.len);

	if (rc != 0) {
		const char *why = rc == BW_ERANGE ? "file too large" : strerror(-rc);
		if (from != NULL)
			return perr(p, from, from_line, "cannot read '%s': %s", path, why);
		perr(p, path, 0, "cannot read: %s", why);
		return rc;
	}
	lx.file = add_file(p, strdup(path));
	lx.buf = buf;
	rc = lx.file == NULL ? BW_ENOMEM : read_list(p, &lx, 0, tail);
	free(buf);
	return rc;
}

/* ---- Checker helpers. ---- */

struct handler {
	const char *name;
	void (*fn)(struct pctx *p, const struct cstmt *s);
	bool multi;               /* May appear more than once. */
};

static const struct cval *block_of(const struct cstmt *s)
{
	if (s->nvals == 0 || s->vals[s->nvals - 1].type != V_BLOCK)
		return NULL;
	return &s->vals[s->nvals - 1];
}

/* Statements of the block of \a s (NULL when it has none). */
static const struct cstmt *block_stmts(const struct cstmt *s)
{
	const struct cval *b = block_of(s);

	return b != NULL ? b->block : NULL;
}

/*
 * Checks that \a s has min..max plain values followed by one block when
 * \a block, or by nothing.
 */
static bool check_shape(struct pctx *p, const struct cstmt *s, size_t min,
                        size_t max, bool block)
{
	size_t n = s->nvals - (block_of(s) != NULL);

	for (size_t i = 0; i < n; i++) {
		const struct cval *v = &s->vals[i];
		unsigned prev = i == 0 ? s->line : s->vals[i - 1].line;

		if (v->type == V_BLOCK)
			return pfail(p, s->file, v->line, "'%s': unexpected '{'",
			             s->name);
		if (i >= max && v->line > prev)
			return pfail(p, s->file, prev, "missing ';' after '%s'",
			             i == 0 ? s->name : s->vals[i - 1].text);
		if (i >= max)
			return pfail(p, s->file, v->line, "'%s': unexpected '%s'",
			             s->name, v->text);
	}
	if (!block && block_of(s) != NULL)
		return pfail(p, s->file, block_of(s)->line,
		             "'%s' takes no { ... } block", s->name);
	if (n < min)
		return pfail(p, s->file, s->line, "'%s': missing argument",
		             s->name);
	if (block && block_of(s) == NULL)
		return pfail(p, s->file, s->line, "'%s' needs a { ... } block",
		             s->name);
	return true;
}

static bool is_word(const struct cval *v, const char *w)
{
	return v->type == V_WORD && strcasecmp(v->text, w) == 0;
}

/* Statements that BIND knows and that bulwark does not (yet) support. */
static bool bind_known(const char *name)
{
	static const char *const names[] = {
		"acl", "allow-query", "allow-transfer", "allow-update",
		"also-notify", "controls", "dnssec-policy", "inline-signing",
		"key", "key-store", "logging", "masters", "notify", "primaries",
		"rate-limit", "recursion", "remote-servers", "server",
		"statistics-channels", "tls", "trust-anchors", "update-policy",
		"view",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

static void run_handlers(struct pctx *p, const struct cstmt *list,
                         const struct handler *h, size_t nh, const char *in)
{
	const struct cstmt *seen[32] = { 0 };
	size_t i;

	/* A block's handler table is fixed in this file; this guards seen[]. */
	if (nh > sizeof(seen) / sizeof(seen[0]))
		abort();

	for (const struct cstmt *s = list; s != NULL; s = s->next) {
		for (i = 0; i < nh && strcasecmp(s->name, h[i].name) != 0; i++)
			;
		if (i == nh && bind_known(s->name))
			perr(p, s->file, s->line, "'%s' is not supported%s%s",
			     s->name, in[0] != '\0' ? " in " : "", in);
		else if (i == nh)
			perr(p, s->file, s->line, "unknown statement '%s'%s%s",
			     s->name, in[0] != '\0' ? " in " : "", in);
		else if (!h[i].multi && seen[i] != NULL)
			perr(p, s->file, s->line, "duplicate '%s' (first at %s:%u)",
			     s->name, seen[i]->file, seen[i]->line);
		else
			h[i].fn(p, s);
		if (i < nh && seen[i] == NULL)
			seen[i] = s;
	}
}

static bool parse_uint(const char *txt, unsigned long min, unsigned long max,
                       unsigned long *out)
{
	char *end;

	if (txt[0] < '0' || txt[0] > '9')
		return false;
	errno = 0;
	*out = strtoul(txt, &end, 10);
	return errno == 0 && *end == '\0' && *out >= min && *out <= max;
}

static void set_str(struct pctx *p, char **dst, const char *src)
{
	free(*dst);
	*dst = src != NULL ? pstrdup(p, src) : NULL;
}

/* One string argument; the unquoted word \a none (if given) sets NULL. */
static void stmt_string(struct pctx *p, const struct cstmt *s, char **dst,
                        const char *none)
{
	if (!check_shape(p, s, 1, 1, false))
		return;
	if (none != NULL && is_word(&s->vals[0], none))
		set_str(p, dst, NULL);
	else
		set_str(p, dst, s->vals[0].text);
}

/* ---- Addresses. ---- */

static bool addr_parse(const char *txt, bool v6only, uint16_t port,
                       struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct addrinfo hints = { .ai_family = AF_INET6,
	                          .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai = NULL;

	memset(ss, 0, sizeof(*ss));
	if (!v6only && inet_pton(AF_INET, txt, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return true;
	}
	/* getaddrinfo() for IPv6 because it also takes a %scope. */
	if (strchr(txt, ':') == NULL || getaddrinfo(txt, NULL, &hints, &ai) != 0)
		return false;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	freeaddrinfo(ai);
	return true;
}

void bw_conf_addr_text(const struct sockaddr_storage *ss, char *out,
                       size_t cap)
{
	char host[NI_MAXHOST];
	socklen_t len = ss->ss_family == AF_INET6 ?
	                sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	uint16_t port = ss->ss_family == AF_INET6 ?
	                ((const struct sockaddr_in6 *)ss)->sin6_port :
	                ((const struct sockaddr_in *)ss)->sin_port;

	if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host),
	                NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(out, cap, "%s port %u", host, ntohs(port));
}

static bool addr_same(const struct sockaddr_storage *a,
                      const struct sockaddr_storage *b)
{
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       a6->sin6_scope_id == b6->sin6_scope_id &&
	       memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* Adds an address to a list; an address already there is an error. */
static void addr_add(struct pctx *p, struct bw_conf_addr **list, size_t *n,
                     const struct sockaddr_storage *ss, socklen_t len,
                     const struct cstmt *at)
{
	char text[INET6_ADDRSTRLEN + 32];

	for (size_t i = 0; i < *n; i++) {
		if (!addr_same(&(*list)[i].ss, ss))
			continue;
		bw_conf_addr_text(ss, text, sizeof(text));
		perr(p, at->file, at->line, "duplicate address %s (first at %s:%u)",
		     text, (*list)[i].file, (*list)[i].line);
		return;
	}
	if (!grow((void **)list, n, sizeof(**list))) {
		p->nomem = true;
		return;
	}
	(*list)[*n - 1] = (struct bw_conf_addr){ .ss = *ss, .len = len,
	                                         .file = at->file,
	                                         .line = at->line };
}

/* ---- options { ... }; ---- */

static void opt_directory(struct pctx *p, const struct cstmt *s)
{
	stmt_string(p, s, &p->c->directory, NULL);
}

static void opt_control_socket(struct pctx *p, const struct cstmt *s)
{
	stmt_string(p, s, &p->c->control_socket, NULL);
}

static void opt_pid_file(struct pctx *p, const struct cstmt *s)
{
	stmt_string(p, s, &p->c->pid_file, "none");
}

/* One element of a listen-on list: an address, "any" or "none". */
static void listen_elem(struct pctx *p, const struct cstmt *e, bool v6only,
                        uint16_t port, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *txt = e->name;

	if (e->nvals > 0) {
		perr(p, e->file, e->line, "%s: unexpected '%s' after '%s'", what,
		     e->vals[0].type == V_BLOCK ? "{" : e->vals[0].text, e->name);
		return;
	}
	if (strcasecmp(txt, "none") == 0)
		return;
	if (strcasecmp(txt, "any") == 0)
		txt = v6only ? "::" : "0.0.0.0";
	if (!addr_parse(txt, v6only, port, &ss, &len)) {
		perr(p, e->file, e->line, "%s: bad %saddress '%s'", what,
		     v6only ? "IPv6 " : "", e->name);
		return;
	}
	addr_add(p, &p->c->listen, &p->c->nlisten, &ss, len, e);
}

static void listen_common(struct pctx *p, const struct cstmt *s, bool v6only)
{
	unsigned long port = 53;
	size_t i = 0;

	if (s->nvals >= 2 && is_word(&s->vals[0], "port")) {
		if (s->vals[1].type == V_BLOCK ||
		    !parse_uint(s->vals[1].text, 1, 65535, &port)) {
			perr(p, s->file, s->vals[1].line,
			     "%s: port out of range (1-65535): '%s'", s->name,
			     s->vals[1].type == V_BLOCK ? "{" : s->vals[1].text);
			return;
		}
		i = 2;
	}
	if (s->nvals != i + 1 || block_of(s) == NULL) {
		perr(p, s->file, s->line,
		     "%s: expected [port N] { ADDRESS; ... }", s->name);
		return;
	}
	for (const struct cstmt *e = block_stmts(s); e != NULL; e = e->next)
		listen_elem(p, e, v6only, (uint16_t)port, s->name);
}

static void opt_listen_on(struct pctx *p, const struct cstmt *s)
{
	listen_common(p, s, false);
}

static void opt_listen_on_v6(struct pctx *p, const struct cstmt *s)
{
	listen_common(p, s, true);
}

/* One number argument from min to max; false (and reported) otherwise. */
static bool stmt_uint(struct pctx *p, const struct cstmt *s, unsigned long min,
                      unsigned long max, unsigned long *out)
{
	if (!check_shape(p, s, 1, 1, false))
		return false;
	if (parse_uint(s->vals[0].text, min, max, out))
		return true;
	perr(p, s->file, s->vals[0].line, "%s: '%s' is not a number from %lu to %lu",
	     s->name, s->vals[0].text, min, max);
	return false;
}

static void opt_edns_udp_size(struct pctx *p, const struct cstmt *s)
{
	unsigned long n;

	if (stmt_uint(p, s, 512, 4096, &n))
		p->c->edns_udp_size = (uint16_t)n;
}

static void opt_tcp_clients(struct pctx *p, const struct cstmt *s)
{
	unsigned long n;

	if (stmt_uint(p, s, 1, BW_CONF_TCP_CLIENTS_MAX, &n))
		p->c->tcp_clients = (unsigned)n;
}

/* In tenths of a second, as in BIND. */
static void opt_tcp_idle_timeout(struct pctx *p, const struct cstmt *s)
{
	unsigned long n;

	if (stmt_uint(p, s, 1, 1200, &n))
		p->c->tcp_idle_timeout = (unsigned)n;
}

static void opt_tcp_clients_per_address(struct pctx *p, const struct cstmt *s)
{
	unsigned long n;

	if (stmt_uint(p, s, 1, BW_CONF_TCP_CLIENTS_MAX, &n))
		p->c->tcp_clients_per_address = (unsigned)n;
}

/* Tenths of a second, BIND's range: the option's TIMEOUT has 16 bits. */
static void opt_tcp_keepalive_timeout(struct pctx *p, const struct cstmt *s)
{
	unsigned long n;

	if (stmt_uint(p, s, 1, 65535, &n))
		p->c->tcp_keepalive_timeout = (unsigned)n;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)(ch | 0x20);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* "0x..." into octets; the length is checked by the caller. */
static bool hex_decode(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return true;
}

static void opt_nsid(struct pctx *p, const struct cstmt *s)
{
	const struct cval *v;
	uint8_t buf[TEXT_MAX];
	size_t len = 0;

	if (!check_shape(p, s, 1, 1, false))
		return;
	v = &s->vals[0];
	p->nsid_set = true;
	if (v->type == V_WORD && strncasecmp(v->text, "0x", 2) == 0) {
		if (strlen(v->text + 2) > 2 * TEXT_MAX ||
		    !hex_decode(v->text + 2, buf, &len)) {
			perr(p, s->file, v->line, "nsid: bad hex string '%s'", v->text);
			return;
		}
	} else {
		len = strlen(v->text);
		if (len == 0 || len > TEXT_MAX) {
			perr(p, s->file, v->line, "nsid: length must be 1 to %u",
			     TEXT_MAX);
			return;
		}
		memcpy(buf, v->text, len);
	}
	free(p->c->nsid);
	p->c->nsid = pmem(p, malloc(len));
	if (p->c->nsid != NULL)
		memcpy(p->c->nsid, buf, len);
	p->c->nsid_len = len;
}

static bool check_text(struct pctx *p, const struct cstmt *s)
{
	if (strlen(s->vals[0].text) <= TEXT_MAX)
		return true;
	perr(p, s->file, s->vals[0].line, "%s: longer than %u characters",
	     s->name, TEXT_MAX);
	return false;
}

static void opt_version(struct pctx *p, const struct cstmt *s)
{
	if (check_shape(p, s, 1, 1, false) && check_text(p, s))
		stmt_string(p, s, &p->c->version, "none");
}

static void opt_server_id(struct pctx *p, const struct cstmt *s)
{
	char host[TEXT_MAX + 1] = "";

	if (!check_shape(p, s, 1, 1, false) || !check_text(p, s))
		return;
	if (!is_word(&s->vals[0], "hostname")) {
		stmt_string(p, s, &p->c->server_id, "none");
		return;
	}
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
		perr(p, s->file, s->line, "server-id hostname: %s",
		     strerror(errno));
		return;
	}
	set_str(p, &p->c->server_id, host);
}

/* yes | no, or BIND's other spellings true | false, 1 | 0. */
static bool stmt_bool(struct pctx *p, const struct cstmt *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "1" };
	static const char *const no[] = { "no", "false", "0" };

	if (!check_shape(p, s, 1, 1, false))
		return false;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (is_word(&s->vals[0], yes[i]) || is_word(&s->vals[0], no[i])) {
			*out = is_word(&s->vals[0], yes[i]);
			return true;
		}
	}
	perr(p, s->file, s->vals[0].line, "%s: expected yes or no, found '%s'",
	     s->name, s->vals[0].text);
	return false;
}

/* One number from min to max into \a dst; left as it is on error. */
static void set_uint(struct pctx *p, const struct cstmt *s, unsigned long min,
                     unsigned long max, unsigned *dst)
{
	unsigned long n;

	if (stmt_uint(p, s, min, max, &n))
		*dst = (unsigned)n;
}

/* BIND: the first secret makes server cookies, the others verify. */
static void opt_cookie_secret(struct pctx *p, const struct cstmt *s)
{
	struct bw_conf *c = p->c;
	struct bw_cookie_secret key;

	if (!check_shape(p, s, 1, 1, false))
		return;
	if (c->ncookie_secrets == BW_CONF_COOKIE_SECRETS) {
		perr(p, s->file, s->line, "cookie-secret: at most %u (the first "
		     "makes cookies, the second only verifies them)",
		     BW_CONF_COOKIE_SECRETS);
		return;
	}
	if (bw_cookie_secret_parse(s->vals[0].text, &key) != 0) {
		perr(p, s->file, s->vals[0].line,
		     "cookie-secret must be 32 hexadecimal digits (siphash24)");
		return;
	}
	c->cookie_secret[c->ncookie_secrets++] = key;
}

static void opt_cookie_algorithm(struct pctx *p, const struct cstmt *s)
{
	if (check_shape(p, s, 1, 1, false) && !is_word(&s->vals[0], "siphash24"))
		perr(p, s->file, s->vals[0].line, "cookie-algorithm: only siphash24 "
		     "is supported, found '%s'", s->vals[0].text);
}

static void opt_answer_cookie(struct pctx *p, const struct cstmt *s)
{
	stmt_bool(p, s, &p->c->answer_cookie);
}

/* ---- rate-limit { ... }; (in options) ---- */

static const char *const rrl_rate_stmts[BW_RRL_CLASSES] = {
	[BW_RRL_RESPONSE] = "responses-per-second",
	[BW_RRL_NXDOMAIN] = "nxdomains-per-second",
	[BW_RRL_REFERRAL] = "referrals-per-second",
	[BW_RRL_NODATA] = "nodata-per-second",
	[BW_RRL_ERROR] = "errors-per-second",
	[BW_RRL_ALL] = "all-per-second",
};

/* Any of the *-per-second statements; BIND's `size N` and `ratio N`
 * are refused. */
static void rrl_rate(struct pctx *p, const struct cstmt *s)
{
	size_t k = 0;

	while (k < BW_RRL_CLASSES - 1 && strcasecmp(s->name, rrl_rate_stmts[k]) != 0)
		k++;
	for (size_t i = 0; i < s->nvals; i++) {
		if (is_word(&s->vals[i], "size") || is_word(&s->vals[i], "ratio")) {
			perr(p, s->file, s->vals[i].line, "%s: '%s' is not supported",
			     s->name, s->vals[i].text);
			return;
		}
	}
	set_uint(p, s, 0, BW_CONF_RRL_RATE_MAX, &p->c->rrl.rate[k]);
	p->rrl_set[k] = true;
}

static void rrl_window(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 1, 3600, &p->c->rrl.window);
}

static void rrl_slip(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 0, 10, &p->c->rrl.slip);
}

static void rrl_qps_scale(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 0, UINT32_MAX, &p->c->rrl.qps_scale);
}

static void rrl_prefix(struct pctx *p, const struct cstmt *s, unsigned max,
                       uint8_t *dst)
{
	unsigned long n;

	if (stmt_uint(p, s, 0, max, &n))
		*dst = (uint8_t)n;
}

static void rrl_ipv4_prefix(struct pctx *p, const struct cstmt *s)
{
	rrl_prefix(p, s, 32, &p->c->rrl.ipv4_prefix);
}

static void rrl_ipv6_prefix(struct pctx *p, const struct cstmt *s)
{
	rrl_prefix(p, s, 128, &p->c->rrl.ipv6_prefix);
}

static void rrl_log_only(struct pctx *p, const struct cstmt *s)
{
	stmt_bool(p, s, &p->c->rrl.log_only);
}

static void rrl_max_table_size(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 1, BW_CONF_RRL_TABLE_MAX, &p->c->rrl.table_size);
}

/* The table has max-table-size entries per worker from the start. */
static void rrl_min_table_size(struct pctx *p, const struct cstmt *s)
{
	unsigned long n;

	if (stmt_uint(p, s, 1, BW_CONF_RRL_TABLE_MAX, &n))
		bw_diag_report(p->d, BW_DIAG_WARN, s->file, s->line,
		               "min-table-size is ignored: the table has "
		               "max-table-size entries per worker from the start");
}

/* Whether bits are set after the prefix length. */
static bool prefix_host_bits(const struct bw_prefix *pf)
{
	unsigned bits = pf->v6 ? 128 : 32;

	for (unsigned i = pf->len; i < bits; i++)
		if (pf->addr[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

/* "ADDRESS" or "ADDRESS/LEN", IPv4 or IPv6 (no %scope). */
static bool prefix_parse(const char *txt, struct bw_prefix *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(txt, '/');
	size_t hlen = slash != NULL ? (size_t)(slash - txt) : strlen(txt);
	unsigned long len, max;

	if (hlen >= sizeof(host))
		return false;
	memcpy(host, txt, hlen);
	host[hlen] = '\0';
	memset(out, 0, sizeof(*out));
	out->v6 = strchr(host, ':') != NULL;
	if (inet_pton(out->v6 ? AF_INET6 : AF_INET, host, out->addr) != 1)
		return false;
	max = out->v6 ? 128 : 32;
	len = max;
	if (slash != NULL && !parse_uint(slash + 1, 0, max, &len))
		return false;
	out->len = (uint8_t)len;
	return true;
}

/* One element of exempt-clients: an address or a prefix. */
static void rrl_exempt_elem(struct pctx *p, const struct cstmt *e)
{
	struct bw_rrl_conf *r = &p->c->rrl;
	struct bw_prefix pf;

	if (e->name[0] == '!') {
		perr(p, e->file, e->line, "exempt-clients: negation ('%s') is not "
		     "supported here", e->name);
		return;
	}
	if (e->nvals > 0 || !prefix_parse(e->name, &pf)) {
		perr(p, e->file, e->line, "exempt-clients: '%s' is not an address "
		     "or prefix (ACL names and keys are not supported here)",
		     e->name);
		return;
	}
	if (prefix_host_bits(&pf)) {
		perr(p, e->file, e->line, "exempt-clients: '%s' has bits set after "
		     "the prefix length", e->name);
		return;
	}
	if (r->nexempt == BW_RRL_EXEMPT_MAX) {
		perr(p, e->file, e->line, "exempt-clients: more than %u entries",
		     BW_RRL_EXEMPT_MAX);
		return;
	}
	r->exempt[r->nexempt++] = pf;
}

static void rrl_exempt_clients(struct pctx *p, const struct cstmt *s)
{
	if (!check_shape(p, s, 0, 0, true))
		return;
	for (const struct cstmt *e = block_stmts(s); e != NULL; e = e->next)
		rrl_exempt_elem(p, e);
}

static const struct handler rrl_handlers[] = {
	{ "all-per-second", rrl_rate, false },
	{ "errors-per-second", rrl_rate, false },
	{ "exempt-clients", rrl_exempt_clients, false },
	{ "ipv4-prefix-length", rrl_ipv4_prefix, false },
	{ "ipv6-prefix-length", rrl_ipv6_prefix, false },
	{ "log-only", rrl_log_only, false },
	{ "max-table-size", rrl_max_table_size, false },
	{ "min-table-size", rrl_min_table_size, false },
	{ "nodata-per-second", rrl_rate, false },
	{ "nxdomains-per-second", rrl_rate, false },
	{ "qps-scale", rrl_qps_scale, false },
	{ "referrals-per-second", rrl_rate, false },
	{ "responses-per-second", rrl_rate, false },
	{ "slip", rrl_slip, false },
	{ "window", rrl_window, false },
};

static void opt_rate_limit(struct pctx *p, const struct cstmt *s)
{
	struct bw_rrl_conf *r = &p->c->rrl;

	if (!check_shape(p, s, 0, 0, true))
		return;
	r->enabled = true;
	run_handlers(p, block_stmts(s), rrl_handlers,
	             sizeof(rrl_handlers) / sizeof(rrl_handlers[0]), "rate-limit");
	/* As BIND: the class limits default to responses-per-second. */
	for (size_t k = 0; k < BW_RRL_CLASSES; k++)
		if (k != BW_RRL_ALL && !p->rrl_set[k])
			r->rate[k] = r->rate[BW_RRL_RESPONSE];
}

static const struct handler options_handlers[] = {
	{ "answer-cookie", opt_answer_cookie, false },
	{ "control-socket", opt_control_socket, false },
	{ "cookie-algorithm", opt_cookie_algorithm, false },
	{ "cookie-secret", opt_cookie_secret, true },
	{ "directory", opt_directory, false },
	{ "edns-udp-size", opt_edns_udp_size, false },
	{ "listen-on", opt_listen_on, true },
	{ "listen-on-v6", opt_listen_on_v6, true },
	{ "nsid", opt_nsid, false },
	{ "pid-file", opt_pid_file, false },
	{ "rate-limit", opt_rate_limit, false },
	{ "server-id", opt_server_id, false },
	{ "tcp-clients", opt_tcp_clients, false },
	{ "tcp-clients-per-address", opt_tcp_clients_per_address, false },
	{ "tcp-idle-timeout", opt_tcp_idle_timeout, false },
	{ "tcp-keepalive-timeout", opt_tcp_keepalive_timeout, false },
	{ "version", opt_version, false },
};

/* ---- dataplane { ... }; ---- */

static void dp_io(struct pctx *p, const struct cstmt *s)
{
	if (!check_shape(p, s, 1, 1, false))
		return;
	if (is_word(&s->vals[0], "socket"))
		p->c->io = BW_CONF_IO_SOCKET;
	else if (is_word(&s->vals[0], "dpdk"))
		p->c->io = BW_CONF_IO_DPDK;
	else
		perr(p, s->file, s->vals[0].line,
		     "io: expected 'socket' or 'dpdk', found '%s'", s->vals[0].text);
}

/* "N" workers, or "A-B": lcores A to B, one worker each. */
static void dp_workers(struct pctx *p, const struct cstmt *s)
{
	const char *txt, *dash;
	unsigned long a, b;
	char first[16];

	if (!check_shape(p, s, 1, 1, false))
		return;
	txt = s->vals[0].text;
	dash = strchr(txt, '-');
	if (dash == NULL && parse_uint(txt, 0, BW_CONF_WORKERS_MAX, &a)) {
		if (a == 0)
			perr(p, s->file, s->line, "workers: must be at least 1");
		p->c->workers = (unsigned)a;
		p->c->cpu_first = -1;
		return;
	}
	if (dash != NULL && (size_t)(dash - txt) < sizeof(first)) {
		memcpy(first, txt, (size_t)(dash - txt));
		first[dash - txt] = '\0';
		if (parse_uint(first, 0, BW_CONF_WORKERS_MAX - 1, &a) &&
		    parse_uint(dash + 1, a, BW_CONF_WORKERS_MAX - 1, &b)) {
			p->c->workers = (unsigned)(b - a + 1);
			p->c->cpu_first = (int)a;
			return;
		}
	}
	perr(p, s->file, s->vals[0].line,
	     "workers: expected N (1-%u) or a range A-B with A <= B, found '%s'",
	     BW_CONF_WORKERS_MAX, txt);
}

static void dp_eal_args(struct pctx *p, const struct cstmt *s)
{
	stmt_string(p, s, &p->c->eal_args, NULL);
}

/* "ADDRESS" or "ADDRESS/PREFIX" (the exception interface's subnet). */
static void dp_port_address(struct pctx *p, struct bw_conf_port *port,
                            const struct cstmt *e)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN + 16];
	const char *txt, *slash;
	unsigned long prefix = 0;
	socklen_t len;

	if (!check_shape(p, e, 1, 1, false))
		return;
	txt = e->vals[0].text;
	slash = strchr(txt, '/');
	if (slash != NULL && (size_t)(slash - txt) < sizeof(host)) {
		memcpy(host, txt, (size_t)(slash - txt));
		host[slash - txt] = '\0';
		txt = host;
	}
	if ((slash != NULL && txt != host) ||
	    !addr_parse(txt, false, 53, &ss, &len)) {
		perr(p, e->file, e->vals[0].line, "address: bad address '%s'",
		     e->vals[0].text);
		return;
	}
	if (slash != NULL &&
	    !parse_uint(slash + 1, 1, ss.ss_family == AF_INET ? 32 : 128, &prefix)) {
		perr(p, e->file, e->vals[0].line,
		     "address: bad prefix length in '%s' (1-%u)", e->vals[0].text,
		     ss.ss_family == AF_INET ? 32u : 128u);
		return;
	}
	addr_add(p, &port->addrs, &port->naddrs, &ss, len, e);
	if (port->naddrs > 0 && addr_same(&port->addrs[port->naddrs - 1].ss, &ss))
		port->addrs[port->naddrs - 1].prefix = (uint8_t)prefix;
}

/* exception "IFNAME" | none; */
static void dp_port_exception(struct pctx *p, struct bw_conf_port *port,
                              const struct cstmt *e)
{
	if (!check_shape(p, e, 1, 1, false))
		return;
	if (is_word(&e->vals[0], "none")) {
		port->no_exception = true;
		return;
	}
	if (strlen(e->vals[0].text) >= 16 || e->vals[0].text[0] == '\0' ||
	    strpbrk(e->vals[0].text, "/ \t,=") != NULL) {
		perr(p, e->file, e->vals[0].line,
		     "exception: '%s' is not an interface name (1-15 characters, "
		     "no '/', ',', '=' or blanks)", e->vals[0].text);
		return;
	}
	set_str(p, &port->exception, e->vals[0].text);
}

static void dp_port_stmt(struct pctx *p, struct bw_conf_port *port,
                         const struct cstmt *e)
{
	if (strcasecmp(e->name, "address") == 0)
		dp_port_address(p, port, e);
	else if (strcasecmp(e->name, "exception") == 0)
		dp_port_exception(p, port, e);
	else
		perr(p, e->file, e->line, "unknown statement '%s' in port '%s'",
		     e->name, port->name);
}

static void dp_port(struct pctx *p, const struct cstmt *s)
{
	struct bw_conf *c = p->c;
	struct bw_conf_port *port;

	if (!check_shape(p, s, 1, 1, true))
		return;
	for (size_t i = 0; i < c->nports; i++) {
		if (strcmp(c->ports[i].name, s->vals[0].text) == 0) {
			perr(p, s->file, s->line, "duplicate port '%s'",
			     s->vals[0].text);
			return;
		}
	}
	if (!grow((void **)&c->ports, &c->nports, sizeof(*c->ports))) {
		p->nomem = true;
		return;
	}
	port = &c->ports[c->nports - 1];
	port->name = pstrdup(p, s->vals[0].text);
	if (port->name == NULL)
		return;
	for (const struct cstmt *e = block_stmts(s); e != NULL; e = e->next)
		dp_port_stmt(p, port, e);
	if (port->naddrs == 0)
		perr(p, s->file, s->line, "port '%s': no address", port->name);
}

static void dp_mbufs(struct pctx *p, const struct cstmt *s)
{
	unsigned long n;

	if (stmt_uint(p, s, 1024, 1ul << 26, &n))
		p->c->mbufs = (unsigned)n;
}

static const struct handler dataplane_handlers[] = {
	{ "eal-args", dp_eal_args, false },
	{ "io", dp_io, false },
	{ "mbufs", dp_mbufs, false },
	{ "port", dp_port, true },
	{ "workers", dp_workers, false },
};

/* ---- zone "NAME" [IN] { ... }; ---- */

static void zone_table(struct pctx *p, const struct cstmt *s)
{
	stmt_string(p, s, &p->zone->table, NULL);
}

static void zone_file(struct pctx *p, const struct cstmt *s)
{
	stmt_string(p, s, &p->zone->file, NULL);
}

static void zone_type(struct pctx *p, const struct cstmt *s)
{
	if (!check_shape(p, s, 1, 1, false))
		return;
	if (!is_word(&s->vals[0], "primary") && !is_word(&s->vals[0], "master"))
		perr(p, s->file, s->vals[0].line,
		     "zone type '%s' is not supported (only primary)",
		     s->vals[0].text);
}

static const struct handler zone_handlers[] = {
	{ "file", zone_file, false },
	{ "table", zone_table, false },
	{ "type", zone_type, false },
};

static bool zone_name(struct pctx *p, const struct cstmt *s,
                      struct bw_conf_zone *z)
{
	static const uint8_t root[1] = { 0 };
	const char *name = s->vals[0].text;
	int rc;

	rc = bw_name_from_text(z->apex, name, strlen(name), root);
	if (rc < 0)
		return pfail(p, s->file, s->vals[0].line, "zone: bad name '%s': %s",
		             name, bw_strerror(rc));
	bw_name_lower(z->apex);
	for (size_t i = 0; i < p->c->nzones; i++) {
		const struct bw_conf_zone *o = &p->c->zones[i];
		if (bw_name_equal(o->apex, z->apex))
			return pfail(p, s->file, s->line,
			             "duplicate zone '%s' (first at %s:%u)", name,
			             o->src, o->line);
	}
	return true;
}

static void zone_stmt(struct pctx *p, const struct cstmt *s)
{
	struct bw_conf_zone z = { .src = s->file, .line = s->line };
	struct bw_conf *c = p->c;

	if (!check_shape(p, s, 1, 2, true) || !zone_name(p, s, &z))
		return;
	if (s->nvals == 3 && !is_word(&s->vals[1], "IN")) {
		perr(p, s->file, s->vals[1].line,
		     "zone '%s': class '%s' is not supported (only IN)",
		     s->vals[0].text, s->vals[1].text);
		return;
	}
	p->zone = &z;
	run_handlers(p, block_stmts(s), zone_handlers,
	             sizeof(zone_handlers) / sizeof(zone_handlers[0]), "zone");
	p->zone = NULL;
	z.name = pstrdup(p, s->vals[0].text);
	if ((z.table == NULL) == (z.file == NULL))
		perr(p, s->file, s->line, "zone '%s': needs exactly one of "
		     "'table' or 'file'", s->vals[0].text);
	if (z.name != NULL && grow((void **)&c->zones, &c->nzones, sizeof(z))) {
		c->zones[c->nzones - 1] = z;
		return;
	}
	p->nomem = true;
	free(z.name);
	free(z.table);
	free(z.file);
}

/* ---- flood-mitigation { ... }; ---- */

static void fl_interval(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 100, 1000, &p->c->flood.interval_ms);
}

static void fl_nxdomain_rate(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 1, BW_CONF_FLOOD_RATE_MAX, &p->c->flood.nxdomain_rate);
}

static void fl_distinct_rate(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 1, BW_CONF_FLOOD_RATE_MAX, &p->c->flood.distinct_rate);
}

static void fl_release_percent(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 1, 100, &p->c->flood.release_percent);
}

static void fl_hold_down(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 1, 3600, &p->c->flood.hold_down);
}

static void fl_attack_action(struct pctx *p, const struct cstmt *s)
{
	if (!check_shape(p, s, 1, 1, false))
		return;
	for (unsigned a = 0; a < BW_FLOOD_ACTIONS; a++) {
		if (is_word(&s->vals[0], bw_flood_action_names[a])) {
			p->c->flood.attack_action = (enum bw_flood_action)a;
			return;
		}
	}
	perr(p, s->file, s->vals[0].line, "attack-action: expected none, "
	     "rate-limit, require-cookie or drop, found '%s'", s->vals[0].text);
}

static void fl_attack_rate(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 1, BW_CONF_FLOOD_RATE_MAX, &p->c->flood.attack_rate);
}

static void fl_filter_rate(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 1, BW_CONF_FLOOD_RATE_MAX, &p->c->flood.filter_rate);
}

static void fl_sample(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 0, BW_CONF_FLOOD_RATE_MAX, &p->c->flood.sample);
}

static void fl_log_rate(struct pctx *p, const struct cstmt *s)
{
	set_uint(p, s, 1, 1000, &p->c->flood.log_rate);
}

static void fl_enable(struct pctx *p, const struct cstmt *s)
{
	stmt_bool(p, s, &p->c->flood.enabled);
}

static const struct handler flood_handlers[] = {
	{ "attack-action", fl_attack_action, false },
	{ "attack-nxdomains-per-second", fl_attack_rate, false },
	{ "distinct-rate", fl_distinct_rate, false },
	{ "enable", fl_enable, false },
	{ "filter-responses-per-second", fl_filter_rate, false },
	{ "hold-down", fl_hold_down, false },
	{ "interval", fl_interval, false },
	{ "log-rate", fl_log_rate, false },
	{ "nxdomain-rate", fl_nxdomain_rate, false },
	{ "release-percent", fl_release_percent, false },
	{ "sample", fl_sample, false },
};

/* ---- Top level. ---- */

static void top_options(struct pctx *p, const struct cstmt *s)
{
	if (check_shape(p, s, 0, 0, true))
		run_handlers(p, block_stmts(s), options_handlers,
		             sizeof(options_handlers) / sizeof(options_handlers[0]),
		             "options");
}

static void top_dataplane(struct pctx *p, const struct cstmt *s)
{
	if (check_shape(p, s, 0, 0, true))
		run_handlers(p, block_stmts(s), dataplane_handlers,
		             sizeof(dataplane_handlers) /
		             sizeof(dataplane_handlers[0]), "dataplane");
}

static void top_flood(struct pctx *p, const struct cstmt *s)
{
	if (!check_shape(p, s, 0, 0, true))
		return;
	p->c->flood.present = true;
	run_handlers(p, block_stmts(s), flood_handlers,
	             sizeof(flood_handlers) / sizeof(flood_handlers[0]),
	             "flood-mitigation");
}

static const struct handler top_handlers[] = {
	{ "dataplane", top_dataplane, false },
	{ "flood-mitigation", top_flood, false },
	{ "options", top_options, false },
	{ "zone", zone_stmt, true },
};

/* Makes a path relative to the directory option absolute-or-as-given. */
static void resolve(struct pctx *p, char **path)
{
	char *full;

	if (*path == NULL)
		return;
	full = pmem(p, path_join(p->c->directory, *path));
	free(*path);
	*path = full;
}

static void finish(struct pctx *p)
{
	struct bw_conf *c = p->c;
	char *confdir = pmem(p, dir_of(c->files[0]));
	char *dir;

	if (confdir == NULL)
		return;
	/* A relative directory is relative to the config file's. */
	dir = c->directory == NULL ? confdir :
	      pmem(p, path_join(confdir, c->directory));
	if (dir != confdir)
		free(confdir);
	free(c->directory);
	c->directory = dir;
	if (dir == NULL)
		return;
	resolve(p, &c->control_socket);
	resolve(p, &c->pid_file);
	for (size_t i = 0; i < c->nzones; i++) {
		resolve(p, &c->zones[i].table);
		resolve(p, &c->zones[i].file);
	}
	/* As BIND does, NSID defaults to the server-id. */
	if (!p->nsid_set && c->server_id != NULL) {
		c->nsid_len = strlen(c->server_id);
		c->nsid = pmem(p, (uint8_t *)strdup(c->server_id));
	}
	if (c->io == BW_CONF_IO_SOCKET && c->nlisten == 0)
		perr(p, c->files[0], 0, "no listen-on address: io socket needs "
		     "'listen-on' or 'listen-on-v6' in options");
	for (size_t i = 0; i < c->nports && c->io == BW_CONF_IO_SOCKET; i++)
		bw_diag_report(p->d, BW_DIAG_WARN, c->files[0], 0,
		               "dataplane port '%s' is used only with io dpdk",
		               c->ports[i].name);
}

static struct bw_conf *conf_new(void)
{
	struct bw_conf *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->edns_udp_size = EDNS_DEFAULT;
	c->tcp_clients = TCP_CLIENTS_DEFAULT;
	c->tcp_idle_timeout = TCP_IDLE_DEFAULT;
	c->tcp_clients_per_address = TCP_PER_ADDR_DEFAULT;
	c->tcp_keepalive_timeout = TCP_KEEPALIVE_DEFAULT;
	c->workers = 1;
	c->cpu_first = -1;
	bw_rrl_conf_default(&c->rrl);
	c->answer_cookie = true;
	c->flood = (struct bw_conf_flood){
		.enabled = true,
		.interval_ms = FLOOD_INTERVAL_DEFAULT,
		.nxdomain_rate = FLOOD_NXDOMAIN_DEFAULT,
		.distinct_rate = FLOOD_DISTINCT_DEFAULT,
		.release_percent = FLOOD_RELEASE_DEFAULT,
		.hold_down = FLOOD_HOLD_DEFAULT,
		.attack_action = BW_FLOOD_RATE_LIMIT,
		.attack_rate = FLOOD_ATTACK_DEFAULT,
		.filter_rate = FLOOD_FILTER_DEFAULT,
		.log_rate = FLOOD_LOG_RATE_DEFAULT,
	};
	c->version = strdup("bulwark " BW_VERSION);
	if (c->version == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

int bw_conf_load(const char *path, struct bw_conf **out, struct bw_diag *d)
{
	struct pctx p = { .d = d, .c = conf_new() };
	struct cstmt *tree = NULL, **tail = &tree;
	int rc;

	if (p.c == NULL)
		return BW_ENOMEM;
	/* The tree is checked only when it was read completely. */
	rc = read_file(&p, path, NULL, 0, &tail);
	if (rc == 0 && !p.nomem) {
		run_handlers(&p, tree, top_handlers,
		             sizeof(top_handlers) / sizeof(top_handlers[0]),
		             "");
		finish(&p);
	}
	stmt_free(tree);
	if (rc == 0 && p.nomem)
		rc = BW_ENOMEM;
	if (rc == 0 && p.errors > 0)
		rc = BW_ECONF;
	if (rc != 0) {
		bw_conf_free(p.c);
		return rc;
	}
	*out = p.c;
	return 0;
}

void bw_conf_free(struct bw_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nzones; i++) {
		free(c->zones[i].name);
		free(c->zones[i].table);
		free(c->zones[i].file);
	}
	for (size_t i = 0; i < c->nports; i++) {
		free(c->ports[i].name);
		free(c->ports[i].addrs);
		free(c->ports[i].exception);
	}
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->zones);
	free(c->ports);
	free(c->files);
	free(c->directory);
	free(c->control_socket);
	free(c->pid_file);
	free(c->listen);
	free(c->nsid);
	free(c->version);
	free(c->server_id);
	free(c->eal_args);
	free(c);
}
