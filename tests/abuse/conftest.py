"""Fixtures for the abuse tests; they count what they tried in the resilience report."""

from tests import report
from tests.report import chaos_report  # noqa: F401  (fixture)


def pytest_configure(config):
    report.register(config)
