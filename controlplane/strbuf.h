/*  bulwark — a growing text buffer.
 *
 *  The text stays NUL-terminated.  A failed allocation marks the buffer
 *  failed and later appends do nothing, so that a writer checks once, at
 *  the end (bw_strbuf_take() then returns NULL).
 */
#ifndef BULWARK_CP_STRBUF_H
#define BULWARK_CP_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/*! A text being built; all zero is empty. */
struct bw_strbuf {
	char *d;       /*!< The text; NULL until the first append. */
	size_t len;    /*!< Octets in \a d, the NUL not counted. */
	size_t cap;    /*!< Octets allocated. */
	bool failed;   /*!< An allocation failed: appends do nothing. */
};

/*! \brief Appends \a n octets from \a s. */
void bw_strbuf_add(struct bw_strbuf *b, const void *s, size_t n);

/*! \brief Appends the NUL-terminated \a s. */
void bw_strbuf_adds(struct bw_strbuf *b, const char *s);

/*! \brief Appends the octet \a c. */
void bw_strbuf_addc(struct bw_strbuf *b, char c);

/*! \brief Appends text formatted as by printf(). */
void bw_strbuf_printf(struct bw_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*! \brief Shortens the text to \a n octets; a longer \a n changes nothing. */
void bw_strbuf_trunc(struct bw_strbuf *b, size_t n);

/*!
 * \brief Takes the text and leaves the buffer empty.
 * \return The text, malloc'ed ("" when nothing was appended); NULL when the
 *         buffer failed (its memory is freed).
 */
char *bw_strbuf_take(struct bw_strbuf *b);

#endif
