"""The avatars page: make an avatar from a project image and a voice, follow it to READY, edit, delete."""

from __future__ import annotations

import pytest
import runwayml
from django.urls import reverse

from audit.models import AuditEntry
from library.models import Avatar, Readiness
from tests.factories import make_asset

from .conftest import avatar_on_runway, voice_on_runway

HX = {"HTTP_HX_REQUEST": "true"}


def avatars_url(project) -> str:
    return reverse("library:avatars", args=[project.slug])


def create(client, project, asset, **data):
    payload = {"name": "Ada", "personality": "A cheerful science host who loves questions.",
               "start_script": "Hello there!", "image": asset.pk, "voice": "victoria",
               "image_processing": "optimize", **data}
    return client.post(reverse("library:avatar_create", args=[project.slug]), payload)


def test_the_empty_page_offers_the_form_to_editors(editor_client, project, image):
    response = editor_client.get(avatars_url(project))
    html = response.content.decode()
    assert response.status_code == 200 and "No avatars yet" in html
    assert f'value="{image.pk}"' in html and 'value="victoria"' in html


def test_an_avatar_is_made_on_runway_from_a_project_image_and_a_preset_voice(
        editor_client, editor, project, image, witness):
    response = create(editor_client, project, image)
    assert response.status_code == 302
    avatar = Avatar.objects.get()
    assert (avatar.project, avatar.created_by, avatar.image, avatar.preset_voice) == (project, editor, image, "victoria")
    on_runway = witness.avatars.retrieve(avatar.runway_id)
    assert on_runway.name == "Ada" and on_runway.personality.startswith("A cheerful science host")
    assert on_runway.start_script == "Hello there!"
    assert on_runway.voice.type == "runway-live-preset" and on_runway.voice.preset_id == "victoria"
    assert on_runway.reference_image_uri
    image.refresh_from_db()
    assert image.runway_uri.startswith("runway://") and image.runway_uri_usable()
    assert AuditEntry.objects.filter(action="avatar.create", object_id=str(avatar.pk), actor=editor).exists()


def test_an_avatar_speaks_with_one_of_the_projects_ready_voices(editor_client, editor, project, image, witness):
    voice = voice_on_runway(witness, project, editor, name="House voice")
    page = editor_client.get(avatars_url(project)).content.decode()
    assert voice.choice_value in page and "House voice" in page
    assert create(editor_client, project, image, voice=voice.choice_value).status_code == 302
    avatar = Avatar.objects.get()
    assert avatar.voice == voice and avatar.preset_voice == ""
    on_runway = witness.avatars.retrieve(avatar.runway_id)
    assert on_runway.voice.type == "custom" and on_runway.voice.id == voice.runway_id


def test_image_processing_none_is_kept(editor_client, project, image, witness):
    assert create(editor_client, project, image, image_processing="none").status_code == 302
    assert Avatar.objects.get().image_processing == "none"


@pytest.mark.parametrize(("change", "message"), [
    ({"image": ""}, "Choose a reference image"),
    ({"personality": ""}, "Describe the avatar"),
    ({"name": "x" * 3000}, "at most 100 characters"),
    ({"voice": "custom:not-ours"}, "Choose one of the voices offered"),
    ({"voice": "bogus"}, "Choose one of the voices offered"),
    ({"image_processing": "sharpen"}, "Choose how the image is processed"),
])
def test_bad_input_is_refused_and_nothing_is_made(editor_client, project, image, control, change, message):
    response = create(editor_client, project, image, **change)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Avatar.objects.exists()
    assert control.state()["requests"].get("POST /v1/avatars") is None


def test_another_projects_voice_or_image_is_refused(editor_client, editor, project, image, other_project, stranger,
                                                   witness, tmp_path, control):
    theirs = voice_on_runway(witness, other_project, stranger, name="Their voice")
    response = create(editor_client, project, image, voice=theirs.choice_value)
    assert response.status_code == 400 and "Choose one of the voices offered" in response.content.decode()
    their_image = make_asset(other_project, stranger, "image 320x200", tmp_path / "theirs")
    response = create(editor_client, project, their_image)
    assert response.status_code == 400 and "Choose one of this project" in response.content.decode()
    assert not Avatar.objects.exists()
    assert witness.avatars.list(limit=10).data == []


def test_a_video_is_not_a_reference_image(editor_client, editor, project, tmp_path):
    clip = make_asset(project, editor, "video 320x180 1s", tmp_path / "clip")
    response = create(editor_client, project, clip)
    assert response.status_code == 400 and "Choose one of this project" in response.content.decode()


