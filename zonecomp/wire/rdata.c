/*  bulwark — rdata codecs: presentation form <-> wire form.
 *
 *  Every known type is described by a list of fields; one walker over
 *  that list serves parsing, checking, printing and finding names.
 */
#include "bulwark/wire.h"
#include "wire_impl.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

/* ---- Field descriptions. ---- */

enum fkind {
	F_END = 0,
	F_U8, F_U16, F_U32,
	F_TTL,          /* 32-bit, TTL units allowed */
	F_TIME,         /* RRSIG time: YYYYMMDDHHmmSS or seconds */
	F_TYPE,         /* 16-bit type mnemonic */
	F_ALG,          /* 8-bit DNSSEC algorithm, number or mnemonic */
	F_A, F_AAAA,
	F_NAME_C,       /* name: compressible, lowercased in canonical form */
	F_NAME_L,       /* name: not compressed, lowercased */
	F_NAME_X,       /* name: not compressed, kept as is */
	F_STR,          /* one <character-string> */
	F_STRS,         /* one or more <character-string>s, to the end */
	F_REST,         /* raw octets to the end, written as one string */
	F_TAG,          /* CAA tag: length octet, letters and digits */
	F_HEX,          /* hex to the end, split over tokens */
	F_B64,          /* base64 to the end, split over tokens */
	F_SALT,         /* length octet + hex, "-" when empty */
	F_HASH,         /* length octet + base32hex */
	F_BITMAP,       /* NSEC type bitmap, to the end */
	F_SVC,          /* SVCB SvcParams, to the end */
};

struct field {
	uint8_t kind;
	const char *what;
};

#define RR_MAXFIELDS 10

struct rrfmt {
	uint16_t type;
	struct field f[RR_MAXFIELDS];
};

static const struct rrfmt rr_fmts[] = {
	{ BW_TYPE_A, { { F_A, "address" } } },
	{ BW_TYPE_NS, { { F_NAME_C, "nameserver name" } } },
	{ 3, { { F_NAME_C, "name" } } },                       /* MD */
	{ 4, { { F_NAME_C, "name" } } },                       /* MF */
	{ BW_TYPE_CNAME, { { F_NAME_C, "target name" } } },
	{ BW_TYPE_SOA, { { F_NAME_C, "primary server name" },
	                 { F_NAME_C, "mailbox name" }, { F_U32, "serial" },
	                 { F_TTL, "refresh" }, { F_TTL, "retry" },
	                 { F_TTL, "expire" }, { F_TTL, "minimum" } } },
	{ 7, { { F_NAME_C, "name" } } },                       /* MB */
	{ 8, { { F_NAME_C, "name" } } },                       /* MG */
	{ 9, { { F_NAME_C, "name" } } },                       /* MR */
	{ BW_TYPE_PTR, { { F_NAME_C, "target name" } } },
	{ BW_TYPE_HINFO, { { F_STR, "CPU" }, { F_STR, "OS" } } },
	{ 14, { { F_NAME_C, "responsible mailbox" },           /* MINFO */
	        { F_NAME_C, "error mailbox" } } },
	{ BW_TYPE_MX, { { F_U16, "preference" },
	                { F_NAME_C, "exchange name" } } },
	{ BW_TYPE_TXT, { { F_STRS, "text" } } },
	{ 17, { { F_NAME_L, "mailbox" }, { F_NAME_L, "TXT name" } } }, /* RP */
	{ 18, { { F_U16, "subtype" }, { F_NAME_L, "hostname" } } },   /* AFSDB */
	{ 19, { { F_STR, "PSDN address" } } },                 /* X25 */
	{ 21, { { F_U16, "preference" },                       /* RT */
	        { F_NAME_L, "intermediate host" } } },
	{ 26, { { F_U16, "preference" }, { F_NAME_L, "MAP822" }, /* PX */
	        { F_NAME_L, "MAPX400" } } },
	{ BW_TYPE_AAAA, { { F_AAAA, "address" } } },
	{ BW_TYPE_SRV, { { F_U16, "priority" }, { F_U16, "weight" },
	                 { F_U16, "port" }, { F_NAME_L, "target name" } } },
	{ BW_TYPE_NAPTR, { { F_U16, "order" }, { F_U16, "preference" },
	                   { F_STR, "flags" }, { F_STR, "services" },
	                   { F_STR, "regexp" },
	                   { F_NAME_L, "replacement name" } } },
	{ 36, { { F_U16, "preference" }, { F_NAME_L, "exchanger" } } }, /* KX */
	{ BW_TYPE_DNAME, { { F_NAME_L, "target name" } } },
	{ BW_TYPE_DS, { { F_U16, "key tag" }, { F_ALG, "algorithm" },
	                { F_U8, "digest type" }, { F_HEX, "digest" } } },
	{ BW_TYPE_SSHFP, { { F_U8, "algorithm" }, { F_U8, "fingerprint type" },
	                   { F_HEX, "fingerprint" } } },
	{ BW_TYPE_RRSIG, { { F_TYPE, "type covered" }, { F_ALG, "algorithm" },
	                   { F_U8, "labels" }, { F_TTL, "original TTL" },
	                   { F_TIME, "expiration" }, { F_TIME, "inception" },
	                   { F_U16, "key tag" }, { F_NAME_L, "signer name" },
	                   { F_B64, "signature" } } },
	{ BW_TYPE_NSEC, { { F_NAME_X, "next name" },
	                  { F_BITMAP, "type bitmap" } } },
	{ BW_TYPE_DNSKEY, { { F_U16, "flags" }, { F_U8, "protocol" },
	                    { F_ALG, "algorithm" }, { F_B64, "public key" } } },
	{ 49, { { F_B64, "data" } } },                         /* DHCID */
	{ BW_TYPE_NSEC3, { { F_U8, "hash algorithm" }, { F_U8, "flags" },
	                   { F_U16, "iterations" }, { F_SALT, "salt" },
	                   { F_HASH, "next hashed owner" },
	                   { F_BITMAP, "type bitmap" } } },
	{ BW_TYPE_NSEC3PARAM, { { F_U8, "hash algorithm" }, { F_U8, "flags" },
	                        { F_U16, "iterations" }, { F_SALT, "salt" } } },
	{ BW_TYPE_TLSA, { { F_U8, "usage" }, { F_U8, "selector" },
	                  { F_U8, "matching type" },
	                  { F_HEX, "certificate data" } } },
	{ 53, { { F_U8, "usage" }, { F_U8, "selector" },       /* SMIMEA */
	        { F_U8, "matching type" }, { F_HEX, "certificate data" } } },
	{ BW_TYPE_CDS, { { F_U16, "key tag" }, { F_ALG, "algorithm" },
	                 { F_U8, "digest type" }, { F_HEX, "digest" } } },
	{ BW_TYPE_CDNSKEY, { { F_U16, "flags" }, { F_U8, "protocol" },
	                     { F_ALG, "algorithm" },
	                     { F_B64, "public key" } } },
	{ 61, { { F_B64, "public key" } } },                   /* OPENPGPKEY */
	{ 62, { { F_U32, "serial" }, { F_U16, "flags" },       /* CSYNC */
	        { F_BITMAP, "type bitmap" } } },
	{ BW_TYPE_ZONEMD, { { F_U32, "serial" }, { F_U8, "scheme" },
	                    { F_U8, "hash algorithm" }, { F_HEX, "digest" } } },
	{ BW_TYPE_SVCB, { { F_U16, "priority" }, { F_NAME_X, "target name" },
	                  { F_SVC, "parameters" } } },
	{ BW_TYPE_HTTPS, { { F_U16, "priority" }, { F_NAME_X, "target name" },
	                   { F_SVC, "parameters" } } },
	{ 99, { { F_STRS, "text" } } },                        /* SPF */
	{ 105, { { F_U16, "preference" }, { F_A, "locator" } } }, /* L32 */
	{ 107, { { F_U16, "preference" }, { F_NAME_X, "FQDN" } } }, /* LP */
	{ 256, { { F_U16, "priority" }, { F_U16, "weight" },   /* URI */
	         { F_REST, "target" } } },
	{ BW_TYPE_CAA, { { F_U8, "flags" }, { F_TAG, "tag" },
	                 { F_REST, "value" } } },
};

