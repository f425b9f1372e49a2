/*  bulwark — BIND's $GENERATE: range parsing and template expansion
 *  (internal to zonecomp; the parser drives the iteration).
 */
#ifndef BULWARK_ZONECOMP_GENERATE_H
#define BULWARK_ZONECOMP_GENERATE_H

#include <stddef.h>
#include <stdint.h>

/*! Most records one $GENERATE line may produce. */
#define BW_GEN_MAX_ITER 65536u
/*! Largest field width a ${offset,width,base} modifier may ask for. */
#define BW_GEN_MAX_WIDTH 255u

/*! A $GENERATE range, start-stop[/step]. */
struct bw_gen_range {
	uint32_t start;
	uint32_t stop;
	uint32_t step;
};

/*! Growable text buffer, reused across expansions. */
struct bw_gen_buf {
	char *p;
	size_t len;
	size_t cap;
};

/*!
 * \brief Parses "start-stop[/step]" and checks it against BW_GEN_MAX_ITER.
 * \return 0, or BW_ESYNTAX / BW_ERANGE with a message in \a err.
 */
int bw_gen_range_parse(const char *s, size_t len, struct bw_gen_range *r,
                       char *err, size_t errlen);

/*!
 * \brief Number of values the range yields.
 */
uint32_t bw_gen_range_count(const struct bw_gen_range *r);

/*!
 * \brief Appends the expansion of \a tmpl for iteration \a value to \a out.
 *
 * "$" is the value, "${offset[,width[,base]]}" shifts and formats it (base
 * d, o, x, X, or n/N for reversed nibble labels); a backslash escape such
 * as "\$" is copied unchanged for the name or rdata parser to read.
 * \return 0, or BW_ESYNTAX / BW_ERANGE (message in \a err), BW_ENOMEM.
 */
int bw_gen_expand(struct bw_gen_buf *out, const char *tmpl, size_t len,
                  uint32_t value, char *err, size_t errlen);

/*!
 * \brief Frees the buffer's memory.
 */
void bw_gen_buf_free(struct bw_gen_buf *b);

#endif /* BULWARK_ZONECOMP_GENERATE_H */
