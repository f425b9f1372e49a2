/*  bulwark-keygen — makes a DNSSEC key pair in BIND's file format
 *  (K<zone>+<alg>+<tag>.key and .private, and .state for a CSK), as
 *  dnssec-keygen does.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "dnssec/key.h"

struct keygen_opts {
	const char *dir;
	uint8_t alg;
	unsigned bits;
	enum bw_key_role role;
	uint32_t ttl;
	bool has_ttl;
	uint8_t zone[BW_NAME_MAXLEN];
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bulwark-keygen [-K DIR] [-a ALG] [-b BITS] [-f KSK|CSK]\n"
	        "                      [-L TTL] ZONE\n"
	        "\n"
	        "  -K DIR   directory for the key files (default: .)\n"
	        "  -a ALG   RSASHA256, RSASHA512, ECDSAP256SHA256 (default),\n"
	        "           ECDSAP384SHA384, ED25519, ED448, or the number\n"
	        "  -b BITS  RSA modulus size, 1024..4096 (default: 2048)\n"
	        "  -f KSK   key-signing key (flags 257)\n"
	        "  -f CSK   combined signing key (flags 257, and a .state file\n"
	        "           with KSK: yes and ZSK: yes, as dnssec-policy writes)\n"
	        "  -L TTL   TTL of the DNSKEY record\n"
	        "\n"
	        "Prints the base name of the files (K<zone>+<alg>+<tag>).\n");
}

static int parse_flag(const char *arg, enum bw_key_role *role)
{
	if (strcasecmp(arg, "KSK") == 0)
		*role = BW_KEY_KSK;
	else if (strcasecmp(arg, "CSK") == 0)
		*role = BW_KEY_CSK;
	else
		return BW_EINVAL;
	return 0;
}

/* Reads the options and the zone; returns 0, 1 (help) or -1 (error). */
static int parse_args(int argc, char **argv, struct keygen_opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "K:a:b:f:L:h")) != -1) {
		switch (c) {
		case 'K': o->dir = optarg; break;
		case 'a':
			if (bw_key_alg_from_text(optarg, &o->alg) != 0) {
				fprintf(stderr, "bulwark-keygen: unsupported algorithm '%s'\n", optarg);
				return -1;
			}
			break;
		case 'b': o->bits = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f':
			if (parse_flag(optarg, &o->role) != 0) {
				fprintf(stderr, "bulwark-keygen: unknown flag '%s'\n", optarg);
				return -1;
			}
			break;
		case 'L':
			if (bw_ttl_from_text(optarg, strlen(optarg), &o->ttl) != 0) {
				fprintf(stderr, "bulwark-keygen: bad TTL '%s'\n", optarg);
				return -1;
			}
			o->has_ttl = true;
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return -1;
	}
	if (bw_name_from_text(o->zone, argv[optind], strlen(argv[optind]),
	                      (const uint8_t *)"") < 0) {
		fprintf(stderr, "bulwark-keygen: bad zone name '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* True when DIR/BASE.key exists: a key of the zone has this tag. */
static bool tag_taken(const char *dir, const struct bw_key *k)
{
	char base[BW_NAME_MAXTEXT + 16], path[4096];

	if (bw_key_basename(k, base, sizeof(base)) < 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s.key", dir, base);
	return access(path, F_OK) == 0;
}

/* Makes a key whose tag no key in the directory has already. */
static int generate(const struct keygen_opts *o, time_t now, struct bw_key **out)
{
	uint16_t flags = BW_DNSKEY_ZONE | ((o->role & BW_KEY_KSK) ? BW_DNSKEY_SEP : 0);

	for (int tries = 0; tries < 16; tries++) {
		int rc = bw_key_generate(out, o->zone, o->alg, o->bits, flags, now);
		if (rc != 0 || !tag_taken(o->dir, *out))
			return rc;
		bw_key_free(*out);
	}
	return BW_EEXIST;
}

static int make_key(const struct keygen_opts *o)
{
	time_t now = time(NULL);
	struct bw_key *k;
	char base[BW_NAME_MAXTEXT + 16];
	int rc = generate(o, now, &k);

	if (rc != 0)
		return rc;
	k->ttl = o->ttl;
	k->has_ttl = o->has_ttl;
	if (o->role == BW_KEY_CSK)
		rc = bw_key_init_state(k, BW_KEY_CSK, 0, now);
	if (rc == 0)
		rc = bw_key_write(k, o->dir);
	if (rc == 0 && bw_key_basename(k, base, sizeof(base)) >= 0)
		printf("%s\n", base);
	bw_key_free(k);
	return rc;
}

int main(int argc, char **argv)
{
	struct keygen_opts o = { .dir = ".", .alg = 13, .role = BW_KEY_ZSK };
	int rc = parse_args(argc, argv, &o);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	rc = make_key(&o);
	if (rc != 0) {
		fprintf(stderr, "bulwark-keygen: %s\n", bw_strerror(rc));
		return 1;
	}
	return 0;
}
