/*  bulwark — unit tests of the master-file parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulwark/wire.h"
#include "parser.h"

#define DATA BW_TEST_DATA "/parser/"
#define MAX_RECS 64

/* A literal wire name (the string's NUL is the root label). */
#define W(s) (const uint8_t *)(s), sizeof(s)
/* Literal rdata (without the string's NUL). */
#define RD(s) (const uint8_t *)(s), sizeof(s) - 1

struct rec {
	uint8_t owner[BW_NAME_MAXLEN];
	size_t olen;
	uint16_t type;
	uint16_t cls;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[1024];
	char file[256];
	unsigned line;
};

struct sink {
	struct rec r[MAX_RECS];
	size_t n;              /* records seen (only MAX_RECS kept) */
	size_t stop_after;     /* return -42 after this many; 0: never */
	struct bw_diag d;
};

static int collect(void *ctx, const struct bw_rr *rr)
{
	struct sink *s = ctx;

	assert_true(bw_name_check(rr->owner, BW_NAME_MAXLEN) > 0);
	if (s->n < MAX_RECS) {
		struct rec *r = &s->r[s->n];
		r->olen = bw_name_len(rr->owner);
		memcpy(r->owner, rr->owner, r->olen);
		r->type = rr->type;
		r->cls = rr->cls;
		r->ttl = rr->ttl;
		r->rdlen = rr->rdlen;
		memcpy(r->rdata, rr->rdata,
		       rr->rdlen < sizeof(r->rdata) ? rr->rdlen : sizeof(r->rdata));
		snprintf(r->file, sizeof(r->file), "%s", rr->file);
		r->line = rr->line;
	}
	s->n++;
	if (s->stop_after != 0 && s->n == s->stop_after)
		return -42;
	return 0;
}

static const uint8_t origin_example[] = "\007example";

static int parse_opts(struct sink *s, const char *text,
                      const struct bw_parse_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->d.quiet = 1;
	return bw_parse_string(text, strlen(text), "mem.zone", o, collect, s,
	                       &s->d);
}

/* Parses with origin "example." and no default TTL. */
static int parse(struct sink *s, const char *text)
{
	struct bw_parse_opts o = { .origin = origin_example };

	return parse_opts(s, text, &o);
}

static int parse_path(struct sink *s, const char *path,
                      const struct bw_parse_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->d.quiet = 1;
	return bw_parse_file(path, o, collect, s, &s->d);
}

static void check_rr(const struct rec *r, const uint8_t *owner, size_t olen,
                     uint16_t type, uint32_t ttl, const uint8_t *rd,
                     size_t rdlen, unsigned line)
{
	assert_int_equal(r->olen, olen);
	assert_memory_equal(r->owner, owner, olen);
	assert_int_equal(r->type, type);
	assert_int_equal(r->ttl, ttl);
	assert_int_equal(r->rdlen, rdlen);
	if (rdlen > 0)
		assert_memory_equal(r->rdata, rd, rdlen);
	assert_int_equal(r->line, line);
}

#define CHECK(r, owner, type, ttl, rd, line) \
	check_rr((r), W(owner), (type), (ttl), RD(rd), (line))

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

/* ---- Good input. ---- */

#define EXC "\007example\003com"

