"""Files the emulator serves: the presigned upload target, and signed, expiring URLs of task outputs
and of records' files (voice samples and previews, avatar image previews)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import mmap
import re
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import formats, media, mock, models, resources
from ..clock import iso
from ..runtime import Emulator
from ..state import Record, Task, Upload

MIN_UPLOAD, MAX_UPLOAD = 512, 200 * 1024 * 1024
SLOT_TTL = 3600.0
OUTPUT_PATH = re.compile(r"^/_files/([0-9a-f-]{36})/(\d+\.[a-z0-9]+)$")


def _sign(em: Emulator, text: str) -> str:
    return hmac.new(em.secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:40]


# --- uploads --------------------------------------------------------------------------------


def new_upload(em: Emulator, filename: str, content_type: str) -> Upload:
    """Open an upload slot."""
    upload = Upload(id=secrets.token_hex(12), filename=filename, created_at=em.clock.now(),
                    token=secrets.token_urlsafe(16), content_type=content_type)
    em.uploads[upload.id] = upload
    em.store.save_upload(upload)
    return upload


def upload_target(em: Emulator, upload: Upload) -> dict[str, Any]:
    """The ``POST /v1/uploads`` answer: where and how to send the bytes."""
    policy = base64.b64encode(json.dumps({
        "expiration": iso(upload.created_at + SLOT_TTL),
        "conditions": [{"key": f"uploads/{upload.id}/{upload.filename}"},
                       ["content-length-range", MIN_UPLOAD, MAX_UPLOAD]],
    }).encode()).decode()
    return {
        "uploadUrl": f"{em.config.base_url}/_uploads/{upload.id}",
        "fields": {"key": f"uploads/{upload.id}/{upload.filename}", "policy": policy,
                   "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": upload.token,
                   "x-amz-signature": _sign(em, policy)},
        "runwayUri": f"runway://uploads/{upload.id}",
    }


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>")
    return Response(body, status_code=status, media_type="application/xml")


def _parse_multipart(raw: Path, boundary: bytes, dest: Path) -> tuple[dict[str, str], int | None]:
    """Read form fields and copy the ``file`` part to ``dest`` without loading it whole."""
    fields: dict[str, str] = {}
    size: int | None = None
    delimiter = b"\r\n--" + boundary
    with raw.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        position = data.find(b"--" + boundary)
        while position != -1:
            start = position + len(boundary) + 2
            if data[start:start + 2] == b"--":
                break
            header_end = data.find(b"\r\n\r\n", start)
            if header_end == -1:
                break
            headers = data[start:header_end].decode("latin-1")
            body_start = header_end + 4
            position = data.find(delimiter, body_start)
            body_end = position if position != -1 else len(data)
            name = re.search(r'name="([^"]*)"', headers)
            if name and name.group(1) == "file" and "filename=" in headers:
                dest.parent.mkdir(parents=True, exist_ok=True)
                with dest.open("wb") as out:
                    for offset in range(body_start, body_end, 1 << 20):
                        out.write(data[offset:min(offset + (1 << 20), body_end)])
                size = body_end - body_start
            elif name:
                fields[name.group(1)] = data[body_start:body_end].decode("utf-8", "replace")
            if position != -1:
                position += 2
    return fields, size


async def receive_upload(request: Request) -> Response:
    """``POST /_uploads/{id}``: the presigned multipart target (answers 204 like S3)."""
    em: Emulator = request.app.state.emulator
    upload = em.uploads.get(request.path_params["upload_id"])
    if upload is None or upload.received:
        return _s3_error(403, "AccessDenied", "Invalid or already used upload URL.")
    if em.clock.now() > upload.created_at + SLOT_TTL:
        return _s3_error(403, "AccessDenied", "Request has expired.")
    match = re.search(r"boundary=\"?([^\";]+)", request.headers.get("content-type", ""))
    if not match:
        return _s3_error(400, "InvalidArgument", "Expected multipart/form-data.")
    incoming = em.store.files / "incoming" / f"{upload.id}-{time.monotonic_ns()}"
    incoming.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    try:
        with incoming.open("wb") as out:
            async for chunk in request.stream():
                total += len(chunk)
                if total > MAX_UPLOAD + (1 << 20):
                    return _s3_error(400, "EntityTooLarge",
                                     "Your proposed upload exceeds the maximum allowed size.")
                out.write(chunk)
        if total == 0:
            return _s3_error(400, "IncompleteBody", "The request body is empty.")
        fields, size = await run_in_threadpool(_parse_multipart, incoming,
                                               match.group(1).encode(), em.store.upload_path(upload.id))
    finally:
        incoming.unlink(missing_ok=True)
    expected = upload_target(em, upload)["fields"]
    if any(fields.get(key) != value for key, value in expected.items()):
        return _s3_error(403, "SignatureDoesNotMatch", "The form fields do not match the policy.")
    if size is None:
        return _s3_error(400, "InvalidArgument", "The form has no file part named 'file'.")
    if size < MIN_UPLOAD:
        em.store.upload_path(upload.id).unlink(missing_ok=True)
        return _s3_error(400, "EntityTooSmall",
                         f"Your proposed upload is smaller than the minimum of {MIN_UPLOAD} bytes.")
    if size > MAX_UPLOAD:
        em.store.upload_path(upload.id).unlink(missing_ok=True)
        return _s3_error(400, "EntityTooLarge",
                         "Your proposed upload exceeds the maximum allowed size.")
    upload.size, upload.received = size, True
    em.store.save_upload(upload)
    return Response(status_code=204)


# --- outputs --------------------------------------------------------------------------------


def sign_output(em: Emulator, task: Task, name: str) -> str:
    """A freshly signed URL for one output of a task."""
    now = em.clock.now()
    expires = int(now - 1 if task.output_fault == "expired" else now + em.config.output_ttl)
    text = f"{task.id}/{name}:{expires}:{em.url_epoch}"
    query = f"exp={expires}&v={em.url_epoch}&sig={_sign(em, text)}"
    return f"{em.config.base_url}/_files/{task.id}/{name}?{query}"


def local_output(em: Emulator, url: str) -> Path | None:
    """The file behind one of our own output URLs, when it has been rendered."""
    parts = urlsplit(url)
    match = OUTPUT_PATH.match(parts.path)
    if not url.startswith(em.config.base_url) or not match:
        return None
    path = em.store.output_path(match.group(1), match.group(2))
    return path if path.exists() else None


def _render(em: Emulator, task: Task, name: str, path: Path) -> None:
    """Render one output file of a task (runs in a worker thread)."""
    started = time.perf_counter()
    plan = task.plan
    body = task.body.get("input", task.body)
    prompt = " ".join(str(body.get(k, "")) for k in ("promptText", "negativePrompt")).strip()
    prompt = task.meta.get("caption") or prompt or f"{task.model} {task.endpoint}"
    sources = [media.Source(s["kind"], Path(s["path"])) for s in task.meta.get("sources", [])
               if Path(s["path"]).exists()]
    videos = [s for s in sources if s.kind == "video"]
    images = [s for s in sources if s.kind == "image"]
    index = int(name.split(".")[0])
    settings = em.settings
    tmp = path.with_name(f".{path.name}.{time.monotonic_ns()}{path.suffix}")
    if plan["kind"] == "image":
        if task.endpoint == "image_upscale" and not settings.placeholder:
            media.upscale_image(tmp, images[0] if images else None,
                                int(body.get("scaleFactor") or models.option_default(task.endpoint, task.model,
                                                                                     "scaleFactor") or 2), prompt)
        else:
            media.render_image(tmp, plan["width"], plan["height"], prompt,
                               images[0] if images else None, plan["fmt"], settings, index)
    elif plan["kind"] == "video":
        speech = _speech_track(task, tmp)
        try:
            _render_video(task, tmp, prompt, videos, images, settings, body, soundtrack=str(speech or ""))
        finally:
            if speech is not None and speech.name.endswith(".speech.wav"):
                speech.unlink(missing_ok=True)
    else:
        seconds = plan["seconds"]
        if task.endpoint in ("voice_isolation", "voice_dubbing", "speech_to_speech",
                             "video_to_audio") and sources and "duration" not in body:
            seconds = min(60.0, media.probe(sources[0].path).get("duration", seconds))
        media.render_audio(tmp, seconds, prompt, plan["fmt"], settings, int(plan.get("sample_rate") or 0))
    tmp.replace(path)
    em.render_seconds += time.perf_counter() - started


def _speech_track(task: Task, out: Path) -> Path | None:
    """An avatar video's sound: the speech sample it was given, else its script spoken (a tone whose
    notes come from the voice and the words), written next to the output; None for other videos."""
    speech = task.meta.get("speech")
    if not speech:
        return None
    if speech.get("audio") and Path(speech["audio"]).exists():
        return Path(speech["audio"])
    track = out.with_name(out.name + ".speech.wav")
    track.write_bytes(media.tone_wav(task.plan["seconds"], f"{speech.get('voice', '')} {speech.get('text', '')}"))
    return track


def _render_video(task: Task, out: Path, prompt: str, videos: list[media.Source],
                  images: list[media.Source], settings: media.RenderSettings,
                  body: dict[str, Any], soundtrack: str = "") -> None:
    """Video outputs: transform an input video where there is one, else animate an image (over
    ``soundtrack`` when one is given)."""
    plan = task.plan
    width, height, seconds = plan["width"], plan["height"], plan["seconds"]
    delivery = {"audio": bool(plan.get("audio")), "fmt": formats.video_format(plan.get("fmt")),
                "profile": str(plan.get("profile") or "")}
    fps = str(settings.fps)

    def spec(w: float, h: float, length: float, **extra: str) -> media.VideoSpec:
        size = media.fit(int(w), int(h), settings.max_video_side, even=True)
        return media.VideoSpec(*size, seconds=min(length, media.MAX_RENDER_SECONDS), fps=fps,
                               **delivery, **extra)

    if settings.placeholder or not videos:
        source = images[0] if images else None
        media.render_video(out, spec(width, height, seconds, soundtrack=soundtrack), prompt, source, settings)
        return
    facts = media.probe(videos[-1].path)
    if "duration" not in body:
        seconds = facts.get("duration", seconds)
    if task.endpoint == "video_upscale":
        media.transform_video(out, videos[0], media.within_budget(_upscale_spec(task, body, facts, seconds)),
                              prompt)
        return
    ratio = body.get("ratio") if isinstance(body.get("ratio"), str) else ""
    explicit = "targetAspectRatio" in body or (
        bool(ratio) and not ratio.startswith("auto") and task.model != "aleph2")
    keeps_input_shape = task.endpoint == "video_to_hdr" or (
        task.endpoint == "video_to_video" and not explicit)
    if keeps_input_shape:
        width = int(facts.get("width", width))
        height = int(facts.get("height", height))
    extra = {}
    if task.endpoint == "video_to_hdr":
        extra["provenance"] = "SDR source upconverted to HDR by ruby"
        if facts.get("audio"):
            extra["sidecar_audio"] = str(videos[-1].path)
    if task.endpoint == "character_performance" and images:
        media.render_video(out, spec(width, height, seconds), prompt, images[0], settings)
    else:
        media.transform_video(out, videos[0], spec(width, height, seconds, **extra), prompt)


def _upscale_spec(task: Task, body: dict[str, Any], facts: dict[str, float], seconds: float) -> media.VideoSpec:
    """An upscale's output: the resolution asked (magnific) or the input's size at the target rate."""
    width, height = int(facts.get("width", 320)), int(facts.get("height", 180))
    rate = facts.get("fps", 24.0)
    if task.model == "enhance_frame_rate":
        fps = models.FRAME_RATES.get(str(body.get("targetFramerate")), media.fps_rate(rate))
        return media.VideoSpec(width - width % 2, height - height % 2, seconds, fps)
    w, h = models.upscale_size(body.get("resolution"), width, height)
    fps = media.fps_rate(rate * 2 if body.get("fpsBoost") is True else rate)
    return media.VideoSpec(w, h, seconds, fps)


async def serve_output(request: Request) -> Response:
    """``GET /_files/{task}/{name}``: check the signature and expiry, render once, serve."""
    em: Emulator = request.app.state.emulator
    task_id, name = request.path_params["task_id"], request.path_params["name"]
    expires, epoch, sig = (request.query_params.get(k, "") for k in ("exp", "v", "sig"))
    text = f"{task_id}/{name}:{expires}:{epoch}"
    if not hmac.compare_digest(sig, _sign(em, text)):
        return _s3_error(403, "AccessDenied", "Invalid signature.")
    if not expires.lstrip("-").isdigit() or int(expires) < em.clock.now() or epoch != str(em.url_epoch):
        return _s3_error(403, "AccessDenied", "Request has expired.")
    task = em.engine.get(task_id) or (mock.task(task_id) if em.config.mock_unknown_ids else None)
    if task is None or name not in task.output_names() or em.engine.status_of(task)[0] != "SUCCEEDED":
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    if task.output_fault == "redirect":
        return RedirectResponse(task.redirect_to or "", status_code=302)
    path = em.store.output_path(task_id, name)
    wire = task.meta.get("wire") or {}
    async with em.render_locks[f"{task_id}/{name}"]:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            await run_in_threadpool(_render, em, task, name, path)
            if wire.get("output_bytes"):
                await run_in_threadpool(_pad, path, int(wire["output_bytes"]))
    if wire.get("bytes_per_second") and request.method == "GET":
        return StreamingResponse(_trickle(path, int(wire["bytes_per_second"])), media_type=_media_type(name),
                                 headers={"content-length": str(path.stat().st_size)})
    return FileResponse(path, media_type=_media_type(name))


def _pad(path: Path, size: int) -> None:
    """Grow a rendered file to `size` bytes; trailing bytes after PNG's end are ignored by readers."""
    missing = size - path.stat().st_size
    if missing > 0:
        with path.open("ab") as handle:
            handle.truncate(size)


