"""Uploading, listing, serving and deleting assets: by content, within the size limits, all or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.urls import reverse

from assets import media
from assets.actions import AssetError, create_asset, delete_asset
from assets.models import Asset
from assets.uploads import ByteCountingUploadHandler
from generations.models import Generation, Status
from tests.conftest import client_for
from tests.generations import media_samples as samples

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage_dir(media_root) -> Path:
    """Filesystem storage in a fresh folder, so 'nothing was stored' can be checked."""
    return media_root


@pytest.fixture(scope="module")
def samples_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("samples")
    samples.make_png(d / "still.png", 640, 360)
    samples.make_jpeg(d / "still.jpg", 320, 240)
    samples.make_gif(d / "still.gif", 64, 48)
    samples.make_mp4(d / "clip.mp4", 1, 160, 120)
    samples.make_wav(d / "tone.wav", 1.0)
    samples.make_png(d / "min.png", 8, 8, pad_to=media.MIN_BYTES)
    samples.pixel_bomb_png(d / "bomb.png")
    shutil.copyfile(d / "still.jpg", d / "cut.jpg")
    samples.truncated(d / "cut.jpg", 0.5)
    shutil.copyfile(d / "still.gif", d / "gif-dressed.png")
    samples.random_bytes(d / "noise.mp4", 4096)
    (d / "empty.png").write_bytes(b"")
    samples.random_bytes(d / "tiny.png", media.MIN_BYTES - 1)
    return d


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload_url(project) -> str:
    return reverse("assets:list", args=[project.slug])


def post_file(client, project, path: Path, name: str | None = None, **extra):
    data = extra.pop("data", {})
    if name:  # sent under another name, e.g. a GIF dressed as .png
        return client.post(upload_url(project), {"file": SimpleUploadedFile(name, path.read_bytes()), **data},
                           **extra)
    with path.open("rb") as fp:
        return client.post(upload_url(project), {"file": fp, **data}, **extra)


# --- the workflow ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind", "content_type", "dims", "duration"), [
    ("still.png", "image", "image/png", (640, 360), None),
    ("still.jpg", "image", "image/jpeg", (320, 240), None),
    ("clip.mp4", "video", "video/mp4", (160, 120), 1.0),
    ("tone.wav", "audio", "audio/wav", (None, None), 1.0),
])
def test_upload_records_media_facts_file_and_thumbnail(editor_client, project, editor, samples_dir,
                                                       storage_dir, name, kind, content_type, dims,
                                                       duration):
    path = samples_dir / name
    response = post_file(editor_client, project, path)
    assert response.status_code == 302
    assert response["Location"] == upload_url(project)
    asset = Asset.objects.get()
    assert (asset.project, asset.uploaded_by, asset.name) == (project, editor, name)
    assert (asset.kind, asset.content_type, asset.size) == (kind, content_type, path.stat().st_size)
    assert (asset.width, asset.height) == dims
    assert asset.duration == pytest.approx(duration, abs=0.15) if duration else asset.duration is None
    assert asset.sha256 == media.sha256_file(path)
    assert (storage_dir / asset.file.name).read_bytes() == path.read_bytes()
    assert asset.file.name.endswith(Path(name).suffix)
    assert (storage_dir / asset.thumbnail.name).read_bytes()[:2] == b"\xff\xd8"  # a JPEG


def test_stored_name_takes_the_detected_extension_not_the_sent_one(editor_client, project, samples_dir,
                                                                   storage_dir):
    response = post_file(editor_client, project, samples_dir / "still.jpg", name="holiday.png")
    assert response.status_code == 302
    asset = Asset.objects.get()
    assert asset.content_type == "image/jpeg"
    assert asset.file.name.endswith(".jpg")
    assert asset.name == "holiday.png"


@pytest.mark.parametrize(("name", "sent_as", "message"), [
    ("gif-dressed.png", "photo.png", "GIF images are not accepted"),
    ("cut.jpg", "cut.jpg", "damaged"),
    ("bomb.png", "bomb.png", "more pixels than"),
    ("noise.mp4", "clip.mp4", "not an image, video or audio file"),
    ("tiny.png", "tiny.png", "too small"),
    ("empty.png", "empty.png", "empty"),
])
def test_bad_files_are_refused_with_a_message_and_nothing_is_saved(editor_client, project, samples_dir,
                                                                    storage_dir, name, sent_as, message):
    response = post_file(editor_client, project, samples_dir / name, name=sent_as)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Asset.objects.exists()
    assert stored_files(storage_dir) == []


def test_exactly_the_minimum_size_is_accepted(editor_client, project, samples_dir, storage_dir):
    path = samples_dir / "min.png"
    assert path.stat().st_size == media.MIN_BYTES
    assert post_file(editor_client, project, path).status_code == 302
    assert Asset.objects.get().size == media.MIN_BYTES


def test_one_byte_over_the_maximum_is_stopped_by_the_upload_handler(editor_client, project, tmp_path,
                                                                   storage_dir):
    big = samples.sparse_file(tmp_path / "big.mp4", media.MAX_BYTES + 1, head=b"\x00\x00\x00\x18ftypmp42")
    response = post_file(editor_client, project, big)
    assert response.status_code == 413
    assert "larger than 200 MB" in response.content.decode()
    assert not Asset.objects.exists()
    assert stored_files(storage_dir) == []


def test_upload_handler_boundary_is_exact():
    handler = ByteCountingUploadHandler(max_bytes=1000)
    handler.new_file("file", "x.bin", "application/octet-stream", 1000)
    handler.receive_data_chunk(b"a" * 600, 0)
    handler.receive_data_chunk(b"a" * 400, 600)  # exactly the limit: fine
    assert not handler.too_large
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"a", 1000)
    assert handler.too_large


def test_upload_handler_refuses_a_body_declared_too_large_before_reading_the_file():
    handler = ByteCountingUploadHandler(max_bytes=1000)
    handler.handle_raw_input(None, {}, 1000 + 2 * 1024 * 1024, b"boundary")
    assert handler.too_large
    with pytest.raises(StopUpload):
        handler.new_file("file", "x.bin", "application/octet-stream", None)


def test_create_asset_leaves_nothing_behind_when_the_row_cannot_be_saved(project, editor, samples_dir,
                                                                        storage_dir, tmp_path):
    class Boom(Exception):
        pass

    def fail(*args, **kwargs):
        raise Boom

    original = Asset.save
    Asset.save = fail  # the database refusing the row, after both files were written
    try:
        with pytest.raises(Boom):
            create_asset(project=project, user=editor, uploaded_file=_upload(samples_dir / "still.png"))
    finally:
        Asset.save = original
    assert not Asset.objects.exists()
    assert stored_files(storage_dir) == []


def _upload(path: Path):
    uploaded = TemporaryUploadedFile(path.name, "application/octet-stream", path.stat().st_size, None)
    with path.open("rb") as fp:
        shutil.copyfileobj(fp, uploaded)
    uploaded.seek(0)
    return uploaded


# --- the upload view: htmx, roles ------------------------------------------------------------


def test_htmx_upload_redirects_the_client(editor_client, project, samples_dir, storage_dir):
    response = post_file(editor_client, project, samples_dir / "still.png", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == upload_url(project)
    assert Asset.objects.count() == 1


def test_htmx_upload_of_a_bad_file_returns_the_upload_partial_with_the_message(editor_client, project,
                                                                               samples_dir, storage_dir):
    response = post_file(editor_client, project, samples_dir / "gif-dressed.png", HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="upload"')
    assert "GIF images are not accepted" in body
    assert not Asset.objects.exists()


def test_upload_returns_to_a_next_page_inside_the_project(editor_client, project, samples_dir, storage_dir):
    target = reverse("generations:new", args=[project.slug]) + "?endpoint=image_upscale"
    response = post_file(editor_client, project, samples_dir / "still.png", data={"next": target})
    assert response["Location"] == target
    elsewhere = post_file(editor_client, project, samples_dir / "still.png", data={"next": "https://evil.example/"})
    assert elsewhere["Location"] == upload_url(project)


def test_viewer_cannot_upload(viewer_client, project, samples_dir, storage_dir):
    response = post_file(viewer_client, project, samples_dir / "still.png")
    assert response.status_code == 403
    assert not Asset.objects.exists()
    assert stored_files(storage_dir) == []


def test_stranger_gets_404_and_nothing_is_stored(stranger_client, project, samples_dir, storage_dir):
    assert stranger_client.get(upload_url(project)).status_code == 404
    assert post_file(stranger_client, project, samples_dir / "still.png").status_code == 404
    assert not Asset.objects.exists()


def test_anonymous_is_sent_to_sign_in(project, samples_dir, storage_dir):
    response = post_file(client_for(None), project, samples_dir / "still.png")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Asset.objects.exists()


def test_upload_needs_the_csrf_token(editor, project, samples_dir, storage_dir):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert post_file(client, project, samples_dir / "still.png").status_code == 403
    assert not Asset.objects.exists()


# --- the list ---------------------------------------------------------------------------------


@pytest.fixture
def stored_assets(project, editor, samples_dir, storage_dir):
    return [create_asset(project=project, user=editor, uploaded_file=_upload(samples_dir / name))
            for name in ("still.png", "tone.wav")]


def test_asset_list_shows_thumbnails_and_facts(viewer_client, project, stored_assets,
                                               django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = viewer_client.get(upload_url(project))
    assert response.status_code == 200
    body = response.content.decode()
    image, audio = stored_assets
    assert reverse("assets:thumb", args=[project.slug, image.pk]) in body
    assert "640×360" in body and "tone.wav" in body
    # Viewers see the list, not the upload form or delete buttons.
    assert 'type="file"' not in body
    assert reverse("assets:delete", args=[project.slug, image.pk]) not in body


def test_asset_list_filters_by_kind_and_htmx_gets_the_list_partial(viewer_client, project, stored_assets):
    response = viewer_client.get(upload_url(project), {"kind": "audio"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="assets"')
    assert "tone.wav" in body and "still.png" not in body


def test_empty_asset_list_says_what_to_do(editor_client, project):
    body = editor_client.get(upload_url(project)).content.decode()
    assert "No assets yet — upload an image, video or audio file" in body
    assert "<label" in body and "Upload file" in body


def test_asset_list_is_paginated(editor_client, project, editor):
    for i in range(30):
        Asset.objects.create(project=project, uploaded_by=editor, name=f"a{i}.png", kind="image",
                             content_type="image/png", size=1000, sha256="0" * 64, file=f"assets/x{i}.png")
    first = editor_client.get(upload_url(project)).content.decode()
    assert "Page 1 of 2" in first
    second = editor_client.get(upload_url(project), {"page": 2}).content.decode()
    assert "Page 2 of 2" in second


# --- serving ----------------------------------------------------------------------------------


def test_asset_file_is_served_with_our_type_and_safe_headers(viewer_client, project, stored_assets,
                                                             samples_dir):
    image = stored_assets[0]
    response = viewer_client.get(reverse("assets:file", args=[project.slug, image.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == (samples_dir / "still.png").read_bytes()
    thumb = viewer_client.get(reverse("assets:thumb", args=[project.slug, image.pk]))
    assert thumb["Content-Type"] == "image/jpeg"
    download = viewer_client.get(reverse("assets:file", args=[project.slug, image.pk]),
                                 {"download": "1"})
    assert download["Content-Disposition"].startswith("attachment")


def test_strangers_and_anonymous_get_no_media(stranger_client, project, stored_assets):
    for name in ("assets:file", "assets:thumb"):
        url = reverse(name, args=[project.slug, stored_assets[0].pk])
        assert stranger_client.get(url).status_code == 404
        anonymous = client_for(None).get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_asset_of_another_project_is_404(editor_client, project, editor, stored_assets):
    other = editor.memberships.exclude(project=project).get().project  # the personal project
    url = reverse("assets:file", args=[other.slug, stored_assets[0].pk])
    assert editor_client.get(url).status_code == 404


def test_missing_file_on_disk_is_404_not_500(viewer_client, project, stored_assets, storage_dir):
    image = stored_assets[0]
    (storage_dir / image.file.name).unlink()
    assert viewer_client.get(reverse("assets:file", args=[project.slug, image.pk])).status_code == 404


# --- delete -----------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_then_deletes_row_and_files(editor_client, project, stored_assets,
                                                                 storage_dir, django_capture_on_commit_callbacks):
    image = stored_assets[0]
    url = reverse("assets:delete", args=[project.slug, image.pk])
    page = editor_client.get(url)
    assert page.status_code == 200 and "Delete asset" in page.content.decode()
    assert Asset.objects.filter(pk=image.pk).exists()
    files = [storage_dir / image.file.name, storage_dir / image.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url)
    assert response.status_code == 302 and response["Location"] == upload_url(project)
    assert not Asset.objects.filter(pk=image.pk).exists()
    assert not any(f.exists() for f in files)


def test_delete_is_refused_while_a_generation_in_flight_uses_the_asset(editor_client, project, editor,
                                                                       stored_assets):
    image = stored_assets[0]
    generation = Generation.objects.create(project=project, created_by=editor, endpoint="image_upscale",
                                           model="magnific_precision_upscaler_v2", status=Status.RUNNING)
    generation.inputs.add(image)
    response = editor_client.post(reverse("assets:delete", args=[project.slug, image.pk]))
    assert response.status_code == 409
    assert "still in progress" in response.content.decode()
    assert Asset.objects.filter(pk=image.pk).exists()
    with pytest.raises(AssetError):
        delete_asset(asset=image)
    generation.status = Status.SUCCEEDED
    generation.save()
    delete_asset(asset=image)
    assert not Asset.objects.filter(pk=image.pk).exists()


def test_delete_roles(viewer_client, stranger_client, project, stored_assets):
    url = reverse("assets:delete", args=[project.slug, stored_assets[0].pk])
    assert viewer_client.get(url).status_code == 403
    assert viewer_client.post(url).status_code == 403
    assert stranger_client.post(url).status_code == 404
    assert Asset.objects.filter(pk=stored_assets[0].pk).exists()


def test_on_s3_storage_media_redirects_to_a_short_signed_url(viewer_client, project, editor, settings,
                                                            samples_dir):
    import boto3
    from moto import mock_aws

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="takes-media")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "storages.backends.s3.S3Storage",
                        "OPTIONS": {"bucket_name": "takes-media", "region_name": "us-east-1",
                                    "access_key": "test", "secret_key": "test", "querystring_auth": True,
                                    "querystring_expire": 300, "default_acl": None, "file_overwrite": False}},
        }
        asset = create_asset(project=project, user=editor, uploaded_file=_upload(samples_dir / "still.png"))
        response = viewer_client.get(reverse("assets:file", args=[project.slug, asset.pk]))
        assert response.status_code == 302
        location = response["Location"]
        assert "takes-media" in location and "Signature" in location and "Expires=" in location
        assert "response-content-type=image%2Fpng" in location
        assert "response-content-disposition=inline" in location
        assert response["X-Content-Type-Options"] == "nosniff"
