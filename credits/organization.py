"""The organization mirror: what Runway says about our balance, limits and daily usage.

`runway.client` fetches; this module stores. The store functions take the
contract's JSON (CONTRACT §6.1, §6.2) so the mirror reads the same whether it
came from Runway, the emulator or a recorded response.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from runway import client

from .models import DailyUsage, Hold, Kind, LedgerEntry, OrgSnapshot, utc_today

USAGE_DAYS = 30


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def store_organization(data: dict[str, Any]) -> OrgSnapshot:
    """Record one `/v1/organization` response as a snapshot."""
    tier = data.get("tier") or {}
    usage = (data.get("usage") or {}).get("models") or {}
    limits = tier.get("models") or {}
    models_data = {}
    for name in sorted(set(limits) | set(usage)):
        values = limits.get(name) or {}
        models_data[name] = {
            # 5.20+ may send null for "unlimited"; stored as None.
            "max_concurrent": _int_or_none(values.get("maxConcurrentGenerations")),
            "max_daily": _int_or_none(values.get("maxDailyGenerations")),
            "daily": _int_or_none((usage.get(name) or {}).get("dailyGenerations")) or 0,
        }
    return OrgSnapshot.objects.create(
        credit_balance=int(data["creditBalance"]),
        max_monthly_credit_spend=_int_or_none(tier.get("maxMonthlyCreditSpend")),
        models_data=models_data,
    )


def store_usage(data: dict[str, Any], *, start: date, before: date) -> int:
    """Replace the stored usage for [start, before) with one `/v1/organization/usage` response; rows kept."""
    rows: dict[tuple[date, str], int] = {}
    for result in data.get("results") or []:
        day = date.fromisoformat(result["date"])
        if not start <= day < before:
            continue
        for used in result.get("usedCredits") or []:
            key = (day, used["model"])
            rows[key] = rows.get(key, 0) + int(used["amount"])
    now = timezone.now()
    with transaction.atomic():
        # A day Runway no longer reports for a model used nothing: stale rows go.
        DailyUsage.objects.between(start, before).delete()
        DailyUsage.objects.bulk_create(
            [DailyUsage(date=d, model=m, credits=c, synced_at=now) for (d, m), c in sorted(rows.items())]
        )
    return len(rows)


def sync_organization() -> OrgSnapshot:
    """Fetch `/v1/organization` now and store it as the latest snapshot."""
    return store_organization(client.retrieve_organization())


def sync_usage(*, start: date, before: date) -> int:
    """Fetch `/v1/organization/usage` for [start, before) and store it per day and model; rows kept."""
    return store_usage(client.retrieve_usage(start, before), start=start, before=before)


def sync_all() -> OrgSnapshot:
    """Snapshot the organization and refresh the last month's usage (today included)."""
    snapshot = sync_organization()
    today = utc_today()
    sync_usage(start=today - timedelta(days=USAGE_DAYS - 1), before=today + timedelta(days=1))
    return snapshot


def latest_snapshot() -> OrgSnapshot | None:
    return OrgSnapshot.objects.latest_one()


# --- reconciliation ---------------------------------------------------------------------------


def reconciliation(days: list[date]) -> list[dict]:
    """Per day and model: Runway's usage beside the ledger's settled credits, differences flagged.

    The ledger side counts each charge on the UTC day Runway created the task,
    because Runway (and the emulator) debits a task when it is created; a
    refund that lands after midnight is the only thing that can split a day.
    A difference is not flagged while Runway's copy is `stale`: synced before our
    last charge of that day and model, it cannot hold that charge yet.
    """
    if not days:
        return []
    start, before = min(days), max(days) + timedelta(days=1)
    usage = list(DailyUsage.objects.between(start, before))
    runway = {(u.date, u.model): u.credits for u in usage}
    synced = {(u.date, u.model): u.synced_at for u in usage}
    last_sync = max(synced.values(), default=None)  # a model Runway reports nothing for was synced then
    settled = LedgerEntry.objects.settled().between(start, before)
    ours: dict[tuple[date, str], dict[str, Any]] = {}
    for row in settled.order_by().values("usage_date", "model", "credits", "uncharged", "created_at"):
        slot = ours.setdefault((row["usage_date"], row["model"]),
                               {"charged": 0, "uncharged": 0, "count": 0, "last": None})
        slot["charged"] += row["credits"]
        slot["uncharged"] += row["uncharged"]
        slot["count"] += 1
        slot["last"] = max(filter(None, (slot["last"], row["created_at"])))
    rows = []
    for day in sorted(days, reverse=True):
        models = sorted({m for d, m in runway if d == day} | {m for d, m in ours if d == day})
        for model in models:
            mine = ours.get((day, model), {"charged": 0, "uncharged": 0, "count": 0, "last": None})
            reported = runway.get((day, model))
            # Runway's figure is what it billed; ours is what people were charged
            # plus what their balance could not cover.
            ledger_total = mine["charged"] + mine["uncharged"]
            difference = None if reported is None else reported - ledger_total
            copied = synced.get((day, model), last_sync)
            stale = mine["last"] is not None and (copied is None or copied < mine["last"])
            rows.append({
                "date": day, "model": model, "runway": reported, "ledger": mine["charged"],
                "uncharged": mine["uncharged"], "generations": mine["count"], "difference": difference,
                "stale": stale and difference != 0, "flagged": difference != 0 and not stale,
            })
    return rows


