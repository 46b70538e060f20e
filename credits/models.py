"""Credit accounts, their append-only ledger, holds, alerts and the organization mirror.

Money moves only through `credits.ledger`; these models hold the state and the
queries the pages need. Every account's `balance` (spendable) and `held`
(reserved for generations in flight) always equal the sums of its ledger
entries' `amount` and `held_delta`, and the database refuses either going
below zero.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Project


class AccountQuerySet(models.QuerySet):
    def people(self) -> AccountQuerySet:
        return self.filter(project__isnull=True)

    def budgets(self) -> AccountQuerySet:
        return self.filter(user__isnull=True)


class Account(models.Model):
    """Credits one person may spend, or the budget one project may spend."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_account"
    )
    project = models.OneToOneField(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_budget"
    )
    balance = models.BigIntegerField(default=0, help_text="Credits that can still be spent")
    held = models.BigIntegerField(default=0, help_text="Credits reserved for generations in flight")
    # A project budget exists only while enforced; a removed budget keeps its
    # history (and settles its open holds) but no longer limits submissions.
    enforced = models.BooleanField(default=True)
    alert_below = models.PositiveIntegerField(
        null=True, blank=True, help_text="Send a notice when the balance drops below this"
    )
    alert_sent = models.BooleanField(default=False, help_text="A notice went out for the current crossing")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_not_negative"),
            models.CheckConstraint(condition=Q(held__gte=0), name="account_held_not_negative"),
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(project__isnull=True))
                | (Q(user__isnull=True) & Q(project__isnull=False)),
                name="account_for_person_or_project",
            ),
        ]

    def __str__(self) -> str:
        if self.user_id:
            return f"Credits of {self.user}"
        return f"Budget of {self.project}"

    @property
    def is_budget(self) -> bool:
        return self.project_id is not None

    @property
    def total(self) -> int:
        """Balance plus what is held: what is left before anything in flight settles."""
        return self.balance + self.held

    @property
    def owner_label(self) -> str:
        return str(self.user) if self.user_id else f"the project “{self.project}”"


class Kind(models.TextChoices):
    GRANT = "grant", "Grant"
    HOLD = "hold", "Hold"
    SETTLE = "settle", "Charge"
    RELEASE = "release", "Release"
    ADJUST = "adjust", "Adjustment"
    REFUND = "refund", "Refund"


class EntryQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> EntryQuerySet:
        return self.filter(account=account)

    def for_page(self) -> EntryQuerySet:
        return self.select_related("generation__project", "by", "account__user").order_by("-created_at", "-id")

    def settled(self) -> EntryQuerySet:
        """Charges on people's accounts: each generation counted once, whatever the budgets."""
        return self.filter(kind=Kind.SETTLE, account__project__isnull=True)

    def between(self, start: date, before: date) -> EntryQuerySet:
        return self.filter(usage_date__gte=start, usage_date__lt=before)

    def spend_by_day_and_model(self) -> dict[tuple[date, str], int]:
        """Credits charged per (usage day, model)."""
        rows = self.order_by().values("usage_date", "model").annotate(total=Sum("credits"))
        return {(r["usage_date"], r["model"]): r["total"] or 0 for r in rows}


