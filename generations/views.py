"""Assets, the generation form, live generation cards and the queue of one project."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import ROLE_NEEDED_MESSAGE, project_view
from accounts.models import Role
from generations import catalog, media, pipeline
from generations.assets import AssetError, create_asset, delete_asset
from generations.forms import AssetUploadForm, GenerationForm
from generations.models import FINISHED, IN_FLIGHT, Asset, Generation, MediaKind, Status
from generations.uploads import ByteCountingUploadHandler

ASSETS_PER_PAGE = 24
GENERATIONS_PER_PAGE = 20

FAILURE_HINTS = {
    "safety": "Runway's moderation refused this generation. Retrying the same settings "
              "would be refused again; change the prompt or the inputs and submit anew.",
    "input": "Runway could not use one of the inputs. Check its format, size and length, "
             "or pick another asset.",
    "internal": "Runway had a problem on its side. Retrying usually works.",
}


def _safe_next(request, project) -> str | None:
    """A `next` URL inside this project, or None."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    prefix = f"/p/{project.slug}/"
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None


def _redirect(request, url: str):
    """PRG for plain posts; htmx follows with a client-side redirect."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- assets ------------------------------------------------------------------------------


def _assets_page(request, membership, *, form=None, status=200, partial=None):
    project = membership.project
    assets = Asset.objects.in_project(project).select_related("uploaded_by")
    kind = request.GET.get("kind", "")
    if kind in MediaKind.values:
        assets = assets.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(assets, ASSETS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "membership": membership,
        "page": page,
        "kind": kind,
        "kinds": MediaKind.choices,
        "form": form if form is not None else (AssetUploadForm() if membership.can_edit else None),
        "next": _safe_next(request, project) or "",
        "max_bytes": media.MAX_BYTES,
    }
    template = "generations/assets.html"
    if partial:
        template += f"#{partial}"
    elif request.htmx and request.method == "GET":
        template += "#assets"
    return TemplateResponse(request, template, context, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@project_view()
def asset_list(request, membership):
    if request.method == "GET":
        return _assets_page(request, membership)
    if not membership.can_edit:
        raise PermissionDenied(ROLE_NEEDED_MESSAGE[Role.EDITOR])
    # Our handler must be in place before anything reads the body, CSRF check included;
    # the access check above reads none of it, so a stranger's upload is never stored.
    request.upload_handlers = [ByteCountingUploadHandler(request)]
    return csrf_protect(_asset_upload)(request, membership)


def _asset_upload(request, membership):
    data, files = request.POST, request.FILES  # parsing the body is what runs the handler
    too_large = getattr(request.upload_handlers[0], "too_large", False)
    form = AssetUploadForm(data, files, too_large=too_large)
    status = 413 if too_large else 400
    if form.is_valid():
        try:
            asset = create_asset(project=membership.project, user=request.user,
                                 uploaded_file=form.cleaned_data["file"], name=form.cleaned_data["name"])
        except media.MediaError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, f"“{asset.name}” uploaded ({asset.get_kind_display().lower()}).")
            target = _safe_next(request, membership.project) or reverse(
                "generations:assets", args=[membership.project.slug])
            return _redirect(request, target)
    return _assets_page(request, membership, form=form, status=status,
                        partial="upload" if request.htmx else None)


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def asset_delete(request, membership, asset_id: int):
    project = membership.project
    asset = get_object_or_404(Asset.objects.in_project(project), pk=asset_id)
    error = ""
    if request.method == "POST":
        try:
            delete_asset(asset=asset)
        except AssetError as exc:
            error = str(exc)
        else:
            messages.success(request, f"“{asset.name}” was deleted.")
            return _redirect(request, reverse("generations:assets", args=[project.slug]))
    in_use = asset.used_by.count()
    context = {"project": project, "membership": membership, "asset": asset, "error": error,
               "in_use": in_use}
    return TemplateResponse(request, "generations/asset_delete.html", context,
                            status=409 if error else 200)


# --- the generation form ------------------------------------------------------------------


def _estimate_url(project) -> str | None:
    try:
        return reverse("credits:estimate", args=[project.slug])
    except NoReverseMatch:
        return None


def _choose(data) -> tuple[catalog.Endpoint, catalog.Model]:
    endpoint = catalog.get_endpoint(data.get("endpoint") or next(iter(catalog.ENDPOINTS)))
    model = catalog.get_model(endpoint.key, data.get("model") or endpoint.default_model.id)
    return endpoint, model


def _carried_over(data, model: catalog.Model) -> dict:
    """Values a person already entered that the newly chosen model also has."""
    initial = {}
    for f in model.fields:
        if f.kind == "assets":
            values = data.getlist(f.name)
            if values:
                initial[f.name] = values
        elif data.get(f.name) not in (None, ""):
            initial[f.name] = data.get(f.name)
    return initial


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def generation_new(request, membership):
    project = membership.project
    data = request.POST if request.method == "POST" else request.GET
    reused = None
    if request.method == "GET" and data.get("reuse"):
        # "Reuse settings": the form pre-filled from an earlier generation of this project.
        reused = get_object_or_404(Generation.objects.in_project(project), pk=_int_or_404(data["reuse"]))
        data = QueryDict(mutable=True)
        data.update({"endpoint": reused.endpoint, "model": reused.model})
    status = 200
    error = ""
    try:
        endpoint, model = _choose(data)
    except catalog.UnknownModel as exc:
        error, status = str(exc), 400
        endpoint, model = _choose({})
        data = {}
    if request.method == "POST" and not error:
        form = GenerationForm(request.POST, model=model, project=project)
        if form.is_valid():
            try:
                generation = pipeline.submit_generation(
                    project=project, user=request.user, endpoint=endpoint.key, model=model.id,
                    params=form.params)
            except pipeline.SubmissionError as exc:
                for name, field_errors in (exc.errors or {"__all__": [str(exc)]}).items():
                    for message in field_errors:
                        form.add_error(name if name in form.fields else None, message)
            else:
                messages.success(request, f"{model.label} generation queued.")
                return redirect("generations:detail", slug=project.slug, generation_id=generation.pk)
        status = 400
    else:
        if reused is not None:
            initial = {k: v for k, v in reused.params.items() if k in model.field_names}
        else:
            initial = _carried_over(data, model) if data else None
        form = GenerationForm(model=model, project=project, initial=initial)
    context = {
        "project": project,
        "membership": membership,
        "endpoints": catalog.ENDPOINTS.values(),
        "endpoint": endpoint,
        "model": model,
        "form": form,
        "error": error,
        "estimate_url": _estimate_url(project),
        "upload_form": AssetUploadForm(),
    }
    template = "generations/new.html"
    if request.htmx and request.method == "GET" and not error:
        template += "#fields"
    return TemplateResponse(request, template, context, status=status)


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("No such generation") from None


# --- generation cards and the queue ---------------------------------------------------------


def _elapsed_text(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _model_label(generation: Generation) -> str:
    try:
        model = catalog.get_model(generation.endpoint, generation.model)
    except catalog.UnknownModel:
        return f"{generation.endpoint} · {generation.model}"
    return f"{catalog.get_endpoint(generation.endpoint).label} · {model.label}"


def _prepare_cards(generations) -> list[Generation]:
    """Attach display facts to each card; one query for every throttled card's queue place."""
    generations = list(generations)
    throttled = [g for g in generations if g.status == Status.THROTTLED]
    if throttled:
        queue = list(Generation.objects.filter(status=Status.THROTTLED,
                                               model__in={g.model for g in throttled})
                     .exclude(submitted_at=None).values_list("model", "submitted_at"))
    for g in generations:
        g.label = _model_label(g)
        g.elapsed_text = _elapsed_text(g.elapsed)
        g.position = None
        g.failure_hint = FAILURE_HINTS.get(g.failure_family, "") if g.status == Status.FAILED else ""
        g.progress_percent = round(g.progress * 100)
        if g.status == Status.THROTTLED:
            # The same count as Generation.queue_position(), for a whole page in one query.
            cutoff = g.submitted_at
            g.position = 1 + sum(1 for model, at in queue
                                 if model == g.model and (cutoff is None or at < cutoff))
    return generations


