"""Staff see every person's API tokens in the ops console and revoke any, audited; nobody adds one there."""

import pytest
from django.urls import reverse

from accounts.actions import create_api_token
from accounts.models import ApiToken
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_staff_list_and_revoke_any_token(ops_client, operator, project, editor, owner):
    mine, raw = create_api_token(user=editor, project=project, name="editor's farm")
    theirs, _raw = create_api_token(user=owner, project=project, name="owner's ci")
    listing = ops_client.get(reverse("admin:accounts_apitoken_changelist"))
    assert listing.status_code == 200
    assert b"editor&#x27;s farm" in listing.content and b"owner&#x27;s ci" in listing.content
    assert raw.encode() not in listing.content
    ops_client.post(reverse("admin:accounts_apitoken_changelist"),
                    {"action": "revoke_selected", "_selected_action": [mine.pk], "index": 0})
    assert ApiToken.objects.get(pk=mine.pk).state == "revoked"
    assert ApiToken.objects.get(pk=theirs.pk).state == "active"
    entry = AuditEntry.objects.get(action="api_token.revoke")
    assert entry.actor == operator and entry.object_id == str(mine.pk)
    assert ops_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
