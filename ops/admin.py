"""The ops console: the audit log, the queue-health page, and django-q2's pages for superusers only."""

from __future__ import annotations

from django.contrib import admin
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django_q import admin as q_admin
from django_q import models as q_models

from . import (
    audit,
    credits_admin,  # noqa: F401 — registers the audited credit account admin
    views,
)
from .adminkit import ReadOnlyModelAdmin, pretty_json
from .models import AuditEntry

admin.site.site_header = "Takes ops"
admin.site.site_title = "Takes ops"
admin.site.index_title = "Operations"


# --- the queue-health page ------------------------------------------------------------------------
# Takes uses Django's default admin site; rather than swap its class (a settings
# change), the ops pages are put in front of the site's own URLs.

_site_urls = admin.site.get_urls


def _get_urls():
    return [
        path("queue-health/", admin.site.admin_view(views.queue_health_view), name="ops_queue_health"),
        *_site_urls(),
    ]


admin.site.get_urls = _get_urls


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
    change_list_template = "admin/ops/auditentry/change_list.html"

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
            path("export.csv", self.admin_site.admin_view(self.export_view), name="ops_auditentry_export"),
            *super().get_urls(),
        ]

    def _csv_response(self, entries) -> StreamingHttpResponse:
        response = StreamingHttpResponse(audit.csv_rows(entries), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="takes-audit-{stamp}.csv"'
        return response

    def export_view(self, request):
        """The log as CSV, with the filters and search of the list page applied."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self._csv_response(changelist.get_queryset(request).select_related("actor").iterator(chunk_size=500))

    @admin.action(description="Download selected entries as CSV")
    def download_csv(self, request, queryset):
        return self._csv_response(queryset.select_related("actor").order_by("-created_at", "-id").iterator())


def _short(value) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


# --- django-q2: its queued rows hold signed pickles, so superusers only -----------------------------


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser and super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_delete_permission(request, obj)


class ScheduleAdmin(SuperuserOnly, q_admin.ScheduleAdmin):
    pass


class SuccessAdmin(SuperuserOnly, q_admin.TaskAdmin):
    pass


class FailureAdmin(SuperuserOnly, q_admin.FailAdmin):
    pass


class QueueAdmin(SuperuserOnly, q_admin.QueueAdmin):
    pass


for _model, _admin_class in [(q_models.Schedule, ScheduleAdmin), (q_models.Success, SuccessAdmin),
                             (q_models.Failure, FailureAdmin), (q_models.OrmQ, QueueAdmin)]:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
        admin.site.register(_model, _admin_class)
