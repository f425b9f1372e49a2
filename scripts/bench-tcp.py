#!/usr/bin/python3
"""DNS over TCP throughput with pipelining: bulwarkd against knotd and nsd,
the same zone, the same machine, one run.

    scripts/bench-tcp.py --build build [--names 100000 | --zone Z --origin O
        --queries Q] [--shapes 16x64,256x4] [--batch 1] [--seconds 5]
        [--warmup 1] [--rounds 3] [--server-cpu 1] [--client-cpu 0]
        [--generator c|python|dnsperf] [--tcp-load PATH]

Each server listens on 127.0.0.1 only, on a free port, with one thread
that serves TCP: bulwarkd (io socket, 1 worker; TCP has its own loop
thread), knotd (tcp-workers 1) and nsd (server-count 1).  Every thread of
a server is pinned to --server-cpu once it answers (knotd pins its
workers itself); the generator runs under `taskset -c CLIENT_CPU`.  nsd
gets `tcp-count: 1024` (its default, 100, is below the connections of
the second shape); the others keep their defaults, bulwarkd with its
`tcp-clients-per-address` raised above the connection count.

For each shape CONNSxWINDOW the generator opens CONNS TCP connections and
keeps WINDOW queries outstanding on each: whenever --batch responses have
arrived on a connection, as many new queries go out in one write
(pipelining, RFC 7766 §6.2.1.1).  The default shapes are a few deep
pipelines (16x64) and many shallow clients (256x4); knotd and nsd read
one message per connection and event, so their numbers depend on the
shape more than bulwarkd's.  Queries
are the names and types of the query file in order, with EDNS (1232,
DO=0), as a resolver sends them.  It counts the responses (and their
rcodes) that arrive within --seconds after a --warmup that is not counted.
`--generator c` (the default) is bench/tcp_load.c: BUILD/bench/tcp_load
when the build has it (-Dbench=enabled), else compiled with `cc -O2` into
the temporary directory.  `--generator python` is this program itself in
a second process (it does the same, but on one CPU it cannot keep
bulwarkd busy); `--generator dnsperf` runs `dnsperf -m tcp -c CONNS -q
CONNS*WINDOW -T 1`.  The CPU use of the server and of the generator
during the measurement is reported: a server near 100% was the limit; a
generator near 100% with the server below means the number is a lower
bound for that server (on loopback each side's CPU also carries the
kernel's receive work for the other side's segments).

Servers run in interleaved rounds (bulwarkd, knotd, nsd, bulwarkd, ...) so
that the machine's noise hits them alike; the table gives the median qps
of each and the ratio to bulwarkd.  Without --zone, a zone of --names
names and its query file come from scripts/gen-zone.py.  Every server and
the generator are bounded in time and stopped by pid, also on an error
or SIGINT/SIGTERM.
"""

import argparse
import importlib.util
import json
import os
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"  # where dnspython is (as in tests/meson.build)
for sub in (("tests", "diff"), ("tests", "integration")):
	sys.path.insert(0, os.path.join(TOP, *sub))


def load_script(name):
	"""A sibling script (its name has dashes) as a module."""
	path = os.path.join(HERE, name + ".py")
	spec = importlib.util.spec_from_file_location(name.replace("-", "_"), path)
	mod = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(mod)
	return mod


def log(msg):
	print(msg, file=sys.stderr, flush=True)


# ---- The generator (runs in its own process, pinned by the parent). ----

def read_queries(path, limit):
	"""Framed query messages (length prefix, ID = index) from NAME TYPE lines."""
	import dns.message
	import dns.rdatatype

	frames = []
	with open(path) as f:
		for line in f:
			parts = line.split()
			if len(parts) < 2:
				continue
			q = dns.message.make_query(parts[0], dns.rdatatype.from_text(parts[1]),
				use_edns=0, payload=1232, want_dnssec=False)
			q.flags = 0  # an authoritative server's client does not ask RD
			q.id = len(frames) & 0xffff
			wire = q.to_wire()
			frames.append(len(wire).to_bytes(2, "big") + wire)
			if len(frames) >= limit:
				break
	if not frames:
		raise SystemExit("no queries in %s" % path)
	return frames


