"""Input assets, and the media facts every stored file (input or output) records."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Project


class MediaKind(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"


def media_key(prefix: str, instance, filename: str) -> str:
    """A unique, unguessable storage key: storage never sees a user-chosen path."""
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"{prefix}/{instance.project_id}/{uuid.uuid4().hex}{ext[:8]}"


def asset_key(instance, filename: str) -> str:
    return media_key("assets", instance, filename)


def thumb_key(instance, filename: str) -> str:
    return media_key("thumbs", instance, filename)


class MediaFields(models.Model):
    """Facts recorded for every stored media file, input or output."""

    kind = models.CharField(max_length=10, choices=MediaKind.choices)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds")
    sha256 = models.CharField(max_length=64)
    thumbnail = models.FileField(upload_to=thumb_key, blank=True, max_length=300)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        abstract = True

    @property
    def dimensions(self) -> str:
        return f"{self.width}×{self.height}" if self.width and self.height else ""


class AssetQuerySet(models.QuerySet):
    def in_project(self, project: Project) -> AssetQuerySet:
        return self.filter(project=project)


class Asset(MediaFields):
    """A file a person uploaded (or an output reused) to feed generations."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assets")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    file = models.FileField(upload_to=asset_key, max_length=300)
    name = models.CharField(max_length=255)
    # A data reference up the layers, by name only: an asset made from an output remembers it.
    source_output = models.ForeignKey(
        "generations.Output", on_delete=models.SET_NULL, null=True, blank=True, related_name="reused_as"
    )
    runway_uri = models.CharField(max_length=5000, blank=True)
    runway_uri_expires_at = models.DateTimeField(null=True, blank=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        db_table = "generations_asset"  # the table it had before assets became an app

    def __str__(self) -> str:
        return self.name

    def runway_uri_usable(self, margin: timedelta = timedelta(hours=1)) -> bool:
        """True when the stored upload URI has more than `margin` left."""
        return bool(self.runway_uri and self.runway_uri_expires_at and self.runway_uri_expires_at > timezone.now() + margin)
