"""The library pages of a project: voices, avatars and Model Router configurations.

Viewers see, editors create and change, owners delete (`core.access`); every change goes
through `library.actions`. The voice and avatar lists refresh their PROCESSING rows when they
are shown, and while any is left the list polls itself as one element (answering 286 once
nothing on it can change).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from core.access import project_view
from core.http import confirm_page, redirect_after_post, serve_file
from core.ratelimit import limit
from runway import client as runway

from . import actions
from .forms import (
    SAMPLE_NAME,
    AvatarEditForm,
    AvatarForm,
    RouterForm,
    VoiceKeepForm,
    VoiceRenameForm,
)
from .models import Avatar, Readiness, RouterConfig, Voice

PER_PAGE = 20
ROUTED_REQUESTS_SHOWN = 20
STOP_POLLING = 286
SDK_VOICE_NOTE = ("A custom voice can be used by avatars and avatar videos. Text to speech and speech to speech "
                  "take only Runway's preset voices, and dubbing has no choice of voice.")


def _page(request, queryset):
    return Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))


def _list_response(request, membership, *, template: str, partial: str, items, extra: dict, status: int):
    """A voice or avatar list page, or for htmx its list alone; PROCESSING rows are refreshed first."""
    page = _page(request, items)
    actions.refresh_items(page.object_list)
    processing = any(item.status == Readiness.PROCESSING for item in page.object_list)
    context = {"project": membership.project, "membership": membership, "page": page,
               "processing": processing, **extra}
    if request.htmx and request.method == "GET":
        template += f"#{partial}"
        if not processing and status == 200:
            status = STOP_POLLING
    elif request.htmx:
        template += f"#{extra['form_partial']}"
    return TemplateResponse(request, template, context, status=status)


def _show_error(form, error: actions.LibraryError) -> int:
    form.add_error(None, error.message)
    return error.status


def _submit(request, form, apply: Callable[[dict], tuple[str, str]]) -> tuple[HttpResponse | None, int]:
    """Run `apply` on a valid form's data; it returns (message, where to go next).

    Answers (the redirect, 200), or (None, the status to show the form again with): 400 for
    bad input, or what a refusal says.
    """
    if not form.is_valid():
        return None, 400
    try:
        message, target = apply(form.cleaned_data)
    except actions.LibraryError as error:
        return None, _show_error(form, error)
    messages.success(request, message)
    return redirect_after_post(request, target), 200


# --- voices ---------------------------------------------------------------------------------------


def _voices_page(request, membership, *, form=None, sample=None, status=200):
    items = Voice.objects.in_project(membership.project).select_related("created_by")
    if form is None and membership.can_edit:
        form = VoiceKeepForm()
    extra = {"form": form, "sample": sample, "sdk_note": SDK_VOICE_NOTE, "form_partial": "design"}
    return _list_response(request, membership, template="library/voices.html", partial="voices", items=items,
                          extra=extra, status=status)


@require_GET
@project_view()
def voice_list(request, membership):
    return _voices_page(request, membership)


@require_POST
@project_view(Role.EDITOR)
@limit("voice-previews-person")
def voice_preview(request, membership):
    """A sample of the described voice, played from our copy; the form keeps what was typed."""
    form = VoiceKeepForm(request.POST)
    form.fields["name"].required = False  # a name is needed to keep the voice, not to hear it
    if not form.is_valid():
        return _voices_page(request, membership, form=form, status=400)
    try:
        sample = actions.preview_voice(project=membership.project, model=form.cleaned_data["design_model"],
                                       prompt=form.cleaned_data["prompt"])
    except actions.LibraryError as error:
        return _voices_page(request, membership, form=form, status=_show_error(form, error))
    # Unbound again, holding what was typed and the sample: a missing name is no error yet.
    form = VoiceKeepForm(initial={**form.cleaned_data, "name": form.cleaned_data.get("name") or "",
                                  "sample": sample.name})
    return _voices_page(request, membership, form=form, sample=sample)


@require_POST
@project_view(Role.EDITOR)
def voice_create(request, membership):
    """Keep the described voice: Runway designs it, and the list follows it until it is ready."""
    form = VoiceKeepForm(request.POST)

    def keep(data):
        voice = actions.keep_voice(project=membership.project, user=request.user, model=data["design_model"],
                                   prompt=data["prompt"], name=data["name"], sample=data["sample"])
        return (f"“{voice.name}” is being made; it will play here when it is ready.",
                reverse("library:voices", args=[membership.project.slug]))

    done, status = _submit(request, form, keep)
    if done:
        return done
    sample = None
    if form.cleaned_data.get("sample") and default_storage.exists(
            actions.sample_name(membership.project, form.cleaned_data["sample"])):
        sample = actions.Sample(name=form.cleaned_data["sample"], seconds=None)
    return _voices_page(request, membership, form=form, sample=sample, status=status)


def _voice(membership, voice_id: int) -> Voice:
    return get_object_or_404(Voice.objects.in_project(membership.project), pk=voice_id)


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def voice_edit(request, membership, voice_id: int):
    voice = _voice(membership, voice_id)
    back = reverse("library:voices", args=[membership.project.slug])
    status = 200
    if request.method == "POST":
        form = VoiceRenameForm(request.POST)

        def rename(data):
            actions.rename_voice(voice=voice, user=request.user, name=data["name"])
            return f"Renamed to “{voice.name}”.", back

        done, status = _submit(request, form, rename)
        if done:
            return done
    else:
        form = VoiceRenameForm(initial={"name": voice.name})
    return _form_page(request, membership, form=form, status=status, title=f"Rename “{voice.name}”",
                      action="Rename voice", cancel=back)


@require_http_methods(["GET", "POST"])
@project_view(Role.OWNER)
def voice_delete(request, membership, voice_id: int):
    voice = _voice(membership, voice_id)
    in_use = voice.avatars.count()
    body = "The voice is deleted on Runway too; it can't be brought back."
    if in_use:
        body += f" {in_use} avatar{'s' if in_use != 1 else ''} speak{'s' if in_use == 1 else ''} with it."
    return _delete_page(request, membership, item=voice, what="voice", body=body, back="library:voices",
                        delete=lambda: actions.delete_voice(voice=voice, user=request.user))


@require_GET
@project_view()
def voice_audio(request, membership, voice_id: int):
    voice = _voice(membership, voice_id)
    extension = voice.preview.name.rsplit(".", 1)[-1] if voice.preview else "mp3"
    return serve_file(voice.preview, content_type=_audio_type(voice.preview.name), filename=f"voice-{voice.pk}.{extension}",
                      range_header=request.headers.get("Range"))


@require_GET
@project_view()
def voice_sample(request, membership, sample: str):
    """A design sample of this project, from our storage (its name is ours: 32 hex digits)."""
    if not SAMPLE_NAME.match(sample):
        raise Http404("No such sample")
    name = actions.sample_name(membership.project, sample)
    if not default_storage.exists(name):
        raise Http404("No such sample")
    response = FileResponse(default_storage.open(name, "rb"), content_type=_audio_type(name))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, max-age=300"
    return response


def _audio_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


# --- avatars --------------------------------------------------------------------------------------


def _avatars_page(request, membership, *, form=None, status=200):
    project = membership.project
    items = Avatar.objects.in_project(project).select_related("image", "voice", "created_by")
    if form is None and membership.can_edit:
        form = AvatarForm(project=project)
    extra = {"form": form, "form_partial": "create", "has_images": form is not None and
             form.fields["image"].queryset.exists()}
    return _list_response(request, membership, template="library/avatars.html", partial="avatars", items=items,
                          extra=extra, status=status)


@require_GET
@project_view()
def avatar_list(request, membership):
    return _avatars_page(request, membership)


@require_POST
@project_view(Role.EDITOR)
def avatar_create(request, membership):
    project = membership.project
    form = AvatarForm(request.POST, project=project)

    def make(data):
        avatar = actions.create_avatar(
            project=project, user=request.user, name=data["name"], personality=data["personality"],
            start_script=data["start_script"], image=data["image"], voice=data["voice"],
            image_processing=data["image_processing"])
        return (f"“{avatar.name}” is being made from {data['image'].name}.",
                reverse("library:avatars", args=[project.slug]))

    done, status = _submit(request, form, make)
    if done:
        return done
    return _avatars_page(request, membership, form=form, status=status)


def _avatar(membership, avatar_id: int) -> Avatar:
    return get_object_or_404(Avatar.objects.in_project(membership.project).select_related("voice"), pk=avatar_id)


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def avatar_edit(request, membership, avatar_id: int):
    project = membership.project
    avatar = _avatar(membership, avatar_id)
    status = 200
    if request.method == "POST":
        form = AvatarEditForm(request.POST, project=project)

        def change(data):
            actions.update_avatar(avatar=avatar, user=request.user, name=data["name"],
                                  personality=data["personality"], voice=data["voice"])
            return f"“{avatar.name}” was changed.", reverse("library:avatars", args=[project.slug])

        done, status = _submit(request, form, change)
        if done:
            return done
    else:
        voice = avatar.voice.choice_value if avatar.voice else avatar.preset_voice
        form = AvatarEditForm(project=project, initial={"name": avatar.name, "personality": avatar.personality,
                                                        "voice": voice})
    return _form_page(request, membership, form=form, status=status, title=f"Edit “{avatar.name}”",
                      action="Save avatar", cancel=reverse("library:avatars", args=[project.slug]))


@require_http_methods(["GET", "POST"])
@project_view(Role.OWNER)
def avatar_delete(request, membership, avatar_id: int):
    avatar = _avatar(membership, avatar_id)
    return _delete_page(request, membership, item=avatar, what="avatar", back="library:avatars",
                        body="The avatar is deleted on Runway too; its image stays among the project's assets.",
                        delete=lambda: actions.delete_avatar(avatar=avatar, user=request.user))


# --- router configurations -------------------------------------------------------------------------


@require_GET
@project_view()
def router_list(request, membership):
    configs = RouterConfig.objects.in_project(membership.project).select_related("created_by")
    context = {"project": membership.project, "membership": membership, "page": _page(request, configs)}
    return TemplateResponse(request, "library/routers.html", context)


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def router_create(request, membership):
    project = membership.project
    status = 200
    if request.method == "POST":
        form = RouterForm(request.POST)

        def save(data):
            config = actions.create_router(project=project, user=request.user, name=data["name"],
                                           description=data["description"], settings=form.settings())
            return (f"“{config.name}” was saved; generate requests name it {config.slug}.",
                    reverse("library:router", args=[project.slug, config.pk]))

        done, status = _submit(request, form, save)
        if done:
            return done
    else:
        form = RouterForm()
    return _form_page(request, membership, form=form, status=status, title="New router configuration",
                      action="Save configuration", cancel=reverse("library:routers", args=[project.slug]),
                      intro="Runway's Model Router picks the model for each generate request from these settings.")


def _config(membership, config_id: int) -> RouterConfig:
    return get_object_or_404(RouterConfig.objects.in_project(membership.project), pk=config_id)


@require_GET
@project_view()
def router_detail(request, membership, config_id: int):
    config = _config(membership, config_id)
    error = ""
    try:
        routed = [{**item, "created_at": parse_datetime(item.get("created_at") or "")}
                  for item in runway.list_router_requests(config.runway_id, limit=ROUTED_REQUESTS_SHOWN)["data"]]
    except runway.TaskNotFound:
        routed, error = [], "Runway no longer has this configuration; it can only be deleted."
    except runway.RunwayError as exc:
        routed, error = [], f"Runway's list of routed requests could not be read just now ({exc.message})."
    context = {"project": membership.project, "membership": membership, "config": config, "routed": routed,
               "error": error, "initial": RouterForm.initial_from(config)}
    return TemplateResponse(request, "library/router.html", context)


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def router_edit(request, membership, config_id: int):
    project = membership.project
    config = _config(membership, config_id)
    back = reverse("library:router", args=[project.slug, config.pk])
    status = 200
    if request.method == "POST":
        form = RouterForm(request.POST)

        def change(data):
            actions.update_router(config=config, user=request.user, name=data["name"],
                                  description=data["description"], settings=form.settings())
            return f"“{config.name}” was changed.", back

        done, status = _submit(request, form, change)
        if done:
            return done
    else:
        form = RouterForm(initial=RouterForm.initial_from(config))
    return _form_page(request, membership, form=form, status=status, title=f"Edit “{config.name}”",
                      action="Save configuration", cancel=back,
                      intro=f"Its slug, {config.slug}, stays: generate requests name it.")


@require_http_methods(["GET", "POST"])
@project_view(Role.OWNER)
def router_delete(request, membership, config_id: int):
    config = _config(membership, config_id)
    return _delete_page(request, membership, item=config, what="configuration", back="library:routers",
                        body=f"It is deleted on Runway too: generate requests naming {config.slug} will fail.",
                        delete=lambda: actions.delete_router(config=config, user=request.user))


# --- shared pages ---------------------------------------------------------------------------------


def _form_page(request, membership, *, form, status: int, title: str, action: str, cancel: str, intro: str = ""):
    context = {"project": membership.project, "membership": membership, "form": form, "title": title,
               "action": action, "cancel_url": cancel, "intro": intro}
    return TemplateResponse(request, "library/form.html", context, status=status)


def _delete_page(request, membership, *, item, delete: Callable[[], None], what: str, body: str, back: str):
    """The "are you sure?" page of a library object; a POST runs `delete`."""
    project = membership.project
    error = ""
    if request.method == "POST":
        try:
            delete()
        except actions.LibraryError as exc:
            error = exc.message
        else:
            messages.success(request, f"“{item.name}” was deleted.")
            return redirect_after_post(request, reverse(back, args=[project.slug]))
    return confirm_page(request, project=project, membership=membership, title=f"Delete “{item.name}”?",
                        body=body, action=f"Delete {what}", cancel_url=reverse(back, args=[project.slug]),
                        error=error, status=409 if error else 200)
