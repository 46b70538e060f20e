"""Every output format the SDK names is kept as delivered, given a poster, previewable and downloadable.

The formats come from the installed SDK's request types (`sdk_requests.json`), not the catalog:
each `outputFormat` / `format` value of one model per endpoint. A generation is posted through
the form with that format and run against the emulator; then, checked against independent truths:

- the stored file is byte for byte what the emulator serves at the task's output URL, with its
  Content-Type, and the download gives those bytes under a name with the delivered extension;
- the poster is a real JPEG;
- what the gallery page plays (the `src` of its <video>, <audio> or <img>) is something every
  browser plays, as ffmpeg itself reads it: H.264 4:2:0 8-bit in MP4, MP3/AAC/WAV/FLAC audio,
  JPEG/PNG/WebP images, at the delivery's picture size and (for video) about its length.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.urls import reverse
from PIL import Image

from credits import ledger
from generations import copy
from generations.models import Generation, Output, Status
from tests.conftest import client_for
from tests.factories import drive, make_asset
from tests.generations.gen_helpers import assert_page_plays_everywhere, banner_of, body_of
from tests.generations.test_sdk_forms import SDK, SPECS, _value
from tests.generations.test_views import make_generation

pytestmark = pytest.mark.django_db(transaction=False)

FORMAT_FIELDS = ("outputFormat", "format")
# One model for each format value the SDK names (the first in name order that takes it).
CASES = sorted({
    (fmt, endpoint, model)
    for endpoint, models in SDK.items() for model, fields in models.items()
    for wire, node in fields.items() if wire in FORMAT_FIELDS for fmt in node["enum"]
})
CASES = [case for i, case in enumerate(CASES) if case[0] not in {fmt for fmt, _, _ in CASES[:i]}]


def _post(endpoint: str, model: str, fmt: str, project, owner, tmp_path) -> Generation:
    made: dict[str, Any] = {}

    def asset(kind: str):
        if kind not in made:
            made[kind] = make_asset(project, owner, SPECS[kind], tmp_path / kind)
        return made[kind]

    fields = SDK[endpoint][model]
    required = {n["python"]: n for n in fields.values() if n["required"]}
    data = {"endpoint": endpoint, "model": model, **{name: _value(node, asset) for name, node in required.items()}}
    data.update({fields[w]["python"]: fmt for w in FORMAT_FIELDS if w in fields})
    response = client_for(owner).post(reverse("generations:new", args=[project.slug]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return drive(Generation.objects.get())


@pytest.mark.parametrize(("fmt", "endpoint", "model"), CASES, ids=[f"{m}-{f}" for f, _, m in CASES])
def test_every_delivered_format_is_kept_previewed_and_downloadable(fmt, endpoint, model, project, owner, tmp_path,
                                                                   media_root, runway_emulator):
    ledger.grant(user=owner, amount=100_000, note="tests")
    generation = _post(endpoint, model, fmt, project, owner, tmp_path)
    assert generation.status == Status.SUCCEEDED, (generation.failure_message, generation.request_payload)
    output = generation.outputs.get()

    # Stored as delivered: the emulator's own bytes and type.
    delivered = httpx.get(generation.task_json["output"][0], timeout=30)
    assert delivered.status_code == 200
    with output.file.open("rb") as fp:
        stored = fp.read()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(delivered.content).hexdigest() == output.sha256
    assert output.content_type == delivered.headers["content-type"].split(";")[0]

    owner_client = client_for(owner)
    download = owner_client.get(reverse("generations:output_file", args=[project.slug, output.pk]) + "?download=1")
    assert download.status_code == 200
    assert body_of(download) == delivered.content
    delivered_ext = Path(httpx.URL(generation.task_json["output"][0]).path).suffix
    assert re.search(rf'filename="[^"]+{re.escape(delivered_ext)}"', download["Content-Disposition"]), (
        download["Content-Disposition"], delivered_ext)

    # A poster.
    poster = owner_client.get(reverse("generations:output_thumb", args=[project.slug, output.pk]))
    assert poster.status_code == 200
    with Image.open(io.BytesIO(body_of(poster))) as img:
        assert img.format == "JPEG" and min(img.size) > 8

    # What the page plays, every browser plays.
    assert_page_plays_everywhere(owner_client, output, tmp_path)


def test_the_cases_cover_every_format_the_sdk_names():
    named = {fmt for models in SDK.values() for fields in models.values()
             for wire, node in fields.items() if wire in FORMAT_FIELDS for fmt in node["enum"]}
    assert {fmt for fmt, _, _ in CASES} == named
    assert len(CASES) == len(named) >= 19, sorted(named)


@pytest.mark.parametrize(("fmt", "endpoint", "model", "playable"), [
    ("png_sequence", "text_to_video", "gen4.5", "Video: h264"),
    ("ogg_opus", "text_to_speech", "seed_audio", "Audio: mp3"),
])
def test_a_delivery_runway_does_not_take_back_is_reused_through_its_preview(fmt, endpoint, model, playable, project,
                                                                            owner, tmp_path, media_root,
                                                                            runway_emulator):
    """A ZIP of frames or an Ogg file is no Runway input (CONTRACT §5.3): "use as input" takes its preview."""
    ledger.grant(user=owner, amount=100_000, note="tests")
    output = _post(endpoint, model, fmt, project, owner, tmp_path).outputs.get()
    response = client_for(owner).post(reverse("gallery:use", args=[project.slug, output.pk]))
    assert response.status_code == 302, response.content.decode()[:1000]
    asset = project.assets.get(source_output=output)
    with asset.file.open("rb") as fp:
        data = fp.read()
    banner = banner_of(data, tmp_path)
    assert playable in banner, banner
    assert asset.content_type == ("video/mp4" if output.kind == "video" else "audio/mpeg")
    assert asset.name.endswith(".mp4" if output.kind == "video" else ".mp3")
    assert asset.size == len(data) and asset.sha256 == hashlib.sha256(data).hexdigest()
    assert (asset.width, asset.height) == (output.width, output.height)


def test_a_sequence_whose_preview_fails_is_still_kept_and_downloadable(project, owner, tmp_path, media_root, settings):
    """A frame ffmpeg can't decode costs the preview, never the delivery Runway billed."""
    frames = {f"{i:04d}.png": _png((40 * i, 90, 200)) for i in range(1, 5)}
    frames["0003.png"] = frames["0003.png"][:40]
    delivered = Path(settings.DOWNLOADS_DIR) / "takes-test-damaged.zip"
    with zipfile.ZipFile(delivered, "w", zipfile.ZIP_STORED) as archive:
        for name, data in frames.items():
            archive.writestr(name, data)
    expected = delivered.read_bytes()
    generation = make_generation(project, owner, Status.COPYING)
    copy._store_output(generation, 0, delivered)
    delivered.unlink()
    output = generation.outputs.get()
    assert not output.preview and not output.playable and output.codec == "png sequence"
    with output.file.open("rb") as fp:
        assert fp.read() == expected
    page = client_for(owner).get(reverse("gallery:output", args=[project.slug, output.pk])).content.decode()
    assert "can't play in a browser" in html.unescape(page) and "<video" not in page
    download = reverse("generations:output_file", args=[project.slug, output.pk])
    assert f'href="{download}?download"' in page


def test_reusing_a_delivery_with_no_playable_copy_is_refused_with_a_reason(project, owner, media_root):
    generation = make_generation(project, owner, Status.SUCCEEDED)
    output = Output.objects.create(project=project, generation=generation, kind="video", content_type="application/zip",
                                   size=1000, sha256="0" * 64, file="outputs/seq.zip", codec="exr sequence",
                                   playable=False)
    response = client_for(owner).post(reverse("gallery:use", args=[project.slug, output.pk]))
    assert response.status_code == 409
    assert "Runway doesn't take OpenEXR sequence · ZIP as an input" in html.unescape(response.content.decode())
    assert not project.assets.exists()


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 36), colour).save(out, "PNG")
    return out.getvalue()
