/*  bulwark — unit tests: bulwark-replay's frame classifier
 *  (bw_replay_parse): ARP requests and neighbour solicitations for our
 *  sources answered in place, DNS responses decoded into slot, ID, TC and
 *  extended rcode.  Frames are built by hand; checksums are verified with
 *  a sum of our own.  No EAL: only DPDK's headers and inline functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "replay.h"

#define N(a)      (sizeof(a) / sizeof((a)[0]))
#define FRAME_MAX 512
#define ETH_MIN   60     /* The shortest Ethernet frame, without the FCS. */
/* The query the responses answer: slot 0x2a << 14 | 1234, lap 7. */
#define SLOT      ((0x2au << 14) | 1234u)
#define SEQ       (7ull * BW_REPLAY_SLOTS + SLOT)
#define PORT      (BW_REPLAY_PORT_BASE + 1234u)
#define SERVER4   "192.0.2.53"
#define SERVER6   "2001:db8::53"
#define CLIENT4   "192.0.2.10"
#define CLIENT6   "2001:db8:1::10"
/* DNS header flags (the second 16-bit word). */
#define QR        0x8000
#define TC        0x0200
#define RD        0x0100

static const uint8_t my_mac[6] = {0x02, 0, 0, 0, 0, 0xaa};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const char *const our4[] = {
	CLIENT4, "192.0.2.20", "10.1.2.3", "203.0.113.7", "198.18.0.1",
};
static const char *const our6[] = {CLIENT6, "2001:db8:1::20", "fd00::5"};
/* www.example.com., at offset 12 of every message. */
static const uint8_t qname[] = "\3www\7example\3com";

struct fx {
	struct bw_replay_set s;
	struct bw_replay_rewrite rw;
	struct bw_replay_resp r;
	bool arp;
	uint32_t src4[N(our4)];
	uint8_t src6[N(our6)][16];
	uint8_t f[FRAME_MAX] __attribute__((aligned(8)));
	uint8_t copy[FRAME_MAX];
	uint16_t len;
};

/* A DNS message being written. */
struct msg {
	uint8_t b[FRAME_MAX];
	size_t n;
};

/* ---- Helpers. ---- */

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void addr(const char *text, void *out)
{
	int af = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(af, text, out), 1);
}

/* The client key bw_replay_build() returns: the IPv4 address as stored,
 * or the XOR of the IPv6 address's four 32-bit words. */
static uint32_t key_of(const char *text)
{
	uint32_t w[4] = {0};

	addr(text, w);
	return strchr(text, ':') != NULL ? w[0] ^ w[1] ^ w[2] ^ w[3] : w[0];
}

/* One's-complement sum of big-endian 16-bit words (RFC 1071). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (n % 2 != 0)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16 != 0)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The sum over the IPv6 pseudo-header and the payload of the IPv6 packet
 * at \a ip (RFC 8200 §8.1): 0xffff when its checksum is right. */
static uint16_t sum6(const uint8_t *ip)
{
	uint16_t plen = rd16(ip + 4);
	uint32_t s = sum16(ip + 8, 32, 0) + plen + ip[6];

	return fold(sum16(ip + 40, plen, s));
}

/* The same for the UDP datagram in the IPv4 packet at \a ip. */
static uint16_t sum4_udp(const uint8_t *ip)
{
	const uint8_t *udp = ip + (ip[0] & 0xf) * 4;
	uint32_t s = sum16(ip + 12, 8, 0) + ip[9] + rd16(udp + 4);

	return fold(sum16(udp, rd16(udp + 4), s));
}

static uint16_t pad(size_t len)
{
	return (uint16_t)(len < ETH_MIN ? ETH_MIN : len);
}

/* Ethernet header with \a tags VLAN tags (802.1ad outside, 802.1Q
 * inside); returns its length. */
static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src,
                  unsigned tags, uint16_t type)
{
	size_t l2 = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	for (unsigned i = 0; i < tags; i++) {
		wr16(f + l2, i + 1 < tags ? 0x88a8 : 0x8100);
		wr16(f + l2 + 2, (uint16_t)(100 + i));
		l2 += 4;
	}
	wr16(f + l2, type);
	return l2 + 2;
}

