"""Copying a finished task's outputs into our storage, once each, then finishing the generation."""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from assets import media, previews
from runway import catalog, downloads
from runway import client as runway
from runway.catalog.data import MAX_OUTPUT_BYTES

from .jobs import backoff
from .models import Generation, Output, Status
from .outcome import fail, finish

log = logging.getLogger(__name__)

COPY_ATTEMPTS = 6
CLAIM_RENEW = 10.0  # seconds between a working copy's claim renewals
CLAIM_STALE = 90.0  # unrenewed this long, a claim is a dead worker's (probing and thumbnails fit well within)


def output_name(generation: Generation, index: int, extension: str) -> str:
    """The deterministic storage key of one output."""
    return f"outputs/{generation.project_id}/{generation.pk}/{index}{extension}"


def _asked_seconds(generation: Generation) -> float | None:
    """The length the generation asked for, if it named one ("auto" and none give None)."""
    asked = (generation.params or {}).get("duration")
    return float(asked) if isinstance(asked, int | float) and not isinstance(asked, bool) else None


def _save(path: Path, name: str) -> str:
    with path.open("rb") as fp:
        return default_storage.save(name, File(fp, name=Path(name).name))


def _store_output(generation: Generation, index: int, path: Path, *, token: str | None = None,
                  deadline: float | None = None) -> None:
    """Keep one delivered file as it came, with a browser-playable preview where needed and a poster.

    A preview or poster that cannot be made is logged and left out: the delivery is kept
    and downloadable whatever happens to its copies.
    """
    if Output.objects.filter(generation=generation, index=index).exists():
        return  # recorded already (by an attempt that was taken over)
    with previews.opened(path, seconds=_asked_seconds(generation)) as delivery:
        info = delivery.info
        name = output_name(generation, index, info.extension)
        if default_storage.exists(name) and not Output.objects.filter(file=name).exists():
            default_storage.delete(name)  # left by a worker that died before recording it
        stored = _save(path, name)
        extras: list[str] = []  # the preview's and poster's names, removed if another worker wins
        preview_name = thumb_name = ""
        preview = None
        preview_path = path.with_name(f"{path.name}.preview{previews.PREVIEW_TYPES.get(info.kind, ('', ''))[1]}")
        thumb_path = path.with_suffix(".thumb.jpg")
        try:
            if delivery.needs_preview:
                try:
                    left = settings.COPY_DEADLINE if deadline is None else deadline - time.monotonic()
                    preview = (preview_path, delivery.write_preview(
                        preview_path, timeout=max(30.0, left), alive_every=CLAIM_RENEW,
                        alive=None if token is None else lambda: generation.renew_claim(token)))
                    preview_name = _save(preview_path, f"previews/{generation.project_id}/{generation.pk}-{index}"
                                                       f"{preview_path.suffix}")
                    extras.append(preview_name)
                except media.MediaError as error:
                    log.warning("No preview for output %s of generation %s: %s", index, generation.pk, error)
            try:
                delivery.write_poster(thumb_path, preview=preview)
                thumb_name = _save(thumb_path, f"thumbs/{generation.project_id}/{generation.pk}-{index}.jpg")
                extras.append(thumb_name)
            except media.MediaError:
                log.warning("No thumbnail for output %s of generation %s", index, generation.pk)
        finally:
            preview_path.unlink(missing_ok=True)
            thumb_path.unlink(missing_ok=True)
    try:
        with transaction.atomic():
            Output.objects.create(
                project_id=generation.project_id, generation=generation, index=index, file=stored,
                thumbnail=thumb_name, preview=preview_name, kind=info.kind, content_type=info.content_type,
                size=info.size, width=info.width, height=info.height, duration=info.duration, sha256=info.sha256,
                codec=(info.codec or "")[:40], playable=bool(preview_name) or not delivery.needs_preview,
            )
    except IntegrityError:
        # Another worker recorded this output first; keep theirs.
        if stored != Output.objects.get(generation=generation, index=index).file.name:
            default_storage.delete(stored)
        for extra in extras:
            default_storage.delete(extra)


def claim_stale_after() -> timedelta:
    """How long a copy's claim may go unrenewed before another worker takes it over.

    A working copy renews its claim every `CLAIM_RENEW` seconds while bytes arrive and
    before it stores them, so only a dead or stuck worker's claim grows this old.
    """
    return timedelta(seconds=CLAIM_STALE)


