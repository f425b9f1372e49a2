/*  bulwark — packing a checked zone into a table (internal to zonecomp).
 */
#ifndef BULWARK_ZONECOMP_PACK_H
#define BULWARK_ZONECOMP_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "bulwark/diag.h"
#include "zone.h"

/*! Where the table bytes go. */
struct bw_pack_out {
	void *arg;
	/*! Stores \a len bytes at offset \a off; what is never written
	 *  reads as zero. */
	int (*write)(void *arg, uint64_t off, const void *data, size_t len);
	/*! Reads back \a len written bytes at \a off, for the checksum. */
	int (*read)(void *arg, uint64_t off, void *data, size_t len);
};

/*!
 * \brief Builds the table for a finished zone (see docs/table-format.md)
 *        and writes it to \a out, shard by shard as each is rendered.
 *        The output depends only on the zone's content, so compiling the
 *        same zone twice gives the same bytes.
 * \param z    Zone after bw_zone_finish().
 * \param d    Diagnostics (RRsets too large to send, a zone too large for
 *             32-bit offsets: errors).
 * \param out  Where the bytes go.
 * \param len  Set to the table's length.
 * \return 0 or a negative error (the output is then incomplete).
 */
int bw_pack_zone(const struct bw_zone *z, struct bw_diag *d,
                 const struct bw_pack_out *out, size_t *len);

#endif /* BULWARK_ZONECOMP_PACK_H */
