/*  bulwark-replay — latency histograms, the per-second record, the
 *  progress line and the report (JSON and text).
 */
#include <string.h>

#include "replay.h"

#define SUB      BW_REPLAY_HIST_SUB
#define SUB_N    (1u << SUB)

static const char *const rcode_names[BW_REPLAY_RCODES] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
	"RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADVERS", "BADKEY",
	"BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
	"OTHER",
};

/* Values below 2^SUB have a bucket each; above, every power of two is
 * split into 2^SUB equal buckets. */
static unsigned bucket_of(uint64_t v)
{
	if (v < SUB_N)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - SUB;
	return (shift + 1) * SUB_N + (unsigned)((v >> shift) - SUB_N);
}

/* The middle of bucket \a i. */
static uint64_t bucket_value(unsigned i)
{
	if (i < SUB_N)
		return i;
	unsigned shift = i / SUB_N - 1;
	uint64_t low = (uint64_t)(i % SUB_N + SUB_N) << shift;
	return low + ((1ull << shift) >> 1);
}

void bw_replay_hist_add(struct bw_replay_hist *h, uint64_t cycles)
{
	h->b[bucket_of(cycles)]++;
	h->n++;
	if (cycles > h->max)
		h->max = cycles;
}

uint64_t bw_replay_hist_quantile(const struct bw_replay_hist *h, double q)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (unsigned i = 0; i < BW_REPLAY_HIST_N; i++) {
		seen += h->b[i];
		if (seen > want) {
			uint64_t v = bucket_value(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

static double us(const struct bw_replay_stats *st, uint64_t cycles)
{
	return (double)cycles * 1e6 / st->tsc_hz;
}

void bw_replay_second_close(struct bw_replay_stats *st, double seconds)
{
	if (st->nsec < BW_REPLAY_SECONDS_MAX) {
		struct bw_replay_second *s = &st->sec[st->nsec++];
		s->sent = st->cur_sent;
		s->answered = st->cur_answered;
		s->lost = st->cur_lost;
		s->tc = st->cur_tc;
		s->offered_qps = seconds > 0 ? (double)s->sent / seconds : 0;
		s->p50 = us(st, bw_replay_hist_quantile(&st->cur, 0.5));
		s->p99 = us(st, bw_replay_hist_quantile(&st->cur, 0.99));
		s->p999 = us(st, bw_replay_hist_quantile(&st->cur, 0.999));
	}
	st->cur_sent = st->cur_answered = st->cur_lost = st->cur_tc = 0;
	memset(&st->cur, 0, sizeof(st->cur));
}

void bw_replay_progress(const struct bw_replay_stats *st, bool tty)
{
	const struct bw_replay_second *s;

	if (st->nsec == 0)
		return;
	s = &st->sec[st->nsec - 1];
	fprintf(stderr, "%s%4zus  sent %9.0f q/s  answered %8llu  lost %6llu  tc %5llu  "
	        "p50 %8.1f us  p99 %8.1f us  total sent %llu answered %llu%s",
	        tty ? "\r" : "", st->nsec, s->offered_qps,
	        (unsigned long long)s->answered, (unsigned long long)s->lost,
	        (unsigned long long)s->tc, s->p50, s->p99,
	        (unsigned long long)st->sent, (unsigned long long)st->answered,
	        tty ? "   " : "\n");
	fflush(stderr);
}

static void json_rcodes(const struct bw_replay_stats *st, FILE *f)
{
	bool first = true;

	fprintf(f, "\"rcode\":{");
	for (unsigned i = 0; i < BW_REPLAY_RCODES; i++) {
		if (st->rcode[i] == 0)
			continue;
		fprintf(f, "%s\"%s\":%llu", first ? "" : ",", rcode_names[i],
		        (unsigned long long)st->rcode[i]);
		first = false;
	}
	fprintf(f, "},");
}

static void json_seconds(const struct bw_replay_stats *st, FILE *f)
{
	fprintf(f, "\"per_second\":[");
	for (size_t i = 0; i < st->nsec; i++) {
		const struct bw_replay_second *s = &st->sec[i];
		fprintf(f, "%s{\"t\":%zu,\"offered_qps\":%.1f,\"sent\":%llu,"
		        "\"answered\":%llu,\"lost\":%llu,\"tc\":%llu,\"p50\":%.1f,"
		        "\"p99\":%.1f,\"p999\":%.1f}", i ? "," : "", i + 1,
		        s->offered_qps, (unsigned long long)s->sent,
		        (unsigned long long)s->answered, (unsigned long long)s->lost,
		        (unsigned long long)s->tc, s->p50, s->p99, s->p999);
	}
	fprintf(f, "],");
}

void bw_replay_report_json(const struct bw_replay_stats *st, const struct bw_replay_set *s,
                           const char *port_name, FILE *f)
{
	double d = st->duration_s > 0 ? st->duration_s : 1e-9;

	fprintf(f, "{\"sent\":%llu,\"answered\":%llu,\"lost\":%llu,\"unmatched\":%llu,"
	        "\"duplicates\":%llu,\"tc\":%llu,\"tc_rate\":%.6f,",
	        (unsigned long long)st->sent, (unsigned long long)st->answered,
	        (unsigned long long)st->lost, (unsigned long long)st->unmatched,
	        (unsigned long long)st->duplicates, (unsigned long long)st->tc,
	        st->answered ? (double)st->tc / (double)st->answered : 0.0);
	json_rcodes(st, f);
	fprintf(f, "\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},",
	        us(st, bw_replay_hist_quantile(&st->total, 0.5)),
	        us(st, bw_replay_hist_quantile(&st->total, 0.99)),
	        us(st, bw_replay_hist_quantile(&st->total, 0.999)), us(st, st->total.max));
	fprintf(f, "\"duration_s\":%.3f,\"offered_qps\":%.1f,\"answered_qps\":%.1f,",
	        st->duration_s, (double)st->sent / d, (double)st->answered / d);
	json_seconds(st, f);
	fprintf(f, "\"queries\":{\"templates\":%zu,\"frames\":%llu,\"skipped\":%llu},",
	        s->n, (unsigned long long)s->frames, (unsigned long long)s->skipped);
	fprintf(f, "\"port\":{\"name\":\"%s\",\"rx\":%llu,\"tx\":%llu,\"tx_full\":%llu,"
	        "\"rx_other\":%llu,\"arp_replies\":%llu,\"nd_replies\":%llu}}\n",
	        port_name, (unsigned long long)st->rx, (unsigned long long)st->tx,
	        (unsigned long long)st->tx_full, (unsigned long long)st->rx_other,
	        (unsigned long long)st->arp_replies, (unsigned long long)st->nd_replies);
}

void bw_replay_report_text(const struct bw_replay_stats *st, FILE *f)
{
	double d = st->duration_s > 0 ? st->duration_s : 1e-9;

	fprintf(f, "sent %llu in %.3f s (%.0f q/s), answered %llu (%.0f q/s), lost %llu, "
	        "unmatched %llu, duplicates %llu, tc %llu\n",
	        (unsigned long long)st->sent, st->duration_s, (double)st->sent / d,
	        (unsigned long long)st->answered, (double)st->answered / d,
	        (unsigned long long)st->lost, (unsigned long long)st->unmatched,
	        (unsigned long long)st->duplicates, (unsigned long long)st->tc);
	fprintf(f, "latency p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us; rcodes:",
	        us(st, bw_replay_hist_quantile(&st->total, 0.5)),
	        us(st, bw_replay_hist_quantile(&st->total, 0.99)),
	        us(st, bw_replay_hist_quantile(&st->total, 0.999)), us(st, st->total.max));
	for (unsigned i = 0; i < BW_REPLAY_RCODES; i++)
		if (st->rcode[i] != 0)
			fprintf(f, " %s %llu", rcode_names[i], (unsigned long long)st->rcode[i]);
	fprintf(f, "\n");
}
