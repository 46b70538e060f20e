"""``/v1/avatars``, ``/v1/avatar_usage`` and ``/v1/avatar_videos``.

An avatar is an image and a voice (a live preset, or a custom voice of ``/v1/voices``): PROCESSING
for ``resources.PROCESSING_SECONDS`` (times the clock speed), then READY with a processed preview, or
FAILED when its texts carry ``[fail]``; a new reference image or image processing processes it again.
An avatar video is a task like any other, priced per second of speech (``prices.json``): its
output is the avatar's image animated over the speech, the sample given or the script spoken.
Conversations (realtime sessions) are not modelled, so the usage report counts none.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import media, mock, models, pricing, resources
from ..clock import iso
from ..inputs import resolve_media
from ..runtime import Emulator
from ..state import Record
from ..validation import AssetError, Issue
from . import files
from .api import (
    emulator_of,
    error,
    failure_of,
    issues_response,
    list_page,
    read_object,
    record_detail,
    start_task,
    validated,
)
from .voices import usable_voice

NOT_FOUND = "Avatar not found."
USAGE_DAYS = 90  # "The date range must not exceed 90 days."
EDITABLE = ("name", "personality", "startScript", "documentIds", "imageProcessing", "voice")


def voice_view(em: Emulator, voice: dict[str, Any]) -> dict[str, Any]:
    """An avatar's voice as the API shows it: a preset with its name, or a custom voice, flagged once
    deleted ("When true, name and description are omitted")."""
    if voice["type"] == "runway-live-preset":
        return resources.live_voice(voice["presetId"])
    record = mock.lookup(em.records, "voice", voice["id"], em.config.mock_unknown_ids)
    if record is None:
        return {"type": "custom", "id": voice["id"], "deleted": True}
    return {"type": "custom", "id": voice["id"], "deleted": False, "name": record.fields["name"],
            "description": record.fields.get("description")}


def avatar_json(em: Emulator, record: Record) -> dict[str, Any]:
    """The wire form of an avatar: Processing, Ready (with its processed preview) or Failed."""
    status = em.records.status(record)
    fields = record.fields
    body: dict[str, Any] = {
        "id": record.id, "createdAt": iso(record.created_at), "updatedAt": iso(record.updated_at),
        "documentIds": list(fields.get("documentIds") or []), "name": fields["name"],
        "personality": fields["personality"],
        "processedImageUri": files.sign_asset(em, record, "processed.png") if status == "READY" else None,
        "referenceImageUri": files.sign_asset(em, record, "reference.png"),
        "startScript": fields.get("startScript"), "status": status, "voice": voice_view(em, fields["voice"]),
    }
    if status == "FAILED":
        body["failureReason"] = record.failure
    return body


def _keep_image(em: Emulator, refs: list, avatar_id: str) -> str:
    """Copy the reference image into the avatar's folder (its videos and previews are drawn from it);
    "" for an https image, which is not fetched."""
    sources = resolve_media(em, refs, "avatar", avatar_id)
    if not sources:
        return ""
    original = Path(sources[0]["path"])
    kept = em.store.record_path("avatar", avatar_id, "source" + (original.suffix or ".img"))
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(original, kept)
    return str(kept)


def _voice_refusal(em: Emulator, voice: dict[str, Any] | None) -> Response | None:
    if voice is None or voice["type"] != "custom":
        return None
    found = usable_voice(em, voice["id"], ready=False)
    return error(400, found) if isinstance(found, str) else None


def _failure(record_fields: dict[str, Any]) -> str | None:
    return failure_of(record_fields.get("name"), record_fields.get("personality"), record_fields.get("startScript"))


async def create(request: Request) -> Response:
    """``POST /v1/avatars``: an avatar from a reference image and a voice."""
    em = emulator_of(request)
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    refs, refusal = validated(resources.schemas()["avatars.create"], body)
    refusal = refusal or _voice_refusal(em, body.get("voice"))
    if refusal is not None:
        return refusal
    avatar_id = str(uuid.uuid4())
    try:
        image = _keep_image(em, refs, avatar_id)
    except AssetError as exc:
        return error(400, str(exc))
    fields = {"name": body["name"], "personality": body["personality"], "startScript": body.get("startScript"),
              "documentIds": body.get("documentIds", []), "imageProcessing": body.get("imageProcessing", "optimize"),
              "voice": body["voice"], "image": image}
    record = em.records.add("avatar", fields, record_id=avatar_id, ready_in=em.processing_seconds("avatar"),
                            failure=_failure(fields))
    return JSONResponse(avatar_json(em, record))


async def listing(request: Request) -> Response:
    """``GET /v1/avatars?limit&cursor``: the organization's avatars, newest first, by cursor pages."""
    em = emulator_of(request)
    return list_page(em, request, em.records.live("avatar"), lambda r: avatar_json(em, r))


async def _update(em: Emulator, request: Request, record: Record) -> Response:
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    refs, refusal = validated(resources.schemas()["avatars.update"], body)
    refusal = refusal or _voice_refusal(em, body.get("voice"))
    if refusal is not None:
        return refusal
    fields = record.fields
    new_processing = body.get("imageProcessing", fields["imageProcessing"]) != fields["imageProcessing"]
    reprocess = "referenceImage" in body or new_processing
    if "referenceImage" in body and not mock.is_fabricated(record):
        em.records.drop_files(record)
        try:
            fields["image"] = _keep_image(em, refs, record.id)
        except AssetError as exc:
            return error(400, str(exc))
    fields.update({k: body[k] for k in EDITABLE if k in body})
    if mock.is_fabricated(record):
        return JSONResponse(avatar_json(em, record))
    if reprocess:
        em.records.drop_files(record, "reference.png", "processed.png")
        record.ready_at = em.clock.now() + em.processing_seconds("avatar")
    record.failure = _failure(fields)
    em.records.save(record)
    return JSONResponse(avatar_json(em, record))


