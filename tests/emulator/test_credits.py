"""Credits, tier limits and usage reports that tell the truth about what ran."""

from __future__ import annotations

import datetime as dt

import pytest
import runwayml


def today(control) -> dt.date:
    return dt.date.fromisoformat(control.state()["clock"]["now"][:10])


def test_estimated_cost_is_charged_and_reported(client, control):
    before = client.organization.retrieve().credit_balance
    task = client.image_to_video.create(model="gen4_turbo", prompt_image="https://example.com/a.png",
                                        ratio="1280:720", duration=10)
    assert task.estimated_cost.credits == 50
    assert client.organization.retrieve().credit_balance == before - 50
    control.advance_clock(600)
    assert client.tasks.retrieve(task.id).cost.credits == 50


def test_auto_duration_is_billed_at_maximum_then_refunded(client, control):
    task = client.text_to_video.create(model="seedance2", prompt_text="a kite", duration="auto")
    assert task.estimated_cost.credits == 36 * 15
    control.advance_clock(600)
    assert client.tasks.retrieve(task.id).cost.credits == 36 * 5


def test_organization_reports_tier_limits_and_daily_generations(client, control):
    client.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
    org = client.organization.retrieve()
    assert org.tier.models["gen4_image"].max_concurrent_generations == 20
    assert org.tier.max_monthly_credit_spend == 10_000_000
    assert org.usage.models["gen4_image"].daily_generations == 1
    control.advance_clock(24 * 3600 + 1)
    assert client.organization.retrieve().usage.models["gen4_image"].daily_generations == 0


def test_insufficient_credits_is_400(client, control):
    control.set_balance(3)
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
    assert "not have enough credits" in caught.value.body["error"]
    assert control.state()["tasks_created"] == {}


def test_daily_limit_is_429(client, control):
    control.set_tier(1, {"gen4_image": {"maxDailyGenerations": 1}})
    client.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
    with pytest.raises(runwayml.RateLimitError):
        client.text_to_image.create(model="gen4_image", prompt_text="b", ratio="720:720")


def test_tier_one_limits(client, control):
    control.set_tier(1)
    org = client.organization.retrieve()
    assert org.tier.models["gen4.5"].max_concurrent_generations == 1
    assert org.tier.models["gen4.5"].max_daily_generations == 50


def test_usage_reports_exactly_what_ran(client, control):
    client.text_to_image.create(model="gen4_image", prompt_text="a", ratio="720:720")
    cancelled = client.text_to_video.create(model="gen4.5", prompt_text="b", ratio="1280:720",
                                            duration=5)
    client.tasks.delete(cancelled.id)
    day = today(control)
    usage = client.organization.retrieve_usage(start_date=day, before_date=day + dt.timedelta(days=1))
    assert usage.models == ["gen4.5", "gen4_image"]
    amounts = {u.model: u.amount for u in usage.results[0].used_credits}
    assert amounts == {"gen4_image": 5, "gen4.5": 0}
    assert usage.results[0].date == day


def test_usage_range_rules(client):
    with pytest.raises(runwayml.BadRequestError):
        client.organization.retrieve_usage(start_date="2026-01-01", before_date="2026-06-01")
    with pytest.raises(runwayml.BadRequestError):
        client.organization.retrieve_usage(start_date="2026-01-02", before_date="2026-01-01")
    assert client.organization.retrieve_usage().results == []
