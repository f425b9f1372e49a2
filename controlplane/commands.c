/*  bulwark — the control commands of bulwarkd (docs/control-protocol.md).
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "daemon.h"

#ifndef BW_VERSION
#define BW_VERSION "unknown"
#endif

/* Listen addresses as "ADDR port N"; port addresses as "ADDR[/PREFIX]". */
static struct bw_json *addr_list(const struct bw_conf_addr *a, size_t n,
                                 bool port_addr)
{
	struct bw_json *arr = bw_json_arr();
	char text[INET6_ADDRSTRLEN + 32];

	for (size_t i = 0; i < n; i++) {
		bw_conf_addr_text(&a[i].ss, text, sizeof(text));
		char *sp = port_addr ? strstr(text, " port") : NULL;
		if (sp != NULL && a[i].prefix > 0)
			snprintf(sp, sizeof(text) - (size_t)(sp - text), "/%u", a[i].prefix);
		else if (sp != NULL)
			*sp = '\0';
		bw_json_push(arr, bw_json_str(text));
	}
	return arr;
}

static int cmd_status(void *ctx, const struct bw_json *args,
                      struct bw_json **result, struct bw_ctl_error *e)
{
	struct bw_daemon *dm = ctx;
	const struct bw_conf *c = dm->conf_start;
	struct bw_json *o = bw_json_obj(), *ports = bw_json_arr();

	(void)args;
	(void)e;
	bw_json_set_str(o, "version", BW_VERSION);
	bw_json_set_u64(o, "pid", (uint64_t)getpid());
	bw_json_set_time(o, "started", dm->started);
	bw_json_set(o, "uptime", bw_json_f64(bw_daemon_uptime(dm), 3));
	bw_json_set_str(o, "config", dm->conf_path);
	bw_json_set_str(o, "io", c->io == BW_CONF_IO_DPDK ? "dpdk" : "socket");
	bw_json_set_u64(o, "workers", c->workers);
	bw_json_set_u64(o, "zones", bw_reg_count(dm->reg));
	bw_json_set_u64(o, "publications", bw_reg_publications(dm->reg));
	bw_json_set(o, "listen", addr_list(c->listen, c->nlisten, false));
	for (size_t i = 0; c->io == BW_CONF_IO_DPDK && i < c->nports; i++) {
		struct bw_json *p = bw_json_obj();

		bw_json_set_str(p, "port", c->ports[i].name);
		bw_json_set(p, "addresses", addr_list(c->ports[i].addrs,
		                                      c->ports[i].naddrs, true));
		bw_json_push(ports, p);
	}
	bw_json_set(o, "ports", ports);
	*result = o;
	return 0;
}

static int cmd_zone_list(void *ctx, const struct bw_json *args,
                         struct bw_json **result, struct bw_ctl_error *e)
{
	struct bw_daemon *dm = ctx;

	(void)args;
	(void)e;
	*result = bw_reg_list(dm->reg);
	return 0;
}

/* The string argument \a key (already known to be present). */
static int str_arg(const struct bw_json *args, const char *key,
                   const char **out, struct bw_ctl_error *e)
{
	*out = bw_json_get_str(args, key);
	if (*out != NULL && (*out)[0] != '\0')
		return 0;
	e->code = BW_CTL_EARG;
	snprintf(e->msg, sizeof(e->msg), "'%s' must be a non-empty string", key);
	return BW_EINVAL;
}

static int cmd_zone_status(void *ctx, const struct bw_json *args,
                           struct bw_json **result, struct bw_ctl_error *e)
{
	struct bw_daemon *dm = ctx;
	const char *zone;

	if (str_arg(args, "zone", &zone, e) != 0)
		return BW_EINVAL;
	return bw_reg_status(dm->reg, zone, result, e);
}

static int cmd_zone_load(void *ctx, const struct bw_json *args,
                         struct bw_json **result, struct bw_ctl_error *e)
{
	struct bw_daemon *dm = ctx;
	const char *zone, *table;

	if (str_arg(args, "zone", &zone, e) != 0 ||
	    str_arg(args, "table", &table, e) != 0)
		return BW_EINVAL;
	return bw_reg_load(dm->reg, zone, table, result, e);
}

static int cmd_zone_unload(void *ctx, const struct bw_json *args,
                           struct bw_json **result, struct bw_ctl_error *e)
{
	struct bw_daemon *dm = ctx;
	const char *zone;

	if (str_arg(args, "zone", &zone, e) != 0)
		return BW_EINVAL;
	return bw_reg_unload(dm->reg, zone, result, e);
}

static int cmd_stats(void *ctx, const struct bw_json *args,
                     struct bw_json **result, struct bw_ctl_error *e)
{
	struct bw_daemon *dm = ctx;
	const struct bw_json *reset = bw_json_get(args, "reset");
	const char *format = bw_json_get_str(args, "format");
	struct bw_json *st;

