/*  bulwark — unit tests of the bulwarkd configuration parser.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bulwark/err.h"
#include "conf.h"

/* ---- Helpers. ---- */

/* The first error reported, as the emit callback saw it. */
struct seen {
	unsigned errors, warnings;
	unsigned line;
	char file[512];
	char msg[512];
};

static void capture(void *ctx, enum bw_diag_level lvl, const char *file,
                    unsigned line, const char *msg)
{
	struct seen *s = ctx;

	if (lvl != BW_DIAG_ERROR) {
		s->warnings++;
		return;
	}
	if (s->errors++ > 0)
		return;
	s->line = line;
	snprintf(s->file, sizeof(s->file), "%s", file != NULL ? file : "");
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bw-test-conf-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

/* Loads \a text as a config file in the temporary directory. */
static int load_text(const char *text, struct bw_conf **out, struct seen *s)
{
	struct bw_diag d = { .emit = capture, .ctx = s };
	char path[128];
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	*out = NULL;
	return bw_conf_load(path, out, &d);
}

static struct bw_conf *load_good(const char *text)
{
	struct bw_conf *c;
	struct seen s;
	int rc = load_text(text, &c, &s);

	if (rc != 0)
		fail_msg("unexpected error: line %u: %s", s.line, s.msg);
	assert_int_equal(s.errors, 0);
	return c;
}

/* Asserts that \a text fails with an error at \a line containing \a msg. */
static void expect_error(const char *text, unsigned line, const char *msg)
{
	struct bw_conf *c;
	struct seen s;
	int rc = load_text(text, &c, &s);

	assert_int_not_equal(rc, 0);
	assert_null(c);
	assert_true(s.errors >= 1);
	if (strstr(s.msg, msg) == NULL || s.line != line)
		fail_msg("expected line %u '%s', got line %u '%s'", line, msg,
		         s.line, s.msg);
	assert_non_null(strstr(s.file, "t.conf"));
}

static uint16_t addr_port(const struct bw_conf_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

static void addr_is(const struct bw_conf_addr *a, const char *text,
                    uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];
	const void *raw = a->ss.ss_family == AF_INET ?
	                  (const void *)&((const struct sockaddr_in *)&a->ss)->sin_addr :
	                  (const void *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;

	assert_non_null(inet_ntop(a->ss.ss_family, raw, buf, sizeof(buf)));
	assert_string_equal(buf, text);
	assert_int_equal(addr_port(a), port);
}

/* ---- Good configurations. ---- */

static void test_full(void **state)
{
	struct bw_diag d = { .emit = capture };
	struct seen s = { 0 };
	struct bw_conf *c = NULL;

	(void)state;
	d.ctx = &s;
	assert_int_equal(bw_conf_load(BW_TEST_DATA "/conf/full.conf", &c, &d), 0);
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.warnings, 0);
	assert_int_equal(c->nfiles, 3);
	assert_string_equal(c->directory, BW_TEST_DATA "/conf/zones");
	assert_string_equal(c->control_socket, BW_TEST_DATA "/conf/zones/run/ctl.sock");
	assert_string_equal(c->pid_file, "/tmp/bulwarkd-test.pid");
	assert_int_equal(c->nlisten, 4);
	addr_is(&c->listen[0], "127.0.0.1", 5353);
	addr_is(&c->listen[1], "::1", 5353);
	addr_is(&c->listen[2], "192.0.2.53", 53);
	addr_is(&c->listen[3], "2001:db8::53", 5354);
	assert_int_equal(c->listen[3].line, 10);
	assert_int_equal(c->edns_udp_size, 1400);
	assert_int_equal(c->nsid_len, strlen("ns1 \"east\""));
	assert_memory_equal(c->nsid, "ns1 \"east\"", c->nsid_len);
	assert_string_equal(c->version, "hidden \\ version");
	assert_string_equal(c->server_id, "ns1.example");
	assert_int_equal(c->io, BW_CONF_IO_DPDK);
	assert_int_equal(c->workers, 2);
	assert_int_equal(c->cpu_first, 2);
	assert_string_equal(c->eal_args, "-l 0-3 --no-huge -m 512");
	assert_int_equal(c->nports, 2);
	assert_string_equal(c->ports[0].name, "0000:03:00.0");
	assert_int_equal(c->ports[0].naddrs, 2);
	addr_is(&c->ports[0].addrs[1], "2001:db8::53", 53);
	assert_int_equal(c->ports[1].naddrs, 1);

	assert_int_equal(c->nzones, 3);
	assert_string_equal(c->zones[0].name, "example.com");
	assert_memory_equal(c->zones[0].apex, "\7example\3com", 13);
	assert_string_equal(c->zones[0].table, BW_TEST_DATA "/conf/zones/example.com.bwz");
	assert_null(c->zones[0].file);
	assert_non_null(strstr(c->zones[0].src, "inc/zones.conf"));
	assert_int_equal(c->zones[0].line, 2);
	assert_memory_equal(c->zones[1].apex, "\7example\3net", 13);
	assert_string_equal(c->zones[1].file, "/abs/example.net.zone");
	assert_null(c->zones[1].table);
	assert_string_equal(c->zones[2].file,
	                    BW_TEST_DATA "/conf/zones/org/example.org.zone");
	assert_non_null(strstr(c->zones[2].src, "inc/more.conf"));
	bw_conf_free(c);
}

static void test_defaults(void **state)
{
	struct bw_conf *c = load_good("options { listen-on { 127.0.0.1; }; };\n");

	(void)state;
	assert_string_equal(c->directory, tmpdir);
	assert_null(c->control_socket);
	assert_null(c->pid_file);
	assert_int_equal(c->edns_udp_size, 1232);
	assert_null(c->nsid);
	assert_int_equal(c->nsid_len, 0);
	assert_non_null(c->version);
	assert_non_null(strstr(c->version, "bulwark"));
	assert_null(c->server_id);
	assert_int_equal(c->io, BW_CONF_IO_SOCKET);
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->cpu_first, -1);
	assert_int_equal(c->nzones, 0);
	addr_is(&c->listen[0], "127.0.0.1", 53);
	bw_conf_free(c);
}

