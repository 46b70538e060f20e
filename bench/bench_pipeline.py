"""Pipeline overhead: 500 generations through the emulator at --speed 0 with two workers.

How it runs
-----------
* `python -m emulator --speed 0 --tier 5 --max-image-side 256` in its own process: tasks
  finish at their first poll and outputs are real PNGs rendered at 256 px (the
  `--no-render` placeholders are under Takes' 512-byte minimum and would fail the copy).
* 500 `text_to_image` / `gen4_image_turbo` generations, each with the same reference image
  asset, are submitted with `submit.submit_generation` (what the form view calls). The
  image is uploaded to Runway once and its runway:// URI reused, as in production.
* Two worker threads play the two django-q workers. `jobs.enqueue` is pointed at an
  in-process FIFO queue instead of the broker, and each worker takes jobs from it and calls
  the same task functions qcluster would: `tasks.run_generation` (upload + create),
  `tasks.copy_outputs`; a third thread runs the real poller loop (`poller.Poller`: lease,
  `sweep_once`, its own sleep until the next due moment). So the job flow, the database work
  and every HTTP call are the product's; only the broker hop (a django-q implementation
  detail, ~0.5 s poll on the ORM broker) is left out.

What "our time" is
------------------
Every HTTP request Takes makes (the SDK and the output download both use
httpx.HTTPTransport) is timed around `handle_request`: that is time a worker waits on the
emulator (its processing plus loopback), i.e. "the emulator's own". Time the sweep sleeps
between passes is idle time, not work. Per generation:

    overhead = (submit time + worker busy time − HTTP wait − sweep sleeps) / 500

It is wall time on the worker threads, so it includes our Python, SQLite, Pillow's probe and
thumbnail of the output, storage writes and GIL waits between the two workers.

The naive way
-------------
One worker blocked per generation: SDK `create` then `wait_for_task_output()`, then the
output downloaded. The SDK sleeps 4.5–7.5 s before every poll (CONTRACT §9), so even at
--speed 0 each generation holds its worker ~6 s; 500 would take ~25 minutes on two
workers. We run a sample of NAIVE_SAMPLE generations on two threads and extrapolate.
"""

from __future__ import annotations

import os
import queue
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
from common import (
    EMULATOR_PIDS,
    Figure,
    Stopwatch,
    cpu_seconds,
    django_workspace,
    emulator,
    make_member,
    note,
    point_at_emulator,
    report,
    sized,
)

GENERATIONS = sized(500, 10)
WORKERS = 2
NAIVE_SAMPLE = sized(8, 2)
ENDPOINT, MODEL = "text_to_image", "gen4_image_turbo"
DEADLINE = 90.0  # seconds for the worker phase before giving up


class Accounts:
    """Per-thread time spent waiting on HTTP and sleeping, summed at the end."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()
        self.totals: dict[str, float] = defaultdict(float)

    def add(self, key: str, seconds: float) -> None:
        with self.lock:
            self.totals[key] += seconds

    def http_active(self) -> bool:
        return getattr(self.local, "depth", 0) > 0


ACCOUNTS = Accounts()


def instrument_http() -> None:
    """Time every request made through httpx's sync transport (SDK calls and downloads)."""
    original = httpx.HTTPTransport.handle_request

    def timed(self, request):
        started = time.perf_counter()
        try:
            return original(self, request)
        finally:
            spent = time.perf_counter() - started
            kind = getattr(ACCOUNTS.local, "job", None) or "poll_sweep"  # sweep pool threads have none
            ACCOUNTS.add("http", spent)
            ACCOUNTS.add("http_calls", 1)
            ACCOUNTS.add(f"http:{kind}", spent)

    httpx.HTTPTransport.handle_request = timed


def process_cpu() -> float:
    """User + system CPU seconds of this process (every thread), not its children."""
    times = os.times()
    return times.user + times.system


