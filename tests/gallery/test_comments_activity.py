"""Comments on outputs and the project's activity feed, built on the audit log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.actions import invite_member
from gallery.models import Comment
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _comment(client, project, output, text="Lovely light on the left"):
    return client.post(reverse("gallery:comment_add", args=[project.slug, output.pk]), {"text": text})


def test_members_comment_and_authors_or_owners_delete(project, editor, owner, viewer, make_output):
    out = make_output(project, owner)
    assert _comment(client_for(editor), project, out).status_code == 302
    page = client_for(viewer).get(reverse("gallery:output", args=[project.slug, out.pk])).content.decode()
    assert "Lovely light on the left" in page
    assert _comment(client_for(viewer), project, out).status_code == 403  # viewers read
    assert _comment(client_for(editor), project, out, text="").status_code == 400
    assert _comment(client_for(editor), project, out, text="x" * 2001).status_code == 400
    comment = Comment.objects.get()
    url = reverse("gallery:comment_delete", args=[project.slug, out.pk, comment.pk])
    _comment(client_for(owner), project, out, text="Agreed")
    mine = Comment.objects.get(text="Agreed")
    assert client_for(editor).post(reverse("gallery:comment_delete", args=[project.slug, out.pk, mine.pk])
                                   ).status_code == 403  # not the editor's own
    assert "Delete this comment?" in client_for(editor).get(url).content.decode()
    assert client_for(editor).post(url).status_code == 302
    assert list(Comment.objects.values_list("text", flat=True)) == ["Agreed"]


def test_strangers_see_no_comments_and_no_activity(project, owner, stranger, make_output):
    out = make_output(project, owner)
    assert _comment(client_for(stranger), project, out).status_code == 404
    assert client_for(stranger).get(reverse("gallery:activity", args=[project.slug])).status_code == 404


def test_the_activity_feed_tells_who_generated_commented_deleted_and_invited(project, owner, editor, make_output):
    out = make_output(project, editor, prompt="a heron")
    _comment(client_for(owner), project, out)
    client_for(editor).post(reverse("gallery:delete", args=[project.slug]), {"ids": [out.pk]})
    invite_member(project=project, invited_by=owner, who="guest@example.com", role="viewer")
    page = client_for(editor).get(reverse("gallery:activity", args=[project.slug]))
    assert page.status_code == 200
    lines = [f"{e.who} {e.what}" for e in page.context["page"].object_list]
    assert lines[0].startswith(owner.display_name) and "invitation" in lines[0]  # the newest first
    assert f"{editor.display_name} moved outputs to the trash" in lines
    assert f"{owner.display_name} commented" in lines
    assert any(line.startswith(f"{editor.display_name} generated") for line in lines)