static const struct rrfmt *rr_fmt(uint16_t type)
{
	for (size_t i = 0; i < sizeof(rr_fmts) / sizeof(rr_fmts[0]); i++) {
		if (rr_fmts[i].type == type)
			return &rr_fmts[i];
	}
	return NULL;
}

/* Types that never appear in zone data. */
static bool rr_is_meta(uint16_t type)
{
	return type == 0 || type == BW_TYPE_OPT ||
	       (type >= 128 && type <= 255);
}

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b32_chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
static const char hex_chars[] = "0123456789ABCDEF";

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static int b64_value(char c)
{
	const char *p = (c != '\0') ? strchr(b64_chars, c) : NULL;

	return p ? (int)(p - b64_chars) : -1;
}

static int b32_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return (c >= 'a' && c <= 'v') ? c - 'a' + 10 : -1;
}

/* ---- Base32hex (RFC 4648 §7, no padding) and type bitmaps. ---- */

static void b32_encode(const uint8_t *in, size_t len, char *out,
                       const char alphabet[32])
{
	uint32_t acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < len; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			*out++ = alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		*out++ = alphabet[(acc << (5 - bits)) & 31];
	*out = '\0';
}

int bw_base32hex_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	static const char lower[] = "0123456789abcdefghijklmnopqrstuv";

	if (len > (SIZE_MAX - 5) / 8 || cap <= BW_BASE32HEX_LEN(len))
		return BW_ENOSPC;
	b32_encode(in, len, out, lower);
	return (int)BW_BASE32HEX_LEN(len);
}

int bw_base32hex_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b32_value(in[i]);
		if (v < 0)
			return BW_ESYNTAX;
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits < 8)
			continue;
		bits -= 8;
		if (n == cap)
			return BW_ENOSPC;
		out[n++] = (uint8_t)(acc >> bits);
	}
	/* Leftover bits must be padding: fewer than a digit, all zero. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0 || n > INT_MAX)
		return BW_ESYNTAX;
	return (int)n;
}

void bw_bitmap_init(struct bw_bitmap *bm)
{
	memset(bm->used, 0, sizeof(bm->used));
	bm->top = 0;
}

void bw_bitmap_add(struct bw_bitmap *bm, uint16_t type)
{
	uint8_t w = (uint8_t)(type >> 8), o = (uint8_t)((type & 0xff) >> 3);

	if (bm->used[w] == 0)
		memset(bm->bits[w], 0, sizeof(bm->bits[w]));
	if (bm->used[w] < o + 1)
		bm->used[w] = (uint8_t)(o + 1);
	bm->bits[w][o] |= (uint8_t)(0x80 >> (type & 7));
	if (bm->top <= w)
		bm->top = w + 1u;
}

size_t bw_bitmap_len(const struct bw_bitmap *bm)
{
	size_t len = 0;

	for (unsigned w = 0; w < bm->top; w++)
		len += bm->used[w] ? 2u + bm->used[w] : 0;
	return len;
}

int bw_bitmap_write(const struct bw_bitmap *bm, uint8_t *out, size_t cap)
{
	size_t len = 0;

	if (bw_bitmap_len(bm) > cap)
		return BW_ENOSPC;
	for (unsigned w = 0; w < bm->top; w++) {
		if (bm->used[w] == 0)
			continue;
		out[len] = (uint8_t)w;
		out[len + 1] = bm->used[w];
		memcpy(out + len + 2, bm->bits[w], bm->used[w]);
		len += 2u + bm->used[w];
	}
	return (int)len;
}

/* Reads a decimal number no larger than \a max. */
static bool parse_uint(const char *s, size_t len, uint32_t max, uint32_t *v)
{
	uint64_t x = 0;

	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > max)
		return false;
	*v = (uint32_t)x;
	return true;
}

/* ---- DNSSEC algorithm mnemonics. ---- */

static const struct {
	uint8_t num;
	const char *name;
} dnssec_algs[] = {
	{ 1, "RSAMD5" }, { 2, "DH" }, { 3, "DSA" }, { 5, "RSASHA1" },
	{ 6, "DSA-NSEC3-SHA1" }, { 7, "RSASHA1-NSEC3-SHA1" },
	{ 8, "RSASHA256" }, { 10, "RSASHA512" }, { 12, "ECC-GOST" },
	{ 13, "ECDSAP256SHA256" }, { 14, "ECDSAP384SHA384" },
	{ 15, "ED25519" }, { 16, "ED448" }, { 252, "INDIRECT" },
	{ 253, "PRIVATEDNS" }, { 254, "PRIVATEOID" },
};

static bool alg_from_text(const char *s, size_t len, uint32_t *v)
{
	if (parse_uint(s, len, 255, v))
		return true;
	for (size_t i = 0; i < sizeof(dnssec_algs) / sizeof(dnssec_algs[0]); i++) {
		if (strlen(dnssec_algs[i].name) == len &&
		    strncasecmp(dnssec_algs[i].name, s, len) == 0) {
			*v = dnssec_algs[i].num;
			return true;
		}
	}
	return false;
}

/* ---- RRSIG times (RFC 4034 §3.2). ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, unsigned *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(yoe + era * 400 + (*m <= 2));
}

static unsigned digits_value(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

static bool time_from_text(const char *s, size_t len, uint32_t *t)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	                                  31, 30, 31 };

	if (len != 14)
		return parse_uint(s, len, UINT32_MAX, t);
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	unsigned y = digits_value(s, 4), mo = digits_value(s + 4, 2);
	unsigned d = digits_value(s + 6, 2), h = digits_value(s + 8, 2);
	unsigned mi = digits_value(s + 10, 2), sec = digits_value(s + 12, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 59)
		return false;
	if (mo == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)))
		return false;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	*t = (uint32_t)secs;   /* serial arithmetic: modulo 2^32 */
	return true;
}

/* ======== Presentation form to wire form. ======== */

struct rd_text {
	const struct bw_token *tok;
	size_t ntok, next;
	const uint8_t *origin;
	uint8_t *out;
	size_t len, cap;
	bool cap_is_max;      /* cap was cut to BW_RDATA_MAXLEN */
	char *err;
	size_t errlen;
	uint16_t type;
};

/* Arguments for printing a token with "%.*s", shortened. */
#define TOKF(k) (int)((k)->len > 80 ? 80 : (k)->len), (k)->s

