/*  bulwark — a growing text buffer (strbuf.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* Room for \a n more octets and the NUL; false when the buffer failed. */
static bool reserve(struct bw_strbuf *b, size_t n)
{
	size_t cap = b->cap != 0 ? b->cap : 64;
	char *d;

	if (b->failed)
		return false;
	if (n > SIZE_MAX / 4 - b->len) {
		b->failed = true;
		return false;
	}
	while (cap - b->len < n + 1)
		cap *= 2;
	if (cap == b->cap)
		return true;
	d = realloc(b->d, cap);
	if (d == NULL) {
		b->failed = true;
		return false;
	}
	b->d = d;
	b->cap = cap;
	return true;
}

void bw_strbuf_add(struct bw_strbuf *b, const void *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->d + b->len, s, n);
	b->len += n;
	b->d[b->len] = '\0';
}

void bw_strbuf_adds(struct bw_strbuf *b, const char *s)
{
	bw_strbuf_add(b, s, strlen(s));
}

void bw_strbuf_addc(struct bw_strbuf *b, char c)
{
	bw_strbuf_add(b, &c, 1);
}

void bw_strbuf_printf(struct bw_strbuf *b, const char *fmt, ...)
{
	size_t room = b->cap - b->len;
	va_list ap, again;
	int n;

	if (b->failed)
		return;
	/* Into the room there is; when it is too small, once more after
	 * growing. */
	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(room > 0 ? b->d + b->len : NULL, room, fmt, ap);
	if (n < 0)
		b->failed = true;
	else if ((size_t)n >= room && reserve(b, (size_t)n))
		vsnprintf(b->d + b->len, b->cap - b->len, fmt, again);
	va_end(again);
	va_end(ap);
	if (!b->failed)
		b->len += (size_t)n;
	else if (b->d != NULL)
		b->d[b->len] = '\0';
}

void bw_strbuf_trunc(struct bw_strbuf *b, size_t n)
{
	if (b->d != NULL && n <= b->len) {
		b->len = n;
		b->d[n] = '\0';
	}
}

char *bw_strbuf_take(struct bw_strbuf *b)
{
	char *d;

	bw_strbuf_add(b, "", 0);
	d = b->failed ? NULL : b->d;
	if (d == NULL)
		free(b->d);
	memset(b, 0, sizeof(*b));
	return d;
}
