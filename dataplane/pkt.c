/*  bulwark — frames in, verdicts out (see pkt.h).
 *
 *  Headers are read with memcpy-free byte accessors: frames come from NIC
 *  buffers with any alignment after a VLAN tag, so nothing is cast to a
 *  header struct.
 */
#include <string.h>

#include "bulwark/wire.h"
#include "pkt.h"
#include "zoneset_impl.h"

#define ETH_HLEN        14
#define VLAN_HLEN       4
#define ETH_P_IPV4      0x0800
#define ETH_P_ARP       0x0806
#define ETH_P_VLAN      0x8100
#define ETH_P_QINQ      0x88a8
#define ETH_P_IPV6      0x86dd
#define IPV4_HLEN       20
#define IPV6_HLEN       40
#define UDP_HLEN        8
#define ARP_LEN         28
#define IPPROTO_ICMP_   1
#define IPPROTO_TCP_    6
#define IPPROTO_UDP_    17
#define IPPROTO_ICMPV6_ 58
#define IP_TTL_OUT      64
#define ICMP6_ECHO_REQ  128
#define ICMP6_ECHO_REP  129
#define ICMP6_NS        135
#define ICMP6_NA        136
#define ND_OPT_SLLA     1
#define ND_OPT_TLLA     2
#define ND_NS_LEN       24   /* ICMPv6 header, reserved, target. */

const char *const bw_pkt_drop_names[BW_DROP_MAX] = {
	[BW_DROP_RUNT] = "runt", [BW_DROP_NOT_OURS] = "not_ours",
	[BW_DROP_BAD_IP] = "bad_ip", [BW_DROP_BAD_CKSUM] = "bad_cksum",
	[BW_DROP_BAD_UDP] = "bad_udp", [BW_DROP_BAD_SRC] = "bad_src",
	[BW_DROP_BAD_ARP] = "bad_neigh", [BW_DROP_DNS] = "dns",
	[BW_DROP_TOO_BIG] = "too_big", [BW_DROP_NO_ZONES] = "no_zones",
	[BW_DROP_TX] = "tx_full", [BW_DROP_EXCEPTION] = "exception_full",
	[BW_DROP_MITIGATED] = "mitigated",
};

const char *const bw_pkt_exc_names[BW_EXC_MAX] = {
	[BW_EXC_TCP] = "tcp", [BW_EXC_FRAGMENT] = "fragment",
	[BW_EXC_IP_OPTIONS] = "ip_options", [BW_EXC_IPV6_EXT] = "ipv6_ext",
	[BW_EXC_PROTO] = "proto", [BW_EXC_UDP_PORT] = "udp_port",
	[BW_EXC_NEIGH] = "neigh", [BW_EXC_L2] = "l2",
};

const char *const bw_pkt_qtype_names[BW_QT_MAX] = {
	[BW_QT_A] = "A", [BW_QT_NS] = "NS", [BW_QT_CNAME] = "CNAME",
	[BW_QT_SOA] = "SOA", [BW_QT_PTR] = "PTR", [BW_QT_MX] = "MX",
	[BW_QT_TXT] = "TXT", [BW_QT_AAAA] = "AAAA", [BW_QT_SRV] = "SRV",
	[BW_QT_DS] = "DS", [BW_QT_RRSIG] = "RRSIG", [BW_QT_NSEC] = "NSEC",
	[BW_QT_DNSKEY] = "DNSKEY", [BW_QT_NSEC3] = "NSEC3",
	[BW_QT_SVCB] = "SVCB", [BW_QT_HTTPS] = "HTTPS", [BW_QT_CAA] = "CAA",
	[BW_QT_ANY] = "ANY", [BW_QT_OTHER] = "other",
};

