"""Media behind nginx: 50 viewers seeking in one video, bytes sent by nginx vs by Django.

Four ways, the same Takes: nginx in front with signed links (`MEDIA_SIGNED_URL_SECRET`: Takes
checks access once and redirects the player to a link nginx checks itself); nginx sending the
bytes after Takes' check at every seek (`MEDIA_ACCEL_REDIRECT`, X-Accel-Redirect); nginx in
front of Django streaming them; and Django alone, as `make run` serves. Each viewer seeks (an
open-ended byte range, as players ask), watches for a few seconds at the video's bitrate, and
seeks again; like Chromium (tests/e2e/test_behind_nginx.py), it follows a redirect once and
seeks on the link it was given. Figures: how long the web threads were held per seek (gunicorn's
own log: the sum over its requests, over the seeks), the median request's hold, gunicorn's CPU
per seek, and how long a viewer waits for the first byte of a seek. nginx and gunicorn run on one core, the
viewers on the other (`common.on_cores`), so the viewers' own CPU is not counted as the
server's.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

import httpx
from common import (
    CLIENT_CORES,
    SERVER_CORES,
    Figure,
    django_workspace,
    note,
    on_cores,
    report,
    sized,
)

VIEWERS = sized(50, 5)
SECONDS = sized(20, 2)  # of watching, per way
VIDEO_MB = sized(48, 4)
WATCH_SECONDS = 4  # between seeks
RATE = 1_000_000  # bytes a second each viewer reads: a 8 Mbit/s video
CHUNK = 64 * 1024
THREADS = 8  # gunicorn threads: the few a web process has



async def _viewer(client, url: str, size: int, stop_at: float, rng: random.Random, seen: dict) -> None:
    """Seek, watch a while at playback speed, seek again: each seek an open-ended byte range, as players ask.

    Viewers arrive at random moments and watch for random spells (on average WATCH_SECONDS), as
    people do: fifty seeks in the same millisecond would measure a queue, not a seek.
    """
    await asyncio.sleep(rng.uniform(0, WATCH_SECONDS))
    while time.perf_counter() < stop_at:
        start = rng.randrange(0, size - 1)
        asked = time.perf_counter()
        try:
            async with client.stream("GET", url, headers={"Range": f"bytes={start}-"}) as response:
                url = str(response.url)  # where a redirect led: the player's next seeks go there
                first = True
                watched_until = time.perf_counter() + rng.uniform(0.5, 1.5) * WATCH_SECONDS
                async for chunk in response.aiter_raw(CHUNK):
                    if first:
                        seen["first_byte_ms"].append((time.perf_counter() - asked) * 1000)
                        seen["statuses"].append(response.status_code)
                        first = False
                    seen["bytes"] += len(chunk)
                    await asyncio.sleep(len(chunk) / RATE)  # the player reads at the video's bitrate
                    if time.perf_counter() > watched_until:
                        break
        except httpx.HTTPError:
            seen["errors"] += 1


def watch(url: str, cookie: str, size: int) -> dict:
    async def run() -> dict:
        seen = {"first_byte_ms": [], "statuses": [], "bytes": 0, "errors": 0}
        limits = httpx.Limits(max_connections=VIEWERS, max_keepalive_connections=0)
        async with httpx.AsyncClient(cookies={"sessionid": cookie}, limits=limits, timeout=60,
                                     follow_redirects=True) as client:
            stop_at = time.perf_counter() + SECONDS
            await asyncio.gather(*(_viewer(client, url, size, stop_at, random.Random(i), seen)
                                   for i in range(VIEWERS)))
        return seen

    seen = asyncio.run(run())
    waits = sorted(seen["first_byte_ms"])
    return {"seeks": len(waits), "p50": statistics.median(waits), "p95": waits[int(len(waits) * 0.95) - 1],
            "errors": seen["errors"] + sum(s != 206 for s in seen["statuses"]), "mb": seen["bytes"] / 2**20}


def main() -> int:
    if not shutil.which("nginx"):
        note("needs nginx (apt-get install nginx; `make bench` installs it)")
        return 1
    with django_workspace("media") as data_dir:
        from django.conf import settings
        from django.core.files.base import ContentFile
        from django.test import Client
        from django.urls import reverse

        from accounts.actions import create_team_project
        from accounts.models import User
        from generations.models import Generation, Output, Status
        from tests.deploy.front import FrontServer
        from tests.faults.harness import database_env

        user = User.objects.create_user("viewer", "viewer@example.com", "a-long-bench-password-1")
        project = create_team_project(user=user, name="Screening")
        generation = Generation.objects.create(project=project, created_by=user, endpoint="text_to_video",
                                               model="gen4.5", status=Status.SUCCEEDED, prompt="a long take")
        body = random.Random(3).randbytes(VIDEO_MB * 1024 * 1024)
        output = Output(project=project, generation=generation, kind="video", content_type="video/mp4",
                        size=len(body), sha256="0" * 64)
        output.file.save("take.mp4", ContentFile(body), save=False)
        output.save()
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        path = reverse("generations:output_play", args=[project.slug, output.pk])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(database_env())
        env.update({"DJANGO_SETTINGS_MODULE": "config.test_settings", "SECRET_KEY": settings.SECRET_KEY,
                    "TAKES_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"})
        media_root = Path(settings.MEDIA_ROOT)
        held, results, cpu = {}, {}, {}
        # nginx on signed links; nginx sending after each check (X-Accel-Redirect); nginx in front of
        # Django streaming; Django alone, as `make run` serves.
        for way, accel, signed, direct in (("signed", True, True, False), ("nginx", True, False, False),
                                           ("proxied", False, False, False), ("django", False, False, True)):
            with on_cores(SERVER_CORES):
                front = FrontServer(data_dir / f"front-{way}", env=env, media_root=media_root,
                                    static_root=Path(settings.STATIC_ROOT), accel=accel, signed=signed,
                                    threads=THREADS).start()
            try:
                before = front.web_cpu_seconds()
                with on_cores(CLIENT_CORES):
                    results[way] = watch((front.web_url if direct else front.url) + path, cookie, len(body))
                used = front.web_cpu_seconds() - before
                held[way] = front.web_thread_ms("/play/")
            finally:
                front.stop()
            cpu[way] = used * 1000 / max(1, results[way]["seeks"])
            note(f"{way}: {results[way]['seeks']} seeks, first byte p50 {results[way]['p50']:.1f} ms, "
                 f"p95 {results[way]['p95']:.1f} ms, {results[way]['mb']:.0f} MB watched, "
                 f"{results[way]['errors']} errors, {len(held[way])} requests logged, web CPU {used:.1f} s")
    ways = ("signed", "nginx", "proxied", "django")
    # Web-thread time per seek: every request's hold (a signed link's seeks have none), over the seeks.
    per_seek = {way: sum(held[way]) / max(1, results[way]["seeks"]) for way in ways}
    median = {way: statistics.median(ms) if ms else 0.0 for way, ms in held.items()}
    figures = [Figure("media_50_viewers_web_thread_ms_per_seek_signed", per_seek["signed"], "ms", 2)]
    for way in ways[1:]:
        figures += [Figure(f"media_50_viewers_web_thread_ms_per_seek_{way}", per_seek[way], "ms"),
                    Figure(f"media_50_viewers_web_thread_ratio_{way}_over_signed",
                           per_seek[way] / max(per_seek["signed"], 1e-3), "x")]
    for way in ways:
        figures += [Figure(f"media_50_viewers_web_thread_ms_median_request_{way}", median[way], "ms"),
                    Figure(f"media_50_viewers_web_requests_{way}", len(held[way]), "requests"),
                    Figure(f"media_50_viewers_web_cpu_ms_per_seek_{way}", cpu[way], "ms"),
                    Figure(f"media_50_viewers_first_byte_p95_ms_{way}", results[way]["p95"], "ms"),
                    Figure(f"media_50_viewers_seeks_{way}", results[way]["seeks"], "seeks")]
    figures += [Figure("media_50_viewers_first_byte_ratio_django_over_nginx",
                       results["django"]["p95"] / results["nginx"]["p95"], "x"),
                Figure("media_50_viewers_errors", sum(r["errors"] for r in results.values()), "errors", 0)]
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
