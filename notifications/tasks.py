"""django-q2 entry points of notifications."""

from notifications import record


def send_digests() -> int:
    """Scheduled: email each person who asked for a digest what finished since the last one."""
    return record.send_digests()
