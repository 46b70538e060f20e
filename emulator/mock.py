"""Contract-test mode (``--mock-unknown-ids``): objects fabricated for ids the emulator does not know.

Stainless's mock server answers any id with an example object of the right shape, and an SDK's
generated test suite relies on that (``client.voices.retrieve("182bd5e5-...")``). In this mode an
unknown id of a task, voice, avatar, router or router config (and an unknown upload inside a
request) resolves the same way instead of answering 404. A fabricated object is derived from its id
alone, so every call agrees, and nothing is stored: updating one answers the change, deleting one
answers 204. Voices and avatars are READY, tasks SUCCEEDED with a real output file, routers carry the
default settings. Known objects are served as they are, and validation applies as always.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from . import models, pricing, resources
from .records import Records
from .state import Record, Task

EPOCH = 1730851200.0  # 2024-11-06T00:00:00Z, the API version's date: when fabricated objects were made
TASK_MODEL = ("text_to_image", "gen4_image", {"ratio": "1024:1024"})


def derived_id(*parts: str) -> str:
    """A UUID that always follows from the same parts."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "runway-emulator/mock/" + "/".join(parts)))


def _voice(record_id: str) -> dict[str, Any]:
    prompt = f"A calm, clear voice for mock voice {record_id}"
    return {"name": f"Voice {record_id[:8]}", "description": None,
            "from": {"type": "text", "model": "eleven_ttv_v3", "prompt": prompt}, "timbre": prompt}


def _avatar(record_id: str) -> dict[str, Any]:
    return {"name": f"Avatar {record_id[:8]}", "personality": "A helpful assistant.", "startScript": None,
            "documentIds": [], "imageProcessing": "optimize", "image": "",
            "voice": {"type": "runway-live-preset", "presetId": resources.DEFAULT_LIVE_VOICE}}


def _router(record_id: str) -> dict[str, Any]:
    return {"slug": "mock-router", "name": "mock-router", "description": None, "version": 1,
            "settings": resources.router_settings(None), "mock": True}


FABRICATORS = {"voice": _voice, "avatar": _avatar, "router": _router}


def fabricate(kind: str, record_id: str) -> Record:
    """A READY voice or avatar, or a router with default settings, for an unknown id."""
    return Record(kind=kind, id=record_id, seq=0, created_at=EPOCH, updated_at=EPOCH,
                  fields=FABRICATORS[kind](record_id), ready_at=EPOCH)


def lookup(records: Records, kind: str, record_id: str, mock: bool) -> Record | None:
    """A live record, else (in mock mode) a fabricated one, else None."""
    found = records.get(kind, record_id)
    if found is None and mock:
        return fabricate(kind, record_id)
    return found


def is_fabricated(record: Record) -> bool:
    """Whether a record was made up for an unknown id (and so is not stored)."""
    return record.seq == 0


def router_for_slug(slug: str) -> Record:
    """The router an unknown ``configId`` stands for: default settings, under that slug."""
    record = fabricate("router", derived_id("router", slug))
    record.fields["slug"] = record.fields["name"] = slug
    return record


def router_request(router: Record) -> Record:
    """One routed request in a fabricated router's history (its task is fabricated too)."""
    model = TASK_MODEL[1]
    task_id = derived_id("task", router.id)
    filters = [{"type": "filter", "filter": name, "models": [model]}
               for name in ("capability", "prompt_length", "input_support", "allow_deny", "price")]
    fields = {"routerId": router.id, "emptiedBy": [], "estimatedCredits": task(task_id).estimate, "model": model,
              "provider": "runway", "pipeline": [*filters, {"type": "rank", "outcome": "single_candidate"}],
              "reason": f"{model} was the only eligible model.", "reasonCode": "only_eligible_model",
              "requestId": derived_id("request-id", router.id), "status": "routed", "taskId": task_id}
    return Record(kind="router_request", id=derived_id("request", router.id), seq=0, created_at=EPOCH,
                  updated_at=EPOCH, fields=fields, ready_at=EPOCH)


def task(task_id: str) -> Task:
    """A SUCCEEDED image task for an unknown id; its output renders like any other."""
    endpoint, model, body = TASK_MODEL
    body = {**body, "promptText": f"mock task {task_id}"}
    estimate = pricing.price(endpoint, model, body, {})
    plan = models.plan_output(endpoint, model, body)
    return Task(id=task_id, endpoint=endpoint, model=model, created_at=EPOCH, estimate=estimate, plan=asdict(plan),
                body=body, status="SUCCEEDED", finished_at=EPOCH, cost=estimate, seeded=True)
