/*  bulwark — unit tests: SHA-1, NSEC3 hashes and base32hex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bulwark/nsec3.h"
#include "bulwark/wire.h"
#include "sha1.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void check_sha1(const void *data, size_t len, const char *want)
{
	uint8_t d[BW_SHA1_LEN];
	char h[2 * BW_SHA1_LEN + 1];

	bw_sha1(data, len, d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, want);
}

/* FIPS 180-4 examples (and the empty message). */
static void test_sha1_vectors(void **state)
{
	(void)state;
	check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	check_sha1(m448, strlen(m448), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

	char *a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	check_sha1(a, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	/* The same fed in pieces of every size up to 150. */
	struct bw_sha1 c;
	uint8_t d[BW_SHA1_LEN];
	char h[2 * BW_SHA1_LEN + 1];
	bw_sha1_init(&c);
	for (size_t at = 0, step = 0; at < 1000000; at += step) {
		step = step % 150 + 1;
		if (step > 1000000 - at)
			step = 1000000 - at;
		bw_sha1_update(&c, a + at, step);
	}
	bw_sha1_final(&c, d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(a);
}

/* Lengths around the padding boundaries, against sha1sum. */
static void test_sha1_lengths(void **state)
{
	static const size_t lens[] = { 1, 55, 56, 57, 63, 64, 65, 119, 120, 128 };
	uint8_t msg[128];
	char path[] = "/tmp/bw-sha1-XXXXXX", cmd[64], out[128];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 37 + 11);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, msg, lens[k]), (ssize_t)lens[k]);
		close(fd);
		snprintf(cmd, sizeof(cmd), "sha1sum %s", path);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		assert_non_null(fgets(out, sizeof(out), p));
		assert_int_equal(pclose(p), 0);
		unlink(path);
		strcpy(path, "/tmp/bw-sha1-XXXXXX");
		out[40] = '\0';
		check_sha1(msg, lens[k], out);
	}
}

static void name(uint8_t *out, const char *text)
{
	assert_true(bw_name_from_text(out, text, strlen(text),
	                              (const uint8_t *)"") > 0);
}

static void nsec3_text(const char *owner, const uint8_t *salt,
                       uint8_t salt_len, uint16_t iter, char *out)
{
	uint8_t n[BW_NAME_MAXLEN], h[BW_NSEC3_HASH_LEN];

	name(n, owner);
	bw_name_lower(n);
	assert_int_equal(bw_nsec3_hash(n, salt, salt_len, iter, h), 0);
	assert_int_equal(bw_base32hex_encode(h, sizeof(h), out,
	                                     BW_NSEC3_LABEL_LEN + 1),
	                 BW_NSEC3_LABEL_LEN);
}

