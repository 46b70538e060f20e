"""Workflows over people and project spaces: create, invite, join, change roles, leave."""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Invitation, Membership, Project, Role, User


class ProjectError(ValueError):
    """A request about a project that cannot be carried out; the message is for the person."""


def ensure_personal_project(*, user: User) -> Project:
    """The user's personal project, created on first need."""
    project = Project.objects.filter(is_personal=True, created_by=user).first()
    if project:
        return project
    with transaction.atomic():
        project = Project.objects.create(
            name=f"{user.display_name}'s space",
            slug=Project.unique_slug(user.username),
            is_personal=True,
            created_by=user,
        )
        Membership.objects.create(project=project, user=user, role=Role.OWNER)
    return project


def create_team_project(*, user: User, name: str) -> Project:
    """A new team project with `user` as its first owner."""
    name = name.strip()
    if not name:
        raise ProjectError("Give the project a name.")
    with transaction.atomic():
        project = Project.objects.create(name=name, slug=Project.unique_slug(name), created_by=user)
        Membership.objects.create(project=project, user=user, role=Role.OWNER)
    return project


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ProjectError(f"“{role}” is not a role. Choose viewer, editor or owner.")


def invite_member(*, project: Project, invited_by: User, who: str, role: str) -> tuple[Invitation, str]:
    """Invite a person by username or email; returns the invitation and its raw token."""
    _check_role(role)
    who = who.strip()
    if not who:
        raise ProjectError("Enter a username or an email address.")
    user = User.objects.filter(Q(username__iexact=who) | Q(email__iexact=who)).first()
    if user is None and "@" not in who:
        raise ProjectError(f"Nobody is called “{who}”. Invite them by email address instead.")
    email = user.email if user else who.lower()
    if project.memberships.filter(user__email__iexact=email).exists():
        raise ProjectError(f"{user or email} is already a member of {project}.")
    if project.invitations.pending().filter(email__iexact=email).exists():
        raise ProjectError(f"{email} already has a pending invitation. Revoke it to send a new one.")
    return Invitation.issue(project=project, email=email, role=role, invited_by=invited_by)


def _open_invitation(invitation: Invitation | None) -> Invitation:
    if invitation is None:
        raise ProjectError("This invitation link is not valid.")
    if not invitation.is_pending:
        raise ProjectError(invitation.closed_reason)
    return invitation


def accept_invitation(*, invitation: Invitation | None, user: User) -> Membership:
    """Join the invitation's project with its role; the invitation is used up."""
    with transaction.atomic():
        invitation = _open_invitation(
            invitation and Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        )
        membership = Membership.objects.filter(project=invitation.project, user=user).first()
        if membership is None:
            try:
                with transaction.atomic():
                    membership = Membership.objects.create(
                        project=invitation.project, user=user, role=invitation.role
                    )
            except IntegrityError:
                membership = Membership.objects.get(project=invitation.project, user=user)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def decline_invitation(*, invitation: Invitation | None) -> None:
    """Turn an invitation down; its link stops working."""
    with transaction.atomic():
        invitation = _open_invitation(
            invitation and Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        )
        invitation.declined_at = timezone.now()
        invitation.save(update_fields=["declined_at"])


def revoke_invitation(*, invitation: Invitation) -> None:
    """Withdraw a pending invitation."""
    if not invitation.is_pending:
        raise ProjectError("Only pending invitations can be withdrawn.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


def _lock_owners(project: Project) -> int:
    # Locking the owner rows serialises concurrent demotions and removals, so
    # two owners cannot each remove the other and leave the project ownerless.
    return len(list(Membership.objects.select_for_update().filter(project=project, role=Role.OWNER)))


def change_role(*, membership: Membership, role: str) -> Membership:
    """Give a member another role; the last owner cannot be demoted."""
    _check_role(role)
    with transaction.atomic():
        owners = _lock_owners(membership.project)
        membership.refresh_from_db()
        if membership.role == Role.OWNER and role != Role.OWNER and owners <= 1:
            raise ProjectError("A project needs at least one owner. Make someone else an owner first.")
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def remove_member(*, membership: Membership) -> None:
    """Take a person out of a project (also used when they leave); never the last owner."""
    if membership.project.is_personal:
        raise ProjectError("Nobody can leave or be removed from a personal project.")
    with transaction.atomic():
        owners = _lock_owners(membership.project)
        membership.refresh_from_db()
        if membership.role == Role.OWNER and owners <= 1:
            raise ProjectError("The last owner cannot leave. Make someone else an owner first.")
        membership.delete()
