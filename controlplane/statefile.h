/*  bulwark — the daemon's state files in `directory` (zones.state,
 *  flood.state): JSON documents replaced atomically, so that a crash at
 *  any moment leaves the old or the new file, never a mix.
 */
#ifndef BULWARK_CP_STATEFILE_H
#define BULWARK_CP_STATEFILE_H

#include <sys/types.h>

#include "json.h"

/*!
 * \brief Writes \a doc to DIR/NAME: a temporary file written and
 *        fsync'ed, renamed over the old one, the directory fsync'ed.
 * \param mode  Permissions of a new file (0600 for secrets).
 * \return 0 or a negative errno-style error; the old file is intact on
 *         failure.
 */
int bw_state_write(const char *dir, const char *name, const struct bw_json *doc,
                   mode_t mode);

/*!
 * \brief Reads DIR/NAME.  A file that does not parse is renamed to
 *        NAME.bad and logged; a missing one is not an error.
 * \return The document, or NULL (missing, unreadable or moved aside).
 */
struct bw_json *bw_state_read(const char *dir, const char *name);

#endif /* BULWARK_CP_STATEFILE_H */
