/*  bulwark — the DPDK dataplane: EAL, ports, queues, workers, exception
 *  interfaces (see bulwark/dataplane.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "bulwark/answer.h"
#include "bulwark/err.h"
#include "dpdk_impl.h"

#define EAL_ARGS_MAX   64
#define POOL_CACHE     256
#define LINK_WAIT_MS   3000

struct start_ctx {
	const struct bw_dpdk_conf *conf;
	struct bw_dpdk *dp;
	char *err;
	size_t errlen;
};

static int fail(struct start_ctx *s, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct start_ctx *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static void log_info(const struct bw_dpdk_conf *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_info(const struct bw_dpdk_conf *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (c->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->log(buf);
}

/* ---- EAL. ---- */

/* Splits \a args at blanks; "..." keeps blanks.  Returns argc or -1. */
static int split_args(char *args, char **argv, int max)
{
	int argc = 0;
	char *p = args;

	argv[argc++] = (char *)"bulwarkd";
	while (*p != '\0') {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (argc == max - 1)
			return -1;
		char quote = *p == '"' ? *p++ : 0;
		argv[argc++] = p;
		while (*p != '\0' && (quote ? *p != quote : !isspace((unsigned char)*p)))
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

static int eal_init(struct start_ctx *s)
{
	char *copy = strdup(s->conf->eal_args != NULL ? s->conf->eal_args : "");
	char *argv[EAL_ARGS_MAX];
	int argc, rc;

	if (copy == NULL)
		return fail(s, BW_ENOMEM, "out of memory");
	argc = split_args(copy, argv, EAL_ARGS_MAX);
	if (argc < 0) {
		free(copy);
		return fail(s, BW_EINVAL, "eal-args: more than %d arguments",
		            EAL_ARGS_MAX - 2);
	}
	rc = rte_eal_init(argc, argv);
	/* The EAL keeps pointers into argv: copy stays allocated. */
	if (rc < 0)
		return fail(s, BW_EINVAL, "EAL initialisation failed (eal-args \"%s\"): %s",
		            s->conf->eal_args != NULL ? s->conf->eal_args : "",
		            rte_strerror(rte_errno));
	s->dp->eal_up = true;
	return 0;
}

/* ---- Ports. ---- */

static bool is_pci(const char *name)
{
	unsigned a, b, c, d;
	char end;

	return sscanf(name, "%x:%x:%x.%x%c", &a, &b, &c, &d, &end) == 4 ||
	       sscanf(name, "%x:%x.%x%c", &b, &c, &d, &end) == 3;
}

/* Probes a vdev string "DRIVER[,ARGS]" (or finds a PCI port). */
static int find_port(struct start_ctx *s, const char *spec, uint16_t *pid)
{
	char name[128];
	const char *comma = strchr(spec, ',');
	size_t n = comma != NULL ? (size_t)(comma - spec) : strlen(spec);
	int rc;

	if (n >= sizeof(name))
		return fail(s, BW_EINVAL, "port \"%s\": name too long", spec);
	memcpy(name, spec, n);
	name[n] = '\0';
	if (!is_pci(name)) {
		rc = rte_vdev_init(name, comma != NULL ? comma + 1 : "");
		if (rc < 0)
			return fail(s, BW_EINVAL, "port \"%s\": cannot create the "
			            "virtual device: %s", spec, rte_strerror(-rc));
	}
	if (rte_eth_dev_get_port_by_name(name, pid) != 0)
		return fail(s, BW_ENOENT, "port \"%s\": no such ethdev port%s", spec,
		            is_pci(name) ? " (is the device bound to a DPDK "
		            "driver and allowed by eal-args?)" : "");
	return 0;
}

static void addrs_fill(struct bw_pkt_port *pa, const struct bw_dpdk_port_conf *pc)
{
	for (size_t i = 0; i < pc->naddrs; i++) {
		const struct sockaddr_storage *ss = &pc->addrs[i].ss;

		if (ss->ss_family == AF_INET && pa->n4 < BW_PKT_ADDRS_MAX) {
			const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
			memcpy(pa->v4[pa->n4], &a->sin_addr, 4);
			pa->v4_port[pa->n4++] = ntohs(a->sin_port);
		} else if (ss->ss_family == AF_INET6 && pa->n6 < BW_PKT_ADDRS_MAX) {
			const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
			memcpy(pa->v6[pa->n6], &a->sin6_addr, 16);
			pa->v6_port[pa->n6++] = ntohs(a->sin6_port);
		}
	}
}

static void log_port(struct start_ctx *s, const struct dp_port *p,
                     const struct rte_eth_dev_info *info)
{
	struct rte_eth_link link;
	char mac[RTE_ETHER_ADDR_FMT_SIZE], caps[512] = "", st[48];
	size_t used = 0;

	rte_ether_format_addr(mac, sizeof(mac), (const struct rte_ether_addr *)p->addrs.mac);
	for (uint64_t bit = 1; bit != 0 && used < sizeof(caps) - 32; bit <<= 1)
		if (info->tx_offload_capa & bit)
			used += (size_t)snprintf(caps + used, sizeof(caps) - used, " %s",
			                         rte_eth_dev_tx_offload_name(bit));
	memset(&link, 0, sizeof(link));
	(void)rte_eth_link_get_nowait(p->pid, &link);
	if (link.link_status == RTE_ETH_LINK_UP)
		snprintf(st, sizeof(st), "up, %u Mbps, %s duplex", link.link_speed,
		         link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
	else
		snprintf(st, sizeof(st), "down");
	log_info(s->conf, "port %u \"%s\" (%s): MAC %s, MTU %u, %u queue pair%s "
	         "(device max %u/%u), RSS %s, link %s; TX offloads:%s; checksums "
	         "in %s", p->pid, p->name, info->driver_name, mac, p->addrs.mtu,
	         p->nq, p->nq == 1 ? "" : "s", info->max_rx_queues,
	         info->max_tx_queues, p->nq > 1 && info->flow_type_rss_offloads ?
	         "on" : "off", st, caps[0] != '\0' ? caps : " none",
	         p->offload ? "hardware" : "software");
}

/* The packet pool of a NUMA socket, created when a port there needs it:
 * receive buffers stay on the socket of the device that fills them. */
static struct rte_mempool *pool_for(struct start_ctx *s, int socket)
{
	const struct bw_dpdk_conf *c = s->conf;
	unsigned n = c->mbufs;
	/* Room for the largest response after the largest headers. */
	unsigned room = RTE_MAX(2048u, (unsigned)c->answer->udp_max + 128u) +
	                RTE_PKTMBUF_HEADROOM;
	char name[RTE_MEMPOOL_NAMESIZE];

	if (socket < 0 || socket >= RTE_MAX_NUMA_NODES)
		socket = (int)rte_socket_id();
	if (s->dp->pools[socket] != NULL)
		return s->dp->pools[socket];
	if (n == 0)
		n = (unsigned)c->nports * 2 * c->workers *
		    (BW_DPDK_RX_DESC + BW_DPDK_TX_DESC) +
		    c->workers * (2 * BW_DPDK_RING + POOL_CACHE + BW_DPDK_BURST) + 4096;
	snprintf(name, sizeof(name), "bw_mbufs_%d", socket);
	s->dp->pools[socket] = rte_pktmbuf_pool_create(name, n, POOL_CACHE, 0,
	                                               (uint16_t)room, socket);
	if (s->dp->pools[socket] == NULL)
		fail(s, BW_ENOMEM, "cannot create a pool of %u mbufs on socket %d: "
		     "%s (more memory in eal-args -m, or fewer with 'mbufs')", n,
		     socket, rte_strerror(rte_errno));
	else
		log_info(c, "socket %d: %u mbufs of %u octets", socket, n, room);
	return s->dp->pools[socket];
}

/* Configures and starts one ethdev with \a nq queue pairs. */
static int port_setup(struct start_ctx *s, uint16_t pid, uint16_t nq,
                      uint64_t tx_offloads, bool rss)
{
	struct rte_eth_conf pc;
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txc;
	uint16_t nrx = BW_DPDK_RX_DESC, ntx = BW_DPDK_TX_DESC;
	int socket = rte_eth_dev_socket_id(pid), rc;
	struct rte_mempool *pool = pool_for(s, socket);

	if (pool == NULL)
		return -ENOMEM;
	if (socket < 0)
		socket = (int)rte_socket_id();
	memset(&pc, 0, sizeof(pc));
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0)
		return rc;
	if (rss) {
		pc.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		pc.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) &
		                                 info.flow_type_rss_offloads;
	}
	pc.txmode.offloads = tx_offloads;
	rc = rte_eth_dev_configure(pid, nq, nq, &pc);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	txc = info.default_txconf;
	txc.offloads = tx_offloads;
	for (uint16_t q = 0; rc == 0 && q < nq; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, nrx, (unsigned)socket, NULL, pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(pid, q, ntx, (unsigned)socket, &txc);
	}
	if (rc == 0)
		rc = rte_eth_dev_start(pid);
	return rc;
}

static int port_start(struct start_ctx *s, struct dp_port *p, unsigned workers)
{
	const uint64_t cks = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
	                     RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	uint16_t mtu = 1500;
	int rc = rte_eth_dev_info_get(p->pid, &info);

	if (rc != 0)
		return fail(s, BW_EIO, "port \"%s\": %s", p->name, rte_strerror(-rc));
	unsigned nq = workers;
	if (nq > info.max_rx_queues)
		nq = info.max_rx_queues;
	if (nq > info.max_tx_queues)
		nq = info.max_tx_queues;
	p->nq = (uint16_t)(nq == 0 ? 1 : nq);
	p->offload = (info.tx_offload_capa & cks) == cks ?
	             BW_PKT_OFFLOAD_IPV4 | BW_PKT_OFFLOAD_UDP : 0;
	rc = port_setup(s, p->pid, p->nq, p->offload ? cks : 0,
	                p->nq > 1 && info.flow_type_rss_offloads != 0);
	if (rc != 0)
		return fail(s, BW_EIO, "port \"%s\": cannot configure and start it "
		            "with %u queue pairs: %s", p->name, p->nq,
		            rte_strerror(rc < 0 ? -rc : rc));
	/* Multicast frames carry neighbour solicitations; not every device
	 * can filter, so a failure only costs NDP on that port. */
	(void)rte_eth_allmulticast_enable(p->pid);
	(void)rte_eth_macaddr_get(p->pid, &mac);
	memcpy(p->addrs.mac, mac.addr_bytes, 6);
	if (rte_eth_dev_get_mtu(p->pid, &mtu) != 0 || mtu < 1280)
		mtu = 1500;
	p->addrs.mtu = mtu;
	log_port(s, p, &info);
	return 0;
}

/* ---- Exception interfaces. ---- */

static int ifreq_ioctl(int fd, unsigned long req, struct ifreq *ifr)
{
	return ioctl(fd, req, ifr) == 0 ? 0 : -errno;
}

/* Writes "0" to a per-interface IPv6 sysctl: no DAD for the kernel's own
 * link-local address, no router advertisements taken. */
static void ipv6_sysctl_off(const char *ifname, const char *key)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "0", 1) != 1) {
		/* Not fatal: the address is then usable after DAD. */
	}
	close(fd);
}

