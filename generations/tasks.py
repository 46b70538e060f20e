"""django-q2 entry points: thin, take ids, call the workflow."""

from generations import copy, outcome, poll, run


def run_generation(generation_id: int) -> None:
    """Upload inputs and submit one generation."""
    run.run_generation(generation_id=generation_id)


def copy_outputs(generation_id: int) -> None:
    """Copy a finished generation's outputs into our storage."""
    copy.copy_outputs(generation_id=generation_id)


def poll_sweep() -> None:
    """Poll every in-flight generation until none is left (re-arms itself)."""
    poll.run_sweep()


def watchdog() -> None:
    """Scheduled every minute: restart the sweep if it died while work remains."""
    if poll.work_remains() or poll.resume_stalled()[0]:
        poll.ensure_sweep()


def close_finished_holds() -> int:
    """Scheduled: settle or release holds left open on finished generations; how many were closed."""
    return outcome.close_finished_holds()
