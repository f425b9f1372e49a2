/*  bulwark — flood mitigation in the control plane (see flood_ctl.h).
 *
 *  The detector thread wakes shortly after each interval ends, copies the
 *  sketch every worker finished for it (a worker that was idle has none),
 *  merges them, and compares each parent's NXDOMAIN and distinct-label
 *  rates with the thresholds: at or above both, the parent is flagged; a
 *  flagged parent below release-percent of both for hold-down seconds is
 *  released.  Any change publishes a new policy.  Everything here is
 *  guarded by fc->mu; publication (synchronize_rcu) happens under it,
 *  which is safe because no RCU reader thread ever takes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <arpa/inet.h>

#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "cookie.h"
#include "filter.h"
#include "flood_ctl.h"
#include "log.h"
#include "sketch.h"
#include "statefile.h"

#define RELEASED_MAX 32     /* Released parents remembered. */
#define SAMPLES_KEPT 32     /* Sampled names shown by flood-status. */
#define TOP_SHOWN 10        /* Parents and sources in flood-status. */
#define TICK_SLACK_MS 20    /* Workers finish an interval on their next
                               query after it ends: wait a little. */

/* A parent under attack. */
struct flagged {
	struct bw_flood_attack a;
	uint64_t since_ms;        /* Wall clock. */
	uint64_t below_ms;        /* Monotonic start of the time below the
	                             release level; 0: above it. */
	double nx_rate, distinct_rate, peak_nx;
};

struct released {
	char name[BW_NAME_MAXTEXT];
	uint64_t since_ms, until_ms;
	double peak_nx;
};

struct bw_floodctl {
	pthread_mutex_t mu;
	pthread_cond_t wake;      /* Stop requests (CLOCK_MONOTONIC). */
	pthread_t thread;
	bool started, stopping;
	char *directory;
	unsigned io_workers;
	unsigned nworkers;        /* io workers + TCP. */
	struct bw_flood_worker **w;
	uint64_t *samples_read;   /* Per worker: samples taken. */

	struct bw_conf_flood conf;
	struct bw_rrl_conf rrl;
	bool cookies;
	struct bw_cookie_keys keys;
	struct bw_cookie_secret conf_secrets[BW_CONF_COOKIE_SECRETS];
	size_t nconf_secrets;
	bool keys_from_state;     /* Set with bulwarkctl: override config. */

	struct bw_filter_rule *rules;
	size_t nrules;
	unsigned next_id;
	struct bw_filter_db *db;

	struct flagged flag[BW_FLOOD_ATTACK_MAX];
	unsigned nflag;
	struct released rel[RELEASED_MAX];
	unsigned nrel;            /* Total ever released; ring index % MAX. */
	uint64_t attacks_total;
	struct bw_sketch last;    /* The last interval, merged. */
	uint64_t last_interval;
	unsigned last_iv;         /* Its length (ms). */
	char samples[SAMPLES_KEPT][BW_NAME_MAXTEXT];
	unsigned nsamples;

	uint64_t log_second;      /* Log rate limiting. */
	unsigned log_lines;
	uint64_t log_dropped;

	uint64_t generation;
	struct bw_flood_policy *pol;
};

/* ---- Clocks and logs. ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* At most log-rate lines per second; the rest are counted and reported. */
static void flood_log(struct bw_floodctl *fc, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void flood_log(struct bw_floodctl *fc, int level, const char *fmt, ...)
{
	uint64_t sec = mono_ms() / 1000;
	char msg[512];
	va_list ap;

	if (sec != fc->log_second) {
		if (fc->log_dropped > 0)
			bw_log(LOG_NOTICE, "flood: %" PRIu64 " messages not logged "
			       "(log-rate %u)", fc->log_dropped, fc->conf.log_rate);
		fc->log_second = sec;
		fc->log_lines = 0;
		fc->log_dropped = 0;
	}
	if (fc->log_lines >= fc->conf.log_rate) {
		fc->log_dropped++;
		return;
	}
	fc->log_lines++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bw_log(level, "%s", msg);
}

/* Presentation form with every unsafe octet escaped (names are
 * attacker-controlled text). */
static void name_text(const uint8_t *wire, char out[BW_NAME_MAXTEXT])
{
	if (bw_name_to_text(out, BW_NAME_MAXTEXT, wire) < 0)
		snprintf(out, BW_NAME_MAXTEXT, "?");
}

/* ---- Publication. ---- */

static int attack_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct bw_flood_attack *)a)->hash;
	uint64_t y = ((const struct bw_flood_attack *)b)->hash;

	return x < y ? -1 : x > y;
}

/* Builds the policy from the state and publishes it; the old one (and a
 * replaced filter database, \a old_db) is freed after the grace period. */
