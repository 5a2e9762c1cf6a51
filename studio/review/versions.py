"""Version stacks and variation grids (docs/review.md "Approvals, version stacks and the
variation grid").

A clip's takes are its versions, numbered v1, v2, ... in the order they were made, whatever
their state (Take.version): the numbers never change and are never given twice. Each version
says where it came from (its lineage: run again, remix or variation of which version, from
Take.run_of) and which parameters differ from that parent: a take made from the form has none
("New take: no parent"), and a parent that was deleted is said to be. A grid plays 2-4
versions of one clip side by side: the takes of one "Variations" (a batch), or takes chosen
from the stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from studio.core.errors import Refused
from studio.core.formatting import seconds
from studio.models import Clip, Lineage, ReviewStatus, Take, TakeReference, TakeState
from studio.providers.catalogue import about
from studio.review.comments import comment_counts
from studio.takes.parameters import EditParameters

STACK_LIMIT = 200  # the newest versions a clip page lists
GRID_MIN, GRID_MAX = 2, 4
CHOOSE_FOR_GRID = f"Choose {GRID_MIN} to {GRID_MAX} takes of this clip to play in a grid."
NOT_OF_THIS_CLIP = "Only takes of this clip can play in its grid."
PROMPT_SHOWN = 80  # characters of a prompt shown in a difference


@dataclass(frozen=True)
class Change:
    """One parameter that differs from the parent version, as people read it."""

    label: str
    before: str
    after: str


@dataclass
class Version:
    take: Take
    number: int
    lineage: str = ""  # "variation of v1"; "" for a take made from the form
    came_from: str = ""  # the code of the take it came from, when that is a version here
    came_from_number: int = 0
    # What the changes are measured against: "parent" (the take it came from: `parent_label`),
    # "none" (a new take), "deleted" (its parent was deleted) or "unavailable" (not listable).
    parent: str = "none"
    parent_label: str = ""
    changes: list[Change] = field(default_factory=list)
    comments_open: int = 0
    comments_all: int = 0

    @property
    def label(self) -> str:
        return f"v{self.number}"

    @property
    def approved(self) -> bool:
        return self.take.review_status == ReviewStatus.APPROVED


Index = dict[int, tuple[int, str]]


def version_index(clip: Clip) -> Index:
    """Every take of the clip, by primary key: its version number and its code. The number is
    the one the take was given (Take.version); rows written without one (bulk inserts) count
    in the order they were made."""
    rows = (
        Take.objects.filter(clip=clip)
        .order_by("created_at", "pk")
        .values_list("pk", "version", "code")
    )
    return {
        pk: (version or counted, code) for counted, (pk, version, code) in enumerate(rows, start=1)
    }


def version_number(take: Take) -> int:
    """The take's version number among its clip's takes (0 without a clip)."""
    if take.clip_id is None:
        return 0
    if take.version:
        return take.version
    earlier = Take.objects.filter(clip_id=take.clip_id, created_at__lt=take.created_at).count()
    same_time = Take.objects.filter(
        clip_id=take.clip_id, created_at=take.created_at, pk__lte=take.pk
    ).count()
    return earlier + same_time


def version_stack(*, clip: Clip, limit: int = STACK_LIMIT) -> tuple[list[Version], int]:
    """The clip's newest `limit` versions, oldest first, each with what it changed from the
    take it came from, and how many versions the clip has."""
    index = version_index(clip)
    newest = list(
        Take.objects.kept()
        .filter(clip=clip)
        .select_related("clip", "created_by", "review_changed_by")
        .order_by("-created_at", "-pk")[:limit]
    )
    takes = newest[::-1]
    parents = _parents(clip, takes)
    references = _references([*takes, *parents.values()])
    counts = comment_counts(takes)
    versions = []
    for take in takes:
        version = _version(take, index)
        parent_diff(version, parents, references)
        version.comments_open, version.comments_all = counts.get(take.pk, (0, 0))
        versions.append(version)
    # Numbers stay as they were given (a trashed take keeps its own); the count is what shows.
    return versions, Take.objects.kept().filter(clip=clip).count()


def _parents(clip: Clip, takes: list[Take]) -> dict[int, Take]:
    """The takes these came from, by primary key: the ones listed, and in one more query the
    others of the team (older than the stack shows, or of another clip)."""
    found = {take.pk: take for take in takes}
    wanted = {take.run_of_id for take in takes if take.run_of_id} - found.keys()
    if wanted:
        rows = Take.objects.kept().filter(pk__in=wanted, project__team_id=clip.project.team_id)
        found |= {take.pk: take for take in rows.select_related("clip")}
    return found


def parent_diff(
    version: Version, parents: dict[int, Take], references: dict[int, list[str]]
) -> None:
    """Set what `version` changed from its parent, and which parent that is."""
    take = version.take
    if take.run_of_id is None:
        version.parent = "deleted" if take.lineage else "none"
        return
    parent = parents.get(take.run_of_id)
    if parent is None:
        version.parent = "unavailable"
        return
    version.parent = "parent"
    same_clip = parent.clip_id == take.clip_id
    version.parent_label = (
        parent.version_label if same_clip and parent.version else parent.list_name
    )
    version.changes = parameter_changes(
        parent, take, references.get(parent.pk, []), references.get(take.pk, [])
    )


def _version(take: Take, index: Index) -> Version:
    version = Version(take=take, number=index.get(take.pk, (0, ""))[0])
    version.lineage = lineage_of(take, index)
    if take.run_of_id in index:
        version.came_from_number, version.came_from = index[take.run_of_id]
    return version


def lineage_of(take: Take, index: Index) -> str:
    """How `take` came from another version: "run again of v2", "remix of v3"..."""
    kind = Lineage(take.lineage).label.lower() if take.lineage else "made from"
    if take.run_of_id is None:
        return f"{kind} of a deleted take" if take.lineage else ""
    if take.run_of_id not in index:
        return f"{kind} of a take of another clip"
    return f"{kind} of v{index[take.run_of_id][0]}"


def _references(takes: Iterable[Take]) -> dict[int, list[str]]:
    """Each take's reference images by name, in the order they were sent."""
    found: dict[int, list[str]] = {}
    rows = (
        TakeReference.objects.filter(take__in=list(takes))
        .select_related("reference")
        .order_by("take_id", "position")
    )
    for row in rows:
        found.setdefault(row.take_id, []).append(row.reference.original_name)
    return found


