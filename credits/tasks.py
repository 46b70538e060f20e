"""django-q2 entry points for credits: thin wrappers over the workflows."""

from . import ledger, organization


def sync_organization_task() -> int:
    """Snapshot the organization and refresh recent usage; the snapshot's id."""
    return organization.sync_all().pk


def close_finished_holds_task() -> int:
    """Settle or release holds left open on finished generations; how many were closed."""
    return ledger.close_finished_holds()
