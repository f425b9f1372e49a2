/*  bulwark — unit tests of bulwarkctl's commands: arguments, requests,
 *  paths, rendering of results, the config file's control-socket.
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
#include "ctl_cmd.h"
#include "json.h"

#define CWD "/home/op/zones"
#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- Helpers. ---- */

/* Builds \a argv and asserts the request line is exactly \a want. */
static void request_is(int argc, char *const *argv, const char *want)
{
	struct bw_ctl_cmd_req req;
	char err[256] = "";
	size_t len = 0;
	char *line;
	int rc = bw_ctl_cmd_build(argc, argv, CWD, &req, err, sizeof(err));

	if (rc != 0)
		fail_msg("%s: unexpected error %d: %s", argv[0], rc, err);
	assert_false(req.local);
	line = bw_ctl_cmd_encode(&req, &len);
	assert_non_null(line);
	if (strcmp(line, want) != 0)
		fail_msg("%s: expected\n%s\ngot\n%s", argv[0], want, line);
	assert_int_equal(len, strlen(want));
	free(line);
	bw_ctl_cmd_req_clear(&req);
	bw_ctl_cmd_req_clear(&req);
}

/* Asserts that \a argv is a usage error with exactly \a msg. */
static void usage_error(int argc, char *const *argv, const char *msg)
{
	struct bw_ctl_cmd_req req;
	char err[256] = "";
	int rc = bw_ctl_cmd_build(argc, argv, CWD, &req, err, sizeof(err));

	assert_int_equal(rc, BW_EINVAL);
	if (strcmp(err, msg) != 0)
		fail_msg("expected '%s', got '%s'", msg, err);
	assert_null(req.args);
	assert_null(req.command);
}

#define REQUEST_IS(want, ...) do { \
		char *av_[] = { __VA_ARGS__ }; \
		request_is(ARGC(av_), av_, want); \
	} while (0)

#define USAGE_ERROR(msg, ...) do { \
		char *av_[] = { __VA_ARGS__ }; \
		usage_error(ARGC(av_), av_, msg); \
	} while (0)

static struct bw_json *parse(const char *text)
{
	struct bw_json *v = NULL;
	char err[128];

	if (bw_json_parse(text, strlen(text), &v, err, sizeof(err)) != 0)
		fail_msg("bad test JSON: %s", err);
	return v;
}

/* Asserts that the result \a json renders as exactly \a want. */
static void render_is(const char *json, const char *want)
{
	struct bw_json *v = parse(json);
	char *text = bw_ctl_cmd_render(v);

	assert_non_null(text);
	if (strcmp(text, want) != 0)
		fail_msg("expected\n%s\ngot\n%s", want, text);
	free(text);
	bw_json_free(v);
}

/* Asserts that \a conf's text names the socket \a want. */
static void conf_is(const char *text, const char *conf, const char *want)
{
	char *path = NULL, err[256] = "";
	int rc = bw_ctl_cmd_conf_socket(text, strlen(text), conf, &path, err,
	                                sizeof(err));

	if (rc != 0)
		fail_msg("'%s': unexpected error %d: %s", text, rc, err);
	assert_string_equal(path, want);
	free(path);
}

static void conf_fails(const char *text, int want_rc, const char *msg)
{
	char *path = (char *)&path, err[256] = "";
	int rc = bw_ctl_cmd_conf_socket(text, strlen(text), "b.conf", &path,
	                                err, sizeof(err));

	assert_int_equal(rc, want_rc);
	assert_null(path);
	if (msg != NULL)
		assert_string_equal(err, msg);
}

/* ---- Requests. ---- */

