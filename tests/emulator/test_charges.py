"""What the emulator charged for each task, and whether the client ever got the task's id.

``GET /_emulator/charges`` is the truth a Takes audit compares its ledger with: one item per
task ever created (deleted ones included), with the net credits the organization paid for it
and ``replyFaulted`` when the create call's answer the client got was not the normal success body.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import runwayml
from runwayml import RunwayML

from emulator.testing import EmulatorServer

from .conftest import API_KEY


def image(client, prompt: str = "a lighthouse"):
    return client.text_to_image.create(model="gen4_image", prompt_text=prompt, ratio="720:720")


def video(client, prompt: str = "waves on a beach"):
    return client.text_to_video.create(model="gen4.5", prompt_text=prompt, ratio="1280:720", duration=5)


def by_id(control) -> dict[str, dict]:
    return {item["id"]: item for item in control.charges()}


def test_every_task_is_listed_with_its_estimate_and_what_it_finally_cost(client, control):
    succeeded = image(client, "a fox")
    refunded = image(client, "a fox [fail:INTERNAL.BAD_OUTPUT.CODE01]")
    moderated = image(client, "a fox [fail:SAFETY.INPUT.TEXT]")
    auto = client.text_to_video.create(model="seedance2", prompt_text="a kite", duration="auto")
    cancelled_pending = video(client, "cancelled before it ran")
    client.tasks.delete(cancelled_pending.id)
    running = video(client, "cancelled while running")
    control.advance_clock(10)
    client.tasks.delete(running.id)
    control.advance_clock(600)
    deleted_after = image(client, "deleted once finished")
    control.advance_clock(600)
    client.tasks.delete(deleted_after.id)

    charges = by_id(control)
    assert [item["id"] for item in control.charges()] == [
        succeeded.id, refunded.id, moderated.id, auto.id, cancelled_pending.id, running.id, deleted_after.id]
    figures = {task_id: (item["estimate"], item["charged"], item["status"], item["deleted"])
               for task_id, item in charges.items()}
    assert figures == {
        succeeded.id: (5, 5, "SUCCEEDED", False),
        refunded.id: (5, 0, "FAILED", False),
        moderated.id: (5, 5, "FAILED", False),
        auto.id: (36 * 15, 36 * 5, "SUCCEEDED", False),
        cancelled_pending.id: (60, 0, "CANCELLED", True),
        running.id: (60, 60, "CANCELLED", True),
        deleted_after.id: (5, 5, "SUCCEEDED", True),
    }
    item = charges[succeeded.id]
    assert (item["model"], item["endpoint"], item["replyFaulted"]) == ("gen4_image", "text_to_image", False)
    assert dt.datetime.fromisoformat(item["createdAt"]) == client.tasks.retrieve(succeeded.id).created_at
    assert item["cost"] == 5
    # The charges add up to what the organization paid and what the usage report says.
    day = dt.date.fromisoformat(control.state()["clock"]["now"][:10])
    usage = client.organization.retrieve_usage(start_date=day, before_date=day + dt.timedelta(days=1))
    assert sum(item["charged"] for item in charges.values()) == sum(
        used.amount for result in usage.results for used in result.used_credits)
    assert control.state()["credit_balance"] == 100_000 - sum(item["charged"] for item in charges.values())


def test_a_task_still_running_is_charged_its_estimate(client, control):
    task = video(client)
    item = by_id(control)[task.id]
    assert (item["status"], item["estimate"], item["charged"], item["cost"]) == ("PENDING", 60, 60, None)


def test_no_tasks_no_charges(control):
    assert control.charges() == []


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 502, "retry_after": 0.01},
                                   {"drop_connection": True}])
def test_a_create_answered_with_a_fault_after_the_work_is_marked(client, control, fault):
    control.inject_fault(path="/v1/text_to_image", method="POST", after=True, **fault)
    with pytest.raises(runwayml.APIError):
        image(client)
    learned = image(client, "the second try")
    charges = control.charges()
    assert len(charges) == 2
    faulted, delivered = charges
    assert delivered["id"] == learned.id and delivered["replyFaulted"] is False
    # The client never learned the first task's id, yet Runway made it and charged it.
    assert faulted["id"] != learned.id
    assert faulted["replyFaulted"] is True and faulted["charged"] == 5


def test_a_fault_before_the_work_makes_no_task(client, control):
    control.inject_fault(path="/v1/text_to_image", method="POST", status=502)
    with pytest.raises(runwayml.APIError):
        image(client)
    assert control.charges() == []


def test_a_retried_create_shows_the_duplicate_the_client_never_saw(server, control):
    control.inject_fault(path="/v1/text_to_image", status=502, after=True, retry_after=0.01)
    with RunwayML(api_key=API_KEY, base_url=server.url, max_retries=1) as sdk:
        learned = image(sdk, "retried by the SDK")
    charges = control.charges()
    assert [(c["id"] == learned.id, c["replyFaulted"], c["charged"]) for c in charges] == [
        (False, True, 5), (True, False, 5)]


def test_a_create_reply_with_fields_overridden_is_marked(client, control):
    control.inject_fault(task={"create_reply": {"estimatedCost": {"credits": -5}}})
    odd = image(client, "an odd answer")
    normal = image(client, "a normal answer")
    charges = by_id(control)
    assert charges[odd.id]["replyFaulted"] is True
    assert charges[normal.id]["replyFaulted"] is False


def test_faults_on_other_calls_do_not_mark_the_task(client, control):
    task = image(client)
    control.inject_fault(path="/v1/tasks/*", method="GET", status=500, after=True)
    control.inject_fault(path="/v1/tasks/*", method="DELETE", status=500, after=True)
    with pytest.raises(runwayml.APIError):
        client.tasks.retrieve(task.id)
    with pytest.raises(runwayml.APIError):
        client.tasks.delete(task.id)
    item = by_id(control)[task.id]
    assert (item["replyFaulted"], item["deleted"]) == (False, True)


def test_a_seeded_task_was_never_charged(control):
    control.seed_task(id="3fa85f64-5717-4562-b3fc-2c963f66afa6", status="SUCCEEDED", model="gen4.5",
                      endpoint="text_to_video")
    item = by_id(control)["3fa85f64-5717-4562-b3fc-2c963f66afa6"]
    assert (item["status"], item["charged"], item["replyFaulted"]) == ("SUCCEEDED", 0, False)


def test_charges_and_marks_survive_a_restart(server, tmp_path):
    config = dataclasses.replace(server.app.state.emulator.config, data=tmp_path / "state.sqlite3", port=0,
                                 public_base_url=None)
    with EmulatorServer(config) as first:
        first.control.inject_fault(path="/v1/text_to_image", status=500, after=True)
        with RunwayML(api_key=API_KEY, base_url=first.url, max_retries=0) as sdk:
            with pytest.raises(runwayml.APIError):
                image(sdk)
            image(sdk, "delivered")
        before = first.control.charges()
    with EmulatorServer(config) as second:
        assert second.control.charges() == before
    assert [c["replyFaulted"] for c in before] == [True, False]
