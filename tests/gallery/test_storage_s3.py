"""Media on S3-compatible storage (moto's real server on loopback): private objects, unique keys,
short signed URLs for every media request, and the gallery's copies and ZIPs through storage."""

from __future__ import annotations

import io
import time
import zipfile
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from storages.backends.s3 import S3Storage

from assets.models import Asset
from gallery import actions
from tests.conftest import client_for
from tests.factories import make_asset

pytestmark = pytest.mark.django_db

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def assert_private(s3, key: str) -> None:
    grants = s3.client.get_object_acl(Bucket=s3.bucket, Key=key)["Grants"]
    assert grants and all(g["Grantee"].get("URI") != ALL_USERS for g in grants), grants
    assert all(g["Grantee"]["Type"] == "CanonicalUser" for g in grants)


def assert_short_lived(url: str, s3) -> None:
    query = parse_qs(urlparse(url).query)
    if "X-Amz-Expires" in query:
        assert int(query["X-Amz-Expires"][0]) <= s3.expire
    else:
        assert int(query["Expires"][0]) - time.time() <= s3.expire + 5


def test_outputs_land_in_the_bucket_under_unique_private_keys(s3_storage, project, editor, make_output):
    assert isinstance(default_storage, S3Storage)
    a, b = make_output(project, editor), make_output(project, editor)
    assert isinstance(a.file.storage, S3Storage)  # the field follows default_storage lazily
    keys = {o["Key"] for o in s3_storage.client.list_objects_v2(Bucket=s3_storage.bucket)["Contents"]}
    assert {a.file.name, a.thumbnail.name, b.file.name, b.thumbnail.name} <= keys
    assert a.file.name != b.file.name and a.file.name.startswith(f"outputs/{project.pk}/")
    for key in (a.file.name, a.thumbnail.name):
        assert_private(s3_storage, key)


def test_media_requests_redirect_to_a_short_signed_url_that_works(s3_storage, project, editor, viewer,
                                                                   make_output):
    out = make_output(project, editor, "video")
    response = client_for(viewer).get(
        reverse("generations:output_file", args=[project.slug, out.pk]) + "?download")
    assert response.status_code == 302
    assert response["X-Content-Type-Options"] == "nosniff"
    signed = response.url
    assert signed.startswith(s3_storage.url)
    assert_short_lived(signed, s3_storage)
    fetched = httpx.get(signed)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "video/mp4"
    assert fetched.headers["content-disposition"] == f'attachment; filename="{out.download_name}"'
    assert len(fetched.content) == out.size
    # The same object without a signature: refused.
    plain = f"{s3_storage.url}/{s3_storage.bucket}/{out.file.name}"
    assert httpx.get(plain).status_code == 403


def test_strangers_get_404_not_a_signed_url(s3_storage, project, editor, stranger, make_output):
    out = make_output(project, editor)
    for name in ("generations:output_file", "generations:output_thumb"):
        response = client_for(stranger).get(reverse(name, args=[project.slug, out.pk]))
        assert response.status_code == 404


def test_share_media_on_s3_is_a_signed_redirect_until_revoked(s3_storage, project, editor, make_output):
    out = make_output(project, editor, "image")
    link = actions.share_output(output=out, user=editor)
    response = client_for(None).get(reverse("share_media", args=[link.token]))
    assert response.status_code == 302
    assert_short_lived(response.url, s3_storage)
    assert httpx.get(response.url).status_code == 200
    actions.revoke_share_link(link=link)
    assert client_for(None).get(reverse("share_media", args=[link.token])).status_code == 404


def test_use_as_input_copies_within_the_bucket(s3_storage, project, editor, make_output):
    out = make_output(project, editor, "video")
    response = client_for(editor).post(reverse("gallery:use", args=[project.slug, out.pk]))
    assert response.status_code == 302
    asset = Asset.objects.get(source_output=out)
    assert asset.file.name.startswith(f"assets/{project.pk}/")
    assert_private(s3_storage, asset.file.name)
    body = s3_storage.client.get_object(Bucket=s3_storage.bucket, Key=asset.file.name)["Body"].read()
    assert len(body) == out.size


def test_uploaded_assets_land_in_the_bucket_too(s3_storage, project, editor, tmp_path):
    asset = make_asset(project, editor, "image 320x200", tmp_path)
    assert_private(s3_storage, asset.file.name)
    response = client_for(editor).get(reverse("assets:file", args=[project.slug, asset.pk]))
    assert response.status_code == 302
    assert_short_lived(response.url, s3_storage)


def test_zip_streams_from_the_bucket(s3_storage, project, editor, viewer, make_output):
    picked = [make_output(project, editor, k) for k in ("image", "audio")]
    url = reverse("gallery:zip", args=[project.slug]) + "?" + "&".join(f"ids={o.pk}" for o in picked)
    response = client_for(viewer).get(url)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == sorted([*(o.download_name for o in picked), "manifest.csv", "manifest.json"])


def test_zip_with_an_object_missing_from_the_bucket_is_409(s3_storage, project, editor, viewer, make_output):
    out = make_output(project, editor)
    s3_storage.client.delete_object(Bucket=s3_storage.bucket, Key=out.file.name)
    response = client_for(viewer).get(reverse("gallery:zip", args=[project.slug]) + f"?ids={out.pk}")
    assert response.status_code == 409
