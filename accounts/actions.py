"""Every change of state to people and project spaces, each atomic with its audit entry.

Make an account, confirm an address, create a project, invite, join, decline, ask
to join and answer the asking, withdraw, change a role, remove or leave, switch a
person off and on: each runs in one transaction that also writes its entry in the
audit log, so the change and its record are kept or lost together. A unique name
taken by someone else at the same moment is caught inside that transaction and
answered like any taken name: nothing is left half-made.
A deactivated person cannot sign in or start generations (submission refuses
inactive users); what they already started runs to the end and settles.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.log import record, snapshot
from core.ratelimit import is_rate

from .models import ApiToken, Invitation, Membership, Project, Role, User


class ProjectError(ValueError):
    """A request about a project that cannot be carried out; the message is for the person."""


class NotInvited(ProjectError):
    """The invitation is for someone else (or for an address its holder has not confirmed)."""


class AccountError(ValueError):
    """An account or address change that cannot be made; `field` is the form field it concerns."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


USERNAME_TAKEN = "That username is taken. Try another."
ADDRESS_TAKEN = "An account with this email address exists already: sign in, or reset your password."


# --- people --------------------------------------------------------------------------------------


def create_account(*, username: str, email: str, password: str) -> User:
    """A new person with a confirmed address (they opened the link mailed to it) and their personal space."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create_user(username=username, email=email, password=password,
                                                email_confirmed=True)
        except IntegrityError:
            # Taken since the form was checked, by someone signing up at the same moment.
            if User.objects.filter(username__iexact=username).exists():
                raise AccountError(USERNAME_TAKEN, field="username") from None
            raise AccountError(ADDRESS_TAKEN) from None
        record(actor=user, action="user.create", obj=user, after=snapshot(user, ["username", "email_confirmed"]))
        ensure_personal_project(user=user)
    return user


def confirm_address(*, user: User, email: str) -> None:
    """Make `email` the person's confirmed address (they opened the link mailed to it)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(user, ["email", "email_confirmed"])
        user.email, user.email_confirmed = email, True
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "email_confirmed"])
        except IntegrityError:
            raise AccountError("Another account took this address meanwhile, so yours stays as it was.") from None
        record(actor=user, action="user.address", obj=user, before=before,
               after=snapshot(user, ["email", "email_confirmed"]))


# --- projects ------------------------------------------------------------------------------------


def _insert_project(*, name: str, slug_from: str, created_by: User, is_personal: bool = False) -> Project:
    """Insert a project under a free slug; one taken at the same moment is retried with a random suffix."""
    for attempt in range(3):
        slug = Project.unique_slug(slug_from)
        if attempt:
            slug = f"{slug[:80]}-{secrets.token_hex(3)}"
        try:
            with transaction.atomic():
                return Project.objects.create(name=name, slug=slug, is_personal=is_personal, created_by=created_by)
        except IntegrityError:
            continue
    raise ProjectError("Several projects were being created with this name at once. Please try again.")


def ensure_personal_project(*, user: User) -> Project:
    """The user's personal project, created on first need."""
    project = Project.objects.filter(is_personal=True, created_by=user).first()
    if project:
        return project
    with transaction.atomic():
        project = _insert_project(name=f"{user.display_name}'s space", slug_from=user.username,
                                  created_by=user, is_personal=True)
        Membership.objects.create(project=project, user=user, role=Role.OWNER)
        record(actor=user, action="project.create", obj=project, after=snapshot(project))
    return project


def create_team_project(*, user: User, name: str) -> Project:
    """A new team project with `user` as its first owner."""
    name = name.strip()
    if not name:
        raise ProjectError("Give the project a name.")
    with transaction.atomic():
        project = _insert_project(name=name, slug_from=name, created_by=user)
        Membership.objects.create(project=project, user=user, role=Role.OWNER)
        record(actor=user, action="project.create", obj=project, after=snapshot(project))
    return project


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ProjectError(f"“{role}” is not a role. Choose viewer, editor or owner.")


