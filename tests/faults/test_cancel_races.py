"""Cancels racing Runway's own progress: at seeded random moments of a task's life, with our last poll stale.

Each round submits one generation, lets the emulator's (frozen) clock run to a moment
drawn at random inside one phase of the task's life — PENDING, RUNNING or SUCCEEDED —
sometimes after a poll at an earlier random moment, sometimes with no poll at all, and
cancels. What Runway kept for that one task is the emulator's own balance before the
create call minus after the settlement; Takes must have charged the person exactly that.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from credits import ledger
from emulator.models import TIMINGS
from generations import cancel, copy, poll, run
from generations import submit as submitting
from generations.models import Generation, Output, Status

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

PENDING_FOR, RUNNING_FOR = TIMINGS["video"]  # emulated seconds at speed 1
DONE_AT = PENDING_FOR + RUNNING_FOR
PHASES = {"PENDING": (0.0, PENDING_FOR), "RUNNING": (PENDING_FOR, DONE_AT), "SUCCEEDED": (DONE_AT, DONE_AT + 30)}
PER_PHASE = 4
SEED = 14
LATER = timedelta(minutes=10)


def moments(rng: random.Random) -> list[tuple[str, float, float | None]]:
    """(phase, cancel moment, poll moment or None), shuffled; moments keep clear of the phase edges."""
    rounds = []
    for phase, (start, end) in PHASES.items():
        for _ in range(PER_PHASE):
            at = rng.uniform(start + 0.2, end - 0.2)
            rounds.append((phase, at, rng.uniform(0.0, at - 0.1) if rng.random() < 0.5 else None))
    rng.shuffle(rounds)
    return rounds


def test_cancels_at_random_moments_charge_exactly_what_runway_kept(project, funded, still, runway_emulator):
    control = runway_emulator
    control.freeze_clock(True)
    control.set_speed(1)
    seen = []
    for phase, at, polled_at in moments(random.Random(SEED)):
        runway_before = control.state()["credit_balance"]
        takes_before = ledger.account_for(funded).balance
        g = submitting.submit_generation(project=project, user=funded, endpoint="image_to_video",
                                         model="gen4_turbo",
                                         params={"prompt_image": still.pk, "ratio": "1280:720", "duration": 5})
        run.run_generation(generation_id=g.pk)
        g.refresh_from_db()
        task_id, where = g.runway_task_id, (phase, round(at, 2), polled_at and round(polled_at, 2))
        elapsed = 0.0
        if polled_at is not None:
            control.advance_clock(polled_at)
            elapsed = polled_at
            poll.sweep_once(now=timezone.now() + LATER)
        control.advance_clock(at - elapsed)

        result = cancel.cancel_generation(generation=g)

        g.refresh_from_db()
        if g.status == Status.COPYING:
            copy.copy_outputs(generation_id=g.pk)
            g.refresh_from_db()
        runway_kept = runway_before - control.state()["credit_balance"]
        account = ledger.account_for(funded)
        assert account.held == 0, where
        assert takes_before - account.balance == runway_kept, (where, g.status)
        outputs = Output.objects.filter(generation=g).count()
        if phase == "SUCCEEDED":
            # Finished at Runway: kept there, copied here once, charged Runway's cost.
            assert g.status == Status.SUCCEEDED and outputs == 1, (where, g.status, result)
            assert runway_kept == g.cost_credits > 0, where
        else:
            assert result and g.status == Status.CANCELLED and g.cancel_answer == phase, (where, g.status)
            assert outputs == 0, where
            assert runway_kept == (g.estimated_credits if phase == "RUNNING" else 0), where
            assert control.state()["tasks_by_status"].get("DELETED", 0) == len(
                [s for s in seen if s != "SUCCEEDED"]) + 1, where
        seen.append(phase)
        assert Generation.objects.get(runway_task_id=task_id).pk == g.pk
    assert sorted(set(seen)) == sorted(PHASES)
