/*  bulwark — RFC 1035 master-file parser.
 *
 *  The whole file is read into memory and split into entries (one logical
 *  line: parentheses join physical lines).  Tokens point into the file
 *  buffer; the token arrays are reused from entry to entry, so parsing
 *  allocates nothing per record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "generate.h"
#include "parser.h"

#define DEFAULT_INCLUDE_DEPTH 8
#define SHOW_MAX 64             /* longest token text quoted in a message */
#define SHOW(t) (int)((t)->len > SHOW_MAX ? SHOW_MAX : (t)->len), (t)->s

/* Character classes of the tokenizer. */
enum lex_class {
	LC_TEXT = 0, LC_SPACE, LC_NL, LC_SEMI, LC_LPAREN, LC_RPAREN, LC_QUOTE,
	LC_BSLASH, LC_NUL,
};

static const uint8_t lex_class[256] = {
	[' '] = LC_SPACE, ['\t'] = LC_SPACE, ['\r'] = LC_SPACE,
	['\n'] = LC_NL, [';'] = LC_SEMI, ['('] = LC_LPAREN, [')'] = LC_RPAREN,
	['"'] = LC_QUOTE, ['\\'] = LC_BSLASH, ['\0'] = LC_NUL,
};

struct lexer {
	const char *p;
	const char *end;
	unsigned line;
};

/* One entry's tokens; the arrays grow once and are reused. */
struct entry {
	struct bw_token *tok;
	unsigned *tline;        /* line of each token */
	size_t n;
	size_t cap;
	unsigned line;          /* line of the first token */
	bool blank_owner;       /* starts with white space */
	const char *err;        /* first lexing error, or NULL */
	unsigned err_line;
};

/* What is local to one file: $INCLUDE copies it and never copies back. */
struct file_state {
	const char *name;
	struct lexer lx;
	unsigned depth;
	bool have_origin;
	bool have_owner;
	bool have_ttl;          /* $TTL seen */
	uint32_t ttl;
	uint8_t origin[BW_NAME_MAXLEN];
	uint8_t owner[BW_NAME_MAXLEN];
};

struct file_id {
	dev_t dev;
	ino_t ino;
};

struct parser {
	const struct bw_parse_opts *opts;
	bw_rr_cb cb;
	void *ctx;
	struct bw_diag *d;
	int first_err;
	int stop;               /* callback's negative result */
	unsigned max_depth;
	struct file_id *open;   /* files being read, outermost first */
	size_t nopen;
	bool have_last_ttl;     /* RFC 1035: last explicit TTL */
	uint32_t last_ttl;
	bool have_zone_cls;
	uint16_t zone_cls;
	struct entry ent;
	struct bw_gen_buf gen;
	struct bw_token *gtok;
	size_t gtok_cap;
	uint8_t rdata[BW_RDATA_MAXLEN];
};

/* TTL, class and type of a record. */
struct rr_head {
	uint32_t ttl;
	uint16_t type;
	uint16_t cls;
	bool have_ttl;
	bool have_cls;
};

static void parse_text(struct parser *ps, struct file_state *fs);

/* ---- Diagnostics. ---- */

__attribute__((format(printf, 5, 6)))
static int perr(struct parser *ps, const struct file_state *fs, unsigned line,
                int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bw_diag_vreport(ps->d, BW_DIAG_ERROR, fs->name, line, fmt, ap);
	va_end(ap);
	if (ps->first_err == 0)
		ps->first_err = code;
	return code;
}

/* ---- Tokenizer. ---- */

static int entry_grow(struct entry *e)
{
	size_t cap = e->cap ? e->cap * 2 : 64;
	struct bw_token *tok = realloc(e->tok, cap * sizeof(*tok));
	if (tok == NULL)
		return BW_ENOMEM;
	e->tok = tok;
	unsigned *tline = realloc(e->tline, cap * sizeof(*tline));
	if (tline == NULL)
		return BW_ENOMEM;
	e->tline = tline;
	e->cap = cap;
	return 0;
}

static void lex_error(struct entry *e, unsigned line, const char *msg)
{
	if (e->err == NULL) {
		e->err = msg;
		e->err_line = line;
	}
}

