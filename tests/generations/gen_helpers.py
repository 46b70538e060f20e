"""Turning catalog parameter sets (with asset specs) into project assets and form posts."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from django.urls import reverse
from PIL import Image

from assets.models import Asset
from runway import catalog
from tests.generations.catalog_cases import facts_from_spec

# Examples a browser form can't express: extra keys are ignored, and every value is text.
NOT_EXPRESSIBLE_IN_A_FORM = ("unknown setting", "not text", "not a bool", "not a list")


class SpecAssets:
    """Asset rows of one project matching specs like "image 1280x720", made once each."""

    def __init__(self, project, user):
        self.project, self.user, self.made = project, user, {}

    def __call__(self, spec: str) -> Asset:
        if spec not in self.made:
            facts = facts_from_spec(spec)
            ext = {"image": "png", "video": "mp4", "audio": "wav"}[facts.kind]
            self.made[spec] = Asset.objects.create(
                project=self.project, uploaded_by=self.user, name=f"{spec}.{ext}", kind=facts.kind,
                content_type=f"{facts.kind}/{ext}", size=10_000, width=facts.width, height=facts.height,
                duration=facts.duration, sha256="0" * 64, file=f"assets/{self.project.pk}/{len(self.made)}.{ext}")
        return self.made[spec]


def form_data(model: catalog.Model, params: dict[str, Any], assets: SpecAssets) -> dict[str, Any]:
    """What a browser would post for these params (booleans as checkboxes, assets as ids)."""
    data: dict[str, Any] = {}
    for name, value in params.items():
        kind = model.field(name).kind if name in model.field_names else None
        if kind == "asset" and isinstance(value, str):
            data[name] = str(assets(value).pk)
        elif kind == "assets" and isinstance(value, list):
            data[name] = [str(assets(v).pk) for v in value]
        elif kind == "bool":
            if value is True:
                data[name] = "on"
            elif value is False and model.field(name).tristate:
                data[name] = "off"  # the switch's "Off", not the model's choice
            elif value is not False:
                data[name] = str(value)
        elif kind == "segments" and isinstance(value, list):
            data[name] = "\n".join(f"{shot['duration']}: {shot['prompt']}" for shot in value)
        elif kind in ("texts", "numbers") and isinstance(value, list):
            data[name] = ", ".join(str(v) for v in value)
        elif value is not None:
            data[name] = str(value)
    return data


def expressible(description: str) -> bool:
    return not any(marker in description for marker in NOT_EXPRESSIBLE_IN_A_FORM)


PLAYABLE_AUDIO = {"mp3", "aac", "flac"} | {f"pcm_{s}" for s in ("s16le", "s24le", "u8")}


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def banner_of(data: bytes, tmp_path: Path) -> str:
    """What ffmpeg itself says of these bytes (`ffmpeg -i`)."""
    path = tmp_path / "played"
    path.write_bytes(data)
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, check=False).stderr.decode()


def assert_page_plays_everywhere(client, output, tmp_path: Path) -> None:
    """The gallery page's player (<video>, <audio> or <img>) holds what every browser plays.

    As ffmpeg reads it: H.264 4:2:0 8-bit in MP4 at the output's size and about its length,
    MP3/AAC/WAV/FLAC audio, or a JPEG/PNG/WebP image of the output's size.
    """
    page = client.get(reverse("gallery:output", args=[output.project.slug, output.pk])).content.decode()
    media = (re.search(r'<(video|audio)\b[^>]*\bsrc="([^"]+)"', page)  # an audio's waveform <img> is no player
             or re.search(r'<(img)\b[^>]*\bsrc="([^"]+)"', page))
    assert media, page
    tag, src = media.groups()
    played = body_of(client.get(src.replace("&amp;", "&")))
    if tag == "img":
        with Image.open(io.BytesIO(played)) as img:
            assert img.format in ("JPEG", "PNG", "WEBP")
            assert img.size == (output.width, output.height)
        return
    banner = banner_of(played, tmp_path)
    if tag == "video":
        assert output.kind == "video"
        assert "Input #0, mov,mp4" in banner, banner
        video = re.search(r"Video: (\w+).*?, (\w+)(?:\(.*?\))?, (\d+)x(\d+)", banner)
        assert video and video.group(1) == "h264" and video.group(2) == "yuv420p", banner
        assert (int(video.group(3)), int(video.group(4))) == (output.width, output.height), banner
        assert b"ftypqt" not in played[:16]  # an MP4, not a QuickTime file
    else:
        assert output.kind == "audio"
        audio = re.search(r"Audio: (\w+)", banner)
        assert audio and audio.group(1) in PLAYABLE_AUDIO, banner
    length = re.search(r"Duration: (\d+):(\d\d):(\d\d\.\d+)", banner)
    assert length, banner
    seconds = int(length.group(1)) * 3600 + int(length.group(2)) * 60 + float(length.group(3))
    assert output.duration and abs(seconds - output.duration) < 0.6, (seconds, output.duration)
