"""Project budgets changed with a record in the audit log."""

from __future__ import annotations

from credits import ledger
from credits.models import Account

from .audit import record


def budget_state(project) -> dict:
    """A project's budget as the audit log keeps it (budget None: no budget is enforced)."""
    account = Account.objects.filter(project=project).first()
    if account is None or not account.enforced:
        return {"budget": None, "balance": account.balance if account else 0, "held": account.held if account else 0}
    return {"budget": account.balance + account.held, "balance": account.balance, "held": account.held}


def set_project_budget(*, project, amount: int | None, by, note: str = "") -> Account | None:
    """`ledger.set_project_budget`, logged with the budget before and after."""
    before = budget_state(project)
    account = ledger.set_project_budget(project=project, amount=amount, by=by)
    record(actor=by, action="project.budget", obj=project, before=before, after=budget_state(project), note=note)
    return account
