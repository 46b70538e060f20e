"""Real processes for the fault tests: the emulator and a `qcluster`, started, killed and restarted.

The cluster runs `manage.py qcluster` in its own process group against the test
database (an on-disk SQLite file, or PostgreSQL's test database) and the test's
media folder, on a queue of its own (`Q_CLUSTER_NAME`), so jobs left in Redis by
other tests or other runs never reach it and its jobs never reach anyone else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.run import stop_all
from emulator.testing import Control

ROOT = Path(__file__).resolve().parents[2]
FAR_FUTURE = timedelta(hours=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class EmulatorProcess:
    """`python -m emulator` on a free port, with its state in a file so it can be restarted."""

    def __init__(self, directory: Path, *, speed: float = 0.05, extra: tuple[str, ...] = ()):
        self.data = directory / "emulator.sqlite3"
        self.log = directory / "emulator.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.speed = speed
        self.extra = extra
        self.process: subprocess.Popen | None = None
        self.control = Control(self.url)

    def start(self) -> EmulatorProcess:
        command = [sys.executable, "-m", "emulator", "--port", str(self.port), "--speed", str(self.speed),
                   "--data", str(self.data), "--max-video-side", "192", "--max-image-side", "256", "--fps", "4", "--seed", "8", *self.extra]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_for(self._ready, timeout=20, what="the emulator to listen")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the emulator exited: {self.log.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/_emulator/state", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def restart_losing_state(self) -> None:
        """Kill it, delete everything it remembered, and start it again on the same port."""
        self.kill()
        self.data.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(str(self.data) + suffix).unlink(missing_ok=True)
        shutil.rmtree(self.data.with_name(self.data.name + ".files"), ignore_errors=True)
        self.start()

    def tasks_created(self) -> int:
        return sum(self.control.state()["tasks_created"].values())

    def stop(self) -> None:
        self.kill()
        self.control.close()


def database_env() -> dict[str, str]:
    """Point a child process at the database this test is using."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise AssertionError("the fault tests need the SQLite test database on disk "
                                 "(DATABASES['default']['TEST']['NAME'] in config/test_settings.py)")
        return {"SQLITE_PATH": name, "DATABASE_URL": ""}
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return {"DATABASE_URL": f"postgres://{user}{password}@{host}{port}/{db['NAME']}"}


class Cluster:
    """`manage.py qcluster` and `manage.py poller`, each in its own process group, as `make run` starts them.

    `kill()` is SIGKILL to both groups at once; `worker_pids()` lists the cluster's workers and the poller.
    """

    def __init__(self, directory: Path, *, queue: str, emulator_url: str, media_root: Path, workers: int = 2):
        self.log = directory / "qcluster.log"
        self.downloads = directory / "downloads"
        self.poller_log = directory / "poller.log"
        self.process: subprocess.Popen | None = None
        self.poller: subprocess.Popen | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "RUNWAYML_API_SECRET"))}
        self.env.update(database_env())
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "Q_NAME": queue,
            "Q_WORKERS": str(workers),
            "MEDIA_ROOT": str(media_root),
            "DOWNLOADS_DIR": str(directory / "downloads"),
            "RUNWAYML_BASE_URL": emulator_url,
            "RUNWAY_EMULATOR_URL": emulator_url,
            "RUNWAYML_API_SECRET": "",
            "REDIS_URL": settings.REDIS_URL or "",
            "LOG_LEVEL": "WARNING",
        })
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with self.poller_log.open("ab") as log:
            self.poller = subprocess.Popen([sys.executable, "manage.py", "poller", "--max-wait", "1"], cwd=ROOT,
                                           env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def worker_pids(self) -> list[int]:
        """Every process of the cluster's group except its parent (sentinel, pusher, workers…)."""
        if not self.running:
            return []
        pids = [self.poller.pid] if self.poller is not None and self.poller.poll() is None else []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.process.pid and int(entry.name) != self.process.pid:
                        pids.append(int(entry.name))
                except OSError:
                    continue
        return pids

    def kill(self) -> None:
        """SIGKILL every process of the cluster and the poller at once, as a machine losing power would."""
        procs = [p for p in (self.process, self.poller) if p is not None]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in procs:
            proc.wait(timeout=10)
            # Forked workers are reaped by init; wait until none is left holding a connection.
            wait_for(lambda proc=proc: not _group_alive(proc.pid), timeout=10, interval=0.05,
                     what="the cluster's processes to exit")
        self.process = self.poller = None

    def terminate(self, grace: float = 30.0) -> None:
        """Stop as `make run` does on Ctrl-C (SIGTERM each leader, then SIGKILL whatever outlives `grace`)."""
        stop_all([proc for proc in (self.process, self.poller) if proc is not None], grace=grace)
        self.kill()

    def stop(self) -> None:
        self.kill()

    def tail(self, chars: int = 3000) -> str:
        logs = [path.read_text(errors="replace")[-chars:] for path in (self.log, self.poller_log) if path.exists()]
        return "\n--- poller ---\n".join(logs)


def _group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    stat = (entry / "stat").read_text()
                    if stat.rsplit(")", 1)[1].split()[0] != "Z":
                        return True
            except (OSError, IndexError):
                continue
    return False


def resume_after_crash() -> tuple[int, int]:
    """What the poller does once the dead cluster's steps and lease have gone stale.

    The poller resumes work idle for `STALE_STEP` (3 minutes) and takes over a lease
    only once it expires, and a step's claim once it goes unrenewed; a test can't wait
    that long, so it runs the same workflow with the clock moved past those limits, and
    ages the lease and the claims the killed processes held. Only ever called while no cluster runs, so nothing it resumes is still in progress.
    """
    from generations import poll, poller
    from generations.models import Generation, Lease

    later = timezone.now() + FAR_FUTURE
    Lease.objects.filter(name=poller.LEASE).update(holder="", expires_at=timezone.now())
    # The dead workers' claims stop being renewed; by then they are long stale.
    Generation.objects.exclude(claim_token="").update(claimed_at=timezone.now() - FAR_FUTURE)
    return poll.resume_stalled(now=later)
