"""The credit ledger: grant, hold, settle, release, adjust and refund.

Rules every function here keeps:

- Balances move only by a single conditional UPDATE with F expressions
  (``… SET balance = balance - n WHERE balance >= n``), never by reading a
  number into Python and writing it back. The database's row lock makes
  concurrent callers queue, and the check constraints on `Account` refuse a
  negative balance or hold even if a bug slipped past.
- Each change writes its `LedgerEntry` in the same transaction, so for every
  account ``sum(amount) == balance`` and ``sum(held_delta) == held``.
- Anything keyed by a generation happens once: a hold moves out of OPEN by a
  compare-and-set on its row, so of twenty concurrent settle/release calls
  exactly one makes the transition; the others return False.

Charging more than was held (Runway's `cost` above our estimate): the extra is
taken from the balance as far as it goes and never below zero; what could not
be taken is recorded on the charge as `uncharged` and shown in reconciliation.
The person is not sent into debt, and the gap stays visible rather than lost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, QuerySet, Sum, Value, When
from django.utils import timezone

from accounts.models import ApiToken, Project, Role
from webhooks.models import EventType
from webhooks.outbox import emit

from .models import Account, Hold, HoldState, Kind, LedgerEntry, Notice


class InsufficientCredits(Exception):
    """A submission would overdraw a person's credits or a project's budget; the message is for the person."""


class LedgerError(ValueError):
    """A grant, adjustment, budget change or hold resize that cannot be made; the message is for the person."""


# The largest hold every supported database stores (`Hold.amount` is a PositiveIntegerField).
MAX_HOLD = 2_147_483_647


# --- accounts ---------------------------------------------------------------------------------


def account_for(user) -> Account:
    """The person's credit account, opened (with the starting grant) on first need."""
    account = Account.objects.filter(user=user).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = Account.objects.create(user=user)
            _grant_starting(account)
    except IntegrityError:
        # Another request opened it at the same moment; theirs carries the grant.
        account = Account.objects.get(user=user)
    return account


def budget_for(project: Project) -> Account | None:
    """The project's budget account while a budget is set, else None."""
    return Account.objects.filter(project=project, enforced=True).first()


def open_holds(owner) -> QuerySet[Hold]:
    """Open holds on a person's account (pass a User) or a project's budget (pass a Project)."""
    if isinstance(owner, Project):
        return Hold.objects.open().filter(account__project=owner)
    return Hold.objects.open().filter(account__user=owner)


def grant_starting_credits(*, user) -> None:
    """Give the person settings.STARTING_CREDITS, once in their lifetime."""
    _grant_starting(account_for(user))


def _grant_starting(account: Account) -> None:
    amount = settings.STARTING_CREDITS
    if amount <= 0:
        return
    key = f"starting:{account.user_id}"
    if LedgerEntry.objects.filter(key=key).exists():
        return
    try:
        with transaction.atomic():
            LedgerEntry.objects.create(
                account=account, kind=Kind.GRANT, amount=amount, credits=amount, key=key,
                note="Starting credits",
            )
            Account.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    except IntegrityError:
        return  # granted concurrently
    account.balance += amount


def _refusal(account: Account, needed: int) -> str:
    left = Account.objects.filter(pk=account.pk).values_list("balance", flat=True).first() or 0
    unit = "credit" if needed == 1 else "credits"
    if account.is_budget:
        return (f"This needs {needed} {unit}; the project “{account.project}” has {left} left of its budget.")
    return f"This needs {needed} {unit}; you have {left} left."


# --- holds ------------------------------------------------------------------------------------


def token_spend(token_id: int) -> int:
    """Credits an API token has spent: what its generations hold now plus what they were charged.

    Counted on the people's accounts only (a budget's hold is the same credits again); a
    released hold or a refunded charge counts nothing.
    """
    total = Hold.objects.filter(account__project__isnull=True, generation__api_token_id=token_id).aggregate(
        total=Sum(Case(
            When(state=HoldState.OPEN, then=F("amount")),
            When(state=HoldState.SETTLED, refunded_at__isnull=True, then=F("charged")),
            default=Value(0), output_field=IntegerField(),
        )))["total"]
    return total or 0


