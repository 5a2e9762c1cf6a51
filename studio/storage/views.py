"""The one view that serves stored media, after the access check, with HTTP Range."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import PurePosixPath
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from studio.core.filenames import file_name, safe_stem
from studio.cuts.models import SEAM_VARIANT
from studio.models import Clip, CutRender, InputClip, Reference, Take
from studio.storage.files import is_remote
from studio.storage.serving import serve_file
from studio.storage.signing import signed_media_spec
from studio.takes.labelled import labelled_download, take_label_request, unlabelled_made_file


class RenderVariants:
    """A render's video and poster, and its joins' pictures (seam-<join>-<before|after>)."""

    FIELDS = ("file", "poster")

    def __contains__(self, variant: object) -> bool:
        return variant in self.FIELDS or (
            isinstance(variant, str) and SEAM_VARIANT.fullmatch(variant) is not None
        )

    def __iter__(self) -> Iterator[str]:
        """The fields, and the first join's two pictures standing for every join's."""
        return iter((*self.FIELDS, "seam-1-before", "seam-1-after"))

    def __len__(self) -> int:
        return len(tuple(iter(self)))


# kind -> (queryset, path to the team, the variants one may fetch)
MEDIA: dict[str, tuple[Any, str, Collection[str]]] = {
    "clip": (
        Clip.objects.select_related("project__team"),
        "project__team",
        ("source", "proxy", "poster", "poster_thumb", "filmstrip"),
    ),
    "ref": (Reference.objects.select_related("project__team"), "project__team", ("image", "thumb")),
    "take": (
        Take.objects.select_related("project__team"),
        "project__team",
        ("result", "result_poster", "result_thumb", "export_file", "labelled_file"),
    ),
    "render": (
        CutRender.objects.select_related("cut__project__team", "cut__clip"),
        "cut__project__team",
        RenderVariants(),
    ),
    "input": (
        InputClip.objects.select_related("clip__project__team"),
        "clip__project__team",
        ("file",),
    ),
}
# What each stored file is called after its owner's name: `<clip>-preview.mp4`,
# `<take>-sbs.mp4` (the side-by-side export), `<take>-poster.jpg`. A take's result is its name
# alone, a clip's source its original name.
SUFFIXES = {
    "result": "",
    "labelled_file": "",  # the result with the AI label: what its downloads are
    "export_file": "-sbs",
    "result_poster": "-poster",
    "result_thumb": "-poster-small",
    "proxy": "-preview",
    "poster": "-poster",
    "poster_thumb": "-poster-small",
    "thumb": "-thumbnail",
    "file": "-input",
    "filmstrip": "-filmstrip",
}


@login_required
@require_safe
def media_file(
    request: AuthenticatedHttpRequest, kind: str, code: str, variant: str
) -> HttpResponseBase:
    if kind not in MEDIA or variant not in MEDIA[kind][2]:
        raise Http404("No such file.")
    queryset, team_path, _ = MEDIA[kind]
    obj, membership = get_for_user(request.user, queryset, team_path=team_path, code=code)
    as_attachment = request.GET.get("download") == "1"
    if isinstance(obj, Take) and as_attachment and variant == "result":
        if request.GET.get("original") == "1" and membership.is_owner and obj.needs_ai_label:
            return _serve(request, obj, "result", as_attachment=True, suffix="-original")
        variant, why = _labelled_or_why(obj)
        if why:
            return _not_labelled_yet(why)
    if as_attachment and (why := unlabelled_made_file(obj, variant)):
        return _not_labelled_yet(why)
    return _serve(request, obj, variant, as_attachment=as_attachment)


def _labelled_or_why(take: Take) -> tuple[str, str]:
    """While the team asks for labels, a download of an AI take's result is its labelled copy,
    never the provider's bytes; a copy not made yet is asked for (the worker makes it)."""
    take_label_request(take=take)
    return labelled_download(take)


def _not_labelled_yet(why: str) -> HttpResponse:
    # 409: the file exists but cannot be handed out in its present state; the words say why.
    if why.endswith("being made."):
        why += " Try again in a moment."
    return HttpResponse(f"{why}\n", status=409, content_type="text/plain; charset=utf-8")


def _serve(
    request: HttpRequest, obj: Any, variant: str, *, as_attachment: bool, suffix: str = ""
) -> HttpResponseBase:
    field: Any = None
    if isinstance(obj, CutRender):  # its joins' pictures are named in its seams, not fields
        field = obj.stored(variant)
    elif obj is not None:
        field = getattr(obj, variant, None)
    # A bucket is not asked first (a round trip per request): a missing object is the bucket's
    # 404 at the presigned address.
    if not field or (not is_remote(field.storage) and not field.storage.exists(field.name)):
        raise Http404("This file is not available (yet).")
    return serve_file(
        request,
        field,
        content_type=obj.content_type(variant),
        download_name=download_name(obj, variant, field.name, suffix=suffix),
        as_attachment=as_attachment,
    )


def download_name(obj: object, variant: str, stored: str, *, suffix: str = "") -> str:
    """The name every download of a stored file gets (studio.core.filenames keeps it safe):
    a take's files `<clip>_v3_00-21-03_00-30-00_s410388421[-sbs].mp4` (Take.download_stem),
    a render's `<clip>-<cut>-v2[-poster].jpg`, a clip's source its original name and its other
    files `<clip>-preview.mp4` and the like."""
    ext = PurePosixPath(stored).suffix
    if stem := getattr(obj, "download_stem", ""):  # takes and renders
        label = "" if variant in ("file", "result") else SUFFIXES.get(variant, f"-{variant}")
        return file_name(f"{stem}{label}{suffix}", ext)
    owner = getattr(obj, "clip", None) or obj  # inputs are named after their clip
    original = getattr(owner, "original_name", "") or "file"
    stem = safe_stem(PurePosixPath(original).stem)
    if variant in ("source", "image") and PurePosixPath(original).suffix.lower() == ext.lower():
        return file_name(stem, ext)
    return file_name(f"{stem}{SUFFIXES.get(variant, '-' + variant)}", ext)


@require_safe
def provider_media(request: HttpRequest, token: str) -> HttpResponseBase:
    """Input files for the provider to fetch (MODELLIX_MEDIA_MODE=url): a signed, expiring link.

    The link names one file and works for 24 hours; anything else is a plain 404.
    """
    spec = signed_media_spec(token)
    if spec is None:
        raise Http404("No such file.")
    kind, code, variant = spec["kind"], spec["code"], spec["variant"]
    if kind not in MEDIA or variant not in MEDIA[kind][2]:
        raise Http404("No such file.")
    return _serve(request, MEDIA[kind][0].filter(code=code).first(), variant, as_attachment=False)
