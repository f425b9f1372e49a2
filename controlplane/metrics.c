/*  bulwark — the counters for `stats`: JSON and Prometheus text.
 *
 *  Workers' counters are never written by the control plane: a reset
 *  keeps a copy of the JSON as baseline, and later reports subtract it
 *  member by member (zones keep their own baselines in the registry, as
 *  zones come and go).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/dataplane.h"
#include "daemon.h"
#include "strbuf.h"
#include "tcp.h"
#include "udp.h"

/* Values that are levels, not counters: never subtracted. */
static const char *const gauges[] = { "open", "uptime", "worker", "attacks",
                                      "filters", NULL };

static bool is_gauge(const char *key)
{
	for (size_t i = 0; gauges[i] != NULL; i++)
		if (strcmp(gauges[i], key) == 0)
			return true;
	return false;
}

static void rcode_name(unsigned r, char *out, size_t cap)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};

	if (r < sizeof(names) / sizeof(names[0]))
		snprintf(out, cap, "%s", names[r]);
	else if (r == 16)
		snprintf(out, cap, "BADVERS");
	else
		snprintf(out, cap, "RCODE%u", r);
}

/* {"NOERROR": n, ...} for the non-zero buckets. */
static struct bw_json *rcodes(const uint64_t *rc, unsigned n)
{
	struct bw_json *o = bw_json_obj();
	char name[16];

	for (unsigned r = 0; r < n; r++) {
		if (rc[r] == 0 && r != 0 && r != 3 && r != 5)
			continue;
		rcode_name(r, name, sizeof(name));
		bw_json_set_u64(o, name, rc[r]);
	}
	return o;
}

static struct bw_json *named(const uint64_t *v, const char *const *names,
                             unsigned n)
{
	struct bw_json *o = bw_json_obj();

	for (unsigned i = 0; i < n; i++)
		bw_json_set_u64(o, names[i], v[i]);
	return o;
}

/* A worker's row starts with its index: it labels the row. */
static struct bw_json *row(int worker)
{
	struct bw_json *o = bw_json_obj();

	if (worker >= 0)
		bw_json_set_u64(o, "worker", (uint64_t)worker);
	return o;
}

static struct bw_json *udp_json(const struct bw_udp_stats *st, int worker)
{
	struct bw_json *o = row(worker);

	bw_json_set_u64(o, "received", st->rx);
	bw_json_set_u64(o, "sent", st->tx);
	bw_json_set_u64(o, "dropped", st->dropped);
	bw_json_set(o, "rcode", rcodes(st->rcode, BW_UDP_RCODES));
	return o;
}

static struct bw_json *pkt_json(const struct bw_pkt_stats *st, int worker)
{
	struct bw_json *o = row(worker);

	bw_json_set_u64(o, "received", st->rx);
	bw_json_set_u64(o, "sent", st->tx);
	bw_json_set_u64(o, "answers", st->answers);
	bw_json_set_u64(o, "tc", st->tc);
	bw_json_set_u64(o, "do", st->do_bit);
	bw_json_set_u64(o, "arp", st->arp);
	bw_json_set_u64(o, "nd", st->nd);
	bw_json_set_u64(o, "echo", st->echo);
	bw_json_set(o, "rcode", rcodes(st->rcode, BW_PKT_RCODES));
	bw_json_set(o, "drop", named(st->drop, bw_pkt_drop_names, BW_DROP_MAX));
	bw_json_set(o, "exception", named(st->exc, bw_pkt_exc_names, BW_EXC_MAX));
	return o;
}

static void udp_stats(const struct bw_daemon *dm, struct bw_json *res)
{
	struct bw_json *workers = bw_json_arr();
	struct bw_udp_stats st;
	struct bw_pkt_stats ps;

	if (dm->udp != NULL) {
		bw_udp_stats(dm->udp, &st);
		bw_json_set(res, "udp", udp_json(&st, -1));
		for (unsigned w = 0; w < bw_udp_workers(dm->udp); w++) {
			bw_udp_worker_stats(dm->udp, w, &st);
			bw_json_push(workers, udp_json(&st, (int)w));
		}
	} else if (dm->dpdk != NULL) {
		bw_dpdk_stats(dm->dpdk, BW_DPDK_ALL_WORKERS, &ps);
		bw_json_set(res, "udp", pkt_json(&ps, -1));
		for (unsigned w = 0; w < bw_dpdk_workers(dm->dpdk); w++) {
			bw_dpdk_stats(dm->dpdk, w, &ps);
			bw_json_push(workers, pkt_json(&ps, (int)w));
		}
	}
	bw_json_set(res, "workers", workers);
}

