"""One poll pass writes what Runway said about each task, and keeps as many polls in flight
as Runway's answer time calls for.

The emulator is the truth: tasks are seeded there with their own progress, and a latency
fault makes it answer slowly; the pass runs through the real SDK over HTTP.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from generations import poll
from generations.models import Generation, Status

pytestmark = pytest.mark.django_db

PROGRESS = [0.05, 0.125, 0.3, 0.45, 0.5, 0.675, 0.8, 0.95, 0.99]


def in_flight(project, user, control, progress: list[float], *, status: str = "RUNNING") -> list[Generation]:
    """Generations at Runway, each with a task the emulator holds at the given progress, all due."""
    now = timezone.now()
    generations = []
    for value in progress:
        task = control.seed_task(status=status, model="gen4.5", endpoint="text_to_video", ratio="1280:720",
                                 duration=5, progress=value, promptText="a lighthouse")
        generations.append(Generation.objects.create(
            project=project, created_by=user, endpoint="text_to_video", model="gen4.5",
            params={"prompt_text": "a lighthouse", "ratio": "1280:720", "duration": 5}, prompt="a lighthouse",
            status=status, runway_task_id=task["id"], estimated_credits=60, submitted_at=now,
            started_at=now if status == "RUNNING" else None, next_poll_at=now - timedelta(seconds=1)))
    return generations


def test_each_generation_gets_the_progress_runway_reported_for_its_own_task(project, owner, runway_emulator):
    generations = in_flight(project, owner, runway_emulator, PROGRESS)
    stats = poll.sweep_once()
    assert stats.statuses == {"progress": len(PROGRESS)}
    for generation, value in zip(generations, PROGRESS, strict=True):
        generation.refresh_from_db()
        assert generation.progress == pytest.approx(value), generation.runway_task_id
        assert generation.next_poll_at > timezone.now()


def test_progress_is_not_written_over_a_generation_that_finished_meanwhile(project, owner, runway_emulator):
    running, finished = in_flight(project, owner, runway_emulator, [0.2, 0.2])
    Generation.objects.filter(pk=finished.pk).update(status=Status.SUCCEEDED, progress=1.0)
    Generation.objects.at_runway().set_progress({running.pk: 0.6, finished.pk: 0.6})
    running.refresh_from_db()
    finished.refresh_from_db()
    assert (running.progress, finished.progress) == (0.6, 1.0)


def test_a_slow_runway_gets_more_polls_in_flight_than_a_quick_one(project, owner, runway_emulator):
    in_flight(project, owner, runway_emulator, PROGRESS * 3)
    quick = poll.sweep_once(now=timezone.now() + timedelta(seconds=10))
    runway_emulator.inject_fault(path="/v1/tasks/*", method="GET", latency_ms=150, count=None)
    slow = poll.sweep_once(now=timezone.now() + timedelta(seconds=20))
    assert quick.polled == slow.polled == len(PROGRESS) * 3
    # 150 ms of waiting per poll against about a millisecond of work: every remaining poll at once.
    assert slow.threads == len(PROGRESS) * 3 - poll.POLL_PROBES
    assert quick.threads < slow.threads


@pytest.mark.parametrize(("latency", "cpu", "threads"), [
    (0.0009, 0.0006, 2),  # a local Runway: the interpreter is the limit
    (0.0006, 0.0006, 1),
    (0.2, 0.001, poll.MAX_POLL_THREADS),  # Runway's real answer time: as many as allowed
    (0.01, 0.001, 10),
    (0.001, 0.0, poll.MAX_POLL_THREADS),  # a clock too coarse to see the work
])
def test_polls_in_flight_cover_the_answer_time(latency, cpu, threads):
    assert poll.poll_threads(latency=latency, cpu=cpu) == threads
