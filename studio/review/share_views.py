"""Share links to a take or a cut's render: create and revoke (editors), and the public page
anyone with the link can open."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from PIL import Image, UnidentifiedImageError

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.limits import hit, peek
from accounts.models import Membership
from studio.core.filenames import file_name
from studio.cuts.access import render_for
from studio.cuts.pages import render_facts, render_page_context
from studio.models import Comment, CutRender, RenderState, ShareLink, Take, TakeState
from studio.review import comments, shares
from studio.review.forms import ShareLinkForm
from studio.review.panels import CODE, comment_panel, panel_changes, panel_thread, poll_since
from studio.storage.files import is_remote
from studio.storage.serving import serve_file
from studio.takes.access import take_for
from studio.takes.labelled import labelled_download, take_label_request
from studio.takes.pages import take_page_context

# Fixed windows of (requests, seconds), counted by accounts.limits (django-ratelimit).
PAGE_RATE = (60, 60)  # share page views per address per minute
MEDIA_RATE = (1200, 60)  # media requests (Range makes many) per address per minute
# Wrong passwords for one link, from any address: after 10 in a 15-minute window the link
# takes no password until the window ends. The per-address page limit alone would let many
# addresses guess together. Viewers who unlocked the link before keep watching.
PASSWORD_RATE = (10, 15 * 60)
# Guest comments on a review link: per address, and per link from every address together.
GUEST_COMMENT_RATE = (10, 60)
GUEST_COMMENT_HOURLY = (60, 60 * 60)
LINK_COMMENT_HOURLY = (300, 60 * 60)
DRAWING_MAX_BYTES = 20_000
PUBLIC_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    # The token is in the URL, so no other site may see it as a referrer. "same-origin" sends
    # no Referer at all to any other origin, which is what "no-referrer" was here for. But
    # with "no-referrer" the Fetch standard serialises the Origin header of a form POST as
    # "null" ("append a request `Origin` header"), and Django's CsrfViewMiddleware
    # refuses a null Origin: the password form answered 403 in Chromium. With "same-origin"
    # the same-origin POST carries our real Origin, which Django checks against the host; a
    # browser that sends no Origin sends a same-origin Referer, which Django requires under
    # HTTPS. The template repeats the policy in a <meta> for proxies that drop headers.
    "Referrer-Policy": "same-origin",
    # Never cached, by the browser or anything between: a revoked link stops at the next
    # request, and "download off" leaves no copy in a cache.
    "Cache-Control": "private, no-store",
}


@login_required
@require_POST
def share_create(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, membership = take_for(request, code, need="edit")
    if take.state != TakeState.SUCCEEDED:
        messages.error(request, "Only finished takes can be shared.")
        return redirect("take_detail", code=take.code)
    form = ShareLinkForm(request.POST)
    if not form.is_valid():
        # The take page again, with the reason next to the field; no link was made.
        messages.error(request, "The share link was not created; see the Share card.")
        context = take_page_context(request, take, membership, share_form=form)
        return render(request, "takes/take_detail.html", context, status=400)
    link, _ = shares.share_create(
        take=take,
        author=request.user,
        days=form.days,
        allow_download=form.cleaned_data["allow_download"],
        show_prompt=form.cleaned_data["show_prompt"],
        password=form.cleaned_data["password"],
        allow_comments=form.cleaned_data["allow_comments"],
    )
    request.session["share-new"] = link.code  # the card points it out on the next page
    messages.success(request, "Share link created. Copy it from the Share card.")
    return redirect("take_detail", code=take.code)


@login_required
@require_POST
def render_share_create(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    """A share link to a cut's render, as to a take (the same form, rules and page)."""
    made, membership = render_for(request, code, number, need="edit")
    if made.state != RenderState.READY or not made.file:
        messages.error(request, "Only finished renders can be shared.")
        return redirect("render_detail", code=code, number=number)
    form = ShareLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The share link was not created; see the Share card.")
        context = render_page_context(request, made, membership, share_form=form)
        return render(request, "cuts/render_detail.html", context, status=400)
    link, _ = shares.share_create(
        render=made,
        author=request.user,
        days=form.days,
        allow_download=form.cleaned_data["allow_download"],
        show_prompt=form.cleaned_data["show_prompt"],
        password=form.cleaned_data["password"],
        allow_comments=form.cleaned_data["allow_comments"],
    )
    request.session["share-new"] = link.code
    messages.success(request, "Share link created. Copy it from the Share card.")
    return redirect("render_detail", code=code, number=number)


