/*  Unit tests: the packet module (bw_pkt_handle).
 *
 *  Responses rewritten in place (Ethernet with VLAN tags, IPv4, IPv6, UDP,
 *  checksum offload), ARP, ICMP echo and neighbour discovery; a table of
 *  hostile frames, each with the verdict and the one counter it must move;
 *  a deterministic mutation loop.  Checksums are verified with the test's
 *  own byte-wise code, never with bw_pkt_cksum_*, and every call checks
 *  canary bytes after the writable area.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulwark/answer.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "bulwark/zoneset.h"
#include "pkt.h"
#include "util.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define ETH_IPV4    0x0800
#define ETH_ARP     0x0806
#define ETH_IPV6    0x86dd
#define L3          14            /* IP header in an untagged frame. */
#define UDP4        (L3 + 20)     /* UDP header, IPv4 without options. */
#define UDP6        (L3 + 40)
#define PEER_PORT   40000
#define CAP         2048          /* Writable bytes for ordinary frames. */
#define BUF_CAP     9216          /* Largest cap: jumbo frames. */
#define CANARY      64
#define CANARY_BYTE 0xa5
#define SLACK_BYTE  0xee          /* Fills [len, cap): never to be read. */
#define BOTH_OFFLOADS (BW_PKT_OFFLOAD_IPV4 | BW_PKT_OFFLOAD_UDP)

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x53 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t our_v4[4] = { 192, 0, 2, 53 };
static const uint8_t peer_v4[4] = { 198, 51, 100, 7 };
static const uint8_t other_v4[4] = { 192, 0, 2, 54 };
static const uint8_t our_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };
static const uint8_t peer_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7 };
/* Shares its low 24 bits with our_v6, so the same solicited-node group. */
static const uint8_t other_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x53 };
static const uint8_t snm_v6[16] = { 0xff, 0x02, [11] = 1, 0xff, 0, 0, 0x53 };
static const uint8_t all_nodes_v6[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t unspec_v6[16];

#define C100 "0123456789012345678901234567890123456789" \
             "0123456789012345678901234567890123456789" \
             "01234567890123456789"

/* huge: 16 TXT records of 101 octets, a response of about 1.8 KB. */
#define HUGE1(x) "huge TXT \"" #x C100 "\"\n"
#define HUGE4(a, b, c, d) HUGE1(a) HUGE1(b) HUGE1(c) HUGE1(d)
#define HUGE_TXT HUGE4(a, b, c, d) HUGE4(e, f, g, h) HUGE4(i, j, k, l) \
                 HUGE4(m, n, o, p)

/* big: about 560 octets of TXT, over 512 and under 1232. */
static const char zone_text[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
	"@ NS ns1\n"
	"@ NS ns2\n"
	"ns1 A 192.0.2.1\n"
	"ns2 A 192.0.2.2\n"
	"www A 192.0.2.80\n"
	"www AAAA 2001:db8::80\n"
	"big TXT \"a" C100 "\"\n"
	"big TXT \"b" C100 "\"\n"
	"big TXT \"c" C100 "\"\n"
	"big TXT \"d" C100 "\"\n"
	"big TXT \"e" C100 "\"\n"
	HUGE_TXT
	"sub NS ns.sub\n"
	"ns.sub A 192.0.2.153\n";

struct fixture {
	struct bw_table *table;
	struct bw_zoneset *zs;
	struct bw_answer_conf conf;
	struct bw_pkt_port port;
	struct bw_pkt_stats st;
	struct bw_pkt_ctx ctx;
	uint8_t buf[BUF_CAP + CANARY];  /* Frame, slack up to cap, canary. */
	uint8_t orig[BUF_CAP];          /* The frame as it was received. */
	uint8_t want[BW_ANSWER_MAX];    /* bw_answer()'s own response. */
};

/* Static rather than calloc'ed: bw_pkt_stats is 64-byte aligned. */
static struct fixture fx;
static struct fixture *const F = &fx;

static int setup(void **state)
{
	(void)state;
	F->table = tu_load(zone_text, "example.com.");
	F->zs = bw_zoneset_new(&F->table, 1);
	assert_non_null(F->zs);
	bw_answer_conf_default(&F->conf);
	memcpy(F->port.mac, our_mac, 6);
	F->port.mtu = 1500;
	F->port.n4 = F->port.n6 = 1;
	memcpy(F->port.v4[0], our_v4, 4);
	F->port.v4_port[0] = 53;
	memcpy(F->port.v6[0], our_v6, 16);
	F->port.v6_port[0] = 53;
	F->ctx.port = &F->port;
	F->ctx.zs = F->zs;
	F->ctx.answer = &F->conf;
	F->ctx.st = &F->st;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bw_zoneset_free(F->zs);
	bw_table_close(F->table);
	return 0;
}

/* ---- Checksums, byte by byte (RFC 1071). ---- */

/* Adds big-endian 16-bit words to a sum; an odd last byte is padded. */
static uint32_t sum_add(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

/* Folds a sum to 16 bits, not inverted. */
static uint16_t sum_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* Pseudo-header sum (RFC 768; RFC 8200 8.1 sums to the same for
 * lengths below 64 KiB). */
static uint32_t sum_pseudo(const uint8_t *ip, uint8_t proto, size_t len)
{
	uint8_t tail[4] = { 0, proto, (uint8_t)(len >> 8), (uint8_t)len };

	if (ip[0] >> 4 == 6)
		return sum_add(sum_add(0, ip + 8, 32), tail, 4);
	return sum_add(sum_add(0, ip + 12, 8), tail, 4);
}

/* Folded sum of an L4 segment under IP header \a ip (pseudo-header
 * included except for ICMPv4): 0xffff when its checksum is right. */
static uint16_t l4_sum(const uint8_t *ip, const uint8_t *l4, size_t len,
                       uint8_t proto)
{
	uint32_t s = proto == IPPROTO_ICMP ? 0 : sum_pseudo(ip, proto, len);

	return sum_fold(sum_add(s, l4, len));
}

/* Sets the checksum of a UDP, ICMP or ICMPv6 segment. */
static void l4_fix(const uint8_t *ip, uint8_t *l4, size_t len, uint8_t proto)
{
	size_t at = proto == IPPROTO_UDP ? 6 : 2;
	uint16_t ck;

	if (len < at + 2)
		return;
	bw_put16(l4 + at, 0);
	ck = (uint16_t)~l4_sum(ip, l4, len, proto);
	if (ck == 0 && proto == IPPROTO_UDP)
		ck = 0xffff;                    /* 0 means "no checksum". */
	bw_put16(l4 + at, ck);
}

/* Sets the IPv4 header checksum (over IHL words). */
static void ip4_fix(uint8_t *ip)
{
	bw_put16(ip + 10, 0);
	bw_put16(ip + 10, (uint16_t)~sum_fold(sum_add(0, ip, (ip[0] & 0xfu) * 4)));
}

static bool ip4_ok(const uint8_t *ip)
{
	return sum_fold(sum_add(0, ip, (ip[0] & 0xfu) * 4)) == 0xffff;
}

/* Recomputes the checksums of the IP packet at f + l3 as far as they lie
 * inside the frame (also on mangled frames). */
static void fix_cksums(uint8_t *f, size_t len, size_t l3)
{
	uint8_t *ip = f + l3;
	size_t hl, plen;
	uint8_t proto;

	if (len <= l3)
		return;
	if (ip[0] >> 4 == 4) {
		hl = (ip[0] & 0xfu) * 4;
		if (hl < 20 || l3 + hl > len)
			return;
		ip4_fix(ip);
		plen = bw_get16(ip + 2);
		if (plen < hl || l3 + plen > len)
			return;
		plen -= hl;
		proto = ip[9];
	} else if (ip[0] >> 4 == 6 && l3 + 40 <= len) {
		hl = 40;
		plen = bw_get16(ip + 4);
		proto = ip[6];
		if (l3 + hl + plen > len)
			return;
	} else {
		return;
	}
	if (proto == IPPROTO_UDP || proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		l4_fix(ip, ip + hl, plen, proto);
}

/* ---- Frame builders: each writes at f and returns a length. ---- */

/* Ethernet header from the peer to \a dst with \a tags VLAN tags (1:
 * 802.1Q; 2: 802.1ad outer, 802.1Q inner); returns its length. */
static size_t put_eth(uint8_t *f, const uint8_t *dst, int tags, uint16_t type)
{
	size_t off = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac, 6);
	if (tags >= 2) {
		bw_put16(f + off, 0x88a8);
		bw_put16(f + off + 2, 100);              /* S-VID 100. */
		off += 4;
	}
	if (tags >= 1) {
		bw_put16(f + off, 0x8100);
		bw_put16(f + off + 2, 0x2000 | 42);      /* PCP 1, VID 42. */
		off += 4;
	}
	bw_put16(f + off, type);
	return off + 2;
}

/* IPv4 header without options, peer to \a dst, valid checksum. */
static void put_ip4(uint8_t *ip, uint8_t proto, const uint8_t *dst,
                    size_t payload)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[1] = 0x10;                                /* Some TOS, kept. */
	bw_put16(ip + 2, (uint16_t)(20 + payload));
	bw_put16(ip + 4, 0x4d2);
	ip[8] = 57;
	ip[9] = proto;
	memcpy(ip + 12, peer_v4, 4);
	memcpy(ip + 16, dst, 4);
	ip4_fix(ip);
}

static void put_ip6(uint8_t *ip, uint8_t next, uint8_t hop,
                    const uint8_t *src, const uint8_t *dst, size_t plen)
{
	ip[0] = 0x60;
	ip[1] = 0x0b;                                /* Flow label, kept. */
	ip[2] = 0xee;
	ip[3] = 0xf0;
	bw_put16(ip + 4, (uint16_t)plen);
	ip[6] = next;
	ip[7] = hop;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

/* UDP from the peer's port to \a dport; checksum left to fix_cksums(). */
static size_t put_udp(uint8_t *u, uint16_t dport, const uint8_t *data,
                      size_t len)
{
	bw_put16(u, PEER_PORT);
	bw_put16(u + 2, dport);
	bw_put16(u + 4, (uint16_t)(8 + len));
	bw_put16(u + 6, 0);
	memcpy(u + 8, data, len);
	return 8 + len;
}

/* A UDP frame from the peer to our address of one family. */
static size_t udp_frame(uint8_t *f, int tags, bool v6, uint16_t dport,
                        const uint8_t *data, size_t dlen)
{
	size_t l3 = put_eth(f, our_mac, tags, v6 ? ETH_IPV6 : ETH_IPV4);
	size_t hl = v6 ? 40 : 20, n;

	if (v6)
		put_ip6(f + l3, IPPROTO_UDP, 64, peer_v6, our_v6, 8 + dlen);
	else
		put_ip4(f + l3, IPPROTO_UDP, our_v4, 8 + dlen);
	n = l3 + hl + put_udp(f + l3 + hl, dport, data, dlen);
	fix_cksums(f, n, l3);
	return n;
}

/* An untagged IPv4 query frame carrying the DNS message \a dns. */
static size_t dns4(uint8_t *f, const uint8_t *dns, size_t dlen)
{
	return udp_frame(f, 0, false, 53, dns, dlen);
}

/* www.example.com. A over IPv4 (or AAAA over IPv6), untagged. */
static size_t www4(uint8_t *f)
{
	uint8_t q[512];

	return dns4(f, q, tu_query(q, "www.example.com.", BW_TYPE_A, NULL));
}

static size_t www6(uint8_t *f)
{
	uint8_t q[512];
	size_t n = tu_query(q, "www.example.com.", BW_TYPE_AAAA, NULL);

	return udp_frame(f, 0, true, 53, q, n);
}

/* ARP packet (padded to 60 octets) from the peer asking for \a tpa. */
static size_t arp_frame(uint8_t *f, int tags, uint16_t op, const uint8_t *tpa)
{
	size_t l3 = put_eth(f, bcast_mac, tags, ETH_ARP);
	uint8_t *a = f + l3;

	memcpy(a, "\x00\x01\x08\x00\x06\x04", 6);
	bw_put16(a + 6, op);
	memcpy(a + 8, peer_mac, 6);
	memcpy(a + 14, peer_v4, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, tpa, 4);
	memset(a + 28, 0, 60 - l3 - 28);
	return 60;
}

/* ICMP echo request (id 0x4242, seq 7) with \a plen payload octets. */
static size_t echo4_frame(uint8_t *f, size_t plen)
{
	uint8_t *icmp = f + UDP4;

	put_eth(f, our_mac, 0, ETH_IPV4);
	put_ip4(f + L3, IPPROTO_ICMP, our_v4, 8 + plen);
	memcpy(icmp, "\x08\x00\x00\x00\x42\x42\x00\x07", 8);
	for (size_t i = 0; i < plen; i++)
		icmp[8 + i] = (uint8_t)(i * 7 + 1);
	fix_cksums(f, UDP4 + 8 + plen, L3);
	return UDP4 + 8 + plen;
}

/* ICMPv6 echo request from the peer to \a dst. */
static size_t echo6_frame(uint8_t *f, const uint8_t *dst, size_t plen)
{
	uint8_t *icmp = f + UDP6;

	put_eth(f, our_mac, 0, ETH_IPV6);
	put_ip6(f + L3, IPPROTO_ICMPV6, 64, peer_v6, dst, 8 + plen);
	memcpy(icmp, "\x80\x00\x00\x00\x42\x42\x00\x07", 8);
	for (size_t i = 0; i < plen; i++)
		icmp[8 + i] = (uint8_t)(i * 3 + 5);
	fix_cksums(f, UDP6 + 8 + plen, L3);
	return UDP6 + 8 + plen;
}

/* Neighbour solicitation from \a src to \a dst (a multicast group or our
 * unicast address) for \a target, with an SLLA option. */
static size_t ns_frame(uint8_t *f, const uint8_t *src, const uint8_t *dst,
                       const uint8_t *target, uint8_t hop)
{
	uint8_t mmac[6] = { 0x33, 0x33, dst[12], dst[13], dst[14], dst[15] };
	uint8_t *icmp = f + UDP6;

	put_eth(f, dst[0] == 0xff ? mmac : our_mac, 0, ETH_IPV6);
	put_ip6(f + L3, IPPROTO_ICMPV6, hop, src, dst, 32);
	memset(icmp, 0, 32);
	icmp[0] = 135;
	memcpy(icmp + 4, "\xde\xad\xbe\xef", 4);       /* Reserved: ignored. */
	memcpy(icmp + 8, target, 16);
	icmp[24] = 1;                                /* SLLA, 8 octets. */
	icmp[25] = 1;
	memcpy(icmp + 26, peer_mac, 6);
	fix_cksums(f, UDP6 + 32, L3);
	return UDP6 + 32;
}

/* ---- Running bw_pkt_handle() and checking what it did. ---- */

/* Handles F->buf (len octets, cap writable): keeps the frame as received
 * in F->orig, fills the slack, checks the canary after cap. */
static enum bw_pkt_verdict run(size_t len, size_t cap, struct bw_pkt_out *out)
{
	enum bw_pkt_verdict v;

	assert_true(len <= cap && cap <= BUF_CAP);
	memcpy(F->orig, F->buf, len);
	memset(F->buf + len, SLACK_BYTE, cap - len);
	memset(F->buf + cap, CANARY_BYTE, CANARY);
	memset(out, 0, sizeof(*out));
	v = bw_pkt_handle(&F->ctx, F->buf, len, cap, out);
	for (size_t i = 0; i < CANARY; i++)
		assert_int_equal(F->buf[cap + i], CANARY_BYTE);
	return v;
}

/* The counters, without the alignment padding at the end. */
#define STATS_WORDS ((offsetof(struct bw_pkt_stats, qtype) + \
                      sizeof(((struct bw_pkt_stats *)0)->qtype)) / 8)

/* Name of counter word \a i of bw_pkt_stats, for failure messages. */
static const char *counter_name(size_t i, char *buf, size_t cap)
{
	static const char *const head[] = { "rx", "tx", "answers", "arp", "nd",
		"echo", "tc", "edns", "do_bit", "exc_tx", "busy_cycles" };
	size_t at = ARRAY_LEN(head);

	if (i < at)
		return head[i];
	if (i < at + BW_DROP_MAX)
		return bw_pkt_drop_names[i - at];
	at += BW_DROP_MAX;
	if (i < at + BW_EXC_MAX)
		return bw_pkt_exc_names[i - at];
	at += BW_EXC_MAX;
	if (i < at + BW_PKT_RCODES) {
		snprintf(buf, cap, "rcode[%zu]", i - at);
		return buf;
	}
	return bw_pkt_qtype_names[i - at - BW_PKT_RCODES];
}

/* Asserts that every counter equals \a want (a snapshot taken before,
 * plus the expected moves). */
static void expect_stats(const struct bw_pkt_stats *want)
{
	const uint64_t *w = (const uint64_t *)want;
	const uint64_t *h = (const uint64_t *)&F->st;
	char buf[16];

	assert_int_equal(offsetof(struct bw_pkt_stats, drop), 11 * 8);
	for (size_t i = 0; i < STATS_WORDS; i++)
		if (w[i] != h[i])
			fail_msg("counter %s: want %llu, have %llu",
			         counter_name(i, buf, sizeof(buf)),
			         (unsigned long long)w[i], (unsigned long long)h[i]);
}

/* Sum of the counters of which exactly one moves per frame. */
static uint64_t outcomes(const struct bw_pkt_stats *s)
{
	uint64_t n = s->answers + s->arp + s->nd + s->echo;

	for (size_t i = 0; i < BW_DROP_MAX; i++)
		n += s->drop[i];
	for (size_t i = 0; i < BW_EXC_MAX; i++)
		n += s->exc[i];
	return n;
}

/* What every BW_PKT_TX frame must satisfy: within cap, from our MAC,
 * lengths consistent with out->len, valid checksums (unless offloaded). */
static void check_tx(const uint8_t *r, size_t cap, const struct bw_pkt_out *o,
                     unsigned offload)
{
	assert_true(o->len <= cap);
	assert_true(o->l2_len >= 14 && o->l2_len + o->l3_len <= o->len);
	assert_memory_equal(r + 6, our_mac, 6);
	if (o->l3_len == 0) {                       /* ARP. */
		assert_int_equal(o->len, o->l2_len + 28);
		return;
	}
	const uint8_t *ip = r + o->l2_len, *l4 = ip + o->l3_len;
	size_t l4len = o->len - o->l2_len - o->l3_len;
	uint8_t proto;

	if (o->ipv6) {
		assert_int_equal(o->l3_len, 40);
		assert_int_equal(ip[0] >> 4, 6);
		assert_int_equal(bw_get16(ip + 4), l4len);
		proto = ip[6];
	} else {
		assert_int_equal(o->l3_len, 20);
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(bw_get16(ip + 2), 20 + l4len);
		proto = ip[9];
		if (!o->udp || !(offload & BW_PKT_OFFLOAD_IPV4))
			assert_true(ip4_ok(ip));
	}
	assert_int_equal(o->udp, proto == IPPROTO_UDP);
	if (o->udp) {
		assert_int_equal(bw_get16(l4 + 4), l4len);
		if (offload & BW_PKT_OFFLOAD_UDP)
			return;
		assert_int_not_equal(bw_get16(l4 + 6), 0);
	}
	assert_int_equal(l4_sum(ip, l4, l4len, proto), 0xffff);
}

/* Ethernet header of a response: to the sender, from us, tags kept. */
static void check_eth(size_t l2)
{
	assert_memory_equal(F->buf, F->orig + 6, 6);
	assert_memory_equal(F->buf + 6, our_mac, 6);
	assert_memory_equal(F->buf + 12, F->orig + 12, l2 - 12);
}

/* IP header of a response to F->orig: addresses swapped, TTL/hop limit
 * \a ttl, payload length \a plen, valid IPv4 checksum. */
static void check_ip(size_t l2, bool v6, size_t plen, uint8_t ttl)
{
	const uint8_t *q = F->orig + l2, *r = F->buf + l2;

	if (v6) {
		assert_memory_equal(r, q, 4);           /* Version, class, flow. */
		assert_int_equal(bw_get16(r + 4), plen);
		assert_int_equal(r[6], q[6]);
		assert_int_equal(r[7], ttl);
		assert_memory_equal(r + 8, q + 24, 16);
		assert_memory_equal(r + 24, q + 8, 16);
		return;
	}
	assert_int_equal(r[0], 0x45);
	assert_int_equal(r[1], q[1]);
	assert_int_equal(bw_get16(r + 2), 20 + plen);
	assert_int_equal(bw_get16(r + 6), 0x4000);  /* DF, no offset. */
	assert_int_equal(r[8], ttl);
	assert_int_equal(r[9], q[9]);
	assert_memory_equal(r + 12, q + 16, 4);
	assert_memory_equal(r + 16, q + 12, 4);
	assert_true(ip4_ok(r));
}

/* A UDP response to F->orig carrying exactly \a dns. */
static void check_udp_reply(size_t l2, bool v6, const struct bw_pkt_out *out,
                            const uint8_t *dns, size_t dns_len)
{
	size_t l3 = v6 ? 40 : 20, ulen = 8 + dns_len;
	const uint8_t *qu = F->orig + l2 + l3, *ru = F->buf + l2 + l3;

	assert_int_equal(out->len, l2 + l3 + ulen);
	assert_int_equal(out->l2_len, l2);
	assert_int_equal(out->l3_len, l3);
	assert_int_equal(out->ipv6, v6);
	assert_true(out->udp);
	check_eth(l2);
	check_ip(l2, v6, ulen, 64);
	assert_int_equal(bw_get16(ru), bw_get16(qu + 2));
	assert_int_equal(bw_get16(ru + 2), bw_get16(qu));
	assert_int_equal(bw_get16(ru + 4), ulen);
	assert_int_not_equal(bw_get16(ru + 6), 0);
	assert_int_equal(l4_sum(F->buf + l2, ru, ulen, IPPROTO_UDP), 0xffff);
	assert_memory_equal(ru + 8, dns, dns_len);
}

/* ---- A. Answers, checked completely. ---- */

struct dns_case {
	const char *name;
	int tags;
	bool v6;
	const char *qname;
	uint16_t qtype;
	struct tu_q q;
	uint8_t rcode;
	enum bw_pkt_qtype bucket;
	bool tc;
};

static const struct dns_case dns_cases[] = {
	{ "IPv4 A", 0, false, "www.example.com.", BW_TYPE_A, { .id = 1 },
	  BW_RCODE_NOERROR, BW_QT_A, false },
	{ "IPv6 AAAA", 0, true, "www.example.com.", BW_TYPE_AAAA, { .id = 2 },
	  BW_RCODE_NOERROR, BW_QT_AAAA, false },
	{ "802.1Q IPv4 A", 1, false, "www.example.com.", BW_TYPE_A, { .id = 3 },
	  BW_RCODE_NOERROR, BW_QT_A, false },
	{ "802.1Q IPv6 SOA", 1, true, "example.com.", BW_TYPE_SOA, { .id = 4 },
	  BW_RCODE_NOERROR, BW_QT_SOA, false },
	{ "QinQ IPv4 NS", 2, false, "example.com.", BW_TYPE_NS, { .id = 5 },
	  BW_RCODE_NOERROR, BW_QT_NS, false },
	{ "QinQ IPv6 AAAA", 2, true, "www.example.com.", BW_TYPE_AAAA, { .id = 6 },
	  BW_RCODE_NOERROR, BW_QT_AAAA, false },
	{ "EDNS + DO", 0, false, "www.example.com.", BW_TYPE_A,
	  { .id = 7, .edns = true, .bufsize = 1232, .do_bit = true },
	  BW_RCODE_NOERROR, BW_QT_A, false },
	{ "EDNS without DO, IPv6", 0, true, "www.example.com.", BW_TYPE_AAAA,
	  { .id = 8, .edns = true, .bufsize = 4096 },
	  BW_RCODE_NOERROR, BW_QT_AAAA, false },
	{ "big TXT without EDNS: TC", 0, false, "big.example.com.", BW_TYPE_TXT,
	  { .id = 9 }, BW_RCODE_NOERROR, BW_QT_TXT, true },
	{ "big TXT over IPv6 without EDNS: TC", 1, true, "big.example.com.",
	  BW_TYPE_TXT, { .id = 10 }, BW_RCODE_NOERROR, BW_QT_TXT, true },
	{ "big TXT with EDNS 1232: whole", 0, false, "big.example.com.",
	  BW_TYPE_TXT, { .id = 11, .edns = true, .bufsize = 1232 },
	  BW_RCODE_NOERROR, BW_QT_TXT, false },
	{ "NXDOMAIN", 0, false, "nothere.example.com.", BW_TYPE_A, { .id = 12 },
	  BW_RCODE_NXDOMAIN, BW_QT_A, false },
	{ "NXDOMAIN over IPv6 with DO", 0, true, "nothere.example.com.",
	  BW_TYPE_MX, { .id = 13, .edns = true, .bufsize = 1232, .do_bit = true },
	  BW_RCODE_NXDOMAIN, BW_QT_MX, false },
	{ "referral", 0, false, "host.sub.example.com.", BW_TYPE_A, { .id = 14 },
	  BW_RCODE_NOERROR, BW_QT_A, false },
	{ "outside our zones: REFUSED", 0, true, "www.example.org.", BW_TYPE_A,
	  { .id = 15 }, BW_RCODE_REFUSED, BW_QT_A, false },
	{ "ANY", 0, false, "www.example.com.", BW_TYPE_ANY, { .id = 16 },
	  BW_RCODE_NOERROR, BW_QT_ANY, false },
	{ "unknown type: other bucket", 0, false, "www.example.com.", 65000,
	  { .id = 17 }, BW_RCODE_NOERROR, BW_QT_OTHER, false },
};

static void test_dns_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(dns_cases); i++) {
		const struct dns_case *c = &dns_cases[i];
		uint8_t q[512];
		size_t qlen = tu_query(q, c->qname, c->qtype, &c->q);
		size_t len = udp_frame(F->buf, c->tags, c->v6, 53, q, qlen);
		size_t l2 = 14 + 4 * (size_t)c->tags;
		struct bw_answer_info info;
		struct bw_pkt_stats want = F->st;
		struct bw_pkt_out out;

		print_message("  %s\n", c->name);
		size_t wlen = bw_answer(F->zs, &F->conf, q, qlen, F->want,
		                        sizeof(F->want), 0, &info);
		assert_true(wlen > 0);
		assert_int_equal(info.rcode, c->rcode);
		assert_int_equal(info.tc, c->tc);
		assert_int_equal(BW_RCODE(bw_get16(F->want + 2)), c->rcode);
		assert_int_equal(!!(bw_get16(F->want + 2) & BW_FLAG_TC), c->tc);

		assert_int_equal(run(len, CAP, &out), BW_PKT_TX);
		check_udp_reply(l2, c->v6, &out, F->want, wlen);
		check_tx(F->buf, CAP, &out, 0);
		want.rx++;
		want.answers++;
		want.rcode[c->rcode]++;
		want.qtype[c->bucket]++;
		want.edns += c->q.edns;
		want.do_bit += c->q.do_bit;
		want.tc += c->tc;
		expect_stats(&want);
	}
}