static void test_requests(void **state)
{
	(void)state;
	REQUEST_IS("{\"version\":1,\"command\":\"status\"}\n", "status");
	REQUEST_IS("{\"version\":1,\"command\":\"zone-list\"}\n", "zone-list");
	REQUEST_IS("{\"version\":1,\"command\":\"zone-status\","
	           "\"args\":{\"zone\":\"example.com\"}}\n",
	           "zone-status", "example.com");
	REQUEST_IS("{\"version\":1,\"command\":\"zone-load\","
	           "\"args\":{\"zone\":\"example.com.\","
	           "\"table\":\"/var/lib/bulwark/example.com.bwz\"}}\n",
	           "zone-load", "example.com.", "/var/lib/bulwark/example.com.bwz");
	REQUEST_IS("{\"version\":1,\"command\":\"zone-load\","
	           "\"args\":{\"zone\":\"example.com\","
	           "\"table\":\"" CWD "/example.com.bwz\"}}\n",
	           "zone-load", "example.com", "example.com.bwz");
	REQUEST_IS("{\"version\":1,\"command\":\"zone-unload\","
	           "\"args\":{\"zone\":\"example.com\"}}\n",
	           "zone-unload", "example.com");
	REQUEST_IS("{\"version\":1,\"command\":\"stats\"}\n", "stats");
	REQUEST_IS("{\"version\":1,\"command\":\"stats\","
	           "\"args\":{\"reset\":true}}\n", "stats", "--reset");
	REQUEST_IS("{\"version\":1,\"command\":\"stats\","
	           "\"args\":{\"format\":\"prometheus\"}}\n",
	           "stats", "--prometheus");
	/* Members in a fixed order, whatever the order of the options. */
	REQUEST_IS("{\"version\":1,\"command\":\"stats\","
	           "\"args\":{\"reset\":true,\"format\":\"prometheus\"}}\n",
	           "stats", "--prometheus", "--reset");
	REQUEST_IS("{\"version\":1,\"command\":\"reload\"}\n", "reload");
	REQUEST_IS("{\"version\":1,\"command\":\"stop\"}\n", "stop");
	/* "--" ends the options; escapes go through as written. */
	REQUEST_IS("{\"version\":1,\"command\":\"zone-status\","
	           "\"args\":{\"zone\":\"-x.example\"}}\n",
	           "zone-status", "--", "-x.example");
	REQUEST_IS("{\"version\":1,\"command\":\"zone-status\","
	           "\"args\":{\"zone\":\"a\\\\.b\\\\032c.\"}}\n",
	           "zone-status", "a\\.b\\032c.");
}

static void test_request_members(void **state)
{
	struct bw_ctl_cmd_req req;
	char *stats[] = { "stats", "--prometheus" };
	char *load[] = { "zone-load", "example.com", "../t/x.bwz" };
	char err[128];

	(void)state;
	assert_int_equal(bw_ctl_cmd_build(2, stats, CWD, &req, err,
	                                  sizeof(err)), 0);
	assert_string_equal(req.command, "stats");
	assert_string_equal(req.raw, "prometheus");
	bw_ctl_cmd_req_clear(&req);
	stats[1] = "--reset";
	assert_int_equal(bw_ctl_cmd_build(2, stats, CWD, &req, err,
	                                  sizeof(err)), 0);
	assert_null(req.raw);
	bw_ctl_cmd_req_clear(&req);

	assert_int_equal(bw_ctl_cmd_build(3, load, CWD, &req, err,
	                                  sizeof(err)), 0);
	assert_string_equal(bw_json_get_str(req.args, "table"),
	                    "/home/op/t/x.bwz");
	bw_ctl_cmd_req_clear(&req);
	/* A relative TABLE needs the current directory. */
	assert_int_equal(bw_ctl_cmd_build(3, load, NULL, &req, err,
	                                  sizeof(err)), BW_EINVAL);
	assert_string_equal(err, "zone-load: cannot make '../t/x.bwz' "
	                    "absolute: the current directory is unknown");
	load[2] = "/abs/x.bwz";
	assert_int_equal(bw_ctl_cmd_build(3, load, NULL, &req, err,
	                                  sizeof(err)), 0);
	assert_string_equal(bw_json_get_str(req.args, "table"), "/abs/x.bwz");
	bw_ctl_cmd_req_clear(&req);
}

/* ---- Argument errors, command by command. ---- */

static void test_errors_general(void **state)
{
	struct bw_ctl_cmd_req req;
	char err[128];

	(void)state;
	assert_int_equal(bw_ctl_cmd_build(0, NULL, CWD, &req, err,
	                                  sizeof(err)), BW_EINVAL);
	assert_string_equal(err, "no command given (try 'bulwarkctl help')");
	USAGE_ERROR("unknown command 'x' (try 'bulwarkctl help')", "x");
	USAGE_ERROR("unknown command 'Status' (try 'bulwarkctl help')",
	            "Status");
	USAGE_ERROR("unknown command '--json' (try 'bulwarkctl help')",
	            "--json");
	/* A small buffer truncates the message, never overflows. */
	{
		char *av[] = { "zone-load", "x" };

		assert_int_equal(bw_ctl_cmd_build(2, av, CWD, &req, err, 8),
		                 BW_EINVAL);
		assert_string_equal(err, "zone-lo");
	}
}

