"""The ``/v1`` routes: generation endpoints, tasks, uploads and the organization."""

from __future__ import annotations

import json
import mimetypes
import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import media, models, pricing
from ..clock import day
from ..engine import LimitError
from ..faults import TaskFault, magic_words
from ..runtime import Emulator
from ..state import Task
from ..validation import (
    SUPPORTED_TYPES,
    AssetError,
    Issue,
    MediaRef,
    check_url,
    decode_data_uri,
    field_label,
    iter_semantic_issues,
    model_issue,
    validate_body,
)
from . import files

DOC_URL = "https://docs.dev.runwayml.com/api"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
PROMPT_FIELDS = ("promptText", "negativePrompt")

#: Image input checks the API applies per model: (min w/h, max w/h, min side, max side).
IMAGE_RULES: dict[str, tuple[float, float, int, int]] = {
    "gen4.5": (0.5, 2.0, 1, 7999),
    "gen4_turbo": (0.5, 2.0, 1, 7999),
    "act_two": (0.5, 2.0, 1, 7999),
    "h3_max": (0.0, 100.0, 256, 7999),
    "grok_imagine_1_5": (0.4, 2.5, 1, 7999),
    "grok_imagine_1_5_lite": (0.4, 2.5, 1, 7999),
    "magnific_precision_upscaler_v2": (0.0, 100.0, 300, 8000),
}


def emulator_of(request: Request) -> Emulator:
    """The runtime state behind a request."""
    return request.app.state.emulator


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A JSON error body in the API's shape."""
    return JSONResponse({"error": message, **extra}, status_code=status)


def issues_response(issues: list[Issue]) -> JSONResponse:
    """The 400 answer for schema failures."""
    return error(400, "Validation of body failed", issues=[i.as_json() for i in issues],
                 docUrl=DOC_URL)


async def read_json(request: Request) -> Any:
    """Parse a JSON request body; an empty body reads as ``{}``."""
    raw = await request.body()
    if not raw.strip():
        return {}
    return json.loads(raw)


