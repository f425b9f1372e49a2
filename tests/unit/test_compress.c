/*  bulwark — unit tests: name compression and decompression.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bulwark/wire.h"

#define N(s) ((const uint8_t *)(s))

static uint8_t msg[0x5000];

/* Unpacks the name at \a pos and compares it with \a want. */
static void expect_unpack(size_t len, size_t pos, const uint8_t *want,
                          size_t next_want)
{
	uint8_t out[BW_NAME_MAXLEN];
	size_t next = 0;
	int n = bw_name_unpack(msg, len, pos, out, &next);

	assert_int_equal(n, bw_name_len(want));
	assert_true(bw_name_equal(out, want));
	assert_int_equal(next, next_want);
	assert_int_equal(bw_name_unpack(msg, len, pos, NULL, NULL), n);
}

static void test_compress_basic(void **state)
{
	struct bw_compr c;
	size_t pos = BW_HDR_LEN;
	int n;

	(void)state;
	memset(msg, 0, sizeof(msg));
	bw_compr_init(&c, msg);
	n = bw_compr_put(&c, pos, sizeof(msg), N("\3www\7example\3com"), true);
	assert_int_equal(n, 17);
	pos += (size_t)n;
	/* mail + pointer to "example.com" at 16. */
	n = bw_compr_put(&c, pos, sizeof(msg), N("\4mail\7example\3com"), true);
	assert_int_equal(n, 7);
	assert_memory_equal(msg + pos, "\4mail\xc0\x10", 7);
	pos += (size_t)n;
	/* Whole name known, other case: a pointer only. */
	n = bw_compr_put(&c, pos, sizeof(msg), N("\3WWW\7EXAMPLE\3COM"), true);
	assert_int_equal(n, 2);
	assert_memory_equal(msg + pos, "\xc0\x0c", 2);
	pos += (size_t)n;
	/* The root is one octet. */
	n = bw_compr_put(&c, pos, sizeof(msg), N(""), true);
	assert_int_equal(n, 1);
	pos += (size_t)n;
	/* Nothing in common. */
	n = bw_compr_put(&c, pos, sizeof(msg), N("\5other\3net"), true);
	assert_int_equal(n, 11);
	pos += (size_t)n;
	/* compress=false writes it in full. */
	n = bw_compr_put(&c, pos, sizeof(msg), N("\3www\7example\3com"), false);
	assert_int_equal(n, 17);
	pos += (size_t)n;

	expect_unpack(pos, 12, N("\3www\7example\3com"), 29);
	expect_unpack(pos, 29, N("\4mail\7example\3com"), 36);
	expect_unpack(pos, 36, N("\3www\7example\3com"), 38);
	expect_unpack(pos, 38, N(""), 39);
	expect_unpack(pos, 39, N("\5other\3net"), 50);
	expect_unpack(pos, 50, N("\3www\7example\3com"), 67);
}

static void test_compress_longest_suffix(void **state)
{
	struct bw_compr c;
	size_t pos = BW_HDR_LEN;

	(void)state;
	bw_compr_init(&c, msg);
	pos += (size_t)bw_compr_put(&c, pos, sizeof(msg), N("\3com"), true);
	pos += (size_t)bw_compr_put(&c, pos, sizeof(msg),
	                            N("\1a\1b\7example\3com"), true);
	/* Uses b.example.com inside the second name, not just com. */
	int n = bw_compr_put(&c, pos, sizeof(msg), N("\1x\1b\7example\3com"),
	                     true);
	assert_int_equal(n, 4);
	assert_memory_equal(msg + pos, "\1x\xc0\x13", 4);
	expect_unpack(pos + 4, pos, N("\1x\1b\7example\3com"), pos + 4);
	size_t p2 = pos + 4;
	/* A suffix of a name that was itself compressed. */
	n = bw_compr_put(&c, p2, sizeof(msg), N("\1y\1x\1b\7example\3com"),
	                 true);
	assert_int_equal(n, 4);
	assert_int_equal(bw_get16(msg + p2 + 2), 0xc000 | pos);
	expect_unpack(p2 + 4, p2, N("\1y\1x\1b\7example\3com"), p2 + 4);
	/* Same label text but different depth does not match. */
	n = bw_compr_put(&c, p2 + 4, sizeof(msg), N("\3com\3org"), true);
	assert_int_equal(n, 9);
}

static void test_compress_limits(void **state)
{
	struct bw_compr c;

	(void)state;
	bw_compr_init(&c, msg);
	assert_int_equal(bw_compr_put(&c, 12, 20, N("\3www\7example\3com"),
	                              true), BW_ENOSPC);
	assert_int_equal(bw_compr_put(&c, 12, 29, N("\3www\7example\3com"),
	                              true), 17);
	assert_int_equal(bw_compr_put(&c, 29, 30, N("\3www\7example\3com"),
	                              true), BW_ENOSPC);
	assert_int_equal(bw_compr_put(&c, 29, 31, N("\3www\7example\3com"),
	                              true), 2);
	/* Names past 0x3fff cannot be pointed to. */
	bw_compr_init(&c, msg);
	assert_int_equal(bw_compr_put(&c, 0x4000, sizeof(msg), N("\1a\3com"),
	                              true), 7);
	assert_int_equal(bw_compr_put(&c, 0x4010, sizeof(msg), N("\1a\3com"),
	                              true), 7);
	/* The table fills up; later names are still written correctly. */
	bw_compr_init(&c, msg);
	size_t pos = 12;
	for (int i = 0; i < BW_COMPR_MAX + 10; i++) {
		uint8_t name[] = "\2xx\3net";
		name[1] = (uint8_t)('a' + i / 26);
		name[2] = (uint8_t)('a' + i % 26);
		int n = bw_compr_put(&c, pos, sizeof(msg), name, true);
		assert_true(n > 0);
		expect_unpack(pos + (size_t)n, pos, name, pos + (size_t)n);
		pos += (size_t)n;
	}
	assert_int_equal(c.nnames, BW_COMPR_MAX);
}

