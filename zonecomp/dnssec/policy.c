/*  bulwark — dnssec-policy blocks of a named.conf file.
 *
 *  One pass over the tokens of the file and its includes.  Statements
 *  other than `include` and `dnssec-policy` are skipped with their blocks;
 *  the policy asked for is read option by option, then checked as a whole
 *  (key roles, signature timing, NSEC3 parameters).  The controlplane's
 *  reader builds a tree for bulwarkd and belongs to bulwarkd; the compiler
 *  needs one block of the file, so it streams.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "keyalg.h"
#include "policy.h"

#define INCLUDE_MAX   8              /* Nesting of `include`. */
#define FILE_MAX      (16u << 20)    /* Larger files are refused. */
#define TEXT_MAX      1024           /* Longest word or string kept. */
#define DAY           86400u

/* ---- Built-in policy. ---- */

void bw_policy_default(struct bw_policy *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "default");
	p->keys[0] = (struct bw_policy_key){ .role = BW_KEY_CSK,
	                                     .alg = BW_ALG_ECDSAP256SHA256 };
	p->nkeys = 1;
	p->dnskey_ttl = 3600;
	p->signatures_validity = 14 * DAY;
	p->signatures_validity_dnskey = 14 * DAY;
	p->signatures_refresh = 5 * DAY;
	p->max_zone_ttl = DAY;
	p->publish_safety = 3600;
	p->retire_safety = 3600;
	p->purge_keys = 90 * DAY;
	p->zone_propagation_delay = 300;
	p->parent_ds_ttl = DAY;
	p->parent_propagation_delay = 3600;
	p->cds_digests[0] = BW_DS_SHA256;
	p->ncds_digests = 1;
}

/* ---- Durations. ---- */

struct iso_unit {
	char c;
	bool time;      /* After the 'T'. */
	uint32_t secs;
};

/* In the order ISO 8601 writes them; BIND's year and month lengths. */
static const struct iso_unit iso_units[] = {
	{ 'Y', false, 365 * DAY }, { 'M', false, 31 * DAY },
	{ 'W', false, 7 * DAY }, { 'D', false, DAY },
	{ 'H', true, 3600 }, { 'M', true, 60 }, { 'S', true, 1 },
};
#define ISO_WEEK 2
#define NISO (sizeof(iso_units) / sizeof(iso_units[0]))

/* Index of unit \a c at or after \a from, or NISO. */
static size_t iso_unit_at(char c, bool time, size_t from)
{
	c = (char)toupper((unsigned char)c);
	for (size_t i = from; i < NISO; i++)
		if (iso_units[i].c == c && iso_units[i].time == time)
			return i;
	return NISO;
}

