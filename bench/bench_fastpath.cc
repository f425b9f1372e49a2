// bulwark — Google Benchmark programs for every piece of the fast path:
// packet handling, zone lookup, answer assembly (plain, NSEC and NSEC3
// denial), checksum, RRL, DNS cookies, Hyperscan filters, the flood
// sketches and the whole bw_flood_answer() under four policies.
//
// Environment: BW_BENCH_ZONE, BW_BENCH_ORIGIN, BW_BENCH_QUERIES (the zone
// and its query file); BW_BENCH_KEYDIR and BW_BENCH_POLICY (CONF:NAME of
// an NSEC3 policy) for the signed variants, which are skipped without them.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "shim_fastpath.h"

namespace {

const char *g_zone, *g_origin, *g_queries;
bwb *g_plain;

// Signed tables are compiled on first use: a filter that leaves them out
// does not pay for signing.
enum signing { SIGN_NSEC, SIGN_NSEC3 };

bwb *signed_table(signing s)
{
	static bwb *t[2];
	static bool tried[2];
	const char *keydir = std::getenv("BW_BENCH_KEYDIR");
	const char *policy = std::getenv("BW_BENCH_POLICY");

	if (!tried[s] && keydir != nullptr && (s == SIGN_NSEC || policy != nullptr)) {
		t[s] = bwb_open_signed(g_zone, g_origin, g_queries, keydir,
		                       s == SIGN_NSEC3 ? policy : nullptr);
		tried[s] = true;
	}
	return t[s];
}

// One operation on input i, inputs used round-robin.
template <class Op>
void loop(benchmark::State &state, size_t n, Op op)
{
	if (n == 0) {
		state.SkipWithError("no inputs of this kind");
		return;
	}
	size_t i = 0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(op(i));
		if (++i == n)
			i = 0;
	}
	state.SetItemsProcessed(state.iterations());
}

// ---- Packets. ----

bwf_pkt *pkt_ctx(bwb_kind kind, bool v6, bwf_frame what)
{
	static bwf_pkt *ctx[BWB_NKINDS][2][3];
	bwf_pkt *&p = ctx[kind][v6][what];
	if (p == nullptr)
		p = bwf_pkt_new(g_plain, kind, v6, what);
	return p;
}

// Verdicts: 0 drop, 1 tx, 2 exception (enum bw_pkt_verdict).
void pkt(benchmark::State &state, bwb_kind kind, bool v6, bwf_frame what, int want)
{
	bwf_pkt *p = pkt_ctx(kind, v6, what);
	if (p == nullptr || bwf_pkt_count(p) == 0) {
		state.SkipWithError("no frames");
		return;
	}
	if (bwf_pkt_handle(p, 0) != want) {
		state.SkipWithError("unexpected verdict");
		return;
	}
	loop(state, bwf_pkt_count(p), [p](size_t i) { return bwf_pkt_handle(p, i); });
}

void BM_pkt_answer_v4_hit(benchmark::State &s) { pkt(s, BWB_HIT, false, BWF_FRAME_QUERY, 1); }
void BM_pkt_answer_v6_hit(benchmark::State &s) { pkt(s, BWB_HIT, true, BWF_FRAME_QUERY, 1); }
void BM_pkt_answer_v4_mix(benchmark::State &s) { pkt(s, BWB_ALL, false, BWF_FRAME_QUERY, 1); }
void BM_pkt_answer_v6_mix(benchmark::State &s) { pkt(s, BWB_ALL, true, BWF_FRAME_QUERY, 1); }
void BM_pkt_parse_v4_exception(benchmark::State &s) { pkt(s, BWB_HIT, false, BWF_FRAME_PORT, 2); }
void BM_pkt_parse_v6_exception(benchmark::State &s) { pkt(s, BWB_HIT, true, BWF_FRAME_PORT, 2); }
void BM_pkt_parse_v4_runt(benchmark::State &s) { pkt(s, BWB_HIT, false, BWF_FRAME_RUNT, 0); }
void BM_pkt_parse_v6_runt(benchmark::State &s) { pkt(s, BWB_HIT, true, BWF_FRAME_RUNT, 0); }

