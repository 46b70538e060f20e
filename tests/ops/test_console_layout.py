"""The ops console's layout pieces, and reconciliation that tells a stale copy from a difference."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from credits import ledger
from credits.models import DailyUsage, utc_today
from generations.models import Generation
from tests.conftest import client_for
from tests.credits.conftest import make_generation

pytestmark = pytest.mark.django_db

STALE = "Runway's copy is older than our last charge — sync again"


def test_the_operate_links_are_a_list_not_a_squeezed_table(ops_client):
    body = ops_client.get(reverse("admin:index")).content.decode()
    block = body.split('class="module ops-index-links"', 1)[1].split("</div>", 1)[0]
    assert "<table" not in block
    assert block.count("<li") == 3
    assert f'href="{reverse("admin:ops_queue_health")}"' in block


def test_queue_health_tables_scroll_inside_their_panels(ops_client):
    body = ops_client.get(reverse("admin:ops_queue_health")).content.decode()
    for table in ("by-status", "failures-by-code", "models", "spenders"):
        assert re.search(rf'<div class="ops-scroll"[^>]*>\s*<table id="{table}"', body), table


def test_the_generation_list_keeps_its_right_hand_columns_in_view(ops_client, project, owner):
    Generation.objects.create(project=project, created_by=owner, endpoint="image_to_video", model="gen4_turbo",
                              estimated_credits=5, prompt="a long prompt " * 40)
    body = ops_client.get(reverse("admin:generations_generation_changelist")).content.decode()
    # The results table scrolls within its own box, so the columns past the prompt stay reachable.
    assert re.search(r'<div class="results ops-scroll"', body)
    assert "field-short_prompt" in body


def charge(user, project, *, credits: int, model: str = "gen4_turbo"):
    g = make_generation(user=user, project=project, credits=credits, model=model)
    ledger.place_hold(generation=g)
    ledger.settle_hold(generation=g, credits=credits, reported=credits)
    return g


@pytest.fixture
def staff(db):
    from tests.conftest import make_user

    return make_user("sam", is_staff=True)


def reconciliation_row(body: str, model: str) -> str:
    return re.search(rf"<tr>\s*<td><a [^>]*>[^<]*</a></td>\s*<td>{re.escape(model)}</td>.*?</tr>", body, re.S).group(0)


def test_a_copy_synced_before_our_last_charge_is_stale_not_a_difference(owner, project, staff):
    ledger.grant(user=owner, amount=500)
    today = utc_today()
    charge(owner, project, credits=25)
    DailyUsage.objects.create(date=today, model="gen4_turbo", credits=25,
                              synced_at=timezone.now() - timedelta(minutes=5))
    charge(owner, project, credits=10)  # after Runway's copy was taken
    response = client_for(staff).get(reverse("credits:staff"))
    row = reconciliation_row(response.content.decode(), "gen4_turbo")
    assert STALE in row
    assert "badge bad" not in row
    assert {r["model"]: r for r in response.context["rows"]}["gen4_turbo"]["stale"] is True


def test_a_fresh_copy_that_differs_is_still_red(owner, project, staff):
    ledger.grant(user=owner, amount=500)
    charge(owner, project, credits=25)
    DailyUsage.objects.create(date=utc_today(), model="gen4_turbo", credits=30, synced_at=timezone.now())
    body = client_for(staff).get(reverse("credits:staff")).content.decode()
    row = reconciliation_row(body, "gen4_turbo")
    assert STALE not in row
    assert '<span class="badge bad">+5</span>' in row
