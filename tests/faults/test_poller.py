"""The real poller (`manage.py poller`) beside a real qcluster: it sleeps, it yields, it polls each task once.

Each test counts from outside the poller what it did: the emulator's own tally of the
requests it answered, the task queue's rows, and the poller's heartbeat (passes and every
query it made, written on its lease row by the process itself).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Success

from generations import poller
from generations import submit as submitting
from generations.models import Generation, Lease, Status
from tests.faults.harness import ROOT, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

POLLS = "GET /v1/tasks/{task_id}"


def start_poller(cluster, *, name: str, max_wait: float = 10.0) -> subprocess.Popen:
    log = (cluster.log.parent / f"{name}.log").open("ab")
    return subprocess.Popen([sys.executable, "manage.py", "poller", "--max-wait", str(max_wait)], cwd=ROOT,
                            env=cluster.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def heartbeat() -> dict:
    lease = Lease.objects.filter(name=poller.LEASE).first()
    return dict(lease.detail or {}, holder=lease.holder) if lease else {}


def requests(emulator) -> dict[str, int]:
    return emulator.control.state()["requests"]


def jobs_run() -> int:
    return Success.objects.count() + OrmQ.objects.count()


def at_runway(project, user, still, emulator, prompt: str = "harbour [hang]") -> Generation:
    """A generation whose task stays RUNNING at the emulator until the test is over."""
    g = submitting.submit_generation(project=project, user=user, endpoint="image_to_video", model="gen4_turbo",
                                     params={"prompt_image": still.pk, "ratio": "1280:720", "duration": 5,
                                             "prompt_text": prompt})
    return g


def test_a_generation_backing_off_costs_no_jobs_no_calls_and_a_few_queries_a_minute(
        project, funded, still, cluster, emulator_process):
    g = at_runway(project, funded, still, emulator_process, prompt="harbour")
    # Refused a moment ago: it waits two minutes before anything happens to it.
    Generation.objects.filter(pk=g.pk).update(next_poll_at=timezone.now() + timedelta(minutes=2), step_errors=3)
    process = start_poller(cluster, name="pacing")
    try:
        wait_for(lambda: process.poll() is None and Lease.objects.filter(name=poller.LEASE).exists()
                 or process.poll() is not None, timeout=30, what="the poller to start")
        assert process.poll() is None, (cluster.log.parent / "pacing.log").read_text()
        calls_before, jobs_before = sum(requests(emulator_process).values()), jobs_run()
        started = time.monotonic()
        first = heartbeat()
        # Its heartbeat comes every RENEW_EVERY seconds; two of them bracket a window of idle time.
        wait_for(lambda: heartbeat().get("queries", 0) > first.get("queries", 0), timeout=poller.RENEW_EVERY + 15,
                 interval=0.5, what="the poller's next heartbeat")
        second = heartbeat()
        window = time.monotonic() - started
    finally:
        assert stop(process) == 0
    per_minute = (second["queries"] - first["queries"]) / max(window, poller.RENEW_EVERY) * 60
    assert per_minute <= 12, (first, second, window)
    assert second["passes"] == first["passes"] == 0  # nothing was due, so nothing was polled
    assert sum(requests(emulator_process).values()) - calls_before <= 1  # the control API call itself
    assert jobs_run() == jobs_before
    g.refresh_from_db()
    assert g.status == Status.QUEUED and g.step_errors == 3


def test_a_poller_that_loses_its_lease_stops_polling_within_one_pass(project, funded, still, cluster,
                                                                     emulator_process):
    cluster.start()
    g = at_runway(project, funded, still, emulator_process)
    wait_for(lambda: Generation.objects.filter(pk=g.pk, status=Status.RUNNING).exists()
             and requests(emulator_process).get(POLLS, 0) >= 2, timeout=60,
             what="the task to be followed at Runway:\n" + cluster.tail())
    # Another holder takes the lease (as one would after this poller stalled past its expiry).
    Lease.objects.filter(name=poller.LEASE).update(holder="another-poller",
                                                   expires_at=timezone.now() + timedelta(minutes=5))
    Generation.objects.filter(pk=g.pk).update(next_poll_at=timezone.now())  # due all the time from now on
    polls_then = requests(emulator_process).get(POLLS, 0)
    time.sleep(4)  # four of its --max-wait 1 s passes: each finds the task due, none may poll it
    assert requests(emulator_process).get(POLLS, 0) - polls_then <= 1
    assert "lost its lease" in cluster.tail(20_000)


def test_two_pollers_never_poll_one_task_twice_within_a_poll_interval(project, funded, still, cluster,
                                                                      emulator_process):
    cluster.start()  # brings one poller
    second = start_poller(cluster, name="second", max_wait=1)
    try:
        g = at_runway(project, funded, still, emulator_process)
        wait_for(lambda: Generation.objects.filter(pk=g.pk, status=Status.RUNNING).exists(), timeout=60,
                 what="the task to run at Runway:\n" + cluster.tail())
        polls_then, started = requests(emulator_process).get(POLLS, 0), time.monotonic()
        time.sleep(12)
        polls = requests(emulator_process).get(POLLS, 0) - polls_then
        window = time.monotonic() - started
    finally:
        assert stop(second) == 0
    interval = 5  # generations.poll.POLL_INTERVAL
    assert polls <= window / interval + 1, polls


def test_sigterm_stops_the_poller_cleanly_and_hands_its_lease_back(project, funded, still, cluster,
                                                                  emulator_process):
    process = start_poller(cluster, name="stopping", max_wait=1)
    wait_for(lambda: Lease.objects.filter(name=poller.LEASE).exclude(holder="").exists(), timeout=30,
             what="the poller to take its lease")
    at_runway(project, funded, still, emulator_process)
    started = time.monotonic()
    assert stop(process) == 0
    assert time.monotonic() - started < 15
    assert not Lease.is_held(poller.LEASE)
    assert os.path.exists(cluster.log.parent / "stopping.log")


def test_make_runs_stop_ends_the_worker_and_the_poller_within_the_grace_period(cluster, emulator_process):
    from config.run import stop_all

    cluster.start()
    wait_for(lambda: len(cluster.worker_pids()) >= 3, timeout=30, what="the cluster's processes to start")
    wait_for(lambda: Lease.objects.filter(name=poller.LEASE).exclude(holder="").exists(), timeout=30,
             what="the poller to take its lease")
    started = time.monotonic()
    killed = stop_all([cluster.process, cluster.poller], grace=30)
    assert killed == []  # both stopped by themselves: no hang, nothing had to be killed
    assert time.monotonic() - started < 30
    assert cluster.process.returncode == 0 and cluster.poller.returncode == 0
    assert not Lease.is_held(poller.LEASE)
