"""django-q2 entry points of the gallery."""

from gallery import actions


def purge_trash() -> int:
    """Scheduled daily: delete for good the outputs a month in the trash, files and all; how many."""
    return actions.purge_trash()
