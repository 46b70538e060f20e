"""Following generations at Runway: one pass polls every task that is due, concurrently.

`sweep_once` is one pass of the poller (`generations.poller`, which holds the lease
so that one process polls at a time): it records each reply with a compare-and-set
move, brings back work whose job was lost, and deletes tasks nobody wants.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from runway import client as runway

from . import cancel, copy, jobs
from .failures import human_failure
from .jobs import backoff
from .models import AT_RUNWAY, Generation, Status
from .outcome import fail, finish, flag_for_ops

log = logging.getLogger(__name__)

POLL_INTERVAL = timedelta(seconds=5)  # Runway updates a task about every 5 s
THROTTLED_MAX_INTERVAL = timedelta(seconds=30)
STALE_STEP = timedelta(minutes=3)  # longer than any single step's outside call
# Polls in flight at once are sized from Runway's answer time (see `poll_threads`).
POLL_PROBES = 3  # polls made one by one at the start of a pass, to time Runway's answers
MAX_POLL_THREADS = 32
MALFORMED_LIMIT = 3  # replies in a row that are not a task before the generation fails
STALLED_SUBMISSION = "A worker stopped during submission; Runway may or may not have the task."


@dataclass
class SweepStats:
    polled: int = 0
    http_calls: int = 0
    finished: int = 0
    errors: int = 0
    resumed: int = 0
    flagged: int = 0
    deleted: int = 0
    threads: int = 0  # polls in flight at once (`poll_threads`)
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
        if Generation.objects.filter(pk=generation.pk, status__in=AT_RUNWAY).exclude(cancel_answer="").exists():
            # A cancel deleted it after recording Runway's answer: settled as that cancel, not as lost.
            cancel.settle_deleted(generation)
            return "finished"
        fail(generation, AT_RUNWAY, message="Runway no longer has this task (it was deleted or lost). "
             "Nothing was charged for it.", code="TASK.LOST", raw=state.message)
        return "finished"
    if isinstance(state, runway.MalformedReply):
        return _malformed(generation, state, now)
    if isinstance(state, runway.RunwayError):
        errors = generation.poll_errors + 1
        Generation.objects.filter(pk=generation.pk, status__in=AT_RUNWAY).update(
            poll_errors=errors, next_poll_at=now + backoff(errors, state.retry_after)
        )
        return "error"
    if state.status in AT_RUNWAY:
        fields: dict[str, Any] = {"progress": min(1.0, max(0.0, state.progress)), "poll_errors": 0, "bad_replies": 0,
                                  "next_poll_at": _next_poll(generation, state.status, now), "task_json": state.raw}
        if state.status == Status.RUNNING and not generation.started_at:
            fields["started_at"] = now
        generation.transition(AT_RUNWAY, state.status, **fields)
        return "progress"
    if state.status == "SUCCEEDED":
        # The copy job is queued now; the poller looks again only if it never ran (a lost job).
        if generation.transition(AT_RUNWAY, Status.COPYING, task_json=state.raw, progress=1.0, cost_credits=state.cost,
                                 next_poll_at=now + copy.claim_stale_after(), poll_errors=0, step_errors=0,
                                 claim_token="", claimed_at=None):
            jobs.enqueue("generations.tasks.copy_outputs", generation.pk)
        return "copying"
    if state.status == "FAILED":
        fail(generation, AT_RUNWAY, message=human_failure(state.failure_code, state.failure),
             code=state.failure_code or "INTERNAL", raw=state.failure, task_json=state.raw, cost_credits=state.cost)
        return "finished"
    if state.status == "CANCELLED":
        finish(generation, AT_RUNWAY, Status.CANCELLED, task_json=state.raw, cost_credits=state.cost,
               next_poll_at=None)
        return "finished"
    return "error"


def _malformed(generation: Generation, error: runway.RunwayError, now: datetime) -> str:
    """Count a reply that is not a task; after a few in a row the generation fails, with the reason."""
    count = generation.bad_replies + 1
    if count >= MALFORMED_LIMIT:
        fail(generation, AT_RUNWAY, message=f"Runway kept answering about this task with something that is not "
             f"a task ({error.message}) — {count} times in a row, so Takes stopped following it.",
             code="TASK.MALFORMED", raw=error.message, bad_replies=count)
        return "finished"
    Generation.objects.filter(pk=generation.pk, status__in=AT_RUNWAY).update(
        bad_replies=count, next_poll_at=now + backoff(count))
    return "error"


def poll_threads(*, latency: float, cpu: float) -> int:
    """How many polls to keep in flight: enough to cover Runway's answer time, no more.

    A poll costs `cpu` seconds of this process (the SDK, httpx, parsing) and waits `latency`
    seconds in all; while one waits, latency / cpu others can use the interpreter (Little's
    law). More threads than that only queue for the interpreter lock, and each handover costs
    CPU: against a local Runway answering in about a millisecond, a pass over 1,000 tasks
    took a third longer with 16 threads than with 2. Against Runway's real 100-300 ms
    answers, the cap is what counts.
    """
    if cpu <= 0:
        return MAX_POLL_THREADS
    return max(1, min(MAX_POLL_THREADS, math.ceil(latency / cpu)))


def _fetch_states(generations: list[Generation]) -> tuple[list[runway.TaskState | runway.RunwayError], int]:
    """Each generation's task state, and how many polls were in flight at once."""
    def one(task_id: str):
        try:
            return runway.retrieve_task(task_id)
        except runway.RunwayError as error:
            return error

    def timed(task_id: str):
        started, cpu = time.perf_counter(), time.thread_time()
        state = one(task_id)
        return state, time.perf_counter() - started, time.thread_time() - cpu

    ids = [g.runway_task_id for g in generations]
    probes = [timed(task_id) for task_id in ids[:POLL_PROBES]]
    states = [state for state, _, _ in probes]
    rest, threads = ids[POLL_PROBES:], min(1, len(ids))
    if rest:
        threads = poll_threads(latency=statistics.median(p[1] for p in probes),
                               cpu=statistics.median(p[2] for p in probes))
        threads = min(threads, len(rest))
        if threads == 1:
            states += [one(task_id) for task_id in rest]
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                states += pool.map(one, rest)
    return states, threads


