"""Writing notifications (once each) and the email digest."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import Notification, Preference

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Note:
    """One notification to write: to whom, in which project, about what."""

    user_id: int
    project_id: int
    event: str
    subject_id: int
    text: str
    url: str


def notify(notes: Iterable[Note]) -> None:
    """Write the notifications not written yet; one already there for the same event is left as it is."""
    Notification.objects.bulk_create(
        [Notification(user_id=n.user_id, project_id=n.project_id, event=n.event, subject_id=n.subject_id,
                      text=n.text[:300], url=n.url[:300]) for n in notes],
        ignore_conflicts=True)


def send_digests(*, now=None) -> int:
    """Email each person who asked for it what finished since their last digest; how many emails went.

    The notifications are marked emailed before the mail goes, in their own transaction, so two
    workers never send the same ones; a mail that then fails to send is unmarked for the next run.
    """
    now = now or timezone.now()
    sent = 0
    for user_id in Preference.objects.filter(email_digest=True).values_list("user_id", flat=True):
        with transaction.atomic():
            rows = list(Notification.objects.select_for_update(skip_locked=True)
                        .filter(user_id=user_id, emailed_at__isnull=True).select_related("user", "project")
                        .order_by("created_at", "pk"))
            if not rows:
                continue
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(emailed_at=now)
        user = rows[0].user
        if not user.email or not user.is_active:
            continue
        lines = [f"• {n.text} ({n.project.name}) {settings.SITE_URL.rstrip('/')}{n.url}" for n in rows]
        try:
            send_mail(f"Takes: {len(rows)} update{'s' if len(rows) != 1 else ''}", "\n".join(lines),
                      None, [user.email])
        except Exception:  # noqa: BLE001 — a mail server's failure: the next run tries again
            log.exception("Could not send the digest to user %s", user_id)
            Notification.objects.filter(pk__in=[n.pk for n in rows], emailed_at=now).update(emailed_at=None)
            continue
        sent += 1
    return sent
