"""Cancelling a generation: before Runway has it, or by deleting its task at Runway."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from runway import client as runway

from .models import AT_RUNWAY, Generation, Status
from .outcome import settle_credits
from .submit import SubmissionError


def cancel_generation(*, generation: Generation, on_change: Callable[[Generation], None] | None = None) -> bool:
    """Stop a generation; deletes the Runway task. False if it had already finished.

    `on_change`, if given, runs inside the transaction that cancels (ops write their audit entry there).
    """
    generation.refresh_from_db()
    if generation.status in (Status.QUEUED, Status.UPLOADING, Status.SUBMITTING):
        with transaction.atomic():
            if generation.transition((Status.QUEUED, Status.UPLOADING, Status.SUBMITTING), Status.CANCELLED,
                                     needs_attention=False, next_poll_at=None):
                settle_credits(generation)
                if on_change:
                    on_change(generation)
                return True
        generation.refresh_from_db()
    if generation.status in AT_RUNWAY:
        was_running = generation.status == Status.RUNNING
        try:
            runway.delete_task(generation.runway_task_id)
        except runway.RunwayError as error:
            raise SubmissionError(f"Runway did not take the cancellation: {error.message} Try again.") from error
        started = generation.started_at or (timezone.now() if was_running else None)
        with transaction.atomic():
            if generation.transition(AT_RUNWAY, Status.CANCELLED, next_poll_at=None, started_at=started):
                # CONTRACT §3.3: a task cancelled while RUNNING is charged; before that it is refunded.
                settle_credits(generation)
                if on_change:
                    on_change(generation)
                return True
    return False
