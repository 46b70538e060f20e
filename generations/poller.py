"""The poller: one long-running process that follows every generation at Runway, and sleeps between.

Design (why a process, not a re-arming django-q2 job): a job that queues itself
again whenever work remains spins whenever that work is not at Runway yet
(backing off, uploading, copying), and a job killed by the queue's timeout
loses its lease without knowing it. A process supervised like the worker
(`manage.py poller`, started by `make run`) needs neither: it

- takes the poller lease before every pass, and polls only while it holds it:
  any number may run, exactly one polls; one that loses its lease stops polling
  at once and waits to take it back (`standby`); while idle the holder renews it
  every `RENEW_EVERY` seconds;
- asks the database once for the earliest moment anything is due (a poll, a
  backoff ending, a stale step, a copy to resume, a task to delete), and sleeps
  until then — never less than `MIN_WAIT`, never more than `MAX_WAIT`, so a new
  submission is followed within `MAX_WAIT`;
- polls every due task concurrently (`poll.sweep_once`);
- writes its heartbeat (holder, last pass, what it did) on the lease row, where
  queue health shows it;
- stops on SIGTERM or Ctrl-C after the pass in hand, and hands its lease back.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import asdict
from datetime import datetime, timedelta

from django.db import close_old_connections, connection
from django.db.models import Min, Q
from django.utils import timezone

from . import poll
from .models import AT_RUNWAY, Generation, Lease, Status

log = logging.getLogger(__name__)

LEASE = "poller"
LEASE_SECONDS = 90.0  # well above one pass: polls time out after `runway.client.POLL_TIMEOUT`
RENEW_EVERY = 30.0  # while idle, the holder renews (and beats) this often
MIN_WAIT = 0.5
MAX_WAIT = 10.0  # the longest a new task waits for its first poll
STANDBY_WAIT = 15.0  # how often a poller without the lease tries to take it


def next_due(now: datetime) -> datetime | None:
    """The earliest moment any in-flight work needs the poller (None: nothing in flight), in one query."""
    row = Generation.objects.filter(
        Q(status__in=AT_RUNWAY, needs_attention=False) & ~Q(runway_task_id="")
        | Q(status__in=(Status.QUEUED, Status.COPYING))
        | Q(status__in=(Status.UPLOADING, Status.SUBMITTING), needs_attention=False)
        | Q(status=Status.CANCELLED, needs_attention=True)
    ).aggregate(
        poll_at=Min("next_poll_at"),
        idle_since=Min("updated_at", filter=Q(status__in=(Status.QUEUED, Status.UPLOADING, Status.SUBMITTING),
                                             next_poll_at=None)),
    )
    due = [moment for moment in (row["poll_at"], row["idle_since"] and row["idle_since"] + poll.STALE_STEP)
           if moment is not None]
    return min(due) if due else None


class Poller:
    """One poller; `run()` loops until `stop` is set."""

    def __init__(self, *, holder: str | None = None, stop: threading.Event | None = None,
                 lease_seconds: float = LEASE_SECONDS, max_wait: float = MAX_WAIT):
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.stop = stop or threading.Event()
        self.lease_seconds = lease_seconds
        self.max_wait = max_wait
        self.passes = 0
        self.polling = False
        self.renewed = float("-inf")
        self.last: dict = {}
        self.queries = 0  # every query this poller made: its idle cost, shown in its heartbeat

    def _take_lease(self) -> bool:
        held = Lease.acquire(LEASE, self.holder, self.lease_seconds,
                             detail={"passes": self.passes, "queries": self.queries, **self.last})
        if self.polling and not held:
            log.warning("Poller %s lost its lease; it stops polling", self.holder)
        self.polling = held
        if held:
            self.renewed = time.monotonic()
        return held

    def run_once(self) -> float:
        """Poll if anything is due (and the lease is ours); returns the seconds to wait before looking again."""
        # Take the lease (standby pollers) or keep it and beat (the holder, while idle).
        renew = not self.polling or time.monotonic() - self.renewed >= RENEW_EVERY
        if renew and not self._take_lease():
            return STANDBY_WAIT
        now = timezone.now()
        due = next_due(now)
        if due is not None and due <= now:
            if time.monotonic() - self.renewed > MIN_WAIT and not self._take_lease():
                return STANDBY_WAIT  # checked before every pass: lost it, so not a single poll more
            stats = poll.sweep_once(now=now)
            self.passes += 1
            self.last = {"at": now.isoformat(), **asdict(stats)}
            due = next_due(timezone.now())
        wait = self.max_wait if due is None else (due - timezone.now()).total_seconds()
        return min(self.max_wait, max(MIN_WAIT, wait))

    def run(self) -> int:
        """Poll until stopped; returns the passes made. The lease is handed back on the way out."""
        log.info("Poller %s started", self.holder)
        try:
            with connection.execute_wrapper(self._count_query):
                self._loop()
        finally:
            Lease.release(LEASE, self.holder)
            log.info("Poller %s stopped after %d passes", self.holder, self.passes)
        return self.passes

    def _count_query(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                wait = self.run_once()
            except Exception:  # a database hiccup must not end the poller; the supervisor is for crashes
                log.exception("Poll pass failed; trying again shortly")
                close_old_connections()
                wait = self.max_wait
            self.stop.wait(wait)


def heartbeat() -> dict | None:
    """What queue health shows of the poller: who holds the lease, when it last beat, what it did."""
    lease = Lease.objects.filter(name=LEASE).first()
    if lease is None or not lease.holder or lease.expires_at <= timezone.now():
        return None
    age = timezone.now() - lease.beat_at if lease.beat_at else None
    return {"holder": lease.holder, "beat_at": lease.beat_at, "age": age, "detail": lease.detail or {},
            "stale": age is None or age > timedelta(seconds=RENEW_EVERY * 3)}
