"""A project's webhook pages, under its settings (owners only, through `core.access`).

Owners list, add and delete endpoints, see each endpoint's signing secret and its delivery
log, replay a delivery and send a test event. Every change goes through `webhooks.actions`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from core.access import project_view
from core.http import confirm_page

from . import actions
from .forms import EndpointForm
from .models import Delivery, DeliveryState, Endpoint

PER_PAGE = 25


def _endpoint(membership, endpoint_id: int) -> Endpoint:
    return get_object_or_404(Endpoint, pk=endpoint_id, project=membership.project)


def _delivery(membership, endpoint_id: int, delivery_id: int) -> Delivery:
    return get_object_or_404(Delivery.objects.select_related("event", "endpoint"), pk=delivery_id,
                             endpoint_id=endpoint_id, endpoint__project=membership.project)


def _list_page(request, membership, form, *, status: int = 200):
    endpoints = (Endpoint.objects.filter(project=membership.project)
                 .annotate(delivered=Count("deliveries", filter=Q(deliveries__state=DeliveryState.DELIVERED)),
                           failed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
                           pending=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING))))
    return TemplateResponse(request, "webhooks/endpoints.html",
                            {"project": membership.project, "membership": membership, "endpoints": endpoints,
                             "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@project_view(Role.OWNER)
def endpoint_list(request, membership):
    if request.method == "GET":
        return _list_page(request, membership, EndpointForm())
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _list_page(request, membership, form, status=400)
    try:
        endpoint = actions.create_endpoint(project=membership.project, by=request.user,
                                           url=form.cleaned_data["url"], events=form.cleaned_data["events"])
    except actions.WebhookError as exc:
        form.add_error(None, exc.message)
        return _list_page(request, membership, form, status=exc.status)
    messages.success(request, "Endpoint added. Copy its signing secret to check the signatures.")
    return redirect("webhooks:endpoint", slug=membership.project.slug, endpoint_id=endpoint.pk)


def _endpoint_context(request, membership, endpoint: Endpoint) -> dict:
    deliveries = endpoint.deliveries.select_related("event").order_by("-created_at", "-pk")
    page = Paginator(deliveries, PER_PAGE).get_page(request.GET.get("page"))
    return {"project": membership.project, "membership": membership, "endpoint": endpoint, "page": page}


@require_GET
@project_view(Role.OWNER)
def endpoint_detail(request, membership, endpoint_id: int):
    endpoint = _endpoint(membership, endpoint_id)
    return TemplateResponse(request, "webhooks/endpoint.html", _endpoint_context(request, membership, endpoint))


@require_http_methods(["GET", "POST"])
@project_view(Role.OWNER)
def endpoint_delete(request, membership, endpoint_id: int):
    endpoint = _endpoint(membership, endpoint_id)
    if request.method == "POST":
        actions.delete_endpoint(endpoint=endpoint, by=request.user)
        messages.success(request, f"The endpoint {endpoint.url} was deleted; nothing more is sent to it.")
        return redirect("webhooks:list", slug=membership.project.slug)
    return confirm_page(
        request, project=membership.project, title="Delete this webhook endpoint?",
        body=f"{endpoint.url} will get no more events, and its delivery log is deleted with it.",
        action="Delete endpoint",
        cancel_url=reverse("webhooks:endpoint", args=[membership.project.slug, endpoint.pk]))


@require_POST
@project_view(Role.OWNER)
def endpoint_test(request, membership, endpoint_id: int):
    endpoint = _endpoint(membership, endpoint_id)
    event = actions.send_test_event(endpoint=endpoint, by=request.user)
    messages.success(request, f"A test event ({event.event_id}) is on its way; its delivery is listed below.")
    return redirect("webhooks:endpoint", slug=membership.project.slug, endpoint_id=endpoint.pk)


@require_POST
@project_view(Role.OWNER)
def endpoint_active(request, membership, endpoint_id: int):
    """Pause (active=0) or resume (active=1) an endpoint."""
    endpoint = _endpoint(membership, endpoint_id)
    wanted = request.POST.get("active")
    if wanted not in ("0", "1"):
        messages.error(request, "Choose to pause or to resume the endpoint.")
        return TemplateResponse(request, "webhooks/endpoint.html", _endpoint_context(request, membership, endpoint),
                                status=400)
    actions.set_active(endpoint=endpoint, by=request.user, active=wanted == "1")
    messages.success(request, "Endpoint resumed; what waited is sent now." if endpoint.active
                     else "Endpoint paused; new events are not queued for it until you resume it.")
    return redirect("webhooks:endpoint", slug=membership.project.slug, endpoint_id=endpoint.pk)


@require_GET
@project_view(Role.OWNER)
def delivery_detail(request, membership, endpoint_id: int, delivery_id: int):
    found = _delivery(membership, endpoint_id, delivery_id)
    page = Paginator(found.log.all(), PER_PAGE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "webhooks/delivery.html",
                            {"project": membership.project, "membership": membership, "delivery": found,
                             "endpoint": found.endpoint, "page": page})


@require_POST
@project_view(Role.OWNER)
def delivery_replay(request, membership, endpoint_id: int, delivery_id: int):
    found = _delivery(membership, endpoint_id, delivery_id)
    try:
        actions.replay_delivery(delivery=found, by=request.user)
    except actions.WebhookError as exc:
        messages.error(request, exc.message)
        return TemplateResponse(request, "webhooks/delivery.html",
                                {"project": membership.project, "membership": membership, "delivery": found,
                                 "endpoint": found.endpoint,
                                 "page": Paginator(found.log.all(), PER_PAGE).get_page(1)}, status=exc.status)
    messages.success(request, f"{found.event.event_id} will be sent again, with the same webhook-id.")
    return redirect("webhooks:delivery", slug=membership.project.slug, endpoint_id=endpoint_id,
                    delivery_id=found.pk)
