"""Runway misbehaving under a real qcluster: rate limits, 5xx, latency, dropped connections,
expired output URLs, failed tasks, and an emulator restart that forgets every task.

Each generation must end finished or flagged for ops, a failure must say what
happened in words a person understands, and a generation that failed or was
lost must give its credits back (nothing left held).
"""

from __future__ import annotations

import pytest

from credits.models import Hold, HoldState
from generations import failures
from generations import submit as submitting
from generations.models import AT_RUNWAY, Generation, Status
from tests.faults.audit import audit, reply_faulted, settled
from tests.faults.harness import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Faults Runway's gateway throws at us while the first batch runs. (No dropped connection on
# /_files: the emulator drops it after a 200 with a JSON content type, which an output
# download rightly refuses as "not media" rather than retrying.)
HTTP_FAULTS = [
    {"path": "/v1/image_to_video", "method": "POST", "status": 429, "retry_after": 0.01, "count": 3},
    {"path": "/v1/image_to_video", "method": "POST", "status": 502, "count": 2},
    {"path": "/v1/image_to_video", "method": "POST", "status": 500, "after": True, "count": 1},
    {"path": "/v1/text_to_image", "method": "POST", "drop_connection": True, "after": True, "count": 1},
    {"path": "/v1/uploads", "method": "POST", "status": 503, "count": 2},
    {"path": "/v1/tasks/*", "method": "GET", "status": 503, "retry_after": 0.01, "count": 4},
    {"path": "/v1/tasks/*", "method": "GET", "status": 429, "retry_after": 0.01, "count": 4},
    {"path": "/v1/tasks/*", "method": "GET", "drop_connection": True, "count": 2},
    {"path": "/_files/*", "method": "GET", "status": 503, "count": 1},
    {"path": "/v1/tasks/*", "latency_ms": 200, "count": None},
    {"path": "/_files/*", "latency_ms": 200, "count": None},
]


def submit(project, user, still, prompt: str, *, image: bool = False) -> Generation:
    if image:
        return submitting.submit_generation(project=project, user=user, endpoint="text_to_image", model="gen4_image",
                                          params={"prompt_text": prompt, "ratio": "1280:720",
                                                  "reference_images": [still.pk]})
    return submitting.submit_generation(project=project, user=user, endpoint="image_to_video", model="gen4_turbo",
                                      params={"prompt_image": still.pk, "ratio": "1280:720", "duration": 5,
                                              "prompt_text": prompt})


def all_settled(generations) -> bool:
    return all(settled(g) for g in Generation.objects.filter(pk__in=[g.pk for g in generations]))


def test_runway_faults_end_finished_or_flagged_with_messages_and_credits_back(
        project, funded, still, cluster, emulator_process, media_root, chaos_report):
    control = emulator_process.control
    for fault in HTTP_FAULTS:
        control.inject_fault(**fault)
    chaos_report.add("faults_injected", sum(f["count"] or 1 for f in HTTP_FAULTS))
    plain = [submit(project, funded, still, f"harbour at dawn {i}", image=i % 3 == 2) for i in range(9)]
    expired = [submit(project, funded, still, f"harbour [expire] {i}") for i in range(2)]
    failing = [submit(project, funded, still, "harbour [fail:INTERNAL.BAD_OUTPUT.CODE01]"),
               submit(project, funded, still, "harbour [fail:SAFETY.INPUT.TEXT]")]
    chaos_report.add("faults_injected", len(expired) + len(failing))
    cluster.start()

    # Output URLs expire while copies are under way: the copy asks Runway for fresh ones.
    wait_for(lambda: Generation.objects.filter(status=Status.COPYING).exists(), timeout=60,
             what="a generation to reach COPYING:\n" + cluster.tail())
    control.expire_outputs()
    chaos_report.add("faults_injected")
    first = plain + expired + failing
    wait_for(lambda: all_settled(first), timeout=90, interval=0.25,
             what="the first batch to finish or be flagged:\n" + cluster.tail())

    # Runway restarts and forgets everything while tasks run there.
    control.clear_faults()
    hung = [submit(project, funded, still, f"harbour [hang] {i}") for i in range(3)]
    wait_for(lambda: Generation.objects.filter(pk__in=[g.pk for g in hung], status__in=AT_RUNWAY).count() == 3,
             timeout=60, what="the hung tasks to reach Runway:\n" + cluster.tail())
    # What Runway charged for every task so far: the first batch is settled, the hung ones still run.
    before_restart = control.charges()
    emulator_process.restart_losing_state()
    chaos_report.add("faults_injected")
    wait_for(lambda: all_settled(hung), timeout=60, interval=0.25,
             what="the lost tasks to fail:\n" + cluster.tail())
    cluster.kill()
    after_restart = control.charges()
    assert after_restart == []  # the restarted emulator remembers no task, and none was made since
    forgotten = {c["id"] for c in before_restart if c["status"] not in ("SUCCEEDED", "FAILED", "CANCELLED")}

    everything = first + hung
    result = audit(everything, charges=before_restart + after_restart, media_root=media_root,
                   forgotten=forgotten)
    chaos_report.add("generations_driven", result.generations)
    chaos_report.add("flagged_for_ops", result.flagged)
    chaos_report.add("charges_compared_with_runway", result.compared)
    chaos_report.add("runway_tasks_audited", result.tasks)
    chaos_report.add("lost_items", result.lost)
    chaos_report.note(f"emulator faults: {dict(sorted(result.by_status.items()))}; "
                      f"{len(result.orphans)} orphan task(s) from lost create answers")
    assert not result.problems, result.problems
    assert not result.mismatches, [str(m) for m in result.mismatches]
    # The two create calls whose answers were lost after Runway made the task (a 500 and a dropped
    # connection, both "after") left exactly two tasks no generation knows: those and no others.
    duplicates = reply_faulted(before_restart)
    assert len(duplicates) == 2, before_restart
    assert sorted(result.orphans) == sorted(duplicates)
    assert {g.runway_task_id for g in Generation.objects.filter(pk__in=[g.pk for g in hung])} <= forgotten

    for g in everything:
        g.refresh_from_db()
    # Four create calls that may have made a task — two gateway errors and two lost answers —
    # are flagged for ops and never sent again.
    flagged = [g for g in everything if g.needs_attention]
    assert len(flagged) <= 4
    assert all("unknown" in g.attention_reason for g in flagged)
    for g in expired:
        if not g.needs_attention:
            assert g.status == Status.FAILED and g.failure_code == "COPY.FAILED", g.failure_message
            assert g.failure_message.startswith("The result could not be saved")
    for g in failing:
        if not g.needs_attention:
            assert g.status == Status.FAILED
            assert g.failure_message == failures.human_failure(g.failure_code)
    for g in hung:
        assert g.status == Status.FAILED and g.failure_code == "TASK.LOST"
        assert "no longer has this task" in g.failure_message
        assert Hold.objects.get(generation=g).state == HoldState.RELEASED
    for g in plain:
        assert g.status == Status.SUCCEEDED or g.needs_attention, (g.status, g.failure_message)
    for g in everything:
        if g.status in (Status.FAILED, Status.CANCELLED):
            assert not Hold.objects.filter(generation=g, state=HoldState.OPEN).exists()
            assert g.failure_message and "Traceback" not in g.failure_message
