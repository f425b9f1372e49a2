/*  bulwark — name compression when writing messages.
 *
 *  The names remembered were written by us, so following their pointers
 *  needs no bounds checks.
 */
#include "bulwark/wire.h"

#define COMPR_PTR_MAX 0x4000

void bw_compr_init(struct bw_compr *c, uint8_t *msg)
{
	c->msg = msg;
	c->nnames = 0;
}

/* Follows pointers until \a pos holds a label length. */
static size_t compr_resolve(const uint8_t *msg, size_t pos)
{
	while ((msg[pos] & 0xc0) == 0xc0)
		pos = (size_t)(msg[pos] & 0x3f) << 8 | msg[pos + 1];
	return pos;
}

static int compr_msg_labels(const uint8_t *msg, size_t pos)
{
	int n = 0;

	for (pos = compr_resolve(msg, pos); msg[pos] != 0;
	     pos = compr_resolve(msg, pos + 1 + msg[pos]))
		n++;
	return n;
}

/* Case-insensitive equality of a message name and a wire name. */
static bool compr_msg_equal(const uint8_t *msg, size_t pos, const uint8_t *name)
{
	for (;;) {
		pos = compr_resolve(msg, pos);
		if (msg[pos] != *name)
			return false;
		if (*name == 0)
			return true;
		for (uint8_t i = 1; i <= *name; i++) {
			if (bw_lower(msg[pos + i]) != bw_lower(name[i]))
				return false;
		}
		pos += 1 + msg[pos];
		name += 1 + *name;
	}
}

struct compr_match {
	int labels;     /* labels of the name matched (0: none) */
	size_t pos;     /* where the match starts in the message */
};

/* Looks for suffixes of \a name inside one remembered name. */
static void compr_try(const uint8_t *msg, size_t off, const uint8_t *name,
                      int nlabels, struct compr_match *best)
{
	int left = compr_msg_labels(msg, off);
	size_t pos = compr_resolve(msg, off);

	for (; left > best->labels; left--) {
		if (left <= nlabels && pos < COMPR_PTR_MAX) {
			const uint8_t *suffix = name;
			for (int k = nlabels - left; k > 0; k--)
				suffix += 1 + *suffix;
			if (compr_msg_equal(msg, pos, suffix)) {
				best->labels = left;
				best->pos = pos;
				return;
			}
		}
		pos = compr_resolve(msg, pos + 1 + msg[pos]);
	}
}

static void compr_remember(struct bw_compr *c, size_t pos)
{
	if (pos < COMPR_PTR_MAX && c->nnames < BW_COMPR_MAX)
		c->off[c->nnames++] = (uint16_t)pos;
}

int bw_compr_put(struct bw_compr *c, size_t pos, size_t cap,
                 const uint8_t *name, bool compress)
{
	int nlabels = bw_name_labels(name);
	struct compr_match best = { 0, 0 };
	size_t plen = bw_name_len(name) - 1;   /* octets before the root */

	if (compress && nlabels > 0) {
		for (size_t i = 0; i < c->nnames; i++)
			compr_try(c->msg, c->off[i], name, nlabels, &best);
	}
	if (best.labels > 0) {
		const uint8_t *p = name;
		for (int k = nlabels - best.labels; k > 0; k--)
			p += 1 + *p;
		plen = (size_t)(p - name);
	}
	size_t total = plen + (best.labels > 0 ? 2 : 1);
	if (pos + total > cap)
		return BW_ENOSPC;
	memcpy(c->msg + pos, name, plen);
	if (best.labels > 0)
		bw_put16(c->msg + pos + plen, (uint16_t)(0xc000 | best.pos));
	else
		c->msg[pos + plen] = 0;
	if (plen > 0)
		compr_remember(c, pos);
	return (int)total;
}
