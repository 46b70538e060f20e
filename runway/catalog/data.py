"""The shapes of the model catalog and its entries (CONTRACT.md §2.1–§2.7, §5.4, §7.1).

Plain data only: no Django, no SDK. `runway.catalog.build` makes the entries from the SDK's
request types and the overlay; `runway.catalog` re-exports these and adds lookup, validation
and pricing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runway.catalog.pricing import Price, price_of

# text, int, number, choice, bool: one value; asset/assets: project assets by id;
# texts: a list of strings; numbers: a list of numbers; segments: a list of {prompt, duration}.
FIELD_KINDS = ("text", "int", "number", "choice", "bool", "asset", "assets", "texts", "numbers", "segments")

# How the Runway client shapes a field on the wire (None = the plain value):
#   first_frame      promptImage as [{"uri": ..., "position": "first"}]
#   last_frame       appended to the same promptImage array as {"uri": ..., "position": "last"}
#   typed_media      {"type": <asset kind: image|video|audio>, "uri": ...}
#   preset_voice     {"type": "runway-preset", "presetId": ...}
#   reference_images [{"uri": ..., "tag": "ref1"}, ...] tagged ref1, ref2... in order
#   moderation       contentModeration as {"public_figure_threshold": ...}
#   typed_list       [{"type": <asset kind>, "uri": ...}, ...]
#   uris             [uri, ...]
#   voice_audio      {"type": "reference-audio", "audio_uri": ...}
#   provider         inside provider_settings, under the field's own name
#   keyframes        [{"uri": ..., "seconds": <the same place in keyframe_seconds>}, ...]
#   avatar           {"type": "runway-preset", "presetId": ...} or {"type": "custom", "avatarId": ...}
#   speech_text      speech as {"type": "text", "text": ...} (with speech_voice, when chosen)
#   speech_audio     speech as {"type": "audio", "audio": <uri>}
#   speech_voice     inside speech: {"type": "preset", "presetId": ...} or {"type": "custom", "id": ...}
#   router_voice     {"type": "preset", "presetId": ...}
#   router           a Model Router config's slug (configId), beside the request's `input`
#   role:<role>      appended to the parent list as {"uri": ..., "role": <role>} (one asset or several)
# (no tag on an assets field: [{"uri": ...}, ...])
WIRE_TAGS = ("first_frame", "last_frame", "typed_media", "preset_voice", "reference_images", "moderation",
             "typed_list", "uris", "voice_audio", "provider", "keyframes", "avatar", "speech_text",
             "speech_audio", "speech_voice", "router_voice", "router", "role:first", "role:last", "role:source",
             "role:reference")

#: The one model of a Model Router endpoint (`generate/*`): Runway chooses the model that runs.
ROUTED = "auto"
#: A choice naming one of the project's own voices, avatars or routers rather than a preset.
CUSTOM = "custom:"

SEED_MAX = 4_294_967_295
MAX_MEDIA_BYTES = 200 * 1024 * 1024  # §5.4: the largest input Runway takes
MAX_OUTPUT_BYTES = 4 * 1024**3  # the largest output we keep: a 4K ProRes 4444 XQ master of 10 s is about 2 GB


@dataclass(frozen=True)
class MediaFacts:
    """What validation needs to know about an input asset."""

    kind: str  # "image" | "video" | "audio"
    width: int | None = None
    height: int | None = None
    duration: float | None = None


@dataclass(frozen=True)
class Field:
    """One setting of a model, named as the SDK keyword argument."""

    name: str
    label: str
    kind: str
    required: bool = False
    choices: tuple[Any, ...] = ()  # values, or (value, label) pairs
    min: float | None = None
    max: float | None = None
    min_length: int | None = None  # text: UTF-16 code units, as Runway counts them
    max_length: int | None = None
    min_items: int | None = None  # assets
    max_items: int | None = None
    media_kinds: tuple[str, ...] = ()  # asset/assets
    default: Any = None
    unit: str = ""  # shown in messages, e.g. "seconds"
    help: str = ""
    wire: str | None = None
    parent: str = ""  # the SDK field this one is part of, when it is not one itself
    prose: bool = False  # text: sentences to write (a box of several lines), not a word or a code
    library: str = ""  # choice: also "custom:<id>" of one of the project's voices, avatars or routers

    def is_custom(self, value: Any) -> bool:
        """True for a well-formed "custom:<id>" on a field that takes the project's own objects."""
        return bool(self.library) and isinstance(value, str) and value.startswith(CUSTOM) \
            and 0 < len(value) - len(CUSTOM) <= 100

    @property
    def tristate(self) -> bool:
        """An optional switch with no stated default: on, off, or left to the model (not sent)."""
        return self.kind == "bool" and self.default is None and not self.required

    @property
    def choice_values(self) -> tuple[Any, ...]:
        """The accepted values, without their labels."""
        return tuple(c[0] if isinstance(c, tuple) else c for c in self.choices)

    @property
    def choice_pairs(self) -> tuple[tuple[Any, str], ...]:
        """(value, label) pairs for a select widget."""
        return tuple(c if isinstance(c, tuple) else (c, str(c)) for c in self.choices)


@dataclass(frozen=True)
class Rule:
    """A constraint on an asset field or between fields, checked by `validate`.

    kinds: "aspect" (width/height in min..max), "sides" (each side in min..max px),
    "upscaled_pixels" (w*h*scale_factor² <= max), "duration" (seconds in min..max;
    `exclusive` makes both bounds strict), "requires" (field set needs `other` set, to one
    of `values` when they are given), "same_count" (as many values as `other` has),
    "one_of" (exactly one of the field and `other` is set).
    """

    kind: str
    field: str
    min: float | None = None
    max: float | None = None
    exclusive: bool = False
    other: str | None = None
    media_kinds: tuple[str, ...] = ("image",)
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Model:
    """A model usable on one endpoint, with its fields and rules; its price is in `prices.json`."""

    id: str
    endpoint: str
    label: str
    fields: tuple[Field, ...]
    rules: tuple[Rule, ...] = ()
    description: str = ""

    @property
    def routed(self) -> bool:
        """True for a Model Router request: Runway chooses the model that runs."""
        return self.id == ROUTED

    def field(self, name: str) -> Field:
        """The field called `name` (KeyError if this model has none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def price(self) -> Price:
        """How Runway bills this model (its entry in the price table)."""
        return price_of(self)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The names of this model's fields, in form order."""
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class Endpoint:
    """One generation endpoint (REST path name) and its models; the first is the default."""

    key: str
    label: str
    output_kind: str  # "video" | "image" | "audio"
    description: str
    models: tuple[Model, ...]

    @property
    def default_model(self) -> Model:
        """The model a new form starts with."""
        return self.models[0]
