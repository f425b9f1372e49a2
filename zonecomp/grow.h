/*  bulwark — growing arrays (internal to zonecomp).
 */
#ifndef BULWARK_ZONECOMP_GROW_H
#define BULWARK_ZONECOMP_GROW_H

#include <stdlib.h>

#include "bulwark/err.h"

/*!
 * \brief Makes room for \a need elements of \a size octets in the array
 *        at \a *p of capacity \a *cap, doubling it (at least \a first).
 * \return 0 or BW_ENOMEM (the array is left as it was).
 */
static inline int bw_grow(void **p, size_t *cap, size_t need, size_t size,
                          size_t first)
{
	size_t n = *cap ? *cap : first;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * size);
	if (q == NULL)
		return BW_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

#endif /* BULWARK_ZONECOMP_GROW_H */
