"""A cut: a clip's full timeline with windows edited by takes, put back together.

A clip can have several cuts ("clay version", "winter version"). A cut's windows follow one
another on the clip's timeline without overlapping; each is 2-10 s, its edges on the source's
frame boundaries, and each has at most one chosen take among the takes made for it (its version
stack: `Take.window`). Everything outside the windows is the source.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, ClassVar

from django.core.validators import MaxValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify

from accounts.models import User
from studio.core.codes import new_code
from studio.core.filenames import safe_stem
from studio.core.signals import render_ended
from studio.library.models import Clip, Poster, kind_of, media_url
from studio.projects.models import Project
from studio.provenance.disclosure import Disclosure, disclosure_for_render
from studio.provenance.state import Credentialed
from studio.takes.models import ReviewStatus

CROSSFADE_FRAMES = 6  # the default blend at each join, in source frames
MAX_CROSSFADE_FRAMES = 24
HANDLE_SECONDS = 1.0  # source sent on each side of a window, for context and the blend
# A join's picture as a media variant of its render: seam-<join, from 1>-<side>.
SEAM_VARIANT = re.compile(r"seam-([1-9][0-9]{0,4})-(before|after)")
SEAM_SIDES = ("before", "after")


class Cut(models.Model):
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="cuts")
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="cuts")
    name = models.CharField(max_length=80)
    crossfade_frames = models.PositiveSmallIntegerField(
        default=CROSSFADE_FRAMES, validators=[MaxValueValidator(MAX_CROSSFADE_FRAMES)]
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The number of the last render asked for: renders are v1, v2, … and a number is never given
    # twice, even after its render was deleted (the history and downloads name it).
    renders_asked = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # "Winter" and "winter" would be two cuts nobody could tell apart.
            models.UniqueConstraint("clip", Lower("name"), name="cut_name_once_per_clip"),
            models.CheckConstraint(
                condition=Q(crossfade_frames__lte=MAX_CROSSFADE_FRAMES), name="cut_crossfade_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def download_stem(self) -> str:
        """`<clip>-<cut>`, as the cut's files are named when downloaded."""
        clip = safe_stem(PurePosixPath(self.clip.original_name).stem, fallback="clip")
        return f"{clip}-{slugify(self.name) or 'cut'}"

    def render_number_take(self) -> int:
        """The next render's number, taken at once (two requests at the same moment get two)."""
        Cut.objects.filter(pk=self.pk).update(renders_asked=F("renders_asked") + 1)
        self.refresh_from_db(fields=["renders_asked"])
        return self.renders_asked


class CutWindow(models.Model):
    """[start, end) seconds on the clip's timeline, both on frame boundaries."""

    cut = models.ForeignKey(Cut, on_delete=models.CASCADE, related_name="windows")
    start = models.FloatField()
    end = models.FloatField()
    chosen = models.ForeignKey(
        "studio.Take", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Per window: match the take's colour to the neighbouring source frames; use the take's own
    # sound instead of the source's (when the take made its own, audio_setting auto).
    colour_match = models.BooleanField(default=False)
    take_sound = models.BooleanField(default=False)

    class Meta:
        ordering = ["cut", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="window_ends_after_start"),
            models.CheckConstraint(condition=Q(start__gte=0), name="window_starts_in_clip"),
        ]

    def __str__(self) -> str:
        return f"{self.start:.3f}-{self.end:.3f} s of {self.cut}"

    @property
    def length(self) -> float:
        return self.end - self.start


