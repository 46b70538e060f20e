"""A generation finishes and its credits settle together, or neither happens.

The database itself refuses the ledger's write (a trigger, as a full disk or a lost
connection would), so nothing of ours is replaced: the real poller step and the real
copy run against the emulator through the SDK. Finished with its hold still open is
the state a person must never see (the card says failed, the credits stay held).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from credits import ledger
from credits.models import Hold, HoldState, Kind, LedgerEntry
from generations import copy, poll, run
from generations import submit as submitting
from generations.models import AT_RUNWAY, Generation, Status

pytestmark = pytest.mark.django_db(transaction=False)

TABLE = LedgerEntry._meta.db_table


@contextmanager
def ledger_refusing_writes():
    """Every insert into the ledger fails inside the database while this is open."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"CREATE TRIGGER refuse_ledger BEFORE INSERT ON {TABLE} "
                           "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END")
        else:
            cursor.execute("CREATE FUNCTION refuse_ledger() RETURNS trigger AS $$ BEGIN "
                           "RAISE EXCEPTION 'the disk is full'; END $$ LANGUAGE plpgsql")
            cursor.execute(f"CREATE TRIGGER refuse_ledger BEFORE INSERT ON {TABLE} "
                           "FOR EACH ROW EXECUTE FUNCTION refuse_ledger()")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("DROP TRIGGER refuse_ledger")
            else:
                cursor.execute(f"DROP TRIGGER refuse_ledger ON {TABLE}")
                cursor.execute("DROP FUNCTION refuse_ledger()")


def sweep(minutes: int) -> None:
    poll.sweep_once(now=timezone.now() + timedelta(minutes=minutes))


def hold_state(generation: Generation) -> str:
    return Hold.objects.get(generation=generation).state


def charged(generation: Generation) -> int:
    """What Takes charged: the settled credits on the generation's ledger entries."""
    return sum(LedgerEntry.objects.filter(generation=generation, kind=Kind.SETTLE).values_list("credits", flat=True))


def runway_charge(control, generation: Generation) -> int:
    """What the emulator says it charged for the generation's task."""
    return next(c["charged"] for c in control.charges() if c["id"] == generation.runway_task_id)


def test_a_failure_whose_release_is_refused_stays_at_runway_until_both_can_happen(project, funded, runway_emulator):
    g = submitting.submit_generation(project=project, user=funded, endpoint="text_to_image", model="gen4_image",
                                     params={"prompt_text": "harbour [fail:SAFETY.INPUT.TEXT]", "ratio": "1280:720"})
    run.run_generation(generation_id=g.pk)
    with ledger_refusing_writes():
        sweep(10)
    g.refresh_from_db()
    assert g.status in AT_RUNWAY, g.status
    assert hold_state(g) == HoldState.OPEN

    sweep(20)
    g.refresh_from_db()
    assert g.status == Status.FAILED and g.failure_code == "SAFETY.INPUT.TEXT"
    assert hold_state(g) != HoldState.OPEN
    assert ledger.account_for(funded).held == 0
    assert charged(g) == runway_charge(runway_emulator, g)


def test_a_copy_whose_charge_is_refused_is_not_succeeded_until_it_is_charged(project, funded, runway_emulator):
    g = submitting.submit_generation(project=project, user=funded, endpoint="text_to_image", model="gen4_image",
                                     params={"prompt_text": "a harbour at dawn", "ratio": "1280:720"})
    run.run_generation(generation_id=g.pk)
    sweep(10)
    g.refresh_from_db()
    assert g.status == Status.COPYING
    with ledger_refusing_writes(), pytest.raises(DatabaseError, match="the disk is full"):
        copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.COPYING
    assert hold_state(g) == HoldState.OPEN
    stored = g.outputs.count()
    assert stored == len(g.task_json["output"])

    # The copy runs again once its claim is stale: the outputs are kept already, so it only finishes.
    Generation.objects.filter(pk=g.pk).update(claim_token="", claimed_at=None)
    copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED
    assert hold_state(g) == HoldState.SETTLED
    assert g.outputs.count() == stored
    assert charged(g) == runway_charge(runway_emulator, g) > 0
