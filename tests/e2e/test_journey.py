"""A newcomer's whole journey in a real browser, with a real worker making a real video."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from credits import ledger
from tests.faults.harness import wait_for
from tests.generations import media_samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-browser-pass-77"


class Journey:
    """Steps with a screenshot after each, numbered in order."""

    def __init__(self, page, shots_dir, base: str):
        self.page, self.dir, self.base, self.n = page, shots_dir, base, 0

    def shot(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(self.dir / f"{self.n:02d}-{name}.png"), full_page=True)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def sign_up(self, username: str, next_path: str = "") -> None:
        self.go("/accounts/signup/" + (f"?next={next_path}" if next_path else ""))
        self.page.fill("#id_username", username)
        self.page.fill("#id_email", f"{username}@example.com")
        self.page.click("button:has-text('Create account')")
        self.page.wait_for_selector("text=Check your email")
        # The account is made from the link mailed to the address, which proves it is theirs.
        link = re.search(r"/accounts/signup/\?token=\S+", mail.outbox[-1].body).group(0)
        self.go(link)
        self.page.fill("#id_password1", PASSWORD)
        self.page.fill("#id_password2", PASSWORD)
        self.page.click("button:has-text('Create account')")


def test_newcomer_journey(browser, shots_dir, live_server, cluster, emulator_process, tmp_path):
    base = live_server.url
    cluster.env["LOG_LEVEL"] = "INFO"
    cluster.start()
    alice_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    page = alice_ctx.new_page()
    j = Journey(page, shots_dir, base)

    # Sign up: a personal space with starting credits.
    j.sign_up("alice")
    page.wait_for_url(re.compile(r"/p/alice/$"))
    assert "alice's space" in page.content().replace("&#x27;", "'")
    j.shot("signed-up")

    # A team project, and an invitation a second person accepts.
    j.go("/projects/")
    page.fill("#id_name", "Moonshot")
    page.click("button:has-text('Create project')")
    page.wait_for_url(re.compile(r"/p/moonshot/$"))
    j.go("/p/moonshot/members/")
    page.fill("#id_who", "bob@example.com")
    page.click("button:has-text('Send invitation')")
    link = re.search(r"/invitations/[^/\s\"<]+/", page.inner_text(".messages")).group(0)
    j.shot("invited")
    bob_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    bob = bob_ctx.new_page()
    jb = Journey(bob, shots_dir, base)
    jb.n = 50
    jb.sign_up("bob", next_path=link)
    bob.wait_for_url(re.compile(link))
    jb.shot("invitation")
    bob.click("button:has-text('Accept invitation')")
    bob.wait_for_url(re.compile(r"/p/moonshot/$"))
    assert "Moonshot" in bob.inner_text("h1")
    jb.shot("bob-joined")

    # Upload an image and watch the progress bar.
    photo = media_samples.make_png(tmp_path / "harbour.png", 1280, 720)
    j.go("/p/moonshot/assets/")
    page.set_input_files("input[type=file]", str(photo))
    # Record what the progress bar shows while the bytes go up (after the page's own listener).
    # Kept in sessionStorage: the page moves on to the updated asset list once the upload lands.
    page.evaluate("""() => { document.addEventListener("htmx:xhr:progress", () => {
            const box = document.querySelector(".upload-progress");
            const bar = document.querySelector("#upload-progress");
            const seen = JSON.parse(sessionStorage.getItem("uploadSeen") || '{"shown": false, "max": 0}');
            seen.shown = seen.shown || Boolean(box && !box.hidden);
            seen.max = Math.max(seen.max, bar ? bar.value : 0);
            sessionStorage.setItem("uploadSeen", JSON.stringify(seen));
        }); }""")
    page.click("button:has-text('Upload file')")
    page.wait_for_selector(".media-card:has-text('harbour.png')")
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('uploadSeen'))")
    assert seen["shown"] and seen["max"] > 0, seen
    j.shot("uploaded")

    credits_before = ledger.account_for(_user("alice")).balance
    j.go("/credits/")
    j.shot("credits-before")

    # Image → video, watched live: the card changes with no page load.
    j.go("/p/moonshot/generate/?endpoint=image_to_video&model=gen4_turbo")
    page.click("label.pick:has-text('harbour.png')")
    page.fill("textarea", "A slow push in over the harbour at dusk")
    page.fill("input[name=duration]", "5")
    j.shot("form")
    page.click("button:has-text('Start generation')")
    page.wait_for_url(re.compile(r"/generations/\d+/$"))
    loads = []
    page.on("load", lambda *_: loads.append(1))
    j.shot("queued")
    try:
        page.wait_for_selector("video", timeout=90_000)
    except Exception:
        j.shot("stuck")
        raise AssertionError(f"no video; worker log:\n{cluster.tail()}") from None
    assert loads == [], "the card should update in place, without reloading the page"
    assert "Done" in page.inner_text("main")
    j.shot("done")

    # The gallery plays it; favourite it; share it with someone logged out.
    j.go("/p/moonshot/gallery/")
    page.wait_for_selector(".media-card video, .media-card img")
    j.shot("gallery")
    page.click(".media-card h3.title a")  # the title opens its page (the poster opens the lightbox)
    page.wait_for_url(re.compile(r"/gallery/\d+/$"))
    duration = page.evaluate(
        """async () => { const v = document.querySelector('video'); v.muted = true; v.preload = 'auto';
             v.load(); await new Promise(r => { v.onloadedmetadata = r; setTimeout(r, 10000); });
             return v.duration; }""")
    assert duration == pytest.approx(5, abs=0.6)
    page.click("button:has-text('Favourite')")
    page.wait_for_selector("button:has-text('Unfavourite')")
    page.click("button:has-text('Create share link')")
    page.wait_for_selector("#share-url")
    share_url = page.input_value("#share-url")
    j.shot("shared")
    stranger = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    stranger.goto(share_url)
    assert "A slow push in over the harbour at dusk" in stranger.content()
    assert stranger.locator("video").count() == 1
    stranger.screenshot(path=str(shots_dir / "90-share-logged-out.png"), full_page=True)

    # The credits page shows what it cost.
    wait_for(lambda: ledger.account_for(_user("alice")).held == 0, timeout=30, what="the hold to settle")
    after = ledger.account_for(_user("alice")).balance
    assert after < credits_before
    j.go("/credits/")
    assert str(after) in page.inner_text("main")
    j.shot("credits-after")
    for ctx in (alice_ctx, bob_ctx, stranger.context):
        ctx.close()


def _user(username):
    from accounts.models import User

    return User.objects.get(username=username)
