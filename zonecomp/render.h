/*  bulwark — rendering pre-built response parts (blobs) with compression
 *  and relocations (internal to zonecomp).
 */
#ifndef BULWARK_ZONECOMP_RENDER_H
#define BULWARK_ZONECOMP_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/table.h"
#include "zone.h"

#define BW_RND_MAXDICT 4096
#define BW_RND_MAXCUT  512
#define BW_RND_MAXREL  8192
#define BW_RND_WIRE    65535

enum bw_rnd_section { BW_SEC_AN = 0, BW_SEC_NS = 1, BW_SEC_AR = 2 };

/*! A compression target: a name suffix written at \a off. */
struct bw_rnd_dict {
	uint16_t off;          /*!< Absolute offset in the stored layout. */
	uint8_t len;           /*!< Wire length of the suffix. */
	uint8_t ctx_labels;    /*!< Non-zero: suffix of the context name. */
	const uint8_t *name;   /*!< Lowercase suffix (in namebuf). */
};

/*! Renders one blob in the stored layout (context name at offset 12). */
struct bw_rnd {
	uint8_t w[BW_RND_WIRE + 1];
	size_t pos;            /*!< Absolute write position. */
	size_t start;          /*!< Where the blob starts: 12 + ctx_len + 4. */
	uint8_t ctx_len, ctx_labels;
	uint16_t count[3];
	uint16_t target;
	uint16_t need;         /*!< Blob octets that must fit. */
	uint16_t plain, plain_an;  /*!< The unsigned answer, see bw_tbl_blob. */
	uint8_t flags;
	bool full;             /*!< Ran out of room. */
	size_t ndict, nnamebuf, ncut, nrel;
	struct bw_rnd_dict dict[BW_RND_MAXDICT];
	uint8_t namebuf[BW_RND_MAXDICT * 8];
	struct bw_tbl_cut cuts[BW_RND_MAXCUT];
	struct bw_tbl_rel rels[BW_RND_MAXREL];
};

/*!
 * \brief Starts a blob whose context (owner of the first RRset) is \a ctx.
 */
void bw_rnd_begin(struct bw_rnd *r, const uint8_t *ctx, uint8_t flags);

/*!
 * \brief Appends a whole RRset owned by \a owner to \a sec.
 * \param ttl   TTL of every record, unless \a ttls is given.
 * \param ttls  Per-record TTLs (RRSIGs take their covered RRset's), or NULL.
 * \return false when it did not fit (the blob is left as before).
 */
bool bw_rnd_rrset(struct bw_rnd *r, enum bw_rnd_section sec,
                  const uint8_t *owner, const struct bw_zone_rrset *rrset,
                  uint32_t ttl, const uint32_t *ttls);

/*!
 * \brief Joins the last RRset to the one before it, so that a response
 *        keeps both or neither (an RRset and its RRSIGs).
 */
void bw_rnd_join(struct bw_rnd *r);

/*!
 * \brief Marks what was rendered so far as the whole DO=0 answer.
 */
void bw_rnd_mark_plain(struct bw_rnd *r);

/*!
 * \brief Marks everything rendered so far as required: a response that
 *        cannot hold it is truncated (TC=1).
 */
void bw_rnd_require(struct bw_rnd *r);

/*!
 * \brief Size of the finished blob (header, wire, cuts, relocations).
 */
size_t bw_rnd_size(const struct bw_rnd *r);

/*!
 * \brief Writes the finished blob to \a out (bw_rnd_size() octets).
 */
void bw_rnd_write(const struct bw_rnd *r, uint8_t *out);

#endif /* BULWARK_ZONECOMP_RENDER_H */
