"""Operator actions on generations: each runs the app's workflow against the emulator and is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from credits import ledger
from credits.models import Kind, LedgerEntry
from generations import run
from generations.models import Generation, Status
from tests.ops.conftest import drive, flagged, submit

pytestmark = pytest.mark.django_db


def operate_url(g, op):
    return reverse("admin:generations_generation_operate", args=[g.pk, op])


def changelist_action(client, action, *generations):
    return client.post(reverse("admin:generations_generation_changelist"),
                       {"action": action, "_selected_action": [g.pk for g in generations], "index": 0})


def only_entry(action) -> AuditEntry:
    entry = AuditEntry.objects.get(action=action)
    assert entry.object_type == "generations.generation"
    return entry


def test_change_page_is_read_only_with_pretty_json_and_operate_buttons(ops_client, project, funded, image,
                                                                     runway_emulator):
    g = drive(submit(project, funded, image, prompt_text="<b>harbour</b> [fail:INTERNAL.BAD_OUTPUT.CODE01]"))
    assert g.status == Status.FAILED
    page = ops_client.get(reverse("admin:generations_generation_change", args=[g.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert '<pre class="ops-json">' in html and "&quot;promptImage&quot;" in html
    assert "<b>harbour</b>" not in html  # escaped
    assert 'name="_save"' not in html  # nothing to edit by hand
    assert operate_url(g, "retry") in html
    assert operate_url(g, "cancel") not in html


def test_retry_creates_a_new_generation_through_the_workflow(ops_client, operator, project, funded, image,
                                                          runway_emulator):
    g = drive(submit(project, funded, image, prompt_text="harbour [fail:INTERNAL.BAD_OUTPUT.CODE01]"))
    response = ops_client.post(operate_url(g, "retry"), {"note": "transient at Runway"})
    assert response.status_code == 302
    retried = Generation.objects.get(retry_of=g)
    assert retried.created_by == funded and retried.status == Status.QUEUED
    assert ledger.account_for(funded).held == retried.estimated_credits
    entry = only_entry("generation.retry")
    assert entry.actor == operator and entry.object_id == str(g.pk)
    assert f"#{retried.pk}" in entry.note and "transient at Runway" in entry.note
    assert entry.before["status"] == "FAILED"


def test_retry_of_a_safety_rejection_is_refused_and_logged(ops_client, project, funded, image, runway_emulator):
    g = drive(submit(project, funded, image, prompt_text="harbour [fail:SAFETY.INPUT.TEXT]"))
    changelist_action(ops_client, "retry_selected", g)
    assert not Generation.objects.filter(retry_of=g).exists()
    assert not AuditEntry.objects.filter(action__startswith="generation.").exists()  # not applicable: left alone


def test_cancel_deletes_the_runway_task_and_releases(ops_client, project, funded, image, runway_emulator):
    runway_emulator.freeze_clock(True)  # still waiting at Runway when cancelled, so refunded there and here
    runway_emulator.set_speed(1)
    g = submit(project, funded, image, prompt_text="[hang]")
    run.run_generation(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.PENDING
    response = changelist_action(ops_client, "cancel_selected", g)
    assert response.status_code == 302
    g.refresh_from_db()
    assert g.status == Status.CANCELLED
    assert runway_emulator.state()["tasks_by_status"] == {"DELETED": 1}
    account = ledger.account_for(funded)
    assert account.held == 0 and account.balance == 10_000
    entry = only_entry("generation.cancel")
    assert entry.before["status"] == "PENDING" and entry.after["status"] == "CANCELLED"
    assert entry.before["holds"][str(account.pk)]["state"] == "open"
    assert entry.after["holds"][str(account.pk)]["state"] == "released"


def test_resolve_as_submitted_records_the_task_and_it_completes(ops_client, operator, project, funded, image,
                                                               runway_emulator):
    g = flagged(project, funded, image, runway_emulator)
    task = runway_emulator.seed_task(status="SUCCEEDED", endpoint="image_to_video", model="gen4_turbo",
                                     ratio="1280:720", duration=5)
    form = ops_client.get(operate_url(g, "resolve-submitted"))
    assert form.status_code == 200 and b"Runway task id" in form.content
    response = ops_client.post(operate_url(g, "resolve-submitted"), {"task_id": task["id"]})
    assert response.status_code == 302
    g.refresh_from_db()
    assert g.runway_task_id == task["id"] and not g.needs_attention and g.status == Status.PENDING
    g = drive(g)
    assert g.status == Status.SUCCEEDED and g.outputs.count() == 1
    entry = only_entry("generation.resolve-submitted")
    assert entry.before["runway_task_id"] == "" and entry.before["needs_attention"] is True
    assert entry.after["runway_task_id"] == task["id"]


@pytest.mark.parametrize(("value", "message"), [("", b"This field is required"), ("task-123", b"not a Runway task id")])
def test_resolve_as_submitted_needs_a_task_id(value, message, ops_client, project, funded, image, runway_emulator):
    g = flagged(project, funded, image, runway_emulator)
    response = ops_client.post(operate_url(g, "resolve-submitted"), {"task_id": value})
    assert response.status_code == 400 and message in response.content
    g.refresh_from_db()
    assert g.needs_attention and g.status == Status.SUBMITTING
    assert not AuditEntry.objects.filter(action__startswith="generation.").exists()


def test_resolve_submitted_action_on_the_list_leads_to_the_form(ops_client, project, funded, image, runway_emulator):
    g = flagged(project, funded, image, runway_emulator)
    response = changelist_action(ops_client, "resolve_submitted_selected", g)
    assert response.status_code == 302 and response["Location"] == operate_url(g, "resolve-submitted")


def test_resolve_as_failed_releases_the_hold(ops_client, project, funded, image, runway_emulator):
    g = flagged(project, funded, image, runway_emulator)
    assert ledger.account_for(funded).held == g.estimated_credits
    response = ops_client.post(operate_url(g, "resolve-failed"), {"note": "no task at Runway"})
    assert response.status_code == 302
    g.refresh_from_db()
    assert g.status == Status.FAILED and g.failure_code == "SUBMIT.UNCONFIRMED" and not g.needs_attention
    account = ledger.account_for(funded)
    assert account.held == 0 and account.balance == 10_000
    entry = only_entry("generation.resolve-failed")
    assert entry.before["status"] == "SUBMITTING" and entry.after["status"] == "FAILED"
    assert "no task at Runway" in entry.note


def test_refund_writes_a_refund_entry_once(ops_client, operator, project, funded, image, runway_emulator):
    g = drive(submit(project, funded, image))
    assert g.status == Status.SUCCEEDED
    charged = ledger.account_for(funded).balance
    changelist_action(ops_client, "refund_selected", g)
    changelist_action(ops_client, "refund_selected", g)  # a second refund finds nothing to give back
    refund = LedgerEntry.objects.get(kind=Kind.REFUND, generation=g)
    assert refund.by == operator and refund.credits == g.cost_credits
    assert ledger.account_for(funded).balance == charged + g.cost_credits
    entry = only_entry("generation.refund")
    assert entry.before["holds"] != entry.after["holds"]


def test_flagged_generations_have_a_filter_and_a_badge(ops_client, project, funded, image, runway_emulator):
    g = flagged(project, funded, image, runway_emulator)
    done = drive(submit(project, funded, image))
    page = ops_client.get(reverse("admin:generations_generation_changelist") + "?needs_attention=yes")
    html = page.content.decode()
    assert "needs attention</span>" in html
    assert f"/{g.pk}/change/" in html and f"/{done.pk}/change/" not in html


def test_search_by_task_id_and_prompt(ops_client, project, funded, image, runway_emulator):
    g = drive(submit(project, funded, image, prompt_text="lighthouse at dusk"))
    other = drive(submit(project, funded, image, prompt_text="a quiet forest"))
    url = reverse("admin:generations_generation_changelist")
    for q in (g.runway_task_id, "lighthouse"):
        html = ops_client.get(url, {"q": q}).content.decode()
        assert f"/{g.pk}/change/" in html and f"/{other.pk}/change/" not in html


def test_staff_without_change_permission_cannot_operate(project, funded, image, plain_staff, runway_emulator):
    from django.contrib.auth.models import Permission

    from tests.conftest import client_for

    plain_staff.user_permissions.add(Permission.objects.get(codename="view_generation"))
    g = drive(submit(project, funded, image, prompt_text="harbour [fail:INTERNAL.BAD_OUTPUT.CODE01]"))
    client = client_for(plain_staff)
    assert client.get(reverse("admin:generations_generation_change", args=[g.pk])).status_code == 200
    assert client.post(operate_url(g, "retry")).status_code == 403
    changelist_action(client, "retry_selected", g)
    assert not Generation.objects.filter(retry_of=g).exists()
