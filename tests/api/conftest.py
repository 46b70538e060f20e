"""Takes served over real HTTP (`live_server`), a funded editor with a personal token, and SDK clients."""

import base64

import pytest
import runwayml

from accounts.actions import create_api_token
from credits import ledger
from tests.factories import media_file


@pytest.fixture
def funded(editor):
    ledger.grant(user=editor, amount=10_000, note="test credits")
    return editor


@pytest.fixture
def token(project, funded):
    _token, raw = create_api_token(user=funded, project=project, name="render farm")
    return raw


@pytest.fixture
def api(live_server, runway_emulator, media_root, token):
    """The official SDK pointed at Takes (no retries: a test sees each answer as it is)."""
    return runwayml.RunwayML(base_url=live_server.url, api_key=token, max_retries=0)


@pytest.fixture
def async_api(live_server, runway_emulator, media_root, token):
    return runwayml.AsyncRunwayML(base_url=live_server.url, api_key=token, max_retries=0)


@pytest.fixture
def png_data_uri(tmp_path):
    path = media_file(tmp_path / "in", "image 1280x720")
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
