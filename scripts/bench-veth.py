#!/usr/bin/python3
"""Veth benchmark: bulwarkd's DPDK dataplane (net_af_xdp and net_af_packet)
against Knot DNS (XDP and kernel UDP) and NSD (kernel UDP), all driven by
kxdpgun over a veth pair between two network namespaces, in one run.

    scripts/bench-veth.py --zone Z --origin O --queries Q [--build build]
        [--duration 5] [--rounds 3] [--rate 2000000] [--batch 10]
        [--modes LIST] [--napi threaded|softirq] [--json FILE] [--verbose]

Run as root.  Q is a query file with one "NAME TYPE" per line (kxdpgun's
and dnsperf's format), e.g. from `scripts/gen-zone.py -n 100000 -o Z -q Q`.

The program creates two namespaces, bwbS-PID (server, interface vS,
192.0.2.53/24) and bwbG-PID (generator, interface vG, 192.0.2.1/24),
joined by a veth pair, and deletes them at the end (also on an error,
SIGINT or SIGTERM).  Every server serves the same zone with one serving
thread on the server CPU (default 1); kxdpgun runs on the generator CPU
(default 0) with one thread (vG has one queue) at a fixed offered rate:

    bulwark-af_xdp     bulwarkd, io dpdk, net_af_xdp on vS, 1 worker
    bulwark-af_packet  bulwarkd, io dpdk, net_af_packet on vS, 1 worker
    knot-xdp           knotd, `xdp: listen: vS@53`, udp-workers 1
    knot-udp           knotd on kernel UDP, udp-workers 1
    nsd-udp            nsd on kernel UDP, server-count 1

bulwarkd's EAL gets `-l GEN_CPU,SERVER_CPU`: its main lcore (control plane,
idle during the test) shares the generator's CPU and its one worker runs on
the server CPU.  knotd and nsd run under `taskset -c SERVER_CPU` and, once
started, every thread of theirs is pinned there again (knotd pins its
workers itself, round robin over all CPUs).  For bulwarkd vS has no
address (bulwarkd answers ARP itself); for knotd and nsd (XDP too: the
kernel answers ARP there) vS has 192.0.2.53/24.  Any XDP program left on
vS (knotd leaves its own) is removed before the next server starts.

Where the kernel's veth receive work runs matters on two CPUs.  With
--napi threaded (the default) both veth ends use threaded NAPI with GRO
on; vS's NAPI thread is pinned to the server CPU and vG's to the
generator CPU, so each side pays for its own receive path, as a server
does for its NIC queue.  With --napi softirq the receive work runs as a
softirq on the CPU that sent the packet (queries: the generator's CPU;
answers: the server's CPU); then the generator's CPU also carries the
servers' receive path and may become the limit (answered near 100%: the
server was not saturated).

Each round runs every mode once (interleaved, so that the machine's noise
hits them alike): start the server, check it answers SOA from the
generator namespace, ping to fill the neighbour table, a short warm-up,
then kxdpgun for --duration seconds; the answered rate of a mode is the
median over the rounds.  A mode that cannot run is reported as
"failed: reason" and the rest go on; the exit status is 0 unless no mode
gave a number.  The numbers are indicative: other work on the machine
shares the two CPUs.
"""


import argparse
import json
import os
import shutil
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from vethbench import (BulwarkAfPacket, BulwarkAfXdp, Failure,  # noqa: E402
	Interrupted, KnotUdp, KnotXdp, Nsd, VethBench, cleanup, descendants,
	install_signal_handlers, log, parse_kxdpgun, pin_all_threads, run)

__all__ = ["descendants", "pin_all_threads"]    # used by bench-tcp.py

MODES = ["bulwark-af_xdp", "bulwark-af_packet", "knot-xdp", "knot-udp", "nsd-udp"]
LABELS = {
	"bulwark-af_xdp": ("bulwarkd", "io dpdk, net_af_xdp, 1 worker"),
	"bulwark-af_packet": ("bulwarkd", "io dpdk, net_af_packet, 1 worker"),
	"knot-xdp": ("knotd", "XDP, udp-workers 1"),
	"knot-udp": ("knotd", "kernel UDP, udp-workers 1"),
	"nsd-udp": ("nsd", "kernel UDP, server-count 1"),
}
BASELINE = "bulwark-af_xdp"


