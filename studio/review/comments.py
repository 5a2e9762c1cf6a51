"""Comments at a frame, their threads and mentions, review status, and marker exports
(docs/review.md).

A comment is pinned to a frame of what its page plays, counted at the source clip's frame rate
(Clip.fps, never an assumed 30), on one side of the compare, and may carry a drawing on that
frame: shapes with coordinates relative to the picture (0..1 both ways), so they land on the
same spot at any player size. Members write comments; guests write them through a review link
(a share link that allows comments) under a name they give. Editors and owners resolve, hide
and set review status; everyone edits and deletes only their own.

Exports give timecodes relative to the source clip (a take's frame plus the start of the part it
edits): CSV for people, a CMX 3600 EDL with markers (DaVinci Resolve: Timeline > Import >
Timeline Markers from EDL) and Final Cut Pro 7 XML markers (Premiere Pro: File > Import).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from studio.core.errors import Refused
from studio.core.text import printable
from studio.models import Clip, Comment, CutRender, Mention, ReviewStatus, ShareLink, Side, Take
from studio.projects.history import activity_log
from studio.review import inbox
from studio.review.mentions import _mentioned, mentions_add
from studio.review.timecodes import timecode, timecode_rate

COLOURS = {
    "red": "#e5484d",
    "yellow": "#f5d90a",
    "green": "#46a758",
    "blue": "#3e63dd",
    "white": "#ffffff",
}
SHAPES = ("rect", "arrow", "pen")
MAX_SHAPES = 20
MAX_POINTS = 400  # a freehand stroke
FALLBACK_FPS = 25.0  # a clip whose frame rate could not be read (said so on the page)
# The database's integer: about 2.7 years at 25 fps, past the end of any video (a clip whose
# length could not be read has no end to check against).
FRAME_MAX = 2**31 - 1
# What the player draws nests four deep: the shapes, a shape, its points, a point.
DRAWING_DEPTH = 4
UNREADABLE_DRAWING = (
    "This drawing cannot be read. Nothing was posted: press Clear, draw again and post."
)
NOT_A_FRAME = (
    "A frame is a whole number written with the digits 0 to 9. Nothing was posted: correct "
    "the frame (or pause the video where the comment belongs) and post again."
)


# -- validation ------------------------------------------------------------------------------
def frame_parse(text: str) -> int | None:
    """A frame number as a person types it: the digits 0 to 9, maybe between spaces; None
    when empty. Refused otherwise: "²" and "١٢" pass str.isdigit() (and int() reads the
    second), "-1", "1_0", "1e1" and "+5" are things int() or float() accept, and none is a
    frame anyone meant."""
    text = (text or "").strip(" ")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise Refused(NOT_A_FRAME)
    if len(text) > len(str(FRAME_MAX)) or int(text) > FRAME_MAX:
        raise Refused("That frame is past the end of the video.")
    return int(text)


def _nesting_within(text: str, limit: int) -> bool:
    """Whether no array or object in the JSON `text` nests deeper than `limit` (strings
    skipped). Checked before parsing: json.loads recurses once a level, so a few thousand
    "[" raise RecursionError instead of a ValueError."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


def drawing_parse(raw: str) -> list[dict[str, Any]]:
    """A drawing as posted (JSON), checked as drawing_clean checks it; Refused with the reason
    when it cannot be read or is not a drawing. The caller limits its length first."""
    if not raw.strip():
        return []
    if not _nesting_within(raw, DRAWING_DEPTH):
        raise Refused(UNREADABLE_DRAWING)
    try:
        drawing = json.loads(raw)
    except ValueError:  # not JSON, or an integer too long to read
        raise Refused(UNREADABLE_DRAWING) from None
    return drawing_clean(drawing)


def drawing_clean(raw: Any) -> list[dict[str, Any]]:
    """A drawing as stored: a list of {"kind", "colour", "points": [[x, y], ...]} with x, y in
    0..1 rounded to 4 places; Refused with the reason when it is not one."""
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list):
        raise Refused(UNREADABLE_DRAWING)
    if len(raw) > MAX_SHAPES:
        raise Refused(f"A drawing has at most {MAX_SHAPES} shapes.")
    shapes = []
    for shape in raw:
        if not isinstance(shape, dict):
            raise Refused(UNREADABLE_DRAWING)
        kind, colour, points = shape.get("kind"), shape.get("colour"), shape.get("points")
        if kind not in SHAPES:
            raise Refused("A drawing is made of rectangles, arrows and freehand lines.")
        if colour not in COLOURS:
            raise Refused(f"Drawing colours are {', '.join(COLOURS)}.")
        wanted = (2, 2) if kind in ("rect", "arrow") else (2, MAX_POINTS)
        if not isinstance(points, list) or not wanted[0] <= len(points) <= wanted[1]:
            raise Refused("This drawing has too few or too many points.")
        clean = []
        for point in points:
            if (
                not isinstance(point, list | tuple)
                or len(point) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
                or not all(0.0 <= float(v) <= 1.0 for v in point)
            ):
                raise Refused("A drawing's points must lie on the picture.")
            clean.append([round(float(point[0]), 4), round(float(point[1]), 4)])
        shapes.append({"kind": kind, "colour": colour, "points": clean})
    return shapes


