"""The figures on the queue-health page, each from one query, however many rows there are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Failure

from credits.models import LedgerEntry, OrgSnapshot
from generations import poller
from generations.models import IN_FLIGHT, Generation, Status
from runway import client as runway

FAILURE_WINDOW = timedelta(hours=1)
SPEND_WINDOW = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=15)  # no step touched the row for this long: worth a look
SYNC_STALE_AFTER = timedelta(minutes=30)  # the mirror syncs every 10 minutes
RECENT_FAILED_TASKS = 5
TOP_SPENDERS = 8


def generations_url(**params: Any) -> str:
    """The admin generation list, filtered."""
    url = reverse("admin:generations_generation_changelist")
    return f"{url}?{urlencode(params)}" if params else url


@dataclass
class QueueHealth:
    now: datetime
    by_status: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    attention: int = 0
    stale: int = 0
    oldest: Any = None
    failures: list[dict[str, Any]] = field(default_factory=list)
    failures_total: int = 0
    models: list[dict[str, Any]] = field(default_factory=list)
    snapshot: Any = None
    sync_stale: bool = True
    queue_length: int | None = None
    queue_broker: str = ""
    queue_error: str = ""
    failed_tasks: int = 0
    recent_failed_tasks: list[Any] = field(default_factory=list)
    spenders: list[dict[str, Any]] = field(default_factory=list)
    uses_emulator: bool = True
    runway_host: str = ""
    poller: dict[str, Any] | None = None

    @property
    def attention_url(self) -> str:
        return generations_url(needs_attention="yes")

    @property
    def stale_url(self) -> str:
        return generations_url(stuck="yes")

    @property
    def failures_url(self) -> str:
        return generations_url(status__exact="FAILED", finished_at__gte=(self.now - FAILURE_WINDOW).isoformat())


def _in_flight_figures(health: QueueHealth) -> None:
    stale_before = health.now - STALE_AFTER
    rows = {r["status"]: r for r in Generation.objects.in_flight().order_by().values("status").annotate(
        n=Count("id"), attention=Count("id", filter=Q(needs_attention=True)),
        stale=Count("id", filter=Q(updated_at__lt=stale_before)),
    )}
    for status in IN_FLIGHT:
        row = rows.get(status, {})
        health.by_status.append({"status": status, "label": Status(status).label, "n": row.get("n", 0),
                                 "attention": row.get("attention", 0), "stale": row.get("stale", 0),
                                 "url": generations_url(status__exact=status)})
    health.in_flight = sum(r["n"] for r in health.by_status)
    health.attention = sum(r["attention"] for r in health.by_status)
    health.stale = sum(r["stale"] for r in health.by_status)
    health.oldest = (Generation.objects.in_flight().select_related("project", "created_by")
                     .order_by("created_at", "id").first())


def _failure_figures(health: QueueHealth) -> None:
    since = health.now - FAILURE_WINDOW
    rows = (Generation.objects.filter(status=Status.FAILED, finished_at__gte=since).order_by()
            .values("failure_code").annotate(n=Count("id")).order_by("-n", "failure_code"))
    health.failures = [
        {"code": r["failure_code"] or "(none)", "n": r["n"],
         "url": generations_url(status__exact="FAILED", failure_code=r["failure_code"],
                                finished_at__gte=since.isoformat())}
        for r in rows
    ]
    health.failures_total = sum(r["n"] for r in health.failures)


def _model_figures(health: QueueHealth) -> None:
    health.snapshot = OrgSnapshot.objects.latest_one()
    if health.snapshot:
        health.sync_stale = health.now - health.snapshot.taken_at > SYNC_STALE_AFTER
    limits = health.snapshot.models_data if health.snapshot else {}
    counts: dict[str, dict[str, int]] = {}
    for r in Generation.objects.at_runway().order_by().values("model", "status").annotate(n=Count("id")):
        counts.setdefault(r["model"], {})[r["status"]] = r["n"]
    models = []
    for model in sorted(counts.keys() | {m for m, v in limits.items() if v.get("daily")}):
        c = counts.get(model, {})
        limit = (limits.get(model) or {}).get("max_concurrent")
        active = c.get(Status.PENDING, 0) + c.get(Status.RUNNING, 0)
        models.append({
            "model": model, "pending": c.get(Status.PENDING, 0), "running": c.get(Status.RUNNING, 0),
            "throttled": c.get(Status.THROTTLED, 0), "max_concurrent": limit,
            "at_limit": limit is not None and active >= limit,
            "daily": (limits.get(model) or {}).get("daily"), "max_daily": (limits.get(model) or {}).get("max_daily"),
            "throttled_url": generations_url(status__exact=Status.THROTTLED, model__exact=model),
        })
    health.models = sorted(models, key=lambda m: (-m["throttled"], -(m["pending"] + m["running"]), m["model"]))


def _queue_figures(health: QueueHealth) -> None:
    try:
        broker = get_broker()
        health.queue_broker = "Redis" if "redis" in settings.Q_CLUSTER else "database (ORM)"
        health.queue_length = broker.queue_size()
    except Exception as exc:  # noqa: BLE001 — a broker that is down is itself the figure to show
        health.queue_error = f"{type(exc).__name__}: {exc}"
    recent = list(Failure.objects.order_by("-stopped").only("id", "name", "func", "stopped")[:RECENT_FAILED_TASKS])
    health.recent_failed_tasks = recent
    health.failed_tasks = len(recent) if len(recent) < RECENT_FAILED_TASKS else Failure.objects.count()


def _spend_figures(health: QueueHealth) -> None:
    rows = (LedgerEntry.objects.settled().filter(created_at__gte=health.now - SPEND_WINDOW).order_by()
            .values("account__user_id", "account__user__username")
            .annotate(credits=Sum("credits"), n=Count("id")).order_by("-credits")[:TOP_SPENDERS])
    health.spenders = [
        {"user_id": r["account__user_id"], "username": r["account__user__username"], "credits": r["credits"] or 0,
         "n": r["n"], "url": generations_url(created_by__id__exact=r["account__user_id"])}
        for r in rows
    ]


def queue_health(now: datetime | None = None) -> QueueHealth:
    """Everything the dashboard shows, gathered in a fixed number of queries."""
    health = QueueHealth(now=now or timezone.now())
    _in_flight_figures(health)
    _failure_figures(health)
    _model_figures(health)
    _queue_figures(health)
    _spend_figures(health)
    health.poller = poller.heartbeat()
    health.uses_emulator = runway.uses_emulator()
    health.runway_host = urlsplit(settings.RUNWAY_BASE_URL).netloc or settings.RUNWAY_BASE_URL
    return health
