"""The generation state machine: submit, upload, create, poll, copy, finish.

QUEUED → UPLOADING → SUBMITTING → PENDING/THROTTLED/RUNNING → COPYING → SUCCEEDED
(or FAILED / CANCELLED). Each step reads the row, does one outside action and
commits the next state with a compare-and-set update, so running a step twice
(at-least-once delivery, a worker killed halfway) does no harm. The one step
that cannot be made safe — the create call — is fenced: SUBMITTING is
committed before it and the task id right after; a row found in SUBMITTING
without a task id is flagged for ops, never resubmitted.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from generations import catalog, downloads, media, runway
from generations.models import (
    AT_RUNWAY,
    Asset,
    Generation,
    Lease,
    Output,
    Status,
)

log = logging.getLogger(__name__)

POLL_INTERVAL = timedelta(seconds=5)  # Runway updates a task about every 5 s
THROTTLED_MAX_INTERVAL = timedelta(seconds=30)
MAX_BACKOFF = 120.0
SUBMIT_ATTEMPTS = 8  # retryable refusals (429/502/503) before giving up
COPY_ATTEMPTS = 6
STALE_STEP = timedelta(minutes=3)  # longer than any single step's outside call
SWEEP_LEASE = "poll-sweep"
POLL_THREADS = 16

FAILURE_MESSAGES = {
    "safety": "Runway's content moderation rejected this request. Change the prompt or the inputs — "
    "sending the same request again will be rejected again.",
    "input": "Runway could not use one of the inputs (its format, size or length). "
    "Try another file or different settings.",
    "internal": "Runway had an internal problem making this. Trying again usually works.",
}


class SubmissionError(Exception):
    """A generation that cannot be submitted; `errors` maps form fields to messages."""

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        self.errors = errors
        super().__init__(" ".join(m for msgs in errors.values() for m in msgs))


def human_failure(code: str, fallback: str = "") -> str:
    """The message a person sees for a Runway failure code."""
    family = Generation(failure_code=code).failure_family
    return FAILURE_MESSAGES.get(family) or fallback or FAILURE_MESSAGES["internal"]


def _backoff(attempt: int, retry_after: float | None = None) -> timedelta:
    """Capped exponential backoff with up to 50 % jitter, never shorter than Retry-After."""
    delay = min(MAX_BACKOFF, 2.0 * 2 ** max(0, attempt - 1))
    delay *= 1 + random.random() * 0.5  # noqa: S311 — jitter, not security
    if retry_after:
        delay = max(delay, retry_after)
    return timedelta(seconds=delay)


# --- Credits -------------------------------------------------------------------

def _ledger():
    from credits import ledger

    return ledger


def _finish_credits(generation: Generation, *, charged: int | None) -> None:
    """Settle what Runway charged (its `cost`, else our estimate on success), else release the hold."""
    ledger = _ledger()
    if generation.status == Status.SUCCEEDED:
        ledger.settle_hold(generation=generation, credits=generation.estimated_credits if charged is None else charged)
    elif charged:
        ledger.settle_hold(generation=generation, credits=charged)
    else:
        ledger.release_hold(generation=generation)


# --- Submit --------------------------------------------------------------------

def _asset_fields(model: catalog.Model) -> list[catalog.Field]:
    return [f for f in model.fields if f.kind in ("asset", "assets")]


def load_inputs(*, project, model: catalog.Model, params: dict[str, Any]) -> tuple[dict[str, Any], list[Asset]]:
    """The project's assets named in `params`, as catalog facts; SubmissionError for any that aren't there."""
    facts: dict[str, Any] = {}
    assets: list[Asset] = []
    errors: dict[str, list[str]] = {}
    for f in _asset_fields(model):
        value = params.get(f.name)
        if value in (None, "", []):
            continue
        ids = value if isinstance(value, list) else [value]
        found = {a.pk: a for a in Asset.objects.in_project(project).filter(pk__in=[int(i) for i in ids])}
        if len(found) != len(set(ids)):
            errors[f.name] = ["That input is not in this project (it may have been deleted)."]
            continue
        items = [found[int(i)] for i in ids]
        assets.extend(items)
        item_facts = [catalog.MediaFacts(kind=a.kind, width=a.width, height=a.height, duration=a.duration)
                      for a in items]
        facts[f.name] = item_facts if isinstance(value, list) else item_facts[0]
    if errors:
        raise SubmissionError(errors)
    return facts, assets


def enqueue(func: str, *args: Any) -> None:
    """Queue a django-q2 job; on the ORM broker it commits with the caller's transaction."""
    from django_q.tasks import async_task

    if "orm" in settings.Q_CLUSTER:
        async_task(func, *args)
    else:
        transaction.on_commit(lambda: async_task(func, *args))


