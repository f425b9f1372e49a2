/*  bulwark — packing a checked zone into a table (internal to zonecomp).
 */
#ifndef BULWARK_ZONECOMP_PACK_H
#define BULWARK_ZONECOMP_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "bulwark/diag.h"
#include "zone.h"

/*!
 * \brief Builds the table bytes for a finished zone (see
 *        docs/table-format.md).  The output depends only on the zone's
 *        content, so compiling the same zone twice gives the same bytes.
 * \param z    Zone after bw_zone_finish().
 * \param d    Diagnostics (RRsets too large to send are errors).
 * \param out  Set to a malloc'ed buffer.
 * \param len  Set to its length.
 * \return 0 or a negative error.
 */
int bw_pack_zone(const struct bw_zone *z, struct bw_diag *d, uint8_t **out,
                 size_t *len);

#endif /* BULWARK_ZONECOMP_PACK_H */
