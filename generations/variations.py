"""Variations: one submission that fans out into several generations, held all or nothing.

A person asks for N seeds of the same settings (1–8), or a small grid over chosen settings
(two ratios × three prompts), or several models side by side, or a mix; every combination is
checked as its own generation would be, priced, and then all of them are held in one step and
created in one bulk insert, or none is. The group is started by one job, and the poller would
start any generation it left (a QUEUED row whose time has come is work whose job was lost).
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from credits import ledger
from runway import catalog
from runway.catalog.data import SEED_MAX

from . import cancel, jobs, quotes
from .models import Generation, GenerationGroup, Status
from .submit import InputDeleted, SubmissionError, deleted_inputs, load_inputs, not_ours

MAX_SEEDS = 8
MAX_VARIATIONS = 50
MAX_GRID_FIELDS = 2


@dataclass(frozen=True)
class Variant:
    """One generation of a group: its model, its settings and what makes it differ."""

    model: catalog.Model
    params: dict[str, Any]
    label: str


def _seeds(count: int, start: Any) -> list[int]:
    """`count` different seeds: from the one given, else drawn at random."""
    if isinstance(start, int) and not isinstance(start, bool):
        return [(start + i) % (SEED_MAX + 1) for i in range(count)]
    chosen: set[int] = set()
    while len(chosen) < count:
        chosen.add(secrets.randbelow(SEED_MAX + 1))
    return sorted(chosen)


def variants(*, endpoint: str, model: str, params: Mapping[str, Any], seeds: int = 0,
             grid: Mapping[str, Sequence[Any]] | None = None, models: Sequence[str] = ()) -> list[Variant]:
    """Every combination asked for, in order: models, then the grid's values, then seeds.

    `grid` maps a setting to the values it takes (typed, as `catalog.clean_params` gives them);
    `models` are other models of the same endpoint to run side by side with `model`.
    """
    grid = dict(grid or {})
    try:
        chosen = [catalog.get_model(endpoint, m) for m in dict.fromkeys([model, *models])]
    except catalog.CatalogError as exc:
        raise SubmissionError(str(exc)) from exc
    if not 0 <= seeds <= MAX_SEEDS:
        raise SubmissionError({"seeds": [f"Choose between 1 and {MAX_SEEDS} seeds."]})
    if len(grid) > MAX_GRID_FIELDS:
        raise SubmissionError(f"Vary at most {MAX_GRID_FIELDS} settings at once.")
    for name, values in grid.items():
        if not values or len(set(map(repr, values))) != len(values):
            raise SubmissionError({name: ["Give each value to try once."]})
    total = len(chosen) * math.prod(len(v) for v in grid.values()) * max(1, seeds)
    if total > MAX_VARIATIONS:
        raise SubmissionError(f"That makes {total} generations; at most {MAX_VARIATIONS} are made at once.")
    if total < 2:
        raise SubmissionError("Variations need at least two generations: more seeds, values or models.")
    found: list[Variant] = []
    for spec in chosen:
        if seeds and "seed" not in spec.field_names:
            raise SubmissionError({"seeds": [f"{spec.label} takes no seed, so it can't vary by seed."]})
        own, settings = _fitted(spec, params, first=spec is chosen[0])
        for values in itertools.product(*grid.values()):
            combo = dict(zip(grid, values, strict=True))
            base = {k: v for k, v in {**settings, **combo}.items() if k in spec.field_names}
            for seed in _seeds(seeds, params.get("seed")) if seeds else [None]:
                mine = base if seed is None else {**base, "seed": seed}
                parts = ([spec.label] if len(chosen) > 1 else []) + [f"{k} {v}" for k, v in combo.items()]
                parts += [f"seed {seed}"] if seed is not None else []
                parts += [f"its own {name.replace('_', ' ')}" for name in own if name not in combo]
                found.append(Variant(spec, mine, ", ".join(parts)))
    return found


def _fitted(spec: catalog.Model, params: Mapping[str, Any], *, first: bool) -> tuple[list[str], dict[str, Any]]:
    """The settings as a model beside the first takes them: a choice it doesn't offer (Gemini has
    no 1920:1080) becomes its own default, and is named; anything else is checked as given."""
    if first:
        return [], dict(params)
    own, fitted = [], {}
    for name, value in params.items():
        if name not in spec.field_names:
            continue
        f = spec.field(name)
        if f.kind == "choice" and value not in f.choice_values and not f.is_custom(value):
            own.append(name)
            if f.default is not None:
                fitted[name] = f.default
            continue
        fitted[name] = value
    return own, fitted


def _checked(project, found: list[Variant]) -> dict[str, Any]:
    """The inputs of the variants (loaded once per model) or SubmissionError naming the variant."""
    facts_by_model: dict[str, tuple[dict[str, Any], list]] = {}
    for variant in found:
        key = variant.model.id
        if key not in facts_by_model:
            facts_by_model[key] = load_inputs(project=project, model=variant.model, params=variant.params)
        facts = facts_by_model[key][0]
        errors = catalog.validate(variant.model, variant.params, facts) or not_ours(
            project=project, model=variant.model, params=variant.params)
        if errors:
            message = " ".join(m for msgs in errors.values() for m in msgs)
            raise SubmissionError(f"Variation “{variant.label}”: {message}")
    return facts_by_model


def submit_variations(*, project, user, endpoint: str, model: str, params: Mapping[str, Any], seeds: int = 0,
                      grid: Mapping[str, Sequence[Any]] | None = None, models: Sequence[str] = (),
                      retry_of: Sequence[Generation] = ()) -> GenerationGroup:
    """Check, price and hold every variation, then create them all — or refuse the whole."""
    if not user.is_active:
        raise SubmissionError("Your account is deactivated; you cannot start new generations.")
    found = variants(endpoint=endpoint, model=model, params=params, seeds=seeds, grid=grid, models=models)
    return _submit(project=project, user=user, endpoint=endpoint, found=found,
                   axes={**({"seed": seeds} if seeds else {}), **{k: list(v) for k, v in (grid or {}).items()},
                         **({"model": list(dict.fromkeys([model, *models]))} if models else {})},
                   retry_of=retry_of)


def _submit(*, project, user, endpoint: str, found: list[Variant], axes: dict, retry_of: Sequence[Generation] = ()
            ) -> GenerationGroup:
    facts_by_model = _checked(project, found)
    estimates = [quotes.estimate(project=project, model=v.model, params=v.params,
                                 facts=facts_by_model[v.model.id][0]) for v in found]
    for spec_id in {v.model.id for v in found if not v.model.routed}:
        left = quotes.remaining_daily_generations(spec_id)
        wanted = sum(1 for v in found if v.model.id == spec_id)
        if left is not None and left < wanted:
            raise SubmissionError(f"Runway's daily limit leaves {left} generations of {spec_id} today; "
                                  f"these variations need {wanted}.")
    now = timezone.now()
    with transaction.atomic():
        for variant in {v.model.id: v for v in found}.values():
            gone = deleted_inputs(project=project, model=variant.model, params=variant.params, lock=True)
            if gone:
                raise InputDeleted(gone)
        group = GenerationGroup.objects.create(project=project, created_by=user, endpoint=endpoint, axes=axes,
                                               size=len(found))
        rows = Generation.objects.bulk_create([
            Generation(project=project, created_by=user, endpoint=endpoint, model=v.model.id, params=v.params,
                       prompt=str(v.params.get("prompt_text") or ""), estimated_credits=estimate, group=group,
                       retry_of=retry_of[i] if retry_of else None, next_poll_at=now, created_at=now)
            for i, (v, estimate) in enumerate(zip(found, estimates, strict=True))])
        links = [Generation.inputs.through(generation_id=row.pk, asset_id=asset.pk)
                 for row, v in zip(rows, found, strict=True) for asset in dict.fromkeys(facts_by_model[v.model.id][1])]
        Generation.inputs.through.objects.bulk_create(links)
        try:
            ledger.place_holds(generations=rows)
        except ledger.InsufficientCredits as exc:
            raise SubmissionError(f"{exc} (for all {len(rows)} variations)") from exc
        jobs.enqueue("generations.tasks.start_group", group.pk)
    return group


def start_group(*, group_id: int) -> int:
    """Queue the run of every generation of the group still waiting; how many were queued."""
    waiting = list(Generation.objects.filter(group_id=group_id, status=Status.QUEUED, next_poll_at__isnull=False)
                   .values_list("pk", flat=True))
    for pk in waiting:
        # As the poller's resume does: the row is touched so the next sweep does not queue it again.
        if Generation.objects.filter(pk=pk, status=Status.QUEUED, next_poll_at__isnull=False).update(
                next_poll_at=None, updated_at=timezone.now()):
            jobs.enqueue("generations.tasks.run_generation", pk)
    return len(waiting)


def cancel_group(*, group: GenerationGroup) -> int:
    """Cancel every generation of the group still in flight; how many this call cancelled."""
    cancelled = 0
    for generation in group.generations.in_flight().order_by("pk"):
        try:
            cancelled += cancel.cancel_generation(generation=generation)
        except SubmissionError:
            continue  # one being submitted right now or flagged for ops keeps going; the rest stop
    return cancelled


def retry_group(*, group: GenerationGroup, user) -> GenerationGroup:
    """Submit the group's failed and cancelled generations again together, as a new group."""
    again = [g for g in group.generations.order_by("pk") if g.can_retry]
    if not again:
        raise SubmissionError("None of these variations failed or was cancelled; there is nothing to retry.")
    found = [Variant(g.spec, g.params, f"#{g.pk}") for g in again]
    return _submit(project=group.project, user=user, endpoint=group.endpoint, found=found, axes=group.axes,
                   retry_of=again)


