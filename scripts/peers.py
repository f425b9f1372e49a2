#!/usr/bin/python3
"""Peers: bulwarkd against Knot DNS, NSD and BIND 9 on one server core, the
same zones and queries for all, driven over a veth pair by one generator on
the other core; a markdown table and gnuplot PNGs.

    scripts/peers.sh [--short] [--out DIR] [--generator replay|kxdpgun]
        [--rounds 5] [--duration 5] [--modes LIST] [--check] [--keep] [-v]

Run as root.  Server modes (every one pinned to --server-cpu, see
scripts/vethbench.py for the veth, NAPI pinning and cleanup):

    bulwark-af_xdp     bulwarkd io dpdk, net_af_xdp on vS, 1 worker
    bulwark-af_packet  bulwarkd io dpdk, net_af_packet on vS, 1 worker
    bulwark-socket     bulwarkd io socket, 1 worker, kernel UDP on vS
    knot-xdp           knotd, XDP on vS, udp-workers 1
    knot-udp           knotd, kernel UDP, udp-workers 1
    nsd-udp            nsd, kernel UDP, server-count 1
    named-udp          named (BIND 9) -n 1 -U 1, kernel UDP

Query sets and zones, built once per run in the work directory:

    mix   scripts/gen-zone.py's synthetic zone (--names) and its query file
          (positive, NODATA, NXDOMAIN, referrals), signed by bulwark-compile
          with keys made in a fresh directory: NSEC (-k, BIND's default
          policy) or NSEC3 (-c peers-policy.conf --policy nsec3: CSK
          ECDSAP256SHA256, 0 iterations, no salt, no opt-out); the other
          servers load `bulwark-compile --dump` of the same table.
    root  /work/shared/corpus/root-queries.txt (49,739 real queries) against
          the 2017 root zone: NSEC is the zone as IANA signed it (bulwarkd:
          --presigned --time 20170825000000; the others load it as it is),
          NSEC3 the zone signed again by bulwark-compile with the policy.

Each of them is asked with DO=0 (no EDNS) and with DO=1 (EDNS, DO).  Short
mode (--short): mix NSEC DO=1 and root NSEC DO=0, 1 round of 2 s, and one
ramp (bulwark-af_xdp); the full mode: every set, variant and DO, median of
--rounds (5), and a ramp per server mode.

Generators (--generator): `replay` is build/bench/replay/bulwark-replay
(DPDK, --vdev net_af_packet0 on vG in the generator namespace; its JSON has
latency percentiles); `kxdpgun` is Knot's XDP generator (answered qps only:
the latency columns say n/a, and the ramp plot shows answered against
offered qps instead of latency).  The default is replay when the binary
exists, else kxdpgun.  The answered rate is measured at --rate offered qps
(kxdpgun -Q) or at the replay's --max.

Outputs in --out (default peers-YYYYMMDD-HHMMSS): peers.md (the table),
peers.json, peers-qps.png (answered qps per server mode and case),
peers-ramp.png (p50/p99 latency, or answered qps, against offered load).
--check verifies them (table, PNGs, a row per server mode per case with a
measurement, not a failure) and exits 1 if one is missing; with --check and no --out they go to a temporary
directory that is removed afterwards (unless --keep).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from vethbench import (BulwarkAfPacket, BulwarkAfXdp, CLEANUPS,  # noqa: E402
	Failure, GEN_ADDR, Interrupted, KnotUdp, KnotXdp, Nsd, SERVER_ADDR,
	Server, VethBench, cleanup, install_signal_handlers, log, parse_kxdpgun,
	run)

CORPUS = "/work/shared/corpus"
ROOT_ZONE = os.path.join(CORPUS, "root-2017082100.zone")
ROOT_QUERIES = os.path.join(CORPUS, "root-queries.txt")
ROOT_SIG_TIME = "20170825000000"
MIX_ORIGIN = "synthetic.example."
SERVER_ADDR6 = "2001:db8::53"
GEN_ADDR6 = "2001:db8::1"

POLICY = """dnssec-policy "nsec3" {
	keys { csk lifetime unlimited algorithm ecdsap256sha256; };
	nsec3param iterations 0 optout no salt-length 0;
};
"""


# ---- The servers that bench-veth.py does not have. ----

class BulwarkSocket(Server):
	"""bulwarkd, io socket, one worker, on the kernel's UDP socket on vS."""

	def argv(self):
		conf = f"""options {{
	directory "{self.dir}";
	pid-file none;
	listen-on port 53 {{ {SERVER_ADDR}; }};
}};
dataplane {{
	io socket;
	workers 1;
}};
zone "{self.b.zone_name}" {{
	table "{self.b.compiled_table()}";
}};
// A capacity benchmark: the replayed queries include NXDOMAINs at a
// flood's rate, which the default detection would (rightly) rate-limit.
// The other servers run without RRL; so does bulwarkd here.
flood-mitigation {{ enable no; }};
"""
		return ["taskset", "-c", str(self.b.args.server_cpu),
			self.b.program("controlplane", "bulwarkd"), "-c",
			self.write("bulwark.conf", conf), "-f"]