def _check_token_limit(generation, amount: int) -> None:
    """Refuse a hold that would take an API token past its credit limit."""
    token_id = getattr(generation, "api_token_id", None)
    if token_id is None:
        return
    # A write first: it locks the token's row (PostgreSQL) or the database (SQLite) until the
    # caller commits, so two submissions with one token queue here and the second one counts
    # the first one's hold, as the conditional UPDATE on a budget's balance does.
    ApiToken.objects.filter(pk=token_id).update(credit_limit=F("credit_limit"))
    token = ApiToken.objects.only("name", "credit_limit").get(pk=token_id)
    if token.credit_limit is None:
        return
    left = max(0, token.credit_limit - token_spend(token_id))
    if amount > left:
        unit = "credit" if amount == 1 else "credits"
        raise InsufficientCredits(f"This needs {amount} {unit}; the API token “{token.name}” has {left} left "
                                  f"of its limit of {token.credit_limit}.")


def place_hold(*, generation) -> None:
    """Hold the generation's estimate on its creator's credits and its project's budget, or refuse.

    A generation made with an API token is also held to that token's credit limit.
    """
    amount = generation.estimated_credits
    accounts = [account_for(generation.created_by)]
    budget = budget_for(generation.project)
    if budget is not None:
        accounts.append(budget)
    with transaction.atomic():  # a savepoint inside the caller's transaction
        if Hold.objects.filter(generation=generation).exists():
            return
        _check_token_limit(generation, amount)
        for account in accounts:  # always person first, then budget: one lock order
            taken = Account.objects.filter(pk=account.pk, balance__gte=amount).update(
                balance=F("balance") - amount, held=F("held") + amount
            )
            if not taken:
                raise InsufficientCredits(_refusal(account, amount))
            Hold.objects.create(account=account, generation=generation, amount=amount)
            LedgerEntry.objects.create(
                account=account, kind=Kind.HOLD, amount=-amount, held_delta=amount, credits=amount,
                generation=generation, model=generation.model,
            )
        for account in accounts:
            _check_alert(account, spent=True)


def place_holds(*, generations) -> None:
    """Hold every generation's estimate at once, all or nothing: one balance change per account.

    The generations are one person's in one project (variations of one submission), new and
    saved in the caller's transaction. Either every hold is placed or none is and
    InsufficientCredits says what the whole needs; the queries do not grow with their number
    beyond the bulk inserts.
    """
    generations = list(generations)
    if not generations:
        return
    first = generations[0]
    if any(g.created_by_id != first.created_by_id or g.project_id != first.project_id for g in generations):
        raise LedgerError("Holds placed together are one person's in one project.")
    total = sum(g.estimated_credits for g in generations)
    accounts = [account_for(first.created_by)]
    budget = budget_for(first.project)
    if budget is not None:
        accounts.append(budget)
    with transaction.atomic():  # a savepoint inside the caller's transaction
        for account in accounts:  # always person first, then budget: one lock order
            taken = Account.objects.filter(pk=account.pk, balance__gte=total).update(
                balance=F("balance") - total, held=F("held") + total
            )
            if not taken:
                raise InsufficientCredits(_refusal(account, total))
        Hold.objects.bulk_create([Hold(account=a, generation=g, amount=g.estimated_credits)
                                  for a in accounts for g in generations])
        LedgerEntry.objects.bulk_create([
            LedgerEntry(account=a, kind=Kind.HOLD, amount=-g.estimated_credits, held_delta=g.estimated_credits,
                        credits=g.estimated_credits, generation=g, model=g.model)
            for a in accounts for g in generations])
        for account in accounts:
            _check_alert(account, spent=True)


def resize_hold(*, generation, credits: int) -> bool:
    """Bring the generation's open holds to Runway's own estimate (`estimatedCost`); False where they can't move."""
    # Lowering works while the holds are open; raising takes the difference from each balance
    # only while every balance covers it (the task already exists, so nothing is refused here).
    # The person's hold and the project budget's move together or not at all, once per
    # generation. Input no hold could take is a LedgerError, never a crash.
    _check_resize(generation, credits)
    with transaction.atomic():
        holds = _holds_of(generation)
        if not holds:
            raise LedgerError(f"Generation {generation.pk} has no hold to resize.")
        try:
            with transaction.atomic():  # a savepoint, so one hold that can't move undoes the other
                moved = [_resize_one(hold, generation=generation, credits=credits) for hold in holds]
        except _Unmoved:
            return False
    return any(moved)


