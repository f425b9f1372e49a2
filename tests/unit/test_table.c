/*  Unit tests: the table writer and loader — determinism, the dump round
 *  trip, and rejection of truncated, corrupted and out-of-bounds tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include <cmocka.h>

#include "bulwark/compile.h"
#include "bulwark/err.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "dump.h"
#include "table_impl.h"
#include "util.h"

static const char zone_text[] =
	"$ORIGIN example.com.\n"
	"$TTL 300\n"
	"@ SOA ns1 hostmaster 42 7200 3600 1209600 300\n"
	"@ NS ns1\n"
	"@ MX 10 mail\n"
	"ns1 A 192.0.2.1\n"
	"mail A 192.0.2.25\n"
	"www A 192.0.2.80\n"
	"www TXT \"hello world\" \"two\"\n"
	"alias CNAME www\n"
	"*.wild AAAA 2001:db8::1\n"
	"a.b.ent A 192.0.2.7\n"
	"sub NS ns.sub\n"
	"ns.sub A 192.0.2.53\n"
	"Up\\046Case\\200 A 192.0.2.8\n";

static uint8_t *compile(size_t *len)
{
	struct bw_diag d = { 0 };
	uint8_t *data;
	int ret = tu_compile(zone_text, "example.com.", &d, &data, len);

	assert_int_equal(ret, 0);
	return data;
}

/* A copy in an 8-aligned buffer that the test may change. */
static uint8_t *copy(const uint8_t *data, size_t len)
{
	uint8_t *c = malloc(len + 8);
	memcpy(c, data, len);
	return c;
}

static int load(uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct bw_table *t = NULL;
	int ret = bw_table_from_mem(data, len, false, &t, err, errlen);
	if (ret == 0)
		bw_table_close(t);
	return ret;
}

static void reseal(uint8_t *data, size_t len)
{
	struct bw_tbl_header *h = (struct bw_tbl_header *)(void *)data;
	h->checksum = bw_tbl_checksum(data, len);
}

static void test_load_and_header(void **state)
{
	(void)state;
	size_t len;
	uint8_t *data = compile(&len);
	struct bw_table *t;
	char err[256];
	uint8_t apex[255];

	assert_int_equal(bw_table_from_mem(data, len, true, &t, err, sizeof(err)), 0);
	tu_name(apex, "example.com.");
	assert_memory_equal(bw_table_apex(t), apex, 13);
	assert_int_equal(bw_table_serial(t), 42);
	assert_int_equal(bw_table_size(t), len);
	/* Apex, ns1, mail, www, alias, *.wild, wild (ENT), a.b.ent, b.ent,
	 * ent, sub, ns.sub, Up.Case. */
	assert_int_equal(bw_table_nodes(t), 13);
	assert_int_equal(bw_table_sig_expiry(t), 0);
	bw_table_close(t);
}

static void test_deterministic(void **state)
{
	(void)state;
	size_t a_len, b_len;
	uint8_t *a = compile(&a_len), *b = compile(&b_len);

	assert_int_equal(a_len, b_len);
	assert_memory_equal(a, b, a_len);
	free(a);
	free(b);
}

