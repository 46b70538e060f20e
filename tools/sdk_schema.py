"""Snapshot of what the installed `runwayml` SDK says each generation request takes.

`python tools/sdk_schema.py` (`make sdk-schema`) reads the request types in
`runwayml.types.<endpoint>_create_params` and writes `runway/catalog/sdk_requests.json`:

    endpoint (REST path name) -> model id -> field (wire name) -> {
        "python": the SDK keyword name, "required": bool,
        "type": string | integer | number | boolean | object | array | union | null | any
                (any: `object`, a value the SDK does not describe),
        "enum": [...] (from Literal), "fields": {...} (nested TypedDict),
        "items": {...} (array items), "options": [...] (union members),
        "range": {"min": .., "max": .., "from": "docstring"} (only where a docstring says it plainly;
                  "max_length" for text, "min_items"/"max_items" for lists),
        "doc": the field's docstring, whitespace folded (what the SDK tells a person about it),
    }

The structure comes from the type system (`typing.get_type_hints(..., include_extras=True)`,
`__required_keys__`, `PropertyInfo` aliases); only the ranges are read from the field
docstrings, which Python keeps nowhere but the source. The output has sorted keys, so
`git diff` after an SDK upgrade shows what changed. `--check` exits 1 when the file is stale.
"""

from __future__ import annotations

import argparse
import ast
import collections.abc
import importlib
import inspect
import json
import re
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import runwayml
from runwayml._utils import PropertyInfo
from typing_extensions import is_typeddict

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "runway" / "catalog" / "sdk_requests.json"

# The generation endpoints: REST path name == module `runwayml.types.<name>_create_params`.
ENDPOINTS = (
    "image_to_video", "text_to_video", "video_to_video", "text_to_image", "image_upscale",
    "video_upscale", "character_performance", "sound_effect", "text_to_speech",
    "speech_to_speech", "voice_dubbing", "voice_isolation", "video_to_audio", "video_to_hdr",
)
# Endpoints whose module is named otherwise: endpoint -> (module under runwayml.types, class).
# The Model Router's `generate/*` requests name no model (Runway chooses one): their one model
# is ROUTED, and their fields are the router's `input` beside `configId`.
MODULES = {
    "avatar_videos": ("avatar_video_create_params", "AvatarVideoCreateParams"),
    "generate_video": ("generate.video_create_params", "VideoCreateParams"),
    "generate_image": ("generate.image_create_params", "ImageCreateParams"),
    "generate_audio": ("generate.audio_create_params", "AudioCreateParams"),
}
ROUTED = "auto"

SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}
ARRAYS = (collections.abc.Iterable, collections.abc.Sequence, list, tuple, set, frozenset)
NUMBER = r"(-?\d+(?:\.\d+)?)"
RANGE = re.compile(rf"\b(?:between|from) {NUMBER}(?: \([^)]*\))? (?:and|to) {NUMBER}\b")
MAX_CHARS = re.compile(r"\bup to ([\d,]+) characters\b")
COUNT = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
# "(up to 7)", "Up to three reference audio clips", "Up to 5 keyframes"; never "up to 5MB".
MAX_ITEMS = re.compile(rf"\b[Uu]p to {COUNT}\b(?!\s*(?:MB|KB|GB|characters|seconds|credits))")
# "An array of one to three images", "1 to 4 images to edit".
ITEMS_SPAN = re.compile(rf"\b{COUNT} to {COUNT} (?:images|videos|clips|audio)")
# "An array of up to 14 images ... Up to five of those images can ...": the array's own bound first.
ARRAY_OF = re.compile(rf"\b[Aa]rray of up to {COUNT}\b")


def _literal_type(values: tuple[Any, ...]) -> str:
    kinds = {SCALARS.get(type(v), "any") for v in values}
    return kinds.pop() if len(kinds) == 1 else "union"


