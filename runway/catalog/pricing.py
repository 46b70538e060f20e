"""Credit estimates from Runway's price table (`prices.json` beside this module).

The table holds every model's pricing rule as data, in Runway's wire names; its `about`
lines define the rules. The emulator ships a copy and prices the requests it receives
with its own reading of it; tests keep the two files equal and check that the estimate
made here from a form equals the emulator's `estimatedCost` and final `cost`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # data.py reads prices through this module
    from runway.catalog.data import MediaFacts, Model

UNITS = ("second", "image", "task", "characters", "input_second")
#: A Model Router request has no price of its own: it costs what the model Runway chooses costs.
ROUTED_RULE = {"unit": "routed", "credits": 0, "source": "router", "count": "outputCount",
               "note": "Runway chooses the model: this is the most the choice can cost (the dearest model of "
                       "its kind, or your router's cap), held until Runway names its own estimate."}
FOUR_MEGAPIXELS = 4_000_000


@cache
def table() -> dict[str, dict[str, Any]]:
    """Every model's price rule, keyed `model` or `endpoint:model`."""
    path = Path(__file__).with_name("prices.json")
    return json.loads(path.read_text(encoding="utf-8"))["models"]


def wire_name(name: str) -> str:
    """The wire (camelCase) name of an SDK keyword argument: `prompt_text` → `promptText`."""
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


@dataclass(frozen=True)
class Price:
    """A model's pricing rule, as the forms and the pipeline read it."""

    rule: Mapping[str, Any]

    @property
    def unit(self) -> str:
        return str(self.rule["unit"])

    @property
    def credits(self) -> float:
        return float(self.rule["credits"])

    @property
    def estimate(self) -> bool:
        """True when no price is published: the figure is ours and Runway's cost settles."""
        return self.rule.get("source") == "estimate"

    @property
    def note(self) -> str:
        """What a person should know about the figure before submitting."""
        if self.estimate:
            return ("No price is published for this model: the estimate is our own, and the final "
                    "charge is the cost Runway reports.")
        return str(self.rule.get("note", ""))

    @property
    def count_field(self) -> str | None:
        """The wire field whose value multiplies the price (e.g. `outputCount`)."""
        return self.rule.get("count")


def price_of(model: Model) -> Price:
    """The pricing rule of `model` (KeyError if the table has none)."""
    if model.routed:
        return Price(ROUTED_RULE)
    rules = table()
    return Price(rules.get(f"{model.endpoint}:{model.id}") or rules[model.id])


@dataclass(frozen=True)
class _Request:
    """A form's params seen as Runway will see them: wire names, chosen media measured."""

    values: Mapping[str, Any]
    media: Mapping[str, Sequence[MediaFacts]]
    defaults: Mapping[str, Any]

    def value(self, name: str) -> Any:
        value = self.values.get(name)
        return self.defaults.get(name) if value is None else value

    def media_of(self, names: Sequence[str]) -> list[MediaFacts]:
        return [facts for name in names for facts in self.media.get(name, ())]


def _request(model: Model, params: Mapping[str, Any], assets: Mapping[str, Any],
             defaults: Mapping[str, Any]) -> _Request:
    sent = {wire_name(k): v for k, v in params.items() if v not in (None, "", [])}
    media: dict[str, list[MediaFacts]] = {}
    for f in model.fields:
        found = assets.get(f.name)
        if f.name in params and found is not None:
            media[wire_name(f.name)] = [x for x in (found if isinstance(found, list | tuple) else [found]) if x]
    return _Request(sent, media, defaults)


def _pixels_of_ratio(ratio: Any) -> int:
    width, sep, height = str(ratio or "").partition(":")
    return int(width) * int(height) if sep and width.isdigit() and height.isdigit() else 0


def _applies(condition: Mapping[str, Any], request: _Request, inputs: Sequence[str]) -> bool:
    """Whether every condition of a rate or add holds for this request."""
    checks = []
    if "in" in condition:
        checks.append(request.value(condition["field"]) in condition["in"])
    if "present" in condition:
        checks.append(request.values.get(condition["present"]) not in (None, "", []))
    if "pixels_over" in condition:
        checks.append(_pixels_of_ratio(request.values.get("ratio")) > condition["pixels_over"])
    if "input_pixels_over" in condition:
        first = next(iter(request.media_of(inputs)), None)
        pixels = (first.width or 0) * (first.height or 0) if first else 0
        checks.append(pixels > condition["input_pixels_over"])
    return all(checks)


def _per_unit(rule: Mapping[str, Any], request: _Request) -> float:
    inputs = rule.get("input", ())
    rate = next((r["credits"] for r in rule.get("rates", ()) if _applies(r, request, inputs)), rule["credits"])
    seen: set[str] = set()
    for add in rule.get("adds", ()):
        key = add.get("field", "")
        if key in seen or not _applies(add, request, inputs):
            continue
        seen.add(key)
        rate += add["credits"]
    return rate


def _output_seconds(rule: Mapping[str, Any], request: _Request) -> float:
    asked = request.values.get("duration")
    spec = rule.get("duration", {})
    if asked == "auto":
        return float(spec["auto"])  # billed at the most up front; Runway refunds the rest
    if isinstance(asked, int | float) and not isinstance(asked, bool):
        return float(asked)
    speech = rule.get("speech")
    media = (*rule.get("input", ()), *((speech["audio"],) if speech else ()))
    lengths = [f.duration for f in request.media_of(media) if f.duration]
    if lengths:
        return float(sum(lengths))
    script = request.values.get(speech["text"]) if speech else None
    if isinstance(script, str) and script:
        # As long as the script takes to say, at the rule's speaking rate and within its bounds.
        return max(speech["min"], min(speech["max"], len(script) / speech["chars_per_second"]))
    return float(spec.get("default", 0))


def _count(rule: Mapping[str, Any], request: _Request) -> int:
    value = request.values.get(rule["count"]) if "count" in rule else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def estimate_credits(model: Model, params: Mapping[str, Any], assets: Mapping[str, Any] | None = None) -> int:
    """What Runway will hold for these params: its `estimatedCost`, in whole credits.

    Only what will be sent counts: a setting left empty is priced at Runway's default
    (the table's), never at the form's, because the form's default is not sent.
    """
    rule = price_of(model).rule
    request = _request(model, params, assets or {}, rule.get("defaults", {}))
    per = _per_unit(rule, request)
    unit = rule["unit"]
    if unit == "second":
        # Every started second is billed.
        return math.ceil(per * math.ceil(_output_seconds(rule, request)))
    if unit == "image":
        count = _count(rule, request)
        extra = 0.0
        for item in rule.get("per_item", ()):
            chosen = request.values.get(item["field"])
            extra += item["credits"] * (len(chosen) if isinstance(chosen, list) else 0) * (
                count if item["per_output"] else 1)
        return math.ceil(per * count + extra)
    if unit == "task":
        return math.ceil(per * _count(rule, request))
    if unit == "characters":
        text = request.values.get(rule["text"])
        blocks = math.ceil(len(text) / rule["block"]) if isinstance(text, str) else 0
        return math.ceil(per * max(1, blocks))
    if unit == "input_second":
        seconds = sum(f.duration or 0 for f in request.media_of(rule.get("input", ())))
        return math.ceil(per * max(1, math.ceil(seconds / rule["block"])))
    raise ValueError(f"unknown price unit {unit!r}")
