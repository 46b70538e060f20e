"""django-q2 entry points: thin, take ids, call the workflow in `webhooks.delivery`."""

from webhooks import delivery


def deliver_event(event_pk: int) -> int:
    """Send a new event's deliveries (queued with the event)."""
    return delivery.deliver_event(event_pk=event_pk)


def deliver_due() -> int:
    """Scheduled every minute: send retries that are due and deliveries a crash left claimed."""
    return delivery.deliver_due()


def purge_old() -> int:
    """Scheduled daily: delete events older than 30 days whose deliveries are all finished."""
    return delivery.purge_old()
