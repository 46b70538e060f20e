"""Every URL of a project space × every persona: who gets in, who gets 403, who gets 404.

A new URL pattern under /p/<slug>/ without an expectation here fails the suite.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Membership
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# url name → (minimum role, extra URL kwargs builder name, methods to try)
EXPECTATIONS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "projects:detail": ("viewer", None, ("GET",)),
    "projects:members": ("viewer", None, ("GET",)),
    "projects:invite": ("owner", None, ("POST",)),
    "projects:member_role": ("owner", "member", ("POST",)),
    "projects:member_remove": ("owner", "member", ("GET", "POST")),
    "projects:invitation_revoke": ("owner", "invitation", ("POST",)),
    "projects:leave": ("viewer", None, ("GET",)),
    "projects:settings": ("owner", None, ("GET", "POST")),
}

RANK = {"anonymous": 0, "stranger": 0, "viewer": 1, "editor": 2, "owner": 3}


def project_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and p.name and "<slug:slug>" in prefix + str(p.pattern):
                names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, "", None)
    return names


def test_every_project_url_has_an_expectation():
    missing = project_url_names() - set(EXPECTATIONS)
    assert not missing, f"add access expectations for {sorted(missing)}"


@pytest.fixture
def kwargs_builders(project, editor, owner):
    from accounts.projects import invite_member

    invitation, _ = invite_member(project=project, invited_by=owner, who="x@example.com", role="viewer")
    return {
        "member": lambda: {"member_id": Membership.objects.get(project=project, user=editor).pk},
        "invitation": lambda: {"invitation_id": invitation.pk},
    }


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
@pytest.mark.parametrize("persona", ["anonymous", "stranger", "viewer", "editor", "owner"])
def test_access_matrix(name, persona, project, owner, editor, viewer, stranger, kwargs_builders):
    min_role, builder, methods = EXPECTATIONS[name]
    users = {"anonymous": None, "stranger": stranger, "viewer": viewer, "editor": editor, "owner": owner}
    client = client_for(users[persona])
    kwargs = {"slug": project.slug, **(kwargs_builders[builder]() if builder else {})}
    url = reverse(name, kwargs=kwargs)
    for method in methods:
        response = client.get(url) if method == "GET" else client.post(url, {})
        code = response.status_code
        if persona == "anonymous":
            assert code == 302 and "/accounts/login/" in response.url, (name, method, code)
        elif persona == "stranger":
            assert code == 404, (name, method, code)
        elif RANK[persona] < RANK[min_role]:
            assert code == 403, (name, method, persona, code)
        else:
            assert code in (200, 302, 400), (name, method, persona, code)
