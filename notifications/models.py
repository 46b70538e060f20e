"""What a person is told when their work finishes: one notification per event, never two.

A notification names what it is about by id (a generation, or a group of variations), a data
reference up the layers by name; the unique key (person, event, subject) is what makes a
second attempt to write the same one a no-op, whoever makes it and however often.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Project


class Event(models.TextChoices):
    SUCCEEDED = "generation.succeeded", "Generation done"
    FAILED = "generation.failed", "Generation failed"
    GROUP_FINISHED = "group.finished", "Variations finished"


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=30, choices=Event.choices)
    subject_id = models.PositiveBigIntegerField(help_text="The generation's or the group's id")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "event", "subject_id"], name="one_notification_per_event")]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text


class Preference(models.Model):
    """How a person wants to be told, beside the list in the app."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preference")
    email_digest = models.BooleanField(default=False, help_text="An email of what finished since the last one")
    browser = models.BooleanField(default=False, help_text="A browser notification while a Takes tab is open")

    def __str__(self) -> str:
        return f"Notification settings of {self.user}"
