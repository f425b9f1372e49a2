#!/usr/bin/env bash
# Capacity mode: replays a pcap of queries through bulwarkd's DPDK workers
# (net_pcap, infinite_rx) and reports answered Mqps per core, TSC cycles
# per query and the dpdk-testpmd I/O bound measured in the same run.
#     scripts/capacity.sh PCAP ZONE [CORES] [--duration S] [--rounds N]
# Run as root; see scripts/capacity.py --help and docs/dataplane.md.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/capacity.py" "$@"
