#!/usr/bin/python3
"""Integration test: random-subdomain flood mitigation under a replayed flood.

    flood_test.py --build BUILD [--phase all|flood|filter] [--keep DIR]
        [--attack-action rate-limit] [--legit-rate 1000] [--flood-factor 10]
        [--flood-start 3] [--flood-seconds 6] [--duration 15] [--hold-down 2]
        [--plain]

bulwarkd runs with `io dpdk` (net_af_packet, one worker on lcore 1) in a
network namespace, on one end of a veth pair whose other end is in a
second namespace (tests/integration/flood_replay.py: the link, the replay
with tcpreplay, the capture with tcpdump, the analysis).  It serves
example.com and example.net, compiled with bulwark-compile from the zones
scripts/gen-flood-pcap.py writes, with response-rate limiting, a cookie
secret and flood mitigation (flood_replay.mitigation_conf()).

Phase "flood": a pcap of --duration s of legitimate traffic (--legit-rate
q/s from 1,000 clients, 30% of them with valid server cookies made with the
configured secret, 30% with client cookies only) and a flood (--flood-factor
times that rate, random labels under example.com., from --flood-start for
--flood-seconds, from spoofed IPv6 sources and four resolver-like sources
with client cookies) is replayed, while flood-status is polled every 100 ms.
Checks:
- at least 99% of the legitimate queries are answered correctly (rcode,
  rdata);
- example.com. shows up in flood-status "attacks" within 1 s of the first
  flood query (the first poll that shows it; polls are 100 ms apart);
- no other parent (example.net., or anything else) is ever flagged;
- example.com. is gone from "attacks" within hold-down + 2 s of the last
  flood query;
- "flood responses reduced by at least 90% after detection": every
  response packet to a flood query counts (full NXDOMAIN, TC=1 slips,
  BADCOOKIE, REFUSED: each is a packet the flood got out of us, and a slip
  is as much a reflection as an answer).  The rate of those responses to
  queries sent from detection + 0.5 s to the flood's end must be at most
  10% of the lower of two references: the flood's query rate, and the
  response rate to queries sent between the flood start and detection
  (when that window is at least 0.2 s long).  The second is lower whenever
  rate limiting already held back some responses before detection (the
  resolver-like sources exceed nxdomains-per-second at once), so taking the
  lower one asks for 90% less than what rate limiting alone achieved, not
  merely 90% less than the flood.  With --attack-action rate-limit (the
  default, bulwarkd's own) the flagged parent gets attack-nxdomains-per-
  second (100) answers in all, about 1% of the flood; with drop, none (no
  flood query carries a valid server cookie); require-cookie answers every
  flood query with TC=1 or BADCOOKIE and is expected to fail this check.

Phase "filter": 10 s of legitimate traffic plus a thin flood (200 q/s from
spoofed sources, far below the detection thresholds and the rate limits),
half of it with labels starting "xf".  3 s after the replay starts the test
runs `bulwarkctl filter-add '^xf[a-z0-9]+\\.example\\.com\\.?$' drop`, 3 s
later `filter-del ID` (the ID from filter-add's JSON).  Checks:
- every "xf" query sent after filter-add's reply (+10 ms) and before
  filter-del was requested goes unanswered;
- "xf" queries sent before filter-add was requested, and after filter-del's
  reply (+10 ms), are answered (99%);
- the other flood queries are answered (99%) throughout;
- no legitimate query is lost, every one answered correctly.

Both phases: no capture drop, tcpreplay sent everything, the flood was
really sent at at least half its nominal rate (a slow replay makes the test
say nothing), bulwarkd exits 0 on SIGTERM.  Each phase has its own
namespaces and server; everything started (namespaces, veth, bulwarkd,
tcpreplay, tcpdump, files, the EAL runtime directory) is removed in every
case.  --plain leaves the mitigation statements out of the configuration
(bulwarkd's defaults then apply: detection on, attack-action rate-limit,
hold-down 10 s, no rate-limit, no cookie secret): a check of the harness,
whose release and reduction checks fail by design.
"""

