#!/usr/bin/python3
"""Zones signed by bulwark-compile are valid for BIND and Knot DNS.

For each key layout (CSK; KSK+ZSK), algorithm (8, 13, 15) and denial
(NSEC; NSEC3 and NSEC3 opt-out through a dnssec-policy), the test zone is
signed by bulwark-compile, dumped with --dump, and the dump must pass
`dnssec-verify` and `kzonecheck`. The dump compiled again with
--presigned must give the same table bytes.

    sign_test.py --build BUILD_DIR
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ZONE = os.path.join(HERE, "..", "diff", "zones", "diff.example.zone")
ORIGIN = "diff.example"

POLICY = """dnssec-policy "{name}" {{
	keys {{ {keys} }};
	dnskey-ttl 3600;
	signatures-validity 14d;
	{denial}
}};
"""


def run(argv, stdout=subprocess.PIPE):
	done = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, text=True)
	if done.returncode != 0:
		raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(argv),
			done.returncode, done.stdout, done.stderr))
	return done


def keygen(build, keydir, alg, role):
	"""Keys are made by bulwark-keygen for ECDSA, by dnssec-keygen for RSA,
	so that both kinds of key files are used for signing."""
	if alg == 8:
		flags = ["-f", "KSK"] if role in ("ksk", "csk") else []
		run(["dnssec-keygen", "-q", "-K", keydir, "-a", "RSASHA256", "-b", "2048"]
			+ flags + [ORIGIN])
		return
	flags = {"csk": ["-f", "CSK"], "ksk": ["-f", "KSK"], "zsk": []}[role]
	run([os.path.join(build, "zonecomp", "cli", "bulwark-keygen"), "-K", keydir,
		"-a", str(alg)] + flags + [ORIGIN])


def case(build, work, alg, layout, denial):
	name = "%s-%d-%s" % (layout, alg, denial)
	keydir = os.path.join(work, name)
	os.mkdir(keydir)
	for role in (("csk",) if layout == "csk" else ("ksk", "zsk")):
		keygen(build, keydir, alg, role)
	compiler = os.path.join(build, "zonecomp", "cli", "bulwark-compile")
	table = os.path.join(keydir, "zone.bwz")
	argv = [compiler, ZONE, "-z", ORIGIN, "-k", keydir, "-o", table, "-j", "2"]
	if denial != "nsec":
		conf = os.path.join(keydir, "policy.conf")
		keys = "csk lifetime unlimited algorithm %d;" % alg if layout == "csk" else \
			"ksk lifetime unlimited algorithm %d; zsk lifetime unlimited algorithm %d;" % (alg, alg)
		nsec3 = "nsec3param iterations 0 optout %s salt-length 0;" % \
			("yes" if denial == "nsec3-optout" else "no")
		with open(conf, "w") as f:
			f.write(POLICY.format(name="p", keys=keys, denial=nsec3))
		argv += ["-c", conf, "--policy", "p"]
	run(argv)
	dump = os.path.join(keydir, "zone.dump")
	with open(dump, "w") as f:
		run([compiler, "--dump", table], stdout=f)
	with open(dump) as f:
		text = f.read()
	if ("\tNSEC3PARAM\t" in text) != (denial != "nsec") or \
			("\t1 1 0 - " in text) != (denial == "nsec3-optout"):
		raise RuntimeError("%s: the zone does not use %s" % (name, denial))
	verify = ["dnssec-verify", "-o", ORIGIN] + (["-z"] if layout == "csk" else [])
	run(verify + [dump])
	run(["kzonecheck", "-o", ORIGIN, dump])
	again = os.path.join(keydir, "again.bwz")
	run([compiler, dump, "-z", ORIGIN, "--presigned", "-o", again])
	with open(table, "rb") as a, open(again, "rb") as b:
		if a.read() != b.read():
			raise RuntimeError("%s: the dump compiled with --presigned differs" % name)
	return name


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--build", required=True)
	args = ap.parse_args()
	build = os.path.abspath(args.build)
	passed = failed = 0
	with tempfile.TemporaryDirectory(prefix="bw-sign-") as work:
		for alg in (8, 13, 15):
			for layout in ("csk", "kskzsk"):
				for denial in ("nsec", "nsec3", "nsec3-optout"):
					try:
						name = case(build, work, alg, layout, denial)
						print("ok   %s" % name)
						passed += 1
					except RuntimeError as err:
						print("FAIL %s-%d-%s: %s" % (layout, alg, denial, err))
						failed += 1
	print("%d passed, %d failed" % (passed, failed))
	return 1 if failed else 0


if __name__ == "__main__":
	sys.exit(main())
