#!/usr/bin/python3
"""Cost of the flood mitigation fast path, in capacity mode.

    bench-mitigation.py [--names N] [--queries N] [--rounds R] [--duration S]
                        [--json FILE]

Generates a zone (gen-zone.py) and two query pcaps (gen-query-pcap.py gen,
10,000 sources): the normal mix (70% positive, 20% NXDOMAIN, 10% NODATA)
and the flood mix (100% NXDOMAIN: random labels under the apex, which the
detector flags: with it on, the flood is mostly dropped).
Each is replayed through one DPDK worker (scripts/capacity.py: net_pcap with
infinite_rx) in four modes, one after the other in each round: off (no
rate-limit, answer-cookie no, detection off), detect (cookies answered,
sketches fed, attack actions), rrl (plus rate-limit with BIND-like limits)
and full (plus 10 Hyperscan filters that match nothing).  Reports queries handled per second per core (frames the
worker took, answered or not: with the mitigation on, the flood mix is
mostly dropped once its parents are flagged) and the on/off ratio; the
median of the rounds.  Run as root on an otherwise idle machine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

RRL = ("rate-limit { responses-per-second 1000; nxdomains-per-second 100; "
	"window 5; slip 2; };")
DETECT = ("flood-mitigation { interval 250; nxdomain-rate 5000; distinct-rate 2000; "
	"attack-action rate-limit; };")
# name: (options, top-level statements, with filters)
MODES = {
	"off": ("answer-cookie no;", "flood-mitigation { enable no; };", False),
	"detect": ("", DETECT, False),
	"rrl": (RRL, DETECT, False),
	"full": (RRL, DETECT, True),
}
FILTERS = [r"^[a-z0-9]{40}\.", r"\.evil\.example\.$", "xn--", r"^_[a-z]+\._tcp\.",
	r"(^|\.)ddos[0-9]+\.", "spam-", r"^[0-9]{30}", r"\.test\.invalid\.$",
	r"^aaaa+\.", r"bad(host|name)[0-9]{5}"]


def run(cmd, **kw):
	return subprocess.run(cmd, check=True, **kw)


def make_inputs(args, tmp):
	zone = os.path.join(tmp, "zone.db")
	run([sys.executable, os.path.join(HERE, "gen-zone.py"), "-n", str(args.names),
		"-o", zone, "-q", os.path.join(tmp, "q.txt"), "--queries", "1",
		"--origin", "bench.example."], stdout=subprocess.DEVNULL)
	# The flood: random labels under the apex only (drawn from a zone
	# that has nothing else; against the big zone they are NXDOMAIN too).
	apex = os.path.join(tmp, "apex.db")
	with open(apex, "w") as f:
		f.write("$ORIGIN bench.example.\n$TTL 3600\n@ SOA ns1 h 1 7200 3600 "
			"1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n")
	pcaps = {}
	for mix, src, weights in (
			("normal", zone, ["--positive", "7", "--nxdomain", "2", "--nodata", "1"]),
			("flood", apex, ["--positive", "0", "--nxdomain", "1"])):
		out = os.path.join(tmp, mix + ".pcap")
		run([sys.executable, os.path.join(HERE, "gen-query-pcap.py"), "gen",
			"--zone", src, "--origin", "bench.example.", "-o", out,
			"-n", str(args.queries), "--sources", "10000", "--seed", "7"] + weights,
			stdout=subprocess.DEVNULL)
		pcaps[mix] = out
	state = os.path.join(tmp, "flood.state")
	with open(state, "w") as f:
		json.dump({"version": 1, "filters": [
			{"id": i + 1, "pattern": p, "literal": False, "action": "drop"}
			for i, p in enumerate(FILTERS)]}, f)
	return zone, pcaps, state


def capacity(args, pcap, zone, mode, state, tmp):
	out = os.path.join(tmp, "cap.json")
	cmd = [sys.executable, os.path.join(HERE, "capacity.py"), pcap, zone, "1",
		"--origin", "bench.example.", "--no-testpmd", "--rounds", "1",
		"--duration", str(args.duration), "--json", out,
		"--options", mode[0], "--top", mode[1]]
	if mode[2]:
		cmd += ["--flood-state", state]
	run(cmd, stdout=subprocess.DEVNULL)
	with open(out) as f:
		return json.load(f)


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--names", type=int, default=100000)
	ap.add_argument("--queries", type=int, default=200000)
	ap.add_argument("--rounds", type=int, default=3)
	ap.add_argument("--duration", type=float, default=4.0)
	ap.add_argument("--json")
	args = ap.parse_args()
	tmp = tempfile.mkdtemp(prefix="bw-mitig-")
	try:
		zone, pcaps, state = make_inputs(args, tmp)
		res = {}
		for mix in ("normal", "flood"):
			res[mix] = {name: [] for name in MODES}
			for r in range(args.rounds):
				for name, mode in MODES.items():
					c = capacity(args, pcaps[mix], zone, mode, state, tmp)
					res[mix][name].append({"handled": c["handled_qps"],
						"answered": c["bulwark_qps"], "drop": c["drop"]})
					print("  %s %s round %d: %.3f Mqps handled, %.3f Mqps answered" % (
						mix, name, r + 1, c["handled_qps"] / 1e6,
						c["bulwark_qps"] / 1e6), flush=True)
	finally:
		subprocess.run(["rm", "-rf", tmp])
	print("\nQueries handled per second by one worker core (median of %d rounds); "
		"ratio to off in parentheses; answered with everything on:\n" % args.rounds)
	print("| mix | " + " | ".join(MODES) + " | answered (full) |")
	print("|---" * (len(MODES) + 2) + "|")
	summary = {}
	for mix in ("normal", "flood"):
		med = {m: statistics.median(x["handled"] for x in res[mix][m]) for m in MODES}
		ans = statistics.median(x["answered"] for x in res[mix]["full"])
		summary[mix] = {"handled": med, "answered_full": ans,
			"ratio": {m: med[m] / med["off"] for m in MODES}}
		print("| %s | " % mix + " | ".join("%.3f (%.2f)" % (med[m] / 1e6,
			med[m] / med["off"]) for m in MODES) + " | %.3f |" % (ans / 1e6))
	if args.json:
		with open(args.json, "w") as f:
			json.dump({"summary": summary, "rounds": res}, f, indent=1)


if __name__ == "__main__":
	main()
