"""The webhook pages of a project's settings: owners only, clear refusals, audited changes."""

from __future__ import annotations

import pytest
from django.urls import reverse
from standardwebhooks import Webhook

from accounts.actions import create_team_project
from audit.models import AuditEntry
from webhooks import delivery
from webhooks.models import Delivery, DeliveryState, Endpoint, Event

pytestmark = pytest.mark.django_db


def add(client, project, url, events=("generation.succeeded",)):
    return client.post(reverse("webhooks:list", args=[project.slug]), {"url": url, "events": list(events)})


def test_an_owner_adds_an_endpoint_and_sees_its_secret(project, owner, owner_client, receiver):
    response = add(owner_client, project, receiver.url(), ("generation.succeeded", "credits.alert"))
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302 and response.url == reverse("webhooks:endpoint",
                                                                   args=[project.slug, endpoint.pk])
    assert endpoint.events == ["credits.alert", "generation.succeeded"] and endpoint.created_by == owner
    page = owner_client.get(response.url).content.decode()
    assert endpoint.secret in page
    assert AuditEntry.objects.filter(action="webhook.create", object_id=str(endpoint.pk)).count() == 1
    listing = owner_client.get(reverse("webhooks:list", args=[project.slug])).content.decode()
    assert receiver.url() in listing


@pytest.mark.parametrize(("url", "events", "message"), [
    ("", ["generation.succeeded"], "Give the https URL"),
    ("not a url at all", ["generation.succeeded"], "Enter a full URL"),
    ("http://example.com/hook", ["generation.succeeded"], "only https is allowed"),
    ("https://10.0.0.8/hook", ["generation.succeeded"], "names an IP address"),
    ("https://localhost/hook", ["generation.succeeded"], "private or local"),
    ("https://example.com/hook", [], "Choose at least one event"),
    ("https://example.com/hook", ["generation.exploded"], "is not an event Takes sends"),
])
def test_bad_input_is_refused_with_a_message(url, events, message, project, owner_client):
    response = add(owner_client, project, url, events)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Endpoint.objects.exists()


def test_the_test_event_button_sends_a_signed_test_event(project, owner, owner_client, receiver):
    add(owner_client, project, receiver.url())
    endpoint = receiver.expect(Endpoint.objects.get())
    response = owner_client.post(reverse("webhooks:test", args=[project.slug, endpoint.pk]))
    assert response.status_code == 302
    event = Event.objects.get(type="webhook.test")
    assert delivery.deliver_event(event_pk=event.pk) == 1
    [got] = receiver.received
    assert got.verified and got.json["type"] == "webhook.test" and got.webhook_id == event.event_id
    page = owner_client.get(reverse("webhooks:endpoint", args=[project.slug, endpoint.pk])).content.decode()
    assert event.event_id in page and "Delivered" in page
    assert AuditEntry.objects.filter(action="webhook.test").count() == 1


def test_replay_sends_the_same_event_id_again(project, owner, owner_client, receiver):
    add(owner_client, project, receiver.url())
    endpoint = receiver.expect(Endpoint.objects.get())
    owner_client.post(reverse("webhooks:test", args=[project.slug, endpoint.pk]))
    row = Delivery.objects.get()
    delivery.deliver_event(event_pk=row.event_id)
    url = reverse("webhooks:replay", args=[project.slug, endpoint.pk, row.pk])
    assert owner_client.post(url).status_code == 302
    row.refresh_from_db()
    assert row.state == DeliveryState.PENDING
    delivery.deliver_event(event_pk=row.event_id)
    first, again = receiver.received
    assert first.webhook_id == again.webhook_id and first.body == again.body and again.verified
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.DELIVERED, 2)
    log = owner_client.get(reverse("webhooks:delivery", args=[project.slug, endpoint.pk, row.pk]))
    assert log.status_code == 200 and log.content.decode().count("<td>200 </td>") == 2
    assert AuditEntry.objects.filter(action="webhook.replay").count() == 1


def test_a_replay_while_the_delivery_is_being_sent_is_refused(project, owner, owner_client, receiver):
    add(owner_client, project, receiver.url())
    endpoint = Endpoint.objects.get()
    owner_client.post(reverse("webhooks:test", args=[project.slug, endpoint.pk]))
    row = Delivery.objects.get()
    from django.utils import timezone

    assert delivery.claim(row.pk, now=timezone.now())
    response = owner_client.post(reverse("webhooks:replay", args=[project.slug, endpoint.pk, row.pk]))
    assert response.status_code == 409 and "being sent right now" in response.content.decode()
    assert not AuditEntry.objects.filter(action="webhook.replay").exists()


def test_delete_asks_first_then_removes_the_endpoint_and_its_log(project, owner, owner_client, receiver):
    add(owner_client, project, receiver.url())
    endpoint = Endpoint.objects.get()
    owner_client.post(reverse("webhooks:test", args=[project.slug, endpoint.pk]))
    url = reverse("webhooks:delete", args=[project.slug, endpoint.pk])
    confirm = owner_client.get(url)
    assert confirm.status_code == 200 and "Delete this webhook endpoint?" in confirm.content.decode()
    assert Endpoint.objects.exists()
    assert owner_client.post(url).status_code == 302
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()
    entry = AuditEntry.objects.get(action="webhook.delete")
    assert entry.before["url"] == receiver.url() and "secret" not in str(entry.before)


