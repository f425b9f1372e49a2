/*  bulwark — unit tests of the JSON tree (parser, builder, writer).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulwark/err.h"
#include "json.h"

/* ---- Helpers. ---- */

static struct bw_json *parse_good(const char *text)
{
	struct bw_json *v = NULL;
	char err[128];
	int rc = bw_json_parse(text, strlen(text), &v, err, sizeof(err));

	if (rc != 0)
		fail_msg("'%s': unexpected error %d: %s", text, rc, err);
	assert_non_null(v);
	return v;
}

/* Asserts that \a v dumps to exactly \a want; frees \a v. */
static void dump_is(struct bw_json *v, unsigned flags, const char *want)
{
	size_t len = 0;
	char *text = bw_json_dump(v, flags, &len);

	assert_non_null(text);
	assert_string_equal(text, want);
	assert_int_equal(len, strlen(want));
	free(text);
	bw_json_free(v);
}

/* Asserts that \a text parses and dumps (compact) to itself. */
static void round_trip(const char *text)
{
	dump_is(parse_good(text), 0, text);
}

/* Asserts that \a len octets of \a text fail with \a rc and \a msg. */
static void parse_bad(const char *text, size_t len, int rc, const char *msg)
{
	struct bw_json *v = (struct bw_json *)&v;
	char err[128];

	assert_int_equal(bw_json_parse(text, len, &v, err, sizeof(err)), rc);
	assert_null(v);
	if (strcmp(err, msg) != 0)
		fail_msg("'%s': expected '%s', got '%s'", text, msg, err);
}

/* Asserts that \a text is a string holding exactly \a len octets of
 * \a want. */
static void parse_str_is(const char *text, const char *want, size_t len)
{
	struct bw_json *v = parse_good(text);

	assert_int_equal(v->type, BW_JSON_STR);
	assert_int_equal(v->len, len);
	assert_memory_equal(v->str, want, len);
	assert_int_equal(v->str[len], '\0');
	bw_json_free(v);
}

/* Asserts that the string \a s (\a len octets) is written as \a want. */
static void write_str_is(const char *s, size_t len, const char *want)
{
	dump_is(bw_json_strn(s, len), 0, want);
}

/* ---- Round trips and building. ---- */

static void test_round_trip(void **state)
{
	(void)state;
	round_trip("null");
	round_trip("true");
	round_trip("false");
	round_trip("0");
	round_trip("-0");
	round_trip("-12.50e+3");
	round_trip("1E400");
	round_trip("\"\"");
	round_trip("\"text\"");
	round_trip("[]");
	round_trip("{}");
	round_trip("[1,\"a\",null,[true,{}]]");
	round_trip("{\"b\":1,\"a\":[1,2,{\"c\":null}],\"\":\"s\"}");
	dump_is(parse_good(" \t\r\n{ \"a\" : [ 1 , 2 ] ,\"b\":{ } } \n"), 0,
	        "{\"a\":[1,2],\"b\":{}}");
}

static void test_build(void **state)
{
	struct bw_json *o = bw_json_obj(), *a = bw_json_arr();

	(void)state;
	bw_json_set_str(o, "s", "text");
	bw_json_set_u64(o, "u", 42);
	bw_json_set_i64(o, "i", -5);
	bw_json_set_bool(o, "t", true);
	bw_json_set_bool(o, "f", false);
	bw_json_set(o, "n", bw_json_null());
	bw_json_set(o, "x", bw_json_strn("abcdef", 3));
	bw_json_push(a, bw_json_f64(1.23456, 3));
	bw_json_push(a, bw_json_f64(2.0, 0));
	bw_json_push(a, bw_json_f64(-0.5, 2));
	bw_json_push(a, bw_json_f64(NAN, 2));
	bw_json_push(a, bw_json_f64(INFINITY, 2));
	bw_json_push(a, bw_json_i64(INT64_MIN));
	bw_json_set(o, "a", a);
	assert_false(o->failed);
	dump_is(o, 0, "{\"s\":\"text\",\"u\":42,\"i\":-5,\"t\":true,\"f\":false,"
	        "\"n\":null,\"x\":\"abc\",\"a\":[1.235,2,-0.50,null,null,"
	        "-9223372036854775808]}");
}

static void test_set_replaces(void **state)
{
	struct bw_json *o = bw_json_obj();

	(void)state;
	bw_json_set_u64(o, "a", 1);
	bw_json_set_u64(o, "b", 2);
	bw_json_set_str(o, "a", "x");
	assert_int_equal(o->n, 2);
	dump_is(o, 0, "{\"a\":\"x\",\"b\":2}");
}