static void tcp_stats(const struct bw_daemon *dm, struct bw_json *res)
{
	struct bw_tcp_stats st;
	uint64_t open = 0;
	struct bw_json *o;

	if (dm->tcp == NULL)
		return;
	bw_tcp_stats(dm->tcp, &st, &open);
	o = bw_json_obj();
	bw_json_set_u64(o, "accepted", st.accepted);
	bw_json_set_u64(o, "open", open);
	bw_json_set_u64(o, "closed_idle", st.closed_idle);
	bw_json_set_u64(o, "evicted", st.evicted);
	bw_json_set_u64(o, "refused_per_client", st.refused_per_client);
	bw_json_set_u64(o, "closed_error", st.closed_error);
	bw_json_set_u64(o, "received", st.rx);
	bw_json_set_u64(o, "sent", st.tx);
	bw_json_set_u64(o, "dropped", st.dropped);
	bw_json_set(o, "rcode", rcodes(st.rcode, BW_UDP_RCODES));
	bw_json_set(res, "tcp", o);
}

/* The raw counters, before any baseline. */
static struct bw_json *raw(struct bw_daemon *dm)
{
	struct bw_json *res = bw_json_obj();

	udp_stats(dm, res);
	tcp_stats(dm, res);
	if (dm->flood != NULL)
		bw_json_set(res, "flood", bw_floodctl_stats(dm->flood));
	return res;
}

/* v -= base, member by member (arrays by index, objects by key). */
static void subtract(struct bw_json *v, const struct bw_json *base)
{
	uint64_t a, b;

	if (base == NULL || v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct bw_json *bi = v->type == BW_JSON_OBJ ?
			bw_json_get(base, v->keys[i]) :
			(v->type == BW_JSON_ARR && i < base->n ? base->items[i] : NULL);
		struct bw_json *vi = v->items[i];

		if (vi->type == BW_JSON_OBJ || vi->type == BW_JSON_ARR) {
			subtract(vi, bi);
		} else if (bi != NULL && !(v->type == BW_JSON_OBJ && is_gauge(v->keys[i])) &&
		           bw_json_as_u64(vi, &a) == 0 && bw_json_as_u64(bi, &b) == 0) {
			bw_json_free(vi);
			v->items[i] = bw_json_u64(a >= b ? a - b : 0);
			if (v->items[i] == NULL) {
				v->items[i] = bw_json_null();
				v->failed = true;
			}
		}
	}
}

struct bw_json *bw_metrics_stats(struct bw_daemon *dm)
{
	struct bw_json *res = bw_json_obj(), *body = raw(dm), *zones = bw_json_arr();

	pthread_mutex_lock(&dm->conf_mu);
	subtract(body, dm->stats_base);
	bw_json_set_time(res, "since", dm->stats_base != NULL ? dm->stats_since : dm->started);
	pthread_mutex_unlock(&dm->conf_mu);
	bw_json_set(res, "uptime", bw_json_f64(bw_daemon_uptime(dm), 3));
	for (size_t i = 0; body != NULL && i < body->n; i++) {
		bw_json_set(res, body->keys[i], body->items[i]);
		body->items[i] = NULL;
	}
	bw_json_free(body);
	bw_reg_stats(dm->reg, zones);
	bw_json_set(res, "zones", zones);
	return res;
}

void bw_metrics_reset(struct bw_daemon *dm)
{
	struct bw_json *base = raw(dm);

	bw_reg_stats_reset(dm->reg);
	pthread_mutex_lock(&dm->conf_mu);
	bw_json_free(dm->stats_base);
	dm->stats_base = base;
	dm->stats_since = time(NULL);
	pthread_mutex_unlock(&dm->conf_mu);
}

