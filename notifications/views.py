"""A person's notifications: /notifications/ — the list, marking read, opening one, and preferences."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.http import redirect_after_post

from .models import Notification, Preference

PER_PAGE = 30


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ["email_digest", "browser"]
        labels = {"email_digest": "Email me a digest of what finished (at most hourly)",
                  "browser": "Show a browser notification when something finishes while Takes is open"}


def _preference(user) -> Preference:
    return Preference.objects.get_or_create(user=user)[0]


@require_GET
@login_required
def notification_list(request):
    mine = Notification.objects.filter(user=request.user).select_related("project")
    page = Paginator(mine, PER_PAGE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "notifications/list.html", {
        "page": page, "unread": mine.unread().count(), "form": PreferenceForm(instance=_preference(request.user)),
    })


@require_POST
@login_required
def mark_all_read(request):
    done = Notification.objects.filter(user=request.user).unread().update(read_at=timezone.now())
    messages.success(request, f"{done} notification{'s' if done != 1 else ''} marked read." if done
                     else "Nothing was unread.")
    return redirect_after_post(request, reverse("notifications:list"))


@require_GET
@login_required
def notification_open(request, notification_id: int):
    """Mark one read and go to what it is about (a link Takes wrote itself)."""
    note = get_object_or_404(Notification, pk=notification_id, user=request.user)
    if note.read_at is None:
        Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=timezone.now())
    return redirect(note.url if note.url.startswith("/") and not note.url.startswith("//") else reverse("notifications:list"))


@require_POST
@login_required
def preferences(request):
    form = PreferenceForm(request.POST, instance=_preference(request.user))
    form.save()
    messages.success(request, "Your notification settings are saved.")
    return redirect_after_post(request, reverse("notifications:list"))


@require_GET
@login_required
def unread(request):
    """The unread count and the newest unread ones, for the bell and browser notifications (JSON)."""
    mine = Notification.objects.filter(user=request.user)
    fresh = mine.unread()[:5]
    return JsonResponse({"unread": mine.unread().count(),
                         "newest": mine.aggregate(newest=Max("pk"))["newest"] or 0,
                         "latest": [{"id": n.pk, "text": n.text, "url": reverse("notifications:open", args=[n.pk])} for n in fresh]})
