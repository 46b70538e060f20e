"""Ops' resolutions of a submission whose outcome is unknown (flagged for attention)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from runway import client as runway

from .models import Generation, Status
from .outcome import fail
from .submit import SubmissionError

# Called inside the transaction of a change, with the changed generation: how ops' audit
# entries are written together with the change they record.
OnChange = Callable[[Generation], None]


def resolve_as_submitted(*, generation: Generation, task_id: str, on_change: OnChange | None = None) -> bool:
    """Ops found the task at Runway: record its id and let the sweep follow it."""
    task_id = task_id.strip()
    if not task_id:
        raise SubmissionError("Give the Runway task id.")
    owner = Generation.objects.filter(runway_task_id=task_id).exclude(pk=generation.pk).first()
    if owner is not None:
        raise SubmissionError(f"Runway task {task_id} already belongs to generation #{owner.pk}; "
                              "one task is never followed (or charged) twice.")
    try:
        state = runway.retrieve_task(task_id)
    except runway.TaskNotFound:
        raise SubmissionError(f"Runway has no task {task_id}. Check the id, or resolve it as not submitted.") from None
    except runway.RunwayError as error:
        raise SubmissionError(f"Runway could not confirm task {task_id}: {error.message} Try again.") from error
    reported = state.raw.get("model")
    if reported and reported != generation.model and not generation.routed:
        raise SubmissionError(f"Runway task {task_id} is a {reported} task, but this generation asked for "
                              f"{generation.model}.")
    now = timezone.now()
    with transaction.atomic():
        recorded = Generation.objects.filter(pk=generation.pk, status=Status.SUBMITTING, runway_task_id="").update(
            runway_task_id=task_id, status=Status.PENDING, submitted_at=now, next_poll_at=now,
            needs_attention=False, attention_reason="", updated_at=now,
        )
        if recorded:
            generation.refresh_from_db()
            if on_change:
                on_change(generation)
    return bool(recorded)


def resolve_as_failed(*, generation: Generation, note: str = "", on_change: OnChange | None = None) -> bool:
    """Ops confirmed Runway has no task: fail the generation and release its hold."""
    message = "Submission could not be confirmed with Runway; nothing was charged."
    with transaction.atomic():
        failed = fail(generation, Status.SUBMITTING, message=f"{message} {note}".strip(),
                      code="SUBMIT.UNCONFIRMED", raw=note)
        if failed and on_change:
            on_change(generation)
    return failed
