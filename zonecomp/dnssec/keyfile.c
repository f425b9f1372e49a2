/*  bulwark — DNSSEC key files as BIND writes them: .key, .private and
 *  .state; the keys of a zone in a directory.
 */
#include "key.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "keyalg.h"

/* Timing fields repeated as comments in the .key file, in BIND's order. */
static const char *const pub_times[] = {
	"Created", "Publish", "Activate", "Revoke", "Inactive", "Delete",
	"SyncPublish", "SyncDelete",
};

#define NPUBTIMES (sizeof(pub_times) / sizeof(pub_times[0]))
#define MAXTOK 256
#define TIMELEN 14   /* YYYYMMDDHHMMSS */

static int errno_err(void)
{
	switch (errno) {
	case ENOENT: return BW_ENOENT;
	case EACCES: case EPERM: return BW_EACCES;
	case ENOMEM: return BW_ENOMEM;
	default: return BW_EIO;
	}
}

/* ---- Times. ---- */

static void time_text(time_t t, char *out, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y%m%d%H%M%S", &tm);
}

/* The readable date BIND writes after a time (ctime's form, local time). */
static void time_readable(time_t t, char *out, size_t cap)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, cap, "%a %b %e %H:%M:%S %Y", &tm);
}

static int time_parse(const char *s, time_t *t)
{
	struct tm tm = { 0 };
	unsigned v[6];
	static const unsigned width[6] = { 4, 2, 2, 2, 2, 2 };

	for (size_t i = 0, pos = 0; i < 6; pos += width[i++]) {
		v[i] = 0;
		for (size_t j = pos; j < pos + width[i]; j++) {
			if (s[j] < '0' || s[j] > '9')
				return BW_ESYNTAX;
			v[i] = v[i] * 10 + (unsigned)(s[j] - '0');
		}
	}
	if (s[TIMELEN] != '\0' && s[TIMELEN] != ' ')
		return BW_ESYNTAX;
	tm.tm_year = (int)v[0] - 1900;
	tm.tm_mon = (int)v[1] - 1;
	tm.tm_mday = (int)v[2];
	tm.tm_hour = (int)v[3];
	tm.tm_min = (int)v[4];
	tm.tm_sec = (int)v[5];
	*t = timegm(&tm);
	return 0;
}

int bw_key_time(const struct bw_key *k, const char *tag, time_t *t)
{
	const char *v = bw_key_field_get(&k->priv, tag);

	if (v == NULL)
		v = bw_key_field_get(&k->state, tag);
	return v ? time_parse(v, t) : BW_ENOENT;
}

int bw_key_set_time(struct bw_key *k, bool state, const char *tag, time_t t)
{
	char txt[TIMELEN + 1], readable[64], both[96];

	time_text(t, txt, sizeof(txt));
	if (!state)
		return bw_key_field_set(&k->priv, tag, txt);
	time_readable(t, readable, sizeof(readable));
	snprintf(both, sizeof(both), "%s (%s)", txt, readable);
	return bw_key_field_set(&k->state, tag, both);
}

int bw_key_init_state(struct bw_key *k, enum bw_key_role role,
                      uint32_t lifetime, time_t now)
{
	static const char *const times[] = { "Generated", "Published", "Active" };
	char num[16];
	int rc;

	snprintf(num, sizeof(num), "%u", k->alg);
	rc = bw_key_field_set(&k->state, "Algorithm", num);
	snprintf(num, sizeof(num), "%u", k->bits);
	rc = rc ? rc : bw_key_field_set(&k->state, "Length", num);
	snprintf(num, sizeof(num), "%u", lifetime);
	rc = rc ? rc : bw_key_field_set(&k->state, "Lifetime", num);
	rc = rc ? rc : bw_key_field_set(&k->state, "KSK",
	                                (role & BW_KEY_KSK) ? "yes" : "no");
	rc = rc ? rc : bw_key_field_set(&k->state, "ZSK",
	                                (role & BW_KEY_ZSK) ? "yes" : "no");
	for (size_t i = 0; i < 3 && rc == 0; i++)
		rc = bw_key_set_time(k, true, times[i], now);
	return rc;
}

