"""Upload slots handed out by `POST /v1/uploads`: where a script sends a file, and what its URI names."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import models
from django.utils import timezone

from accounts.models import ApiToken, Project
from assets.models import Asset

#: A slot takes its file within this time (Runway's own presigned targets are short-lived too).
SLOT_LIFETIME = timedelta(hours=1)
#: What a stored upload's URI looks like: Runway's form, with Takes as its host.
URI_PREFIX = "runway://takes/"


class UploadQuerySet(models.QuerySet):
    def by_uri(self, uri: str, token: ApiToken) -> Upload | None:
        """The upload a `runway://takes/…` URI names, among the token's project's, or None."""
        if not isinstance(uri, str) or not uri.startswith(URI_PREFIX):
            return None
        slot = uri.removeprefix(URI_PREFIX)
        if not 20 <= len(slot) <= 64:
            return None
        return self.select_related("asset").filter(slot=slot, project_id=token.project_id).first()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Upload(models.Model):
    """One `create_ephemeral`: a slot to send a file to, then the project asset the file became.

    Two names: `slot`, in the `runway://` URI a script then uses in its creates (resolved only
    within the token's project), and the secret of the upload target URL, which lets anyone
    holding it send the one file (as a presigned URL does) and is stored only as its hash.
    """

    slot = models.CharField(max_length=64, unique=True)
    target_hash = models.CharField(max_length=64, unique=True)
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="uploads")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    asset = models.ForeignKey(Asset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = UploadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Upload {self.filename} ({'stored' if self.asset_id else 'waiting'})"

    @classmethod
    def open_slot(cls, *, token: ApiToken, filename: str) -> tuple[Upload, str]:
        """A new slot and the secret of its upload target (stored hashed)."""
        secret = secrets.token_urlsafe(32)
        upload = cls.objects.create(slot=secrets.token_urlsafe(24), target_hash=_hash(secret), token=token,
                                    project_id=token.project_id, filename=filename)
        return upload, secret

    @classmethod
    def by_target(cls, secret: str) -> Upload | None:
        """The slot an upload target's secret opens, or None."""
        if not 20 <= len(secret or "") <= 100:
            return None
        return cls.objects.select_related("token__user", "token__project", "project").filter(
            target_hash=_hash(secret)).first()

    @property
    def uri(self) -> str:
        return URI_PREFIX + self.slot

    @property
    def is_open(self) -> bool:
        """Still waiting for its file, and not too late."""
        return self.asset_id is None and self.created_at > timezone.now() - SLOT_LIFETIME
