"""``/v1/routers`` (Model Router configurations and their routing history) and ``/v1/generate/*``.

A router is saved settings under an immutable slug; ``generate/{video,image,audio}`` names it as
``configId`` and ``router.py`` picks the model. The task is that model's own task, charged that
model's price, and every live request is recorded in the router's history: routed, no eligible
model, invalid (a body the router refuses) or error (refused by balance or limits).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import media, mock, models, resources
from ..clock import iso
from ..inputs import locate
from ..router import Decision, Draft, decide, image_tier
from ..runtime import Emulator
from ..state import Record
from ..validation import AssetError, Issue
from .api import (
    emulator_of,
    error,
    issues_response,
    list_page,
    prompt_of,
    read_object,
    record_detail,
    start_task,
    validate_model_body,
    validated,
)

NOT_FOUND = "Router not found."


def router_json(router: Record) -> dict[str, Any]:
    """The wire form of a router."""
    fields = router.fields
    return {"id": router.id, "createdAt": iso(router.created_at), "updatedAt": iso(router.updated_at),
            "description": fields.get("description"), "name": fields["name"], "settings": fields["settings"],
            "slug": fields["slug"], "version": fields["version"]}


def request_json(record: Record) -> dict[str, Any]:
    """The wire form of one recorded routing decision."""
    return {"id": record.id, "createdAt": iso(record.created_at),
            **{k: v for k, v in record.fields.items() if k != "routerId"}}


def _unknown_models(em: Emulator, settings: dict[str, Any] | None) -> list[Issue]:
    """"Each id must be a known public video or image model name (unknown ids are rejected)"; in mock
    mode an unknown model id is taken like any unknown id (it never matches a candidate)."""
    if em.config.mock_unknown_ids:
        return []
    ids = ((settings or {}).get("models") or {}).get("ids", [])
    known = models.all_models()
    return [Issue("custom", ["settings", "models", "ids", n], f"Unknown model '{model_id}'.")
            for n, model_id in enumerate(ids) if model_id not in known]


async def create(request: Request) -> Response:
    """``POST /v1/routers``: save a router under a new slug."""
    em = emulator_of(request)
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    _, refusal = validated(resources.schemas()["routers.create"], body)
    if refusal is not None:
        return refusal
    unknown = _unknown_models(em, body.get("settings"))
    if unknown:
        return issues_response(unknown)
    if em.records.live("router", slug=body["slug"]) and not em.config.mock_unknown_ids:
        # In mock mode slugs may repeat (a generated suite creates the same one in every test); the newest wins.
        return error(409, f"A router with slug '{body['slug']}' already exists.")
    fields = {"slug": body["slug"], "name": body.get("name", body["slug"]), "description": body.get("description"),
              "settings": resources.router_settings(body.get("settings")), "version": 1}
    return JSONResponse(router_json(em.records.add("router", fields)))


async def listing(request: Request) -> Response:
    """``GET /v1/routers?limit&cursor``: the saved routers, newest first, by cursor pages."""
    em = emulator_of(request)
    return list_page(em, request, em.records.live("router"), router_json)


async def _update(em: Emulator, request: Request, router: Record) -> Response:
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    _, refusal = validated(resources.schemas()["routers.update"], body)
    if refusal is not None:
        return refusal
    unknown = _unknown_models(em, body.get("settings"))
    if unknown:
        return issues_response(unknown)
    fields = router.fields
    fields.update({k: body[k] for k in ("name", "description") if k in body})
    if "settings" in body:
        merged = resources.merge_settings(fields["settings"], body["settings"])
        if merged != fields["settings"]:  # "Settings changes append a new version"
            fields["settings"], fields["version"] = merged, fields["version"] + 1
    if not mock.is_fabricated(router):
        em.records.save(router)
    return JSONResponse(router_json(router))


def _router(em: Emulator, request: Request) -> Record | None:
    return mock.lookup(em.records, "router", request.path_params["router_id"], em.config.mock_unknown_ids)


async def detail(request: Request) -> Response:
    """``GET``, ``PATCH`` (settings merged and versioned) and ``DELETE /v1/routers/{id}``."""
    return await record_detail(request, "router", "router_id", missing=NOT_FOUND,
                               show=lambda em, router: router_json(router), update=_update)


async def requests(request: Request) -> Response:
    """``GET /v1/routers/{id}/requests?limit&cursor``: the router's routing history, newest first."""
    em = emulator_of(request)
    router = _router(em, request)
    if router is None:
        return error(404, NOT_FOUND)
    history = em.records.live("router_request", routerId=router.id)
    if not history and mock.is_fabricated(router):
        history = [mock.router_request(router)]
    return list_page(em, request, history, request_json)


# --- generate ---------------------------------------------------------------------------------


