"""Every change of state to people and project spaces, each atomic with its audit entry.

Create a project, invite, join, decline, withdraw, change a role, remove or leave,
switch a person off and on: each runs in one transaction that also writes its
entry in the audit log, so the change and its record are kept or lost together.
A deactivated person cannot sign in or start generations (submission refuses
inactive users); what they already started runs to the end and settles.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.log import record, snapshot

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
        record(actor=user, action="project.create", obj=project, after=snapshot(project))
    return project


def create_team_project(*, user: User, name: str) -> Project:
    """A new team project with `user` as its first owner."""
    name = name.strip()
    if not name:
        raise ProjectError("Give the project a name.")
    with transaction.atomic():
        project = Project.objects.create(name=name, slug=Project.unique_slug(name), created_by=user)
        Membership.objects.create(project=project, user=user, role=Role.OWNER)
        record(actor=user, action="project.create", obj=project, after=snapshot(project))
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
    with transaction.atomic():
        invitation, token = Invitation.issue(project=project, email=email, role=role, invited_by=invited_by)
        record(actor=invited_by, action="invitation.create", obj=invitation, after=snapshot(invitation))
    return invitation, token


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
        before = snapshot(invitation)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        record(actor=user, action="invitation.accept", obj=invitation, before=before, after=snapshot(invitation))
    return membership


def decline_invitation(*, invitation: Invitation | None, by: User | None = None) -> None:
    """Turn an invitation down; its link stops working."""
    with transaction.atomic():
        invitation = _open_invitation(
            invitation and Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        )
        before = snapshot(invitation)
        invitation.declined_at = timezone.now()
        invitation.save(update_fields=["declined_at"])
        record(actor=by, action="invitation.decline", obj=invitation, before=before, after=snapshot(invitation))


def revoke_invitation(*, invitation: Invitation, by: User | None = None) -> None:
    """Withdraw a pending invitation."""
    with transaction.atomic():
        invitation.refresh_from_db()
        if not invitation.is_pending:
            raise ProjectError("Only pending invitations can be withdrawn.")
        before = snapshot(invitation)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(actor=by, action="invitation.revoke", obj=invitation, before=before, after=snapshot(invitation))


def _lock_owners(project: Project) -> int:
    # Locking the owner rows serialises concurrent demotions and removals, so
    # two owners cannot each remove the other and leave the project ownerless.
    return len(list(Membership.objects.select_for_update().filter(project=project, role=Role.OWNER)))


def change_role(*, membership: Membership, role: str, by: User | None = None) -> Membership:
    """Give a member another role; the last owner cannot be demoted."""
    _check_role(role)
    with transaction.atomic():
        owners = _lock_owners(membership.project)
        membership.refresh_from_db()
        if membership.role == Role.OWNER and role != Role.OWNER and owners <= 1:
            raise ProjectError("A project needs at least one owner. Make someone else an owner first.")
        before = snapshot(membership)
        membership.role = role
        membership.save(update_fields=["role"])
        record(actor=by, action="membership.role", obj=membership, before=before, after=snapshot(membership))
    return membership


def remove_member(*, membership: Membership, by: User | None = None) -> None:
    """Take a person out of a project (also used when they leave); never the last owner."""
    if membership.project.is_personal:
        raise ProjectError("Nobody can leave or be removed from a personal project.")
    with transaction.atomic():
        owners = _lock_owners(membership.project)
        membership.refresh_from_db()
        if membership.role == Role.OWNER and owners <= 1:
            raise ProjectError("The last owner cannot leave. Make someone else an owner first.")
        before = snapshot(membership)
        record(actor=by, action="membership.remove", obj=membership, before=before)
        membership.delete()


# --- people --------------------------------------------------------------------------------------


def _set_active(*, user: User, active: bool, by: User | None, note: str) -> bool:
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=not active).update(is_active=active)
        if changed:
            record(actor=by, action="user.reactivate" if active else "user.deactivate", obj=user,
                   before={"is_active": not active}, after={"is_active": active}, note=note)
    user.refresh_from_db(fields=["is_active"])
    return bool(changed)


def deactivate_user(*, user: User, by: User | None, note: str = "") -> bool:
    """Switch the person off; False if they already were. Their in-flight generations carry on."""
    return _set_active(user=user, active=False, by=by, note=note)


def reactivate_user(*, user: User, by: User | None, note: str = "") -> bool:
    """Let the person sign in and generate again; False if they were active."""
    return _set_active(user=user, active=True, by=by, note=note)
