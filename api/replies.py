"""Takes' generations in Runway's wire shapes: the task object (CONTRACT §3.1) and signed output URLs.

A generation's status maps onto Runway's six: before Runway has the task (QUEUED, UPLOADING,
SUBMITTING) it is PENDING, as Runway's own queue is; while Takes copies the outputs into its
storage it is still RUNNING (the outputs are not Takes' yet), so SUCCEEDED always comes with
URLs that work. Those URLs are Takes' own, signed and expiring (`API_OUTPUT_URL_HOURS`): they
serve the copy in Takes' storage, never Runway's URL, so a script needs no Runway key and the
file it fetches is the one the gallery keeps.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from credits.models import Hold, HoldState
from generations.models import Generation, Output, Status

SALT = "api.output"

WAITING = {Status.QUEUED: "PENDING", Status.UPLOADING: "PENDING", Status.SUBMITTING: "PENDING",
           Status.PENDING: "PENDING", Status.THROTTLED: "THROTTLED", Status.RUNNING: "RUNNING",
           Status.COPYING: "RUNNING"}


def iso(moment) -> str:
    """Runway's timestamp form: ISO 8601 in UTC with milliseconds and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def output_url(request, output: Output) -> str:
    """An absolute, signed URL for one output's delivered file, valid API_OUTPUT_URL_HOURS."""
    signed = signing.dumps(output.pk, salt=SALT, compress=False)
    return request.build_absolute_uri(reverse("api:output", args=[signed]))


def output_of_signed(signed: str) -> int | None:
    """The output id a signed URL names while it is valid, else None."""
    try:
        value = signing.loads(signed, salt=SALT, max_age=settings.API_OUTPUT_URL_HOURS * 3600)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def charged(generation: Generation) -> int:
    """What the person was charged for the generation (0 when released or refunded)."""
    hold = Hold.objects.filter(generation=generation, account__project__isnull=True).first()
    if hold is None or hold.state != HoldState.SETTLED or hold.refunded_at:
        return 0
    return hold.charged or 0


def task_json(request, generation: Generation) -> dict[str, Any]:
    """The generation as `GET /v1/tasks/{id}` answers it."""
    body: dict[str, Any] = {"id": str(generation.api_id), "createdAt": iso(generation.created_at)}
    status = generation.status
    if status in WAITING:
        body["status"] = WAITING[status]
        body["estimatedCost"] = {"credits": generation.estimated_credits}
        if body["status"] == "RUNNING":
            body["progress"] = min(1.0, max(0.0, float(generation.progress or 0)))
        return body
    body["status"] = str(status)
    body["cost"] = {"credits": charged(generation)}
    if status == Status.SUCCEEDED:
        outputs = Output.objects.in_project(generation.project).filter(generation=generation).order_by("index")
        body["output"] = [output_url(request, o) for o in outputs]
    elif status == Status.FAILED:
        body["failure"] = generation.failure_message or "The generation failed."
        body["failureCode"] = generation.failure_code or None
    return body