/* The first IPv4 address is the interface's, the others are aliases
 * (NAME:1, ...): SIOCSIFADDR replaces an interface's address. */
static int tap_add_v4(int fd, const char *ifname, size_t nth,
                      const struct sockaddr_storage *ss, unsigned prefix)
{
	struct ifreq ifr;
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	if (nth == 0)
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	else
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.10s:%u", ifname,
		         (unsigned)(nth % 1000));
	memcpy(a, ss, sizeof(*a));
	a->sin_port = 0;
	rc = ifreq_ioctl(fd, SIOCSIFADDR, &ifr);
	if (prefix == 0 || prefix >= 32)
		a->sin_addr.s_addr = 0xffffffffu;
	else
		a->sin_addr.s_addr = htonl(~(0xffffffffu >> prefix));
	if (rc == 0)
		rc = ifreq_ioctl(fd, SIOCSIFNETMASK, &ifr);
	return rc;
}

/* Adds an IPv6 address with IFA_F_NODAD over rtnetlink: usable at once
 * (the port answers neighbour solicitations for it anyway), whatever the
 * namespace's accept_dad says. */
static int tap_add_v6(const char *ifname, const struct sockaddr_storage *ss,
                      unsigned prefix)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		struct rtattr rta;
		struct in6_addr addr;
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int rc = 0;

	if (fd < 0)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	req.ifa.ifa_family = AF_INET6;
	req.ifa.ifa_prefixlen = (uint8_t)(prefix == 0 ? 128 : prefix);
	req.ifa.ifa_flags = IFA_F_NODAD | IFA_F_PERMANENT;
	req.ifa.ifa_index = if_nametoindex(ifname);
	req.rta.rta_type = IFA_LOCAL;
	req.rta.rta_len = RTA_LENGTH(sizeof(req.addr));
	req.addr = ((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		rc = -errno;
	else if (recv(fd, &ack, sizeof(ack), 0) < (ssize_t)sizeof(ack))
		rc = -EIO;
	else if (ack.nh.nlmsg_type == NLMSG_ERROR && ack.err.error != 0 &&
	         ack.err.error != -EEXIST)
		rc = ack.err.error;
	close(fd);
	return rc;
}

/* Adds the port's addresses to the kernel interface and brings it up. */
static int tap_addresses(struct start_ctx *s, const struct dp_port *p,
                         const struct bw_dpdk_port_conf *pc)
{
	int fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	int rc = 0;

	memset(&ifr, 0, sizeof(ifr));
	ipv6_sysctl_off(p->tap_name, "accept_dad");
	ipv6_sysctl_off(p->tap_name, "accept_ra");
	for (size_t i = 0, n4 = 0; rc == 0 && i < pc->naddrs; i++) {
		const struct sockaddr_storage *ss = &pc->addrs[i].ss;
		unsigned prefix = pc->addrs[i].prefix;

		if (ss->ss_family == AF_INET)
			rc = tap_add_v4(fd4, p->tap_name, n4++, ss, prefix);
		else
			rc = tap_add_v6(p->tap_name, ss, prefix);
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->tap_name);
	if (rc == 0)
		rc = ifreq_ioctl(fd4, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ifreq_ioctl(fd4, SIOCSIFFLAGS, &ifr);
	}
	memset(&ifr.ifr_ifru, 0, sizeof(ifr.ifr_ifru));
	ifr.ifr_mtu = p->addrs.mtu;
	if (rc == 0)
		(void)ifreq_ioctl(fd4, SIOCSIFMTU, &ifr);
	if (fd4 >= 0)
		close(fd4);
	if (rc != 0)
		return fail(s, BW_EIO, "exception interface %s: cannot set its "
		            "addresses: %s", p->tap_name, strerror(-rc));
	return 0;
}

/* Creates the TAP of port \a p: the kernel sees the port's MAC and
 * addresses on it, so that its TCP listener serves the same address. */
static int tap_start(struct start_ctx *s, struct dp_port *p, unsigned idx,
                     const struct bw_dpdk_port_conf *pc)
{
	char vdev[32], args[96], mac[RTE_ETHER_ADDR_FMT_SIZE];
	int rc;

	snprintf(p->tap_name, sizeof(p->tap_name), "%s", pc->exception);
	snprintf(vdev, sizeof(vdev), "net_tap_bw%u", idx);
	rte_ether_format_addr(mac, sizeof(mac), (const struct rte_ether_addr *)p->addrs.mac);
	snprintf(args, sizeof(args), "iface=%s,mac=%s", p->tap_name, mac);
	rc = rte_vdev_init(vdev, args);
	if (rc < 0)
		return fail(s, BW_EIO, "exception interface %s of port \"%s\": "
		            "cannot create the TAP: %s", p->tap_name, p->name,
		            rte_strerror(-rc));
	if (rte_eth_dev_get_port_by_name(vdev, &p->tap) != 0)
		return fail(s, BW_EIO, "exception interface %s: no ethdev", p->tap_name);
	rc = port_setup(s, p->tap, 1, 0, false);
	if (rc != 0)
		return fail(s, BW_EIO, "exception interface %s: cannot start it: %s",
		            p->tap_name, rte_strerror(rc < 0 ? -rc : rc));
	rc = tap_addresses(s, p, pc);
	if (rc == 0)
		log_info(s->conf, "port %u \"%s\": exception interface %s (TAP, "
		         "port %u)", p->pid, p->name, p->tap_name, p->tap);
	return rc;
}

/* ---- Workers. ---- */

static int workers_alloc(struct start_ctx *s)
{
	struct bw_dpdk *dp = s->dp;
	unsigned n = s->conf->workers, lcore = 0;

	dp->workers = rte_zmalloc("bw_workers", n * sizeof(*dp->workers),
	                          RTE_CACHE_LINE_SIZE);
	if (dp->workers == NULL)
		return fail(s, BW_ENOMEM, "out of memory for %u workers", n);
	dp->nworkers = n;
	for (unsigned i = 0; i < n; i++) {
		struct dp_worker *w = &dp->workers[i];
		char name[RTE_RING_NAMESIZE];

		if (s->conf->lcore_first >= 0) {
			lcore = (unsigned)s->conf->lcore_first + i;
			if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore) ||
			    lcore == rte_get_main_lcore())
				return fail(s, BW_EINVAL, "workers: lcore %u is not a "
				            "worker lcore of eal-args (-l); the main lcore "
				            "%u stays with the control plane", lcore,
				            rte_get_main_lcore());
		} else {
			lcore = rte_get_next_lcore(i == 0 ? (unsigned)-1 : lcore, 1, 0);
			if (lcore >= RTE_MAX_LCORE)
				return fail(s, BW_EINVAL, "workers %u: eal-args (-l) "
				            "gives only %u worker lcores", n,
				            rte_lcore_count() - 1);
		}
		w->dp = dp;
		w->id = i;
		w->lcore = lcore;
		w->ctx.st = &w->st;
		w->ctx.answer = s->conf->answer;
		w->ctx.slot = i;
		w->ctx.flood = s->conf->flood ? s->conf->flood[i] : NULL;
		snprintf(name, sizeof(name), "bw_exc_up%u", i);
		w->to_kernel = rte_ring_create(name, BW_DPDK_RING,
		                               (int)rte_lcore_to_socket_id(lcore),
		                               RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "bw_exc_down%u", i);
		w->inject = rte_ring_create(name, BW_DPDK_RING,
		                            (int)rte_lcore_to_socket_id(lcore),
		                            RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->to_kernel == NULL || w->inject == NULL)
			return fail(s, BW_ENOMEM, "cannot create the exception rings: %s",
			            rte_strerror(rte_errno));
	}
	return 0;
}

