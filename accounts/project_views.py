"""Project spaces: list, create, members, invitations, settings."""

from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import project_view
from core.http import confirm_page

from .actions import (
    ProjectError,
    accept_invitation,
    change_role,
    create_team_project,
    decline_invitation,
    invite_member,
    remove_member,
    revoke_invitation,
)
from .forms import InviteForm, ProjectForm, RoleForm
from .models import Invitation, Membership, Project, Role


@require_http_methods(["GET", "POST"])
def project_list(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = create_team_project(user=request.user, name=form.cleaned_data["name"])
        messages.success(request, f"Project “{project}” created. Invite your team from Members.")
        return redirect(project)
    memberships = request.user.memberships.select_related("project").order_by(
        "-project__is_personal", "project__name"
    )
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(
        request, "projects/list.html", {"form": form, "memberships": memberships}, status=status
    )


def _members_page(request, membership, *, invite_form=None, status=200):
    project = membership.project
    context = {
        "project": project,
        "membership": membership,
        "members": project.memberships.select_related("user").order_by("user__username"),
        "invitations": project.invitations.pending().select_related("invited_by")
        if membership.is_owner
        else [],
        "invite_form": invite_form or InviteForm(),
        "roles": Role.choices,
    }
    return TemplateResponse(request, "projects/members.html", context, status=status)


def _refused(request, membership, exc: ProjectError):
    """The members page again, with why the change was refused (400, nothing changed)."""
    messages.error(request, str(exc))
    return _members_page(request, membership, status=400)


@require_GET
@project_view()
def member_list(request, membership):
    return _members_page(request, membership)


@require_POST
@project_view(Role.OWNER)
def member_invite(request, membership):
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _members_page(request, membership, invite_form=form, status=400)
    try:
        invitation, token = invite_member(
            project=membership.project,
            invited_by=request.user,
            who=form.cleaned_data["who"],
            role=form.cleaned_data["role"],
        )
    except ProjectError as exc:
        form.add_error("who", str(exc))
        return _members_page(request, membership, invite_form=form, status=400)
    link = settings.SITE_URL.rstrip("/") + reverse("invitation", args=[token])
    send_mail(
        f"{request.user.display_name} invited you to {membership.project} on Takes",
        f"You are invited to join “{membership.project}” as {invitation.get_role_display().lower()}.\n\n"
        f"Accept or decline here: {link}\n\nThe link expires on {invitation.expires_at:%d %B %Y}.",
        None,
        [invitation.email],
    )
    messages.success(request, f"Invitation sent to {invitation.email}. You can also share this link: {link}")
    return redirect("projects:members", slug=membership.project.slug)


def _member_in(membership, member_id) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user", "project"), pk=member_id,
                             project=membership.project)


@require_POST
@project_view(Role.OWNER)
def member_role(request, membership, member_id):
    target = _member_in(membership, member_id)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ProjectError("Choose viewer, editor or owner.")
        change_role(membership=target, role=form.cleaned_data["role"], by=request.user)
    except ProjectError as exc:
        return _refused(request, membership, exc)
    messages.success(request, f"{target.user} is now {target.get_role_display().lower()}.")
    return redirect("projects:members", slug=membership.project.slug)


@require_http_methods(["GET", "POST"])
@project_view(Role.OWNER)
def member_remove(request, membership, member_id):
    target = _member_in(membership, member_id)
    if request.method == "POST":
        try:
            remove_member(membership=target, by=request.user)
        except ProjectError as exc:
            return _refused(request, membership, exc)
        messages.success(request, f"{target.user} was removed from {membership.project}.")
        if target.user_id == request.user.id:
            return redirect("home")
        return redirect("projects:members", slug=membership.project.slug)
    return confirm_page(
        request, project=membership.project, title=f"Remove {target.user} from {membership.project}?",
        body="They will lose access to its assets, generations and gallery at once. "
             "What they made stays in the project.",
        action="Remove member", cancel_url=reverse("projects:members", args=[membership.project.slug]),
    )


@require_http_methods(["GET", "POST"])
@project_view()
def project_leave(request, membership):
    if request.method == "POST":
        try:
            remove_member(membership=membership, by=request.user)
        except ProjectError as exc:
            return _refused(request, membership, exc)
        messages.success(request, f"You left {membership.project}.")
        request.session.pop("last_project", None)
        return redirect("home")
    return confirm_page(
        request, project=membership.project, title=f"Leave {membership.project}?",
        body="You will need a new invitation to come back.", action="Leave project",
        cancel_url=membership.project.get_absolute_url(),
    )


@require_POST
@project_view(Role.OWNER)
def invitation_revoke(request, membership, invitation_id):
    invitation = get_object_or_404(Invitation, pk=invitation_id, project=membership.project)
    try:
        revoke_invitation(invitation=invitation, by=request.user)
    except ProjectError as exc:
        return _refused(request, membership, exc)
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("projects:members", slug=membership.project.slug)


@require_http_methods(["GET", "POST"])
@project_view(Role.OWNER)
def project_settings(request, membership):
    project = membership.project
    form = ProjectForm(request.POST or None, initial={"name": project.name})
    if request.method == "POST" and form.is_valid():
        project.name = form.cleaned_data["name"].strip()
        project.save(update_fields=["name"])
        messages.success(request, "Project renamed.")
        return redirect("projects:settings", slug=project.slug)
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(
        request, "projects/settings.html", {"project": project, "membership": membership, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    invitation = Invitation.objects.by_token(token)
    if invitation is None:
        return TemplateResponse(
            request, "projects/invitation.html", {"error": "This invitation link is not valid."}, status=404
        )
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "accept":
                accept_invitation(invitation=invitation, user=request.user)
                messages.success(request, f"Welcome to {invitation.project}.")
                return redirect(invitation.project)
            if request.POST.get("decision") == "decline":
                decline_invitation(invitation=invitation, by=request.user)
                messages.info(request, f"You declined the invitation to {invitation.project}.")
                return redirect("home")
            raise ProjectError("Choose accept or decline.")
        except ProjectError as exc:
            return TemplateResponse(
                request, "projects/invitation.html", {"invitation": invitation, "error": str(exc)}, status=400
            )
    error = invitation.closed_reason
    already = Project.objects.for_user(request.user).filter(pk=invitation.project_id).exists()
    return TemplateResponse(
        request,
        "projects/invitation.html",
        {"invitation": invitation, "error": error, "already_member": already},
        status=410 if error else 200,
    )
