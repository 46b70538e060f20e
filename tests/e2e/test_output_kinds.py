"""Outputs browsers cannot play as delivered play in a real browser, through their previews.

ProRes, an HDR10 HEVC, a PNG sequence and an OpenEXR sequence (ZIPs of frames) and Ogg Opus
speech are ordered through the form and made by a real worker; on each output's gallery
page Chromium itself must load the player's media (metadata read, no MediaError) at the
delivery's picture size and length, and the download must still be the delivered file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generations.models import Generation, Status
from tests.e2e.conftest import signed_in
from tests.faults.conftest import funded  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LOADED = """async (selector) => {
  const el = document.querySelector(selector);
  if (!el) return {missing: true};
  if (el.readyState < 1 && !el.error) {
    await new Promise((done) => {
      el.addEventListener('loadedmetadata', done, {once: true});
      el.addEventListener('error', done, {once: true});
      el.load();
    });
  }
  return {error: el.error && el.error.code, width: el.videoWidth || 0, height: el.videoHeight || 0,
          duration: el.duration, src: el.currentSrc};
}"""


def test_every_kind_of_delivery_plays_in_the_browser(browser, shots_dir, live_server, cluster, emulator_process,
                                                     project, funded):  # noqa: F811
    cluster.start()
    context, page = signed_in(browser, live_server, funded, height=900, accept_downloads=True)

    def order(endpoint: str, model: str, prompt: str, fmt: str) -> Generation:
        page.goto(f"/p/{project.slug}/generate/?endpoint={endpoint}&model={model}")
        page.wait_for_selector("#estimate h3")
        page.fill("textarea[name=prompt_text]", prompt)
        page.select_option("select[name=output_format]", fmt)
        page.wait_for_selector("#estimate h3")
        page.click("button:has-text('Start generation')")
        page.wait_for_url(re.compile(r"/generations/\d+/$"))
        return Generation.objects.get(pk=int(re.search(r"/generations/(\d+)/$", page.url).group(1)))

    made = {fmt: order("text_to_video", "gen4.5", f"A lighthouse at dusk, {fmt}", fmt)
            for fmt in ("prores", "hdr10", "png_sequence", "hdr_exr_sequence")}
    made["ogg_opus"] = order("text_to_speech", "seed_audio", "The ferry leaves at nine.", "ogg_opus")

    for fmt, generation in made.items():
        page.goto(f"/p/{project.slug}/generations/{generation.pk}/")
        try:
            page.wait_for_selector("main :text('Done')", timeout=120_000)
        except Exception:
            generation.refresh_from_db()
            raise AssertionError(f"{fmt}: {generation.status} {generation.failure_message}\n{cluster.tail()}") from None
        generation.refresh_from_db()
        assert generation.status == Status.SUCCEEDED, fmt
        output = generation.outputs.get()
        page.goto(f"/p/{project.slug}/gallery/{output.pk}/")
        player = ".gallery-player audio" if output.kind == "audio" else ".gallery-player video"
        played = page.evaluate(LOADED, player)
        page.screenshot(path=str(shots_dir / f"output-kind-{fmt}.png"), full_page=True)
        assert not played.get("missing") and played["error"] is None, (fmt, played)
        assert abs(played["duration"] - output.duration) < 0.6, (fmt, played, output.duration)
        if output.kind == "video":
            assert (played["width"], played["height"]) == (output.width, output.height), (fmt, played)
        assert output.preview, fmt  # none of these plays everywhere as delivered

        with page.expect_download() as download:
            page.click("main a:has-text('Download original')")
        saved = download.value
        assert saved.suggested_filename.endswith(f".{output.extension}"), (fmt, saved.suggested_filename)
        with output.file.open("rb") as stored:
            assert Path(saved.path()).read_bytes() == stored.read(), fmt
    context.close()
