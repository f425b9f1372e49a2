"""Start bulwarkd for the differential tests, the same way as a reference server.

The zone is compiled with bulwark-compile from the build directory into a
table in the server's temporary directory (with --presigned for a zone
signed elsewhere: its RRSIG, NSEC and NSEC3 records are kept); bulwarkd
serves it with the portable socket dataplane and one worker on 127.0.0.1.
"""

import os
import subprocess

from refserver import Server


class Bulwark(Server):
	"""bulwarkd from BUILD_DIR serving one compiled zone."""

	name = "bulwark"
	start_timeout = 60.0

	def __init__(self, zonefile, origin, build_dir, keep=False, presigned=False,
			sig_time=None):
		super().__init__(zonefile, origin, keep)
		self.build_dir = os.path.abspath(build_dir)
		self.presigned = presigned
		self.sig_time = sig_time
		self.table = None

	def program(self, *parts):
		path = os.path.join(self.build_dir, *parts)
		if not os.access(path, os.X_OK):
			raise RuntimeError("%s is missing: build it first (ninja -C %s)" %
				(path, self.build_dir))
		return path

	def compile(self):
		"""Compile the zone into a table; a compile error stops the test."""
		table = self.path("zone.bwz")
		argv = [self.program("zonecomp", "cli", "bulwark-compile"),
			self.zonefile, "-o", table, "-z", self.origin]
		if self.presigned:
			argv.append("--presigned")
		if self.sig_time:
			argv += ["--time", self.sig_time]
		done = subprocess.run(argv, capture_output=True, text=True)
		if done.returncode != 0:
			raise RuntimeError("bulwark-compile failed (%d):\n%s%s" %
				(done.returncode, done.stdout, done.stderr))
		return table

	def zone_name(self):
		"""The zone name as named.conf users write it: no trailing dot."""
		return self.origin.rstrip(".") or "."

	def prepare(self):
		if self.table is None:
			self.table = self.compile()
		conf = f"""options {{
	listen-on port {self.port} {{ 127.0.0.1; }};
}};
dataplane {{
	io socket;
	workers 1;
}};
zone "{self.zone_name()}" {{
	table "{self.table}";
}};
// Answers are compared (and loads measured: bench-servers.py): a replay
// of NXDOMAIN-heavy queries must not meet the flood detection.
flood-mitigation {{ enable no; }};
"""
		conf_path = self.write("bulwark.conf", conf)
		return [self.program("controlplane", "bulwarkd"), "-c", conf_path, "-f"]
