"""Credits in the admin: everything that is money is read-only; grants and adjustments go through
the audited credit actions; each account page shows its latest ledger entries."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from credits import actions, ledger
from credits.models import Account, DailyUsage, Hold, Kind, LedgerEntry, Notice, OrgSnapshot

from .kit import ReadOnlyModelAdmin

LEDGER_ROWS = 50


class GrantForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=[(Kind.GRANT, "Grant"), (Kind.ADJUST, "Adjustment")])
    amount = forms.IntegerField(label="Credits", help_text="Adjustments may be negative, never below zero.")
    note = forms.CharField(label="Reason", max_length=300)


@admin.register(Account)
class AccountAdmin(ReadOnlyModelAdmin):
    list_display = ["__str__", "balance", "held", "enforced", "alert_below", "grant_link"]
    list_filter = ["enforced"]
    search_fields = ["user__username", "user__email", "project__name", "project__slug"]
    list_select_related = ["user", "project"]
    readonly_fields = ["user", "project", "balance", "held", "enforced", "alert_below", "alert_sent",
                       "created_at", "grant_link", "ledger"]
    change_list_template = "admin/credits/account/change_list.html"

    @admin.display(description="Grant or adjust")
    def grant_link(self, obj):
        return format_html('<a href="{}">Grant or adjust…</a>', reverse("admin:credits_account_grant", args=[obj.pk]))

    def get_urls(self):
        return [
            path("<int:account_id>/grant/", self.admin_site.admin_view(self.grant_view),
                 name="credits_account_grant"),
            *super().get_urls(),
        ]

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
        """The grant-or-adjust form: one ledger entry and its audit record, together."""
        account = get_object_or_404(Account.objects.select_related("user", "project"), pk=account_id)
        if not (request.user.is_superuser or request.user.has_perm("credits.add_ledgerentry")):
            raise PermissionDenied
        form = GrantForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                actions.grant_credits(account=account, amount=data["amount"], kind=data["kind"],
                                      by=request.user, note=data["note"])
            except ledger.LedgerError as exc:
                form.add_error("amount", str(exc))
            else:
                messages.success(request, f"{data['amount']} credits recorded for {account}.")
                return redirect("admin:credits_account_change", account.pk)
        context = {**self.admin_site.each_context(request), "title": f"Grant or adjust: {account}",
                   "account": account, "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "credits/admin_grant.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "account", "kind", "credits", "amount", "held_delta", "model", "usage_date",
                    "generation", "by", "note"]
    list_filter = ["kind", "usage_date"]
    search_fields = ["account__user__username", "account__project__name", "model", "note"]
    list_select_related = ["account__user", "account__project", "by", "generation"]
    date_hierarchy = "created_at"


@admin.register(Hold)
class HoldAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "account", "generation", "amount", "state", "charged", "refunded_at"]
    list_filter = ["state"]
    list_select_related = ["account__user", "account__project", "generation"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "user", "message", "dismissed_at"]
    list_select_related = ["user"]


@admin.register(OrgSnapshot)
class OrgSnapshotAdmin(ReadOnlyModelAdmin):
    list_display = ["taken_at", "credit_balance", "max_monthly_credit_spend"]


@admin.register(DailyUsage)
class DailyUsageAdmin(ReadOnlyModelAdmin):
    list_display = ["date", "model", "credits", "synced_at"]
    list_filter = ["model"]
    date_hierarchy = "date"
