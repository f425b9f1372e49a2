/*  bulwark — unit tests of the zone registry: publication, replacement,
 *  errors that change nothing, the state file across restarts, reload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bulwark/answer.h"
#include "bulwark/err.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "bulwark/zoneset.h"
#include "conf.h"
#include "registry.h"
#include "util.h"

static char dir[64];

static const char *zone_text(const char *origin, unsigned serial)
{
	static char text[1024];

	snprintf(text, sizeof(text),
	         "$ORIGIN %s\n$TTL 300\n"
	         "@ SOA ns.%s host.%s %u 3600 600 86400 300\n"
	         "@ NS ns.%s\nns A 192.0.2.1\nwww A 192.0.2.%u\n",
	         origin, origin, origin, serial, origin, serial % 250 + 1);
	return text;
}

/* Compiles a zone into DIR/FILE. */
static void write_table(const char *file, const char *origin, unsigned serial)
{
	struct bw_diag d = { .quiet = 1 };
	uint8_t *buf = NULL;
	size_t len = 0;
	char path[256];
	FILE *f;

	assert_int_equal(tu_compile(zone_text(origin, serial), origin, &d, &buf,
	                            &len), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
}

static void write_file(const char *file, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct bw_conf *conf_of(const char *zones)
{
	struct bw_diag d = { .quiet = 1 };
	struct bw_conf *c = NULL;
	char text[2048], path[256];

	snprintf(text, sizeof(text), "options { directory \"%s\"; listen-on port 53 { 127.0.0.1; }; };\n%s", dir, zones);
	write_file("t.conf", text);
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	if (bw_conf_load(path, &c, &d) != 0)
		fail_msg("%s:%u: %s", d.first_file, d.first_line, d.first_msg);
	return c;
}

/* The serial that the published set answers for a zone, or 0. */
static uint32_t served(const char *origin)
{
	uint8_t name[BW_NAME_MAXLEN];
	const struct bw_zoneset *zs = bw_zoneset_current();
	const struct bw_table *t;

	tu_name(name, origin);
	t = zs != NULL ? bw_zoneset_find(zs, name) : NULL;
	return t != NULL ? bw_table_serial(t) : 0;
}

static uint64_t status_u64(struct bw_registry *r, const char *zone,
                           const char *key)
{
	struct bw_ctl_error e = { 0 };
	struct bw_json *st = NULL;
	uint64_t v = 0;

	assert_int_equal(bw_reg_status(r, zone, &st, &e), 0);
	const struct bw_json *q = bw_json_get(st, "queries");
	assert_int_equal(bw_json_get_u64(bw_json_get(st, key) ? st : q, key, &v), 0);
	bw_json_free(st);
	return v;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bw-test-reg-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void remove_state(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, BW_REG_STATE);
	unlink(path);
}

/* ---- Tests. ---- */

static void test_load_replace_unload(void **state)
{
	struct bw_registry *r = bw_reg_new(dir, 2);
	struct bw_ctl_error e = { 0 };
	struct bw_json *res = NULL;
	uint64_t prev = 0;

	(void)state;
	remove_state();
	write_table("a1.bwz", "a.test.", 1);
	write_table("a2.bwz", "a.test.", 2);
	assert_int_equal(bw_reg_load(r, "a.test", "a1.bwz", &res, &e), 0);
	assert_int_equal(served("a.test."), 1);
	assert_null(bw_json_get_str(res, "previous_serial"));
	bw_json_free(res);

	/* Count one answer in row 1, as a worker would. */
	uint8_t name[BW_NAME_MAXLEN];
	tu_name(name, "www.a.test.");
	struct bw_answer_info info = { .kind = BW_ANS_POSITIVE, .do_bit = true,
	                               .zone = bw_zoneset_find(bw_zoneset_current(), name) };
	bw_zone_count(&info, 1);
	bw_zone_count(&info, 7);  /* No such row: ignored. */

	assert_int_equal(bw_reg_load(r, "A.TEST.", "a2.bwz", &res, &e), 0);
	assert_int_equal(served("a.test."), 2);
	assert_int_equal(bw_json_get_u64(res, "previous_serial", &prev), 0);
	assert_int_equal(prev, 1);
	bw_json_free(res);
	/* The counters survive the new version. */
	assert_int_equal(status_u64(r, "a.test", "answers"), 1);
	assert_int_equal(status_u64(r, "a.test", "positive"), 1);
	assert_int_equal(status_u64(r, "a.test", "do"), 1);
	assert_int_equal(status_u64(r, "a.test", "serial"), 2);
	bw_reg_stats_reset(r);
	assert_int_equal(status_u64(r, "a.test", "answers"), 0);

	assert_int_equal(bw_reg_unload(r, "a.test", &res, &e), 0);
	bw_json_free(res);
	assert_int_equal(served("a.test."), 0);
	assert_int_equal(bw_reg_unload(r, "a.test", &res, &e), BW_ENOENT);
	assert_string_equal(e.code, BW_CTL_ENOZONE);
	assert_int_equal(bw_reg_publications(r), 3);
	bw_reg_free(r);
}

static void test_errors_change_nothing(void **state)
{
	struct bw_registry *r = bw_reg_new(dir, 1);
	struct bw_ctl_error e = { 0 };
	struct bw_json *res = NULL;

	(void)state;
	remove_state();
	write_table("b1.bwz", "b.test.", 5);
	write_table("other.bwz", "other.test.", 9);
	write_file("junk.bwz", "this is not a table\n");
	assert_int_equal(bw_reg_load(r, "b.test", "b1.bwz", &res, &e), 0);
	bw_json_free(res);
	uint64_t pubs = bw_reg_publications(r);

	assert_int_not_equal(bw_reg_load(r, "b.test", "junk.bwz", &res, &e), 0);
	assert_string_equal(e.code, BW_CTL_ETABLE);
	assert_non_null(strstr(e.msg, "junk.bwz"));
	assert_int_not_equal(bw_reg_load(r, "b.test", "missing.bwz", &res, &e), 0);
	assert_string_equal(e.code, BW_CTL_ETABLE);
	assert_int_equal(bw_reg_load(r, "b.test", "other.bwz", &res, &e), BW_EZONE);
	assert_string_equal(e.code, BW_CTL_EMISMATCH);
	assert_non_null(strstr(e.msg, "other.test."));
	assert_int_equal(bw_reg_load(r, "bad..name", "b1.bwz", &res, &e), BW_EINVAL);
	assert_string_equal(e.code, BW_CTL_EARG);
	assert_int_equal(bw_reg_status(r, "nope.test", &res, &e), BW_ENOENT);
	assert_string_equal(e.code, BW_CTL_ENOZONE);

	assert_int_equal(bw_reg_publications(r), pubs);
	assert_int_equal(served("b.test."), 5);
	bw_reg_free(r);
}

static void test_state_restart(void **state)
{
	struct bw_conf *c = conf_of("zone \"c.test\" { table \"c1.bwz\"; };\n");
	struct bw_ctl_error e = { 0 };
	struct bw_json *res = NULL;
	struct bw_registry *r;

	(void)state;
	remove_state();
	write_table("c1.bwz", "c.test.", 1);
	write_table("c2.bwz", "c.test.", 2);
	write_table("d.bwz", "d.test.", 3);
	r = bw_reg_new(dir, 1);
	assert_int_equal(bw_reg_start(r, c), 0);
	assert_int_equal(served("c.test."), 1);
	assert_int_equal(bw_reg_load(r, "c.test", "c2.bwz", &res, &e), 0);
	bw_json_free(res);
	assert_int_equal(bw_reg_load(r, "d.test", "d.bwz", &res, &e), 0);
	bw_json_free(res);
	bw_reg_free(r);

	/* A restart: the state file wins over the configuration. */
	r = bw_reg_new(dir, 1);
	assert_int_equal(bw_reg_start(r, c), 0);
	assert_int_equal(served("c.test."), 2);
	assert_int_equal(served("d.test."), 3);
	assert_int_equal(bw_reg_count(r), 2);
	bw_reg_free(r);

	/* A table that went bad is skipped, not fatal. */
	write_file("d.bwz", "truncated");
	r = bw_reg_new(dir, 1);
	assert_int_equal(bw_reg_start(r, c), 1);
	assert_int_equal(served("d.test."), 0);
	assert_int_equal(served("c.test."), 2);
	bw_reg_free(r);

	/* A state file that does not parse is moved aside. */
	write_file(BW_REG_STATE, "{\"version\": 1, \"zones\": [");
	r = bw_reg_new(dir, 1);
	assert_int_equal(bw_reg_start(r, c), 0);
	assert_int_equal(served("c.test."), 1);
	char bad[256];
	snprintf(bad, sizeof(bad), "%s/%s.bad", dir, BW_REG_STATE);
	assert_int_equal(access(bad, F_OK), 0);
	bw_reg_free(r);
	bw_conf_free(c);
}

static void test_unload_config_zone_persists(void **state)
{
	struct bw_conf *c = conf_of("zone \"e.test\" { table \"e1.bwz\"; };\n");
	struct bw_conf *c2;
	struct bw_ctl_error e = { 0 };
	struct bw_json *res = NULL;
	struct bw_registry *r;

	(void)state;
	remove_state();
	write_table("e1.bwz", "e.test.", 1);
	write_table("e2.bwz", "e.test.", 2);
	r = bw_reg_new(dir, 1);
	assert_int_equal(bw_reg_start(r, c), 0);
	assert_int_equal(bw_reg_unload(r, "e.test", &res, &e), 0);
	bw_json_free(res);
	bw_reg_free(r);

	r = bw_reg_new(dir, 1);
	assert_int_equal(bw_reg_start(r, c), 0);
	assert_int_equal(served("e.test."), 0);
	/* A reload that changes the zone's statement brings it back. */
	c2 = conf_of("zone \"e.test\" { table \"e2.bwz\"; };\n");
	assert_int_equal(bw_reg_reload(r, c, c2, &res, &e), 0);
	assert_int_equal(bw_json_get(res, "changed")->n +
	                 bw_json_get(res, "added")->n, 1);
	bw_json_free(res);
	assert_int_equal(served("e.test."), 2);
	bw_reg_free(r);
	bw_conf_free(c);
	bw_conf_free(c2);
}

static void test_reload_diff(void **state)
{
	struct bw_conf *c1 = conf_of("zone \"f.test\" { table \"f.bwz\"; };\n"
	                             "zone \"g.test\" { table \"g1.bwz\"; };\n"
	                             "zone \"h.test\" { table \"h.bwz\"; };\n");
	struct bw_conf *c2;
	struct bw_ctl_error e = { 0 };
	struct bw_json *res = NULL;
	struct bw_registry *r;
	uint64_t unchanged = 0;

	(void)state;
	remove_state();
	write_table("f.bwz", "f.test.", 1);
	write_table("g1.bwz", "g.test.", 1);
	write_table("g2.bwz", "g.test.", 2);
	write_table("h.bwz", "h.test.", 1);
	write_table("i.bwz", "i.test.", 1);
	r = bw_reg_new(dir, 1);
	assert_int_equal(bw_reg_start(r, c1), 0);
	c2 = conf_of("zone \"f.test\" { table \"f.bwz\"; };\n"
	             "zone \"g.test\" { table \"g2.bwz\"; };\n"
	             "zone \"i.test\" { table \"i.bwz\"; };\n"
	             "zone \"j.test\" { table \"missing.bwz\"; };\n");
	uint64_t pubs = bw_reg_publications(r);
	assert_int_equal(bw_reg_reload(r, c1, c2, &res, &e), 0);
	assert_int_equal(bw_reg_publications(r), pubs + 1);  /* One swap. */
	assert_string_equal(bw_json_get(res, "added")->items[0]->str, "i.test.");
	assert_string_equal(bw_json_get(res, "removed")->items[0]->str, "h.test.");
	assert_string_equal(bw_json_get(res, "changed")->items[0]->str, "g.test.");
	assert_int_equal(bw_json_get(res, "failed")->n, 1);
	assert_int_equal(bw_json_get_u64(res, "unchanged", &unchanged), 0);
	assert_int_equal(unchanged, 1);
	bw_json_free(res);
	assert_int_equal(served("g.test."), 2);
	assert_int_equal(served("h.test."), 0);
	assert_int_equal(served("i.test."), 1);
	assert_int_equal(served("j.test."), 0);

	/* A table rewritten on disk under the same name is loaded again. */
	sleep(0);
	write_table("f.bwz", "f.test.", 7);
	assert_int_equal(bw_reg_reload(r, c2, c2, &res, &e), 0);
	bw_json_free(res);
	assert_int_equal(served("f.test."), 7);
	bw_reg_free(r);
	bw_conf_free(c1);
	bw_conf_free(c2);
}

/* Many swaps keep one table per zone open and the counters shared. */
static void test_many_swaps(void **state)
{
	struct bw_registry *r = bw_reg_new(dir, 1);
	struct bw_ctl_error e = { 0 };
	struct bw_json *res = NULL;

	(void)state;
	remove_state();
	write_table("k1.bwz", "k.test.", 1);
	write_table("k2.bwz", "k.test.", 2);
	for (unsigned i = 0; i < 1000; i++) {
		assert_int_equal(bw_reg_load(r, "k.test", i % 2 ? "k2.bwz" : "k1.bwz",
		                             &res, &e), 0);
		bw_json_free(res);
		assert_int_equal(served("k.test."), i % 2 ? 2 : 1);
	}
	assert_int_equal(bw_reg_count(r), 1);
	assert_int_equal(bw_reg_publications(r), 1000);
	bw_reg_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_replace_unload),
		cmocka_unit_test(test_errors_change_nothing),
		cmocka_unit_test(test_state_restart),
		cmocka_unit_test(test_unload_config_zone_persists),
		cmocka_unit_test(test_reload_diff),
		cmocka_unit_test(test_many_swaps),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