static void ip6(uint8_t *ip, const uint8_t *src, const uint8_t *dst,
                uint8_t next, uint8_t hlim, uint16_t plen)
{
	memset(ip, 0, 40);
	ip[0] = 0x60;
	wr16(ip + 4, plen);
	ip[6] = next;
	ip[7] = hlim;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_a16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* Our sources as bw_replay_set_sources() leaves them: IPv4 sorted as
 * 32-bit numbers in memory order, IPv6 as octet strings; no prefixes. */
static int setup(void **state)
{
	static struct fx x;

	memset(&x, 0, sizeof(x));
	for (size_t i = 0; i < N(our4); i++)
		addr(our4[i], &x.src4[i]);
	for (size_t i = 0; i < N(our6); i++)
		addr(our6[i], x.src6[i]);
	qsort(x.src4, N(our4), sizeof(x.src4[0]), cmp_u32);
	qsort(x.src6, N(our6), sizeof(x.src6[0]), cmp_a16);
	x.s.src4 = x.src4;
	x.s.nsrc4 = N(our4);
	x.s.src6 = x.src6;
	x.s.nsrc6 = N(our6);
	memcpy(x.rw.src_mac, my_mac, 6);
	*state = &x;
	return 0;
}

/* Parses the frame in place (room for the reply after it), keeping a copy
 * of it as it was. */
static enum bw_replay_rx parse(struct fx *x)
{
	memcpy(x->copy, x->f, sizeof(x->f));
	memset(&x->r, 0, sizeof(x->r));
	x->arp = false;
	return bw_replay_parse(&x->s, &x->rw, x->f, &x->len, &x->r, &x->arp);
}

/* Parses a heap copy of exactly the frame's length, so that ASan sees a
 * read past it; anything but a reply must leave the frame as it is. */
static enum bw_replay_rx parse_exact(struct fx *x)
{
	uint8_t *f = malloc(x->len > 0 ? x->len : 1);
	uint16_t len = x->len;
	enum bw_replay_rx rx;

	assert_non_null(f);
	memcpy(f, x->f, x->len);
	memset(&x->r, 0, sizeof(x->r));
	rx = bw_replay_parse(&x->s, &x->rw, f, &len, &x->r, &x->arp);
	if (rx != BW_REPLAY_RX_REPLY) {
		assert_int_equal(len, x->len);
		assert_memory_equal(f, x->f, x->len);
	}
	free(f);
	return rx;
}

static void assert_unchanged(const struct fx *x, uint16_t len)
{
	assert_int_equal(x->len, len);
	assert_memory_equal(x->f, x->copy, sizeof(x->f));
}

/* ---- ARP. ---- */

/* An ARP packet (\a op 1: request) from the peer at \a spa for \a tpa;
 * sets the frame's length (padded). */
static size_t arp(struct fx *x, unsigned tags, const char *spa, const char *tpa,
                  uint16_t op)
{
	size_t l2;
	uint8_t *a;

	memset(x->f, 0, sizeof(x->f));
	l2 = eth(x->f, bcast, peer_mac, tags, 0x0806);
	a = x->f + l2;
	wr16(a, 1);
	wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, peer_mac, 6);
	addr(spa, a + 14);
	addr(tpa, a + 24);
	x->len = pad(l2 + 28);
	return l2;
}

/* The request of arp() turned into our reply. */
static void check_arp_reply(const struct fx *x, size_t l2, const char *spa,
                            const char *tpa)
{
	const uint8_t *a = x->f + l2;
	uint8_t ip[4];

	assert_true(x->arp);
	assert_int_equal(x->len, pad(l2 + 28));
	assert_memory_equal(x->f, peer_mac, 6);
	assert_memory_equal(x->f + 6, my_mac, 6);
	assert_memory_equal(x->f + 12, x->copy + 12, l2 - 12);  /* tags, type */
	assert_int_equal(rd16(a), 1);
	assert_int_equal(rd16(a + 2), 0x0800);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(rd16(a + 6), 2);
	assert_memory_equal(a + 8, my_mac, 6);
	addr(tpa, ip);
	assert_memory_equal(a + 14, ip, 4);
	assert_memory_equal(a + 18, peer_mac, 6);
	addr(spa, ip);
	assert_memory_equal(a + 24, ip, 4);
}

static void test_arp_reply(void **state)
{
	struct fx *x = *state;

	for (size_t i = 0; i < N(our4); i++) {
		size_t l2 = arp(x, 0, "192.0.2.1", our4[i], 1);
		assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
		check_arp_reply(x, l2, "192.0.2.1", our4[i]);
	}
	/* An ARP probe (RFC 5227: sender 0.0.0.0) is answered too. */
	size_t l2 = arp(x, 0, "0.0.0.0", CLIENT4, 1);
	assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
	check_arp_reply(x, l2, "0.0.0.0", CLIENT4);
}

static void test_arp_foreign(void **state)
{
	static const char *const other[] = {
		"192.0.2.11", "192.0.2.9", "10.1.2.4", "0.0.0.0",
		"255.255.255.255", "203.0.113.6", "198.18.0.2",
	};
	struct fx *x = *state;

	for (size_t i = 0; i < N(other); i++) {
		arp(x, 0, "192.0.2.1", other[i], 1);
		assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
		assert_unchanged(x, ETH_MIN);
	}
}

/* Replies, other hardware or protocol types, short frames: left alone. */
static void test_arp_not_request(void **state)
{
	struct fx *x = *state;
	size_t l2;

	arp(x, 0, "192.0.2.1", CLIENT4, 2);
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	assert_unchanged(x, ETH_MIN);
	l2 = arp(x, 0, "192.0.2.1", CLIENT4, 1);
	x->f[l2 + 1] = 6;                              /* IEEE 802 */
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	assert_unchanged(x, ETH_MIN);
	l2 = arp(x, 0, "192.0.2.1", CLIENT4, 1);
	wr16(x->f + l2 + 2, 0x86dd);
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	l2 = arp(x, 0, "192.0.2.1", CLIENT4, 1);
	x->f[l2 + 5] = 16;
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	/* Cut anywhere before the target address's last octet. */
	l2 = arp(x, 0, "192.0.2.1", CLIENT4, 1);
	for (uint16_t len = 0; len < l2 + 28; len++) {
		x->len = len;
		assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	}
	x->len = (uint16_t)(l2 + 28);
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_REPLY);
}

/* With --src4 the prefix decides, not the capture's sources. */
static void test_arp_prefix(void **state)
{
	struct fx *x = *state;
	size_t l2;

	assert_int_equal(bw_replay_prefix_parse("198.51.100.0/23", false, &x->rw.src4), 0);
	l2 = arp(x, 0, "198.51.100.1", "198.51.101.77", 1);
	assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
	check_arp_reply(x, l2, "198.51.100.1", "198.51.101.77");
	arp(x, 0, "198.51.100.1", "198.51.102.1", 1);
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	assert_unchanged(x, ETH_MIN);
	arp(x, 0, "198.51.100.1", CLIENT4, 1);
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
}