class _Unmoved(Exception):
    """One of a generation's holds can't be resized; raised only to roll back the resize's savepoint."""


def _check_resize(generation, credits) -> None:
    # bool is an int to Python, but a True estimate is a bug, not one credit.
    if isinstance(credits, bool) or not isinstance(credits, int):
        raise LedgerError(f"A hold is a whole number of credits, not {credits!r}.")
    if credits < 0:
        raise LedgerError("A hold cannot be negative.")
    if credits > MAX_HOLD:
        raise LedgerError(f"A hold cannot be more than {MAX_HOLD} credits.")
    if getattr(generation, "pk", None) is None:
        raise LedgerError("Only a saved generation has a hold to resize.")


def _resize_one(hold: Hold, *, generation, credits: int) -> bool:
    if hold.state != HoldState.OPEN:
        raise _Unmoved
    delta = credits - hold.amount
    if not delta:
        return False
    if LedgerEntry.objects.filter(account=hold.account, generation=generation, kind=Kind.ADJUST).exists():
        raise _Unmoved  # resized once already
    # The hold before its account, the order settle and release take them (no deadlock), and
    # only while still open and unchanged: a settle, release or resize that won since it was
    # read stays as it is.
    if not Hold.objects.filter(pk=hold.pk, state=HoldState.OPEN, amount=hold.amount).update(amount=credits):
        raise _Unmoved
    if not Account.objects.filter(pk=hold.account_id, balance__gte=max(0, delta)).update(
        balance=F("balance") - delta, held=F("held") + delta
    ):
        raise _Unmoved  # the balance can't cover the rise
    # One resize per generation and account: the unique (account, generation, kind) key.
    LedgerEntry.objects.create(
        account=hold.account, kind=Kind.ADJUST, amount=-delta, held_delta=delta, credits=delta,
        generation=generation, model=generation.model, note="Hold resized to Runway's estimate",
    )
    return True


def open_holds_of(generation) -> QuerySet[Hold]:
    """The generation's holds that are still open (person, and project budget if any)."""
    return Hold.objects.open().filter(generation=generation)


def _holds_of(generation) -> list[Hold]:
    # Person first, then budget (ids follow creation order): the same lock order as place_hold.
    return list(Hold.objects.select_related("account", "account__project").filter(generation=generation)
                .order_by("id"))


def charge_day(generation) -> date:
    """The UTC day Runway counts this generation's charge: when it created the task."""
    created = (generation.task_json or {}).get("createdAt") if isinstance(generation.task_json, dict) else None
    if isinstance(created, str):
        try:
            return datetime.fromisoformat(created.replace("Z", "+00:00")).astimezone(UTC).date()
        except ValueError:
            pass
    moment = generation.submitted_at or generation.created_at or timezone.now()
    return moment.astimezone(UTC).date()


def settle_hold(*, generation, credits: int, reported: int | None = None) -> bool:
    """Turn the generation's hold into a charge of `credits`; True only for the call that did it.

    `reported` is the cost Runway reported for the task (None when it gave none); it is kept
    beside the charge so reconciliation can show where the two differ.
    """
    if credits < 0:
        raise ValueError("A charge cannot be negative.")
    usage_date = charge_day(generation)
    changed = False
    with transaction.atomic():
        for hold in _holds_of(generation):
            if _settle_one(hold, generation=generation, credits=credits, reported=reported, usage_date=usage_date):
                changed = True
    return changed


def _close(hold: Hold, *, state: str, charged, now) -> int | None:
    """Close an open hold exactly once; returns the amount it held, or None if another call closed it."""
    amount = hold.amount
    for _ in range(3):
        # Matching the amount too: a resize to Runway's estimate in between is re-read, not lost.
        if Hold.objects.filter(pk=hold.pk, state=HoldState.OPEN, amount=amount).update(
            state=state, charged=charged(amount), closed_at=now
        ):
            return amount
        current = Hold.objects.filter(pk=hold.pk).values_list("state", "amount").first()
        if current is None or current[0] != HoldState.OPEN:
            return None
        amount = current[1]
    return None


