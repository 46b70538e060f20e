"""The estimate a person sees is what Runway holds and what it finally charges, for every model.

For each model of the catalog, with representative inputs (real media, probed as uploaded),
the figure the form's estimate shows must equal the `estimatedCost` the emulator answered
the create call with and the credits the emulator finally kept for that task — its own
record, read from its control API, not our ledger — and our settled charge must equal it.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from credits.models import Hold
from generations import submit
from generations.models import Status
from runway import catalog
from tests.factories import drive, make_asset

PROMPT = "A red kite over a grey sea at dawn, slow pan"
#: Inputs whose length is not a whole second, so rounding up is exercised.
MEDIA = {"image": "image 1280x720", "video": "video 640x360 3.4s", "audio": "audio 6.5s"}


def _case(m: catalog.Model, **settings) -> tuple[str, str, dict]:
    return (m.endpoint, m.id, settings)


def _cases():
    # A routed request holds a ceiling until Runway names its model (test_avatars_and_routing).
    cases = [_case(m) for m in catalog.all_models() if not m.routed]
    veo = catalog.get_model("text_to_video", "veo3.1")
    fast = catalog.get_model("image_to_video", "veo3.1_fast")
    gen4 = catalog.get_model("text_to_image", "gen4_image")
    speech = catalog.get_model("text_to_speech", "eleven_multilingual_v2")
    turbo = catalog.get_model("image_to_video", "gen4_turbo")
    seedance = catalog.get_model("text_to_video", "seedance2")
    gen45_i2v = catalog.get_model("image_to_video", "gen4.5")
    gen45_t2v = catalog.get_model("text_to_video", "gen4.5")
    aleph = catalog.get_model("video_to_video", "aleph2")
    cases += [
        _case(veo, audio="", duration="8"),  # audio off: the lower rate
        _case(fast, audio="", duration="8"),
        _case(gen4, ratio="1280:720"),  # 720p-class
        _case(gen4, ratio="1920:1080"),  # 1080p-class
        _case(speech, prompt_text="x" * 51),  # two blocks of 50
        _case(turbo, duration=""),  # nothing sent: Runway's default length
        _case(veo, duration=""),  # veo's duration is optional: Runway's default of 8 s
        _case(fast, duration="", audio=""),
        _case(seedance, duration=""),  # nothing sent: Runway's default of 5 s
        # Output-format surcharges per second, from the SDK's docstrings:
        _case(gen45_i2v, output_format="prores", prores_profile="422 HQ"),  # +5
        _case(gen45_t2v, output_format="prores"),
        _case(gen45_i2v, output_format="hdr10"),  # +20: 10-bit and deeper
        _case(gen45_t2v, output_format="hdr10"),
        _case(aleph, output_format="prores"),  # +5, on the input's rounded-up 3.4 s
    ]
    return cases


CASES = _cases()


def _raw(m: catalog.Model, settings: dict, assets: dict[str, int]) -> dict:
    """What the form posts: its defaults, a prompt, the chosen assets, then the case's settings."""
    raw: dict = {}
    for f in m.fields:
        if f.kind in ("asset", "assets"):
            if f.required:
                chosen = str(assets[f.media_kinds[0]])
                raw[f.name] = [chosen] if f.kind == "assets" else chosen
        elif f.kind == "text" and f.name in ("prompt_text", "speech_text"):
            raw[f.name] = PROMPT  # an avatar's script is priced by its length
        elif f.kind == "bool":
            raw[f.name] = "on" if f.default else ""
        elif f.default is not None:
            raw[f.name] = str(f.default)
    raw.update(settings)
    return raw


@pytest.fixture
def media(project, funded, tmp_path, media_root):
    return {kind: make_asset(project, funded, spec, tmp_path / kind).pk for kind, spec in MEDIA.items()}


def _shown_then_run(client, project, user, endpoint: str, model_id: str, raw: dict):
    """The figure the form's estimate shows, then the generation submitted and driven to its end."""
    m = catalog.get_model(endpoint, model_id)
    shown = client.get(reverse("generations:estimate", args=[project.slug]),
                       {"endpoint": endpoint, "model": model_id, **raw})
    assert shown.status_code == 200
    figure = int(re.search(r": (\d+) credits?</h3>", shown.content.decode()).group(1))
    params, errors = catalog.clean_params(m, raw)
    assert errors == {}
    generation = submit.submit_generation(project=project, user=user, endpoint=endpoint, model=model_id,
                                          params=params)
    return figure, drive(generation)


@pytest.mark.parametrize("endpoint", ["image_to_video", "text_to_video"])
def test_seedance2_auto_duration_holds_the_maximum_and_settles_at_runways_charge(
        endpoint, runway_emulator, project, funded, owner_client, media):
    """"auto" is billed at 15 s up front; Runway refunds the unused seconds, and so do we."""
    m = catalog.get_model(endpoint, "seedance2")
    figure, generation = _shown_then_run(owner_client, project, funded, endpoint, "seedance2",
                                         _raw(m, {"duration": "auto"}, media))
    assert generation.status == Status.SUCCEEDED, generation.failure_message or generation.attention_reason
    assert generation.request_payload["duration"] == "auto"
    task = {c["id"]: c for c in runway_emulator.charges()}[generation.runway_task_id]
    hold = Hold.objects.get(generation=generation)
    assert figure == 15 * 36 == generation.estimated_credits == task["estimate"]
    assert hold.charged == task["charged"] < figure


@pytest.mark.every_model
@pytest.mark.parametrize(("endpoint", "model_id", "choices"), CASES,
                         ids=[f"{e}/{m}" + ("-" + "-".join(f"{k}={v}"[:16] for k, v in s.items()) if s else "")
                              for e, m, s in CASES])
def test_the_estimate_shown_is_runways_hold_and_charge(endpoint, model_id, choices, runway_emulator, project,
                                                        funded, owner_client, media):
    m = catalog.get_model(endpoint, model_id)
    figure, generation = _shown_then_run(owner_client, project, funded, endpoint, model_id,
                                         _raw(m, choices, media))
    assert generation.status == Status.SUCCEEDED, generation.failure_message or generation.attention_reason

    task = {c["id"]: c for c in runway_emulator.charges()}[generation.runway_task_id]
    hold = Hold.objects.get(generation=generation)
    seen = {"held": generation.estimated_credits, "Runway's estimatedCost": task["estimate"],
            "Runway's charge": task["charged"], "our charge": hold.charged}
    assert seen == dict.fromkeys(seen, figure), f"the form showed {figure}"
