/*  bulwark — BIND's $GENERATE: range parsing and template expansion.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/err.h"
#include "generate.h"

#define GEN_NUM_MAX 0x7fffffffu

/* One ${offset,width,base} modifier. */
struct gen_mod {
	int64_t offset;
	unsigned width;
	char base;
};

/* Reads decimal digits at *p (at least one), up to GEN_NUM_MAX. */
static bool read_num(const char **p, const char *end, uint32_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	while (s < end && *s >= '0' && *s <= '9') {
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > GEN_NUM_MAX)
			return false;
		s++;
	}
	if (s == *p)
		return false;
	*v = (uint32_t)n;
	*p = s;
	return true;
}

int bw_gen_range_parse(const char *s, size_t len, struct bw_gen_range *r,
                       char *err, size_t errlen)
{
	const char *p = s, *end = s + len;
	int show = (int)(len > 64 ? 64 : len);

	r->step = 1;
	if (!read_num(&p, end, &r->start) || p == end || *p++ != '-' ||
	    !read_num(&p, end, &r->stop) ||
	    (p < end && (*p++ != '/' || !read_num(&p, end, &r->step))) ||
	    p != end) {
		snprintf(err, errlen, "bad $GENERATE range '%.*s'", show, s);
		return BW_ESYNTAX;
	}
	if (r->start > r->stop || r->step == 0) {
		snprintf(err, errlen, "bad $GENERATE range '%.*s': %s", show, s,
		         r->step == 0 ? "step 0" : "start after stop");
		return BW_ERANGE;
	}
	if (bw_gen_range_count(r) > BW_GEN_MAX_ITER) {
		snprintf(err, errlen, "$GENERATE range '%.*s' gives more than "
		         "%u records", show, s, BW_GEN_MAX_ITER);
		return BW_ERANGE;
	}
	return 0;
}

uint32_t bw_gen_range_count(const struct bw_gen_range *r)
{
	return (r->stop - r->start) / r->step + 1;
}

/* Makes room for \a n more octets. */
static int buf_reserve(struct bw_gen_buf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL)
		return BW_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int buf_put(struct bw_gen_buf *b, const char *s, size_t n)
{
	int ret = buf_reserve(b, n);
	if (ret == 0 && n > 0) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
	return ret;
}

void bw_gen_buf_free(struct bw_gen_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Hex digits from the lowest nibble up, dot-separated, padded to \a width
 * characters (dots included) with "0" labels. */
static int put_nibbles(struct bw_gen_buf *b, uint64_t v, unsigned width,
                       bool upper)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned n = 0;
	int ret = 0;

	for (;;) {
		ret |= buf_put(b, &hex[v & 0xf], 1);
		n++;
		v >>= 4;
		if (v == 0 && n >= width)
			break;
		ret |= buf_put(b, ".", 1);
		n++;
		if (v == 0 && n >= width)
			break;
	}
	return ret ? BW_ENOMEM : 0;
}

static int put_value(struct bw_gen_buf *b, uint64_t v, const struct gen_mod *m)
{
	char num[BW_GEN_MAX_WIDTH + 32];
	int n;

	switch (m->base) {
	case 'n':
	case 'N':
		return put_nibbles(b, v, m->width, m->base == 'N');
	case 'o':
		n = snprintf(num, sizeof(num), "%0*llo", (int)m->width,
		             (unsigned long long)v);
		break;
	case 'x':
		n = snprintf(num, sizeof(num), "%0*llx", (int)m->width,
		             (unsigned long long)v);
		break;
	case 'X':
		n = snprintf(num, sizeof(num), "%0*llX", (int)m->width,
		             (unsigned long long)v);
		break;
	default:
		n = snprintf(num, sizeof(num), "%0*llu", (int)m->width,
		             (unsigned long long)v);
		break;
	}
	return buf_put(b, num, (size_t)n);
}

/* Parses the inside of "${...}"; \a p is just after the "{". */
static bool read_mod(const char **p, const char *end, struct gen_mod *m)
{
	const char *s = *p;
	bool neg = false;
	uint32_t v;

	m->width = 0;
	m->base = 'd';
	if (s < end && (*s == '-' || *s == '+'))
		neg = (*s++ == '-');
	if (!read_num(&s, end, &v))
		return false;
	m->offset = neg ? -(int64_t)v : (int64_t)v;
	if (s < end && *s == ',') {
		s++;
		if (!read_num(&s, end, &v) || v > BW_GEN_MAX_WIDTH)
			return false;
		m->width = v;
		if (s < end && *s == ',') {
			if (++s == end || strchr("doxXnN", *s) == NULL)
				return false;
			m->base = *s++;
		}
	}
	if (s == end || *s != '}')
		return false;
	*p = s + 1;
	return true;
}

static int bad_mod(const char *s, const char *end, char *err, size_t errlen)
{
	const char *close = memchr(s, '}', (size_t)(end - s));
	size_t n = close ? (size_t)(close - s) + 1 : (size_t)(end - s);

	snprintf(err, errlen, "bad $GENERATE modifier '%.*s'",
	         (int)(n > 64 ? 64 : n), s);
	return BW_ESYNTAX;
}

/* Expands one "$" or "${...}" at \a *p (which points at the "$"). */
static int expand_dollar(struct bw_gen_buf *out, const char **p,
                         const char *end, uint32_t value, char *err,
                         size_t errlen)
{
	const char *s = *p + 1;
	struct gen_mod m = { .offset = 0, .width = 0, .base = 'd' };

	if (s < end && *s == '{') {
		s++;
		if (!read_mod(&s, end, &m))
			return bad_mod(*p, end, err, errlen);
	}
	int64_t v = (int64_t)value + m.offset;
	if (v < 0) {
		snprintf(err, errlen, "$GENERATE value %lld is negative",
		         (long long)v);
		return BW_ERANGE;
	}
	*p = s;
	return put_value(out, (uint64_t)v, &m);
}

int bw_gen_expand(struct bw_gen_buf *out, const char *tmpl, size_t len,
                  uint32_t value, char *err, size_t errlen)
{
	const char *p = tmpl, *end = tmpl + len;
	int ret = 0;

	while (p < end && ret == 0) {
		const char *lit = p;
		while (p < end && *p != '$') {
			if (*p == '\\' && p + 1 < end)
				p++;
			p++;
		}
		ret = buf_put(out, lit, (size_t)(p - lit));
		if (ret == 0 && p < end)
			ret = expand_dollar(out, &p, end, value, err, errlen);
	}
	if (ret == BW_ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}