def resume_stalled(*, now: datetime | None = None) -> tuple[int, int]:
    """Bring back work whose job was lost or is due again; flag uncertain submissions. (resumed, flagged)"""
    now = now or timezone.now()
    stale = now - STALE_STEP
    flagged = 0
    for generation in Generation.objects.filter(status=Status.SUBMITTING, runway_task_id="", needs_attention=False,
                                                updated_at__lte=stale):
        flagged += flag_for_ops(generation=generation, reason=STALLED_SUBMISSION)
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
        jobs.enqueue("generations.tasks.run_generation", pk)
        resumed += 1
    # A copy whose job was lost, whose attempt is due again, or whose worker died (a stale claim).
    stale_claim = now - copy.claim_stale_after()
    copies = Generation.objects.filter(Q(claim_token="") | Q(claimed_at__lte=stale_claim), status=Status.COPYING,
                                       next_poll_at__lte=now).values_list("pk", flat=True)
    for pk in copies:
        Generation.objects.filter(pk=pk).update(next_poll_at=timezone.now() + copy.claim_stale_after())
        jobs.enqueue("generations.tasks.copy_outputs", pk)
        resumed += 1
    return resumed, flagged


def sweep_once(*, now: datetime | None = None, limit: int = 2000) -> SweepStats:
    """One pass: poll every generation due at Runway and resume anything stalled."""
    now = now or timezone.now()
    stats = SweepStats()
    due = list(Generation.objects.due_for_poll(now).only(
        "pk", "status", "runway_task_id", "submitted_at", "started_at", "poll_errors", "bad_replies",
        "estimated_credits",
        "created_by_id", "project_id",
    ).order_by("next_poll_at")[:limit])
    states, stats.threads = _fetch_states(due)
    stats.polled = stats.http_calls = len(due)
    unchanged: list[Generation] = []
    for generation, state in zip(due, states, strict=True):
        if _still_going(generation, state):
            # The common case — still at Runway, same status, new progress: written in bulk below.
            _record_progress(generation, state, now)
            unchanged.append(generation)
            outcome = "progress"
        else:
            outcome = _apply_one(generation, state, now)
        stats.statuses[outcome] = stats.statuses.get(outcome, 0) + 1
        stats.errors += outcome == "error"
        stats.finished += outcome in ("finished", "copying")
    if unchanged:
        # A few statements instead of one per generation, never touching `status`, so a cancel
        # or a finish that landed meanwhile keeps its own. What every row shares is one plain
        # UPDATE; only what differs goes through bulk_update's CASE expressions.
        _write_progress(unchanged)
    stats.resumed, stats.flagged = resume_stalled(now=now)
    stats.deleted = delete_unwanted_tasks(now=now)
    return stats


