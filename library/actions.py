"""Every change to a project's voices, avatars and router configurations, each with its audit entry.

Runway is asked first and the row written after, in one transaction with its audit entry: a
refusal leaves nothing behind, and a row that cannot be written takes the object it would have
mirrored off Runway again (as far as Runway lets us). Deleting removes the row even when
Runway no longer had the object. A voice's or avatar's status is followed by `refresh_items`,
which only ever moves a PROCESSING row on, so two people polling at once settle it once.

Files we keep (a design sample, a voice's preview) are copies made through the guarded
download (`runway.downloads`) and probed as audio; Runway's links never reach a browser.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Project
from assets import media
from assets.models import Asset
from audit.log import record, snapshot
from runway import client as runway
from runway import downloads

from .models import Avatar, Readiness, RouterConfig, Voice

log = logging.getLogger(__name__)

SAMPLES = "voice-samples"
SAMPLE_LIFETIME = timedelta(days=1)  # a design sample nobody kept is let go after this
MAX_SAMPLE_BYTES = 20 * 1024 * 1024  # a few seconds of MP3 weigh well under 1 MB
SLUG_MAX = 64  # Runway's slug rule: ^[a-z][a-z0-9_-]{0,63}$
SLUG_TRIES_ON_RUNWAY = 5
VOICE_FIELDS = ["runway_id", "name", "design_model", "status", "failure", "preview_seconds"]
AVATAR_FIELDS = ["runway_id", "name", "personality", "start_script", "image_id", "preset_voice", "voice_id",
                 "image_processing", "status", "failure"]
ROUTER_FIELDS = ["runway_id", "slug", "name", "description", "settings"]
LOST = "Runway no longer has this {what}; it can only be deleted."


class LibraryError(Exception):
    """A library change that could not be made; the message is for the person, `status` for the answer."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _refused(what: str, error: runway.RunwayError) -> LibraryError:
    """How a failed call to Runway reads to the person who asked for `what`."""
    if isinstance(error, runway.TaskNotFound):
        return LibraryError(f"Runway no longer has it, so it could not {what}.", status=409)
    if error.status is not None and 400 <= error.status < 500 and not error.retryable:
        return LibraryError(f"Runway refused to {what}: {error.message}")
    return LibraryError(f"Runway could not {what} just now ({error.message}). Try again in a moment.", status=502)


# --- files -------------------------------------------------------------------------------------------


def sample_name(project: Project, sample: str) -> str:
    """Where a design sample of this project is kept (`sample` is checked by the form or the URL)."""
    return f"{SAMPLES}/{project.pk}/{sample}"


def _fetch_audio(url: str) -> tuple[Path, media.MediaInfo]:
    """Runway's audio at `url` in a temporary file (the caller removes it), probed as audio."""
    path = downloads.fetch_to_temp(url, max_bytes=MAX_SAMPLE_BYTES, deadline_seconds=60.0,
                                   directory=str(settings.DOWNLOADS_DIR), prefix="takes-voice-")
    try:
        return path, media.probe(path, expected_kind="audio", delivered=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _let_go_of_old_samples(project: Project) -> None:
    """Delete the project's design samples older than SAMPLE_LIFETIME: previews nobody kept."""
    folder = f"{SAMPLES}/{project.pk}"
    try:
        _, names = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError, OSError):
        return
    cutoff = timezone.now() - SAMPLE_LIFETIME
    old = []
    for name in names:
        with contextlib.suppress(OSError, NotImplementedError):
            if default_storage.get_modified_time(f"{folder}/{name}") < cutoff:
                old.append(f"{folder}/{name}")
    _delete_files(old)


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        if name:
            with contextlib.suppress(OSError):
                default_storage.delete(name)


# --- what every mirrored object shares -------------------------------------------------------------


def _forget_on_runway(delete: Callable[[str], bool], runway_id: str) -> None:
    """Take an object we could not record off Runway again; a failure here is only logged."""
    try:
        delete(runway_id)
    except runway.RunwayError as error:
        log.warning("Could not delete %s on Runway after failing to record it: %s", runway_id, error.message)


@contextlib.contextmanager
def _recording(delete: Callable[[str], bool], runway_id: str) -> Iterator[None]:
    """A transaction for the row of an object Runway has just made; on any failure, unmake it."""
    try:
        with transaction.atomic():
            yield
    except BaseException:
        _forget_on_runway(delete, runway_id)
        raise