def _body_clean(body: str) -> str:
    # Control characters go: they would break the XML export or act on a terminal.
    body = printable(body or "").strip()
    if not body:
        raise Refused("Write something to comment.")
    if len(body) > Comment.BODY_MAX:
        raise Refused(f"A comment has at most {Comment.BODY_MAX} characters ({len(body)} here).")
    return body


def subject_fps(
    *, take: Take | None = None, clip: Clip | None = None, render: CutRender | None = None
) -> float:
    """The frame rate comments on this take, clip or render are counted in: the source
    clip's (a render is made at its clip's rate)."""
    source = clip
    if take is not None:
        source = take.clip
    elif render is not None:
        source = render.cut.clip
    return float(source.fps) if source is not None and source.fps else FALLBACK_FPS


def subject_seconds(
    *, take: Take | None = None, clip: Clip | None = None, render: CutRender | None = None
) -> float:
    if take is not None:
        return float(take.result_duration or take.output_seconds)
    if render is not None:
        return float(render.duration or render.cut.clip.duration or 0)
    return float(clip.duration or 0) if clip is not None else 0.0


def subject_of(comment: Comment) -> dict[str, Any]:
    """What a comment is on, as the keyword arguments the functions here take."""
    return {"take": comment.take, "clip": comment.clip, "render": comment.render}


def subject_project(
    *, take: Take | None = None, clip: Clip | None = None, render: CutRender | None = None
) -> Any:
    if take is not None:
        return take.project
    if render is not None:
        return render.cut.project
    return clip.project  # type: ignore[union-attr]


def subject_filter(
    *, take: Take | None = None, clip: Clip | None = None, render: CutRender | None = None
) -> Q:
    """The comments on this one take, clip or render."""
    if take is not None:
        return Q(take=take)
    if render is not None:
        return Q(render=render)
    return Q(clip=clip)


def _team_of(take: Take | None, clip: Clip | None, render: CutRender | None = None) -> Any:
    return subject_project(take=take, clip=clip, render=render).team


def _where(take: Take | None, clip: Clip | None, render: CutRender | None) -> str:
    """The subject as the team history names it."""
    if take is not None:
        return f"take “{take.prompt[:40]}”"
    if render is not None:
        return f"{render.cut.name} v{render.number} (a cut of {render.cut.clip.original_name})"
    return f"clip {clip.original_name}"  # type: ignore[union-attr]


# -- writing ---------------------------------------------------------------------------------
def comment_create(
    *,
    take: Take | None = None,
    clip: Clip | None = None,
    render: CutRender | None = None,
    author: User | None = None,
    guest_name: str = "",
    share_link: ShareLink | None = None,
    body: str,
    frame: int | None = None,
    side: str = "",
    drawing: Any = None,
    parent: Comment | None = None,
) -> Comment:
    """A comment at `frame` (or a reply to `parent`, which sits at its parent's frame)."""
    if sum(subject is not None for subject in (take, clip, render)) != 1:
        raise ValueError("a comment is on one take, clip or render")
    body = _body_clean(body)
    if author is None:
        guest_name = " ".join(printable(guest_name or "").split())
        if not guest_name:
            raise Refused("Give your name, so the team knows who wrote this.")
        if len(guest_name) > Comment.GUEST_NAME_MAX:
            raise Refused(f"A name has at most {Comment.GUEST_NAME_MAX} characters.")
    fps = subject_fps(take=take, clip=clip, render=render)
    if parent is not None:
        if parent.parent_id is not None:
            parent = parent.parent  # replies stay one level deep
        if (
            parent is None
            or parent.take_id != (take.pk if take else None)
            or parent.clip_id != (clip.pk if clip else None)
            or parent.render_id != (render.pk if render else None)
        ):
            raise Refused("That comment is not on this page.")
        frame, side, shapes = None, "", []
    else:
        if frame is None or frame < 0:
            raise Refused("Pause the video where the comment belongs.")
        if frame > FRAME_MAX:
            raise Refused("That frame is past the end of the video.")
        last = int(subject_seconds(take=take, clip=clip, render=render) * fps)
        if last and frame >= last:  # frames count from 0: the last starts before the end
            raise Refused("That frame is past the end of the video.")
        if side not in Side.values:
            side = Side.AFTER if take is not None or render is not None else Side.BEFORE
        shapes = drawing_clean(drawing)
    team = _team_of(take, clip, render)
    with transaction.atomic():
        comment = Comment.objects.create(
            take=take,
            clip=clip,
            render=render,
            parent=parent,
            author=author,
            guest_name="" if author else guest_name,
            share_link=share_link,
            body=body,
            frame=frame,
            fps=fps if frame is not None else None,
            side=side,
            drawing=shapes,
        )
        mentioned = mentions_add(comment, team)
        inbox.notify_comment(comment=comment, team=team, mentioned=mentioned)
        where = _where(take, clip, render)
        activity_log(
            team=team,
            actor=author,
            verb="commented",
            summary=f"{'replied' if parent else 'commented'} on {where}"
            + (f" (guest {guest_name})" if author is None else ""),
            project=subject_project(take=take, clip=clip, render=render),
            take=take,
            render=render,
        )
    return comment