static void entry_push(struct entry *e, const char *s, size_t len,
                       bool quoted, unsigned line)
{
	if (e->n == e->cap && entry_grow(e) != 0) {
		lex_error(e, line, "out of memory");
		return;
	}
	e->tok[e->n] = (struct bw_token){ .s = s, .len = len, .quoted = quoted };
	e->tline[e->n++] = line;
}

static void entry_start(const struct lexer *lx, struct entry *e)
{
	e->line = lx->line;
	e->blank_owner = lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t');
}

/* A token without quotes; a backslash takes the next character along. */
static void lex_bare(struct lexer *lx, struct entry *e)
{
	const char *s = lx->p, *p = lx->p, *end = lx->end;

	while (p < end) {
		uint8_t c = lex_class[(uint8_t)*p];
		if (c == LC_TEXT) {
			p++;
			continue;
		}
		if (c != LC_BSLASH)
			break;
		if (p + 1 == end || p[1] == '\n' || p[1] == '\0') {
			p++;            /* left for the text parsers to reject */
			break;
		}
		p += 2;
	}
	entry_push(e, s, (size_t)(p - s), false, lx->line);
	lx->p = p;
}

/* A "quoted string"; it may not run past the end of its line. */
static void lex_quoted(struct lexer *lx, struct entry *e)
{
	const char *s = ++lx->p, *p = s, *end = lx->end;

	while (p < end && *p != '"' && *p != '\n') {
		if (*p == '\0')
			lex_error(e, lx->line, "NUL byte in input");
		if (*p == '\\' && p + 1 < end && p[1] != '\n')
			p++;
		p++;
	}
	entry_push(e, s, (size_t)(p - s), true, lx->line);
	if (p < end && *p == '"')
		p++;
	else if (p < end)
		lex_error(e, lx->line, "newline inside quoted string");
	else
		lex_error(e, lx->line, "unterminated quoted string");
	lx->p = p;
}

/* Handles a character that is not part of a token; false at the end of
 * the entry. */
static bool lex_delim(struct lexer *lx, struct entry *e, unsigned *depth,
                      unsigned *paren_line)
{
	const char *nl;

	switch (lex_class[(uint8_t)*lx->p]) {
	case LC_NL:
		lx->p++;
		lx->line++;
		if (*depth > 0)
			return true;
		if (e->n > 0 || e->err != NULL)
			return false;
		entry_start(lx, e);
		return true;
	case LC_SEMI:
		nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
		lx->p = nl ? nl : lx->end;
		return true;
	case LC_LPAREN:
		if ((*depth)++ == 0)
			*paren_line = lx->line;
		break;
	case LC_RPAREN:
		if (*depth == 0)
			lex_error(e, lx->line, "unbalanced ')'");
		else
			(*depth)--;
		break;
	case LC_NUL:
		lex_error(e, lx->line, "NUL byte in input");
		break;
	default:
		break;
	}
	lx->p++;
	return true;
}

/* Reads the next entry; false when the input holds no more. */
static bool lex_entry(struct lexer *lx, struct entry *e)
{
	unsigned depth = 0, paren_line = 0;

	e->n = 0;
	e->err = NULL;
	entry_start(lx, e);
	while (lx->p < lx->end) {
		uint8_t c = lex_class[(uint8_t)*lx->p];
		if (c == LC_TEXT || c == LC_BSLASH)
			lex_bare(lx, e);
		else if (c == LC_QUOTE)
			lex_quoted(lx, e);
		else if (!lex_delim(lx, e, &depth, &paren_line))
			return true;
	}
	if (depth > 0)
		lex_error(e, paren_line, "unbalanced '('");
	return e->n > 0 || e->err != NULL;
}

/* ---- Fields. ---- */

static bool tok_is(const struct bw_token *t, const char *word)
{
	return !t->quoted && t->len == strlen(word) &&
	       strncasecmp(t->s, word, t->len) == 0;
}

/* True when the name text ends in an unescaped dot. */
static bool name_is_absolute(const struct bw_token *t)
{
	size_t n = 0;

	if (t->len == 0 || t->s[t->len - 1] != '.')
		return false;
	while (n + 1 < t->len && t->s[t->len - 2 - n] == '\\')
		n++;
	return n % 2 == 0;
}

