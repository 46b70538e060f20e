"""Deleting outputs moves them to the trash for 30 days, with undo; a scheduled job then purges
them — rows and every stored file (delivery, preview, poster) — from real storage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from gallery import actions
from generations.models import Output

pytestmark = pytest.mark.django_db


def _trash(client, project, outputs):
    return client.post(reverse("gallery:delete", args=[project.slug]), {"ids": [o.pk for o in outputs]})


def _stored(output) -> list[str]:
    """Every file the output keeps (a preview added so that it is purged too)."""
    if not output.preview:
        output.preview.save("p.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"0" * 200), save=True)
    return [n for n in (output.file.name, output.thumbnail.name, output.preview.name) if n]


def test_deleted_outputs_go_to_the_trash_and_come_back_with_undo(project, editor, editor_client, make_output):
    kept, gone = make_output(project, editor, prompt="stays"), make_output(project, editor, prompt="trashed")
    response = _trash(editor_client, project, [gone])
    assert response.status_code == 302
    gallery = editor_client.get(reverse("gallery:index", args=[project.slug])).content.decode()
    assert "trashed" not in gallery and "stays" in gallery
    assert editor_client.get(reverse("gallery:output", args=[project.slug, gone.pk])).status_code == 404
    trash = editor_client.get(reverse("gallery:trash", args=[project.slug]))
    assert trash.status_code == 200 and "trashed" in trash.content.decode() and "stays" not in trash.content.decode()
    assert all(default_storage.exists(n) for n in _stored(Output.objects.get(pk=gone.pk)))  # nothing removed yet
    restored = editor_client.post(reverse("gallery:restore", args=[project.slug]), {"ids": [gone.pk]})
    assert restored.status_code == 302
    assert editor_client.get(reverse("gallery:output", args=[project.slug, gone.pk])).status_code == 200
    assert kept.pk != gone.pk


def test_only_the_maker_or_an_owner_trashes_and_restores(project, editor, owner_client, viewer_client,
                                                         make_output, owner):
    theirs = make_output(project, owner, prompt="the owner's")
    assert viewer_client.post(reverse("gallery:restore", args=[project.slug]), {"ids": [theirs.pk]}).status_code == 403
    assert _trash(owner_client, project, [theirs]).status_code == 302
    assert viewer_client.get(reverse("gallery:trash", args=[project.slug])).status_code == 200  # viewers see it


def test_the_purge_removes_outputs_a_month_in_the_trash_and_their_files(project, editor, editor_client, make_output,
                                                                       django_capture_on_commit_callbacks):
    old, recent = make_output(project, editor, prompt="old"), make_output(project, editor, prompt="recent")
    old_files, recent_files = _stored(old), _stored(recent)
    _trash(editor_client, project, [old, recent])
    Output.objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.purge_trash() == 1
    assert not Output.objects.filter(pk=old.pk).exists() and not any(default_storage.exists(n) for n in old_files)
    assert Output.objects.filter(pk=recent.pk).exists() and all(default_storage.exists(n) for n in recent_files)
    assert actions.purge_trash() == 0


def test_the_purge_works_on_s3(s3_storage, project, editor, editor_client, make_output,
                               django_capture_on_commit_callbacks):
    old = make_output(project, editor, prompt="old on s3")
    files = _stored(old)
    assert all(s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=n) for n in files)
    _trash(editor_client, project, [old])
    Output.objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.purge_trash() == 1
    listed = s3_storage.client.list_objects_v2(Bucket=s3_storage.bucket).get("Contents", [])
    assert not {o["Key"] for o in listed} & set(files)


def test_emptying_the_trash_asks_first_then_deletes_for_good(project, editor, editor_client, make_output,
                                                             django_capture_on_commit_callbacks):
    out = make_output(project, editor, prompt="for good")
    files = _stored(out)
    _trash(editor_client, project, [out])
    url = reverse("gallery:purge", args=[project.slug])
    asked = editor_client.get(url, {"ids": [out.pk]})
    assert asked.status_code == 200 and "Delete 1 output for good?" in asked.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert editor_client.post(url, {"ids": [out.pk]}).status_code == 302
    assert not Output.objects.filter(pk=out.pk).exists() and not any(default_storage.exists(n) for n in files)
