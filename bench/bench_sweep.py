"""In-flight tracking: one poll sweep over 100, 250, 500, 1,000 and 10,000 generations at Runway.

Each size gets fresh rows: generations in RUNNING with real task ids that the emulator
(`python -m emulator --speed 0`) was seeded with as RUNNING, so they stay in flight, all due
for a poll. We then time `poll.sweep_once()` — one pass of the poller — counting its database
queries (progress is written in bulk, so they do not grow with the rows) (CaptureQueriesContext on the worker's
connection) and the HTTP calls it reports. Each size is swept three times (the clock moved
past the poll interval in between, so every row is due again); the slowest sweep is the
figure, since the target is about every sweep. CPU time (this process: Takes' side of the
sweep, not the emulator's) is given beside the wall time. At 10,000 the sweep is asked to
take every row at once (the poller takes at most 2,000 a pass).
"""

from __future__ import annotations

import statistics
import sys
import uuid
from datetime import timedelta

import httpx
from common import (
    RUNWAY_HEADERS,
    Figure,
    Stopwatch,
    django_workspace,
    emulator,
    make_member,
    note,
    point_at_emulator,
    report,
    sized,
)

# The target is about 1,000 in flight (LARGE); 10,000 (HUGE) is the ten-times scale.
SIZES = sized([100, 250, 500, 1000, 10_000], [10, 20, 40])
LARGE, HUGE = SIZES[-2], SIZES[-1]
SWEEPS = 3
MODEL, ENDPOINT = "gen4.5", "text_to_video"


def seed(url: str, project, user, n: int) -> None:
    """n RUNNING generations with matching RUNNING emulator tasks, all due now."""
    from django.utils import timezone

    from generations.models import Generation, Status

    now = timezone.now()
    ids = [str(uuid.uuid4()) for _ in range(n)]
    with httpx.Client(base_url=url, headers=RUNWAY_HEADERS, timeout=30) as client:
        for task_id in ids:
            client.post("/_emulator/tasks", json={
                "id": task_id, "status": "RUNNING", "model": MODEL, "endpoint": ENDPOINT,
                "progress": 0.4, "ratio": "1280:720", "duration": 5, "promptText": "bench",
            }).raise_for_status()
    Generation.objects.bulk_create([
        Generation(project=project, created_by=user, endpoint=ENDPOINT, model=MODEL,
                   params={"prompt_text": "bench", "ratio": "1280:720", "duration": 5},
                   prompt="bench", status=Status.RUNNING, runway_task_id=task_id,
                   estimated_credits=60, submitted_at=now - timedelta(seconds=30),
                   started_at=now - timedelta(seconds=20), next_poll_at=now - timedelta(seconds=1))
        for task_id in ids
    ], batch_size=500)


def measure(n: int, url: str, project, user) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from generations import poll
    from generations.models import Generation

    Generation.objects.all().delete()
    httpx.post(f"{url}/_emulator/reset").raise_for_status()
    seed(url, project, user, n)
    runs = []
    now = timezone.now()
    for attempt in range(SWEEPS):
        at = now + poll.POLL_INTERVAL * attempt + timedelta(seconds=attempt)
        with CaptureQueriesContext(connection) as queries, Stopwatch() as watch:
            stats = poll.sweep_once(now=at, limit=max(n, 2000))
        if stats.polled != n:
            raise SystemExit(f"sweep of {n} polled {stats.polled}")
        runs.append({"seconds": watch.seconds, "cpu": watch.cpu, "queries": len(queries), "http": stats.http_calls,
                     "threads": stats.threads})
    result = {
        "seconds": max(r["seconds"] for r in runs),
        "median": statistics.median(r["seconds"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "queries": max(r["queries"] for r in runs),
        "http": max(r["http"] for r in runs),
    }
    times = ", ".join(f"{r['seconds']:.3f}" for r in runs)
    threads = ", ".join(str(r["threads"]) for r in runs)
    note(f"{n} in flight: sweeps {times} s, "
         f"{result['queries']} queries, {result['http']} HTTP calls, polls in flight {threads}")
    return result


def main() -> int:
    with django_workspace("sweep"), emulator() as url:
        from common import database_label

        point_at_emulator(url)
        user, project = make_member()
        note(f"database: {database_label()}")
        results = {n: measure(n, url, project, user) for n in SIZES}

    figures = []
    for n in SIZES:
        r = results[n]
        figures += [
            Figure(f"sweep_{n}_seconds", r["seconds"], "s", 1.0 if n == LARGE else None),
            Figure(f"sweep_{n}_cpu_seconds", r["cpu"], "s"),
            Figure(f"sweep_{n}_queries", r["queries"], "queries", 20 if n == LARGE else None),
            Figure(f"sweep_{n}_http_calls", r["http"], "calls"),
        ]
    small, large, huge = results[SIZES[0]], results[LARGE], results[HUGE]
    scale = LARGE / SIZES[0]
    figures += [
        Figure(f"sweep_ms_per_generation_{LARGE}", large["median"] * 1000 / LARGE, "ms"),
        Figure(f"sweep_ms_per_generation_{HUGE}", huge["median"] * 1000 / HUGE, "ms"),
        Figure(f"sweep_queries_per_generation_{LARGE}", large["queries"] / LARGE, "queries"),
        Figure(f"sweep_queries_{HUGE}_over_{LARGE}", huge["queries"] / large["queries"], "x"),
        # time(1000)/time(100) divided by 10: 1 is linear, below 1 better than linear.
        Figure("sweep_growth_ratio", large["median"] / small["median"] / scale, "x", 1.0),
        # Bulk writes: queries stay flat as the work grows (1 would be one query per generation).
        Figure("sweep_query_growth_ratio", large["queries"] / small["queries"] / scale, "x", 0.2),
    ]
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
