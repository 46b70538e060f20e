"""Run the emulator in a background thread for test suites, and drive its control API."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .runtime import EmulatorConfig


class Control:
    """A thin client for the ``/_emulator`` control endpoints."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=30)

    def _post(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.post(f"/_emulator/{path}", json=payload or {})
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        """Counts of tasks, uploads and requests, balance, tier, speed, clock and faults."""
        response = self._http.get("/_emulator/state")
        response.raise_for_status()
        return response.json()

    def charges(self) -> list[dict[str, Any]]:
        """Every task ever created, oldest first: its estimate, the net credits charged for it,
        and ``replyFaulted`` when the create call's answer was replaced by an injected fault."""
        response = self._http.get("/_emulator/charges")
        response.raise_for_status()
        return response.json()

    def reset(self) -> dict[str, Any]:
        """Forget every task, upload, usage record, fault and counter."""
        return self._post("reset")

    def set_balance(self, credits: int) -> dict[str, Any]:
        """Set the organization's credit balance."""
        return self._post("balance", {"credits": credits})

    def set_speed(self, speed: float) -> dict[str, Any]:
        """Set the clock speed: 1 realistic task durations, 0 instant."""
        return self._post("speed", {"speed": speed})

    def set_tier(self, tier: int, models: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
        """Set the usage tier, optionally overriding per-model limits."""
        return self._post("tier", {"tier": tier, "models": models or {}})

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the emulator's clock forward."""
        return self._post("clock", {"advance": seconds})

    def freeze_clock(self, frozen: bool = True) -> dict[str, Any]:
        """Stop (or restart) the emulator's clock."""
        return self._post("clock", {"frozen": frozen})

    def inject_fault(self, **spec: Any) -> dict[str, Any]:
        """Add an HTTP fault (``status``, ``path``, ``count``…) or, with ``task=``, a task fault."""
        return self._post("faults", spec)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._http.delete("/_emulator/faults").raise_for_status()

    def expire_outputs(self) -> dict[str, Any]:
        """Make every output URL handed out so far answer 403."""
        return self._post("expire_outputs")

    def seed_task(self, **spec: Any) -> dict[str, Any]:
        """Create a task with a chosen ``id``, ``status``, ``model`` and details."""
        return self._post("tasks", spec)

    def close(self) -> None:
        """Close the underlying HTTP client."""
        self._http.close()


class EmulatorServer:
    """The emulator under uvicorn on 127.0.0.1, on a free port, in a background thread."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        base = config or EmulatorConfig()
        overrides.setdefault("port", 0)
        self._config = dataclasses.replace(base, host="127.0.0.1", **overrides)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app: Starlette | None = None
        self.url = ""
        self.control: Control | None = None

    def start(self) -> EmulatorServer:
        """Bind a free port, start serving and return once the server accepts requests."""
        # IPPROTO_TCP matters: asyncio only turns Nagle off on sockets created with it, and
        # without TCP_NODELAY every keep-alive request waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self._config.port))
        port = sock.getsockname()[1]
        config = dataclasses.replace(self._config, port=port)
        self.url = f"http://127.0.0.1:{port}"
        if config.public_base_url is None:
            config = dataclasses.replace(config, public_base_url=self.url)
        self.app = create_app(config)
        server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on",
                                               timeout_graceful_shutdown=1))
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name="runway-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.005)
        self.control = Control(self.url)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self.control is not None:
            self.control.close()
            self.control = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
