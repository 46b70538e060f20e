"""A ZIP of frames from Runway is unpacked under our own names, within its bounds, in the right order.

The ZIPs are real archives of real PNG frames (Pillow); what the preview shows is read
back from the H.264 file by ffmpeg, not from our code.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import zipfile
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

from assets import previews, sequences
from assets.decoding import MediaError

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]


def png(colour: tuple[int, int, int], size: tuple[int, int] = (64, 36)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def frame_colours(video: Path, count: int) -> list[tuple[int, int, int]]:
    """The middle pixel of each of the first `count` frames, as ffmpeg decodes them."""
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(video), "-frames:v", str(count),
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    w, h = 64, 36
    size = w * h * 3
    middle = (h // 2 * w + w // 2) * 3
    return [tuple(raw[i * size + middle:i * size + middle + 3]) for i in range(count)]


def close(a, b, tolerance=40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_frames_play_in_natural_name_order_at_the_rate_the_sidecar_states(tmp_path):
    # Stored out of order, and named so that plain string order would put frame.10 second.
    names = ["frame.10.png", "frame.2.png", "frame.1.png", "frame.3.png"]
    colours = dict(zip(["frame.1.png", "frame.2.png", "frame.3.png", "frame.10.png"], COLOURS, strict=True))
    entries = {name: png(colours[name]) for name in names}
    entries["meta.json"] = json.dumps({"fps": "2"}).encode()
    delivered = make_zip(tmp_path / "takes-gen1-x.zip", entries)
    with previews.opened(delivered, seconds=10) as delivery:
        assert delivery.info.kind == "video" and delivery.info.content_type == "application/zip"
        assert (delivery.info.width, delivery.info.height, delivery.info.duration) == (64, 36, 2.0)
        assert delivery.needs_preview
        preview = tmp_path / "preview.mp4"
        played = delivery.write_preview(preview, timeout=60)
        folder = delivery.sequence.folder
    assert not folder.exists()  # unpacked frames go with the block
    assert played.codec == "h264" and played.container == "mp4" and abs(played.duration - 2.0) < 0.1
    seen = frame_colours(preview, 4)
    assert all(close(a, b) for a, b in zip(seen, COLOURS, strict=True)), seen


def test_without_a_sidecar_the_rate_is_the_frames_over_the_length_asked(tmp_path):
    delivered = make_zip(tmp_path / "seq.zip", {f"{i:04d}.png": png(COLOURS[i % 4]) for i in range(1, 25)})
    with previews.opened(delivered, seconds=2) as delivery:
        assert delivery.sequence.fps == 12 and delivery.info.duration == 2.0
    with previews.opened(delivered) as delivery:
        assert delivery.sequence.fps == sequences.DEFAULT_FPS and delivery.info.duration == 1.0


def test_entry_names_are_never_used_as_paths(tmp_path):
    inside = tmp_path / "downloads"
    inside.mkdir()
    delivered = make_zip(inside / "seq.zip", {"../../escaped.png": png(COLOURS[0]), "/abs/escaped2.png": png(COLOURS[1])})
    with previews.opened(delivered, seconds=1) as delivery:
        assert sorted(p.name for p in delivery.sequence.folder.iterdir()) == ["00001.png", "00002.png"]
    assert not list(tmp_path.rglob("escaped*"))


@pytest.mark.parametrize(("entries", "message"), [
    ({"readme.txt": b"hello"}, "no PNG or EXR frames"),
    ({}, "no PNG or EXR frames"),
])
def test_a_zip_without_frames_is_refused(tmp_path, entries, message):
    with pytest.raises(MediaError, match=message), previews.opened(make_zip(tmp_path / "x.zip", entries)):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["x.zip"]  # nothing left behind


def test_a_zip_that_lies_about_its_sizes_stops_at_its_bound(tmp_path):
    delivered = make_zip(tmp_path / "bomb.zip", {"0001.png": png(COLOURS[0]), "0002.png": png(COLOURS[1])})
    data = bytearray(delivered.read_bytes())
    # The central directory says the first frame is 10 bytes long (compressed and not).
    at = data.index(b"PK\x01\x02")
    data[at + 20:at + 28] = struct.pack("<II", 10, 10)
    delivered.write_bytes(bytes(data))
    with pytest.raises(MediaError), previews.opened(delivered):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["bomb.zip"]


def test_a_damaged_zip_is_refused_with_a_message(tmp_path):
    delivered = make_zip(tmp_path / "cut.zip", {f"{i:04d}.png": png(COLOURS[i % 4]) for i in range(1, 5)})
    delivered.write_bytes(delivered.read_bytes()[:-60])  # the end of the central directory is gone
    with pytest.raises(MediaError, match="damaged"), previews.opened(delivered):
        pass


def test_a_damaged_frame_fails_the_preview_not_the_delivery(tmp_path):
    frames = {f"{i:04d}.png": png(COLOURS[i % 4]) for i in range(1, 5)}
    frames["0003.png"] = frames["0003.png"][:40]  # cut short
    delivered = make_zip(tmp_path / "seq.zip", frames)
    with previews.opened(delivered, seconds=1) as delivery:
        assert delivery.info.width == 64  # the first frame is whole
        with pytest.raises(MediaError, match="No playable copy"):
            delivery.write_preview(tmp_path / "preview.mp4", timeout=60)
