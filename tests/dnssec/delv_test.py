#!/usr/bin/python3
"""Signed answers validate: delv against a server serving the signed test zone.

    delv_test.py --server knot|bulwark [--build BUILD] [--modes nsec,nsec3,...]

For each denial mode the differential zone (tests/diff/zones) is signed at
test time (tests/diff/signzone.py: fresh ECDSAP256SHA256 KSK and ZSK, fixed
validity), served on 127.0.0.1 by Knot DNS (proves the test) or by bulwarkd
(the zone compiled with --presigned), and every kind of answer is checked
with `delv @127.0.0.1 -p PORT -a ANCHORS +root=diff.example NAME TYPE`,
the trust anchor being the zone's KSK: "; fully validated" for data,
"; negative response, fully validated" for NXDOMAIN and NODATA.

delv (BIND 9.18) sends every query to the one server and rejects a referral
from it ("non-improving referral"), so referrals are checked here with
dnspython instead: the DNSKEY RRset is validated with the KSK, then the
referral's DS RRset (secure delegation) or its NSEC/NSEC3 proof that there
is no DS (insecure delegation) must be present and validate, and the proof
must say what it should (NS without DS at the cut, or an opt-out span). The
DS queries at the same cuts go through delv.

Exit status 0: all cases pass; 1: a case failed; 2: the server did not
start; 77 (skipped): delv or the BIND signing tools are missing.
"""

import argparse
import base64
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
DIFF = os.path.join(HERE, "..", "diff")
sys.path.insert(0, DIFF)

import dns.dnssec  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402

import refserver  # noqa: E402
import signzone  # noqa: E402
from bulwark import Bulwark  # noqa: E402

ZONE = os.path.join(DIFF, "zones", "diff.example.zone")
ORIGIN = "diff.example."
POSITIVE = "; fully validated"
NEGATIVE = "; negative response, fully validated"
INSECURE = "; unsigned answer"
SKIP = 77

# (what, name relative to the zone, type, delv's verdict); a CNAME to a name
# that does not exist validates as a whole: the CNAME and its NXDOMAIN proof
NX_AFTER_CNAME = ";-$NXDOMAIN"
CASES = (
	("positive", "www", "A", POSITIVE),
	("positive at the apex", "@", "MX", POSITIVE),
	("DNSKEY", "@", "DNSKEY", POSITIVE),
	("NXDOMAIN", "nx", "A", NEGATIVE),
	("NXDOMAIN two labels down", "a.b.nx", "TXT", NEGATIVE),
	("NXDOMAIN below an empty non-terminal", "x.ent.wild", "A", NEGATIVE),
	("NXDOMAIN next to a wildcard's sibling", "sub.exists.wild", "A", NEGATIVE),
	("NODATA", "www", "SRV", NEGATIVE),
	("NODATA at the apex", "@", "SRV", NEGATIVE),
	("NODATA at an empty non-terminal", "b.c.ent", "A", NEGATIVE),
	("NODATA at an empty non-terminal (top)", "ent", "TXT", NEGATIVE),
	("wildcard positive", "foo.wild", "A", POSITIVE),
	("wildcard positive two labels down", "a.b.wild", "TXT", POSITIVE),
	("wildcard below empty non-terminals", "x.a.ent2", "AAAA", POSITIVE),
	("wildcard NODATA", "foo.wild", "SRV", NEGATIVE),
	("CNAME chain", "c1", "A", POSITIVE),
	("CNAME to NXDOMAIN", "cnx", "A", POSITIVE),
	("wildcard CNAME", "foo.cw", "A", POSITIVE),
	("DNAME", "www.dn", "A", POSITIVE),
	("DS at a secure delegation", "child", "DS", POSITIVE),
	("DS at an insecure delegation", "mixed", "DS", NEGATIVE),
	("DS at a name that does not exist", "nope", "DS", NEGATIVE),
)
# A validator cannot rule out an insecure delegation inside an opt-out span,
# so a wildcard answer whose next closer name falls in one is insecure
# (BIND's validator says so); the server's part is the same proof.
OPTOUT_VERDICTS = {"wildcard positive": INSECURE,
	"wildcard positive two labels down": INSECURE,
	"wildcard below empty non-terminals": INSECURE}
# (what, name below the cut, cut, secure)
REFERRALS = (
	("referral with DS", "host.child", "child", True),
	("referral without DS (glue in the child)", "www.mixed", "mixed", False),
	("referral without DS (servers in the parent)", "x.inparent", "inparent", False),
	("referral without DS (servers outside)", "a.b.outside", "outside", False),
)


def absolute(name):
	return ORIGIN if name == "@" else "%s.%s" % (name, ORIGIN)


