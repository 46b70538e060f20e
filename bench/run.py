"""`make bench`: run every bench/bench_*.py in turn, then print all their figures and a table.

Each benchmark is its own subprocess (its own temp data dir, servers and memory). Figure
lines are `name value unit target pass|fail` (`-` when a figure has no target). Benchmarks
inform; they never fail the build, so this exits 0 whatever a target or a script did.

    python bench/run.py                  # everything
    python bench/run.py pipeline sweep   # only bench_pipeline.py and bench_sweep.py
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from common import FIGURE_LINE

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
ORDER = ["emulator", "pipeline", "throughput", "sweep", "poller", "status", "feed", "gallery", "api", "scale", "media", "memory", "images"]
TIMEOUT = 300  # each script is meant to take under two minutes


def scripts(wanted: list[str]) -> list[Path]:
    found = {p.stem.removeprefix("bench_"): p for p in BENCH.glob("bench_*.py")}
    names = [n for n in ORDER if n in found] + sorted(n for n in found if n not in ORDER)
    if wanted:
        names = [n for n in names if n in wanted]
    return [found[n] for n in names]


def run_one(path: Path) -> tuple[list[tuple[str, ...]], str, float]:
    """Run one benchmark, echoing its output; returns (figures, outcome, seconds)."""
    print(f"\n=== {path.name} ===", flush=True)
    started = time.monotonic()
    figures: list[tuple[str, ...]] = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, str(path)], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            line = line.rstrip("\n")
            print(line, flush=True)
            match = FIGURE_LINE.match(line)
            if match:
                figures.append(match.groups())
            if time.monotonic() - started > TIMEOUT:
                raise subprocess.TimeoutExpired(process.args, TIMEOUT)
        process.wait(timeout=max(1, TIMEOUT - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()
        return figures, f"timed out after {TIMEOUT} s", time.monotonic() - started
    except KeyboardInterrupt:
        os.killpg(process.pid, 9)
        raise
    seconds = time.monotonic() - started
    if process.returncode:
        return figures, f"error (exit {process.returncode})", seconds
    return figures, "ok", seconds


def main(argv: list[str]) -> int:
    print(f"Takes benchmarks on {platform.node()}: {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, database "
          f"{'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'SQLite'}", flush=True)
    results = []
    for path in scripts(argv):
        try:
            figures, outcome, seconds = run_one(path)
        except Exception as exc:  # a broken benchmark must not stop the others
            figures, outcome, seconds = [], f"could not run: {exc}", 0.0
        results.append((path.name, figures, outcome, seconds))

    print("\n=== figures ===")
    seen = set()
    for _, figures, _, _ in results:
        for figure in figures:
            if figure[0] not in seen:
                seen.add(figure[0])
                print(" ".join(figure))

    print("\n=== summary ===")
    print(f"{'figure':52} {'value':>10} {'unit':<9} {'target':>8}  result")
    for script, figures, outcome, seconds in results:
        print(f"-- {script} ({seconds:.0f} s, {outcome})")
        for name, value, unit, target, result in figures:
            print(f"{name:52} {value:>10} {unit:<9} {target:>8}  {result}")
    checked = [f for _, figures, _, _ in results for f in figures if f[3] != "-" and f[4] != "-"]
    passed = sum(f[4] == "pass" for f in checked)
    broken = [s for s, _, outcome, _ in results if outcome != "ok"]
    print(f"\n{passed} of {len(checked)} targets met"
          + (f"; did not finish: {', '.join(broken)}" if broken else ""))
    short = [f for f in checked if f[4] == "fail"]
    if short:
        print("fell short:")
        for name, value, unit, target, _ in short:
            print(f"  {name}: {value} {unit} against {target} ({shortfall(float(value), float(target))})")
    return 0


def shortfall(value: float, target: float) -> str:
    """How far a figure is from its target, in the target's own terms."""
    if target == 0:
        return f"{value:g} over"
    off = abs(value - target) / abs(target) * 100
    return f"{off:.0f} % {'over' if value > target else 'under'}"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