/* With offload the NIC finishes: IPv4 checksum 0, UDP checksum field the
 * folded pseudo-header sum, not inverted. */
static void test_offload(void **state)
{
	(void)state;
	struct bw_pkt_out out;

	F->ctx.offload = BOTH_OFFLOADS;
	for (int v6 = 0; v6 <= 1; v6++) {
		size_t len = v6 ? www6(F->buf) : www4(F->buf);
		size_t l3 = v6 ? 40 : 20;

		assert_int_equal(run(len, CAP, &out), BW_PKT_TX);
		check_tx(F->buf, CAP, &out, BOTH_OFFLOADS);
		uint8_t *ip = F->buf + L3, *udp = ip + l3;
		size_t ulen = bw_get16(udp + 4);
		assert_int_equal(out.len, L3 + l3 + ulen);
		if (!v6)
			assert_int_equal(bw_get16(ip + 10), 0);
		assert_int_equal(bw_get16(udp + 6),
		                 sum_fold(sum_pseudo(ip, IPPROTO_UDP, ulen)));
		/* What the NIC does: sum the datagram over the seeded field. */
		bw_put16(udp + 6, (uint16_t)~sum_fold(sum_add(0, udp, ulen)));
		assert_int_equal(l4_sum(ip, udp, ulen, IPPROTO_UDP), 0xffff);
		if (!v6) {
			ip4_fix(ip);
			check_ip(L3, false, ulen, 64);
		}
	}
	/* Echo replies are not offloaded: their IPv4 checksum is complete. */
	size_t len = echo4_frame(F->buf, 32);
	assert_int_equal(run(len, CAP, &out), BW_PKT_TX);
	assert_true(ip4_ok(F->buf + L3));
	F->ctx.offload = 0;
}

