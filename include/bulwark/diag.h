/*  bulwark — diagnostics with file:line for zone and config input.
 */
#ifndef BULWARK_DIAG_H
#define BULWARK_DIAG_H

#include <stdarg.h>

enum bw_diag_level { BW_DIAG_ERROR = 0, BW_DIAG_WARN = 1, BW_DIAG_NOTE = 2 };

/*!
 * \brief Collects errors and warnings.  With no \a emit, messages go to
 *        stderr as "FILE:LINE: error: MESSAGE".
 */
struct bw_diag {
	void (*emit)(void *ctx, enum bw_diag_level lvl, const char *file,
	             unsigned line, const char *msg);
	void *ctx;
	unsigned errors;
	unsigned warnings;
	unsigned quiet;            /*!< Non-zero: count only, print nothing. */
	/* The first error, kept for callers and tests. */
	char first_file[256];
	unsigned first_line;
	char first_msg[512];
};

/*!
 * \brief Reports a message; \a file may be NULL and \a line 0 when the
 *        message is not about a place in the input.
 */
void bw_diag_report(struct bw_diag *d, enum bw_diag_level lvl,
                    const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

void bw_diag_vreport(struct bw_diag *d, enum bw_diag_level lvl,
                     const char *file, unsigned line, const char *fmt,
                     va_list ap);

#endif /* BULWARK_DIAG_H */
