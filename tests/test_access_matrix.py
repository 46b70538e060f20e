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
    "credits:project": ("owner", None, ("GET",)),
    "credits:budget": ("owner", None, ("POST",)),
    "credits:budget_remove": ("owner", None, ("GET", "POST")),
    "credits:project_alert": ("owner", None, ("POST",)),
    "credits:estimate": ("editor", None, ("GET",)),
    "projects:detail": ("viewer", None, ("GET",)),
    "projects:members": ("viewer", None, ("GET",)),
    "projects:invite": ("owner", None, ("POST",)),
    "projects:member_role": ("owner", "member", ("POST",)),
    "projects:member_remove": ("owner", "member", ("GET", "POST")),
    "projects:invitation_revoke": ("owner", "invitation", ("POST",)),
    "projects:leave": ("viewer", None, ("GET",)),
    "projects:settings": ("owner", None, ("GET", "POST")),
    "generations:assets": ("viewer", None, ("GET",)),
    "generations:asset_delete": ("editor", "asset", ("GET", "POST")),
    "generations:asset_file": ("viewer", "asset", ("GET",)),
    "generations:asset_thumb": ("viewer", "asset", ("GET",)),
    "generations:new": ("editor", None, ("GET", "POST")),
    "generations:detail": ("viewer", "generation", ("GET",)),
    "generations:cancel": ("editor", "generation", ("POST",)),
    "generations:retry": ("editor", "generation", ("POST",)),
    "generations:queue": ("viewer", None, ("GET",)),
    "generations:output_file": ("viewer", "output", ("GET",)),
    "generations:output_thumb": ("viewer", "output", ("GET",)),
    "gallery:index": ("viewer", None, ("GET",)),
    "gallery:zip": ("viewer", None, ("GET",)),
    "gallery:delete": ("editor", None, ("GET", "POST")),
    "gallery:shares": ("owner", None, ("GET",)),
    "gallery:share_revoke": ("editor", "share", ("POST",)),
    "gallery:output": ("viewer", "output", ("GET",)),
    "gallery:favourite": ("editor", "output", ("POST",)),
    "gallery:tags": ("editor", "output", ("POST",)),
    "gallery:use": ("editor", "output", ("POST",)),
    "gallery:share": ("editor", "output", ("POST",)),
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
def kwargs_builders(project, editor, owner, settings, tmp_path):
    from django.core.files.base import ContentFile

    from accounts.projects import invite_member
    from generations.models import Asset, Generation, Output, ShareLink, Status

    invitation, _ = invite_member(project=project, invited_by=owner, who="x@example.com", role="viewer")
    # Media rows with real files, in a throwaway storage folder.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "/media-not-public/"}},
    }
    facts = {"kind": "image", "content_type": "image/png", "size": 600, "width": 8, "height": 8, "sha256": "0" * 64}

    def asset():
        item = Asset(project=project, uploaded_by=editor, name="a.png", **facts)
        item.file.save("a.png", ContentFile(b"\x89PNG" + b"0" * 596), save=False)
        item.thumbnail.save("a.jpg", ContentFile(b"\xff\xd8" + b"0" * 100), save=False)
        item.save()
        return {"asset_id": item.pk}

    def generation(status=Status.FAILED):
        return Generation.objects.create(project=project, created_by=editor, endpoint="text_to_image",
                                         model="gen4_image", params={"prompt_text": "a cat"}, status=status,
                                         failure_code="INTERNAL", failure_message="Runway had a problem.")

    def output():
        gen = generation(Status.SUCCEEDED)
        item = Output(project=project, generation=gen, **facts)
        item.file.save("o.png", ContentFile(b"\x89PNG" + b"0" * 596), save=False)
        item.thumbnail.save("o.jpg", ContentFile(b"\xff\xd8" + b"0" * 100), save=False)
        item.save()
        return {"output_id": item.pk}

    return {
        "member": lambda: {"member_id": Membership.objects.get(project=project, user=editor).pk},
        "invitation": lambda: {"invitation_id": invitation.pk},
        "asset": asset,
        "generation": lambda: {"generation_id": generation().pk},
        "output": output,
        "share": lambda: {"link_id": ShareLink.objects.create(
            output_id=output()["output_id"], created_by=editor).pk},
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
