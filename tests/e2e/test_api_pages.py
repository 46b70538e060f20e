"""The pages a team scripts from, in Chromium: personal API tokens (shown once, listed, revoked) and a
project's webhooks (added, tested, paused, their delivery log). Every page is shot at 1400 and 390 px
and checked with axe-core."""

from __future__ import annotations

import re

import pytest

from accounts.models import ApiToken
from tests.e2e.conftest import signed_in
from tests.e2e.pages import shoot
from webhooks.models import Delivery, Endpoint

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_tokens_and_webhooks_pages(browser, shots_dir, live_server, project, owner, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True  # the endpoint below is this machine's
    context, page = signed_in(browser, live_server, owner, width=1400)
    slug = project.slug

    # A token: made, its secret shown once, then only its prefix.
    page.goto(f"/p/{slug}/tokens/")
    shoot(page, shots_dir, "api-tokens-empty")
    page.fill("input[name=name]", "render farm")
    page.fill("input[name=credit_limit]", "500")
    page.click("button:has-text('Make token')")
    secret = page.inner_text("#new-token").strip()
    assert re.fullmatch(r"takes_[0-9a-f]{64}", secret)
    token = ApiToken.objects.get(name="render farm")
    assert token.credit_limit == 500 and secret not in (token.token_hash, token.prefix)
    shoot(page, shots_dir, "api-token-shown-once")
    page.goto(f"/p/{slug}/tokens/")
    assert secret not in page.content()
    page.click("a:has-text('Revoke')")
    page.click("button:has-text('Revoke')")
    page.wait_for_url(re.compile(r"/tokens/$"))
    token.refresh_from_db()
    assert token.revoked_at is not None
    shoot(page, shots_dir, "api-tokens")

    # A webhook endpoint: added, a test event queued, paused; its page and a delivery's log.
    page.goto(f"/p/{slug}/settings/webhooks/")
    shoot(page, shots_dir, "webhooks-empty")
    page.fill("input[name=url]", "http://127.0.0.1:9/takes")
    page.check("input[name=events][value='generation.succeeded']")
    page.click("button:has-text('Add endpoint')")
    endpoint = Endpoint.objects.get(project=project)
    page.goto(f"/p/{slug}/settings/webhooks/{endpoint.pk}/")
    assert "whsec_" in page.content()
    page.click("button:has-text('Send test event')")
    delivery = Delivery.objects.get(endpoint=endpoint)
    shoot(page, shots_dir, "webhook-endpoint")
    page.goto(f"/p/{slug}/settings/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/")
    shoot(page, shots_dir, "webhook-delivery")
    page.goto(f"/p/{slug}/settings/webhooks/")
    shoot(page, shots_dir, "webhooks")
    context.close()