__attribute__((format(printf, 3, 4)))
static int rd_fail(struct rd_text *t, int code, const char *fmt, ...)
{
	va_list ap;
	char tname[16];

	if (t->err == NULL || t->errlen == 0)
		return code;
	bw_type_to_text(t->type, tname, sizeof(tname));
	int n = snprintf(t->err, t->errlen, "%s: ", tname);
	if (n >= 0 && (size_t)n < t->errlen) {
		va_start(ap, fmt);
		vsnprintf(t->err + n, t->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int rd_reserve(struct rd_text *t, size_t n)
{
	if (n <= t->cap - t->len)
		return 0;
	if (t->cap_is_max)
		return rd_fail(t, BW_ESYNTAX, "rdata longer than %u octets",
		               BW_RDATA_MAXLEN);
	return rd_fail(t, BW_ENOSPC, "rdata does not fit in the buffer");
}

static int rd_put(struct rd_text *t, const void *p, size_t n)
{
	int rc = rd_reserve(t, n);

	if (rc == 0) {
		memcpy(t->out + t->len, p, n);
		t->len += n;
	}
	return rc;
}

static int rd_put8(struct rd_text *t, uint8_t v)
{
	return rd_put(t, &v, 1);
}

static int rd_put_uint(struct rd_text *t, uint32_t v, size_t bytes)
{
	uint8_t b[4];

	bw_put32(b, v);
	return rd_put(t, b + 4 - bytes, bytes);
}

static const struct bw_token *rd_tok(struct rd_text *t, const struct field *f,
                                     int *rc)
{
	if (t->next < t->ntok)
		return &t->tok[t->next++];
	*rc = rd_fail(t, BW_ESYNTAX, "missing %s", f->what);
	return NULL;
}

static int txt_number(struct rd_text *t, const struct field *f)
{
	static const struct { uint32_t max; uint8_t bytes; } sizes[] = {
		[F_U8] = { 255, 1 }, [F_U16] = { 65535, 2 },
		[F_U32] = { UINT32_MAX, 4 }, [F_TTL] = { UINT32_MAX, 4 },
		[F_TIME] = { UINT32_MAX, 4 }, [F_ALG] = { 255, 1 },
	};
	int rc = 0;
	const struct bw_token *k = rd_tok(t, f, &rc);
	uint32_t v;
	bool ok;

	if (k == NULL)
		return rc;
	if (f->kind == F_TTL)
		ok = parse_uint(k->s, k->len, UINT32_MAX, &v) ||
		     bw_ttl_from_text(k->s, k->len, &v) == 0;
	else if (f->kind == F_TIME)
		ok = time_from_text(k->s, k->len, &v);
	else if (f->kind == F_ALG)
		ok = alg_from_text(k->s, k->len, &v);
	else
		ok = parse_uint(k->s, k->len, sizes[f->kind].max, &v);
	if (!ok)
		return rd_fail(t, BW_ESYNTAX, "bad %s '%.*s'", f->what, TOKF(k));
	return rd_put_uint(t, v, sizes[f->kind].bytes);
}

static int txt_type(struct rd_text *t, const struct field *f)
{
	int rc = 0;
	const struct bw_token *k = rd_tok(t, f, &rc);
	uint16_t type;

	if (k == NULL)
		return rc;
	if (bw_type_from_text(k->s, k->len, &type) != 0)
		return rd_fail(t, BW_ESYNTAX, "bad %s '%.*s'", f->what, TOKF(k));
	return rd_put_uint(t, type, 2);
}

/* Parses an address into \a out (4 or 16 octets). */
static bool addr_from_text(int af, const char *s, size_t len, uint8_t *out)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, out) == 1;
}

static int txt_addr(struct rd_text *t, const struct field *f)
{
	int rc = 0;
	const struct bw_token *k = rd_tok(t, f, &rc);
	bool v4 = f->kind == F_A;
	uint8_t a[16];

	if (k == NULL)
		return rc;
	if (!addr_from_text(v4 ? AF_INET : AF_INET6, k->s, k->len, a))
		return rd_fail(t, BW_ESYNTAX, "bad %s address '%.*s'",
		               v4 ? "IPv4" : "IPv6", TOKF(k));
	return rd_put(t, a, v4 ? 4 : 16);
}

static int txt_name(struct rd_text *t, const struct field *f)
{
	int rc = 0;
	const struct bw_token *k = rd_tok(t, f, &rc);
	uint8_t name[BW_NAME_MAXLEN];

	if (k == NULL)
		return rc;
	int n = bw_name_from_text(name, k->s, k->len, t->origin);
	if (n < 0 && n == BW_ESYNTAX && t->origin == NULL)
		return rd_fail(t, n, "bad %s '%.*s' (relative names need an "
		               "origin)", f->what, TOKF(k));
	if (n < 0)
		return rd_fail(t, n, "bad %s '%.*s': %s", f->what, TOKF(k),
		               bw_strerror(n));
	return rd_put(t, name, (size_t)n);
}

/* Writes the unescaped octets of a token, with a length octet when
 * \a maxlen is not 0. */
static int txt_octets(struct rd_text *t, const struct bw_token *k,
                      size_t maxlen)
{
	size_t start = t->len, i = 0;
	int rc = maxlen ? rd_put8(t, 0) : 0;

	while (rc == 0 && i < k->len) {
		int c = bw_text_octet(k->s, k->len, &i);
		if (c < 0)
			return rd_fail(t, BW_ESYNTAX, "bad escape in '%.*s'",
			               TOKF(k));
		rc = rd_put8(t, (uint8_t)c);
	}
	if (rc != 0 || maxlen == 0)
		return rc;
	if (t->len - start - 1 > maxlen)
		return rd_fail(t, BW_ESYNTAX, "string longer than 255 octets");
	t->out[start] = (uint8_t)(t->len - start - 1);
	return 0;
}

static int txt_string(struct rd_text *t, const struct field *f)
{
	int rc = 0;
	const struct bw_token *k = rd_tok(t, f, &rc);

	return k ? txt_octets(t, k, 255) : rc;
}

static int txt_strings(struct rd_text *t, const struct field *f)
{
	int rc = txt_string(t, f);

	while (rc == 0 && t->next < t->ntok)
		rc = txt_string(t, f);
	return rc;
}

static int txt_rest(struct rd_text *t, const struct field *f)
{
	int rc = 0;
	const struct bw_token *k = rd_tok(t, f, &rc);

	return k ? txt_octets(t, k, 0) : rc;
}

static int txt_tag(struct rd_text *t, const struct field *f)
{
	size_t start = t->len;
	int rc = txt_string(t, f);

	if (rc != 0)
		return rc;
	const struct bw_token *k = &t->tok[t->next - 1];
	if (t->out[start] == 0)
		return rd_fail(t, BW_ESYNTAX, "empty %s", f->what);
	for (size_t i = start + 1; i < t->len; i++) {
		uint8_t c = t->out[i];
		if (!((c >= '0' && c <= '9') || (bw_lower(c) >= 'a' &&
		                                 bw_lower(c) <= 'z')))
			return rd_fail(t, BW_ESYNTAX, "bad %s '%.*s'", f->what,
			               TOKF(k));
	}
	return 0;
}

/* Hex digits of one token; *nib holds a pending high nibble or -1. */
static int txt_hex_token(struct rd_text *t, const struct bw_token *k,
                         int *nib)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < k->len; i++) {
		int v = hex_value(k->s[i]);
		if (v < 0)
			return rd_fail(t, BW_ESYNTAX, "bad hex '%.*s'", TOKF(k));
		if (*nib < 0) {
			*nib = v;
			continue;
		}
		rc = rd_put8(t, (uint8_t)(*nib << 4 | v));
		*nib = -1;
	}
	return rc;
}

