/*  bulwark-replay — frames: queries written from their templates, responses
 *  decoded, ARP requests and neighbour solicitations for our sources
 *  answered in place.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>

#include "replay.h"

#define ETH_HDR       14
#define ID_BITS       (BW_REPLAY_SLOTS_LOG - 14)   /* BW_REPLAY_PORTS = 2^14 */
#define ID_MASK       ((1u << ID_BITS) - 1)

_Static_assert(BW_REPLAY_PORTS == 1u << 14, "ports are 14 bits of the slot");
_Static_assert(ID_BITS > 0 && ID_BITS <= 16, "the rest of the slot is in the ID");

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A 64-bit mix of the query index (splitmix64's finaliser). */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Overwrites the host bits of the \a alen-octet address \a a with bits of
 * \a h; keeps off the all-zeros and all-ones hosts when there are more. */
static void spread(uint8_t *a, size_t alen, const struct bw_replay_prefix *p,
                   uint64_t h)
{
	unsigned host = (unsigned)alen * 8 - p->len;

	memcpy(a, p->addr, alen);
	for (unsigned bit = 0; bit < host && bit < 64; bit++) {
		size_t o = alen - 1 - bit / 8;
		uint8_t m = (uint8_t)(1u << (bit % 8));
		a[o] = (uint8_t)((a[o] & ~m) | (((h >> bit) & 1) ? m : 0));
	}
	if (host >= 2 && host <= 64) {
		uint64_t mask = host == 64 ? ~0ull : (1ull << host) - 1;
		if ((h & mask) == 0)
			a[alen - 1] |= 1;
		else if ((h & mask) == mask)
			a[alen - 1] &= 0xfe;
	}
}

static uint32_t key6(const uint8_t *a)
{
	uint32_t w[4];

	memcpy(w, a, 16);
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

static uint32_t key4(const uint8_t *a)
{
	uint32_t w;

	memcpy(&w, a, 4);
	return w;
}

/* Addresses and checksum of an IPv4 query; returns the client key. */
static uint32_t build4(uint8_t *f, const struct bw_replay_tmpl *t,
                       const struct bw_replay_rewrite *rw, uint64_t h)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(void *)(f + t->l3);

	if (rw->dst4_set)
		memcpy(&ip->dst_addr, rw->dst4, 4);
	if (rw->src4.set)
		spread((uint8_t *)&ip->src_addr, 4, &rw->src4, h);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return key4((const uint8_t *)&ip->src_addr);
}

static uint32_t build6(uint8_t *f, const struct bw_replay_tmpl *t,
                       const struct bw_replay_rewrite *rw, uint64_t h)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(void *)(f + t->l3);

	if (rw->dst6_set)
		memcpy(ip->dst_addr, rw->dst6, 16);
	if (rw->src6.set)
		spread(ip->src_addr, 16, &rw->src6, h);
	return key6(ip->src_addr);
}

uint32_t bw_replay_build(const struct bw_replay_set *s, const struct bw_replay_tmpl *t,
                         const struct bw_replay_rewrite *rw, uint64_t seq,
                         uint8_t *out)
{
	uint32_t slot = (uint32_t)(seq & (BW_REPLAY_SLOTS - 1));
	uint64_t h = mix64((uint64_t)(t - s->t));
	uint8_t *udp = out + t->l4;
	uint32_t key;

	memcpy(out, s->arena + t->off, t->len);
	if (rw->dst_mac_set)
		memcpy(out, rw->dst_mac, 6);
	memcpy(out + 6, rw->src_mac, 6);
	key = t->v6 ? build6(out, t, rw, h) : build4(out, t, rw, h);
	/* The slot in the client port and the DNS ID. */
	wr16(udp, (uint16_t)(BW_REPLAY_PORT_BASE + slot % BW_REPLAY_PORTS));
	if (rw->dst_port_set)
		wr16(udp + 2, rw->dst_port);
	wr16(udp + 8, bw_replay_id(seq));
	wr16(udp + 6, 0);
	uint16_t ck = t->v6 ?
		rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)(void *)(out + t->l3), udp) :
		rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)(void *)(out + t->l3), udp);
	memcpy(udp + 6, &ck, 2);
	return key;
}

/* ---- Received frames. ---- */

