"""Rendering real output media with Pillow and the ffmpeg binary of ``imageio-ffmpeg``.

Renders are kept small: videos have their longest side scaled to ``max_video_side`` (640 by
default) at ``fps`` frames per second, images to ``max_image_side`` (1024); the requested
aspect ratio and duration always hold. A size or rate the request asks for (upscales,
frame-rate enhancement) is rendered exactly, cut short to ``PIXEL_BUDGET`` instead. Videos
are written in the delivery their ``VideoSpec.fmt`` names (see ``formats.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import re
import shutil
import struct
import subprocess
import textwrap
import wave
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageDraw, ImageFont, ImageOps

from . import formats

SAMPLE_RATE = 24_000
MAX_UPSCALE_PIXELS = 25_300_000
MAX_RENDER_SECONDS = 30.0  # longer videos are billed and reported as asked, rendered this long
MAX_AUDIO_SECONDS = 60.0  # likewise for audio
PIXEL_BUDGET = 240_000_000  # pixels in all of a render's frames: a 4K render is about a second long


@dataclass(frozen=True)
class RenderSettings:
    """Size and rate limits for rendered media."""

    max_video_side: int = 640
    max_image_side: int = 1024
    fps: int = 12
    placeholder: bool = False


@dataclass(frozen=True)
class Source:
    """An input the output is derived from: its kind and a file holding its bytes."""

    kind: str
    path: Path


def ffmpeg_exe() -> str:
    """Path of the bundled ffmpeg binary."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def fit(width: int, height: int, longest: int, even: bool = False) -> tuple[int, int]:
    """Scale (width, height) so the longest side is at most ``longest``, keeping the ratio."""
    scale = min(1.0, longest / max(width, height))
    w, h = max(2, round(width * scale)), max(2, round(height * scale))
    if even:
        w, h = w - w % 2, h - h % 2
    return w, h


