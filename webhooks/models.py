"""A project's webhook endpoints, the outbox of events, and one delivery per event and endpoint.

An `Event` is written in the transaction of the change it tells of, with a delivery for each
endpoint subscribed to it, so an event exists exactly when its change does (the outbox). A
delivery is sent by whoever claims it (a token and a lease, compare-and-set), and every try is
kept as an `Attempt`: the delivery log.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import Project

RETRY_WINDOW = timedelta(hours=24)
SECRET_PREFIX = "whsec_"


class EventType(models.TextChoices):
    GENERATION_SUCCEEDED = "generation.succeeded", "A generation succeeded (its outputs are kept)"
    GENERATION_FAILED = "generation.failed", "A generation failed"
    GENERATION_CANCELLED = "generation.cancelled", "A generation was cancelled"
    CREDITS_ALERT = "credits.alert", "The project's budget fell below its alert"
    TEST = "webhook.test", "A test event (sent from the endpoint's page)"


SUBSCRIBABLE = [c for c in EventType if c != EventType.TEST]


def new_salt() -> str:
    return secrets.token_hex(16)


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Endpoint(models.Model):
    """An https URL of a project's, told of the events it subscribes to."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="The event types sent here")
    # The signing secret is derived from SECRET_KEY and this salt, never stored (see `secret`).
    secret_salt = models.CharField(max_length=32, default=new_salt, editable=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str:
        """The Standard Webhooks signing secret (`whsec_` + base64 of 32 bytes), made from SECRET_KEY."""
        key = salted_hmac("takes.webhooks.endpoint-secret", f"{self.pk}:{self.secret_salt}",
                          algorithm="sha256").digest()
        return SECRET_PREFIX + base64.b64encode(key).decode("ascii")

    def wants(self, event_type: str) -> bool:
        return self.active and event_type in self.events


class Event(models.Model):
    """One event, as its receivers get it: a stable id (`webhook-id`), a type and a JSON payload."""

    event_id = models.CharField(max_length=40, unique=True, default=new_event_id)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    # What made it, so the same change never makes two events (e.g. "generation:12:succeeded").
    key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class DeliveryQuerySet(models.QuerySet):
    def due(self, now) -> DeliveryQuerySet:
        """Pending, due, and not held by a live claim."""
        return self.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now, endpoint__active=True).filter(
            models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lt=now))


class Delivery(models.Model):
    """One event to one endpoint: tried until it is answered 2xx or its 24 hours run out."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="Retried until then; a replay starts a new window")
    claim_token = models.CharField(max_length=32, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class Attempt(models.Model):
    """One try of a delivery: what the receiver answered, or why nothing was sent or heard."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