class Named(Server):
	"""named (BIND 9), one worker thread (-n 1), one UDP listener (-U 1)."""

	def argv(self):
		zone = self.path("zone.db")
		if not os.path.exists(zone):
			shutil.copyfile(self.b.zonefile, zone)
			os.chmod(zone, 0o644)
		conf = f"""options {{
	directory "{self.dir}";
	pid-file "{self.path('named.pid')}";
	session-keyfile "{self.path('session.key')}";
	managed-keys-directory "{self.dir}";
	listen-on port 53 {{ {SERVER_ADDR}; }};
	listen-on-v6 {{ none; }};
	recursion no;
	notify no;
}};
controls {{ }};
zone "{self.b.zone_name}" {{
	type primary;
	file "{zone}";
}};
"""
		return ["taskset", "-c", str(self.b.args.server_cpu), "named", "-g",
			"-c", self.write("named.conf", conf), "-n", "1", "-U", "1"]

	def ready_in_log(self, text):
		return "running" in text


MODES = [
	# mode, server, label, class
	("bulwark-af_xdp", "bulwarkd", "io dpdk, net_af_xdp", BulwarkAfXdp),
	("bulwark-af_packet", "bulwarkd", "io dpdk, net_af_packet", BulwarkAfPacket),
	("bulwark-socket", "bulwarkd", "io socket", BulwarkSocket),
	("knot-xdp", "knotd", "XDP", KnotXdp),
	("knot-udp", "knotd", "kernel UDP", KnotUdp),
	("nsd-udp", "nsd", "kernel UDP", Nsd),
	("named-udp", "named", "kernel UDP, -n 1 -U 1", Named),
]
MODE = {m[0]: m for m in MODES}
BASELINE = "bulwark-af_xdp"

# (query set, DNSSEC variant, DO) measured
FULL_CASES = [(s, v, do) for s in ("mix", "root") for v in ("NSEC", "NSEC3")
	for do in (0, 1)]
SHORT_CASES = [("mix", "NSEC", 1), ("root", "NSEC", 0)]


# ---- Generators: one interface, two implementations. ----

class Generator:
	"""Sends a query file to the server from the generator namespace."""

	name = None
	latency = False

	def __init__(self, bench):
		self.b = bench

	def measure(self, mac, queries, do, duration):
		"""{answered_qps, offered_qps, p50, p99} at the measuring rate."""
		raise NotImplementedError

	def ramp(self, mac, queries, do, start, step, top, step_secs):
		"""[{offered_qps, answered_qps, p50, p99}] from START to TOP qps."""
		raise NotImplementedError


# RFC 1035's obsolete types (root-queries.txt asks for MD), by number
OBSOLETE_TYPES = {"MD": "TYPE3", "MF": "TYPE4", "MB": "TYPE7", "MG": "TYPE8",
	"MR": "TYPE9", "NULL": "TYPE10", "WKS": "TYPE11", "MINFO": "TYPE14",
	"MAILB": "TYPE253", "MAILA": "TYPE254"}


