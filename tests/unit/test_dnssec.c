/*  bulwark — unit tests: DNSSEC keys in BIND's files, DS/CDS/CDNSKEY,
 *  RRSIGs.  BIND's tools (dnssec-keygen, dnssec-dsfromkey, dnssec-revoke,
 *  dnssec-signzone, dnssec-verify) are run at test time.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "dnssec/key.h"
#include "dnssec/sign.h"

#define MAXTOK 256
#define RRSIG_MAX (BW_RRSIG_FIXED + BW_NAME_MAXLEN + BW_SIG_MAXLEN)

static const uint8_t example_com[] = "\x07" "example" "\x03" "com";
static const uint8_t example_net[] = "\x07" "example" "\x03" "net";

/* Keys made once for the whole run. */
struct fixture {
	char dir[64];          /* temporary directory, removed at the end */
	char bind_dir[96];     /* keys made by dnssec-keygen */
	char our_dir[96];      /* keys made by bw_key_generate */
	char bind_base[8][64]; /* base names of BIND's keys */
	size_t nbind;
	struct bw_key *ours[6];
};

static struct fixture fx;

static const uint8_t all_algs[6] = { 8, 10, 13, 14, 15, 16 };

/* ---- Helpers. ---- */

/* Runs a shell command; its stdout goes to \a out. Returns the status. */
static int run(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	size_t n = 0;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char sink[4096];
	if (out == NULL) {
		out = sink;
		cap = sizeof(sink);
	}
	while (n + 1 < cap && fgets(out + n, (int)(cap - n), p) != NULL)
		n += strlen(out + n);
	out[n] = '\0';
	while (fgets(sink, sizeof(sink), p) != NULL)
		;
	return pclose(p);
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The file DIR1/BASE.SUFFIX equals DIR2/BASE.SUFFIX byte for byte. */
static void assert_same_file(const char *d1, const char *d2, const char *base,
                             const char *suffix)
{
	char p1[512], p2[512];
	size_t l1, l2;

	snprintf(p1, sizeof(p1), "%s/%s%s", d1, base, suffix);
	snprintf(p2, sizeof(p2), "%s/%s%s", d2, base, suffix);
	char *a = slurp(p1, &l1), *b = slurp(p2, &l2);
	assert_non_null(a);
	assert_non_null(b);
	if (l1 != l2 || memcmp(a, b, l1) != 0)
		fail_msg("%s%s differs:\n%s\n--- written back:\n%s", base, suffix, a, b);
	free(a);
	free(b);
}

static size_t tokenize(char *s, struct bw_token *tok)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(s, " \t\n", &save); t && n < MAXTOK;
	     t = strtok_r(NULL, " \t\n", &save))
		tok[n++] = (struct bw_token){ t, strlen(t), false };
	return n;
}

/* Presentation rdata to wire. */
static int rdata(uint16_t type, const char *txt, uint8_t *out, size_t cap)
{
	char buf[4096];
	struct bw_token tok[MAXTOK];

	snprintf(buf, sizeof(buf), "%s", txt);
	size_t n = tokenize(buf, tok);
	int len = bw_rdata_from_text(type, tok, n, example_com, out, cap, NULL, 0);
	assert_true(len > 0);
	return len;
}

static void name(uint8_t *out, const char *txt)
{
	assert_true(bw_name_from_text(out, txt, strlen(txt), NULL) > 0);
}

/* The tag of a base name "K<zone>+AAA+TTTTT". */
static unsigned tag_of(const char *base)
{
	return (unsigned)strtoul(strrchr(base, '+') + 1, NULL, 10);
}

/* Runs dnssec-dsfromkey on DIR/BASE.key; the DS rdata goes to \a out. */
static int bind_ds(const char *dir, const char *base, const char *digest,
                   uint8_t *out)
{
	char line[1024];

	assert_int_equal(run(line, sizeof(line), "dnssec-dsfromkey -a %s %s/%s.key",
	                     digest, dir, base), 0);
	char *ds = strstr(line, " DS ");
	assert_non_null(ds);
	return rdata(BW_TYPE_DS, ds + 4, out, BW_DS_MAXRDATA);
}

/* Our DS of a key equals dnssec-dsfromkey's, SHA-256 and SHA-384. */
static void assert_ds_like_bind(const struct bw_key *k, const char *dir,
                                const char *base)
{
	static const struct { uint8_t type; const char *name; } dg[] = {
		{ BW_DS_SHA256, "SHA-256" }, { BW_DS_SHA384, "SHA-384" },
	};
	uint8_t ours[BW_DS_MAXRDATA], theirs[BW_DS_MAXRDATA];

	for (size_t i = 0; i < 2; i++) {
		int n = bw_key_ds(k->owner, k->rdata, k->rdlen, dg[i].type, ours,
		                  sizeof(ours));
		int m = bind_ds(dir, base, dg[i].name, theirs);
		assert_int_equal(n, m);
		assert_memory_equal(ours, theirs, (size_t)n);
	}
}

static struct bw_key *read_key(const char *dir, const char *base)
{
	char path[512];
	struct bw_key *k = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, base);
	int rc = bw_key_read(&k, path);
	if (rc != 0)
		fail_msg("reading %s: %s", path, bw_strerror(rc));
	return k;
}

static char *make_dir(const char *leaf, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", fx.dir, leaf);
	assert_int_equal(mkdir(out, 0700), 0);
	return out;
}

/* The A RRset used by most signing tests. */
static uint8_t a_rd[3][4] = { { 192, 0, 2, 3 }, { 192, 0, 2, 1 }, { 192, 0, 2, 2 } };
static const struct bw_zone_rdata a_set[3] = {
	{ 4, a_rd[0] }, { 4, a_rd[1] }, { 4, a_rd[2] },
};

static int sign_a(const struct bw_key *k, const uint8_t *owner, uint8_t *out)
{
	int n = bw_sign_rrset(k, owner, BW_TYPE_A, 300, a_set, 3, 1700000000,
	                      1800000000, out, RRSIG_MAX);
	if (n < 0)
		fail_msg("signing with algorithm %u: %s", k->alg, bw_strerror(n));
	return n;
}

/* ---- Fixture. ---- */

