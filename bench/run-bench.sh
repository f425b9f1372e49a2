#!/usr/bin/env bash
# Runs the answer-path benchmarks on the generated 1M-name zone (made once,
# fixed seed) and the fast-path micro-benchmarks on a 100k-name zone (also
# made once), and writes JSON next to the build.
#
#   BW_BENCH_QUICK=1     one repetition of 0.05 s each (to iterate), instead
#                        of 5 repetitions of Google Benchmark's default
#   BW_BENCH_FILTER=RE   only the bench_fastpath cases matching RE
#   BW_BENCH_ONLY=fastpath   skip bench_answer (and its 1M-name signing)
set -euo pipefail
bench=$1 src=$2 build=$3 fastpath=${4:-}
data="$build/bench-data"
mkdir -p "$data"
if [ ! -s "$data/zone.db" ]; then
	/usr/bin/python3 "$src/scripts/gen-zone.py" --names 1000000 --seed 1 \
		--origin example. -o "$data/zone.db" -q "$data/queries.txt"
fi
export BW_BENCH_ORIGIN="${BW_BENCH_ORIGIN:-example.}"
runs=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=true)
if [ "${BW_BENCH_QUICK:-0}" = 1 ]; then
	runs=(--benchmark_repetitions=1 --benchmark_min_time=0.05)
fi

# The same zone signed (ECDSAP256SHA256 CSK), DO=1 queries: NSEC, NSEC3.
keys=$(mktemp -d)
trap 'rm -rf "$keys"' EXIT
printf 'dnssec-policy "n3" { keys { csk lifetime unlimited algorithm 13; }; nsec3param iterations 0 optout no salt-length 0; };\n' \
	>"$keys/policy.conf"

if [ "${BW_BENCH_ONLY:-}" != fastpath ]; then
	BW_BENCH_ZONE="$data/zone.db" BW_BENCH_QUERIES="$data/queries.txt" \
		"$bench" "${runs[@]}" \
		--benchmark_out="$build/bench-answer.json" --benchmark_out_format=json
	BW_BENCH_ZONE="$data/zone.db" BW_BENCH_QUERIES="$data/queries.txt" \
		BW_BENCH_KEYDIR="$keys" "$bench" "${runs[@]}" --benchmark_filter=answer \
		--benchmark_out="$build/bench-answer-nsec.json" --benchmark_out_format=json
	BW_BENCH_ZONE="$data/zone.db" BW_BENCH_QUERIES="$data/queries.txt" \
		BW_BENCH_KEYDIR="$keys" BW_BENCH_POLICY="$keys/policy.conf:n3" "$bench" \
		"${runs[@]}" --benchmark_filter=answer \
		--benchmark_out="$build/bench-answer-nsec3.json" --benchmark_out_format=json
fi

# Fast-path micro-benchmarks: a 100k-name zone (its tables stay in the
# cache hierarchy, so each piece is measured rather than DRAM), unsigned,
# and signed with NSEC and NSEC3 for the denial cases.
[ -n "$fastpath" ] || exit 0
if [ ! -s "$data/zone-100k.db" ]; then
	/usr/bin/python3 "$src/scripts/gen-zone.py" --names 100000 --seed 1 \
		--origin example. -o "$data/zone-100k.db" -q "$data/queries-100k.txt"
fi
BW_BENCH_ZONE="$data/zone-100k.db" BW_BENCH_QUERIES="$data/queries-100k.txt" \
	BW_BENCH_KEYDIR="$keys" BW_BENCH_POLICY="$keys/policy.conf:n3" \
	"$fastpath" "${runs[@]}" --benchmark_filter="${BW_BENCH_FILTER:-.}" \
	--benchmark_out="$build/bench-fastpath.json" --benchmark_out_format=json
