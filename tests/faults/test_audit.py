"""The fault audit itself: Takes' charge for each generation against the emulator's charge for its task.

Generations run through the real pipeline against the emulator over HTTP; to show the audit
catches a wrong charge, a test then rewrites one settled figure in the database (keeping the
ledger's sums true, so only the figure is wrong). The old audit checked money only as
"charged more than the estimate and the cost": each wrong figure here stays inside that bound.
"""

from __future__ import annotations

import uuid

import pytest
from django.db.models import F

from credits.models import Account, Hold, HoldState, Kind, LedgerEntry
from generations import cancel
from generations import submit as submitting
from generations.models import Generation, Status
from tests.factories import drive
from tests.faults.audit import Mismatch, audit, reply_faulted

pytestmark = pytest.mark.django_db


def video(project, user, still, prompt: str) -> Generation:
    return submitting.submit_generation(project=project, user=user, endpoint="image_to_video", model="gen4_turbo",
                                        params={"prompt_image": still.pk, "ratio": "1280:720", "duration": 5,
                                                "prompt_text": prompt})


def misprice(generation: Generation, credits: int) -> None:
    """Rewrite the generation's closed hold as a charge of `credits`; balances and sums stay consistent."""
    hold = Hold.objects.get(generation=generation)
    entry = LedgerEntry.objects.get(generation=generation, kind__in=(Kind.SETTLE, Kind.RELEASE))
    amount = hold.amount - credits
    Account.objects.filter(pk=hold.account_id).update(balance=F("balance") + amount - entry.amount)
    LedgerEntry.objects.filter(pk=entry.pk).update(kind=Kind.SETTLE, credits=credits, amount=amount, uncharged=0)
    Hold.objects.filter(pk=hold.pk).update(state=HoldState.SETTLED, charged=credits)


def within_the_old_check(generation: Generation, charged: int) -> bool:
    """The old audit's only test of money: a problem when `charged > max(estimated, cost)`."""
    generation.refresh_from_db()
    return not charged > max(generation.estimated_credits, generation.cost_credits or 0)


def test_a_clean_run_matches_runway_task_for_task(project, funded, still, runway_emulator, media_root):
    made = drive(video(project, funded, still, "a harbour at dawn"))
    refunded = drive(video(project, funded, still, "a harbour [fail:INTERNAL.BAD_OUTPUT.CODE01]"))
    moderated = drive(video(project, funded, still, "a harbour [fail:SAFETY.INPUT.TEXT]"))
    stopped = video(project, funded, still, "cancelled before Runway had it")
    assert cancel.cancel_generation(generation=stopped)
    runway_emulator.inject_fault(path="/v1/image_to_video", method="POST", status=502, after=True)
    unknown = drive(video(project, funded, still, "the answer to this create is lost"))
    assert [g.status for g in (made, refunded, moderated)] == [Status.SUCCEEDED, Status.FAILED, Status.FAILED]
    assert unknown.needs_attention and not unknown.runway_task_id

    charges = runway_emulator.charges()
    result = audit([made, refunded, moderated, stopped, unknown], charges=charges, media_root=media_root)
    assert not result.problems, result.problems
    assert result.mismatches == []
    assert (result.generations, result.compared, result.tasks) == (5, 4, 4)
    assert result.flagged_ids == [unknown.pk]
    # The one task Takes never learned of is the one whose create answer a 502 replaced.
    assert result.orphans == sorted(reply_faulted(charges)) and len(result.orphans) == 1
    by_task = {c["id"]: c["charged"] for c in charges}
    assert by_task[made.runway_task_id] > 0 and by_task[refunded.runway_task_id] == 0
    assert by_task[moderated.runway_task_id] > 0


@pytest.mark.parametrize("case", ["under-charged success", "charged refunded failure", "charged without a task"])
def test_a_wrong_settled_value_the_old_check_let_through_is_a_mismatch(case, project, funded, still,
                                                                       runway_emulator, media_root):
    if case == "under-charged success":
        g = drive(video(project, funded, still, "a harbour at dawn"))
    elif case == "charged refunded failure":
        g = drive(video(project, funded, still, "a harbour [fail:INTERNAL.BAD_OUTPUT.CODE01]"))
    else:
        g = video(project, funded, still, "cancelled before Runway had it")
        assert cancel.cancel_generation(generation=g)
    charges = runway_emulator.charges()
    truth = next((c["charged"] for c in charges if c["id"] == g.runway_task_id), 0)
    assert audit([g], charges=charges, media_root=media_root).mismatches == []

    wrong = truth - 5 if case == "under-charged success" else g.estimated_credits
    assert wrong >= 0 and wrong != truth
    misprice(g, wrong)
    assert within_the_old_check(g, wrong)
    result = audit([g], charges=charges, media_root=media_root)
    assert result.mismatches == [Mismatch(generation=g.pk, task=g.runway_task_id, takes=wrong, runway=truth)]
    assert not result.problems, result.problems  # the ledger still adds up: only the figure is wrong
    assert str(result.mismatches[0]).endswith(f"was charged {wrong} credits by Takes and {truth} by Runway")


def test_a_task_no_generation_knows_is_an_orphan_and_a_problem_unless_its_answer_was_lost(
        project, funded, still, runway_emulator, media_root):
    known = drive(video(project, funded, still, "followed"))
    unseen = drive(video(project, funded, still, "made by Takes but left out of the audit"))
    result = audit([known], charges=runway_emulator.charges(), media_root=media_root)
    assert result.orphans == [unseen.runway_task_id]
    assert result.mismatches == []
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"Runway task {unseen.runway_task_id} (gen4_turbo, SUCCEEDED, charged")
    assert result.problems[0].endswith("belongs to no generation, though its create answer reached the client")


def test_a_generation_following_a_task_runway_does_not_have_is_a_mismatch(project, funded, still,
                                                                          runway_emulator, media_root):
    g = drive(video(project, funded, still, "a harbour at dawn"))
    real = g.runway_task_id
    Generation.objects.filter(pk=g.pk).update(runway_task_id=str(uuid.uuid4()))
    g.refresh_from_db()
    charged = Hold.objects.get(generation=g).charged
    result = audit([g], charges=runway_emulator.charges(), media_root=media_root)
    assert result.mismatches == [Mismatch(generation=g.pk, task=g.runway_task_id, takes=charged, runway=None)]
    assert result.orphans == [real]
    assert "which Runway does not have" in str(result.mismatches[0])


def test_more_lost_answers_than_flagged_generations_is_a_problem(project, funded, still, runway_emulator,
                                                                 media_root):
    # A refusal after Runway made the task: Takes fails the generation (rightly, by the contract),
    # so no flagged generation leads ops to the task Runway bills.
    runway_emulator.inject_fault(path="/v1/image_to_video", method="POST", status=400, after=True)
    refused = drive(video(project, funded, still, "refused, yet made"))
    assert refused.status == Status.FAILED and not refused.needs_attention
    charges = runway_emulator.charges()
    result = audit([refused], charges=charges, media_root=media_root)
    assert result.orphans == sorted(reply_faulted(charges)) and len(result.orphans) == 1
    assert result.mismatches == []  # no task of its own, charged nothing
    assert result.problems == ["Runway made 1 task whose create answer was lost, but only 0 generations "
                               "flagged for ops to look for them"]
