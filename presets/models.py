"""A project's presets: named settings of one model, with a prompt that may have {placeholders}."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Project

PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_ -]{0,39})\}")


class PresetQuerySet(models.QuerySet):
    def in_project(self, project: Project) -> PresetQuerySet:
        return self.filter(project=project)


class Preset(models.Model):
    """The settings of a generation form saved under a name, shared with the project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="presets")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    name = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=40)
    model = models.CharField(max_length=60)
    params = models.JSONField(default=dict, help_text="The settings, without the prompt; asset fields hold asset ids")
    prompt = models.TextField(blank=True, help_text="The prompt, where {a word in braces} is asked for on use")
    uses = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PresetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="one_preset_name_per_project")]

    def __str__(self) -> str:
        return self.name

    @property
    def placeholders(self) -> list[str]:
        """The words in braces of the prompt, each once, in order."""
        return list(dict.fromkeys(PLACEHOLDER.findall(self.prompt)))

    def filled(self, values: dict[str, str]) -> str:
        """The prompt with each placeholder replaced by its value."""
        return PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), self.prompt)
