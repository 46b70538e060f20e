"""The emulator as a service: command line, persistence across restarts, request counting."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from runwayml import RunwayML

from emulator.__main__ import parse_args
from emulator.testing import EmulatorServer

from .conftest import API_KEY, upload

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_every_option():
    result = subprocess.run([sys.executable, "-m", "emulator", "--help"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    for option in ("--port", "--host", "--speed", "--credits", "--data", "--tier", "--api-key",
                   "--fault", "--frozen-clock", "--no-render", "--output-ttl"):
        assert option in result.stdout


def test_options_map_onto_the_config(tmp_path):
    config = parse_args(["--port", "9000", "--speed", "0", "--credits", "5", "--data",
                         str(tmp_path / "s.db"), "--api-key", "key_a", "--fault",
                         '{"status": 503, "count": 2}'])
    assert (config.port, config.speed, config.credits) == (9000, 0.0, 5)
    assert config.api_keys == ["key_a"]
    assert config.faults == [{"status": 503, "count": 2}]
    assert config.base_url == "http://127.0.0.1:9000"


def test_state_survives_a_restart(tmp_path, image_path):
    data = tmp_path / "emulator.db"
    with EmulatorServer(data=data, speed=0) as first:
        sdk = RunwayML(api_key=API_KEY, base_url=first.url, max_retries=0)
        uri = upload(sdk, image_path)
        task = sdk.image_to_video.create(model="gen4_turbo", prompt_image=uri, ratio="1280:720")
        assert sdk.tasks.retrieve(task.id).status == "SUCCEEDED"
        balance = sdk.organization.retrieve().credit_balance
    with EmulatorServer(data=data, speed=0) as second:
        sdk = RunwayML(api_key=API_KEY, base_url=second.url, max_retries=0)
        assert sdk.tasks.retrieve(task.id).status == "SUCCEEDED"
        assert sdk.organization.retrieve().credit_balance == balance
        assert sdk.image_to_video.create(model="gen4_turbo", prompt_image=uri, ratio="1280:720").id
        usage = sdk.organization.retrieve_usage(start_date="2020-01-01", before_date="2020-03-01")
        assert usage.results == []
        state = second.control.state()
        assert state["tasks_created"] == {"gen4_turbo": 2}
        assert state["uploads"] == 1


def test_start_and_stop_are_quick():
    started = time.perf_counter()
    with EmulatorServer() as server:
        assert server.url.startswith("http://127.0.0.1:")
    assert time.perf_counter() - started < 1.0


def test_state_counts_requests_per_route(client, control):
    client.organization.retrieve()
    client.organization.retrieve()
    assert control.state()["requests"]["GET /v1/organization"] == 2
