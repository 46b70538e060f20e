"""Media probing by content, size bounds, damaged and hostile files, thumbnails."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from assets.media import (
    MAX_BYTES,
    MIN_BYTES,
    MediaError,
    MediaInfo,
    check_size,
    make_thumbnail,
    probe,
    sha256_file,
)
from runway import catalog
from tests.generations import media_samples as samples


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    """One set of real samples for the whole module (ffmpeg runs are the slow part)."""
    d = tmp_path_factory.mktemp("media")
    samples.make_png(d / "still.png", 800, 600)
    samples.make_jpeg(d / "still.jpg", 640, 480)
    samples.make_webp(d / "still.webp", 300, 400)
    samples.make_gif(d / "still.gif", 64, 48)
    samples.make_mp4(d / "clip.mp4", 2, 320, 240, with_audio=True)
    samples.make_mp4(d / "silent.mp4", 1, 160, 120)
    samples.make_webm(d / "clip.webm", 1, 160, 120)
    samples.make_wav(d / "tone.wav", 1.5)
    samples.make_mp3(d / "tone.mp3", 1)
    samples.make_m4a(d / "tone.m4a", 1)
    return d


def copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


@pytest.mark.parametrize(("name", "kind", "content_type", "ext", "size", "duration"), [
    ("still.png", "image", "image/png", ".png", (800, 600), None),
    ("still.jpg", "image", "image/jpeg", ".jpg", (640, 480), None),
    ("still.webp", "image", "image/webp", ".webp", (300, 400), None),
    ("clip.mp4", "video", "video/mp4", ".mp4", (320, 240), 2.0),
    ("silent.mp4", "video", "video/mp4", ".mp4", (160, 120), 1.0),
    ("clip.webm", "video", "video/webm", ".webm", (160, 120), 1.0),
    ("tone.wav", "audio", "audio/wav", ".wav", (None, None), 1.5),
    ("tone.mp3", "audio", "audio/mpeg", ".mp3", (None, None), 1.0),
    ("tone.m4a", "audio", "audio/mp4", ".m4a", (None, None), 1.0),
])
def test_accepted_media_probe_with_correct_facts(media_dir, name, kind, content_type, ext,
                                                 size, duration):
    path = media_dir / name
    info = probe(path)
    assert (info.kind, info.content_type, info.extension) == (kind, content_type, ext)
    assert (info.width, info.height) == size
    assert info.size == path.stat().st_size
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    if duration is None:
        assert info.duration is None
    else:
        assert info.duration == pytest.approx(duration, abs=0.1)
    assert info.has_audio == (name == "clip.mp4")
    assert probe(path, expected_kind=kind).kind == kind


def test_codecs_are_recorded(media_dir):
    assert probe(media_dir / "clip.mp4").codec == "h264"
    assert probe(media_dir / "clip.webm").codec == "vp9"
    assert probe(media_dir / "tone.wav").codec == "pcm_s16le"


def test_content_wins_over_the_name(media_dir, tmp_path):
    info = probe(copy(media_dir / "still.png", tmp_path / "movie.mp4"))
    assert (info.kind, info.content_type, info.extension) == ("image", "image/png", ".png")
    info = probe(copy(media_dir / "clip.mp4", tmp_path / "photo.jpg"))
    assert info.kind == "video" and info.extension == ".mp4"


def test_text_dressed_as_png_is_refused(tmp_path):
    path = tmp_path / "photo.png"
    path.write_text("just some notes, not a picture\n" * 40)
    with pytest.raises(MediaError, match="not an image, video or audio file we can use"):
        probe(path)


def test_random_bytes_are_refused(tmp_path):
    with pytest.raises(MediaError, match="not an image, video or audio file"):
        probe(samples.random_bytes(tmp_path / "clip.mp4", 4096))


def test_gif_is_refused_naming_the_accepted_formats(media_dir):
    with pytest.raises(MediaError, match="GIF images are not accepted; use JPEG, PNG or WebP"):
        probe(media_dir / "still.gif")


@pytest.mark.parametrize("name", ["still.png", "still.jpg", "still.webp", "clip.mp4"])
def test_truncated_files_are_refused(media_dir, tmp_path, name):
    path = samples.truncated(copy(media_dir / name, tmp_path / name))
    with pytest.raises(MediaError, match="damaged"):
        probe(path)


def test_truncated_audio_and_moov_at_end_video_are_refused(tmp_path):
    mp3 = samples.truncated(samples.make_mp3(tmp_path / "long.mp3", 5))
    with pytest.raises(MediaError, match="damaged"):
        probe(mp3)
    late_index = tmp_path / "late.mp4"
    samples._ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=2",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    str(late_index))
    with pytest.raises(MediaError):
        probe(samples.truncated(late_index, 0.9))


def test_pixel_bomb_is_refused_fast(tmp_path):
    path = samples.pixel_bomb_png(tmp_path / "bomb.png")
    assert path.stat().st_size < 2048
    started = time.monotonic()
    with pytest.raises(MediaError, match="pixels"):
        probe(path)
    assert time.monotonic() - started < 0.5


def test_oversized_images_are_refused_as_inputs_but_not_as_outputs(tmp_path):
    wide = samples.make_png(tmp_path / "wide.png", 8000, 20)
    with pytest.raises(MediaError, match="8000×20; each side must be under 8000 px"):
        probe(wide)
    assert probe(wide, max_side=None).width == 8000
    # Outputs have no side limit but the same pixel cap: the largest image Runway takes.
    with pytest.raises(MediaError, match="megapixels"):
        probe(samples.pixel_bomb_png(tmp_path / "big.png", 8000, 8000), max_side=None)


def test_expected_kind_mismatch_is_refused(media_dir):
    with pytest.raises(MediaError, match="This is an audio file; a video is needed here."):
        probe(media_dir / "tone.wav", expected_kind="video")


def test_unaccepted_container_is_refused(tmp_path):
    path = tmp_path / "clip.avi"
    samples._ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1",
                    "-c:v", "mpeg4", str(path))
    with pytest.raises(MediaError, match="not accepted"):
        probe(path)


def test_names_starting_with_a_dash_are_paths_not_options(media_dir, tmp_path):
    info = probe(copy(media_dir / "clip.mp4", tmp_path / "-i.mp4"))
    assert info.kind == "video"
    assert probe(copy(media_dir / "tone.wav", tmp_path / "-y")).kind == "audio"


def test_size_bounds_are_exact(tmp_path):
    with pytest.raises(MediaError, match="empty"):
        probe(samples.sparse_file(tmp_path / "empty.png", 0))
    with pytest.raises(MediaError, match="511 bytes"):
        probe(samples.make_png(tmp_path / "small.png", 8, 8, pad_to=MIN_BYTES - 1))
    info = probe(samples.make_png(tmp_path / "tiny.png", 8, 8, pad_to=MIN_BYTES))
    assert (info.kind, info.size, info.width) == ("image", 512, 8)
    # A 200 MiB file of zeros passes the size check and fails on content, not on size.
    at_limit = samples.sparse_file(tmp_path / "limit.mp4", MAX_BYTES)
    with pytest.raises(MediaError) as limit_error:
        probe(at_limit)
    assert "too large" not in str(limit_error.value)
    over = samples.sparse_file(tmp_path / "over.mp4", MAX_BYTES + 1)
    with pytest.raises(MediaError, match="too large .*the limit is 200 MB"):
        probe(over)


def test_check_size_alone():
    for ok in (MIN_BYTES, MAX_BYTES):
        check_size(ok)
    for bad in (0, MIN_BYTES - 1, MAX_BYTES + 1):
        with pytest.raises(MediaError):
            check_size(bad)


def test_missing_file_is_a_media_error(tmp_path):
    with pytest.raises(MediaError, match="could not be read"):
        probe(tmp_path / "nothing-here.png")


def test_sha256_file_streams_the_whole_file(tmp_path):
    path = samples.random_bytes(tmp_path / "blob", 3 * 1024 * 1024 + 17)
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def _decoded(path: Path) -> Image.Image:
    with Image.open(path) as img:
        img.load()
        return img.copy()


@pytest.mark.parametrize(("name", "max_side", "expected"), [
    ("still.png", 480, (480, 360)),
    ("still.jpg", 200, (200, 150)),
    ("still.webp", 480, (300, 400)),  # never enlarged
    ("clip.mp4", 480, (320, 240)),
    ("clip.webm", 100, (100, 75)),
    ("tone.wav", 480, (480, 192)),
    ("tone.mp3", 300, (300, 120)),
    ("tone.m4a", 480, (480, 192)),
])
def test_thumbnails_are_decodable_jpegs(media_dir, tmp_path, name, max_side, expected):
    path = media_dir / name
    out = tmp_path / "thumb.jpg"
    make_thumbnail(path, probe(path), out, max_side=max_side)
    thumb = _decoded(out)
    assert Image.open(out).format == "JPEG"
    assert thumb.size == expected
    assert thumb.mode == "RGB"


def test_waveform_shows_a_louder_tone(tmp_path):
    path = samples.make_wav(tmp_path / "tone.wav", 1)
    out = tmp_path / "wave.jpg"
    make_thumbnail(path, probe(path), out)
    thumb = _decoded(out)
    background = thumb.getpixel((5, 2))
    middle = thumb.getpixel((thumb.width // 2, thumb.height // 2))
    assert middle != background


def test_poster_falls_back_to_the_first_frame_for_a_short_clip(tmp_path):
    path = samples.make_mp4(tmp_path / "short.mp4", 0.3, 64, 48)
    info = probe(path)
    # Pretend the clip is longer than it is: the ~1 s frame doesn't exist.
    info = MediaInfo(**{**info.__dict__, "duration": 30.0})
    make_thumbnail(path, info, tmp_path / "poster.jpg")
    assert _decoded(tmp_path / "poster.jpg").size == (64, 48)


def test_transparent_png_thumbnail_is_flattened_on_white(tmp_path):
    path = tmp_path / "clear.png"
    meta = PngImagePlugin.PngInfo()
    meta.add_text("pad", "x" * MIN_BYTES)  # a blank image compresses below the minimum
    Image.new("RGBA", (600, 600), (0, 0, 0, 0)).save(path, pnginfo=meta)
    out = tmp_path / "clear.jpg"
    make_thumbnail(path, probe(path), out)
    assert _decoded(out).getpixel((10, 10)) == (255, 255, 255)


def test_facts_feed_the_catalog(media_dir):
    act_two = catalog.get_model("character_performance", "act_two")
    assets = {"character": probe(media_dir / "still.jpg").facts(),
              "reference": probe(media_dir / "clip.mp4").facts()}
    errors = catalog.validate(act_two, {"character": "a", "reference": "b"}, assets)
    # The real 2 s clip is too short for Act-Two's 3–30 s reference.
    assert list(errors) == ["reference"]


def test_outputs_may_be_smaller_than_the_input_minimum(tmp_path):
    tiny = samples.make_png(tmp_path / "tiny.png", 8, 8)
    assert tiny.stat().st_size < MIN_BYTES
    with pytest.raises(MediaError, match="too small"):
        probe(tiny)
    assert probe(tiny, max_side=None, min_bytes=1).kind == "image"
