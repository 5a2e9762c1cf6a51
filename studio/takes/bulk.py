"""The gallery's bulk actions on several takes at once: download them as one zip, set their
review status, star or unstar them, move them to the team trash (docs/review.md "The gallery").

Each action takes only the team's takes the person may see (codes of other teams' takes, or of
takes that are gone, are refused like the ones that do not exist) and says in words what it
did and what it could not do and why: "2 takes changed; 1 could not be: …".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.db.models.fields.files import FieldFile
from zipstream import ZIP_STORED, ZipStream

from accounts.models import Membership, Team, User
from studio.core.errors import Refused
from studio.models import ReviewStatus, Take, TakeState
from studio.review.comments import take_review_set
from studio.storage.files import STORAGE_ERRORS
from studio.storage.services import stored_chunks
from studio.takes.gallery import take_star
from studio.takes.labelled import labelled_download, take_label_request
from studio.takes.trash import take_trash

MOST = 100  # takes one bulk action handles: a few pages' worth
NOT_FOUND = "not found (deleted, or not one of this team's takes)"
VIEWERS_CANNOT = "viewers cannot set a review status"
NO_VIDEO = "it has no finished video to download"
GONE = "its video is no longer stored"
LABELLING = "its copy with the “AI-generated” label is not ready yet (download it again shortly)"
STILL_MADE = "still being made: cancel it first, or wait until it finishes"
VIEWERS_CANNOT_DELETE = "viewers cannot delete takes"


@dataclass
class Outcome:
    """What a bulk action did: the takes it changed (or packed) and the ones it refused, each
    named as the gallery names it, with the reason."""

    done: list[Take] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self, did: str) -> str:
        """ "3 takes set to Approved." or "2 takes changed; 1 could not be: pier.mp4 v3 (…)." """
        n = len(self.done)
        if not self.refused:
            return f"{n} take{'s' if n != 1 else ''} {did}."
        changed = f"{n} take{'s' if n != 1 else ''} changed" if n else "No take changed"
        return f"{changed}; {len(self.refused)} could not be: {self.reasons()}."

    def reasons(self) -> str:
        """The refusals grouped by reason: "viewers cannot … (pier.mp4 v1, pier.mp4 v2)"."""
        grouped: dict[str, list[str]] = {}
        for name, reason in self.refused:
            grouped.setdefault(reason, []).append(name)
        return "; ".join(f"{reason} ({', '.join(names)})" for reason, names in grouped.items())


def bulk_takes(*, team: Team, codes: list[str]) -> Outcome:
    """The team's takes with these codes, in the order asked; unknown codes refused."""
    wanted = list(dict.fromkeys(code for code in codes if code))[:MOST]
    found = {
        take.code: take
        for take in Take.objects.kept()
        .filter(project__team=team, code__in=wanted)
        .select_related("project__team", "clip")
    }
    outcome = Outcome()
    for code in wanted:
        if code in found:
            outcome.done.append(found[code])
        else:
            outcome.refused.append((code, NOT_FOUND))
    return outcome


def takes_review_set(*, takes: Outcome, status: str, user: User, membership: Membership) -> Outcome:
    """Set the review status of each take through the take's own review service (its rules,
    its line in the team history); viewers may not."""
    if status not in ReviewStatus.values:
        raise Refused("Choose a review status from the list.")
    outcome = Outcome(refused=list(takes.refused))
    for take in takes.done:
        if not membership.can_edit:
            outcome.refused.append((take.list_name, VIEWERS_CANNOT))
            continue
        try:
            take_review_set(take=take, status=status, user=user)
        except Refused as refused:
            outcome.refused.append((take.list_name, str(refused).rstrip(".")))
        else:
            outcome.done.append(take)
    return outcome


def takes_star(*, takes: Outcome, user: User, starred: bool) -> Outcome:
    """Star (or unstar) each take for this person: anyone who may see a take may star it."""
    for take in takes.done:
        take_star(take=take, user=user, starred=starred)
    return takes


def takes_to_trash(*, takes: Outcome, user: User, membership: Membership) -> Outcome:
    """Move each take to the team trash (restorable for 30 days) through the trash's own
    service; a take still being made, or a viewer's request, is refused with the reason."""
    outcome = Outcome(refused=list(takes.refused))
    for take in takes.done:
        if not membership.can_edit:
            outcome.refused.append((take.list_name, VIEWERS_CANNOT_DELETE))
            continue
        if take.is_active:
            outcome.refused.append((take.list_name, STILL_MADE))
            continue
        try:
            take_trash(take, user)
        except Refused as refused:
            outcome.refused.append((take.list_name, str(refused).rstrip(".")))
        else:
            outcome.done.append(take)
    return outcome


def take_zip_name(take: Take) -> str:
    """The take's file in a bulk download: the name it downloads under on its own
    (`Take.download_stem`: clip, version, window and seed), with its file's extension."""
    suffix = PurePosixPath(take.result.name or "").suffix.lower()
    suffix = suffix if suffix[1:].isalnum() else ".mp4"
    return f"{take.download_stem}{suffix}"


def takes_zip(*, takes: Outcome) -> tuple[ZipStream, Outcome]:
    """The finished takes' videos as one zip (stored, not compressed: video does not shrink),
    read from the storage file by file as the zip is sent, and what it packed and left out.
    Refused when no take has a video; the ones left out are listed in `not-included.txt`."""
    outcome = Outcome(refused=list(takes.refused))
    files: list[tuple[str, FieldFile, int]] = []
    used: set[str] = set()
    for take in takes.done:
        if take.state != TakeState.SUCCEEDED or not take.result.name:
            outcome.refused.append((take.list_name, NO_VIDEO))
            continue
        # While the team asks for labels, an AI take is packed as its labelled copy, never the
        # provider's bytes; one not made yet is asked for and left out, saying why.
        take_label_request(take=take)
        variant, why = labelled_download(take)
        if why:
            failed = take.labelled_state == "failed"
            outcome.refused.append((take.list_name, why.rstrip(".") if failed else LABELLING))
            continue
        stored: FieldFile = getattr(take, variant)
        try:
            size = stored.storage.size(stored.name or "")
        except (FileNotFoundError, *STORAGE_ERRORS):
            outcome.refused.append((take.list_name, GONE))
            continue
        name = take_zip_name(take)
        stem, suffix = name.rsplit(".", 1)
        n = 1
        while name in used:  # two clips of the same name in two projects
            n += 1
            name = f"{stem}-{n}.{suffix}"
        used.add(name)
        files.append((name, stored, size))
        outcome.done.append(take)
    if not files:
        raise Refused(f"Nothing to download: {outcome.reasons()}.")
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    for name, stored, size in files:
        stream.add(stored_chunks(stored), name, size=size)
    if outcome.refused:
        stream.add(f"Not included: {outcome.reasons()}.\n".encode(), "not-included.txt")
    return stream, outcome
