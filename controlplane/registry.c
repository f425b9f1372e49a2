/*  bulwark — the zone registry.
 *
 *  The zones are an array sorted by name (canonical order).  A change
 *  copies the array, puts new zone versions in or takes zones out, writes
 *  the state file for the result, publishes a zone set built over it, and
 *  only then swaps the array and closes the tables nobody uses any more.
 *  A zone version is immutable once published; a new version shares the
 *  counter rows of the one it replaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bulwark/compile.h"
#include "bulwark/err.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "bulwark/zoneset.h"
#include "ctl_proto.h"
#include "log.h"
#include "registry.h"
#include "statefile.h"

enum zone_source { SRC_CONFIG = 0, SRC_CONTROL };

/* What identifies a file's content without reading it. */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct zone {
	uint8_t apex[BW_NAME_MAXLEN];
	char name[BW_NAME_MAXTEXT];
	struct bw_table *table;
	char *path;                    /* Table file or zone file. */
	bool compiled;                 /* path is a zone file. */
	enum zone_source source;
	bool in_conf;                  /* A zone statement names it. */
	struct file_id id;
	time_t loaded;
	struct bw_zone_stats *stats;   /* Shared by the zone's versions. */
	uint64_t *base;                /* Baselines of stats --reset (shared). */
};

struct bw_registry {
	pthread_mutex_t op;            /* Serializes changes. */
	pthread_mutex_t lock;          /* Guards zones/n for readers. */
	char *directory;
	unsigned slots;
	struct zone **zones;           /* Sorted by apex. */
	size_t n;
	uint8_t (*unloaded)[BW_NAME_MAXLEN];  /* Config zones unloaded with
	                                         zone-unload. */
	size_t nunloaded;
	struct bw_zoneset *zs;         /* Published. */
	uint64_t publications;
};

/* A change being prepared: the zone array it will publish. */
struct change {
	struct zone **v;
	size_t n;
	struct zone **old;             /* Versions to free after publishing. */
	size_t nold;
	struct zone **fresh;           /* Versions this change created. */
	size_t nfresh;
	bool failed;
	bool unloaded_changed;
	uint8_t (*unloaded)[BW_NAME_MAXLEN];
	size_t nunloaded;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bw_reg_zone_text(const uint8_t *apex, char *out, size_t cap)
{
	if (bw_name_to_text(out, cap, apex) < 0)
		snprintf(out, cap, "?");
}

/* ---- Zone versions. ---- */

static void zone_free(struct zone *z, bool with_stats)
{
	if (z == NULL)
		return;
	bw_table_close(z->table);
	if (with_stats) {
		free(z->stats);
		free(z->base);
	}
	free(z->path);
	free(z);
}

static int file_id_of(const char *path, struct file_id *id)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -errno;
	*id = (struct file_id){ .dev = st.st_dev, .ino = st.st_ino,
	                        .size = st.st_size, .mtime = st.st_mtim };
	return 0;
}