static void test_errors_no_args(void **state)
{
	static const char *const cmds[] = {
		"status", "zone-list", "reload", "stop",
	};
	char msg[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *c = (char *)cmds[i];

		snprintf(msg, sizeof(msg), "%s: unexpected argument 'y'", c);
		USAGE_ERROR(msg, c, "y");
		snprintf(msg, sizeof(msg), "%s: unknown option '--x'", c);
		USAGE_ERROR(msg, c, "--x");
		snprintf(msg, sizeof(msg), "%s: unknown option '--reset'", c);
		USAGE_ERROR(msg, c, "--reset");
		snprintf(msg, sizeof(msg), "%s: unknown option '-q'", c);
		USAGE_ERROR(msg, c, "-q");
		snprintf(msg, sizeof(msg), "%s: option '--json' must come "
		         "before the command", c);
		USAGE_ERROR(msg, c, "--json");
		snprintf(msg, sizeof(msg), "%s: unexpected argument '-'", c);
		USAGE_ERROR(msg, c, "-");
		snprintf(msg, sizeof(msg), "%s: unexpected argument '--x'", c);
		USAGE_ERROR(msg, c, "--", "--x");
	}
}

static void test_errors_zone_commands(void **state)
{
	(void)state;
	USAGE_ERROR("zone-status: expected NAME", "zone-status");
	USAGE_ERROR("zone-status: unexpected argument 'y'",
	            "zone-status", "example.com", "y");
	USAGE_ERROR("zone-status: unknown option '--x'",
	            "zone-status", "--x", "example.com");
	USAGE_ERROR("zone-status: option '-s' must come before the command",
	            "zone-status", "-s", "/x", "example.com");
	USAGE_ERROR("zone-status: option '--timeout=5' must come before the "
	            "command", "zone-status", "--timeout=5", "example.com");
	USAGE_ERROR("zone-status: invalid zone name 'a..b': empty label",
	            "zone-status", "a..b");

	USAGE_ERROR("zone-unload: expected NAME", "zone-unload");
	USAGE_ERROR("zone-unload: unexpected argument 'y'",
	            "zone-unload", "example.com", "y");
	USAGE_ERROR("zone-unload: unknown option '--force'",
	            "zone-unload", "example.com", "--force");
	USAGE_ERROR("zone-unload: invalid zone name '': empty name",
	            "zone-unload", "");

	USAGE_ERROR("zone-load: expected NAME TABLE", "zone-load");
	USAGE_ERROR("zone-load: expected NAME TABLE", "zone-load", "example.com");
	USAGE_ERROR("zone-load: unexpected argument 'z'",
	            "zone-load", "example.com", "t.bwz", "z");
	USAGE_ERROR("zone-load: unknown option '--x'",
	            "zone-load", "example.com", "--x", "t.bwz");
	USAGE_ERROR("zone-load: invalid zone name '.example': empty label",
	            "zone-load", ".example", "t.bwz");
	USAGE_ERROR("zone-load: empty TABLE", "zone-load", "example.com", "");
}

