"""Workflows on people as a whole: switching an account off and on again.

A deactivated person cannot sign in or start generations (the pipeline refuses
inactive users); what they already started runs to the end and settles.
"""

from __future__ import annotations

from django.db import transaction

from ops.audit import record

from .models import User


def _set_active(*, user: User, active: bool, by: User | None, note: str) -> bool:
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=not active).update(is_active=active)
        if changed:
            record(actor=by, action="user.reactivate" if active else "user.deactivate", obj=user,
                   before={"is_active": not active}, after={"is_active": active}, note=note)
    user.refresh_from_db(fields=["is_active"])
    return bool(changed)


def deactivate_user(*, user: User, by: User | None, note: str = "") -> bool:
    """Switch the person off; False if they already were. Their in-flight generations carry on."""
    return _set_active(user=user, active=False, by=by, note=note)


def reactivate_user(*, user: User, by: User | None, note: str = "") -> bool:
    """Let the person sign in and generate again; False if they were active."""
    return _set_active(user=user, active=True, by=by, note=note)
