"""The gallery in a real browser: selecting and zipping, refused filters, cards, the lightbox
and compare, pagination, empty states and a phone's width.

Outputs are real files made by the gallery tests' `make_output` (no worker is needed: the
pipeline's part is tested elsewhere); each page state is shot at 1400 and 390 px and checked
with axe-core.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import signed_in
from tests.e2e.pages import shoot
from tests.gallery.conftest import copies_of, gallery_media, make_output, samples  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def gallery(project) -> str:
    return f"/p/{project.slug}/gallery/"


def test_select_all_then_download_gives_a_zip_of_them(browser, shots_dir, live_server, project, editor,
                                                      make_output):  # noqa: F811
    made = [make_output(project, editor, kind, f"A {kind} of the harbour") for kind in ("image", "video", "audio")]
    context, page = signed_in(browser, live_server, editor, accept_downloads=True)
    reloads = []
    page.on("request", lambda r: reloads.append(r.url) if "/gallery/?" in r.url else None)
    page.goto(gallery(project))
    page.check("[data-select-all]")
    page.wait_for_selector("[data-selected-count]:has-text('3 selected')")
    assert page.locator('input[name="ids"]:checked').count() == 3
    shoot(page, shots_dir, "gallery-selected")
    with page.expect_download(timeout=10_000) as download:
        page.click("button:has-text('Download selected as ZIP')")
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert set(archive.namelist()) == {*(o.download_name for o in made), "manifest.csv", "manifest.json"}
    rows = json.loads(archive.read("manifest.json"))["files"]
    assert sorted(r["prompt"] for r in rows) == sorted(o.generation.prompt for o in made)
    assert not reloads, f"ticking boxes reloaded the results: {reloads}"
    context.close()


def test_a_from_date_after_the_to_date_is_shown_and_the_results_marked(browser, shots_dir, live_server, project,
                                                                       editor, make_output):  # noqa: F811
    make_output(project, editor, "image", "A quiet lake")
    context, page = signed_in(browser, live_server, editor)
    page.goto(gallery(project))
    page.fill("#id_until", "2025-05-01")
    page.fill("#id_since", "2025-05-02")
    page.locator("#id_since").dispatch_event("change")
    alert = page.locator("#results [role=alert]")
    alert.wait_for(timeout=10_000)
    assert "after the “To” date" in alert.inner_text()
    assert "everything is shown" in alert.inner_text()
    shoot(page, shots_dir, "gallery-bad-dates")
    context.close()


def test_cards_show_posters_and_a_keyboard_menu(browser, shots_dir, live_server, project, editor,
                                                make_output):  # noqa: F811
    video = make_output(project, editor, "video", "Waves breaking on black rocks")
    make_output(project, editor, "audio", "Gulls over a harbour")
    make_output(project, editor, "image", "A lighthouse at dusk")
    context, page = signed_in(browser, live_server, editor)
    page.goto(gallery(project))
    assert page.locator("#results video, #results audio, #results [controls]").count() == 0
    posters = page.locator("#results [data-card] .media-thumb img")
    assert posters.count() == 3
    page.wait_for_function("() => [...document.querySelectorAll('#results [data-card] .media-thumb img')]"
                           ".every((img) => img.complete && img.naturalWidth > 0)")
    # Hovering a video card plays it, muted; leaving stops it.
    thumb = page.locator(f"#output-{video.pk} .media-thumb")
    thumb.hover()
    hover = page.locator(f"#output-{video.pk} video.thumb-hover")
    hover.wait_for()
    assert hover.evaluate("(v) => v.muted && !v.controls")
    page.mouse.move(0, 0)
    hover.wait_for(state="detached")
    shoot(page, shots_dir, "gallery-grid")
    # The menu opens and closes by keyboard, giving focus back.
    summary = page.locator(f"#output-{video.pk} details.card-menu summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator(f"#output-{video.pk} details.card-menu").get_attribute("open") is not None
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('.menu-panel') !== null")
    shoot(page, shots_dir, "gallery-card-menu")
    page.keyboard.press("Escape")
    assert page.locator(f"#output-{video.pk} details.card-menu").get_attribute("open") is None
    assert summary.evaluate("(el) => el === document.activeElement")
    context.close()


def test_the_lightbox_moves_by_arrow_keys_closes_on_escape_and_gives_focus_back(
        browser, shots_dir, live_server, project, editor, make_output):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    prompts = ["First: a red kite", "Second: waves on rocks", "Third: a quiet lake"]
    kinds = ["image", "video", "audio"]
    made = [make_output(project, editor, kind, prompt, created_at=now - timedelta(minutes=i),
                        params={"prompt_text": prompt, "seed": 100 + i})
            for i, (kind, prompt) in enumerate(zip(kinds, prompts, strict=True))]
    context, page = signed_in(browser, live_server, editor)
    page.goto(gallery(project))
    opener = page.locator(f"#output-{made[0].pk} [data-open]")
    opener.click()
    viewer = page.locator(".pswp")
    viewer.wait_for()
    current = page.locator(".pswp__item[aria-hidden='false'] .lb-caption")
    current.wait_for()
    assert prompts[0] in current.inner_text() and "100" in current.inner_text()
    assert "Gen-4 Image" in current.inner_text() and "5 credits" in current.inner_text()
    assert page.evaluate("() => document.activeElement.closest('.pswp') !== null"), "focus moved into the viewer"
    shoot(page, shots_dir, "gallery-lightbox-image")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(p) => document.querySelector(\".pswp__item[aria-hidden='false'] .lb-caption\")"
                           "?.textContent.includes(p)", arg=prompts[1])
    assert page.locator(".pswp__item[aria-hidden='false'] video[controls]").count() == 1
    shoot(page, shots_dir, "gallery-lightbox-video")
    page.locator(".pswp__button--arrow--next").click()
    page.wait_for_function("(p) => document.querySelector(\".pswp__item[aria-hidden='false'] .lb-caption\")"
                           "?.textContent.includes(p)", arg=prompts[2])
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("(p) => document.querySelector(\".pswp__item[aria-hidden='false'] .lb-caption\")"
                           "?.textContent.includes(p)", arg=prompts[1])
    # Full screen, and back.
    page.locator(".pswp__button--fullscreen").click()
    page.wait_for_function("() => document.fullscreenElement?.classList.contains('pswp')")
    page.locator(".pswp__button--fullscreen").click()
    page.wait_for_function("() => !document.fullscreenElement")
    page.keyboard.press("Escape")
    viewer.wait_for(state="detached")
    assert opener.evaluate("(el) => el === document.activeElement"), "focus went back to the card"
    context.close()


def test_compare_shows_two_selected_side_by_side(browser, shots_dir, live_server, project, editor,
                                                 make_output):  # noqa: F811
    a = make_output(project, editor, "image", "Take one: a fox in snow")
    b = make_output(project, editor, "image", "Take two: a fox in rain")
    make_output(project, editor, "video", "Not compared")
    context, page = signed_in(browser, live_server, editor)
    page.goto(gallery(project))
    compare = page.locator("[data-compare]")
    assert compare.is_disabled()
    page.check(f"#output-{a.pk} input[name=ids]")
    assert compare.is_disabled()
    page.check(f"#output-{b.pk} input[name=ids]")
    compare.click()
    pair = page.locator(".pswp .lb-compare")
    pair.wait_for()
    sides = pair.locator(".lb-slide")
    assert sides.count() == 2
    first, second = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
    assert first["x"] + first["width"] <= second["x"] + 1 and abs(first["y"] - second["y"]) < 2, (first, second)
    text = pair.inner_text()
    assert "Take one" in text and "Take two" in text and "Not compared" not in text
    shoot(page, shots_dir, "gallery-compare")
    page.keyboard.press("Escape")
    page.locator(".pswp").wait_for(state="detached")
    assert compare.evaluate("(el) => el === document.activeElement")
    context.close()


def test_pages_empty_states_and_a_phone_width(browser, shots_dir, live_server, project, editor,
                                             make_output):  # noqa: F811
    context, page = signed_in(browser, live_server, editor, width=390, height=844)
    page.goto(gallery(project))
    assert "No outputs yet" in page.locator("#results").inner_text()
    shoot(page, shots_dir, "gallery-empty")
    for i in range(25):
        make_output(project, editor, "image", f"Tile number {i}")
    page.goto(gallery(project))
    assert page.locator("#results [data-card]").count() == 24
    per_row = page.evaluate("() => new Set([...document.querySelectorAll('#results [data-card]')]"
                            ".map((c) => Math.round(c.getBoundingClientRect().top))).size")
    assert 12 <= per_row <= 24, f"{per_row} rows of 24 cards at 390 px: one or two a row"
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.click("#results a:has-text('Next page')")
    page.wait_for_url("**page=2")
    page.locator("#results :text('Page 2 of 2')").wait_for()
    assert page.locator("#results [data-card]").count() == 1
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, shots_dir, "gallery-page-2")
    page.locator("#results [data-open]").click()
    page.locator(".pswp .lb-caption").wait_for()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, shots_dir, "gallery-lightbox-phone")
    page.keyboard.press("Escape")
    page.locator(".pswp").wait_for(state="detached")
    # On a phone the filters are folded away until asked for, so the results come first.
    assert not page.locator("#id_q").is_visible()
    page.click("summary:has-text('Find')")
    page.fill("#id_q", "nothing like this")
    page.press("#id_q", "Enter")
    page.locator("#results :text('Nothing matches')").wait_for()
    shoot(page, shots_dir, "gallery-no-match")
    context.close()


def test_a_search_with_over_a_thousand_matches_says_so_in_the_toolbar(browser, shots_dir, live_server, project,
                                                                      editor, make_output):  # noqa: F811
    copies_of(make_output(project, editor, "image", "a heron at dawn"), 1000)
    context, page = signed_in(browser, live_server, editor)
    page.goto(gallery(project) + "?q=heron")
    toolbar = page.locator(".gallery-toolbar")
    assert "More than 1,000 outputs match" in toolbar.inner_text()
    assert "Page 1 of 42" in page.locator("nav.pagination").inner_text()
    shoot(page, shots_dir, "gallery-more-than-1000")
    context.close()