static const char *const bind_args[] = {
	"-a RSASHA256", "-a ECDSAP256SHA256", "-a ECDSAP384SHA384",
	"-a ED25519", "-a ED448", "-f KSK -a ECDSAP256SHA256",
	"-a RSASHA512 -b 1024 -L 600",
	"-a ED25519 -P now -A +1d -R +30d -I +20d -D +40d -P sync +2d "
	"-D sync +35d",
};

static int setup(void **state)
{
	(void)state;
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/bw-dnssec-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(fx.bind_dir, sizeof(fx.bind_dir), "%s/bind", fx.dir);
	snprintf(fx.our_dir, sizeof(fx.our_dir), "%s/ours", fx.dir);
	if (mkdir(fx.bind_dir, 0700) != 0 || mkdir(fx.our_dir, 0700) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(bind_args) / sizeof(bind_args[0]); i++) {
		char *b = fx.bind_base[fx.nbind++];
		if (run(b, 64, "dnssec-keygen -q -K %s %s example.com 2>/dev/null",
		        fx.bind_dir, bind_args[i]) != 0)
			return -1;
		chomp(b);
	}
	for (size_t i = 0; i < 6; i++) {
		uint16_t flags = i % 2 ? 257 : 256;
		if (bw_key_generate(&fx.ours[i], example_com, all_algs[i], 0,
		                    flags, time(NULL)) != 0 ||
		    bw_key_write(fx.ours[i], fx.our_dir) != 0)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	for (size_t i = 0; i < 6; i++)
		bw_key_free(fx.ours[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- Keys made by dnssec-keygen. ---- */

static void test_bind_keys_round_trip(void **state)
{
	char out[128];

	(void)state;
	make_dir("rt", out, sizeof(out));
	for (size_t i = 0; i < fx.nbind; i++) {
		const char *base = fx.bind_base[i];
		struct bw_key *k = read_key(fx.bind_dir, base);
		char mine[128];
		assert_true(bw_key_basename(k, mine, sizeof(mine)) > 0);
		assert_string_equal(mine, base);
		assert_int_equal(k->tag, tag_of(base));
		assert_true(k->has_private);
		assert_int_equal(bw_key_write(k, out), 0);
		assert_same_file(fx.bind_dir, out, base, ".key");
		assert_same_file(fx.bind_dir, out, base, ".private");
		bw_key_free(k);
	}
}

static void test_bind_keys_fields(void **state)
{
	struct bw_key *ksk = read_key(fx.bind_dir, fx.bind_base[5]);
	struct bw_key *zsk = read_key(fx.bind_dir, fx.bind_base[1]);
	struct bw_key *rsa = read_key(fx.bind_dir, fx.bind_base[6]);
	struct bw_key *timed = read_key(fx.bind_dir, fx.bind_base[7]);
	time_t created, act;

	(void)state;
	assert_int_equal(ksk->flags, 257);
	assert_int_equal(bw_key_role(ksk), BW_KEY_KSK);
	assert_int_equal(zsk->flags, 256);
	assert_int_equal(bw_key_role(zsk), BW_KEY_ZSK);
	assert_int_equal(rsa->alg, 10);
	assert_int_equal(rsa->bits, 1024);
	assert_true(rsa->has_ttl);
	assert_int_equal(rsa->ttl, 600);
	assert_int_equal(zsk->bits, 256);
	assert_int_equal(bw_key_time(timed, "Created", &created), 0);
	assert_int_equal(bw_key_time(timed, "Activate", &act), 0);
	assert_int_equal(act - created, 86400);
	assert_int_equal(bw_key_time(timed, "SyncDelete", &act), 0);
	assert_int_equal(bw_key_time(timed, "DSPublish", &act), BW_ENOENT);
	assert_string_equal(bw_key_field_get(&zsk->priv, "Private-key-format"), "v1.3");
	bw_key_free(ksk);
	bw_key_free(zsk);
	bw_key_free(rsa);
	bw_key_free(timed);
}

static void test_bind_keys_ds(void **state)
{
	(void)state;
	for (size_t i = 0; i < fx.nbind; i++) {
		struct bw_key *k = read_key(fx.bind_dir, fx.bind_base[i]);
		assert_ds_like_bind(k, fx.bind_dir, fx.bind_base[i]);
		bw_key_free(k);
	}
}

/* A key whose .private does not belong to its .key is refused. */
static void test_mismatched_private(void **state)
{
	char dir[128], cmd[4096];
	struct bw_key *k;

	(void)state;
	make_dir("mismatch", dir, sizeof(dir));
	for (size_t i = 0; i < 2; i++) {
		/* ECDSA (public point checked) and Ed25519 (public key derived). */
		const char *a = fx.bind_base[i == 0 ? 1 : 3];
		const char *b = fx.bind_base[i == 0 ? 5 : 7];
		snprintf(cmd, sizeof(cmd), "cp %s/%s.key %s/ && cp %s/%s.private %s/%s.private",
		         fx.bind_dir, a, dir, fx.bind_dir, b, dir, a);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "%s/%s", dir, a);
		assert_int_equal(bw_key_read(&k, cmd), BW_EINVAL);
	}
	snprintf(cmd, sizeof(cmd), "%s/Knothere.+013+00001", dir);
	assert_int_equal(bw_key_read(&k, cmd), BW_ENOENT);
}

/* ---- Keys of dnssec-policy: the .state file. ---- */

static const char policy_conf[] =
	"dnssec-policy \"split\" { keys { ksk lifetime P1Y algorithm 13;\n"
	"  zsk lifetime 30d algorithm 13; }; };\n"
	"dnssec-policy \"csk\" { keys { csk lifetime unlimited algorithm 15; }; };\n";

static void test_state_round_trip(void **state)
{
	char dir[128], out[128], conf[160], bases[256];
	unsigned seen = 0;

	(void)state;
	make_dir("policy", dir, sizeof(dir));
	make_dir("policy-out", out, sizeof(out));
	snprintf(conf, sizeof(conf), "%s/named.conf", dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fputs(policy_conf, f);
	fclose(f);
	assert_int_equal(run(bases, sizeof(bases),
	                     "cd %s && dnssec-keygen -q -k split -l %s example.com &&"
	                     " dnssec-keygen -q -k csk -l %s example.com", dir,
	                     conf, conf), 0);
	for (char *save = NULL, *b = strtok_r(bases, "\n", &save); b;
	     b = strtok_r(NULL, "\n", &save)) {
		struct bw_key *k = read_key(dir, b);
		assert_true(k->state.n >= 8);
		assert_true(k->has_ttl);
		seen |= 1u << bw_key_role(k);
		assert_int_equal(bw_key_write(k, out), 0);
		assert_same_file(dir, out, b, ".key");
		assert_same_file(dir, out, b, ".private");
		assert_same_file(dir, out, b, ".state");
		bw_key_free(k);
	}
	assert_int_equal(seen, (1u << BW_KEY_KSK) | (1u << BW_KEY_ZSK) |
	                       (1u << BW_KEY_CSK));
}

/* A .state file as named writes it once the key is in use. */
static const char full_state[] =
	"; This is the state of key %u, for example.com.\n"
	"Algorithm: 13\n"
	"Length: 256\n"
	"Lifetime: 31536000\n"
	"Predecessor: 12345\n"
	"KSK: yes\n"
	"ZSK: no\n"
	"Generated: 20240101000000 (Mon Jan  1 00:00:00 2024)\n"
	"Published: 20240101000000 (Mon Jan  1 00:00:00 2024)\n"
	"Active: 20240102000000 (Tue Jan  2 00:00:00 2024)\n"
	"Retired: 20250101000000 (Wed Jan  1 00:00:00 2025)\n"
	"PublishCDS: 20240103000000 (Wed Jan  3 00:00:00 2024)\n"
	"DNSKEYChange: 20240101000000 (Mon Jan  1 00:00:00 2024)\n"
	"ZRRSIGChange: 20240101000000 (Mon Jan  1 00:00:00 2024)\n"
	"KRRSIGChange: 20240101000000 (Mon Jan  1 00:00:00 2024)\n"
	"DSChange: 20240104000000 (Thu Jan  4 00:00:00 2024)\n"
	"DNSKEYState: omnipresent\n"
	"ZRRSIGState: hidden\n"
	"KRRSIGState: omnipresent\n"
	"DSState: rumoured\n"
	"GoalState: omnipresent\n";

static void test_full_state(void **state)
{
	char dir[128], out[128], path[512], cmd[512];
	const char *base = fx.bind_base[5];
	time_t t;

	(void)state;
	make_dir("full", dir, sizeof(dir));
	make_dir("full-out", out, sizeof(out));
	snprintf(cmd, sizeof(cmd), "cp %s/%s.* %s/", fx.bind_dir, base, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/%s.state", dir, base);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, full_state, tag_of(base));
	fclose(f);

	struct bw_key *k = read_key(dir, base);
	assert_int_equal(bw_key_role(k), BW_KEY_KSK);
	assert_string_equal(bw_key_field_get(&k->state, "GoalState"), "omnipresent");
	assert_string_equal(bw_key_field_get(&k->state, "DSState"), "rumoured");
	assert_string_equal(bw_key_field_get(&k->state, "Predecessor"), "12345");
	assert_null(bw_key_field_get(&k->state, "Successor"));
	assert_int_equal(bw_key_time(k, "Retired", &t), 0);
	assert_int_equal(t, 1735689600);
	assert_int_equal(bw_key_write(k, out), 0);
	assert_same_file(dir, out, base, ".state");
	assert_same_file(dir, out, base, ".key");

	/* A changed state is written in place, other lines as they were. */
	assert_int_equal(bw_key_field_set(&k->state, "DSState", "omnipresent"), 0);
	assert_int_equal(bw_key_field_set(&k->state, "Successor", "54321"), 0);
	assert_int_equal(bw_key_write(k, out), 0);
	bw_key_free(k);
	k = read_key(out, base);
	assert_string_equal(bw_key_field_get(&k->state, "DSState"), "omnipresent");
	assert_string_equal(bw_key_field_get(&k->state, "Successor"), "54321");
	assert_string_equal(k->state.v[k->state.n - 1].tag, "Successor");
	assert_string_equal(k->state.v[4].tag, "KSK");
	bw_key_free(k);
}

/* ---- Keys made by bulwark, read by BIND. ---- */

static void test_our_keys_ds_in_bind(void **state)
{
	char base[128];

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		assert_true(bw_key_basename(fx.ours[i], base, sizeof(base)) > 0);
		assert_ds_like_bind(fx.ours[i], fx.our_dir, base);
	}
}

static void test_our_keys_round_trip(void **state)
{
	char base[128], out[128];

	(void)state;
	make_dir("ours-rt", out, sizeof(out));
	for (size_t i = 0; i < 6; i++) {
		assert_true(bw_key_basename(fx.ours[i], base, sizeof(base)) > 0);
		struct bw_key *k = read_key(fx.our_dir, base);
		assert_int_equal(k->tag, fx.ours[i]->tag);
		assert_int_equal(k->rdlen, fx.ours[i]->rdlen);
		assert_memory_equal(k->rdata, fx.ours[i]->rdata, k->rdlen);
		assert_int_equal(bw_key_write(k, out), 0);
		assert_same_file(fx.our_dir, out, base, ".key");
		assert_same_file(fx.our_dir, out, base, ".private");
		bw_key_free(k);
	}
}

static const char tiny_zone[] =
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. "
	"1 3600 600 86400 300\n"
	"example.com. 3600 IN NS ns1.example.com.\n"
	"ns1.example.com. 3600 IN A 192.0.2.1\n";

/* dnssec-signzone signs with our .private; dnssec-verify accepts it. */
static void test_our_keys_sign_in_bind(void **state)
{
	char dir[128], base[128], path[512], log[2048];

	(void)state;
	make_dir("bindsign", dir, sizeof(dir));
	for (size_t i = 0; i < 6; i++) {
		const struct bw_key *k = fx.ours[i];
		assert_true(bw_key_basename(k, base, sizeof(base)) > 0);
		snprintf(path, sizeof(path), "%s/z%zu.zone", dir, i);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "%s$INCLUDE %s/%s.key\n", tiny_zone, fx.our_dir, base);
		fclose(f);
		int rc = run(log, sizeof(log),
		             "dnssec-signzone -q -z -o example.com -f %s.signed "
		             "-K %s %s %s 2>&1 && dnssec-verify -z -o example.com "
		             "%s.signed 2>&1", path, fx.our_dir, path, base, path);
		if (rc != 0)
			fail_msg("algorithm %u: %s", k->alg, log);
	}
}

static void test_keygen_cli(void **state)
{
	static const char *const args[] = {
		"-a ECDSAP256SHA256 -f CSK -L 3600", "-a RSASHA256 -b 1024 -f KSK",
		"-a 15", "-a ED448 -f KSK",
	};
	static const enum bw_key_role roles[] = {
		BW_KEY_CSK, BW_KEY_KSK, BW_KEY_ZSK, BW_KEY_KSK,
	};
	char dir[128], base[128];

	(void)state;
	make_dir("cli", dir, sizeof(dir));
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(run(base, sizeof(base), "%s -K %s %s example.com",
		                     BW_KEYGEN, dir, args[i]), 0);
		chomp(base);
		assert_int_equal(strncmp(base, "Kexample.com.+0", 15), 0);
		struct bw_key *k = read_key(dir, base);
		assert_int_equal(k->tag, tag_of(base));
		assert_int_equal(bw_key_role(k), roles[i]);
		assert_ds_like_bind(k, dir, base);
		bw_key_free(k);
	}
	assert_int_not_equal(run(NULL, 0, "%s -a RSAMD5 example.com 2>/dev/null",
	                         BW_KEYGEN), 0);
}

/* ---- Key tags, REVOKE, CDS, CDNSKEY. ---- */

static void test_revoke(void **state)
{
	char dir[128], out[128], cmd[512], newbase[256];
	const char *base = fx.bind_base[5];

	(void)state;
	make_dir("revoke", dir, sizeof(dir));
	make_dir("revoke-out", out, sizeof(out));
	snprintf(cmd, sizeof(cmd), "cp %s/%s.* %s/", fx.bind_dir, base, dir);
	assert_int_equal(system(cmd), 0);
	struct bw_key *k = read_key(dir, base);
	assert_int_equal(run(newbase, sizeof(newbase), "dnssec-revoke -K %s %s.key",
	                     dir, base), 0);
	chomp(newbase);
	/* dnssec-revoke prints the path of the new files. */
	memmove(newbase, strrchr(newbase, '/') + 1, strlen(strrchr(newbase, '/')));
	struct bw_key *r = read_key(dir, newbase);

	uint16_t before = k->tag;
	assert_int_equal(bw_key_revoke(k, time(NULL)), 0);
	assert_int_not_equal(k->tag, before);
	assert_int_equal(k->tag, tag_of(newbase));
	assert_int_equal(k->flags, 257 | BW_DNSKEY_REVOKE);
	assert_int_equal(r->flags, 385);
	assert_memory_equal(k->rdata, r->rdata, k->rdlen);
	assert_int_equal(bw_key_tag(r->rdata, r->rdlen), r->tag);
	/* The revoked key's files ("revoked key-signing key") round-trip. */
	assert_int_equal(bw_key_write(r, out), 0);
	assert_same_file(dir, out, newbase, ".key");
	assert_same_file(dir, out, newbase, ".private");
	bw_key_free(k);
	bw_key_free(r);
}

static void test_cds_cdnskey(void **state)
{
	uint8_t buf[BW_DS_MAXRDATA], ds[BW_DS_MAXRDATA];
	char txt[256];
	const struct bw_key *k = fx.ours[2];

	(void)state;
	int n = bw_key_cds_delete(buf, sizeof(buf));
	assert_int_equal(n, 5);
	assert_true(bw_rdata_to_text(BW_TYPE_CDS, buf, (size_t)n, txt, sizeof(txt)) > 0);
	assert_string_equal(txt, "0 0 0 00");
	n = bw_key_cdnskey_delete(buf, sizeof(buf));
	assert_int_equal(n, 5);
	assert_true(bw_rdata_to_text(BW_TYPE_CDNSKEY, buf, (size_t)n, txt, sizeof(txt)) > 0);
	assert_string_equal(txt, "0 3 0 AA==");
	assert_int_equal(bw_key_cds_delete(buf, 4), BW_ENOSPC);
	/* The CDS of a key is its DS, and parses as CDS rdata. */
	n = bw_key_ds(k->owner, k->rdata, k->rdlen, BW_DS_SHA256, ds, sizeof(ds));
	assert_int_equal(n, 36);
	assert_int_equal(bw_rdata_check(BW_TYPE_CDS, ds, (size_t)n), 0);
	assert_int_equal(bw_get16(ds), k->tag);
	assert_int_equal(bw_key_ds(k->owner, k->rdata, k->rdlen, 3, ds, sizeof(ds)),
	                 BW_EINVAL);
	assert_int_equal(bw_key_ds(k->owner, k->rdata, k->rdlen, BW_DS_SHA384, ds,
	                           40), BW_ENOSPC);
}

static void test_load_dir(void **state)
{
	char dir[128], cmd[512];
	struct bw_keyset ks;
	struct bw_key *other;

	(void)state;
	make_dir("loaddir", dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "cp %s/K* %s/ && touch %s/Kexample.com.zone",
	         fx.our_dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(bw_key_generate(&other, example_net, 13, 0, 257, 0), 0);
	assert_int_equal(bw_key_write(other, dir), 0);
	bw_key_free(other);

	assert_int_equal(bw_key_load_dir(dir, example_com, &ks), 0);
	assert_int_equal(ks.n, 6);
	for (size_t i = 0; i < ks.n; i++) {
		assert_int_equal(ks.keys[i]->alg, all_algs[i]);
		assert_true(ks.keys[i]->has_private);
		assert_true(bw_name_equal(ks.keys[i]->owner, example_com));
	}
	bw_keyset_free(&ks);
	assert_int_equal(bw_key_load_dir(dir, example_net, &ks), 0);
	assert_int_equal(ks.n, 1);
	assert_int_equal(bw_key_role(ks.keys[0]), BW_KEY_KSK);
	bw_keyset_free(&ks);
	assert_int_equal(bw_key_load_dir("/nonexistent-bw", example_net, &ks),
	                 BW_ENOENT);
}

/* ---- Signatures. ---- */

/* The signed data of the A RRset, built here independently. */
static size_t a_signed_data(const uint8_t *rrsig, size_t hdrlen,
                            const uint8_t *lowner, uint8_t *out)
{
	static const uint8_t sorted[3] = { 1, 2, 3 };
	size_t nl = bw_name_len(lowner), n = hdrlen;

	memcpy(out, rrsig, hdrlen);
	for (size_t i = 0; i < 3; i++) {
		memcpy(out + n, lowner, nl);
		n += nl;
		memcpy(out + n, "\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04", 10);
		n += 10;
		memcpy(out + n, "\xc0\x00\x02", 3);
		out[n + 3] = sorted[i];
		n += 4;
	}
	return n;
}

/* Verifies with OpenSSL directly; r||s goes back to DER here. */
static bool openssl_verify(const struct bw_key *k, const uint8_t *data,
                           size_t len, const uint8_t *sig, size_t siglen)
{
	static const char *const md[17] = {
		[8] = "SHA256", [10] = "SHA512", [13] = "SHA256", [14] = "SHA384",
	};
	uint8_t der[256];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (k->alg == 13 || k->alg == 14) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		size_t h = siglen / 2;
		ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)h, NULL),
		               BN_bin2bn(sig + h, (int)h, NULL));
		unsigned char *p = der;
		siglen = (size_t)i2d_ECDSA_SIG(es, &p);
		sig = der;
		ECDSA_SIG_free(es);
	}
	bool ok = EVP_DigestVerifyInit_ex(ctx, NULL, md[k->alg], NULL, NULL,
	                                  k->pkey, NULL) == 1 &&
	          EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void test_sign_openssl(void **state)
{
	static const size_t siglen[6] = { 256, 256, 64, 96, 64, 114 };
	uint8_t owner[BW_NAME_MAXLEN], lowner[BW_NAME_MAXLEN];
	uint8_t sig[RRSIG_MAX], data[1024];

	(void)state;
	name(owner, "WWW.Example.COM.");
	name(lowner, "www.example.com.");
	for (size_t i = 0; i < 6; i++) {
		const struct bw_key *k = fx.ours[i];
		int n = sign_a(k, owner, sig);
		size_t hl = BW_RRSIG_FIXED + sizeof(example_com);
		assert_int_equal((size_t)n, hl + siglen[i]);
		assert_int_equal(bw_get16(sig), BW_TYPE_A);
		assert_int_equal(sig[2], k->alg);
		assert_int_equal(sig[3], 3);
		assert_int_equal(bw_get32(sig + 4), 300);
		assert_int_equal(bw_get32(sig + 8), 1800000000);
		assert_int_equal(bw_get32(sig + 12), 1700000000);
		assert_int_equal(bw_get16(sig + 16), k->tag);
		assert_memory_equal(sig + BW_RRSIG_FIXED, example_com, sizeof(example_com));
		size_t dl = a_signed_data(sig, hl, lowner, data);
		assert_true(openssl_verify(k, data, dl, sig + hl, (size_t)n - hl));
		data[dl - 1] ^= 1;
		assert_false(openssl_verify(k, data, dl, sig + hl, (size_t)n - hl));
		assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_A, a_set, 3, sig,
		                                 (size_t)n), 0);
	}
}

