"""Comments at a frame on take, clip and render pages: the comment panel, its endpoints and the
marker exports (docs/review.md "Comments").

Every endpoint answers a page's script with JSON (Accept: application/json) and a plain form
post with a redirect back to the page, so the panel works with and without JavaScript. Who may
do what: any member (viewers too: they review) comments and replies, and edits or deletes
their own; editors and owners also resolve, reopen, hide and unhide. Outsiders get 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from studio.core.errors import Refused
from studio.core.filenames import content_disposition, file_name
from studio.core.http import wants_json
from studio.cuts.access import render_for
from studio.library.access import clip_for
from studio.models import Clip, Comment, CutRender, Take
from studio.review import comments, exports
from studio.review.panels import panel_changes, panel_thread, poll_since
from studio.takes.access import take_for

DRAWING_MAX_CHARS = 100_000  # a drawing's JSON as posted; a full one is about 60 000
FIELD_MAX_CHARS = 20_000  # any other posted field, far above what the service keeps


def _page(
    take: Take | None, clip: Clip | None, render: CutRender | None = None, code: str = ""
) -> str:
    if take is not None:
        url = reverse("take_detail", args=[take.code])
    elif render is not None:
        url = reverse("render_detail", args=[render.cut.code, render.number])
    else:
        url = reverse("clip_detail", args=[clip.code])  # type: ignore[union-attr]
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
    render: CutRender | None = None,
    membership: Membership,
    note: str,
    status: int = 200,
) -> HttpResponse:
    if wants_json(request):
        data = panel_thread(
            request, comment, take=take, clip=clip, render=render, membership=membership
        )
        return JsonResponse(data | {"note": note}, status=status)
    messages.success(request, note)
    return redirect(_page(take, clip, render, comment.code if comment is not None else ""))


# -- reading ----------------------------------------------------------------------------------
@login_required
@require_GET
def take_comments(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """An open take page asks for what changed since its cursor, every few seconds (also once
    the take went to the trash meanwhile: reading is harmless, writing is refused)."""
    take, membership = take_for(request, code, trashed=True)
    since = poll_since(request.GET.get("since", ""))
    return JsonResponse(
        panel_changes(request, take=take, clip=None, membership=membership, since=since)
    )


@login_required
@require_GET
def render_comments(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    render, membership = render_for(request, code, number)
    since = poll_since(request.GET.get("since", ""))
    return JsonResponse(
        panel_changes(
            request, take=None, clip=None, render=render, membership=membership, since=since
        )
    )


@login_required
@require_GET
def clip_comments(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    clip, membership = clip_for(request, code, trashed=True)  # as take_comments
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


@login_required
@require_POST
def render_comment_create(
    request: AuthenticatedHttpRequest, code: str, number: int
) -> HttpResponse:
    render, membership = render_for(request, code, number)
    return _create(request, take=None, clip=None, render=render, membership=membership)


def _create(
    request: AuthenticatedHttpRequest,
    *,
    take: Take | None,
    clip: Clip | None,
    render: CutRender | None = None,
    membership: Membership,
) -> HttpResponse:
    try:
        comment = comments.comment_create(
            take=take,
            clip=clip,
            render=render,
            author=request.user,
            body=_field(request, "body"),
            frame=comments.frame_parse(_field(request, "frame")),
            side=_field(request, "side", 10),
            drawing=comments.drawing_parse(_field(request, "drawing", DRAWING_MAX_CHARS)),
        )
    except Refused as refused:
        return _refuse(request, str(refused), 400, _page(take, clip, render))
    return _done(
        request,
        comment,
        take=take,
        clip=clip,
        render=render,
        membership=membership,
        note="Comment posted.",
        status=201,
    )


SUBJECT_TEAMS = (
    ("take", "take__project__team"),
    ("clip", "clip__project__team"),
    ("render", "render__cut__project__team"),
)


def comment_for(
    request: AuthenticatedHttpRequest, code: str, need: str = "view"
) -> tuple[Comment, Membership]:
    """The comment with this code, through the access helper (it is on a take, a clip or a
    render)."""
    related = Comment.objects.select_related(
        "take__project__team",
        "clip__project__team",
        "parent",
        "take__clip",
        "render__cut__project__team",
        "render__cut__clip",
    )
    for subject, team_path in SUBJECT_TEAMS:
        try:
            return get_for_user(
                request.user,
                related.filter(**{f"{subject}__isnull": False}),
                need=need,
                team_path=team_path,
                code=code,
            )
        except Http404:
            continue
    raise Http404("No such comment.")


@login_required
@require_POST
def comment_reply(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code)
    subject = comments.subject_of(comment)
    try:
        reply = comments.comment_create(
            **subject,
            author=request.user,
            body=_field(request, "body"),
            parent=comment,
        )
    except Refused as refused:
        return _refuse(request, str(refused), 400, _page(**subject, code=comment.code))
    return _done(
        request,
        reply,
        **subject,
        membership=membership,
        note="Reply posted.",
        status=201,
    )


@login_required
@require_POST
def comment_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code)
    subject = comments.subject_of(comment)
    if comment.author_id != request.user.pk:
        return _refuse(request, "Only its author can edit a comment.", 403, _page(**subject))
    try:
        comments.comment_edit(comment=comment, user=request.user, body=_field(request, "body"))
    except Refused as refused:
        return _refuse(request, str(refused), 400, _page(**subject, code=comment.code))
    return _done(request, comment, **subject, membership=membership, note="Saved.")


@login_required
@require_POST
def comment_delete(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code)
    subject = comments.subject_of(comment)
    if comment.author_id != request.user.pk:
        return _refuse(request, "Only its author can delete a comment.", 403, _page(**subject))
    parent = comment.parent
    comments.comment_delete(comment=comment, user=request.user)
    # What is left to show: the thread (a reply went, or the comment stays as a placeholder
    # for its replies), or nothing.
    left = Comment.objects.filter(pk=(parent or comment).pk).first()
    return _done(request, left, **subject, membership=membership, note="Deleted.")


@login_required
@require_POST
def comment_resolve(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code, need="edit")
    subject = comments.subject_of(comment)
    resolved = request.POST.get("resolved", "1") != "0"
    try:
        comments.comment_resolve(comment=comment, user=request.user, resolved=resolved)
    except Refused as refused:
        return _refuse(request, str(refused), 400, _page(**subject, code=comment.code))
    note = "Resolved." if resolved else "Reopened."
    return _done(request, comment, **subject, membership=membership, note=note)


@login_required
@require_POST
def comment_hide(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    comment, membership = comment_for(request, code, need="edit")
    subject = comments.subject_of(comment)
    hidden = request.POST.get("hidden", "1") != "0"
    comments.comment_hide(comment=comment, user=request.user, hidden=hidden)
    note = "Hidden from the page." if hidden else "Shown again."
    return _done(request, comment, **subject, membership=membership, note=note)


# -- exports ----------------------------------------------------------------------------------
EXPORTS = {
    "csv": (exports.comments_csv, "text/csv; charset=utf-8"),
    "edl": (exports.comments_edl, "text/plain; charset=utf-8"),
    "xml": (exports.comments_fcpxml, "application/xml; charset=utf-8"),
}


@login_required
@require_GET
def take_comments_export(request: AuthenticatedHttpRequest, code: str, fmt: str) -> HttpResponse:
    take, _ = take_for(request, code)
    make, content_type = EXPORTS[fmt]
    response = HttpResponse(make(take), content_type=content_type)
    response["Content-Disposition"] = content_disposition(
        file_name(f"{take.download_stem}-comments", f".{fmt}"), as_attachment=True
    )
    return response


@login_required
@require_GET
def render_comments_export(
    request: AuthenticatedHttpRequest, code: str, number: int, fmt: str
) -> HttpResponse:
    render, _ = render_for(request, code, number)
    make, content_type = EXPORTS[fmt]
    response = HttpResponse(make(render), content_type=content_type)
    response["Content-Disposition"] = content_disposition(
        file_name(f"{render.download_stem}-comments", f".{fmt}"), as_attachment=True
    )
    return response
