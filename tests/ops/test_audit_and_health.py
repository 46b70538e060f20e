"""The audit log's list and CSV export, and the queue-health figures."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from audit.log import record
from credits import ledger
from credits.models import OrgSnapshot
from generations.models import Generation, Status
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_csv_export_streams_the_filtered_log(ops_client, operator, owner, project):
    record(actor=operator, action="generation.cancel", obj=project, before={"status": "RUNNING"},
           after={"status": "CANCELLED"}, note="stuck for an hour")
    record(actor=operator, action="user.deactivate", obj=owner, before={"is_active": True},
           after={"is_active": False}, note="=HYPERLINK(\"http://evil\")")
    rows = [r for r in read_csv(ops_client.get(reverse("admin:audit_auditentry_export")))
            if r["action"] != "project.create"]  # the personas' own spaces, made by the fixtures
    assert [r["action"] for r in rows] == ["user.deactivate", "generation.cancel"]
    cancel = rows[1]
    assert cancel["actor"] == "opal" and cancel["object_type"] == "accounts.project"
    assert cancel["changed"] == "status" and '"CANCELLED"' in cancel["after"]
    assert rows[0]["note"].startswith("'=")  # spreadsheet formulas are defused

    only = read_csv(ops_client.get(reverse("admin:audit_auditentry_export"), {"action": "generation.cancel"}))
    assert [r["action"] for r in only] == ["generation.cancel"]


def test_csv_action_on_selected_entries(ops_client, operator, project):
    entries = [record(actor=operator, action=f"test.{i}", obj=project) for i in range(3)]
    response = ops_client.post(reverse("admin:audit_auditentry_changelist"),
                               {"action": "download_csv", "_selected_action": [entries[0].pk], "index": 0})
    assert [r["action"] for r in read_csv(response)] == ["test.0"]


def test_audit_log_is_read_only_and_browsable(ops_client, superuser, operator, project):
    entry = record(actor=operator, action="project.budget", obj=project, before={"budget": None},
                   after={"budget": 500})
    html = ops_client.get(reverse("admin:audit_auditentry_changelist")).content.decode()
    assert "project.budget" in html and "Download CSV" in html
    root = client_for(superuser)
    assert root.get(reverse("admin:audit_auditentry_add")).status_code == 403
    page = root.get(reverse("admin:audit_auditentry_change", args=[entry.pk])).content.decode()
    assert "&quot;budget&quot;: 500" in page and 'name="_save"' not in page


def make(project, user, status, *, model="gen4_turbo", minutes_ago=0, **fields) -> Generation:
    when = timezone.now() - timedelta(minutes=minutes_ago)
    g = Generation.objects.create(project=project, created_by=user, endpoint="image_to_video", model=model,
                                  status=status, created_at=when, estimated_credits=10, **fields)
    Generation.objects.filter(pk=g.pk).update(updated_at=when)
    return g


def test_queue_health_figures(ops_client, project, owner, runway_emulator, django_assert_max_num_queries,
                              monkeypatch):
    # A queue of this test's own: on Redis, other tests (and other workers) leave their jobs in the shared one.
    name = f"takes-health-{secrets.token_hex(4)}"
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    monkeypatch.setattr(Conf, "PREFIX", name)
    now = timezone.now()
    oldest = make(project, owner, Status.RUNNING, minutes_ago=95)
    make(project, owner, Status.RUNNING)
    make(project, owner, Status.SUBMITTING, needs_attention=True, attention_reason="outcome unknown")
    for _ in range(3):
        make(project, owner, Status.THROTTLED)
    make(project, owner, Status.THROTTLED, model="gen4_aleph")
    make(project, owner, Status.FAILED, failure_code="SAFETY.INPUT.TEXT", finished_at=now - timedelta(minutes=5))
    make(project, owner, Status.FAILED, failure_code="SAFETY.INPUT.TEXT", finished_at=now - timedelta(minutes=9))
    make(project, owner, Status.FAILED, failure_code="INTERNAL", finished_at=now - timedelta(minutes=30))
    make(project, owner, Status.FAILED, failure_code="INTERNAL", finished_at=now - timedelta(hours=3))
    OrgSnapshot.objects.create(taken_at=now - timedelta(minutes=4), credit_balance=12345, models_data={
        "gen4_turbo": {"max_concurrent": 2, "max_daily": 50, "daily": 7},
    })
    ledger.grant(user=owner, amount=100)

    with django_assert_max_num_queries(16):
        response = ops_client.get(reverse("admin:ops_queue_health"))
    health = response.context["health"]
    assert health.in_flight == 7 and health.attention == 1 and health.stale == 1
    assert {r["status"]: r["n"] for r in health.by_status if r["n"]} == {"RUNNING": 2, "SUBMITTING": 1,
                                                                           "THROTTLED": 4}
    assert health.oldest == oldest and health.now - health.oldest.created_at >= timedelta(minutes=95)
    assert [(f["code"], f["n"]) for f in health.failures] == [("SAFETY.INPUT.TEXT", 2), ("INTERNAL", 1)]
    turbo = next(m for m in health.models if m["model"] == "gen4_turbo")
    assert (turbo["throttled"], turbo["running"], turbo["max_concurrent"], turbo["at_limit"]) == (3, 2, 2, True)
    aleph = next(m for m in health.models if m["model"] == "gen4_aleph")
    assert aleph["throttled"] == 1 and aleph["max_concurrent"] is None
    assert health.queue_length == 0 and health.failed_tasks == 0
    assert not health.sync_stale and health.uses_emulator

    html = response.content.decode()
    assert "1 need attention →" in html and "?needs_attention=yes" in html
    assert "Emulator" in html and "12,345" in html
    assert "status__exact=THROTTLED&amp;model__exact=gen4_turbo" in html

    # The links lead to the matching rows.
    listed = ops_client.get(reverse("admin:generations_generation_changelist"), {"needs_attention": "yes"})
    assert listed.context["cl"].result_count == 1


def test_queue_health_query_count_does_not_grow(ops_client, project, owner, django_assert_num_queries):
    for status in (Status.RUNNING, Status.THROTTLED, Status.PENDING):
        make(project, owner, status)
    url = reverse("admin:ops_queue_health")
    ops_client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        ops_client.get(url)
    for i in range(20):
        make(project, owner, Status.THROTTLED, model=f"model_{i % 5}")
        make(project, owner, Status.FAILED, failure_code=f"CODE{i}", finished_at=timezone.now())
    with django_assert_num_queries(len(few)):
        ops_client.get(url)


def test_queue_health_counts_the_task_queue_and_failed_tasks(ops_client, superuser, monkeypatch):
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import Failure

    # A queue of this test's own, on whichever broker the suite runs (ORM or Redis).
    monkeypatch.setattr(Conf, "CLUSTER_NAME", f"takes-health-{timezone.now().timestamp():.0f}")
    broker = get_broker()
    broker.purge_queue()
    broker.enqueue("a queued job")
    Failure.objects.create(id="a" * 32, name="alpha", func="generations.tasks.run_generation",
                           started=timezone.now(), stopped=timezone.now(), success=False)
    health = ops_client.get(reverse("admin:ops_queue_health")).context["health"]
    assert health.queue_length == 1 and health.failed_tasks == 1
    html = client_for(superuser).get(reverse("admin:ops_queue_health")).content.decode()
    assert reverse("admin:django_q_failure_changelist") in html
    assert reverse("admin:django_q_failure_changelist") not in ops_client.get(
        reverse("admin:ops_queue_health")).content.decode()
    broker.purge_queue()