def submit_generation(*, project, user, endpoint: str, model: str, params: dict[str, Any],
                      retry_of: Generation | None = None) -> Generation:
    """Validate, hold the estimated credits, create the row and queue the job — all or nothing."""
    if not user.is_active:
        raise SubmissionError("Your account is deactivated; you cannot start new generations.")
    try:
        spec = catalog.get_model(endpoint, model)
    except catalog.CatalogError as exc:
        raise SubmissionError(str(exc)) from exc
    facts, assets = load_inputs(project=project, model=spec, params=params)
    errors = catalog.validate(spec, params, facts)
    if errors:
        raise SubmissionError(errors)
    estimate = catalog.estimate_credits(spec, params, facts)
    from credits.organization import remaining_daily_generations

    if remaining_daily_generations(model) == 0:
        raise SubmissionError(f"Runway's daily limit for {spec.label} is used up for the organization. "
                              "Try again later or choose another model.")
    ledger = _ledger()
    with transaction.atomic():
        generation = Generation.objects.create(
            project=project,
            created_by=user,
            endpoint=endpoint,
            model=model,
            params=params,
            prompt=str(params.get("prompt_text") or ""),
            estimated_credits=estimate,
            retry_of=retry_of,
        )
        generation.inputs.set(assets)
        try:
            ledger.place_hold(generation=generation)
        except ledger.InsufficientCredits as exc:
            raise SubmissionError(str(exc)) from exc
        enqueue("generations.tasks.run_generation", generation.pk)
    return generation


def retry_generation(*, generation: Generation, user) -> Generation:
    """Submit the same settings again as a new generation."""
    if not generation.can_retry:
        if generation.failure_family == "safety":
            raise SubmissionError("This was rejected by content moderation; change the prompt or inputs instead.")
        raise SubmissionError("Only failed or cancelled generations can be retried.")
    return submit_generation(project=generation.project, user=user, endpoint=generation.endpoint,
                             model=generation.model, params=generation.params, retry_of=generation)


# --- Run: upload and create ------------------------------------------------------

def upload_inputs(*, generation: Generation) -> None:
    """Give every input a runway:// URI, reusing one with more than an hour left."""
    for asset in generation.inputs.all():
        if asset.runway_uri_usable():
            continue
        with asset.file.open("rb") as fp:
            name = Path(asset.file.name).name
            uri, expires = runway.upload_file(fileobj=fp, filename=name)
        Asset.objects.filter(pk=asset.pk).update(runway_uri=uri, runway_uri_expires_at=expires)


def _fail(generation: Generation, from_statuses, *, message: str, code: str = "", raw: str = "",
          charged: int | None = None) -> bool:
    if not generation.transition(from_statuses, Status.FAILED, failure_message=message, failure_code=code,
                                 runway_failure=raw, needs_attention=False, next_poll_at=None):
        return False
    _finish_credits(generation, charged=charged)
    return True


def _retry_later(generation: Generation, status: str, error: runway.RunwayError, *, what: str) -> None:
    attempts = generation.step_errors + 1
    if attempts >= SUBMIT_ATTEMPTS:
        _fail(generation, status, message=f"Runway kept refusing to {what}: {error.message}", raw=error.message)
        return
    generation.transition(status, Status.QUEUED, step_errors=attempts,
                          next_poll_at=timezone.now() + _backoff(attempts, error.retry_after),
                          attention_reason="")


def flag_for_ops(*, generation: Generation, reason: str) -> bool:
    """Mark a generation stuck after an uncertain submission; only ops resolve it."""
    return bool(Generation.objects.filter(pk=generation.pk, status=Status.SUBMITTING, runway_task_id="").update(
        needs_attention=True, attention_reason=reason[:300], updated_at=timezone.now()
    ))


