#!/usr/bin/python3
"""Flood benchmark: one random-subdomain flood pcap replayed against
bulwarkd (io dpdk on net_af_packet, and io socket), knotd with mod-rrl (and
mod-cookies) and nsd with RRL, over the same veth pair, in one run.

    scripts/bench-flood.py [--build build] [--modes LIST] [--rounds 1]
        [--server-cpu 1] [--gen-cpu 0] [--legit-rate 1000] [--flood-factor 10]
        [--flood-start 3] [--flood-seconds 6] [--duration 15]
        [--rate-limit 20] [--slip 2] [--attack-action rate-limit]
        [--json FILE] [--keep] [--timeline]

Run as root.  scripts/gen-flood-pcap.py writes the zones (example.com.,
example.net.) and the pcap once per run: --legit-rate q/s of legitimate
queries for --duration s from 1,000 clients (30% with valid server cookies
made with the secret every server here is given, 30% with client cookies
only), and a flood of --flood-factor times that rate under example.com.
from --flood-start for --flood-seconds (spoofed IPv6 sources, and 40% from
four resolver-like sources with client cookies).  Each mode then gets the
same pcap through tests/integration/flood_replay.py: namespaces bwfS<pid>
and bwfC<pid>, tcpreplay and tcpdump on the generator CPU, the server
alone on the server CPU (taskset; bulwarkd's DPDK main lcore shares the
generator's CPU, its worker has the server CPU), the responses matched to
the queries.

    bulwark-dpdk       bulwarkd, io dpdk, net_af_packet, 1 worker; rate-limit,
                       cookie-secret, flood-mitigation (as flood_test.py:
                       flood_replay.mitigation_conf())
    bulwark-socket     bulwarkd, io socket, 1 worker, the same mitigation
    knot-rrl           knotd, udp-workers 1, mod-rrl (rate-limit, slip)
    knot-rrl-cookies   knotd, mod-rrl and mod-cookies (the same secret,
                       badcookie-slip 1): a valid cookie skips RRL; Knot
                       answers BADCOOKIE to every query without a valid
                       server cookie, so the clients with client cookies
                       only get no answer in this replay (they would retry)
    nsd-rrl            nsd, server-count 1, rrl-ratelimit, rrl-slip,
                       prefix lengths /32 and /56 (NSD 4.6 has no cookies)
    knot-plain         knotd without modules (not in the default list)
    nsd-plain          nsd with RRL off (not in the default list)

--rate-limit is knotd's rate-limit, nsd's rrl-ratelimit and bulwarkd's
nxdomains-per-second (bulwarkd's responses-per-second is 100); --slip is
every server's slip.  The table gives, per mode: the flood's query rate as
it left the generator (tcpreplay runs a little slower than the pcap: see
flood_replay.py), the legitimate queries answered correctly, the flood
responses per second (any response to a flood query: full NXDOMAIN, TC=1,
BADCOOKIE, REFUSED) over the whole flood and, for bulwarkd, before
detection and from detection + 0.5 s to the flood's end, and the flood
reduction: 1 - responses/queries, after detection where there is
detection, over the whole flood otherwise.  Rounds are interleaved; the
table shows the median round.  A mode that cannot run is reported as
failed and the others go on.  The numbers are indicative: the two CPUs are
shared with the kernel's veth work and whatever else runs on the machine.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import flood_replay as fr  # noqa: E402
from dpdk_util import Cleanup, TestFailure  # noqa: E402

SECRET = "5a1b2c3d4e5f60718293a4b5c6d7e8f9"
ORIGINS = ("example.com.", "example.net.")
MODES = ["bulwark-dpdk", "bulwark-socket", "knot-rrl", "knot-rrl-cookies", "nsd-rrl"]
EXTRA_MODES = ["knot-plain", "nsd-plain"]
LABELS = {
	"bulwark-dpdk": ("bulwarkd", "io dpdk (af_packet), rate-limit + cookies + flood-mitigation"),
	"bulwark-socket": ("bulwarkd", "io socket, rate-limit + cookies + flood-mitigation"),
	"knot-rrl": ("knotd", "mod-rrl"),
	"knot-rrl-cookies": ("knotd", "mod-rrl + mod-cookies"),
	"nsd-rrl": ("nsd", "RRL"),
	"knot-plain": ("knotd", "no modules"),
	"nsd-plain": ("nsd", "RRL off"),
}
COOKIE_MAX_AGE = 3000            # regenerate the pcap before its cookies expire


def log(msg):
	print(msg, file=sys.stderr, flush=True)


# ---- Servers. ----

class Server:
	"""One server process in the server namespace, for one replay."""

	kind = "kernel"              # how the link's server end is set up
	polls = False

	def __init__(self, bench, mode):
		self.b = bench
		self.mode = mode
		self.dir = os.path.join(bench.tmp, "%s-%d" % (mode, bench.round))
		os.makedirs(self.dir)
		os.chmod(self.dir, 0o755)
		self.proc = None
		self.logf = None

	def path(self, name):
		return os.path.join(self.dir, name)

	def write(self, name, text):
		with open(self.path(name), "w") as f:
			f.write(text)
		return self.path(name)

	def zone(self, origin):
		"""A copy of the zone file in the server's directory."""
		dest = self.path(origin.rstrip(".") + ".zone")
		if not os.path.exists(dest):
			shutil.copyfile(self.b.meta["zone_files"][origin], dest)
			os.chmod(dest, 0o644)
		return dest

	def argv(self):
		raise NotImplementedError

	def start(self):
		self.b.link.configure(self.kind)
		argv = ["ip", "netns", "exec", self.b.link.srv_ns] + self.argv()
		self.logf = open(self.path("server.log"), "w")
		self.proc = subprocess.Popen(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
			stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True)
		self.b.cleanup.servers.append(self)
		try:
			fr.wait_ready(self.b.link, ORIGINS[0], timeout=60, proc=self.proc)
			fr.wait_ready(self.b.link, ORIGINS[1], timeout=10, proc=self.proc)
		except TestFailure as e:
			raise TestFailure("%s: %s" % (e, self.log_tail()))
		self.pin()
		return self

	def pin(self):
		"""Every thread of the server and of its children on the server CPU
		(knotd spreads its workers over all CPUs by itself)."""
		for pid in [self.proc.pid] + descendants(self.proc.pid):
			try:
				tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
			except OSError:
				continue
			for tid in tids:
				try:
					os.sched_setaffinity(tid, {self.b.args.server_cpu})
				except OSError:
					pass

	def poller(self):
		return None

	def log_tail(self, n=5):
		try:
			with open(self.path("server.log"), errors="replace") as f:
				lines = [ln.strip() for ln in f if ln.strip()]
		except OSError:
			return ""
		return " / ".join(lines[-n:])

	def stop(self):
		"""SIGTERM to the server, then to what is left of its session (the
		process group we created: nsd's children), SIGKILL after 15 s."""
		if self.proc is None:
			return
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(15)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		try:
			os.killpg(self.proc.pid, signal.SIGKILL)
		except OSError:
			pass                      # the group is gone: nothing left
		self.rc = self.proc.returncode
		self.proc = None
		if self.logf:
			self.logf.close()
			self.logf = None

	def cpu(self):
		return ["taskset", "-c", str(self.b.args.server_cpu)]