// The frame copy that every bw_pkt_handle() case above includes.
void BM_pkt_copy_only(benchmark::State &state)
{
	bwf_pkt *p = pkt_ctx(BWB_HIT, false, BWF_FRAME_QUERY);
	loop(state, p ? bwf_pkt_count(p) : 0, [p](size_t i) { return bwf_pkt_copy(p, i); });
}

// ---- Checksum. ----

void BM_cksum(benchmark::State &state)
{
	std::vector<uint8_t> buf((size_t)state.range(0));
	for (size_t i = 0; i < buf.size(); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (auto _ : state) {
		benchmark::DoNotOptimize(bwf_cksum(buf.data(), buf.size()));
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * state.range(0));
}

// ---- Lookup and answer. ----

void lookup(benchmark::State &state, bwb *b, bwb_kind kind)
{
	if (b == nullptr) {
		state.SkipWithError("signed table not available (BW_BENCH_KEYDIR)");
		return;
	}
	loop(state, bwb_count(b, kind), [b, kind](size_t i) { return bwb_lookup(b, kind, i); });
}

void answer(benchmark::State &state, bwb *b, bwb_kind kind)
{
	if (b == nullptr) {
		state.SkipWithError("signed table not available (BW_BENCH_KEYDIR)");
		return;
	}
	loop(state, bwb_count(b, kind), [b, kind](size_t i) { return bwb_answer(b, kind, i); });
}

void BM_lookup_hit(benchmark::State &s) { lookup(s, g_plain, BWB_HIT); }
void BM_lookup_miss(benchmark::State &s) { lookup(s, g_plain, BWB_MISS); }
void BM_lookup_wildcard(benchmark::State &s) { lookup(s, g_plain, BWB_WILDCARD); }
void BM_lookup_referral(benchmark::State &s) { lookup(s, g_plain, BWB_REFERRAL); }
void BM_lookup_miss_nsec(benchmark::State &s) { lookup(s, signed_table(SIGN_NSEC), BWB_MISS); }
void BM_lookup_miss_nsec3(benchmark::State &s) { lookup(s, signed_table(SIGN_NSEC3), BWB_MISS); }

// The NSEC3 hash (SHA-1, the table's salt and iterations) of an NXDOMAIN
// query name: an NSEC3 denial computes up to three of them.
void BM_nsec3_hash(benchmark::State &state)
{
	bwb *b = signed_table(SIGN_NSEC3);
	if (b == nullptr) {
		state.SkipWithError("signed table not available (BW_BENCH_POLICY)");
		return;
	}
	loop(state, bwb_count(b, BWB_MISS), [b](size_t i) { return bwf_nsec3_hash(b, BWB_MISS, i); });
}

void BM_answer_hit(benchmark::State &s) { answer(s, g_plain, BWB_HIT); }
void BM_answer_miss(benchmark::State &s) { answer(s, g_plain, BWB_MISS); }
void BM_answer_wildcard(benchmark::State &s) { answer(s, g_plain, BWB_WILDCARD); }
void BM_answer_referral(benchmark::State &s) { answer(s, g_plain, BWB_REFERRAL); }
void BM_answer_mix(benchmark::State &s) { answer(s, g_plain, BWB_ALL); }
void BM_answer_hit_nsec(benchmark::State &s) { answer(s, signed_table(SIGN_NSEC), BWB_HIT); }
void BM_answer_denial_nsec(benchmark::State &s) { answer(s, signed_table(SIGN_NSEC), BWB_MISS); }
void BM_answer_hit_nsec3(benchmark::State &s) { answer(s, signed_table(SIGN_NSEC3), BWB_HIT); }
void BM_answer_denial_nsec3(benchmark::State &s) { answer(s, signed_table(SIGN_NSEC3), BWB_MISS); }

// ---- Response-rate limiting. ----

void rrl(benchmark::State &state, unsigned nkeys)
{
	bwf_rrl *r = bwf_rrl_new(nkeys);
	if (r == nullptr) {
		state.SkipWithError("out of memory");
		return;
	}
	// The index runs on: the clock moves with it.
	size_t i = 0;
	for (auto _ : state)
		benchmark::DoNotOptimize(bwf_rrl_account(r, i++));
	state.SetItemsProcessed(state.iterations());
	bwf_rrl_free(r);
}

void BM_rrl_hot_key(benchmark::State &s) { rrl(s, 1); }
void BM_rrl_20k_keys(benchmark::State &s) { rrl(s, 20000); }

// ---- DNS cookies. ----

bwf_cookie *cookies()
{
	static bwf_cookie *c = bwf_cookie_new();
	return c;
}

void BM_cookie_make_v4(benchmark::State &s)
{
	bwf_cookie *c = cookies();
	loop(s, 1024, [c](size_t i) { return bwf_cookie_make(c, i, false); });
}

void BM_cookie_make_v6(benchmark::State &s)
{
	bwf_cookie *c = cookies();
	loop(s, 1024, [c](size_t i) { return bwf_cookie_make(c, i, true); });
}

void cookie_check(benchmark::State &s, bwf_cookie_case k)
{
	bwf_cookie *c = cookies();
	loop(s, 1024, [c, k](size_t i) { return bwf_cookie_check(c, i, k); });
}

void BM_cookie_check_valid(benchmark::State &s) { cookie_check(s, BWF_COOKIE_CUR); }
void BM_cookie_check_prev(benchmark::State &s) { cookie_check(s, BWF_COOKIE_PREV); }
void BM_cookie_check_forged(benchmark::State &s) { cookie_check(s, BWF_COOKIE_FORGED); }

// ---- Operator filters. ----

void filter(benchmark::State &state, unsigned nrules, bool hit)
{
	static bwf_filter *db[2];
	bwf_filter *&f = db[nrules > 10];
	if (f == nullptr)
		f = bwf_filter_new(g_plain, nrules);
	if (f == nullptr) {
		state.SkipWithError("filters do not compile");
		return;
	}
	size_t n = bwf_filter_count(f), matched = 0;
	for (size_t i = 0; i < n; i++)
		matched += bwf_filter_match(f, hit, i);
	state.counters["matched"] = n ? (double)matched / (double)n : 0;
	loop(state, n, [f, hit](size_t i) { return bwf_filter_match(f, hit, i); });
}

void BM_filter_10_hit(benchmark::State &s) { filter(s, 10, true); }
void BM_filter_10_miss(benchmark::State &s) { filter(s, 10, false); }
void BM_filter_200_hit(benchmark::State &s) { filter(s, 200, true); }
void BM_filter_200_miss(benchmark::State &s) { filter(s, 200, false); }

// ---- Flood sketches. ----

bwf_sketch *sketch()
{
	static bwf_sketch *s = bwf_sketch_new();
	return s;
}

void BM_sketch_nxdomain_hit(benchmark::State &st)
{
	bwf_sketch *s = sketch();
	loop(st, 1u << 20, [s](size_t i) { bwf_sketch_nxdomain(s, true, i); return 0; });
}

void BM_sketch_nxdomain_miss(benchmark::State &st)
{
	bwf_sketch *s = sketch();
	loop(st, 1u << 20, [s](size_t i) { bwf_sketch_nxdomain(s, false, i); return 0; });
}

void BM_sketch_query_hit(benchmark::State &st)
{
	bwf_sketch *s = sketch();
	loop(st, 1u << 20, [s](size_t i) { bwf_sketch_query(s, true, i); return 0; });
}

void BM_sketch_query_miss(benchmark::State &st)
{
	bwf_sketch *s = sketch();
	loop(st, 1u << 20, [s](size_t i) { bwf_sketch_query(s, false, i); return 0; });
}

// ---- bw_flood_answer(). ----

void flood(benchmark::State &state, bwf_policy pol, bwb_kind kind)
{
	static bwf_flood *ctx[4];
	bwf_flood *&f = ctx[pol];
	if (f == nullptr)
		f = bwf_flood_new(g_plain, pol);
	if (f == nullptr) {
		state.SkipWithError("cannot set up the policy");
		return;
	}
	loop(state, bwb_count(g_plain, kind), [f, kind](size_t i) { return bwf_flood_answer(f, kind, i); });
	state.counters["answered"] = bwf_flood_answered(f);
}

void BM_flood_answer_off(benchmark::State &s) { flood(s, BWF_POL_OFF, BWB_ALL); }
void BM_flood_answer_detect(benchmark::State &s) { flood(s, BWF_POL_DETECT, BWB_ALL); }
void BM_flood_answer_rrl(benchmark::State &s) { flood(s, BWF_POL_RRL, BWB_ALL); }
void BM_flood_answer_filters(benchmark::State &s) { flood(s, BWF_POL_FILTERS, BWB_ALL); }

} // namespace

