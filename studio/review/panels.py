"""The comment panel on take, clip and render pages and on review links: its endpoints, the
threads as HTML or JSON, and what changed since the page's last poll (docs/review.md
"Comments")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from studio.models import Clip, Comment, CutRender, Side, Take
from studio.review import comments, mentions, timecodes

CODE = "__code__"  # where a comment's code goes in the panel's per-comment URLs


# -- the panel --------------------------------------------------------------------------------
def _kind_args(
    take: Take | None, clip: Clip | None, render: CutRender | None
) -> tuple[str, list[Any]]:
    """The subject's name in the URL names, and its URL arguments."""
    if take is not None:
        return "take", [take.code]
    if render is not None:
        return "render", [render.cut.code, render.number]
    return "clip", [clip.code]  # type: ignore[union-attr]


def panel_urls(
    *, take: Take | None = None, clip: Clip | None = None, render: CutRender | None = None
) -> dict[str, str]:
    """A member's endpoints. A review link for guests passes its own to `comment_panel`."""
    kind, args = _kind_args(take, clip, render)
    poll = reverse(f"{kind}_comments", args=args)
    create = reverse(f"{kind}_comment_create", args=args)
    each = {
        name: reverse(f"comment_{name}", args=[CODE])
        for name in ("reply", "edit", "delete", "resolve", "hide")
    }
    return {"poll": poll, "create": create, **each}


def comment_panel(
    request: HttpRequest,
    *,
    take: Take | None = None,
    clip: Clip | None = None,
    render: CutRender | None = None,
    membership: Membership | None,
    urls: dict[str, str] | None = None,
    guest: bool = False,
    threads: bool = True,
) -> dict[str, Any]:
    """What templates/review/_comments.html needs (its threads too, unless `threads` is off:
    a live update renders single threads with the rest). A `guest` (a review link's visitor,
    studio/review/share_views.py) sees no hidden comment and has no account: the name they gave
    before is kept in their session."""
    subject: dict[str, Any] = {"take": take, "clip": clip, "render": render}
    fps = comments.subject_fps(**subject)
    seconds = comments.subject_seconds(**subject)
    team = comments.subject_project(**subject).team
    kind, args = _kind_args(take, clip, render)
    panel: dict[str, Any] = {
        "subject": kind,
        "urls": urls or panel_urls(**subject),
        "guest": guest,
        "guest_name": request.session.get("guest-name", "") if guest else "",
        "user": None if guest else request.user,
        "can_moderate": bool(membership and membership.can_edit),
        "fps": fps,
        "rate": timecodes.timecode_rate(fps),
        "last_frame": max(0, int(seconds * fps) - 1),
        "duration": seconds,
        # On a take or a render, both sides of the compare; a clip page plays the source alone.
        "sides": [Side.AFTER, Side.BEFORE] if kind != "clip" else [Side.BEFORE],
        "colours": comments.COLOURS,
        "names": [],
        "cursor": timezone.now().isoformat(),
        "filter": request.GET.get("comments") if request.GET.get("comments") in FILTERS else "all",
        "focus": "",
        "exports": None,
    }
    if kind != "clip" and not guest:
        panel["exports"] = {
            name: reverse(f"{kind}_comments_{name}", args=args) for name in ("csv", "edl", "xml")
        }
    if threads:  # the whole panel: also who can be mentioned, and the comment to open
        if not guest:
            panel["names"] = [u.display_name for u in mentions.mention_candidates(team)]
        found = list(comments.comments_on(**subject, guests=guest))
        panel["threads"] = found
        panel["open_count"] = sum(1 for t in found if t.resolved_at is None)
        panel["resolved_count"] = len(found) - panel["open_count"]
        focus = comments.comment_on_page(**subject, code=request.GET.get("c", ""))
        if focus is not None and not (guest and focus.hidden_at is not None):
            panel["focus"] = focus.code
            if not guest:  # opened from "For you": the mention has been seen
                user = cast(AuthenticatedHttpRequest, request).user
                mentions.mentions_seen(user=user, comment=focus)
    return panel


def _thread_html(request: HttpRequest, thread: Comment, panel: dict[str, Any]) -> str:
    return render_to_string(
        "review/_comment_thread.html", {"thread": thread, "panel": panel}, request=request
    )


def _thread_json(request: HttpRequest, thread: Comment, panel: dict[str, Any]) -> dict[str, Any]:
    viewer = panel["user"]
    return {
        "code": thread.code,
        "html": _thread_html(request, thread, panel),
        "comment": comments.comment_data(thread, viewer=viewer),
        "replies": [comments.comment_data(r, viewer=viewer) for r in thread.replies.all()],
    }


def panel_changes(
    request: HttpRequest,
    *,
    take: Take | None,
    clip: Clip | None,
    render: CutRender | None = None,
    membership: Membership | None,
    since: datetime | None,
    urls: dict[str, str] | None = None,
    guest: bool = False,
) -> dict[str, Any]:
    """The panel's update: the threads changed since `since` (all of them without it), and the
    codes of every thread in their order. A `guest`'s leave hidden comments out, so a thread
    an editor hides goes from a review link's page at its next look."""
    subject: dict[str, Any] = {"take": take, "clip": clip, "render": render}
    panel = comment_panel(
        request, **subject, membership=membership, urls=urls, guest=guest, threads=False
    )
    changes = comments.comments_since(**subject, since=since, guests=guest)
    return {
        "ok": True,
        "cursor": changes.cursor.isoformat(),
        "threads": [_thread_json(request, t, panel) for t in changes.threads],
        "codes": changes.codes,
    }


def panel_thread(
    request: HttpRequest,
    comment: Comment | None,
    *,
    take: Take | None,
    clip: Clip | None,
    render: CutRender | None = None,
    membership: Membership | None,
    urls: dict[str, str] | None = None,
    guest: bool = False,
) -> dict[str, Any]:
    """The panel's update after one change: `comment`'s thread as it is now (none when the
    change took the thread away), and the codes of every thread."""
    subject: dict[str, Any] = {"take": take, "clip": clip, "render": render}
    panel = comment_panel(
        request, **subject, membership=membership, urls=urls, guest=guest, threads=False
    )
    on_page = comments.comments_on(**subject, guests=guest)
    threads = []
    if comment is not None:
        threads = list(on_page.filter(pk=comment.parent_id or comment.pk))
    return {
        "ok": True,
        "threads": [_thread_json(request, t, panel) for t in threads],
        "codes": list(on_page.values_list("code", flat=True)),
    }


# Cursors are moments this server handed out: one outside these bounds is a bad cursor (and
# at the ends of the calendar, going back CURSOR_OVERLAP from it raised OverflowError).
CURSOR_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
CURSOR_AHEAD = timedelta(days=1)  # another host's clock may run ahead a little


def poll_since(value: str) -> datetime | None:
    """The cursor a page sent, or None (a bad cursor: the page gets everything)."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    if not CURSOR_EARLIEST <= moment <= timezone.now() + CURSOR_AHEAD:
        return None
    return moment


FILTERS = ("all", "open", "resolved")
