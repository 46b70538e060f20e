"""Faults on demand: HTTP errors, latency, dropped connections, failing and hanging tasks, URLs."""

from __future__ import annotations

import time

import httpx
import pytest
import runwayml
from runwayml import RunwayML

from emulator.testing import EmulatorServer

from .conftest import API_KEY


def test_429_with_retry_after_is_retried_by_the_sdk(server, control):
    control.inject_fault(path="/v1/organization", status=429, retry_after=0.01, count=1)
    sdk = RunwayML(api_key=API_KEY, base_url=server.url, max_retries=1)
    assert sdk.organization.retrieve().credit_balance == 100_000
    assert control.state()["requests"]["GET /v1/organization"] == 2


def test_429_carries_retry_after(raw, control):
    control.inject_fault(path="/v1/*", status=429, retry_after=2, count=1)
    response = raw.get("/v1/organization")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert "error" in response.json()


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_raises_internal_server_error(client, control, status):
    control.inject_fault(path="/v1/tasks/*", method="GET", status=status)
    with pytest.raises(runwayml.InternalServerError):
        client.tasks.retrieve("3fa85f64-5717-4562-b3fc-2c963f66afa6")


def test_should_retry_header(raw, control):
    control.inject_fault(path="*", status=503, should_retry=False)
    assert raw.get("/v1/organization").headers["x-should-retry"] == "false"


def test_fault_count_is_consumed(raw, control):
    control.inject_fault(path="/v1/organization", status=503, count=2)
    codes = [raw.get("/v1/organization").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert control.state()["faults"] == []


def test_added_latency(raw, control):
    control.inject_fault(path="/v1/organization", latency_ms=150)
    started = time.perf_counter()
    assert raw.get("/v1/organization").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_dropped_connection(client, control):
    control.inject_fault(path="/v1/organization", drop_connection=True)
    with pytest.raises(runwayml.APIConnectionError):
        client.organization.retrieve()


def test_fault_after_the_work_duplicates_a_retried_create(server, control):
    control.inject_fault(path="/v1/text_to_image", status=502, after=True, retry_after=0.01)
    sdk = RunwayML(api_key=API_KEY, base_url=server.url, max_retries=1)
    sdk.text_to_image.create(model="gen4_image", prompt_text="a fox", ratio="720:720")
    assert control.state()["tasks_created"] == {"gen4_image": 2}


def test_task_fault_fails_the_next_task(client, control):
    control.inject_fault(task={"fail_code": "THIRD_PARTY.UNAVAILABLE"})
    first = client.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
    second = client.text_to_image.create(model="gen4_image", prompt_text="b", ratio="720:720")
    control.advance_clock(600)
    assert client.tasks.retrieve(first.id).failure_code == "THIRD_PARTY.UNAVAILABLE"
    assert client.tasks.retrieve(second.id).status == "SUCCEEDED"


def test_task_fault_hang(client, control):
    control.inject_fault(task={"hang": True, "model": "gen4_image"})
    task = client.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
    control.advance_clock(100_000)
    assert client.tasks.retrieve(task.id).status == "RUNNING"


def test_expire_outputs_then_fresh_urls_work(client, control):
    task = client.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
    control.advance_clock(600)
    old = client.tasks.retrieve(task.id).output[0]
    control.expire_outputs()
    assert httpx.get(old).status_code == 403
    fresh = client.tasks.retrieve(task.id).output[0]
    assert httpx.get(fresh).status_code == 200


def test_output_urls_expire_with_the_ttl(client, control):
    task = client.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
    control.advance_clock(600)
    url = client.tasks.retrieve(task.id).output[0]
    control.advance_clock(24 * 3600 + 1)
    assert httpx.get(url).status_code == 403
    assert httpx.get(client.tasks.retrieve(task.id).output[0]).status_code == 200


def test_tampered_output_url_is_403(client, control):
    task = client.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
    control.advance_clock(600)
    url = client.tasks.retrieve(task.id).output[0]
    assert httpx.get(url.replace("exp=", "exp=9")).status_code == 403


def test_expired_output_task_fault(client, control):
    task = client.text_to_image.create(model="gen4_image", prompt_text="a [expire]", ratio="720:720")
    control.advance_clock(600)
    assert httpx.get(client.tasks.retrieve(task.id).output[0]).status_code == 403


def test_output_redirect_fault(client, control):
    task = client.text_to_image.create(model="gen4_image", prompt_text="a [redirect]", ratio="720:720")
    control.advance_clock(600)
    response = httpx.get(client.tasks.retrieve(task.id).output[0])
    assert response.status_code == 302
    assert response.headers["location"].startswith("http://169.254.169.254/")


def test_process_wide_fault_options():
    with EmulatorServer(error_rate=1.0, error_status=502, faults=[
            {"path": "/v1/tasks/*", "status": 429, "count": None}]) as faulty:
        sdk = RunwayML(api_key=API_KEY, base_url=faulty.url, max_retries=0)
        with pytest.raises(runwayml.RateLimitError):
            sdk.tasks.retrieve("3fa85f64-5717-4562-b3fc-2c963f66afa6")
        with pytest.raises(runwayml.InternalServerError):
            sdk.organization.retrieve()


def test_fail_rate_option():
    with EmulatorServer(fail_rate=1.0, speed=0) as failing:
        sdk = RunwayML(api_key=API_KEY, base_url=failing.url, max_retries=0)
        task = sdk.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
        assert sdk.tasks.retrieve(task.id).status == "FAILED"


def test_bad_fault_spec_is_400(server, control):
    response = httpx.post(f"{server.url}/_emulator/faults", json={"nonsense": 1})
    assert response.status_code == 400