static void test_main_zone(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct bw_parse_opts o = { 0 };
	(void)state;

	assert_int_equal(parse_path(s, DATA "main.zone", &o), 0);
	assert_int_equal(s->d.errors, 0);
	assert_int_equal(s->n, 17);
	CHECK(&s->r[0], EXC, BW_TYPE_SOA, 3600,
	      "\003ns1" EXC "\000\012hostmaster" EXC "\000"
	      "\170\243\361\165" "\000\000\034\040" "\000\000\007\010"
	      "\000\011\072\200" "\000\000\001\054", 4);
	assert_int_equal(s->r[0].cls, BW_CLASS_IN);
	assert_true(ends_with(s->r[0].file, "parser/main.zone"));
	CHECK(&s->r[1], EXC, BW_TYPE_NS, 3600, "\003ns1" EXC "\000", 10);
	CHECK(&s->r[2], EXC, BW_TYPE_NS, 3600,
	      "\003ns2\007example\003net\000", 11);
	CHECK(&s->r[3], "\003ns1" EXC, BW_TYPE_A, 60, "\300\000\002\001", 12);
	CHECK(&s->r[4], "\003ns1" EXC, BW_TYPE_AAAA, 120,
	      "\040\001\015\270\0\0\0\0\0\0\0\0\0\0\0\001", 13);
	CHECK(&s->r[5], "\003www" EXC, BW_TYPE_A, 3600, "\300\000\002\120", 14);
	CHECK(&s->r[6], "\003www" EXC, BW_TYPE_TXT, 600,
	      "\013hello world\012semi;colon\007quote\"d", 15);
	CHECK(&s->r[7], "\010esc name" EXC, BW_TYPE_A, 3600,
	      "\300\000\002\007", 16);
	CHECK(&s->r[8], "\004mail" EXC, BW_TYPE_MX, 3600,
	      "\000\012\004mail" EXC "\000", 17);
	/* The included file: its own origin, the parent's $TTL. */
	CHECK(&s->r[9], "\003sub" EXC, BW_TYPE_A, 3600, "\300\000\002\144", 2);
	assert_true(ends_with(s->r[9].file, "parser/sub/inc.zone"));
	CHECK(&s->r[10], "\001x\005inner" EXC, BW_TYPE_A, 300,
	      "\300\000\002\145", 5);
	/* Its $ORIGIN and $TTL did not leak back. */
	CHECK(&s->r[11], "\005after" EXC, BW_TYPE_A, 3600,
	      "\300\000\002\011", 19);
	assert_true(ends_with(s->r[11].file, "parser/main.zone"));
	CHECK(&s->r[12], "\006host-1" EXC, BW_TYPE_A, 3600,
	      "\300\000\002\001", 20);
	CHECK(&s->r[13], "\006host-2" EXC, BW_TYPE_A, 3600,
	      "\300\000\002\002", 20);
	CHECK(&s->r[14], "\006host-3" EXC, BW_TYPE_A, 3600,
	      "\300\000\002\003", 20);
	CHECK(&s->r[15], "\003unk" EXC, 999, 3600, "\253\315\357", 21);
	CHECK(&s->r[16], "\003num" EXC, BW_TYPE_A, 3600,
	      "\300\000\002\012", 22);
	free(s);
}

static void test_parens_and_escapes(void **state)
{
	struct sink s;
	(void)state;

	assert_int_equal(parse(&s,
	        "$TTL 60\n"
	        "p ( 30 IN ) ( A\n"
	        "\t192.0.2.1 ) ; done\n"
	        "t TXT a\\;b c\\(d e\\ f g\\\"h i\\)j\n"
	        "q TXT ( \"one ( ) ;\"\n"
	        "  \"two\" )\n"
	        "a\\.b A 192.0.2.2\n"), 0);
	assert_int_equal(s.n, 4);
	CHECK(&s.r[0], "\001p\007example", BW_TYPE_A, 30,
	      "\300\000\002\001", 2);
	CHECK(&s.r[1], "\001t\007example", BW_TYPE_TXT, 60,
	      "\003a;b\003c(d\003e f\003g\"h\003i)j", 4);
	CHECK(&s.r[2], "\001q\007example", BW_TYPE_TXT, 60,
	      "\011one ( ) ;\003two", 5);
	CHECK(&s.r[3], "\003a.b\007example", BW_TYPE_A, 60,
	      "\300\000\002\002", 7);
}