PERSONAL_PROJECT = ("Personal projects are for their owner alone: nobody can be invited into one. "
                    "Create a team project to work with others.")


def invite_member(*, project: Project, invited_by: User, who: str, role: str) -> tuple[Invitation, str]:
    """Invite a person by username or email address; returns the invitation and its raw token.

    The answer is the same whether or not anyone has that username or address, and the
    inviter is only ever shown what they typed (`who`), never an address they did not.
    """
    _check_role(role)
    who = who.strip()
    if not who:
        raise ProjectError("Enter a username or an email address.")
    if project.is_personal:
        raise ProjectError(PERSONAL_PROJECT)
    if "@" in who:
        try:
            validate_email(who)
        except ValidationError:
            raise ProjectError("Enter a valid email address, such as name@example.com.") from None
        email = who.lower()
    else:
        # Members are on the page the inviter is looking at: naming one tells them nothing new.
        if project.memberships.filter(user__username__iexact=who).exists():
            raise ProjectError(f"{who} is already a member of {project}.")
        user = User.objects.filter(username__iexact=who).first()
        email = user.email if user else ""
    if project.invitations.pending().filter(invited_as__iexact=who).exists():
        raise ProjectError(f"{who} already has a pending invitation. Withdraw it to send a new one.")
    with transaction.atomic():
        invitation, token = Invitation.issue(project=project, email=email, invited_as=who, role=role,
                                             invited_by=invited_by)
        record(actor=invited_by, action="invitation.create", obj=invitation, after=snapshot(invitation))
    return invitation, token


def _open_invitation(invitation: Invitation | None) -> Invitation:
    if invitation is None:
        raise ProjectError("This invitation link is not valid.")
    if not invitation.is_pending:
        raise ProjectError(invitation.closed_reason)
    return invitation


def _locked(invitation: Invitation | None) -> Invitation:
    """The invitation re-read under a row lock, checked still open."""
    return _open_invitation(invitation and Invitation.objects.select_for_update().filter(pk=invitation.pk).first())


def check_invited(invitation: Invitation, user: User) -> None:
    """Raise NotInvited unless `user` is the person the invitation was sent to."""
    if invitation.is_for(user):
        return
    if invitation.is_addressed_to(user):
        raise NotInvited("Confirm your email address first: send yourself a confirmation link from your "
                         "profile, open it, then come back to this invitation.")
    raise NotInvited("This invitation was sent to someone else. If the project's owners meant you, ask to "
                     "join: they will see your username and decide.")


def _join(invitation: Invitation, user: User) -> Membership:
    """`user` into the invitation's project with its role (kept as is if already a member); the invitation is used."""
    if invitation.project.is_personal:
        raise ProjectError(PERSONAL_PROJECT)
    membership = Membership.objects.filter(project=invitation.project, user=user).first()
    if membership is None:
        try:
            with transaction.atomic():
                membership = Membership.objects.create(project=invitation.project, user=user, role=invitation.role)
        except IntegrityError:
            membership = Membership.objects.get(project=invitation.project, user=user)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def accept_invitation(*, invitation: Invitation | None, user: User) -> Membership:
    """Join the invitation's project with its role; only the invited address may. The invitation is used up."""
    with transaction.atomic():
        invitation = _locked(invitation)
        if invitation.project.is_personal:
            raise ProjectError(PERSONAL_PROJECT)
        check_invited(invitation, user)
        before = snapshot(invitation)
        membership = _join(invitation, user)
        record(actor=user, action="invitation.accept", obj=invitation, before=before, after=snapshot(invitation))
    return membership


def decline_invitation(*, invitation: Invitation | None, by: User | None = None) -> None:
    """Turn an invitation down (only the invited person may); its link stops working."""
    with transaction.atomic():
        invitation = _locked(invitation)
        if by is not None:
            check_invited(invitation, by)
        before = snapshot(invitation)
        invitation.declined_at = timezone.now()
        invitation.save(update_fields=["declined_at"])
        record(actor=by, action="invitation.decline", obj=invitation, before=before, after=snapshot(invitation))


