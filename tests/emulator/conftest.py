"""One emulator per session on a frozen clock; each test starts from a reset state."""

from __future__ import annotations

import io
import re
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from runwayml import RunwayML

from emulator.media import ffmpeg_exe, tone_wav
from emulator.testing import Control, EmulatorServer

API_KEY = "key_" + "0" * 128


@pytest.fixture(scope="session")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(frozen_clock=True, speed=1.0, credits=100_000, tier=5,
                        max_video_side=320, max_image_side=512, fps=8) as running:
        yield running


@pytest.fixture
def control(server: EmulatorServer) -> Control:
    assert server.control is not None
    server.control.reset()
    return server.control


@pytest.fixture
def client(server: EmulatorServer, control: Control) -> Iterator[RunwayML]:
    with RunwayML(api_key=API_KEY, base_url=server.url, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def raw(server: EmulatorServer, control: Control) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Runway-Version": "2024-11-06"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        yield http


def png_bytes(width: int = 640, height: int = 360, color: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    image = Image.new("RGB", (width, height), color)
    for x in range(0, width, 16):
        for y in range(0, height, 16):
            if (x + y) // 16 % 2:
                image.putpixel((x, y), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def mp4_file(path: Path, width: int = 160, height: int = 90, seconds: float = 2.0, fps: int = 8) -> Path:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size={width}x{height}:rate={fps}", "-t", str(seconds), "-pix_fmt",
                    "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(path)], check=True)
    return path


def wav_file(path: Path, seconds: float = 6.0) -> Path:
    path.write_bytes(tone_wav(seconds, "input"))
    return path


@pytest.fixture
def image_path(tmp_path: Path) -> Path:
    path = tmp_path / "still.png"
    path.write_bytes(png_bytes())
    return path


@pytest.fixture(scope="session")
def video_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mp4_file(tmp_path_factory.mktemp("media") / "clip.mp4")


@pytest.fixture(scope="session")
def audio_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wav_file(tmp_path_factory.mktemp("media") / "voice.wav")


def upload(client: RunwayML, path: Path) -> str:
    """Upload a file through the SDK, streaming an open file, and return its runway:// URI."""
    with path.open("rb") as handle:
        return client.uploads.create_ephemeral(file=handle).uri


def finish(control: Control, client: RunwayML, task_id: str):
    """Move the clock past any task duration and return the task."""
    control.advance_clock(600)
    return client.tasks.retrieve(task_id)


def probe(data: bytes, tmp_path: Path, suffix: str) -> dict[str, object]:
    """Duration, size and stream kinds of a media file, from ``ffmpeg -i``."""
    path = tmp_path / f"probe{suffix}"
    path.write_bytes(data)
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                          check=False).stderr.decode()
    facts: dict[str, object] = {"streams": re.findall(r"Stream #\S+.*?: (Video|Audio): (\w+)", text)}
    match = re.search(r"Duration: (\d+):(\d+):(\d+\.\d+)", text)
    if match:
        facts["duration"] = int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])
    match = re.search(r"Video: .*?, (\d{2,5})x(\d{2,5})", text)
    if match:
        facts["size"] = (int(match[1]), int(match[2]))
    return facts


VIDEO_LINE = re.compile(r"Stream #\S+: Video: (\w+)(?: \(([^)]*)\))?[^,]*, (\w+)(?:\(([^)]*)\))?(.*)$", re.M)
AUDIO_LINE = re.compile(r"Stream #\S+: Audio: (\w+)[^,]*, (\d+) Hz", re.M)
COLOR_NAMES = {"bt709", "bt2020", "bt2020nc", "smpte2084", "arib-std-b67", "linear", "unknown", "gbr",
               "bt470bg", "smpte170m", "smpte432", "iec61966-2-1"}


def media_facts(data: bytes, tmp_path: Path, suffix: str) -> dict[str, object]:
    """What ``ffmpeg -i`` says of a file: container, duration, and its first video and audio streams.

    ``video``: codec, profile (e.g. ``HQ`` for ProRes, ``Main 10`` for HEVC), pix_fmt, color
    (matrix, primaries, transfer), size, fps; ``audio``: codec and sample rate.
    """
    path = tmp_path / f"facts-{len(list(tmp_path.iterdir()))}{suffix}"
    path.write_bytes(data)
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                          check=False).stderr.decode()
    facts: dict[str, object] = {"container": None, "duration": None, "video": None, "audio": None}
    match = re.search(r"Input #0, ([\w,]+), from", text)
    if match:
        facts["container"] = match[1]
    match = re.search(r"Duration: (\d+):(\d+):(\d+\.\d+)", text)
    if match:
        facts["duration"] = int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])
    match = VIDEO_LINE.search(text)
    if match:
        codec, profile, pix_fmt, details, rest = match.groups()
        color = None
        for token in (t.strip() for t in (details or "").split(",")):
            parts = token.split("/")
            if all(p in COLOR_NAMES for p in parts):
                color = tuple(parts) if len(parts) == 3 else (token, token, token)
        size = re.search(r"(\d{2,5})x(\d{2,5})", rest)
        fps = re.search(r"([\d.]+) fps", rest)
        facts["video"] = {"codec": codec, "profile": profile, "pix_fmt": pix_fmt, "color": color,
                          "size": (int(size[1]), int(size[2])) if size else None,
                          "fps": float(fps[1]) if fps else None}
    match = AUDIO_LINE.search(text)
    if match:
        facts["audio"] = {"codec": match[1], "rate": int(match[2])}
    return facts


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnframes() / wav.getframerate()


def minimal(schema: dict[str, Any], uris: dict[str, str], name: str = "") -> Any:
    """The smallest value a schema accepts, with uploaded media for media strings."""
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return minimal(options[0], uris, name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "media":
        return uris[schema["kind"]]
    if kind == "object":
        return {key: minimal(schema["props"][key], uris, key) for key in schema["required"]}
    if kind == "array":
        return [minimal(schema["items"], uris) for _ in range(max(1, schema.get("min", 1)))]
    if kind in ("integer", "number"):
        low = schema.get("min", 1)
        return max(low, 1) if schema.get("max", 10**9) >= 1 else low
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("pattern"):
            return "abc"
        return "a calm lake at dawn"[: max(schema.get("max", 99), schema.get("min", 2))]
    return "x"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("._", ".")


class Uploads(dict):
    """``runway://`` URIs of the sample image, video and audio, each uploaded when first asked for."""

    def __init__(self, client: RunwayML, paths: dict[str, Path]) -> None:
        super().__init__()
        self._client, self._paths = client, paths

    def __missing__(self, kind: str) -> str:
        self[kind] = upload(self._client, self._paths[kind])
        return self[kind]


@pytest.fixture
def uris(client, image_path, video_path, audio_path) -> Uploads:
    return Uploads(client, {"image": image_path, "video": video_path, "audio": audio_path})
