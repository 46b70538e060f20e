"""Assets, generations and their outputs, with the state a resumable pipeline needs."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Project


class MediaKind(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"


def _media_key(prefix: str, instance, filename: str) -> str:
    # Unique, unguessable keys: storage never sees a user-chosen path.
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"{prefix}/{instance.project_id}/{uuid.uuid4().hex}{ext[:8]}"


def asset_key(instance, filename: str) -> str:
    return _media_key("assets", instance, filename)


def output_key(instance, filename: str) -> str:
    return _media_key("outputs", instance, filename)


def thumb_key(instance, filename: str) -> str:
    return _media_key("thumbs", instance, filename)


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
    source_output = models.ForeignKey(
        "Output", on_delete=models.SET_NULL, null=True, blank=True, related_name="reused_as"
    )
    runway_uri = models.CharField(max_length=5000, blank=True)
    runway_uri_expires_at = models.DateTimeField(null=True, blank=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def runway_uri_usable(self, margin: timedelta = timedelta(hours=1)) -> bool:
        """True when the stored upload URI has more than `margin` left."""
        return bool(self.runway_uri and self.runway_uri_expires_at and self.runway_uri_expires_at > timezone.now() + margin)


class Status(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    UPLOADING = "UPLOADING", "Uploading inputs"
    SUBMITTING = "SUBMITTING", "Submitting"
    PENDING = "PENDING", "Waiting at Runway"
    THROTTLED = "THROTTLED", "In Runway's queue"
    RUNNING = "RUNNING", "Generating"
    COPYING = "COPYING", "Saving output"
    SUCCEEDED = "SUCCEEDED", "Done"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


IN_FLIGHT = (Status.QUEUED, Status.UPLOADING, Status.SUBMITTING, Status.PENDING, Status.THROTTLED,
             Status.RUNNING, Status.COPYING)
AT_RUNWAY = (Status.PENDING, Status.THROTTLED, Status.RUNNING)
FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)


class GenerationQuerySet(models.QuerySet):
    def in_project(self, project: Project) -> GenerationQuerySet:
        return self.filter(project=project)

    def in_flight(self) -> GenerationQuerySet:
        return self.filter(status__in=IN_FLIGHT)

    def at_runway(self) -> GenerationQuerySet:
        return self.filter(status__in=AT_RUNWAY)

    def needing_attention(self) -> GenerationQuerySet:
        return self.filter(needs_attention=True)

    def due_for_poll(self, now=None) -> GenerationQuerySet:
        now = now or timezone.now()
        return self.at_runway().filter(needs_attention=False).exclude(runway_task_id="").filter(
            Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
        )


class Generation(models.Model):
    """One request to Runway and everything needed to resume it after a crash."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="generations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generations"
    )
    endpoint = models.CharField(max_length=40, db_index=True)
    model = models.CharField(max_length=60, db_index=True)
    params = models.JSONField(default=dict, help_text="Validated settings; asset fields hold asset ids")
    prompt = models.TextField(blank=True, help_text="Copy of the prompt for search and display")
    inputs = models.ManyToManyField(Asset, blank=True, related_name="used_by")
    retry_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries")

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0)
    needs_attention = models.BooleanField(default=False, db_index=True)
    attention_reason = models.CharField(max_length=300, blank=True)

    runway_task_id = models.CharField(max_length=64, blank=True, db_index=True)
    request_payload = models.JSONField(null=True, blank=True)
    create_response = models.JSONField(null=True, blank=True)
    task_json = models.JSONField(null=True, blank=True)

    failure_code = models.CharField(max_length=80, blank=True)
    failure_message = models.TextField(blank=True)
    runway_failure = models.TextField(blank=True)

    estimated_credits = models.PositiveIntegerField(default=0)
    cost_credits = models.PositiveIntegerField(null=True, blank=True)

    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    poll_errors = models.PositiveIntegerField(default=0)
    step_errors = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"]), models.Index(fields=["status", "next_poll_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name="progress_in_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint}/{self.model} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("generations:detail", args=[self.project.slug, self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    @property
    def can_cancel(self) -> bool:
        return self.status in IN_FLIGHT and self.status != Status.COPYING

    @property
    def failure_family(self) -> str:
        code = self.failure_code or ""
        if "SAFETY" in code:
            return "safety"
        if code.startswith(("ASSET", "INPUT")) and "INTERNAL" not in code:
            return "input"
        return "internal" if code else ""

    @property
    def can_retry(self) -> bool:
        return self.status in (Status.FAILED, Status.CANCELLED) and self.failure_family != "safety"

    @property
    def elapsed(self) -> timedelta:
        return (self.finished_at or timezone.now()) - self.created_at

    def transition(self, from_statuses, to_status: str, **fields) -> bool:
        """Compare-and-set: move to `to_status` only if still in one of `from_statuses`."""
        if isinstance(from_statuses, str):
            from_statuses = (from_statuses,)
        fields.setdefault("updated_at", timezone.now())
        if to_status in FINISHED:
            fields.setdefault("finished_at", timezone.now())
        changed = Generation.objects.filter(pk=self.pk, status__in=from_statuses).update(status=to_status, **fields)
        if changed:
            self.status = to_status
            for name, value in fields.items():
                if not hasattr(value, "resolve_expression"):
                    setattr(self, name, value)
        return bool(changed)

    def queue_position(self) -> int | None:
        """Place among this organisation's throttled tasks of the same model (1 = next)."""
        if self.status != Status.THROTTLED:
            return None
        ahead = Generation.objects.filter(
            status=Status.THROTTLED, model=self.model, submitted_at__lt=self.submitted_at or timezone.now()
        ).count()
        return ahead + 1


