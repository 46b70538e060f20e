"""Ops grant and adjust credits from the admin, through the ledger."""

import pytest
from django.urls import reverse

from credits import ledger
from credits.models import Kind, LedgerEntry
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def test_admin_grants_and_refuses_an_adjustment_below_zero(editor):
    ops = make_user("ops", is_staff=True, is_superuser=True)
    client = client_for(ops)
    account = ledger.account_for(editor)
    url = reverse("admin:credits_account_grant", args=[account.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "grant", "amount": "300", "note": "monthly allowance"})
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(kind=Kind.GRANT)
    assert (entry.credits, entry.by, entry.note) == (300, ops, "monthly allowance")
    response = client.post(url, {"kind": "adjust", "amount": "-400", "note": "oops"})
    assert response.status_code == 200 and "below zero" in response.content.decode()
    account.refresh_from_db()
    assert account.balance == 300
    assert client.get(reverse("admin:credits_account_changelist")).status_code == 200
    assert client.get(reverse("admin:credits_ledgerentry_changelist")).status_code == 200


def test_admin_grant_page_needs_staff(editor, editor_client):
    url = reverse("admin:credits_account_grant", args=[ledger.account_for(editor).pk])
    assert editor_client.get(url).status_code == 302
