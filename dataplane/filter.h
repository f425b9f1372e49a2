/*  bulwark — operator filters: Hyperscan patterns over query names.
 *
 *  The control plane compiles every rule into one Hyperscan block-mode
 *  database (literals with hs_compile_lit_multi semantics, expressions
 *  with hs_compile_multi; HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH) and one
 *  scratch space per worker (hs_clone_scratch), published with RCU inside
 *  the flood policy.  Workers scan the query name in lowercase presentation
 *  form ("www.example.com.", RFC 1035 escapes) with their own scratch; the
 *  strongest action of the matching rules wins (drop > refuse > truncate >
 *  rate-limit > log-only), a rule with a zone applies only to names at or
 *  below it.
 */
#ifndef BULWARK_DP_FILTER_H
#define BULWARK_DP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/flood.h"

/*! Longest pattern text. */
#define BW_FILTER_PATTERN_MAX 1024

/*! A rule as the operator gave it. */
struct bw_filter_rule {
	unsigned id;                      /*!< Operator-visible, unique. */
	bool literal;                     /*!< Match the text as a substring. */
	char pattern[BW_FILTER_PATTERN_MAX + 1];
	enum bw_filter_action action;
	bool has_zone;
	uint8_t zone[255];                /*!< Lowercase wire name. */
	uint8_t zone_len;
};

struct bw_filter_db;

/*!
 * \brief Compiles \a n rules (1..BW_FILTER_RULES_MAX) for \a workers
 *        workers.
 * \param err  On failure: "pattern ID: <Hyperscan's message>" or the
 *             reason (too many rules, out of memory).
 * \return 0, or -1 with \a err set and nothing allocated.
 */
int bw_filter_compile(const struct bw_filter_rule *rules, size_t n,
                      unsigned workers, struct bw_filter_db **out,
                      char *err, size_t errlen);

/*! \brief Frees a database and its scratch spaces (NULL accepted). */
void bw_filter_free(struct bw_filter_db *db);

/*! \brief Rules of \a db, in the order given to bw_filter_compile(). */
const struct bw_filter_rule *bw_filter_rules(const struct bw_filter_db *db,
                                             size_t *n);

/*! What a scan found. */
struct bw_filter_hit {
	enum bw_filter_action action;
	unsigned index;           /*!< Index of the rule into bw_filter_rules(). */
};

/*!
 * \brief Matches one query name (lowercase wire form, \a len octets) for
 *        worker \a worker.
 * \return true with \a hit set when a rule applies.
 */
bool bw_filter_match(const struct bw_filter_db *db, unsigned worker,
                     const uint8_t *lname, size_t len,
                     struct bw_filter_hit *hit);

/*!
 * \brief Writes the lowercase presentation form of a lowercase wire name
 *        ("." for the root, trailing dot, \DDD and \. escapes as RFC 1035).
 * \return Its length (without NUL); \a out needs 1005 octets at most.
 */
size_t bw_filter_name_text(const uint8_t *lname, size_t len, char *out);

#endif /* BULWARK_DP_FILTER_H */
