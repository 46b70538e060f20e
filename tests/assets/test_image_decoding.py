"""Images are refused on their header past Runway's limits, and decoded once, in bounded memory.

The large files here are real PNGs written row by row (never held as an image), like the
127 KB 7999×4999 PNG of issue #15 that took four uploads from 210 MB to 1.93 GB.
"""

from __future__ import annotations

import io
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image, ImageChops, ImageFile

from assets import decoding, media
from assets.models import Asset
from tests.generations import media_samples

ROOT = Path(__file__).resolve().parents[2]
SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type → samples per pixel


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def streamed_png(path: Path, w: int, h: int, *, color_type: int = 2, idat: int = 1 << 16) -> Path:
    """An 8-bit PNG of shifting stripes, compressed as it is written (a few MB of memory)."""
    base = bytes((x * 7) % 251 for x in range(w * CHANNELS[color_type] + 251))
    pack = zlib.compressobj(1)
    with path.open("wb") as f:
        f.write(SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)))
        pending = b""
        for y in range(h):
            shift = (y * 3) % 251
            pending += pack.compress(b"\x00" + base[shift:shift + w * CHANNELS[color_type]])
            if len(pending) >= idat:
                f.write(_chunk(b"IDAT", pending))
                pending = b""
        f.write(_chunk(b"IDAT", pending + pack.flush()) + _chunk(b"IEND", b""))
    return path


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _filtered(rows: list[bytes], bpp: int) -> bytes:
    """The rows with PNG filters 0–4 in turn (every kind, across every strip boundary)."""
    out = bytearray()
    prior = bytes(len(rows[0]))
    for y, row in enumerate(rows):
        kind = y % 5
        out.append(kind)
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prior[i]
            c = prior[i - bpp] if i >= bpp else 0
            predicted = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
            out.append((x - predicted) & 0xFF)
        prior = row
    return bytes(out)


