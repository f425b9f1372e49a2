/*  bulwark — unit tests: domain names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bulwark/wire.h"

static const uint8_t origin[] = "\x07" "example" "\x03" "com";

static int from_text(uint8_t *out, const char *txt, const uint8_t *orig)
{
	return bw_name_from_text(out, txt, strlen(txt), orig);
}

static void expect_wire(const char *txt, const uint8_t *orig,
                        const char *wire, size_t len)
{
	uint8_t out[BW_NAME_MAXLEN];
	int n = from_text(out, txt, orig);

	if (n < 0)
		fail_msg("'%s' rejected: %d", txt, n);
	assert_int_equal(n, len);
	assert_memory_equal(out, wire, len);
	assert_int_equal(bw_name_check(out, (size_t)n), n);
	assert_int_equal(bw_name_len(out), (size_t)n);
}

static void test_from_text(void **state)
{
	(void)state;
	expect_wire("www.example.com.", NULL, "\3www\7example\3com", 17);
	expect_wire("www", origin, "\3www\7example\3com", 17);
	expect_wire("www.example.com.", origin, "\3www\7example\3com", 17);
	expect_wire("@", origin, "\7example\3com", 13);
	expect_wire(".", NULL, "", 1);
	expect_wire(".", origin, "", 1);
	expect_wire("a\\.b.c.", NULL, "\3a.b\1c", 7);
	expect_wire("\\065\\000b.", NULL, "\3A\0b", 5);
	expect_wire("a\\ b\\\\.", NULL, "\4a b\\", 6);
	expect_wire("Mixed.CASE.", NULL, "\5Mixed\4CASE", 12);
	expect_wire("\\@.", NULL, "\1@", 3);
	expect_wire("x@y.", NULL, "\3x@y", 5);
}

static void test_from_text_limits(void **state)
{
	char txt[1200];
	uint8_t out[BW_NAME_MAXLEN];

	(void)state;
	/* 63-octet label is fine, 64 is not. */
	memset(txt, 'a', 63);
	strcpy(txt + 63, ".");
	assert_int_equal(from_text(out, txt, NULL), 65);
	memset(txt, 'a', 64);
	strcpy(txt + 64, ".");
	assert_int_equal(from_text(out, txt, NULL), BW_ELABEL);
	/* 255 octets exactly, then 256. */
	txt[0] = '\0';
	for (int i = 0; i < 3; i++)
		strcat(txt, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	strcat(txt, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.");
	assert_int_equal(from_text(out, txt, NULL), 255);
	assert_int_equal(bw_name_check(out, 255), 255);
	txt[strlen(txt) - 1] = '\0';
	strcat(txt, "b.");
	assert_int_equal(from_text(out, txt, NULL), BW_ENAMELEN);
	/* Escaped octets count once. */
	txt[0] = '\0';
	for (int i = 0; i < 63; i++)
		strcat(txt, "\\255");
	strcat(txt, ".");
	assert_int_equal(from_text(out, txt, NULL), 65);
	assert_int_equal(out[1], 255);
	/* Relative name that only overflows with the origin. */
	memset(txt, 'c', 63);
	txt[63] = '\0';
	for (int i = 0; i < 2; i++)
		strcat(txt, ".ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	strcat(txt, ".dddddddddddddddddddddddddddddddddddddddddddddddddd");
	assert_int_equal(from_text(out, txt, NULL), BW_ESYNTAX);
	assert_int_equal(from_text(out, txt, origin), BW_ENAMELEN);
}

static void test_from_text_bad(void **state)
{
	static const char *const bad[] = {
		"", "..", "a..b.", ".a.", "a.\\", "\\256.", "\\12.", "\\1a3.",
		"a\\", "@",
	};
	uint8_t out[BW_NAME_MAXLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (from_text(out, bad[i], NULL) != BW_ESYNTAX)
			fail_msg("'%s' accepted", bad[i]);
	}
	assert_int_equal(from_text(out, "a..b", origin), BW_ESYNTAX);
	assert_int_equal(from_text(out, "relative", NULL), BW_ESYNTAX);
	/* Text is not NUL-terminated: only len counts. */
	assert_int_equal(bw_name_from_text(out, "ab.cd.", 3, NULL), 4);
}

static void expect_text(const char *wire, size_t len, const char *want)
{
	char buf[BW_NAME_MAXTEXT];
	uint8_t back[BW_NAME_MAXLEN];

	assert_int_equal(bw_name_check((const uint8_t *)wire, len), (int)len);
	int n = bw_name_to_text(buf, sizeof(buf), (const uint8_t *)wire);
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(from_text(back, buf, NULL), (int)len);
	assert_memory_equal(back, wire, len);
}

static void test_to_text(void **state)
{
	char buf[8];

	(void)state;
	expect_text("", 1, ".");
	expect_text("\3www\7example\3com", 17, "www.example.com.");
	expect_text("\3a.b\1c", 7, "a\\.b.c.");
	expect_text("\x0a.\\\"();@$ x", 12, "\\.\\\\\\\"\\(\\)\\;\\@\\$\\ x.");
	expect_text("\4\0\x7f\xff\x1f", 6, "\\000\\127\\255\\031.");
	expect_text("\3a-_\1*", 7, "a-_.*.");
	assert_int_equal(bw_name_to_text(buf, 1, (const uint8_t *)""),
	                 BW_ENOSPC);
	assert_int_equal(bw_name_to_text(buf, 2, (const uint8_t *)""), 1);
	assert_int_equal(bw_name_to_text(buf, 4, (const uint8_t *)"\3abc"),
	                 BW_ENOSPC);
	assert_int_equal(bw_name_to_text(buf, 5, (const uint8_t *)"\3abc"), 4);
	assert_string_equal(buf, "abc.");
	assert_int_equal(bw_name_to_text(buf, 5, (const uint8_t *)"\1\1"),
	                 BW_ENOSPC);
}

static void test_to_text_all_octets(void **state)
{
	uint8_t name[8], back[BW_NAME_MAXLEN];
	char buf[BW_NAME_MAXTEXT];

	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		memcpy(name, "\2x?\0", 4);
		name[2] = (uint8_t)c;
		int n = bw_name_to_text(buf, sizeof(buf), name);
		assert_true(n > 0);
		assert_int_equal(from_text(back, buf, NULL), 4);
		assert_memory_equal(back, name, 4);
	}
}

static void test_check(void **state)
{
	uint8_t big[300];

	(void)state;
	assert_int_equal(bw_name_check((const uint8_t *)"\3abc", 5), 5);
	assert_int_equal(bw_name_check((const uint8_t *)"\3abc", 4), BW_ETRUNC);
	assert_int_equal(bw_name_check((const uint8_t *)"\3abc", 2), BW_ETRUNC);
	assert_int_equal(bw_name_check((const uint8_t *)"", 0), BW_ETRUNC);
	assert_int_equal(bw_name_check((const uint8_t *)"\xc0\x0c", 2), BW_EMALF);
	assert_int_equal(bw_name_check((const uint8_t *)"\x40\x00", 2),
	                 BW_ELABEL);
	memset(big, 1, sizeof(big));
	for (int i = 0; i < 128; i++)
		big[2 * i] = 1;
	big[256] = 0;
	assert_int_equal(bw_name_check(big, sizeof(big)), BW_ENAMELEN);
	big[254] = 0;
	assert_int_equal(bw_name_check(big, sizeof(big)), 255);
}

static void test_basic_ops(void **state)
{
	uint8_t a[] = "\3WwW\7Example\3com";

	(void)state;
	assert_int_equal(bw_name_len((const uint8_t *)""), 1);
	assert_int_equal(bw_name_len(a), 17);
	assert_int_equal(bw_name_labels((const uint8_t *)""), 0);
	assert_int_equal(bw_name_labels(a), 3);
	assert_true(bw_name_equal(a, (const uint8_t *)"\3www\7example\3COM"));
	assert_false(bw_name_equal(a, (const uint8_t *)"\3wwx\7example\3com"));
	assert_false(bw_name_equal(a, (const uint8_t *)"\7example\3com"));
	assert_true(bw_name_is_sub(a, origin));
	assert_true(bw_name_is_sub(a, a));
	assert_true(bw_name_is_sub(a, (const uint8_t *)""));
	assert_false(bw_name_is_sub(origin, a));
	assert_false(bw_name_is_sub(a, (const uint8_t *)"\3com\3www"));
	assert_false(bw_name_is_sub((const uint8_t *)"\4xcom",
	                            (const uint8_t *)"\3com"));
	bw_name_lower(a);
	assert_memory_equal(a, "\3www\7example\3com", 17);
	uint8_t odd[] = "\2A\xc1";
	bw_name_lower(odd);
	assert_memory_equal(odd, "\2a\xc1", 4);
}

static void test_canonical_order(void **state)
{
	/* RFC 4034 §6.1, in order. */
	static const char *const sorted[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.",
		"*.z.example.", "\\200.z.example.",
	};
	uint8_t a[BW_NAME_MAXLEN], b[BW_NAME_MAXLEN];
	size_t n = sizeof(sorted) / sizeof(sorted[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		from_text(a, sorted[i], NULL);
		assert_int_equal(bw_name_cmp(a, a), 0);
		for (size_t j = 0; j < n; j++) {
			from_text(b, sorted[j], NULL);
			int d = bw_name_cmp(a, b);
			if ((i < j && d >= 0) || (i > j && d <= 0) ||
			    (i == j && d != 0))
				fail_msg("%s vs %s: %d", sorted[i], sorted[j], d);
		}
	}
	from_text(a, "A.EXAMPLE.", NULL);
	from_text(b, "a.example.", NULL);
	assert_int_equal(bw_name_cmp(a, b), 0);
	assert_true(bw_name_cmp((const uint8_t *)"", a) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_text),
		cmocka_unit_test(test_from_text_limits),
		cmocka_unit_test(test_from_text_bad),
		cmocka_unit_test(test_to_text),
		cmocka_unit_test(test_to_text_all_octets),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_basic_ops),
		cmocka_unit_test(test_canonical_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
