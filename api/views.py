"""Runway's API as Takes serves it under `/v1/`, for scripts holding a personal token.

Same paths, headers, status codes and error bodies as Runway's (CONTRACT.md), so the official
SDK pointed at Takes works unchanged. Every create goes through `generations.submit` like a
browser submission (the catalog's validation, holds, budgets, the token's limit, the pipeline,
the gallery); every view is the token's person acting in the token's project (`api.auth`).
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from assets import media
from assets.actions import create_asset
from assets.uploads import ByteCountingUploadHandler
from audit.log import record
from core.http import serve_file
from credits import ledger
from credits.models import LedgerEntry, utc_today
from credits.organization import latest_snapshot
from generations import cancel, submit
from generations.models import Generation, Output
from generations.views import may_cancel
from runway import catalog
from runway.client import WireError, parse_arguments, wire_name

from . import replies
from .auth import api_view, error
from .inputs import InputError, resolve_inputs
from .models import Upload

DOC_URL = "https://docs.dev.runwayml.com/api"

#: Runway's path of each catalog endpoint (the Model Router's `generate_video` is `generate/video`).
PATHS = {key.replace("generate_", "generate/", 1) if key.startswith("generate_") else key: key
         for key in catalog.ENDPOINTS}


def issues(items: list[dict[str, Any]], where: str = "body") -> JsonResponse:
    """Runway's 400 for a request that fails its schema: `{"error", "issues": [{code, path, message}], "docUrl"}`."""
    return error(400, f"Validation of {where} failed", issues=items, docUrl=DOC_URL)


def _read_json(request) -> Any:
    """The JSON body, read from the stream up to API_MAX_BODY_BYTES; an empty body reads as {}."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0  # read below, within the cap, whatever it claimed
    if declared > settings.API_MAX_BODY_BYTES:
        raise _Refused(error(413, f"The request body is over {settings.API_MAX_BODY_BYTES:,} bytes; "
                                  "upload large media with uploads.create_ephemeral instead."))
    raw = request.read(settings.API_MAX_BODY_BYTES + 1)
    if len(raw) > settings.API_MAX_BODY_BYTES:
        raise _Refused(error(413, "The request body is too large."))
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _Refused(error(400, "The request body is not valid JSON.")) from None


def _read_object(request) -> dict[str, Any]:
    body = _read_json(request)
    if not isinstance(body, dict):
        raise _Refused(issues([{"code": "invalid_type", "path": [], "message": "Expected object"}]))
    return body


class _Refused(Exception):
    """Carries the error response a helper decided on."""

    def __init__(self, response: HttpResponse):
        super().__init__(response.status_code)
        self.response = response


def _submission_error(exc: submit.SubmissionError) -> JsonResponse:
    if isinstance(exc.__cause__, ledger.InsufficientCredits):
        return error(400, f"You do not have enough credits to run this task. {exc}")
    if exc.status != 400:
        return error(exc.status, str(exc))
    found = [{"code": "custom", "path": [] if name == "__all__" else [wire_name(name)], "message": message}
             for name, messages in exc.errors.items() for message in messages]
    return issues(found)


# --- generations ---------------------------------------------------------------------------


@api_view("POST")
def generation_create(request, token, path: str):
    """`POST /v1/<endpoint>`: a generation, through the browser's pipeline; answers `{id, estimatedCost}`."""
    endpoint = PATHS.get(path)
    if endpoint is None:
        return error(404, f"No such endpoint: /v1/{path}.")
    try:
        body = _read_object(request)
    except _Refused as refused:
        return refused.response
    models = catalog.ENDPOINTS[endpoint].models
    routed = any(m.routed for m in models)
    model_id = catalog.ROUTED if routed else body.get("model")
    spec = next((m for m in models if m.id == model_id), None)
    if spec is None:
        known = ", ".join(repr(m.id) for m in models)
        return issues([{"code": "invalid_union_discriminator", "path": ["model"],
                        "message": f"Invalid discriminator value. Expected {known}"}])
    try:
        params = parse_arguments(model=spec, body=body)
        params = resolve_inputs(model=spec, params=params, token=token)
    except WireError as exc:
        return issues([{"code": "unrecognized_keys" if not exc.field else "invalid_type",
                        "path": [exc.field] if exc.field else [], "message": str(exc)}])
    except InputError as exc:
        return error(400, str(exc))
    def audit(made: Generation) -> None:
        # In the submission's own transaction: who spent what, through which token, is kept with it.
        record(actor=token.user, action="generation.api_create", obj=made,
               after={"endpoint": made.endpoint, "model": made.model, "estimated_credits": made.estimated_credits,
                      "api_token": token.pk}, note=f"through the API token “{token.name}”")

    try:
        generation = submit.submit_generation(project=token.project, user=token.user, endpoint=endpoint,
                                              model=spec.id, params=params, api_token=token,
                                              api_id=uuid.uuid4(), on_change=audit)
    except submit.SubmissionError as exc:
        return _submission_error(exc)
    return JsonResponse({"id": str(generation.api_id), "estimatedCost": {"credits": generation.estimated_credits}})


