"""Validation like the real API: auth, version header, per-model rules, media strings, uploads."""

from __future__ import annotations

import base64

import httpx
import pytest
import runwayml
from hypothesis import given, settings
from hypothesis import strategies as st
from runwayml import RunwayML

from emulator.routes import files
from emulator.testing import EmulatorServer
from emulator.validation import utf16_len

from .conftest import API_KEY, png_bytes, upload


def issues_of(exc: pytest.ExceptionInfo) -> list[dict]:
    return exc.value.body["issues"]


def test_missing_bearer_is_401(server, control):
    response = httpx.get(f"{server.url}/v1/organization",
                         headers={"X-Runway-Version": "2024-11-06"})
    assert response.status_code == 401
    assert "error" in response.json()


def test_configured_keys_restrict_access():
    with EmulatorServer(api_keys=["key_good"]) as restricted:
        good = RunwayML(api_key="key_good", base_url=restricted.url, max_retries=0)
        assert good.organization.retrieve().credit_balance == 10_000
        bad = RunwayML(api_key="key_bad", base_url=restricted.url, max_retries=0)
        with pytest.raises(runwayml.AuthenticationError):
            bad.organization.retrieve()


@pytest.mark.parametrize("version", [None, "2023-01-01"])
def test_version_header_is_required(server, control, version):
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if version:
        headers["X-Runway-Version"] = version
    response = httpx.get(f"{server.url}/v1/organization", headers=headers)
    assert response.status_code == 400
    assert "X-Runway-Version" in response.json()["error"]


def test_unknown_path_and_wrong_method(raw):
    assert raw.get("/v1/nothing").status_code == 404
    assert raw.get("/v1/nothing").json() == {"error": "Not found."}
    assert raw.get("/v1/image_to_video").status_code == 405


def test_unknown_model_is_a_discriminator_issue(client):
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.text_to_image.create(model="gen9", prompt_text="x", ratio="1024:1024")
    assert issues_of(caught)[0]["path"] == ["model"]


def test_required_field(client):
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.text_to_video.create(model="gen4.5", prompt_text="x", ratio="1280:720")
    assert issues_of(caught) [0]["path"] == ["duration"]
    assert issues_of(caught)[0]["message"] == "Required"


def test_enum_ratio(client):
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.text_to_video.create(model="gen4.5", prompt_text="x", ratio="1104:832", duration=5)
    issue = issues_of(caught)[0]
    assert issue["path"] == ["ratio"] and issue["code"] == "invalid_enum_value"


@pytest.mark.parametrize(("model", "duration", "ok"), [
    ("gen4.5", 2, True), ("gen4.5", 11, False), ("gen4.5", 1, False),
    ("veo3.1", 6, True), ("veo3.1", 5, False),
    # The SDK states no range for seedance2: any positive whole number of seconds.
    ("seedance2", 15, True), ("seedance2", 3, True), ("seedance2", 40, True), ("seedance2", 0, False),
])
def test_duration_ranges(client, model, duration, ok):
    def create():
        return client.text_to_video.create(model=model, prompt_text="a river",
                                           ratio="1280:720", duration=duration)
    if ok:
        assert create().id
    else:
        with pytest.raises(runwayml.BadRequestError) as caught:
            create()
        assert issues_of(caught)[0]["path"] == ["duration"]


def test_prompt_length_counts_utf16_units(client):
    emoji = "\N{GRINNING FACE}"
    assert client.text_to_image.create(model="gen4_image", prompt_text=emoji * 500, ratio="720:720").id
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.text_to_image.create(model="gen4_image", prompt_text=emoji * 501, ratio="720:720")
    assert issues_of(caught)[0]["code"] == "too_big"


def test_empty_prompt_and_happyhorse_minimum(client):
    with pytest.raises(runwayml.BadRequestError):
        client.text_to_image.create(model="gen4_image", prompt_text="", ratio="720:720")
    with pytest.raises(runwayml.BadRequestError):
        client.text_to_video.create(model="happyhorse_1_0", prompt_text="a")


def test_unknown_fields_refused_only_on_strict_models(raw):
    lenient = raw.post("/v1/text_to_image", json={"model": "gen4_image", "promptText": "x",
                                                   "ratio": "720:720", "colour": "red"})
    assert lenient.status_code == 200
    strict = raw.post("/v1/text_to_image", json={"model": "gpt_image_2", "promptText": "x",
                                                  "ratio": "auto", "colour": "red"})
    assert strict.status_code == 400
    assert strict.json()["issues"][0]["code"] == "unrecognized_keys"


def test_nested_path_in_issues(client, image_path):
    uri = upload(client, image_path)
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.image_to_video.create(model="veo3.1", ratio="1280:720",
                                     prompt_image=[{"uri": uri, "position": "middle"}])
    assert issues_of(caught)[0]["path"] == ["promptImage", 0, "position"]


