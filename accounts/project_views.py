"""Project spaces: list, create, members, invitations, settings."""

from datetime import UTC, datetime, time

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import project_view
from core.http import confirm_page
from core.ratelimit import ip_of, limit, person_of, spend

from . import emails
from .actions import (
    NotInvited,
    ProjectError,
    accept_invitation,
    approve_request,
    change_role,
    create_api_token,
    create_team_project,
    decline_invitation,
    invite_member,
    refuse_request,
    remove_member,
    request_to_join,
    revoke_api_token,
    revoke_invitation,
)
from .forms import ApiTokenForm, InviteForm, ProjectForm, RoleForm
from .models import ApiToken, Invitation, Membership, Project, Role


@require_http_methods(["GET", "POST"])
def project_list(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = create_team_project(user=request.user, name=form.cleaned_data["name"])
        except ProjectError as exc:
            form.add_error("name", str(exc))
        else:
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
        "invitations": project.invitations.pending().select_related("invited_by", "requested_by")
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
@limit("invitations-person", key=person_of)
@limit("invitations-ip", key=ip_of)
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
    link = emails.send_invitation(invitation=invitation, token=token)
    # Only what the inviter typed: an invitation by username never shows its address.
    messages.success(request, f"Invitation sent to {invitation.label}. You can also share this link: {link}")
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
    messages.success(request, f"The invitation to {invitation.label} was withdrawn.")
    return redirect("projects:members", slug=membership.project.slug)


@require_POST
@project_view(Role.OWNER)
def invitation_request(request, membership, invitation_id):
    """An owner lets in, or turns down, the person who asked to join with an invitation's link."""
    invitation = get_object_or_404(Invitation.objects.select_related("requested_by"), pk=invitation_id,
                                   project=membership.project)
    decision = request.POST.get("decision")
    try:
        if decision == "approve":
            approve_request(invitation=invitation, by=request.user)
            messages.success(request, f"{invitation.requested_by} joined {membership.project}.")
        elif decision == "decline":
            refuse_request(invitation=invitation, by=request.user)
            messages.info(request, f"You turned down {invitation.requested_by}; the invitation to "
                                   f"{invitation.label} was withdrawn.")
        else:
            raise ProjectError("Choose approve or decline.")
    except ProjectError as exc:
        return _refused(request, membership, exc)
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


def _invitation_page(request, invitation, *, error=None, status=200):
    """The invitation as its holder sees it: accept, confirm their address first, or ask to join."""
    context = {"invitation": invitation, "error": error}
    if invitation is not None and error is None:
        context["already_member"] = Project.objects.for_user(request.user).filter(pk=invitation.project_id).exists()
        context["is_for_them"] = invitation.is_for(request.user)
        context["needs_confirmation"] = not context["is_for_them"] and invitation.is_addressed_to(request.user)
        context["asked"] = invitation.requested_by_id == request.user.pk
        context["asked_by_other"] = invitation.requested_by_id not in (None, request.user.pk)
    return TemplateResponse(request, "projects/invitation.html", context, status=status)


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    invitation = Invitation.objects.by_token(token)
    if invitation is None:
        return _invitation_page(request, None, error="This invitation link is not valid.", status=404)
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision == "accept":
                accept_invitation(invitation=invitation, user=request.user)
                messages.success(request, f"Welcome to {invitation.project}.")
                return redirect(invitation.project)
            if decision == "decline":
                decline_invitation(invitation=invitation, by=request.user)
                messages.info(request, f"You declined the invitation to {invitation.project}.")
                return redirect("home")
            if decision == "request":
                spend(request, "join-requests-person", person_of(request))
                request_to_join(invitation=invitation, user=request.user)
                messages.success(request, f"You asked to join {invitation.project}. Its owners will decide; "
                                          "once they let you in, it appears in your projects.")
                return redirect("invitation", token=token)
            raise ProjectError("Choose accept or decline.")
        except NotInvited as exc:
            return _invitation_page(request, invitation, error=str(exc), status=403)
        except ProjectError as exc:
            return _invitation_page(request, invitation, error=str(exc), status=400)
    error = invitation.closed_reason
    if error is None and invitation.project.is_personal:
        error = "This invitation is into a personal project, which is for its owner alone."
    return _invitation_page(request, invitation, error=error, status=410 if error else 200)


# --- personal API tokens -------------------------------------------------------------------------


def _tokens_for(membership):
    """The tokens a member sees here: their own; an owner sees everyone's in the project."""
    tokens = ApiToken.objects.filter(project=membership.project).select_related("user")
    return tokens if membership.is_owner else tokens.filter(user=membership.user)


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def token_list(request, membership):
    """A person's API tokens for this project: make one (its secret shown once), see when each was last used."""
    project = membership.project
    form = ApiTokenForm(request.POST or None)
    secret, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            expires = None
            if data["expires_on"]:
                expires = datetime.combine(data["expires_on"], time.max, tzinfo=UTC)
            try:
                _token, secret = create_api_token(user=request.user, project=project, name=data["name"],
                                                  credit_limit=data["credit_limit"], expires_at=expires,
                                                  rate_limit=(data["rate_limit"] or "").strip())
            except ProjectError as exc:
                form.add_error(None, str(exc))
            else:
                status, form = 200, ApiTokenForm()
    response = TemplateResponse(request, "projects/tokens.html", {
        "project": project, "membership": membership, "form": form, "secret": secret,
        "tokens": _tokens_for(membership), "api_base": request.build_absolute_uri("/"),
    }, status=status)
    response["Cache-Control"] = "no-store"  # a page that shows a secret is never kept
    return response


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def token_revoke(request, membership, token_id: int):
    token = get_object_or_404(_tokens_for(membership), pk=token_id)
    back = reverse("projects:tokens", args=[membership.project.slug])
    if request.method == "POST":
        if revoke_api_token(token=token, by=request.user):
            messages.success(request, f"Token “{token.name}” revoked: scripts using it now get 401.")
        return redirect(back)
    return confirm_page(
        request, project=membership.project, title=f"Revoke the token “{token.name}”?",
        body="Every script using it stops at once (401). What it made stays in the project.",
        action="Revoke token", cancel_url=back,
    )