def handmade_png(path: Path, w: int, h: int, color_type: int, depth: int, *, seed: int = 1,
                 transparency: bool = False, exif: bytes | None = None) -> Path:
    """Noise in any PNG format Pillow can't write (16-bit colour, 2- and 4-bit, colour keys)."""
    rng = random.Random(seed)
    bits = depth * CHANNELS[color_type]
    rowbytes = (w * bits + 7) // 8
    rows = [rng.randbytes(rowbytes) for _ in range(h)]
    if color_type == 3 and depth == 8:
        rows = [bytes(v % 40 for v in row) for row in rows]  # indices inside a 40-entry palette
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0))]
    if color_type == 3:
        entries = min(40, 1 << depth)
        chunks.append(_chunk(b"PLTE", rng.randbytes(3 * entries)))
        if transparency:
            chunks.append(_chunk(b"tRNS", rng.randbytes(entries // 2)))
    elif transparency and color_type in (0, 2):
        chunks.append(_chunk(b"tRNS", rows[0][: 2 * CHANNELS[color_type]]))
    if exif is not None:
        chunks.append(_chunk(b"eXIf", exif))
    data = zlib.compress(_filtered(rows, max(1, bits // 8)))
    for start in range(0, len(data), 700):  # many IDAT chunks, split anywhere
        chunks.append(_chunk(b"IDAT", data[start:start + 700]))
    path.write_bytes(SIGNATURE + b"".join(chunks) + _chunk(b"IEND", b""))
    return path


def interlaced_png(path: Path, w: int, h: int) -> Path:
    """An Adam7-interlaced 8-bit RGB PNG of a smooth gradient."""
    pixels = [[bytes((x * 255 // w, y * 255 // h, 128)) for x in range(w)] for y in range(h)]
    raw = bytearray()
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                           (1, 0, 2, 2), (0, 1, 1, 2)]:
        for y in range(y0, h, dy):
            row = b"".join(pixels[y][x] for x in range(x0, w, dx))
            if row:
                raw += b"\x00" + row
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    path.write_bytes(SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(raw)))
                     + _chunk(b"IEND", b""))
    return path


def flattened(img: Image.Image) -> Image.Image:
    """What a thumbnail is made from: L and RGB as they are, anything else on white."""
    if img.mode in ("L", "RGB"):
        return img
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def reference(path: Path, factor: int) -> Image.Image:
    """Pillow's own full decode, flattened and reduced: what the bounded decode must equal."""
    with Image.open(path) as img:
        img.load()
        out = flattened(img)
        return out.reduce(factor) if factor > 1 else out.copy()


# --- limits, on the header ------------------------------------------------------------------


def test_pillow_refuses_what_we_refuse():
    # One limit: the largest image Runway takes (each side under 8000 px, CONTRACT §5.4).
    assert decoding.MAX_IMAGE_PIXELS == decoding.MAX_IMAGE_SIDE ** 2 == 7999 * 7999
    assert Image.MAX_IMAGE_PIXELS == decoding.MAX_IMAGE_PIXELS


def test_the_largest_image_runway_accepts_is_accepted(tmp_path):
    path = streamed_png(tmp_path / "square.png", 7999, 7999, color_type=0)
    info = media.probe(path)
    assert (info.width, info.height) == (7999, 7999)
    media.make_thumbnail(path, info, tmp_path / "thumb.jpg")
    with Image.open(tmp_path / "thumb.jpg") as thumb:
        assert thumb.size == (480, 480)


@pytest.mark.parametrize(("w", "h", "max_side", "message"), [
    (8000, 5000, media.MAX_IMAGE_SIDE, "8000×5000; each side must be under 8000 px"),
    (7999, 8000, media.MAX_IMAGE_SIDE, "7999×8000; each side must be under 8000 px"),
    (8000, 7999, None, r"8000×7999, 64\.0 megapixels; we accept up to 63\.98"),
    (60000, 60000, None, "megapixels"),  # past Pillow's own bomb error, still our message
])
def test_past_the_limits_is_refused_on_the_header(tmp_path, w, h, max_side, message):
    path = media_samples.pixel_bomb_png(tmp_path / "big.png", w, h)
    with pytest.raises(media.MediaError, match=message):
        media.probe(path, max_side=max_side)


def test_an_image_declaring_more_rows_than_it_holds_is_damaged(tmp_path):
    path = media_samples.pixel_bomb_png(tmp_path / "short.png", 7999, 7999)
    with pytest.raises(media.MediaError, match="damaged"):
        media.probe(path)


def test_an_upload_past_the_side_limit_answers_400_and_keeps_nothing(
        editor_client, project, media_root, tmp_path):
    path = streamed_png(tmp_path / "over.png", 8000, 5000)
    with path.open("rb") as fp:
        response = editor_client.post(reverse("assets:list", args=[project.slug]),
                                      {"file": fp, "name": "over"})
    assert response.status_code == 400
    assert "8000×5000; each side must be under 8000 px" in response.content.decode()
    assert not Asset.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


# --- decoded once, in bounded memory -----------------------------------------------------------


@pytest.fixture(scope="module")
def issue_png(tmp_path_factory) -> Path:
    """The shape of issue #15's file: 7999×4999 RGB, a couple of hundred KB."""
    return streamed_png(tmp_path_factory.mktemp("big") / "wide.png", 7999, 4999)


def test_an_upload_decodes_the_image_at_full_size_at_most_once(
        editor_client, project, media_root, issue_png, monkeypatch):
    decoded: dict[int, tuple[int, int]] = {}
    load = ImageFile.ImageFile.load

    def counting_load(self):  # Pillow's, wrapped: which images get their pixels decoded
        decoded[id(self)] = self.size
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    with issue_png.open("rb") as fp:
        response = editor_client.post(reverse("assets:list", args=[project.slug]),
                                      {"file": fp, "name": "wide"})
    assert response.status_code == 302
    asset = Asset.objects.get()
    assert (asset.width, asset.height) == (7999, 4999)
    assert list(decoded.values()).count((7999, 4999)) <= 1
    with asset.thumbnail.open("rb") as fp, Image.open(fp) as thumb:
        assert thumb.size == (480, 300)


# VmHWM, not getrusage: ru_maxrss survives fork and exec, so a child would start at the size
# of the pytest process that spawned it.
PEAK_SCRIPT = """
import sys
from pathlib import Path
from assets import media

def peak_mb():
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024

before = peak_mb()
info = media.probe(sys.argv[1])
media.make_thumbnail(sys.argv[1], info, sys.argv[2])
print(peak_mb() - before)
"""


def test_probing_and_thumbnailing_the_issue_image_stays_small(issue_png, tmp_path):
    # Decoded in full, this image alone is 160 MB in Pillow (4 bytes a pixel); the old code
    # held three copies at once. A process of its own, so its peak is this work's alone.
    result = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(issue_png), str(tmp_path / "t.jpg")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) < 80, f"peak grew {float(result.stdout):.0f} MB"


# --- the bounded decode gives Pillow's pixels --------------------------------------------------

FORMATS = [  # (colour type, bit depth, transparency)
    (0, 1, False), (0, 2, False), (0, 4, False), (0, 8, False), (0, 8, True), (0, 16, False),
    (2, 8, False), (2, 8, True), (2, 16, False), (2, 16, True),
    (3, 1, False), (3, 2, True), (3, 4, False), (3, 8, False), (3, 8, True),
    (4, 8, False), (4, 16, False), (6, 8, False), (6, 16, False),
]


@pytest.mark.parametrize(("color_type", "depth", "transparency"), FORMATS)
@pytest.mark.parametrize("factor", [1, 3])
def test_a_png_decoded_in_strips_equals_pillows_full_decode(tmp_path, color_type, depth,
                                                            transparency, factor):
    path = handmade_png(tmp_path / "n.png", 61, 47, color_type, depth, transparency=transparency)
    # A tiny strip budget: a few rows a strip, so strip edges meet every filter kind.
    ours = decoding.decode_reduced(path, factor=factor, strip_bytes=300)
    expected = reference(path, factor)
    assert (ours.mode, ours.size) == (expected.mode, expected.size)
    assert ours.tobytes() == expected.tobytes()


def test_a_pillow_written_png_reduces_like_pillow(tmp_path):
    path = media_samples.make_png(tmp_path / "img.png", 301, 203)
    ours = decoding.decode_reduced(path, factor=4, strip_bytes=5000)
    assert ours.tobytes() == reference(path, 4).tobytes()


def progressive_jpeg(path: Path, w: int, h: int) -> Path:
    media_samples._image(w, h).save(path, "JPEG", quality=85, progressive=True)
    return path


def animated_webp(path: Path, w: int, h: int) -> Path:
    frames = [media_samples._image(w, h), Image.new("RGB", (w, h), "teal")]
    frames[0].save(path, "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


CHILD_DECODED = [  # what Pillow could only hold whole goes to an ffmpeg child
    lambda p: interlaced_png(p.with_suffix(".png"), 45, 37),
    lambda p: media_samples.make_webp(p.with_suffix(".webp"), 301, 203),
    lambda p: animated_webp(p.with_suffix(".webp"), 301, 203),  # its first frame
]


@pytest.mark.parametrize("make", CHILD_DECODED)
def test_images_decoded_by_ffmpeg_come_out_reduced_and_like_pillows(tmp_path, make):
    path = make(tmp_path / "img")
    ours = decoding.decode_reduced(path, factor=4)
    expected = reference(path, 4)
    assert (ours.mode, ours.size) == (expected.mode, expected.size)
    # Another decoder and another box filter: close, not equal.
    difference = ImageChops.difference(ours, expected).convert("L").tobytes()
    assert sum(difference) / len(difference) < 12


@pytest.mark.parametrize("make", [*CHILD_DECODED, lambda p: progressive_jpeg(p, 301, 203)])
def test_images_decoded_whole_are_refused_when_cut_short(tmp_path, make):
    path = media_samples.truncated(make(tmp_path / "img"), 0.6)
    with pytest.raises(media.MediaError, match="damaged"):
        media.probe(path, min_bytes=1)


def test_jpeg_is_decoded_at_a_reduced_scale(tmp_path, monkeypatch):
    path = media_samples.make_jpeg(tmp_path / "photo.jpg", 3000, 2000)
    decoded: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def counting_load(self):
        decoded.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    info = media.probe(path)
    media.make_thumbnail(path, info, tmp_path / "thumb.jpg")
    assert (info.width, info.height) == (3000, 2000)
    assert decoded and all(w <= 1500 for w, _ in decoded), decoded
    with Image.open(tmp_path / "thumb.jpg") as thumb:
        assert thumb.size == (480, 320)


def _orientation_6() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    return exif.tobytes()


def test_unreadable_exif_loses_only_the_turn(tmp_path):
    path = tmp_path / "odd.jpg"
    media_samples._image(200, 100).save(path, "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff")
    info = media.probe(path, min_bytes=1)
    media.make_thumbnail(path, info, tmp_path / "thumb.jpg")
    with Image.open(tmp_path / "thumb.jpg") as thumb:
        assert thumb.size == (200, 100)


def test_exif_orientation_turns_the_thumbnail(tmp_path):
    jpeg = tmp_path / "turned.jpg"
    media_samples._image(600, 300).save(jpeg, "JPEG", exif=_orientation_6())
    png = handmade_png(tmp_path / "turned.png", 60, 30, 2, 8, exif=_orientation_6())
    for path in (jpeg, png):
        info = media.probe(path, min_bytes=1)
        media.make_thumbnail(path, info, tmp_path / "thumb.jpg")
        with Image.open(tmp_path / "thumb.jpg") as thumb:
            assert thumb.width < thumb.height, path.name


@pytest.mark.parametrize("damage", ["crc", "filter", "rows"])
def test_damaged_png_data_is_refused(tmp_path, damage):
    path = handmade_png(tmp_path / "n.png", 61, 47, 2, 8)
    data = bytearray(path.read_bytes())
    idat = data.index(b"IDAT") + 4
    if damage == "crc":
        data[idat + 10] ^= 0xFF
    elif damage == "filter":  # a valid stream whose first row names filter type 9
        raw = bytearray(zlib.decompress(b"".join(_idat_payloads(bytes(data)))))
        raw[0] = 9
        data = bytearray(_rewrite_idat(bytes(data), zlib.compress(bytes(raw))))
    else:  # a valid stream ending ten rows early
        raw = zlib.decompress(b"".join(_idat_payloads(bytes(data))))
        data = bytearray(_rewrite_idat(bytes(data), zlib.compress(raw[: -10 * (61 * 3 + 1)])))
    path.write_bytes(bytes(data))
    with pytest.raises(media.MediaError, match="damaged"):
        media.probe(path, min_bytes=1)


def _walk(data: bytes):
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, data[pos + 8:pos + 8 + length], data[pos:pos + 12 + length]
        pos += 12 + length


def _idat_payloads(data: bytes) -> list[bytes]:
    return [body for kind, body, _ in _walk(data) if kind == b"IDAT"]


def _rewrite_idat(data: bytes, stream: bytes) -> bytes:
    out = io.BytesIO()
    out.write(SIGNATURE)
    written = False
    for kind, _, whole in _walk(data):
        if kind != b"IDAT":
            out.write(whole)
        elif not written:
            out.write(_chunk(b"IDAT", stream))
            written = True
    return out.getvalue()