/* Hex over all remaining tokens. */
static int txt_hex_tokens(struct rd_text *t)
{
	int nib = -1, rc = 0;

	while (rc == 0 && t->next < t->ntok)
		rc = txt_hex_token(t, &t->tok[t->next++], &nib);
	if (rc == 0 && nib >= 0)
		return rd_fail(t, BW_ESYNTAX, "odd number of hex digits");
	return rc;
}

static int txt_hex(struct rd_text *t, const struct field *f)
{
	if (t->next >= t->ntok)
		return rd_fail(t, BW_ESYNTAX, "missing %s", f->what);
	return txt_hex_tokens(t);
}

struct b64_state {
	uint32_t acc;
	unsigned n, pad;
};

static int b64_feed(struct rd_text *t, struct b64_state *b, char c)
{
	if (c == '=') {
		b->pad++;
		return (b->n + b->pad > 4 || b->n < 2) ? -1 : 0;
	}
	int v = b64_value(c);
	if (v < 0 || b->pad > 0)
		return -1;
	b->acc = b->acc << 6 | (uint32_t)v;
	if (++b->n < 4)
		return 0;
	b->n = 0;
	uint8_t o[3] = { (uint8_t)(b->acc >> 16), (uint8_t)(b->acc >> 8),
	                 (uint8_t)b->acc };
	return rd_put(t, o, 3);
}

/* Flushes the last group: "xx==" or "xxx=". */
static int b64_finish(struct rd_text *t, struct b64_state *b)
{
	if (b->n == 0 && b->pad == 0)
		return 0;
	if (b->n + b->pad != 4)
		return -1;
	uint32_t acc = b->acc << (6 * b->pad);
	uint8_t o[2] = { (uint8_t)(acc >> 16), (uint8_t)(acc >> 8) };
	return rd_put(t, o, b->n - 1);
}

