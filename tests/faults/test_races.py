"""Races on real database connections: submissions against a small balance, and a cancel
meeting Runway's final answer (or a second worker with the same answer) on one generation.

Each thread opens its own connection. PostgreSQL queues the conditional updates on
row locks; SQLite (on disk, IMMEDIATE transactions) serialises writers on its busy
timeout — the outcome must be the same.
"""

from __future__ import annotations

import uuid

import pytest

from credits import ledger
from credits.models import Account, Hold, HoldState, Kind, LedgerEntry
from generations import cancel, poll
from generations import submit as submitting
from generations.models import AT_RUNWAY, Generation, Status
from runway import client as runway
from tests.concurrency import run_together

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broke(owner, settings):
    settings.STARTING_CREDITS = 0
    return owner


def test_concurrent_submissions_never_overdraw(project, broke, still, queue_name, runway_emulator,
                                               chaos_report):
    ledger.grant(user=broke, amount=100, note="room for four")  # gen4_turbo, 5 s = 25 credits

    def submit(i: int) -> str:
        try:
            submitting.submit_generation(project=project, user=broke, endpoint="image_to_video", model="gen4_turbo",
                                       params={"prompt_image": still.pk, "ratio": "1280:720", "duration": 5,
                                               "prompt_text": f"race {i}"})
        except submitting.SubmissionError as exc:
            assert "you have" in str(exc)
            return "refused"
        return "accepted"

    results = run_together(submit, 16)
    chaos_report.add("race_rounds")
    assert sorted(results) == ["accepted"] * 4 + ["refused"] * 12, results
    account = Account.objects.get(user=broke)
    assert (account.balance, account.held) == (0, 100)
    assert Generation.objects.count() == 4
    assert Hold.objects.filter(state=HoldState.OPEN).count() == 4
    assert LedgerEntry.objects.filter(kind=Kind.HOLD).count() == 4


def at_runway(project, user, still, control, status: str = "RUNNING") -> Generation:
    """A submitted generation (hold placed) whose task is live at the emulator."""
    g = submitting.submit_generation(project=project, user=user, endpoint="image_to_video", model="gen4_turbo",
                                   params={"prompt_image": still.pk, "ratio": "1280:720", "duration": 5})
    task_id = str(uuid.uuid4())
    control.seed_task(id=task_id, status=status, model="gen4_turbo", endpoint="image_to_video",
                      ratio="1280:720", duration=5)
    # As if the create call had just returned this task (the emulator was seeded with it).
    assert Generation.objects.filter(pk=g.pk, status=Status.QUEUED).update(
        status=status, runway_task_id=task_id, submitted_at=g.created_at)
    g.refresh_from_db()
    return g


def answer(kind: str, task_id: str) -> runway.TaskState:
    raw = {"id": task_id, "status": kind, "createdAt": "2026-01-01T00:00:00.000Z"}
    if kind == "FAILED":
        return runway.TaskState(id=task_id, status=kind, failure="An unexpected error occurred.",
                                failure_code="INTERNAL.BAD_OUTPUT.CODE01", cost=0, raw=raw)
    if kind == "SUCCEEDED":
        return runway.TaskState(id=task_id, status=kind, output=("https://example.invalid/x.mp4",), cost=25,
                                raw={**raw, "output": ["https://example.invalid/x.mp4"]})
    return runway.TaskState(id=task_id, status=kind, cost=0, raw=raw)


ROUNDS = 6


@pytest.mark.parametrize("pair", [("cancel", "FAILED"), ("cancel", "SUCCEEDED"), ("cancel", "CANCELLED"),
                                  ("cancel", "cancel"), ("FAILED", "FAILED")])
def test_cancel_and_final_answer_race_to_exactly_one_ending(pair, project, funded, still, queue_name,
                                                            runway_emulator, chaos_report):
    for _ in range(ROUNDS):
        g = at_runway(project, funded, still, runway_emulator)

        def act(i: int):
            mine = Generation.objects.get(pk=g.pk)
            if pair[i] == "cancel":
                try:
                    return cancel.cancel_generation(generation=mine)
                except submitting.SubmissionError as exc:  # Runway said the task is gone: a clear refusal
                    return exc
            return poll.apply_task_state(generation=mine, state=answer(pair[i], g.runway_task_id))

        results = run_together(act, 2)
        chaos_report.add("race_rounds")
        g.refresh_from_db()
        closings = LedgerEntry.objects.filter(generation=g, kind__in=(Kind.SETTLE, Kind.RELEASE)).count()
        hold = Hold.objects.get(generation=g)
        cancels = [r for side, r in zip(pair, results, strict=True) if side == "cancel"]
        assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, submitting.SubmissionError)]
        assert g.status not in AT_RUNWAY, (pair, g.status, results)
        if g.status == Status.COPYING:
            # Runway's success won: the hold waits for the copy, the cancel was refused.
            assert closings == 0 and hold.state == HoldState.OPEN
            assert cancels == [False]
            continue
        assert closings == 1, (pair, g.status, results)
        assert hold.state in (HoldState.SETTLED, HoldState.RELEASED)
        wins = cancels.count(True)
        assert wins <= 1 and (wins == 0 or g.status == Status.CANCELLED), (pair, g.status, results)
        if g.status == Status.CANCELLED and "CANCELLED" not in pair:
            assert wins == 1, (pair, results)
    account = Account.objects.get(user=funded)
    entries = LedgerEntry.objects.filter(account=account)
    assert sum(e.amount for e in entries) == account.balance
    assert sum(e.held_delta for e in entries) == account.held
