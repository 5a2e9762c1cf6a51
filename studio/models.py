"""Projects, their clips and reference images, and the studio's own bookkeeping."""

from __future__ import annotations

import contextlib
import mimetypes
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from math import gcd
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team, User
from studio.core.codes import new_code
from studio.engine_models import LocalJob  # noqa: F401
from studio.parameters import (
    NEGATIVE_PROMPT_MAX,
    PROMPT_MAX,
    AudioSetting,
    EditParameters,
    Ratio,
    Resolution,
)
from studio.providers import About, about
from studio.review_models import Comment, Lineage, Mention, ReviewStatus, Side  # noqa: F401


class Project(models.Model):
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Last activity: details changed, a clip or a reference image added.
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The project's monthly limit on provider spend (USD), set by a team owner; None: no limit.
    budget_usd = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["team", "-updated_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def touch(self) -> None:
        Project.objects.filter(pk=self.pk).update(updated_at=timezone.now())


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


def _kind_of(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class Poster:
    """A picture for a grid card: its URL and its size, for the img's width/height attributes."""

    url: str
    width: int | None
    height: int | None


def _media_url(kind: str, code: str, variant: str) -> str:
    return reverse("media_file", args=[kind, code, variant])


class Clip(ProcessedMedia):
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

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "upload_key"], name="clip_upload_once")
        ]
        indexes = [models.Index(fields=["state", "updated_at"])]

    def content_type(self, variant: str) -> str:
        if variant == "source":
            return self.CONTENT_TYPES.get(self.container, _kind_of(self.source.name or ""))
        return _kind_of(getattr(self, variant).name)

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
                _media_url("clip", self.code, "poster_thumb"),
                self.poster_thumb_width,
                self.poster_thumb_height,
            )
        if self.poster:
            return Poster(_media_url("clip", self.code, "poster"), self.width, self.height)
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
        return _kind_of(getattr(self, variant).name)


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