/* 802.1Q and 802.1ad + 802.1Q: the tags stay, the reply is behind them. */
static void test_arp_vlan(void **state)
{
	struct fx *x = *state;

	for (unsigned tags = 1; tags <= 2; tags++) {
		size_t l2 = arp(x, tags, "192.0.2.1", "10.1.2.3", 1);
		assert_int_equal(l2, 14 + 4 * tags);
		assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
		check_arp_reply(x, l2, "192.0.2.1", "10.1.2.3");
		arp(x, tags, "192.0.2.1", "10.1.2.4", 1);
		assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
		assert_unchanged(x, ETH_MIN);
	}
	/* A tag cut short. */
	arp(x, 1, "192.0.2.1", "10.1.2.3", 1);
	x->len = 17;
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
}

/* ---- Neighbour discovery. ---- */

/* A neighbour solicitation from the peer at \a src (the unspecified
 * address for DAD, then without the source link-layer address option)
 * for \a target, to its solicited-node address; sets the length. */
static size_t ns(struct fx *x, unsigned tags, const char *src, const char *target,
                 uint8_t hlim)
{
	uint8_t s[16], t[16], d[16] = {0xff, 0x02, [11] = 1, [12] = 0xff};
	bool dad = strcmp(src, "::") == 0;
	uint16_t plen = dad ? 24 : 32;
	size_t l2;
	uint8_t *ip, *icmp;

	addr(src, s);
	addr(target, t);
	memcpy(d + 13, t + 13, 3);
	memset(x->f, 0, sizeof(x->f));
	l2 = eth(x->f, (const uint8_t[6]){0x33, 0x33, 0xff, t[13], t[14], t[15]},
	         peer_mac, tags, 0x86dd);
	ip = x->f + l2;
	icmp = ip + 40;
	ip6(ip, s, d, 58, hlim, plen);
	icmp[0] = 135;
	memcpy(icmp + 8, t, 16);
	if (!dad) {
		icmp[24] = 1;
		icmp[25] = 1;
		memcpy(icmp + 26, peer_mac, 6);
	}
	wr16(icmp + 2, (uint16_t)~sum6(ip));
	assert_int_equal(sum6(ip), 0xffff);
	x->len = (uint16_t)(l2 + 40 + plen);
	return l2;
}

/* The solicitation of ns() turned into our advertisement. */
static void check_na(const struct fx *x, size_t l2, const char *src,
                     const char *target)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	const uint8_t *ip = x->f + l2, *icmp = ip + 40;
	bool dad = strcmp(src, "::") == 0;
	uint8_t a[16];

	assert_false(x->arp);
	assert_int_equal(x->len, l2 + 40 + 32);
	assert_memory_equal(x->f, dad ? all_nodes_mac : peer_mac, 6);
	assert_memory_equal(x->f + 6, my_mac, 6);
	assert_memory_equal(x->f + 12, x->copy + 12, l2 - 12);  /* tags, type */
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(rd16(ip + 4), 32);
	assert_int_equal(ip[6], 58);
	assert_int_equal(ip[7], 255);                  /* RFC 4861 §7.1.2 */
	addr(target, a);
	assert_memory_equal(ip + 8, a, 16);
	if (dad) {
		assert_memory_equal(ip + 24, all_nodes, 16);
	} else {
		addr(src, a);
		assert_memory_equal(ip + 24, a, 16);
	}
	assert_int_equal(icmp[0], 136);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(icmp[4], dad ? 0x20 : 0x60);  /* (S,) O */
	assert_int_equal(icmp[5] | icmp[6] | icmp[7], 0);
	addr(target, a);
	assert_memory_equal(icmp + 8, a, 16);
	assert_int_equal(icmp[24], 2);                 /* target link-layer */
	assert_int_equal(icmp[25], 1);
	assert_memory_equal(icmp + 26, my_mac, 6);
	assert_int_equal(sum6(ip), 0xffff);
}

static void test_nd_reply(void **state)
{
	static const char *const peers[] = {"2001:db8::1", "fe80::1"};
	struct fx *x = *state;

	for (size_t p = 0; p < N(peers); p++)
		for (size_t i = 0; i < N(our6); i++) {
			size_t l2 = ns(x, 0, peers[p], our6[i], 255);
			assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
			check_na(x, l2, peers[p], our6[i]);
		}
}

/* Duplicate address detection: the answer goes to all nodes, without S. */
static void test_nd_dad(void **state)
{
	struct fx *x = *state;

	for (size_t i = 0; i < N(our6); i++) {
		size_t l2 = ns(x, 0, "::", our6[i], 255);
		assert_int_equal(x->len, l2 + 40 + 24);
		assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
		check_na(x, l2, "::", our6[i]);
	}
}

static void test_nd_prefix(void **state)
{
	struct fx *x = *state;
	size_t l2;

	assert_int_equal(bw_replay_prefix_parse("2001:db8:1::/48", true, &x->rw.src6), 0);
	l2 = ns(x, 0, "2001:db8::1", "2001:db8:1:ffff::abcd", 255);
	assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
	check_na(x, l2, "2001:db8::1", "2001:db8:1:ffff::abcd");
	ns(x, 0, "2001:db8::1", "2001:db8:2::1", 255);
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	assert_unchanged(x, 14 + 40 + 32);
	ns(x, 0, "2001:db8::1", "fd00::5", 255);
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
}

static void test_nd_vlan(void **state)
{
	struct fx *x = *state;

	for (unsigned tags = 1; tags <= 2; tags++) {
		size_t l2 = ns(x, tags, "2001:db8::1", "fd00::5", 255);
		assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
		check_na(x, l2, "2001:db8::1", "fd00::5");
		l2 = ns(x, tags, "::", "fd00::5", 255);
		assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
		check_na(x, l2, "::", "fd00::5");
	}
}

