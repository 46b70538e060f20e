"""Tags on outputs and the revocable public links that share one output."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Project
from generations.models import Output


class Tag(models.Model):
    """A label a project puts on its outputs."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40)
    outputs = models.ManyToManyField(Output, blank=True, related_name="tags", db_table="generations_output_tags")

    class Meta:
        ordering = ["name"]
        db_table = "generations_tag"  # tables keep the names they had inside the generations app
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="tag_unique_per_project")]

    def __str__(self) -> str:
        return self.name


def new_share_token() -> str:
    return secrets.token_urlsafe(32)


class ShareLink(models.Model):
    """A revocable, unguessable public link to one output."""

    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        db_table = "generations_sharelink"
        constraints = [models.UniqueConstraint(fields=["output"], condition=Q(revoked_at__isnull=True),
                                               name="one_active_share_link_per_output")]

    def __str__(self) -> str:
        return f"Share link for output {self.output_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Board(models.Model):
    """A named collection of a project's outputs; an output may sit on several boards."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="boards")
    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    outputs = models.ManyToManyField(Output, through="BoardItem", related_name="boards")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="board_name_unique_per_project")]

    def __str__(self) -> str:
        return self.name


class BoardItem(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items")
    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="board_items")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-added_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["board", "output"], name="output_once_per_board")]

    def __str__(self) -> str:
        return f"Output {self.output_id} on board {self.board_id}"


class BoardLink(models.Model):
    """A revocable public link to one board, which may expire."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="links")
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["board"], condition=Q(revoked_at__isnull=True),
                                               name="one_active_link_per_board")]

    def __str__(self) -> str:
        return f"Link to board {self.board_id}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Comment(models.Model):
    """A note a member writes on an output."""

    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]
