"""A person designs a voice, hears it, makes a talking avatar that speaks a script in it, and
lets Runway's router choose a model — in Chromium, against a live server, a real qcluster and
the emulator as its own process.

What the person sees is checked in the browser: the sample and the results load in Chromium's
own players with no media error, and the routed result names the model Runway chose, which is
the model the emulator records for that task.
"""

from __future__ import annotations

import re

import pytest

from generations.models import Generation, Status
from library.models import Avatar, Voice
from runway import catalog
from tests.e2e.conftest import signed_in
from tests.e2e.pages import shoot
from tests.e2e.test_output_kinds import LOADED
from tests.factories import make_asset
from tests.faults.conftest import funded  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "A calm, warm radio host in her fifties with a soft northern accent"
SCRIPT = "Good evening. Tonight we light a glass bottle with a single soft window."


def _done(page, cluster, generation_id: int) -> Generation:
    try:
        page.wait_for_selector("main :text('Done')", timeout=120_000)
    except Exception:
        generation = Generation.objects.get(pk=generation_id)
        raise AssertionError(f"{generation.status} {generation.failure_message}\n{cluster.tail()}") from None
    generation = Generation.objects.get(pk=generation_id)
    assert generation.status == Status.SUCCEEDED
    return generation


def _started(page) -> int:
    page.click("button:has-text('Start generation')")
    page.wait_for_url(re.compile(r"/generations/\d+/$"))
    return int(re.search(r"/generations/(\d+)/$", page.url).group(1))


def test_design_a_voice_make_a_talking_avatar_and_let_runway_choose(
        browser, shots_dir, live_server, cluster, emulator_process, project, funded, tmp_path):  # noqa: F811
    cluster.start()
    portrait = make_asset(project, funded, "image 1280x720", tmp_path / "portrait")
    context, page = signed_in(browser, live_server, funded, width=1400)

    # Design a voice and hear it before keeping it.
    page.goto(f"/p/{project.slug}/voices/")
    shoot(page, shots_dir, "voices-empty")
    page.fill("textarea[name=prompt]", DESCRIPTION)
    page.click("button:has-text('Preview')")
    page.wait_for_selector("#voice-sample")
    heard = page.evaluate(LOADED, "#voice-sample")
    assert heard["error"] is None and heard["duration"] > 0.5, heard
    page.fill("input[name=name]", "Radio host")
    page.click("button:has-text('Keep this voice')")
    page.wait_for_selector("#voices .badge:text('Ready')", timeout=60_000)
    voice = Voice.objects.get(project=project, name="Radio host")
    kept = page.evaluate(LOADED, f"#voice-{voice.pk} audio")
    assert kept["error"] is None and kept["duration"] > 0.5, kept
    shoot(page, shots_dir, "voices-kept")

    # Turn the portrait into an avatar that speaks in that voice.
    page.goto(f"/p/{project.slug}/avatars/")
    page.fill("input[name=name]", "Nora")
    page.fill("textarea[name=personality]", "A friendly lighting teacher who explains one idea at a time.")
    page.select_option("select[name=image]", str(portrait.pk))
    page.select_option("select[name=voice]", voice.choice_value)
    page.click("button:has-text('Make avatar')")
    page.wait_for_selector("#avatars .badge:text('Ready')", timeout=60_000)
    avatar = Avatar.objects.get(project=project, name="Nora")
    assert avatar.voice == voice
    shoot(page, shots_dir, "avatars-ready")

    # A talking video of it, speaking a script in the designed voice.
    page.click(f"#avatar-{avatar.pk} a:has-text('Make a talking video')")
    page.wait_for_selector("#estimate h3")
    assert page.input_value("select[name=avatar]") == avatar.choice_value
    page.fill("textarea[name=speech_text]", SCRIPT)
    page.select_option("select[name=speech_voice]", voice.choice_value)
    page.wait_for_selector("#estimate h3:text('credits')")
    shoot(page, shots_dir, "avatar-video-form")
    talking = _done(page, cluster, _started(page))
    assert talking.request_payload["speech"]["voice"] == {"type": "custom", "id": voice.runway_id}
    output = talking.outputs.get()
    page.goto(f"/p/{project.slug}/gallery/{output.pk}/")
    played = page.evaluate(LOADED, ".gallery-player video")
    assert played["error"] is None and (played["width"], played["height"]) == (output.width, output.height), played
    shoot(page, shots_dir, "avatar-video")

    # A router configuration, then one generation whose model Runway chooses.
    page.goto(f"/p/{project.slug}/routers/new/")
    page.fill("input[name=name]", "Cheapest video")
    page.select_option("select[name=optimize_for]", "cost")
    page.click("button:has-text('Save configuration')")
    page.wait_for_url(re.compile(r"/routers/\d+/$"))
    page.goto(f"/p/{project.slug}/generate/?endpoint=generate_video&model={catalog.ROUTED}")
    page.wait_for_selector("#estimate h3")
    options = page.eval_on_selector_all("select[name=config_id] option", "els => els.map(e => e.textContent)")
    assert "Cheapest video" in options, options
    page.select_option("select[name=config_id]", label="Cheapest video")
    page.fill("textarea[name=prompt_text]", "A paper boat drifting down a rain-soaked street at dusk")
    page.wait_for_selector("#estimate h3:text('Runway chooses')")
    shoot(page, shots_dir, "routed-form")
    routed = _done(page, cluster, _started(page))
    ran = {c["id"]: c for c in emulator_process.control.charges()}[routed.runway_task_id]
    assert routed.model == ran["model"] != catalog.ROUTED
    page.wait_for_selector(f"main :text('{catalog.model_label(ran['model'])} (chosen by Runway)')")
    shoot(page, shots_dir, "routed-done")
    context.close()
