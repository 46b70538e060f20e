"""The task engine: lifecycle on the emulator clock, concurrency, daily limits and credits."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict, deque
from dataclasses import asdict
from typing import Any

from . import models
from .clock import Clock, day, iso
from .state import TERMINAL, LedgerEntry, Task
from .store import Store

EARLY_FAILURES = ("SAFETY.INPUT.", "INPUT_PREPROCESSING.")
DAY = 86_400.0


class LimitError(Exception):
    """A create refused by the organization's limits; carries the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Engine:
    """Owns tasks, the organization's balance and limits, and moves tasks along the clock."""

    def __init__(self, clock: Clock, store: Store, *, speed: float, credits: int,
                 tier: int) -> None:
        self.clock = clock
        self.store = store
        self.speed = speed
        self.balance = credits
        self.tier = tier
        self.limit_overrides: dict[str, dict[str, int]] = {}
        self.tasks: dict[str, Task] = {}
        self.ledger: list[LedgerEntry] = []
        self.created_per_model: dict[str, int] = defaultdict(int)
        self._holders: dict[str, list[Task]] = defaultdict(list)
        self._throttled: dict[str, deque[Task]] = defaultdict(deque)
        self._daily: dict[str, deque[float]] = defaultdict(deque)

    # --- limits ---------------------------------------------------------------------------

    def limits(self, model: str) -> tuple[int, int]:
        """(maxConcurrentGenerations, maxDailyGenerations) for a model right now."""
        concurrency, daily = models.tier_limits(self.tier, model)
        override = self.limit_overrides.get(model, {})
        return (override.get("maxConcurrentGenerations", concurrency),
                override.get("maxDailyGenerations", daily))

    def daily_generations(self, model: str) -> int:
        """Generations of a model created in the rolling 24 h window."""
        window = self._daily[model]
        cutoff = self.clock.now() - DAY
        while window and window[0] <= cutoff:
            window.popleft()
        return len(window)

    def at_capacity(self, model: str) -> bool:
        """Whether a new task of the model would wait (THROTTLED): every slot held, or a queue already."""
        self.tick(model)
        return len(self._holders[model]) >= self.limits(model)[0] or bool(self._throttled[model])

    # --- lifecycle ------------------------------------------------------------------------

    def _durations(self, task: Task) -> tuple[float, float]:
        pending, running = models.TIMINGS[task.kind]
        return pending * self.speed, running * self.speed

    def _finish_time(self, task: Task) -> float:
        if task.queued_at is None or task.hang:
            return math.inf
        pending, running = self._durations(task)
        if task.fail_code and task.fail_code.startswith(EARLY_FAILURES):
            return task.queued_at + pending
        return task.queued_at + pending + running

    def tick(self, model: str | None = None) -> None:
        """Advance every live task (of one model, or all) to the current time."""
        now = self.clock.now()
        for name in [model] if model else list(self._holders):
            self._advance(name, now)

    def _advance(self, model: str, now: float) -> None:
        holders = self._holders[model]
        queue = self._throttled[model]
        concurrency = self.limits(model)[0]
        while queue and len(holders) < concurrency:
            self._start(queue.popleft(), now)
        while holders:
            done = min(holders, key=self._finish_time)
            finish = self._finish_time(done)
            if finish > now:
                break
            holders.remove(done)
            self._finish(done, finish)
            while queue and len(holders) < concurrency:
                waiting = queue.popleft()
                self._start(waiting, max(finish, waiting.created_at))

    def _start(self, task: Task, at: float) -> None:
        task.queued_at = at
        task.status = "PENDING"
        self._holders[task.model].append(task)
        self.store.save_task(task)

    def _finish(self, task: Task, at: float) -> None:
        task.finished_at = at
        if task.fail_code:
            task.status = "FAILED"
            charged = task.fail_code.startswith(("SAFETY.", "INPUT_PREPROCESSING.SAFETY"))
            self._settle(task, task.estimate if charged else 0, at)
        else:
            task.status = "SUCCEEDED"
            final = self._final_cost(task)
            self._settle(task, final, at)
        self.store.save_task(task)

    def _final_cost(self, task: Task) -> int:
        plan = task.plan
        if plan["kind"] == "video" and plan["billed_seconds"] > plan["seconds"] > 0:
            return math.ceil(task.estimate * plan["seconds"] / plan["billed_seconds"])
        return task.estimate

    def _settle(self, task: Task, final: int, at: float) -> None:
        task.cost = final
        refund = task.estimate - final
        if refund:
            self.balance += refund
            self._record(LedgerEntry(at, task.model, -refund, task.id))
            self.store.save_meta("balance", self.balance)

    def _record(self, entry: LedgerEntry) -> None:
        self.ledger.append(entry)
        self.store.add_ledger(entry)

    def status_of(self, task: Task) -> tuple[str, float]:
        """(status, progress) of a task at the current time."""
        if task.status in TERMINAL:
            return task.status, 1.0
        pinned = task.meta.get("pinned")
        if pinned:
            return pinned["status"], pinned["progress"]
        if task.queued_at is None:
            return "THROTTLED", 0.0
        now = self.clock.now()
        pending, running = self._durations(task)
        if now < task.queued_at + pending:
            return "PENDING", 0.0
        if task.hang:
            return "RUNNING", 0.5
        elapsed = now - task.queued_at - pending
        progress = min(0.99, elapsed / running) if running > 0 else 0.99
        return "RUNNING", round(progress, 2)

    # --- create / delete ------------------------------------------------------------------

    def create(self, *, endpoint: str, model: str, body: dict[str, Any],
               plan: models.OutputPlan, estimate: int, api_key: str = "",
               task_id: str | None = None) -> Task:
        """Charge, count and queue a new task; raises ``LimitError`` when refused."""
        self.tick(model)
        if estimate > self.balance:
            raise LimitError(400, "You do not have enough credits to run this task.")
        daily = self.limits(model)[1]
        if self.daily_generations(model) >= daily:
            raise LimitError(429, f"You have reached your daily generation limit of {daily} "
                                  f"for {model}. Try again later.")
        now = self.clock.now()
        task = Task(id=task_id or str(uuid.uuid4()), endpoint=endpoint, model=model,
                    created_at=now, estimate=estimate, plan=asdict(plan), body=body,
                    api_key=api_key)
        self.balance -= estimate
        self.store.save_meta("balance", self.balance)
        self._record(LedgerEntry(now, model, estimate, task.id))
        self._daily[model].append(now)
        self.created_per_model[model] += 1
        self.store.save_meta("created_per_model", dict(self.created_per_model))
        self.tasks[task.id] = task
        if len(self._holders[model]) < self.limits(model)[0] and not self._throttled[model]:
            self._start(task, now)
        else:
            self._throttled[model].append(task)
            self.store.save_task(task)
        return task

    def get(self, task_id: str) -> Task | None:
        """A live (not deleted) task by id, advanced to now."""
        task = self.tasks.get(task_id)
        if task is None or task.deleted:
            return None
        self.tick(task.model)
        return task

    def delete(self, task_id: str) -> bool:
        """Cancel a running task or delete a finished one; False when unknown."""
        task = self.get(task_id)
        if task is None:
            return False
        status, _ = self.status_of(task)
        now = self.clock.now()
        if status not in TERMINAL:
            if task in self._holders[task.model]:
                self._holders[task.model].remove(task)
            elif task in self._throttled[task.model]:
                self._throttled[task.model].remove(task)
            task.status = "CANCELLED"
            task.finished_at = now
            self._settle(task, task.estimate if status == "RUNNING" else 0, now)
            self.tick(task.model)
        task.deleted = True
        self.store.save_task(task)
        return True

    def adopt(self, task: Task) -> None:
        """Take a task (restored from storage or seeded) into the live indexes."""
        self.tasks[task.id] = task
        if not task.seeded:
            self._daily[task.model].append(task.created_at)
        if task.deleted or task.status in TERMINAL or task.meta.get("pinned"):
            return
        if task.queued_at is None:
            self._throttled[task.model].append(task)
        else:
            self._holders[task.model].append(task)

    # --- views ----------------------------------------------------------------------------

    def task_json(self, task: Task, outputs: list[str]) -> dict[str, Any]:
        """The wire form of ``GET /v1/tasks/{id}``."""
        status, progress = self.status_of(task)
        body: dict[str, Any] = {"id": task.id, "createdAt": iso(task.created_at), "status": status}
        if status in TERMINAL:
            body["cost"] = {"credits": int(task.cost or 0)}
        else:
            body["estimatedCost"] = {"credits": task.estimate}
        if status == "RUNNING":
            body["progress"] = progress
        elif status == "SUCCEEDED":
            body["output"] = outputs
        elif status == "FAILED":
            code = task.fail_code or "INTERNAL"
            body["failure"] = models.FAILURE_TEXT.get(code, "The task failed.")
            body["failureCode"] = code
        return body

    def organization_json(self) -> dict[str, Any]:
        """The wire form of ``GET /v1/organization``."""
        self.tick()
        tier_models: dict[str, Any] = {}
        usage: dict[str, Any] = {}
        for model in models.all_models():
            concurrency, daily = self.limits(model)
            tier_models[model] = {"maxConcurrentGenerations": concurrency,
                                  "maxDailyGenerations": daily}
            usage[model] = {"dailyGenerations": self.daily_generations(model)}
        return {
            "creditBalance": self.balance,
            "tier": {"maxMonthlyCreditSpend": models.TIERS[self.tier].monthly_credits,
                     "models": tier_models},
            "usage": {"models": usage},
        }

    def usage_json(self, start: str, before: str) -> dict[str, Any]:
        """The wire form of ``POST /v1/organization/usage`` for ``[start, before)``."""
        self.tick()
        per_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for entry in self.ledger:
            when = day(entry.at)
            if start <= when < before:
                per_day[when][entry.model] += entry.amount
        used = sorted({m for amounts in per_day.values() for m in amounts})
        results = [{"date": when, "usedCredits": [{"model": m, "amount": a}
                                                  for m, a in sorted(amounts.items())]}
                   for when, amounts in sorted(per_day.items())]
        return {"results": results, "models": used}

    def counts(self) -> dict[str, Any]:
        """Tallies for the control API's state summary."""
        self.tick()
        by_status: dict[str, int] = defaultdict(int)
        for task in self.tasks.values():
            by_status["DELETED" if task.deleted else self.status_of(task)[0]] += 1
        return {"tasks_created": dict(self.created_per_model), "tasks_by_status": dict(by_status),
                "tasks_total": len(self.tasks)}

    def charges(self) -> dict[str, int]:
        """Net credits the organization paid per task id: its ledger entries summed (charge less refund)."""
        self.tick()
        net: dict[str, int] = defaultdict(int)
        for entry in self.ledger:
            net[entry.task_id] += entry.amount
        return dict(net)