static int publish(struct bw_floodctl *fc, struct bw_filter_db *old_db)
{
	struct bw_flood_policy *p = malloc(sizeof(*p)), *old;

	if (p == NULL)
		return BW_ENOMEM;
	bw_flood_policy_default(p);
	p->generation = ++fc->generation;
	p->workers = fc->io_workers;
	p->rrl = fc->rrl;
	p->cookies = fc->cookies;
	p->keys = fc->keys;
	p->filters = fc->db;
	p->filter_rate = fc->conf.filter_rate;
	p->attack_action = fc->conf.attack_action;
	p->attack_rate = fc->conf.attack_rate;
	p->sample = fc->conf.sample;
	p->interval_ms = fc->conf.interval_ms;
	p->detect = fc->conf.enabled;
	p->nattack = fc->nflag;
	for (unsigned i = 0; i < fc->nflag; i++)
		p->attack[i] = fc->flag[i].a;
	qsort(p->attack, p->nattack, sizeof(p->attack[0]), attack_cmp);
	old = bw_flood_policy_publish(p);
	free(fc->pol == old ? old : NULL);
	fc->pol = p;
	bw_filter_free(old_db);
	return 0;
}

/* ---- Detection. ---- */

static int flag_find(const struct bw_floodctl *fc, uint64_t hash)
{
	for (unsigned i = 0; i < fc->nflag; i++)
		if (fc->flag[i].a.hash == hash)
			return (int)i;
	return -1;
}

static void flag_add(struct bw_floodctl *fc, const struct bw_sk_parent *p,
                     double nx, double distinct)
{
	struct flagged *f = &fc->flag[fc->nflag++];
	char text[BW_NAME_MAXTEXT];

	memset(f, 0, sizeof(*f));
	f->a.hash = p->hash;
	memcpy(f->a.name, p->name, p->name_len);
	f->a.name_len = p->name_len;
	f->since_ms = wall_ms();
	f->nx_rate = f->peak_nx = nx;
	f->distinct_rate = distinct;
	fc->attacks_total++;
	name_text(p->name, text);
	flood_log(fc, LOG_WARNING, "flood: %s under attack: %.0f NXDOMAIN/s, "
	          "%.0f distinct labels/s; action %s", text, nx, distinct,
	          bw_flood_action_names[fc->conf.attack_action]);
}

static void flag_release(struct bw_floodctl *fc, unsigned i)
{
	struct flagged *f = &fc->flag[i];
	struct released *r = &fc->rel[fc->nrel++ % RELEASED_MAX];

	name_text(f->a.name, r->name);
	r->since_ms = f->since_ms;
	r->until_ms = wall_ms();
	r->peak_nx = f->peak_nx;
	flood_log(fc, LOG_NOTICE, "flood: %s released after %.1f s (peak %.0f "
	          "NXDOMAIN/s)", r->name, (double)(r->until_ms - r->since_ms) / 1000,
	          r->peak_nx);
	fc->flag[i] = fc->flag[--fc->nflag];
}

/* Flags the parents of \a m above both thresholds; true if any was. */
static bool detect(struct bw_floodctl *fc, const struct bw_sketch *m, double secs)
{
	bool changed = false;

	for (unsigned i = 0; i < m->nparents; i++) {
		const struct bw_sk_parent *p = &m->parent[i];
		double nx = p->count / secs;
		double distinct = bw_sketch_hll_estimate(p->hll) / secs;
		int k = flag_find(fc, p->hash);

		if (k >= 0) {
			fc->flag[k].nx_rate = nx;
			fc->flag[k].distinct_rate = distinct;
			if (nx > fc->flag[k].peak_nx)
				fc->flag[k].peak_nx = nx;
		} else if (fc->conf.enabled && nx >= fc->conf.nxdomain_rate &&
		           distinct >= fc->conf.distinct_rate &&
		           fc->nflag < BW_FLOOD_ATTACK_MAX) {
			flag_add(fc, p, nx, distinct);
			changed = true;
		}
	}
	return changed;
}

/* Releases the flagged parents that stayed low for hold-down seconds. */
static bool release(struct bw_floodctl *fc, const struct bw_sketch *m,
                    uint64_t now)
{
	double rel_nx = fc->conf.nxdomain_rate * fc->conf.release_percent / 100.0;
	double rel_d = fc->conf.distinct_rate * fc->conf.release_percent / 100.0;
	bool changed = false;

	for (unsigned i = fc->nflag; i-- > 0;) {
		struct flagged *f = &fc->flag[i];
		bool seen = false;

		for (unsigned j = 0; j < m->nparents && !seen; j++)
			seen = m->parent[j].hash == f->a.hash;
		if (!seen)
			f->nx_rate = f->distinct_rate = 0;
		if (f->nx_rate >= rel_nx || f->distinct_rate >= rel_d) {
			f->below_ms = 0;
		} else if (f->below_ms == 0) {
			f->below_ms = now;
		} else if (now - f->below_ms >= fc->conf.hold_down * 1000ull) {
			flag_release(fc, i);
			changed = true;
		}
	}
	return changed;
}

/* Logs and keeps the names the workers sampled since the last time. */
static void take_samples(struct bw_floodctl *fc)
{
	for (unsigned i = 0; i < fc->nworkers; i++) {
		struct bw_flood_worker *w = fc->w[i];
		/* Acquire: the names before head are written. */
		uint64_t head = __atomic_load_n(&w->samples_head, __ATOMIC_ACQUIRE);
		uint64_t from = fc->samples_read[i];

		if (head - from > BW_FLOOD_SAMPLES)
			from = head - BW_FLOOD_SAMPLES;
		for (; from < head; from++) {
			struct bw_flood_sample s = w->samples[from % BW_FLOOD_SAMPLES];
			uint8_t wire[BW_NAME_MAXLEN + 1] = { 0 };
			char *text = fc->samples[fc->nsamples++ % SAMPLES_KEPT];

			memcpy(wire, s.name, s.len < BW_NAME_MAXLEN ? s.len : BW_NAME_MAXLEN);
			if (bw_name_unpack(wire, sizeof(wire), 0, NULL, NULL) < 0)
				continue;  /* Overwritten while copied. */
			name_text(wire, text);
			flood_log(fc, LOG_INFO, "flood sample: %s", text);
		}
		fc->samples_read[i] = head;
	}
}

