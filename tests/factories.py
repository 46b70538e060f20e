"""Real files and rows for tests: assets are made from actual media through the upload workflow."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from django.core.files.uploadedfile import TemporaryUploadedFile

from assets.actions import create_asset
from assets.models import Asset
from tests.generations import media_samples

_SPEC = re.compile(r"^(image|video|audio)(?: (\d+)x(\d+))?(?: ([\d.]+)s)?$")


def media_file(directory: Path, spec: str) -> Path:
    """A real media file matching a spec such as "image 1280x720", "video 640x360 4s" or "audio 6s"."""
    kind, w, h, seconds = _SPEC.match(spec).groups()
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / re.sub(r"\W+", "-", spec)
    if kind == "image":
        return media_samples.make_png(stem.with_suffix(".png"), int(w or 640), int(h or 360))
    if kind == "video":
        return media_samples.make_mp4(stem.with_suffix(".mp4"), float(seconds or 2), int(w or 320), int(h or 180))
    return media_samples.make_wav(stem.with_suffix(".wav"), float(seconds or 6))


def upload(path: Path, name: str | None = None) -> TemporaryUploadedFile:
    """A Django upload object holding the file, as the upload handler would make it."""
    uploaded = TemporaryUploadedFile(name or path.name, "application/octet-stream", path.stat().st_size, None)
    with path.open("rb") as fp:
        shutil.copyfileobj(fp, uploaded)
    uploaded.seek(0)
    return uploaded


def make_asset(project, user, spec: str, directory: Path) -> Asset:
    """An asset of the project, stored and probed like a browser upload."""
    return create_asset(project=project, user=user, uploaded_file=upload(media_file(directory, spec)))


def drive(generation, *, rounds: int = 8):
    """Run each step a worker would until the generation finishes or is flagged, then reload it.

    Each round moves the clock further on, so backoffs and poll intervals are always due.
    """
    from datetime import timedelta

    from django.utils import timezone

    from generations import copy, poll, run
    from generations.models import Status

    for step in range(rounds):
        later = timezone.now() + timedelta(minutes=10 * (step + 2))
        generation.refresh_from_db()
        if generation.is_finished or generation.needs_attention:
            break
        if generation.status in (Status.QUEUED, Status.UPLOADING):
            run.run_generation(generation_id=generation.pk, now=later)
        elif generation.status == Status.COPYING:
            copy.copy_outputs(generation_id=generation.pk)
        else:
            poll.sweep_once(now=later)
    generation.refresh_from_db()
    return generation
