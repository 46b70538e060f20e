"""Debian's nginx in front of gunicorn serving Takes, configured by deploy/nginx.conf, on free ports.

The site file is used as shipped, with only its addresses and folders pointed at this run's
(the upstream port, the port nginx listens on, the media and static folders). Gunicorn runs
Takes on the database of the test (or benchmark) that starts it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.faults.harness import ROOT, free_port, wait_for

SITE = ROOT / "deploy" / "nginx.conf"
# `"GET /path HTTP/1.1" 206 4000`: nginx's and gunicorn's access logs both say it this way.
ANSWER = re.compile(r'"[A-Z]+ (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) (?P<size>\d+|-)')
# gunicorn's usual line, and at its end how long the request held its thread (microseconds).
ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'
HELD = re.compile(r" (\d+)$")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def site_config(*, upstream_port: int, listen_port: int, media_root: Path, static_root: Path,
                signing_secret: str) -> str:
    text = SITE.read_text()
    for shipped, here in (("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
                          ("listen 80;", f"listen 127.0.0.1:{listen_port};"),
                          ("/srv/takes/var/media/", f"{media_root}/"),
                          ("/srv/takes/var/static/", f"{static_root}/"),
                          ("CHANGE-ME-MEDIA-SIGNING-SECRET", signing_secret)):
        if shipped not in text:
            raise AssertionError(f"deploy/nginx.conf no longer has {shipped!r}")
        text = text.replace(shipped, here)
    return text


class FrontServer:
    """nginx → gunicorn → Takes. `accel` off: Takes streams media itself (what nginx is compared with);
    `signed`: what pages play is redirected to links nginx checks (MEDIA_SIGNED_URL_SECRET)."""

    def __init__(self, directory: Path, *, env: dict[str, str], media_root: Path, static_root: Path,
                 accel: bool = True, signed: bool = False, threads: int = 4):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.web_port, self.port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.signing_secret = secrets.token_hex(32)
        self.env = {**env, "MEDIA_ROOT": str(media_root), "MEDIA_ACCEL_REDIRECT": "/_media/" if accel else "",
                    "MEDIA_SIGNED_URL_SECRET": self.signing_secret if signed else "",
                    "BEHIND_PROXY": "1", "ALLOWED_HOSTS": "127.0.0.1,localhost", "DEBUG": "0",
                    "PYTHONUNBUFFERED": "1"}
        self.threads = threads
        self.media_root, self.static_root = media_root, static_root
        self.web: subprocess.Popen | None = None
        self.nginx: subprocess.Popen | None = None

    def _config(self) -> Path:
        site = self.dir / "site.conf"
        site.write_text(site_config(upstream_port=self.web_port, listen_port=self.port,
                                    media_root=self.media_root, static_root=self.static_root,
                                    signing_secret=self.signing_secret))
        temp = {name: self.dir / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for folder in temp.values():
            folder.mkdir(exist_ok=True)
        main = self.dir / "nginx.conf"
        # As root, the workers stay root so they can read this run's private temporary folders.
        user = "user root;\n" if os.geteuid() == 0 else ""
        main.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.dir}/nginx.pid;\n"
            f"error_log {self.dir}/nginx-error.log warn;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\n  include /etc/nginx/mime.types;\n  access_log {self.dir}/nginx-access.log;\n"
            f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
            f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
            f"  scgi_temp_path {temp['scgi']};\n  include {site};\n}}\n")
        return main

    def start(self) -> FrontServer:
        config = self._config()
        with (self.dir / "gunicorn.log").open("ab") as log:
            self.web = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.web_port}",
                 "--workers", "1", "--threads", str(self.threads), "--access-logfile", "-",
                 "--access-logformat", ACCESS_FORMAT],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with (self.dir / "nginx.out").open("ab") as log:
            self.nginx = subprocess.Popen([NGINX, "-c", str(config), "-p", str(self.dir)], cwd=self.dir,
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(self._ready, timeout=30, what="nginx and gunicorn to answer")
        except BaseException:
            self.stop()  # nothing left running when the start fails
            raise
        return self

    def _ready(self) -> bool:
        for name, proc in (("gunicorn", self.web), ("nginx", self.nginx)):
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited: {self.logs()}")
        try:
            return httpx.get(f"{self.url}/accounts/login/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def logs(self, chars: int = 3000) -> str:
        parts = []
        for name in ("gunicorn.log", "nginx-error.log", "nginx.out"):
            path = self.dir / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    def _answers(self, log: str, path_part: str) -> list[tuple[int, int]]:
        """(status, body bytes) of each request in a combined-format access log whose path has `path_part`."""
        path = self.dir / log
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        found = []
        for line in lines:
            match = ANSWER.search(line)
            if match and path_part in match["path"]:
                found.append((int(match["status"]), int(match["size"]) if match["size"] != "-" else 0))
        return found

    def front_statuses(self, path_part: str) -> list[int]:
        return [status for status, _ in self._answers("nginx-access.log", path_part)]

    def front_sizes(self, path_part: str) -> list[int]:
        """Body bytes nginx sent for each request."""
        return [size for _, size in self._answers("nginx-access.log", path_part)]

    def web_thread_ms(self, path_part: str) -> list[float]:
        """How long each request whose path has `path_part` held a gunicorn thread, in milliseconds."""
        path = self.dir / "gunicorn.log"
        held = []
        for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
            match, time_match = ANSWER.search(line), HELD.search(line)
            if match and time_match and path_part in match["path"]:
                held.append(int(time_match.group(1)) / 1000)
        return held

    def web_cpu_seconds(self) -> float:
        """CPU time (user + system) gunicorn's processes have used so far."""
        pids = {self.web.pid}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.web.pid:  # its parent is the gunicorn master
                    pids.add(int(entry.name))
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def web_sizes(self, path_part: str) -> list[int]:
        """Body bytes Takes (gunicorn) sent for each request."""
        return [size for _, size in self._answers("gunicorn.log", path_part)]

    def stop(self) -> None:
        for proc in (self.nginx, self.web):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
        self.web = self.nginx = None