/* Deals the queue pairs of every port out to the workers, in turn. */
static void queues_assign(struct start_ctx *s)
{
	struct bw_dpdk *dp = s->dp;
	unsigned next = 0;

	for (unsigned i = 0; i < dp->nports; i++) {
		struct dp_port *p = &dp->ports[i];

		for (uint16_t q = 0; q < p->nq; q++) {
			struct dp_worker *w = &dp->workers[next];

			if (q == 0)
				p->q0_worker = next;
			if (w->nrxq < BW_DPDK_WORKER_RXQ)
				w->rxq[w->nrxq++] = (struct dp_rxq){ (uint16_t)i, q };
			next = (next + 1) % dp->nworkers;
		}
	}
	for (unsigned i = 0; i < dp->nworkers; i++)
		log_info(s->conf, "worker %u on lcore %u: %u queue%s", i,
		         dp->workers[i].lcore, dp->workers[i].nrxq,
		         dp->workers[i].nrxq == 1 ? "" : "s");
}

static int ports_start(struct start_ctx *s)
{
	struct bw_dpdk *dp = s->dp;
	int rc = 0;

	dp->ports = calloc(s->conf->nports, sizeof(*dp->ports));
	if (dp->ports == NULL)
		return fail(s, BW_ENOMEM, "out of memory");
	for (size_t i = 0; i < RTE_DIM(dp->port_index); i++)
		dp->port_index[i] = 0;
	for (unsigned i = 0; rc == 0 && i < s->conf->nports; i++) {
		const struct bw_dpdk_port_conf *pc = &s->conf->ports[i];
		struct dp_port *p = &dp->ports[i];

		snprintf(p->name, sizeof(p->name), "%s", pc->name);
		p->tap = BW_DPDK_NO_PORT;
		p->pid = BW_DPDK_NO_PORT;
		dp->nports = i + 1;
		addrs_fill(&p->addrs, pc);
		rc = find_port(s, pc->name, &p->pid);
		if (rc == 0)
			rc = port_start(s, p, s->conf->workers);
		if (rc == 0) {
			dp->port_index[p->pid] = (uint16_t)i;
			if (pc->exception != NULL)
				rc = tap_start(s, p, i, pc);
		}
	}
	return rc;
}