import argparse
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import flood_replay as fr  # noqa: E402
from dpdk_util import (Cleanup, TestFailure, compile_zone,  # noqa: E402
	eal_args, unready)

PID = os.getpid()
WORKER_LCORE = 1
RING_FRAMES = 4096               # AF_PACKET ring: 0.37 s of queries at 11k q/s
SECRET = "5a1b2c3d4e5f60718293a4b5c6d7e8f9"
ORIGINS = ("example.com.", "example.net.")
FLOODED = "example.com."
FILTER_PATTERN = r"^xf[a-z0-9]+\.example\.com\.?$"
FILTER_GRACE = 0.010             # capture stamps vs the test's clock
LEGIT_OK = 0.99
DETECT_WITHIN = 1.0
RELEASE_SLACK = 2.0
REDUCTION = 0.10                 # after / reference


# ---- Set-up shared by the phases. ----

def other_cpus():
	"""CPUs for tcpreplay, tcpdump and the test: all but the worker's."""
	return os.sched_getaffinity(0) - {WORKER_LCORE}


def gen_cpus():
	"""other_cpus() for taskset (None: there is only the worker's)."""
	cpus = other_cpus()
	return ",".join(str(c) for c in sorted(cpus)) if cpus else None


def conf_text(args, tmp, tables, ctl, prefix, link):
	opts, top = ("", "") if args.plain else fr.mitigation_conf(SECRET,
		attack_action=args.attack_action, hold_down=args.hold_down)
	zones = "".join('zone "%s" { table "%s"; };\n' % (z.rstrip("."), t)
		for z, t in tables.items())
	return """options {
	directory "%s";
	control-socket "%s";
	pid-file none;
%s};
%sdataplane {
	io dpdk;
	eal-args "%s";
	port "net_af_packet0,iface=%s,framecnt=%d" {
		address %s/24;
		address %s/64;
	};
	workers %d-%d;
};
%s""" % (tmp, ctl, opts, top, eal_args(prefix, lcores="0,%d" % WORKER_LCORE),
		link.srv_if, RING_FRAMES, fr.SERVER4, fr.SERVER6, WORKER_LCORE, WORKER_LCORE,
		zones)


class Phase:
	"""One phase: its directory, scenario, link and server."""

	def __init__(self, args, cleanup, tag, gen_opts):
		self.args = args
		self.cleanup = cleanup
		self.tmp = tempfile.mkdtemp(prefix="bw-flood-%s-" % tag)
		os.chmod(self.tmp, 0o755)
		if args.keep:
			print("keeping %s" % self.tmp)
		else:
			cleanup.dirs.append(self.tmp)
		self.pcap, self.sidecar, self.meta, self.queries = fr.generate(self.tmp,
			cookie_secret=SECRET, **gen_opts)
		build = os.path.abspath(args.build)
		try:
			self.tables = {z: compile_zone(build, self.meta["zone_files"][z], z,
				os.path.join(self.tmp, z.rstrip(".") + ".bwz")) for z in ORIGINS}
		except RuntimeError as e:
			raise TestFailure(str(e))
		self.link = fr.Link(cleanup, self.meta, tag=tag).create()
		self.link.configure("dpdk")
		self.ctl = os.path.join(self.tmp, "ctl.sock")
		prefix = "bwflood%s%d" % (tag, PID)
		self.srv = cleanup.server(build, conf_text(args, self.tmp, self.tables,
			self.ctl, prefix, self.link), prefix, netns=self.link.srv_ns)
		self.bulwarkctl = os.path.join(build, "controlplane", "bulwarkctl")

	def start(self):
		try:
			self.srv.start()
		except RuntimeError as e:
			raise TestFailure("bulwarkd did not start: %s" % e)
		# this process and what it starts (the polls) off the worker's CPU,
		# now that bulwarkd has pinned its own threads
		cpus = other_cpus()
		if cpus:
			os.sched_setaffinity(0, cpus)
		try:
			fr.wait_ready(self.link, FLOODED, proc=self.srv.proc)
		except TestFailure:
			self.dump_log()
			raise

	def ctl_cmd(self, *argv):
		return [self.bulwarkctl, "-s", self.ctl, "--json"] + list(argv)

	def replay(self, poll, actions=()):
		poller = fr.Poller(self.ctl_cmd("flood-status")) if poll else None
		try:
			rep = fr.replay(self.link, self.pcap, self.tmp, cpu=gen_cpus(), poller=poller,
				actions=actions, timeout=self.meta["duration"] * 3 + 60,
				queries=self.queries)
		except BaseException:
			self.dump_log()
			raise
		if self.args.keep:
			rep["sidecar"] = self.sidecar
			with open(os.path.join(self.tmp, "replay.json"), "w") as f:
				json.dump(rep, f, default=str)
		return rep

	def stop(self, problems):
		rc = self.srv.stop()
		if rc != 0:
			problems.append("bulwarkd exited with %s on SIGTERM" % rc)
			self.dump_log()

	def dump_log(self):
		log = self.srv.read_log() if self.srv.proc is not None else self.srv.log
		print("---- bulwarkd log (last lines) ----\n%s\n----" % "\n".join(
			(log or "").splitlines()[-40:]), file=sys.stderr)