def test_a_runway_refusal_is_shown_and_nothing_is_saved(editor_client, project, image, control, witness):
    control.inject_fault(path="/v1/avatars", method="POST", status=400, count=1)
    response = create(editor_client, project, image)
    assert response.status_code == 400 and "Runway" in response.content.decode()
    assert not Avatar.objects.exists() and not AuditEntry.objects.filter(action="avatar.create").exists()
    assert witness.avatars.list(limit=10).data == []


def test_a_processing_avatar_becomes_ready_through_one_poll(editor_client, project, image, control):
    control.set_speed(1)
    control.freeze_clock(True)
    create(editor_client, project, image, name="First")
    create(editor_client, project, image, name="Second")
    assert set(Avatar.objects.values_list("status", flat=True)) == {Readiness.PROCESSING}
    waiting = editor_client.get(avatars_url(project), **HX)
    html = waiting.content.decode()
    assert waiting.status_code == 200 and html.count('hx-trigger="every') == 1
    assert "Make a talking video" not in html
    control.advance_clock(600)
    done = editor_client.get(avatars_url(project), **HX)
    assert done.status_code == 286
    assert set(Avatar.objects.values_list("status", flat=True)) == {Readiness.READY}
    assert done.content.decode().count("Make a talking video") == 2


def test_a_ready_avatar_links_editors_to_a_talking_video(editor_client, viewer_client, editor, project, image,
                                                         witness):
    avatar = avatar_on_runway(witness, project, editor, image)
    assert "Make a talking video" not in viewer_client.get(avatars_url(project)).content.decode()
    html = editor_client.get(avatars_url(project)).content.decode()
    link = (reverse("generations:new", kwargs={"slug": project.slug})
            + "?endpoint=avatar_videos&amp;model=gwm1_avatars&amp;avatar=" + avatar.choice_value)
    assert link in html
    assert reverse("assets:thumb", args=[project.slug, image.pk]) in html  # the image is its poster


def test_a_failed_avatar_says_why(editor_client, project, image):
    create(editor_client, project, image, name="Broken [fail]")
    html = editor_client.get(avatars_url(project)).content.decode()
    avatar = Avatar.objects.get()
    assert avatar.status == Readiness.FAILED and avatar.failure and avatar.failure in html
    assert "Make a talking video" not in html


def test_an_editor_edits_name_personality_and_voice_on_runway(editor_client, editor, project, image, witness):
    avatar = avatar_on_runway(witness, project, editor, image)
    voice = voice_on_runway(witness, project, editor, name="House voice")
    url = reverse("library:avatar_edit", args=[project.slug, avatar.pk])
    assert editor_client.get(url).status_code == 200
    response = editor_client.post(url, {"name": "Ada II", "personality": "Dry wit.", "voice": voice.choice_value})
    assert response.status_code == 302
    on_runway = witness.avatars.retrieve(avatar.runway_id)
    assert (on_runway.name, on_runway.personality) == ("Ada II", "Dry wit.")
    assert on_runway.voice.type == "custom" and on_runway.voice.id == voice.runway_id
    avatar.refresh_from_db()
    assert (avatar.name, avatar.voice, avatar.preset_voice) == ("Ada II", voice, "")
    assert AuditEntry.objects.filter(action="avatar.update", object_id=str(avatar.pk)).exists()


def test_a_viewer_cannot_create_or_edit(viewer_client, editor, project, image, witness):
    avatar = avatar_on_runway(witness, project, editor, image)
    for response in (create(viewer_client, project, image),
                     viewer_client.post(reverse("library:avatar_edit", args=[project.slug, avatar.pk]),
                                        {"name": "x", "personality": "y", "voice": "victoria"})):
        assert response.status_code == 403 and "You need to be an editor" in response.content.decode()
    assert Avatar.objects.count() == 1 and witness.avatars.retrieve(avatar.runway_id).name == "Ada"


def test_only_an_owner_deletes_and_runway_forgets_it(editor_client, owner_client, editor, project, image, witness):
    avatar = avatar_on_runway(witness, project, editor, image)
    url = reverse("library:avatar_delete", args=[project.slug, avatar.pk])
    assert editor_client.post(url).status_code == 403
    assert owner_client.get(url).status_code == 200
    assert owner_client.post(url).status_code == 302
    assert not Avatar.objects.exists()
    with pytest.raises(runwayml.NotFoundError):
        witness.avatars.retrieve(avatar.runway_id)


def test_an_avatar_runway_already_lost_is_still_removed(owner_client, editor, project, image, witness):
    avatar = avatar_on_runway(witness, project, editor, image)
    witness.avatars.delete(avatar.runway_id)
    assert owner_client.post(reverse("library:avatar_delete", args=[project.slug, avatar.pk])).status_code == 302
    assert not Avatar.objects.exists()