void bw_pkt_stats_add(struct bw_pkt_stats *sum, const struct bw_pkt_stats *add)
{
	/* The struct is only uint64_t counters: add them as an array, with
	 * relaxed loads because a worker may be writing \a add. */
	uint64_t *s = (uint64_t *)sum;
	const uint64_t *a = (const uint64_t *)add;

	for (size_t i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		s[i] += __atomic_load_n(&a[i], __ATOMIC_RELAXED);
}

/* Counters are written by their worker only (see bw_stat_add in udp.h). */
static inline void inc(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1,
	                 __ATOMIC_RELAXED);
}

static enum bw_pkt_verdict drop(struct bw_pkt_ctx *c, enum bw_pkt_drop why)
{
	inc(&c->st->drop[why]);
	return BW_PKT_DROP;
}

static enum bw_pkt_verdict exception(struct bw_pkt_ctx *c, enum bw_pkt_exc why)
{
	inc(&c->st->exc[why]);
	return BW_PKT_EXCEPTION;
}

/* ---- Byte access and checksums. ---- */

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[16];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

uint32_t bw_pkt_cksum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	/* 32-bit halves of 64-bit loads into a 64-bit accumulator: no carry
	 * is lost for any length a frame can have.  Words are summed as they
	 * sit in memory, which the one's complement sum allows (RFC 1071
	 * section 2 (B)); bw_pkt_cksum_fold() puts the result in network
	 * order. */
	while (len >= 16) {
		uint64_t a, b;
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		acc += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32);
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		uint16_t w = 0;
		memcpy(&w, p, 1);
		acc += w;
	}
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t bw_pkt_cksum_fold(uint32_t sum)
{
	uint16_t r;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	r = (uint16_t)~sum;
	/* Back to a big-endian value: the sum was taken over memory words. */
	const uint8_t *b = (const uint8_t *)&r;
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Pseudo-header sum: addresses, protocol, length (RFC 768, RFC 8200 8.1). */
static uint32_t pseudo_sum(const uint8_t *src, const uint8_t *dst,
                           size_t alen, uint8_t proto, uint16_t len)
{
	uint8_t tail[4] = { 0, proto, (uint8_t)(len >> 8), (uint8_t)len };
	uint32_t s = bw_pkt_cksum_add(0, src, alen);

	s = bw_pkt_cksum_add(s, dst, alen);
	return bw_pkt_cksum_add(s, tail, sizeof(tail));
}

/* ---- Parsed headers. ---- */

struct frame {
	uint8_t *p;
	size_t len, cap;
	size_t l3;          /* Offset of the IP or ARP header. */
	size_t l4;          /* Offset of UDP/ICMP. */
	size_t l4_len;      /* IP payload length (from the IP header). */
	bool ipv6;
};

static bool mac_is_ours(const struct bw_pkt_port *pt, const uint8_t *mac)
{
	/* Broadcast and multicast (I/G bit) frames are looked at further:
	 * ARP requests, neighbour solicitations to solicited-node groups. */
	return (mac[0] & 1) != 0 || memcmp(mac, pt->mac, 6) == 0;
}

static int v4_index(const struct bw_pkt_port *pt, const uint8_t *ip)
{
	for (unsigned i = 0; i < pt->n4; i++)
		if (memcmp(pt->v4[i], ip, 4) == 0)
			return (int)i;
	return -1;
}

static int v6_index(const struct bw_pkt_port *pt, const uint8_t *ip)
{
	for (unsigned i = 0; i < pt->n6; i++)
		if (memcmp(pt->v6[i], ip, 16) == 0)
			return (int)i;
	return -1;
}

/* ff02::1:ffXX:XXXX of one of our addresses. */
static int v6_solicited_index(const struct bw_pkt_port *pt, const uint8_t *ip)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0,
	                                 0, 1, 0xff };

	if (memcmp(ip, pfx, sizeof(pfx)) != 0)
		return -1;
	for (unsigned i = 0; i < pt->n6; i++)
		if (memcmp(pt->v6[i] + 13, ip + 13, 3) == 0)
			return (int)i;
	return -1;
}

