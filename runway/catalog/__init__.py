"""The model catalog: lookup, validation and credit estimates for every generation endpoint.

The entries are built from the SDK's request types and our overlay (`runway.catalog.build`);
this module is what the forms, the pipeline and the Runway client import. Nothing here talks to Runway or to the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from runway.catalog import pricing
from runway.catalog.build import build_endpoints
from runway.catalog.data import (
    CUSTOM,
    FIELD_KINDS,
    ROUTED,
    WIRE_TAGS,
    Endpoint,
    Field,
    MediaFacts,
    Model,
    Rule,
)
from runway.catalog.pricing import Price, price_of, wire_name

__all__ = [
    "CUSTOM", "ROUTED", "ENDPOINTS", "FIELD_KINDS", "WIRE_TAGS", "CatalogError", "Endpoint", "Field", "MediaFacts",
    "Model", "Price", "Rule", "UnknownModel", "all_models", "clean_params", "default_params",
    "estimate_credits", "get_endpoint", "get_model", "model_label", "price_of", "routed_ceiling", "spec_of",
    "utf16_length", "validate", "wire_name",
]

ALL = "__all__"

ENDPOINTS: dict[str, Endpoint] = {e.key: e for e in build_endpoints()}


class CatalogError(LookupError):
    """An endpoint or model the catalog doesn't know."""


class UnknownModel(CatalogError, KeyError):
    """Raised by get_endpoint/get_model for a key not in the catalog."""

    def __str__(self) -> str:
        # KeyError would repr() the message; show it as written.
        return str(self.args[0]) if self.args else ""


def get_endpoint(key: str) -> Endpoint:
    """The endpoint called `key`, or UnknownModel naming the known ones."""
    try:
        return ENDPOINTS[key]
    except KeyError:
        known = ", ".join(ENDPOINTS)
        raise UnknownModel(f"Unknown endpoint {key!r}; known endpoints: {known}.") from None


def get_model(endpoint_key: str, model_id: str) -> Model:
    """The model `model_id` on endpoint `endpoint_key`, or UnknownModel."""
    endpoint = get_endpoint(endpoint_key)
    for model in endpoint.models:
        if model.id == model_id:
            return model
    known = ", ".join(m.id for m in endpoint.models)
    raise UnknownModel(
        f"{endpoint.label} has no model {model_id!r}; choose one of: {known}."
    )


def spec_of(endpoint_key: str, model_id: str) -> Model:
    """The catalog model a generation was made with. A routed one names the model Runway chose
    once it has chosen, but its settings are still those of its endpoint's router model."""
    endpoint = get_endpoint(endpoint_key)
    if endpoint.default_model.routed:
        return endpoint.default_model
    return get_model(endpoint_key, model_id)


def model_label(model_id: str) -> str:
    """How a model id reads (the first endpoint's label for it), or the id where no endpoint has it."""
    return next((m.label for m in all_models() if m.id == model_id and not m.routed), model_id)


def all_models() -> list[Model]:
    """Every model of every endpoint, in catalog order."""
    return [m for e in ENDPOINTS.values() for m in e.models]


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the way Runway counts prompt limits."""
    return len(text.encode("utf-16-le")) // 2


def default_params(model: Model) -> dict[str, Any]:
    """The model's defaults, for a new form or a missing optional setting."""
    return {f.name: f.default for f in model.fields if f.default is not None}


# --- validation --------------------------------------------------------------------------


