"""Generations and their outputs, with the state a resumable pipeline needs."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, Project
from assets.models import Asset, MediaFields, media_key
from runway import catalog

from . import failures, transitions
from .transitions import AT_RUNWAY, FINISHED, IN_FLIGHT, Status  # noqa: F401 — the statuses, with the model


def output_key(instance, filename: str) -> str:
    return media_key("outputs", instance, filename)


def preview_key(instance, filename: str) -> str:
    return media_key("previews", instance, filename)


class GenerationGroup(models.Model):
    """Generations submitted together as variations of one setting: N seeds, or a small grid."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="generation_groups")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    endpoint = models.CharField(max_length=40)
    axes = models.JSONField(default=dict, help_text="What varies: {'seed': n} or {field: [values, ...]}")
    size = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.size} variations #{self.pk}"

    @property
    def description(self) -> str:
        """What varies, in words: "4 seeds", "2 ratios × 3 prompt texts", "3 models"."""
        parts = []
        for name, values in self.axes.items():
            count = values if isinstance(values, int) else len(values)
            label = name.replace("_", " ")
            parts.append(f"{count} {label}{'s' if count != 1 else ''}")
        return " × ".join(parts) or f"{self.size} variations"


class GenerationQuerySet(models.QuerySet):
    def in_project(self, project: Project) -> GenerationQuerySet:
        return self.filter(project=project)

    def in_flight(self) -> GenerationQuerySet:
        return self.filter(status__in=IN_FLIGHT)

    def at_runway(self) -> GenerationQuerySet:
        return self.filter(status__in=AT_RUNWAY)

    def due_for_poll(self, now=None) -> GenerationQuerySet:
        now = now or timezone.now()
        return self.at_runway().filter(needs_attention=False).exclude(runway_task_id="").filter(
            Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
        )

    def set_progress(self, progress: Mapping[int, float], *, batch_size: int = 500) -> None:
        """Write many generations' progress, each its own value, in one statement per batch.

        `UPDATE … FROM (VALUES …)` (SQLite 3.33+ and PostgreSQL read it alike, columns named
        column1, column2): bulk_update's CASE with one WHEN per row cost a poll pass of 1,000
        tasks about 0.1 s of CPU to build, ten times the statement's own time. Only rows of
        this queryset are written.
        """
        connection = connections[self.db]
        table = connection.ops.quote_name(self.model._meta.db_table)
        pk = connection.ops.quote_name(self.model._meta.pk.column)
        column = connection.ops.quote_name(self.model._meta.get_field("progress").column)
        items = list(progress.items())
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            ids = self.filter(pk__in=[key for key, _ in batch]).values("pk").query
            inner, inner_params = ids.sql_with_params()
            rows = ", ".join(["(%s, %s)"] * len(batch))
            with connection.cursor() as cursor:
                # Names come from the model and are quoted; every value is a parameter.
                sql = (f"UPDATE {table} SET {column} = v.column2 FROM (VALUES {rows}) AS v "  # noqa: S608
                       f"WHERE {table}.{pk} = v.column1 AND {table}.{pk} IN ({inner})")
                values = [value for key, share in batch for value in (int(key), float(share))]
                cursor.execute(sql, values + list(inner_params))


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
    # Kept by a PostgreSQL trigger from `prompt` (migration 0015); empty and unread on SQLite.
    prompt_search = SearchVectorField(editable=False, null=True,
                                      help_text="The prompt's text-search vector, written by the database "
                                                "(PostgreSQL only)")
    inputs = models.ManyToManyField(Asset, blank=True, related_name="used_by")
    retry_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries")
    group = models.ForeignKey(GenerationGroup, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="generations", help_text="The variations it was submitted with")
    api_token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="generations", help_text="The API token a script made it with")
    api_id = models.UUIDField(null=True, blank=True, unique=True,
                              help_text="The task id Takes' API answers with (API generations only)")
    api_deleted_at = models.DateTimeField(null=True, blank=True,
                                          help_text="Deleted through the API: no longer a task there, still kept")

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0)
    needs_attention = models.BooleanField(default=False, db_index=True)
    attention_reason = models.CharField(max_length=300, blank=True)

    runway_task_id = models.CharField(max_length=64, blank=True, db_index=True)
    request_payload = models.JSONField(null=True, blank=True)
    create_response = models.JSONField(null=True, blank=True)
    task_json = models.JSONField(null=True, blank=True)
    cancel_answer = models.CharField(
        "Runway's answer to the cancel", max_length=12, blank=True,
        help_text="The task's status at Runway when it was asked, right before a cancel; "
                  "NOT_FOUND when Runway no longer had the task",
    )

    failure_code = models.CharField(max_length=80, blank=True)
    failure_message = models.TextField(blank=True)
    runway_failure = models.TextField(blank=True)

    estimated_credits = models.PositiveIntegerField(default=0)
    cost_credits = models.PositiveIntegerField(null=True, blank=True)

    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    poll_errors = models.PositiveIntegerField(default=0)
    bad_replies = models.PositiveSmallIntegerField(default=0, help_text="Replies in a row that were not a task")
    claim_token = models.CharField(max_length=32, blank=True, help_text="The worker doing the current step")
    claimed_at = models.DateTimeField(null=True, blank=True)
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
    def spec(self) -> catalog.Model:
        """The catalog model of these settings (UnknownModel when the catalog no longer has it)."""
        return catalog.spec_of(self.endpoint, self.model)

    @property
    def routed(self) -> bool:
        """True when Runway's router chose (or will choose) the model."""
        try:
            return self.spec.routed
        except catalog.UnknownModel:
            return False

    @property
    def model_name(self) -> str:
        """The model's name as people know it (its id when the catalog no longer has it); for a
        routed generation, the model Runway chose, once it has."""
        if self.routed:
            return "Runway chooses" if self.model == catalog.ROUTED else catalog.model_label(self.model)
        try:
            return self.spec.label
        except catalog.UnknownModel:
            return self.model

    @property
    def model_caption(self) -> str:
        """The model as a card names it: "Gen-4.5", or "Gen-4.5 (chosen by Runway)" when routed."""
        if self.routed and self.model != catalog.ROUTED:
            return f"{self.model_name} (chosen by Runway)"
        return self.model_name

    @property
    def form_model(self) -> str:
        """The model the generation form offers for these settings: a routed one is routed again."""
        try:
            return self.spec.id
        except catalog.UnknownModel:
            return self.model

    @property
    def display_label(self) -> str:
        """“Endpoint · Model”, as cards and the gallery title a generation."""
        try:
            endpoint = catalog.get_endpoint(self.endpoint).label
            self.spec  # noqa: B018 — the model must still be in the catalog
        except catalog.UnknownModel:
            return f"{self.endpoint} · {self.model}"
        return f"{endpoint} · {self.model_caption}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    @property
    def is_flagged(self) -> bool:
        """A submission whose outcome is unknown, waiting for ops to check with Runway."""
        return self.status == Status.SUBMITTING and self.needs_attention and not self.runway_task_id

    @property
    def can_cancel(self) -> bool:
        # Not while copying (Runway has finished and billed) nor while flagged (Runway may have it).
        return self.status in IN_FLIGHT and self.status != Status.COPYING and not self.is_flagged

    @property
    def failure_family(self) -> str:
        return failures.failure_family(self.failure_code)

    @property
    def failure_hint(self) -> str:
        """What to do about a failure, when the message itself does not already say it."""
        if self.status != Status.FAILED:
            return ""
        hint = failures.FAILURE_MESSAGES.get(self.failure_family, "")
        return "" if hint == self.failure_message else hint

    @property
    def can_retry(self) -> bool:
        return self.status in (Status.FAILED, Status.CANCELLED) and self.failure_family != "safety"

    @property
    def elapsed(self) -> timedelta:
        return (self.finished_at or timezone.now()) - self.created_at

    def transition(self, from_statuses, to_status: str, *, only_if: Q | None = None, **fields) -> bool:
        """Compare-and-set: move to `to_status` only if still in one of `from_statuses` (and `only_if`)."""
        if isinstance(from_statuses, str):
            from_statuses = (from_statuses,)
        transitions.check(from_statuses, to_status)
        fields.setdefault("updated_at", timezone.now())
        if to_status in FINISHED:
            fields.setdefault("finished_at", timezone.now())
        rows = Generation.objects.filter(pk=self.pk, status__in=from_statuses)
        if only_if is not None:
            rows = rows.filter(only_if)
        changed = rows.update(status=to_status, **fields)
        if changed:
            self.status = to_status
            for name, value in fields.items():
                if not hasattr(value, "resolve_expression"):
                    setattr(self, name, value)
        return bool(changed)

    def claim(self, status: str, *, stale_after: timedelta) -> str | None:
        """Claim the step of `status` for this worker (compare-and-set); its token, or None if another has it.

        A claim not renewed for `stale_after` belongs to a worker that died or stalled and may
        be taken over (a long step renews it as it goes, `renew_claim`). Taking a claim counts an attempt (`step_errors`): a killed attempt counts too.
        """
        now = timezone.now()
        token = secrets.token_hex(16)
        taken = Generation.objects.filter(
            Q(claim_token="") | Q(claimed_at__lte=now - stale_after), pk=self.pk, status=status,
        ).update(claim_token=token, claimed_at=now, step_errors=models.F("step_errors") + 1, updated_at=now)
        if not taken:
            return None
        self.refresh_from_db(fields=["claim_token", "claimed_at", "step_errors", "updated_at"])
        return token

    def renew_claim(self, token: str) -> bool:
        """Keep a claim fresh while the step is still working; False if another worker took it over."""
        return bool(Generation.objects.filter(pk=self.pk, claim_token=token).update(claimed_at=timezone.now()))

    def release_claim(self, token: str) -> None:
        """Hand a claim back (only if it is still this worker's)."""
        Generation.objects.filter(pk=self.pk, claim_token=token).update(claim_token="", claimed_at=None)

    def queue_position(self) -> int | None:
        """Place among this organisation's throttled tasks of the same model (1 = next)."""
        if self.status != Status.THROTTLED:
            return None
        ahead = Generation.objects.filter(
            status=Status.THROTTLED, model=self.model, submitted_at__lt=self.submitted_at or timezone.now()
        ).count()
        return ahead + 1


