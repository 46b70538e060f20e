"""The emulator's plain data records: tasks, credit ledger entries, uploads and the other API objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


@dataclass
class Task:
    """One generation task and everything needed to derive its state at any time."""

    id: str
    endpoint: str
    model: str
    created_at: float
    estimate: int
    plan: dict[str, Any]
    body: dict[str, Any]
    queued_at: float | None = None
    status: str = "THROTTLED"
    finished_at: float | None = None
    cost: int | None = None
    hang: bool = False
    fail_code: str | None = None
    output_fault: str | None = None
    redirect_to: str | None = None
    api_key: str = ""
    deleted: bool = False
    seeded: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """Output kind: video, image or audio."""
        return str(self.plan["kind"])

    def output_names(self) -> list[str]:
        """File names of the task's outputs, ``<index>.<ext>``."""
        ext = self.plan.get("ext") or {"jpeg": "jpg"}.get(self.plan["fmt"], self.plan["fmt"])
        return [f"{i}.{ext}" for i in range(int(self.plan["count"]))]


@dataclass
class LedgerEntry:
    """A credit movement: positive charges, negative refunds."""

    at: float
    model: str
    amount: int
    task_id: str


@dataclass
class Upload:
    """An ephemeral upload slot and, once the bytes arrive, the stored file."""

    id: str
    filename: str
    created_at: float
    token: str
    size: int = 0
    content_type: str = ""
    received: bool = False


@dataclass
class Record:
    """A stored API object that is not a task: a voice, an avatar, a router, a routing request or a
    voice preview.

    ``fields`` holds what the object says of itself (wire names); ``seq`` orders lists newest first
    even when the clock stands still. A voice or avatar is PROCESSING until ``ready_at`` on the
    emulator clock, then READY, or FAILED with ``failure`` as its reason.
    """

    kind: str
    id: str
    seq: int
    created_at: float
    updated_at: float
    fields: dict[str, Any] = field(default_factory=dict)
    ready_at: float = 0.0
    failure: str | None = None
    deleted: bool = False
