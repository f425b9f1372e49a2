#!/usr/bin/python3
"""Differential test: the same queries to two servers serving the same zone.

    run_diff.py --build BUILD --ref knot --zone ZONE --origin ORIGIN
        bulwarkd (from BUILD) against a reference server (nsd or knot)
    run_diff.py --a nsd --b knot --zone ZONE --origin ORIGIN
        two reference servers against each other (checks the harness)

Queries come from the zone itself (queries.from_zone) or from a dnsperf
file (--queries). DNSSEC: --sign nsec|nsec3|nsec3-optout signs the zone
first (signzone.py, fresh keys in a temporary directory) and every server
serves the signed file; --do sets the DO bit on every query, --do-mix on
half of them. Prints a report; exits 1 when a difference is not one of
the accepted differences listed in compare.py, 2 when a server fails.
"""

import argparse
import contextlib
import multiprocessing
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compare  # noqa: E402
import queries as querygen  # noqa: E402
import refserver  # noqa: E402
import signzone  # noqa: E402
from bulwark import Bulwark  # noqa: E402

SERVERS = ("bulwark", "nsd", "knot")
_ZONE = None  # compare.ZoneData, set before the query processes fork


def parse_args(argv):
	p = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	p.add_argument("--build", help="meson build directory holding bulwarkd")
	p.add_argument("--ref", choices=("nsd", "knot"),
		help="the reference server B that bulwark (A) is compared with")
	p.add_argument("--a", choices=SERVERS, help="server A (default bulwark)")
	p.add_argument("--b", choices=SERVERS, help="server B (default --ref)")
	p.add_argument("--zone", required=True, help="zone file")
	p.add_argument("--origin", required=True, help="zone name")
	p.add_argument("--queries", help="dnsperf query file (NAME TYPE per line)")
	p.add_argument("--count", type=int, help="number of queries (default: all)")
	p.add_argument("--seed", type=int, default=20240101)
	p.add_argument("--additional", choices=compare.POLICIES, default="exact",
		help="how the additional sections are compared (default exact)")
	p.add_argument("--no-tcp", action="store_true",
		help="do not ask again over TCP when both replies are truncated")
	p.add_argument("--jobs", type=int, default=max(2, min(8, os.cpu_count() or 2)),
		help="parallel query processes")
	p.add_argument("--show", type=int, default=20, help="mismatches printed")
	p.add_argument("--verbose", action="store_true",
		help="print both replies of each mismatch shown")
	p.add_argument("--no-rules", action="store_true",
		help="accept no difference at all (lists every raw difference)")
	p.add_argument("--keep", action="store_true", help="keep the servers' directories")
	p.add_argument("--sign", choices=signzone.MODES,
		help="sign the zone with dnssec-signzone first and serve the signed file")
	do = p.add_mutually_exclusive_group()
	do.add_argument("--do", dest="do", action="store_const", const="all",
		default="off", help="DO bit on every query")
	do.add_argument("--do-mix", dest="do", action="store_const", const="mix",
		help="DO bit on half of the queries")
	p.add_argument("--sig-time", help="check the signatures of a presigned "
		"zone at this time (YYYYMMDDHHMMSS), for zones signed long ago")
	p.add_argument("--presigned", choices=("auto", "yes", "no"), default="auto",
		help="bulwark-compile --presigned: auto = when the zone is signed and "
		"the run is a DNSSEC one (--sign, --do, --do-mix)")
	args = p.parse_args(argv)
	args.a = args.a or "bulwark"
	args.b = args.b or args.ref
	if args.b is None:
		p.error("give --ref, or --a and --b")
	if args.a == args.b:
		p.error("A and B are the same server")
	if "bulwark" in (args.a, args.b) and not args.build:
		p.error("bulwark needs --build BUILD_DIR")
	return args


def dnssec_run(args):
	return bool(args.sign) or args.do != "off"


def presigned(args):
	"""Whether bulwark-compile gets --presigned."""
	if args.presigned != "auto":
		return args.presigned == "yes"
	return dnssec_run(args) and signzone.is_signed(args.zone)


def make_server(name, args):
	if name == "bulwark":
		return Bulwark(args.zone, args.origin, args.build, keep=args.keep,
			presigned=presigned(args), sig_time=args.sig_time)
	return refserver.REFERENCES[name](args.zone, args.origin, keep=args.keep)


def make_queries(args, zone):
	if args.queries:
		return querygen.from_dnsperf(args.queries, args.count, args.seed, args.do)
	return querygen.from_zone(zone, args.count, args.seed, do=args.do,
		dnssec=dnssec_run(args))


def sign_zone(args, stack):
	"""With --sign: sign the zone; args.zone becomes the signed file."""
	if not args.sign:
		return
	missing = signzone.missing_tools()
	if missing:
		raise RuntimeError("--sign needs %s" % " ".join(missing))
	signed = signzone.sign(args.zone, args.origin, args.sign)
	if args.keep:
		print("signed zone and keys kept in %s" % signed.directory)
	else:
		stack.callback(signed.remove)
	args.zone = signed.path


def _run_chunk(job):
	"""One worker process: query both servers for its share of the set."""
	names, ports, origin, additional, tcp_on_tc, no_rules, chunk = job
	prober = compare.Prober(names[0], ports[0], names[1], ports[1], origin,
		additional, tcp_on_tc, _ZONE, rules=[] if no_rules else None)
	try:
		return prober.run(chunk)
	finally:
		prober.close()


def run_queries(servers, args, query_set):
	jobs = max(1, args.jobs)
	names = tuple(s.name for s in servers)
	ports = tuple(s.port for s in servers)
	# interleaved shares keep each process's mix like the whole set's
	work = [(names, ports, args.origin, args.additional, not args.no_tcp,
		args.no_rules, query_set[i::jobs]) for i in range(jobs)]
	with multiprocessing.get_context("fork").Pool(jobs) as pool:
		results = pool.map(_run_chunk, work)
	return [outcome for chunk in results for outcome in chunk]


def still_running(servers):
	ok = True
	for server in servers:
		if server.proc is None or server.proc.poll() is not None:
			print("%s died during the test:\n%s" % (server.name, server.log_tail()),
				file=sys.stderr)
			ok = False
	return ok


def main(argv=None):
	global _ZONE
	args = parse_args(argv)
	started = time.monotonic()
	with contextlib.ExitStack() as stack:
		try:
			sign_zone(args, stack)
		except RuntimeError as err:
			print("cannot sign the zone: %s" % err, file=sys.stderr)
			return 2
		zone = querygen.load_zone(args.zone, args.origin)
		_ZONE = compare.ZoneData(zone)
		query_set = make_queries(args, zone)
		servers = []
		for name in (args.a, args.b):
			try:
				servers.append(stack.enter_context(make_server(name, args)))
			except RuntimeError as err:
				print("cannot start %s: %s" % (name, err), file=sys.stderr)
				return 2
		print("A=%s on port %d, B=%s on port %d, zone %s%s, %d queries%s" % (
			args.a, servers[0].port, args.b, servers[1].port, args.origin,
			" signed (%s)" % args.sign if args.sign else "", len(query_set),
			{"off": "", "all": " all with DO", "mix": " half with DO"}[args.do]),
			flush=True)
		outcomes = run_queries(servers, args, query_set)
		alive = still_running(servers)
	report = compare.Report(args.a, args.b, args.show)
	for outcome in outcomes:
		report.add(outcome)
	print(report.text(args.verbose))
	print("time: %.1fs" % (time.monotonic() - started))
	if not alive:
		return 2
	return 1 if report.failed() else 0


if __name__ == "__main__":
	sys.exit(main())