def request_to_join(*, invitation: Invitation | None, user: User) -> None:
    """Someone the invitation was not sent to asks to join with it; the project's owners decide."""
    with transaction.atomic():
        invitation = _locked(invitation)
        if invitation.project.is_personal:
            raise ProjectError(PERSONAL_PROJECT)
        if invitation.is_for(user):
            raise ProjectError("This invitation is yours: accept it instead.")
        if invitation.requested_by_id == user.pk:
            return
        if invitation.requested_by_id is not None:
            raise ProjectError("Someone else has already asked to join with this link. Ask the project's "
                               "owners to invite you.")
        before = snapshot(invitation)
        invitation.requested_by, invitation.requested_at = user, timezone.now()
        invitation.save(update_fields=["requested_by", "requested_at"])
        record(actor=user, action="invitation.request", obj=invitation, before=before, after=snapshot(invitation))


def approve_request(*, invitation: Invitation, by: User) -> Membership:
    """An owner lets in the person who asked to join with the invitation, with its role."""
    with transaction.atomic():
        invitation = _locked(invitation)
        if invitation.requested_by is None:
            raise ProjectError("Nobody has asked to join with this invitation.")
        before = snapshot(invitation)
        membership = _join(invitation, invitation.requested_by)
        record(actor=by, action="invitation.approve", obj=invitation, before=before, after=snapshot(invitation))
    return membership


def refuse_request(*, invitation: Invitation, by: User) -> None:
    """An owner turns down the person who asked; the invitation is withdrawn, as its link reached someone else."""
    with transaction.atomic():
        invitation = _locked(invitation)
        if invitation.requested_by_id is None:
            raise ProjectError("Nobody has asked to join with this invitation.")
        before = snapshot(invitation)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(actor=by, action="invitation.refuse", obj=invitation, before=before, after=snapshot(invitation))


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


# --- personal API tokens -------------------------------------------------------------------------

TOKEN_FIELDS = ["name", "prefix", "credit_limit", "rate_limit", "expires_at", "revoked_at"]


def create_api_token(*, user: User, project: Project, name: str, credit_limit: int | None = None,
                     expires_at=None, rate_limit: str = "") -> tuple[ApiToken, str]:
    """A personal token for `project` and its secret, shown once (only its hash is kept).

    A token makes generations, so only a project's editors and owners may have one.
    """
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ProjectError("Give the token a name of 1 to 80 characters, to tell it apart later.")
    if credit_limit is not None and credit_limit < 0:
        raise ProjectError("A credit limit is a whole number of credits, 0 or more.")
    if rate_limit and not is_rate(rate_limit):
        raise ProjectError("A rate limit is a number of requests per period, e.g. 60/m, 1000/h or 20/15m.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ProjectError("The expiry date has to be in the future.")
    with transaction.atomic():
        membership = Membership.objects.filter(project=project, user=user).first()
        if not user.is_active or membership is None or not membership.can_edit:
            raise ProjectError("Only editors and owners of a project can make API tokens for it.")
        token, raw = ApiToken.issue(user=user, project=project, name=name, credit_limit=credit_limit,
                                    expires_at=expires_at, rate_limit=rate_limit)
        record(actor=user, action="api_token.create", obj=token, after=snapshot(token, TOKEN_FIELDS))
    return token, raw


def revoke_api_token(*, token: ApiToken, by: User | None) -> bool:
    """Revoke a token for good; True if this call revoked it (False: it already was)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return False
        before = snapshot(token, TOKEN_FIELDS)
        token.revoked_at, token.revoked_by = timezone.now(), by
        token.save(update_fields=["revoked_at", "revoked_by"])
        record(actor=by, action="api_token.revoke", obj=token, before=before, after=snapshot(token, TOKEN_FIELDS))
    return True
