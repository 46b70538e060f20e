"""Random sequences of ledger operations keep every invariant."""

import contextlib

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.actions import create_team_project
from accounts.models import Membership, Role
from credits import ledger
from credits.models import Hold, HoldState

from .conftest import assert_invariants, make_generation

pytestmark = pytest.mark.django_db

people = st.integers(0, 1)
slots = st.integers(0, 5)
amounts = st.integers(0, 120)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), people, st.integers(1, 150)),
        st.tuples(st.just("adjust"), people, st.integers(-100, 100).filter(bool)),
        st.tuples(st.just("budget"), st.integers(0, 1), st.one_of(st.none(), amounts)),
        st.tuples(st.just("hold"), slots, st.none()),
        st.tuples(st.just("settle"), slots, amounts),
        st.tuples(st.just("release"), slots, st.none()),
        st.tuples(st.just("refund"), slots, st.none()),
    ),
    max_size=30,
)
generation_specs = st.lists(st.tuples(people, st.integers(0, 1), st.integers(0, 60)), min_size=6, max_size=6)


class Rollback(Exception):
    pass


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=generation_specs, ops=operations)
def test_random_operations_keep_the_invariants(owner, editor, specs, ops):
    try:
        with transaction.atomic():
            run(owner, editor, specs, ops)
            raise Rollback  # each example starts from an empty ledger
    except Rollback:
        pass


def run(owner, editor, specs, ops):
    users = [owner, editor]
    projects = [create_team_project(user=owner, name=f"P{i}") for i in range(2)]
    for p in projects:
        Membership.objects.create(project=p, user=editor, role=Role.EDITOR)
    generations = [make_generation(user=users[u], project=projects[p], credits=c) for u, p, c in specs]
    state = ["none"] * len(generations)  # none → open → settled/released; settled → refunded
    for op, who, value in ops:
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
        assert_invariants()
    open_now = {h.generation_id for h in Hold.objects.filter(state=HoldState.OPEN)}
    assert open_now == {g.pk for g, s in zip(generations, state, strict=True) if s == "open"}
