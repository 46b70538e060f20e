"""The generation state machine, declared: which status may follow which.

QUEUED → UPLOADING → SUBMITTING → PENDING/THROTTLED/RUNNING → COPYING → SUCCEEDED,
with FAILED and CANCELLED as the other ends. `Generation.transition` refuses any
move this table does not list, so a step can only make the moves written here.
"""

from __future__ import annotations

from django.db import models


class Status(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    UPLOADING = "UPLOADING", "Uploading inputs"
    SUBMITTING = "SUBMITTING", "Submitting"
    PENDING = "PENDING", "Waiting at Runway"
    THROTTLED = "THROTTLED", "In Runway's queue"
    RUNNING = "RUNNING", "Generating"
    COPYING = "COPYING", "Saving output"
    SUCCEEDED = "SUCCEEDED", "Done"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


IN_FLIGHT = (Status.QUEUED, Status.UPLOADING, Status.SUBMITTING, Status.PENDING, Status.THROTTLED,
             Status.RUNNING, Status.COPYING)
AT_RUNWAY = (Status.PENDING, Status.THROTTLED, Status.RUNNING)
FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)


S = Status

TRANSITIONS: dict[str, frozenset[str]] = {
    # Back to QUEUED: a refused upload or create call waits out its backoff there.
    S.QUEUED: frozenset({S.UPLOADING, S.CANCELLED, S.FAILED}),
    # UPLOADING → UPLOADING: a stale upload taken over by another worker.
    S.UPLOADING: frozenset({S.UPLOADING, S.SUBMITTING, S.QUEUED, S.FAILED, S.CANCELLED}),
    # The create call: PENDING once Runway gave a task id (or ops found it).
    S.SUBMITTING: frozenset({S.PENDING, S.QUEUED, S.FAILED, S.CANCELLED}),
    S.PENDING: frozenset({S.PENDING, S.THROTTLED, S.RUNNING, S.COPYING, S.FAILED, S.CANCELLED}),
    S.THROTTLED: frozenset({S.PENDING, S.THROTTLED, S.RUNNING, S.COPYING, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.PENDING, S.THROTTLED, S.RUNNING, S.COPYING, S.FAILED, S.CANCELLED}),
    # Runway finished and billed: the copy either lands or fails; it is not cancelled.
    S.COPYING: frozenset({S.SUCCEEDED, S.FAILED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}


class TransitionError(ValueError):
    """A step asked for a move the state machine does not allow (a bug, never user input)."""


def check(from_statuses, to_status: str) -> None:
    """Raise TransitionError unless every status in `from_statuses` may move to `to_status`."""
    refused = [s for s in from_statuses if to_status not in TRANSITIONS[s]]
    if refused:
        raise TransitionError(f"{', '.join(refused)} → {to_status} is not a transition of a generation")
