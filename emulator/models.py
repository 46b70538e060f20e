"""The model catalog: request rules, output plans, tier limits and timings, as data.

Request rules live in ``request_schemas.json`` beside this module (one entry per endpoint
and model, in a small schema language read by ``validation.py``); prices live in
``prices.json``, read by ``pricing.py``. Tier limits, task timings and the models the router chooses
among are the tables below.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from . import formats, pricing

API_VERSION = "2024-11-06"

#: Generation endpoints (path under /v1/) and the kind of media each one produces.
ENDPOINT_OUTPUT: dict[str, str] = {
    "image_to_video": "video",
    "text_to_video": "video",
    "video_to_video": "video",
    "character_performance": "video",
    "video_upscale": "video",
    "video_to_hdr": "video",
    "text_to_image": "image",
    "image_upscale": "image",
    "sound_effect": "audio",
    "text_to_speech": "audio",
    "speech_to_speech": "audio",
    "voice_dubbing": "audio",
    "voice_isolation": "audio",
    "video_to_audio": "audio",
    "generate/video": "video",
    "generate/image": "image",
    "generate/audio": "audio",
}

ROUTER_ENDPOINTS = ("generate/video", "generate/image", "generate/audio")

#: Every endpoint whose POST creates a task: the generation endpoints, and avatar videos, whose
#: request rules live with the other avatar resources (``resource_schemas.json``).
TASK_ENDPOINTS = (*ENDPOINT_OUTPUT, "avatar_videos")


@cache
def request_schemas() -> dict[str, dict[str, Any]]:
    """Load the request-rule table: ``{endpoint: {model: schema}}``."""
    path = Path(__file__).with_name("request_schemas.json")
    return json.loads(path.read_text(encoding="utf-8"))


# --- Output plans: what a request will render -------------------------------------------


@dataclass(frozen=True)
class OutputPlan:
    """The media a task will produce: kind, count, aspect size, duration and format.

    ``fmt`` is the delivery (a key of ``formats.VIDEO``, ``formats.IMAGE`` or ``formats.AUDIO``),
    ``ext`` its file extension; ``audio`` says whether a video carries a sound track,
    ``profile`` is a ProRes tier asked for, ``sample_rate`` an audio rate asked for.
    """

    kind: str
    width: int
    height: int
    seconds: float
    count: int
    fmt: str
    billed_seconds: float
    audio: bool = False
    ext: str = ""
    profile: str = ""
    sample_rate: int = 0


VIDEO_DEFAULT_SECONDS = 5
AUTO_DURATION_SECONDS = 5
RATIO_WORDS = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960), "4:3": (1024, 768),
               "3:4": (768, 1024), "21:9": (1680, 720), "3:2": (1080, 720), "2:3": (720, 1080),
               "4:5": (864, 1080), "5:4": (1080, 864)}


#: ``magnific_video_upscaler_creative`` resolutions as the short side of the output, in pixels.
UPSCALE_SHORT_SIDE = {"720p": 720, "1k": 1080, "2k": 1440, "4k": 2160}
#: ``enhance_frame_rate`` targets as ffmpeg rates.
FRAME_RATES = {"24": "24", "25": "25", "30": "30", "48": "48", "50": "50", "60": "60", "120": "120",
               "23_98": "24000/1001", "29_97": "30000/1001", "59_94": "60000/1001"}


def upscale_size(resolution: Any, width: int, height: int) -> tuple[int, int]:
    """The output size of a video upscale: the input's shape with its short side at the resolution."""
    resolution = resolution or option_default("video_upscale", "magnific_video_upscaler_creative", "resolution")
    short = UPSCALE_SHORT_SIDE.get(resolution, UPSCALE_SHORT_SIDE["2k"])
    scale = short / max(1, min(width, height))
    w, h = round(width * scale), round(height * scale)
    return w - w % 2, h - h % 2


def parse_ratio(value: Any, default: tuple[int, int]) -> tuple[int, int]:
    """Turn ``"1280:720"``, ``"16:9"`` or ``"auto_720p"`` into a (width, height) pair."""
    if not isinstance(value, str):
        return default
    if value in RATIO_WORDS:
        return RATIO_WORDS[value]
    left, sep, right = value.partition(":")
    if sep and left.isdigit() and right.isdigit() and int(left) and int(right):
        return int(left), int(right)
    return default


