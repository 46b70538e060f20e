"""The SDK's request types are the truth; the snapshot, the emulator and the catalog are held to it.

`runway/catalog/sdk_requests.json` is generated from the installed `runwayml` by
`tools/sdk_schema.py` (`make sdk-schema`). These tests check that it is current, then compare
the emulator's `request_schemas.json` and the app catalog with it model by model and field by
field. Every difference that exists today is a line of `KNOWN_DIFFERENCES` with its reason;
the computed differences must equal that table exactly, so fixing one means deleting its line
and a new one (an SDK upgrade, a catalog edit) fails the test until it is fixed or listed.

Keys read "<endpoint>/<model> <path>: <what>", where path is the wire name for the emulator
(`a.b` nested fields, `[]` array items, `<type>` a union member) and the SDK's python name
for the catalog.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from typing import Any

from runway import catalog

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "runway" / "catalog" / "sdk_requests.json"
EMULATOR_SCHEMAS = ROOT / "emulator" / "request_schemas.json"


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("sdk_schema", ROOT / "tools" / "sdk_schema.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sdk_schema = _load_generator()
SDK: dict[str, dict[str, dict[str, Any]]] = json.loads(SNAPSHOT.read_text())["endpoints"]


# --- the table of differences that exist today ----------------------------------------------

KNOWN_EMULATOR_DIFFERENCES: dict[str, str] = {
    # None today: every SDK model is served with the SDK's fields, required-ness, types and enums.
}

KNOWN_CATALOG_DIFFERENCES: dict[str, str] = {
    # None today: every SDK model is in the catalog with the SDK's fields, required-ness, choices and ranges.
}

KNOWN_DIFFERENCES = {
    **{f"emulator {key}": reason for key, reason in KNOWN_EMULATOR_DIFFERENCES.items()},
    **{f"catalog {key}": reason for key, reason in KNOWN_CATALOG_DIFFERENCES.items()},
}


# --- shapes ---------------------------------------------------------------------------------


def _literal_type(values: list[Any]) -> str:
    return sdk_schema._literal_type(tuple(values))


def emulator_shape(node: dict[str, Any]) -> dict[str, Any]:
    """An emulator schema node in the snapshot's vocabulary (media and date are strings)."""
    if "anyOf" in node:
        return {"type": "union", "options": [emulator_shape(o) for o in node["anyOf"]]}
    if "enum" in node:
        return {"type": _literal_type(node["enum"]), "enum": node["enum"]}
    kind = node.get("type", "any")
    if kind == "object":
        required = set(node.get("required", ()))
        return {"type": "object", "fields": {
            name: {**emulator_shape(child), "required": name in required}
            for name, child in node.get("props", {}).items()}}
    if kind == "array":
        return {"type": "array", "items": emulator_shape(node["items"])}
    return {"type": {"media": "string", "date": "string"}.get(kind, kind)}


def _values(values: list[Any]) -> list[str]:
    return sorted(repr(v) for v in values)


def shape_differences(sdk: dict[str, Any], other: dict[str, Any], path: str, who: str) -> list[str]:
    """Where `other` (the emulator's node) disagrees with the SDK's node: type, enum, fields."""
    if sdk["type"] != other["type"]:
        return [f"{path}: type SDK {sdk['type']}, {who} {other['type']}"]
    if ("enum" in sdk) != ("enum" in other) or ("enum" in sdk and _values(sdk["enum"]) != _values(other["enum"])):
        ours, theirs = set(_values(sdk.get("enum", []))), set(_values(other.get("enum", [])))
        return [f"{path}: enum SDK-only [{', '.join(sorted(ours - theirs))}], "
                f"{who}-only [{', '.join(sorted(theirs - ours))}]"]
    found: list[str] = []
    if sdk["type"] == "object":
        a, b = sdk.get("fields", {}), other.get("fields", {})
        for name in sorted(a.keys() | b.keys()):
            where = f"{path}.{name}" if path else name
            if name not in b:
                found.append(f"{where}: missing in {who} ({'required' if a[name]['required'] else 'optional'} in SDK)")
            elif name not in a:
                found.append(f"{where}: not in SDK")
            else:
                if a[name]["required"] != b[name]["required"]:
                    found.append(f"{where}: required SDK {a[name]['required']}, {who} {b[name]['required']}")
                found += shape_differences(a[name], b[name], where, who)
    elif sdk["type"] == "array":
        found += shape_differences(sdk["items"], other["items"], f"{path}[]", who)
    elif sdk["type"] == "union":
        mine = Counter(o["type"] for o in sdk["options"])
        theirs = Counter(o["type"] for o in other["options"])
        if mine != theirs:
            return [f"{path}: union of SDK [{', '.join(sorted(mine.elements()))}], "
                    f"{who} [{', '.join(sorted(theirs.elements()))}]"]
        for kind in sorted(mine):
            pairs = zip([o for o in sdk["options"] if o["type"] == kind],
                        [o for o in other["options"] if o["type"] == kind], strict=True)
            for index, (x, y) in enumerate(pairs):
                label = kind if mine[kind] == 1 else f"{kind}{index}"
                found += shape_differences(x, y, f"{path}<{label}>", who)
    return found