def _settle_one(hold: Hold, *, generation, credits: int, reported: int | None, usage_date: date) -> bool:
    now = timezone.now()
    held = _close(hold, state=HoldState.SETTLED, charged=lambda amount: min(credits, amount), now=now)
    if held is None:
        return False
    account = hold.account
    extra = max(0, credits - held)
    taken = extra
    if extra == 0:
        Account.objects.filter(pk=account.pk).update(
            held=F("held") - held, balance=F("balance") + (held - credits)
        )
    elif not Account.objects.filter(pk=account.pk, balance__gte=extra).update(
        held=F("held") - held, balance=F("balance") - extra
    ):
        # The balance can't cover all of the extra: take what there is. The row
        # is locked for the rest of this transaction, so the figure stays true.
        balance = Account.objects.select_for_update().values_list("balance", flat=True).get(pk=account.pk)
        taken = min(extra, balance)
        Account.objects.filter(pk=account.pk, balance__gte=taken).update(
            held=F("held") - held, balance=F("balance") - taken
        )
    if extra:
        Hold.objects.filter(pk=hold.pk).update(charged=held + taken)
    charged = min(credits, held) + taken
    LedgerEntry.objects.create(
        account=account, kind=Kind.SETTLE, amount=held - charged, held_delta=-held, credits=charged,
        cost=reported, uncharged=extra - taken, generation=generation, model=generation.model,
        usage_date=usage_date, created_at=now,
    )
    _check_alert(account, spent=charged > held)
    return True


def release_hold(*, generation) -> bool:
    """Give the generation's held credits back; True only for the call that did it."""
    changed = False
    now = timezone.now()
    with transaction.atomic():
        for hold in _holds_of(generation):
            amount = _close(hold, state=HoldState.RELEASED, charged=lambda _amount: 0, now=now)
            if amount is None:
                continue
            Account.objects.filter(pk=hold.account_id).update(
                held=F("held") - amount, balance=F("balance") + amount
            )
            LedgerEntry.objects.create(
                account=hold.account, kind=Kind.RELEASE, amount=amount, held_delta=-amount,
                credits=amount, generation=generation, model=generation.model, created_at=now,
            )
            _check_alert(hold.account, spent=False)
            changed = True
    return changed


# --- refunds, grants, adjustments, budgets ------------------------------------------------------


def refund(*, generation, by, note: str = "") -> bool:
    """Give back a generation's settled charge (an ops decision), once."""
    changed = False
    now = timezone.now()
    with transaction.atomic():
        for hold in _holds_of(generation):
            won = Hold.objects.filter(pk=hold.pk, state=HoldState.SETTLED, refunded_at=None).update(
                refunded_at=now
            )
            if not won:
                continue
            charged = Hold.objects.values_list("charged", flat=True).get(pk=hold.pk) or 0
            Account.objects.filter(pk=hold.account_id).update(balance=F("balance") + charged)
            LedgerEntry.objects.create(
                account=hold.account, kind=Kind.REFUND, amount=charged, credits=charged,
                generation=generation, model=generation.model, by=by, note=note[:300], created_at=now,
            )
            _check_alert(hold.account, spent=False)
            changed = True
    return changed


def _target_account(user, project) -> Account:
    if (user is None) == (project is None):
        raise LedgerError("Choose a person or a project.")
    if user is not None:
        return account_for(user)
    account = budget_for(project)
    if account is None:
        raise LedgerError(f"The project “{project}” has no budget. Set one first.")
    return account


def grant(*, user=None, project=None, amount: int, by=None, note: str = "",
          kind: str = Kind.GRANT) -> LedgerEntry:
    """Add credits to a person or a project's budget (kind="adjust" may take them away, never below zero)."""
    if kind not in (Kind.GRANT, Kind.ADJUST):
        raise LedgerError("Only grants and adjustments can be made by hand.")
    if kind == Kind.GRANT and amount <= 0:
        raise LedgerError("A grant must be a positive number of credits.")
    if amount == 0:
        raise LedgerError("An adjustment of 0 changes nothing.")
    account = _target_account(user, project)
    with transaction.atomic():
        changed = Account.objects.filter(pk=account.pk, balance__gte=max(0, -amount)).update(
            balance=F("balance") + amount
        )
        if not changed:
            left = Account.objects.values_list("balance", flat=True).get(pk=account.pk)
            raise LedgerError(
                f"Taking {-amount} credits would put {account.owner_label} below zero: "
                f"{left} are left to take."
            )
        entry = LedgerEntry.objects.create(
            account=account, kind=kind, amount=amount, credits=amount, by=by, note=note[:300]
        )
        _check_alert(account, spent=amount < 0)
    return entry


