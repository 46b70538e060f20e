"""Avatar videos through the SDK: a task followed through `tasks.retrieve`, whose output is a real MP4 made
from the avatar's image with the script spoken (or the sample played) as its sound track, charged per second."""

from __future__ import annotations

import array
import datetime as dt
import itertools
import math
import subprocess

import httpx
import pytest
import runwayml
from PIL import Image
from runwayml.types import AvatarVideoCreateResponse, TaskRetrieveResponse

from emulator import pricing
from emulator.media import ffmpeg_exe

from .conftest import finish, media_facts, upload
from .sdk_shapes import conform, raw_json
from .test_avatars import LIVE
from .test_voices import design

GREEN = (30, 160, 90)
SCRIPT = "Welcome to the course. Today we look at fractions and decimals."  # 64 characters
PRESET = {"type": "runway-preset", "presetId": "cooking-teacher"}


def rate() -> float:
    return pricing.rule_for("avatar_videos", "gwm1_avatars")["credits"]


@pytest.fixture
def green_uri(client, tmp_path) -> str:
    path = tmp_path / "green.png"
    Image.new("RGB", (480, 640), GREEN).save(path)
    return upload(client, path)


@pytest.fixture
def avatar_id(client, control, green_uri) -> str:
    avatar = client.avatars.create(name="Ada", personality="A tutor.", reference_image=green_uri, voice=LIVE)
    control.advance_clock(600)
    return avatar.id


def first_frame(data: bytes, tmp_path) -> Image.Image:
    source, frame = tmp_path / "out.mp4", tmp_path / "frame.png"
    source.write_bytes(data)
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), "-frames:v", "1",
                    str(frame)], check=True)
    return Image.open(frame).convert("RGB")


def pitch(data: bytes, tmp_path, suffix: str) -> float:
    """The frequency (Hz) of the first note of a file's sound, from zero crossings of its decoded PCM."""
    source = tmp_path / f"pitch{suffix}"
    source.write_bytes(data)
    pcm = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(source), "-t", "0.2",
                          "-ac", "1", "-ar", "24000", "-f", "s16le", "-"], capture_output=True, check=True).stdout
    samples = array.array("h", pcm)[1200:4800]  # 0.05-0.2 s: inside the first quarter-second note
    crossings = sum((a < 0) != (b < 0) for a, b in itertools.pairwise(samples))
    return crossings / 2 / (len(samples) / 24000)


def charge_of(control, task_id: str) -> dict:
    return next(item for item in control.charges() if item["id"] == task_id)


