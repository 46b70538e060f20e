"""The gallery of one project: find outputs, act on them, share them: /p/<slug>/gallery/…"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Membership, Role
from assets.models import Asset, MediaKind
from core.access import project_view
from core.http import THUMB_TYPE, confirm_page, redirect_after_post, safe_next, serve_file
from core.params import parse_ids
from gallery import actions, activity, cards, search, zips
from gallery.models import ShareLink, Tag
from generations import feed
from generations.models import Generation, GenerationGroup, Output
from runway import catalog

OUTPUTS_PER_PAGE = 24
SORT_CHOICES = [("newest", "Newest first"), ("oldest", "Oldest first"),
                ("largest", "Largest first"), ("longest", "Longest first")]


class GalleryFilterForm(forms.Form):
    """The gallery's filters, all optional; bad values are reported, never guessed at."""

    q = forms.CharField(label="Search prompts", required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Words of the prompt"}))
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any kind"), *MediaKind.choices])
    endpoint = forms.ChoiceField(label="Endpoint", required=False)
    model = forms.ChoiceField(label="Model", required=False)
    member = forms.TypedChoiceField(label="Made by", required=False, coerce=int, empty_value=None)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tag = forms.ChoiceField(label="Tag", required=False)
    favourites = forms.BooleanField(label="Favourites only", required=False)
    sort = forms.ChoiceField(label="Sort", required=False, choices=SORT_CHOICES)
    group = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, members, tags, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["endpoint"].choices = [("", "Any endpoint"),
                                           *((e.key, e.label) for e in catalog.ENDPOINTS.values())]
        self.fields["model"].choices = [("", "Any model"), *sorted(
            # A routed generation is filed under the model Runway chose; its endpoint says it was routed.
            {(m.id, m.label) for m in catalog.all_models() if not m.routed}, key=lambda c: c[1])]
        self.fields["member"].choices = [("", "Anyone"), *((m.user_id, m.user.display_name) for m in members)]
        self.fields["tag"].choices = [("", "Any tag"), *((t.name, t.name) for t in tags)]

    def clean_group(self) -> GenerationGroup | None:
        pk = self.cleaned_data.get("group")
        if pk is None:
            return None
        group = GenerationGroup.objects.filter(project=self.project, pk=pk).first()
        if group is None:
            raise forms.ValidationError("There is no such group of variations in this project.")
        return group

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The “From” date is after the “To” date.")
        return data

    def filters(self) -> search.Filters:
        d = self.cleaned_data
        return search.Filters(kind=d["kind"], endpoint=d["endpoint"], model=d["model"], member=d["member"],
                               since=d["since"], until=d["until"], favourites=d["favourites"],
                               tag=d["tag"], text=d["q"], sort=d["sort"] or "newest",
                               group=d["group"].pk if d["group"] else None)


def _output(membership, output_id: int) -> Output:
    return get_object_or_404(
        Output.objects.in_project(membership.project).select_related("generation__created_by"),
        pk=output_id)


def _shown_in(response: TemplateResponse, target: str) -> TemplateResponse:
    """Mark an htmx refusal as a fragment to show at `target`: htmx swaps no 4xx unless told (gallery.js)."""
    response["HX-Retarget"] = target
    response["HX-Reswap"] = "outerHTML"
    return response


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- the grid ---------------------------------------------------------------------------


@require_GET
@project_view()
def gallery_index(request, membership):
    project = membership.project
    members = list(Membership.objects.filter(project=project).select_related("user")
                   .only("user_id", "user__username", "user__first_name", "user__last_name"))
    tags = list(Tag.objects.filter(project=project).only("name"))
    form = GalleryFilterForm(request.GET or None, members=members, tags=tags, project=project)
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
        filters = search.Filters()
    else:
        filters = form.filters() if form.is_bound else search.Filters()
    outputs = search.search_outputs(project=project, filters=filters)
    page, more = search.page_of(outputs, filters, request.GET.get("page"), per_page=OUTPUTS_PER_PAGE)
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "page": page,
        "more_matches": more,
        "cards": cards.cards_for(page.object_list, membership=membership),
        "filtered": filters != search.Filters(),
        "group": form.cleaned_data["group"] if filters.group else None,
        "query": _query_without_page(request),
        "zip_max": zips.ZIP_MAX_ITEMS,
    }
    if not request.htmx:
        return TemplateResponse(request, "gallery/page.html", context, status=status)
    response = TemplateResponse(request, "gallery/page.html#results", context, status=status)
    return _shown_in(response, "#results") if status >= 400 else response


