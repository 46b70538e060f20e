"""Durations are bounded exactly where the SDK's docstrings bound them, and nowhere else.

The ranges come from `runway/catalog/sdk_requests.json`, the snapshot of the installed SDK's
request types (a range is recorded only where a docstring states one, e.g. "from 2 to 10");
enum durations (Veo's 4/6/8) are the schema comparison's business. A duration the SDK does not
bound takes any positive value and renders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import runwayml

from emulator import models

from .conftest import finish, media_facts, minimal, snake, wav_seconds

SNAPSHOT = Path(__file__).resolve().parents[2] / "runway" / "catalog" / "sdk_requests.json"
SDK: dict[str, dict[str, dict[str, Any]]] = json.loads(SNAPSHOT.read_text())["endpoints"]


def numeric_kind(node: dict[str, Any]) -> str | None:
    """integer or number when the field takes a free number (alone or in a union), else None."""
    if "enum" in node:
        return None
    if node["type"] in ("integer", "number"):
        return node["type"]
    kinds = [o["type"] for o in node.get("options", ()) if o["type"] in ("integer", "number") and "enum" not in o]
    return kinds[0] if kinds else None


DURATIONS = [(endpoint, model, numeric_kind(fields["duration"]), fields["duration"].get("range"))
             for endpoint, by_model in SDK.items() for model, fields in sorted(by_model.items())
             if "duration" in fields and numeric_kind(fields["duration"])]
BOUNDED = [(e, m, k, r) for e, m, k, r in DURATIONS if r]
UNBOUNDED = [(e, m, k) for e, m, k, r in DURATIONS if not r]


def create(client, uris, endpoint: str, model: str, duration: float):
    body = minimal(models.request_schemas()[endpoint][model], uris)
    body["duration"] = duration
    return getattr(client, endpoint).create(model=model, **{snake(k): v for k, v in body.items()})


def refused(client, uris, endpoint: str, model: str, duration: float) -> dict:
    with pytest.raises(runwayml.BadRequestError) as caught:
        create(client, uris, endpoint, model, duration)
    (issue,) = caught.value.body["issues"]
    assert issue["path"] == ["duration"]
    return issue


def test_the_snapshot_states_the_documented_ranges():
    ranges = {(e, m): (r["min"], r["max"]) for e, m, _, r in BOUNDED}
    assert ranges[("text_to_video", "gen4.5")] == (2, 10)
    assert ranges[("image_to_video", "gemini_omni_flash_1.1")] == (3, 10)
    assert ranges[("sound_effect", "eleven_text_to_sound_v2")] == (0.5, 30)
    assert ("sound_effect", "mirelo_sfx_2_0", "number") in UNBOUNDED
    assert ("text_to_video", "seedance2", "integer") in UNBOUNDED
    assert len(UNBOUNDED) > 30


@pytest.mark.parametrize(("endpoint", "model", "kind", "stated"), BOUNDED, ids=[f"{e}-{m}" for e, m, _, _ in BOUNDED])
def test_a_documented_range_holds_at_both_ends(client, uris, endpoint, model, kind, stated):
    step = 1 if kind == "integer" else 0.1
    assert create(client, uris, endpoint, model, stated["min"]).id
    assert create(client, uris, endpoint, model, stated["max"]).id
    assert refused(client, uris, endpoint, model, stated["min"] - step)["code"] == "too_small"
    assert refused(client, uris, endpoint, model, stated["max"] + step)["code"] == "too_big"


@pytest.mark.parametrize(("endpoint", "model", "kind"), UNBOUNDED, ids=[f"{e}-{m}" for e, m, _ in UNBOUNDED])
def test_an_undocumented_range_takes_any_positive_duration(client, uris, endpoint, model, kind):
    small, large = (1, 90) if kind == "integer" else (0.1, 90.5)
    assert create(client, uris, endpoint, model, small).id
    assert create(client, uris, endpoint, model, large).id
    for value in (0, -1):
        issue = refused(client, uris, endpoint, model, value)
        assert issue["code"] == "too_small"
        assert issue["message"] == "Number must be greater than 0"


def test_mirelo_renders_the_tenth_of_a_second_the_sdk_examples_send(client, control):
    task = client.sound_effect.create(model="mirelo_sfx_2_0", prompt_text="a click", duration=0.1)
    done = finish(control, client, task.id)
    assert done.status == "SUCCEEDED"
    assert wav_seconds(httpx.get(done.output[0], timeout=60).content) == pytest.approx(0.1, abs=0.01)


def test_a_long_unbounded_duration_is_billed_in_full_and_rendered(client, control, tmp_path):
    short = client.text_to_video.create(model="kling3.0_pro", prompt_text="a slow river", ratio="1920:1080",
                                        duration=5)
    task = client.text_to_video.create(model="kling3.0_pro", prompt_text="a slow river", ratio="1920:1080",
                                       duration=75)
    assert task.estimated_cost.credits == 15 * short.estimated_cost.credits
    done = finish(control, client, task.id)
    assert done.status == "SUCCEEDED"
    assert done.cost.credits == task.estimated_cost.credits
    facts = media_facts(httpx.get(done.output[0], timeout=120).content, tmp_path, ".mp4")
    assert facts["video"]["codec"] == "h264"
    assert 5 <= facts["duration"] <= 75


@pytest.mark.parametrize(("endpoint", "inputs"), [
    ("video", {"promptText": "a fox runs", "duration": 40}),
    ("video", {"promptText": "a fox runs", "duration": 1}),
    ("audio", {"type": "audio", "promptText": "rain", "duration": 0.1}),
    ("audio", {"type": "audio", "promptText": "rain", "duration": 45.5}),
])
def test_router_durations_are_unbounded_as_in_the_sdk(client, endpoint, inputs):
    assert getattr(client.generate, endpoint).create(config_id="default", input=inputs).id


@pytest.mark.parametrize("endpoint", ["video", "audio"])
def test_router_durations_must_be_positive(client, endpoint):
    inputs = {"promptText": "x", "duration": 0, **({"type": "audio"} if endpoint == "audio" else {})}
    with pytest.raises(runwayml.BadRequestError) as caught:
        getattr(client.generate, endpoint).create(config_id="default", input=inputs)
    assert caught.value.body["issues"][0]["path"] == ["input", "duration"]
