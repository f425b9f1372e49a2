/*  bulwark-compile — compiles a zone file into a packed answer table, or
 *  dumps a table back as a master file.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	        "       bulwark-compile ZONEFILE -k KEYDIR [-c CONF --policy NAME] [-j N]\n"
	        "       bulwark-compile ZONEFILE --presigned [--expiry-horizon D]\n"
	        "       bulwark-compile --dump TABLE\n"
	        "\n"
	        "  -o OUT      table file to write (default: ZONEFILE without\n"
	        "              .zone, plus .bwz)\n"
	        "  -z ORIGIN   zone apex (default: the owner of the first record,\n"
	        "              which must then be the SOA)\n"
	        "  -k KEYDIR   sign with the zone's keys in KEYDIR (BIND's key files;\n"
	        "              a CSK is made there when it has none)\n"
	        "  -c CONF --policy NAME\n"
	        "              sign as the dnssec-policy NAME of CONF says (named.conf\n"
	        "              syntax; 'default' is BIND's built-in policy)\n"
	        "  -j THREADS  signing threads (default: one per core)\n"
	        "  --time T    sign or check signatures as at T (YYYYMMDDHHMMSS)\n"
	        "  --expiry-horizon DURATION\n"
	        "              with --presigned: warn about signatures that expire\n"
	        "              within DURATION (default 7d)\n"
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

/* What the command line asked for. */
struct cli {
	const char *out, *origin;
	struct bw_compile_opts opts;
};

static int do_compile(const char *zonefile, struct cli *cli)
{
	uint8_t apex[BW_NAME_MAXLEN];
	struct bw_compile_stats st;
	struct bw_diag d = { 0 };
	size_t len;

	cli->opts.stats = &st;
	if (cli->origin != NULL) {
		if (bw_name_from_text(apex, cli->origin, strlen(cli->origin),
		                      (const uint8_t *)"") < 0) {
			fprintf(stderr, "bulwark-compile: bad origin '%s'\n", cli->origin);
			return 2;
		}
		cli->opts.origin = apex;
	}
	int ret = bw_compile_to_file(zonefile, &cli->opts, &d, cli->out, &len);
	if (ret != 0) {
		fprintf(stderr, "bulwark-compile: %s: %u error(s), %u warning(s); "
		        "no table written\n", zonefile, d.errors, d.warnings);
		return 1;
	}
	if (cli->opts.check_only) {
		fprintf(stderr, "bulwark-compile: %s: zone OK: %zu names, %zu records, "
		        "%u warning(s)\n", zonefile, st.names, st.records, d.warnings);
		return 0;
	}
	fprintf(stderr, "bulwark-compile: wrote %s: %zu names, %zu records, "
	        "table %zu bytes (%.2fx the records' wire size of %zu bytes), "
	        "%u warning(s)\n", cli->out, st.names, st.records, len,
	        st.wire_bytes ? (double)len / (double)st.wire_bytes : 0.0,
	        st.wire_bytes, d.warnings);
	return 0;
}

/* YYYYMMDDHHMMSS (UTC) or seconds since the epoch. */
static int parse_time(const char *text, uint32_t *out)
{
	struct tm tm = { 0 };
	char *end;

	if (strlen(text) == 14 && strptime(text, "%Y%m%d%H%M%S", &tm) != NULL) {
		*out = (uint32_t)timegm(&tm);
		return 0;
	}
	unsigned long v = strtoul(text, &end, 10);
	if (*text == '\0' || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int bad_value(const char *opt, const char *value)
{
	fprintf(stderr, "bulwark-compile: %s: bad value '%s'\n", opt, value);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "dump", required_argument, NULL, 'D' },
		{ "expiry-horizon", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "policy", required_argument, NULL, 'P' },
		{ "presigned", no_argument, NULL, 'S' },
		{ "time", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .opts = { .horizon = 7 * 86400 } };
	int c;

	/* Big zones allocate and free gigabytes: a fixed mmap threshold (which
	 * also stops glibc raising it) gives freed blocks back to the system
	 * instead of keeping them in the heap. */
	mallopt(M_MMAP_THRESHOLD, 512 * 1024);

	while ((c = getopt_long(argc, argv, "o:z:k:c:j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			cli.opts.check_only = true;
			break;
		case 'D':
			return do_dump(optarg);
		case 'o':
			cli.out = optarg;
			break;
		case 'z':
			cli.origin = optarg;
			break;
		case 'k':
			cli.opts.keydir = optarg;
			break;
		case 'c':
			cli.opts.policy_conf = optarg;
			break;
		case 'P':
			cli.opts.policy_name = optarg;
			break;
		case 'S':
			cli.opts.presigned = true;
			break;
		case 'H':
			if (bw_ttl_from_text(optarg, strlen(optarg), &cli.opts.horizon) != 0)
				return bad_value("--expiry-horizon", optarg);
			break;
		case 'T':
			if (parse_time(optarg, &cli.opts.now) != 0)
				return bad_value("--time", optarg);
			break;
		case 'j':
			cli.opts.threads = (unsigned)strtoul(optarg, NULL, 10);
			if (cli.opts.threads == 0 || cli.opts.threads > 64)
				return bad_value("-j", optarg);
			break;
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
	if (cli.opts.presigned && (cli.opts.keydir || cli.opts.policy_name)) {
		fprintf(stderr, "bulwark-compile: --presigned keeps the zone's "
		        "signatures: -k and --policy do not go with it\n");
		return 2;
	}
	if ((cli.opts.policy_conf != NULL) != (cli.opts.policy_name != NULL) &&
	    !(cli.opts.policy_name && strcmp(cli.opts.policy_name, "default") == 0)) {
		fprintf(stderr, "bulwark-compile: -c CONF and --policy NAME go together\n");
		return 2;
	}
	if (cli.opts.policy_name != NULL && cli.opts.keydir == NULL)
		cli.opts.keydir = ".";
	char *def = cli.out ? NULL : default_out(argv[optind]);
	if (cli.out == NULL)
		cli.out = def;
	int ret = do_compile(argv[optind], &cli);
	free(def);
	return ret;
}
