"""A token's credit limit under races: creates released together through Takes' live server, all or nothing."""

import pytest
import runwayml

from accounts.actions import create_api_token
from credits import ledger
from credits.models import Hold
from generations.models import Generation
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 6


def test_creates_racing_for_a_tokens_last_credits_never_pass_its_limit(live_server, runway_emulator, media_root,
                                                                       project, funded):
    # gen4_image at 1024:1024 holds the same estimate each time; the limit fits exactly two.
    probe, raw = create_api_token(user=funded, project=project, name="probe")
    first = runwayml.RunwayML(base_url=live_server.url, api_key=raw, max_retries=0).text_to_image.create(
        model="gen4_image", prompt_text="a kite", ratio="1024:1024")
    cost = Generation.objects.get(api_token=probe).estimated_credits
    assert first.estimated_cost.credits == cost
    token, raw = create_api_token(user=funded, project=project, name="racing", credit_limit=2 * cost)

    def create(_i):
        client = runwayml.RunwayML(base_url=live_server.url, api_key=raw, max_retries=0)
        return client.text_to_image.create(model="gen4_image", prompt_text="a kite", ratio="1024:1024")

    results = run_together(create, RACERS)
    made = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, runwayml.BadRequestError)]
    assert len(made) == 2 and len(refused) == RACERS - 2, results
    assert all("not have enough credits" in r.body["error"] for r in refused)
    assert Generation.objects.filter(api_token=token).count() == 2
    assert ledger.token_spend(token.pk) == 2 * cost
    assert Hold.objects.filter(generation__api_token=token, account__user=funded).count() == 2
