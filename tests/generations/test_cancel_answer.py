"""A cancel decides from Runway's answer at cancel time, not from our last poll (issue #14).

Everything here is real: the emulator over HTTP through the SDK, with its clock frozen
and moved by hand, so Runway's state and our last poll can disagree on purpose. The
truth for what Runway charged is the emulator's own balance: its `credit_balance`
before the create call minus after the settlement is what Runway kept for that one
task, and Takes must have charged the person exactly that, no more and no less.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from credits import ledger
from credits.models import Hold, HoldState
from emulator.models import TIMINGS
from generations import cancel, copy, poll, run
from generations import submit as submitting
from generations.models import Generation, Output, Status
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

PENDING_FOR, RUNNING_FOR = TIMINGS["video"]  # emulated seconds at speed 1
LATER = timedelta(minutes=10)
TASK_ROUTE = "GET /v1/tasks/{task_id}"


@pytest.fixture
def runway(runway_emulator):
    """The emulator at realistic task durations on a frozen clock: tasks move only when a test says so."""
    runway_emulator.freeze_clock(True)
    runway_emulator.set_speed(1)
    return runway_emulator


class Books:
    """Both sides' balances from before a generation was submitted, to compare what each kept."""

    def __init__(self, control, person):
        self.control, self.person = control, person
        self.runway_before = control.state()["credit_balance"]
        account = ledger.account_for(person)
        self.takes_before, self.held_before = account.balance, account.held

    def runway_kept(self) -> int:
        return self.runway_before - self.control.state()["credit_balance"]

    def takes_charged(self) -> int:
        account = ledger.account_for(self.person)
        assert account.held == self.held_before, "the generation's hold is still open"
        return self.takes_before - account.balance