static void test_flood_commands(void **state)
{
	(void)state;
	REQUEST_IS("{\"version\":1,\"command\":\"flood-status\"}\n", "flood-status");
	REQUEST_IS("{\"version\":1,\"command\":\"filter-list\"}\n", "filter-list");
	REQUEST_IS("{\"version\":1,\"command\":\"filter-add\",\"args\":{\"pattern\":"
	           "\"^[a-z]{12}\\\\.example\\\\.com\\\\.$\",\"action\":\"drop\"}}\n",
	           "filter-add", "^[a-z]{12}\\.example\\.com\\.$", "drop");
	REQUEST_IS("{\"version\":1,\"command\":\"filter-add\",\"args\":{\"pattern\":"
	           "\"evil\",\"action\":\"rate-limit\",\"zone\":\"example.com\","
	           "\"literal\":true}}\n",
	           "filter-add", "--literal", "evil", "rate-limit", "example.com");
	REQUEST_IS("{\"version\":1,\"command\":\"filter-add\",\"args\":{\"pattern\":"
	           "\"-x\",\"action\":\"log-only\"}}\n",
	           "filter-add", "--", "-x", "log-only");
	REQUEST_IS("{\"version\":1,\"command\":\"filter-del\",\"args\":{\"id\":12}}\n",
	           "filter-del", "12");
	REQUEST_IS("{\"version\":1,\"command\":\"cookie-secret\"}\n", "cookie-secret");
	REQUEST_IS("{\"version\":1,\"command\":\"cookie-secret\",\"args\":{\"secret\":"
	           "\"e5e973e5a6b2a43f48e7dc849e37bfcf\"}}\n",
	           "cookie-secret", "e5e973e5a6b2a43f48e7dc849e37bfcf");
	REQUEST_IS("{\"version\":1,\"command\":\"cookie-secret\",\"args\":"
	           "{\"drop-previous\":true}}\n", "cookie-secret", "--drop-previous");

	USAGE_ERROR("filter-add: expected PATTERN ACTION [ZONE]", "filter-add", "x");
	USAGE_ERROR("filter-add: ACTION 'block' is not drop, refuse, truncate, "
	            "rate-limit or log-only", "filter-add", "x", "block");
	USAGE_ERROR("filter-add: empty PATTERN", "filter-add", "", "drop");
	USAGE_ERROR("filter-add: invalid zone name 'a..b': empty label",
	            "filter-add", "x", "drop", "a..b");
	USAGE_ERROR("filter-add: unexpected argument 'w'",
	            "filter-add", "x", "drop", "example.com", "w");
	USAGE_ERROR("filter-del: ID '0' is not a filter number", "filter-del", "0");
	USAGE_ERROR("filter-del: ID '1x' is not a filter number", "filter-del", "1x");
	USAGE_ERROR("filter-del: ID '99999999999' is not a filter number",
	            "filter-del", "99999999999");
	USAGE_ERROR("filter-del: expected ID", "filter-del");
	USAGE_ERROR("cookie-secret: SECRET must be 32 hexadecimal digits (siphash24)",
	            "cookie-secret", "e5e973e5a6b2a43f48e7dc849e37bfc");
	USAGE_ERROR("cookie-secret: SECRET must be 32 hexadecimal digits (siphash24)",
	            "cookie-secret", "g5e973e5a6b2a43f48e7dc849e37bfcf");
	USAGE_ERROR("flood-status: unexpected argument 'x'", "flood-status", "x");
}

static void test_errors_stats_help(void **state)
{
	(void)state;
	USAGE_ERROR("stats: unknown option '--x'", "stats", "--x");
	USAGE_ERROR("stats: unknown option '--reset=1'", "stats", "--reset=1");
	USAGE_ERROR("stats: unexpected argument 'y'", "stats", "y");
	USAGE_ERROR("stats: unexpected argument '--reset'",
	            "stats", "--", "--reset");
	USAGE_ERROR("stats: option '--json' must come before the command",
	            "stats", "--reset", "--json");
	USAGE_ERROR("help: unknown command 'x'", "help", "x");
	USAGE_ERROR("help: unexpected argument 'stop'", "help", "stats", "stop");
	USAGE_ERROR("help: unknown option '--x'", "help", "--x");
}

/* ---- help. ---- */

static void help_is(int argc, char *const *argv, const char *topic)
{
	struct bw_ctl_cmd_req req;
	char err[128];

	assert_int_equal(bw_ctl_cmd_build(argc, argv, CWD, &req, err,
	                                  sizeof(err)), 0);
	assert_true(req.local);
	assert_string_equal(req.command, "help");
	assert_null(req.args);
	if (topic == NULL)
		assert_null(req.topic);
	else
		assert_string_equal(req.topic, topic);
	bw_ctl_cmd_req_clear(&req);
}