/* ---- Reading. ---- */

/* Splits a "Tag: value" line; the line is changed in place. */
static bool split_field(char *line, char **tag, char **value)
{
	char *colon = strchr(line, ':');

	if (colon == NULL || colon == line)
		return false;
	*colon = '\0';
	*tag = line;
	*value = colon + 1;
	while (**value == ' ' || **value == '\t')
		(*value)++;
	return true;
}

static void chomp(char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
}

static bool is_pub_time(const char *tag)
{
	for (size_t i = 0; i < NPUBTIMES; i++) {
		if (strcmp(tag, pub_times[i]) == 0)
			return true;
	}
	return false;
}

/* "; Activate: 20261122085342 (Sun Nov 22 ...)": keeps the time. */
static int comment_time(struct bw_key *k, char *line)
{
	char *tag, *value;

	line += strspn(line, "; ");
	if (!split_field(line, &tag, &value) || !is_pub_time(tag) ||
	    strlen(value) < TIMELEN)
		return 0;
	value[TIMELEN] = '\0';
	return bw_key_field_set(&k->priv, tag, value);
}

static size_t tokenize(char *s, struct bw_token *tok, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(s, " \t", &save);
	     t && n < max; t = strtok_r(NULL, " \t", &save)) {
		if (strcmp(t, "(") != 0 && strcmp(t, ")") != 0)
			tok[n++] = (struct bw_token){ t, strlen(t), false };
	}
	return n;
}

/* "example.com. [TTL] [IN] DNSKEY 257 3 13 KEY...". */
static int dnskey_line(struct bw_key *k, char *line)
{
	struct bw_token tok[MAXTOK];
	uint8_t rdata[BW_KEY_MAXRDATA];
	size_t n = tokenize(line, tok, MAXTOK), i = 1;

	if (n < 2 || bw_name_from_text(k->owner, tok[0].s, tok[0].len, NULL) < 0)
		return BW_ESYNTAX;
	if (tok[i].s[0] >= '0' && tok[i].s[0] <= '9') {
		if (bw_ttl_from_text(tok[i].s, tok[i].len, &k->ttl) != 0)
			return BW_ESYNTAX;
		k->has_ttl = true;
		i++;
	}
	if (i < n && strcasecmp(tok[i].s, "IN") == 0)
		i++;
	if (i >= n || strcasecmp(tok[i].s, "DNSKEY") != 0)
		return BW_ESYNTAX;
	int len = bw_rdata_from_text(BW_TYPE_DNSKEY, tok + i + 1, n - i - 1,
	                             NULL, rdata, sizeof(rdata), NULL, 0);
	if (len < 0)
		return BW_ESYNTAX;
	return bw_key_set_public(k, rdata, (size_t)len);
}

static FILE *open_with(const char *base, const char *suffix, const char *mode)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s%s", base, suffix) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return fopen(path, mode);
}

static int read_pub(struct bw_key *k, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	bool seen = false;

	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		chomp(line);
		if (line[0] == ';')
			rc = comment_time(k, line);
		else if (line[strspn(line, " \t")] != '\0' && !seen) {
			rc = dnskey_line(k, line);
			seen = true;
		}
	}
	free(line);
	return rc == 0 && !seen ? BW_ESYNTAX : rc;
}

/* Reads "Tag: value" lines into \a out; comments are skipped. */
static int read_fields(FILE *f, struct bw_key_fields *out)
{
	char *line = NULL, *tag, *value;
	size_t cap = 0;
	int rc = 0;

	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		chomp(line);
		if (line[0] == ';' || line[strspn(line, " \t")] == '\0')
			continue;
		rc = split_field(line, &tag, &value) ?
		     bw_key_field_add(out, tag, value) : BW_ESYNTAX;
	}
	if (line)
		OPENSSL_cleanse(line, cap);
	free(line);
	return rc;
}

