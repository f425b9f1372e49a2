/*  bulwark — DNS wire library: names, types, classes, rdata codecs,
 *  message header and name compression.
 *
 *  Names are handled in uncompressed wire form (length-prefixed labels,
 *  ending with the root label) unless a function says otherwise.  Nothing
 *  here allocates.
 */
#ifndef BULWARK_WIRE_H
#define BULWARK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bulwark/err.h"

#define BW_NAME_MAXLEN    255
#define BW_LABEL_MAXLEN   63
#define BW_NAME_MAXLABELS 128
/*! Longest presentation form of a name: every octet as \DDD, dots, NUL. */
#define BW_NAME_MAXTEXT   (4 * BW_NAME_MAXLEN + 2)
#define BW_RDATA_MAXLEN   65535
#define BW_HDR_LEN        12

/* RR types (IANA registry). */
enum bw_rrtype {
	BW_TYPE_A = 1, BW_TYPE_NS = 2, BW_TYPE_CNAME = 5, BW_TYPE_SOA = 6,
	BW_TYPE_PTR = 12, BW_TYPE_HINFO = 13, BW_TYPE_MX = 15, BW_TYPE_TXT = 16,
	BW_TYPE_AAAA = 28, BW_TYPE_SRV = 33, BW_TYPE_NAPTR = 35,
	BW_TYPE_DNAME = 39, BW_TYPE_OPT = 41, BW_TYPE_DS = 43,
	BW_TYPE_SSHFP = 44, BW_TYPE_RRSIG = 46, BW_TYPE_NSEC = 47,
	BW_TYPE_DNSKEY = 48, BW_TYPE_NSEC3 = 50, BW_TYPE_NSEC3PARAM = 51,
	BW_TYPE_TLSA = 52, BW_TYPE_CDS = 59, BW_TYPE_CDNSKEY = 60,
	BW_TYPE_ZONEMD = 63, BW_TYPE_SVCB = 64, BW_TYPE_HTTPS = 65,
	BW_TYPE_IXFR = 251, BW_TYPE_AXFR = 252, BW_TYPE_ANY = 255,
	BW_TYPE_CAA = 257,
};

enum bw_rrclass {
	BW_CLASS_IN = 1, BW_CLASS_CH = 3, BW_CLASS_HS = 4,
	BW_CLASS_NONE = 254, BW_CLASS_ANY = 255,
};

/* Header flags (second 16-bit word of the header). */
#define BW_FLAG_QR 0x8000
#define BW_FLAG_AA 0x0400
#define BW_FLAG_TC 0x0200
#define BW_FLAG_RD 0x0100
#define BW_FLAG_RA 0x0080
#define BW_FLAG_AD 0x0020
#define BW_FLAG_CD 0x0010
#define BW_OPCODE(flags) (((flags) >> 11) & 0xf)
#define BW_RCODE(flags)  ((flags) & 0xf)

enum bw_rcode {
	BW_RCODE_NOERROR = 0, BW_RCODE_FORMERR = 1, BW_RCODE_SERVFAIL = 2,
	BW_RCODE_NXDOMAIN = 3, BW_RCODE_NOTIMP = 4, BW_RCODE_REFUSED = 5,
	BW_RCODE_YXDOMAIN = 6, BW_RCODE_BADVERS = 16,
};

enum bw_opcode { BW_OPCODE_QUERY = 0, BW_OPCODE_NOTIFY = 4, BW_OPCODE_UPDATE = 5 };

/* EDNS option codes. */
#define BW_EDNS_NSID   3
#define BW_EDNS_COOKIE 10
#define BW_EDNS_TCP_KEEPALIVE 11
#define BW_EDNS_EDE    15
#define BW_EDNS_DO     0x8000

/* ---- Big-endian helpers (unaligned-safe). ---- */

static inline uint16_t bw_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t bw_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void bw_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void bw_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint8_t bw_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* ---- Message header. ---- */