def _served_by_emulator() -> dict[str, dict[str, Any]]:
    """endpoint -> model -> the emulator's request schema, in the snapshot's names: the router's
    requests are its `generate/*` (model `router` there, ROUTED here); avatar videos are a resource."""
    schemas = json.loads(EMULATOR_SCHEMAS.read_text())
    resources = json.loads(EMULATOR_SCHEMAS.with_name("resource_schemas.json").read_text())
    for kind in ("video", "image", "audio"):
        schemas[f"generate_{kind}"] = {catalog.ROUTED: schemas[f"generate/{kind}"]["router"]}
    avatar_videos = resources["avatar_videos.create"]
    model_ids = avatar_videos["props"]["model"]["enum"]
    without_model = {**avatar_videos, "props": {k: v for k, v in avatar_videos["props"].items() if k != "model"},
                     "required": [r for r in avatar_videos.get("required", ()) if r != "model"]}
    schemas["avatar_videos"] = dict.fromkeys(model_ids, without_model)
    return schemas


def emulator_differences() -> set[str]:
    schemas = _served_by_emulator()
    found: set[str] = set()
    for endpoint, models in SDK.items():
        served = schemas.get(endpoint, {})
        for model_id in sorted(models.keys() | served.keys()):
            where = f"{endpoint}/{model_id}"
            if model_id not in served:
                found.add(f"{where}: not served by the emulator")
            elif model_id not in models:
                found.add(f"{where}: served by the emulator, not in the SDK")
            else:
                sdk_node = {"type": "object", "fields": models[model_id]}
                found |= {f"{where} {d}" for d in
                          shape_differences(sdk_node, emulator_shape(served[model_id]), "", "emulator")}
    return found


# --- the catalog ----------------------------------------------------------------------------

# The SDK types a catalog field kind may stand for (asset fields are reshaped by their wire tag).
KIND_TYPES = {
    "text": {"string"}, "int": {"integer"}, "number": {"number"}, "bool": {"boolean"},
    "asset": {"string", "union", "object"}, "assets": {"array", "union"}, "texts": {"array"},
    "segments": {"array"}, "numbers": {"number"},
}


def _choices_in_sdk(node: dict[str, Any], wire: str | None) -> list[Any] | None:
    """The values the SDK allows for a field, or None; a preset voice's are its presetId's."""
    if wire in ("preset_voice", "router_voice", "avatar", "speech_voice"):
        objects = [node, *node.get("options", ())]
        for option in objects:
            preset = option.get("fields", {}).get("presetId")
            if preset and "enum" in preset:
                return preset["enum"]
        return None
    if wire == "moderation":
        return node.get("fields", {}).get("publicFigureThreshold", {}).get("enum")
    return node.get("enum")


def _union_choices_differences(f: catalog.Field, node: dict[str, Any]) -> list[str]:
    """A choice field standing for a union such as `int | Literal["auto"]`: each value it offers
    fits one member (an int within any range the SDK states, or an enum value), and it offers
    every enum value of the union."""
    enums = [v for option in node["options"] for v in option.get("enum", ())]
    ints = [o for o in node["options"] if o["type"] == "integer" and "enum" not in o]
    found = []
    for value in f.choice_values:
        fits = value in enums and not isinstance(value, bool)
        if isinstance(value, int) and not isinstance(value, bool) and ints:
            stated = node.get("range") or ints[0].get("range") or {}
            fits = stated.get("min", value) <= value <= stated.get("max", value)
        if not fits:
            found.append(f"{f.name}: catalog choice {value!r} is no member of the SDK's union")
    missing = sorted(set(_values(enums)) - set(_values(list(f.choice_values))))
    if missing:
        found.append(f"{f.name}: choices SDK-only [{', '.join(missing)}]")
    return found