def _num(value: float) -> str:
    """12, 0.5, 4.6 — no trailing .0 in messages."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _one_of(values: tuple[Any, ...]) -> str:
    shown = [_num(v) if isinstance(v, int | float) else str(v) for v in values]
    if len(shown) == 1:
        return shown[0]
    if len(shown) <= 4:
        return ", ".join(shown[:-1]) + " or " + shown[-1]
    return ", ".join(shown)


def _missing(value: Any) -> bool:
    return value is None or value == "" or value == []


def _check_range(model: Model, f: Field, value: float) -> str | None:
    lo, hi = f.min, f.max
    if (lo is None or value >= lo) and (hi is None or value <= hi):
        return None
    asked = _num(value)
    if f.unit and lo is not None and hi is not None:
        return f"{model.label} takes {_num(lo)}–{_num(hi)} {f.unit}; you asked for {asked}."
    if lo is not None and hi is not None:
        return f"{f.label} must be between {_num(lo)} and {_num(hi)}; you asked for {asked}."
    if lo is not None:
        return f"{f.label} must be at least {_num(lo)}; you asked for {asked}."
    return f"{f.label} must be at most {_num(hi)}; you asked for {asked}."  # type: ignore[arg-type]


def _check_value(model: Model, f: Field, value: Any, facts: Any) -> list[str]:
    """Errors for one present value of one field."""
    if f.kind == "text":
        if not isinstance(value, str):
            return [f"{f.label} must be text."]
        n = utf16_length(value)
        if f.max_length is not None and n > f.max_length:
            return [f"{f.label} is too long for {model.label}: {n} characters, "
                    f"the limit is {f.max_length} (emoji count as two)."]
        if f.min_length is not None and n < f.min_length:
            return [f"{f.label} needs at least {f.min_length} characters."]
        return []
    if f.kind == "bool":
        return [] if isinstance(value, bool) else [f"{f.label} must be on or off."]
    if f.kind in ("int", "number"):
        wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
        if wrong_type or (f.kind == "int" and isinstance(value, float)
                          and not value.is_integer()):
            kind = "a whole number" if f.kind == "int" else "a number"
            return [f"{f.label} must be {kind}."]
        if isinstance(value, float) and not math.isfinite(value):
            return [f"{f.label} must be a number."]
        err = _check_range(model, f, value)
        return [err] if err else []
    if f.kind == "choice":
        values = f.choice_values
        if f.is_custom(value):
            return []  # one of the project's own: the submission checks that it is
        if isinstance(value, bool) or value not in values:
            if not values:
                return [f"Choose a {f.label.lower()}."]
            if f.unit:
                return [f"{model.label} takes {_one_of(values)} {f.unit}; "
                        f"you asked for {_num(value) if isinstance(value, float) else value}."]
            return [f"{model.label} can't use {value!r} for {f.label.lower()}; "
                    f"choose one of: {_one_of(values)}."]
        return []
    if f.kind == "asset":
        return _check_asset(f, facts)
    if f.kind in ("texts", "numbers", "segments"):
        return _check_list(model, f, value)
    if f.kind == "assets":
        if not isinstance(value, list | tuple):
            return [f"{f.label}: expected a list of assets."]
        if f.max_items is not None and len(value) > f.max_items:
            return [f"{model.label} takes at most {f.max_items} {f.label.lower()}; "
                    f"you chose {len(value)}."]
        if f.min_items is not None and len(value) < f.min_items:
            return [f"{model.label} needs at least {f.min_items} {f.label.lower()}."]
        facts_list = list(facts) if isinstance(facts, list | tuple) else []
        if len(facts_list) != len(value):
            return [f"{f.label}: some of the chosen assets could not be found."]
        return [e for fa in facts_list for e in _check_asset(f, fa)]
    raise ValueError(f"unknown field kind {f.kind!r}")


_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def _check_list(model: Model, f: Field, value: Any) -> list[str]:
    """A list of strings, numbers or {prompt, duration} shots."""
    if not isinstance(value, list | tuple):
        return [f"{f.label}: expected a list."]
    if f.max_items is not None and len(value) > f.max_items:
        return [f"{model.label} takes at most {f.max_items} {f.label.lower()}; you gave {len(value)}."]
    if f.min_items is not None and len(value) < f.min_items:
        return [f"{model.label} needs at least {f.min_items} {f.label.lower()}."]
    errors: list[str] = []
    for item in value:
        if f.kind == "texts":
            if not isinstance(item, str) or not item:
                errors.append(f"{f.label}: each one must be text.")
            elif f.name == "colors" and not _HEX_COLOUR.fullmatch(item):
                errors.append(f"{f.label}: {item!r} is not a six-digit hex colour such as #FF8800.")
        elif f.kind == "numbers":
            if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
                errors.append(f"{f.label}: each one must be a number.")
            elif f.min is not None and item < f.min:
                errors.append(f"{f.label}: {_num(item)} is below {_num(f.min)}.")
        else:
            shot_ok = (isinstance(item, Mapping) and isinstance(item.get("prompt"), str) and item["prompt"].strip()
                       and isinstance(item.get("duration"), int) and not isinstance(item.get("duration"), bool)
                       and item["duration"] > 0)
            if not shot_ok:
                errors.append(f"{f.label}: each shot needs a length in whole seconds and a prompt.")
    return errors[:3]


def _check_asset(f: Field, facts: Any) -> list[str]:
    if facts is None:
        return [f"{f.label}: the chosen asset could not be found."]
    if f.media_kinds and facts.kind not in f.media_kinds:
        want = " or ".join(f.media_kinds)
        return [f"{f.label} must be {'an' if want[0] in 'aeiou' else 'a'} {want}; "
                f"this asset is {'an' if facts.kind[0] in 'aeiou' else 'a'} {facts.kind}."]
    return []


def _facts_of(assets: Mapping[str, Any], name: str) -> list[Any]:
    facts = assets.get(name)
    if facts is None:
        return []
    return list(facts) if isinstance(facts, list | tuple) else [facts]


def _check_rule(model: Model, rule: Rule, params: Mapping[str, Any],
                assets: Mapping[str, Any]) -> list[str]:
    """Errors for one cross-field or media rule; silent when its inputs are absent."""
    if rule.kind == "same_count":
        these, those = params.get(rule.field) or [], params.get(rule.other or "") or []
        if len(these) == len(those):
            return []
        this, other = model.field(rule.field), model.field(rule.other or "")
        return [f"{model.label} needs one {this.label.lower()[:-1] if this.label.endswith('s') else this.label.lower()} "
                f"for each of the {other.label.lower()}: {len(those)} chosen, {len(these)} given."]
    if rule.kind == "one_of":
        given = [not _missing(params.get(name)) for name in (rule.field, rule.other or "")]
        if given.count(True) == 1:
            return []
        this, other = model.field(rule.field), model.field(rule.other or "")
        if all(given):
            return [f"{model.label} takes a {this.label.lower()} or a {other.label.lower()}, not both."]
        return [f"{model.label} needs a {this.label.lower()} or a {other.label.lower()}."]
    if rule.kind == "requires":
        if _missing(params.get(rule.field)):
            return []
        this, other = model.field(rule.field), model.field(rule.other or "")
        if rule.values:
            if params.get(rule.other) in rule.values:
                return []
            named = dict(other.choice_pairs)
            wanted = _one_of(tuple(str(named.get(v, v)).split(" (")[0] for v in rule.values))
            return [f"{model.label} takes a {this.label} only with {other.label.lower()} {wanted}; "
                    f"choose one or clear the {this.label}."]
        if _missing(params.get(rule.other)):
            return [f"{model.label} can't use a {this.label.lower()} without a {other.label.lower()}."]
        return []
    if _missing(params.get(rule.field)):
        return []
    label = model.field(rule.field).label
    errors: list[str] = []
    for facts in _facts_of(assets, rule.field):
        if facts.kind not in rule.media_kinds:
            continue
        w, h, d = facts.width, facts.height, facts.duration
        if rule.kind == "aspect" and w and h:
            aspect = w / h
            if not rule.min <= aspect <= rule.max:  # type: ignore[operator]
                errors.append(
                    f"{model.label} needs an image whose width ÷ height is between "
                    f"{_num(rule.min)} and {_num(rule.max)}; this one is {w}×{h} "  # type: ignore[arg-type]
                    f"({aspect:.2f}).")
        elif rule.kind == "sides" and w and h:
            if rule.min is not None and min(w, h) < rule.min:
                errors.append(f"This model needs an image at least {_num(rule.min)} px on "
                              f"each side; this one is {w}×{h}.")
            if rule.max is not None and max(w, h) > rule.max:
                errors.append(f"This model needs an image at most {_num(rule.max)} px on "
                              f"each side; this one is {w}×{h}.")
        elif rule.kind == "upscaled_pixels" and w and h:
            scale = params.get("scale_factor") or model.field("scale_factor").default or 1
            if isinstance(scale, int | float) and w * h * scale * scale > rule.max:  # type: ignore[operator]
                errors.append(
                    f"Upscaling {w}×{h} by {scale}× gives {w * scale}×{h * scale}, over the "
                    f"{rule.max / 1e6:g} megapixel limit; choose a smaller scale.")  # type: ignore[operator]
        elif rule.kind == "duration" and d is not None:
            lo, hi = rule.min, rule.max
            too_short = lo is not None and (d <= lo if rule.exclusive else d < lo)
            too_long = hi is not None and (d >= hi if rule.exclusive else d > hi)
            if too_short or too_long:
                if lo is not None and hi is not None:
                    span = f"between {_num(lo)} and {_num(hi)} seconds long"
                elif hi is not None:
                    span = f"at most {_num(hi)} seconds long"
                else:
                    span = f"at least {_num(lo)} seconds long"  # type: ignore[arg-type]
                errors.append(f"{label} must be {span} for {model.label}; "
                              f"this one is {d:.1f} s.")
    return errors


def validate(model: Model, params: Mapping[str, Any],
             assets: Mapping[str, Any] | None = None) -> dict[str, list[str]]:
    """Errors keyed by field name ("__all__" for cross-field ones); empty when valid."""
    assets = assets or {}
    errors: dict[str, list[str]] = {}
    names = set(model.field_names)
    unknown = sorted(k for k in params if k not in names)
    if unknown:
        errors[ALL] = [f"{model.label} has no setting {', '.join(map(repr, unknown))}."]
    for f in model.fields:
        value = params.get(f.name)
        if _missing(value):
            if f.required:
                errors.setdefault(f.name, []).append(f"{f.label} is required for {model.label}.")
            continue
        found = _check_value(model, f, value, assets.get(f.name))
        if found:
            errors.setdefault(f.name, []).extend(found)
    for rule in model.rules:
        key = ALL if rule.kind in ("requires", "same_count", "one_of") else rule.field
        if key in errors and key != ALL:
            continue  # the field itself is already wrong; one message is enough
        found = _check_rule(model, rule, params, assets)
        if found:
            errors.setdefault(key, []).extend(found)
    return errors


# --- form input --------------------------------------------------------------------------

_TRUE = {"on", "true", "1", "yes"}
_WHOLE = re.compile(r"[-+]?[0-9]{1,18}")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]{1,18}(?:\.[0-9]{0,12})?|\.[0-9]{1,12})")
_FALSE = {"", "off", "false", "0", "no"}


def clean_params(model: Model, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Turn form strings into typed params; keys that are not fields are ignored.

    Booleans follow checkbox rules: absent means off. Asset fields keep their identifiers
    (a list for multi-asset fields; a QueryDict should be passed as `{k: getlist(k)}` there).
    """
    params: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for f in model.fields:
        value = raw.get(f.name)
        if f.kind == "bool" and f.tristate:
            text = str(value[-1] if isinstance(value, list | tuple) and value else value or "").strip().lower()
            if text in _TRUE:
                params[f.name] = True
            elif text in _FALSE - {""}:
                params[f.name] = False
            elif text:
                errors[f.name] = [f"{f.label} must be on, off or the model's choice."]
            continue
        if f.kind == "bool":
            text = str(value).strip().lower() if value is not None else ""
            if text in _TRUE:
                params[f.name] = True
            elif text in _FALSE:
                params[f.name] = False
            else:
                errors[f.name] = [f"{f.label} must be on or off."]
            continue
        if f.kind == "assets":
            items = value if isinstance(value, list | tuple) else ([value] if value else [])
            items = [str(i) for i in items if str(i).strip()]
            if items:
                params[f.name] = items
            continue
        if isinstance(value, list | tuple):
            value = value[-1] if value else None  # QueryDict semantics: the last wins
        if value is None or (isinstance(value, str) and value.strip() == ""):
            continue
        if f.kind in ("texts", "numbers", "segments"):
            try:
                params[f.name] = _split(f, str(value))
            except ValueError as exc:
                errors[f.name] = [str(exc)]
            continue
        text = str(value) if f.kind == "text" else str(value).strip()
        try:
            params[f.name] = _coerce(f, text)
        except ValueError as exc:
            errors[f.name] = [str(exc)]
    return params, errors


