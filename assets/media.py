"""Media sniffing, probing and thumbnails for inputs and outputs, by content, never by name.

Images are read with Pillow (JPEG, PNG and WebP only, as Runway accepts); video and audio
with the ffmpeg binary shipped in the imageio-ffmpeg wheel (no ffprobe there, so its
`-i` banner is parsed). Files can be 200 MB: nothing here reads a whole file into memory.

An image is refused on its header past Runway's limits, then decoded once, reduced as it
is decoded (`decode_reduced`): that one decode is both the check that the data are whole
and the source of the thumbnail. A PNG is decoded a strip of rows at a time, a JPEG at a
reduced DCT scale, so neither is ever held at full size. What Pillow can only decode whole
(WebP, interlaced PNG) is decoded and scaled by an ffmpeg child; those and a progressive
JPEG (whose coefficients libjpeg keeps) go one large one at a time per process.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import re
import struct
import subprocess
import tempfile
import threading
import warnings
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
from PIL import ExifTags, Image, ImageDraw, UnidentifiedImageError

from runway.catalog.data import MAX_MEDIA_BYTES, MediaFacts

MIN_BYTES = 512
MAX_BYTES = MAX_MEDIA_BYTES
MAX_IMAGE_SIDE = 7999  # CONTRACT §5.4: "< 8000 px"
# The largest image Runway takes is 7999×7999, so nothing it accepts is refused; outputs stay
# under it too (the largest, upscales, stop at 25.3 MP). Pillow's own bomb check gets the same
# figure: it is process-wide, set once here, and warns past it and refuses past twice it.
MAX_IMAGE_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
PREVIEW_SIDE = 960  # an image is decoded once, reduced to about this (twice a 480 px thumbnail)
STRIP_BYTES = 2 * 1024 * 1024  # a PNG is decoded this much (raw or as RGBA) at a time
WHOLE_DECODE_FREE_PIXELS = 4_000_000  # a whole decode (ffmpeg child) above this goes alone
_WHOLE_DECODES = threading.Semaphore(1)
PROBE_TIMEOUT = 20  # seconds for an ffmpeg banner
DECODE_TIMEOUT = 30  # seconds for a partial decode or a poster frame
WAVEFORM_MAX_SECONDS = 600  # a waveform of the first ten minutes is enough for a glance
WAVEFORM_MAX_SAMPLES = 2_000_000

IMAGE_TYPES = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"),
               "WEBP": ("image/webp", ".webp")}

# container → (content type, extension, accepted video codecs), CONTRACT §5.3 (preferred)
VIDEO_CONTAINERS = {
    "mp4": ("video/mp4", ".mp4", {"h264", "hevc", "av1"}),
    "mov": ("video/quicktime", ".mov", {"h264", "hevc", "prores"}),
    "mkv": ("video/x-matroska", ".mkv", {"h264", "hevc", "vp8", "vp9", "av1"}),
    "webm": ("video/webm", ".webm", {"vp8", "vp9", "av1"}),
    "3gp": ("video/3gpp", ".3gp", {"h264"}),
}
# container → (content type, extension, accepted audio codecs)
AUDIO_CONTAINERS = {
    "mp3": ("audio/mpeg", ".mp3", {"mp3"}),
    "wav": ("audio/wav", ".wav", {"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le",
                                  "pcm_u8", "pcm_s16be"}),
    "flac": ("audio/flac", ".flac", {"flac"}),
    "m4a": ("audio/mp4", ".m4a", {"aac", "alac"}),
    "aac": ("audio/aac", ".aac", {"aac"}),
}
ACCEPTED = ("JPEG, PNG or WebP images; MP4, MOV, MKV or WebM video; "
            "MP3, WAV, FLAC, M4A or AAC audio")

# Lines ffmpeg prints at `-v error` when a stream is cut short or damaged.
_DAMAGE = re.compile(r"partial file|invalid data|truncat|corrupt|error while decoding|"
                     r"end of file|moov atom not found|invalid nal|missing picture",
                     re.IGNORECASE)


class MediaError(ValueError):
    """A file we can't use, with a message fit to show the person who uploaded it."""