/* RFC 4861 §7.1.1: a solicitation that has crossed a router is dropped. */
static void test_nd_hop_limit(void **state)
{
	static const uint8_t hlim[] = {254, 64, 1, 0};
	struct fx *x = *state;

	for (size_t i = 0; i < N(hlim); i++) {
		ns(x, 0, "2001:db8::1", CLIENT6, hlim[i]);
		assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
		assert_unchanged(x, 14 + 40 + 32);
		ns(x, 0, "::", CLIENT6, hlim[i]);
		assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
		assert_unchanged(x, 14 + 40 + 24);
	}
}

static void test_nd_foreign(void **state)
{
	static const char *const other[] = {
		"2001:db8:1::11", "2001:db8:1::", "fd00::4", "::", "ff02::1",
	};
	struct fx *x = *state;
	size_t l2;

	for (size_t i = 0; i < N(other); i++) {
		ns(x, 0, "2001:db8::1", other[i], 255);
		assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
		assert_unchanged(x, 14 + 40 + 32);
	}
	/* Other ICMPv6 messages (an echo request, an advertisement). */
	l2 = ns(x, 0, "2001:db8::1", CLIENT6, 255);
	x->f[l2 + 40] = 128;
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	assert_unchanged(x, 14 + 40 + 32);
	l2 = ns(x, 0, "2001:db8::1", CLIENT6, 255);
	x->f[l2 + 40] = 136;
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	/* Not ICMPv6. */
	l2 = ns(x, 0, "2001:db8::1", CLIENT6, 255);
	x->f[l2 + 6] = 6;
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	/* Cut short of the target address. */
	l2 = ns(x, 0, "::", CLIENT6, 255);
	x->len = (uint16_t)(l2 + 40 + 23);
	assert_int_equal(parse(x), BW_REPLAY_RX_OTHER);
	assert_unchanged(x, l2 + 40 + 23);
}

/* ---- DNS responses. ---- */

static void put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, uint16_t v)
{
	wr16(m->b + m->n, v);
	m->n += 2;
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

/* A message for query SEQ: the header (\a flags is its second word) and
 * \a qd questions www.example.com. A IN. */
static void start(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an,
                  uint16_t ns_, uint16_t ar)
{
	m->n = 0;
	put16(m, bw_replay_id(SEQ));
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns_);
	put16(m, ar);
	for (uint16_t i = 0; i < qd; i++) {
		put(m, qname, sizeof(qname));
		put16(m, 1);
		put16(m, 1);
	}
}

/* The fixed part of a record owned by the \a nlen octets of \a name. */
static void rr(struct msg *m, const void *name, size_t nlen, uint16_t type,
               uint16_t cls, uint32_t ttl, uint16_t rdlen)
{
	put(m, name, nlen);
	put16(m, type);
	put16(m, cls);
	put32(m, ttl);
	put16(m, rdlen);
}

/* An OPT record (RFC 6891 §6.1.3): the rcode's upper 8 bits \a ext. */
static void opt(struct msg *m, uint8_t ext, uint8_t version)
{
	rr(m, "", 1, 41, 1232, (uint32_t)ext << 24 | (uint32_t)version << 16, 0);
}

/* Answers with compressed names: www.example.com. A (a pointer to the
 * question), a.example.com. CNAME foo.example.com. (label + pointer). */
static void answers(struct msg *m)
{
	rr(m, "\xc0\x0c", 2, 1, 1, 300, 4);
	put(m, "\xc0\x00\x02\x01", 4);
	rr(m, "\1a\xc0\x10", 4, 5, 1, 300, 6);
	put(m, "\3foo\xc0\x10", 6);
}

/* The UDP header and the message, from port 53 to \a dport. */
static void udp_dns(uint8_t *udp, uint16_t dport, const struct msg *m)
{
	wr16(udp, 53);
	wr16(udp + 2, dport);
	wr16(udp + 4, (uint16_t)(8 + m->n));
	wr16(udp + 6, 0);
	memcpy(udp + 8, m->b, m->n);
}

/* The response from the server to CLIENT4: \a opt_words 32-bit words of
 * IP options (NOPs); sets the frame's length (padded). */
static size_t frame4(struct fx *x, unsigned tags, unsigned opt_words, uint16_t dport,
                     const struct msg *m)
{
	size_t ihl = 20 + 4 * opt_words, l2;
	uint8_t *ip;

	memset(x->f, 0, sizeof(x->f));
	l2 = eth(x->f, my_mac, peer_mac, tags, 0x0800);
	ip = x->f + l2;
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	wr16(ip + 2, (uint16_t)(ihl + 8 + m->n));
	wr16(ip + 6, 0x4000);                          /* DF */
	ip[8] = 64;
	ip[9] = 17;
	addr(SERVER4, ip + 12);
	addr(CLIENT4, ip + 16);
	memset(ip + 20, 1, ihl - 20);
	wr16(ip + 10, (uint16_t)~fold(sum16(ip, ihl, 0)));
	udp_dns(ip + ihl, dport, m);
	x->len = pad(l2 + ihl + 8 + m->n);
	return l2;
}

/* The response from the server to CLIENT6. */
static size_t frame6(struct fx *x, unsigned tags, uint16_t dport, const struct msg *m)
{
	uint8_t s[16], d[16];
	size_t l2;
	uint8_t *ip;

	addr(SERVER6, s);
	addr(CLIENT6, d);
	memset(x->f, 0, sizeof(x->f));
	l2 = eth(x->f, my_mac, peer_mac, tags, 0x86dd);
	ip = x->f + l2;
	ip6(ip, s, d, 17, 64, (uint16_t)(8 + m->n));
	udp_dns(ip + 40, dport, m);
	wr16(ip + 46, (uint16_t)~sum6(ip));
	x->len = pad(l2 + 40 + 8 + m->n);
	return l2;
}