/* Source MAC of the response: ours; destination: the sender's. */
static void eth_reply(struct frame *f, const struct bw_pkt_port *pt)
{
	memcpy(f->p, f->p + 6, 6);
	memcpy(f->p + 6, pt->mac, 6);
}

static void qtype_count(struct bw_pkt_stats *st, uint16_t qtype)
{
	static const uint8_t small[] = {
		[BW_TYPE_A] = BW_QT_A + 1, [BW_TYPE_NS] = BW_QT_NS + 1,
		[BW_TYPE_CNAME] = BW_QT_CNAME + 1, [BW_TYPE_SOA] = BW_QT_SOA + 1,
		[BW_TYPE_PTR] = BW_QT_PTR + 1, [BW_TYPE_MX] = BW_QT_MX + 1,
		[BW_TYPE_TXT] = BW_QT_TXT + 1, [BW_TYPE_AAAA] = BW_QT_AAAA + 1,
		[BW_TYPE_SRV] = BW_QT_SRV + 1, [BW_TYPE_DS] = BW_QT_DS + 1,
		[BW_TYPE_RRSIG] = BW_QT_RRSIG + 1, [BW_TYPE_NSEC] = BW_QT_NSEC + 1,
		[BW_TYPE_DNSKEY] = BW_QT_DNSKEY + 1,
		[BW_TYPE_NSEC3] = BW_QT_NSEC3 + 1, [BW_TYPE_SVCB] = BW_QT_SVCB + 1,
		[BW_TYPE_HTTPS] = BW_QT_HTTPS + 1,
	};
	unsigned b = BW_QT_OTHER;

	if (qtype < sizeof(small) && small[qtype] != 0)
		b = small[qtype] - 1u;
	else if (qtype == BW_TYPE_ANY)
		b = BW_QT_ANY;
	else if (qtype == BW_TYPE_CAA)
		b = BW_QT_CAA;
	inc(&st->qtype[b]);
}

static void answer_count(struct bw_pkt_stats *st, const struct bw_answer_info *in)
{
	inc(&st->answers);
	inc(&st->rcode[in->rcode < BW_PKT_RCODES ? in->rcode : BW_PKT_RCODES - 1]);
	qtype_count(st, in->qtype);
	if (in->tc)
		inc(&st->tc);
	if (in->edns)
		inc(&st->edns);
	if (in->do_bit)
		inc(&st->do_bit);
}

/* ---- UDP: the DNS query. ---- */

/* Finishes the UDP header and its checksum (or leaves it to the NIC). */
static void udp_finish(struct bw_pkt_ctx *c, uint8_t *udp, uint16_t ulen, const uint8_t *src, const uint8_t *dst,
                       size_t alen)
{
	uint32_t s = pseudo_sum(src, dst, alen, IPPROTO_UDP_, ulen);
	uint16_t ck;

	swap_bytes(udp, udp + 2, 2);
	put16(udp + 4, ulen);
	put16(udp + 6, 0);
	if (c->offload & BW_PKT_OFFLOAD_UDP) {
		/* The NIC adds the datagram to the pseudo-header sum, which
		 * goes in not inverted. */
		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		ck = (uint16_t)~bw_pkt_cksum_fold(s);
		put16(udp + 6, ck);
		return;
	}
	ck = bw_pkt_cksum_fold(bw_pkt_cksum_add(s, udp, ulen));
	put16(udp + 6, ck == 0 ? 0xffff : ck);  /* 0 means "none" (RFC 768). */
}

/*
 * Answers the DNS query in the UDP datagram at f->l4 into the same place
 * when it is for \a dns_port; \a dns_len is set for BW_PKT_TX.
 */