static void test_sign_verify_rejects(void **state)
{
	uint8_t owner[BW_NAME_MAXLEN], sig[RRSIG_MAX];
	uint8_t other_rd[4] = { 192, 0, 2, 9 };
	struct bw_zone_rdata other[3] = { a_set[0], a_set[1], { 4, other_rd } };
	const struct bw_key *k = fx.ours[4];

	(void)state;
	name(owner, "www.example.com.");
	int n = sign_a(k, owner, sig);
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_A, a_set, 3, sig, (size_t)n), 0);
	/* Other data, type, owner, key, or a damaged signature. */
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_A, other, 3, sig, (size_t)n),
	                 BW_EINVAL);
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_AAAA, a_set, 3, sig, (size_t)n),
	                 BW_EINVAL);
	assert_int_equal(bw_sign_verify(fx.ours[2], owner, BW_TYPE_A, a_set, 3, sig,
	                                (size_t)n), BW_EINVAL);
	name(owner, "ftp.example.com.");
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_A, a_set, 3, sig, (size_t)n),
	                 BW_EINVAL);
	name(owner, "www.example.com.");
	sig[n - 1] ^= 0x40;
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_A, a_set, 3, sig, (size_t)n),
	                 BW_EINVAL);
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_A, a_set, 3, sig, 10),
	                 BW_EMALF);
	/* A public-only key cannot sign. */
	struct bw_key *pub;
	assert_int_equal(bw_key_from_dnskey(&pub, k->owner, k->rdata, k->rdlen), 0);
	assert_false(pub->has_private);
	assert_int_equal(bw_sign_rrset(pub, owner, BW_TYPE_A, 300, a_set, 3, 0, 1,
	                               sig, sizeof(sig)), BW_EINVAL);
	bw_key_free(pub);
}

