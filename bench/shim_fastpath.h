/*  bulwark — C shims of the fast-path micro-benchmarks (bench_fastpath).
 *
 *  Each piece of the per-packet path gets a context, built once outside
 *  the timed loop with its inputs prepared (frames, keys, names, cookies),
 *  and an operation that does one unit of work on input i: the benchmark
 *  loop only counts i round.
 */
#ifndef BULWARK_BENCH_SHIM_FASTPATH_H
#define BULWARK_BENCH_SHIM_FASTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Packets (bw_pkt_handle). ---- */

/*! Which frames a packet context holds. */
enum bwf_frame {
	BWF_FRAME_QUERY = 0,   /*!< UDP queries to our address and port. */
	BWF_FRAME_PORT,        /*!< The same to another UDP port: the
	                            exception path, no answer (parse only). */
	BWF_FRAME_RUNT,        /*!< Cut inside the IP header: dropped. */
};

struct bwf_pkt;

/*!
 * \brief Frames of the queries of \a kind of \a b (at most 8192), IPv4
 *        or IPv6, untagged Ethernet, answered from \a b's zones.
 * \return NULL when out of memory.
 */
struct bwf_pkt *bwf_pkt_new(const struct bwb *b, enum bwb_kind kind, bool v6,
                            enum bwf_frame what);
void bwf_pkt_free(struct bwf_pkt *p);
size_t bwf_pkt_count(const struct bwf_pkt *p);

/*! Copies frame i into the receive buffer and handles it: the verdict. */
int bwf_pkt_handle(struct bwf_pkt *p, size_t i);

/*! Only the copy, to subtract from bwf_pkt_handle(). */
size_t bwf_pkt_copy(struct bwf_pkt *p, size_t i);

/* ---- Checksum. ---- */

/*! bw_pkt_cksum_fold(bw_pkt_cksum_add(0, buf, len)). */
uint16_t bwf_cksum(const uint8_t *buf, size_t len);

/* ---- NSEC3 hash of query names (bw_nsec3_hash). ---- */

/*! With the salt and iterations of \a b's table (0 when not NSEC3). */
int bwf_nsec3_hash(const struct bwb *b, enum bwb_kind kind, size_t i);

/* ---- Response-rate limiting (bw_rrl_account). ---- */

struct bwf_rrl;

/*!
 * \brief A default-sized table (20,000 entries, BIND's max-table-size)
 *        and \a nkeys keys: 1 is one source and name over and over,
 *        more are distinct /24 sources with random names (seeded).
 */
struct bwf_rrl *bwf_rrl_new(unsigned nkeys);
void bwf_rrl_free(struct bwf_rrl *r);

/*! Accounts key i % nkeys; the clock moves 1 ms every 1,000 calls. */
int bwf_rrl_account(struct bwf_rrl *r, size_t i);

/* ---- DNS cookies (bw_cookie_make, bw_cookie_check). ---- */

/*! What the server cookie of a check is. */
enum bwf_cookie_case {
	BWF_COOKIE_CUR = 0,    /*!< Made with the current secret. */
	BWF_COOKIE_PREV,       /*!< Made with the previous one (rollover:
	                            two hashes). */
	BWF_COOKIE_FORGED,     /*!< One octet of the hash changed: BAD
	                            after trying both secrets. */
};

struct bwf_cookie;

/*! 1,024 client cookies and addresses (seeded). */
struct bwf_cookie *bwf_cookie_new(void);
void bwf_cookie_free(struct bwf_cookie *c);

/*! Server cookie for client i % 1024, from its IPv4 or IPv6 address. */
uint8_t bwf_cookie_make(struct bwf_cookie *c, size_t i, bool v6);

/*! Checks the server cookie of client i % 1024 (IPv4): the state. */
int bwf_cookie_check(struct bwf_cookie *c, size_t i, enum bwf_cookie_case k);

/* ---- Operator filters (bw_filter_match). ---- */

struct bwf_filter;

/*!
 * \brief \a nrules Hyperscan rules (10: those of scripts/bench-mitigation.py;
 *        more: those and generated literals and expressions), names that
 *        miss (the names of \a b's queries) and names that hit (the same
 *        under a "ddosN" label).
 * \return NULL when the rules do not compile (a message on stderr).
 */
struct bwf_filter *bwf_filter_new(const struct bwb *b, unsigned nrules);
void bwf_filter_free(struct bwf_filter *f);
size_t bwf_filter_count(const struct bwf_filter *f);

/*! Scans hit or miss name i (< bwf_filter_count()): whether a rule hit. */
bool bwf_filter_match(struct bwf_filter *f, bool hit, size_t i);

/* ---- Flood sketches (bw_sketch_nxdomain, bw_sketch_query). ---- */

struct bwf_sketch;

/*! A sketch with 32 parents and sources counted (hits), and 4,096 of
 *  each ready to cycle through (misses: a replacement each time). */
struct bwf_sketch *bwf_sketch_new(void);
void bwf_sketch_free(struct bwf_sketch *s);
void bwf_sketch_nxdomain(struct bwf_sketch *s, bool hit, size_t i);
void bwf_sketch_query(struct bwf_sketch *s, bool hit, size_t i);

/* ---- The whole mitigation (bw_flood_answer). ---- */

enum bwf_policy {
	BWF_POL_OFF = 0,       /*!< pol NULL: bw_answer(). */
	BWF_POL_DETECT,        /*!< Cookies answered, sketches fed. */
	BWF_POL_RRL,           /*!< ... and rate-limit. */
	BWF_POL_FILTERS,       /*!< ... and 10 filters (that miss). */
};

struct bwf_flood;

/*! A worker and a policy, 10,000 IPv4 sources (seeded). */
struct bwf_flood *bwf_flood_new(const struct bwb *b, enum bwf_policy pol);
void bwf_flood_free(struct bwf_flood *f);

/*! Answers query i of \a kind from source i % 10000; coarse clocks read
 *  every 32 calls (a burst).  Returns the response length (0: dropped). */
size_t bwf_flood_answer(struct bwf_flood *f, enum bwb_kind kind, size_t i);

/*! Fraction of the calls so far that were answered (not dropped). */
double bwf_flood_answered(const struct bwf_flood *f);

#ifdef __cplusplus
}
#endif

#endif /* BULWARK_BENCH_SHIM_FASTPATH_H */