def _task(request, token, task_id: str) -> Generation:
    try:
        wanted = uuid.UUID(task_id)
    except ValueError:
        raise Http404("Task not found.") from None
    return get_object_or_404(Generation.objects.in_project(request.membership.project),
                             api_id=wanted, api_deleted_at=None)


@api_view("GET", "DELETE")
def task_detail(request, token, task_id: str):
    """`GET /v1/tasks/{id}` (the task's shape, Takes' output URLs) and `DELETE` (cancel, or forget a finished one)."""
    try:
        generation = _task(request, token, task_id)
    except Http404:
        return error(404, "Task not found.")
    if request.method == "GET":
        return JsonResponse(replies.task_json(request, generation))
    if not may_cancel(request.membership, generation):
        return error(403, "Only the person who made this task, or an owner of its project, can delete it.")
    before = {"status": generation.status}

    def audit(cancelled: Generation) -> None:
        record(actor=token.user, action="generation.cancel", obj=cancelled, before=before,
               after={"status": cancelled.status}, note=f"through the API token “{token.name}”")

    if generation.is_in_flight:
        try:
            cancel.cancel_generation(generation=generation, on_change=audit)
        except cancel.BeingSubmitted as exc:
            # Retried by the SDK (409 is one of its retried statuses): Runway has the task a moment later.
            return error(409, str(exc))
        except submit.SubmissionError as exc:
            return error(502, str(exc))
    with transaction.atomic():
        # The task is gone from the API, as a deleted task is at Runway; its outputs stay in the gallery.
        if Generation.objects.filter(pk=generation.pk, api_deleted_at=None).update(api_deleted_at=timezone.now()):
            record(actor=token.user, action="generation.api_delete", obj=generation,
                   note=f"through the API token “{token.name}”")
    return HttpResponse(status=204)


@csrf_exempt
@login_not_required
@require_GET
def output_download(request, signed: str):
    """An output's delivered file at a signed, expiring URL (no token: the URL is the credential, as Runway's are)."""
    output_id = replies.output_of_signed(signed)
    if output_id is None:
        return error(404, "This output URL is unknown or has expired; retrieve the task again for a fresh one.")
    output = Output.objects.filter(pk=output_id, trashed_at=None).first()
    if output is None:
        return error(404, "This output is no longer kept.")
    return serve_file(output.file, content_type=output.content_type, filename=output.download_name,
                      range_header=request.headers.get("Range"))


# --- uploads -------------------------------------------------------------------------------


@api_view("POST")
def upload_create(request, token):
    """`POST /v1/uploads`: a slot to send one file to, and the `runway://` URI it will have."""
    try:
        body = _read_object(request)
    except _Refused as refused:
        return refused.response
    found = []
    filename = body.get("filename")
    if not isinstance(filename, str):
        found.append({"code": "invalid_type", "path": ["filename"],
                      "message": "Required" if filename is None else "Expected string"})
    elif not 3 <= len(filename) <= 255:
        found.append({"code": "too_small" if len(filename) < 3 else "too_big", "path": ["filename"],
                      "message": "String must contain between 3 and 255 character(s)"})
    if body.get("type") != "ephemeral":
        found.append({"code": "invalid_enum_value", "path": ["type"], "message": "Invalid enum value. Expected 'ephemeral'"})
    unknown = sorted(set(body) - {"filename", "type"})
    if unknown:
        found.append({"code": "unrecognized_keys", "path": [], "message": f"Unrecognized key(s) in object: {unknown}"})
    if found:
        return issues(found)
    if (mimetypes.guess_type(filename)[0] or "").split("/")[0] not in ("image", "video", "audio"):
        return error(400, f"Unsupported file type for '{filename}'. Use an image, video or audio file "
                          "with a matching extension.")
    upload, secret = Upload.open_slot(token=token, filename=filename)
    target = request.build_absolute_uri(reverse("api:upload_file", args=[secret]))
    return JsonResponse({"uploadUrl": target, "fields": {}, "runwayUri": upload.uri})


