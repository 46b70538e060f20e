"""The gallery in a real browser: selecting and zipping, refused filters, cards, the lightbox
and compare, pagination, empty states and a phone's width.

Outputs are real files made by the gallery tests' `make_output` (no worker is needed: the
pipeline's part is tested elsewhere); each page state is shot at 1400 and 390 px and checked
with axe-core.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import signed_in
from tests.e2e.pages import shoot
from tests.gallery.conftest import gallery_media, make_output, samples  # noqa: F401  (fixtures)

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
    assert {o.download_name for o in made} <= set(archive.namelist())
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