/* Order, case and duplicates of the rdatas do not change what is signed
 * (Ed25519 is deterministic, so the signatures are equal). */
static void test_sign_canonical(void **state)
{
	uint8_t ns[4][64], s1[RRSIG_MAX], s2[RRSIG_MAX], owner[BW_NAME_MAXLEN];
	const struct bw_key *k = fx.ours[4];

	(void)state;
	int l0 = rdata(BW_TYPE_NS, "ns1.example.com.", ns[0], 64);
	int l1 = rdata(BW_TYPE_NS, "NS2.Example.com.", ns[1], 64);
	int l2 = rdata(BW_TYPE_NS, "ns2.example.com.", ns[2], 64);
	int l3 = rdata(BW_TYPE_NS, "a.example.net.", ns[3], 64);
	struct bw_zone_rdata set1[3] = {
		{ (uint16_t)l0, ns[0] }, { (uint16_t)l2, ns[2] }, { (uint16_t)l3, ns[3] },
	};
	struct bw_zone_rdata set2[4] = {
		{ (uint16_t)l1, ns[1] }, { (uint16_t)l3, ns[3] }, { (uint16_t)l0, ns[0] },
		{ (uint16_t)l2, ns[2] },
	};
	name(owner, "Example.COM.");
	int n1 = bw_sign_rrset(k, owner, BW_TYPE_NS, 3600, set1, 3, 1, 2, s1, sizeof(s1));
	name(owner, "example.com.");
	int n2 = bw_sign_rrset(k, owner, BW_TYPE_NS, 3600, set2, 4, 1, 2, s2, sizeof(s2));
	assert_true(n1 > 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(s1, s2, (size_t)n1);
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_NS, set2, 4, s1, (size_t)n1), 0);
	/* The RRset without the duplicate but with a name changed is another. */
	set1[2] = set1[0];
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_NS, set1, 3, s1, (size_t)n1),
	                 BW_EINVAL);
}

