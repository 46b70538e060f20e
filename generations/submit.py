"""Submitting a generation: validate it, hold its estimated credits, create the row, queue its job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from assets.models import Asset
from core.params import parse_ids
from credits import ledger
from library import choices
from runway import catalog

from . import jobs, quotes
from .models import Generation


class SubmissionError(Exception):
    """A generation that cannot be submitted (or changed); `errors` maps form fields to messages.

    `status` is the HTTP status a view answers with: 400 for input that can't be used.
    """

    status = 400

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        self.errors = errors
        super().__init__(" ".join(m for msgs in errors.values() for m in msgs))


class InputDeleted(SubmissionError):
    """An input was deleted between the form and the write: a conflict with that deletion (409)."""

    status = 409


INPUT_DELETED = "That input was deleted while you submitted; choose another."


def _asset_fields(model: catalog.Model) -> list[catalog.Field]:
    return [f for f in model.fields if f.kind in ("asset", "assets")]


def load_inputs(*, project, model: catalog.Model, params: dict[str, Any]) -> tuple[dict[str, Any], list[Asset]]:
    """The project's assets named in `params`, as catalog facts; SubmissionError for any that aren't there."""
    facts: dict[str, Any] = {}
    assets: list[Asset] = []
    errors: dict[str, list[str]] = {}
    for f in _asset_fields(model):
        value = params.get(f.name)
        if value in (None, "", []):
            continue
        ids = parse_ids(value if isinstance(value, list) else [value])
        found = {a.pk: a for a in Asset.objects.in_project(project).filter(pk__in=ids or [])}
        if ids is None or len(found) != len(set(ids)):
            errors[f.name] = ["That input is not in this project (it may have been deleted)."]
            continue
        items = [found[i] for i in ids]
        assets.extend(items)
        item_facts = [catalog.MediaFacts(kind=a.kind, width=a.width, height=a.height, duration=a.duration)
                      for a in items]
        facts[f.name] = item_facts if isinstance(value, list) else item_facts[0]
    if errors:
        raise SubmissionError(errors)
    return facts, assets


def deleted_inputs(*, project, model: catalog.Model, params: dict[str, Any], lock: bool) -> dict[str, list[str]]:
    """An error for each asset field of `params` naming an asset that is gone; `lock` locks those still there."""
    named = {f.name: parse_ids(v if isinstance(v, list) else [v]) or []
             for f in _asset_fields(model) if (v := params.get(f.name)) not in (None, "", [])}
    wanted = sorted({pk for ids in named.values() for pk in ids})
    if not wanted:
        return {}
    rows = Asset.objects.in_project(project).filter(pk__in=wanted).order_by("pk")
    if lock:
        # One lock order (by id) for every submission; a deletion locks its asset the same way.
        rows = rows.select_for_update()
    present = set(rows.values_list("pk", flat=True))
    return {name: [INPUT_DELETED] for name, ids in named.items() if not set(ids) <= present}


NOT_OURS = {"voice": "That voice is not one of this project's ready voices (it may have been deleted).",
            "avatar": "That avatar is not one of this project's ready avatars (it may have been deleted).",
            "router": "That router configuration is not in this project (it may have been deleted)."}


def not_ours(*, project, model: catalog.Model, params: dict[str, Any]) -> dict[str, list[str]]:
    """An error for each voice, avatar or router named that is not the project's own and usable."""
    return {f.name: [NOT_OURS[f.library]] for f in model.fields
            if f.library and f.is_custom(params.get(f.name))
            and not choices.is_usable(project, f.library, params[f.name])}


def submit_generation(*, project, user, endpoint: str, model: str, params: dict[str, Any],
                      retry_of: Generation | None = None,
                      on_change: Callable[[Generation], None] | None = None,
                      api_token=None, api_id=None) -> Generation:
    """Validate, hold the estimated credits, create the row and queue the job — all or nothing.

    A script's submission through Takes' API names its token (`api_token`, held to the token's
    credit limit too) and the task id the API answers with (`api_id`).
    """
    if not user.is_active:
        raise SubmissionError("Your account is deactivated; you cannot start new generations.")
    try:
        spec = catalog.get_model(endpoint, model)
    except catalog.CatalogError as exc:
        raise SubmissionError(str(exc)) from exc
    facts, assets = load_inputs(project=project, model=spec, params=params)
    errors = catalog.validate(spec, params, facts) or not_ours(project=project, model=spec, params=params)
    if errors:
        raise SubmissionError(errors)
    estimate = quotes.estimate(project=project, model=spec, params=params, facts=facts)
    if not spec.routed and quotes.remaining_daily_generations(model) == 0:
        raise SubmissionError(f"Runway's daily limit for {spec.label} is used up for the organization. "
                              "Try again later or choose another model.")
    with transaction.atomic():
        # The inputs were read before this transaction and one may have been deleted since.
        # Locked now, a deletion that comes later waits for this commit and then finds the
        # generation using them (assets.actions.delete_asset locks the asset first too). Once
        # locked, no input can go before this commits, so the inputs' foreign keys hold at commit.
        gone = deleted_inputs(project=project, model=spec, params=params, lock=True)
        if gone:
            raise InputDeleted(gone)
        generation = Generation.objects.create(
            project=project,
            created_by=user,
            endpoint=endpoint,
            model=model,
            params=params,
            prompt=str(params.get("prompt_text") or ""),
            estimated_credits=estimate,
            retry_of=retry_of,
            api_token=api_token,
            api_id=api_id,
        )
        generation.inputs.set(assets)
        try:
            ledger.place_hold(generation=generation)
        except ledger.InsufficientCredits as exc:
            raise SubmissionError(str(exc)) from exc
        jobs.enqueue("generations.tasks.run_generation", generation.pk)
        if on_change:
            on_change(generation)
    return generation


def retry_generation(*, generation: Generation, user,
                     on_change: Callable[[Generation], None] | None = None) -> Generation:
    """Submit the same settings again as a new generation (`on_change` gets the new one, in its transaction)."""
    if not generation.can_retry:
        if generation.failure_family == "safety":
            raise SubmissionError("This was rejected by content moderation; change the prompt or inputs instead.")
        raise SubmissionError("Only failed or cancelled generations can be retried.")
    # A routed one is routed again (Runway may choose another model).
    return submit_generation(project=generation.project, user=user, endpoint=generation.endpoint,
                             model=generation.form_model, params=generation.params, retry_of=generation,
                             on_change=on_change)