static void test_owner_rules(void **state)
{
	struct sink s;
	(void)state;

	assert_int_equal(parse(&s,
	        "$TTL 60\n"
	        "@ NS ns\n"
	        "  NS ns.other.\n"
	        "abs.example. A 192.0.2.1\n"
	        "\tA 192.0.2.2\n"
	        "$ORIGIN sub.example.\n"
	        "\tA 192.0.2.3\n"
	        "w CNAME @\n"
	        "; comment only\n"
	        "   \n"
	        "\t; indented comment\n"
	        "x CNAME y\n"), 0);
	assert_int_equal(s.n, 7);
	CHECK(&s.r[0], "\007example", BW_TYPE_NS, 60,
	      "\002ns\007example\000", 2);
	CHECK(&s.r[1], "\007example", BW_TYPE_NS, 60, "\002ns\005other\000", 3);
	CHECK(&s.r[2], "\003abs\007example", BW_TYPE_A, 60,
	      "\300\000\002\001", 4);
	CHECK(&s.r[3], "\003abs\007example", BW_TYPE_A, 60,
	      "\300\000\002\002", 5);
	/* The blank owner keeps the previous owner across $ORIGIN. */
	CHECK(&s.r[4], "\003abs\007example", BW_TYPE_A, 60,
	      "\300\000\002\003", 7);
	CHECK(&s.r[5], "\001w\003sub\007example", BW_TYPE_CNAME, 60,
	      "\003sub\007example\000", 8);
	CHECK(&s.r[6], "\001x\003sub\007example", BW_TYPE_CNAME, 60,
	      "\001y\003sub\007example\000", 12);
}

static void test_ttl_rules(void **state)
{
	struct sink s;
	struct bw_parse_opts o = { .origin = origin_example,
	                           .have_default_ttl = true,
	                           .default_ttl = 86400 };
	(void)state;

	/* RFC 1035: the last explicit TTL; $TTL wins over it. */
	assert_int_equal(parse(&s,
	        "a 100 IN A 192.0.2.1\n"
	        "b A 192.0.2.2\n"
	        "$ttl 1m\n"
	        "c A 192.0.2.3\n"
	        "d IN 2h30m A 192.0.2.4\n"
	        "e A 192.0.2.5\n"), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.r[0].ttl, 100);
	assert_int_equal(s.r[1].ttl, 100);
	assert_int_equal(s.r[2].ttl, 60);
	assert_int_equal(s.r[3].ttl, 9000);
	assert_int_equal(s.r[4].ttl, 60);

	/* The caller's default comes before any explicit TTL. */
	assert_int_equal(parse_opts(&s, "a A 192.0.2.1\nb 5 A 192.0.2.2\n"
	                            "c A 192.0.2.3\n", &o), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.r[0].ttl, 86400);
	assert_int_equal(s.r[1].ttl, 5);
	assert_int_equal(s.r[2].ttl, 5);

	/* No TTL anywhere: an SOA takes its MINIMUM, as BIND does. */
	assert_int_equal(parse(&s, "@ IN SOA ns. h. 1 2 3 4 77\n"
	                       "www A 192.0.2.1\n"), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.r[0].ttl, 77);
	assert_int_equal(s.r[1].ttl, 77);
	assert_int_equal(s.d.warnings, 1);
}

static void test_class_rules(void **state)
{
	struct sink s;
	(void)state;

	assert_int_equal(parse(&s, "$TTL 60\na CH TXT x\nb TXT y\n"
	                       "c 30 CH TXT z\n"), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.r[0].cls, BW_CLASS_CH);
	assert_int_equal(s.r[1].cls, BW_CLASS_CH);
	assert_int_equal(s.r[2].cls, BW_CLASS_CH);
	assert_int_equal(s.r[2].ttl, 30);

	assert_int_equal(parse(&s, "$TTL 60\na A 192.0.2.1\nb IN A 192.0.2.2\n"),
	                 0);
	assert_int_equal(s.r[0].cls, BW_CLASS_IN);
	assert_int_equal(s.r[1].cls, BW_CLASS_IN);
}

