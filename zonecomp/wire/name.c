/*  bulwark — domain names in wire and presentation form.
 */
#include "bulwark/wire.h"
#include "wire_impl.h"

int bw_name_check(const uint8_t *p, size_t max)
{
	size_t pos = 0;

	for (;;) {
		if (pos >= max)
			return BW_ETRUNC;
		uint8_t l = p[pos];
		if (l & 0xc0)
			return (l & 0xc0) == 0xc0 ? BW_EMALF : BW_ELABEL;
		if (l > BW_LABEL_MAXLEN)
			return BW_ELABEL;
		if (pos + 1 + l > BW_NAME_MAXLEN)
			return BW_ENAMELEN;
		pos += 1 + (size_t)l;
		if (l == 0)
			return (int)pos;
	}
}

size_t bw_name_len(const uint8_t *name)
{
	const uint8_t *p = name;

	while (*p != 0)
		p += 1 + *p;
	return (size_t)(p - name) + 1;
}

int bw_name_labels(const uint8_t *name)
{
	int n = 0;

	for (; *name != 0; name += 1 + *name)
		n++;
	return n;
}

void bw_name_lower(uint8_t *name)
{
	while (*name != 0) {
		uint8_t l = *name++;
		for (uint8_t i = 0; i < l; i++)
			name[i] = bw_lower(name[i]);
		name += l;
	}
}

bool bw_name_equal(const uint8_t *a, const uint8_t *b)
{
	size_t len = bw_name_len(a);

	for (size_t i = 0; i < len; i++) {
		if (bw_lower(a[i]) != bw_lower(b[i]))
			return false;
	}
	return true;
}

bool bw_name_is_sub(const uint8_t *name, const uint8_t *parent)
{
	int skip = bw_name_labels(name) - bw_name_labels(parent);

	if (skip < 0)
		return false;
	while (skip-- > 0)
		name += 1 + *name;
	return bw_name_equal(name, parent);
}

/* Offsets of the labels of a name; returns their number. */
static int name_label_offsets(const uint8_t *name,
                              uint8_t off[BW_NAME_MAXLABELS])
{
	int n = 0;

	for (size_t pos = 0; name[pos] != 0; pos += 1 + name[pos])
		off[n++] = (uint8_t)pos;
	return n;
}

static int label_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t la = *a++, lb = *b++;
	uint8_t n = la < lb ? la : lb;

	for (uint8_t i = 0; i < n; i++) {
		int d = bw_lower(a[i]) - bw_lower(b[i]);
		if (d != 0)
			return d;
	}
	return (int)la - (int)lb;
}

int bw_name_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t offa[BW_NAME_MAXLABELS], offb[BW_NAME_MAXLABELS];
	int na = name_label_offsets(a, offa);
	int nb = name_label_offsets(b, offb);

	while (na > 0 && nb > 0) {
		int d = label_cmp(a + offa[--na], b + offb[--nb]);
		if (d != 0)
			return d;
	}
	return na - nb;
}

/* Appends the origin to a relative name that ends at \a w. */
static int name_add_origin(uint8_t *out, size_t w, const uint8_t *origin)
{
	if (origin == NULL)
		return BW_ESYNTAX;
	size_t olen = bw_name_len(origin);
	if (w + olen > BW_NAME_MAXLEN)
		return BW_ENAMELEN;
	memcpy(out + w, origin, olen);
	return (int)(w + olen);
}

int bw_name_from_text(uint8_t *out, const char *txt, size_t len,
                      const uint8_t *origin)
{
	size_t o = 0, w = 1, i = 0;

	if (len == 1 && txt[0] == '@') {
		return origin ? name_add_origin(out, 0, origin) : BW_ESYNTAX;
	}
	if (len == 1 && txt[0] == '.') {
		out[0] = 0;
		return 1;
	}
	if (len == 0)
		return BW_ESYNTAX;
	while (i < len) {
		int c = bw_text_octet(txt, len, &i);
		if (c < 0)
			return BW_ESYNTAX;
		if (c == '.') {
			if (w - o == 1)
				return BW_ESYNTAX;     /* empty label */
			out[o] = (uint8_t)(w - o - 1);
			o = w++;
			continue;
		}
		if (w - o - 1 == BW_LABEL_MAXLEN)
			return BW_ELABEL;
		if (w >= BW_NAME_MAXLEN - 1)
			return BW_ENAMELEN;
		out[w++] = (uint8_t)c;
	}
	if (w - o == 1) {                      /* ended with a dot */
		out[o] = 0;
		return (int)w;
	}
	out[o] = (uint8_t)(w - o - 1);
	return name_add_origin(out, w, origin);
}

static bool name_char_special(uint8_t c)
{
	switch (c) {
	case '.': case '\\': case '"': case '(': case ')': case ';':
	case '@': case '$': case ' ':
		return true;
	default:
		return false;
	}
}

/* Writes one octet as presentation text; returns the chars written. */
static size_t name_put_octet(char *out, uint8_t c)
{
	if (c < 0x20 || c > 0x7e) {
		out[0] = '\\';
		out[1] = (char)('0' + c / 100);
		out[2] = (char)('0' + c / 10 % 10);
		out[3] = (char)('0' + c % 10);
		return 4;
	}
	if (name_char_special(c)) {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	out[0] = (char)c;
	return 1;
}

int bw_name_to_text(char *out, size_t cap, const uint8_t *name)
{
	char tmp[4];
	size_t w = 0;

	if (*name == 0) {
		if (cap < 2)
			return BW_ENOSPC;
		memcpy(out, ".", 2);
		return 1;
	}
	for (; *name != 0; name += 1 + *name) {
		for (uint8_t i = 1; i <= *name; i++) {
			size_t n = name_put_octet(tmp, name[i]);
			if (w + n + 1 >= cap)
				return BW_ENOSPC;
			memcpy(out + w, tmp, n);
			w += n;
		}
		if (w + 2 > cap)
			return BW_ENOSPC;
		out[w++] = '.';
	}
	out[w] = '\0';
	return (int)w;
}

int bw_name_unpack(const uint8_t *msg, size_t len, size_t pos, uint8_t *out,
                   size_t *next)
{
	size_t seg = pos, w = 0;
	bool jumped = false;

	for (;;) {
		if (pos >= len)
			return BW_ETRUNC;
		uint8_t l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return BW_ETRUNC;
			size_t target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			if (target >= seg)
				return BW_ELOOP;
			if (!jumped && next)
				*next = pos + 2;
			jumped = true;
			pos = seg = target;
			continue;
		}
		if (l & 0xc0)
			return BW_EMALF;
		if (w + 1 + l > BW_NAME_MAXLEN)
			return BW_ENAMELEN;
		if (pos + 1 + l > len)
			return BW_ETRUNC;
		if (out)
			memcpy(out + w, msg + pos, 1 + (size_t)l);
		w += 1 + (size_t)l;
		pos += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	if (!jumped && next)
		*next = pos;
	return (int)w;
}
