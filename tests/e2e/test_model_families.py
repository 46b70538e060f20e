"""One model of each family, set up through its form in a real browser and made by a real worker.

Each case uses the widgets its family brings — Kling's shots and switches, Seedance's
"auto" length, Aleph 2's timed keyframes, Recraft's colours, GPT Image's count, a voice's
sliders, sound for a video, an HDR grade — then waits for the finished result on the
generation's page. What the SDK actually sent is read from the request it made
(`request_payload`, the body that went over the wire), not from the form.
"""

from __future__ import annotations

import re

import pytest

from generations.models import Generation, Status
from tests.e2e.conftest import signed_in
from tests.factories import make_asset
from tests.faults.conftest import funded  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def pick(page, legend: str, name: str) -> None:
    page.click(f"fieldset:has(legend:has-text('{legend}')) label.pick:has-text('{name}')")


def test_one_model_of_each_family_through_its_form(browser, shots_dir, live_server, cluster, emulator_process,
                                                   project, funded, tmp_path):  # noqa: F811
    still = make_asset(project, funded, "image 1280x720", tmp_path / "still")
    clip = make_asset(project, funded, "video 640x360 3s", tmp_path / "clip")
    cluster.start()
    context, page = signed_in(browser, live_server, funded)
    base = f"/p/{project.slug}/generate/"

    def form(endpoint: str, model: str) -> None:
        page.goto(f"{base}?endpoint={endpoint}&model={model}")
        page.wait_for_selector("#estimate h3")

    def submit(name: str) -> Generation:
        page.wait_for_selector("#estimate h3")
        page.screenshot(path=str(shots_dir / f"family-{name}.png"), full_page=True)
        page.click("button:has-text('Start generation')")
        page.wait_for_url(re.compile(r"/generations/\d+/$"))
        return Generation.objects.get(pk=int(re.search(r"/generations/(\d+)/$", page.url).group(1)))

    made: list[tuple[str, Generation]] = []

    form("image_to_video", "klingO3_pro")
    pick(page, "Image", still.name)
    page.fill("textarea[name=prompt_text]", "A ferry crosses the harbour")
    page.fill("textarea[name=multi_prompt]", "3: the ferry leaves the quay\n2: it turns towards the lighthouse")
    page.select_option("select[name=shot_type]", "customize")
    page.select_option("select[name=audio]", "on")
    page.fill("input[name=duration]", "5")
    made.append(("kling", submit("kling")))

    form("text_to_video", "seedance2_5")
    page.fill("textarea[name=prompt_text]", "Waves under a pier at night")
    page.select_option("select[name=duration]", "auto")
    made.append(("seedance", submit("seedance")))

    form("video_to_video", "aleph2")
    pick(page, "Video", clip.name)
    pick(page, "Keyframes", still.name)
    page.fill("input[name=keyframe_seconds]", "1.5")
    page.fill("textarea[name=prompt_text]", "Turn the scene to winter")
    made.append(("aleph", submit("aleph")))

    form("text_to_image", "recraft_v4_1_flash")
    page.fill("textarea[name=prompt_text]", "A flat poster of a lighthouse")
    page.fill("input[name=colors]", "#FF8800, #0A2F5C")
    made.append(("recraft", submit("recraft")))

    form("text_to_image", "gpt_image_2")
    page.fill("textarea[name=prompt_text]", "A lighthouse in watercolour")
    page.fill("input[name=output_count]", "2")
    made.append(("gpt-image", submit("gpt-image")))

    form("text_to_speech", "eleven_v3")
    page.fill("textarea[name=prompt_text]", "The ferry leaves at nine.")
    page.select_option("select[name=voice]", "Bernard")
    made.append(("eleven", submit("eleven")))

    form("video_to_audio", "mirelo_sfx_2_0")
    pick(page, "Video", clip.name)
    page.fill("input[name=duration]", "2.5")
    made.append(("mirelo", submit("mirelo")))

    form("video_to_hdr", "ruby")
    pick(page, "Video", clip.name)
    page.select_option("select[name=output_format]", "hdr10")
    made.append(("ruby", submit("ruby")))

    for name, generation in made:
        page.goto(f"/p/{project.slug}/generations/{generation.pk}/")
        try:
            page.wait_for_selector("main :text('Done')", timeout=90_000)
        except Exception:
            generation.refresh_from_db()
            raise AssertionError(f"{name}: {generation.status} {generation.failure_message}\n{cluster.tail()}") from None
        page.screenshot(path=str(shots_dir / f"family-{name}-done.png"), full_page=True)
        generation.refresh_from_db()
        assert generation.status == Status.SUCCEEDED and generation.outputs.exists(), name
        assert page.locator("main video, main img, main audio").count() >= 1, name

    sent = {name: g.request_payload for name, g in made}
    assert sent["kling"]["providerSettings"] == {
        "multiPrompt": [{"duration": 3, "prompt": "the ferry leaves the quay"},
                        {"duration": 2, "prompt": "it turns towards the lighthouse"}],
        "shotType": "customize"}
    assert sent["kling"]["audio"] is True
    assert sent["seedance"]["duration"] == "auto" and "audio" in sent["seedance"]
    assert [k["seconds"] for k in sent["aleph"]["keyframes"]] == [1.5]
    assert sent["aleph"]["keyframes"][0]["uri"].startswith("runway://")
    assert sent["recraft"]["colors"] == ["#FF8800", "#0A2F5C"]
    assert sent["gpt-image"]["outputCount"] == 2
    assert made[4][1].outputs.count() == 2
    assert sent["eleven"]["voice"] == {"type": "runway-preset", "presetId": "Bernard"}
    assert sent["mirelo"]["duration"] == 2.5
    assert sent["ruby"]["outputFormat"] == "hdr10"
    context.close()
