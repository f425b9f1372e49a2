#!/usr/bin/python3
"""Zone compiler figures on one zone, in one run, against kzonecheck.

For the zone (by default the generated 1M-name zone, fixed seed) it times,
in interleaved rounds:
  * bulwark-compile --check  (parse and zone checks: the parser's speed)
  * bulwark-compile          (parse, check, pack and write the table)
  * kzonecheck               (Knot DNS's zone checker, same file)
and prints the median of each, lines per second, the table size and its
ratio to the records' wire size.

    scripts/bench-compile.py --build build [--zone Z --origin O] [--rounds 3]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(argv):
	start = time.monotonic()
	done = subprocess.run(argv, capture_output=True, text=True)
	elapsed = time.monotonic() - start
	if done.returncode != 0:
		sys.exit("%s failed:\n%s%s" % (argv[0], done.stdout, done.stderr))
	return elapsed, done.stderr


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--build", required=True)
	ap.add_argument("--zone")
	ap.add_argument("--origin", default="example.")
	ap.add_argument("--names", type=int, default=1000000)
	ap.add_argument("--rounds", type=int, default=3)
	args = ap.parse_args()

	work = tempfile.mkdtemp(prefix="bw-bench-compile-")
	zone = args.zone
	if zone is None:
		zone = os.path.join(work, "zone.db")
		subprocess.run(["/usr/bin/python3", os.path.join(HERE, "gen-zone.py"),
			"-n", str(args.names), "--seed", "1", "--origin", args.origin,
			"-o", zone, "-q", os.path.join(work, "queries.txt")], check=True)
	with open(zone, "rb") as f:
		lines = sum(1 for _ in f)
	compiler = os.path.join(os.path.abspath(args.build), "zonecomp", "cli",
		"bulwark-compile")
	table = os.path.join(work, "zone.bwz")
	runs = {"check": [], "compile": [], "kzonecheck": []}
	summary = ""
	for _ in range(args.rounds):
		runs["check"].append(timed([compiler, "--check", zone, "-z", args.origin])[0])
		elapsed, summary = timed([compiler, zone, "-z", args.origin, "-o", table])
		runs["compile"].append(elapsed)
		runs["kzonecheck"].append(timed(["kzonecheck", "-o", args.origin, zone])[0])

	med = {k: statistics.median(v) for k, v in runs.items()}
	size = os.path.getsize(table)
	wire = re.search(r"wire size of (\d+) bytes", summary)
	ratio = size / int(wire.group(1)) if wire else float("nan")
	print(f"zone: {zone} ({lines:,} lines)")
	print(f"| step | median s ({args.rounds} rounds) | lines/s | vs kzonecheck |")
	print("| --- | ---: | ---: | ---: |")
	for name, label in (("check", "bulwark-compile --check (parse + checks)"),
			("compile", "bulwark-compile (parse, check, pack, write)"),
			("kzonecheck", "kzonecheck")):
		print(f"| {label} | {med[name]:.2f} | {lines / med[name]:,.0f} | "
			f"{med['kzonecheck'] / med[name]:.2f}x |")
	print(f"\ntable: {size:,} bytes, {ratio:.2f}x the records' wire size")
	for name in os.listdir(work):
		os.unlink(os.path.join(work, name))
	os.rmdir(work)
	return 0


if __name__ == "__main__":
	sys.exit(main())
