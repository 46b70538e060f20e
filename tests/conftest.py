"""Shared fixtures: the four personas of a team project, and a signed-in client for each."""

import uuid

import pytest
from django.test import Client

from accounts.actions import create_team_project, ensure_personal_project
from accounts.models import Membership, Project, Role, User

PASSWORD = "a-long-test-password-42"


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Each test counts from zero: its rate-limit counters live under a cache prefix of its own.

    Ids repeat between tests (SQLite hands out the same ones after a rollback; a new PostgreSQL
    test database starts over) and the counters outlive a test (in the process's memory, or in
    Redis between runs), so without this one test's requests would count against another's.
    """
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def fresh_run_times(settings):
    """Each test learns models' run times from its own rows, not from what an earlier test's cache kept."""
    settings.RUN_TIME_CACHE_PREFIX = f"run-time-test-{uuid.uuid4().hex}:"


def make_user(username: str, **extra) -> User:
    user = User.objects.create_user(username=username, email=f"{username}@example.com", password=PASSWORD, **extra)
    ensure_personal_project(user=user)
    return user


@pytest.fixture
def owner(db) -> User:
    return make_user("olivia")


@pytest.fixture
def editor(db) -> User:
    return make_user("eddie")


@pytest.fixture
def viewer(db) -> User:
    return make_user("vera")


@pytest.fixture
def stranger(db) -> User:
    return make_user("stan")


@pytest.fixture
def project(owner, editor, viewer) -> Project:
    project = create_team_project(user=owner, name="Moonshot")
    Membership.objects.create(project=project, user=editor, role=Role.EDITOR)
    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    return project


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner) -> Client:
    return client_for(owner)


@pytest.fixture
def editor_client(editor) -> Client:
    return client_for(editor)


@pytest.fixture
def viewer_client(viewer) -> Client:
    return client_for(viewer)


@pytest.fixture
def stranger_client(stranger) -> Client:
    return client_for(stranger)


@pytest.fixture(scope="session")
def emulator_server():
    """One Runway emulator for the whole run, over real HTTP on loopback."""
    from emulator.testing import EmulatorServer

    server = EmulatorServer(speed=0).start()
    yield server
    server.stop()


@pytest.fixture
def runway_emulator(emulator_server, settings):
    """Point Takes at a freshly reset emulator; yields its control client."""
    control = emulator_server.control
    control.reset()
    settings.RUNWAYML_API_SECRET = ""
    settings.RUNWAY_USES_EMULATOR = True
    settings.RUNWAY_BASE_URL = emulator_server.url
    yield control
    control.clear_faults()


@pytest.fixture
def media_root(settings, tmp_path):
    """Filesystem storage in a fresh folder for this test."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(root), "base_url": "/media-not-public/"}},
    }
    return root
