"""Workflows on people as a whole: switching an account off and on again.

A deactivated person cannot sign in or start generations (the pipeline refuses
inactive users); what they already started runs to the end and settles.
"""

from __future__ import annotations

from django.db import transaction

from ops.audit import record

from .models import User


def deactivate_user(*, user: User, by: User | None, note: str = "") -> bool:
    """Switch the person off; False if they already were. Their in-flight generations carry on."""
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False)
        if changed:
            record(actor=by, action="user.deactivate", obj=user, before={"is_active": True},
                   after={"is_active": False}, note=note)
    user.refresh_from_db(fields=["is_active"])
    return bool(changed)


def reactivate_user(*, user: User, by: User | None, note: str = "") -> bool:
    """Let the person sign in and generate again; False if they were active."""
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=False).update(is_active=True)
        if changed:
            record(actor=by, action="user.reactivate", obj=user, before={"is_active": False},
                   after={"is_active": True}, note=note)
    user.refresh_from_db(fields=["is_active"])
    return bool(changed)
