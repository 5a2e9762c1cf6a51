"""A take: one edit request sent to one provider, its lifecycle and its result.

The transitions live in one table (TAKE_TRANSITIONS) beside the model; `Take.fire` is the
only way a take's state changes (docs/takes.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from studio.core.codes import new_code
from studio.core.filenames import safe_stem, window_timecode
from studio.core.signals import take_ended
from studio.library.models import Clip, InputClip, Poster, Reference, kind_of, media_url
from studio.projects.models import Activity, Project, Trashable
from studio.provenance.disclosure import Disclosure, disclosure_for_take
from studio.provenance.state import Credentialed
from studio.providers.catalogue import About, about
from studio.takes.lifecycle import (
    ACTIVE_TAKE_STATES,
    FINAL_TAKE_STATES,
    LOGGED_ENDINGS,
    NOTIFIED_ENDINGS,
    TAKE_TRANSITIONS,
    TakeState,
    Trigger,
)
from studio.takes.parameters import (
    NEGATIVE_PROMPT_MAX,
    PROMPT_MAX,
    AudioSetting,
    EditParameters,
    Ratio,
    Resolution,
)


class ReviewStatus(models.TextChoices):
    NONE = "none", "No review status"
    NEEDS_REVIEW = "needs_review", "Needs review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"


class Lineage(models.TextChoices):
    """How a take came from another (Take.run_of)."""

    NEW = "", "New"
    RUN_AGAIN = "run_again", "Run again"
    REMIX = "remix", "Remix"
    VARIATION = "variation", "Variation"


class Take(Trashable, Credentialed):
    """One edit request: a clip window, parameters and references, sent to one provider."""

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="takes")
    clip = models.ForeignKey(Clip, on_delete=models.SET_NULL, null=True, related_name="takes")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    run_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True)
    # What was asked: every parameter of the API, as sent (studio.takes.parameters declares them).
    prompt = models.TextField(max_length=PROMPT_MAX)
    negative_prompt = models.TextField(max_length=NEGATIVE_PROMPT_MAX, blank=True)
    resolution = models.CharField(max_length=5, choices=Resolution, default=Resolution.P1080)
    ratio = models.CharField(max_length=4, choices=Ratio, blank=True, default=Ratio.KEEP)
    duration = models.PositiveSmallIntegerField(default=0)  # 0 = keep the window's length
    audio_setting = models.CharField(max_length=6, choices=AudioSetting, default=AudioSetting.AUTO)
    prompt_extend = models.BooleanField(default=True)
    watermark = models.BooleanField(default=False)  # the provider's own AI mark was asked for
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
    # The take's number among its clip's takes (1, 2, 3…; shown "v3"), given when it is first
    # saved and never again to another take of the clip. 0: a take with no clip.
    version = models.PositiveIntegerField(default=0)
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
    # In the trash because its clip went there: it comes back when the clip is restored.
    trashed_with_clip = models.BooleanField(default=False)
    # The window of a cut this take was made for (studio/cuts): its request is the window with
    # up to a second of source on each side (start_ms, length_ms), the window's version stack.
    window = models.ForeignKey(
        "studio.CutWindow", on_delete=models.SET_NULL, null=True, blank=True, related_name="takes"
    )
    export_state = models.CharField(max_length=10, blank=True)  # "", working, ready, failed
    export_reason = models.TextField(blank=True, default="")  # why the last export failed
    export_file = models.FileField(max_length=255, blank=True)
    # Why the ready export has no content credentials; empty when it was signed.
    export_credentials_reason = models.TextField(blank=True, default="")
    export_labelled = models.BooleanField(default=False)  # made with the AI label burned in
    # The result with the visible "AI-generated" label burned in (studio.takes.labelled), what
    # downloads hand out while the team asks for labels: "", working, ready, failed. The
    # provider's bytes (`result`) stay untouched for playback and comparison.
    labelled_state = models.CharField(max_length=10, blank=True)
    labelled_reason = models.TextField(blank=True, default="")  # why the last one failed
    labelled_file = models.FileField(max_length=255, blank=True)
    labelled_unsigned = models.TextField(blank=True, default="")  # why it has no credentials
    # Money and results.
    estimate_usd = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    # Held against the budgets that cover this take until the provider reports its charge
    # (studio.governance.budgets): the estimate of each paid request sent or to be sent, 0 once
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
    # The SHA-256 of the file stored and handed out: the signed copy once signed (storage
    # checks compare it with what is stored), never the provider's download before signing.
    result_sha256 = models.CharField(max_length=64, blank=True)
    # The SHA-256 of the result as the provider delivered it, before it was signed: what was
    # paid for, checked against the provider's file (empty for results saved before signing).
    result_fetched_sha256 = models.CharField(max_length=64, blank=True)
    result_size = models.BigIntegerField(null=True, blank=True)
    result_width = models.PositiveIntegerField(null=True, blank=True)
    result_height = models.PositiveIntegerField(null=True, blank=True)
    result_duration = models.FloatField(null=True, blank=True)
    # Whether the saved result has a sound track of its own (None: saved before this was kept).
    result_has_audio = models.BooleanField(null=True, blank=True)
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

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and not self.version and self.clip_id is not None:
            self.version = Clip.objects.get(pk=self.clip_id).take_number_take()
        super().save(*args, **kwargs)

    @property
    def version_label(self) -> str:
        """ "v3", or "" for a take with no number."""
        return f"v{self.version}" if self.version else ""

    @property
    def list_name(self) -> str:
        """How lists name the take: its title, else its clip and version ("pier.mp4 v3", so
        four untitled takes of one clip read apart), else the start of its prompt."""
        if self.title:
            return self.title
        if self.clip is not None and self.version:
            return f"{self.clip.original_name} {self.version_label}"
        return self.prompt[:60]

    @property
    def download_stem(self) -> str:
        """`<clip>_v3_00-21-03_00-30-00_s410388421`: the clip, the version, the window (start and
        end at the clip's frame rate, hours in front for clips of an hour or more) and the seed,
        so two takes of one clip never download under one name."""
        clip = self.clip
        end = self.start_ms + self.length_ms
        fps = clip.fps if clip else None
        hours = max(clip.duration or 0 if clip else 0, end / 1000) >= 3600
        parts = (
            safe_stem(PurePosixPath(clip.original_name).stem, fallback="clip") if clip else "take",
            self.version_label,
            window_timecode(self.start_ms, fps, hours=hours),
            window_timecode(end, fps, hours=hours),
            f"s{self.seed}",
        )
        return "_".join(part for part in parts if part)

    @property
    def source_gone(self) -> bool:
        """Its source clip was deleted (for good, or to the trash): no Before, nothing to run."""
        return self.clip is None or self.clip.is_trashed

    @property
    def source_gone_note(self) -> str:
        """What the Before side says once the source is gone, with when and by whom if known."""
        clip = self.clip
        if clip is None or clip.trashed_at is None:
            return "The source clip was deleted; the edited take is kept."
        when = timezone.localtime(clip.trashed_at).strftime("%-d %b %Y")
        by = clip.trashed_by.display_name if clip.trashed_by else "someone"
        return f"The source clip was deleted on {when} by {by}; the edited take is kept."

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
            event = TakeEvent.objects.create(
                take_id=self.pk, state=move.target, at=now, note=note[:2000]
            )
            self.refresh_from_db()
            if move.target in LOGGED_ENDINGS:
                self._log_ending()
            if move.target in NOTIFIED_ENDINGS:
                self._notify_ending(event.pk)
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

    def _notify_ending(self, event_id: int) -> None:
        # The review domain's inbox listens (studio.apps); it imports this module, not the reverse.
        take_ended.send(sender=Take, take=self, event_id=event_id)

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
        when its provider bills (studio.governance.budgets)."""
        if self.pk is not None:
            raise ValueError("a saved take's reservation changes only by fire()")
        self.reserved_usd = self.estimate_usd if self.engine.bills else Decimal(0)

    @property
    def overcharge(self) -> Decimal | None:
        """How much more the provider charged than this take's estimate; None when it charged
        no more (or nothing yet)."""
        if self.charged_usd is None or self.charged_usd <= self.estimate_usd:
            return None
        return self.charged_usd - self.estimate_usd if self.engine.bills else None

    @property
    def parameters(self) -> EditParameters:
        """The wan2.7-videoedit parameters of this take, as sent."""
        return EditParameters.of({name: getattr(self, name) for name in EditParameters.names()})

    @property
    def engine(self) -> About:
        """What pages may know of this take's provider: its label, whether it bills, is AI."""
        return about(self.provider)

    @property
    def disclosure(self) -> Disclosure:
        """Whether AI made it, in the words every page and label uses."""
        return disclosure_for_take(self)

    @property
    def needs_ai_label(self) -> bool:
        """Its downloads carry the visible "AI-generated" label: its team asks for labels and
        AI made it (or may have: a provider Cutroom cannot name). The local engine's never."""
        return self.project.team.ai_label_downloads and self.disclosure.is_ai

    @property
    def export_label_missing(self) -> bool:
        """Its side-by-side export was made before the team asked for labels: it is not handed
        out until it is made again (with the label)."""
        return self.export_state == "ready" and self.needs_ai_label and not self.export_labelled

    @property
    def output_seconds(self) -> float:
        return float(self.duration or self.length_ms / 1000)

    def content_type(self, variant: str) -> str:
        return kind_of(getattr(self, variant).name)

    @property
    def grid_poster(self) -> Poster | None:
        """The picture shown for this take in grids: the result's, else its clip's."""
        if self.result_thumb:
            return Poster(
                media_url("take", self.code, "result_thumb"),
                self.result_thumb_width,
                self.result_thumb_height,
            )
        if self.result_poster:
            return Poster(
                media_url("take", self.code, "result_poster"),
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


class TakeStar(models.Model):
    """A person's favourite take."""

    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="stars")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["take", "user"], name="star_once")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.take_id}"
