"""The organization mirror: what Runway says about our balance, limits and daily usage.

`runway.client` fetches; this module stores. The store functions take the
contract's JSON (CONTRACT §6.1, §6.2) so the mirror reads the same whether it
came from Runway, the emulator or a recorded response.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from runway import client

from .models import DailyUsage, LedgerEntry, OrgSnapshot, utc_today

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
    """
    if not days:
        return []
    start, before = min(days), max(days) + timedelta(days=1)
    runway = DailyUsage.objects.between(start, before).by_day_and_model()
    settled = LedgerEntry.objects.settled().between(start, before)
    ours: dict[tuple[date, str], dict[str, int]] = {}
    for row in settled.order_by().values("usage_date", "model", "credits", "uncharged", "cost"):
        slot = ours.setdefault((row["usage_date"], row["model"]), {"charged": 0, "uncharged": 0, "count": 0})
        slot["charged"] += row["credits"]
        slot["uncharged"] += row["uncharged"]
        slot["count"] += 1
    rows = []
    for day in sorted(days, reverse=True):
        models = sorted({m for d, m in runway if d == day} | {m for d, m in ours if d == day})
        for model in models:
            mine = ours.get((day, model), {"charged": 0, "uncharged": 0, "count": 0})
            reported = runway.get((day, model))
            # Runway's figure is what it billed; ours is what people were charged
            # plus what their balance could not cover.
            ledger_total = mine["charged"] + mine["uncharged"]
            difference = None if reported is None else reported - ledger_total
            rows.append({
                "date": day, "model": model, "runway": reported, "ledger": mine["charged"],
                "uncharged": mine["uncharged"], "generations": mine["count"], "difference": difference,
                "flagged": difference != 0,
            })
    return rows