TRICKLE_CHUNK = 8192


async def _trickle(path: Path, bytes_per_second: int):
    """The file's bytes no faster than `bytes_per_second`, as a slow CDN edge would send them."""
    with path.open("rb") as handle:
        while chunk := handle.read(min(TRICKLE_CHUNK, bytes_per_second)):
            yield chunk
            await asyncio.sleep(len(chunk) / bytes_per_second)


def _media_type(name: str) -> str:
    return formats.CONTENT_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")


# --- records' files -----------------------------------------------------------------------------

#: The files each kind of record serves, and the status a record must have for each.
ASSET_NAMES: dict[str, dict[str, str | None]] = {
    "voice": {"preview.mp3": "READY"},
    "voice_preview": {"preview.mp3": None},
    "avatar": {"reference.png": None, "processed.png": "READY"},
}


def sign_asset(em: Emulator, record: Record, name: str) -> str:
    """A freshly signed URL for one of a record's files (valid for ``--output-ttl``, like outputs)."""
    expires = int(em.clock.now() + em.config.output_ttl)
    text = f"{record.kind}/{record.id}/{name}:{expires}:{em.url_epoch}"
    query = f"exp={expires}&v={em.url_epoch}&sig={_sign(em, text)}"
    return f"{em.config.base_url}/_assets/{record.kind}/{record.id}/{name}?{query}"


