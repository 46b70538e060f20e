"""Webhook deliveries by a real qcluster, SIGKILLed mid-delivery and restarted; and a receiver that was down.

The receiver (a real HTTP server on loopback, checking signatures with the standardwebhooks
library) answers some requests at once and holds the next unanswered, so each kill lands
while a worker is inside a delivery. After each kill the test does what time would (the dead
worker's lease runs out: its claim is aged) and starts the cluster again, queueing the job
the `webhooks-deliver-due` schedule runs every minute (the schedule itself is checked in
tests/credits/test_organization.py).

In the end every event reaches every endpoint with a valid signature, and a (webhook-id,
endpoint) pair arrives more than once only where a kill caught it received but not yet
committed as delivered — the one repeat the design allows (docs/webhooks.md). And generations
driven through the pipeline by a cluster killed mid-step each make one event when they end
(the outbox commits with the ending), delivered with the credits Runway charged.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from tests.faults.conftest import emulator_process, queue_name  # noqa: F401  (fixtures)
from tests.faults.harness import Cluster, wait_for
from webhooks import outbox
from webhooks.actions import create_endpoint
from webhooks.models import Attempt, Delivery, DeliveryState, EventType

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
PER_ROUND = 4
DUE = "webhooks.tasks.deliver_due"


@pytest.fixture
def cluster(transactional_db, tmp_path, queue_name, media_root, settings, receiver):  # noqa: F811
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


def test_generations_ended_under_kills_each_tell_their_webhook_once(project, owner, receiver, queue_name,  # noqa: F811
                                                                   emulator_process, media_root, tmp_path,  # noqa: F811
                                                                   settings):
    """The pipeline, SIGKILLed mid-step: each generation that ends makes one event, told with its charge."""
    from credits import ledger
    from generations import submit
    from generations.models import Generation
    from tests.faults.audit import settled
    from tests.faults.harness import resume_after_crash
    from webhooks.models import Event

    cluster = Cluster(tmp_path, queue=queue_name, emulator_url=emulator_process.url, media_root=media_root)
    cluster.env.update({"WEBHOOKS_ALLOW_LOOPBACK": "1", "SECRET_KEY": settings.SECRET_KEY})
    ledger.grant(user=owner, amount=100_000)
    receiver.expect(create_endpoint(project=project, by=owner, url=receiver.url("/all"),
                                    events=[t.value for t in EventType if t != EventType.TEST]))
    for path, ms in {"/v1/text_to_image": 400, "/v1/tasks/*": 200, "/_files/*": 400}.items():
        emulator_process.control.inject_fault(path=path, latency_ms=ms, count=None)
    emulator_process.control.inject_fault(task={"fail_code": "INTERNAL.BAD_OUTPUT.CODE01", "model": "gen4_image"},
                                          count=2)
    made = [submit.submit_generation(project=project, user=owner, endpoint="text_to_image", model="gen4_image",
                                     params={"prompt_text": f"A lighthouse, take {i}", "ratio": "1920:1080"})
            for i in range(8)]
    ids = [g.pk for g in made]
    try:
        for kill in range(3):
            before = Generation.objects.filter(pk__in=ids, finished_at__isnull=False).count()
            cluster.start()
            wait_for(lambda b=before: Generation.objects.filter(pk__in=ids, finished_at__isnull=False).count() > b,
                     timeout=60, interval=0.05, what=f"a generation to end before kill {kill}:\n" + cluster.tail())
            cluster.kill()
            resume_after_crash()
            age_claims()
        cluster.start()
        async_task(DUE)
        wait_for(lambda: all(settled(g) for g in Generation.objects.filter(pk__in=ids)), timeout=120,
                 interval=0.2, what="every generation to end:\n" + cluster.tail())
        ended = Generation.objects.filter(pk__in=ids, finished_at__isnull=False)
        wait_for(lambda: Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == ended.count(),
                 timeout=60, interval=0.2, what="every event to be delivered:\n" + cluster.tail())
    finally:
        cluster.kill()

    charges = {c["id"]: c["charged"] for c in emulator_process.control.charges()}
    events = {e.payload["generation"]["id"]: e for e in Event.objects.all()}
    assert Event.objects.count() == len(events) == ended.count() >= 1
    got = pairs(receiver)
    for generation in ended:
        event = events[generation.pk]
        assert event.type == f"generation.{generation.status.lower()}"
        assert got[(event.event_id, "/all")] >= 1
        data = next(r.json for r in receiver.received if r.webhook_id == event.event_id)["data"]["generation"]
        if generation.status == "SUCCEEDED":
            assert data["credits"] == charges[generation.runway_task_id]
            assert [o["id"] for o in data["outputs"]] == list(generation.outputs.values_list("pk", flat=True))
    assert all(r.verified for r in receiver.received)
    assert {e.type for e in events.values()} >= {"generation.succeeded", "generation.failed"}
