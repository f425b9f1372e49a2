/*  bulwark — unit tests of the control protocol's messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulwark/err.h"
#include "ctl_proto.h"

/* ---- Helpers. ---- */

static void decode_good(const char *line, struct bw_ctl_request *req)
{
	const char *code = NULL;
	char err[256];
	int rc = bw_ctl_decode_request(line, strlen(line), req, &code, err,
	                               sizeof(err));

	if (rc != 0)
		fail_msg("'%s': unexpected %s: %s", line, code, err);
	assert_non_null(req->tree);
	assert_non_null(req->command);
	assert_non_null(req->args);
	assert_int_equal(req->args->type, BW_JSON_OBJ);
}

/* Asserts that \a line is refused with \a code and a reason holding
 * \a msg. */
static void decode_bad(const char *line, const char *code, const char *msg)
{
	struct bw_ctl_request req;
	const char *got = NULL;
	char err[256];
	int rc = bw_ctl_decode_request(line, strlen(line), &req, &got, err,
	                               sizeof(err));

	assert_int_equal(rc, BW_EINVAL);
	assert_null(req.tree);
	assert_null(req.command);
	assert_non_null(got);
	if (strcmp(got, code) != 0 || strstr(err, msg) == NULL)
		fail_msg("'%s': expected %s '%s', got %s '%s'", line, code, msg,
		         got, err);
}

/* Asserts that \a text is \a want, newline included, and frees it;
 * \a len is read after the call that made \a text. */
static void line_is(char *text, const size_t *len, const char *want)
{
	assert_non_null(text);
	assert_string_equal(text, want);
	assert_int_equal(*len, strlen(want));
	free(text);
}

static void reply_good(const char *line, struct bw_ctl_reply *rep)
{
	char err[256];
	int rc = bw_ctl_decode_reply(line, strlen(line), rep, err, sizeof(err));

	if (rc != 0)
		fail_msg("'%s': unexpected error: %s", line, err);
	assert_non_null(rep->tree);
}

static void reply_bad(const char *line, const char *msg)
{
	struct bw_ctl_reply rep;
	char err[256];
	int rc = bw_ctl_decode_reply(line, strlen(line), &rep, err, sizeof(err));

	assert_int_equal(rc, BW_EINVAL);
	assert_null(rep.tree);
	if (strstr(err, msg) == NULL)
		fail_msg("'%s': expected '%s', got '%s'", line, msg, err);
}

/* ---- Requests. ---- */

static void test_decode_request(void **state)
{
	struct bw_ctl_request req;

	(void)state;
	decode_good("{\"version\":1,\"command\":\"zone-load\",\"id\":7,"
	            "\"args\":{\"zone\":\"example.com.\",\"table\":\"/x.bwz\"}}",
	            &req);
	assert_string_equal(req.command, "zone-load");
	assert_int_equal(req.args->n, 2);
	assert_string_equal(bw_json_get_str(req.args, "zone"), "example.com.");
	assert_non_null(req.id);
	assert_int_equal(req.id->type, BW_JSON_NUM);
	assert_string_equal(req.id->str, "7");
	bw_ctl_request_clear(&req);
	assert_null(req.tree);
	bw_ctl_request_clear(&req);         /* Twice is harmless. */

	decode_good(" {\"command\":\"status\",\"version\":1} ", &req);
	assert_string_equal(req.command, "status");
	assert_int_equal(req.args->n, 0);   /* Absent: an empty object. */
	assert_null(req.id);
	bw_ctl_request_clear(&req);

	decode_good("{\"version\":1,\"command\":\"x\",\"args\":{},\"id\":null}",
	            &req);
	assert_non_null(req.id);
	assert_int_equal(req.id->type, BW_JSON_NULL);
	bw_ctl_request_clear(&req);
}

static void test_decode_request_errors(void **state)
{
	(void)state;
	decode_bad("not json", BW_CTL_EBADREQ, "offset 0: invalid literal");
	decode_bad("{\"version\":1,", BW_CTL_EBADREQ, "offset 13:");
	decode_bad("", BW_CTL_EBADREQ, "offset 0: unexpected end of input");
	decode_bad("[1]", BW_CTL_EBADREQ, "not a JSON object");
	decode_bad("\"status\"", BW_CTL_EBADREQ, "not a JSON object");
	decode_bad("{\"command\":\"status\"}", BW_CTL_EVERSION,
	           "this daemon speaks version 1");
	decode_bad("{\"version\":2,\"command\":\"status\"}", BW_CTL_EVERSION,
	           "this daemon speaks version 1");
	decode_bad("{\"version\":\"1\",\"command\":\"status\"}", BW_CTL_EVERSION,
	           "this daemon speaks version 1");
	decode_bad("{\"version\":1.0,\"command\":\"status\"}", BW_CTL_EVERSION,
	           "this daemon speaks version 1");
	decode_bad("{\"version\":1}", BW_CTL_EBADREQ,
	           "'command' must be a string");
	decode_bad("{\"version\":1,\"command\":5}", BW_CTL_EBADREQ,
	           "'command' must be a string");
	decode_bad("{\"version\":1,\"command\":\"status\",\"args\":[]}",
	           BW_CTL_EARG, "'args' must be an object");
	decode_bad("{\"version\":1,\"command\":\"status\",\"args\":null}",
	           BW_CTL_EARG, "'args' must be an object");
	decode_bad("{\"version\":1,\"command\":\"status\",\"x\":1}",
	           BW_CTL_EBADREQ, "unknown member 'x'");
	decode_bad("{\"version\":1,\"command\":\"a\",\"command\":\"b\"}",
	           BW_CTL_EBADREQ, "duplicate key 'command'");
}

