/*  bulwark — the control protocol's messages (docs/control-protocol.md).
 *
 *  Requests and replies are JSON objects on one line; this file checks
 *  their shape on the way in and builds them on the way out.  What a
 *  command does with its arguments is ctl_cmd.c's business.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/err.h"
#include "ctl_proto.h"

/* Top-level members of a request. */
static const char *const request_members[] = {
	"version", "command", "args", "id", NULL,
};

/* Writes the reason into \a err; returns BW_EINVAL. */
static int reject(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reject(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return BW_EINVAL;
}

/* The value of \a key when it has \a type, else NULL. */
static const struct bw_json *get_typed(const struct bw_json *obj,
                                       const char *key, enum bw_json_type type)
{
	const struct bw_json *v = bw_json_get(obj, key);

	return v != NULL && v->type == type ? v : NULL;
}

static bool in_list(const char *const *list, const char *name)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

/* The first key of \a obj in neither list, or NULL. */
static const char *first_unknown(const struct bw_json *obj,
                                 const char *const *a, const char *const *b)
{
	if (obj == NULL || obj->type != BW_JSON_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!in_list(a, obj->keys[i]) && !in_list(b, obj->keys[i]))
			return obj->keys[i];
	return NULL;
}

static bool version_ok(const struct bw_json *msg)
{
	uint64_t version;

	return bw_json_get_u64(msg, "version", &version) == 0 &&
	       version == BW_CTL_VERSION;
}

/* ---- Requests. ---- */

/* Object, version, known members: what every request must be. */
static int check_envelope(const struct bw_json *t, const char **code,
                          char *err, size_t errlen)
{
	const char *unknown;

	if (t->type != BW_JSON_OBJ)
		return reject(err, errlen, "the request is not a JSON object");
	if (!version_ok(t)) {
		*code = BW_CTL_EVERSION;
		return reject(err, errlen, "this daemon speaks version %d",
		              BW_CTL_VERSION);
	}
	unknown = first_unknown(t, request_members, NULL);
	if (unknown != NULL)
		return reject(err, errlen, "unknown member '%s'", unknown);
	return 0;
}

/* Fills \a req from its tree. */
static int check_request(struct bw_ctl_request *req, const char **code,
                         char *err, size_t errlen)
{
	struct bw_json *t = req->tree;
	int rc = check_envelope(t, code, err, errlen);

	if (rc != 0)
		return rc;
	req->command = bw_json_get_str(t, "command");
	if (req->command == NULL)
		return reject(err, errlen, "'command' must be a string");
	*code = BW_CTL_EARG;
	if (bw_json_get(t, "args") == NULL)
		bw_json_set(t, "args", bw_json_obj());
	req->args = get_typed(t, "args", BW_JSON_OBJ);
	if (t->failed) {
		*code = BW_CTL_EINTERNAL;
		reject(err, errlen, "out of memory");
		return BW_ENOMEM;
	}
	if (req->args == NULL)
		return reject(err, errlen, "'args' must be an object");
	req->id = bw_json_get(t, "id");
	return 0;
}

int bw_ctl_decode_request(const char *line, size_t len,
                          struct bw_ctl_request *req, const char **code,
                          char *err, size_t errlen)
{
	int rc;

	memset(req, 0, sizeof(*req));
	*code = BW_CTL_EBADREQ;
	rc = bw_json_parse(line, len, &req->tree, err, errlen);
	if (rc == BW_ENOMEM)
		*code = BW_CTL_EINTERNAL;
	else if (rc != 0)
		rc = BW_EINVAL;
	else
		rc = check_request(req, code, err, errlen);
	if (rc != 0)
		bw_ctl_request_clear(req);
	return rc;
}

void bw_ctl_request_clear(struct bw_ctl_request *req)
{
	bw_json_free(req->tree);
	memset(req, 0, sizeof(*req));
}

int bw_ctl_check_args(const struct bw_json *args, const char *const *required,
                      const char *const *allowed, char *err, size_t errlen)
{
	const char *unknown = first_unknown(args, allowed, required);

	if (unknown != NULL)
		return reject(err, errlen, "unknown argument '%s'", unknown);
	for (; required != NULL && *required != NULL; required++)
		if (bw_json_get(args, *required) == NULL)
			return reject(err, errlen, "missing argument '%s'",
			              *required);
	return 0;
}

/* ---- Encoding. ---- */

/* Compact text of \a msg (freed) and a newline. */
static char *encode_line(struct bw_json *msg, size_t *len)
{
	size_t n;
	char *text = bw_json_dump(msg, 0, &n), *line;

	bw_json_free(msg);
	if (text == NULL)
		return NULL;
	line = realloc(text, n + 2);
	if (line == NULL) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	if (len != NULL)
		*len = n + 1;
	return line;
}

char *bw_ctl_encode_request(const char *command, struct bw_json *args,
                            size_t *len)
{
	struct bw_json *r = bw_json_obj();

	bw_json_set_u64(r, "version", BW_CTL_VERSION);
	bw_json_set_str(r, "command", command);
	if (args != NULL)
		bw_json_set(r, "args", args);
	return encode_line(r, len);
}

/* The members a reply starts with: version, id, ok. */
static struct bw_json *reply_new(const struct bw_json *id, bool ok)
{
	struct bw_json *r = bw_json_obj();

	bw_json_set_u64(r, "version", BW_CTL_VERSION);
	if (id != NULL)
		bw_json_set(r, "id", bw_json_copy(id));
	bw_json_set_bool(r, "ok", ok);
	return r;
}

char *bw_ctl_encode_ok(const struct bw_json *id, struct bw_json *result,
                       size_t *len)
{
	struct bw_json *r = reply_new(id, true);

	bw_json_set(r, "result", result != NULL ? result : bw_json_obj());
	return encode_line(r, len);
}

char *bw_ctl_encode_error(const struct bw_json *id, const char *code,
                          const char *message, size_t *len)
{
	struct bw_json *r = reply_new(id, false), *e = bw_json_obj();

	bw_json_set_str(e, "code", code);
	bw_json_set_str(e, "message", message);
	bw_json_set(r, "error", e);
	return encode_line(r, len);
}

/* ---- Replies. ---- */

static int check_reply(struct bw_ctl_reply *rep, char *err, size_t errlen)
{
	const struct bw_json *t = rep->tree, *ok, *e;

	if (t->type != BW_JSON_OBJ)
		return reject(err, errlen, "the reply is not a JSON object");
	if (!version_ok(t))
		return reject(err, errlen, "the reply is not of version %d",
		              BW_CTL_VERSION);
	ok = get_typed(t, "ok", BW_JSON_BOOL);
	if (ok == NULL)
		return reject(err, errlen, "'ok' must be true or false");
	rep->ok = ok->b;
	rep->id = bw_json_get(t, "id");
	rep->result = get_typed(t, "result", BW_JSON_OBJ);
	if (rep->ok)
		return rep->result != NULL ? 0 :
		       reject(err, errlen, "'result' must be an object");
	e = get_typed(t, "error", BW_JSON_OBJ);
	rep->code = bw_json_get_str(e, "code");
	rep->message = bw_json_get_str(e, "message");
	if (rep->code == NULL || rep->message == NULL)
		return reject(err, errlen, "'error' must be an object with "
		              "string members 'code' and 'message'");
	return 0;
}

int bw_ctl_decode_reply(const char *line, size_t len, struct bw_ctl_reply *rep,
                        char *err, size_t errlen)
{
	int rc;

	memset(rep, 0, sizeof(*rep));
	rc = bw_json_parse(line, len, &rep->tree, err, errlen);
	if (rc != 0 && rc != BW_ENOMEM)
		rc = BW_EINVAL;
	if (rc == 0)
		rc = check_reply(rep, err, errlen);
	if (rc != 0)
		bw_ctl_reply_clear(rep);
	return rc;
}

void bw_ctl_reply_clear(struct bw_ctl_reply *rep)
{
	bw_json_free(rep->tree);
	memset(rep, 0, sizeof(*rep));
}

void bw_ctl_error_set(struct bw_ctl_error *e, const char *code,
                      const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}
