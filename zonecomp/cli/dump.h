/*  bulwark — printing a table back as a master file (internal to
 *  zonecomp; used by bulwark-compile --dump).
 */
#ifndef BULWARK_ZONECOMP_DUMP_H
#define BULWARK_ZONECOMP_DUMP_H

#include <stdio.h>

struct bw_table;

/*!
 * \brief Writes every record of a loaded table in master-file format, in
 *        canonical order (the SOA first), with absolute names.
 * \return 0, or a negative error (I/O, or a blob that does not decode).
 */
int bw_dump_table(const struct bw_table *t, FILE *out);

#endif /* BULWARK_ZONECOMP_DUMP_H */
