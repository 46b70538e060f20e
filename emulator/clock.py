"""The emulator's clock: wall time plus an offset, optionally frozen for deterministic tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Epoch seconds that tests can freeze and move forward by hand."""

    def __init__(self, frozen: bool = False, offset: float = 0.0) -> None:
        self.offset = offset
        self.frozen = frozen
        self._frozen_at = time.time()

    def now(self) -> float:
        """Current emulated time in epoch seconds."""
        base = self._frozen_at if self.frozen else time.time()
        return base + self.offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never back) and return the new time."""
        self.offset += max(0.0, seconds)
        return self.now()

    def freeze(self, frozen: bool) -> None:
        """Stop or restart the clock without a jump in emulated time."""
        if frozen == self.frozen:
            return
        current = self.now()
        self.frozen = frozen
        self._frozen_at = time.time()
        self.offset = current - self._frozen_at


def iso(ts: float) -> str:
    """Format epoch seconds the way the API does: ``2024-06-27T19:49:32.334Z``."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day(ts: float) -> str:
    """The UTC calendar day of a timestamp, ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
