"""Rate limits on invitations, sign-up and password resets: a clear 429 page, per person and per address."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.actions import create_team_project
from accounts.models import Invitation, User
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """Set some rates for this test (the rest keep their defaults)."""

    def set_rates(**scopes):
        settings.RATE_LIMITS = {**getattr(settings, "RATE_LIMITS", {}),
                                **{name.replace("_", "-"): rate for name, rate in scopes.items()}}

    return set_rates


def assert_429_page(response):
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many requests" in html
    assert "try again" in html
    assert int(response["Retry-After"]) > 0


def test_the_default_rates_are_settings(settings):
    for scope in ("invitations-person", "invitations-ip", "sign-up-ip", "sign-up-address",
                  "sign-in-failures-ip", "password-reset-ip", "password-reset-address"):
        count, _, period = settings.RATE_LIMITS[scope].partition("/")
        assert int(count) > 0 and period


def test_invitations_are_limited_per_person(project, owner, owner_client, rates):
    rates(invitations_person="3/h")
    for i in range(3):
        assert owner_client.post(reverse("projects:invite", args=[project.slug]),
                                 {"who": f"guest{i}@example.com", "role": "viewer"}).status_code == 302
    response = owner_client.post(reverse("projects:invite", args=[project.slug]),
                                 {"who": "one-more@example.com", "role": "viewer"})
    assert_429_page(response)
    assert not Invitation.objects.filter(email="one-more@example.com").exists()
    assert len(mail.outbox) == 3
    # Another owner is not held back by it.
    other = make_user("oona")
    theirs = create_team_project(user=other, name="Elsewhere")
    response = client_for(other).post(reverse("projects:invite", args=[theirs.slug]),
                                      {"who": "guest@example.com", "role": "viewer"})
    assert response.status_code == 302


def test_invitations_are_limited_per_network_address(project, owner, editor, rates):
    rates(invitations_ip="2/h")
    clients = []
    for name in ("ada", "bo", "cy"):
        person = make_user(name)
        clients.append((client_for(person), create_team_project(user=person, name=f"{name} team")))
    answers = [c.post(reverse("projects:invite", args=[p.slug]), {"who": "x@example.com", "role": "viewer"},
                      REMOTE_ADDR="198.51.100.4").status_code for c, p in clients]
    assert answers == [302, 302, 429]


def test_sign_ups_are_limited_per_network_address(client, rates):
    rates(sign_up_ip="2/h")
    answers = [client.post(reverse("accounts:signup"), {"username": f"n{i}", "email": f"n{i}@example.com"},
                           REMOTE_ADDR="203.0.113.5").status_code for i in range(3)]
    assert answers == [200, 200, 429]
    assert len(mail.outbox) == 2
    # From elsewhere it still works.
    assert client.post(reverse("accounts:signup"), {"username": "n9", "email": "n9@example.com"},
                       REMOTE_ADDR="203.0.113.6").status_code == 200


def test_sign_ups_are_limited_per_address_whether_or_not_it_has_an_account(client, rates):
    rates(sign_up_address="2/h")
    make_user("omar")
    for email in ("omar@example.com", "free@example.com"):
        answers = [client.post(reverse("accounts:signup"), {"username": f"u{i}", "email": email},
                               REMOTE_ADDR=f"203.0.113.{i}").status_code for i in range(3)]
        assert answers == [200, 200, 429], email
    assert len(mail.outbox) == 4
    assert not User.objects.filter(username__startswith="u").exists()


def test_a_mistyped_sign_up_form_does_not_count(client, rates):
    rates(sign_up_ip="1/h")
    for _ in range(3):
        assert client.post(reverse("accounts:signup"), {"username": "", "email": "x"}).status_code == 400
    assert client.post(reverse("accounts:signup"), {"username": "n", "email": "n@example.com"}).status_code == 200


def test_password_resets_are_limited_per_address(client, rates):
    rates(password_reset_address="2/h")
    make_user("nina")
    answers = [client.post(reverse("accounts:password_reset"), {"email": "nina@example.com"},
                           REMOTE_ADDR=f"203.0.113.{i}").status_code for i in range(3)]
    assert answers == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_an_ipv6_network_counts_as_one_address(client, rates):
    rates(sign_up_ip="2/h")
    answers = [client.post(reverse("accounts:signup"), {"username": f"v{i}", "email": f"v{i}@example.com"},
                           REMOTE_ADDR=f"2001:db8:1:2::{i + 1:x}").status_code for i in range(3)]
    assert answers == [200, 200, 429]  # one holder gets a whole /64
    assert client.post(reverse("accounts:signup"), {"username": "w", "email": "w@example.com"},
                       REMOTE_ADDR="2001:db8:1:3::1").status_code == 200
