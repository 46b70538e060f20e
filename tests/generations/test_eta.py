"""The time left on in-flight cards, learned from the same model's recent runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from generations.models import Status
from tests.generations.test_views import make_generation

pytestmark = pytest.mark.django_db


def card(client, generation) -> str:
    url = reverse("generations:detail", args=[generation.project.slug, generation.pk])
    return client.get(url, HTTP_HX_REQUEST="true").content.decode()


def ran(project, user, seconds, *, model="gen4.5", ago=timedelta(hours=1), status=Status.SUCCEEDED):
    finished = timezone.now() - ago
    return make_generation(project, user, status, model=model, started_at=finished - timedelta(seconds=seconds),
                           finished_at=finished)


def test_a_running_card_counts_down_from_the_median_of_recent_runs(viewer_client, project, editor):
    for seconds in (30, 40, 200):
        ran(project, editor, seconds)
    running = make_generation(project, editor, Status.RUNNING, started_at=timezone.now() - timedelta(seconds=10))
    body = card(viewer_client, running)
    assert "about 30 s left" in body
    until = int((running.started_at + timedelta(seconds=40)).timestamp())
    assert f'data-until="{until}"' in body


def test_a_card_not_started_says_how_long_a_run_takes(viewer_client, project, editor):
    for seconds in (50, 70, 90, 110):
        ran(project, editor, seconds)
    pending = make_generation(project, editor, Status.PENDING)
    body = card(viewer_client, pending)
    assert "usually about 1 min once it starts" in body and "data-until" not in body


def test_a_run_past_the_usual_time_says_so(viewer_client, project, editor):
    for seconds in (20, 20, 20):
        ran(project, editor, seconds)
    late = make_generation(project, editor, Status.RUNNING, started_at=timezone.now() - timedelta(minutes=2))
    assert "taking longer than usual" in card(viewer_client, late)


def test_nothing_is_said_without_enough_recent_successful_runs_of_that_model(viewer_client, project, editor):
    ran(project, editor, 30)
    ran(project, editor, 30)
    ran(project, editor, 30, ago=timedelta(days=15))  # too old
    ran(project, editor, 30, status=Status.FAILED)  # not a run to learn from
    ran(project, editor, 30, model="gen4_turbo")  # another model
    running = make_generation(project, editor, Status.RUNNING, started_at=timezone.now())
    body = card(viewer_client, running)
    assert "left" not in body and "once it starts" not in body and "gen-eta" not in body


def test_throttled_and_finished_cards_show_no_estimate(viewer_client, project, editor):
    for seconds in (30, 30, 30):
        ran(project, editor, seconds)
    throttled = make_generation(project, editor, Status.THROTTLED, submitted_at=timezone.now())
    assert "gen-eta" not in card(viewer_client, throttled)
    assert "gen-eta" not in card(viewer_client, ran(project, editor, 30))


def test_polls_within_the_minute_reuse_the_models_run_time(viewer_client, project, editor):
    """A card polled every few seconds works the median out once, not on every poll, and still shows it."""
    for seconds in (30, 40, 200):
        ran(project, editor, seconds)
    running = make_generation(project, editor, Status.RUNNING, started_at=timezone.now() - timedelta(seconds=10))
    assert "s left" in card(viewer_client, running)
    with CaptureQueriesContext(connection) as queries:
        body = card(viewer_client, running)
    assert "s left" in body
    learning = [q["sql"] for q in queries.captured_queries if '"started_at" IS NOT NULL' in q["sql"]]
    assert learning == [], learning
