"""Generations and budgets tell the project's webhooks, through the emulator and a real receiver."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction

from credits import actions as credit_actions
from credits import ledger
from generations import cancel, run
from generations import submit as submitting
from generations.models import Status
from tests.factories import drive
from webhooks import delivery
from webhooks.actions import create_endpoint
from webhooks.models import Delivery, DeliveryState, Event, EventType

pytestmark = pytest.mark.django_db

ALL = [t.value for t in (EventType.GENERATION_SUCCEEDED, EventType.GENERATION_FAILED,
                         EventType.GENERATION_CANCELLED, EventType.CREDITS_ALERT)]


@pytest.fixture
def hooked(project, owner, receiver):
    return receiver.expect(create_endpoint(project=project, by=owner, url=receiver.url(), events=ALL))


def submit(project, user, **params):
    return submitting.submit_generation(project=project, user=user, endpoint="text_to_image", model="gen4_image",
                                        params={"prompt_text": "A lighthouse at dusk", "ratio": "1920:1080",
                                                **params})


def send_all() -> None:
    for event in Event.objects.all():
        delivery.deliver_event(event_pk=event.pk)


def test_a_receiver_gets_a_signed_generation_succeeded(project, owner, hooked, receiver, runway_emulator,
                                                      media_root):
    ledger.grant(user=owner, amount=5000)
    generation = drive(submit(project, owner))
    assert generation.status == Status.SUCCEEDED, generation.failure_message
    send_all()
    [got] = receiver.received
    assert got.verified, got.error
    body = got.json
    assert body["type"] == "generation.succeeded"
    data = body["data"]["generation"]
    charged = next(c["charged"] for c in runway_emulator.charges() if c["id"] == generation.runway_task_id)
    assert (data["id"], data["project"], data["model"], data["status"]) == (
        generation.pk, project.slug, "gen4_image", "SUCCEEDED")
    assert data["credits"] == charged == generation.cost_credits
    outputs = list(generation.outputs.order_by("index"))
    assert [o["id"] for o in data["outputs"]] == [o.pk for o in outputs] and outputs
    for item in data["outputs"]:
        assert item["url"] == f"{settings.SITE_URL}/p/{project.slug}/outputs/{item['id']}/file/"
        assert settings.RUNWAY_BASE_URL not in item["url"]
    assert got.webhook_id == Event.objects.get().event_id


def test_a_failed_generation_is_told_as_failed(project, owner, hooked, receiver, runway_emulator, media_root):
    ledger.grant(user=owner, amount=5000)
    runway_emulator.inject_fault(task={"fail_code": "INTERNAL.BAD_OUTPUT.CODE01", "model": "gen4_image"})
    generation = drive(submit(project, owner))
    assert generation.status == Status.FAILED
    send_all()
    [got] = receiver.received
    data = got.json["data"]["generation"]
    assert got.verified and got.json["type"] == "generation.failed"
    assert data["failure"]["code"] == generation.failure_code and data["outputs"] == []


def test_a_cancelled_generation_is_told_as_cancelled(project, owner, hooked, receiver, runway_emulator):
    ledger.grant(user=owner, amount=5000)
    generation = submit(project, owner)
    cancel.cancel_generation(generation=generation)
    generation.refresh_from_db()
    assert generation.status == Status.CANCELLED
    send_all()
    assert [r.json["type"] for r in receiver.received] == ["generation.cancelled"]
    assert receiver.received[0].json["data"]["generation"]["credits"] is None


def test_a_generation_rolled_back_writes_no_event(project, owner, hooked, runway_emulator):
    """The outbox is the transaction's: an ending undone leaves no event behind."""
    ledger.grant(user=owner, amount=5000)
    generation = submit(project, owner)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        cancel.cancel_generation(generation=generation)
        assert Event.objects.count() == 1
        raise Undo
    assert Event.objects.count() == 0 and Delivery.objects.count() == 0


def test_a_budget_below_its_alert_sends_credits_alert_once(project, owner, hooked, receiver, runway_emulator):
    ledger.grant(user=owner, amount=5000)
    credit_actions.set_project_budget(project=project, amount=30, by=owner)
    ledger.set_alert(account=ledger.budget_for(project), below=25)
    for _ in range(2):
        run.run_generation(generation_id=submit(project, owner).pk)
    send_all()
    alerts = [r for r in receiver.received if r.json["type"] == "credits.alert"]
    assert len(alerts) == 1 and alerts[0].verified
    assert alerts[0].json["data"]["project"] == project.slug
    assert alerts[0].json["data"]["alert_below"] == 25
    assert alerts[0].json["data"]["balance"] < 25
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}


def test_a_project_without_webhooks_pays_one_query_when_a_generation_ends(project, owner, runway_emulator,
                                                                         django_assert_num_queries):
    from generations import hooks

    ledger.grant(user=owner, amount=5000)
    generation = submit(project, owner)
    generation.status = Status.SUCCEEDED
    with transaction.atomic(), django_assert_num_queries(1):
        hooks.finished(generation, charged=8)
    assert not Event.objects.exists()
