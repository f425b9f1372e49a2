/*  bulwark — zone file to table bytes: parse, check, pack.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bulwark/compile.h"
#include "bulwark/err.h"
#include "bulwark/wire.h"
#include "dnssec/chain.h"
#include "dnssec/policy.h"
#include "dnssec/signer.h"
#include "out.h"
#include "pack.h"
#include "parser.h"
#include "zone.h"

struct compile_ctx {
	struct bw_zone *zone;
	struct bw_diag *d;
	bool no_origin_reported;
};

static int on_rr(void *arg, const struct bw_rr *rr)
{
	struct compile_ctx *c = arg;

	if (c->zone == NULL) {
		/* Without -z the zone is named by its first record, the SOA. */
		if (rr->type != BW_TYPE_SOA) {
			if (!c->no_origin_reported)
				bw_diag_report(c->d, BW_DIAG_ERROR, rr->file, rr->line,
				               "the first record is not an SOA and no "
				               "origin was given (-z)");
			c->no_origin_reported = true;
			return 0;
		}
		c->zone = bw_zone_new(rr->owner);
		if (c->zone == NULL)
			return BW_ENOMEM;
	}
	return bw_zone_add(c->zone, rr, c->d);
}

static void count(const struct bw_zone *z, struct bw_compile_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->names = z->nnodes;
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct bw_zone_node *n = &z->nodes[i];
		for (uint16_t t = 0; t < n->nrrsets; t++) {
			const struct bw_zone_rrset *rs = &n->rrsets[t];
			st->records += rs->count;
			for (uint16_t r = 0; r < rs->count; r++)
				st->wire_bytes += n->name_len + 10u + rs->rd[r].len;
		}
	}
}

/* A presigned zone carries its signatures and its denial chain. */
static int check_signed(const struct bw_zone *z, struct bw_diag *d,
                        const char *path)
{
	const struct bw_zone_node *apex = &z->nodes[0];

	if (bw_zone_rrset(apex, BW_TYPE_RRSIG) != NULL &&
	    (bw_zone_rrset(apex, BW_TYPE_NSEC) != NULL ||
	     bw_zone_rrset(apex, BW_TYPE_NSEC3PARAM) != NULL))
		return 0;
	bw_diag_report(d, BW_DIAG_ERROR, path, 0, "--presigned: the zone has no "
	               "RRSIG and NSEC or NSEC3PARAM at its apex");
	return BW_EZONE;
}

static uint32_t now_of(const struct bw_compile_opts *opts)
{
	return opts->now ? opts->now : (uint32_t)time(NULL);
}

#define DAY 86400u

/* Signing as a dnssec-policy says (BIND's "default" without one). */
static int sign(struct bw_zone *z, const struct bw_compile_opts *opts,
                struct bw_diag *d)
{
	struct bw_policy pol;
	int ret = 0;

	bw_policy_default(&pol);
	if (opts->policy_conf != NULL)
		ret = bw_policy_load(opts->policy_conf, opts->policy_name, &pol, d);
	if (ret != 0)
		return ret;
	struct bw_signer_opts so = {
		.keydir = opts->keydir, .now = now_of(opts),
		.validity = pol.signatures_validity,
		.dnskey_validity = pol.signatures_validity_dnskey,
		.dnskey_ttl = pol.dnskey_ttl,
		.nsec3 = pol.nsec3,
		.optout = pol.nsec3_optout,
		.iterations = pol.nsec3_iterations,
		.policy = &pol,
		.threads = opts->threads,
	};
	/* RFC 9276 recommends no salt; a policy's salt is made at random. */
	so.salt_len = pol.nsec3_salt_len;
	if (so.salt_len > 0 && getentropy(so.salt, so.salt_len) != 0)
		return BW_EIO;
	return bw_signer_run(z, &so, d);
}

/* Parses, checks, signs and packs \a path into \a o (none with check_only). */
static int compile(const char *path, const struct bw_compile_opts *opts,
                   struct bw_diag *d, const struct bw_pack_out *o, size_t *len)
{
	struct compile_ctx c = { .d = d };
	struct bw_parse_opts po = {
		.origin = opts->origin,
		.include_depth = opts->include_depth,
	};

	*len = 0;
	if (opts->origin != NULL) {
		c.zone = bw_zone_new(opts->origin);
		if (c.zone == NULL)
			return BW_ENOMEM;
	}
	int ret = bw_parse_file(path, &po, on_rr, &c, d);
	if (ret == 0 && c.zone == NULL) {
		bw_diag_report(d, BW_DIAG_ERROR, path, 0, "no records in the zone");
		ret = BW_EZONE;
	}
	if (ret == 0 && d->errors > 0)
		ret = BW_EZONE;
	if (ret == 0)
		ret = bw_zone_finish(c.zone, d);
	if (ret == 0 && opts->presigned)
		ret = check_signed(c.zone, d, path);
	if (ret == 0 && opts->presigned)
		ret = bw_chain_check_presigned(c.zone, now_of(opts), opts->horizon,
		                               NULL, d);
	if (ret == 0 && opts->keydir != NULL)
		ret = sign(c.zone, opts, d);
	if (ret == 0 && opts->stats != NULL)
		count(c.zone, opts->stats);
	if (ret == 0 && !opts->check_only)
		ret = bw_pack_zone(c.zone, d, o, len);
	if (c.zone != NULL)
		bw_zone_free(c.zone);
	return ret;
}

int bw_compile_file(const char *path, const struct bw_compile_opts *opts,
                    struct bw_diag *d, uint8_t **out, size_t *len)
{
	struct bw_out_mem m;
	struct bw_pack_out o;

	bw_out_mem_init(&m, &o);
	int ret = compile(path, opts, d, &o, len);
	if (ret != 0 || opts->check_only) {
		free(m.data);
		m.data = NULL;
		*len = 0;
	}
	*out = m.data;
	return ret;
}

int bw_compile_to_file(const char *path, const struct bw_compile_opts *opts,
                       struct bw_diag *d, const char *table, size_t *len)
{
	struct bw_out_file f;
	struct bw_pack_out o = { 0 };

	*len = 0;
	if (opts->check_only)
		return compile(path, opts, d, &o, len);
	int ret = bw_out_file_open(&f, table, &o);
	if (ret != 0) {
		bw_diag_report(d, BW_DIAG_ERROR, table, 0, "cannot write the table: %s",
		               bw_strerror(ret));
		return ret;
	}
	ret = compile(path, opts, d, &o, len);
	int cret = bw_out_file_close(&f, ret == 0);
	if (ret == 0 && cret != 0) {
		bw_diag_report(d, BW_DIAG_ERROR, table, 0, "cannot write the table: %s",
		               bw_strerror(cret));
		ret = cret;
	} else if (ret != 0 && d->errors == 0) {
		bw_diag_report(d, BW_DIAG_ERROR, table, 0, "cannot write the table: %s",
		               bw_strerror(ret));
	}
	return ret;
}