def _shown(name: str, value: Any) -> str:
    how = EditParameters.declared()[name].metadata["declared"]
    if how.choices:
        return str(dict(how.choices).get(value, value))
    if isinstance(value, bool):
        return "on" if value else "off"
    if value in ("", None):
        return "none"
    text = " ".join(str(value).split())
    return text if len(text) <= PROMPT_SHOWN else text[: PROMPT_SHOWN - 1] + "…"


def _part(take: Take) -> str:
    return f"{seconds(take.start_ms / 1000)} + {seconds(take.length_ms / 1000)}"


def parameter_changes(
    before: Take, after: Take, refs_before: list[str], refs_after: list[str]
) -> list[Change]:
    """What `after` asked differently from `before`: every parameter of the edit, the part of
    the clip, the reference images and the engine."""
    changes = []
    for name, spec in EditParameters.declared().items():
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            label = spec.metadata["declared"].short
            changes.append(Change(label, _shown(name, old), _shown(name, new)))
    if (before.start_ms, before.length_ms) != (after.start_ms, after.length_ms):
        changes.append(Change("Part of the clip", _part(before), _part(after)))
    if refs_before != refs_after:
        changes.append(
            Change("References", ", ".join(refs_before) or "none", ", ".join(refs_after) or "none")
        )
    if before.provider != after.provider:
        changes.append(Change("Engine", about(before.provider).label, about(after.provider).label))
    return changes


# -- the variation grid ----------------------------------------------------------------------
def grid_versions(*, clip: Clip, codes: list[str], batch: str = "") -> list[Version]:
    """The versions a grid plays: the takes of one variation set (`batch`), or 2-4 takes of
    this clip chosen by code. Refused, with the reason, for anything else; a take of another
    clip (or team) is refused like one that does not exist."""
    if batch:
        if codes:
            raise Refused("Open one variation set, or choose takes from the stack, not both.")
        takes = list(Take.objects.kept().filter(clip=clip, batch=batch)[: GRID_MAX + 1])
        if not takes:
            raise Refused("This variation set is not one of this clip's.")
        if len(takes) > GRID_MAX:
            raise Refused(CHOOSE_FOR_GRID)
    else:
        wanted = list(dict.fromkeys(code for code in codes if code))
        if not GRID_MIN <= len(wanted) <= GRID_MAX:
            raise Refused(CHOOSE_FOR_GRID)
        takes = list(Take.objects.kept().filter(clip=clip, code__in=wanted))
        if len(takes) != len(wanted):
            raise Refused(NOT_OF_THIS_CLIP)
    return versions_of(clip, takes)


def versions_of(clip: Clip, takes: list[Take]) -> list[Version]:
    """These takes of `clip` as versions, in version order."""
    index = version_index(clip)
    versions = [_version(take, index) for take in takes]
    return sorted(versions, key=lambda version: version.number)


def compare_pair(*, clip: Clip, codes: list[str]) -> tuple[Take, Take]:
    """Two finished takes of this clip to compare: (the older, the newer)."""
    wanted = list(dict.fromkeys(code for code in codes if code))
    if len(wanted) != 2:
        raise Refused("Choose exactly two takes of this clip to compare.")
    takes = list(
        Take.objects.kept().filter(clip=clip, code__in=wanted).order_by("created_at", "pk")
    )
    if len(takes) != 2:
        raise Refused("Only takes of this clip can be compared here.")
    if any(take.state != TakeState.SUCCEEDED for take in takes):
        raise Refused("Both takes must be done to be compared: choose two that are done.")
    return takes[0], takes[1]


def take_parent_version(take: Take) -> Version:
    """The take as a version with what it changed from its parent, for its own page."""
    version = Version(take=take, number=version_number(take))
    parents: dict[int, Take] = {}
    if take.run_of_id is not None:
        parent = (
            Take.objects.filter(pk=take.run_of_id, project__team_id=take.project.team_id)
            .select_related("clip")
            .first()
        )
        if parent is not None:
            parents[parent.pk] = parent
            version.came_from = parent.code
    parent_diff(version, parents, _references([take, *parents.values()]))
    if take.lineage:
        version.lineage = Lineage(take.lineage).label.lower()
    return version
