"""Upscalers and frame-rate enhancement: the output's pixel size and frame rate follow the request
and the input, as ffmpeg measures them (renders may be shorter than the input, never smaller)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from .conftest import finish, media_facts, mp4_file, png_bytes, upload

INPUT_FPS = 10  # differs from the emulator's own render rate (8 in these tests)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {"landscape": mp4_file(folder / "wide.mp4", 160, 90, 1.5, INPUT_FPS),
            "portrait": mp4_file(folder / "tall.mp4", 90, 160, 1.5, INPUT_FPS)}


def output_facts(client, control, task_id: str, tmp_path: Path, suffix: str = ".mp4") -> dict:
    done = finish(control, client, task_id)
    assert done.status == "SUCCEEDED", done
    response = httpx.get(done.output[0], timeout=120)
    assert response.status_code == 200
    return media_facts(response.content, tmp_path, suffix)


@pytest.mark.parametrize(("resolution", "size"), [
    ("720p", (1280, 720)), ("1k", (1920, 1080)), ("2k", (2560, 1440)), ("4k", (3840, 2160)),
    (None, (2560, 1440)),  # the SDK: "Defaults to `2k`"
])
def test_video_upscale_renders_the_requested_resolution(client, control, clips, tmp_path, resolution, size):
    extra = {"resolution": resolution} if resolution else {}
    task = client.video_upscale.create(model="magnific_video_upscaler_creative",
                                       video_uri=upload(client, clips["landscape"]), **extra)
    facts = output_facts(client, control, task.id, tmp_path)
    assert facts["video"]["size"] == size
    assert facts["video"]["fps"] == INPUT_FPS
    assert 0 < facts["duration"] <= 1.6


def test_video_upscale_keeps_a_portrait_input_upright(client, control, clips, tmp_path):
    task = client.video_upscale.create(model="magnific_video_upscaler_creative",
                                       video_uri=upload(client, clips["portrait"]), resolution="1k")
    facts = output_facts(client, control, task.id, tmp_path)
    assert facts["video"]["size"] == (1080, 1920)


def test_fps_boost_raises_the_frame_rate(client, control, clips, tmp_path):
    task = client.video_upscale.create(model="magnific_video_upscaler_creative",
                                       video_uri=upload(client, clips["landscape"]), resolution="720p",
                                       fps_boost=True)
    facts = output_facts(client, control, task.id, tmp_path)
    assert facts["video"]["fps"] == 2 * INPUT_FPS
    assert facts["video"]["size"] == (1280, 720)


@pytest.mark.parametrize(("target", "fps"), [
    ("24", 24), ("25", 25), ("30", 30), ("48", 48), ("50", 50), ("60", 60), ("120", 120),
    ("23_98", 23.98), ("29_97", 29.97), ("59_94", 59.94),
])
def test_enhance_frame_rate_renders_the_target_rate_at_the_input_size(client, control, clips, tmp_path,
                                                                     target, fps):
    task = client.video_upscale.create(model="enhance_frame_rate", target_framerate=target,
                                       video_uri=upload(client, clips["landscape"]))
    facts = output_facts(client, control, task.id, tmp_path)
    assert facts["video"]["fps"] == fps
    assert facts["video"]["size"] == (160, 90)
    assert abs(facts["duration"] - 1.5) < 0.2


@pytest.mark.parametrize("factor", [2, 4, 8, 16, None])
def test_image_upscale_multiplies_each_side_by_the_scale_factor(client, control, tmp_path, factor):
    path = tmp_path / "small.png"
    path.write_bytes(png_bytes(320, 300))
    extra = {"scale_factor": factor} if factor else {}
    task = client.image_upscale.create(model="magnific_precision_upscaler_v2", image_uri=upload(client, path),
                                       **extra)
    done = finish(control, client, task.id)
    response = httpx.get(done.output[0], timeout=120)
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.size == (320 * (factor or 2), 300 * (factor or 2))  # the SDK: "Defaults to 2"