_SHOT = re.compile(r"\s*([0-9]{1,4})\s*(?:s|sec|seconds)?\s*[:|]\s*(\S.*)")


def _split(f: Field, text: str) -> list[Any]:
    """A list field typed as text: colours or numbers by commas, shots one per line."""
    if f.kind == "segments":
        shots = []
        for line in (row for row in text.splitlines() if row.strip()):
            match = _SHOT.fullmatch(line)
            if not match:
                raise ValueError(f"{f.label}: write each shot as seconds, a colon, then its prompt "
                                 f"(e.g. 5: the boat leaves); “{line.strip()[:60]}” is not.")
            shots.append({"duration": int(match[1]), "prompt": match[2].strip()})
        return shots
    items = [item for item in re.split(r"[,\s]+", text) if item]
    if f.kind == "texts":
        return items
    for item in items:
        if not _DECIMAL.fullmatch(item):
            raise ValueError(f"{f.label}: {item[:20]!r} is not a number.")
    numbers = [float(item) for item in items]
    return [int(n) if n.is_integer() else n for n in numbers]


def _coerce(f: Field, text: str) -> Any:
    # Plain ASCII figures only: int() and float() also take "٣" or "１", and digits by the thousand.
    if f.kind == "int":
        if not _WHOLE.fullmatch(text):
            raise ValueError(f"{f.label} must be a whole number.")
        return int(text)
    if f.kind == "number":
        if not _DECIMAL.fullmatch(text):
            raise ValueError(f"{f.label} must be a number.")
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(f"{f.label} must be a number.")
        return number
    if f.kind == "choice":
        for v in f.choice_values:
            if str(v) == text:
                return v
        # Keep the unknown value so validate() explains the accepted ones.
        return text
    return text


