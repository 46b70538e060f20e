"""A video model's `audio` option decides whether its video carries a sound track.

The models are those whose SDK request type has an `audio` field; an omitted `audio` means
sound only where the SDK's docstring says the option defaults to true.
"""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from emulator import models
from emulator.media import ffmpeg_exe

from .conftest import finish, media_facts, minimal, snake
from .sdk_types import field_doc, has_field

VIDEO_ENDPOINTS = ("image_to_video", "text_to_video", "video_to_video")
WITH_AUDIO = [(endpoint, model) for endpoint in VIDEO_ENDPOINTS
              for model in models.request_schemas()[endpoint] if has_field(endpoint, model, "audio")]
DEFAULTS_ON = re.compile(r"Defaults to `?true`?", re.IGNORECASE)


def sdk_says_audio_defaults_on(endpoint: str, model: str) -> bool:
    return bool(DEFAULTS_ON.search(field_doc(endpoint, model, "audio")))


def render(client, control, uris, tmp_path, endpoint: str, model: str, audio: bool | None) -> dict:
    body = minimal(models.request_schemas()[endpoint][model], uris)
    body.pop("audio", None)
    if audio is not None:
        body["audio"] = audio
    created = getattr(client, endpoint).create(model=model, **{snake(k): v for k, v in body.items()})
    done = finish(control, client, created.id)
    assert done.status == "SUCCEEDED", done
    response = httpx.get(done.output[0], timeout=60)
    assert response.status_code == 200
    return media_facts(response.content, tmp_path, ".mp4")


def test_the_sweep_covers_the_audio_models():
    assert len(WITH_AUDIO) >= 25
    assert {"veo3.1", "seedance2", "kling3.0_pro", "wan3"} <= {m for _, m in WITH_AUDIO}


@pytest.mark.parametrize(("endpoint", "model"), WITH_AUDIO, ids=[f"{e}-{m}" for e, m in WITH_AUDIO])
def test_audio_on_gives_a_sound_track_and_omitted_follows_the_sdk_default(client, control, uris, tmp_path,
                                                                          endpoint, model):
    facts = render(client, control, uris, tmp_path, endpoint, model, True)
    assert facts["video"] is not None
    assert facts["audio"] is not None, f"{model} with audio: true has no sound track"
    assert facts["audio"]["codec"] == "aac"
    facts = render(client, control, uris, tmp_path, endpoint, model, None)
    assert facts["video"] is not None
    assert (facts["audio"] is not None) == sdk_says_audio_defaults_on(endpoint, model)


# Off is checked where it differs from an omitted field (the default is on), and once per endpoint.
SWITCHED_OFF = sorted({*[(e, m) for e, m in WITH_AUDIO if sdk_says_audio_defaults_on(e, m)],
                       *{e: (e, m) for e, m in reversed(WITH_AUDIO)}.values()})


@pytest.mark.parametrize(("endpoint", "model"), SWITCHED_OFF, ids=[f"{e}-{m}" for e, m in SWITCHED_OFF])
def test_audio_off_gives_a_silent_video(client, control, uris, tmp_path, endpoint, model):
    facts = render(client, control, uris, tmp_path, endpoint, model, False)
    assert facts["video"] is not None
    assert facts["audio"] is None


def test_the_sdk_states_a_default_somewhere():
    """The default case is not vacuous: at least one model's docstring turns audio on."""
    assert sdk_says_audio_defaults_on("text_to_video", "seedance2_5")
    assert not sdk_says_audio_defaults_on("text_to_video", "veo3.1")


def test_sound_track_length_matches_the_video(client, control, tmp_path):
    created = client.text_to_video.create(model="veo3.1_fast", prompt_text="surf on rocks", ratio="1280:720",
                                          duration=4, audio=True)
    done = finish(control, client, created.id)
    path = tmp_path / "clip.mp4"
    path.write_bytes(httpx.get(done.output[0], timeout=60).content)
    facts = media_facts(path.read_bytes(), tmp_path, ".mp4")
    assert abs(facts["duration"] - 4) < 0.25
    # Decode the sound track alone: its length is where ffmpeg's clock stops.
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:a", "-f", "null", "-"],
                          capture_output=True, check=False).stderr.decode()
    times = re.findall(r"time=(\d+):(\d+):(\d+\.\d+)", text)
    assert times
    h, m, s = times[-1]
    assert abs(int(h) * 3600 + int(m) * 60 + float(s) - 4) < 0.25
