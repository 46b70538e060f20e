"""Task lifecycle on the emulator clock: PENDING, THROTTLED, RUNNING, terminal states, DELETE."""

from __future__ import annotations

import pytest
import runwayml


def make_video(client, prompt: str = "waves on a beach"):
    return client.text_to_video.create(model="gen4.5", prompt_text=prompt, ratio="1280:720",
                                       duration=5)


def test_pending_running_with_rising_progress_then_succeeded(client, control):
    task = make_video(client)
    assert client.tasks.retrieve(task.id).status == "PENDING"
    control.advance_clock(10)
    first = client.tasks.retrieve(task.id)
    control.advance_clock(20)
    second = client.tasks.retrieve(task.id)
    assert first.status == second.status == "RUNNING"
    assert 0 < first.progress < second.progress < 1
    control.advance_clock(60)
    done = client.tasks.retrieve(task.id)
    assert done.status == "SUCCEEDED"
    assert done.cost.credits == 60


def test_throttled_tasks_are_released_in_submission_order(client, control):
    control.set_tier(5, {"gen4.5": {"maxConcurrentGenerations": 1}})
    tasks = [make_video(client, f"take {n}") for n in range(3)]
    assert [client.tasks.retrieve(t.id).status for t in tasks] == ["PENDING", "THROTTLED", "THROTTLED"]
    control.advance_clock(50)  # the first finishes; the second takes its slot
    assert [client.tasks.retrieve(t.id).status for t in tasks] == ["SUCCEEDED", "PENDING", "THROTTLED"]
    control.advance_clock(50)
    assert [client.tasks.retrieve(t.id).status for t in tasks] == ["SUCCEEDED", "SUCCEEDED", "PENDING"]


def test_speed_zero_is_instant(client, control):
    control.set_speed(0)
    tasks = [make_video(client, f"take {n}") for n in range(5)]
    assert {client.tasks.retrieve(t.id).status for t in tasks} == {"SUCCEEDED"}


def test_delete_pending_cancels_refunds_and_then_404(client, control):
    before = client.organization.retrieve().credit_balance
    task = make_video(client)
    client.tasks.delete(task.id)
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(task.id)
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.delete(task.id)
    assert client.organization.retrieve().credit_balance == before


def test_delete_running_cancels_without_refund(client, control):
    before = client.organization.retrieve().credit_balance
    task = make_video(client)
    control.advance_clock(10)
    client.tasks.delete(task.id)
    assert client.organization.retrieve().credit_balance == before - 60


def test_delete_succeeded_deletes(client, control):
    task = make_video(client)
    control.advance_clock(100)
    client.tasks.delete(task.id)
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(task.id)


def test_malformed_or_unknown_id_is_404(client):
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve("not-a-uuid")
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve("3fa85f64-5717-4562-b3fc-2c963f66afa6")


def test_magic_fail_word_fails_with_code(client, control):
    task = make_video(client, "a cat [fail:SAFETY.INPUT.TEXT]")
    control.advance_clock(600)
    failed = client.tasks.retrieve(task.id)
    assert failed.status == "FAILED"
    assert failed.failure_code == "SAFETY.INPUT.TEXT"
    assert failed.failure


def test_internal_failure_is_refunded(client, control):
    before = client.organization.retrieve().credit_balance
    task = make_video(client, "[fail:INTERNAL.BAD_OUTPUT.CODE01]")
    control.advance_clock(600)
    failed = client.tasks.retrieve(task.id)
    assert failed.failure_code == "INTERNAL.BAD_OUTPUT.CODE01"
    assert failed.cost.credits == 0
    assert client.organization.retrieve().credit_balance == before


def test_magic_hang_never_finishes_and_holds_its_slot(client, control):
    control.set_tier(5, {"gen4.5": {"maxConcurrentGenerations": 1}})
    hung = make_video(client, "[hang]")
    waiting = make_video(client)
    control.advance_clock(10_000)
    assert client.tasks.retrieve(hung.id).status == "RUNNING"
    assert client.tasks.retrieve(waiting.id).status == "THROTTLED"
    client.tasks.delete(hung.id)
    assert client.tasks.retrieve(waiting.id).status == "PENDING"


def test_wait_for_task_output_helper(client, control, monkeypatch):
    control.set_speed(0)
    monkeypatch.setattr("runwayml.lib.polling.time.sleep", lambda seconds: None)
    task = make_video(client)
    assert task.wait_for_task_output(timeout=5).status == "SUCCEEDED"


@pytest.mark.parametrize("status", ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED"])
def test_seed_task_with_id_and_state(client, control, status):
    task_id = "11111111-2222-4333-8444-555555555555"
    control.seed_task(id=task_id, status=status, model="gen4.5", progress=0.25,
                      failure_code="ASSET.INVALID", ratio="1280:720", duration=5)
    control.advance_clock(1000)
    task = client.tasks.retrieve(task_id)
    assert task.status == status
    if status == "RUNNING":
        assert task.progress == 0.25
    if status == "FAILED":
        assert task.failure_code == "ASSET.INVALID"
    if status == "SUCCEEDED":
        assert len(task.output) == 1
