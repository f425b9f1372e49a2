/*  bulwark — DNSSEC keys in BIND's file format (internal to zonecomp).
 *
 *  A key is read from and written to the files dnssec-keygen and
 *  dnssec-policy make: K<zone>+<alg>+<tag>.key (the DNSKEY record after a
 *  comment header), .private (Private-key-format v1.3: the key material
 *  and the timing fields) and .state (the key state of dnssec-policy).
 *  The "Tag: value" lines of .private and .state are kept in file order,
 *  so that a key read and written again gives the same files.
 *
 *  Cryptography goes through OpenSSL 3 (EVP and providers).  A loaded key
 *  is read-only and may sign from several threads at once.
 */
#ifndef BULWARK_ZONECOMP_DNSSEC_KEY_H
#define BULWARK_ZONECOMP_DNSSEC_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "bulwark/wire.h"

/* DNSSEC algorithm numbers (IANA registry) that keys may use. */
enum bw_key_alg {
	BW_ALG_RSASHA1 = 5,            /*!< Verification of old zones only. */
	BW_ALG_RSASHA1_NSEC3 = 7,      /*!< Verification of old zones only. */
	BW_ALG_RSASHA256 = 8,
	BW_ALG_RSASHA512 = 10,
	BW_ALG_ECDSAP256SHA256 = 13,
	BW_ALG_ECDSAP384SHA384 = 14,
	BW_ALG_ED25519 = 15,
	BW_ALG_ED448 = 16,
};

/* DS digest types. */
enum bw_ds_digest {
	BW_DS_SHA1 = 1,
	BW_DS_SHA256 = 2,
	BW_DS_SHA384 = 4,
};

/* DNSKEY flags (RFC 4034 §2.1.1, RFC 5011 §2.1). */
#define BW_DNSKEY_ZONE   0x0100
#define BW_DNSKEY_REVOKE 0x0080
#define BW_DNSKEY_SEP    0x0001
#define BW_DNSKEY_PROTOCOL 3

/*! Largest DNSKEY rdata: 4096-bit RSA with a long exponent. */
#define BW_KEY_MAXRDATA 1024
/*! Largest DS rdata (SHA-384). */
#define BW_DS_MAXRDATA (4 + 48)
/*! Largest signature (4096-bit RSA). */
#define BW_SIG_MAXLEN 512

enum bw_key_role {
	BW_KEY_ZSK = 1,
	BW_KEY_KSK = 2,
	BW_KEY_CSK = BW_KEY_ZSK | BW_KEY_KSK,
};

/*! One "Tag: value" line of a .private or .state file. */
struct bw_key_field {
	char *tag;
	char *value;
};

/*! The lines of one file, in file order. */
struct bw_key_fields {
	struct bw_key_field *v;
	size_t n, cap;
};

struct bw_key {
	uint8_t owner[BW_NAME_MAXLEN];  /*!< Zone name as written in the file. */
	uint8_t alg;
	uint16_t flags;
	uint16_t tag;                   /*!< Key tag of the current flags. */
	unsigned bits;                  /*!< Key size ("Length" of .state). */
	uint32_t ttl;
	bool has_ttl;                   /*!< The DNSKEY line carried a TTL. */
	bool has_private;               /*!< \a pkey can sign. */
	uint16_t rdlen;
	uint8_t rdata[BW_KEY_MAXRDATA]; /*!< DNSKEY rdata. */
	EVP_PKEY *pkey;
	struct bw_key_fields priv;      /*!< .private lines; the timing fields
	                                     only when there is no .private. */
	struct bw_key_fields state;     /*!< .state lines; empty without one. */
};

/*! The keys of one zone found in a directory. */
struct bw_keyset {
	struct bw_key **keys;
	size_t n;
};

/*!
 * \brief Name of an algorithm as BIND writes it ("ECDSAP256SHA256"), or
 *        NULL when bulwark does not know it.
 */
const char *bw_key_alg_name(uint8_t alg);

/*!
 * \brief Parses an algorithm number or mnemonic.
 * \return 0, or BW_EINVAL for an algorithm bulwark does not support.
 */
int bw_key_alg_from_text(const char *txt, uint8_t *alg);

/*!
 * \brief Key tag of DNSKEY rdata (RFC 4034 Appendix B).
 */
uint16_t bw_key_tag(const uint8_t *rdata, size_t len);

/*!
 * \brief Makes a new key pair.
 *
 * \param out    Set to the new key (free with bw_key_free()).
 * \param owner  Zone name (wire).
 * \param alg    Algorithm.
 * \param bits   RSA modulus size (0: 2048); ignored for other algorithms.
 * \param flags  DNSKEY flags: 256 (ZSK) or 257 (KSK, CSK).
 * \param now    Written as the Created, Publish and Activate times.
 * \return 0, BW_EINVAL (algorithm or size), BW_ENOMEM or BW_EIO (OpenSSL).
 */
int bw_key_generate(struct bw_key **out, const uint8_t *owner, uint8_t alg,
                    unsigned bits, uint16_t flags, time_t now);