@pytest.mark.parametrize(("uri", "message"), [
    ("http://example.com/cat.png", "Only HTTPS"),
    ("https://10.0.0.1/cat.png", "IP addresses"),
    ("data:image/gif;base64,R0lGODlhAQABAAAAACw=", "Unsupported"),
    ("data:video/mp4;base64,AAAA", "expected image"),
    ("data:image/png;base64,not*base64", "corrupt"),
    ("runway://uploads/doesnotexist", "does not refer"),
])
def test_bad_media_strings_are_asset_errors(client, uri, message):
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.image_to_video.create(model="gen4_turbo", prompt_image=uri, ratio="1280:720")
    assert message in caught.value.body["error"]
    assert "issues" not in caught.value.body


def test_https_and_data_uri_inputs_are_accepted(client):
    data_uri = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    for uri in ("https://example.com/cat.png", data_uri):
        assert client.image_to_video.create(model="gen4_turbo", prompt_image=uri, ratio="1280:720").id


def test_data_uri_cap(raw):
    too_big = "data:image/png;base64," + "A" * 5_242_880
    response = raw.post("/v1/image_to_video", json={"model": "gen4_turbo", "promptImage": too_big,
                                                     "ratio": "1280:720"})
    assert response.status_code == 400
    assert response.json()["issues"][0]["code"] == "too_big"


def test_image_aspect_ratio_rule(client, tmp_path):
    path = tmp_path / "strip.png"
    path.write_bytes(png_bytes(900, 300))
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.image_to_video.create(model="gen4_turbo", prompt_image=upload(client, path),
                                     ratio="1280:720")
    assert "aspect ratio" in caught.value.body["error"]


def test_upload_uri_expires_after_24_hours(client, control, image_path):
    uri = upload(client, image_path)
    control.advance_clock(23 * 3600)
    assert client.image_to_video.create(model="gen4_turbo", prompt_image=uri, ratio="1280:720").id
    control.advance_clock(2 * 3600)
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.image_to_video.create(model="gen4_turbo", prompt_image=uri, ratio="1280:720")
    assert "expired" in caught.value.body["error"]


def test_upload_kind_must_match_field(client, audio_path):
    with pytest.raises(runwayml.BadRequestError):
        client.image_to_video.create(model="gen4_turbo", prompt_image=upload(client, audio_path),
                                     ratio="1280:720")


def test_upload_too_small(client, tmp_path):
    path = tmp_path / "tiny.png"
    path.write_bytes(b"\x89PNG" + b"0" * 100)
    with pytest.raises(runwayml.APIStatusError) as caught, path.open("rb") as handle:
        client.uploads.create_ephemeral(file=handle)
    assert caught.value.status_code == 400
    assert "EntityTooSmall" in str(caught.value.body)


def test_upload_too_large(client, tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_UPLOAD", 2048)
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(400, 400) + b"0" * 4096)
    with pytest.raises(runwayml.APIStatusError) as caught, path.open("rb") as handle:
        client.uploads.create_ephemeral(file=handle)
    assert "EntityTooLarge" in str(caught.value.body)


def test_upload_filename_rules(raw):
    assert raw.post("/v1/uploads", json={"filename": "a", "type": "ephemeral"}).status_code == 400
    assert raw.post("/v1/uploads", json={"filename": "notes.txt", "type": "ephemeral"}).status_code == 400
    assert raw.post("/v1/uploads", json={"filename": "cat.png", "type": "permanent"}).status_code == 400
    good = raw.post("/v1/uploads", json={"filename": "cat.png", "type": "ephemeral"}).json()
    assert set(good) == {"uploadUrl", "fields", "runwayUri"}


def test_upload_slot_is_single_use_and_signed(client, raw, image_path):
    slot = raw.post("/v1/uploads", json={"filename": "cat.png", "type": "ephemeral"}).json()
    forged = {**slot["fields"], "policy": "forged"}
    response = httpx.post(slot["uploadUrl"], data=forged,
                          files={"file": ("cat.png", image_path.read_bytes(), "image/png")})
    assert response.status_code == 403
    response = httpx.post(slot["uploadUrl"], data=slot["fields"],
                          files={"file": ("cat.png", image_path.read_bytes(), "image/png")})
    assert response.status_code == 204
    again = httpx.post(slot["uploadUrl"], data=slot["fields"],
                       files={"file": ("cat.png", image_path.read_bytes(), "image/png")})
    assert again.status_code == 403


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_utf16_length_matches_encoding(text):
    assert utf16_len(text) == len(text.encode("utf-16-le")) // 2
    assert utf16_len(text) >= len(text)