class Conn:
	"""One connection: what it still has to send and what it has received."""

	def __init__(self, port):
		self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
		self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
		self.sock.setblocking(False)
		self.inbuf = bytearray()
		self.out = b""
		self.owed = 0

	def frames_done(self, rcodes):
		"""Drops the complete responses from the input; returns their count."""
		buf, off, n, done = self.inbuf, 0, len(self.inbuf), 0
		while n - off >= 2:
			ln = buf[off] << 8 | buf[off + 1]
			if n - off - 2 < ln:
				break
			if ln >= 4:
				rcodes[buf[off + 5] & 0xf] += 1
			off += 2 + ln
			done += 1
		del buf[:off]
		return done


class Load:
	"""N connections with a window of K queries each."""

	def __init__(self, port, frames, conns, window, batch):
		self.frames = frames
		self.pos = 0
		self.batch = batch
		self.sel = selectors.DefaultSelector()
		self.conns = [Conn(port) for _ in range(conns)]
		self.received = 0
		self.rcodes = [0] * 16
		for c in self.conns:
			self.sel.register(c.sock, selectors.EVENT_READ, c)
			self.queue(c, window)

	def next_batch(self, n):
		end = self.pos + n
		frames = self.frames
		if end <= len(frames):
			batch = frames[self.pos:end]
		else:
			batch = frames[self.pos:] + frames[:end - len(frames)]
		self.pos = end % len(frames)
		return b"".join(batch)

	def queue(self, c, n):
		c.out += self.next_batch(n)
		self.flush(c)

	def flush(self, c):
		try:
			sent = c.sock.send(c.out)
		except BlockingIOError:
			sent = 0
		c.out = c.out[sent:]
		want = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.out else 0)
		self.sel.modify(c.sock, want, c)

	def readable(self, c):
		try:
			data = c.sock.recv(1 << 18)
		except BlockingIOError:
			return
		if not data:
			raise SystemExit("the server closed a connection")
		c.inbuf += data
		done = c.frames_done(self.rcodes)
		self.received += done
		c.owed += done
		if c.owed >= self.batch:
			self.queue(c, c.owed)
			c.owed = 0

	def run_until(self, deadline):
		while True:
			left = deadline - time.monotonic()
			if left <= 0:
				return
			for key, ev in self.sel.select(min(left, 0.5)):
				if ev & selectors.EVENT_WRITE:
					self.flush(key.data)
				if ev & selectors.EVENT_READ:
					self.readable(key.data)


def load_main(args):
	"""--load: run the generator, print one JSON line."""
	frames = read_queries(args.queries, args.max_queries)
	load = Load(args.port, frames, args.conns, args.window, args.batch)
	load.run_until(time.monotonic() + args.warmup)
	start_n, start_rc = load.received, list(load.rcodes)
	print("measuring", flush=True)  # the parent samples the server's CPU
	start = time.monotonic()
	load.run_until(start + args.seconds)
	elapsed = time.monotonic() - start
	rcodes = [a - b for a, b in zip(load.rcodes, start_rc)]
	print(json.dumps({"responses": load.received - start_n, "seconds": elapsed,
		"rcodes": {str(i): n for i, n in enumerate(rcodes) if n}}), flush=True)
	return 0


# ---- Servers. ----

def cpu_seconds(pids):
	"""User plus system CPU time of PIDS (all their threads), in seconds."""
	tick = os.sysconf("SC_CLK_TCK")
	total = 0
	for pid in pids:
		try:
			with open("/proc/%d/stat" % pid) as f:
				fields = f.read().rsplit(")", 1)[1].split()
			total += int(fields[11]) + int(fields[12])
		except (OSError, ValueError, IndexError):
			pass
	return total / tick


