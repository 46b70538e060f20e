"""The Model Router page: configurations made, edited and deleted on Runway, and their routed requests."""

from __future__ import annotations

import pytest
import runwayml
from django.urls import reverse
from django.utils.text import slugify

from audit.models import AuditEntry
from library.models import RouterConfig

from .conftest import router_on_runway


def create(client, project, **data):
    payload = {"name": "Launch trailers", "description": "Cheap drafts", "optimize_for": "latency",
               "model_mode": "allowlist_only", "model_ids": ["gen4.5", "veo3.1_fast", "gen4_image"],
               "video_cap": "120", "image_cap": "", "audio_cap": "30", "fallback_on_capacity": "on", **data}
    return client.post(reverse("library:router_create", args=[project.slug]), payload)


def test_the_empty_list_and_the_form(viewer_client, editor_client, project):
    listing = viewer_client.get(reverse("library:routers", args=[project.slug]))
    assert listing.status_code == 200 and "No router configurations yet" in listing.content.decode()
    form = editor_client.get(reverse("library:router_create", args=[project.slug]))
    html = form.content.decode()
    assert form.status_code == 200 and 'value="gen4.5"' in html and 'value="eleven_v3"' in html


def test_a_configuration_is_saved_on_runway_with_every_setting(editor_client, editor, project, witness):
    response = create(editor_client, project)
    assert response.status_code == 302
    config = RouterConfig.objects.get()
    assert config.slug == f"{project.slug}-{slugify('Launch trailers')}"
    assert response.url == reverse("library:router", args=[project.slug, config.pk])
    on_runway = witness.routers.retrieve(config.runway_id)
    assert (on_runway.slug, on_runway.name, on_runway.description) == (config.slug, "Launch trailers", "Cheap drafts")
    settings = on_runway.settings
    assert settings.optimize_for == "latency"
    assert settings.models.mode == "allowlist_only"
    assert sorted(settings.models.ids) == ["gen4.5", "gen4_image", "veo3.1_fast"]
    caps = settings.max_credits_per_generation
    assert (caps.video, caps.image, caps.audio) == (120, None, 30)
    assert settings.fallback.on_capacity is True
    assert AuditEntry.objects.filter(action="router.create", object_id=str(config.pk), actor=editor).exists()


def test_a_taken_slug_gets_a_number(editor_client, project, witness):
    create(editor_client, project)
    create(editor_client, project)
    slugs = sorted(RouterConfig.objects.values_list("slug", flat=True))
    base = f"{project.slug}-launch-trailers"
    assert slugs == [base, f"{base}-2"]
    assert {r.slug for r in witness.routers.list(limit=50).data} >= set(slugs)


def test_a_slug_taken_on_runway_outside_takes_gets_a_number(editor_client, project, witness):
    base = f"{project.slug}-launch-trailers"
    witness.routers.create(slug=base, name="Made elsewhere")
    assert create(editor_client, project).status_code == 302
    assert RouterConfig.objects.get().slug == f"{base}-2"


@pytest.mark.parametrize(("change", "message"), [
    ({"video_cap": "lots"}, "Enter a whole number"),
    ({"image_cap": "2.5"}, "Enter a whole number"),
    ({"audio_cap": "-4"}, "greater than or equal to 1"),
    ({"model_ids": ["gen4.5", "not_a_model"]}, "not one of the available choices"),
    ({"model_ids": []}, "Choose at least one model"),
    ({"optimize_for": "vibes"}, "not one of the available choices"),
    ({"name": ""}, "Give the configuration a name"),
    ({"name": "n" * 10_000}, "at most 100 characters"),
    ({"description": "d" * 10_000}, "at most 500 characters"),
])
def test_bad_input_is_refused_and_nothing_is_made(editor_client, project, control, change, message):
    response = create(editor_client, project, **change)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RouterConfig.objects.exists()
    assert control.state()["requests"].get("POST /v1/routers") is None


