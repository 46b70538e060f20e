"""Boards: collections of outputs, filled from the gallery's selection, with their own public link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.actions import create_team_project
from audit.models import AuditEntry
from gallery.models import Board, BoardItem, BoardLink
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _board(client, project, name="Picks"):
    client.post(reverse("gallery:board_create", args=[project.slug]), {"name": name})
    return Board.objects.get(project=project, name=name)


def test_the_gallerys_selection_goes_on_a_board_once_and_an_output_can_sit_on_several(
        project, editor, editor_client, make_output):
    outs = [make_output(project, editor, prompt=f"fox {i}") for i in range(3)]
    picks = _board(editor_client, project)
    add = reverse("gallery:board_add", args=[project.slug])
    chooser = editor_client.get(add, {"ids": [o.pk for o in outs[:2]]})
    assert chooser.status_code == 200 and "Add 2 outputs to a board" in chooser.content.decode()
    done = editor_client.post(add, {"ids": [o.pk for o in outs[:2]], "board": picks.pk})
    assert done.status_code == 302
    again = editor_client.post(add, {"ids": [o.pk for o in outs], "board": picks.pk}, follow=True)
    assert "Added 1 output to “Picks” (2 already there)." in again.content.decode()
    assert BoardItem.objects.filter(board=picks).count() == 3
    editor_client.post(add, {"ids": [outs[0].pk], "name": "Best"})  # a new board named on the spot
    best = Board.objects.get(name="Best")
    assert set(outs[0].boards.all()) == {picks, best}
    assert AuditEntry.objects.filter(action="board.add", object_id=str(picks.pk)).count() == 2


def test_remove_and_move_keep_the_outputs_in_the_gallery(project, editor, editor_client, make_output):
    outs = [make_output(project, editor, prompt=f"heron {i}") for i in range(3)]
    picks, best = _board(editor_client, project), _board(editor_client, project, "Best")
    editor_client.post(reverse("gallery:board_add", args=[project.slug]), {"ids": [o.pk for o in outs],
                                                                         "board": picks.pk})
    editor_client.post(reverse("gallery:board_remove", args=[project.slug, picks.pk]), {"ids": [outs[0].pk]})
    moved = editor_client.post(reverse("gallery:board_move", args=[project.slug, picks.pk]),
                               {"ids": [outs[1].pk], "target": best.pk})
    assert moved.status_code == 302
    assert set(picks.items.values_list("output_id", flat=True)) == {outs[2].pk}
    assert set(best.items.values_list("output_id", flat=True)) == {outs[1].pk}
    assert all(type(o).objects.filter(pk=o.pk).exists() for o in outs)  # still in the gallery


def test_names_roles_and_strangers(project, editor, editor_client, viewer_client, stranger_client, make_output,
                                   stranger):
    picks = _board(editor_client, project)
    dup = editor_client.post(reverse("gallery:board_create", args=[project.slug]), {"name": "Picks"})
    assert dup.status_code == 409 and "already has a board called" in dup.content.decode()
    assert editor_client.post(reverse("gallery:board_create", args=[project.slug]), {"name": ""}).status_code == 400
    assert viewer_client.get(reverse("gallery:board", args=[project.slug, picks.pk])).status_code == 200
    assert viewer_client.post(reverse("gallery:board_create", args=[project.slug]), {"name": "V"}).status_code == 403
    for url in (reverse("gallery:boards", args=[project.slug]), reverse("gallery:board", args=[project.slug, picks.pk])):
        assert stranger_client.get(url).status_code == 404
    theirs = create_team_project(user=stranger, name="Elsewhere")
    their_out = make_output(theirs, stranger)
    assert editor_client.post(reverse("gallery:board_add", args=[project.slug]),
                              {"ids": [their_out.pk], "board": picks.pk}).status_code == 404
    assert not picks.items.exists()


def test_a_public_link_shows_the_board_until_revoked_or_expired(project, editor, editor_client, make_output):
    out = make_output(project, editor, prompt="a lighthouse")
    other = make_output(project, editor, prompt="not on the board")
    picks = _board(editor_client, project)
    editor_client.post(reverse("gallery:board_add", args=[project.slug]), {"ids": [out.pk], "board": picks.pk})
    editor_client.post(reverse("gallery:board_share", args=[project.slug, picks.pk]), {"days": "7"})
    link = BoardLink.objects.get(board=picks)
    anyone = client_for(None)
    page = anyone.get(reverse("board_share", args=[link.token]))
    assert page.status_code == 200 and "a lighthouse" in page.content.decode()
    assert "not on the board" not in page.content.decode()
    assert anyone.get(reverse("board_share_poster", args=[link.token, out.pk])).status_code == 200
    assert anyone.get(reverse("board_share_poster", args=[link.token, other.pk])).status_code == 404
    BoardLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert anyone.get(reverse("board_share", args=[link.token])).status_code == 404
    editor_client.post(reverse("gallery:board_share", args=[project.slug, picks.pk]), {})
    fresh = BoardLink.objects.get(board=picks, revoked_at=None)
    assert fresh.token != link.token and anyone.get(reverse("board_share", args=[fresh.token])).status_code == 200
    editor_client.post(reverse("gallery:board_unshare", args=[project.slug, picks.pk]))
    assert anyone.get(reverse("board_share", args=[fresh.token])).status_code == 404
    bad = editor_client.post(reverse("gallery:board_share", args=[project.slug, picks.pk]), {"days": "9999"})
    assert bad.status_code == 400


def test_the_board_page_takes_the_same_queries_however_many_outputs(project, editor, editor_client, make_output):
    picks = _board(editor_client, project)
    counts = []
    for n in (2, 12):
        outs = [make_output(project, editor, prompt=f"p{i}") for i in range(n - picks.items.count())]
        editor_client.post(reverse("gallery:board_add", args=[project.slug]), {"ids": [o.pk for o in outs],
                                                                             "board": picks.pk})
        with CaptureQueriesContext(connection) as queries:
            assert editor_client.get(reverse("gallery:board", args=[project.slug, picks.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[1] <= 12, counts


def test_deleting_a_board_asks_first_and_keeps_its_outputs(project, editor, editor_client, make_output):
    out = make_output(project, editor)
    picks = _board(editor_client, project)
    editor_client.post(reverse("gallery:board_add", args=[project.slug]), {"ids": [out.pk], "board": picks.pk})
    url = reverse("gallery:board_delete", args=[project.slug, picks.pk])
    assert "Delete the board" in editor_client.get(url).content.decode()
    assert editor_client.post(url).status_code == 302
    assert not Board.objects.exists() and type(out).objects.filter(pk=out.pk).exists()
