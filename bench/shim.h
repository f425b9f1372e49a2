/*  bulwark — C shims that the Google Benchmark programs call.
 */
#ifndef BULWARK_BENCH_SHIM_H
#define BULWARK_BENCH_SHIM_H

#include <stddef.h>

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
void bwb_close(struct bwb *b);

size_t bwb_count(const struct bwb *b, enum bwb_kind kind);

/*! Parses query name i of a kind from presentation form. */
int bwb_name_parse(struct bwb *b, enum bwb_kind kind, size_t i);

/*! Finds the zone and the node (or closest encloser) for query i. */
int bwb_lookup(struct bwb *b, enum bwb_kind kind, size_t i);

/*! Builds the full response to query i; returns its length. */
size_t bwb_answer(struct bwb *b, enum bwb_kind kind, size_t i);

/*! Seconds the compile took and the table's size, for the report. */
double bwb_compile_seconds(const struct bwb *b);
size_t bwb_table_size(const struct bwb *b);

#ifdef __cplusplus
}
#endif

#endif /* BULWARK_BENCH_SHIM_H */