class Kxdpgun(Generator):
	name = "kxdpgun"

	def __init__(self, bench):
		super().__init__(bench)
		self.files = {}

	def query_file(self, queries, do):
		"""The query file as kxdpgun takes it: obsolete type mnemonics that
		libknot does not parse as TYPEn, ' D' after each line for DO=1."""
		key = (queries, do)
		if key not in self.files:
			path = os.path.join(self.b.tmp, "%s.kxdpgun%d" % (
				os.path.basename(queries), do))
			with open(queries) as src, open(path, "w") as dst:
				for line in src:
					parts = line.split()
					if len(parts) < 2:
						continue
					parts[1] = OBSOLETE_TYPES.get(parts[1].upper(), parts[1])
					dst.write(" ".join(parts[:2] + (["D"] if do else [])) + "\n")
			self.files[key] = path
		return self.files[key]

	def run(self, mac, queries, do, duration, rate):
		out = self.b.kxdpgun(mac, duration, rate, self.query_file(queries, do))
		res = parse_kxdpgun(out, duration)
		return {"answered_qps": res["answered_qps"], "offered_qps": res["sent_qps"],
			"answered_pct": res["answered_pct"], "p50": None, "p99": None}

	def measure(self, mac, queries, do, duration):
		return self.run(mac, queries, do, duration, self.b.args.rate)

	def ramp(self, mac, queries, do, start, step, top, step_secs):
		points, rate = [], start
		while rate <= top:
			points.append(self.run(mac, queries, do, step_secs, rate))
			rate += step
		return points


class Replay(Generator):
	"""build/bench/replay/bulwark-replay on net_af_packet (or net_af_xdp) on vG."""

	name = "replay"
	latency = True

	def __init__(self, bench):
		super().__init__(bench)
		self.binary = replay_binary(bench.args.build)
		self.prefix = "bwrep%d" % os.getpid()
		self.runs = 0
		CLEANUPS.append(lambda: shutil.rmtree(os.path.join("/var/run/dpdk",
			self.prefix), ignore_errors=True))

	def run(self, mac, queries, do, duration, load):
		a = self.b.args
		self.runs += 1
		out = os.path.join(self.b.tmp, "replay-%d.json" % self.runs)
		vdev = "net_%s0,iface=vG" % a.replay_vdev
		argv = [self.binary, "--no-huge", "-m", "256", "--no-pci",
			"--file-prefix", self.prefix, "--vdev", vdev, "-l", str(a.gen_cpu),
			"--log-level=lib.eal:warning", "--",
			"--queries", queries, "--dst-mac", mac, "--dst4", SERVER_ADDR,
			"--dst6", SERVER_ADDR6, "--dst-port", "53",
			"--src4", GEN_ADDR + "/32", "--src6", GEN_ADDR6 + "/128",
			"--duration", "%g" % duration, "--timeout", str(a.timeout_ms),
			"--json", out, "--quiet"] + (["--do"] if do else []) + load
		self.b.gen.exec(*argv, timeout=duration + 60)
		with open(out) as f:
			return json.load(f)

	@staticmethod
	def point(doc):
		lat = doc.get("latency_us") or {}
		sent = doc.get("sent") or 0
		return {"answered_qps": doc.get("answered_qps"),
			"offered_qps": doc.get("offered_qps"),
			"answered_pct": 100.0 * doc.get("answered", 0) / sent if sent else 0.0,
			"p50": lat.get("p50"), "p99": lat.get("p99")}

	def measure(self, mac, queries, do, duration):
		load = ["--max"] if self.b.args.rate_max else ["--rate", str(self.b.args.rate)]
		return self.point(self.run(mac, queries, do, duration, load))

	def ramp(self, mac, queries, do, start, step, top, step_secs):
		steps = (top - start) // step + 1
		doc = self.run(mac, queries, do, steps * step_secs,
			["--ramp", "%d:%d:%d" % (start, step, top)])
		# per second; seconds at the same offered load are one point
		by_load = {}
		for sec in doc.get("per_second", []):
			# the seconds after the last send (answers still coming, nothing
			# offered) are not a point of the ramp
			if sec["offered_qps"] < start / 2:
				continue
			key = round(sec["offered_qps"] / max(step, 1)) * step
			by_load.setdefault(key, []).append(sec)
		points = []
		for load in sorted(by_load):
			secs = by_load[load]
			lat = {p: [s[p] for s in secs if s.get(p) is not None]
				for p in ("p50", "p99")}
			points.append({"offered_qps": statistics.mean(s["offered_qps"] for s in secs),
				"answered_qps": statistics.mean(s["answered"] for s in secs),
				"p50": statistics.median(lat["p50"]) if lat["p50"] else None,
				"p99": statistics.median(lat["p99"]) if lat["p99"] else None})
		return points


