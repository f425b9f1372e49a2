/*  bulwark — operator filters: Hyperscan patterns over query names (see
 *  filter.h).
 *
 *  One database, not two: a literal rule is escaped into an expression
 *  (every octet but a letter or a digit written as \xHH) and compiled with
 *  the regexes by hs_compile_multi.  A literal expression means what
 *  hs_compile_lit_multi would make of the text (a substring, caseless) and
 *  Hyperscan extracts the same literal from it for its literal matcher, so
 *  nothing is lost; what is won is one hs_scan per query instead of two
 *  and scratch spaces sized for one database.  Expression ids are rule
 *  indexes.
 *
 *  The name is scanned in presentation form on the worker's stack; the
 *  match callback checks a rule's zone only when the rule matched, and
 *  keeps the strongest action (ties: the lowest rule index).  Nothing
 *  outdoes the first drop rule, so a hit on it ends the scan.
 */
#include "filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "bulwark/wire.h"

#define FILTER_HS_FLAGS (HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH)

const char *const bw_filter_action_names[BW_FA_MAX] = {
	[BW_FA_LOG_ONLY] = "log-only",
	[BW_FA_RATE_LIMIT] = "rate-limit",
	[BW_FA_TRUNCATE] = "truncate",
	[BW_FA_REFUSE] = "refuse",
	[BW_FA_DROP] = "drop",
};

struct bw_filter_db {
	hs_database_t *hs;
	struct bw_filter_rule *rules;   /* Copies, in the order given. */
	size_t n;
	unsigned workers;
	unsigned first_drop;            /* Lowest drop rule, or n. */
	hs_scratch_t *scratch[];        /* One per worker. */
};

/* ---- Presentation form. ---- */

/* Octets written as themselves: printable ASCII but '.' and '\'.
 * Unlike bw_name_to_text() no other printable character is escaped, and
 * space is \032: what a pattern has to spell stays what a log shows. */
static bool text_plain(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e && c != '.' && c != '\\';
}

/* Writes an octet that needs a backslash; returns the characters. */
static size_t text_escape(char *out, uint8_t c)
{
	out[0] = '\\';
	if (c == '.' || c == '\\') {
		out[1] = (char)c;
		return 2;
	}
	out[1] = (char)('0' + c / 100);
	out[2] = (char)('0' + c / 10 % 10);
	out[3] = (char)('0' + c % 10);
	return 4;
}

