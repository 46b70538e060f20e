"""Arriving signed out with an invitation: the sign-in and sign-up pages say who invited whom to
what, sign-up is filled in with the invited address, and joining lands in the project."""

from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Membership, Role
from tests.accounts.conftest import link_in_mail, query_value
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation_link(project, owner_client) -> str:
    owner_client.post(reverse("projects:invite", args=[project.slug]),
                      {"who": "newbie@example.com", "role": Role.EDITOR})
    return link_in_mail("/invitations/")


def test_a_signed_out_invitee_is_sent_to_sign_in_with_the_link_kept(client, invitation_link):
    response = client.get(invitation_link)
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={quote(invitation_link)}"


def test_sign_in_from_an_invitation_says_who_invited_them_to_what(client, invitation_link, owner):
    page = client.get(reverse("accounts:login"), {"next": invitation_link}).content.decode()
    assert f"{owner.display_name} invited you to join <strong>Moonshot</strong> as an editor" in page
    # Newcomers go on to sign-up with the link kept.
    assert f'{reverse("accounts:signup")}?next={quote(invitation_link)}' in page


def test_sign_up_from_an_invitation_says_so_and_is_filled_in_with_the_invited_address(
        client, invitation_link, owner):
    page = client.get(reverse("accounts:signup"), {"next": invitation_link}).content.decode()
    assert f"{owner.display_name} invited you to join <strong>Moonshot</strong> as an editor" in page
    assert 'value="newbie@example.com"' in page


def test_an_invitation_by_username_fills_in_no_address(project, owner_client, client, stranger):
    owner_client.post(reverse("projects:invite", args=[project.slug]), {"who": "stan", "role": Role.VIEWER})
    link = link_in_mail("/invitations/")
    page = client.get(reverse("accounts:signup"), {"next": link}).content.decode()
    assert "invited you to join <strong>Moonshot</strong> as a viewer" in page
    assert stranger.email not in page  # the inviter typed a name, so the page shows no address


def test_a_closed_or_bogus_invitation_adds_nothing(client, project, invitation_link, owner):
    bogus = "/invitations/" + "x" * 43 + "/"
    for page in (client.get(reverse("accounts:login"), {"next": bogus}),
                 client.get(reverse("accounts:signup"), {"next": "/p/moonshot/"})):
        assert "invited you" not in page.content.decode()
    project.invitations.update(revoked_at="2020-01-01T00:00:00Z")
    page = client.get(reverse("accounts:signup"), {"next": invitation_link}).content.decode()
    assert "invited you" not in page and "newbie@example.com" not in page


def test_joining_from_sign_up_lands_in_the_project_with_a_welcome(client, project, invitation_link, owner):
    client.post(reverse("accounts:signup") + f"?next={quote(invitation_link)}",
                {"username": "newbie", "email": "newbie@example.com", "next": invitation_link})
    link = link_in_mail("/accounts/signup/")
    finish_page = client.get(link).content.decode()
    assert "invited you to join <strong>Moonshot</strong>" in finish_page
    response = client.post(reverse("accounts:signup"), {
        "token": query_value(link, "token"), "username": "newbie", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert response.url == invitation_link
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert not any("personal space" in m for m in said)
    assert any("Moonshot" in m for m in said)
    invitation_page = client.get(invitation_link).content.decode()
    assert "Accept invitation" in invitation_page
    joined = client.post(invitation_link, {"decision": "accept"}, follow=True)
    assert joined.request["PATH_INFO"] == reverse("generations:home", args=[project.slug])
    page = joined.content.decode()
    assert "Welcome to Moonshot" in page and "personal space" not in page
    assert Membership.objects.get(project=project, user__username="newbie").role == Role.EDITOR


def test_an_ordinary_sign_up_still_greets_the_personal_space(client):
    client.post(reverse("accounts:signup"), {"username": "nina", "email": "nina@example.com"})
    link = link_in_mail("/accounts/signup/")
    response = client.post(reverse("accounts:signup"), {
        "token": query_value(link, "token"), "username": "nina", "password1": PASSWORD, "password2": PASSWORD},
        follow=True)
    assert "This is your personal space" in response.content.decode()
