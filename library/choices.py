"""The project's own voices, avatars and routers as choices of a generation field.

A catalog field that names a library (`Field.library`) accepts Runway's presets and
"custom:<id>" for one of these. The generation form offers the project's ready ones; the
submission checks that a custom value really is one of the project's (a stranger's id is
refused as if it did not exist).
"""

from __future__ import annotations

from accounts.models import Project

from .models import Avatar, Readiness, RouterConfig, Voice

CUSTOM = "custom:"


def _items(project: Project, library: str):
    if library == "voice":
        return Voice.objects.in_project(project).filter(status=Readiness.READY)
    if library == "avatar":
        return Avatar.objects.in_project(project).filter(status=Readiness.READY)
    if library == "router":
        return RouterConfig.objects.in_project(project)
    raise ValueError(f"unknown library {library!r}")


def choices_for(project: Project, library: str) -> list[tuple[str, str]]:
    """(value, label) of the project's usable objects of one library, newest first."""
    return [(item.choice_value, item.name) for item in _items(project, library)]


def is_usable(project: Project, library: str, value: str) -> bool:
    """True when `value` ("custom:<id>") names one of the project's usable objects."""
    if not isinstance(value, str) or not value.startswith(CUSTOM):
        return False
    key = value.removeprefix(CUSTOM)
    lookup = {"slug": key} if library == "router" else {"runway_id": key}
    return _items(project, library).filter(**lookup).exists()


def credit_cap(project: Project, value: str, modality: str) -> int | None:
    """The project router's cap on credits per output for one modality, where it sets one."""
    if not isinstance(value, str) or not value.startswith(CUSTOM):
        return None
    router = RouterConfig.objects.in_project(project).filter(slug=value.removeprefix(CUSTOM)).first()
    caps = (router.settings if router else {}).get("max_credits_per_generation") or {}
    cap = caps.get(modality) if isinstance(caps, dict) else None
    return cap if isinstance(cap, int) and not isinstance(cap, bool) and cap >= 0 else None