/* A response whose UDP checksum computes to 0 carries 0xffff (RFC 768).
 * The query ID is copied into the response, so an ID equal to the
 * checksum of the response to ID 0 makes the sum all ones. */
static void test_udp_cksum_zero(void **state)
{
	(void)state;
	struct tu_q o = { .id = 0 };
	struct bw_pkt_out out;
	uint8_t q[512];
	size_t qlen = tu_query(q, "www.example.com.", BW_TYPE_A, &o);

	assert_int_equal(run(dns4(F->buf, q, qlen), CAP, &out), BW_PKT_TX);
	o.id = bw_get16(F->buf + UDP4 + 6);
	qlen = tu_query(q, "www.example.com.", BW_TYPE_A, &o);
	assert_int_equal(run(dns4(F->buf, q, qlen), CAP, &out), BW_PKT_TX);
	assert_int_equal(bw_get16(F->buf + UDP4 + 6), 0xffff);
	check_tx(F->buf, CAP, &out, 0);
}

/* Responses are cut to the room the frame has and to the port's MTU:
 * TC set, payload equal to bw_answer() given that much room. */
static void test_room_limits(void **state)
{
	(void)state;
	static const struct {
		uint16_t mtu;
		bool v6;
		size_t cap;     /* 0: BUF_CAP. */
		const char *qname;
		bool tc;
	} cases[] = {
		{ 1500, false, 0, "huge.example.com.", true },
		{ 1500, true, 0, "huge.example.com.", true },
		{ 1280, false, 0, "huge.example.com.", true },
		{ 1280, true, 0, "huge.example.com.", true },
		{ 9000, false, 0, "huge.example.com.", false },
		{ 9000, true, 0, "huge.example.com.", false },
		{ 1500, false, UDP4 + 8 + 540, "big.example.com.", true },
		{ 1500, true, UDP6 + 8 + 700, "big.example.com.", false },
	};
	struct tu_q o = { .id = 0x600, .edns = true, .bufsize = 4096 };

	F->conf.udp_max = 4096;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t q[512];
		size_t qlen = tu_query(q, cases[i].qname, BW_TYPE_TXT, &o);
		size_t cap = cases[i].cap ? cases[i].cap : BUF_CAP;
		size_t l3 = cases[i].v6 ? 40 : 20;
		size_t room = cap - L3 - l3 - 8;
		struct bw_pkt_out out;

		if (room > cases[i].mtu - l3 - 8u)
			room = cases[i].mtu - l3 - 8u;
		size_t wlen = bw_answer(F->zs, &F->conf, q, qlen, F->want, room, 0,
		                        NULL);
		F->port.mtu = cases[i].mtu;
		size_t len = udp_frame(F->buf, 0, cases[i].v6, 53, q, qlen);
		assert_int_equal(run(len, cap, &out), BW_PKT_TX);
		check_udp_reply(L3, cases[i].v6, &out, F->want, wlen);
		check_tx(F->buf, cap, &out, 0);
		assert_true(out.len - L3 <= cases[i].mtu);
		assert_int_equal(!!(bw_get16(F->want + 2) & BW_FLAG_TC), cases[i].tc);
	}
	F->port.mtu = 1500;
	F->conf.udp_max = 1232;
}