GENERATORS = {"replay": Replay, "kxdpgun": Kxdpgun}


def replay_binary(build):
	return os.path.join(os.path.abspath(build), "bench", "replay", "bulwark-replay")


# ---- Zones: one signed zone per (query set, variant), for all servers. ----

class ZoneSet:
	"""A zone file for the kernel servers, a table for bulwarkd, queries."""

	def __init__(self, key, zonefile, origin, table, queries):
		self.key = key
		self.zonefile = zonefile
		self.origin = origin
		self.table = table
		self.queries = queries


class PeerBench(VethBench):
	def __init__(self, args):
		super().__init__(args, "bw-peers-")
		self.zset = None
		self.zsets = {}

	# the servers read the zone of the current set
	def compiled_table(self):
		return self.zset.table

	def use(self, zset):
		self.zset = zset
		self.set_zone(zset.zonefile, zset.origin)

	def workdir(self, mode):
		return os.path.join(self.tmp, self.zset.key, mode)

	def compile(self, argv, what):
		t0 = time.monotonic()
		done = run([self.program("zonecomp", "cli", "bulwark-compile")] + argv,
			timeout=1200)
		log("  %s: %.1f s %s" % (what, time.monotonic() - t0,
			(done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]))

	def dump(self, table, zonefile):
		with open(zonefile, "w") as f:
			done = subprocess.run([self.program("zonecomp", "cli", "bulwark-compile"),
				"--dump", table], stdout=f, stderr=subprocess.PIPE, text=True,
				timeout=600)
		if done.returncode != 0:
			raise Failure("bulwark-compile --dump %s: %s" % (table,
				done.stderr.strip()))
		os.chmod(zonefile, 0o644)

	def sign(self, key, zonefile, origin, variant):
		"""Sign ZONEFILE with fresh keys (NSEC: -k; NSEC3: the policy)."""
		d = os.path.join(self.tmp, "zones")
		keys = os.path.join(d, key + ".keys")
		os.makedirs(keys, exist_ok=True)
		table = os.path.join(d, key + ".bwz")
		argv = [zonefile, "-z", origin, "-k", keys, "-o", table]
		if variant == "NSEC3":
			conf = os.path.join(d, "peers-policy.conf")
			with open(conf, "w") as f:
				f.write(POLICY)
			argv += ["-c", conf, "--policy", "nsec3"]
		self.compile(argv, "sign %s" % key)
		dumped = os.path.join(d, key + ".zone")
		self.dump(table, dumped)
		return ZoneSet(key, dumped, origin, table, None)

	def prepare(self, cases):
		d = os.path.join(self.tmp, "zones")
		os.makedirs(d, exist_ok=True)
		os.chmod(d, 0o755)
		wanted = sorted({(s, v) for s, v, _ in cases})
		if any(s == "mix" for s, _ in wanted):
			mix, mixq = os.path.join(d, "mix.zone"), os.path.join(d, "mix.queries")
			run([sys.executable, os.path.join(HERE, "gen-zone.py"), "-n",
				str(self.args.names), "--queries", str(self.args.mix_queries),
				"-o", mix, "-q", mixq, "--origin", MIX_ORIGIN], timeout=600)
		for qset, variant in wanted:
			key = "%s-%s" % (qset, variant.lower())
			if qset == "mix":
				zs = self.sign(key, mix, MIX_ORIGIN, variant)
				zs.queries = mixq
			elif variant == "NSEC":
				table = os.path.join(d, key + ".bwz")
				self.compile([ROOT_ZONE, "-z", ".", "--presigned", "--time",
					ROOT_SIG_TIME, "-o", table], "compile %s" % key)
				zs = ZoneSet(key, ROOT_ZONE, ".", table, ROOT_QUERIES)
			else:
				zs = self.sign(key, ROOT_ZONE, ".", variant)
				zs.queries = ROOT_QUERIES
			self.zsets[(qset, variant)] = zs