def _duration(endpoint: str, model: str, body: dict[str, Any],
              inputs: Mapping[str, list[pricing.Facts]]) -> tuple[float, float]:
    """Return (rendered seconds, billed seconds) for a video request."""
    billed = pricing.billed_seconds(pricing.rule_for(endpoint, model), body, inputs)
    if body.get("duration") == "auto":
        return AUTO_DURATION_SECONDS, billed
    # A model billed otherwise than by the second still renders a clip of some length.
    return (billed, billed) if billed > 0 else (VIDEO_DEFAULT_SECONDS, VIDEO_DEFAULT_SECONDS)


def option_default(endpoint: str, model: str, name: str) -> Any:
    """The default the SDK documents for a request field (``"default"`` in its schema), if any."""
    schema = request_schemas().get(endpoint, {}).get(model, {})
    return schema.get("props", {}).get(name, {}).get("default")


def wants_audio(endpoint: str, model: str, body: Mapping[str, Any]) -> bool:
    """Whether a video request's output has a sound track: its ``audio``, else the documented default."""
    value = body.get("audio")
    if value is None:
        value = option_default(endpoint, model, "audio")
    return value is True


def _option(endpoint: str, model: str, body: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` the request sets, else the first documented default among them."""
    for name in names:
        if body.get(name) is not None:
            return body[name]
    return next((d for d in (option_default(endpoint, model, n) for n in names) if d is not None), None)


def plan_output(endpoint: str, model: str, body: dict[str, Any],
                inputs: Mapping[str, list[pricing.Facts]] | None = None) -> OutputPlan:
    """Work out what a validated request will produce; `inputs` are the measured input media."""
    kind = ENDPOINT_OUTPUT[endpoint]
    source = body.get("input", body) if endpoint in ROUTER_ENDPOINTS else body
    ratio = source.get("ratio", source.get("aspectRatio", source.get("targetAspectRatio")))
    audio = False
    profile = ""
    sample_rate = 0
    wanted = _option(endpoint, model, source, "outputFormat", "format")
    if kind == "video":
        width, height = parse_ratio(ratio, (1280, 720))
        seconds, billed = _duration(endpoint, model, source, inputs or {})
        fmt = formats.video_format(wanted)
        ext = formats.VIDEO[fmt].ext
        profile = str(source.get("proresProfile") or "")
        count = 1
        audio = wants_audio(endpoint, model, source)
    elif kind == "image":
        width, height = parse_ratio(ratio, (1024, 1024))
        seconds = billed = 0.0
        fmt = wanted if wanted in formats.IMAGE else "png"
        ext = formats.IMAGE[fmt][0]
        count = int(source.get("outputCount", 1) or 1)
    else:
        width = height = 0
        raw = source.get("duration")
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            seconds = float(raw)
        else:
            seconds = speech_seconds(str(source.get("promptText", "")))
        billed = seconds
        fmt = wanted if wanted in formats.AUDIO else "wav"
        ext = formats.AUDIO[fmt][0]
        rate = source.get("sampleRate")
        sample_rate = rate if isinstance(rate, int) and not isinstance(rate, bool) and rate > 0 else 0
        count = int(source.get("numVariants", 1) or 1)
    return OutputPlan(kind, width, height, seconds, count, fmt, billed, audio, ext, profile, sample_rate)


def speech_seconds(text: str) -> float:
    """How long a script takes to say: 15 characters a second, between 1 and 30 seconds."""
    return max(1.0, min(30.0, len(text) / 15))


# --- Task timings (realistic seconds at speed 1) -----------------------------------------

#: (seconds PENDING, seconds RUNNING) per output kind at ``speed == 1``.
TIMINGS: dict[str, tuple[float, float]] = {
    "video": (5.0, 45.0),
    "image": (2.0, 10.0),
    "audio": (2.0, 8.0),
}


# --- Tiers --------------------------------------------------------------------------------
# Five model groups per tier, as Runway's usage-tier table lists them. The group each model
# falls into is our reading of that table: 0 video, 1 image, 2 audio, 3 video editing and
# performance, 4 upscaling and enhancement.


@dataclass(frozen=True)
class Tier:
    """Concurrency and daily limits per model group, and the monthly spend cap."""

    concurrency: tuple[int, int, int, int, int]
    daily: tuple[int, int, int, int, int]
    monthly_credits: int


TIERS: dict[int, Tier] = {
    1: Tier((1, 2, 2, 1, 1), (50, 200, 200, 50, 50), 10_000),
    2: Tier((3, 3, 3, 3, 3), (500, 1_000, 1_000, 500, 1_000), 50_000),
    3: Tier((5, 5, 5, 5, 5), (1_000, 2_000, 2_000, 1_000, 2_000), 200_000),
    4: Tier((10, 10, 10, 10, 10), (5_000, 10_000, 10_000, 5_000, 10_000), 2_000_000),
    5: Tier((20, 20, 20, 20, 20), (25_000, 30_000, 30_000, 25_000, 30_000), 10_000_000),
}

GROUP_BY_ENDPOINT: dict[str, int] = {
    "image_to_video": 0, "text_to_video": 0, "generate/video": 0,
    "text_to_image": 1, "generate/image": 1,
    "sound_effect": 2, "text_to_speech": 2, "speech_to_speech": 2, "voice_dubbing": 2,
    "voice_isolation": 2, "video_to_audio": 2, "generate/audio": 2,
    "video_to_video": 3, "character_performance": 3,
    "image_upscale": 4, "video_upscale": 4, "video_to_hdr": 4, "avatar_videos": 3,
}

#: Task models outside ``request_schemas.json``, with their tier group.
OTHER_TASK_MODELS: dict[str, int] = {"gwm1_avatars": GROUP_BY_ENDPOINT["avatar_videos"]}


@cache
def all_models() -> dict[str, int]:
    """Every model the emulator serves, mapped to its tier group."""
    models: dict[str, int] = {}
    for endpoint, by_model in request_schemas().items():
        if endpoint in ROUTER_ENDPOINTS:
            continue
        for model in by_model:
            models.setdefault(model, GROUP_BY_ENDPOINT[endpoint])
    return {**models, **OTHER_TASK_MODELS}


def tier_limits(tier: int, model: str) -> tuple[int, int]:
    """Return (maxConcurrentGenerations, maxDailyGenerations) for a model at a tier."""
    group = all_models().get(model, 0)
    spec = TIERS[tier]
    return spec.concurrency[group], spec.daily[group]


# --- Model router --------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A model the router may pick, its provider, and our ranking of it (1 = fastest, best).

    Runway does not publish its ranking; these follow the models' price tiers and names
    (``_fast``, ``_turbo``). Which endpoint a candidate runs on, and whether it takes a request
    at all, comes from its rules in ``request_schemas.json`` (see ``router.py``).
    """

    model: str
    provider: str
    latency: int
    quality: int


#: The models each ``generate/*`` endpoint chooses among, in the order ties are broken.
ROUTER_CANDIDATES: dict[str, tuple[Candidate, ...]] = {
    "generate/video": (
        Candidate("veo3.1", "google", latency=5, quality=1),
        Candidate("gen4.5", "runway", latency=3, quality=2),
        Candidate("aleph2", "runway", latency=3, quality=2),
        Candidate("veo3.1_fast", "google", latency=2, quality=3),
        Candidate("seedance2", "bytedance", latency=4, quality=4),
        Candidate("gen4_turbo", "runway", latency=1, quality=5),
    ),
    "generate/image": (
        Candidate("gemini_2.5_flash", "google", latency=3, quality=1),
        Candidate("gen4_image", "runway", latency=2, quality=2),
        Candidate("gpt_image_2", "openai", latency=4, quality=3),
        Candidate("seedream5_lite", "bytedance", latency=2, quality=4),
        Candidate("gen4_image_turbo", "runway", latency=1, quality=5),
    ),
    "generate/audio": (
        Candidate("eleven_v3", "elevenlabs", latency=2, quality=1),
        Candidate("eleven_multilingual_v2", "elevenlabs", latency=1, quality=2),
        Candidate("eleven_text_to_sound_v2", "elevenlabs", latency=1, quality=1),
        Candidate("mirelo_sfx_2_0", "mirelo", latency=2, quality=2),
        Candidate("seed_audio", "bytedance", latency=3, quality=3),
    ),
}


#: Failure codes a task may be forced to fail with, and the text shown with each.
FAILURE_TEXT: dict[str, str] = {
    "SAFETY.INPUT.TEXT": "The prompt text did not pass moderation.",
    "SAFETY.INPUT.IMAGE": "An input image did not pass moderation.",
    "SAFETY.OUTPUT.VIDEO": "The generated output did not pass moderation.",
    "INTERNAL.BAD_OUTPUT.CODE01": "An unexpected error occurred.",
    "INPUT_PREPROCESSING.SAFETY.TEXT": "The prompt text did not pass moderation.",
    "INPUT_PREPROCESSING.INTERNAL": "The input could not be processed. Please try again.",
    "ASSET.INVALID": "An input asset could not be used.",
    "INTERNAL": "An internal error occurred. Please try again.",
    "THIRD_PARTY.UNAVAILABLE": "An upstream provider is unavailable. Please try again.",
}
