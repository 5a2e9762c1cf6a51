"""Clips and reference images from upload to ready, and the provider-ready input clips."""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass
from datetime import timedelta
from math import gcd

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from studio.core.codes import new_code
from studio.projects.models import Project, Trashable


class MediaState(models.TextChoices):
    RECEIVED = "received", "Waiting for the worker"
    PROCESSING = "processing", "Preparing preview"
    READY = "ready", "Ready"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


PENDING_STATES = (MediaState.RECEIVED, MediaState.PROCESSING)
MAX_PROCESSING_ATTEMPTS = 3
LEASE = timedelta(minutes=2)  # extended while the worker makes progress


class ProcessedMedia(models.Model):
    """An upload that the worker checks and prepares; shared by clips and reference images.

    State moves only by compare-and-set updates, so two deliveries of the same task (django-q2
    delivers at least once) cannot both work on one upload.
    """

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    upload_key = models.UUIDField(default=uuid.uuid4)
    original_name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    state = models.CharField(max_length=12, choices=MediaState, default=MediaState.RECEIVED)
    reason = models.TextField(blank=True)
    progress = models.FloatField(default=0.0)  # 0..1 while processing
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_pending(self) -> bool:
        return self.state in PENDING_STATES

    @property
    def is_ready(self) -> bool:
        return self.state == MediaState.READY

    def claim(self) -> bool:
        """Take the processing lease; False if the upload is final or another worker holds it."""
        now = timezone.now()
        claimed = (
            type(self)
            ._default_manager.filter(pk=self.pk, state__in=PENDING_STATES)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(
                state=MediaState.PROCESSING,
                lease_until=now + LEASE,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
        )
        if claimed:
            self.refresh_from_db()
        return bool(claimed)

    def report_progress(self, fraction: float) -> None:
        """Record progress and extend the lease, as long as this worker still holds it."""
        now = timezone.now()
        type(self)._default_manager.filter(pk=self.pk, state=MediaState.PROCESSING).update(
            progress=max(0.0, min(1.0, fraction)), lease_until=now + LEASE, updated_at=now
        )

    def release(self) -> None:
        """Give the lease back after a crash-like error, so the sweep can try again."""
        type(self)._default_manager.filter(pk=self.pk, state=MediaState.PROCESSING).update(
            state=MediaState.RECEIVED, lease_until=None, updated_at=timezone.now()
        )

    def finish(self, state: str, reason: str = "", **fields: object) -> bool:
        """Compare-and-set the final state; False if the row was deleted or taken over meanwhile."""
        updated = (
            type(self)
            ._default_manager.filter(
                pk=self.pk, state=MediaState.PROCESSING, attempts=self.attempts
            )
            .update(
                state=state,
                reason=reason,
                lease_until=None,
                progress=1.0 if state == MediaState.READY else 0.0,
                updated_at=timezone.now(),
                **fields,
            )
        )
        return bool(updated)


def kind_of(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class Poster:
    """A picture for a grid card: its URL and its size, for the img's width/height attributes."""

    url: str
    width: int | None
    height: int | None


def media_url(kind: str, code: str, variant: str) -> str:
    return reverse("media_file", args=[kind, code, variant])


class Clip(ProcessedMedia, Trashable):
    """A source video uploaded to a project."""

    CONTENT_TYPES = {
        "mp4": "video/mp4",
        "m4v": "video/mp4",
        "mov": "video/quicktime",
        "webm": "video/webm",
        "mkv": "video/x-matroska",
    }

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="clips")
    source = models.FileField(max_length=255, blank=True)
    poster = models.FileField(max_length=255, blank=True)
    # A grid-sized copy of the poster. Width 0 with no file: the poster could not be read.
    poster_thumb = models.FileField(max_length=255, blank=True)
    poster_thumb_width = models.PositiveIntegerField(null=True, blank=True)
    poster_thumb_height = models.PositiveIntegerField(null=True, blank=True)
    proxy = models.FileField(max_length=255, blank=True)
    container = models.CharField(max_length=8, blank=True)
    video_codec = models.CharField(max_length=16, blank=True)
    audio_codec = models.CharField(max_length=16, blank=True)
    has_audio = models.BooleanField(default=False)
    duration = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)  # as displayed
    height = models.PositiveIntegerField(null=True, blank=True)
    rotation = models.PositiveSmallIntegerField(default=0)
    pix_fmt = models.CharField(max_length=24, blank=True)
    # The hard cuts between shots: the time in seconds of each shot's first frame but the
    # first's (studio.media.shots). None: not known (a clip from before, or detection failed).
    shot_cuts = models.JSONField(null=True, blank=True, default=None)
    # Small pictures along the clip, side by side in one JPEG (studio.media.filmstrip): picture
    # k shows the clip from k * filmstrip_every seconds. No file: not made (yet).
    filmstrip = models.FileField(max_length=255, blank=True)
    filmstrip_every = models.FloatField(null=True, blank=True)
    filmstrip_tiles = models.PositiveIntegerField(default=0)
    filmstrip_tile_width = models.PositiveSmallIntegerField(default=0)
    filmstrip_tile_height = models.PositiveSmallIntegerField(default=0)
    # How many takes of this clip have been numbered: a take's version ("v3") is never given
    # twice, even after a take is deleted (Take.version).
    takes_asked = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "upload_key"], name="clip_upload_once")
        ]
        indexes = [models.Index(fields=["state", "updated_at"])]

    def take_number_take(self) -> int:
        """The next take's version number, taken at once (two requests at once get two)."""
        type(self).objects.filter(pk=self.pk).update(takes_asked=F("takes_asked") + 1)
        self.refresh_from_db(fields=["takes_asked"])
        return self.takes_asked

    def content_type(self, variant: str) -> str:
        if variant == "source":
            return self.CONTENT_TYPES.get(self.container, kind_of(self.source.name or ""))
        return kind_of(getattr(self, variant).name)

    @property
    def playable(self) -> str:
        """The variant the browser plays: the proxy when one was needed, else the source."""
        return "proxy" if self.proxy else "source"

    @property
    def edit_problem(self) -> str:
        """Why no part of this ready clip can be sent for an edit ('' when one can)."""
        from studio.media.inputs import MAX_ASPECT, MIN_SECONDS, SLACK
        from studio.media.probe import human_duration

        if not self.is_ready or not self.width or not self.height:
            return ""
        if (self.duration or 0) < MIN_SECONDS - SLACK:
            return (
                f"This clip is {human_duration(self.duration or 0)} long, too short to edit: "
                f"an edit needs at least {MIN_SECONDS:g} seconds. You can still watch it."
            )
        ratio = max(self.width, self.height) / min(self.width, self.height)
        if ratio > MAX_ASPECT + 1e-6:
            return (
                f"This clip's aspect ratio is about 1:{ratio:.0f}, too narrow to edit: the "
                "provider accepts 1:8 to 8:1. You can still watch it."
            )
        return ""

    @property
    def is_editable(self) -> bool:
        return self.is_ready and not self.edit_problem

    @property
    def grid_poster(self) -> Poster | None:
        """The picture shown for this clip in grids: the thumbnail once it exists."""
        if self.poster_thumb:
            return Poster(
                media_url("clip", self.code, "poster_thumb"),
                self.poster_thumb_width,
                self.poster_thumb_height,
            )
        if self.poster:
            return Poster(media_url("clip", self.code, "poster"), self.width, self.height)
        return None

    @property
    def aspect_label(self) -> str:
        if not self.width or not self.height:
            return ""
        d = gcd(self.width, self.height)
        return f"{self.width // d}:{self.height // d}"


class Reference(ProcessedMedia):
    """A reference image in a project's library, reusable across edits."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="references")
    image = models.FileField(max_length=255, blank=True)
    thumb = models.FileField(max_length=255, blank=True)
    format = models.CharField(max_length=8, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "upload_key"], name="reference_upload_once")
        ]
        indexes = [models.Index(fields=["state", "updated_at"])]

    def content_type(self, variant: str) -> str:
        return kind_of(getattr(self, variant).name)


class InputClip(models.Model):
    """A provider-ready cut of a clip (H.264/AAC mp4, 2-10 s, within the provider's limits).

    Made once per (clip, window) and reused by every take that edits the same window.
    """

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="inputs")
    start_ms = models.PositiveIntegerField()
    length_ms = models.PositiveIntegerField()
    file = models.FileField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    duration = models.FloatField()
    has_audio = models.BooleanField(default=False)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clip", "start_ms", "length_ms"], name="input_clip_window_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.clip} @ {self.start_ms / 1000:.1f}s +{self.length_ms / 1000:.1f}s"

    def content_type(self, variant: str) -> str:
        return "video/mp4"