async def detail(request: Request) -> Response:
    """``GET``, ``PATCH`` and ``DELETE /v1/avatars/{id}``."""
    return await record_detail(request, "avatar", "avatar_id", missing=NOT_FOUND, show=avatar_json, update=_update)


# --- usage ----------------------------------------------------------------------------------


def _instant(name: str, value: str | None) -> datetime | Issue:
    """A date or date-time query value as a naive UTC datetime, or the issue it raises."""
    if value is None:
        return Issue("invalid_type", [name], "Required", {"expected": "string", "received": "undefined"})
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return Issue("invalid_string", [name], "Invalid datetime", {"validation": "datetime"})
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


async def usage(request: Request) -> Response:
    """``GET /v1/avatar_usage?startDate&endDate``: conversations per UTC day, every day of the range."""
    query = request.query_params
    start, end = _instant("startDate", query.get("startDate")), _instant("endDate", query.get("endDate"))
    issues = [i for i in (start, end) if isinstance(i, Issue)]
    if not issues and end < start:
        issues.append(Issue("custom", ["endDate"], "endDate must not be before startDate"))
    if not issues and end - start > timedelta(days=USAGE_DAYS):
        issues.append(Issue("custom", ["endDate"], f"The date range must not exceed {USAGE_DAYS} days."))
    if issues:
        return issues_response(issues, "query")
    days, day = [], start.date()
    while datetime.combine(day, datetime.min.time()) < end:
        days.append({"date": day.isoformat(), "seconds": 0, "sessions": 0})
        day += timedelta(days=1)
    return JSONResponse({"avgDurationSeconds": 0, "byDay": days, "totalSeconds": 0, "totalSessions": 0})


# --- avatar videos --------------------------------------------------------------------------


def _avatar_of(em: Emulator, avatar: dict[str, Any]) -> Record | str | None:
    """The custom avatar a video names (READY), why it cannot be used, or None for a preset."""
    if avatar["type"] != "custom":
        return None
    record = mock.lookup(em.records, "avatar", avatar["avatarId"], em.config.mock_unknown_ids)
    if record is None:
        return f"Avatar '{avatar['avatarId']}' was not found."
    status = em.records.status(record)
    return record if status == "READY" else f"Avatar '{avatar['avatarId']}' is not ready (status {status})."


def _speaker(em: Emulator, speech: dict[str, Any], avatar: Record | None) -> tuple[str, str | None]:
    """Whose voice a script is spoken in (the voice asked, else the avatar's, else the default preset),
    as a seed for the spoken track; or why that voice cannot speak."""
    voice = speech.get("voice") or (avatar.fields["voice"] if avatar else None)
    if voice is None:
        return f"preset {resources.DEFAULT_LIVE_VOICE}", None
    if voice["type"] != "custom":
        return f"preset {voice['presetId']}", None
    found = usable_voice(em, voice["id"], ready=True)
    if isinstance(found, str):
        return "", found
    return str(found.fields.get("timbre", found.id)), None


async def create_video(request: Request) -> Response:
    """``POST /v1/avatar_videos``: a task whose output is the avatar speaking the speech given."""
    em = emulator_of(request)
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    refs, refusal = validated(resources.schemas()["avatar_videos.create"], body)
    if refusal is not None:
        return refusal
    avatar = _avatar_of(em, body["avatar"])
    if isinstance(avatar, str):
        return error(400, avatar)
    speech = body["speech"]
    voice, unusable = _speaker(em, speech, avatar) if speech["type"] == "text" else ("", None)
    if unusable:
        return error(400, unusable)
    task_id = str(uuid.uuid4())
    try:
        sources = resolve_media(em, refs, resources.AVATAR_MODEL, task_id)
    except AssetError as exc:
        return error(400, str(exc))
    image = avatar.fields.get("image") if avatar else ""
    if image and Path(image).exists():
        sources.append({"kind": "image", "path": image, "field": "avatar", "name": "avatar"})
    sample = next((s["path"] for s in sources if s["kind"] == "audio"), None)
    if speech["type"] == "text":
        seconds, track = models.speech_seconds(speech["text"]), {"text": speech["text"], "voice": voice}
    else:
        measured = media.probe(Path(sample)).get("duration") if sample else None
        seconds, track = measured or resources.AVATAR_DEFAULT_SECONDS, {"audio": sample or ""}
    name = avatar.fields["name"] if avatar else body["avatar"]["presetId"]
    plan = models.OutputPlan("video", 1280, 720, seconds, 1, "mp4", seconds, audio=True, ext="mp4")
    estimate = pricing.price("avatar_videos", resources.AVATAR_MODEL, {"duration": seconds}, {})
    started = start_task(em, request, endpoint="avatar_videos", model=resources.AVATAR_MODEL, body=body, plan=plan,
                         estimate=estimate, sources=sources, task_id=task_id, prompt=speech.get("text", ""),
                         meta={"speech": track, "caption": f"{name}: {speech.get('text', '')}".strip(": ")})
    if isinstance(started, Response):
        return started
    return JSONResponse({"id": started[0].id})


def routes() -> list[Route]:
    """The avatar routes."""
    return [
        Route("/v1/avatars", create, methods=["POST"]),
        Route("/v1/avatars", listing, methods=["GET"]),
        Route("/v1/avatars/{avatar_id}", detail, methods=["GET", "PATCH", "DELETE"]),
        Route("/v1/avatar_usage", usage, methods=["GET"]),
        Route("/v1/avatar_videos", create_video, methods=["POST"]),
    ]