/* One interval: merge, detect, release, publish on change. */
static void interval_done(struct bw_floodctl *fc, uint64_t interval)
{
	struct bw_sketch *one = malloc(sizeof(*one));
	struct bw_sketch *m = &fc->last;
	bool changed;

	if (one == NULL)
		return;
	bw_sketch_clear(m);
	for (unsigned i = 0; i < fc->nworkers; i++)
		if (bw_sketch_ring_snapshot(fc->w[i]->sk, interval, one))
			bw_sketch_merge(m, one);
	free(one);
	fc->last_interval = interval;
	changed = detect(fc, m, fc->conf.interval_ms / 1000.0);
	changed |= release(fc, m, mono_ms());
	take_samples(fc);
	if (changed && publish(fc, NULL) != 0)
		bw_log(LOG_ERR, "flood: out of memory: attack list not published");
}

static void *detector_main(void *arg)
{
	struct bw_floodctl *fc = arg;

	pthread_mutex_lock(&fc->mu);
	while (!fc->stopping) {
		unsigned iv = fc->conf.interval_ms;
		uint64_t now = mono_ms(), next = (now / iv + 1) * iv + TICK_SLACK_MS;
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)((next - now) / 1000);
		until.tv_nsec += (long)((next - now) % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		(void)pthread_cond_timedwait(&fc->wake, &fc->mu, &until);
		if (fc->stopping)
			break;
		now = mono_ms();
		iv = fc->conf.interval_ms;
		/* Interval numbers depend on the length: a reload may change it. */
		if (iv != fc->last_iv)
			fc->last_interval = 0;
		fc->last_iv = iv;
		if (now / iv > 0 && now / iv - 1 != fc->last_interval)
			interval_done(fc, now / iv - 1);
	}
	pthread_mutex_unlock(&fc->mu);
	return NULL;
}

/* ---- flood.state. ---- */

static struct bw_json *rule_json(const struct bw_filter_rule *r, bool state)
{
	struct bw_json *o = bw_json_obj();
	char zone[BW_NAME_MAXTEXT];

	bw_json_set_u64(o, "id", r->id);
	bw_json_set_str(o, "pattern", r->pattern);
	bw_json_set_bool(o, "literal", r->literal);
	bw_json_set_str(o, "action", bw_filter_action_names[r->action]);
	if (r->has_zone) {
		name_text(r->zone, zone);
		bw_json_set_str(o, "zone", zone);
	} else if (!state) {
		bw_json_set(o, "zone", bw_json_null());
	}
	return o;
}

static int state_save(const struct bw_floodctl *fc,
                      const struct bw_filter_rule *rules, size_t n,
                      const struct bw_cookie_keys *keys, bool with_keys)
{
	struct bw_json *doc = bw_json_obj(), *arr = bw_json_arr();
	int rc;

	bw_json_set_u64(doc, "version", 1);
	for (size_t i = 0; i < n; i++)
		bw_json_push(arr, rule_json(&rules[i], true));
	bw_json_set(doc, "filters", arr);
	if (with_keys) {
		struct bw_json *s = bw_json_arr();
		char hex[33];

		bw_cookie_secret_text(&keys->cur, hex);
		bw_json_push(s, bw_json_str(hex));
		if (keys->has_prev) {
			bw_cookie_secret_text(&keys->prev, hex);
			bw_json_push(s, bw_json_str(hex));
		}
		bw_json_set(doc, "cookie-secrets", s);
	}
	/* 0600: the file may hold cookie secrets. */
	rc = bw_state_write(fc->directory, BW_FLOOD_STATE, doc, 0600);
	bw_json_free(doc);
	return rc;
}

/* A rule from its JSON (state file or filter-add); false with \a e set. */
static bool rule_parse(const struct bw_json *o, struct bw_filter_rule *r,
                       struct bw_ctl_error *e)
{
	const char *pat = bw_json_get_str(o, "pattern");
	const char *act = bw_json_get_str(o, "action");
	const char *zone = bw_json_get_str(o, "zone");
	const struct bw_json *lit = bw_json_get(o, "literal");

