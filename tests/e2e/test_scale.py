"""Working at scale, in Chromium against a live server, a real qcluster and the emulator: a group
of variations from the form, told by the bell when it finishes, put on a board that is shared,
one take moved to the trash and back, and a preset made of the settings and used again.
Every page is shot at 1400 and 390 px and checked with axe-core."""

from __future__ import annotations

import re

import pytest

from gallery.models import Board, BoardLink
from generations.models import GenerationGroup, Status
from notifications.models import Notification
from presets.models import Preset
from tests.e2e.conftest import signed_in
from tests.e2e.pages import shoot
from tests.faults.conftest import funded  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PROMPT = "A paper lantern floating over a dark lake"


def test_variations_boards_trash_presets_and_the_bell(browser, shots_dir, live_server, cluster, emulator_process,
                                                      project, funded, settings):  # noqa: F811
    settings.NOTICE_POLL_SECONDS = 5
    cluster.start()
    context, page = signed_in(browser, live_server, funded, width=1400)
    slug = project.slug
    # Notifications the page shows are counted as the browser is asked to show them.
    context.grant_permissions(["notifications"])
    page.add_init_script("""(() => {
      const Real = window.Notification; window.__shown = [];
      window.Notification = class extends Real {
        constructor(title, options) { super(title, options); window.__shown.push(options.body); } };
    })();""")

    # Browser notifications asked for on the notifications page.
    page.goto("/notifications/")
    page.check("input[name=browser]")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=This browser shows Takes’ notifications.")

    # Three seeds of one setting, from the form; the estimate adds them up first.
    page.goto(f"/p/{slug}/generate/?endpoint=text_to_image&model=gen4_image")
    page.fill("textarea[name=prompt_text]", PROMPT)
    page.click("details.variations summary")
    page.fill("input[name=variation_seeds]", "3")
    page.press("input[name=variation_seeds]", "Tab")  # a change, as a person leaving the box makes
    page.wait_for_selector("#estimate :text('3 variations')")
    shoot(page, shots_dir, "variations-form")

    # The form as it stands kept as a preset; the form comes back as it was.
    page.click("summary:has-text('Save as preset')")
    page.fill("input[name=preset_name]", "Lantern seeds")
    page.click("button:has-text('Save preset')")
    page.wait_for_selector(":text('Preset “Lantern seeds” saved')")
    kept = Preset.objects.get(name="Lantern seeds")
    assert (kept.model, kept.prompt) == ("gen4_image", PROMPT)
    assert page.input_value("textarea[name=prompt_text]") == PROMPT
    page.click("details.variations summary")
    page.fill("input[name=variation_seeds]", "3")

    page.click("button:has-text('Start generation')")
    page.wait_for_url(re.compile(r"/queue/$"))
    group = GenerationGroup.objects.get()
    block = page.locator(f"section.gen-group[aria-label='Variations #{group.pk}']")
    assert block.locator("article.gen-tile").count() == 3  # one block in the queue
    try:  # the queue's one poll turns each card Done in place
        page.wait_for_function("() => document.querySelectorAll('.badge.succeeded').length >= 3", timeout=120_000)
    except Exception:
        raise AssertionError(f"the group did not finish: {cluster.tail()}") from None
    assert set(group.generations.values_list("status", flat=True)) == {Status.SUCCEEDED}, cluster.tail()
    shoot(page, shots_dir, "variations-queue")

    # The bell says so once, and so does the browser.
    page.wait_for_function("() => window.__shown.length > 0", timeout=30_000)
    page.goto(f"/p/{slug}/")
    assert page.inner_text(".bell .bell-count").startswith("1")
    assert Notification.objects.filter(user=funded).count() == 1
    page.reload()
    page.wait_for_load_state("networkidle")  # this page asked too: what it was told was shown before
    assert page.evaluate("() => window.__shown") == []
    # The group's outputs together in the gallery, compared side by side.
    page.goto(f"/p/{slug}/gallery/?group={group.pk}")
    assert page.locator(".gallery-card").count() == 3
    page.check("[data-select-all]")
    page.click("button:has-text('Compare selected')")
    page.wait_for_selector(".lb-compare[data-count='3']")
    assert page.locator(".lb-compare .lb-slide").count() == 3
    shoot(page, shots_dir, "variations-compare")
    page.keyboard.press("Escape")
    page.click(".bell")
    page.wait_for_url(re.compile(r"/notifications/$"))
    shoot(page, shots_dir, "notifications")

    # All three on a new board, shared by a link that works signed out.
    page.goto(f"/p/{slug}/gallery/")
    for box in page.query_selector_all("input[name=ids]"):
        box.check(force=True)
    page.click("button:has-text('Add to board')")
    page.fill("input[name=name]", "Lanterns")
    page.click("button:has-text('Add to board')")
    page.wait_for_url(re.compile(r"/boards/\d+/$"))
    board = Board.objects.get(name="Lanterns")
    assert board.items.count() == 3
    page.click("button:has-text('Make a public link')")
    link = BoardLink.objects.get(board=board)
    shoot(page, shots_dir, "board")
    public = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=live_server.url).new_page()
    public.goto(f"/b/{link.token}/")
    assert public.locator(".gallery-card").count() == 3
    shoot(public, shots_dir, "board-public")
    public.context.close()

    # One take to the trash and back.
    output = board.items.first().output
    page.goto(f"/p/{slug}/gallery/delete/?ids={output.pk}")
    page.click("button:has-text('to the trash')")
    page.goto(f"/p/{slug}/gallery/trash/")
    assert page.locator(".gallery-card").count() == 1
    shoot(page, shots_dir, "trash")
    page.check("input[name=ids]", force=True)
    page.click("button:has-text('Restore selected')")
    page.wait_for_selector(":text('Restored 1 output')")

    # The settings kept as a preset with a placeholder, and used again.
    page.goto(f"/p/{slug}/presets/")
    page.select_option("select[name=generation]", index=1)
    page.fill("input[name=name]", "Lanterns")
    page.click("button:has-text('Save preset')")
    preset = Preset.objects.get(name="Lanterns")
    page.goto(f"/p/{slug}/presets/{preset.pk}/edit/")
    page.fill("textarea[name=prompt]", "A paper {thing} floating over a dark lake")
    page.click("button:has-text('Save preset')")
    shoot(page, shots_dir, "presets")
    page.click(f"#preset-{preset.pk} a:has-text('Use')")
    page.fill("input[name=p0]", "boat")
    page.click("button:has-text('Open the form')")
    page.wait_for_selector("textarea[name=prompt_text]")
    assert page.input_value("textarea[name=prompt_text]") == "A paper boat floating over a dark lake"
    page.goto(f"/p/{slug}/prompts/")
    shoot(page, shots_dir, "prompt-library")
    context.close()
