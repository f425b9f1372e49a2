#!/usr/bin/env bash
# Runs the answer-path benchmarks on the generated 1M-name zone (made once,
# fixed seed) and writes JSON next to the build.
set -euo pipefail
bench=$1 src=$2 build=$3
data="$build/bench-data"
mkdir -p "$data"
if [ ! -s "$data/zone.db" ]; then
	/usr/bin/python3 "$src/scripts/gen-zone.py" --names 1000000 --seed 1 \
		--origin example. -o "$data/zone.db" -q "$data/queries.txt"
fi
export BW_BENCH_ZONE="$data/zone.db" BW_BENCH_QUERIES="$data/queries.txt"
export BW_BENCH_ORIGIN="${BW_BENCH_ORIGIN:-example.}"
"$bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
	--benchmark_out="$build/bench-answer.json" --benchmark_out_format=json

# The same zone signed (ECDSAP256SHA256 CSK), DO=1 queries: NSEC, NSEC3.
keys=$(mktemp -d)
trap 'rm -rf "$keys"' EXIT
printf 'dnssec-policy "n3" { keys { csk lifetime unlimited algorithm 13; }; nsec3param iterations 0 optout no salt-length 0; };\n' \
	>"$keys/policy.conf"
BW_BENCH_KEYDIR="$keys" "$bench" --benchmark_repetitions=5 \
	--benchmark_report_aggregates_only=true --benchmark_filter=answer \
	--benchmark_out="$build/bench-answer-nsec.json" --benchmark_out_format=json
BW_BENCH_KEYDIR="$keys" BW_BENCH_POLICY="$keys/policy.conf:n3" "$bench" \
	--benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
	--benchmark_filter=answer \
	--benchmark_out="$build/bench-answer-nsec3.json" --benchmark_out_format=json