def descendants(pid):
	"""Pids of the children of PID, recursively (from /proc)."""
	kids = {}
	for entry in os.listdir("/proc"):
		if entry.isdigit():
			try:
				with open("/proc/%s/stat" % entry) as f:
					ppid = int(f.read().rsplit(")", 1)[1].split()[1])
			except (OSError, ValueError, IndexError):
				continue
			kids.setdefault(ppid, []).append(int(entry))
	out, todo = [], [pid]
	while todo:
		for kid in kids.get(todo.pop(), []):
			out.append(kid)
			todo.append(kid)
	return out


class Bulwark(Server):
	polls = True

	def io_conf(self):
		raise NotImplementedError

	def argv(self):
		a = self.b.args
		opts, top = fr.mitigation_conf(SECRET, attack_action=a.attack_action,
			nxps=a.rate_limit, slip=a.slip)
		zones = "".join('zone "%s" { file "%s"; };\n' % (z.rstrip("."), self.zone(z))
			for z in ORIGINS)
		conf = """options {
	directory "%s";
	control-socket "%s";
	pid-file none;
%s%s};
%s%s%s""" % (self.dir, self.path("ctl.sock"), self.listen(), opts, top,
			self.io_conf(), zones)
		return self.taskset() + [self.b.program("controlplane", "bulwarkd"), "-c",
			self.write("bulwark.conf", conf), "-f"]

	def listen(self):
		return "\tlisten-on { %s; };\n\tlisten-on-v6 { %s; };\n" % (fr.SERVER4,
			fr.SERVER6)

	def taskset(self):
		return self.cpu()

	def poller(self):
		return fr.Poller([self.b.program("controlplane", "bulwarkctl"), "-s",
			self.path("ctl.sock"), "--json", "flood-status"])


