#!/usr/bin/env bash
# bulwark-compile --dump is lossless: a zone compiled, dumped and compiled
# again gives the same table bytes.
#     roundtrip.sh BULWARK_COMPILE ZONEFILE ORIGIN
set -euo pipefail
compile=$1 zone=$2 origin=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$compile" "$zone" -z "$origin" -o "$work/first.bwz"
"$compile" --dump "$work/first.bwz" >"$work/dump.zone"
"$compile" "$work/dump.zone" -z "$origin" -o "$work/second.bwz"
cmp "$work/first.bwz" "$work/second.bwz"
# The dump is in canonical order with the SOA first, so it also compiles
# without being told the origin.
"$compile" "$work/dump.zone" -o "$work/third.bwz"
cmp "$work/first.bwz" "$work/third.bwz"
echo "round trip of $zone: $(wc -l <"$work/dump.zone") records, identical tables"
