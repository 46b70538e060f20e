"""SIGKILL (or SIGTERM) a real qcluster and poller in the middle of each pipeline step, again and again.

Generations run through a real `manage.py qcluster` (ORM broker on SQLite, Redis
on PostgreSQL — whichever shape the suite runs in) against the emulator as a real
process. The emulator is slowed down on every route a step calls, so each kill
lands while a worker is inside an upload, a create call, a poll or a download.
After each kill the test does what the poller would do once the dead
work went stale (`harness.resume_after_crash`) and starts the cluster again.

In the end every generation must be finished or flagged for ops, Runway must
hold no task we don't know of (but those whose create answer a SIGKILL took, no
more of them than generations flagged for ops to look for them), every hold must be closed exactly once (flagged
ones still held) at exactly what Runway charged for its task, and every output
kept once.
"""

from __future__ import annotations

from collections import Counter

import pytest

from assets.models import Asset
from generations import notices, submit
from generations.models import FINISHED, Generation, Status
from notifications.models import Event, Notification
from tests.faults.audit import audit, reply_faulted, settled
from tests.faults.harness import resume_after_crash, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BATCH = 6  # submitted whenever fewer than this are left in flight, so every kill finds work
# Where the kills aim, in turn: each waits until a worker is inside that step's outside call.
TARGETS = [Status.UPLOADING, Status.SUBMITTING, Status.RUNNING, Status.COPYING, Status.QUEUED,
           Status.UPLOADING, Status.SUBMITTING, Status.PENDING, Status.COPYING, Status.UPLOADING]
# The emulator route each step calls; its request counter moving means a call is under way.
ROUTES = {
    Status.UPLOADING: ("POST /v1/uploads", "POST /_uploads/{upload_id}"),
    Status.SUBMITTING: ("POST /v1/image_to_video", "POST /v1/text_to_image"),
    Status.PENDING: ("GET /v1/tasks/{task_id}",),
    Status.RUNNING: ("GET /v1/tasks/{task_id}",),
    Status.COPYING: ("GET /_files/{task_id}/{name}",),
}
# Slow every outside call a step makes, so "in this step" means "inside its HTTP call".
LATENCY = {"/v1/uploads": 400, "/_uploads/*": 300, "/v1/image_to_video": 700, "/v1/text_to_image": 700,
           "/v1/tasks/*": 300, "/_files/*": 600}


def submit_batch(project, user, still, count: int) -> list[Generation]:
    made = []
    for i in range(count):
        if i % 3 == 2:
            params = {"prompt_text": f"A lighthouse at dusk, take {i}", "ratio": "1280:720",
                      "reference_images": [still.pk]}
            made.append(submit.submit_generation(project=project, user=user, endpoint="text_to_image",
                                                   model="gen4_image", params=params))
        else:
            params = {"prompt_image": still.pk, "ratio": "1280:720", "duration": 5,
                      "prompt_text": f"A slow push in, take {i}"}
            made.append(submit.submit_generation(project=project, user=user, endpoint="image_to_video",
                                                   model="gen4_turbo", params=params))
    return made


def calls(emulator, target: str) -> int:
    requests = emulator.control.state()["requests"]
    return sum(requests.get(route, 0) for route in ROUTES.get(target, ()))


def inside(emulator, ids: list[int], target: str, before: int) -> bool:
    """True once some generation is in `target` and a call of that step has started since `before`."""
    if target == Status.QUEUED:
        return True  # killed as the cluster starts picking up its queue
    in_status = Generation.objects.filter(pk__in=ids, status=target, needs_attention=False).exists()
    return in_status and calls(emulator, target) > before


def all_settled(ids: list[int]) -> bool:
    return all(settled(g) for g in Generation.objects.filter(pk__in=ids))


