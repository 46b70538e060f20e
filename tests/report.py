"""The resilience report: fault, race and abuse tests count what they tried and what survived.

Tests take the `chaos_report` fixture and call `chaos_report.add("kills_survived", 1)`;
at the end of the run a "Takes resilience report" block lists every counter. Lost items
and access mismatches must be zero: any other figure fails the run even if every test
passed (a test that counts a loss without asserting on it still cannot hide it).

Registered once from the conftests of tests/faults and tests/abuse (`register`).
"""

from __future__ import annotations

from collections import Counter

import pytest

# Printed in this order; anything else a test counts follows alphabetically.
COUNTERS = {
    "kills_survived": "worker kills survived (SIGKILL mid-step)",
    "faults_injected": "emulator faults injected",
    "generations_driven": "generations driven through faults",
    "flagged_for_ops": "generations flagged for ops (uncertain create)",
    "race_rounds": "concurrent race rounds",
    "bad_inputs_tried": "bad inputs tried (uploads, URLs, forms)",
    "access_checks": "access checks (URL × persona × method)",
    "csrf_checks": "unsafe requests without a CSRF token",
    "mismatches": "access or CSRF mismatches (must be 0)",
    "lost_items": "lost items: outputs, charges, transitions (must be 0)",
}
MUST_BE_ZERO = ("mismatches", "lost_items")
PLUGIN_NAME = "takes-resilience-report"


class ChaosReport:
    """Counters for one test run."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.details: list[str] = []

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount

    def note(self, line: str) -> None:
        """A line printed under the counters (e.g. which step each kill landed in)."""
        self.details.append(line)

    @property
    def failed(self) -> bool:
        return any(self.counts[name] for name in MUST_BE_ZERO)


_report = ChaosReport()


@pytest.fixture(scope="session")
def chaos_report() -> ChaosReport:
    return _report


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _report.counts and not _report.details:
        return
    write = terminalreporter.write_line
    terminalreporter.section("Takes resilience report")
    names = list(COUNTERS) + sorted(set(_report.counts) - set(COUNTERS))
    for name in names:
        if name in _report.counts or name in MUST_BE_ZERO:
            label = COUNTERS.get(name) or name.replace("_", " ")
            write(f"{_report.counts[name]:>8}  {label}")
    for line in _report.details:
        write(f"          {line}")
    if _report.failed:
        write("RESILIENCE REPORT FAILED: " + ", ".join(
            f"{n}={_report.counts[n]}" for n in MUST_BE_ZERO if _report.counts[n]), red=True, bold=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    if _report.failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def register(config) -> None:
    """Register this module as a plugin once, whichever conftest asks first."""
    import sys

    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(sys.modules[__name__], PLUGIN_NAME)