static enum bw_pkt_verdict udp_query(struct bw_pkt_ctx *c, struct frame *f,
                                     uint16_t dns_port, size_t *dns_len)
{
	uint8_t *udp = f->p + f->l4;
	uint16_t ulen;
	size_t qlen, room, hdrs, mtu_room;
	struct bw_answer_info info;

	if (f->l4_len < UDP_HLEN)
		return drop(c, BW_DROP_BAD_UDP);
	ulen = get16(udp + 4);
	if (ulen < UDP_HLEN || ulen > f->l4_len)
		return drop(c, BW_DROP_BAD_UDP);
	if (get16(udp + 2) != dns_port)
		return exception(c, BW_EXC_UDP_PORT);
	if (get16(udp) == 0)
		return drop(c, BW_DROP_BAD_SRC);
	qlen = ulen - UDP_HLEN;
	if (qlen > sizeof(c->query))
		return drop(c, BW_DROP_TOO_BIG);
	if (c->zs == NULL)
		return drop(c, BW_DROP_NO_ZONES);
	/* The engine may not write over its input: the query goes aside. */
	memcpy(c->query, udp + UDP_HLEN, qlen);
	hdrs = f->l4 + UDP_HLEN;
	room = f->cap - hdrs;
	mtu_room = (size_t)(c->port->mtu >= 1280 ? c->port->mtu : 1500) -
	           (f->l4 - f->l3) - UDP_HLEN;
	if (room > mtu_room)
		room = mtu_room;
	if (room > 65535 - UDP_HLEN - IPV6_HLEN)
		room = 65535 - UDP_HLEN - IPV6_HLEN;
	if (c->flood != NULL) {
		struct bw_flood_req rq = {
			.addr = f->p + f->l3 + (f->ipv6 ? 8 : 12), .v6 = f->ipv6,
			.now_ms = c->now_ms, .now_s = c->now_s,
		};
		*dns_len = bw_flood_answer(c->flood, c->pol, c->zs, c->answer, &rq,
		                           c->query, qlen, udp + UDP_HLEN, room, 0,
		                           &info);
		if (*dns_len == 0)
			return drop(c, info.mitigated ? BW_DROP_MITIGATED : BW_DROP_DNS);
	} else {
		*dns_len = bw_answer(c->zs, c->answer, c->query, qlen,
		                     udp + UDP_HLEN, room, 0, &info);
		if (*dns_len == 0)
			return drop(c, BW_DROP_DNS);
	}
	answer_count(c->st, &info);
	bw_zone_count_inline(&info, c->slot);
	return BW_PKT_TX;
}

static void out_set(struct bw_pkt_out *out, const struct frame *f, size_t len,
                    bool udp)
{
	out->len = (uint16_t)len;
	out->l2_len = (uint8_t)f->l3;
	out->l3_len = (uint8_t)(f->l4 - f->l3);
	out->ipv6 = f->ipv6;
	out->udp = udp;
}

/* ---- IPv4. ---- */

static void ipv4_finish(struct bw_pkt_ctx *c, uint8_t *ip, uint16_t total)
{
	put16(ip + 2, total);
	put16(ip + 6, 0x4000);   /* DF: responses are never fragmented. */
	ip[8] = IP_TTL_OUT;
	put16(ip + 10, 0);
	swap_bytes(ip + 12, ip + 16, 4);
	if (!(c->offload & BW_PKT_OFFLOAD_IPV4))
		put16(ip + 10, bw_pkt_cksum_fold(bw_pkt_cksum_add(0, ip, IPV4_HLEN)));
}

static enum bw_pkt_verdict ipv4_udp(struct bw_pkt_ctx *c, struct frame *f,
                                    int idx, struct bw_pkt_out *out)
{
	uint8_t *ip = f->p + f->l3;
	size_t dns_len;
	enum bw_pkt_verdict v = udp_query(c, f, c->port->v4_port[idx], &dns_len);

	if (v != BW_PKT_TX)
		return v;
	uint16_t ulen = (uint16_t)(UDP_HLEN + dns_len);
	ipv4_finish(c, ip, (uint16_t)(IPV4_HLEN + ulen));
	udp_finish(c, f->p + f->l4, ulen, ip + 12, ip + 16, 4);
	eth_reply(f, c->port);
	out_set(out, f, f->l4 + ulen, true);
	return BW_PKT_TX;
}