def _generation(membership, generation_id: int) -> Generation:
    return get_object_or_404(
        Generation.objects.in_project(membership.project).select_related("created_by"),
        pk=generation_id)


def _card(request, membership, generation, *, status=None, error=""):
    _prepare_cards([generation])
    context = {"project": membership.project, "membership": membership, "generation": generation,
               "error": error}
    if request.htmx:
        if status is None:
            # 286 tells htmx to stop polling: nothing on a finished card changes any more.
            status = 286 if generation.is_finished and request.method == "GET" else 200
        return TemplateResponse(request, "generations/detail.html#card", context, status=status)
    return TemplateResponse(request, "generations/detail.html", context, status=status or 200)


@require_GET
@project_view()
def generation_detail(request, membership, generation_id: int):
    return _card(request, membership, _generation(membership, generation_id))


@require_POST
@project_view(Role.EDITOR)
def generation_cancel(request, membership, generation_id: int):
    generation = _generation(membership, generation_id)
    try:
        cancelled = pipeline.cancel_generation(generation=generation)
    except pipeline.SubmissionError as exc:
        # Runway did not take the cancellation; the generation goes on and can be cancelled again.
        generation.refresh_from_db()
        return _card(request, membership, generation, status=502, error=str(exc))
    if cancelled:
        messages.success(request, "Generation cancelled; its credit hold is released.")
    else:
        messages.info(request, "This generation had already finished, so there was nothing to cancel.")
    if request.htmx:
        generation.refresh_from_db()
        return _card(request, membership, generation, status=200)
    return redirect(_safe_next(request, membership.project) or generation.get_absolute_url())