static void test_keywords(void **state)
{
	struct bw_conf *c = load_good(
		"options {\n"
		"  listen-on port 53 { any; };\n"
		"  listen-on-v6 port 53 { any; };\n"
		"  listen-on port 54 { none; };\n"
		"  nsid 0x6E5331;\n"
		"  version none;\n"
		"  server-id hostname;\n"
		"  pid-file none;\n"
		"  directory \"/srv/dns\";\n"
		"};\n"
		"dataplane { workers 4; io dpdk; };\n"
		"zone \".\" { table root.bwz; };\n");

	(void)state;
	assert_int_equal(c->nlisten, 2);
	addr_is(&c->listen[0], "0.0.0.0", 53);
	addr_is(&c->listen[1], "::", 53);
	assert_int_equal(c->nsid_len, 3);
	assert_memory_equal(c->nsid, "nS1", 3);
	assert_null(c->version);
	assert_non_null(c->server_id);
	assert_true(strlen(c->server_id) > 0);
	assert_null(c->pid_file);
	assert_int_equal(c->io, BW_CONF_IO_DPDK);
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->cpu_first, -1);
	assert_int_equal(c->nzones, 1);
	assert_int_equal(c->zones[0].apex[0], 0);
	assert_string_equal(c->zones[0].table, "/srv/dns/root.bwz");
	bw_conf_free(c);
}

/* NSID falls back to server-id, as in BIND. */
static void test_nsid_from_server_id(void **state)
{
	struct bw_conf *c = load_good(
		"options { listen-on { ::1; }; server-id \"a.ns\"; };");

	(void)state;
	assert_int_equal(c->nsid_len, 4);
	assert_memory_equal(c->nsid, "a.ns", 4);
	bw_conf_free(c);
}

static void test_comments_and_layout(void **state)
{
	struct bw_conf *c = load_good(
		"#hash\n"
		"options{listen-on port 53{127.0.0.1;};};//tight\n"
		"zone \"a.example\"/* inline */{file\n"
		"  \"a.zone\"\n"
		"  ;};\n"
		"zone b.example {\n table \"b.bwz\"; };\n");

	(void)state;
	assert_int_equal(c->nzones, 2);
	assert_int_equal(c->zones[0].line, 3);
	assert_int_equal(c->zones[1].line, 6);
	assert_non_null(strstr(c->zones[0].file, "/a.zone"));
	bw_conf_free(c);
}

static void test_relative_directory(void **state)
{
	struct bw_conf *c = load_good(
		"options { directory \"sub/dir\"; listen-on { 127.0.0.1; }; "
		"control-socket \"/run/x.sock\"; };\n"
		"zone z.example { file \"z.zone\"; };\n");
	char want[128];

	(void)state;
	snprintf(want, sizeof(want), "%s/sub/dir", tmpdir);
	assert_string_equal(c->directory, want);
	snprintf(want, sizeof(want), "%s/sub/dir/z.zone", tmpdir);
	assert_string_equal(c->zones[0].file, want);
	assert_string_equal(c->control_socket, "/run/x.sock");
	bw_conf_free(c);
}

static void test_port_warning(void **state)
{
	struct bw_conf *c;
	struct seen s;

	(void)state;
	assert_int_equal(load_text(
		"options { listen-on { 127.0.0.1; }; };\n"
		"dataplane { port \"p0\" { address 192.0.2.1; }; };\n", &c, &s), 0);
	assert_int_equal(s.warnings, 1);
	bw_conf_free(c);
}

/* ---- Bad configurations: the line and the reason. ---- */

#define L "options { listen-on { 127.0.0.1; }; };\n"

static void test_bad_syntax(void **state)
{
	(void)state;
	expect_error(L "foo bar;\n", 2, "unknown statement 'foo'");
	expect_error(L "\nkey \"k\" { algorithm hmac-sha256; };\n", 3,
	             "'key' is not supported");
	expect_error("options {\n  directory \"x\"\n};\n", 2,
	             "missing ';' after 'x'");
	expect_error("options {\n  directory \"a\"\n  pid-file \"b\";\n};\n", 2,
	             "missing ';' after 'a'");
	expect_error(L "zone \"a\" { file \"x\"; }\nzone \"b\" { file \"y\"; };\n",
	             2, "missing ';' after '}'");
	expect_error(L "zone \"a\" { file \"x\"; };\n}\n", 3,
	             "expected a statement name, found '}'");
	expect_error(L "\"zone\" \"a\";\n", 2, "expected a statement name");
	expect_error(L ";\n", 2, "expected a statement name, found ';'");
	expect_error(L "zone \"a\" {\n file \"x\";\n", 4,
	             "missing '}' for the '{' at line 2");
	expect_error(L "zone \"a\n\" { file \"x\"; };\n", 2,
	             "unterminated string");
	expect_error(L "/* no end\n\n", 2, "unterminated /* comment");
	expect_error(L "zone \"a\" { file \"x\"; } ", 2, "missing ';' after '}'");
}

