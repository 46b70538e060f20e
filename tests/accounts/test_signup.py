"""Sign-up by a link sent to the address: the answer never tells whether an account uses it."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership, Project, User
from tests.accounts.conftest import link_in_mail, query_value
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"


def start(client, username="nina", email="nina@example.com", **extra):
    return client.post(reverse("accounts:signup"), {"username": username, "email": email, **extra})


def finish(client, link, username="nina", password=PASSWORD):
    token = query_value(link, "token")
    return client.post(reverse("accounts:signup"), {"token": token, "username": username,
                                                    "password1": password, "password2": password})


def without_csrf(html: str) -> str:
    """The page with its per-request CSRF tokens taken out, for comparing two answers."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def test_signup_mails_a_link_and_the_link_creates_the_account(client):
    response = start(client)
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert not User.objects.filter(username="nina").exists()
    assert client.get(reverse("project_list")).status_code == 302  # not signed in yet
    assert mail.outbox[-1].to == ["nina@example.com"]
    link = link_in_mail(SIGNUP)
    page = client.get(link)
    assert page.status_code == 200
    assert "nina@example.com" in page.content.decode() and 'name="password1"' in page.content.decode()
    response = finish(client, link)
    assert response.status_code == 302
    user = User.objects.get(username="nina")
    assert user.email == "nina@example.com" and user.email_confirmed
    project = Project.objects.get(created_by=user, is_personal=True)
    assert Membership.objects.get(project=project, user=user).role == "owner"
    assert client.get(reverse("home")).url == project.get_absolute_url()


def test_signup_with_a_taken_address_answers_exactly_as_with_a_free_one(client):
    make_user("omar")
    taken = start(client, username="nora", email="omar@example.com")
    free = start(client, username="nora", email="fresh@example.com")
    assert taken.status_code == free.status_code == 200
    assert without_csrf(taken.content.decode()).replace("omar@example.com", "ADDRESS") == \
        without_csrf(free.content.decode()).replace("fresh@example.com", "ADDRESS")
    assert not User.objects.filter(username="nora").exists()
    notice, link = mail.outbox
    # The owner of the taken address hears that someone tried, with no way in for the someone.
    assert notice.to == ["omar@example.com"]
    assert "tried to create" in notice.body and SIGNUP not in notice.body
    assert reverse("accounts:password_reset") in notice.body
    assert link.to == ["fresh@example.com"] and SIGNUP in link.body
    # Same for any spelling of the address.
    again = start(client, username="nora", email=" OMAR@Example.com ")
    assert again.status_code == 200 and mail.outbox[-1].to == ["omar@example.com"]


def test_signup_still_says_when_a_username_is_taken(client):
    make_user("nina")
    response = start(client, username="NINA", email="other@example.com")
    assert response.status_code == 400
    assert "That username is taken" in response.content.decode()
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["not-an-address", "nina@", "nina@example.com\nBcc: evil@example.com"])
def test_signup_refuses_bad_addresses(client, email):
    response = start(client, email=email)
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()
    assert mail.outbox == []


def test_a_tampered_or_expired_link_is_refused(client, settings):
    start(client)
    link = link_in_mail(SIGNUP)
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    for bad in (forged, SIGNUP + "?token=nonsense"):
        response = client.get(bad)
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    settings.ADDRESS_LINK_MAX_AGE = -1
    response = client.get(link)
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert finish(client, link).status_code == 400
    assert not User.objects.filter(username="nina").exists()


def test_a_link_makes_one_account(client):
    start(client)
    link = link_in_mail(SIGNUP)
    assert finish(client, link).status_code == 302
    client.post(reverse("accounts:logout"))
    again = finish(client, link, username="nina2")
    assert again.status_code == 400
    assert "already" in again.content.decode()
    assert User.objects.filter(email="nina@example.com").count() == 1


def test_finishing_with_a_weak_or_mismatched_password_is_refused(client):
    start(client)
    link = link_in_mail(SIGNUP)
    token = query_value(link, "token")
    response = client.post(reverse("accounts:signup"), {"token": token, "username": "nina",
                                                        "password1": "abc", "password2": "abd"})
    assert response.status_code == 400
    assert not User.objects.filter(username="nina").exists()


def test_password_reset_answers_the_same_for_unknown_addresses(client):
    make_user("nina")
    known = client.post(reverse("accounts:password_reset"), {"email": "nina@example.com"})
    unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    assert [m.to for m in mail.outbox] == [["nina@example.com"]]
    assert without_csrf(client.get(known.url).content.decode()) == \
        without_csrf(client.get(unknown.url).content.decode())


def test_profile_address_change_answers_the_same_whether_or_not_the_address_is_taken(client):
    nina = make_user("nina")
    make_user("omar")
    client.force_login(nina)
    url = reverse("accounts:profile")
    taken = client.post(url, {"first_name": "Nina", "last_name": "", "email": "omar@example.com"}, follow=True)
    free = client.post(url, {"first_name": "Nina", "last_name": "", "email": "fresh@example.com"}, follow=True)
    assert taken.status_code == free.status_code == 200
    assert without_csrf(taken.content.decode()).replace("omar@example.com", "ADDRESS") == \
        without_csrf(free.content.decode()).replace("fresh@example.com", "ADDRESS")
    nina.refresh_from_db()
    assert nina.email == "nina@example.com" and nina.first_name == "Nina"
    notice, link = mail.outbox
    assert notice.to == ["omar@example.com"] and "tried to" in notice.body
    assert link.to == ["fresh@example.com"]


def test_profile_address_changes_when_its_link_is_opened(client):
    nina = make_user("nina")
    client.force_login(nina)
    client.post(reverse("accounts:profile"), {"first_name": "", "last_name": "", "email": "new@example.com"})
    link = link_in_mail("/accounts/profile/")
    page = client.get(link)
    assert page.status_code == 200 and "new@example.com" in page.content.decode()
    nina.refresh_from_db()
    assert nina.email == "nina@example.com"  # a visit (a mail scanner's, say) changes nothing
    token = query_value(link, "confirm")
    response = client.post(reverse("accounts:profile"), {"confirm": token})
    assert response.status_code == 302
    nina.refresh_from_db()
    assert nina.email == "new@example.com" and nina.email_confirmed
    # Someone else signed in cannot use the link.
    client.force_login(make_user("omar"))
    assert client.post(reverse("accounts:profile"), {"confirm": token}).status_code == 400


@pytest.mark.parametrize("token", ["", "\x00", "9" * 5000, "a:b:c", ".eJzLSM3JyVcozy_KSQEAGgQEXQ:1:x", "<script>"])
def test_hostile_link_tokens_are_refused_politely(client, token):
    nina = make_user("nina")
    for url, name in ((reverse("accounts:signup"), "token"), (reverse("accounts:profile"), "confirm")):
        if name == "confirm":
            client.force_login(nina)
        for response in (client.get(url, {name: token}), client.post(url, {name: token})):
            assert response.status_code == 400, (url, token)
            assert "not valid" in response.content.decode()