static bool file_id_same(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int compile_table(const char *path, const uint8_t *apex,
                         struct bw_table **out, struct bw_ctl_error *e)
{
	struct bw_diag d = { .emit = bw_log_diag };
	struct bw_compile_opts opts = { .origin = apex };
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = bw_compile_file(path, &opts, &d, &buf, &len);

	if (rc != 0) {
		if (d.first_msg[0] != '\0')
			bw_ctl_error_set(e, BW_CTL_ETABLE, "%s:%u: %s", d.first_file,
			          d.first_line, d.first_msg);
		else
			bw_ctl_error_set(e, BW_CTL_ETABLE, "%s: %s", path, bw_strerror(rc));
		return rc;
	}
	rc = bw_table_from_mem(buf, len, true, out, e->msg, sizeof(e->msg));
	if (rc != 0)
		e->code = BW_CTL_ETABLE;
	return rc;
}

static int open_table(const char *path, struct bw_table **out,
                      struct bw_ctl_error *e)
{
	int rc = bw_table_open(path, out, e->msg, sizeof(e->msg));

	if (rc == 0)
		return 0;
	e->code = rc == BW_ENOMEM ? BW_CTL_EINTERNAL : BW_CTL_ETABLE;
	if (strstr(e->msg, path) == NULL) {
		char reason[sizeof(e->msg)];

		snprintf(reason, sizeof(reason), "%s", e->msg[0] != '\0' ? e->msg :
		         bw_strerror(rc));
		snprintf(e->msg, sizeof(e->msg), "%s: %.400s", path, reason);
	}
	return rc;
}

/*
 * Opens a new version of the zone \a apex from \a path (a table, or a zone
 * file to compile); checks that it holds that zone.
 */
static int zone_open(const uint8_t *apex,
                     const char *path, bool compiled, enum zone_source src,
                     struct zone **out, struct bw_ctl_error *e)
{
	struct zone *z = calloc(1, sizeof(*z));
	int rc;

	if (z == NULL || (z->path = strdup(path)) == NULL) {
		free(z);
		bw_ctl_error_set(e, BW_CTL_EINTERNAL, "out of memory");
		return BW_ENOMEM;
	}
	memcpy(z->apex, apex, bw_name_len(apex));
	bw_reg_zone_text(apex, z->name, sizeof(z->name));
	z->compiled = compiled;
	z->source = src;
	rc = file_id_of(path, &z->id);
	if (rc != 0)
		bw_ctl_error_set(e, BW_CTL_ETABLE, "%s: %s", path, strerror(-rc));
	else
		rc = compiled ? compile_table(path, apex, &z->table, e) :
		     open_table(path, &z->table, e);
	if (rc == 0 && !bw_name_equal(bw_table_apex(z->table), apex)) {
		char held[BW_NAME_MAXTEXT];

		bw_reg_zone_text(bw_table_apex(z->table), held, sizeof(held));
		bw_ctl_error_set(e, BW_CTL_EMISMATCH, "%s holds zone %s, not %s", path,
		          held, z->name);
		rc = BW_EZONE;
	}
	if (rc != 0) {
		zone_free(z, true);
		return rc;
	}
	z->loaded = time(NULL);
	*out = z;
	return 0;
}

/* Gives \a z the counters of \a prev, or new ones. */
static int zone_stats(struct bw_registry *r, struct zone *z,
                      const struct zone *prev)
{
	if (prev != NULL) {
		z->stats = prev->stats;
		z->base = prev->base;
	} else {
		z->stats = aligned_alloc(64, r->slots * sizeof(*z->stats));
		z->base = calloc(BW_ZSTAT_MAX, sizeof(*z->base));
		if (z->stats == NULL || z->base == NULL)
			return BW_ENOMEM;
		memset(z->stats, 0, r->slots * sizeof(*z->stats));
	}
	bw_table_set_stats(z->table, z->stats, r->slots);
	return 0;
}

/* ---- Lookup in a sorted zone array. ---- */

/* Index of \a apex in \a v, or where it would go (with *found false). */
static size_t find(struct zone *const *v, size_t n, const uint8_t *apex,
                   bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bw_name_cmp(v[mid]->apex, apex);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int parse_zone(const char *text, uint8_t *apex, struct bw_ctl_error *e)
{
	int rc = text != NULL ? bw_name_from_text(apex, text, strlen(text),
	                                          (const uint8_t *)"") : BW_EINVAL;

	if (rc < 0) {
		bw_ctl_error_set(e, BW_CTL_EARG, "'%s' is not a valid zone name",
		          text != NULL ? text : "");
		return BW_EINVAL;
	}
	bw_name_lower(apex);
	return 0;
}

/* ---- Changes. ---- */

static bool push(struct zone ***v, size_t *n, struct zone *z)
{
	struct zone **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return false;
	nv[(*n)++] = z;
	*v = nv;
	return true;
}

static void change_begin(struct bw_registry *r, struct change *c)
{
	memset(c, 0, sizeof(*c));
	c->v = malloc((r->n + 1) * sizeof(*c->v));
	c->unloaded = malloc((r->nunloaded + 1) * sizeof(*c->unloaded));
	if (c->v == NULL || c->unloaded == NULL) {
		c->failed = true;
		return;
	}
	if (r->n > 0)
		memcpy(c->v, r->zones, r->n * sizeof(*c->v));
	c->n = r->n;
	if (r->nunloaded > 0)
		memcpy(c->unloaded, r->unloaded, r->nunloaded * sizeof(*c->unloaded));
	c->nunloaded = r->nunloaded;
}

static ssize_t unloaded_find(const struct change *c, const uint8_t *apex)
{
	for (size_t i = 0; i < c->nunloaded; i++)
		if (bw_name_equal(c->unloaded[i], apex))
			return (ssize_t)i;
	return -1;
}

static void unloaded_drop(struct change *c, const uint8_t *apex)
{
	ssize_t i = unloaded_find(c, apex);

	if (i < 0)
		return;
	memmove(c->unloaded[i], c->unloaded[c->nunloaded - 1], BW_NAME_MAXLEN);
	c->nunloaded--;
	c->unloaded_changed = true;
}

static void unloaded_add(struct change *c, const uint8_t *apex)
{
	void *nu;

	if (unloaded_find(c, apex) >= 0)
		return;
	nu = realloc(c->unloaded, (c->nunloaded + 1) * sizeof(*c->unloaded));
	if (nu == NULL) {
		c->failed = true;
		return;
	}
	c->unloaded = nu;
	memcpy(c->unloaded[c->nunloaded++], apex, bw_name_len(apex));
	c->unloaded_changed = true;
}

/* The current version of \a apex in the change, or NULL. */
static struct zone *change_get(const struct change *c, const uint8_t *apex)
{
	bool found;
	size_t at = find(c->v, c->n, apex, &found);

	return found ? c->v[at] : NULL;
}

/* Puts a new version in; the one it replaces (if any) is retired. */
static void change_put(struct bw_registry *r, struct change *c, struct zone *z)
{
	bool found;
	size_t at = find(c->v, c->n, z->apex, &found);
	struct zone **nv;

	if (c->failed || !push(&c->fresh, &c->nfresh, z) ||
	    zone_stats(r, z, found ? c->v[at] : NULL) != 0) {
		c->failed = true;
		return;
	}
	z->in_conf = z->source == SRC_CONFIG || (found && c->v[at]->in_conf);
	if (found) {
		if (!push(&c->old, &c->nold, c->v[at]))
			c->failed = true;
		c->v[at] = z;
		return;
	}
	nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		c->failed = true;
		return;
	}
	memmove(nv + at + 1, nv + at, (c->n - at) * sizeof(*nv));
	nv[at] = z;
	c->v = nv;
	c->n++;
}

/* Takes the zone out; false when it is not there. */
static bool change_del(struct change *c, const uint8_t *apex)
{
	bool found;
	size_t at = find(c->v, c->n, apex, &found);

	if (!found)
		return false;
	if (!push(&c->old, &c->nold, c->v[at]))
		c->failed = true;
	memmove(c->v + at, c->v + at + 1, (c->n - at - 1) * sizeof(*c->v));
	c->n--;
	return true;
}

/* Whether the counters of a retired version live on in \a v. */
static bool stats_kept(struct zone *const *v, size_t n, const struct zone *z)
{
	bool found;
	size_t at = find(v, n, z->apex, &found);

	return found && v[at]->stats == z->stats;
}

static void change_end(struct change *c)
{
	free(c->v);
	free(c->old);
	free(c->fresh);
	free(c->unloaded);
}

/* Undoes a change that was not published. */
static void change_abort(struct change *c)
{
	for (size_t i = 0; i < c->nfresh; i++) {
		struct zone *z = c->fresh[i];
		bool shared = false;

		/* A new version that replaced another shares its counters. */
		for (size_t k = 0; k < c->nold; k++)
			shared |= c->old[k]->stats == z->stats;
		zone_free(z, !shared);
	}
	change_end(c);
}

/* ---- The state file. ---- */

static void set_checksum(struct bw_json *o, const struct bw_table *t)
{
	char hex[17];

	snprintf(hex, sizeof(hex), "%016" PRIx64, bw_table_checksum(t));
	bw_json_set_str(o, "checksum", hex);
}

static struct bw_json *state_json(const struct change *c)
{
	struct bw_json *doc = bw_json_obj(), *zones = bw_json_arr();
	struct bw_json *unl = bw_json_arr();
	char name[BW_NAME_MAXTEXT];

	bw_json_set_u64(doc, "version", 1);
	for (size_t i = 0; i < c->n; i++) {
		const struct zone *z = c->v[i];
		struct bw_json *e;

		if (z->source != SRC_CONTROL)
			continue;
		e = bw_json_obj();
		bw_json_set_str(e, "zone", z->name);
		bw_json_set_str(e, "table", z->path);
		bw_json_set_u64(e, "serial", bw_table_serial(z->table));
		set_checksum(e, z->table);
		bw_json_push(zones, e);
	}
	for (size_t i = 0; i < c->nunloaded; i++) {
		bw_reg_zone_text(c->unloaded[i], name, sizeof(name));
		bw_json_push(unl, bw_json_str(name));
	}
	bw_json_set(doc, "zones", zones);
	bw_json_set(doc, "unloaded", unl);
	return doc;
}

/* Records the zones that a change leaves loaded and unloaded. */
static int state_write(struct bw_registry *r, const struct change *c,
                       struct bw_ctl_error *e)
{
	struct bw_json *doc = state_json(c);
	int rc = doc != NULL ? bw_state_write(r->directory, BW_REG_STATE, doc, 0640)
	                     : BW_ENOMEM;

	bw_json_free(doc);
	if (rc != 0)
		bw_ctl_error_set(e, BW_CTL_EINTERNAL, "cannot write %s/%s: %s",
		          r->directory, BW_REG_STATE, bw_strerror(rc));
	return rc;
}

/* ---- Publication. ---- */

/*
 * Publishes the change: writes the state file when it records something
 * new, builds and publishes the set, then frees what the old set held.
 * \a state: write the state file.  \a grace set to the seconds the
 * publication took (swap and grace period).
 */
static int change_commit(struct bw_registry *r, struct change *c, bool state,
                         double *grace, struct bw_ctl_error *e)
{
	struct bw_table **tables = NULL;
	struct bw_zoneset *zs = NULL, *old;
	double t0;

	if (!c->failed && (tables = malloc((c->n + 1) * sizeof(*tables))) != NULL) {
		for (size_t i = 0; i < c->n; i++)
			tables[i] = c->v[i]->table;
		zs = bw_zoneset_new(tables, c->n);
	}
	free(tables);
	if (zs == NULL) {
		bw_ctl_error_set(e, BW_CTL_EINTERNAL, "out of memory");
		change_abort(c);
		return BW_ENOMEM;
	}
	if (state && r->directory != NULL && state_write(r, c, e) != 0) {
		bw_zoneset_free(zs);
		change_abort(c);
		return BW_EIO;
	}
	t0 = now_seconds();
	old = bw_zoneset_publish(zs);  /* Returns once no worker uses old. */
	if (grace != NULL)
		*grace = now_seconds() - t0;

	pthread_mutex_lock(&r->lock);
	struct zone **retired = r->zones;
	r->zones = c->v;
	r->n = c->n;
	c->v = retired;
	free(r->unloaded);
	r->unloaded = c->unloaded;
	r->nunloaded = c->nunloaded;
	c->unloaded = NULL;
	r->zs = zs;
	r->publications++;
	pthread_mutex_unlock(&r->lock);

	bw_zoneset_free(old);
	/* Retired: versions the old set held, and versions this change made
	 * and then replaced (a state file entry over a config zone). */
	for (size_t i = 0; i < c->nold; i++)
		zone_free(c->old[i], !stats_kept(r->zones, r->n, c->old[i]));
	change_end(c);
	return 0;
}

/* ---- Construction. ---- */

struct bw_registry *bw_reg_new(const char *directory, unsigned slots)
{
	struct bw_registry *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (directory != NULL && (r->directory = strdup(directory)) == NULL) {
		free(r);
		return NULL;
	}
	r->slots = slots > 0 ? slots : 1;
	pthread_mutex_init(&r->op, NULL);
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void bw_reg_free(struct bw_registry *r)
{
	if (r == NULL)
		return;
	bw_zoneset_free(bw_zoneset_publish(NULL));
	for (size_t i = 0; i < r->n; i++)
		zone_free(r->zones[i], true);
	free(r->zones);
	free(r->unloaded);
	free(r->directory);
	pthread_mutex_destroy(&r->op);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void log_loaded(const struct zone *z, const char *how)
{
	bw_log(LOG_INFO, "zone %s: serial %u, %zu names, %s %s%s", z->name,
	       bw_table_serial(z->table), bw_table_nodes(z->table), how, z->path,
	       z->compiled ? " (compiled)" : "");
}

/* Loads a `zone` statement into the change; logs a failure. */
static bool put_conf_zone(struct bw_registry *r, struct change *c,
                          const struct bw_conf_zone *cz,
                          struct bw_ctl_error *e)
{
	const char *path = cz->table != NULL ? cz->table : cz->file;
	struct zone *z;

	if (zone_open(cz->apex, path, cz->file != NULL, SRC_CONFIG, &z, e) != 0) {
		bw_log(LOG_ERR, "zone %s (%s:%u): %s", cz->name, cz->src, cz->line,
		       e->msg);
		return false;
	}
	change_put(r, c, z);
	log_loaded(z, "from");
	return true;
}

/* Applies one zones entry of the state file. */
static bool state_zone(struct bw_registry *r, struct change *c,
                       const struct bw_json *ent)
{
	const char *name = bw_json_get_str(ent, "zone");
	const char *path = bw_json_get_str(ent, "table");
	uint8_t apex[BW_NAME_MAXLEN];
	struct bw_ctl_error e = { 0 };
	struct zone *z;

	if (path == NULL || parse_zone(name, apex, &e) != 0) {
		bw_log(LOG_ERR, "%s: an entry without a valid zone and table: "
		       "skipped", BW_REG_STATE);
		return false;
	}
	if (zone_open(apex, path, false, SRC_CONTROL, &z, &e) != 0) {
		bw_log(LOG_ERR, "zone %s (from %s): %s; skipped", name,
		       BW_REG_STATE, e.msg);
		return false;
	}
	change_put(r, c, z);
	log_loaded(z, "as loaded by zone-load from");
	return true;
}

static void state_unloaded(struct change *c, const struct bw_json *name)
{
	uint8_t apex[BW_NAME_MAXLEN];
	struct bw_ctl_error e = { 0 };

	if (name->type != BW_JSON_STR || parse_zone(name->str, apex, &e) != 0)
		return;
	if (change_del(c, apex))
		bw_log(LOG_INFO, "zone %s: stays unloaded (zone-unload, %s)",
		       name->str, BW_REG_STATE);
	unloaded_add(c, apex);
}

static size_t apply_state(struct bw_registry *r, struct change *c)
{
	struct bw_json *doc = r->directory != NULL ?
	                      bw_state_read(r->directory, BW_REG_STATE) : NULL;
	const struct bw_json *zones = bw_json_get(doc, "zones");
	const struct bw_json *unl = bw_json_get(doc, "unloaded");
	size_t failed = 0;

	if (zones != NULL && zones->type == BW_JSON_ARR)
		for (size_t i = 0; i < zones->n; i++)
			failed += !state_zone(r, c, zones->items[i]);
	if (unl != NULL && unl->type == BW_JSON_ARR)
		for (size_t i = 0; i < unl->n; i++)
			state_unloaded(c, unl->items[i]);
	bw_json_free(doc);
	return failed;
}

size_t bw_reg_start(struct bw_registry *r, const struct bw_conf *conf)
{
	struct bw_ctl_error e = { 0 };
	struct change c;
	size_t failed = 0;

	pthread_mutex_lock(&r->op);
	change_begin(r, &c);
	for (size_t i = 0; i < conf->nzones && !c.failed; i++)
		failed += !put_conf_zone(r, &c, &conf->zones[i], &e);
	failed += apply_state(r, &c);
	/* Skipped entries are dropped from the file at the next change. */
	if (change_commit(r, &c, false, NULL, &e) != 0)
		bw_log(LOG_ERR, "cannot publish the zones: %s", e.msg);
	pthread_mutex_unlock(&r->op);
	if (failed > 0)
		bw_log(LOG_ERR, "%zu zone%s failed to load and %s not served", failed,
		       failed == 1 ? "" : "s", failed == 1 ? "is" : "are");
	return failed;
}

/* ---- Results. ---- */

static struct bw_json *zone_entry(const struct zone *z)
{
	struct bw_json *o = bw_json_obj();

	bw_json_set_str(o, "zone", z->name);
	bw_json_set_u64(o, "serial", bw_table_serial(z->table));
	bw_json_set_u64(o, "names", bw_table_nodes(z->table));
	bw_json_set_u64(o, "size", bw_table_size(z->table));
	bw_json_set_str(o, "source", z->source == SRC_CONFIG ? "config" : "control");
	if (z->compiled) {
		bw_json_set(o, "table", bw_json_null());
		bw_json_set_str(o, "file", z->path);
	} else {
		bw_json_set_str(o, "table", z->path);
	}
	bw_json_set_time(o, "loaded", z->loaded);
	return o;
}

/* Appends a zone's counters (after the baseline of the last reset). */
static void put_counters(struct bw_json *o, const struct zone *z,
                         unsigned slots)
{
	uint64_t sum[BW_ZSTAT_MAX];

	bw_zone_stats_sum(z->stats, slots, sum);
	for (unsigned i = 0; i < BW_ZSTAT_MAX; i++)
		bw_json_set_u64(o, bw_zone_stat_names[i],
		                sum[i] >= z->base[i] ? sum[i] - z->base[i] : 0);
}

struct bw_json *bw_reg_list(struct bw_registry *r)
{
	struct bw_json *res = bw_json_obj(), *arr = bw_json_arr();

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++)
		bw_json_push(arr, zone_entry(r->zones[i]));
	pthread_mutex_unlock(&r->lock);
	bw_json_set(res, "zones", arr);
	return res;
}

static struct bw_json *zone_status(const struct zone *z, unsigned slots)
{
	struct bw_json *o = zone_entry(z);
	uint32_t exp = bw_table_sig_expiry(z->table);

	set_checksum(o, z->table);
	bw_json_set_bool(o, "signed", exp != 0);
	if (exp != 0) {
		bw_json_set_time(o, "expiry", (time_t)exp);
		bw_json_set_i64(o, "expiry_in", (int64_t)exp - (int64_t)time(NULL));
	} else {
		bw_json_set(o, "expiry", bw_json_null());
		bw_json_set(o, "expiry_in", bw_json_null());
	}
	struct bw_json *q = bw_json_obj();
	put_counters(q, z, slots);
	bw_json_set(o, "queries", q);
	return o;
}

int bw_reg_status(struct bw_registry *r, const char *zone,
                  struct bw_json **result, struct bw_ctl_error *e)
{
	uint8_t apex[BW_NAME_MAXLEN];
	bool found;
	size_t at;

	if (parse_zone(zone, apex, e) != 0)
		return BW_EINVAL;
	pthread_mutex_lock(&r->lock);
	at = find(r->zones, r->n, apex, &found);
	if (found)
		*result = zone_status(r->zones[at], r->slots);
	pthread_mutex_unlock(&r->lock);
	if (!found) {
		bw_ctl_error_set(e, BW_CTL_ENOZONE, "zone %s is not loaded", zone);
		return BW_ENOENT;
	}
	return 0;
}

void bw_reg_stats(struct bw_registry *r, struct bw_json *arr)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++) {
		struct bw_json *row = bw_json_obj();

		/* The zone first: it labels the row. */
		bw_json_set_str(row, "zone", r->zones[i]->name);
		put_counters(row, r->zones[i], r->slots);
		bw_json_push(arr, row);
	}
	pthread_mutex_unlock(&r->lock);
}

