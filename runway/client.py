"""The only module that talks to Runway, through the official `runwayml` SDK.

Everything else in Takes deals in our own terms (catalog params, asset files,
TaskState); this module turns them into SDK calls and Runway's replies back
into plain values. With `RUNWAYML_API_SECRET` set it talks to the real API,
otherwise to the local emulator at `RUNWAY_BASE_URL`.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO, get_args, get_type_hints

import httpx
import runwayml
from django.conf import settings
from django.utils import timezone
from runwayml.types import avatar_create_params, voice_preview_params

from runway import catalog

# Runway keeps an upload for 24 hours (CONTRACT §4.1).
UPLOAD_LIFETIME = timedelta(hours=24)
# Used only against the emulator, which accepts any well-formed key.
EMULATOR_KEY = "key_" + "0" * 128


class RunwayError(Exception):
    """A call to Runway that did not succeed; `retryable` says whether trying later may help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False,
                 retry_after: float | None = None, uncertain: bool = False, body: Any = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        # True when a create call may have reached Runway although we saw an
        # error (a dropped connection, a timeout, a 500): resubmitting could pay twice.
        self.uncertain = uncertain
        self.body = body


class TaskNotFound(RunwayError):
    """Runway no longer knows the task (deleted, cancelled, or never existed)."""


class MalformedReply(RunwayError):
    """Runway answered with something that is not a task as CONTRACT §3.1 describes it."""


TASK_STATUSES = ("PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")


@dataclass(frozen=True)
class TaskState:
    """A task as Runway reported it."""

    id: str
    status: str
    progress: float = 0.0
    output: tuple[str, ...] = ()
    failure: str = ""
    failure_code: str = ""
    cost: int | None = None
    estimated_cost: float | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Created:
    """What a create call returned, with the exact request body we sent."""

    task_id: str
    estimated_cost: float | None
    request: dict
    response: dict
    chosen_model: str = ""  # the model Runway's router chose, for a routed request


def uses_emulator() -> bool:
    """True when Takes talks to the local emulator rather than Runway."""
    return not settings.RUNWAYML_API_SECRET


@functools.lru_cache(maxsize=8)
def _client(base_url: str, api_key: str, max_retries: int) -> runwayml.RunwayML:
    return runwayml.RunwayML(
        api_key=api_key,
        base_url=base_url,
        max_retries=max_retries,
        timeout=httpx.Timeout(60, connect=5),
        http_client=httpx.Client(limits=httpx.Limits(max_connections=64, max_keepalive_connections=32)),
    )


def client(*, max_retries: int = 2) -> runwayml.RunwayML:
    """The shared SDK client for the configured Runway (real or emulated)."""
    return _client(settings.RUNWAY_BASE_URL, settings.RUNWAYML_API_SECRET or EMULATOR_KEY, max_retries)


def _retry_after(response: httpx.Response | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
        except (TypeError, ValueError):
            return None


def _error_text(body: Any, fallback: str) -> str:
    if isinstance(body, Mapping) and isinstance(body.get("error"), str):
        text = body["error"]
        issues = body.get("issues")
        if isinstance(issues, list) and issues:
            details = "; ".join(
                f"{'.'.join(str(p) for p in i.get('path', []))}: {i.get('message', '')}".strip(": ")
                for i in issues if isinstance(i, Mapping)
            )
            text = f"{text} ({details})" if details else text
        return text
    return fallback


# What a failed call means, one table (CONTRACT §3, §8). "Sent" is whether the request
# can have reached Runway; a create call that may have been taken is never repeated
# automatically (it could start, and bill, a second task) but flagged for ops.
#
#   what happened                                   create call          other calls
#   connection refused, DNS failure, connect timeout  not sent → retry     retry
#   429 (rate limited)                              not created → retry  retry (Retry-After)
#   400, 401, 403, 422 …                            not created → fail   fail
#   404                                             —                    task not found
#   5xx, read timeout, connection dropped after sending
#                                                   uncertain → ops      retry
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol)


