"""Review: comments pinned to a frame (with drawings), threads, mentions, and share links
(docs/review.md)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import User
from studio.core.codes import new_code
from studio.cuts.models import CutRender
from studio.projects.models import Project
from studio.takes.models import Take


class Side(models.TextChoices):
    """Which player of the compare a comment was made on."""

    BEFORE = "before", "Before"
    AFTER = "after", "After"


class Comment(models.Model):
    """A note on a take (or a clip, or a cut's render) at one frame, maybe with a drawing on
    that frame; or a reply in its thread. Written by a member, or by a guest through a review
    link."""

    BODY_MAX = 2000
    GUEST_NAME_MAX = 60

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    take = models.ForeignKey(
        "studio.Take", on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    clip = models.ForeignKey(
        "studio.Clip", on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    # A cut's render: frames are the source clip's, counted from the start of the cut (which
    # is the clip's whole timeline).
    render = models.ForeignKey(
        "studio.CutRender",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comments",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    guest_name = models.CharField(max_length=GUEST_NAME_MAX, blank=True)
    share_link = models.ForeignKey(
        "studio.ShareLink",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
    )
    body = models.TextField(max_length=BODY_MAX)
    # Where: a frame number at `fps` (the clip's frame rate), counted from the start of what
    # the page plays (a take's result, or the clip); replies have none of their own.
    frame = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    side = models.CharField(max_length=6, choices=Side.choices, blank=True)
    drawing = models.JSONField(default=list, blank=True)  # shapes, see services.comments
    created_at = models.DateTimeField(default=timezone.now)
    # Moves on with every change anyone can see (edit, delete, resolve, hide, a reply), so an
    # open page asks only for what changed since it last looked (docs/review.md "Comments").
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mentions = models.ManyToManyField(
        User, through="Mention", related_name="mentioned_in", blank=True
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["take", "created_at"]),
            models.Index(fields=["clip", "created_at"]),
            models.Index(fields=["render", "created_at"]),
        ]
        constraints = [
            # Exactly one thing the comment is on (comment_create has always made it so).
            models.CheckConstraint(
                condition=models.Q(take__isnull=False, clip__isnull=True, render__isnull=True)
                | models.Q(take__isnull=True, clip__isnull=False, render__isnull=True)
                | models.Q(take__isnull=True, clip__isnull=True, render__isnull=False),
                name="comment_has_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.who}: {self.body[:40]}"

    @property
    def who(self) -> str:
        if self.author is not None:
            return self.author.display_name
        return self.guest_name or "A guest"

    @property
    def is_guest(self) -> bool:
        return self.author_id is None and bool(self.guest_name)

    @property
    def byline(self) -> str:
        """Who wrote it, as text for the team: a guest's name is marked "(guest)", so a guest
        who calls themselves after a member is never taken for one (the panel, the exports)."""
        return f"{self.who} (guest)" if self.is_guest else self.who

    @property
    def seconds(self) -> float | None:
        if self.frame is None or not self.fps:
            return None
        return self.frame / self.fps


class Mention(models.Model):
    """A member named in a comment with @: it shows in their "For you" list until seen."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mentions")
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="one_mention_per_comment")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.comment_id}"


class ShareLink(models.Model):
    """A public, revocable link to one take (or one cut's render) and its source. The token is
    found by its hash; it is also kept sealed (encrypted with a key derived from SECRET_KEY), so
    the person who made the link and the team's owners can copy it again (docs/review.md)."""

    # A password is typed by people the owner tells it to; below 8 characters it guards little,
    # and above 200 it is a paste accident (it was once cut silently, locking the owner out).
    PASSWORD_MIN = 8
    PASSWORD_MAX = 200

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    take = models.ForeignKey(
        Take, on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    render = models.ForeignKey(
        CutRender,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="share_links",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # The token sealed by studio.core.sealing; blank for links made before it was kept.
    token_sealed = models.TextField(blank=True, default="")
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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(take__isnull=False, render__isnull=True)
                | models.Q(take__isnull=True, render__isnull=False),
                name="share_link_has_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"share {self.code} of {self.take_id or f'render {self.render_id}'}"

    @property
    def subject(self) -> Take | CutRender:
        """What the link shows: its take, or its render (exactly one, by the constraint)."""
        found = self.take or self.render
        if found is None:
            raise ValueError(f"share link {self.code} shows nothing")
        return found

    @property
    def project(self) -> Project:
        subject = self.subject
        return subject.project if isinstance(subject, Take) else subject.cut.project

    @property
    def is_live(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Kind(models.TextChoices):
    """What a notification in the inbox is about (docs/review.md "Inbox")."""

    MENTION = "mention", "Mentions of me"
    COMMENT = "comment", "Comments on my work or where I commented"
    GUEST_COMMENT = "guest_comment", "Guest comments on links I shared"
    REVIEW = "review", "Review status of my takes and renders"
    FINISHED = "finished", "My takes and renders finishing"
    FAILED = "failed", "My takes and renders failing"
    UNCERTAIN = "uncertain", "My takes whose submission is uncertain"
    BUDGET = "budget", "Budget warnings (owners)"


class Email(models.TextChoices):
    OFF = "off", "No e-mail"
    INSTANT = "instant", "E-mail at once"
    DAILY = "daily", "Daily digest"


class Notification(models.Model):
    """One item of a person's inbox: something happened to their work, or someone named them.

    `key` names the event and the recipient, so making the same notification twice (a task run
    again, a retried request) inserts nothing the second time."""

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=120, unique=True)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    take = models.ForeignKey(
        Take, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    render = models.ForeignKey(
        CutRender, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    share_link = models.ForeignKey(
        ShareLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    budget = models.CharField(max_length=60, blank=True)  # "<scope>:<key>" of a budget warning
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    guest_name = models.CharField(max_length=Comment.GUEST_NAME_MAX, blank=True)
    text = models.CharField(max_length=300)
    # False when the person turned this kind off in the inbox but still wants it by e-mail.
    in_inbox = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)  # claimed for the instant mail

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The top bar's count and the inbox's first page.
            models.Index(fields=["recipient", "in_inbox", "read_at"]),
            models.Index(fields=["recipient", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.text[:40]}"

    @property
    def who(self) -> str:
        if self.actor is not None:
            return self.actor.display_name
        return f"{self.guest_name} (guest)" if self.guest_name else ""

    @property
    def quotes(self) -> bool:
        """Whether `text` says more than the headline: a comment's words, a failure's reason."""
        return self.kind in (
            Kind.MENTION,
            Kind.COMMENT,
            Kind.GUEST_COMMENT,
            Kind.FAILED,
            Kind.UNCERTAIN,
        )


class InboxSetting(models.Model):
    """A member's choice for one kind, where it differs from the default
    (studio/review/inbox.py DEFAULTS)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="inbox_settings")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    in_inbox = models.BooleanField(default=True)
    email = models.CharField(max_length=8, choices=Email.choices, default=Email.OFF)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_inbox_setting_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.in_inbox} {self.email}"


class InboxDigest(models.Model):
    """The daily digest mailed to one person on one day (UTC): claimed before it is sent, so a
    retried task never mails it twice."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    items = models.PositiveIntegerField(default=0)
    # The newest item it listed: the next digest lists what came after.
    through = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="one_inbox_digest_per_day")
        ]

    def __str__(self) -> str:
        return f"digest {self.user_id} {self.day}"
