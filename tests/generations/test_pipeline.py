"""The pipeline end to end against the emulator, through the real SDK, with crashes and faults."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from assets import media
from credits import ledger
from generations import cancel, copy, failures, poll, poller, run
from generations import submit as submitting
from generations.models import Generation, Lease, Output, Status
from runway import catalog, downloads
from tests.factories import drive, make_asset
from tests.generations.catalog_cases import valid_params

pytestmark = pytest.mark.django_db(transaction=False)

LATER = timedelta(minutes=10)


def submit(project, user, endpoint, model, **params):
    return submitting.submit_generation(project=project, user=user, endpoint=endpoint, model=model, params=params)




def tasks_created(control) -> int:
    return sum(control.state()["tasks_created"].values())


def test_image_to_video_end_to_end(project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720",
               duration=5, prompt_text="A slow push in on the harbour")
    assert g.status == Status.QUEUED
    assert ledger.account_for(funded).held == 25

    run.run_generation(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.PENDING and g.runway_task_id
    assert g.request_payload["promptImage"][0]["uri"].startswith("runway://")
    assert g.request_payload["model"] == "gen4_turbo"

    g = drive(g)
    assert g.status == Status.SUCCEEDED, g.failure_message
    output = g.outputs.get()
    assert output.kind == "video" and output.content_type == "video/mp4"
    assert abs(output.duration - 5) < 0.5
    assert output.width * 720 == output.height * 1280
    assert output.thumbnail
    with output.file.open("rb") as fp:
        assert fp.read(12)[4:8] == b"ftyp"
    assert tasks_created(runway_emulator) == 1
    account = ledger.account_for(funded)
    assert account.held == 0
    assert g.cost_credits is not None
    assert account.balance == ledger.account_for(funded).balance


@pytest.mark.every_model
@pytest.mark.parametrize("spec", [m for m in catalog.all_models() if not m.routed],  # routed: needs a router,
                         ids=lambda m: f"{m.endpoint}-{m.id}")  # test_avatars_and_routing runs them
def test_every_model_runs_end_to_end(spec, project, funded, tmp_path, media_root, runway_emulator):
    params = valid_params(spec)
    for f in spec.fields:
        value = params.get(f.name)
        if f.kind == "asset" and isinstance(value, str):
            params[f.name] = make_asset(project, funded, value, tmp_path / f.name).pk
        elif f.kind == "assets" and isinstance(value, list):
            params[f.name] = [make_asset(project, funded, v, tmp_path / f"{f.name}{i}").pk
                              for i, v in enumerate(value)]
    g = drive(submit(project, funded, spec.endpoint, spec.id, **params))
    assert g.status == Status.SUCCEEDED, (g.failure_message, g.runway_failure)
    # The hold followed Runway's own estimate from the create response (an avatar video's answer
    # is its id alone: there the hold is ours, and it is what Runway kept).
    if "estimatedCost" in g.create_response:
        assert g.estimated_credits == math.ceil(g.create_response["estimatedCost"]["credits"])
    else:
        assert g.estimated_credits == g.cost_credits == runway_emulator.charges()[0]["charged"]
    outputs = list(g.outputs.all())
    assert outputs and all(o.kind == catalog.get_endpoint(spec.endpoint).output_kind for o in outputs)
    for o in outputs:
        assert default_storage.exists(o.file.name)
    assert tasks_created(runway_emulator) == 1


def test_upload_uri_is_reused_while_valid(project, funded, image, runway_emulator):
    for _ in range(2):
        drive(submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720",
                     duration=5))
    assert runway_emulator.state()["uploads"] == 1
    image.refresh_from_db()
    image.runway_uri_expires_at = timezone.now() + timedelta(minutes=30)
    image.save()
    drive(submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720",
                 duration=5))
    assert runway_emulator.state()["uploads"] == 2


# --- crash and resume ----------------------------------------------------------

STEPS = ["queued", "uploaded", "submitting", "at_runway", "copying", "copied_one"]


@pytest.mark.parametrize("crash_after", STEPS)
def test_crash_between_steps_resumes_with_one_task(crash_after, project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720",
               duration=5)
    if crash_after in ("uploaded", "submitting", "at_runway", "copying", "copied_one"):
        assert g.transition(Status.QUEUED, Status.UPLOADING)
        run.upload_inputs(generation=g)
    if crash_after in ("submitting",):
        # The worker died after committing SUBMITTING, before (or during) the create call.
        assert g.transition(Status.UPLOADING, Status.SUBMITTING)
    if crash_after in ("at_runway", "copying", "copied_one"):
        assert g.transition(Status.UPLOADING, Status.SUBMITTING)
        run.submit_to_runway(generation=g)
    if crash_after in ("copying", "copied_one"):
        poll.sweep_once(now=timezone.now() + LATER)
    g.refresh_from_db()
    if crash_after == "copied_one":
        assert g.status == Status.COPYING
        urls = g.task_json["output"]
        path = downloads.fetch_to_temp(urls[0])
        copy._store_output(g, 0, path)
        path.unlink()

    # Everything a restarted cluster and poller do: resume what went stale, then the queued jobs.
    poll.resume_stalled(now=timezone.now() + LATER)
    g = drive(g)

    if crash_after == "submitting":
        assert g.needs_attention and g.status == Status.SUBMITTING
        assert tasks_created(runway_emulator) == 0
        assert ledger.account_for(funded).held == g.estimated_credits  # ops decide
    else:
        assert g.status == Status.SUCCEEDED
        assert tasks_created(runway_emulator) == 1
        assert Output.objects.filter(generation=g).count() == 1
        assert ledger.account_for(funded).held == 0


def test_steps_run_twice_are_harmless(project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720",
               duration=5)
    run.run_generation(generation_id=g.pk)
    run.run_generation(generation_id=g.pk)  # at-least-once delivery
    poll.sweep_once(now=timezone.now() + LATER)
    copy.copy_outputs(generation_id=g.pk)
    copy.copy_outputs(generation_id=g.pk)
    poll.sweep_once(now=timezone.now() + LATER)
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED
    assert tasks_created(runway_emulator) == 1
    assert g.outputs.count() == 1
    settled = ledger.account_for(funded)
    assert settled.held == 0


def test_fresh_submission_in_progress_is_not_flagged(project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    Generation.objects.filter(pk=g.pk).update(status=Status.SUBMITTING)  # a worker is in the create call
    run.run_generation(generation_id=g.pk)  # a duplicate job arriving mid-call
    g.refresh_from_db()
    assert not g.needs_attention
    run.run_generation(generation_id=g.pk, now=timezone.now() + LATER)
    g.refresh_from_db()
    assert g.needs_attention and "submission" in g.attention_reason


# --- faults ----------------------------------------------------------------------

def test_429_on_create_backs_off_then_succeeds(project, funded, image, runway_emulator):
    runway_emulator.inject_fault(path="/v1/image_to_video", status=429, retry_after=7, count=1)
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    run.run_generation(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.QUEUED and g.step_errors == 1
    assert g.next_poll_at >= timezone.now() + timedelta(seconds=6)
    run.run_generation(generation_id=g.pk, now=timezone.now())  # too early: still backing off
    g.refresh_from_db()
    assert g.status == Status.QUEUED
    g = drive(g)
    assert g.status == Status.SUCCEEDED
    assert tasks_created(runway_emulator) == 1


@pytest.mark.parametrize("status", [502, 503])
def test_a_gateway_error_on_create_may_hide_a_task_so_it_is_flagged_not_repeated(
        status, project, funded, image, runway_emulator):
    # Before or after Runway took the request, the client sees the same answer.
    runway_emulator.inject_fault(path="/v1/image_to_video", status=status, count=2)
    g = drive(submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720"),
              rounds=10)
    assert g.status == Status.SUBMITTING and g.needs_attention and "outcome unknown" in g.attention_reason
    assert runway_emulator.state()["requests"].get("POST /v1/image_to_video") == 1


@pytest.mark.parametrize("fault", [{"status": 500, "after": True}, {"drop_connection": True, "after": True}])
def test_uncertain_create_is_flagged_not_resubmitted(fault, project, funded, image, runway_emulator):
    runway_emulator.inject_fault(path="/v1/image_to_video", count=1, **fault)
    g = drive(submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720"))
    assert g.status == Status.SUBMITTING and g.needs_attention
    assert "unknown" in g.attention_reason
    poll.resume_stalled(now=timezone.now() + LATER)
    assert tasks_created(runway_emulator) == 1  # the emulator took it; we never sent a second


def test_bad_request_fails_and_releases(project, funded, image, runway_emulator):
    runway_emulator.inject_fault(path="/v1/image_to_video", status=400, count=1)
    g = drive(submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720"))
    assert g.status == Status.FAILED and g.failure_code == "REQUEST.REJECTED"
    assert ledger.account_for(funded).held == 0
    assert tasks_created(runway_emulator) == 0


@pytest.mark.parametrize(
    ("code", "family"),
    [("SAFETY.INPUT.TEXT", "safety"), ("ASSET.INVALID", "input"), ("INTERNAL.BAD_OUTPUT.CODE01", "internal")],
)
def test_failed_tasks_get_human_messages(code, family, project, funded, image, runway_emulator):
    g = drive(submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720",
                     prompt_text=f"harbour [fail:{code}]"))
    assert g.status == Status.FAILED
    assert g.failure_code == code and g.failure_family == family
    assert g.failure_message == failures.FAILURE_MESSAGES[family]
    assert g.can_retry is (family != "safety")
    assert ledger.account_for(funded).held == 0


def test_throttled_then_released(project, funded, image, runway_emulator):
    runway_emulator.set_tier(1, {"gen4_turbo": {"maxConcurrentGenerations": 1, "maxDailyGenerations": 50}})
    runway_emulator.freeze_clock(True)
    runway_emulator.set_speed(1)
    first = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    second = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    for g in (first, second):
        run.run_generation(generation_id=g.pk)
    poll.sweep_once(now=timezone.now() + LATER)
    second.refresh_from_db()
    assert second.status == Status.THROTTLED
    assert second.queue_position() == 1
    runway_emulator.advance_clock(600)
    runway_emulator.freeze_clock(False)
    runway_emulator.set_speed(0)
    assert drive(first).status == Status.SUCCEEDED
    assert drive(second).status == Status.SUCCEEDED


def test_hung_task_can_be_cancelled_and_is_charged_only_if_running(project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720",
               prompt_text="[hang]")
    run.run_generation(generation_id=g.pk)
    poll.sweep_once(now=timezone.now() + LATER)
    g.refresh_from_db()
    assert g.status in (Status.RUNNING, Status.PENDING)
    was_running = g.status == Status.RUNNING
    before = ledger.account_for(funded).balance
    assert cancel.cancel_generation(generation=g)
    g.refresh_from_db()
    assert g.status == Status.CANCELLED
    account = ledger.account_for(funded)
    assert account.held == 0
    assert account.balance == (before if was_running else before + g.estimated_credits)
    assert not cancel.cancel_generation(generation=g)


def test_expired_output_urls_are_refreshed(project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    run.run_generation(generation_id=g.pk)
    poll.sweep_once(now=timezone.now() + LATER)
    runway_emulator.expire_outputs()
    copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED
    assert g.outputs.count() == 1


def test_emulator_restart_with_lost_state_fails_cleanly(project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720",
               prompt_text="[hang]")
    run.run_generation(generation_id=g.pk)
    runway_emulator.reset()
    g = drive(g)
    assert g.status == Status.FAILED and g.failure_code == "TASK.LOST"
    assert "no longer has this task" in g.failure_message
    assert ledger.account_for(funded).held == 0


def test_poll_errors_back_off(project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    run.run_generation(generation_id=g.pk)
    runway_emulator.inject_fault(path="/v1/tasks/*", status=503, count=1, retry_after=9)
    now = timezone.now()
    stats = poll.sweep_once(now=now)
    g.refresh_from_db()
    assert stats.errors == 1 and g.poll_errors == 1
    assert g.next_poll_at >= now + timedelta(seconds=9)
    assert drive(g).status == Status.SUCCEEDED


def test_redirecting_output_is_refused(project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720",
               prompt_text="[redirect]")
    g = drive(g)
    assert g.status == Status.FAILED and g.failure_code == "COPY.FAILED"
    assert "redirect" in g.failure_message
    assert not g.outputs.exists()


def test_inactive_user_cannot_submit(project, funded, image, runway_emulator):
    funded.is_active = False
    funded.save()
    with pytest.raises(submitting.SubmissionError, match="deactivated"):
        submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    assert not Generation.objects.exists()


def test_invalid_params_are_refused_before_runway(project, funded, image, runway_emulator):
    with pytest.raises(submitting.SubmissionError) as info:
        submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="999:1")
    assert "ratio" in info.value.errors
    assert not Generation.objects.exists()
    assert runway_emulator.state()["requests"] == {} or tasks_created(runway_emulator) == 0


def test_asset_of_another_project_is_refused(project, funded, stranger, tmp_path, media_root, runway_emulator):
    from accounts.models import Project

    theirs = make_asset(Project.objects.get(created_by=stranger), stranger, "image 1280x720", tmp_path)
    with pytest.raises(submitting.SubmissionError) as info:
        submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=theirs.pk, ratio="1280:720")
    assert "not in this project" in info.value.errors["prompt_image"][0]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/a.mp4",
        "ftp://example.com/a.mp4",
        "file:///etc/passwd",
        "https://127.0.0.1/a.mp4",
        "https://10.0.0.8/a.mp4",
        "https://[::1]/a.mp4",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/a.mp4",
        "gopher://example.com/",
        "https:///nohost",
    ],
)
def test_ssrf_table_is_refused(url, runway_emulator):
    with pytest.raises(downloads.DownloadError):
        downloads.check_url(url)


def test_output_media_is_checked(tmp_path):
    bogus = tmp_path / "x.mp4"
    bogus.write_bytes(b"<html>not media</html>" * 100)
    with pytest.raises(media.MediaError):
        media.probe(str(bogus), max_side=None)


def test_spent_daily_limit_is_refused_before_runway(project, funded, image, runway_emulator):
    from credits.organization import sync_organization

    runway_emulator.set_tier(1, {"gen4_turbo": {"maxConcurrentGenerations": 1, "maxDailyGenerations": 1}})
    drive(submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720"))
    sync_organization()
    with pytest.raises(submitting.SubmissionError, match="daily limit"):
        submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    assert Generation.objects.count() == 1
    assert tasks_created(runway_emulator) == 1


def test_lease_is_taken_on_a_fresh_database_and_held_exclusively():
    from generations.models import Lease

    assert Lease.acquire("poll-sweep", "worker-a", 30)
    assert not Lease.acquire("poll-sweep", "worker-b", 30)
    assert Lease.acquire("poll-sweep", "worker-a", 30)  # renewal by the holder
    Lease.release("poll-sweep", "worker-a")
    assert Lease.acquire("poll-sweep", "worker-b", 30)


def test_one_poller_pass_follows_due_work_and_then_waits_for_the_next_due_moment(
        project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    run.run_generation(generation_id=g.pk)
    one = poller.Poller(holder="poller-a")
    wait = one.run_once()
    g.refresh_from_db()
    assert one.passes == 1 and g.status == Status.COPYING  # polled to success; the copy is its own job
    assert poller.MIN_WAIT <= wait <= poller.MAX_WAIT
    other = poller.Poller(holder="poller-b")
    Generation.objects.filter(pk=g.pk).update(next_poll_at=timezone.now())
    assert other.run_once() == poller.STANDBY_WAIT and other.passes == 0  # one polls at a time
    one.stop.set()
    one.run()  # stops at once and hands the lease back
    assert not Lease.is_held(poller.LEASE)


def test_hold_is_resized_to_runways_estimate(project, funded, tmp_path, media_root, runway_emulator):
    image = make_asset(project, funded, "image 1280x720", tmp_path / "in")
    g = submit(project, funded, "image_upscale", "magnific_precision_upscaler_v2", image_uri=image.pk)
    run.run_generation(generation_id=g.pk)
    g.refresh_from_db()
    runways = math.ceil(g.create_response["estimatedCost"]["credits"])
    assert g.estimated_credits == runways
    assert ledger.account_for(funded).held == runways
    g = drive(g)
    assert g.status == Status.SUCCEEDED and ledger.account_for(funded).held == 0


def test_output_download_cut_off_is_retried(project, funded, image, runway_emulator):
    g = submit(project, funded, "image_to_video", "gen4_turbo", prompt_image=image.pk, ratio="1280:720")
    run.run_generation(generation_id=g.pk)
    poll.sweep_once(now=timezone.now() + LATER)
    runway_emulator.inject_fault(path="/_files/*", drop_connection=True, count=1)
    copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.COPYING and g.step_errors == 1  # transient: tried again later
    assert not g.outputs.exists()
    poll.resume_stalled(now=timezone.now() + LATER)
    copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED and g.outputs.count() == 1
