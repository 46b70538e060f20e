"""Cancelling a generation: before Runway has it, or by deleting its task at Runway."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from runway import client as runway

from .jobs import backoff
from .models import AT_RUNWAY, Generation, Status
from .outcome import settle_credits
from .submit import SubmissionError

log = logging.getLogger(__name__)

FLAGGED = ("This submission is waiting for ops to check with Runway whether the task exists; "
           "it can't be cancelled until they have.")


def cancel_generation(*, generation: Generation, on_change: Callable[[Generation], None] | None = None) -> bool:
    """Stop a generation; deletes the Runway task. False if it had already finished.

    `on_change`, if given, runs inside the transaction that cancels (ops write their audit entry there).
    """
    generation.refresh_from_db()
    if generation.is_flagged:
        raise SubmissionError(FLAGGED)
    if generation.status in (Status.QUEUED, Status.UPLOADING, Status.SUBMITTING):
        with transaction.atomic():
            # Never a submission that got flagged meanwhile: Runway may be running it.
            if generation.transition((Status.QUEUED, Status.UPLOADING, Status.SUBMITTING), Status.CANCELLED,
                                     only_if=~Q(status=Status.SUBMITTING, needs_attention=True),
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


CREATED_AFTER_CANCEL = "Cancelled while Runway created its task; the task still has to be deleted."


def created_after_cancel(generation: Generation, task_id: str) -> None:
    """Cancelled while the call was in flight: don't leave a task running that nobody wants."""
    Generation.objects.filter(pk=generation.pk, runway_task_id="").update(runway_task_id=task_id)
    generation.refresh_from_db()
    if generation.status != Status.CANCELLED:
        return
    if delete_unwanted_task(generation):
        return
    # The delete failed: flagged, the poller tries again until Runway has let the task go.
    Generation.objects.filter(pk=generation.pk).update(needs_attention=True, attention_reason=CREATED_AFTER_CANCEL,
                                                       next_poll_at=timezone.now() + backoff(1))


def delete_unwanted_task(generation: Generation) -> bool:
    """Delete the Runway task of a cancelled generation; True once Runway no longer runs it."""
    try:
        runway.delete_task(generation.runway_task_id)
    except runway.RunwayError as error:
        log.warning("Could not delete task %s of cancelled generation %s: %s", generation.runway_task_id,
                    generation.pk, error.message)
        errors = generation.poll_errors + 1
        Generation.objects.filter(pk=generation.pk, attention_reason=CREATED_AFTER_CANCEL).update(
            poll_errors=errors, next_poll_at=timezone.now() + backoff(errors, error.retry_after))
        return False
    Generation.objects.filter(pk=generation.pk, attention_reason=CREATED_AFTER_CANCEL).update(
        needs_attention=False, attention_reason="", next_poll_at=None)
    return True