/*!
 * \brief Makes a public-only key from DNSKEY rdata, to verify signatures.
 * \return 0, BW_EMALF for rdata that is not a key of its algorithm,
 *         BW_EINVAL for an unknown algorithm, or BW_ENOMEM.
 */
int bw_key_from_dnskey(struct bw_key **out, const uint8_t *owner,
                       const uint8_t *rdata, size_t len);

/*!
 * \brief Reads BASE.key, BASE.private and BASE.state; the last two are
 *        optional (a key without .private can only verify).
 *
 * \param base  Path without the suffix ("dir/Kexample.com.+013+43708").
 * \return 0, BW_ENOENT (no .key), BW_ESYNTAX (a file does not parse),
 *         BW_EINVAL (the private key does not match the public key),
 *         BW_ENOMEM or BW_EIO.
 */
int bw_key_read(struct bw_key **out, const char *base);

/*!
 * \brief Writes .key, .private (when the key has one) and .state (when it
 *        has state lines) into \a dir, in BIND's format.
 * \return 0 or a negative error (BW_EIO with errno set).
 */
int bw_key_write(const struct bw_key *k, const char *dir);

/*!
 * \brief File name without suffix: "K<zone>+<alg>+<tag>".
 * \return Its length, or BW_ENOSPC.
 */
int bw_key_basename(const struct bw_key *k, char *out, size_t cap);

void bw_key_free(struct bw_key *k);

/*!
 * \brief Role of a key: from the KSK/ZSK lines of its .state file, else
 *        from the SEP flag (257: KSK, 256: ZSK).
 */
enum bw_key_role bw_key_role(const struct bw_key *k);

/*!
 * \brief Sets the REVOKE flag (RFC 5011): the rdata and the tag change,
 *        and \a when is written as the Revoke time.
 * \return 0 or BW_ENOMEM.
 */
int bw_key_revoke(struct bw_key *k, time_t when);

/*!
 * \brief Value of a field (case-insensitive tag), or NULL.
 */
const char *bw_key_field_get(const struct bw_key_fields *f, const char *tag);

/*!
 * \brief Replaces the value of a field, or appends the field.
 * \return 0 or BW_ENOMEM.
 */
int bw_key_field_set(struct bw_key_fields *f, const char *tag,
                     const char *value);

/*!
 * \brief A time field of the key (.private "Activate", .state "Retired"):
 *        the YYYYMMDDHHMMSS value as seconds since the epoch.
 * \return 0, BW_ENOENT when the key has no such field, BW_ESYNTAX.
 */
int bw_key_time(const struct bw_key *k, const char *tag, time_t *t);

/*!
 * \brief Sets a time field of .private (or of .state when \a state):
 *        "YYYYMMDDHHMMSS", with BIND's readable date after it in .state.
 * \return 0 or BW_ENOMEM.
 */
int bw_key_set_time(struct bw_key *k, bool state, const char *tag, time_t t);

/*!
 * \brief Starts the .state lines of a new key as dnssec-policy does:
 *        Algorithm, Length, Lifetime, KSK, ZSK, Generated, Published and
 *        Active (the last three at \a now).
 * \param lifetime  Seconds, 0 for unlimited.
 * \return 0 or BW_ENOMEM.
 */
int bw_key_init_state(struct bw_key *k, enum bw_key_role role,
                      uint32_t lifetime, time_t now);

/*!
 * \brief DS rdata of a DNSKEY (RFC 4034 §5.1.4, RFC 4509, RFC 6605); the
 *        same bytes are the CDS rdata (RFC 7344).
 *
 * \param owner   Owner of the DNSKEY (wire, any case).
 * \param rdata   DNSKEY rdata.
 * \param digest  BW_DS_SHA1, BW_DS_SHA256 or BW_DS_SHA384.
 * \return Rdata length, BW_EINVAL (digest type), BW_ENOSPC or BW_EIO.
 */
int bw_key_ds(const uint8_t *owner, const uint8_t *rdata, size_t len,
              uint8_t digest, uint8_t *out, size_t cap);

/*!
 * \brief The CDS rdata that asks the parent to delete the DS RRset
 *        (RFC 8078 §4: "0 0 0 00").
 * \return Its length (5), or BW_ENOSPC.
 */
int bw_key_cds_delete(uint8_t *out, size_t cap);

/*!
 * \brief The CDNSKEY rdata of the delete request (RFC 8078 §4:
 *        "0 3 0 AA=="); a key's own CDNSKEY rdata is its DNSKEY rdata.
 * \return Its length (5), or BW_ENOSPC.
 */
int bw_key_cdnskey_delete(uint8_t *out, size_t cap);

/*!
 * \brief Reads every key of \a zone in \a dir (files K<zone>+*.key whose
 *        owner is \a zone), sorted by algorithm and tag.
 * \return 0 (possibly with no keys), or the first error of bw_key_read()
 *         or opendir() (BW_ENOENT, BW_EACCES, BW_EIO).
 */
int bw_key_load_dir(const char *dir, const uint8_t *zone,
                    struct bw_keyset *out);

void bw_keyset_free(struct bw_keyset *ks);

#endif /* BULWARK_ZONECOMP_DNSSEC_KEY_H */
