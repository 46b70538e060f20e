"""The API objects that are not generations (voices, avatars, avatar videos, routers), as data.

Request rules live in ``resource_schemas.json`` beside this module, keyed ``<resource>.<method>``
in the schema language of ``validation.py`` (a test holds them to the SDK's request types); the
tables below are processing times, what a live preset voice says of itself, and the routers
the emulator starts with.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

#: Seconds (at speed 1) a new voice or avatar stays PROCESSING before it is READY.
PROCESSING_SECONDS: dict[str, float] = {"voice": 10.0, "avatar": 20.0}
#: Length of a voice's sample and of a voice preview, in seconds (the SDK says "a short audio preview").
PREVIEW_SECONDS = 4.0
#: Longest side of an avatar's image previews ("a low-resolution preview").
PREVIEW_SIDE = 256
#: The model avatar videos run as, and their length when the speech's audio cannot be measured.
AVATAR_MODEL = "gwm1_avatars"
AVATAR_DEFAULT_SECONDS = 5.0
#: The voice a preset avatar speaks a script in when the request names none.
DEFAULT_LIVE_VOICE = "victoria"
#: The settings of a router created without any ("cost-optimized allow-all").
DEFAULT_SETTINGS: dict[str, Any] = {"schemaVersion": 1, "optimizeFor": "cost"}

#: The routers the emulator starts with (slug, settings), so ``configId: "default"`` works at once.
SEEDED_ROUTERS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("default", {"optimizeFor": "quality"}),
    ("fast", {"optimizeFor": "latency"}),
    ("cheap", {"optimizeFor": "cost", "maxCreditsPerGeneration": {"audio": 60, "image": 60, "video": 60}}),
)


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """Load the request-rule table: ``{"voices.create": schema, ...}``."""
    path = Path(__file__).with_name("resource_schemas.json")
    return json.loads(path.read_text(encoding="utf-8"))


def live_voice(preset_id: str) -> dict[str, Any]:
    """How an avatar shows a live preset voice: its id, display name and a description.

    The SDK lists the names (``victoria`` (Victoria), ...) but not the descriptions, so those say
    only what the voice is.
    """
    name = preset_id.capitalize()
    return {"type": "runway-live-preset", "presetId": preset_id, "name": name,
            "description": f"{name}, one of Runway's live preset voices."}


def router_settings(given: dict[str, Any] | None) -> dict[str, Any]:
    """A router's stored settings: what was given over the defaults, always with its schema version."""
    return {**DEFAULT_SETTINGS, **(given or {}), "schemaVersion": 1}


def merge_settings(current: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """A router update's settings: a nested merge where omitted fields keep their values and a null
    ``maxCreditsPerGeneration`` (or one of its modalities) removes those caps."""
    merged = {**current}
    for key, value in change.items():
        if key == "maxCreditsPerGeneration" and value is not None:
            caps = {**(current.get(key) or {}), **value}
            caps = {k: v for k, v in caps.items() if v is not None}
            merged[key] = caps or None
        elif isinstance(value, dict) and isinstance(current.get(key), dict):
            merged[key] = {**current[key], **value}
        else:
            merged[key] = value
    return {k: v for k, v in merged.items() if v is not None} | {"schemaVersion": 1}
