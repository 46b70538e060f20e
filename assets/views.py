"""A project's input assets: the list with its upload form, deletion, and their files."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from assets import media
from assets.actions import AssetError, create_asset, delete_asset
from assets.forms import AssetUploadForm
from assets.models import Asset, MediaKind
from assets.uploads import ByteCountingUploadHandler
from core.access import ROLE_NEEDED_MESSAGE, project_view
from core.http import THUMB_TYPE, confirm_page, redirect_after_post, safe_next, serve_file
from core.ratelimit import limit

ASSETS_PER_PAGE = 24
# An upload into an input slot of the generation form names the slot's field.
SLOT_NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")


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
        "next": safe_next(request, within=project.get_absolute_url()) or "",
        "max_bytes": media.MAX_BYTES,
    }
    template = "assets/list.html"
    if partial:
        template += f"#{partial}"
    elif request.htmx and request.method == "GET":
        template += "#assets"
    return TemplateResponse(request, template, context, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@project_view()
@limit("uploads-person")  # counted before the body is read
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
    slot = data.get("slot")
    if slot is not None:
        return _slot_upload(request, membership, form, slot, status)
    if form.is_valid():
        try:
            asset = create_asset(project=membership.project, user=request.user,
                                 uploaded_file=form.cleaned_data["file"], name=form.cleaned_data["name"])
        except media.MediaError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, f"“{asset.name}” uploaded ({asset.get_kind_display().lower()}).")
            target = safe_next(request, within=membership.project.get_absolute_url()) or reverse(
                "assets:list", args=[membership.project.slug])
            return redirect_after_post(request, target)
    return _assets_page(request, membership, form=form, status=status,
                        partial="upload" if request.htmx else None)


def _slot_upload(request, membership, form, slot: str, status: int):
    """A file dropped, pasted or chosen into an input slot of the generation form.

    Answers the slot's new choice, picked (201), or why the file was refused: the page around the
    slot, and whatever was typed in it, stays as it is.
    """
    uploaded = request.FILES.get("file")
    context = {"project": membership.project, "name": slot, "multiple": request.POST.get("multiple") == "1",
               "file_name": uploaded.name if uploaded else ""}
    if not SLOT_NAME.fullmatch(slot):
        form.add_error(None, "This upload names no input of the form.")
    kinds = [k for k in request.POST.get("kinds", "").split(",") if k in MediaKind.values]
    if form.is_valid():
        try:
            context["asset"] = create_asset(project=membership.project, user=request.user,
                                            uploaded_file=form.cleaned_data["file"], kinds=kinds)
        except media.MediaError as exc:
            form.add_error("file", str(exc))
        else:
            return TemplateResponse(request, "includes/_slot_upload.html", context, status=201)
    context["reasons"] = [e for errors in form.errors.values() for e in errors]
    return TemplateResponse(request, "includes/_slot_upload.html", context, status=status)


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
            return redirect_after_post(request, reverse("assets:list", args=[project.slug]))
    in_use = asset.used_by.count()
    body = "The file is removed for good."
    if in_use:
        body += (f" It was an input of {in_use} generation{'s' if in_use != 1 else ''}; their outputs stay, "
                 "but they can't be retried.")
    return confirm_page(
        request, project=project, membership=membership, title=f"Delete “{asset.name}”?", body=body,
        action="Delete asset", cancel_url=reverse("assets:list", args=[project.slug]), error=error,
        preview_url=reverse("assets:thumb", args=[project.slug, asset.pk]) if asset.thumbnail else "",
        preview_alt=f"Preview of {asset.name}", stylesheets=["css/generations.css"],
        status=409 if error else 200,
    )


def _asset(membership, asset_id: int) -> Asset:
    return get_object_or_404(Asset.objects.in_project(membership.project), pk=asset_id)


@require_GET
@project_view()
def asset_file(request, membership, asset_id: int):
    asset = _asset(membership, asset_id)
    # The name people gave it, with the extension of the type we detected.
    stem = asset.name.rsplit(".", 1)[0] or f"asset-{asset.pk}"
    name = f"{stem}.{asset.file.name.rsplit('.', 1)[-1]}"
    return serve_file(asset.file, content_type=asset.content_type, filename=name,
                      as_attachment="download" in request.GET, range_header=request.headers.get("Range"))


@require_GET
@project_view()
def asset_thumb(request, membership, asset_id: int):
    asset = _asset(membership, asset_id)
    return serve_file(asset.thumbnail, content_type=THUMB_TYPE, filename=f"asset-{asset.pk}-thumb.jpg")