def server_classes(cpu):
	"""The classes of the three servers, every thread on CPU."""
	from refserver import Knot, Nsd
	from tcp_test import TcpBulwark

	class NsdTcp(Nsd):
		def prepare(self):
			argv = super().prepare()
			with open(self.path("nsd.conf")) as f:
				conf = f.read()
			self.write("nsd.conf", conf.replace("server:\n",
				"server:\n\ttcp-count: 1024\n", 1))
			return argv
	NsdTcp.name = Nsd.name

	servers = load_script("bench-servers")
	veth = load_script("bench-veth")

	def pinned(cls):
		base = servers.pinned(cls, cpu)

		class Pinned(base):
			def start(self):
				super().start()
				self.family = [self.proc.pid] + [p for p, _ in
					veth.descendants(self.proc.pid)]
				veth.pin_all_threads(self.family, cpu)
				return self
		Pinned.name = cls.name
		return Pinned

	return pinned(TcpBulwark), pinned(Knot), pinned(NsdTcp)


class Generator:
	"""The generator process, killed by its pid if it outlives its budget."""

	def __init__(self, argv, budget):
		self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
			stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
			start_new_session=True)
		self.deadline = time.monotonic() + budget

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		if self.proc.poll() is None:
			self.proc.kill()
		self.proc.wait()
		return False

	def readline(self):
		"""The next line of output ("" at the end), within the budget."""
		sel = selectors.DefaultSelector()
		sel.register(self.proc.stdout, selectors.EVENT_READ)
		left = self.deadline - time.monotonic()
		if left <= 0 or not sel.select(left):
			raise RuntimeError("generator: no output within its time")
		return self.proc.stdout.readline()

	def finish(self):
		left = max(0.1, self.deadline - time.monotonic())
		try:
			out, err = self.proc.communicate(timeout=left)
		except subprocess.TimeoutExpired:
			raise RuntimeError("generator: no exit within its time")
		if self.proc.returncode != 0:
			raise RuntimeError("generator: exit %d: %s" % (self.proc.returncode,
				(err or out).strip()[-300:]))
		return out


def measure_load(args, server, queries):
	"""The C or the Python generator: both print "measuring", then JSON."""
	if args.generator == "c":
		argv = [args.tcp_load, "-p", str(server.port), "-f", queries,
			"-c", str(args.conns), "-w", str(args.window), "-b", str(args.batch),
			"-t", str(args.seconds), "-W", str(args.warmup),
			"-n", str(args.max_queries)]
	else:
		argv = [PYTHON, os.path.abspath(__file__), "--load",
			"--port", str(server.port), "--queries", queries,
			"--conns", str(args.conns), "--window", str(args.window),
			"--batch", str(args.batch),
			"--seconds", str(args.seconds), "--warmup", str(args.warmup),
			"--max-queries", str(args.max_queries)]
	argv = ["taskset", "-c", str(args.client_cpu)] + argv
	with Generator(argv, args.warmup + args.seconds + 60) as gen:
		line = None
		while line != "measuring":
			line = gen.readline()
			if line == "":
				gen.finish()  # raises with the generator's message
				raise RuntimeError("generator: exit before measuring")
			line = line.strip()
		pids = (server.family, [gen.proc.pid])
		cpu0, t0 = [cpu_seconds(p) for p in pids], time.monotonic()
		line = gen.readline()
		if line == "":
			gen.finish()
			raise RuntimeError("generator: no result")
		res = json.loads(line)
		cpu = [(cpu_seconds(p) - c) / (time.monotonic() - t0)
			for p, c in zip(pids, cpu0)]
		gen.finish()
	return res["responses"] / res["seconds"], cpu, res["rcodes"]