static void test_dump_round_trip(void **state)
{
	(void)state;
	size_t len, len2;
	uint8_t *data = compile(&len);
	struct bw_table *t;
	char err[256], *text = NULL;
	size_t tlen = 0;

	assert_int_equal(bw_table_from_mem(data, len, false, &t, err, sizeof(err)), 0);
	FILE *f = open_memstream(&text, &tlen);
	assert_int_equal(bw_dump_table(t, f), 0);
	fclose(f);
	bw_table_close(t);
	/* The SOA comes first; names are absolute and escaped. */
	assert_non_null(strstr(text, "example.com.\t300\tIN\tSOA\t"));
	assert_non_null(strstr(text, "up\\.case\\200.example.com.\t300\tIN\tA\t192.0.2.8"));

	struct bw_diag d = { 0 };
	uint8_t *again;
	assert_int_equal(tu_compile(text, NULL, &d, &again, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(data, again, len);
	free(again);
	free(text);
	free(data);
}

static void test_truncated(void **state)
{
	(void)state;
	size_t len;
	uint8_t *data = compile(&len);
	char err[256];

	for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
		uint8_t *c = copy(data, cut);
		assert_true(load(c, cut, err, sizeof(err)) < 0);
		free(c);
	}
	uint8_t *c = copy(data, len - 8);
	assert_int_equal(load(c, len - 8, err, sizeof(err)), BW_ETABLE);
	assert_non_null(strstr(err, "truncated"));
	free(c);
	free(data);
}

static void test_corrupted(void **state)
{
	(void)state;
	size_t len;
	uint8_t *data = compile(&len);
	char err[256];

	/* Any flipped octet outside the checksum field is caught. */
	for (size_t i = 0; i < len; i += 7) {
		if (i >= 24 && i < 32)
			continue;
		uint8_t *c = copy(data, len);
		c[i] ^= 0x40;
		assert_true(load(c, len, err, sizeof(err)) < 0);
		free(c);
	}
	uint8_t *c = copy(data, len);
	c[len - 1] ^= 1;
	assert_int_equal(load(c, len, err, sizeof(err)), BW_ECHECKSUM);
	memcpy(c, data, len);
	memcpy(c, "NOTATABL", 8);
	assert_int_equal(load(c, len, err, sizeof(err)), BW_ETABLE);
	assert_non_null(strstr(err, "magic"));
	memcpy(c, data, len);
	((struct bw_tbl_header *)(void *)c)->version = 99;
	assert_int_equal(load(c, len, err, sizeof(err)), BW_EVERSION);
	free(c);
	free(data);
}

/* Changes that keep a valid checksum must be caught by the bounds checks. */
static void test_out_of_bounds(void **state)
{
	(void)state;
	size_t len;
	uint8_t *data = compile(&len);
	char err[256];
	const struct bw_tbl_header *h = (const void *)data;
	const struct bw_tbl_shard *sd = (const void *)(data + h->shard_dir);
	uint8_t *c = copy(data, len);
	struct bw_tbl_header *ch = (void *)c;
	struct bw_tbl_shard *cs = (void *)(c + h->shard_dir);

	cs->base = len;                       /* Shard past the end. */
	reseal(c, len);
	assert_int_equal(load(c, len, err, sizeof(err)), BW_ETABLE);

	memcpy(c, data, len);                 /* Bucket pointing outside. */
	struct bw_tbl_bucket *bk = (void *)(c + sd->base);
	uint32_t i = 0;
	while (bk[i].node == 0)
		i++;
	bk[i].node = (uint32_t)sd->size + 64;
	reseal(c, len);
	assert_int_equal(load(c, len, err, sizeof(err)), BW_ETABLE);

	memcpy(c, data, len);                 /* Blob offset outside. */
	bk = (void *)(c + sd->base);
	i = 0;
	while (bk[i].node == 0 || ((struct bw_tbl_node *)(void *)(c + sd->base + bk[i].node))->ntypes == 0)
		i++;
	struct bw_tbl_node *n = (void *)(c + sd->base + bk[i].node);
	n->types[0].blob = (uint32_t)sd->size + 2;
	reseal(c, len);
	assert_int_equal(load(c, len, err, sizeof(err)), BW_ETABLE);

	memcpy(c, data, len);                 /* Blob length lies. */
	n = (void *)(c + sd->base + bk[i].node);
	struct bw_tbl_blob *b = (void *)(c + sd->base + n->types[0].blob);
	b->len = 60000;
	reseal(c, len);
	assert_int_equal(load(c, len, err, sizeof(err)), BW_ETABLE);

	memcpy(c, data, len);                 /* Name length lies. */
	n = (void *)(c + sd->base + bk[i].node);
	n->name_len = (uint8_t)(n->name_len + 1);
	reseal(c, len);
	assert_int_equal(load(c, len, err, sizeof(err)), BW_ETABLE);

	memcpy(c, data, len);                 /* Negative blob outside. */
	ch->neg_blob = len - 4;
	reseal(c, len);
	assert_int_equal(load(c, len, err, sizeof(err)), BW_ETABLE);

	memcpy(c, data, len);                 /* Shard directory outside. */
	ch->shard_dir = len;
	reseal(c, len);
	assert_int_equal(load(c, len, err, sizeof(err)), BW_ETABLE);
	free(c);
	free(data);
}

static void test_open_file(void **state)
{
	(void)state;
	size_t len;
	uint8_t *data = compile(&len);
	char path[] = "/tmp/bw-test-table-XXXXXX";
	char err[256];
	struct bw_table *t;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(bw_table_open(path, &t, err, sizeof(err)), 0);
	assert_int_equal(bw_table_serial(t), 42);
	bw_table_close(t);
	assert_int_equal(truncate(path, (off_t)len - 100), 0);
	assert_true(bw_table_open(path, &t, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, path));
	unlink(path);
	assert_int_equal(bw_table_open(path, &t, err, sizeof(err)), -ENOENT);
	free(data);
}

static char *write_text(char *path, const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	data = malloc(*len + 8);
	assert_int_equal(fread(data, 1, *len, f), *len);
	fclose(f);
	return data;
}

/* No PATH.tmp.* is left beside the table. */
static void assert_no_tmp(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ls %s | grep -q '\\.tmp\\.'", dir);
	assert_int_not_equal(system(cmd), 0);
}

/* bw_compile_to_file writes the same bytes as bw_compile_file, and a
 * failed compile leaves the old table as it was. */
static void test_compile_to_file(void **state)
{
	(void)state;
	char zpath[] = "/tmp/bw-test-zone-XXXXXX", bad[] = "/tmp/bw-test-zone-XXXXXX";
	char dir[] = "/tmp/bw-test-out-XXXXXX", table[64], cmd[96];
	struct bw_diag d = { .quiet = 1 };
	uint8_t apex[BW_NAME_MAXLEN];
	struct bw_compile_opts opts = { .origin = apex };
	size_t mlen, flen, len;
	uint8_t *mem;

	tu_name(apex, "example.com.");
	write_text(zpath, zone_text);
	write_text(bad, "$ORIGIN example.com.\n@ 300 SOA ns1 h 1 2 3 4 5\n"
	           "@ 300 NS ns1\nwww 300 A 192.0.2.300\n");
	assert_non_null(mkdtemp(dir));
	snprintf(table, sizeof(table), "%s/t.bwz", dir);

	assert_int_equal(bw_compile_file(zpath, &opts, &d, &mem, &mlen), 0);
	assert_int_equal(bw_compile_to_file(zpath, &opts, &d, table, &len), 0);
	uint8_t *file = read_all(table, &flen);
	assert_int_equal(flen, mlen);
	assert_int_equal(len, mlen);
	assert_memory_equal(file, mem, mlen);
	assert_no_tmp(dir);
	free(file);

	/* A bad zone: an error at its line, the table is untouched. */
	d = (struct bw_diag){ .quiet = 1 };
	assert_int_not_equal(bw_compile_to_file(bad, &opts, &d, table, &len), 0);
	assert_int_equal(d.first_line, 4);
	file = read_all(table, &flen);
	assert_int_equal(flen, mlen);
	assert_memory_equal(file, mem, mlen);
	assert_no_tmp(dir);
	free(file);

	/* check_only writes nothing. */
	opts.check_only = true;
	unlink(table);
	d = (struct bw_diag){ .quiet = 1 };
	assert_int_equal(bw_compile_to_file(zpath, &opts, &d, table, &len), 0);
	assert_int_equal(access(table, F_OK), -1);
	opts.check_only = false;

	/* A directory that does not exist: an error naming the table. */
	d = (struct bw_diag){ .quiet = 1 };
	assert_int_equal(bw_compile_to_file(zpath, &opts, &d, "/nonexistent/t.bwz",
	                                    &len), -ENOENT);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.first_file, "/nonexistent/t.bwz");

	free(mem);
	unlink(zpath);
	unlink(bad);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_header),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupted),
		cmocka_unit_test(test_out_of_bounds),
		cmocka_unit_test(test_open_file),
		cmocka_unit_test(test_compile_to_file),
	};
	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
