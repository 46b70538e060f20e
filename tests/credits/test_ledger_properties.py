"""Random sequences of ledger operations keep every invariant."""

import contextlib

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.actions import create_team_project
from accounts.models import Membership, Role
from credits import ledger
from credits.models import Hold, HoldState, Kind, LedgerEntry

from .conftest import assert_invariants, make_generation

pytestmark = pytest.mark.django_db

people = st.integers(0, 1)
slots = st.integers(0, 5)
amounts = st.integers(0, 120)

values = {
    "grant": st.integers(1, 150),
    "adjust": st.one_of(st.integers(-100, -1), st.integers(1, 100)),
    "budget": st.one_of(st.none(), amounts),
    "hold": st.none(),
    "settle": amounts,
    "release": st.none(),
    "refund": st.none(),
    "resize": st.integers(-5, 150),  # up and down, to the same figure, and below zero (a refusal)
}
# The state in which an operation on a generation's hold does something.
acts_on = {"hold": "none", "settle": "open", "release": "open", "refund": "settled", "resize": "open"}
generation_specs = st.lists(st.tuples(people, st.integers(0, 1), st.integers(0, 60)), min_size=6, max_size=6)
# What each person starts with: enough, often, that holds open and resizes have something to move.
starting_funds = st.tuples(st.integers(0, 300), st.integers(0, 300))


class Rollback(Exception):
    pass


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(funds=starting_funds, specs=generation_specs, data=st.data())
def test_random_operations_keep_the_invariants(owner, editor, funds, specs, data):
    try:
        with transaction.atomic():
            run(owner, editor, funds, specs, data)
            raise Rollback  # each example starts from an empty ledger
    except Rollback:
        pass


def run(owner, editor, funds, specs, data):
    users = [owner, editor]
    for user, amount in zip(users, funds, strict=True):
        if amount:
            ledger.grant(user=user, amount=amount)
    projects = [create_team_project(user=owner, name=f"P{i}") for i in range(2)]
    for p in projects:
        Membership.objects.create(project=p, user=editor, role=Role.EDITOR)
    generations = [make_generation(user=users[u], project=projects[p], credits=c) for u, p, c in specs]
    state = ["none"] * len(generations)  # none → open → settled/released; settled → refunded
    resized = [False] * len(generations)  # a generation's holds follow Runway's estimate once
    for _ in range(data.draw(st.integers(0, 30), label="steps")):
        op = data.draw(st.sampled_from(list(values)), label="op")
        who = data.draw(target(op, state), label="who")
        value = data.draw(values[op], label="value")
        if op == "grant":
            ledger.grant(user=users[who], amount=value)
        elif op == "adjust":
            with contextlib.suppress(ledger.LedgerError):
                ledger.adjust(user=users[who], amount=value, note="property")
        elif op == "budget":
            try:
                ledger.set_project_budget(project=projects[who], amount=value, by=owner)
            except ledger.LedgerError:
                assert value is not None
        else:
            g = generations[who]
            if op == "hold":
                try:
                    ledger.place_hold(generation=g)
                    if state[who] == "none":
                        state[who] = "open"
                except ledger.InsufficientCredits:
                    assert state[who] == "none"
            elif op == "settle":
                assert ledger.settle_hold(generation=g, credits=value) == (state[who] == "open")
                if state[who] == "open":
                    state[who] = "settled"
            elif op == "release":
                assert ledger.release_hold(generation=g) == (state[who] == "open")
                if state[who] == "open":
                    state[who] = "released"
            elif op == "refund":
                assert ledger.refund(generation=g, by=owner) == (state[who] == "settled")
                if state[who] == "settled":
                    state[who] = "refunded"
            elif op == "resize":
                moved = resize(g, value, held=state[who] != "none", can_move=state[who] == "open" and not resized[who])
                resized[who] = resized[who] or moved
        assert_invariants()
        assert_each_hold_closed_at_most_once()
    open_now = {h.generation_id for h in Hold.objects.filter(state=HoldState.OPEN)}
    assert open_now == {g.pk for g, s in zip(generations, state, strict=True) if s == "open"}


def target(op, state):
    """Who an operation acts on: half the time a generation it applies to, else anyone (a refusal)."""
    if op in ("grant", "adjust", "budget"):
        return people
    apt = [i for i, s in enumerate(state) if s == acts_on[op]]
    return st.one_of(st.sampled_from(apt), slots) if apt else slots


def resize(generation, credits, *, held, can_move) -> bool:
    """Resize as the pipeline does, checking the answer against what the accounts can cover."""
    if credits < 0 or not held:
        with pytest.raises(ledger.LedgerError):
            ledger.resize_hold(generation=generation, credits=credits)
        return False
    holds = list(Hold.objects.filter(generation=generation).select_related("account"))
    delta = credits - generation.estimated_credits
    covered = all(h.account.balance >= delta for h in holds)
    expected = can_move and delta != 0 and covered
    moved = ledger.resize_hold(generation=generation, credits=credits)
    assert moved == expected
    # The pipeline's side (generations.run): the estimate follows only a hold that moved everywhere.
    if {h.amount for h in ledger.open_holds_of(generation)} == {credits}:
        generation.estimated_credits = credits
        generation.save(update_fields=["estimated_credits"])
    return moved


def assert_each_hold_closed_at_most_once():
    """An open hold has no settle or release entry; a closed one exactly the one its state names."""
    closing = {Kind.SETTLE: HoldState.SETTLED, Kind.RELEASE: HoldState.RELEASED}
    entries = {}
    for account_id, generation_id, kind in LedgerEntry.objects.filter(kind__in=list(closing)).values_list(
        "account_id", "generation_id", "kind"
    ):
        entries.setdefault((account_id, generation_id), []).append(kind)
    for hold in Hold.objects.all():
        kinds = entries.get((hold.account_id, hold.generation_id), [])
        assert [closing[k] for k in kinds] == ([] if hold.state == HoldState.OPEN else [hold.state]), hold
