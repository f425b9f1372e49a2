/*  bulwark — control-plane logging to stderr or syslog.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static int log_level = LOG_INFO;
static bool to_syslog;

static const char *level_name(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:    return "critical";
	case LOG_ERR:     return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE:  return "notice";
	case LOG_INFO:    return "info";
	default:          return "debug";
	}
}

void bw_log_set_level(int level)
{
	log_level = level;
}

void bw_log_to_syslog(void)
{
	openlog("bulwarkd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = true;
}

void bw_log(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (to_syslog) {
		syslog(level, "%s", msg);
		return;
	}
	/* One call per line: stdio locks the stream, so lines never mix. */
	fprintf(stderr, "bulwarkd[%ld]: %s: %s\n", (long)getpid(),
	        level_name(level), msg);
}

void bw_log_diag(void *ctx, enum bw_diag_level lvl, const char *file,
                 unsigned line, const char *msg)
{
	static const int levels[] = {
		[BW_DIAG_ERROR] = LOG_ERR,
		[BW_DIAG_WARN] = LOG_WARNING,
		[BW_DIAG_NOTE] = LOG_INFO,
	};
	int level = (unsigned)lvl < 3 ? levels[lvl] : LOG_INFO;

	(void)ctx;
	if (file != NULL && line > 0)
		bw_log(level, "%s:%u: %s", file, line, msg);
	else if (file != NULL)
		bw_log(level, "%s: %s", file, msg);
	else
		bw_log(level, "%s", msg);
}
