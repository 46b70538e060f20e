"""Avatars through the SDK: made from an image and a voice (a live preset or a custom voice), processed on
the emulator's clock, listed by cursor pages, updated, deleted, with real image previews and a usage report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import httpx
import pytest
import runwayml
from PIL import Image
from runwayml import RunwayML
from runwayml.types import (
    AvatarCreateResponse,
    AvatarGetUsageResponse,
    AvatarListResponse,
    AvatarRetrieveResponse,
    AvatarUpdateResponse,
)

from emulator.testing import EmulatorServer

from .conftest import API_KEY, upload
from .sdk_shapes import conform, conform_page, raw_json
from .test_voices import design

LIVE = {"type": "runway-live-preset", "presetId": "victoria"}
UNKNOWN = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


def make(client, uris, name: str = "Ada", voice: dict | None = None, **extra) -> str:
    avatar = client.avatars.create(name=name, personality="A patient maths tutor.", reference_image=uris["image"],
                                   voice=voice or LIVE, **extra)
    return avatar.id


def retrieve(client, avatar_id: str):
    return conform(AvatarRetrieveResponse, raw_json(client.avatars.with_raw_response.retrieve, avatar_id))


def image_at(url: str) -> Image.Image:
    response = httpx.get(url, timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def test_an_avatar_is_processing_then_ready_with_image_previews(client, control, uris):
    created = conform(AvatarCreateResponse, raw_json(
        client.avatars.with_raw_response.create, name="Ada", personality="A patient maths tutor.",
        reference_image=uris["image"], voice=LIVE, start_script="Hello!", image_processing="optimize"))
    assert (created.status, created.name, created.start_script, created.document_ids) == (
        "PROCESSING", "Ada", "Hello!", [])
    assert (created.voice.type, created.voice.preset_id, created.voice.name) == (
        "runway-live-preset", "victoria", "Victoria")
    assert created.voice.description
    assert created.processed_image_uri is None
    assert max(image_at(created.reference_image_uri).size) <= 256
    control.advance_clock(600)
    ready = retrieve(client, created.id)
    assert ready.status == "READY" and ready.created_at == created.created_at
    processed = image_at(ready.processed_image_uri)
    assert processed.size[0] == processed.size[1] <= 256  # optimize: a square crop


def test_an_avatar_with_a_designed_voice_shows_it_and_its_deletion(client, control, uris):
    voice_id = design(client, name="Narrator", description="deep")
    avatar_id = make(client, uris, voice={"type": "custom", "id": voice_id})
    voice = retrieve(client, avatar_id).voice
    assert (voice.type, voice.id, voice.deleted, voice.name, voice.description) == (
        "custom", voice_id, False, "Narrator", "deep")
    client.voices.update(voice_id, name="Renamed")
    assert retrieve(client, avatar_id).voice.name == "Renamed"
    client.voices.delete(voice_id)
    voice = retrieve(client, avatar_id).voice
    assert (voice.deleted, voice.name, voice.description) == (True, None, None)
    raw = raw_json(client.avatars.with_raw_response.retrieve, avatar_id)["voice"]
    assert raw == {"type": "custom", "id": voice_id, "deleted": True}  # "name and description are omitted"


@pytest.mark.parametrize("voice_id", [UNKNOWN, "id"])
def test_an_unknown_custom_voice_is_refused(client, uris, voice_id):
    with pytest.raises(runwayml.BadRequestError) as caught:
        make(client, uris, voice={"type": "custom", "id": voice_id})
    assert voice_id in caught.value.body["error"] and "issues" not in caught.value.body


def test_a_deleted_voice_cannot_be_given_to_an_avatar(client, uris):
    voice_id = design(client)
    client.voices.delete(voice_id)
    with pytest.raises(runwayml.BadRequestError):
        make(client, uris, voice={"type": "custom", "id": voice_id})


def test_an_avatar_is_updated(client, control, uris):
    avatar_id = make(client, uris, start_script="Hi", document_ids=["doc-1"])
    control.advance_clock(600)
    before = retrieve(client, avatar_id)
    updated = conform(AvatarUpdateResponse, raw_json(
        client.avatars.with_raw_response.update, avatar_id, name="Grace", personality="A chess coach.",
        start_script=None, document_ids=["doc-2", "doc-3"], voice={"type": "runway-live-preset", "presetId": "leo"}))
    assert (updated.name, updated.personality, updated.start_script, updated.document_ids) == (
        "Grace", "A chess coach.", None, ["doc-2", "doc-3"])
    assert (updated.voice.preset_id, updated.status) == ("leo", "READY")
    assert updated.updated_at > before.updated_at and updated.created_at == before.created_at
    assert client.avatars.update(avatar_id).name == "Grace"


def test_a_new_reference_image_is_processed_again(client, control, uris):
    avatar_id = make(client, uris)
    control.advance_clock(600)
    again = client.avatars.update(avatar_id, reference_image=uris["image"], image_processing="none")
    assert again.status == "PROCESSING" and again.processed_image_uri is None
    control.advance_clock(600)
    assert retrieve(client, avatar_id).status == "READY"


def test_an_avatar_that_fails_processing_says_why(client, control, uris):
    avatar_id = make(client, uris, name="Ada [fail]")
    control.advance_clock(600)
    failed = retrieve(client, avatar_id)
    assert failed.status == "FAILED" and failed.failure_reason


def test_avatars_list_by_cursor_pages_and_deletion(client, uris):
    ids = [make(client, uris, name=f"A{n}") for n in range(3)]
    first = client.avatars.list(limit=2)
    conform_page(AvatarListResponse, raw_json(client.avatars.with_raw_response.list, limit=2))
    assert [a.id for a in first.data] == ids[::-1][:2] and first.next_cursor
    assert [a.id for a in client.avatars.list(limit=2)] == ids[::-1]
    assert client.avatars.delete(ids[1]) is None
    assert [a.id for a in client.avatars.list(limit=5)] == [ids[2], ids[0]]
    with pytest.raises(runwayml.NotFoundError):
        client.avatars.retrieve(ids[1])


@pytest.mark.parametrize("call", ["retrieve", "update", "delete"])
def test_unknown_avatar_ids_are_404(client, call):
    with pytest.raises(runwayml.NotFoundError) as caught:
        getattr(client.avatars, call)(UNKNOWN)
    assert caught.value.body == {"error": "Avatar not found."}


@pytest.mark.parametrize(("change", "path", "code"), [
    ({"personality": None}, ["personality"], "invalid_type"),
    ({"imageProcessing": "max"}, ["imageProcessing"], "invalid_enum_value"),
    ({"voice": {"type": "runway-live-preset", "presetId": "Maya"}}, ["voice", "presetId"], "invalid_enum_value"),
    ({"voice": {"type": "custom"}}, ["voice", "id"], "invalid_type"),
    ({"documentIds": "doc-1"}, ["documentIds"], "invalid_type"),
    ({"name": None}, ["name"], "invalid_type"),
])
def test_create_refusals_follow_the_sdk_types(raw, uris, change, path, code):
    body = {"name": "Ada", "personality": "A tutor.", "referenceImage": uris["image"], "voice": LIVE, **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = raw.post("/v1/avatars", json=body)
    assert response.status_code == 400
    issue = response.json()["issues"][0]
    assert (issue["path"], issue["code"]) == (path, code)


def test_a_reference_image_the_api_cannot_use_is_refused(client):
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.avatars.create(name="Ada", personality="A tutor.", reference_image="http://example.com/a.png",
                              voice=LIVE)
    assert "referenceImage" in caught.value.body["error"]


def test_usage_covers_every_day_of_the_range_with_zeroes(client):
    usage = conform(AvatarGetUsageResponse, raw_json(client.avatars.with_raw_response.get_usage,
                                                     start_date="2026-03-01", end_date="2026-03-04"))
    assert [d.date for d in usage.by_day] == [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
    assert all(d.sessions == d.seconds == 0 for d in usage.by_day)
    assert (usage.total_sessions, usage.total_seconds, usage.avg_duration_seconds) == (0, 0, 0)
    at_times = client.avatars.get_usage(start_date=dt.datetime(2026, 3, 1, 12), end_date=dt.datetime(2026, 3, 2, 12))
    assert [d.date for d in at_times.by_day] == [dt.date(2026, 3, 1), dt.date(2026, 3, 2)]


@pytest.mark.parametrize(("query", "path"), [
    ({"startDate": "2026-01-01", "endDate": "2026-04-02"}, ["endDate"]),
    ({"startDate": "2026-03-04", "endDate": "2026-03-01"}, ["endDate"]),
    ({"startDate": "2026-03-01"}, ["endDate"]),
    ({"endDate": "2026-03-01"}, ["startDate"]),
    ({"startDate": "March", "endDate": "2026-03-01"}, ["startDate"]),
])
def test_usage_refusals(raw, query, path):
    response = raw.get("/v1/avatar_usage", params=query)
    assert response.status_code == 400 and response.json()["issues"][0]["path"] == path


def test_avatars_survive_a_restart_with_their_image(server, image_path, tmp_path):
    config = dataclasses.replace(server.app.state.emulator.config, data=tmp_path / "state.sqlite3", port=0,
                                 public_base_url=None)
    with EmulatorServer(config) as first, RunwayML(api_key=API_KEY, base_url=first.url, max_retries=0) as sdk:
        voice_id = design(sdk)
        avatar_id = sdk.avatars.create(name="Ada", personality="A tutor.", reference_image=upload(sdk, image_path),
                                       voice={"type": "custom", "id": voice_id}).id
        first.control.advance_clock(600)
    with EmulatorServer(config) as second, RunwayML(api_key=API_KEY, base_url=second.url, max_retries=0) as sdk:
        avatar = retrieve(sdk, avatar_id)
        assert (avatar.status, avatar.voice.id, avatar.voice.deleted) == ("READY", voice_id, False)
        assert image_at(avatar.processed_image_uri).size == (256, 256)
        assert second.control.state()["records"]["avatar"] == 1