class BulwarkDpdk(Bulwark):
	kind = "dpdk"

	def io_conf(self):
		a = self.b.args
		prefix = "bwbflood%d" % os.getpid()
		if prefix not in self.b.cleanup.prefixes:
			self.b.cleanup.prefixes.append(prefix)
		# main lcore (control plane) on the generator's CPU, the worker
		# alone on the server CPU
		eal = ("-l %d,%d --main-lcore %d --no-huge -m 512 --no-pci --file-prefix %s "
			"--log-level=lib.eal:warning" % (a.gen_cpu, a.server_cpu, a.gen_cpu, prefix))
		return """dataplane {
	io dpdk;
	eal-args "%s";
	port "net_af_packet0,iface=%s,framecnt=4096" {
		address %s/24;
		address %s/64;
	};
	workers %d-%d;
};
""" % (eal, self.b.link.srv_if, fr.SERVER4, fr.SERVER6, a.server_cpu, a.server_cpu)

	def taskset(self):
		return []                 # the EAL pins the main lcore and the worker

	def pin(self):
		pass


class BulwarkSocket(Bulwark):
	def io_conf(self):
		cpu = self.b.args.server_cpu
		return "dataplane {\n\tio socket;\n\tworkers %d-%d;\n};\n" % (cpu, cpu)


class Knot(Server):
	modules = ()

	def argv(self):
		a = self.b.args
		mods = ""
		if "rrl" in self.modules:
			mods += "mod-rrl:\n  - id: bench\n    rate-limit: %d\n    slip: %d\n" % (
				a.rate_limit, a.slip)
		if "cookies" in self.modules:
			mods += "mod-cookies:\n  - id: bench\n    secret: 0x%s\n    badcookie-slip: 1\n" \
				% SECRET
		glob = ""
		if self.modules:
			# cookies first: mod-rrl skips responses to valid cookies
			glob = "    global-module: [%s]\n" % ", ".join("mod-%s/bench" % m for m in
				sorted(self.modules))
		zones = "".join('  - domain: %s\n    file: "%s"\n' % (z, self.zone(z))
			for z in ORIGINS)
		conf = """server:
    rundir: "{d}"
    listen: [ {s4}@53, {s6}@53 ]
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "{d}"
{mods}template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
{glob}zone:
{zones}""".format(d=self.dir, s4=fr.SERVER4, s6=fr.SERVER6, mods=mods, glob=glob,
			zones=zones)
		return self.cpu() + ["knotd", "-c", self.write("knot.conf", conf)]


class KnotRrl(Knot):
	modules = ("rrl",)


class KnotRrlCookies(Knot):
	modules = ("cookies", "rrl")


class KnotPlain(Knot):
	modules = ()


class Nsd(Server):
	rrl = True

	def argv(self):
		a = self.b.args
		rrl = ("\trrl-ratelimit: %d\n\trrl-slip: %d\n\trrl-ipv4-prefix-length: 32\n"
			"\trrl-ipv6-prefix-length: 56\n\trrl-whitelist-ratelimit: %d\n" % (a.rate_limit,
			a.slip, a.rate_limit * 10)) if self.rrl else \
			"\trrl-ratelimit: 0\n\trrl-whitelist-ratelimit: 0\n"
		zones = "".join('zone:\n\tname: "%s"\n\tzonefile: "%s"\n' % (z, self.zone(z))
			for z in ORIGINS)
		conf = """server:
	ip-address: {s4}
	ip-address: {s6}
	port: 53
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "{d}"
	pidfile: "{d}/nsd.pid"
	database: ""
	zonelistfile: "{d}/zone.list"
	xfrdfile: "{d}/xfrd.state"
	xfrdir: "{d}"
	verbosity: 1
{rrl}remote-control:
	control-enable: no
{zones}""".format(s4=fr.SERVER4, s6=fr.SERVER6, d=self.dir, rrl=rrl, zones=zones)
		return self.cpu() + ["nsd", "-d", "-c", self.write("nsd.conf", conf)]


class NsdPlain(Nsd):
	rrl = False


SERVERS = {
	"bulwark-dpdk": BulwarkDpdk,
	"bulwark-socket": BulwarkSocket,
	"knot-rrl": KnotRrl,
	"knot-rrl-cookies": KnotRrlCookies,
	"nsd-rrl": Nsd,
	"knot-plain": KnotPlain,
	"nsd-plain": NsdPlain,
}


