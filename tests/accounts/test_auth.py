import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from accounts.models import Membership, Project, User
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def signup(client, username="nina", email="nina@example.com", password=PASSWORD, **extra):
    return client.post(
        reverse("accounts:signup"),
        {"username": username, "email": email, "password1": password, "password2": password, **extra},
    )


def test_signup_creates_user_with_personal_project_and_signs_in(client):
    response = signup(client)
    user = User.objects.get(username="nina")
    project = Project.objects.get(created_by=user, is_personal=True)
    assert response.status_code == 302
    assert Membership.objects.get(project=project, user=user).role == "owner"
    home = client.get(reverse("home"))
    assert home.url == project.get_absolute_url()
    page = client.get(home.url)
    assert page.status_code == 200
    assert escape(project.name) in page.content.decode()


def test_signup_refuses_duplicate_username_and_email_case_insensitively(client):
    make_user("nina")
    response = signup(client, username="NINA", email="other@example.com")
    assert response.status_code == 400
    assert "That username is taken" in response.content.decode()
    response = signup(client, username="nora", email="Nina@Example.com")
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_signup_refuses_weak_and_mismatched_passwords(client):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "x1", "email": "x1@example.com", "password1": "abc", "password2": "abd"},
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="x1").exists()


def test_pages_require_sign_in_except_public_ones(client):
    assert client.get(reverse("home")).url.startswith(reverse("accounts:login"))
    assert client.get(reverse("project_list")).status_code == 302
    for name in ["accounts:login", "accounts:signup", "accounts:password_reset"]:
        assert client.get(reverse(name)).status_code == 200


def test_sign_in_and_sign_out(client):
    make_user("nina")
    response = client.post(reverse("accounts:login"), {"username": "nina", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("project_list")).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("project_list")).status_code == 302


def test_wrong_password_is_refused_with_message(client):
    make_user("nina")
    response = client.post(reverse("accounts:login"), {"username": "nina", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_repeated_failures_lock_sign_in_even_with_right_password(client, settings):
    make_user("nina")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "nina", "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": "nina", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get(reverse("project_list")).status_code == 302


def test_password_change(client):
    user = make_user("nina")
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "another-Long-pass-77", "new_password2": "another-Long-pass-77"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-Long-pass-77")


def test_password_reset_by_email(client):
    user = make_user("nina")
    response = client.post(reverse("accounts:password_reset"), {"email": "nina@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-New-pass-99", "new_password2": "brand-New-pass-99"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-New-pass-99")


def test_profile_update_and_duplicate_email(client):
    user = make_user("nina")
    make_user("omar")
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"first_name": "Nina", "last_name": "K", "email": "nina@example.com"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Nina K"
    response = client.post(reverse("accounts:profile"), {"first_name": "N", "last_name": "", "email": "OMAR@example.com"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email == "nina@example.com"


def test_every_form_control_has_a_label(client):
    for name in ["accounts:login", "accounts:signup", "accounts:password_reset"]:
        html = client.get(reverse(name)).content.decode()
        ids = re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html)
        assert ids
        for control_id in ids:
            assert f'for="{control_id}"' in html, (name, control_id)