def make_reference_asset(project, user, folder: Path):
    """A 1280×720 PNG asset, stored and probed through the upload workflow."""
    from django.core.files.uploadedfile import TemporaryUploadedFile
    from PIL import Image

    from assets.actions import create_asset

    path = folder / "reference.png"
    Image.effect_noise((1280, 720), 40).convert("RGB").save(path)
    uploaded = TemporaryUploadedFile("reference.png", "image/png", path.stat().st_size, None)
    uploaded.write(path.read_bytes())
    uploaded.seek(0)
    return create_asset(project=project, user=user, uploaded_file=uploaded)


def run_ours(project, user, asset, emulator_pid: int) -> dict:
    from django.db import close_old_connections, connection

    from generations import jobs as job_queue
    from generations import poller, submit, tasks
    from generations.models import FINISHED, Generation, Status

    jobs: queue.Queue = queue.Queue()
    job_queue.enqueue = lambda func, *args: jobs.put((func, args))  # the broker, in process

    def count_queries(execute, sql, params, many, context):
        ACCOUNTS.add("queries", 1)
        return execute(sql, params, many, context)

    submit_cpu = process_cpu()
    with connection.execute_wrapper(count_queries), Stopwatch() as submitting:
        for n in range(GENERATIONS):
            submit.submit_generation(project=project, user=user, endpoint=ENDPOINT, model=MODEL,
                                       params={"prompt_text": f"take {n} of @ref1",
                                               "ratio": "1280:720", "reference_images": [asset.pk]})
    submit_cpu = process_cpu() - submit_cpu
    submit_queries = ACCOUNTS.totals.pop("queries", 0)
    note(f"submitted {GENERATIONS} in {submitting.seconds:.2f} s ({submit_queries:.0f} queries)")

    runners = {
        "generations.tasks.run_generation": tasks.run_generation,
        "generations.tasks.copy_outputs": tasks.copy_outputs,
    }
    stop = threading.Event()
    failures: list[BaseException] = []

    class TimedStop(threading.Event):
        """The poller's stop event; its waits between passes are idle time, not work."""

        def is_set(self) -> bool:
            return stop.is_set()

        def wait(self, timeout=None):
            started = time.perf_counter()
            try:
                return stop.wait(timeout)
            finally:
                ACCOUNTS.add("sleep", time.perf_counter() - started)

    def polling() -> None:
        try:
            with connection.execute_wrapper(count_queries):
                ACCOUNTS.local.job = "poll_sweep"
                started = time.perf_counter()
                poller.Poller(holder="bench", stop=TimedStop()).run()
                ACCOUNTS.add("busy", time.perf_counter() - started)
                ACCOUNTS.add("busy:poll_sweep", time.perf_counter() - started)
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            close_old_connections()
            connection.close()

    def worker() -> None:
        try:
            with connection.execute_wrapper(count_queries):
                while not stop.is_set():
                    try:
                        func, args = jobs.get(timeout=0.05)
                    except queue.Empty:
                        continue
                    kind = func.rsplit(".", 1)[1]
                    ACCOUNTS.local.job = kind
                    started = time.perf_counter()
                    try:
                        runners[func](*args)
                    finally:
                        spent = time.perf_counter() - started
                        ACCOUNTS.add("busy", spent)
                        ACCOUNTS.add(f"busy:{kind}", spent)
                        ACCOUNTS.add(f"jobs:{kind}", 1)
                        ACCOUNTS.local.job = None
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, name=f"worker-{i}") for i in range(WORKERS)]
    threads.append(threading.Thread(target=polling, name="poller"))
    cpu_before, emulator_before = process_cpu(), cpu_seconds(emulator_pid)
    with Stopwatch() as work:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and not failures:
            done = Generation.objects.filter(status__in=FINISHED).count()
            if done == GENERATIONS:
                break
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join()
    cpu = process_cpu() - cpu_before
    emulator_cpu = cpu_seconds(emulator_pid) - emulator_before
    if failures:
        raise failures[0]
    succeeded = Generation.objects.filter(status=Status.SUCCEEDED).count()
    totals = dict(ACCOUNTS.totals)
    note(f"workers: {work.seconds:.2f} s wall, busy {totals.get('busy', 0):.2f} s, "
         f"HTTP {totals.get('http', 0):.2f} s over {totals.get('http_calls', 0):.0f} calls, "
         f"sweep sleeps {totals.get('sleep', 0):.2f} s, {totals.get('queries', 0):.0f} queries; "
         + ", ".join(f"{k[5:]} {v:.0f}" for k, v in totals.items() if k.startswith("jobs:")))
    for kind in ("run_generation", "poll_sweep", "copy_outputs"):
        busy = totals.get(f"busy:{kind}", 0) - (totals.get("sleep", 0) if kind == "poll_sweep" else 0)
        note(f"  {kind}: {busy:.2f} s working, {totals.get(f'http:{kind}', 0):.2f} s of it on HTTP")
    if succeeded != GENERATIONS:
        note(f"only {succeeded} of {GENERATIONS} succeeded")
    return {"submit": submitting.seconds, "cpu": cpu + submit_cpu, "emulator_cpu": emulator_cpu, "submit_queries": submit_queries, "wall": work.seconds,
            "succeeded": succeeded, **totals}


