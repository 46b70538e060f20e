"""Shared helpers for the benchmarks in bench/: a throwaway Django setup, figures, memory, servers.

Every benchmark is a standalone script. It calls `django_workspace()` before touching the
ORM: that points TAKES_DATA_DIR at a fresh temporary folder (SQLite file, media, secret key)
or, when DATABASE_URL is set, at a dedicated `takes_bench_<name>` database it creates and
drops. Figures are printed one per line as `name value unit target pass|fail`; a figure with
no target prints `-` for both.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
EMULATOR_PIDS: dict[str, int] = {}  # URL → process id of the emulators started here
RUNWAY_HEADERS = {"Authorization": "Bearer key_bench", "X-Runway-Version": "2024-11-06"}
# `BENCH_QUICK=1` runs every benchmark at a small size, only to prove it runs to its end
# (tests/test_bench.py runs them so); its figures then mean nothing.
QUICK = os.environ.get("BENCH_QUICK") == "1"


def sized(full, quick):
    """`full` for a measurement; `quick` when BENCH_QUICK=1."""
    return quick if QUICK else full


# --- figures ------------------------------------------------------------------------------

# A printed figure: `name value unit target pass|fail|-` (what Figure.line() writes, run.py reads).
FIGURE_LINE = re.compile(r"^([A-Za-z0-9_.]+) (-?[0-9.]+(?:e[-+]?\d+)?|nan) (\S+) (\S+) (pass|fail|-)$")


@dataclass
class Figure:
    """One measured figure; `target` None means informative only."""

    name: str
    value: float
    unit: str
    target: float | None = None
    lower_is_better: bool = True

    @property
    def ok(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.lower_is_better else self.value >= self.target

    def line(self) -> str:
        target = "-" if self.target is None else f"{self.target:g}"
        result = {None: "-", True: "pass", False: "fail"}[self.ok]
        return f"{self.name} {fmt(self.value)} {self.unit} {target} {result}"


def fmt(value: float) -> str:
    """Three significant-ish digits: 0.0123, 1.23, 12.3, 1234."""
    if float(value).is_integer() and abs(value) < 1e9:
        return str(int(value))
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def report(figures: list[Figure]) -> None:
    """Print each figure on its own line (flushed, so run.py sees them as they come)."""
    for figure in figures:
        print(figure.line(), flush=True)


def note(message: str) -> None:
    """A progress line on stderr; run.py shows it but does not parse it."""
    print(f"  · {message}", file=sys.stderr, flush=True)


# --- Django in a throwaway data dir ---------------------------------------------------------


def _admin_url(url: str) -> tuple[str, str]:
    """(URL of the server's maintenance database, name of the database in `url`)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def _bench_database_url(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _postgres(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def django_workspace(name: str, *, migrate: bool = True, static: bool = False,
                     keep_redis: bool = False) -> Iterator[Path]:
    """Set up Django against a fresh data dir (and database); yields the dir, removes it after.

    REDIS_URL is dropped so queued jobs land in the throwaway database rather than a shared
    Redis, and the Runway secret so Takes talks to the emulator.
    """
    data_dir = Path(tempfile.mkdtemp(prefix=f"takes-bench-{name}-"))
    os.environ["TAKES_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if not keep_redis:  # kept by a benchmark of the Redis broker itself, which names a queue of its own
        os.environ.pop("REDIS_URL", None)
    os.environ.pop("RUNWAYML_API_SECRET", None)
    os.environ.pop("SQLITE_PATH", None)
    os.environ.pop("MEDIA_ROOT", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    database_url = os.environ.get("DATABASE_URL", "").strip()
    admin_url = ""
    if database_url.startswith("postgres"):
        admin_url, _ = _admin_url(database_url)
        db_name = f"takes_bench_{name}"
        _postgres(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        _postgres(admin_url, f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = _bench_database_url(database_url, db_name)
    try:
        import django

        django.setup()
        if migrate:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        if static:  # full pages need the static manifest; partials don't
            from django.core.management import call_command

            call_command("collectstatic", interactive=False, verbosity=0)
        yield data_dir
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if admin_url:
            with contextlib.suppress(Exception):
                _postgres(admin_url, f'DROP DATABASE IF EXISTS "takes_bench_{name}" WITH (FORCE)')
            os.environ["DATABASE_URL"] = database_url
        shutil.rmtree(data_dir, ignore_errors=True)


def database_label() -> str:
    """"sqlite" or "postgresql", for notes."""
    from django.db import connection

    return connection.vendor


def make_member(username: str = "bench"):
    """A user with a personal project and plenty of credits; returns (user, project)."""
    from accounts.actions import ensure_personal_project
    from accounts.models import User
    from credits import ledger

    user = User.objects.create_user(username=username, email=f"{username}@example.com",
                                    password="a-long-bench-password-42")
    project = ensure_personal_project(user=user)
    ledger.grant(user=user, amount=10_000_000, note="benchmark credits")
    return user, project


def session_cookie(user) -> str:
    """A session id signed in as `user`, stored in the bench database."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


# --- processes and ports --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, *, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers at all (any status)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{process.args[:4]} exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def stop(process: subprocess.Popen | None) -> None:
    """Terminate a process we started (its whole group), waiting briefly, then kill."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def spawn(args: list[str], *, env: dict | None = None, quiet: bool = True) -> subprocess.Popen:
    """Start a process in its own group, so stop() takes its children with it."""
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL if quiet else None,
                            stderr=subprocess.DEVNULL if quiet else None)


@contextlib.contextmanager
def emulator(*extra: str, tier: int = 5, render: bool = False) -> Iterator[str]:
    """`python -m emulator --speed 0` on a free port, with room to work; yields its URL."""
    port = free_port()
    args = [PYTHON, "-m", "emulator", "--port", str(port), "--speed", "0", "--tier", str(tier),
            "--credits", "1000000000", *extra]
    if not render:
        args.append("--no-render")
    process = spawn(args)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/_emulator/state", process=process)
        EMULATOR_PIDS[url] = process.pid
        yield url
    finally:
        stop(process)


def point_at_emulator(url: str) -> None:
    """Make Takes (settings and SDK client cache) talk to the emulator at `url`."""
    from django.conf import settings

    settings.RUNWAYML_API_SECRET = ""
    settings.RUNWAY_USES_EMULATOR = True
    settings.RUNWAY_BASE_URL = url


@contextlib.contextmanager
def gunicorn(*, workers: int = 2, worker_class: str = "gthread", threads: int = 4,
             env: dict | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Serve config.wsgi with gunicorn on a free port, with the current environment."""
    port = free_port()
    args = [PYTHON, "-m", "gunicorn", "config.wsgi", "-w", str(workers), "-k", worker_class,
            "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--timeout", "300",
            "--log-level", "warning", "--backlog", "2048"]
    process = spawn(args, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/accounts/login/", process=process)
        yield url, process
    finally:
        stop(process)


# On a machine of two or more cores a load benchmark starts its servers on one core and drives
# them from another, so the load generator's own CPU is not counted as the server's wait.
SERVER_CORES = {0}
CLIENT_CORES = set(range(1, os.cpu_count() or 1)) or {0}


@contextlib.contextmanager
def on_cores(cores: set[int]) -> Iterator[None]:
    """Run the block (and every process it starts) on `cores`; the old affinity comes back after."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores & before or before)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def children(pid: int) -> list[int]:
    """Direct child process ids (gunicorn workers of a master)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(p) for p in text)
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- memory ---------------------------------------------------------------------------------


def _status_kb(pid: int | str, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size now, in MiB."""
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident set size (VmHWM) since start or the last reset_peak(), in MiB."""
    return _status_kb(pid, "VmHWM") / 1024


def reset_peak(pid: int | str = "self") -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@contextlib.contextmanager
def peak_growth(pid: int | str = "self") -> Iterator[dict]:
    """Measure how far a process's peak RSS rises above its RSS at the start of the block.

    Yields a dict whose "mb" key is filled in when the block ends.
    """
    result: dict = {}
    reset_peak(pid)
    before = rss_mb(pid)
    yield result
    result["mb"] = max(0.0, peak_rss_mb(pid) - before)
    result["before"] = before


class Stopwatch:
    """`with Stopwatch() as t: ...; t.seconds` (wall time) and `t.cpu` (this process's CPU time)."""

    def __enter__(self) -> Stopwatch:
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        self.seconds = self.cpu = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu = time.process_time() - self.cpu_started
