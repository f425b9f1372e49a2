#!/usr/bin/env bash
# From a fresh Debian 12 checkout to a first answer: installs the
# dependencies, builds, compiles the example zone into a table, starts
# bulwarkd serving that table on 127.0.0.1 port 5353 (the settings of
# examples/bulwark.conf), asks it for www.example.com with dig, shows the
# answer, shows the zone's status through the control socket with
# bulwarkctl and stops bulwarkd with it.
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

if [ -f build/meson-private/coredata.dat ]; then
	meson setup --reconfigure build
else
	meson setup build
fi
ninja -C build

echo "== compiling examples/example.com.zone"
build/zonecomp/cli/bulwark-compile examples/example.com.zone \
	-o build/example.com.bwz -z example.com
ls -l build/example.com.bwz

# examples/bulwark.conf compiles the zone file itself when it starts; here
# the same server loads the table just compiled.
conf="build/quickstart.conf"
cat >"$conf" <<CONF
options {
	listen-on port 5353 { 127.0.0.1; ::1; };
	control-socket "$PWD/build/quickstart-ctl.sock";
};
dataplane { io socket; workers 1; };
zone "example.com" { table "$PWD/build/example.com.bwz"; };
CONF

log="build/quickstart-bulwarkd.log"
echo "== starting bulwarkd -c $conf -f (log: $log)"
build/controlplane/bulwarkd -c "$conf" -f >"$log" 2>&1 &
pid=$!
stop() {
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		# its exit status after SIGTERM is not a failure of this script
		if wait "$pid"; then :; fi
	fi
}
trap stop EXIT

# wait until it answers (at most 10 seconds)
for _ in $(seq 1 50); do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "bulwarkd exited:" >&2
		cat "$log" >&2
		exit 1
	fi
	if dig @127.0.0.1 -p 5353 example.com SOA +short +tries=1 +time=1 \
		>/dev/null 2>&1; then
		break
	fi
	sleep 0.2
done

echo "== dig @127.0.0.1 -p 5353 www.example.com A"
dig @127.0.0.1 -p 5353 www.example.com A
answer=$(dig @127.0.0.1 -p 5353 www.example.com A +short)
[ -n "$answer" ] || { echo "no answer from bulwarkd" >&2; cat "$log" >&2; exit 1; }

echo "== bulwarkctl zone-status example.com (through the control socket)"
build/controlplane/bulwarkctl -s build/quickstart-ctl.sock zone-status example.com

echo "== bulwarkctl stop"
build/controlplane/bulwarkctl -s build/quickstart-ctl.sock stop
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
stop
trap - EXIT
echo "== done: bulwarkd answered www.example.com A with $answer"
