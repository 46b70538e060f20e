import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


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


def test_profile_update(client):
    user = make_user("nina")
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"first_name": "Nina", "last_name": "K", "email": "nina@example.com"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Nina K"
    assert mail.outbox == []  # the address did not change: nothing to confirm


def test_every_form_control_has_a_label(client):
    for name in ["accounts:login", "accounts:signup", "accounts:password_reset"]:
        html = client.get(reverse(name)).content.decode()
        ids = re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html)
        assert ids
        for control_id in ids:
            assert f'for="{control_id}"' in html, (name, control_id)
