"""Credit accounts in the admin: balances read-only, grants and adjustments through the ledger, audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from credits import ledger
from credits.models import Kind, LedgerEntry
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_grant_and_adjust_write_ledger_entries_and_audit(ops_client, operator, owner):
    account = ledger.account_for(owner)
    url = reverse("admin:credits_account_grant", args=[account.pk])
    assert ops_client.post(url, {"kind": "grant", "amount": "300", "note": "welcome"}).status_code == 302
    assert ops_client.post(url, {"kind": "adjust", "amount": "-50", "note": "double grant"}).status_code == 302
    refused = ops_client.post(url, {"kind": "adjust", "amount": "-9999", "note": "too much"})
    assert refused.status_code == 200 and b"below zero" in refused.content
    account.refresh_from_db()
    assert account.balance == 250
    assert list(LedgerEntry.objects.filter(account=account).order_by("id").values_list("kind", "amount", "by")) == [
        (Kind.GRANT, 300, operator.pk), (Kind.ADJUST, -50, operator.pk)]
    grant, adjust = AuditEntry.objects.filter(action__startswith="credits.").order_by("id")
    assert (grant.action, grant.before["balance"], grant.after["balance"]) == ("credits.grant", 0, 300)
    assert (adjust.action, adjust.before["balance"], adjust.after["balance"]) == ("credits.adjust", 300, 250)
    assert adjust.note == "double grant" and adjust.actor == operator


def test_account_page_is_read_only_with_its_ledger(ops_client, owner):
    account = ledger.account_for(owner)
    ledger.grant(user=owner, amount=120, note="Welcome <credits>")
    page = ops_client.get(reverse("admin:credits_account_change", args=[account.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'name="balance"' not in html and 'name="_save"' not in html
    assert "Welcome &lt;credits&gt;" in html and f"account__id__exact={account.pk}" in html
    listing = ops_client.get(reverse("admin:credits_account_changelist")).content.decode()
    assert reverse("credits:staff") in listing


def test_staff_without_ledger_permission_cannot_grant(plain_staff, owner):
    account = ledger.account_for(owner)
    response = client_for(plain_staff).post(reverse("admin:credits_account_grant", args=[account.pk]),
                                            {"kind": "grant", "amount": "300", "note": "x"})
    assert response.status_code == 403
    assert not LedgerEntry.objects.exists()


def test_organization_mirror_pages_open(ops_client):
    for name in ("credits_orgsnapshot_changelist", "credits_dailyusage_changelist", "credits_ledgerentry_changelist",
                 "credits_hold_changelist"):
        assert ops_client.get(reverse(f"admin:{name}")).status_code == 200
