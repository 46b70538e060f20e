"""Output containers follow `outputFormat` / `format`: the bytes (probed with ffmpeg), the file name's
extension and the Content-Type the file server sends all agree with what the SDK documents."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import runwayml
from PIL import Image

from emulator.media import ffmpeg_exe
from emulator.testing import EmulatorServer

from .conftest import finish, media_facts, upload

MP4 = ("mp4", "video/mp4")
MOV = ("mov", "video/quicktime")
ZIP = ("zip", "application/zip")
BT2020_PQ = ("bt2020nc", "bt2020", "smpte2084")
BT2020_HLG = ("bt2020nc", "bt2020", "arib-std-b67")
BT709 = ("bt709", "bt709", "bt709")
# ffmpeg's names for the ProRes profiles of the SDK's `proresProfile`
PRORES = {"422 Proxy": "Proxy", "422 LT": "LT", "422": "Standard", "422 HQ": "HQ", "4444": "4444",
          "4444 XQ": "XQ"}


def fetch(client, control, task_id: str) -> list[httpx.Response]:
    done = finish(control, client, task_id)
    assert done.status == "SUCCEEDED", done
    responses = [httpx.get(url, timeout=120) for url in done.output]
    assert all(r.status_code == 200 for r in responses)
    return responses


def extension(response: httpx.Response) -> str:
    return urlsplit(str(response.url)).path.rsplit(".", 1)[-1]


def check_file(response: httpx.Response, kind: tuple[str, str]) -> None:
    assert (extension(response), response.headers["content-type"]) == kind


def gen45(client, control, **options) -> httpx.Response:
    task = client.text_to_video.create(model="gen4.5", prompt_text="a lighthouse at night", ratio="1280:720",
                                       duration=2, **options)
    (response,) = fetch(client, control, task.id)
    return response


def frames_of(response: httpx.Response, tmp_path: Path) -> tuple[list[str], dict[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    names = archive.namelist()
    return names, {name: archive.read(name) for name in names}


# --- video -----------------------------------------------------------------------------------


def test_mp4_is_the_default_h264(client, control, tmp_path):
    response = gen45(client, control)
    check_file(response, MP4)
    assert media_facts(response.content, tmp_path, ".mp4")["video"]["codec"] == "h264"
    assert gen45(client, control, output_format="mp4").headers["content-type"] == "video/mp4"


@pytest.mark.parametrize("profile", [*PRORES, None])
def test_prores_is_a_quicktime_file_of_the_requested_profile(client, control, tmp_path, profile):
    extra = {"prores_profile": profile} if profile else {}
    response = gen45(client, control, output_format="prores", **extra)
    check_file(response, MOV)
    facts = media_facts(response.content, tmp_path, ".mov")
    assert facts["container"].startswith("mov,")
    assert response.content[4:12] == b"ftypqt  "
    assert facts["video"]["codec"] == "prores"
    assert facts["video"]["profile"] == PRORES[profile or "4444"]  # the SDK: prores defaults to 4444
    assert facts["video"]["size"][0] / facts["video"]["size"][1] == pytest.approx(16 / 9, abs=0.02)
    assert facts["duration"] == pytest.approx(2, abs=0.2)


@pytest.mark.parametrize(("fmt", "kind", "profile", "pix_fmt", "color"), [
    ("hdr10", MP4, "Main 10", "yuv420p10le", BT2020_PQ),
    ("hlg", MP4, "Main 10", "yuv420p10le", BT2020_HLG),
    ("sdr_rec709_10bit", MP4, "Main 10", "yuv420p10le", BT709),
    ("hdr_pq_12bit_master", MOV, "Rext", "yuv444p12le", BT2020_PQ),
])
def test_hevc_formats_carry_their_depth_and_colour_tags(client, control, tmp_path, fmt, kind, profile,
                                                        pix_fmt, color):
    response = gen45(client, control, output_format=fmt)
    check_file(response, kind)
    video = media_facts(response.content, tmp_path, f".{kind[0]}")["video"]
    assert (video["codec"], video["profile"], video["pix_fmt"], video["color"]) == ("hevc", profile, pix_fmt, color)


@pytest.mark.parametrize(("profile", "name"), [(None, "HQ"), ("422", "Standard"), ("4444", "4444")])
def test_hdr_prores_is_pq_prores_defaulting_to_422_hq(client, control, tmp_path, profile, name):
    extra = {"prores_profile": profile} if profile else {}
    response = gen45(client, control, output_format="hdr_prores", **extra)
    check_file(response, MOV)
    video = media_facts(response.content, tmp_path, ".mov")["video"]
    assert (video["codec"], video["profile"], video["color"]) == ("prores", name, BT2020_PQ)


def check_sequence(response: httpx.Response, tmp_path: Path, frame_ext: str, codec: str, pix_fmt: str,
                   seconds: float, vfx_names: bool = False, sidecars: tuple[str, ...] = ()) -> dict[str, bytes]:
    check_file(response, ZIP)
    names, files = frames_of(response, tmp_path)
    frames = sorted(n for n in names if n.endswith(f".{frame_ext}"))
    assert set(names) - set(frames) >= set(sidecars)
    assert len(frames) == pytest.approx(seconds * 8, abs=1)  # the tests' emulator renders 8 fps
    if vfx_names:
        assert frames[0] == "frame.0001.exr"
    for name in (frames[0], frames[-1]):
        video = media_facts(files[name], tmp_path, f".{frame_ext}")["video"]
        assert (video["codec"], video["pix_fmt"]) == (codec, pix_fmt)
    for sidecar in sidecars:
        if sidecar.endswith(".json"):
            assert isinstance(json.loads(files[sidecar]), dict)
    return files


def test_png_sequence_is_a_zip_of_png_frames(client, control, tmp_path):
    response = gen45(client, control, output_format="png_sequence")
    check_sequence(response, tmp_path, "png", "png", "rgb24", 2)


def test_hdr_png_sequence_is_16_bit_png_with_a_colorimetry_sidecar(client, control, tmp_path):
    response = gen45(client, control, output_format="hdr_png_sequence")
    check_sequence(response, tmp_path, "png", "png", "rgb48be", 2, sidecars=("colorimetry.json",))


@pytest.mark.parametrize(("fmt", "vfx"), [("hdr_exr_sequence", False), ("hdr_exr_acescg_sequence_1_3", True),
                                          ("hdr_exr_acescg_sequence_2_0", True)])
def test_exr_sequences_are_half_float_exr_frames(client, control, tmp_path, fmt, vfx):
    response = gen45(client, control, output_format=fmt)
    check_sequence(response, tmp_path, "exr", "exr", "gbrpf16le", 2, vfx_names=vfx, sidecars=("colorimetry.json",))


@pytest.mark.parametrize(("fmt", "kind", "codec"), [
    ("mp4", MP4, "h264"), ("prores", MOV, "prores"), ("sdr_rec709_10bit", MP4, "hevc"), ("png_sequence", ZIP, None),
])
def test_aleph2_output_formats(client, control, video_path, tmp_path, fmt, kind, codec):
    task = client.video_to_video.create(model="aleph2", video_uri=upload(client, video_path),
                                        prompt_text="make it dusk", output_format=fmt)
    (response,) = fetch(client, control, task.id)
    check_file(response, kind)
    if codec:
        assert media_facts(response.content, tmp_path, f".{kind[0]}")["video"]["codec"] == codec
    else:
        check_sequence(response, tmp_path, "png", "png", "rgb24", 2)


def test_seedance2_5_mov_is_a_quicktime_file_with_its_sound_track(client, control, tmp_path):
    task = client.text_to_video.create(model="seedance2_5", prompt_text="waves", duration=2, output_format="mov",
                                       audio=True)
    (response,) = fetch(client, control, task.id)
    check_file(response, MOV)
    facts = media_facts(response.content, tmp_path, ".mov")
    assert response.content[4:12] == b"ftypqt  "
    assert facts["video"] is not None and facts["audio"] is not None


# --- video_to_hdr (ruby) ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def clip_with_sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hdr") / "sounding.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=size=160x90:rate=8", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=24000",
                    "-t", "1.5", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                    str(path)], check=True)
    return path


def ruby(client, control, video: Path, **options) -> httpx.Response:
    task = client.video_to_hdr.create(model="ruby", video_uri=upload(client, video), **options)
    (response,) = fetch(client, control, task.id)
    return response


@pytest.mark.parametrize(("options", "kind", "codec", "profile", "color"), [
    ({}, MP4, "hevc", "Main 10", BT2020_PQ),  # the SDK: hdr10 is the default
    ({"output_format": "hdr10"}, MP4, "hevc", "Main 10", BT2020_PQ),
    ({"output_format": "hlg"}, MP4, "hevc", "Main 10", BT2020_HLG),
    ({"output_format": "hdr_prores"}, MOV, "prores", "HQ", BT2020_PQ),
    ({"output_format": "hdr_prores", "prores_profile": "422"}, MOV, "prores", "Standard", BT2020_PQ),
    ({"output_format": "hdr_prores", "prores_profile": "4444"}, MOV, "prores", "4444", BT2020_PQ),
])
def test_ruby_video_formats(client, control, video_path, tmp_path, options, kind, codec, profile, color):
    response = ruby(client, control, video_path, **options)
    check_file(response, kind)
    video = media_facts(response.content, tmp_path, f".{kind[0]}")["video"]
    assert (video["codec"], video["profile"], video["color"]) == (codec, profile, color)
    assert video["size"] == (160, 90)


@pytest.mark.parametrize(("fmt", "vfx"), [("hdr_exr_sequence", False), ("hdr_exr_acescg_sequence_1_3", True),
                                          ("hdr_exr_acescg_sequence_2_0", True)])
def test_ruby_exr_zip_holds_frames_sidecars_and_the_source_audio(client, control, clip_with_sound, tmp_path,
                                                                 fmt, vfx):
    response = ruby(client, control, clip_with_sound, output_format=fmt)
    files = check_sequence(response, tmp_path, "exr", "exr", "gbrpf16le", 1.5, vfx_names=vfx,
                           sidecars=("colorimetry.json", "provenance.json", "audio.wav"))
    assert media_facts(files["audio.wav"], tmp_path, ".wav")["audio"]["codec"] == "pcm_s16le"


def test_ruby_exr_zip_of_a_silent_source_has_no_audio(client, control, video_path, tmp_path):
    response = ruby(client, control, video_path, output_format="hdr_exr_sequence")
    names, _ = frames_of(response, tmp_path)
    assert "audio.wav" not in names


# --- audio -----------------------------------------------------------------------------------

AUDIO = {"mp3": ("mp3", "audio/mpeg", "mp3"), "wav": ("wav", "audio/wav", "pcm_s16le"),
         "flac": ("flac", "audio/flac", "flac"), "ogg_opus": ("ogg", "audio/ogg", "opus")}


def check_audio(response: httpx.Response, tmp_path: Path, fmt: str, seconds: float | None = None) -> dict:
    ext, content_type, codec = AUDIO[fmt]
    check_file(response, (ext, content_type))
    facts = media_facts(response.content, tmp_path, f".{ext}")
    assert facts["video"] is None
    assert facts["audio"]["codec"] == codec
    if seconds is not None:
        assert facts["duration"] == pytest.approx(seconds, abs=0.1)
    return facts


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac"])
def test_mirelo_sound_effect_format(client, control, tmp_path, fmt):
    task = client.sound_effect.create(model="mirelo_sfx_2_0", prompt_text="door creak", duration=2, format=fmt,
                                      num_variants=2)
    responses = fetch(client, control, task.id)
    assert len(responses) == 2
    for response in responses:
        check_audio(response, tmp_path, fmt, 2)


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac"])
def test_mirelo_video_to_audio_format(client, control, video_path, tmp_path, fmt):
    task = client.video_to_audio.create(model="mirelo_sfx_2_0", video_uri=upload(client, video_path), duration=2,
                                        format=fmt)
    (response,) = fetch(client, control, task.id)
    check_audio(response, tmp_path, fmt, 2)


@pytest.mark.parametrize("endpoint", ["sound_effect", "text_to_speech"])
@pytest.mark.parametrize("fmt", ["wav", "mp3", "ogg_opus"])
def test_seed_audio_output_format(client, control, tmp_path, endpoint, fmt):
    task = getattr(client, endpoint).create(model="seed_audio", prompt_text="a short hello to everyone",
                                            output_format=fmt)
    (response,) = fetch(client, control, task.id)
    check_audio(response, tmp_path, fmt)


@pytest.mark.parametrize(("fmt", "rate"), [("wav", 8000), ("wav", 44100), ("mp3", 16000), ("mp3", 48000),
                                           ("ogg_opus", 48000)])
def test_seed_audio_sample_rate(client, control, tmp_path, fmt, rate):
    task = client.text_to_speech.create(model="seed_audio", prompt_text="one two three", output_format=fmt,
                                        sample_rate=rate)
    (response,) = fetch(client, control, task.id)
    assert check_audio(response, tmp_path, fmt)["audio"]["rate"] == rate


# --- images ----------------------------------------------------------------------------------

IMAGES = {"png": ("png", "image/png", "PNG"), "jpeg": ("jpg", "image/jpeg", "JPEG"),
          "webp": ("webp", "image/webp", "WEBP")}


@pytest.mark.parametrize(("model", "fmt", "expected"), [
    ("muse_image", "webp", "webp"), ("muse_image", "png", "png"), ("muse_image", "jpeg", "jpeg"),
    ("muse_image", None, "png"),  # the SDK: "Defaults to png."
    ("recraft_v4_1_flash", None, "webp"),  # the SDK: "Defaults to webp."
    ("recraft_v4_1_flash", "png", "png"),
    ("seedream5_pro", None, "png"),
])
def test_image_output_format(client, control, model, fmt, expected):
    extra = {"output_format": fmt} if fmt else {}
    ratio = "1600:1600" if model == "muse_image" else "1024:1024"
    task = client.text_to_image.create(model=model, prompt_text="a red kite", ratio=ratio, **extra)
    (response,) = fetch(client, control, task.id)
    ext, content_type, pil_format = IMAGES[expected]
    check_file(response, (ext, content_type))
    assert Image.open(io.BytesIO(response.content)).format == pil_format


# --- placeholders (--no-render) ----------------------------------------------------------------


def test_placeholders_keep_the_container_and_the_sound_track(tmp_path):
    """Without real renders the files are tiny, but still of the format asked."""
    with EmulatorServer(render=False, speed=0) as server:
        sdk = runwayml.RunwayML(api_key="key_test", base_url=server.url, max_retries=0)
        cases = [
            (sdk.text_to_video.create(model="gen4.5", prompt_text="x", ratio="1280:720", duration=2,
                                      output_format="prores"), MOV, "prores"),
            (sdk.text_to_video.create(model="gen4.5", prompt_text="x", ratio="1280:720", duration=2,
                                      output_format="png_sequence"), ZIP, None),
            (sdk.text_to_video.create(model="veo3.1", prompt_text="x", ratio="1280:720", duration=4, audio=True),
             MP4, "h264"),
        ]
        for task, kind, codec in cases:
            response = httpx.get(sdk.tasks.retrieve(task.id).output[0], timeout=60)
            check_file(response, kind)
            if codec is None:
                names, _ = frames_of(response, tmp_path)
                assert names and all(n.endswith(".png") for n in names)
                continue
            facts = media_facts(response.content, tmp_path, f".{kind[0]}")
            assert facts["video"]["codec"] == codec
            assert (facts["audio"] is not None) == (kind == MP4)
        flac = sdk.sound_effect.create(model="mirelo_sfx_2_0", prompt_text="x", duration=1, format="flac")
        check_audio(httpx.get(sdk.tasks.retrieve(flac.id).output[0], timeout=60), tmp_path, "flac")