def _update(item: models.Model, *, user, action: str, fields: list[str], changes: dict) -> None:
    with transaction.atomic():
        before = snapshot(item, fields)
        for name, value in changes.items():
            setattr(item, name, value)
        item.save(update_fields=[*changes, "updated_at"])
        record(actor=user, action=action, obj=item, before=before, after=snapshot(item, fields))


def _delete(item: models.Model, *, user, action: str, fields: list[str], delete: Callable[[str], bool],
            what: str, files: Iterable[str] = ()) -> None:
    """Delete the object on Runway (gone there already is fine), then the row, then its files."""
    try:
        delete(item.runway_id)
    except runway.RunwayError as error:
        raise _refused(f"delete the {what}", error) from error
    names = list(files)
    with transaction.atomic():
        before, pk, text = snapshot(item, fields), str(item.pk), str(item)
        item.delete()
        record(actor=user, action=action, before=before, object_type=item._meta.label_lower, object_id=pk,
               object_repr=text)
        transaction.on_commit(lambda: _delete_files(names))


def _settle(item: Voice | Avatar, *, status: str, failure: str = "", changes: dict | None = None,
            fields: list[str]) -> bool:
    """Move a PROCESSING row to READY or FAILED once; False when someone else settled it first."""
    changes = {"status": status, "failure": failure[:2000], **(changes or {})}
    with transaction.atomic():
        locked = type(item).objects.select_for_update().filter(pk=item.pk, status=Readiness.PROCESSING).first()
        if locked is None:
            return False
        before = snapshot(locked, fields)
        for name, value in changes.items():
            setattr(locked, name, value)
            setattr(item, name, value)
        locked.save(update_fields=[*changes, "updated_at"])
        record(actor=None, action=f"{locked._meta.model_name}.{status.lower()}", obj=locked, before=before,
               after=snapshot(locked, fields))
    return True


def refresh_items(items: Iterable[Voice | Avatar]) -> None:
    """Ask Runway about each PROCESSING voice or avatar given and settle those that finished.

    The rows are updated in place, so a page that shows them shows the new state. A call that
    fails for a moment leaves the row PROCESSING for the next poll.
    """
    for item in items:
        if item.status != Readiness.PROCESSING:
            continue
        if isinstance(item, Voice):
            _refresh_voice(item)
        else:
            _refresh_avatar(item)


def _reply(retrieve: Callable[[str], dict], item: Voice | Avatar, what: str) -> dict | None:
    """Runway's answer for the item; a FAILED answer of our own when Runway has lost it; None to retry later."""
    try:
        return retrieve(item.runway_id)
    except runway.TaskNotFound:
        return {"status": Readiness.FAILED, "failure_reason": LOST.format(what=what)}
    except runway.RunwayError as error:
        log.info("Could not refresh %s %s: %s", what, item.runway_id, error.message)
        return None


# --- voices ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A design sample kept in our storage: its name (for its URL) and its length."""

    name: str
    seconds: float | None


def preview_voice(*, project: Project, model: str, prompt: str) -> Sample:
    """Ask Runway for a sample of a designed voice and keep a copy we can play from our own storage."""
    try:
        reply = runway.preview_voice(model=model, prompt=prompt)
    except runway.RunwayError as error:
        raise _refused("preview the voice", error) from error
    try:
        path, info = _fetch_audio(reply["url"])
    except (downloads.DownloadError, media.MediaError) as error:
        raise LibraryError(f"Runway's sample could not be fetched: {error}", status=502) from error
    try:
        name = f"{uuid.uuid4().hex}{info.extension}"
        with path.open("rb") as fp:
            default_storage.save(sample_name(project, name), File(fp, name=name))
    finally:
        path.unlink(missing_ok=True)
    _let_go_of_old_samples(project)
    return Sample(name=name, seconds=info.duration)


