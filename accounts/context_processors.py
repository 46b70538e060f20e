"""Navigation data every page needs: the user's projects and the current one."""

from django.conf import settings

from .models import Project


def navigation(request) -> dict:
    """Projects for the switcher, the current project, and whether we talk to the emulator."""
    context = {"runway_emulated": settings.RUNWAY_USES_EMULATOR}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Lazy: evaluated only by templates that render the switcher.
        context["nav_projects"] = Project.objects.for_user(user).order_by("-is_personal", "name")
        context["current_project"] = getattr(request, "project", None)
        context["current_membership"] = getattr(request, "membership", None)
    return context
