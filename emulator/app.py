"""The Starlette application: gateway middleware, routes and lifespan around the runtime."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import HttpFault
from .models import API_VERSION, TASK_ENDPOINTS
from .routes import api, avatars, control, files, routers, voices
from .runtime import Emulator, EmulatorConfig

DEFAULT_RETRY_AFTER = 2.0  # seconds, on a 429 fault that names none


class DroppedConnection(Exception):
    """Raised mid-response to cut the connection, as an injected fault."""


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A JSON error body in the API's shape."""
    return JSONResponse({"error": message, **extra}, status_code=status)


def _route_key(routes: list[BaseRoute], scope: Scope) -> str:
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL and isinstance(route, Route):
            return f"{scope['method']} {route.path}"
    return f"{scope['method']} {scope['path']}"


class GatewayMiddleware:
    """Counts requests, applies injected faults, and checks auth and version on ``/v1``."""

    def __init__(self, app: ASGIApp, emulator: Emulator, routes: list[BaseRoute]) -> None:
        self.app = app
        self.emulator = emulator
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        em = self.emulator
        path, method = scope["path"], scope["method"]
        em.count(_route_key(self.routes, scope))
        fault = em.faults.take_http(method, path)
        config = em.config
        if fault is None and path.startswith("/v1/") and em.faults.roll(config.error_rate):
            fault = HttpFault(status=config.error_status, count=None)
        delay = (fault.latency_ms if fault else 0) + config.latency_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        if fault and not fault.after and (fault.status or fault.drop_connection):
            await self._fault_response(fault, scope, receive, send)
            return
        if path.startswith("/v1/"):
            refusal = self._check_headers(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        if fault and fault.after and (fault.status or fault.drop_connection):
            unseen = _Unseen()
            await self.app(scope, receive, unseen)
            _mark_lost_create(em, scope, unseen, fault)
            await self._fault_response(fault, scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check_headers(self, scope: Scope) -> Response | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        keys = self.emulator.config.api_keys
        if scheme.lower() != "bearer" or not token.strip():
            return error(401, "Missing or malformed API key. Send 'Authorization: Bearer <key>'.")
        if keys is not None and token.strip() not in keys:
            return error(401, "Invalid API key.")
        scope.setdefault("state", {})["api_key"] = token.strip()
        version = headers.get("x-runway-version")
        if self.emulator.config.require_version and version != API_VERSION:
            return error(400, f"The X-Runway-Version header is required and must be "
                              f"'{API_VERSION}'. Got {version!r}.")
        return None

    async def _fault_response(self, fault: HttpFault, scope: Scope, receive: Receive,
                              send: Send) -> None:
        if fault.drop_connection:
            # Cut off part-way through a body of the route's own kind: JSON for the API,
            # media bytes for output files.
            media = scope["path"].startswith("/_files/")
            kind, start = (b"application/octet-stream", b"\x00" * 64) if media else (b"application/json", b'{"id": ')
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", kind), (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": start, "more_body": True})
            raise DroppedConnection("connection dropped by an injected fault")
        headers: dict[str, str] = {}
        status = int(fault.status or 500)
        retry_after = fault.retry_after
        if retry_after is None and status == 429:
            retry_after = DEFAULT_RETRY_AFTER  # Runway's rate limits always say when to come back
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        if fault.should_retry is not None:
            headers["x-should-retry"] = "true" if fault.should_retry else "false"
        body = {"error": fault.error if status != 429 else "Too many requests. Try again later."}
        await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)


class _Unseen:
    """Takes the response a fault replaces, so the client never sees it; keeps status and body."""

    def __init__(self) -> None:
        self.status = 0
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


def _mark_lost_create(em: Emulator, scope: Scope, unseen: _Unseen, fault: HttpFault) -> None:
    """A create call whose task was made but whose answer a fault replaced: mark the task.

    The client never learned the task's id; the control API's charges list says so.
    """
    endpoint = scope["path"].removeprefix("/v1/")
    if scope["method"] != "POST" or endpoint not in TASK_ENDPOINTS or unseen.status != 200:
        return
    try:
        created = json.loads(bytes(unseen.body))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    task_id = created.get("id") if isinstance(created, dict) else None
    task = em.engine.tasks.get(task_id) if isinstance(task_id, str) else None
    if task is None:
        return
    task.meta["reply_fault"] = ({"dropped": True} if fault.drop_connection
                                else {"status": int(fault.status or 500)})
    em.store.save_task(task)


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return error(405, f"Method {request.method} is not allowed on {request.url.path}.")
    return error(status, "Not found." if status == 404 else "Internal error.")


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """Build the emulator's Starlette app (its runtime state is ``app.state.emulator``)."""
    config = config or EmulatorConfig()
    emulator = Emulator(config)
    routes = [*api.routes(), *routers.routes(), *voices.routes(), *avatars.routes(), *files.routes(),
              *control.routes()]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        emulator.close()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(GatewayMiddleware, emulator=emulator, routes=routes)],
        exception_handlers={HTTPException: _not_found},
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    return app
