"""Request validation: walks the schemas of ``request_schemas.json`` and checks media strings."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Path = list[str | int]

DATA_URI_CAPS = {"image": 5_242_880, "video": 16_777_216, "audio": 16_777_216}
SUPPORTED_TYPES = {
    "image": {"image/jpeg", "image/jpg", "image/png", "image/webp"},
    "video": {"video/mp4", "video/quicktime", "video/x-matroska", "video/webm", "video/3gpp",
              "video/ogg", "video/x-msvideo", "video/x-flv", "video/mpeg"},
    "audio": {"audio/mpeg", "audio/mp3", "audio/wav", "audio/wave", "audio/x-wav", "audio/flac",
              "audio/x-flac", "audio/mp4", "audio/x-m4a", "audio/aac", "audio/x-aac"},
}
DATA_URI = re.compile(r"^data:([a-z]+/[a-z0-9.+-]+);base64,", re.IGNORECASE)


class AssetError(Exception):
    """A media string that cannot be used (answered as 400 ``{"error"}`` without issues)."""


@dataclass
class Issue:
    """One schema problem, shaped like the API's Zod issues."""

    code: str
    path: Path
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Return the wire form of the issue."""
        return {"code": self.code, "path": self.path, "message": self.message, **self.extra}


@dataclass
class MediaRef:
    """A media string found in a valid request, with where it sits."""

    path: Path
    kind: str
    value: str


def utf16_len(text: str) -> int:
    """Length of a string in UTF-16 code units, as the API counts it."""
    return len(text.encode("utf-16-le")) // 2


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class Validator:
    """Checks a JSON value against one schema node; collects issues and media strings."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.media: list[MediaRef] = []

    def check(self, schema: dict[str, Any], value: Any, path: Path, strict: bool = False) -> None:
        """Validate ``value`` at ``path``; ``strict`` refuses unknown object keys."""
        if "anyOf" in schema:
            self._any_of(schema["anyOf"], value, path, strict)
            return
        if "enum" in schema:
            if value not in schema["enum"] or isinstance(value, bool) != any(
                isinstance(option, bool) for option in schema["enum"]
            ):
                shown = " | ".join(repr(option) for option in schema["enum"][:40])
                self._add("invalid_enum_value", path,
                          f"Invalid enum value. Expected {shown}, received {value!r}",
                          options=schema["enum"], received=value)
            return
        handler = self._handlers().get(schema.get("type", "any"))
        if handler is not None:
            handler(schema, value, path, strict)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any], Any, Path, bool], None]]:
        return {
            "object": self._object,
            "array": self._array,
            "string": self._string,
            "media": self._media,
            "integer": self._number,
            "number": self._number,
            "boolean": self._boolean,
            "null": self._null,
            "date": self._date,
        }

    def _add(self, code: str, path: Path, message: str, **extra: Any) -> None:
        self.issues.append(Issue(code, list(path), message, extra))

    def _wrong_type(self, expected: str, value: Any, path: Path) -> None:
        received = _type_name(value) if value is not None else "undefined"
        self._add("invalid_type", path, f"Expected {expected}, received {received}",
                  expected=expected, received=received)

    def _any_of(self, options: list[dict[str, Any]], value: Any, path: Path, strict: bool) -> None:
        attempts = []
        for option in options:
            probe = Validator()
            probe.check(option, value, path, strict)
            if not probe.issues:
                self.media.extend(probe.media)
                return
            attempts.append(probe)
        # Report the branch whose shape matched best (fewest type errors, then fewest issues).
        best = min(attempts, key=lambda p: (sum(_type_miss(i, path) for i in p.issues), len(p.issues)))
        self.issues.extend(best.issues)

    def _object(self, schema: dict[str, Any], value: Any, path: Path, strict: bool) -> None:
        if not isinstance(value, dict):
            self._wrong_type("object", value, path)
            return
        props: dict[str, Any] = schema.get("props", {})
        for name in schema.get("required", []):
            if name not in value:
                self._add("invalid_type", [*path, name], "Required",
                          expected=_expected(props.get(name, {})), received="undefined")
        for name, item in value.items():
            if name in props:
                self.check(props[name], item, [*path, name], strict)
        unknown = [k for k in value if k not in props]
        if strict and unknown:
            self._add("unrecognized_keys", path,
                      "Unrecognized key(s) in object: " + ", ".join(f"'{k}'" for k in unknown),
                      keys=unknown)

    def _array(self, schema: dict[str, Any], value: Any, path: Path, strict: bool) -> None:
        if not isinstance(value, list):
            self._wrong_type("array", value, path)
            return
        self._bounds(schema, len(value), path, "array", "element(s)")
        for index, item in enumerate(value):
            self.check(schema["items"], item, [*path, index], strict)

    def _string(self, schema: dict[str, Any], value: Any, path: Path, strict: bool) -> None:
        if not isinstance(value, str):
            self._wrong_type("string", value, path)
            return
        length = utf16_len(value) if schema.get("utf16") else len(value)
        self._bounds(schema, length, path, "string", "character(s)")
        pattern = schema.get("pattern")
        if pattern and not re.match(pattern, value):
            self._add("invalid_string", path, "Invalid", validation="regex")

    def _media(self, schema: dict[str, Any], value: Any, path: Path, strict: bool) -> None:
        if not isinstance(value, str):
            self._wrong_type("string", value, path)
            return
        kind = schema["kind"]
        if value.startswith("runway://"):
            limits: tuple[int, int] = (13, 5000)
        elif value.startswith("data:"):
            limits = (13, DATA_URI_CAPS[kind])
        else:
            limits = (13, 2048)
        self._bounds({"min": limits[0], "max": limits[1]}, len(value), path, "string",
                     "character(s)")
        if not value.startswith(("https://", "http://", "runway://", "data:")):
            self._add("invalid_string", path, "Invalid url", validation="url")
        self.media.append(MediaRef(list(path), kind, value))

    def _number(self, schema: dict[str, Any], value: Any, path: Path, strict: bool) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong_type("number", value, path)
            return
        if schema["type"] == "integer" and value != int(value):
            self._add("invalid_type", path, "Expected integer, received float",
                      expected="integer", received="float")
            return
        self._bounds(schema, value, path, "number", "")

    def _boolean(self, schema: dict[str, Any], value: Any, path: Path, strict: bool) -> None:
        if not isinstance(value, bool):
            self._wrong_type("boolean", value, path)

    def _null(self, schema: dict[str, Any], value: Any, path: Path, strict: bool) -> None:
        if value is not None:
            self._wrong_type("null", value, path)

    def _date(self, schema: dict[str, Any], value: Any, path: Path, strict: bool) -> None:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            self._add("invalid_string", path, "Invalid date", validation="date")

    def _bounds(self, schema: dict[str, Any], size: float, path: Path, what: str,
                unit: str) -> None:
        low, high = schema.get("min"), schema.get("max")
        above = schema.get("gt")  # an exclusive minimum, as Zod's .positive() / .gt()
        if above is not None and size <= above:
            self._add("too_small", path, f"Number must be greater than {above}", minimum=above, type=what,
                      inclusive=False)
        if low is not None and size < low:
            if what == "number":
                text = f"Number must be greater than or equal to {low}"
            else:
                text = f"{what.capitalize()} must contain at least {low} {unit}"
            self._add("too_small", path, text, minimum=low, type=what, inclusive=True)
        if high is not None and size > high:
            if what == "number":
                text = f"Number must be less than or equal to {high}"
            else:
                text = f"{what.capitalize()} must contain at most {high} {unit}"
            self._add("too_big", path, text, maximum=high, type=what, inclusive=True)