def write_anchors(signed, path):
	"""A delv trust-anchors block with the zone's KSK."""
	flags, proto, alg, key = signed.ksk_dnskey()
	with open(path, "w") as f:
		f.write('trust-anchors {\n\t"%s" static-key %d %d %d "%s";\n};\n' % (
			ORIGIN, flags, proto, alg, key))
	return path


def delv(port, anchors, name, rdtype):
	argv = ["delv", "@127.0.0.1", "-p", str(port), "-a", anchors,
		"+root=" + ORIGIN.rstrip("."), name, rdtype]
	try:
		done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
	except subprocess.TimeoutExpired:
		return "delv timed out"
	return done.stdout + done.stderr


def query(port, name, rdtype):
	msg = dns.message.make_query(name, rdtype, want_dnssec=True, payload=4096)
	msg.flags &= ~dns.flags.RD
	return dns.query.tcp(msg, "127.0.0.1", port=port, timeout=10)


class Validator:
	"""RRSIG checks with the zone's DNSKEY RRset, itself checked with the KSK."""

	def __init__(self, port, signed):
		self.origin = dns.name.from_text(ORIGIN)
		reply = query(port, ORIGIN, "DNSKEY")
		keys = reply.get_rrset(reply.answer, self.origin, dns.rdataclass.IN,
			dns.rdatatype.DNSKEY)
		sigs = reply.get_rrset(reply.answer, self.origin, dns.rdataclass.IN,
			dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
		if keys is None or sigs is None:
			raise AssertionError("no signed DNSKEY RRset at the apex")
		flags, proto, alg, key = signed.ksk_dnskey()
		anchor = dns.rrset.from_text(self.origin, 3600, "IN", "DNSKEY",
			"%d %d %d %s" % (flags, proto, alg, key))
		dns.dnssec.validate(keys, sigs, {self.origin: anchor})
		self.keys = {self.origin: keys}

	def signed_rrset(self, section, name, rdtype):
		"""The RRset NAME/RDTYPE in SECTION after its RRSIGs validated, or None."""
		rrset = next((r for r in section if r.name == name and r.rdtype == rdtype), None)
		if rrset is None:
			return None
		sigs = next((r for r in section if r.name == name and
			r.rdtype == dns.rdatatype.RRSIG and r.covers == rdtype), None)
		if sigs is None:
			raise AssertionError("%s %s has no RRSIG" % (name,
				dns.rdatatype.to_text(rdtype)))
		dns.dnssec.validate(rrset, sigs, self.keys)
		return rrset


def nsec3_covers(owner_hash, next_hash, target):
	if owner_hash < next_hash:
		return owner_hash < target < next_hash
	return target > owner_hash or target < next_hash  # the last one wraps


def check_no_ds(validator, authority, cut):
	"""The referral proves there is no DS at CUT (NSEC, NSEC3 or an opt-out span)."""
	nsec = validator.signed_rrset(authority, cut, dns.rdatatype.NSEC)
	if nsec is not None:
		types = set(nsec[0].windows_types()) if hasattr(nsec[0], "windows_types") \
			else _bitmap_types(nsec[0])
		if dns.rdatatype.NS not in types or dns.rdatatype.DS in types:
			raise AssertionError("NSEC at %s does not prove NS without DS" % cut)
		return "NSEC: NS without DS"
	nsec3s = [r for r in authority if r.rdtype == dns.rdatatype.NSEC3]
	if not nsec3s:
		raise AssertionError("no NSEC or NSEC3 proof of the missing DS")
	for rrset in nsec3s:
		validator.signed_rrset(authority, rrset.name, dns.rdatatype.NSEC3)
	rd = nsec3s[0][0]
	target = dns.dnssec.nsec3_hash(cut, rd.salt, rd.iterations, rd.algorithm).lower()
	for rrset in nsec3s:
		owner = rrset.name.labels[0].decode().lower()
		data = rrset[0]
		if owner == target:
			types = _bitmap_types(data)
			if dns.rdatatype.NS not in types or dns.rdatatype.DS in types:
				raise AssertionError("NSEC3 of %s does not prove NS without DS" % cut)
			return "NSEC3: NS without DS"
	# opt-out (RFC 5155 7.2.7): the closest provable encloser's NSEC3 plus
	# an opt-out NSEC3 covering the next closer name (here the cut itself)
	for rrset in nsec3s:
		data = rrset[0]
		owner = rrset.name.labels[0].decode().lower()
		if data.flags & 1 and nsec3_covers(owner, _b32hex(data.next), target):
			return "NSEC3: opt-out span"
	raise AssertionError("no NSEC3 matches or covers %s with opt-out" % cut)


def _b32hex(raw):
	"""An NSEC3 next hashed owner name as it reads in an owner label."""
	return base64.b32hexencode(raw).decode().lower().rstrip("=")


def _bitmap_types(rdata):
	"""The types in an NSEC or NSEC3 type bitmap."""
	types = set()
	for window, bitmap in rdata.windows:
		for i, byte in enumerate(bitmap):
			for bit in range(8):
				if byte & (0x80 >> bit):
					types.add(window * 256 + i * 8 + bit)
	return types


def check_referral(port, validator, name, cut, secure):
	reply = query(port, name, "A")
	if reply.answer or reply.flags & dns.flags.AA:
		raise AssertionError("not a referral: %s" % reply.to_text())
	if not any(r.name == cut and r.rdtype == dns.rdatatype.NS for r in reply.authority):
		raise AssertionError("no NS RRset for %s in the referral" % cut)
	ds = validator.signed_rrset(reply.authority, cut, dns.rdatatype.DS)
	if secure:
		if ds is None:
			raise AssertionError("secure delegation without DS in the referral")
		return "DS and its RRSIG validate"
	if ds is not None:
		raise AssertionError("DS in the referral of an insecure delegation")
	return check_no_ds(validator, reply.authority, cut)


def make_server(args, zonefile):
	if args.server == "bulwark":
		return Bulwark(zonefile, ORIGIN, args.build, presigned=True)
	return refserver.Knot(zonefile, ORIGIN)


def run_mode(args, mode):
	"""Sign, serve and check one denial mode; returns the number of failures."""
	signed = signzone.sign(ZONE, ORIGIN, mode)
	failures = 0
	try:
		anchors = write_anchors(signed, os.path.join(signed.directory, "anchors.conf"))
		try:
			server = make_server(args, signed.path).start()
		except RuntimeError as err:
			print("cannot start %s: %s" % (args.server, err))
			return None
		try:
			failures += run_delv_cases(server.port, anchors, mode)
			failures += run_referral_cases(server.port, signed, mode)
		finally:
			server.stop()
	finally:
		if args.keep:
			print("kept %s" % signed.directory)
		else:
			signed.remove()
	return failures


def report(mode, what, ok, detail):
	print("%s %-13s %s%s" % ("PASS" if ok else "FAIL", mode,
		what, "" if ok else "\n    " + detail.strip().replace("\n", "\n    ")))


def run_delv_cases(port, anchors, mode):
	failures = 0
	for what, name, rdtype, verdict in CASES:
		if mode == "nsec3-optout":
			verdict = OPTOUT_VERDICTS.get(what, verdict)
		out = delv(port, anchors, absolute(name), rdtype)
		ok = verdict in out.splitlines() and \
			(name != "cnx" or NX_AFTER_CNAME in out)
		report(mode, "%s: %s %s -> %s" % (what, absolute(name), rdtype, verdict), ok, out)
		failures += not ok
	return failures


def run_referral_cases(port, signed, mode):
	failures = 0
	try:
		validator = Validator(port, signed)
	except Exception as err:  # any failure here fails every referral case
		report(mode, "DNSKEY RRset validates with the KSK", False, str(err))
		return len(REFERRALS)
	for what, name, cut, secure in REFERRALS:
		qname = dns.name.from_text(absolute(name))
		try:
			detail = check_referral(port, validator, qname,
				dns.name.from_text(absolute(cut)), secure)
			ok = True
		except Exception as err:  # a validation error is a failed case
			detail, ok = "%s: %s" % (type(err).__name__, err), False
		report(mode, "%s: %s A (%s)" % (what, qname, detail if ok else "dnspython"),
			ok, detail)
		failures += not ok
	return failures


def main(argv=None):
	p = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	p.add_argument("--server", choices=("knot", "bulwark"), default="knot")
	p.add_argument("--build", help="meson build directory (for --server bulwark)")
	p.add_argument("--modes", default="nsec,nsec3,nsec3-optout",
		help="comma-separated denial modes (default all: %(default)s)")
	p.add_argument("--keep", action="store_true", help="keep the signed zones")
	args = p.parse_args(argv)
	if args.server == "bulwark" and not args.build:
		p.error("--server bulwark needs --build BUILD_DIR")
	missing = signzone.missing_tools() + ([] if shutil.which("delv") else ["delv"])
	if missing:
		print("skipped: %s not installed" % " ".join(missing))
		return SKIP
	print("server: %s" % args.server)
	total = 0
	for mode in args.modes.split(","):
		failures = run_mode(args, mode)
		if failures is None:
			return 2
		total += failures
	print("%d failure(s)" % total)
	return 1 if total else 0


if __name__ == "__main__":
	sys.exit(main())