static void test_get(void **state)
{
	struct bw_json *v = parse_good("{\"s\":\"x\",\"n\":1,\"o\":{\"k\":[]}}");
	const struct bw_json *o = bw_json_get(v, "o");

	(void)state;
	assert_non_null(o);
	assert_int_equal(o->type, BW_JSON_OBJ);
	assert_int_equal(bw_json_get(o, "k")->type, BW_JSON_ARR);
	assert_string_equal(bw_json_get_str(v, "s"), "x");
	assert_null(bw_json_get_str(v, "n"));
	assert_null(bw_json_get_str(v, "none"));
	assert_null(bw_json_get(v, "none"));
	assert_null(bw_json_get(bw_json_get(o, "k"), "k"));
	assert_null(bw_json_get(NULL, "k"));
	bw_json_free(v);
}

static void test_copy(void **state)
{
	struct bw_json *v = parse_good("{\"a\":[1,\"\\u00e9\",{\"b\":null}],"
	                               "\"c\":true,\"d\":-1.5}");
	struct bw_json *c = bw_json_copy(v);

	(void)state;
	assert_non_null(c);
	bw_json_free(v);
	dump_is(c, 0, "{\"a\":[1,\"\xc3\xa9\",{\"b\":null}],\"c\":true,\"d\":-1.5}");
	assert_null(bw_json_copy(NULL));
	v = parse_good("false");
	dump_is(bw_json_copy(v), 0, "false");
	bw_json_free(v);
}

/* ---- Numbers. ---- */