SERVERS = {
	"bulwark-af_xdp": BulwarkAfXdp,
	"bulwark-af_packet": BulwarkAfPacket,
	"knot-xdp": KnotXdp,
	"knot-udp": KnotUdp,
	"nsd-udp": Nsd,
}


class Bench(VethBench):
	def __init__(self, args):
		super().__init__(args, "bw-veth-")
		self.set_zone(args.zone, args.origin)
		self.queries = os.path.abspath(args.queries)
		self.table = None
		self.table_error = None

	def compiled_table(self):
		"""The zone compiled for bulwarkd (once); Failure if it cannot be."""
		if self.table is None and self.table_error is None:
			table = os.path.join(self.tmp, "zone.bwz")
			try:
				argv = [self.program("zonecomp", "cli", "bulwark-compile"),
					self.zonefile, "-o", table, "-z", self.origin]
				done = run(argv, check=False, timeout=600)
				if done.returncode != 0:
					out = (done.stderr or done.stdout).strip().splitlines()
					raise Failure("bulwark-compile failed (%d): %s" % (done.returncode,
						out[-1] if out else ""))
				log(done.stderr.strip() or done.stdout.strip())
				self.table = table
			except Failure as err:
				self.table_error = str(err)
		if self.table_error:
			raise Failure(self.table_error)
		return self.table

	def measure(self, mode):
		server = SERVERS[mode](self, mode)
		try:
			server.start()
			mac = self.neighbour()
			if self.args.warmup > 0:
				self.kxdpgun(mac, self.args.warmup, self.args.rate, self.queries)
			self.veth.pin_napi()
			out = self.kxdpgun(mac, self.args.duration, self.args.rate, self.queries)
			if server.proc.poll() is not None:
				raise Failure("server exited during the run: %s" % server.log_reason())
		finally:
			server.stop()
			log_tail = server.log_text()
		res = parse_kxdpgun(out, self.args.duration)
		res["raw"] = [ln for ln in out.splitlines() if ln.strip()]
		if self.args.verbose:
			for ln in res["raw"]:
				log("    kxdpgun: %s" % ln)
			if log_tail and mode.startswith("bulwark"):
				for ln in log_tail.splitlines():
					if "DPDK:" in ln:
						log("    bulwarkd: %s" % ln.strip())
		return res