static void test_sign_wildcard(void **state)
{
	uint8_t wild[BW_NAME_MAXLEN], exp[BW_NAME_MAXLEN], sig[RRSIG_MAX];

	(void)state;
	name(wild, "*.example.com.");
	name(exp, "a.b.example.com.");
	for (size_t i = 0; i < 6; i++) {
		int n = sign_a(fx.ours[i], wild, sig);
		assert_int_equal(sig[3], 2);
		assert_int_equal(bw_sign_verify(fx.ours[i], wild, BW_TYPE_A, a_set, 3,
		                                 sig, (size_t)n), 0);
		assert_int_equal(bw_sign_verify(fx.ours[i], exp, BW_TYPE_A, a_set, 3,
		                                 sig, (size_t)n), 0);
	}
	/* More labels in the RRSIG than in the owner: not for this name. */
	name(exp, "com.");
	int n = sign_a(fx.ours[0], wild, sig);
	assert_int_equal(bw_sign_verify(fx.ours[0], exp, BW_TYPE_A, a_set, 3, sig,
	                                (size_t)n), BW_EINVAL);
}

struct thread_arg {
	const struct bw_key *k;
	int bad;
};

static void *sign_thread(void *p)
{
	struct thread_arg *a = p;
	uint8_t owner[BW_NAME_MAXLEN], sig[RRSIG_MAX];

	name(owner, "www.example.com.");
	for (int i = 0; i < 50; i++) {
		int n = bw_sign_rrset(a->k, owner, BW_TYPE_A, 300, a_set, 3,
		                      (uint32_t)i, 1800000000, sig, sizeof(sig));
		if (n < 0 || bw_sign_verify(a->k, owner, BW_TYPE_A, a_set, 3, sig,
		                            (size_t)n) != 0)
			a->bad++;
	}
	return NULL;
}