/* "P1Y2M3DT4H5M6S" or "P2W", after the 'P'; weeks stand alone. */
static int iso_duration(const char *s, uint32_t *secs)
{
	uint64_t total = 0;
	size_t next = 0, parts = 0, time_parts = 0;
	bool time = false, weeks = false;

	while (*s != '\0') {
		uint64_t n = 0;
		if (!time && (*s == 'T' || *s == 't')) {
			time = true;
			s++;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return BW_ESYNTAX;
		while (isdigit((unsigned char)*s) && n <= UINT32_MAX)
			n = n * 10 + (uint64_t)(*s++ - '0');
		size_t u = iso_unit_at(*s++, time, next);
		if (u == NISO || n > UINT32_MAX)
			return BW_ESYNTAX;
		total += n * iso_units[u].secs;
		if (total > UINT32_MAX)
			return BW_ESYNTAX;
		weeks |= u == ISO_WEEK;
		next = u + 1;
		parts++;
		time_parts += time;
	}
	if (parts == 0 || (time && time_parts == 0) || (weeks && parts > 1))
		return BW_ESYNTAX;
	*secs = (uint32_t)total;
	return 0;
}

int bw_policy_duration(const char *txt, uint32_t *secs)
{
	if (txt[0] == 'P' || txt[0] == 'p')
		return iso_duration(txt + 1, secs);
	return bw_ttl_from_text(txt, strlen(txt), secs) == 0 ? 0 : BW_ESYNTAX;
}

/* ---- Sources and tokens. ---- */

struct src {
	char *path;
	char *buf;
	size_t len, pos;
	unsigned line;
	struct src *up;      /* The including file while this one is read. */
	struct src *older;   /* Every source, freed at the end. */
};

enum tok_type { T_EOF, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_SEMI };

struct tok {
	enum tok_type type;
	const char *file;
	unsigned line;
	bool toolong;
	char text[TEXT_MAX];
};

/* Where something was written. */
struct pos {
	const char *file;
	unsigned line;
};

#define NOPTS 15           /* Entries of opts[]. */

struct pstate {
	struct bw_diag *d;
	struct src *cur;
	struct src *all;
	unsigned depth;          /* Include nesting of cur. */
	const char *want;
	struct tok t;            /* The last token read. */
	struct pos last;         /* The token before it. */
	char last_text[TEXT_MAX];
	bool found;
	struct pos at_policy;
	struct bw_policy pol;
	bool keys_set;
	struct pos at_keys, at_nsec3;
	struct pos at_key[BW_POLICY_KEYS_MAX];
	struct pos seen[NOPTS];  /* Options already set. */
};

static int perr(struct pstate *ps, struct pos at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reports an error; returns BW_ECONF. */
static int perr(struct pstate *ps, struct pos at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bw_diag_vreport(ps->d, BW_DIAG_ERROR, at.file, at.line, fmt, ap);
	va_end(ap);
	return BW_ECONF;
}

static struct pos tpos(const struct pstate *ps)
{
	return (struct pos){ ps->t.file, ps->t.line };
}

static int read_whole(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *b = NULL;
	size_t n = 0;
	int rc = 0;

	if (f == NULL)
		return -errno;
	if (fstat(fileno(f), &st) != 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = BW_EINVAL;
	else if ((n = (size_t)st.st_size) > FILE_MAX)
		rc = BW_ERANGE;
	else if ((b = malloc(n + 1)) == NULL)
		rc = BW_ENOMEM;
	else if (fread(b, 1, n, f) != n)
		rc = BW_EIO;
	fclose(f);
	if (rc != 0) {
		free(b);
		return rc;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static const char *read_error(int rc)
{
	if (rc == BW_ERANGE)
		return "file too large";
	if (rc == BW_EINVAL)
		return "not a regular file";
	return rc == BW_EIO ? "read error" : strerror(-rc);
}

/* Opens \a path as the source read next; \a from: the include statement. */
static int src_push(struct pstate *ps, const char *path, struct pos from)
{
	struct src *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		return BW_ENOMEM;
	}
	rc = read_whole(path, &s->buf, &s->len);
	if (rc != 0) {
		if (from.file != NULL)
			perr(ps, from, "cannot read '%s': %s", path, read_error(rc));
		else
			bw_diag_report(ps->d, BW_DIAG_ERROR, path, 0, "cannot read: %s",
			               read_error(rc));
		free(s->path);
		free(s);
		return rc == BW_ENOMEM ? rc : (from.file != NULL ? BW_ECONF : rc);
	}
	s->line = 1;
	s->up = ps->cur;
	s->older = ps->all;
	ps->all = ps->cur = s;
	return 0;
}

static void src_free_all(struct pstate *ps)
{
	while (ps->all != NULL) {
		struct src *s = ps->all;
		ps->all = s->older;
		free(s->buf);
		free(s->path);
		free(s);
	}
}

static bool comment_start(const char *s)
{
	return s[0] == '#' || (s[0] == '/' && (s[1] == '/' || s[1] == '*'));
}

static int skip_comment(struct pstate *ps, struct src *s)
{
	struct pos start = { s->path, s->line };

	if (s->buf[s->pos] != '/' || s->buf[s->pos + 1] != '*') {
		while (s->pos < s->len && s->buf[s->pos] != '\n')
			s->pos++;
		return 0;
	}
	for (s->pos += 2; s->pos < s->len; s->pos++) {
		if (s->buf[s->pos] == '\n')
			s->line++;
		if (s->buf[s->pos] == '*' && s->buf[s->pos + 1] == '/') {
			s->pos += 2;
			return 0;
		}
	}
	return perr(ps, start, "unterminated /* comment");
}

static int skip_space(struct pstate *ps, struct src *s)
{
	while (s->pos < s->len) {
		char c = s->buf[s->pos];
		int rc;

		if (c == '\n')
			s->line++;
		if (isspace((unsigned char)c)) {
			s->pos++;
		} else if (comment_start(s->buf + s->pos)) {
			if ((rc = skip_comment(ps, s)) != 0)
				return rc;
		} else {
			break;
		}
	}
	return 0;
}

/* Keeps a character of a word or string, if there is room. */
static void tok_put(struct tok *t, size_t *n, char c)
{
	if (*n + 1 < sizeof(t->text))
		t->text[(*n)++] = c;
	else
		t->toolong = true;
}

/* A quoted string; a backslash takes the next character as it is. */
static int lex_string(struct pstate *ps, struct src *s, struct tok *t)
{
	size_t n = 0;

	for (s->pos++; s->pos < s->len; s->pos++) {
		char c = s->buf[s->pos];

		if (c == '"') {
			s->pos++;
			t->text[n] = '\0';
			return 0;
		}
		if (c == '\\' && s->pos + 1 < s->len)
			c = s->buf[++s->pos];
		if (c == '\n' || c == '\0')
			break;
		tok_put(t, &n, c);
	}
	return perr(ps, (struct pos){ s->path, t->line },
	            "unterminated string (missing '\"' on this line)");
}

static bool word_char(const char *s)
{
	return *s != '\0' && !isspace((unsigned char)*s) &&
	       strchr("{};\"", *s) == NULL && !comment_start(s);
}

static int lex_word(struct pstate *ps, struct src *s, struct tok *t)
{
	size_t n = 0;

	while (s->pos < s->len && word_char(s->buf + s->pos))
		tok_put(t, &n, s->buf[s->pos++]);
	t->text[n] = '\0';
	if (n == 0)
		return perr(ps, (struct pos){ s->path, s->line },
		            "unexpected character 0x%02x",
		            (unsigned char)s->buf[s->pos]);
	return 0;
}

/* Next token of the current file; T_EOF at its end. */
static int lex(struct pstate *ps, struct tok *t)
{
	struct src *s = ps->cur;
	int rc = skip_space(ps, s);

	t->type = T_EOF;
	t->file = s->path;
	t->line = s->line;
	t->toolong = false;
	t->text[0] = '\0';
	if (rc != 0 || s->pos >= s->len)
		return rc;
	switch (s->buf[s->pos]) {
	case '{': t->type = T_LBRACE; break;
	case '}': t->type = T_RBRACE; break;
	case ';': t->type = T_SEMI; break;
	case '"':
		t->type = T_STRING;
		return lex_string(ps, s, t);
	default:
		t->type = T_WORD;
		return lex_word(ps, s, t);
	}
	t->text[0] = s->buf[s->pos++];
	t->text[1] = '\0';
	return 0;
}

/* Next token into ps->t; the end of a file included at a nesting deeper
 * than \a floor goes back to the including file. */
static int next_in(struct pstate *ps, unsigned floor)
{
	int rc;

	ps->last = tpos(ps);
	memcpy(ps->last_text, ps->t.text, sizeof(ps->last_text));
	for (;;) {
		rc = lex(ps, &ps->t);
		if (rc != 0 || ps->t.type != T_EOF || ps->depth <= floor)
			return rc;
		ps->cur = ps->cur->up;
		ps->depth--;
	}
}

/* Next token, within the current file. */
static int next(struct pstate *ps)
{
	return next_in(ps, ps->depth);
}

static const char *tok_text(const struct tok *t)
{
	return t->type == T_EOF ? "end of file" : t->text;
}

/* The token just read must be ';'. */
static int want_semi(struct pstate *ps)
{
	if (ps->t.type == T_SEMI)
		return 0;
	return perr(ps, ps->last, "missing ';' after '%s'", ps->last_text);
}

static int read_semi(struct pstate *ps)
{
	int rc = next(ps);

	return rc != 0 ? rc : want_semi(ps);
}

/* Reads a word or string for \a what. */
static int read_value(struct pstate *ps, const char *what)
{
	int rc = next(ps);

	if (rc != 0)
		return rc;
	if (ps->t.type != T_WORD && ps->t.type != T_STRING)
		return perr(ps, tpos(ps), "expected %s, found '%s'", what,
		            tok_text(&ps->t));
	if (ps->t.toolong)
		return perr(ps, tpos(ps), "%s is too long", what);
	return 0;
}

/* ---- Skipping statements. ---- */

/* From after a '{' to its '}'. */
static int skip_block(struct pstate *ps, struct pos open)
{
	unsigned depth = 1;
	int rc;

	while (depth > 0) {
		if ((rc = next(ps)) != 0)
			return rc;
		if (ps->t.type == T_LBRACE)
			depth++;
		else if (ps->t.type == T_RBRACE)
			depth--;
		else if (ps->t.type == T_EOF)
			return perr(ps, tpos(ps), "missing '}' for the '{' at line %u",
			            open.line);
	}
	return 0;
}

/* The rest of a statement up to its ';', blocks included. */
static int skip_stmt(struct pstate *ps)
{
	struct pos close = { NULL, 0 };
	int rc;

	for (;;) {
		if ((rc = next(ps)) != 0)
			return rc;
		switch (ps->t.type) {
		case T_SEMI:
			return 0;
		case T_LBRACE:
			rc = skip_block(ps, tpos(ps));
			close = tpos(ps);
			break;
		case T_WORD:
		case T_STRING:
			/* After '}', a value on a later line is a new statement. */
			if (close.file != NULL && ps->t.line != close.line)
				return perr(ps, close, "missing ';' after '}'");
			close.file = NULL;
			break;
		case T_RBRACE:
		case T_EOF:
			return want_semi(ps);
		}
		if (rc != 0)
			return rc;
	}
}

/* ---- include ---- */

static char *path_near(const char *base, const char *name)
{
	const char *slash = strrchr(base, '/');
	char *out;

	if (name[0] == '/' || slash == NULL)
		return strdup(name);
	if (asprintf(&out, "%.*s/%s", (int)(slash - base), base, name) < 0)
		return NULL;
	return out;
}

static int stmt_include(struct pstate *ps)
{
	struct pos at = tpos(ps);
	char *path;
	int rc = read_value(ps, "a file name after include");

	if (rc != 0)
		return rc;
	path = path_near(at.file, ps->t.text);
	if (path == NULL)
		return BW_ENOMEM;
	rc = read_semi(ps);
	if (rc == 0 && ps->depth >= INCLUDE_MAX) {
		perr(ps, at, "include nested too deep (limit %u)", INCLUDE_MAX);
		rc = BW_EDEPTH;
	}
	if (rc == 0)
		rc = src_push(ps, path, at);
	if (rc == 0)
		ps->depth++;
	free(path);
	return rc;
}

/* ---- Values of options. ---- */

static int read_duration(struct pstate *ps, const char *opt, bool unlimited,
                         uint32_t *out)
{
	int rc = read_value(ps, "a duration");

	if (rc != 0)
		return rc;
	if (unlimited && strcasecmp(ps->t.text, "unlimited") == 0) {
		*out = 0;
		return 0;
	}
	if (bw_policy_duration(ps->t.text, out) == 0)
		return 0;
	return perr(ps, tpos(ps), "bad duration '%s' for %s (seconds, units such "
	            "as 1h30m or 2w, or ISO 8601 such as P14D)", ps->t.text, opt);
}

static int read_uint(struct pstate *ps, const char *what, unsigned long max,
                     unsigned long *out)
{
	int rc = read_value(ps, "a number");
	char *end;

	if (rc != 0)
		return rc;
	errno = 0;
	*out = strtoul(ps->t.text, &end, 10);
	if (!isdigit((unsigned char)ps->t.text[0]) || *end != '\0' || errno != 0)
		return perr(ps, tpos(ps), "expected a number for %s, found '%s'",
		            what, ps->t.text);
	if (*out > max)
		return perr(ps, tpos(ps), "%s %lu is too large (at most %lu)", what,
		            *out, max);
	return 0;
}

static int read_bool(struct pstate *ps, const char *what, bool *out)
{
	static const char *const yes[] = { "yes", "true", "1" };
	static const char *const no[] = { "no", "false", "0" };
	int rc = read_value(ps, "yes or no");

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(ps->t.text, yes[i]) == 0 ||
		    strcasecmp(ps->t.text, no[i]) == 0) {
			*out = strcasecmp(ps->t.text, yes[i]) == 0;
			return 0;
		}
	}
	return perr(ps, tpos(ps), "expected yes or no for %s, found '%s'", what,
	            ps->t.text);
}

/* ---- Options of dnssec-policy. ---- */

struct opt;
typedef int (*opt_fn)(struct pstate *ps, const struct opt *o);

struct opt {
	const char *name;
	opt_fn fn;
	size_t off;     /* Duration options: the field of struct bw_policy. */
};

static int opt_duration(struct pstate *ps, const struct opt *o)
{
	uint32_t *field = (uint32_t *)((char *)&ps->pol + o->off);
	int rc = read_duration(ps, o->name, false, field);

	return rc != 0 ? rc : read_semi(ps);
}

static int opt_inline_signing(struct pstate *ps, const struct opt *o)
{
	bool on;
	int rc = read_bool(ps, o->name, &on);

	return rc != 0 ? rc : read_semi(ps);
}

/* BIND's names of DS digest types, and the numbers. */
static int digest_from_text(const char *s, uint8_t *out)
{
	static const struct { const char *name; uint8_t type; } names[] = {
		{ "sha-1", BW_DS_SHA1 }, { "sha1", BW_DS_SHA1 }, { "1", BW_DS_SHA1 },
		{ "sha-256", BW_DS_SHA256 }, { "sha256", BW_DS_SHA256 },
		{ "2", BW_DS_SHA256 }, { "sha-384", BW_DS_SHA384 },
		{ "sha384", BW_DS_SHA384 }, { "4", BW_DS_SHA384 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].type;
			return 0;
		}
	}
	return BW_EINVAL;
}

static void add_digest(struct bw_policy *p, uint8_t type)
{
	for (size_t i = 0; i < p->ncds_digests; i++)
		if (p->cds_digests[i] == type)
			return;
	p->cds_digests[p->ncds_digests++] = type;
}

static int want_lbrace(struct pstate *ps, const char *after)
{
	int rc = next(ps);

	if (rc == 0 && ps->t.type != T_LBRACE)
		rc = perr(ps, tpos(ps), "expected '{' after %s, found '%s'", after,
		          tok_text(&ps->t));
	return rc;
}

/* cds-digest-types { sha-256; sha-384; }; */
static int opt_cds(struct pstate *ps, const struct opt *o)
{
	struct pos open;
	uint8_t type;
	int rc = want_lbrace(ps, o->name);

	ps->pol.ncds_digests = 0;
	for (open = tpos(ps); rc == 0;) {
		if ((rc = next(ps)) != 0)
			break;
		if (ps->t.type == T_RBRACE)
			return read_semi(ps);
		if (ps->t.type == T_EOF)
			return perr(ps, tpos(ps), "missing '}' for the '{' at line %u",
			            open.line);
		if (ps->t.type != T_WORD && ps->t.type != T_STRING)
			return perr(ps, tpos(ps), "expected a digest type, found '%s'",
			            tok_text(&ps->t));
		if (digest_from_text(ps->t.text, &type) != 0)
			return perr(ps, tpos(ps), "unknown digest type '%s' in %s "
			            "(sha-1, sha-256 or sha-384)", ps->t.text, o->name);
		add_digest(&ps->pol, type);
		rc = read_semi(ps);
	}
	return rc;
}

/* BIND's shorter names of the ECDSA algorithms. */
static int alg_from_text(const char *s, uint8_t *alg)
{
	if (strcasecmp(s, "ecdsa256") == 0)
		s = "13";
	else if (strcasecmp(s, "ecdsa384") == 0)
		s = "14";
	return bw_key_alg_from_text(s, alg);
}

static int key_alg(struct pstate *ps, struct bw_policy_key *k)
{
	int rc = read_value(ps, "an algorithm");

	if (rc != 0)
		return rc;
	if (alg_from_text(ps->t.text, &k->alg) != 0)
		return perr(ps, tpos(ps), "unknown algorithm '%s' (rsasha256, "
		            "rsasha512, ecdsap256sha256, ecdsap384sha384, ed25519, "
		            "ed448, or a number)", ps->t.text);
	if (k->alg == BW_ALG_RSASHA1 || k->alg == BW_ALG_RSASHA1_NSEC3)
		return perr(ps, tpos(ps), "algorithm %s (%u) is for verifying old "
		            "zones only; bulwark does not sign with it",
		            bw_key_alg_name(k->alg), k->alg);
	return 0;
}

/* The optional key size after the algorithm, then ';'. */
static int key_bits(struct pstate *ps, struct bw_policy_key *k)
{
	const struct bw_key_alg_info *ai = bw_key_alg_info(k->alg);
	struct pos at;
	unsigned long bits;
	int rc = next(ps);

	if (rc != 0 || ps->t.type == T_SEMI)
		return rc;
	if (ps->t.type != T_WORD || ps->t.line != ps->last.line ||
	    !isdigit((unsigned char)ps->t.text[0]))
		return want_semi(ps);
	bits = strtoul(ps->t.text, NULL, 10);
	at = tpos(ps);
	if (ai->bits == 0 && (bits < 1024 || bits > 4096))
		return perr(ps, at, "key size '%s' is out of range for %s (1024 to "
		            "4096)", ps->t.text, ai->name);
	if (ai->bits != 0 && bits != ai->bits)
		bw_diag_report(ps->d, BW_DIAG_WARN, at.file, at.line, "%s keys are "
		               "%u bits; ignoring the size %s", ai->name, ai->bits,
		               ps->t.text);
	k->bits = ai->bits == 0 ? (unsigned)bits : 0;
	return read_semi(ps);
}

/* "lifetime" or "algorithm" must come next. */
static int key_keyword(struct pstate *ps, const char *kw)
{
	int rc = next(ps);

	if (rc == 0 && (ps->t.type != T_WORD || strcasecmp(ps->t.text, kw) != 0))
		rc = perr(ps, tpos(ps), "expected '%s' after '%s' in keys, found "
		          "'%s'", kw, ps->last_text, tok_text(&ps->t));
	return rc;
}

static int key_role(struct pstate *ps, enum bw_key_role *role)
{
	if (strcasecmp(ps->t.text, "ksk") == 0)
		*role = BW_KEY_KSK;
	else if (strcasecmp(ps->t.text, "zsk") == 0)
		*role = BW_KEY_ZSK;
	else if (strcasecmp(ps->t.text, "csk") == 0)
		*role = BW_KEY_CSK;
	else
		return perr(ps, tpos(ps), "expected ksk, zsk or csk in keys, found "
		            "'%s'", ps->t.text);
	return 0;
}

/* ksk|zsk|csk [key-directory] lifetime D|unlimited algorithm A [BITS]; */
static int parse_key(struct pstate *ps)
{
	struct bw_policy_key k = { 0 };
	struct pos at = tpos(ps);
	int rc = key_role(ps, &k.role);

	if (rc == 0 && ps->pol.nkeys == BW_POLICY_KEYS_MAX)
		rc = perr(ps, at, "too many keys in dnssec-policy '%s' (at most %u)",
		          ps->pol.name, BW_POLICY_KEYS_MAX);
	if (rc == 0)
		rc = next(ps);
	if (rc == 0 && ps->t.type == T_WORD &&
	    strcasecmp(ps->t.text, "key-directory") == 0)
		rc = next(ps);
	if (rc == 0 && (ps->t.type != T_WORD ||
	                strcasecmp(ps->t.text, "lifetime") != 0))
		rc = perr(ps, tpos(ps), "expected 'lifetime' in keys, found '%s'",
		          tok_text(&ps->t));
	if (rc == 0)
		rc = read_duration(ps, "lifetime", true, &k.lifetime);
	if (rc == 0)
		rc = key_keyword(ps, "algorithm");
	if (rc == 0)
		rc = key_alg(ps, &k);
	if (rc == 0)
		rc = key_bits(ps, &k);
	if (rc == 0) {
		ps->at_key[ps->pol.nkeys] = at;
		ps->pol.keys[ps->pol.nkeys++] = k;
	}
	return rc;
}

static int opt_keys(struct pstate *ps, const struct opt *o)
{
	int rc = want_lbrace(ps, o->name);

	ps->keys_set = true;
	ps->at_keys = ps->last;
	ps->pol.nkeys = 0;
	while (rc == 0) {
		if ((rc = next(ps)) != 0)
			break;
		if (ps->t.type == T_RBRACE)
			return read_semi(ps);
		if (ps->t.type == T_WORD)
			rc = parse_key(ps);
		else if (ps->t.type == T_EOF)
			rc = perr(ps, tpos(ps), "missing '}' for the '{' at line %u",
			          ps->at_keys.line);
		else
			rc = perr(ps, tpos(ps), "expected ksk, zsk or csk in keys, "
			          "found '%s'", tok_text(&ps->t));
	}
	return rc;
}

/* One "iterations N", "optout B" or "salt-length N" of nsec3param. */
static int nsec3_item(struct pstate *ps, unsigned *seen)
{
	static const char *const names[] = { "iterations", "optout",
	                                     "salt-length" };
	unsigned long v = 0;
	unsigned i = 0;
	int rc;

	while (i < 3 && strcasecmp(ps->t.text, names[i]) != 0)
		i++;
	if (i == 3 && ps->t.line != ps->last.line)
		return want_semi(ps);
	if (i == 3)
		return perr(ps, tpos(ps), "unknown nsec3param option '%s' "
		            "(iterations, optout, salt-length)", ps->t.text);
	if (*seen & (1u << i))
		return perr(ps, tpos(ps), "nsec3param sets '%s' twice", names[i]);
	*seen |= 1u << i;
	if (i == 1)
		return read_bool(ps, "optout", &ps->pol.nsec3_optout);
	rc = read_uint(ps, names[i], i == 0 ? 65535 : 255, &v);
	if (i == 0)
		ps->pol.nsec3_iterations = (uint16_t)v;
	else
		ps->pol.nsec3_salt_len = (uint8_t)v;
	return rc;
}

/* nsec3param [iterations N] [optout yes|no] [salt-length N]; */
static int opt_nsec3(struct pstate *ps, const struct opt *o)
{
	unsigned seen = 0;
	int rc = 0;

	(void)o;
	ps->pol.nsec3 = true;
	ps->at_nsec3 = tpos(ps);
	while (rc == 0) {
		if ((rc = next(ps)) != 0 || ps->t.type == T_SEMI)
			break;
		if (ps->t.type != T_WORD)
			return want_semi(ps);
		rc = nsec3_item(ps, &seen);
	}
	return rc;
}

#define DUR(n, f) { n, opt_duration, offsetof(struct bw_policy, f) }

static const struct opt opts[NOPTS] = {
	{ "keys", opt_keys, 0 },
	DUR("dnskey-ttl", dnskey_ttl),
	DUR("signatures-validity", signatures_validity),
	DUR("signatures-validity-dnskey", signatures_validity_dnskey),
	DUR("signatures-refresh", signatures_refresh),
	DUR("max-zone-ttl", max_zone_ttl),
	DUR("publish-safety", publish_safety),
	DUR("retire-safety", retire_safety),
	DUR("purge-keys", purge_keys),
	DUR("zone-propagation-delay", zone_propagation_delay),
	DUR("parent-ds-ttl", parent_ds_ttl),
	DUR("parent-propagation-delay", parent_propagation_delay),
	{ "nsec3param", opt_nsec3, 0 },
	{ "cds-digest-types", opt_cds, 0 },
	{ "inline-signing", opt_inline_signing, 0 },
};
_Static_assert(sizeof(opts) / sizeof(opts[0]) == NOPTS, "NOPTS");

static int policy_option(struct pstate *ps)
{
	size_t i = 0;

	while (i < NOPTS && strcmp(opts[i].name, ps->t.text) != 0)
		i++;
	if (i == NOPTS)
		return perr(ps, tpos(ps), "unknown option '%s' in dnssec-policy '%s'",
		            ps->t.text, ps->pol.name);
	if (ps->seen[i].file != NULL)
		return perr(ps, tpos(ps), "'%s' is set twice in dnssec-policy '%s' "
		            "(first at %s:%u)", opts[i].name, ps->pol.name,
		            ps->seen[i].file, ps->seen[i].line);
	ps->seen[i] = tpos(ps);
	return opts[i].fn(ps, &opts[i]);
}

/* The options of the wanted policy, from after '{' to '}'. */
static int policy_body(struct pstate *ps, struct pos open)
{
	unsigned floor = ps->depth;
	int rc;

	for (;;) {
		if ((rc = next_in(ps, floor)) != 0)
			return rc;
		if (ps->t.type == T_RBRACE && ps->depth == floor)
			return 0;
		if (ps->t.type == T_EOF)
			return perr(ps, tpos(ps), "missing '}' for the '{' at line %u",
			            open.line);
		if (ps->t.type != T_WORD)
			return perr(ps, tpos(ps), "expected an option of dnssec-policy "
			            "'%s', found '%s'", ps->pol.name, tok_text(&ps->t));
		rc = strcmp(ps->t.text, "include") == 0 ? stmt_include(ps) :
		     policy_option(ps);
		if (rc != 0)
			return rc;
	}
}

/* ---- Checks of the whole policy. ---- */

static const char *role_name(enum bw_key_role r)
{
	switch (r) {
	case BW_KEY_KSK: return "ksk";
	case BW_KEY_ZSK: return "zsk";
	case BW_KEY_CSK: return "csk";
	}
	return "?";
}

/* Two keys of one algorithm with a role in common. */
static int check_pair(struct pstate *ps, size_t i, size_t j)
{
	const struct bw_policy_key *a = &ps->pol.keys[i], *b = &ps->pol.keys[j];
	const char *alg = bw_key_alg_name(a->alg);

	if (a->alg != b->alg || (a->role & b->role) == 0)
		return 0;
	if (a->role == BW_KEY_CSK || b->role == BW_KEY_CSK)
		return perr(ps, ps->at_key[j], "%s of %s conflicts with the %s at "
		            "line %u: a csk is both the ksk and the zsk",
		            role_name(b->role), alg, role_name(a->role),
		            ps->at_key[i].line);
	return perr(ps, ps->at_key[j], "second %s of %s (first at line %u): "
	            "bulwark-compile signs with one key per role and algorithm",
	            role_name(b->role), alg, ps->at_key[i].line);
}

/* Each algorithm needs both roles. */
static int check_roles(struct pstate *ps)
{
	int rc = 0;

	for (size_t i = 0; i < ps->pol.nkeys; i++) {
		unsigned roles = 0;
		for (size_t j = 0; j < ps->pol.nkeys; j++)
			if (ps->pol.keys[j].alg == ps->pol.keys[i].alg)
				roles |= ps->pol.keys[j].role;
		for (size_t j = 0; j < i && rc == 0; j++)
			rc = check_pair(ps, j, i);
		if (rc == 0 && roles != BW_KEY_CSK)
			rc = perr(ps, ps->at_key[i], "%s has no %s: each algorithm needs "
			          "a ksk and a zsk, or a csk",
			          bw_key_alg_name(ps->pol.keys[i].alg),
			          roles == BW_KEY_KSK ? "zsk" : "ksk");
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int check_keys(struct pstate *ps)
{
	if (!ps->keys_set) {
		/* Without `keys`, BIND gives a policy the default's CSK. */
		struct bw_policy def;
		bw_policy_default(&def);
		ps->pol.keys[0] = def.keys[0];
		ps->pol.nkeys = 1;
		return 0;
	}
	if (ps->pol.nkeys == 0)
		return perr(ps, ps->at_keys, "dnssec-policy '%s' has no keys: it "
		            "would leave zones unsigned, as BIND's 'insecure' does",
		            ps->pol.name);
	return check_roles(ps);
}

static int check_refresh(struct pstate *ps, const char *what, uint32_t val)
{
	if ((uint64_t)ps->pol.signatures_refresh * 10 < (uint64_t)val * 9)
		return 0;
	return perr(ps, ps->at_policy, "dnssec-policy '%s': signatures-refresh "
	            "(%u s) must be at most 90%% of %s (%u s)", ps->pol.name,
	            ps->pol.signatures_refresh, what, val);
}

static uint32_t max3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a > b ? a : b;

	m = m > c ? m : c;
	return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

/* A key must live longer than a rollover of its role takes. */
static int check_lifetimes(struct pstate *ps)
{
	const struct bw_policy *p = &ps->pol;
	uint64_t publish = (uint64_t)p->dnskey_ttl + p->publish_safety +
	                   p->zone_propagation_delay;
	uint64_t ds = (uint64_t)p->parent_ds_ttl + p->retire_safety +
	              p->parent_propagation_delay;
	uint64_t sigs = (uint64_t)(p->signatures_validity - p->signatures_refresh) +
	                p->max_zone_ttl + p->retire_safety +
	                p->zone_propagation_delay;
	uint32_t need[4] = { 0, max3(publish, sigs, 0), max3(publish, ds, 0),
	                     max3(publish, ds, sigs) };

	for (size_t i = 0; i < p->nkeys; i++) {
		uint32_t life = p->keys[i].lifetime, min = need[p->keys[i].role];
		struct pos at = ps->at_key[i];
		if (life != 0 && life <= min)
			return perr(ps, at, "key lifetime %u s is shorter than a "
			            "rollover of the %s takes (%u s)", life,
			            role_name(p->keys[i].role), min);
		if (life != 0 && life < 30 * DAY)
			bw_diag_report(ps->d, BW_DIAG_WARN, at.file, at.line, "key "
			               "lifetime %u s is shorter than 30 days", life);
	}
	return 0;
}

static int check_nsec3(struct pstate *ps)
{
	const struct bw_policy *p = &ps->pol;
	struct pos at = ps->at_nsec3;

	if (!p->nsec3)
		return 0;
	if (p->nsec3_iterations > BW_POLICY_NSEC3_ITER_MAX)
		return perr(ps, at, "nsec3param iterations %u is out of range (at "
		            "most %u; RFC 9276 recommends 0)", p->nsec3_iterations,
		            BW_POLICY_NSEC3_ITER_MAX);
	if (p->nsec3_iterations > 0)
		bw_diag_report(ps->d, BW_DIAG_WARN, at.file, at.line, "nsec3param "
		               "iterations %u: RFC 9276 recommends 0 (more cost the "
		               "server and resolvers and protect nothing)",
		               p->nsec3_iterations);
	if (p->nsec3_salt_len > 0)
		bw_diag_report(ps->d, BW_DIAG_WARN, at.file, at.line, "nsec3param "
		               "salt-length %u: RFC 9276 recommends no salt",
		               p->nsec3_salt_len);
	return 0;
}

static int check_policy(struct pstate *ps)
{
	int rc = check_keys(ps);

	if (rc == 0)
		rc = check_refresh(ps, "signatures-validity",
		                   ps->pol.signatures_validity);
	if (rc == 0)
		rc = check_refresh(ps, "signatures-validity-dnskey",
		                   ps->pol.signatures_validity_dnskey);
	if (rc == 0)
		rc = check_lifetimes(ps);
	if (rc == 0)
		rc = check_nsec3(ps);
	return rc;
}

/* ---- Top level. ---- */

static bool builtin_name(const char *name)
{
	return strcmp(name, "default") == 0 || strcmp(name, "insecure") == 0 ||
	       strcmp(name, "none") == 0;
}

/* The wanted policy's block, from after '{'. */
static int read_policy(struct pstate *ps, struct pos at, struct pos open)
{
	if (ps->found)
		return perr(ps, at, "dnssec-policy '%s' is defined twice (first at "
		            "%s:%u)", ps->want, ps->at_policy.file,
		            ps->at_policy.line);
	ps->found = true;
	ps->at_policy = at;
	int rc = policy_body(ps, open);
	return rc != 0 ? rc : check_policy(ps);
}

/* dnssec-policy NAME { ... }; */
static int stmt_policy(struct pstate *ps)
{
	struct pos at = tpos(ps), open;
	char name[TEXT_MAX];
	int rc = read_value(ps, "a policy name after dnssec-policy");

	if (rc != 0)
		return rc;
	snprintf(name, sizeof(name), "%s", ps->t.text);
	if (builtin_name(name))
		return perr(ps, tpos(ps), "cannot redefine the built-in "
		            "dnssec-policy '%s'", name);
	if ((rc = want_lbrace(ps, "the name of dnssec-policy")) != 0)
		return rc;
	open = tpos(ps);
	if (strcmp(name, ps->want) == 0)
		rc = read_policy(ps, at, open);
	else
		rc = skip_block(ps, open);
	return rc != 0 ? rc : read_semi(ps);
}

static int read_top(struct pstate *ps)
{
	int rc;

	for (;;) {
		if ((rc = next_in(ps, 0)) != 0 || ps->t.type == T_EOF)
			return rc;
		if (ps->t.type != T_WORD)
			return perr(ps, tpos(ps), "expected a statement name, found "
			            "'%s'", tok_text(&ps->t));
		if (strcmp(ps->t.text, "include") == 0)
			rc = stmt_include(ps);
		else if (strcmp(ps->t.text, "dnssec-policy") == 0)
			rc = stmt_policy(ps);
		else
			rc = skip_stmt(ps);
		if (rc != 0)
			return rc;
	}
}

/* Refuses names that bulwark-compile cannot sign with. */
static int check_name(const char *name, const char *conf, struct bw_diag *d)
{
	if (strcmp(name, "insecure") == 0 || strcmp(name, "none") == 0) {
		bw_diag_report(d, BW_DIAG_ERROR, conf, 0, "dnssec-policy '%s' signs "
		               "nothing; to compile an unsigned zone, leave out -k, "
		               "-c and --policy", name);
		return BW_ECONF;
	}
	if (strlen(name) >= sizeof(((struct bw_policy *)NULL)->name)) {
		bw_diag_report(d, BW_DIAG_ERROR, conf, 0, "dnssec-policy name '%s' "
		               "is too long (at most 63 characters)", name);
		return BW_ECONF;
	}
	if (conf == NULL && strcmp(name, "default") != 0) {
		bw_diag_report(d, BW_DIAG_ERROR, NULL, 0, "dnssec-policy '%s' needs "
		               "a configuration file (-c CONF)", name);
		return BW_ECONF;
	}
	return 0;
}

int bw_policy_load(const char *conf_path, const char *name,
                   struct bw_policy *out, struct bw_diag *d)
{
	struct pstate *ps;
	int rc = check_name(name, conf_path, d);

	if (rc != 0 || conf_path == NULL) {
		if (rc == 0)
			bw_policy_default(out);
		return rc;
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return BW_ENOMEM;
	ps->d = d;
	ps->want = name;
	bw_policy_default(&ps->pol);
	snprintf(ps->pol.name, sizeof(ps->pol.name), "%s", name);
	rc = src_push(ps, conf_path, (struct pos){ NULL, 0 });
	if (rc == 0)
		rc = read_top(ps);
	if (rc == 0 && !ps->found && strcmp(name, "default") != 0)
		rc = perr(ps, (struct pos){ conf_path, 0 }, "no dnssec-policy named "
		          "'%s' in %s", name, conf_path);
	if (rc == 0)
		*out = ps->pol;
	src_free_all(ps);
	free(ps);
	return rc;
}
