"""A project's home, the generation form, live generation cards and the queue."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from assets import media
from assets.forms import AssetUploadForm
from assets.models import Asset
from audit.log import record
from core.access import project_view
from core.http import redirect_after_post, safe_next
from core.ratelimit import limit, person_of, spend
from generations import cancel, eta, feed, quotes, submit, variations
from generations.forms import GenerationForm
from generations.models import FINISHED, IN_FLIGHT, Generation, GenerationGroup, Output, Status
from generations.overview import overview
from runway import catalog

GENERATIONS_PER_PAGE = 20
NOT_YOURS_TO_CANCEL = "Only the person who started this generation, or an owner of the project, can cancel it."


CANCEL_OUTCOMES = {
    cancel.Outcome.CANCELLED: (messages.SUCCESS, "Generation cancelled; its credit hold is released."),
    cancel.Outcome.KEPT: (messages.INFO, "Runway had already finished this generation, so it was kept: "
                                         "its outputs are being copied."),
    cancel.Outcome.FAILED: (messages.INFO, "Runway had already failed this generation, so there was nothing "
                                           "to cancel."),
    cancel.Outcome.FINISHED: (messages.INFO, "This generation had already finished, so there was nothing to cancel."),
    cancel.Outcome.CHARGED: (messages.SUCCESS, "Generation cancelled. Runway had already started it, so its "
                                               "credits stay charged."),
}


def may_cancel(membership, generation: Generation) -> bool:
    """The creator, or a project owner (whoever cancels, the charge stays the creator's)."""
    return membership.is_owner or generation.created_by_id == membership.user_id

# --- the project's home ---------------------------------------------------------------


@require_GET
@project_view()
def project_home(request, membership):
    """The project's overview: work in progress, recent outputs, quick starts."""
    request.session["last_project"] = membership.project.slug
    project = membership.project
    context = {
        "project": project,
        "membership": membership,
        "member_count": project.memberships.count(),
        **overview(project),
    }
    return TemplateResponse(request, "generations/home.html", context)


# --- the generation form ------------------------------------------------------------------


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
    # Switching the model posts the form too (a long prompt fits no URL), but submits nothing.
    submitting = request.method == "POST" and "switch" not in request.POST
    if submitting:
        spend(request, "submissions-person", person_of(request))
    data = request.POST if request.method == "POST" else request.GET
    reused = None
    if request.method == "GET" and data.get("reuse"):
        # "Reuse settings": the form pre-filled from an earlier generation of this project.
        reused = get_object_or_404(Generation.objects.in_project(project), pk=_int_or_404(data["reuse"]))
        data = QueryDict(mutable=True)
        data.update({"endpoint": reused.endpoint, "model": reused.form_model})
    status = 200
    error = ""
    try:
        endpoint, model = _choose(data)
    except catalog.UnknownModel as exc:
        error, status = str(exc), 400
        endpoint, model = _choose({})
        data = {}
    if submitting and not error:
        form = GenerationForm(request.POST, model=model, project=project)
        status = 400
        if form.is_valid():
            try:
                asked = variations.requested(request.POST, model)
                if asked is not None:
                    group = variations.submit_variations(
                        project=project, user=request.user, endpoint=endpoint.key, model=model.id,
                        params=form.params, seeds=asked.seeds, grid=asked.grid, models=asked.models)
                    messages.success(request, f"{group.size} variations queued; they finish as one group.")
                    return redirect("generations:queue", slug=project.slug)
                generation = submit.submit_generation(
                    project=project, user=request.user, endpoint=endpoint.key, model=model.id,
                    params=form.params)
            except submit.SubmissionError as exc:
                status = exc.status  # 409 when an input was deleted meanwhile
                for name, field_errors in (exc.errors or {"__all__": [str(exc)]}).items():
                    for message in field_errors:
                        form.add_error(name if name in form.fields else None, message)
            else:
                messages.success(request, "Generation queued; Runway chooses its model." if model.routed
                                 else f"{model.label} generation queued.")
                return redirect("generations:detail", slug=project.slug, generation_id=generation.pk)
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
        "estimate_url": reverse("generations:estimate", args=[project.slug]),
        "upload_form": AssetUploadForm(),
        "upload_max_bytes": media.MAX_BYTES,
        "varying": variations.varying_fields(model),
        "other_models": [m for m in endpoint.models if m.id != model.id],
        "can_seed": "seed" in model.field_names,
        "max_seeds": variations.MAX_SEEDS,
        "asked": {k: request.POST.get(k, "") for k in ("variation_seeds", "vary_field", "vary_values")}
        if submitting else {},
    }
    template = "generations/new.html"
    if request.htmx and not submitting and not error:
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