/* Several threads sign with the same keys at once. */
static void test_sign_threads(void **state)
{
	pthread_t th[8];
	struct thread_arg arg[8];

	(void)state;
	for (size_t i = 0; i < 8; i++) {
		arg[i] = (struct thread_arg){ fx.ours[2 + i % 4], 0 };
		assert_int_equal(pthread_create(&th[i], NULL, sign_thread, &arg[i]), 0);
	}
	for (size_t i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(arg[i].bad, 0);
	}
}

/* ---- RFC examples. ---- */

/* Writes a key from RFC text as BIND's files and reads it back. */
static struct bw_key *rfc_key(const char *base, const char *dnskey,
                              const char *priv)
{
	char dir[128], path[512];

	snprintf(dir, sizeof(dir), "%s/rfc", fx.dir);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/%s.key", dir, base);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", dnskey);
	fclose(f);
	if (priv) {
		snprintf(path, sizeof(path), "%s/%s.private", dir, base);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(priv, f);
		fclose(f);
	}
	return read_key(dir, base);
}

static void assert_rdata_is(uint16_t type, const uint8_t *wire, int len,
                            const char *txt)
{
	uint8_t want[1024];
	int n = rdata(type, txt, want, sizeof(want));

	assert_int_equal(len, n);
	assert_memory_equal(wire, want, (size_t)n);
}

/* RFC 6605 §6.1 and §6.2: keys, DS records and signatures. */
static void test_rfc6605(void **state)
{
	uint8_t ds[BW_DS_MAXRDATA], sig[1024], mine[RRSIG_MAX], owner[BW_NAME_MAXLEN];
	uint8_t a[4] = { 192, 0, 2, 1 };
	struct bw_zone_rdata set = { 4, a };

	(void)state;
	struct bw_key *p256 = rfc_key("Kexample.net.+013+55648",
		"example.net. 3600 IN DNSKEY 257 3 13 ("
		" GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb"
		" krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA== )",
		"Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\n"
		"PrivateKey: GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=\n");
	struct bw_key *p384 = rfc_key("Kexample.net.+014+10771",
		"example.net. 3600 IN DNSKEY 257 3 14 ("
		" xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1"
		" w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8"
		" /uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40 )", NULL);
	assert_int_equal(p256->tag, 55648);
	assert_int_equal(p384->tag, 10771);
	assert_true(p256->has_private);
	int n = bw_key_ds(p256->owner, p256->rdata, p256->rdlen, BW_DS_SHA256, ds, sizeof(ds));
	assert_rdata_is(BW_TYPE_DS, ds, n, "55648 13 2 b4c8c1fe2e7477127b27115656ad6256"
	                "f424625bf5c1e2770ce6d6e37df61d17");
	n = bw_key_ds(p384->owner, p384->rdata, p384->rdlen, BW_DS_SHA384, ds, sizeof(ds));
	assert_rdata_is(BW_TYPE_DS, ds, n, "10771 14 4 72d7b62976ce06438e9c0bf319013cf8"
	                "01f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3008a946df983d6");

	/* The RFC's signatures over www.example.net. 3600 IN A 192.0.2.1. */
	name(owner, "www.example.net.");
	n = rdata(BW_TYPE_RRSIG, "A 13 3 3600 20100909100439 20100812100439 55648 "
	          "example.net. qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXA"
	          "yGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==", sig, sizeof(sig));
	assert_int_equal(bw_sign_verify(p256, owner, BW_TYPE_A, &set, 1, sig, (size_t)n), 0);
	n = rdata(BW_TYPE_RRSIG, "A 14 3 3600 20100909102025 20100812102025 10771 "
	          "example.net. /L5hDKIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP"
	          "95hxQouuroGCeZOvzFaxsT8Glr74hbavRKayJNuydCuzWTSSPdz7wnqXL5bdcJzus"
	          "dnI0RSMROxxwGipWcJm", sig, sizeof(sig));
	assert_int_equal(bw_sign_verify(p384, owner, BW_TYPE_A, &set, 1, sig, (size_t)n), 0);

	/* Our signature with the RFC's key: same fields, a valid signature. */
	int m = bw_sign_rrset(p256, owner, BW_TYPE_A, 3600, &set, 1,
	                      1281607479, 1284026679, mine, sizeof(mine));
	n = rdata(BW_TYPE_RRSIG, "A 13 3 3600 20100909100439 20100812100439 55648 "
	          "example.net. qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXA"
	          "yGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==", sig, sizeof(sig));
	assert_int_equal(m, n);
	assert_memory_equal(mine, sig, (size_t)n - 64);
	assert_int_equal(bw_sign_verify(p256, owner, BW_TYPE_A, &set, 1, mine, (size_t)m), 0);
	bw_key_free(p256);
	bw_key_free(p384);
}

