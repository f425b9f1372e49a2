/*  bulwark — the packed answer table: the contract between zonecomp (the
 *  writer) and the dataplane (the reader).
 *
 *  The on-disk layout is described in docs/table-format.md; the structs
 *  below are that layout.  A table is one position-independent file that
 *  is mmap'ed and used in place.  All integers in the table are in host
 *  byte order (the header records which) except DNS wire data.
 */
#ifndef BULWARK_TABLE_H
#define BULWARK_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- Layout. ---- */

#define BW_TBL_MAGIC      "BWZTABLE"
#define BW_TBL_VERSION    1
#define BW_TBL_ENDIAN     0x01020304u  /*!< As written by the host. */
#define BW_TBL_HDR_SIZE   1024
#define BW_TBL_ALIGN      8            /*!< Shards and nodes. */

/* Header flags. */
#define BW_TBL_F_SIGNED   0x1u
#define BW_TBL_F_NSEC     0x2u
#define BW_TBL_F_NSEC3    0x4u

/*! File header, at offset 0. */
struct bw_tbl_header {
	char magic[8];
	uint32_t version;
	uint32_t endian;
	uint64_t file_size;
	uint64_t checksum;        /*!< bw_tbl_checksum() with this field 0. */
	uint32_t header_size;     /*!< BW_TBL_HDR_SIZE. */
	uint32_t flags;
	uint32_t serial;
	uint32_t sig_expiry;      /*!< Earliest RRSIG expiration, 0: none. */
	uint32_t nnodes;
	uint32_t shard_bits;      /*!< nshards = 1 << shard_bits. */
	uint64_t shard_dir;       /*!< File offset of the shard directory. */
	uint64_t neg_blob;        /*!< File offset of the negative blob (SOA
	                               in authority, context = apex). */
	uint8_t apex_len;
	uint8_t apex_labels;
	uint8_t pad[6];
	uint8_t apex[256];        /*!< Lowercase wire name. */
	/* Signed zones (flags SIGNED). Offsets below are relative to
	 * \a common, the zone-wide blob area (the negative blob is there). */
	uint64_t common;          /*!< File offset of the common area. */
	uint64_t common_size;
	uint32_t neg_do;          /*!< SOA and its RRSIG, in authority. */
	uint32_t denial_index;    /*!< Sorted bw_tbl_nsec or bw_tbl_nsec3. */
	uint32_t denial_count;
	uint16_t nsec3_iterations;
	uint8_t nsec3_alg;
	uint8_t nsec3_salt_len;
	uint8_t nsec3_salt[256];
	/* NSEC search accelerator (0: absent, as in tables written before
	 * it existed; the reader then searches the index alone). */
	uint32_t denial_keys;     /*!< struct bw_tbl_key of every index
	                               entry, in index order. */
	uint32_t denial_sample;   /*!< Every BW_TBL_SAMPLE-th of those keys. */
	uint64_t reserved[7];     /*!< Update generations. */
};

_Static_assert(sizeof(struct bw_tbl_header) <= BW_TBL_HDR_SIZE,
               "the header outgrew its slot");

/*! NSEC index entry, in canonical order of the owners. */
struct bw_tbl_nsec {
	uint32_t name;            /*!< Common offset of the lowercase owner. */
	uint32_t blob;            /*!< NSEC and its RRSIG, authority form. */
};

/*! Keys per denial_sample entry. */
#define BW_TBL_SAMPLE 64

/*! Sort key of an NSEC owner: 16 octets as two big-endian numbers. */
struct bw_tbl_key {
	uint64_t hi, lo;
};

