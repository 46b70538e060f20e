"""Projects' webhook endpoints and their deliveries in the ops console: listed, never edited.

Owners change endpoints and replay deliveries on the project's pages (`webhooks.actions`,
audited); here ops browse what was sent where and what failed. Signing secrets are not shown.
"""

from __future__ import annotations

from django.contrib import admin

from webhooks.models import Delivery, Endpoint, Event

from .kit import ReadOnlyModelAdmin, pretty_json


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyModelAdmin):
    list_display = ["url", "project", "active", "created_by", "created_at"]
    list_filter = ["active", "created_at"]
    list_select_related = ["project", "created_by"]
    search_fields = ["url", "project__name", "project__slug"]
    fields = ["project", "url", "events", "active", "created_by", "created_at"]
    readonly_fields = fields


@admin.register(Event)
class EventAdmin(ReadOnlyModelAdmin):
    list_display = ["event_id", "type", "project", "created_at"]
    list_filter = ["type", "created_at"]
    list_select_related = ["project"]
    search_fields = ["event_id", "key", "project__slug"]
    date_hierarchy = "created_at"
    fields = ["event_id", "type", "project", "key", "created_at", "payload_json"]
    readonly_fields = fields

    @admin.display(description="Payload")
    def payload_json(self, obj):
        return pretty_json(obj.payload)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyModelAdmin):
    list_display = ["event", "endpoint", "state", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["state", "created_at"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["event__event_id", "endpoint__url"]
    date_hierarchy = "created_at"
    fields = ["event", "endpoint", "state", "attempts", "next_attempt_at", "expires_at", "claimed_until",
              "last_status_code", "last_error", "delivered_at", "created_at"]
    readonly_fields = fields