# ---- The bench. ----

class Bench:
	def __init__(self, args, cleanup):
		self.args = args
		self.cleanup = cleanup
		self.build = os.path.abspath(args.build)
		self.tmp = os.path.join("/tmp", "bw-bench-flood-%d" % os.getpid())
		os.makedirs(self.tmp)
		os.chmod(self.tmp, 0o755)
		if args.keep:
			log("keeping %s" % self.tmp)
		else:
			cleanup.dirs.append(self.tmp)
		self.round = 0
		self.made = None
		self.link = None

	def program(self, *parts):
		path = os.path.join(self.build, *parts)
		if not os.access(path, os.X_OK):
			raise TestFailure("%s is missing: build it first (ninja -C %s)" % (path,
				self.build))
		return path

	def scenario(self):
		"""The pcap (made again when its server cookies grow old)."""
		if self.made is None or time.time() - self.made > COOKIE_MAX_AGE:
			a = self.args
			self.pcap, self.sidecar, self.meta, self.queries = fr.generate(self.tmp,
				seed=a.seed, duration=a.duration, legit_rate=a.legit_rate,
				flood_rate=a.legit_rate * a.flood_factor, flood_start=a.flood_start,
				flood_end=a.flood_start + a.flood_seconds, flood_parents=[ORIGINS[0]],
				cookie_secret=SECRET)
			self.made = time.time()
			if self.link is None:
				self.link = fr.Link(self.cleanup, self.meta).create()
		return self.pcap

	def measure(self, mode):
		pcap = self.scenario()
		server = SERVERS[mode](self, mode)
		try:
			server.start()
			rep = fr.replay(self.link, pcap, server.dir, cpu=self.args.gen_cpu,
				poller=server.poller(), timeout=self.meta["duration"] * 3 + 60,
				queries=self.queries)
			if server.proc.poll() is not None:
				raise TestFailure("the server exited during the replay: %s" %
					server.log_tail())
		finally:
			server.stop()
		s = fr.analyse(self.meta, self.queries, rep)
		if self.args.timeline:
			fr.print_timeline(s, out=sys.stderr)
		return s


def row(s):
	"""The numbers of one replay for the table."""
	fl, lg = s["flood"], s["legit"]
	w = fl.get("windows") or {}
	before, after = w.get("before"), w.get("after")
	out = {"flood_qps": fl.get("qps", 0.0), "legit_correct_pct": lg["correct_pct"],
		"legit_answered_pct": lg["answered_pct"], "flood_rps": fl.get("rps", 0.0),
		"before_rps": before["rps"] if before else None,
		"after_rps": after["rps"] if after else None,
		"detected_at": w.get("detected_at"), "kinds": fl.get("kinds", {}),
		"lag_ms": s["replay"]["lag_ms"]["max"]}
	rps = out["after_rps"] if after else out["flood_rps"]
	out["reduction_pct"] = 100.0 * (1 - rps / out["flood_qps"]) if out["flood_qps"] else None
	det = s.get("detection") or {}
	out["flagged"] = sorted(det.get("parents", {}))
	out["released"] = {p: d["gone"] for p, d in det.get("parents", {}).items()}
	return out


