"""Gallery benchmark: a page and a search over 100,000 outputs, on SQLite and on PostgreSQL; a 1 GB ZIP.

Run with `python bench/bench_gallery.py`. Each database gets a run of its own (a subprocess
with its own throwaway data folder and, for PostgreSQL, its own database on the server named
by BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres); figures carry the
database in their names, and PostgreSQL's are also given as a ratio to SQLite's. PostgreSQL
is skipped, with a note, when no server answers. Prints one line per figure.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from common import FIGURE_LINE, Figure, django_workspace, note, report, sized

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = int(os.environ.get("BENCH_GALLERY_OUTPUTS", sized(100_000, 300)))
PAGE_RUNS = sized(15, 2)
ZIP_FILES, ZIP_FILE_MB = sized((10, 100), (2, 1))
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")

results: list[Figure] = []


def figure(name: str, value: float, unit: str, target: float | None = None) -> None:
    results.append(Figure(name, value, unit, target))
    report([results[-1]])


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def measure(shape: str) -> int:
    with django_workspace("gallery", static=True):
        return _measure(shape)


def _measure(shape: str) -> int:
    from django.core.files.base import ContentFile
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from accounts.actions import create_team_project
    from accounts.models import User
    from generations.models import Generation, Output, Status

    user = User.objects.create_user("bench", "bench@example.com", "a-long-bench-password-1")
    project = create_team_project(user=user, name="Bench")

    # One small real file and thumbnail, shared by every row: the page reads rows, not files.
    facts = {"kind": "image", "content_type": "image/png", "size": 600, "width": 8, "height": 8,
             "sha256": "0" * 64}
    sample = Output(project=project, **facts)
    sample.file.save("o.png", ContentFile(b"\x89PNG" + b"0" * 596), save=False)
    sample.thumbnail.save("o.jpg", ContentFile(b"\xff\xd8" + b"0" * 100), save=False)

    started = time.perf_counter()
    words = ["harbour", "glacier", "forest", "neon", "desert", "orbit", "violin", "lantern"]
    kinds = [("image", "text_to_image", "gen4_image"), ("video", "text_to_video", "gen4.5"),
             ("audio", "sound_effect", "eleven_text_to_sound_v2")]
    now = timezone.now()
    generations = [Generation(project=project, created_by=user, endpoint=kinds[i % 3][1],
                              model=kinds[i % 3][2], status=Status.SUCCEEDED,
                              prompt=f"take {i}: a {words[i % 8]} at dusk, {words[(i * 7) % 8]} light",
                              params={"prompt_text": "x"}, created_at=now - timezone.timedelta(minutes=i))
                   for i in range(OUTPUTS)]
    Generation.objects.bulk_create(generations, batch_size=1000)
    generations = list(Generation.objects.filter(project=project).order_by("id").only("id", "created_at"))
    outputs = [Output(project=project, generation=g, kind=kinds[i % 3][0],
                      content_type=facts["content_type"], size=600, width=8, height=8,
                      sha256="0" * 64, file=sample.file.name, thumbnail=sample.thumbnail.name,
                      created_at=g.created_at, is_favourite=i % 17 == 0)
               for i, g in enumerate(generations)]
    Output.objects.bulk_create(outputs, batch_size=1000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would soon after such a load
    note(f"{shape}: seeded {OUTPUTS:,} outputs in {time.perf_counter() - started:.1f} s")

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    base = reverse("gallery:index", args=[project.slug])
    pages = {f"gallery_page_100k_{shape}": base,
             f"gallery_search_100k_{shape}": f"{base}?q=glacier+light&kind=video&page=3",
             f"gallery_search_rare_100k_{shape}": f"{base}?q=take+4242"}
    for name, url in pages.items():
        assert client.get(url).status_code == 200  # warm caches and templates
        timings = []
        for _ in range(PAGE_RUNS):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        figure(f"{name}_ms", statistics.median(timings), "ms", 150)
        figure(f"{name}_queries", len(queries), "queries", 10)
        slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))
        for query in slowest[:3]:
            note(f"{name}: {float(query['time']) * 1000:.1f} ms {query['sql'][:160]}")
        if os.environ.get("BENCH_EXPLAIN") and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN ANALYZE " + slowest[0]["sql"])
                note("\n".join(row[0] for row in cursor.fetchall()))
    if shape != "sqlite":
        return 0  # the ZIP streams from storage the same on any database

    # --- a 1 GB ZIP, streamed ------------------------------------------------------------
    from django.core.files.storage import default_storage

    big = []
    for i in range(ZIP_FILES):
        name = f"outputs/{project.pk}/big-{i}.mp4"
        path = Path(default_storage.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:  # sparse: takes no disk, reads as zeros
            f.write(b"\x00\x00\x00\x18ftypmp42")
            f.truncate(ZIP_FILE_MB * 1024 * 1024)
        big.append(Output(project=project, generation=generations[i], index=1, kind="video",
                          content_type="video/mp4", size=ZIP_FILE_MB * 1024 * 1024, sha256="0" * 64,
                          file=name, created_at=now))
    Output.objects.bulk_create(big)
    ids = "&".join(f"ids={o.pk}" for o in Output.objects.filter(index=1))
    url = reverse("gallery:zip", args=[project.slug]) + "?" + ids

    rss_before = rss_mb()
    peak_rss = rss_before
    tracemalloc.start()
    t0 = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    total = 0
    for n, chunk in enumerate(response.streaming_content):
        total += len(chunk)  # consumed and dropped, as a socket would
        if n % 16 == 0:
            peak_rss = max(peak_rss, rss_mb())
    elapsed = time.perf_counter() - t0
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss = max(peak_rss, rss_mb())
    expected = ZIP_FILES * ZIP_FILE_MB * 1024 * 1024
    assert total > expected, (total, expected)
    note(f"streamed {total / 1024 / 1024:.0f} MB in {elapsed:.1f} s ({total / 1024 / 1024 / elapsed:.0f} MB/s)")
    figure("zip_1gb_memory_growth_mb", peak_rss - rss_before, "MB", 100)
    figure("zip_1gb_python_alloc_peak_mb", traced_peak / 1024 / 1024, "MB", 100)
    return 0


def postgres_answers() -> bool:
    import psycopg

    try:
        with psycopg.connect(POSTGRES, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def main() -> int:
    """Run each database in a subprocess of its own, then compare them."""
    shapes = {"sqlite": {"DATABASE_URL": ""}}
    if postgres_answers():
        shapes["postgresql"] = {"DATABASE_URL": POSTGRES}
    else:
        note(f"no PostgreSQL at {POSTGRES}: its figures are left out")
    seen: dict[str, float] = {}
    for shape, env in shapes.items():
        child = subprocess.run([sys.executable, __file__, shape], cwd=ROOT, env={**os.environ, **env},
                               capture_output=True, text=True, timeout=600)
        sys.stderr.write(child.stderr)
        for line in child.stdout.splitlines():
            print(line, flush=True)
            match = FIGURE_LINE.match(line)
            if match:
                seen[match.group(1)] = float(match.group(2))
    for name, value in list(seen.items()):
        if "_postgresql_" in name and name.endswith("_ms"):
            sqlite = seen.get(name.replace("_postgresql_", "_sqlite_"))
            if sqlite:
                report([Figure(name.replace("_postgresql_", "_").removesuffix("_ms") + "_postgresql_over_sqlite",
                               value / sqlite, "x")])
    return 0


if __name__ == "__main__":
    sys.exit(measure(sys.argv[1]) if len(sys.argv) > 1 else main())
