"""Fixtures for the credit tests: generations to hold for, and the ledger's invariants."""

import itertools

import pytest
from django.db.models import Sum

from credits.models import Account, Hold, HoldState
from generations.models import Generation

_seq = itertools.count()


@pytest.fixture(autouse=True)
def no_starting_credits(settings):
    # Tests set every balance themselves; the starting grant has its own test.
    settings.STARTING_CREDITS = 0


def make_generation(*, user, project, credits: int = 10, model: str = "gen4_turbo",
                    endpoint: str = "image_to_video", **fields) -> Generation:
    """A queued generation as the pipeline creates it, before its hold."""
    return Generation.objects.create(
        project=project, created_by=user, endpoint=endpoint, model=model,
        estimated_credits=credits, prompt=f"take {next(_seq)}", **fields,
    )


@pytest.fixture
def generation_for():
    return make_generation


def assert_invariants() -> None:
    """Entries sum to balances and holds, open holds equal held, nothing negative."""
    for account in Account.objects.all():
        sums = account.entries.aggregate(amount=Sum("amount"), held=Sum("held_delta"))
        assert (sums["amount"] or 0) == account.balance, account
        assert (sums["held"] or 0) == account.held, account
        open_total = account.holds.filter(state=HoldState.OPEN).aggregate(t=Sum("amount"))["t"] or 0
        assert open_total == account.held, account
        assert account.balance >= 0 and account.held >= 0
    for hold in Hold.objects.filter(state=HoldState.OPEN).select_related("generation"):
        assert hold.amount == hold.generation.estimated_credits