static int read_priv(struct bw_key *k, FILE *f)
{
	struct bw_key_fields fields = { NULL, 0, 0 };
	int rc = read_fields(f, &fields);
	const char *alg = bw_key_field_get(&fields, "Algorithm");

	if (rc == 0 && (alg == NULL || strtoul(alg, NULL, 10) != k->alg))
		rc = BW_ESYNTAX;
	/* The .private timing fields replace the comments of the .key. */
	bw_key_fields_clear(&k->priv);
	k->priv = fields;
	return rc ? rc : bw_key_load_private(k);
}

/* Reads an optional file with \a fn. */
static int read_optional(struct bw_key *k, const char *base, const char *suffix,
                         int (*fn)(struct bw_key *, FILE *))
{
	FILE *f = open_with(base, suffix, "r");
	int rc;

	if (f == NULL)
		return errno == ENOENT ? 0 : errno_err();
	rc = fn(k, f);
	fclose(f);
	return rc;
}

static int read_state(struct bw_key *k, FILE *f)
{
	return read_fields(f, &k->state);
}

int bw_key_read(struct bw_key **out, const char *base)
{
	struct bw_key *k = calloc(1, sizeof(*k));
	FILE *f;
	int rc;

	if (k == NULL)
		return BW_ENOMEM;
	if ((f = open_with(base, ".key", "r")) == NULL) {
		free(k);
		return errno_err();
	}
	rc = read_pub(k, f);
	fclose(f);
	if (rc == 0)
		rc = read_optional(k, base, ".private", read_priv);
	if (rc == 0)
		rc = read_optional(k, base, ".state", read_state);
	if (rc != 0) {
		bw_key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

/* ---- Writing. ---- */

int bw_key_basename(const struct bw_key *k, char *out, size_t cap)
{
	char name[BW_NAME_MAXTEXT];

	if (bw_name_to_text(name, sizeof(name), k->owner) < 0)
		return BW_ENOSPC;
	int n = snprintf(out, cap, "K%s+%03u+%05u", name, k->alg, k->tag);
	return n < 0 || (size_t)n >= cap ? BW_ENOSPC : n;
}

static void write_pub_times(const struct bw_key *k, FILE *f)
{
	char readable[64];
	time_t t;

	for (size_t i = 0; i < NPUBTIMES; i++) {
		const char *v = bw_key_field_get(&k->priv, pub_times[i]);
		if (v == NULL || time_parse(v, &t) != 0)
			continue;
		time_readable(t, readable, sizeof(readable));
		fprintf(f, "; %s: %.14s (%s)\n", pub_times[i], v, readable);
	}
}

/* The public key in base64, in blocks of 56 characters as BIND does. */
static int write_pub_key(const struct bw_key *k, FILE *f)
{
	char b64[4 * (BW_KEY_MAXRDATA / 3 + 1) + 1];
	int n = bw_key_b64_encode(k->rdata + 4, k->rdlen - 4u, b64, sizeof(b64));

	if (n < 0)
		return n;
	for (int i = 0; i < n; i += 56)
		fprintf(f, "%s%.*s", i ? " " : "", n - i < 56 ? n - i : 56, b64 + i);
	fputc('\n', f);
	return 0;
}

static int write_pub(const struct bw_key *k, FILE *f)
{
	char name[BW_NAME_MAXTEXT];

	bw_name_to_text(name, sizeof(name), k->owner);
	fprintf(f, "; This is a %s%s-signing key, keyid %u, for %s\n",
	        (k->flags & BW_DNSKEY_REVOKE) ? "revoked " : "",
	        (k->flags & BW_DNSKEY_SEP) ? "key" : "zone", k->tag, name);
	write_pub_times(k, f);
	fprintf(f, "%s ", name);
	if (k->has_ttl)
		fprintf(f, "%u ", k->ttl);
	fprintf(f, "IN DNSKEY %u %u %u ", k->flags, k->rdata[2], k->alg);
	return write_pub_key(k, f);
}

static void write_fields(const struct bw_key_fields *fl, FILE *f)
{
	for (size_t i = 0; i < fl->n; i++)
		fprintf(f, "%s: %s\n", fl->v[i].tag, fl->v[i].value);
}

static int write_priv(const struct bw_key *k, FILE *f)
{
	write_fields(&k->priv, f);
	return 0;
}

static int write_state(const struct bw_key *k, FILE *f)
{
	char name[BW_NAME_MAXTEXT];

	bw_name_to_text(name, sizeof(name), k->owner);
	fprintf(f, "; This is the state of key %u, for %s\n", k->tag, name);
	write_fields(&k->state, f);
	return 0;
}

/* Writes DIR/BASE.SUFFIX with \a fn; the file is made with \a mode. */
static int write_file(const struct bw_key *k, const char *dir,
                      const char *suffix, mode_t mode,
                      int (*fn)(const struct bw_key *, FILE *))
{
	char base[BW_NAME_MAXTEXT + 16], path[4096];
	int fd, rc;
	FILE *f;

	if (bw_key_basename(k, base, sizeof(base)) < 0 ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s%s", dir, base, suffix) >=
	    sizeof(path))
		return BW_ENOSPC;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) < 0)
		return errno_err();
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return errno_err();
	}
	rc = fn(k, f);
	if (ferror(f) && rc == 0)
		rc = BW_EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = errno_err();
	return rc;
}