def run_naive(url: str, uri: str, folder: Path) -> dict:
    """NAIVE_SAMPLE generations, each holding a worker through create, wait and download."""
    import runwayml

    client = runwayml.RunwayML(api_key="key_" + "0" * 128, base_url=url, max_retries=2)
    pending: queue.Queue = queue.Queue()
    for n in range(NAIVE_SAMPLE):
        pending.put(n)
    held: list[float] = []

    def worker() -> None:
        while True:
            try:
                n = pending.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            task = client.text_to_image.create(model=MODEL, prompt_text=f"naive {n} of @ref1",
                                               ratio="1280:720",
                                               reference_images=[{"uri": uri, "tag": "ref1"}])
            done = task.wait_for_task_output()
            with httpx.stream("GET", done.output[0]) as response, \
                    (folder / f"naive-{n}.png").open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            held.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    with Stopwatch() as wall:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    mean = sum(held) / len(held)
    note(f"naive: {len(held)} generations in {wall.seconds:.1f} s, {mean:.2f} s each per worker")
    return {"wall": wall.seconds, "mean_held": mean}


def main() -> int:
    with django_workspace("pipeline") as data_dir, \
            emulator("--max-image-side", "256", render=True) as url:
        point_at_emulator(url)
        instrument_http()
        user, project = make_member()
        with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
            asset = make_reference_asset(project, user, Path(tmp))
            ours = run_ours(project, user, asset, EMULATOR_PIDS[url])
            asset.refresh_from_db()
            naive = run_naive(url, asset.runway_uri, Path(tmp))

    n = GENERATIONS
    work = ours.get("busy", 0) - ours.get("sleep", 0)
    overhead_ms = (ours["submit"] + work - ours.get("http", 0)) / n * 1000
    throughput = ours["succeeded"] / ours["wall"]
    naive_throughput = WORKERS / naive["mean_held"]
    report([
        Figure("pipeline_overhead_per_generation_ms", overhead_ms, "ms", 20),
        Figure("pipeline_submit_per_generation_ms", ours["submit"] / n * 1000, "ms"),
        Figure("pipeline_cpu_per_generation_ms", ours["cpu"] / n * 1000, "ms"),
        Figure("pipeline_emulator_cpu_per_generation_ms", ours["emulator_cpu"] / n * 1000, "ms"),
        Figure("pipeline_emulator_http_per_generation_ms", ours.get("http", 0) / n * 1000, "ms"),
        Figure("pipeline_http_calls_per_generation", ours.get("http_calls", 0) / n, "calls"),
        Figure("pipeline_queries_per_generation",
               (ours["submit_queries"] + ours.get("queries", 0)) / n, "queries"),
        Figure("pipeline_throughput", throughput, "gen/s"),
        Figure("pipeline_500_wall_seconds", ours["wall"], "s"),
        Figure("pipeline_succeeded", ours["succeeded"], "gen", n, lower_is_better=False),
        Figure("pipeline_naive_worker_seconds_per_generation", naive["mean_held"], "s"),
        Figure("pipeline_naive_throughput_sampled", naive_throughput, "gen/s"),
        Figure("pipeline_naive_500_extrapolated_minutes", n / naive_throughput / 60, "min"),
        Figure("pipeline_throughput_ratio_vs_naive", throughput / naive_throughput, "x"),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
