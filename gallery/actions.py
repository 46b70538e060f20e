"""The gallery's workflows: favourites and tags, reuse as input, sharing, deletion."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlencode

from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Project
from assets import media
from assets.models import Asset, MediaKind
from audit.log import record
from gallery.models import ShareLink, Tag
from generations.models import Output
from runway import catalog

logger = logging.getLogger(__name__)

TAG_MAX_LENGTH = 40
TAGS_PER_OUTPUT = 20
# Letters and digits of any script, then spaces and a little punctuation; no markup.
TAG_PATTERN = re.compile(r"^\w[\w .\-]*$")

# One-click follow-ups: what an output of a kind can become, and the form field it feeds.
FOLLOW_UPS: dict[str, tuple[tuple[str, str], ...]] = {
    MediaKind.IMAGE: (("image_to_video", "prompt_image"), ("image_upscale", "image_uri")),
    MediaKind.VIDEO: (("video_upscale", "video_uri"), ("video_to_video", "video_uri")),
    MediaKind.AUDIO: (),
}


class GalleryError(Exception):
    """A gallery action refused, with a message fit to show the person who asked."""


# --- favourites and tags ----------------------------------------------------------------


def set_favourite(*, output: Output, favourite: bool) -> None:
    """Mark or unmark an output as a favourite of its project."""
    Output.objects.filter(pk=output.pk).update(is_favourite=favourite)
    output.is_favourite = favourite


def parse_tags(text: str) -> list[str]:
    """Tag names from comma-separated text, trimmed and de-duplicated; GalleryError if unusable."""
    names: list[str] = []
    for raw in text.split(","):
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > TAG_MAX_LENGTH:
            raise GalleryError(f"Tags are at most {TAG_MAX_LENGTH} characters; “{name[:TAG_MAX_LENGTH]}…” "
                               "is longer.")
        if not TAG_PATTERN.match(name):
            raise GalleryError(f"“{name}” can't be a tag: use letters, digits, spaces, dots, "
                               "dashes and underscores only.")
        if name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    if len(names) > TAGS_PER_OUTPUT:
        raise GalleryError(f"An output takes at most {TAGS_PER_OUTPUT} tags.")
    return names


def set_tags(*, output: Output, names: list[str]) -> list[Tag]:
    """Replace an output's tags with `names`, creating the project's new tags as needed."""
    project_id = output.project_id
    with transaction.atomic():
        existing = {t.name.casefold(): t for t in Tag.objects.filter(project_id=project_id)}
        tags = []
        for name in names:
            tag = existing.get(name.casefold())
            if tag is None:
                try:
                    with transaction.atomic():
                        tag = Tag.objects.create(project_id=project_id, name=name)
                except IntegrityError:  # made at the same moment by someone else
                    tag = Tag.objects.get(project_id=project_id, name=name)
            tags.append(tag)
        output.tags.set(tags)
    return tags


# --- reuse ------------------------------------------------------------------------------


def _copy(source, target, name: str) -> None:
    """Copy a stored file into another FileField through storage, a chunk at a time."""
    with source.storage.open(source.name, "rb") as handle:
        target.save(name, File(handle, name=name), save=False)


def _sha256(field) -> str:
    digest = hashlib.sha256()
    with field.storage.open(field.name, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def use_output_as_asset(*, output: Output, user) -> Asset:
    """The project asset made from this output: the existing one, or a stored copy with its facts.

    A delivery Runway does not take as an input (a ZIP of frames, Ogg audio) is reused
    through its browser-playable preview (H.264 MP4 or MP3), which it does take.
    GalleryError if there is neither.
    """
    existing = Asset.objects.filter(project_id=output.project_id, source_output=output).first()
    if existing is not None:
        return existing
    source, content_type, ext, sha256 = output.file, output.content_type, output.extension, output.sha256
    if not media.accepted_as_input(content_type):
        if not output.preview:
            raise GalleryError(f"Runway doesn't take {output.delivered_as} as an input, and this output has no "
                               "playable copy to use instead. Download it to work on it elsewhere.")
        source, content_type = output.preview, output.preview_type
        ext, sha256 = output.preview.name.rsplit(".", 1)[-1], _sha256(output.preview)
    asset = Asset(
        project_id=output.project_id, uploaded_by=user, source_output=output,
        name=f"{output.download_name.rsplit('.', 1)[0]}.{ext}", kind=output.kind, content_type=content_type,
        size=source.size, width=output.width, height=output.height, duration=output.duration, sha256=sha256,
    )
    storage = asset.file.storage
    written: list[str] = []
    try:
        _copy(source, asset.file, f"{output.kind}.{ext}")
        written.append(asset.file.name)
        if output.thumbnail:
            _copy(output.thumbnail, asset.thumbnail, "thumb.jpg")
            written.append(asset.thumbnail.name)
        asset.save()
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    return asset


def follow_ups(output: Output) -> list[tuple[str, str]]:
    """(endpoint key, label) of the one-click follow-ups this output's kind allows."""
    return [(key, catalog.get_endpoint(key).label) for key, _ in FOLLOW_UPS.get(output.kind, ())]