/* Reads a name relative to the current origin into \a out. */
static int read_name(struct parser *ps, const struct file_state *fs,
                     const struct bw_token *t, unsigned line, uint8_t *out)
{
	const uint8_t *origin = fs->have_origin ? fs->origin : NULL;

	if (origin == NULL && !name_is_absolute(t))
		return perr(ps, fs, line, BW_ESYNTAX,
		            "relative name '%.*s' and no $ORIGIN", SHOW(t));
	if (tok_is(t, "@")) {
		memcpy(out, origin, bw_name_len(origin));
		return 0;
	}
	int ret = bw_name_from_text(out, t->s, t->len, origin);
	if (ret < 0)
		return perr(ps, fs, line, ret, "bad name '%.*s': %s", SHOW(t),
		            bw_strerror(ret));
	return 0;
}

/* Reads the name in token \a i of the entry. */
static int read_tok_name(struct parser *ps, const struct file_state *fs,
                         size_t i, uint8_t *out)
{
	return read_name(ps, fs, &ps->ent.tok[i], ps->ent.tline[i], out);
}

static int read_ttl(struct parser *ps, const struct file_state *fs, size_t i,
                    uint32_t *ttl)
{
	const struct bw_token *t = &ps->ent.tok[i];

	if (t->quoted || bw_ttl_from_text(t->s, t->len, ttl) != 0)
		return perr(ps, fs, ps->ent.tline[i], BW_ETTL,
		            "bad TTL '%.*s'", SHOW(t));
	return 0;
}

static int check_class(struct parser *ps, const struct file_state *fs,
                       unsigned line, uint16_t cls)
{
	char a[32], b[32];

	if (!ps->have_zone_cls || cls == ps->zone_cls)
		return 0;
	bw_class_to_text(cls, a, sizeof(a));
	bw_class_to_text(ps->zone_cls, b, sizeof(b));
	return perr(ps, fs, line, BW_ECLASS, "class %s differs from zone "
	            "class %s", a, b);
}

static int check_type(struct parser *ps, const struct file_state *fs,
                      size_t i, uint16_t type)
{
	const struct bw_token *t = &ps->ent.tok[i];

	if (type == BW_TYPE_OPT || (type >= 128 && type <= 255))
		return perr(ps, fs, ps->ent.tline[i], BW_ETYPE,
		            "type '%.*s' is not allowed in zone data", SHOW(t));
	return 0;
}

/* One field before the type: a TTL or a class (1: neither). */
static int read_ttl_or_class(struct parser *ps, const struct file_state *fs,
                             size_t i, struct rr_head *h)
{
	const struct bw_token *t = &ps->ent.tok[i];
	unsigned line = ps->ent.tline[i];
	uint16_t cls, type;

	if (t->s[0] >= '0' && t->s[0] <= '9' && !h->have_ttl) {
		h->have_ttl = true;
		return read_ttl(ps, fs, i, &h->ttl);
	}
	if (t->quoted || bw_class_from_text(t->s, t->len, &cls) != 0)
		return 1;
	if (h->have_cls && bw_type_from_text(t->s, t->len, &type) == 0)
		return 1;       /* "ANY" is both */
	if (h->have_cls)
		return perr(ps, fs, line, BW_ESYNTAX, "duplicate class '%.*s'",
		            SHOW(t));
	if (cls == BW_CLASS_NONE || cls == BW_CLASS_ANY)
		return perr(ps, fs, line, BW_ECLASS, "class '%.*s' is not "
		            "allowed in zone data", SHOW(t));
	h->have_cls = true;
	h->cls = cls;
	return check_class(ps, fs, line, cls);
}

/* Reads [TTL] [class] type from token \a *i on, in either order. */
static int read_head(struct parser *ps, const struct file_state *fs,
                     size_t *i, struct rr_head *h)
{
	const struct entry *e = &ps->ent;
	int ret;

	memset(h, 0, sizeof(*h));
	for (; *i < e->n; (*i)++) {
		const struct bw_token *t = &e->tok[*i];
		ret = t->len ? read_ttl_or_class(ps, fs, *i, h) : 1;
		if (ret < 0)
			return ret;
		if (ret == 0)
			continue;
		if (t->quoted || bw_type_from_text(t->s, t->len, &h->type) != 0)
			return perr(ps, fs, e->tline[*i], BW_ETYPE,
			            "unknown RR type '%.*s'", SHOW(t));
		ret = check_type(ps, fs, *i, h->type);
		(*i)++;
		return ret;
	}
	return perr(ps, fs, e->tline[e->n - 1], BW_ESYNTAX, "missing RR type");
}