/* Base64 of a text span; \a k is only for messages. */
static int txt_b64_span(struct rd_text *t, struct b64_state *b,
                        const char *s, size_t len, const struct bw_token *k)
{
	for (size_t i = 0; i < len; i++) {
		int rc = b64_feed(t, b, s[i]);
		if (rc == -1)
			return rd_fail(t, BW_ESYNTAX, "bad base64 '%.*s'",
			               TOKF(k));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int txt_b64(struct rd_text *t, const struct field *f)
{
	struct b64_state b = { 0, 0, 0 };
	int rc = 0;

	if (t->next >= t->ntok)
		return rd_fail(t, BW_ESYNTAX, "missing %s", f->what);
	while (rc == 0 && t->next < t->ntok) {
		const struct bw_token *k = &t->tok[t->next++];
		rc = txt_b64_span(t, &b, k->s, k->len, k);
	}
	if (rc == 0 && (rc = b64_finish(t, &b)) == -1)
		return rd_fail(t, BW_ESYNTAX, "bad base64 %s: incomplete "
		               "group", f->what);
	return rc;
}

static int txt_salt(struct rd_text *t, const struct field *f)
{
	int rc = 0, nib = -1;
	const struct bw_token *k = rd_tok(t, f, &rc);
	size_t start = t->len;

	if (k == NULL)
		return rc;
	if ((rc = rd_put8(t, 0)) != 0)
		return rc;
	if (k->len == 1 && k->s[0] == '-')
		return 0;
	if ((rc = txt_hex_token(t, k, &nib)) != 0)
		return rc;
	if (nib >= 0 || t->len - start - 1 > 255)
		return rd_fail(t, BW_ESYNTAX, "bad %s '%.*s'", f->what, TOKF(k));
	t->out[start] = (uint8_t)(t->len - start - 1);
	return 0;
}

static int txt_hash(struct rd_text *t, const struct field *f)
{
	int rc = 0;
	const struct bw_token *k = rd_tok(t, f, &rc);

	if (k == NULL)
		return rc;
	if (k->len == 0 || k->len > 408)
		return rd_fail(t, BW_ESYNTAX, "bad %s", f->what);
	if ((rc = rd_reserve(t, 1 + k->len * 5 / 8)) != 0)
		return rc;
	int n = bw_base32hex_decode(k->s, k->len, t->out + t->len + 1,
	                            t->cap - t->len - 1);
	if (n < 0)
		return rd_fail(t, BW_ESYNTAX, "bad base32hex %s '%.*s'",
		               f->what, TOKF(k));
	t->out[t->len] = (uint8_t)n;
	t->len += 1 + (size_t)n;
	return 0;
}

static int bitmap_write(struct rd_text *t, const struct bw_bitmap *bm)
{
	int rc = rd_reserve(t, bw_bitmap_len(bm));

	if (rc == 0)
		t->len += (size_t)bw_bitmap_write(bm, t->out + t->len,
		                                  t->cap - t->len);
	return rc;
}

static int txt_bitmap(struct rd_text *t, const struct field *f)
{
	struct bw_bitmap bm;
	uint16_t type;

	bw_bitmap_init(&bm);
	for (; t->next < t->ntok; t->next++) {
		const struct bw_token *k = &t->tok[t->next];
		if (bw_type_from_text(k->s, k->len, &type) != 0)
			return rd_fail(t, BW_ESYNTAX, "bad type '%.*s' in %s",
			               TOKF(k), f->what);
		bw_bitmap_add(&bm, type);
	}
	return bitmap_write(t, &bm);
}

/* ---- SVCB / HTTPS parameters (RFC 9460 §2.1, appendix A). ---- */

enum svc_key {
	SVC_MANDATORY = 0, SVC_ALPN = 1, SVC_NO_DEFAULT_ALPN = 2,
	SVC_PORT = 3, SVC_IPV4HINT = 4, SVC_ECH = 5, SVC_IPV6HINT = 6,
	SVC_DOHPATH = 7, SVC_OHTTP = 8, SVC_INVALID = 65535,
};

static const char *const svc_names[] = {
	"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech",
	"ipv6hint", "dohpath", "ohttp",
};

#define SVC_NNAMES (sizeof(svc_names) / sizeof(svc_names[0]))
#define SVC_MAXPARAMS 64
#define SVC_MAXVALUE 8192

static int svc_key_from_text(const char *s, size_t len)
{
	uint32_t v;

	for (size_t i = 0; i < SVC_NNAMES; i++) {
		if (strlen(svc_names[i]) == len &&
		    strncasecmp(svc_names[i], s, len) == 0)
			return (int)i;
	}
	if (len > 3 && strncasecmp(s, "key", 3) == 0 &&
	    parse_uint(s + 3, len - 3, 65534, &v))
		return (int)v;
	return -1;
}

struct svc_item {
	uint16_t key;
	bool has_value;
	struct bw_token value;   /* escapes still in place */
};

/* Splits one "key[=value]" token, taking a quoted value from the next
 * token after a bare "key=". */
static int svc_item_read(struct rd_text *t, struct svc_item *it)
{
	const struct bw_token *k = &t->tok[t->next++];
	const char *eq = memchr(k->s, '=', k->len);
	size_t klen = eq ? (size_t)(eq - k->s) : k->len;
	int key = svc_key_from_text(k->s, klen);

	if (key < 0)
		return rd_fail(t, BW_ESYNTAX, "unknown SvcParam key '%.*s'",
		               (int)klen, k->s);
	it->key = (uint16_t)key;
	it->has_value = eq != NULL;
	it->value.s = eq ? eq + 1 : "";
	it->value.len = eq ? k->len - klen - 1 : 0;
	it->value.quoted = false;
	if (eq && it->value.len == 0 && t->next < t->ntok &&
	    t->tok[t->next].quoted)
		it->value = t->tok[t->next++];
	if (it->value.len >= 2 && it->value.s[0] == '"' &&
	    it->value.s[it->value.len - 1] == '"') {
		it->value.s++;
		it->value.len -= 2;
	}
	return 0;
}

/* Unescapes a value into \a buf (NUL-terminated); returns its length. */
static int svc_unescape(struct rd_text *t, const struct bw_token *v,
                        char *buf, size_t cap)
{
	size_t n = 0, i = 0;

	while (i < v->len) {
		int c = bw_text_octet(v->s, v->len, &i);
		if (c < 0 || n + 1 >= cap)
			return rd_fail(t, BW_ESYNTAX, "bad SvcParam value '%.*s'",
			               TOKF(v));
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return (int)n;
}

static int svc_mandatory(struct rd_text *t, const char *s, size_t len)
{
	uint16_t keys[SVC_MAXPARAMS];
	size_t n = 0;

	for (size_t i = 0; i <= len; ) {
		const char *c = memchr(s + i, ',', len - i);
		size_t e = c ? (size_t)(c - s) : len;
		int key = svc_key_from_text(s + i, e - i);
		if (key <= 0 || n == SVC_MAXPARAMS)
			return rd_fail(t, BW_ESYNTAX, "bad mandatory key '%.*s'",
			               (int)(e - i), s + i);
		size_t j = n++;
		for (; j > 0 && keys[j - 1] > key; j--)
			keys[j] = keys[j - 1];
		if (j > 0 && keys[j - 1] == key)
			return rd_fail(t, BW_ESYNTAX, "duplicate mandatory key");
		keys[j] = (uint16_t)key;
		i = e + 1;
	}
	int rc = 0;
	for (size_t j = 0; rc == 0 && j < n; j++)
		rc = rd_put_uint(t, keys[j], 2);
	return rc;
}

static int svc_hints(struct rd_text *t, const char *s, size_t len, bool v4)
{
	uint8_t a[16];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i <= len; ) {
		const char *c = memchr(s + i, ',', len - i);
		size_t e = c ? (size_t)(c - s) : len;
		if (!addr_from_text(v4 ? AF_INET : AF_INET6, s + i, e - i, a))
			return rd_fail(t, BW_ESYNTAX, "bad %s address '%.*s'",
			               v4 ? "IPv4" : "IPv6", (int)(e - i), s + i);
		rc = rd_put(t, a, v4 ? 4 : 16);
		i = e + 1;
	}
	return rc;
}

/* alpn: comma-separated ids; "\," and "\\" after unescaping are
 * literal (RFC 9460 appendix A.1). */
static int svc_alpn(struct rd_text *t, const char *s, size_t len)
{
	size_t start = t->len;
	int rc = rd_put8(t, 0);

	for (size_t i = 0; rc == 0 && i < len; i++) {
		if (s[i] == ',') {
			if (t->len - start == 1)
				break;
			start = t->len;
			rc = rd_put8(t, 0);
			continue;
		}
		if (s[i] == '\\' && i + 1 < len)
			i++;
		rc = rd_put8(t, (uint8_t)s[i]);
		if (t->len - start - 1 > 255)
			return rd_fail(t, BW_ESYNTAX, "alpn id longer than 255");
		t->out[start]++;
	}
	if (rc == 0 && t->len - start == 1)
		return rd_fail(t, BW_ESYNTAX, "empty alpn id in '%.*s'",
		               (int)len, s);
	return rc;
}

static int svc_ech(struct rd_text *t, const char *s, size_t len,
                   const struct bw_token *v)
{
	struct b64_state b = { 0, 0, 0 };
	int rc = txt_b64_span(t, &b, s, len, v);

	if (rc == 0 && (rc = b64_finish(t, &b)) == -1)
		return rd_fail(t, BW_ESYNTAX, "bad base64 ech '%.*s'", TOKF(v));
	return rc;
}

static bool svc_needs_value(uint16_t key)
{
	return key != SVC_NO_DEFAULT_ALPN && key != SVC_OHTTP;
}

static int svc_value(struct rd_text *t, const struct svc_item *it)
{
	char buf[SVC_MAXVALUE];
	int n;

	if (it->key >= SVC_NNAMES || it->key == SVC_DOHPATH)
		return txt_octets(t, &it->value, 0);
	if ((n = svc_unescape(t, &it->value, buf, sizeof(buf))) < 0)
		return n;
	switch ((enum svc_key)it->key) {
	case SVC_MANDATORY:
		return svc_mandatory(t, buf, (size_t)n);
	case SVC_ALPN:
		return svc_alpn(t, buf, (size_t)n);
	case SVC_PORT: {
		uint32_t port;
		if (!parse_uint(buf, (size_t)n, 65535, &port))
			return rd_fail(t, BW_ESYNTAX, "bad port '%s'", buf);
		return rd_put_uint(t, port, 2);
	}
	case SVC_IPV4HINT:
	case SVC_IPV6HINT:
		return svc_hints(t, buf, (size_t)n, it->key == SVC_IPV4HINT);
	case SVC_ECH:
		return svc_ech(t, buf, (size_t)n, &it->value);
	case SVC_NO_DEFAULT_ALPN:
	case SVC_DOHPATH:
	case SVC_OHTTP:
	case SVC_INVALID:
		break;
	}
	return 0;
}

static int svc_item_write(struct rd_text *t, const struct svc_item *it)
{
	char kname[16];
	int rc = rd_put_uint(t, it->key, 2);
	size_t start = t->len;

	snprintf(kname, sizeof(kname), "key%u", it->key);
	if (it->key < SVC_NNAMES)
		snprintf(kname, sizeof(kname), "%s", svc_names[it->key]);
	if (rc == 0)
		rc = rd_put_uint(t, 0, 2);
	if (rc != 0)
		return rc;
	if (svc_needs_value(it->key) != it->has_value && it->key < SVC_NNAMES)
		return rd_fail(t, BW_ESYNTAX, "SvcParam %s %s a value", kname,
		               it->has_value ? "takes no" : "needs");
	if ((rc = svc_value(t, it)) != 0)
		return rc;
	size_t vlen = t->len - start - 2;
	if (vlen > 65535)
		return rd_fail(t, BW_ESYNTAX, "SvcParam %s too long", kname);
	bw_put16(t->out + start, (uint16_t)vlen);
	return 0;
}

static int wire_svc(const uint8_t *p, size_t len);
static int svc_missing_key(const uint8_t *p, size_t len);

static int txt_svc(struct rd_text *t, const struct field *f)
{
	struct svc_item items[SVC_MAXPARAMS];
	size_t n = 0;
	int rc = 0;

	(void)f;
	while (t->next < t->ntok) {
		if (n == SVC_MAXPARAMS)
			return rd_fail(t, BW_ESYNTAX, "too many SvcParams");
		struct svc_item it;
		if ((rc = svc_item_read(t, &it)) != 0)
			return rc;
		size_t j = n++;
		for (; j > 0 && items[j - 1].key > it.key; j--)
			items[j] = items[j - 1];
		if (j > 0 && items[j - 1].key == it.key)
			return rd_fail(t, BW_ESYNTAX, "duplicate SvcParam key%u",
			               it.key);
		items[j] = it;
	}
	size_t start = t->len;
	for (size_t j = 0; rc == 0 && j < n; j++)
		rc = svc_item_write(t, &items[j]);
	if (rc != 0 || wire_svc(t->out + start, t->len - start) >= 0)
		return rc;
	int missing = svc_missing_key(t->out + start, t->len - start);
	if (missing < 0)
		return rd_fail(t, BW_ESYNTAX, "invalid SvcParams");
	return rd_fail(t, BW_ESYNTAX, "mandatory key%d is missing", missing);
}

static int txt_field(struct rd_text *t, const struct field *f)
{
	switch ((enum fkind)f->kind) {
	case F_U8: case F_U16: case F_U32: case F_TTL: case F_TIME: case F_ALG:
		return txt_number(t, f);
	case F_TYPE:
		return txt_type(t, f);
	case F_A: case F_AAAA:
		return txt_addr(t, f);
	case F_NAME_C: case F_NAME_L: case F_NAME_X:
		return txt_name(t, f);
	case F_STR:
		return txt_string(t, f);
	case F_STRS:
		return txt_strings(t, f);
	case F_REST:
		return txt_rest(t, f);
	case F_TAG:
		return txt_tag(t, f);
	case F_HEX:
		return txt_hex(t, f);
	case F_B64:
		return txt_b64(t, f);
	case F_SALT:
		return txt_salt(t, f);
	case F_HASH:
		return txt_hash(t, f);
	case F_BITMAP:
		return txt_bitmap(t, f);
	case F_SVC:
		return txt_svc(t, f);
	case F_END:
		break;
	}
	return 0;
}

static int txt_fields(struct rd_text *t, const struct rrfmt *fmt)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < RR_MAXFIELDS &&
	     fmt->f[i].kind != F_END; i++)
		rc = txt_field(t, &fmt->f[i]);
	return rc;
}

