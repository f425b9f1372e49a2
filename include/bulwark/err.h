/*  bulwark — error codes shared by every part.
 *
 *  0 is success; failures are negative errno-style codes, as in Knot DNS.
 */
#ifndef BULWARK_ERR_H
#define BULWARK_ERR_H

#include <errno.h>

enum bw_err {
	BW_OK = 0,
	BW_ENOMEM = -ENOMEM,
	BW_EINVAL = -EINVAL,
	BW_ERANGE = -ERANGE,
	BW_ENOENT = -ENOENT,
	BW_EIO = -EIO,
	BW_ENOSPC = -ENOSPC,
	BW_EEXIST = -EEXIST,
	BW_EACCES = -EACCES,
	BW_EAGAIN = -EAGAIN,

	BW_ERR_BASE = -1000,
	BW_EMALF = -1001,      /*!< Malformed wire data. */
	BW_ESYNTAX = -1002,    /*!< Malformed presentation (text) data. */
	BW_ELABEL = -1003,     /*!< Label longer than 63 octets. */
	BW_ENAMELEN = -1004,   /*!< Name longer than 255 octets. */
	BW_ETTL = -1005,       /*!< Bad TTL value. */
	BW_ETYPE = -1006,      /*!< Unknown or unsupported RR type. */
	BW_ECLASS = -1007,     /*!< Unknown or unsupported class. */
	BW_ELOOP = -1008,      /*!< Compression pointer loop or forward pointer. */
	BW_ETRUNC = -1009,     /*!< Data ends early. */
	BW_EZONE = -1010,      /*!< Zone content is not acceptable. */
	BW_ETABLE = -1011,     /*!< Table file is invalid. */
	BW_ECHECKSUM = -1012,  /*!< Table checksum mismatch. */
	BW_EVERSION = -1013,   /*!< Unsupported table format version. */
	BW_ECONF = -1014,      /*!< Bad configuration. */
	BW_EDEPTH = -1015,     /*!< Nesting too deep ($INCLUDE, include). */
};

/*!
 * \brief Returns a static message for an error code.
 */
const char *bw_strerror(int err);

#endif /* BULWARK_ERR_H */
