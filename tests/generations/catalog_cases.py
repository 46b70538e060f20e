"""Valid and invalid parameter sets derived from the catalog, for catalog and form tests.

Asset fields hold *asset specs* such as "image 1280x720", "video 1280x720 5s" or "audio 10s";
`assets_for` turns them into the MediaFacts that `catalog.validate` expects, and a form test
can create real assets matching the same specs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from runway.catalog import Field, MediaFacts, Model, default_params

_SPEC = re.compile(r"^(image|video|audio)(?: (\d+)x(\d+))?(?: ([\d.]+)s)?$")

FITTING = {"image": "image 1280x720", "video": "video 1280x720 5s", "audio": "audio 10s"}


def facts_from_spec(spec: str) -> MediaFacts:
    """MediaFacts for an asset spec like "video 1280x720 5s"."""
    m = _SPEC.match(spec)
    if not m:
        raise ValueError(f"bad asset spec {spec!r}")
    kind, w, h, d = m.groups()
    return MediaFacts(kind, int(w) if w else None, int(h) if h else None,
                      float(d) if d else None)


def assets_for(model: Model, params: dict[str, Any]) -> dict[str, Any]:
    """The facts of every asset spec in `params`, keyed by field name (lists stay lists)."""
    assets: dict[str, Any] = {}
    for f in model.fields:
        value = params.get(f.name)
        if f.kind == "asset" and isinstance(value, str):
            assets[f.name] = facts_from_spec(value)
        elif f.kind == "assets" and isinstance(value, list):
            assets[f.name] = [facts_from_spec(v) for v in value]
    return assets


def _fitting_value(f: Field) -> Any:
    if f.kind == "asset":
        return FITTING[f.media_kinds[0]]
    if f.kind == "assets":
        return [FITTING[f.media_kinds[0]]] * max(1, f.min_items or 0)
    if f.kind == "text":
        return "A lighthouse on a cliff at dusk, waves crashing below"
    if f.kind == "choice":
        # A router has no presets: the project's own, which the catalog takes as well-formed.
        return f.choice_values[0] if f.choice_values else "custom:a-router"
    if f.kind == "bool":
        return False
    if f.kind == "texts":
        return ["#FF8800"]
    if f.kind == "numbers":
        return [0]
    if f.kind == "segments":
        return [{"duration": 5, "prompt": "The boat leaves the harbour"}]
    return f.min if f.min is not None else 1


def valid_params(model: Model) -> dict[str, Any]:
    """Defaults plus a fitting value for every required field and every asset field."""
    params = default_params(model)
    for f in model.fields:
        if f.name not in params and (f.required or f.kind in ("asset", "assets")):
            params[f.name] = _fitting_value(f)
    # An optional last frame needs the first; keep the default combination minimal.
    params.pop("last_frame", None)
    if "keyframes" in params:  # a time for each keyframe
        params["keyframe_seconds"] = [0] * len(params["keyframes"])
    for rule in model.rules:  # what a chosen input needs beside it
        if rule.kind == "requires" and rule.field in params and rule.other not in params:
            params[rule.other] = _fitting_value(model.field(rule.other))
    return params


def _outside_choices(f: Field) -> Any:
    values = f.choice_values
    if not values:
        return "no_such_router"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        gaps = [v for v in range(min(values), max(values)) if v not in values]
        return gaps[0] if gaps else max(values) + 1
    if f.name == "ratio" and "1:1" not in values:
        return "1:1"
    return "no_such_value"


def _aspect_spec(kind: str, aspect: float) -> str:
    h = 1000
    return f"{kind} {round(h * aspect)}x{h}"


def invalid_examples(model: Model) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(description, params, field with the error) for every limit the catalog states."""
    base = valid_params(model)

    def with_(**changes: Any) -> dict[str, Any]:
        return {**base, **changes}

    yield "unknown setting", with_(no_such_setting=1), "__all__"
    for f in model.fields:
        name = f.name
        if f.required:
            params = dict(base)
            params.pop(name, None)
            yield f"{name} missing", params, name
        if f.kind == "text":
            if f.max_length:
                yield f"{name} too long", with_(**{name: "a" * (f.max_length + 1)}), name
                # Under the limit in code points, over it in UTF-16 code units.
                emoji = "\U0001f3ac" * math.ceil((f.max_length + 1) / 2)
                yield f"{name} too long in UTF-16", with_(**{name: emoji}), name
            if f.min_length and f.min_length > 1:
                yield f"{name} too short", with_(**{name: "a" * (f.min_length - 1)}), name
            yield f"{name} not text", with_(**{name: 42}), name
        elif f.kind in ("int", "number"):
            step = 1 if f.kind == "int" else 0.25
            if f.min is not None:
                yield f"{name} below minimum", with_(**{name: f.min - step}), name
            if f.max is not None:
                yield f"{name} above maximum", with_(**{name: f.max + step}), name
            if f.kind == "int":
                yield f"{name} not whole", with_(**{name: (f.min or 0) + 0.5}), name
            yield f"{name} not a number", with_(**{name: "many"}), name
        elif f.kind == "choice":
            yield f"{name} not in set", with_(**{name: _outside_choices(f)}), name
        elif f.kind == "bool":
            yield f"{name} not a bool", with_(**{name: "yes"}), name
        elif f.kind == "texts":
            yield f"{name} not a list", with_(**{name: "#FF8800"}), name
            if name == "colors":
                yield f"{name} not hex colours", with_(**{name: ["orange"]}), name
        elif f.kind == "numbers":
            yield f"{name} not numbers", with_(**{name: ["soon"]}), name
            if f.min is not None:
                yield f"{name} below minimum", with_(**{name: [f.min - 1]}), name
        elif f.kind == "segments":
            yield f"{name} shot without a prompt", with_(**{name: [{"duration": 5, "prompt": " "}]}), name
            yield f"{name} shot of no length", with_(**{name: [{"duration": 0, "prompt": "a boat"}]}), name
        elif f.kind in ("asset", "assets"):
            wrong = next(k for k in ("audio", "image", "video") if k not in f.media_kinds)
            spec = FITTING[wrong]
            value: Any = spec if f.kind == "asset" else [spec]
            yield f"{name} of the wrong kind ({wrong})", with_(**{name: value}), name
            if f.kind == "assets" and f.max_items is not None:
                many = [FITTING[f.media_kinds[0]]] * (f.max_items + 1)
                yield f"{name} too many", with_(**{name: many}), name
    for rule in model.rules:
        yield from _rule_examples(model, rule, base)