async def read_object(request: Request) -> dict[str, Any] | Response:
    """The JSON object a request carries, or the 400 the API answers for anything else."""
    try:
        body = await read_json(request)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error(400, "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return issues_response([Issue("invalid_type", [], "Expected object")])
    return body


# --- media inputs ---------------------------------------------------------------------------


def _kind_of_name(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or ""
    return guessed.split("/")[0]


def _check_image(path: Path, model: str, label: str) -> None:
    rule = IMAGE_RULES.get(model)
    if rule is None:
        return
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (UnidentifiedImageError, OSError):
        raise AssetError(f"Invalid asset for {label}: the image could not be decoded.") from None
    low, high, min_side, max_side = rule
    ratio = width / height
    if ratio < low:
        raise AssetError(f"Invalid asset aspect ratio for {label}. width / height ratio must be "
                         f"at least {low}. Got {ratio:.3f}.")
    if ratio > high:
        raise AssetError(f"Invalid asset aspect ratio for {label}. width / height ratio must be "
                         f"at most {high}. Got {ratio:.3f}.")
    if min(width, height) < min_side or max(width, height) > max_side:
        raise AssetError(f"Invalid asset dimensions for {label}: each side must be between "
                         f"{min_side} and {max_side} pixels. Got {width}x{height}.")


def resolve_media(em: Emulator, refs: list[MediaRef], model: str,
                  task_id: str) -> list[dict[str, str]]:
    """Apply the asset rules to every media string; return the inputs we hold locally."""
    sources: list[dict[str, str]] = []
    now = em.clock.now()
    for number, ref in enumerate(refs):
        label = field_label(ref.path)
        path: Path | None = None
        if ref.value.startswith("runway://"):
            upload = em.uploads.get(ref.value.rsplit("/", 1)[-1])
            if upload is None or not upload.received:
                raise AssetError(f"Invalid asset for {label}: the runway:// URI does not refer "
                                 f"to an upload.")
            if now > upload.created_at + em.config.upload_ttl:
                raise AssetError(f"Invalid asset for {label}: the upload has expired.")
            if _kind_of_name(upload.filename) != ref.kind:
                raise AssetError(f"Invalid asset for {label}: expected {ref.kind}, the upload "
                                 f"is {upload.content_type or 'of another type'}.")
            path = em.store.upload_path(upload.id)
        elif ref.value.startswith("data:"):
            content_type, data = decode_data_uri(ref.value, ref.kind, label)
            ext = mimetypes.guess_extension(content_type) or ".bin"
            path = em.store.files / "inputs" / f"{task_id}-{number}{ext}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        else:
            check_url(ref.value, label, em.config.base_url)
            path = files.local_output(em, ref.value)
        if path is None:
            continue
        if ref.kind == "image":
            _check_image(path, model, label)
        sources.append({"kind": ref.kind, "path": str(path), "field": label,
                        "name": str(_top_field(ref.path))})
    return sources


def _top_field(path: list[str | int]) -> str | int:
    """The request field a media string sits under (inside ``input`` for the router)."""
    return path[1] if len(path) > 1 and path[0] == "input" else path[0]


def measure_inputs(endpoint: str, model: str, sources: list[dict[str, str]]) -> dict[str, list[dict[str, float]]]:
    """Length and size of the input media the price depends on, as ffmpeg reads them."""
    wanted = pricing.input_fields(endpoint, model)
    measured: dict[str, list[dict[str, float]]] = {}
    for source in sources:
        if source["name"] in wanted and source["kind"] in ("video", "audio"):
            measured.setdefault(source["name"], []).append(media.probe(Path(source["path"])))
    return measured


# --- generation -----------------------------------------------------------------------------


def _prompt(body: dict[str, Any]) -> str:
    source = body.get("input", body)
    return " ".join(str(source[k]) for k in PROMPT_FIELDS if isinstance(source.get(k), str))


def _task_fault(em: Emulator, model: str, prompt: str) -> TaskFault | None:
    fault = magic_words(prompt) or em.faults.take_task(model)
    if fault is None and em.faults.roll(em.config.fail_rate):
        fault = TaskFault(fail_code="INTERNAL.BAD_OUTPUT.CODE01")
    return fault


def _validate(endpoint: str, model: str, body: dict[str, Any]) -> tuple[list[Issue], list[MediaRef]]:
    schema = models.request_schemas()[endpoint][model]
    issues, refs = validate_body(schema, body)
    if not issues:
        issues = list(iter_semantic_issues(endpoint, model, body))
    return issues, refs


def _router_extra(endpoint: str, body: dict[str, Any], plan: models.OutputPlan) -> dict[str, Any]:
    data = body.get("input", {})
    if endpoint == "generate/video":
        return {"duration": plan.seconds, "ratio": f"{plan.width}:{plan.height}",
                "resolution": data.get("resolution", "720p")}
    if endpoint == "generate/image":
        return {"ratio": f"{plan.width}:{plan.height}", "aspectRatio": data.get("aspectRatio", "1:1"),
                "resolution": data.get("resolution", "1k")}
    voice = data.get("voice")
    kind = voice.get("type", "default") if isinstance(voice, dict) else "default"
    return {"type": data.get("type", "audio"), "voice": kind if data.get("type") == "speech" else "none"}


async def generate(request: Request) -> Response:
    """``POST /v1/<endpoint>``: validate, charge and queue a generation task."""
    em = emulator_of(request)
    endpoint = request.url.path.removeprefix("/v1/")
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    routing: dict[str, Any] | None = None
    if endpoint in models.ROUTER_ENDPOINTS:
        issues, refs = _validate(endpoint, "router", body)
        if issues:
            return issues_response(issues)
        config = models.ROUTER_CONFIGS.get(body["configId"])
        if config is None:
            return error(404, f"Router config '{body['configId']}' was not found.",
                         code="router_config_not_found")
        run_endpoint, model = models.route(endpoint, body)
        routing = {"configId": body["configId"], "optimizeFor": config.optimize_for,
                   "priceCeiling": config.price_ceiling}
    else:
        by_model = models.request_schemas()[endpoint]
        model = body.get("model")
        if model not in by_model:
            return issues_response([model_issue(list(by_model), model)])
        issues, refs = _validate(endpoint, model, body)
        if issues:
            return issues_response(issues)
        run_endpoint = endpoint
    task_id = str(uuid.uuid4())
    try:
        sources = resolve_media(em, refs, model, task_id)
    except AssetError as exc:
        return error(400, str(exc))
    inputs = measure_inputs(run_endpoint, model, sources)
    plan = models.plan_output(endpoint, model, body, inputs)
    estimate = pricing.price(run_endpoint, model, body.get("input", body), inputs)
    if routing and routing["priceCeiling"] is not None and estimate > routing["priceCeiling"]:
        return error(400, "No model satisfies the router configuration.", code="no_eligible_model",
                     pipeline=[{"type": "filter", "filter": "price", "models": [model]}],
                     emptiedBy=["price"])
    try:
        task = em.engine.create(endpoint=run_endpoint, model=model, body=body, plan=plan,
                                estimate=estimate, api_key=request.state.api_key, task_id=task_id)
    except LimitError as exc:
        return error(exc.status, str(exc))
    fault = _task_fault(em, model, _prompt(body))
    task.meta = {"sources": sources, "router_endpoint": endpoint if routing else None}
    if fault is not None:
        task.fail_code, task.hang = fault.fail_code, fault.hang
        task.output_fault, task.redirect_to = fault.output, fault.redirect_to
        if fault.wire():
            task.meta["wire"] = fault.wire()
    em.store.save_task(task)
    if routing is None:
        created = {"id": task.id, "estimatedCost": {"credits": estimate}}
        if fault is not None and fault.create_reply:
            created.update(fault.create_reply)
        return JSONResponse(created)
    return JSONResponse({"id": task.id, "routing": {
        "configId": routing["configId"], "model": model, "provider": "runway",
        "estimatedCost": {"credits": estimate},
        "resolvedSettings": {"optimizeFor": routing["optimizeFor"],
                             "priceCeiling": routing["priceCeiling"]},
        "resolvedInput": _router_extra(endpoint, body, plan)}})


# --- tasks ----------------------------------------------------------------------------------


async def task_detail(request: Request) -> Response:
    """``GET /v1/tasks/{id}`` (freshly signed output URLs) and ``DELETE`` (cancel or delete)."""
    em = emulator_of(request)
    task_id = request.path_params["task_id"]
    if not UUID.match(task_id):
        return error(404, "Task not found.")
    if request.method == "DELETE":
        if not em.engine.delete(task_id):
            return error(404, "Task not found.")
        return Response(status_code=204)
    task = em.engine.get(task_id)
    if task is None:
        return error(404, "Task not found.")
    wire = task.meta.get("wire") or {}
    names = task.output_names()
    if wire.get("outputs"):
        names = [names[i % len(names)] for i in range(int(wire["outputs"]))]
    outputs = [files.sign_output(em, task, name) for name in names]
    if not _misbehaves(em, task, wire):
        return JSONResponse(em.engine.task_json(task, outputs))
    if wire.get("reply_body") is not None:
        return Response(str(wire["reply_body"]), media_type="application/json")
    return JSONResponse({**em.engine.task_json(task, outputs), **(wire.get("reply") or {})})


def _misbehaves(em: Emulator, task: Task, wire: dict[str, Any]) -> bool:
    """Whether this answer about the task carries its wire fault; counts down ``bad_replies``."""
    left = wire.get("bad_replies")
    if left is None:
        return True
    if left <= 0:
        return False
    wire["bad_replies"] = left - 1
    em.store.save_task(task)
    return True


# --- uploads --------------------------------------------------------------------------------


async def create_upload(request: Request) -> Response:
    """``POST /v1/uploads``: hand out a presigned upload target and its ``runway://`` URI."""
    em = emulator_of(request)
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    issues: list[Issue] = []
    filename = body.get("filename")
    if not isinstance(filename, str):
        issues.append(Issue("invalid_type", ["filename"], "Required" if filename is None
                            else "Expected string"))
    elif not 3 <= len(filename) <= 255:
        issues.append(Issue("too_small" if len(filename) < 3 else "too_big", ["filename"],
                            "String must contain between 3 and 255 character(s)"))
    if body.get("type") != "ephemeral":
        issues.append(Issue("invalid_enum_value", ["type"],
                            "Invalid enum value. Expected 'ephemeral'"))
    unknown = sorted(set(body) - {"filename", "type"})
    if unknown:
        issues.append(Issue("unrecognized_keys", [], f"Unrecognized key(s) in object: {unknown}"))
    if issues:
        return issues_response(issues)
    content_type = mimetypes.guess_type(filename)[0] or ""
    if not any(content_type in types for types in SUPPORTED_TYPES.values()):
        return error(400, f"Unsupported file type for '{filename}'. Use an image, video or "
                          f"audio file with a matching extension.")
    upload = files.new_upload(em, filename, content_type)
    return JSONResponse(files.upload_target(em, upload))


# --- organization ---------------------------------------------------------------------------


async def organization(request: Request) -> Response:
    """``GET /v1/organization``."""
    return JSONResponse(emulator_of(request).engine.organization_json())


async def organization_usage(request: Request) -> Response:
    """``POST /v1/organization/usage``: credits used per day and model."""
    em = emulator_of(request)
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    today = date.fromisoformat(day(em.clock.now()))
    try:
        start = date.fromisoformat(body.get("startDate") or (today - timedelta(days=30)).isoformat())
        before = date.fromisoformat(body.get("beforeDate") or (start + timedelta(days=30)).isoformat())
    except (TypeError, ValueError):
        return issues_response([Issue("invalid_string", ["startDate" if "startDate" in body
                                                         else "beforeDate"], "Invalid date")])
    if before <= start:
        return issues_response([Issue("custom", ["beforeDate"], "beforeDate must be after startDate")])
    if before > start + timedelta(days=90):
        return issues_response([Issue("custom", ["beforeDate"],
                                      "beforeDate must be at most 90 days after startDate")])
    return JSONResponse(em.engine.usage_json(start.isoformat(), before.isoformat()))


def routes() -> list[Route]:
    """Every ``/v1`` route."""
    endpoints = [Route(f"/v1/{name}", generate, methods=["POST"]) for name in models.ENDPOINT_OUTPUT]
    return [
        *endpoints,
        Route("/v1/tasks/{task_id}", task_detail, methods=["GET", "DELETE"]),
        Route("/v1/uploads", create_upload, methods=["POST"]),
        Route("/v1/organization", organization, methods=["GET"]),
        Route("/v1/organization/usage", organization_usage, methods=["POST"]),
    ]