/*! \brief a < b for sort keys. */
static inline bool bw_tbl_key_less(struct bw_tbl_key a, struct bw_tbl_key b)
{
	return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

/*!
 * \brief Sort key of a name at or below the apex for the NSEC search: the
 *        labels left of the apex from right to left, each octet plus one
 *        (0xff stays 0xff) and a 0 after each label; the first 16 octets.
 *
 * Monotone in canonical order (RFC 4034 6.1): a name that sorts before
 * another never has a larger key; equal keys need a name comparison.
 * \param lname        Wire name (compared as if lowercase).
 * \param apex_labels  Labels of the apex (not counting the root).
 */
static inline struct bw_tbl_key bw_tbl_denial_key(const uint8_t *lname,
                                                  unsigned apex_labels)
{
	const uint8_t *lab[128];
	uint8_t out[16] = { 0 };
	unsigned n = 0, got = 0;

	while (*lname != 0 && n < 128) {
		lab[n++] = lname;
		lname += *lname + 1;
	}
	for (unsigned i = n > apex_labels ? n - apex_labels : 0; i-- > 0 && got < 16;) {
		for (unsigned k = 1; k <= lab[i][0] && got < 16; k++) {
			unsigned c = lab[i][k];
			c = c >= 'A' && c <= 'Z' ? c + 32 : c;   /* Canonical: lowercase. */
			out[got++] = (uint8_t)(c == 0xff ? 0xffu : c + 1u);
		}
		if (got < 16)
			out[got++] = 0;
	}
	struct bw_tbl_key key = { 0, 0 };
	for (unsigned i = 0; i < 8; i++) {
		key.hi = key.hi << 8 | out[i];
		key.lo = key.lo << 8 | out[8 + i];
	}
	return key;
}

/*! NSEC3 index entry, in order of the hashes. */
struct bw_tbl_nsec3 {
	uint8_t hash[20];
	uint32_t blob;            /*!< NSEC3 and its RRSIG, authority form. */
};

/*! A list of denial blobs (common offsets) that prove one thing. */
struct bw_tbl_proof {
	uint32_t count;
	uint32_t blob[];
};

/*! One shard: a self-contained hash table with its nodes and blobs. */
struct bw_tbl_shard {
	uint64_t base;            /*!< File offset of the shard. */
	uint64_t size;            /*!< Bytes from base. */
	uint32_t nbuckets;        /*!< Power of two; buckets at base. */
	uint32_t nnodes;
	uint32_t max_probe;       /*!< Longest probe sequence, for bounds. */
	uint32_t nodes_off;       /*!< Shard offset where nodes start. */
	uint32_t blobs_off;       /*!< Shard offset where blobs start. */
	uint32_t pad;
};

/*! Hash bucket: empty when node == 0. */
struct bw_tbl_bucket {
	uint32_t tag;             /*!< High 32 bits of the name hash. */
	uint32_t node;            /*!< Shard offset of the node. */
};

/* Node flags (same values as the compiler's node flags). */
#define BW_TN_APEX         0x01u
#define BW_TN_DELEG        0x02u
#define BW_TN_GLUE         0x04u
#define BW_TN_ENT          0x08u
#define BW_TN_WILDCARD     0x10u
#define BW_TN_HAS_WILDCARD 0x20u
#define BW_TN_CNAME        0x40u
#define BW_TN_DNAME        0x80u
#define BW_TN_SIGNED       0x100u  /*!< Has a bw_tbl_signed part. */

/*! Type entry of a node: the blob that answers this type. */
struct bw_tbl_type {
	uint16_t type;
	uint16_t pad;
	uint32_t blob;            /*!< Shard offset of the blob. */
};

/*!
 * DNSSEC part of a node of a signed table: the DO=1 blob of each type (in
 * the order of types[]), then two proofs (common offsets of
 * bw_tbl_proof, 0: none).
 */
struct bw_tbl_signed {
	uint32_t denial;          /*!< NODATA at this name (and no DS at a cut). */
	uint32_t wild_denial;     /*!< No wildcard below this closest encloser. */
	uint32_t do_blob[];
};

/*! A name; followed by types[ntypes], for signed nodes a bw_tbl_signed
 * part, and then the lowercase wire name. */
struct bw_tbl_node {
	uint8_t name_len;
	uint8_t labels;
	uint8_t cut_labels;       /*!< For GLUE: labels of the zone cut. */
	uint8_t pad;
	uint16_t flags;
	uint16_t ntypes;
	struct bw_tbl_type types[];
};

/* Blob flags. */
#define BW_TB_AA      0x01u   /*!< Authoritative answer. */
#define BW_TB_TARGET  0x02u   /*!< CNAME/DNAME: target is valid. */

/*!
 * A pre-rendered response part.  It was rendered as if the context name
 * (ctx_len octets, ctx_labels labels) were the question at offset 12, so
 * the blob's first octet sat at 12 + ctx_len + 4.  When it is used that
 * way (an exact match), the octets are copied as they are; otherwise each
 * relocation rewrites one compression pointer.
 *
 * Followed by wire[len], padding to 2, cuts[ncut], rels[nrel].
 */
struct bw_tbl_blob {
	uint16_t len;
	uint16_t an, ns, ar;      /*!< Record counts of the whole blob. */
	uint16_t ncut;            /*!< 0: the blob is one piece. */
	uint16_t nrel;
	uint16_t target;          /*!< CNAME/DNAME target name offset. */
	uint16_t need;            /*!< Octets that must fit, else TC=1 (the
	                               answer, authority and in-domain glue,
	                               RFC 9471). */
	uint16_t plain;           /*!< Non-zero: a DO=0 answer is only the
	                               first \a plain octets, which hold
	                               \a plain_an answer records (the blob
	                               serves both; its RRSIGs follow). */
	uint16_t plain_an;
	uint8_t ctx_len;
	uint8_t ctx_labels;
	uint8_t flags;
	uint8_t pad;
	uint8_t wire[];
};

/*! End of an RRset inside a blob, with the counts up to there. */
struct bw_tbl_cut {
	uint16_t end;
	uint16_t an, ns, ar;
};

/*! Relocation of the compression pointer at \a pos. */
struct bw_tbl_rel {
	uint16_t pos;
	uint16_t what;            /*!< BW_REL_CTX | labels: suffix of the
	                               context name with that many labels;
	                               otherwise an offset inside the blob. */
};
#define BW_REL_CTX 0x8000u

static inline const struct bw_tbl_cut *bw_tbl_blob_cuts(const struct bw_tbl_blob *b)
{
	size_t off = offsetof(struct bw_tbl_blob, wire) + ((b->len + 1u) & ~1u);
	return (const struct bw_tbl_cut *)(const void *)((const uint8_t *)b + off);
}

static inline const struct bw_tbl_rel *bw_tbl_blob_rels(const struct bw_tbl_blob *b)
{
	return (const struct bw_tbl_rel *)(const void *)(bw_tbl_blob_cuts(b) + b->ncut);
}

static inline size_t bw_tbl_blob_size(const struct bw_tbl_blob *b)
{
	return offsetof(struct bw_tbl_blob, wire) + ((b->len + 1u) & ~1u) +
	       b->ncut * sizeof(struct bw_tbl_cut) +
	       b->nrel * sizeof(struct bw_tbl_rel);
}

static inline size_t bw_tbl_signed_size(uint16_t flags, uint16_t ntypes)
{
	return (flags & BW_TN_SIGNED) ?
	       sizeof(struct bw_tbl_signed) + ntypes * sizeof(uint32_t) : 0;
}

static inline const struct bw_tbl_signed *bw_tbl_node_signed(const struct bw_tbl_node *n)
{
	return (const struct bw_tbl_signed *)(const void *)&n->types[n->ntypes];
}

static inline const uint8_t *bw_tbl_node_name(const struct bw_tbl_node *n)
{
	return (const uint8_t *)&n->types[n->ntypes] +
	       bw_tbl_signed_size(n->flags, n->ntypes);
}

static inline size_t bw_tbl_node_size(const struct bw_tbl_node *n)
{
	size_t sz = sizeof(*n) + n->ntypes * sizeof(struct bw_tbl_type) +
	            bw_tbl_signed_size(n->flags, n->ntypes) + n->name_len;
	return (sz + BW_TBL_ALIGN - 1) & ~(size_t)(BW_TBL_ALIGN - 1);
}

/* ---- Name hashing, shared by the writer and the reader. ---- */

static inline uint64_t bw_hash_mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return x;
}

