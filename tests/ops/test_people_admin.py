"""People and projects in the admin: deactivation, budgets, roles, invitations — all audited."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.actions import invite_member
from accounts.models import Membership, Role, User
from audit.models import AuditEntry
from credits import ledger
from generations import run
from generations.models import Status
from generations.submit import SubmissionError
from tests.conftest import client_for
from tests.ops.conftest import drive, submit

pytestmark = pytest.mark.django_db


def user_action(client, action, *users):
    return client.post(reverse("admin:accounts_user_changelist"),
                       {"action": action, "_selected_action": [u.pk for u in users], "index": 0})


def test_deactivated_person_finishes_in_flight_work_but_cannot_start_more(ops_client, operator, project, funded,
                                                                          image, runway_emulator):
    in_flight = submit(project, funded, image)
    run.run_generation(generation_id=in_flight.pk)
    in_flight.refresh_from_db()
    assert in_flight.status == Status.PENDING

    response = user_action(ops_client, "deactivate_selected", funded)
    assert response.status_code == 302
    funded.refresh_from_db()
    assert not funded.is_active

    assert drive(in_flight).status == Status.SUCCEEDED
    assert ledger.account_for(funded).held == 0
    with pytest.raises(SubmissionError, match="deactivated"):
        submit(project, funded, image)
    assert client_for(funded).get(reverse("generations:home", args=[project.slug])).status_code == 302

    entry = AuditEntry.objects.get(action="user.deactivate")
    assert entry.actor == operator and entry.object_id == str(funded.pk)
    assert entry.before == {"is_active": True} and entry.after == {"is_active": False}


def test_reactivate_and_no_self_deactivation(ops_client, operator, owner):
    user_action(ops_client, "deactivate_selected", owner, operator)
    operator.refresh_from_db()
    owner.refresh_from_db()
    assert operator.is_active and not owner.is_active
    user_action(ops_client, "reactivate_selected", owner)
    owner.refresh_from_db()
    assert owner.is_active
    assert list(AuditEntry.objects.filter(action__startswith="user.").order_by("id")
                .values_list("action", flat=True)) == ["user.deactivate", "user.reactivate"]


def test_is_active_cannot_be_edited_by_hand(ops_client, owner):
    page = ops_client.get(reverse("admin:accounts_user_change", args=[owner.pk]))
    assert page.status_code == 200
    assert b'name="is_active"' not in page.content


def test_user_edit_is_audited_without_the_password(ops_client, owner):
    url = reverse("admin:accounts_user_change", args=[owner.pk])
    page = ops_client.get(url).content.decode()
    hidden = dict(re.findall(r'type="hidden" name="(memberships-[^"]+)" value="([^"]*)"', page))
    response = ops_client.post(url, {**hidden, "username": owner.username, "first_name": "Olivia",
                                     "last_name": "Marsh", "email": owner.email})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.change", object_type="accounts.user")
    assert entry.before["first_name"] == "" and entry.after["first_name"] == "Olivia"
    assert "password" not in entry.after


def test_budget_is_set_and_removed_through_the_ledger_and_logged(ops_client, operator, project):
    url = reverse("admin:accounts_project_budget", args=[project.pk])
    assert ops_client.get(url).status_code == 200
    assert ops_client.post(url, {"amount": "500", "note": "Q3 cap"}).status_code == 302
    assert ledger.budget_for(project).balance == 500
    assert ops_client.post(url, {"amount": "-5"}).status_code == 400
    assert ops_client.post(url, {"amount": ""}).status_code == 302
    assert ledger.budget_for(project) is None
    first, second = AuditEntry.objects.filter(action="project.budget").order_by("id")
    assert first.before["budget"] is None and first.after["budget"] == 500 and first.note == "Q3 cap"
    assert second.before["budget"] == 500 and second.after["budget"] is None
    assert first.actor == operator


def test_role_change_goes_through_the_workflow(ops_client, project, owner, editor):
    editor_m = Membership.objects.get(project=project, user=editor)
    owner_m = Membership.objects.get(project=project, user=owner)
    url = reverse("admin:accounts_membership_change", args=[editor_m.pk])
    assert ops_client.post(url, {"role": Role.OWNER}).status_code == 302
    editor_m.refresh_from_db()
    assert editor_m.role == Role.OWNER
    entry = AuditEntry.objects.get(action="membership.role")
    assert entry.before["role"] == "editor" and entry.after["role"] == "owner"
    # Demoting both owners: the second is refused, the project keeps one.
    ops_client.post(reverse("admin:accounts_membership_change", args=[owner_m.pk]), {"role": Role.VIEWER})
    response = ops_client.post(url, {"role": Role.VIEWER})
    assert response.status_code == 200 and b"at least one owner" in response.content
    assert project.owners().count() == 1


def test_revoke_invitation_is_logged(ops_client, project, owner):
    invitation, _ = invite_member(project=project, invited_by=owner, who="new@example.com", role=Role.EDITOR)
    ops_client.post(reverse("admin:accounts_invitation_changelist"),
                    {"action": "revoke_selected", "_selected_action": [invitation.pk], "index": 0})
    invitation.refresh_from_db()
    assert invitation.state == "revoked"
    entry = AuditEntry.objects.get(action="invitation.revoke")
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"]
    assert "token_hash" not in entry.after


def test_people_list_shows_credits_and_in_flight(ops_client, project, funded, image, runway_emulator):
    submit(project, funded, image)
    html = ops_client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert f"stage=in_flight&amp;created_by__id__exact={funded.pk}" in html
    assert User.objects.count() >= 4