def adjust(*, user=None, project=None, amount: int, by=None, note: str = "") -> LedgerEntry:
    """Correct a balance up or down (never below zero) with a reason on record."""
    return grant(user=user, project=project, amount=amount, by=by, note=note, kind=Kind.ADJUST)


def set_project_budget(*, project: Project, amount: int | None, by) -> Account | None:
    """Set what the project may still spend (in-flight holds included), or remove the budget with None."""
    if amount is not None and amount < 0:
        raise LedgerError("A budget cannot be negative.")
    with transaction.atomic():
        account = Account.objects.select_for_update().filter(project=project).first()
        if account is None:
            if amount is None:
                return None
            try:
                with transaction.atomic():
                    Account.objects.create(project=project, enforced=False)
            except IntegrityError:
                pass
            account = Account.objects.select_for_update().get(project=project)
        if amount is None:
            target, enforced = 0, False
        else:
            if amount < account.held:
                raise LedgerError(
                    f"Generations in flight hold {account.held} credits of this budget; "
                    f"it can't be set below that."
                )
            target, enforced = amount - account.held, True
        delta = target - account.balance
        # Compare-and-set against the figures read under the row lock. Nothing should move them
        # meanwhile; if something did (or the row is gone), refuse rather than write an entry
        # the balance doesn't show.
        if not Account.objects.filter(pk=account.pk, balance=account.balance, held=account.held).update(
            balance=F("balance") + delta, enforced=enforced
        ):
            raise LedgerError(
                f"The budget of the project “{project}” changed while it was being set, so it was "
                "left as it was. Please try again."
            )
        if delta:
            note = "Budget removed" if amount is None else f"Budget set to {amount}"
            LedgerEntry.objects.create(
                account=account, kind=Kind.ADJUST, amount=delta, credits=delta, by=by, note=note
            )
        account.refresh_from_db()
        _check_alert(account, spent=delta < 0)
    return account if enforced else None


# --- alerts -----------------------------------------------------------------------------------


def set_alert(*, account: Account, below: int | None) -> None:
    """Ask for a notice when the account's balance drops below `below` (None: no alert)."""
    if below is not None and below < 0:
        raise LedgerError("The alert threshold cannot be negative.")
    # Already below: that crossing has happened; the next one is announced.
    Account.objects.filter(pk=account.pk).update(
        alert_below=below, alert_sent=below is not None and account.balance < below
    )
    account.refresh_from_db(fields=["alert_below", "alert_sent", "balance", "held"])


def _check_alert(account: Account, *, spent: bool) -> None:
    if not spent:
        # Re-arm once the balance is back at or above the threshold.
        Account.objects.filter(pk=account.pk, alert_sent=True, balance__gte=F("alert_below")).update(
            alert_sent=False
        )
        return
    crossed = Account.objects.filter(
        pk=account.pk, alert_sent=False, alert_below__isnull=False, balance__lt=F("alert_below")
    ).update(alert_sent=True)
    if crossed:
        _send_alert(Account.objects.select_related("user", "project").get(pk=account.pk))


def _send_alert(account: Account) -> None:
    if account.is_budget:
        people = [m.user for m in account.project.memberships.filter(role=Role.OWNER).select_related("user")]
        message = (f"The project “{account.project}” has {account.balance} credits left of its budget, "
                   f"below the {account.alert_below} you asked to hear about.")
        # Once per crossing (the alert_sent compare-and-set above), in the transaction of the spend.
        emit(project_id=account.project_id, type=EventType.CREDITS_ALERT, payload={
            "project": account.project.slug, "balance": account.balance, "alert_below": account.alert_below})
    else:
        people = [account.user]
        message = (f"You have {account.balance} credits left, below the {account.alert_below} "
                   f"you asked to hear about.")
    Notice.objects.bulk_create([Notice(user=u, account=account, message=message) for u in people])
    emails = [u.email for u in people if u.email]
    if emails:
        transaction.on_commit(lambda: send_mail("Takes: credits running low", message, None, emails))
