"""Avatar videos and routed generations go through the same pipeline as any generation.

Each one is posted through the generation form, run against the emulator over HTTP through
the official SDK, copied into storage and settled. The independent truth is the emulator's
own record of each task (`charges()`: the model that ran, its estimate and the credits it
kept) and the body the SDK sent, never our ledger or our catalog.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.actions import create_team_project
from assets.media import probe
from credits.models import Hold, Kind, LedgerEntry
from generations import submit
from generations.models import Generation, Status
from library import actions as library
from library.models import Avatar, Readiness, RouterConfig, Voice
from runway import catalog
from runway import client as runway
from tests.factories import drive, make_asset

pytestmark = pytest.mark.django_db

SCRIPT = "Welcome to the studio. Today we light a product shot with one soft key light."
PROMPT = "A paper boat drifting down a rain-soaked street at dusk, neon reflections"
VOICE_PROMPT = "A warm, low narrator voice with a slight rasp and an easy pace"


def _post(client, project, endpoint: str, model: str, data: dict):
    return client.post(reverse("generations:new", args=[project.slug]),
                       {"endpoint": endpoint, "model": model, **data})


def _submitted(response, project) -> Generation:
    assert response.status_code == 302, response.content.decode()[:2000]
    return Generation.objects.in_project(project).latest("pk")


def _task(runway_emulator, generation) -> dict:
    return {c["id"]: c for c in runway_emulator.charges()}[generation.runway_task_id]


def _ready(runway_emulator, item: Voice | Avatar) -> None:
    """Let Runway finish processing the object, then follow it as the pages do."""
    runway_emulator.advance_clock(600)
    library.refresh_items([item])
    item.refresh_from_db()
    assert item.status == Readiness.READY, item.failure


@pytest.fixture
def image(project, funded, tmp_path, media_root):
    return make_asset(project, funded, "image 1280x720", tmp_path / "image")


@pytest.fixture
def voice(runway_emulator, project, funded):
    made = library.keep_voice(project=project, user=funded, model="eleven_ttv_v3", prompt=VOICE_PROMPT,
                              name="Narrator")
    _ready(runway_emulator, made)
    return made


@pytest.fixture
def avatar(runway_emulator, project, funded, image, voice):
    made = library.create_avatar(project=project, user=funded, name="Ada", personality="A cheerful studio host",
                                 start_script="", image=image, voice=voice.choice_value,
                                 image_processing="optimize")
    _ready(runway_emulator, made)
    return made


def _router(project, user, name: str = "Cheap video", **settings) -> RouterConfig:
    return library.create_router(project=project, user=user, name=name, description="",
                                 settings=runway.RouterSettings(**settings))


# --- avatar videos ----------------------------------------------------------------------------


def test_an_avatar_video_from_a_script_is_held_charged_and_kept_like_any_generation(
        runway_emulator, project, funded, owner_client):
    generation = drive(_submitted(_post(owner_client, project, "avatar_videos", "gwm1_avatars",
                                        {"avatar": "influencer", "speech_text": SCRIPT}), project))
    assert generation.status == Status.SUCCEEDED, generation.failure_message or generation.attention_reason
    assert generation.request_payload == {
        "model": "gwm1_avatars", "avatar": {"type": "runway-preset", "presetId": "influencer"},
        "speech": {"type": "text", "text": SCRIPT}}
    task = _task(runway_emulator, generation)
    hold = Hold.objects.get(generation=generation)
    assert (task["model"], task["endpoint"]) == ("gwm1_avatars", "avatar_videos")
    assert generation.estimated_credits == task["estimate"] == task["charged"] == hold.charged > 0
    output = generation.outputs.get()
    info = probe(output.file.path, delivered=True)
    assert info.kind == "video" and info.has_audio and info.duration > 1


def test_an_avatar_video_of_the_projects_own_avatar_speaks_in_its_own_voice(
        runway_emulator, project, funded, owner_client, avatar, voice):
    form = owner_client.get(reverse("generations:new", args=[project.slug]),
                            {"endpoint": "avatar_videos", "avatar": avatar.choice_value})
    page = form.content.decode()
    assert f'value="{avatar.choice_value}" selected' in page  # the avatar page's link chose it
    assert f'value="{voice.choice_value}"' in page and "This project&#x27;s voices" in page
    generation = drive(_submitted(_post(owner_client, project, "avatar_videos", "gwm1_avatars", {
        "avatar": avatar.choice_value, "speech_text": SCRIPT, "speech_voice": voice.choice_value}), project))
    assert generation.status == Status.SUCCEEDED, generation.failure_message or generation.attention_reason
    assert generation.request_payload["avatar"] == {"type": "custom", "avatarId": avatar.runway_id}
    assert generation.request_payload["speech"] == {"type": "text", "text": SCRIPT,
                                                    "voice": {"type": "custom", "id": voice.runway_id}}
    assert Hold.objects.get(generation=generation).charged == _task(runway_emulator, generation)["charged"]


def test_an_avatar_video_from_a_recording_is_priced_by_the_recordings_length(
        runway_emulator, project, funded, owner_client, tmp_path, media_root):
    recording = make_asset(project, funded, "audio 6.5s", tmp_path / "audio")
    shown = owner_client.get(reverse("generations:estimate", args=[project.slug]), {
        "endpoint": "avatar_videos", "model": "gwm1_avatars", "avatar": "tennis-coach",
        "speech_audio": recording.pk})
    generation = drive(_submitted(_post(owner_client, project, "avatar_videos", "gwm1_avatars",
                                        {"avatar": "tennis-coach", "speech_audio": recording.pk}), project))
    assert generation.status == Status.SUCCEEDED, generation.failure_message or generation.attention_reason
    task = _task(runway_emulator, generation)
    assert f"{task['charged']} credits" in shown.content.decode()
    assert generation.estimated_credits == task["estimate"] == task["charged"] == 7 * 5  # 6.5 s, started seconds
    assert generation.request_payload["speech"]["type"] == "audio"


@pytest.mark.parametrize("data", [
    {"speech_text": SCRIPT, "speech_audio": "recording"},  # both
    {},  # neither
])
def test_an_avatar_video_needs_a_script_or_a_recording(project, funded, owner_client, tmp_path, media_root, data):
    if "speech_audio" in data:
        data = {**data, "speech_audio": make_asset(project, funded, "audio 3s", tmp_path / "a").pk}
    response = _post(owner_client, project, "avatar_videos", "gwm1_avatars", {"avatar": "influencer", **data})
    assert response.status_code == 400
    assert "needs a script or a recording to speak" in response.content.decode() or \
        "takes a script or a recording to speak, not both" in response.content.decode()
    assert not Generation.objects.exists() and not Hold.objects.exists()


def test_another_projects_avatar_voice_or_router_is_refused_and_nothing_is_held(
        runway_emulator, project, funded, owner_client, stranger):
    elsewhere = create_team_project(user=stranger, name="Elsewhere")
    theirs = Avatar.objects.create(project=elsewhere, created_by=stranger, runway_id="a" * 36, name="Theirs",
                                   personality="x", status=Readiness.READY)
    their_voice = Voice.objects.create(project=elsewhere, created_by=stranger, runway_id="v" * 36, name="Theirs",
                                       prompt=VOICE_PROMPT, design_model="eleven_ttv_v3", status=Readiness.READY)
    their_router = RouterConfig.objects.create(project=elsewhere, created_by=stranger, runway_id="r" * 36,
                                               name="Theirs", slug="elsewhere-theirs")
    for endpoint, model, data, message in [
        ("avatar_videos", "gwm1_avatars", {"avatar": theirs.choice_value, "speech_text": SCRIPT},
         "not one of this project&#x27;s ready avatars"),
        ("avatar_videos", "gwm1_avatars", {"avatar": "influencer", "speech_text": SCRIPT,
                                           "speech_voice": their_voice.choice_value},
         "not one of this project&#x27;s ready voices"),
        ("generate_video", catalog.ROUTED, {"config_id": their_router.choice_value, "prompt_text": PROMPT},
         "router configuration is not in this project"),
        ("generate_video", catalog.ROUTED, {"config_id": "custom:no-such-router", "prompt_text": PROMPT},
         "router configuration is not in this project"),
    ]:
        response = _post(owner_client, project, endpoint, model, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert not Generation.objects.exists() and not Hold.objects.exists()
    assert runway_emulator.charges() == []


# --- routed generations -----------------------------------------------------------------------


def test_a_routed_video_runs_and_is_charged_as_the_model_runway_chose(
        runway_emulator, project, funded, owner_client):
    router = _router(project, funded)
    generation = _submitted(_post(owner_client, project, "generate_video", catalog.ROUTED, {
        "config_id": router.choice_value, "prompt_text": PROMPT, "duration": "5"}), project)
    ceiling = generation.estimated_credits
    generation = drive(generation)
    assert generation.status == Status.SUCCEEDED, generation.failure_message or generation.attention_reason
    assert generation.request_payload == {"configId": router.slug, "input": {"promptText": PROMPT, "duration": 5}}
    task = _task(runway_emulator, generation)
    assert generation.model == task["model"] != catalog.ROUTED
    assert catalog.get_model(task["endpoint"], task["model"])  # a model of the catalog ran
    # Held at the most the choice could cost, then at Runway's estimate, and charged what Runway kept.
    assert ceiling >= task["estimate"] == generation.estimated_credits
    assert Hold.objects.get(generation=generation).charged == task["charged"]
    charge = LedgerEntry.objects.get(generation=generation, kind=Kind.SETTLE)
    assert charge.model == task["model"] and charge.credits == task["charged"]
    label = catalog.model_label(task["model"])
    page = owner_client.get(generation.get_absolute_url()).content.decode()
    assert f"{label} (chosen by Runway)" in page
    gallery = owner_client.get(reverse("gallery:index", args=[project.slug]), {"model": task["model"]})
    assert gallery.status_code == 200 and f"{label} (chosen by Runway)" in gallery.content.decode()


def test_a_routers_cap_lowers_what_is_held_before_runway_answers(runway_emulator, project, funded, owner_client):
    router = _router(project, funded, name="Capped images", caps={"image": 6})
    data = {"config_id": router.choice_value, "prompt_text": PROMPT, "output_count": "2"}
    unlimited = catalog.routed_ceiling(catalog.get_model("generate_image", catalog.ROUTED), {"output_count": 2})
    assert unlimited > 12  # so the cap is what decides
    shown = owner_client.get(reverse("generations:estimate", args=[project.slug]),
                             {"endpoint": "generate_image", "model": catalog.ROUTED, **data})
    assert "12 credits" in shown.content.decode()
    generation = _submitted(_post(owner_client, project, "generate_image", catalog.ROUTED, data), project)
    assert Hold.objects.get(generation=generation).amount == generation.estimated_credits == 2 * 6
    generation = drive(generation)
    assert generation.status == Status.SUCCEEDED, generation.failure_message or generation.attention_reason
    task = _task(runway_emulator, generation)
    assert Hold.objects.get(generation=generation).charged == task["charged"] <= 12
    assert generation.outputs.count() == 2


def test_a_routed_generation_is_retried_and_reused_routed(runway_emulator, project, funded, owner_client):
    router = _router(project, funded)
    failed = drive(_submitted(_post(owner_client, project, "generate_image", catalog.ROUTED, {
        "config_id": router.choice_value, "prompt_text": f"{PROMPT} [fail]"}), project))
    assert failed.status == Status.FAILED and failed.model != catalog.ROUTED
    again = submit.retry_generation(generation=failed, user=funded)
    assert again.model == catalog.ROUTED and again.endpoint == "generate_image"
    form = owner_client.get(reverse("generations:new", args=[project.slug]), {"reuse": failed.pk})
    assert form.status_code == 200 and f'value="{router.choice_value}" selected' in form.content.decode()


def test_routed_audio_speaks_in_a_preset_voice(runway_emulator, project, funded, owner_client):
    router = _router(project, funded, name="Speech")
    generation = drive(_submitted(_post(owner_client, project, "generate_audio", catalog.ROUTED, {
        "config_id": router.choice_value, "type": "speech", "prompt_text": SCRIPT, "voice": "Maya"}), project))
    assert generation.status == Status.SUCCEEDED, generation.failure_message or generation.attention_reason
    assert generation.request_payload["input"]["voice"] == {"type": "preset", "presetId": "Maya"}
    task = _task(runway_emulator, generation)
    assert generation.model == task["model"]
    assert Hold.objects.get(generation=generation).charged == task["charged"]
