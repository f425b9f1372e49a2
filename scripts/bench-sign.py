#!/usr/bin/python3
"""Sign-and-compile time of a large zone, against BIND's dnssec-signzone
and ldns-signzone on the same zone and keys, in one run; then the size of
bulwark's signed table against the memory knotd and nsd take to serve the
same signed zone.

For NSEC and NSEC3 (RFC 9276: no salt, no extra iterations), in
interleaved rounds, with one ECDSAP256SHA256 CSK made by dnssec-keygen:
  * bulwark-compile -k KEYDIR -j THREADS   (sign, pack, write the table)
  * dnssec-signzone -N keep -j THREADS     (sign, write the zone file)
  * ldns-signzone                          (one thread; sign, write)
and prints the median of each and the ratios to bulwark-compile.

    scripts/bench-sign.py --build build [--names 1000000] [--rounds 3]
"""

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "diff"))

from benchlib import POLICY, rss_kb  # noqa: E402
from refserver import Knot, Nsd  # noqa: E402

def timed(argv, cwd=None):
	start = time.monotonic()
	done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL,
		stderr=subprocess.PIPE, text=True)
	if done.returncode != 0:
		sys.exit("%s failed:\n%s" % (" ".join(argv), done.stderr[-2000:]))
	return time.monotonic() - start


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--build", required=True)
	ap.add_argument("--names", type=int, default=1000000)
	ap.add_argument("--origin", default="example.")
	ap.add_argument("--threads", type=int, default=2)
	ap.add_argument("--rounds", type=int, default=3)
	args = ap.parse_args()
	build = os.path.abspath(args.build)
	compiler = os.path.join(build, "zonecomp", "cli", "bulwark-compile")

	work = tempfile.mkdtemp(prefix="bw-bench-sign-")
	zone = os.path.join(work, "zone.db")
	subprocess.run(["/usr/bin/python3", os.path.join(HERE, "gen-zone.py"),
		"-n", str(args.names), "--seed", "1", "--origin", args.origin,
		"-o", zone, "-q", os.path.join(work, "q.txt")], check=True)
	keydir = os.path.join(work, "keys")
	os.mkdir(keydir)
	subprocess.run(["dnssec-keygen", "-q", "-K", keydir, "-a", "ECDSAP256SHA256",
		"-f", "KSK", args.origin], check=True, stdout=subprocess.DEVNULL)
	key = glob.glob(os.path.join(keydir, "K*.key"))[0][:-4]
	policy = os.path.join(work, "policy.conf")
	with open(policy, "w") as f:
		f.write(POLICY)
	j = str(args.threads)
	table = os.path.join(work, "zone.bwz")
	steps = {
		"nsec": {
			"bulwark-compile": [compiler, zone, "-z", args.origin, "-k", keydir,
				"-j", j, "-o", table],
			"dnssec-signzone": ["dnssec-signzone", "-N", "keep", "-j", j, "-S", "-z",
				"-K", keydir, "-o", args.origin, "-f", zone + ".bind", zone],
			"ldns-signzone": ["ldns-signzone", "-f", zone + ".ldns", zone, key],
		},
		"nsec3": {
			"bulwark-compile": [compiler, zone, "-z", args.origin, "-k", keydir,
				"-c", policy, "--policy", "bench-nsec3", "-j", j, "-o", table],
			"dnssec-signzone": ["dnssec-signzone", "-N", "keep", "-j", j, "-S", "-z",
				"-3", "-", "-H", "0", "-K", keydir, "-o", args.origin,
				"-f", zone + ".bind", zone],
			"ldns-signzone": ["ldns-signzone", "-n", "-t", "0", "-f",
				zone + ".ldns", zone, key],
		},
	}
	print(f"zone: {args.names:,} names; ECDSAP256SHA256 CSK; {j} threads "
		"(ldns-signzone: 1)\n")
	print(f"| denial | signer | median s ({args.rounds} rounds) | vs bulwark-compile |")
	print("| --- | --- | ---: | ---: |")
	for denial, tools in steps.items():
		runs = {name: [] for name in tools}
		for _ in range(args.rounds):
			for name, argv in tools.items():
				runs[name].append(timed(argv, cwd=keydir))
		base = statistics.median(runs["bulwark-compile"])
		for name, values in runs.items():
			med = statistics.median(values)
			print(f"| {denial} | {name} | {med:.1f} | {med / base:.2f}x |")

	# The NSEC3 table is in place; serve the same signed zone elsewhere.
	signed = os.path.join(work, "signed.db")
	with open(signed, "w") as f:
		subprocess.run([compiler, "--dump", table], stdout=f, check=True)
	print(f"\nsigned table: {os.path.getsize(table):,} bytes "
		f"(zone file {os.path.getsize(signed):,} bytes)")
	for cls in (Knot, Nsd):
		with cls(signed, args.origin) as server:
			print(f"{server.name} RSS serving it: {rss_kb(server.proc.pid) * 1024:,} bytes")
	subprocess.run(["rm", "-rf", work], check=True)
	return 0


if __name__ == "__main__":
	sys.exit(main())