static enum bw_pkt_verdict ipv4_icmp(struct bw_pkt_ctx *c, struct frame *f,
                                     struct bw_pkt_out *out)
{
	uint8_t *ip = f->p + f->l3, *icmp = f->p + f->l4;
	uint16_t ck;

	if (f->l4_len < 8)
		return drop(c, BW_DROP_RUNT);
	if (icmp[0] != 8 || icmp[1] != 0)       /* Not an echo request. */
		return exception(c, BW_EXC_PROTO);
	if (bw_pkt_cksum_fold(bw_pkt_cksum_add(0, icmp, f->l4_len)) != 0)
		return drop(c, BW_DROP_BAD_CKSUM);
	icmp[0] = 0;
	put16(icmp + 2, 0);
	ck = bw_pkt_cksum_fold(bw_pkt_cksum_add(0, icmp, f->l4_len));
	put16(icmp + 2, ck);
	ipv4_finish(c, ip, (uint16_t)(IPV4_HLEN + f->l4_len));
	/* The IPv4 checksum is computed here even with offload: the caller
	 * asks the NIC only for UDP responses. */
	if (c->offload & BW_PKT_OFFLOAD_IPV4)
		put16(ip + 10, bw_pkt_cksum_fold(bw_pkt_cksum_add(0, ip, IPV4_HLEN)));
	eth_reply(f, c->port);
	out_set(out, f, f->l4 + f->l4_len, false);
	inc(&c->st->echo);
	return BW_PKT_TX;
}

static bool ipv4_src_bad(const uint8_t *src)
{
	/* Multicast, limited broadcast, "this network" 0/8. */
	return src[0] >= 224 || src[0] == 0;
}

static enum bw_pkt_verdict ipv4(struct bw_pkt_ctx *c, struct frame *f,
                                struct bw_pkt_out *out)
{
	uint8_t *ip = f->p + f->l3;
	size_t avail = f->len - f->l3;
	uint16_t total;
	int idx;

	if (avail < IPV4_HLEN)
		return drop(c, BW_DROP_RUNT);
	if ((ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5)
		return drop(c, BW_DROP_BAD_IP);
	total = get16(ip + 2);
	if (total < (ip[0] & 0xf) * 4u || total > avail)
		return drop(c, BW_DROP_BAD_IP);
	if (bw_pkt_cksum_fold(bw_pkt_cksum_add(0, ip, (ip[0] & 0xfu) * 4u)) != 0)
		return drop(c, BW_DROP_BAD_CKSUM);
	idx = v4_index(c->port, ip + 16);
	if (idx < 0)
		return drop(c, BW_DROP_NOT_OURS);
	if ((ip[0] & 0xf) != 5)
		return exception(c, BW_EXC_IP_OPTIONS);
	if ((get16(ip + 6) & 0x3fff) != 0)      /* MF or an offset. */
		return exception(c, BW_EXC_FRAGMENT);
	f->l4 = f->l3 + IPV4_HLEN;
	f->l4_len = total - IPV4_HLEN;
	switch (ip[9]) {
	case IPPROTO_UDP_:
		if (ipv4_src_bad(ip + 12))
			return drop(c, BW_DROP_BAD_SRC);
		return ipv4_udp(c, f, idx, out);
	case IPPROTO_ICMP_:
		if (ipv4_src_bad(ip + 12))
			return drop(c, BW_DROP_BAD_SRC);
		return ipv4_icmp(c, f, out);
	case IPPROTO_TCP_:
		return exception(c, BW_EXC_TCP);
	default:
		return exception(c, BW_EXC_PROTO);
	}
}

/* ---- ARP. ---- */

static enum bw_pkt_verdict arp(struct bw_pkt_ctx *c, struct frame *f,
                               struct bw_pkt_out *out)
{
	static const uint8_t eth_ipv4[6] = { 0, 1, 8, 0, 6, 4 };
	uint8_t *a = f->p + f->l3;

