"""After a fault run: every generation accounted for — finished or flagged, paid once, outputs kept —
and what Takes charged for each one exactly what Runway charged for its task.

The truth for money is the emulator's own list of charges (`Control.charges()`: every task it
ever made, with the net credits the organization paid for it and whether the answer to its
create call was replaced by an injected fault). For every generation that ended, Takes' settled
credits (the hold's `charged` and the ledger's charge) must equal Runway's figure for its task,
in both directions; a generation that never got a task must have been charged nothing. A
generation flagged for ops (its submission's outcome unknown, its hold still open) is counted
apart: nobody knows yet what it costs. A task Runway made that no generation knows of is an
orphan; it is acceptable only when the emulator says the client never got the create call's
normal answer (so it could not learn the id) — any other orphan is a problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Sum

from credits.models import Account, Hold, HoldState, Kind, LedgerEntry
from generations.models import Generation, Status


@dataclass(frozen=True)
class Mismatch:
    """A generation whose charge in Takes differs from what Runway charged for its task."""

    generation: int
    task: str
    takes: int
    runway: int | None  # None: Runway has no such task

    def __str__(self) -> str:
        if self.runway is None:
            return (f"generation {self.generation} was charged {self.takes} credits for task {self.task}, "
                    f"which Runway does not have")
        task = f"task {self.task}" if self.task else "no task"
        return (f"generation {self.generation} ({task}) was charged {self.takes} credits by Takes "
                f"and {self.runway} by Runway")


@dataclass
class Audit:
    generations: int = 0
    tasks: int = 0  # tasks the emulator reported
    by_status: dict[str, int] = field(default_factory=dict)
    flagged: int = 0
    flagged_ids: list[int] = field(default_factory=list)
    compared: int = 0  # generations whose charge was compared with Runway's
    orphans: list[str] = field(default_factory=list)  # Runway tasks no generation knows
    mismatches: list[Mismatch] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.problems) + len(self.mismatches)


def settled(generation: Generation) -> bool:
    return generation.is_finished or (generation.needs_attention and generation.status == Status.SUBMITTING
                                      and not generation.runway_task_id)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def reply_faulted(charges: Iterable[dict[str, Any]]) -> set[str]:
    """Ids of the tasks whose create answer never reached the client as the normal success body."""
    return {c["id"] for c in charges if c["replyFaulted"]}


def audit(generations: list[Generation], *, charges: list[dict[str, Any]], media_root: Path,
          forgotten: Iterable[str] = (), killed: bool = False) -> Audit:
    """Check every promise the pipeline makes; each broken one is a problem (a lost item) or a mismatch.

    `charges` is the emulator's list (`Control.charges()`). `forgotten` names tasks an emulator
    lost with its state while they ran (a restart that forgets everything): what it had charged
    for them went with it and the restarted one bills nothing, so their generations must have
    been charged nothing. `killed` says workers were killed during the run: a kill between
    Runway's answer to a create call and our write of its task id loses that answer as surely
    as a fault does (the emulator cannot see it), so such a task counts as a lost answer too.
    """
    runway = {c["id"]: c for c in charges}
    forgotten = set(forgotten)
    result = Audit(generations=len(generations), tasks=len(runway))
    task_ids = []
    for g in generations:
        g.refresh_from_db()
        key = f"{g.status}{' (flagged)' if g.needs_attention else ''}"
        result.by_status[key] = result.by_status.get(key, 0) + 1
        where = f"generation {g.pk} ({g.status})"
        if not settled(g):
            result.problems.append(f"{where} neither finished nor flagged: {g.attention_reason}")
            continue
        if g.runway_task_id:
            task_ids.append(g.runway_task_id)
        holds = list(Hold.objects.filter(generation=g))
        closings = LedgerEntry.objects.filter(generation=g, kind__in=(Kind.SETTLE, Kind.RELEASE)).count()
        if len(holds) != 1:
            result.problems.append(f"{where} has {len(holds)} holds")
        if g.needs_attention:
            result.flagged += 1
            result.flagged_ids.append(g.pk)
            if any(h.state != HoldState.OPEN for h in holds) or closings:
                result.problems.append(f"{where} is flagged but its hold was closed")
            continue
        if any(h.state == HoldState.OPEN for h in holds):
            result.problems.append(f"{where} finished with its hold still open")
        if closings != len(holds):
            result.problems.append(f"{where} has {closings} settle/release entries for {len(holds)} holds")
        _compare_charge(g, holds, runway, forgotten, result, where)
        if g.status == Status.FAILED and not g.failure_message:
            result.problems.append(f"{where} failed without a message")
        if g.status == Status.SUCCEEDED:
            _check_outputs(g, media_root, result, where)
    if len(set(task_ids)) != len(task_ids):
        result.problems.append("two generations share a Runway task")
    known = set(task_ids)
    result.orphans = [task_id for task_id in runway if task_id not in known]
    for task_id in result.orphans:
        task = runway[task_id]
        if not task["replyFaulted"] and not killed:
            result.problems.append(f"Runway task {task_id} ({task['model']}, {task['status']}, charged "
                                   f"{task['charged']}) belongs to no generation, though its create answer "
                                   f"reached the client")
    lost_answers = sum(bool(killed or runway[task_id]["replyFaulted"]) for task_id in result.orphans)
    if lost_answers > result.flagged:
        # Each such task is one ops must find from a flagged generation; one more is one nobody looks for.
        result.problems.append(f"Runway made {_count(lost_answers, 'task')} whose create answer was lost, but "
                               f"only {_count(result.flagged, 'generation')} flagged for ops to look for them")
    for account in Account.objects.all():
        sums = account.entries.aggregate(amount=Sum("amount"), held=Sum("held_delta"))
        open_total = account.holds.filter(state=HoldState.OPEN).aggregate(t=Sum("amount"))["t"] or 0
        if ((sums["amount"] or 0), (sums["held"] or 0), open_total) != (account.balance, account.held, account.held):
            result.problems.append(f"ledger of {account} does not add up")
    return result


def _compare_charge(g: Generation, holds: list[Hold], runway: dict[str, dict[str, Any]], forgotten: set[str],
                    result: Audit, where: str) -> None:
    """Takes' settled credits for a finished generation against Runway's charge for its task."""
    charges = LedgerEntry.objects.filter(generation=g, kind=Kind.SETTLE, account__project__isnull=True)
    ledger = charges.aggregate(credits=Sum("credits"), uncharged=Sum("uncharged"))
    charged, uncharged = ledger["credits"] or 0, ledger["uncharged"] or 0
    on_holds = sum(h.charged or 0 for h in holds if h.account.project_id is None)
    if on_holds != charged:
        result.problems.append(f"{where}: its hold says {on_holds} credits were charged, the ledger {charged}")
    # What Takes billed: what the person paid plus what their balance could not cover.
    takes = charged + uncharged
    task_id = g.runway_task_id
    if not task_id or task_id in forgotten:
        runway_charged: int | None = 0
    elif task_id in runway:
        runway_charged = runway[task_id]["charged"]
        if runway[task_id]["model"] != g.model:
            result.problems.append(f"{where} is a {g.model} generation, its task {task_id} a "
                                   f"{runway[task_id]['model']} task")
    else:
        runway_charged = None
    result.compared += 1
    if takes != runway_charged:
        result.mismatches.append(Mismatch(generation=g.pk, task=task_id, takes=takes, runway=runway_charged))


def _check_outputs(g: Generation, media_root: Path, result: Audit, where: str) -> None:
    urls = (g.task_json or {}).get("output") or []
    outputs = list(g.outputs.order_by("index"))
    if [o.index for o in outputs] != list(range(len(urls))) or not urls:
        result.problems.append(f"{where} kept outputs {[o.index for o in outputs]} of {len(urls)}")
    for o in outputs:
        if not o.file.storage.exists(o.file.name):
            result.problems.append(f"{where}: output {o.index} has no file")
    folder = media_root / "outputs" / str(g.project_id) / str(g.pk)
    stored = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    if len(stored) != len(outputs):
        result.problems.append(f"{where}: {len(stored)} files stored for {len(outputs)} outputs: {stored}")
