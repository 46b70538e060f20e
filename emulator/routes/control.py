"""The control API under ``/_emulator``: state, reset, balance, clock, tier, faults, seeding, charges."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import models, pricing
from ..clock import iso
from ..runtime import Emulator
from ..state import TERMINAL, Task
from . import files

SEEDABLE = ("PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED")


def _em(request: Request) -> Emulator:
    return request.app.state.emulator


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def summary(em: Emulator) -> dict[str, Any]:
    """Everything a test may want to assert about the emulator's state."""
    engine = em.engine
    return {
        **engine.counts(),
        "uploads": len(em.uploads),
        "uploads_received": sum(u.received for u in em.uploads.values()),
        "records": em.records.counts(),
        "requests": dict(em.requests),
        "credit_balance": engine.balance,
        "tier": engine.tier,
        "speed": engine.speed,
        "clock": {"now": iso(em.clock.now()), "epoch": em.clock.now(), "frozen": em.clock.frozen},
        "render_seconds": round(em.render_seconds, 3),
        "faults": em.faults.describe(),
    }


async def state(request: Request) -> Response:
    """``GET /_emulator/state``."""
    return JSONResponse(summary(_em(request)))


async def reset(request: Request) -> Response:
    """``POST /_emulator/reset``: forget tasks, uploads, voices, avatars, routers, usage, faults and counters."""
    em = _em(request)
    em.reset()
    return JSONResponse(summary(em))


async def balance(request: Request) -> Response:
    """``POST /_emulator/balance`` ``{"credits": int}``."""
    em = _em(request)
    credits = (await _body(request)).get("credits")
    if not isinstance(credits, int) or isinstance(credits, bool) or credits < 0:
        return _bad("credits must be a non-negative integer")
    em.engine.balance = credits
    em.save_settings()
    return JSONResponse({"creditBalance": credits})


async def speed(request: Request) -> Response:
    """``POST /_emulator/speed`` ``{"speed": float}`` (1 realistic, 0 instant)."""
    em = _em(request)
    value = (await _body(request)).get("speed")
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        return _bad("speed must be a non-negative number")
    em.engine.tick()
    em.engine.speed = float(value)
    em.save_settings()
    return JSONResponse({"speed": em.engine.speed})


async def tier(request: Request) -> Response:
    """``POST /_emulator/tier`` ``{"tier": 1-5, "models": {model: {limit: int}}}``."""
    em = _em(request)
    data = await _body(request)
    value = data.get("tier", em.engine.tier)
    if value not in models.TIERS:
        return _bad(f"tier must be one of {sorted(models.TIERS)}")
    overrides = data.get("models", {})
    if not isinstance(overrides, dict):
        return _bad("models must map model names to limits")
    em.engine.tier = value
    em.engine.limit_overrides = {str(k): dict(v) for k, v in overrides.items()}
    em.engine.tick()
    em.save_settings()
    return JSONResponse({"tier": value, "models": em.engine.limit_overrides})


async def clock(request: Request) -> Response:
    """``POST /_emulator/clock`` ``{"advance": seconds, "frozen": bool}``."""
    em = _em(request)
    data = await _body(request)
    if "frozen" in data:
        em.clock.freeze(bool(data["frozen"]))
    advance = data.get("advance", 0)
    if not isinstance(advance, int | float) or advance < 0:
        return _bad("advance must be a non-negative number of seconds")
    em.clock.advance(float(advance))
    em.engine.tick()
    em.save_settings()
    return JSONResponse({"now": iso(em.clock.now()), "epoch": em.clock.now(),
                         "frozen": em.clock.frozen})


async def faults(request: Request) -> Response:
    """``GET``/``POST``/``DELETE /_emulator/faults``: list, add or clear faults."""
    em = _em(request)
    if request.method == "GET":
        return JSONResponse({"faults": em.faults.describe()})
    if request.method == "DELETE":
        em.faults.clear()
        return JSONResponse({"faults": []})
    try:
        fault = em.faults.add(await _body(request))
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return JSONResponse(asdict(fault))


async def expire_outputs(request: Request) -> Response:
    """``POST /_emulator/expire_outputs``: every output URL handed out so far stops working."""
    em = _em(request)
    em.url_epoch += 1
    em.save_settings()
    return JSONResponse({"url_epoch": em.url_epoch})


