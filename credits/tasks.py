"""django-q2 entry points for credits: thin wrappers over the workflows."""

from . import organization


def sync_organization_task() -> int:
    """Snapshot the organization and refresh recent usage; the snapshot's id."""
    return organization.sync_all().pk
