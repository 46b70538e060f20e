"""Every generation endpoint of the catalog through the official SDK against Takes: created, run through
the pipeline, retrieved as Runway's SUCCEEDED task with Takes' output URLs, charged as the emulator charged."""

import base64
import uuid

import httpx
import pytest

from generations.models import Generation, Status
from runway import catalog
from runway import client as runway
from tests.factories import drive, media_file
from tests.generations.catalog_cases import valid_params

pytestmark = pytest.mark.django_db(transaction=True)

MIME = {".png": "image/png", ".mp4": "video/mp4", ".wav": "audio/wav"}
ENDPOINTS = [e for e in catalog.ENDPOINTS.values() if not any(m.routed for m in e.models)]


def data_uri(tmp_path, spec: str) -> str:
    path = media_file(tmp_path / "in", spec)
    return f"data:{MIME[path.suffix]};base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.mark.every_model
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.key)
def test_every_endpoint_makes_its_output_through_takes(endpoint, api, project, tmp_path, runway_emulator):
    spec = endpoint.default_model if isinstance(endpoint.default_model, catalog.Model) \
        else catalog.get_model(endpoint.key, endpoint.default_model)
    params = valid_params(spec)
    uris = {}
    for f in spec.fields:
        value = params.get(f.name)
        if f.kind == "asset" and isinstance(value, str):
            uris[value] = data_uri(tmp_path, value)
        elif f.kind == "assets" and isinstance(value, list):
            for v in value:
                uris[v] = data_uri(tmp_path, v)
    kinds = {v: v.split()[0] for v in uris}
    arguments = runway.build_arguments(model=spec, params=params, uri_for=lambda v: (uris[v], kinds[v]))
    task = getattr(api, endpoint.key).create(model=spec.id, **arguments)
    generation = Generation.objects.get(api_id=uuid.UUID(task.id))
    assert (generation.endpoint, generation.model) == (endpoint.key, spec.id)
    assert generation.inputs.count() == len(set(uris.values()))

    generation = drive(generation)
    assert generation.status == Status.SUCCEEDED, generation.failure_message
    done = api.tasks.retrieve(task.id)
    assert done.status == "SUCCEEDED"
    assert len(done.output) == generation.outputs.count() >= 1
    charged = {c["id"]: c["charged"] for c in runway_emulator.charges()}
    assert done.cost.credits == charged[generation.runway_task_id]
    assert httpx.get(done.output[0]).status_code == 200


@pytest.mark.parametrize("key", ["generate_video", "generate_image", "generate_audio"])
def test_a_router_the_project_lacks_is_refused(key, api, project):
    resource = getattr(api.generate, key.removeprefix("generate_"))
    with pytest.raises(Exception) as caught:
        resource.create(config_id="not-ours", input={"prompt_text": "x"} if key != "generate_audio"
                        else {"type": "speech", "prompt_text": "x"})
    assert caught.value.status_code == 400
    assert "router" in caught.value.body["error"] + str(caught.value.body.get("issues"))
    assert not Generation.objects.exists()
