"""The queue page's live updates: requests an open page causes, and what one update costs the server.

50 generations are RUNNING (no poller runs, so they stay in flight). The queue page is served
by gunicorn and opened in Chromium (Playwright), and every request the page makes over ten
seconds of its own clock is counted, the clock moved on 100 ms at a time with each tick's
requests answered before the next (so a card that re-arms its poll after a swap is counted
as a real browser would make it). It is measured twice in one run: as the page
is now (one poll per page), and with the templates of the last commit that polled once per
card (PER_CARD_COMMIT, read from git), served by the same views, to give the ratio.

The server's CPU time per update (time.process_time around the request through the test
client, median of REPEAT) and its query count are measured in-process, for a page of cards
none of which changed (the steady state) and one whose every card changed.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from common import (
    ROOT,
    Figure,
    django_workspace,
    gunicorn,
    make_member,
    note,
    report,
    session_cookie,
    sized,
)

IN_FLIGHT = 50
WINDOW_MS = sized(10_000, 1_000)  # of the page's clock
TICK_MS = 100  # moved on this much at a time, each tick's requests answered before the next
REPEAT = sized(30, 2)
PER_CARD_COMMIT = "5468d8f"  # the last commit whose cards each polled their own URL every 2 s
CHROMIUM = "/usr/bin/chromium"


def seed():
    from django.utils import timezone

    from generations.models import Generation, Status

    user, project = make_member("feed")
    now = timezone.now()
    Generation.objects.bulk_create(Generation(
        project=project, created_by=user, endpoint="text_to_video", model="gen4.5",
        params={"prompt_text": f"shot {i}", "ratio": "1280:720", "duration": 5}, prompt=f"shot {i}",
        status=Status.RUNNING, runway_task_id=f"bench-{i}", estimated_credits=60, progress=0.3,
        submitted_at=now, started_at=now) for i in range(IN_FLIGHT))
    return user, project


def per_card_templates(into: Path) -> Path | None:
    """The templates folder as it was at PER_CARD_COMMIT, or None when git cannot say."""
    try:
        archive = subprocess.run(["git", "archive", PER_CARD_COMMIT, "templates"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        note(f"no per-card templates from git ({exc}); measuring the page as it is only")
        return None
    return into / "templates"


def settings_module(folder: Path, templates: Path) -> str:
    """A settings module that reads `templates` first (the views and everything else as they are)."""
    (folder / "bench_feed_settings.py").write_text(
        "from config.settings import *  # noqa: F403\n"
        f"TEMPLATES[0]['DIRS'] = [{str(templates)!r}, *TEMPLATES[0]['DIRS']]  # noqa: F405\n")
    return "bench_feed_settings"


def requests_per_second(browser, url: str, cookie: str, path: str) -> tuple[float, int]:
    """Requests to the app (not static files) the open page makes per second of its own clock, and their number."""
    context = browser.new_context(base_url=url)
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": url}])
    page = context.new_page()
    page.clock.install()
    page.goto(path)
    page.wait_for_load_state("networkidle")
    seen: list[str] = []
    pending = [0]
    page.on("request", lambda r: (seen.append(r.url), pending.__setitem__(0, pending[0] + 1)))
    page.on("requestfinished", lambda r: pending.__setitem__(0, pending[0] - 1))
    page.on("requestfailed", lambda r: pending.__setitem__(0, pending[0] - 1))
    page.clock.pause_at(page.evaluate("() => Date.now()") / 1000 + 0.05)
    seen.clear()
    for _ in range(WINDOW_MS // TICK_MS):
        page.clock.run_for(TICK_MS)
        page.evaluate("() => 0")  # the step's requests have been reported
        deadline = time.monotonic() + 30
        while pending[0] > 0 and time.monotonic() < deadline:
            page.wait_for_timeout(5)  # the server answers; the page's own clock stays paused
    context.close()
    polls = sum(1 for u in seen if not urlsplit(u).path.startswith("/static/"))
    return polls / (WINDOW_MS / 1000), polls


def browser_figures(user, project) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        note(f"{CHROMIUM} is missing; no browser figures")
        return []
    cookie = session_cookie(user)
    path = f"/p/{project.slug}/queue/?status=in_flight"
    folder = Path(tempfile.mkdtemp(prefix="takes-bench-feed-"))
    figures = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            with gunicorn(workers=2) as (url, _):
                now, polls = requests_per_second(browser, url, cookie, path)
            note(f"one poll per page: {now:.2f} requests/s ({polls} requests in {WINDOW_MS} ms)")
            figures.append(Figure("feed.queue_page_requests_per_s", now, "req/s", 0.5))
            templates = per_card_templates(folder)
            if templates is not None:
                env = {"DJANGO_SETTINGS_MODULE": settings_module(folder, templates),
                       "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT), os.environ.get("PYTHONPATH", "")])}
                with gunicorn(workers=2, env=env) as (url, _):
                    before, polls = requests_per_second(browser, url, cookie, path)
                note(f"a poll per card: {before:.2f} requests/s ({polls} requests)")
                figures.append(Figure("feed.queue_page_requests_per_s_per_card_polling", before, "req/s"))
                figures.append(Figure("feed.request_ratio_per_card_over_per_page", before / max(now, 1e-9), "x"))
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return figures


def update_figures(user, project) -> list[Figure]:
    """CPU time and queries of one update, for a page of cards none of which changed and all of which did."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client(HTTP_HOST="127.0.0.1", HTTP_HX_REQUEST="true")
    client.force_login(user)
    page = client.get(reverse("generations:queue", args=[project.slug]), {"status": "in_flight"}).content.decode()
    fresh = re.findall(r'name="card" value="([0-9]+:[0-9a-f]+)"', page)
    stale = [f"{c.split(':')[0]}:0" for c in fresh]
    url = reverse("generations:updates", args=[project.slug])
    figures = []
    for label, cards in (("unchanged", fresh), ("all_changed", stale)):
        params = {"card": cards, "view": "feed", "shown": str(IN_FLIGHT)}
        client.get(url, params)  # warm templates and caches as a long-lived worker has them
        times = []
        for _ in range(REPEAT):
            started = time.process_time()
            response = client.get(url, params)
            times.append(time.process_time() - started)
        with CaptureQueriesContext(connection) as queries:
            client.get(url, params)
        swapped = response.content.decode().count("<article")
        note(f"update, {len(cards)} cards asked, {label}: status {response.status_code}, {swapped} cards sent")
        figures.append(Figure(f"feed.update_cpu_ms_{label}", statistics.median(times) * 1000, "ms"))
        figures.append(Figure(f"feed.update_queries_{label}", len(queries), "queries"))
    return figures


def main() -> int:
    sys.path.insert(0, str(ROOT))
    with django_workspace("feed", static=True):
        user, project = seed()
        figures = update_figures(user, project)
        figures = browser_figures(user, project) + figures
    report(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
