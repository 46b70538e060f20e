"""Working at scale: a 50-way variation submitted at once, and a board page at 5,000 outputs.

Run with `python bench/bench_scale.py`. It sets up its own Django with a temporary data folder
(`common.django_workspace`: a database and filesystem media of its own), so it touches nothing
of a real install. Prints one line per figure: name value unit target pass|fail.

- variation_50_submit_ms: submitting 50 variations (one prompt each, through
  `generations.variations.submit_variations`: checks, prices, holds all or nothing, one bulk
  insert, one job), median of REPEAT; variation_50_queries beside it, and
  variation_query_growth_beyond_bulk_insert: the queries other than inserts of 50 less those of
  5 (0: they do not grow with N; the bulk insert itself is split in batches by SQLite).
- board_page_5k_ms / _queries: a board holding 5,000 outputs, its first page as a member sees
  it (median of PAGE_RUNS).
"""

from __future__ import annotations

import statistics
import sys
import time

from common import Figure, django_workspace, note, report, sized

REPEAT = sized(7, 1)
PAGE_RUNS = sized(25, 2)
BOARD_OUTPUTS = sized(5_000, 50)


def main() -> int:
    with django_workspace("scale", static=True):
        return measure()


def measure() -> int:
    from django.core.files.base import ContentFile
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from accounts.actions import create_team_project
    from accounts.models import User
    from credits import ledger
    from gallery.models import Board, BoardItem
    from generations import variations
    from generations.models import Generation, Output, Status

    user = User.objects.create_user("bench", "bench@example.com", "a-long-bench-password-1")
    project = create_team_project(user=user, name="Bench")
    ledger.grant(user=user, amount=10_000_000, note="bench")

    def submit(n: int) -> tuple[float, int, int]:
        prompts = [f"take {i}: a lantern over a dark lake" for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            variations.submit_variations(project=project, user=user, endpoint="text_to_image", model="gen4_image",
                                         params={"prompt_text": "x", "ratio": "1920:1080"},
                                         grid={"prompt_text": prompts})
            elapsed = (time.perf_counter() - t0) * 1000
        others = sum(1 for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("INSERT"))
        return elapsed, len(queries), others

    submit(5)  # warm the catalog and the ORM
    runs = [submit(50) for _ in range(REPEAT)]
    _, small_all, small_others = submit(5)
    note(f"queries: 5 variations {small_all} ({small_others} besides inserts), 50 variations {runs[0][1]} "
         f"({runs[0][2]} besides inserts; SQLite splits a bulk insert into batches)")
    report([Figure("variation_50_submit_ms", statistics.median(t for t, _, _ in runs), "ms", 500),
            Figure("variation_50_queries", runs[0][1], "queries", 20),
            Figure("variation_query_growth_beyond_bulk_insert", runs[0][2] - small_others, "queries", 0)])

    # --- a board of 5,000 outputs -------------------------------------------------------------
    facts = {"kind": "image", "content_type": "image/png", "size": 600, "width": 8, "height": 8, "sha256": "0" * 64}
    sample = Output(project=project, **facts)
    sample.file.save("o.png", ContentFile(b"\x89PNG" + b"0" * 596), save=False)
    sample.thumbnail.save("o.jpg", ContentFile(b"\xff\xd8" + b"0" * 100), save=False)
    now = timezone.now()
    Generation.objects.bulk_create([
        Generation(project=project, created_by=user, endpoint="text_to_image", model="gen4_image",
                   status=Status.SUCCEEDED, prompt=f"board take {i}", params={"prompt_text": f"board take {i}"},
                   created_at=now - timezone.timedelta(minutes=i)) for i in range(BOARD_OUTPUTS)], batch_size=1000)
    made = list(Generation.objects.filter(prompt__startswith="board take").only("id", "created_at"))
    Output.objects.bulk_create([Output(project=project, generation=g, file=sample.file.name,
                                       thumbnail=sample.thumbnail.name, created_at=g.created_at, **facts)
                                for g in made], batch_size=1000)
    board = Board.objects.create(project=project, name="Everything", created_by=user)
    BoardItem.objects.bulk_create([BoardItem(board=board, output=o, added_by=user)
                                   for o in Output.objects.filter(generation__in=made)], batch_size=1000)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    url = reverse("gallery:board", args=[project.slug, board.pk])
    assert client.get(url).status_code == 200
    timings = []
    for _ in range(PAGE_RUNS):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    report([Figure("board_page_5k_ms", statistics.median(timings), "ms", 150),
            Figure("board_page_5k_queries", len(queries), "queries", 10)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
