"""Verify anything: a team's verify page, the public /verify/ page, and the Content credentials
panel of take and render pages.

An uploaded file streams into the scratch folder (studio.library.uploads.CappedUploadHandler,
capped at the upload limit), is read there, and is removed whatever happens: nothing of it is
kept, on either page.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from accounts.access import get_team_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.limits import hit
from accounts.services import team_switch
from studio.cuts.access import render_for
from studio.library.uploads import too_large_message, upload_problem
from studio.models import CutRender, RenderState, Take, TakeState
from studio.provenance.identity import IdentityError, signing_identity
from studio.provenance.matches import team_files_matching
from studio.provenance.reading import (
    BEFORE_CREDENTIALS,
    Reading,
    VerifyRefused,
    reading_of_file,
    reading_of_stored,
)
from studio.provenance.state import CredentialsState
from studio.storage.files import CHUNK, safe_display_name, scratch_dir
from studio.takes.access import take_for

# Reading a file hashes all of it: a few a minute per address is plenty for people, and keeps
# one address from keeping the web processes busy. Counted by accounts.limits (django-ratelimit).
PUBLIC_RATE = (10, 10 * 60)
PUBLIC_HEADERS = {"X-Robots-Tag": "noindex, nofollow", "Cache-Control": "private, no-store"}


@dataclass
class Outcome:
    """What reading an upload came to: a reading, or a refusal in words with its status."""

    reading: Reading | None = None
    error: str = ""
    status: int = 200
    name: str = ""
    sha256: str = ""
    size: int = 0


@contextmanager
def _upload_on_disk(upload: UploadedFile) -> Iterator[Path]:
    """The upload's file in the scratch folder: where the upload handler streamed it, or (with
    a handler that kept it in memory) a copy there. Removed on the way out in any case."""
    try:
        if hasattr(upload, "temporary_file_path"):
            yield Path(upload.temporary_file_path())
            return
        with scratch_dir() as folder:
            path = folder / "upload"
            with path.open("wb") as copy:
                shutil.copyfileobj(upload, copy, CHUNK)
            yield path
    finally:
        upload.close()  # a temporary upload is deleted when closed


def _read_upload(request: HttpRequest) -> Outcome:
    outcome = Outcome()
    try:
        files = request.FILES  # reads the body: the upload handler streams the file in now
        # CappedUploadHandler stopped the upload at the cap, or the scratch folder could not
        # hold it; either way nothing of it is left.
        if getattr(request, "upload_too_large", False):
            outcome.error, outcome.status = too_large_message(), 413
            return outcome
        if (failed := getattr(request, "upload_failed", None)) is not None:
            error, name = failed
            shown = safe_display_name(name or "", "the file")
            outcome.error = upload_problem(error, where="temporary", name=shown)
            outcome.status = 503
            return outcome
        upload = files.get("file")
        if upload is None:
            # The form again, saying what is missing (nothing was sent to read).
            outcome.error = "Choose a video to verify."
            return outcome
        outcome.name = safe_display_name(upload.name or "", "upload")
        outcome.size = upload.size or 0
        with _upload_on_disk(upload) as path:
            outcome.sha256 = getattr(upload, "sha256", "") or _sha256(path)
            try:
                outcome.reading = reading_of_file(path)
                if outcome.reading.state == "unreadable":
                    outcome.status = 422
            except VerifyRefused as refused:
                outcome.error, outcome.status = str(refused), 415
        return outcome
    finally:
        for uploads in request.FILES.lists():
            for upload in uploads[1]:
                upload.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reading:
        while chunk := reading.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    try:
        identity = signing_identity()
        own, signer = identity.own, identity.common_name
    except IdentityError:
        own, signer = True, ""
    context |= {
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
        "own_identity": own,
        "signer_name": signer,
    }
    return render(request, "provenance/verify.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def team_verify(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Any member drops a video and reads its credentials back, with links to the team's
    takes and renders that are this very file."""
    membership = get_team_for_user(request.user, code)
    team_switch(user=request.user, team=membership.team)  # the navigation follows the page
    context: dict[str, Any] = {"team": membership.team, "public": False}
    if request.method != "POST":
        return _page(request, context)
    outcome = _read_upload(request)
    matches = []
    if outcome.reading is not None:
        matches = team_files_matching(
            team=membership.team, sha256=outcome.sha256, size=outcome.size
        )
    context |= {"outcome": outcome, "matches": matches}
    return _page(request, context, outcome.status)


@require_http_methods(["GET", "HEAD", "POST"])
def public_verify(request: HttpRequest) -> HttpResponse:
    """Anyone reads a video's credentials: rate-limited per address, and it names only what the
    file's own credentials say (never a team's takes)."""
    context: dict[str, Any] = {"public": True}
    if request.method != "POST":
        response = _page(request, context)
    elif (usage := hit(request, group="verify", rate=PUBLIC_RATE)).limited:
        for uploads in request.FILES.lists():
            for upload in uploads[1]:
                upload.close()
        context["limited_minutes"] = usage.minutes
        response = _page(request, context, 429)
        response["Retry-After"] = str(usage.retry_after)
    else:
        outcome = _read_upload(request)
        response = _page(request, context | {"outcome": outcome}, outcome.status)
    for header, value in PUBLIC_HEADERS.items():
        response[header] = value
    return response


def _panel(
    request: HttpRequest, reading: Reading, made: Take | CutRender, context: dict[str, Any]
) -> HttpResponse:
    """A stored file without credentials says why: signing failed (the reason its page shows
    beside "Sign again"), else it was made before Cutroom signed its results."""
    none_words = BEFORE_CREDENTIALS
    if made.credentials == CredentialsState.MISSING and made.credentials_reason:
        none_words = f"No content credentials: {made.credentials_reason}"
    return render(
        request,
        "provenance/credentials_page.html",
        {"reading": reading, "none_words": none_words, **context},
    )


@login_required
@require_safe
def take_credentials(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The take page's Content credentials panel (fetched after the page: reading validates
    the whole file), or a page of its own without JavaScript."""
    take, _ = take_for(request, code, trashed=True)
    if take.state != TakeState.SUCCEEDED or not take.result:
        reading = Reading("unreadable", problem="This take has no result yet: nothing to read.")
    else:
        reading = reading_of_stored(take.result)
    return _panel(request, reading, take, {"take": take, "project": take.project})


@login_required
@require_safe
def render_credentials(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    made, _ = render_for(request, code, number)
    if made.state != RenderState.READY or not made.file:
        reading = Reading("unreadable", problem="This render has no file yet: nothing to read.")
    else:
        reading = reading_of_stored(made.file)
    return _panel(request, reading, made, {"render": made, "project": made.cut.project})
