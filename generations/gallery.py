"""The gallery's workflows: finding outputs, favourites and tags, reuse, sharing, ZIPs, deletion.

Search: every word of the query appearing in the prompt (`icontains`) always
matches, on any database. On PostgreSQL, full-text search (English stemming,
`websearch` syntax: quotes, `or`, `-word`) widens that, so "sailing" finds
"the boat sails".
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Project
from generations import catalog
from generations.models import Asset, Generation, MediaKind, Output, ShareLink, Tag

logger = logging.getLogger(__name__)

TAG_MAX_LENGTH = 40
TAGS_PER_OUTPUT = 20
# Letters and digits of any script, then spaces and a little punctuation; no markup.
TAG_PATTERN = re.compile(r"^\w[\w .\-]*$")
ZIP_MAX_ITEMS = 500
ZIP_CHUNK = 1024 * 1024
SEARCH_WORDS = 8

SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "largest": ("-size", "-id"),
    # PostgreSQL puts NULLs first in a descending sort; images and audio-less rows go last everywhere.
    "longest": (F("duration").desc(nulls_last=True), "-id"),
}

# One-click follow-ups: what an output of a kind can become, and the form field it feeds.
FOLLOW_UPS: dict[str, tuple[tuple[str, str], ...]] = {
    MediaKind.IMAGE: (("image_to_video", "prompt_image"), ("image_upscale", "image_uri")),
    MediaKind.VIDEO: (("video_upscale", "video_uri"), ("video_to_video", "video_uri")),
    MediaKind.AUDIO: (),
}

# The columns a gallery card shows; nothing else is read for a page of results.
CARD_FIELDS = (
    "id", "project_id", "generation_id", "index", "kind", "content_type", "size", "width",
    "height", "duration", "thumbnail", "file", "is_favourite", "created_at",
    "generation__id", "generation__endpoint", "generation__model", "generation__prompt",
    "generation__created_by_id", "generation__created_by__id", "generation__created_by__username",
    "generation__created_by__first_name", "generation__created_by__last_name",
)


class GalleryError(Exception):
    """A gallery action refused, with a message fit to show the person who asked."""


@dataclass(frozen=True)
class Filters:
    """What a person asked the gallery for; empty values mean "any"."""

    kind: str = ""
    endpoint: str = ""
    model: str = ""
    member: int | None = None
    since: date | None = None
    until: date | None = None
    favourites: bool = False
    tag: str = ""
    text: str = ""
    sort: str = "newest"


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _matching_prompt(outputs: QuerySet[Output], text: str) -> QuerySet[Output]:
    words = text.split()[:SEARCH_WORDS]
    if not words:
        return outputs
    every_word = Q()
    for word in words:
        every_word &= Q(generation__prompt__icontains=word)
    if connection.vendor != "postgresql":
        return outputs.filter(every_word)
    from django.contrib.postgres.search import SearchQuery, SearchVector

    query = SearchQuery(" ".join(words), config="english", search_type="websearch")
    return outputs.annotate(prompt_search=SearchVector("generation__prompt", config="english")).filter(
        Q(prompt_search=query) | every_word)


def search_outputs(*, project: Project, filters: Filters) -> QuerySet[Output]:
    """The project's outputs matching `filters`, sorted, with what a card shows and no more."""
    outputs = Output.objects.in_project(project)
    if filters.kind:
        outputs = outputs.filter(kind=filters.kind)
    if filters.endpoint:
        outputs = outputs.filter(generation__endpoint=filters.endpoint)
    if filters.model:
        outputs = outputs.filter(generation__model=filters.model)
    if filters.member:
        outputs = outputs.filter(generation__created_by_id=filters.member)
    # Bounds as instants, so the created_at index serves the range.
    if filters.since:
        outputs = outputs.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        outputs = outputs.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    if filters.favourites:
        outputs = outputs.filter(is_favourite=True)
    if filters.tag:
        outputs = outputs.filter(tags__project=project, tags__name=filters.tag)
    outputs = _matching_prompt(outputs, filters.text)
    return (outputs.select_related("generation__created_by").only(*CARD_FIELDS)
            .prefetch_related("tags").order_by(*SORTS.get(filters.sort, SORTS["newest"])))


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


def use_output_as_asset(*, output: Output, user) -> Asset:
    """The project asset made from this output: the existing one, or a stored copy with its facts."""
    existing = Asset.objects.filter(project_id=output.project_id, source_output=output).first()
    if existing is not None:
        return existing
    ext = output.file.name.rsplit(".", 1)[-1] if "." in output.file.name else "bin"
    asset = Asset(
        project_id=output.project_id, uploaded_by=user, source_output=output,
        name=output.download_name, kind=output.kind, content_type=output.content_type,
        size=output.size, width=output.width, height=output.height, duration=output.duration,
        sha256=output.sha256,
    )
    storage = asset.file.storage
    written: list[str] = []
    try:
        _copy(output.file, asset.file, f"{output.kind}.{ext}")
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


def reuse_url(generation: Generation) -> str:
    """The generation form pre-filled with this generation's settings (the form reads them back)."""
    query = urlencode({"endpoint": generation.endpoint, "model": generation.model, "reuse": generation.pk})
    return f"{reverse('generations:new', args=[generation.project.slug])}?{query}"


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
            .filter(token=token, revoked_at=None).first())


# --- deleting ---------------------------------------------------------------------------


def delete_outputs(*, outputs: Iterable[Output]) -> int:
    """Delete outputs and, once the rows are gone for good, their files."""
    outputs = list(outputs)
    if not outputs:
        return 0
    storage = outputs[0].file.storage
    names = [n for o in outputs for n in (o.file.name, o.thumbnail.name) if n]
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


# --- ZIP downloads ----------------------------------------------------------------------


class _Pipe(io.RawIOBase):
    """A write-only, unseekable sink that hands back what was written since the last drain."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0
        self.broken = False

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if not self.broken:
            self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_entry_name(output: Output) -> str:
    return output.download_name


def stream_zip(outputs: Iterable[Output], *, chunk_size: int = ZIP_CHUNK) -> Iterator[bytes]:
    """A ZIP of the outputs' files, entries stored as they are, produced a chunk at a time.

    A storage error part-way stops the stream without the archive's closing directory, so
    the browser reports a broken download instead of saving a ZIP with a short file in it.
    """
    pipe = _Pipe()
    archive = zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
    try:
        for output in outputs:
            info = zipfile.ZipInfo(zip_entry_name(output),
                                   date_time=timezone.localtime(output.created_at).timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with output.file.storage.open(output.file.name, "rb") as source, \
                    archive.open(info, "w", force_zip64=output.size > zipfile.ZIP64_LIMIT // 2) as entry:
                while chunk := source.read(chunk_size):
                    entry.write(chunk)
                    yield pipe.drain()
            yield pipe.drain()
        archive.close()
        yield pipe.drain()
    except Exception:
        pipe.broken = True  # nothing more leaves, not even the directory a later close writes
        logger.exception("ZIP download stopped by a storage error")
        raise
    finally:
        if not pipe.broken and archive.fp is not None:
            # Closed early (the browser went away): write nothing more.
            pipe.broken = True
