"""Pieces the Takes admin pages share: audited saves, read-only display helpers, the operate permission."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html

from audit.log import record, snapshot


def can_operate(request, model) -> bool:
    """Staff who may change `model` may also run its operator actions."""
    user = request.user
    opts = model._meta
    return bool(user.is_active and user.is_staff and user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))


def pretty_json(value: Any):
    """A JSON value as an indented, escaped <pre> block."""
    if value in (None, "", {}, []):
        return "—"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    return format_html('<pre class="ops-json">{}</pre>', text)


def _stored(obj):
    """The object as the database holds it now (the form has already changed the instance)."""
    if obj.pk is None:
        return None
    return type(obj)._default_manager.filter(pk=obj.pk).first()


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose adds, edits and deletes (inlines included) land in the audit log."""

    def save_model(self, request, obj, form, change):
        before = snapshot(_stored(obj)) if change else None
        super().save_model(request, obj, form, change)
        record(actor=request.user, action="admin.change" if change else "admin.add", obj=obj,
               before=before, after=snapshot(obj))

    def delete_model(self, request, obj):
        before, label, pk, text = snapshot(obj), obj._meta.label_lower, str(obj.pk), str(obj)
        super().delete_model(request, obj)
        record(actor=request.user, action="admin.delete", before=before, object_type=label, object_id=pk,
               object_repr=text)

    def delete_queryset(self, request, queryset):
        gone = [(snapshot(o), o._meta.label_lower, str(o.pk), str(o)) for o in queryset]
        super().delete_queryset(request, queryset)
        for before, label, pk, text in gone:
            record(actor=request.user, action="admin.delete", before=before, object_type=label, object_id=pk,
                   object_repr=text)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            before, label, pk, text = snapshot(obj), obj._meta.label_lower, str(obj.pk), str(obj)
            obj.delete()
            record(actor=request.user, action="admin.delete", before=before, object_type=label, object_id=pk,
                   object_repr=text)
        for obj in instances:
            before = snapshot(_stored(obj))
            obj.save()
            record(actor=request.user, action="admin.change" if before else "admin.add", obj=obj,
                   before=before, after=snapshot(obj))
        formset.save_m2m()


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Browse and filter only: rows change through workflows, never by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