/*!
 * \brief Extends the hash of a name by one label to the left.
 *
 * A name's hash folds its labels from the root outwards, so the hashes of
 * all suffixes of a query name come out of one pass.
 * \param h    Hash of the parent name (BW_HASH_ROOT for the root).
 * \param lab  Label: length octet followed by lowercase octets.
 */
/* Folds the whole 8-octet words of a label (length octet included) into
 * \a h; \a lab and \a n are left at the tail, shorter than 8 octets. */
static inline uint64_t bw_hash_words(uint64_t h, const uint8_t **lab, size_t *n)
{
	uint64_t v;

	while (*n >= 8) {
		memcpy(&v, *lab, 8);
		h = bw_hash_mix(h ^ v);
		*lab += 8;
		*n -= 8;
	}
	return h;
}

static inline uint64_t bw_hash_label(uint64_t h, const uint8_t *lab)
{
	size_t n = (size_t)lab[0] + 1;
	uint64_t v;

	h = bw_hash_words(h, &lab, &n);
	v = (uint64_t)n << 56;
	if (n > 0) {
		uint64_t t = 0;
		memcpy(&t, lab, n);
		v ^= t;
	}
	return bw_hash_mix(h ^ v);
}

#define BW_HASH_ROOT 0x6a09e667f3bcc908ull

/*! Readable bytes that bw_hash_label_padded() needs after a label. */
#define BW_HASH_PAD 8

/*!
 * \brief bw_hash_label() for a label followed by at least BW_HASH_PAD
 *        readable bytes (a name buffer with slack): the tail is one 8-octet
 *        load and a mask instead of a variable-length copy.  Same result.
 */
