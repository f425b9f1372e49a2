/*  bulwark-replay — the query templates: read from classic pcap and
 *  pcapng captures (Ethernet), or built from a "NAME TYPE" query list.
 *  Everything here runs before the packet loop.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/wire.h"
#include "replay.h"

#define ETH_HDR     14
#define ETH_P_IP    0x0800
#define ETH_P_IPV6  0x86dd
#define ETH_P_VLAN  0x8100
#define ETH_P_QINQ  0x88a8
#define LINK_ETH    1
#define PCAPNG_IFS  64

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32x(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16x(const uint8_t *p, bool swap)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return swap ? __builtin_bswap16(v) : v;
}

/* ---- The arena. ---- */

static int arena_reserve(struct bw_replay_set *s, size_t n)
{
	if (s->used + n <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap * 2 : 1 << 20;
	while (cap < s->used + n)
		cap *= 2;
	uint8_t *a = realloc(s->arena, cap);
	if (a == NULL)
		return -1;
	s->arena = a;
	s->cap = cap;
	return 0;
}

static int tmpl_push(struct bw_replay_set *s, const struct bw_replay_tmpl *t)
{
	if (s->n == s->tcap) {
		size_t cap = s->tcap ? s->tcap * 2 : 4096;
		struct bw_replay_tmpl *nt = realloc(s->t, cap * sizeof(*nt));
		if (nt == NULL)
			return -1;
		s->t = nt;
		s->tcap = cap;
	}
	s->t[s->n++] = *t;
	return 0;
}

/* ---- Frames. ---- */

/* Offsets of an IPv4 UDP datagram at \a l3; false if it is not a whole,
 * unfragmented one.  Sets the frame length without padding. */
static bool ipv4_udp(const uint8_t *f, size_t caplen, struct bw_replay_tmpl *t)
{
	const uint8_t *ip = f + t->l3;
	size_t ihl, tot;

	if (caplen < t->l3 + 20u || (ip[0] >> 4) != 4 || ip[9] != 17)
		return false;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = rd16(ip + 2);
	if (ihl < 20 || tot < ihl + 8 || t->l3 + tot > caplen)
		return false;
	if ((rd16(ip + 6) & 0x3fff) != 0)       /* MF or an offset */
		return false;
	t->l4 = (uint16_t)(t->l3 + ihl);
	t->len = (uint16_t)(t->l3 + tot);
	return true;
}

/* The same for IPv6 without extension headers. */
static bool ipv6_udp(const uint8_t *f, size_t caplen, struct bw_replay_tmpl *t)
{
	const uint8_t *ip = f + t->l3;
	size_t plen;

	if (caplen < t->l3 + 40u || (ip[0] >> 4) != 6 || ip[6] != 17)
		return false;
	plen = rd16(ip + 4);
	if (plen < 8 || t->l3 + 40u + plen > caplen)
		return false;
	t->l4 = (uint16_t)(t->l3 + 40);
	t->len = (uint16_t)(t->l3 + 40 + plen);
	t->v6 = true;
	return true;
}

/* True when \a f is an Ethernet UDP DNS query (QR=0, at least a header). */
static bool frame_query(const uint8_t *f, size_t caplen, struct bw_replay_tmpl *t)
{
	size_t l3 = ETH_HDR;
	uint16_t et;

	if (caplen < ETH_HDR || caplen > 65535)
		return false;
	et = rd16(f + 12);
	while ((et == ETH_P_VLAN || et == ETH_P_QINQ) && caplen >= l3 + 4) {
		et = rd16(f + l3 + 2);
		l3 += 4;
	}
	memset(t, 0, sizeof(*t));
	t->l3 = (uint16_t)l3;
	if (!(et == ETH_P_IP ? ipv4_udp(f, caplen, t) :
	      et == ETH_P_IPV6 ? ipv6_udp(f, caplen, t) : false))
		return false;
	if (rd16(f + t->l4 + 4) < 8 + 12u || t->l4 + 8u + 12u > t->len)
		return false;
	return (f[t->l4 + 8 + 2] & 0x80) == 0;
}

/* Copies frame \a f (t->len octets) into the arena and keeps its
 * template. */
static int tmpl_store(struct bw_replay_set *s, const uint8_t *f,
                      struct bw_replay_tmpl *t)
{
	if (arena_reserve(s, t->len) != 0)
		return -1;
	memcpy(s->arena + s->used, f, t->len);
	t->off = s->used;
	s->used += t->len;
	return tmpl_push(s, t);
}

/* Keeps one captured frame when it is a query. */
static int frame_add(struct bw_replay_set *s, const uint8_t *f, size_t caplen,
                     size_t origlen, uint32_t linktype)
{
	struct bw_replay_tmpl t;

	s->frames++;
	if (linktype != LINK_ETH || caplen < origlen || !frame_query(f, caplen, &t)) {
		s->skipped++;
		return 0;
	}
	return tmpl_store(s, f, &t);
}

/* ---- Files. ---- */

static uint8_t *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
		free(buf);
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int read_classic(struct bw_replay_set *s, const uint8_t *b, size_t len,
                        bool swap, char *err, size_t errlen)
{
	uint32_t linktype = rd32x(b + 20, swap);
	size_t p = 24;

	while (p + 16 <= len) {
		uint32_t incl = rd32x(b + p + 8, swap), orig = rd32x(b + p + 12, swap);
		if (incl > len - p - 16) {
			snprintf(err, errlen, "truncated record at offset %zu", p);
			return -1;
		}
		if (frame_add(s, b + p + 16, incl, orig, linktype) != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		p += 16 + incl;
	}
	return 0;
}

/* One pcapng block at \a b (\a blen octets, byte order \a swap). */
static int pcapng_block(struct bw_replay_set *s, const uint8_t *b, size_t blen,
                        bool swap, uint32_t *links, unsigned *nlinks)
{
	uint32_t type = rd32x(b, swap);

	if (type == 1 && blen >= 20 && *nlinks < PCAPNG_IFS) {          /* IDB */
		links[(*nlinks)++] = rd16x(b + 8, swap);
	} else if (type == 6 && blen >= 32) {                           /* EPB */
		uint32_t ifc = rd32x(b + 8, swap), cap = rd32x(b + 20, swap);
		uint32_t orig = rd32x(b + 24, swap);
		if (cap > blen - 32)
			return 0;
		return frame_add(s, b + 28, cap, orig, ifc < *nlinks ? links[ifc] : 0);
	} else if (type == 3 && blen >= 16) {                           /* SPB */
		uint32_t orig = rd32x(b + 8, swap);
		uint32_t cap = orig < blen - 16 ? orig : (uint32_t)(blen - 16);
		return frame_add(s, b + 12, cap, orig, *nlinks > 0 ? links[0] : 0);
	}
	return 0;
}

static int read_pcapng(struct bw_replay_set *s, const uint8_t *b, size_t len,
                       char *err, size_t errlen)
{
	uint32_t links[PCAPNG_IFS];
	unsigned nlinks = 0;
	bool swap = false;
	size_t p = 0;

	while (p + 12 <= len) {
		if (rd32x(b + p, false) == 0x0A0D0D0Au) {                /* SHB */
			swap = rd32x(b + p + 8, false) != 0x1A2B3C4Du;
			nlinks = 0;
		}
		uint32_t blen = rd32x(b + p + 4, swap);
		if (blen < 12 || blen % 4 != 0 || blen > len - p) {
			snprintf(err, errlen, "bad pcapng block at offset %zu", p);
			return -1;
		}
		if (pcapng_block(s, b + p, blen, swap, links, &nlinks) != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		p += blen;
	}
	return 0;
}

int bw_replay_load_pcap(struct bw_replay_set *s, const char *path,
                        char *err, size_t errlen)
{
	size_t len;
	uint8_t *b = slurp(path, &len, err, errlen);
	int rc = -1;

	if (b == NULL)
		return -1;
	uint32_t magic = len >= 24 ? rd32x(b, false) : 0;
	if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
		rc = read_classic(s, b, len, false, err, errlen);
	else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
		rc = read_classic(s, b, len, true, err, errlen);
	else if (magic == 0x0A0D0D0Au)
		rc = read_pcapng(s, b, len, err, errlen);
	else
		snprintf(err, errlen, "not a pcap or pcapng file");
	if (rc != 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s: %s", path, err);
		snprintf(err, errlen, "%s", msg);
	}
	free(b);
	return rc;
}

/* ---- Query lists. ---- */

/* The end of the name at \a p: the first white space that no backslash
 * escapes. */
static char *name_end(char *p)
{
	while (*p != '\0' && !isspace((unsigned char)*p)) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		p++;
	}
	return p;
}

/* "NAME TYPE" (presentation form, escapes allowed) into wire and type;
 * false when the line is not one. */
static bool query_line(char *p, uint8_t wire[BW_NAME_MAXLEN], size_t *qlen,
                       uint16_t *qt)
{
	static const uint8_t root[1] = { 0 };
	char *end = name_end(p), *type = end;
	int n;

	while (isspace((unsigned char)*type))
		type++;
	size_t tlen = strcspn(type, " \t\r\n");
	if (end == p || tlen == 0 || type[tlen + strspn(type + tlen, " \t\r\n")] != '\0')
		return false;
	n = bw_name_from_text(wire, p, (size_t)(end - p), root);
	if (n <= 0 || bw_type_from_text(type, tlen, qt) != 0)
		return false;
	*qlen = (size_t)n;
	return true;
}

/* DNS message: header, question, OPT (1232, DO as asked). */
static size_t dns_query(uint8_t *m, const uint8_t *qname, size_t qlen,
                        uint16_t qtype, bool dnssec_ok)
{
	static const uint8_t hdr[12] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
	size_t n = 12;

	memcpy(m, hdr, 12);
	memcpy(m + n, qname, qlen);
	n += qlen;
	m[n++] = (uint8_t)(qtype >> 8);
	m[n++] = (uint8_t)qtype;
	m[n++] = 0;
	m[n++] = 1;
	const uint8_t opt[11] = {0, 0, 41, 1232 >> 8, 1232 & 0xff, 0, 0,
	                         dnssec_ok ? 0x80 : 0, 0, 0, 0};
	memcpy(m + n, opt, sizeof(opt));
	return n + sizeof(opt);
}

/* One query frame; addresses, ports, IDs and checksums are filled in
 * when it is sent. */
static int query_add(struct bw_replay_set *s, const uint8_t *qname, size_t qlen,
                     uint16_t qtype, bool v6, bool dnssec_ok)
{
	struct bw_replay_tmpl t = { .l3 = ETH_HDR, .v6 = v6 };
	uint8_t f[ETH_HDR + 40 + 8 + 12 + 255 + 4 + 11];
	size_t iph = v6 ? 40 : 20;

	memset(f, 0, sizeof(f));
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	t.l4 = (uint16_t)(ETH_HDR + iph);
	size_t dlen = dns_query(f + t.l4 + 8, qname, qlen, qtype, dnssec_ok);
	size_t ulen = 8 + dlen;
	uint8_t *ip = f + ETH_HDR;
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)(ulen >> 8);
		ip[5] = (uint8_t)ulen;
		ip[6] = 17;
		ip[7] = 64;
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + ulen) >> 8);
		ip[3] = (uint8_t)(20 + ulen);
		ip[6] = 0x40;                       /* DF */
		ip[8] = 64;
		ip[9] = 17;
	}
	f[t.l4 + 2] = 0;
	f[t.l4 + 3] = 53;
	f[t.l4 + 4] = (uint8_t)(ulen >> 8);
	f[t.l4 + 5] = (uint8_t)ulen;
	t.len = (uint16_t)(t.l4 + ulen);
	return tmpl_store(s, f, &t);
}