/* Converts rdata tokens; returns the wire length. */
static int read_rdata(struct parser *ps, const struct file_state *fs,
                      uint16_t type, const struct bw_token *tok, size_t n,
                      unsigned line)
{
	char msg[256] = "", tname[32];
	const uint8_t *origin = fs->have_origin ? fs->origin : NULL;

	int ret = bw_rdata_from_text(type, tok, n, origin, ps->rdata,
	                             sizeof(ps->rdata), msg, sizeof(msg));
	if (ret >= 0)
		return ret;
	/* The codec's messages may already name the type. */
	int tl = bw_type_to_text(type, tname, sizeof(tname));
	if (tl > 0 && strncmp(msg, tname, (size_t)tl) == 0 && msg[tl] == ':')
		return perr(ps, fs, line, ret, "%s", msg);
	return perr(ps, fs, line, ret, "%s: %s", tname,
	            msg[0] ? msg : bw_strerror(ret));
}

/* Explicit TTL, else $TTL, else the last explicit one, else the caller's
 * default, else an SOA's MINIMUM (as BIND does). */
static int resolve_ttl(struct parser *ps, const struct file_state *fs,
                       struct rr_head *h, size_t rdlen, unsigned line)
{
	const struct bw_parse_opts *o = ps->opts;

	if (h->have_ttl) {
		ps->last_ttl = h->ttl;
		ps->have_last_ttl = true;
	} else if (fs->have_ttl) {
		h->ttl = fs->ttl;
	} else if (ps->have_last_ttl) {
		h->ttl = ps->last_ttl;
	} else if (o != NULL && o->have_default_ttl) {
		h->ttl = o->default_ttl;
	} else if (h->type == BW_TYPE_SOA && rdlen >= 20) {
		h->ttl = bw_get32(ps->rdata + rdlen - 4);
		ps->last_ttl = h->ttl;
		ps->have_last_ttl = true;
		bw_diag_report(ps->d, BW_DIAG_WARN, fs->name, line,
		               "no TTL specified; using SOA MINIMUM (%u)",
		               (unsigned)h->ttl);
	} else {
		return perr(ps, fs, line, BW_ETTL, "no TTL specified");
	}
	return 0;
}

static void emit(struct parser *ps, const struct file_state *fs,
                 const uint8_t *owner, const struct rr_head *h, size_t rdlen,
                 unsigned line)
{
	struct bw_rr rr = {
		.owner = owner, .type = h->type, .ttl = h->ttl,
		.cls = h->have_cls ? h->cls :
		       ps->have_zone_cls ? ps->zone_cls : BW_CLASS_IN,
		.rdlen = (uint16_t)rdlen, .rdata = ps->rdata,
		.file = fs->name, .line = line,
	};

	if (!ps->have_zone_cls) {
		ps->zone_cls = rr.cls;
		ps->have_zone_cls = true;
	}
	int ret = ps->cb(ps->ctx, &rr);
	if (ret < 0)
		ps->stop = ret;
}

/* ---- Records. ---- */

static int read_owner(struct parser *ps, struct file_state *fs, size_t *i)
{
	uint8_t owner[BW_NAME_MAXLEN];

	if (ps->ent.blank_owner) {
		if (!fs->have_owner)
			return perr(ps, fs, ps->ent.line, BW_ESYNTAX,
			            "no previous owner for blank owner");
		return 0;
	}
	int ret = read_tok_name(ps, fs, 0, owner);
	if (ret < 0)
		return ret;
	memcpy(fs->owner, owner, bw_name_len(owner));
	fs->have_owner = true;
	*i = 1;
	return 0;
}

static void do_record(struct parser *ps, struct file_state *fs)
{
	const struct entry *e = &ps->ent;
	struct rr_head h;
	size_t i = 0;

	if (read_owner(ps, fs, &i) < 0 || read_head(ps, fs, &i, &h) < 0)
		return;
	int len = read_rdata(ps, fs, h.type, e->tok + i, e->n - i, e->line);
	if (len < 0 || resolve_ttl(ps, fs, &h, (size_t)len, e->line) < 0)
		return;
	emit(ps, fs, fs->owner, &h, (size_t)len, e->line);
}