/* The frame is a response to query SEQ with these rcode and TC. */
static void check_resp(struct fx *x, bool v6, uint16_t rcode, bool tc)
{
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_RESPONSE);
	assert_int_equal(x->r.slot, SLOT);
	assert_int_equal(x->r.id, bw_replay_id(SEQ));
	assert_int_equal(x->r.key, key_of(v6 ? CLIENT6 : CLIENT4));
	assert_int_equal(x->r.rcode, rcode);
	assert_int_equal(x->r.tc, tc);
}

/* The same message over IPv4 and IPv6. */
static void check_both(struct fx *x, const struct msg *m, uint16_t rcode, bool tc)
{
	frame4(x, 0, 0, PORT, m);
	check_resp(x, false, rcode, tc);
	frame6(x, 0, PORT, m);
	check_resp(x, true, rcode, tc);
}

static void test_dns_response(void **state)
{
	struct fx *x = *state;
	struct msg m;

	start(&m, QR | RD | 0x0480, 1, 2, 0, 0);     /* AA, RA */
	answers(&m);
	check_both(x, &m, 0, false);
	start(&m, QR | RD, 1, 0, 0, 1);
	opt(&m, 0, 0);
	check_both(x, &m, 0, false);
	start(&m, QR | TC | RD, 1, 0, 0, 1);
	opt(&m, 0, 0);
	check_both(x, &m, 0, true);
	/* No question, header only (padded to 60 octets over IPv4). */
	start(&m, QR | 5, 0, 0, 0, 0);
	check_both(x, &m, 5, false);
}

static void test_dns_nxdomain(void **state)
{
	struct fx *x = *state;
	struct msg m;

	start(&m, QR | RD | 3, 1, 0, 1, 0);
	rr(&m, "\xc0\x10", 2, 6, 1, 300, 0);
	check_both(x, &m, 3, false);
	start(&m, QR | RD | 3, 1, 0, 0, 1);
	opt(&m, 0, 0);
	check_both(x, &m, 3, false);
}

/* Queries and frames to other ports are not ours. */
static void test_dns_not_response(void **state)
{
	static const uint16_t ports[] = {
		53, BW_REPLAY_PORT_BASE - 1, BW_REPLAY_PORT_BASE + BW_REPLAY_PORTS,
		65535,
	};
	struct fx *x = *state;
	struct msg m;

	start(&m, RD, 1, 0, 0, 1);
	opt(&m, 0, 0);
	frame4(x, 0, 0, PORT, &m);
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	frame6(x, 0, PORT, &m);
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	start(&m, QR, 1, 0, 0, 0);
	for (size_t i = 0; i < N(ports); i++) {
		frame4(x, 0, 0, ports[i], &m);
		assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
		frame6(x, 0, ports[i], &m);
		assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	}
	/* The ends of the range are ours. */
	frame4(x, 0, 0, BW_REPLAY_PORT_BASE, &m);
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_RESPONSE);
	assert_int_equal(x->r.slot, 0x2au << 14);
	frame6(x, 0, BW_REPLAY_PORT_BASE + BW_REPLAY_PORTS - 1, &m);
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_RESPONSE);
	assert_int_equal(x->r.slot, 0x2au << 14 | (BW_REPLAY_PORTS - 1));
	/* Not UDP. */
	frame4(x, 0, 0, PORT, &m);
	x->f[14 + 9] = 6;
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	frame6(x, 0, PORT, &m);
	x->f[14 + 6] = 6;
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
}

/* BADCOOKIE (23): header 7, OPT 1; after answers, authority and glue. */
static void test_dns_badcookie(void **state)
{
	struct fx *x = *state;
	struct msg m;

	start(&m, QR | 7, 1, 2, 1, 2);
	answers(&m);
	rr(&m, "\xc0\x10", 2, 2, 1, 300, 5);         /* example.com. NS ns.(ptr) */
	put(&m, "\2ns\xc0\x10", 5);
	rr(&m, "\2ns\xc0\x10", 5, 1, 1, 300, 4);     /* its address */
	put(&m, "\xc0\x00\x02\x35", 4);
	opt(&m, 1, 0);
	check_both(x, &m, 23, false);
	/* With an option in the OPT record (a server cookie). */
	start(&m, QR | TC | 7, 1, 0, 0, 1);
	rr(&m, "", 1, 41, 1232, 1u << 24, 28);
	put16(&m, 10);
	put16(&m, 24);
	for (unsigned i = 0; i < 24; i++)
		put(&m, "\x5a", 1);
	check_both(x, &m, 23, true);
}

/* BADVERS (16): header 0, OPT 1 (version 1 was asked). */
static void test_dns_badvers(void **state)
{
	struct fx *x = *state;
	struct msg m;

	start(&m, QR | RD, 1, 0, 0, 1);
	opt(&m, 1, 0);
	check_both(x, &m, 16, false);
	start(&m, QR | RD, 1, 2, 0, 1);
	answers(&m);
	opt(&m, 1, 1);
	check_both(x, &m, 16, false);
	/* Past BADCOOKIE: the upper bits are kept as they are. */
	start(&m, QR | 0xf, 1, 0, 0, 1);
	opt(&m, 0xff, 0);
	check_both(x, &m, 0xfff, false);
}