class OutputQuerySet(models.QuerySet):
    def in_project(self, project: Project) -> OutputQuerySet:
        return self.filter(project=project)


class Tag(models.Model):
    """A label a project puts on its outputs."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="tag_unique_per_project")]

    def __str__(self) -> str:
        return self.name


class Output(MediaFields):
    """A file Runway made, copied into our storage for good."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="outputs")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="outputs")
    index = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=output_key, max_length=300)
    is_favourite = models.BooleanField(default=False, db_index=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="outputs")

    objects = OutputQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["generation", "index"], name="one_output_per_index")]
        indexes = [models.Index(fields=["project", "-created_at"]),
                   models.Index(fields=["project", "is_favourite", "-created_at"], name="output_favourites_idx")]

    def __str__(self) -> str:
        return f"Output {self.pk} of {self.generation_id}"

    @property
    def download_name(self) -> str:
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4",
               "audio/wav": "wav", "audio/mpeg": "mp3"}.get(self.content_type, "bin")
        created = self.created_at.strftime("%Y%m%d-%H%M%S")
        return f"takes-{self.generation.model}-{created}-{self.pk}.{ext}"


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
        constraints = [models.UniqueConstraint(fields=["output"], condition=Q(revoked_at__isnull=True),
                                               name="one_active_share_link_per_output")]

    def __str__(self) -> str:
        return f"Share link for output {self.output_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None



class Lease(models.Model):
    """A named, expiring lock held by one worker (e.g. the single poll sweep)."""

    name = models.CharField(max_length=40, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def acquire(cls, name: str, holder: str, seconds: float) -> bool:
        """Take or renew the lease with one conditional update; True if `holder` now has it."""
        cls.objects.get_or_create(name=name, defaults={"expires_at": timezone.now() - timedelta(seconds=1)})
        now = timezone.now()
        taken = cls.objects.filter(Q(expires_at__lte=now) | Q(holder=holder), name=name).update(
            holder=holder, expires_at=now + timedelta(seconds=seconds)
        )
        return bool(taken)

    @classmethod
    def release(cls, name: str, holder: str) -> None:
        cls.objects.filter(name=name, holder=holder).update(holder="", expires_at=timezone.now())

    @classmethod
    def is_held(cls, name: str) -> bool:
        return cls.objects.filter(name=name, expires_at__gt=timezone.now()).exclude(holder="").exists()