static void test_help(void **state)
{
	static const char *const names[] = {
		"status", "zone-list", "zone-status", "zone-load",
		"zone-unload", "stats", "reload", "stop", "help",
	};
	char *help[] = { "help" }, *topic[] = { "help", "zone-load" };
	char *dash_h[] = { "zone-load", "-h" }, *dash_help[] = { "stats",
	                                                          "--help" };
	char *late[] = { "zone-load", "example.com", "--help", "--bogus" };
	char *list = bw_ctl_cmd_help(NULL), *one;

	(void)state;
	help_is(1, help, NULL);
	help_is(2, topic, "zone-load");
	help_is(2, dash_h, "zone-load");
	help_is(2, dash_help, "stats");
	help_is(4, late, "zone-load");

	assert_non_null(list);
	assert_non_null(strstr(list, "Commands:\n"));
	assert_non_null(strstr(list, "\n  zone-load NAME TABLE  "));
	assert_non_null(strstr(list, "\n  stats [--reset] [--prometheus]  "));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char line[64];

		snprintf(line, sizeof(line), "\n  %s", names[i]);
		assert_non_null(strstr(list, line));
		one = bw_ctl_cmd_help(names[i]);
		assert_non_null(one);
		snprintf(line, sizeof(line), "usage: bulwarkctl [OPTIONS] %s",
		         names[i]);
		assert_true(strncmp(one, line, strlen(line)) == 0);
		free(one);
	}
	free(list);
	assert_null(bw_ctl_cmd_help("x"));
	one = bw_ctl_cmd_help("stats");
	assert_string_equal(one,
	        "usage: bulwarkctl [OPTIONS] stats [--reset] [--prometheus]\n"
	        "\n"
	        "The counters: UDP, workers, TCP, zones.\n"
	        "\n"
	        "  --reset       count from now on (later stats report the "
	        "difference)\n"
	        "  --prometheus  print the Prometheus text exposition format\n");
	free(one);
}

/* ---- Zone names. ---- */

static void zone_ok(const char *name)
{
	char err[96] = "";

	if (bw_ctl_cmd_check_zone(name, err, sizeof(err)) != 0)
		fail_msg("'%s': unexpected error: %s", name, err);
}

static void zone_bad(const char *name, const char *why)
{
	char err[96] = "";

	assert_int_equal(bw_ctl_cmd_check_zone(name, err, sizeof(err)),
	                 BW_ESYNTAX);
	if (strcmp(err, why) != 0)
		fail_msg("'%s': expected '%s', got '%s'", name, why, err);
}

/* \a n labels of \a len octets, then one of \a last ("" for none). */
static char *labels(unsigned n, unsigned len, unsigned last, char *out)
{
	char *p = out;

	for (unsigned i = 0; i < n; i++) {
		memset(p, 'a', len);
		p += len;
		*p++ = '.';
	}
	memset(p, 'b', last);
	p[last] = '\0';
	return out;
}

static void test_zone_names(void **state)
{
	char name[600], long_label[80];
	static const char *const bad_escapes[] = {
		"a\\", "a\\2", "a\\25", "a\\256", "\\2x5.example", "a\\1.",
	};

	(void)state;
	zone_ok(".");
	zone_ok("example.com");
	zone_ok("example.com.");
	zone_ok("EXAMPLE.com");
	zone_ok("_tcp.xn--bcher-kva.example");
	zone_ok("a\\.b.example");       /* an escaped dot is in the label */
	zone_ok("\\000\\255.example");
	zone_ok("a\\ b.example");
	zone_ok("\\..");
	zone_ok("*.example");

	zone_bad("", "empty name");
	zone_bad("..", "empty label");
	zone_bad(".example", "empty label");
	zone_bad("a..example", "empty label");
	zone_bad("example..", "empty label");
	for (size_t i = 0; i < sizeof(bad_escapes) / sizeof(bad_escapes[0]); i++)
		zone_bad(bad_escapes[i],
		         "bad escape (\\DDD is 000 to 255, \\X one character)");

	/* Labels: 63 octets, also when written with escapes. */
	zone_ok(labels(1, 63, 0, long_label));
	zone_bad(labels(1, 64, 0, long_label), "label longer than 63 octets");
	snprintf(name, sizeof(name), "%.62s\\097.example", labels(0, 0, 62,
	         long_label));
	zone_ok(name);
	snprintf(name, sizeof(name), "%.63s\\097.example", labels(0, 0, 63,
	         long_label));
	zone_bad(name, "label longer than 63 octets");

	/* Names: 255 octets in wire form, final dot or not. */
	zone_ok(labels(3, 63, 61, name));          /* 3 * 64 + 62 + 1 */
	strcat(name, ".");
	zone_ok(name);
	zone_bad(labels(3, 63, 62, name), "name longer than 255 octets");
	zone_bad(labels(4, 63, 0, name), "name longer than 255 octets");
	zone_ok(labels(127, 1, 0, name));          /* 127 * 2 + 1 */
	zone_bad(labels(127, 1, 1, name), "name longer than 255 octets");
}