/* A type-41 record outside the additional section is not the OPT. */
static void test_dns_opt_elsewhere(void **state)
{
	struct fx *x = *state;
	struct msg m;

	start(&m, QR | 2, 1, 1, 0, 1);
	opt(&m, 1, 0);
	rr(&m, "\xc0\x0c", 2, 1, 1, 300, 4);
	put(&m, "\xc0\x00\x02\x01", 4);
	check_both(x, &m, 2, false);
	/* No additional section: not looked at. */
	start(&m, QR | 2, 1, 1, 0, 0);
	opt(&m, 1, 0);
	check_both(x, &m, 2, false);
}

/* Messages that cannot be walked: the header's 4-bit rcode. */
static void test_dns_malformed(void **state)
{
	struct fx *x = *state;
	struct msg m;

	/* An answer whose RDATA runs past the end, then an OPT. */
	start(&m, QR | 7, 1, 1, 0, 1);
	rr(&m, "\xc0\x0c", 2, 1, 1, 300, 0xffff);
	put(&m, "\xc0\x00\x02\x01", 4);
	opt(&m, 1, 0);
	check_both(x, &m, 7, false);
	/* Labels with the bits 0x40 or 0x80 (RFC 6891 §5: no extended
	 * label types), in the question and in an answer's owner. */
	for (uint8_t bits = 0x40; bits != 0; bits = (uint8_t)(bits << 1)) {
		start(&m, QR | 7, 1, 0, 0, 1);
		m.b[12] |= bits;
		opt(&m, 1, 0);
		check_both(x, &m, 7, false);
		start(&m, QR | 7, 1, 1, 0, 1);
		rr(&m, (const uint8_t[]){bits | 1, 'a', 0}, 3, 1, 1, 300, 4);
		put(&m, "\xc0\x00\x02\x01", 4);
		opt(&m, 1, 0);
		check_both(x, &m, 7, false);
	}
	/* The same labels, where reading their low 6 bits plus the flag bits
	 * as a length (65, 129) would land on a good question and OPT. */
	for (uint8_t bits = 0x40; bits != 0; bits = (uint8_t)(bits << 1)) {
		start(&m, QR | 7, 0, 0, 0, 1);
		wr16(m.b + 4, 1);
		put(&m, (const uint8_t[]){bits | 1}, 1);
		for (unsigned i = 0; i < (bits | 1u); i++)
			put(&m, "a", 1);
		put(&m, "\0\0\1\0\1", 5);
		opt(&m, 1, 0);
		check_both(x, &m, 7, false);
	}
	/* More records announced than present. */
	start(&m, QR | 7, 1, 0xffff, 0, 1);
	opt(&m, 1, 0);
	check_both(x, &m, 7, false);
	start(&m, QR | 7, 1, 0, 0, 0);
	wr16(m.b + 4, 0xffff);
	wr16(m.b + 10, 0xffff);
	check_both(x, &m, 7, false);
	/* Header only, with records announced. */
	start(&m, QR | 7, 0, 0, 0, 1);
	check_both(x, &m, 7, false);
	/* The OPT record cut in its TTL (the upper bits are there). */
	start(&m, QR | 7, 1, 0, 0, 1);
	opt(&m, 1, 0);
	m.n -= 4;
	check_both(x, &m, 7, false);
	/* The question cut in its class. */
	start(&m, QR | 7, 1, 0, 0, 1);
	m.n -= 1;
	check_both(x, &m, 7, false);
	/* A compression pointer cut after its first octet. */
	start(&m, QR | 7, 1, 0, 0, 1);
	put(&m, "\xc0", 1);
	check_both(x, &m, 7, false);
	/* A label running past the end. */
	start(&m, QR | 7, 1, 0, 0, 1);
	put(&m, "\x3f" "abc", 4);
	check_both(x, &m, 7, false);
}

/* Names are skipped, not followed: a pointer loop does not hang. */
static void test_dns_pointer_loop(void **state)
{
	struct fx *x = *state;
	struct msg m;

	start(&m, QR | 7, 1, 1, 0, 1);
	rr(&m, (const uint8_t[]){0xc0, (uint8_t)m.n}, 2, 1, 1, 300, 4);
	put(&m, "\xc0\x00\x02\x01", 4);
	opt(&m, 1, 0);
	check_both(x, &m, 23, false);
}

/* The UDP length field ends the message: octets after it (Ethernet padding
 * or trailing garbage) are not read as records. */
static void test_dns_udp_length(void **state)
{
	struct fx *x = *state;
	struct msg m;
	size_t l2, dns_len;

	/* An OPT after the datagram's end is not found. */
	start(&m, QR | RD, 1, 0, 0, 1);
	dns_len = m.n;
	opt(&m, 1, 0);
	for (int v6 = 0; v6 <= 1; v6++) {
		size_t udp;
		l2 = v6 ? frame6(x, 0, PORT, &m) : frame4(x, 0, 0, PORT, &m);
		udp = l2 + (v6 ? 40 : 20);
		check_resp(x, v6, 16, false);
		wr16(x->f + udp + 4, (uint16_t)(8 + dns_len));
		check_resp(x, v6, 0, false);
	}
	/* A short response padded to 60 octets, the padding not zero. */
	start(&m, QR | 3, 0, 0, 0, 1);
	l2 = frame4(x, 0, 0, PORT, &m);
	assert_int_equal(x->len, ETH_MIN);
	assert_int_equal(l2 + 28 + m.n + 6, ETH_MIN);
	memcpy(x->f + l2 + 28 + m.n, "\0\0\x29\x04\xd0\x01", 6);
	check_resp(x, false, 3, false);
	/* A UDP length past the frame: the frame's end is used. */
	start(&m, QR | 7, 1, 0, 0, 1);
	opt(&m, 1, 0);
	l2 = frame4(x, 0, 0, PORT, &m);
	wr16(x->f + l2 + 24, 1400);
	check_resp(x, false, 23, false);
	l2 = frame6(x, 0, PORT, &m);
	wr16(x->f + l2 + 44, 1400);
	check_resp(x, true, 23, false);
}