int bw_key_write(const struct bw_key *k, const char *dir)
{
	int rc = write_file(k, dir, ".key", 0644, write_pub);

	if (rc == 0 && k->has_private)
		rc = write_file(k, dir, ".private", 0600, write_priv);
	if (rc == 0 && k->state.n > 0)
		rc = write_file(k, dir, ".state", 0644, write_state);
	return rc;
}

/* ---- The keys of a zone in a directory. ---- */

static int keyset_add(struct bw_keyset *ks, struct bw_key *k)
{
	struct bw_key **v = realloc(ks->keys, (ks->n + 1) * sizeof(*v));

	if (v == NULL)
		return BW_ENOMEM;
	ks->keys = v;
	ks->keys[ks->n++] = k;
	return 0;
}

/* "K<zone>+AAA+TTTTT.key" for \a prefix "K<zone>+". */
static bool key_file_name(const char *file, const char *prefix, size_t plen)
{
	size_t len = strlen(file);

	return len == plen + 13 && strncasecmp(file, prefix, plen) == 0 &&
	       strcmp(file + len - 4, ".key") == 0 && file[plen + 3] == '+';
}

static int load_one(struct bw_keyset *ks, const char *dir, const char *file,
                    const uint8_t *zone)
{
	char base[4096];
	struct bw_key *k;
	int rc;

	snprintf(base, sizeof(base), "%s/%.*s", dir, (int)(strlen(file) - 4), file);
	if ((rc = bw_key_read(&k, base)) != 0)
		return rc;
	if (!bw_name_equal(k->owner, zone)) {
		bw_key_free(k);
		return 0;
	}
	if ((rc = keyset_add(ks, k)) != 0)
		bw_key_free(k);
	return rc;
}

static int key_order(const void *a, const void *b)
{
	const struct bw_key *x = *(struct bw_key *const *)a;
	const struct bw_key *y = *(struct bw_key *const *)b;

	if (x->alg != y->alg)
		return x->alg < y->alg ? -1 : 1;
	return (x->tag > y->tag) - (x->tag < y->tag);
}

int bw_key_load_dir(const char *dir, const uint8_t *zone, struct bw_keyset *out)
{
	char prefix[BW_NAME_MAXTEXT + 2] = "K";
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*out = (struct bw_keyset){ NULL, 0 };
	if (bw_name_to_text(prefix + 1, sizeof(prefix) - 2, zone) < 0)
		return BW_EINVAL;
	strcat(prefix, "+");
	if ((d = opendir(dir)) == NULL)
		return errno_err();
	size_t plen = strlen(prefix);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (key_file_name(de->d_name, prefix, plen))
			rc = load_one(out, dir, de->d_name, zone);
	}
	closedir(d);
	if (rc != 0) {
		bw_keyset_free(out);
		return rc;
	}
	if (out->n > 1)
		qsort(out->keys, out->n, sizeof(*out->keys), key_order);
	return 0;
}

void bw_keyset_free(struct bw_keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		bw_key_free(ks->keys[i]);
	free(ks->keys);
	*ks = (struct bw_keyset){ NULL, 0 };
}