# --- one output -------------------------------------------------------------------------


def _params_display(generation: Generation, inputs: dict[int, Asset]) -> list[tuple[str, str]]:
    """Each setting as (label, value) in the model's field order; asset ids shown by name."""
    try:
        fields = {f.name: f for f in generation.spec.fields}
    except catalog.UnknownModel:
        fields = {}
    params = generation.params or {}
    names = [n for n in fields if n in params] + sorted(n for n in params if n not in fields)
    rows = []
    for name in names:
        value = params[name]
        f = fields.get(name)
        label = f.label if f else name
        if f is not None and f.kind in ("asset", "assets"):
            ids = value if isinstance(value, list) else [value]
            value = ", ".join(inputs[i].name if i in inputs else f"asset {i} (deleted)" for i in ids)
        elif isinstance(value, bool):
            value = "on" if value else "off"
        elif f is not None and f.choices:
            value = next((c[1] for c in f.choices if c[0] == value), value)  # its label, not its wire name
        rows.append((label, str(value)))
    return rows


def _detail_context(membership, output: Output) -> dict:
    generation = output.generation
    inputs = list(generation.inputs.select_related("source_output__generation"))
    made_from_here = (Generation.objects.in_project(membership.project)
                      .filter(inputs__source_output=output).distinct()
                      .select_related("created_by")
                      .prefetch_related(Prefetch("outputs", Output.objects.only(
                          "id", "generation_id", "kind", "thumbnail", "created_at"))))
    share = output.share_links.filter(revoked_at=None).select_related("created_by").first()
    return {
        "project": membership.project,
        "membership": membership,
        "output": output,
        "generation": generation,
        "inputs": inputs,
        "params": _params_display(generation, {a.pk: a for a in inputs}),
        "model_label": generation.display_label,
        "made_from_here": made_from_here,
        "siblings": generation.outputs.exclude(pk=output.pk).only("id", "kind", "thumbnail"),
        "share": share,
        "follow_ups": actions.follow_ups(output),
        "reuse_url": feed.reuse_url(generation),
        "tags": output.tags.all(),
        "tags_text": ", ".join(t.name for t in output.tags.all()),
        "may_delete": cards.may_delete(membership, output),
        "comments": output.comments.select_related("author"),
        "comment_form": CommentForm(),
    }


def _detail(request, membership, output, *, partial: str | None = None, status: int = 200, **extra):
    context = {**_detail_context(membership, output), **extra}
    template = "gallery/detail.html" + (f"#{partial}" if partial and request.htmx else "")
    return TemplateResponse(request, template, context, status=status)


@require_GET
@project_view()
def output_detail(request, membership, output_id: int):
    return _detail(request, membership, _output(membership, output_id))


class CommentForm(forms.Form):
    text = forms.CharField(label="Comment", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": "Write something first.",
                                           "max_length": "Keep a comment under 2,000 characters."})


