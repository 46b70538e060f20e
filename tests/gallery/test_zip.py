"""Several outputs as one ZIP, streamed: the right files under the right names, or a clear 4xx."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import StreamingHttpResponse
from django.urls import reverse

from accounts.models import Project
from gallery import zips
from generations.models import Output
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def zip_url(project, *ids) -> str:
    return reverse("gallery:zip", args=[project.slug]) + "?" + "&".join(f"ids={i}" for i in ids)


def test_zip_holds_the_selected_files_under_their_download_names(project, editor, viewer, make_output):
    picked = [make_output(project, editor, kind) for kind in ("image", "video", "audio")]
    make_output(project, editor)  # not selected
    response = client_for(viewer).get(zip_url(project, *(o.pk for o in picked)))
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="takes-{project.slug}-3-outputs.zip"'
    assert response["X-Content-Type-Options"] == "nosniff"
    chunks = list(response.streaming_content)
    assert len(chunks) > 3  # produced piece by piece, not as one blob
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == sorted([*(o.download_name for o in picked), "manifest.csv", "manifest.json"])
    for output in picked:
        info = archive.getinfo(output.download_name)
        assert info.compress_type == zipfile.ZIP_STORED
        with default_storage.open(output.file.name) as fp:
            assert archive.read(info) == fp.read()


def test_stream_zip_yields_chunks_no_bigger_than_asked(project, editor, make_output):
    out = make_output(project, editor, "video")
    out = Output.objects.select_related("generation").get(pk=out.pk)
    sizes = [len(c) for c in zips.stream_zip([out], chunk_size=4096)]
    assert max(sizes) <= 4096 + 200  # a chunk plus at most a header
    assert sum(sizes) > out.size


def test_zip_naming_another_projects_output_is_404(project, editor, viewer, stranger, make_output):
    mine = make_output(project, editor)
    theirs = make_output(Project.objects.for_user(stranger).get(), stranger)
    response = client_for(viewer).get(zip_url(project, mine.pk, theirs.pk))
    assert response.status_code == 404
    assert not isinstance(response, StreamingHttpResponse)


def test_strangers_and_anonymous_get_nothing(project, editor, stranger, make_output):
    out = make_output(project, editor)
    assert client_for(stranger).get(zip_url(project, out.pk)).status_code == 404
    response = client_for(None).get(zip_url(project, out.pk))
    assert response.status_code == 302 and "/accounts/login/" in response.url


@pytest.mark.parametrize("ids", [(), ("x",), ("1.5",)])
def test_bad_selection_is_400_with_a_message(project, viewer, media_root, ids):
    response = client_for(viewer).get(zip_url(project, *ids))
    assert response.status_code == 400
    assert "Select one or more" in response.content.decode() or "not understood" in response.content.decode()


def test_too_many_is_400(project, viewer, media_root):
    response = client_for(viewer).get(zip_url(project, *range(1, zips.ZIP_MAX_ITEMS + 2)))
    assert response.status_code == 400


def test_a_file_missing_from_storage_is_a_409_before_anything_is_sent(project, editor, viewer, make_output):
    a, b = make_output(project, editor), make_output(project, editor)
    default_storage.delete(b.file.name)
    response = client_for(viewer).get(zip_url(project, a.pk, b.pk))
    assert response.status_code == 409
    assert "nothing was downloaded" in response.content.decode()
    assert Output.objects.count() == 2  # nothing lost


class FailingReads:
    """A stored file whose reads fail after the first chunk, like a dropped connection."""

    def __init__(self, handle):
        self.handle, self.reads = handle, 0

    def read(self, n=-1):
        self.reads += 1
        if self.reads > 1:
            raise OSError("storage went away")
        return self.handle.read(n)

    def close(self):
        self.handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FlakyStorage(FileSystemStorage):
    """Filesystem storage whose downloads break part-way."""

    def open(self, name, mode="rb"):
        return FailingReads(super().open(name, mode))


def test_storage_error_mid_stream_breaks_the_download_instead_of_a_short_zip(project, editor, make_output,
                                                                             settings, media_root):
    out = Output.objects.select_related("generation").get(pk=make_output(project, editor, "video").pk)
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "tests.gallery.test_zip.FlakyStorage", "OPTIONS": {"location": str(media_root)}}}
    out = Output.objects.select_related("generation").get(pk=out.pk)
    assert isinstance(out.file.storage, FlakyStorage)  # the field follows default_storage
    received = []
    with pytest.raises(OSError):
        for chunk in zips.stream_zip([out], chunk_size=1024):
            received.append(chunk)
    data = b"".join(received)
    assert 0 < len(data) < out.size
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(data))


def _zip_of(user, project, outputs) -> zipfile.ZipFile:
    response = client_for(user).get(zip_url(project, *(o.pk for o in outputs)))
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_zip_carries_a_csv_and_a_json_manifest_of_its_files(project, owner, editor, viewer, make_output):
    import csv
    import json

    from django.utils import timezone

    seeded = make_output(project, editor, "image", "=a “quoted” fox, in snow", params={"prompt_text": "x", "seed": 4242,
                                                                                    "ratio": "1280:720"})
    unsettled = make_output(project, owner, "video", "waves", cost_credits=None, estimated_credits=40)
    routed = make_output(project, editor, "video", "a routed take", endpoint="generate_video", model="gen4.5",
                         task_json={"id": "t-1", "status": "SUCCEEDED", "seed": 77})
    picked = [seeded, unsettled, routed]
    archive = _zip_of(viewer, project, picked)
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[-2:] == ["manifest.csv", "manifest.json"]
    rows = json.loads(archive.read("manifest.json"))["files"]
    table = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    assert [r["file"] for r in rows] == [r["file"] for r in table] == names[:-2]
    by_file = {r["file"]: (r, t) for r, t in zip(rows, table, strict=True)}
    for output in picked:
        output.refresh_from_db()
        g = output.generation
        row, cells = by_file[output.download_name]
        assert row["prompt"] == g.prompt and row["endpoint"] == g.endpoint and row["model"] == g.model
        assert row["settings"] == g.params and json.loads(cells["settings"]) == g.params
        assert row["author"] == cells["author"] == g.created_by.username
        assert row["created_at"] == cells["created_at"] == timezone.localtime(output.created_at).isoformat()
    row, cells = by_file[seeded.download_name]
    assert (row["seed"], cells["seed"], row["cost_credits"], row["cost_estimated"]) == (4242, "4242", 5, False)
    assert cells["prompt"] == "'" + seeded.generation.prompt  # never read as a formula
    row, cells = by_file[unsettled.download_name]
    assert (row["seed"], cells["seed"], row["cost_credits"], row["cost_estimated"]) == (None, "", 40, True)
    assert cells["cost_estimated"] == "true" and cells["prompt"] == "waves"
    row, _ = by_file[routed.download_name]
    assert (row["model"], row["endpoint"], row["seed"]) == ("gen4.5", "generate_video", 77)
