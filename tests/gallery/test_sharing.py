"""Share links: public read-only pages for one output, revocable at once; owners see them all."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gallery import actions
from gallery.models import ShareLink
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def share_url(output) -> str:
    return reverse("gallery:share", args=[output.project.slug, output.pk])


def revoke_url(link) -> str:
    return reverse("gallery:share_revoke", args=[link.output.project.slug, link.pk])


def test_share_link_lifecycle(project, editor, make_output):
    out = make_output(project, editor, "video", "sunrise over the harbour")
    response = client_for(editor).post(share_url(out))
    assert response.status_code == 302
    link = ShareLink.objects.get(output=out)
    assert len(link.token) >= 40 and link.created_by == editor

    anonymous = client_for(None)
    page = anonymous.get(reverse("share", args=[link.token]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "sunrise over the harbour" in html and "Gen-4.5" in html
    assert page["X-Robots-Tag"].startswith("noindex")
    assert reverse("share_media", args=[link.token]) in html
    assert 'class="nav"' not in html and project.name not in html  # no navigation, no project
    media = anonymous.get(reverse("share_media", args=[link.token]))
    assert media.status_code == 200 and media["Content-Type"] == "video/mp4"
    assert media["X-Content-Type-Options"] == "nosniff"
    assert b"".join(media.streaming_content)[:12].find(b"ftyp") == 4
    poster = anonymous.get(reverse("share_poster", args=[link.token]))
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"
    download = anonymous.get(reverse("share_media", args=[link.token]) + "?download")
    assert download["Content-Disposition"].startswith("attachment;")

    assert client_for(editor).post(revoke_url(link)).status_code == 302
    for name in ("share", "share_media", "share_poster"):
        gone = anonymous.get(reverse(name, args=[link.token]))
        assert gone.status_code == 404, name
    assert "revoked" in gone.content.decode()


def test_sharing_twice_gives_the_same_link_until_it_is_revoked(project, editor, make_output):
    out = make_output(project, editor)
    first = actions.share_output(output=out, user=editor)
    assert actions.share_output(output=out, user=editor) == first
    actions.revoke_share_link(link=first)
    assert actions.share_output(output=out, user=editor) != first


def test_share_htmx_returns_the_share_card_with_the_link(project, editor, make_output):
    out = make_output(project, editor)
    response = client_for(editor).post(share_url(out), headers={"HX-Request": "true"})
    html = response.content.decode()
    link = ShareLink.objects.get(output=out)
    assert html.lstrip().startswith('<div class="card" id="share">')
    assert f"/s/{link.token}/" in html and "Revoke link" in html
    response = client_for(editor).post(revoke_url(link), {"from": "detail"}, headers={"HX-Request": "true"})
    assert "Create share link" in response.content.decode()


@pytest.mark.parametrize("token", ["forged-token", "x" * 43, "A" * 200, "%3Cscript%3E"])
def test_forged_tokens_get_a_404_page_that_says_why(project, editor, make_output, token):
    actions.share_output(output=make_output(project, editor), user=editor)
    response = client_for(None).get(f"/s/{token}/")
    assert response.status_code == 404
    assert "doesn" in response.content.decode()
    assert client_for(None).get(f"/s/{token}/media/").status_code == 404


def test_viewer_cannot_share_and_stranger_gets_404(project, editor, viewer, stranger, make_output):
    out = make_output(project, editor)
    assert client_for(viewer).post(share_url(out)).status_code == 403
    assert client_for(stranger).post(share_url(out)).status_code == 404
    assert not ShareLink.objects.exists()


def test_editor_revokes_only_their_own_links_owner_revokes_any(project, owner, editor, make_output):
    link = actions.share_output(output=make_output(project, editor), user=owner)
    response = client_for(editor).post(revoke_url(link))
    assert response.status_code == 403
    assert ShareLink.objects.get(pk=link.pk).is_active
    assert client_for(owner).post(revoke_url(link)).status_code == 302
    assert not ShareLink.objects.get(pk=link.pk).is_active


def test_revoking_another_projects_link_is_404(project, editor, stranger, make_output):
    from accounts.models import Project

    theirs = actions.share_output(output=make_output(Project.objects.for_user(stranger).get(), stranger),
                                  user=stranger)
    url = reverse("gallery:share_revoke", args=[project.slug, theirs.pk])
    assert client_for(editor).post(url).status_code == 404
    assert ShareLink.objects.get(pk=theirs.pk).is_active


def test_owners_see_and_revoke_every_link_in_one_place(project, owner, editor, viewer, make_output):
    a = actions.share_output(output=make_output(project, editor, prompt="first shared"), user=editor)
    b = actions.share_output(output=make_output(project, owner, prompt="second shared"), user=owner)
    actions.revoke_share_link(link=b)
    url = reverse("gallery:shares", args=[project.slug])
    html = client_for(owner).get(url).content.decode()
    assert "first shared" in html and "second shared" not in html
    html = client_for(owner).get(url + "?show=all").content.decode()
    assert "second shared" in html and "Revoked" in html
    response = client_for(owner).post(revoke_url(a), {"next": url})
    assert response.status_code == 302 and response.url == url
    assert not ShareLink.objects.filter(revoked_at=None).exists()
    assert "No active share links" in client_for(owner).get(url).content.decode()
    assert client_for(editor).get(url).status_code == 403
    assert client_for(viewer).get(url).status_code == 403


def test_deleting_an_output_ends_its_share_link(project, editor, make_output):
    out = make_output(project, editor)
    link = actions.share_output(output=out, user=editor)
    actions.delete_outputs(outputs=[out])
    assert client_for(None).get(reverse("share", args=[link.token])).status_code == 404