def _prepare_cards(generations, membership) -> list[Generation]:
    """Attach display facts to each card, in a fixed number of queries for a whole page.

    One query for every throttled card's queue place, one for the creators' holds, one for
    the outputs of the cards that succeeded.
    """
    generations = list(generations)
    throttled = [g for g in generations if g.status == Status.THROTTLED]
    if throttled:
        queue = list(Generation.objects.filter(status=Status.THROTTLED,
                                               model__in={g.model for g in throttled})
                     .exclude(submitted_at=None).values_list("model", "submitted_at"))
    feed.attach_money(generations)
    eta.attach(generations)
    succeeded = [g for g in generations if g.status == Status.SUCCEEDED]
    outputs: dict[int, list[Output]] = {}
    if succeeded:
        for output in Output.objects.filter(generation__in=[g.pk for g in succeeded], trashed_at__isnull=True
                                            ).order_by("index"):
            outputs.setdefault(output.generation_id, []).append(output)
    for g in generations:
        g.project = membership.project  # every card is of this project (the lookups are scoped to it)
        g.label = g.display_label
        g.elapsed_text = _elapsed_text(g.elapsed)
        g.position = None
        g.progress_percent = round(g.progress * 100)
        g.may_cancel = g.can_cancel and may_cancel(membership, g)
        if g.status == Status.THROTTLED:
            # The same count as Generation.queue_position(), for a whole page in one query.
            cutoff = g.submitted_at
            g.position = 1 + sum(1 for model, at in queue
                                 if model == g.model and (cutoff is None or at < cutoff))
        g.version = feed.card_version(g)
        g.seed_text = feed.seed_text(g)
        g.results = []
        if g.status == Status.SUCCEEDED:
            g.results = outputs.get(g.pk, [])
            g.reuse_url = feed.reuse_url(g)
            for output in g.results:
                output.roles = feed.roles_for(output.kind)
    return generations


def _generation(membership, generation_id: int, *, with_money: bool = False) -> Generation:
    """The project's generation; `with_money` reads its creator's hold in the same query, for a card shown
    as it is (not after a change, which a step of its own makes to the hold)."""
    generations = Generation.objects.in_project(membership.project).select_related("created_by", "api_token")
    return get_object_or_404(feed.with_money(generations) if with_money else generations, pk=generation_id)


def _card(request, membership, generation, *, status=None, error="", news=""):
    _prepare_cards([generation], membership)
    context = {"project": membership.project, "membership": membership, "generation": generation,
               "error": error, "news": news}
    if request.htmx:
        if status is None:
            # 286 tells htmx to stop polling: nothing on a finished card changes any more.
            status = 286 if generation.is_finished and request.method == "GET" else 200
        # A card of the queue's feed asks for its own compact self back.
        compact = (request.POST if request.method == "POST" else request.GET).get("view") == "feed"
        return TemplateResponse(request, "generations/_cards.html",
                                {**context, "cards": [generation], "compact": compact}, status=status)
    return TemplateResponse(request, "generations/detail.html", context, status=status or 200)


@require_GET
@project_view()
def generation_detail(request, membership, generation_id: int):
    return _card(request, membership, _generation(membership, generation_id, with_money=True))


