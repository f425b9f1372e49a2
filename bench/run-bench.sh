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