def _not_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached Runway (it failed while connecting)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, NOT_SENT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _translate(exc: runwayml.APIError, *, creating: bool = False) -> RunwayError:
    """Map an SDK exception onto RunwayError by the table above."""
    if isinstance(exc, runwayml.APIConnectionError):
        if _not_sent(exc):
            return RunwayError("Could not connect to Runway.", retryable=True)
        timeout = isinstance(exc, runwayml.APITimeoutError)
        return RunwayError(
            "Runway did not answer in time." if timeout else "The connection to Runway broke off.",
            retryable=not creating, uncertain=creating,
        )
    if isinstance(exc, runwayml.APIStatusError):
        status = exc.status_code
        text = _error_text(exc.body, f"Runway answered {status}.")
        if status == 404:
            return TaskNotFound(text, status=status, body=exc.body)
        if status == 429:
            return RunwayError(text, status=status, retryable=True, retry_after=_retry_after(exc.response),
                               body=exc.body)
        if status >= 500:
            # A gateway error can come after the task was created (seen: 3 generations, 6 tasks).
            return RunwayError(text, status=status, retryable=not creating, uncertain=creating,
                               retry_after=_retry_after(exc.response), body=exc.body)
        return RunwayError(text, status=status, body=exc.body)
    return RunwayError(str(exc))


def upload_file(*, fileobj: BinaryIO, filename: str) -> tuple[str, datetime]:
    """Upload one local file as an ephemeral Runway upload; returns its runway:// URI and expiry."""
    started = timezone.now()
    try:
        # A (name, open file) tuple streams; a Path would be read whole into memory.
        result = client().uploads.create_ephemeral(file=(filename, fileobj))
    except runwayml.APIError as exc:
        raise _translate(exc) from exc
    except httpx.HTTPError as exc:  # the storage POST is not wrapped by the SDK
        raise RunwayError(f"The upload to Runway's storage failed: {exc}", retryable=True) from exc
    return result.uri, started + UPLOAD_LIFETIME


def _preset_or_custom(value: str, *, preset: dict[str, Any], custom_key: str) -> dict[str, Any]:
    """A voice or avatar choice on the wire: Runway's preset, or one of the project's own by its id."""
    if value.startswith(catalog.CUSTOM):
        return {"type": "custom", custom_key: value.removeprefix(catalog.CUSTOM)}
    return {**preset, "preset_id": value}


def build_arguments(*, model: catalog.Model, params: Mapping[str, Any],
                    uri_for: Callable[[Any], tuple[str, str]]) -> dict[str, Any]:
    """SDK keyword arguments for a create call; `uri_for(asset_id)` gives (uri, media kind).

    A routed request (the Model Router's `generate/*`) sends its router's slug as `config_id`
    and everything else inside `input`.
    """
    kwargs: dict[str, Any] = {}
    for f in model.fields:
        if f.name not in params or params[f.name] in (None, "", []) or (f.parent and not f.wire):
            continue  # a part with no wire form of its own goes out with its field (keyframe times)
        value = params[f.name]
        if f.kind == "asset":
            uri, kind = uri_for(value)
            if f.wire == "first_frame":
                kwargs.setdefault(f.name, []).insert(0, {"uri": uri, "position": "first"})
            elif f.wire == "last_frame":
                kwargs.setdefault("prompt_image", []).append({"uri": uri, "position": "last"})
            elif f.wire == "typed_media":
                kwargs[f.name] = {"type": kind, "uri": uri}
            elif f.wire == "voice_audio":
                kwargs[f.name] = {"type": "reference-audio", "audio_uri": uri}
            elif f.wire == "speech_audio":
                kwargs["speech"] = {"type": "audio", "audio": uri}
            elif f.wire and f.wire.startswith("role:"):
                kwargs.setdefault(f.parent, []).append({"uri": uri, "role": f.wire.removeprefix("role:")})
            else:
                kwargs[f.name] = uri
        elif f.kind == "assets":
            found = [uri_for(v) for v in value]
            if f.wire == "reference_images":
                kwargs[f.name] = [{"uri": u, "tag": f"ref{i + 1}"} for i, (u, _) in enumerate(found)]
            elif f.wire == "typed_list":
                kwargs[f.name] = [{"type": kind, "uri": u} for u, kind in found]
            elif f.wire == "uris":
                kwargs[f.name] = [u for u, _ in found]
            elif f.wire == "keyframes":
                times = params.get("keyframe_seconds") or []
                kwargs[f.name] = [{"uri": u, "seconds": t} for (u, _), t in zip(found, times, strict=False)]
            elif f.wire and f.wire.startswith("role:"):
                role = f.wire.removeprefix("role:")
                kwargs.setdefault(f.parent or f.name, []).extend({"uri": u, "role": role} for u, _ in found)
            else:
                kwargs[f.name] = [{"uri": u} for u, _ in found]
        elif f.wire == "preset_voice":
            kwargs[f.name] = {"type": "runway-preset", "preset_id": value}
        elif f.wire == "router_voice":
            kwargs[f.name] = {"type": "preset", "preset_id": value}
        elif f.wire == "avatar":
            kwargs[f.name] = _preset_or_custom(value, preset={"type": "runway-preset"}, custom_key="avatar_id")
        elif f.wire == "speech_text":
            kwargs.setdefault("speech", {}).update(type="text", text=value)
        elif f.wire == "speech_voice":
            kwargs.setdefault("speech", {})["voice"] = _preset_or_custom(value, preset={"type": "preset"},
                                                                         custom_key="id")
        elif f.wire == "router":
            kwargs[f.name] = value.removeprefix(catalog.CUSTOM)
        elif f.wire == "moderation":
            kwargs[f.name] = {"public_figure_threshold": value}
        elif f.wire == "provider":
            kwargs.setdefault(f.parent, {})[f.name] = value
        else:
            kwargs[f.name] = value
    if model.routed:
        return {"config_id": kwargs.pop("config_id", ""), "input": kwargs}
    return kwargs