/* RFC 3597: "\# LEN HEX..." */
static int txt_generic(struct rd_text *t)
{
	uint32_t n;
	int rc;

	t->next = 1;
	if (t->ntok < 2 || !parse_uint(t->tok[1].s, t->tok[1].len, 65535, &n))
		return rd_fail(t, BW_ESYNTAX, "bad or missing length after \\#");
	t->next = 2;
	if ((rc = txt_hex_tokens(t)) != 0)
		return rc;
	if (t->len != n)
		return rd_fail(t, BW_ESYNTAX, "\\# length %u does not match "
		               "%zu octets of data", n, t->len);
	if (bw_rdata_check(t->type, t->out, t->len) != 0)
		return rd_fail(t, BW_ESYNTAX, "\\# data is not valid rdata of "
		               "this type");
	return 0;
}

static bool tok_is_generic(const struct bw_token *tok, size_t ntok)
{
	return ntok > 0 && !tok[0].quoted && tok[0].len == 2 &&
	       tok[0].s[0] == '\\' && tok[0].s[1] == '#';
}

int bw_rdata_from_text(uint16_t type, const struct bw_token *tok, size_t ntok,
                       const uint8_t *origin, uint8_t *out, size_t cap,
                       char *err, size_t errlen)
{
	struct rd_text t = {
		.tok = tok, .ntok = ntok, .origin = origin, .out = out,
		.cap = cap > BW_RDATA_MAXLEN ? BW_RDATA_MAXLEN : cap,
		.cap_is_max = cap >= BW_RDATA_MAXLEN, .err = err,
		.errlen = errlen, .type = type,
	};
	const struct rrfmt *fmt = rr_fmt(type);
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (rr_is_meta(type))
		return rd_fail(&t, BW_ETYPE, "type cannot appear in zone data");
	if (tok_is_generic(tok, ntok))
		rc = txt_generic(&t);
	else if (fmt == NULL)
		return rd_fail(&t, BW_ETYPE, "no presentation format known; "
		               "use \\# LEN HEX");
	else
		rc = txt_fields(&t, fmt);
	if (rc != 0)
		return rc;
	if (t.next < ntok)
		return rd_fail(&t, BW_ESYNTAX, "extra data after rdata: '%.*s'",
		               TOKF(&tok[t.next]));
	return (int)t.len;
}

/* ======== Wire form: checking and walking. ======== */

static int wire_strings(const uint8_t *p, size_t len)
{
	size_t pos = 0;

	if (len == 0)
		return BW_EMALF;
	while (pos < len) {
		if ((size_t)p[pos] >= len - pos)
			return BW_EMALF;
		pos += 1 + (size_t)p[pos];
	}
	return (int)len;
}

static int wire_bitmap(const uint8_t *p, size_t len)
{
	int last = -1;
	size_t pos = 0;

	while (pos < len) {
		if (len - pos < 2)
			return BW_EMALF;
		uint8_t w = p[pos], n = p[pos + 1];
		if ((int)w <= last || n == 0 || n > 32 || len - pos - 2 < n ||
		    p[pos + 1 + n] == 0)
			return BW_EMALF;
		last = w;
		pos += 2 + (size_t)n;
	}
	return (int)len;
}

static bool svc_mandatory_ok(const uint8_t *v, size_t n)
{
	if (n == 0 || n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i += 2) {
		uint16_t k = bw_get16(v + i);
		if (k == SVC_MANDATORY || (i > 0 && k <= bw_get16(v + i - 2)))
			return false;
	}
	return true;
}

static bool svc_value_ok(uint16_t key, const uint8_t *v, size_t n)
{
	switch (key) {
	case SVC_MANDATORY:
		return svc_mandatory_ok(v, n);
	case SVC_ALPN:
		for (size_t i = 0; i < n; i += 1 + (size_t)v[i]) {
			if (v[i] == 0 || v[i] >= n - i)
				return false;
		}
		return n > 0;
	case SVC_NO_DEFAULT_ALPN:
	case SVC_OHTTP:
		return n == 0;
	case SVC_PORT:
		return n == 2;
	case SVC_IPV4HINT:
		return n > 0 && n % 4 == 0;
	case SVC_IPV6HINT:
		return n > 0 && n % 16 == 0;
	case SVC_INVALID:
		return false;
	default:
		return true;
	}
}

static bool svc_has_key(const uint8_t *p, size_t len, uint16_t key)
{
	for (size_t pos = 0; pos < len; pos += 4 + (size_t)bw_get16(p + pos + 2)) {
		if (bw_get16(p + pos) == key)
			return true;
	}
	return false;
}

/* Checked params: a key listed in "mandatory" (always first) that is
 * missing, or -1. */
static int svc_missing_key(const uint8_t *p, size_t len)
{
	if (len == 0 || bw_get16(p) != SVC_MANDATORY)
		return -1;
	for (size_t i = 0; i < bw_get16(p + 2); i += 2) {
		uint16_t key = bw_get16(p + 4 + i);
		if (!svc_has_key(p, len, key))
			return key;
	}
	return -1;
}

static int wire_svc(const uint8_t *p, size_t len)
{
	int32_t last = -1;
	size_t pos = 0;

	while (pos < len) {
		if (len - pos < 4)
			return BW_EMALF;
		uint16_t key = bw_get16(p + pos), vlen = bw_get16(p + pos + 2);
		if ((int32_t)key <= last || vlen > len - pos - 4 ||
		    !svc_value_ok(key, p + pos + 4, vlen))
			return BW_EMALF;
		last = key;
		pos += 4 + (size_t)vlen;
	}
	return svc_missing_key(p, len) < 0 ? (int)len : BW_EMALF;
}

