/*  bulwark — the control protocol's messages (docs/control-protocol.md).
 *
 *  A request is one JSON object on one line:
 *      {"version": 1, "command": "zone-load",
 *       "args": {"zone": "example.com", "table": "/var/lib/bulwark/x.bwz"}}
 *  and the daemon answers each with one JSON object on one line:
 *      {"version": 1, "ok": true, "result": {...}}
 *      {"version": 1, "ok": false, "error": {"code": "unknown-zone",
 *                                            "message": "..."}}
 *  Shared by bulwarkd (decode requests, encode replies) and bulwarkctl
 *  (encode requests, decode replies).
 */
#ifndef BULWARK_CP_CTL_PROTO_H
#define BULWARK_CP_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

/*! The protocol version this build speaks. */
#define BW_CTL_VERSION 1
/*! Largest request line, newline included. */
#define BW_CTL_REQUEST_MAX (64u << 10)
/*! Largest reply line that bulwarkctl accepts. */
#define BW_CTL_REPLY_MAX (256u << 20)
/*! Default socket path when neither -s nor the config names one. */
#define BW_CTL_DEFAULT_SOCKET "/run/bulwark/ctl.sock"

/* Error codes of a reply ("error": {"code": ...}). */
#define BW_CTL_EBADREQ    "bad-request"      /*!< Not a valid request. */
#define BW_CTL_EVERSION   "unsupported-version"
#define BW_CTL_ECOMMAND   "unknown-command"
#define BW_CTL_EARG       "bad-argument"     /*!< Missing/extra/wrong args. */
#define BW_CTL_ENOZONE    "unknown-zone"
#define BW_CTL_ETABLE     "invalid-table"    /*!< The loader's reason. */
#define BW_CTL_EMISMATCH  "zone-mismatch"    /*!< Table holds another zone. */
#define BW_CTL_ECONF      "config-error"     /*!< reload: config errors. */
#define BW_CTL_ERESTART   "restart-needed"   /*!< reload: refused change. */
#define BW_CTL_ETOOBIG    "request-too-large"
#define BW_CTL_ETIMEOUT   "timeout"
#define BW_CTL_EINTERNAL  "internal-error"   /*!< Out of memory, I/O. */

/*! Why a command failed, for its error reply. */
struct bw_ctl_error {
	const char *code;   /*!< A BW_CTL_E* code. */
	char msg[512];
};

/*! \brief Sets \a e's code and formats its message. */
void bw_ctl_error_set(struct bw_ctl_error *e, const char *code,
                      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*! A decoded request; points into the tree it came from. */
struct bw_ctl_request {
	const char *command;
	const struct bw_json *args;  /*!< An object (empty when absent). */
	const struct bw_json *id;    /*!< Any value, NULL when absent; pass it
	                                  to the reply's encoder. */
	struct bw_json *tree;        /*!< Owns the above. */
};

/*!
 * \brief Decodes one request line (without its newline).
 *
 * Members: "version" (the integer 1), "command" (a string), "args" (an
 * object, optional), "id" (any value, optional); any other is an error.
 * \param code  Set to the reply's error code on failure (BW_CTL_EBADREQ,
 *              BW_CTL_EVERSION, BW_CTL_EARG; BW_CTL_EINTERNAL with
 *              BW_ENOMEM).
 * \param err   Set to the reason on failure.
 * \return 0, BW_EINVAL or BW_ENOMEM.
 */
int bw_ctl_decode_request(const char *line, size_t len,
                          struct bw_ctl_request *req, const char **code,
                          char *err, size_t errlen);

/*! \brief Frees what bw_ctl_decode_request() allocated. */
void bw_ctl_request_clear(struct bw_ctl_request *req);

/*!
 * \brief Checks that \a args has only the members named in \a allowed
 *        or \a required and has every member named in \a required.
 *
 * Both lists are NULL-terminated; NULL stands for an empty list.
 * \return 0 or BW_EINVAL with the reason in \a err ("unknown argument
 *         'x'", "missing argument 'x'").
 */
int bw_ctl_check_args(const struct bw_json *args, const char *const *required,
                      const char *const *allowed, char *err, size_t errlen);

/*!
 * \brief Builds a request line (with its newline) for \a command.
 * \param args  Taken (may be NULL: no arguments).
 * \return Text to free(), or NULL when out of memory.
 */
char *bw_ctl_encode_request(const char *command, struct bw_json *args,
                            size_t *len);

/*!
 * \brief Builds a success reply line (with its newline).
 * \param id      The request's "id" (copied; NULL: none).
 * \param result  Taken (NULL: an empty object).
 * \return Text to free(), or NULL when out of memory.
 */
char *bw_ctl_encode_ok(const struct bw_json *id, struct bw_json *result,
                       size_t *len);

/*!
 * \brief Builds an error reply line (with its newline).
 * \param id  The request's "id" (copied; NULL: none).
 * \return Text to free(), or NULL when out of memory.
 */
char *bw_ctl_encode_error(const struct bw_json *id, const char *code,
                          const char *message, size_t *len);

/*! A decoded reply; points into the tree it came from. */
struct bw_ctl_reply {
	bool ok;
	const struct bw_json *result;  /*!< ok: the result object. */
	const char *code;              /*!< !ok: error code. */
	const char *message;           /*!< !ok: error message. */
	const struct bw_json *id;      /*!< The echoed "id", NULL when absent. */
	struct bw_json *tree;
};

/*!
 * \brief Decodes one reply line (without its newline).
 *
 * Members other than version, id, ok, result and error are ignored.
 * \return 0, BW_EINVAL with the reason in \a err, or BW_ENOMEM.
 */
int bw_ctl_decode_reply(const char *line, size_t len, struct bw_ctl_reply *rep,
                        char *err, size_t errlen);

void bw_ctl_reply_clear(struct bw_ctl_reply *rep);

#endif /* BULWARK_CP_CTL_PROTO_H */