struct bw_hdr {
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

static inline void bw_hdr_read(const uint8_t *p, struct bw_hdr *h)
{
	h->id = bw_get16(p);
	h->flags = bw_get16(p + 2);
	h->qdcount = bw_get16(p + 4);
	h->ancount = bw_get16(p + 6);
	h->nscount = bw_get16(p + 8);
	h->arcount = bw_get16(p + 10);
}

static inline void bw_hdr_write(uint8_t *p, const struct bw_hdr *h)
{
	bw_put16(p, h->id);
	bw_put16(p + 2, h->flags);
	bw_put16(p + 4, h->qdcount);
	bw_put16(p + 6, h->ancount);
	bw_put16(p + 8, h->nscount);
	bw_put16(p + 10, h->arcount);
}

/* ---- Names. ---- */

/*!
 * \brief Checks an uncompressed wire name that starts at \a p.
 * \return Its length (1..255), or BW_EMALF / BW_ELABEL / BW_ENAMELEN /
 *         BW_ETRUNC when it is not a valid name within \a max octets.
 */
int bw_name_check(const uint8_t *p, size_t max);

/*!
 * \brief Length of a valid uncompressed wire name.
 */
size_t bw_name_len(const uint8_t *name);

/*!
 * \brief Number of labels, not counting the root label ("." has 0).
 */
int bw_name_labels(const uint8_t *name);

/*!
 * \brief Lowercases ASCII letters of a wire name in place.
 */
void bw_name_lower(uint8_t *name);

/*!
 * \brief Case-insensitive equality of two wire names.
 */
bool bw_name_equal(const uint8_t *a, const uint8_t *b);

/*!
 * \brief True when \a name equals \a parent or lies below it.
 */
bool bw_name_is_sub(const uint8_t *name, const uint8_t *parent);

/*!
 * \brief Canonical order of RFC 4034 §6.1 (case-insensitive, label by label
 *        from the right).
 * \return <0, 0 or >0.
 */
int bw_name_cmp(const uint8_t *a, const uint8_t *b);

/*!
 * \brief Parses a name in presentation form (escapes \DDD and \X).
 *
 * \param out     Buffer of at least BW_NAME_MAXLEN octets.
 * \param txt     Text, not NUL-terminated.
 * \param len     Length of \a txt.
 * \param origin  Appended to relative names and used for "@"; NULL means a
 *                relative name is an error.
 * \return Wire length, or a negative error (BW_ESYNTAX, BW_ELABEL,
 *         BW_ENAMELEN).
 */
int bw_name_from_text(uint8_t *out, const char *txt, size_t len,
                      const uint8_t *origin);

/*!
 * \brief Writes the absolute presentation form ("www.example.com.").
 *
 * Octets outside the printable set and the special characters . \ " ( ) ;
 * @ $ and space are escaped.
 * \return Text length without the NUL, or BW_ENOSPC.
 */
int bw_name_to_text(char *out, size_t cap, const uint8_t *name);

/*!
 * \brief Reads a possibly compressed name from a message.
 *
 * Pointers must point backwards (strictly before the label that holds
 * them); the total is bounded by BW_NAME_MAXLEN, so loops are impossible.
 *
 * \param msg   Whole message.
 * \param len   Message length.
 * \param pos   Offset of the name in \a msg.
 * \param out   Buffer for the uncompressed name (BW_NAME_MAXLEN), or NULL.
 * \param next  Set to the offset just past the name in place (after the
 *              first pointer, if any).
 * \return Uncompressed length, or a negative error.
 */
int bw_name_unpack(const uint8_t *msg, size_t len, size_t pos, uint8_t *out,
                   size_t *next);

/* ---- Compression when writing messages. ---- */

#define BW_COMPR_MAX 64

/*!
 * \brief Remembers where names were written in a message so that later
 *        names can point to their longest matching suffix.
 */
struct bw_compr {
	uint8_t *msg;
	size_t nnames;
	uint16_t off[BW_COMPR_MAX];  /*!< Offsets of names written so far. */
};

void bw_compr_init(struct bw_compr *c, uint8_t *msg);

/*!
 * \brief Writes \a name at \a pos, compressed against the names already
 *        written, and remembers it.
 * \return Octets written, or BW_ENOSPC when it would pass \a cap.
 */
int bw_compr_put(struct bw_compr *c, size_t pos, size_t cap,
                 const uint8_t *name, bool compress);

/* ---- Types and classes. ---- */

/*!
 * \brief Mnemonic of a type ("A", "NSEC3"), or "TYPE<n>" for others.
 * \return Text length.
 */
int bw_type_to_text(uint16_t type, char *out, size_t cap);

/*!
 * \brief Parses a type mnemonic (case-insensitive) or "TYPE<n>".
 * \return 0 or BW_ETYPE.
 */
int bw_type_from_text(const char *txt, size_t len, uint16_t *type);

int bw_class_to_text(uint16_t cls, char *out, size_t cap);
int bw_class_from_text(const char *txt, size_t len, uint16_t *cls);

/*!
 * \brief Parses a TTL: seconds, or BIND units ("1h30m", "2w", "1D").
 * \return 0, or BW_ETTL.
 */
int bw_ttl_from_text(const char *txt, size_t len, uint32_t *ttl);

/* ---- Rdata. ---- */

/*! One token of presentation-form rdata, as split by the zone parser. */
struct bw_token {
	const char *s;   /*!< Text with escapes left in place, no quotes. */
	size_t len;
	bool quoted;     /*!< It was written "in quotes". */
};

/*!
 * \brief Converts presentation rdata to wire form.
 *
 * Handles every type in enum bw_rrtype and the RFC 3597 generic form
 * (\# LEN HEX) for any type.
 *
 * \param type    RR type.
 * \param tok     Tokens of the rdata (after the type).
 * \param ntok    Number of tokens.
 * \param origin  For relative names in rdata.
 * \param out     Output buffer.
 * \param cap     Its size (BW_RDATA_MAXLEN is always enough).
 * \param err     Buffer for a message saying what was wrong, or NULL.
 * \param errlen  Its size.
 * \return Wire length, or a negative error.
 */
int bw_rdata_from_text(uint16_t type, const struct bw_token *tok, size_t ntok,
                       const uint8_t *origin, uint8_t *out, size_t cap,
                       char *err, size_t errlen);

/*!
 * \brief Writes rdata in presentation form (names absolute); types without
 *        a known format use RFC 3597 "\# LEN HEX".
 * \return Text length, BW_ENOSPC, or BW_EMALF for rdata that is invalid.
 */
int bw_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t len,
                     char *out, size_t cap);

