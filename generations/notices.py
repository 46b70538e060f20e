"""What the person who started a generation is told when it ends (notifications, written once).

A generation of its own is told on when it is done or failed; a group of variations is told
on once, when its last generation ends. A cancel is the person's own doing and tells nothing.
The note is written in the transaction that ends the generation, and `sweep` writes any that a
crash kept from being written (the unique key makes a second write of the same one a no-op).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from notifications.models import Event, Notification
from notifications.record import Note, notify

from .models import Generation, GenerationGroup, Status

TOLD = {Status.SUCCEEDED: Event.SUCCEEDED, Status.FAILED: Event.FAILED}
SWEEP_WINDOW = timedelta(days=2)


def _of_generation(generation: Generation) -> Note:
    what = generation.display_label
    if generation.prompt:
        prompt = generation.prompt if len(generation.prompt) <= 80 else generation.prompt[:79] + "…"
        what = f"“{prompt}” ({what})"
    text = (f"{what} is done" if generation.status == Status.SUCCEEDED
            else f"{what} failed: {generation.failure_message}")
    return Note(generation.created_by_id, generation.project_id, TOLD[generation.status], generation.pk, text,
                reverse("generations:detail", args=[generation.project.slug, generation.pk]))


def _of_group(group: GenerationGroup) -> Note | None:
    statuses = list(group.generations.values_list("status", flat=True))
    if not statuses or any(s not in (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED) for s in statuses):
        return None
    done, failed = statuses.count(Status.SUCCEEDED), statuses.count(Status.FAILED)
    if not done and not failed:
        return None  # every one cancelled: the person did it
    first = group.generations.order_by("pk").first()
    text = f"{group.size} variations finished: {done} done" + (f", {failed} failed" if failed else "")
    return Note(group.created_by_id, group.project_id, Event.GROUP_FINISHED, group.pk, text,
                reverse("generations:detail", args=[group.project.slug, first.pk]))


def finished(generation: Generation) -> None:
    """Tell the person a generation (or its group) has ended; called as it ends."""
    if generation.group_id:
        note = _of_group(generation.group)
        notes = [note] if note else []
    else:
        notes = [_of_generation(generation)] if generation.status in TOLD else []
    notify(notes)


def sweep(*, now=None) -> int:
    """Write the notes a crash kept from being written, for generations that ended lately; how many."""
    now = now or timezone.now()
    since = now - SWEEP_WINDOW
    told = Notification.objects.filter(user_id=OuterRef("created_by_id"), subject_id=OuterRef("pk"))
    alone = (Generation.objects.filter(group__isnull=True, status__in=list(TOLD), finished_at__gte=since)
             .annotate(told=Exists(told.filter(event__in=list(TOLD.values())))).filter(told=False)
             .select_related("project"))
    notes = [_of_generation(g) for g in alone]
    groups = (GenerationGroup.objects.filter(generations__finished_at__gte=since).distinct()
              .annotate(told=Exists(told.filter(event=Event.GROUP_FINISHED))).filter(told=False)
              .select_related("project"))
    notes += [n for g in groups if (n := _of_group(g))]
    notify(notes)
    return len(notes)