async def seed_task(request: Request) -> Response:
    """``POST /_emulator/tasks``: create a task with a chosen id and state."""
    em = _em(request)
    data = await _body(request)
    status = data.get("status", "SUCCEEDED")
    endpoint = data.get("endpoint", "image_to_video")
    if status not in SEEDABLE:
        return _bad(f"status must be one of {SEEDABLE}")
    if endpoint not in models.ENDPOINT_OUTPUT or endpoint in models.ROUTER_ENDPOINTS:
        return _bad("endpoint must be a generation endpoint")
    model = data.get("model") or next(iter(models.request_schemas()[endpoint]))
    task_id = str(data.get("id") or uuid.uuid4())
    if task_id in em.engine.tasks:
        return _bad(f"task {task_id} already exists")
    body = {k: data[k] for k in ("promptText", "ratio", "duration", "outputCount") if k in data}
    plan = models.plan_output(endpoint, model, body)
    estimate = int(data.get("estimate", pricing.price(endpoint, model, body, {})))
    now = em.clock.now()
    task = Task(id=task_id, endpoint=endpoint, model=model, created_at=now, estimate=estimate,
                plan=asdict(plan), body=body, seeded=True, status=status,
                fail_code=data.get("failure_code"), output_fault=data.get("output"),
                redirect_to=data.get("redirect_to"))
    if status in TERMINAL:
        task.finished_at = now
        task.cost = int(data.get("cost", estimate if status == "SUCCEEDED" else 0))
        if status == "FAILED":
            task.fail_code = task.fail_code or "INTERNAL.BAD_OUTPUT.CODE01"
    else:
        task.meta["pinned"] = {"status": status, "progress": float(data.get("progress", 0.5))}
    em.engine.adopt(task)
    em.store.save_task(task)
    outputs = [files.sign_output(em, task, n) for n in task.output_names()]
    return JSONResponse(em.engine.task_json(task, outputs))


def reply_fault(task: Task) -> dict[str, Any] | None:
    """How the answer to the task's create call was not the normal success body, if it wasn't.

    An HTTP fault ``"after": true`` replaced it (the gateway marks the task), or a task
    fault's ``create_reply`` overrode fields of it (the router's answers never take one).
    """
    replaced = task.meta.get("reply_fault")
    if replaced:
        return dict(replaced)
    override = (task.meta.get("wire") or {}).get("create_reply")
    if override and not task.meta.get("router_endpoint"):
        return {"fields": sorted(override)}
    return None


def _ledger_order(em: Emulator) -> dict[str, int]:
    order: dict[str, int] = {}
    for number, entry in enumerate(em.engine.ledger):
        order.setdefault(entry.task_id, number)
    return order


async def charges(request: Request) -> Response:
    """``GET /_emulator/charges``: every task ever created (deleted ones too), oldest first, with
    its estimate, Runway's cost, the net credits charged and whether its create answer was faulted."""
    em = _em(request)
    net = em.engine.charges()
    order = _ledger_order(em)
    tasks = sorted(em.engine.tasks.values(),
                   key=lambda t: (t.created_at, order.get(t.id, len(order))))
    items = []
    for task in tasks:
        fault = reply_fault(task)
        items.append({
            "id": task.id, "model": task.model, "endpoint": task.endpoint,
            "status": em.engine.status_of(task)[0], "deleted": task.deleted, "seeded": task.seeded,
            "createdAt": iso(task.created_at), "estimate": task.estimate, "cost": task.cost,
            "charged": net.get(task.id, 0), "replyFaulted": fault is not None, "replyFault": fault,
        })
    return JSONResponse(items)


def routes() -> list[Route]:
    """The control routes."""
    return [
        Route("/_emulator/state", state, methods=["GET"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/balance", balance, methods=["POST"]),
        Route("/_emulator/speed", speed, methods=["POST"]),
        Route("/_emulator/tier", tier, methods=["POST"]),
        Route("/_emulator/clock", clock, methods=["POST"]),
        Route("/_emulator/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_emulator/expire_outputs", expire_outputs, methods=["POST"]),
        Route("/_emulator/tasks", seed_task, methods=["POST"]),
        Route("/_emulator/charges", charges, methods=["GET"]),
    ]
