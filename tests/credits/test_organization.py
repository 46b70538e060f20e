"""The organization mirror against the emulator, and a day of generations reconciled exactly."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils.module_loading import import_string
from django_q.models import Schedule

from credits import ledger, organization, tasks
from credits.models import DailyUsage, LedgerEntry, OrgSnapshot
from generations import cancel, poll, quotes, run
from generations import submit as submitting
from generations.models import Status
from library import actions as library
from runway import catalog
from runway import client as runway
from tests.conftest import client_for, make_user
from tests.factories import drive
from tests.generations.catalog_cases import valid_params

pytestmark = pytest.mark.django_db




def test_sync_organization_mirrors_balance_limits_and_todays_generations(runway_emulator):
    runway_emulator.set_balance(4321)
    runway_emulator.set_tier(1, {"gen4_turbo": {"maxConcurrentGenerations": 2, "maxDailyGenerations": 7}})
    snapshot = organization.sync_organization()
    assert snapshot.credit_balance == 4321
    assert snapshot.max_monthly_credit_spend > 0
    assert snapshot.models_data["gen4_turbo"] == {"max_concurrent": 2, "max_daily": 7, "daily": 0}
    assert quotes.remaining_daily_generations("gen4_turbo") == 7
    assert quotes.remaining_daily_generations("no_such_model") is None


def test_remaining_daily_generations_is_unknown_before_any_sync(db):
    assert quotes.remaining_daily_generations("gen4_turbo") is None


def test_store_organization_accepts_unlimited_tiers(db):
    snapshot = organization.store_organization({
        "creditBalance": 10, "tier": {"maxMonthlyCreditSpend": None, "models": {
            "gen4_turbo": {"maxConcurrentGenerations": None, "maxDailyGenerations": None}}},
        "usage": {"models": {"gen4_turbo": {"dailyGenerations": 12}}}})
    assert snapshot.remaining_daily("gen4_turbo") is None
    assert snapshot.max_monthly_credit_spend is None


def test_store_usage_replaces_the_period_and_drops_stale_days(db):
    start, before = date(2026, 8, 1), date(2026, 8, 4)
    DailyUsage.objects.create(date=date(2026, 8, 2), model="gen4_turbo", credits=99)
    DailyUsage.objects.create(date=date(2026, 8, 9), model="gen4_turbo", credits=5)  # outside: kept
    kept = organization.store_usage({"results": [
        {"date": "2026-08-01", "usedCredits": [{"model": "gen4_turbo", "amount": 25},
                                               {"model": "gen4_image", "amount": -5}]},
        {"date": "2026-08-03", "usedCredits": [{"model": "gen4_turbo", "amount": 10}]},
    ], "models": ["gen4_turbo", "gen4_image"]}, start=start, before=before)
    assert kept == 3
    assert {(u.date.day, u.model, u.credits) for u in DailyUsage.objects.all()} == {
        (1, "gen4_turbo", 25), (1, "gen4_image", -5), (3, "gen4_turbo", 10), (9, "gen4_turbo", 5)}


def test_sync_task_and_staff_button_store_a_snapshot(runway_emulator):
    assert OrgSnapshot.objects.get(pk=tasks.sync_organization_task()).credit_balance > 0
    staff = make_user("sam", is_staff=True)
    response = client_for(staff).post(reverse("credits:staff_sync"))
    assert response.status_code == 302
    assert OrgSnapshot.objects.count() == 2


def test_staff_sync_reports_runway_errors(runway_emulator):
    runway_emulator.inject_fault(path="/v1/organization", status=401, count=5)
    staff = make_user("sam", is_staff=True)
    response = client_for(staff).post(reverse("credits:staff_sync"), follow=True)
    assert "Runway didn" in response.content.decode()
    assert not OrgSnapshot.objects.exists()


def test_migrations_register_each_schedule_once_with_a_task_that_exists(db):
    schedules = dict(Schedule.objects.values_list("name", "func"))
    assert set(schedules) == {"credits-sync-organization", "generations-close-finished-holds",
                              "generations-sweep-notices", "notifications-send-digests", "gallery-purge-trash",
                              "webhooks-deliver-due", "webhooks-purge-old"}
    for func in schedules.values():
        assert callable(import_string(func)), func


def test_a_day_of_generations_reconciles_exactly_with_runways_usage(project, owner, editor, runway_emulator,
                                                                   media_root):
    """Successes, a refunded failure, a charged moderation failure and a cancel mid-run, on three models."""
    ledger.grant(user=owner, amount=5000)
    ledger.grant(user=editor, amount=5000)

    def submit(user, endpoint, model, **params):
        return submitting.submit_generation(project=project, user=user, endpoint=endpoint, model=model,
                                          params=params)

    finished = []
    for i in range(3):
        finished.append(submit(owner, "text_to_image", "gen4_image", prompt_text=f"harbour {i}", ratio="1920:1080"))
    finished.append(submit(editor, "text_to_image", "gemini_2.5_flash", prompt_text="lighthouse",
                           ratio="1344:768"))
    speech = valid_params(catalog.get_model("text_to_speech", "eleven_multilingual_v2"))
    speech["prompt_text"] = "Good evening from the harbour. " * 4
    finished.append(submit(editor, "text_to_speech", "eleven_multilingual_v2", **speech))
    runway_emulator.inject_fault(task={"fail_code": "INTERNAL.BAD_OUTPUT.CODE01", "model": "gen4_image"})
    finished.append(submit(owner, "text_to_image", "gen4_image", prompt_text="refunded failure", ratio="1920:1080"))
    runway_emulator.inject_fault(task={"fail_code": "SAFETY.INPUT.TEXT", "model": "gemini_2.5_flash"})
    finished.append(submit(editor, "text_to_image", "gemini_2.5_flash", prompt_text="moderated", ratio="1344:768"))
    for g in finished:
        g = drive(g)
        assert g.is_finished, (g, g.status, g.attention_reason)

    runway_emulator.inject_fault(task={"hang": True, "model": "gen4_image"})
    hung = submit(owner, "text_to_image", "gen4_image", prompt_text="cancelled while running", ratio="1920:1080")
    run.run_generation(generation_id=hung.pk)
    poll.sweep_once()
    hung.refresh_from_db()
    assert hung.status == Status.RUNNING
    assert cancel.cancel_generation(generation=hung)

    statuses = sorted(g.status for g in [*(drive(g) for g in finished), hung])
    assert statuses.count(Status.SUCCEEDED) == 5 and statuses.count(Status.FAILED) == 2
    assert not ledger.open_holds(owner).exists() and not ledger.open_holds(editor).exists()

    days = sorted(set(LedgerEntry.objects.settled().values_list("usage_date", flat=True)))
    organization.sync_usage(start=days[0] - timedelta(days=1), before=days[-1] + timedelta(days=2))
    rows = organization.reconciliation(days)
    assert {r["model"] for r in rows} == {"gen4_image", "gemini_2.5_flash", "eleven_multilingual_v2"}
    for row in rows:
        assert row["runway"] == row["ledger"] and not row["flagged"], row
    assert sum(r["ledger"] for r in rows) > 0


def test_avatar_videos_and_routed_generations_reconcile_as_the_model_that_ran(project, owner, runway_emulator,
                                                                              media_root):
    """Runway's usage names the model its router chose; so does our ledger, and they agree."""
    ledger.grant(user=owner, amount=5000)
    router = library.create_router(project=project, user=owner, name="Cheap", description="",
                                   settings=runway.RouterSettings(optimize_for="cost"))

    def submit(endpoint, model, **params):
        return drive(submitting.submit_generation(project=project, user=owner, endpoint=endpoint, model=model,
                                                  params=params))

    made = [submit("generate_image", catalog.ROUTED, config_id=router.choice_value, prompt_text="a harbour"),
            submit("generate_video", catalog.ROUTED, config_id=router.choice_value, prompt_text="a ferry",
                   duration=5),
            submit("avatar_videos", "gwm1_avatars", avatar="influencer", speech_text="Hello from the harbour.")]
    assert [g.status for g in made] == [Status.SUCCEEDED] * 3
    ran = {c["id"]: c["model"] for c in runway_emulator.charges()}
    assert [g.model for g in made] == [ran[g.runway_task_id] for g in made]
    assert catalog.ROUTED not in ran.values()

    days = sorted(set(LedgerEntry.objects.settled().values_list("usage_date", flat=True)))
    organization.sync_usage(start=days[0] - timedelta(days=1), before=days[-1] + timedelta(days=2))
    rows = organization.reconciliation(days)
    assert {r["model"] for r in rows} == {g.model for g in made}
    for row in rows:
        assert row["runway"] == row["ledger"] > 0 and not row["flagged"], row
