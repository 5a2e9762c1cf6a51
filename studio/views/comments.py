"""Comments at a frame on take and clip pages: the comment panel and its endpoints, the
"For you" list of mentions, and the marker exports (docs/review.md "Comments").

Every endpoint answers a page's script with JSON (Accept: application/json) and a plain form
post with a redirect back to the page, so the panel works with and without JavaScript. Who may
do what: any member (viewers too: they review) comments and replies, and edits or deletes
their own; editors and owners also resolve, reopen, hide and unhide. Outsiders get 404.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from studio.core.errors import Refused
from studio.core.http import wants_json
from studio.library.access import clip_for
from studio.models import Clip, Comment, Side, Take
from studio.services import comments
from studio.takes.access import take_for

CODE = "__code__"  # where a comment's code goes in the panel's per-comment URLs
DRAWING_MAX_CHARS = 100_000  # a drawing's JSON as posted; a full one is about 60 000
FIELD_MAX_CHARS = 20_000  # any other posted field, far above what the service keeps
FILTERS = ("all", "open", "resolved")


# -- the panel --------------------------------------------------------------------------------
def panel_urls(*, take: Take | None = None, clip: Clip | None = None) -> dict[str, str]:
    """A member's endpoints. A review link for guests passes its own to `comment_panel`."""
    kind, code = ("take", take.code) if take is not None else ("clip", clip.code)  # type: ignore[union-attr]
    poll = reverse(f"{kind}_comments", args=[code])
    create = reverse(f"{kind}_comment_create", args=[code])
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
    membership: Membership | None,
    urls: dict[str, str] | None = None,
    guest: bool = False,
    threads: bool = True,
) -> dict[str, Any]:
    """What templates/studio/_comments.html needs (its threads too, unless `threads` is off:
    a live update renders single threads with the rest). A `guest` (a review link's visitor,
    studio/views/shares.py) sees no hidden comment and has no account: the name they gave
    before is kept in their session."""
    fps = comments.subject_fps(take=take, clip=clip)
    seconds = comments.subject_seconds(take=take, clip=clip)
    team = (take.project if take is not None else clip.project).team  # type: ignore[union-attr]
    panel: dict[str, Any] = {
        "subject": "take" if take is not None else "clip",
        "urls": urls or panel_urls(take=take, clip=clip),
        "guest": guest,
        "guest_name": request.session.get("guest-name", "") if guest else "",
        "user": None if guest else request.user,
        "can_moderate": bool(membership and membership.can_edit),
        "fps": fps,
        "rate": comments.timecode_rate(fps),
        "last_frame": max(0, int(seconds * fps) - 1),
        "duration": seconds,
        # On a take, both sides of the compare; a clip page plays the source alone.
        "sides": [Side.AFTER, Side.BEFORE] if take is not None else [Side.BEFORE],
        "colours": comments.COLOURS,
        "names": [],
        "cursor": timezone.now().isoformat(),
        "filter": request.GET.get("comments") if request.GET.get("comments") in FILTERS else "all",
        "focus": "",
        "exports": None,
    }
    if take is not None and not guest:
        panel["exports"] = {
            name: reverse(f"take_comments_{name}", args=[take.code])
            for name in ("csv", "edl", "xml")
        }
    if threads:  # the whole panel: also who can be mentioned, and the comment to open
        if not guest:
            panel["names"] = [u.display_name for u in comments.mention_candidates(team)]
        found = list(comments.comments_on(take=take, clip=clip, guests=guest))
        panel["threads"] = found
        panel["open_count"] = sum(1 for t in found if t.resolved_at is None)
        panel["resolved_count"] = len(found) - panel["open_count"]
        focus = comments.comment_on_page(take=take, clip=clip, code=request.GET.get("c", ""))
        if focus is not None and not (guest and focus.hidden_at is not None):
            panel["focus"] = focus.code
            if not guest:  # opened from "For you": the mention has been seen
                user = cast(AuthenticatedHttpRequest, request).user
                comments.mentions_seen(user=user, comment=focus)
    return panel