static int launch(struct start_ctx *s)
{
	struct bw_dpdk *dp = s->dp;
	int rc;

	rc = pthread_create(&dp->exc_thread, NULL, bw_dp_exception_main, dp);
	if (rc != 0)
		return fail(s, -rc, "cannot start the exception thread: %s",
		            strerror(rc));
	dp->exc_started = true;
	dp->started_tsc = rte_rdtsc();
	for (unsigned i = 0; i < dp->nworkers; i++) {
		rc = rte_eal_remote_launch(bw_dp_worker_main, &dp->workers[i],
		                           dp->workers[i].lcore);
		if (rc != 0)
			return fail(s, BW_EIO, "cannot launch worker %u on lcore %u",
			            i, dp->workers[i].lcore);
	}
	dp->launched = true;
	return 0;
}

int bw_dpdk_start(const struct bw_dpdk_conf *conf, struct bw_dpdk **out,
                  char *err, size_t errlen)
{
	struct bw_dpdk *dp = calloc(1, sizeof(*dp));
	struct start_ctx s = { conf, dp, err, errlen };
	int rc;

	if (dp == NULL)
		return fail(&s, BW_ENOMEM, "out of memory");
	dp->answer = conf->answer;
	if (conf->nports == 0 || conf->workers == 0)
		rc = fail(&s, BW_EINVAL, "io dpdk needs at least one port and one "
		          "worker");
	else
		rc = eal_init(&s);
	if (rc == 0)
		rc = workers_alloc(&s);
	if (rc == 0)
		rc = ports_start(&s);
	if (rc == 0) {
		queues_assign(&s);
		bw_dp_telemetry_register(dp);
		rc = launch(&s);
	}
	if (rc != 0) {
		bw_dpdk_stop(dp);
		return rc;
	}
	*out = dp;
	return 0;
}

