"""Reconciliation task by task: charges that differ from Runway's cost, and Runway usage no charge explains.

Staff drive the real pages (`credits:staff`, `credits:reconcile_day`) with the test client.
The unexplained usage is made the way it happens: a create call whose answer is lost after
Runway made the task (the emulator over HTTP, the real pipeline), then resolved by ops as
never submitted, so Runway bills a task Takes never learned of.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from credits import ledger, organization
from credits.models import Kind, LedgerEntry, utc_today
from generations import resolve
from generations import submit as submitting
from tests.conftest import client_for, make_user
from tests.factories import drive

from .conftest import make_generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return make_user("sam", is_staff=True)


def charged(user, project, *, held: int, charge: int, reported: int | None, model: str = "gen4_turbo"):
    """A generation settled by the ledger at `charge`, its row carrying the cost Runway reported."""
    g = make_generation(user=user, project=project, credits=held, model=model)
    ledger.place_hold(generation=g)
    ledger.settle_hold(generation=g, credits=charge, reported=reported)
    return g


def admin_url(generation) -> str:
    return reverse("admin:generations_generation_change", args=[generation.pk])


def test_charges_that_differ_from_runways_cost_are_listed_each_with_its_generation(editor, project, staff):
    ledger.grant(user=editor, amount=500)
    exact = charged(editor, project, held=25, charge=25, reported=25)
    over = charged(editor, project, held=25, charge=25, reported=20)
    under = charged(editor, project, held=50, charge=40, reported=50, model="gen4_image")
    unknown = charged(editor, project, held=10, charge=10, reported=None)

    response = client_for(staff).get(reverse("credits:staff"))
    assert response.status_code == 200
    rows = {r["generation"]: r for r in response.context["task_rows"]}
    assert set(rows) == {over.pk, under.pk, unknown.pk}
    assert (rows[over.pk]["billed"], rows[over.pk]["cost"], rows[over.pk]["difference"]) == (25, 20, 5)
    assert (rows[under.pk]["billed"], rows[under.pk]["cost"], rows[under.pk]["difference"]) == (40, 50, -10)
    assert (rows[unknown.pk]["cost"], rows[unknown.pk]["difference"]) == (None, None)
    assert rows[under.pk]["model"] == "gen4_image"
    body = response.content.decode()
    for g in (over, under, unknown):
        assert f'href="{admin_url(g)}"' in body
    assert f'href="{admin_url(exact)}"' not in body
    assert "Charged 5 credits more than Runway's cost." in body
    assert "Charged 10 credits less than Runway's cost." in body
    assert "Runway reported no cost; Takes charged its estimate." in body

    day = client_for(staff).get(reverse("credits:reconcile_day", args=[utc_today().isoformat()]))
    assert {r["generation"] for r in day.context["task_rows"]} == {over.pk, under.pk, unknown.pk}
    assert f'href="{admin_url(over)}"' in day.content.decode()
    yesterday = (utc_today() - timedelta(days=1)).isoformat()
    other = client_for(staff).get(reverse("credits:reconcile_day", args=[yesterday]))
    assert other.context["task_rows"] == []
    assert "No charge differs from the cost Runway reported." in other.content.decode()


def test_a_charge_the_balance_could_not_cover_still_matches_runways_cost(editor, project, staff):
    ledger.grant(user=editor, amount=30)
    g = make_generation(user=editor, project=project, credits=25)
    ledger.place_hold(generation=g)
    assert ledger.settle_hold(generation=g, credits=40, reported=40)  # 5 left to take: 10 not covered
    entry = LedgerEntry.objects.get(generation=g, kind=Kind.SETTLE)
    assert (entry.credits, entry.uncharged, entry.cost) == (30, 10, 40)
    response = client_for(staff).get(reverse("credits:staff"))
    assert response.context["task_rows"] == []


def test_a_task_takes_never_learned_of_is_runway_usage_no_charge_explains(project, owner, staff, runway_emulator,
                                                                          media_root):
    ledger.grant(user=owner, amount=1000)

    def submit(prompt: str):
        return submitting.submit_generation(project=project, user=owner, endpoint="text_to_image",
                                            model="gen4_image", params={"prompt_text": prompt, "ratio": "1920:1080"})

    def sync():
        today = utc_today()
        organization.sync_usage(start=today - timedelta(days=1), before=today + timedelta(days=1))

    made = drive(submit("a harbour at dawn"))
    runway_emulator.inject_fault(path="/v1/text_to_image", method="POST", status=502, after=True)
    lost = drive(submit("the answer to this create is lost"))
    assert lost.needs_attention and not lost.runway_task_id
    [orphan] = [c for c in runway_emulator.charges() if c["replyFaulted"]]
    assert orphan["charged"] > 0 and made.runway_task_id != orphan["id"]

    # While flagged, its open hold accounts for what Runway took.
    sync()
    page = client_for(staff).get(reverse("credits:staff"))
    assert page.context["unexplained"] == []
    assert "Runway billed nothing that Takes can't account for." in page.content.decode()

    # Ops decide there was no task: the hold goes back, and Runway's charge for it is unexplained.
    assert resolve.resolve_as_failed(generation=lost, note="not found at Runway")
    sync()
    page = client_for(staff).get(reverse("credits:staff"))
    [row] = page.context["unexplained"]
    assert (row["date"], row["model"]) == (utc_today(), "gen4_image")
    assert row["unexplained"] == orphan["charged"]
    assert row["runway"] == orphan["charged"] + LedgerEntry.objects.get(generation=made, kind=Kind.SETTLE).credits
    assert row["held"] == 0
    body = page.content.decode()
    assert f"{orphan['charged']} credits" in body
    assert "a task Takes never learned of" in body
    assert page.context["task_rows"] == []  # every charge Takes made matches Runway's cost

    day = client_for(staff).get(reverse("credits:reconcile_day", args=[utc_today().isoformat()]))
    assert [r["unexplained"] for r in day.context["unexplained"]] == [orphan["charged"]]


def test_open_holds_explain_runway_usage_for_work_in_flight(editor, project, staff):
    ledger.grant(user=editor, amount=100)
    ledger.place_hold(generation=make_generation(user=editor, project=project, credits=25))
    today = utc_today()
    organization.store_usage({"results": [{"date": today.isoformat(), "usedCredits": [
        {"model": "gen4_turbo", "amount": 30}]}], "models": ["gen4_turbo"]},
        start=today, before=today + timedelta(days=1))
    [row] = client_for(staff).get(reverse("credits:staff")).context["unexplained"]
    assert (row["runway"], row["ledger"], row["held"], row["unexplained"]) == (30, 0, 25, 5)


def test_nothing_to_reconcile_shows_empty_states(staff):
    body = client_for(staff).get(reverse("credits:staff")).content.decode()
    assert "No charge differs from the cost Runway reported." in body
    assert "Runway billed nothing that Takes can't account for." in body


def test_the_pages_do_not_exist_for_anyone_but_staff(editor, project, editor_client, owner_client):
    ledger.grant(user=editor, amount=100)
    charged(editor, project, held=25, charge=25, reported=20)
    day = reverse("credits:reconcile_day", args=[utc_today().isoformat()])
    for url in (reverse("credits:staff"), day):
        assert editor_client.get(url).status_code == 404
        assert owner_client.get(url).status_code == 404
        assert client_for(None).get(url).status_code == 302
