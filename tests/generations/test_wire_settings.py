"""Settings the SDK nests reach Runway in the SDK's shape, through the form and the pipeline.

`request_payload` is the body the SDK sent to the emulator (the create call's HTTP request);
the emulator validates it against the SDK's request types before it answers.
"""

from __future__ import annotations

import pytest

from generations import submit
from generations.models import Status
from runway import catalog
from tests.factories import drive, make_asset

MODERATED = [("character_performance", "act_two"), ("image_to_video", "gen4.5"),
             ("image_to_video", "gen4_turbo"), ("text_to_video", "gen4.5"),
             ("text_to_image", "gen4_image"), ("text_to_image", "gen4_image_turbo"),
             ("video_to_video", "aleph2")]
MEDIA = {"image": "image 1280x720", "video": "video 640x360 3.4s"}


@pytest.fixture
def media(project, funded, tmp_path, media_root):
    return {kind: make_asset(project, funded, spec, tmp_path / kind).pk for kind, spec in MEDIA.items()}


def _raw(m: catalog.Model, media: dict[str, int], **settings: str) -> dict:
    raw: dict = {"prompt_text": "A red kite over a grey sea"} if "prompt_text" in m.field_names else {}
    for f in m.fields:
        if f.kind in ("asset", "assets") and f.required:
            chosen = str(media[f.media_kinds[-1] if f.name == "reference" else f.media_kinds[0]])
            raw[f.name] = [chosen] if f.kind == "assets" else chosen
        elif f.kind != "bool" and f.default is not None and f.name not in raw:
            raw[f.name] = str(f.default)
    return {**raw, **settings}


def _run(project, user, endpoint: str, model_id: str, raw: dict):
    params, errors = catalog.clean_params(catalog.get_model(endpoint, model_id), raw)
    assert errors == {}
    generation = submit.submit_generation(project=project, user=user, endpoint=endpoint, model=model_id,
                                          params=params)
    generation = drive(generation)
    assert generation.status == Status.SUCCEEDED, generation.failure_message or generation.attention_reason
    return generation


@pytest.mark.parametrize(("endpoint", "model_id"), MODERATED, ids=[f"{e}/{m}" for e, m in MODERATED])
@pytest.mark.parametrize("threshold", ["low", "auto"])
def test_public_figure_threshold_is_sent_as_content_moderation(endpoint, model_id, threshold, runway_emulator,
                                                               project, funded, media):
    m = catalog.get_model(endpoint, model_id)
    generation = _run(project, funded, endpoint, model_id, _raw(m, media, content_moderation=threshold))
    assert generation.request_payload["contentModeration"] == {"publicFigureThreshold": threshold}


def test_no_threshold_chosen_sends_no_content_moderation(runway_emulator, project, funded, media):
    m = catalog.get_model("text_to_image", "gen4_image")
    generation = _run(project, funded, m.endpoint, m.id, _raw(m, media))
    assert "contentModeration" not in generation.request_payload


def test_an_unknown_threshold_is_refused_before_runway():
    m = catalog.get_model("text_to_image", "gen4_image")
    params, errors = catalog.clean_params(m, {"prompt_text": "a", "ratio": "1280:720", "content_moderation": "off"})
    assert errors == {}
    found = catalog.validate(m, params)
    assert list(found) == ["content_moderation"]
    assert "choose one of: auto or low" in found["content_moderation"][0]