int bw_replay_load_queries(struct bw_replay_set *s, const char *path, bool v6,
                           bool dnssec_ok, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	uint8_t wire[BW_NAME_MAXLEN];
	unsigned lineno = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		uint16_t qt;
		size_t qlen;
		if (!query_line(p, wire, &qlen, &qt)) {
			snprintf(err, errlen, "%s:%u: expected \"NAME TYPE\"", path, lineno);
			fclose(f);
			return -1;
		}
		if (query_add(s, wire, qlen, qt, v6, dnssec_ok) != 0) {
			snprintf(err, errlen, "out of memory");
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* ---- Sources (for ARP and ND). ---- */

static int cmp4(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp6(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* Sorts \a n elements of \a size and drops repeats; returns the count. */
static size_t sort_unique(void *base, size_t n, size_t size,
                          int (*cmp)(const void *, const void *))
{
	uint8_t *b = base;
	size_t k = 0;

	qsort(base, n, size, cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || cmp(b + (k - 1) * size, b + i * size) != 0)
			memmove(b + k++ * size, b + i * size, size);
	return k;
}

void bw_replay_set_sources(struct bw_replay_set *s)
{
	s->src4 = calloc(s->n + 1, sizeof(*s->src4));
	s->src6 = calloc(s->n + 1, sizeof(*s->src6));
	if (s->src4 == NULL || s->src6 == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		const uint8_t *ip = s->arena + s->t[i].off + s->t[i].l3;
		if (s->t[i].v6)
			memcpy(s->src6[s->nsrc6++], ip + 8, 16);
		else
			memcpy(&s->src4[s->nsrc4++], ip + 12, 4);
	}
	s->nsrc4 = sort_unique(s->src4, s->nsrc4, sizeof(*s->src4), cmp4);
	s->nsrc6 = sort_unique(s->src6, s->nsrc6, sizeof(*s->src6), cmp6);
}

void bw_replay_set_free(struct bw_replay_set *s)
{
	free(s->arena);
	free(s->t);
	free(s->src4);
	free(s->src6);
	memset(s, 0, sizeof(*s));
}