/* ---- Directives. ---- */

static void dir_origin(struct parser *ps, struct file_state *fs)
{
	uint8_t origin[BW_NAME_MAXLEN];

	if (read_tok_name(ps, fs, 1, origin) == 0) {
		memcpy(fs->origin, origin, bw_name_len(origin));
		fs->have_origin = true;
	}
}

static void dir_ttl(struct parser *ps, struct file_state *fs)
{
	if (read_ttl(ps, fs, 1, &fs->ttl) == 0)
		fs->have_ttl = true;
}

/* Reads a whole file into a new buffer. */
static int slurp(int fd, size_t hint, char **buf, size_t *len)
{
	size_t cap = hint + 1, n = 0;
	char *p = malloc(cap);

	for (;;) {
		if (p == NULL)
			return BW_ENOMEM;
		ssize_t r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int ret = -errno;
			free(p);
			return ret;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			char *q = realloc(p, cap *= 2);
			if (q == NULL)
				free(p);
			p = q;
		}
	}
	*buf = p;
	*len = n;
	return 0;
}

/* Opens \a path, refuses a file already being read, and reads it. */
static int load_file(struct parser *ps, const char *path, char **buf,
                     size_t *len)
{
	struct stat st;
	int ret = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0)
		ret = -errno;
	else if (S_ISDIR(st.st_mode))
		ret = -EISDIR;
	for (size_t i = 0; ret == 0 && i < ps->nopen; i++)
		if (ps->open[i].dev == st.st_dev && ps->open[i].ino == st.st_ino)
			ret = BW_EDEPTH;
	if (ret == 0)
		ret = slurp(fd, S_ISREG(st.st_mode) ? (size_t)st.st_size :
		            65536, buf, len);
	if (ret == 0)
		ps->open[ps->nopen++] = (struct file_id){ st.st_dev, st.st_ino };
	close(fd);
	return ret;
}

/* Parses one buffer as a file of its own. */
static void parse_buffer(struct parser *ps, struct file_state *fs,
                         const char *buf, size_t len)
{
	fs->lx = (struct lexer){ .p = buf, .end = buf + len, .line = 1 };
	parse_text(ps, fs);
}

/* The included file's path: relative ones start at the including file's
 * directory. */
static char *include_path(const char *base, const struct bw_token *t)
{
	const char *slash = strrchr(base, '/');
	size_t dlen = (t->len > 0 && t->s[0] != '/' && slash) ?
	              (size_t)(slash - base) + 1 : 0;
	char *path = malloc(dlen + t->len + 1);

	if (path != NULL) {
		memcpy(path, base, dlen);
		memcpy(path + dlen, t->s, t->len);
		path[dlen + t->len] = '\0';
	}
	return path;
}

static void include_file(struct parser *ps, struct file_state *fs,
                         struct file_state *sub, unsigned line)
{
	char *buf = NULL;
	size_t len = 0;
	int ret = load_file(ps, sub->name, &buf, &len);

	if (ret == BW_EDEPTH) {
		perr(ps, fs, line, ret, "$INCLUDE loop: '%s' is already being "
		     "read", sub->name);
	} else if (ret < 0) {
		perr(ps, fs, line, ret, "cannot read '%s': %s", sub->name,
		     strerror(-ret));
	} else {
		parse_buffer(ps, sub, buf, len);
		ps->nopen--;
		free(buf);
	}
}

static void dir_include(struct parser *ps, struct file_state *fs)
{
	const struct entry *e = &ps->ent;
	unsigned line = e->tline[0];
	struct file_state sub = *fs;

	if (e->n == 3) {
		if (read_tok_name(ps, fs, 2, sub.origin) < 0)
			return;
		sub.have_origin = true;
	}
	if (fs->depth >= ps->max_depth) {
		perr(ps, fs, line, BW_EDEPTH, "$INCLUDE nesting deeper than %u",
		     ps->max_depth);
		return;
	}
	char *path = include_path(fs->name, &e->tok[1]);
	if (path == NULL) {
		perr(ps, fs, line, BW_ENOMEM, "out of memory");
		return;
	}
	sub.name = path;
	sub.depth = fs->depth + 1;
	include_file(ps, fs, &sub, line);
	free(path);
}

