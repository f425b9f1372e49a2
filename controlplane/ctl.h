/*  bulwark — the control socket's server (docs/control-protocol.md).
 *
 *  One event-loop thread serves every client (non-blocking sockets,
 *  epoll); quick commands run on it, slow ones (zone-load, reload) on one
 *  command thread, one at a time, while the loop serves the others.  A
 *  client that idles, stalls mid-request, sends too much or stops reading
 *  is disconnected; none can block the loop or the daemon.
 */
#ifndef BULWARK_CP_CTL_H
#define BULWARK_CP_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_proto.h"
#include "json.h"

/*! Clients connected at once; more wait in the listen backlog. */
#define BW_CTL_CLIENTS_MAX 64
/*! Replies waiting for a client that does not read: beyond, it is dropped. */
#define BW_CTL_OUT_MAX (16u << 20)
/*! A client idle or mid-request this long is disconnected. */
#define BW_CTL_IDLE_MS 10000u

/*!
 * \brief A command's implementation.
 * \param ctx     bw_ctl_conf.ctx.
 * \param args    The request's arguments (an object, already checked
 *                against the command's required and allowed lists).
 * \param result  Set to the result object on success (NULL: empty).
 * \param e       Filled on failure.
 * \return 0 or a negative error.
 */
typedef int (*bw_ctl_fn)(void *ctx, const struct bw_json *args,
                         struct bw_json **result, struct bw_ctl_error *e);

struct bw_ctl_command {
	const char *name;
	const char *const *required;  /*!< NULL-terminated, or NULL. */
	const char *const *allowed;   /*!< Optional members, or NULL. */
	bool slow;                    /*!< Runs on the command thread. */
	bw_ctl_fn fn;
};

struct bw_ctl_conf {
	const char *path;                   /*!< Socket path. */
	const struct bw_ctl_command *cmds;  /*!< Must outlive the server. */
	size_t ncmds;
	void *ctx;
	unsigned idle_ms;                   /*!< 0: BW_CTL_IDLE_MS. */
};

struct bw_ctl;

/*!
 * \brief Creates the socket (mode 0660; a stale one is replaced, a live
 *        one is an error) and starts the loop and command threads.
 * \return 0 or a negative error with the reason in \a err.
 */
int bw_ctl_start(const struct bw_ctl_conf *conf, struct bw_ctl **out,
                 char *err, size_t errlen);

/*!
 * \brief Waits for a running command, sends the replies that wait (for at
 *        most a second), closes every client, removes the socket and
 *        frees \a c (NULL is accepted).
 */
void bw_ctl_stop(struct bw_ctl *c);

#endif /* BULWARK_CP_CTL_H */