void bw_dpdk_stop(struct bw_dpdk *dp)
{
	if (dp == NULL)
		return;
	bw_dp_telemetry_unregister();
	__atomic_store_n(&dp->stop, 1, __ATOMIC_RELAXED);
	if (dp->launched || dp->eal_up)
		rte_eal_mp_wait_lcore();
	if (dp->exc_started)
		pthread_join(dp->exc_thread, NULL);
	for (unsigned i = 0; i < dp->nports; i++) {
		struct dp_port *p = &dp->ports[i];
		uint16_t ids[2] = { p->pid, p->tap };

		for (unsigned k = 0; k < 2; k++) {
			if (ids[k] == BW_DPDK_NO_PORT)
				continue;
			(void)rte_eth_dev_stop(ids[k]);
			(void)rte_eth_dev_close(ids[k]);
		}
	}
	for (unsigned i = 0; dp->workers != NULL && i < dp->nworkers; i++) {
		rte_ring_free(dp->workers[i].to_kernel);
		rte_ring_free(dp->workers[i].inject);
	}
	rte_free(dp->workers);
	for (unsigned i = 0; i < RTE_DIM(dp->pools); i++)
		rte_mempool_free(dp->pools[i]);
	free(dp->ports);
	if (dp->eal_up)
		(void)rte_eal_cleanup();
	free(dp);
}

unsigned bw_dpdk_workers(const struct bw_dpdk *dp)
{
	return dp->nworkers;
}

void bw_dpdk_stats(const struct bw_dpdk *dp, unsigned worker,
                   struct bw_pkt_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < dp->nworkers; i++)
		if (worker == BW_DPDK_ALL_WORKERS || worker == i)
			bw_pkt_stats_add(sum, &dp->workers[i].st);
}
