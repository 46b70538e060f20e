"""Every admin URL refuses anyone who is not staff; django-q2's pages are for superusers only."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, reverse

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# The sign-in and sign-out pages are the only admin URLs open to everyone.
OPEN = {"login", "logout"}
# django-q2 shows its queued-task rows (OrmQ) only on the ORM broker.
Q_MODELS = ["schedule", "success", "failure"] + (["ormq"] if "orm" in settings.Q_CLUSTER else [])


def admin_urls() -> list[tuple[str, str]]:
    """(name, path) of every named admin URL, with placeholder arguments filled in."""
    found: list[tuple[str, str]] = []

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name and p.name not in OPEN:
                kwargs = {}
                converters = getattr(p.pattern, "converters", {})
                for name in converters or re.compile(str(p.pattern)).groupindex:
                    kwargs[name] = "audit" if name == "app_label" else "1"
                if "content_type_id" in kwargs:
                    kwargs["object_id"] = "1"
                found.append((p.name, reverse(f"admin:{p.name}", kwargs=kwargs)))

    walk(admin.site.get_urls())
    return found


def test_the_walk_covers_the_ops_pages():
    names = {name for name, _ in admin_urls()}
    assert {"ops_queue_health", "audit_auditentry_export", "generations_generation_operate",
            "generations_generation_changelist", "accounts_project_budget", "accounts_user_changelist",
            "django_q_failure_changelist", "credits_account_changelist"} <= names
    assert len(names) > 60


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_sign_in(method, client):
    for name, url in admin_urls():
        response = getattr(client, method)(url)
        assert response.status_code == 302, (name, url, response.status_code)
        assert "login" in response["Location"], (name, url)


@pytest.mark.parametrize("method", ["get", "post"])
def test_signed_in_non_staff_is_refused(method, stranger):
    client = client_for(stranger)
    for name, url in admin_urls():
        response = getattr(client, method)(url)
        assert response.status_code in (302, 403), (name, url, response.status_code)
        if response.status_code == 302:
            assert reverse("admin:login") in response["Location"], (name, url)


def test_django_q_pages_refuse_staff_who_are_not_superusers(operator, superuser):
    staff, root = client_for(operator), client_for(superuser)
    for model in Q_MODELS:
        url = reverse(f"admin:django_q_{model}_changelist")
        assert staff.get(url).status_code == 403, url
        assert root.get(url).status_code == 200, url
    assert staff.get(reverse("admin:app_list", args=["django_q"])).status_code == 404
    assert b"django_q" not in staff.get(reverse("admin:index")).content
    assert b"/admin/django_q/" in root.get(reverse("admin:index")).content


def test_staff_see_the_console(ops_client):
    assert ops_client.get(reverse("admin:index")).status_code == 200
    assert ops_client.get(reverse("admin:ops_queue_health")).status_code == 200
    assert ops_client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
