/*  bulwark — RFC 1035 master-file parser (internal to zonecomp).
 *
 *  Understands $ORIGIN, $TTL, $INCLUDE (depth-limited), BIND's $GENERATE,
 *  parentheses across lines, comments, quoted strings, blank owners, "@",
 *  relative names, TTL and class in either order and TTL units.  Every
 *  error goes to the diagnostics with file:line; after an error the parser
 *  goes on with the next entry so that one run shows many errors.
 */
#ifndef BULWARK_ZONECOMP_PARSER_H
#define BULWARK_ZONECOMP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/diag.h"

/*! One resource record as read from the file. */
struct bw_rr {
	const uint8_t *owner;   /*!< Absolute wire name, case as written. */
	uint16_t type;
	uint16_t cls;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;   /*!< Wire rdata (names uncompressed). */
	const char *file;       /*!< Where it was read, for diagnostics. */
	unsigned line;          /*!< Line of the entry's first token. */
};

/*!
 * \brief Called for every record; a negative return stops the parse and
 *        becomes its result.  Pointers are valid during the call only.
 */
typedef int (*bw_rr_cb)(void *ctx, const struct bw_rr *rr);

struct bw_parse_opts {
	const uint8_t *origin;    /*!< Initial $ORIGIN (wire), or NULL. */
	uint32_t default_ttl;     /*!< Used until $TTL or an SOA sets one. */
	bool have_default_ttl;
	unsigned include_depth;   /*!< Limit for $INCLUDE nesting; 0: 8. */
};

/*!
 * \brief Parses a zone file.
 * \return 0 when there were no errors, else the first error code
 *         (details in \a d).
 */
int bw_parse_file(const char *path, const struct bw_parse_opts *opts,
                  bw_rr_cb cb, void *ctx, struct bw_diag *d);

/*!
 * \brief Parses zone text held in memory; \a name is used in messages
 *        and as the base for relative $INCLUDE paths.
 */
int bw_parse_string(const char *text, size_t len, const char *name,
                    const struct bw_parse_opts *opts, bw_rr_cb cb, void *ctx,
                    struct bw_diag *d);

#endif /* BULWARK_ZONECOMP_PARSER_H */