/* RFC 5155 Appendix A: salt aabbccdd, 12 iterations. */
static void test_rfc5155(void **state)
{
	static const struct { const char *name, *hash; } v[] = {
		{ "example", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
		{ "a.example", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
		{ "ai.example", "gjeqe526plbf1g8mklp59enfd789njgi" },
		{ "ns1.example", "2t7b4g4vsa5smi47k61mv5bv1a22bojr" },
		{ "ns2.example", "q04jkcevqvmu85r014c7dkba38o0ji5r" },
		{ "w.example", "k8udemvp1j2f7eg6jebps17vp3n8i58h" },
		{ "*.w.example", "r53bq7cc2uvmubfu5ocmm6pers9tk9en" },
		{ "x.w.example", "b4um86eghhds6nea196smvmlo4ors995" },
		{ "y.w.example", "ji6neoaepv8b5o6k4ev33abha8ht9fgc" },
		{ "x.y.w.example", "2vptu5timamqttgl4luu9kg21e0aor3s" },
		{ "xx.example", "t644ebqk9bibcna874givr6joj62mlhv" },
		{ "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example",
		  "kohar7mbb8dc2ce8a9qvl8hon4k53uhi" },
		/* Case does not matter once the name is lowercased. */
		{ "A.EXAMPLE", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
	};
	static const uint8_t salt[] = { 0xaa, 0xbb, 0xcc, 0xdd };
	char out[BW_NSEC3_LABEL_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		nsec3_text(v[i].name, salt, sizeof(salt), 12, out);
		assert_string_equal(out, v[i].hash);
	}
}

static void test_nsec3_errors(void **state)
{
	uint8_t h[BW_NSEC3_HASH_LEN];
	static const uint8_t bad[] = { 64, 'a' };

	(void)state;
	assert_int_equal(bw_nsec3_hash(bad, NULL, 0, 0, h), BW_EINVAL);
	assert_int_equal(bw_nsec3_hash((const uint8_t *)"", NULL, 3, 0, h),
	                 BW_EINVAL);
	/* The root, empty salt, no iterations: SHA-1 of one zero octet. */
	assert_int_equal(bw_nsec3_hash((const uint8_t *)"", NULL, 0, 0, h), 0);
	uint8_t d[BW_SHA1_LEN];
	bw_sha1("", 1, d);
	assert_memory_equal(h, d, sizeof(d));
}

/* A small generator so that the cases are the same on every run. */
static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void random_case(uint32_t *seed, char *owner, uint8_t *salt,
                        uint8_t *salt_len, uint16_t *iter)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t at = 0;

	for (unsigned l = 0, nl = 1 + rnd(seed) % 5; l < nl; l++) {
		/* knsec3hash would take a leading '-' for an option. */
		for (unsigned c = 0, len = 1 + rnd(seed) % 20; c < len; c++)
			owner[at++] = chars[rnd(seed) % (sizeof(chars) - (c ? 1 : 3))];
		owner[at++] = '.';
	}
	owner[at] = '\0';
	*salt_len = (uint8_t)(rnd(seed) % 3 == 0 ? 0 : rnd(seed) % 40);
	for (unsigned i = 0; i < *salt_len; i++)
		salt[i] = (uint8_t)rnd(seed);
	*iter = (uint16_t)(rnd(seed) % 4 == 0 ? 0 : rnd(seed) % 300);
}

static void knsec3hash(const char *owner, const uint8_t *salt,
                       uint8_t salt_len, uint16_t iter, char *out)
{
	char cmd[512], s[2 * 255 + 2] = "-", line[256];

	if (salt_len > 0)
		hex(salt, salt_len, s);
	snprintf(cmd, sizeof(cmd), "knsec3hash %s 1 %u '%s'", s, iter, owner);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	assert_int_equal(sscanf(line, "%32s", out), 1);
}

/* Random names, salts and iteration counts against Knot's knsec3hash. */
static void test_knsec3hash(void **state)
{
	uint32_t seed = 20240601;
	char owner[256], ours[BW_NSEC3_LABEL_LEN + 1], theirs[64];
	uint8_t salt[40], salt_len;
	uint16_t iter;

	(void)state;
	if (system("knsec3hash >/dev/null 2>&1; test $? -ne 127") != 0) {
		print_message("knsec3hash is not installed: cross-check skipped\n");
		skip();
	}
	for (int i = 0; i < 25; i++) {
		random_case(&seed, owner, salt, &salt_len, &iter);
		nsec3_text(owner, salt, salt_len, iter, ours);
		knsec3hash(owner, salt, salt_len, iter, theirs);
		if (strcmp(ours, theirs) != 0)
			fail_msg("%s salt len %u iterations %u: %s, knsec3hash %s",
			         owner, salt_len, iter, ours, theirs);
	}
}

/* RFC 4648 §10 vectors (base32hex, lowercase, no padding). */
static void test_base32hex(void **state)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "co" }, { "fo", "cpng" }, { "foo", "cpnmu" },
		{ "foob", "cpnmuog" }, { "fooba", "cpnmuoj1" },
		{ "foobar", "cpnmuoj1e8" },
	};
	char out[32];
	uint8_t bin[16];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i][0]);
		assert_int_equal(bw_base32hex_encode((const uint8_t *)v[i][0], n,
		                                     out, sizeof(out)),
		                 (int)strlen(v[i][1]));
		assert_string_equal(out, v[i][1]);
		assert_int_equal(bw_base32hex_decode(v[i][1], strlen(v[i][1]),
		                                     bin, sizeof(bin)), (int)n);
		assert_memory_equal(bin, v[i][0], n);
	}
	/* Capitals decode too; the output needs room for the NUL. */
	assert_int_equal(bw_base32hex_decode("CPNMUOJ1E8", 10, bin, 16), 6);
	assert_memory_equal(bin, "foobar", 6);
	assert_int_equal(bw_base32hex_encode((const uint8_t *)"foobar", 6,
	                                     out, 10), BW_ENOSPC);
	assert_int_equal(bw_base32hex_decode("cpnmuoj1e8", 10, bin, 5),
	                 BW_ENOSPC);
	/* Bad digit, non-zero trailing bits, a lone trailing digit. */
	assert_int_equal(bw_base32hex_decode("cw", 2, bin, 16), BW_ESYNTAX);
	assert_int_equal(bw_base32hex_decode("cp", 2, bin, 16), BW_ESYNTAX);
	assert_int_equal(bw_base32hex_decode("cpn", 3, bin, 16), BW_ESYNTAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1_vectors),
		cmocka_unit_test(test_sha1_lengths),
		cmocka_unit_test(test_rfc5155),
		cmocka_unit_test(test_nsec3_errors),
		cmocka_unit_test(test_knsec3hash),
		cmocka_unit_test(test_base32hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