def start_server(bench, mode):
	server = MODE[mode][3](bench, mode)
	server.start()
	if mode in ("bulwark-socket", "named-udp"):
		# threads made after the first pin (named's, bulwarkd's worker)
		time.sleep(0.3)
		server.pin()
	return server


def measure_server(bench, gen, mode, zset, dos):
	"""Start MODE on ZSET; one measurement per DO value; stop it."""
	a = bench.args
	bench.use(zset)
	server = start_server(bench, mode)
	try:
		mac = bench.neighbour()
		out = {}
		for do in dos:
			if a.warmup > 0:
				gen.measure(mac, zset.queries, do, a.warmup)
			bench.veth.pin_napi()
			out[do] = gen.measure(mac, zset.queries, do, a.duration)
			if server.proc.poll() is not None:
				raise Failure("server exited during the run: %s" % server.log_reason())
		return out
	finally:
		server.stop()


def ramp_server(bench, gen, mode, zset, do):
	a = bench.args
	bench.use(zset)
	server = start_server(bench, mode)
	try:
		mac = bench.neighbour()
		start, step, top = (int(x) for x in a.ramp.split(":"))
		return gen.ramp(mac, zset.queries, do, start, step, top, a.ramp_step)
	finally:
		server.stop()


# ---- Report: table and plots. ----

def fmt_qps(x):
	return "{:,.0f}".format(x)


def fmt_us(x):
	return "n/a" if x is None else "%g" % round(x, 1)


def summarise(results, rounds):
	rows = []
	for (mode, qset, variant, do), r in results.items():
		row = {"mode": mode, "server": MODE[mode][1], "label": MODE[mode][2],
			"set": qset, "variant": variant, "do": do, "rounds": len(r["runs"]),
			"error": r["error"], "qps": None, "p99": None, "p50": None,
			"answered_pct": None}
		if r["runs"]:
			row["qps"] = statistics.median(x["answered_qps"] for x in r["runs"])
			row["answered_pct"] = statistics.median(x["answered_pct"] for x in r["runs"])
			for p in ("p50", "p99"):
				vals = [x[p] for x in r["runs"] if x[p] is not None]
				row[p] = statistics.median(vals) if vals else None
		rows.append(row)
	base = {(x["set"], x["variant"], x["do"]): x["qps"] for x in rows
		if x["mode"] == BASELINE}
	for x in rows:
		b = base.get((x["set"], x["variant"], x["do"]))
		x["ratio"] = x["qps"] / b if x["qps"] is not None and b else None
	return rows


