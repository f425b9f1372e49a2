/*  bulwark — bulwarkd's running state, shared by main.c, the control
 *  commands (commands.c) and the counters' output (metrics.c).
 */
#ifndef BULWARK_CP_DAEMON_H
#define BULWARK_CP_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "bulwark/answer.h"
#include "conf.h"
#include "ctl.h"
#include "flood_ctl.h"
#include "json.h"
#include "registry.h"

struct bw_udp;
struct bw_dpdk;
struct bw_tcp;

struct bw_daemon {
	const char *conf_path;
	struct bw_conf *conf_start;   /*!< As started: the workers use its
	                                   texts until exit. */
	struct bw_conf *conf;         /*!< Last applied (zones); guarded by
	                                   conf_mu. */
	pthread_mutex_t conf_mu;
	pthread_mutex_t reload_mu;    /*!< One reload at a time (SIGHUP and
	                                   the control socket). */
	struct bw_answer_conf answer;
	struct bw_registry *reg;
	struct bw_udp *udp;
	struct bw_dpdk *dpdk;
	struct bw_tcp *tcp;
	struct bw_ctl *ctl;
	struct bw_floodctl *flood;
	time_t started;
	struct timespec started_mono;
	bool pid_written;
	struct bw_json *stats_base;   /*!< Counters at stats --reset, or NULL;
	                                   guarded by conf_mu. */
	time_t stats_since;
};

/*! \brief The control commands, for bw_ctl_conf. */
extern const struct bw_ctl_command bw_daemon_commands[];
extern const size_t bw_daemon_ncommands;

/*!
 * \brief Re-reads the configuration and applies the zones' difference;
 *        refuses changes that need a restart.
 * \return 0 or a negative error with \a e filled.
 */
int bw_daemon_reload(struct bw_daemon *dm, struct bw_json **result,
                     struct bw_ctl_error *e);

/*! \brief Seconds since start. */
double bw_daemon_uptime(const struct bw_daemon *dm);

/*!
 * \brief The counters as the stats command reports them (after the
 *        baseline of the last reset).  NULL when out of memory.
 */
struct bw_json *bw_metrics_stats(struct bw_daemon *dm);

/*! \brief Makes the counters' values now the baseline of later stats. */
void bw_metrics_reset(struct bw_daemon *dm);

/*!
 * \brief Prometheus text exposition (0.0.4) of a stats result.
 * \return Text to free(), or NULL when out of memory.
 */
char *bw_metrics_prometheus(const struct bw_json *stats);

#endif /* BULWARK_CP_DAEMON_H */