def median_row(rows):
	"""The round with the median reduction (all its numbers together)."""
	ok = sorted(rows, key=lambda r: (r["reduction_pct"] is None, r["reduction_pct"] or 0))
	return ok[(len(ok) - 1) // 2]


def fmt(v, spec="{:,.0f}"):
	return "" if v is None else spec.format(v)


def table(args, results, modes):
	lines = ["flood under example.com.: %g s from t=%g s at %g x %g q/s legitimate; "
		"servers on CPU %d, tcpreplay/tcpdump on CPU %d; rate-limit %d/s, slip %d; "
		"bulwarkd attack-action %s; median of %d round(s)" % (args.flood_seconds,
		args.flood_start, args.flood_factor, args.legit_rate, args.server_cpu,
		args.gen_cpu, args.rate_limit, args.slip, args.attack_action, args.rounds), "",
		"| server | mode | flood q/s sent | legit answered correctly | flood responses/s "
		"(whole flood) | before detection | after detection | flood reduction | "
		"responses (NXDOMAIN / TC / BADCOOKIE / REFUSED) |",
		"| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
	for mode in modes:
		server, label = LABELS[mode]
		r = results[mode]
		if not r["rounds"]:
			lines.append("| %s | %s | failed: %s | | | | | | |" % (server, label,
				(r["error"] or "?").replace("|", "/")[:200]))
			continue
		m = median_row(r["rounds"])
		k = m["kinds"]
		det = " (at +%.2f s)" % m["detected_at"] if m["detected_at"] is not None else ""
		lines.append("| %s | %s | %s | %.2f%% | %s | %s | %s%s | %s | %s / %s / %s / %s |" % (
			server, label, fmt(m["flood_qps"]), m["legit_correct_pct"], fmt(m["flood_rps"]),
			fmt(m["before_rps"]) or "n/a", fmt(m["after_rps"]) or "n/a", det,
			fmt(m["reduction_pct"], "{:.1f}%"), k.get("nxdomain", 0), k.get("tc", 0),
			k.get("badcookie", 0), k.get("refused", 0)))
	return "\n".join(lines)


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--build", default=os.path.join(TOP, "build"))
	ap.add_argument("--modes", default=",".join(MODES),
		help="comma-separated, of: %s" % ", ".join(MODES + EXTRA_MODES))
	ap.add_argument("--rounds", type=int, default=1)
	ap.add_argument("--server-cpu", type=int, default=1)
	ap.add_argument("--gen-cpu", type=int, default=0)
	ap.add_argument("--seed", type=int, default=21)
	ap.add_argument("--legit-rate", type=float, default=1000.0)
	ap.add_argument("--flood-factor", type=float, default=10.0)
	ap.add_argument("--flood-start", type=float, default=3.0)
	ap.add_argument("--flood-seconds", type=float, default=6.0)
	ap.add_argument("--duration", type=float, default=15.0)
	ap.add_argument("--rate-limit", type=int, default=20)
	ap.add_argument("--slip", type=int, default=2)
	ap.add_argument("--attack-action", default="rate-limit",
		choices=("none", "rate-limit", "require-cookie", "drop"))
	ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
	ap.add_argument("--keep", action="store_true", help="keep the work directory")
	ap.add_argument("--timeline", action="store_true", help="print each timeline")
	args = ap.parse_args()
	modes = [m.strip() for m in args.modes.split(",") if m.strip()]
	bad = [m for m in modes if m not in SERVERS]
	if bad:
		ap.error("unknown mode(s): %s" % ", ".join(bad))
	if os.geteuid() != 0:
		raise SystemExit("bench-flood.py: run as root (network namespaces, DPDK)")
	for tool in ("tcpreplay", "tcpdump", "kdig", "ethtool", "taskset") + tuple(
			{"knot": "knotd", "nsd": "nsd"}[m.split("-")[0]] for m in modes
			if not m.startswith("bulwark")):
		if shutil.which(tool) is None:
			raise SystemExit("bench-flood.py: %s is not installed" % tool)
	results = {m: {"server": LABELS[m][0], "mode": LABELS[m][1], "rounds": [],
		"error": None} for m in modes}
	# this program (and the flood-status polls) beside the generator
	os.sched_setaffinity(0, {args.gen_cpu})
	cleanup = Cleanup()
	done = cleanup.call(run_rounds, args, cleanup, modes, results)
	if done is None:
		return 1
	print()
	print(table(args, results, modes))
	if args.json:
		with open(args.json, "w") as f:
			json.dump({"config": vars(args), "results": results}, f, indent=1, default=str)
	return 0 if any(r["rounds"] for r in results.values()) else 1


def run_rounds(args, cleanup, modes, results):
	bench = Bench(args, cleanup)
	for rnd in range(args.rounds):
		bench.round = rnd
		for mode in modes:
			r = results[mode]
			if r["error"] and not r["rounds"]:
				continue            # failed before it gave a number: no retry
			try:
				s = bench.measure(mode)
			except (TestFailure, subprocess.TimeoutExpired, OSError) as e:
				r["error"] = str(e)
				log("round %d: %s: failed: %s" % (rnd + 1, mode, e))
				continue
			x = row(s)
			r["rounds"].append(x)
			log("round %d: %s: flood %s q/s, legit %.2f%% correct, flood responses %s/s "
				"(before detection %s, after %s), reduction %s" % (rnd + 1, mode,
				fmt(x["flood_qps"]), x["legit_correct_pct"], fmt(x["flood_rps"]),
				fmt(x["before_rps"]) or "-", fmt(x["after_rps"]) or "-",
				fmt(x["reduction_pct"], "{:.1f}%")))
	return True


if __name__ == "__main__":
	sys.exit(main())