def table(args, gen, rows):
	lines = ["Peers over a veth pair: servers on CPU %d, %s on CPU %d; median of "
		"%d round(s) x %g s; %s." % (args.server_cpu, gen.name, args.gen_cpu,
		args.rounds, args.duration, "replay at --max" if gen.name == "replay"
		and args.rate_max else "offered %s qps" % fmt_qps(args.rate)), ""]
	lines.append("| server | mode | query set | DNSSEC | DO | answered qps "
		"(median of %d) | answered | p99 latency (µs) | ratio to bulwarkd io dpdk "
		"(af_xdp) |" % args.rounds)
	lines.append("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
	for x in rows:
		if x["qps"] is None:
			lines.append("| %s | %s | %s | %s | %d | failed: %s | | | |" % (
				x["server"], x["label"], x["set"], x["variant"], x["do"],
				(x["error"] or "no run").replace("|", "/")[:160]))
			continue
		lines.append("| %s | %s | %s | %s | %d | %s | %.0f%% | %s | %s |" % (
			x["server"], x["label"], x["set"], x["variant"], x["do"],
			fmt_qps(x["qps"]), x["answered_pct"], fmt_us(x["p99"]),
			"%.2f" % x["ratio"] if x["ratio"] is not None else "n/a"))
	return "\n".join(lines) + "\n"


def gnuplot(script, cwd):
	done = subprocess.run(["gnuplot"], input=script, text=True, cwd=cwd,
		capture_output=True, timeout=120)
	if done.returncode != 0:
		raise Failure("gnuplot: %s" % done.stderr.strip())


def plot_qps(out, rows, modes, cases):
	"""Clustered bars: one cluster per server mode, one bar per case."""
	data = os.path.join(out, "peers-qps.dat")
	with open(data, "w") as f:
		f.write("mode " + " ".join('"%s %s DO=%d"' % c for c in cases) + "\n")
		for mode in modes:
			vals = []
			for c in cases:
				q = [x["qps"] for x in rows if (x["mode"], x["set"], x["variant"],
					x["do"]) == (mode,) + c]
				vals.append("%.0f" % q[0] if q and q[0] is not None else "0")
			f.write('"%s" %s\n' % (mode, " ".join(vals)))
	gnuplot(f"""set terminal pngcairo size 1200,600 noenhanced
set output "peers-qps.png"
set title "Answered qps, one server core (median)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "answered qps"
set format y "%.0s%c"
set yrange [0:*]
set grid ytics
set key outside right top
set xtics rotate by -25
plot for [i=2:{len(cases) + 1}] "peers-qps.dat" using i:xtic(1) title columnheader(i)
""", out)


def plot_ramp(out, ramps, latency):
	"""p50/p99 (or answered qps) against offered qps, one line per mode."""
	plots = []
	for i, (mode, points) in enumerate(sorted(ramps.items())):
		data = "peers-ramp-%s.dat" % mode
		with open(os.path.join(out, data), "w") as f:
			f.write("# offered answered p50 p99\n")
			for p in points:
				f.write("%.0f %.0f %s %s\n" % (p["offered_qps"], p["answered_qps"],
					"nan" if p["p50"] is None else p["p50"],
					"nan" if p["p99"] is None else p["p99"]))
		if latency:
			plots.append('"%s" using 1:3 with linespoints lc %d dt 2 title "%s p50"'
				% (data, i + 1, mode))
			plots.append('"%s" using 1:4 with linespoints lc %d title "%s p99"'
				% (data, i + 1, mode))
		else:
			plots.append('"%s" using 1:2 with linespoints lc %d title "%s"'
				% (data, i + 1, mode))
	if not plots:
		plots.append("NaN notitle")
	ylabel = ('set ylabel "latency (µs)"\nset logscale y' if latency else
		'set ylabel "answered qps (latency n/a with kxdpgun)"')
	gnuplot(f"""set terminal pngcairo size 1000,600 noenhanced
set output "peers-ramp.png"
set title "{'Latency' if latency else 'Answered'} against offered load (ramp)"
set xlabel "offered qps"
{ylabel}
set format x "%.0s%c"
set grid
set key outside right top
plot {", ".join(plots)}
""", out)


def check_outputs(out, modes, cases):
	problems = []
	for name in ("peers.md", "peers-qps.png", "peers-ramp.png"):
		if not os.path.exists(os.path.join(out, name)) or \
				os.path.getsize(os.path.join(out, name)) == 0:
			problems.append("%s is missing" % name)
	if not problems:
		with open(os.path.join(out, "peers.md")) as f:
			text = f.read()
		for mode in modes:
			for c in cases:
				row = "| %s | %s | %s | %s | %d |" % ((MODE[mode][1],
					MODE[mode][2]) + c)
				lines = [ln for ln in text.splitlines() if ln.startswith(row)]
				if not lines:
					problems.append("no row for %s %s %s DO=%d" % ((mode,) + c))
				elif "failed:" in lines[0]:
					problems.append("%s %s %s DO=%d failed" % ((mode,) + c))
	for p in problems:
		log("check: %s" % p)
	return not problems


# ---- Main. ----

def parse_args():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--short", action="store_true",
		help="the CI subset: 2 cases, 1 round of 2 s, one ramp")
	ap.add_argument("--out", help="output directory")
	ap.add_argument("--build", default=os.path.join(TOP, "build"))
	ap.add_argument("--generator", choices=sorted(GENERATORS),
		help="default: replay when build/bench/replay/bulwark-replay exists")
	ap.add_argument("--replay-vdev", choices=["af_packet", "af_xdp"],
		default="af_packet", help="the replay's PMD on vG (default af_packet)")
	ap.add_argument("--modes", default=",".join(m[0] for m in MODES))
	ap.add_argument("--rounds", type=int)
	ap.add_argument("--duration", type=float, help="seconds per measurement")
	ap.add_argument("--warmup", type=float, help="seconds before each measurement")
	ap.add_argument("--rate", type=int, default=2000000,
		help="offered qps of a measurement (kxdpgun -Q, replay --rate)")
	ap.add_argument("--rate-max", action=argparse.BooleanOptionalAction,
		default=True, help="replay: --max instead of --rate (default on)")
	ap.add_argument("--ramp", help="START:STEP:MAX offered qps")
	ap.add_argument("--ramp-step", type=float, help="seconds per ramp step")
	ap.add_argument("--ramp-modes", help="modes ramped (default: all; short: "
		"bulwark-af_xdp)")
	ap.add_argument("--names", type=int, help="owner names of the mix zone")
	ap.add_argument("--mix-queries", type=int, default=100000)
	ap.add_argument("--timeout-ms", type=int, default=200,
		help="replay --timeout: a query unanswered for longer is lost")
	ap.add_argument("--batch", type=int, default=10, help="kxdpgun -b")
	ap.add_argument("--napi", choices=["threaded", "softirq"], default="threaded")
	ap.add_argument("--server-cpu", type=int, default=1)
	ap.add_argument("--gen-cpu", type=int, default=0)
	ap.add_argument("--dpdk-memory", type=int, default=1024)
	ap.add_argument("--check", action="store_true",
		help="verify the outputs (the meson test peers-short)")
	ap.add_argument("--keep", action="store_true", help="keep the work directory")
	ap.add_argument("-v", "--verbose", action="store_true")
	args = ap.parse_args()
	short = dict(rounds=1, duration=2, warmup=0.5, ramp="50000:150000:350000",
		ramp_step=1, names=20000)
	full = dict(rounds=5, duration=5, warmup=1, ramp="50000:50000:500000",
		ramp_step=2, names=200000)
	for k, v in (short if args.short else full).items():
		if getattr(args, k) is None:
			setattr(args, k, v)
	if args.generator is None:
		args.generator = "replay" if os.access(replay_binary(args.build), os.X_OK) \
			else "kxdpgun"
	args.mode_list = [m.strip() for m in args.modes.split(",") if m.strip()]
	bad = [m for m in args.mode_list if m not in MODE]
	if bad:
		ap.error("unknown mode(s): %s" % ", ".join(bad))
	ramp_modes = args.ramp_modes or (BASELINE if args.short else args.modes)
	args.ramp_list = [m for m in ramp_modes.split(",") if m in args.mode_list]
	return args


