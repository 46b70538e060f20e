"""Browser tests: Debian's Chromium driven by Playwright against a live server, a real qcluster and the emulator."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.faults.conftest import cluster, emulator_process, queue_name  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("TAKES_E2E_SHOTS", ROOT / "test-artifacts" / "e2e"))

# Playwright's sync API keeps an event loop in this thread; our ORM calls here are still plain sync code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise AssertionError(f"{CHROMIUM} is missing: apt-get install chromium (make test does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                  "--no-first-run", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shots_dir():
    # Several test processes share the folder, so none empties it (`make test` does, before they start).
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def pytest_terminal_summary(terminalreporter):
    if SHOTS.exists() and any(SHOTS.iterdir()):
        terminalreporter.write_line(f"Browser screenshots: {SHOTS}")


def signed_in(browser, live_server, user, *, width: int = 1280, height: int = 1000, **options):
    """A browser context signed in as `user` through the sign-in page, and its page."""
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_server.url, **options)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/p/"))
    return context, page
