"""Every credit Runway billed is accounted to a person, task by task, after everything at once.

A real qcluster and poller run generations against the emulator as its own process while:
the workers are SIGKILLed inside every step in turn, Runway answers with bursts of 429s and
5xx (two of them after it has made the task, so Takes never learns that task's id), its
answers about some tasks are garbage for a while, and people cancel at random moments of
their tasks' lives — PENDING, RUNNING, finished — with Takes' last poll stale.

Then ops do what the product asks of them: the reconciliation shows the credits Runway
billed for tasks Takes never learned of, the flagged generations say which submissions
they may belong to, and ops resolve each from Runway's side. The truth is the emulator's
own record of what it charged for each task (its control API), never our ledger:

- every generation's settled credits equal the emulator's charge for its task, exactly;
- the only tasks no generation knows were those whose create answer was lost (to a fault, or to a
  kill between Runway's answer and our write of its id), and after
  ops resolved the flagged generations there are none;
- the day's reconciliation against Runway's usage shows a difference of 0 for every model.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from credits import organization
from generations import cancel
from generations import submit as submitting
from generations.models import AT_RUNWAY, Generation, Status
from tests.conftest import client_for, make_user
from tests.faults.audit import audit, settled
from tests.faults.harness import resume_after_crash, wait_for
from tests.faults.test_emulator_faults import HTTP_FAULTS, submit

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEED = 1414
ROUNDS = [Status.UPLOADING, Status.SUBMITTING, Status.PENDING, Status.RUNNING, Status.COPYING,
          Status.SUBMITTING, Status.RUNNING, Status.UPLOADING]
# Runway's gateway misbehaving as in the emulator-fault run (429 and 5xx bursts, two create answers
# lost after the task was made, dropped connections), slowed so every kill lands inside a step's call.
FAULTS = [f for f in HTTP_FAULTS if "latency_ms" not in f] + [
    {"path": path, "latency_ms": ms, "count": None}
    for path, ms in (("/v1/image_to_video", 400), ("/v1/text_to_image", 400), ("/v1/uploads", 200),
                     ("/v1/tasks/*", 150), ("/_files/*", 300))
]
# Answers about the next tasks that are not tasks, for a few polls each, then sound again.
GARBAGE = [{"reply": {"status": "EXPLODED"}, "bad_replies": 2, "count": 2},
           {"reply_body": "<html>Bad gateway</html>", "bad_replies": 2, "count": 2},
           {"reply": {"progress": "a lot"}, "bad_replies": 1, "count": 2}]
LOST_ANSWERS = 2  # the two faults "after": Runway made the task, Takes never heard its id


def cancel_one(control, rng: random.Random, ids: list[int], statuses: tuple[str, ...]) -> str | None:
    """Cancel a random generation in one of `statuses` by our (possibly stale) last poll; what came of it.

    Runway's clock stands still for the length of the cancel: the API leaves a gap of one round
    trip between Runway's answer and the delete (it has no "cancel only if still PENDING"), and a
    task that starts inside it is charged whatever the answer said. Everything else — the moment,
    our stale poll, the workers' own polls and copies — runs as it comes.
    """
    candidates = list(Generation.objects.filter(pk__in=ids, status__in=statuses, needs_attention=False))
    if not candidates:
        return None
    g = rng.choice(candidates)
    control.freeze_clock(True)
    try:
        done = cancel.cancel_generation(generation=g)
    except submitting.SubmissionError as error:
        # A 503 burst, or the create call in flight: nothing was cancelled.
        return "being submitted" if isinstance(error, cancel.BeingSubmitted) else "refused"
    finally:
        control.freeze_clock(False)
    return cancel.outcome_of(g, cancelled=done).value


def test_after_kills_bursts_garbage_and_racing_cancels_every_credit_matches_runways_bill(
        project, funded, still, cluster, emulator_process, media_root, chaos_report):
    control = emulator_process.control
    for fault in FAULTS:
        control.inject_fault(**fault)
    for fault in GARBAGE:
        control.inject_fault(task=fault)
    rng = random.Random(SEED)
    generations: list[Generation] = []
    cancels: Counter[str] = Counter()
    kills: Counter[str] = Counter()
    counter = iter(range(10_000))

    for target in ROUNDS:
        generations += [submit(project, funded, still, f"A lighthouse, take {i}", image=i % 3 == 2)
                        for i in (next(counter) for _ in range(4))]
        ids = [g.pk for g in generations]
        cluster.start()
        try:
            wait_for(lambda t=target: Generation.objects.filter(pk__in=ids, status=t, needs_attention=False).exists(),
                     timeout=15, interval=0.02, what=f"a generation in {target}")
        except AssertionError:
            target = f"{target} (not reached)"
        # People cancel while it runs: some at Runway (PENDING or RUNNING by our last poll), some earlier.
        outcome = cancel_one(control, rng, ids, AT_RUNWAY if rng.random() < 0.75 else (Status.QUEUED, Status.UPLOADING))
        if outcome:
            cancels[outcome] += 1
        cluster.kill()
        kills[target] += 1
        resume_after_crash()

    ids = [g.pk for g in generations]
    cluster.start()
    # A last round of cancels at random moments while the rest finish.
    for _ in range(4):
        wait_for(lambda: Generation.objects.filter(pk__in=ids, status__in=AT_RUNWAY).exists()
                 or all(settled(g) for g in Generation.objects.filter(pk__in=ids)),
                 timeout=60, interval=0.05, what="work at Runway")
        outcome = cancel_one(control, rng, ids, AT_RUNWAY)
        if outcome:
            cancels[outcome] += 1
    wait_for(lambda: all(settled(g) for g in Generation.objects.filter(pk__in=ids)), timeout=120, interval=0.25,
             what="every generation to finish or be flagged:\n" + cluster.tail())

    result = audit(generations, charges=control.charges(), media_root=media_root, killed=True)
    assert not result.problems, result.problems
    assert not result.mismatches, [str(m) for m in result.mismatches]
    lost = [c for c in control.charges() if c["id"] in result.orphans]
    # Lost answers: the two the faults threw away, and any a kill took between Runway's answer and our write.
    assert len(lost) <= LOST_ANSWERS + sum(kills.values()), lost
    assert cancels, "no cancel happened"

    # Ops: the day's reconciliation shows, per model, exactly the credits Runway billed for tasks Takes
    # never learned of (every other credit matches)...
    today = timezone.now().date()
    organization.sync_usage(start=today, before=today + timedelta(days=1))
    unknown = Counter()
    for task in lost:
        unknown[task["model"]] += task["charged"]
    shown = {row["model"]: row["difference"] for row in organization.reconciliation([today])}
    assert shown == {model: unknown.get(model, 0) for model in shown}, (shown, unknown)
    operator = make_user("opal", is_staff=True, is_superuser=True)
    ops = client_for(operator)
    assert ops.get(reverse("credits:staff")).status_code == 200
    listed = ops.get(reverse("admin:generations_generation_changelist"), {"needs_attention__exact": "1"})
    assert all(f"/{pk}/change/" in listed.content.decode() for pk in result.flagged_ids)
    # ...and the flagged generations are the submissions they may belong to. Ops find each one's task on
    # Runway's side (here: the lost tasks of its model, oldest first) or find that Runway never made it.
    flagged = sorted(Generation.objects.filter(pk__in=result.flagged_ids), key=lambda g: g.pk)
    waiting = {model: sorted((t for t in lost if t["model"] == model), key=lambda t: t["createdAt"])
               for model in {t["model"] for t in lost}}
    for g in flagged:
        found = waiting.get(g.model) or []
        op, data = (("resolve-submitted", {"task_id": found.pop(0)["id"]}) if found
                    else ("resolve-failed", {"note": "Runway has no task for it"}))
        for _attempt in range(4):  # Runway's answer about a task can be garbage for a while: ops try again
            response = ops.post(reverse("admin:generations_generation_operate", args=[g.pk, op]), data)
            said = [str(m) for m in get_messages(response.wsgi_request)]
            assert response.status_code == 302, (g.pk, said)
            g.refresh_from_db()
            if not g.needs_attention:
                break
        assert not g.needs_attention, (g.pk, said)
    wait_for(lambda: all(settled(g) and not g.needs_attention for g in Generation.objects.filter(pk__in=ids)),
             timeout=90, interval=0.25, what="the resolved generations to finish: " + str(list(
                 Generation.objects.filter(pk__in=ids, status__in=(*AT_RUNWAY, Status.SUBMITTING, Status.COPYING))
                 .values_list("pk", "status", "needs_attention", "next_poll_at", "runway_task_id"))))
    cluster.kill()

    final = audit(generations, charges=control.charges(), media_root=media_root, killed=True)
    assert not final.problems, final.problems
    assert not final.mismatches, [str(m) for m in final.mismatches]
    assert final.orphans == [] and final.flagged == 0
    organization.sync_usage(start=today, before=today + timedelta(days=1))
    rows = organization.reconciliation([today])
    assert rows and all(row["difference"] == 0 for row in rows), rows

    chaos_report.add("kills_survived", sum(kills.values()))
    chaos_report.add("generations_driven", final.generations)
    chaos_report.add("charges_compared_with_runway", final.compared)
    chaos_report.add("cancels_raced", sum(cancels.values()))
    chaos_report.note(f"billing truth: {dict(sorted(final.by_status.items()))}; kills {dict(kills)}; cancels "
                      f"{dict(cancels)}; {len(lost)} lost create answer(s) found by ops; "
                      f"{len(rows)} model(s) reconciled to 0")
