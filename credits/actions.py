"""Changes of credits that people and ops make on purpose, each atomic with its audit entry.

The ledger (`credits.ledger`) moves the money; these wrap the moves a person
asks for — a grant or adjustment, a project budget — so the change and the
audit log's record of it commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from audit.log import record, snapshot
from credits import ledger
from credits.models import Account, LedgerEntry

BALANCE_FIELDS = ("balance", "held", "enforced")


def budget_state(project) -> dict:
    """A project's budget as the audit log keeps it (budget None: no budget is enforced)."""
    account = Account.objects.filter(project=project).first()
    if account is None or not account.enforced:
        return {"budget": None, "balance": account.balance if account else 0, "held": account.held if account else 0}
    return {"budget": account.balance + account.held, "balance": account.balance, "held": account.held}


def set_project_budget(*, project, amount: int | None, by, note: str = "") -> Account | None:
    """Set (or remove, with None) a project's budget, logged with the budget before and after."""
    with transaction.atomic():
        before = budget_state(project)
        account = ledger.set_project_budget(project=project, amount=amount, by=by)
        record(actor=by, action="project.budget", obj=project, before=before, after=budget_state(project),
               note=note)
    return account


def grant_credits(*, account: Account, amount: int, kind: str, by, note: str) -> LedgerEntry:
    """Grant (or adjust by) `amount` credits on a person's account or a project's budget, audited."""
    target = {"user": account.user} if account.user_id else {"project": account.project}
    with transaction.atomic():
        before = snapshot(account, BALANCE_FIELDS)
        entry = ledger.grant(**target, amount=amount, by=by, note=note, kind=kind)
        account.refresh_from_db()
        record(actor=by, action=f"credits.{entry.kind}", obj=account, before=before,
               after={**snapshot(account, BALANCE_FIELDS), "entry": entry.pk, "amount": entry.amount}, note=note)
    return entry


def refund_generation(*, generation, by, note: str = "", on_change: Callable[[], None] | None = None) -> bool:
    """Give back a generation's settled charge (an ops decision), once; `on_change` runs in its transaction."""
    with transaction.atomic():
        refunded = ledger.refund(generation=generation, by=by, note=note)
        if refunded and on_change:
            on_change()
    return refunded
