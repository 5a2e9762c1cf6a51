"""Share links: create and revoke (editors), and the public page anyone with the link can open."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from studio.models import ShareLink, TakeState
from studio.services import history
from studio.serving import serve_file
from studio.views.takes import take_for

DAYS = {"1": 1, "7": 7, "30": 30, "never": None}
PAGE_LIMIT = 60  # share page views per address per minute
MEDIA_LIMIT = 1200  # media requests (Range makes many) per address per minute
PUBLIC_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}


@login_required
@require_POST
def share_create(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    if take.state != TakeState.SUCCEEDED:
        messages.error(request, "Only finished takes can be shared.")
        return redirect("take_detail", code=take.code)
    days = request.POST.get("expires", "7")
    if days not in DAYS:
        messages.error(request, "Choose when the link expires.")
        return redirect("take_detail", code=take.code)
    link, token = history.share_create(
        take=take,
        author=request.user,
        days=DAYS[days],
        allow_download=request.POST.get("allow_download") == "on",
        show_prompt=request.POST.get("show_prompt") == "on",
        password=request.POST.get("password", "")[:200],
    )
    # Shown once, on the next page only; only its hash is stored.
    request.session[f"share-{link.code}"] = request.build_absolute_uri(f"/s/{token}/")
    messages.success(request, "Share link created. Copy it now: it is shown only once.")
    return redirect("take_detail", code=take.code)


@login_required
@require_POST
def share_revoke(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    link, _ = get_for_user(
        request.user,
        ShareLink.objects.select_related("take__project__team"),
        need="edit",
        team_path="take__project__team",
        code=code,
    )
    history.share_revoke(link=link, actor=request.user)
    messages.success(request, "The share link no longer works.")
    return redirect("take_detail", code=link.take.code)


def _public(response: HttpResponse) -> None:
    for key, value in PUBLIC_HEADERS.items():
        response[key] = value


def _limited(request: HttpRequest, bucket: str, limit: int) -> bool:
    key = f"share-rate:{bucket}:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=60)
    try:
        return cache.incr(key) > limit
    except ValueError:
        return False


def _not_found() -> Http404:
    return Http404("This link does not work. It may have expired or been revoked.")


@require_http_methods(["GET", "HEAD", "POST"])
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    if _limited(request, "page", PAGE_LIMIT):
        return HttpResponse(
            "Too many requests; try again in a minute.", status=429, headers={"Retry-After": "60"}
        )
    link = history.share_find(token)
    if link is None:
        raise _not_found()
    unlocked = request.session.get(f"share-ok-{link.code}", False)
    error = ""
    if link.password_hash and not unlocked:
        if request.method == "POST" and history.share_password_ok(
            link, request.POST.get("password", "")
        ):
            request.session[f"share-ok-{link.code}"] = True
            return redirect("share_page", token=token)
        if request.method == "POST":
            error = "That password is not right."
        response = render(
            request, "studio/share_password.html", {"error": error}, status=401 if error else 200
        )
        _public(response)
        return response
    history.share_viewed(link)
    take = link.take
    context = {
        "link": link,
        "take": take,
        "token": token,
        "title": take.title or take.prompt[:80]
        if link.show_prompt
        else (take.title or "A video edit"),
        "poster_url": request.build_absolute_uri(f"/s/{token}/media/poster"),
        "video_url": request.build_absolute_uri(f"/s/{token}/media/result"),
    }
    response = render(request, "studio/share.html", context)
    _public(response)
    return response


@require_safe
def share_media(request: HttpRequest, token: str, variant: str) -> HttpResponse:
    if _limited(request, "media", MEDIA_LIMIT):
        return HttpResponse(status=429, headers={"Retry-After": "60"})
    link = history.share_find(token)
    if link is None or variant not in ("result", "source", "poster"):
        raise _not_found()
    if link.password_hash and not request.session.get(f"share-ok-{link.code}", False):
        raise _not_found()
    take = link.take
    field = {
        "result": take.result,
        "poster": take.result_poster,
        "source": take.input_clip.file if take.input_clip else None,
    }[variant]
    if not field or not field.storage.exists(field.name):
        raise _not_found()
    download = request.GET.get("download") == "1" and link.allow_download
    suffix = ".jpg" if variant == "poster" else ".mp4"
    name = f"{(take.title or 'cutroom-take')[:60]}-{variant}{suffix}"
    response = serve_file(
        request,
        field,
        content_type="image/jpeg" if variant == "poster" else "video/mp4",
        download_name=name,
        as_attachment=download,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
