"""django-q2's pages in the admin: its queued rows hold signed pickles, so superusers only."""

from __future__ import annotations

from django.contrib import admin
from django_q import admin as q_admin
from django_q import models as q_models


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
