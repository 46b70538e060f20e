"""Writing events into the outbox, in the transaction of the change they tell of.

`emit` is the one way an event is made. It is called inside the caller's transaction (a
generation finishing, a budget crossing its alert), so the event and its deliveries commit
or roll back with the change: an event is never lost after its change commits, and never
sent for a change that was undone. Callers give ids, a type and a JSON payload; this module
knows nothing of generations or credits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from .models import RETRY_WINDOW, Delivery, Endpoint, Event, EventType

DELIVER_TASK = "webhooks.tasks.deliver_event"


def enqueue_delivery(event_pk: int) -> None:
    """Queue the sending of an event's deliveries; on the ORM broker it commits with the caller's transaction."""
    if "orm" in settings.Q_CLUSTER:
        async_task(DELIVER_TASK, event_pk)
    else:
        transaction.on_commit(lambda: async_task(DELIVER_TASK, event_pk))


def _write(*, project_id: int, type: str, payload: dict[str, Any], endpoints: list[Endpoint],
           key: str | None) -> Event | None:
    now = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: a second event of the same change is a no-op
            event = Event.objects.create(project_id=project_id, type=type, payload=payload, key=key,
                                         created_at=now)
    except IntegrityError:
        return None
    Delivery.objects.bulk_create([Delivery(event=event, endpoint=e, next_attempt_at=now,
                                           expires_at=now + RETRY_WINDOW, created_at=now) for e in endpoints])
    enqueue_delivery(event.pk)
    return event


def emit(*, project_id: int, type: str, payload: dict[str, Any] | Callable[[], dict[str, Any]],
         key: str | None = None) -> Event | None:
    """Write an event for every active endpoint of the project subscribed to `type`; None if none is.

    `payload` may be a function, called only when some endpoint wants the event (a project
    without webhooks pays one query). `key` names the change (e.g. "generation:12:succeeded"):
    a second emit with the same key writes nothing. Must run inside the transaction of the change.
    """
    if type not in EventType.values or type == EventType.TEST:
        raise ValueError(f"Unknown webhook event type {type!r}")
    endpoints = [e for e in Endpoint.objects.filter(project_id=project_id, active=True) if e.wants(type)]
    if not endpoints:
        return None
    if callable(payload):
        payload = payload()
    return _write(project_id=project_id, type=type, payload=payload, endpoints=endpoints, key=key)


def emit_test(*, endpoint: Endpoint) -> Event:
    """A test event for one endpoint alone, whatever it subscribes to."""
    payload = {"message": "A test event from Takes: your endpoint is reached and can check the signature.",
               "endpoint": endpoint.url}
    event = _write(project_id=endpoint.project_id, type=EventType.TEST, payload=payload, endpoints=[endpoint],
                   key=None)
    assert event is not None  # no key, so never a duplicate
    return event
