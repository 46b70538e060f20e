"""Who reaches the library pages: strangers and other projects' ids get 404, anonymous people sign in."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from library.models import Avatar, Readiness, RouterConfig, Voice

from .conftest import PROMPT

SAMPLE = "0123456789abcdef0123456789abcdef.mp3"


def library_objects(project, user):
    voice = Voice.objects.create(project=project, created_by=user, runway_id=f"voice-{project.pk}", name="V",
                                 prompt=PROMPT, design_model="eleven_ttv_v3", status=Readiness.READY)
    voice.preview.save("v.mp3", ContentFile(b"ID3" + b"0" * 600))
    avatar = Avatar.objects.create(project=project, created_by=user, runway_id=f"avatar-{project.pk}", name="A",
                                   personality="p", preset_voice="victoria", status=Readiness.READY)
    router = RouterConfig.objects.create(project=project, created_by=user, runway_id=f"router-{project.pk}",
                                         name="R", slug=f"{project.slug}-r")
    default_storage.save(f"voice-samples/{project.pk}/{SAMPLE}", ContentFile(b"ID3" + b"0" * 600))
    return voice, avatar, router


G, P, GP = {"get"}, {"post"}, {"get", "post"}


def object_urls(slug, voice, avatar, router) -> dict[str, set[str]]:
    """Each URL of one project's objects, with the methods it answers."""
    return {
        reverse("library:voice_edit", args=[slug, voice.pk]): GP,
        reverse("library:voice_delete", args=[slug, voice.pk]): GP,
        reverse("library:voice_audio", args=[slug, voice.pk]): G,
        reverse("library:avatar_edit", args=[slug, avatar.pk]): GP,
        reverse("library:avatar_delete", args=[slug, avatar.pk]): GP,
        reverse("library:router", args=[slug, router.pk]): G,
        reverse("library:router_edit", args=[slug, router.pk]): GP,
        reverse("library:router_delete", args=[slug, router.pk]): GP,
    }


def page_urls(slug) -> dict[str, set[str]]:
    pages = {"voices": G, "voice_preview": P, "voice_create": P, "avatars": G, "avatar_create": P, "routers": G,
             "router_create": GP}
    return {**{reverse(f"library:{name}", args=[slug]): methods for name, methods in pages.items()},
            reverse("library:voice_sample", args=[slug, SAMPLE]): G}


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_stranger_gets_404_on_every_url(stranger_client, owner, project, method):
    urls = {**page_urls(project.slug), **object_urls(project.slug, *library_objects(project, owner))}
    for url in (url for url, methods in urls.items() if method in methods):
        assert getattr(stranger_client, method)(url).status_code == 404, url
    assert Voice.objects.count() == Avatar.objects.count() == RouterConfig.objects.count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_projects_objects_are_not_found_from_this_one(owner_client, project, other_project, stranger, method):
    theirs = library_objects(other_project, stranger)
    for url in (url for url, methods in object_urls(project.slug, *theirs).items() if method in methods):
        assert getattr(owner_client, method)(url).status_code == 404, url
    their_sample = reverse("library:voice_sample", args=[project.slug, SAMPLE])
    default_storage.delete(f"voice-samples/{project.pk}/{SAMPLE}")
    assert owner_client.get(their_sample).status_code == 404
    assert Voice.objects.get(pk=theirs[0].pk).name == "V" and Avatar.objects.filter(pk=theirs[1].pk).exists()


def test_a_sample_name_that_is_not_ours_is_not_found(viewer_client, project):
    for name in ("..%2Fsecret.mp3", "abc.mp3", SAMPLE.replace(".mp3", ".exe")):
        assert viewer_client.get(f"/p/{project.slug}/voices/samples/{name}/").status_code == 404


def test_anonymous_people_are_sent_to_sign_in(client, owner, project):
    for url in {**page_urls(project.slug), **object_urls(project.slug, *library_objects(project, owner))}:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url, url


def test_the_project_nav_links_the_library(viewer_client, project):
    html = viewer_client.get(reverse("library:voices", args=[project.slug])).content.decode()
    for name in ("voices", "avatars", "routers"):
        assert f'href="{reverse(f"library:{name}", args=[project.slug])}"' in html


def test_the_ops_admin_lists_the_three(owner, client, project):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    library_objects(project, owner)
    client.force_login(owner)
    for model, runway_id in (("voice", "voice"), ("avatar", "avatar"), ("routerconfig", "router")):
        response = client.get(reverse(f"admin:library_{model}_changelist"))
        assert response.status_code == 200, model
        assert f"{runway_id}-{project.pk}" in response.content.decode()
    router = RouterConfig.objects.get()
    change = client.get(reverse("admin:library_routerconfig_change", args=[router.pk]))
    assert change.status_code == 200 and router.runway_id in change.content.decode()