	memset(r, 0, sizeof(*r));
	if (pat == NULL || pat[0] == '\0' || strlen(pat) > BW_FILTER_PATTERN_MAX) {
		bw_ctl_error_set(e, BW_CTL_EARG, "'pattern' must be a string of 1 to "
		                 "%u characters", BW_FILTER_PATTERN_MAX);
		return false;
	}
	strcpy(r->pattern, pat);
	r->literal = lit != NULL && lit->type == BW_JSON_BOOL && lit->b;
	r->action = BW_FA_MAX;
	for (unsigned a = 0; act != NULL && a < BW_FA_MAX; a++)
		if (strcmp(act, bw_filter_action_names[a]) == 0)
			r->action = (enum bw_filter_action)a;
	if (r->action == BW_FA_MAX) {
		bw_ctl_error_set(e, BW_CTL_EARG, "'action' must be drop, refuse, "
		                 "truncate, rate-limit or log-only");
		return false;
	}
	if (zone != NULL) {
		static const uint8_t root[1] = { 0 };
		int len = bw_name_from_text(r->zone, zone, strlen(zone), root);
		if (len <= 0) {
			bw_ctl_error_set(e, BW_CTL_EARG, "'zone' is not a domain name");
			return false;
		}
		bw_name_lower(r->zone);
		r->zone_len = (uint8_t)len;
		r->has_zone = true;
	}
	return true;
}

/* Compiles \a n rules into a new database; NULL for none. */
static int rules_compile(struct bw_floodctl *fc, const struct bw_filter_rule *rules,
                         size_t n, struct bw_filter_db **db, struct bw_ctl_error *e)
{
	char err[512];

	*db = NULL;
	if (n == 0)
		return 0;
	if (bw_filter_compile(rules, n, fc->io_workers + 1, db, err, sizeof(err)) != 0) {
		bw_ctl_error_set(e, BW_CTL_EARG, "%s", err);
		return BW_EINVAL;
	}
	return 0;
}

static void state_filters(struct bw_floodctl *fc, const struct bw_json *arr)
{
	struct bw_ctl_error e = { 0 };

	for (size_t i = 0; arr != NULL && arr->type == BW_JSON_ARR && i < arr->n; i++) {
		struct bw_filter_rule r;
		uint64_t id = 0;

		if (fc->nrules >= BW_FILTER_RULES_MAX ||
		    bw_json_get_u64(arr->items[i], "id", &id) != 0 || id == 0 ||
		    id > UINT32_MAX || !rule_parse(arr->items[i], &r, &e)) {
			bw_log(LOG_ERR, "%s/%s: filter %zu ignored: %s", fc->directory,
			       BW_FLOOD_STATE, i + 1, e.msg[0] ? e.msg : "bad entry");
			continue;
		}
		r.id = (unsigned)id;
		fc->rules[fc->nrules++] = r;
		if (r.id >= fc->next_id)
			fc->next_id = r.id + 1;
	}
}

static void state_keys(struct bw_floodctl *fc, const struct bw_json *arr)
{
	struct bw_cookie_keys k = { 0 };
	const char *cur, *prev;

	if (arr == NULL || arr->type != BW_JSON_ARR || arr->n == 0)
		return;
	cur = arr->items[0]->type == BW_JSON_STR ? arr->items[0]->str : NULL;
	prev = arr->n > 1 && arr->items[1]->type == BW_JSON_STR ? arr->items[1]->str : NULL;
	if (cur == NULL || bw_cookie_secret_parse(cur, &k.cur) != 0 ||
	    (prev != NULL && bw_cookie_secret_parse(prev, &k.prev) != 0)) {
		bw_log(LOG_ERR, "%s/%s: cookie secrets ignored: not 32 hex digits",
		       fc->directory, BW_FLOOD_STATE);
		return;
	}
	k.has_prev = prev != NULL;
	fc->keys = k;
	fc->keys_from_state = true;
}

/* Reads flood.state; rules that no longer compile are dropped one by one. */
static void state_load(struct bw_floodctl *fc)
{
	struct bw_json *doc = bw_state_read(fc->directory, BW_FLOOD_STATE);
	struct bw_ctl_error e = { 0 };

	state_filters(fc, bw_json_get(doc, "filters"));
	state_keys(fc, bw_json_get(doc, "cookie-secrets"));
	bw_json_free(doc);
	while (fc->nrules > 0 && rules_compile(fc, fc->rules, fc->nrules, &fc->db, &e) != 0) {
		bw_log(LOG_ERR, "%s/%s: filter %u ignored: %s", fc->directory,
		       BW_FLOOD_STATE, fc->rules[fc->nrules - 1].id, e.msg);
		fc->nrules--;
	}
	if (fc->nrules > 0)
		bw_log(LOG_INFO, "flood: %zu filters from %s", fc->nrules, BW_FLOOD_STATE);
}

/* ---- Settings. ---- */

/* Cookie secrets of the configuration, or a random one (BIND's way). */
static void conf_keys(struct bw_floodctl *fc, const struct bw_conf *conf)
{
	memset(&fc->keys, 0, sizeof(fc->keys));
	fc->nconf_secrets = conf->ncookie_secrets;
	memcpy(fc->conf_secrets, conf->cookie_secret, sizeof(fc->conf_secrets));
	if (conf->ncookie_secrets > 0) {
		fc->keys.cur = conf->cookie_secret[0];
		fc->keys.prev = conf->cookie_secret[1];
		fc->keys.has_prev = conf->ncookie_secrets > 1;
	} else if (getrandom(fc->keys.cur.key, sizeof(fc->keys.cur.key), 0) !=
	           (ssize_t)sizeof(fc->keys.cur.key)) {
		bw_log(LOG_WARNING, "flood: getrandom: %s; cookie secret from the clock",
		       strerror(errno));
		uint64_t t = wall_ms() ^ (uint64_t)(uintptr_t)fc;
		memcpy(fc->keys.cur.key, &t, sizeof(t));
	}
}