def _group(membership, group_id: int) -> GenerationGroup:
    return get_object_or_404(GenerationGroup.objects.filter(project=membership.project), pk=group_id)


@require_POST
@project_view(Role.EDITOR)
def group_cancel(request, membership, group_id: int):
    """Cancel every variation of a group still in flight (the person's own, or any for an owner)."""
    group = _group(membership, group_id)
    if group.created_by_id != request.user.pk and not membership.is_owner:
        raise PermissionDenied(NOT_YOURS_TO_CANCEL)
    cancelled = variations.cancel_group(group=group)
    messages.success(request, f"Cancelled {cancelled} of the {group.size} variations."
                     if cancelled else "None of these variations was still running.")
    return redirect_after_post(request, reverse("generations:queue", args=[membership.project.slug]))


@require_POST
@project_view(Role.EDITOR)
def group_retry(request, membership, group_id: int):
    """Submit the group's failed and cancelled variations again, together."""
    group = _group(membership, group_id)
    try:
        again = variations.retry_group(group=group, user=request.user)
    except submit.SubmissionError as exc:
        messages.error(request, str(exc))
        return redirect_after_post(request, reverse("generations:queue", args=[membership.project.slug]))
    messages.success(request, f"{again.size} variations queued again.")
    return redirect_after_post(request, reverse("generations:queue", args=[membership.project.slug]))


@require_POST
@project_view(Role.EDITOR)
def generation_cancel(request, membership, generation_id: int):
    generation = _generation(membership, generation_id)
    if not may_cancel(membership, generation):
        raise PermissionDenied(NOT_YOURS_TO_CANCEL)
    if generation.is_flagged:
        return _card(request, membership, generation, status=409, error=cancel.FLAGGED)
    before = {"status": generation.status}

    def audit(cancelled: Generation) -> None:
        # Inside the cancel's own transaction; the charge stays on the creator's account.
        record(actor=request.user, action="generation.cancel", obj=cancelled, before=before,
               after={"status": cancelled.status}, note=f"made by {cancelled.created_by}")

    try:
        cancelled = cancel.cancel_generation(generation=generation, on_change=audit)
    except cancel.BeingSubmitted as exc:
        generation.refresh_from_db()
        return _card(request, membership, generation, status=409, error=str(exc))
    except submit.SubmissionError as exc:
        # Runway did not take the cancellation; the generation goes on and can be cancelled again.
        generation.refresh_from_db()
        return _card(request, membership, generation, status=502, error=str(exc))
    level, text = CANCEL_OUTCOMES[cancel.outcome_of(generation, cancelled=cancelled)]
    if request.htmx:
        # Said in the page's live region now, not kept for whichever page loads next.
        generation.refresh_from_db()
        return _card(request, membership, generation, status=200, news=text)
    messages.add_message(request, level, text)
    return redirect(safe_next(request, within=membership.project.get_absolute_url()) or generation.get_absolute_url())


@require_POST
@project_view(Role.EDITOR)
@limit("submissions-person")
def generation_retry(request, membership, generation_id: int):
    generation = _generation(membership, generation_id)
    try:
        retried = submit.retry_generation(generation=generation, user=request.user)
    except submit.SubmissionError as exc:
        messages_ = [m for ms in (exc.errors or {}).values() for m in ms] or [str(exc)]
        return _card(request, membership, generation, status=exc.status, error=" ".join(messages_))
    messages.success(request, "Retry queued with the same settings.")
    return redirect_after_post(request, retried.get_absolute_url())


QUEUE_FILTERS = [("", "All"), ("in_flight", "In progress"), ("finished", "Finished"),
                 *Status.choices]


