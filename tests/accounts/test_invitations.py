"""Invitations: what the inviter sees, whom a link lets in, and what is refused."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Invitation, Membership, Project, Role, User
from audit.models import AuditEntry
from tests.accounts.conftest import link_in_mail, query_value
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def invite(client, project, who, role="editor"):
    return client.post(reverse("projects:invite", args=[project.slug]), {"who": who, "role": role})


def link_from_mail() -> str:
    return link_in_mail("/invitations/")


def members_page(client, project) -> str:
    return client.get(reverse("projects:members", args=[project.slug])).content.decode()


# --- what the inviter sees ------------------------------------------------------------------------


def test_inviting_by_username_never_shows_their_address(project, owner_client, stranger):
    response = invite(owner_client, project, "stan", "viewer")
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["stan@example.com"]  # the mail goes to their address…
    page = owner_client.get(response.url).content.decode()
    assert "Invitation sent to stan." in page  # …the inviter reads only the name they typed
    assert "stan@example.com" not in page
    assert "stan@example.com" not in members_page(owner_client, project)


def test_an_unknown_username_gets_the_same_answer_as_a_known_one(project, owner_client, stranger):
    known = invite(owner_client, project, "stan")
    known_page = owner_client.get(known.url).content.decode()
    unknown = invite(owner_client, project, "nobody-here")
    unknown_page = owner_client.get(unknown.url).content.decode()
    assert known.status_code == unknown.status_code == 302
    assert "Invitation sent to stan." in known_page
    assert "Invitation sent to nobody-here." in unknown_page
    listing = members_page(owner_client, project)
    assert "stan" in listing and "nobody-here" in listing
    assert "Nobody is called" not in unknown_page
    assert [m.to for m in mail.outbox] == [["stan@example.com"]]  # nobody to mail for the unknown name


def test_an_unknown_address_gets_the_same_answer_as_a_known_one(project, owner_client, stranger):
    known = owner_client.get(invite(owner_client, project, "stan@example.com").url).content.decode()
    unknown = owner_client.get(invite(owner_client, project, "nobody@example.com").url).content.decode()
    assert "Invitation sent to stan@example.com." in known
    assert "Invitation sent to nobody@example.com." in unknown
    assert [m.to for m in mail.outbox] == [["stan@example.com"], ["nobody@example.com"]]


def test_the_invitation_page_names_no_address_to_someone_else(project, owner_client, stranger):
    invite(owner_client, project, "newbie@example.com")
    page = client_for(stranger).get(link_from_mail())
    assert page.status_code == 200
    html = page.content.decode()
    assert "newbie@example.com" not in html
    assert "sent to someone else" in html


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [
    "stan@example.com\nBcc: evil@example.com",
    "stan@example.com\r\nSubject: win",
    "a@b",
    "@example.com",
    "two@@example.com",
    "with space@example.com",
])
def test_addresses_are_validated_and_nothing_is_saved(project, owner_client, who):
    response = invite(owner_client, project, who)
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()
    assert Invitation.objects.count() == 0
    assert mail.outbox == []


def test_invitations_into_a_personal_project_are_refused(owner_client, owner, stranger):
    personal = Project.objects.get(created_by=owner, is_personal=True)
    response = invite(owner_client, personal, "stan")
    assert response.status_code == 400
    assert "personal" in response.content.decode()
    assert Invitation.objects.count() == 0
    assert mail.outbox == []


def test_an_invitation_into_a_personal_project_cannot_be_accepted(owner, stranger):
    personal = Project.objects.get(created_by=owner, is_personal=True)
    # As older versions let one be made.
    _invitation, token = Invitation.issue(project=personal, email=stranger.email, role=Role.EDITOR,
                                          invited_by=owner)
    stan = client_for(stranger)
    response = stan.post(reverse("invitation", args=[token]), {"decision": "accept"})
    assert response.status_code == 400
    assert "personal" in response.content.decode()
    assert not personal.memberships.filter(user=stranger).exists()


# --- the mail --------------------------------------------------------------------------------------


def test_the_invitation_mail_has_our_subject_and_sender_whatever_the_inviter_is_called(
        project, owner, owner_client, settings):
    owner.first_name = '<a href="https://evil.example/">Your bank</a>\nBcc: x@example.com'
    owner.last_name = "URGENT: verify your account"
    owner.save()
    project.name = "<script>alert(1)</script>"
    project.save()
    invite(owner_client, project, "newbie@example.com")
    message = mail.outbox[-1]
    assert message.subject == "You are invited to a project on Takes"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert "\n" not in message.subject
    html = message.alternatives[0][0]
    assert '<a href="https://evil.example/">' not in html and "<script>" not in html
    assert "&lt;a href=" in html and "&lt;script&gt;" in html
    assert "Bcc: x@example.com" not in message.body.split("\n")  # the name stays on one line


# --- whom a link lets in ---------------------------------------------------------------------------


def test_the_invited_address_accepts(project, owner_client, stranger):
    invite(owner_client, project, "stan@example.com", "viewer")
    stan = client_for(stranger)
    response = stan.post(link_from_mail(), {"decision": "accept"})
    assert response.status_code == 302
    assert Membership.objects.get(project=project, user=stranger).role == Role.VIEWER


def test_a_link_does_not_let_in_whoever_holds_it(project, owner_client, stranger):
    invite(owner_client, project, "newbie@example.com")
    link = link_from_mail()
    stan = client_for(stranger)
    for decision in ("accept", "decline"):
        response = stan.post(link, {"decision": decision})
        assert response.status_code == 403
        assert "sent to someone else" in response.content.decode()
    assert not project.memberships.filter(user=stranger).exists()
    assert Invitation.objects.get().is_pending


def test_an_unconfirmed_address_must_be_confirmed_before_accepting(project, owner_client, client):
    legacy = make_user("lee")
    User.objects.filter(pk=legacy.pk).update(email_confirmed=False)  # from before addresses were confirmed
    invite(owner_client, project, "lee@example.com")
    link = link_from_mail()
    client.force_login(legacy)
    response = client.post(link, {"decision": "accept"})
    assert response.status_code == 403
    assert "Confirm your email address" in response.content.decode()
    assert not project.memberships.filter(user=legacy).exists()
    # Confirming it from the profile page lets them in.
    client.post(reverse("accounts:profile"), {"send_confirmation": "1"})
    token = query_value(link_in_mail("/accounts/profile/"), "confirm")
    client.post(reverse("accounts:profile"), {"confirm": token})
    legacy.refresh_from_db()
    assert legacy.email_confirmed
    assert client.post(link, {"decision": "accept"}).status_code == 302
    assert project.memberships.filter(user=legacy).exists()


def test_changing_ones_address_to_the_invited_one_does_not_let_one_in(project, owner_client, stranger):
    invite(owner_client, project, "newbie@example.com")
    link = link_from_mail()
    stan = client_for(stranger)
    stan.post(reverse("accounts:profile"), {"first_name": "", "last_name": "", "email": "newbie@example.com"})
    response = stan.post(link, {"decision": "accept"})
    assert response.status_code == 403
    assert not project.memberships.filter(user=stranger).exists()


def test_someone_else_asks_to_join_and_an_owner_lets_them_in(project, owner_client, owner, stranger):
    invite(owner_client, project, "stan.work@example.com", "viewer")
    link = link_from_mail()
    stan = client_for(stranger)
    page = stan.get(link).content.decode()
    assert "Ask to join" in page
    response = stan.post(link, {"decision": "request"})
    assert response.status_code == 302
    assert not project.memberships.filter(user=stranger).exists()
    assert "asked to join" in stan.get(link).content.decode()
    invitation = Invitation.objects.get()
    assert invitation.requested_by == stranger
    # The owner sees who asked (by name, never by address) and approves.
    listing = members_page(owner_client, project)
    assert "stan" in listing and "asked to join" in listing and "stan@example.com" not in listing
    approve = reverse("projects:invitation_request", args=[project.slug, invitation.pk])
    assert client_for(stranger).post(approve, {"decision": "approve"}).status_code == 404  # not theirs to decide
    response = owner_client.post(approve, {"decision": "approve"})
    assert response.status_code == 302
    assert Membership.objects.get(project=project, user=stranger).role == Role.VIEWER
    invitation.refresh_from_db()
    assert invitation.state == "accepted" and invitation.accepted_by == stranger
    assert AuditEntry.objects.filter(action="invitation.request", actor=stranger).exists()
    assert AuditEntry.objects.filter(action="invitation.approve", actor=owner).exists()


def test_an_owner_turns_a_request_down_and_the_link_stops_working(project, owner_client, stranger):
    invite(owner_client, project, "newbie@example.com")
    link = link_from_mail()
    stan = client_for(stranger)
    stan.post(link, {"decision": "request"})
    invitation = Invitation.objects.get()
    url = reverse("projects:invitation_request", args=[project.slug, invitation.pk])
    assert owner_client.post(url, {"decision": "maybe"}).status_code == 400
    response = owner_client.post(url, {"decision": "decline"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.state == "revoked"
    assert not project.memberships.filter(user=stranger).exists()
    assert stan.post(link, {"decision": "request"}).status_code == 400


def test_only_one_person_may_ask_with_a_link(project, owner_client, stranger, editor):
    invite(owner_client, project, "newbie@example.com")
    link = link_from_mail()
    client_for(stranger).post(link, {"decision": "request"})
    other = client_for(make_user("otto"))
    response = other.post(link, {"decision": "request"})
    assert response.status_code == 400
    assert Invitation.objects.get().requested_by == stranger
