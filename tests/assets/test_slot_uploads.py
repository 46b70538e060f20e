"""Uploads into an input slot of the generation form, and what a refused file is told."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assets.models import Asset
from tests.generations import media_samples as samples

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("slot-samples")
    samples.make_png(d / "still.png", 640, 360)
    samples.make_wav(d / "tone.wav", 1.0)
    (d / "notes.txt").write_text("Shot list for Monday.\n" * 100)
    return d


def upload(client, project, path: Path, **data):
    with path.open("rb") as fp:
        return client.post(reverse("assets:list", args=[project.slug]), {"file": fp, **data})


def stored(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_text_file_is_told_it_is_not_media_and_what_is_accepted(editor_client, project, files, media_root):
    response = upload(editor_client, project, files / "notes.txt")
    assert response.status_code == 400
    body = response.content.decode()
    assert "tty" not in body and "video format" not in body
    assert "This file is not an image, video or audio file we can use" in body
    assert "JPEG, PNG or WebP images" in body
    assert not Asset.objects.exists() and stored(media_root) == []


def test_an_upload_into_a_slot_answers_with_the_new_asset_picked(editor_client, project, files, media_root):
    response = upload(editor_client, project, files / "still.png", slot="prompt_image", kinds="image")
    assert response.status_code == 201
    asset = Asset.objects.get()
    body = response.content.decode()
    assert "<html" not in body
    pick = re.search(r'<input type="radio" name="prompt_image" value="(\d+)"[^>]*>', body)
    assert pick and pick.group(1) == str(asset.pk) and "checked" in pick.group(0)
    assert reverse("assets:thumb", args=[project.slug, asset.pk]) in body


def test_an_upload_into_a_slot_of_several_is_a_checkbox(editor_client, project, files, media_root):
    response = upload(editor_client, project, files / "still.png", slot="reference_images", kinds="image",
                      multiple="1")
    assert response.status_code == 201
    assert re.search(r'<input type="checkbox" name="reference_images" value="\d+"[^>]*checked', response.content.decode())


def test_a_file_of_the_wrong_kind_for_the_slot_is_refused_and_not_kept(editor_client, project, files, media_root):
    response = upload(editor_client, project, files / "tone.wav", slot="prompt_image", kinds="image")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body
    assert "This is an audio file; an image is needed here." in body
    assert "tone.wav" in body  # the refusal names the file it is about
    assert not Asset.objects.exists() and stored(media_root) == []


def test_a_refused_file_into_a_slot_says_why(editor_client, project, files, media_root):
    response = upload(editor_client, project, files / "notes.txt", slot="prompt_image", kinds="image")
    assert response.status_code == 400
    body = response.content.decode()
    assert "notes.txt" in body and "not an image, video or audio file" in body
    assert "<form" not in body  # just the reason, for the slot to show


def test_a_slot_name_that_is_not_a_field_name_is_refused(editor_client, project, files, media_root):
    response = upload(editor_client, project, files / "still.png", slot='x" onclick="alert(1)', kinds="image")
    assert response.status_code == 400
    assert not Asset.objects.exists()


def test_viewers_cannot_upload_into_a_slot(viewer_client, project, files, media_root):
    assert upload(viewer_client, project, files / "still.png", slot="prompt_image").status_code == 403
    assert not Asset.objects.exists()


def test_an_empty_slot_upload_says_a_file_is_needed(editor_client, project, media_root):
    response = editor_client.post(reverse("assets:list", args=[project.slug]),
                                  {"slot": "prompt_image", "kinds": "image",
                                   "file": SimpleUploadedFile("empty.png", b"")})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