def test_a_script_becomes_an_mp4_of_the_avatars_image_with_speech(client, control, avatar_id, tmp_path):
    created = conform(AvatarVideoCreateResponse, raw_json(
        client.avatar_videos.with_raw_response.create, model="gwm1_avatars",
        avatar={"type": "custom", "avatarId": avatar_id}, speech={"type": "text", "text": SCRIPT}))
    pending = conform(TaskRetrieveResponse, raw_json(client.tasks.with_raw_response.retrieve, created.id))
    assert pending.status == "PENDING"
    done = finish(control, client, created.id)
    assert done.status == "SUCCEEDED" and len(done.output) == 1
    response = httpx.get(done.output[0], timeout=120)
    assert response.headers["content-type"] == "video/mp4"
    facts = media_facts(response.content, tmp_path, ".mp4")
    assert facts["video"]["codec"] == "h264" and facts["audio"]["codec"] == "aac"
    seconds = len(SCRIPT) / 15
    assert abs(facts["duration"] - seconds) < 0.5
    top = first_frame(response.content, tmp_path).getpixel((facts["video"]["size"][0] // 2, 4))
    assert all(abs(a - b) < 40 for a, b in zip(top, GREEN, strict=True))  # drawn from the avatar's image
    item = charge_of(control, created.id)
    assert (item["model"], item["endpoint"], item["status"]) == ("gwm1_avatars", "avatar_videos", "SUCCEEDED")
    assert item["charged"] == item["estimate"] == math.ceil(rate() * math.ceil(seconds)) == done.cost.credits


def test_an_audio_sample_is_the_sound_track_and_sets_the_length(client, control, avatar_id, uris, audio_path,
                                                                 tmp_path):
    task = client.avatar_videos.create(model="gwm1_avatars", avatar={"type": "custom", "avatarId": avatar_id},
                                       speech={"type": "audio", "audio": uris["audio"]})
    done = finish(control, client, task.id)
    video = httpx.get(done.output[0], timeout=120).content
    facts = media_facts(video, tmp_path, ".mp4")
    assert facts["audio"] and abs(facts["duration"] - 6.0) < 0.5  # the 6 s sample
    heard, given = pitch(video, tmp_path, ".mp4"), pitch(audio_path.read_bytes(), tmp_path, ".wav")
    assert abs(heard - given) < 0.05 * given  # the sample itself, not a made-up tone
    assert charge_of(control, task.id)["charged"] == math.ceil(rate() * 6)


def test_a_preset_avatar_and_the_usage_report(client, control, tmp_path):
    task = client.avatar_videos.create(model="gwm1_avatars", avatar=PRESET, speech={"type": "text", "text": SCRIPT})
    done = finish(control, client, task.id)
    assert media_facts(httpx.get(done.output[0], timeout=120).content, tmp_path, ".mp4")["video"]
    day = dt.date.fromisoformat(control.state()["clock"]["now"][:10])
    usage = client.organization.retrieve_usage(start_date=day - dt.timedelta(days=1),
                                               before_date=day + dt.timedelta(days=1))
    used = {u.model: u.amount for r in usage.results for u in r.used_credits}
    assert used == {"gwm1_avatars": charge_of(control, task.id)["charged"]}
    assert control.state()["credit_balance"] == 100_000 - used["gwm1_avatars"]


def test_a_script_in_a_designed_voice(client, control, avatar_id):
    voice_id = design(client)
    control.advance_clock(600)
    task = client.avatar_videos.create(
        model="gwm1_avatars", avatar={"type": "custom", "avatarId": avatar_id},
        speech={"type": "text", "text": SCRIPT, "voice": {"type": "custom", "id": voice_id}})
    assert finish(control, client, task.id).status == "SUCCEEDED"
    preset = client.avatar_videos.create(
        model="gwm1_avatars", avatar=PRESET, speech={"type": "text", "text": SCRIPT,
                                                     "voice": {"type": "preset", "presetId": "felix"}})
    assert finish(control, client, preset.id).status == "SUCCEEDED"


def test_a_voice_still_processing_or_unknown_cannot_speak(client, control):
    processing = design(client)
    for voice_id in (processing, "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"):
        with pytest.raises(runwayml.BadRequestError) as caught:
            client.avatar_videos.create(model="gwm1_avatars", avatar=PRESET, speech={
                "type": "text", "text": SCRIPT, "voice": {"type": "custom", "id": voice_id}})
        assert voice_id in caught.value.body["error"]
    assert control.charges() == []


def test_an_unusable_avatar_is_refused(client, control, green_uri):
    processing = client.avatars.create(name="Ada", personality="A tutor.", reference_image=green_uri, voice=LIVE).id
    deleted = client.avatars.create(name="Bo", personality="A tutor.", reference_image=green_uri, voice=LIVE).id
    client.avatars.delete(deleted)
    for avatar_id in (processing, deleted, "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"):
        with pytest.raises(runwayml.BadRequestError) as caught:
            client.avatar_videos.create(model="gwm1_avatars", avatar={"type": "custom", "avatarId": avatar_id},
                                        speech={"type": "text", "text": SCRIPT})
        assert avatar_id in caught.value.body["error"]
    assert control.charges() == []


@pytest.mark.parametrize(("body", "path"), [
    ({"model": "gwm2", "avatar": PRESET, "speech": {"type": "text", "text": "hi"}}, ["model"]),
    ({"model": "gwm1_avatars", "avatar": PRESET}, ["speech"]),
    ({"model": "gwm1_avatars", "avatar": {"type": "runway-preset", "presetId": "dog"},
      "speech": {"type": "text", "text": "hi"}}, ["avatar", "presetId"]),
    ({"model": "gwm1_avatars", "avatar": PRESET, "speech": {"type": "text"}}, ["speech", "text"]),
    ({"model": "gwm1_avatars", "avatar": PRESET, "speech": {"type": "audio", "audio": "ftp://x/y.mp3"}},
     ["speech", "audio"]),
])
def test_create_refusals_follow_the_sdk_types(raw, body, path):
    response = raw.post("/v1/avatar_videos", json=body)
    assert response.status_code == 400 and response.json()["issues"][0]["path"] == path


def test_a_failing_avatar_video_is_refunded(client, control):
    task = client.avatar_videos.create(model="gwm1_avatars", avatar=PRESET,
                                       speech={"type": "text", "text": "Hello [fail]"})
    done = finish(control, client, task.id)
    assert done.status == "FAILED" and done.failure_code == "INTERNAL.BAD_OUTPUT.CODE01"
    assert charge_of(control, task.id)["charged"] == 0


def test_the_organization_lists_the_avatar_model(client):
    assert "gwm1_avatars" in client.organization.retrieve().tier.models


def test_an_avatar_video_counts_against_its_models_daily_limit(client, control):
    control.set_tier(1, models={"gwm1_avatars": {"maxDailyGenerations": 1}})
    client.avatar_videos.create(model="gwm1_avatars", avatar=PRESET, speech={"type": "text", "text": "one"})
    with pytest.raises(runwayml.RateLimitError):
        client.avatar_videos.create(model="gwm1_avatars", avatar=PRESET, speech={"type": "text", "text": "two"})


def test_a_preset_avatar_video_frame_is_drawn(client, control, tmp_path):
    task = client.avatar_videos.create(model="gwm1_avatars", avatar=PRESET, speech={"type": "text", "text": SCRIPT})
    done = finish(control, client, task.id)
    frame = first_frame(httpx.get(done.output[0], timeout=120).content, tmp_path)
    assert frame.size[0] > frame.size[1]  # 16:9, drawn from the preset's name
    assert len(frame.resize((16, 9)).getcolors(144) or ()) > 1
