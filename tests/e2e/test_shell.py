"""The studio's shell in Chromium: the balance in the top bar, arriving by invitation, the generation
form's estimate and upload slots, roles, signing out, dark mode, a phone's width, and the ops console.

Every page visited is shot at 1400 and 390 px and checked with axe-core (`shoot`).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from credits import ledger
from credits.models import DailyUsage, utc_today
from generations.models import Generation, Status
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import signed_in
from tests.e2e.pages import shoot
from tests.generations import media_samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_PROMPT = ("A lighthouse keeper climbs the spiral stair at dusk, counting the steps. " * 150)[:10_000]
PHONE = 390


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.evaluate("() => window.innerWidth")
    assert width <= viewport, f"{page.url} scrolls sideways at {viewport} px ({width} px wide)"


def luminance(page, selector: str, prop: str = "backgroundColor") -> float:
    """The relative brightness (0 black … 1 white) of an element's computed colour."""
    rgb = page.evaluate(f"""() => getComputedStyle(document.querySelector({selector!r})).{prop}""")
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@pytest.fixture
def studio(project, owner, editor, viewer, media_root):
    """The team project with its personas, each with credits."""
    for person in (owner, editor, viewer):
        ledger.account_for(person)
    return project


# --- 1. the balance ----------------------------------------------------------------------------------


def test_the_balance_is_in_the_top_bar_and_leads_to_ones_credits(browser, shots_dir, live_server, studio, owner):
    context, page = signed_in(browser, live_server, owner)
    page.goto(f"/p/{studio.slug}/")
    balance = page.locator("header a.balance")
    assert " ".join(balance.text_content().split()) == "5,000 credits"
    shoot(page, shots_dir, "shell-home")
    page.goto(f"/p/{studio.slug}/credits/")
    assert page.locator("h1").inner_text() == "Project budget"
    assert "Your own balance is separate" in page.inner_text("main")
    shoot(page, shots_dir, "shell-project-budget")
    page.locator("header a.balance").click()
    page.wait_for_url(re.compile(r"/credits/$"))
    assert page.locator("h1").inner_text() == "Your credits"
    shoot(page, shots_dir, "shell-my-credits")
    context.close()


# --- 2. arriving by invitation ----------------------------------------------------------------------


def test_an_invitee_signs_up_from_the_link_and_lands_in_the_project(browser, shots_dir, live_server, studio,
                                                                    owner):
    context, page = signed_in(browser, live_server, owner)
    page.goto(f"/p/{studio.slug}/members/")
    page.fill("#id_who", "newbie@example.com")
    page.select_option("#id_role", "editor")
    page.click("button:has-text('Send invitation')")
    link = re.search(r"/invitations/[^/\s\"<]+/", page.inner_text(".messages")).group(0)
    shoot(page, shots_dir, "shell-members")
    context.close()

    guest = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = guest.new_page()
    page.goto(link)
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert "invited you to join Moonshot as an editor" in page.inner_text("main")
    shoot(page, shots_dir, "shell-invited-sign-in")
    page.click("a:has-text('Create an account')")
    page.wait_for_url(re.compile(r"/accounts/signup/"))
    assert page.input_value("#id_email") == "newbie@example.com"
    assert "invited you to join Moonshot" in page.inner_text("main")
    shoot(page, shots_dir, "shell-invited-sign-up")
    page.fill("#id_username", "newbie")
    page.click("button:has-text('Create account')")
    page.wait_for_selector("text=Check your email")
    finish = re.search(r"/accounts/signup/\?token=\S+", mail.outbox[-1].body).group(0)
    page.goto(finish)
    shoot(page, shots_dir, "shell-invited-finish")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button:has-text('Create account')")
    page.wait_for_url(re.compile(re.escape(link) + "$"))
    assert "personal space" not in page.inner_text("main")
    shoot(page, shots_dir, "shell-invited-accept")
    page.click("button:has-text('Accept invitation')")
    page.wait_for_url(re.compile(rf"/p/{studio.slug}/$"))
    assert "Welcome to Moonshot" in page.inner_text(".messages")
    assert "personal space" not in page.inner_text("main")
    shoot(page, shots_dir, "shell-invited-joined")
    guest.close()