/* Sets the destination address of the IP packet in f and its checksums. */
static void retarget(uint8_t *f, size_t len, const uint8_t *addr)
{
	bool v6 = f[L3] >> 4 == 6;

	memcpy(f + L3 + (v6 ? 24 : 16), addr, v6 ? 16 : 4);
	fix_cksums(f, len, L3);
}

/* A second address per family, on port 5353: each answers on its own
 * port only, responses come from it, ARP and NS are answered for it. */
static void test_second_address(void **state)
{
	(void)state;
	static const uint8_t v4[4] = { 203, 0, 113, 53 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x53, [15] = 1 };
	static const uint8_t snm[16] = { 0xff, 0x02, [11] = 1, 0xff, 0, 0, 1 };
	struct bw_pkt_out out;
	uint8_t q[512];
	size_t qlen = tu_query(q, "www.example.com.", BW_TYPE_A, NULL);

	F->port.n4 = F->port.n6 = 2;
	memcpy(F->port.v4[1], v4, 4);
	memcpy(F->port.v6[1], v6, 16);
	F->port.v4_port[1] = F->port.v6_port[1] = 5353;
	for (int fam = 0; fam <= 1; fam++) {
		const uint8_t *addr = fam ? v6 : v4, *first = fam ? our_v6 : our_v4;
		size_t alen = fam ? 16 : 4, src = L3 + (fam ? 8 : 12);
		size_t udp = fam ? UDP6 : UDP4;
		size_t len = udp_frame(F->buf, 0, fam, 5353, q, qlen);

		retarget(F->buf, len, addr);
		assert_int_equal(run(len, CAP, &out), BW_PKT_TX);
		check_tx(F->buf, CAP, &out, 0);
		assert_memory_equal(F->buf + src, addr, alen);
		assert_int_equal(bw_get16(F->buf + udp), 5353);
		len = udp_frame(F->buf, 0, fam, 53, q, qlen);
		retarget(F->buf, len, addr);
		assert_int_equal(run(len, CAP, &out), BW_PKT_EXCEPTION);
		len = udp_frame(F->buf, 0, fam, 5353, q, qlen);
		retarget(F->buf, len, first);
		assert_int_equal(run(len, CAP, &out), BW_PKT_EXCEPTION);
	}
	assert_int_equal(run(arp_frame(F->buf, 0, 1, v4), CAP, &out), BW_PKT_TX);
	assert_memory_equal(F->buf + L3 + 14, v4, 4);
	assert_int_equal(run(ns_frame(F->buf, peer_v6, snm, v6, 255), CAP, &out),
	                 BW_PKT_TX);
	assert_memory_equal(F->buf + L3 + 8, v6, 16);
	assert_memory_equal(F->buf + UDP6 + 8, v6, 16);
	F->port.n4 = F->port.n6 = 1;
}

static void test_arp(void **state)
{
	(void)state;
	struct bw_pkt_out out;

	for (int tags = 0; tags <= 1; tags++) {
		size_t l2 = 14 + 4 * (size_t)tags;
		size_t len = arp_frame(F->buf, tags, 1, our_v4);
		struct bw_pkt_stats want = F->st;
		const uint8_t *a = F->buf + l2;

		assert_int_equal(run(len, CAP, &out), BW_PKT_TX);
		check_eth(l2);
		assert_memory_equal(a, "\x00\x01\x08\x00\x06\x04\x00\x02", 8);
		assert_memory_equal(a + 8, our_mac, 6);
		assert_memory_equal(a + 14, our_v4, 4);
		assert_memory_equal(a + 18, peer_mac, 6);
		assert_memory_equal(a + 24, peer_v4, 4);
		assert_int_equal(out.len, l2 + 28);
		assert_int_equal(out.l2_len, l2);
		assert_int_equal(out.l3_len, 0);
		assert_false(out.ipv6);
		assert_false(out.udp);
		want.rx++;
		want.arp++;
		expect_stats(&want);
	}
	/* For another address: not ours, the frame untouched. */
	size_t len = arp_frame(F->buf, 0, 1, other_v4);
	struct bw_pkt_stats want = F->st;
	assert_int_equal(run(len, CAP, &out), BW_PKT_DROP);
	assert_memory_equal(F->buf, F->orig, len);
	want.rx++;
	want.drop[BW_DROP_NOT_OURS]++;
	expect_stats(&want);
}

static void test_icmp_echo(void **state)
{
	(void)state;
	struct bw_pkt_out out;
	size_t len = echo4_frame(F->buf, 57);        /* Odd: a padded sum. */
	struct bw_pkt_stats want = F->st;

	assert_int_equal(run(len, CAP, &out), BW_PKT_TX);
	check_eth(14);
	check_ip(14, false, 8 + 57, 64);
	assert_int_equal(F->buf[UDP4], 0);            /* Echo reply. */
	assert_int_equal(F->buf[UDP4 + 1], 0);
	assert_memory_equal(F->buf + UDP4 + 4, F->orig + UDP4 + 4, 4 + 57);
	assert_int_equal(l4_sum(F->buf + L3, F->buf + UDP4, 8 + 57, IPPROTO_ICMP),
	                 0xffff);
	assert_int_equal(out.len, len);
	assert_int_equal(out.l2_len, 14);
	assert_int_equal(out.l3_len, 20);
	assert_false(out.ipv6);
	assert_false(out.udp);
	check_tx(F->buf, CAP, &out, 0);
	want.rx++;
	want.echo++;
	expect_stats(&want);
}

