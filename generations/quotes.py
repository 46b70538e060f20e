"""What a generation would cost and whether it would be accepted, before anyone submits it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assets.models import Asset
from core.params import parse_id
from credits import ledger, organization
from library import choices
from runway import catalog

from .models import Generation


@dataclass
class Quote:
    """The figures the generation form shows beside its submit button."""

    model: catalog.Model
    credits: int
    balance: int
    budget_left: int | None
    daily_left: int | None
    org_balance: int | None
    problems: list[str] = field(default_factory=list)
    #: What is wrong with the settings as typed; while any is, there is no price to show.
    invalid: list[str] = field(default_factory=list)

    @property
    def balance_after(self) -> int:
        return self.balance - self.credits

    @property
    def budget_after(self) -> int | None:
        return None if self.budget_left is None else self.budget_left - self.credits

    @property
    def refused(self) -> bool:
        return bool(self.problems)


def _facts(project, model: catalog.Model, params: Mapping[str, Any]) -> dict[str, Any]:
    # Durations of chosen assets price some models; only this project's assets count.
    facts: dict[str, Any] = {}
    for f in model.fields:
        if f.kind not in ("asset", "assets") or f.name not in params:
            continue
        raw = params[f.name] if isinstance(params[f.name], list) else [params[f.name]]
        ids = [i for v in raw if (i := parse_id(v)) is not None]
        assets = {a.pk: a for a in Asset.objects.in_project(project).filter(pk__in=ids)}
        found = [catalog.MediaFacts(a.kind, a.width, a.height, a.duration) for i in ids if (a := assets.get(i))]
        facts[f.name] = found if f.kind == "assets" else (found[0] if found else None)
    return facts


def estimate(*, project, model: catalog.Model, params: Mapping[str, Any], facts: Mapping[str, Any]) -> int:
    """The credits to hold for these settings; for a routed request, at most its router's cap per output."""
    credits = catalog.estimate_credits(model, params, facts)
    if model.routed:
        cap = choices.credit_cap(project, params.get("config_id"), catalog.get_endpoint(model.endpoint).output_kind)
        if cap is not None:
            credits = min(credits, cap * catalog.max_outputs(model, params))
    return credits


def quote_generation(*, user, project, endpoint: str, model: str, raw: Mapping[str, Any]) -> Quote:
    """Price a generation from form input (defaults fill the gaps) and say what would refuse it.

    Raises catalog.UnknownModel for an endpoint or model the catalog doesn't know.
    """
    spec = catalog.get_model(endpoint, model)
    params, errors = catalog.clean_params(spec, raw)
    facts = _facts(project, spec, params)
    credits = estimate(project=project, model=spec, params=params, facts=facts)
    account = ledger.account_for(user)
    budget = ledger.budget_for(project)
    snapshot = organization.latest_snapshot()
    quote = Quote(
        model=spec,
        credits=credits,
        balance=account.balance,
        budget_left=budget.balance if budget else None,
        daily_left=None if spec.routed else remaining_daily_generations(spec.id),
        org_balance=snapshot.credit_balance if snapshot else None,
        invalid=_invalid_settings(spec, params, errors, facts),
    )
    unit = "credit" if credits == 1 else "credits"
    if credits > account.balance:
        quote.problems.append(f"This needs {credits} {unit}; you have {account.balance} left.")
    if budget is not None and credits > budget.balance:
        quote.problems.append(
            f"This needs {credits} {unit}; the project “{project}” has {budget.balance} left of its budget."
        )
    if quote.daily_left == 0:
        quote.problems.append(
            f"Runway's daily limit for {spec.label} is used up; it frees up over the next 24 hours."
        )
    if quote.org_balance is not None and credits > quote.org_balance:
        quote.problems.append(
            f"The organization has {quote.org_balance} Runway credits left; this needs {credits}. "
            "Ask ops to top up."
        )
    return quote


def _invalid_settings(spec: catalog.Model, params: Mapping[str, Any], errors: Mapping[str, list[str]],
                      facts: Mapping[str, Any]) -> list[str]:
    """The messages of settings given but wrong (a 99 s duration), in field order.

    A half-filled form still gets a price: a required field left empty, or a rule between fields
    that more typing may satisfy, is for the submit to say.
    """
    found = {**errors}
    for name, messages in catalog.validate(spec, params, facts).items():
        if name in params:
            found.setdefault(name, messages)
    return [message for f in spec.fields for message in found.get(f.name, [])]


def remaining_daily_generations(model: str) -> int | None:
    """Generations of `model` left today by the latest snapshot, less ours submitted since; None if unknown."""
    snapshot = organization.latest_snapshot()
    if snapshot is None:
        return None
    left = snapshot.remaining_daily(model)
    if left is None:
        return None
    # The snapshot ages between syncs; our own submissions since then count too.
    since = Generation.objects.filter(model=model, submitted_at__gt=snapshot.taken_at).count()
    return max(0, left - since)