/* ---- $GENERATE. ---- */

static int gen_tokens(struct parser *ps, size_t n)
{
	if (n <= ps->gtok_cap)
		return 0;
	struct bw_token *t = realloc(ps->gtok, n * sizeof(*t));
	if (t == NULL)
		return BW_ENOMEM;
	ps->gtok = t;
	ps->gtok_cap = n;
	return 0;
}

/* Expands the owner template (token 2) into ps->gtok[0] and the rdata
 * templates (tokens \a rhs to the end) after it. */
static int gen_expand(struct parser *ps, const struct file_state *fs,
                      size_t rhs, uint32_t value)
{
	const struct entry *e = &ps->ent;
	size_t n = 1 + e->n - rhs, pos = 0;
	char msg[160];

	if (gen_tokens(ps, n) < 0)
		return perr(ps, fs, e->line, BW_ENOMEM, "out of memory");
	ps->gen.len = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = k == 0 ? 2 : rhs + k - 1, start = ps->gen.len;
		int ret = bw_gen_expand(&ps->gen, e->tok[i].s, e->tok[i].len,
		                        value, msg, sizeof(msg));
		if (ret < 0)
			return perr(ps, fs, e->tline[i], ret, "%s", msg);
		ps->gtok[k].len = ps->gen.len - start;
		ps->gtok[k].quoted = e->tok[i].quoted;
	}
	for (size_t k = 0; k < n; pos += ps->gtok[k++].len)
		ps->gtok[k].s = ps->gen.p + pos;
	return 0;
}

/* Builds the record for one value; emits it when \a send. */
static int gen_one(struct parser *ps, const struct file_state *fs, size_t rhs,
                   const struct rr_head *h, uint32_t value, bool send)
{
	const struct entry *e = &ps->ent;
	uint8_t owner[BW_NAME_MAXLEN];

	if (gen_expand(ps, fs, rhs, value) < 0 ||
	    read_name(ps, fs, &ps->gtok[0], e->tline[2], owner) < 0)
		return -1;
	int len = read_rdata(ps, fs, h->type, ps->gtok + 1, e->n - rhs,
	                     e->line);
	if (len < 0)
		return len;
	if (send)
		emit(ps, fs, owner, h, (size_t)len, e->line);
	return 0;
}

/* Checks every value first, so that an error leaves no records behind. */
static void dir_generate(struct parser *ps, struct file_state *fs)
{
	const struct entry *e = &ps->ent;
	struct bw_gen_range r;
	struct rr_head h;
	char msg[160];
	size_t rhs = 3;

	int ret = bw_gen_range_parse(e->tok[1].s, e->tok[1].len, &r, msg,
	                             sizeof(msg));
	if (ret < 0) {
		perr(ps, fs, e->tline[1], ret, "%s", msg);
		return;
	}
	if (read_head(ps, fs, &rhs, &h) < 0)
		return;
	if (rhs == e->n) {
		perr(ps, fs, e->tline[rhs - 1], BW_ESYNTAX,
		     "$GENERATE needs rdata after the type");
		return;
	}
	if (resolve_ttl(ps, fs, &h, 0, e->line) < 0)
		return;
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t v = r.start; v <= r.stop && ps->stop == 0;
		     v += r.step)
			if (gen_one(ps, fs, rhs, &h, (uint32_t)v, pass) < 0)
				return;
}

/* ---- Entries. ---- */

static const struct directive {
	const char *name;
	void (*run)(struct parser *ps, struct file_state *fs);
	size_t min_args;
	size_t max_args;
	const char *usage;
} directives[] = {
	{ "$ORIGIN", dir_origin, 1, 1, "$ORIGIN name" },
	{ "$TTL", dir_ttl, 1, 1, "$TTL ttl" },
	{ "$INCLUDE", dir_include, 1, 2, "$INCLUDE file [origin]" },
	{ "$GENERATE", dir_generate, 4, SIZE_MAX,
	  "$GENERATE range lhs [ttl] [class] type rhs" },
};