def _asset_record(em: Emulator, kind: str, record_id: str) -> Record | None:
    if kind == "voice_preview":
        return em.records.get(kind, record_id)
    return mock.lookup(em.records, kind, record_id, em.config.mock_unknown_ids)


def _render_asset(em: Emulator, record: Record, name: str, path: Path) -> None:
    """A voice's MP3 sample (its timbre as the melody), or an avatar's image previews."""
    tmp = path.with_name(f".{path.name}.{time.monotonic_ns()}{path.suffix}")
    fields = record.fields
    if name == "preview.mp3":
        seconds = float(fields.get("durationSecs", resources.PREVIEW_SECONDS))
        media.render_audio(tmp, seconds, str(fields.get("timbre") or fields.get("prompt", "")), "mp3", em.settings)
    else:
        image = Path(fields["image"]) if fields.get("image") else None
        square = name == "processed.png" and fields.get("imageProcessing") != "none"
        media.preview_image(tmp, image, str(fields.get("name", "")), resources.PREVIEW_SIDE, square)
    tmp.replace(path)


async def serve_asset(request: Request) -> Response:
    """``GET /_assets/{kind}/{id}/{name}``: check the signature and expiry, render once, serve."""
    em: Emulator = request.app.state.emulator
    kind, record_id, name = (request.path_params[k] for k in ("kind", "record_id", "name"))
    expires, epoch, sig = (request.query_params.get(k, "") for k in ("exp", "v", "sig"))
    if not hmac.compare_digest(sig, _sign(em, f"{kind}/{record_id}/{name}:{expires}:{epoch}")):
        return _s3_error(403, "AccessDenied", "Invalid signature.")
    if not expires.lstrip("-").isdigit() or int(expires) < em.clock.now() or epoch != str(em.url_epoch):
        return _s3_error(403, "AccessDenied", "Request has expired.")
    record = _asset_record(em, kind, record_id) if name in ASSET_NAMES.get(kind, {}) else None
    needs = ASSET_NAMES.get(kind, {}).get(name)
    if record is None or (needs and em.records.status(record) != needs):
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    path = em.store.record_path(kind, record_id, name)
    async with em.render_locks[f"{kind}/{record_id}/{name}"]:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            await run_in_threadpool(_render_asset, em, record, name, path)
    return FileResponse(path, media_type=_media_type(name))


def routes() -> list[Route]:
    """The file-serving routes."""
    return [
        Route("/_uploads/{upload_id}", receive_upload, methods=["POST"]),
        Route("/_files/{task_id}/{name}", serve_output, methods=["GET", "HEAD"]),
        Route("/_assets/{kind}/{record_id}/{name}", serve_asset, methods=["GET", "HEAD"]),
    ]