/* ---- Paths. ---- */

static void path_is(const char *cwd, const char *path, const char *want)
{
	char *got = bw_ctl_cmd_abspath(cwd, path);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("'%s' in '%s': expected '%s', got '%s'", path,
		         cwd != NULL ? cwd : "(null)", want, got);
	free(got);
}

static void test_abspath(void **state)
{
	(void)state;
	path_is("/home/op", "x.bwz", "/home/op/x.bwz");
	path_is("/home/op", "./x.bwz", "/home/op/x.bwz");
	path_is("/home/op/", "t//./x.bwz", "/home/op/t/x.bwz");
	path_is("/home/op", "../x.bwz", "/home/x.bwz");
	path_is("/home/op", "../../../x.bwz", "/x.bwz");
	path_is("/", "x.bwz", "/x.bwz");
	path_is("/", "..", "/");
	path_is("/home/op", ".", "/home/op");
	/* ".." after a component of the user's is left to the kernel
	 * (the component may be a symbolic link). */
	path_is("/home/op", "link/../x.bwz", "/home/op/link/../x.bwz");
	path_is("/home/op", "a/../../x", "/home/op/a/../../x");
	/* Absolute paths are kept, only cleaned. */
	path_is("/home/op", "/var/lib//bulwark/./x.bwz",
	        "/var/lib/bulwark/x.bwz");
	path_is(NULL, "/x.bwz", "/x.bwz");
	path_is("/a", "/../x", "/x");
	path_is("/a", "/b/../x", "/b/../x");
	/* Failures. */
	path_is("/home/op", "", NULL);
	path_is(NULL, "x.bwz", NULL);
	path_is("relative", "x.bwz", NULL);
}

/* ---- Rendering. ---- */

static void test_render_scalars(void **state)
{
	(void)state;
	render_is("{}", "");
	render_is("{\"stopping\":true}", "stopping:  true\n");
	render_is("{\"zone\":\"example.com.\",\"serial\":2026120201}",
	          "zone:    example.com.\n"
	          "serial:  2026120201\n");
	/* null, empty array, empty object: "-"; arrays of scalars joined. */
	render_is("{\"a\":null,\"bb\":[],\"c\":{},\"listen\":[\"127.0.0.1 "
	          "port 53\",\"::1 port 53\"],\"f\":false,\"n\":[1,null,"
	          "\"x\"]}",
	          "a:       -\n"
	          "bb:      -\n"
	          "c:       -\n"
	          "listen:  127.0.0.1 port 53, ::1 port 53\n"
	          "f:       false\n"
	          "n:       1, -, x\n");
	/* Numbers keep their text (64-bit counters, decimals). */
	render_is("{\"big\":18446744073709551615,\"uptime\":12.5,\"neg\":-3}",
	          "big:     18446744073709551615\n"
	          "uptime:  12.5\n"
	          "neg:     -3\n");
	/* Control characters, C1 included, never reach the terminal. */
	render_is("{\"m\":\"a\\nb\\tc\\u001b[31m\\u009bd\\u007f\","
	          "\"u\":\"caf\\u00e9\"}",
	          "m:  a\\nb\\tc\\x1b[31m\\u009bd\\x7f\n"
	          "u:  caf\xc3\xa9\n");
	/* Arrays holding containers: compact JSON. */
	render_is("{\"x\":[[1,2],{\"a\":1}]}", "x:  [[1,2],{\"a\":1}]\n");
}