CODEC_NAMES = {"h264": "H.264", "hevc": "HEVC", "prores": "ProRes", "av1": "AV1", "vp9": "VP9", "vp8": "VP8",
               "png sequence": "PNG sequence", "exr sequence": "OpenEXR sequence", "opus": "Opus",
               "vorbis": "Vorbis", "mp3": "MP3", "flac": "FLAC", "aac": "AAC", "alac": "ALAC", "png": "PNG",
               "jpeg": "JPEG", "webp": "WebP"}


class OutputQuerySet(models.QuerySet):
    def in_project(self, project: Project) -> OutputQuerySet:
        """The project's outputs that are not in its trash: what every page shows and serves."""
        return self.filter(project=project, trashed_at__isnull=True)

    def in_trash(self, project: Project) -> OutputQuerySet:
        return self.filter(project=project, trashed_at__isnull=False)


class Output(MediaFields):
    """A file Runway made, copied into our storage for good."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="outputs")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="outputs")
    index = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=output_key, max_length=300, help_text="As Runway delivered it")
    codec = models.CharField(max_length=40, blank=True, help_text="As delivered: h264, prores, exr sequence…")
    preview = models.FileField(upload_to=preview_key, blank=True, max_length=300,
                               help_text="A copy every browser plays (H.264 MP4 or MP3), when the delivery is not one")
    playable = models.BooleanField(default=True, help_text="A browser plays the delivery or its preview")
    is_favourite = models.BooleanField(default=False, db_index=True)
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True,
                                      help_text="Moved to the trash: purged for good 30 days later")
    trashed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    objects = OutputQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["generation", "index"], name="one_output_per_index")]
        indexes = [models.Index(fields=["project", "-created_at"]),
                   models.Index(fields=["project", "is_favourite", "-created_at"], name="output_favourites_idx")]

    def __str__(self) -> str:
        return f"Output {self.pk} of {self.generation_id}"

    @property
    def extension(self) -> str:
        """The delivered file's extension (mov, zip, ogg...), as we stored it."""
        suffix = PurePosixPath(self.file.name or "").suffix.lstrip(".").lower()
        return suffix if suffix.isalnum() else "bin"

    @property
    def download_name(self) -> str:
        created = self.created_at.strftime("%Y%m%d-%H%M%S")
        return f"takes-{self.generation.model}-{created}-{self.pk}.{self.extension}"

    @property
    def delivered_as(self) -> str:
        """What was delivered, in a person's words: "ProRes · MOV", "PNG sequence · ZIP"."""
        codec = self.codec.lower()
        name = CODEC_NAMES.get(codec) or ("PCM" if codec.startswith("pcm_") else codec.upper())
        if not name:
            return self.content_type
        container = self.extension.upper()
        return name if container == name else f"{name} · {container}"  # "PNG", not "PNG · PNG"

    @property
    def preview_type(self) -> str:
        return "audio/mpeg" if self.kind == "audio" else "video/mp4"


class Lease(models.Model):
    """A named, expiring lock held by one process (the poller), with that holder's heartbeat."""

    name = models.CharField(max_length=40, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(null=True, blank=True, help_text="When the holder last renewed it")
    detail = models.JSONField(default=dict, blank=True, help_text="What the holder last reported")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def acquire(cls, name: str, holder: str, seconds: float, *, detail: dict | None = None) -> bool:
        """Take or renew the lease with one conditional update; True if `holder` now has it."""
        now = timezone.now()
        fields = {"holder": holder, "expires_at": now + timedelta(seconds=seconds), "beat_at": now}
        if detail is not None:
            fields["detail"] = detail
        if cls.objects.filter(Q(expires_at__lte=now) | Q(holder=holder), name=name).update(**fields):
            return True
        try:
            with transaction.atomic():
                cls.objects.create(name=name, **fields)
        except IntegrityError:
            return False  # somebody else holds it
        return True

    @classmethod
    def release(cls, name: str, holder: str) -> None:
        cls.objects.filter(name=name, holder=holder).update(holder="", expires_at=timezone.now())

    @classmethod
    def is_held(cls, name: str) -> bool:
        return cls.objects.filter(name=name, expires_at__gt=timezone.now()).exclude(holder="").exists()
