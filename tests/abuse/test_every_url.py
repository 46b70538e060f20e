"""Every URL of the project × six personas × GET, htmx GET and POST; and CSRF on every unsafe request.

Each named URL (admin apart: checked as staff-only) declares who may use it and
with which methods. A URL without a declaration fails the suite; so does any
answer that differs from the declaration. Mismatches are counted in the report.
"""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.actions import create_api_token, invite_member
from accounts.models import Membership, Role
from assets.models import Asset
from credits import ledger
from credits.models import Account, Notice
from gallery.models import Board, BoardItem, BoardLink, Comment, ShareLink
from generations.models import Generation, GenerationGroup, Output, Status
from library.models import Avatar, Readiness, RouterConfig, Voice
from notifications.models import Notification
from presets.models import Preset
from tests.conftest import client_for, make_user
from webhooks.models import Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db

G, P = ("GET",), ("POST",)
GP = ("GET", "POST")
# url name → (who may use it, object it needs, methods it answers)
#   public: anyone; user: anyone signed in; staff: staff only (404 for others);
#   viewer/editor/owner: that role or above in the project (non-members 404, lower roles 403).
EXPECTATIONS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "home": ("user", None, G),
    "accounts:signup": ("public", None, GP),
    "accounts:login": ("public", None, GP),
    "accounts:logout": ("user", None, P),
    "accounts:profile": ("user", None, GP),
    "notifications:list": ("user", None, G),
    "notifications:read": ("user", None, P),
    "notifications:preferences": ("user", None, P),
    "notifications:unread": ("user", None, G),
    "notifications:open": ("user", "notification", G),
    "accounts:password_change": ("user", None, GP),
    "accounts:password_change_done": ("user", None, G),
    "accounts:password_reset": ("public", None, GP),
    "accounts:password_reset_done": ("public", None, G),
    "accounts:password_reset_confirm": ("public", "reset", GP),
    "accounts:password_reset_complete": ("public", None, G),
    "project_list": ("user", None, GP),
    "invitation": ("user", "invitation_token", GP),
    "share": ("public", "share_token", G),
    "share_media": ("public", "share_token", G),
    "share_poster": ("public", "share_token", G),
    "share_play": ("public", "share_token", G),
    "board_share": ("public", "board_token", G),
    "board_share_play": ("public", "board_output", G),
    "board_share_poster": ("public", "board_output", G),
    "credits:mine": ("user", None, G),
    "credits:alert": ("user", None, P),
    "credits:notice_dismiss": ("user", "notice", P),
    "credits:staff": ("staff", None, G),
    "credits:staff_sync": ("staff", None, P),
    "credits:reconcile_day": ("staff", "day", G),
    "generations:home": ("viewer", None, G),
    "projects:members": ("viewer", None, G),
    "projects:invite": ("owner", None, P),
    "projects:member_role": ("owner", "member", P),
    "projects:member_remove": ("owner", "member", GP),
    "projects:invitation_revoke": ("owner", "invitation", P),
    "projects:invitation_request": ("owner", "invitation", P),
    "projects:leave": ("viewer", None, GP),
    "projects:settings": ("owner", None, GP),
    "projects:tokens": ("editor", None, GP),
    "projects:token_revoke": ("editor", "api_token", GP),
    "assets:list": ("viewer", None, G),  # POST (upload) needs an editor: checked below
    "assets:delete": ("editor", "asset", GP),
    "assets:file": ("viewer", "asset", G),
    "assets:thumb": ("viewer", "asset", G),
    "generations:new": ("editor", None, GP),
    "generations:detail": ("viewer", "generation", G),
    "generations:cancel": ("editor", "generation", P),
    "generations:retry": ("editor", "generation", P),
    "generations:queue": ("viewer", None, G),
    "generations:updates": ("viewer", None, G),
    "generations:group_cancel": ("editor", "group", P),
    "generations:group_retry": ("editor", "group", P),
    "generations:output_as": ("editor", "output_role", G),
    "generations:output_file": ("viewer", "output", G),
    "generations:output_thumb": ("viewer", "output", G),
    "generations:output_play": ("viewer", "output", G),
    "gallery:index": ("viewer", None, G),
    "gallery:zip": ("viewer", None, G),
    "gallery:delete": ("editor", None, GP),
    "gallery:shares": ("owner", None, G),
    "gallery:boards": ("viewer", None, G),
    "gallery:trash": ("viewer", None, G),
    "gallery:activity": ("viewer", None, G),
    "gallery:comment_add": ("editor", "output", P),
    "gallery:comment_delete": ("editor", "comment", GP),
    "gallery:restore": ("editor", None, P),
    "gallery:purge": ("editor", None, GP),
    "gallery:trash_thumb": ("viewer", "trashed_output", G),
    "gallery:board_create": ("editor", None, P),
    "gallery:board_add": ("editor", None, GP),
    "gallery:board": ("viewer", "board", G),
    "gallery:board_remove": ("editor", "board", P),
    "gallery:board_move": ("editor", "board", P),
    "gallery:board_rename": ("editor", "board", GP),
    "gallery:board_delete": ("editor", "board", GP),
    "gallery:board_share": ("editor", "board", P),
    "gallery:board_unshare": ("editor", "board", P),
    "gallery:share_revoke": ("editor", "share", P),
    "gallery:output": ("viewer", "output", G),
    "gallery:favourite": ("editor", "output", P),
    "gallery:tags": ("editor", "output", P),
    "gallery:use": ("editor", "output", P),
    "gallery:share": ("editor", "output", P),
    "credits:project": ("owner", None, G),
    "credits:budget": ("owner", None, P),
    "credits:budget_remove": ("owner", None, GP),
    "credits:project_alert": ("owner", None, P),
    "generations:estimate": ("editor", None, GP),
    "library:voices": ("viewer", None, G),
    "library:voice_preview": ("editor", None, P),
    "library:voice_create": ("editor", None, P),
    "library:voice_sample": ("viewer", "voice_sample", G),
    "library:voice_edit": ("editor", "voice", GP),
    "library:voice_delete": ("owner", "voice", GP),
    "library:voice_audio": ("viewer", "voice", G),
    "library:avatars": ("viewer", None, G),
    "library:avatar_create": ("editor", None, P),
    "library:avatar_edit": ("editor", "avatar", GP),
    "library:avatar_delete": ("owner", "avatar", GP),
    "library:routers": ("viewer", None, G),
    "library:router_create": ("editor", None, GP),
    "library:router": ("viewer", "router", G),
    "library:router_edit": ("editor", "router", GP),
    "library:router_delete": ("owner", "router", GP),
    "presets:list": ("viewer", None, G),
    "presets:save": ("editor", None, P),
    "presets:save_form": ("editor", None, P),
    "presets:edit": ("editor", "preset", GP),
    "presets:delete": ("editor", "preset", GP),
    "presets:use": ("viewer", "preset", GP),
    "presets:prompts": ("viewer", None, G),
    "webhooks:list": ("owner", None, GP),
    "webhooks:endpoint": ("owner", "webhook", G),
    "webhooks:delete": ("owner", "webhook", GP),
    "webhooks:test": ("owner", "webhook", P),
    "webhooks:active": ("owner", "webhook", P),
    "webhooks:delivery": ("owner", "webhook_delivery", G),
    "webhooks:replay": ("owner", "webhook_delivery", P),
    # Runway's API for scripts: a personal token opens it, a session never does (401 for everyone
    # here; tests/api drive it with tokens through the official SDK).
    "api:create": ("token", "api_path", P),
    "api:task": ("token", "api_task", ("GET", "DELETE")),
    "api:uploads": ("token", None, P),
    "api:organization": ("token", None, G),
    "api:usage": ("token", None, P),
    # An upload slot's unguessable name and an output's signed URL are their own credentials.
    "api:upload_file": ("slot", "api_slot", P),
    "api:output": ("signed", "api_signed", G),
}
# Not session-authenticated, so CSRF (a defence for cookies) has nothing to protect there.
NO_SESSION = {"token", "slot", "signed"}
PERSONAS = ["anonymous", "stranger", "removed", "viewer", "editor", "owner"]
RANK = {"anonymous": -1, "stranger": -1, "removed": -1, "viewer": 1, "editor": 2, "owner": 3}
ROLE_RANK = {"viewer": 1, "editor": 2, "owner": 3}
OK = {200, 204, 286, 302, 400, 409, 413}
SIGN_IN_IS_SUCCESS = {"accounts:logout"}  # signing out ends on the sign-in page


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, None)
    return {n for n in names if not n.startswith("admin:")}


