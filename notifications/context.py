"""The unread count for the bell in the top bar: one query per page, only for signed-in people."""

from django.utils.functional import SimpleLazyObject

from .models import Notification


def unread(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: Notification.objects.filter(user=user).unread().count())}