class RenderState(models.TextChoices):
    QUEUED = "queued", "Waiting for the worker"
    RENDERING = "rendering", "Rendering"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class CutRender(Credentialed):
    """One render of a cut: the full-length video made from the windows and takes in `plan`,
    kept with them, so an earlier render can still be played after the cut has changed."""

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    cut = models.ForeignKey(Cut, on_delete=models.CASCADE, related_name="renders")
    number = models.PositiveIntegerField()  # v1, v2, … within the cut
    state = models.CharField(max_length=12, choices=RenderState, default=RenderState.QUEUED)
    reason = models.TextField(blank=True)
    progress = models.FloatField(default=0.0)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    # When a task was last sent for it: a task sent after its worker's lease ran out is waiting
    # in the queue, so the repairs do not send another before LOST_AFTER (studio/cuts/renders.py).
    dispatched_at = models.DateTimeField(default=timezone.now)
    # The windows as rendered: start, end, take (code), offset and handle after, sound, colour;
    # and the crossfade. A window without a take is the source there, as the person chose.
    plan = models.JSONField(default=dict)
    file = models.FileField(max_length=255, blank=True)
    poster = models.FileField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0)
    duration = models.FloatField(null=True, blank=True)
    frames = models.PositiveIntegerField(null=True, blank=True)
    # Per join: window, edge, at, score, flagged, and the stored names of its two pictures (the
    # last frame before the step and the first after it) as "before" and "after".
    seams = models.JSONField(default=list)
    # Its AI windows carry the visible "AI-generated" label (the team asked for it when made).
    ai_labelled = models.BooleanField(default=False)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Review (docs/review.md), as a take's: where the team's decision on this render stands.
    review_status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.NONE
    )
    review_changed_at = models.DateTimeField(null=True, blank=True)
    review_changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["cut", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["cut", "number"], name="render_number_once_per_cut")
        ]

    def __str__(self) -> str:
        return f"{self.cut} v{self.number}"

    @property
    def download_stem(self) -> str:
        """`<clip>-<cut>-v<n>`, as the file is named when downloaded."""
        return f"{self.cut.download_stem}-v{self.number}"

    # The gallery lists renders among takes; its cards ask which one they show.
    is_render: ClassVar[bool] = True

    @property
    def grid_poster(self) -> Poster | None:
        """The picture shown for this render in grids: its poster, at its clip's size."""
        if not self.poster:
            return None
        clip = self.cut.clip
        return Poster(media_url("render", self.code, "poster"), clip.width, clip.height)

    @property
    def title(self) -> str:
        """As the team history and the gallery name it: "Clay version v2 — cut of a.mp4"."""
        return f"{self.cut.name} v{self.number} — cut of {self.cut.clip.original_name}"

    @cached_property
    def disclosure(self) -> Disclosure:
        """Whether AI made it (any window's take made by a model), in words."""
        return disclosure_for_render(self)

    @property
    def label_missing(self) -> bool:
        """Made with AI before its team asked for labels: not handed out as a download until the
        cut is rendered again (with the label over its AI windows)."""
        team = self.cut.project.team
        return team.ai_label_downloads and self.disclosure.is_ai and not self.ai_labelled

    @property
    def flagged_seams(self) -> int:
        return sum(1 for seam in self.seams if seam.get("flagged"))

    def content_type(self, variant: str) -> str:
        stored = self.stored(variant)
        return kind_of(stored.name or "" if stored else "")

    def stored(self, variant: str) -> FieldFile | None:
        """A stored file by its media variant: "file", "poster" or a join's picture
        (`seam-<join>-<side>`, joins numbered from 1 in the order of `seams`)."""
        if variant in ("file", "poster"):
            field: FieldFile = getattr(self, variant)
            return field
        match = SEAM_VARIANT.fullmatch(variant)
        if match is None or int(match[1]) > len(self.seams):
            return None
        name = self.seams[int(match[1]) - 1].get(match[2]) or ""
        return FieldFile(self, CutRender.poster.field, name) if name else None

    def files(self) -> list[FieldFile]:
        """Every file stored for this render: the video, its poster, the joins' pictures."""
        sides = [
            self.stored(f"seam-{number}-{side}")
            for number in range(1, len(self.seams) + 1)
            for side in SEAM_SIDES
        ]
        return [self.file, self.poster, *(side for side in sides if side)]

    @property
    def joins(self) -> list[dict[str, Any]]:
        """The joins to look at on the page, flagged ones first (then in timeline order), each
        with its number (its place in `seams`) and its pictures' media variants, if stored."""
        listed = [
            {
                **seam,
                "number": number,
                "pictures": {
                    side: f"seam-{number}-{side}" for side in SEAM_SIDES if seam.get(side)
                },
            }
            for number, seam in enumerate(self.seams, start=1)
        ]
        return sorted(listed, key=lambda join: not join.get("flagged"))

    # -- the only ways a render's state and lease change (compare-and-set, as a take's do) ----
    @classmethod
    def claim(cls, pk: int, lease: timedelta) -> CutRender | None:
        """Take a queued render, or one whose worker's lease ran out; None when elsewhere."""
        now = timezone.now()
        claimed = (
            cls.objects.filter(pk=pk)
            .filter(
                Q(state=RenderState.QUEUED) | Q(state=RenderState.RENDERING, lease_until__lt=now)
            )
            .update(
                state=RenderState.RENDERING,
                lease_until=now + lease,
                attempts=F("attempts") + 1,
                progress=0.0,  # a render taken over starts again from its first frame
            )
        )
        if not claimed:
            return None
        return cls.objects.select_related("cut__clip", "cut__project").get(pk=pk)

    def _held(self) -> models.QuerySet[CutRender]:
        """This render while this claim (its attempt) still holds it."""
        return CutRender.objects.filter(
            pk=self.pk, state=RenderState.RENDERING, attempts=self.attempts
        )

    def renew_lease(self, lease: timedelta) -> bool:
        return bool(self._held().update(lease_until=timezone.now() + lease))

    def finish(self, state: str, reason: str = "", **fields: object) -> bool:
        """The final state, and its maker's inbox told in the same transaction; False when
        another worker took it over meanwhile."""
        with transaction.atomic():
            finished = bool(
                self._held().update(
                    state=state,
                    reason=reason,
                    lease_until=None,
                    finished_at=timezone.now(),
                    progress=1.0 if state == RenderState.READY else self.progress,
                    **fields,
                )
            )
            if finished:
                # The review domain's inbox listens (studio.apps).
                render_ended.send(sender=CutRender, render=self, state=state, reason=reason)
        return finished

    @classmethod
    def redispatch(cls, pk: int, now: datetime, lost_after: timedelta) -> bool:
        """Note that a task is being sent again for a render that needs one, unless one was
        already (by the minute sweep or the scheduler meanwhile); whether to send it."""
        return bool(
            cls.objects.filter(cls.needing_task(now, lost_after), pk=pk).update(dispatched_at=now)
        )

    @staticmethod
    def needing_task(now: datetime, lost_after: timedelta) -> Q:
        """Renders whose task was lost or whose worker died, with no task sent for them since.

        A queued render's task is taken to be lost once it has waited `lost_after`. A render
        whose worker's lease ran out needs a task at once, unless one was sent after the lease
        ran out: that one is waiting for a free worker, and another is sent only `lost_after`
        later."""
        sent_long_ago = Q(dispatched_at__lt=now - lost_after)
        task_lost = Q(state=RenderState.QUEUED) & sent_long_ago
        worker_died = Q(state=RenderState.RENDERING, lease_until__lt=now) & (
            Q(dispatched_at__lt=F("lease_until")) | sent_long_ago
        )
        return task_lost | worker_died

    def requeue(self) -> None:
        """Give it back after an unexpected error: the repairs send it again once its last task
        was sent LOST_AFTER ago (attempts counted)."""
        self._held().update(state=RenderState.QUEUED, lease_until=None)