def test_every_url_has_an_expectation():
    missing = url_names() - set(EXPECTATIONS)
    assert not missing, f"add expectations for {sorted(missing)} in {__file__}"


@pytest.fixture
def objects(request, project, owner, editor, viewer, settings, tmp_path):
    """Builders for one fresh object of each kind the URLs need, in the team project."""
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
        return item

    def generation(status=Status.FAILED):
        return Generation.objects.create(project=project, created_by=editor, endpoint="text_to_image",
                                         model="gen4_image", params={"prompt_text": "a cat"}, status=status,
                                         failure_code="INTERNAL", failure_message="Runway had a problem.")

    def output():
        item = Output(project=project, generation=generation(Status.SUCCEEDED), **facts)
        item.file.save("o.png", ContentFile(b"\x89PNG" + b"0" * 596), save=False)
        item.thumbnail.save("o.jpg", ContentFile(b"\xff\xd8" + b"0" * 100), save=False)
        item.save()
        return item

    def notice(user):
        account = ledger.account_for(user)
        return Notice.objects.create(user=user, account=Account.objects.get(pk=account.pk), message="Low on credits")

    sent = itertools.count()

    def invitation():
        """A pending invitation to a new address, and its raw token."""
        return invite_member(project=project, invited_by=owner, who=f"guest{next(sent)}@example.com",
                             role="viewer")

    def library(kind):
        """A library row; its pages ask Runway about it (the row's id is unknown there: 404)."""
        request.getfixturevalue("runway_emulator")
        n = next(sent)
        if kind == "voice":
            voice = Voice(project=project, created_by=editor, runway_id=f"voice-{n}", name="V", prompt="p" * 20,
                          design_model="eleven_ttv_v3", status=Readiness.READY)
            voice.preview.save("v.mp3", ContentFile(b"ID3" + b"0" * 600))
            return {"voice_id": voice.pk}
        if kind == "avatar":
            return {"avatar_id": Avatar.objects.create(project=project, created_by=editor, runway_id=f"avatar-{n}",
                                                       name="A", personality="p", preset_voice="victoria",
                                                       status=Readiness.READY).pk}
        return {"config_id": RouterConfig.objects.create(project=project, created_by=editor, runway_id=f"router-{n}",
                                                         name="R", slug=f"{project.slug}-r{n}").pk}

    def comment(user):
        item = Comment.objects.create(output=output(), author=user or editor, text="Nice")
        return {"output_id": item.output_id, "comment_id": item.pk}

    def trashed():
        item = output()
        Output.objects.filter(pk=item.pk).update(trashed_at=timezone.now())
        return item.pk

    def board():
        return Board.objects.create(project=project, name=f"Board {next(sent)}", created_by=editor)

    def board_output():
        item = BoardItem.objects.create(board=board(), output=output(), added_by=editor)
        return {"token": BoardLink.objects.create(board=item.board).token, "output_id": item.output_id}

    def voice_sample():
        name = f"{next(sent):032x}.mp3"
        default_storage.save(f"voice-samples/{project.pk}/{name}", ContentFile(b"ID3" + b"0" * 600))
        return {"sample": name}

    def webhook():
        return Endpoint.objects.create(project=project, url="https://example.com/hook", created_by=owner,
                                       events=["generation.succeeded"])

    def webhook_delivery():
        endpoint = webhook()
        event = Event.objects.create(project=project, type="generation.succeeded", payload={"generation": {}})
        item = Delivery.objects.create(event=event, endpoint=endpoint, expires_at=timezone.now())
        return {"endpoint_id": endpoint.pk, "delivery_id": item.pk}

    return {
        "webhook": lambda user: {"endpoint_id": webhook().pk},
        "webhook_delivery": lambda user: webhook_delivery(),
        "voice": lambda user: library("voice"),
        "avatar": lambda user: library("avatar"),
        "router": lambda user: library("router"),
        "voice_sample": lambda user: voice_sample(),
        "preset": lambda user: {"preset_id": Preset.objects.create(
            project=project, created_by=editor, name=f"Preset {next(sent)}", endpoint="text_to_image",
            model="gen4_image", params={"ratio": "1920:1080"}, prompt="A {thing} at dusk").pk},
        "member": lambda user: {"member_id": Membership.objects.get(project=project, user=editor).pk},
        "invitation": lambda user: {"invitation_id": invitation()[0].pk},
        "invitation_token": lambda user: {"token": invitation()[1]},
        "asset": lambda user: {"asset_id": asset().pk},
        "generation": lambda user: {"generation_id": generation().pk},
        "output": lambda user: {"output_id": output().pk},
        "board": lambda user: {"board_id": board().pk},
        "trashed_output": lambda user: {"output_id": trashed()},
        "comment": lambda user: comment(user),
        "group": lambda user: {"group_id": GenerationGroup.objects.create(
            project=project, created_by=user or editor, endpoint="text_to_image", size=2).pk},
        "board_token": lambda user: {"token": BoardLink.objects.create(board=board()).token},
        "board_output": lambda user: board_output(),
        "output_role": lambda user: {"output_id": output().pk, "role": "first_frame"},
        "notification": lambda user: {"notification_id": Notification.objects.create(
            user=user or owner, project=project, event="generation.succeeded", subject_id=next(sent),
            text="Done", url=f"/p/{project.slug}/").pk},
        "share": lambda user: {"link_id": ShareLink.objects.create(output=output(), created_by=editor).pk},
        "share_token": lambda user: {"token": ShareLink.objects.create(output=output(), created_by=editor).token},
        "notice": lambda user: {"notice_id": notice(user or owner).pk},
        "day": lambda user: {"day": "2026-01-01"},
        "api_token": lambda user: {"token_id": create_api_token(user=editor, project=project, name="t")[0].pk},
        "api_path": lambda user: {"path": "image_to_video"},
        "api_task": lambda user: {"task_id": "3d57f389-076c-4683-b7ef-fb906f7ac473"},
        "api_slot": lambda user: {"secret": "no-such-target-" + "x" * 30},
        "api_signed": lambda user: {"signed": "not-a-signed-value"},
        "reset": lambda user: {"uidb64": urlsafe_base64_encode(force_bytes(owner.pk)),
                               "token": default_token_generator.make_token(owner)},
    }


