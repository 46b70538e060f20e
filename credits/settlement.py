"""The one rule that closes a generation's hold, used by every caller (live steps and the clean-up sweep).

CONTRACT §3.1 and §3.3: a task that SUCCEEDED is charged Runway's `cost` (our
estimate when it gave none); a task that ended otherwise is charged what
Runway reports it kept (a `cost` above 0), or — with no `cost` — the estimate
when it was cancelled while RUNNING; everything else gives the hold back. A
reported cost of 0 releases the hold, whichever path closes it, so the same
outcome always leaves the same ledger entry.

Takes ids and figures only: `generation` is whatever row the hold names (the
ledger reads its pk, creator, project, model and dates), never imported here.
"""

from __future__ import annotations

from . import ledger

SUCCEEDED = "SUCCEEDED"
CANCELLED = "CANCELLED"


def charge_for(*, outcome: str, cost: int | None, estimate: int, was_running: bool) -> int | None:
    """Credits that stay charged for a finished task; None when the whole hold comes back."""
    if outcome == SUCCEEDED:
        return estimate if cost is None else cost
    if cost:
        return cost
    if cost is None and outcome == CANCELLED and was_running:
        return estimate
    return None


def close_hold(*, generation, outcome: str, cost: int | None = None, was_running: bool = False) -> bool:
    """Settle or release a finished generation's hold by the rule above; True only for the call that did it."""
    charge = charge_for(outcome=outcome, cost=cost, estimate=generation.estimated_credits, was_running=was_running)
    if charge is None:
        return ledger.release_hold(generation=generation)
    return ledger.settle_hold(generation=generation, credits=charge, reported=cost)