/* RFC 8080 §6.1, with the signatures of erratum 4935 (labels 2): Ed25519
 * is deterministic, so our RRSIGs must be the RFC's, byte for byte. */
static void test_rfc8080(void **state)
{
	static const struct {
		const char *base, *pub, *priv, *ds, *rrsig;
		unsigned tag;
	} v[2] = {
		{ "Kexample.com.+015+03613",
		  "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
		  "ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=",
		  "3613 15 2 3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b",
		  "MX 15 2 3600 1440021600 1438207200 3613 example.com. "
		  "oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M"
		  "3e23mRZ9VrbpMngwcrqNAg==", 3613 },
		{ "Kexample.com.+015+35217",
		  "zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=",
		  "DSSF3o0s0f+ElWzj9E/Osxw8hLpk55chkmx0LYN5WiY=",
		  "35217 15 2 401781b934e392de492ec77ae2e15d70f6575a1c0bc59c5275c04ebe80c6614c",
		  "MX 15 2 3600 1440021600 1438207200 35217 example.com. "
		  "zXQ0bkYgQTEFyfLyi9QoiY6D8ZdYo4wyUhVioYZXFdT410QPRITQSqJSnzQoSm5p"
		  "oJ7gD7AQR0O7KuI5k2pcBg==", 35217 },
	};
	uint8_t mx[64], ds[BW_DS_MAXRDATA], mine[RRSIG_MAX], want[256];
	char dnskey[256], priv[256];

	(void)state;
	int ml = rdata(BW_TYPE_MX, "10 mail.example.com.", mx, sizeof(mx));
	struct bw_zone_rdata set = { (uint16_t)ml, mx };
	for (size_t i = 0; i < 2; i++) {
		snprintf(dnskey, sizeof(dnskey), "example.com. 3600 IN DNSKEY 257 3 15 %s",
		         v[i].pub);
		snprintf(priv, sizeof(priv), "Private-key-format: v1.2\n"
		         "Algorithm: 15 (ED25519)\nPrivateKey: %s\n", v[i].priv);
		struct bw_key *k = rfc_key(v[i].base, dnskey, priv);
		assert_int_equal(k->tag, v[i].tag);
		int n = bw_key_ds(k->owner, k->rdata, k->rdlen, BW_DS_SHA256, ds, sizeof(ds));
		assert_rdata_is(BW_TYPE_DS, ds, n, v[i].ds);
		n = bw_sign_rrset(k, example_com, BW_TYPE_MX, 3600, &set, 1,
		                  1438207200, 1440021600, mine, sizeof(mine));
		assert_rdata_is(BW_TYPE_RRSIG, mine, n, v[i].rrsig);
		int w = rdata(BW_TYPE_RRSIG, v[i].rrsig, want, sizeof(want));
		assert_int_equal(bw_sign_verify(k, example_com, BW_TYPE_MX, &set, 1,
		                                 want, (size_t)w), 0);
		bw_key_free(k);
	}
}

/* RFC 5702 §6.2: an RSASHA512 signature checked against its DNSKEY. */
static void test_rfc5702(void **state)
{
	uint8_t key[512], sig[512], owner[BW_NAME_MAXLEN];
	uint8_t a[4] = { 192, 0, 2, 91 };
	struct bw_zone_rdata set = { 4, a };
	struct bw_key *k;

	(void)state;
	int kl = rdata(BW_TYPE_DNSKEY, "256 3 10 AwEAAdHoNTOW+et86KuJOWRDp1pndvwb6Y83"
	               "nSVXXyLA3DLroROUkN6X0O6pnWnjJQujX/AyhqFDxj13tOnD9u/1kTg7cV6rk"
	               "lMrZDtJCQ5PCl/D7QNPsgVsMu1J2Q8gpMpztNFLpPBz1bWXjDtaR7ZQBlZ3PF"
	               "Y12ZTSncorffcGmhOL", key, sizeof(key));
	int sl = rdata(BW_TYPE_RRSIG, "A 10 3 3600 20300101000000 20000101000000 3740 "
	               "example.net. tsb4wnjRUDnB1BUi+t6TMTXThjVnG+eCkWqjvvjhzQL1d0YR"
	               "oOe0CbxrVDYd0xDtsuJRaeUw1ep94PzEWzr0iGYgZBWm/zpq+9fOuagYJRfDq"
	               "fReKBzMweOLDiNa8iP5g9vMhpuv6OPlvpXwm9Sa9ZXIbNl1MBGk0fthPgxdDLw=",
	               sig, sizeof(sig));
	assert_int_equal(bw_key_from_dnskey(&k, example_net, key, (size_t)kl), 0);
	assert_int_equal(k->tag, 3740);
	assert_int_equal(k->bits, 1024);
	name(owner, "www.example.net.");
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_A, &set, 1, sig, (size_t)sl), 0);
	a[3] = 92;
	assert_int_equal(bw_sign_verify(k, owner, BW_TYPE_A, &set, 1, sig, (size_t)sl),
	                 BW_EINVAL);
	bw_key_free(k);
	assert_int_equal(bw_key_from_dnskey(&k, example_net, key, 4), BW_EMALF);
	key[3] = 99;
	assert_int_equal(bw_key_from_dnskey(&k, example_net, key, (size_t)kl), BW_EINVAL);
}

