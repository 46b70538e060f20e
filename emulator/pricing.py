"""What Runway charges for a request: the price table in ``prices.json``, read against the wire body.

``prices.json`` beside this module is the same table the Takes catalog prices its estimates
with (a test keeps the two files equal); its ``about`` lines define the rules.
Here the table is read the way Runway reads a request: from the JSON body it received and the
media it fetched, measured with ffmpeg.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

#: What is known of one input media file: ``duration`` (s), ``width``, ``height`` (px).
Facts = Mapping[str, float]


@cache
def table() -> dict[str, dict[str, Any]]:
    """Every model's price rule, keyed ``model`` or ``endpoint:model``."""
    path = Path(__file__).with_name("prices.json")
    return json.loads(path.read_text(encoding="utf-8"))["models"]


def rule_for(endpoint: str, model: str) -> dict[str, Any]:
    """The price rule of a model on an endpoint; KeyError for a model with no price."""
    rules = table()
    return rules.get(f"{endpoint}:{model}") or rules[model]


def input_fields(endpoint: str, model: str) -> tuple[str, ...]:
    """The request fields whose media the price depends on (their length or size)."""
    rule = rule_for(endpoint, model)
    needs_pixels = any("input_pixels_over" in c for c in (*rule.get("rates", ()), *rule.get("adds", ())))
    if rule["unit"] == "input_second" or rule["unit"] == "second" or needs_pixels:
        return tuple(rule.get("input", ()))
    return ()


def _value(rule: dict[str, Any], body: Mapping[str, Any], name: str) -> Any:
    value = body.get(name)
    return rule.get("defaults", {}).get(name) if value is None else value


def _ratio_pixels(body: Mapping[str, Any]) -> int:
    left, sep, right = str(body.get("ratio", "")).partition(":")
    return int(left) * int(right) if sep and left.isdigit() and right.isdigit() else 0


def _inputs_of(rule: dict[str, Any], inputs: Mapping[str, list[Facts]]) -> list[Facts]:
    return [f for name in rule.get("input", ()) for f in inputs.get(name, ())]


def _holds(rule: dict[str, Any], cond: dict[str, Any], body: Mapping[str, Any],
           inputs: Mapping[str, list[Facts]]) -> bool:
    if "in" in cond and _value(rule, body, cond["field"]) not in cond["in"]:
        return False
    if "present" in cond and body.get(cond["present"]) in (None, "", []):
        return False
    if "pixels_over" in cond and _ratio_pixels(body) <= cond["pixels_over"]:
        return False
    if "input_pixels_over" in cond:
        media = _inputs_of(rule, inputs)
        pixels = media[0].get("width", 0) * media[0].get("height", 0) if media else 0
        if pixels <= cond["input_pixels_over"]:
            return False
    return True


def unit_credits(rule: dict[str, Any], body: Mapping[str, Any], inputs: Mapping[str, list[Facts]]) -> float:
    """The price of one unit: the first matching rate (else the base), plus every matching add."""
    credits = next((r["credits"] for r in rule.get("rates", ()) if _holds(rule, r, body, inputs)),
                   rule["credits"])
    added: set[str] = set()
    for add in rule.get("adds", ()):
        group = add.get("field", "")
        if group not in added and _holds(rule, add, body, inputs):
            credits += add["credits"]
            added.add(group)
    return credits


def billed_seconds(rule: dict[str, Any], body: Mapping[str, Any], inputs: Mapping[str, list[Facts]]) -> float:
    """Seconds of output billed: the duration asked, else the inputs' length, else the default."""
    duration = rule.get("duration", {})
    value = body.get("duration")
    if value == "auto":
        return float(duration["auto"])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    media = [f["duration"] for f in _inputs_of(rule, inputs) if f.get("duration")]
    if media:
        return float(sum(media))
    return float(duration.get("default", 0))


def _count(rule: dict[str, Any], body: Mapping[str, Any]) -> int:
    value = body.get(rule["count"]) if "count" in rule else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def price(endpoint: str, model: str, body: Mapping[str, Any], inputs: Mapping[str, list[Facts]]) -> int:
    """Credits charged up front for a request (``estimatedCost``), whole credits rounded up."""
    rule = rule_for(endpoint, model)
    per = unit_credits(rule, body, inputs)
    unit = rule["unit"]
    if unit == "second":
        return math.ceil(per * math.ceil(billed_seconds(rule, body, inputs)))
    if unit == "image":
        count = _count(rule, body)
        total = per * count
        for item in rule.get("per_item", ()):
            items = body.get(item["field"])
            n = len(items) if isinstance(items, list) else 0
            total += item["credits"] * n * (count if item["per_output"] else 1)
        return math.ceil(total)
    if unit == "task":
        return math.ceil(per * _count(rule, body))
    if unit == "characters":
        text = body.get(rule["text"])
        length = len(text) if isinstance(text, str) else 0
        return math.ceil(per * max(1, math.ceil(length / rule["block"])))
    if unit == "input_second":
        seconds = sum(f.get("duration", 0) for f in _inputs_of(rule, inputs))
        return math.ceil(per * max(1, math.ceil(seconds / rule["block"])))
    raise ValueError(f"unknown price unit {unit!r}")
