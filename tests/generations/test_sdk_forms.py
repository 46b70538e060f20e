"""Every model of the SDK runs end to end through its form, with the form data built from the SDK's types.

Nothing here reads the catalog: what to post comes from `sdk_requests.json` (the installed
SDK's request types). For each model only its required fields are posted, each with a value
the SDK's type allows (the first of a Literal, the low end of a stated range, a real asset of
the media kind its docstring names for a URI), exactly as a browser posts a form: field name,
string value. The generation must succeed against the emulator, keep an output with a poster
that its gallery page plays in every browser, and the body the SDK sent must hold every field
the SDK requires.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from credits import ledger
from generations.models import Generation, Status
from tests.conftest import client_for
from tests.factories import drive, make_asset
from tests.generations.gen_helpers import assert_page_plays_everywhere

pytestmark = [pytest.mark.every_model, pytest.mark.django_db(transaction=False)]

SNAPSHOT = Path(__file__).resolve().parents[2] / "runway" / "catalog" / "sdk_requests.json"
SDK: dict[str, dict[str, dict[str, Any]]] = json.loads(SNAPSHOT.read_text())["endpoints"]
# The generation endpoints, whose form fields are the SDK's own; avatar videos and the router's
# requests (fields made of parts of the SDK's) run end to end in test_avatars_and_routing.
GENERATION_ENDPOINTS = ("image_to_video", "text_to_video", "video_to_video", "text_to_image", "image_upscale",
                        "video_upscale", "character_performance", "sound_effect", "text_to_speech",
                        "speech_to_speech", "voice_dubbing", "voice_isolation", "video_to_audio", "video_to_hdr")
CASES = [(endpoint, model) for endpoint, models in SDK.items() if endpoint in GENERATION_ENDPOINTS
         for model in models]
SPECS = {"image": "image 1280x720", "video": "video 640x360 3s", "audio": "audio 6s"}


def _media_kind(node: dict[str, Any]) -> str | None:
    """The media a URI field takes, as its docstring names it ("data:video/mp4;base64,...")."""
    text = json.dumps(node)
    for kind in ("image", "video", "audio"):
        if f"data:{kind}/" in text or f'"enum": ["{kind}"]' in text:
            return kind
    for kind in ("image", "video", "audio"):  # else the SDK's own name for it: prompt_image, video_uri
        if kind in node["python"]:
            return kind
    return None


def _value(node: dict[str, Any], asset) -> Any:
    """A value the SDK's type for this field allows, as a form posts it."""
    if "enum" in node:
        return str(node["enum"][0])
    kinds = {node["type"]} | {o["type"] for o in node.get("options", ())}
    bounds = node.get("range", {})
    named = [v for o in node.get("options", ()) for v in o.get("enum", ())]
    if named and kinds <= {"union", "string"}:
        return str(named[0])  # one of the values the SDK names (Seedream's ratio)
    if node["python"] == "voice" and "presetId" in node.get("fields", {}):
        return node["fields"]["presetId"]["enum"][0]
    media = _media_kind(node)
    if media and (kinds & {"union", "object", "array"} or "URI" in node.get("doc", "") or "uri" in node["python"]
                  or node["python"] in ("prompt_video",)):
        return str(asset(media).pk)
    if "integer" in kinds:
        return str(bounds.get("min", 5))
    if "number" in kinds:
        return str(bounds.get("min", 2.5))
    if "boolean" in kinds:
        return "on"
    return "A lighthouse on a cliff at dusk"


@pytest.mark.parametrize(("endpoint", "model"), CASES, ids=[f"{e}/{m}" for e, m in CASES])
def test_every_sdk_model_runs_from_its_required_fields(endpoint, model, project, owner, tmp_path, media_root,
                                                       runway_emulator):
    ledger.grant(user=owner, amount=100_000, note="tests")
    made: dict[str, Any] = {}

    def asset(kind: str):
        if kind not in made:
            made[kind] = make_asset(project, owner, SPECS[kind], tmp_path / kind)
        return made[kind]

    required = {n["python"]: n for n in SDK[endpoint][model].values() if n["required"]}
    data = {"endpoint": endpoint, "model": model, **{name: _value(node, asset) for name, node in required.items()}}
    response = client_for(owner).post(reverse("generations:new", args=[project.slug]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    generation = drive(Generation.objects.get())
    assert generation.status == Status.SUCCEEDED, (generation.failure_message, generation.request_payload)
    assert generation.outputs.exists()
    client = client_for(owner)
    for output in generation.outputs.all():  # each kept with a poster, and playable on its page
        assert output.thumbnail, output
        assert_page_plays_everywhere(client, output, tmp_path)
    wire = {w for w, n in SDK[endpoint][model].items() if n["required"]}
    assert wire <= set(generation.request_payload), (wire, generation.request_payload)
    assert generation.request_payload["model"] == model
