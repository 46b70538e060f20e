"""Catalog models built from the SDK's request types, with our presentation laid over them.

What a model takes comes from `sdk_requests.json`, the snapshot of the installed `runwayml`
request types (`make sdk-schema`): its fields, which are required, the values a choice allows,
the ranges and list sizes the docstrings state, and the help the SDK gives each field. The
overlay (`runway.catalog.overlay`) adds only what the SDK cannot say: labels, field order,
the form's starting values, which media kind an input takes, checks on input media, and the
few bounds Runway documents but the SDK's types do not (each named in the overlay).

A field is named by its SDK keyword. A few SDK fields become several form fields, each
naming the SDK field it is part of in `parent`: the last frame of `prompt_image`, the
settings inside `provider_settings`, the times of `keyframes`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runway.catalog import pricing
from runway.catalog.data import ROUTED, Endpoint, Field, Model, Rule
from runway.catalog.overlay import (
    ENDPOINTS,
    FIELD_LABELS,
    MEDIA_KINDS,
    SHARED_FIELDS,
    ModelOverlay,
    choice_label,
)

SNAPSHOT = Path(__file__).with_name("sdk_requests.json")
SDK: dict[str, dict[str, dict[str, Any]]] = json.loads(SNAPSHOT.read_text())["endpoints"]

PROSE = ("prompt_text", "negative_prompt", "previous_text", "next_text")  # written in sentences
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
# The SDK speaks of requests; a form speaks of choices.
_PLAIN = ((re.compile(r"^An optional array of "), "Optional "), (re.compile(r"^An array of "), ""),
          (re.compile(r"\bmultiPrompt\b"), "shots"), (re.compile(r"\bpromptText\b"), "a prompt"))
_CODE = re.compile(r"`([^`]*)`")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sdk_help(doc: str) -> str:
    """The SDK's description of a field, as form help: no links, no code marks, no "see our docs"."""
    text = _CODE.sub(r"\1", _LINK.sub(r"\1", doc))
    for pattern, plain in _PLAIN:
        text = pattern.sub(plain, text)
    text = text[:1].upper() + text[1:]
    kept = [s for s in _SENTENCE.split(text) if s and not s.lower().startswith("see ")
            and "our docs" not in s.lower() and "base64" not in s]
    return " ".join(kept).strip()


def _enum(node: Mapping[str, Any]) -> list[Any] | None:
    return list(node["enum"]) if "enum" in node else None


def _union_enum(node: Mapping[str, Any]) -> list[Any]:
    return [v for option in node.get("options", ()) for v in option.get("enum", ())]


def _typed_kinds(node: Mapping[str, Any]) -> tuple[str, ...] | None:
    """For `{type: <kind>, uri}` (or a union of those): the kinds, in the SDK's order."""
    options = node["options"] if node["type"] == "union" else [node]
    kinds: list[str] = []
    for option in options:
        fields = option.get("fields", {})
        if option.get("type") != "object" or "uri" not in fields or "enum" not in fields.get("type", {}):
            return None
        kinds += fields["type"]["enum"]
    return tuple(kinds)


def _presets(node: Mapping[str, Any]) -> tuple[str, ...]:
    """The preset ids a voice or avatar object (or a union of them) offers: its `presetId` Literals."""
    options = node.get("options") or [node]
    return tuple(v for o in options for v in o.get("fields", {}).get("presetId", {}).get("enum", ()))


def _roles(node: Mapping[str, Any]) -> tuple[str, ...]:
    """The roles a list of `{uri, role}` items takes, in the SDK's order (none for a plain list)."""
    return tuple(node.get("items", {}).get("fields", {}).get("role", {}).get("enum", ()))