/* ---- Prometheus text format. ---- */

/* A label value: backslash, quote and newline escaped. */
static void put_label(struct bw_strbuf *t, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			bw_strbuf_printf(t, "\\%c", *v);
		else if (*v == '\n')
			bw_strbuf_adds(t, "\\n");
		else
			bw_strbuf_addc(t, *v);
	}
}

/* The label that names an item of a per-worker or per-zone list. */
static void put_item_label(struct bw_strbuf *t, const char *lname,
                           const struct bw_json *item)
{
	const struct bw_json *v = bw_json_get(item, lname);

	bw_strbuf_printf(t, "%s=\"", lname);
	if (v != NULL && (v->type == BW_JSON_STR || v->type == BW_JSON_NUM))
		put_label(t, v->str);
	bw_strbuf_adds(t, "\"");
}

/* One metric of a section over its items (one item for udp and tcp). */
static void metric(struct bw_strbuf *t, const char *section, const char *key,
                   const struct bw_json *const *items, size_t n,
                   const char *lname)
{
	const struct bw_json *first = bw_json_get(items[0], key);
	bool gauge = is_gauge(key);
	const char *sub = strcmp(key, "rcode") == 0 ? "rcode" : "reason";

	bw_strbuf_printf(t, "# TYPE bulwark_%s_%s%s %s\n", section, key,
	                 gauge ? "" : "_total", gauge ? "gauge" : "counter");
	for (size_t i = 0; i < n; i++) {
		const struct bw_json *v = bw_json_get(items[i], key);

		for (size_t k = 0; v != NULL && first->type == BW_JSON_OBJ && k < v->n; k++) {
			bw_strbuf_printf(t, "bulwark_%s_%s_total{", section,
			                 key);
			if (lname != NULL) {
				put_item_label(t, lname, items[i]);
				bw_strbuf_adds(t, ",");
			}
			bw_strbuf_printf(t, "%s=\"", sub);
			put_label(t, v->keys[k]);
			bw_strbuf_printf(t, "\"} %s\n", v->items[k]->str);
		}
		if (v == NULL || v->type != BW_JSON_NUM)
			continue;
		bw_strbuf_printf(t, "bulwark_%s_%s%s", section, key,
		                 gauge ? "" : "_total");
		if (lname != NULL) {
			bw_strbuf_adds(t, "{");
			put_item_label(t, lname, items[i]);
			bw_strbuf_adds(t, "}");
		}
		bw_strbuf_printf(t, " %s\n", v->str);
	}
}

static void section(struct bw_strbuf *t, const char *name,
                    const struct bw_json *v, const char *lname)
{
	const struct bw_json *const *items = v->type == BW_JSON_ARR ?
		(const struct bw_json *const *)v->items : &v;
	size_t n = v->type == BW_JSON_ARR ? v->n : 1;

	if (n == 0)
		return;
	for (size_t k = 0; k < items[0]->n; k++) {
		if (lname != NULL && strcmp(items[0]->keys[k], lname) == 0)
			continue;
		metric(t, name, items[0]->keys[k], items, n, lname);
	}
}

char *bw_metrics_prometheus(const struct bw_json *stats)
{
	struct bw_strbuf t = { 0 };
	const struct bw_json *v;

	v = bw_json_get(stats, "uptime");
	bw_strbuf_printf(&t, "# TYPE bulwark_uptime_seconds gauge\n"
	                 "bulwark_uptime_seconds %s\n",
	                 v != NULL ? v->str : "0");
	if ((v = bw_json_get(stats, "udp")) != NULL)
		section(&t, "udp", v, NULL);
	if ((v = bw_json_get(stats, "workers")) != NULL)
		section(&t, "worker", v, "worker");
	if ((v = bw_json_get(stats, "tcp")) != NULL)
		section(&t, "tcp", v, NULL);
	if ((v = bw_json_get(stats, "flood")) != NULL)
		section(&t, "flood", v, NULL);
	if ((v = bw_json_get(stats, "zones")) != NULL)
		section(&t, "zone", v, "zone");
	return bw_strbuf_take(&t);
}