	if (f->len - f->l3 < ARP_LEN)
		return drop(c, BW_DROP_RUNT);
	if (memcmp(a, eth_ipv4, sizeof(eth_ipv4)) != 0)
		return drop(c, BW_DROP_BAD_ARP);
	if (v4_index(c->port, a + 24) < 0)
		return drop(c, BW_DROP_NOT_OURS);
	if (get16(a + 6) != 1)                  /* Replies: the kernel's. */
		return exception(c, BW_EXC_NEIGH);
	if (a[8] & 1)                           /* Multicast sender. */
		return drop(c, BW_DROP_BAD_SRC);
	/* Request -> reply: the sender becomes the target. */
	put16(a + 6, 2);
	memcpy(a + 18, a + 8, 6);               /* THA = SHA */
	swap_bytes(a + 14, a + 24, 4);          /* SPA <-> TPA */
	memcpy(a + 8, c->port->mac, 6);
	memcpy(f->p, a + 18, 6);
	memcpy(f->p + 6, c->port->mac, 6);
	out->len = (uint16_t)(f->l3 + ARP_LEN);
	out->l2_len = (uint8_t)f->l3;
	out->l3_len = 0;
	out->ipv6 = false;
	out->udp = false;
	inc(&c->st->arp);
	return BW_PKT_TX;
}

/* ---- IPv6. ---- */

static void ipv6_finish(uint8_t *ip, uint16_t plen)
{
	put16(ip + 4, plen);
	ip[7] = IP_TTL_OUT;
	swap_bytes(ip + 8, ip + 24, 16);
}

static enum bw_pkt_verdict ipv6_udp(struct bw_pkt_ctx *c, struct frame *f,
                                    int idx, struct bw_pkt_out *out)
{
	uint8_t *ip = f->p + f->l3;
	size_t dns_len;
	enum bw_pkt_verdict v = udp_query(c, f, c->port->v6_port[idx], &dns_len);

	if (v != BW_PKT_TX)
		return v;
	uint16_t ulen = (uint16_t)(UDP_HLEN + dns_len);
	ipv6_finish(ip, ulen);
	udp_finish(c, f->p + f->l4, ulen, ip + 8, ip + 24, 16);
	eth_reply(f, c->port);
	out_set(out, f, f->l4 + ulen, true);
	return BW_PKT_TX;
}

static uint16_t icmp6_cksum(const uint8_t *ip, const uint8_t *icmp, uint16_t len)
{
	uint32_t s = pseudo_sum(ip + 8, ip + 24, 16, IPPROTO_ICMPV6_, len);

	return bw_pkt_cksum_fold(bw_pkt_cksum_add(s, icmp, len));
}

static enum bw_pkt_verdict ipv6_echo(struct bw_pkt_ctx *c, struct frame *f,
                                     struct bw_pkt_out *out)
{
	uint8_t *ip = f->p + f->l3, *icmp = f->p + f->l4;
	uint16_t len = (uint16_t)f->l4_len;

	ipv6_finish(ip, len);
	icmp[0] = ICMP6_ECHO_REP;
	put16(icmp + 2, 0);
	put16(icmp + 2, icmp6_cksum(ip, icmp, len));
	eth_reply(f, c->port);
	out_set(out, f, f->l4 + len, false);
	inc(&c->st->echo);
	return BW_PKT_TX;
}

/* Neighbour solicitation for one of our addresses -> advertisement. */
static enum bw_pkt_verdict ipv6_ns(struct bw_pkt_ctx *c, struct frame *f,
                                   struct bw_pkt_out *out)
{
	uint8_t *ip = f->p + f->l3, *icmp = f->p + f->l4;
	static const uint8_t unspec[16];
	uint16_t len = ND_NS_LEN + 8;           /* With our TLLA option. */

