"""Real sample media files for tests, made with Pillow and the imageio-ffmpeg binary."""

from __future__ import annotations

import random
import struct
import subprocess
import zlib
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, PngImagePlugin

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def _image(w: int, h: int) -> Image.Image:
    # Gradients plus noise, so every encoder produces real data rather than a few bytes.
    gradient = Image.linear_gradient("L").resize((w, h))
    noise = Image.effect_noise((w, h), 60)
    return Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.ROTATE_180)))


def make_png(path: Path, w: int = 64, h: int = 48, *, pad_to: int | None = None) -> Path:
    """A PNG; `pad_to` grows it to exactly that many bytes with a tEXt chunk."""
    img = _image(w, h)
    img.save(path, "PNG")
    if pad_to is not None:
        size = path.stat().st_size
        overhead = 12 + len(b"pad") + 1  # length, type, crc + keyword and NUL
        if size + overhead > pad_to:
            raise ValueError(f"PNG is already {size} bytes")
        info = PngImagePlugin.PngInfo()
        info.add_text("pad", "x" * (pad_to - size - overhead))
        img.save(path, "PNG", pnginfo=info)
        assert path.stat().st_size == pad_to, path.stat().st_size
    return path


def make_jpeg(path: Path, w: int = 64, h: int = 48) -> Path:
    """A baseline JPEG."""
    _image(w, h).save(path, "JPEG", quality=85)
    return path


def make_webp(path: Path, w: int = 64, h: int = 48) -> Path:
    """A lossy WebP."""
    _image(w, h).save(path, "WEBP", quality=80)
    return path


def make_gif(path: Path, w: int = 64, h: int = 48) -> Path:
    """A GIF (a format Runway refuses)."""
    _image(w, h).save(path, "GIF")
    return path


def _ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, capture_output=True, timeout=60)


def make_mp4(path: Path, seconds: float = 1.0, w: int = 160, h: int = 120,
             *, with_audio: bool = False, noise: int = 0) -> Path:
    """An H.264 MP4 test pattern, optionally with a sine-wave AAC track; `noise` (0-100) makes
    every frame costly to code, so the file is large for its length."""
    args = ["-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate=10:duration={seconds}"]
    if noise:
        args += ["-vf", f"noise=alls={noise}:allf=t"]
    if with_audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                 "-c:a", "aac", "-b:a", "32k"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
             "-movflags", "+faststart", "-shortest", str(path)]
    _ffmpeg(*args)
    return path


def make_webm(path: Path, seconds: float = 1.0, w: int = 160, h: int = 120) -> Path:
    """A VP9 WebM test pattern."""
    _ffmpeg("-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate=10:duration={seconds}",
            "-c:v", "libvpx-vp9", "-deadline", "realtime", "-b:v", "100k", str(path))
    return path


def make_wav(path: Path, seconds: float = 1.0, *, rate: int = 16000) -> Path:
    """A 16-bit PCM WAV sine tone, written directly (no ffmpeg needed)."""
    import math
    import wave

    n = int(seconds * rate)
    frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(n))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


def make_mp3(path: Path, seconds: float = 1.0) -> Path:
    """An MP3 sine tone."""
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:a", "libmp3lame", "-b:a", "64k", str(path))
    return path


def make_m4a(path: Path, seconds: float = 1.0) -> Path:
    """An AAC audio-only MP4 (.m4a)."""
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:a", "aac", "-b:a", "32k", "-f", "ipod", str(path))
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pixel_bomb_png(path: Path, w: int = 60000, h: int = 60000) -> Path:
    """A tiny PNG whose header declares w×h pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # 8-bit greyscale
    # One compressed row of zeros is enough to look plausible; the header is what matters.
    body = zlib.compress(b"\x00" * (w + 1))
    # A comment chunk lifts it over the minimum size so the pixel check is what refuses it.
    pad = _chunk(b"tEXt", b"Comment\x00" + b"x" * 600)
    data = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + pad + _chunk(b"IDAT", body)
            + _chunk(b"IEND", b""))
    path.write_bytes(data)
    return path


def truncated(path: Path, keep: float = 0.6) -> Path:
    """Cut a file to `keep` of its length, in place."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(int(size * keep))
    return path


def random_bytes(path: Path, n: int) -> Path:
    """n bytes of noise, the same every run (truly random bytes now and then hold an MP3 frame ffmpeg accepts)."""
    path.write_bytes(random.Random(n).randbytes(n))
    return path


def sparse_file(path: Path, n: int, head: bytes = b"") -> Path:
    """A file of exactly n bytes that takes no disk space beyond `head`."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(n)
    return path
