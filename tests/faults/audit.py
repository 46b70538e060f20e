"""After a fault run: every generation accounted for — finished or flagged, paid once, outputs kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Sum

from credits.models import Account, Hold, HoldState, Kind, LedgerEntry
from generations.models import Generation, Status


@dataclass
class Audit:
    generations: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    flagged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.problems)


def settled(generation: Generation) -> bool:
    return generation.is_finished or (generation.needs_attention and generation.status == Status.SUBMITTING
                                      and not generation.runway_task_id)


def audit(generations: list[Generation], *, tasks_created: int, media_root: Path) -> Audit:
    """Check every promise the pipeline makes; each broken one is a problem (a lost item)."""
    result = Audit(generations=len(generations))
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
            if any(h.state != HoldState.OPEN for h in holds) or closings:
                result.problems.append(f"{where} is flagged but its hold was closed")
            continue
        if any(h.state == HoldState.OPEN for h in holds):
            result.problems.append(f"{where} finished with its hold still open")
        if closings != len(holds):
            result.problems.append(f"{where} has {closings} settle/release entries for {len(holds)} holds")
        charged = sum(h.charged or 0 for h in holds)
        if charged > max(g.estimated_credits, g.cost_credits or 0):
            result.problems.append(f"{where} charged {charged}, more than it cost")
        if g.status == Status.FAILED and not g.failure_message:
            result.problems.append(f"{where} failed without a message")
        if g.status == Status.SUCCEEDED:
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
    if len(set(task_ids)) != len(task_ids):
        result.problems.append("two generations share a Runway task")
    unmatched = tasks_created - len(task_ids)
    if unmatched < 0 or unmatched > result.flagged:
        result.problems.append(f"Runway made {tasks_created} tasks for {len(task_ids)} recorded "
                               f"and {result.flagged} flagged generations")
    for account in Account.objects.all():
        sums = account.entries.aggregate(amount=Sum("amount"), held=Sum("held_delta"))
        open_total = account.holds.filter(state=HoldState.OPEN).aggregate(t=Sum("amount"))["t"] or 0
        if ((sums["amount"] or 0), (sums["held"] or 0), open_total) != (account.balance, account.held, account.held):
            result.problems.append(f"ledger of {account} does not add up")
    return result
