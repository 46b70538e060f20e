"""What each step of a generation costs the database, through the real steps, SDK and emulator.

A generation goes through submit, the run (upload + create), the poll and the copy about
once each, so every query a step makes is paid on every generation (bench_pipeline.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generations import copy, poll, run
from generations import submit as submitting
from generations.models import Status

pytestmark = pytest.mark.django_db


def queries_of(step, *args, **kwargs) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        step(*args, **kwargs)
    return [q["sql"] for q in queries.captured_queries]


def test_the_run_and_the_copy_read_nothing_they_just_wrote(project, funded, image, runway_emulator):
    g = submitting.submit_generation(project=project, user=funded, endpoint="image_to_video", model="gen4_turbo",
                                     params={"prompt_image": image.pk, "ratio": "1280:720", "duration": 5})
    ran = queries_of(run.run_generation, generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.PENDING and g.runway_task_id
    # The inputs are read once for the upload and the create; the row is not read back after the fence.
    assert sum('FROM "generations_asset"' in q for q in ran) == 1, ran
    assert sum(q.startswith('SELECT "generations_generation"') for q in ran) == 1, ran
    runway_emulator.advance_clock(600)
    poll.sweep_once(now=timezone.now() + timedelta(minutes=10))
    g.refresh_from_db()
    assert g.status == Status.COPYING
    copied = queries_of(copy.copy_outputs, generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED and g.outputs.count() == 1
    # The claim is let go by the statement that finishes the generation, not by one more after it.
    assert (g.claim_token, g.claimed_at) == ("", None)
    finishing = next(i for i, q in enumerate(copied) if "SET \"status\" = 'SUCCEEDED'" in q)
    assert "\"claim_token\" = ''" in copied[finishing]
    assert not any("claim_token" in q for q in copied[finishing + 1:]), copied[finishing:]