def _record(em: Emulator, router: Record, status: str, decision: Decision | None = None,
            task_id: str | None = None) -> None:
    """Add a request to the router's history."""
    chosen = decision.chosen if decision and status == "routed" else None
    em.records.add("router_request", {
        "routerId": router.id, "requestId": str(uuid.uuid4()), "status": status,
        "model": chosen.model if chosen else None, "provider": chosen.candidate.provider if chosen else None,
        "taskId": task_id, "estimatedCredits": chosen.estimate if chosen else None,
        "pipeline": decision.pipeline if decision else [], "emptiedBy": decision.emptied_by if decision else [],
        "reason": decision.reason if chosen else None, "reasonCode": decision.reason_code if chosen else None})


def _resolved_input(endpoint: str, data: dict[str, Any], chosen: Draft, plan: models.OutputPlan) -> dict[str, Any]:
    """What the answer says the request was read as, defaults filled in."""
    ratio = chosen.body.get("ratio") or f"{plan.width}:{plan.height}"
    if endpoint == "generate/video":
        return {"duration": plan.seconds, "ratio": ratio, "resolution": data.get("resolution", "720p")}
    if endpoint == "generate/image":
        return {"aspectRatio": data.get("aspectRatio", "1:1"), "ratio": ratio,
                "resolution": image_tier(ratio, data.get("resolution"))}
    voice = data.get("voice")
    kind = "none" if data["type"] == "audio" else voice["type"] if voice else "default"
    return {"type": data["type"], "voice": kind}


def _local_media(em: Emulator, refs: list, task_id: str) -> tuple[dict[str, Path | None], dict[str, dict]]:
    """The file behind each media string of the request (None when not held), and each probed once."""
    local = {ref.value: locate(em, ref, task_id, n) for n, ref in enumerate(refs)}
    kinds = {ref.value: ref.kind for ref in refs}
    facts = {str(path): media.probe(path) for value, path in local.items()
             if path is not None and kinds[value] in ("video", "audio")}
    return local, facts


async def generate(request: Request) -> Response:
    """``POST /v1/generate/{video,image,audio}``: route the request under a saved router and start the
    chosen model's task."""
    em = emulator_of(request)
    endpoint = request.url.path.removeprefix("/v1/")
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    issues, refs = validate_model_body(endpoint, "router", body)
    slug = body.get("configId")
    saved = em.records.live("router", slug=slug) if isinstance(slug, str) else []
    router = saved[0] if saved else None
    if issues:
        if router is not None:
            _record(em, router, "invalid_request")
        return issues_response(issues)
    if router is None and em.config.mock_unknown_ids:
        router = mock.router_for_slug(slug)
    if router is None:
        return error(404, f"Router config '{slug}' was not found.", code="router_config_not_found")
    task_id = str(uuid.uuid4())
    try:
        local, facts = _local_media(em, refs, task_id)
    except AssetError as exc:
        _record(em, router, "invalid_request")
        return error(400, str(exc))
    settings = router.fields["settings"]
    decision = decide(endpoint, body["input"], settings, local, facts, em.engine.at_capacity,
                      last_resort=mock.is_fabricated(router))
    if decision.chosen is None:
        _record(em, router, "no_eligible_model", decision)
        return error(400, "No model satisfies the router configuration.", code="no_eligible_model",
                     pipeline=decision.pipeline, emptiedBy=decision.emptied_by)
    chosen = decision.chosen
    plan = models.plan_output(chosen.endpoint, chosen.model, chosen.body, chosen.measured)
    started = start_task(em, request, endpoint=chosen.endpoint, model=chosen.model, body=chosen.body, plan=plan,
                         estimate=chosen.estimate, sources=chosen.sources, task_id=task_id,
                         prompt=prompt_of(chosen.body), meta={"router_endpoint": endpoint})
    if isinstance(started, Response):
        _record(em, router, "error", decision)
        return started
    _record(em, router, "routed", decision, task_id)
    routing = {"configId": slug, "model": chosen.model, "provider": chosen.candidate.provider,
               "estimatedCost": {"credits": chosen.estimate},
               "resolvedSettings": {"optimizeFor": settings.get("optimizeFor", "cost"),
                                    "priceCeiling": (settings.get("maxCreditsPerGeneration") or {}).get(
                                        models.ENDPOINT_OUTPUT[endpoint])},
               "resolvedInput": _resolved_input(endpoint, body["input"], chosen, plan)}
    if decision.capacity is not None:
        routing["capacityFallback"] = decision.capacity
    return JSONResponse({"id": task_id, "routing": routing})


def routes() -> list[Route]:
    """The router routes and the three generate endpoints."""
    return [
        Route("/v1/routers", create, methods=["POST"]),
        Route("/v1/routers", listing, methods=["GET"]),
        Route("/v1/routers/{router_id}", detail, methods=["GET", "PATCH", "DELETE"]),
        Route("/v1/routers/{router_id}/requests", requests, methods=["GET"]),
        *(Route(f"/v1/{name}", generate, methods=["POST"]) for name in models.ROUTER_ENDPOINTS),
    ]
