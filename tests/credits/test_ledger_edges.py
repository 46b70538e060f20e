"""The ledger's edges: bad input to a hold resize, and a budget row that changes under its update."""

import contextlib
from decimal import Decimal

import pytest
from django.db import connection

from audit.models import AuditEntry
from credits import actions, ledger
from credits.models import Account, Hold, Kind, LedgerEntry
from generations.models import Generation

from .conftest import assert_invariants, make_generation

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def just_before_first(prefix: str, writer):
    """Run `writer` once, on our connection, right before the first statement that starts with `prefix`.

    A stand-in for another writer slipping in between the ledger's read and its write.
    """
    fired = []

    def wrapper(execute, sql, params, many, context):
        if not fired and sql.lstrip().upper().startswith(prefix.upper()):
            fired.append(sql)  # first, so the writer's own statements pass straight through
            writer()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield
    assert fired, f"no statement began with {prefix!r}"


def held_for(editor, project, credits=10, *, funds=100):
    ledger.grant(user=editor, amount=funds)
    generation = make_generation(user=editor, project=project, credits=credits)
    ledger.place_hold(generation=generation)
    return generation


def figures(*accounts):
    return [(a.balance, a.held) for a in Account.objects.filter(pk__in=[a.pk for a in accounts]).order_by("pk")]


# --- resize_hold: bad input -------------------------------------------------------------------


def test_resize_to_a_negative_amount_is_a_ledger_error(editor, project):
    generation = held_for(editor, project)
    with pytest.raises(ledger.LedgerError, match="A hold cannot be negative."):
        ledger.resize_hold(generation=generation, credits=-1)
    assert Hold.objects.get().amount == 10
    assert_invariants()


@pytest.mark.parametrize("credits", [2.5, 30.0, "30", None, True, Decimal("30")],
                         ids=["fraction", "float", "text", "none", "bool", "decimal"])
def test_resize_to_something_other_than_whole_credits_is_a_ledger_error(editor, project, credits):
    generation = held_for(editor, project)
    with pytest.raises(ledger.LedgerError, match="A hold is a whole number of credits"):
        ledger.resize_hold(generation=generation, credits=credits)
    assert Hold.objects.get().amount == 10
    assert ledger.account_for(editor).balance == 90
    assert_invariants()


def test_resize_beyond_what_a_hold_can_store_is_a_ledger_error(editor, project):
    # Enough balance to cover it: only the hold's own size limit stands in the way.
    generation = held_for(editor, project, funds=3_000_000_000)
    with pytest.raises(ledger.LedgerError, match="A hold cannot be more than"):
        ledger.resize_hold(generation=generation, credits=2**31)
    assert Hold.objects.get().amount == 10
    assert_invariants()


def test_resize_of_a_generation_without_a_hold_is_a_ledger_error(editor, project):
    generation = make_generation(user=editor, project=project, credits=10)
    with pytest.raises(ledger.LedgerError, match=f"Generation {generation.pk} has no hold to resize."):
        ledger.resize_hold(generation=generation, credits=20)
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("unsaved", [True, False], ids=["unsaved", "none"])
def test_resize_needs_a_saved_generation(editor, project, unsaved):
    held_for(editor, project)  # a hold elsewhere that must not move
    generation = Generation(project=project, created_by=editor, estimated_credits=10) if unsaved else None
    with pytest.raises(ledger.LedgerError, match="Only a saved generation has a hold to resize."):
        ledger.resize_hold(generation=generation, credits=20)
    assert Hold.objects.get().amount == 10
    assert_invariants()


# --- resize_hold: holds that can't move ----------------------------------------------------------


def test_resize_up_moves_the_persons_hold_and_the_budgets_together_or_not_at_all(editor, owner, project):
    ledger.grant(user=editor, amount=500)
    budget = ledger.set_project_budget(project=project, amount=30, by=owner)
    generation = make_generation(user=editor, project=project, credits=20)
    ledger.place_hold(generation=generation)
    person = ledger.account_for(editor)
    before = figures(person, budget)
    # The person could cover 40 more; the budget has only 10 left: neither hold moves.
    assert ledger.resize_hold(generation=generation, credits=60) is False
    assert figures(person, budget) == before
    assert set(Hold.objects.values_list("amount", flat=True)) == {20}
    assert not LedgerEntry.objects.filter(kind=Kind.ADJUST, generation=generation).exists()
    assert_invariants()


def test_a_hold_closed_between_the_resizes_read_and_its_write_is_left_alone(editor, project):
    generation = held_for(editor, project)
    # The release stands in for a cancel on another connection. Sharing ours, it is undone
    # with the resize's own rollback; what matters is that the resize notices, and says so.
    with just_before_first("UPDATE", lambda: ledger.release_hold(generation=generation)):
        assert ledger.resize_hold(generation=generation, credits=30) is False
    assert not LedgerEntry.objects.filter(kind=Kind.ADJUST).exists()
    assert Hold.objects.get().amount == 10
    assert_invariants()


# --- set_project_budget: the compare-and-set -----------------------------------------------------


def test_budget_change_is_refused_when_the_row_changed_under_it(owner, project):
    budget = actions.set_project_budget(project=project, amount=100, by=owner)
    entries, audited = LedgerEntry.objects.count(), AuditEntry.objects.count()
    with (pytest.raises(ledger.LedgerError, match="changed while it was being set"),
          just_before_first('UPDATE "credits_account"', lambda: ledger.grant(project=project, amount=7))):
        actions.set_project_budget(project=project, amount=50, by=owner)
    # Nothing of the refused change was kept: no ledger entry, no audit entry.
    assert figures(budget) == [(100, 0)]
    assert (LedgerEntry.objects.count(), AuditEntry.objects.count()) == (entries, audited)
    assert_invariants()


def test_budget_change_is_refused_when_its_row_is_gone(owner, project):
    audited = AuditEntry.objects.count()
    with (pytest.raises(ledger.LedgerError, match="changed while it was being set"),
          just_before_first('UPDATE "credits_account"',
                            lambda: Account.objects.filter(project=project).delete())):
        actions.set_project_budget(project=project, amount=50, by=owner)
    assert not Account.objects.filter(project=project).exists()
    assert not LedgerEntry.objects.exists()
    assert AuditEntry.objects.count() == audited
    assert_invariants()

