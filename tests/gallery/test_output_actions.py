"""One output: its page and lineage, favourites, tags, downloads, use as input, follow-ups, deletion."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from assets.models import Asset
from gallery import actions
from gallery.models import Tag
from generations import feed
from generations.models import Generation, Output, Status
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def detail(output) -> str:
    return reverse("gallery:output", args=[output.project.slug, output.pk])


def action(name: str, output) -> str:
    return reverse(f"gallery:{name}", args=[output.project.slug, output.pk])


# --- the page -----------------------------------------------------------------------------


def test_detail_shows_settings_cost_maker_inputs_and_lineage(project, editor, viewer, make_output):
    source = make_output(project, editor, "image", "a paper boat")
    asset = actions.use_output_as_asset(output=source, user=editor)
    gen = Generation.objects.create(project=project, created_by=editor, endpoint="image_to_video",
                                    model="gen4.5", prompt="the boat sails",
                                    params={"prompt_image": asset.pk, "prompt_text": "the boat sails",
                                            "duration": 5}, status=Status.SUCCEEDED, cost_credits=60)
    gen.inputs.add(asset)
    video = make_output(project, editor, "video", generation=gen)

    html = client_for(viewer).get(detail(video)).content.decode()
    assert "the boat sails" in html and "60 credits" in html and editor.display_name in html
    assert "Duration" in html and asset.name in html  # asset ids shown by name
    assert detail(source) in html  # came from that output
    assert 'preload="metadata"' in html and "<video" in html

    html = client_for(viewer).get(detail(source)).content.decode()
    assert f"/generations/{gen.pk}/" in html and detail(video) in html  # made from it since


def test_detail_links_reuse_settings_and_follow_ups(project, editor, make_output):
    out = make_output(project, editor, "image", "a cat", params={"prompt_text": "a cat", "ratio": "1920:1080",
                                                                  "reference_images": [3, 4]})
    html = client_for(editor).get(detail(out)).content.decode()
    reuse = feed.reuse_url(out.generation)
    query = parse_qs(urlparse(reuse).query)
    assert query["endpoint"] == ["text_to_image"] and query["model"] == ["gen4_image"]
    assert query["reuse"] == [str(out.generation.pk)]
    assert reuse.replace("&", "&amp;") in html
    form = client_for(editor).get(reuse).content.decode()  # the form reads the settings back
    assert "a cat" in form and '<option value="1920:1080" selected>' in form
    assert "Make Image → Video" in html and "Make Image upscale" in html


def test_detail_of_another_projects_output_is_404(project, editor, stranger, make_output):
    out = make_output(project, editor)
    assert client_for(stranger).get(detail(out)).status_code == 404
    assert client_for(None).get(detail(out)).status_code == 302


# --- favourites ----------------------------------------------------------------------------


def test_favourite_and_unfavourite(project, editor, make_output):
    out = make_output(project, editor)
    response = client_for(editor).post(action("favourite", out), {"favourite": "1"})
    assert response.status_code == 302
    assert Output.objects.get(pk=out.pk).is_favourite
    response = client_for(editor).post(action("favourite", out), {"favourite": "0"},
                                       headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<span id="favourite-{out.pk}">') and "☆ Favourite" in html
    assert not Output.objects.get(pk=out.pk).is_favourite


def test_favourite_needs_an_editor_and_a_clear_value(project, editor, viewer, stranger, make_output):
    out = make_output(project, editor)
    assert client_for(viewer).post(action("favourite", out), {"favourite": "1"}).status_code == 403
    assert client_for(stranger).post(action("favourite", out), {"favourite": "1"}).status_code == 404
    response = client_for(editor).post(action("favourite", out), {"favourite": "maybe"})
    assert response.status_code == 400
    assert not Output.objects.get(pk=out.pk).is_favourite


# --- tags ----------------------------------------------------------------------------------


def test_tags_are_set_replaced_and_shared_within_the_project(project, editor, make_output):
    a, b = make_output(project, editor), make_output(project, editor)
    client = client_for(editor)
    assert client.post(action("tags", a), {"tags": "hero shot, Final , hero shot"}).status_code == 302
    assert sorted(a.tags.values_list("name", flat=True)) == ["Final", "hero shot"]
    response = client.post(action("tags", b), {"tags": "final"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.content.decode().lstrip().startswith('<div class="card" id="tags">')
    assert list(b.tags.values_list("name", flat=True)) == ["Final"]  # same tag, case kept
    assert Tag.objects.filter(project=project).count() == 2
    client.post(action("tags", a), {"tags": ""})
    assert a.tags.count() == 0


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "ok, <b>bold</b>", "x" * 41, '"quoted"'])
def test_tags_with_markup_or_too_long_are_refused_and_nothing_changes(project, editor, make_output, text):
    out = make_output(project, editor)
    actions.set_tags(output=out, names=["keep"])
    response = client_for(editor).post(action("tags", out), {"tags": text}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "be a tag" in html or "at most" in html
    assert "<script>" not in html and "<b>bold" not in html  # echoed back escaped
    assert list(out.tags.values_list("name", flat=True)) == ["keep"]
    assert not Tag.objects.exclude(name="keep").exists()


def test_tags_need_an_editor(project, editor, viewer, make_output):
    out = make_output(project, editor)
    assert client_for(viewer).post(action("tags", out), {"tags": "x"}).status_code == 403
    assert out.tags.count() == 0


# --- downloads -----------------------------------------------------------------------------


def test_download_the_original_with_its_name_and_type(project, editor, viewer, make_output):
    out = make_output(project, editor, "video")
    response = client_for(viewer).get(
        reverse("generations:output_file", args=[project.slug, out.pk]) + "?download")
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="{out.download_name}"'
    body = b"".join(response.streaming_content)
    assert len(body) == out.size


# --- use as input and follow-ups -----------------------------------------------------------


def test_use_as_input_copies_the_file_into_a_new_asset(project, editor, make_output, media_root):
    out = make_output(project, editor, "video")
    response = client_for(editor).post(action("use", out))
    assert response.status_code == 302 and response.url == reverse("assets:list", args=[project.slug])
    asset = Asset.objects.get(source_output=out)
    assert asset.project == project and asset.uploaded_by == editor
    assert (asset.kind, asset.size, asset.sha256, asset.duration) == (out.kind, out.size, out.sha256, out.duration)
    assert asset.file.name != out.file.name and asset.thumbnail.name != out.thumbnail.name
    with default_storage.open(asset.file.name) as a, default_storage.open(out.file.name) as o:
        assert a.read() == o.read()
    # Twice is the same asset, not a second copy.
    client_for(editor).post(action("use", out))
    assert Asset.objects.filter(source_output=out).count() == 1


@pytest.mark.parametrize(("kind", "endpoint", "field"), [
    ("image", "image_to_video", "prompt_image"), ("image", "image_upscale", "image_uri"),
    ("video", "video_upscale", "video_uri"), ("video", "video_to_video", "video_uri"),
])
def test_one_click_follow_up_opens_the_form_with_the_new_asset(project, editor, make_output, kind, endpoint, field):
    out = make_output(project, editor, kind)
    response = client_for(editor).post(action("use", out), {"follow": endpoint})
    asset = Asset.objects.get(source_output=out)
    assert response.status_code == 302
    parsed = urlparse(response.url)
    assert parsed.path == reverse("generations:new", args=[project.slug])
    assert parse_qs(parsed.query) == {"endpoint": [endpoint], field: [str(asset.pk)]}


def test_follow_up_htmx_redirects_on_the_client(project, editor, make_output):
    out = make_output(project, editor, "video")
    response = client_for(editor).post(action("use", out), {"follow": "video_upscale"},
                                       headers={"HX-Request": "true"})
    assert response.status_code == 200 and "video_upscale" in response["HX-Redirect"]


def test_follow_up_of_the_wrong_kind_is_refused(project, editor, make_output):
    out = make_output(project, editor, "audio")
    response = client_for(editor).post(action("use", out), {"follow": "image_to_video"})
    assert response.status_code == 400
    assert "take this kind of output" in response.content.decode()
    assert not Asset.objects.exists()


def test_use_as_input_needs_an_editor_of_this_project(project, editor, viewer, stranger, make_output):
    out = make_output(project, editor)
    assert client_for(viewer).post(action("use", out)).status_code == 403
    assert client_for(stranger).post(action("use", out)).status_code == 404
    assert not Asset.objects.exists()


def test_use_as_input_with_the_file_gone_from_storage_is_a_clear_409(project, editor, make_output):
    out = make_output(project, editor)
    default_storage.delete(out.file.name)
    response = client_for(editor).post(action("use", out))
    assert response.status_code == 409
    assert "could not be read" in response.content.decode()
    assert not Asset.objects.exists()


# --- deleting -------------------------------------------------------------------------------


def delete_url(project, *ids) -> str:
    return reverse("gallery:delete", args=[project.slug]) + "?" + "&".join(f"ids={i}" for i in ids)


def test_delete_asks_first_then_moves_to_the_trash_keeping_the_files(project, editor, make_output, media_root,
                                                                     django_capture_on_commit_callbacks):
    a, b, keep = (make_output(project, editor) for _ in range(3))
    client = client_for(editor)
    response = client.get(delete_url(project, a.pk, b.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Move 2 outputs to the trash?" in html and f'value="{a.pk}"' in html
    assert Output.objects.in_project(project).count() == 3  # asking changes nothing
    names = [a.file.name, a.thumbnail.name, b.file.name, b.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("gallery:delete", args=[project.slug]), {"ids": [a.pk, b.pk]})
    assert response.status_code == 302
    assert list(Output.objects.in_project(project).values_list("pk", flat=True)) == [keep.pk]
    assert set(Output.objects.in_trash(project).values_list("pk", flat=True)) == {a.pk, b.pk}
    assert all(default_storage.exists(n) for n in names)  # until the purge (test_trash)


def test_editor_may_not_delete_someone_elses_output_but_an_owner_may(project, owner, editor, make_output):
    theirs = make_output(project, owner)
    mine = make_output(project, editor)
    response = client_for(editor).post(reverse("gallery:delete", args=[project.slug]),
                                       {"ids": [mine.pk, theirs.pk]})
    assert response.status_code == 403
    assert Output.objects.in_project(project).count() == 2  # all or nothing
    assert client_for(owner).post(reverse("gallery:delete", args=[project.slug]),
                                  {"ids": [mine.pk, theirs.pk]}).status_code == 302
    assert Output.objects.in_project(project).count() == 0 and Output.objects.in_trash(project).count() == 2


def test_delete_naming_another_projects_output_is_404_and_deletes_nothing(project, editor, stranger, make_output):
    from accounts.models import Project

    mine = make_output(project, editor)
    theirs = make_output(Project.objects.for_user(stranger).get(), stranger)
    response = client_for(editor).post(reverse("gallery:delete", args=[project.slug]),
                                       {"ids": [mine.pk, theirs.pk]})
    assert response.status_code == 404
    assert Output.objects.count() == 2


@pytest.mark.parametrize("ids", [[], ["abc"], ["1; DROP TABLE"]])
def test_delete_with_a_bad_selection_is_400(project, editor, make_output, ids):
    make_output(project, editor)
    response = client_for(editor).post(reverse("gallery:delete", args=[project.slug]), {"ids": ids})
    assert response.status_code == 400
    assert Output.objects.count() == 1


def test_viewer_cannot_delete(project, editor, viewer, make_output):
    out = make_output(project, editor)
    assert client_for(viewer).post(reverse("gallery:delete", args=[project.slug]), {"ids": [out.pk]}).status_code == 403
    assert Output.objects.count() == 1