BULK_BATCH = 500
SHARED_NEXT_POLLS = 5  # distinct next-poll moments written as plain updates before bulk_update takes them


def _write_progress(unchanged: list[Generation]) -> None:
    """Progress of tasks still running, in a few statements.

    Runway's reply itself (task_json) is kept at each change of status, not at every tick.
    """
    updated = timezone.now()
    by_next: dict[datetime, list[int]] = defaultdict(list)
    for g in unchanged:
        by_next[g.next_poll_at].append(g.pk)
    fields = []
    if len(by_next) <= SHARED_NEXT_POLLS:
        for moment, pks in by_next.items():  # running and pending tasks share their next poll
            Generation.objects.filter(pk__in=pks).update(next_poll_at=moment, poll_errors=0, bad_replies=0,
                                                         updated_at=updated)
    else:
        Generation.objects.filter(pk__in=[g.pk for g in unchanged]).update(poll_errors=0, bad_replies=0,
                                                                           updated_at=updated)
        fields.append("next_poll_at")
    # Progress differs row by row; a generation that finished meanwhile keeps its own.
    Generation.objects.at_runway().set_progress({g.pk: g.progress for g in unchanged}, batch_size=BULK_BATCH)
    if any(getattr(g, "newly_started", False) for g in unchanged):
        fields.append("started_at")
    if fields:
        Generation.objects.bulk_update(unchanged, fields, batch_size=BULK_BATCH)


def _still_going(generation: Generation, state) -> bool:
    return isinstance(state, runway.TaskState) and state.status == generation.status and state.status in AT_RUNWAY


def _record_progress(generation: Generation, state: runway.TaskState, now: datetime) -> None:
    generation.progress = min(1.0, max(0.0, state.progress))
    generation.next_poll_at = _next_poll(generation, state.status, now)
    generation.newly_started = state.status == Status.RUNNING and not generation.started_at
    if generation.newly_started:
        generation.started_at = now


def _apply_one(generation: Generation, state, now: datetime) -> str:
    try:
        return apply_task_state(generation=generation, state=state, now=now)
    except Exception:  # one generation's trouble never stops the others being polled
        log.exception("Recording Runway's reply for generation %s failed", generation.pk)
        Generation.objects.filter(pk=generation.pk, status__in=AT_RUNWAY).update(
            poll_errors=generation.poll_errors + 1, next_poll_at=now + backoff(generation.poll_errors + 1))
        return "error"


def delete_unwanted_tasks(*, now: datetime | None = None, limit: int = 50) -> int:
    """Try again to delete the Runway tasks of generations cancelled while their create call ran."""
    unwanted = Generation.objects.filter(status=Status.CANCELLED, needs_attention=True, next_poll_at__lte=now or timezone.now(),
                                         attention_reason=cancel.CREATED_AFTER_CANCEL).exclude(runway_task_id="")
    return sum(1 for generation in unwanted[:limit] if cancel.delete_unwanted_task(generation))
