"""Image sequences Runway delivers as a ZIP of frames (PNG or OpenEXR): unpacked safely and measured.

A ZIP is read entry by entry through `zipfile`, never extracted by its own names: the frames
are the entries named *.png or *.exr (in natural order: frame.2 before frame.10), written
one at a time into a private folder under names we choose (00001.exr, ...), where ffmpeg's
image2 demuxer reads them (its EXR pipe demuxer cannot). Counts and sizes are checked
against the archive's directory before a byte is read and again as bytes arrive, so a
ZIP bomb stops at its bound; every entry's CRC is checked as it is read. Frames that are
already compressed take about as much room unpacked as in the ZIP.

A sidecar JSON in the archive may state the frame rate and the colour (`fps`,
`primaries`, `transfer`, `matrix`, as ffmpeg names them); without one the rate is the
frame count over the length asked for, and the colour is what the file type implies
(EXR holds linear light, PNG sRGB).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assets.decoding import MediaError
from assets.media import Colour, MediaInfo, sha256_file, still_picture
from runway.catalog.data import MAX_OUTPUT_BYTES

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a first entry, or the end of an empty archive
FRAME_TYPES = ("png", "exr")
MAX_FRAMES = 60 * 120  # two minutes at 60 frames a second
MAX_SIDECAR_BYTES = 64 * 1024
MAX_AUDIO_BYTES = 512 * 1024 * 1024
DEFAULT_FPS = 24.0
# What each frame type holds when no sidecar says: (primaries, transfer, matrix), and the range.
IMPLIED_COLOUR: dict[str, Colour] = {"exr": ("bt709", "linear", "gbr"), "png": ("bt709", "iec61966-2-1", "gbr")}
_NAMES = re.compile(r"^[a-z0-9-]+$")  # an ffmpeg colour name, nothing a filter string could misread


@dataclass
class Sequence:
    """An unpacked sequence: its frames in `folder` as `pattern`, and what they are."""

    folder: Path
    frame_type: str  # png or exr
    frames: int
    fps: float
    width: int
    height: int
    pix_fmt: str | None
    colour: Colour
    audio: Path | None  # a sound track delivered beside the frames (audio.wav)

    @property
    def pattern(self) -> Path:
        return self.folder / f"%05d.{self.frame_type}"

    @property
    def duration(self) -> float:
        return self.frames / self.fps


def is_zip(path: str | Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in ZIP_MAGIC


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _copy_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path, most: int) -> int:
    """Write one entry to `target`, stopping past `most` bytes; its size. CRC checked by zipfile."""
    written = 0
    with archive.open(entry) as source, open(target, "wb") as out:
        while chunk := source.read(1024 * 1024):
            written += len(chunk)
            if written > most:
                raise MediaError("This sequence unpacks to more than its directory says; it is damaged.")
            out.write(chunk)
    return written


def _sidecar(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> dict:
    """What the first readable JSON sidecar states (fps and colour names), else {}."""
    for entry in entries:
        if entry.filename.lower().endswith(".json") and entry.file_size <= MAX_SIDECAR_BYTES:
            try:
                data = json.loads(archive.read(entry))
            except (ValueError, zipfile.BadZipFile):
                continue
            if isinstance(data, dict):
                return data
    return {}


def _fps(stated: object, frames: int, seconds: float | None) -> float:
    try:
        text = str(stated)
        top, _, bottom = text.partition("/")
        fps = float(top) / float(bottom or 1)
        if 1 <= fps <= 240:
            return fps
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    if seconds and seconds > 0 and 1 <= frames / seconds <= 240:
        return frames / seconds
    return DEFAULT_FPS


def _colour(stated: dict, frame_type: str) -> Colour:
    names = tuple(str(stated.get(key, "")) for key in ("primaries", "transfer"))
    implied = IMPLIED_COLOUR[frame_type]
    if all(_NAMES.match(name) for name in names):
        return (names[0], names[1], "gbr")  # frames are RGB, whatever matrix a YUV copy would use
    return implied


@contextlib.contextmanager
def unpacked(path: str | Path, *, seconds: float | None = None) -> Iterator[Sequence]:
    """Unpack a sequence ZIP for the `with` block; MediaError if unusable.

    The folder sits beside the ZIP, its name starting with the ZIP's, so whoever clears
    the ZIP's leftovers by name clears a dead process's frames too.
    """
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise MediaError("This ZIP is damaged and can't be read.") from exc
    folder = Path(tempfile.mkdtemp(prefix=f"{path.name}.frames-", dir=path.parent))
    try:
        with archive:
            entries = [e for e in archive.infolist() if not e.is_dir() and not e.filename.startswith("__MACOSX/")]
            by_type = {t: [e for e in entries if e.filename.lower().endswith(f".{t}")] for t in FRAME_TYPES}
            frame_type = max(FRAME_TYPES, key=lambda t: len(by_type[t]))
            frames = sorted(by_type[frame_type], key=lambda e: _natural(e.filename))
            if not frames:
                raise MediaError("This ZIP holds no PNG or EXR frames.")
            if len(frames) > MAX_FRAMES:
                raise MediaError(f"This sequence has {len(frames):,} frames; we keep at most {MAX_FRAMES:,}.")
            if sum(e.file_size for e in entries) > MAX_OUTPUT_BYTES:
                raise MediaError("This sequence unpacks to more than we can keep.")
            for number, entry in enumerate(frames, start=1):
                _copy_entry(archive, entry, folder / f"{number:05d}.{frame_type}", entry.file_size)
            sound = next((e for e in entries if e.filename.lower().endswith(".wav")), None)
            audio = None
            if sound is not None and sound.file_size <= MAX_AUDIO_BYTES:
                audio = folder / "audio.wav"
                _copy_entry(archive, sound, audio, sound.file_size)
            stated = _sidecar(archive, entries)
    except zipfile.BadZipFile as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise MediaError("This ZIP is damaged and can't be read.") from exc
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        width, height, pix_fmt = still_picture(folder / f"00001.{frame_type}")
        yield Sequence(folder, frame_type, len(frames), _fps(stated.get("fps"), len(frames), seconds),
                       width, height, pix_fmt, _colour(stated, frame_type), audio)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def describe(path: str | Path, sequence: Sequence) -> MediaInfo:
    """The facts we keep of a sequence ZIP: a video of its frames' size and length."""
    return MediaInfo("video", "application/zip", ".zip", Path(path).stat().st_size, sequence.width,
                     sequence.height, round(sequence.duration, 3), sha256=sha256_file(path),
                     codec=f"{sequence.frame_type} sequence", has_audio=sequence.audio is not None,
                     pix_fmt=sequence.pix_fmt, colour=sequence.colour, container="zip")
