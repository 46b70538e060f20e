"""Fixtures for the fault tests: a real emulator process, a real qcluster, a funded project."""

from __future__ import annotations

import secrets

import pytest

from credits import ledger
from tests import report
from tests.factories import make_asset
from tests.faults.harness import Cluster, EmulatorProcess
from tests.report import chaos_report  # noqa: F401  (fixture)


def pytest_configure(config):
    report.register(config)


@pytest.fixture
def queue_name(monkeypatch):
    """A queue of this test's own: jobs this process enqueues go where its cluster listens."""
    from django_q.conf import Conf

    name = f"takes-faults-{secrets.token_hex(4)}"
    # The cluster reads Q_NAME; django-q2 keys both the queue and the payload signature on it.
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    monkeypatch.setattr(Conf, "PREFIX", name)
    return name


@pytest.fixture
def emulator_process(tmp_path, settings):
    """The emulator as its own process (so it can be killed and restarted), Takes pointed at it."""
    emulator = EmulatorProcess(tmp_path).start()
    settings.RUNWAYML_API_SECRET = ""
    settings.RUNWAY_USES_EMULATOR = True
    settings.RUNWAY_BASE_URL = emulator.url
    settings.RUNWAY_EMULATOR_URL = emulator.url
    yield emulator
    emulator.stop()


@pytest.fixture
def cluster(transactional_db, tmp_path, queue_name, emulator_process, media_root):
    """A qcluster on the test database and media folder; stopped before the database is flushed."""
    cluster = Cluster(tmp_path, queue=queue_name, emulator_url=emulator_process.url, media_root=media_root)
    yield cluster
    cluster.stop()


@pytest.fixture
def funded(owner):
    ledger.grant(user=owner, amount=100_000, note="fault test credits")
    return owner


@pytest.fixture
def still(project, owner, tmp_path, media_root):
    """A real 1280×720 image asset of the project."""
    return make_asset(project, owner, "image 1280x720", tmp_path / "in")