/* tcp-idle-timeout counts tenths of a second, as in BIND. */
static void test_tcp_options(void **state)
{
	struct bw_conf *c = load_good("options { listen-on { ::1; }; };\n");

	(void)state;
	assert_int_equal(c->tcp_clients, 1024);
	assert_int_equal(c->tcp_idle_timeout, 100);
	bw_conf_free(c);
	c = load_good("options { listen-on { ::1; };\n tcp-clients 5;\n"
	              " TCP-Idle-Timeout 1200; };\n");
	assert_int_equal(c->tcp_clients, 5);
	assert_int_equal(c->tcp_idle_timeout, 1200);
	bw_conf_free(c);
	expect_error("options { listen-on { ::1; };\n tcp-idle-timeout 0; };\n", 2,
	             "tcp-idle-timeout: '0' is not a number from 1 to 1200");
	expect_error("options { listen-on { ::1; };\n tcp-idle-timeout 1201; };\n",
	             2, "tcp-idle-timeout: '1201' is not a number from 1 to 1200");
	expect_error("options { listen-on { ::1; };\n tcp-clients 0; };\n", 2,
	             "tcp-clients: '0' is not a number from 1 to 65536");
	expect_error("options { listen-on { ::1; };\n tcp-clients 1;\n"
	             " tcp-clients 2; };\n", 3, "duplicate 'tcp-clients'");
}

/* tcp-clients-per-address counts connections; tcp-keepalive-timeout is in
 * tenths of a second with BIND's range. */
static void test_tcp_client_options(void **state)
{
	struct bw_conf *c = load_good("options { listen-on { ::1; }; };\n");

	(void)state;
	assert_int_equal(c->tcp_clients_per_address, 32);
	assert_int_equal(c->tcp_keepalive_timeout, 300);
	bw_conf_free(c);
	c = load_good("options { listen-on { ::1; };\n"
	              " tcp-clients-per-address 1;\n tcp-keepalive-timeout 1; };\n");
	assert_int_equal(c->tcp_clients_per_address, 1);
	assert_int_equal(c->tcp_keepalive_timeout, 1);
	bw_conf_free(c);
	c = load_good("options { listen-on { ::1; };\n"
	              " TCP-Clients-Per-Address 65536;\n"
	              " tcp-keepalive-timeout 65535; };\n");
	assert_int_equal(c->tcp_clients_per_address, 65536);
	assert_int_equal(c->tcp_keepalive_timeout, 65535);
	bw_conf_free(c);
	expect_error("options { listen-on { ::1; };\n\n tcp-clients-per-address 0; };\n",
	             3, "tcp-clients-per-address: '0' is not a number from 1 to 65536");
	expect_error("options { listen-on { ::1; };\n tcp-clients-per-address 65537; };\n",
	             2, "tcp-clients-per-address: '65537' is not a number from 1 to 65536");
	expect_error("options { listen-on { ::1; };\n tcp-clients-per-address -1; };\n",
	             2, "tcp-clients-per-address: '-1' is not a number from 1 to 65536");
	expect_error("options { listen-on { ::1; };\n tcp-clients-per-address; };\n",
	             2, "'tcp-clients-per-address': missing argument");
	expect_error("options { listen-on { ::1; };\n tcp-keepalive-timeout 0; };\n",
	             2, "tcp-keepalive-timeout: '0' is not a number from 1 to 65535");
	expect_error("options { listen-on { ::1; };\n\n\n tcp-keepalive-timeout 65536; };\n",
	             4, "tcp-keepalive-timeout: '65536' is not a number from 1 to 65535");
	expect_error("options { listen-on { ::1; };\n tcp-keepalive-timeout 30s; };\n",
	             2, "tcp-keepalive-timeout: '30s' is not a number from 1 to 65535");
	expect_error("options { listen-on { ::1; };\n tcp-keepalive-timeout 10;\n"
	             " tcp-keepalive-timeout 20; };\n", 3,
	             "duplicate 'tcp-keepalive-timeout'");
}

