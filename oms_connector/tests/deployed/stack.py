"""The app as deployed, for the tier-3 tests: a fresh site served by gunicorn, with RQ workers
and the scheduler, each started here and stopped by PID.

Requests reach the site by its Host header (gunicorn listens on 127.0.0.1), as they would
behind a proxy; several "app servers" are several gunicorn + worker sets over one MariaDB and
one Redis.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

BENCH = Path(os.environ.get("OMS_BENCH", "/opt/bench"))
SITES = BENCH / "sites"
PYTHON = str(BENCH / "env" / "bin" / "python")
GOLDEN_SQL = os.environ.get("OMS_GOLDEN_SQL", "/opt/golden/golden.sql.gz")
SITE = os.environ.get("OMS_DEPLOYED_SITE", "oms-deployed.localhost")
LOGS = Path(os.environ.get("OMS_DEPLOYED_LOGS", "/tmp/oms-deployed-logs"))
QUEUES = "short,default,long"  # every queue the app uses
DB_ROOT_PASSWORD = os.environ.get("OMS_DB_ROOT_PASSWORD", "root")


def free_port() -> int:
	with socket.socket() as sock:
		sock.bind(("127.0.0.1", 0))
		return sock.getsockname()[1]


def bench(*args: str, timeout: float = 900) -> str:
	"""Run a bench (frappe) command in the bench's sites folder; raise with its output if it fails."""
	result = subprocess.run(
		[PYTHON, "-m", "frappe.utils.bench_helper", "frappe", *args],
		cwd=SITES,
		capture_output=True,
		text=True,
		timeout=timeout,
	)
	if result.returncode != 0:
		raise RuntimeError(f"bench {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
	return result.stdout


def make_fresh_site() -> None:
	"""A new site from the golden backup (ERPNext set up), with this app installed."""
	bench(
		"new-site", SITE, "--force", "--source_sql", GOLDEN_SQL,
		"--db-root-username", "root", "--db-root-password", DB_ROOT_PASSWORD, "--admin-password", "admin",
	)
	bench("--site", SITE, "install-app", "oms_connector")
	bench("--site", SITE, "set-config", "-p", "allow_tests", "True")
	bench("--site", SITE, "enable-scheduler")


def forget_other_sites_jobs() -> int:
	"""Delete queued jobs of other sites (tier 2 leaves its site's jobs queued, as no worker runs
	there): RQ queues are bench-wide, and this suite's workers must serve this site alone."""
	from frappe.utils.background_jobs import get_queue

	deleted = 0
	for name in QUEUES.split(","):
		for job in get_queue(name).jobs:
			if (job.kwargs or {}).get("site") != SITE:
				job.delete()
				deleted += 1
	return deleted


@dataclass
class Process:
	name: str
	args: list[str]
	popen: subprocess.Popen | None = None
	log: Path | None = None
	env: dict | None = None
	cwd: Path = SITES

	def start(self) -> "Process":
		LOGS.mkdir(parents=True, exist_ok=True)
		self.log = LOGS / f"{self.name}.log"
		handle = open(self.log, "ab")
		env = {**os.environ, **self.env} if self.env else None
		# its own process group, so a stop takes gunicorn's workers and RQ's work-horses with it
		self.popen = subprocess.Popen(
			self.args, cwd=self.cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
		)
		return self

	@property
	def pid(self) -> int:
		return self.popen.pid

	def running(self) -> bool:
		return self.popen is not None and self.popen.poll() is None

	def stop(self, sig: int = signal.SIGTERM, wait: float = 15) -> None:
		if not self.running():
			return
		try:
			os.killpg(self.pid, sig)
			self.popen.wait(wait)
		except subprocess.TimeoutExpired:
			os.killpg(self.pid, signal.SIGKILL)
			self.popen.wait(wait)
		except ProcessLookupError:
			pass

	def kill(self) -> None:
		"""As the machine or the OOM killer would: no chance to finish the job at hand."""
		self.stop(signal.SIGKILL)


def gunicorn(port: int, name: str) -> Process:
	return Process(
		name,
		[
			str(BENCH / "env" / "bin" / "gunicorn"),
			"-b", f"127.0.0.1:{port}",
			"-w", "2",
			"-t", "120",
			"--preload",
			"frappe.app:application",
		],
	)


def socketio(port: int) -> Process:
	"""Frappe's realtime server (node), as `bench socketio` runs it: progress and list updates."""
	return Process(
		"socketio", ["node", str(BENCH / "apps" / "frappe" / "socketio.js")],
		env={"FRAPPE_SOCKETIO_PORT": str(port)}, cwd=BENCH,
	)


# Frappe's production nginx site (bench setup nginx), cut to one site: assets from disk,
# /socket.io to the realtime server, the rest to gunicorn with the site named in a header.
NGINX_CONF = """
worker_processes 1;
user root;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 256; }}
http {{
	include /etc/nginx/mime.types;
	access_log {run}/access.log;
	client_body_temp_path {run}/body;
	proxy_temp_path {run}/proxy;
	fastcgi_temp_path {run}/fastcgi;
	uwsgi_temp_path {run}/uwsgi;
	scgi_temp_path {run}/scgi;
	client_max_body_size 50m;
	server {{
		listen 127.0.0.1:{port};
		root {sites};
		location /assets {{ try_files $uri =404; add_header Cache-Control "max-age=31536000"; }}
		location ~ ^/protected/(.*) {{ internal; try_files /{site}/$1 =404; }}
		location /socket.io {{
			proxy_http_version 1.1;
			proxy_set_header Upgrade $http_upgrade;
			proxy_set_header Connection "upgrade";
			proxy_set_header X-Frappe-Site-Name {site};
			proxy_set_header Origin $scheme://$http_host;
			proxy_set_header Host $host;
			proxy_pass http://127.0.0.1:{socketio_port};
		}}
		location / {{ try_files /{site}/public/$uri @webserver; }}
		location @webserver {{
			proxy_http_version 1.1;
			proxy_set_header X-Forwarded-For $remote_addr;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header X-Frappe-Site-Name {site};
			proxy_set_header Host $http_host;
			proxy_set_header X-Use-X-Accel-Redirect True;
			proxy_read_timeout 120;
			proxy_redirect off;
			proxy_pass http://127.0.0.1:{web_port};
		}}
	}}
}}
"""


def nginx(port: int, web_port: int, socketio_port: int) -> Process:
	run = LOGS / f"nginx-{port}"
	run.mkdir(parents=True, exist_ok=True)
	conf = run / "nginx.conf"
	conf.write_text(
		NGINX_CONF.format(run=run, port=port, sites=SITES, site=SITE, socketio_port=socketio_port, web_port=web_port)
	)
	return Process("nginx", ["nginx", "-c", str(conf), "-p", str(run)])


@dataclass
class FrontDoor:
	"""What a browser talks to: nginx in front of an app server, with the realtime server."""

	app: "AppServer"
	port: int = field(default_factory=free_port)
	socketio_port: int = field(default_factory=free_port)
	processes: list[Process] = field(default_factory=list)

	@property
	def url(self) -> str:
		return f"http://127.0.0.1:{self.port}"

	def __enter__(self) -> "FrontDoor":
		self.processes = [
			socketio(self.socketio_port).start(),
			nginx(self.port, self.app.port, self.socketio_port).start(),
		]
		wait_until_serving(self.url)
		return self

	def __exit__(self, *exc) -> None:
		for process in reversed(self.processes):
			process.stop()


def worker(name: str, queues: str = QUEUES) -> Process:
	return Process(name, [PYTHON, "-m", "frappe.utils.bench_helper", "frappe", "worker", "--queue", queues])


SCHEDULER_TICK = 5  # seconds between looks at what is due (Frappe's default tick: 60)
# Frappe's own scheduler loop (frappe.utils.scheduler.start_scheduler) for this site alone: the
# bench's other sites (test_site, with tier 2's leftovers) must not load this suite's worker.
SCHEDULER_LOOP = """
import sys, time
from frappe.utils.scheduler import enqueue_events_for_site
site, tick = sys.argv[1], float(sys.argv[2])
while True:
    time.sleep(tick)
    enqueue_events_for_site(site=site)
"""


def scheduler() -> Process:
	return Process("scheduler", [PYTHON, "-c", SCHEDULER_LOOP, SITE, str(SCHEDULER_TICK)])


@dataclass
class AppServer:
	"""One gunicorn with its RQ worker: what one more machine behind the load balancer adds."""

	label: str
	port: int = field(default_factory=free_port)
	web: Process | None = None
	workers: list[Process] = field(default_factory=list)

	@property
	def url(self) -> str:
		return f"http://127.0.0.1:{self.port}"

	def start(self, workers: bool = True) -> "AppServer":
		self.web = gunicorn(self.port, f"gunicorn-{self.label}").start()
		if workers:
			self.start_workers()
		wait_until_serving(self.url)
		return self

	def start_workers(self) -> None:
		"""One RQ worker per queue, as bench's production setup runs them."""
		tag = uuid.uuid4().hex[:6]
		self.workers = [worker(f"worker-{self.label}-{queue}-{tag}", queue).start() for queue in QUEUES.split(",")]

	def stop_workers(self, kill: bool = False) -> None:
		for process in self.workers:
			process.kill() if kill else process.stop()

	def stop(self) -> None:
		for process in [self.web, *self.workers]:
			if process:
				process.stop()

	def __enter__(self) -> "AppServer":
		return self.start()

	def __exit__(self, *exc) -> None:
		self.stop()


def session() -> requests.Session:
	http = requests.Session()
	http.headers["Host"] = SITE  # the site is chosen by Host, as behind a proxy
	return http


def wait_until_serving(url: str, timeout: float = 60) -> None:
	deadline = time.monotonic() + timeout
	http = session()
	while time.monotonic() < deadline:
		try:
			if http.get(f"{url}/api/method/ping", timeout=2).json().get("message") == "pong":
				return
		except (requests.RequestException, ValueError):
			pass
		time.sleep(0.3)
	raise RuntimeError(f"{url} did not answer /api/method/ping in {timeout} s")


def redis_queue_port() -> int:
	config = json.loads((SITES / "common_site_config.json").read_text())
	return int(config["redis_queue"].rsplit(":", 1)[1])


def restart_redis_queue(keep_data: bool = False) -> None:
	"""Stop the queue Redis (dropping what it held unless keep_data) and start it again."""
	port = redis_queue_port()
	dump = _redis_dump_file(port)
	subprocess.run(["redis-cli", "-p", str(port), "shutdown", "save" if keep_data else "nosave"], capture_output=True)
	for _ in range(50):
		if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode != 0:
			break
		time.sleep(0.1)
	if not keep_data and dump and dump.exists():
		dump.unlink()  # an older snapshot would bring back jobs of its own
	subprocess.run(["redis-server", str(BENCH / "config" / "redis_queue.conf"), "--daemonize", "yes"], cwd=BENCH / "config", check=True)
	for _ in range(100):
		if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
			return
		time.sleep(0.1)
	raise RuntimeError("the queue Redis did not come back")


def _redis_dump_file(port: int) -> Path | None:
	def config(name: str) -> str:
		out = subprocess.run(["redis-cli", "-p", str(port), "config", "get", name], capture_output=True, text=True).stdout.split()
		return out[1] if len(out) > 1 else ""

	folder, name = config("dir"), config("dbfilename")
	return Path(folder) / name if folder and name else None
