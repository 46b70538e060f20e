"""The emulator runtime: its configuration and the state every route shares."""

from __future__ import annotations

import asyncio
import secrets
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import resources
from .clock import Clock
from .engine import Engine
from .faults import FaultBook
from .media import RenderSettings
from .records import Records
from .state import LedgerEntry, Record, Task, Upload
from .store import Store

DAY = 86_400


@dataclass
class EmulatorConfig:
    """Everything the emulator can be started with; ``python -m emulator`` maps flags onto it."""

    host: str = "127.0.0.1"
    port: int = 8765
    speed: float = 1.0
    credits: int = 10_000
    data: Path | None = None
    api_keys: list[str] | None = None
    output_ttl: float = DAY
    upload_ttl: float = DAY
    public_base_url: str | None = None
    tier: int = 1
    frozen_clock: bool = False
    render: bool = True
    max_video_side: int = 640
    max_image_side: int = 1024
    fps: int = 12
    require_version: bool = True
    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    fail_rate: float = 0.0
    faults: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    mock_unknown_ids: bool = False  # contract-test mode: unknown ids resolve to fabricated objects (mock.py)

    @property
    def base_url(self) -> str:
        """The URL prefix put in output and upload URLs."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")


class Emulator:
    """Runtime state shared by every route: clock, engine, uploads, faults and counters."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(config.data)
        self.lock = threading.RLock()
        self.render_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.settings = RenderSettings(config.max_video_side, config.max_image_side, config.fps,
                                       placeholder=not config.render)
        self.render_seconds = 0.0
        self._boot()

    def _boot(self) -> None:
        config = self.config
        self.clock = Clock(frozen=config.frozen_clock)
        self.engine = Engine(self.clock, self.store, speed=config.speed, credits=config.credits,
                             tier=config.tier)
        self.faults = FaultBook(config.seed)
        for spec in config.faults:
            self.faults.add(dict(spec))
        self.uploads: dict[str, Upload] = {}
        self.records = Records(self.store, self.clock)
        self.requests: dict[str, int] = defaultdict(int)
        self.url_epoch = 0
        self.secret = secrets.token_hex(16)
        self._restore()

    def _restore(self) -> None:
        saved = self.store.load()
        meta = saved["meta"]
        if "secret" in meta:
            self.secret = meta["secret"]
        else:
            self.store.save_meta("secret", self.secret)
        engine = self.engine
        engine.balance = meta.get("balance", engine.balance)
        engine.tier = meta.get("tier", engine.tier)
        engine.speed = meta.get("speed", engine.speed)
        engine.limit_overrides = meta.get("limit_overrides", {})
        self.clock.offset = meta.get("clock_offset", 0.0)
        self.url_epoch = meta.get("url_epoch", 0)
        engine.created_per_model.update(meta.get("created_per_model", {}))
        self.requests.update(meta.get("requests", {}))
        for row in sorted(saved["tasks"], key=lambda r: r["created_at"]):
            engine.adopt(Task(**row))
        for row in saved["uploads"]:
            upload = Upload(**row)
            self.uploads[upload.id] = upload
        for row in sorted(saved["records"], key=lambda r: r["seq"]):
            self.records.adopt(Record(**row))
        engine.ledger = [LedgerEntry(*row) for row in saved["ledger"]]
        if not meta.get("routers_seeded"):
            self._seed_routers()

    def _seed_routers(self) -> None:
        """Save the routers the emulator starts with, once per data file (a deleted one stays deleted)."""
        for slug, settings in resources.SEEDED_ROUTERS:
            router_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"runway-emulator/routers/{slug}"))
            self.records.add("router", {"slug": slug, "name": slug, "description": None, "version": 1,
                                        "settings": resources.router_settings(settings)}, record_id=router_id)
        self.store.save_meta("routers_seeded", True)

    def processing_seconds(self, kind: str) -> float:
        """How long a new voice or avatar stays PROCESSING at the current clock speed."""
        return resources.PROCESSING_SECONDS[kind] * self.engine.speed

    def reset(self) -> None:
        """Forget all state and return to the configured starting point."""
        with self.lock:
            self.store.clear()
            self._boot()

    def save_settings(self) -> None:
        """Persist the organization settings changed through the control API."""
        engine = self.engine
        for key, value in (("balance", engine.balance), ("tier", engine.tier),
                           ("speed", engine.speed), ("limit_overrides", engine.limit_overrides),
                           ("clock_offset", self.clock.offset), ("url_epoch", self.url_epoch)):
            self.store.save_meta(key, value)

    def count(self, key: str) -> None:
        """Count one request under its route template."""
        self.requests[key] += 1

    def close(self) -> None:
        """Persist counters and release files."""
        if self.store.persistent:
            self.store.save_meta("requests", dict(self.requests))
            self.save_settings()
        self.store.close()
