"""People, the project spaces they share, and invitations into them."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify


class User(AbstractUser):
    """A person who signs in to Takes."""

    email = models.EmailField("email address", unique=True)
    # Every way to set an address confirms it first (the sign-up link, the change link), and
    # staff vouch for the accounts they make; only accounts from before confirmation existed
    # start unconfirmed. An invitation admits only a confirmed address.
    email_confirmed = models.BooleanField("email address confirmed", default=True)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            # Sign-up treats "Nina" and "nina" as one name; so does the database, even in a race.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique",
                                    violation_error_message="That username is taken. Try another."),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    OWNER = "owner", "Owner"


ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user) -> "ProjectQuerySet":
        """Projects the user is a member of."""
        return self.filter(memberships__user=user)


class Project(models.Model):
    """A space a team shares: assets, generations and outputs live in one."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=90, unique=True)
    is_personal = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-is_personal", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("generations:home", args=[self.slug])

    @staticmethod
    def unique_slug(name: str) -> str:
        """A URL slug for a new project, suffixed until it is free."""
        base = slugify(name)[:80] or "project"
        slug, n = base, 1
        while Project.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    def owners(self) -> models.QuerySet:
        return self.memberships.filter(role=Role.OWNER)


class Membership(models.Model):
    """A person's role in a project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")]
        ordering = ["project", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def can_edit(self) -> bool:
        return self.has_role(Role.EDITOR)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> "InvitationQuerySet":
        return self.filter(accepted_at=None, declined_at=None, revoked_at=None, expires_at__gt=timezone.now())

    def by_token(self, token: str) -> "Invitation | None":
        """The invitation a raw token names, or None (tokens are stored hashed)."""
        if not token or len(token) > 100:
            return None
        return self.select_related("project", "invited_by").filter(token_hash=_hash_token(token)).first()


CLOSED_INVITATION_MESSAGES = {
    "accepted": "This invitation has already been used.",
    "declined": "This invitation was declined.",
    "revoked": "This invitation was withdrawn by the project's owners.",
    "expired": "This invitation has expired. Ask the project's owners for a new one.",
}


class Invitation(models.Model):
    """An offer to join a project, sent as a link with an unguessable token, for one address.

    Only a signed-in person whose confirmed address is `email` may accept it. Anyone else who
    arrives with the link may ask to join instead (`requested_by`); an owner then lets them in
    or turns them down, which withdraws the invitation. `invited_as` is what the inviter typed
    (a username or an address): the only name the project's owners are ever shown, so an
    invitation by username never tells them the address it went to. An invitation by a
    username nobody has keeps `email` empty: it looks the same to the inviter, reaches nobody
    by mail, and its link admits people only through a request.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(blank=True)
    invited_as = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label} → {self.project}"

    @classmethod
    def issue(cls, *, project: Project, email: str, role: str, invited_by,
              invited_as: str = "") -> tuple["Invitation", str]:
        """Create an invitation and return it with its raw token (shown once, stored hashed)."""
        token = secrets.token_urlsafe(32)
        invitation = cls.objects.create(
            project=project,
            email=email,
            invited_as=invited_as or email,
            role=role,
            invited_by=invited_by,
            token_hash=_hash_token(token),
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
        )
        return invitation, token

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.declined_at:
            return "declined"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @property
    def is_pending(self) -> bool:
        return self.state == "pending"

    @property
    def label(self) -> str:
        """Whom the invitation is for, as the inviter typed it."""
        return self.invited_as or self.email

    @property
    def role_phrase(self) -> str:
        """The role with its article, for "… as an editor"."""
        role = self.get_role_display().lower()
        return f"an {role}" if role[0] in "aeiou" else f"a {role}"

    @property
    def typed_address(self) -> str:
        """The invited address when the inviter typed it (an invitation by username shows none)."""
        return self.email if self.email and self.invited_as.lower() == self.email.lower() else ""

    @property
    def is_open(self) -> bool:
        """Pending, and into a project that takes invitations."""
        return self.is_pending and not self.project.is_personal

    def is_for(self, user) -> bool:
        """True when `user` is the invited person: their confirmed address is the invited one."""
        return bool(self.email) and user.email_confirmed and user.email.lower() == self.email.lower()

    def is_addressed_to(self, user) -> bool:
        """True when `user`'s address is the invited one, confirmed or not."""
        return bool(self.email) and user.email.lower() == self.email.lower()

    @property
    def closed_reason(self) -> str | None:
        """Why the invitation can no longer be used, for the person holding the link."""
        return CLOSED_INVITATION_MESSAGES.get(self.state)