static void test_icmp6_echo(void **state)
{
	(void)state;
	struct bw_pkt_out out;
	size_t len = echo6_frame(F->buf, our_v6, 41);
	struct bw_pkt_stats want = F->st;

	assert_int_equal(run(len, CAP, &out), BW_PKT_TX);
	check_eth(14);
	check_ip(14, true, 8 + 41, 64);
	assert_int_equal(F->buf[UDP6], 129);
	assert_int_equal(F->buf[UDP6 + 1], 0);
	assert_memory_equal(F->buf + UDP6 + 4, F->orig + UDP6 + 4, 4 + 41);
	assert_int_equal(l4_sum(F->buf + L3, F->buf + UDP6, 8 + 41,
	                        IPPROTO_ICMPV6), 0xffff);
	assert_int_equal(out.len, len);
	assert_int_equal(out.l3_len, 40);
	assert_true(out.ipv6);
	assert_false(out.udp);
	check_tx(F->buf, CAP, &out, 0);
	want.rx++;
	want.echo++;
	expect_stats(&want);
}

/* NS to the solicited-node group, then to our unicast address (NUD). */
static void test_neighbour_solicitation(void **state)
{
	(void)state;
	const uint8_t *dsts[] = { snm_v6, our_v6 };

	for (size_t i = 0; i < ARRAY_LEN(dsts); i++) {
		struct bw_pkt_out out;
		size_t len = ns_frame(F->buf, peer_v6, dsts[i], our_v6, 255);
		struct bw_pkt_stats want = F->st;
		const uint8_t *ip = F->buf + L3, *icmp = F->buf + UDP6;

		assert_int_equal(run(len, CAP, &out), BW_PKT_TX);
		assert_memory_equal(F->buf, peer_mac, 6);
		assert_memory_equal(F->buf + 6, our_mac, 6);
		assert_int_equal(bw_get16(F->buf + 12), ETH_IPV6);
		assert_int_equal(ip[0] >> 4, 6);
		assert_int_equal(bw_get16(ip + 4), 32);
		assert_int_equal(ip[6], IPPROTO_ICMPV6);
		assert_int_equal(ip[7], 255);
		assert_memory_equal(ip + 8, our_v6, 16);
		assert_memory_equal(ip + 24, peer_v6, 16);
		assert_int_equal(icmp[0], 136);
		assert_int_equal(icmp[1], 0);
		assert_memory_equal(icmp + 4, "\x60\x00\x00\x00", 4); /* S, O. */
		assert_memory_equal(icmp + 8, our_v6, 16);
		assert_int_equal(icmp[24], 2);                         /* TLLA */
		assert_int_equal(icmp[25], 1);
		assert_memory_equal(icmp + 26, our_mac, 6);
		assert_int_equal(l4_sum(ip, icmp, 32, IPPROTO_ICMPV6), 0xffff);
		assert_int_equal(out.len, UDP6 + 32);
		assert_int_equal(out.l2_len, 14);
		assert_int_equal(out.l3_len, 40);
		assert_true(out.ipv6);
		assert_false(out.udp);
		check_tx(F->buf, CAP, &out, 0);
		want.rx++;
		want.nd++;
		expect_stats(&want);
	}
}

/* ---- B. Hostile frames: builders (each returns the frame length). ---- */

static size_t h_empty(uint8_t *f)
{
	(void)f;
	return 0;
}

static size_t h_runt13(uint8_t *f)
{
	www4(f);
	return 13;
}

static size_t h_vlan_cut(uint8_t *f)
{
	put_eth(f, our_mac, 1, ETH_IPV4);
	return 16;                                   /* Tag, no EtherType. */
}

static size_t h_qinq_cut(uint8_t *f)
{
	put_eth(f, our_mac, 2, ETH_IPV4);
	return 20;
}

static size_t h_ip4_cut(uint8_t *f)
{
	www4(f);
	return L3 + 10;
}

static size_t h_ip4_version5(uint8_t *f)
{
	size_t n = www4(f);

	f[L3] = 0x55;
	ip4_fix(f + L3);
	return n;
}

static size_t h_ip4_ihl4(uint8_t *f)
{
	size_t n = www4(f);

	f[L3] = 0x44;
	return n;
}

static size_t h_ip4_total_long(uint8_t *f)
{
	size_t n = www4(f);

	bw_put16(f + L3 + 2, (uint16_t)(n - L3 + 1));
	ip4_fix(f + L3);
	return n;
}

static size_t h_ip4_total_short(uint8_t *f)
{
	size_t n = www4(f);

	bw_put16(f + L3 + 2, 19);
	ip4_fix(f + L3);
	return n;
}

static size_t h_ip4_cksum(uint8_t *f)
{
	size_t n = www4(f);

	f[L3 + 10] ^= 0x01;
	return n;
}

static size_t h_ip4_options(uint8_t *f)
{
	size_t n = www4(f);

	memmove(f + UDP4 + 4, f + UDP4, n - UDP4);
	memcpy(f + UDP4, "\x01\x01\x01\x00", 4);    /* NOP NOP NOP EOL. */
	f[L3] = 0x46;
	bw_put16(f + L3 + 2, (uint16_t)(n + 4 - L3));
	ip4_fix(f + L3);
	return n + 4;
}

static size_t h_ip4_mf(uint8_t *f)
{
	size_t n = www4(f);

	bw_put16(f + L3 + 6, 0x2000);
	ip4_fix(f + L3);
	return n;
}

static size_t h_ip4_offset(uint8_t *f)
{
	size_t n = www4(f);

	bw_put16(f + L3 + 6, 185);                   /* 1480 octets in. */
	ip4_fix(f + L3);
	return n;
}

/* Our query with another IP protocol number (the ports stay in place). */
static size_t proto4(uint8_t *f, uint8_t proto)
{
	size_t n = www4(f);

	f[L3 + 9] = proto;
	ip4_fix(f + L3);
	return n;
}

static size_t h_tcp4(uint8_t *f)
{
	return proto4(f, IPPROTO_TCP);
}

static size_t h_sctp4(uint8_t *f)
{
	return proto4(f, IPPROTO_SCTP);
}

static size_t h_udp_port54(uint8_t *f)
{
	uint8_t q[512];

	return udp_frame(f, 0, false, 54, q,
	                 tu_query(q, "www.example.com.", BW_TYPE_A, NULL));
}

static size_t h_udp_len7(uint8_t *f)
{
	size_t n = www4(f);

	bw_put16(f + UDP4 + 4, 7);
	return n;
}

static size_t h_udp_len_long(uint8_t *f)
{
	size_t n = www4(f);

	bw_put16(f + UDP4 + 4, (uint16_t)(n - UDP4 + 1));
	return n;
}

static size_t h_udp_hdr_cut(uint8_t *f)
{
	www4(f);
	bw_put16(f + L3 + 2, 24);                    /* Half a UDP header. */
	ip4_fix(f + L3);
	return UDP4 + 4;
}

