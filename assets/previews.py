"""What Runway delivered, opened for keeping: its facts, a browser-playable copy when needed, a poster.

A delivery is kept as it came (ProRes .mov, HEVC HDR, a ZIP of PNG or EXR frames, Ogg
Opus...). Every browser plays H.264 in 4:2:0 8-bit in MP4 and MP3, AAC, WAV and FLAC
audio; anything else also gets a preview in those terms, at the delivery's own picture
size and length, with HDR (PQ, HLG or linear light) tone-mapped to SDR Rec.709. The poster
is taken from the preview when there is one, so an HDR master's poster is not washed out.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from assets import media, sequences
from assets.decoding import MediaError, ffmpeg_exe, ffmpeg_input

PLAYABLE_VIDEO = {("mp4", "h264")}  # (container, codec) every browser plays...
PLAYABLE_PIX_FMTS = {"yuv420p", "yuvj420p"}  # ...in these pixel formats
PLAYABLE_AUDIO = {"mp3", "wav", "flac", "m4a", "aac"}  # containers every browser plays
HDR_TRANSFERS = {"smpte2084", "arib-std-b67", "linear"}
VIDEO_PREVIEW = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                 "-c:a", "aac", "-b:a", "160k", "-movflags", "+faststart", "-f", "mp4")
AUDIO_PREVIEW = ("-vn", "-c:a", "libmp3lame", "-b:a", "160k", "-f", "mp3")
PREVIEW_TYPES = {"video": ("video/mp4", ".mp4"), "audio": ("audio/mpeg", ".mp3")}


def needs_preview(info: media.MediaInfo) -> bool:
    """True if some browser cannot play this file as it is."""
    if info.kind == "video":
        return (info.container, info.codec) not in PLAYABLE_VIDEO or info.pix_fmt not in PLAYABLE_PIX_FMTS
    if info.kind == "audio":
        return info.container not in PLAYABLE_AUDIO
    return False


def tone_filter(colour: media.Colour | None, *, rgb: bool) -> str:
    """The filters that bring a picture to 8-bit 4:2:0 SDR Rec.709 (tone-mapping HDR on the way)."""
    if colour is None or colour[1] not in HDR_TRANSFERS:
        return "format=yuv420p"
    primaries, transfer, matrix = colour
    stated = (f"setparams=color_primaries={primaries}:color_trc={transfer}:colorspace={matrix}"
              f":range={'pc' if rgb else 'tv'}")
    return (f"{stated},zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
            "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p")


def _even(info: media.MediaInfo) -> str:
    """H.264 in 4:2:0 needs even sides: an odd one loses its last pixel."""
    if (info.width or 0) % 2 or (info.height or 0) % 2:
        return ",crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0"
    return ""


def _run(args: list[str], *, timeout: float, alive: Callable[[], object] | None, alive_every: float) -> None:
    """Run ffmpeg to its end, calling `alive` every `alive_every` seconds; MediaError if it fails."""
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-y", *args],
                                    stdout=subprocess.DEVNULL, stderr=errors)
        except OSError as exc:
            raise MediaError("Media tools are unavailable; try again later.") from exc
        with proc:
            while True:
                try:
                    proc.wait(timeout=max(0.1, min(alive_every, deadline - time.monotonic())))
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() >= deadline:
                        proc.kill()
                        proc.wait()
                        raise MediaError("Making a playable copy took too long.") from None
                    if alive is not None:
                        alive()
        if proc.returncode != 0:
            errors.seek(0)
            raise MediaError(f"No playable copy could be made: {errors.read(300).decode('utf-8', 'replace')}")


@dataclass
class Delivery:
    """One delivered file, opened: its facts and, for a ZIP, its unpacked frames."""

    path: Path
    info: media.MediaInfo
    sequence: sequences.Sequence | None = None

    @property
    def needs_preview(self) -> bool:
        return needs_preview(self.info)

    def write_preview(self, out: Path, *, timeout: float, alive: Callable[[], object] | None = None,
                      alive_every: float = 10.0) -> media.MediaInfo:
        """Write the browser-playable copy to `out` and return its facts."""
        info, seq = self.info, self.sequence
        if info.kind == "audio":
            _run(["-i", ffmpeg_input(self.path), *AUDIO_PREVIEW, str(out)], timeout=timeout, alive=alive,
                 alive_every=alive_every)
        else:
            if seq is not None:
                inputs = ["-framerate", f"{seq.fps:.6g}", "-start_number", "1", "-i", str(seq.pattern)]
                if seq.audio is not None:
                    inputs += ["-i", ffmpeg_input(seq.audio)]
                maps = ["-map", "0:v:0", *(["-map", "1:a:0", "-shortest"] if seq.audio else [])]
            else:
                inputs, maps = ["-i", ffmpeg_input(self.path)], ["-map", "0:v:0", "-map", "0:a:0?"]
            chain = tone_filter(info.colour, rgb=seq is not None or (info.pix_fmt or "").startswith("gbr")) + _even(info)
            _run([*inputs, *maps, "-vf", chain, *VIDEO_PREVIEW, str(out)], timeout=timeout, alive=alive,
                 alive_every=alive_every)
        return media.probe(out, delivered=True)

    def write_poster(self, out: Path, *, preview: tuple[Path, media.MediaInfo] | None = None) -> None:
        """A JPEG poster: from the preview when there is one (tone-mapped), else from the file itself."""
        if preview is not None:
            media.make_thumbnail(preview[0], preview[1], out)
        elif self.sequence is None:
            media.make_thumbnail(self.path, self.info, out)
        else:
            raise MediaError("A sequence's poster comes from its preview, and there is none.")


@contextlib.contextmanager
def opened(path: str | Path, *, seconds: float | None = None) -> Iterator[Delivery]:
    """Open a delivered file for the `with` block: a ZIP of frames is unpacked, anything else probed.

    `seconds` is the length asked for, which gives a sequence its frame rate when the ZIP
    does not state one. MediaError if the file is not media we can keep.
    """
    path = Path(path)
    if sequences.is_zip(path):
        with sequences.unpacked(path, seconds=seconds) as sequence:
            yield Delivery(path, sequences.describe(path, sequence), sequence)
    else:
        yield Delivery(path, media.probe(path, delivered=True))