static bool tag_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = bw_lower(p[i]);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
			return false;
	}
	return n > 0;
}

/* Wire length of the field that starts at rd[pos], or BW_EMALF. */
static int fld_len(uint8_t kind, const uint8_t *rd, size_t pos, size_t len)
{
	static const uint8_t fixed[] = {
		[F_U8] = 1, [F_U16] = 2, [F_U32] = 4, [F_TTL] = 4,
		[F_TIME] = 4, [F_TYPE] = 2, [F_ALG] = 1, [F_A] = 4,
		[F_AAAA] = 16,
	};
	size_t left = len - pos;
	int rc;

	switch ((enum fkind)kind) {
	case F_U8: case F_U16: case F_U32: case F_TTL: case F_TIME:
	case F_TYPE: case F_ALG: case F_A: case F_AAAA:
		return fixed[kind] <= left ? fixed[kind] : BW_EMALF;
	case F_NAME_C: case F_NAME_L: case F_NAME_X:
		rc = bw_name_check(rd + pos, left);
		return rc < 0 ? BW_EMALF : rc;
	case F_STR: case F_SALT:
		return left > 0 && rd[pos] < left ? 1 + rd[pos] : BW_EMALF;
	case F_HASH:
		return left > 0 && rd[pos] > 0 && rd[pos] < left ?
		       1 + rd[pos] : BW_EMALF;
	case F_TAG:
		return left > 0 && rd[pos] < left &&
		       tag_ok(rd + pos + 1, rd[pos]) ? 1 + rd[pos] : BW_EMALF;
	case F_STRS:
		return wire_strings(rd + pos, left);
	case F_REST: case F_HEX: case F_B64:
		return (int)left;
	case F_BITMAP:
		return wire_bitmap(rd + pos, left);
	case F_SVC:
		return wire_svc(rd + pos, left);
	case F_END:
		break;
	}
	return BW_EMALF;
}

typedef int (*fld_fn)(void *ctx, const struct field *f, const uint8_t *p,
                      size_t n);

/* Calls \a fn for each field of valid rdata; BW_EMALF when invalid. */
static int rdata_walk(const struct rrfmt *fmt, const uint8_t *rd, size_t len,
                      fld_fn fn, void *ctx)
{
	size_t pos = 0;

	if (len > BW_RDATA_MAXLEN)
		return BW_EMALF;
	for (size_t i = 0; i < RR_MAXFIELDS && fmt->f[i].kind != F_END; i++) {
		int n = fld_len(fmt->f[i].kind, rd, pos, len);
		if (n < 0)
			return n;
		int rc = fn ? fn(ctx, &fmt->f[i], rd + pos, (size_t)n) : 0;
		if (rc != 0)
			return rc;
		pos += (size_t)n;
	}
	return pos == len ? 0 : BW_EMALF;
}

int bw_rdata_check(uint16_t type, const uint8_t *rdata, size_t len)
{
	const struct rrfmt *fmt = rr_fmt(type);

	if (len > BW_RDATA_MAXLEN)
		return BW_EMALF;
	return fmt ? rdata_walk(fmt, rdata, len, NULL, NULL) : 0;
}

struct names_ctx {
	const uint8_t *rdata;
	struct bw_rdata_name *out;
	int n;
};

static int names_add(void *ctx, const struct field *f, const uint8_t *p,
                     size_t n)
{
	struct names_ctx *c = ctx;

	if (f->kind != F_NAME_C && f->kind != F_NAME_L && f->kind != F_NAME_X)
		return 0;
	if (c->n == BW_RDATA_MAXNAMES)
		return BW_EMALF;
	c->out[c->n++] = (struct bw_rdata_name) {
		.off = (uint16_t)(p - c->rdata), .len = (uint8_t)n,
		.compress = f->kind == F_NAME_C,
		.canon_lower = f->kind != F_NAME_X,
	};
	return 0;
}

int bw_rdata_names(uint16_t type, const uint8_t *rdata, size_t len,
                   struct bw_rdata_name out[BW_RDATA_MAXNAMES])
{
	const struct rrfmt *fmt = rr_fmt(type);
	struct names_ctx c = { rdata, out, 0 };

	if (fmt == NULL)
		return len > BW_RDATA_MAXLEN ? BW_EMALF : 0;
	int rc = rdata_walk(fmt, rdata, len, names_add, &c);
	return rc < 0 ? rc : c.n;
}

void bw_rdata_canonicalize(uint16_t type, uint8_t *rdata, size_t len)
{
	struct bw_rdata_name names[BW_RDATA_MAXNAMES];
	int n = bw_rdata_names(type, rdata, len, names);

	for (int i = 0; i < n; i++) {
		if (names[i].canon_lower)
			bw_name_lower(rdata + names[i].off);
	}
}

int bw_rdata_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int d = memcmp(a, b, alen < blen ? alen : blen);

	if (d != 0)
		return d;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* ======== Wire form to presentation form. ======== */

struct txt_out {
	char *s;
	size_t len, cap;
	bool full;
};

/* Returned by a printer when the field has no typed text form. */
#define TXT_GENERIC 1

static void out_mem(struct txt_out *o, const char *p, size_t n)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->s + o->len, p, n);
	o->len += n;
}

static void out_str(struct txt_out *o, const char *p)
{
	out_mem(o, p, strlen(p));
}

__attribute__((format(printf, 2, 3)))
static void out_fmt(struct txt_out *o, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out_mem(o, buf, n < 0 ? 0 : (size_t)n);
}

/* Octets in double quotes, escaping " \ and non-printables. */
static void out_qstring(struct txt_out *o, const uint8_t *p, size_t n)
{
	out_mem(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char c = (char)p[i];
		if (p[i] < 0x20 || p[i] > 0x7e)
			out_fmt(o, "\\%03u", p[i]);
		else if (c == '"' || c == '\\')
			out_fmt(o, "\\%c", c);
		else
			out_mem(o, &c, 1);
	}
	out_mem(o, "\"", 1);
}

static void out_hex(struct txt_out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char h[2] = { hex_chars[p[i] >> 4], hex_chars[p[i] & 15] };
		out_mem(o, h, 2);
	}
}

static void out_b64(struct txt_out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = { b64_chars[v >> 18], b64_chars[(v >> 12) & 63],
		              i + 1 < n ? b64_chars[(v >> 6) & 63] : '=',
		              i + 2 < n ? b64_chars[v & 63] : '=' };
		out_mem(o, q, 4);
	}
}

/* Base32hex in capitals, as other servers print NSEC3 hashes. */
static void out_b32(struct txt_out *o, const uint8_t *p, size_t n)
{
	char buf[BW_BASE32HEX_LEN(255) + 1];

	b32_encode(p, n, buf, b32_chars);
	out_mem(o, buf, BW_BASE32HEX_LEN(n));
}

static void out_name(struct txt_out *o, const uint8_t *name)
{
	char buf[BW_NAME_MAXTEXT];

	if (bw_name_to_text(buf, sizeof(buf), name) < 0)
		o->full = true;
	else
		out_str(o, buf);
}