def _rule_examples(model: Model, rule: Any, base: dict[str, Any]
                   ) -> Iterator[tuple[str, dict[str, Any], str]]:
    f = model.field(rule.field)

    def put(spec: str) -> dict[str, Any]:
        return {**base, f.name: [spec] if f.kind == "assets" else spec}

    if rule.kind == "requires":
        params = {**base, rule.field: FITTING[f.media_kinds[0]] if f.media_kinds else "x"}
        params.pop(rule.other, None)
        yield f"{rule.field} without {rule.other}", params, "__all__"
    elif rule.kind == "aspect":
        yield "image too wide", put(_aspect_spec("image", rule.max * 1.25)), rule.field
        yield "image too tall", put(_aspect_spec("image", rule.min / 1.25)), rule.field
    elif rule.kind == "sides":
        if rule.min is not None:
            yield "image too small", put(f"image {int(rule.min) - 1}x{int(rule.min) + 100}"), rule.field
            yield "image tiny", put("image 120x90"), rule.field
        if rule.max is not None:
            side = int(rule.max) + 1
            yield "image too large", put(f"image {side}x{side // 2 + 1000}"), rule.field
    elif rule.kind == "upscaled_pixels":
        scale = base.get("scale_factor") or 2
        side = math.ceil(math.sqrt(rule.max) / scale) + 1
        yield "upscaled output too large", put(f"image {side}x{side}"), rule.field
    elif rule.kind == "duration":
        kind = rule.media_kinds[0]
        dims = " 1280x720" if kind == "video" else ""
        if rule.min is not None:
            short = rule.min if rule.exclusive else rule.min - 0.5
            yield f"{kind} too short", put(f"{kind}{dims} {short:g}s"), rule.field
        if rule.max is not None:
            long_ = rule.max if rule.exclusive else rule.max + 1
            yield f"{kind} too long", put(f"{kind}{dims} {long_:g}s"), rule.field
    elif rule.kind == "one_of":
        other = model.field(rule.other)
        both = {**base, rule.field: _fitting_value(f), rule.other: _fitting_value(other)}
        yield f"both {rule.field} and {rule.other}", both, "__all__"
        neither = {k: v for k, v in base.items() if k not in (rule.field, rule.other)}
        yield f"neither {rule.field} nor {rule.other}", neither, "__all__"
    elif rule.kind == "same_count":
        other = model.field(rule.other)
        yield (f"{rule.other} without {rule.field}",
               {**{k: v for k, v in base.items() if k != rule.field}, rule.other: [FITTING[other.media_kinds[0]]]},
               "__all__")
    else:
        raise AssertionError(f"no invalid example for rule kind {rule.kind!r}")
