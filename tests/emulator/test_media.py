"""Outputs are real media derived from the request: decoded and checked against it."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from .conftest import finish, probe, upload, wav_seconds


def download(url: str) -> httpx.Response:
    response = httpx.get(url, timeout=60)
    assert response.status_code == 200, response.text
    return response


def test_image_to_video_is_h264_at_ratio_and_duration(client, control, image_path, tmp_path):
    uri = upload(client, image_path)
    task = client.image_to_video.create(model="gen4.5", prompt_image=uri, prompt_text="slow zoom",
                                        ratio="720:1280", duration=3)
    done = finish(control, client, task.id)
    response = download(done.output[0])
    assert response.headers["content-type"] == "video/mp4"
    facts = probe(response.content, tmp_path, ".mp4")
    assert ("Video", "h264") in facts["streams"]
    width, height = facts["size"]
    assert abs(width / height - 720 / 1280) < 0.02
    assert max(width, height) <= 320
    assert abs(facts["duration"] - 3) < 0.2


def test_text_to_image_png_at_ratio_with_several_outputs(client, control):
    task = client.text_to_image.create(model="gpt_image_2", prompt_text="a lighthouse",
                                       ratio="1920:1088", output_count=2)
    done = finish(control, client, task.id)
    assert len(done.output) == 2
    images = [Image.open(io.BytesIO(download(url).content)) for url in done.output]
    for image in images:
        assert image.format == "PNG"
        assert abs(image.width / image.height - 1920 / 1088) < 0.01
    assert images[0].tobytes() != images[1].tobytes()


def test_jpeg_output_when_asked(client, control):
    task = client.text_to_image.create(model="seedream5_pro", prompt_text="a lighthouse",
                                       ratio="1024:1024", output_format="jpeg")
    done = finish(control, client, task.id)
    image = Image.open(io.BytesIO(download(done.output[0]).content))
    assert image.format == "JPEG"
    assert image.width == image.height


def test_image_upscale_really_is_larger(client, control, image_path):
    uri = upload(client, image_path)
    task = client.image_upscale.create(model="magnific_precision_upscaler_v2", image_uri=uri,
                                       scale_factor=2)
    done = finish(control, client, task.id)
    image = Image.open(io.BytesIO(download(done.output[0]).content))
    assert image.size == (1280, 720)


def test_video_to_video_treats_the_input_video(client, control, video_path, tmp_path):
    uri = upload(client, video_path)
    task = client.video_to_video.create(model="aleph2", video_uri=uri, prompt_text="make it dusk")
    done = finish(control, client, task.id)
    facts = probe(download(done.output[0]).content, tmp_path, ".mp4")
    assert ("Video", "h264") in facts["streams"]
    assert facts["size"] == (160, 90)
    assert abs(facts["duration"] - 2) < 0.3


def test_video_upscale_is_larger(client, control, video_path, tmp_path):
    uri = upload(client, video_path)
    task = client.video_upscale.create(model="magnific_video_upscaler_creative", video_uri=uri)
    done = finish(control, client, task.id)
    facts = probe(download(done.output[0]).content, tmp_path, ".mp4")
    assert facts["size"] == (2560, 1440)  # 160x90 at the default resolution, 2k


def test_text_to_video_without_input_renders_the_prompt(client, control, tmp_path):
    task = client.text_to_video.create(model="veo3.1_fast", prompt_text="a red kite", ratio="1920:1080",
                                       duration=4)
    done = finish(control, client, task.id)
    facts = probe(download(done.output[0]).content, tmp_path, ".mp4")
    assert abs(facts["duration"] - 4) < 0.2
    width, height = facts["size"]
    assert abs(width / height - 16 / 9) < 0.02


def test_sound_effect_is_wav_of_requested_duration(client, control):
    task = client.sound_effect.create(model="eleven_text_to_sound_v2", prompt_text="rain", duration=3)
    done = finish(control, client, task.id)
    response = download(done.output[0])
    assert response.headers["content-type"] == "audio/wav"
    assert abs(wav_seconds(response.content) - 3) < 0.01


def test_mp3_when_asked(client, control, tmp_path):
    task = client.text_to_speech.create(model="seed_audio", prompt_text="hello there, how are you",
                                        output_format="mp3")
    done = finish(control, client, task.id)
    facts = probe(download(done.output[0]).content, tmp_path, ".mp3")
    assert ("Audio", "mp3") in facts["streams"]


def test_voice_isolation_keeps_input_length(client, control, audio_path):
    uri = upload(client, audio_path)
    task = client.voice_isolation.create(model="eleven_voice_isolation", audio_uri=uri)
    done = finish(control, client, task.id)
    assert abs(wav_seconds(download(done.output[0]).content) - 6) < 0.05


def test_output_is_rendered_once_and_cached(client, control):
    task = client.text_to_image.create(model="gen4_image", prompt_text="a fox", ratio="720:720")
    done = finish(control, client, task.id)
    first = download(done.output[0]).content
    control.advance_clock(10)
    again = client.tasks.retrieve(task.id)
    assert again.output[0] != done.output[0]  # re-signed on every GET
    assert download(again.output[0]).content == first
    assert control.state()["requests"]["GET /_files/{task_id}/{name}"] == 2