def measure_dnsperf(args, server, queries):
	"""dnsperf has no warm-up: the server's CPU is taken over the whole run."""
	argv = ["taskset", "-c", str(args.client_cpu), "dnsperf", "-m", "tcp",
		"-s", "127.0.0.1", "-p", str(server.port), "-d", queries,
		"-c", str(args.conns), "-q", str(args.conns * args.window),
		"-T", "1", "-l", str(args.seconds), "-e"]
	with Generator(argv, args.seconds + 60) as gen:
		cpu0, t0 = cpu_seconds(server.family), time.monotonic()
		out = gen.finish()
		cpu = [(cpu_seconds(server.family) - cpu0) / (time.monotonic() - t0),
			float("nan")]
	m = re.search(r"Queries per second:\s+([\d.]+)", out)
	if m is None:
		raise RuntimeError("dnsperf: no 'Queries per second' in:\n%s" % out)
	return float(m.group(1)), cpu, {}


def measure(args, server, queries):
	"""One measurement against SERVER: (qps, [server CPU share, generator CPU
	share], rcodes)."""
	if args.generator == "dnsperf":
		return measure_dnsperf(args, server, queries)
	return measure_load(args, server, queries)


def find_tcp_load(args, tmp):
	"""BUILD/bench/tcp_load, or bench/tcp_load.c compiled into TMP."""
	built = os.path.join(args.build, "bench", "tcp_load")
	if os.access(built, os.X_OK):
		return built
	cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
	if cc is None:
		raise SystemExit("no BUILD/bench/tcp_load and no C compiler: "
			"use --generator python")
	out = os.path.join(tmp, "tcp_load")
	subprocess.run([cc, "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o", out,
		os.path.join(TOP, "bench", "tcp_load.c")], check=True, timeout=120)
	return out


def make_zone(args, tmp):
	if args.zone:
		return args.zone, args.origin, args.queries
	zone, queries = os.path.join(tmp, "bench.zone"), os.path.join(tmp, "queries.txt")
	subprocess.run([PYTHON, os.path.join(HERE, "gen-zone.py"), "-n", str(args.names),
		"-o", zone, "-q", queries, "--queries", str(min(args.names, args.max_queries))],
		check=True, timeout=600, stdout=subprocess.DEVNULL)
	return zone, "synthetic.example.", queries


def run_rounds(args, zone, origin, queries):
	"""Every shape, every round, every server: {(shape, name): [(qps, cpu)]}."""
	bulwark, knot, nsd = server_classes(args.server_cpu)
	per_addr = max(32, max(c for c, _ in args.shapes) + 8)
	servers = [
		("bulwarkd", "io socket, 1 worker, TCP loop thread",
			lambda: bulwark(zone, args.build, ["tcp-clients 1024",
				"tcp-clients-per-address %d" % per_addr], origin=origin)),
		("knotd", "tcp-workers 1", lambda: knot(zone, origin)),
		("nsd", "server-count 1", lambda: nsd(zone, origin)),
	]
	results, failures = {}, {}
	for shape in args.shapes:
		args.conns, args.window = shape
		for rnd in range(args.rounds):
			for name, _, make in servers:
				try:
					with make() as server:
						qps, cpu, rcodes = measure(args, server, queries)
				except (RuntimeError, OSError, subprocess.SubprocessError) as err:
					# one failed measurement is reported; the others go on
					failures.setdefault((shape, name), []).append(str(err))
					log("%dx%d round %d: %s: failed: %s" % (shape + (rnd + 1,
						name, err)))
					continue
				results.setdefault((shape, name), []).append((qps, cpu))
				log("%dx%d round %d: %s: %s qps, CPU server %.0f%% generator "
					"%.0f%%, rcodes %s" % (shape + (rnd + 1, name,
					"{:,.0f}".format(qps), 100 * cpu[0], 100 * cpu[1], rcodes)))
	return servers, results, failures