def replay_problems(s, meta):
	"""What makes a replay say nothing: capture drops, unsent packets, a
	flood sent far slower than the pcap says."""
	p = []
	r = s["replay"]
	if (r.get("tcpdump") or {}).get("dropped"):
		p.append("tcpdump dropped %d frames" % r["tcpdump"]["dropped"])
	tr = r.get("tcpreplay") or {}
	if tr.get("failed") or tr.get("packets") != r["queries"]:
		p.append("tcpreplay sent %s of %d frames (%s failed)" % (tr.get("packets"),
			r["queries"], tr.get("failed")))
	fl = s["flood"]
	if meta["flood_rate"] and fl.get("sent") and fl["qps"] < 0.5 * meta["flood_rate"]:
		p.append("the flood went out at %.0f q/s, not %.0f: the replay was too slow "
			"to test anything" % (fl["qps"], meta["flood_rate"]))
	return p


# ---- Phase 1: detection, mitigation, release. ----

def phase_flood(args, cleanup):
	ph = Phase(args, cleanup, "f", dict(seed=11, duration=args.duration,
		legit_rate=args.legit_rate, flood_rate=args.legit_rate * args.flood_factor,
		flood_start=args.flood_start, flood_end=args.flood_start + args.flood_seconds,
		flood_parents=[FLOODED]))
	ph.start()
	rep = ph.replay(poll=True)
	s = fr.analyse(ph.meta, ph.queries, rep)
	problems = replay_problems(s, ph.meta) + flood_checks(args, s)
	ph.stop(problems)
	return s, problems


def flood_checks(args, s):
	p = []
	lg, fl, det = s["legit"], s["flood"], s["detection"]
	if lg["correct"] < LEGIT_OK * lg["sent"]:
		p.append("%d of %d legitimate queries answered correctly (%.2f%%, at least "
			"%.0f%% expected)" % (lg["correct"], lg["sent"], lg["correct_pct"],
			LEGIT_OK * 100))
	if det["poll_errors"] == det["polls"]:
		p.append("flood-status never answered (%d polls): %s" % (det["polls"],
			det["poll_last_error"]))
		return p
	if det["poll_errors"]:
		p.append("%d of %d flood-status polls failed: %s" % (det["poll_errors"],
			det["polls"], det["poll_last_error"]))
	x = det["parents"].get(FLOODED)
	if x is None:
		p.append("%s never showed up in flood-status attacks" % FLOODED)
	else:
		if x["first_seen"] > DETECT_WITHIN:
			p.append("%s flagged %.3f s after the flood started (at most %.1f s)" % (
				FLOODED, x["first_seen"], DETECT_WITHIN))
		deadline = args.hold_down + RELEASE_SLACK
		if x["gone"] is None:
			last = det["poll_span"][1] - (fl["end"] - fl["start"]) if det["poll_span"] \
				else None
			p.append("%s still flagged at the last poll (%s s after the flood ended; "
				"expected released within %.1f s)" % (FLOODED,
				"%.2f" % last if last is not None else "?", deadline))
		elif x["gone"] > deadline:
			p.append("%s released %.2f s after the flood ended (hold-down %d s + %.0f s)"
				% (FLOODED, x["gone"], args.hold_down, RELEASE_SLACK))
	if det["flagged_legit"]:
		p.append("parents flagged that were not flooded: %s" % ", ".join(
			"%s (first seen %+.2f s)" % (q, det["parents"][q]["first_seen"])
			for q in det["flagged_legit"]))
	p += reduction_check(fl)
	return p


