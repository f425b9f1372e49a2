/*  bulwark — bulwarkd configuration: named.conf syntax.
 *
 *  The file is first read into a generic tree (statement name, values that
 *  are words, quoted strings or blocks), then each known statement is
 *  checked and turned into struct bw_conf.  Unknown or unsupported
 *  statements are errors with file:line.  The reference is docs/config.md.
 */
#ifndef BULWARK_CP_CONF_H
#define BULWARK_CP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bulwark/diag.h"
#include "bulwark/flood.h"
#include "bulwark/wire.h"

/*! Nesting limit of `include`. */
#define BW_CONF_INCLUDE_MAX 8
/*! Largest worker count or lcore number. */
#define BW_CONF_WORKERS_MAX 1024
/*! Largest `tcp-clients`. */
#define BW_CONF_TCP_CLIENTS_MAX 65536
/*! Most `cookie-secret` statements: the first makes server cookies, the
 *  second only verifies them (rollover). */
#define BW_CONF_COOKIE_SECRETS 2
/*! Largest rate-limit rate (BIND's cap). */
#define BW_CONF_RRL_RATE_MAX 1000
/*! Largest `max-table-size` (entries per worker). */
#define BW_CONF_RRL_TABLE_MAX (1u << 24)
/*! Largest flood-mitigation rate or `sample`. */
#define BW_CONF_FLOOD_RATE_MAX 1000000

enum bw_conf_io {
	BW_CONF_IO_SOCKET = 0,  /*!< Kernel UDP sockets (the default). */
	BW_CONF_IO_DPDK,
};

/*! A socket address with the place that configured it. */
struct bw_conf_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	const char *file;         /*!< Points into bw_conf.files. */
	unsigned line;
	uint8_t prefix;           /*!< Port addresses: prefix length given
	                               after '/', or 0. */
};

/*! A `dataplane { port "NAME" { address ...; }; }` entry. */
struct bw_conf_port {
	char *name;
	char *exception;          /*!< Exception interface name, or NULL:
	                               the default (bwx0, bwx1, ...). */
	bool no_exception;        /*!< `exception none;` */
	struct bw_conf_addr *addrs;
	size_t naddrs;
};

/*!
 * `flood-mitigation { ... };`: detection of random-subdomain floods and
 * what the workers do with the parents it flags (docs/floods.md).  When
 * the block is absent, detection runs with these defaults.
 */
struct bw_conf_flood {
	bool present;             /*!< The block is in the file. */
	bool enabled;             /*!< `enable`; true unless `enable no`. */
	unsigned interval_ms;     /*!< Sketch merge interval, 100..1000;
	                               250 unless set. */
	unsigned nxdomain_rate;   /*!< NXDOMAIN answers per second under one
	                               parent that flag it; 1000 unless set. */
	unsigned distinct_rate;   /*!< Distinct next-closer labels per second
	                               under the parent also needed to flag
	                               it; 500 unless set. */
	unsigned release_percent; /*!< 1..100: a parent is released when both
	                               rates stay below this percentage of
	                               the thresholds; 50 unless set. */
	unsigned hold_down;       /*!< Seconds below the release level before
	                               the release, 1..3600; 10 unless set. */
	enum bw_flood_action attack_action; /*!< BW_FLOOD_RATE_LIMIT unless
	                               set. */
	unsigned attack_rate;     /*!< attack-nxdomains-per-second of one
	                               flagged parent; 100 unless set. */
	unsigned filter_rate;     /*!< filter-responses-per-second: budget of
	                               one rate-limit filter rule; 100 unless
	                               set. */
	unsigned sample;          /*!< Keep one in this many attack names for
	                               the sampled log; 0 (off) unless set. */
	unsigned log_rate;        /*!< Flood log lines per second at most; 10
	                               unless set. */
};

/*! A `zone` statement; exactly one of table and file is set. */
struct bw_conf_zone {
	char *name;                    /*!< As written. */
	uint8_t apex[BW_NAME_MAXLEN];  /*!< Lowercase wire name. */
	char *table;                   /*!< Resolved path of a table file. */
	char *file;                    /*!< Resolved path of a zone file. */
	const char *src;               /*!< Config file that declared it. */
	unsigned line;
};

struct bw_conf {
	char **files;             /*!< Every file read; [0] is the config. */
	size_t nfiles;

	/* options */
	char *directory;          /*!< Absolute or as given; never NULL. */
	char *control_socket;     /*!< Resolved path, or NULL. */
	char *pid_file;           /*!< Resolved path, or NULL. */
	struct bw_conf_addr *listen;
	size_t nlisten;
	uint16_t edns_udp_size;   /*!< 1232 unless set. */
	uint8_t *nsid;            /*!< NULL: no NSID. */
	size_t nsid_len;
	char *version;            /*!< CH TXT version.bind; NULL: refused. */
	char *server_id;          /*!< CH TXT id.server; NULL: refused. */
	unsigned tcp_clients;     /*!< Open TCP connections; 1024 unless set. */
	unsigned tcp_idle_timeout; /*!< Tenths of a second (as BIND); 100
	                               (10 s) unless set. */
	unsigned tcp_clients_per_address; /*!< Open TCP connections per IPv4
	                               address or IPv6 /64; 32 unless set. */
	unsigned tcp_keepalive_timeout; /*!< Tenths of a second (as BIND): the
	                               idle timeout of a connection that sent
	                               edns-tcp-keepalive, and the TIMEOUT we
	                               send; 300 (30 s) unless set. */
	struct bw_rrl_conf rrl;   /*!< `rate-limit { ... };` (BIND's
	                               semantics); disabled when absent. */
	struct bw_cookie_secret cookie_secret[BW_CONF_COOKIE_SECRETS];
	size_t ncookie_secrets;   /*!< `cookie-secret` statements, 0..2;
	                               [0] makes cookies. */
	bool answer_cookie;       /*!< `answer-cookie`; true unless set. */

	/* dataplane */
	enum bw_conf_io io;
	unsigned workers;         /*!< At least 1. */
	int cpu_first;            /*!< First lcore of `workers A-B`, or -1. */
	char *eal_args;
	unsigned mbufs;           /*!< `mbufs N`; 0 unless set. */
	struct bw_conf_port *ports;
	size_t nports;

	struct bw_conf_flood flood;

	struct bw_conf_zone *zones;
	size_t nzones;
};

/*!
 * \brief Reads and checks a configuration file and its includes.
 *
 * \param path     Config file.
 * \param out      Set to the configuration on success.
 * \param d        Every error and warning is reported here with file:line.
 * \return 0, or BW_ECONF, BW_EDEPTH, BW_ENOMEM or an errno code; on error
 *         \a out is not set.
 */
int bw_conf_load(const char *path, struct bw_conf **out, struct bw_diag *d);

/*!
 * \brief Frees a configuration (NULL is accepted).
 */
void bw_conf_free(struct bw_conf *conf);

/*!
 * \brief Writes an address as "192.0.2.1 port 53" or "2001:db8::1 port 53".
 */
void bw_conf_addr_text(const struct sockaddr_storage *ss, char *out,
                       size_t cap);

#endif /* BULWARK_CP_CONF_H */
