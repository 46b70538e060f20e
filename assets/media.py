"""Media sniffing, probing and thumbnails for inputs and outputs, by content, never by name.

Images are read with Pillow (JPEG, PNG and WebP only, as Runway accepts); video and audio
with the ffmpeg binary shipped in the imageio-ffmpeg wheel (no ffprobe there, so its
`-i` banner is parsed). Files can be 200 MB: nothing here reads a whole file into memory.

An image is refused on its header past Runway's limits, then decoded once, reduced as it
is decoded (`decoding.decode_reduced`, which never holds it at full size): that one decode
is both the check that the data are whole and the source of the thumbnail.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import subprocess
import tempfile
from array import array
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from assets.decoding import (
    DAMAGE,
    DECODE_TIMEOUT,
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    MediaError,
    decode_reduced,
    ffmpeg_exe,
    ffmpeg_input,
    open_image,
    run_ffmpeg,
)
from runway.catalog.data import MAX_MEDIA_BYTES, MAX_OUTPUT_BYTES, MediaFacts

MIN_BYTES = 512
MAX_BYTES = MAX_MEDIA_BYTES
PREVIEW_SIDE = 960  # an image is decoded once, reduced to about this (twice a 480 px thumbnail)
PROBE_TIMEOUT = 20  # seconds for an ffmpeg banner
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
NOT_MEDIA = f"This file is not an image, video or audio file we can use; we accept {ACCEPTED}."
# ffmpeg reads any text as ANSI art ("tty"): a shot list is not a video.
TEXT_DEMUXERS = frozenset({"tty", "bin", "xbin", "idf", "adf"})
# The content types Runway takes as inputs (CONTRACT §5.3).
INPUT_TYPES = frozenset({t for t, _ in IMAGE_TYPES.values()} | {t for t, _, _ in VIDEO_CONTAINERS.values()}
                        | {t for t, _, _ in AUDIO_CONTAINERS.values()})
# What Runway delivers beyond what it takes: Ogg Opus speech and sound (seed_audio).
DELIVERED_AUDIO_CONTAINERS = {**AUDIO_CONTAINERS, "ogg": ("audio/ogg", ".ogg", {"opus", "vorbis"})}

#: (primaries, transfer, matrix) of a picture, as ffmpeg names them.
Colour = tuple[str, str, str]


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
    pix_fmt: str | None = None  # a video's pixel format: yuv420p, yuv422p10le, gbrpf16le...
    colour: Colour | None = None  # a video's colour tags, where the file states them
    container: str | None = None  # mp4, mov, mkv, webm, 3gp; mp3, wav, flac, m4a, aac, ogg; zip
    # An image's one decode, reduced to about PREVIEW_SIDE: what its thumbnail is made from.
    preview: Image.Image | None = field(default=None, repr=False, compare=False)

    def facts(self) -> MediaFacts:
        """The subset the model catalog validates against."""
        return MediaFacts(self.kind, self.width, self.height, self.duration)


def accepted_as_input(content_type: str) -> bool:
    """True if Runway takes a file of this type as an input."""
    return content_type in INPUT_TYPES


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def check_size(size: int, min_bytes: int = MIN_BYTES, max_bytes: int = MAX_BYTES) -> None:
    """Refuse files outside min_bytes..max_bytes (both inclusive)."""
    if size == 0:
        raise MediaError("This file is empty.")
    if size < min_bytes:
        raise MediaError(f"This file is too small to be usable media ({size} bytes; "
                         f"the minimum is {min_bytes} bytes).")
    if size > max_bytes:
        raise MediaError(f"This file is too large ({size:,} bytes); "
                         f"the limit is {_mb(max_bytes)}.")


def probe(path: str | os.PathLike[str], *, expected_kind: str | None = None, kinds: Collection[str] = (),
          max_side: int | None = MAX_IMAGE_SIDE, min_bytes: int = MIN_BYTES, delivered: bool = False) -> MediaInfo:
    """Sniff and measure a media file; MediaError with a human message if unusable.

    `max_side` and `min_bytes` are Runway's input limits. A file Runway `delivered` has
    none of them (an upscale may exceed 8000 px, a small image may weigh less than 512
    bytes, a ProRes master more than 200 MB) and may be Ogg audio, which Runway makes but
    does not take. `expected_kind` (or any of `kinds`) refuses a file of another kind.
    """
    path = Path(path).resolve()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MediaError("The file could not be read.") from exc
    if delivered:
        max_side, min_bytes = None, 1
    check_size(size, min_bytes, MAX_OUTPUT_BYTES if delivered else MAX_BYTES)
    info = _probe_image(path, size, max_side)
    if info is None:
        info = _probe_av(path, size, DELIVERED_AUDIO_CONTAINERS if delivered else AUDIO_CONTAINERS)
    wanted = (expected_kind,) if expected_kind is not None else tuple(kinds)
    if wanted and info.kind not in wanted:
        raise MediaError(f"This is {_a(info.kind)} file; {' or '.join(map(_a, wanted))} is needed here.")
    info.sha256 = sha256_file(path)
    return info


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _probe_image(path: Path, size: int, max_side: int | None) -> MediaInfo | None:
    img = open_image(path)
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
                     preview=preview, container=fmt.lower())


def _factor(w: int, h: int, side: int) -> int:
    """The largest whole reduction that keeps the longer side at least `side`."""
    return max(1, max(w, h) // side)


# --- video and audio, through ffmpeg --------------------------------------------------------

_INPUT = re.compile(r"^Input #0, ([\w,]+), from", re.MULTILINE)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #0:\d+\S*: (Video|Audio): (\w+)(.*)$", re.MULTILINE)
_SIZE = re.compile(r"(?:^|[ ,])(\d{1,5})x(\d{1,5})(?=[ ,\[]|$)")
_PICTURE = re.compile(r", ([a-z][a-z0-9]*)(?:\(([^)]*)\))?, \d{1,5}x\d{1,5}")
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
    return {"mp3": "mp3", "wav": "wav", "flac": "flac", "aac": "aac", "ogg": "ogg"}.get(demuxer)


def _picture(rest: str) -> tuple[str | None, Colour | None]:
    """A video stream's pixel format and colour tags, from the rest of its banner line.

    ", yuv420p10le(tv, bt2020nc/bt2020/smpte2084, progressive), 640x360, ..." names matrix,
    primaries and transfer in that order, or one name when all three are the same.
    """
    found = _PICTURE.search(rest)
    if found is None:
        return None, None
    colour = None
    for part in (found.group(2) or "").split(","):
        names = part.strip().split("/")
        if len(names) == 3:
            colour = (names[1], names[2], names[0])
        elif len(names) == 1 and names[0] in ("bt709", "bt2020", "smpte170m", "bt470bg"):
            colour = (names[0], names[0], names[0])
    return found.group(1), colour


def _probe_av(path: Path, size: int, audio_containers: dict = AUDIO_CONTAINERS) -> MediaInfo:
    banner = run_ffmpeg(["-i", ffmpeg_input(path)], PROBE_TIMEOUT).stderr.decode("utf-8", "replace")
    demuxer = _INPUT.search(banner)
    if (demuxer is None or demuxer.group(1).endswith("_pipe") or demuxer.group(1) == "image2"
            or demuxer.group(1) in TEXT_DEMUXERS):
        raise MediaError(NOT_MEDIA)
    video_codec = audio_codec = None
    width = height = None
    pix_fmt = colour = None
    for kind, codec, rest in _STREAM.findall(banner):
        if kind == "Video" and video_codec is None and "attached pic" not in rest:
            video_codec = codec
            pix_fmt, colour = _picture(rest)
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
        if container not in audio_containers:
            raise MediaError(f"This audio format ({demuxer.group(1)}) is not accepted; "
                             "use MP3, WAV, FLAC, M4A or AAC.")
        content_type, ext, codecs = audio_containers[container]
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
                     has_audio=kind == "video" and audio_codec is not None, pix_fmt=pix_fmt, colour=colour,
                     container=container)


def still_picture(path: Path) -> tuple[int, int, str | None]:
    """Width, height and pixel format of one frame ffmpeg reads (a sequence's PNG or EXR)."""
    banner = run_ffmpeg(["-i", ffmpeg_input(path)], PROBE_TIMEOUT).stderr.decode("utf-8", "replace")
    for kind, _codec, rest in _STREAM.findall(banner):
        size = _SIZE.search(rest)
        if kind == "Video" and size:
            pix_fmt, _colour = _picture(rest)
            return int(size.group(1)), int(size.group(2)), pix_fmt
    raise MediaError("This frame can't be read; it may be damaged.")


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
        result = run_ffmpeg(["-v", "error", *seek, "-i", ffmpeg_input(path), "-t", "1",
                       "-progress", "pipe:1", "-f", "null", "-"], DECODE_TIMEOUT)
        errors = result.stderr.decode("utf-8", "replace")
        decoded = [int(us) for us in _OUT_TIME.findall(result.stdout)]
        if result.returncode != 0 or DAMAGE.search(errors) or not any(decoded):
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
        result = run_ffmpeg(["-v", "error", "-ss", f"{start:.3f}", "-i", ffmpeg_input(path),
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
            "-i", ffmpeg_input(path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le",
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