@require_POST
@project_view(Role.EDITOR)
def generation_retry(request, membership, generation_id: int):
    generation = _generation(membership, generation_id)
    try:
        retried = pipeline.retry_generation(generation=generation, user=request.user)
    except pipeline.SubmissionError as exc:
        messages_ = [m for ms in (exc.errors or {}).values() for m in ms] or [str(exc)]
        return _card(request, membership, generation, status=400, error=" ".join(messages_))
    messages.success(request, "Retry queued with the same settings.")
    return _redirect(request, retried.get_absolute_url())


QUEUE_FILTERS = [("", "All"), ("in_flight", "In progress"), ("finished", "Finished"),
                 *Status.choices]


@require_GET
@project_view()
def generation_queue(request, membership):
    project = membership.project
    generations = Generation.objects.in_project(project).select_related("created_by") \
        .prefetch_related("outputs")
    wanted = request.GET.get("status", "")
    status = 200
    error = ""
    if wanted == "in_flight":
        generations = generations.filter(status__in=IN_FLIGHT)
    elif wanted == "finished":
        generations = generations.filter(status__in=FINISHED)
    elif wanted in Status.values:
        generations = generations.filter(status=wanted)
    elif wanted:
        error, status = f"There is no status “{wanted}”; showing every generation.", 400
        wanted = ""
    page = Paginator(generations, GENERATIONS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = _prepare_cards(page.object_list)
    context = {
        "project": project,
        "membership": membership,
        "page": page,
        "wanted": wanted,
        "filters": QUEUE_FILTERS,
        "filter_error": error,
        "in_flight_count": Generation.objects.in_project(project).in_flight().count(),
    }
    template = "generations/queue.html" + ("#queue" if request.htmx else "")
    return TemplateResponse(request, template, context, status=status)