# --- 4. the estimate, roles, signing out -------------------------------------------------------------


def test_a_long_prompt_is_estimated_and_no_url_carries_it(browser, shots_dir, live_server, studio, editor):
    context, page = signed_in(browser, live_server, editor)
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(f"/p/{studio.slug}/generate/?endpoint=text_to_video&model=seedance2_5")
    page.wait_for_selector("#estimate h3")
    page.fill("#id_prompt_text", LONG_PROMPT)
    page.dispatch_event("#id_prompt_text", "change")
    page.wait_for_function("() => /credits?$/.test(document.querySelector('#estimate h3').textContent.trim())")
    assert page.input_value("#id_prompt_text") == LONG_PROMPT
    # Switching the model keeps the prompt, and posts it too.
    page.select_option("#id_model", "seedance2")
    page.wait_for_function("() => document.querySelector('#id_model').value === 'seedance2' && "
                           "document.querySelector('#id_prompt_text')")
    page.wait_for_selector("#estimate h3")
    shoot(page, shots_dir, "shell-long-prompt")
    too_long = [u for u in urls if len(u) > 2000]
    assert not too_long, f"{len(too_long)} request URL(s) over 2,000 characters"
    context.close()


def test_an_invalid_duration_is_named_instead_of_priced(browser, shots_dir, live_server, studio, editor):
    context, page = signed_in(browser, live_server, editor)
    page.goto(f"/p/{studio.slug}/generate/?endpoint=text_to_video&model=gen4.5")
    page.wait_for_selector("#estimate h3")
    page.fill("#id_duration", "99")
    page.dispatch_event("#id_duration", "change")
    page.wait_for_selector("#estimate:has-text('Fix these settings to see the price')")
    assert "Gen-4.5 takes 2–10 seconds; you asked for 99." in page.inner_text("#estimate")
    assert "1188" not in page.inner_text("#estimate").replace(",", "")
    shoot(page, shots_dir, "shell-invalid-duration")
    context.close()


def test_a_viewer_sees_no_generate_and_signing_out_says_so(browser, shots_dir, live_server, studio, viewer):
    context, page = signed_in(browser, live_server, viewer)
    page.goto(f"/p/{studio.slug}/")
    nav = page.locator("nav[aria-label='Project']")
    assert nav.locator("a:has-text('Gallery')").count() == 1
    assert nav.locator("a:has-text('Generate')").count() == 0
    assert page.locator(f"a[href='/p/{studio.slug}/generate/']").count() == 0
    shoot(page, shots_dir, "shell-viewer-home")
    page.goto(f"/p/{studio.slug}/gallery/")
    assert page.locator(f"a[href^='/p/{studio.slug}/generate/']").count() == 0
    page.click("summary:has-text('vera')")
    page.click("button:has-text('Sign out')")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert "You are signed out." in page.inner_text(".messages")
    shoot(page, shots_dir, "shell-signed-out")
    context.close()


# --- 5. uploads straight into the form's slots ------------------------------------------------------

DROP = """async ([selector, name, type, b64]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, {type}));
    const target = document.querySelector(selector);
    for (const kind of ["dragenter", "dragover", "drop"]) {
        target.dispatchEvent(new DragEvent(kind, {bubbles: true, cancelable: true, dataTransfer: data}));
    }
}"""

PASTE = """async ([name, type, b64]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, {type}));
    document.activeElement.dispatchEvent(new ClipboardEvent("paste", {bubbles: true, cancelable: true,
                                                                       clipboardData: data}));
}"""


def _b64(path) -> str:
    import base64

    return base64.b64encode(path.read_bytes()).decode()