@pytest.mark.parametrize("stop", ["sigkill", "sigterm"])
def test_a_stop_in_every_step_loses_nothing(stop, project, funded, still, cluster, emulator_process, media_root,
                                              chaos_report):
    for path, ms in LATENCY.items():
        emulator_process.control.inject_fault(path=path, latency_ms=ms, count=None)
    generations: list[Generation] = []
    kills: Counter[str] = Counter()

    for target in TARGETS:
        ids = [g.pk for g in generations]
        waiting = Generation.objects.filter(pk__in=ids, status=Status.QUEUED).exists()
        unsettled = sum(not settled(g) for g in Generation.objects.filter(pk__in=ids))
        if unsettled < BATCH or (target in (Status.UPLOADING, Status.SUBMITTING) and not waiting):
            generations += submit_batch(project, funded, still, BATCH)
            ids = [g.pk for g in generations]
        if target == Status.UPLOADING:
            # Inputs keep their runway:// URI for a day; forget it so the next ones upload again.
            Asset.objects.filter(pk=still.pk).update(runway_uri="", runway_uri_expires_at=None)
        before = calls(emulator_process, target)
        cluster.start()
        try:
            wait_for(lambda t=target, b=before: inside(emulator_process, ids, t, b), timeout=10, interval=0.02,
                     what=f"a worker inside {target}")
        except AssertionError:
            target = f"{target} (not reached; killed where the work was)"
        states = Counter(Generation.objects.filter(pk__in=ids).values_list("status", flat=True))
        if stop == "sigkill":
            cluster.kill()  # a machine losing power
        else:
            cluster.terminate()  # Ctrl-C on make run: steps in hand finish or hand their claims back
        kills[target] += 1
        chaos_report.add("kills_survived")
        chaos_report.note(f"kill {sum(kills.values())} inside {target}: " +
                          ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
        resume_after_crash()

    ids = [g.pk for g in generations]
    cluster.start()
    wait_for(lambda: all_settled(ids), timeout=90, interval=0.25,
             what="every generation to finish or be flagged:\n" + cluster.tail())
    cluster.kill()

    charges = emulator_process.control.charges()
    result = audit(generations, charges=charges, media_root=media_root, killed=stop == "sigkill")
    chaos_report.add("generations_driven", result.generations)
    chaos_report.add("flagged_for_ops", result.flagged)
    chaos_report.add("charges_compared_with_runway", result.compared)
    chaos_report.add("runway_tasks_audited", result.tasks)
    chaos_report.add("lost_items", result.lost)
    chaos_report.note(f"after {sum(kills.values())} kills: {dict(sorted(result.by_status.items()))}; "
                      f"{len(result.orphans)} orphan task(s)")
    assert not result.problems, result.problems
    assert not result.mismatches, [str(m) for m in result.mismatches]
    # No fault replaces an answer here. A SIGKILL inside a create call can still take its answer:
    # Runway goes on and makes the task after the worker died, so its generation sits flagged for
    # ops (the audit holds such tasks to no more than the flagged ones). SIGTERM lets the call in
    # hand finish and record its task, so then every task Runway made belongs to a generation.
    assert not reply_faulted(charges)
    if stop == "sigterm":
        assert result.orphans == []
    else:
        assert len(result.orphans) <= result.flagged, (result.orphans, result.flagged_ids)
    assert sum(kills.values()) == len(TARGETS)
    assert sum("not reached" in k for k in kills.elements()) <= 1, kills
    # Killing is not failing: apart from flagged submissions every generation made it.
    failed = [(g.pk, g.status, g.failure_code, g.failure_message) for g in generations
              if g.status != Status.SUCCEEDED and not g.needs_attention]
    assert not failed, failed
    assert all(g.status in FINISHED or g.needs_attention for g in generations)
    # Each generation that ended told its author once, in the move that ended it: no kill came
    # between the two, so the sweep that writes what a crash kept from being written finds nothing.
    ended = {g.pk for g in generations if g.status in (Status.SUCCEEDED, Status.FAILED)}
    told = Counter(Notification.objects.filter(subject_id__in=ids, event__in=(Event.SUCCEEDED, Event.FAILED))
                   .values_list("subject_id", flat=True))
    assert set(told) == ended and set(told.values()) == {1}, told
    assert notices.sweep() == 0
