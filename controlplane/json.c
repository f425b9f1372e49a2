/*  bulwark — a small JSON tree for the control protocol.
 *
 *  A recursive-descent parser (RFC 8259, strict: no \u0000, valid UTF-8
 *  only, no duplicate keys, bounded nesting) and a writer into a growing
 *  buffer.  Objects keep their members in insertion order; a lookup is a
 *  linear scan, which suits the few members of a control message.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/err.h"
#include "json.h"
#include "strbuf.h"

/* Short escapes: the letter after '\\' and the character it stands for. */
static const char esc_name[] = "\"\\/bfnrt";
static const char esc_char[] = "\"\\/\b\f\n\r\t";
static const char hex_digits[] = "0123456789abcdef";

/* ---- UTF-8. ---- */

/* Length of the valid UTF-8 sequence at \a s (1 to 4), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (n == 0 || n > avail || s[0] >= 0xf8)
		return 0;
	cp = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void utf8_put(struct bw_strbuf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	static const unsigned char lead[] = { 0, 0, 0xc0, 0xe0, 0xf0 };

	u[0] = (unsigned char)(n == 1 ? cp : lead[n] | cp >> (6 * (n - 1)));
	for (size_t i = 1; i < n; i++)
		u[i] = (unsigned char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
	bw_strbuf_add(b, u, n);
}

/* ---- Nodes. ---- */

static struct bw_json *node_new(enum bw_json_type type)
{
	struct bw_json *v = calloc(1, sizeof(*v));

	if (v != NULL)
		v->type = type;
	return v;
}

/* A STR or NUM node that takes \a s (malloc'ed, NUL-terminated). */
static struct bw_json *leaf_take(enum bw_json_type type, char *s, size_t len)
{
	struct bw_json *v = s != NULL ? node_new(type) : NULL;

	if (v == NULL) {
		free(s);
		return NULL;
	}
	v->str = s;
	v->len = len;
	return v;
}

/* A STR or NUM node holding a copy of \a len octets of \a s. */
static struct bw_json *leaf_copy(enum bw_json_type type, const char *s,
                                 size_t len)
{
	char *d = malloc(len + 1);

	if (d != NULL) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return leaf_take(type, d, len);
}

static struct bw_json *num_fmt(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static struct bw_json *num_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : leaf_take(BW_JSON_NUM, s, (size_t)n);
}

