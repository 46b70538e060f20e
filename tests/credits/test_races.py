"""Concurrent callers on separate database connections: nobody spends past a budget.

Runs on whichever database the suite uses: PostgreSQL queues the conditional
updates on the row lock; SQLite (its test database is a file) serialises whole
write transactions on the busy timeout.
"""


import pytest
from django.db import transaction

from credits import ledger
from credits.models import Account, Hold, HoldState, Kind, LedgerEntry
from tests.concurrency import run_together

from .conftest import assert_invariants, make_generation

pytestmark = pytest.mark.django_db(transaction=True)


def submit(generation) -> str:
    try:
        with transaction.atomic():
            ledger.place_hold(generation=generation)
    except ledger.InsufficientCredits:
        return "refused"
    return "held"


def test_64_concurrent_submissions_against_credits_for_10_accept_exactly_10(editor, project):
    ledger.grant(user=editor, amount=100)
    generations = [make_generation(user=editor, project=project, credits=10) for _ in range(64)]
    results = run_together(lambda i: submit(generations[i]), 64)
    assert [r for r in results if r not in ("held", "refused")] == []
    assert results.count("held") == 10
    account = Account.objects.get(user=editor)
    assert (account.balance, account.held) == (0, 100)
    assert Hold.objects.count() == 10
    assert_invariants()


def test_64_concurrent_submissions_against_a_project_budget_for_10(editor, owner, project):
    ledger.grant(user=editor, amount=10_000)
    ledger.set_project_budget(project=project, amount=100, by=owner)
    generations = [make_generation(user=editor, project=project, credits=10) for _ in range(64)]
    results = run_together(lambda i: submit(generations[i]), 64)
    assert results.count("held") == 10, results
    budget = ledger.budget_for(project)
    assert (budget.balance, budget.held) == (0, 100)
    assert Account.objects.get(user=editor).held == 100
    assert_invariants()


def test_20_concurrent_settle_and_release_calls_make_exactly_one_transition(editor, project):
    ledger.grant(user=editor, amount=100)
    generation = make_generation(user=editor, project=project, credits=40)
    ledger.place_hold(generation=generation)

    def close(i: int) -> bool:
        if i % 2:
            return ledger.release_hold(generation=generation)
        return ledger.settle_hold(generation=generation, credits=30)

    results = run_together(close, 20)
    assert results.count(True) == 1, results
    assert results.count(False) == 19, results
    hold = Hold.objects.get()
    assert hold.state in (HoldState.SETTLED, HoldState.RELEASED)
    assert LedgerEntry.objects.filter(kind__in=[Kind.SETTLE, Kind.RELEASE]).count() == 1
    account = Account.objects.get(user=editor)
    assert account.held == 0
    assert account.balance == (70 if hold.state == HoldState.SETTLED else 100)
    assert_invariants()