/*!
 * \brief Checks that wire rdata of \a type is well formed.
 */
int bw_rdata_check(uint16_t type, const uint8_t *rdata, size_t len);

/*! A domain name embedded in rdata. */
struct bw_rdata_name {
	uint16_t off;      /*!< Offset of the name in the rdata. */
	uint8_t len;       /*!< Its wire length. */
	bool compress;     /*!< May be compressed when sent (RFC 3597 §4). */
	bool canon_lower;  /*!< Lowercased in canonical form (RFC 4034 §6.2,
	                        as amended by RFC 6840 §5.1). */
};

#define BW_RDATA_MAXNAMES 4

/*!
 * \brief Lists the names inside valid wire rdata.
 * \return Their number (0..BW_RDATA_MAXNAMES), or BW_EMALF.
 */
int bw_rdata_names(uint16_t type, const uint8_t *rdata, size_t len,
                   struct bw_rdata_name out[BW_RDATA_MAXNAMES]);

/*!
 * \brief Lowercases the names of canonical-lowercase types in place.
 */
void bw_rdata_canonicalize(uint16_t type, uint8_t *rdata, size_t len);

/*!
 * \brief Orders two rdatas as RFC 4034 §6.3 says (memcmp of canonical
 *        forms, shorter first on a common prefix).
 */
int bw_rdata_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* ---- Base32hex (RFC 4648 §7) and NSEC type bitmaps. ---- */

/*! Characters of \a n octets in unpadded base32hex. */
#define BW_BASE32HEX_LEN(n) (((n) * 8 + 4) / 5)

/*!
 * \brief Encodes \a len octets as lowercase base32hex without padding, as
 *        NSEC3 owner labels are written; \a out gets a NUL after the text.
 * \return Text length (BW_BASE32HEX_LEN(len)), or BW_ENOSPC when \a cap
 *         does not hold it and the NUL.
 */
int bw_base32hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/*!
 * \brief Decodes unpadded base32hex, either case.
 * \return Octets written, BW_ESYNTAX for a bad digit or non-zero
 *         trailing bits, or BW_ENOSPC.
 */
int bw_base32hex_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/*! A type bitmap (RFC 4034 §4.1.2) being built: 256 windows. */
struct bw_bitmap {
	uint8_t used[256];        /*!< Octets used per window, 0: none. */
	uint8_t bits[256][32];
	unsigned top;             /*!< Highest window used + 1. */
};

/*! \brief Empties \a bm. */
void bw_bitmap_init(struct bw_bitmap *bm);

/*! \brief Adds \a type to \a bm. */
void bw_bitmap_add(struct bw_bitmap *bm, uint16_t type);

/*! \brief Wire length of \a bm (0 when empty). */
size_t bw_bitmap_len(const struct bw_bitmap *bm);

/*!
 * \brief Writes \a bm in wire form, windows in increasing order.
 * \return Octets written, or BW_ENOSPC.
 */
int bw_bitmap_write(const struct bw_bitmap *bm, uint8_t *out, size_t cap);

#endif /* BULWARK_WIRE_H */