def _range_differences(f: catalog.Field, node: dict[str, Any]) -> list[str]:
    """Where the SDK states a bound, the catalog holds exactly it."""
    stated = node.get("range", {})
    found = []
    pairs = [("min", f.min), ("max", f.max), ("max_length", f.max_length), ("max_items", f.max_items)]
    if "min_items" in stated:
        pairs.append(("min_items", f.min_items))
    for key, ours in pairs:
        if key in stated and stated[key] != ours:
            found.append(f"{f.name}: {key} SDK {stated[key]}, catalog {ours}")
    return found


def catalog_field_differences(f: catalog.Field, node: dict[str, Any]) -> list[str]:
    if f.library and not f.choices:
        # The project's own routers: a choice of slugs, which the SDK takes as any string.
        return [] if node["type"] == "string" and f.required == node["required"] else \
            [f"{f.name}: SDK {node['type']} (required {node['required']}), catalog slug (required {f.required})"]
    found = _range_differences(f, node) if f.kind != "choice" else []
    if f.required != node["required"]:
        found.append(f"{f.name}: required SDK {node['required']}, catalog {f.required}")
    allowed = _choices_in_sdk(node, f.wire)
    if f.kind == "choice" and node["type"] == "union" and allowed is None:
        found += _union_choices_differences(f, node)
    elif f.kind == "choice":
        if allowed is None:
            found.append(f"{f.name}: catalog offers choices, SDK takes any {node['type']}")
        else:
            ours, theirs = set(_values(allowed)), set(_values(list(f.choice_values)))
            if ours != theirs:
                found.append(f"{f.name}: choices SDK-only [{', '.join(sorted(ours - theirs))}], "
                             f"catalog-only [{', '.join(sorted(theirs - ours))}]")
    elif allowed is not None:
        found.append(f"{f.name}: SDK takes one of [{', '.join(_values(allowed))}], catalog kind {f.kind}")
    elif node["type"] not in KIND_TYPES[f.kind]:
        found.append(f"{f.name}: SDK type {node['type']}, catalog kind {f.kind}")
    return found


# A form field that is part of an SDK field (`parent`): where in the SDK's node it lives.
PART_OF = {
    "last_frame": lambda node: _position_allows(node, "last") or "last" in _roles(node),
    "first_frame": lambda node: "first" in _roles(node),
    "source_video": lambda node: "source" in _roles(node),
    "keyframe_seconds": lambda node: any("seconds" in o.get("fields", {}) for o in node["items"]["options"]),
    "speech_text": lambda node: "text" in _speech(node, "text"),
    "speech_voice": lambda node: "voice" in _speech(node, "text"),
    "speech_audio": lambda node: "audio" in _speech(node, "audio"),
}


def _roles(node: dict[str, Any]) -> tuple[str, ...]:
    return tuple(node.get("items", {}).get("fields", {}).get("role", {}).get("enum", ()))


def _speech(node: dict[str, Any], kind: str) -> dict[str, Any]:
    """The fields of the speech member of that type (a script or a recording)."""
    for option in node.get("options", ()):
        if kind in option.get("fields", {}).get("type", {}).get("enum", ()):
            return option["fields"]
    return {}


def _position_allows(node: dict[str, Any], position: str) -> bool:
    arrays = [o for o in node.get("options", ()) if o["type"] == "array"]
    return any(position in a["items"].get("fields", {}).get("position", {}).get("enum", ()) for a in arrays)


