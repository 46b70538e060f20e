"""Presets and the prompt library, through their pages: who may do what, placeholders, search."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from accounts.actions import create_team_project
from audit.models import AuditEntry
from generations import submit
from presets.models import Preset
from tests.conftest import client_for
from tests.factories import make_asset

pytestmark = pytest.mark.django_db

PROMPT = "A {animal} crossing a rope bridge in the {weather}"


@pytest.fixture
def made(runway_emulator, project, funded, editor):
    """Two generations of the project, one by each of two people, and a third reusing a prompt."""
    first = submit.submit_generation(project=project, user=funded, endpoint="text_to_image", model="gen4_image",
                                     params={"prompt_text": PROMPT, "ratio": "1920:1080", "seed": 7})
    submit.submit_generation(project=project, user=funded, endpoint="text_to_image", model="gen4_image",
                             params={"prompt_text": "A harbour at dawn", "ratio": "1920:1080"})
    return first


def _save(client, project, generation, name="Bridges"):
    return client.post(reverse("presets:save", args=[project.slug]), {"generation": generation.pk, "name": name})


def test_an_editor_saves_a_generations_settings_and_uses_them_with_its_placeholders(owner_client, project, made,
                                                                                    owner):
    assert _save(owner_client, project, made).status_code == 302
    preset = Preset.objects.get()
    assert (preset.endpoint, preset.model, preset.prompt) == ("text_to_image", "gen4_image", PROMPT)
    assert preset.params == {"ratio": "1920:1080", "seed": 7}
    assert preset.placeholders == ["animal", "weather"]
    assert AuditEntry.objects.filter(action="preset.create", object_id=str(preset.pk), actor=owner).exists()
    use = reverse("presets:use", args=[project.slug, preset.pk])
    page = owner_client.get(use)
    assert page.status_code == 200 and "animal" in page.content.decode()
    assert owner_client.post(use, {"p0": "goat"}).status_code == 400  # the weather is missing
    opened = owner_client.post(use, {"p0": "goat", "p1": "fog"})
    assert opened.status_code == 302
    query = parse_qs(urlparse(opened["Location"]).query)
    assert query["prompt_text"] == ["A goat crossing a rope bridge in the fog"]
    assert (query["endpoint"], query["model"], query["ratio"], query["seed"]) == \
        (["text_to_image"], ["gen4_image"], ["1920:1080"], ["7"])
    form = owner_client.get(opened["Location"]).content.decode()
    assert "A goat crossing a rope bridge in the fog" in form  # the form opens filled in
    preset.refresh_from_db()
    assert preset.uses == 1


def test_a_name_is_used_once_per_project_and_bad_input_keeps_the_form(owner_client, project, made):
    _save(owner_client, project, made)
    again = _save(owner_client, project, made)
    assert again.status_code == 409 and "already has a preset called" in again.content.decode()
    empty = owner_client.post(reverse("presets:save", args=[project.slug]), {"generation": made.pk, "name": ""})
    assert empty.status_code == 400 and "Give the preset a name" in empty.content.decode()
    wrong = owner_client.post(reverse("presets:save", args=[project.slug]), {"generation": "999999", "name": "X"})
    assert wrong.status_code == 400 and "one of this project" in wrong.content.decode()
    assert Preset.objects.count() == 1


def test_roles_viewers_see_editors_change_strangers_get_404(project, made, owner_client, editor_client,
                                                          viewer_client, stranger_client):
    _save(owner_client, project, made)
    preset = Preset.objects.get()
    listing = reverse("presets:list", args=[project.slug])
    edit = reverse("presets:edit", args=[project.slug, preset.pk])
    delete = reverse("presets:delete", args=[project.slug, preset.pk])
    assert viewer_client.get(listing).status_code == 200
    assert "Bridges" in viewer_client.get(listing).content.decode()
    assert _save(viewer_client, project, made, name="Viewer's").status_code == 403
    assert viewer_client.post(edit, {"name": "Mine"}).status_code == 403
    assert editor_client.post(edit, {"name": "Rope bridges", "prompt": "A {animal} on a bridge"}).status_code == 302
    preset.refresh_from_db()
    assert (preset.name, preset.placeholders) == ("Rope bridges", ["animal"])
    for url in (listing, edit, delete, reverse("presets:use", args=[project.slug, preset.pk]),
                reverse("presets:prompts", args=[project.slug])):
        assert stranger_client.get(url).status_code == 404, url
    assert editor_client.get(delete).status_code == 200  # asks first
    assert editor_client.post(delete).status_code == 302
    assert not Preset.objects.exists()


def test_another_projects_preset_is_not_found(project, made, owner_client, stranger):
    elsewhere = create_team_project(user=stranger, name="Elsewhere")
    theirs = Preset.objects.create(project=elsewhere, name="Theirs", endpoint="text_to_image", model="gen4_image")
    assert owner_client.get(reverse("presets:use", args=[project.slug, theirs.pk])).status_code == 404
    assert client_for(stranger).get(reverse("presets:use", args=[elsewhere.slug, theirs.pk])).status_code == 302


def test_the_prompt_library_counts_uses_and_names_who_wrote_each_prompt(runway_emulator, project, made, funded,
                                                                        editor, editor_client):
    submit.submit_generation(project=project, user=editor, endpoint="text_to_image", model="gen4_image",
                             params={"prompt_text": PROMPT, "ratio": "1080:1920"})
    page = editor_client.get(reverse("presets:prompts", args=[project.slug]))
    rows = page.context["page"].object_list
    by_prompt = {r["prompt"]: r for r in rows}
    assert by_prompt[PROMPT]["uses"] == 2 and by_prompt[PROMPT]["author"] == funded.username
    assert by_prompt["A harbour at dawn"]["uses"] == 1
    found = editor_client.get(reverse("presets:prompts", args=[project.slug]), {"q": "harbour"})
    assert [r["prompt"] for r in found.context["page"].object_list] == ["A harbour at dawn"]
    assert "No prompt matches" in editor_client.get(reverse("presets:prompts", args=[project.slug]),
                                                    {"q": "zebra"}).content.decode()


# --- saving the form as it is ------------------------------------------------------------------


def _save_form(client, project, **data):
    form = {"endpoint": "text_to_image", "model": "gen4_image", "prompt_text": PROMPT, "ratio": "1080:1920",
            "seed": "12", "preset_name": "Tall bridges", **data}
    return client.post(reverse("presets:save_form", args=[project.slug]), form)


def test_the_generation_form_saves_what_it_holds_as_a_preset_and_goes_back_filled_in(owner_client, project, owner):
    form_page = owner_client.get(reverse("generations:new", args=[project.slug]) + "?endpoint=text_to_image")
    assert reverse("presets:save_form", args=[project.slug]) in form_page.content.decode()
    answer = _save_form(owner_client, project)
    assert answer.status_code == 302
    preset = Preset.objects.get(project=project)
    assert (preset.name, preset.endpoint, preset.model, preset.prompt) == \
        ("Tall bridges", "text_to_image", "gen4_image", PROMPT)
    assert preset.params == {"ratio": "1080:1920", "seed": 12}
    assert preset.placeholders == ["animal", "weather"]
    assert AuditEntry.objects.filter(action="preset.create", object_id=str(preset.pk), actor=owner).exists()
    back = owner_client.get(answer["Location"])
    body = back.content.decode()
    assert "Preset “Tall bridges” saved" in body and PROMPT in body  # nothing typed is lost
    assert re.search(r'<option value="1080:1920"[^>]*selected', body)


def test_saving_the_form_refuses_bad_input_and_gives_everything_back(owner_client, project, editor_client,
                                                                     viewer_client, stranger_client, stranger,
                                                                     media_root, tmp_path):
    assert _save_form(owner_client, project, preset_name="").status_code == 302
    assert _save_form(owner_client, project, seed="many").status_code == 302
    assert _save_form(owner_client, project, preset_name="x" * 101).status_code == 302
    assert not Preset.objects.exists()
    refused = owner_client.get(_save_form(owner_client, project, seed="many")["Location"]).content.decode()
    assert "The preset was not saved" in refused and "many" in refused and "crossing a rope bridge" in refused
    unknown = _save_form(owner_client, project, model="no-such-model")
    assert "Nothing was saved" in owner_client.get(unknown["Location"]).content.decode()
    theirs = create_team_project(user=stranger, name="Elsewhere")
    asset = make_asset(theirs, stranger, "image 1280x720", tmp_path / "in")
    foreign = _save_form(owner_client, project, endpoint="image_to_video", model="gen4_turbo", prompt_image=asset.pk,
                         ratio="1280:720", seed="")
    assert foreign.status_code == 302 and not Preset.objects.exists()
    assert _save_form(editor_client, project).status_code == 302 and Preset.objects.count() == 1
    assert _save_form(editor_client, project).status_code == 302 and Preset.objects.count() == 1  # name taken
    assert _save_form(viewer_client, project, preset_name="v").status_code == 403
    assert _save_form(stranger_client, project, preset_name="s").status_code == 404
    assert Preset.objects.count() == 1
