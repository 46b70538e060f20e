"""The outbox and its deliveries, sent for real to a receiver on loopback (no cluster: task functions called)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from webhooks import delivery, outbox
from webhooks.actions import create_endpoint
from webhooks.models import Attempt, Delivery, DeliveryState, Event, EventType

pytestmark = pytest.mark.django_db

SUCCEEDED = EventType.GENERATION_SUCCEEDED


def endpoint_for(receiver, project, owner, path="/hook", events=(SUCCEEDED,)):
    return receiver.expect(create_endpoint(project=project, by=owner, url=receiver.url(path), events=list(events)))


def emit(project, n=0, type=SUCCEEDED):
    with transaction.atomic():
        return outbox.emit(project_id=project.pk, type=type, payload={"generation": {"id": n}}, key=f"t:{n}:{type}")


def test_an_event_reaches_the_receiver_signed_once(project, owner, receiver):
    endpoint = endpoint_for(receiver, project, owner)
    event = emit(project, 1)
    assert delivery.deliver_event(event_pk=event.pk) == 1
    [got] = receiver.received
    assert got.verified, got.error
    assert got.webhook_id == event.event_id and got.webhook_id.startswith("msg_")
    assert got.json == {"type": "generation.succeeded", "timestamp": got.json["timestamp"],
                        "data": {"generation": {"id": 1}}}
    assert endpoint.secret.startswith("whsec_")
    row = Delivery.objects.get(event=event)
    assert (row.state, row.attempts, row.last_status_code, row.claim_token) == (DeliveryState.DELIVERED, 1, 200, "")
    assert list(row.log.values_list("number", "status_code")) == [(1, 200)]
    # Delivered is final: running the job again, or the due sweep, sends nothing more.
    assert delivery.deliver_event(event_pk=event.pk) == 0
    assert delivery.deliver_due(now=timezone.now() + timedelta(days=1)) == 0
    assert receiver.ids() == {event.event_id: 1}


def test_a_signature_made_with_another_secret_is_refused_by_the_library(project, owner, receiver):
    endpoint = endpoint_for(receiver, project, owner)
    other = endpoint_for(receiver, project, owner, "/other")
    assert endpoint.secret != other.secret
    receiver.secrets["/hook"] = other.secret  # the receiver holds the wrong secret
    delivery.deliver_event(event_pk=emit(project, 2).pk)
    assert [r.path for r in receiver.received if not r.verified] == ["/hook"]
    assert [r.path for r in receiver.received if r.verified] == ["/other"]


def test_the_same_change_makes_one_event_and_unsubscribed_endpoints_get_nothing(project, owner, receiver):
    endpoint_for(receiver, project, owner, "/succeeded")
    endpoint_for(receiver, project, owner, "/failed", events=(EventType.GENERATION_FAILED,))
    first, again = emit(project, 3), emit(project, 3)
    assert again is None and Event.objects.count() == 1
    assert [d.endpoint.url.rsplit("/", 1)[1] for d in first.deliveries.all()] == ["succeeded"]
    assert emit(project, 4, type=EventType.GENERATION_CANCELLED) is None  # nobody subscribed


def test_a_receiver_down_for_a_while_gets_everything_after_it_returns(project, owner, receiver):
    endpoint_for(receiver, project, owner)
    receiver.stop()
    events = [emit(project, n) for n in range(5)]
    now = timezone.now()
    for event in events:
        assert delivery.deliver_event(event_pk=event.pk) == 0
    rows = Delivery.objects.all()
    assert all(d.state == DeliveryState.PENDING and d.attempts == 1 and d.last_status_code is None
               and d.last_error and d.next_attempt_at > now for d in rows)
    assert delivery.deliver_due(now=now) == 0  # not due yet: backing off
    receiver.start()
    assert delivery.deliver_due(now=now + timedelta(minutes=1)) == 5
    assert receiver.ids() == {e.event_id: 1 for e in events}
    assert all(r.verified for r in receiver.received)
    assert set(Delivery.objects.values_list("state", "attempts")) == {(DeliveryState.DELIVERED, 2)}


def test_failures_back_off_for_24_hours_then_the_delivery_fails(project, owner, receiver):
    endpoint_for(receiver, project, owner)
    receiver.answers = [500] * 100
    event = emit(project, 5)
    row = Delivery.objects.get(event=event)
    clock = timezone.now()
    gaps = []
    while row.state == DeliveryState.PENDING:
        assert delivery.deliver(delivery_id=row.pk, now=clock) is False
        row.refresh_from_db()
        gaps.append(row.next_attempt_at - row.log.order_by("-number").first().at)
        clock = row.next_attempt_at
    assert row.state == DeliveryState.FAILED and row.last_status_code == 500
    assert gaps[:3] == [timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2)]
    assert all(a <= b for a, b in zip(gaps, gaps[1:-1], strict=False))
    tries = list(Attempt.objects.filter(delivery=row).order_by("number"))
    assert len(tries) == row.attempts == len(receiver.received) > 8
    assert tries[-1].at <= row.expires_at <= tries[-1].at + delivery.BACKOFF[-1]
    assert row.expires_at - event.created_at == timedelta(hours=24)


def test_a_claimed_delivery_is_not_sent_by_a_second_worker_until_its_lease_runs_out(project, owner, receiver):
    endpoint_for(receiver, project, owner)
    row = Delivery.objects.get(event=emit(project, 6))
    now = timezone.now()
    token = delivery.claim(row.pk, now=now)
    assert token
    assert delivery.claim(row.pk, now=now) is None
    assert delivery.deliver(delivery_id=row.pk, now=now + delivery.LEASE - timedelta(seconds=1)) is None
    assert receiver.received == []
    # The first worker died; once its lease is out, another takes the delivery and sends it.
    assert delivery.deliver(delivery_id=row.pk, now=now + delivery.LEASE + timedelta(seconds=1)) is True
    assert len(receiver.received) == 1


def test_redirects_are_not_followed(project, owner, receiver):
    from tests.webhooks.conftest import Receiver

    target = Receiver().start()
    try:
        endpoint_for(receiver, project, owner)
        receiver.redirect_to = target.url("/elsewhere")
        event = emit(project, 7)
        assert delivery.deliver_event(event_pk=event.pk) == 0
        row = Delivery.objects.get(event=event)
        assert row.state == DeliveryState.PENDING and row.last_status_code == 302
        assert "redirect" in row.last_error
        assert target.received == []
    finally:
        target.stop()


REFUSED = ["http://example.com/hook", "ftp://example.com/hook", "https://10.0.0.8/hook", "https://192.168.1.1/",
           "https://169.254.169.254/latest/meta-data/", "https://[fd00::1]/hook", "https://[fe80::1]/",
           "https://100.64.0.1/", "http://10.0.0.8/hook", "http://169.254.169.254/", "https://"]


@pytest.mark.parametrize("allow_loopback", [False, True])
@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused_whatever_the_loopback_setting(url, allow_loopback, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = allow_loopback
    with pytest.raises(delivery.downloads.DownloadError):
        delivery.check_url(url)


def test_loopback_is_refused_unless_the_setting_allows_it(project, owner, receiver, settings):
    endpoint = endpoint_for(receiver, project, owner)
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    for url in (endpoint.url, f"https://localhost:{receiver.port}/", f"http://[::1]:{receiver.port}/",
                f"https://example.com@127.0.0.1:{receiver.port}/"):
        with pytest.raises(delivery.downloads.DownloadError):
            delivery.check_url(url)
    event = emit(project, 8)
    assert delivery.deliver_event(event_pk=event.pk) == 0
    assert receiver.received == []
    row = Delivery.objects.get(event=event)
    assert "only https" in row.last_error and row.last_status_code is None


def test_the_signature_is_the_standard_one(project, owner, receiver):
    """webhook-signature is v1,base64(HMAC-SHA256(secret, id.timestamp.body)), checked here by hand too."""
    import base64
    import hashlib
    import hmac

    endpoint = endpoint_for(receiver, project, owner)
    delivery.deliver_event(event_pk=emit(project, 9).pk)
    [got] = receiver.received
    key = base64.b64decode(endpoint.secret.removeprefix("whsec_"))
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.".encode() + got.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert got.headers["webhook-signature"] == f"v1,{expected}"
    assert Webhook(endpoint.secret).verify(got.body, got.headers)["data"] == {"generation": {"id": 9}}


def test_a_delivery_connects_to_the_vetted_address_not_a_rebound_one(project, owner, receiver, settings,
                                                                     monkeypatch):
    """A name that answers a public address to the check and loopback after never reaches loopback."""
    import socket

    from webhooks.models import Endpoint

    public = "93.184.215.14"
    real_resolve, real_connect = socket.getaddrinfo, socket.socket.connect
    asked: list[str] = []
    connects: list[tuple] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "hooks.rebind.test":
            return real_resolve(host, port, *args, **kwargs)
        address = public if not asked else "127.0.0.1"
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]

    def connect(sock, address):
        connects.append(tuple(address[:2]))
        if address[0] == public:
            raise ConnectionRefusedError("the stand-in public address refuses")
        return real_connect(sock, address)

    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    endpoint = Endpoint.objects.create(project=project, url=f"https://hooks.rebind.test:{receiver.port}/hook",
                                       events=[SUCCEEDED], created_by=owner)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    event = emit(project, 10)
    assert delivery.deliver_event(event_pk=event.pk) == 0
    assert receiver.received == []
    assert connects == [(public, receiver.port)]
    assert Delivery.objects.get(endpoint=endpoint).last_error


def test_the_deploy_check_warns_while_loopback_is_allowed(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with pytest.raises(SystemCheckError, match="webhooks.W001"):
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    from webhooks.checks import loopback_webhooks

    assert loopback_webhooks(None) == []


def test_a_job_stops_taking_deliveries_when_its_time_is_spent(project, owner, receiver):
    endpoint_for(receiver, project, owner)
    events = [emit(project, 20 + n) for n in range(3)]
    assert delivery.deliver_due(budget=0) == 0  # nothing taken once the time is spent
    assert receiver.received == [] and not Delivery.objects.exclude(claim_token="").exists()
    assert delivery.deliver_event(event_pk=events[0].pk, budget=0) == 0
    assert delivery.deliver_due(budget=60) == 3
    assert receiver.ids() == {e.event_id: 1 for e in events}


def test_old_finished_events_are_purged_with_their_log_and_pending_ones_kept(project, owner, receiver):
    endpoint_for(receiver, project, owner)
    done, waiting = emit(project, 30), emit(project, 31)
    delivery.deliver_event(event_pk=done.pk)
    Delivery.objects.filter(event=waiting).update(next_attempt_at=timezone.now() + timedelta(days=60))
    assert delivery.purge_old() == 0  # nothing is old yet
    later = timezone.now() + delivery.KEEP_LOG + timedelta(days=1)
    assert delivery.purge_old(now=later) == 1
    assert list(Event.objects.values_list("event_id", flat=True)) == [waiting.event_id]
    assert not Attempt.objects.exists()
