"""Every generation endpoint and model, created through the official SDK and run to SUCCEEDED."""

from __future__ import annotations

import pytest

from emulator import models

from .conftest import finish, minimal, snake

SWEEP = [(endpoint, model) for endpoint, by_model in models.request_schemas().items()
         if endpoint not in models.ROUTER_ENDPOINTS for model in by_model]


@pytest.mark.parametrize(("endpoint", "model"), SWEEP, ids=[f"{e}-{m}" for e, m in SWEEP])
def test_every_model_runs_to_success(client, control, uris, endpoint, model):
    schema = models.request_schemas()[endpoint][model]
    body = minimal(schema, uris)
    kwargs = {snake(k): v for k, v in body.items()}
    created = getattr(client, endpoint).create(model=model, **kwargs)
    assert created.estimated_cost.credits > 0
    task = client.tasks.retrieve(created.id)
    assert task.status in ("PENDING", "THROTTLED")
    done = finish(control, client, created.id)
    assert done.status == "SUCCEEDED", done
    assert done.output and all(url.startswith("http://127.0.0.1:") for url in done.output)
    assert done.cost.credits <= created.estimated_cost.credits
    assert control.state()["tasks_created"] == {model: 1}


def test_every_endpoint_and_model_is_served():
    endpoints = set(models.request_schemas())
    assert endpoints == set(models.ENDPOINT_OUTPUT)
    assert len(SWEEP) > 90


@pytest.mark.parametrize("endpoint", ["video", "image", "audio"])
def test_router_endpoints_create_polled_tasks(client, control, uris, endpoint):
    inputs = {
        "video": {"promptText": "a fox runs", "referenceImages": [{"uri": uris["image"], "role": "first"}],
                  "duration": 5, "aspectRatio": "16:9"},
        "image": {"promptText": "a fox", "aspectRatio": "1:1"},
        "audio": {"type": "speech", "promptText": "hello there",
                  "voice": {"type": "preset", "presetId": "Maya"}},
    }[endpoint]
    created = getattr(client.generate, endpoint).create(config_id="default", input=inputs)
    assert created.routing.config_id == "default"
    assert created.routing.estimated_cost.credits > 0
    assert created.routing.resolved_settings.optimize_for == "quality"
    done = finish(control, client, created.id)
    assert done.status == "SUCCEEDED"


def test_router_unknown_config_is_404(client):
    import runwayml

    with pytest.raises(runwayml.NotFoundError) as caught:
        client.generate.image.create(config_id="nope", input={"promptText": "a fox"})
    assert caught.value.body["code"] == "router_config_not_found"


def test_router_price_ceiling_leaves_no_model(client):
    import runwayml

    with pytest.raises(runwayml.BadRequestError) as caught:
        client.generate.video.create(config_id="cheap", input={"promptText": "a fox", "duration": 10})
    assert caught.value.body["code"] == "no_eligible_model"
    assert caught.value.body["emptiedBy"] == ["price"]