def _hold_runways_estimate(generation: Generation, estimated: float | None) -> int:
    """Resize the hold to Runway's estimate when it gives one; returns the estimate now held."""
    if estimated is None or math.ceil(estimated) == generation.estimated_credits:
        return generation.estimated_credits
    wanted = math.ceil(estimated)
    ledger = _ledger()
    ledger.resize_hold(generation=generation, credits=wanted)
    amounts = set(ledger.open_holds_of(generation).values_list("amount", flat=True))
    # Where a balance could not cover a higher estimate, our own figure stays the hold.
    return wanted if amounts == {wanted} else generation.estimated_credits


def submit_to_runway(*, generation: Generation) -> None:
    """The create call, for a generation this worker has just moved into SUBMITTING."""
    spec = catalog.get_model(generation.endpoint, generation.model)
    inputs = {a.pk: a for a in generation.inputs.all()}
    arguments = runway.build_arguments(
        model=spec, params=generation.params, uri_for=lambda pk: (inputs[int(pk)].runway_uri, inputs[int(pk)].kind)
    )
    try:
        created = runway.create_task(endpoint=generation.endpoint, model=generation.model, arguments=arguments)
    except runway.RunwayError as error:
        if error.uncertain:
            flag_for_ops(generation=generation, reason=f"Submission outcome unknown ({error.message}); "
                         "check Runway for a task before retrying or releasing.")
        elif error.retryable:
            _retry_later(generation, Status.SUBMITTING, error, what="accept the request")
        else:
            _fail(generation, Status.SUBMITTING, message=f"Runway refused the request: {error.message}",
                  code="REQUEST.REJECTED", raw=error.message)
        return
    estimate = _hold_runways_estimate(generation, created.estimated_cost)
    now = timezone.now()
    recorded = Generation.objects.filter(pk=generation.pk, status=Status.SUBMITTING, runway_task_id="").update(
        estimated_credits=estimate,
        runway_task_id=created.task_id, status=Status.PENDING, submitted_at=now,
        request_payload=created.request, create_response=created.response, next_poll_at=now,
        needs_attention=False, attention_reason="", step_errors=0, updated_at=now,
    )
    if not recorded:
        # Cancelled while the call was in flight: don't leave a task running that nobody wants.
        generation.refresh_from_db()
        Generation.objects.filter(pk=generation.pk, runway_task_id="").update(runway_task_id=created.task_id)
        if generation.status == Status.CANCELLED:
            try:
                runway.delete_task(created.task_id)
            except runway.RunwayError:
                log.warning("Could not delete task %s of cancelled generation %s", created.task_id, generation.pk)
        return
    ensure_sweep()


def run_generation(*, generation_id: int, now: datetime | None = None) -> None:
    """Drive a generation as far as it goes without waiting: uploads, the create call, or its outputs."""
    generation = Generation.objects.filter(pk=generation_id).first()
    if generation is None:
        return
    now = now or timezone.now()
    if generation.status == Status.QUEUED:
        if generation.next_poll_at and generation.next_poll_at > now:
            return  # backing off after a refusal; the sweep brings it back
        if not generation.transition(Status.QUEUED, Status.UPLOADING, next_poll_at=None):
            return  # another worker has it
    elif generation.status == Status.UPLOADING:
        if generation.updated_at > now - STALE_STEP:
            return  # another worker is uploading right now
        generation.transition(Status.UPLOADING, Status.UPLOADING)
    elif generation.status == Status.SUBMITTING and not generation.runway_task_id:
        if generation.updated_at <= now - STALE_STEP:
            flag_for_ops(generation=generation, reason="A worker stopped during submission; "
                         "Runway may or may not have the task.")
        return
    elif generation.status == Status.COPYING:
        copy_outputs(generation_id=generation.pk)
        return
    else:
        return
    try:
        upload_inputs(generation=generation)
    except runway.RunwayError as error:
        if error.retryable:
            _retry_later(generation, Status.UPLOADING, error, what="take our input files")
        else:
            _fail(generation, Status.UPLOADING, message=f"Runway refused an input file: {error.message}",
                  code="UPLOAD.REJECTED", raw=error.message)
        return
    if not generation.transition(Status.UPLOADING, Status.SUBMITTING):
        return
    submit_to_runway(generation=generation)


# --- Poll ------------------------------------------------------------------------

@dataclass
class SweepStats:
    polled: int = 0
    http_calls: int = 0
    changed: int = 0
    finished: int = 0
    errors: int = 0
    resumed: int = 0
    flagged: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def _next_poll(generation: Generation, status: str, now: datetime) -> datetime:
    if status == Status.THROTTLED:
        # Queued at Runway: look less often the longer it waits.
        waited = (now - (generation.submitted_at or now)).total_seconds()
        return now + min(THROTTLED_MAX_INTERVAL, max(POLL_INTERVAL, timedelta(seconds=waited / 4)))
    return now + POLL_INTERVAL