def _array_of(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The array a list field is (or the array member of a union), else None."""
    if node["type"] == "array":
        return node
    for option in node.get("options", ()):
        if option["type"] == "array":
            return option
    return None


class _Builder:
    def __init__(self, endpoint: str, model_id: str, overlay: ModelOverlay):
        self.endpoint, self.model_id, self.overlay = endpoint, model_id, overlay
        self.where = f"{endpoint}/{model_id}"

    def field(self, name: str, kind: str, node: Mapping[str, Any] | None, **given: Any) -> Field:
        """A Field with the overlay's presentation applied over what the SDK says."""
        node = node or {}
        shared = SHARED_FIELDS.get(name, {})
        over = dict(self.overlay.fields.get(name, {}))
        label = over.pop("label", None) or FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()
        help_text = over.pop("help", None)
        values = dict(given)
        for key, value in shared.items():  # shared presentation never overrides what the SDK states
            if key != "help" and values.get(key) is None and not (kind == "choice" and key in ("min", "max")):
                values[key] = value
        values.update(over)
        if help_text is None and name == "prompt_text" and values.get("max_length"):
            help_text = f"Up to {values['max_length']} characters (emoji count as two)."
        if help_text is None:
            help_text = shared.get("help") or sdk_help(node.get("doc", ""))
        if name == "duration" and values.get("default") is None and kind in ("int", "number", "choice"):
            values["default"] = self.price_default
        if kind == "choice" and (values.get("required") or name == "ratio") and values.get("default") is None \
                and values.get("choices"):
            values["default"] = values["choices"][0][0] if isinstance(values["choices"][0], tuple) \
                else values["choices"][0]
        return Field(name, label, kind, help=help_text, **values)

    @property
    def price_default(self) -> Any:
        """The duration Runway bills when none is sent (the price table's), so the form starts there."""
        rules = pricing.table()
        rule = rules.get(self.where.replace("/", ":")) or rules.get(self.model_id) or {}
        return (rule.get("duration") or {}).get("default")

    def fields_for(self, node: Mapping[str, Any]) -> list[Field]:
        python = node["python"]
        required = node["required"]
        bounds = node.get("range", {})
        if python == "config_id":
            return [self.field(python, "choice", node, required=True, choices=(), library="router", wire="router")]
        if python == "avatar":
            return [self.field(python, "choice", node, required=required, choices=_presets(node), library="avatar",
                               wire="avatar")]
        if python == "speech":
            return self.speech_fields(node)
        if python in ("reference_images", "reference_videos") and _roles(node):
            return self.role_fields(node)
        if python == "voice" and node["type"] == "union" and _presets(node):
            return [self.field(python, "choice", node, required=required, choices=_presets(node),
                               wire="router_voice")]
        if python == "content_moderation":
            values = node["fields"]["publicFigureThreshold"]["enum"]
            return [self.field(python, "choice", node, required=required, choices=tuple(values), wire="moderation")]
        if python == "voice":
            fields = node.get("fields", {})
            if "presetId" in fields:
                return [self.field(python, "choice", node, required=required,
                                   choices=tuple(fields["presetId"]["enum"]), wire="preset_voice")]
            return [self.field(python, "asset", node, required=required, media_kinds=("audio",),
                               wire="voice_audio")]
        if python == "provider_settings":
            return [f for child in node["fields"].values() for f in self.provider_fields(child)]
        if python == "keyframes":
            return self.keyframe_fields(node)
        if python == "prompt_image":
            return self.frame_fields(node)
        kinds = _typed_kinds(node) if node["type"] in ("object", "union") else None
        if kinds:
            return [self.field(python, "asset", node, required=required, media_kinds=kinds, wire="typed_media")]
        array = _array_of(node)
        if array is not None and python in MEDIA_KINDS:
            return [self.list_field(python, node, array)]
        if array is not None:
            # A list of plain strings (Recraft's colours).
            return [self.field(python, "texts", node, required=required,
                               min_items=bounds.get("min_items"), max_items=bounds.get("max_items"))]
        if node["type"] == "string" and python in MEDIA_KINDS:
            return [self.field(python, "asset", node, required=required, media_kinds=(MEDIA_KINDS[python],))]
        return [self.scalar(python, node)]

    def scalar(self, name: str, node: Mapping[str, Any], **extra: Any) -> Field:
        required = node.get("required", False)
        bounds = node.get("range", {})
        values = _enum(node)
        if values is None and node["type"] == "union":
            # Named strings, or named strings beside "any string" (Seedream's ratio): the named ones.
            members = {o["type"] for o in node["options"] if "enum" not in o}
            values = _union_enum(node) if members <= {"string"} else None
        if values is not None:
            return self.field(name, "choice", node, required=required,
                              choices=tuple((v, choice_label(name, v)) for v in values), **extra)
        kind = node["type"]
        if kind == "union":
            # A number or a word, such as `int | Literal["auto"]`: whole numbers in the range the
            # SDK (or the overlay) states, then the words.
            over = self.overlay.fields.get(name, {})
            low, high = over.get("min", bounds.get("min")), over.get("max", bounds.get("max"))
            words = _union_enum(node)
            if low is None or high is None:
                raise ValueError(f"{self.where} {name}: a number-or-word field needs a range")
            numbers = tuple(range(int(low), int(high) + 1))
            return self.field(name, "choice", node, required=required,
                              choices=(*numbers, *((w, choice_label(name, w)) for w in words)),
                              **{k: v for k, v in extra.items() if k not in ("min", "max")})
        if kind == "boolean":
            return self.field(name, "bool", node, required=required, **extra)
        if kind in ("integer", "number"):
            low = bounds.get("min")
            if low is None and name == "duration" and kind == "integer":
                low = 1  # a length in whole seconds is at least one
            return self.field(name, "int" if kind == "integer" else "number", node, required=required,
                              min=low, max=bounds.get("max"), **extra)
        if kind == "string":
            return self.field(name, "text", node, required=required, max_length=bounds.get("max_length"),
                              min_length=1 if required else None, prose=name in PROSE, **extra)
        raise ValueError(f"{self.where} {name}: the SDK's {kind} has no form field")

    def list_field(self, name: str, node: Mapping[str, Any], array: Mapping[str, Any]) -> Field:
        bounds = node.get("range", {})
        items = array["items"]
        item_fields = items.get("fields", {}) if items["type"] == "object" else {}
        if items["type"] == "string":
            wire = "uris"
        elif "tag" in item_fields:
            wire = "reference_images"
        elif "enum" in item_fields.get("type", {}):
            wire = "typed_list"
        else:
            wire = None  # [{"uri": ...}]
        low = bounds.get("min_items")
        return self.field(name, "assets", node, required=node["required"], media_kinds=(MEDIA_KINDS[name],),
                          min_items=low if low is not None else (1 if node["required"] else None),
                          max_items=bounds.get("max_items"), wire=wire)

    def frame_fields(self, node: Mapping[str, Any]) -> list[Field]:
        """`prompt_image`: the first frame, and a last frame where the SDK's positions allow one."""
        first = self.field("prompt_image", "asset", node, required=node["required"], media_kinds=("image",),
                           wire="first_frame")
        array = _array_of(node)
        position = (array or {}).get("items", {}).get("fields", {}).get("position", {})
        if "last" not in position.get("enum", ()):
            return [first]
        last = self.field("last_frame", "asset", None, media_kinds=("image",), wire="last_frame",
                          parent="prompt_image")
        return [first, last]

    def speech_fields(self, node: Mapping[str, Any]) -> list[Field]:
        """An avatar's speech, a script or a recording: one of two fields, and the script's voice."""
        options = {o["fields"]["type"]["enum"][0]: o for o in node["options"]}
        text, audio = options["text"]["fields"], options["audio"]["fields"]
        return [
            self.field("speech_text", "text", text["text"], min_length=1, prose=True, parent="speech",
                       wire="speech_text"),
            self.field("speech_audio", "asset", audio["audio"], media_kinds=("audio",), parent="speech",
                       wire="speech_audio"),
            self.field("speech_voice", "choice", text["voice"], choices=_presets(text["voice"]), library="voice",
                       parent="speech", wire="speech_voice"),
        ]

    def role_fields(self, node: Mapping[str, Any]) -> list[Field]:
        """A router's media list whose items carry a role: one field per role, the list's own last."""
        python, kind = node["python"], MEDIA_KINDS[node["python"]]
        fields = []
        for role in _roles(node):
            if role == "reference":
                fields.append(self.field(python, "assets", node, media_kinds=(kind,), wire="role:reference"))
            else:
                fields.append(self.field(f"{role}_{'frame' if kind == 'image' else kind}", "asset", None,
                                         media_kinds=(kind,), parent=python, wire=f"role:{role}"))
        return fields

    def provider_fields(self, node: Mapping[str, Any]) -> list[Field]:
        name = node["python"]
        if name == "multi_prompt":
            return [self.field(name, "segments", node, parent="provider_settings", wire="provider")]
        return [self.scalar(name, {**node, "required": False}, parent="provider_settings", wire="provider")]

    def keyframe_fields(self, node: Mapping[str, Any]) -> list[Field]:
        bounds = node.get("range", {})
        images = self.field("keyframes", "assets", node, required=node["required"], media_kinds=("image",),
                            max_items=bounds.get("max_items"), wire="keyframes")
        times = self.field("keyframe_seconds", "numbers", None, parent="keyframes", min=0,
                           max_items=bounds.get("max_items"))
        return [images, times]


def build_model(endpoint: str, model_id: str, overlay: ModelOverlay) -> Model:
    """One catalog model: the SDK's fields for it, in the overlay's order, with its presentation."""
    sdk = SDK.get(endpoint, {}).get(model_id)
    if sdk is None:
        raise ValueError(f"{endpoint}/{model_id} is not in the SDK snapshot")
    builder = _Builder(endpoint, model_id, overlay)
    if model_id == ROUTED:
        # A router request is {configId, input}: the form's fields are the input's, beside the config.
        sdk = {"configId": sdk["configId"], **sdk["input"]["fields"]}
    fields = [f for node in sdk.values() if node["python"] not in overlay.omit for f in builder.fields_for(node)]
    unknown = set(overlay.fields) - {f.name for f in fields}
    if unknown:
        raise ValueError(f"{endpoint}/{model_id}: the overlay names fields the SDK lacks: {sorted(unknown)}")
    order = {name: i for i, name in enumerate(overlay.order)}
    fields.sort(key=lambda f: (order.get(f.name, len(order)), _DEFAULT_ORDER.get(f.name, 50)))
    rules: tuple[Rule, ...] = overlay.rules
    if any(f.wire == "last_frame" for f in fields):
        rules = (*rules, Rule("requires", "last_frame", other="prompt_image"))
    if any(f.wire == "role:last" for f in fields) and any(f.wire == "role:first" for f in fields):
        rules = (*rules, Rule("requires", "last_frame", other="first_frame"))
    if any(f.name == "speech_text" for f in fields):
        rules = (*rules, Rule("one_of", "speech_text", other="speech_audio", media_kinds=("audio",)),
                 Rule("requires", "speech_voice", other="speech_text"))
    if any(f.name == "keyframe_seconds" for f in fields):
        rules = (*rules, Rule("same_count", "keyframe_seconds", other="keyframes"))
    rules = (*rules, *_reference_audio_rules(sdk, model_id, fields))
    return Model(model_id, endpoint, overlay.label, fields=tuple(fields), rules=rules,
                 description=overlay.description)


def _reference_audio_rules(sdk: Mapping[str, Any], model_id: str, fields: list[Field]) -> list[Rule]:
    """Audio references need a prompt (the SDK's docstring says so; CONTRACT §2.1 for Seedance),
    or an image reference where the docstring asks for one (Grok)."""
    node = next((n for n in sdk.values() if n["python"] == "reference_audio"), None)
    names = {f.name: f for f in fields}
    if node is None:
        return []
    doc = node.get("doc", "").lower()
    found = []
    if "prompt_text" in names and not names["prompt_text"].required and (
            "require a text prompt" in doc or model_id.startswith("seedance")):
        found.append(Rule("requires", "reference_audio", other="prompt_text", media_kinds=("audio",)))
    if "references" in names and "at least one image reference" in doc:
        found.append(Rule("requires", "reference_audio", other="references", media_kinds=("audio",)))
    return found


# Where a field sits in the form when the overlay does not say: inputs, words, shape, references,
# the model's own settings, then output format, moderation and seed.
_FIRST = (
    "prompt_image", "last_frame", "prompt_video", "video_uri", "image_uri", "audio_uri", "media", "character",
    "reference", "mask_uri", "keyframes", "keyframe_seconds", "prompt_text", "negative_prompt",
    "previous_text", "next_text", "config_id", "avatar", "speech_text", "speech_audio", "speech_voice", "first_frame",
    "source_video", "voice", "target_lang", "language_code", "mode", "ratio", "target_aspect_ratio",
    "resolution", "duration", "audio", "references", "reference_images", "reference_videos", "reference_audio",
    "reference_audios", "quality", "output_count", "num_variants", "draft", "draft_task_id",
)
_LAST = ("output_format", "prores_profile", "content_moderation", "seed")
_DEFAULT_ORDER = {**{name: i for i, name in enumerate(_FIRST)}, **{name: 90 + i for i, name in enumerate(_LAST)}}


def build_endpoints() -> tuple[Endpoint, ...]:
    """Every endpoint of the overlay with its models, in the overlay's order."""
    return tuple(
        Endpoint(spec.key, spec.label, spec.output_kind, spec.description,
                 tuple(build_model(spec.key, model_id, overlay) for model_id, overlay in spec.models.items()))
        for spec in ENDPOINTS
    )
