"""Workflows for a project's input assets: store an upload, delete one."""

from __future__ import annotations

import tempfile
from collections.abc import Collection
from pathlib import Path

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import Project
from assets import media
from assets.models import Asset


class AssetError(Exception):
    """An asset workflow refused, with a message fit to show the person who asked."""


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        if name:
            storage.delete(name)


def create_asset(*, project: Project, user, uploaded_file: UploadedFile, name: str = "",
                 kinds: Collection[str] = ()) -> Asset:
    """Probe an uploaded file by content, store it with a thumbnail and record its facts.

    All or nothing: a file we can't use, or not of one of `kinds` when given, raises MediaError
    and leaves no row and no file.
    """
    try:
        path = uploaded_file.temporary_file_path()
    except AttributeError:  # a handler other than ours kept it in memory
        raise media.MediaError("The upload could not be read; please try again.") from None
    info = media.probe(path, kinds=kinds)
    asset = Asset(
        project=project,
        uploaded_by=user,
        name=(name.strip() or uploaded_file.name or f"{info.kind}{info.extension}")[:255],
        kind=info.kind,
        content_type=info.content_type,
        size=info.size,
        width=info.width,
        height=info.height,
        duration=info.duration,
        sha256=info.sha256,
    )
    written: list[str] = []
    storage = asset.file.storage
    try:
        with tempfile.TemporaryDirectory(prefix="takes-thumb-") as tmp:
            thumb_path = Path(tmp) / "thumb.jpg"
            try:
                media.make_thumbnail(path, info, thumb_path)
            except (OSError, ValueError) as exc:  # MediaError is a ValueError
                message = str(exc) if isinstance(exc, media.MediaError) else ""
                raise media.MediaError(message or "No preview could be made from this file; "
                                       "it may be damaged.") from exc
            # The stored name takes the extension we detected, never the one we were sent.
            with open(path, "rb") as fp:
                asset.file.save(f"{info.kind}{info.extension}", File(fp), save=False)
            written.append(asset.file.name)
            with open(thumb_path, "rb") as fp:
                asset.thumbnail.save("thumb.jpg", File(fp), save=False)
            written.append(asset.thumbnail.name)
        with transaction.atomic():
            asset.save()
    except BaseException:
        _delete_files(storage, written)
        raise
    return asset


def delete_asset(*, asset: Asset) -> None:
    """Delete an asset and its files; refused while an unfinished generation uses it."""
    storage = asset.file.storage
    names = [asset.file.name, asset.thumbnail.name]
    with transaction.atomic():
        # The row is locked before anything is checked: a submission holding it (it locks its
        # inputs, generations.submit) commits first and is then counted below; one that comes
        # after waits for this commit and finds the asset gone.
        if not Asset.objects.filter(pk=asset.pk).select_for_update().values_list("pk", flat=True):
            return  # someone else deleted it first; their commit removes the files
        # `used_by` is the generations' side of their inputs; its queryset knows what is in flight.
        busy = asset.used_by.in_flight().count()
        if busy:
            raise AssetError(
                f"“{asset.name}” is an input of {busy} generation{'s' if busy != 1 else ''} "
                "still in progress. Wait for them to finish or cancel them, then delete it."
            )
        asset.delete()
        # Files go only once the row is gone for good; a rollback keeps both.
        transaction.on_commit(lambda: _delete_files(storage, names))
