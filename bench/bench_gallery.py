"""Gallery benchmark: a page over 10,000 outputs, and a 1 GB ZIP streamed with little memory.

Run with `python bench/bench_gallery.py`. It sets up its own Django with a temporary data
folder (SQLite database and filesystem media), so it touches nothing of a real install.
Prints one line per figure: name value unit target pass|fail.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA_DIR = Path(tempfile.mkdtemp(prefix="takes-bench-gallery-"))
os.environ["TAKES_DATA_DIR"] = str(DATA_DIR)
# The app's settings with the test overrides: plain static files (no collectstatic needed).
os.environ["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
for name in ("DATABASE_URL", "AWS_STORAGE_BUCKET_NAME", "SQLITE_PATH", "MEDIA_ROOT", "REDIS_URL"):
    os.environ.pop(name, None)

OUTPUTS = 10_000
PAGE_RUNS = 25
ZIP_FILES, ZIP_FILE_MB = 10, 100

results: list[tuple[str, float, str, float, bool]] = []


def report(name: str, value: float, unit: str, target: float) -> None:
    ok = value <= target
    results.append((name, value, unit, target, ok))
    shown = f"{value:.0f}" if unit == "queries" else f"{value:.1f}"
    print(f"{name} {shown} {unit} {target:g} {'pass' if ok else 'fail'}", flush=True)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def main() -> int:
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from accounts.actions import create_team_project
    from accounts.models import User
    from generations.models import Generation, Output, Status

    call_command("migrate", verbosity=0)
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
    print(f"# seeded {OUTPUTS} outputs in {time.perf_counter() - started:.1f} s", flush=True)

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    base = reverse("gallery:index", args=[project.slug])
    pages = {"gallery_page_10k": base, "gallery_search_10k": f"{base}?q=glacier+light&kind=video&page=3"}
    for name, url in pages.items():
        assert client.get(url).status_code == 200  # warm caches and templates
        timings = []
        for _ in range(PAGE_RUNS):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        report(f"{name}_ms", statistics.median(timings), "ms", 150)
        report(f"{name}_queries", len(queries), "queries", 10)

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
    print(f"# streamed {total / 1024 / 1024:.0f} MB in {elapsed:.1f} s "
          f"({total / 1024 / 1024 / elapsed:.0f} MB/s)", flush=True)
    report("zip_1gb_memory_growth_mb", peak_rss - rss_before, "MB", 100)
    report("zip_1gb_python_alloc_peak_mb", traced_peak / 1024 / 1024, "MB", 100)
    return 0 if all(r[4] for r in results) else 1


if __name__ == "__main__":
    try:
        code = main()
    finally:
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    sys.exit(code)
