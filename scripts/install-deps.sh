#!/usr/bin/env bash
# Installs everything bulwark needs to build, test and benchmark on Debian 12:
# the toolchain, the libraries (through pkg-config), the reference servers and
# the DNS tools the tests drive.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
	build-essential meson ninja-build pkg-config ca-certificates \
	libdpdk-dev dpdk dpdk-dev libssl-dev liburcu-dev libhyperscan-dev \
	libbenchmark-dev libcmocka-dev \
	nsd knot knot-dnsutils knot-dnssecutils \
	bind9 bind9-dnsutils bind9-utils ldnsutils dnsperf \
	python3 python3-dnspython iproute2 procps ethtool iputils-ping tcpdump tcpreplay \
	gnuplot-nox

# The reference servers are started by the tests on loopback ports of their
# own; the packaged system services are not needed and must not hold port 53.
for svc in nsd knot named bind9; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
		$SUDO systemctl stop "$svc" || echo "note: could not stop $svc" >&2
	fi
done
