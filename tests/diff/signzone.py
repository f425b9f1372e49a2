#!/usr/bin/python3
"""Sign a zone file at test time with BIND's tools (no keys are committed).

    signzone.py ZONE ORIGIN --mode nsec|nsec3|nsec3-optout [--dir DIR]
        [--algorithm 13] [--csk] [--keep]

Makes fresh keys with dnssec-keygen (a KSK and a ZSK, or one CSK) in a
temporary directory, adds their DNSKEY records to a copy of the zone and
signs it with `dnssec-signzone -N keep`: NSEC, NSEC3 as RFC 9276 asks
(`-3 -` no salt, `-H 0` no extra iterations) or NSEC3 with opt-out (`-A`).
Inception and expiration are fixed (FIXED_INCEPTION, FIXED_EXPIRATION) so
the signed zone validates for decades and the tests do not rot; the
expiration stays within 68 years of today (RFC 4034 3.1.5 compares the
times with serial number arithmetic, RFC 1982).

Prints the signed file's path. As a module: sign() returns a SignedZone
(the signed file, the key directory, the KSK's DNSKEY for trust anchors).
"""

import argparse
import dataclasses
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from typing import List

MODES = ("nsec", "nsec3", "nsec3-optout")
FIXED_INCEPTION = "20240101000000"
FIXED_EXPIRATION = "20740101000000"
TOOLS = ("dnssec-keygen", "dnssec-signzone")


@dataclasses.dataclass
class SignedZone:
	"""A zone signed in DIRECTORY; remove() deletes the directory."""

	path: str            # the signed zone file
	origin: str          # with the trailing dot
	mode: str
	directory: str
	keys: List[str]      # the .key files (K<zone>+<alg>+<tag>.key)
	ksk: str             # the KSK's (or CSK's) .key file

	def ksk_dnskey(self):
		"""(flags, protocol, algorithm, base64 key) of the KSK."""
		return read_dnskey(self.ksk)

	def remove(self):
		shutil.rmtree(self.directory, ignore_errors=True)


def missing_tools():
	"""The BIND tools this module needs that are not installed."""
	return [tool for tool in TOOLS if shutil.which(tool) is None]


def read_dnskey(keyfile):
	"""(flags, protocol, algorithm, key) from a dnssec-keygen .key file."""
	with open(keyfile) as f:
		for line in f:
			if line.startswith(";") or not line.strip():
				continue
			fields = line.split()
			at = [f.upper() for f in fields].index("DNSKEY")
			flags, proto, alg = (int(x) for x in fields[at + 1:at + 4])
			return flags, proto, alg, "".join(fields[at + 4:])
	raise ValueError("no DNSKEY in %s" % keyfile)


def _run(argv, cwd):
	done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
	if done.returncode != 0:
		raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(argv),
			done.returncode, done.stdout, done.stderr))
	return done.stdout.strip()


def make_key(directory, origin, algorithm, ksk):
	"""dnssec-keygen one key into DIRECTORY; returns the .key path."""
	argv = ["dnssec-keygen", "-q", "-a", str(algorithm), "-K", directory]
	if algorithm in (8, 10):
		argv += ["-b", "2048"]
	if ksk:
		argv += ["-f", "KSK"]
	base = _run(argv + [origin], directory).splitlines()[-1]
	return os.path.join(directory, base + ".key")


def signzone_argv(mode, origin, directory, unsigned, signed, csk=False):
	"""The dnssec-signzone command line for MODE (-z: a CSK signs everything)."""
	argv = ["dnssec-signzone", "-N", "keep", "-o", origin, "-K", directory,
		"-s", FIXED_INCEPTION, "-e", FIXED_EXPIRATION, "-f", signed]
	if csk:
		argv += ["-z"]
	if mode in ("nsec3", "nsec3-optout"):
		argv += ["-3", "-", "-H", "0"]
	if mode == "nsec3-optout":
		argv += ["-A"]
	return argv + [unsigned]


def sign(zonefile, origin, mode="nsec", directory=None, algorithm=13, csk=False):
	"""Sign ZONEFILE for ORIGIN with fresh keys; returns a SignedZone."""
	if mode not in MODES:
		raise ValueError("mode must be one of %s" % ", ".join(MODES))
	origin = origin if origin.endswith(".") else origin + "."
	directory = directory or tempfile.mkdtemp(prefix="bw-signed-")
	os.chmod(directory, 0o755)
	try:
		ksk = make_key(directory, origin, algorithm, True)
		keys = [ksk] if csk else [ksk, make_key(directory, origin, algorithm, False)]
		unsigned = os.path.join(directory, "unsigned.zone")
		with open(zonefile) as src, open(unsigned, "w") as dst:
			dst.write(src.read())
			dst.write("\n")
			for key in keys:
				dst.write("$INCLUDE %s\n" % key)
		signed = os.path.join(directory, "%s.zone.signed" % mode)
		_run(signzone_argv(mode, origin, directory, unsigned, signed, csk), directory)
		os.chmod(signed, 0o644)
	except BaseException:
		shutil.rmtree(directory, ignore_errors=True)
		raise
	return SignedZone(signed, origin, mode, directory, keys, ksk)


def is_signed(zonefile):
	"""True when ZONEFILE holds RRSIG records (e.g. the root zone corpus)."""
	with open(zonefile, errors="replace") as f:
		for line in f:
			fields = line.split(";", 1)[0].split()
			if "RRSIG" in (x.upper() for x in fields[:5]):
				return True
	return False


def main(argv=None):
	p = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	p.add_argument("zone")
	p.add_argument("origin")
	p.add_argument("--mode", choices=MODES, default="nsec")
	p.add_argument("--dir", help="output directory (default: a new temporary one)")
	p.add_argument("--algorithm", type=int, default=13)
	p.add_argument("--csk", action="store_true", help="one combined key, no ZSK")
	args = p.parse_args(argv)
	if missing_tools():
		print("missing: %s" % " ".join(missing_tools()), file=sys.stderr)
		return 2
	if args.dir:
		os.makedirs(args.dir, exist_ok=True)
	signed = sign(args.zone, args.origin, args.mode, args.dir, args.algorithm, args.csk)
	print(signed.path)
	for key in sorted(glob.glob(os.path.join(signed.directory, "K*.key"))):
		print("key %s" % key)
	return 0


if __name__ == "__main__":
	sys.exit(main())