def _python_fields(node: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {child["python"]: child for child in node.get("fields", {}).values()}


def catalog_differences() -> set[str]:
    found: set[str] = set()
    models = {(m.endpoint, m.id): m for m in catalog.all_models()}
    for endpoint, sdk_models in SDK.items():
        for model_id in sorted(sdk_models.keys() - {mid for (e, mid) in models if e == endpoint}):
            found.add(f"{endpoint}/{model_id}: missing in catalog")
    for model in models.values():
        where = f"{model.endpoint}/{model.id}"
        fields = SDK.get(model.endpoint, {}).get(model.id)
        if fields is None:
            found.add(f"{where}: not in the SDK")
            continue
        if model.routed:  # {configId, input}: the form's fields are the input's, beside the config
            fields = {"configId": fields["configId"], **fields["input"]["fields"]}
        by_python = {node["python"]: node for node in fields.values()}
        covered = set()
        for f in model.fields:
            if f.parent:
                parent = by_python.get(f.parent)
                if parent is None:
                    found.add(f"{where} {f.name}: its SDK field {f.parent} is not in the SDK")
                    continue
                covered.add(f.parent)
                nested = _python_fields(parent)
                if f.name in nested:
                    found |= {f"{where} {f.parent}.{d}" for d in catalog_field_differences(f, nested[f.name])}
                elif not (f.name in PART_OF and PART_OF[f.name](parent)):
                    found.add(f"{where} {f.name}: no part of the SDK's {f.parent}")
            elif f.name not in by_python:
                found.add(f"{where} {f.name}: not in the SDK")
            else:
                covered.add(f.name)
                found |= {f"{where} {d}" for d in catalog_field_differences(f, by_python[f.name])}
        for name in sorted(by_python.keys() - covered):
            kind = "required" if by_python[name]["required"] else "optional"
            found.add(f"{where} {name}: missing in catalog ({kind} in SDK)")
        for parent in {f.parent for f in model.fields if f.parent and f.parent in by_python}:
            offered = {f.name for f in model.fields if f.parent == parent}
            for name in sorted(_python_fields(by_python[parent]).keys() - offered):
                found.add(f"{where} {parent}.{name}: missing in catalog")
    return found


# --- tests ----------------------------------------------------------------------------------


def test_snapshot_is_current() -> None:
    fresh = sdk_schema.render(sdk_schema.snapshot())
    assert SNAPSHOT.read_text() == fresh, "runway/catalog/sdk_requests.json is stale: run `make sdk-schema`"


def test_snapshot_covers_every_generation_endpoint() -> None:
    assert set(SDK) == {*sdk_schema.ENDPOINTS, *sdk_schema.MODULES}
    assert all(SDK[endpoint] for endpoint in SDK)


def test_the_catalog_has_every_endpoint_and_model_of_the_sdk() -> None:
    assert set(catalog.ENDPOINTS) == set(SDK)
    assert {(m.endpoint, m.id) for m in catalog.all_models()} == {(e, m) for e, models in SDK.items() for m in models}
    # 98 generation models, avatar videos' one, and one "Runway chooses" per router endpoint.
    assert len(catalog.all_models()) == 98 + 1 + 3


def test_the_comparison_sees_a_planted_difference() -> None:
    """The comparison is not vacuous: flip a required flag, drop an enum value, change a type."""
    schemas = json.loads(EMULATOR_SCHEMAS.read_text())
    served = emulator_shape(schemas["image_to_video"]["gen4.5"])
    served["fields"]["ratio"]["required"] = False
    served["fields"]["ratio"]["enum"] = served["fields"]["ratio"]["enum"][1:]
    served["fields"]["seed"]["type"] = "number"
    del served["fields"]["promptText"]
    sdk_node = {"type": "object", "fields": SDK["image_to_video"]["gen4.5"]}
    found = shape_differences(sdk_node, served, "", "emulator")
    assert found == [
        "promptText: missing in emulator (required in SDK)",
        "ratio: required SDK True, emulator False",
        "ratio: enum SDK-only ['1280:720'], emulator-only []",
        "seed: type SDK integer, emulator number",
    ]
    gen45 = catalog.get_model("image_to_video", "gen4.5")
    duration = {**SDK["image_to_video"]["gen4.5"]["duration"], "range": {"from": "docstring", "min": 2, "max": 8}}
    assert catalog_field_differences(gen45.field("duration"), duration) == ["duration: max SDK 8, catalog 10"]
    veo = catalog.get_model("text_to_video", "veo3.1")
    assert catalog_field_differences(veo.field("ratio"), {**SDK["text_to_video"]["veo3.1"]["ratio"], "enum": ["1:1"]}) \
        == ["ratio: choices SDK-only ['1:1'], catalog-only ['1080:1920', '1280:720', '1920:1080', '720:1280']"]


def test_differences_are_exactly_the_known_ones() -> None:
    computed = ({f"emulator {d}" for d in emulator_differences()}
                | {f"catalog {d}" for d in catalog_differences()})
    new = sorted(computed - KNOWN_DIFFERENCES.keys())
    gone = sorted(KNOWN_DIFFERENCES.keys() - computed)
    assert not new and not gone, (
        "Differences from the SDK changed.\n"
        + "".join(f"  new (fix it, or add it to the table with a reason): {d}\n" for d in new)
        + "".join(f"  gone (delete its line from the table): {d}\n" for d in gone))
