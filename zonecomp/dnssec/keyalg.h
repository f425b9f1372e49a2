/*  bulwark — what key.c, keyfile.c and sign.c share about algorithms and
 *  key material (internal to zonecomp/dnssec).
 */
#ifndef BULWARK_ZONECOMP_DNSSEC_KEYALG_H
#define BULWARK_ZONECOMP_DNSSEC_KEYALG_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

struct bw_key_alg_info {
	uint8_t alg;
	const char *name;   /*!< As BIND writes it in .private files. */
	const char *type;   /*!< OpenSSL key type. */
	const char *md;     /*!< Digest of the signature; NULL for EdDSA. */
	const char *group;  /*!< EC group; NULL for RSA and EdDSA. */
	uint16_t size;      /*!< EC coordinate or EdDSA key octets; 0: RSA. */
	unsigned bits;      /*!< Fixed key size; 0: RSA. */
};

/*!
 * \brief Description of an algorithm, or NULL when it is not supported.
 */
const struct bw_key_alg_info *bw_key_alg_info(uint8_t alg);

/*!
 * \brief Base64 without line breaks.
 * \return Text length, or BW_ENOSPC.
 */
int bw_key_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/*!
 * \brief Decodes base64 without blanks.
 * \return Octets, or BW_ESYNTAX.
 */
int bw_key_b64_decode(const char *in, uint8_t *out, size_t cap);

/*!
 * \brief Appends a field, even if the tag is there already.
 */
int bw_key_field_add(struct bw_key_fields *f, const char *tag,
                     const char *value);

void bw_key_fields_clear(struct bw_key_fields *f);

/*!
 * \brief Sets the DNSKEY rdata, flags, algorithm, tag and a public-only
 *        EVP key from DNSKEY rdata.
 * \return 0, BW_EMALF or BW_EINVAL (unknown algorithm).
 */
int bw_key_set_public(struct bw_key *k, const uint8_t *rdata, size_t len);

/*!
 * \brief Builds the private EVP key from the .private fields; it must
 *        match the DNSKEY rdata.
 * \return 0 or BW_EINVAL.
 */
int bw_key_load_private(struct bw_key *k);

#endif /* BULWARK_ZONECOMP_DNSSEC_KEYALG_H */
