"""Pipeline throughput through real workers: 4 `qcluster` workers on PostgreSQL + Redis against
2 on SQLite + the ORM broker, as `make run` has them.

Each shape runs in a subprocess of its own with a throwaway database (PostgreSQL: a database
of its own on BENCH_POSTGRES_URL's server, and a queue name of its own on BENCH_REDIS_URL's
Redis). 300 text-to-image generations are submitted through the product's own submission, then
a real `manage.py qcluster` and `manage.py poller` start against a local emulator at `--speed 0`
(tasks finish at their first poll), and the figure is generations finished per second from
the cluster's start until the last output is kept. The emulator is the same for both; the
difference is the database, the broker and the number of workers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import (
    FIGURE_LINE,
    Figure,
    django_workspace,
    emulator,
    make_member,
    note,
    point_at_emulator,
    report,
    sized,
)

ROOT = Path(__file__).resolve().parent.parent
GENERATIONS = sized(300, 10)
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
SHAPES = {"sqlite_orm_2": {"DATABASE_URL": "", "REDIS_URL": "", "workers": 2},
          "postgresql_redis_4": {"DATABASE_URL": POSTGRES, "REDIS_URL": REDIS, "workers": 4}}


def measure(shape: str) -> int:
    workers = SHAPES[shape]["workers"]
    os.environ["Q_NAME"] = f"bench-{uuid.uuid4().hex[:8]}"
    with django_workspace("throughput", keep_redis=True) as data_dir, emulator() as url:
        from django.conf import settings

        from generations import submit
        from generations.models import Generation, Status
        from tests.faults.harness import Cluster, wait_for

        point_at_emulator(url)
        user, project = make_member()
        started = time.perf_counter()
        for n in range(GENERATIONS):
            submit.submit_generation(project=project, user=user, endpoint="text_to_image", model="gen4_image",
                                     params={"prompt_text": f"a harbour at dusk, take {n}", "ratio": "1920:1080"})
        note(f"{shape}: submitted {GENERATIONS} in {time.perf_counter() - started:.1f} s")
        cluster = Cluster(data_dir, queue=os.environ["Q_NAME"], emulator_url=url,
                          media_root=Path(settings.MEDIA_ROOT), workers=workers)
        cluster.start()
        started = time.perf_counter()
        try:
            wait_for(lambda: not Generation.objects.exclude(status=Status.SUCCEEDED).exists(), timeout=400,
                     interval=0.2, what="every generation to succeed")
        except AssertionError:
            left = Generation.objects.exclude(status=Status.SUCCEEDED).count()
            note(f"{shape}: {left} not done; cluster log: {cluster.tail()}")
            raise
        finally:
            seconds = time.perf_counter() - started
            cluster.kill()
    report([Figure(f"throughput_{shape}_gen_per_s", GENERATIONS / seconds, "gen/s", lower_is_better=False),
            Figure(f"throughput_{shape}_seconds", seconds, "s")])
    return 0


def main() -> int:
    seen: dict[str, float] = {}
    for shape, env in SHAPES.items():
        child_env = {**os.environ, "DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": env["REDIS_URL"]}
        child = subprocess.run([sys.executable, __file__, shape], cwd=ROOT, env=child_env, capture_output=True,
                               text=True, timeout=900)
        sys.stderr.write(child.stderr[-4000:])
        for line in child.stdout.splitlines():
            print(line, flush=True)
            match = FIGURE_LINE.match(line)
            if match:
                seen[match.group(1)] = float(match.group(2))
    small, large = seen.get("throughput_sqlite_orm_2_gen_per_s"), seen.get("throughput_postgresql_redis_4_gen_per_s")
    if small and large:
        report([Figure("throughput_postgresql_redis_4_over_sqlite_orm_2", large / small, "x")])
    return 0


if __name__ == "__main__":
    sys.exit(measure(sys.argv[1]) if len(sys.argv) > 1 else main())
