"""The queue as a live session feed in a real browser: one poll per page, cards that turn Done by themselves.

Chromium opens the queue while a real qcluster and poller work against the emulator. Runway's
clock is frozen while the page's requests are counted, and the page's own clock is paused and
moved by hand (Playwright's clock), so "one poll per interval" is counted over intervals the
test sets, not over seconds it waits.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from credits.models import Hold
from generations import submit as submitting
from generations.models import Generation, Status
from tests.e2e.conftest import signed_in
from tests.e2e.pages import shoot
from tests.faults.conftest import funded  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

INTERVAL_MS = 2000
DONE_TIMEOUT_MS = 120_000


def tiles(page, selector: str) -> int:
    return page.locator(f".gen-tile {selector}").count()


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways at {width[1]} px: {width[0]} px wide"


def test_the_queue_is_one_live_channel(browser, shots_dir, live_server, cluster, emulator_process, project,
                                       funded):  # noqa: F811
    runway = emulator_process.control
    runway.freeze_clock(True)  # tasks wait at Runway until the test moves its clock
    cluster.start()
    context, page = signed_in(browser, live_server, funded, height=900)
    slug = project.slug
    updates = f"/p/{slug}/queue/updates/"

    # One through the form, as a person starts it; the generation page follows it live.
    page.goto(f"/p/{slug}/generate/?endpoint=text_to_image&model=gen4_image")
    page.wait_for_selector("#estimate h3")
    page.fill("textarea[name=prompt_text]", "A lighthouse at dusk, seen from the harbour wall")
    page.click("button:has-text('Start generation')")
    page.wait_for_url(re.compile(r"/generations/\d+/$"))
    first = Generation.objects.get(pk=int(re.search(r"/generations/(\d+)/$", page.url).group(1)))
    page.wait_for_selector(f"#generation-{first.pk} .badge.pending")  # moved on by the page's channel
    shoot(page, shots_dir, "feed-detail-in-flight")
    no_horizontal_scroll(page)

    def start(endpoint, model, **params) -> Generation:
        return submitting.submit_generation(project=project, user=funded, endpoint=endpoint, model=model,
                                            params=params)

    others = [start("text_to_image", "gen4_image", prompt_text="A ferry leaving at nine", ratio="1920:1080"),
              start("text_to_image", "gen4_image", prompt_text="Gulls over the pier", ratio="1920:1080"),
              start("text_to_video", "gen4.5", prompt_text="A slow push in on the harbour", ratio="1280:720",
                    duration=5)]
    made = [first, *others]
    to_cancel, video = others[0], others[2]

    requests: list[str] = []
    answers: list[int] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: answers.append(r.status) if urlsplit(r.url).path == updates else None)

    page.clock.install()
    page.goto(f"/p/{slug}/queue/")
    # Waiting at Runway, or in its queue when the tier's slots are taken.
    page.wait_for_function("() => document.querySelectorAll("
                           "'.gen-tile .badge.pending, .gen-tile .badge.throttled').length === 4", timeout=60_000)
    assert "4 generations in progress" in page.inner_text("#in-flight-count")
    assert page.locator("video[controls], audio[controls]").count() == 0  # posters, not players
    shoot(page, shots_dir, "feed-queue-waiting")
    no_horizontal_scroll(page)

    # Count what the open page asks for over three intervals of its own clock.
    page.clock.pause_at(page.evaluate("() => Date.now()") / 1000 + 0.05)
    requests.clear()
    for _ in range(3):
        with page.expect_response(lambda r: urlsplit(r.url).path == updates) as answer:
            page.clock.run_for(INTERVAL_MS)
        assert "<article" not in answer.value.text()  # nothing changed at Runway, so no card is sent
    page.evaluate("() => 0")  # a round trip: every request the page made so far has been reported
    assert len(requests) == 3, requests  # one poll per interval, none per card
    for url in requests:
        parts = urlsplit(url)
        assert parts.path == updates
        asked = parse_qs(parts.query)["card"]
        assert sorted(int(c.split(":")[0]) for c in asked) == sorted(g.pk for g in made)
    page.clock.resume()

    # A cancel while Runway has not started: released, and the card says so at once.
    tile = page.locator(f"#generation-{to_cancel.pk}")
    tile.locator("button:has-text('Cancel generation')").click()
    page.wait_for_selector(f"#generation-{to_cancel.pk} .badge.cancelled")
    assert tile.locator(".gen-money").first.inner_text() == "nothing charged"
    page.wait_for_function("() => document.querySelector('#in-flight-count').textContent.includes('3 generations')")
    shoot(page, shots_dir, "feed-queue-cancelled")

    # Runway finishes the rest; the worker and the poller do the rest; the page is never reloaded.
    runway.advance_clock(600)
    page.wait_for_function("() => document.querySelectorAll('.gen-tile .badge.succeeded').length === 3",
                           timeout=DONE_TIMEOUT_MS)
    page.wait_for_function("() => document.querySelector('#in-flight-count').textContent.includes('0 generations')")
    assert page.locator(".gen-tile progress").count() == 0
    for g in made:
        g.refresh_from_db()
    assert [g.status for g in made] == [Status.SUCCEEDED, Status.CANCELLED, Status.SUCCEEDED, Status.SUCCEEDED]
    for g in (first, video):
        charged = Hold.objects.get(generation=g, account__user=funded).charged
        assert page.locator(f"#generation-{g.pk} .gen-money").first.inner_text() == f"charged {charged}"

    # The page stops asking once nothing on it is in flight.
    if 286 not in answers:
        with page.expect_response(lambda r: urlsplit(r.url).path == updates and r.status == 286):
            pass
    page.clock.pause_at(page.evaluate("() => Date.now()") / 1000 + 0.05)
    asked_before = len([u for u in requests if urlsplit(u).path == updates])
    page.clock.run_for(5 * INTERVAL_MS)
    page.evaluate("() => 0")
    assert len([u for u in requests if urlsplit(u).path == updates]) == asked_before
    assert not any(re.search(r"/generations/\d+/$", urlsplit(u).path) for u in requests), "a card polled itself"
    page.clock.resume()
    shoot(page, shots_dir, "feed-queue-done")
    no_horizontal_scroll(page)

    # A video's poster plays, muted, under the pointer, and its tile offers every action.
    player = page.locator(f"#generation-{video.pk} video[data-hover-play]")
    player.hover()
    page.wait_for_function(f"() => !document.querySelector('#generation-{video.pk} video').paused")
    assert player.evaluate("v => v.muted")
    video_tile = page.locator(f"#generation-{video.pk}")
    video_tile.locator("summary:has-text('Actions')").click()
    for action in ("Open in gallery", "Download", "Favourite", "Reuse settings", "Extend", "Reference", "Upscale"):
        assert video_tile.locator(f".menu-panel :text('{action}')").count() >= 1, action
    shoot(page, shots_dir, "feed-queue-actions")

    # The generation page: the result with its actions, cost and seed in view.
    page.goto(f"/p/{slug}/generations/{first.pk}/")
    card = page.locator(f"#generation-{first.pk}")
    for action in ("Open in gallery", "Download", "Favourite", "Reuse settings", "First frame", "Last frame",
                   "Reference", "Upscale"):
        assert card.locator(f".output-actions :text('{action}')").count() >= 1, action
    assert "random seed" in card.locator(".output-facts").inner_text()
    shoot(page, shots_dir, "feed-detail-done")
    no_horizontal_scroll(page)

    # Use as last frame: the gallery makes the output an asset, the form opens with it chosen.
    card.locator(".use-as button:has-text('Last frame')").click()
    page.wait_for_url(re.compile(r"/generate/\?.*last_frame=\d+"))
    asset_id = re.search(r"last_frame=(\d+)", page.url).group(1)
    assert page.locator(f"input[name=last_frame][value='{asset_id}']").is_checked()
    context.close()
