"""The audit log in the admin: browse, filter, export as CSV; never edited."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit import log
from audit.models import AuditEntry

from .kit import ReadOnlyModelAdmin, pretty_json

# --- the audit log --------------------------------------------------------------------------------


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "actor", "action", "object_link", "changes", "note"]
    list_filter = ["action", "object_type", ("actor", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["object_repr", "object_id", "note", "actor__username", "action"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
    fields = ["created_at", "actor", "action", "object_type", "object_id", "object_repr", "note",
              "before_json", "after_json"]
    readonly_fields = fields
    actions = ["download_csv"]
    change_list_template = "admin/audit/auditentry/change_list.html"

    @admin.display(description="Object")
    def object_link(self, obj):
        return format_html("{} <small>({} {})</small>", obj.object_repr, obj.object_type, obj.object_id)

    @admin.display(description="Changed")
    def changes(self, obj):
        names = obj.changed_fields()
        if not names:
            return "—"
        before, after = obj.before or {}, obj.after or {}
        return format_html_join(
            "", "<div><code>{}</code>: {} → {}</div>",
            ((n, _short(before.get(n)), _short(after.get(n))) for n in names[:6]),
        )

    @admin.display(description="Before")
    def before_json(self, obj):
        return pretty_json(obj.before)

    @admin.display(description="After")
    def after_json(self, obj):
        return pretty_json(obj.after)

    def get_urls(self):
        return [
            path("export.csv", self.admin_site.admin_view(self.export_view), name="audit_auditentry_export"),
            *super().get_urls(),
        ]

    def _csv_response(self, entries) -> StreamingHttpResponse:
        response = StreamingHttpResponse(log.csv_rows(entries), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="takes-audit-{stamp}.csv"'
        return response

    def export_view(self, request):
        """The log as CSV, with the filters and search of the list page applied."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self._csv_response(changelist.get_queryset(request).select_related("actor").iterator(chunk_size=500))

    @admin.action(description="Download selected entries as CSV")
    def download_csv(self, request, queryset):
        return self._csv_response(queryset.select_related("actor").order_by("-created_at", "-id").iterator())


def _short(value) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"
