"""Tokens, budgets and limits through the official SDK: refusals in Runway's shapes, and nothing made."""

import uuid
from datetime import timedelta

import pytest
import runwayml
from django.utils import timezone

from accounts.actions import create_api_token, create_team_project, revoke_api_token
from accounts.models import ApiToken, Membership
from audit.models import AuditEntry
from credits import ledger
from generations.models import Generation, Status
from tests.factories import drive

pytestmark = pytest.mark.django_db(transaction=True)


def sdk(live_server, raw, **extra):
    return runwayml.RunwayML(base_url=live_server.url, api_key=raw, max_retries=0, **extra)


def image(api, **extra):
    return api.text_to_image.create(model="gen4_image", prompt_text="a red kite", ratio="1024:1024", **extra)


def test_a_budget_stops_the_next_one_with_runways_error_shape(api, project, owner, runway_emulator):
    first = image(api)
    cost = Generation.objects.get(api_id=uuid.UUID(first.id)).estimated_credits
    ledger.set_project_budget(project=project, amount=cost + cost // 2, by=owner)
    # The budget was set after the first: the second fits, the third does not.
    image(api)
    tasks_before = len(runway_emulator.charges())
    with pytest.raises(runwayml.BadRequestError) as caught:
        image(api)
    assert caught.value.status_code == 400
    assert set(caught.value.body) == {"error"}
    assert "not have enough credits" in caught.value.body["error"]
    assert "Moonshot" in caught.value.body["error"]
    assert Generation.objects.filter(project=project).count() == 2
    assert AuditEntry.objects.filter(action="generation.api_create").count() == 2  # the refused one left none
    assert len(runway_emulator.charges()) == tasks_before  # nothing reached Runway


def test_a_tokens_credit_limit_is_all_or_nothing(live_server, runway_emulator, media_root, project, funded):
    _token, raw = create_api_token(user=funded, project=project, name="capped", credit_limit=10)
    api = sdk(live_server, raw)
    image(api)  # gen4_image at 1024:1024 holds 5 or 8 credits, within the 10
    with pytest.raises(runwayml.BadRequestError) as caught:
        image(api)
    assert "“capped”" in caught.value.body["error"]
    assert "not have enough credits" in caught.value.body["error"]
    assert Generation.objects.filter(api_token=_token).count() == 1
    # A limit counts what is charged: once the first settles, the same figure is still spent.
    g = drive(Generation.objects.get(api_token=_token))
    assert g.status == Status.SUCCEEDED
    assert ledger.token_spend(_token.pk) == g.cost_credits
    org = api.organization.retrieve()
    assert org.credit_balance == 10 - g.cost_credits
    assert org.to_dict()["takes"]["tokenSpent"] == g.cost_credits


def test_revoked_and_expired_tokens_get_401(live_server, runway_emulator, project, funded):
    token, raw = create_api_token(user=funded, project=project, name="old")
    api = sdk(live_server, raw)
    assert api.organization.retrieve().credit_balance >= 0
    assert revoke_api_token(token=token, by=funded)
    assert AuditEntry.objects.filter(action="api_token.revoke", object_id=str(token.pk)).exists()
    with pytest.raises(runwayml.AuthenticationError) as caught:
        api.organization.retrieve()
    assert caught.value.status_code == 401 and "revoked" in caught.value.body["error"]

    expiring, raw = create_api_token(user=funded, project=project, name="brief",
                                     expires_at=timezone.now() + timedelta(hours=1))
    ApiToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(runwayml.AuthenticationError) as caught:
        image(sdk(live_server, raw))
    assert "expired" in caught.value.body["error"]
    with pytest.raises(runwayml.AuthenticationError):
        image(sdk(live_server, "takes_" + "0" * 64))
    assert not Generation.objects.exists()


def test_a_token_stops_working_when_its_person_leaves_the_project(live_server, runway_emulator, project, funded):
    _token, raw = create_api_token(user=funded, project=project, name="leaver")
    Membership.objects.filter(project=project, user=funded).delete()
    with pytest.raises(runwayml.AuthenticationError):
        sdk(live_server, raw).organization.retrieve()


def test_another_projects_task_is_404(api, live_server, runway_emulator, project, funded, stranger):
    theirs = create_team_project(user=stranger, name="Elsewhere")
    ledger.grant(user=stranger, amount=1000, note="test")
    _t, raw = create_api_token(user=stranger, project=theirs, name="theirs")
    other = image(sdk(live_server, raw))
    with pytest.raises(runwayml.NotFoundError) as caught:
        api.tasks.retrieve(other.id)
    assert caught.value.body == {"error": "Task not found."}
    with pytest.raises(runwayml.NotFoundError):
        api.tasks.delete(other.id)
    with pytest.raises(runwayml.NotFoundError):
        api.tasks.retrieve("not-a-uuid")
    assert Generation.objects.get(api_id=uuid.UUID(other.id)).status == Status.QUEUED  # untouched


def test_delete_cancels_then_the_task_is_gone_but_kept(api, project, funded, runway_emulator):
    task = image(api)
    assert api.tasks.delete(task.id) is None
    g = Generation.objects.get(api_id=uuid.UUID(task.id))
    assert g.status == Status.CANCELLED and g.api_deleted_at is not None
    assert ledger.token_spend(g.api_token_id) == 0  # refunded: it never reached Runway
    with pytest.raises(runwayml.NotFoundError):
        api.tasks.retrieve(task.id)
    with pytest.raises(runwayml.NotFoundError):
        api.tasks.delete(task.id)
    assert AuditEntry.objects.filter(action="generation.cancel", object_id=str(g.pk)).exists()


def test_a_finished_task_deleted_stays_in_the_gallery(api, project, runway_emulator):
    task = image(api)
    g = drive(Generation.objects.get(api_id=uuid.UUID(task.id)))
    assert g.status == Status.SUCCEEDED
    api.tasks.delete(task.id)
    with pytest.raises(runwayml.NotFoundError):
        api.tasks.retrieve(task.id)
    assert g.outputs.count() == 1  # Takes keeps what was made


def test_usage_is_the_tokens_charges_per_day_and_model(api, project, runway_emulator):
    task = image(api)
    g = drive(Generation.objects.get(api_id=uuid.UUID(task.id)))
    today = timezone.now().date()
    # Runway's default window ends before today (beforeDate = startDate + 30 days, exclusive).
    assert api.organization.retrieve_usage().results == []
    usage = api.organization.retrieve_usage(start_date=today - timedelta(days=1), before_date=today + timedelta(days=2))
    [day] = usage.results
    assert [(u.model, u.amount) for u in day.used_credits] == [("gen4_image", g.cost_credits)]
    assert usage.models == ["gen4_image"]
    with pytest.raises(runwayml.BadRequestError) as caught:
        api.organization.retrieve_usage(start_date="2026-01-01", before_date="2026-12-01")
    assert caught.value.body["issues"][0]["path"] == ["beforeDate"]


def test_rate_limit_per_token_answers_429_with_retry_after(live_server, runway_emulator, project, funded, settings):
    _token, raw = create_api_token(user=funded, project=project, name="slow", rate_limit="2/m")
    api = sdk(live_server, raw)
    api.organization.retrieve()
    api.organization.retrieve()
    with pytest.raises(runwayml.RateLimitError) as caught:
        api.organization.retrieve()
    assert caught.value.status_code == 429
    assert set(caught.value.body) == {"error"}
    assert 0 < int(caught.value.response.headers["Retry-After"]) <= 60
    # Another token keeps its own count, at the setting's rate.
    _other, raw = create_api_token(user=funded, project=project, name="fast")
    assert sdk(live_server, raw).organization.retrieve().credit_balance >= 0


def test_the_version_header_is_required(api, live_server, token):
    response = api._client.get(f"{live_server.url}/v1/organization", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert "X-Runway-Version" in response.json()["error"]


def test_a_viewer_cannot_have_a_token(project, viewer):
    from accounts.actions import ProjectError

    with pytest.raises(ProjectError):
        create_api_token(user=viewer, project=project, name="peek")
    assert not ApiToken.objects.exists()