def _palette(prompt: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(prompt.encode()).digest()
    return (digest[0], digest[1], digest[2]), (digest[3], digest[4], digest[5])


def _gradient(size: tuple[int, int], prompt: str) -> Image.Image:
    top, bottom = _palette(prompt)
    column = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    return column.resize(size, Image.Resampling.BILINEAR)


@cache
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def caption(width: int, height: int, prompt: str) -> Image.Image:
    """A translucent band with the prompt's text, sized for a frame of the given size."""
    size = max(10, height // 18)
    font = _font(size)
    chars = max(10, int(width / (size * 0.55)))
    lines = textwrap.wrap(prompt or "(no prompt)", chars)[:3]
    band_h = (len(lines) + 1) * (size + 4)
    band = Image.new("RGBA", (width, band_h), (0, 0, 0, 150))
    draw = ImageDraw.Draw(band)
    for i, line in enumerate(lines):
        draw.text((size // 2, size // 2 + i * (size + 4)), line, font=font, fill=(255, 255, 255, 255))
    return band


def _open_image(source: Source | None, size: tuple[int, int], prompt: str) -> Image.Image:
    if source is not None and source.kind == "image":
        try:
            with Image.open(source.path) as img:
                return ImageOps.fit(img.convert("RGB"), size, Image.Resampling.BILINEAR)
        except (OSError, ValueError):
            pass
    return _gradient(size, prompt)


def render_image(path: Path, width: int, height: int, prompt: str, source: Source | None,
                 fmt: str, settings: RenderSettings, variant: int = 0) -> None:
    """Write a PNG, JPEG or WebP (``fmt``, a key of ``formats.IMAGE``) at the requested ratio,
    built from the source image and prompt."""
    size = fit(width, height, 16 if settings.placeholder else settings.max_image_side)
    image = _open_image(source, size, f"{prompt}#{variant}")
    if not settings.placeholder:
        band = caption(size[0], size[1], prompt)
        image.paste(band, (0, size[1] - band.height), band)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=formats.IMAGE.get(fmt, formats.IMAGE["png"])[1], quality=85)


def preview_image(path: Path, source: Path | None, prompt: str, side: int, square: bool = False) -> None:
    """Write a PNG preview within ``side`` pixels of an image (a centre square when ``square``), or of
    the prompt's gradient when there is no image."""
    image = None
    if source is not None:
        try:
            with Image.open(source) as img:
                image = img.convert("RGB")
        except (OSError, ValueError):
            image = None
    if image is None:
        image = _gradient((side, side) if square else (side, side * 3 // 4), prompt)
    elif square:
        image = ImageOps.fit(image, (side, side), Image.Resampling.BILINEAR)
    else:
        image.thumbnail((side, side), Image.Resampling.BILINEAR)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")


def upscale_image(path: Path, source: Source | None, factor: int, prompt: str) -> None:
    """Write the source image enlarged by ``factor`` (bounded by the API's 25.3 MP cap)."""
    if source is not None and source.kind == "image":
        with Image.open(source.path) as img:
            base = img.convert("RGB")
    else:
        base = _gradient((320, 320), prompt)
    scale = min(float(factor), math.sqrt(MAX_UPSCALE_PIXELS / (base.width * base.height)))
    size = (max(base.width + 1, round(base.width * scale)), max(base.height + 1, round(base.height * scale)))
    path.parent.mkdir(parents=True, exist_ok=True)
    base.resize(size, Image.Resampling.BICUBIC).save(path, format="PNG", compress_level=1)


def _run_ffmpeg(args: list[str], stdin: bytes | None = None) -> None:
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args],
                            input=stdin, capture_output=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError("ffmpeg failed: " + result.stderr.decode(errors="replace")[-500:])


def probe(path: Path) -> dict[str, float]:
    """Duration (s), width, height and frame rate of a media file, read from ``ffmpeg -i``;
    ``audio`` is 1 when it has a sound stream."""
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                            capture_output=True, timeout=30, check=False)
    text = result.stderr.decode(errors="replace")
    facts: dict[str, float] = {}
    match = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", text)
    if match:
        hours, minutes, seconds = match.groups()
        facts["duration"] = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    match = re.search(r"Video: .*?(\d{2,5})x(\d{2,5})", text)
    if match:
        facts["width"], facts["height"] = float(match.group(1)), float(match.group(2))
    match = re.search(r"Video: .*?, (\d+(?:\.\d+)?) fps", text)
    if match:
        facts["fps"] = float(match.group(1))
    if re.search(r"Stream #\S+: Audio: ", text):
        facts["audio"] = 1.0
    return facts


@dataclass(frozen=True)
class VideoSpec:
    """What one video output is: picture size, frame rate, length, sound track and delivery.

    ``fmt`` is a key of ``formats.VIDEO`` (the request's ``outputFormat``), ``profile`` the
    ProRes tier; a sequence's zip carries ``sidecar_audio``'s sound as audio.wav, and a
    provenance.json when ``provenance`` says what the delivery was made from. ``soundtrack`` is a
    file whose sound the video carries instead of a generated tone (an avatar's speech).
    """

    width: int
    height: int
    seconds: float
    fps: str = "12"
    audio: bool = False
    fmt: str = "mp4"
    profile: str = ""
    sidecar_audio: str = ""
    provenance: str = ""
    soundtrack: str = ""


def fps_value(rate: str) -> float:
    """An ffmpeg rate (``"24"``, ``"30000/1001"``) as a number."""
    top, _, bottom = rate.partition("/")
    return float(top) / float(bottom or 1)


def fps_rate(fps: float) -> str:
    """An ffmpeg rate for a measured frame rate: whole numbers, or NTSC's n×1000/1001."""
    if abs(fps - round(fps)) < 0.01:
        return str(max(1, round(fps)))
    ntsc = round(fps * 1.001)
    if abs(fps - ntsc / 1.001) < 0.01:
        return f"{ntsc * 1000}/1001"
    return f"{fps:.3f}"


def within_budget(spec: VideoSpec) -> VideoSpec:
    """``spec`` cut short enough that its frames hold at most ``PIXEL_BUDGET`` pixels (at least one frame)."""
    per_second = spec.width * spec.height * fps_value(spec.fps)
    most = max(1.0 / fps_value(spec.fps), PIXEL_BUDGET / per_second)
    return dataclasses.replace(spec, seconds=min(spec.seconds, MAX_RENDER_SECONDS, most))


def _sound_input(spec: VideoSpec, prompt: str, path: Path) -> tuple[list[str], Path | None]:
    """ffmpeg input arguments for the sound track, and the tone file generated for it (if one was)."""
    if not spec.audio or formats.VIDEO[spec.fmt].ext == "zip":
        return [], None
    if spec.soundtrack:
        return ["-i", spec.soundtrack], None
    tone = path.with_name(path.name + ".tone.wav")
    tone.write_bytes(tone_wav(spec.seconds, f"sound {prompt}"))
    return ["-i", str(tone)], tone


def colour_filter(spec: VideoSpec) -> str:
    """A filter tagging frames with the format's primaries, transfer and matrix ("" for none)."""
    colour = formats.VIDEO[spec.fmt].colour
    if colour is None:
        return ""
    primaries, transfer, matrix = colour
    return f"setparams=color_primaries={primaries}:color_trc={transfer}:colorspace={matrix}"


def _codec_args(spec: VideoSpec, audio_index: int | None) -> list[str]:
    """Encoder and muxer arguments of the spec's format (a sequence writes image files)."""
    out = formats.VIDEO[spec.fmt]
    if out.codec == "h264":
        video = ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-pix_fmt", out.pix_fmt]
    elif out.codec == "hevc":
        params = "log-level=error"
        if out.colour and out.colour[1] == "smpte2084":
            params += ":hdr10=1:max-cll=1000,400"
        video = ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", out.pix_fmt, "-x265-params", params,
                 "-tag:v", "hvc1"]
    elif out.codec == "prores":
        tier, pix_fmt = formats.PRORES_PROFILES[formats.prores_profile(spec.fmt, spec.profile)]
        video = ["-c:v", "prores_ks", "-profile:v", tier, "-pix_fmt", pix_fmt, "-vendor", "apl0"]
    elif out.codec == "png":
        return ["-c:v", "png", "-pix_fmt", out.pix_fmt, "-an", "-f", "image2"]
    else:
        return ["-c:v", "exr", "-format", "half", "-compression", "zip16", "-pix_fmt", out.pix_fmt, "-an",
                "-f", "image2"]
    if audio_index is None:
        sound = ["-an"]
    elif out.ext == "mov":
        sound = ["-map", f"{audio_index}:a", "-c:a", "pcm_s16le"]
    else:
        sound = ["-map", f"{audio_index}:a", "-c:a", "aac", "-b:a", "64k"]
    container = ["-movflags", "+faststart", "-f", "mp4"] if out.ext == "mp4" else ["-f", "mov"]
    return [*video, *sound, *container]


def _encode(path: Path, spec: VideoSpec, prompt: str, inputs: list[str], video_map: list[str],
            stdin: bytes | None = None) -> None:
    """Run ffmpeg over ``inputs`` into ``path`` in the spec's format (zipping a sequence's frames)."""
    out = formats.VIDEO[spec.fmt]
    sound, tone = _sound_input(spec, prompt, path)
    audio_index = inputs.count("-i") if sound else None
    timing = ["-r", spec.fps, "-t", f"{spec.seconds:.3f}"]
    frames = path.with_name(path.name + ".frames")
    target = frames / f"{out.frame_names}.{out.codec}" if out.ext == "zip" else path
    try:
        if out.ext == "zip":
            shutil.rmtree(frames, ignore_errors=True)
            frames.mkdir(parents=True)
        _run_ffmpeg([*inputs, *sound, *video_map, *_codec_args(spec, audio_index), *timing, str(target)], stdin)
        if out.ext == "zip":
            _zip_sequence(path, frames, spec)
    finally:
        if tone is not None:
            tone.unlink(missing_ok=True)
        shutil.rmtree(frames, ignore_errors=True)


def _zip_sequence(path: Path, frames: Path, spec: VideoSpec) -> None:
    """Pack a sequence's frames, with its sidecars, into the zip at ``path``."""
    out = formats.VIDEO[spec.fmt]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for frame in sorted(frames.iterdir()):
            archive.write(frame, frame.name)
        if out.colorimetry:
            primaries, transfer, matrix = out.colour or ("unknown", "unknown", "unknown")
            archive.writestr("colorimetry.json", json.dumps({
                "format": spec.fmt, "encoding": out.colorimetry, "primaries": primaries, "transfer": transfer,
                "matrix": matrix, "width": spec.width, "height": spec.height, "fps": spec.fps}, indent=2))
        if spec.provenance:
            archive.writestr("provenance.json", json.dumps({"format": spec.fmt, "upconvert": spec.provenance},
                                                           indent=2))
        if spec.sidecar_audio:
            wav = frames / "audio.wav"
            _run_ffmpeg(["-i", spec.sidecar_audio, "-vn", "-t", f"{spec.seconds:.3f}", "-c:a", "pcm_s16le",
                         "-f", "wav", str(wav)])
            archive.write(wav, "audio.wav")


def _tiny(spec: VideoSpec) -> VideoSpec:
    w, h = fit(spec.width, spec.height, 64, even=True)
    return dataclasses.replace(spec, width=w, height=h, fps="2", seconds=min(spec.seconds, 1.0))


def render_video(path: Path, spec: VideoSpec, prompt: str, source: Source | None,
                 settings: RenderSettings) -> None:
    """Write a video of ``spec``'s size, rate and length: a slow zoom and pan over the input image."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if settings.placeholder:
        if spec.fmt == "mp4" and not spec.audio:
            path.write_bytes(placeholder_video())
            return
        spec = _tiny(spec)
    w, h = spec.width, spec.height
    base = _open_image(source, (round(w * 1.25), round(h * 1.25)), prompt)
    band = caption(w, h, prompt)
    frames = max(1, round(spec.seconds * fps_value(spec.fps)))
    raw = io.BytesIO()
    for i in range(frames):
        zoom = 1.25 - 0.25 * i / max(1, frames - 1)
        cw, ch = base.width / zoom * 1.0, base.height / zoom * 1.0
        left = (base.width - cw) * (i / max(1, frames - 1))
        top = (base.height - ch) / 2
        frame = base.resize((w, h), Image.Resampling.BILINEAR,
                            box=(left, top, left + cw, top + ch))
        frame.paste(band, (0, h - band.height), band)
        raw.write(frame.tobytes())
    tag = colour_filter(spec)
    _encode(path, spec, prompt, ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", spec.fps, "-i", "-"],
            ["-map", "0:v", *(["-vf", tag] if tag else [])], raw.getvalue())


def transform_video(path: Path, source: Source, spec: VideoSpec, prompt: str) -> None:
    """Write a colour-treated version of an input video at ``spec``'s size, rate and length."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = spec.width, spec.height
    overlay = path.with_name(path.name + ".caption.png")
    caption(w, h, prompt).save(overlay)
    hue = int(hashlib.sha256(prompt.encode()).digest()[0]) * 360 // 256
    tag = colour_filter(spec)
    chain = (f"[0:v]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},"
             f"setsar=1,fps={spec.fps},hue=h={hue}:s=1.3[v];[v][1:v]overlay=0:H-h{',' + tag if tag else ''}[out]")
    try:
        _encode(path, spec, prompt, ["-stream_loop", "-1", "-i", str(source.path), "-i", str(overlay)],
                ["-filter_complex", chain, "-map", "[out]"])
    finally:
        overlay.unlink(missing_ok=True)


@cache
def placeholder_video() -> bytes:
    """A tiny one-second MP4, used when real rendering is switched off."""
    raw = bytes(64 * 36 * 3) * 2
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-s", "64x36", "-r", "2", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-movflags", "frag_keyframe+empty_moov", "-f", "mp4", "-"],
        input=raw, capture_output=True, timeout=60, check=True)
    return result.stdout


