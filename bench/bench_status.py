"""Status partial: the generation card htmx polls, under gunicorn with 50 concurrent pollers.

A signed-in member polls one RUNNING generation's card (`generations:detail` with
`HX-Request: true`, the request every open card makes every few seconds). The app runs
under `gunicorn config.wsgi -w 2 -k gthread --threads 4` against the benchmark's own
database. Load comes from `wrk` (50 connections, 2 threads) when it is installed, else from
an asyncio + httpx client with 50 concurrent pollers (which itself needs CPU on the same
machine, so it understates what the server can do). Queries per request are counted
in-process on the same URL with the test client and CaptureQueriesContext.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import (
    Figure,
    children,
    cpu_seconds,
    django_workspace,
    gunicorn,
    make_member,
    note,
    report,
    session_cookie,
    sized,
)

POLLERS = 50
SECONDS = sized(10, 1)
WARMUP_SECONDS = sized(2, 1)

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    errors, latency:percentile(50), latency:percentile(95)))
end
"""


def seed():
    from django.utils import timezone

    from generations.models import Generation, Status

    user, project = make_member("poller")
    now = timezone.now()
    generation = Generation.objects.create(
        project=project, created_by=user, endpoint="image_to_video", model="gen4.5",
        params={"prompt_text": "a slow push in", "ratio": "1280:720", "duration": 5},
        prompt="a slow push in", status=Status.RUNNING, runway_task_id="bench-task",
        estimated_credits=60, progress=0.4, submitted_at=now, started_at=now,
    )
    return user, project, generation


def count_queries(user, path: str) -> tuple[int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_HX_REQUEST="true")
    client.force_login(user)
    client.get(path)  # warm caches (content types, templates) as a long-lived worker has them
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    for query in queries.captured_queries:
        note(f"query: {query['sql'][:140]}")
    return len(queries), response.status_code


def load_wrk(url: str, cookie: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        args = ["wrk", "-t2", f"-c{POLLERS}", "--timeout", "5s", "-s", script.name,
                "-H", f"Cookie: sessionid={cookie}", "-H", "HX-Request: true"]
        subprocess.run([*args, f"-d{WARMUP_SECONDS}s", url], capture_output=True, check=True)
        out = subprocess.run([*args, f"-d{SECONDS}s", url], capture_output=True, text=True,
                             check=True).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    requests, duration_us, errors, p50_us, p95_us = (int(v) for v in line.split()[1:])
    return {"rps": requests / (duration_us / 1e6), "p50": p50_us / 1000, "p95": p95_us / 1000,
            "errors": errors, "requests": requests, "tool": "wrk"}


def load_httpx(url: str, cookie: str) -> dict:
    async def run(seconds: float) -> tuple[list[float], int, float]:
        latencies: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=POLLERS, max_keepalive_connections=POLLERS)
        async with httpx.AsyncClient(cookies={"sessionid": cookie}, limits=limits, timeout=5,
                                     headers={"HX-Request": "true"}) as client:
            stop_at = time.perf_counter() + seconds

            async def poller() -> None:
                nonlocal errors
                while time.perf_counter() < stop_at:
                    started = time.perf_counter()
                    try:
                        response = await client.get(url)
                        ok = response.status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    latencies.append(time.perf_counter() - started)
                    errors += not ok

            started = time.perf_counter()
            await asyncio.gather(*(poller() for _ in range(POLLERS)))
            return latencies, errors, time.perf_counter() - started

    asyncio.run(run(WARMUP_SECONDS))
    latencies, errors, elapsed = asyncio.run(run(SECONDS))
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": statistics.median(latencies) * 1000,
            "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000, "errors": errors,
            "requests": len(latencies), "tool": "httpx"}


def load_cadence(url: str, cookie: str, *, interval: float = 2.0, seconds: float = 12.0) -> dict:
    """50 pollers as browsers run them: each asks every `interval` s (the card's hx-trigger), offsets spread."""
    async def run() -> list[float]:
        latencies: list[float] = []
        limits = httpx.Limits(max_connections=POLLERS, max_keepalive_connections=POLLERS)
        async with httpx.AsyncClient(cookies={"sessionid": cookie}, limits=limits, timeout=5,
                                     headers={"HX-Request": "true"}) as client:
            stop_at = time.perf_counter() + seconds

            async def poller(offset: float) -> None:
                await asyncio.sleep(offset)
                while time.perf_counter() < stop_at:
                    started = time.perf_counter()
                    await client.get(url)
                    took = time.perf_counter() - started
                    latencies.append(took)
                    await asyncio.sleep(max(0.0, interval - took))

            await asyncio.gather(*(poller(interval * i / POLLERS) for i in range(POLLERS)))
        return latencies

    latencies = sorted(asyncio.run(run()))
    return {"p95": latencies[int(len(latencies) * 0.95) - 1] * 1000, "requests": len(latencies)}


def main() -> int:
    with django_workspace("status"):
        user, project, generation = seed()
        path = generation.get_absolute_url()
        queries, status = count_queries(user, path)
        cookie = session_cookie(user)
        with gunicorn(workers=2, worker_class="gthread", threads=4) as (base, server):
            url = base + path
            check = httpx.get(url, cookies={"sessionid": cookie}, headers={"HX-Request": "true"})
            if check.status_code != 200 or "<html" in check.text.lower():
                raise SystemExit(f"the card partial answered {check.status_code}: {check.text[:200]}")
            workers = children(server.pid)
            cpu_before = sum(cpu_seconds(pid) for pid in workers)
            load = load_wrk(url, cookie) if shutil.which("wrk") else load_httpx(url, cookie)
            # CPU of the warm-up and the measured run, over the requests of both.
            cpu = sum(cpu_seconds(pid) for pid in workers) - cpu_before
            cadence = load_cadence(url, cookie)
    note(f"{load['requests']} requests with {load['tool']}, {load['errors']} errors, "
         f"p50 {load['p50']:.1f} ms; partial answered {status} in-process")
    report([
        Figure("status_partial_rps", load["rps"], "req/s", 500, lower_is_better=False),
        # 50 pollers at the card's own cadence (every 2 s), as browsers poll.
        Figure("status_partial_p95_ms", cadence["p95"], "ms", 50),
        # The same 50 connections asking back to back: the latency of a saturated server.
        Figure("status_partial_p95_saturated_ms", load["p95"], "ms"),
        Figure("status_partial_p50_saturated_ms", load["p50"], "ms"),
        Figure("status_partial_errors", load["errors"], "requests", 0),
        Figure("status_partial_queries", queries, "queries", 3),
        Figure("status_partial_server_cpu_ms_per_request",
               cpu / (load["requests"] * (SECONDS + WARMUP_SECONDS) / SECONDS) * 1000, "ms"),
    ])
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