def _link_for(request: AuthenticatedHttpRequest, code: str) -> tuple[ShareLink, Membership]:
    """A share link of the person's team (to a take or a render), for an editor."""
    related = ShareLink.objects.select_related("take__project__team", "render__cut__project__team")
    try:
        return get_for_user(
            request.user,
            related.filter(take__isnull=False),
            need="edit",
            team_path="take__project__team",
            code=code,
        )
    except Http404:
        return get_for_user(
            request.user,
            related.filter(render__isnull=False),
            need="edit",
            team_path="render__cut__project__team",
            code=code,
        )


def _back_to(link: ShareLink) -> HttpResponse:
    """The page of what the link shows (its top, where the message about the link is)."""
    subject = link.subject
    if isinstance(subject, CutRender):
        return redirect("render_detail", code=subject.cut.code, number=subject.number)
    return redirect("take_detail", code=subject.code)


@login_required
@require_POST
def share_revoke(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    link, _ = _link_for(request, code)
    shares.share_revoke(link=link, actor=request.user)
    messages.success(request, "The share link no longer works.")
    return _back_to(link)


@login_required
@require_POST
def share_renew(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The Share card's "Make a new link like this one", for a link whose address cannot be
    shown again (made before addresses were kept, or under an earlier SECRET_KEY): the same
    settings in a new link; the old one stops at once."""
    link, membership = _link_for(request, code)
    if not shares.share_may_see(link, user=request.user, membership=membership):
        raise PermissionDenied("Only the person who made this link and the team's owners can.")
    if not link.is_live:
        messages.error(request, "That link no longer works; make a new one with the form.")
        return _back_to(link)
    made, _ = shares.share_renew(link=link, actor=request.user)
    request.session["share-new"] = made.code
    messages.success(request, "A new link like the old one was made; the old one no longer works.")
    return _back_to(made)


def _public[R: HttpResponseBase](response: R) -> R:
    for key, value in PUBLIC_HEADERS.items():
        response[key] = value
    return response


def _not_found() -> Http404:
    return Http404("This link does not work. It may have expired or been revoked.")


@require_http_methods(["GET", "HEAD", "POST"])
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    usage = hit(request, group="share-page", rate=PAGE_RATE)
    if usage.limited:
        return HttpResponse(
            "Too many requests; try again in a minute.",
            status=429,
            headers={"Retry-After": str(usage.retry_after)},
        )
    link = shares.share_find(token)
    if link is None:
        if gone := shares.share_gone(token):
            page = render(request, "review/share_gone.html", {"message": gone}, status=410)
            return _public(page)
        raise _not_found()
    unlocked = request.session.get(f"share-ok-{link.code}", False)
    if link.password_hash and not unlocked:
        return _password_page(request, link, token)
    shares.share_viewed(link)
    share_url = request.build_absolute_uri(reverse("share_page", args=[token]))
    context = {
        "link": link,
        "token": token,
        "team": link.project.team,
        "share_url": share_url,
        "secure": request.is_secure(),
        "video_url": _media_url(request, token, "result"),
        "comment_panel": guest_panel(request, link, token),
        **_poster(request, token, link),
    }
    # A link is to exactly one of them (the table's constraint).
    if link.render is not None:
        context |= _render_context(link, link.render)
        if link.allow_download and link.render.label_missing:
            context["download_why"] = GUEST_RENDER_UNLABELLED
    elif link.take is not None:
        context |= _take_context(link, link.take)
        if link.allow_download:
            context["download_why"] = _labelled_or_why(link.take)[1]
    # Whether AI made it, in the page's title and its unfurl too (studio.provenance.disclosure).
    context["page_title"] = f"{context['title']} · {context['disclosure'].short}"
    return _public(render(request, "review/share.html", context))


def _take_context(link: ShareLink, take: Take) -> dict[str, Any]:
    return {
        "take": take,
        "disclosure": take.disclosure,
        "title": _title(link, take),
        "description": _description(link, take),
        "fps": comments.subject_fps(take=take),  # the compare player's frame steps
        "duration": take.result_duration,
        "labels": ("Before", "After"),
        "video_size": (take.result_width, take.result_height) if take.result_width else None,
    }


def _render_context(link: ShareLink, made: CutRender) -> dict[str, Any]:
    """A render's shared page: the whole cut beside the whole source, at the source's frames;
    the prompts of the takes it used when the link shows prompts."""
    clip = made.cut.clip
    team = made.cut.project.team
    return {
        "render": made,
        "disclosure": made.disclosure,
        "title": f"{made.cut.name} v{made.number}",
        "description": f"{made.disclosure.words}. A full-length cut of a video, edited window by "
        f"window and shared by {team.name} on Cutroom.",
        "fps": comments.subject_fps(render=made),
        "duration": made.duration,
        "labels": ("Source", "Cut"),
        "video_size": (clip.width, clip.height) if clip.width else None,
        "windows": render_facts(made)["windows"] if link.show_prompt else [],
    }


def _password_page(request: HttpRequest, link: ShareLink, token: str) -> HttpResponse:
    # The preview of a protected link shows nothing the password protects: no title,
    # no poster, no prompt, not even the team, since any of them can give the video away.
    context: dict[str, Any] = {
        "share_url": request.build_absolute_uri(reverse("share_page", args=[token]))
    }
    if request.method != "POST":
        return _public(render(request, "review/share_password.html", context))

    def this_link(group: str, request: HttpRequest) -> str:
        return link.code

    # Checked before and counted after: requests in flight together can pass the check
    # together, so a burst may try a few more than the limit (at most the server's threads).
    usage = peek(request, group="share-password", rate=PASSWORD_RATE, key=this_link)
    if usage.limited:
        context["locked_minutes"] = usage.minutes
        response = render(request, "review/share_password.html", context, status=429)
        response["Retry-After"] = str(usage.retry_after)
        return _public(response)
    if shares.share_password_ok(link, request.POST.get("password", "")):
        request.session[f"share-ok-{link.code}"] = True
        return redirect("share_page", token=token)
    hit(request, group="share-password", rate=PASSWORD_RATE, key=this_link)
    context["error"] = "That password is not right."
    return _public(render(request, "review/share_password.html", context, status=401))


def _title(link: ShareLink, take: Take) -> str:
    if take.title:
        return take.title
    return Truncator(take.prompt).chars(80) if link.show_prompt else "A video edit"


def _description(link: ShareLink, take: Take) -> str:
    """What an unfurl says under the title: who shared what; the prompt only when shown."""
    text = (
        f"{take.disclosure.words}. A before-and-after video edit shared by "
        f"{take.project.team.name} on Cutroom."
    )
    if link.show_prompt:
        text += f" Prompt: {Truncator(take.prompt).chars(200)}"
    return text


def _media_url(request: HttpRequest, token: str, variant: str) -> str:
    return request.build_absolute_uri(reverse("share_media", args=[token, variant]))


def _poster(request: HttpRequest, token: str, link: ShareLink) -> dict[str, Any]:
    """The poster's address and real size, for og:image (unfurls lay out by the size)."""
    subject = link.subject
    poster = subject.poster if isinstance(subject, CutRender) else subject.result_poster
    if not poster:
        return {"poster_url": "", "poster_size": None}
    return {
        "poster_url": _media_url(request, token, "poster"),
        "poster_size": _image_size(poster),
    }


def _image_size(field: FieldFile) -> tuple[int, int] | None:
    try:
        with field.storage.open(field.name or "", "rb") as handle, Image.open(handle) as image:
            return image.size  # read from the header; the picture is not decoded
    except (OSError, UnidentifiedImageError):
        return None


@require_safe
def share_media(request: HttpRequest, token: str, variant: str) -> HttpResponseBase:
    usage = hit(request, group="share-media", rate=MEDIA_RATE)
    if usage.limited:
        return HttpResponse(status=429, headers={"Retry-After": str(usage.retry_after)})
    link = shares.share_find(token)
    if link is None or variant not in ("result", "source", "poster"):
        raise _not_found()
    if link.password_hash and not request.session.get(f"share-ok-{link.code}", False):
        raise _not_found()
    field, name = _shared_file(link, variant)
    if link.take is not None and variant == "result" and request.GET.get("download") == "1":
        chosen, why = _labelled_or_why(link.take) if link.allow_download else ("result", "")
        if why:
            return _public(
                HttpResponse(f"{why}\n", status=409, content_type="text/plain; charset=utf-8")
            )
        field = getattr(link.take, chosen)  # the labelled copy while the team asks for one
    made = link.render
    download_asked = request.GET.get("download") == "1" and link.allow_download
    if made is not None and variant == "result" and download_asked and made.label_missing:
        why = GUEST_RENDER_UNLABELLED
        return _public(
            HttpResponse(f"{why}\n", status=409, content_type="text/plain; charset=utf-8")
        )
    if not field or (not is_remote(field.storage) and not field.storage.exists(field.name or "")):
        raise _not_found()  # a bucket is not asked first: see views/media.py
    # With download off, ?download=1 is served inline like any other request: never as an
    # attachment. Playing the video needs its bytes, so that is all "off" can refuse.
    download = request.GET.get("download") == "1" and link.allow_download
    response = serve_file(
        request,
        field,
        content_type="image/jpeg" if variant == "poster" else "video/mp4",
        download_name=name,
        as_attachment=download,
        cache_control=PUBLIC_HEADERS["Cache-Control"],
        link_seconds=settings.S3_SHARE_URL_SECONDS,
    )
    return _public(response)


GUEST_RENDER_UNLABELLED = (
    "This video was made before its team asked for an “AI-generated” label on downloads, so it "
    "can be downloaded once they have rendered it again."
)


def _labelled_or_why(take: Take) -> tuple[str, str]:
    """A shared take's download is its labelled copy while its team asks for labels (asked
    for here when it has none: the worker makes it), never the provider's bytes."""
    take_label_request(take=take)
    return labelled_download(take)


def _shared_file(link: ShareLink, variant: str) -> tuple[FieldFile | None, str]:
    """The file a share link's page plays (and its download name): a take's result, poster
    and the part of the clip it edited; a render's file, poster and the whole clip."""
    suffix = ".jpg" if variant == "poster" else ".mp4"
    made = link.render
    if made is not None:
        clip = made.cut.clip
        field = {
            "result": made.file,
            "poster": made.poster,
            "source": getattr(clip, clip.playable),
        }[variant]
        label = {"result": "", "poster": "-poster", "source": "-source"}[variant]
        return field, file_name(f"{made.download_stem}{label}", suffix)
    take = link.take
    if take is None:
        return None, ""
    field = {
        "result": take.result,
        "poster": take.result_poster,
        "source": take.input_clip.file if take.input_clip else None,
    }[variant]
    label = {"result": "", "poster": "-poster", "source": "-source"}[variant]
    return field, file_name(f"{take.download_stem}{label}", suffix)


# -- review links: guests comment at a frame ---------------------------------------------------
# What a guest's page is told once the link stops taking comments (revoked, expired, no longer
# a review link, or a password this browser has not given): the panel shows it and stops asking.
CLOSED = "This link no longer takes comments. It may have been revoked or have expired."
POLL_RATE = (120, 60)  # a guest's page asks every 4 s; this leaves room for a few tabs


class LinkClosed(Exception):
    pass


def _review_link(request: HttpRequest, token: str) -> ShareLink:
    """The live link behind a guest's comment request, or LinkClosed."""
    link = shares.share_find(token)
    if link is None or not link.allow_comments:
        raise LinkClosed
    if link.password_hash and not request.session.get(f"share-ok-{link.code}", False):
        raise LinkClosed
    return link


def guest_urls(token: str) -> dict[str, str]:
    """The comment panel's endpoints on a review link (views.comments.panel_urls for members).
    Guests only comment and reply: the panel shows them no other action."""
    return {
        "poll": reverse("share_comments", args=[token]),
        "create": reverse("share_comments", args=[token]),
        "reply": reverse("share_comment_reply", args=[token, CODE]),
    }


def guest_panel(request: HttpRequest, link: ShareLink, token: str) -> dict[str, Any] | None:
    """The comment panel of a review link's page, in guest mode; None on a plain share link."""
    if not link.allow_comments:
        return None
    return comment_panel(
        request,
        take=link.take,
        render=link.render,
        membership=None,
        urls=guest_urls(token),
        guest=True,
    )


def _closed() -> JsonResponse:
    return _public(JsonResponse({"ok": False, "closed": True, "error": CLOSED}, status=404))


@require_http_methods(["GET", "POST"])
def share_comments(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what changed since the page's cursor, as the comment panel's live update (threads
    rendered for a guest: hidden ones left out, no actions but reply). POST: a guest's comment;
    its answer is the new thread, or a 400/429 with the reason. A closed link answers 404
    with `closed`, so the page stops asking."""
    try:
        link = _review_link(request, token)
    except LinkClosed:
        return _closed()
    if request.method == "GET":
        usage = hit(request, group="share-comments-poll", rate=POLL_RATE)
        if usage.limited:
            response = JsonResponse({"ok": False, "error": "Too many requests."}, status=429)
            response["Retry-After"] = str(usage.retry_after)
            return _public(response)
        data = panel_changes(
            request,
            take=link.take,
            clip=None,
            render=link.render,
            membership=None,
            since=poll_since(request.GET.get("since", "")),
            urls=guest_urls(token),
            guest=True,
        )
        return _public(JsonResponse(data))
    return _guest_post(request, link, token, parent_code="")


@require_POST
def share_comment_reply(request: HttpRequest, token: str, code: str) -> HttpResponse:
    """A guest's reply to the thread `code` on this link's take or render."""
    try:
        link = _review_link(request, token)
    except LinkClosed:
        return _closed()
    return _guest_post(request, link, token, parent_code=code)


def _guest_post(
    request: HttpRequest, link: ShareLink, token: str, parent_code: str
) -> HttpResponse:
    limits: list[tuple[str, tuple[int, int], Any]] = [
        ("guest-comment", GUEST_COMMENT_RATE, "ip"),
        ("guest-comment-hour", GUEST_COMMENT_HOURLY, "ip"),
        ("link-comment-hour", LINK_COMMENT_HOURLY, lambda group, request: link.code),
    ]
    for group, rate, key in limits:
        usage = hit(request, group=group, rate=rate, key=key)
        if usage.limited:
            plural = "s" if usage.minutes != 1 else ""
            answer = {
                "ok": False,
                "error": f"Too many comments; try again in {usage.minutes} minute{plural}.",
            }
            response = JsonResponse(answer, status=429)
            response["Retry-After"] = str(usage.retry_after)
            return _public(response)
    try:
        comment = _guest_comment(request, link, parent_code)
    except comments.Refused as refused:
        return _public(JsonResponse({"ok": False, "error": str(refused)}, status=400))
    # Asked once: the next comment's (and every reply's) name field starts with it.
    request.session["guest-name"] = comment.guest_name
    data = panel_thread(
        request,
        comment,
        take=link.take,
        clip=None,
        render=link.render,
        membership=None,
        urls=guest_urls(token),
        guest=True,
    )
    note = "Reply posted." if parent_code else "Comment posted."
    return _public(JsonResponse(data | {"note": note}, status=201))


def _guest_comment(request: HttpRequest, link: ShareLink, parent_code: str) -> Comment:
    raw_drawing = request.POST.get("drawing", "")
    if len(raw_drawing) > DRAWING_MAX_BYTES:
        raise comments.Refused("This drawing is too large; draw fewer or shorter lines.")
    drawing = comments.drawing_parse(raw_drawing)
    parent = None
    if parent_code:
        parent = Comment.objects.filter(
            comments.subject_filter(take=link.take, render=link.render),
            code=parent_code,
            hidden_at=None,
        ).first()
        if parent is None:
            raise comments.Refused("That comment is not on this page any more.")
    return comments.comment_create(
        take=link.take,
        render=link.render,
        guest_name=request.POST.get("guest_name", "")[: Comment.GUEST_NAME_MAX * 4],
        share_link=link,
        body=request.POST.get("body", "")[: Comment.BODY_MAX * 4],
        frame=comments.frame_parse(request.POST.get("frame", "")) if not parent else None,
        side=request.POST.get("side", "")[:10],
        drawing=drawing,
        parent=parent,
    )
