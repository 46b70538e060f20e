"""The Takes admin site: Django's admin with the ops pages (queue health) among its own URLs."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import path

from .health import queue_health


class TakesAdminSite(admin.AdminSite):
    site_header = "Takes ops"
    site_title = "Takes ops"
    index_title = "Operations"

    def get_urls(self):
        return [
            path("queue-health/", self.admin_view(self.queue_health_view), name="ops_queue_health"),
            *super().get_urls(),
        ]

    def queue_health_view(self, request):
        """What is in flight, what is stuck, what failed, who is spending — on one page."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        context = {
            **self.each_context(request),
            "title": "Queue health",
            "health": queue_health(),
            "can_see_tasks": request.user.is_superuser,
        }
        return TemplateResponse(request, "ops/queue_health.html", context)