def test_drop_and_paste_put_new_assets_straight_into_a_slot(browser, shots_dir, live_server, studio, editor,
                                                           tmp_path):
    first = media_samples.make_png(tmp_path / "harbour.png", 1280, 720)
    second = media_samples.make_png(tmp_path / "pasted.png", 1280, 720)
    notes = tmp_path / "notes.txt"
    notes.write_text("Shot list for Monday.\n" * 100)
    context, page = signed_in(browser, live_server, editor)
    page.goto(f"/p/{studio.slug}/generate/?endpoint=image_to_video&model=gen4.5")
    page.fill("#id_prompt_text", "A slow push in over the harbour")
    zone = ".slot-drop[data-slot='prompt_image']"
    page.wait_for_selector(zone, state="visible")

    # A refused file says why, and what was typed stays.
    page.evaluate(DROP, [zone, "notes.txt", "text/plain", _b64(notes)])
    refusal = page.wait_for_selector(f"{zone} .slot-refusal")
    assert "notes.txt" in refusal.inner_text() and "not an image, video or audio file" in refusal.inner_text()
    assert page.input_value("#id_prompt_text") == "A slow push in over the harbour"

    page.evaluate(DROP, [zone, "harbour.png", "image/png", _b64(first)])
    page.wait_for_selector("fieldset.picker .pick:has-text('harbour.png') input:checked")
    dropped = studio.assets.get(name="harbour.png")
    assert page.locator("input[name=prompt_image]:checked").get_attribute("value") == str(dropped.pk)

    # Paste with the slot's button focused (by keyboard): the pasted image is chosen instead.
    page.focus(f"{zone} .slot-choose")
    page.evaluate(PASTE, ["pasted.png", "image/png", _b64(second)])
    page.wait_for_selector("fieldset.picker .pick:has-text('pasted.png') input:checked")
    pasted = studio.assets.get(name="pasted.png")
    assert page.locator("input[name=prompt_image]:checked").get_attribute("value") == str(pasted.pk)
    assert page.input_value("#id_prompt_text") == "A slow push in over the harbour"
    shoot(page, shots_dir, "shell-slot-upload")

    # The form submits with the pasted image chosen.
    page.click("button:has-text('Start generation')")
    page.wait_for_url(re.compile(r"/generations/\d+/$"))
    assert Generation.objects.get().params["prompt_image"] == pasted.pk
    context.close()


# --- 6. dark mode and a phone's width ----------------------------------------------------------------


def test_dark_mode_follows_the_system_setting(browser, shots_dir, live_server, studio, owner):
    context, page = signed_in(browser, live_server, owner, color_scheme="dark")
    for path, name in ((f"/p/{studio.slug}/", "home"), (f"/p/{studio.slug}/generate/", "generate"),
                       (f"/p/{studio.slug}/assets/", "assets"), (f"/p/{studio.slug}/members/", "members"),
                       ("/credits/", "credits"), ("/projects/", "projects")):
        page.goto(path)
        assert luminance(page, "body") < 0.2, f"{path} is not dark"
        assert luminance(page, "body", "color") > 0.7, f"{path}'s text is not light"
        shoot(page, shots_dir, f"shell-dark-{name}")
    context.close()
    guest = browser.new_context(color_scheme="dark", base_url=live_server.url)
    page = guest.new_page()
    page.goto("/accounts/login/")
    assert luminance(page, ".card") < 0.25
    shoot(page, shots_dir, "shell-dark-sign-in")
    guest.close()


