/*  bulwark — control-plane logging to stderr with a level threshold.
 *
 *  Levels are the syslog(3) ones (LOG_ERR ... LOG_DEBUG).  Never called
 *  from a packet loop.
 */
#ifndef BULWARK_CP_LOG_H
#define BULWARK_CP_LOG_H

#include <syslog.h>

#include "bulwark/diag.h"

/*!
 * \brief Sets the most verbose level that is printed (default LOG_INFO).
 */
void bw_log_set_level(int level);

/*!
 * \brief Sends every later message to syslog(3) (facility daemon, ident
 *        bulwarkd, with the pid) instead of stderr.
 */
void bw_log_to_syslog(void);

/*!
 * \brief Prints one line "bulwarkd[PID]: LEVEL: MESSAGE" to stderr when
 *        \a level passes the threshold.
 */
void bw_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*!
 * \brief A bw_diag emit callback that sends diagnostics to bw_log();
 *        \a ctx is unused.
 */
void bw_log_diag(void *ctx, enum bw_diag_level lvl, const char *file,
                 unsigned line, const char *msg);

#endif /* BULWARK_CP_LOG_H */
