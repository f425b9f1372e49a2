#!/usr/bin/python3
"""Side-by-side UDP throughput: bulwarkd (io socket, 1 worker) against NSD
and Knot DNS (one UDP thread each), same zone, same query file, each server
pinned to the same core and dnsperf pinned to the other, all in one run.

Servers are measured in interleaved rounds (bulwark, nsd, knot, bulwark,
...) so that the machine's noise hits all of them alike; the report gives
the median qps of each and the ratio to bulwarkd.

    scripts/bench-servers.py --build build --zone Z --origin O --queries Q
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
	"..", "tests", "diff"))

from bulwark import Bulwark  # noqa: E402
from refserver import Knot, Nsd  # noqa: E402


def pinned(cls, cpu):
	"""A subclass of a server class whose process runs on one CPU."""
	class Pinned(cls):
		def prepare(self):
			return ["taskset", "-c", str(cpu)] + super().prepare()
	Pinned.name = cls.name
	return Pinned


def dnsperf(port, queries, seconds, cpu):
	argv = ["taskset", "-c", str(cpu), "dnsperf", "-s", "127.0.0.1",
		"-p", str(port), "-d", queries, "-l", str(seconds), "-c", "4",
		"-q", "256", "-T", "1"]
	out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
	qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))
	lost = re.search(r"Queries lost:\s+(\d+)", out)
	return qps, int(lost.group(1)) if lost else 0


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--build", required=True)
	ap.add_argument("--zone", required=True)
	ap.add_argument("--origin", required=True)
	ap.add_argument("--queries", required=True)
	ap.add_argument("--seconds", type=int, default=10)
	ap.add_argument("--rounds", type=int, default=3)
	ap.add_argument("--server-cpu", type=int, default=0)
	ap.add_argument("--client-cpu", type=int, default=1)
	args = ap.parse_args()

	cpu = args.server_cpu
	servers = [
		("bulwarkd (io socket, 1 worker)",
			lambda: pinned(Bulwark, cpu)(args.zone, args.origin, args.build)),
		("nsd (server-count 1)", lambda: pinned(Nsd, cpu)(args.zone, args.origin)),
		("knotd (udp-workers 1)", lambda: pinned(Knot, cpu)(args.zone, args.origin)),
	]
	results = {name: [] for name, _ in servers}
	for rnd in range(args.rounds):
		for name, make in servers:
			with make() as server:
				qps, lost = dnsperf(server.port, args.queries, args.seconds,
					args.client_cpu)
			results[name].append(qps)
			print(f"round {rnd + 1}: {name}: {qps:,.0f} qps ({lost} lost)",
				file=sys.stderr, flush=True)

	base = statistics.median(results[servers[0][0]])
	print(f"\n| server | median qps ({args.rounds} rounds x {args.seconds} s) "
		"| ratio to bulwarkd |")
	print("| --- | ---: | ---: |")
	for name, runs in results.items():
		med = statistics.median(runs)
		print(f"| {name} | {med:,.0f} | {med / base:.2f} |")
	return 0


if __name__ == "__main__":
	sys.exit(main())
