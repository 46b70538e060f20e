"""Credit accounts in the ops console: the ledger beside each account, audited grants and adjustments.

Builds on `credits.admin.AccountAdmin` (owned by the credits app) rather than
editing it: everything there stays, and this adds the ledger on the account
page, the reconciliation link and an audit record for every grant.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from credits import admin as credits_admin
from credits import ledger
from credits.models import Account, LedgerEntry

from .audit import record, snapshot

LEDGER_ROWS = 50
BALANCE_FIELDS = ("balance", "held", "enforced")


class AccountAdmin(credits_admin.AccountAdmin):
    readonly_fields = [*credits_admin.AccountAdmin.readonly_fields, "ledger"]
    change_list_template = "admin/credits/account/change_list.html"

    @admin.display(description="Ledger (latest first)")
    def ledger(self, obj):
        entries = list(LedgerEntry.objects.filter(account=obj).select_related("generation", "by")
                       .order_by("-created_at", "-id")[:LEDGER_ROWS])
        if not entries:
            return "—"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td class='num'>{}</td><td class='num'>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            ((e.created_at.strftime("%Y-%m-%d %H:%M"), e.get_kind_display(), e.amount, e.held_delta,
              f"#{e.generation_id}" if e.generation_id else "", e.by or "", e.note) for e in entries),
        )
        everything = reverse("admin:credits_ledgerentry_changelist") + f"?account__id__exact={obj.pk}"
        return format_html(
            '<table class="ops-mini"><tr><th>When</th><th>Kind</th><th>Balance Δ</th><th>Held Δ</th>'
            '<th>Generation</th><th>By</th><th>Note</th></tr>{}</table><a href="{}">All entries →</a>',
            rows, everything,
        )

    def grant_view(self, request, account_id):
        """The grant-or-adjust form, writing a ledger entry and an audit record."""
        account = get_object_or_404(Account.objects.select_related("user", "project"), pk=account_id)
        if not (request.user.is_superuser or request.user.has_perm("credits.add_ledgerentry")):
            raise PermissionDenied
        form = credits_admin.GrantForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            target = {"user": account.user} if account.user_id else {"project": account.project}
            before = snapshot(account, BALANCE_FIELDS)
            try:
                entry = ledger.grant(**target, amount=data["amount"], by=request.user, note=data["note"],
                                     kind=data["kind"])
            except ledger.LedgerError as exc:
                form.add_error("amount", str(exc))
            else:
                account.refresh_from_db()
                record(actor=request.user, action=f"credits.{entry.kind}", obj=account, before=before,
                       after={**snapshot(account, BALANCE_FIELDS), "entry": entry.pk, "amount": entry.amount},
                       note=data["note"])
                messages.success(request, f"{data['amount']} credits recorded for {account}.")
                return redirect("admin:credits_account_change", account.pk)
        context = {**self.admin_site.each_context(request), "title": f"Grant or adjust: {account}",
                   "account": account, "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "credits/admin_grant.html", context)


if admin.site.is_registered(Account):
    admin.site.unregister(Account)
admin.site.register(Account, AccountAdmin)
