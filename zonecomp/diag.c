/*  bulwark — diagnostics with file:line.
 */
#include "bulwark/diag.h"

#include <stdio.h>
#include <string.h>

static const char *diag_level_name(enum bw_diag_level lvl)
{
	switch (lvl) {
	case BW_DIAG_ERROR:
		return "error";
	case BW_DIAG_WARN:
		return "warning";
	case BW_DIAG_NOTE:
		return "note";
	}
	return "error";
}

static void diag_keep_first(struct bw_diag *d, const char *file,
                            unsigned line, const char *msg)
{
	snprintf(d->first_file, sizeof(d->first_file), "%s", file ? file : "");
	d->first_line = line;
	snprintf(d->first_msg, sizeof(d->first_msg), "%s", msg);
}

static void diag_print(enum bw_diag_level lvl, const char *file,
                       unsigned line, const char *msg)
{
	if (file != NULL && line != 0)
		fprintf(stderr, "%s:%u: ", file, line);
	else if (file != NULL)
		fprintf(stderr, "%s: ", file);
	fprintf(stderr, "%s: %s\n", diag_level_name(lvl), msg);
}

void bw_diag_vreport(struct bw_diag *d, enum bw_diag_level lvl,
                     const char *file, unsigned line, const char *fmt,
                     va_list ap)
{
	char msg[sizeof(d->first_msg)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (lvl == BW_DIAG_ERROR) {
		if (d->errors == 0)
			diag_keep_first(d, file, line, msg);
		d->errors++;
	} else if (lvl == BW_DIAG_WARN) {
		d->warnings++;
	}
	if (d->emit != NULL)
		d->emit(d->ctx, lvl, file, line, msg);
	else if (!d->quiet)
		diag_print(lvl, file, line, msg);
}

void bw_diag_report(struct bw_diag *d, enum bw_diag_level lvl,
                    const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bw_diag_vreport(d, lvl, file, line, fmt, ap);
	va_end(ap);
}