def apply_task_state(*, generation: Generation, state: runway.TaskState | runway.RunwayError,
                     now: datetime | None = None) -> str:
    """Record one poll result; returns what happened ("progress", "finished", "error", "copying")."""
    now = now or timezone.now()
    if isinstance(state, runway.TaskNotFound):
        _fail(generation, AT_RUNWAY, message="Runway no longer has this task (it was deleted or lost). "
              "Nothing was charged for it.", code="TASK.LOST", raw=state.message)
        return "finished"
    if isinstance(state, runway.RunwayError):
        errors = generation.poll_errors + 1
        Generation.objects.filter(pk=generation.pk, status__in=AT_RUNWAY).update(
            poll_errors=errors, next_poll_at=now + _backoff(errors, state.retry_after)
        )
        return "error"
    if state.status in AT_RUNWAY:
        fields: dict[str, Any] = {"progress": min(1.0, max(0.0, state.progress)), "poll_errors": 0,
                                  "next_poll_at": _next_poll(generation, state.status, now), "task_json": state.raw}
        if state.status == Status.RUNNING and not generation.started_at:
            fields["started_at"] = now
        generation.transition(AT_RUNWAY, state.status, **fields)
        return "progress"
    if state.status == "SUCCEEDED":
        if generation.transition(AT_RUNWAY, Status.COPYING, task_json=state.raw, progress=1.0, cost_credits=state.cost,
                                 next_poll_at=now + _backoff(1), poll_errors=0, step_errors=0):
            enqueue("generations.tasks.copy_outputs", generation.pk)
        return "copying"
    if state.status == "FAILED":
        _fail(generation, AT_RUNWAY, message=human_failure(state.failure_code, state.failure),
              code=state.failure_code or "INTERNAL", raw=state.failure, charged=state.cost)
        Generation.objects.filter(pk=generation.pk).update(task_json=state.raw, cost_credits=state.cost)
        return "finished"
    if state.status == "CANCELLED":
        if generation.transition(AT_RUNWAY, Status.CANCELLED, task_json=state.raw, cost_credits=state.cost,
                                 next_poll_at=None):
            _finish_credits(generation, charged=state.cost)
        return "finished"
    return "error"


def _fetch_states(generations: list[Generation]) -> list[runway.TaskState | runway.RunwayError]:
    def one(task_id: str):
        try:
            return runway.retrieve_task(task_id)
        except runway.RunwayError as error:
            return error

    if len(generations) <= 1:
        return [one(g.runway_task_id) for g in generations]
    with ThreadPoolExecutor(max_workers=min(POLL_THREADS, len(generations))) as pool:
        return list(pool.map(one, [g.runway_task_id for g in generations]))


def resume_stalled(*, now: datetime | None = None) -> tuple[int, int]:
    """Bring back work whose job was lost or is due again; flag uncertain submissions. (resumed, flagged)"""
    now = now or timezone.now()
    stale = now - STALE_STEP
    flagged = 0
    for generation in Generation.objects.filter(status=Status.SUBMITTING, runway_task_id="", needs_attention=False,
                                                updated_at__lte=stale):
        flagged += flag_for_ops(generation=generation, reason="A worker stopped during submission; "
                                "Runway may or may not have the task.")
    resumed = 0
    # An upload that stopped halfway starts over from QUEUED (uploads are idempotent).
    Generation.objects.filter(status=Status.UPLOADING, updated_at__lte=stale).update(
        status=Status.QUEUED, next_poll_at=None
    )
    pre_submit = Generation.objects.filter(
        Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True, updated_at__lte=stale), status=Status.QUEUED
    ).values_list("pk", flat=True)
    for pk in pre_submit:
        # Touch the row so the next sweep does not queue it again while this job waits.
        Generation.objects.filter(pk=pk).update(updated_at=timezone.now(), next_poll_at=None)
        enqueue("generations.tasks.run_generation", pk)
        resumed += 1
    for pk in Generation.objects.filter(status=Status.COPYING, next_poll_at__lte=now).values_list("pk", flat=True):
        Generation.objects.filter(pk=pk).update(next_poll_at=timezone.now() + STALE_STEP)
        enqueue("generations.tasks.copy_outputs", pk)
        resumed += 1
    return resumed, flagged