def test_every_model_except_none_is_allowed(editor_client, project, witness):
    assert create(editor_client, project, model_mode="allow_new_except", model_ids=[]).status_code == 302
    settings = witness.routers.retrieve(RouterConfig.objects.get().runway_id).settings
    assert settings.models.mode == "allow_new_except" and settings.models.ids == []


def test_a_runway_refusal_is_shown_and_nothing_is_saved(editor_client, project, control, witness):
    control.inject_fault(path="/v1/routers", method="POST", status=400, count=1)
    before = {r.id for r in witness.routers.list(limit=50).data}
    response = create(editor_client, project)
    assert response.status_code == 400 and "Runway" in response.content.decode()
    assert not RouterConfig.objects.exists()
    assert {r.id for r in witness.routers.list(limit=50).data} == before


def test_an_edit_changes_settings_on_runway_but_never_the_slug(editor_client, editor, project, witness):
    create(editor_client, project)
    config = RouterConfig.objects.get()
    url = reverse("library:router_edit", args=[project.slug, config.pk])
    assert editor_client.get(url).status_code == 200
    response = editor_client.post(url, {
        "name": "Renamed", "description": "", "optimize_for": "quality", "model_mode": "allow_new_except",
        "model_ids": ["veo3.1"], "video_cap": "", "image_cap": "40", "audio_cap": "", "slug": "hijacked"})
    assert response.status_code == 302
    on_runway = witness.routers.retrieve(config.runway_id)
    assert on_runway.slug == config.slug and on_runway.name == "Renamed"
    settings = on_runway.settings
    assert settings.optimize_for == "quality"
    assert (settings.models.mode, settings.models.ids) == ("allow_new_except", ["veo3.1"])
    caps = settings.max_credits_per_generation
    assert caps is None or (caps.video, caps.image, caps.audio) == (None, 40, None)
    assert not (settings.fallback and settings.fallback.on_capacity)
    config.refresh_from_db()
    assert config.slug == on_runway.slug and config.name == "Renamed"
    assert AuditEntry.objects.filter(action="router.update", object_id=str(config.pk)).exists()


def test_the_page_lists_its_routed_requests(viewer_client, editor, project, witness):
    config = router_on_runway(witness, project, editor)
    routed = witness.generate.image.create(config_id=config.slug, input={"prompt_text": "a fox in the snow"})
    (request,) = witness.routers.list_requests(config.runway_id, limit=5).data
    html = viewer_client.get(reverse("library:router", args=[project.slug, config.pk])).content.decode()
    assert request.model and request.model in html
    assert routed.id in html  # the task id
    assert config.slug in html


def test_a_config_with_no_requests_says_so(viewer_client, editor, project, witness):
    config = router_on_runway(witness, project, editor)
    html = viewer_client.get(reverse("library:router", args=[project.slug, config.pk])).content.decode()
    assert "No requests have been routed" in html


def test_roles_for_configurations(viewer_client, editor_client, owner_client, editor, project, witness):
    config = router_on_runway(witness, project, editor)
    assert create(viewer_client, project).status_code == 403
    edit = viewer_client.post(reverse("library:router_edit", args=[project.slug, config.pk]), {"name": "x"})
    assert edit.status_code == 403 and "You need to be an editor" in edit.content.decode()
    url = reverse("library:router_delete", args=[project.slug, config.pk])
    refused = editor_client.post(url)
    assert refused.status_code == 403 and "Only owners" in refused.content.decode()
    assert owner_client.get(url).status_code == 200
    assert owner_client.post(url).status_code == 302
    assert not RouterConfig.objects.exists()
    with pytest.raises(runwayml.NotFoundError):
        witness.routers.retrieve(config.runway_id)
    assert AuditEntry.objects.filter(action="router.delete").exists()


def test_a_configuration_runway_already_lost_is_still_removed(owner_client, editor, project, witness):
    config = router_on_runway(witness, project, editor)
    witness.routers.delete(config.runway_id)
    assert owner_client.post(reverse("library:router_delete", args=[project.slug, config.pk])).status_code == 302
    assert not RouterConfig.objects.exists()