def report(args, results, modes):
	base = results[BASELINE]["median_answered_qps"] \
		if BASELINE in results else None
	lines = []
	lines.append("veth, kxdpgun on CPU %d (1 thread, -Q %d, -b %d), servers on "
		"CPU %d, NAPI %s; median of %d round(s) x %g s" % (args.gen_cpu,
		args.rate, args.batch, args.server_cpu, args.napi, args.rounds,
		args.duration))
	lines.append("")
	lines.append("| server | mode | answered qps (median) | sent qps (median) "
		"| answered | ratio to bulwarkd af_xdp |")
	lines.append("| --- | --- | ---: | ---: | ---: | ---: |")
	for mode in modes:
		r = results[mode]
		server, label = LABELS[mode]
		med = r.get("median_answered_qps")
		if med is None:
			lines.append("| %s | %s | failed: %s | | | |" % (server, label,
				r["error"].replace("|", "/")))
			continue
		note = ""
		if len(r["rounds"]) < args.rounds:
			note = " (%d of %d rounds; failed: %s)" % (len(r["rounds"]),
				args.rounds, r["error"].replace("|", "/"))
		ratio = "%.2f" % (med / base) if base else "n/a"
		lines.append("| %s | %s | %s%s | %s | %.0f%% | %s |" % (server, label,
			"{:,.0f}".format(med), note, "{:,.0f}".format(r["median_sent_qps"]),
			r["median_answered_pct"], ratio))
	return "\n".join(lines)


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--napi-threads", metavar="IFNAME", help=argparse.SUPPRESS)
	ap.add_argument("--build", default=os.path.join(TOP, "build"),
		help="meson build directory (default: the source tree's build)")
	ap.add_argument("--zone", help="zone file")
	ap.add_argument("--origin", help="the zone's origin")
	ap.add_argument("--queries", help="query file, NAME TYPE per line")
	ap.add_argument("--duration", type=float, default=5,
		help="seconds of traffic per measurement (default 5)")
	ap.add_argument("--warmup", type=float, default=1,
		help="seconds of traffic before each measurement, not counted "
		"(default 1; 0: none)")
	ap.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
	ap.add_argument("--rate", type=int, default=2000000,
		help="offered queries per second, kxdpgun -Q (default 2,000,000)")
	ap.add_argument("--batch", type=int, default=10,
		help="kxdpgun -b (default 10, kxdpgun's own default)")
	ap.add_argument("--modes", default=",".join(MODES),
		help="comma-separated subset of: %s" % ", ".join(MODES))
	ap.add_argument("--napi", choices=["threaded", "softirq"], default="threaded",
		help="where veth receive work runs (default threaded, see above)")
	ap.add_argument("--server-cpu", type=int, default=1)
	ap.add_argument("--gen-cpu", type=int, default=0)
	ap.add_argument("--dpdk-memory", type=int, default=1024,
		help="EAL -m for bulwarkd, MB (default 1024)")
	ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
	ap.add_argument("--keep", action="store_true",
		help="keep the work directory (configurations, server logs)")
	ap.add_argument("-v", "--verbose", action="store_true",
		help="print kxdpgun's summary lines of every run")
	args = ap.parse_args()

	if args.napi_threads:
		# helper, run inside a namespace by the main program
		from vethbench import napi_threads
		print(" ".join(str(p) for p in napi_threads(args.napi_threads)))
		return 0

	for opt in ("zone", "origin", "queries"):
		if not getattr(args, opt):
			ap.error("--%s is required" % opt)
	modes = [m.strip() for m in args.modes.split(",") if m.strip()]
	bad = [m for m in modes if m not in SERVERS]
	if bad:
		ap.error("unknown mode(s): %s (known: %s)" % (", ".join(bad),
			", ".join(MODES)))
	if os.geteuid() != 0:
		raise SystemExit("bench-veth.py: run as root (namespaces, XDP)")
	for tool in ("ip", "ethtool", "taskset", "kxdpgun", "kdig", "ping"):
		if shutil.which(tool) is None:
			raise SystemExit("bench-veth.py: %s is not installed" % tool)

	install_signal_handlers()

	results = {m: {"server": LABELS[m][0], "mode": LABELS[m][1], "rounds": [],
		"error": None} for m in modes}
	try:
		bench = Bench(args)
		if any(m.startswith("bulwark") for m in modes):
			try:
				bench.compiled_table()
			except Failure as err:
				log("%s; the bulwarkd modes fail" % err)
		bench.setup()
		for rnd in range(args.rounds):
			for mode in modes:
				r = results[mode]
				if r["error"] and not r["rounds"]:
					continue    # failed before it gave a number: do not retry
				try:
					res = bench.measure(mode)
				except Exception as err:  # Failure, or a bug: the others go on
					r["error"] = str(err) if isinstance(err, Failure) else \
						"%s: %s" % (type(err).__name__, err)
					log("round %d: %s: failed: %s" % (rnd + 1, mode, r["error"]))
					continue
				r["rounds"].append(res)
				log("round %d: %s: sent %s qps, answered %s qps (%.0f%%)" % (
					rnd + 1, mode, "{:,.0f}".format(res["sent_qps"]),
					"{:,.0f}".format(res["answered_qps"]), res["answered_pct"]))
	except Interrupted as err:
		log("interrupted (%s): cleaning up" % err)
		cleanup()
		return 130
	except Failure as err:
		log("bench-veth.py: %s" % err)
		cleanup()
		return 1
	finally:
		cleanup()

	for r in results.values():
		if r["rounds"]:
			r["median_answered_qps"] = statistics.median(
				x["answered_qps"] for x in r["rounds"])
			r["median_sent_qps"] = statistics.median(
				x["sent_qps"] for x in r["rounds"])
			r["median_answered_pct"] = statistics.median(
				x["answered_pct"] for x in r["rounds"])
		else:
			r["median_answered_qps"] = None
	base = results.get(BASELINE, {}).get("median_answered_qps")
	for r in results.values():
		med = r["median_answered_qps"]
		r["ratio_to_bulwark_af_xdp"] = med / base if med is not None and base \
			else None

	print()
	print(report(args, results, modes))
	if args.json:
		out = {"config": {k: getattr(args, k) for k in ("zone", "origin", "queries",
			"duration", "warmup", "rounds", "rate", "batch", "napi", "server_cpu",
			"gen_cpu")}, "results": results}
		with open(args.json, "w") as f:
			json.dump(out, f, indent=2)
			f.write("\n")
	return 0 if any(r["rounds"] for r in results.values()) else 1


if __name__ == "__main__":
	sys.exit(main())
