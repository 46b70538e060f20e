"""The one place that decides who may see and change what.

Every view that touches a project goes through `access_project` (directly or
via the `project_view` decorator). A non-member gets 404, never a hint that
the project exists; a member without the needed role gets 403 with a message.
Pages for staff only go through `staff_view`: for anyone else they do not exist.

The roles are the vocabulary of access, so they are defined here; memberships
(in `accounts`) store one of them. Memberships are read through the user's
reverse relation, so this module imports no app.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    OWNER = "owner", "Owner"


ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}

ROLE_NEEDED_MESSAGE = {
    Role.EDITOR: "You need to be an editor of this project to do that.",
    Role.OWNER: "Only owners of this project can do that.",
}


def has_role(role_held: str, role_needed: str) -> bool:
    """True when `role_held` ranks at least as high as `role_needed`."""
    return ROLE_RANK[role_held] >= ROLE_RANK[role_needed]


def access_project(request, slug: str, role: str = Role.VIEWER):
    """The request user's membership of the project `slug`, checked for `role`."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        raise Http404("No such project")
    # A person has one membership of a project; `order_by()` spares the join the default ordering needs.
    membership = user.memberships.select_related("project").filter(project__slug=slug).order_by().first()
    if membership is None:
        raise Http404("No such project")
    if not has_role(membership.role, role):
        raise PermissionDenied(ROLE_NEEDED_MESSAGE.get(role, "You may not do that here."))
    request.membership = membership
    request.project = membership.project
    return membership


def project_view(role: str = Role.VIEWER):
    """Decorate a view taking `slug`: checks access and passes `membership` instead."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            membership = access_project(request, slug, role)
            return view(request, membership, *args, **kwargs)

        return wrapper

    return decorator


def staff_view(view):
    """Decorate a view for active staff; for anyone else the page does not exist (404)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            raise Http404("No such page")
        return view(request, *args, **kwargs)

    return wrapper


def access_token_project(token, role: str = Role.EDITOR):
    """The membership an API token acts through: its person's in its project, checked for `role`.

    A token is a person acting in one project, so it may do there only what the person may do
    now: one who left the project (or lost the role) holds a token that no longer opens it.
    Raises Http404 when the person is not a member, PermissionDenied without the role.
    """
    user = token.user
    if not user.is_active:
        raise Http404("No such project")
    membership = user.memberships.select_related("project").filter(project_id=token.project_id).order_by().first()
    if membership is None:
        raise Http404("No such project")
    if not has_role(membership.role, role):
        raise PermissionDenied(ROLE_NEEDED_MESSAGE.get(role, "You may not do that here."))
    return membership