static void out_type(struct txt_out *o, uint16_t type)
{
	char buf[16];

	bw_type_to_text(type, buf, sizeof(buf));
	out_str(o, buf);
}

static void out_addr(struct txt_out *o, int af, const uint8_t *p)
{
	char buf[INET6_ADDRSTRLEN];

	out_str(o, inet_ntop(af, p, buf, sizeof(buf)) ? buf : "?");
}

static void out_time(struct txt_out *o, uint32_t t)
{
	unsigned y, m, d;

	civil_from_days(t / 86400, &y, &m, &d);
	out_fmt(o, "%04u%02u%02u%02u%02u%02u", y, m, d, t % 86400 / 3600,
	        t % 3600 / 60, t % 60);
}

static void out_strings(struct txt_out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 1 + (size_t)p[i]) {
		if (i > 0)
			out_mem(o, " ", 1);
		out_qstring(o, p + i + 1, p[i]);
	}
}

static void out_bitmap(struct txt_out *o, const uint8_t *p, size_t n)
{
	bool first = true;

	for (size_t pos = 0; pos < n; pos += 2 + (size_t)p[pos + 1]) {
		for (unsigned b = 0; b < p[pos + 1] * 8u; b++) {
			if (!(p[pos + 2 + b / 8] & (0x80 >> (b % 8))))
				continue;
			if (!first)
				out_mem(o, " ", 1);
			first = false;
			out_type(o, (uint16_t)(p[pos] << 8 | b));
		}
	}
}

static void out_svc_key(struct txt_out *o, uint16_t key)
{
	if (key < SVC_NNAMES)
		out_str(o, svc_names[key]);
	else
		out_fmt(o, "key%u", key);
}

/* alpn ids, with "," and "\" escaped twice (RFC 9460 appendix A.1). */
static void out_svc_alpn(struct txt_out *o, const uint8_t *v, size_t n)
{
	out_mem(o, "\"", 1);
	for (size_t i = 0; i < n; i += 1 + (size_t)v[i]) {
		if (i > 0)
			out_mem(o, ",", 1);
		for (size_t j = 1; j <= v[i]; j++) {
			uint8_t c = v[i + j];
			if (c == ',' || c == '\\')
				out_str(o, c == ',' ? "\\\\," : "\\\\\\\\");
			else if (c == '"')
				out_str(o, "\\\"");
			else if (c < 0x20 || c > 0x7e)
				out_fmt(o, "\\%03u", c);
			else
				out_mem(o, (const char *)&c, 1);
		}
	}
	out_mem(o, "\"", 1);
}

static void out_svc_value(struct txt_out *o, uint16_t key, const uint8_t *v,
                          size_t n)
{
	size_t step = key == SVC_IPV4HINT ? 4 : key == SVC_IPV6HINT ? 16 : 2;

	switch (key) {
	case SVC_MANDATORY:
	case SVC_IPV4HINT:
	case SVC_IPV6HINT:
		for (size_t i = 0; i < n; i += step) {
			out_mem(o, i == 0 ? "=" : ",", 1);
			if (key == SVC_MANDATORY)
				out_svc_key(o, bw_get16(v + i));
			else
				out_addr(o, key == SVC_IPV4HINT ? AF_INET :
				         AF_INET6, v + i);
		}
		return;
	case SVC_ALPN:
		out_mem(o, "=", 1);
		out_svc_alpn(o, v, n);
		return;
	case SVC_PORT:
		out_fmt(o, "=%u", bw_get16(v));
		return;
	case SVC_ECH:
		out_mem(o, "=\"", 2);
		out_b64(o, v, n);
		out_mem(o, "\"", 1);
		return;
	case SVC_NO_DEFAULT_ALPN:
	case SVC_OHTTP:
		return;
	default:
		if (n > 0 || key == SVC_DOHPATH) {
			out_mem(o, "=", 1);
			out_qstring(o, v, n);
		}
	}
}

static void out_svc(struct txt_out *o, const uint8_t *p, size_t n)
{
	for (size_t pos = 0; pos < n; pos += 4 + (size_t)bw_get16(p + pos + 2)) {
		uint16_t key = bw_get16(p + pos);
		if (pos > 0)
			out_mem(o, " ", 1);
		out_svc_key(o, key);
		out_svc_value(o, key, p + pos + 4, bw_get16(p + pos + 2));
	}
}

static void out_field(struct txt_out *o, uint8_t kind, const uint8_t *p,
                      size_t n)
{
	switch ((enum fkind)kind) {
	case F_U8: case F_ALG:
		out_fmt(o, "%u", p[0]);
		return;
	case F_U16:
		out_fmt(o, "%u", bw_get16(p));
		return;
	case F_U32: case F_TTL:
		out_fmt(o, "%u", bw_get32(p));
		return;
	case F_TIME:
		out_time(o, bw_get32(p));
		return;
	case F_TYPE:
		out_type(o, bw_get16(p));
		return;
	case F_A: case F_AAAA:
		out_addr(o, kind == F_A ? AF_INET : AF_INET6, p);
		return;
	case F_NAME_C: case F_NAME_L: case F_NAME_X:
		out_name(o, p);
		return;
	case F_STR: case F_SALT: case F_HASH: case F_TAG:
		break;
	case F_STRS:
		out_strings(o, p, n);
		return;
	case F_REST:
		out_qstring(o, p, n);
		return;
	case F_HEX:
		out_hex(o, p, n);
		return;
	case F_B64:
		out_b64(o, p, n);
		return;
	case F_BITMAP:
		out_bitmap(o, p, n);
		return;
	case F_SVC:
		out_svc(o, p, n);
		return;
	case F_END:
		return;
	}
	/* Fields with a length octet. */
	if (kind == F_STR)
		out_qstring(o, p + 1, p[0]);
	else if (kind == F_TAG)
		out_mem(o, (const char *)p + 1, p[0]);
	else if (kind == F_HASH)
		out_b32(o, p + 1, p[0]);
	else if (p[0] == 0)
		out_mem(o, "-", 1);
	else
		out_hex(o, p + 1, p[0]);
}

static int fld_to_text(void *ctx, const struct field *f, const uint8_t *p,
                       size_t n)
{
	struct txt_out *o = ctx;

	if (n == 0 && (f->kind == F_HEX || f->kind == F_B64))
		return TXT_GENERIC;
	if (n == 0 && (f->kind == F_BITMAP || f->kind == F_SVC))
		return 0;
	if (o->len > 0)
		out_mem(o, " ", 1);
	out_field(o, f->kind, p, n);
	return 0;
}

static void out_generic(struct txt_out *o, const uint8_t *rdata, size_t len)
{
	o->len = 0;
	o->full = o->cap == 0;
	out_fmt(o, "\\# %zu", len);
	if (len > 0)
		out_mem(o, " ", 1);
	out_hex(o, rdata, len);
}

int bw_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t len,
                     char *out, size_t cap)
{
	const struct rrfmt *fmt = rr_fmt(type);
	struct txt_out o = { out, 0, cap, cap == 0 };
	int rc = TXT_GENERIC;

	if (bw_rdata_check(type, rdata, len) != 0)
		return BW_EMALF;
	if (fmt != NULL && !rr_is_meta(type))
		rc = rdata_walk(fmt, rdata, len, fld_to_text, &o);
	if (rc == TXT_GENERIC)
		out_generic(&o, rdata, len);
	if (o.full)
		return BW_ENOSPC;
	out[o.len] = '\0';
	return (int)o.len;
}
