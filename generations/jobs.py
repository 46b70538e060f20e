"""Queueing the pipeline's django-q2 jobs, and the backoff between retries."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

MAX_BACKOFF = 120.0


def enqueue(func: str, *args: Any) -> None:
    """Queue a django-q2 job; on the ORM broker it commits with the caller's transaction."""
    if "orm" in settings.Q_CLUSTER:
        async_task(func, *args)
    else:
        transaction.on_commit(lambda: async_task(func, *args))


def backoff(attempt: int, retry_after: float | None = None) -> timedelta:
    """Capped exponential backoff with up to 50 % jitter, never shorter than Retry-After."""
    delay = min(MAX_BACKOFF, 2.0 * 2 ** max(0, attempt - 1))
    delay *= 1 + random.random() * 0.5  # noqa: S311 — jitter, not security
    if retry_after:
        delay = max(delay, retry_after)
    return timedelta(seconds=delay)