void bw_reg_stats_reset(struct bw_registry *r)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++)
		bw_zone_stats_sum(r->zones[i]->stats, r->slots, r->zones[i]->base);
	pthread_mutex_unlock(&r->lock);
}

size_t bw_reg_count(struct bw_registry *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

uint64_t bw_reg_publications(struct bw_registry *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	n = r->publications;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* ---- zone-load, zone-unload. ---- */

static char *absolute(const struct bw_registry *r, const char *path)
{
	size_t len;
	char *p;

	if (path[0] == '/' || r->directory == NULL)
		return strdup(path);
	len = strlen(r->directory) + strlen(path) + 2;
	p = malloc(len);
	if (p != NULL)
		snprintf(p, len, "%s/%s", r->directory, path);
	return p;
}

static struct bw_json *load_result(const struct zone *z, double verify,
                                   double grace)
{
	struct bw_json *o = bw_json_obj();

	bw_json_set_str(o, "zone", z->name);
	bw_json_set_u64(o, "serial", bw_table_serial(z->table));
	bw_json_set_u64(o, "names", bw_table_nodes(z->table));
	bw_json_set_u64(o, "size", bw_table_size(z->table));
	set_checksum(o, z->table);
	bw_json_set(o, "verify_seconds", bw_json_f64(verify, 6));
	bw_json_set(o, "publish_seconds", bw_json_f64(grace, 6));
	return o;
}

int bw_reg_load(struct bw_registry *r, const char *zone, const char *path,
                struct bw_json **result, struct bw_ctl_error *e)
{
	uint8_t apex[BW_NAME_MAXLEN];
	char *abs = NULL;
	struct zone *z = NULL, *prev;
	struct change c;
	uint32_t prev_serial = 0;
	double t0 = now_seconds(), verify, grace = 0;
	int rc;

	if (parse_zone(zone, apex, e) != 0)
		return BW_EINVAL;
	if ((abs = absolute(r, path)) == NULL) {
		bw_ctl_error_set(e, BW_CTL_EINTERNAL, "out of memory");
		return BW_ENOMEM;
	}
	/* Verified before taking the lock: readers never wait for it. */
	rc = zone_open(apex, abs, false, SRC_CONTROL, &z, e);
	free(abs);
	if (rc != 0)
		return rc;
	verify = now_seconds() - t0;

	pthread_mutex_lock(&r->op);
	change_begin(r, &c);
	prev = change_get(&c, apex);
	if (prev != NULL)
		prev_serial = bw_table_serial(prev->table);
	unloaded_drop(&c, apex);
	change_put(r, &c, z);
	rc = change_commit(r, &c, true, &grace, e);
	if (rc == 0) {
		/* Still under r->op: no other change can retire z yet. */
		*result = load_result(z, verify, grace);
		bw_json_set(*result, "previous_serial", prev != NULL ?
		            bw_json_u64(prev_serial) : bw_json_null());
		bw_log(LOG_NOTICE, "zone %s: serial %u loaded from %s (zone-load; "
		       "verified in %.3f s, published in %.6f s)", z->name,
		       bw_table_serial(z->table), z->path, verify, grace);
	}
	pthread_mutex_unlock(&r->op);
	return rc;
}

int bw_reg_unload(struct bw_registry *r, const char *zone,
                  struct bw_json **result, struct bw_ctl_error *e)
{
	uint8_t apex[BW_NAME_MAXLEN];
	struct change c;
	struct zone *z;
	uint32_t serial;
	int rc;

	if (parse_zone(zone, apex, e) != 0)
		return BW_EINVAL;
	pthread_mutex_lock(&r->op);
	change_begin(r, &c);
	z = change_get(&c, apex);
	if (z == NULL) {
		change_abort(&c);
		pthread_mutex_unlock(&r->op);
		bw_ctl_error_set(e, BW_CTL_ENOZONE, "zone %s is not loaded", zone);
		return BW_ENOENT;
	}
	serial = bw_table_serial(z->table);
	/* A config zone stays out until reload changes it or zone-load. */
	if (z->in_conf)
		unloaded_add(&c, apex);
	(void)change_del(&c, apex);
	rc = change_commit(r, &c, true, NULL, e);
	pthread_mutex_unlock(&r->op);
	if (rc != 0)
		return rc;
	*result = bw_json_obj();
	char name[BW_NAME_MAXTEXT];

	bw_reg_zone_text(apex, name, sizeof(name));
	bw_json_set_str(*result, "zone", name);
	bw_json_set_u64(*result, "serial", serial);
	bw_log(LOG_NOTICE, "zone %s: unloaded (zone-unload)", name);
	return 0;
}

/* ---- reload. ---- */

static const struct bw_conf_zone *conf_zone(const struct bw_conf *c,
                                            const uint8_t *apex)
{
	for (size_t i = 0; c != NULL && i < c->nzones; i++)
		if (bw_name_equal(c->zones[i].apex, apex))
			return &c->zones[i];
	return NULL;
}

static const char *conf_zone_path(const struct bw_conf_zone *z)
{
	return z->table != NULL ? z->table : z->file;
}

/* Whether the running version of a config zone is out of date. */
static bool zone_stale(const struct zone *cur, const struct bw_conf_zone *nz)
{
	struct file_id id = { 0 };

	if (strcmp(cur->path, conf_zone_path(nz)) != 0 ||
	    cur->compiled != (nz->file != NULL))
		return true;
	return file_id_of(cur->path, &id) != 0 || !file_id_same(&id, &cur->id);
}

struct reload_out {
	struct bw_json *added, *removed, *changed, *failed;
	uint64_t unchanged;
};

static void reload_one(struct bw_registry *r, struct change *c,
                       const struct bw_conf_zone *nz,
                       const struct bw_conf_zone *pz, struct reload_out *o)
{
	struct zone *cur = change_get(c, nz->apex);
	bool edited = pz == NULL || !pz->table != !nz->table ||
	              strcmp(conf_zone_path(pz), conf_zone_path(nz)) != 0;
	struct bw_ctl_error e = { 0 };
	char name[BW_NAME_MAXTEXT];

	bw_reg_zone_text(nz->apex, name, sizeof(name));
	if (!edited && (cur == NULL || cur->source == SRC_CONTROL ||
	                !zone_stale(cur, nz))) {
		o->unchanged++;  /* Also: unloaded or overridden, left alone. */
		return;
	}
	if (!put_conf_zone(r, c, nz, &e)) {
		struct bw_json *f = bw_json_obj();

		bw_json_set_str(f, "zone", name);
		bw_json_set_str(f, "error", e.msg);
		bw_json_push(o->failed, f);
		return;
	}
	unloaded_drop(c, nz->apex);
	bw_json_push(cur == NULL ? o->added : o->changed, bw_json_str(name));
}

int bw_reg_reload(struct bw_registry *r, const struct bw_conf *prev,
                  const struct bw_conf *next, struct bw_json **result,
                  struct bw_ctl_error *e)
{
	struct reload_out o = { bw_json_arr(), bw_json_arr(), bw_json_arr(),
	                        bw_json_arr(), 0 };
	char name[BW_NAME_MAXTEXT];
	struct change c;
	int rc;

	pthread_mutex_lock(&r->op);
	change_begin(r, &c);
	for (size_t i = 0; i < next->nzones && !c.failed; i++)
		reload_one(r, &c, &next->zones[i],
		           conf_zone(prev, next->zones[i].apex), &o);
	for (size_t i = 0; prev != NULL && i < prev->nzones; i++) {
		const uint8_t *apex = prev->zones[i].apex;
		struct zone *cur = change_get(&c, apex);

		if (conf_zone(next, apex) != NULL)
			continue;
		unloaded_drop(&c, apex);
		if (cur != NULL)
			cur->in_conf = false;  /* Read only under r->op. */
		if (cur == NULL || cur->source != SRC_CONFIG)
			continue;
		(void)change_del(&c, apex);
		bw_reg_zone_text(apex, name, sizeof(name));
		bw_json_push(o.removed, bw_json_str(name));
		bw_log(LOG_INFO, "zone %s: unloaded (no longer in the configuration)",
		       name);
	}
	if (c.failed || c.nfresh > 0 || c.nold > 0 || c.unloaded_changed) {
		rc = change_commit(r, &c, true, NULL, e);
	} else {
		change_abort(&c);  /* Nothing changed: nothing to publish. */
		rc = 0;
	}
	pthread_mutex_unlock(&r->op);
	*result = bw_json_obj();
	bw_json_set(*result, "added", o.added);
	bw_json_set(*result, "removed", o.removed);
	bw_json_set(*result, "changed", o.changed);
	bw_json_set_u64(*result, "unchanged", o.unchanged);
	bw_json_set(*result, "failed", o.failed);
	if (rc != 0) {
		bw_json_free(*result);
		*result = NULL;
	}
	return rc;
}
