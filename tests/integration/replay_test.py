#!/usr/bin/python3
"""Integration test: bulwark-replay against bulwarkd over a veth pair.

    replay_test.py --build BUILD [--rate QPS] [--seconds S]

bulwarkd runs with `io dpdk` (net_af_packet, one worker on lcore 1) in
namespace bwrA<pid> and serves a small compiled zone on 192.0.2.53 and
2001:db8::53; bulwark-replay runs on net_af_packet (lcore 0) on the other
end of the veth pair, in namespace bwrB<pid>. The queries are a pcap from
scripts/gen-query-pcap.py gen (positive and NXDOMAIN, IPv4 and IPv6).

1. A run of --seconds (3) at --rate (5,000 q/s): every query answered and
   matched (lost 0, unmatched 0, duplicates 0), latency percentiles
   ordered, positive, p99 under 100 ms; the JSON report has the keys of
   the contract; per_second has about --seconds entries whose sent add up
   to sent; the rcode mix is the pcap's (NOERROR = positive, NXDOMAIN =
   nxdomain). The same checks once more with --queries (the queries built
   by bulwark-replay itself, sources spread over --src4).
2. A run of 4 s during which bulwarkd is stopped (SIGTERM) after 1 s:
   lost > 0, answered + lost == sent, and bulwark-replay ends by itself
   (after its --timeout).

Everything started (namespaces, veth, processes, files, the EAL runtime
directories) is removed in every case.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from dpdk_util import (Cleanup, TestFailure, check,  # noqa: E402
	compile_zone, eal_args, ns, unready, veth_pair, veth_up)

PID = os.getpid()
NS_A = "bwrA%d" % PID           # the server
NS_B = "bwrB%d" % PID           # the generator
VETH_A = "ra%d" % PID
VETH_B = "rb%d" % PID
SRV4, SRV6 = "192.0.2.53", "2001:db8::53"
ORIGIN = "replay.test."
WORKER_LCORE = 1
RING_FRAMES = 4096
NQUERIES = 2000
STOPPED_SECONDS = 4
TERM_WAIT = 2.0                 # then SIGKILL: see main_test
POSITIVE, NXDOMAIN = 0.7, 0.3
KEYS = ("sent", "answered", "lost", "unmatched", "duplicates", "tc", "rcode",
	"latency_us", "duration_s", "offered_qps", "answered_qps", "per_second", "port")
SECOND_KEYS = ("t", "offered_qps", "sent", "answered", "lost", "tc", "p50", "p99",
	"p999")
CLEANUP = Cleanup()

ZONE = """$ORIGIN replay.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.10
www A 192.0.2.80
www AAAA 2001:db8::80
mail A 192.0.2.25
mail MX 10 mail
txt TXT "bulwark-replay"
"""


def conf_text(zdir, table, prefix):
	return """options {
	directory "%s";
	pid-file none;
};
dataplane {
	io dpdk;
	eal-args "%s";
	port "net_af_packet0,iface=%s,framecnt=%d" {
		address %s/24;
		address %s/64;
	};
	workers %d-%d;
};
flood-mitigation { enable no; };
zone "%s" { table "%s"; };
""" % (zdir, eal_args(prefix, lcores="0,%d" % WORKER_LCORE), VETH_A, RING_FRAMES,
		SRV4, SRV6, WORKER_LCORE, WORKER_LCORE, ORIGIN.rstrip("."), table)


def setup_network():
	"""The veth pair; no kernel addresses on the generator's side, the
	kernels kept off both ends (AF_PACKET leaves them every frame)."""
	veth_pair(CLEANUP, NS_A, VETH_A, NS_B, VETH_B, timeout=30)
	ns(NS_B, ["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
		"net.ipv6.conf.default.disable_ipv6=1"])
	# Namespace A keeps IPv6 for bulwarkd's exception interface.
	ns(NS_A, ["sysctl", "-q", "-w", "net.ipv4.conf.%s.rp_filter=1" % VETH_A,
		"net.ipv6.conf.%s.disable_ipv6=1" % VETH_A])
	return veth_up(NS_A, VETH_A, NS_B, VETH_B, [], timeout=30)


def make_pcap(build, tmp, zonefile):
	"""The queries, and the dnsperf-style list of the same queries."""
	pcap = os.path.join(tmp, "q.pcap")
	qlist = os.path.join(tmp, "q.txt")
	gen = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts",
		"gen-query-pcap.py")
	done = subprocess.run([sys.executable, gen, "gen", "--zone", zonefile,
		"--origin", ORIGIN, "-o", pcap, "-n", str(NQUERIES), "--positive",
		str(POSITIVE), "--nxdomain", str(NXDOMAIN), "--ipv6", "0.3",
		"--src4-prefix", "192.0.2.128/25", "--src6-prefix", "2001:db8:1::/64",
		"--sources", "200", "--dst4", SRV4, "--dst6", SRV6, "--queries-out", qlist],
		capture_output=True, text=True, timeout=60)
	check(done.returncode == 0, "gen-query-pcap.py failed:\n%s" % done.stderr)
	return pcap, qlist


def replay_argv(build, prefix, args):
	return ["ip", "netns", "exec", NS_B, os.path.join(build, "bench", "replay",
		"bulwark-replay"), "--no-huge", "-m", "256", "--no-pci", "--file-prefix",
		prefix, "--log-level=lib.eal:warning", "--vdev",
		"net_af_packet0,iface=%s,framecnt=%d" % (VETH_B, RING_FRAMES), "-l", "0",
		"--"] + args


def start_replay(build, prefix, args):
	CLEANUP.prefixes.append(prefix)
	p = subprocess.Popen(replay_argv(build, prefix, args), stdout=subprocess.PIPE,
		stderr=subprocess.PIPE, text=True)
	CLEANUP.procs.append(p)
	return p


def finish_replay(p, json_path, timeout):
	try:
		out, err = p.communicate(timeout=timeout)
	except subprocess.TimeoutExpired:
		raise TestFailure("bulwark-replay did not end by itself in %d s" % timeout)
	check(p.returncode == 0, "bulwark-replay failed (%d):\n%s%s" % (p.returncode,
		out, err))
	try:
		with open(json_path) as f:
			return json.load(f), err
	except ValueError as e:
		raise TestFailure("bulwark-replay's JSON is not valid: %s" % e)


def check_shape(r):
	for k in KEYS:
		check(k in r, "JSON: no key %r in %s" % (k, sorted(r)))
	for k in ("p50", "p99", "p999", "max"):
		check(k in r["latency_us"], "JSON: no latency_us.%s" % k)
	for k in ("name", "rx", "tx", "tx_full"):
		check(k in r["port"], "JSON: no port.%s" % k)
	for s in r["per_second"]:
		for k in SECOND_KEYS:
			check(k in s, "JSON: per_second entry without %r: %s" % (k, s))
	check(sum(s["sent"] for s in r["per_second"]) == r["sent"],
		"per_second sent add up to %d, sent %d" % (sum(s["sent"] for s in
		r["per_second"]), r["sent"]))


def check_clean(r, what, seconds, rate, nxshare):
	"""Everything answered, matched, fast enough; the rcode mix."""
	check_shape(r)
	want = int(rate * seconds)
	check(abs(r["sent"] - want) <= want * 0.02 + 10, "%s: sent %d, expected about "
		"%d" % (what, r["sent"], want))
	check(r["lost"] == 0 and r["unmatched"] == 0 and r["duplicates"] == 0 and
		r["answered"] == r["sent"], "%s: sent %d, answered %d, lost %d, unmatched "
		"%d, duplicates %d" % (what, r["sent"], r["answered"], r["lost"],
		r["unmatched"], r["duplicates"]))
	lat = r["latency_us"]
	check(0 < lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"],
		"%s: latency percentiles %s" % (what, lat))
	check(lat["p99"] < 100000, "%s: p99 %.0f us" % (what, lat["p99"]))
	n = len(r["per_second"])
	check(seconds <= n <= seconds + 2, "%s: %d per_second entries for %d s" % (
		what, n, seconds))
	rc = r["rcode"]
	check(set(rc) <= {"NOERROR", "NXDOMAIN"} and sum(rc.values()) == r["answered"],
		"%s: rcodes %s" % (what, rc))
	share = rc.get("NXDOMAIN", 0) / max(r["answered"], 1)
	check(abs(share - nxshare) < 0.02, "%s: NXDOMAIN share %.3f, the queries' %.3f"
		% (what, share, nxshare))
	check(r["port"]["tx"] >= r["sent"] and r["port"]["rx"] >= r["answered"],
		"%s: port counters %s" % (what, r["port"]))


def main_test(args):
	build = os.path.abspath(args.build)
	tmp = tempfile.mkdtemp(prefix="bw-replay-")
	CLEANUP.dirs.append(tmp)
	os.chmod(tmp, 0o755)
	zonefile = os.path.join(tmp, "replay.test.zone")
	with open(zonefile, "w") as f:
		f.write(ZONE)
	table = compile_zone(build, zonefile, ORIGIN, os.path.join(tmp, "replay.bwz"))
	pcap, qlist = make_pcap(build, tmp, zonefile)
	mac = setup_network()
	prefix = "bwreplay%d" % PID
	srv = CLEANUP.server(build, conf_text(tmp, table, prefix), prefix, netns=NS_A)
	try:
		srv.start()
	except RuntimeError as e:
		raise TestFailure("bulwarkd did not start: %s" % e)
	res = {}
	common = ["--dst-mac", mac, "--rate", str(args.rate), "--duration",
		str(args.seconds)]

	# 1. Clean runs: the pcap, then the query list.
	j1 = os.path.join(tmp, "r1.json")
	p = start_replay(build, "bwrp1%d" % PID, ["--pcap", pcap, "--json", j1] + common)
	r1, err1 = finish_replay(p, j1, args.seconds + 30)
	check(len([x for x in err1.splitlines() if " q/s " in x]) >= args.seconds,
		"no progress lines on stderr:\n%s" % err1)
	check_clean(r1, "pcap run", args.seconds, args.rate, NXDOMAIN)
	res["pcap"] = r1

	j2 = os.path.join(tmp, "r2.json")
	p = start_replay(build, "bwrp2%d" % PID, ["--queries", qlist, "--dst4", SRV4,
		"--src4", "192.0.2.128/25", "--json", j2, "--quiet"] + common)
	r2, _ = finish_replay(p, j2, args.seconds + 30)
	check_clean(r2, "query-list run", args.seconds, args.rate, NXDOMAIN)
	res["queries"] = r2

	# 2. bulwarkd stops during the run.
	j3 = os.path.join(tmp, "r3.json")
	p = start_replay(build, "bwrp3%d" % PID, ["--pcap", pcap, "--json", j3,
		"--quiet", "--dst-mac", mac, "--rate", str(args.rate), "--duration",
		str(STOPPED_SECONDS),
		"--timeout", "500"])
	t0 = time.monotonic()
	time.sleep(1.5)                      # EAL start-up, then about 1 s of load
	if p.poll() is not None:
		raise TestFailure("bulwark-replay ended early: %s" % (p.communicate(),))
	# SIGKILL if a graceful stop takes longer than TERM_WAIT: the load
	# must see the server gone.
	os.kill(srv.proc.pid, signal.SIGTERM)
	try:
		srv.proc.wait(TERM_WAIT)
		res["killed"] = False
	except subprocess.TimeoutExpired:
		srv.proc.kill()
		res["killed"] = True
	srv.stop()
	t_stop = time.monotonic() - t0
	r3, _ = finish_replay(p, j3, 30)
	res["stop_at"] = t_stop
	res["stop_elapsed"] = time.monotonic() - t0
	check_shape(r3)
	check(r3["lost"] > 0 and r3["answered"] > 0, "bulwarkd gone %.1f s after the "
		"start: answered %d, lost %d; per second: %s" % (res["stop_at"],
		r3["answered"], r3["lost"], r3["per_second"]))
	check(r3["answered"] + r3["lost"] == r3["sent"], "stopped server: sent %d, "
		"answered %d + lost %d" % (r3["sent"], r3["answered"], r3["lost"]))
	check(sum(s["lost"] for s in r3["per_second"]) == r3["lost"],
		"per_second lost do not add up")
	res["stopped"] = r3
	return res


def report(res):
	for what in ("pcap", "queries", "stopped"):
		r = res[what]
		lat = r["latency_us"]
		print("%s: sent %d (%.0f q/s), answered %d, lost %d, unmatched %d, "
			"rcodes %s; latency p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max "
			"%.1f us; %d seconds; port %s" % (what, r["sent"], r["offered_qps"],
			r["answered"], r["lost"], r["unmatched"], r["rcode"], lat["p50"],
			lat["p99"], lat["p999"], lat["max"], len(r["per_second"]), r["port"]))
	print("stopped run: bulwarkd gone %.1f s (%s), bulwark-replay ended %.1f s "
		"after the start" % (res["stop_at"], "SIGTERM, then SIGKILL after %.1f s"
		% TERM_WAIT if res["killed"] else "SIGTERM", res["stop_elapsed"]))


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--build", required=True, help="meson build directory")
	ap.add_argument("--rate", type=float, default=5000.0, help="q/s (5000)")
	ap.add_argument("--seconds", type=int, default=3, help="length of a run (3)")
	args = ap.parse_args()
	build = os.path.abspath(args.build)
	why = unready(build, [("controlplane", "bulwarkd"),
		("zonecomp", "cli", "bulwark-compile"), ("bench", "replay", "bulwark-replay")])
	if why is not None:
		print("FAIL: %s" % why)
		return 2
	t = time.monotonic()
	res = CLEANUP.call(main_test, args)
	if res is None:
		return 1
	report(res)
	print("PASS in %.1f s" % (time.monotonic() - t))
	return 0


if __name__ == "__main__":
	sys.exit(main())
