"""The generation form's live estimate (sent by POST, honest about invalid settings) and its
upload slots."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from credits import ledger

pytestmark = pytest.mark.django_db

LONG_PROMPT = ("A lighthouse keeper walks the spiral stair at dusk. " * 200)[:10_000]


@pytest.fixture
def funded(editor):
    ledger.grant(user=editor, amount=100_000, note="tests")


def estimate_url(project) -> str:
    return reverse("generations:estimate", args=[project.slug])


def test_the_form_asks_for_its_estimate_by_post(editor_client, project):
    body = editor_client.get(reverse("generations:new", args=[project.slug])).content.decode()
    estimate = re.search(r'<div id="estimate"[^>]*>', body).group(0)
    assert f'hx-post="{estimate_url(project)}"' in estimate
    assert "hx-get" not in estimate


def test_a_long_prompt_is_estimated_by_post(editor_client, project, funded):
    response = editor_client.post(estimate_url(project), {
        "endpoint": "text_to_video", "model": "seedance2_5", "prompt_text": LONG_PROMPT, "duration": "5"},
        HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r"\d+ credits?</h3>", body)
    assert "<html" not in body


def test_the_estimate_post_needs_the_csrf_token(editor, project, funded):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(estimate_url(project), {"endpoint": "text_to_video", "model": "gen4.5"})
    assert response.status_code == 403


def test_an_old_estimate_link_without_the_prompt_still_answers(editor_client, project, funded):
    response = editor_client.get(estimate_url(project), {"endpoint": "text_to_video", "model": "gen4.5",
                                                         "duration": "5"})
    assert response.status_code == 200
    assert "Gen-4.5: 60 credits" in response.content.decode()


def test_an_invalid_duration_is_named_instead_of_priced(editor_client, project, funded):
    response = editor_client.post(estimate_url(project), {
        "endpoint": "text_to_video", "model": "gen4.5", "prompt_text": "waves", "duration": "99"},
        HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "1188" not in body and "1,188" not in body
    assert "Fix these settings to see the price" in body
    assert "Gen-4.5 takes 2–10 seconds; you asked for 99." in body


def test_a_half_filled_form_is_still_priced(editor_client, project, funded):
    # No prompt yet: a required field left empty is not an invalid setting.
    response = editor_client.post(estimate_url(project), {"endpoint": "text_to_video", "model": "gen4.5",
                                                          "duration": "5"}, HTTP_HX_REQUEST="true")
    assert "Gen-4.5: 60 credits" in response.content.decode()


def test_viewers_and_strangers_get_no_estimate(viewer_client, stranger_client, project):
    data = {"endpoint": "text_to_video", "model": "gen4.5"}
    assert viewer_client.post(estimate_url(project), data).status_code == 403
    assert stranger_client.post(estimate_url(project), data).status_code == 404


def test_an_unknown_model_posted_is_a_400_with_its_message(editor_client, project):
    response = editor_client.post(estimate_url(project), {"endpoint": "text_to_video", "model": "nope"},
                                  HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


# --- upload slots ---------------------------------------------------------------------------------


def test_every_asset_picker_is_a_drop_zone_for_its_own_slot(editor_client, project):
    body = editor_client.get(reverse("generations:new", args=[project.slug]) + "?endpoint=image_to_video"
                             ).content.decode()
    zone = re.search(r'<div class="slot-drop"[^>]*data-slot="prompt_image"[^>]*>', body)
    assert zone, "no drop zone for the first frame"
    assert f'data-upload-url="{reverse("assets:list", args=[project.slug])}"' in zone.group(0)
    assert 'data-kinds="image"' in zone.group(0)
    assert "static/vendor/dropzone/dropzone-min.js" in body


# --- switching the model -----------------------------------------------------------------------------


def test_switching_the_model_posts_the_form_and_keeps_a_long_prompt(editor_client, project, settings):
    from generations.models import Generation

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "submissions-person": "1/m"}
    data = {"endpoint": "text_to_video", "model": "seedance2_5", "prompt_text": LONG_PROMPT, "switch": "1"}
    for _ in range(3):  # a switch is not a submission: it neither counts nor makes anything
        response = editor_client.post(reverse("generations:new", args=[project.slug]), data,
                                      HTTP_HX_REQUEST="true")
        assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="fields">')
    assert LONG_PROMPT[:200] in body
    assert not Generation.objects.exists()


def test_the_model_select_posts_and_never_puts_the_prompt_in_a_url(editor_client, project):
    body = editor_client.get(reverse("generations:new", args=[project.slug])).content.decode()
    select = re.search(r'<select id="id_model"[^>]*>', body).group(0)
    assert "hx-post=" in select and "hx-get=" not in select
    assert 'name="switch"' in body  # without JS, the switch button posts the same way
