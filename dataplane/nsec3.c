/*  bulwark — NSEC3 hashing (RFC 5155 §5) over our own SHA-1.
 */
#include "bulwark/nsec3.h"

#include "sha1.h"

int bw_nsec3_hash(const uint8_t *lname, const uint8_t *salt, uint8_t salt_len,
                  uint16_t iterations, uint8_t out[BW_NSEC3_HASH_LEN])
{
	struct bw_sha1 c;
	int len = bw_name_check(lname, BW_NAME_MAXLEN);

	if (len < 0 || (salt == NULL && salt_len > 0))
		return BW_EINVAL;
	bw_sha1_init(&c);
	bw_sha1_update(&c, lname, (size_t)len);
	bw_sha1_update(&c, salt, salt_len);
	bw_sha1_final(&c, out);
	for (unsigned k = 0; k < iterations; k++) {
		bw_sha1_init(&c);
		bw_sha1_update(&c, out, BW_NSEC3_HASH_LEN);
		bw_sha1_update(&c, salt, salt_len);
		bw_sha1_final(&c, out);
	}
	return 0;
}
