// bulwark — Google Benchmark programs for the answer path: name parsing,
// table lookup (hit, miss, wildcard, referral) and full answer building.
//
// Environment: BW_BENCH_ZONE, BW_BENCH_ORIGIN, BW_BENCH_QUERIES.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "shim.h"

namespace {

bwb *g_bench;

void run(benchmark::State &state, bwb_kind kind, size_t (*op)(bwb *, bwb_kind, size_t))
{
	size_t n = bwb_count(g_bench, kind);
	if (n == 0) {
		state.SkipWithError("no queries of this kind in the query file");
		return;
	}
	size_t i = 0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(op(g_bench, kind, i));
		if (++i == n)
			i = 0;
	}
	state.SetItemsProcessed(state.iterations());
}

size_t parse_op(bwb *b, bwb_kind k, size_t i) { return (size_t)bwb_name_parse(b, k, i); }
size_t lookup_op(bwb *b, bwb_kind k, size_t i) { return (size_t)bwb_lookup(b, k, i); }
size_t answer_op(bwb *b, bwb_kind k, size_t i) { return bwb_answer(b, k, i); }

void BM_name_parse(benchmark::State &s) { run(s, BWB_ALL, parse_op); }
void BM_lookup_hit(benchmark::State &s) { run(s, BWB_HIT, lookup_op); }
void BM_lookup_miss(benchmark::State &s) { run(s, BWB_MISS, lookup_op); }
void BM_lookup_wildcard(benchmark::State &s) { run(s, BWB_WILDCARD, lookup_op); }
void BM_lookup_referral(benchmark::State &s) { run(s, BWB_REFERRAL, lookup_op); }
void BM_answer_hit(benchmark::State &s) { run(s, BWB_HIT, answer_op); }
void BM_answer_miss(benchmark::State &s) { run(s, BWB_MISS, answer_op); }
void BM_answer_wildcard(benchmark::State &s) { run(s, BWB_WILDCARD, answer_op); }
void BM_answer_referral(benchmark::State &s) { run(s, BWB_REFERRAL, answer_op); }
void BM_answer_mix(benchmark::State &s) { run(s, BWB_ALL, answer_op); }

} // namespace

BENCHMARK(BM_name_parse);
BENCHMARK(BM_lookup_hit);
BENCHMARK(BM_lookup_miss);
BENCHMARK(BM_lookup_wildcard);
BENCHMARK(BM_lookup_referral);
BENCHMARK(BM_answer_hit);
BENCHMARK(BM_answer_miss);
BENCHMARK(BM_answer_wildcard);
BENCHMARK(BM_answer_referral);
BENCHMARK(BM_answer_mix);

int main(int argc, char **argv)
{
	const char *zone = std::getenv("BW_BENCH_ZONE");
	const char *queries = std::getenv("BW_BENCH_QUERIES");
	if (zone == nullptr || queries == nullptr) {
		std::fprintf(stderr, "set BW_BENCH_ZONE and BW_BENCH_QUERIES\n");
		return 2;
	}
	g_bench = bwb_open(zone, std::getenv("BW_BENCH_ORIGIN"), queries);
	if (g_bench == nullptr)
		return 1;
	benchmark::AddCustomContext("zone", zone);
	benchmark::AddCustomContext("compile_seconds", std::to_string(bwb_compile_seconds(g_bench)));
	benchmark::AddCustomContext("table_bytes", std::to_string(bwb_table_size(g_bench)));
	benchmark::Initialize(&argc, argv);
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	bwb_close(g_bench);
	return 0;
}
