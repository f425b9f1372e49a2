/*  bulwark — bulwarkctl's commands: from the command line to a request,
 *  from a result to text (docs/bulwarkctl.md).
 *
 *  Pure functions (no I/O), so that every command's argument errors, its
 *  exact request and the rendering of results can be unit-tested;
 *  bulwarkctl.c does the socket, the files and the printing.
 */
#ifndef BULWARK_CP_CTL_CMD_H
#define BULWARK_CP_CTL_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

/*! A request built from the command line. */
struct bw_ctl_cmd_req {
	const char *command;   /*!< Protocol command name (static text). */
	struct bw_json *args;  /*!< Arguments object (owned); NULL: none. */
	const char *raw;       /*!< Member of the result to print as-is
	                            (stats --prometheus), or NULL. */
	bool local;            /*!< Answered by bulwarkctl itself (help). */
	const char *topic;     /*!< help: the command asked about, or NULL. */
};

/*!
 * \brief Checks the syntax of a zone name in presentation format.
 *
 * Escapes \DDD (000-255) and \X are accepted; labels are at most 63
 * octets, the name at most 255 octets in wire form; a missing final dot
 * is allowed (the name is taken as absolute).
 * \param err  Set to the reason on failure ("empty label", ...).
 * \return 0 or BW_ESYNTAX.
 */
int bw_ctl_cmd_check_zone(const char *name, char *err, size_t errlen);

/*!
 * \brief Makes \a path absolute against \a cwd.
 *
 * "." components and repeated slashes are dropped; ".." is kept, except
 * that it climbs out of \a cwd, which must therefore be a physical path
 * (as getcwd() gives).  Symbolic links are never resolved.
 * \param cwd  Absolute directory; may be NULL when \a path is absolute.
 * \return Text to free(), or NULL when out of memory, \a path is empty,
 *         or \a path is relative and \a cwd is NULL or not absolute.
 */
char *bw_ctl_cmd_abspath(const char *cwd, const char *path);

/*!
 * \brief Turns the command line after the global options into a request.
 *
 * \a argv[0] is the command; the rest are its arguments and options
 * ("--" ends the options).  "-h" or "--help" after a command asks for its
 * help.
 * \param cwd  Current directory (physical), for relative TABLE paths;
 *             NULL when unknown.
 * \param req  Filled on success; release with bw_ctl_cmd_req_clear().
 * \param err  Set on failure to a message for the user, starting with the
 *             command ("zone-load: expected NAME TABLE").
 * \return 0, BW_EINVAL (a usage error) or BW_ENOMEM.
 */
int bw_ctl_cmd_build(int argc, char *const *argv, const char *cwd,
                     struct bw_ctl_cmd_req *req, char *err, size_t errlen);

/*! \brief Frees what bw_ctl_cmd_build() allocated (idempotent). */
void bw_ctl_cmd_req_clear(struct bw_ctl_cmd_req *req);

/*!
 * \brief The request line (with its newline) of \a req.
 * \return Text to free(), or NULL when out of memory.
 */
char *bw_ctl_cmd_encode(const struct bw_ctl_cmd_req *req, size_t *len);

/*!
 * \brief Help text: the list of commands (\a topic NULL), or the usage of
 *        one command.
 * \return Text to free(), or NULL when out of memory or \a topic is not a
 *         command.
 */
char *bw_ctl_cmd_help(const char *topic);

/*!
 * \brief Renders a result object as human-readable text.
 *
 * Generic, so that new result members need no change here: scalars as
 * aligned "key:  value" lines, arrays of scalars comma-joined, arrays of
 * objects as tables (nested objects as "a.b" columns, numbers
 * right-aligned), nested objects as indented blocks titled by their key.
 * A result whose only member is a table or block is printed untitled.
 * null and empty arrays print as "-"; control characters are escaped.
 * \return Text to free() (empty for an empty object), or NULL when out of
 *         memory.
 */
char *bw_ctl_cmd_render(const struct bw_json *result);

/*!
 * \brief Finds the control socket in a configuration file's text.
 *
 * A minimal scan of named.conf syntax (comments, quoted strings, blocks):
 * `control-socket` inside the top-level `options`, resolved as bulwarkd
 * does (relative to `directory`, itself relative to the file's
 * directory).  `include` is not followed.
 * \param conf  The file's path, for relative paths and messages.
 * \param path  Set to the socket path (to free()) on success.
 * \param err   Set to "CONF:LINE: reason" on BW_ESYNTAX.
 * \return 0, BW_ENOENT (no control-socket), BW_ESYNTAX or BW_ENOMEM.
 */
int bw_ctl_cmd_conf_socket(const char *text, size_t len, const char *conf,
                           char **path, char *err, size_t errlen);

#endif /* BULWARK_CP_CTL_CMD_H */
