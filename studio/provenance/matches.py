"""Which of a team's files a dropped video is, byte for byte: its takes' results and its cuts'
renders, found by SHA-256 (for the team's own verify page only; the public one names nothing)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.urls import reverse

from accounts.models import Team
from studio.models import CutRender, RenderState, Take, TakeState
from studio.storage.files import STORAGE_ERRORS
from studio.storage.services import stored_chunks

# Renders keep their size but not their hash: those of the same size are hashed to be sure.
# Two renders of exactly one size are rare; this bounds the work when they are not.
RENDERS_HASHED = 5


@dataclass(frozen=True)
class Match:
    label: str
    url: str


def _take_label(take: Take) -> str:
    version = f"{take.version_label} " if take.version_label else ""
    clip = f" of {take.clip.original_name}" if take.clip else ""
    title = take.title or take.prompt
    return f"Take {version}{clip}: {title[:60]}".replace("  ", " ")


def team_files_matching(*, team: Team, sha256: str, size: int) -> list[Match]:
    """The team's takes and renders whose stored file has exactly these bytes."""
    takes = (
        Take.objects.kept()
        .filter(project__team=team, state=TakeState.SUCCEEDED, result_sha256=sha256)
        .select_related("clip")
        .order_by("-created_at")
    )
    found = [Match(_take_label(take), reverse("take_detail", args=[take.code])) for take in takes]
    renders = (
        CutRender.objects.filter(cut__project__team=team, state=RenderState.READY, size=size)
        .exclude(file="")
        .select_related("cut")
        .order_by("-created_at")[:RENDERS_HASHED]
    )
    for made in renders:
        if _hash_of(made) == sha256:
            url = reverse("render_detail", args=[made.cut.code, made.number])
            found.append(Match(f"Cut {made.cut.name} v{made.number}", url))
    return found


def _hash_of(made: CutRender) -> str:
    digest = hashlib.sha256()
    try:
        for chunk in stored_chunks(made.file):
            digest.update(chunk)
    except STORAGE_ERRORS:
        return ""
    return digest.hexdigest()