static void test_bad_options(void **state)
{
	(void)state;
	expect_error(L "options { version \"x\"; };\n", 2, "duplicate 'options'");
	expect_error("options {\n directory \"a\";\n directory \"b\";\n"
	             " listen-on { ::1; }; };\n", 3, "duplicate 'directory'");
	expect_error("options {\n recursion no;\n};\n", 2,
	             "'recursion' is not supported in options");
	expect_error("options {\n listen-on { 127.0.0.1; };\n colour blue;\n};\n",
	             3, "unknown statement 'colour' in options");
	expect_error("options {\n listen-on {\n 300.1.1.1; }; };\n", 3,
	             "bad address '300.1.1.1'");
	expect_error("options {\n listen-on { 10.0.0.0/8; }; };\n", 2,
	             "bad address '10.0.0.0/8'");
	expect_error("options {\n listen-on port 70000 { 127.0.0.1; }; };\n", 2,
	             "port out of range");
	expect_error("options {\n listen-on port 0 { 127.0.0.1; }; };\n", 2,
	             "port out of range");
	expect_error("options {\n listen-on port 53;\n};\n", 2,
	             "listen-on: expected [port N] { ADDRESS; ... }");
	expect_error("options {\n listen-on-v6 { 127.0.0.1; }; };\n", 2,
	             "bad IPv6 address '127.0.0.1'");
	expect_error("options { listen-on { 127.0.0.1;\n 127.0.0.1; }; };\n", 2,
	             "duplicate address 127.0.0.1 port 53");
	expect_error("options { directory \"/x\"; };\n", 0, "no listen-on address");
	expect_error(L "options {\n edns-udp-size 100; };\n", 2,
	             "duplicate 'options'");
	expect_error("options { listen-on { ::1; };\n edns-udp-size 100; };\n", 2,
	             "edns-udp-size: '100' is not a number from 512 to 4096");
	expect_error("options { listen-on { ::1; };\n nsid 0xabc; };\n", 2,
	             "nsid: bad hex string '0xabc'");
	expect_error("options { listen-on { ::1; };\n nsid \"\"; };\n", 2,
	             "nsid: length must be 1 to 255");
	expect_error("options { listen-on { ::1; };\n version \""
	             "0123456789012345678901234567890123456789012345678901234567890123"
	             "0123456789012345678901234567890123456789012345678901234567890123"
	             "0123456789012345678901234567890123456789012345678901234567890123"
	             "0123456789012345678901234567890123456789012345678901234567890123"
	             "\"; };\n", 2, "version: longer than 255 characters");
	expect_error("options { listen-on { ::1; };\n directory; };\n", 2,
	             "'directory': missing argument");
	expect_error("options { listen-on { ::1; };\n pid-file \"a\" \"b\"; };\n", 2,
	             "'pid-file': unexpected 'b'");
	expect_error("options { listen-on { ::1; };\n directory { }; };\n", 2,
	             "'directory' takes no { ... } block");
	expect_error("options { listen-on { ::1; };\n directory { } x; };\n", 2,
	             "'directory': unexpected '{'");
}

static void test_bad_dataplane(void **state)
{
	(void)state;
	expect_error(L "dataplane {\n workers 0;\n};\n", 3,
	             "workers: must be at least 1");
	expect_error(L "dataplane {\n workers 3-1;\n};\n", 3,
	             "workers: expected N (1-1024) or a range A-B");
	expect_error(L "dataplane {\n workers many;\n};\n", 3, "workers: expected");
	expect_error(L "dataplane {\n workers 5000;\n};\n", 3, "workers: expected");
	expect_error(L "dataplane {\n io xdp;\n};\n", 3,
	             "io: expected 'socket' or 'dpdk', found 'xdp'");
	expect_error(L "dataplane { io socket; };\ndataplane { };\n", 3,
	             "duplicate 'dataplane'");
	expect_error(L "dataplane {\n port \"p0\" { };\n};\n", 3,
	             "port 'p0': no address");
	expect_error(L "dataplane {\n port \"p0\" {\n addr 1.2.3.4; };\n};\n", 4,
	             "unknown statement 'addr' in port 'p0'");
	expect_error(L "dataplane {\n port \"p0\" { address 1.2.3; };\n};\n", 3,
	             "address: bad address '1.2.3'");
	expect_error(L "dataplane {\n port \"p0\" { address ::1; };\n"
	             " port \"p0\" { address ::2; };\n};\n", 4,
	             "duplicate port 'p0'");
	expect_error(L "dataplane {\n port \"p0\";\n};\n", 3,
	             "'port' needs a { ... } block");
	expect_error(L "dataplane {\n eal-args \"-l\" { };\n};\n", 3,
	             "'eal-args' takes no { ... } block");
}

static void test_bad_zones(void **state)
{
	(void)state;
	expect_error(L "zone \"example.com\" { file \"a\"; };\n"
	             "zone \"EXAMPLE.com.\" { file \"b\"; };\n", 3,
	             "duplicate zone 'EXAMPLE.com.' (first at");
	expect_error(L "zone \"example.com\" {\n file \"a\";\n table \"b\"; };\n", 2,
	             "zone 'example.com': needs exactly one of 'table' or 'file'");
	expect_error(L "\nzone \"example.com\" { };\n", 3,
	             "needs exactly one of 'table' or 'file'");
	expect_error(L "zone \"example.com\" CH { file \"a\"; };\n", 2,
	             "class 'CH' is not supported");
	expect_error(L "zone \"example.com\" {\n file \"a\";\n"
	             " dnssec-policy default; };\n", 4,
	             "'dnssec-policy' is not supported in zone");
	expect_error(L "zone \"example.com\" {\n type secondary; file \"a\"; };\n", 3,
	             "zone type 'secondary' is not supported");
	expect_error(L "zone \"example.com\" {\n file \"a\";\n file \"b\"; };\n", 4,
	             "duplicate 'file'");
	expect_error(L "zone \"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z."
	             "0123456789012345678901234567890123456789012345678901234567890123"
	             "\" { file \"a\"; };\n", 2, "zone: bad name");
	expect_error(L "zone \"x.example\";\n", 2, "'zone' needs a { ... } block");
	expect_error(L "zone { file \"a\"; };\n", 2, "'zone': missing argument");
}

static void test_bad_include(void **state)
{
	struct bw_diag d = { .emit = capture };
	struct bw_conf *c = NULL;
	struct seen s = { 0 };

	(void)state;
	expect_error(L "\ninclude \"does-not-exist.conf\";\n", 3,
	             "cannot read '");
	expect_error(L "include;\n", 2, "include needs one file name");
	expect_error(L "include \"a\" \"b\";\n", 2, "include needs one file name");
	/* A file that includes itself stops at the depth limit. */
	d.ctx = &s;
	assert_int_equal(bw_conf_load(BW_TEST_DATA "/conf/loop.conf", &c, &d),
	                 BW_EDEPTH);
	assert_null(c);
	assert_int_equal(s.line, 2);
	assert_non_null(strstr(s.msg, "include nested too deep (limit 8)"));
	assert_non_null(strstr(s.file, "loop.conf"));
}

