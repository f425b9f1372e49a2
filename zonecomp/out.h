/*  bulwark — outputs for bw_pack_zone (internal to zonecomp).
 */
#ifndef BULWARK_ZONECOMP_OUT_H
#define BULWARK_ZONECOMP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pack.h"

/*! A growing malloc'ed buffer. */
struct bw_out_mem {
	uint8_t *data;
	size_t len, cap;
};

void bw_out_mem_init(struct bw_out_mem *m, struct bw_pack_out *o);

/*! A file written as PATH.tmp.PID, renamed to PATH on commit. */
struct bw_out_file {
	const char *path;
	char *tmp;
	int fd;
};

/*!
 * \brief Creates the temporary file beside \a path.
 * \return 0 or a negative errno.
 */
int bw_out_file_open(struct bw_out_file *f, const char *path,
                     struct bw_pack_out *o);

/*!
 * \brief With \a commit: fsync, rename over \a path, fsync the directory;
 *        without (or when one of those fails): the temporary file is
 *        removed and \a path is left as it was.
 * \return 0 or a negative errno.
 */
int bw_out_file_close(struct bw_out_file *f, bool commit);

#endif /* BULWARK_ZONECOMP_OUT_H */
