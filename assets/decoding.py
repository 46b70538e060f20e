"""Bounded-memory image decoding: an image opened on its header and decoded once, reduced.

A PNG is decoded a strip of rows at a time, each strip handed to Pillow as a small PNG of its
own; a JPEG at a reduced DCT scale; what Pillow can only decode whole (WebP, interlaced PNG)
by an ffmpeg child that scales it. Those children and a progressive JPEG (whose coefficients
libjpeg keeps) go one large one at a time per process.

It also holds what `assets.media` shares with it and so imports from here (never the
reverse): `MediaError`, the pixel limit set on Pillow, and how an ffmpeg child is run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import subprocess
import threading
import warnings
import zlib
from pathlib import Path

import imageio_ffmpeg
from PIL import ExifTags, Image, UnidentifiedImageError

MAX_IMAGE_SIDE = 7999  # CONTRACT §5.4: "< 8000 px"
# The largest image Runway takes is 7999×7999, so nothing it accepts is refused; outputs stay
# under it too (the largest, upscales, stop at 25.3 MP). Pillow's own bomb check gets the same
# figure: it is process-wide, set once here, and warns past it and refuses past twice it.
MAX_IMAGE_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
STRIP_BYTES = 2 * 1024 * 1024  # a PNG is decoded this much (raw or as RGBA) at a time
WHOLE_DECODE_FREE_PIXELS = 4_000_000  # a whole decode (ffmpeg child) above this goes alone
_WHOLE_DECODES = threading.Semaphore(1)
DECODE_TIMEOUT = 30  # seconds for a partial decode or a poster frame

# Lines ffmpeg prints at `-v error` when a stream is cut short or damaged.
DAMAGE = re.compile(r"partial file|invalid data|truncat|corrupt|error while decoding|"
                    r"end of file|moov atom not found|invalid nal|missing picture",
                    re.IGNORECASE)


class MediaError(ValueError):
    """A file we can't use, with a message fit to show the person who uploaded it."""


def open_image(path: Path) -> Image.Image | None:
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


# --- ffmpeg ------------------------------------------------------------------------------


def ffmpeg_exe() -> str:
    """The ffmpeg binary from the imageio-ffmpeg wheel (or IMAGEIO_FFMPEG_EXE)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_input(path: Path) -> str:
    """`file:` and the absolute path: a name starting with "-" or holding "pipe:" stays a path."""
    return f"file:{path.resolve()}"


def run_ffmpeg(args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run an ffmpeg child to its end; MediaError if it overruns `timeout` or can't start."""
    try:
        return subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MediaError("This file took too long to read; it may be damaged.") from exc
    except OSError as exc:
        raise MediaError("Media tools are unavailable; try again later.") from exc


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
        img = open_image(path)
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
        result = run_ffmpeg(["-v", "error", "-xerror", "-noautorotate", "-f", demuxer,
                       "-i", ffmpeg_input(path), "-frames:v", "1", "-vf", f"scale={size}:flags=area",
                       "-f", "image2pipe", "-c:v", "png", "-"], DECODE_TIMEOUT)
    errors = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0 or not result.stdout or DAMAGE.search(errors):
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

