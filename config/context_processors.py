"""What the top bar of every signed-in page shows: the person's balance, unread notifications and credit notices.

All of it (and whether the person asked for browser notifications) comes from one query, made only if the page shows them, and read-only: a page view never
opens a credit account (one not open yet holds the starting grant it will open with).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.functional import SimpleLazyObject

from credits.models import Account, Notice
from notifications.models import Notification, Preference


def _top_bar(request) -> dict[str, int]:
    if not hasattr(request, "_top_bar"):
        user = request.user
        unread = (Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True).values("user")
                  .annotate(n=Count("pk")).values("n"))
        balance = Account.objects.filter(user=OuterRef("pk")).values("balance")[:1]
        browser = Preference.objects.filter(user=OuterRef("pk")).values("browser")[:1]
        notices = (Notice.objects.filter(user=OuterRef("pk"), dismissed_at=None).values("user")
                   .annotate(n=Count("pk")).values("n"))
        row = (get_user_model().objects.filter(pk=user.pk)
               .annotate(balance=Subquery(balance, output_field=IntegerField()),
                         unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
                         browser=Coalesce(Subquery(browser, output_field=BooleanField()), False),
                         notices=Coalesce(Subquery(notices, output_field=IntegerField()), 0))
               .values("balance", "unread", "browser", "notices").first()
               ) or {"balance": None, "unread": 0, "browser": False, "notices": 0}
        if row["balance"] is None:  # no account yet: it opens with the starting grant
            row["balance"] = settings.STARTING_CREDITS
        request._top_bar = row
    return request._top_bar


def top_bar(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"credit_balance": SimpleLazyObject(lambda: _top_bar(request)["balance"]),
            "unread_notifications": SimpleLazyObject(lambda: _top_bar(request)["unread"]),
            "browser_notices": SimpleLazyObject(lambda: _top_bar(request)["browser"]),
            "unread_credit_notices": SimpleLazyObject(lambda: _top_bar(request)["notices"]),
            "notice_poll_seconds": settings.NOTICE_POLL_SECONDS}