def comment_edit(*, comment: Comment, user: User, body: str) -> Comment:
    if comment.author_id != user.pk or comment.deleted_at:
        raise Refused("Only its author can edit a comment.")
    comment.body = _body_clean(body)
    comment.edited_at = comment.changed_at = timezone.now()
    team = _team_of(comment.take, comment.clip, comment.render)
    with transaction.atomic():
        comment.save(update_fields=["body", "edited_at", "changed_at"])
        Mention.objects.filter(comment=comment).exclude(
            user__in=_mentioned(comment.body, team)
        ).delete()
        inbox.notify_mentions(comment=comment, team=team, users=mentions_add(comment, team))
    return comment


def comment_delete(*, comment: Comment, user: User) -> None:
    """Delete your own comment: its words go; a thread with replies keeps its place (and goes
    with its last reply)."""
    if comment.author_id != user.pk:
        raise Refused("Only its author can delete a comment.")
    with transaction.atomic():
        if comment.replies.exists():
            comment.body, comment.drawing = "", []
            comment.deleted_at = comment.changed_at = timezone.now()
            comment.save(update_fields=["body", "drawing", "deleted_at", "changed_at"])
            Mention.objects.filter(comment=comment).delete()
            return
        parent = comment.parent
        comment.delete()
        if parent is None:
            return
        if parent.deleted_at is not None and not parent.replies.exists():
            parent.delete()
        else:  # open pages learn that the thread lost a reply
            Comment.objects.filter(pk=parent.pk).update(changed_at=timezone.now())


def comment_resolve(*, comment: Comment, user: User, resolved: bool) -> Comment:
    if comment.parent_id is not None:
        raise Refused("A thread is resolved from its first comment.")
    comment.changed_at = timezone.now()
    comment.resolved_at = comment.changed_at if resolved else None
    comment.resolved_by = user if resolved else None
    comment.save(update_fields=["resolved_at", "resolved_by", "changed_at"])
    return comment


def comment_hide(*, comment: Comment, user: User, hidden: bool) -> Comment:
    """Hide a comment from the team's and guests' view (an editor's tool against abuse)."""
    comment.changed_at = timezone.now()
    comment.hidden_at = comment.changed_at if hidden else None
    comment.hidden_by = user if hidden else None
    comment.save(update_fields=["hidden_at", "hidden_by", "changed_at"])
    return comment


# -- reading ---------------------------------------------------------------------------------
def comments_on(
    *,
    take: Take | None = None,
    clip: Clip | None = None,
    render: CutRender | None = None,
    guests: bool = False,
) -> QuerySet[Comment]:
    """The threads on a take, clip or render (top-level comments, replies prefetched), in
    frame order. For a guest (`guests`), hidden comments are left out."""
    rows = Comment.objects.filter(subject_filter(take=take, clip=clip, render=render))
    replies = Comment.objects.select_related("author", "hidden_by", "parent")
    if guests:
        rows = rows.filter(hidden_at=None)
        replies = replies.filter(hidden_at=None)
    return (
        rows.filter(parent=None)
        .select_related("author", "resolved_by", "hidden_by")
        .prefetch_related(Prefetch("replies", queryset=replies))
        .annotate(reply_count=Count("replies"))
        .order_by("frame", "created_at", "pk")
    )


# Changes made in a transaction that commits after a page's look still reach it: each look
# goes back this far before its cursor (the page merges what it already has).
CURSOR_OVERLAP = timedelta(seconds=5)


@dataclass(frozen=True)
class Changes:
    """What an open page needs to catch up: the threads changed since its cursor (whole, with
    their replies), and the codes of every thread there now, in order (a thread missing from
    them was deleted)."""

    threads: list[Comment]
    codes: list[str]
    cursor: datetime