size_t bw_filter_name_text(const uint8_t *lname, size_t len, char *out)
{
	size_t w = 0;

	/* At most 255 octets of labels of at most 63: 1004 characters. */
	if (len > BW_NAME_MAXLEN)
		len = BW_NAME_MAXLEN;
	for (size_t pos = 0; pos < len && lname[pos] != 0;) {
		size_t l = lname[pos++];
		if (l > BW_LABEL_MAXLEN || pos + l >= len)
			break;                  /* malformed: stop here */
		for (size_t end = pos + l; pos < end; pos++) {
			uint8_t c = lname[pos];
			if (text_plain(c))
				out[w++] = (char)c;
			else
				w += text_escape(out + w, c);
		}
		out[w++] = '.';
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return w;
}

/* ---- Compiling. ---- */

static int fail(char *err, size_t errlen, const char *msg)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

static int rule_fail(char *err, size_t errlen, unsigned id, const char *msg)
{
	if (errlen > 0)
		snprintf(err, errlen, "pattern %u: %s", id, msg);
	return -1;
}

/* What Hyperscan cannot check: text length, action, zone. */
static int check_rule(const struct bw_filter_rule *r, char *err, size_t errlen)
{
	if (memchr(r->pattern, '\0', sizeof(r->pattern)) == NULL)
		return rule_fail(err, errlen, r->id, "pattern too long");
	if ((unsigned)r->action >= BW_FA_MAX)
		return rule_fail(err, errlen, r->id, "unknown action");
	if (r->has_zone && bw_name_check(r->zone, r->zone_len) != r->zone_len)
		return rule_fail(err, errlen, r->id, "zone is not a wire name");
	return 0;
}

static int check_rules(const struct bw_filter_rule *rules, size_t n,
                       unsigned workers, char *err, size_t errlen)
{
	if (rules == NULL || n == 0)
		return fail(err, errlen, "no filter rules");
	if (n > BW_FILTER_RULES_MAX)
		return fail(err, errlen, "too many filter rules (256 at most)");
	if (workers == 0)
		return fail(err, errlen, "no workers");
	for (size_t i = 0; i < n; i++) {
		if (check_rule(&rules[i], err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Writes \a lit as an expression that matches it literally. */
static char *escape_literal(char *out, const char *lit)
{
	static const char hex[] = "0123456789abcdef";

	for (; *lit != '\0'; lit++) {
		uint8_t c = (uint8_t)*lit;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')) {
			*out++ = (char)c;
			continue;
		}
		*out++ = '\\';
		*out++ = 'x';
		*out++ = hex[c >> 4];
		*out++ = hex[c & 0xf];
	}
	*out++ = '\0';
	return out;
}

/* Points expr[i] at each rule's expression: regexes as given, literals
 * escaped into the returned buffer (the caller frees it). */
static char *build_exprs(const struct bw_filter_rule *rules, size_t n,
                         const char **expr)
{
	size_t size = 1;
	char *lits, *at;

	for (size_t i = 0; i < n; i++) {
		if (rules[i].literal)
			size += 4 * strlen(rules[i].pattern) + 1;
	}
	lits = malloc(size);
	if (lits == NULL)
		return NULL;
	at = lits;
	for (size_t i = 0; i < n; i++) {
		expr[i] = rules[i].pattern;
		if (rules[i].literal) {
			expr[i] = at;
			at = escape_literal(at, rules[i].pattern);
		}
	}
	return lits;
}

/* "pattern ID: <Hyperscan's message>" for the rule the error names. */
static int compile_fail(const struct bw_filter_db *db,
                        const hs_compile_error_t *ce, char *err,
                        size_t errlen)
{
	if (ce == NULL)
		return fail(err, errlen, "Hyperscan compile failed");
	if (ce->expression < 0 || (size_t)ce->expression >= db->n)
		return fail(err, errlen, ce->message);
	return rule_fail(err, errlen, db->rules[ce->expression].id,
	                 ce->message);
}

static int compile_hs(struct bw_filter_db *db, char *err, size_t errlen)
{
	const char *expr[BW_FILTER_RULES_MAX];
	unsigned flags[BW_FILTER_RULES_MAX], ids[BW_FILTER_RULES_MAX];
	hs_compile_error_t *ce = NULL;
	char *lits = build_exprs(db->rules, db->n, expr);
	int rc = 0;

	if (lits == NULL)
		return fail(err, errlen, "out of memory");
	for (size_t i = 0; i < db->n; i++) {
		flags[i] = FILTER_HS_FLAGS;
		ids[i] = (unsigned)i;
	}
	if (hs_compile_multi(expr, flags, ids, (unsigned)db->n, HS_MODE_BLOCK,
	                     NULL, &db->hs, &ce) != HS_SUCCESS) {
		db->hs = NULL;
		rc = compile_fail(db, ce, err, errlen);
		hs_free_compile_error(ce);
	}
	free(lits);
	return rc;
}

/* The first scratch space from the database, the others cloned. */
static int alloc_scratch(struct bw_filter_db *db, char *err, size_t errlen)
{
	if (hs_alloc_scratch(db->hs, &db->scratch[0]) != HS_SUCCESS)
		return fail(err, errlen, "out of memory (Hyperscan scratch)");
	for (unsigned w = 1; w < db->workers; w++) {
		if (hs_clone_scratch(db->scratch[0], &db->scratch[w]) != HS_SUCCESS)
			return fail(err, errlen, "out of memory (Hyperscan scratch)");
	}
	return 0;
}

/* Index of the first drop rule, or \a n. */
static unsigned first_drop(const struct bw_filter_rule *rules, size_t n)
{
	size_t i = 0;

	while (i < n && rules[i].action != BW_FA_DROP)
		i++;
	return (unsigned)i;
}

static struct bw_filter_db *db_new(const struct bw_filter_rule *rules,
                                   size_t n, unsigned workers)
{
	struct bw_filter_db *db;

	db = calloc(1, sizeof(*db) + workers * sizeof(db->scratch[0]));
	if (db == NULL)
		return NULL;
	db->rules = malloc(n * sizeof(*rules));
	if (db->rules == NULL) {
		free(db);
		return NULL;
	}
	memcpy(db->rules, rules, n * sizeof(*rules));
	db->n = n;
	db->workers = workers;
	db->first_drop = first_drop(rules, n);
	return db;
}

int bw_filter_compile(const struct bw_filter_rule *rules, size_t n,
                      unsigned workers, struct bw_filter_db **out,
                      char *err, size_t errlen)
{
	struct bw_filter_db *db;

	*out = NULL;
	if (check_rules(rules, n, workers, err, errlen) < 0)
		return -1;
	db = db_new(rules, n, workers);
	if (db == NULL)
		return fail(err, errlen, "out of memory");
	if (compile_hs(db, err, errlen) < 0 ||
	    alloc_scratch(db, err, errlen) < 0) {
		bw_filter_free(db);
		return -1;
	}
	*out = db;
	return 0;
}

void bw_filter_free(struct bw_filter_db *db)
{
	if (db == NULL)
		return;
	for (unsigned w = 0; w < db->workers; w++)
		hs_free_scratch(db->scratch[w]);
	hs_free_database(db->hs);
	free(db->rules);
	free(db);
}

const struct bw_filter_rule *bw_filter_rules(const struct bw_filter_db *db,
                                             size_t *n)
{
	*n = db->n;
	return db->rules;
}

/* ---- Matching. ---- */

/* What on_match() keeps across one scan. */
struct scan_ctx {
	const struct bw_filter_rule *rules;
	const uint8_t *lname;
	size_t len;
	unsigned first_drop;
	bool found;
	struct bw_filter_hit hit;
};

/* Whether the name's last zone_len octets are the zone and start a
 * label. */
static bool in_zone(const struct bw_filter_rule *r, const uint8_t *lname,
                    size_t len)
{
	size_t pos = 0, off;

	if (r->zone_len > len)
		return false;
	off = len - r->zone_len;
	while (pos < off)
		pos += 1 + (size_t)lname[pos];
	return pos == off && memcmp(lname + off, r->zone, r->zone_len) == 0;
}

static int on_match(unsigned id, unsigned long long from,
                    unsigned long long to, unsigned flags, void *arg)
{
	struct scan_ctx *c = arg;
	const struct bw_filter_rule *r = &c->rules[id];

	(void)from;
	(void)to;
	(void)flags;
	if (c->found && (r->action < c->hit.action ||
	                 (r->action == c->hit.action && id > c->hit.index)))
		return 0;
	if (r->has_zone && !in_zone(r, c->lname, c->len))
		return 0;
	c->found = true;
	c->hit.action = r->action;
	c->hit.index = id;
	return id == c->first_drop;         /* non-zero ends the scan */
}

bool bw_filter_match(const struct bw_filter_db *db, unsigned worker,
                     const uint8_t *lname, size_t len,
                     struct bw_filter_hit *hit)
{
	char text[BW_NAME_MAXTEXT];
	struct scan_ctx c = { .lname = lname, .len = len, .found = false };
	size_t tlen;

	if (db == NULL || worker >= db->workers)
		return false;
	c.rules = db->rules;
	c.first_drop = db->first_drop;
	tlen = bw_filter_name_text(lname, len, text);
	hs_scan(db->hs, text, (unsigned)tlen, 0, db->scratch[worker], on_match,
	        &c);
	if (c.found)
		*hit = c.hit;
	return c.found;
}