def run_matrix(bench, gen, args, cases, results):
	by_set = {}
	for qset, variant, do in cases:
		by_set.setdefault((qset, variant), []).append(do)
	for rnd in range(args.rounds):
		for (qset, variant), dos in by_set.items():
			zset = bench.zsets[(qset, variant)]
			for mode in args.mode_list:
				keys = [(mode, qset, variant, do) for do in dos]
				if all(results[k]["error"] and not results[k]["runs"] for k in keys):
					continue    # failed before it gave a number: do not retry
				try:
					got = measure_server(bench, gen, mode, zset, dos)
				except Exception as err:  # Failure, or a bug: the others go on
					msg = str(err) if isinstance(err, Failure) else \
						"%s: %s" % (type(err).__name__, err)
					log("round %d: %s %s %s: failed: %s" % (rnd + 1, mode, qset,
						variant, msg))
					for k in keys:
						results[k]["error"] = msg
					continue
				for do, res in got.items():
					results[(mode, qset, variant, do)]["runs"].append(res)
					log("round %d: %s %s %s DO=%d: %s qps answered of %s (p99 %s µs)"
						% (rnd + 1, mode, qset, variant, do, fmt_qps(res["answered_qps"]),
						fmt_qps(res["offered_qps"]), fmt_us(res["p99"])))