class LedgerEntry(models.Model):
    """One movement of credits; rows are only ever added."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.BigIntegerField(help_text="Change to the balance")
    held_delta = models.BigIntegerField(default=0, help_text="Change to the held credits")
    credits = models.BigIntegerField(
        help_text="The headline figure: granted, held, charged, released, adjusted or refunded"
    )
    cost = models.PositiveIntegerField(null=True, blank=True, help_text="Cost Runway reported, for charges")
    uncharged = models.PositiveIntegerField(
        default=0, help_text="Part of a charge above the hold that the balance could not cover"
    )
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    model = models.CharField(max_length=60, blank=True)
    usage_date = models.DateField(null=True, blank=True, db_index=True, help_text="UTC day Runway counts it")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    key = models.CharField(max_length=80, null=True, blank=True, unique=True, help_text="Idempotency key")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "generation", "kind"],
                condition=Q(generation__isnull=False),
                name="one_entry_per_generation_kind",
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.credits} on {self.account}"


class HoldState(models.TextChoices):
    OPEN = "open", "Open"
    SETTLED = "settled", "Settled"
    RELEASED = "released", "Released"


class HoldQuerySet(models.QuerySet):
    def open(self) -> HoldQuerySet:
        return self.filter(state=HoldState.OPEN)

    def for_page(self) -> HoldQuerySet:
        return self.select_related("generation", "generation__project").order_by("-created_at")


class Hold(models.Model):
    """Credits reserved on one account for one generation, until settled or released once."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    generation = models.ForeignKey("generations.Generation", on_delete=models.PROTECT, related_name="holds")
    amount = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=HoldState.choices, default=HoldState.OPEN, db_index=True)
    charged = models.PositiveIntegerField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = HoldQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "generation"], name="one_hold_per_account_generation"),
        ]

    def __str__(self) -> str:
        return f"Hold of {self.amount} for generation {self.generation_id} ({self.state})"


class NoticeQuerySet(models.QuerySet):
    def unread_for(self, user) -> NoticeQuerySet:
        return self.filter(user=user, dismissed_at=None).order_by("-created_at")


class Notice(models.Model):
    """A message in the app for one person, e.g. a crossed credit threshold."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_notices")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="notices")
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message


class OrgSnapshotQuerySet(models.QuerySet):
    def latest_one(self) -> OrgSnapshot | None:
        return self.order_by("-taken_at", "-id").first()


class OrgSnapshot(models.Model):
    """What `GET /v1/organization` said at one moment."""

    taken_at = models.DateTimeField(default=timezone.now, db_index=True)
    credit_balance = models.BigIntegerField()
    max_monthly_credit_spend = models.BigIntegerField(null=True, blank=True)
    # {model: {"max_concurrent": int|None, "max_daily": int|None, "daily": int}}
    models_data = models.JSONField(default=dict)

    objects = OrgSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_at"]
        get_latest_by = "taken_at"

    def __str__(self) -> str:
        return f"Organization at {self.taken_at:%Y-%m-%d %H:%M} ({self.credit_balance} credits)"

    def model_rows(self) -> list[dict]:
        """Tier limits and today's generations, busiest models first."""
        rows = [{"model": name, **values, "left": self.remaining_daily(name)}
                for name, values in self.models_data.items()]
        return sorted(rows, key=lambda r: (-(r.get("daily") or 0), r["model"]))

    def remaining_daily(self, model: str) -> int | None:
        values = self.models_data.get(model)
        if not values or values.get("max_daily") is None:
            return None
        return max(0, values["max_daily"] - (values.get("daily") or 0))


class DailyUsageQuerySet(models.QuerySet):
    def between(self, start: date, before: date) -> DailyUsageQuerySet:
        return self.filter(date__gte=start, date__lt=before)

    def by_day_and_model(self) -> dict[tuple[date, str], int]:
        return {(u.date, u.model): u.credits for u in self}


class DailyUsage(models.Model):
    """Credits Runway reports used on one UTC day by one model."""

    date = models.DateField(db_index=True)
    model = models.CharField(max_length=60)
    credits = models.BigIntegerField(help_text="Net: may be negative when refunds exceed charges")
    synced_at = models.DateTimeField(default=timezone.now)

    objects = DailyUsageQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "model"]
        verbose_name_plural = "daily usage"
        constraints = [models.UniqueConstraint(fields=["date", "model"], name="one_usage_row_per_day_model")]

    def __str__(self) -> str:
        return f"{self.date} {self.model}: {self.credits}"


def utc_today() -> date:
    """Today in UTC, the clock Runway's usage days follow."""
    return timezone.now().astimezone(UTC).date()


def last_days(n: int, *, until: date | None = None) -> list[date]:
    """The `n` UTC days ending with `until` (today by default), oldest first."""
    until = until or utc_today()
    return [until - timedelta(days=i) for i in range(n - 1, -1, -1)]