/* ---- A zone signed with our primitive, checked by dnssec-verify. ---- */

struct zrec {
	const char *owner;
	uint16_t type;
	const char *rdata;
};

/* The tiny zone with its NSEC chain, written by hand. */
static const struct zrec zone_recs[] = {
	{ "example.com.", BW_TYPE_SOA, "ns1.example.com. hostmaster.example.com. "
	  "1 3600 600 86400 300" },
	{ "example.com.", BW_TYPE_NS, "ns1.example.com." },
	{ "example.com.", BW_TYPE_NSEC, "ns1.example.com. NS SOA RRSIG NSEC DNSKEY" },
	{ "ns1.example.com.", BW_TYPE_A, "192.0.2.1" },
	{ "ns1.example.com.", BW_TYPE_NSEC, "example.com. A RRSIG NSEC" },
};

static void put_rr(FILE *f, const uint8_t *owner, uint32_t ttl, uint16_t type,
                   const uint8_t *rd, size_t len)
{
	char o[BW_NAME_MAXTEXT], t[16], r[4096];

	assert_true(bw_name_to_text(o, sizeof(o), owner) > 0);
	assert_true(bw_type_to_text(type, t, sizeof(t)) > 0);
	assert_true(bw_rdata_to_text(type, rd, len, r, sizeof(r)) >= 0);
	fprintf(f, "%s %u IN %s %s\n", o, ttl, t, r);
}

/* Signs one RRset with \a k and writes it and its RRSIG. */
static void put_signed(FILE *f, const struct bw_key *k, const uint8_t *owner,
                       uint16_t type, const struct bw_zone_rdata *rd, size_t n,
                       bool damage)
{
	uint8_t sig[RRSIG_MAX];
	uint32_t now = (uint32_t)time(NULL);

	for (size_t i = 0; i < n; i++)
		put_rr(f, owner, 3600, type, rd[i].data, rd[i].len);
	int len = bw_sign_rrset(k, owner, type, 3600, rd, n, now - 3600,
	                        now + 30 * 86400, sig, sizeof(sig));
	assert_true(len > 0);
	if (damage)
		sig[len - 1] ^= 1;
	put_rr(f, owner, 3600, BW_TYPE_RRSIG, sig, (size_t)len);
}

/* Writes the zone signed by \a zsk, and the DNSKEY RRset by \a ksk. */
static void write_signed_zone(const char *path, const struct bw_key *ksk,
                              const struct bw_key *zsk, bool damage)
{
	uint8_t owner[BW_NAME_MAXLEN], rd[512];
	FILE *f = fopen(path, "w");
	struct bw_zone_rdata keys[2] = { { ksk->rdlen, ksk->rdata },
	                                 { zsk->rdlen, zsk->rdata } };

	assert_non_null(f);
	for (size_t i = 0; i < sizeof(zone_recs) / sizeof(zone_recs[0]); i++) {
		name(owner, zone_recs[i].owner);
		int len = rdata(zone_recs[i].type, zone_recs[i].rdata, rd, sizeof(rd));
		struct bw_zone_rdata one = { (uint16_t)len, rd };
		put_signed(f, zsk, owner, zone_recs[i].type, &one, 1,
		           damage && zone_recs[i].type == BW_TYPE_A);
	}
	put_signed(f, ksk, example_com, BW_TYPE_DNSKEY, keys, ksk == zsk ? 1 : 2,
	           false);
	fclose(f);
}

static void test_zone_dnssec_verify(void **state)
{
	char dir[128], path[512], log[4096];
	struct bw_key *csk;

	(void)state;
	make_dir("verify", dir, sizeof(dir));
	/* A CSK of each algorithm, then KSK + ZSK. */
	for (size_t i = 0; i < 7; i++) {
		uint8_t alg = i < 6 ? all_algs[i] : BW_ALG_ECDSAP256SHA256;
		assert_int_equal(bw_key_generate(&csk, example_com, alg, 0, 257, 0), 0);
		/* The last round: this key as KSK, an ECDSAP256SHA256 ZSK. */
		const struct bw_key *zsk = i < 6 ? csk : fx.ours[2];
		snprintf(path, sizeof(path), "%s/z%zu.signed", dir, i);
		write_signed_zone(path, csk, zsk, false);
		/* -z: a CSK has only the KSK flag. */
		if (run(log, sizeof(log), "dnssec-verify %s -o example.com %s 2>&1",
		        i < 6 ? "-z" : "", path) != 0)
			fail_msg("dnssec-verify rejects %s:\n%s", path, log);
		if (i < 6) {
			bw_key_free(csk);
			continue;
		}
		/* A damaged signature is noticed. */
		write_signed_zone(path, csk, zsk, true);
		assert_int_not_equal(run(log, sizeof(log),
		                         "dnssec-verify -o example.com %s 2>&1", path), 0);
		bw_key_free(csk);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_keys_round_trip),
		cmocka_unit_test(test_bind_keys_fields),
		cmocka_unit_test(test_bind_keys_ds),
		cmocka_unit_test(test_mismatched_private),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_full_state),
		cmocka_unit_test(test_our_keys_ds_in_bind),
		cmocka_unit_test(test_our_keys_round_trip),
		cmocka_unit_test(test_our_keys_sign_in_bind),
		cmocka_unit_test(test_keygen_cli),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_cds_cdnskey),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_sign_openssl),
		cmocka_unit_test(test_sign_verify_rejects),
		cmocka_unit_test(test_sign_canonical),
		cmocka_unit_test(test_sign_wildcard),
		cmocka_unit_test(test_sign_threads),
		cmocka_unit_test(test_rfc6605),
		cmocka_unit_test(test_rfc8080),
		cmocka_unit_test(test_rfc5702),
		cmocka_unit_test(test_zone_dnssec_verify),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
