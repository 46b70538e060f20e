"""Credit pages through real URLs, for each persona."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from credits import ledger, organization
from credits.models import Notice, utc_today
from tests.conftest import client_for, make_user

from .conftest import make_generation

pytestmark = pytest.mark.django_db

ORG = {
    "creditBalance": 9000,
    "tier": {"maxMonthlyCreditSpend": 10000, "models": {
        "gen4_turbo": {"maxConcurrentGenerations": 1, "maxDailyGenerations": 50},
        "gen4_image": {"maxConcurrentGenerations": 2, "maxDailyGenerations": 3},
    }},
    "usage": {"models": {"gen4_turbo": {"dailyGenerations": 4}, "gen4_image": {"dailyGenerations": 3}}},
}


@pytest.fixture
def spent(editor, owner, project):
    """An editor with some history: charges on two models, one hold open."""
    ledger.grant(user=editor, amount=500)
    for model, credits, cost in (("gen4_turbo", 25, 25), ("gen4_image", 5, 5), ("gen4_turbo", 50, 40)):
        g = make_generation(user=editor, project=project, credits=credits, model=model)
        ledger.place_hold(generation=g)
        ledger.settle_hold(generation=g, credits=cost)
    ledger.place_hold(generation=make_generation(user=editor, project=project, credits=10))
    return editor


def test_person_page_shows_balance_holds_history_and_chart(spent, editor_client):
    response = editor_client.get(reverse("credits:mine"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and "gen4_turbo" in body
    assert response.context["account"].balance == 420
    assert response.context["account"].held == 10
    assert len(response.context["holds"]) == 1
    assert response.context["page"].paginator.count == 8  # grant + 4 holds + 3 charges


def test_person_history_pages_with_htmx_and_constant_queries(spent, editor, project, editor_client,
                                                           django_assert_max_num_queries):
    url = reverse("credits:mine")
    with django_assert_max_num_queries(12):
        editor_client.get(url)
    for _ in range(40):
        g = make_generation(user=editor, project=project, credits=1)
        ledger.place_hold(generation=g)
        ledger.settle_hold(generation=g, credits=1)
    with django_assert_max_num_queries(12):
        response = editor_client.get(url + "?page=2", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="history">')
    assert "Page 2 of 4" in body


def test_person_page_empty_state(stranger_client):
    body = stranger_client.get(reverse("credits:mine")).content.decode()
    assert "No credit movements yet." in body and "Nothing in flight." in body


def test_anonymous_is_sent_to_sign_in():
    response = client_for(None).get(reverse("credits:mine"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_person_sets_an_alert_threshold(editor, editor_client):
    response = editor_client.post(reverse("credits:alert"), {"below": "100"})
    assert response.status_code == 302
    assert ledger.account_for(editor).alert_below == 100
    response = editor_client.post(reverse("credits:alert"), {"below": "-3"})
    assert response.status_code == 400
    assert "greater than or equal to 0" in response.content.decode()


def test_notice_is_shown_and_dismissed(editor, project, editor_client, django_capture_on_commit_callbacks):
    ledger.grant(user=editor, amount=100)
    ledger.set_alert(account=ledger.account_for(editor), below=80)
    with django_capture_on_commit_callbacks(execute=True):
        ledger.place_hold(generation=make_generation(user=editor, project=project, credits=30))
    assert len(mail.outbox) == 1
    notice = Notice.objects.get(user=editor)
    from django.template import Context, Template

    response = editor_client.get(reverse("credits:mine"))
    html = Template("{% load credit_notices %}{% credit_notices %}").render(
        Context({"request": response.wsgi_request}))
    assert "You have 70 credits left" in html and "Dismiss notice" in html
    response = editor_client.post(reverse("credits:notice_dismiss", args=[notice.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert not Notice.objects.unread_for(editor).exists()
    other = client_for(make_user("nosy"))
    assert other.post(reverse("credits:notice_dismiss", args=[notice.pk])).status_code == 404


def test_project_page_for_owners_with_charts(spent, project, owner_client, viewer_client, editor_client,
                                            stranger_client):
    url = reverse("credits:project", args=[project.slug])
    response = owner_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Spend per member" in body and "<svg" in body and "eddie" in body
    assert [b.value for b in response.context["model_chart"].bars] == [65, 5]
    assert editor_client.get(url).status_code == 403
    assert viewer_client.get(url).status_code == 403
    assert stranger_client.get(url).status_code == 404


def test_owner_sets_lowers_and_removes_a_budget(editor, owner, project, owner_client):
    ledger.grant(user=editor, amount=500)
    budget_url = reverse("credits:budget", args=[project.slug])
    assert owner_client.post(budget_url, {"amount": "200"}).status_code == 302
    ledger.place_hold(generation=make_generation(user=editor, project=project, credits=120))
    response = owner_client.post(budget_url, {"amount": "100"})
    assert response.status_code == 400
    assert "hold 120 credits" in response.content.decode()
    assert owner_client.post(budget_url, {"amount": "abc"}).status_code == 400
    remove_url = reverse("credits:budget_remove", args=[project.slug])
    confirm = owner_client.get(remove_url)
    assert confirm.status_code == 200 and "Remove budget" in confirm.content.decode()
    assert ledger.budget_for(project) is not None
    assert owner_client.post(remove_url).status_code == 302
    assert ledger.budget_for(project) is None


def test_project_alert_needs_a_budget(owner, project, owner_client):
    url = reverse("credits:project_alert", args=[project.slug])
    response = owner_client.post(url, {"below": "50"})
    assert response.status_code == 400 and "Set a budget first" in response.content.decode()
    ledger.set_project_budget(project=project, amount=300, by=owner)
    assert owner_client.post(url, {"below": "50"}).status_code == 302
    assert ledger.budget_for(project).alert_below == 50


def test_estimate_partial_shows_cost_balance_budget_and_daily_limit(editor, owner, project, editor_client):
    ledger.grant(user=editor, amount=100)
    ledger.set_project_budget(project=project, amount=40, by=owner)
    url = reverse("generations:estimate", args=[project.slug])
    response = editor_client.get(url, {"endpoint": "image_to_video", "model": "gen4_turbo", "duration": "5"},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="estimate"')
    quote = response.context_data["quote"]
    assert (quote.credits, quote.balance_after, quote.budget_after) == (25, 75, 15)
    assert "unknown — not synced yet" in body
    assert not quote.refused

    organization.store_organization(ORG)
    response = editor_client.get(url, {"endpoint": "image_to_video", "model": "gen4_turbo", "duration": "10"})
    body = response.content.decode()
    assert "<html" in body  # without htmx it is a page of its own
    assert response.context_data["quote"].daily_left == 46
    assert "This needs 50 credits; the project “Moonshot” has 40 left of its budget." in body


def test_estimate_warns_when_the_daily_limit_is_used_up(editor, project, editor_client):
    ledger.grant(user=editor, amount=100)
    organization.store_organization(ORG)
    response = editor_client.get(reverse("generations:estimate", args=[project.slug]),
                                 {"endpoint": "text_to_image", "model": "gen4_image"})
    assert response.context_data["quote"].daily_left == 0
    assert "daily limit for Gen-4 Image is used up" in response.content.decode()


def test_estimate_with_no_parameters_uses_the_defaults(editor, project, editor_client):
    response = editor_client.get(reverse("generations:estimate", args=[project.slug]), {"duration": "lots"})
    assert response.status_code == 200
    assert response.context_data["quote"].credits > 0


def test_estimate_refuses_an_unknown_model_with_a_message(project, editor_client, viewer_client):
    url = reverse("generations:estimate", args=[project.slug])
    response = editor_client.get(url, {"endpoint": "image_to_video", "model": "gen99"},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "has no model &#x27;gen99&#x27;" in response.content.decode()
    assert editor_client.get(url, {"endpoint": "nope"}).status_code == 400
    assert viewer_client.get(url).status_code == 403


def test_staff_page_shows_the_organization_and_reconciliation(spent, editor):
    staff = make_user("sam", is_staff=True)
    organization.store_organization(ORG)
    today = utc_today()
    organization.store_usage({"results": [{"date": today.isoformat(), "usedCredits": [
        {"model": "gen4_turbo", "amount": 65}, {"model": "gen4_image", "amount": 7}]}],
        "models": ["gen4_turbo", "gen4_image"]}, start=today - timedelta(days=1), before=today + timedelta(days=1))
    response = client_for(staff).get(reverse("credits:staff"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "9000" in body and "<svg" in body and "Sync now" in body
    rows = {r["model"]: r for r in response.context["rows"]}
    assert rows["gen4_turbo"]["flagged"] is False
    assert (rows["gen4_image"]["difference"], rows["gen4_image"]["flagged"]) == (2, True)

    day = client_for(staff).get(reverse("credits:reconcile_day", args=[today.isoformat()]))
    assert day.status_code == 200
    assert len(day.context["charges"]) == 3
    assert client_for(staff).get(reverse("credits:reconcile_day", args=["2026-13-45"])).status_code == 404


def test_staff_pages_do_not_exist_for_others(editor_client, owner_client):
    for url in (reverse("credits:staff"), reverse("credits:reconcile_day", args=["2026-08-01"])):
        assert editor_client.get(url).status_code == 404
        assert owner_client.get(url).status_code == 404
    assert editor_client.post(reverse("credits:staff_sync")).status_code == 404
    assert client_for(None).get(reverse("credits:staff")).status_code == 302


def test_budget_changes_in_the_app_are_audited(project, owner):
    from audit.models import AuditEntry

    client_for(owner).post(reverse("credits:budget", args=[project.slug]), {"amount": 300})
    entry = AuditEntry.objects.latest("created_at")
    assert entry.actor == owner and "budget" in entry.action.lower()
    assert "300" in str(entry.after)
