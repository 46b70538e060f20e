"""Every change to a project's webhooks, each atomic with its audit entry."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.log import record, snapshot

from . import outbox
from .models import RETRY_WINDOW, Delivery, DeliveryState, Endpoint, Event

ENDPOINT_FIELDS = ["url", "events", "active"]
MAX_ENDPOINTS = 20


class WebhookError(Exception):
    """A change refused, with the words to show and the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def create_endpoint(*, project, by, url: str, events: list[str]) -> Endpoint:
    """Subscribe `url` (already checked by the form) to `events` in `project`."""
    with transaction.atomic():
        if Endpoint.objects.select_for_update().filter(project=project).count() >= MAX_ENDPOINTS:
            raise WebhookError(f"A project has at most {MAX_ENDPOINTS} webhook endpoints.", status=409)
        endpoint = Endpoint.objects.create(project=project, url=url, events=sorted(set(events)), created_by=by)
        record(actor=by, action="webhook.create", obj=endpoint, after=snapshot(endpoint, ENDPOINT_FIELDS))
    return endpoint


def delete_endpoint(*, endpoint: Endpoint, by) -> None:
    """Remove an endpoint with its deliveries and their log; nothing more is sent to it."""
    with transaction.atomic():
        record(actor=by, action="webhook.delete", obj=endpoint, before=snapshot(endpoint, ENDPOINT_FIELDS))
        endpoint.delete()


def set_active(*, endpoint: Endpoint, by, active: bool) -> bool:
    """Pause or resume an endpoint; False if it already was so.

    A paused endpoint gets no new events, and what was queued for it waits until it is resumed.
    """
    with transaction.atomic():
        changed = Endpoint.objects.filter(pk=endpoint.pk, active=not active).update(active=active)
        if changed:
            record(actor=by, action="webhook.resume" if active else "webhook.pause", obj=endpoint,
                   before={"active": not active}, after={"active": active})
    endpoint.active = active
    return bool(changed)


def replay_delivery(*, delivery: Delivery, by) -> Delivery:
    """Send a delivery again, as the same event (same `webhook-id`), with a new 24-hour window."""
    now = timezone.now()
    with transaction.atomic():
        taken = Delivery.objects.filter(pk=delivery.pk).exclude(claimed_until__gt=now).update(
            state=DeliveryState.PENDING, next_attempt_at=now, expires_at=now + RETRY_WINDOW)
        if not taken:
            raise WebhookError("This delivery is being sent right now; try again in a moment.", status=409)
        record(actor=by, action="webhook.replay", obj=delivery.endpoint, project=delivery.endpoint.project_id,
               note=f"{delivery.event.type} {delivery.event.event_id}")
        outbox.enqueue_delivery(delivery.event_id)
    delivery.refresh_from_db()
    return delivery


def send_test_event(*, endpoint: Endpoint, by) -> Event:
    """Queue a test event (type `webhook.test`) for this endpoint alone."""
    with transaction.atomic():
        event = outbox.emit_test(endpoint=endpoint)
        record(actor=by, action="webhook.test", obj=endpoint, note=event.event_id)
    return event