	if (ip[7] != 255 || icmp[1] != 0 || f->l4_len < ND_NS_LEN)
		return drop(c, BW_DROP_BAD_ARP);   /* RFC 4861 7.1.1 */
	if (ip[8] == 0xff)                      /* Multicast source. */
		return drop(c, BW_DROP_BAD_SRC);
	if (v6_index(c->port, icmp + 8) < 0)
		return exception(c, BW_EXC_NEIGH);
	if (memcmp(ip + 8, unspec, 16) == 0)   /* DAD probe: the kernel's. */
		return exception(c, BW_EXC_NEIGH);
	if (f->cap - f->l4 < len)
		return drop(c, BW_DROP_TOO_BIG);
	/* Reply from the target address to the soliciting node. */
	memcpy(ip + 24, icmp + 8, 16);
	ipv6_finish(ip, len);
	ip[7] = 255;
	icmp[0] = ICMP6_NA;
	icmp[4] = 0x60;                         /* Solicited, override. */
	icmp[5] = icmp[6] = icmp[7] = 0;
	icmp[24] = ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, c->port->mac, 6);
	put16(icmp + 2, 0);
	put16(icmp + 2, icmp6_cksum(ip, icmp, len));
	eth_reply(f, c->port);
	out_set(out, f, f->l4 + len, false);
	inc(&c->st->nd);
	return BW_PKT_TX;
}

static enum bw_pkt_verdict ipv6_icmp(struct bw_pkt_ctx *c, struct frame *f,
                                     bool unicast, struct bw_pkt_out *out)
{
	uint8_t *ip = f->p + f->l3, *icmp = f->p + f->l4;

	if (f->l4_len < 8)
		return drop(c, BW_DROP_RUNT);
	if (icmp6_cksum(ip, icmp, (uint16_t)f->l4_len) != 0)
		return drop(c, BW_DROP_BAD_CKSUM);
	if (icmp[0] == ICMP6_NS)
		return ipv6_ns(c, f, out);
	if (icmp[0] == ICMP6_ECHO_REQ && icmp[1] == 0 && unicast)
		return ipv6_echo(c, f, out);
	if (icmp[0] >= 130 && icmp[0] <= 137)  /* MLD, RS/RA, NS/NA, redirect. */
		return exception(c, BW_EXC_NEIGH);
	return exception(c, BW_EXC_PROTO);
}

/* Multicast or unspecified: no answer goes there. */
static bool ipv6_src_bad(const uint8_t *src)
{
	static const uint8_t unspec[16];

	return src[0] == 0xff || memcmp(src, unspec, 16) == 0;
}

static enum bw_pkt_verdict ipv6(struct bw_pkt_ctx *c, struct frame *f,
                                struct bw_pkt_out *out)
{
	uint8_t *ip = f->p + f->l3;
	size_t avail = f->len - f->l3;
	uint16_t plen;
	int idx;
	bool unicast;

	if (avail < IPV6_HLEN)
		return drop(c, BW_DROP_RUNT);
	if ((ip[0] >> 4) != 6)
		return drop(c, BW_DROP_BAD_IP);
	plen = get16(ip + 4);
	if (plen > avail - IPV6_HLEN)
		return drop(c, BW_DROP_BAD_IP);
	idx = v6_index(c->port, ip + 24);
	unicast = idx >= 0;
	if (!unicast && ip[24] == 0xff && (ip[25] & 0x0f) == 0x02) {
		/* Link-local multicast: NS to a solicited-node group of ours,
		 * else (all-nodes, MLD, other groups) the kernel's. */
		idx = v6_solicited_index(c->port, ip + 24);
		if (idx < 0 || ip[6] != IPPROTO_ICMPV6_)
			return exception(c, BW_EXC_NEIGH);
	} else if (!unicast && ip[24] == 0xfe && (ip[25] & 0xc0) == 0x80) {
		/* Link-local unicast: the kernel's own fe80:: address. */
		return exception(c, BW_EXC_NEIGH);
	} else if (!unicast) {
		return drop(c, BW_DROP_NOT_OURS);
	}
	f->ipv6 = true;
	f->l4 = f->l3 + IPV6_HLEN;
	f->l4_len = plen;
	switch (ip[6]) {
	case IPPROTO_UDP_:
		if (ipv6_src_bad(ip + 8))
			return drop(c, BW_DROP_BAD_SRC);
		return ipv6_udp(c, f, idx, out);
	case IPPROTO_ICMPV6_:
		return ipv6_icmp(c, f, unicast && !ipv6_src_bad(ip + 8), out);
	case IPPROTO_TCP_:
		return exception(c, BW_EXC_TCP);
	case 0: case 43: case 44: case 50: case 51: case 60: case 135:
	case 139: case 140:
		return exception(c, BW_EXC_IPV6_EXT);
	default:
		return exception(c, BW_EXC_PROTO);
	}
}