BENCHMARK(BM_pkt_answer_v4_hit);
BENCHMARK(BM_pkt_answer_v6_hit);
BENCHMARK(BM_pkt_answer_v4_mix);
BENCHMARK(BM_pkt_answer_v6_mix);
BENCHMARK(BM_pkt_parse_v4_exception);
BENCHMARK(BM_pkt_parse_v6_exception);
BENCHMARK(BM_pkt_parse_v4_runt);
BENCHMARK(BM_pkt_parse_v6_runt);
BENCHMARK(BM_pkt_copy_only);
BENCHMARK(BM_cksum)->Arg(64)->Arg(512)->Arg(1232);
BENCHMARK(BM_lookup_hit);
BENCHMARK(BM_lookup_miss);
BENCHMARK(BM_lookup_wildcard);
BENCHMARK(BM_lookup_referral);
BENCHMARK(BM_lookup_miss_nsec);
BENCHMARK(BM_lookup_miss_nsec3);
BENCHMARK(BM_nsec3_hash);
BENCHMARK(BM_answer_hit);
BENCHMARK(BM_answer_miss);
BENCHMARK(BM_answer_wildcard);
BENCHMARK(BM_answer_referral);
BENCHMARK(BM_answer_mix);
BENCHMARK(BM_answer_hit_nsec);
BENCHMARK(BM_answer_denial_nsec);
BENCHMARK(BM_answer_hit_nsec3);
BENCHMARK(BM_answer_denial_nsec3);
BENCHMARK(BM_rrl_hot_key);
BENCHMARK(BM_rrl_20k_keys);
BENCHMARK(BM_cookie_make_v4);
BENCHMARK(BM_cookie_make_v6);
BENCHMARK(BM_cookie_check_valid);
BENCHMARK(BM_cookie_check_prev);
BENCHMARK(BM_cookie_check_forged);
BENCHMARK(BM_filter_10_hit);
BENCHMARK(BM_filter_10_miss);
BENCHMARK(BM_filter_200_hit);
BENCHMARK(BM_filter_200_miss);
BENCHMARK(BM_sketch_nxdomain_hit);
BENCHMARK(BM_sketch_nxdomain_miss);
BENCHMARK(BM_sketch_query_hit);
BENCHMARK(BM_sketch_query_miss);
BENCHMARK(BM_flood_answer_off);
BENCHMARK(BM_flood_answer_detect);
BENCHMARK(BM_flood_answer_rrl);
BENCHMARK(BM_flood_answer_filters);

int main(int argc, char **argv)
{
	g_zone = std::getenv("BW_BENCH_ZONE");
	g_queries = std::getenv("BW_BENCH_QUERIES");
	g_origin = std::getenv("BW_BENCH_ORIGIN");
	if (g_zone == nullptr || g_queries == nullptr) {
		std::fprintf(stderr, "set BW_BENCH_ZONE and BW_BENCH_QUERIES\n");
		return 2;
	}
	g_plain = bwb_open_signed(g_zone, g_origin, g_queries, nullptr, nullptr);
	if (g_plain == nullptr)
		return 1;
	benchmark::AddCustomContext("zone", g_zone);
	benchmark::AddCustomContext("table_bytes", std::to_string(bwb_table_size(g_plain)));
	benchmark::Initialize(&argc, argv);
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	bwb_close(g_plain);
	return 0;
}