# --- pricing ---------------------------------------------------------------------------

#: What a routed request's length or count is called on the models Runway may choose.
_ROUTED_CARRIES = ("prompt_text", "duration", "output_count")


def estimate_credits(model: Model, params: Mapping[str, Any], assets: Mapping[str, Any] | None = None) -> int:
    """What Runway will hold for these params, in whole credits (for a routed request, the most it can)."""
    if model.routed:
        return routed_ceiling(model, params)
    return pricing.estimate_credits(model, params, assets)


def routed_ceiling(model: Model, params: Mapping[str, Any]) -> int:
    """The most a routed request can cost: the dearest model of its kind at the length or count asked.

    Runway names the model, and its estimate, only when it takes the request; until then this
    is what is held (a router's own cap per output, where it sets one, can only lower it).
    """
    kind = get_endpoint(model.endpoint).output_kind
    carried = {k: params[k] for k in _ROUTED_CARRIES if not _missing(params.get(k))}
    dearest = 0
    for candidate in all_models():
        if candidate.routed or get_endpoint(candidate.endpoint).output_kind != kind:
            continue
        names = set(candidate.field_names)
        mine = {k: v for k, v in carried.items() if k in names}
        if "duration" in mine and candidate.field("duration").kind == "choice" \
                and mine["duration"] not in candidate.field("duration").choice_values:
            continue  # that model cannot make this length, so Runway will not choose it
        dearest = max(dearest, pricing.estimate_credits(candidate, mine, {}))
    return dearest


def max_outputs(model: Model, params: Mapping[str, Any]) -> int:
    """How many files one task of `model` with `params` can produce: the count asked for, else one.

    A reply listing more output links than this is not believed beyond it.
    """
    wire = model.price.count_field
    count_field = next((name for name in model.field_names if wire_name(name) == wire), None)
    if count_field is None:
        return 1
    merged = {**default_params(model), **{k: v for k, v in params.items() if not _missing(v)}}
    count = merged.get(count_field)
    field = model.field(count_field)
    most = int(field.max) if field.max is not None else None
    if isinstance(count, int) and not isinstance(count, bool) and count > 0:
        return count if most is None else min(count, most)
    return most or 1