def _thread_html(request: HttpRequest, thread: Comment, panel: dict[str, Any]) -> str:
    return render_to_string(
        "studio/_comment_thread.html", {"thread": thread, "panel": panel}, request=request
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
    membership: Membership | None,
    since: datetime | None,
    urls: dict[str, str] | None = None,
    guest: bool = False,
) -> dict[str, Any]:
    """The panel's update: the threads changed since `since` (all of them without it), and the
    codes of every thread in their order. A `guest`'s leave hidden comments out, so a thread
    an editor hides goes from a review link's page at its next look."""
    panel = comment_panel(
        request, take=take, clip=clip, membership=membership, urls=urls, guest=guest, threads=False
    )
    changes = comments.comments_since(take=take, clip=clip, since=since, guests=guest)
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
    membership: Membership | None,
    urls: dict[str, str] | None = None,
    guest: bool = False,
) -> dict[str, Any]:
    """The panel's update after one change: `comment`'s thread as it is now (none when the
    change took the thread away), and the codes of every thread."""
    panel = comment_panel(
        request, take=take, clip=clip, membership=membership, urls=urls, guest=guest, threads=False
    )
    on_page = comments.comments_on(take=take, clip=clip, guests=guest)
    threads = []
    if comment is not None:
        threads = list(on_page.filter(pk=comment.parent_id or comment.pk))
    return {
        "ok": True,
        "threads": [_thread_json(request, t, panel) for t in threads],
        "codes": list(on_page.values_list("code", flat=True)),
    }