def _span(days: list[date]) -> tuple[date, date]:
    return min(days), max(days) + timedelta(days=1)


def task_differences(days: list[date]) -> list[dict]:
    """Charges whose credits (with what the balance could not cover) differ from the cost Runway
    reported for the task, or that have no reported cost; newest day first, each naming its generation.

    The ledger row holds the generation's id; the link is the ops page of that generation, by
    URL name (credits never imports the pipeline).
    """
    if not days:
        return []
    start, before = _span(days)
    rows = []
    settled = (LedgerEntry.objects.settled().between(start, before).filter(usage_date__in=days)
               .order_by("-usage_date", "model", "generation_id")
               .values("generation_id", "model", "usage_date", "credits", "uncharged", "cost"))
    for entry in settled:
        billed = entry["credits"] + entry["uncharged"]
        if entry["cost"] is not None and billed == entry["cost"]:
            continue
        generation = entry["generation_id"]
        rows.append({
            "generation": generation, "date": entry["usage_date"], "model": entry["model"],
            "charged": entry["credits"], "uncharged": entry["uncharged"], "billed": billed, "cost": entry["cost"],
            "difference": None if entry["cost"] is None else billed - entry["cost"],
            "gap": None if entry["cost"] is None else abs(billed - entry["cost"]),
            "url": reverse("admin:generations_generation_change", args=[generation]) if generation else "",
        })
    return rows


def _held_in_flight(start: date, before: date) -> dict[tuple[date, str], int]:
    """Credits held for generations still in flight, per UTC day the hold was placed and model."""
    since, until = (datetime.combine(d, time.min, tzinfo=UTC) for d in (start, before))
    holds = list(Hold.objects.open().filter(account__project__isnull=True, created_at__gte=since,
                                            created_at__lt=until)
                 .values_list("generation_id", "amount", "created_at"))
    models = dict(LedgerEntry.objects.filter(kind=Kind.HOLD, account__project__isnull=True,
                                             generation_id__in=[h[0] for h in holds])
                  .values_list("generation_id", "model"))
    held: dict[tuple[date, str], int] = {}
    for generation, amount, placed in holds:
        key = (placed.astimezone(UTC).date(), models.get(generation, ""))
        held[key] = held.get(key, 0) + amount
    return held


def unexplained_usage(days: list[date]) -> list[dict]:
    """Per day and model: credits Runway billed beyond everything the ledger knows of.

    The ledger knows what it charged (with what a balance could not cover) and what it still
    holds for work in flight. Runway usage above both is most likely a task Takes never learned
    of: a create call whose answer was lost after Runway had made the task (a server error or a
    dropped connection), so no generation follows it. A refund Runway books after midnight can
    also move credits into the next day.
    """
    if not days:
        return []
    start, before = _span(days)
    runway = DailyUsage.objects.between(start, before).by_day_and_model()
    ours: dict[tuple[date, str], int] = {}
    for row in LedgerEntry.objects.settled().between(start, before).order_by().values("usage_date", "model",
                                                                                         "credits", "uncharged"):
        key = (row["usage_date"], row["model"])
        ours[key] = ours.get(key, 0) + row["credits"] + row["uncharged"]
    held = _held_in_flight(start, before)
    rows = []
    for day in sorted(set(days), reverse=True):
        for model in sorted(m for d, m in runway if d == day):
            reported = runway[(day, model)]
            known, holding = ours.get((day, model), 0), held.get((day, model), 0)
            extra = reported - known - holding
            if extra > 0:
                rows.append({"date": day, "model": model, "runway": reported, "ledger": known, "held": holding,
                             "unexplained": extra})
    return rows
