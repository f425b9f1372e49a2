/*  bulwark — error code messages.
 */
#include "bulwark/err.h"

#include <stddef.h>

struct err_msg {
	int code;
	const char *msg;
};

static const struct err_msg err_msgs[] = {
	{ BW_OK, "success" },
	{ BW_ENOMEM, "out of memory" },
	{ BW_EINVAL, "invalid argument" },
	{ BW_ERANGE, "value out of range" },
	{ BW_ENOENT, "no such file or entry" },
	{ BW_EIO, "input/output error" },
	{ BW_ENOSPC, "not enough space" },
	{ BW_EEXIST, "already exists" },
	{ BW_EACCES, "permission denied" },
	{ BW_EAGAIN, "try again" },
	{ BW_ERR_BASE, "unknown error" },
	{ BW_EMALF, "malformed wire data" },
	{ BW_ESYNTAX, "syntax error" },
	{ BW_ELABEL, "label longer than 63 octets" },
	{ BW_ENAMELEN, "name longer than 255 octets" },
	{ BW_ETTL, "bad TTL" },
	{ BW_ETYPE, "unknown or unsupported RR type" },
	{ BW_ECLASS, "unknown or unsupported class" },
	{ BW_ELOOP, "compression pointer loop or forward pointer" },
	{ BW_ETRUNC, "data ends early" },
	{ BW_EZONE, "zone content is not acceptable" },
	{ BW_ETABLE, "invalid table file" },
	{ BW_ECHECKSUM, "table checksum mismatch" },
	{ BW_EVERSION, "unsupported table format version" },
	{ BW_ECONF, "bad configuration" },
	{ BW_EDEPTH, "nesting too deep" },
};

const char *bw_strerror(int err)
{
	for (size_t i = 0; i < sizeof(err_msgs) / sizeof(err_msgs[0]); i++) {
		if (err_msgs[i].code == err)
			return err_msgs[i].msg;
	}
	return "unknown error";
}
