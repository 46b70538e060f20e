"""The generation form, live status cards, cancel and retry, the queue, and output files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files import File
from django.urls import reverse
from django.utils import timezone

from credits import ledger
from generations import submit as submitting
from generations.models import Generation, Output, Status
from runway import catalog
from tests.conftest import client_for
from tests.generations import media_samples as samples
from tests.generations.catalog_cases import invalid_examples, valid_params
from tests.generations.gen_helpers import SpecAssets, expressible, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage_dir(media_root) -> Path:
    """Filesystem storage in a fresh folder, so 'nothing was stored' can be checked."""
    return media_root


@pytest.fixture
def funded(editor, owner):
    for user in (editor, owner):
        ledger.grant(user=user, amount=100_000, note="tests")


@pytest.fixture
def spec_assets(project, editor) -> SpecAssets:
    return SpecAssets(project, editor)


def new_url(project, **query) -> str:
    url = reverse("generations:new", args=[project.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def make_generation(project, user, status=Status.QUEUED, **fields) -> Generation:
    fields.setdefault("endpoint", "text_to_video")
    fields.setdefault("model", "gen4.5")
    fields.setdefault("params", {"prompt_text": "A lighthouse at dusk", "ratio": "1280:720", "duration": 5})
    fields.setdefault("prompt", fields["params"].get("prompt_text", ""))
    if status in (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED):
        fields.setdefault("finished_at", timezone.now())
    return Generation.objects.create(project=project, created_by=user, status=status, **fields)


# --- the form page --------------------------------------------------------------------------


def test_form_page_has_endpoint_tabs_models_and_labelled_fields(editor_client, project):
    response = editor_client.get(new_url(project, endpoint="text_to_video"))
    assert response.status_code == 200
    body = response.content.decode()
    for endpoint in catalog.ENDPOINTS.values():
        assert f"?endpoint={endpoint.key}" in body
    for model in catalog.get_endpoint("text_to_video").models:
        assert f'value="{model.id}"' in body
    assert '<label for="id_model">Model</label>' in body
    assert '<label for="id_prompt_text">Prompt</label>' in body
    assert 'id="id_prompt_text_count"' in body
    assert 'hx-post="' + reverse("generations:new", args=[project.slug]) in body


def test_choosing_a_model_swaps_the_fields_partial_and_keeps_what_was_typed(editor_client, project):
    response = editor_client.get(
        new_url(project, endpoint="text_to_video", model="veo3.1", prompt_text="Waves", duration="9"),
        HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="fields">')
    assert "<html" not in body
    assert "Waves</textarea>" in body
    assert 'name="audio"' in body  # Veo has an audio switch, Gen-4.5 has not
    assert 'value="1080:1920"' in body


def test_the_estimate_partial_is_loaded_when_the_credits_url_exists(editor_client, project):
    body = editor_client.get(new_url(project)).content.decode()
    try:
        estimate = reverse("generations:estimate", args=[project.slug])
    except Exception:  # the credits pages are not installed
        assert 'id="estimate"' not in body
    else:
        assert f'hx-post="{estimate}"' in body


def test_asset_picker_shows_project_assets_with_thumbnails(editor_client, project, spec_assets):
    image = spec_assets("image 1280x720")
    spec_assets("audio 10s")
    body = editor_client.get(new_url(project, endpoint="image_to_video")).content.decode()
    assert f'value="{image.pk}"' in body
    assert "audio 10s.wav" not in body
    assert "<legend>Image" in body


def test_unknown_endpoint_or_model_is_a_400_with_a_message(editor_client, project):
    response = editor_client.get(new_url(project, endpoint="teleport"))
    assert response.status_code == 400
    assert "Unknown endpoint" in response.content.decode()
    response = editor_client.get(new_url(project, endpoint="text_to_video", model="gen9"))
    assert response.status_code == 400
    assert "has no model" in response.content.decode()


@pytest.mark.parametrize("endpoint", ["text_to_video", "image_to_video", "text_to_image"])
def test_submitting_a_valid_form_creates_a_generation_and_redirects(editor_client, editor, project, funded,
                                                                    spec_assets, endpoint):
    model = catalog.get_endpoint(endpoint).default_model
    data = {"endpoint": endpoint, "model": model.id, **form_data(model, valid_params(model), spec_assets)}
    response = editor_client.post(new_url(project), data)
    generation = Generation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("generations:detail", args=[project.slug, generation.pk])
    assert (generation.project, generation.created_by, generation.endpoint, generation.model) == (
        project, editor, endpoint, model.id)
    assert generation.status == Status.QUEUED
    assert generation.estimated_credits > 0
    assert set(generation.inputs.all()) == set(spec_assets.made.values())


def test_not_enough_credits_is_refused_in_the_form(editor_client, editor, project, spec_assets):
    balance = ledger.account_for(editor).balance
    if balance:
        ledger.adjust(user=editor, amount=-balance, note="spend it all")
    model = catalog.get_model("text_to_video", "gen4.5")
    data = {"endpoint": "text_to_video", "model": model.id, **form_data(model, valid_params(model), spec_assets)}
    response = editor_client.post(new_url(project), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="form-errors"' in body and "credits" in body
    assert not Generation.objects.exists()


def test_prompt_over_the_limit_is_refused_with_a_message(editor_client, project, funded):
    response = editor_client.post(new_url(project), {
        "endpoint": "text_to_video", "model": "gen4.5", "prompt_text": "x" * 1001, "ratio": "1280:720",
        "duration": "5"})
    assert response.status_code == 400
    assert "too long for Gen-4.5: 1001 characters" in response.content.decode()
    assert not Generation.objects.exists()


INVALID = [(model, description, params, field)
           for model in catalog.all_models()
           for description, params, field in invalid_examples(model)
           if expressible(description)]


@pytest.mark.parametrize(("model", "description", "params", "field"), INVALID,
                         ids=[f"{m.endpoint}/{m.id}: {d}" for m, d, _, _ in INVALID])
def test_every_invalid_example_is_refused_with_400_and_nothing_created(editor_client, project, funded,
                                                                        spec_assets, model, description,
                                                                        params, field):
    data = {"endpoint": model.endpoint, "model": model.id, **form_data(model, params, spec_assets)}
    response = editor_client.post(new_url(project), data)
    assert response.status_code == 400, description
    assert 'class="errorlist"' in response.content.decode() or 'class="form-errors"' in response.content.decode()
    assert not Generation.objects.exists()


def test_form_access(viewer_client, stranger_client, project):
    assert viewer_client.get(new_url(project)).status_code == 403
    assert viewer_client.post(new_url(project), {"endpoint": "text_to_video"}).status_code == 403
    assert stranger_client.get(new_url(project)).status_code == 404
    anonymous = client_for(None).get(new_url(project))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert not Generation.objects.exists()


# --- the status card --------------------------------------------------------------------------


def detail_url(generation) -> str:
    return reverse("generations:detail", args=[generation.project.slug, generation.pk])


@pytest.mark.parametrize("status", [Status.QUEUED, Status.UPLOADING, Status.SUBMITTING, Status.PENDING,
                                    Status.RUNNING, Status.COPYING])
def test_in_flight_card_polls_and_shows_progress(viewer_client, project, editor, status):
    generation = make_generation(project, editor, status, progress=0.42)
    response = viewer_client.get(detail_url(generation), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article id="generation-{generation.pk}"')
    assert 'hx-trigger="every' not in body  # the page's one poll asks for it, not the card
    assert f'name="card" value="{generation.pk}:' in body
    assert f'badge {status.lower()}' in body
    assert "<progress" in body
    assert "running for" in body
    if status == Status.RUNNING:
        assert 'value="42"' in body


@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.FAILED, Status.CANCELLED])
def test_finished_card_answers_286_so_polling_stops(viewer_client, project, editor, status):
    generation = make_generation(project, editor, status)
    response = viewer_client.get(detail_url(generation), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    body = response.content.decode()
    assert "hx-trigger" not in body
    assert "<progress" not in body
    page = viewer_client.get(detail_url(generation))
    assert page.status_code == 200 and "<html" in page.content.decode()


def test_throttled_card_shows_its_queue_position(viewer_client, project, editor):
    now = timezone.now()
    make_generation(project, editor, Status.THROTTLED, submitted_at=now - timedelta(minutes=2))
    make_generation(project, editor, Status.THROTTLED, submitted_at=now - timedelta(minutes=1))
    mine = make_generation(project, editor, Status.THROTTLED, submitted_at=now)
    body = viewer_client.get(detail_url(mine), HTTP_HX_REQUEST="true").content.decode()
    assert mine.queue_position() == 3
    assert "Position 3 in Runway's queue" in body


def test_card_partial_query_count(viewer_client, project, editor, django_assert_max_num_queries):
    generation = make_generation(project, editor, Status.THROTTLED, submitted_at=timezone.now())
    done = make_generation(project, editor, Status.SUCCEEDED)
    Output.objects.create(project=project, generation=done, kind="image", content_type="image/png", size=1000,
                          sha256="0" * 64, file="outputs/x.png", width=10, height=10)
    viewer_client.get(detail_url(generation))  # warm the session
    # Session, user and membership are the request's own; the card itself takes at most 3.
    for g in (generation, done):
        with django_assert_max_num_queries(3 + 3):
            viewer_client.get(detail_url(g), HTTP_HX_REQUEST="true")


@pytest.mark.parametrize(("code", "family_text", "retry_enabled"), [
    ("SAFETY.INPUT.TEXT", "content moderation rejected", False),
    ("ASSET.INVALID", "could not use one of the inputs", True),
    ("INTERNAL.BAD_OUTPUT.CODE01", "Trying again usually works", True),
])
def test_failed_card_explains_and_offers_retry_unless_safety(editor_client, project, editor, code,
                                                             family_text, retry_enabled):
    generation = make_generation(project, editor, Status.FAILED, failure_code=code,
                                 failure_message="Runway refused this.")
    body = editor_client.get(detail_url(generation)).content.decode()
    assert "Runway refused this." in body
    assert family_text in body
    retry = reverse("generations:retry", args=[project.slug, generation.pk])
    assert (f'action="{retry}"' in body) is retry_enabled
    assert ("disabled" in body) is not retry_enabled


def test_succeeded_card_shows_each_output_inline(viewer_client, project, editor):
    generation = make_generation(project, editor, Status.SUCCEEDED)
    kinds = [("video", "video/mp4"), ("image", "image/png"), ("audio", "audio/wav")]
    outputs = [Output.objects.create(project=project, generation=generation, index=i, kind=kind, content_type=ct,
                                     size=1000, sha256="0" * 64, file=f"outputs/{i}", thumbnail=f"thumbs/{i}.jpg")
               for i, (kind, ct) in enumerate(kinds)]
    body = viewer_client.get(detail_url(generation)).content.decode()
    # Video and audio play through the playable route (a preview where the delivery has one).
    video, _, audio = (reverse("generations:output_play", args=[project.slug, o.pk]) for o in outputs)
    image = reverse("generations:output_file", args=[project.slug, outputs[1].pk])
    poster = reverse("generations:output_thumb", args=[project.slug, outputs[0].pk])
    assert f'<video controls preload="metadata" src="{video}" poster="{poster}"' in body
    assert f'<img src="{image}"' in body
    assert f'<audio controls preload="metadata" src="{audio}"' in body


def test_viewer_sees_no_action_buttons(viewer_client, project, editor):
    generation = make_generation(project, editor, Status.RUNNING)
    body = viewer_client.get(detail_url(generation)).content.decode()
    assert "Cancel generation" not in body


def test_card_access(stranger_client, project, editor):
    generation = make_generation(project, editor)
    assert stranger_client.get(detail_url(generation)).status_code == 404
    assert stranger_client.get(detail_url(generation), HTTP_HX_REQUEST="true").status_code == 404
    anonymous = client_for(None).get(detail_url(generation))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_generation_of_another_project_is_404(editor_client, project, editor):
    personal = editor.memberships.exclude(project=project).get().project
    generation = make_generation(personal, editor)
    assert editor_client.get(reverse("generations:detail", args=[project.slug, generation.pk])).status_code == 404


# --- cancel and retry -------------------------------------------------------------------------


def submit(project, user, **params):
    return submitting.submit_generation(project=project, user=user, endpoint="text_to_video", model="gen4.5",
                             params={"prompt_text": "A lighthouse", "ratio": "1280:720", "duration": 5, **params})


def test_cancel_a_queued_generation_releases_it(editor_client, project, editor, funded):
    generation = submit(project, editor)
    url = reverse("generations:cancel", args=[project.slug, generation.pk])
    response = editor_client.post(url)
    assert response.status_code == 302 and response["Location"] == detail_url(generation)
    generation.refresh_from_db()
    assert generation.status == Status.CANCELLED


def test_cancel_with_htmx_returns_the_finished_card(editor_client, project, editor, funded):
    generation = submit(project, editor)
    response = editor_client.post(reverse("generations:cancel", args=[project.slug, generation.pk]),
                                  HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article id="generation-{generation.pk}"')
    assert "badge cancelled" in body and "hx-trigger" not in body


def test_cancel_a_finished_generation_changes_nothing(editor_client, project, editor):
    generation = make_generation(project, editor, Status.SUCCEEDED)
    response = editor_client.post(reverse("generations:cancel", args=[project.slug, generation.pk]), follow=True)
    assert "already finished" in response.content.decode()
    generation.refresh_from_db()
    assert generation.status == Status.SUCCEEDED


def test_cancel_and_retry_need_an_editor(viewer_client, stranger_client, project, editor):
    generation = make_generation(project, editor, Status.RUNNING)
    for name in ("generations:cancel", "generations:retry"):
        url = reverse(name, args=[project.slug, generation.pk])
        assert viewer_client.post(url).status_code == 403
        assert stranger_client.post(url).status_code == 404
        assert viewer_client.get(url).status_code in (403, 405)
    generation.refresh_from_db()
    assert generation.status == Status.RUNNING


def test_retry_makes_a_new_generation_with_the_same_settings(editor_client, project, editor, funded):
    failed = make_generation(project, editor, Status.FAILED, failure_code="INTERNAL")
    response = editor_client.post(reverse("generations:retry", args=[project.slug, failed.pk]))
    retried = Generation.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302 and response["Location"] == detail_url(retried)
    assert (retried.params, retried.retry_of, retried.status) == (failed.params, failed, Status.QUEUED)


def test_retry_with_htmx_redirects_the_client(editor_client, project, editor, funded):
    failed = make_generation(project, editor, Status.CANCELLED)
    response = editor_client.post(reverse("generations:retry", args=[project.slug, failed.pk]),
                                  HTTP_HX_REQUEST="true")
    retried = Generation.objects.exclude(pk=failed.pk).get()
    assert response["HX-Redirect"] == detail_url(retried)


def test_retry_of_a_safety_failure_is_refused(editor_client, project, editor, funded):
    failed = make_generation(project, editor, Status.FAILED, failure_code="SAFETY.INPUT.TEXT")
    response = editor_client.post(reverse("generations:retry", args=[project.slug, failed.pk]))
    assert response.status_code == 400
    assert "moderation" in response.content.decode()
    assert Generation.objects.count() == 1


def test_retry_of_a_running_generation_is_refused(editor_client, project, editor, funded):
    running = make_generation(project, editor, Status.RUNNING)
    response = editor_client.post(reverse("generations:retry", args=[project.slug, running.pk]),
                                  HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Only failed or cancelled" in response.content.decode()
    assert Generation.objects.count() == 1


# --- the queue --------------------------------------------------------------------------------


def queue_url(project) -> str:
    return reverse("generations:queue", args=[project.slug])


def test_queue_lists_in_flight_and_recent_with_a_filter(viewer_client, project, editor):
    running = make_generation(project, editor, Status.RUNNING)
    done = make_generation(project, editor, Status.SUCCEEDED)
    failed = make_generation(project, editor, Status.FAILED, failure_code="INTERNAL")
    body = viewer_client.get(queue_url(project)).content.decode()
    assert all(f'id="generation-{g.pk}"' in body for g in (running, done, failed))
    assert "1 generation in progress" in body
    only = viewer_client.get(queue_url(project), {"status": "in_flight"}).content.decode()
    assert f'id="generation-{running.pk}"' in only and f'id="generation-{done.pk}"' not in only
    failed_only = viewer_client.get(queue_url(project), {"status": "FAILED"}).content.decode()
    assert f'id="generation-{failed.pk}"' in failed_only and f'id="generation-{running.pk}"' not in failed_only
    assert '<label for="status-filter">Status</label>' in body


def test_queue_htmx_returns_the_list_partial(viewer_client, project, editor):
    make_generation(project, editor, Status.RUNNING)
    body = viewer_client.get(queue_url(project), {"status": "finished"}, HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<section id="queue"')
    assert "No generations with this status." in body


def test_queue_bad_filter_is_400_with_a_message(viewer_client, project):
    response = viewer_client.get(queue_url(project), {"status": "EXPLODED"})
    assert response.status_code == 400
    assert "There is no status" in response.content.decode()


def test_queue_empty_state_and_access(editor_client, stranger_client, project):
    body = editor_client.get(queue_url(project)).content.decode()
    assert "No generations yet" in body
    assert stranger_client.get(queue_url(project)).status_code == 404
    anonymous = client_for(None).get(queue_url(project))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_queue_is_paginated_with_a_bounded_number_of_queries(viewer_client, project, editor,
                                                             django_assert_max_num_queries):
    now = timezone.now()
    for i in range(25):
        status = [Status.THROTTLED, Status.SUCCEEDED, Status.RUNNING][i % 3]
        g = make_generation(project, editor, status, submitted_at=now - timedelta(seconds=i))
        if status == Status.SUCCEEDED:
            Output.objects.create(project=project, generation=g, kind="image", content_type="image/png",
                                  size=1000, sha256="0" * 64, file=f"outputs/{i}.png")
    viewer_client.get(queue_url(project))
    with django_assert_max_num_queries(12):
        first = viewer_client.get(queue_url(project)).content.decode()
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in viewer_client.get(queue_url(project), {"page": 2}).content.decode()


# --- output files ---------------------------------------------------------------------------


def test_output_files_are_served_to_members_only(viewer_client, stranger_client, project, editor, storage_dir,
                                                 tmp_path):
    generation = make_generation(project, editor, Status.SUCCEEDED)
    path = samples.make_png(tmp_path / "out.png", 32, 32)
    output = Output(project=project, generation=generation, kind="image", content_type="image/png",
                    size=path.stat().st_size, sha256="0" * 64, width=32, height=32)
    with path.open("rb") as fp:
        output.file.save("out.png", File(fp), save=False)
    with path.open("rb") as fp:
        output.thumbnail.save("out.jpg", File(fp), save=False)
    output.save()
    url = reverse("generations:output_file", args=[project.slug, output.pk])
    response = viewer_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert output.download_name in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == path.read_bytes()
    thumb = viewer_client.get(reverse("generations:output_thumb", args=[project.slug, output.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert stranger_client.get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302


def test_cancel_runway_does_not_take_is_a_502_card_with_the_message(editor_client, project, editor,
                                                                    runway_emulator):
    generation = make_generation(project, editor, Status.RUNNING,
                                 runway_task_id="7f1c9a52-3b7e-4c1d-9f3e-2a4b5c6d7e8f")
    runway_emulator.inject_fault(path="/v1/tasks/*", method="DELETE", status=500, count=None)
    response = editor_client.post(reverse("generations:cancel", args=[project.slug, generation.pk]),
                                  HTTP_HX_REQUEST="true")
    assert response.status_code == 502
    body = response.content.decode()
    assert "Runway did not take the cancellation" in body
    assert "Cancel generation" in body  # still cancellable: it can be tried again
    generation.refresh_from_db()
    assert generation.status == Status.RUNNING


@pytest.mark.parametrize(
    ("header", "status", "span"),
    [("bytes=0-9", 206, (0, 9)), ("bytes=10-", 206, (10, None)), ("bytes=-5", 206, (-5, None)),
     ("bytes=5-4", 200, (0, None)), ("bytes=999999-", 416, None), ("bytes=0-99999999", 206, (0, None)),
     ("bytes=" + "9" * 5000 + "-", 416, None), ("bytes=0-" + "9" * 5000, 206, (0, None)), ("bytes=x-y", 200, (0, None)),
     ("bytes=0-1,4-5", 200, (0, None)), ("items=0-1", 200, (0, None))],
)
def test_media_honours_byte_ranges(header, status, span, viewer_client, project, editor, storage_dir, tmp_path):
    generation = make_generation(project, editor, Status.SUCCEEDED)
    path = samples.make_png(tmp_path / "out.png", 64, 64)
    data = path.read_bytes()
    output = Output(project=project, generation=generation, kind="image", content_type="image/png",
                    size=len(data), sha256="0" * 64, width=64, height=64)
    with path.open("rb") as fp:
        output.file.save("out.png", File(fp), save=False)
    output.save()
    url = reverse("generations:output_file", args=[project.slug, output.pk])
    response = viewer_client.get(url, HTTP_RANGE=header)
    assert response.status_code == status
    if status == 416:
        assert response["Content-Range"] == f"bytes */{len(data)}"
        return
    first, last = span
    expected = data[first:] if last is None else data[first:last + 1]
    assert b"".join(response.streaming_content) == expected
    assert response["Content-Length"] == str(len(expected))
    assert response["Accept-Ranges"] == "bytes"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_reuse_settings_prefills_the_form(editor_client, stranger_client, project, editor):
    generation = make_generation(project, editor, Status.SUCCEEDED, endpoint="text_to_image", model="gen4_image",
                                 params={"prompt_text": "A red kite over dunes", "ratio": "1920:1080", "seed": 42})
    url = reverse("generations:new", args=[project.slug])
    html = editor_client.get(url, {"reuse": generation.pk}).content.decode()
    assert "A red kite over dunes" in html
    assert 'value="42"' in html
    assert '<option value="1920:1080" selected>' in html
    assert editor_client.get(url, {"reuse": "nope"}).status_code == 404
    assert editor_client.get(url, {"reuse": generation.pk + 999}).status_code == 404


def test_a_polled_card_in_flight_is_three_queries_with_its_money_from_the_ledger(viewer_client, project, editor,
                                                                                 funded, django_assert_num_queries):
    """The person, the membership, and the generation with its creator's hold: nothing else, every few seconds."""
    generation = submit(project, editor)
    Generation.objects.filter(pk=generation.pk).update(status=Status.RUNNING, started_at=timezone.now())
    held = generation.holds.get(account__user=editor).amount
    viewer_client.get(detail_url(generation))  # warm the session
    with django_assert_num_queries(3):
        body = viewer_client.get(detail_url(generation), HTTP_HX_REQUEST="true").content.decode()
    assert f"{held} credits held" in body
