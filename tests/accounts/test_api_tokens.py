"""Personal API tokens: made on the project's page (shown once, stored hashed), listed, revoked; the command."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.actions import create_api_token
from accounts.models import ApiToken
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_and_stored_only_as_its_hash(editor_client, project, editor):
    url = reverse("projects:tokens", args=[project.slug])
    response = editor_client.post(url, {"name": "render farm", "credit_limit": "500", "rate_limit": "60/m"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("takes_") and len(secret) == 6 + 64
    assert secret.encode() in response.content
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.values().get())
    assert (token.user, token.project, token.credit_limit, token.rate_limit) == (editor, project, 500, "60/m")
    entry = AuditEntry.objects.get(action="api_token.create")
    assert secret not in str(entry.after)
    # The list shows it by name and prefix, never the secret again.
    listed = editor_client.get(url)
    assert b"render farm" in listed.content and token.prefix.encode() in listed.content
    assert secret.encode() not in listed.content


def test_bad_input_is_refused_with_a_message(editor_client, project):
    url = reverse("projects:tokens", args=[project.slug])
    response = editor_client.post(url, {"name": "", "rate_limit": "lots"})
    assert response.status_code == 400
    response = editor_client.post(url, {"name": "x", "rate_limit": "lots"})
    assert response.status_code == 400 and b"60/m" in response.content
    for rate in ("5/0m", "0/m", "60/minute"):
        assert editor_client.post(url, {"name": "x", "rate_limit": rate}).status_code == 400
    response = editor_client.post(url, {"name": "x", "expires_on": "2001-01-01"})
    assert response.status_code == 400 and b"future" in response.content
    assert not ApiToken.objects.exists()


def test_revoke_asks_first_then_revokes_with_an_audit_entry(editor_client, project, editor):
    token, _raw = create_api_token(user=editor, project=project, name="ci")
    url = reverse("projects:token_revoke", args=[project.slug, token.pk])
    assert editor_client.get(url).status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is None
    assert editor_client.post(url).status_code == 302
    token.refresh_from_db()
    assert token.state == "revoked" and token.revoked_by == editor
    assert AuditEntry.objects.filter(action="api_token.revoke", object_id=str(token.pk)).count() == 1


def test_someone_elses_token_is_404_unless_owner(client, project, editor, owner, viewer):
    from tests.conftest import client_for

    token, _raw = create_api_token(user=owner, project=project, name="owner's")
    url = reverse("projects:token_revoke", args=[project.slug, token.pk])
    assert client_for(editor).post(url).status_code == 404
    mine, _raw = create_api_token(user=editor, project=project, name="editor's")
    listed = client_for(owner).get(reverse("projects:tokens", args=[project.slug]))
    assert b"editor&#x27;s" in listed.content or b"editor's" in listed.content  # owners see every token
    assert client_for(owner).post(reverse("projects:token_revoke", args=[project.slug, mine.pk])).status_code == 302
    assert ApiToken.objects.get(pk=mine.pk).state == "revoked"


def test_the_command_prints_a_working_token(project, editor):
    out = StringIO()
    call_command("api_token", editor.username, project.slug, "--credit-limit", "100", stdout=out)
    raw = out.getvalue().strip()
    token = ApiToken.objects.by_secret(raw)
    assert token is not None and token.is_usable and token.credit_limit == 100 and token.user == editor
