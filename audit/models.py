"""The audit log: who changed what (from the admin, a person's page or a workflow), and when."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AuditEntryQuerySet(models.QuerySet):
    def for_page(self) -> AuditEntryQuerySet:
        return self.select_related("actor").order_by("-created_at", "-id")


class AuditEntry(models.Model):
    """One recorded operator action, with the object's state before and after it."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=60, db_index=True, help_text="e.g. generation.cancel, credits.grant")
    object_type = models.CharField(max_length=100, db_index=True, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    note = models.CharField(max_length=500, blank=True)
    # The project the object belongs to, by id (the audit log sits below every app), for its activity feed.
    project_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        db_table = "ops_auditentry"  # the table it had when the admin app owned it

    def __str__(self) -> str:
        return f"{self.action} on {self.object_repr or self.object_type} by {self.actor or 'system'}"

    def changed_fields(self) -> list[str]:
        """Names whose value differs between before and after."""
        before, after = self.before or {}, self.after or {}
        if not isinstance(before, dict) or not isinstance(after, dict):
            return []
        return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
