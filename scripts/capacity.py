#!/usr/bin/python3
"""Capacity mode: replay a pcap of queries through bulwarkd's real DPDK
workers, with no network, and report answered queries per second per core.

    scripts/capacity.sh PCAP ZONE [CORES] [--duration S] [--rounds N] ...

Each worker gets a net_pcap port of its own that reads PCAP in a loop
(`rx_pcap=FILE,infinite_rx=1`; the frames are loaded into mbufs once) and
drops what it sends (net_pcap without a TX stream).  The frames are
retargeted first to that port's MAC and to 192.0.2.53 / 2001:db8::53
(scripts/gen-query-pcap.py retarget), so any capture works, e.g. one made
by `gen-query-pcap.py gen`.  ZONE is a zone file (compiled here with
bulwark-compile) or a table (.bwz).

The counters come from DPDK telemetry (/bulwark/stats): answered queries
over fixed windows of DURATION seconds after a warm-up, median of ROUNDS
windows; TSC cycles per query are the workers' busy cycles divided by the
answers.  In the same invocation dpdk-testpmd forwards the same pcap on the
same kind of port and cores in `io` and `macswap` modes: the I/O bound,
which the report puts bulwarkd's rate against (skip with --no-testpmd).
"""

import argparse
import json
import os
import re
import signal
import socket
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PCAP_MAC = "02:70:63:61:70:%02x"    # net_pcap's MAC for port N
MBUF_BYTES = 4096                   # an mbuf with its headroom, header and pool overhead, rounded up


