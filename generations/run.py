"""Running a generation up to Runway: upload its inputs, then the one fenced create call.

SUBMITTING is committed before the create call and the task id right after it;
a row found in SUBMITTING without a task id is flagged for ops, never resubmitted
(that could pay twice).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from pathlib import Path

from django.db import DatabaseError
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from credits import ledger
from runway import client as runway

from . import cancel, copy, poll
from .jobs import backoff
from .models import Asset, Generation, Status
from .outcome import fail, flag_for_ops

log = logging.getLogger(__name__)

SUBMIT_ATTEMPTS = 8  # retryable refusals (429/502/503) before giving up


def upload_inputs(*, generation: Generation) -> list[Asset]:
    """Give every input a runway:// URI, reusing one with more than an hour left; the inputs, as now."""
    inputs = list(generation.inputs.all())
    for asset in inputs:
        if asset.runway_uri_usable():
            continue
        with asset.file.open("rb") as fp:
            name = Path(asset.file.name).name
            uri, expires = runway.upload_file(fileobj=fp, filename=name)
        Asset.objects.filter(pk=asset.pk).update(runway_uri=uri, runway_uri_expires_at=expires)
        asset.runway_uri, asset.runway_uri_expires_at = uri, expires
    return inputs


def _retry_later(generation: Generation, status: str, error: runway.RunwayError, *, what: str) -> None:
    attempts = generation.step_errors + 1
    if attempts >= SUBMIT_ATTEMPTS:
        fail(generation, status, message=f"Runway kept refusing to {what}: {error.message}", raw=error.message)
        return
    generation.transition(status, Status.QUEUED, step_errors=attempts,
                          next_poll_at=timezone.now() + backoff(attempts, error.retry_after),
                          attention_reason="")


def _hold_runways_estimate(generation: Generation, estimated: float | None) -> int:
    """Resize the hold to Runway's estimate when it gives one; returns the estimate now held."""
    if estimated is None or math.ceil(estimated) == generation.estimated_credits:
        return generation.estimated_credits
    wanted = math.ceil(estimated)
    ledger.resize_hold(generation=generation, credits=wanted)
    amounts = set(ledger.open_holds_of(generation).values_list("amount", flat=True))
    # Where a balance could not cover a higher estimate, our own figure stays the hold.
    return wanted if amounts == {wanted} else generation.estimated_credits


def submit_to_runway(*, generation: Generation, inputs: list[Asset] | None = None) -> None:
    """The create call, for a generation this worker has just moved into SUBMITTING (`inputs`: its
    assets as `upload_inputs` left them, read again when not given)."""
    spec = generation.spec
    inputs = {a.pk: a for a in (generation.inputs.all() if inputs is None else inputs)}
    arguments = runway.build_arguments(
        model=spec, params=generation.params, uri_for=lambda pk: (inputs[int(pk)].runway_uri, inputs[int(pk)].kind)
    )
    try:
        created = runway.create_task(endpoint=generation.endpoint, model=generation.model, arguments=arguments)
    except runway.RunwayError as error:
        if error.uncertain:
            flag_for_ops(generation=generation, reason=f"Submission outcome unknown ({error.message}); "
                         "check Runway for a task before retrying or releasing.", payload=arguments)
        elif error.retryable:
            _retry_later(generation, Status.SUBMITTING, error, what="accept the request")
        else:
            fail(generation, Status.SUBMITTING, message=f"Runway refused the request: {error.message}",
                  code="REQUEST.REJECTED", raw=error.message)
        return
    now = timezone.now()
    # The fence: the task id and PENDING, in one statement straight after the call. Whatever
    # fails from here on, the poller follows the task Runway is running (and billing).
    # A routed request runs as the model Runway chose: what its ledger rows name and reconciliation counts.
    chosen = {"model": created.chosen_model} if spec.routed and created.chosen_model else {}
    fence = {"runway_task_id": created.task_id, "status": Status.PENDING, "submitted_at": now, "next_poll_at": now,
             "needs_attention": False, "attention_reason": "", "step_errors": 0, "updated_at": now, **chosen}
    recorded = Generation.objects.filter(pk=generation.pk, status=Status.SUBMITTING, runway_task_id="").update(**fence)
    if not recorded:
        cancel.created_after_cancel(generation, created.task_id)
        return
    kept = {"request_payload": created.request, "create_response": created.response}
    Generation.objects.filter(pk=generation.pk).update(**kept)
    for name, value in {**fence, **kept}.items():  # the row as written, without reading it back
        setattr(generation, name, value)
    try:
        estimate = _hold_runways_estimate(generation, created.estimated_cost)
    except (ValueError, DatabaseError, TransactionManagementError):
        log.exception("Could not follow Runway's estimate for generation %s; our own stays held", generation.pk)
        return
    if estimate != generation.estimated_credits:
        Generation.objects.filter(pk=generation.pk).update(estimated_credits=estimate)


def run_generation(*, generation_id: int, now: datetime | None = None) -> None:
    """Drive a generation as far as it goes without waiting: uploads, the create call, or its outputs."""
    generation = Generation.objects.filter(pk=generation_id).first()
    if generation is None:
        return
    now = now or timezone.now()
    if generation.status == Status.QUEUED:
        if generation.next_poll_at and generation.next_poll_at > now:
            return  # backing off after a refusal; the poller brings it back
        if not generation.transition(Status.QUEUED, Status.UPLOADING, next_poll_at=None):
            return  # another worker has it
    elif generation.status == Status.UPLOADING:
        if generation.updated_at > now - poll.STALE_STEP:
            return  # another worker is uploading right now
        generation.transition(Status.UPLOADING, Status.UPLOADING)
    elif generation.status == Status.SUBMITTING and not generation.runway_task_id:
        if generation.updated_at <= now - poll.STALE_STEP:
            flag_for_ops(generation=generation, reason=poll.STALLED_SUBMISSION)
        return
    elif generation.status == Status.COPYING:
        copy.copy_outputs(generation_id=generation.pk)
        return
    else:
        return
    try:
        inputs = upload_inputs(generation=generation)
    except runway.RunwayError as error:
        if error.retryable:
            _retry_later(generation, Status.UPLOADING, error, what="take our input files")
        else:
            fail(generation, Status.UPLOADING, message=f"Runway refused an input file: {error.message}",
                  code="UPLOAD.REJECTED", raw=error.message)
        return
    if not generation.transition(Status.UPLOADING, Status.SUBMITTING):
        return
    submit_to_runway(generation=generation, inputs=inputs)