class WorkerHeartbeat(models.Model):
    """Written every few seconds by each live django-q2 worker process (see studio.health)."""

    worker = models.CharField(max_length=120, unique=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker


class TakeState(models.TextChoices):
    QUEUED = "queued", "Waiting for a free slot"
    PREPARING = "preparing", "Preparing the input"
    SUBMITTING = "submitting", "Sending to the provider"
    RUNNING = "running", "Rendering"
    DOWNLOADING = "downloading", "Saving the result"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    TIMED_OUT = "timed_out", "Timed out"
    EXPIRED = "expired", "Result expired"
    UNCERTAIN = "uncertain", "Submission uncertain"


# Takes in these states hold one of the provider's concurrent slots.
AT_PROVIDER = (TakeState.PREPARING, TakeState.SUBMITTING, TakeState.RUNNING)
ACTIVE_TAKE_STATES = (TakeState.QUEUED, *AT_PROVIDER, TakeState.DOWNLOADING)
FINAL_TAKE_STATES = (
    TakeState.SUCCEEDED,
    TakeState.FAILED,
    TakeState.CANCELED,
    TakeState.TIMED_OUT,
    TakeState.EXPIRED,
    TakeState.UNCERTAIN,
)
# Endings that go into the team's history (canceling and parking as uncertain are logged by
# the person's own action, or not at all).
LOGGED_ENDINGS = (TakeState.SUCCEEDED, TakeState.FAILED, TakeState.TIMED_OUT, TakeState.EXPIRED)


class Trigger(StrEnum):
    """What moves a take: a person, a worker's step, the provider's answer or the clock."""

    ADMIT = "admit"
    CANCEL = "cancel"
    CANCEL_TASK = "cancel_task"
    STOP_WAITING = "stop_waiting"
    PREPARE_FAILED = "prepare_failed"
    PREPARED = "prepared"
    RETRY_LATER = "retry_later"
    SUBMIT_FAILED = "submit_failed"
    SEND_UNCERTAIN = "send_uncertain"
    SEND_INTERRUPTED = "send_interrupted"
    SENT = "sent"
    PROVIDER_FINISHED = "provider_finished"
    PROVIDER_FAILED = "provider_failed"
    STATUS_REFUSED = "status_refused"
    ADOPTION_REFUSED = "adoption_refused"
    DEADLINE = "deadline"
    SAVED = "saved"
    SAVE_FAILED = "save_failed"
    RESULT_EXPIRED = "result_expired"
    SEND_AGAIN = "send_again"
    ADOPT = "adopt"
    CHECK_AGAIN = "check_again"
    TRY_SAVING_AGAIN = "try_saving_again"


@dataclass(frozen=True)
class Transition:
    sources: tuple[TakeState, ...]
    target: TakeState
    when: str  # for people: printed in docs/takes.md's table (manage.py take_states)
    # The provider surely bills nothing for this take (never sent, refused, or failed: only
    # successful edits are billed), so its money reservation is given back.
    releases: bool = False


_Q, _PREP, _SUB, _RUN, _DOWN = (
    TakeState.QUEUED,
    TakeState.PREPARING,
    TakeState.SUBMITTING,
    TakeState.RUNNING,
    TakeState.DOWNLOADING,
)

# Every legal move of a take. Take.fire is the only way to change a take's state: it moves only
# from the trigger's sources (compare-and-set), so a trigger from any other state does nothing.
TAKE_TRANSITIONS: dict[Trigger, Transition] = {
    Trigger.ADMIT: Transition((_Q,), _PREP, "a slot at the provider is free"),
    Trigger.CANCEL: Transition(
        (_Q, _PREP), TakeState.CANCELED, "a person cancels it", releases=True
    ),
    Trigger.CANCEL_TASK: Transition(
        (_RUN,), TakeState.CANCELED, "a person cancels it, and the provider stops its task"
    ),
    Trigger.STOP_WAITING: Transition(
        (_RUN,), TakeState.CANCELED, "a person stops waiting: the provider cannot cancel"
    ),
    Trigger.PREPARE_FAILED: Transition(
        (_PREP,), TakeState.FAILED, "the clip is gone or its part cannot be cut", releases=True
    ),
    Trigger.PREPARED: Transition((_PREP,), _SUB, "the input is ready: the paid POST comes next"),
    Trigger.RETRY_LATER: Transition(
        (_PREP, _SUB), _PREP, "the POST was certainly not received (or our own trouble before it)"
    ),
    Trigger.SUBMIT_FAILED: Transition(
        (_PREP, _SUB),
        TakeState.FAILED,
        "the provider refused, or the retries ran out",
        releases=True,
    ),
    Trigger.SEND_UNCERTAIN: Transition(
        (_SUB,), TakeState.UNCERTAIN, "the POST may have reached the provider"
    ),
    Trigger.SEND_INTERRUPTED: Transition(
        (_SUB,), TakeState.UNCERTAIN, "the worker died while sending (its lease ran out)"
    ),
    Trigger.SENT: Transition((_SUB,), _RUN, "the provider said its task id"),
    Trigger.PROVIDER_FINISHED: Transition((_RUN,), _DOWN, "the provider has a result"),
    Trigger.PROVIDER_FAILED: Transition(
        (_RUN,), TakeState.FAILED, "the provider failed the task", releases=True
    ),
    Trigger.STATUS_REFUSED: Transition(
        (_RUN,), TakeState.FAILED, "the provider refuses to say (e.g. it does not know the task)"
    ),
    Trigger.ADOPTION_REFUSED: Transition(
        (_RUN,), TakeState.UNCERTAIN, "the provider does not know a task id a person pasted"
    ),
    Trigger.DEADLINE: Transition((_RUN,), TakeState.TIMED_OUT, "the take's deadline passed"),
    Trigger.SAVED: Transition((_DOWN,), TakeState.SUCCEEDED, "the result is stored"),
    Trigger.SAVE_FAILED: Transition(
        (_DOWN,), TakeState.FAILED, "the result cannot be saved, or the attempts ran out"
    ),
    Trigger.RESULT_EXPIRED: Transition(
        (_DOWN,), TakeState.EXPIRED, "the result link expired and no fresh one is to be had"
    ),
    Trigger.SEND_AGAIN: Transition(
        (TakeState.UNCERTAIN,), _Q, "a person sends it again (a new paid POST)"
    ),
    Trigger.ADOPT: Transition(
        (TakeState.UNCERTAIN,), _RUN, "a person pastes the task id found at the provider"
    ),
    Trigger.CHECK_AGAIN: Transition(
        (TakeState.TIMED_OUT,), _RUN, "a person asks about the known task once more"
    ),
    Trigger.TRY_SAVING_AGAIN: Transition(
        (TakeState.FAILED,), _DOWN, "a person asks to save a paid result again"
    ),
}
# Written only by Take's methods below (tests/takes/test_take_states.py checks the source tree).
GUARDED_TAKE_FIELDS = (
    "state",
    "state_changed_at",
    "lease_until",
    "provider_calls",
    "status_checks",
    "submit_posts",
    "transient_errors",
    "download_attempts",
    "reserved_usd",
    "admitted_at",
)


class Take(models.Model):
    """One edit request: a clip window, parameters and references, sent to one provider."""

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="takes")
    clip = models.ForeignKey(Clip, on_delete=models.SET_NULL, null=True, related_name="takes")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    run_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True)
    # What was asked: every parameter of the API, as sent (studio.parameters declares them).
    prompt = models.TextField(max_length=PROMPT_MAX)
    negative_prompt = models.TextField(max_length=NEGATIVE_PROMPT_MAX, blank=True)
    resolution = models.CharField(max_length=5, choices=Resolution, default=Resolution.P1080)
    ratio = models.CharField(max_length=4, choices=Ratio, blank=True, default=Ratio.KEEP)
    duration = models.PositiveSmallIntegerField(default=0)  # 0 = keep the window's length
    audio_setting = models.CharField(max_length=6, choices=AudioSetting, default=AudioSetting.AUTO)
    prompt_extend = models.BooleanField(default=True)
    seed = models.PositiveBigIntegerField()
    seed_was_chosen = models.BooleanField(default=False)
    start_ms = models.PositiveIntegerField(default=0)
    length_ms = models.PositiveIntegerField()
    references = models.ManyToManyField(Reference, through="TakeReference", blank=True)
    input_clip = models.ForeignKey(InputClip, on_delete=models.SET_NULL, null=True, blank=True)
    provider = models.CharField(max_length=16)
    # Where it is.
    state = models.CharField(max_length=12, choices=TakeState, default=TakeState.QUEUED)
    state_changed_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    provider_task_id = models.CharField(max_length=120, null=True, blank=True, unique=True)
    provider_calls = models.PositiveIntegerField(default=0)
    submit_posts = models.PositiveSmallIntegerField(default=0)
    status_checks = models.PositiveIntegerField(default=0)
    transient_errors = models.PositiveSmallIntegerField(default=0)
    download_attempts = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True)  # for the person
    last_error = models.TextField(blank=True)  # for us: the provider's words, truncated
    progress = models.FloatField(null=True, blank=True)  # 0..1 when the provider reports it
    engine_looks = models.JSONField(default=list, blank=True)  # local engine: looks applied
    extended_prompt = models.TextField(blank=True)  # the rewritten prompt, when reported
    title = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True, max_length=4000)
    # Review (docs/review.md): where the team's decision on this take stands, and how the take
    # came from `run_of`; takes made by one "Variations" share a `batch`.
    review_status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.NONE
    )
    review_changed_at = models.DateTimeField(null=True, blank=True)
    review_changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lineage = models.CharField(max_length=10, choices=Lineage.choices, blank=True)
    batch = models.CharField(max_length=16, blank=True, db_index=True)
    export_state = models.CharField(max_length=10, blank=True)  # "", working, ready, failed
    export_file = models.FileField(max_length=255, blank=True)
    # Money and results.
    estimate_usd = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    # Held against the budgets that cover this take until the provider reports its charge
    # (studio.services.budgets): the estimate of each paid request sent or to be sent, 0 once
    # the take ended without being billed, and always 0 for providers that do not bill.
    reserved_usd = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    charged_usd = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    provider_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    result_url = models.TextField(blank=True)
    result_expires_at = models.DateTimeField(null=True, blank=True)
    result = models.FileField(max_length=255, blank=True)
    result_poster = models.FileField(max_length=255, blank=True)
    result_thumb = models.FileField(max_length=255, blank=True)  # grid-sized result_poster
    result_thumb_width = models.PositiveIntegerField(null=True, blank=True)
    result_thumb_height = models.PositiveIntegerField(null=True, blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    result_size = models.BigIntegerField(null=True, blank=True)
    result_width = models.PositiveIntegerField(null=True, blank=True)
    result_height = models.PositiveIntegerField(null=True, blank=True)
    result_duration = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    admitted_at = models.DateTimeField(null=True, blank=True)  # let through to the provider
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "created_at"]),
            models.Index(fields=["project", "-created_at"]),
            models.Index(fields=["-created_at", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.prompt[:40]} ({self.code})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_TAKE_STATES

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_TAKE_STATES

    @property
    def can_save_again(self) -> bool:
        """Failed while saving a result the provider still has (paid), for a reason that may
        pass (a full disk, a broken transfer): its reason offers “Try saving again”."""
        return bool(
            self.state == TakeState.FAILED
            and self.provider_task_id
            and self.result_url
            and not self.result
            and "Try saving again" in self.reason
        )

    @property
    def can_check_again(self) -> bool:
        """Timed out while following a known provider task: ask about it once more."""
        return bool(self.state == TakeState.TIMED_OUT and self.provider_task_id)

    # -- the only ways a take's state, lease and counters change ---------------------------
    def fire(
        self, trigger: Trigger, note: str = "", *, count: Iterable[str] = (), **fields: Any
    ) -> bool:
        """Move the take by `trigger`, setting `fields` and adding one to each `count`ed counter,
        and record its TakeEvent in the same transaction; then reload the take.

        A compare-and-set on the trigger's source states: False, changing nothing, when the take
        is in any other state (moved on meanwhile, or the trigger is illegal from there)."""
        move = TAKE_TRANSITIONS[trigger]
        now = timezone.now()
        if move.releases:
            fields.setdefault("reserved_usd", 0)
        if trigger == Trigger.ADMIT:
            fields.setdefault("admitted_at", now)
        if move.target in FINAL_TAKE_STATES:
            fields.setdefault("finished_at", now)
            fields.setdefault("lease_until", None)
            fields.setdefault("next_check_at", None)
        with transaction.atomic():
            changed = Take.objects.filter(pk=self.pk, state__in=move.sources).update(
                state=move.target, state_changed_at=now, **fields, **_counted(count)
            )
            if not changed:
                return False
            TakeEvent.objects.create(take_id=self.pk, state=move.target, at=now, note=note[:2000])
            self.refresh_from_db()
            if move.target in LOGGED_ENDINGS:
                self._log_ending()
        return True

    def _log_ending(self) -> None:
        finished = self.state == TakeState.SUCCEEDED
        Activity.objects.create(
            team=self.project.team,
            actor=self.created_by,
            verb="finished" if finished else "failed",
            summary=(
                f"got a finished take: {self.prompt[:60]}"
                if finished
                else f"had a take end as {self.get_state_display().lower()}: {self.prompt[:60]}"
            )[:300],
            project=self.project,
            take=self,
        )

    def note(self, text: str) -> None:
        """Add a line to the take's history without moving it."""
        TakeEvent.objects.create(take_id=self.pk, state=self.state, note=text[:2000])

    def record(self, *, while_in: str | None, count: Iterable[str] = (), **fields: Any) -> bool:
        """Change the take's bookkeeping, adding one to each `count`ed counter (with F(), so
        concurrent steps never lose a count), only while it is in `while_in` (None: any state).
        Never its state or lease: those change by fire() and the lease methods."""
        if {"state", "state_changed_at", "lease_until"} & fields.keys():
            raise ValueError("the state and lease of a take change only by fire() and claim()")
        rows = Take.objects.filter(pk=self.pk)
        if while_in is not None:
            rows = rows.filter(state=while_in)
        return bool(rows.update(**fields, **_counted(count)))

    @classmethod
    def claim(cls, pk: int, state: str) -> Take | None:
        """Take the lease of a take in `state`: None when it is elsewhere or someone holds it."""
        now = timezone.now()
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        claimed = (
            cls.objects.filter(pk=pk, state=state)
            .filter(free)
            .update(lease_until=now + settings.TAKE_LEASE)
        )
        return cls.objects.select_related("clip", "project").get(pk=pk) if claimed else None

    def renew_lease(self, held: datetime | None) -> datetime | None:
        """Extend the lease we wrote as `held`: its new end, or None when someone else holds it
        (compare-and-set on our value, so a lease taken over is never extended)."""
        until = timezone.now() + settings.TAKE_LEASE
        renewed = Take.objects.filter(pk=self.pk, lease_until=held).update(lease_until=until)
        return until if renewed else None

    def release_lease(self, *, retry_at: datetime, error: str = "") -> None:
        """Give the lease back; the repair sweep runs the step again from `retry_at`."""
        fields: dict[str, Any] = {"lease_until": None, "next_check_at": retry_at}
        if error:
            fields["last_error"] = error[:2000]
        Take.objects.filter(pk=self.pk).update(**fields)

    def reserve_estimate(self) -> None:
        """Before the take is first saved: hold its estimate against the budgets that cover it
        when its provider bills (studio.services.budgets)."""
        if self.pk is not None:
            raise ValueError("a saved take's reservation changes only by fire()")
        self.reserved_usd = self.estimate_usd if self.engine.bills else Decimal(0)

    @property
    def parameters(self) -> EditParameters:
        """The wan2.7-videoedit parameters of this take, as sent."""
        return EditParameters.of({name: getattr(self, name) for name in EditParameters.names()})

    @property
    def engine(self) -> About:
        """What pages may know of this take's provider: its label, whether it bills, is AI."""
        return about(self.provider)

    @property
    def output_seconds(self) -> float:
        return float(self.duration or self.length_ms / 1000)

    def content_type(self, variant: str) -> str:
        return _kind_of(getattr(self, variant).name)

    @property
    def grid_poster(self) -> Poster | None:
        """The picture shown for this take in grids: the result's, else its clip's."""
        if self.result_thumb:
            return Poster(
                _media_url("take", self.code, "result_thumb"),
                self.result_thumb_width,
                self.result_thumb_height,
            )
        if self.result_poster:
            return Poster(
                _media_url("take", self.code, "result_poster"),
                self.result_width,
                self.result_height,
            )
        return self.clip.grid_poster if self.clip else None


def _counted(counters: Iterable[str]) -> dict[str, Any]:
    """Add one to each counter in the database, never from a value read earlier."""
    return {name: F(name) + 1 for name in counters}


class TakeReference(models.Model):
    take = models.ForeignKey(Take, on_delete=models.CASCADE)
    reference = models.ForeignKey(Reference, on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["take", "reference"], name="take_reference_once")
        ]

    def __str__(self) -> str:
        return f"{self.take_id}#{self.position}"


