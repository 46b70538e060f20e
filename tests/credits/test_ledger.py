"""The ledger through its public functions: holds, charges, releases, refunds, budgets, alerts."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import F

from credits import ledger, settlement
from credits.models import Account, Hold, HoldState, Kind, LedgerEntry, Notice
from generations import outcome
from generations.models import Generation

from .conftest import assert_invariants, make_generation

pytestmark = pytest.mark.django_db


def balance(user):
    account = ledger.account_for(user)
    account.refresh_from_db()
    return account.balance, account.held


def test_grant_then_hold_moves_credits_to_held(editor, project):
    ledger.grant(user=editor, amount=100, note="welcome")
    ledger.place_hold(generation=make_generation(user=editor, project=project, credits=30))
    assert balance(editor) == (70, 30)
    assert_invariants()


def test_hold_refused_with_the_persons_numbers(editor, project):
    ledger.grant(user=editor, amount=35)
    generation = make_generation(user=editor, project=project, credits=60)
    with pytest.raises(ledger.InsufficientCredits, match="This needs 60 credits; you have 35 left."):
        ledger.place_hold(generation=generation)
    assert balance(editor) == (35, 0)
    assert not Hold.objects.exists()
    assert_invariants()


def test_hold_refused_by_the_project_budget_and_nothing_is_kept(editor, owner, project):
    ledger.grant(user=editor, amount=500)
    ledger.set_project_budget(project=project, amount=20, by=owner)
    generation = make_generation(user=editor, project=project, credits=60)
    with pytest.raises(ledger.InsufficientCredits) as exc:
        ledger.place_hold(generation=generation)
    assert str(exc.value) == "This needs 60 credits; the project “Moonshot” has 20 left of its budget."
    # The person's part was taken first and rolled back with the savepoint.
    assert balance(editor) == (500, 0)
    assert not Hold.objects.exists()
    assert_invariants()


def test_hold_is_placed_on_person_and_budget(editor, owner, project):
    ledger.grant(user=editor, amount=500)
    ledger.set_project_budget(project=project, amount=100, by=owner)
    generation = make_generation(user=editor, project=project, credits=40)
    ledger.place_hold(generation=generation)
    budget = ledger.budget_for(project)
    assert (budget.balance, budget.held) == (60, 40)
    assert list(ledger.open_holds(project)) == list(Hold.objects.filter(account=budget))
    assert ledger.open_holds(editor).get().amount == 40


def test_place_hold_twice_is_a_no_op(editor, project):
    ledger.grant(user=editor, amount=100)
    generation = make_generation(user=editor, project=project, credits=30)
    ledger.place_hold(generation=generation)
    ledger.place_hold(generation=generation)
    assert balance(editor) == (70, 30)
    assert LedgerEntry.objects.filter(kind=Kind.HOLD).count() == 1


def test_failed_hold_rolls_back_with_the_callers_transaction(editor, project):
    ledger.grant(user=editor, amount=5)
    with pytest.raises(ledger.InsufficientCredits), transaction.atomic():
        generation = make_generation(user=editor, project=project, credits=10)
        ledger.place_hold(generation=generation)
    assert not project.generations.exists()


def test_settle_charges_the_cost_and_returns_the_rest(editor, project):
    ledger.grant(user=editor, amount=100)
    generation = make_generation(user=editor, project=project, credits=50)
    ledger.place_hold(generation=generation)
    assert ledger.settle_hold(generation=generation, credits=30, reported=30) is True
    assert balance(editor) == (70, 0)
    charge = LedgerEntry.objects.get(kind=Kind.SETTLE)
    assert (charge.credits, charge.cost, charge.uncharged, charge.model) == (30, 30, 0, "gen4_turbo")
    assert ledger.settle_hold(generation=generation, credits=30) is False
    assert ledger.release_hold(generation=generation) is False
    assert balance(editor) == (70, 0)
    assert_invariants()


@pytest.mark.parametrize(("outcome", "reported", "was_running", "charge"), [
    ("SUCCEEDED", 12, False, 12), ("SUCCEEDED", None, False, 50), ("CANCELLED", None, True, 50),
    ("FAILED", 25, False, 25),
])
def test_the_charge_entry_keeps_the_cost_runway_reported_beside_what_was_charged(
        outcome, reported, was_running, charge, editor, project):
    ledger.grant(user=editor, amount=100)
    generation = make_generation(user=editor, project=project, credits=50)
    ledger.place_hold(generation=generation)
    assert settlement.close_hold(generation=generation, outcome=outcome, cost=reported, was_running=was_running)
    entry = LedgerEntry.objects.get(kind=Kind.SETTLE)
    assert (entry.credits, entry.cost) == (charge, reported)  # no reported cost is not "the charge"


def test_settle_zero_means_fully_refunded(editor, project):
    ledger.grant(user=editor, amount=100)
    generation = make_generation(user=editor, project=project, credits=50)
    ledger.place_hold(generation=generation)
    assert ledger.settle_hold(generation=generation, credits=0)
    assert balance(editor) == (100, 0)


def test_settle_above_the_hold_takes_what_the_balance_has_and_records_the_rest(editor, project):
    ledger.grant(user=editor, amount=60)
    generation = make_generation(user=editor, project=project, credits=50)
    ledger.place_hold(generation=generation)
    assert ledger.settle_hold(generation=generation, credits=75, reported=75)
    assert balance(editor) == (0, 0)
    charge = LedgerEntry.objects.get(kind=Kind.SETTLE)
    assert (charge.credits, charge.cost, charge.uncharged) == (60, 75, 15)
    assert Hold.objects.get().charged == 60
    assert_invariants()


def test_settle_above_the_hold_within_the_balance(editor, project):
    ledger.grant(user=editor, amount=100)
    generation = make_generation(user=editor, project=project, credits=50)
    ledger.place_hold(generation=generation)
    ledger.settle_hold(generation=generation, credits=55)
    assert balance(editor) == (45, 0)
    assert LedgerEntry.objects.get(kind=Kind.SETTLE).uncharged == 0


def test_release_gives_everything_back_once_and_excludes_settle(editor, owner, project):
    ledger.grant(user=editor, amount=100)
    ledger.set_project_budget(project=project, amount=80, by=owner)
    generation = make_generation(user=editor, project=project, credits=50)
    ledger.place_hold(generation=generation)
    assert ledger.release_hold(generation=generation) is True
    assert ledger.release_hold(generation=generation) is False
    assert ledger.settle_hold(generation=generation, credits=50) is False
    assert balance(editor) == (100, 0)
    budget = ledger.budget_for(project)
    assert (budget.balance, budget.held) == (80, 0)
    assert_invariants()


def test_refund_gives_back_a_settled_charge_once(editor, owner, project):
    ledger.grant(user=editor, amount=100)
    generation = make_generation(user=editor, project=project, credits=50)
    ledger.place_hold(generation=generation)
    assert not ledger.refund(generation=generation, by=owner)  # nothing settled yet
    ledger.settle_hold(generation=generation, credits=40)
    assert ledger.refund(generation=generation, by=owner, note="blurry output") is True
    assert ledger.refund(generation=generation, by=owner) is False
    assert balance(editor) == (100, 0)
    entry = LedgerEntry.objects.get(kind=Kind.REFUND)
    assert (entry.credits, entry.by, entry.note) == (40, owner, "blurry output")
    assert_invariants()


def test_adjust_down_never_below_zero(editor, owner):
    ledger.grant(user=editor, amount=30)
    ledger.adjust(user=editor, amount=-10, by=owner, note="duplicate grant")
    with pytest.raises(ledger.LedgerError, match="below zero: 20 are left to take"):
        ledger.adjust(user=editor, amount=-25, by=owner)
    assert balance(editor) == (20, 0)
    with pytest.raises(ledger.LedgerError):
        ledger.grant(user=editor, amount=-5)
    assert_invariants()


def test_database_refuses_a_negative_balance(editor):
    account = ledger.account_for(editor)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=F("balance") - 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(held=-1)


def test_starting_credits_are_granted_once(editor, settings):
    settings.STARTING_CREDITS = 5000
    Account.objects.filter(user=editor).delete()
    ledger.grant_starting_credits(user=editor)
    ledger.grant_starting_credits(user=editor)
    assert balance(editor) == (5000, 0)
    assert LedgerEntry.objects.filter(account__user=editor, kind=Kind.GRANT).count() == 1


def test_a_new_person_account_comes_with_starting_credits(stranger, settings):
    settings.STARTING_CREDITS = 250
    assert ledger.account_for(stranger).balance == 250
    assert ledger.account_for(stranger).balance == 250


def test_budget_can_be_raised_lowered_and_removed_but_not_below_what_is_held(editor, owner, project):
    ledger.grant(user=editor, amount=1000)
    ledger.set_project_budget(project=project, amount=100, by=owner)
    ledger.place_hold(generation=make_generation(user=editor, project=project, credits=60))
    with pytest.raises(ledger.LedgerError, match="hold 60 credits"):
        ledger.set_project_budget(project=project, amount=50, by=owner)
    budget = ledger.set_project_budget(project=project, amount=60, by=owner)
    assert (budget.balance, budget.held) == (0, 60)
    budget = ledger.set_project_budget(project=project, amount=300, by=owner)
    assert (budget.balance, budget.held) == (240, 60)
    assert ledger.set_project_budget(project=project, amount=None, by=owner) is None
    assert ledger.budget_for(project) is None
    # Without a budget only the person's credits limit submissions.
    ledger.place_hold(generation=make_generation(user=editor, project=project, credits=500))
    assert_invariants()


def test_close_hold_follows_the_refund_rules(editor, project):
    ledger.grant(user=editor, amount=1000)
    cases = [
        ({"outcome": "SUCCEEDED", "cost": None}, 50, Kind.SETTLE),
        ({"outcome": "SUCCEEDED", "cost": 42}, 42, Kind.SETTLE),
        ({"outcome": "FAILED", "cost": None}, 0, Kind.RELEASE),
        ({"outcome": "FAILED", "cost": 0}, 0, Kind.RELEASE),
        ({"outcome": "FAILED", "cost": 50}, 50, Kind.SETTLE),
        ({"outcome": "CANCELLED", "cost": None, "was_running": True}, 50, Kind.SETTLE),
        ({"outcome": "CANCELLED", "cost": None, "was_running": False}, 0, Kind.RELEASE),
        ({"outcome": "CANCELLED", "cost": 0, "was_running": True}, 0, Kind.RELEASE),
    ]
    for kwargs, charged, kind in cases:
        generation = make_generation(user=editor, project=project, credits=50)
        ledger.place_hold(generation=generation)
        assert settlement.close_hold(generation=generation, **kwargs)
        assert Hold.objects.get(generation=generation).charged == charged, kwargs
        closing = LedgerEntry.objects.filter(generation=generation).exclude(kind=Kind.HOLD).get()
        assert closing.kind == kind, kwargs
    assert_invariants()


TASK_ID = "0b1e7c4e-8a47-4f5e-9d55-0d3b1f6f3c11"


def _finished_at_runway(generation, status: str, cost: int | None, *, started: bool = True):
    """The row as a step leaves it once Runway answered `status`, before the hold is closed."""
    task = {"id": TASK_ID, "status": status, "createdAt": "2026-08-01T23:59:58.000Z", "output": []}
    if cost is not None:
        task["cost"] = {"credits": cost}
    Generation.objects.filter(pk=generation.pk).update(
        status=status, task_json=task, cost_credits=cost, runway_task_id=TASK_ID,
        started_at=generation.created_at if started else None,
    )
    generation.refresh_from_db()


@pytest.mark.parametrize(("status", "cost"), [("FAILED", 0), ("FAILED", None), ("FAILED", 7),
                                              ("CANCELLED", 0), ("CANCELLED", None), ("SUCCEEDED", 45)])
def test_one_outcome_leaves_the_same_entry_whether_or_not_a_worker_died_before_settling(
        editor, project, status, cost):
    ledger.grant(user=editor, amount=200)
    live, crashed = (make_generation(user=editor, project=project, credits=50) for _ in range(2))
    for generation in (live, crashed):
        ledger.place_hold(generation=generation)
        _finished_at_runway(generation, status, cost)
    outcome.settle_credits(live)  # the step that saw Runway's answer settles at once
    assert outcome.close_finished_holds() == 1  # the clean-up finds the one a crash left open

    def closing(generation):
        entry = LedgerEntry.objects.filter(generation=generation).exclude(kind=Kind.HOLD).get()
        return entry.kind, entry.credits, entry.amount, entry.held_delta

    assert closing(live) == closing(crashed)
    assert outcome.close_finished_holds() == 0
    assert_invariants()


def test_crash_between_runway_success_and_settlement_settles_on_resume(editor, project):
    ledger.grant(user=editor, amount=100)
    generation = make_generation(user=editor, project=project, credits=50)
    ledger.place_hold(generation=generation)
    # The pipeline recorded Runway's answer, then the worker died before settling.
    _finished_at_runway(generation, "SUCCEEDED", None)
    Generation.objects.filter(pk=generation.pk).update(task_json={
        "id": TASK_ID, "status": "SUCCEEDED", "createdAt": "2026-08-01T23:59:58.000Z", "output": [],
        "cost": {"credits": 45},
    })
    assert outcome.close_finished_holds() == 1
    assert outcome.close_finished_holds() == 0
    charge = LedgerEntry.objects.get(kind=Kind.SETTLE)
    assert (charge.credits, str(charge.usage_date)) == (45, "2026-08-01")
    assert balance(editor) == (55, 0)
    assert_invariants()


def test_alert_once_per_crossing_with_notice_and_email(editor, project, django_capture_on_commit_callbacks):
    ledger.grant(user=editor, amount=100)
    ledger.set_alert(account=ledger.account_for(editor), below=50)
    with django_capture_on_commit_callbacks(execute=True):
        ledger.place_hold(generation=make_generation(user=editor, project=project, credits=30))
        assert not mail.outbox
        second = make_generation(user=editor, project=project, credits=30)
        ledger.place_hold(generation=second)
        ledger.place_hold(generation=make_generation(user=editor, project=project, credits=10))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["eddie@example.com"]
    assert Notice.objects.get(user=editor).message.startswith("You have 40 credits left")
    # Back above the threshold re-arms it; the next drop is a new crossing.
    with django_capture_on_commit_callbacks(execute=True):
        ledger.release_hold(generation=second)
        ledger.place_hold(generation=make_generation(user=editor, project=project, credits=30))
    assert len(mail.outbox) == 2
    assert Notice.objects.filter(user=editor).count() == 2


def test_project_alert_goes_to_owners(editor, owner, project, django_capture_on_commit_callbacks):
    ledger.grant(user=editor, amount=1000)
    budget = ledger.set_project_budget(project=project, amount=100, by=owner)
    ledger.set_alert(account=budget, below=20)
    with django_capture_on_commit_callbacks(execute=True):
        ledger.place_hold(generation=make_generation(user=editor, project=project, credits=90))
    assert mail.outbox[0].to == ["olivia@example.com"]
    assert "“Moonshot” has 10 credits left" in Notice.objects.get(user=owner).message


def test_open_holds_lists_only_open_ones(editor, project):
    ledger.grant(user=editor, amount=100)
    first = make_generation(user=editor, project=project, credits=10)
    second = make_generation(user=editor, project=project, credits=20)
    ledger.place_hold(generation=first)
    ledger.place_hold(generation=second)
    ledger.settle_hold(generation=first, credits=10)
    assert [h.generation for h in ledger.open_holds(editor)] == [second]
    assert Hold.objects.get(generation=first).state == HoldState.SETTLED


def _held_to(generation, credits):
    changed = ledger.resize_hold(generation=generation, credits=credits)
    if {h.amount for h in ledger.open_holds_of(generation)} == {credits}:
        generation.estimated_credits = credits
        generation.save(update_fields=["estimated_credits"])
    return changed


def test_hold_follows_runways_lower_estimate_and_settles_from_it(editor, project):
    ledger.grant(user=editor, amount=100)
    g = make_generation(user=editor, project=project, credits=60)
    ledger.place_hold(generation=g)
    before = balance(editor)[0]
    assert _held_to(g, 40)
    assert balance(editor) == (before + 20, 40)
    assert ledger.settle_hold(generation=g, credits=40)
    assert balance(editor)[1] == 0
    assert_invariants()


def test_hold_rises_to_runways_estimate_only_while_the_balance_covers_it(editor, project):
    ledger.grant(user=editor, amount=100)
    start = ledger.account_for(editor).balance
    g = make_generation(user=editor, project=project, credits=10)
    ledger.place_hold(generation=g)
    assert not ledger.resize_hold(generation=g, credits=start + 1_000)  # can't cover it: the hold stays
    assert balance(editor) == (start - 10, 10)
    assert _held_to(g, 25)
    assert balance(editor) == (start - 25, 25)
    assert not _held_to(g, 30)  # once per generation
    assert ledger.release_hold(generation=g)
    assert balance(editor) == (start, 0)
    assert not ledger.resize_hold(generation=g, credits=5)  # closed holds don't move
    assert_invariants()
