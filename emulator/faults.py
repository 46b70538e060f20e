"""Fault injection: HTTP faults matched by path and method, and per-task behaviours.

HTTP faults answer a request with an error status (optionally with ``Retry-After`` and
``x-should-retry``), add latency, or drop the connection — before the request is handled, or
after it (``"after": true``: the work is done, then the client sees the fault). Task faults
apply to the next tasks created and make them fail with a code, hang, or get expired or
redirecting output URLs. Prompts can ask for the same with magic words (see ``MAGIC``).
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_REDIRECT = "http://169.254.169.254/latest/meta-data/"
MAGIC = re.compile(r"\[(fail|hang|expire|redirect)(?::([^\]]+))?\]", re.IGNORECASE)
_ids = itertools.count(1)


@dataclass
class HttpFault:
    """A fault applied to matching requests, ``count`` times (None = until cleared)."""

    path: str = "*"
    method: str = "*"
    status: int | None = None
    retry_after: float | None = None
    should_retry: bool | None = None
    latency_ms: int = 0
    drop_connection: bool = False
    after: bool = False
    count: int | None = 1
    probability: float = 1.0
    error: str = "The service is temporarily unavailable."
    id: int = field(default_factory=lambda: next(_ids))

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        return (self.method in ("*", method.upper())
                and fnmatch.fnmatchcase(path, self.path))


@dataclass
class TaskFault:
    """A behaviour given to the next ``count`` tasks created (of one model, or any).

    Beyond failing, hanging and bad output URLs, a task can misbehave on the wire:
    ``reply`` overrides fields of every ``GET /v1/tasks/{id}`` answer (malformed values,
    ``null``, unknown statuses), ``reply_body`` replaces that answer's whole body with the
    given text, ``create_reply`` overrides fields of the create call's answer,
    ``outputs`` reports that many output URLs, ``output_bytes`` pads each output file
    to that size and ``bytes_per_second`` serves output files no faster than that.
    ``bad_replies`` limits ``reply``/``reply_body`` to that many answers, after which the
    task answers normally (a passing hiccup rather than a task that is never readable).
    """

    fail_code: str | None = None
    hang: bool = False
    output: str | None = None
    redirect_to: str = DEFAULT_REDIRECT
    reply: dict[str, Any] | None = None
    reply_body: str | None = None
    create_reply: dict[str, Any] | None = None
    outputs: int | None = None
    output_bytes: int | None = None
    bytes_per_second: int | None = None
    bad_replies: int | None = None
    model: str = "*"
    count: int | None = 1
    id: int = field(default_factory=lambda: next(_ids))

    def wire(self) -> dict[str, Any]:
        """The wire misbehaviours to keep on the task (only those that are set)."""
        names = ("reply", "reply_body", "create_reply", "outputs", "output_bytes", "bytes_per_second",
                 "bad_replies")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


HTTP_FIELDS = set(HttpFault.__dataclass_fields__) - {"id"}
TASK_FIELDS = set(TaskFault.__dataclass_fields__) - {"id"}


class FaultBook:
    """The active faults; thread-safe because the server and control calls share it."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self.http: list[HttpFault] = []
        self.task: list[TaskFault] = []
        self._random = random.Random(seed)

    def add(self, spec: dict[str, Any]) -> HttpFault | TaskFault:
        """Register a fault from its JSON form; a ``task`` key makes it a task fault."""
        if "task" in spec:
            data = dict(spec["task"])
            data.setdefault("count", spec.get("count", 1))
            unknown = set(data) - TASK_FIELDS
            if unknown:
                raise ValueError(f"unknown task fault field(s): {sorted(unknown)}")
            fault: HttpFault | TaskFault = TaskFault(**data)
            with self._lock:
                self.task.append(fault)
            return fault
        unknown = set(spec) - HTTP_FIELDS
        if unknown:
            raise ValueError(f"unknown fault field(s): {sorted(unknown)}")
        fault = HttpFault(**spec)
        if fault.status is None and not fault.latency_ms and not fault.drop_connection:
            raise ValueError("a fault needs a status, latency_ms or drop_connection")
        with self._lock:
            self.http.append(fault)
        return fault

    def take_http(self, method: str, path: str) -> HttpFault | None:
        """Consume one use of the first HTTP fault matching a request, if any."""
        with self._lock:
            for fault in self.http:
                if not fault.matches(method, path):
                    continue
                if fault.probability < 1.0 and self._random.random() >= fault.probability:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.http.remove(fault)
                return fault
        return None

    def take_task(self, model: str) -> TaskFault | None:
        """Consume one use of the first task fault for a model, if any."""
        with self._lock:
            for fault in self.task:
                if fault.model not in ("*", model):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.task.remove(fault)
                return fault
        return None

    def roll(self, rate: float) -> bool:
        """True with probability ``rate`` (for the process-wide random faults)."""
        return rate > 0 and self._random.random() < rate

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self.http.clear()
            self.task.clear()

    def describe(self) -> list[dict[str, Any]]:
        """The active faults in JSON form."""
        with self._lock:
            return ([{"kind": "http", **asdict(f)} for f in self.http]
                    + [{"kind": "task", **asdict(f)} for f in self.task])


def magic_words(text: str) -> TaskFault | None:
    """Read ``[fail:CODE]``, ``[hang]``, ``[expire]`` or ``[redirect(:URL)]`` from a prompt."""
    fault = TaskFault(count=None)
    found = False
    for word, arg in MAGIC.findall(text):
        found = True
        word = word.lower()
        if word == "fail":
            fault.fail_code = (arg or "INTERNAL.BAD_OUTPUT.CODE01").strip()
        elif word == "hang":
            fault.hang = True
        elif word == "expire":
            fault.output = "expired"
        else:
            fault.output = "redirect"
            fault.redirect_to = arg.strip() if arg else DEFAULT_REDIRECT
    return fault if found else None
