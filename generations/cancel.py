"""Cancelling a generation: before Runway has it, or at Runway from what Runway says the task is doing.

Our last poll can be seconds old, so a cancel at Runway first asks for the task
(CONTRACT §3.1) and decides from that answer (§3.3): a task still waiting is deleted
and refunded, one already running is deleted and stays charged, and one Runway has
finished is not deleted at all — its ending is recorded the way the poller records
it, so its outputs are copied and it is charged Runway's cost.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from enum import Enum

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from credits.models import HoldState
from runway import client as runway

from . import poll
from .jobs import backoff
from .models import AT_RUNWAY, Generation, Status
from .outcome import settle_ended
from .submit import SubmissionError

log = logging.getLogger(__name__)

FLAGGED = ("This submission is waiting for ops to check with Runway whether the task exists; "
           "it can't be cancelled until they have.")
BEING_SUBMITTED = ("Takes is handing this generation to Runway right now, so it can't be cancelled this "
                   "instant. Try again in a moment, once Runway has it.")
NOT_FOUND = "NOT_FOUND"  # recorded as Runway's answer when it no longer has the task
CANCEL_GRACE = timedelta(minutes=2)  # how long the poller leaves a row being cancelled alone


class BeingSubmitted(SubmissionError):
    """A cancel asked for while the create call is in flight: try again once Runway has the task."""


class Outcome(Enum):
    """What a cancel came to, as the person is told it."""

    CANCELLED = "cancelled"  # stopped by this call; its hold released
    CHARGED = "charged"  # stopped by this call; Runway had started it, so it stays charged
    KEPT = "kept"  # Runway had already finished it: kept, its outputs are being copied
    FAILED = "failed"  # Runway had already failed it: recorded as Runway said
    FINISHED = "finished"  # it had already ended: nothing to cancel


def cancel_generation(*, generation: Generation, on_change: Callable[[Generation], None] | None = None) -> bool:
    """Stop a generation; True if this call cancelled it, False if it had already ended (`outcome_of` says how).

    `on_change`, if given, runs inside the transaction that cancels (ops write their audit entry there).
    """
    generation.refresh_from_db()
    if generation.is_flagged:
        raise SubmissionError(FLAGGED)
    if generation.status in (Status.QUEUED, Status.UPLOADING):
        with transaction.atomic():
            # Compare-and-set against the worker's UPLOADING → SUBMITTING: one of the two wins, so a
            # generation cancelled here is never sent to Runway.
            if generation.transition((Status.QUEUED, Status.UPLOADING), Status.CANCELLED, next_poll_at=None):
                settle_ended(generation)
                if on_change:
                    on_change(generation)
                return True
        generation.refresh_from_db()
    if generation.status == Status.SUBMITTING:
        # The create call is in flight: whether Runway makes (and bills) a task is not known yet,
        # so nothing can be settled truthfully. It is at Runway a moment later, cancelled from its answer.
        raise BeingSubmitted(BEING_SUBMITTED)
    if generation.status in AT_RUNWAY:
        return _cancel_at_runway(generation, on_change)
    return False


def outcome_of(generation: Generation, *, cancelled: bool) -> Outcome:
    """What a cancel came to, read from the row it left: Runway's recorded answer and the hold."""
    generation.refresh_from_db()
    if cancelled:
        charged = generation.holds.filter(state=HoldState.SETTLED, charged__gt=0).exists()
        return Outcome.CHARGED if charged else Outcome.CANCELLED
    if generation.cancel_answer == Status.SUCCEEDED and generation.status in (Status.COPYING, Status.SUCCEEDED):
        return Outcome.KEPT
    if generation.cancel_answer == Status.FAILED and generation.status == Status.FAILED:
        return Outcome.FAILED
    return Outcome.FINISHED


def _cancel_at_runway(generation: Generation, on_change) -> bool:
    """Ask Runway for the task right before deleting it; never cancel without its answer."""
    try:
        state = runway.retrieve_task(generation.runway_task_id)
    except runway.TaskNotFound:
        return _not_found(generation, on_change)
    except runway.RunwayError as error:  # unreachable, 5xx, or a reply that is not a task
        raise SubmissionError(f"Takes could not ask Runway how far this generation has got, so nothing was "
                              f"cancelled: {error.message} Try again in a moment.") from error
    if state.status in AT_RUNWAY:
        return _delete(generation, state, on_change)
    _already_ended(generation, state)
    return False


