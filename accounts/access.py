"""The one place that decides who may see and change what.

Every view that touches a project goes through `access_project` (directly or
via the `project_view` decorator). A non-member gets 404, never a hint that
the project exists; a member without the needed role gets 403 with a message.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import ROLE_RANK, Membership, Role

ROLE_NEEDED_MESSAGE = {
    Role.EDITOR: "You need to be an editor of this project to do that.",
    Role.OWNER: "Only owners of this project can do that.",
}


def access_project(request, slug: str, role: str = Role.VIEWER) -> Membership:
    """The request user's membership of the project `slug`, checked for `role`."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        raise Http404("No such project")
    membership = (
        Membership.objects.select_related("project").filter(project__slug=slug, user=user).first()
    )
    if membership is None:
        raise Http404("No such project")
    if ROLE_RANK[membership.role] < ROLE_RANK[role]:
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