static size_t h_udp_sport0(uint8_t *f)
{
	size_t n = www4(f);

	bw_put16(f + UDP4, 0);
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_ip4_src_mcast(uint8_t *f)
{
	size_t n = www4(f);

	memcpy(f + L3 + 12, "\xe0\x00\x00\xfb", 4);  /* 224.0.0.251 */
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_ip4_src_bcast(uint8_t *f)
{
	size_t n = www4(f);

	memcpy(f + L3 + 12, "\xff\xff\xff\xff", 4);
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_ip4_other_dst(uint8_t *f)
{
	size_t n = www4(f);

	memcpy(f + L3 + 16, other_v4, 4);
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_other_mac(uint8_t *f)
{
	size_t n = www4(f);

	f[5] = 0x54;
	return n;
}

/* Our own frame looped back (AF_PACKET ports see what they send). */
static size_t h_from_our_mac(uint8_t *f)
{
	size_t n = www4(f);

	memcpy(f + 6, our_mac, 6);
	return n;
}

static size_t h_dns_5(uint8_t *f)
{
	return dns4(f, (const uint8_t *)"\x12\x34\x01\x00\x00", 5);
}

/* www.example.com. A with header flags \a flags. */
static size_t www4_flags(uint8_t *f, uint16_t flags)
{
	struct tu_q o = { .id = 0x77, .flags = flags };
	uint8_t q[512];

	return dns4(f, q, tu_query(q, "www.example.com.", BW_TYPE_A, &o));
}

static size_t h_dns_response(uint8_t *f)
{
	return www4_flags(f, BW_FLAG_QR | BW_FLAG_AA);
}

static size_t h_opcode_update(uint8_t *f)
{
	return www4_flags(f, BW_OPCODE_UPDATE << 11);
}

/* www.example.com. A with the header word at \a at set to \a v. */
static size_t www4_hdr(uint8_t *f, size_t at, uint16_t v)
{
	uint8_t q[512];
	size_t n = tu_query(q, "www.example.com.", BW_TYPE_A, NULL);

	bw_put16(q + at, v);
	return dns4(f, q, n);
}

static size_t h_qdcount0(uint8_t *f)
{
	return www4_hdr(f, 4, 0);
}

static size_t h_qdcount2(uint8_t *f)
{
	return www4_hdr(f, 4, 2);
}

static size_t h_arcount_lies(uint8_t *f)
{
	return www4_hdr(f, 10, 1);
}

/* A query header (one question) followed by \a body. */
static size_t raw4(uint8_t *f, const char *body, size_t blen)
{
	struct bw_hdr h = { .id = 0x99, .qdcount = 1 };
	uint8_t q[512];

	bw_hdr_write(q, &h);
	memcpy(q + BW_HDR_LEN, body, blen);
	return dns4(f, q, BW_HDR_LEN + blen);
}

static size_t h_qname_pointer(uint8_t *f)
{
	return raw4(f, "\xc0\x0c\x00\x01\x00\x01", 6);
}

static size_t h_label_past_end(uint8_t *f)
{
	return raw4(f, "\x3f" "abc", 4);
}

/* A query for a name of exactly \a total octets under example.com. */
static size_t long_name4(uint8_t *f, size_t total)
{
	struct bw_hdr h = { .id = 0x255, .qdcount = 1 };
	uint8_t q[600];
	size_t pos = BW_HDR_LEN, rest = total - 13;

	bw_hdr_write(q, &h);
	while (rest > 0) {
		size_t l = rest - 1 < 63 ? rest - 1 : 63;
		assert_true(l > 0);
		q[pos] = (uint8_t)l;
		memset(q + pos + 1, 'x', l);
		pos += l + 1;
		rest -= l + 1;
	}
	memcpy(q + pos, "\x07" "example" "\x03" "com" "\x00" "\x00\x01\x00\x01", 17);
	return dns4(f, q, pos + 17);
}

static size_t h_name_255(uint8_t *f)
{
	return long_name4(f, 255);
}

static size_t h_name_256(uint8_t *f)
{
	return long_name4(f, 256);
}

/* www.example.com. A with an OPT record, which \a how then mangles. */
static size_t edns4(uint8_t *f, int how)
{
	struct tu_q o = { .id = 0x41, .edns = true, .bufsize = 1232 };
	uint8_t q[512];
	size_t n = tu_query(q, "www.example.com.", BW_TYPE_A, &o);

	if (how == 1) {
		n -= 3;                                  /* Cut in its TTL. */
	} else if (how == 2) {
		memcpy(q + n, q + n - 11, 11);           /* A second OPT. */
		bw_put16(q + 10, 2);
		n += 11;
	} else if (how == 3) {
		q[n - 5] = 1;                            /* EDNS version 1. */
	}
	return dns4(f, q, n);
}

static size_t h_opt_cut(uint8_t *f)
{
	return edns4(f, 1);
}

static size_t h_opt_twice(uint8_t *f)
{
	return edns4(f, 2);
}

static size_t h_edns_version1(uint8_t *f)
{
	return edns4(f, 3);
}

static size_t h_jumbo(uint8_t *f)
{
	static uint8_t q[9000];
	struct bw_hdr h = { .id = 0x9000, .qdcount = 1 };

	memset(q, 0, sizeof(q));
	bw_hdr_write(q, &h);
	return dns4(f, q, 9000 - UDP4 - 8);
}

static size_t h_ip6_plen_long(uint8_t *f)
{
	size_t n = www6(f);

	bw_put16(f + L3 + 4, (uint16_t)(n - UDP6 + 1));
	return n;
}

static size_t h_ip6_version(uint8_t *f)
{
	size_t n = www6(f);

	f[L3] = 0x40;
	return n;
}

static size_t h_ip6_cut(uint8_t *f)
{
	www6(f);
	return L3 + 39;
}

/* Our AAAA query behind an 8-octet extension header of type \a ext. */
static size_t ext6(uint8_t *f, uint8_t ext)
{
	size_t n = www6(f);

	memmove(f + UDP6 + 8, f + UDP6, n - UDP6);
	memset(f + UDP6, 0, 8);
	f[UDP6] = IPPROTO_UDP;                       /* Next header. */
	if (ext == IPPROTO_HOPOPTS)
		memcpy(f + UDP6 + 2, "\x01\x04\x00\x00\x00\x00", 6); /* PadN */
	f[L3 + 6] = ext;
	bw_put16(f + L3 + 4, (uint16_t)(n + 8 - UDP6));
	return n + 8;
}

static size_t h_ip6_hbh(uint8_t *f)
{
	return ext6(f, IPPROTO_HOPOPTS);
}

static size_t h_ip6_frag(uint8_t *f)
{
	return ext6(f, IPPROTO_FRAGMENT);
}

static size_t h_ip6_other_dst(uint8_t *f)
{
	size_t n = www6(f);

	memcpy(f + L3 + 24, other_v6, 16);
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_ip6_src_mcast(uint8_t *f)
{
	size_t n = www6(f);

	memcpy(f + L3 + 8, all_nodes_v6, 16);
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_tcp6(uint8_t *f)
{
	size_t n = www6(f);

	f[L3 + 6] = IPPROTO_TCP;
	return n;
}

static size_t h_ns_hop64(uint8_t *f)
{
	return ns_frame(f, peer_v6, snm_v6, our_v6, 64);
}

static size_t h_ns_code1(uint8_t *f)
{
	size_t n = ns_frame(f, peer_v6, snm_v6, our_v6, 255);

	f[UDP6 + 1] = 1;
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_ns_not_ours(uint8_t *f)
{
	return ns_frame(f, peer_v6, snm_v6, other_v6, 255);
}

static size_t h_ns_dad(uint8_t *f)
{
	return ns_frame(f, unspec_v6, snm_v6, our_v6, 255);
}

static size_t h_ns_cksum(uint8_t *f)
{
	size_t n = ns_frame(f, peer_v6, snm_v6, our_v6, 255);

	f[UDP6 + 2] ^= 0x10;
	return n;
}

static size_t h_icmp6_rs(uint8_t *f)
{
	size_t n = echo6_frame(f, our_v6, 0);

	f[UDP6] = 133;                               /* Router solicitation. */
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_echo6_all_nodes(uint8_t *f)
{
	return echo6_frame(f, all_nodes_v6, 16);
}

static size_t h_arp_reply(uint8_t *f)
{
	return arp_frame(f, 0, 2, our_v4);
}

static size_t h_arp_hw(uint8_t *f)
{
	size_t n = arp_frame(f, 0, 1, our_v4);

	bw_put16(f + L3, 6);                         /* IEEE 802 networks. */
	return n;
}

static size_t h_arp_other_ip(uint8_t *f)
{
	return arp_frame(f, 0, 1, other_v4);
}

static size_t h_arp_mcast_sha(uint8_t *f)
{
	size_t n = arp_frame(f, 0, 1, our_v4);

	f[L3 + 8] |= 0x01;
	return n;
}

static size_t h_arp_cut(uint8_t *f)
{
	arp_frame(f, 0, 1, our_v4);
	return L3 + 27;
}

static size_t h_echo4_cksum(uint8_t *f)
{
	size_t n = echo4_frame(f, 16);

	f[UDP4 + 8] ^= 0xff;
	return n;
}

static size_t h_icmp4_timestamp(uint8_t *f)
{
	size_t n = echo4_frame(f, 12);

	f[UDP4] = 13;
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_icmp4_cut(uint8_t *f)
{
	size_t n = echo4_frame(f, 0);

	bw_put16(f + L3 + 2, 20 + 4);
	ip4_fix(f + L3);
	return n;
}

static size_t h_ethertype_ours(uint8_t *f)
{
	size_t n = www4(f);

	bw_put16(f + 12, 0x88b5);                    /* Local experimental. */
	return n;
}

static size_t h_ethertype_bcast(uint8_t *f)
{
	size_t n = h_ethertype_ours(f);

	memcpy(f, bcast_mac, 6);
	return n;
}

static size_t h_three_tags(uint8_t *f)
{
	uint8_t q[512];
	size_t qlen = tu_query(q, "www.example.com.", BW_TYPE_A, NULL);
	size_t n = udp_frame(f + 4, 2, false, 53, q, qlen);

	memmove(f, f + 4, 12);                       /* MACs, then 3 tags. */
	bw_put16(f + 12, 0x88a8);
	bw_put16(f + 14, 7);
	return n + 4;
}

static size_t h_ip4_total_below_ihl6(uint8_t *f)
{
	size_t n = h_ip4_options(f);

	bw_put16(f + L3 + 2, 22);                    /* IHL 6 needs 24. */
	ip4_fix(f + L3);
	return n;
}

static size_t h_echo4_code1(uint8_t *f)
{
	size_t n = echo4_frame(f, 8);

	f[UDP4 + 1] = 1;
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_udp_to_snm(uint8_t *f)
{
	size_t n = www6(f);

	f[0] = 0x33;                                 /* 33:33:ff:00:00:53 */
	f[1] = 0x33;
	f[2] = 0xff;
	memcpy(f + L3 + 24, snm_v6, 16);
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_echo6_to_snm(uint8_t *f)
{
	return echo6_frame(f, snm_v6, 16);
}

static size_t h_echo6_src_mcast(uint8_t *f)
{
	size_t n = echo6_frame(f, our_v6, 16);

	memcpy(f + L3 + 8, all_nodes_v6, 16);
	fix_cksums(f, n, L3);
	return n;
}

/* An ICMPv6 message of \a type (8 octets, code 0) to our address. */
static size_t icmp6_type(uint8_t *f, uint8_t type)
{
	size_t n = echo6_frame(f, our_v6, 0);

	f[UDP6] = type;
	fix_cksums(f, n, L3);
	return n;
}

static size_t h_icmp6_mld_query(uint8_t *f)
{
	return icmp6_type(f, 130);
}

static size_t h_icmp6_redirect(uint8_t *f)
{
	return icmp6_type(f, 137);
}

static size_t h_icmp6_renumbering(uint8_t *f)
{
	return icmp6_type(f, 138);
}

static size_t h_udp_to_ff12(uint8_t *f)
{
	static const uint8_t grp[16] = { 0xff, 0x12, [14] = 0x12, 0x34 };
	size_t n = www6(f);

	memcpy(f, "\x33\x33\x00\x00\x12\x34", 6);
	memcpy(f + L3 + 24, grp, 16);
	fix_cksums(f, n, L3);
	return n;
}

/* An NS without options: the advertisement needs 8 octets more. */
static size_t h_ns_no_room(uint8_t *f)
{
	ns_frame(f, peer_v6, snm_v6, our_v6, 255);
	bw_put16(f + L3 + 4, 24);
	fix_cksums(f, UDP6 + 24, L3);
	return UDP6 + 24;
}

/* ---- B. The table. ---- */

enum ctr_kind { K_DROP, K_EXC, K_RCODE };

struct ctr {
	enum ctr_kind kind;
	unsigned idx;
};

struct hostile {
	const char *name;
	size_t (*build)(uint8_t *f);
	enum bw_pkt_verdict verdict;
	struct ctr ctr;                 /* The counter that must move by 1. */
	size_t cap;                     /* 0: CAP; CAP_EXACT: len. */
	bool no_zones;
};

#define CAP_EXACT 1
#define DROP(x)  BW_PKT_DROP, { K_DROP, BW_DROP_##x }
#define EXC(x)   BW_PKT_EXCEPTION, { K_EXC, BW_EXC_##x }
#define RCODE(x) BW_PKT_TX, { K_RCODE, BW_RCODE_##x }

static const struct hostile hostile[] = {
	{ "empty frame", h_empty, DROP(RUNT), 0, false },
	{ "13-octet runt", h_runt13, DROP(RUNT), 0, false },
	{ "802.1Q tag without EtherType", h_vlan_cut, DROP(RUNT), 0, false },
	{ "QinQ inner tag cut", h_qinq_cut, DROP(RUNT), 0, false },
	{ "IPv4 header cut", h_ip4_cut, DROP(RUNT), 0, false },
	{ "IPv4 version 5", h_ip4_version5, DROP(BAD_IP), 0, false },
	{ "IPv4 IHL 4", h_ip4_ihl4, DROP(BAD_IP), 0, false },
	{ "IPv4 total length past the frame", h_ip4_total_long, DROP(BAD_IP), 0, false },
	{ "IPv4 total length below IHL", h_ip4_total_short, DROP(BAD_IP), 0, false },
	{ "IPv4 total length below IHL 6", h_ip4_total_below_ihl6, DROP(BAD_IP), 0, false },
	{ "IPv4 header checksum wrong", h_ip4_cksum, DROP(BAD_CKSUM), 0, false },
	{ "IPv4 options", h_ip4_options, EXC(IP_OPTIONS), 0, false },
	{ "IPv4 MF set", h_ip4_mf, EXC(FRAGMENT), 0, false },
	{ "IPv4 fragment offset", h_ip4_offset, EXC(FRAGMENT), 0, false },
	{ "TCP to port 53", h_tcp4, EXC(TCP), 0, false },
	{ "SCTP: unknown protocol", h_sctp4, EXC(PROTO), 0, false },
	{ "UDP to port 54", h_udp_port54, EXC(UDP_PORT), 0, false },
	{ "UDP length 7", h_udp_len7, DROP(BAD_UDP), 0, false },
	{ "UDP length past the IP payload", h_udp_len_long, DROP(BAD_UDP), 0, false },
	{ "UDP header cut", h_udp_hdr_cut, DROP(BAD_UDP), 0, false },
	{ "UDP source port 0", h_udp_sport0, DROP(BAD_SRC), 0, false },
	{ "IPv4 multicast source", h_ip4_src_mcast, DROP(BAD_SRC), 0, false },
	{ "IPv4 broadcast source", h_ip4_src_bcast, DROP(BAD_SRC), 0, false },
	{ "IPv4 other destination", h_ip4_other_dst, DROP(NOT_OURS), 0, false },
	{ "other destination MAC", h_other_mac, DROP(NOT_OURS), 0, false },
	{ "frame from our own MAC", h_from_our_mac, DROP(NOT_OURS), 0, false },
	{ "DNS payload of 5 octets", h_dns_5, DROP(DNS), 0, false },
	{ "DNS response (QR=1)", h_dns_response, DROP(DNS), 0, false },
	{ "QDCOUNT 0", h_qdcount0, RCODE(FORMERR), 0, false },
	{ "QDCOUNT 2", h_qdcount2, RCODE(FORMERR), 0, false },
	{ "compression pointer in QNAME", h_qname_pointer, RCODE(FORMERR), 0, false },
	{ "QNAME of 255 octets", h_name_255, RCODE(NXDOMAIN), 0, false },
	{ "QNAME of 256 octets", h_name_256, RCODE(FORMERR), 0, false },
	{ "label past the end", h_label_past_end, RCODE(FORMERR), 0, false },
	{ "ARCOUNT 1 without a record", h_arcount_lies, RCODE(FORMERR), 0, false },
	{ "OPT record cut", h_opt_cut, RCODE(FORMERR), 0, false },
	{ "two OPT records", h_opt_twice, RCODE(FORMERR), 0, false },
	{ "EDNS version 1", h_edns_version1, RCODE(BADVERS), 0, false },
	{ "opcode UPDATE", h_opcode_update, RCODE(NOTIMP), 0, false },
	{ "9000-octet jumbo query", h_jumbo, DROP(TOO_BIG), BUF_CAP, false },
	{ "no zone set", www4, DROP(NO_ZONES), 0, true },
	{ "no room for any response", www4, DROP(DNS), CAP_EXACT, false },
	{ "IPv6 header cut", h_ip6_cut, DROP(RUNT), 0, false },
	{ "IPv6 payload length past the frame", h_ip6_plen_long, DROP(BAD_IP), 0, false },
	{ "IPv6 version 4", h_ip6_version, DROP(BAD_IP), 0, false },
	{ "IPv6 hop-by-hop header", h_ip6_hbh, EXC(IPV6_EXT), 0, false },
	{ "IPv6 fragment header", h_ip6_frag, EXC(IPV6_EXT), 0, false },
	{ "IPv6 other destination", h_ip6_other_dst, DROP(NOT_OURS), 0, false },
	{ "IPv6 multicast source", h_ip6_src_mcast, DROP(BAD_SRC), 0, false },
	{ "TCP over IPv6", h_tcp6, EXC(TCP), 0, false },
	{ "NS with hop limit 64", h_ns_hop64, DROP(BAD_ARP), 0, false },
	{ "NS with code 1", h_ns_code1, DROP(BAD_ARP), 0, false },
	{ "NS for a target not ours", h_ns_not_ours, EXC(NEIGH), 0, false },
	{ "NS for DAD (unspecified source)", h_ns_dad, EXC(NEIGH), 0, false },
	{ "NS checksum wrong", h_ns_cksum, DROP(BAD_CKSUM), 0, false },
	{ "NS without room for the advert", h_ns_no_room, DROP(TOO_BIG), CAP_EXACT, false },
	{ "UDP to our solicited-node group", h_udp_to_snm, EXC(NEIGH), 0, false },
	{ "echo to our solicited-node group", h_echo6_to_snm, EXC(PROTO), 0, false },
	{ "ICMPv6 echo from a multicast source", h_echo6_src_mcast, EXC(PROTO), 0, false },
	{ "router solicitation", h_icmp6_rs, EXC(NEIGH), 0, false },
	{ "MLD query", h_icmp6_mld_query, EXC(NEIGH), 0, false },
	{ "redirect", h_icmp6_redirect, EXC(NEIGH), 0, false },
	{ "router renumbering", h_icmp6_renumbering, EXC(PROTO), 0, false },
	{ "UDP to a transient link-local group", h_udp_to_ff12, EXC(NEIGH), 0, false },
	{ "echo to all-nodes", h_echo6_all_nodes, EXC(NEIGH), 0, false },
	{ "ARP reply", h_arp_reply, EXC(NEIGH), 0, false },
	{ "ARP hardware type 6", h_arp_hw, DROP(BAD_ARP), 0, false },
	{ "ARP for another address", h_arp_other_ip, DROP(NOT_OURS), 0, false },
	{ "ARP from a multicast sender", h_arp_mcast_sha, DROP(BAD_SRC), 0, false },
	{ "ARP cut", h_arp_cut, DROP(RUNT), 0, false },
	{ "ICMP echo checksum wrong", h_echo4_cksum, DROP(BAD_CKSUM), 0, false },
	{ "ICMP timestamp request", h_icmp4_timestamp, EXC(PROTO), 0, false },
	{ "ICMP header cut", h_icmp4_cut, DROP(RUNT), 0, false },
	{ "ICMP echo with code 1", h_echo4_code1, EXC(PROTO), 0, false },
	{ "unknown EtherType to our MAC", h_ethertype_ours, EXC(L2), 0, false },
	{ "unknown EtherType broadcast", h_ethertype_bcast, DROP(NOT_OURS), 0, false },
	{ "three VLAN tags", h_three_tags, EXC(L2), 0, false },
};

/* Handles a heap copy of \a frame and checks what holds for any frame: one
 * outcome counted, a sane response, the canary kept, an exception frame
 * untouched.  In exact mode the copy is a block of exactly cap == len
 * octets, so ASan sees any access past the frame. */
static enum bw_pkt_verdict handle_copy(const uint8_t *frame, size_t len,
                                    bool exact, size_t slack)
{
	size_t cap = exact ? len : len + slack;
	uint8_t *p = malloc(exact ? (cap ? cap : 1) : cap + CANARY);
	struct bw_pkt_stats before = F->st;
	struct bw_pkt_out out = { 0 };

	assert_non_null(p);
	memcpy(p, frame, len);
	memset(p + len, SLACK_BYTE, cap - len);
	if (!exact)
		memset(p + cap, CANARY_BYTE, CANARY);
	enum bw_pkt_verdict v = bw_pkt_handle(&F->ctx, p, len, cap, &out);
	for (size_t i = 0; !exact && i < CANARY; i++)
		assert_int_equal(p[cap + i], CANARY_BYTE);
	assert_true(v == BW_PKT_DROP || v == BW_PKT_TX || v == BW_PKT_EXCEPTION);
	assert_int_equal(F->st.rx, before.rx + 1);
	assert_int_equal(outcomes(&F->st), outcomes(&before) + 1);
	uint64_t built = F->st.answers + F->st.arp + F->st.nd + F->st.echo -
	                 (before.answers + before.arp + before.nd + before.echo);
	assert_int_equal(built, v == BW_PKT_TX);
	if (v == BW_PKT_TX)
		check_tx(p, cap, &out, F->ctx.offload);
	if (v == BW_PKT_EXCEPTION)
		assert_memory_equal(p, frame, len);
	free(p);
	return v;
}

static uint64_t ctr_get(const struct bw_pkt_stats *s, struct ctr c)
{
	switch (c.kind) {
	case K_DROP:
		return s->drop[c.idx];
	case K_EXC:
		return s->exc[c.idx];
	case K_RCODE:
		return s->rcode[c.idx];
	}
	return 0;
}

static void test_hostile(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(hostile); i++) {
		const struct hostile *h = &hostile[i];
		struct bw_pkt_stats before = F->st;
		struct bw_pkt_out out;

		print_message("  %s\n", h->name);
		size_t len = h->build(F->buf);
		size_t cap = h->cap == CAP_EXACT ? len : h->cap ? h->cap : CAP;
		if (h->no_zones)
			F->ctx.zs = NULL;
		enum bw_pkt_verdict v = run(len, cap, &out);
		assert_int_equal(v, h->verdict);
		assert_int_equal(F->st.rx, before.rx + 1);
		assert_int_equal(ctr_get(&F->st, h->ctr), ctr_get(&before, h->ctr) + 1);
		assert_int_equal(outcomes(&F->st), outcomes(&before) + 1);
		assert_int_equal(F->st.answers, before.answers + (h->ctr.kind == K_RCODE));
		if (v == BW_PKT_TX) {
			check_tx(F->buf, cap, &out, 0);
			const uint8_t *dns = F->buf + out.l2_len + out.l3_len + 8;
			assert_int_equal(BW_RCODE(bw_get16(dns + 2)), h->ctr.idx & 0xf);
			assert_true(bw_get16(dns + 2) & BW_FLAG_QR);
		} else {
			/* Again with only the frame's octets: ASan sees over-reads. */
			assert_memory_equal(F->buf, F->orig, len);
			before = F->st;
			assert_int_equal(handle_copy(F->orig, len, true, 0), v);
			assert_int_equal(ctr_get(&F->st, h->ctr), ctr_get(&before, h->ctr) + 1);
		}
		F->ctx.zs = F->zs;
	}
}

/* Every extension header pkt.c knows goes to the kernel. */
static void test_ipv6_ext_headers(void **state)
{
	(void)state;
	static const uint8_t ext[] = { 0, 43, 44, 50, 51, 60, 135, 139, 140 };
	struct bw_pkt_out out;

	for (size_t i = 0; i < ARRAY_LEN(ext); i++) {
		struct bw_pkt_stats want = F->st;

		assert_int_equal(run(ext6(F->buf, ext[i]), CAP, &out),
		                 BW_PKT_EXCEPTION);
		want.rx++;
		want.exc[BW_EXC_IPV6_EXT]++;
		expect_stats(&want);
	}
}

/* ---- C. Mutations. ---- */

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

struct seed {
	size_t (*build)(uint8_t *f);
	size_t l3;
};

static size_t s_vlan4(uint8_t *f)
{
	uint8_t q[512];

	return udp_frame(f, 1, false, 53, q,
	                 tu_query(q, "www.example.com.", BW_TYPE_A, NULL));
}

static size_t s_qinq6(uint8_t *f)
{
	struct tu_q o = { .id = 5, .edns = true, .bufsize = 1232, .do_bit = true };
	uint8_t q[512];

	return udp_frame(f, 2, true, 53, q,
	                 tu_query(q, "big.example.com.", BW_TYPE_TXT, &o));
}

static size_t s_edns4(uint8_t *f)
{
	return edns4(f, 0);
}

static size_t s_arp(uint8_t *f)
{
	return arp_frame(f, 0, 1, our_v4);
}

static size_t s_echo4(uint8_t *f)
{
	return echo4_frame(f, 21);
}

static size_t s_echo6(uint8_t *f)
{
	return echo6_frame(f, our_v6, 20);
}

static size_t s_ns(uint8_t *f)
{
	return ns_frame(f, peer_v6, snm_v6, our_v6, 255);
}

static const struct seed seeds[] = {
	{ www4, L3 }, { www6, L3 }, { s_vlan4, L3 + 4 }, { s_qinq6, L3 + 8 },
	{ s_edns4, L3 }, { s_arp, L3 }, { s_echo4, L3 }, { s_echo6, L3 },
	{ s_ns, L3 },
};

#define FUZZ_ROUNDS 20000
#define FUZZ_MAX    1600      /* Room for mutated frames to grow. */

/* Changes one of the length fields (IP, UDP, DNS counts) of a frame. */
static void mutate_length(uint8_t *f, size_t len, size_t l3, uint64_t *rs)
{
	static const size_t fields[] = { 2, 4, 20 + 4, 40 + 4, 20 + 8 + 4,
	                                 40 + 8 + 4, 20 + 8 + 10, 40 + 8 + 10 };
	uint64_t r = xorshift64(rs);
	size_t at = l3 + fields[r % ARRAY_LEN(fields)];

	if (at + 2 > len)
		return;
	uint16_t v = bw_get16(f + at);
	switch ((r >> 8) % 3) {
	case 0:
		v = (uint16_t)(r >> 16);
		break;
	case 1:
		v = (uint16_t)(v + 1 + (r >> 16) % 16);
		break;
	default:
		v = (uint16_t)(v - 1 - (r >> 16) % 16);
		break;
	}
	bw_put16(f + at, v);
}

/* One random mutation of the frame f (len may change). */
static void mutate(uint8_t *f, size_t *len, size_t l3, uint64_t *rs)
{
	uint64_t r = xorshift64(rs);

	switch (r % 5) {
	case 0:                                     /* Random bytes. */
		for (unsigned k = 0; k <= (r >> 8) % 4 && *len > 0; k++) {
			uint64_t p = xorshift64(rs);
			f[p % *len] = (uint8_t)(p >> 32);
		}
		break;
	case 1:                                     /* Bit flips. */
		for (unsigned k = 0; k <= (r >> 8) % 8 && *len > 0; k++) {
			uint64_t p = xorshift64(rs);
			f[p % *len] ^= (uint8_t)(1u << (p >> 32) % 8);
		}
		break;
	case 2:                                     /* Truncation. */
		*len = (size_t)((r >> 8) % (*len + 1));
		break;
	case 3:
		mutate_length(f, *len, l3, rs);
		break;
	default: {                                  /* Trailing octets. */
		size_t add = (size_t)((r >> 8) % 64);
		for (size_t i = 0; i < add && *len < FUZZ_MAX; i++)
			f[(*len)++] = (uint8_t)xorshift64(rs);
		break;
	}
	}
}

static void test_fuzz(void **state)
{
	(void)state;
	static uint8_t base[ARRAY_LEN(seeds)][FUZZ_MAX];
	static uint8_t f[FUZZ_MAX];
	size_t base_len[ARRAY_LEN(seeds)];
	uint64_t rs = 0x5eed5eed12345678ull;
	unsigned seen[3] = { 0 };

	for (size_t i = 0; i < ARRAY_LEN(seeds); i++)
		base_len[i] = seeds[i].build(base[i]);
	for (unsigned n = 0; n < FUZZ_ROUNDS; n++) {
		uint64_t r = xorshift64(&rs);
		size_t s = r % ARRAY_LEN(seeds), len = base_len[s];

		memcpy(f, base[s], len);
		for (unsigned k = 0; k <= (r >> 8) % 3; k++)
			mutate(f, &len, seeds[s].l3, &rs);
		if ((r >> 16) & 1)                      /* Get past checksums. */
			fix_cksums(f, len, seeds[s].l3);
		F->ctx.offload = (r >> 17) % 4 == 0 ? BOTH_OFFLOADS : 0;
		seen[handle_copy(f, len, (r >> 20) % 4 == 0,
		              (size_t)((r >> 24) % 1500))]++;
	}
	F->ctx.offload = 0;
	print_message("  drop %u, tx %u, exception %u\n", seen[BW_PKT_DROP],
	              seen[BW_PKT_TX], seen[BW_PKT_EXCEPTION]);
	/* The mutations reach every outcome, not just the first checks. */
	for (size_t i = 0; i < ARRAY_LEN(seen); i++)
		assert_true(seen[i] > FUZZ_ROUNDS / 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_answers),
		cmocka_unit_test(test_offload),
		cmocka_unit_test(test_udp_cksum_zero),
		cmocka_unit_test(test_room_limits),
		cmocka_unit_test(test_second_address),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_icmp6_echo),
		cmocka_unit_test(test_neighbour_solicitation),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_ipv6_ext_headers),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests_name("pkt", tests, setup, teardown);
}