# --- the form's variation settings ------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What the generation form asks to vary (`requested` reads it)."""

    seeds: int
    grid: dict[str, list[Any]]
    models: list[str]


def varying_fields(model: catalog.Model) -> list[catalog.Field]:
    """The settings a grid may vary: the prompt, and each choice the model offers."""
    return [f for f in model.fields if (f.kind == "choice" and f.choice_values and not f.library)
            or f.name == "prompt_text"]


def requested(data, model: catalog.Model) -> Asked | None:
    """The variations the form asks for, or None for a single generation; SubmissionError for bad input."""
    raw_seeds = (data.get("variation_seeds") or "").strip()
    field_name = (data.get("vary_field") or "").strip()
    raw_values = data.get("vary_values") or ""
    others = [m for m in data.getlist("variation_models") if m and m != model.id] if hasattr(data, "getlist") else []
    if not raw_seeds and not field_name and not others:
        return None
    try:
        seeds = int(raw_seeds) if raw_seeds else 0
    except ValueError:
        raise SubmissionError({"__all__": ["Seeds: enter a whole number from 1 to 8."]}) from None
    grid: dict[str, list[Any]] = {}
    if field_name:
        field = next((f for f in varying_fields(model) if f.name == field_name), None)
        if field is None:
            raise SubmissionError({"__all__": [f"{model.label} can't vary {field_name!r}."]})
        parts = [p.strip() for p in raw_values.splitlines() if p.strip()] if field.kind == "text" \
            else [p.strip() for p in raw_values.replace("\n", ",").split(",") if p.strip()]
        if not parts:
            raise SubmissionError({"__all__": [f"Give the values of {field.label.lower()} to try, one per line."]})
        grid[field_name] = [catalog.clean_params(model, {field_name: p})[0].get(field_name, p) for p in parts]
    if seeds == 1:
        seeds = 0  # one seed is no variation of its own
    return Asked(seeds=seeds, grid=grid, models=others)


def total_estimate(*, project, endpoint: str, model: str, params: Mapping[str, Any], asked: Asked) -> tuple[int, int]:
    """(how many generations, the credits held for all of them) for the form's variations."""
    found = variants(endpoint=endpoint, model=model, params=params, seeds=asked.seeds, grid=asked.grid,
                     models=asked.models)
    facts = {}
    total = 0
    for v in found:
        if v.model.id not in facts:
            facts[v.model.id] = load_inputs(project=project, model=v.model, params=v.params)[0]
        total += quotes.estimate(project=project, model=v.model, params=v.params, facts=facts[v.model.id])
    return len(found), total