@require_POST
@project_view(Role.EDITOR)
def comment_add(request, membership, output_id: int):
    output = _output(membership, output_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _detail(request, membership, output, status=400, comment_form=form)
    activity.add_comment(output=output, user=request.user, text=form.cleaned_data["text"])
    return redirect_after_post(request, reverse("gallery:output", args=[membership.project.slug, output.pk]) + "#comments")


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def comment_delete(request, membership, output_id: int, comment_id: int):
    output = _output(membership, output_id)
    comment = get_object_or_404(output.comments, pk=comment_id)
    if comment.author_id != request.user.pk and not membership.is_owner:
        raise PermissionDenied("Only its author, or an owner, can delete a comment.")
    back = reverse("gallery:output", args=[membership.project.slug, output.pk]) + "#comments"
    if request.method == "POST":
        activity.delete_comment(comment=comment, user=request.user)
        messages.success(request, "The comment was deleted.")
        return redirect_after_post(request, back)
    return confirm_page(request, project=membership.project, membership=membership, title="Delete this comment?",
                        body=Truncator(comment.text).chars(200), action="Delete comment", cancel_url=back)


@require_GET
@project_view()
def activity_feed(request, membership):
    page = Paginator(activity.events(membership.project), 50).get_page(request.GET.get("page"))
    return TemplateResponse(request, "gallery/activity.html", {
        "project": membership.project, "membership": membership, "page": page})


@require_POST
@project_view(Role.EDITOR)
def output_favourite(request, membership, output_id: int):
    output = _output(membership, output_id)
    wanted = request.POST.get("favourite", "")
    if wanted not in ("1", "0"):
        messages.error(request, "Say whether to add or remove the favourite.")
        return _detail(request, membership, output, partial="favourite", status=400)
    actions.set_favourite(output=output, favourite=wanted == "1")
    if request.htmx:
        return TemplateResponse(request, "gallery/detail.html#favourite",
                                {"project": membership.project, "membership": membership, "output": output})
    return redirect(safe_next(request, within=membership.project.get_absolute_url()) or _detail_url(output, membership))


def _detail_url(output: Output, membership) -> str:
    return reverse("gallery:output", args=[membership.project.slug, output.pk])


@require_POST
@project_view(Role.EDITOR)
def output_tags(request, membership, output_id: int):
    output = _output(membership, output_id)
    text = request.POST.get("tags", "")
    try:
        names = actions.parse_tags(text)
    except actions.GalleryError as exc:
        response = _detail(request, membership, output, partial="tags", status=400, tags_error=str(exc),
                           tags_text_sent=text)
        return _shown_in(response, "#tags") if request.htmx else response
    actions.set_tags(output=output, names=names)
    if request.htmx:
        return _detail(request, membership, output, partial="tags", tags_saved=True)
    messages.success(request, "Tags saved." if names else "Tags removed.")
    return redirect(_detail_url(output, membership))


@require_POST
@project_view(Role.EDITOR)
def output_use(request, membership, output_id: int):
    """Make the output an asset of the project, then go on to the form that uses it."""
    project = membership.project
    output = _output(membership, output_id)
    follow = request.POST.get("follow", "")
    allowed = dict(actions.FOLLOW_UPS.get(output.kind, ()))
    if follow and follow not in allowed:
        messages.error(request, "That follow-up doesn't take this kind of output.")
        return _detail(request, membership, output, status=400)
    try:
        asset = actions.use_output_as_asset(output=output, user=request.user)
    except actions.GalleryError as error:
        messages.error(request, str(error))
        return _detail(request, membership, output, status=409)
    except OSError:
        messages.error(request, "The stored file could not be read; nothing was copied. Try again later.")
        return _detail(request, membership, output, status=409)
    if follow:
        return redirect_after_post(request, actions.follow_up_url(project=project, asset=asset, endpoint=follow))
    messages.success(request, f"“{asset.name}” is now an asset of {project.name}.")
    return redirect_after_post(request, safe_next(request, within=project.get_absolute_url()) or reverse("assets:list", args=[project.slug]))


# --- several outputs: ZIP and delete ----------------------------------------------------


class SelectionError(Exception):
    """A selection of outputs that can't be acted on, with a message to show."""


def selection(membership, ids: list[str]) -> list[Output]:
    """The selected outputs of this project; SelectionError for an empty or malformed selection.

    An id that isn't one of this project's outputs is a 404, whatever else was selected.
    """
    if not ids:
        raise SelectionError("Select one or more outputs first.")
    if len(ids) > zips.ZIP_MAX_ITEMS:
        raise SelectionError(f"Select at most {zips.ZIP_MAX_ITEMS} outputs at a time.")
    parsed = parse_ids(ids)
    if parsed is None:
        raise SelectionError("The selection was not understood; pick the outputs again.")
    wanted = set(parsed)
    outputs = list(Output.objects.in_project(membership.project).filter(pk__in=wanted)
                   .select_related("generation__created_by").order_by("-created_at", "-id"))
    if len(outputs) != len(wanted):
        raise Http404("No such output")
    return outputs


def selection_problem(request, membership, message: str, status: int = 400):
    messages.error(request, message)
    return TemplateResponse(request, "gallery/problem.html",
                            {"project": membership.project, "membership": membership}, status=status)


@require_GET
@project_view()
def outputs_zip(request, membership):
    try:
        outputs = selection(membership, request.GET.getlist("ids"))
    except SelectionError as exc:
        return selection_problem(request, membership, str(exc))
    # Checked before the first byte goes out: a missing file is a clear error, not a short ZIP.
    missing = [o for o in outputs if not o.file or not o.file.storage.exists(o.file.name)]
    if missing:
        return selection_problem(
            request, membership,
            f"{len(missing)} of the selected files can't be read from storage right now; "
            "nothing was downloaded.", status=409)
    response = StreamingHttpResponse(zips.stream_zip(outputs), content_type="application/zip")
    name = f"takes-{membership.project.slug}-{len(outputs)}-outputs.zip"  # a slug is ASCII
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def outputs_delete(request, membership):
    project = membership.project
    data = request.POST if request.method == "POST" else request.GET
    try:
        outputs = selection(membership, data.getlist("ids"))
    except SelectionError as exc:
        return selection_problem(request, membership, str(exc))
    prefetch_related_objects(outputs, Prefetch("generation__inputs", Asset.objects.only("id", "name")))
    not_yours = [o for o in outputs if not cards.may_delete(membership, o)]
    if not_yours:
        raise PermissionDenied(
            f"{len(not_yours)} of the selected outputs were made by someone else; "
            "only the person who made an output, or an owner, can delete it.")
    if request.method == "POST":
        count = actions.trash_outputs(outputs=outputs, user=request.user)
        messages.success(request, f"Moved {count} output{'s' if count != 1 else ''} to the trash; "
                                  f"they are deleted for good after {actions.TRASH_DAYS} days. Undo from the trash.")
        return redirect_after_post(request, reverse("gallery:index", args=[project.slug]))
    noun = _noun(outputs)
    return confirm_page(
        request, project=project, membership=membership, title=f"Move {noun} to the trash?",
        body=f"They leave the gallery, their boards and their share links at once, and are deleted for good after "
             f"{actions.TRASH_DAYS} days; until then the trash brings them back. Assets made from them stay.",
        items=_confirm_items(project, outputs), hidden=[("ids", o.pk) for o in outputs],
        action_url=reverse("gallery:delete", args=[project.slug]),
        action=f"Move {noun} to the trash", cancel_url=reverse("gallery:index", args=[project.slug]),
        stylesheets=["css/gallery.css"],
    )


def _noun(outputs) -> str:
    return f"{len(outputs)} output{'s' if len(outputs) != 1 else ''}"


def _confirm_items(project, outputs) -> list[dict]:
    return [{"thumb_url": reverse("generations:output_thumb", args=[project.slug, o.pk]) if o.thumbnail else "",
             "text": Truncator(cards.title_of(o.generation)).chars(60),
             "detail": f"{o.get_kind_display()} · {date_format(localtime(o.created_at), 'j M Y')}"}
            for o in outputs]


# --- the trash ----------------------------------------------------------------------------


def _trashed(membership, ids: list[str]) -> list[Output]:
    """The selected outputs of this project's trash that this person may restore or delete."""
    if not ids:
        raise SelectionError("Select one or more outputs first.")
    parsed = parse_ids(ids)
    if parsed is None or len(parsed) > zips.ZIP_MAX_ITEMS:
        raise SelectionError("The selection was not understood; pick the outputs again.")
    outputs = list(Output.objects.in_trash(membership.project).filter(pk__in=set(parsed))
                   .select_related("generation__created_by"))
    if len(outputs) != len(set(parsed)):
        raise Http404("No such output in the trash")
    if any(not cards.may_delete(membership, o) for o in outputs):
        raise PermissionDenied("Only the person who made an output, or an owner, can restore or delete it.")
    return outputs


@require_GET
@project_view()
def trash(request, membership):
    project = membership.project
    trashed = Output.objects.in_trash(project).select_related("generation__created_by", "trashed_by")
    page = Paginator(trashed.order_by("-trashed_at", "-pk"), OUTPUTS_PER_PAGE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "gallery/trash.html", {
        "project": project, "membership": membership, "page": page, "days": actions.TRASH_DAYS,
        "cards": cards.cards_for(page.object_list, membership=membership)})


@require_GET
@project_view()
def trash_thumb(request, membership, output_id: int):
    """The poster of an output in the trash (every other page serves only outputs outside it)."""
    output = get_object_or_404(Output.objects.in_trash(membership.project), pk=output_id)
    if not output.thumbnail:
        raise Http404("No poster")
    return serve_file(output.thumbnail, content_type=THUMB_TYPE, filename=f"output-{output.pk}-thumb.jpg")


@require_POST
@project_view(Role.EDITOR)
def restore(request, membership):
    try:
        outputs = _trashed(membership, request.POST.getlist("ids"))
    except SelectionError as exc:
        return selection_problem(request, membership, str(exc))
    back = actions.restore_outputs(outputs=outputs, user=request.user)
    messages.success(request, f"Restored {back} output{'s' if back != 1 else ''} to the gallery.")
    return redirect_after_post(request, reverse("gallery:trash", args=[membership.project.slug]))


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def purge(request, membership):
    """Delete selected outputs of the trash for good, after asking."""
    project = membership.project
    data = request.POST if request.method == "POST" else request.GET
    try:
        outputs = _trashed(membership, data.getlist("ids"))
    except SelectionError as exc:
        return selection_problem(request, membership, str(exc))
    if request.method == "POST":
        gone = actions.delete_outputs(outputs=outputs)
        messages.success(request, f"Deleted {gone} output{'s' if gone != 1 else ''} for good.")
        return redirect_after_post(request, reverse("gallery:trash", args=[project.slug]))
    noun = _noun(outputs)
    return confirm_page(
        request, project=project, membership=membership, title=f"Delete {noun} for good?",
        body="Their files are removed from storage; this can't be undone.", items=_confirm_items(project, outputs),
        hidden=[("ids", o.pk) for o in outputs], action_url=reverse("gallery:purge", args=[project.slug]),
        action=f"Delete {noun} for good", cancel_url=reverse("gallery:trash", args=[project.slug]),
        stylesheets=["css/gallery.css"])


# --- share links ------------------------------------------------------------------------


@require_POST
@project_view(Role.EDITOR)
def output_share(request, membership, output_id: int):
    output = _output(membership, output_id)
    link = actions.share_output(output=output, user=request.user)
    if request.htmx:
        return _detail(request, membership, output, partial="share")
    messages.success(request, "Share link ready: anyone with it can see this output until you revoke it.")
    return redirect(_detail_url(output, membership) + f"#share-{link.pk}")


@require_POST
@project_view(Role.EDITOR)
def share_revoke(request, membership, link_id: int):
    project = membership.project
    link = get_object_or_404(ShareLink.objects.filter(output__project=project).select_related("output"),
                             pk=link_id)
    if not (membership.is_owner or link.created_by_id == request.user.pk):
        raise PermissionDenied("Only the person who made this link, or an owner, can revoke it.")
    if actions.revoke_share_link(link=link):
        messages.success(request, "Share link revoked; it stopped working at once.")
    else:
        messages.info(request, "That link was already revoked.")
    if request.htmx and request.POST.get("from") == "detail":
        return _detail(request, membership, _output(membership, link.output_id), partial="share")
    return redirect_after_post(request, safe_next(request, within=project.get_absolute_url())
                     or reverse("gallery:output", args=[project.slug, link.output_id]))


@require_GET
@project_view(Role.OWNER)
def share_list(request, membership):
    project = membership.project
    links = (ShareLink.objects.filter(output__project=project)
             .select_related("output__generation", "created_by"))
    if request.GET.get("show") != "all":
        links = links.filter(revoked_at=None)
    page = Paginator(links, 50).get_page(request.GET.get("page"))
    return TemplateResponse(request, "gallery/shares.html", {
        "project": project, "membership": membership, "page": page,
        "show_all": request.GET.get("show") == "all",
    })
