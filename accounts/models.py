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


# --- personal API tokens -----------------------------------------------------------------------

#: Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "takes_"
#: How much of a token the list shows: the prefix and the first characters of the secret.
TOKEN_VISIBLE = len(TOKEN_PREFIX) + 6


def hash_api_token(raw: str) -> str:
    """The stored form of a token: sha256 of its full text (the secret has 256 bits, so no salt)."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self) -> "ApiTokenQuerySet":
        """Tokens that still authenticate: not revoked, not expired."""
        now = timezone.now()
        return self.filter(revoked_at=None).filter(models.Q(expires_at=None) | models.Q(expires_at__gt=now))

    def by_secret(self, raw: str) -> "ApiToken | None":
        """The token a raw secret names, usable or not, or None (tokens are stored hashed)."""
        if not raw or len(raw) > 200 or not raw.startswith(TOKEN_PREFIX):
            return None
        return self.select_related("user", "project").filter(token_hash=hash_api_token(raw)).first()


class ApiToken(models.Model):
    """A person's key for Runway's API as Takes serves it, for one project.

    Only the sha256 of the secret is kept; the secret is shown once, when made. Whatever a
    script does with it is that person's, in that project: budgeted, audited and kept.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=20, help_text="The first characters, to tell tokens apart")
    credit_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="The most this token may spend in all (held and charged); empty: no limit")
    rate_limit = models.CharField(
        max_length=20, blank=True, help_text="Requests allowed, e.g. 60/m; empty: settings.API_RATE_LIMIT")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, **fields) -> tuple["ApiToken", str]:
        """A new token and its raw secret (shown once, stored hashed)."""
        raw = TOKEN_PREFIX + secrets.token_hex(32)
        token = cls.objects.create(token_hash=hash_api_token(raw), prefix=raw[:TOKEN_VISIBLE], **fields)
        return token, raw

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    @property
    def is_usable(self) -> bool:
        return self.state == "active"
