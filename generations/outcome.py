"""How a generation ends: failing it, settling its credits by the one settlement rule, telling its author.

Every step that finishes a generation goes through `settle_credits`, and so does
`close_finished_holds`, the clean-up for a worker that died between Runway's
answer and the settlement: both read the same facts from the row (Runway's
status, its cost, whether it ran), so a crash never changes what is charged.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from credits import settlement
from credits.models import HoldState

from . import hooks, notices
from .models import Generation, Status


def runway_outcome(generation: Generation) -> str:
    """The outcome that decides the charge: SUCCEEDED when Runway made it (even if our copy failed)."""
    task = generation.task_json if isinstance(generation.task_json, dict) else {}
    return Status.SUCCEEDED if task.get("status") == Status.SUCCEEDED else generation.status


def runway_cost(generation: Generation) -> int | None:
    """The credits Runway reported for the task: the recorded cost, else the one in its last reply."""
    if generation.cost_credits is not None:
        return generation.cost_credits
    task = generation.task_json if isinstance(generation.task_json, dict) else {}
    cost = task.get("cost")
    credits = cost.get("credits") if isinstance(cost, dict) else None
    return int(credits) if isinstance(credits, int | float) and not isinstance(credits, bool) else None


def charged_credits(generation: Generation) -> int | None:
    """What stays charged for a finished generation by the one settlement rule (None: all released)."""
    return settlement.charge_for(outcome=runway_outcome(generation), cost=runway_cost(generation),
                                 estimate=generation.estimated_credits, was_running=generation.started_at is not None)


def settle_credits(generation: Generation) -> bool:
    """Close the hold of a finished generation from what its row records; True for the call that did it."""
    return settlement.close_hold(
        generation=generation, outcome=runway_outcome(generation), cost=runway_cost(generation),
        was_running=generation.started_at is not None,
    )


def settle_ended(generation: Generation) -> None:
    """Settle a generation that has just ended and write its webhook event, in the transaction that ended it."""
    settle_credits(generation)
    hooks.finished(generation, charged=charged_credits(generation))  # the webhooks' outbox


def finish(generation: Generation, from_statuses, to_status: str, **fields) -> bool:
    """Move to a finished status (if still in `from_statuses`) and settle, in one transaction.

    False if another step got there first. Should the settlement fail (the database refusing
    a write), the move is undone with it: the generation stays where it was, to be finished
    again, never finished with its credits still held.
    """
    with transaction.atomic():
        if not generation.transition(from_statuses, to_status, **fields):
            return False
        settle_ended(generation)
        notices.finished(generation)  # told once, with the move (a crash: notices.sweep)
    return True


def fail(generation: Generation, from_statuses, *, message: str, code: str = "", raw: str = "",
         **fields) -> bool:
    """Move to FAILED (if still in `from_statuses`) and settle; False if another step got there first."""
    return finish(generation, from_statuses, Status.FAILED, failure_message=message, failure_code=code,
                  runway_failure=raw, needs_attention=False, next_poll_at=None, **fields)


def close_finished_holds(*, limit: int = 500) -> int:
    """Close holds left open on finished generations (a crash after Runway's answer); the count closed."""
    finished = Generation.objects.filter(status__in=(Status.SUCCEEDED, Status.FAILED, Status.CANCELLED),
                                         holds__state=HoldState.OPEN).distinct()[:limit]
    return sum(1 for generation in finished if settle_credits(generation))


def flag_for_ops(*, generation: Generation, reason: str, payload: dict | None = None) -> bool:
    """Mark a generation stuck after an uncertain submission (with the request sent); only ops resolve it."""
    fields = {"request_payload": payload} if payload is not None else {}
    return bool(Generation.objects.filter(pk=generation.pk, status=Status.SUBMITTING, runway_task_id="").update(
        needs_attention=True, attention_reason=reason[:300], updated_at=timezone.now(), **fields
    ))