def _docstrings(cls: type) -> dict[str, str]:
    """Field name -> the string literal that follows its annotation in the class body."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
    found = {}
    for stmt, following in zip(body, body[1:], strict=False):
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            found[stmt.target.id] = " ".join(following.value.value.split())
    return found


def _number(text: str) -> int | float:
    value = float(text.replace(",", ""))
    return int(value) if value.is_integer() else value


def _count(text: str) -> int:
    return WORDS.get(text.lower()) or int(text)


def _range(node: dict[str, Any], doc: str) -> dict[str, Any] | None:
    """A bound the docstring states plainly, for number, string and list fields only; else None."""
    kinds = {node["type"]} | {o["type"] for o in node.get("options", ())}
    if node["type"] == "array":
        spans = set(ITEMS_SPAN.findall(doc))
        if len(spans) == 1:
            low, high = spans.pop()
            return {"from": "docstring", "min_items": _count(low), "max_items": _count(high)}
        most = set(ARRAY_OF.findall(doc)) or set(MAX_ITEMS.findall(doc))
        if len(most) == 1:
            return {"from": "docstring", "max_items": _count(most.pop())}
        return None
    if kinds & {"integer", "number"} and "enum" not in node:
        matches = set(RANGE.findall(doc))
        if len(matches) == 1:
            low, high = matches.pop()
            return {"from": "docstring", "min": _number(low), "max": _number(high)}
    if node["type"] == "string" and "enum" not in node:
        matches = set(MAX_CHARS.findall(doc))
        if len(matches) == 1:
            return {"from": "docstring", "max_length": _number(matches.pop())}
    return None


def describe(tp: Any) -> dict[str, Any]:
    """The JSON description of one annotation (Annotated/Required already removed)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return {"type": _literal_type(args), "enum": list(args)}
    if origin is typing.Union or origin is types.UnionType:
        return {"type": "union", "options": [describe(a) for a in args]}
    if is_typeddict(tp):
        return {"type": "object", "fields": fields_of(tp)}
    if tp in SCALARS:
        return {"type": SCALARS[tp]}
    if tp is object or tp is typing.Any:
        return {"type": "any"}  # `Iterable[object]`: the SDK does not say what the items are
    if origin in (dict, collections.abc.Mapping) or tp is dict:
        return {"type": "object"}
    if origin in ARRAYS or (isinstance(origin, type) and issubclass(origin, collections.abc.Sequence)):
        return {"type": "array", "items": describe(args[0]) if args else {"type": "any"}}
    raise TypeError(f"tools/sdk_schema.py does not know how to describe {tp!r}")


def _unwrap(tp: Any) -> tuple[Any, str | None, bool | None]:
    """Strip Required/NotRequired/Annotated: the bare type, the wire alias and the marker's say.

    The third item is True for Required[...], False for NotRequired[...], None for neither.
    """
    alias, marked = None, None
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            for meta in tp.__metadata__:
                if isinstance(meta, PropertyInfo) and meta.alias:
                    alias = meta.alias
            tp = tp.__origin__
        elif origin in (typing.Required, typing.NotRequired):
            marked = origin is typing.Required
            tp = typing.get_args(tp)[0]
        else:
            return tp, alias, marked


def fields_of(cls: type) -> dict[str, Any]:
    """Wire name -> description, for every key of a TypedDict.

    The SDK's modules use `from __future__ import annotations`, so the class was built from
    strings and its `__required_keys__` cannot see `Required[...]` (it is empty for
    `total=False`); the resolved hint's Required/NotRequired marker decides, then the class.
    """
    hints = typing.get_type_hints(cls, include_extras=True)
    docs = _docstrings(cls)
    fields = {}
    for name, hint in hints.items():
        bare, alias, marked = _unwrap(hint)
        required = name in cls.__required_keys__ if marked is None else marked
        node = {"python": name, "required": required, **describe(bare)}
        bounds = _range(node, docs.get(name, ""))
        if bounds:
            node["range"] = bounds
        if docs.get(name):
            node["doc"] = docs[name]
        fields[alias or name] = node
    return fields


def _variants(module: types.ModuleType, endpoint: str) -> list[type]:
    name = MODULES[endpoint][1] if endpoint in MODULES else \
        "".join(part.capitalize() for part in endpoint.split("_")) + "CreateParams"
    params = getattr(module, name)
    if is_typeddict(params):
        return [params]
    return list(typing.get_args(params))


def snapshot() -> dict[str, Any]:
    """endpoint -> model id -> fields (without `model`), for the installed SDK."""
    result: dict[str, Any] = {}
    for endpoint in (*ENDPOINTS, *MODULES):
        stem = MODULES[endpoint][0] if endpoint in MODULES else f"{endpoint}_create_params"
        module = importlib.import_module(f"runwayml.types.{stem}")
        models: dict[str, Any] = {}
        for variant in _variants(module, endpoint):
            fields = fields_of(variant)
            model = fields.pop("model", {"enum": [ROUTED]})
            for model_id in model["enum"]:
                if model_id in models:
                    raise ValueError(f"{endpoint}: model {model_id!r} appears twice")
                models[model_id] = fields
        result[endpoint] = models
    return {"sdk_version": runwayml.__version__, "endpoints": result}


def render(data: dict[str, Any]) -> str:
    """The file's text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help=f"fail if {OUTPUT.relative_to(ROOT)} is out of date")
    args = parser.parse_args()
    fresh = render(snapshot())
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != fresh:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date with runwayml {runwayml.__version__}; "
                  "run `make sdk-schema`.", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