def follow_up_url(*, project: Project, asset: Asset, endpoint: str) -> str:
    """The generation form for `endpoint`, with the asset in the field that takes it."""
    field = dict(FOLLOW_UPS.get(asset.kind, ()))[endpoint]
    base = reverse("generations:new", args=[project.slug])
    return f"{base}?{urlencode({'endpoint': endpoint, field: asset.pk})}"


# --- sharing ----------------------------------------------------------------------------


def share_output(*, output: Output, user) -> ShareLink:
    """The output's active share link, made now if it has none."""
    link = output.share_links.filter(revoked_at=None).first()
    if link is not None:
        return link
    try:
        with transaction.atomic():
            return ShareLink.objects.create(output=output, created_by=user)
    except IntegrityError:
        # Someone shared it at the same moment; the database keeps one active link.
        return output.share_links.get(revoked_at=None)


def revoke_share_link(*, link: ShareLink) -> bool:
    """Revoke a share link at once; False if it already was."""
    now = timezone.now()
    changed = ShareLink.objects.filter(pk=link.pk, revoked_at=None).update(revoked_at=now)
    if changed:
        link.revoked_at = now
    return bool(changed)


def active_share(token: str) -> ShareLink | None:
    """The active share link a raw token names, with its output and generation, or None."""
    if not token or len(token) > 64:
        return None
    return (ShareLink.objects.select_related("output__generation")
            .filter(token=token, revoked_at=None, output__trashed_at__isnull=True).first())


# --- deleting ---------------------------------------------------------------------------


TRASH_DAYS = 30


def trash_outputs(*, outputs: Iterable[Output], user) -> int:
    """Move outputs to the project's trash (their files stay until the purge); how many moved."""
    outputs = list(outputs)
    ids = [o.pk for o in outputs]
    with transaction.atomic():
        moved = Output.objects.filter(pk__in=ids, trashed_at__isnull=True).update(trashed_at=timezone.now(),
                                                                                  trashed_by=user)
        record(actor=user, action="output.trash", object_type="generations.output", object_id=str(min(ids)),
               note=f"{moved} moved to the trash: outputs {sorted(ids)}"[:500], project=outputs[0].project_id)
    return moved


def restore_outputs(*, outputs: Iterable[Output], user) -> int:
    """Take outputs out of the trash, as they were; how many came back."""
    outputs = list(outputs)
    ids = [o.pk for o in outputs]
    with transaction.atomic():
        back = Output.objects.filter(pk__in=ids, trashed_at__isnull=False).update(trashed_at=None, trashed_by=None)
        record(actor=user, action="output.restore", object_type="generations.output", object_id=str(min(ids)),
               note=f"{back} restored: outputs {sorted(ids)}"[:500], project=outputs[0].project_id)
    return back


def purge_trash(*, now=None, batch: int = 500) -> int:
    """Delete for good what has been in the trash for TRASH_DAYS, files and all; how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=TRASH_DAYS)
    purged = 0
    while True:
        old = list(Output.objects.filter(trashed_at__lte=cutoff).order_by("pk")[:batch])
        if not old:
            return purged
        purged += delete_outputs(outputs=old)


def delete_outputs(*, outputs: Iterable[Output]) -> int:
    """Delete outputs and, once the rows are gone for good, their files (delivery, preview, poster)."""
    outputs = list(outputs)
    if not outputs:
        return 0
    storage = outputs[0].file.storage
    names = [n for o in outputs for n in (o.file.name, o.preview.name, o.thumbnail.name) if n]
    with transaction.atomic():
        Output.objects.filter(pk__in=[o.pk for o in outputs]).delete()

        def remove_files() -> None:
            for name in names:
                try:
                    storage.delete(name)
                except OSError:  # a left-over file is harmless; a lost row is not
                    logger.warning("Could not delete stored file %s", name)

        transaction.on_commit(remove_files)
    return len(outputs)