static void do_directive(struct parser *ps, struct file_state *fs)
{
	const struct entry *e = &ps->ent;
	size_t nargs = e->n - 1;

	for (size_t k = 0; k < sizeof(directives) / sizeof(*directives); k++) {
		const struct directive *dir = &directives[k];
		if (!tok_is(&e->tok[0], dir->name))
			continue;
		if (nargs < dir->min_args || nargs > dir->max_args)
			perr(ps, fs, e->line, BW_ESYNTAX, "wrong number of "
			     "arguments; usage: %s", dir->usage);
		else
			dir->run(ps, fs);
		return;
	}
	perr(ps, fs, e->line, BW_ESYNTAX, "unknown directive '%.*s'",
	     SHOW(&e->tok[0]));
}

static bool is_directive(const struct entry *e)
{
	const struct bw_token *t = &e->tok[0];

	return !e->blank_owner && !t->quoted && t->len > 0 && t->s[0] == '$';
}

static void parse_text(struct parser *ps, struct file_state *fs)
{
	struct entry *e = &ps->ent;

	while (ps->stop == 0 && lex_entry(&fs->lx, e)) {
		if (e->err != NULL)
			perr(ps, fs, e->err_line, BW_ESYNTAX, "%s", e->err);
		else if (is_directive(e))
			do_directive(ps, fs);
		else
			do_record(ps, fs);
	}
}

/* ---- Entry points. ---- */

static struct parser *parser_new(const struct bw_parse_opts *opts,
                                 bw_rr_cb cb, void *ctx, struct bw_diag *d)
{
	struct parser *ps = calloc(1, sizeof(*ps));

	if (ps == NULL)
		return NULL;
	ps->opts = opts;
	ps->cb = cb;
	ps->ctx = ctx;
	ps->d = d;
	ps->max_depth = (opts != NULL && opts->include_depth > 0) ?
	                opts->include_depth : DEFAULT_INCLUDE_DEPTH;
	ps->open = calloc(ps->max_depth + 1, sizeof(*ps->open));
	if (ps->open == NULL) {
		free(ps);
		return NULL;
	}
	return ps;
}

/* Frees the parser; returns the parse result. */
static int parser_end(struct parser *ps)
{
	int ret = ps->stop != 0 ? ps->stop : ps->first_err;

	free(ps->ent.tok);
	free(ps->ent.tline);
	bw_gen_buf_free(&ps->gen);
	free(ps->gtok);
	free(ps->open);
	free(ps);
	return ret;
}

static void file_state_init(struct file_state *fs,
                            const struct bw_parse_opts *opts, const char *name)
{
	memset(fs, 0, sizeof(*fs));
	fs->name = name;
	if (opts != NULL && opts->origin != NULL) {
		memcpy(fs->origin, opts->origin, bw_name_len(opts->origin));
		fs->have_origin = true;
	}
}

int bw_parse_string(const char *text, size_t len, const char *name,
                    const struct bw_parse_opts *opts, bw_rr_cb cb, void *ctx,
                    struct bw_diag *d)
{
	struct file_state fs;
	struct parser *ps = parser_new(opts, cb, ctx, d);

	if (name == NULL)
		name = "<string>";
	if (ps == NULL) {
		bw_diag_report(d, BW_DIAG_ERROR, name, 0, "out of memory");
		return BW_ENOMEM;
	}
	file_state_init(&fs, opts, name);
	parse_buffer(ps, &fs, text, len);
	return parser_end(ps);
}

int bw_parse_file(const char *path, const struct bw_parse_opts *opts,
                  bw_rr_cb cb, void *ctx, struct bw_diag *d)
{
	struct file_state fs;
	struct parser *ps = parser_new(opts, cb, ctx, d);
	char *buf = NULL;
	size_t len = 0;

	if (ps == NULL) {
		bw_diag_report(d, BW_DIAG_ERROR, path, 0, "out of memory");
		return BW_ENOMEM;
	}
	file_state_init(&fs, opts, path);
	int ret = load_file(ps, path, &buf, &len);
	if (ret < 0) {
		perr(ps, &fs, 0, ret, "cannot read '%s': %s", path,
		     strerror(-ret));
	} else {
		parse_buffer(ps, &fs, buf, len);
		free(buf);
	}
	return parser_end(ps);
}