def _clear_leftovers(generation: Generation) -> None:
    """Remove temporary files a dead attempt at this generation's copy left behind.

    Only files nobody has written to for `CLAIM_STALE` seconds: a live download writes all
    the time, so another process's work in progress is never touched.
    """
    cutoff = time.time() - CLAIM_STALE
    for leftover in Path(settings.DOWNLOADS_DIR).glob(f"{temp_prefix(generation)}*"):
        with contextlib.suppress(FileNotFoundError):
            if leftover.stat().st_mtime < cutoff:
                if leftover.is_dir():  # a sequence's unpacked frames
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)


def temp_prefix(generation: Generation) -> str:
    return f"takes-gen{generation.pk}-"


def copy_outputs(*, generation_id: int) -> None:
    """Stream each output into our storage once, then finish the generation and settle its credits.

    One worker at a time: the copy claims the row first (a second job for it returns at
    once), counts the attempt as it starts (an attempt killed mid-way counts too), keeps
    to `COPY_DEADLINE`, below the queue's job timeout, and removes its temporary files
    on every path — and a dead attempt's on the next one.
    """
    generation = Generation.objects.select_related("project").filter(pk=generation_id).first()
    if generation is None or generation.status != Status.COPYING:
        return
    token = generation.claim(Status.COPYING, stale_after=claim_stale_after())
    if token is None:
        return  # another worker is copying it
    finished = False
    try:
        _clear_leftovers(generation)
        if generation.step_errors > COPY_ATTEMPTS:
            _copy_problem(generation, f"{COPY_ATTEMPTS} attempts did not finish", transient=False)
            return
        finished = _copy(generation, token, deadline=time.monotonic() + settings.COPY_DEADLINE)
    finally:
        if not finished:  # a finished copy let the claim go in the statement that finished it
            generation.release_claim(token)


def _copy(generation: Generation, token: str, *, deadline: float) -> bool:
    """Copy what is left to copy; True once the generation is finished (and its claim let go)."""
    # Never more files than the model can make, whatever the reply lists.
    try:
        most = catalog.max_outputs(generation.spec, generation.params)
    except catalog.CatalogError:
        most = 1
    urls = list((generation.task_json or {}).get("output") or [])[:most]
    done = set(generation.outputs.values_list("index", flat=True))
    refreshed = False
    index = 0
    while index < len(urls):
        if index in done:
            index += 1
            continue
        try:
            path = downloads.fetch_to_temp(urls[index], max_bytes=MAX_OUTPUT_BYTES, deadline_seconds=max(1.0, deadline - time.monotonic()),
                                           directory=str(settings.DOWNLOADS_DIR), prefix=temp_prefix(generation),
                                           alive=lambda: generation.renew_claim(token), alive_every=CLAIM_RENEW)
        except downloads.DownloadError as error:
            if error.expired and not refreshed:
                refreshed = True
                try:
                    state = runway.retrieve_task(generation.runway_task_id)
                except runway.RunwayError as exc:
                    _copy_problem(generation, f"Could not refresh the output links: {exc.message}", transient=True)
                    return False
                urls = list(state.output)[:most] or urls
                Generation.objects.filter(pk=generation.pk).update(task_json=state.raw)
                continue
            _copy_problem(generation, str(error), transient=error.transient)
            return False
        try:
            generation.renew_claim(token)
            _store_output(generation, index, path, token=token, deadline=deadline)
        except media.MediaError as error:
            _copy_problem(generation, f"Runway's output is not usable media: {error}", transient=False)
            return False
        finally:
            path.unlink(missing_ok=True)
        index += 1
    return finish(generation, Status.COPYING, Status.SUCCEEDED, next_poll_at=None, progress=1.0, claim_token="",
                  claimed_at=None)


def _copy_problem(generation: Generation, message: str, *, transient: bool) -> None:
    attempts = generation.step_errors  # this attempt was counted when it claimed the row
    if transient and attempts < COPY_ATTEMPTS:
        Generation.objects.filter(pk=generation.pk, status=Status.COPYING).update(
            next_poll_at=timezone.now() + backoff(attempts), attention_reason=message[:300]
        )
        return
    # Runway made (and billed) the output, but we could not keep it: the settlement charges it,
    # since Runway's own outcome (in task_json) is SUCCEEDED.
    fail(generation, Status.COPYING, message=f"The result could not be saved: {message}", code="COPY.FAILED",
         raw=message)