static void conf_apply(struct bw_floodctl *fc, const struct bw_conf *conf)
{
	unsigned entries = fc->rrl.table_size;

	fc->conf = conf->flood;
	fc->rrl = conf->rrl;
	if (entries != 0)
		fc->rrl.table_size = entries;  /* Tables are sized at start. */
	fc->cookies = conf->answer_cookie;
}

static bool secrets_changed(const struct bw_floodctl *fc, const struct bw_conf *conf)
{
	return conf->ncookie_secrets != fc->nconf_secrets ||
	       memcmp(conf->cookie_secret, fc->conf_secrets,
	              conf->ncookie_secrets * sizeof(conf->cookie_secret[0])) != 0;
}

/* ---- Start and stop. ---- */

static int workers_new(struct bw_floodctl *fc, unsigned entries)
{
	fc->w = calloc(fc->nworkers, sizeof(*fc->w));
	fc->samples_read = calloc(fc->nworkers, sizeof(*fc->samples_read));
	fc->rules = calloc(BW_FILTER_RULES_MAX, sizeof(*fc->rules));
	if (fc->w == NULL || fc->samples_read == NULL || fc->rules == NULL)
		return BW_ENOMEM;
	for (unsigned i = 0; i < fc->nworkers; i++)
		if ((fc->w[i] = bw_flood_worker_new(i, entries)) == NULL)
			return BW_ENOMEM;
	return 0;
}

static int start_thread(struct bw_floodctl *fc)
{
	pthread_condattr_t ca;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fc->wake, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&fc->thread, NULL, detector_main, fc);
	fc->started = rc == 0;
	return -rc;
}

int bw_floodctl_start(const struct bw_conf *conf, unsigned workers,
                      struct bw_floodctl **out, char *err, size_t errlen)
{
	struct bw_floodctl *fc = calloc(1, sizeof(*fc));
	int rc = BW_ENOMEM;

	if (fc == NULL || (fc->directory = strdup(conf->directory)) == NULL)
		goto fail;
	pthread_mutex_init(&fc->mu, NULL);
	fc->io_workers = workers;
	fc->nworkers = workers + 1;
	fc->next_id = 1;
	conf_apply(fc, conf);
	conf_keys(fc, conf);
	if ((rc = workers_new(fc, conf->rrl.table_size)) != 0)
		goto fail;
	state_load(fc);
	if ((rc = publish(fc, NULL)) != 0 || (rc = start_thread(fc)) != 0)
		goto fail;
	bw_log(LOG_INFO, "flood: detection %s (every %u ms; %u NXDOMAIN/s and %u "
	       "distinct/s flag a parent; action %s), rate-limit %s, cookies %s",
	       fc->conf.enabled ? "on" : "off", fc->conf.interval_ms,
	       fc->conf.nxdomain_rate, fc->conf.distinct_rate,
	       bw_flood_action_names[fc->conf.attack_action],
	       fc->rrl.enabled ? (fc->rrl.log_only ? "log-only" : "on") : "off",
	       fc->cookies ? "on" : "off");
	*out = fc;
	return 0;
fail:
	snprintf(err, errlen, "flood mitigation: %s", bw_strerror(rc));
	bw_floodctl_stop(fc);
	return rc;
}

void bw_floodctl_stop(struct bw_floodctl *fc)
{
	if (fc == NULL)
		return;
	if (fc->started) {
		pthread_mutex_lock(&fc->mu);
		fc->stopping = true;
		pthread_cond_signal(&fc->wake);
		pthread_mutex_unlock(&fc->mu);
		pthread_join(fc->thread, NULL);
		pthread_cond_destroy(&fc->wake);
	}
	if (fc->pol != NULL && bw_flood_policy_publish(NULL) == fc->pol)
		free(fc->pol);
	bw_filter_free(fc->db);
	for (unsigned i = 0; fc->w != NULL && i < fc->nworkers; i++)
		bw_flood_worker_free(fc->w[i]);
	free(fc->w);
	free(fc->samples_read);
	free(fc->rules);
	free(fc->directory);
	pthread_mutex_destroy(&fc->mu);
	free(fc);
}

struct bw_flood_worker *const *bw_floodctl_workers(const struct bw_floodctl *fc)
{
	return fc->w;
}

void bw_floodctl_reconfigure(struct bw_floodctl *fc, const struct bw_conf *conf,
                             struct bw_json *notes)
{
	pthread_mutex_lock(&fc->mu);
	if (conf->rrl.table_size != fc->rrl.table_size && notes != NULL)
		bw_json_push(notes, bw_json_str("rate-limit max-table-size takes "
		                                "effect at the next start"));
	conf_apply(fc, conf);
	if (secrets_changed(fc, conf)) {
		/* The configuration's new secrets win over bulwarkctl's. */
		conf_keys(fc, conf);
		fc->keys_from_state = false;
		if (state_save(fc, fc->rules, fc->nrules, &fc->keys, false) != 0)
			bw_log(LOG_ERR, "flood: cannot write %s/%s", fc->directory,
			       BW_FLOOD_STATE);
	}
	if (publish(fc, NULL) != 0)
		bw_log(LOG_ERR, "flood: out of memory: settings not published");
	pthread_mutex_unlock(&fc->mu);
}

