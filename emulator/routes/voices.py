"""``/v1/voices``: custom voices designed from a description or cloned from a sample, and previews.

A voice is PROCESSING for ``resources.PROCESSING_SECONDS`` (times the clock speed), then READY with
an MP3 sample, or FAILED when its texts carry ``[fail]``. Voices are not tasks and cost no credits.
Avatars take them (``{"type": "custom", "id"}``), and so does a script an avatar video speaks.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import mock, resources
from ..clock import iso
from ..inputs import resolve_media
from ..runtime import Emulator
from ..state import Record
from ..validation import AssetError
from . import files
from .api import emulator_of, error, failure_of, list_page, read_object, record_detail, validated

NOT_FOUND = "Voice not found."


def voice_json(em: Emulator, record: Record) -> dict[str, Any]:
    """The wire form of a voice: Processing, Ready (with its sample's URL) or Failed (with why)."""
    status = em.records.status(record)
    body: dict[str, Any] = {"id": record.id, "createdAt": iso(record.created_at),
                            "description": record.fields.get("description"), "name": record.fields["name"],
                            "status": status}
    if status == "READY":
        body["previewUrl"] = files.sign_asset(em, record, "preview.mp3")
    elif status == "FAILED":
        body["failureReason"] = record.failure
    return body


def usable_voice(em: Emulator, voice_id: str, ready: bool) -> Record | str:
    """A custom voice a request names, or why it cannot be used (unknown, deleted or, when it must
    speak now, not READY yet)."""
    record = mock.lookup(em.records, "voice", voice_id, em.config.mock_unknown_ids)
    if record is None:
        return f"Voice '{voice_id}' was not found."
    status = em.records.status(record)
    if ready and status != "READY":
        return f"Voice '{voice_id}' is not ready (status {status})."
    if status == "FAILED":
        return f"Voice '{voice_id}' failed to process and cannot be used."
    return record


async def create(request: Request) -> Response:
    """``POST /v1/voices``: design a voice from a description, or clone one from a sample."""
    em = emulator_of(request)
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    refs, refusal = validated(resources.schemas()["voices.create"], body)
    if refusal is not None:
        return refusal
    voice_id = str(uuid.uuid4())
    source = body["from"]
    try:
        resolve_media(em, refs, "voice", voice_id)  # a clone's sample must be usable
    except AssetError as exc:
        return error(400, str(exc))
    timbre = source.get("prompt") or f"clone of {source.get('audio', '')[:200]}"
    fields = {"name": body["name"], "description": body.get("description"), "from": source, "timbre": timbre}
    em.records.add("voice", fields, record_id=voice_id, ready_in=em.processing_seconds("voice"),
                   failure=failure_of(body["name"], body.get("description"), source.get("prompt")))
    return JSONResponse({"id": voice_id})


async def listing(request: Request) -> Response:
    """``GET /v1/voices?limit&cursor``: the organization's voices, newest first, by cursor pages."""
    em = emulator_of(request)
    return list_page(em, request, em.records.live("voice"), lambda r: voice_json(em, r))


async def _update(em: Emulator, request: Request, record: Record) -> Response:
    """Rename or redescribe a voice."""
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    _, refusal = validated(resources.schemas()["voices.update"], body)
    if refusal is not None:
        return refusal
    record.fields.update({k: body[k] for k in ("name", "description") if k in body})
    if not mock.is_fabricated(record):
        em.records.save(record)
    return JSONResponse(voice_json(em, record))


async def detail(request: Request) -> Response:
    """``GET``, ``PATCH`` (rename, redescribe) and ``DELETE /v1/voices/{id}``."""
    return await record_detail(request, "voice", "voice_id", missing=NOT_FOUND, show=voice_json, update=_update)


async def preview(request: Request) -> Response:
    """``POST /v1/voices/preview``: a short MP3 of a voice described in words, before making it."""
    em = emulator_of(request)
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    _, refusal = validated(resources.schemas()["voices.preview"], body)
    if refusal is not None:
        return refusal
    record = em.records.add("voice_preview", {"model": body["model"], "prompt": body["prompt"],
                                              "timbre": body["prompt"], "durationSecs": resources.PREVIEW_SECONDS})
    return JSONResponse({"durationSecs": resources.PREVIEW_SECONDS, "url": files.sign_asset(em, record, "preview.mp3")})


def routes() -> list[Route]:
    """The voice routes."""
    return [
        Route("/v1/voices", create, methods=["POST"]),
        Route("/v1/voices", listing, methods=["GET"]),
        Route("/v1/voices/preview", preview, methods=["POST"]),
        Route("/v1/voices/{voice_id}", detail, methods=["GET", "PATCH", "DELETE"]),
    ]