def run_ramps(bench, gen, args):
	ramps = {}
	zset = bench.zsets[("mix", "NSEC")]
	for mode in args.ramp_list:
		try:
			ramps[mode] = ramp_server(bench, gen, mode, zset, 1)
			log("ramp %s: %s" % (mode, ", ".join("%s->%s" % (fmt_qps(p["offered_qps"]),
				fmt_qps(p["answered_qps"])) for p in ramps[mode])))
		except Failure as err:
			log("ramp %s: failed: %s" % (mode, err))
	return ramps


def main():
	args = parse_args()
	if os.geteuid() != 0:
		raise SystemExit("peers.py: run as root (namespaces, XDP, DPDK)")
	tools = ["ip", "ethtool", "taskset", "kdig", "ping", "gnuplot", "knotd", "nsd",
		"named"] + (["kxdpgun"] if args.generator == "kxdpgun" else [])
	missing = [t for t in tools if shutil.which(t) is None]
	if missing:
		raise SystemExit("peers.py: not installed: %s (scripts/install-deps.sh)" %
			", ".join(missing))
	cases = SHORT_CASES if args.short else FULL_CASES
	cases_with_ramp = sorted({(s, v) for s, v, _ in cases} | {("mix", "NSEC")})
	temp_out = args.out is None and args.check
	out = args.out or (tempfile.mkdtemp(prefix="bw-peers-out-") if temp_out else
		time.strftime("peers-%Y%m%d-%H%M%S"))
	os.makedirs(out, exist_ok=True)
	install_signal_handlers()

	results = {(m, s, v, do): {"runs": [], "error": None}
		for s, v, do in cases for m in args.mode_list}
	ramps, status, gen = {}, 0, None
	try:
		bench = PeerBench(args)
		gen = GENERATORS[args.generator](bench)
		log("generator %s; zones in %s" % (gen.name, bench.tmp))
		bench.prepare(cases + [(s, v, 1) for s, v in cases_with_ramp])
		bench.setup()
		run_matrix(bench, gen, args, cases, results)
		ramps = run_ramps(bench, gen, args)
	except Interrupted as err:
		# what was measured so far is still reported
		log("interrupted (%s): cleaning up" % err)
		cleanup()
		status = 130
		if gen is None:
			return status
	except Failure as err:
		log("peers.py: %s" % err)
		cleanup()
		return 1
	finally:
		cleanup()

	rows = summarise(results, args.rounds)
	text = table(args, gen, rows)
	print()
	print(text)
	with open(os.path.join(out, "peers.md"), "w") as f:
		f.write(text)
	with open(os.path.join(out, "peers.json"), "w") as f:
		json.dump({"generator": gen.name, "short": args.short, "rows": rows,
			"ramps": ramps, "raw": {" ".join(map(str, k)): v
			for k, v in results.items()}}, f, indent=1)
		f.write("\n")
	ok = True
	try:
		plot_qps(out, rows, args.mode_list, cases)
		plot_ramp(out, ramps, gen.latency)
	except Failure as err:
		log("peers.py: %s" % err)
		ok = False
	log("outputs in %s" % os.path.abspath(out))
	if args.check:
		ok = check_outputs(out, args.mode_list, cases) and ok
		if temp_out and not args.keep:
			shutil.rmtree(out, ignore_errors=True)
	if status:
		return status
	return 0 if ok and any(x["qps"] is not None for x in rows) else 1


if __name__ == "__main__":
	sys.exit(main())