static void test_line_endings(void **state)
{
	struct sink s;
	(void)state;

	assert_int_equal(parse(&s, "$TTL 60\r\na IN A 192.0.2.1\r\n"
	                       "b TXT \"x y\"\r\n\r\nc A 192.0.2.3"), 0);
	assert_int_equal(s.n, 3);
	CHECK(&s.r[0], "\001a\007example", BW_TYPE_A, 60,
	      "\300\000\002\001", 2);
	CHECK(&s.r[1], "\001b\007example", BW_TYPE_TXT, 60, "\003x y", 3);
	/* No final newline. */
	CHECK(&s.r[2], "\001c\007example", BW_TYPE_A, 60,
	      "\300\000\002\003", 5);

	assert_int_equal(parse(&s, ""), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(parse(&s, "\n\n  ; nothing\n\t\n"), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(parse(&s, "; no newline"), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(parse_path(&s, DATA "empty.zone", NULL), 0);
	assert_int_equal(s.n, 0);
}

static void test_long_lines(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	size_t nstr = 500, slen = 100, len = 0;
	char *text = malloc(64 + nstr * (slen + 3) + 2000000);
	(void)state;

	len += (size_t)sprintf(text, "$TTL 60\nt TXT");
	for (size_t i = 0; i < nstr; i++) {
		text[len++] = ' ';
		memset(text + len, 'a' + (char)(i % 26), slen);
		len += slen;
	}
	/* A one-megabyte comment line, then one more record. */
	text[len++] = '\n';
	text[len++] = ';';
	memset(text + len, 'x', 1000000);
	len += 1000000;
	len += (size_t)sprintf(text + len, "\nu A 192.0.2.1\n");
	s->d.quiet = 1;
	struct bw_parse_opts o = { .origin = origin_example };
	assert_int_equal(bw_parse_string(text, len, "long", &o, collect, s,
	                                 &s->d), 0);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->r[0].type, BW_TYPE_TXT);
	assert_int_equal(s->r[0].rdlen, nstr * (slen + 1));
	assert_int_equal(s->r[1].line, 4);
	free(text);
	free(s);
}

static void test_generate(void **state)
{
	struct sink s;
	(void)state;

	assert_int_equal(parse(&s,
	        "$TTL 60\n"
	        "$GENERATE 0-32/16 h${10,3}-${0,2,x}-${0,4,X} CNAME "
	        "n${0,0,n}.x\\$y\n"
	        "$generate 171-171 ${0,5,N} 30 IN PTR p${0,3,o}.\n"
	        "$GENERATE 1-2 g$ TXT \"v $\" ${-1,1,d}\n"
	        "$GENERATE 7-7 ${0,5,n} A 192.0.2.$\n"), 0);
	assert_int_equal(s.n, 7);
	CHECK(&s.r[0], "\014h010-00-0000\007example", BW_TYPE_CNAME, 60,
	      "\002n0\003x$y\007example\000", 2);
	CHECK(&s.r[1], "\014h026-10-0010\007example", BW_TYPE_CNAME, 60,
	      "\002n0\0011\003x$y\007example\000", 2);
	CHECK(&s.r[2], "\014h042-20-0020\007example", BW_TYPE_CNAME, 60,
	      "\002n0\0012\003x$y\007example\000", 2);
	CHECK(&s.r[3], "\001B\001A\0010\007example", BW_TYPE_PTR, 30,
	      "\004p253\000", 3);
	assert_int_equal(s.r[3].cls, BW_CLASS_IN);
	/* $TTL wins over the last explicit TTL. */
	CHECK(&s.r[4], "\002g1\007example", BW_TYPE_TXT, 60, "\003v 1\0010", 4);
	CHECK(&s.r[5], "\002g2\007example", BW_TYPE_TXT, 60, "\003v 2\0011", 4);
	/* Width 5 pads with "0" labels: "7.0.0". */
	CHECK(&s.r[6], "\0017\0010\0010\007example", BW_TYPE_A, 60,
	      "\300\000\002\007", 5);
}

static void test_callback_stops(void **state)
{
	struct sink s;
	struct bw_parse_opts o = { .origin = origin_example };
	const char *text = "$TTL 60\na A 192.0.2.1\nb A 192.0.2.2\n"
	                   "c A 192.0.2.3\n";
	(void)state;

	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	s.d.quiet = 1;
	assert_int_equal(bw_parse_string(text, strlen(text), "x", &o, collect,
	                                 &s, &s.d), -42);
	assert_int_equal(s.n, 2);
}

/* ---- Includes. ---- */

static void test_include_from_string(void **state)
{
	struct sink s;
	const char *text = "$ORIGIN example.com.\n$TTL 10\n"
	                   "$INCLUDE sub/inc.zone\n";
	(void)state;

	memset(&s, 0, sizeof(s));
	s.d.quiet = 1;
	assert_int_equal(bw_parse_string(text, strlen(text), DATA "mem.zone",
	                                 NULL, collect, &s, &s.d), 0);
	assert_int_equal(s.n, 2);
	CHECK(&s.r[0], EXC, BW_TYPE_A, 10, "\300\000\002\144", 2);
	CHECK(&s.r[1], "\001x\005inner" EXC, BW_TYPE_A, 300,
	      "\300\000\002\145", 5);
}

static void test_include_errors(void **state)
{
	struct sink s;
	struct bw_parse_opts o = { .origin = origin_example };
	(void)state;

	assert_int_equal(parse_path(&s, DATA "loop_a.zone", NULL), BW_EDEPTH);
	assert_int_equal(s.d.first_line, 2);
	assert_true(ends_with(s.d.first_file, "loop_b.zone"));
	assert_non_null(strstr(s.d.first_msg, "$INCLUDE loop"));
	assert_int_equal(s.n, 2);

	assert_int_equal(parse_path(&s, DATA "self.zone", NULL), BW_EDEPTH);
	assert_int_equal(s.d.first_line, 1);
	assert_non_null(strstr(s.d.first_msg, "$INCLUDE loop"));

	assert_int_equal(parse_path(&s, DATA "missing_inc.zone", NULL),
	                 BW_ENOENT);
	assert_int_equal(s.d.first_line, 3);
	assert_non_null(strstr(s.d.first_msg, "cannot read"));
	assert_non_null(strstr(s.d.first_msg, "does-not-exist.zone"));
	assert_int_equal(s.n, 1);

	/* depth0 includes depth1 ... depth9: ten files, nine $INCLUDEs. */
	assert_int_equal(parse_path(&s, DATA "depth0.zone", &o), BW_EDEPTH);
	assert_true(ends_with(s.d.first_file, "depth8.zone"));
	assert_int_equal(s.d.first_line, 1);
	assert_non_null(strstr(s.d.first_msg, "$INCLUDE nesting deeper than 8"));
	assert_int_equal(s.n, 9);
	assert_int_equal(s.d.errors, 1);

	o.include_depth = 3;
	assert_int_equal(parse_path(&s, DATA "depth0.zone", &o), BW_EDEPTH);
	assert_true(ends_with(s.d.first_file, "depth3.zone"));
	assert_non_null(strstr(s.d.first_msg, "deeper than 3"));

	o.include_depth = 9;
	assert_int_equal(parse_path(&s, DATA "depth0.zone", &o), 0);
	assert_int_equal(s.n, 10);
	CHECK(&s.r[0], "\002r9\007example", BW_TYPE_A, 60,
	      "\300\000\002\011", 1);

	assert_int_equal(parse_path(&s, DATA "no-such.zone", NULL), BW_ENOENT);
	assert_int_equal(s.d.errors, 1);
	assert_non_null(strstr(s.d.first_msg, "cannot read"));
	assert_int_equal(parse_path(&s, DATA, NULL), -EISDIR);
}

/* ---- Bad input. ---- */

struct bad_case {
	const char *text;
	size_t len;
	unsigned line;        /* of the first error */
	const char *msg;      /* part of its message */
	size_t nrec;          /* records from the good entries */
};

#define GOOD "$TTL 60\na A 192.0.2.1\n"
#define BAD(text, line, msg, nrec) { text, sizeof(text) - 1, line, msg, nrec }

static const struct bad_case bad_cases[] = {
	BAD(GOOD "www IN AAA 1.2.3.4\n", 3, "unknown RR type 'AAA'", 1),
	BAD("www 1x IN A 192.0.2.1\n", 1, "bad TTL '1x'", 0),
	BAD(GOOD "www A 192.0.2.1 )\n", 3, "unbalanced ')'", 1),
	BAD(GOOD ")\n", 3, "unbalanced ')'", 1),
	BAD(GOOD "www A ( 192.0.2.1\n\n", 3, "unbalanced '('", 1),
	BAD(GOOD "(\n", 3, "unbalanced '('", 1),
	BAD(GOOD "w TXT \"abc\ndef\"\n", 3, "newline inside quoted string", 1),
	BAD(GOOD "w TXT \"abc", 3, "unterminated quoted string", 1),
	BAD(GOOD "$FOO bar\n", 3, "unknown directive '$FOO'", 1),
	BAD(" 60 IN A 192.0.2.1\n" GOOD, 1, "no previous owner for blank owner",
	  1),
	BAD(GOOD "w A 192.0.2.300\n", 3, "A: ", 1),
	BAD("w IN A 192.0.2.1\n", 1, "no TTL specified", 0),
	BAD(GOOD "b CH A 192.0.2.2\n", 3, "class CH differs from zone class IN",
	  1),
	BAD(GOOD "b A 192.0.2.2\0\n", 3, "NUL byte", 1),
	BAD(GOOD "b 60 IN\0 A 192.0.2.1\nc A 192.0.2.3\n", 3, "NUL byte", 2),
	BAD(GOOD "b TXT \"a\0b\"\n", 3, "NUL byte", 1),
	BAD(GOOD "$ORIGIN\n", 3, "usage: $ORIGIN name", 1),
	BAD(GOOD "$ORIGIN a. b.\n", 3, "usage: $ORIGIN", 1),
	BAD(GOOD "$TTL 1x\n", 3, "bad TTL '1x'", 1),
	BAD(GOOD "$TTL\n", 3, "usage: $TTL", 1),
	BAD(GOOD "$INCLUDE\n", 3, "usage: $INCLUDE", 1),
	BAD(GOOD "$INCLUDE a b c\n", 3, "usage: $INCLUDE", 1),
	BAD(GOOD "$INCLUDE /nonexistent/x.zone\n", 3, "cannot read", 1),
	BAD(GOOD "$INCLUDE x.zone a..b\n", 3, "bad name 'a..b'", 1),
	BAD(GOOD "w IN IN A 192.0.2.1\n", 3, "duplicate class 'IN'", 1),
	BAD(GOOD "w 60 IN\n", 3, "missing RR type", 1),
	BAD(GOOD "w\n", 3, "missing RR type", 1),
	BAD(GOOD "w OPT \\# 0\n", 3, "'OPT' is not allowed", 1),
	BAD(GOOD "w IN ANY \\# 0\n", 3, "'ANY' is not allowed", 1),
	BAD(GOOD "w ANY A 192.0.2.1\n", 3, "class 'ANY' is not allowed", 1),
	BAD(GOOD "w NONE A 192.0.2.1\n", 3, "class 'NONE' is not allowed", 1),
	BAD(GOOD "w A\n", 3, "A: ", 1),
	BAD(GOOD "w A 192.0.2.1 192.0.2.2\n", 3, "A: ", 1),
	BAD(GOOD "w 60 60 A 192.0.2.1\n", 3, "unknown RR type '60'", 1),
	BAD(GOOD "w TYPE70000 \\# 0\n", 3, "unknown RR type 'TYPE70000'", 1),
	BAD(GOOD "w TYPE999 \\# 3 abcd\n", 3, "TYPE999: ", 1),
	BAD(GOOD "w \"A\" 192.0.2.1\n", 3, "unknown RR type 'A'", 1),
	BAD(GOOD "w CNAME a..b\n", 3, "CNAME: ", 1),
	BAD(GOOD "a..b A 192.0.2.1\n", 3, "bad name 'a..b'", 1),
	BAD(GOOD "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  " A 192.0.2.1\n", 3, "bad name 'aaaa", 1),
	BAD(GOOD "w\\\n A 192.0.2.1\n", 3, "bad name", 2),
	BAD(GOOD "w SOA ns. h. (\n 1 2 3 4 5\n ) )\n", 5, "unbalanced ')'", 1),
	BAD(GOOD "w (\n 1x\n IN A 192.0.2.1 )\n", 4, "bad TTL '1x'", 1),
	BAD(GOOD "w SOA ns. h. (\n 1 2 3 4 )\n", 3, "SOA: ", 1),
	BAD(GOOD "b AAA x\nc A 192.0.2.3\n", 3, "unknown RR type 'AAA'", 2),
	BAD("$TTL 60\r\na A 192.0.2.1\r\nb A 1.2.3\r\n", 3, "A: ", 1),
	BAD(GOOD "$GENERATE 1-10\n", 3, "usage: $GENERATE", 1),
	BAD(GOOD "$GENERATE 10-1 h$ A 192.0.2.$\n", 3, "bad $GENERATE range", 1),
	BAD(GOOD "$GENERATE 1-x h$ A 192.0.2.$\n", 3,
	  "bad $GENERATE range '1-x'", 1),
	BAD(GOOD "$GENERATE 0-70000 h$ A 192.0.2.1\n", 3, "more than 65536", 1),
	BAD(GOOD "$GENERATE 1-2/0 h$ A 192.0.2.1\n", 3, "step 0", 1),
	BAD(GOOD "$GENERATE 1-3 h${1,2,q} A 192.0.2.1\n", 3,
	  "bad $GENERATE modifier '${1,2,q}'", 1),
	BAD(GOOD "$GENERATE 1-3 h${1 A 192.0.2.1\n", 3,
	  "bad $GENERATE modifier", 1),
	BAD(GOOD "$GENERATE 1-3 h$ A 192.0.2.${0,999}\n", 3,
	  "bad $GENERATE modifier", 1),
	BAD(GOOD "$GENERATE 250-260 h$ A 192.0.2.$\n", 3, "A: ", 1),
	BAD(GOOD "$GENERATE 1-3 h${-5} A 192.0.2.1\n", 3, "negative", 1),
	BAD(GOOD "$GENERATE 1-3 h$ AAA x\n", 3, "unknown RR type 'AAA'", 1),
	BAD(GOOD "$GENERATE 1-3 h$ CH TXT x\n", 3, "class CH differs", 1),
	BAD(GOOD "$GENERATE 1-3 h$ A\n", 3, "usage: $GENERATE", 1),
	BAD(GOOD "$GENERATE 1-3 h$ 60 A\n", 3, "needs rdata", 1),
	BAD(GOOD "$GENERATE 1-3 h$.. A 192.0.2.1\n", 3, "bad name 'h1..'", 1),
};

static void test_bad_inputs(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct bw_parse_opts o = { .origin = origin_example };
		struct sink s;
		memset(&s, 0, sizeof(s));
		s.d.quiet = 1;
		int ret = bw_parse_string(c->text, c->len, "bad.zone", &o, collect,
		                          &s, &s.d);
		if (ret >= 0 || s.d.first_line != c->line ||
		    strstr(s.d.first_msg, c->msg) == NULL || s.n != c->nrec)
			print_error("case %zu: ret %d line %u msg '%s' recs %zu\n",
			            i, ret, s.d.first_line, s.d.first_msg, s.n);
		assert_true(ret < 0);
		assert_int_equal(s.d.first_line, c->line);
		assert_non_null(strstr(s.d.first_msg, c->msg));
		assert_int_equal(s.n, c->nrec);
	}
}

static void test_relative_without_origin(void **state)
{
	struct sink s;
	struct bw_parse_opts o = { .have_default_ttl = true, .default_ttl = 1 };
	(void)state;

	assert_true(parse_opts(&s, "www A 192.0.2.1\n", &o) < 0);
	assert_non_null(strstr(s.d.first_msg,
	                       "relative name 'www' and no $ORIGIN"));
	assert_true(parse_opts(&s, "@ A 192.0.2.1\n", &o) < 0);
	assert_non_null(strstr(s.d.first_msg, "relative name '@'"));
	assert_true(parse_opts(&s, "$ORIGIN foo\n", &o) < 0);
	assert_non_null(strstr(s.d.first_msg, "relative name 'foo'"));
	assert_int_equal(parse_opts(&s, "www.example. A 192.0.2.1\n", &o), 0);
	assert_int_equal(s.n, 1);
}

static void test_many_errors(void **state)
{
	struct sink s;
	(void)state;

	assert_true(parse(&s,
	        "$TTL 60\n"
	        "a 1x A 192.0.2.1\n"
	        "b A 192.0.2.2\n"
	        "c AAA x\n"
	        "d A (\n"
	        "  192.0.2.300 )\n"
	        "e A 192.0.2.5\n"
	        "$BAD\n") < 0);
	assert_int_equal(s.d.errors, 4);
	assert_int_equal(s.d.first_line, 2);
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.r[0].owner, "\001b", 2);
	assert_memory_equal(s.r[1].owner, "\001e", 2);
	assert_int_equal(s.r[1].line, 7);
}

/* ---- Random input. ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static const char *const fuzz_seeds[] = {
	"$ORIGIN example.\n$TTL 1h\n@ IN SOA ns h ( 1 2 3 4 5 ) ; c\n"
	"\tNS ns\nns 60 IN A 192.0.2.1\nw TXT \"a b\" c\\;d\n",
	"$GENERATE 1-20/3 h${1,3,x} 30 IN A 192.0.2.$\n"
	"$GENERATE 0-4 ${0,4,n} PTR h$.\n",
	"x CH 60 TXT \"q\\\"\" ( \"w\" )\r\ny TYPE99 \\# 2 abcd\r\n"
	"z MX 10 @\n  AAAA 2001:db8::1\n",
};

static int count_only(void *ctx, const struct bw_rr *rr)
{
	size_t *n = ctx;

	assert_true(bw_name_check(rr->owner, BW_NAME_MAXLEN) > 0);
	(*n)++;
	return 0;
}

static size_t mutate(char *buf, size_t len, size_t cap)
{
	static const char special[] = "()\"\\;\n $@{},.0123456789\r\t";
	unsigned rounds = 1 + rng() % 4;

	for (unsigned k = 0; k < rounds; k++) {
		size_t pos = len ? rng() % len : 0;
		switch (rng() % 8) {
		case 0:
			if (len)
				buf[pos] = (char)rng();
			break;
		case 1:
			if (len)
				buf[pos] = special[rng() % (sizeof(special) - 1)];
			break;
		case 2:
			if (len < cap) {
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = special[rng() % sizeof(special)];
				len++;
			}
			break;
		case 3: {
			size_t n = rng() % 8;
			n = n > len - pos ? len - pos : n;
			memmove(buf + pos, buf + pos + n, len - pos - n);
			len -= n;
			break;
		}
		case 4:
			len = pos;
			break;
		default: {
			/* Repeat a piece of the text somewhere else. */
			size_t from = len ? rng() % len : 0, n = rng() % 16;
			n = n > len - from ? len - from : n;
			n = n > cap - len ? cap - len : n;
			memmove(buf + pos + n, buf + pos, len - pos);
			memmove(buf + pos, buf + (from < pos ? from : from + n), n);
			len += n;
			break;
		}
		}
	}
	return len;
}