static void set_msg(const char *bytes, size_t len)
{
	memset(msg, 0, 64);
	memcpy(msg, bytes, len);
}

static void test_unpack_bad(void **state)
{
	uint8_t out[BW_NAME_MAXLEN];
	size_t next;

	(void)state;
	/* Pointer to itself. */
	set_msg("\xc0\x00", 2);
	assert_int_equal(bw_name_unpack(msg, 2, 0, out, &next), BW_ELOOP);
	/* Forward pointer. */
	set_msg("\xc0\x02\1a\0", 5);
	assert_int_equal(bw_name_unpack(msg, 5, 0, out, &next), BW_ELOOP);
	/* Label then a pointer back to that label: a loop. */
	set_msg("\1a\xc0\x00", 4);
	assert_int_equal(bw_name_unpack(msg, 4, 0, out, &next), BW_ELOOP);
	/* Two pointers pointing at each other. */
	set_msg("\1a\0\xc0\x05\xc0\x03", 7);
	assert_int_equal(bw_name_unpack(msg, 7, 5, out, &next), BW_ELOOP);
	assert_int_equal(bw_name_unpack(msg, 7, 3, out, &next), BW_ELOOP);
	/* Truncated label, truncated pointer, position past the end. */
	set_msg("\3ab", 3);
	assert_int_equal(bw_name_unpack(msg, 3, 0, out, &next), BW_ETRUNC);
	set_msg("\3abc", 4);
	assert_int_equal(bw_name_unpack(msg, 4, 0, out, &next), BW_ETRUNC);
	set_msg("\1a\0\xc0", 4);
	assert_int_equal(bw_name_unpack(msg, 4, 3, out, &next), BW_ETRUNC);
	assert_int_equal(bw_name_unpack(msg, 4, 4, out, &next), BW_ETRUNC);
	assert_int_equal(bw_name_unpack(msg, 0, 0, out, &next), BW_ETRUNC);
	/* Pointer past the end of the message. */
	set_msg("\1a\0\xc0\x30", 5);
	assert_int_equal(bw_name_unpack(msg, 5, 3, out, &next), BW_ELOOP);
	/* Extended label types. */
	set_msg("\x41\0", 2);
	assert_int_equal(bw_name_unpack(msg, 2, 0, out, &next), BW_EMALF);
	set_msg("\x80\0", 2);
	assert_int_equal(bw_name_unpack(msg, 2, 0, out, &next), BW_EMALF);
}

static void test_unpack_too_long(void **state)
{
	uint8_t out[BW_NAME_MAXLEN];
	size_t next, pos = 0, prev;

	(void)state;
	/* 63-octet labels chained by pointers: four make 257 octets. */
	memset(msg, 'x', sizeof(msg));
	msg[pos] = 63;
	msg[pos + 64] = 0;
	prev = pos;
	pos = 65;
	for (int i = 0; i < 3; i++) {
		msg[pos] = 63;
		bw_put16(msg + pos + 64, (uint16_t)(0xc000 | prev));
		prev = pos;
		pos += 66;
	}
	int n = bw_name_unpack(msg, pos, prev, out, &next);
	assert_int_equal(n, BW_ENAMELEN);
	/* Three labels are 193 octets and fine. */
	n = bw_name_unpack(msg, pos, 65 + 66, out, &next);
	assert_int_equal(n, 193);
	assert_int_equal(next, 65 + 66 + 66);
	assert_int_equal(bw_name_check(out, sizeof(out)), 193);
}

static void test_unpack_random(void **state)
{
	uint8_t out[BW_NAME_MAXLEN];
	size_t next;

	(void)state;
	srand(7);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand() % 64);
		for (size_t i = 0; i < len; i++)
			msg[i] = (uint8_t)(rand() % 4 == 0 ? 0xc0 | rand() % 2 :
			                   rand() % 8);
		size_t pos = len ? (size_t)rand() % len : 0;
		int n = bw_name_unpack(msg, len, pos, out, &next);
		if (n < 0)
			continue;
		assert_true(n <= BW_NAME_MAXLEN);
		assert_int_equal(bw_name_check(out, (size_t)n), n);
		assert_true(next > pos && next <= len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compress_basic),
		cmocka_unit_test(test_compress_longest_suffix),
		cmocka_unit_test(test_compress_limits),
		cmocka_unit_test(test_unpack_bad),
		cmocka_unit_test(test_unpack_too_long),
		cmocka_unit_test(test_unpack_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
