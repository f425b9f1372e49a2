/*  bulwark — C shims that the Google Benchmark programs call.
 */
#ifndef BULWARK_BENCH_SHIM_H
#define BULWARK_BENCH_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Query classes, by what the engine does with them. */
enum bwb_kind {
	BWB_HIT = 0,      /*!< Exact match. */
	BWB_MISS,         /*!< NXDOMAIN. */
	BWB_WILDCARD,     /*!< Synthesized from a wildcard. */
	BWB_REFERRAL,
	BWB_ALL,          /*!< Every query of the file, in file order. */
	BWB_NKINDS
};

struct bwb;

/*!
 * \brief Compiles ZONE, loads it and builds the queries of QUERIES (a
 *        dnsperf file: "NAME TYPE" per line), sorted into kinds.
 * \return NULL on failure (a message on stderr).
 */
struct bwb *bwb_open(const char *zone, const char *origin, const char *queries);

/*!
 * \brief bwb_open() with the signing given rather than read from
 *        BW_BENCH_KEYDIR and BW_BENCH_POLICY: \a keydir NULL for an
 *        unsigned table, \a policy "CONF:NAME" or NULL (NSEC).
 */
struct bwb *bwb_open_signed(const char *zone, const char *origin,
                            const char *queries, const char *keydir,
                            const char *policy);
void bwb_close(struct bwb *b);

size_t bwb_count(const struct bwb *b, enum bwb_kind kind);

/*! Parses query name i of a kind from presentation form. */
int bwb_name_parse(struct bwb *b, enum bwb_kind kind, size_t i);

/*! Finds the zone and the node (or closest encloser) for query i. */
int bwb_lookup(struct bwb *b, enum bwb_kind kind, size_t i);

/*! Builds the full response to query i; returns its length. */
size_t bwb_answer(struct bwb *b, enum bwb_kind kind, size_t i);

/*! Query i of a kind: its message (\a len octets) ... */
const uint8_t *bwb_query(const struct bwb *b, enum bwb_kind kind, size_t i,
                         size_t *len);
/*! ... and its name, lowercase wire form. */
const uint8_t *bwb_query_lname(const struct bwb *b, enum bwb_kind kind,
                               size_t i, size_t *len);

/*! What the queries are answered from, for the fast-path shims. */
struct bw_zoneset;
struct bw_answer_conf;
struct bw_table;
const struct bw_zoneset *bwb_zoneset(const struct bwb *b);
const struct bw_answer_conf *bwb_conf(const struct bwb *b);
const struct bw_table *bwb_table(const struct bwb *b);

/*! Seconds the compile took and the table's size, for the report. */
double bwb_compile_seconds(const struct bwb *b);
size_t bwb_table_size(const struct bwb *b);

#ifdef __cplusplus
}
#endif

#endif /* BULWARK_BENCH_SHIM_H */