static void test_fuzz(void **state)
{
	struct bw_parse_opts o = { .origin = origin_example };
	char work[512];
	size_t records = 0, failed = 0;
	(void)state;

	for (unsigned iter = 0; iter < 4000; iter++) {
		const char *seed = fuzz_seeds[iter % 3];
		size_t len = strlen(seed);
		memcpy(work, seed, len);
		len = mutate(work, len, sizeof(work));
		/* An exact-size copy, so that reading past it is caught. */
		char *text = malloc(len ? len : 1);
		memcpy(text, work, len);
		struct bw_diag d = { .quiet = 1 };
		size_t n = 0;
		o.include_depth = 1 + iter % 3;
		int ret = bw_parse_string(text, len, "/nonexistent/fuzz", &o,
		                          count_only, &n, &d);
		assert_true(ret <= 0);
		assert_int_equal(ret < 0, d.errors > 0);
		records += n;
		failed += ret < 0;
		free(text);
	}
	/* The mutations reach both paths. */
	print_message("fuzz: %zu records, %zu of 4000 inputs failed\n",
	              records, failed);
	assert_true(records > 1000);
	assert_true(failed > 1000 && failed < 3900);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_zone),
		cmocka_unit_test(test_parens_and_escapes),
		cmocka_unit_test(test_owner_rules),
		cmocka_unit_test(test_ttl_rules),
		cmocka_unit_test(test_class_rules),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_include_from_string),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_relative_without_origin),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
