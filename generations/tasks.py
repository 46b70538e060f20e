"""django-q2 entry points: thin, take ids, call the workflow. Polling is the poller's (`manage.py poller`)."""

from generations import copy, notices, outcome, run, variations


def run_generation(generation_id: int) -> None:
    """Upload inputs and submit one generation."""
    run.run_generation(generation_id=generation_id)


def start_group(group_id: int) -> None:
    """Queue the run of each generation of a group of variations."""
    variations.start_group(group_id=group_id)


def copy_outputs(generation_id: int) -> None:
    """Copy a finished generation's outputs into our storage."""
    copy.copy_outputs(generation_id=generation_id)


def sweep_notices() -> int:
    """Scheduled: write the notifications a crash kept from being written; how many."""
    return notices.sweep()


def close_finished_holds() -> int:
    """Scheduled: settle or release holds left open on finished generations; how many were closed."""
    return outcome.close_finished_holds()