static void test_missing_file(void **state)
{
	struct bw_diag d = { .emit = capture };
	struct bw_conf *c = NULL;
	struct seen s = { 0 };

	(void)state;
	d.ctx = &s;
	assert_int_equal(bw_conf_load("/nonexistent/bulwark.conf", &c, &d),
	                 BW_ENOENT);
	assert_null(c);
	assert_int_equal(s.errors, 1);
	assert_string_equal(s.file, "/nonexistent/bulwark.conf");
}

/* Every error of the checking pass is reported, not only the first. */
static void test_all_errors_reported(void **state)
{
	struct bw_conf *c;
	struct seen s;

	(void)state;
	assert_int_equal(load_text(
		L "dataplane { workers 0; io nope; };\nzone x { };\n", &c, &s),
		BW_ECONF);
	assert_int_equal(s.errors, 3);
	assert_int_equal(s.line, 2);
}

static void test_addr_text(void **state)
{
	struct bw_conf *c = load_good(
		"options { listen-on port 5353 { 2001:db8::1; 192.0.2.1; }; };");
	char buf[96];

	(void)state;
	bw_conf_addr_text(&c->listen[0].ss, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1 port 5353");
	bw_conf_addr_text(&c->listen[1].ss, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1 port 5353");
	bw_conf_free(c);
}

/* ---- rate-limit, cookies, flood-mitigation. ---- */

static void prefix_is(const struct bw_prefix *pf, const char *text,
                      unsigned len)
{
	char buf[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(pf->v6 ? AF_INET6 : AF_INET, pf->addr, buf,
	                          sizeof(buf)));
	assert_string_equal(buf, text);
	assert_int_equal(pf->len, len);
}

/* Compares every field of the flood-mitigation settings. */
static void flood_is(const struct bw_conf_flood *f,
                     const struct bw_conf_flood *want)
{
	assert_int_equal(f->present, want->present);
	assert_int_equal(f->enabled, want->enabled);
	assert_int_equal(f->interval_ms, want->interval_ms);
	assert_int_equal(f->nxdomain_rate, want->nxdomain_rate);
	assert_int_equal(f->distinct_rate, want->distinct_rate);
	assert_int_equal(f->release_percent, want->release_percent);
	assert_int_equal(f->hold_down, want->hold_down);
	assert_int_equal(f->attack_action, want->attack_action);
	assert_int_equal(f->attack_rate, want->attack_rate);
	assert_int_equal(f->filter_rate, want->filter_rate);
	assert_int_equal(f->sample, want->sample);
	assert_int_equal(f->log_rate, want->log_rate);
}

static void test_flood_full(void **state)
{
	static const uint8_t k0[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	                                12, 13, 14, 15 };
	static const uint8_t k1[16] = { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99,
	                                0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
	                                0x11, 0x00 };
	struct bw_conf *c = load_good(
		"options { listen-on { ::1; };\n"
		" rate-limit {\n"
		"  responses-per-second 5; referrals-per-second 6;\n"
		"  nodata-per-second 7; nxdomains-per-second 8;\n"
		"  errors-per-second 9; all-per-second 1000;\n"
		"  window 3600; slip 10; ipv4-prefix-length 32;\n"
		"  ipv6-prefix-length 128; qps-scale 250; log-only yes;\n"
		"  max-table-size 100000;\n"
		"  exempt-clients { 192.0.2.0/24; 2001:db8::/32; 198.51.100.7;\n"
		"                   ::1; 0.0.0.0/0; };\n"
		" };\n"
		" cookie-secret \"000102030405060708090a0b0c0d0e0f\";\n"
		" cookie-secret \"FFEEDDCCBBAA99887766554433221100\";\n"
		" cookie-algorithm siphash24;\n"
		" answer-cookie no;\n"
		"};\n"
		"flood-mitigation {\n"
		" interval 100; nxdomain-rate 2000; distinct-rate 800;\n"
		" release-percent 25; hold-down 60; attack-action require-cookie;\n"
		" attack-nxdomains-per-second 50; filter-responses-per-second 20;\n"
		" sample 16; log-rate 5; enable no;\n"
		"};\n");
	const struct bw_rrl_conf *r = &c->rrl;

	(void)state;
	assert_true(r->enabled);
	assert_int_equal(r->rate[BW_RRL_RESPONSE], 5);
	assert_int_equal(r->rate[BW_RRL_REFERRAL], 6);
	assert_int_equal(r->rate[BW_RRL_NODATA], 7);
	assert_int_equal(r->rate[BW_RRL_NXDOMAIN], 8);
	assert_int_equal(r->rate[BW_RRL_ERROR], 9);
	assert_int_equal(r->rate[BW_RRL_ALL], 1000);
	assert_int_equal(r->window, 3600);
	assert_int_equal(r->slip, 10);
	assert_int_equal(r->ipv4_prefix, 32);
	assert_int_equal(r->ipv6_prefix, 128);
	assert_int_equal(r->qps_scale, 250);
	assert_true(r->log_only);
	assert_int_equal(r->table_size, 100000);
	assert_int_equal(r->nexempt, 5);
	assert_int_equal(c->ncookie_secrets, 2);
	assert_memory_equal(c->cookie_secret[0].key, k0, 16);
	assert_memory_equal(c->cookie_secret[1].key, k1, 16);
	assert_false(c->answer_cookie);
	flood_is(&c->flood, &(struct bw_conf_flood){
		.present = true, .enabled = false, .interval_ms = 100,
		.nxdomain_rate = 2000, .distinct_rate = 800, .release_percent = 25,
		.hold_down = 60, .attack_action = BW_FLOOD_REQUIRE_COOKIE,
		.attack_rate = 50, .filter_rate = 20, .sample = 16, .log_rate = 5 });
	bw_conf_free(c);
}

/* No block: RRL off with BIND's defaults, cookies answered, detection on. */
static void test_flood_defaults(void **state)
{
	struct bw_conf_flood want = {
		.present = false, .enabled = true, .interval_ms = 250,
		.nxdomain_rate = 1000, .distinct_rate = 500, .release_percent = 50,
		.hold_down = 10, .attack_action = BW_FLOOD_RATE_LIMIT,
		.attack_rate = 100, .filter_rate = 100, .sample = 0, .log_rate = 10 };
	struct bw_conf *c = load_good("options { listen-on { ::1; }; };\n");

	(void)state;
	assert_false(c->rrl.enabled);
	for (size_t k = 0; k < BW_RRL_CLASSES; k++)
		assert_int_equal(c->rrl.rate[k], 0);
	assert_int_equal(c->rrl.window, 15);
	assert_int_equal(c->rrl.slip, 2);
	assert_int_equal(c->rrl.ipv4_prefix, 24);
	assert_int_equal(c->rrl.ipv6_prefix, 56);
	assert_int_equal(c->rrl.qps_scale, 0);
	assert_false(c->rrl.log_only);
	assert_int_equal(c->rrl.table_size, 20000);
	assert_int_equal(c->rrl.nexempt, 0);
	assert_int_equal(c->ncookie_secrets, 0);
	assert_true(c->answer_cookie);
	flood_is(&c->flood, &want);
	bw_conf_free(c);
	/* Empty blocks: the same values, present. */
	c = load_good("options { listen-on { ::1; }; rate-limit { }; };\n"
	              "flood-mitigation { };\n");
	assert_true(c->rrl.enabled);
	assert_int_equal(c->rrl.rate[BW_RRL_NXDOMAIN], 0);
	want.present = true;
	flood_is(&c->flood, &want);
	bw_conf_free(c);
}

/* The class limits default to responses-per-second, in any order;
 * all-per-second does not. */
static void test_rrl_default_rates(void **state)
{
	struct bw_conf *c = load_good(
		"options { listen-on { ::1; };\n"
		" rate-limit { errors-per-second 3; nxdomains-per-second 0;\n"
		"  responses-per-second 10; }; };\n");

	(void)state;
	assert_int_equal(c->rrl.rate[BW_RRL_RESPONSE], 10);
	assert_int_equal(c->rrl.rate[BW_RRL_REFERRAL], 10);
	assert_int_equal(c->rrl.rate[BW_RRL_NODATA], 10);
	assert_int_equal(c->rrl.rate[BW_RRL_NXDOMAIN], 0);
	assert_int_equal(c->rrl.rate[BW_RRL_ERROR], 3);
	assert_int_equal(c->rrl.rate[BW_RRL_ALL], 0);
	bw_conf_free(c);
	c = load_good("options { listen-on { ::1; };\n"
	              " rate-limit { Responses-Per-Second 7; log-only false; }; };\n");
	for (size_t k = 0; k < BW_RRL_CLASSES; k++)
		assert_int_equal(c->rrl.rate[k], k == BW_RRL_ALL ? 0 : 7);
	assert_false(c->rrl.log_only);
	bw_conf_free(c);
}

static void test_rrl_exempt(void **state)
{
	struct bw_conf *c = load_good(
		"options { listen-on { ::1; };\n"
		" rate-limit { exempt-clients { 192.0.2.0/24; 2001:db8::/32;\n"
		"  198.51.100.7; 2001:db8:1::53; 10.0.0.0/8; ::/0; }; }; };\n");
	const struct bw_prefix *e = c->rrl.exempt;

	(void)state;
	assert_int_equal(c->rrl.nexempt, 6);
	prefix_is(&e[0], "192.0.2.0", 24);
	assert_false(e[0].v6);
	prefix_is(&e[1], "2001:db8::", 32);
	assert_true(e[1].v6);
	prefix_is(&e[2], "198.51.100.7", 32);
	assert_false(e[2].v6);
	prefix_is(&e[3], "2001:db8:1::53", 128);
	assert_true(e[3].v6);
	prefix_is(&e[4], "10.0.0.0", 8);
	prefix_is(&e[5], "::", 0);
	assert_true(e[5].v6);
	bw_conf_free(c);
}

/* min-table-size is accepted (BIND configs) with a warning. */
static void test_rrl_min_table_size(void **state)
{
	struct bw_conf *c;
	struct seen s;

	(void)state;
	assert_int_equal(load_text("options { listen-on { ::1; };\n"
	                           " rate-limit { min-table-size 500; }; };\n",
	                           &c, &s), 0);
	assert_int_equal(s.warnings, 1);
	assert_int_equal(c->rrl.table_size, 20000);
	bw_conf_free(c);
}

#define O "options { listen-on { ::1; };\n"
#define RL O " rate-limit {\n"

static void test_bad_rate_limit(void **state)
{
	(void)state;
	expect_error(RL "  responses-per-second 1001; }; };\n", 3,
	             "responses-per-second: '1001' is not a number from 0 to 1000");
	expect_error(RL "  all-per-second -1; }; };\n", 3,
	             "all-per-second: '-1' is not a number from 0 to 1000");
	expect_error(RL "  errors-per-second many; }; };\n", 3,
	             "errors-per-second: 'many' is not a number from 0 to 1000");
	expect_error(RL "  responses-per-second size 1232 ratio 0.5 10; }; };\n", 3,
	             "responses-per-second: 'size' is not supported");
	expect_error(RL "  nxdomains-per-second\n ratio 0.5 10; }; };\n", 4,
	             "nxdomains-per-second: 'ratio' is not supported");
	expect_error(RL "  window 0; }; };\n", 3,
	             "window: '0' is not a number from 1 to 3600");
	expect_error(RL "  window 3601; }; };\n", 3,
	             "window: '3601' is not a number from 1 to 3600");
	expect_error(RL "  slip 11; }; };\n", 3,
	             "slip: '11' is not a number from 0 to 10");
	expect_error(RL "  ipv4-prefix-length 33; }; };\n", 3,
	             "ipv4-prefix-length: '33' is not a number from 0 to 32");
	expect_error(RL "  ipv6-prefix-length 129; }; };\n", 3,
	             "ipv6-prefix-length: '129' is not a number from 0 to 128");
	expect_error(RL "  qps-scale -5; }; };\n", 3,
	             "qps-scale: '-5' is not a number from 0 to 4294967295");
	expect_error(RL "  max-table-size 0; }; };\n", 3,
	             "max-table-size: '0' is not a number from 1 to 16777216");
	expect_error(RL "  min-table-size 0; }; };\n", 3,
	             "min-table-size: '0' is not a number from 1 to 16777216");
	expect_error(RL "  log-only maybe; }; };\n", 3,
	             "log-only: expected yes or no, found 'maybe'");
	expect_error(RL "  responses 5; }; };\n", 3,
	             "unknown statement 'responses' in rate-limit");
	expect_error(RL "  window 5;\n  window 6; }; };\n", 4,
	             "duplicate 'window' (first at");
	expect_error(RL "  slip 1 2; }; };\n", 3, "'slip': unexpected '2'");
	expect_error(O " rate-limit { };\n rate-limit { }; };\n", 3,
	             "duplicate 'rate-limit'");
	expect_error(O " rate-limit;\n};\n", 2, "'rate-limit' needs a { ... } block");
	expect_error(O " rate-limit yes { };\n};\n", 2,
	             "'rate-limit': unexpected 'yes'");
}

static void test_bad_exempt(void **state)
{
	char text[4096];
	size_t n;

	(void)state;
	expect_error(RL "  exempt-clients {\n !192.0.2.1; }; }; };\n", 4,
	             "exempt-clients: negation ('!192.0.2.1') is not supported here");
	expect_error(RL "  exempt-clients { 192.0.2.0/24;\n ! 192.0.2.1; }; }; };\n",
	             4, "negation ('!') is not supported here");
	expect_error(RL "  exempt-clients {\n any; }; }; };\n", 4,
	             "exempt-clients: 'any' is not an address or prefix (ACL names "
	             "and keys are not supported here)");
	expect_error(RL "  exempt-clients {\n trusted; }; }; };\n", 4,
	             "'trusted' is not an address or prefix");
	expect_error(RL "  exempt-clients {\n key k1; }; }; };\n", 4,
	             "'key' is not an address or prefix");
	expect_error(RL "  exempt-clients {\n 192.0.2.0/33; }; }; };\n", 4,
	             "'192.0.2.0/33' is not an address or prefix");
	expect_error(RL "  exempt-clients {\n 2001:db8::/129; }; }; };\n", 4,
	             "'2001:db8::/129' is not an address or prefix");
	expect_error(RL "  exempt-clients {\n 192.0.2.0/; }; }; };\n", 4,
	             "'192.0.2.0/' is not an address or prefix");
	expect_error(RL "  exempt-clients {\n fe80::1%lo; }; }; };\n", 4,
	             "'fe80::1%lo' is not an address or prefix");
	expect_error(RL "  exempt-clients {\n 192.0.2.1/24; }; }; };\n", 4,
	             "exempt-clients: '192.0.2.1/24' has bits set after the prefix "
	             "length");
	expect_error(RL "  exempt-clients {\n 2001:db8::1/64; }; }; };\n", 4,
	             "'2001:db8::1/64' has bits set after the prefix length");
	expect_error(RL "  exempt-clients 192.0.2.1; }; };\n", 3,
	             "'exempt-clients': unexpected '192.0.2.1'");
	/* BW_RRL_EXEMPT_MAX entries, one a line, then one more. */
	n = (size_t)snprintf(text, sizeof(text), RL "  exempt-clients {\n");
	for (unsigned i = 0; i <= BW_RRL_EXEMPT_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " 10.0.%u.0/24;\n", i);
	snprintf(text + n, sizeof(text) - n, " }; }; };\n");
	expect_error(text, 4 + BW_RRL_EXEMPT_MAX, "exempt-clients: more than 64 entries");
}

static void test_bad_cookies(void **state)
{
	(void)state;
	expect_error(O " cookie-secret\n \"000102030405060708090a0b0c0d0e0g\"; };\n", 3,
	             "cookie-secret must be 32 hexadecimal digits (siphash24)");
	expect_error(O " cookie-secret \"000102030405060708090a0b0c0d0e\"; };\n", 2,
	             "cookie-secret must be 32 hexadecimal digits (siphash24)");
	expect_error(O " cookie-secret \"000102030405060708090a0b0c0d0e0f00\"; };\n",
	             2, "cookie-secret must be 32 hexadecimal digits (siphash24)");
	expect_error(O " cookie-secret \"000102030405060708090a0b0c0d0e0f"
	             "101112131415161718191a1b1c1d1e1f\"; };\n", 2,
	             "cookie-secret must be 32 hexadecimal digits (siphash24)");
	expect_error(O " cookie-secret \"\"; };\n", 2,
	             "cookie-secret must be 32 hexadecimal digits (siphash24)");
	expect_error(O " cookie-secret 000102030405060708090a0b0c0d0e0f;\n"
	             " cookie-secret \"101112131415161718191a1b1c1d1e1f\";\n"
	             " cookie-secret \"202122232425262728292a2b2c2d2e2f\"; };\n", 4,
	             "cookie-secret: at most 2 (the first makes cookies, the second "
	             "only verifies them)");
	expect_error(O " cookie-secret; };\n", 2, "'cookie-secret': missing argument");
	expect_error(O " cookie-algorithm aes; };\n", 2,
	             "cookie-algorithm: only siphash24 is supported, found 'aes'");
	expect_error(O " cookie-algorithm siphash24;\n cookie-algorithm siphash24; };\n",
	             3, "duplicate 'cookie-algorithm'");
	expect_error(O " answer-cookie sometimes; };\n", 2,
	             "answer-cookie: expected yes or no, found 'sometimes'");
}

#define FM O "};\nflood-mitigation {\n"

static void test_bad_flood(void **state)
{
	(void)state;
	expect_error(FM " interval 99; };\n", 4,
	             "interval: '99' is not a number from 100 to 1000");
	expect_error(FM " interval 1001; };\n", 4,
	             "interval: '1001' is not a number from 100 to 1000");
	expect_error(FM " nxdomain-rate 0; };\n", 4,
	             "nxdomain-rate: '0' is not a number from 1 to 1000000");
	expect_error(FM " distinct-rate 1000001; };\n", 4,
	             "distinct-rate: '1000001' is not a number from 1 to 1000000");
	expect_error(FM " release-percent 0; };\n", 4,
	             "release-percent: '0' is not a number from 1 to 100");
	expect_error(FM " release-percent 101; };\n", 4,
	             "release-percent: '101' is not a number from 1 to 100");
	expect_error(FM " hold-down 0; };\n", 4,
	             "hold-down: '0' is not a number from 1 to 3600");
	expect_error(FM " hold-down 3601; };\n", 4,
	             "hold-down: '3601' is not a number from 1 to 3600");
	expect_error(FM " attack-action refuse; };\n", 4,
	             "attack-action: expected none, rate-limit, require-cookie or "
	             "drop, found 'refuse'");
	expect_error(FM " attack-action; };\n", 4, "'attack-action': missing argument");
	expect_error(FM " attack-nxdomains-per-second 0; };\n", 4,
	             "attack-nxdomains-per-second: '0' is not a number from 1 to "
	             "1000000");
	expect_error(FM " filter-responses-per-second x; };\n", 4,
	             "filter-responses-per-second: 'x' is not a number from 1 to "
	             "1000000");
	expect_error(FM " sample -1; };\n", 4,
	             "sample: '-1' is not a number from 0 to 1000000");
	expect_error(FM " log-rate 0; };\n", 4,
	             "log-rate: '0' is not a number from 1 to 1000");
	expect_error(FM " enable on; };\n", 4,
	             "enable: expected yes or no, found 'on'");
	expect_error(FM " threshold 5; };\n", 4,
	             "unknown statement 'threshold' in flood-mitigation");
	expect_error(FM " sample 1;\n sample 2; };\n", 5, "duplicate 'sample'");
	expect_error(FM "};\nflood-mitigation { };\n", 5,
	             "duplicate 'flood-mitigation'");
	expect_error(O "};\nflood-mitigation;\n", 3,
	             "'flood-mitigation' needs a { ... } block");
	expect_error(O " flood-mitigation { };\n};\n", 2,
	             "unknown statement 'flood-mitigation' in options");
}

/* Every action name is accepted. */
static void test_flood_actions(void **state)
{
	static const char *const names[] = { "none", "rate-limit",
	                                     "require-cookie", "DROP" };
	static const enum bw_flood_action want[] = {
		BW_FLOOD_NONE, BW_FLOOD_RATE_LIMIT, BW_FLOOD_REQUIRE_COOKIE,
		BW_FLOOD_DROP };
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bw_conf *c;

		snprintf(text, sizeof(text), FM " attack-action %s; enable yes; };\n",
		         names[i]);
		c = load_good(text);
		assert_int_equal(c->flood.attack_action, want[i]);
		assert_true(c->flood.enabled);
		bw_conf_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_nsid_from_server_id),
		cmocka_unit_test(test_comments_and_layout),
		cmocka_unit_test(test_relative_directory),
		cmocka_unit_test(test_port_warning),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_tcp_options),
		cmocka_unit_test(test_tcp_client_options),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_bad_dataplane),
		cmocka_unit_test(test_bad_zones),
		cmocka_unit_test(test_bad_include),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_addr_text),
		cmocka_unit_test(test_flood_full),
		cmocka_unit_test(test_flood_defaults),
		cmocka_unit_test(test_rrl_default_rates),
		cmocka_unit_test(test_rrl_exempt),
		cmocka_unit_test(test_rrl_min_table_size),
		cmocka_unit_test(test_bad_rate_limit),
		cmocka_unit_test(test_bad_exempt),
		cmocka_unit_test(test_bad_cookies),
		cmocka_unit_test(test_bad_flood),
		cmocka_unit_test(test_flood_actions),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
