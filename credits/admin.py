"""Admin for credits: everything that is money is read-only; grants go through the ledger."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import ledger
from .models import Account, DailyUsage, Hold, Kind, LedgerEntry, Notice, OrgSnapshot


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class GrantForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=[(Kind.GRANT, "Grant"), (Kind.ADJUST, "Adjustment")])
    amount = forms.IntegerField(label="Credits", help_text="Adjustments may be negative, never below zero.")
    note = forms.CharField(label="Reason", max_length=300)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "balance", "held", "enforced", "alert_below", "grant_link"]
    list_filter = ["enforced"]
    search_fields = ["user__username", "user__email", "project__name", "project__slug"]
    list_select_related = ["user", "project"]
    readonly_fields = ["user", "project", "balance", "held", "enforced", "alert_below", "alert_sent",
                       "created_at", "grant_link"]

    @admin.display(description="Grant or adjust")
    def grant_link(self, obj):
        return format_html('<a href="{}">Grant or adjust…</a>', reverse("admin:credits_account_grant", args=[obj.pk]))

    def get_urls(self):
        return [
            path("<int:account_id>/grant/", self.admin_site.admin_view(self.grant_view),
                 name="credits_account_grant"),
            *super().get_urls(),
        ]

    def grant_view(self, request, account_id):
        account = get_object_or_404(Account.objects.select_related("user", "project"), pk=account_id)
        if not request.user.has_perm("credits.add_ledgerentry") and not request.user.is_superuser:
            messages.error(request, "You may not grant credits.")
            return redirect("admin:credits_account_changelist")
        form = GrantForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            target = {"user": account.user} if account.user_id else {"project": account.project}
            try:
                ledger.grant(**target, amount=form.cleaned_data["amount"], by=request.user,
                             note=form.cleaned_data["note"], kind=form.cleaned_data["kind"])
            except ledger.LedgerError as exc:
                form.add_error("amount", str(exc))
            else:
                messages.success(request, f"{form.cleaned_data['amount']} credits recorded for {account}.")
                return redirect("admin:credits_account_changelist")
        context = {**self.admin_site.each_context(request), "title": f"Grant or adjust: {account}",
                   "account": account, "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "credits/admin_grant.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "credits", "amount", "held_delta", "model", "usage_date",
                    "generation", "by", "note"]
    list_filter = ["kind", "usage_date"]
    search_fields = ["account__user__username", "account__project__name", "model", "note"]
    list_select_related = ["account__user", "account__project", "by", "generation"]
    date_hierarchy = "created_at"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "generation", "amount", "state", "charged", "refunded_at"]
    list_filter = ["state"]
    list_select_related = ["account__user", "account__project", "generation"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "message", "dismissed_at"]
    list_select_related = ["user"]


@admin.register(OrgSnapshot)
class OrgSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["taken_at", "credit_balance", "max_monthly_credit_spend"]


@admin.register(DailyUsage)
class DailyUsageAdmin(ReadOnlyAdmin):
    list_display = ["date", "model", "credits", "synced_at"]
    list_filter = ["model"]
    date_hierarchy = "date"