@cache
def _note(freq: int) -> bytes:
    """A quarter second of a sine at ``freq`` Hz, faded out, as 16-bit PCM (one per pitch, kept)."""
    note_len = SAMPLE_RATE // 4
    return struct.pack(f"<{note_len}h", *(
        int(8000 * math.sin(2 * math.pi * freq * n / SAMPLE_RATE) * min(1.0, (note_len - n) / 400))
        for n in range(note_len)))


def tone_wav(seconds: float, prompt: str) -> bytes:
    """PCM WAV of the given length: a short melody whose notes come from the prompt."""
    digest = hashlib.sha256(prompt.encode()).digest()
    total = max(1, round(seconds * SAMPLE_RATE))
    pcm = bytearray()
    index = 0
    while len(pcm) < total * 2:
        pcm += _note(220 + digest[index % len(digest)] * 2)
        index += 1
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes(pcm[: total * 2]))
    return buffer.getvalue()


def render_audio(path: Path, seconds: float, prompt: str, fmt: str,
                 settings: RenderSettings, sample_rate: int = 0) -> None:
    """Write audio of the requested duration in ``fmt`` (a key of ``formats.AUDIO``: WAV, MP3,
    FLAC or Ogg Opus), at ``sample_rate`` Hz when one is asked (Opus: the nearest rate it has)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seconds = min(seconds, 0.5) if settings.placeholder else min(seconds, MAX_AUDIO_SECONDS)
    wav = tone_wav(seconds, prompt)
    fmt = fmt if fmt in formats.AUDIO else "wav"
    if fmt == "wav" and sample_rate in (0, SAMPLE_RATE):
        path.write_bytes(wav)
        return
    rate = sample_rate or SAMPLE_RATE
    if fmt == "ogg_opus":
        rate = min((r for r in formats.OPUS_RATES if r >= rate), default=formats.OPUS_RATES[-1])
    _run_ffmpeg(["-f", "wav", "-i", "-", "-ar", str(rate), *formats.AUDIO[fmt][1], str(path)], wav)