class TakeEvent(models.Model):
    """Every state change of a take, with when and why: the take's own history."""

    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(max_length=12, choices=TakeState)
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.take_id} {self.state}"


class ProviderGate(models.Model):
    """One row per provider: calls wait until `not_before` after a rate limit (provider-wide)."""

    provider = models.CharField(max_length=16, unique=True)
    not_before = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.provider


class TakeStar(models.Model):
    """A person's favourite take."""

    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="stars")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["take", "user"], name="star_once")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.take_id}"


class ShareLink(models.Model):
    """A public, revocable link to one take and its source. The token is shown once, kept hashed."""

    # A password is typed by people the owner tells it to; below 8 characters it guards little,
    # and above 200 it is a paste accident (it was once cut silently, locking the owner out).
    PASSWORD_MIN = 8
    PASSWORD_MAX = 200

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    allow_download = models.BooleanField(default=False)
    show_prompt = models.BooleanField(default=True)
    allow_comments = models.BooleanField(default=False)  # a review link: guests may comment
    password_hash = models.CharField(max_length=200, blank=True)
    views = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"share {self.code} of {self.take_id}"

    @property
    def is_live(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Activity(models.Model):
    """One line of a team's history: who did what to which thing, and when."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    verb = models.CharField(max_length=32)
    summary = models.CharField(max_length=300)
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, blank=True)
    take = models.ForeignKey(Take, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["team", "-at"]),
            models.Index(fields=["team", "actor", "-at"]),
        ]

    def __str__(self) -> str:
        return self.summary


class Lease(models.Model):
    """A role that one process holds at a time, across every host, until `until` (e.g. the
    scheduler). The holder renews it well before it runs out; when the holder dies, the renewals
    stop and another process may take the role once `until` has passed.

    Times come from each host's clock, so the hosts must keep their clocks in step (NTP).
    """

    name = models.CharField(max_length=64, unique=True)
    owner = models.CharField(max_length=120, blank=True)
    until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.owner or 'free'})"

    @classmethod
    def acquire(cls, name: str, owner: str, seconds: float) -> bool:
        """Take the role, or renew it when `owner` holds it; False while another holds it."""
        now = timezone.now()
        if not cls.objects.filter(name=name).exists():
            with contextlib.suppress(IntegrityError), transaction.atomic():
                cls.objects.create(name=name)  # another process may have made it meanwhile
        free = Q(until__isnull=True) | Q(until__lte=now) | Q(owner=owner)
        taken = (
            cls.objects.filter(name=name)
            .filter(free)
            .update(owner=owner, until=now + timedelta(seconds=seconds))
        )
        return bool(taken)

    @classmethod
    def release(cls, name: str, owner: str) -> None:
        """Give the role up at once (a clean stop), if `owner` still holds it."""
        cls.objects.filter(name=name, owner=owner).update(until=None)

    @classmethod
    def holder(cls, name: str) -> Lease | None:
        """The row of the process that holds the role now, or None when nobody does."""
        return cls.objects.filter(name=name, until__gt=timezone.now()).first()


class RequestBudget(models.Model):
    """The requests a provider still allows, as a token bucket that every process and host
    shares (studio.budget): `tokens` as they were at `updated_at`."""

    provider = models.CharField(max_length=16, unique=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.provider}: {self.tokens:.1f}"


class BudgetAlert(models.Model):
    """A warning about a budget that was mailed to a team's owners (or the administrator), so
    each level of each budget is mailed once a month."""

    scope = models.CharField(max_length=10)  # instance, cap, team, member, project
    key = models.CharField(max_length=40)  # which one: the team code, member code, project code
    month = models.DateField()  # the first day of the month the spend counts for
    level = models.PositiveSmallIntegerField()  # percent: 80, 100
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "month", "level"], name="one_alert_per_budget_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} {self.month:%Y-%m} {self.level} %"