def keep_voice(*, project: Project, user, model: str, prompt: str, name: str, sample: str = "") -> Voice:
    """Design the voice on Runway and mirror it in a PROCESSING row; the design sample is let go."""
    try:
        runway_id = runway.create_voice(model=model, prompt=prompt, name=name, description=prompt[:500])
    except runway.RunwayError as error:
        raise _refused("make the voice", error) from error
    with _recording(runway.delete_voice, runway_id):
        voice = Voice.objects.create(project=project, created_by=user, runway_id=runway_id, name=name,
                                     prompt=prompt, description=prompt[:500], design_model=model)
        record(actor=user, action="voice.create", obj=voice, after=snapshot(voice, VOICE_FIELDS))
    if sample:
        _delete_files([sample_name(project, sample)])
    return voice


def _refresh_voice(voice: Voice) -> None:
    reply = _reply(runway.retrieve_voice, voice, "voice")
    if reply is None or reply["status"] == Readiness.PROCESSING:
        return
    if reply["status"] != Readiness.READY:
        _settle(voice, status=Readiness.FAILED, fields=VOICE_FIELDS,
                failure=reply.get("failure_reason") or "Runway could not make this voice.")
        return
    changes: dict = {}
    if reply.get("preview_url"):
        try:
            path, info = _fetch_audio(reply["preview_url"])
        except downloads.DownloadError as error:
            if error.transient or error.expired:
                return  # the next poll asks Runway again, for a fresh link
            log.warning("Voice %s: its sample could not be fetched: %s", voice.runway_id, error)
        except media.MediaError as error:
            log.warning("Voice %s: its sample is not usable audio: %s", voice.runway_id, error)
        else:
            try:
                with path.open("rb") as fp:
                    voice.preview.save(f"preview{info.extension}", File(fp), save=False)
            finally:
                path.unlink(missing_ok=True)
            changes = {"preview": voice.preview.name, "preview_seconds": info.duration}
    if not _settle(voice, status=Readiness.READY, changes=changes, fields=VOICE_FIELDS) and changes:
        _delete_files([changes["preview"]])  # another poll kept its own copy


def rename_voice(*, voice: Voice, user, name: str) -> None:
    """Rename the voice on Runway, then here."""
    try:
        runway.update_voice(voice.runway_id, name=name)
    except runway.RunwayError as error:
        raise _refused("rename the voice", error) from error
    _update(voice, user=user, action="voice.rename", fields=VOICE_FIELDS, changes={"name": name})


def delete_voice(*, voice: Voice, user) -> None:
    """Delete the voice on Runway and here, with its sample; avatars that used it keep their row."""
    _delete(voice, user=user, action="voice.delete", fields=VOICE_FIELDS, delete=runway.delete_voice,
            what="voice", files=[voice.preview.name])


# --- avatars --------------------------------------------------------------------------------------


def _voice_of(project: Project, value: str) -> tuple[str, Voice | None]:
    """(preset id, custom voice) for a voice choice: a live preset's id or "custom:<id>" of the project's."""
    if value.startswith("custom:"):
        voice = Voice.objects.in_project(project).filter(runway_id=value.removeprefix("custom:"),
                                                         status=Readiness.READY).first()
        if voice is None:
            raise LibraryError("That voice is not one of this project's ready voices.")
        return "", voice
    if value not in runway.LIVE_PRESET_VOICES:
        raise LibraryError("Choose one of the voices offered.")
    return value, None


def _runway_uri(asset: Asset) -> str:
    """The image as a runway:// upload, reusing the asset's while it has more than an hour left."""
    if asset.runway_uri_usable():
        return asset.runway_uri
    try:
        with asset.file.open("rb") as fp:
            uri, expires = runway.upload_file(fileobj=fp, filename=Path(asset.file.name).name)
    except runway.RunwayError as error:
        raise _refused("take the image", error) from error
    Asset.objects.filter(pk=asset.pk).update(runway_uri=uri, runway_uri_expires_at=expires)
    asset.runway_uri, asset.runway_uri_expires_at = uri, expires
    return uri


def create_avatar(*, project: Project, user, name: str, personality: str, start_script: str, image: Asset,
                  voice: str, image_processing: str) -> Avatar:
    """Make the avatar on Runway from a project image and a voice, and mirror it."""
    preset, custom = _voice_of(project, voice)
    uri = _runway_uri(image)
    try:
        reply = runway.create_avatar(name=name, personality=personality, reference_image=uri, preset_voice=preset,
                                     custom_voice_id=custom.runway_id if custom else "",
                                     image_processing=image_processing, start_script=start_script)
    except runway.RunwayError as error:
        raise _refused("make the avatar", error) from error
    with _recording(runway.delete_avatar, reply["id"]):
        avatar = Avatar.objects.create(
            project=project, created_by=user, runway_id=reply["id"], name=name, personality=personality,
            start_script=start_script, image=image, preset_voice=preset, voice=custom,
            image_processing=image_processing, status=reply["status"], failure=reply.get("failure_reason") or "")
        record(actor=user, action="avatar.create", obj=avatar, after=snapshot(avatar, AVATAR_FIELDS))
    return avatar