def comments_since(
    *,
    take: Take | None = None,
    clip: Clip | None = None,
    render: CutRender | None = None,
    since: datetime | None,
    guests: bool = False,
) -> Changes:
    cursor = timezone.now()
    threads = comments_on(take=take, clip=clip, render=render, guests=guests)
    if since is None:
        changed = list(threads)
    else:
        subject = subject_filter(take=take, clip=clip, render=render)
        touched = Comment.objects.filter(subject, changed_at__gte=since - CURSOR_OVERLAP)
        roots = {parent or pk for pk, parent in touched.values_list("pk", "parent_id")}
        changed = list(threads.filter(pk__in=roots)) if roots else []
    return Changes(
        threads=changed, codes=list(threads.values_list("code", flat=True)), cursor=cursor
    )


def comment_on_page(
    *,
    take: Take | None = None,
    clip: Clip | None = None,
    render: CutRender | None = None,
    code: str,
) -> Comment | None:
    """The comment with this code if it is on this take, clip or render (a link to it from
    "For you")."""
    subject = subject_filter(take=take, clip=clip, render=render)
    return Comment.objects.filter(subject, code=code).select_related("parent").first()


def page_timecode(comment: Comment) -> str:
    """Where a comment sits in what its page plays, as HH:MM:SS:FF at the clip's rate."""
    if comment.frame is None or not comment.fps:
        return ""
    return timecode(comment.frame, timecode_rate(comment.fps))


def comment_counts(takes: list[Take]) -> dict[int, tuple[int, int]]:
    """For each take: (open threads, all threads), hidden ones left out."""
    rows = (
        Comment.objects.filter(take__in=takes, parent=None, hidden_at=None, deleted_at=None)
        .values("take_id")
        .annotate(all=Count("pk"), open=Count("pk", filter=Q(resolved_at=None)))
    )
    return {r["take_id"]: (r["open"], r["all"]) for r in rows}


def comment_data(comment: Comment, *, viewer: User | None) -> dict[str, Any]:
    """What a page's script gets for one comment (live updates and the thread view)."""
    return {
        "code": comment.code,
        "who": comment.who,
        "guest": comment.is_guest,
        "mine": viewer is not None and comment.author_id == viewer.pk,
        "body": comment.body,
        "frame": comment.frame,
        "fps": comment.fps,
        "seconds": comment.seconds,
        "side": comment.side,
        "timecode": page_timecode(comment),
        "drawing": comment.drawing,
        "created_at": comment.created_at.isoformat(),
        "edited": comment.edited_at is not None,
        "deleted": comment.deleted_at is not None,
        "resolved": comment.resolved_at is not None,
        "hidden": comment.hidden_at is not None,
        "changed_at": comment.changed_at.isoformat(),
        "parent": comment.parent.code if comment.parent_id and comment.parent else None,
    }


# -- review status ---------------------------------------------------------------------------
def take_review_set(*, take: Take, status: str, user: User) -> Take:
    if status not in ReviewStatus.values:
        raise Refused("Choose a review status from the list.")
    if take.review_status == status:
        return take
    before = take.get_review_status_display()
    take.review_status = status
    take.review_changed_at = timezone.now()
    take.review_changed_by = user
    with transaction.atomic():
        take.save(update_fields=["review_status", "review_changed_at", "review_changed_by"])
        inbox.notify_review(subject=take, user=user)
        activity_log(
            team=take.project.team,
            actor=user,
            verb="reviewed",
            summary=f"set “{take.prompt[:60]}” from {before.lower()} to "
            f"{take.get_review_status_display().lower()}",
            project=take.project,
            take=take,
        )
    return take


def render_review_set(*, render: CutRender, status: str, user: User) -> CutRender:
    """A render's review status, with the same choices and history as a take's."""
    if status not in ReviewStatus.values:
        raise Refused("Choose a review status from the list.")
    if render.review_status == status:
        return render
    before = render.get_review_status_display()
    render.review_status = status
    render.review_changed_at = timezone.now()
    render.review_changed_by = user
    project = render.cut.project
    after = render.get_review_status_display().lower()
    with transaction.atomic():
        render.save(update_fields=["review_status", "review_changed_at", "review_changed_by"])
        inbox.notify_review(subject=render, user=user)
        activity_log(
            team=project.team,
            actor=user,
            verb="approved" if status == ReviewStatus.APPROVED else "reviewed",
            summary=f"approved {render.title}"
            if status == ReviewStatus.APPROVED
            else f"set {render.title} from {before.lower()} to {after}",
            project=project,
            render=render,
        )
    return render