def test_the_project_menu_works_by_keyboard_at_390_px(browser, shots_dir, live_server, studio, owner):
    context, page = signed_in(browser, live_server, owner, width=PHONE, height=800)
    page.goto(f"/p/{studio.slug}/")
    toggle = page.locator(".project-nav-toggle")
    links = page.locator("#project-nav")
    assert toggle.is_visible() and not links.is_visible()
    # Tab from the top of the page to the menu button (a bounded walk), then open it with Enter.
    page.locator("body").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('project-nav-toggle')"):
            break
    else:
        raise AssertionError("the project menu button is not reachable by Tab")
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and links.is_visible()
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Overview"
    shoot(page, shots_dir, "shell-phone-menu-open")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Generate"
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false" and not links.is_visible()
    assert page.evaluate("() => document.activeElement.classList.contains('project-nav-toggle')")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # follows "Generate"
    page.wait_for_url(re.compile(r"/generate/$"))
    for path in (f"/p/{studio.slug}/", f"/p/{studio.slug}/generate/", f"/p/{studio.slug}/assets/",
                 f"/p/{studio.slug}/gallery/", f"/p/{studio.slug}/members/", f"/p/{studio.slug}/queue/",
                 f"/p/{studio.slug}/tokens/",
                 "/credits/", "/projects/", "/accounts/profile/"):
        page.goto(path)
        no_horizontal_scroll(page)
    shoot(page, shots_dir, "shell-phone-profile")
    context.close()


# --- 3. the ops console ------------------------------------------------------------------------------


def test_the_ops_console_lays_out_its_links_tables_and_lists(browser, shots_dir, live_server, studio, owner):
    root = make_user("root", is_staff=True, is_superuser=True)
    for i in range(3):
        Generation.objects.create(project=studio, created_by=owner, endpoint="image_to_video", model="gen4_turbo",
                                  estimated_credits=25, status=Status.RUNNING if i else Status.QUEUED,
                                  prompt="A slow push in over the harbour at dusk, gulls wheeling " * 4)
    ledger.grant(user=owner, amount=100)
    g = Generation.objects.create(project=studio, created_by=owner, endpoint="image_to_video", model="gen4_image",
                                  estimated_credits=10, prompt="a still")
    ledger.place_hold(generation=g)
    DailyUsage.objects.create(date=utc_today(), model="gen4_image", credits=0,
                              synced_at=timezone.now() - timedelta(hours=1))
    ledger.settle_hold(generation=g, credits=10, reported=10)

    context, page = signed_in(browser, live_server, root, width=1400)
    page.goto("/admin/")
    links = page.locator(".ops-index-links a")
    assert links.count() == 3
    for i in range(3):
        assert links.nth(i).bounding_box()["width"] > 100, "the Operate links are squeezed"
    shoot(page, shots_dir, "ops-index")

    page.goto("/admin/queue-health/")
    for table in ("by-status", "failures-by-code", "models", "spenders"):
        fits = page.evaluate(f"""() => {{ const t = document.getElementById({table!r});
            const box = t.closest('.module'); return t.getBoundingClientRect().right <= box.getBoundingClientRect().right + 1
            || t.parentElement.scrollWidth > t.parentElement.clientWidth; }}""")
        assert fits, f"{table} spills out of its panel"
    shoot(page, shots_dir, "ops-queue-health")

    page.goto("/admin/generations/generation/")
    fits = page.evaluate("""() => { const t = document.querySelector('#result_list');
        return t.getBoundingClientRect().right <= t.closest('.results').getBoundingClientRect().right + 1; }""")
    widths = page.evaluate("""() => [...document.querySelectorAll('#result_list thead th')].map(th => [th.className, Math.round(th.getBoundingClientRect().width)])
        .concat([['box', document.querySelector('.results').clientWidth], ['table', document.querySelector('#result_list').scrollWidth]])""")
    assert fits, f"the generation list's right-hand columns are cut off at 1400 px: {widths}"
    assert page.locator("#result_list tbody tr").count() == 4
    shoot(page, shots_dir, "ops-generations")

    page.goto("/staff/credits/")
    assert "Runway's copy is older than our last charge — sync again" in page.inner_text("main")
    shoot(page, shots_dir, "ops-reconciliation")
    context.close()