def sweep_once(*, now: datetime | None = None, limit: int = 2000) -> SweepStats:
    """One pass: poll every generation due at Runway and resume anything stalled."""
    now = now or timezone.now()
    stats = SweepStats()
    due = list(Generation.objects.due_for_poll(now).only(
        "pk", "status", "runway_task_id", "submitted_at", "started_at", "poll_errors", "estimated_credits",
        "created_by_id", "project_id",
    ).order_by("next_poll_at")[:limit])
    states = _fetch_states(due)
    stats.polled = stats.http_calls = len(due)
    for generation, state in zip(due, states, strict=True):
        outcome = apply_task_state(generation=generation, state=state, now=now)
        stats.statuses[outcome] = stats.statuses.get(outcome, 0) + 1
        stats.errors += outcome == "error"
        stats.finished += outcome in ("finished", "copying")
    stats.resumed, stats.flagged = resume_stalled(now=now)
    return stats


def work_remains() -> bool:
    """True while anything is in flight that a sweep should look after."""
    return Generation.objects.in_flight().filter(needs_attention=False).exists()


def ensure_sweep() -> None:
    """Queue the poll sweep unless one is already running."""
    if not Lease.is_held(SWEEP_LEASE):
        enqueue("generations.tasks.poll_sweep")


def run_sweep(*, max_seconds: float = 50.0, sleep=None) -> int:
    """The poll loop a worker runs under a lease; re-arms itself while work remains. Returns passes."""
    import time

    sleep = sleep or time.sleep
    holder = secrets.token_hex(8)
    lease_seconds = max_seconds + 30
    try:
        if not Lease.acquire(SWEEP_LEASE, holder, lease_seconds):
            return 0
    except IntegrityError:
        return 0
    passes = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < max_seconds:
            sweep_once()
            passes += 1
            if not Generation.objects.at_runway().filter(needs_attention=False).exists():
                break  # the rest (queued, copying) is resumed by its own jobs and the watchdog
            upcoming = Generation.objects.in_flight().exclude(next_poll_at=None).order_by("next_poll_at").values_list(
                "next_poll_at", flat=True).first()
            wait = 1.0 if upcoming is None else (upcoming - timezone.now()).total_seconds()
            sleep(min(5.0, max(0.2, wait)))
            Lease.acquire(SWEEP_LEASE, holder, lease_seconds)
    finally:
        Lease.release(SWEEP_LEASE, holder)
    if work_remains():
        enqueue("generations.tasks.poll_sweep")
    return passes


# --- Copy outputs ----------------------------------------------------------------

def output_name(generation: Generation, index: int, extension: str) -> str:
    """The deterministic storage key of one output."""
    return f"outputs/{generation.project_id}/{generation.pk}/{index}{extension}"


def _store_output(generation: Generation, index: int, path: Path) -> None:
    info = media.probe(str(path), max_side=None, min_bytes=1)
    name = output_name(generation, index, info.extension)
    if default_storage.exists(name):
        default_storage.delete(name)  # left by a worker that died before recording it
    with path.open("rb") as fp:
        stored = default_storage.save(name, File(fp, name=Path(name).name))
    thumb_name = ""
    thumb_path = path.with_suffix(".thumb.jpg")
    try:
        media.make_thumbnail(str(path), info, str(thumb_path))
        with thumb_path.open("rb") as fp:
            thumb_name = default_storage.save(f"thumbs/{generation.project_id}/{generation.pk}-{index}.jpg", File(fp))
    except media.MediaError:
        log.warning("No thumbnail for output %s of generation %s", index, generation.pk)
    finally:
        thumb_path.unlink(missing_ok=True)
    try:
        with transaction.atomic():
            Output.objects.create(
                project_id=generation.project_id, generation=generation, index=index, file=stored,
                thumbnail=thumb_name, kind=info.kind, content_type=info.content_type, size=info.size,
                width=info.width, height=info.height, duration=info.duration, sha256=info.sha256,
            )
    except IntegrityError:
        # Another worker recorded this output first; keep theirs.
        if stored != Output.objects.get(generation=generation, index=index).file.name:
            default_storage.delete(stored)
        if thumb_name:
            default_storage.delete(thumb_name)