/* ---- Status. ---- */

static struct bw_json *rate(double v)
{
	return bw_json_f64(v, 1);
}

static struct bw_json *attacks_json(const struct bw_floodctl *fc)
{
	struct bw_json *arr = bw_json_arr();
	char text[BW_NAME_MAXTEXT];

	for (unsigned i = 0; i < fc->nflag; i++) {
		const struct flagged *f = &fc->flag[i];
		struct bw_json *o = bw_json_obj();

		name_text(f->a.name, text);
		bw_json_set_str(o, "parent", text);
		bw_json_set_time_ms(o, "since", f->since_ms);
		bw_json_set(o, "nxdomain_rate", rate(f->nx_rate));
		bw_json_set(o, "distinct_rate", rate(f->distinct_rate));
		bw_json_set(o, "peak_nxdomain_rate", rate(f->peak_nx));
		bw_json_set_str(o, "action", bw_flood_action_names[fc->conf.attack_action]);
		bw_json_set_str(o, "state", f->below_ms ? "releasing" : "attack");
		bw_json_push(arr, o);
	}
	return arr;
}

static struct bw_json *released_json(const struct bw_floodctl *fc)
{
	struct bw_json *arr = bw_json_arr();
	unsigned n = fc->nrel < RELEASED_MAX ? fc->nrel : RELEASED_MAX;

	for (unsigned k = 0; k < n; k++) {
		const struct released *r = &fc->rel[(fc->nrel - 1 - k) % RELEASED_MAX];
		struct bw_json *o = bw_json_obj();

		bw_json_set_str(o, "parent", r->name);
		bw_json_set_time_ms(o, "since", r->since_ms);
		bw_json_set_time_ms(o, "until", r->until_ms);
		bw_json_set(o, "peak_nxdomain_rate", rate(r->peak_nx));
		bw_json_push(arr, o);
	}
	return arr;
}

/* A counter of a summary and where it is, for listing the largest. */
struct ranked {
	uint32_t count;
	unsigned idx;
};

static int ranked_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct ranked *)a)->count;
	uint32_t y = ((const struct ranked *)b)->count;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Sorts \a n ranked counters, largest first; returns how many to show. */
static unsigned top(struct ranked *r, unsigned n)
{
	qsort(r, n, sizeof(*r), ranked_cmp);
	return n < TOP_SHOWN ? n : TOP_SHOWN;
}

static struct bw_json *parents_json(const struct bw_sketch *m, double secs)
{
	struct bw_json *arr = bw_json_arr();
	char text[BW_NAME_MAXTEXT];
	struct ranked r[BW_SK_PARENTS];
	unsigned n;

	for (unsigned i = 0; i < m->nparents; i++)
		r[i] = (struct ranked){ m->parent[i].count, i };
	n = top(r, m->nparents);
	for (unsigned i = 0; i < n; i++) {
		const struct bw_sk_parent *p = &m->parent[r[i].idx];
		struct bw_json *o = bw_json_obj();

		name_text(p->name, text);
		bw_json_set_str(o, "parent", text);
		bw_json_set(o, "nxdomain_rate", rate(p->count / secs));
		bw_json_set(o, "error_rate", rate(p->err / secs));
		bw_json_set(o, "distinct_rate",
		            rate(bw_sketch_hll_estimate(p->hll) / secs));
		bw_json_push(arr, o);
	}
	return arr;
}

static struct bw_json *sources_json(const struct bw_sketch *m, double secs)
{
	struct bw_json *arr = bw_json_arr();
	char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 8];
	struct ranked r[BW_SK_SOURCES];
	unsigned n;

	for (unsigned i = 0; i < m->nsources; i++)
		r[i] = (struct ranked){ m->source[i].queries, i };
	n = top(r, m->nsources);
	for (unsigned i = 0; i < n; i++) {
		const struct bw_sk_source *s = &m->source[r[i].idx];
		struct bw_json *o = bw_json_obj();

		inet_ntop(s->v6 ? AF_INET6 : AF_INET, s->addr, addr, sizeof(addr));
		snprintf(text, sizeof(text), "%s/%u", addr, s->plen);
		bw_json_set_str(o, "prefix", text);
		bw_json_set(o, "query_rate", rate(s->queries * BW_SK_SOURCE_SAMPLE / secs));
		bw_json_set(o, "nxdomain_ratio",
		            bw_json_f64(s->queries ? (double)s->nxdomain / s->queries : 0, 3));
		bw_json_push(arr, o);
	}
	return arr;
}

static struct bw_json *settings_json(const struct bw_floodctl *fc)
{
	struct bw_json *o = bw_json_obj();

