"""Every benchmark runs to its end: `bench/run.py` at the quick size (BENCH_QUICK=1).

`make bench` is only run by hand, so a benchmark broken by a change in the code it drives (a
renamed argument, a module shadowed by a variable) would go unseen until its figures were
wanted. Here each one runs at a small size, as its own subprocess on its own data, and must
exit cleanly with figures printed; the figures themselves mean nothing at this size.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"^-- (bench_\w+\.py) \((\d+) s, (.+)\)$")

pytestmark = [pytest.mark.slow, pytest.mark.bench]


def test_every_benchmark_runs_to_its_end_and_prints_figures():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "DJANGO_", "DATABASE_URL", "REDIS_URL", "TAKES_"))}
    result = subprocess.run([sys.executable, "bench/run.py"], cwd=ROOT, env={**env, "BENCH_QUICK": "1"},
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = result.stdout.split("=== summary ===")[-1].splitlines()
    outcomes = {m.group(1): m.group(3) for line in summary if (m := SUMMARY.match(line))}
    expected = {p.name for p in (ROOT / "bench").glob("bench_*.py")}
    assert set(outcomes) == expected, (sorted(expected - set(outcomes)), result.stdout[-3000:])
    broken = {name: outcome for name, outcome in outcomes.items() if outcome != "ok"}
    assert not broken, (broken, result.stdout[-6000:])
    # Every script printed figures: the line after each script's summary heading is one of its figures.
    for i, line in enumerate(summary):
        if SUMMARY.match(line):
            following = summary[i + 1] if i + 1 < len(summary) else ""
            assert following and not following.startswith("--"), f"{line} printed no figure"