/* ---- Ethernet. ---- */

void bw_pkt_prefetch(const struct bw_pkt_ctx *c, const uint8_t *frame,
                     size_t len, struct bw_answer_hint *hint)
{
	size_t off = 12, dns;
	uint16_t type, ulen;

	hint->table = NULL;
	if (len < ETH_HLEN)
		return;
	type = get16(frame + off);
	while ((type == ETH_P_VLAN || type == ETH_P_QINQ) && off < 20 &&
	       len >= off + 6) {
		off += VLAN_HLEN;
		type = get16(frame + off);
	}
	off += 2;
	if (type == ETH_P_IPV4 && len >= off + IPV4_HLEN && frame[off] == 0x45 &&
	    frame[off + 9] == IPPROTO_UDP_)
		dns = off + IPV4_HLEN + UDP_HLEN;
	else if (type == ETH_P_IPV6 && len >= off + IPV6_HLEN &&
	         frame[off + 6] == IPPROTO_UDP_)
		dns = off + IPV6_HLEN + UDP_HLEN;
	else
		return;
	if (len < dns + BW_HDR_LEN)
		return;
	ulen = get16(frame + dns - 4);
	if (ulen < UDP_HLEN + BW_HDR_LEN || dns - UDP_HLEN + ulen > len)
		return;
	bw_answer_prefetch(c->zs, frame + dns, ulen - UDP_HLEN, hint);
}

enum bw_pkt_verdict bw_pkt_handle(struct bw_pkt_ctx *c, uint8_t *frame,
                                  size_t len, size_t cap,
                                  struct bw_pkt_out *out)
{
	struct frame f = { .p = frame, .len = len, .cap = cap };
	size_t off = 12;
	uint16_t type;

	inc(&c->st->rx);
	if (len < ETH_HLEN)
		return drop(c, BW_DROP_RUNT);
	/* Our own frames come back on some ports (AF_PACKET sees what it
	 * sends): they are never for us. */
	if (!mac_is_ours(c->port, frame) || memcmp(frame + 6, c->port->mac, 6) == 0)
		return drop(c, BW_DROP_NOT_OURS);
	if (frame[6] & 1)          /* A group address is never a source. */
		return drop(c, BW_DROP_BAD_SRC);
	type = get16(frame + off);
	/* Up to two tags (802.1ad outer, 802.1Q inner); kept as they are. */
	for (int tags = 0; tags < 2 && (type == ETH_P_VLAN || type == ETH_P_QINQ);
	     tags++) {
		off += VLAN_HLEN;
		if (len < off + 2)
			return drop(c, BW_DROP_RUNT);
		type = get16(frame + off);
	}
	f.l3 = off + 2;
	switch (type) {
	case ETH_P_IPV4:
		return ipv4(c, &f, out);
	case ETH_P_IPV6:
		return ipv6(c, &f, out);
	case ETH_P_ARP:
		return arp(c, &f, out);
	default:
		if (frame[0] & 1)   /* Broadcast of another protocol: not ours. */
			return drop(c, BW_DROP_NOT_OURS);
		return exception(c, BW_EXC_L2);
	}
}
