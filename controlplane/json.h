/*  bulwark — a small JSON tree for the control protocol.
 *
 *  Requests and responses on the control socket are JSON documents
 *  (docs/control-protocol.md).  Numbers keep their text, so that 64-bit
 *  counters pass through unchanged.  Building never fails halfway: an
 *  allocation that fails marks the container, and bw_json_dump() then
 *  returns NULL.
 */
#ifndef BULWARK_CP_JSON_H
#define BULWARK_CP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*! Nesting limit of the parser. */
#define BW_JSON_DEPTH_MAX 32

enum bw_json_type {
	BW_JSON_NULL = 0,
	BW_JSON_BOOL,
	BW_JSON_NUM,
	BW_JSON_STR,
	BW_JSON_ARR,
	BW_JSON_OBJ,
};

struct bw_json {
	enum bw_json_type type;
	bool b;                  /*!< BOOL. */
	bool failed;             /*!< ARR/OBJ: an item was lost (no memory). */
	char *str;               /*!< STR: text (UTF-8, no NUL inside);
	                              NUM: the number as written. */
	size_t len;              /*!< STR/NUM: length of str. */
	struct bw_json **items;  /*!< ARR: items; OBJ: values. */
	char **keys;             /*!< OBJ: keys, parallel to items. */
	size_t n;
	size_t cap;
};

/*!
 * \brief Parses one JSON document (RFC 8259); whitespace around it is
 *        allowed, anything else after it is an error.
 *
 * Strings with \u0000 or invalid UTF-8, duplicate keys and nesting
 * beyond BW_JSON_DEPTH_MAX are rejected.
 * \param err  Set to "offset N: reason" on failure.
 * \return 0, BW_ESYNTAX, BW_EDEPTH or BW_ENOMEM.
 */
int bw_json_parse(const char *text, size_t len, struct bw_json **out,
                  char *err, size_t errlen);

/*! \brief Frees a tree (NULL is accepted). */
void bw_json_free(struct bw_json *v);

/* Constructors; NULL when out of memory. */
struct bw_json *bw_json_obj(void);
struct bw_json *bw_json_arr(void);
struct bw_json *bw_json_null(void);
struct bw_json *bw_json_bool(bool b);
struct bw_json *bw_json_str(const char *s);
struct bw_json *bw_json_strn(const char *s, size_t len);
struct bw_json *bw_json_u64(uint64_t u);
struct bw_json *bw_json_i64(int64_t i);
/*! A number with \a decimals digits after the point (e.g. seconds);
 *  printed with "%.*f".  NaN and infinities give null. */
struct bw_json *bw_json_f64(double d, unsigned decimals);
/*! \brief A deep copy of \a v (failed marks included); NULL when \a v is
 *         NULL or out of memory. */
struct bw_json *bw_json_copy(const struct bw_json *v);

/*!
 * \brief Adds \a val under \a key to \a obj (takes \a val; replaces an
 *        existing key).  A NULL \a val or a failed allocation marks
 *        \a obj failed.
 */
void bw_json_set(struct bw_json *obj, const char *key, struct bw_json *val);
/*! \brief Appends \a val to \a arr (takes it); failures mark \a arr. */
void bw_json_push(struct bw_json *arr, struct bw_json *val);

/* Shorthands for bw_json_set(obj, key, bw_json_TYPE(v)). */
void bw_json_set_str(struct bw_json *obj, const char *key, const char *s);
void bw_json_set_u64(struct bw_json *obj, const char *key, uint64_t u);
void bw_json_set_i64(struct bw_json *obj, const char *key, int64_t i);
void bw_json_set_bool(struct bw_json *obj, const char *key, bool b);
/*! A time as an RFC 3339 UTC string ("2026-12-02T13:05:00Z"). */
void bw_json_set_time(struct bw_json *obj, const char *key, time_t t);
/*! \brief Sets an RFC 3339 UTC time with milliseconds from milliseconds
 *         since the epoch ("2026-12-02T15:00:00.123Z"). */
void bw_json_set_time_ms(struct bw_json *obj, const char *key, uint64_t ms);

/*! \brief The value of \a key in \a obj, or NULL (also when \a obj is not
 *         an object). */
const struct bw_json *bw_json_get(const struct bw_json *obj, const char *key);
/*! \brief The string under \a key, or NULL when absent or not a string. */
const char *bw_json_get_str(const struct bw_json *obj, const char *key);
/*!
 * \brief Reads a non-negative integer.
 * \return 0, BW_ENOENT (absent) or BW_EINVAL (not an integer in range).
 */
int bw_json_get_u64(const struct bw_json *obj, const char *key, uint64_t *out);
/*! \brief Like bw_json_get_u64() for a value that is not under a key. */
int bw_json_as_u64(const struct bw_json *v, uint64_t *out);

#define BW_JSON_PRETTY 0x1u  /*!< Indent by two spaces, one member a line. */

/*!
 * \brief Writes \a v as JSON text (NUL-terminated, no trailing newline).
 *
 * Control characters, '"', '\\' and every octet above 0x7f that is not
 * part of valid UTF-8 are escaped (\u00XX), so the output is always
 * valid JSON.
 * \param len  Set to the length; may be NULL.
 * \return Text to free(), or NULL when out of memory or when a container
 *         in \a v is marked failed.
 */
char *bw_json_dump(const struct bw_json *v, unsigned flags, size_t *len);

#endif /* BULWARK_CP_JSON_H */
