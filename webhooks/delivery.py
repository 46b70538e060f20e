"""Sending deliveries: claimed by one worker at a time, signed, guarded, logged, retried for 24 hours.

A worker claims a delivery by compare-and-set (a fresh token and a lease, only while no live
claim holds it), sends it, and records the answer in one transaction that also checks the
token is still its own. So two workers never send the same delivery at once, and a worker
that dies mid-send leaves a claim that runs out after `LEASE`, when the schedule sends it
again. The one repeat this allows: a worker killed after the receiver answered 2xx and before
that answer was committed; the receiver then gets the same `webhook-id` twice, and is asked to
dedupe by it (docs/webhooks.md).

Requests go through the output download guard (`runway.downloads`): https only, public
addresses only (vetted once and pinned), no redirect followed.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks import Webhook

from runway import downloads

from .models import Attempt, Delivery, DeliveryState, Endpoint, Event

# Above the longest one send can take (connect 5 s + write 10 s + read 15 s), so a live
# claim never runs out while its request is still in flight.
LEASE = timedelta(seconds=90)
TIMEOUT = httpx.Timeout(15.0, connect=5.0, write=10.0)
# After the n-th failed attempt, wait BACKOFF[n-1] (the last one repeating) until 24 h are out.
BACKOFF = [timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400)]
DUE_BATCH = 200
# A job stops taking deliveries after this share of the queue's job timeout (each send takes
# at most ~30 s), so it always ends, with its claims handed back, before the queue would kill it.
JOB_SHARE = 0.5
KEEP_LOG = timedelta(days=30)  # events, deliveries and their attempts are kept this long
USER_AGENT = "Takes-Webhooks/1"


def body_of(event: Event) -> str:
    """The JSON body of an event, the same bytes on every attempt (Standard Webhooks' envelope)."""
    envelope = {"type": event.type, "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
                "data": event.payload}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True)


def signed_headers(endpoint: Endpoint, event: Event, body: str, *, at) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256 over id.timestamp.body)."""
    signature = Webhook(endpoint.secret).sign(msg_id=event.event_id, timestamp=at, data=body)
    return {"webhook-id": event.event_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature, "content-type": "application/json", "user-agent": USER_AGENT}


def check_url(url: str) -> None:
    """Refuse a webhook URL the guard would never send to (downloads.DownloadError)."""
    downloads.vet_url(url, what="webhook URL", allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK)


def backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def claim(delivery_id: int, *, now) -> str | None:
    """Take the delivery for sending (token and lease), only if it is due and nobody holds it."""
    token = secrets.token_hex(16)
    taken = Delivery.objects.due(now).filter(pk=delivery_id).update(claim_token=token, claimed_until=now + LEASE)
    return token if taken else None


def _send(delivery: Delivery) -> tuple[int | None, str]:
    """POST the event once; (status code, error): a code for every answer, an error when there is none or it fails."""
    event, endpoint = delivery.event, delivery.endpoint
    body = body_of(event)
    try:
        vetted = downloads.vet_url(endpoint.url, what="webhook URL",
                                   allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK)
        headers = signed_headers(endpoint, event, body, at=timezone.now())
        with (downloads.guarded_client(vetted, timeout=TIMEOUT) as client,
              client.stream("POST", endpoint.url, content=body.encode(), headers=headers) as response):
            code = response.status_code  # the receiver's body is never read
    except downloads.DownloadError as exc:
        return None, str(exc)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if 200 <= code < 300:
        return code, ""
    if 300 <= code < 400:
        return code, "The endpoint redirected; redirects are not followed."
    return code, f"The endpoint answered {code}."


def _record(delivery: Delivery, token: str, *, code: int | None, error: str, took: int, at) -> None:
    """Log the attempt and, if the claim is still this worker's, move the delivery on; one transaction."""
    ok = code is not None and 200 <= code < 300
    with transaction.atomic():
        current = Delivery.objects.filter(pk=delivery.pk).values("attempts", "expires_at").first()
        if current is None:
            return  # its endpoint was deleted meanwhile, with its log
        number = current["attempts"] + 1
        Attempt.objects.create(delivery=delivery, number=number, at=at, status_code=code,
                               error=error[:300], duration_ms=took)
        mine = Delivery.objects.filter(pk=delivery.pk, claim_token=token)
        common = {"attempts": F("attempts") + 1, "claim_token": "", "claimed_until": None,
                  "last_status_code": code, "last_error": error[:300]}
        if ok:
            mine.update(state=DeliveryState.DELIVERED, delivered_at=at, **common)
        else:
            retry_at = at + backoff(number)
            if retry_at > current["expires_at"]:
                mine.update(state=DeliveryState.FAILED, **common)
            else:
                mine.update(next_attempt_at=retry_at, **common)


def deliver(*, delivery_id: int, now=None) -> bool | None:
    """Send one delivery if it is due and unclaimed; True delivered, False failed this time, None not taken."""
    now = now or timezone.now()
    token = claim(delivery_id, now=now)
    if token is None:
        return None
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    started = time.monotonic()
    code, error = _send(delivery)
    took = int((time.monotonic() - started) * 1000)
    ok = code is not None and 200 <= code < 300
    finished = max(timezone.now(), now)
    # IntegrityError: its endpoint was deleted between the check and the insert, with its log.
    with contextlib.suppress(IntegrityError):
        _record(delivery, token, code=code, error=error, took=took, at=finished)
    return ok


def purge_old(*, now=None, keep: timedelta = KEEP_LOG) -> int:
    """Delete events older than `keep` whose deliveries are all finished (with their log); how many."""
    now = now or timezone.now()
    old = Event.objects.filter(created_at__lt=now - keep).exclude(deliveries__state=DeliveryState.PENDING)
    return old.delete()[1].get(Event._meta.label, 0)


def _within(seconds: float | None):
    """A predicate that stays true for `seconds` (default: half the queue's job timeout)."""
    budget = seconds if seconds is not None else settings.Q_CLUSTER["timeout"] * JOB_SHARE
    stop = time.monotonic() + budget
    return lambda: time.monotonic() < stop


def deliver_event(*, event_pk: int, budget: float | None = None) -> int:
    """Send every due delivery of one event (the job queued when it is written); how many were delivered.

    Stops taking new ones once `budget` seconds are spent, well inside the queue's job timeout;
    what is left is sent by the next `deliver_due`.
    """
    ids = list(Delivery.objects.filter(event_id=event_pk, state=DeliveryState.PENDING).values_list("pk", flat=True))
    going = _within(budget)
    return sum(1 for pk in ids if going() and deliver(delivery_id=pk))


def deliver_due(*, now=None, limit: int = DUE_BATCH, budget: float | None = None) -> int:
    """Send deliveries that are due: retries, and what a crash left behind (its claim run out); how many went.

    Like `deliver_event`, it stops taking new ones once `budget` seconds are spent (slow or dead
    endpoints cannot hold a job past its timeout); the next minute's run goes on.
    """
    now = now or timezone.now()
    ids = list(Delivery.objects.due(now).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    going = _within(budget)
    return sum(1 for pk in ids if going() and deliver(delivery_id=pk, now=now))
