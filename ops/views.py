"""Admin pages of the ops app: the queue-health dashboard."""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from .health import queue_health


@require_GET
def queue_health_view(request):
    """What is in flight, what is stuck, what failed, who is spending — on one page."""
    context = {
        **admin.site.each_context(request),
        "title": "Queue health",
        "health": queue_health(),
        "can_see_tasks": request.user.is_superuser,
    }
    return TemplateResponse(request, "ops/queue_health.html", context)
