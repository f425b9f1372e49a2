/*  bulwark — the in-memory zone that the compiler checks and packs
 *  (internal to zonecomp).
 *
 *  Records are added as the parser reads them; bw_zone_finish() sorts the
 *  nodes into canonical order, merges duplicates, normalises TTLs, adds
 *  empty non-terminals, marks zone cuts and runs the zone checks.
 *  bw_zone_reopen() turns a finished zone back into records, in place, so
 *  that the signer can add to it and finish it again.
 */
#ifndef BULWARK_ZONECOMP_ZONE_H
#define BULWARK_ZONECOMP_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/diag.h"
#include "parser.h"

struct bw_zone_rdata {
	uint16_t len;
	const uint8_t *data;
};

/* Pointers first: 32 octets, and finish makes one per record. */
struct bw_zone_rrset {
	struct bw_zone_rdata *rd;      /*!< Sorted in canonical order
	                                    (RFC 4034 §6.3), no duplicates. */
	const char *file;              /*!< Where the first record was. */
	unsigned line;
	uint32_t ttl;
	uint16_t type;
	uint16_t count;                /*!< Number of rdatas. */
};

enum bw_zone_node_flags {
	BW_ZN_APEX = 1u << 0,
	BW_ZN_DELEG = 1u << 1,     /*!< Zone cut: NS below the apex. */
	BW_ZN_GLUE = 1u << 2,      /*!< Below a zone cut (only A/AAAA kept). */
	BW_ZN_ENT = 1u << 3,       /*!< Empty non-terminal, no RRsets. */
	BW_ZN_WILDCARD = 1u << 4,  /*!< First label is "*". */
	BW_ZN_HAS_WILDCARD = 1u << 5, /*!< "*.<this name>" exists. */
	BW_ZN_CNAME = 1u << 6,
	BW_ZN_DNAME = 1u << 7,
	BW_ZN_NSEC3 = 1u << 8,     /*!< Owner of an NSEC3 (hashed name). */
};

struct bw_zone_node {
	const uint8_t *name;           /*!< Lowercase wire name. */
	uint8_t name_len;
	uint8_t labels;
	uint8_t cut_labels;            /*!< For BW_ZN_GLUE: labels of the cut. */
	uint32_t flags;
	uint16_t nrrsets;
	struct bw_zone_rrset *rrsets;  /*!< Sorted by type. */
};

struct bw_zone {
	uint8_t apex[255];
	uint8_t apex_len;
	uint8_t apex_labels;
	uint32_t serial;
	uint32_t soa_ttl;
	uint32_t soa_minimum;
	size_t nnodes;
	struct bw_zone_node *nodes;    /*!< Canonical order, apex first;
	                                    valid after bw_zone_finish(). */
	struct bw_zone_priv *priv;     /*!< Builder state and arena. */
};

/*!
 * \brief A new empty zone for \a apex (wire name, any case).
 */
struct bw_zone *bw_zone_new(const uint8_t *apex);

/*!
 * \brief Adds one record; out-of-zone data and wrong classes are
 *        reported as errors at the record's file:line.
 * \return 0, or a negative error for the caller to stop on (ENOMEM).
 */
int bw_zone_add(struct bw_zone *z, const struct bw_rr *rr, struct bw_diag *d);

/*!
 * \brief As bw_zone_add(), but the zone refers to \a rr->rdata instead of
 *        copying it, so it must live as long as the zone (memory given to
 *        bw_zone_adopt(), for instance).
 */
int bw_zone_add_ref(struct bw_zone *z, const struct bw_rr *rr,
                    struct bw_diag *d);

/*!
 * \brief Gives \a mem (from malloc) to the zone, which frees it with itself.
 * \return 0, or BW_ENOMEM (\a mem is freed then too).
 */
int bw_zone_adopt(struct bw_zone *z, void *mem);

/*!
 * \brief Builds the node list and runs the checks: exactly one SOA at the
 *        apex and NS there (errors), CNAME beside other data (error),
 *        data below a zone cut other than address glue (warning, left
 *        out), data below a DNAME (warning, left out), missing glue for
 *        in-bailiwick NS targets (warning), RRsets with differing TTLs
 *        (warning, normalised to the first), duplicate records (merged).
 * \return 0, or BW_EZONE when an error was reported.
 */
int bw_zone_finish(struct bw_zone *z, struct bw_diag *d);

/*! RRset types for bw_zone_reopen() to leave out. */
typedef bool (*bw_zone_drop_fn)(uint16_t type);

/*!
 * \brief Makes a finished zone accept bw_zone_add() again, for another
 *        bw_zone_finish(), without copying its names and rdata.
 *
 * Each record keeps the TTL, file and line of its RRset.  The next finish
 * derives empty non-terminals, flags and cuts again, and does not repeat
 * the glue warnings of the records carried over (the finish before
 * reported them).  Until then the nodes keep their names and flags, for
 * bw_zone_find() and to share the names with new records, but no RRsets.
 *
 * \param drop   Types to leave out, or NULL.
 * \param extra  Records the caller is about to add (room is made).
 * \return 0, BW_EINVAL when \a z is not finished, or BW_ENOMEM (then \a z
 *         can only be freed).
 */
int bw_zone_reopen(struct bw_zone *z, bw_zone_drop_fn drop, size_t extra);

/*!
 * \brief Finds a node by lowercase wire name (after finish), or NULL.
 */
const struct bw_zone_node *bw_zone_find(const struct bw_zone *z,
                                        const uint8_t *lname);

/*!
 * \brief The RRset of \a type at \a node, or NULL.
 */
const struct bw_zone_rrset *bw_zone_rrset(const struct bw_zone_node *node,
                                          uint16_t type);

void bw_zone_free(struct bw_zone *z);

#endif /* BULWARK_ZONECOMP_ZONE_H */