def copy_outputs(*, generation_id: int) -> None:
    """Stream each output into our storage once, then finish the generation and settle its credits."""
    generation = Generation.objects.select_related("project").filter(pk=generation_id).first()
    if generation is None or generation.status != Status.COPYING:
        return
    urls = list((generation.task_json or {}).get("output") or [])
    done = set(generation.outputs.values_list("index", flat=True))
    refreshed = False
    index = 0
    while index < len(urls):
        if index in done:
            index += 1
            continue
        try:
            path = downloads.fetch_to_temp(urls[index])
        except downloads.DownloadError as error:
            if error.expired and not refreshed:
                refreshed = True
                try:
                    state = runway.retrieve_task(generation.runway_task_id)
                except runway.RunwayError as exc:
                    _copy_problem(generation, f"Could not refresh the output links: {exc.message}", transient=True)
                    return
                urls = list(state.output) or urls
                Generation.objects.filter(pk=generation.pk).update(task_json=state.raw)
                continue
            _copy_problem(generation, str(error), transient=error.transient)
            return
        try:
            _store_output(generation, index, path)
        except media.MediaError as error:
            _copy_problem(generation, f"Runway's output is not usable media: {error}", transient=False)
            return
        finally:
            path.unlink(missing_ok=True)
        index += 1
    if generation.transition(Status.COPYING, Status.SUCCEEDED, next_poll_at=None, progress=1.0):
        _finish_credits(generation, charged=generation.cost_credits)


def _copy_problem(generation: Generation, message: str, *, transient: bool) -> None:
    attempts = generation.step_errors + 1
    if transient and attempts < COPY_ATTEMPTS:
        Generation.objects.filter(pk=generation.pk, status=Status.COPYING).update(
            step_errors=attempts, next_poll_at=timezone.now() + _backoff(attempts), attention_reason=message[:300]
        )
        return
    # Runway made (and billed) the output, but we could not keep it.
    _fail(generation, Status.COPYING, message=f"The result could not be saved: {message}", code="COPY.FAILED",
          raw=message, charged=generation.cost_credits if generation.cost_credits is not None
          else generation.estimated_credits)


# --- Cancel ------------------------------------------------------------------------

def cancel_generation(*, generation: Generation) -> bool:
    """Stop a generation; deletes the Runway task. False if it had already finished."""
    generation.refresh_from_db()
    if generation.status in (Status.QUEUED, Status.UPLOADING, Status.SUBMITTING):
        if generation.transition((Status.QUEUED, Status.UPLOADING, Status.SUBMITTING), Status.CANCELLED,
                                 needs_attention=False, next_poll_at=None):
            _ledger().release_hold(generation=generation)
            return True
        generation.refresh_from_db()
    if generation.status in AT_RUNWAY:
        was_running = generation.status == Status.RUNNING
        try:
            runway.delete_task(generation.runway_task_id)
        except runway.RunwayError as error:
            raise SubmissionError(f"Runway did not take the cancellation: {error.message} Try again.") from error
        if generation.transition(AT_RUNWAY, Status.CANCELLED, next_poll_at=None):
            # CONTRACT §3.3: a task cancelled while RUNNING is charged; before that it is refunded.
            _finish_credits(generation, charged=generation.estimated_credits if was_running else None)
            return True
    return False



# --- Ops resolutions for flagged submissions ----------------------------------------

def resolve_as_submitted(*, generation: Generation, task_id: str) -> bool:
    """Ops found the task at Runway: record its id and let the sweep follow it."""
    task_id = task_id.strip()
    if not task_id:
        raise SubmissionError("Give the Runway task id.")
    now = timezone.now()
    recorded = Generation.objects.filter(pk=generation.pk, status=Status.SUBMITTING, runway_task_id="").update(
        runway_task_id=task_id, status=Status.PENDING, submitted_at=now, next_poll_at=now,
        needs_attention=False, attention_reason="", updated_at=now,
    )
    if recorded:
        generation.refresh_from_db()
        ensure_sweep()
    return bool(recorded)


def resolve_as_failed(*, generation: Generation, note: str = "") -> bool:
    """Ops confirmed Runway has no task: fail the generation and release its hold."""
    message = "Submission could not be confirmed with Runway; nothing was charged."
    return _fail(generation, Status.SUBMITTING, message=f"{message} {note}".strip(), code="SUBMIT.UNCONFIRMED",
                 raw=note)
