"""The poller's idle cost: queries a minute with nothing in flight, and with one generation backing off.

The real `generations.poller.Poller` loop runs in a thread of this process against a real
database (SQLite or PostgreSQL, as `DATABASE_URL` says), with its default `max_wait`
(10 s). It counts every query it makes itself (its heartbeat figure); each shape is
watched for `WINDOW` seconds. Then the same with one generation refused a moment ago and
waiting two minutes before its next try. Beside each, the cost of the self-queueing sweep
job it replaced, measured the same way: that job looked again every 0.2 s whenever work
was in flight but none of it at Runway.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import timedelta

from common import Figure, django_workspace, make_member, note, report, sized

WINDOW = sized(40.0, 3.0)  # seconds per shape: four idle looks and at least one lease renewal
TARGET_PER_MINUTE = 12
OLD_SWEEP_WAIT = 0.2  # the replaced job's pause when nothing was at Runway


def watch(seconds: float) -> dict:
    """Run a poller for `seconds`; its queries, passes and looks."""
    from django.db import connection

    from generations.poller import Poller

    stop = threading.Event()
    poller = Poller(holder="bench", stop=stop)
    looks = 0

    class CountingStop(threading.Event):
        def is_set(self) -> bool:
            return stop.is_set()

        def wait(self, timeout=None):
            nonlocal looks
            looks += 1
            return stop.wait(timeout)

    poller.stop = CountingStop()
    thread = threading.Thread(target=lambda: (poller.run(), connection.close()), name="poller")
    started = time.monotonic()
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join()
    elapsed = time.monotonic() - started
    return {"queries": poller.queries, "passes": poller.passes, "looks": looks, "seconds": elapsed,
            "per_minute": poller.queries / elapsed * 60}


def old_sweep_per_minute() -> float:
    """Queries a minute of the replaced job's loop while one generation backed off: its check every 0.2 s."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from generations.models import Generation

    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        while time.monotonic() - started < 5:
            # What each pass of the old loop asked before sleeping 0.2 s and queueing itself again.
            Generation.objects.at_runway().filter(needs_attention=False).exists()
            Generation.objects.in_flight().filter(needs_attention=False).exists()
            Generation.objects.in_flight().exclude(next_poll_at=None).order_by("next_poll_at").values_list(
                "next_poll_at", flat=True).first()
            time.sleep(OLD_SWEEP_WAIT)
    return len(queries) / (time.monotonic() - started) * 60


def main() -> int:
    with django_workspace("poller"):
        from common import database_label
        from django.utils import timezone

        from generations.models import Generation, Status

        user, project = make_member()
        note(f"database: {database_label()}; {WINDOW:.0f} s per shape")
        idle = watch(WINDOW)
        note(f"nothing in flight: {idle['queries']} queries in {idle['seconds']:.0f} s, "
             f"{idle['passes']} passes, {idle['looks']} looks")
        Generation.objects.create(
            project=project, created_by=user, endpoint="text_to_image", model="gen4_image",
            params={"prompt_text": "bench"}, prompt="bench", status=Status.QUEUED, step_errors=3,
            next_poll_at=timezone.now() + timedelta(minutes=2))
        backing_off = watch(WINDOW)
        note(f"one backing off: {backing_off['queries']} queries in {backing_off['seconds']:.0f} s, "
             f"{backing_off['passes']} passes, {backing_off['looks']} looks")
        old = old_sweep_per_minute()
        note(f"the replaced sweep job, one backing off: {old:.0f} queries a minute (plus a job queued per pass)")

    report([
        Figure("poller_idle_queries_per_minute", idle["per_minute"], "queries/min", TARGET_PER_MINUTE),
        Figure("poller_backing_off_queries_per_minute", backing_off["per_minute"], "queries/min",
               TARGET_PER_MINUTE),
        Figure("poller_backing_off_passes", backing_off["passes"], "passes", 0),
        Figure("old_sweep_backing_off_queries_per_minute", old, "queries/min"),
        Figure("poller_vs_old_sweep_ratio", backing_off["per_minute"] / old if old else 0, "x", 1.0),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