	if ((reset != NULL && reset->type != BW_JSON_BOOL) ||
	    (bw_json_get(args, "format") != NULL && format == NULL) ||
	    (format != NULL && strcmp(format, "json") != 0 &&
	     strcmp(format, "prometheus") != 0)) {
		e->code = BW_CTL_EARG;
		snprintf(e->msg, sizeof(e->msg), "stats: 'reset' is a boolean, "
		         "'format' is \"json\" or \"prometheus\"");
		return BW_EINVAL;
	}
	st = bw_metrics_stats(dm);
	if (format != NULL && strcmp(format, "prometheus") == 0) {
		char *text = bw_metrics_prometheus(st);

		bw_json_free(st);
		st = bw_json_obj();
		bw_json_set(st, "prometheus", text != NULL ? bw_json_str(text) : NULL);
		free(text);
	}
	if (reset != NULL && reset->b)
		bw_metrics_reset(dm);
	*result = st;
	return 0;
}

static int cmd_reload(void *ctx, const struct bw_json *args,
                      struct bw_json **result, struct bw_ctl_error *e)
{
	(void)args;
	return bw_daemon_reload(ctx, result, e);
}

static int cmd_stop(void *ctx, const struct bw_json *args,
                    struct bw_json **result, struct bw_ctl_error *e)
{
	(void)ctx;
	(void)args;
	(void)e;
	*result = bw_json_obj();
	bw_json_set_bool(*result, "stopping", true);
	/* The main thread takes SIGTERM; bw_ctl_stop() sends this reply
	 * before it closes the clients. */
	kill(getpid(), SIGTERM);
	return 0;
}

static int cmd_flood_status(void *ctx, const struct bw_json *args,
                            struct bw_json **result, struct bw_ctl_error *e)
{
	struct bw_daemon *dm = ctx;

	(void)args;
	(void)e;
	*result = bw_floodctl_status(dm->flood);
	return 0;
}

static int cmd_filter_add(void *ctx, const struct bw_json *args,
                          struct bw_json **result, struct bw_ctl_error *e)
{
	return bw_floodctl_filter_add(((struct bw_daemon *)ctx)->flood, args,
	                              result, e);
}

static int cmd_filter_del(void *ctx, const struct bw_json *args,
                          struct bw_json **result, struct bw_ctl_error *e)
{
	return bw_floodctl_filter_del(((struct bw_daemon *)ctx)->flood, args,
	                              result, e);
}

static int cmd_filter_list(void *ctx, const struct bw_json *args,
                           struct bw_json **result, struct bw_ctl_error *e)
{
	(void)args;
	(void)e;
	*result = bw_floodctl_filter_list(((struct bw_daemon *)ctx)->flood);
	return 0;
}

static int cmd_cookie_secret(void *ctx, const struct bw_json *args,
                             struct bw_json **result, struct bw_ctl_error *e)
{
	return bw_floodctl_cookie_secret(((struct bw_daemon *)ctx)->flood, args,
	                                 result, e);
}

static const char *const zone_arg[] = { "zone", NULL };
static const char *const filter_add_req[] = { "pattern", "action", NULL };
static const char *const filter_add_opt[] = { "zone", "literal", NULL };
static const char *const id_arg[] = { "id", NULL };
static const char *const cookie_opt[] = { "secret", "drop-previous", NULL };
static const char *const load_args[] = { "zone", "table", NULL };
static const char *const stats_args[] = { "reset", "format", NULL };

const struct bw_ctl_command bw_daemon_commands[] = {
	{ "status", NULL, NULL, false, cmd_status },
	{ "zone-list", NULL, NULL, false, cmd_zone_list },
	{ "zone-status", zone_arg, NULL, false, cmd_zone_status },
	{ "zone-load", load_args, NULL, true, cmd_zone_load },
	{ "zone-unload", zone_arg, NULL, true, cmd_zone_unload },
	{ "stats", NULL, stats_args, false, cmd_stats },
	{ "reload", NULL, NULL, true, cmd_reload },
	{ "stop", NULL, NULL, false, cmd_stop },
	{ "flood-status", NULL, NULL, false, cmd_flood_status },
	{ "filter-add", filter_add_req, filter_add_opt, true, cmd_filter_add },
	{ "filter-del", id_arg, NULL, true, cmd_filter_del },
	{ "filter-list", NULL, NULL, false, cmd_filter_list },
	{ "cookie-secret", NULL, cookie_opt, true, cmd_cookie_secret },
};
const size_t bw_daemon_ncommands =
	sizeof(bw_daemon_commands) / sizeof(bw_daemon_commands[0]);