def reduction_check(fl):
	w = fl.get("windows") or {}
	after, before = w.get("after"), w.get("before")
	if after is None:
		return ["no window after detection to measure the flood responses in"]
	ref, what = fl["qps"], "the flood's %.0f q/s" % fl["qps"]
	if before and before["seconds"] >= fr.MIN_BEFORE and before["rps"] < ref:
		ref, what = before["rps"], "%.0f responses/s before detection" % before["rps"]
	if after["rps"] > REDUCTION * ref:
		return ["flood responses after detection: %.0f/s (%s), more than %.0f%% of %s" % (
			after["rps"], {k: round(v) for k, v in after["kinds_per_second"].items() if v},
			REDUCTION * 100, what)]
	return []


# ---- Phase 2: filters. ----

def phase_filter(args, cleanup):
	ph = Phase(args, cleanup, "g", dict(seed=12, duration=10, legit_rate=args.legit_rate,
		flood_rate=200, flood_start=0, flood_end=10, flood_parents=[FLOODED],
		resolver_share=0, mark_prefix="xf", mark_share=0.5))
	ph.start()
	state = {}

	def add():
		done = subprocess.run(ph.ctl_cmd("filter-add", FILTER_PATTERN, "drop"),
			capture_output=True, text=True, timeout=30)
		state["add"] = done
		try:
			state["id"] = json.loads(done.stdout)["id"]
		except (ValueError, KeyError, TypeError):
			state["id"] = None
		return {"rc": done.returncode, "out": done.stdout, "err": done.stderr}

	def listing():
		done = subprocess.run(ph.ctl_cmd("filter-list"), capture_output=True, text=True,
			timeout=30)
		return {"rc": done.returncode, "out": done.stdout, "err": done.stderr}

	def delete():
		if state.get("id") is None:
			return {"rc": None, "out": "", "err": "no filter ID to delete"}
		done = subprocess.run(ph.ctl_cmd("filter-del", str(state["id"])),
			capture_output=True, text=True, timeout=30)
		return {"rc": done.returncode, "out": done.stdout, "err": done.stderr}

	rep = ph.replay(poll=False, actions=[(3.0, add), (4.0, listing), (6.0, delete)])
	s = fr.analyse(ph.meta, ph.queries, rep)
	problems = replay_problems(s, ph.meta) + filter_checks(ph, s, rep, state)
	ph.stop(problems)
	return s, problems


def filter_checks(ph, s, rep, state):
	p = []
	acts = rep["actions"]
	a_add, a_list, a_del = acts[0], acts[1], acts[2]
	for name, a in (("filter-add", a_add), ("filter-list", a_list), ("filter-del", a_del)):
		r = a["result"]
		if r["rc"] != 0:
			p.append("bulwarkctl %s failed (%s): %s%s" % (name, r["rc"], r["out"].strip(),
				r["err"].strip()))
	if state.get("id") is None:
		p.append("filter-add printed no JSON id: %r" % a_add["result"]["out"][:200])
	elif str(state["id"]) not in a_list["result"]["out"]:
		p.append("filter-list does not show filter %s: %s" % (state["id"],
			a_list["result"]["out"][:300]))
	lg = s["legit"]
	if lg["correct"] != lg["sent"]:
		p.append("legitimate queries: %d sent, %d answered correctly (%d lost, %d wrong) "
			"during filter-add / filter-del" % (lg["sent"], lg["correct"], lg["lost"],
			lg["wrong"]))
	p += filter_windows(ph, s, rep, a_add, a_del)
	return p