	bw_json_set_bool(o, "enabled", fc->conf.enabled);
	bw_json_set_u64(o, "nxdomain_rate", fc->conf.nxdomain_rate);
	bw_json_set_u64(o, "distinct_rate", fc->conf.distinct_rate);
	bw_json_set_u64(o, "release_percent", fc->conf.release_percent);
	bw_json_set_u64(o, "hold_down", fc->conf.hold_down);
	bw_json_set_str(o, "attack_action", bw_flood_action_names[fc->conf.attack_action]);
	bw_json_set_u64(o, "attack_nxdomains_per_second", fc->conf.attack_rate);
	bw_json_set_str(o, "rate_limit", fc->rrl.enabled ?
	                (fc->rrl.log_only ? "log-only" : "on") : "off");
	bw_json_set_bool(o, "cookies", fc->cookies);
	bw_json_set_u64(o, "cookie_secrets", fc->keys.has_prev ? 2 : 1);
	bw_json_set_u64(o, "filters", fc->nrules);
	return o;
}

static struct bw_json *samples_json(const struct bw_floodctl *fc)
{
	struct bw_json *arr = bw_json_arr();
	unsigned n = fc->nsamples < SAMPLES_KEPT ? fc->nsamples : SAMPLES_KEPT;

	for (unsigned k = 0; k < n; k++)
		bw_json_push(arr, bw_json_str(fc->samples[(fc->nsamples - 1 - k) %
		                                          SAMPLES_KEPT]));
	return arr;
}

struct bw_json *bw_floodctl_status(struct bw_floodctl *fc)
{
	struct bw_json *o = bw_json_obj(), *tot = bw_json_obj();
	double secs;

	pthread_mutex_lock(&fc->mu);
	secs = fc->conf.interval_ms / 1000.0;
	bw_json_set_u64(o, "interval_ms", fc->conf.interval_ms);
	bw_json_set(o, "settings", settings_json(fc));
	bw_json_set(o, "attacks", attacks_json(fc));
	bw_json_set(o, "released", released_json(fc));
	bw_json_set_u64(o, "attacks_total", fc->attacks_total);
	bw_json_set(tot, "query_rate", rate(fc->last.queries / secs));
	bw_json_set(tot, "nxdomain_rate", rate(fc->last.nxdomain / secs));
	bw_json_set(tot, "nxdomain_ratio", bw_json_f64(fc->last.queries ?
	            (double)fc->last.nxdomain / fc->last.queries : 0, 3));
	bw_json_set(o, "last_interval", tot);
	bw_json_set(o, "top_parents", parents_json(&fc->last, secs));
	bw_json_set(o, "top_sources", sources_json(&fc->last, secs));
	bw_json_set(o, "samples", samples_json(fc));
	pthread_mutex_unlock(&fc->mu);
	bw_json_set(o, "counters", bw_floodctl_stats(fc));
	return o;
}

struct bw_json *bw_floodctl_stats(struct bw_floodctl *fc)
{
	uint64_t sum[BW_FC_MAX] = { 0 };
	struct bw_json *o = bw_json_obj();

	for (unsigned i = 0; i < fc->nworkers; i++)
		for (unsigned c = 0; c < BW_FC_MAX; c++)
			sum[c] += __atomic_load_n(&fc->w[i]->st.c[c], __ATOMIC_RELAXED);
	for (unsigned c = 0; c < BW_FC_MAX; c++)
		bw_json_set_u64(o, bw_flood_counter_names[c], sum[c]);
	pthread_mutex_lock(&fc->mu);
	bw_json_set_u64(o, "attacks", fc->nflag);
	bw_json_set_u64(o, "attacks_started", fc->attacks_total);
	bw_json_set_u64(o, "filters", fc->nrules);
	pthread_mutex_unlock(&fc->mu);
	return o;
}

/* ---- Filters. ---- */

/* Recompiles, records, then publishes \a rules; nothing changes on error. */
static int rules_replace(struct bw_floodctl *fc, const struct bw_filter_rule *rules,
                         size_t n, struct bw_ctl_error *e)
{
	struct bw_filter_db *db, *old = fc->db;
	int rc = rules_compile(fc, rules, n, &db, e);

	if (rc != 0)
		return rc;
	rc = state_save(fc, rules, n, &fc->keys, fc->keys_from_state);
	if (rc != 0) {
		bw_filter_free(db);
		bw_ctl_error_set(e, BW_CTL_EINTERNAL, "cannot write %s/%s: %s",
		                 fc->directory, BW_FLOOD_STATE, bw_strerror(rc));
		return rc;
	}
	if (rules != fc->rules)
		memmove(fc->rules, rules, n * sizeof(*rules));
	fc->nrules = n;
	fc->db = db;
	rc = publish(fc, old);
	if (rc != 0)
		bw_ctl_error_set(e, BW_CTL_EINTERNAL, "out of memory");
	return rc;
}

int bw_floodctl_filter_add(struct bw_floodctl *fc, const struct bw_json *args,
                           struct bw_json **result, struct bw_ctl_error *e)
{
	struct bw_filter_rule *rules = calloc(BW_FILTER_RULES_MAX, sizeof(*rules));
	int rc = BW_EINVAL;