@require_GET
@project_view()
def generation_queue(request, membership):
    project = membership.project
    generations = Generation.objects.in_project(project).select_related("created_by", "group")
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
    page.object_list = _prepare_cards(page.object_list, membership)
    context = {
        "project": project,
        "membership": membership,
        "page": page,
        "blocks": feed.blocks(page.object_list),
        "wanted": wanted,
        "filters": QUEUE_FILTERS,
        "filter_error": error,
        "in_flight_count": Generation.objects.in_project(project).in_flight().count(),
        "live": any(g.is_in_flight for g in page.object_list),
    }
    template = "generations/queue.html" + ("#queue" if request.htmx else "")
    return TemplateResponse(request, template, context, status=status)


@require_GET
@project_view()
def generation_updates(request, membership):
    """The one channel an open page polls: the cards that changed since the versions it sent.

    The answer is out-of-band swaps only (each card by its id, the queue's count, a line for
    screen readers), and 286, which stops the page's polling, once none of its cards is in flight.
    """
    project = membership.project
    try:
        asked = feed.parse_asked(request.GET.getlist("card"))
    except feed.BadAsk as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    cards = _prepare_cards(Generation.objects.in_project(project).filter(pk__in=asked)
                           .select_related("created_by"), membership)
    changed = [g for g in cards if g.version != asked[g.pk]]
    context = {"project": project, "membership": membership, "cards": changed, "oob": True,
               "compact": request.GET.get("view") == "feed", "news": feed.announcement(changed)}
    shown = request.GET.get("shown")
    if shown is not None:
        count = Generation.objects.in_project(project).in_flight().count()
        if str(count) != shown:
            context["in_flight_count"] = count
    status = 200 if any(g.is_in_flight for g in cards) else 286
    return TemplateResponse(request, "generations/_cards.html", context, status=status)


@require_GET
@project_view(Role.EDITOR)
def output_as_input(request, membership, output_id: int, role: str):
    """Where "use as input" lands once the gallery made the output an asset: the form that uses it."""
    project = membership.project
    output = get_object_or_404(Output.objects.in_project(project), pk=output_id)
    use = feed.ROLES.get(role)
    if use is None or use not in feed.roles_for(output.kind):
        raise Http404("This output can't be used that way.")
    asset = Asset.objects.in_project(project).filter(source_output=output).first()
    if asset is None:
        messages.info(request, "Add the output to the project's assets first; then choose how to use it.")
        return redirect("gallery:output", slug=project.slug, output_id=output.pk)
    return redirect(feed.input_form_url(project=project, asset=asset, role=use))


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
@limit("estimates-person", methods=("GET", "POST"))
def generation_estimate(request, membership):
    """The live estimate beside the form's submit button (a fragment for htmx).

    The form posts its settings (a prompt can be thousands of characters, too long for a URL and
    not for access logs); GET still answers links made before, which carry no prompt.
    """
    data = request.POST if request.method == "POST" else request.GET
    template = "generations/estimate.html" + ("#estimate" if request.htmx else "")
    try:
        endpoint = catalog.get_endpoint(data.get("endpoint") or next(iter(catalog.ENDPOINTS)))
        model = data.get("model") or endpoint.default_model.id
        fields = catalog.get_model(endpoint.key, model).fields
        raw = {f.name: data.getlist(f.name) if f.kind == "assets" else data.get(f.name) for f in fields}
        quote = quotes.quote_generation(user=request.user, project=membership.project, endpoint=endpoint.key,
                                 model=model, raw=raw)
    except catalog.UnknownModel as exc:
        return TemplateResponse(request, template, {"project": membership.project, "error": str(exc)}, status=400)
    context = {"project": membership.project, "quote": quote}
    try:
        asked = variations.requested(data, quote.model)
        if asked is not None and not quote.invalid:
            params, _ = catalog.clean_params(quote.model, raw)
            context["variations"], context["variations_total"] = variations.total_estimate(
                project=membership.project, endpoint=endpoint.key, model=quote.model.id, params=params, asked=asked)
    except submit.SubmissionError as exc:
        context["variations_problem"] = str(exc)
    return TemplateResponse(request, template, context)
