"""What Runway answers, judged right: create outcomes, malformed replies, too many outputs, late creates.

Each test makes the emulator misbehave the way Runway (or the network) was seen to, and
drives the real pipeline steps through the real SDK; the emulator's own record of the
tasks it created is the truth for "how many tasks did Runway run".
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from credits import ledger
from credits.models import Hold, HoldState
from generations import cancel, copy, poll, resolve, run
from generations import submit as submitting
from generations.models import Generation, Output, Status
from tests.factories import drive
from tests.faults.harness import free_port

pytestmark = pytest.mark.django_db


def submit(project, user, image, **params) -> Generation:
    return submitting.submit_generation(project=project, user=user, endpoint="image_to_video", model="gen4_turbo",
                                        params={"prompt_image": image.pk, "ratio": "1280:720", "duration": 5,
                                                **params})


def text_to_image(project, user, prompt: str = "a lighthouse") -> Generation:
    return submitting.submit_generation(project=project, user=user, endpoint="text_to_image", model="gen4_image",
                                        params={"prompt_text": prompt, "ratio": "1920:1080"})


def tasks_created(control) -> int:
    return sum(control.state()["tasks_created"].values())


# --- create outcomes ---------------------------------------------------------------------------


def test_a_refused_connection_sent_nothing_so_the_submission_is_retried_not_flagged(
        project, funded, image, runway_emulator, settings):
    g = submit(project, funded, image)
    settings.RUNWAY_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    run.run_generation(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.QUEUED and not g.needs_attention, g.attention_reason
    assert g.step_errors == 1 and g.next_poll_at is not None


def test_a_502_after_runway_created_the_task_is_flagged_never_sent_again(project, funded, image, runway_emulator):
    runway_emulator.inject_fault(path="/v1/image_to_video", method="POST", status=502, after=True, count=5)
    generations = [submit(project, funded, image, prompt_text=f"take {i}") for i in range(3)]
    for g in generations:
        for _ in range(3):  # the job delivered again, the watchdog, a second worker…
            run.run_generation(generation_id=g.pk)
    assert tasks_created(runway_emulator) == 3  # one task each, not six
    for g in generations:
        g.refresh_from_db()
        assert g.status == Status.SUBMITTING and g.needs_attention, g.status
        assert "outcome unknown" in g.attention_reason
        assert g.request_payload["prompt_text"] == g.prompt  # ops see the request that was sent
    assert Hold.objects.filter(state=HoldState.OPEN).count() == 3  # nothing released while Runway may bill


def test_a_429_on_create_is_not_a_task_and_waits_as_told(project, funded, image, runway_emulator):
    runway_emulator.inject_fault(path="/v1/image_to_video", method="POST", status=429, retry_after=7)
    g = submit(project, funded, image)
    run.run_generation(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.QUEUED and not g.needs_attention
    assert (g.next_poll_at - g.updated_at).total_seconds() >= 6.5
    assert tasks_created(runway_emulator) == 0


# --- the fence ---------------------------------------------------------------------------------


def test_the_task_id_is_kept_whatever_else_in_the_create_answer_is_wrong(project, funded, image, runway_emulator):
    # A negative estimate once crashed the hold resize between the call and recording the task id.
    runway_emulator.inject_fault(task={"create_reply": {"estimatedCost": {"credits": -5}}})
    g = submit(project, funded, image)
    run.run_generation(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.PENDING and g.runway_task_id
    assert ledger.account_for(funded).held == 25  # our own estimate stays the hold
    g = drive(g)
    assert g.status == Status.SUCCEEDED and g.outputs.count() == 1


# --- replies that are not a task ---------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    {"reply": {"progress": "a lot"}},
    {"reply": {"status": "EXPLODED"}},
    {"reply": {"cost": {"credits": -3}}},
    {"reply": {"output": "https://example.com/one.png"}},
    {"reply_body": "null"},
    {"reply_body": "<html>gateway</html>"},
    {"reply_body": '{"status": "SUCCEEDED", "progress": 1, "output": [], "cost": {"credits": Infinity}}'},
    {"reply_body": '{"status": "RUNNING", "progress": NaN}'},
])
def test_a_malformed_reply_touches_only_its_own_generation(project, funded, runway_emulator, reply):
    runway_emulator.inject_fault(task=reply)
    broken = text_to_image(project, funded, "the broken one")
    healthy = [text_to_image(project, funded, f"healthy {i}") for i in range(2)]
    for g in [broken, *healthy]:
        run.run_generation(generation_id=g.pk)
    for _ in range(poll.MALFORMED_LIMIT):
        due = Generation.objects.exclude(next_poll_at=None).order_by("-next_poll_at").first()
        stats = poll.sweep_once(now=due.next_poll_at)
        assert stats.polled >= 1
        for g in Generation.objects.filter(status=Status.COPYING):
            copy.copy_outputs(generation_id=g.pk)
    for g in healthy:
        g.refresh_from_db()
        assert g.status == Status.SUCCEEDED, (g.status, g.failure_message)
    broken.refresh_from_db()
    assert broken.status == Status.FAILED and broken.failure_code == "TASK.MALFORMED"
    assert "not a task" in broken.failure_message
    assert broken.bad_replies == poll.MALFORMED_LIMIT


def test_outputs_are_capped_at_what_the_model_can_make(project, funded, runway_emulator):
    runway_emulator.inject_fault(task={"outputs": 300})
    g = drive(text_to_image(project, funded))
    assert g.status == Status.SUCCEEDED
    assert len(g.task_json["output"]) == 300  # what Runway said, kept as it said it
    assert Output.objects.filter(generation=g).count() == 1
    assert ledger.account_for(funded).held == 0


# --- cancels, flags and ops ----------------------------------------------------------------------


def test_a_flagged_submission_cannot_be_cancelled_by_its_member(project, funded, image, runway_emulator,
                                                                owner_client):
    runway_emulator.inject_fault(path="/v1/image_to_video", method="POST", status=500, after=True)
    g = submit(project, funded, image)
    run.run_generation(generation_id=g.pk)
    g.refresh_from_db()
    assert g.is_flagged and not g.can_cancel
    with pytest.raises(submitting.SubmissionError, match="waiting for ops"):
        cancel.cancel_generation(generation=g)
    response = owner_client.post(f"/p/{project.slug}/generations/{g.pk}/cancel/")
    assert response.status_code == 409 and b"waiting for ops" in response.content
    g.refresh_from_db()
    assert g.status == Status.SUBMITTING and Hold.objects.get(generation=g, account__user=funded).state == "open"


def test_resolve_as_submitted_refuses_a_task_that_is_not_there_or_is_someone_elses(
        project, funded, image, runway_emulator):
    runway_emulator.inject_fault(path="/v1/image_to_video", method="POST", status=500, after=True, count=2)
    first, second = submit(project, funded, image), submit(project, funded, image)
    for g in (first, second):
        run.run_generation(generation_id=g.pk)
        g.refresh_from_db()
        assert g.is_flagged
    with pytest.raises(submitting.SubmissionError, match="has no task"):
        resolve.resolve_as_submitted(generation=first, task_id="4f6c1c2e-9a3b-4d1e-8f3a-2b7c6d5e4f10")
    seeded = runway_emulator.seed_task(status="RUNNING", model="gen4_turbo", endpoint="image_to_video",
                                       ratio="1280:720", duration=5)
    assert resolve.resolve_as_submitted(generation=first, task_id=seeded["id"])
    with pytest.raises(submitting.SubmissionError, match="already belongs to generation"):
        resolve.resolve_as_submitted(generation=second, task_id=seeded["id"])
    second.refresh_from_db()
    assert second.is_flagged and not second.runway_task_id
    first.refresh_from_db()
    assert first.status == Status.PENDING and first.runway_task_id == seeded["id"]


def test_a_late_create_after_a_cancel_is_deleted_even_when_the_first_delete_fails(
        project, funded, image, runway_emulator):
    g = submit(project, funded, image)
    run.run_generation(generation_id=g.pk)  # uploaded and created
    g.refresh_from_db()
    task_id = g.runway_task_id
    # As if the person cancelled while the create call was still in flight.
    Generation.objects.filter(pk=g.pk).update(status=Status.CANCELLED, runway_task_id="")
    # Three refusals: the SDK's own two retries of the first attempt do not get through either.
    runway_emulator.inject_fault(path=f"/v1/tasks/{task_id}", method="DELETE", status=503, count=3)
    cancel.created_after_cancel(g, task_id)
    g.refresh_from_db()
    assert g.needs_attention and g.attention_reason == cancel.CREATED_AFTER_CANCEL
    assert runway_emulator.state()["tasks_by_status"].get("DELETED", 0) == 0  # still running at Runway
    stats = poll.sweep_once(now=timezone.now() + timedelta(minutes=5))  # once its backoff has passed
    assert stats.deleted == 1
    g.refresh_from_db()
    assert not g.needs_attention and g.runway_task_id == task_id
    assert runway_emulator.state()["tasks_by_status"] == {"DELETED": 1}
    assert poll.sweep_once(now=timezone.now() + timedelta(minutes=10)).deleted == 0


# --- copies -------------------------------------------------------------------------------------


def test_a_copy_claims_its_generation_so_a_second_job_does_nothing(project, funded, runway_emulator):
    g = text_to_image(project, funded)
    run.run_generation(generation_id=g.pk)
    poll.sweep_once(now=timezone.now() + timedelta(seconds=10))
    g.refresh_from_db()
    assert g.status == Status.COPYING
    token = g.claim(Status.COPYING, stale_after=copy.claim_stale_after())  # a worker is copying it now
    copy.copy_outputs(generation_id=g.pk)  # the same job, delivered again
    g.refresh_from_db()
    assert g.status == Status.COPYING and not g.outputs.exists()
    assert runway_emulator.state()["requests"].get("GET /_files/{task_id}/{name}", 0) == 0
    # The poller leaves it alone while the claim is fresh, and resumes it once the claim is stale.
    assert poll.resume_stalled(now=timezone.now() + copy.claim_stale_after() / 2) == (0, 0)
    Generation.objects.filter(pk=g.pk).update(claimed_at=timezone.now() - copy.claim_stale_after()
                                              - timedelta(seconds=1))
    assert token and poll.resume_stalled(now=timezone.now() + 2 * copy.claim_stale_after())[0] == 1
    copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED and g.step_errors == 2  # the dead attempt counted


def test_a_copy_attempt_counts_when_it_starts_and_clears_what_dead_attempts_left(
        project, funded, runway_emulator, settings, tmp_path):
    settings.DOWNLOADS_DIR = tmp_path / "downloads"
    settings.DOWNLOADS_DIR.mkdir()
    g = text_to_image(project, funded)
    run.run_generation(generation_id=g.pk)
    poll.sweep_once(now=timezone.now() + timedelta(seconds=10))
    g.refresh_from_db()
    leftover = settings.DOWNLOADS_DIR / f"{copy.temp_prefix(g)}dead-attempt"
    leftover.write_bytes(b"half an output")
    stale = time.time() - copy.CLAIM_STALE - 1
    os.utime(leftover, (stale, stale))  # written to last by a worker that died a while ago
    fresh = settings.DOWNLOADS_DIR / f"{copy.temp_prefix(g)}live-elsewhere"
    fresh.write_bytes(b"another process is writing this right now")
    frames = settings.DOWNLOADS_DIR / f"{copy.temp_prefix(g)}dead.zip.frames-abc"  # a sequence it was unpacking
    frames.mkdir()
    (frames / "00001.png").write_bytes(b"a frame")
    os.utime(frames, (stale, stale))
    # Every earlier attempt was killed mid-way: the next one is the last allowed, then it gives up.
    Generation.objects.filter(pk=g.pk).update(step_errors=copy.COPY_ATTEMPTS)
    copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.FAILED and g.failure_code == "COPY.FAILED" and "attempts" in g.failure_message
    assert not leftover.exists() and not frames.exists() and fresh.exists()  # the dead attempt's files only
    fresh.unlink()
    assert not g.claim_token
    # Runway made and billed it: the charge stands even though the copy failed.
    assert Hold.objects.get(generation=g, account__user=funded).state == HoldState.SETTLED


def test_a_failed_download_leaves_no_temporary_file(project, funded, runway_emulator, settings, tmp_path):
    settings.DOWNLOADS_DIR = tmp_path / "downloads"
    settings.DOWNLOADS_DIR.mkdir()
    runway_emulator.inject_fault(path="/_files/*", method="GET", status=503, count=1)
    g = text_to_image(project, funded)
    run.run_generation(generation_id=g.pk)
    poll.sweep_once(now=timezone.now() + timedelta(seconds=10))
    copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.COPYING and g.step_errors == 1 and not g.claim_token
    assert not list(settings.DOWNLOADS_DIR.iterdir())
    copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED and not list(settings.DOWNLOADS_DIR.iterdir())
