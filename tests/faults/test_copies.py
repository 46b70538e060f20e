"""Copies done once: a slow, large output under a real qcluster and poller is downloaded and stored once.

Runway's output host is slowed to 80 KB/s for a 12 MB file (about 150 s): longer than the
old job timeout, and long enough for any second copy job to start beside the first. The
emulator's own count of the file requests it answered is the truth for "downloaded once".
"""

from __future__ import annotations

import signal
import time

import pytest
from django.core.files.storage import default_storage

from credits.models import Hold, HoldState
from generations import submit as submitting
from generations.models import Generation, Output, Status
from tests.faults.audit import audit
from tests.faults.harness import resume_after_crash, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SIZE = 12_000_000
RATE = 80_000


def file_requests(emulator) -> int:
    return sum(n for key, n in emulator.control.state()["requests"].items() if key.startswith("GET /_files/"))


def assert_charged_as_runway(g, emulator, media_root) -> None:
    """The one task Runway made is the generation's, and Takes charged exactly what Runway did."""
    result = audit([g], charges=emulator.control.charges(), media_root=media_root)
    assert not result.problems, result.problems
    assert not result.mismatches, [str(m) for m in result.mismatches]
    assert (result.tasks, result.compared, result.orphans) == (1, 1, [])


def test_a_12_mb_output_at_80_kb_a_second_is_saved_once(project, funded, cluster, emulator_process, media_root):
    emulator_process.control.inject_fault(task={"output_bytes": SIZE, "bytes_per_second": RATE})
    g = submitting.submit_generation(project=project, user=funded, endpoint="text_to_image", model="gen4_image",
                                     params={"prompt_text": "a very large lighthouse", "ratio": "1920:1080"})
    cluster.start()
    wait_for(lambda: Generation.objects.filter(pk=g.pk, status=Status.COPYING).exists(), timeout=60,
             what="the task to finish at Runway:\n" + cluster.tail())
    wait_for(lambda: Generation.objects.filter(pk=g.pk).exclude(status=Status.COPYING).exists(),
             timeout=SIZE / RATE + 90, interval=1, what="the copy to finish:\n" + cluster.tail())
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED, (g.status, g.failure_message, cluster.tail())
    assert file_requests(emulator_process) == 1  # one download, however many jobs were queued
    output = Output.objects.get(generation=g)
    assert output.size == SIZE
    with default_storage.open(output.file.name, "rb") as stored:
        stored.seek(SIZE - 1)
        assert len(stored.read()) == 1
    assert g.step_errors == 1  # one attempt
    assert not list(cluster.downloads.glob("*"))  # nothing left in the download folder
    assert not Hold.objects.filter(generation=g, state=HoldState.OPEN).exists()
    assert_charged_as_runway(g, emulator_process, media_root)


def test_sigterm_mid_copy_loses_nothing_and_the_next_start_carries_on(project, funded, cluster, emulator_process,
                                                                       media_root):
    # About eight seconds of download: the stop lands while a worker is inside it.
    emulator_process.control.inject_fault(task={"output_bytes": 800_000, "bytes_per_second": 100_000})
    g = submitting.submit_generation(project=project, user=funded, endpoint="text_to_image", model="gen4_image",
                                     params={"prompt_text": "a lighthouse, stopped halfway", "ratio": "1920:1080"})
    cluster.start()
    wait_for(lambda: Generation.objects.filter(pk=g.pk, status=Status.COPYING).exclude(claim_token="").exists(),
             timeout=60, what="a worker to start the copy:\n" + cluster.tail())
    started = time.monotonic()
    for process in (cluster.process, cluster.poller):
        process.send_signal(signal.SIGTERM)  # what make run sends each leader on Ctrl-C
    for process in (cluster.process, cluster.poller):
        process.wait(timeout=60)
    assert time.monotonic() - started < 60
    cluster.kill()  # nothing of either group is left
    g.refresh_from_db()
    assert g.status in (Status.COPYING, Status.SUCCEEDED)
    resume_after_crash()
    cluster.start()
    wait_for(lambda: Generation.objects.filter(pk=g.pk, status=Status.SUCCEEDED).exists(), timeout=90,
             what="the copy to finish after the restart:\n" + cluster.tail())
    assert Output.objects.filter(generation=g).count() == 1
    assert not Hold.objects.filter(generation=g, state=HoldState.OPEN).exists()
    assert not list(cluster.downloads.glob("*"))
    assert_charged_as_runway(g, emulator_process, media_root)