static void test_u64(void **state)
{
	struct bw_json *v = parse_good("{\"max\":18446744073709551615,"
	                               "\"over\":18446744073709551616,"
	                               "\"neg\":-1,\"frac\":1.5,\"exp\":1e3,"
	                               "\"zero\":0,\"str\":\"5\",\"negz\":-0}");
	uint64_t u = 7;

	(void)state;
	assert_int_equal(bw_json_get_u64(v, "max", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(bw_json_get_u64(v, "zero", &u), 0);
	assert_true(u == 0);
	assert_int_equal(bw_json_get_u64(v, "over", &u), BW_EINVAL);
	assert_int_equal(bw_json_get_u64(v, "neg", &u), BW_EINVAL);
	assert_int_equal(bw_json_get_u64(v, "frac", &u), BW_EINVAL);
	assert_int_equal(bw_json_get_u64(v, "exp", &u), BW_EINVAL);
	assert_int_equal(bw_json_get_u64(v, "str", &u), BW_EINVAL);
	assert_int_equal(bw_json_get_u64(v, "negz", &u), BW_EINVAL);
	assert_int_equal(bw_json_get_u64(v, "absent", &u), BW_ENOENT);
	assert_true(u == 0);
	assert_int_equal(bw_json_as_u64(NULL, &u), BW_ENOENT);
	assert_int_equal(bw_json_as_u64(v, &u), BW_EINVAL);
	bw_json_free(v);

	v = bw_json_u64(UINT64_MAX);
	assert_int_equal(bw_json_as_u64(v, &u), 0);
	assert_true(u == UINT64_MAX);
	dump_is(v, 0, "18446744073709551615");
}

/* ---- Strings. ---- */

static void test_parse_escapes(void **state)
{
	(void)state;
	parse_str_is("\"a\\nb\\\"c\\\\d\\/e\"", "a\nb\"c\\d/e", 9);
	parse_str_is("\"\\b\\f\\r\\t\"", "\b\f\r\t", 4);
	parse_str_is("\"\\u00e9\\u00C9\"", "\xc3\xa9\xc3\x89", 4);
	parse_str_is("\"\\u0041\\u07ff\\uffff\"", "A\xdf\xbf\xef\xbf\xbf", 6);
	parse_str_is("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
	parse_str_is("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
	parse_str_is("\"\xc3\xa9\xf0\x9f\x98\x80\x7f\"",
	             "\xc3\xa9\xf0\x9f\x98\x80\x7f", 7);
}

static void test_write_escapes(void **state)
{
	(void)state;
	write_str_is("a\nb\"c\\d/e", 9, "\"a\\nb\\\"c\\\\d/e\"");
	write_str_is("\b\f\r\t\x01\x1f\x7f", 7,
	             "\"\\b\\f\\r\\t\\u0001\\u001f\\u007f\"");
	write_str_is("a\0b", 3, "\"a\\u0000b\"");
	write_str_is("\xc3\xa9\xf0\x9f\x98\x80", 6, "\"\xc3\xa9\xf0\x9f\x98\x80\"");
	write_str_is("\xff", 1, "\"\\u00ff\"");
	write_str_is("a\xc3", 2, "\"a\\u00c3\"");              /* Cut short. */
	write_str_is("\xc0\xaf", 2, "\"\\u00c0\\u00af\"");     /* Overlong. */
	write_str_is("\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"");
	write_str_is("\xf4\x90\x80\x80", 4,                    /* > U+10FFFF. */
	             "\"\\u00f4\\u0090\\u0080\\u0080\"");
	dump_is(bw_json_str("k\xff"), 0, "\"k\\u00ff\"");
}

/* Invalid octets come back as the code points of their values. */
static void test_write_then_parse(void **state)
{
	struct bw_json *o = bw_json_obj();
	char *text;

	(void)state;
	bw_json_set_str(o, "k\n", "x\xff\"\\/\t\xc3\xa9");
	text = bw_json_dump(o, 0, NULL);
	assert_non_null(text);
	assert_string_equal(text,
	                    "{\"k\\n\":\"x\\u00ff\\\"\\\\/\\t\xc3\xa9\"}");
	bw_json_free(o);
	o = parse_good(text);
	assert_string_equal(bw_json_get_str(o, "k\n"),
	                    "x\xc3\xbf\"\\/\t\xc3\xa9");
	free(text);
	bw_json_free(o);
}

/* ---- Parser errors. ---- */

static void test_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "", "offset 0: unexpected end of input" },
		{ "  ", "offset 2: unexpected end of input" },
		{ "{\"a\":1", "offset 6: expected ',' or '}'" },
		{ "{\"a\":", "offset 5: unexpected end of input" },
		{ "[1,2", "offset 4: expected ',' or ']'" },
		{ "[1,]", "offset 3: unexpected character ']'" },
		{ "\"abc", "offset 0: unterminated string" },
		{ "[\"a\\", "offset 3: invalid escape" },
		{ "{} x", "offset 3: trailing garbage" },
		{ "1 2", "offset 2: trailing garbage" },
		{ "truex", "offset 4: trailing garbage" },
		{ "{\"a\":1,\"a\":2}", "offset 7: duplicate key 'a'" },
		{ "{\"a\":{\"b\":1, \"b\":1}}", "offset 13: duplicate key 'b'" },
		{ "\"\\ud83d\"", "offset 1: lone surrogate" },
		{ "\"\\ud83dx\"", "offset 1: lone surrogate" },
		{ "\"\\ud83d\\u0041\"", "offset 1: lone surrogate" },
		{ "\"\\ude00\"", "offset 1: lone surrogate" },
		{ "\"\\u0000\"", "offset 1: \\u0000 is not allowed" },
		{ "\"\\u12\"", "offset 1: invalid \\u escape" },
		{ "\"\\u00g0\"", "offset 1: invalid \\u escape" },
		{ "\"\\x\"", "offset 1: invalid escape" },
		{ "\"a\tb\"", "offset 2: control character in string" },
		{ "\"a\nb\"", "offset 2: control character in string" },
		{ "\"\xff\"", "offset 1: invalid UTF-8" },
		{ "\"a\xc3\"", "offset 2: invalid UTF-8" },
		{ "\"\xc0\xaf\"", "offset 1: invalid UTF-8" },
		{ "\"\xed\xa0\x80\"", "offset 1: invalid UTF-8" },
		{ "01", "offset 0: leading zero in number" },
		{ "-01", "offset 0: leading zero in number" },
		{ "-", "offset 1: digit expected" },
		{ "+1", "offset 0: unexpected character '+'" },
		{ ".5", "offset 0: unexpected character '.'" },
		{ "1.", "offset 2: digit expected after '.'" },
		{ "1e", "offset 2: digit expected in exponent" },
		{ "1e+", "offset 3: digit expected in exponent" },
		{ "hello", "offset 0: invalid literal" },
		{ "tru", "offset 0: invalid literal" },
		{ "[True]", "offset 1: invalid literal" },
		{ "'a'", "offset 0: unexpected character '''" },
		{ "{1:2}", "offset 1: expected a string key" },
		{ "{\"a\" 1}", "offset 5: expected ':'" },
		{ "{\"a\":1,}", "offset 7: expected a string key" },
		{ "\xef\xbb\xbf{}", "offset 0: unexpected octet 0xef" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_bad(cases[i].text, strlen(cases[i].text), BW_ESYNTAX,
		          cases[i].msg);
	parse_bad("[\0]", 3, BW_ESYNTAX, "offset 1: unexpected octet 0x00");
	parse_bad("\"a\0\"", 4, BW_ESYNTAX,
	          "offset 2: control character in string");
	parse_bad("{}", 1, BW_ESYNTAX, "offset 1: expected a string key");
}

/* \a n arrays, one in the other. */
static char *nested(size_t n)
{
	char *s = malloc(2 * n + 1);

	assert_non_null(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	return s;
}

static void test_depth(void **state)
{
	char *ok = nested(BW_JSON_DEPTH_MAX), *deep = nested(BW_JSON_DEPTH_MAX + 1);

	(void)state;
	round_trip(ok);
	parse_bad(deep, strlen(deep), BW_EDEPTH,
	          "offset 32: nesting deeper than 32");
	free(ok);
	free(deep);
	/* Objects count as well: 4 levels, then 29 arrays. */
	ok = malloc(128);
	assert_non_null(ok);
	deep = nested(29);
	snprintf(ok, 128, "[{\"a\":[{\"b\":%s}]}]", deep);
	parse_bad(ok, strlen(ok), BW_EDEPTH, "offset 40: nesting deeper than 32");
	free(ok);
	free(deep);
}

/* A short or absent err buffer is safe. */
static void test_err_buffer(void **state)
{
	struct bw_json *v;
	char err[8];

	(void)state;
	assert_int_equal(bw_json_parse("[1,", 3, &v, err, sizeof(err)),
	                 BW_ESYNTAX);
	assert_string_equal(err, "offset ");
	assert_int_equal(bw_json_parse("[1,", 3, &v, NULL, 0), BW_ESYNTAX);
	assert_null(v);
	assert_int_equal(bw_json_parse("[1]", 3, &v, NULL, 0), 0);
	bw_json_free(v);
}

/* ---- Writer. ---- */

static void test_pretty(void **state)
{
	struct bw_json *v = parse_good("{\"a\":1,\"b\":[true,null],\"c\":{},"
	                               "\"d\":{\"e\":\"x\"},\"f\":[]}");

	(void)state;
	dump_is(v, BW_JSON_PRETTY,
	        "{\n"
	        "  \"a\": 1,\n"
	        "  \"b\": [\n"
	        "    true,\n"
	        "    null\n"
	        "  ],\n"
	        "  \"c\": {},\n"
	        "  \"d\": {\n"
	        "    \"e\": \"x\"\n"
	        "  },\n"
	        "  \"f\": []\n"
	        "}");
	dump_is(bw_json_u64(3), BW_JSON_PRETTY, "3");
}

static void dump_fails(struct bw_json *v)
{
	size_t len = 99;

	assert_null(bw_json_dump(v, 0, &len));
	assert_null(bw_json_dump(v, BW_JSON_PRETTY, NULL));
	assert_int_equal(len, 99);
	bw_json_free(v);
}

static void test_failed(void **state)
{
	struct bw_json *o = bw_json_obj(), *a = bw_json_arr();

	(void)state;
	bw_json_set_u64(o, "a", 1);
	bw_json_set(o, "k", NULL);
	assert_true(o->failed);
	bw_json_push(a, o);
	assert_false(a->failed);
	dump_fails(a);                     /* A failed item fails the tree. */

	a = bw_json_arr();
	bw_json_push(a, NULL);
	assert_true(a->failed);
	dump_fails(a);

	o = bw_json_obj();
	bw_json_set_u64(o, "k", 1);
	bw_json_set(o, "k", NULL);        /* Replacing by NULL fails too. */
	dump_fails(o);

	o = bw_json_obj();
	bw_json_set_str(o, "s", NULL);
	dump_fails(o);

	a = bw_json_arr();
	bw_json_set_u64(a, "k", 1);       /* Not an object. */
	dump_fails(a);

	bw_json_set_u64(NULL, "k", 1);    /* Nothing to mark; no leak. */
	bw_json_push(NULL, bw_json_null());
	assert_null(bw_json_dump(NULL, 0, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_set_replaces),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_parse_escapes),
		cmocka_unit_test(test_write_escapes),
		cmocka_unit_test(test_write_then_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