def filter_windows(ph, s, rep, a_add, a_del):
	"""Marked flood queries: answered before, dropped while the filter is
	in place, answered after; unmarked ones answered throughout."""
	sent, resp = fr.read_capture(rep["capture"], ph.meta["port"])
	off = s["replay"]["offset"]
	win = {"before": [0, 0], "during": [0, 0], "after": [0, 0], "unmarked": [0, 0],
		"edge": [0, 0]}
	t_on, t_off = a_add["t_rep"] + FILTER_GRACE, a_del["t_req"]
	t_back = a_del["t_rep"] + FILTER_GRACE
	for q in ph.queries:
		if q["kind"] != "flood":
			continue
		k = (ipaddress.ip_address(q["src"]).packed, q["sport"], q["id"])
		t = sent.get(k, q["t"] + off)
		if not q["marked"]:
			w = "unmarked"
		elif t < a_add["t_req"]:
			w = "before"
		elif t_on <= t < t_off:
			w = "during"
		elif t >= t_back:
			w = "after"
		else:
			w = "edge"           # in flight while a command ran: either is right
		win[w][0] += 1
		win[w][1] += k in resp
	s["filter_windows"] = win
	p = []
	for w in ("before", "after", "unmarked"):
		n, a = win[w]
		if n == 0 or a < LEGIT_OK * n:
			p.append("flood queries %s: %d of %d answered (%s)" % ({"before":
				"matching the filter, sent before filter-add", "after": "matching the "
				"filter, sent after filter-del", "unmarked": "not matching the filter"}[w],
				a, n, "none sent" if n == 0 else "at least 99% expected"))
	n, a = win["during"]
	if n == 0 or a:
		p.append("flood queries matching the filter, sent while it was in place: %d of "
			"%d answered (none expected)" % (a, n))
	return p


# ---- Main. ----

def report(name, s, problems):
	print("== phase %s" % name)
	fr.print_summary(s)
	if "filter_windows" in s:
		print("filter windows (sent, answered): %s" % s["filter_windows"])
	else:
		fr.print_timeline(s)
	for pr in problems:
		print("FAIL: %s: %s" % (name, pr))


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--build", required=True, help="meson build directory")
	ap.add_argument("--phase", choices=("all", "flood", "filter"), default="all")
	ap.add_argument("--attack-action", default="rate-limit",
		choices=("none", "rate-limit", "require-cookie", "drop"))
	ap.add_argument("--legit-rate", type=float, default=1000.0)
	ap.add_argument("--flood-factor", type=float, default=10.0)
	ap.add_argument("--flood-start", type=float, default=3.0)
	ap.add_argument("--flood-seconds", type=float, default=6.0)
	ap.add_argument("--duration", type=float, default=15.0)
	ap.add_argument("--hold-down", type=int, default=2)
	ap.add_argument("--keep", action="store_true", help="keep the work directories")
	ap.add_argument("--plain", action="store_true",
		help="no mitigation statements in the configuration (harness check)")
	args = ap.parse_args()
	build = os.path.abspath(args.build)
	why = unready(build, [("controlplane", "bulwarkd"), ("controlplane", "bulwarkctl"),
		("zonecomp", "cli", "bulwark-compile")])
	for tool in ("tcpreplay", "tcpdump", "kdig", "ethtool"):
		if why is None and subprocess.run(["which", tool], capture_output=True).returncode:
			why = "%s is not installed (scripts/install-deps.sh)" % tool
	if why is not None:
		print("FAIL: %s" % why)
		return 2
	t0 = time.monotonic()
	failed = False
	phases = [("flood", phase_flood), ("filter", phase_filter)]
	for name, fn in phases:
		if args.phase not in ("all", name):
			continue
		cleanup = Cleanup()
		res = cleanup.call(fn, args, cleanup)
		if res is None:
			print("FAIL: phase %s did not complete" % name)
			failed = True
			continue
		s, problems = res
		report(name, s, problems)
		failed = failed or bool(problems)
	if failed:
		return 1
	print("PASS in %.1f s" % (time.monotonic() - t0))
	return 0


if __name__ == "__main__":
	sys.exit(main())