	if (rules == NULL) {
		bw_ctl_error_set(e, BW_CTL_EINTERNAL, "out of memory");
		return BW_ENOMEM;
	}
	pthread_mutex_lock(&fc->mu);
	memcpy(rules, fc->rules, fc->nrules * sizeof(*rules));
	if (fc->nrules >= BW_FILTER_RULES_MAX) {
		bw_ctl_error_set(e, BW_CTL_EARG, "%u filters already: delete one first",
		                 BW_FILTER_RULES_MAX);
	} else if (rule_parse(args, &rules[fc->nrules], e)) {
		rules[fc->nrules].id = fc->next_id;
		rc = rules_replace(fc, rules, fc->nrules + 1, e);
	}
	if (rc == 0) {
		*result = rule_json(&fc->rules[fc->nrules - 1], false);
		bw_json_set_u64(*result, "filters", fc->nrules);
		bw_log(LOG_NOTICE, "flood: filter %u added: %s %s", fc->next_id,
		       bw_filter_action_names[fc->rules[fc->nrules - 1].action],
		       fc->rules[fc->nrules - 1].pattern);
		fc->next_id++;
	}
	pthread_mutex_unlock(&fc->mu);
	free(rules);
	return rc;
}

int bw_floodctl_filter_del(struct bw_floodctl *fc, const struct bw_json *args,
                           struct bw_json **result, struct bw_ctl_error *e)
{
	struct bw_filter_rule *rules = calloc(BW_FILTER_RULES_MAX, sizeof(*rules));
	uint64_t id = 0;
	size_t n = 0;
	int rc = BW_EINVAL;

	if (rules == NULL || bw_json_get_u64(args, "id", &id) != 0) {
		bw_ctl_error_set(e, rules ? BW_CTL_EARG : BW_CTL_EINTERNAL,
		                 rules ? "'id' must be a filter number" : "out of memory");
		free(rules);
		return rules ? BW_EINVAL : BW_ENOMEM;
	}
	pthread_mutex_lock(&fc->mu);
	for (size_t i = 0; i < fc->nrules; i++)
		if (fc->rules[i].id != id)
			rules[n++] = fc->rules[i];
	if (n == fc->nrules)
		bw_ctl_error_set(e, BW_CTL_EARG, "no filter %" PRIu64, id);
	else
		rc = rules_replace(fc, rules, n, e);
	if (rc == 0) {
		*result = bw_json_obj();
		bw_json_set_u64(*result, "deleted", id);
		bw_json_set_u64(*result, "filters", fc->nrules);
		bw_log(LOG_NOTICE, "flood: filter %" PRIu64 " deleted", id);
	}
	pthread_mutex_unlock(&fc->mu);
	free(rules);
	return rc;
}

struct bw_json *bw_floodctl_filter_list(struct bw_floodctl *fc)
{
	struct bw_json *o = bw_json_obj(), *arr = bw_json_arr();

	pthread_mutex_lock(&fc->mu);
	for (size_t i = 0; i < fc->nrules; i++)
		bw_json_push(arr, rule_json(&fc->rules[i], false));
	pthread_mutex_unlock(&fc->mu);
	bw_json_set(o, "filters", arr);
	return o;
}

/* ---- Cookie secrets. ---- */

/* A secret's fingerprint: enough to compare hosts, useless to forge. */
static void fingerprint(const struct bw_cookie_secret *s, char out[17])
{
	static const uint8_t zero[16];
	uint8_t h[8];

	bw_siphash24(s->key, zero, sizeof(zero), h);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static struct bw_json *keys_json(const struct bw_cookie_keys *k)
{
	struct bw_json *o = bw_json_obj();
	char fp[17];

	fingerprint(&k->cur, fp);
	bw_json_set_str(o, "current", fp);
	if (k->has_prev) {
		fingerprint(&k->prev, fp);
		bw_json_set_str(o, "previous", fp);
	} else {
		bw_json_set(o, "previous", bw_json_null());
	}
	return o;
}

int bw_floodctl_cookie_secret(struct bw_floodctl *fc, const struct bw_json *args,
                              struct bw_json **result, struct bw_ctl_error *e)
{
	const char *hex = bw_json_get_str(args, "secret");
	const struct bw_json *drop = bw_json_get(args, "drop-previous");
	struct bw_cookie_keys k;
	int rc = 0;

	pthread_mutex_lock(&fc->mu);
	k = fc->keys;
	if (hex != NULL) {
		k.prev = k.cur;
		k.has_prev = true;
		if (bw_cookie_secret_parse(hex, &k.cur) != 0) {
			bw_ctl_error_set(e, BW_CTL_EARG, "'secret' must be 32 hexadecimal "
			                 "digits (siphash24)");
			rc = BW_EINVAL;
		}
	}
	if (rc == 0 && drop != NULL && drop->type == BW_JSON_BOOL && drop->b)
		k.has_prev = false;
	if (rc == 0 && (hex != NULL || drop != NULL) &&
	    (rc = state_save(fc, fc->rules, fc->nrules, &k, true)) != 0)
		bw_ctl_error_set(e, BW_CTL_EINTERNAL, "cannot write %s/%s: %s",
		                 fc->directory, BW_FLOOD_STATE, bw_strerror(rc));
	if (rc == 0 && (hex != NULL || drop != NULL)) {
		fc->keys = k;
		fc->keys_from_state = true;
		rc = publish(fc, NULL);
		bw_log(LOG_NOTICE, "flood: cookie secret %s", hex ? "rolled over" :
		       "previous secret dropped");
	}
	if (rc == 0)
		*result = keys_json(&fc->keys);
	pthread_mutex_unlock(&fc->mu);
	return rc;
}
