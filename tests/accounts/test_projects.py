from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, Project, Role
from tests.accounts.conftest import link_in_mail, query_value
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def invite(client, project, who, role="editor"):
    return client.post(reverse("projects:invite", args=[project.slug]), {"who": who, "role": role})


def token_from_mail() -> str:
    body = mail.outbox[-1].body
    return body.split("/invitations/", 1)[1].split("/", 1)[0]


def test_create_team_project_makes_creator_owner(owner_client, owner):
    response = owner_client.post(reverse("project_list"), {"name": "Night Shoot"})
    project = Project.objects.get(name="Night Shoot")
    assert response.url == project.get_absolute_url()
    assert Membership.objects.get(project=project, user=owner).role == Role.OWNER
    assert not project.is_personal


def test_create_project_without_name_is_refused(owner_client):
    before = Project.objects.count()
    response = owner_client.post(reverse("project_list"), {"name": "  "})
    assert response.status_code == 400
    assert Project.objects.count() == before


def test_same_name_projects_get_distinct_slugs(owner_client):
    owner_client.post(reverse("project_list"), {"name": "Reel"})
    owner_client.post(reverse("project_list"), {"name": "Reel"})
    assert sorted(Project.objects.filter(name="Reel").values_list("slug", flat=True)) == ["reel", "reel-2"]


def test_invite_by_username_then_accept(project, owner_client, stranger):
    response = invite(owner_client, project, "stan", "viewer")
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["stan@example.com"]
    token = token_from_mail()
    stan = client_for(stranger)
    page = stan.get(reverse("invitation", args=[token]))
    assert page.status_code == 200
    assert "Accept invitation" in page.content.decode()
    response = stan.post(reverse("invitation", args=[token]), {"decision": "accept"})
    assert response.url == project.get_absolute_url()
    assert Membership.objects.get(project=project, user=stranger).role == Role.VIEWER
    assert stan.get(project.get_absolute_url()).status_code == 200
    # The link is used up.
    again = stan.post(reverse("invitation", args=[token]), {"decision": "accept"})
    assert again.status_code == 400
    assert "already been used" in again.content.decode()


def test_invite_by_email_for_someone_without_account_who_signs_up(project, owner_client, client):
    invite(owner_client, project, "newbie@example.com")
    token = token_from_mail()
    link = reverse("invitation", args=[token])
    assert client.get(link).status_code == 302  # sign in first
    response = client.post(reverse("accounts:signup") + f"?next={link}",
                           {"username": "newbie", "email": "newbie@example.com", "next": link})
    assert response.status_code == 200
    finish = link_in_mail("/accounts/signup/")
    response = client.post(reverse("accounts:signup"), {
        "token": query_value(finish, "token"), "username": "newbie",
        "password1": "xq-long-Pass-1", "password2": "xq-long-Pass-1"})
    assert response.url == link  # back to the invitation, signed in
    response = client.post(link, {"decision": "accept"})
    assert response.status_code == 302
    assert project.memberships.filter(user__username="newbie", role=Role.EDITOR).exists()


def test_decline_invitation(project, owner_client, stranger):
    invite(owner_client, project, "stan")
    token = token_from_mail()
    response = client_for(stranger).post(reverse("invitation", args=[token]), {"decision": "decline"})
    assert response.status_code == 302
    assert not project.memberships.filter(user=stranger).exists()
    assert Invitation.objects.get().declined_at is not None


def test_expired_invitation_is_refused(project, owner_client, stranger):
    invite(owner_client, project, "stan")
    token = token_from_mail()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    stan = client_for(stranger)
    assert stan.get(reverse("invitation", args=[token])).status_code == 410
    response = stan.post(reverse("invitation", args=[token]), {"decision": "accept"})
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not project.memberships.filter(user=stranger).exists()