static void test_check_args(void **state)
{
	static const char *const zone[] = { "zone", NULL };
	static const char *const zone_force[] = { "zone", "force", NULL };
	static const char *const table[] = { "table", NULL };
	struct bw_ctl_request req;
	char err[128];

	(void)state;
	decode_good("{\"version\":1,\"command\":\"zone-load\","
	            "\"args\":{\"zone\":\"a.\",\"table\":\"/t\"}}", &req);
	assert_int_equal(bw_ctl_check_args(req.args, zone, table, err,
	                                   sizeof(err)), 0);
	assert_int_equal(bw_ctl_check_args(req.args, NULL, zone_force, err,
	                                   sizeof(err)), BW_EINVAL);
	assert_string_equal(err, "unknown argument 'table'");
	assert_int_equal(bw_ctl_check_args(req.args, zone, NULL, err,
	                                   sizeof(err)), BW_EINVAL);
	assert_string_equal(err, "unknown argument 'table'");
	assert_int_equal(bw_ctl_check_args(req.args, zone_force, table, err,
	                                   sizeof(err)), BW_EINVAL);
	assert_string_equal(err, "missing argument 'force'");
	assert_int_equal(bw_ctl_check_args(req.args, NULL, NULL, err,
	                                   sizeof(err)), BW_EINVAL);
	assert_string_equal(err, "unknown argument 'zone'");
	bw_ctl_request_clear(&req);

	decode_good("{\"version\":1,\"command\":\"status\"}", &req);
	assert_int_equal(bw_ctl_check_args(req.args, NULL, NULL, err,
	                                   sizeof(err)), 0);
	assert_int_equal(bw_ctl_check_args(req.args, NULL, table, err,
	                                   sizeof(err)), 0);
	assert_int_equal(bw_ctl_check_args(req.args, zone, table, err,
	                                   sizeof(err)), BW_EINVAL);
	assert_string_equal(err, "missing argument 'zone'");
	bw_ctl_request_clear(&req);
}

static void test_encode_request(void **state)
{
	struct bw_json *args = bw_json_obj();
	struct bw_ctl_request req;
	size_t len;
	char *line;

	(void)state;
	bw_json_set_str(args, "zone", "example.com.");
	bw_json_set_str(args, "table", "/x.bwz");
	line = bw_ctl_encode_request("zone-load", args, &len);
	assert_non_null(line);
	assert_string_equal(line, "{\"version\":1,\"command\":\"zone-load\","
	                    "\"args\":{\"zone\":\"example.com.\","
	                    "\"table\":\"/x.bwz\"}}\n");
	assert_int_equal(len, strlen(line));
	decode_good(line, &req);             /* Parsed back (no newline). */
	assert_string_equal(bw_json_get_str(req.args, "table"), "/x.bwz");
	bw_ctl_request_clear(&req);
	free(line);

	line = bw_ctl_encode_request("status", NULL, &len);
	line_is(line, &len, "{\"version\":1,\"command\":\"status\"}\n");
	assert_null(bw_ctl_encode_request(NULL, NULL, &len));
}

/* ---- Replies. ---- */

static void test_encode_reply(void **state)
{
	struct bw_json *res = bw_json_obj(), *id = bw_json_str("abc");
	size_t len;

	(void)state;
	bw_json_set_u64(res, "n", 1);
	line_is(bw_ctl_encode_ok(NULL, res, &len), &len,
	        "{\"version\":1,\"ok\":true,\"result\":{\"n\":1}}\n");
	line_is(bw_ctl_encode_ok(NULL, NULL, &len), &len,
	        "{\"version\":1,\"ok\":true,\"result\":{}}\n");
	line_is(bw_ctl_encode_error(NULL, BW_CTL_ENOZONE, "no zone 'x.'", &len),
	        &len, "{\"version\":1,\"ok\":false,\"error\":"
	        "{\"code\":\"unknown-zone\",\"message\":\"no zone 'x.'\"}}\n");
	line_is(bw_ctl_encode_error(id, BW_CTL_ETIMEOUT, "a\nb", &len), &len,
	        "{\"version\":1,\"id\":\"abc\",\"ok\":false,\"error\":"
	        "{\"code\":\"timeout\",\"message\":\"a\\nb\"}}\n");
	bw_json_free(id);

	res = bw_json_obj();
	bw_json_set(res, "k", NULL);        /* Lost on the way: no reply. */
	assert_null(bw_ctl_encode_ok(NULL, res, &len));
}

