#!/usr/bin/env bash
# Builds bulwark and runs every test suite: unit, integration and
# differential in the build directory `build`, then the unit suite again in
# `build-asan` with AddressSanitizer and UndefinedBehaviorSanitizer.
# The differential tests start NSD, Knot DNS and bulwarkd on free loopback
# ports; they run as root (CI) or as any other user.
# Exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "$0")/.."

# setup_dir DIR [MESON OPTIONS...]: configure DIR, or reconfigure it with
# the options given when it exists already.
setup_dir() {
	local dir="$1"
	shift
	if [ -f "$dir/meson-private/coredata.dat" ]; then
		meson setup --reconfigure "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
}

echo "== build"
setup_dir build
ninja -C build

echo "== tests: all suites"
meson test -C build --print-errorlogs

echo "== build-asan"
setup_dir build-asan -Db_sanitize=address,undefined
ninja -C build-asan

echo "== tests: unit suite under ASan and UBSan"
meson test -C build-asan --suite unit --print-errorlogs

echo "== all tests passed"