def _delete(generation: Generation, state: runway.TaskState, on_change) -> bool:
    """Delete a task Runway has not finished; charged if Runway says it was running (CONTRACT §3.3)."""
    token = _mark(generation, state.status)
    if not token:
        return False  # another step moved it on meanwhile (a poll saw it finish): nothing is deleted
    _send_delete(generation)
    # Runway's answer decides, not our last poll: the settlement rule charges a cancel
    # that started (RUNNING) and refunds one that was still waiting (PENDING, THROTTLED).
    # Runway settles by what it sees at the delete, so the only gap left is the moment
    # between the answer and the delete (CONTRACT §3.3 offers no "cancel if still X").
    started = (generation.started_at or timezone.now()) if state.status == Status.RUNNING else None
    return _cancelled(generation, on_change, token, cancel_answer=state.status, task_json=state.raw,
                      started_at=started)


def _already_ended(generation: Generation, state: runway.TaskState) -> None:
    """Runway had finished the task: nothing is deleted, its ending is recorded as the poller records it."""
    with transaction.atomic():
        Generation.objects.filter(pk=generation.pk, status__in=AT_RUNWAY).update(cancel_answer=state.status)
        poll.apply_task_state(generation=generation, state=state)


def _not_found(generation: Generation, on_change) -> bool:
    """Runway no longer has the task: the delete is still sent and the cancel stands, as before.

    A 404 means Runway has let the task go (CONTRACT §3.3: already cancelled, deleted or
    unknown). This is the path a cancel took before it asked first, when the delete call
    answered 404: the delete is still sent (harmless on a task Runway does not have, and
    nothing keeps running should that answer have been wrong), and the cancel stands.
    Usually another cancel (a second click, a project owner, an operator) deleted the task
    a moment earlier; that cancel saw Runway's answer and settles, and this one finds the
    row finished. Only if the row is still at Runway does this one settle, and with no
    answer from Runway to go on it keeps the rule from before: charged if our last poll
    saw the task running, refunded if not. Runway's answer is recorded as NOT_FOUND.
    """
    # A cancel already under way saw Runway's real answer: it settles, this one must not overwrite it.
    token = _mark(generation, NOT_FOUND, unmarked_only=True)
    if not token:
        return False
    _send_delete(generation)
    return _cancelled(generation, on_change, token, cancel_answer=NOT_FOUND)


def _mark(generation: Generation, answer: str, *, unmarked_only: bool = False) -> str:
    """Record Runway's answer before the delete, so a poll that meets the deleted task leaves it to this cancel.

    The poller is kept off the row meanwhile; should this cancel die after its delete,
    the poller finds the task gone and settles the cancel by the answer recorded here.
    Returns this cancel's token ("" when the row is no longer at Runway): of two cancels
    at once, the last to mark is the one that settles.
    """
    token = uuid.uuid4().hex
    rows = Generation.objects.filter(pk=generation.pk, status__in=AT_RUNWAY)
    if unmarked_only:
        rows = rows.filter(cancel_answer="")
    marked = rows.update(
        cancel_answer=answer, claim_token=token, next_poll_at=timezone.now() + CANCEL_GRACE)
    return token if marked else ""


def _send_delete(generation: Generation) -> None:
    try:
        runway.delete_task(generation.runway_task_id)  # False when Runway already let it go: the cancel stands
    except runway.RunwayError as error:
        # Nothing was cancelled: the task runs on and the poller follows it again at once.
        Generation.objects.filter(pk=generation.pk, status__in=AT_RUNWAY).update(cancel_answer="",
                                                                                 next_poll_at=timezone.now())
        raise SubmissionError(f"Runway did not take the cancellation: {error.message} Try again.") from error


def settle_deleted(generation: Generation) -> bool:
    """A task deleted by a cancel that recorded Runway's answer: CANCELLED, charged only if it was running.

    Called by the poller when Runway answers 404 for a row a cancel had marked.
    """
    generation.refresh_from_db()
    started = (generation.started_at or timezone.now()) if generation.cancel_answer == Status.RUNNING else None
    with transaction.atomic():
        if generation.transition(AT_RUNWAY, Status.CANCELLED, only_if=~Q(cancel_answer=""), next_poll_at=None,
                                 started_at=started):
            settle_ended(generation)
            return True
    return False


def _cancelled(generation: Generation, on_change, token: str, **fields) -> bool:
    """Move from Runway to CANCELLED (compare-and-set on this cancel's mark) and settle; False if another won."""
    with transaction.atomic():
        if generation.transition(AT_RUNWAY, Status.CANCELLED, only_if=Q(claim_token=token), next_poll_at=None,
                                 **fields):
            settle_ended(generation)
            if on_change:
                on_change(generation)
            return True
        # A poll that met the deleted task may have settled this very cancel first: it is still this one's.
        generation.refresh_from_db()
        if generation.status == Status.CANCELLED and generation.claim_token == token:
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
