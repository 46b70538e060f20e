"""`--mock-unknown-ids`: an unknown id of any resource resolves to a fabricated object of the SDK's shape, as
Stainless's mock server answers, so the SDK's own generated suite can run against the emulator. Off by default;
validation still applies; known objects are served as they are."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import runwayml
from runwayml import RunwayML
from runwayml.types import (
    AvatarRetrieveResponse,
    AvatarUpdateResponse,
    RouterListRequestsResponse,
    RouterRetrieveResponse,
    RouterUpdateResponse,
    TaskRetrieveResponse,
    VoiceRetrieveResponse,
    VoiceUpdateResponse,
)
from runwayml.types.generate import AudioCreateResponse, ImageCreateResponse, VideoCreateResponse

from emulator import EmulatorConfig, models
from emulator.__main__ import parse_args
from emulator.testing import EmulatorServer

from .conftest import API_KEY
from .sdk_shapes import conform, conform_page, raw_json

IDS = ["182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", "id"]  # the generated suite's ids


@pytest.fixture(scope="module")
def mock_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(mock_unknown_ids=True, speed=0.0, max_video_side=160, max_image_side=128, fps=4) as running:
        yield running


@pytest.fixture
def mock(mock_server) -> Iterator[RunwayML]:
    mock_server.control.reset()
    with RunwayML(api_key=API_KEY, base_url=mock_server.url, max_retries=0) as sdk:
        yield sdk


def served(url: str, kind: str) -> bytes:
    response = httpx.get(url, timeout=120)
    assert response.status_code == 200 and response.headers["content-type"].startswith(kind), url
    return response.content


def test_the_flag_is_off_by_default():
    assert parse_args(["--mock-unknown-ids"]).mock_unknown_ids is True
    assert parse_args([]).mock_unknown_ids is False
    assert EmulatorConfig().mock_unknown_ids is False


@pytest.mark.parametrize("task_id", IDS)
def test_an_unknown_task_is_a_finished_one_with_a_real_output(mock, task_id):
    task = conform(TaskRetrieveResponse, raw_json(mock.tasks.with_raw_response.retrieve, task_id))
    assert (task.id, task.status) == (task_id, "SUCCEEDED")
    served(task.output[0], "image/png")
    assert mock.tasks.retrieve(task_id).created_at == task.created_at  # the same answer every time
    assert mock.tasks.delete(task_id) is None


@pytest.mark.parametrize("voice_id", IDS)
def test_an_unknown_voice(mock, voice_id):
    voice = conform(VoiceRetrieveResponse, raw_json(mock.voices.with_raw_response.retrieve, voice_id))
    assert (voice.id, voice.status) == (voice_id, "READY")
    served(voice.preview_url, "audio/mpeg")
    renamed = conform(VoiceUpdateResponse, raw_json(mock.voices.with_raw_response.update, voice_id, name="x",
                                                    description="x"))
    assert (renamed.name, renamed.description) == ("x", "x")
    assert mock.voices.delete(voice_id) is None


@pytest.mark.parametrize("avatar_id", IDS)
def test_an_unknown_avatar(mock, avatar_id):
    avatar = conform(AvatarRetrieveResponse, raw_json(mock.avatars.with_raw_response.retrieve, avatar_id))
    assert (avatar.id, avatar.status) == (avatar_id, "READY")
    served(avatar.reference_image_uri, "image/png")
    served(avatar.processed_image_uri, "image/png")
    updated = conform(AvatarUpdateResponse, raw_json(
        mock.avatars.with_raw_response.update, avatar_id, name="x", document_ids=["182bd5e5"],
        reference_image="https://example.com/reference.jpg", start_script="Hello!",
        voice={"preset_id": "adrian", "type": "runway-live-preset"}))
    assert (updated.name, updated.voice.preset_id) == ("x", "adrian")
    assert mock.avatars.delete(avatar_id) is None


@pytest.mark.parametrize("router_id", IDS)
def test_an_unknown_router_and_its_history(mock, router_id):
    router = conform(RouterRetrieveResponse, raw_json(mock.routers.with_raw_response.retrieve, router_id))
    assert router.id == router_id
    updated = conform(RouterUpdateResponse, raw_json(mock.routers.with_raw_response.update, router_id,
                                                     settings={"optimize_for": "latency"}))
    assert updated.settings.optimize_for == "latency"
    (item,) = conform_page(RouterListRequestsResponse,
                           raw_json(mock.routers.with_raw_response.list_requests, router_id, limit=1))
    assert item.status == "routed" and item.model
    assert mock.tasks.retrieve(item.task_id).status == "SUCCEEDED"
    assert mock.routers.delete(router_id) is None


@pytest.mark.parametrize(("endpoint", "inputs", "shape"), [
    ("video", {}, VideoCreateResponse),
    ("image", {"prompt_text": "x"}, ImageCreateResponse),
    ("audio", {"prompt_text": "x", "type": "speech"}, AudioCreateResponse),
])
def test_an_unknown_config_routes(mock, endpoint, inputs, shape):
    call = getattr(mock.generate, endpoint).with_raw_response.create
    created = conform(shape, raw_json(call, config_id="n6_", input=inputs))
    assert created.routing.config_id == "n6_"
    assert mock.tasks.retrieve(created.id).status == "SUCCEEDED"


def test_unknown_references_inside_requests_resolve(mock):
    mock.avatars.create(name="x", personality="A tutor.", reference_image="https://example.com/reference.jpg",
                        voice={"type": "custom", "id": IDS[0]})
    task = mock.avatar_videos.create(model="gwm1_avatars", avatar={"type": "custom", "avatarId": IDS[0]},
                                     speech={"type": "text", "text": "Hello", "voice": {"type": "custom", "id": "id"}})
    done = mock.tasks.retrieve(task.id)
    assert done.status == "SUCCEEDED"
    served(done.output[0], "video/mp4")
    image = mock.text_to_image.create(model="gen4_image", prompt_text="a fox", ratio="1024:1024",
                                      reference_images=[{"uri": "runway://uploads/never-made"}])
    assert mock.tasks.retrieve(image.id).status == "SUCCEEDED"
    assert mock.voices.create(from_={"audio": "runway://uploads/never-made", "type": "audio"}, name="x").id


def test_an_unknown_cursor_reads_as_the_first_page(mock):
    made = mock.voices.create(from_={"audio": "https://example.com/file", "type": "audio"}, name="x").id
    assert [v.id for v in mock.voices.list(limit=1, cursor="x").data] == [made]


def test_known_objects_are_served_as_they_are_and_validation_still_applies(mock):
    made = mock.voices.create(from_={"audio": "https://example.com/file", "type": "audio"}, name="mine").id
    assert mock.voices.retrieve(made).name == "mine"
    mock.voices.delete(made)
    assert mock.voices.retrieve(made).name != "mine"  # gone, so unknown: fabricated again
    with pytest.raises(runwayml.BadRequestError):
        mock.voices.preview(model="eleven_ttv_v3", prompt="short")
    with pytest.raises(runwayml.BadRequestError):
        mock.routers.create(slug="Not A Slug")
    assert mock.voices.preview(model="eleven_ttv_v3", prompt="x" * 20).url


@pytest.mark.parametrize(("resource", "call"), [
    ("tasks", "retrieve"), ("voices", "retrieve"), ("avatars", "retrieve"), ("routers", "retrieve"),
    ("voices", "delete"), ("avatars", "delete"), ("routers", "delete"), ("tasks", "delete"),
])
def test_without_the_flag_unknown_ids_are_404(client, resource, call):
    with pytest.raises(runwayml.NotFoundError):
        getattr(getattr(client, resource), call)(IDS[0])


def test_the_generated_suites_repeated_and_placeholder_router_values_are_taken(mock):
    """The generated suite creates `slug="slug"` in every router test and names model `"string"`."""
    settings = {"max_credits_per_generation": {"audio": 1, "image": 1, "video": 1},
                "models": {"ids": ["string"], "mode": "allow_new_except"}, "optimize_for": "cost", "schema_version": 1}
    first = mock.routers.create(slug="slug", description="description", name="x", settings=settings)
    second = mock.routers.create(slug="slug")
    assert first.id != second.id and first.settings.models.ids == ["string"]
    assert mock.routers.update(first.id, settings=settings).settings.models.ids == ["string"]
    assert mock.generate.image.create(config_id="slug", input={"prompt_text": "a fox"}).routing.config_id == "slug"


@pytest.mark.parametrize(("endpoint", "inputs"), [
    ("video", {"aspect_ratio": "16:9", "audio": True, "content_moderation": {"public_figure_threshold": "auto"},
               "duration": 2, "keyframes": [{"seconds": 0, "uri": "https://example.com/image.jpg",
                                             "range": {"end_seconds": 1, "start_seconds": 0}}],
               "negative_prompt": "negativePrompt", "prompt_text": "x",
               "reference_audio": [{"uri": "https://example.com/audio.mp3"}],
               "reference_images": [{"role": "first", "uri": "https://example.com/image.jpg"}],
               "reference_videos": [{"role": "source", "uri": "https://example.com/video.mp4"}],
               "resolution": "480p", "seed": 0}),
    ("audio", {"prompt_text": "x", "type": "speech", "duration": 0.5, "loop": True,
               "reference_audios": [{"uri": "https://example.com/audio.mp3"}],
               "voice": {"preset_id": "Maya", "type": "preset"}}),
])
def test_an_unknown_config_routes_even_what_no_model_takes(mock, endpoint, inputs):
    created = getattr(mock.generate, endpoint).create(config_id="n6_", input=inputs)
    assert mock.tasks.retrieve(created.id).status == "SUCCEEDED"
    assert created.routing.model in {c.model for c in models.ROUTER_CANDIDATES[f"generate/{endpoint}"]}
