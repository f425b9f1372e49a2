/*  Helpers shared by the table and answer-engine tests.
 */
#ifndef BULWARK_TESTS_UTIL_H
#define BULWARK_TESTS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/diag.h"

struct bw_table;

/*!
 * \brief Compiles zone text (written to a temporary file) into table
 *        bytes; diagnostics are counted quietly in \a d.
 * \return 0 or the compiler's error.
 */
int tu_compile(const char *text, const char *origin, struct bw_diag *d,
               uint8_t **table, size_t *len);

/*!
 * \brief Compiles zone text and loads it; fails the test on errors.
 */
struct bw_table *tu_load(const char *text, const char *origin);

/*!
 * \brief Like tu_load(), signed with a new ECDSAP256SHA256 CSK and NSEC
 *        (bulwark-compile -k with an empty key directory).
 */
struct bw_table *tu_load_signed(const char *text, const char *origin);

/*! Options of a query built by tu_query(). */
struct tu_q {
	uint16_t id, flags, qclass;
	bool edns;
	bool do_bit;
	uint16_t bufsize;
	uint8_t version;
	bool nsid;
};

/*!
 * \brief Builds a query for NAME (presentation form, case kept) and type.
 * \return Its length.
 */
size_t tu_query(uint8_t *buf, const char *name, uint16_t type,
                const struct tu_q *opt);

/*! A parsed response record. */
struct tu_rr {
	uint8_t owner[255];
	uint16_t type, cls;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[1024];   /*!< Names expanded for NS/CNAME/SOA/MX/PTR. */
	int section;           /*!< 0 answer, 1 authority, 2 additional. */
};

struct tu_resp {
	uint16_t id, flags, qd, an, ns, ar;
	uint8_t rcode;         /*!< With the extended bits from OPT. */
	size_t nrr;
	struct tu_rr rr[128];
	bool opt;
	uint16_t opt_size;
	bool opt_do;
	uint8_t qname[255];    /*!< Question name as sent (case kept). */
};

/*!
 * \brief Parses a response; fails the test when it is malformed.
 */
void tu_parse(const uint8_t *msg, size_t len, struct tu_resp *r);

/*!
 * \brief Wire form of a presentation name (absolute).
 */
void tu_name(uint8_t *out, const char *text);

/*! Index of the first record of \a type in \a section, or -1. */
int tu_find(const struct tu_resp *r, int section, uint16_t type);

#endif /* BULWARK_TESTS_UTIL_H */
