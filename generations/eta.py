"""How long a generation in flight has left, learned from the model's recent runs.

The run time of a model (from Runway starting the task to its outputs being kept here) is
the median of its last few successful runs in the past two weeks. A running card counts down
from it; a card not started yet says how long the run usually takes once it starts (the wait
in Runway's queue before that is Runway's, and the card shows the queue place instead).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from .models import Generation, Status

WINDOW = timedelta(days=14)
SAMPLES = 20  # runs per model the median is taken over
MIN_SAMPLES = 3  # fewer than this and nothing is said
NOT_STARTED = (Status.QUEUED, Status.UPLOADING, Status.SUBMITTING, Status.PENDING)


def typical_run_times(models: set[str]) -> dict[str, timedelta]:
    """Each model's median run time (models with too few runs left out), remembered for a minute.

    Every open card in flight asks again every few seconds; the median of a model's last runs
    moves only as runs finish, so it is worked out once a minute (per cache), not per poll.
    """
    keys = {model: f"{settings.RUN_TIME_CACHE_PREFIX}{model}" for model in models}
    remembered = cache.get_many(list(keys.values()))
    found = {model: remembered[key] for model, key in keys.items() if key in remembered}
    missing = set(models) - found.keys()
    if missing:
        learned = median_run_times(missing)
        cache.set_many({keys[model]: learned.get(model) for model in missing}, settings.RUN_TIME_CACHE_SECONDS)
        found.update({model: learned.get(model) for model in missing})
    return {model: run for model, run in found.items() if run is not None}


def median_run_times(models: set[str], *, now: datetime | None = None) -> dict[str, timedelta]:
    """Each model's median run time, in one query for all of them (models with too few runs left out)."""
    if not models:
        return {}
    now = now or timezone.now()
    rows = (Generation.objects.filter(model__in=models, status=Status.SUCCEEDED, started_at__isnull=False,
                                      finished_at__gte=now - WINDOW)
            .order_by("-finished_at").values_list("model", "started_at", "finished_at")[:SAMPLES * len(models)])
    runs: dict[str, list[float]] = {}
    for model, started, finished in rows:
        taken = runs.setdefault(model, [])
        if len(taken) < SAMPLES and finished > started:
            taken.append((finished - started).total_seconds())
    return {model: timedelta(seconds=median(taken)) for model, taken in runs.items() if len(taken) >= MIN_SAMPLES}


def _span(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def attach(generations: list, *, now: datetime | None = None) -> None:
    """Set `eta_text` (and, for a running card, `eta_until`, a Unix time) on every card that gets one."""
    now = now or timezone.now()
    asked = [g for g in generations if g.status == Status.RUNNING or g.status in NOT_STARTED]
    typical = typical_run_times({g.model for g in asked})
    for g in generations:
        g.eta_text, g.eta_until = "", None
    for g in asked:
        run = typical.get(g.model)
        if run is None:
            continue
        if g.status == Status.RUNNING and g.started_at:
            until = g.started_at + run
            g.eta_until = int(until.timestamp())
            left = (until - now).total_seconds()
            g.eta_text = f"about {_span(left)} left" if left > 0 else "taking longer than usual"
        else:
            g.eta_text = f"usually about {_span(run.total_seconds())} once it starts"