static void test_render_status(void **state)
{
	(void)state;
	render_is("{\"version\":\"0.5.0\",\"pid\":1234,"
	          "\"started\":\"2026-12-02T13:05:00Z\",\"uptime\":12.5,"
	          "\"config\":\"/etc/bulwark/bulwark.conf\",\"io\":\"socket\","
	          "\"workers\":2,\"zones\":3,\"publications\":7,"
	          "\"listen\":[\"127.0.0.1 port 53\"],"
	          "\"ports\":[{\"port\":\"net_af_xdp0,iface=veth0\","
	          "\"addresses\":[\"192.0.2.53/24\",\"2001:db8::53/64\"]}]}",
	          "version:       0.5.0\n"
	          "pid:           1234\n"
	          "started:       2026-12-02T13:05:00Z\n"
	          "uptime:        12.5\n"
	          "config:        /etc/bulwark/bulwark.conf\n"
	          "io:            socket\n"
	          "workers:       2\n"
	          "zones:         3\n"
	          "publications:  7\n"
	          "listen:        127.0.0.1 port 53\n"
	          "ports:\n"
	          "  PORT                     ADDRESSES\n"
	          "  net_af_xdp0,iface=veth0  192.0.2.53/24, 2001:db8::53/64\n");
}

static void test_render_tables(void **state)
{
	(void)state;
	/* The only member: the table, untitled; numbers right-aligned,
	 * null as "-", a member missing from a row as "-". */
	render_is("{\"zones\":["
	          "{\"zone\":\"example.com.\",\"serial\":2026120201,"
	          "\"names\":1234,\"source\":\"config\",\"table\":null},"
	          "{\"zone\":\"a.example.\",\"serial\":7,\"names\":12,"
	          "\"source\":\"control\",\"table\":\"/t/a.bwz\"}]}",
	          "ZONE              SERIAL  NAMES  SOURCE   TABLE\n"
	          "example.com.  2026120201   1234  config   -\n"
	          "a.example.             7     12  control  /t/a.bwz\n");
	/* Columns in first-seen order over every row; nested objects as
	 * a.b columns; a column of numbers and nulls stays numeric. */
	render_is("{\"rows\":[{\"a\":1,\"q\":{\"x\":10,\"y\":{\"z\":null}}},"
	          "{\"b\":\"long text\",\"a\":null,"
	          "\"q\":{\"y\":{\"z\":3},\"w\":true}}]}",
	          "A  Q.X  Q.Y.Z  B          Q.W\n"
	          "1   10      -  -          -\n"
	          "-    -      3  long text  true\n");
	/* Width counts characters, not octets. */
	render_is("{\"t\":[{\"k\":\"\xc3\xa9\xc3\xa9\",\"n\":1},"
	          "{\"k\":\"abc\",\"n\":22}]}",
	          "K     N\n"
	          "\xc3\xa9\xc3\xa9    1\n"
	          "abc  22\n");
}

static void test_render_blocks(void **state)
{
	(void)state;
	/* zone-status: "queries" is an indented block. */
	render_is("{\"zone\":\"example.com.\",\"serial\":2026120201,"
	          "\"table\":null,\"signed\":true,\"expiry_in\":-5,"
	          "\"queries\":{\"answers\":10,\"nxdomain\":2}}",
	          "zone:       example.com.\n"
	          "serial:     2026120201\n"
	          "table:      -\n"
	          "signed:     true\n"
	          "expiry_in:  -5\n"
	          "queries:\n"
	          "  answers:   10\n"
	          "  nxdomain:  2\n");
	/* stats: blocks within blocks, tables inside, order kept. */
	render_is("{\"since\":\"2026-12-02T13:05:00Z\",\"uptime\":12.5,"
	          "\"udp\":{\"received\":9,\"sent\":8,"
	          "\"rcode\":{\"NOERROR\":7,\"NXDOMAIN\":1}},"
	          "\"workers\":[{\"worker\":0,\"received\":5},"
	          "{\"worker\":1,\"received\":4}],"
	          "\"zones\":[]}",
	          "since:   2026-12-02T13:05:00Z\n"
	          "uptime:  12.5\n"
	          "udp:\n"
	          "  received:  9\n"
	          "  sent:      8\n"
	          "  rcode:\n"
	          "    NOERROR:   7\n"
	          "    NXDOMAIN:  1\n"
	          "workers:\n"
	          "  WORKER  RECEIVED\n"
	          "       0         5\n"
	          "       1         4\n"
	          "zones:   -\n");
	/* reload. */
	render_is("{\"added\":[\"a.example.\"],\"removed\":[],"
	          "\"changed\":[\"b.example.\",\"c.example.\"],\"unchanged\":12,"
	          "\"failed\":[{\"zone\":\"d.example.\","
	          "\"error\":\"d.bwz: checksum mismatch\"}]}",
	          "added:      a.example.\n"
	          "removed:    -\n"
	          "changed:    b.example., c.example.\n"
	          "unchanged:  12\n"
	          "failed:\n"
	          "  ZONE        ERROR\n"
	          "  d.example.  d.bwz: checksum mismatch\n");
	/* A lone nested object: its members, untitled. */
	render_is("{\"tcp\":{\"open\":1,\"accepted\":20}}",
	          "open:      1\n"
	          "accepted:  20\n");
}