/* A UDP length under 8 + 12: the datagram holds no whole DNS header, so
 * it is no response, whatever the octets after it (padding) hold. */
static void test_dns_udp_length_short(void **state)
{
	static const uint16_t ulen[] = {0, 7, 8, 12, 19};
	struct fx *x = *state;
	struct msg m;

	start(&m, QR | 3, 0, 0, 0, 0);
	for (size_t i = 0; i < N(ulen); i++) {
		size_t l2 = frame4(x, 0, 0, PORT, &m);
		wr16(x->f + l2 + 20 + 4, ulen[i]);
		assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
		l2 = frame6(x, 0, PORT, &m);
		wr16(x->f + l2 + 40 + 4, ulen[i]);
		assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	}
	/* 8 + 12 is enough. */
	size_t l2 = frame4(x, 0, 0, PORT, &m);
	wr16(x->f + l2 + 20 + 4, 8 + 12);
	check_resp(x, false, 3, false);
}

/* IPv4 options (IHL > 5) move the UDP header; bad IHL, fragments, other
 * versions are not responses. */
static void test_dns_ip_options(void **state)
{
	static const unsigned words[] = {1, 3, 10};
	struct fx *x = *state;
	struct msg m;
	size_t l2;

	start(&m, QR | 7, 1, 2, 0, 1);
	answers(&m);
	opt(&m, 1, 0);
	for (size_t i = 0; i < N(words); i++) {
		frame4(x, 0, words[i], PORT, &m);
		check_resp(x, false, 23, false);
	}
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		l2 = frame4(x, 0, 0, PORT, &m);
		x->f[l2] = (uint8_t)(0x40 | ihl);
		assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	}
	/* IHL 0, with an IP header that would read as a response to us. */
	l2 = frame4(x, 0, 0, PORT, &m);
	x->f[l2] = 0x40;
	wr16(x->f + l2 + 2, PORT);
	x->f[l2 + 10] = 0x80;
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	l2 = frame4(x, 0, 0, PORT, &m);
	x->f[l2 + 6] |= 0x20;                          /* MF */
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	l2 = frame4(x, 0, 0, PORT, &m);
	x->f[l2 + 7] = 1;                              /* offset 8 */
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	l2 = frame4(x, 0, 0, PORT, &m);
	x->f[l2] = 0x65;
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	/* IHL 15 and a frame that ends inside the options or the UDP header. */
	l2 = frame4(x, 0, 10, PORT, &m);
	x->len = (uint16_t)(l2 + 60 + 7);
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	x->len = (uint16_t)(l2 + 40);
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
}

static void test_dns_vlan(void **state)
{
	struct fx *x = *state;
	struct msg m;

	start(&m, QR | 7, 1, 2, 0, 1);
	answers(&m);
	opt(&m, 1, 0);
	for (unsigned tags = 1; tags <= 2; tags++) {
		assert_int_equal(frame4(x, tags, 1, PORT, &m), 14 + 4 * tags);
		check_resp(x, false, 23, false);
		assert_int_equal(frame6(x, tags, PORT, &m), 14 + 4 * tags);
		check_resp(x, true, 23, false);
	}
}

/* Every prefix of a response: no read past it (ASan), never a reply, and
 * the header's rcode unless the whole OPT fixed part is there. */
static void test_dns_cut(void **state)
{
	struct fx *x = *state;
	struct msg m;

	start(&m, QR | 7, 1, 2, 0, 1);
	answers(&m);
	opt(&m, 1, 0);
	for (int v6 = 0; v6 <= 1; v6++) {
		size_t l2 = v6 ? frame6(x, 1, PORT, &m) : frame4(x, 1, 2, PORT, &m);
		uint16_t full = x->len;
		size_t dns = l2 + (v6 ? 40 : 28) + 8;
		for (uint16_t len = 0; len <= full; len++) {
			x->len = len;
			enum bw_replay_rx rx = parse_exact(x);
			if (len < dns + 12) {
				assert_int_equal(rx, BW_REPLAY_RX_OTHER);
				continue;
			}
			assert_int_equal(rx, BW_REPLAY_RX_RESPONSE);
			assert_int_equal(x->r.rcode, len < dns + m.n ? 7 : 23);
		}
	}
}

/* Random messages behind good headers: no crash, no read past the frame,
 * the low 4 bits of the rcode always the header's. */
static void test_dns_random(void **state)
{
	struct fx *x = *state;
	uint64_t seed = 0x2545f4914f6cdd1dull;
	struct msg m;

	for (unsigned i = 0; i < 20000; i++) {
		m.n = 12 + i % 200;
		for (size_t k = 0; k < m.n; k++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			m.b[k] = (uint8_t)seed;
		}
		/* Small counts and short names now and then, to get further. */
		if (i / 2 % 2 == 0)
			memcpy(m.b + 4, "\0\1\0\1\0\0\0\1", 8);
		if (i % 4 == 0)
			for (size_t k = 12; k < m.n; k++)
				m.b[k] &= 0x3f;
		m.b[2] |= 0x80;
		wr16(m.b, bw_replay_id(SEQ));
		if (i % 2 == 0)
			frame4(x, 0, i % 3, PORT, &m);
		else
			frame6(x, 0, PORT, &m);
		assert_int_equal(parse_exact(x), BW_REPLAY_RX_RESPONSE);
		assert_int_equal(x->r.rcode & 0xf, m.b[3] & 0xf);
		assert_int_equal(x->r.tc, (m.b[2] & 0x02) != 0);
	}
}