def _type_miss(issue: Issue, path: Path) -> bool:
    """Whether an issue says the value at ``path`` is of the wrong type (an enum of other types too)."""
    if issue.path != path:
        return False
    if issue.code == "invalid_enum_value":
        received = _type_name(issue.extra.get("received"))
        return all(_type_name(option) != received for option in issue.extra.get("options", ()))
    return issue.code == "invalid_type"


def _expected(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"][:10])
    kind = schema.get("type", "unknown")
    return {"media": "string", "integer": "number"}.get(kind, kind)


def validate_body(schema: dict[str, Any], body: dict[str, Any],
                  discriminator: str | None = "model") -> tuple[list[Issue], list[MediaRef]]:
    """Validate a request body (without its ``discriminator`` key, a generation's ``model``, which picks the
    schema); returns issues and media strings."""
    validator = Validator()
    payload = {k: v for k, v in body.items() if k != discriminator}
    validator.check(schema, payload, [], strict=bool(schema.get("strict")))
    return validator.issues, validator.media


def model_issue(models: list[str], value: Any) -> Issue:
    """The issue reported for a missing or unknown ``model``."""
    return Issue("invalid_union_discriminator", ["model"],
                 "Invalid discriminator value. Expected " + " | ".join(f"'{m}'" for m in models),
                 {"options": models, "received": value})


def iter_semantic_issues(endpoint: str, model: str, body: dict[str, Any]) -> Iterator[Issue]:
    """Cross-field rules the schema language cannot express."""
    images = body.get("promptImage")
    if isinstance(images, list) and images and all(isinstance(i, dict) for i in images):
        positions = [i.get("position") for i in images]
        if model.startswith("veo3") and "first" not in positions:
            yield Issue("custom", ["promptImage"], "A last frame requires a first frame.")
        if len(set(positions)) != len(positions) and None not in positions:
            yield Issue("custom", ["promptImage"], "Each position may be used only once.")
        if None in positions and any(p is not None for p in positions):
            yield Issue("custom", ["promptImage"],
                        "Keyframe (first/last) and reference images cannot be mixed.")
    keyframes = body.get("keyframes")
    if isinstance(keyframes, list) and keyframes:
        ranged = [isinstance(k, dict) and "range" in k for k in keyframes]
        if any(ranged) and not all(ranged):
            yield Issue("custom", ["keyframes"], "Either every keyframe has a range or none does.")
    if body.get("referenceAudio") and "promptText" not in body and model.startswith("seedance"):
        yield Issue("custom", ["referenceAudio"], "Audio references require promptText.")
    if "proresProfile" in body and body.get("outputFormat") not in ("prores", "hdr_prores"):
        yield Issue("custom", ["proresProfile"],
                    "proresProfile is only valid when outputFormat is prores or hdr_prores.")


def check_url(value: str, field_name: str, own_prefix: str) -> None:
    """Apply the API's rules for https asset URLs; URLs served by the emulator itself pass."""
    if own_prefix and value.startswith(own_prefix + "/_files/"):
        return
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise AssetError(f"Invalid asset URL for {field_name}: Only HTTPS URLs are allowed.")
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not host or "." not in host:
            raise AssetError(f"Invalid asset URL for {field_name}: the host is not valid.") from None
        return
    raise AssetError(f"Invalid asset URL for {field_name}: IP addresses are not allowed.")


def decode_data_uri(value: str, kind: str, field_name: str) -> tuple[str, bytes]:
    """Decode a base64 data URI for a media field; returns (content type, bytes)."""
    match = DATA_URI.match(value)
    if not match:
        raise AssetError(f"Invalid data URI for {field_name}: it must be base64 encoded.")
    content_type = match.group(1).lower()
    if content_type.split("/")[0] != kind:
        raise AssetError(f"Invalid data URI for {field_name}: expected {kind} content, "
                         f"got {content_type}.")
    if content_type not in SUPPORTED_TYPES[kind]:
        raise AssetError(f"Unsupported asset type for {field_name}: {content_type}.")
    try:
        data = base64.b64decode(value[match.end():], validate=True)
    except (binascii.Error, ValueError):
        raise AssetError(f"Invalid data URI for {field_name}: the base64 payload is corrupt.") from None
    return content_type, data


def field_label(path: Path) -> str:
    """Render a path like ``promptImage[0].uri`` for error messages."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