def test_forged_invitation_token_is_404(stranger_client):
    response = stranger_client.get(reverse("invitation", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_revoked_invitation_cannot_be_used(project, owner_client, stranger):
    invite(owner_client, project, "stan")
    token = token_from_mail()
    inv = Invitation.objects.get()
    owner_client.post(reverse("projects:invitation_revoke", args=[project.slug, inv.pk]))
    response = client_for(stranger).post(reverse("invitation", args=[token]), {"decision": "accept"})
    assert response.status_code == 400
    assert not project.memberships.filter(user=stranger).exists()


@pytest.mark.parametrize(
    ("who", "role", "message"),
    [
        ("not an address", "editor", "Enter a username"),
        ("nobody@", "editor", "Enter a valid email address"),
        ("eddie", "editor", "already a member"),
        ("stan", "emperor", "Select a valid choice"),
        ("", "editor", "This field is required"),
    ],
)
def test_bad_invitations_are_refused(project, owner_client, stranger, who, role, message):
    response = invite(owner_client, project, who, role)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Invitation.objects.count() == 0


def test_duplicate_pending_invitation_refused(project, owner_client, stranger):
    invite(owner_client, project, "stan")
    response = invite(owner_client, project, "STAN")
    assert response.status_code == 400
    assert "already has a pending invitation" in response.content.decode()
    assert Invitation.objects.count() == 1


def test_owner_changes_role(project, owner_client, editor):
    member = project.memberships.get(user=editor)
    response = owner_client.post(reverse("projects:member_role", args=[project.slug, member.pk]), {"role": "viewer"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.VIEWER


def test_unknown_role_refused(project, owner_client, editor):
    member = project.memberships.get(user=editor)
    response = owner_client.post(reverse("projects:member_role", args=[project.slug, member.pk]), {"role": "god"})
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.role == Role.EDITOR


def test_last_owner_cannot_demote_or_remove_self_or_leave(project, owner_client, owner):
    me = project.memberships.get(user=owner)
    response = owner_client.post(reverse("projects:member_role", args=[project.slug, me.pk]), {"role": "editor"})
    assert response.status_code == 400
    assert "at least one owner" in response.content.decode()
    response = owner_client.post(reverse("projects:member_remove", args=[project.slug, me.pk]))
    assert response.status_code == 400
    response = owner_client.post(reverse("projects:leave", args=[project.slug]))
    assert response.status_code == 400
    assert "last owner" in response.content.decode()
    me.refresh_from_db()
    assert me.role == Role.OWNER


def test_second_owner_lets_first_leave(project, owner_client, owner, editor):
    member = project.memberships.get(user=editor)
    owner_client.post(reverse("projects:member_role", args=[project.slug, member.pk]), {"role": "owner"})
    response = owner_client.post(reverse("projects:leave", args=[project.slug]))
    assert response.status_code == 302
    assert not project.memberships.filter(user=owner).exists()


def test_member_leaves(project, viewer_client, viewer):
    assert viewer_client.get(reverse("projects:leave", args=[project.slug])).status_code == 200
    response = viewer_client.post(reverse("projects:leave", args=[project.slug]))
    assert response.status_code == 302
    assert not project.memberships.filter(user=viewer).exists()
    assert viewer_client.get(project.get_absolute_url()).status_code == 404


def test_owner_removes_member_with_confirmation(project, owner_client, editor):
    member = project.memberships.get(user=editor)
    url = reverse("projects:member_remove", args=[project.slug, member.pk])
    confirm = owner_client.get(url)
    assert "Remove member" in confirm.content.decode()
    assert project.memberships.filter(user=editor).exists()
    owner_client.post(url)
    assert not project.memberships.filter(user=editor).exists()


def test_member_of_another_project_cannot_be_targeted(project, owner_client, stranger):
    other = Membership.objects.get(user=stranger)
    response = owner_client.post(reverse("projects:member_remove", args=[project.slug, other.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_personal_project_cannot_be_left(owner_client, owner):
    personal = Project.objects.get(created_by=owner, is_personal=True)
    response = owner_client.post(reverse("projects:leave", args=[personal.slug]))
    assert response.status_code == 400
    assert personal.memberships.filter(user=owner).exists()


def test_unknown_slug_is_404(owner_client):
    assert owner_client.get("/p/does-not-exist/").status_code == 404


def test_project_switcher_lists_my_projects_only(project, owner_client, stranger):
    html = owner_client.get(project.get_absolute_url()).content.decode()
    assert "Moonshot" in html
    assert "stan" not in html.lower().replace("standard", "")


def test_viewer_gets_403_with_message_on_owner_pages(project, viewer_client):
    response = viewer_client.get(reverse("projects:settings", args=[project.slug]))
    assert response.status_code == 403
    assert "Only owners" in response.content.decode()


def test_invitation_for_unknown_user_gets_emailed(project, owner_client):
    make_user("zed")
    invite(owner_client, project, "ZED")
    assert mail.outbox[-1].to == ["zed@example.com"]


def test_overview_shows_work_in_constant_queries(project, owner, owner_client, django_assert_max_num_queries):
    from generations.models import Generation, Output

    for i in range(6):
        g = Generation.objects.create(project=project, created_by=owner, endpoint="text_to_image",
                                      model="gen4_image", prompt=f"castle {i}", status="RUNNING")
        Output.objects.create(project=project, generation=g, kind="image", content_type="image/png", size=1,
                              sha256="0" * 64, file=f"outputs/x/{i}.png")
    owner_client.get(project.get_absolute_url())  # settle the session write
    # Session, user, membership, switcher, notices, four counts, two lists: fixed, whatever the size.
    with django_assert_max_num_queries(14):
        response = owner_client.get(project.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "castle 5" in html and "Latest outputs" in html
    assert "Generating" in html  # in-progress list