static void test_short_frames(void **state)
{
	struct fx *x = *state;
	struct msg m;

	memset(x->f, 0, sizeof(x->f));
	for (uint16_t len = 0; len < 14; len++) {
		x->len = len;
		assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	}
	/* An unknown EtherType, and a VLAN tag in front of it. */
	start(&m, QR, 1, 0, 0, 0);
	frame4(x, 0, 0, PORT, &m);
	wr16(x->f + 12, 0x88cc);
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
	frame4(x, 1, 0, PORT, &m);
	wr16(x->f + 16, 0x88cc);
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_OTHER);
}

/* ---- Queries and their responses. ---- */

/* bw_replay_build() writes a query whose response bw_replay_parse()
 * matches to the same slot, ID and key; checksums right. */
static void build_parse(struct fx *x, bool v6)
{
	struct bw_replay_tmpl t = {.l3 = 14, .l4 = v6 ? 54 : 34, .v6 = v6};
	uint8_t q[FRAME_MAX], a[16];
	uint8_t *ip = x->f + t.l3, *udp = x->f + t.l4;
	struct msg m;
	uint32_t key;

	start(&m, RD, 1, 0, 0, 1);
	opt(&m, 0, 0);
	if (v6)
		frame6(x, 0, 5353, &m);
	else
		frame4(x, 0, 0, 5353, &m);
	memcpy(q, x->f, x->len);
	t.len = x->len;
	x->s.arena = q;
	x->s.t = &t;
	x->s.n = 1;
	memset(x->f, 0, sizeof(x->f));
	key = bw_replay_build(&x->s, &t, &x->rw, SEQ, x->f);
	x->s.arena = NULL;
	x->s.t = NULL;
	x->s.n = 0;

	/* The query. */
	assert_memory_equal(x->f, peer_mac, 6);
	assert_memory_equal(x->f + 6, my_mac, 6);
	if (v6) {
		assert_memory_equal(ip + 8, x->rw.src6.addr, 6);
		addr("2001:db8::35", a);
		assert_memory_equal(ip + 24, a, 16);
		assert_int_equal(sum6(ip), 0xffff);
	} else {
		assert_memory_equal(ip + 12, x->rw.src4.addr, 3);
		addr("192.0.2.35", a);
		assert_memory_equal(ip + 16, a, 4);
		assert_int_equal(fold(sum16(ip, 20, 0)), 0xffff);
		assert_int_equal(sum4_udp(ip), 0xffff);
	}
	assert_int_equal(rd16(udp), PORT);
	assert_int_equal(rd16(udp + 2), 53);
	assert_int_equal(rd16(udp + 8), bw_replay_id(SEQ));

	/* Its response: addresses and ports swapped, QR set. */
	size_t alen = v6 ? 16 : 4, asrc = v6 ? 8 : 12;
	memcpy(a, ip + asrc, alen);
	memmove(ip + asrc, ip + asrc + alen, alen);
	memcpy(ip + asrc + alen, a, alen);
	wr16(udp + 2, PORT);
	wr16(udp, 53);
	udp[10] |= 0x80;
	udp[11] |= 3;
	assert_int_equal(parse_exact(x), BW_REPLAY_RX_RESPONSE);
	assert_int_equal(x->r.key, key);
	assert_int_equal(x->r.slot, SLOT);
	assert_int_equal(x->r.id, bw_replay_id(SEQ));
	assert_int_equal(x->r.rcode, 3);
}

static void test_build_parse(void **state)
{
	struct fx *x = *state;
	char text[INET_ADDRSTRLEN];
	uint8_t client[4];

	memcpy(x->rw.dst_mac, peer_mac, 6);
	x->rw.dst_mac_set = true;
	addr("192.0.2.35", x->rw.dst4);
	x->rw.dst4_set = true;
	addr("2001:db8::35", x->rw.dst6);
	x->rw.dst6_set = true;
	x->rw.dst_port = 53;
	x->rw.dst_port_set = true;
	assert_int_equal(bw_replay_prefix_parse("198.51.100.0/24", false, &x->rw.src4), 0);
	assert_int_equal(bw_replay_prefix_parse("2001:db8:1::/48", true, &x->rw.src6), 0);
	build_parse(x, false);
	/* ARP requests for the source the query got are answered. */
	memcpy(client, x->f + 14 + 16, 4);
	assert_non_null(inet_ntop(AF_INET, client, text, sizeof(text)));
	size_t l2 = arp(x, 0, "198.51.100.1", text, 1);
	assert_int_equal(parse(x), BW_REPLAY_RX_REPLY);
	check_arp_reply(x, l2, "198.51.100.1", text);
	build_parse(x, true);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_arp_reply),
		T(test_arp_foreign),
		T(test_arp_not_request),
		T(test_arp_prefix),
		T(test_arp_vlan),
		T(test_nd_reply),
		T(test_nd_dad),
		T(test_nd_prefix),
		T(test_nd_vlan),
		T(test_nd_hop_limit),
		T(test_nd_foreign),
		T(test_dns_response),
		T(test_dns_nxdomain),
		T(test_dns_not_response),
		T(test_dns_badcookie),
		T(test_dns_badvers),
		T(test_dns_opt_elsewhere),
		T(test_dns_malformed),
		T(test_dns_pointer_loop),
		T(test_dns_udp_length),
		T(test_dns_udp_length_short),
		T(test_dns_ip_options),
		T(test_dns_vlan),
		T(test_dns_cut),
		T(test_dns_random),
		T(test_short_frames),
		T(test_build_parse),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
