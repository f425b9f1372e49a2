/*  bulwark-compile — compiles a zone file into a packed answer table, or
 *  dumps a table back as a master file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulwark/compile.h"
#include "bulwark/err.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "dump.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bulwark-compile ZONEFILE [-o OUT] [-z ORIGIN]\n"
	        "       bulwark-compile --dump TABLE\n"
	        "\n"
	        "  -o OUT      table file to write (default: ZONEFILE without\n"
	        "              .zone, plus .bwz)\n"
	        "  -z ORIGIN   zone apex (default: the owner of the first record,\n"
	        "              which must then be the SOA)\n"
	        "  --check     parse and check the zone only; write no table\n"
	        "  --presigned the zone is signed (dnssec-signzone, ldns-signzone,\n"
	        "              kzonesign): keep its RRSIG, NSEC and NSEC3 and\n"
	        "              answer DO=1 queries with them\n"
	        "  --dump      print a table in master-file format, canonical order\n"
	        "  -h          this help\n");
}

static char *default_out(const char *zonefile)
{
	size_t len = strlen(zonefile);
	char *out = malloc(len + 5);

	if (out == NULL)
		return NULL;
	memcpy(out, zonefile, len + 1);
	if (len > 5 && strcmp(out + len - 5, ".zone") == 0)
		out[len - 5] = '\0';
	strcat(out, ".bwz");
	return out;
}

/* Writes the table next to its final name, syncs it and renames it, so a
 * crash leaves either the old table or the new one. */
static int write_atomic(const char *path, const uint8_t *data, size_t len)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	int ret = 0;

	if (tmp == NULL)
		return BW_ENOMEM;
	snprintf(tmp, plen + 16, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		free(tmp);
		return ret;
	}
	for (size_t off = 0; off < len && ret == 0; ) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno != EINTR)
			ret = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = -errno;
	if (ret != 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

static int do_dump(const char *path)
{
	struct bw_table *t;
	char err[512];
	int ret = bw_table_open(path, &t, err, sizeof(err));

	if (ret != 0) {
		fprintf(stderr, "bulwark-compile: %s\n", err);
		return 1;
	}
	ret = bw_dump_table(t, stdout);
	bw_table_close(t);
	if (ret != 0) {
		fprintf(stderr, "bulwark-compile: %s: %s\n", path, bw_strerror(ret));
		return 1;
	}
	return 0;
}

static int do_compile(const char *zonefile, const char *out, const char *origin,
                      bool check_only, bool presigned)
{
	uint8_t apex[BW_NAME_MAXLEN];
	struct bw_compile_stats st;
	struct bw_compile_opts opts = {
		.stats = &st, .check_only = check_only, .presigned = presigned,
	};
	struct bw_diag d = { 0 };
	uint8_t *table;
	size_t len;

	if (origin != NULL) {
		if (bw_name_from_text(apex, origin, strlen(origin), (const uint8_t *)"") < 0) {
			fprintf(stderr, "bulwark-compile: bad origin '%s'\n", origin);
			return 2;
		}
		opts.origin = apex;
	}
	int ret = bw_compile_file(zonefile, &opts, &d, &table, &len);
	if (ret != 0) {
		fprintf(stderr, "bulwark-compile: %s: %u error(s), %u warning(s); "
		        "no table written\n", zonefile, d.errors, d.warnings);
		return 1;
	}
	if (check_only) {
		fprintf(stderr, "bulwark-compile: %s: zone OK: %zu names, %zu records, "
		        "%u warning(s)\n", zonefile, st.names, st.records, d.warnings);
		return 0;
	}
	ret = write_atomic(out, table, len);
	free(table);
	if (ret != 0) {
		fprintf(stderr, "bulwark-compile: %s: %s\n", out, bw_strerror(ret));
		return 1;
	}
	fprintf(stderr, "bulwark-compile: wrote %s: %zu names, %zu records, "
	        "table %zu bytes (%.2fx the records' wire size of %zu bytes), "
	        "%u warning(s)\n", out, st.names, st.records, len,
	        st.wire_bytes ? (double)len / (double)st.wire_bytes : 0.0,
	        st.wire_bytes, d.warnings);
	return 0;
}

static int unsupported(const char *opt)
{
	fprintf(stderr, "bulwark-compile: %s: DNSSEC signing is not available "
	        "in this version\n", opt);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "dump", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "policy", required_argument, NULL, 'P' },
		{ "presigned", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *origin = NULL;
	bool check_only = false, presigned = false;
	int c;

	while ((c = getopt_long(argc, argv, "o:z:k:c:j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			check_only = true;
			break;
		case 'D':
			return do_dump(optarg);
		case 'o':
			out = optarg;
			break;
		case 'z':
			origin = optarg;
			break;
		case 'k': return unsupported("-k");
		case 'c': return unsupported("-c");
		case 'P': return unsupported("--policy");
		case 'S':
			presigned = true;
			break;
		case 'j':
			break;  /* Threads: only signing runs in parallel. */
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	char *def = out ? NULL : default_out(argv[optind]);
	int ret = do_compile(argv[optind], out ? out : def, origin, check_only,
	                     presigned);
	free(def);
	return ret;
}
