"""The ``/v1`` routes: generation endpoints, tasks, uploads and the organization, and the request and
answer helpers the other resources' routes share (bodies, issues, cursor pages, starting a task)."""

from __future__ import annotations

import json
import mimetypes
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import mock, models, pricing, records
from ..clock import day
from ..engine import LimitError
from ..faults import TaskFault, magic_words
from ..inputs import measure_inputs, resolve_media
from ..runtime import Emulator
from ..state import Record, Task
from ..validation import (
    SUPPORTED_TYPES,
    AssetError,
    Issue,
    MediaRef,
    iter_semantic_issues,
    model_issue,
    validate_body,
)
from . import files

DOC_URL = "https://docs.dev.runwayml.com/api"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
PROMPT_FIELDS = ("promptText", "negativePrompt")


def emulator_of(request: Request) -> Emulator:
    """The runtime state behind a request."""
    return request.app.state.emulator


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A JSON error body in the API's shape."""
    return JSONResponse({"error": message, **extra}, status_code=status)


def issues_response(issues: list[Issue], where: str = "body") -> JSONResponse:
    """The 400 answer for schema failures of the request's ``body`` or ``query``."""
    return error(400, f"Validation of {where} failed", issues=[i.as_json() for i in issues],
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


# --- cursor pages -------------------------------------------------------------------------


def page_query(em: Emulator, request: Request) -> tuple[int, int | None] | Response:
    """The ``limit`` (required, a whole number of at least 1) and ``cursor`` of a list request.

    A cursor the emulator never handed out is refused, or in mock mode read as the first page.
    """
    params = request.query_params
    raw = params.get("limit")
    issues: list[Issue] = []
    if raw is None:
        issues.append(Issue("invalid_type", ["limit"], "Required", {"expected": "number", "received": "undefined"}))
    elif not re.fullmatch(r"\d+", raw.strip()):
        issues.append(Issue("invalid_type", ["limit"], "Expected integer, received string",
                            {"expected": "integer", "received": "string"}))
    elif int(raw) < 1:
        issues.append(Issue("too_small", ["limit"], "Number must be greater than or equal to 1",
                            {"minimum": 1, "type": "number", "inclusive": True}))
    cursor = params.get("cursor")
    after = records.decode_cursor(cursor) if cursor else None
    if cursor and after is None and not em.config.mock_unknown_ids:
        issues.append(Issue("custom", ["cursor"], "Invalid cursor"))
    if issues:
        return issues_response(issues, "query")
    return int(raw or 1), after


def list_page(em: Emulator, request: Request, items: Iterable[Record],
              view: Callable[[Record], dict[str, Any]]) -> Response:
    """``GET`` of a list: one cursor page, ``{"data": [...], "nextCursor"}``, newest first."""
    query = page_query(em, request)
    if isinstance(query, Response):
        return query
    chosen, next_cursor = records.page(items, *query)
    return JSONResponse({"data": [view(r) for r in chosen], "nextCursor": next_cursor})


Show = Callable[[Emulator, Record], dict[str, Any]]
Update = Callable[[Emulator, Request, Record], Awaitable[Response]]


async def record_detail(request: Request, kind: str, key: str, *, missing: str, show: Show,
                        update: Update) -> Response:
    """``GET``, ``PATCH`` and ``DELETE`` of one record of `kind` named by the path parameter `key`:
    404 with `missing` when unknown (in mock mode an unknown id is fabricated), DELETE forgets it
    (a fabricated one is never stored), PATCH is `update`, GET is `show`."""
    em = emulator_of(request)
    record = mock.lookup(em.records, kind, request.path_params[key], em.config.mock_unknown_ids)
    if record is None:
        return error(404, missing)
    if request.method == "DELETE":
        if not mock.is_fabricated(record):
            em.records.delete(record)
        return Response(status_code=204)
    if request.method == "PATCH":
        return await update(em, request, record)
    return JSONResponse(show(em, record))


def validated(schema: dict[str, Any], body: dict[str, Any]) -> tuple[list[MediaRef], Response | None]:
    """Media strings of a body that passes a schema of ``resource_schemas.json``, or the 400 it gets."""
    issues, refs = validate_body(schema, body, discriminator=None)
    return refs, issues_response(issues) if issues else None


def failure_of(*texts: Any) -> str | None:
    """The failure a ``[fail]`` magic word in any of the texts asks for (voices and avatars fail processing)."""
    fault = magic_words(" ".join(t for t in texts if isinstance(t, str)))
    if fault is None or not fault.fail_code:
        return None
    return models.FAILURE_TEXT.get(fault.fail_code, "Processing failed.")


# --- generation -----------------------------------------------------------------------------


def prompt_of(body: dict[str, Any]) -> str:
    """The prompt words of a body (where magic words are read)."""
    source = body.get("input", body)
    return " ".join(str(source[k]) for k in PROMPT_FIELDS if isinstance(source.get(k), str))


def _task_fault(em: Emulator, model: str, prompt: str) -> TaskFault | None:
    fault = magic_words(prompt) or em.faults.take_task(model)
    if fault is None and em.faults.roll(em.config.fail_rate):
        fault = TaskFault(fail_code="INTERNAL.BAD_OUTPUT.CODE01")
    return fault


def validate_model_body(endpoint: str, model: str, body: dict[str, Any]) -> tuple[list[Issue], list[MediaRef]]:
    """A generation body against its model's rules in ``request_schemas.json``, then the cross-field rules."""
    schema = models.request_schemas()[endpoint][model]
    issues, refs = validate_body(schema, body)
    if not issues:
        issues = list(iter_semantic_issues(endpoint, model, body))
    return issues, refs


def start_task(em: Emulator, request: Request, *, endpoint: str, model: str, body: dict[str, Any],
               plan: models.OutputPlan, estimate: int, sources: list[dict[str, str]], task_id: str,
               prompt: str, meta: dict[str, Any] | None = None) -> tuple[Task, TaskFault | None] | Response:
    """Charge and queue a task (any endpoint's), with the fault its prompt or the fault book gives it.

    Returns the task and that fault, or the 400/429 the organization's balance or limits answer.
    """
    try:
        task = em.engine.create(endpoint=endpoint, model=model, body=body, plan=plan, estimate=estimate,
                                api_key=request.state.api_key, task_id=task_id)
    except LimitError as exc:
        return error(exc.status, str(exc))
    fault = _task_fault(em, model, prompt)
    task.meta = {"sources": sources, "router_endpoint": None, **(meta or {})}
    if fault is not None:
        task.fail_code, task.hang = fault.fail_code, fault.hang
        task.output_fault, task.redirect_to = fault.output, fault.redirect_to
        if fault.wire():
            task.meta["wire"] = fault.wire()
    em.store.save_task(task)
    return task, fault


async def generate(request: Request) -> Response:
    """``POST /v1/<endpoint>``: validate, charge and queue a generation task."""
    em = emulator_of(request)
    endpoint = request.url.path.removeprefix("/v1/")
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    by_model = models.request_schemas()[endpoint]
    model = body.get("model")
    if model not in by_model:
        return issues_response([model_issue(list(by_model), model)])
    issues, refs = validate_model_body(endpoint, model, body)
    if issues:
        return issues_response(issues)
    task_id = str(uuid.uuid4())
    try:
        sources = resolve_media(em, refs, model, task_id)
    except AssetError as exc:
        return error(400, str(exc))
    inputs = measure_inputs(endpoint, model, sources)
    plan = models.plan_output(endpoint, model, body, inputs)
    estimate = pricing.price(endpoint, model, body, inputs)
    started = start_task(em, request, endpoint=endpoint, model=model, body=body, plan=plan, estimate=estimate,
                         sources=sources, task_id=task_id, prompt=prompt_of(body))
    if isinstance(started, Response):
        return started
    task, fault = started
    created = {"id": task.id, "estimatedCost": {"credits": estimate}}
    if fault is not None and fault.create_reply:
        created.update(fault.create_reply)
    return JSONResponse(created)


# --- tasks ----------------------------------------------------------------------------------


async def task_detail(request: Request) -> Response:
    """``GET /v1/tasks/{id}`` (freshly signed output URLs) and ``DELETE`` (cancel or delete).

    In mock mode an unknown id is a fabricated finished task, and deleting one answers 204.
    """
    em = emulator_of(request)
    task_id = request.path_params["task_id"]
    mocking = em.config.mock_unknown_ids
    if not UUID.match(task_id) and not mocking:
        return error(404, "Task not found.")
    if request.method == "DELETE":
        if not em.engine.delete(task_id) and not mocking:
            return error(404, "Task not found.")
        return Response(status_code=204)
    task = em.engine.get(task_id) or (mock.task(task_id) if mocking else None)
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
    """The ``/v1`` routes of generations, tasks, uploads and the organization."""
    endpoints = [Route(f"/v1/{name}", generate, methods=["POST"]) for name in models.ENDPOINT_OUTPUT
                 if name not in models.ROUTER_ENDPOINTS]
    return [
        *endpoints,
        Route("/v1/tasks/{task_id}", task_detail, methods=["GET", "DELETE"]),
        Route("/v1/uploads", create_upload, methods=["POST"]),
        Route("/v1/organization", organization, methods=["GET"]),
        Route("/v1/organization/usage", organization_usage, methods=["POST"]),
    ]