def test_strangers_and_other_projects_get_404_and_members_403(project, owner, editor_client, stranger_client,
                                                              owner_client, receiver):
    add(owner_client, project, receiver.url())
    endpoint = Endpoint.objects.get()
    page = reverse("webhooks:endpoint", args=[project.slug, endpoint.pk])
    assert stranger_client.get(page).status_code == 404
    assert editor_client.get(page).status_code == 403
    other = create_team_project(user=owner, name="Elsewhere")
    assert owner_client.get(reverse("webhooks:endpoint", args=[other.slug, endpoint.pk])).status_code == 404
    assert owner_client.post(reverse("webhooks:delete", args=[other.slug, endpoint.pk])).status_code == 404
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_secret_shown_verifies_what_is_sent(project, owner_client, receiver):
    add(owner_client, project, receiver.url())
    endpoint = Endpoint.objects.get()
    page = owner_client.get(reverse("webhooks:endpoint", args=[project.slug, endpoint.pk])).content.decode()
    shown = page.split('<code id="secret">', 1)[1].split("</code>", 1)[0]
    owner_client.post(reverse("webhooks:test", args=[project.slug, endpoint.pk]))
    delivery.deliver_event(event_pk=Event.objects.get().pk)
    [got] = receiver.received
    assert Webhook(shown).verify(got.body, got.headers)["type"] == "webhook.test"


def test_the_pages_take_the_same_queries_however_long_the_log(project, owner, owner_client, receiver,
                                                             django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    add(owner_client, project, receiver.url())
    endpoint = Endpoint.objects.get()
    pages = [reverse("webhooks:list", args=[project.slug]),
             reverse("webhooks:endpoint", args=[project.slug, endpoint.pk])]

    def counts():
        found = []
        for page in pages:
            with CaptureQueriesContext(connection) as queries:
                assert owner_client.get(page).status_code == 200
            found.append(len(queries))
        return found

    owner_client.post(reverse("webhooks:test", args=[project.slug, endpoint.pk]))
    few = counts()
    for _ in range(6):
        owner_client.post(reverse("webhooks:test", args=[project.slug, endpoint.pk]))
    delivery.deliver_due()
    assert counts() == few


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_deleted_while_its_delivery_is_sent_leaves_nothing_behind(project, owner, owner_client,
                                                                             receiver):
    import threading

    from django.db import connection

    from tests.faults.harness import wait_for
    from webhooks import actions
    from webhooks.models import Attempt

    add(owner_client, project, receiver.url())
    endpoint = Endpoint.objects.get()
    owner_client.post(reverse("webhooks:test", args=[project.slug, endpoint.pk]))
    row = Delivery.objects.get()
    receiver.hold = True
    outcome = {}

    def worker():
        try:
            outcome["ok"] = delivery.deliver(delivery_id=row.pk)
        except Exception as exc:  # the assertion below shows it
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    wait_for(lambda: receiver.received, timeout=10, what="the request to arrive")
    # The owner deletes the endpoint while the worker's request is out.
    actions.delete_endpoint(endpoint=endpoint, by=owner)
    receiver.release.set()
    thread.join(timeout=20)
    assert outcome == {"ok": True}
    assert not Delivery.objects.exists() and not Attempt.objects.exists()


def test_a_paused_endpoint_gets_nothing_new_and_what_waited_goes_once_resumed(project, owner, owner_client,
                                                                             receiver):
    from django.db import transaction

    from webhooks import outbox

    add(owner_client, project, receiver.url())
    endpoint = receiver.expect(Endpoint.objects.get())
    with transaction.atomic():
        queued = outbox.emit(project_id=project.pk, type="generation.succeeded", payload={"n": 1})
    url = reverse("webhooks:active", args=[project.slug, endpoint.pk])
    assert owner_client.post(url, {"active": "0"}).status_code == 302
    with transaction.atomic():
        assert outbox.emit(project_id=project.pk, type="generation.succeeded", payload={"n": 2}) is None
    assert delivery.deliver_event(event_pk=queued.pk) == 0 and receiver.received == []
    page = owner_client.get(reverse("webhooks:endpoint", args=[project.slug, endpoint.pk])).content.decode()
    assert "Paused" in page and "Resume" in page
    bad = owner_client.post(url, {"active": "maybe"})
    assert bad.status_code == 400 and "Choose to pause or to resume" in bad.content.decode()
    assert owner_client.post(url, {"active": "1"}).status_code == 302
    assert delivery.deliver_due() == 1
    assert receiver.ids() == {queued.event_id: 1}
    assert list(AuditEntry.objects.filter(action__in=["webhook.pause", "webhook.resume"])
                .order_by("pk").values_list("action", flat=True)) == ["webhook.pause", "webhook.resume"]
