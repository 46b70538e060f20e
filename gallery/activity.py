"""Comments on outputs, and a project's activity: who generated, commented, shared, deleted, invited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.urls import reverse

from audit.log import record
from audit.models import AuditEntry
from generations.models import Generation, Output

from .models import Comment, ShareLink

EACH = 200  # the newest events of each kind the feed merges

#: How an audited action reads in the feed ("Ada" + this).
SAID = {
    "output.trash": "moved outputs to the trash", "output.restore": "restored outputs from the trash",
    "comment.create": "commented", "comment.delete": "deleted a comment",
    "board.create": "made a board", "board.share": "shared a board", "board.unshare": "stopped sharing a board",
    "board.add": "added outputs to a board", "board.delete": "deleted a board",
    "preset.create": "saved a preset", "preset.delete": "deleted a preset",
    "voice.create": "designed a voice", "avatar.create": "made an avatar", "router.create": "made a router configuration",
}


def add_comment(*, output: Output, user, text: str) -> Comment:
    with transaction.atomic():
        comment = Comment.objects.create(output=output, author=user, text=text)
        record(actor=user, action="comment.create", obj=comment, project=output.project_id,
               after={"output": output.pk, "text": text[:200]})
    return comment


def delete_comment(*, comment: Comment, user) -> None:
    with transaction.atomic():
        record(actor=user, action="comment.delete", obj=comment, project=comment.output.project_id,
               before={"output": comment.output_id, "text": comment.text[:200]})
        comment.delete()


@dataclass(frozen=True)
class Event:
    when: datetime
    who: str
    what: str
    url: str = ""


def _name(user) -> str:
    return user.display_name if user else "Someone no longer here"


def events(project) -> list[Event]:
    """The project's newest events, newest first: generations, share links and audited actions."""
    found = [Event(g.created_at, _name(g.created_by), f"generated {g.display_label}", g.get_absolute_url())
             for g in Generation.objects.in_project(project).select_related("created_by", "project")
             .order_by("-created_at")[:EACH]]
    found += [Event(s.created_at, _name(s.created_by), "shared an output",
                    reverse("gallery:output", args=[project.slug, s.output_id]))
              for s in ShareLink.objects.filter(output__project=project).select_related("created_by")
              .order_by("-created_at")[:EACH]]
    audited = AuditEntry.objects.filter(project_id=project.pk).select_related("actor").order_by("-created_at")[:EACH]
    found += [Event(e.created_at, _name(e.actor), SAID.get(e.action) or _plain(e.action)) for e in audited]
    return sorted(found, key=lambda e: e.when, reverse=True)


def _plain(action: str) -> str:
    """`invitation.create` → "invitation: create", for an action without its own wording."""
    thing, _, verb = action.partition(".")
    return f"{thing.replace('_', ' ')}: {verb.replace('_', ' ')}"
