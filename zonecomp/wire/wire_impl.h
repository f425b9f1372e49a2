/*  bulwark — helpers shared by the wire library's sources (internal).
 */
#ifndef BULWARK_WIRE_IMPL_H
#define BULWARK_WIRE_IMPL_H

#include <stddef.h>

/*! Flag added to bw_text_octet's result when the octet was escaped. */
#define BW_TEXT_ESCAPED 0x100

/*!
 * \brief Decodes one octet of presentation text (plain, \X or \DDD) at
 *        txt[*i] and moves *i past it.
 * \return The octet, ORed with BW_TEXT_ESCAPED when escaped, or -1 for a
 *         bad escape.
 */
static inline int bw_text_octet(const char *txt, size_t len, size_t *i)
{
	unsigned char c = (unsigned char)txt[(*i)++];
	int v = 0;

	if (c != '\\')
		return c;
	if (*i >= len)
		return -1;
	c = (unsigned char)txt[*i];
	if (c < '0' || c > '9') {
		(*i)++;
		return c | BW_TEXT_ESCAPED;
	}
	if (len - *i < 3)
		return -1;
	for (int k = 0; k < 3; k++) {
		c = (unsigned char)txt[(*i)++];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	return v > 255 ? -1 : (v | BW_TEXT_ESCAPED);
}

#endif /* BULWARK_WIRE_IMPL_H */