def pcap_count(path):
	"""Number of records in a classic pcap file."""
	n = 0
	with open(path, "rb") as f:
		hdr = f.read(24)
		if len(hdr) < 24:
			raise SystemExit("%s: not a pcap file" % path)
		endian = "<" if hdr[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
		while True:
			rec = f.read(16)
			if len(rec) < 16:
				return n
			incl = struct.unpack(endian + "IIII", rec)[2]
			f.seek(incl, 1)
			n += 1


def retarget(pcap, out, port_index):
	subprocess.run([sys.executable, os.path.join(HERE, "gen-query-pcap.py"),
		"retarget", pcap, "-o", out, "--dst-mac", PCAP_MAC % port_index,
		"--dst4", "192.0.2.53", "--dst6", "2001:db8::53"],
		check=True, stdout=subprocess.DEVNULL)


def compile_zone(build, zone, origin, out):
	if zone.endswith(".bwz"):
		return zone
	argv = [os.path.join(build, "zonecomp", "cli", "bulwark-compile"), zone,
		"-o", out]
	if origin:
		argv += ["-z", origin]
	subprocess.run(argv, check=True)
	return out


def table_apex(build, table):
	"""The zone's apex, from the first record of --dump."""
	dump = subprocess.Popen([os.path.join(build, "zonecomp", "cli",
		"bulwark-compile"), "--dump", table], stdout=subprocess.PIPE, text=True)
	for line in dump.stdout:
		if line.strip() and not line.startswith(("$", ";")):
			dump.kill()
			dump.wait()
			return line.split()[0]
	dump.wait()
	raise SystemExit("%s: empty table" % table)


def eal_memory(mbufs):
	return 256 + mbufs * MBUF_BYTES // (1 << 20)


def telemetry(prefix, cmd):
	path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
	with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
		s.settimeout(5)
		s.connect(path)
		s.recv(65536)
		s.send(cmd.encode())
		return json.loads(s.recv(1 << 20).decode())[cmd]


class Run:
	"""Everything this invocation started, stopped on exit."""

	def __init__(self):
		self.procs = []

	def start(self, argv, **kw):
		p = subprocess.Popen(argv, **kw)
		self.procs.append(p)
		return p

	def stop(self, p, sig=signal.SIGTERM, wait=15):
		if p.poll() is None:
			p.send_signal(sig)
			try:
				p.wait(wait)
			except subprocess.TimeoutExpired:
				p.kill()
				p.wait()

	def close(self):
		for p in self.procs:
			self.stop(p)


def bulwark_rates(run, args, pcaps, table, apex, mbufs, tmp):
	"""Median answered qps over the windows, and cycles per query."""
	prefix = "bwcap%d" % os.getpid()
	ports = "".join(
		'\tport "net_pcap%d,rx_pcap=%s,infinite_rx=1" { address 192.0.2.53; '
		'address 2001:db8::53; exception none; };\n' % (i, p)
		for i, p in enumerate(pcaps))
	conf = os.path.join(tmp, "capacity.conf")
	with open(conf, "w") as f:
		f.write('options { pid-file none; edns-udp-size %d; directory "%s"; %s };\n'
			'dataplane {\n\tio dpdk;\n'
			'\teal-args "-l 0-%d --no-huge -m %d --no-pci --file-prefix %s '
			'--log-level=lib.eal:warning";\n%s\tworkers 1-%d;\n\tmbufs %d;\n};\n'
			'zone "%s" { table "%s"; };\n%s\n' % (args.edns_udp_size, tmp,
			args.options, args.cores,
			eal_memory(mbufs), prefix, ports, args.cores, mbufs, apex,
			os.path.abspath(table), args.top or
			# capacity of the answer path: mitigation off unless asked for
			"flood-mitigation { enable no; };"))
	log = open(os.path.join(tmp, "bulwarkd.log"), "w+")
	p = run.start([os.path.join(args.build, "controlplane", "bulwarkd"),
		"-c", conf, "-f"], stdout=log, stderr=subprocess.STDOUT)
	deadline = time.time() + 120
	while True:
		log.flush()
		with open(log.name) as f:
			text = f.read()
		if "started: io dpdk" in text:
			break
		if p.poll() is not None or time.time() > deadline:
			run.stop(p)
			raise SystemExit("bulwarkd did not start:\n" + text)
		time.sleep(0.2)
	time.sleep(args.warmup)
	windows = []
	prev, t_prev = telemetry(prefix, "/bulwark/stats"), time.time()
	for _ in range(args.rounds):
		time.sleep(args.duration)
		cur, t_cur = telemetry(prefix, "/bulwark/stats"), time.time()
		answers = cur["answers"] - prev["answers"]
		windows.append({
			"qps": answers / (t_cur - t_prev),
			"busy_cycles_per_query": (cur["busy_cycles"] - prev["busy_cycles"]) /
				max(answers, 1),
			"cycles_per_query": cur["tsc_hz"] * (t_cur - t_prev) * args.cores /
				max(answers, 1),
			"rx": cur["rx"] - prev["rx"],
			"drops": sum(cur["drop"].values()) - sum(prev["drop"].values()),
			"rx_per_s": (cur["rx"] - prev["rx"]) / (t_cur - t_prev),
		})
		prev, t_prev = cur, t_cur
	final = cur
	run.stop(p)
	shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
	return windows, final


def testpmd_rate(run, args, pcaps, mode, mbufs):
	"""Median forwarded packets per second of dpdk-testpmd in MODE."""
	prefix = "bwtpmd%d" % os.getpid()
	vdevs = []
	for i, pc in enumerate(pcaps):
		vdevs += ["--vdev", "net_pcap%d,rx_pcap=%s,infinite_rx=1" % (i, pc)]
	argv = ["dpdk-testpmd", "-l", "0-%d" % args.cores, "--no-huge", "-m",
		str(eal_memory(mbufs)), "--no-pci", "--file-prefix", prefix,
		"--log-level=lib.eal:warning"] + vdevs + [
		"--", "--forward-mode=%s" % mode, "--port-topology=loop",
		"--nb-cores=%d" % args.cores, "--total-num-mbufs=%d" % mbufs,
		"--stats-period=1", "--burst=32", "--txd=1024", "--rxd=1024"]
	p = run.start(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
		text=True)
	samples = []
	start = time.time()
	total = args.warmup + args.duration * args.rounds
	per_second = []
	for line in p.stdout:
		m = re.search(r"Tx-pps:\s+(\d+)", line)
		if m:
			per_second.append(int(m.group(1)))
		# testpmd prints one block per port each period
		if len(per_second) == len(pcaps):
			if time.time() - start > args.warmup:
				samples.append(sum(per_second))
			per_second = []
		if time.time() - start > total:
			break
	run.stop(p, signal.SIGINT)
	shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
	if not samples:
		raise SystemExit("dpdk-testpmd (%s) gave no rates" % mode)
	return statistics.median(samples)


def main():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("pcap")
	ap.add_argument("zone", help="zone file, or a table (.bwz)")
	ap.add_argument("cores", nargs="?", type=int, default=1,
		help="worker cores (lcores 1..CORES; lcore 0 is the control plane)")
	ap.add_argument("--build", default=os.path.join(TOP, "build"))
	ap.add_argument("--origin", help="zone apex, for a zone file")
	ap.add_argument("--duration", type=float, default=5.0,
		help="seconds per measuring window")
	ap.add_argument("--rounds", type=int, default=3, help="windows; the median is reported")
	ap.add_argument("--warmup", type=float, default=2.0)
	ap.add_argument("--edns-udp-size", type=int, default=1232)
	ap.add_argument("--no-testpmd", action="store_true",
		help="do not measure dpdk-testpmd's I/O bound")
	ap.add_argument("--json", help="also write the results to this file")
	ap.add_argument("--options", default="",
		help="statements added to options { } (e.g. a rate-limit block)")
	ap.add_argument("--top", default="",
		help="top-level statements added (e.g. a flood-mitigation block)")
	ap.add_argument("--flood-state",
		help="a flood.state file (filters) for bulwarkd's directory")
	args = ap.parse_args()
	if args.cores < 1 or args.cores >= os.cpu_count():
		raise SystemExit("CORES must be 1 to %d (one core stays with the "
			"control plane)" % (os.cpu_count() - 1))

	run = Run()
	tmp = tempfile.mkdtemp(prefix="bw-capacity-")
	try:
		frames = pcap_count(args.pcap)
		pcaps = []
		for i in range(args.cores):
			out = os.path.join(tmp, "port%d.pcap" % i)
			retarget(args.pcap, out, i)
			pcaps.append(out)
		frames = pcap_count(pcaps[0])
		mbufs = args.cores * (frames + 8192) + 16384
		if args.flood_state:
			shutil.copy(args.flood_state, os.path.join(tmp, "flood.state"))
		table = compile_zone(args.build, args.zone, args.origin,
			os.path.join(tmp, "zone.bwz"))
		apex = args.origin or table_apex(args.build, table)
		windows, final = bulwark_rates(run, args, pcaps, table, apex, mbufs, tmp)
		qps = statistics.median(w["qps"] for w in windows)
		result = {
			"pcap": args.pcap, "frames": frames, "cores": args.cores,
			"duration": args.duration, "rounds": args.rounds,
			"bulwark_qps": qps, "bulwark_qps_per_core": qps / args.cores,
			"handled_qps": statistics.median(w["rx_per_s"] for w in windows),
			"busy_cycles_per_query": statistics.median(
				w["busy_cycles_per_query"] for w in windows),
			"cycles_per_query": statistics.median(
				w["cycles_per_query"] for w in windows),
			"tsc_hz": final["tsc_hz"], "windows": windows,
			"rcode": {k: v for k, v in final["rcode"].items() if v},
			"drop": {k: v for k, v in final["drop"].items() if v},
			"do": final["do"], "answers": final["answers"], "tc": final["tc"],
		}
		if not args.no_testpmd:
			for mode in ("io", "macswap"):
				result["testpmd_" + mode + "_pps"] = testpmd_rate(run, args,
					pcaps, mode, mbufs)
	finally:
		run.close()
		subprocess.run(["rm", "-rf", tmp])
	report(result)
	if args.json:
		with open(args.json, "w") as f:
			json.dump(result, f, indent=1)


def report(r):
	print("capacity: %s (%d frames), %d worker core%s, %d windows of %gs" % (
		r["pcap"], r["frames"], r["cores"], "" if r["cores"] == 1 else "s",
		r["rounds"], r["duration"]))
	print("  bulwarkd: %.3f Mqps answered (%.3f Mqps per core), %.0f busy "
		"TSC cycles per query, %.0f cycles per query overall (TSC %.2f GHz)" % (
		r["bulwark_qps"] / 1e6, r["bulwark_qps_per_core"] / 1e6,
		r["busy_cycles_per_query"], r["cycles_per_query"], r["tsc_hz"] / 1e9))
	print("  rcodes %s; DO=1 %d of %d; TC %d; drops %s" % (r["rcode"], r["do"],
		r["answers"], r["tc"], r["drop"] or "none"))
	for mode in ("io", "macswap"):
		key = "testpmd_" + mode + "_pps"
		if key in r:
			print("  dpdk-testpmd %-7s %.3f Mpps; bulwarkd = %.3f of it" % (
				mode + ":", r[key] / 1e6, r["bulwark_qps"] / r[key]))


if __name__ == "__main__":
	main()
