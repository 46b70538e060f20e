"""Custom voices through the SDK: designed from a description or cloned from a sample, processed on the
emulator's clock, listed by cursor pages, renamed, deleted and previewed, with real MP3 samples."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
import runwayml
from runwayml import RunwayML
from runwayml.types import (
    VoiceCreateResponse,
    VoiceListResponse,
    VoicePreviewResponse,
    VoiceRetrieveResponse,
    VoiceUpdateResponse,
)

from emulator.testing import EmulatorServer

from .conftest import API_KEY, media_facts
from .sdk_shapes import conform, conform_page, raw_json

DESCRIPTION = "A warm, low narrator voice with a slight rasp"
TEXT = {"type": "text", "model": "eleven_ttv_v3", "prompt": DESCRIPTION}
UNKNOWN = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


def design(client: RunwayML, name: str = "Narrator", prompt: str = DESCRIPTION, **extra) -> str:
    return client.voices.create(from_={**TEXT, "prompt": prompt}, name=name, **extra).id


def retrieve(client: RunwayML, voice_id: str):
    return conform(VoiceRetrieveResponse, raw_json(client.voices.with_raw_response.retrieve, voice_id))


def issues_of(caught: pytest.ExceptionInfo) -> list[dict]:
    return caught.value.body["issues"]


def test_a_designed_voice_is_processing_then_ready_with_an_mp3_sample(client, control, tmp_path):
    created = conform(VoiceCreateResponse, raw_json(client.voices.with_raw_response.create, from_=TEXT,
                                                    name="Narrator", description="for trailers"))
    first = retrieve(client, created.id)
    assert (first.status, first.name, first.description) == ("PROCESSING", "Narrator", "for trailers")
    control.advance_clock(600)
    ready = retrieve(client, created.id)
    assert ready.status == "READY" and ready.created_at == first.created_at
    sample = httpx.get(ready.preview_url, timeout=60)
    assert sample.status_code == 200 and sample.headers["content-type"] == "audio/mpeg"
    facts = media_facts(sample.content, tmp_path, ".mp3")
    assert facts["audio"]["codec"] == "mp3" and 3 < facts["duration"] < 6


@pytest.mark.parametrize("model", ["eleven_ttv_v3", "eleven_multilingual_ttv_v2"])
def test_both_design_models_make_a_voice(client, control, model):
    voice_id = client.voices.create(from_={**TEXT, "model": model}, name=model).id
    control.advance_clock(600)
    assert retrieve(client, voice_id).status == "READY"


def test_a_voice_cloned_from_an_uploaded_sample(client, control, uris, tmp_path):
    voice_id = client.voices.create(from_={"type": "audio", "audio": uris["audio"]}, name="Me").id
    assert retrieve(client, voice_id).status == "PROCESSING"
    control.advance_clock(600)
    ready = retrieve(client, voice_id)
    assert ready.status == "READY" and ready.description is None
    facts = media_facts(httpx.get(ready.preview_url, timeout=60).content, tmp_path, ".mp3")
    assert facts["audio"]["codec"] == "mp3"


def test_a_voice_that_fails_processing_says_why(client, control):
    voice_id = design(client, prompt=f"{DESCRIPTION} [fail]")
    control.advance_clock(600)
    failed = retrieve(client, voice_id)
    assert failed.status == "FAILED" and failed.failure_reason


def test_an_unusable_sample_is_refused(client):
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.voices.create(from_={"type": "audio", "audio": "runway://uploads/nothing-here"}, name="x")
    assert "issues" not in caught.value.body and "from.audio" in caught.value.body["error"]


@pytest.mark.parametrize(("body", "path", "code"), [
    ({"from": {**TEXT, "prompt": "too short"}, "name": "x"}, ["from", "prompt"], "too_small"),
    ({"from": {**TEXT, "model": "eleven_ttv_v9"}, "name": "x"}, ["from", "model"], "invalid_enum_value"),
    ({"from": TEXT}, ["name"], "invalid_type"),
    ({"from": TEXT, "name": 5}, ["name"], "invalid_type"),
    ({"from": TEXT, "name": "x", "description": 5}, ["description"], "invalid_type"),
    ({"name": "x"}, ["from"], "invalid_type"),
])
def test_create_refusals_follow_the_sdk_types(raw, body, path, code):
    response = raw.post("/v1/voices", json=body)
    assert response.status_code == 400
    issue = response.json()["issues"][0]
    assert (issue["path"], issue["code"]) == (path, code)
    assert response.json()["error"] == "Validation of body failed"


def test_a_null_description_is_accepted(client):
    voice_id = client.voices.create(from_=TEXT, name="x", description=None).id
    assert retrieve(client, voice_id).description is None


def test_voices_list_newest_first_by_cursor_pages(client, control):
    ids = [design(client, name=f"Voice {n}") for n in range(5)]
    newest_first = ids[::-1]
    first = conform_page(VoiceListResponse, raw_json(client.voices.with_raw_response.list, limit=2))
    assert [v.id for v in first] == newest_first[:2]
    page = client.voices.list(limit=2)
    assert page.next_cursor and page.has_next_page()
    pages = list(page.iter_pages())
    assert [len(p.data) for p in pages] == [2, 2, 1] and pages[-1].next_cursor is None
    assert [v.id for v in client.voices.list(limit=2)] == newest_first  # the SDK's auto-pagination
    whole = client.voices.list(limit=10)
    assert [v.id for v in whole.data] == newest_first and whole.next_cursor is None
    second = client.voices.list(limit=2, cursor=page.next_cursor)
    assert [v.id for v in second.data] == newest_first[2:4]


def test_an_empty_list(client):
    page = client.voices.list(limit=3)
    assert page.data == [] and page.next_cursor is None


@pytest.mark.parametrize(("query", "path", "code"), [
    ({}, ["limit"], "invalid_type"),
    ({"limit": "abc"}, ["limit"], "invalid_type"),
    ({"limit": "2.5"}, ["limit"], "invalid_type"),
    ({"limit": "0"}, ["limit"], "too_small"),
    ({"limit": "2", "cursor": "not-a-cursor"}, ["cursor"], "custom"),
])
def test_list_refusals(raw, query, path, code):
    response = raw.get("/v1/voices", params=query)
    assert response.status_code == 400
    assert response.json()["error"] == "Validation of query failed"
    issue = response.json()["issues"][0]
    assert (issue["path"], issue["code"]) == (path, code)


def test_a_voice_is_renamed_and_its_description_cleared(client, control):
    voice_id = design(client, description="old words")
    renamed = conform(VoiceUpdateResponse, raw_json(client.voices.with_raw_response.update, voice_id,
                                                    name="Storyteller"))
    assert (renamed.name, renamed.description) == ("Storyteller", "old words")
    cleared = client.voices.update(voice_id, description=None)
    assert (cleared.name, cleared.description) == ("Storyteller", None)
    untouched = client.voices.update(voice_id)
    assert (untouched.name, untouched.description) == ("Storyteller", None)
    assert retrieve(client, voice_id).name == "Storyteller"
    control.advance_clock(600)
    assert client.voices.update(voice_id, name="Ready").status == "READY"


def test_an_update_is_validated(client):
    voice_id = design(client)
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.voices.update(voice_id, extra_body={"name": 7})
    assert issues_of(caught)[0]["path"] == ["name"]


def test_a_deleted_voice_is_gone(client):
    keep, drop = design(client, name="keep"), design(client, name="drop")
    assert client.voices.delete(drop) is None
    with pytest.raises(runwayml.NotFoundError):
        client.voices.retrieve(drop)
    with pytest.raises(runwayml.NotFoundError):
        client.voices.delete(drop)
    with pytest.raises(runwayml.NotFoundError):
        client.voices.update(drop, name="again")
    assert [v.id for v in client.voices.list(limit=10)] == [keep]


@pytest.mark.parametrize("call", ["retrieve", "update", "delete"])
@pytest.mark.parametrize("voice_id", [UNKNOWN, "id"])
def test_unknown_voice_ids_are_404(client, call, voice_id):
    with pytest.raises(runwayml.NotFoundError) as caught:
        getattr(client.voices, call)(voice_id)
    assert caught.value.body == {"error": "Voice not found."}


@pytest.mark.parametrize("model", ["eleven_ttv_v3", "eleven_multilingual_ttv_v2"])
def test_a_preview_is_a_real_mp3_of_the_stated_length(client, tmp_path, model):
    preview = conform(VoicePreviewResponse, raw_json(client.voices.with_raw_response.preview, model=model,
                                                     prompt=DESCRIPTION))
    sample = httpx.get(preview.url, timeout=60)
    assert sample.status_code == 200 and sample.headers["content-type"] == "audio/mpeg"
    facts = media_facts(sample.content, tmp_path, ".mp3")
    assert facts["audio"]["codec"] == "mp3"
    assert abs(facts["duration"] - preview.duration_secs) < 0.2


def test_a_preview_url_is_signed(client):
    url = client.voices.preview(model="eleven_ttv_v3", prompt=DESCRIPTION).url
    assert httpx.get(url.replace("sig=", "sig=0"), timeout=30).status_code == 403


@pytest.mark.parametrize(("body", "path"), [
    ({"model": "eleven_ttv_v3", "prompt": "nineteen characters"}, ["prompt"]),
    ({"model": "eleven_v3", "prompt": DESCRIPTION}, ["model"]),
    ({"prompt": DESCRIPTION}, ["model"]),
])
def test_preview_refusals(raw, body, path):
    response = raw.post("/v1/voices/preview", json=body)
    assert response.status_code == 400 and response.json()["issues"][0]["path"] == path


def test_voices_and_previews_cost_nothing(client, control):
    design(client)
    client.voices.preview(model="eleven_ttv_v3", prompt=DESCRIPTION)
    assert control.charges() == []
    assert control.state()["credit_balance"] == 100_000


@pytest.mark.parametrize(("endpoint", "kwargs"), [
    ("text_to_speech", {"model": "eleven_v3", "prompt_text": "Hello there"}),
    ("text_to_speech", {"model": "eleven_multilingual_v2", "prompt_text": "Hello there"}),
    ("speech_to_speech", {"model": "eleven_multilingual_sts_v2"}),
])
def test_the_sdk_takes_no_custom_voice_for_speech_endpoints(client, control, uris, endpoint, kwargs):
    """SDK 5.24 types these voices as `{"type": "runway-preset", "presetId"}` only: a custom voice is refused."""
    voice_id = design(client)
    control.advance_clock(600)
    if endpoint == "speech_to_speech":
        kwargs = {**kwargs, "media": {"type": "audio", "uri": uris["audio"]}}
    with pytest.raises(runwayml.BadRequestError) as caught:
        getattr(client, endpoint).create(voice={"type": "custom", "id": voice_id}, **kwargs)
    assert issues_of(caught)[0]["path"][0] == "voice"


def test_voices_survive_a_restart(server, tmp_path):
    config = dataclasses.replace(server.app.state.emulator.config, data=tmp_path / "state.sqlite3", port=0,
                                 public_base_url=None)
    with EmulatorServer(config) as first, RunwayML(api_key=API_KEY, base_url=first.url, max_retries=0) as sdk:
        kept = design(sdk, name="kept")
        gone = design(sdk, name="gone")
        sdk.voices.update(kept, name="kept and renamed")
        sdk.voices.delete(gone)
        first.control.advance_clock(600)
    with EmulatorServer(config) as second, RunwayML(api_key=API_KEY, base_url=second.url, max_retries=0) as sdk:
        voice = retrieve(sdk, kept)
        assert (voice.name, voice.status) == ("kept and renamed", "READY")
        assert [v.id for v in sdk.voices.list(limit=5)] == [kept]
        with pytest.raises(runwayml.NotFoundError):
            sdk.voices.retrieve(gone)
        assert httpx.get(voice.preview_url, timeout=60).status_code == 200
        later = design(sdk, name="later")
        assert [v.id for v in sdk.voices.list(limit=5)] == [later, kept]