@dataclass
class MediaInfo:
    """What probing found out about a media file."""

    kind: str  # "image" | "video" | "audio"
    content_type: str
    extension: str
    size: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    sha256: str = ""
    codec: str | None = None
    has_audio: bool = False
    # An image's one decode, reduced to about PREVIEW_SIDE: what its thumbnail is made from.
    preview: Image.Image | None = field(default=None, repr=False, compare=False)

    def facts(self) -> MediaFacts:
        """The subset the model catalog validates against."""
        return MediaFacts(self.kind, self.width, self.height, self.duration)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def check_size(size: int, min_bytes: int = MIN_BYTES) -> None:
    """Refuse files outside min_bytes..MAX_BYTES (both inclusive)."""
    if size == 0:
        raise MediaError("This file is empty.")
    if size < min_bytes:
        raise MediaError(f"This file is too small to be usable media ({size} bytes; "
                         f"the minimum is {min_bytes} bytes).")
    if size > MAX_BYTES:
        raise MediaError(f"This file is too large ({size:,} bytes); "
                         f"the limit is {_mb(MAX_BYTES)}.")


def probe(path: str | os.PathLike[str], *, expected_kind: str | None = None,
          max_side: int | None = MAX_IMAGE_SIDE, min_bytes: int = MIN_BYTES) -> MediaInfo:
    """Sniff and measure a media file; MediaError with a human message if unusable.

    `max_side` and `min_bytes` are Runway's input limits; outputs pass None and 1
    (an upscale may exceed 8000 px, a small image may weigh less than 512 bytes).
    """
    path = Path(path).resolve()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MediaError("The file could not be read.") from exc
    check_size(size, min_bytes)
    info = _probe_image(path, size, max_side)
    if info is None:
        info = _probe_av(path, size)
    if expected_kind is not None and info.kind != expected_kind:
        raise MediaError(f"This is {_a(info.kind)} file; {_a(expected_kind)} is needed here.")
    info.sha256 = sha256_file(path)
    return info


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _open_image(path: Path) -> Image.Image | None:
    """Open lazily (header only); None if not an image.

    Pillow's bomb warning (past MAX_IMAGE_PIXELS) is left to our own check on the header,
    which names the size; its error (past twice that) is refused here.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    except UnidentifiedImageError:
        return None
    except Image.DecompressionBombError as exc:
        raise MediaError(f"This image declares far more pixels than we accept (at most "
                         f"{MAX_IMAGE_PIXELS / 10**6:.2f} megapixels, "
                         f"{MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE}).") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError("This image is damaged and can't be read.") from exc


def _probe_image(path: Path, size: int, max_side: int | None) -> MediaInfo | None:
    img = _open_image(path)
    if img is None:
        return None
    with img:
        fmt = img.format or "unknown"
        if fmt not in IMAGE_TYPES:
            raise MediaError(f"{fmt} images are not accepted; use JPEG, PNG or WebP.")
        w, h = img.size
    # Checked on the header, before any decode.
    if max_side is not None and max(w, h) > max_side:
        raise MediaError(f"This image is {w}×{h}; each side must be under {max_side + 1} px.")
    if w * h > MAX_IMAGE_PIXELS:
        raise MediaError(f"This image is {w}×{h}, {w * h / 10**6:.1f} megapixels; we accept up "
                         f"to {MAX_IMAGE_PIXELS / 10**6:.2f} ({MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE}).")
    if min(w, h) < 1:
        raise MediaError("This image has no pixels.")
    # The one decode: it proves the data whole (a cut-off JPEG or a PNG short of rows is
    # refused) and gives the thumbnail its source.
    preview = decode_reduced(path, factor=_factor(w, h, PREVIEW_SIDE))
    content_type, ext = IMAGE_TYPES[fmt]
    return MediaInfo("image", content_type, ext, size, w, h, None, codec=fmt.lower(),
                     preview=preview)


# --- bounded image decoding ---------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type → samples a pixel
_CARRIER_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # bytes a pixel → the 8-bit colour type with as many
_BIG_CHUNK = 1024 * 1024  # ancillary chunks past this are checked and skipped, never held
# EXIF orientation → the transpose that shows the image upright (as ImageOps.exif_transpose)
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def _factor(w: int, h: int, side: int) -> int:
    """The largest whole reduction that keeps the longer side at least `side`."""
    return max(1, max(w, h) // side)


def _damaged() -> MediaError:
    return MediaError("This image is damaged or incomplete and can't be read.")


def decode_reduced(path: str | os.PathLike[str], *, factor: int,
                   strip_bytes: int = STRIP_BYTES) -> Image.Image:
    """Decode an image once to about 1/factor of each side: L or RGB, on white, upright.

    A PNG is unfiltered `strip_bytes` at a time and a JPEG decoded at a reduced DCT scale,
    so memory stays far below the full image; a WebP or an interlaced PNG is decoded and
    scaled by an ffmpeg child. Decodes that hold a whole image (those children, a progressive
    JPEG's coefficients) take turns above WHOLE_DECODE_FREE_PIXELS, one at a time in this
    process. MediaError if the data are damaged or short.
    """
    path = Path(path)
    try:
        img = _open_image(path)
        if img is None:
            raise _damaged()
        with img:
            if img.format == "PNG" and not img.info.get("interlace"):
                out, orientation = _png_reduced(path, factor, strip_bytes)
            elif img.format == "JPEG":
                out, orientation = _jpeg_reduced(img, factor)
            else:
                out, orientation = _child_reduced(img, path, factor)
    except MediaError:
        raise
    except Exception as exc:  # Pillow and zlib raise many types for damaged data
        raise _damaged() from exc
    if orientation in _UPRIGHT:
        out = out.transpose(_UPRIGHT[orientation])
    return out


def _flattened(img: Image.Image) -> Image.Image:
    """L and RGB as they are; anything else (alpha, palette, 16-bit) onto white as RGB."""
    if img.mode in ("L", "RGB"):
        return img
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _orientation(img: Image.Image) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data"
            return int(img.getexif().get(ExifTags.Base.Orientation, 1) or 1)
    except Exception:  # unreadable EXIF only loses the turn, never the image
        return 1


def _jpeg_reduced(img: Image.Image, factor: int) -> tuple[Image.Image, int]:
    w, h = img.size
    target = (max(1, w // factor), max(1, h // factor))
    img.draft("RGB", target)  # libjpeg decodes at 1/2, 1/4 or 1/8 scale, never above target
    orientation = _orientation(img)
    # A progressive JPEG still makes libjpeg hold every coefficient (about 3 bytes a pixel);
    # a large one waits for any other whole decode in this process.
    whole = img.info.get("progressive") or img.info.get("progression")
    alone = _WHOLE_DECODES if whole and w * h > WHOLE_DECODE_FREE_PIXELS else contextlib.nullcontext()
    with alone:
        img.load()  # every byte is still decoded: a cut-off JPEG fails here
    out = _flattened(img)
    rest = min(out.width // target[0], out.height // target[1])
    return (out.reduce(rest) if rest > 1 else out.copy()), orientation


_PIPE_DEMUXERS = {"PNG": "png_pipe", "JPEG": "jpeg_pipe", "WEBP": "webp_pipe"}  # never guessed


def _child_reduced(img: Image.Image, path: Path, factor: int) -> tuple[Image.Image, int]:
    """Decode in an ffmpeg child, scaled there: images Pillow could only decode at full size.

    Pillow holds a WebP three times over (about 1 GB for 7999×7999) and an interlaced PNG
    whole; ffmpeg's decode and scale stay in its own short-lived process,
    and only the reduced frame crosses the pipe. A large one waits for any other in this
    process, so uploads at once don't multiply it.
    """
    w, h = img.size
    fmt = img.format or ""
    if fmt == "PNG":  # Pillow's PNG getexif() would decode the whole image to look for it
        orientation = _exif_orientation(img.info["exif"]) if "exif" in img.info else 1
    else:
        orientation = _orientation(img)
    demuxer = "webp_anim" if getattr(img, "is_animated", False) else _PIPE_DEMUXERS[fmt]
    size = f"{-(-w // factor)}:{-(-h // factor)}"  # rounded up, as Image.reduce does
    alone = _WHOLE_DECODES if w * h > WHOLE_DECODE_FREE_PIXELS else contextlib.nullcontext()
    with alone:
        result = _run(["-v", "error", "-xerror", "-noautorotate", "-f", demuxer,
                       "-i", _input(path), "-frames:v", "1", "-vf", f"scale={size}:flags=area",
                       "-f", "image2pipe", "-c:v", "png", "-"], DECODE_TIMEOUT)
    errors = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0 or not result.stdout or _DAMAGE.search(errors):
        raise _damaged()
    with Image.open(io.BytesIO(result.stdout)) as frame:
        frame.load()
        return _flattened(frame).copy(), orientation


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(w: int, h: int, depth: int, color_type: int, rows: bytes, extra: bytes = b"") -> bytes:
    """A whole PNG around rows that are already filtered (stored, not compressed again)."""
    header = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0)
    return (PNG_SIGNATURE + _png_chunk(b"IHDR", header) + extra
            + _png_chunk(b"IDAT", zlib.compress(rows, 0)) + _png_chunk(b"IEND", b""))


def _read_exactly(f, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise _damaged()
    return data


def _png_reduced(path: Path, factor: int, strip_bytes: int) -> tuple[Image.Image, int]:
    """Walk a non-interlaced PNG's chunks (checking every CRC), decoding IDAT in strips."""
    strips: _PngStrips | None = None
    extra = b""  # PLTE and tRNS: every strip needs them to mean the same colours
    orientation = 1
    with open(path, "rb") as f:
        if f.read(8) != PNG_SIGNATURE:
            raise _damaged()
        while True:
            length, kind = struct.unpack(">I4s", _read_exactly(f, 8))
            crc = zlib.crc32(kind)
            data = b""
            if kind == b"IDAT" or length > _BIG_CHUNK:
                if kind == b"IDAT" and strips is None:
                    raise _damaged()
                left = length
                while left:
                    piece = _read_exactly(f, min(left, 64 * 1024))
                    left -= len(piece)
                    crc = zlib.crc32(piece, crc)
                    if kind == b"IDAT":
                        strips.feed(piece)  # type: ignore[union-attr]
            else:
                data = _read_exactly(f, length)
                crc = zlib.crc32(data, crc)
            if struct.unpack(">I", _read_exactly(f, 4))[0] != crc:
                raise _damaged()
            if kind == b"IHDR" and strips is None:
                strips = _PngStrips(data, factor, strip_bytes)
            elif kind in (b"PLTE", b"tRNS") and strips is not None:
                extra += _png_chunk(kind, data)
                strips.extra = extra
            elif kind == b"eXIf":
                orientation = _exif_orientation(data)
            elif kind == b"IEND":
                break
    if strips is None:
        raise _damaged()
    return strips.result(), orientation


def _exif_orientation(data: bytes) -> int:
    exif = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data"
            exif.load(data)
            return int(exif.get(ExifTags.Base.Orientation, 1) or 1)
    except Exception:  # unreadable EXIF only loses the turn, never the image
        return 1


class _PngStrips:
    """Decodes a non-interlaced PNG a strip of rows at a time, through Pillow, in bounded memory.

    Pillow decodes only whole images, so each strip becomes a small PNG of its own: its
    filtered rows, after the previous strip's last row unfiltered (filter type 0), the one
    row that the filters of its first row refer to. Getting that row's exact bytes back
    takes one decode of the strip as 8-bit samples with the same bytes a pixel (the unit
    the filters work in; 16-bit colour, 6 or 8 bytes a pixel, is split into its high and low
    bytes, which filter independently). The unfiltered rows are then decoded again in the
    image's own format, so palette, transparency and bit depth mean what Pillow makes of
    them in a full decode, and each strip is flattened, reduced and pasted in place.
    """

    def __init__(self, ihdr: bytes, factor: int, strip_bytes: int):
        w, h, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
        if color_type not in _PNG_CHANNELS or interlace or not w or not h:
            raise _damaged()
        bits = depth * _PNG_CHANNELS[color_type]
        bpp = max(1, bits // 8)
        self.w, self.h, self.depth, self.color_type = w, h, depth, color_type
        self.rowbytes = (w * bits + 7) // 8
        self.planes = 2 if bpp > 4 else 1
        self.carrier_type = _CARRIER_TYPES[bpp // self.planes]
        self.carrier_width = w if bpp > 1 else self.rowbytes
        self.factor = factor
        rows = strip_bytes // max(self.rowbytes + 1, 4 * w)  # raw bytes, or pixels as RGBA
        self.strip_rows = max(factor, rows // factor * factor)  # whole blocks of the reduction
        self.extra = b""
        self._inflater = zlib.decompressobj()
        self._pending = bytearray()
        self._done = 0
        self._prior: list[bytes] | None = None  # the last unfiltered row of each plane
        self._canvas: Image.Image | None = None

    def feed(self, data: bytes) -> None:
        """Inflate compressed bytes (never more than a strip at once) and decode full strips."""
        stride = self.rowbytes + 1
        while data and self._done < self.h:
            self._pending += self._inflater.decompress(data, self.strip_rows * stride)
            data = self._inflater.unconsumed_tail
            while self._done < self.h:
                rows = min(self.strip_rows, self.h - self._done)
                if len(self._pending) < rows * stride:
                    break
                block = bytes(self._pending[: rows * stride])
                del self._pending[: rows * stride]
                self._strip(block, rows)

    def result(self) -> Image.Image:
        if self._done < self.h or self._canvas is None:
            raise _damaged()  # the data end before the last row
        return self._canvas

    def _unfiltered(self, block: bytes, rows: int) -> bytes:
        stride = self.rowbytes + 1
        width = self.rowbytes // self.planes
        planes = []
        for p in range(self.planes):
            if self.planes == 1:
                data = block
            else:
                data = b"".join(block[i * stride:i * stride + 1]
                                + block[i * stride + 1 + p:(i + 1) * stride:2] for i in range(rows))
            if self._prior is not None:
                data = b"\x00" + self._prior[p] + data
            height = rows + (self._prior is not None)
            carrier = _png(self.carrier_width, height, 8, self.carrier_type, data)
            with Image.open(io.BytesIO(carrier)) as img:
                raw = img.tobytes()
            planes.append(raw[width:] if self._prior is not None else raw)
        self._prior = [raw[-width:] for raw in planes]
        if self.planes == 1:
            return planes[0]
        both = bytearray(rows * self.rowbytes)
        both[0::2], both[1::2] = planes
        return bytes(both)

    def _strip(self, block: bytes, rows: int) -> None:
        raw = memoryview(self._unfiltered(block, rows))
        n = self.rowbytes
        unfiltered = b"".join(b"\x00" + raw[i * n:(i + 1) * n] for i in range(rows))
        with Image.open(io.BytesIO(_png(self.w, rows, self.depth, self.color_type, unfiltered,
                                        self.extra))) as img:
            img.load()
            out = _flattened(img)
            if self.factor > 1:
                out = out.reduce(self.factor)
        if self._canvas is None:
            self._canvas = Image.new(out.mode, (-(-self.w // self.factor), -(-self.h // self.factor)))
        self._canvas.paste(out, (0, self._done // self.factor))
        self._done += rows


# --- ffmpeg ------------------------------------------------------------------------------


def ffmpeg_exe() -> str:
    """The ffmpeg binary from the imageio-ffmpeg wheel (or IMAGEIO_FFMPEG_EXE)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def _input(path: Path) -> str:
    # "file:" plus an absolute path: a name starting with "-" or holding "pipe:" stays a path.
    return f"file:{path.resolve()}"


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MediaError("This file took too long to read; it may be damaged.") from exc
    except OSError as exc:
        raise MediaError("Media tools are unavailable; try again later.") from exc


_INPUT = re.compile(r"^Input #0, ([\w,]+), from", re.MULTILINE)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #0:\d+\S*: (Video|Audio): (\w+)(.*)$", re.MULTILINE)
_SIZE = re.compile(r"(?:^|[ ,])(\d{1,5})x(\d{1,5})(?=[ ,\[]|$)")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")


def _container(demuxer: str, head: bytes, has_video: bool) -> str | None:
    """Our container name from ffmpeg's demuxer and the file's first bytes."""
    if demuxer.startswith("mov,mp4"):
        brand = head[8:12] if head[4:8] == b"ftyp" else b""
        if brand == b"qt  ":
            return "mov"
        if brand.startswith(b"3g"):
            return "3gp"
        return "mp4" if has_video else "m4a"
    if demuxer.startswith("matroska"):
        return "webm" if b"webm" in head[:64] else "mkv"
    return {"mp3": "mp3", "wav": "wav", "flac": "flac", "aac": "aac"}.get(demuxer)


def _probe_av(path: Path, size: int) -> MediaInfo:
    banner = _run(["-i", _input(path)], PROBE_TIMEOUT).stderr.decode("utf-8", "replace")
    demuxer = _INPUT.search(banner)
    if demuxer is None or demuxer.group(1).endswith("_pipe") or demuxer.group(1) == "image2":
        raise MediaError(f"This file is not an image, video or audio file we can use "
                         f"(we accept {ACCEPTED}).")
    video_codec = audio_codec = None
    width = height = None
    for kind, codec, rest in _STREAM.findall(banner):
        if kind == "Video" and video_codec is None and "attached pic" not in rest:
            video_codec = codec
            found = _SIZE.search(rest)
            if found:
                width, height = int(found.group(1)), int(found.group(2))
        elif kind == "Audio" and audio_codec is None:
            audio_codec = codec
    with open(path, "rb") as f:
        head = f.read(64)
    container = _container(demuxer.group(1), head, video_codec is not None)
    duration = _parse_duration(banner)
    if video_codec is not None:
        if container not in VIDEO_CONTAINERS:
            raise MediaError(f"This video format ({demuxer.group(1)}) is not accepted; "
                             "use MP4, MOV, MKV or WebM.")
        content_type, ext, codecs = VIDEO_CONTAINERS[container]
        if video_codec not in codecs:
            raise MediaError(f"{container.upper()} video encoded as {video_codec} is not "
                             f"accepted; use {', '.join(sorted(codecs))}.")
        if not width or not height:
            raise MediaError("This video has no readable picture size; it may be damaged.")
        rotation = _ROTATION.search(banner)
        if rotation and round(abs(float(rotation.group(1)))) % 180 == 90:
            width, height = height, width  # players show it turned; so do we
        kind = "video"
        codec = video_codec
    elif audio_codec is not None:
        if container not in AUDIO_CONTAINERS:
            raise MediaError(f"This audio format ({demuxer.group(1)}) is not accepted; "
                             "use MP3, WAV, FLAC, M4A or AAC.")
        content_type, ext, codecs = AUDIO_CONTAINERS[container]
        if audio_codec not in codecs:
            raise MediaError(f"{container.upper()} audio encoded as {audio_codec} is not "
                             "accepted.")
        kind = "audio"
        codec = audio_codec
    else:
        raise MediaError("This file has no video or audio we can read.")
    if not duration:
        raise MediaError(f"This {kind} has no readable length; it may be damaged.")
    _check_decodes(path, duration)
    return MediaInfo(kind, content_type, ext, size, width, height, duration, codec=codec,
                     has_audio=kind == "video" and audio_codec is not None)


def _parse_duration(banner: str) -> float | None:
    found = _DURATION.search(banner)
    if not found:
        return None
    h, m, s = found.groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


_OUT_TIME = re.compile(rb"out_time_us=(\d+)")


def _check_decodes(path: Path, duration: float) -> None:
    """Decode a second at the start and near the end: a cut-off file fails at its end.

    The tail is read a little before the stated end, since lengths estimated from a bitrate
    (VBR MP3 without a header) can be slightly off; a file cut well short yields nothing there.
    """
    starts = [0.0]
    if duration > 1.5:
        starts.append(max(0.0, duration * 0.95 - 1))
    for start in starts:
        seek = ["-ss", f"{start:.3f}"] if start else []
        result = _run(["-v", "error", *seek, "-i", _input(path), "-t", "1",
                       "-progress", "pipe:1", "-f", "null", "-"], DECODE_TIMEOUT)
        errors = result.stderr.decode("utf-8", "replace")
        decoded = [int(us) for us in _OUT_TIME.findall(result.stdout)]
        if result.returncode != 0 or _DAMAGE.search(errors) or not any(decoded):
            raise MediaError("This file is damaged or incomplete and can't be played.")


# --- thumbnails --------------------------------------------------------------------------


def make_thumbnail(path: str | os.PathLike[str], info: MediaInfo,
                   out_path: str | os.PathLike[str], *, max_side: int = 480) -> None:
    """Write a JPEG thumbnail: the image itself, a video poster frame or an audio waveform."""
    path = Path(path)
    if info.kind == "image":
        preview = info.preview
        longest = max(info.width or 0, info.height or 0)
        if preview is None or max(preview.size) < min(max_side, longest):
            # Not probed here, or a thumbnail larger than the probe's preview: decode again.
            preview = decode_reduced(path, factor=_factor(info.width or 1, info.height or 1, max_side))
        _save_jpeg(preview, out_path, max_side)
    elif info.kind == "video":
        _save_jpeg(_poster_frame(path, info, max_side), out_path, max_side)
    elif info.kind == "audio":
        _save_jpeg(_waveform(path, info, max_side), out_path, max_side)
    else:
        raise ValueError(f"unknown media kind {info.kind!r}")


def _save_jpeg(img: Image.Image, out_path: str | os.PathLike[str], max_side: int) -> None:
    img = img.copy()
    img.thumbnail((max_side, max_side))
    if img.mode not in ("RGB", "L"):
        # Flatten transparency onto white rather than the black JPEG would give.
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        img = background
    # Written beside the target and renamed, so a reader never sees half a file.
    out = Path(out_path)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            img.save(f, "JPEG", quality=82, optimize=True)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; storage serves it like any file
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _poster_frame(path: Path, info: MediaInfo, max_side: int) -> Image.Image:
    """One frame about 1 s (or 10 %) in, falling back to the first frame."""
    at = min(1.0, (info.duration or 0) * 0.1)
    # Shrink in ffmpeg (never enlarge) so a 4K frame doesn't cross the pipe at full size.
    scale = (f"scale=w='min(iw\\,{max_side})':h='min(ih\\,{max_side})'"
             ":force_original_aspect_ratio=decrease")
    for start in dict.fromkeys((at, 0.0)):
        result = _run(["-v", "error", "-ss", f"{start:.3f}", "-i", _input(path),
                       "-frames:v", "1", "-vf", scale, "-f", "image2pipe", "-c:v", "png", "-"],
                      DECODE_TIMEOUT)
        if result.returncode == 0 and result.stdout:
            with Image.open(io.BytesIO(result.stdout)) as frame:
                return frame.convert("RGB")
    raise MediaError("No frame could be read from this video.")


def _waveform(path: Path, info: MediaInfo, max_side: int) -> Image.Image:
    """A peak waveform of (at most the first ten minutes of) the audio, streamed from ffmpeg."""
    width, height = max_side, max(32, int(max_side * 0.4))
    seconds = min(info.duration or WAVEFORM_MAX_SECONDS, WAVEFORM_MAX_SECONDS)
    # A low, mono sample rate: enough for peaks, and the work stays bounded for long files.
    rate = max(400, min(8000, int(WAVEFORM_MAX_SAMPLES / max(seconds, 0.1))))
    per_column = max(1, math.ceil(seconds * rate / width))
    peaks: list[int] = []
    pending = array("h")
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-t", f"{seconds:.3f}",
            "-i", _input(path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le",
            "-c:a", "pcm_s16le", "-"]
    try:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError as exc:
        raise MediaError("Media tools are unavailable; try again later.") from exc
    with proc:
        try:
            stdout = proc.stdout
            if stdout is None:  # pragma: no cover - PIPE always gives a stream
                raise MediaError("The audio could not be read.")
            while chunk := stdout.read(64 * 1024):
                if len(chunk) % 2:
                    chunk += stdout.read(1)
                pending.frombytes(chunk[: len(chunk) // 2 * 2])
                while len(pending) >= per_column:
                    column = pending[:per_column]
                    peaks.append(max(max(column), -min(column)))
                    del pending[:per_column]
            if pending:
                peaks.append(max(max(pending), -min(pending)))
            proc.wait(timeout=DECODE_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
    img = Image.new("RGB", (width, height), (24, 26, 32))
    draw = ImageDraw.Draw(img)
    middle = height / 2
    loudest = max(peaks, default=0) or 1
    for x, peak in enumerate(peaks[:width]):
        half = max(1.0, peak / loudest * (middle - 2))
        draw.line([(x, middle - half), (x, middle + half)], fill=(120, 190, 255))
    return img