class WireError(ValueError):
    """A request body in Runway's wire form that does not fit the model; `field` is the wire path."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_name(name: str) -> str:
    """A catalog field's name as Runway's JSON spells it (camelCase)."""
    return _camel(name)


def _snake_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {_snake(str(k)): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


def _uri_of(value: Any, where: str, key: str = "uri") -> str:
    if isinstance(value, Mapping):
        value = value.get(key)
    if not isinstance(value, str) or not value:
        raise WireError(f"Expected a media URI (https://, data: or runway://) in {where}.", field=where)
    return value


def _items(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise WireError(f"Expected an array in {where}.", field=where)
    return value


def _choice_of(value: Any, where: str, *, custom_key: str | None = None) -> str:
    """A preset (or, with `custom_key`, a custom object) named by a `{type, presetId|…}` object."""
    if not isinstance(value, Mapping):
        raise WireError(f"Expected an object in {where}.", field=where)
    if custom_key and value.get("type") == "custom":
        return catalog.CUSTOM + str(value.get(_snake(custom_key)) or "")
    preset = value.get("preset_id")
    if not isinstance(preset, str):
        raise WireError(f"Expected a presetId in {where}.", field=where)
    return preset


def parse_arguments(*, model: catalog.Model, body: Mapping[str, Any]) -> dict[str, Any]:
    """Catalog params from a create request in Runway's wire form (camelCase JSON): `build_arguments` backwards.

    Media stay as the URIs the body gave (https://, data:, runway://); the caller turns them into
    inputs. Keys the model does not know raise WireError, as Runway's strict variants refuse them.
    """
    work = dict(_snake_keys(body))
    work.pop("model", None)
    if model.routed:
        inner = work.pop("input", None)
        if not isinstance(inner, Mapping):
            raise WireError("Expected an object in input.", field="input")
        config = work.pop("config_id", None)
        if work:
            raise WireError(f"Unrecognized key(s) in object: {sorted(_camel(k) for k in work)}")
        work = {**inner, "config_id": config}
    params: dict[str, Any] = {}
    used: set[str] = set()
    renamed: dict[str, str] = {}  # a reference image's tag → the one Takes sends (ref1, ref2… in order)

    def take(key: str) -> Any:
        used.add(key)
        return work.get(key)

    for f in model.fields:
        where = _camel(f.parent or f.name)
        if f.kind == "asset":
            if f.wire in ("first_frame", "last_frame"):
                raw = take("prompt_image")
                if raw is None:
                    continue
                wanted = "first" if f.wire == "first_frame" else "last"
                if isinstance(raw, str):
                    found = [raw] if wanted == "first" else []
                else:
                    found = [_uri_of(i, where) for i in _items(raw, where)
                             if isinstance(i, Mapping) and (i.get("position") or "first") == wanted]
                if len(found) > 1:
                    raise WireError(f"{where} has more than one {wanted} frame.", field=where)
                if found:
                    params[f.name] = found[0]
            elif f.wire == "speech_audio":
                speech = take("speech")
                if isinstance(speech, Mapping) and speech.get("type") == "audio":
                    params[f.name] = _uri_of(speech, "speech", "audio")
            elif f.wire and f.wire.startswith("role:"):
                role = f.wire.removeprefix("role:")
                found = [_uri_of(i, where) for i in _items(take(f.parent), where) or []
                         if isinstance(i, Mapping) and i.get("role") == role] if work.get(f.parent) else []
                if found:
                    params[f.name] = found[0]
            elif (raw := take(f.name)) is not None:
                params[f.name] = _uri_of(raw, where, "audio_uri" if f.wire == "voice_audio" else "uri")
        elif f.kind == "assets":
            if f.wire and f.wire.startswith("role:"):
                key = f.parent or f.name
                role = f.wire.removeprefix("role:")
                if work.get(key):
                    found = [_uri_of(i, where) for i in _items(take(key), where)
                             if isinstance(i, Mapping) and i.get("role") == role]
                    if found:
                        params[f.name] = found
                continue
            raw = take(f.name)
            if raw is None:
                continue
            items = _items(raw, where)
            params[f.name] = [_uri_of(i, where) for i in items]
            if f.wire == "reference_images":
                renamed.update({i["tag"]: f"ref{n + 1}" for n, i in enumerate(items)
                                if isinstance(i, Mapping) and isinstance(i.get("tag"), str) and i["tag"]})
            if f.wire == "keyframes":
                params["keyframe_seconds"] = [i.get("seconds") if isinstance(i, Mapping) else None
                                              for i in items]
        elif f.parent and f.wire in ("speech_text", "speech_voice"):
            speech = take("speech")
            if not isinstance(speech, Mapping):
                continue
            if f.wire == "speech_text" and speech.get("type") == "text":
                params[f.name] = speech.get("text")
            elif f.wire == "speech_voice" and speech.get("voice") is not None:
                params[f.name] = _choice_of(speech["voice"], "speech.voice", custom_key="id")
        elif f.wire == "provider":
            group = take(f.parent)
            if isinstance(group, Mapping) and f.name in group:
                params[f.name] = group[f.name]
        elif f.parent:
            continue  # a part with no wire form of its own (keyframe times): read with its field
        elif (raw := take(f.name)) is None:
            continue
        elif f.wire in ("preset_voice", "router_voice"):
            params[f.name] = _choice_of(raw, where)
        elif f.wire == "avatar":
            params[f.name] = _choice_of(raw, where, custom_key="avatarId")
        elif f.wire == "router":
            params[f.name] = catalog.CUSTOM + str(raw)
        elif f.wire == "moderation":
            params[f.name] = raw.get("public_figure_threshold") if isinstance(raw, Mapping) else raw
        else:
            params[f.name] = raw
    unknown = sorted(_camel(k) for k in work if k not in used)
    if unknown:
        raise WireError(f"Unrecognized key(s) in object: {unknown}")
    if renamed and isinstance(params.get("prompt_text"), str):
        # The prompt names reference images by tag (@tag); Takes sends them tagged in order.
        params["prompt_text"] = re.sub(r"@([a-z][a-z0-9_]*)", lambda m: "@" + renamed.get(m.group(1), m.group(1)),
                                       params["prompt_text"])
    return params


def _credits(value: Any, what: str) -> int | None:
    """A credits figure from a reply: None when absent, MalformedReply when not a whole number ≥ 0."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = value.get("credits")
        if value is None:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise MalformedReply(f"Runway reported an impossible {what}: {value!r}.")
    return int(-(-value // 1))  # whole credits, rounded up


def create_task(*, endpoint: str, model: str, arguments: Mapping[str, Any]) -> Created:
    """Start a generation. Automatic retries are off: a retried POST could create and bill a second task.

    Only the task id must be sound: anything else wrong in the answer (a bad estimate)
    is dropped, because the task exists and is billed whatever the rest of the body says.
    """
    sdk = client(max_retries=0)
    # The Model Router's requests (`generate_video` → `client.generate.video`) name no model.
    resource = getattr(sdk.generate, endpoint.removeprefix("generate_")) if model == catalog.ROUTED \
        else getattr(sdk, endpoint)
    named = {} if model == catalog.ROUTED else {"model": model}
    try:
        raw = resource.with_raw_response.create(**named, **arguments)
    except runwayml.APIError as exc:
        raise _translate(exc, creating=True) from exc
    try:
        body = raw.http_response.json()
    except ValueError:
        body = None
    task_id = body.get("id") if isinstance(body, Mapping) else None
    if not isinstance(task_id, str) or not task_id:
        raise RunwayError(f"Runway's answer to the create call had no task id: {str(body)[:200]}",
                          uncertain=True, body=body)
    routing = body.get("routing") if isinstance(body.get("routing"), Mapping) else {}
    try:
        estimated = _credits(body.get("estimatedCost") or routing.get("estimatedCost"), "estimate")
    except MalformedReply:
        estimated = None
    chosen = routing.get("model")
    return Created(
        task_id=task_id,
        estimated_cost=estimated,
        request=json.loads(raw.http_request.content or b"{}"),
        response=dict(body),
        chosen_model=chosen if isinstance(chosen, str) and 0 < len(chosen) <= 60 else "",
    )


def parse_task(data: Any, *, task_id: str = "") -> TaskState:
    """A TaskState from Runway's task JSON (CONTRACT §3.1); MalformedReply for anything else."""
    if not isinstance(data, Mapping):
        raise MalformedReply(f"Runway's task reply is not an object: {str(data)[:120]!r}.")
    status = data.get("status")
    if status not in TASK_STATUSES:
        raise MalformedReply(f"Runway reported an unknown task status: {str(status)[:60]!r}.")
    if task_id and data.get("id") not in (None, task_id):
        raise MalformedReply(f"Runway answered for another task ({str(data.get('id'))[:60]}).")
    progress = data.get("progress") or 0
    if isinstance(progress, bool) or not isinstance(progress, int | float) or not 0 <= progress <= 1:
        raise MalformedReply(f"Runway reported an impossible progress: {progress!r}.")
    output = data.get("output") or []
    if not isinstance(output, list) or not all(isinstance(u, str) for u in output):
        raise MalformedReply("Runway's output list is not a list of links.")
    return TaskState(
        id=str(data.get("id") or task_id),
        status=str(status),
        progress=float(progress),
        output=tuple(output),
        failure=str(data.get("failure") or ""),
        failure_code=str(data.get("failureCode") or ""),
        cost=_credits(data.get("cost"), "cost"),
        estimated_cost=_credits(data.get("estimatedCost"), "estimate"),
        raw=dict(data),
    )


def retrieve_task(task_id: str) -> TaskState:
    """The task's current state; raises TaskNotFound once Runway has forgotten it."""
    try:
        # One quick attempt: the poll sweep has its own backoff and will come back.
        raw = client(max_retries=0).tasks.with_raw_response.retrieve(task_id)
    except runwayml.APIError as exc:
        raise _translate(exc) from exc
    try:
        data = raw.http_response.json()
    except ValueError as exc:
        raise MalformedReply("Runway's task reply is not JSON.") from exc
    return parse_task(data, task_id=task_id)


def delete_task(task_id: str) -> bool:
    """Cancel (or delete) a task; False when Runway no longer had it."""
    try:
        client().tasks.delete(task_id)
    except runwayml.NotFoundError:
        return False
    except runwayml.APIError as exc:
        raise _translate(exc) from exc
    return True


def retrieve_organization() -> dict:
    """`GET /v1/organization` as Runway's JSON (CONTRACT §6.1)."""
    try:
        raw = client().organization.with_raw_response.retrieve()
    except runwayml.APIError as exc:
        raise _translate(exc) from exc
    return raw.http_response.json()


def retrieve_usage(start_date: date, before_date: date) -> dict:
    """`POST /v1/organization/usage` for [start_date, before_date) as Runway's JSON (CONTRACT §6.2)."""
    try:
        raw = client().organization.with_raw_response.retrieve_usage(
            start_date=start_date.isoformat(), before_date=before_date.isoformat()
        )
    except runwayml.APIError as exc:
        raise _translate(exc) from exc
    return raw.http_response.json()



# --- voices, avatars and Model Router -------------------------------------------------------------
# Runway keeps these objects itself (they are not tasks). Replies come back as plain dicts in the
# SDK's own field names (`preview_url`, `failure_reason`, dates as ISO text), checked against its
# response types on the way. Creates are never retried automatically: a repeated POST could leave
# a second voice, avatar or router behind that nobody knows of.
#: The voice design models and Runway's live preset voices, as the SDK's request types list them.
VOICE_DESIGN_MODELS: tuple[str, ...] = get_args(get_type_hints(voice_preview_params.VoicePreviewParams)["model"])
LIVE_PRESET_VOICES: tuple[str, ...] = get_args(
    get_type_hints(avatar_create_params.VoiceRunwayLivePreset)["preset_id"])


def _object(call: Callable[..., Any], *args: Any, creating: bool = False, **kwargs: Any) -> Any:
    """Run one SDK call and return its parsed reply as plain data (None for an empty answer)."""
    try:
        reply = call(*args, **kwargs)
    except runwayml.APIError as exc:
        raise _translate(exc, creating=creating) from exc
    return None if reply is None else reply.model_dump(mode="json")


def _page(call: Callable[..., Any], *args: Any, limit: int, cursor: str | None) -> dict:
    """One cursor page of a list: {"data": [...], "next_cursor": str | None}."""
    try:
        page = call(*args, limit=limit, **({"cursor": cursor} if cursor else {}))
    except runwayml.APIError as exc:
        raise _translate(exc) from exc
    return {"data": [item.model_dump(mode="json") for item in page.data], "next_cursor": page.next_cursor}


def _deleted(call: Callable[..., Any], object_id: str) -> bool:
    """Delete one object; False when Runway no longer had it."""
    try:
        call(object_id)
    except runwayml.NotFoundError:
        return False
    except runwayml.APIError as exc:
        raise _translate(exc) from exc
    return True


def _voice_choice(*, preset_voice: str = "", custom_voice_id: str = "") -> dict:
    if custom_voice_id:
        return {"type": "custom", "id": custom_voice_id}
    return {"type": "runway-live-preset", "preset_id": preset_voice}


def preview_voice(*, model: str, prompt: str) -> dict:
    """A short sample of a voice designed from `prompt`: {"url", "duration_secs"}; nothing is kept."""
    return _object(client(max_retries=0).voices.preview, model=model, prompt=prompt)


def create_voice(*, model: str, prompt: str, name: str, description: str = "") -> str:
    """Design a voice from a description and keep it; returns Runway's id (the voice starts PROCESSING)."""
    created = _object(client(max_retries=0).voices.create, creating=True,
                      from_={"type": "text", "model": model, "prompt": prompt},
                      name=name, description=description or None)
    return created["id"]


def retrieve_voice(voice_id: str) -> dict:
    """A voice as Runway has it now: status, name, `preview_url` once READY, `failure_reason` if FAILED."""
    return _object(client().voices.retrieve, voice_id)


def update_voice(voice_id: str, *, name: str) -> dict:
    """Rename a voice."""
    return _object(client().voices.update, voice_id, name=name)


def delete_voice(voice_id: str) -> bool:
    """Delete a voice; False when Runway no longer had it."""
    return _deleted(client().voices.delete, voice_id)


def list_voices(*, limit: int = 50, cursor: str | None = None) -> dict:
    """One page of the organization's voices, newest first."""
    return _page(client().voices.list, limit=limit, cursor=cursor)


def create_avatar(*, name: str, personality: str, reference_image: str, preset_voice: str = "",
                  custom_voice_id: str = "", image_processing: str = "optimize", start_script: str = "") -> dict:
    """Make an avatar from an image (a runway:// URI) and a live preset or custom voice."""
    extra = {"start_script": start_script} if start_script else {}
    return _object(client(max_retries=0).avatars.create, creating=True, name=name, personality=personality,
                   reference_image=reference_image, image_processing=image_processing,
                   voice=_voice_choice(preset_voice=preset_voice, custom_voice_id=custom_voice_id), **extra)


def retrieve_avatar(avatar_id: str) -> dict:
    """An avatar as Runway has it now (status, `failure_reason`, its voice and image previews)."""
    return _object(client().avatars.retrieve, avatar_id)


def update_avatar(avatar_id: str, *, name: str, personality: str, preset_voice: str = "",
                  custom_voice_id: str = "") -> dict:
    """Change an avatar's name, personality and voice."""
    return _object(client().avatars.update, avatar_id, name=name, personality=personality,
                   voice=_voice_choice(preset_voice=preset_voice, custom_voice_id=custom_voice_id))


def delete_avatar(avatar_id: str) -> bool:
    """Delete an avatar; False when Runway no longer had it."""
    return _deleted(client().avatars.delete, avatar_id)


def list_avatars(*, limit: int = 50, cursor: str | None = None) -> dict:
    """One page of the organization's avatars, newest first."""
    return _page(client().avatars.list, limit=limit, cursor=cursor)


@dataclass(frozen=True)
class RouterSettings:
    """What a Model Router configuration asks for, in our terms; `caps` are credits per output."""

    optimize_for: str = "cost"
    model_mode: str = "allow_new_except"  # or "allowlist_only"
    model_ids: tuple[str, ...] = ()
    caps: Mapping[str, int | None] = field(default_factory=dict)  # "video" | "image" | "audio"
    fallback_on_capacity: bool = False

    def wire(self, *, updating: bool) -> dict:
        """The SDK's `settings`; on an update every cap is sent, None removing it (settings merge)."""
        caps = {k: v for k, v in self.caps.items() if updating or v is not None}
        settings: dict[str, Any] = {
            "optimize_for": self.optimize_for,
            "models": {"mode": self.model_mode, "ids": list(self.model_ids)},
            "fallback": {"on_capacity": self.fallback_on_capacity},
        }
        if caps:
            settings["max_credits_per_generation"] = caps
        return settings


def create_router(*, slug: str, name: str, description: str, settings: RouterSettings) -> dict:
    """Save a Model Router configuration under `slug` (immutable, unique across the organization)."""
    return _object(client(max_retries=0).routers.create, creating=True, slug=slug, name=name,
                   description=description, settings=settings.wire(updating=False))


def retrieve_router(router_id: str) -> dict:
    """A router configuration as Runway has it now."""
    return _object(client().routers.retrieve, router_id)


def update_router(router_id: str, *, name: str, description: str, settings: RouterSettings) -> dict:
    """Change a router's name, description and settings; the slug stays."""
    return _object(client().routers.update, router_id, name=name, description=description or None,
                   settings=settings.wire(updating=True))


def delete_router(router_id: str) -> bool:
    """Delete a router configuration; False when Runway no longer had it."""
    return _deleted(client().routers.delete, router_id)


def list_routers(*, limit: int = 50, cursor: str | None = None) -> dict:
    """One page of the organization's router configurations, newest first."""
    return _page(client().routers.list, limit=limit, cursor=cursor)


def list_router_requests(router_id: str, *, limit: int = 20, cursor: str | None = None) -> dict:
    """One page of a router's routing decisions, newest first (`model`, `task_id`, `status`, `created_at`)."""
    return _page(client().routers.list_requests, router_id, limit=limit, cursor=cursor)