void bw_json_free(struct bw_json *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		bw_json_free(v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

struct bw_json *bw_json_obj(void)
{
	return node_new(BW_JSON_OBJ);
}

struct bw_json *bw_json_arr(void)
{
	return node_new(BW_JSON_ARR);
}

struct bw_json *bw_json_null(void)
{
	return node_new(BW_JSON_NULL);
}

struct bw_json *bw_json_bool(bool b)
{
	struct bw_json *v = node_new(BW_JSON_BOOL);

	if (v != NULL)
		v->b = b;
	return v;
}

struct bw_json *bw_json_str(const char *s)
{
	return s != NULL ? bw_json_strn(s, strlen(s)) : NULL;
}

struct bw_json *bw_json_strn(const char *s, size_t len)
{
	return s != NULL ? leaf_copy(BW_JSON_STR, s, len) : NULL;
}

struct bw_json *bw_json_u64(uint64_t u)
{
	return num_fmt("%" PRIu64, u);
}

struct bw_json *bw_json_i64(int64_t i)
{
	return num_fmt("%" PRId64, i);
}

/* JSON has no NaN or infinity: those become null. */
struct bw_json *bw_json_f64(double d, unsigned decimals)
{
	if (!isfinite(d))
		return bw_json_null();
	return num_fmt("%.*f", (int)decimals, d);
}

/* ---- Containers. ---- */

/* Makes room for one more item; false when out of memory. */
static bool reserve(struct bw_json *c)
{
	size_t cap = c->cap == 0 ? 4 : 2 * c->cap;
	void *p;

	if (c->n < c->cap)
		return true;
	p = realloc(c->items, cap * sizeof(*c->items));
	if (p == NULL)
		return false;
	c->items = p;
	if (c->type == BW_JSON_OBJ) {
		p = realloc(c->keys, cap * sizeof(*c->keys));
		if (p == NULL)
			return false;
		c->keys = p;
	}
	c->cap = cap;
	return true;
}

/* Appends \a val under \a key (NULL in arrays); takes both, frees both and
 * returns false on failure. */
static bool add_taken(struct bw_json *c, char *key, struct bw_json *val)
{
	bool obj = c->type == BW_JSON_OBJ;

	if (val == NULL || (obj && key == NULL) || !reserve(c)) {
		free(key);
		bw_json_free(val);
		return false;
	}
	if (obj)
		c->keys[c->n] = key;
	c->items[c->n++] = val;
	return true;
}

/* The slot of \a key's value in \a obj, or NULL. */
static struct bw_json **slot(const struct bw_json *obj, const char *key)
{
	if (obj == NULL || obj->type != BW_JSON_OBJ || key == NULL)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}

void bw_json_set(struct bw_json *obj, const char *key, struct bw_json *val)
{
	struct bw_json **old = slot(obj, key);

	if (obj == NULL || obj->type != BW_JSON_OBJ || key == NULL) {
		if (obj != NULL)
			obj->failed = true;
		bw_json_free(val);
	} else if (old != NULL && val != NULL) {
		bw_json_free(*old);
		*old = val;
	} else if (!add_taken(obj, strdup(key), val)) {
		obj->failed = true;
	}
}

void bw_json_push(struct bw_json *arr, struct bw_json *val)
{
	if (arr == NULL || arr->type != BW_JSON_ARR) {
		if (arr != NULL)
			arr->failed = true;
		bw_json_free(val);
	} else if (!add_taken(arr, NULL, val)) {
		arr->failed = true;
	}
}

void bw_json_set_str(struct bw_json *obj, const char *key, const char *s)
{
	bw_json_set(obj, key, bw_json_str(s));
}

void bw_json_set_u64(struct bw_json *obj, const char *key, uint64_t u)
{
	bw_json_set(obj, key, bw_json_u64(u));
}

void bw_json_set_i64(struct bw_json *obj, const char *key, int64_t i)
{
	bw_json_set(obj, key, bw_json_i64(i));
}

void bw_json_set_bool(struct bw_json *obj, const char *key, bool b)
{
	bw_json_set(obj, key, bw_json_bool(b));
}

void bw_json_set_time(struct bw_json *obj, const char *key, time_t t)
{
	char text[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	bw_json_set_str(obj, key, text);
}

void bw_json_set_time_ms(struct bw_json *obj, const char *key, uint64_t ms)
{
	char text[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	size_t n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(text + n, sizeof(text) - n, ".%03uZ", (unsigned)(ms % 1000));
	bw_json_set_str(obj, key, text);
}

struct bw_json *bw_json_copy(const struct bw_json *v)
{
	struct bw_json *c;

	if (v == NULL)
		return NULL;
	if (v->type == BW_JSON_STR || v->type == BW_JSON_NUM)
		return leaf_copy(v->type, v->str, v->len);
	c = node_new(v->type);
	if (c == NULL)
		return NULL;
	c->b = v->b;
	c->failed = v->failed;
	for (size_t i = 0; i < v->n; i++) {
		char *key = v->keys != NULL ? strdup(v->keys[i]) : NULL;

		if (!add_taken(c, key, bw_json_copy(v->items[i]))) {
			bw_json_free(c);
			return NULL;
		}
	}
	return c;
}

/* ---- Lookups. ---- */

const struct bw_json *bw_json_get(const struct bw_json *obj, const char *key)
{
	struct bw_json **s = slot(obj, key);

	return s != NULL ? *s : NULL;
}

const char *bw_json_get_str(const struct bw_json *obj, const char *key)
{
	const struct bw_json *v = bw_json_get(obj, key);

	return v != NULL && v->type == BW_JSON_STR ? v->str : NULL;
}

int bw_json_as_u64(const struct bw_json *v, uint64_t *out)
{
	uint64_t u = 0;

	if (v == NULL)
		return BW_ENOENT;
	if (v->type != BW_JSON_NUM || v->len == 0)
		return BW_EINVAL;
	for (size_t i = 0; i < v->len; i++) {
		unsigned d = (unsigned)(v->str[i] - '0');

		if (d > 9 || u > (UINT64_MAX - d) / 10)
			return BW_EINVAL;
		u = u * 10 + d;
	}
	*out = u;
	return 0;
}

int bw_json_get_u64(const struct bw_json *obj, const char *key, uint64_t *out)
{
	return bw_json_as_u64(bw_json_get(obj, key), out);
}

/* ---- Parser. ---- */

struct parser {
	const char *s;
	size_t len, pos;
	unsigned depth;
	char *err;
	size_t errlen;
};

static int parse_value(struct parser *p, struct bw_json **out);

/* Records "offset AT: reason" and returns \a rc. */
static int fail(struct parser *p, int rc, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct parser *p, int rc, size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->errlen == 0)
		return rc;
	n = snprintf(p->err, p->errlen, "offset %zu: ", at);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int nomem(struct parser *p)
{
	return fail(p, BW_ENOMEM, p->pos, "out of memory");
}

/* The next octet, or -1 at the end. */
static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static bool accept(struct parser *p, int c)
{
	if (peek(p) != c)
		return false;
	p->pos++;
	return true;
}

static void skip_ws(struct parser *p)
{
	int c = peek(p);

	while (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
		p->pos++;
		c = peek(p);
	}
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Skips digits; returns how many. */
static size_t skip_digits(struct parser *p)
{
	size_t start = p->pos;

	while (is_digit(peek(p)))
		p->pos++;
	return p->pos - start;
}

/* The value of a hex digit, or -1. */
static int hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;  /* Lowercase: only A-F fall into a-f. */
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reads four hex digits. */
static bool hex4(struct parser *p, uint32_t *cp)
{
	*cp = 0;
	if (p->len - p->pos < 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		int d = hex_val((unsigned char)p->s[p->pos + i]);

		if (d < 0)
			return false;
		*cp = *cp << 4 | (uint32_t)d;
	}
	p->pos += 4;
	return true;
}

/* \uXXXX, or a surrogate pair of two; \a at is the backslash. */
static int parse_uescape(struct parser *p, struct bw_strbuf *b, size_t at)
{
	uint32_t cp, lo;

	if (!hex4(p, &cp))
		return fail(p, BW_ESYNTAX, at, "invalid \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (!accept(p, '\\') || !accept(p, 'u') || !hex4(p, &lo) ||
		    lo < 0xdc00 || lo > 0xdfff)
			return fail(p, BW_ESYNTAX, at, "lone surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return fail(p, BW_ESYNTAX, at, "lone surrogate");
	}
	if (cp == 0)
		return fail(p, BW_ESYNTAX, at, "\\u0000 is not allowed");
	utf8_put(b, cp);
	return 0;
}

static int parse_escape(struct parser *p, struct bw_strbuf *b)
{
	size_t at = p->pos++;
	int c = peek(p);
	const char *hit = c > 0 ? strchr(esc_name, c) : NULL;

	if (c == 'u') {
		p->pos++;
		return parse_uescape(p, b, at);
	}
	if (hit == NULL)
		return fail(p, BW_ESYNTAX, at, "invalid escape");
	p->pos++;
	bw_strbuf_addc(b, esc_char[hit - esc_name]);
	return 0;
}

/* One character of a string: an escape or a UTF-8 sequence. */
static int parse_char(struct parser *p, struct bw_strbuf *b, size_t start)
{
	int c = peek(p);
	size_t n;

	if (c < 0)
		return fail(p, BW_ESYNTAX, start, "unterminated string");
	if (c == '\\')
		return parse_escape(p, b);
	if (c < 0x20)
		return fail(p, BW_ESYNTAX, p->pos, "control character in string");
	n = utf8_seq((const unsigned char *)p->s + p->pos, p->len - p->pos);
	if (n == 0)
		return fail(p, BW_ESYNTAX, p->pos, "invalid UTF-8");
	bw_strbuf_add(b, p->s + p->pos, n);
	p->pos += n;
	return 0;
}

/* A string at the opening quote; \a s is malloc'ed. */
static int parse_str(struct parser *p, char **s, size_t *len)
{
	struct bw_strbuf b = { 0 };
	size_t start = p->pos++, n;
	char *text;
	int rc = 0;

	while (rc == 0 && !accept(p, '"'))
		rc = parse_char(p, &b, start);
	n = b.len;
	text = bw_strbuf_take(&b);
	if (rc == 0 && text == NULL)
		rc = nomem(p);
	if (rc != 0) {
		free(text);
		return rc;
	}
	*s = text;
	*len = n;
	return 0;
}

static int parse_str_value(struct parser *p, struct bw_json **out)
{
	char *s;
	size_t len;
	int rc = parse_str(p, &s, &len);

	if (rc != 0)
		return rc;
	*out = leaf_take(BW_JSON_STR, s, len);
	return *out != NULL ? 0 : nomem(p);
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, kept as text. */
static int parse_num(struct parser *p, struct bw_json **out)
{
	size_t start = p->pos;

	accept(p, '-');
	if (accept(p, '0')) {
		if (is_digit(peek(p)))
			return fail(p, BW_ESYNTAX, start, "leading zero in number");
	} else if (skip_digits(p) == 0) {
		return fail(p, BW_ESYNTAX, p->pos, "digit expected");
	}
	if (accept(p, '.') && skip_digits(p) == 0)
		return fail(p, BW_ESYNTAX, p->pos, "digit expected after '.'");
	if (accept(p, 'e') || accept(p, 'E')) {
		if (!accept(p, '+'))
			accept(p, '-');
		if (skip_digits(p) == 0)
			return fail(p, BW_ESYNTAX, p->pos, "digit expected in exponent");
	}
	*out = leaf_copy(BW_JSON_NUM, p->s + start, p->pos - start);
	return *out != NULL ? 0 : nomem(p);
}

/* true, false or null. */
static int parse_word(struct parser *p, struct bw_json **out)
{
	static const char *const words[] = { "null", "false", "true" };

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);

		if (p->len - p->pos < n || memcmp(p->s + p->pos, words[i], n) != 0)
			continue;
		p->pos += n;
		*out = i == 0 ? bw_json_null() : bw_json_bool(i == 2);
		return *out != NULL ? 0 : nomem(p);
	}
	return fail(p, BW_ESYNTAX, p->pos, "invalid literal");
}

/* A value (array item or member value) added to \a c under \a key
 * (taken; NULL in arrays). */
static int parse_item(struct parser *p, struct bw_json *c, char *key)
{
	struct bw_json *val = NULL;
	int rc = parse_value(p, &val);

	if (rc != 0) {
		free(key);
		return rc;
	}
	return add_taken(c, key, val) ? 0 : nomem(p);
}

static int parse_member(struct parser *p, struct bw_json *obj)
{
	size_t at, len;
	char *key;
	int rc;

	skip_ws(p);
	at = p->pos;
	if (peek(p) != '"')
		return fail(p, BW_ESYNTAX, at, "expected a string key");
	rc = parse_str(p, &key, &len);
	if (rc != 0)
		return rc;
	if (slot(obj, key) != NULL)
		rc = fail(p, BW_ESYNTAX, at, "duplicate key '%s'", key);
	skip_ws(p);
	if (rc == 0 && !accept(p, ':'))
		rc = fail(p, BW_ESYNTAX, p->pos, "expected ':'");
	if (rc != 0) {
		free(key);
		return rc;
	}
	return parse_item(p, obj, key);
}

/* The items of an array or the members of an object, at '[' or '{'. */
static int parse_items(struct parser *p, struct bw_json *c)
{
	bool obj = c->type == BW_JSON_OBJ;
	char close = obj ? '}' : ']';
	int rc;

	p->pos++;
	skip_ws(p);
	if (accept(p, close))
		return 0;
	do {
		rc = obj ? parse_member(p, c) : parse_item(p, c, NULL);
		if (rc != 0)
			return rc;
		skip_ws(p);
	} while (accept(p, ','));
	if (!accept(p, close))
		return fail(p, BW_ESYNTAX, p->pos, "expected ',' or '%c'", close);
	return 0;
}

static int parse_container(struct parser *p, enum bw_json_type type,
                           struct bw_json **out)
{
	struct bw_json *c;
	int rc;

	if (p->depth == BW_JSON_DEPTH_MAX)
		return fail(p, BW_EDEPTH, p->pos, "nesting deeper than %d",
		            BW_JSON_DEPTH_MAX);
	c = node_new(type);
	if (c == NULL)
		return nomem(p);
	p->depth++;
	rc = parse_items(p, c);
	p->depth--;
	if (rc != 0) {
		bw_json_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int parse_value(struct parser *p, struct bw_json **out)
{
	int c;

	skip_ws(p);
	c = peek(p);
	if (c == '{' || c == '[')
		return parse_container(p, c == '{' ? BW_JSON_OBJ : BW_JSON_ARR, out);
	if (c == '"')
		return parse_str_value(p, out);
	if (c == '-' || is_digit(c))
		return parse_num(p, out);
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return parse_word(p, out);
	if (c < 0)
		return fail(p, BW_ESYNTAX, p->pos, "unexpected end of input");
	if (c < 0x20 || c > 0x7e)
		return fail(p, BW_ESYNTAX, p->pos, "unexpected octet 0x%02x", c);
	return fail(p, BW_ESYNTAX, p->pos, "unexpected character '%c'", c);
}

int bw_json_parse(const char *text, size_t len, struct bw_json **out,
                  char *err, size_t errlen)
{
	struct parser p = { .s = text, .len = len, .err = err, .errlen = errlen };
	struct bw_json *v = NULL;
	int rc;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	rc = parse_value(&p, &v);
	skip_ws(&p);
	if (rc == 0 && p.pos < p.len)
		rc = fail(&p, BW_ESYNTAX, p.pos, "trailing garbage");
	if (rc != 0) {
		bw_json_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* ---- Writer. ---- */

struct writer {
	struct bw_strbuf b;
	bool pretty;
};

static void write_u00(struct bw_strbuf *b, unsigned char c)
{
	char e[6] = { '\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 15] };

	bw_strbuf_add(b, e, sizeof(e));
}

static void write_ascii(struct bw_strbuf *b, unsigned char c)
{
	const char *hit = c != '/' && c != 0 ? strchr(esc_char, c) : NULL;

	if (hit != NULL) {
		bw_strbuf_addc(b, '\\');
		bw_strbuf_addc(b, esc_name[hit - esc_char]);
	} else if (c < 0x20 || c == 0x7f) {
		write_u00(b, c);
	} else {
		bw_strbuf_addc(b, (char)c);
	}
}

static void write_str(struct bw_strbuf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;

	bw_strbuf_addc(b, '"');
	for (size_t i = 0; i < len; i += n) {
		n = utf8_seq(u + i, len - i);
		if (n == 0) {
			write_u00(b, u[i]);
			n = 1;
		} else if (n == 1) {
			write_ascii(b, u[i]);
		} else {
			bw_strbuf_add(b, s + i, n);
		}
	}
	bw_strbuf_addc(b, '"');
}

/* In pretty output: a new line indented to \a level. */
static void write_indent(struct writer *w, unsigned level)
{
	if (!w->pretty)
		return;
	bw_strbuf_addc(&w->b, '\n');
	for (unsigned i = 0; i < level; i++)
		bw_strbuf_add(&w->b, "  ", 2);
}

static bool write_value(struct writer *w, const struct bw_json *v,
                        unsigned level);

static bool write_items(struct writer *w, const struct bw_json *v,
                        unsigned level)
{
	bool obj = v->type == BW_JSON_OBJ;

	bw_strbuf_addc(&w->b, obj ? '{' : '[');
	for (size_t i = 0; i < v->n; i++) {
		if (i > 0)
			bw_strbuf_addc(&w->b, ',');
		write_indent(w, level + 1);
		if (obj) {
			write_str(&w->b, v->keys[i], strlen(v->keys[i]));
			bw_strbuf_adds(&w->b, w->pretty ? ": " : ":");
		}
		if (!write_value(w, v->items[i], level + 1))
			return false;
	}
	if (v->n > 0)
		write_indent(w, level);
	bw_strbuf_addc(&w->b, obj ? '}' : ']');
	return true;
}

/* False when \a v holds a container marked failed. */
static bool write_value(struct writer *w, const struct bw_json *v,
                        unsigned level)
{
	if (v->failed)
		return false;
	switch (v->type) {
	case BW_JSON_NULL:
		bw_strbuf_adds(&w->b, "null");
		return true;
	case BW_JSON_BOOL:
		bw_strbuf_adds(&w->b, v->b ? "true" : "false");
		return true;
	case BW_JSON_NUM:
		bw_strbuf_add(&w->b, v->str, v->len);
		return true;
	case BW_JSON_STR:
		write_str(&w->b, v->str, v->len);
		return true;
	case BW_JSON_ARR:
	case BW_JSON_OBJ:
		return write_items(w, v, level);
	}
	return false;
}

char *bw_json_dump(const struct bw_json *v, unsigned flags, size_t *len)
{
	struct writer w = { .pretty = (flags & BW_JSON_PRETTY) != 0 };
	size_t n;
	char *s;

	if (v == NULL || !write_value(&w, v, 0)) {
		free(w.b.d);
		return NULL;
	}
	n = w.b.len;
	s = bw_strbuf_take(&w.b);
	if (s != NULL && len != NULL)
		*len = n;
	return s;
}