/* ---- The config file's control-socket. ---- */

static void test_conf_socket(void **state)
{
	(void)state;
	conf_is("options { control-socket \"/run/b.sock\"; };", "/etc/b.conf",
	        "/run/b.sock");
	/* Relative: to directory, itself relative to the file's directory. */
	conf_is("options { directory \"/var/lib/bulwark\"; "
	        "control-socket \"ctl.sock\"; };", "/etc/b.conf",
	        "/var/lib/bulwark/ctl.sock");
	conf_is("options { control-socket ctl.sock; directory \"data\"; };",
	        "/etc/bulwark/b.conf", "/etc/bulwark/data/ctl.sock");
	conf_is("options { control-socket \"ctl.sock\"; };", "/etc/b.conf",
	        "/etc/ctl.sock");
	conf_is("options { control-socket \"ctl.sock\"; };", "b.conf",
	        "./ctl.sock");
	conf_is("options { control-socket \"ctl.sock\"; };", "/b.conf",
	        "/ctl.sock");
	/* Comments, case, escapes, other statements and blocks around. */
	conf_is("# comment \"x\" {\n"
	        "// options { control-socket \"/no1\"; };\n"
	        "/* options { control-socket \"/no2\"; }; */\n"
	        "zone \"x\" { control-socket \"/no3\"; };\n"
	        "OPTIONS {\n"
	        "    listen-on port 53 { 127.0.0.1; control-socket; };\n"
	        "    pid-file none;\n"
	        "    Control-Socket \"/run/a\\\"b\"; // the one\n"
	        "};\n"
	        "dataplane { io socket; };\n",
	        "/etc/b.conf", "/run/a\"b");
	/* A word ends at a comment. */
	conf_is("options{control-socket /run/x.sock#c\n;};", "/etc/b.conf",
	        "/run/x.sock");
	/* Absent: BW_ENOENT. */
	conf_fails("", BW_ENOENT, NULL);
	conf_fails("options { directory \"/x\"; };", BW_ENOENT, NULL);
	conf_fails("zone \"x\" { control-socket \"/no\"; };", BW_ENOENT, NULL);
	conf_fails("options { listen-on { control-socket \"/no\"; }; };",
	           BW_ENOENT, NULL);
	conf_fails("options { control-socket; };", BW_ENOENT, NULL);
	/* Syntax errors name the file and line. */
	conf_fails("options {\n control-socket \"/x;\n};", BW_ESYNTAX,
	           "b.conf:2: unterminated quoted string");
	conf_fails("options {\n\n/* control-socket \"/x\"; };", BW_ESYNTAX,
	           "b.conf:3: unterminated /* comment");
	{
		static const char nul[] = "options { control-socket \"/x\"; };\0";
		char *path = NULL, err[64];

		assert_int_equal(bw_ctl_cmd_conf_socket(nul, sizeof(nul) - 1,
		                 "b.conf", &path, err, sizeof(err)), BW_ESYNTAX);
		assert_string_equal(err, "b.conf:1: NUL character");
		assert_null(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_flood_commands),
		cmocka_unit_test(test_request_members),
		cmocka_unit_test(test_errors_general),
		cmocka_unit_test(test_errors_no_args),
		cmocka_unit_test(test_errors_zone_commands),
		cmocka_unit_test(test_errors_stats_help),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_zone_names),
		cmocka_unit_test(test_abspath),
		cmocka_unit_test(test_render_scalars),
		cmocka_unit_test(test_render_status),
		cmocka_unit_test(test_render_tables),
		cmocka_unit_test(test_render_blocks),
		cmocka_unit_test(test_conf_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
