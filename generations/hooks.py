"""What a project's webhooks are told when a generation ends: one event, written with the move.

Called by `outcome.settle_ended` (every ending: `outcome.finish` and the cancels), inside the
transaction that ends the generation, so the event commits with it (the outbox in `webhooks`).
A success is told only once the outputs are kept in our storage (`copy` finishes a generation
only then), and names Takes' own URLs for them, never Runway's. The payload is built only when
some endpoint of the project wants the event.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from webhooks.models import EventType
from webhooks.outbox import emit

from .models import Generation, Status

TYPES = {Status.SUCCEEDED: EventType.GENERATION_SUCCEEDED, Status.FAILED: EventType.GENERATION_FAILED,
         Status.CANCELLED: EventType.GENERATION_CANCELLED}


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def payload(generation: Generation, charged: int | None) -> dict:
    """The generation as a receiver sees it: ids, model, status, credits and its kept outputs."""
    slug = generation.project.slug
    outputs = [{"id": o.pk, "index": o.index, "kind": o.kind, "content_type": o.content_type, "size": o.size,
                "url": _absolute(reverse("generations:output_file", args=[slug, o.pk]))}
               for o in generation.outputs.order_by("index")] if generation.status == Status.SUCCEEDED else []
    return {
        "generation": {
            "id": generation.pk, "project": slug, "endpoint": generation.endpoint, "model": generation.model,
            "status": generation.status, "credits": charged, "estimated_credits": generation.estimated_credits,
            "failure": ({"code": generation.failure_code, "message": generation.failure_message}
                        if generation.status == Status.FAILED else None),
            "created_at": generation.created_at.isoformat(),
            "finished_at": generation.finished_at.isoformat() if generation.finished_at else None,
            "url": _absolute(reverse("generations:detail", args=[slug, generation.pk])),
            "outputs": outputs,
        },
    }


def finished(generation: Generation, *, charged: int | None) -> None:
    """Tell the project's webhooks that a generation ended (written in the transaction that ends it)."""
    kind = TYPES.get(generation.status)
    if kind is not None:
        emit(project_id=generation.project_id, type=kind, payload=lambda: payload(generation, charged),
             key=f"generation:{generation.pk}:{generation.status}")
