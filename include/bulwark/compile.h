/*  bulwark — compiling a zone file into a table (the zonecomp library as
 *  seen by bulwark-compile and by bulwarkd for `file` zones).
 */
#ifndef BULWARK_COMPILE_H
#define BULWARK_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/diag.h"

/*! What a compile produced, for reports. */
struct bw_compile_stats {
	size_t names;        /*!< Nodes, with empty non-terminals. */
	size_t records;
	size_t wire_bytes;   /*!< Records in uncompressed wire form. */
};

struct bw_compile_opts {
	const uint8_t *origin;   /*!< Zone apex (wire); NULL: from the SOA. */
	unsigned include_depth;  /*!< $INCLUDE nesting limit; 0: default 8. */
	struct bw_compile_stats *stats;  /*!< Filled when not NULL. */
	bool check_only;         /*!< Parse and check; build no table. */
	bool presigned;          /*!< Keep the input's RRSIG/NSEC/NSEC3. */
	uint32_t horizon;        /*!< Presigned: warn about signatures that
	                              expire within this many seconds. */
	const char *keydir;      /*!< Sign with the keys there (NULL: don't). */
	const char *policy_conf; /*!< File with dnssec-policy blocks. */
	const char *policy_name; /*!< Policy to sign with ("default"). */
	unsigned threads;        /*!< Signing threads; 0: one per core. */
	uint32_t now;            /*!< Signing and checking time; 0: clock. */
};

/*!
 * \brief Parses, checks and packs a zone file into table bytes.
 *
 * \param path  Zone file.
 * \param opts  Options.
 * \param d     Diagnostics (file:line); errors make the call fail.
 * \param out   Set to a malloc'ed buffer holding the table (NULL with
 *              check_only).
 * \param len   Set to its length.
 * \return 0 or a negative error; nothing is returned on error.
 */
int bw_compile_file(const char *path, const struct bw_compile_opts *opts,
                    struct bw_diag *d, uint8_t **out, size_t *len);

/*!
 * \brief As bw_compile_file(), but the table goes to the file \a table,
 *        written shard by shard as TABLE.tmp.PID (so that a large table is
 *        never whole in memory), synced and renamed into place. On error,
 *        or when the process dies, \a table is left as it was.
 * \param len  Set to the table's length.
 */
int bw_compile_to_file(const char *path, const struct bw_compile_opts *opts,
                       struct bw_diag *d, const char *table, size_t *len);

#endif /* BULWARK_COMPILE_H */