def report(args, servers, results, failures):
	gen = {"c": "bench/tcp_load", "python": "the Python generator",
		"dnsperf": "dnsperf -m tcp -T 1"}[args.generator]
	print("\nDNS over TCP on 127.0.0.1, %s (batch %d) on CPU %d, servers on "
		"CPU %d; median of %d rounds x %g s (after %g s warm-up)\n" % (gen,
		args.batch, args.client_cpu, args.server_cpu, args.rounds, args.seconds,
		args.warmup))
	print("| connections x window | server | threads | median qps | CPU server "
		"/ generator | ratio to bulwarkd |")
	print("| --- | --- | --- | ---: | ---: | ---: |")
	for shape in args.shapes:
		first = results.get((shape, servers[0][0]))
		base = statistics.median(q for q, _ in first) if first else None
		for name, label, _ in servers:
			runs = results.get((shape, name), [])
			failed = failures.get((shape, name), [])
			if not runs:
				print("| %dx%d | %s | %s | failed: %s | | |" % (shape + (name,
					label, failed[0].replace("|", "/")[:120])))
				continue
			med = statistics.median(q for q, _ in runs)
			cpu = [100 * statistics.median(c[i] for _, c in runs) for i in (0, 1)]
			note = " (%d of %d rounds)" % (len(runs), args.rounds) if failed else ""
			print("| %dx%d | %s | %s | %s%s | %.0f%% / %.0f%% | %s |" % (
				shape + (name, label, "{:,.0f}".format(med), note) + tuple(cpu) +
				("%.2f" % (med / base) if base else "n/a",)))


def shapes(text):
	"""'16x64,256x4' -> [(16, 64), (256, 4)]."""
	try:
		out = [tuple(int(n) for n in part.split("x")) for part in text.split(",")]
	except ValueError:
		out = []
	if not out or any(len(s) != 2 or min(s) < 1 for s in out):
		raise argparse.ArgumentTypeError("CONNSxWINDOW,... expected: %r" % text)
	return out


def parse_args():
	ap = argparse.ArgumentParser(description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--build", default=os.path.join(TOP, "build"))
	ap.add_argument("--zone")
	ap.add_argument("--origin")
	ap.add_argument("--queries", help="NAME TYPE per line (dnsperf's format)")
	ap.add_argument("--names", type=int, default=100000,
		help="names of the generated zone (default 100000)")
	ap.add_argument("--max-queries", type=int, default=100000,
		help="queries read from the file (default 100000)")
	ap.add_argument("--shapes", type=shapes, default=shapes("16x64,256x4"),
		help="CONNSxWINDOW,... (default 16x64,256x4)")
	ap.add_argument("--conns", type=int, default=16, help=argparse.SUPPRESS)
	ap.add_argument("--window", type=int, default=64, help=argparse.SUPPRESS)
	ap.add_argument("--batch", type=int, default=1,
		help="new queries go out once this many are answered (default 1)")
	ap.add_argument("--seconds", type=float, default=5)
	ap.add_argument("--warmup", type=float, default=1)
	ap.add_argument("--rounds", type=int, default=3)
	ap.add_argument("--server-cpu", type=int, default=1)
	ap.add_argument("--client-cpu", type=int, default=0)
	ap.add_argument("--generator", choices=["c", "python", "dnsperf"], default="c")
	ap.add_argument("--tcp-load", help="tcp_load program (default: see above)")
	ap.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
	ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
	args = ap.parse_args()
	if args.zone and not (args.origin and args.queries):
		ap.error("--zone needs --origin and --queries")
	if not 3 <= args.rounds <= 5 and not args.load:
		ap.error("--rounds: 3 to 5")
	return args


def main():
	args = parse_args()
	if args.load:
		return load_main(args)
	# SIGTERM unwinds like ^C: servers stop through their context managers
	signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
	tmp = tempfile.mkdtemp(prefix="bw-bench-tcp-")
	try:
		if args.generator == "c" and not args.tcp_load:
			args.tcp_load = find_tcp_load(args, tmp)
		zone, origin, queries = make_zone(args, tmp)
		servers, results, failures = run_rounds(args, zone, origin, queries)
	finally:
		shutil.rmtree(tmp, ignore_errors=True)
	report(args, servers, results, failures)
	return 0 if results else 1


if __name__ == "__main__":
	sys.exit(main())