def submitted(project, person, image, **params) -> Generation:
    """A generation whose task Runway has just created; our row says PENDING, nothing polled yet."""
    g = submitting.submit_generation(project=project, user=person, endpoint="image_to_video", model="gen4_turbo",
                                     params={"prompt_image": image.pk, "ratio": "1280:720", "duration": 5,
                                             **params})
    run.run_generation(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.PENDING and g.runway_task_id
    return g


def polled(g: Generation) -> Generation:
    poll.sweep_once(now=timezone.now() + LATER)
    g.refresh_from_db()
    return g


def tasks_at_runway(control) -> dict[str, int]:
    return control.state()["tasks_by_status"]


def times_asked(control) -> int:
    return control.state()["requests"].get(TASK_ROUTE, 0)


# --- Runway had started it: it keeps the charge, and so do we ---------------------------------------------


def test_running_at_runway_while_our_last_poll_says_pending_is_charged_what_runway_kept(
        project, funded, image, runway):
    books = Books(runway, funded)
    g = submitted(project, funded, image)
    runway.advance_clock(PENDING_FOR + 10)  # Runway has picked it up; we have not polled since

    result = cancel.cancel_generation(generation=g)

    assert books.runway_kept() == g.estimated_credits > 0  # Runway kept the charge of a RUNNING cancel
    assert books.takes_charged() == books.runway_kept()
    assert result is True and cancel.outcome_of(g, cancelled=result) is cancel.Outcome.CHARGED
    g.refresh_from_db()
    assert g.status == Status.CANCELLED and g.started_at is not None
    assert g.cancel_answer == "RUNNING" and g.task_json["status"] == "RUNNING"
    assert Hold.objects.get(generation=g).state == HoldState.SETTLED
    assert tasks_at_runway(runway) == {"DELETED": 1}


# --- Runway had finished it: kept, copied once, charged Runway's cost -------------------------------------


@pytest.mark.parametrize("our_row", ["PENDING", "RUNNING"])
def test_succeeded_at_runway_is_not_deleted_its_outputs_are_copied_once_and_it_is_charged_runways_cost(
        our_row, project, funded, image, runway):
    books = Books(runway, funded)
    g = submitted(project, funded, image)
    if our_row == "RUNNING":
        runway.advance_clock(PENDING_FOR + 1)
        assert polled(g).status == Status.RUNNING
    runway.advance_clock(PENDING_FOR + RUNNING_FOR + 5)  # done at Runway; our row still says our_row

    result = cancel.cancel_generation(generation=g)

    assert tasks_at_runway(runway) == {"SUCCEEDED": 1}  # not deleted: its output is still there
    assert result is False and cancel.outcome_of(g, cancelled=result) is cancel.Outcome.KEPT
    g.refresh_from_db()
    assert g.status == Status.COPYING and g.cancel_answer == "SUCCEEDED"
    copy.copy_outputs(generation_id=g.pk)
    copy.copy_outputs(generation_id=g.pk)  # the job run twice copies nothing twice
    poll.sweep_once(now=timezone.now() + LATER)
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED, g.failure_message
    assert Output.objects.filter(generation=g).count() == 1
    assert g.cost_credits == books.runway_kept() > 0
    assert books.takes_charged() == books.runway_kept()
    assert not AuditEntry.objects.filter(action="generation.cancel").exists()  # nothing was cancelled


# --- Runway had failed it: recorded as Runway said, charged what Runway kept --------------------------------


@pytest.mark.parametrize("code", ["INTERNAL.BAD_OUTPUT.CODE01", "SAFETY.OUTPUT.VIDEO"])
def test_failed_at_runway_is_recorded_as_failed_and_charged_what_runway_kept(code, project, funded, image, runway):
    books = Books(runway, funded)
    g = submitted(project, funded, image, prompt_text=f"A harbour [fail:{code}]")
    runway.advance_clock(PENDING_FOR + RUNNING_FOR + 5)

    result = cancel.cancel_generation(generation=g)

    assert books.takes_charged() == books.runway_kept()
    assert tasks_at_runway(runway) == {"FAILED": 1}
    assert result is False and cancel.outcome_of(g, cancelled=result) is cancel.Outcome.FAILED
    g.refresh_from_db()
    assert g.status == Status.FAILED and g.failure_code == code and g.cancel_answer == "FAILED"


# --- Runway had not started it: refunded on both sides -------------------------------------------------------


def test_pending_at_runway_is_refunded_by_runway_and_by_us(project, funded, image, runway):
    books = Books(runway, funded)
    g = submitted(project, funded, image)
    runway.advance_clock(PENDING_FOR / 2)
    asked = times_asked(runway)

    result = cancel.cancel_generation(generation=g)

    assert times_asked(runway) == asked + 1  # Runway was asked, right before the delete
    assert books.runway_kept() == 0 and books.takes_charged() == 0
    assert result is True and cancel.outcome_of(g, cancelled=result) is cancel.Outcome.CANCELLED
    g.refresh_from_db()
    assert g.status == Status.CANCELLED and g.cancel_answer == "PENDING" and g.started_at is None
    assert Hold.objects.get(generation=g).state == HoldState.RELEASED
    assert tasks_at_runway(runway) == {"DELETED": 1}


def test_throttled_at_runway_is_refunded_by_runway_and_by_us(project, funded, image, runway):
    runway.set_tier(1, {"gen4_turbo": {"maxConcurrentGenerations": 1, "maxDailyGenerations": 50}})
    ahead = submitted(project, funded, image)  # takes the one slot
    books = Books(runway, funded)
    g = submitted(project, funded, image)

    result = cancel.cancel_generation(generation=g)

    assert books.runway_kept() == 0 and books.takes_charged() == 0
    assert result is True and cancel.outcome_of(g, cancelled=result) is cancel.Outcome.CANCELLED
    g.refresh_from_db()
    assert g.status == Status.CANCELLED and g.cancel_answer == "THROTTLED"
    assert polled(ahead).status == Status.PENDING  # the one ahead goes on


# --- Runway could not be asked: nothing changes ----------------------------------------------------------------


@pytest.mark.parametrize("fault", [{"status": 503}, {"drop_connection": True}], ids=["503", "dropped"])
def test_when_runway_cannot_be_asked_nothing_is_cancelled_and_the_person_is_told_to_try_again(
        fault, project, funded, image, runway):
    books = Books(runway, funded)
    g = submitted(project, funded, image)
    runway.advance_clock(PENDING_FOR + 10)
    runway.inject_fault(path=f"/v1/tasks/{g.runway_task_id}", method="GET", count=1, **fault)

    with pytest.raises(submitting.SubmissionError, match="Try again"):
        cancel.cancel_generation(generation=g)

    g.refresh_from_db()
    assert g.status == Status.PENDING and g.cancel_answer == "" and g.finished_at is None
    assert Hold.objects.get(generation=g).state == HoldState.OPEN
    assert tasks_at_runway(runway) == {"RUNNING": 1}  # not deleted
    assert not AuditEntry.objects.filter(action="generation.cancel").exists()
    # Once Runway answers again, the cancel goes through on what it says.
    assert cancel.cancel_generation(generation=g)
    assert books.takes_charged() == books.runway_kept() == g.estimated_credits


# --- Runway no longer has the task -------------------------------------------------------------------------------


def test_a_task_runway_no_longer_has_is_cancelled_as_before_with_runways_answer_recorded(
        project, funded, image, runway):
    g = submitted(project, funded, image)
    runway.reset()  # Runway lost it

    result = cancel.cancel_generation(generation=g)

    assert result is True and cancel.outcome_of(g, cancelled=result) is cancel.Outcome.CANCELLED
    g.refresh_from_db()
    assert g.status == Status.CANCELLED and g.cancel_answer == cancel.NOT_FOUND
    assert Hold.objects.get(generation=g).state == HoldState.RELEASED


# --- what the person and the operator are told ------------------------------------------------------------------


def cancel_url(g) -> str:
    return reverse("generations:cancel", args=[g.project.slug, g.pk])


def test_the_person_is_told_runway_had_already_finished_and_the_generation_was_kept(
        project, funded, image, runway):
    g = submitted(project, funded, image)
    runway.advance_clock(PENDING_FOR + RUNNING_FOR + 5)
    page = client_for(funded).post(cancel_url(g), follow=True).content.decode()
    assert "Runway had already finished this generation, so it was kept" in page
    assert Generation.objects.get(pk=g.pk).status == Status.COPYING
    assert not AuditEntry.objects.filter(action="generation.cancel").exists()


def test_the_person_is_told_runway_had_already_failed_it(project, funded, image, runway):
    g = submitted(project, funded, image, prompt_text="A harbour [fail:INTERNAL.BAD_OUTPUT.CODE01]")
    runway.advance_clock(PENDING_FOR + RUNNING_FOR + 5)
    page = client_for(funded).post(cancel_url(g), follow=True).content.decode()
    assert "Runway had already failed this generation" in page


def test_the_person_is_told_a_running_cancel_stays_charged(project, funded, image, runway):
    g = submitted(project, funded, image)
    runway.advance_clock(PENDING_FOR + 10)
    page = client_for(funded).post(cancel_url(g), follow=True).content.decode()
    assert "Runway had already started it, so its credits stay charged" in page
    entry = AuditEntry.objects.get(action="generation.cancel")  # logged as before
    assert entry.before == {"status": "PENDING"} and entry.after == {"status": "CANCELLED"}


def test_the_person_is_told_when_runway_cannot_be_asked(project, funded, image, runway):
    g = submitted(project, funded, image)
    runway.inject_fault(path=f"/v1/tasks/{g.runway_task_id}", method="GET", status=503, count=1)
    response = client_for(funded).post(cancel_url(g))
    assert response.status_code == 502 and "Try again" in response.content.decode()
    assert Generation.objects.get(pk=g.pk).status == Status.PENDING


def test_ops_see_runways_answer_and_are_told_when_it_had_already_finished(project, funded, image, runway):
    root = make_user("root", is_staff=True, is_superuser=True)
    g = submitted(project, funded, image)
    runway.advance_clock(PENDING_FOR + RUNNING_FOR + 5)
    response = client_for(root).post(reverse("admin:generations_generation_changelist"),
                                     {"action": "cancel_selected", "_selected_action": [g.pk], "index": 0},
                                     follow=True)
    assert "had already finished at Runway, so it was kept; its outputs are being copied" in response.content.decode()
    g.refresh_from_db()
    assert g.status == Status.COPYING and tasks_at_runway(runway) == {"SUCCEEDED": 1}
    entry = AuditEntry.objects.get(action="generation.cancel")  # the attempt is logged; it cancelled nothing
    assert entry.after["status"] == "COPYING" and "already finished" in entry.note
    page = client_for(root).get(reverse("admin:generations_generation_change", args=[g.pk])).content.decode()
    assert "Runway&#x27;s answer to the cancel" in page or "Runway's answer to the cancel" in page
    assert "SUCCEEDED" in page


# --- a poll that meets the deleted task before the cancel has written its outcome -------------------------


def test_a_poll_between_the_delete_and_the_cancels_own_update_settles_it_as_that_cancel(
        project, funded, image, runway):
    """The poller gets 404 for a task the cancel just deleted: charged as RUNNING, not refunded as lost."""
    books = Books(runway, funded)
    g = submitted(project, funded, image)
    runway.advance_clock(PENDING_FOR + 10)  # RUNNING at Runway
    polls = []

    def poll_first(execute, sql, params, many, context):
        # Right before the cancel writes CANCELLED, the poller runs its pass (on the same connection, as
        # the database would order the two writes anyway) and meets the task Runway has just deleted.
        if not polls and sql.lstrip().upper().startswith("UPDATE") and "CANCELLED" in str(params):
            polls.append(poll.sweep_once(now=timezone.now() + cancel.CANCEL_GRACE + LATER))
        return execute(sql, params, many, context)

    audited = []
    with connection.execute_wrapper(poll_first):
        result = cancel.cancel_generation(generation=g, on_change=audited.append)

    assert polls, "the poll did not run between the delete and the cancel's update"
    g.refresh_from_db()
    assert g.status == Status.CANCELLED and g.failure_code != "TASK.LOST"
    assert books.takes_charged() == books.runway_kept() == g.estimated_credits > 0
    assert result is True and cancel.outcome_of(g, cancelled=result) is cancel.Outcome.CHARGED
    assert len(audited) == 1  # the person who cancelled is still the one the log names


def test_a_cancel_that_died_after_its_delete_is_settled_by_the_poller_from_runways_answer(
        project, funded, image, runway):
    """Nothing left running, nothing left open: the poller settles the cancel the way its answer says."""
    books = Books(runway, funded)
    g = submitted(project, funded, image)  # PENDING at Runway: a cancel refunds it
    died = []

    def die_after_delete(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE") and "CANCELLED" in str(params) and not died:
            died.append(True)
            raise KeyboardInterrupt  # the worker is gone between Runway's 204 and our write
        return execute(sql, params, many, context)

    with connection.execute_wrapper(die_after_delete), pytest.raises(KeyboardInterrupt):
        cancel.cancel_generation(generation=g)
    g.refresh_from_db()
    assert g.status == Status.PENDING and g.cancel_answer == "PENDING"
    assert tasks_at_runway(runway) == {"DELETED": 1}

    assert poll.sweep_once(now=timezone.now() + timedelta(seconds=30)).polled == 0  # left alone meanwhile
    poll.sweep_once(now=timezone.now() + cancel.CANCEL_GRACE + LATER)
    g.refresh_from_db()
    assert g.status == Status.CANCELLED and g.failure_code != "TASK.LOST"
    assert books.takes_charged() == books.runway_kept() == 0


# --- while the create call is in flight ----------------------------------------------------------------------


def test_a_cancel_while_the_create_call_is_in_flight_is_refused_then_decided_from_runways_answer(
        project, funded, image, runway):
    """Whether Runway makes (and bills) the task is not known mid-call: nothing is settled on a guess."""
    books = Books(runway, funded)
    g = submitting.submit_generation(project=project, user=funded, endpoint="image_to_video", model="gen4_turbo",
                                     params={"prompt_image": image.pk, "ratio": "1280:720", "duration": 5})
    client = client_for(funded)
    url = reverse("generations:cancel", args=[project.slug, g.pk])
    answers = []

    def cancel_mid_call(execute, sql, params, many, context):
        # The worker's fence (task id and PENDING, right after Runway answered): the person clicks first,
        # and Runway has already started the task by the time anyone could delete it.
        if not answers and sql.lstrip().upper().startswith("UPDATE") and g.runway_task_id == "" \
                and "PENDING" in str(params) and any(isinstance(p, str) and len(p) == 36 for p in params or ()):
            runway.advance_clock(PENDING_FOR + 10)
            answers.append(client.post(url, HTTP_HX_REQUEST="true"))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(cancel_mid_call):
        run.run_generation(generation_id=g.pk)
    assert answers and answers[0].status_code == 409
    assert "handing this generation to Runway right now" in answers[0].content.decode()
    g.refresh_from_db()
    assert g.status == Status.PENDING and g.runway_task_id  # untouched: Runway has it now
    assert ledger.account_for(funded).held == g.estimated_credits

    again = client.post(url)  # a moment later, from Runway's answer: it is running, so it stays charged
    assert again.status_code == 302
    g.refresh_from_db()
    assert g.status == Status.CANCELLED and g.cancel_answer == "RUNNING"
    assert books.takes_charged() == books.runway_kept() == g.estimated_credits