@csrf_exempt
@login_not_required
def upload_file(request, secret: str):
    """The presigned target of a slot: a multipart POST with the file in `file`, as to Runway's storage.

    The target's unguessable secret is the credential (Runway's storage takes no API key either).
    """
    if request.method != "POST":
        return error(405, "Send the file with POST.")
    upload = Upload.by_target(secret)
    if upload is None or not upload.is_open or not upload.token.is_usable:
        return error(403, "This upload target is unknown, used or expired; ask for a new one.")
    handler = ByteCountingUploadHandler(request, max_bytes=media.MAX_BYTES)
    request.upload_handlers = [handler]
    sent = request.FILES.get("file")
    if handler.too_large:
        return error(413, f"The file is over {media.MAX_BYTES:,} bytes, the most Runway takes.")
    if sent is None:
        return error(400, "Send the file in a multipart part named 'file'.")
    try:
        asset = create_asset(project=upload.project, user=upload.token.user, uploaded_file=sent,
                             name=upload.filename)
    except media.MediaError as exc:
        return error(400, f"Unsupported or unreadable file: {exc}")
    with transaction.atomic():
        taken = Upload.objects.filter(pk=upload.pk, asset=None).update(asset=asset)
        if not taken:
            return error(403, "This upload target was used already; ask for a new one.")
        record(actor=upload.token.user, action="asset.upload", obj=asset,
               note=f"through the API token “{upload.token.name}”")
    return HttpResponse(status=204)


# --- organization --------------------------------------------------------------------------


@api_view("GET")
def organization(request, token):
    """`GET /v1/organization`: what this token may spend, the limits Takes enforces, today's generations.

    `creditBalance` is the least of the person's credits, the project's budget and the token's
    limit: what a create can hold now. `tier` is Runway's, as the organization mirror last saw
    it; `usage` counts this token's generations of the last 24 hours. Takes' own figures are
    under `takes` (Runway's clients ignore keys they do not know).
    """
    person = ledger.account_for(token.user)
    budget = ledger.budget_for(token.project)
    spent = ledger.token_spend(token.pk)
    left_on_token = None if token.credit_limit is None else max(0, token.credit_limit - spent)
    spendable = [person.balance] + ([budget.balance] if budget else []) + \
        ([left_on_token] if left_on_token is not None else [])
    snapshot = latest_snapshot()
    models_data = snapshot.models_data if snapshot else {}
    since = timezone.now() - timedelta(hours=24)
    daily: dict[str, int] = {}
    for model in Generation.objects.filter(api_token=token, created_at__gte=since).values_list("model", flat=True):
        daily[model] = daily.get(model, 0) + 1
    tier_models = {name: {"maxConcurrentGenerations": v.get("max_concurrent"), "maxDailyGenerations": v.get("max_daily")}
                   for name, v in models_data.items()}
    return JsonResponse({
        "creditBalance": max(0, min(spendable)),
        "tier": {"maxMonthlyCreditSpend": snapshot.max_monthly_credit_spend if snapshot else None,
                 "models": tier_models},
        "usage": {"models": {name: {"dailyGenerations": daily.get(name, 0)}
                             for name in sorted(set(tier_models) | set(daily))}},
        "takes": {
            "personCredits": person.balance,
            "projectBudget": budget.balance if budget else None,
            "tokenCreditLimit": token.credit_limit,
            "tokenSpent": spent,
            "rateLimit": token.rate_limit or settings.API_RATE_LIMIT,
            "project": token.project.slug,
        },
    })


def _date(body: dict[str, Any], key: str, default: date) -> date:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Refused(issues([{"code": "invalid_string", "path": [key], "message": "Invalid date"}]))


@api_view("POST")
def organization_usage(request, token):
    """`POST /v1/organization/usage`: this token's charged credits per UTC day and model."""
    try:
        body = _read_object(request)
        start = _date(body, "startDate", utc_today() - timedelta(days=30))
        before = _date(body, "beforeDate", start + timedelta(days=30))
    except _Refused as refused:
        return refused.response
    if before <= start:
        return issues([{"code": "custom", "path": ["beforeDate"], "message": "beforeDate must be after startDate"}])
    if before > start + timedelta(days=90):
        return issues([{"code": "custom", "path": ["beforeDate"],
                        "message": "beforeDate must be at most 90 days after startDate"}])
    spend = LedgerEntry.objects.settled().between(start, before).filter(
        generation__api_token=token).spend_by_day_and_model()
    days = sorted({d for d, _ in spend})
    results = [{"date": d.isoformat(),
                "usedCredits": [{"model": m, "amount": amount} for (d2, m), amount in sorted(spend.items()) if d2 == d]}
               for d in days]
    return JsonResponse({"results": results, "models": sorted({m for _, m in spend})})