/* True when the first \a plen bits of \a a and \a p agree. */
static bool in_prefix(const uint8_t *a, const struct bw_replay_prefix *p)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(a, p->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (a[full] & m) == (p->addr[full] & m);
}

/* Binary search of \a a (\a size octets) in the sorted \a base. */
static bool in_sorted(const void *base, size_t n, size_t size, const uint8_t *a)
{
	const uint8_t *b = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c;
		if (size == 4) {
			uint32_t x = key4(a), y = key4(b + mid * 4);
			c = x < y ? -1 : x > y;
		} else {
			c = memcmp(a, b + mid * size, size);
		}
		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

static bool mine4(const struct bw_replay_set *s, const struct bw_replay_rewrite *rw,
                  const uint8_t *a)
{
	if (rw->src4.set)
		return in_prefix(a, &rw->src4);
	return in_sorted(s->src4, s->nsrc4, 4, a);
}

static bool mine6(const struct bw_replay_set *s, const struct bw_replay_rewrite *rw,
                  const uint8_t *a)
{
	if (rw->src6.set)
		return in_prefix(a, &rw->src6);
	return in_sorted(s->src6, s->nsrc6, 16, a);
}

/* An ARP request for one of our addresses becomes the reply. */
static bool arp_reply(const struct bw_replay_set *s, const struct bw_replay_rewrite *rw,
                      uint8_t *f, size_t l2, uint16_t len)
{
	uint8_t *a = f + l2, tpa[4];

	if (len < l2 + 28 || rd16(a) != 1 || rd16(a + 2) != 0x0800 || a[4] != 6 ||
	    a[5] != 4 || rd16(a + 6) != 1 || !mine4(s, rw, a + 24))
		return false;
	memcpy(tpa, a + 24, 4);
	wr16(a + 6, 2);
	memcpy(a + 18, a + 8, 10);              /* THA, TPA = SHA, SPA */
	memcpy(a + 8, rw->src_mac, 6);
	memcpy(a + 14, tpa, 4);
	memcpy(f, a + 18, 6);
	memcpy(f + 6, rw->src_mac, 6);
	return true;
}

/* A neighbour solicitation for one of our addresses becomes the
 * advertisement (solicited, override, with our link-layer address). */
static bool nd_reply(const struct bw_replay_set *s, const struct bw_replay_rewrite *rw,
                     uint8_t *f, size_t l2, uint16_t *len)
{
	static const uint8_t all_nodes[16] = {0xff, 2, [15] = 1};
	static const uint8_t unspec[16];
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(void *)(f + l2);
	uint8_t *icmp = f + l2 + 40;

	if (*len < l2 + 40 + 24 || ip->proto != 58 || icmp[0] != 135 ||
	    ip->hop_limits != 255 || !mine6(s, rw, icmp + 8))
		return false;
	bool dad = memcmp(ip->src_addr, unspec, 16) == 0;
	memcpy(f, dad ? (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1} : f + 6, 6);
	memcpy(f + 6, rw->src_mac, 6);
	memcpy(ip->dst_addr, dad ? all_nodes : ip->src_addr, 16);
	memcpy(ip->src_addr, icmp + 8, 16);
	ip->payload_len = htons(32);
	icmp[0] = 136;
	icmp[1] = 0;
	memset(icmp + 2, 0, 6);
	icmp[4] = dad ? 0x20 : 0x60;            /* (S,) O */
	icmp[24] = 2;                           /* target link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, rw->src_mac, 6);
	uint16_t ck = rte_ipv6_udptcp_cksum(ip, icmp);
	memcpy(icmp + 2, &ck, 2);
	*len = (uint16_t)(l2 + 40 + 32);
	return true;
}

/* Past the name at \a at (compression pointers end it), or 0. */
static size_t skip_name(const uint8_t *m, size_t len, size_t at)
{
	while (at < len) {
		uint8_t l = m[at];
		if (l == 0)
			return at + 1;
		if ((l & 0xc0) == 0xc0)
			return at + 2 <= len ? at + 2 : 0;
		if (l & 0xc0)
			return 0;
		at += 1u + l;
	}
	return 0;
}

/* The upper 8 bits of the rcode from the OPT record (RFC 6891 §6.1.3),
 * or 0 when the response has none or cannot be walked. */
static unsigned ext_rcode(const uint8_t *m, size_t len)
{
	unsigned qd = rd16(m + 4), rrs = rd16(m + 6) + rd16(m + 8);
	unsigned ar = rd16(m + 10);
	size_t at = 12;

	if (ar == 0)
		return 0;
	for (unsigned i = 0; i < qd && at != 0; i++) {
		at = skip_name(m, len, at);
		at = at != 0 && at + 4 <= len ? at + 4 : 0;
	}
	for (unsigned i = 0; i < rrs + ar && at != 0; i++) {
		at = skip_name(m, len, at);
		if (at == 0 || at + 10 > len)
			return 0;
		if (i >= rrs && rd16(m + at) == 41)
			return m[at + 4];
		at += 10u + rd16(m + at + 8);
	}
	return 0;
}

/* The client port, ID, flags of a DNS response at \a udp. */
static bool response(const uint8_t *udp, size_t avail, uint32_t key,
                     struct bw_replay_resp *r)
{
	uint16_t port = rd16(udp + 2), ulen = rd16(udp + 4);

	/* A datagram too short for a DNS header is not an answer, whatever
	 * padding follows it. */
	if (avail < 8 + 12 || ulen < 8 + 12 || port < BW_REPLAY_PORT_BASE ||
	    port >= BW_REPLAY_PORT_BASE + BW_REPLAY_PORTS || (udp[10] & 0x80) == 0)
		return false;
	r->slot = (uint32_t)(port - BW_REPLAY_PORT_BASE) |
	          (uint32_t)(rd16(udp + 8) & ID_MASK) << 14;
	r->key = key;
	r->id = rd16(udp + 8);
	size_t dns = ulen < avail ? ulen : avail;
	r->rcode = (uint16_t)((udp[11] & 0xf) | ext_rcode(udp + 8, dns - 8) << 4);
	r->tc = (udp[10] & 0x02) != 0;
	return true;
}

enum bw_replay_rx bw_replay_parse(const struct bw_replay_set *s,
                                  const struct bw_replay_rewrite *rw,
                                  uint8_t *frame, uint16_t *len,
                                  struct bw_replay_resp *r, bool *arp)
{
	size_t l2 = ETH_HDR;
	uint16_t et;

	if (*len < ETH_HDR)
		return BW_REPLAY_RX_OTHER;
	et = rd16(frame + 12);
	while ((et == 0x8100 || et == 0x88a8) && *len >= l2 + 4) {
		et = rd16(frame + l2 + 2);
		l2 += 4;
	}
	*arp = et == 0x0806;
	if (et == 0x0806)
		return arp_reply(s, rw, frame, l2, *len) ? BW_REPLAY_RX_REPLY :
		       BW_REPLAY_RX_OTHER;
	if (et == 0x0800 && *len >= l2 + 20 + 8 && (frame[l2] >> 4) == 4 &&
	    frame[l2 + 9] == 17 && (rd16(frame + l2 + 6) & 0x3fff) == 0) {
		size_t ihl = (size_t)(frame[l2] & 0xf) * 4;
		if (ihl >= 20 && *len >= l2 + ihl + 8 &&
		    response(frame + l2 + ihl, *len - l2 - ihl, key4(frame + l2 + 16), r))
			return BW_REPLAY_RX_RESPONSE;
	} else if (et == 0x86dd && *len >= l2 + 40 + 8) {
		if (frame[l2 + 6] == 17 &&
		    response(frame + l2 + 40, *len - l2 - 40, key6(frame + l2 + 24), r))
			return BW_REPLAY_RX_RESPONSE;
		if (nd_reply(s, rw, frame, l2, len))
			return BW_REPLAY_RX_REPLY;
	}
	return BW_REPLAY_RX_OTHER;
}

int bw_replay_prefix_parse(const char *text, bool v6, struct bw_replay_prefix *p)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned max = v6 ? 128 : 32;
	char *end;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, p->addr) != 1)
		return -1;
	p->len = max;
	if (slash != NULL) {
		unsigned long l = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || end == slash + 1 || l > max)
			return -1;
		p->len = (unsigned)l;
	}
	p->set = true;
	return 0;
}