def poll_since(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo is not None else None


def _page(take: Take | None, clip: Clip | None, code: str = "") -> str:
    url = (
        reverse("take_detail", args=[take.code])
        if take is not None
        else reverse("clip_detail", args=[clip.code])  # type: ignore[union-attr]
    )
    return f"{url}?c={code}#c-{code}" if code else f"{url}#comments"


def _refuse(
    request: AuthenticatedHttpRequest, message: str, status: int, back: str
) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": False, "error": message}, status=status)
    messages.error(request, message)
    return redirect(back)


def _field(request: AuthenticatedHttpRequest, name: str, limit: int = FIELD_MAX_CHARS) -> str:
    value = request.POST.get(name, "")
    if len(value) > limit:
        raise Refused(
            "That is too long to keep." if name != "drawing" else "This drawing is too big."
        )
    return value


def _done(
    request: AuthenticatedHttpRequest,
    comment: Comment | None,
    *,
    take: Take | None,
    clip: Clip | None,
    membership: Membership,
    note: str,
    status: int = 200,
) -> HttpResponse:
    if wants_json(request):
        data = panel_thread(request, comment, take=take, clip=clip, membership=membership)
        return JsonResponse(data | {"note": note}, status=status)
    messages.success(request, note)
    return redirect(_page(take, clip, comment.code if comment is not None else ""))


# -- reading ----------------------------------------------------------------------------------
@login_required
@require_GET
def take_comments(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """An open take page asks for what changed since its cursor, every few seconds."""
    take, membership = take_for(request, code)
    since = poll_since(request.GET.get("since", ""))
    return JsonResponse(
        panel_changes(request, take=take, clip=None, membership=membership, since=since)
    )


@login_required
@require_GET
def clip_comments(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    clip, membership = clip_for(request, code)
    since = poll_since(request.GET.get("since", ""))
    return JsonResponse(
        panel_changes(request, take=None, clip=clip, membership=membership, since=since)
    )


# -- writing ----------------------------------------------------------------------------------
@login_required
@require_POST
def take_comment_create(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, membership = take_for(request, code)
    return _create(request, take=take, clip=None, membership=membership)


@login_required
@require_POST
def clip_comment_create(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    clip, membership = clip_for(request, code)
    return _create(request, take=None, clip=clip, membership=membership)


def _create(
    request: AuthenticatedHttpRequest,
    *,
    take: Take | None,
    clip: Clip | None,
    membership: Membership,
) -> HttpResponse:
    try:
        frame = int(_field(request, "frame", 12))
    except (Refused, ValueError):
        return _refuse(
            request, "Pause the video where the comment belongs.", 400, _page(take, clip)
        )
    try:
        raw = _field(request, "drawing", DRAWING_MAX_CHARS)
        drawing = json.loads(raw) if raw.strip() else []
    except ValueError:
        return _refuse(request, "This drawing cannot be read.", 400, _page(take, clip))
    except Refused as refused:
        return _refuse(request, str(refused), 400, _page(take, clip))
    try:
        comment = comments.comment_create(
            take=take,
            clip=clip,
            author=request.user,
            body=_field(request, "body"),
            frame=frame,
            side=_field(request, "side", 10),
            drawing=drawing,
        )
    except Refused as refused:
        return _refuse(request, str(refused), 400, _page(take, clip))
    return _done(
        request,
        comment,
        take=take,
        clip=clip,
        membership=membership,
        note="Comment posted.",
        status=201,
    )


def comment_for(
    request: AuthenticatedHttpRequest, code: str, need: str = "view"
) -> tuple[Comment, Membership]:
    """The comment with this code, through the access helper (it is on a take or a clip)."""
    related = Comment.objects.select_related(
        "take__project__team", "clip__project__team", "parent", "take__clip"
    )
    try:
        return get_for_user(
            request.user,
            related.filter(take__isnull=False),
            need=need,
            team_path="take__project__team",
            code=code,
        )
    except Http404:
        return get_for_user(
            request.user,
            related.filter(clip__isnull=False),
            need=need,
            team_path="clip__project__team",
            code=code,
        )


@login_required
@require_POST
def comment_reply(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code)
    take, clip = comment.take, comment.clip
    try:
        reply = comments.comment_create(
            take=take,
            clip=clip,
            author=request.user,
            body=_field(request, "body"),
            parent=comment,
        )
    except Refused as refused:
        return _refuse(request, str(refused), 400, _page(take, clip, comment.code))
    return _done(
        request,
        reply,
        take=take,
        clip=clip,
        membership=membership,
        note="Reply posted.",
        status=201,
    )


@login_required
@require_POST
def comment_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code)
    take, clip = comment.take, comment.clip
    if comment.author_id != request.user.pk:
        return _refuse(request, "Only its author can edit a comment.", 403, _page(take, clip))
    try:
        comments.comment_edit(comment=comment, user=request.user, body=_field(request, "body"))
    except Refused as refused:
        return _refuse(request, str(refused), 400, _page(take, clip, comment.code))
    return _done(request, comment, take=take, clip=clip, membership=membership, note="Saved.")


@login_required
@require_POST
def comment_delete(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code)
    take, clip = comment.take, comment.clip
    if comment.author_id != request.user.pk:
        return _refuse(request, "Only its author can delete a comment.", 403, _page(take, clip))
    parent = comment.parent
    comments.comment_delete(comment=comment, user=request.user)
    # What is left to show: the thread (a reply went, or the comment stays as a placeholder
    # for its replies), or nothing.
    left = Comment.objects.filter(pk=(parent or comment).pk).first()
    return _done(request, left, take=take, clip=clip, membership=membership, note="Deleted.")


@login_required
@require_POST
def comment_resolve(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code, need="edit")
    take, clip = comment.take, comment.clip
    resolved = request.POST.get("resolved", "1") != "0"
    try:
        comments.comment_resolve(comment=comment, user=request.user, resolved=resolved)
    except Refused as refused:
        return _refuse(request, str(refused), 400, _page(take, clip, comment.code))
    note = "Resolved." if resolved else "Reopened."
    return _done(request, comment, take=take, clip=clip, membership=membership, note=note)


@login_required
@require_POST
def comment_hide(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code, need="edit")
    take, clip = comment.take, comment.clip
    hidden = request.POST.get("hidden", "1") != "0"
    comments.comment_hide(comment=comment, user=request.user, hidden=hidden)
    note = "Hidden from the page." if hidden else "Shown again."
    return _done(request, comment, take=take, clip=clip, membership=membership, note=note)


# -- exports ----------------------------------------------------------------------------------
EXPORTS = {
    "csv": (comments.comments_csv, "text/csv; charset=utf-8"),
    "edl": (comments.comments_edl, "text/plain; charset=utf-8"),
    "xml": (comments.comments_fcpxml, "application/xml; charset=utf-8"),
}


@login_required
@require_GET
def take_comments_export(request: AuthenticatedHttpRequest, code: str, fmt: str) -> HttpResponse:
    take, _ = take_for(request, code)
    make, content_type = EXPORTS[fmt]
    name = slugify(take.title or take.prompt)[:40].strip("-") or "take"
    response = HttpResponse(make(take), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{name}-{take.code}-comments.{fmt}"
    )
    return response


# -- "For you" --------------------------------------------------------------------------------
@login_required
@require_GET
def for_you(request: AuthenticatedHttpRequest) -> HttpResponse:
    mentions = list(
        comments.mentions_for(request.user).select_related(
            "comment__take__project", "comment__clip__project", "comment__parent"
        )[:100]
    )
    rows = []
    for mention in mentions:
        comment = mention.comment
        at = comment.parent or comment
        rows.append(
            {
                "mention": mention,
                "comment": comment,
                "timecode": comments.page_timecode(at),
                "url": _page(comment.take, comment.clip, comment.code),
                "where": comment.take or comment.clip,
                "project": (comment.take or comment.clip).project,  # type: ignore[union-attr]
            }
        )
    unread = sum(1 for m in mentions if m.seen_at is None)
    return render(request, "studio/for_you.html", {"rows": rows, "unread": unread})


@login_required
@require_POST
def for_you_seen(request: AuthenticatedHttpRequest) -> HttpResponse:
    comments.mentions_seen(user=request.user)
    return redirect("for_you")
