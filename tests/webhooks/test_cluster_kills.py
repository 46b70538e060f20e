"""Webhook deliveries by a real qcluster, SIGKILLed mid-delivery and restarted; and a receiver that was down.

The receiver (a real HTTP server on loopback, checking signatures with the standardwebhooks
library) answers some requests at once and holds the next unanswered, so each kill lands
while a worker is inside a delivery. After each kill the test does what time would (the dead
worker's lease runs out: its claim is aged) and starts the cluster again, queueing the job
the `webhooks-deliver-due` schedule runs every minute (the schedule itself is checked in
tests/credits/test_organization.py).

In the end every event reaches every endpoint with a valid signature, and a (webhook-id,
endpoint) pair arrives more than once only where a kill caught it received but not yet
committed as delivered — the one repeat the design allows (docs/webhooks.md).
"""

from __future__ import annotations

import secrets
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from tests.faults.harness import Cluster, wait_for
from webhooks import outbox
from webhooks.actions import create_endpoint
from webhooks.models import Attempt, Delivery, DeliveryState, EventType

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
PER_ROUND = 4
DUE = "webhooks.tasks.deliver_due"


@pytest.fixture
def queue_name(monkeypatch):
    """A queue of this test's own: jobs this process enqueues go where its cluster listens."""
    from django_q.conf import Conf

    name = f"takes-hooks-{secrets.token_hex(4)}"
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    monkeypatch.setattr(Conf, "PREFIX", name)
    return name


@pytest.fixture
def cluster(transactional_db, tmp_path, queue_name, media_root, settings, receiver):
    cluster = Cluster(tmp_path, queue=queue_name, emulator_url=settings.RUNWAY_BASE_URL, media_root=media_root)
    # The loopback receiver is reachable only with the setting; the secrets come from SECRET_KEY.
    cluster.env.update({"WEBHOOKS_ALLOW_LOOPBACK": "1", "SECRET_KEY": settings.SECRET_KEY})
    yield cluster
    cluster.stop()


def emit(project, n: int):
    with transaction.atomic():
        return outbox.emit(project_id=project.pk, type=EventType.GENERATION_SUCCEEDED,
                           payload={"generation": {"id": n}}, key=f"kill:{n}")


def pairs(receiver) -> Counter[tuple[str, str]]:
    with receiver.lock:
        return Counter((r.webhook_id, r.path) for r in receiver.received)


def uncommitted() -> set[tuple[str, str]]:
    """(webhook-id, path) of every delivery not committed as delivered."""
    rows = Delivery.objects.exclude(state=DeliveryState.DELIVERED).values_list("event__event_id", "endpoint__url")
    return {(event_id, "/" + url.rsplit("/", 1)[1]) for event_id, url in rows}


def age_claims() -> int:
    """What time does to a dead worker's claim: its lease runs out (only while no cluster runs)."""
    return Delivery.objects.exclude(claim_token="").update(claimed_until=timezone.now())


def test_every_event_arrives_exactly_once_but_where_a_kill_caught_it(project, owner, receiver, cluster):
    for path in ("/a", "/b"):
        receiver.expect(create_endpoint(project=project, by=owner, url=receiver.url(path),
                                        events=[EventType.GENERATION_SUCCEEDED]))
    events = []
    may_repeat: Counter[tuple[str, str]] = Counter()
    receiver.hold = True
    for round_ in range(ROUNDS):
        events += [emit(project, round_ * PER_ROUND + i) for i in range(PER_ROUND)]
        seen = len(receiver.received)
        receiver.answer_first = round_ % 3  # 0, 1 or 2 answered before one is held
        receiver.release.clear()
        cluster.start()
        async_task(DUE)
        wait_for(lambda s=seen, r=round_: len(receiver.received) > s + r % 3, timeout=60, interval=0.05,
                 what="a worker inside a delivery:\n" + cluster.tail())
        cluster.kill()  # a worker is inside a delivery: the receiver holds it unanswered
        with receiver.lock:
            caught = {(r.webhook_id, r.path) for r in receiver.received[seen:]}
        may_repeat.update(caught & uncommitted())
        receiver.release.set()
        age_claims()

    receiver.hold = False
    cluster.start()
    async_task(DUE)
    total = len(events) * 2
    wait_for(lambda: Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == total, timeout=90,
             interval=0.2, what="every delivery to be delivered:\n" + cluster.tail())
    cluster.kill()

    got = pairs(receiver)
    expected = {(e.event_id, p) for e in events for p in ("/a", "/b")}
    assert set(got) == expected
    assert all(r.verified for r in receiver.received), [r.error for r in receiver.received if not r.verified]
    repeated = {key: n for key, n in got.items() if n > 1}
    assert all(n <= 1 + may_repeat[key] for key, n in repeated.items()), (repeated, may_repeat)
    assert sum(may_repeat.values()) >= ROUNDS  # every kill caught at least one delivery in flight
    assert set(Delivery.objects.values_list("state", "claim_token")) == {(DeliveryState.DELIVERED, "")}
    assert Attempt.objects.filter(status_code=200).count() >= total


def test_a_receiver_down_for_a_while_gets_everything_after_it_returns(project, owner, receiver, cluster):
    receiver.expect(create_endpoint(project=project, by=owner, url=receiver.url("/down"),
                                    events=[EventType.GENERATION_SUCCEEDED]))
    receiver.stop()
    events = [emit(project, 100 + i) for i in range(6)]
    cluster.start()
    wait_for(lambda: Delivery.objects.filter(attempts__gte=1, state=DeliveryState.PENDING).count() == 6,
             timeout=60, interval=0.1, what="every first attempt to fail:\n" + cluster.tail())
    assert all(d.last_status_code is None and d.last_error for d in Delivery.objects.all())
    assert receiver.received == []
    receiver.start()
    # The first retry is due 5 s after the failure; the minute's schedule runs the job then.
    wait_for(lambda: Delivery.objects.due(timezone.now()).count() == 6, timeout=30, interval=0.2,
             what="the retries to come due")
    async_task(DUE)
    wait_for(lambda: Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == 6, timeout=60,
             interval=0.2, what="everything to arrive:\n" + cluster.tail())
    cluster.kill()
    assert pairs(receiver) == {(e.event_id, "/down"): 1 for e in events}
    assert all(r.verified for r in receiver.received)
