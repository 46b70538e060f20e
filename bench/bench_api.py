"""Takes' /v1/ against the emulator directly: what Takes adds to one call of Runway's SDK.

The same official `runwayml` client makes the same calls two ways, one after another on one
connection: SDK → emulator (Runway as the emulator stands for it) and SDK → Takes (gunicorn,
a personal token, SQLite or DATABASE_URL) → its pipeline. A create through Takes validates,
holds credits, writes the generation and queues its job (Runway is called by that job, not by
the request); a retrieve reads the generation and answers Runway's task shape. The figures are
the medians per call and the difference (target: under 15 ms added per call).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import runwayml
from common import Figure, django_workspace, emulator, gunicorn, make_member, note, report, sized

CALLS = sized(100, 5)
WARMUP = sized(10, 1)
REQUEST = {"model": "gen4_image", "prompt_text": "a red kite over a beach", "ratio": "1024:1024"}


def timed(call, n: int) -> list[float]:
    """Milliseconds of each of `n` calls, after a warm-up."""
    for _ in range(WARMUP):
        call()
    took = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    return sorted(took)


def p95(values: list[float]) -> float:
    return values[int(len(values) * 0.95) - 1]


def measure(client: runwayml.RunwayML) -> dict[str, list[float]]:
    task_id = client.text_to_image.create(**REQUEST).id
    return {"create": timed(lambda: client.text_to_image.create(**REQUEST), CALLS),
            "retrieve": timed(lambda: client.tasks.retrieve(task_id), CALLS)}


def main() -> int:
    with django_workspace("api"), emulator() as runway_url:
        from accounts.actions import create_api_token

        user, project = make_member("script")
        _token, raw = create_api_token(user=user, project=project, name="bench")
        direct = runwayml.RunwayML(base_url=runway_url, api_key="key_" + "0" * 128, max_retries=0)
        env = {"RUNWAYML_BASE_URL": runway_url, "RUNWAYML_API_SECRET": "", "API_RATE_LIMIT": "1000000/m"}
        with gunicorn(workers=2, env=env) as (takes_url, _server):
            through = runwayml.RunwayML(base_url=takes_url, api_key=raw, max_retries=0)
            emulated = measure(direct)
            served = measure(through)
    figures = []
    for call in ("create", "retrieve"):
        alone, via = statistics.median(emulated[call]), statistics.median(served[call])
        note(f"{call}: emulator p50 {alone:.2f} ms p95 {p95(emulated[call]):.2f}; "
             f"through Takes p50 {via:.2f} ms p95 {p95(served[call]):.2f}")
        figures += [
            Figure(f"api_{call}_emulator_p50_ms", alone, "ms"),
            Figure(f"api_{call}_takes_p50_ms", via, "ms"),
            Figure(f"api_{call}_takes_p95_ms", p95(served[call]), "ms"),
            Figure(f"api_{call}_added_ms", via - alone, "ms", 15),
        ]
    report(figures)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
