"""A project's presets and its prompt library: /p/<slug>/presets/ and /p/<slug>/prompts/.

Viewers see and use (using only opens the generation form, which asks for an editor), editors
save, change and delete; everything goes through the one access helper.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from core.access import project_view
from core.http import confirm_page, redirect_after_post
from generations import submit
from generations.models import Generation
from runway import catalog

from . import actions
from .forms import FromGenerationForm, PresetForm, UseForm
from .models import Preset

PER_PAGE = 25
MAX_QUERY = 200


def _preset(membership, preset_id: int) -> Preset:
    return get_object_or_404(Preset.objects.in_project(membership.project), pk=preset_id)


def _search(request) -> str:
    # A NUL cannot be in a PostgreSQL query string; a person never types one.
    return (request.GET.get("q") or "").replace("\x00", "").strip()[:MAX_QUERY]


def _list_page(request, membership, form, status: int = 200):
    project = membership.project
    query = _search(request)
    presets = Preset.objects.in_project(project).select_related("created_by", "updated_by")
    if query:
        presets = presets.filter(Q(name__icontains=query) | Q(prompt__icontains=query))
    page = Paginator(presets, PER_PAGE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "presets/list.html", {
        "project": project, "membership": membership, "page": page, "query": query, "form": form,
    }, status=status)


@require_GET
@project_view()
def preset_list(request, membership):
    return _list_page(request, membership, FromGenerationForm(project=membership.project))


@require_POST
@project_view(Role.EDITOR)
def preset_save(request, membership):
    """Save the settings of one of the project's generations as a preset."""
    form = FromGenerationForm(request.POST, project=membership.project)
    if not form.is_valid():
        return _list_page(request, membership, form, status=400)
    try:
        preset = actions.preset_from_generation(generation=form.cleaned_data["generation"], user=request.user,
                                                name=form.cleaned_data["name"])
    except actions.PresetError as exc:
        form.add_error("name", exc.message)
        return _list_page(request, membership, form, status=exc.status)
    messages.success(request, f"Preset “{preset.name}” saved.")
    return redirect_after_post(request, reverse("presets:list", args=[membership.project.slug]))


def _form_raw(data, model: catalog.Model) -> dict:
    return {f.name: data.getlist(f.name) if f.kind == "assets" else data.get(f.name) for f in model.fields}


@require_POST
@project_view(Role.EDITOR)
def preset_save_form(request, membership):
    """Save what the generation form holds now as a preset ("Save as preset" on the form).

    Either way the person is taken back to the form with everything they entered: saved, or
    told why not. Settings may be incomplete (an input to choose each time); malformed ones,
    or inputs that are not this project's, are refused.
    """
    project = membership.project
    try:
        spec = catalog.get_model(request.POST.get("endpoint") or "", request.POST.get("model") or "")
    except catalog.CatalogError as exc:
        messages.error(request, f"{exc} Nothing was saved.")
        return redirect("generations:new", slug=project.slug)
    params, errors = catalog.clean_params(spec, _form_raw(request.POST, spec))
    if not errors:
        try:
            submit.load_inputs(project=project, model=spec, params=params)  # inputs must be this project's
        except submit.SubmissionError as exc:
            errors = exc.errors
    errors = errors or submit.not_ours(project=project, model=spec, params=params)
    back = actions.form_url(project=project, endpoint=spec.endpoint, model=spec.id,
                            params={**params, **{k: v for k, v in _form_raw(request.POST, spec).items() if k in errors}})
    name = (request.POST.get("preset_name") or "").strip()
    if errors:
        said = " ".join(m for msgs in errors.values() for m in msgs)
        messages.error(request, f"The preset was not saved: {said}")
    elif not name:
        messages.error(request, "Give the preset a name to save it.")
    elif len(name) > Preset._meta.get_field("name").max_length:
        messages.error(request, "Keep the preset's name under 100 characters.")
    else:
        try:
            preset = actions.preset_from_form(project=project, user=request.user, name=name, endpoint=spec.endpoint,
                                              model=spec.id, params=params)
        except actions.PresetError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Preset “{preset.name}” saved; start from it any time on Presets.")
    return redirect(back)


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def preset_edit(request, membership, preset_id: int):
    preset = _preset(membership, preset_id)
    form = PresetForm(request.POST or None, initial={"name": preset.name, "prompt": preset.prompt})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                actions.update_preset(preset=preset, user=request.user, name=form.cleaned_data["name"],
                                      prompt=form.cleaned_data["prompt"])
            except actions.PresetError as exc:
                form.add_error("name", exc.message)
                status = exc.status
            else:
                messages.success(request, f"Preset “{preset.name}” saved.")
                return redirect_after_post(request, reverse("presets:list", args=[membership.project.slug]))
    return TemplateResponse(request, "presets/form.html", {
        "project": membership.project, "membership": membership, "form": form, "preset": preset,
    }, status=status)


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def preset_delete(request, membership, preset_id: int):
    preset = _preset(membership, preset_id)
    back = reverse("presets:list", args=[membership.project.slug])
    if request.method == "POST":
        actions.delete_preset(preset=preset, user=request.user)
        messages.success(request, f"Preset “{preset.name}” was deleted.")
        return redirect_after_post(request, back)
    return confirm_page(request, project=membership.project, membership=membership,
                        title=f"Delete the preset “{preset.name}”?",
                        body="Generations made from it stay as they are.", action="Delete preset", cancel_url=back)


@require_http_methods(["GET", "POST"])
@project_view()
def preset_use(request, membership, preset_id: int):
    """Ask for the prompt's placeholders (if it has any), then open the generation form filled in."""
    preset = _preset(membership, preset_id)
    form = UseForm(request.POST or None, placeholders=preset.placeholders)
    if not preset.placeholders:
        return redirect(actions.use_preset(preset=preset, values={}))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            return redirect_after_post(request, actions.use_preset(preset=preset, values=form.values()))
    return TemplateResponse(request, "presets/use.html", {
        "project": membership.project, "membership": membership, "form": form, "preset": preset,
    }, status=status)


@require_GET
@project_view()
def prompt_library(request, membership):
    """Every prompt the project has used: who wrote it first, how often and when it was last used."""
    project = membership.project
    mine = Generation.objects.in_project(project).exclude(prompt="")
    query = _search(request)
    if query:
        mine = mine.filter(prompt__icontains=query)
    first = Generation.objects.in_project(project).filter(prompt=OuterRef("prompt")).order_by("created_at", "pk")
    prompts = (mine.values("prompt")
               .annotate(uses=Count("pk"), last_used=Max("created_at"), latest=Max("pk"),
                         author=Subquery(first.values("created_by__username")[:1]))
               .order_by("-last_used", "-latest"))
    page = Paginator(prompts, PER_PAGE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "presets/prompts.html", {
        "project": project, "membership": membership, "page": page, "query": query,
    })