static inline uint64_t bw_hash_label_padded(uint64_t h, const uint8_t *lab)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	size_t n = (size_t)lab[0] + 1;
	uint64_t v;

	h = bw_hash_words(h, &lab, &n);
	memcpy(&v, lab, 8);
	/* The low n octets are the label's (little-endian load); n < 8. */
	v &= n == 0 ? 0 : ~0ull >> (64 - 8 * n);
	return bw_hash_mix(h ^ v ^ (uint64_t)n << 56);
#else
	return bw_hash_label(h, lab);
#endif
}

/*!
 * \brief Hash of a whole lowercase wire name.
 */
static inline uint64_t bw_hash_name(const uint8_t *name)
{
	const uint8_t *lab[128];
	int n = 0;
	uint64_t h = BW_HASH_ROOT;

	while (*name != 0 && n < 128) {
		lab[n++] = name;
		name += *name + 1;
	}
	while (n > 0)
		h = bw_hash_label(h, lab[--n]);
	return h;
}

/*! A table checksum taken piece by piece (bw_tbl_checksum()). */
struct bw_tbl_sum {
	uint64_t lane[4];
	uint64_t at;              /*!< Bytes summed so far. */
};

static inline void bw_tbl_sum_init(struct bw_tbl_sum *s)
{
	*s = (struct bw_tbl_sum){ .lane = { 1, 2, 3, 4 } };
}

/*! \brief Adds the next \a len bytes, a multiple of 32 (all but the
 *         last piece, which goes to bw_tbl_sum_end()). */
static inline void bw_tbl_sum_add(struct bw_tbl_sum *s, const uint8_t *data,
                                  size_t len)
{
	const size_t skip = offsetof(struct bw_tbl_header, checksum);

	for (size_t i = 0; i + 32 <= len; i += 32, s->at += 32) {
		for (int k = 0; k < 4; k++) {
			uint64_t v;
			memcpy(&v, data + i + 8 * k, 8);
			if (s->at + 8 * (uint64_t)k == skip)
				v = 0;
			s->lane[k] = (s->lane[k] ^ v) * 0x9e3779b97f4a7c15ull;
			s->lane[k] ^= s->lane[k] >> 31;
		}
	}
}

/*! \brief The checksum, with the last \a len bytes (any length). */
static inline uint64_t bw_tbl_sum_end(struct bw_tbl_sum *s, const uint8_t *data,
                                      size_t len)
{
	size_t full = len & ~(size_t)31;

	bw_tbl_sum_add(s, data, full);
	uint64_t total = s->at + (len - full);
	uint64_t h = bw_hash_mix(s->lane[0] ^ bw_hash_mix(s->lane[1] ^
	             bw_hash_mix(s->lane[2] ^ bw_hash_mix(s->lane[3] ^ total))));
	for (size_t i = full; i < len; i++)
		h = bw_hash_mix(h ^ data[i]);
	return h;
}

/*!
 * \brief Checksum of table bytes: four interleaved lanes of 64-bit words,
 *        the header's checksum field counted as zero.
 */
static inline uint64_t bw_tbl_checksum(const uint8_t *data, size_t len)
{
	struct bw_tbl_sum s;

	bw_tbl_sum_init(&s);
	return bw_tbl_sum_end(&s, data, len);
}

/* ---- Loader API (dataplane/table.c). ---- */

struct bw_table;

/*!
 * \brief Maps a table file read-only and checks it completely (header,
 *        checksum, every offset the reader will follow).
 *
 * \param path    Table file.
 * \param out     Set to the table on success.
 * \param err     Buffer for the reason of a failure, or NULL.
 * \param errlen  Its size.
 * \return 0, or a negative error (BW_ETABLE, BW_ECHECKSUM, BW_EVERSION,
 *         errno codes); nothing is mapped on failure.
 */
int bw_table_open(const char *path, struct bw_table **out, char *err,
                  size_t errlen);

/*!
 * \brief Like bw_table_open() for table bytes in memory.  With \a owned
 *        the table takes the malloc'ed buffer (also on failure).
 */
int bw_table_from_mem(uint8_t *buf, size_t len, bool owned,
                      struct bw_table **out, char *err, size_t errlen);

/*!
 * \brief Unmaps and frees; no reader may still use the table.
 */
void bw_table_close(struct bw_table *t);

/*! Apex of the zone: lowercase wire name. */
const uint8_t *bw_table_apex(const struct bw_table *t);
uint32_t bw_table_serial(const struct bw_table *t);
uint64_t bw_table_checksum(const struct bw_table *t);
size_t bw_table_size(const struct bw_table *t);
size_t bw_table_nodes(const struct bw_table *t);
/*! Earliest RRSIG expiration (seconds since the epoch), 0 if unsigned. */
uint32_t bw_table_sig_expiry(const struct bw_table *t);

#endif /* BULWARK_TABLE_H */