/* The reply carries a copy of the request's id, whatever its type. */
static void test_id_echo(void **state)
{
	struct bw_ctl_request req;
	struct bw_ctl_reply rep;
	struct bw_json *res = bw_json_obj();
	size_t len;
	char *line;

	(void)state;
	decode_good("{\"id\":{\"a\":[1,\"x\"]},\"version\":1,"
	            "\"command\":\"status\"}", &req);
	bw_json_set_bool(res, "up", true);
	line = bw_ctl_encode_ok(req.id, res, &len);
	bw_ctl_request_clear(&req);
	assert_non_null(line);
	assert_string_equal(line, "{\"version\":1,\"id\":{\"a\":[1,\"x\"]},"
	                    "\"ok\":true,\"result\":{\"up\":true}}\n");

	reply_good(line, &rep);
	assert_true(rep.ok);
	assert_non_null(rep.id);
	assert_int_equal(rep.id->type, BW_JSON_OBJ);
	bw_ctl_reply_clear(&rep);
	free(line);

	decode_good("{\"version\":1,\"command\":\"x\",\"id\":18446744073709551616}",
	            &req);
	line_is(bw_ctl_encode_error(req.id, BW_CTL_ECOMMAND, "no command 'x'",
	                            &len), &len,
	        "{\"version\":1,\"id\":18446744073709551616,\"ok\":false,"
	        "\"error\":{\"code\":\"unknown-command\","
	        "\"message\":\"no command 'x'\"}}\n");
	bw_ctl_request_clear(&req);
}

static void test_decode_reply(void **state)
{
	struct bw_ctl_reply rep;
	char *line;

	(void)state;
	reply_good("{\"version\":1,\"ok\":true,\"result\":{\"zones\":[]}}", &rep);
	assert_true(rep.ok);
	assert_non_null(rep.result);
	assert_non_null(bw_json_get(rep.result, "zones"));
	assert_null(rep.code);
	assert_null(rep.id);
	bw_ctl_reply_clear(&rep);
	assert_null(rep.tree);

	line = bw_ctl_encode_error(NULL, BW_CTL_ETABLE, "x.bwz: checksum mismatch",
	                           NULL);
	assert_non_null(line);
	reply_good(line, &rep);              /* Newline is whitespace. */
	free(line);
	assert_false(rep.ok);
	assert_string_equal(rep.code, "invalid-table");
	assert_string_equal(rep.message, "x.bwz: checksum mismatch");
	bw_ctl_reply_clear(&rep);

	reply_good("{\"version\":1,\"ok\":false,\"id\":\"q\",\"later\":1,"
	           "\"error\":{\"code\":\"timeout\",\"message\":\"\"}}", &rep);
	assert_false(rep.ok);
	assert_string_equal(rep.id->str, "q");
	assert_string_equal(rep.message, "");
	bw_ctl_reply_clear(&rep);
}

static void test_decode_reply_errors(void **state)
{
	(void)state;
	reply_bad("", "offset 0: unexpected end of input");
	reply_bad("{\"version\":1,\"ok\":tru}", "offset 18: invalid literal");
	reply_bad("[]", "not a JSON object");
	reply_bad("{\"ok\":true,\"result\":{}}", "not of version 1");
	reply_bad("{\"version\":2,\"ok\":true,\"result\":{}}", "not of version 1");
	reply_bad("{\"version\":1,\"result\":{}}", "'ok' must be true or false");
	reply_bad("{\"version\":1,\"ok\":\"yes\",\"result\":{}}",
	          "'ok' must be true or false");
	reply_bad("{\"version\":1,\"ok\":true}", "'result' must be an object");
	reply_bad("{\"version\":1,\"ok\":true,\"result\":[]}",
	          "'result' must be an object");
	reply_bad("{\"version\":1,\"ok\":false}", "'error' must be an object");
	reply_bad("{\"version\":1,\"ok\":false,\"error\":\"timeout\"}",
	          "'error' must be an object");
	reply_bad("{\"version\":1,\"ok\":false,\"error\":{\"code\":\"timeout\"}}",
	          "'message'");
	reply_bad("{\"version\":1,\"ok\":false,\"error\":"
	          "{\"code\":5,\"message\":\"m\"}}", "'code'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_request),
		cmocka_unit_test(test_decode_request_errors),
		cmocka_unit_test(test_check_args),
		cmocka_unit_test(test_encode_request),
		cmocka_unit_test(test_encode_reply),
		cmocka_unit_test(test_id_echo),
		cmocka_unit_test(test_decode_reply),
		cmocka_unit_test(test_decode_reply_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