def _refresh_avatar(avatar: Avatar) -> None:
    reply = _reply(runway.retrieve_avatar, avatar, "avatar")
    if reply is None or reply["status"] == Readiness.PROCESSING:
        return
    failure = "" if reply["status"] == Readiness.READY else (
        reply.get("failure_reason") or "Runway could not make this avatar.")
    _settle(avatar, status=reply["status"], failure=failure, fields=AVATAR_FIELDS)


def update_avatar(*, avatar: Avatar, user, name: str, personality: str, voice: str) -> None:
    """Change the avatar's name, personality and voice on Runway, then here."""
    preset, custom = _voice_of(avatar.project, voice)
    try:
        runway.update_avatar(avatar.runway_id, name=name, personality=personality, preset_voice=preset,
                             custom_voice_id=custom.runway_id if custom else "")
    except runway.RunwayError as error:
        raise _refused("change the avatar", error) from error
    _update(avatar, user=user, action="avatar.update", fields=AVATAR_FIELDS,
            changes={"name": name, "personality": personality, "preset_voice": preset, "voice": custom})


def delete_avatar(*, avatar: Avatar, user) -> None:
    """Delete the avatar on Runway and here; its image stays among the project's assets."""
    _delete(avatar, user=user, action="avatar.delete", fields=AVATAR_FIELDS, delete=runway.delete_avatar,
            what="avatar")


# --- router configurations -------------------------------------------------------------------------


def _slugs(project: Project, name: str) -> Iterator[str]:
    """Free slugs for a project's configuration: "<project>-<name>", then "-2", "-3"… (ours are unique)."""
    base = f"{project.slug}-{slugify(name)}".strip("-")[:SLUG_MAX - 4].rstrip("-")
    if not base[:1].isalpha():
        base = f"r-{base}"[:SLUG_MAX - 4]  # Runway's slugs start with a letter
    for n in itertools.count(1):
        slug = base if n == 1 else f"{base}-{n}"
        if not RouterConfig.objects.filter(slug=slug).exists():
            yield slug


def create_router(*, project: Project, user, name: str, description: str,
                  settings: runway.RouterSettings) -> RouterConfig:
    """Save the configuration on Runway under a free slug and mirror it.

    A slug is unique across the whole organization, so one taken outside Takes (Runway answers
    409) moves on to the next number.
    """
    for tried, slug in enumerate(_slugs(project, name), start=1):
        try:
            reply = runway.create_router(slug=slug, name=name, description=description, settings=settings)
        except runway.RunwayError as error:
            if error.status == 409 and tried < SLUG_TRIES_ON_RUNWAY:
                continue
            raise _refused("save the configuration", error) from error
        break
    with _recording(runway.delete_router, reply["id"]):
        config = RouterConfig.objects.create(project=project, created_by=user, runway_id=reply["id"], name=name,
                                             slug=reply["slug"], description=description,
                                             settings=reply["settings"])
        record(actor=user, action="router.create", obj=config, after=snapshot(config, ROUTER_FIELDS))
    return config


def update_router(*, config: RouterConfig, user, name: str, description: str,
                  settings: runway.RouterSettings) -> None:
    """Change the configuration's name, description and settings on Runway, then here (never the slug)."""
    try:
        reply = runway.update_router(config.runway_id, name=name, description=description, settings=settings)
    except runway.RunwayError as error:
        raise _refused("change the configuration", error) from error
    _update(config, user=user, action="router.update", fields=ROUTER_FIELDS,
            changes={"name": name, "description": description, "settings": reply["settings"]})


def delete_router(*, config: RouterConfig, user) -> None:
    """Delete the configuration on Runway and here; generate requests naming its slug then fail."""
    _delete(config, user=user, action="router.delete", fields=ROUTER_FIELDS, delete=runway.delete_router,
            what="configuration")
