"""A project's voices, avatars and model-router configurations: each row mirrors one Runway object.

Runway keeps these objects for the whole organization; Takes gives each one a project (the
one access helper decides who sees it) and a person who made it. `runway_id` is Runway's id,
the row's link to the object it stands for; a row whose object Runway has lost is shown as
such, never silently dropped.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Project
from assets.models import Asset, media_key


class Readiness(models.TextChoices):
    """Runway's processing states of a voice or an avatar."""

    PROCESSING = "PROCESSING", "Processing"
    READY = "READY", "Ready"
    FAILED = "FAILED", "Failed"


class ImageProcessing(models.TextChoices):
    """What Runway does to an avatar's reference image before using it."""

    OPTIMIZE = "optimize", "Optimize it for avatars"
    NONE = "none", "Use it as it is"


def preview_key(instance, filename: str) -> str:
    return media_key("voices", instance, filename)


class InProject(models.QuerySet):
    def in_project(self, project: Project) -> InProject:
        return self.filter(project=project)


class LibraryItem(models.Model):
    """What every mirrored object has: its project, author, Runway id and dates."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    runway_id = models.CharField(max_length=64, unique=True, help_text="Runway's id of the object")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InProject.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Voice(LibraryItem):
    """A custom voice designed from a description (Runway's voices API)."""

    description = models.CharField(max_length=500, blank=True)
    prompt = models.TextField(help_text="The description the voice was designed from")
    design_model = models.CharField(max_length=40)
    status = models.CharField(max_length=12, choices=Readiness.choices, default=Readiness.PROCESSING)
    failure = models.TextField(blank=True)
    preview = models.FileField(upload_to=preview_key, blank=True, max_length=300,
                               help_text="Our copy of Runway's audio sample of the voice")
    preview_seconds = models.FloatField(null=True, blank=True)

    class Meta(LibraryItem.Meta):
        pass

    @property
    def choice_value(self) -> str:
        return f"custom:{self.runway_id}"


class Avatar(LibraryItem):
    """A talking character made from an image and a voice (Runway's avatars API)."""

    personality = models.TextField()
    start_script = models.TextField(blank=True)
    image = models.ForeignKey(Asset, on_delete=models.SET_NULL, null=True, related_name="+",
                              help_text="The reference image it was made from")
    preset_voice = models.CharField(max_length=40, blank=True)
    voice = models.ForeignKey(Voice, on_delete=models.SET_NULL, null=True, blank=True, related_name="avatars")
    image_processing = models.CharField(max_length=10, choices=ImageProcessing.choices, default=ImageProcessing.OPTIMIZE)
    status = models.CharField(max_length=12, choices=Readiness.choices, default=Readiness.PROCESSING)
    failure = models.TextField(blank=True)

    class Meta(LibraryItem.Meta):
        pass

    @property
    def choice_value(self) -> str:
        return f"custom:{self.runway_id}"


class RouterConfig(LibraryItem):
    """A Model Router configuration: the settings under which Runway chooses the model."""

    slug = models.SlugField(max_length=100, unique=True, help_text="Runway's slug, which generate requests name")
    description = models.CharField(max_length=500, blank=True)
    settings = models.JSONField(default=dict, help_text="Runway's settings object, as last written")

    class Meta(LibraryItem.Meta):
        pass

    @property
    def choice_value(self) -> str:
        return f"custom:{self.slug}"