def expected(access: str, persona: str, method: str, methods: tuple[str, ...]) -> set[int]:
    """The status codes a persona may get: OK, or exactly the refusal its standing earns."""
    signed_in = persona != "anonymous"
    if access in NO_SESSION:
        if method not in methods:
            return {405}
        return {"token": {401}, "slot": {403}, "signed": {404}}[access]
    if access != "public" and not signed_in:
        return {302}  # to the sign-in page (checked by the caller)
    if method not in methods:
        return {405}
    if access in ("public", "user"):
        return OK
    if access == "staff":
        return {404}
    if RANK[persona] < 0:
        return {404}
    return OK if RANK[persona] >= ROLE_RANK[access] else {403}


@pytest.fixture
def removed(project):
    user = make_user("rhea")
    Membership.objects.create(project=project, user=user, role=Role.EDITOR).delete()
    return user


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_access_matrix(name, project, owner, editor, viewer, stranger, removed, objects, chaos_report):
    access, builder, methods = EXPECTATIONS[name]
    users = {"anonymous": None, "stranger": stranger, "removed": removed, "viewer": viewer, "editor": editor,
             "owner": owner}
    needs_slug = access in ROLE_RANK
    mismatches = []
    for persona in PERSONAS:  # least privileged first: a member leaving is the last thing tried
        user = users[persona]
        for how in ("GET", "htmx", "POST"):
            client = client_for(user)
            kwargs = {"slug": project.slug} if needs_slug else {}
            if builder:
                kwargs.update(objects[builder](user))
            url = reverse(name, kwargs=kwargs)
            method = "POST" if how == "POST" else "GET"
            if how == "POST":
                response = client.post(url, {})
            else:
                response = client.get(url, **({"HTTP_HX_REQUEST": "true"} if how == "htmx" else {}))
            code = response.status_code
            allowed = expected(access, persona, method, methods)
            if name == "assets:list" and how == "POST":
                allowed = expected("editor", persona, "POST", ("POST",))
            ok = code in allowed
            if ok and code == 302 and allowed == {302}:
                ok = "/accounts/login/" in response.url
            elif ok and code == 302 and persona != "anonymous" and name not in SIGN_IN_IS_SUCCESS:
                ok = "/accounts/login/" not in response.url  # signed in, never sent to sign in
            chaos_report.add("access_checks")
            if not ok:
                mismatches.append((persona, how, code, sorted(allowed)))
    chaos_report.add("mismatches", len(mismatches))
    assert not mismatches, (name, mismatches)


def test_admin_is_staff_only(owner, client, chaos_report):
    for user in (None, owner):
        response = client_for(user).get(reverse("admin:index"))
        chaos_report.add("access_checks")
        assert response.status_code == 302 and "/admin/login/" in response.url
    owner.is_staff = owner.is_superuser = True
    owner.save()
    assert client_for(owner).get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("name", sorted(n for n, (a, _, m) in EXPECTATIONS.items() if "POST" in m
                                        and a not in NO_SESSION) + ["assets:list"])
def test_unsafe_requests_without_a_csrf_token_are_refused(name, project, owner, objects, chaos_report):
    access, builder, _ = EXPECTATIONS[name]
    owner.is_staff = True
    owner.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    kwargs = {"slug": project.slug} if access in ROLE_RANK else {}
    if builder:
        kwargs.update(objects[builder](owner))
    url = reverse(name, kwargs=kwargs)
    failures = []
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(url, {} if method == "post" else "")
        chaos_report.add("csrf_checks")
        # 403 from the CSRF check; 405 where the method isn't served at all (checked before CSRF).
        if response.status_code not in ((403,) if method == "post" else (403, 405)):
            failures.append((method, response.status_code))
    chaos_report.add("mismatches", len(failures))
    assert not failures, (name, failures)
