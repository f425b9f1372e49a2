/*  bulwark — signing a checked zone.
 *
 *  The zone is reopened and finished again three times, in place: first
 *  with the DNSKEY RRset (so that the chain's bitmaps know it), then with
 *  the NSEC/NSEC3 chain, and finally with the RRSIGs made by the worker
 *  threads over every authoritative RRset.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "chain.h"
#include "grow.h"
#include "key.h"
#include "policy.h"
#include "sign.h"
#include "signer.h"

#define BACKDATE 3600u   /* Inception before now, for clock skew. */

static bool is_dnssec_type(uint16_t type)
{
	switch (type) {
	case BW_TYPE_RRSIG: case BW_TYPE_NSEC: case BW_TYPE_NSEC3:
	case BW_TYPE_NSEC3PARAM: case BW_TYPE_DNSKEY: case BW_TYPE_CDS:
	case BW_TYPE_CDNSKEY:
		return true;
	default:
		return false;
	}
}

static int add_records(struct bw_zone *dst, const struct bw_rr *rrs, size_t n,
                       struct bw_diag *d)
{
	for (size_t i = 0; i < n; i++) {
		int ret = bw_zone_add(dst, &rrs[i], d);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* The zone finished again with \a extra; \a drop leaves out what the
 * signer makes anew. */
static int rebuild(struct bw_zone *z, bw_zone_drop_fn drop,
                   const struct bw_rr *extra, size_t nextra, struct bw_diag *d)
{
	int ret = bw_zone_reopen(z, drop, nextra);

	if (ret == 0)
		ret = add_records(z, extra, nextra, d);
	if (ret == 0)
		ret = bw_zone_finish(z, d);
	return ret;
}

/* Makes one key of a policy and writes it, as dnssec-policy would. */
static int make_key(const struct bw_zone *z, const struct bw_policy_key *pk,
                    const char *dir, uint32_t now, struct bw_keyset *ks,
                    struct bw_diag *d)
{
	struct bw_key *k = NULL;
	uint16_t flags = (pk->role & BW_KEY_KSK) ? 257 : 256;
	int ret = bw_key_generate(&k, z->apex, pk->alg, pk->bits, flags, now);
	struct bw_key **keys = NULL;

	if (ret == 0)
		ret = bw_key_init_state(k, pk->role, pk->lifetime, now);
	if (ret == 0)
		ret = bw_key_write(k, dir);
	if (ret == 0) {
		keys = realloc(ks->keys, (ks->n + 1) * sizeof(*keys));
		ret = keys ? 0 : BW_ENOMEM;
	}
	if (ret != 0) {
		bw_key_free(k);
		bw_diag_report(d, BW_DIAG_ERROR, dir, 0, "cannot make a key: %s",
		               bw_strerror(ret));
		return ret;
	}
	ks->keys = keys;
	ks->keys[ks->n++] = k;
	char base[256];
	bw_key_basename(k, base, sizeof(base));
	bw_diag_report(d, BW_DIAG_NOTE, dir, 0, "made the key %s", base);
	return 0;
}

/* The zone's keys; a directory without any gets the policy's keys (BIND's
 * default policy: one CSK, ECDSAP256SHA256). */
static int load_keys(const struct bw_zone *z, const struct bw_signer_opts *o,
                     uint32_t now, struct bw_keyset *ks, struct bw_diag *d)
{
	struct bw_policy def;
	const struct bw_policy *pol = o->policy;
	int ret = bw_key_load_dir(o->keydir, z->apex, ks);

	if (ret != 0) {
		bw_diag_report(d, BW_DIAG_ERROR, o->keydir, 0, "cannot read keys: %s",
		               bw_strerror(ret));
		return ret;
	}
	if (pol == NULL) {
		bw_policy_default(&def);
		pol = &def;
	}
	for (size_t i = 0; ks->n == 0 && i < pol->nkeys && ret == 0; i++)
		ret = make_key(z, &pol->keys[i], o->keydir, now, ks, d);
	for (size_t i = 1; i < pol->nkeys && ret == 0 && ks->n == 1; i++)
		ret = make_key(z, &pol->keys[i], o->keydir, now, ks, d);
	return ret;
}

static int dnskey_rrs(const struct bw_zone *z, const struct bw_keyset *ks,
                      uint32_t ttl, struct bw_rr **out)
{
	*out = calloc(ks->n, sizeof(**out));
	if (*out == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < ks->n; i++) {
		(*out)[i] = (struct bw_rr){
			.owner = z->apex, .type = BW_TYPE_DNSKEY, .cls = BW_CLASS_IN,
			.ttl = ttl, .rdlen = ks->keys[i]->rdlen, .rdata = ks->keys[i]->rdata,
		};
	}
	return 0;
}

/* ---- Signing every RRset, on several threads. ---- */

struct sig_out {
	size_t node;
	size_t off;            /* In the worker's byte buffer. */
	uint32_t ttl;
	uint16_t len;
};

struct worker {
	pthread_t thread;
	const struct bw_zone *z;
	const struct bw_keyset *ks;
	const struct bw_signer_opts *o;
	uint32_t now;
	size_t from, to;       /* Nodes [from, to). */
	struct sig_out *sigs;
	size_t nsigs, capsigs;
	uint8_t *bytes;
	size_t nbytes, capbytes;
	int ret;
};

/* Authoritative RRsets are signed; not glue, not NS at a cut. */
static bool needs_signature(const struct bw_zone_node *n, uint16_t type)
{
	if (type == BW_TYPE_RRSIG || (n->flags & BW_ZN_GLUE))
		return false;
	if (n->flags & BW_ZN_DELEG)
		return type == BW_TYPE_DS || type == BW_TYPE_NSEC;
	return true;
}

static bool can_sign(const struct bw_key *k)
{
	return k->has_private && !(k->flags & 0x0080);  /* Not revoked. */
}

/* The roles a key plays: as dnssec-signzone does, a KSK signs everything
 * when its algorithm has no ZSK, and a ZSK signs the key set when there
 * is no KSK. */
static enum bw_key_role effective_role(const struct bw_keyset *ks,
                                       const struct bw_key *k)
{
	enum bw_key_role role = bw_key_role(k), others = 0;

	for (size_t i = 0; i < ks->n; i++) {
		if (ks->keys[i]->alg == k->alg && can_sign(ks->keys[i]))
			others |= bw_key_role(ks->keys[i]);
	}
	if (!(others & BW_KEY_ZSK))
		role |= BW_KEY_ZSK;
	if (!(others & BW_KEY_KSK))
		role |= BW_KEY_KSK;
	return role;
}

static bool key_signs(const struct bw_keyset *ks, const struct bw_key *k,
                      uint16_t type)
{
	bool apex_key_set = type == BW_TYPE_DNSKEY || type == BW_TYPE_CDS ||
	                    type == BW_TYPE_CDNSKEY;
	enum bw_key_role role = effective_role(ks, k);

	if (!can_sign(k))
		return false;
	return apex_key_set ? (role & BW_KEY_KSK) != 0 : (role & BW_KEY_ZSK) != 0;
}

/* Expirations spread over the last quarter of the validity, by a hash
 * of the owner and type, so that re-signing does not come all at once. */
static uint32_t expiration(const struct bw_signer_opts *o, uint32_t now,
                           const uint8_t *owner, uint16_t type)
{
	uint32_t validity = (type == BW_TYPE_DNSKEY || type == BW_TYPE_CDS ||
	                     type == BW_TYPE_CDNSKEY) ? o->dnskey_validity : o->validity;
	uint64_t h = bw_hash_name(owner) ^ type;

	return now + validity - (uint32_t)(bw_hash_mix(h) % (validity / 4 + 1));
}

static int keep_sig(struct worker *w, size_t node, uint32_t ttl,
                    const uint8_t *rd, int len)
{
	if (bw_grow((void **)&w->sigs, &w->capsigs, w->nsigs + 1,
	            sizeof(*w->sigs), 4096) != 0 ||
	    bw_grow((void **)&w->bytes, &w->capbytes, w->nbytes + (size_t)len,
	            1, 1 << 20) != 0)
		return BW_ENOMEM;
	memcpy(w->bytes + w->nbytes, rd, (size_t)len);
	w->sigs[w->nsigs++] = (struct sig_out){ .node = node, .off = w->nbytes,
	                                        .ttl = ttl, .len = (uint16_t)len };
	w->nbytes += (size_t)len;
	return 0;
}

static int sign_rrset(struct worker *w, size_t node, const struct bw_zone_rrset *rs)
{
	const struct bw_zone_node *n = &w->z->nodes[node];
	uint8_t out[BW_RRSIG_FIXED + BW_NAME_MAXLEN + BW_SIG_MAXLEN];
	uint32_t exp = expiration(w->o, w->now, n->name, rs->type);

	for (size_t k = 0; k < w->ks->n; k++) {
		const struct bw_key *key = w->ks->keys[k];
		if (!key_signs(w->ks, key, rs->type))
			continue;
		int len = bw_sign_rrset(key, n->name, rs->type, rs->ttl, rs->rd,
		                        rs->count, w->now - BACKDATE, exp, out,
		                        sizeof(out));
		int ret = len < 0 ? len : keep_sig(w, node, rs->ttl, out, len);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	for (size_t i = w->from; i < w->to && w->ret == 0; i++) {
		const struct bw_zone_node *n = &w->z->nodes[i];
		for (uint16_t t = 0; t < n->nrrsets && w->ret == 0; t++) {
			if (needs_signature(n, n->rrsets[t].type))
				w->ret = sign_rrset(w, i, &n->rrsets[t]);
		}
	}
	return NULL;
}

static unsigned thread_count(const struct bw_signer_opts *o)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = o->threads ? o->threads : (cores > 0 ? (unsigned)cores : 1);
	return n > 64 ? 64 : n;
}

/* Signs all RRsets with the workers; the RRSIGs come back as records. */
static int sign_all(const struct bw_zone *z, const struct bw_keyset *ks,
                    const struct bw_signer_opts *o, uint32_t now,
                    struct worker *w, unsigned nw)
{
	int ret = 0;

	for (unsigned i = 0; i < nw; i++) {
		w[i] = (struct worker){
			.z = z, .ks = ks, .o = o, .now = now,
			.from = z->nnodes * i / nw, .to = z->nnodes * (i + 1) / nw,
		};
		if (pthread_create(&w[i].thread, NULL, work, &w[i]) != 0)
			w[i].ret = BW_ENOMEM, w[i].thread = 0;
	}
	for (unsigned i = 0; i < nw; i++) {
		if (w[i].thread != 0)
			pthread_join(w[i].thread, NULL);
		if (ret == 0)
			ret = w[i].ret;
	}
	return ret;
}

/* The RRSIGs of one worker into the reopened zone, which takes over its
 * byte buffer rather than copying it; the nodes still have their names. */
static int add_worker_sigs(struct bw_zone *z, struct worker *w,
                           struct bw_diag *d)
{
	const uint8_t *bytes = w->bytes;
	int ret = w->bytes != NULL ? bw_zone_adopt(z, w->bytes) : 0;

	w->bytes = NULL;
	for (size_t s = 0; s < w->nsigs && ret == 0; s++) {
		const struct sig_out *so = &w->sigs[s];
		struct bw_rr rr = {
			.owner = z->nodes[so->node].name, .type = BW_TYPE_RRSIG,
			.cls = BW_CLASS_IN, .ttl = so->ttl, .rdlen = so->len,
			.rdata = bytes + so->off,
		};
		ret = bw_zone_add_ref(z, &rr, d);
	}
	free(w->sigs);
	w->sigs = NULL;
	return ret;
}

static int add_chain(struct bw_zone *z, const struct bw_signer_opts *o,
                     struct bw_diag *d)
{
	struct bw_chain chain = { 0 };
	int ret = o->nsec3 ?
		bw_chain_build_nsec3(z, o->salt_len ? o->salt : NULL, o->salt_len,
		                     o->iterations, o->optout, &chain) :
		bw_chain_build_nsec(z, &chain);

	if (ret == 0)
		ret = rebuild(z, NULL, chain.rrs, chain.count, d);
	else
		bw_diag_report(d, BW_DIAG_ERROR, NULL, 0, "cannot build the %s chain: %s",
		               o->nsec3 ? "NSEC3" : "NSEC", bw_strerror(ret));
	bw_chain_free(&chain);
	return ret;
}

static int add_signatures(struct bw_zone *z, const struct bw_keyset *ks,
                          const struct bw_signer_opts *o, uint32_t now,
                          struct bw_diag *d)
{
	unsigned nw = thread_count(o);
	struct worker *w = calloc(nw, sizeof(*w));
	size_t n = 0;

	if (w == NULL)
		return BW_ENOMEM;
	int ret = sign_all(z, ks, o, now, w, nw);
	if (ret != 0)
		bw_diag_report(d, BW_DIAG_ERROR, NULL, 0, "signing failed: %s",
		               bw_strerror(ret));
	for (unsigned i = 0; i < nw; i++)
		n += w[i].nsigs;
	if (ret == 0)
		ret = bw_zone_reopen(z, NULL, n);
	/* Worker by worker: its sigs array goes once they are records. */
	for (unsigned i = 0; i < nw && ret == 0; i++)
		ret = add_worker_sigs(z, &w[i], d);
	if (ret == 0)
		ret = bw_zone_finish(z, d);
	for (unsigned i = 0; i < nw; i++) {
		free(w[i].sigs);
		free(w[i].bytes);
	}
	free(w);
	return ret;
}

int bw_signer_run(struct bw_zone *zone, const struct bw_signer_opts *o,
                  struct bw_diag *d)
{
	uint32_t now = o->now ? o->now : (uint32_t)time(NULL);
	struct bw_keyset ks = { 0 };
	struct bw_rr *dnskeys = NULL;

	int ret = load_keys(zone, o, now, &ks, d);
	if (ret == 0)
		ret = dnskey_rrs(zone, &ks, o->dnskey_ttl ? o->dnskey_ttl : zone->soa_ttl,
		                 &dnskeys);
	if (ret == 0)
		ret = rebuild(zone, is_dnssec_type, dnskeys, ks.n, d);
	if (ret == 0)
		ret = add_chain(zone, o, d);
	if (ret == 0)
		ret = add_signatures(zone, &ks, o, now, d);
	free(dnskeys);
	bw_keyset_free(&ks);
	return ret;
}
