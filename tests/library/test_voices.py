"""The voices page: design and preview a voice, keep it, follow it to READY, rename and delete it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import runwayml
from django.urls import reverse

from assets import media
from audit.models import AuditEntry
from library.models import Readiness, Voice

from .conftest import PROMPT, voice_on_runway

HX = {"HTTP_HX_REQUEST": "true"}


def voices_url(project) -> str:
    return reverse("library:voices", args=[project.slug])


def keep(client, project, **data):
    payload = {"prompt": PROMPT, "design_model": "eleven_ttv_v3", "name": "Narrator", **data}
    return client.post(reverse("library:voice_create", args=[project.slug]), payload)


def probe_response(response, tmp_path: Path, name: str = "sample.mp3") -> media.MediaInfo:
    path = tmp_path / name
    path.write_bytes(b"".join(response.streaming_content) if response.streaming else response.content)
    return media.probe(path, delivered=True)


def test_the_page_says_where_a_custom_voice_can_be_used(viewer_client, project):
    response = viewer_client.get(voices_url(project))
    assert response.status_code == 200
    text = response.content.decode()
    assert "avatar videos" in text and "preset voices" in text and "dubbing" in text
    assert "No voices yet" in text


def test_a_preview_plays_our_copy_of_runways_sample(editor_client, project, control, emulator_server, tmp_path):
    response = editor_client.post(reverse("library:voice_preview", args=[project.slug]),
                                  {"prompt": PROMPT, "design_model": "eleven_multilingual_ttv_v2"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert emulator_server.url not in html  # Runway's link never reaches the browser
    (src,) = re.findall(r'<audio[^>]*src="([^"]+)"', html)
    assert src.startswith(f"/p/{project.slug}/voices/")
    sample = editor_client.get(src)
    assert sample.status_code == 200 and sample["Content-Type"].startswith("audio/")
    info = probe_response(sample, tmp_path)
    assert info.kind == "audio" and 3 < info.duration < 6
    assert control.state()["requests"].get("POST /v1/voices/preview") == 1
    assert not Voice.objects.exists()  # a preview keeps nothing


def test_keeping_a_voice_designs_it_on_runway(editor_client, editor, project, witness):
    response = keep(editor_client, project, name="Trailer narrator")
    assert response.status_code == 302
    voice = Voice.objects.get()
    assert (voice.project, voice.created_by, voice.status) == (project, editor, Readiness.PROCESSING)
    on_runway = witness.voices.retrieve(voice.runway_id)
    assert on_runway.name == "Trailer narrator"
    assert on_runway.description == PROMPT
    assert AuditEntry.objects.filter(action="voice.create", object_id=str(voice.pk), actor=editor).exists()


def test_a_processing_voice_becomes_ready_with_real_audio_by_one_poll_per_page(
        editor_client, project, control, tmp_path):
    control.set_speed(1)
    control.freeze_clock(True)
    keep(editor_client, project, name="First")
    keep(editor_client, project, name="Second")
    assert set(Voice.objects.values_list("status", flat=True)) == {Readiness.PROCESSING}
    waiting = editor_client.get(voices_url(project), **HX)
    assert waiting.status_code == 200
    html = waiting.content.decode()
    assert html.count('hx-trigger="every') == 1  # one poll for the list, not one per row
    assert 'id="voices"' in html
    control.advance_clock(600)
    done = editor_client.get(voices_url(project), **HX)
    assert done.status_code == 286  # nothing left processing: htmx stops polling
    assert 'hx-trigger="every' not in done.content.decode()
    for voice in Voice.objects.all():
        assert voice.status == Readiness.READY and voice.preview
        audio = editor_client.get(reverse("library:voice_audio", args=[project.slug, voice.pk]))
        assert audio.status_code == 200
        info = probe_response(audio, tmp_path, f"{voice.pk}.mp3")
        assert info.kind == "audio" and info.duration and info.duration > 1
        assert voice.preview_seconds == pytest.approx(info.duration, abs=0.2)


def test_a_voice_that_fails_says_why(editor_client, project, control):
    keep(editor_client, project, name="Broken [fail]")
    response = editor_client.get(voices_url(project))
    voice = Voice.objects.get()
    assert voice.status == Readiness.FAILED and voice.failure
    assert voice.failure in response.content.decode()


@pytest.mark.parametrize(("data", "message"), [
    ({"prompt": "too short"}, "at least 20 characters"),
    ({"name": ""}, "Give the voice a name"),
    ({"name": "n" * 5000}, "at most 100 characters"),
    ({"prompt": "p" * 50_000}, "at most 1000 characters"),
    ({"design_model": "eleven_v9"}, "Choose one of the design models"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_is_made(editor_client, project, control, data, message):
    response = keep(editor_client, project, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Voice.objects.exists()
    assert control.state()["requests"].get("POST /v1/voices") is None


def test_a_short_description_is_refused_before_a_preview(editor_client, project, control):
    response = editor_client.post(reverse("library:voice_preview", args=[project.slug]),
                                  {"prompt": "short", "design_model": "eleven_ttv_v3"}, **HX)
    assert response.status_code == 400 and "at least 20 characters" in response.content.decode()
    assert control.state()["requests"].get("POST /v1/voices/preview") is None


def test_a_runway_refusal_is_shown_and_nothing_is_saved(editor_client, project, control, witness):
    control.inject_fault(path="/v1/voices", method="POST", status=400, count=1)
    response = keep(editor_client, project)
    assert response.status_code == 400
    assert "Runway" in response.content.decode()
    assert not Voice.objects.exists() and not AuditEntry.objects.filter(action="voice.create").exists()
    assert witness.voices.list(limit=10).data == []


def test_an_editor_renames_a_voice_on_runway(editor_client, editor, project, witness):
    voice = voice_on_runway(witness, project, editor)
    url = reverse("library:voice_edit", args=[project.slug, voice.pk])
    assert editor_client.get(url).status_code == 200
    response = editor_client.post(url, {"name": "Deep narrator"})
    assert response.status_code == 302
    voice.refresh_from_db()
    assert voice.name == "Deep narrator"
    assert witness.voices.retrieve(voice.runway_id).name == "Deep narrator"
    assert AuditEntry.objects.filter(action="voice.rename", object_id=str(voice.pk)).exists()


def test_a_rename_to_nothing_is_refused(editor_client, editor, project, witness):
    voice = voice_on_runway(witness, project, editor)
    response = editor_client.post(reverse("library:voice_edit", args=[project.slug, voice.pk]), {"name": " "})
    assert response.status_code == 400 and "Give the voice a name" in response.content.decode()
    assert witness.voices.retrieve(voice.runway_id).name == "Narrator"


def test_a_viewer_sees_but_cannot_design_rename_or_delete(viewer_client, editor, project, witness):
    voice = voice_on_runway(witness, project, editor)
    page = viewer_client.get(voices_url(project))
    assert page.status_code == 200 and "Narrator" in page.content.decode()
    for response in (
        viewer_client.post(reverse("library:voice_preview", args=[project.slug]), {"prompt": PROMPT}),
        keep(viewer_client, project),
        viewer_client.post(reverse("library:voice_edit", args=[project.slug, voice.pk]), {"name": "x"}),
    ):
        assert response.status_code == 403
        assert "You need to be an editor" in response.content.decode()
    assert Voice.objects.count() == 1


def test_an_editor_cannot_delete_an_owner_can(editor_client, owner_client, editor, project, witness):
    voice = voice_on_runway(witness, project, editor)
    url = reverse("library:voice_delete", args=[project.slug, voice.pk])
    refused = editor_client.post(url)
    assert refused.status_code == 403 and "Only owners" in refused.content.decode()
    confirm = owner_client.get(url)
    assert confirm.status_code == 200 and "Delete" in confirm.content.decode()
    assert owner_client.post(url).status_code == 302
    assert not Voice.objects.exists()
    with pytest.raises(runwayml.NotFoundError):
        witness.voices.retrieve(voice.runway_id)
    assert AuditEntry.objects.filter(action="voice.delete", object_id=str(voice.pk)).exists()


def test_a_voice_runway_already_lost_is_still_removed(owner_client, editor, project, witness):
    voice = voice_on_runway(witness, project, editor)
    witness.voices.delete(voice.runway_id)
    response = owner_client.post(reverse("library:voice_delete", args=[project.slug, voice.pk]))
    assert response.status_code == 302
    assert not Voice.objects.exists()


def test_ready_voices_paginate(viewer_client, editor, project):
    for n in range(25):
        Voice.objects.create(project=project, created_by=editor, runway_id=f"v-{n}", name=f"Voice {n}",
                             prompt=PROMPT, design_model="eleven_ttv_v3", status=Readiness.READY)
    first = viewer_client.get(voices_url(project)).content.decode()
    assert "Voice 24" in first and "Voice 0<" not in first and "Page 1 of 2" in first
    second = viewer_client.get(voices_url(project) + "?page=2").content.decode()
    assert "Voice 0<" in second


def test_the_list_costs_a_fixed_number_of_queries(viewer_client, editor, project, django_assert_max_num_queries):
    for n in range(10):
        Voice.objects.create(project=project, created_by=editor, runway_id=f"v-{n}", name=f"Voice {n}",
                             prompt=PROMPT, design_model="eleven_ttv_v3", status=Readiness.READY)
    with django_assert_max_num_queries(12):
        assert viewer_client.get(voices_url(project), **HX).status_code == 286  # nothing to poll for


def test_without_htmx_a_preview_shows_the_whole_page_and_keeping_lets_the_sample_go(editor_client, project):
    response = editor_client.post(reverse("library:voice_preview", args=[project.slug]),
                                  {"prompt": PROMPT, "design_model": "eleven_ttv_v3", "name": ""})
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>Voices</h1>" in html and "Keep this voice" in html
    (sample,) = re.findall(r'name="sample" value="([0-9a-f]{32}\.mp3)"', html)
    sample_url = reverse("library:voice_sample", args=[project.slug, sample])
    assert editor_client.get(sample_url).status_code == 200
    assert keep(editor_client, project, sample=sample).status_code == 302
    assert editor_client.get(sample_url).status_code == 404


def test_previews_are_limited_per_person(editor_client, project, control, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "voice-previews-person": "2/h"}
    url = reverse("library:voice_preview", args=[project.slug])
    for _ in range(2):
        assert editor_client.post(url, {"prompt": PROMPT, "design_model": "eleven_ttv_v3"}, **HX).status_code == 200
    refused = editor_client.post(url, {"prompt": PROMPT, "design_model": "eleven_ttv_v3"}, **HX)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert control.state()["requests"].get("POST /v1/voices/preview") == 2  # the third never reached Runway


def test_samples_nobody_kept_are_let_go_a_day_later(editor_client, project, control, media_root):
    url = reverse("library:voice_preview", args=[project.slug])
    editor_client.post(url, {"prompt": PROMPT, "design_model": "eleven_ttv_v3"}, **HX)
    folder = Path(media_root) / "voice-samples" / str(project.pk)
    (old,) = folder.iterdir()
    day_and_a_bit = old.stat().st_mtime - 25 * 3600
    os.utime(old, (day_and_a_bit, day_and_a_bit))
    editor_client.post(url, {"prompt": PROMPT, "design_model": "eleven_ttv_v3"}, **HX)
    left = list(folder.iterdir())
    assert len(left) == 1 and old not in left  # the new sample stays, the abandoned one is gone
