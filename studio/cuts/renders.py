"""Rendering a cut: ask for a render (what it will use is fixed then), and the worker's step.

The step works as every other step does: a compare-and-set claim with the steps' lease
(STUDIO_TAKE_LEASE_SECONDS) that a heartbeat renews while the render runs, counted attempts, the
repairs sending a render whose worker died to the queue again (the active scheduler within
seconds of its lease running out, the minute sweep as well), and a final state with a reason a
person can act on. The file is written to scratch and stored in one go, so a render never
leaves a partial file in the storage; a render taken over removes the scratch its dead worker
left on this host.
"""

from __future__ import annotations

import logging
import posixpath
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from studio.core.errors import Refused
from studio.core.heartbeat import beating
from studio.cuts.credentials import render_manifest_for
from studio.cuts.models import Cut, CutRender, CutWindow, RenderState
from studio.media.cut import CutRefused, CutReport, Splice, cut_render
from studio.media.probe import MediaRejected, probe
from studio.media.transcode import make_poster
from studio.models import TakeState
from studio.projects.history import activity_log
from studio.provenance.signing import sign_or_keep
from studio.provenance.state import credentials_fields
from studio.storage.files import (
    STORAGE_ERRORS,
    bucket_error,
    delete_files,
    local_copy,
    remove_empty_folder,
    scratch_dir,
    scratch_remove_dead,
    store_file,
    store_path,
)
from studio.takes.common import storage_problem

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
LOST_AFTER = timedelta(minutes=3)  # a task waiting this long has probably been lost
TASK = "studio.tasks.render_cut"
RENDER_AGAIN = "then press Render again"


def cut_render_request(*, cut: Cut, author: User, source_where_missing: bool = False) -> CutRender:
    """Queue a render of the cut as it is now. Every window needs a chosen take, unless the
    person says to keep the source where there is none: never silently."""
    windows = list(cut.windows.select_related("chosen"))
    if not windows:
        raise Refused("This cut has no windows yet: split the clip into windows first.")
    plan = cut_plan(cut, windows)
    missing = plan["source_kept"]
    if missing and not source_where_missing:
        which = ", ".join(str(n) for n in missing)
        raise Refused(
            f"Window{'s' if len(missing) > 1 else ''} {which} ha{'ve' if len(missing) > 1 else 's'}"
            " no finished take chosen. Choose one, or tick “Keep the source where a window has "
            "no take” to render the source there."
        )
    if len(missing) == len(windows):
        raise Refused("No window has a finished take chosen: the render would be the source.")
    with transaction.atomic():
        number = cut.render_number_take()
        render = CutRender.objects.create(cut=cut, number=number, plan=plan, created_by=author)
        transaction.on_commit(partial(_enqueue, render.pk))
    return render


def cut_plan(cut: Cut, windows: list[CutWindow] | None = None) -> dict[str, Any]:
    """The cut as it stands, as a render records it: each window with a finished chosen take
    (where it falls in the take), the numbers of the windows that keep the source, the blend."""
    if windows is None:
        windows = list(cut.windows.select_related("chosen"))
    return {
        "crossfade_frames": cut.crossfade_frames,
        # Edges on these get no blend (the source cuts hard there): kept with the render, so
        # it renders the same after the clip's shot cuts are detected again.
        "shot_cuts": list(cut.clip.shot_cuts or []),
        "windows": [_planned(w) for w in windows if _usable(w)],
        "source_kept": [n for n, w in enumerate(windows, start=1) if not _usable(w)],
    }


def plan_changes(before: dict[str, Any], now: dict[str, Any], step: float) -> list[str]:
    """What differs between an earlier render's plan and the cut as it stands, in words a
    person reads beside the button that renders again (times as seconds, windows by their
    place now)."""
    if not before:
        return []

    def span(window: dict[str, Any]) -> str:
        return f"{float(window['start']):.2f}–{float(window['end']):.2f} s"

    def same_place(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return abs(a["start"] - b["start"]) < step / 2 and abs(a["end"] - b["end"]) < step / 2

    old = {w.get("window"): w for w in before.get("windows", ())}
    changes: list[str] = []
    for window in now.get("windows", ()):
        earlier = old.pop(window.get("window"), None)
        where = span(window)
        if earlier is None:
            changes.append(f"The window at {where} is new to the cut.")
            continue
        if not same_place(earlier, window):
            changes.append(f"A window moved from {span(earlier)} to {where}.")
        if earlier["take"] != window["take"]:
            changes.append(f"The window at {where} uses another take.")
        if bool(earlier.get("colour_match")) != bool(window.get("colour_match")):
            state = "on" if window.get("colour_match") else "off"
            changes.append(f"Colour matching is {state} for the window at {where}.")
        if bool(earlier.get("take_sound")) != bool(window.get("take_sound")):
            sound = "the take's" if window.get("take_sound") else "the clip's"
            changes.append(f"The window at {where} now has {sound} sound.")
    changes += [f"The window at {span(w)} is no longer edited." for w in old.values()]
    if before.get("crossfade_frames") != now.get("crossfade_frames"):
        changes.append(
            f"Crossfades are {now.get('crossfade_frames')} frames "
            f"(were {before.get('crossfade_frames')})."
        )
    return changes


def _usable(window: CutWindow) -> bool:
    take = window.chosen
    # A chosen take in the trash is not rendered: the window keeps the source until it is back.
    return (
        take is not None
        and take.state == TakeState.SUCCEEDED
        and bool(take.result)
        and not take.is_trashed
    )


def _planned(window: CutWindow) -> dict[str, Any]:
    take = window.chosen
    if take is None:
        raise ValueError("only windows with a chosen take are planned")
    # Where the window falls in the take: its request began that far ahead of the window (its
    # handle), and ran on after it by its other handle.
    offset = max(0.0, window.start - take.start_ms / 1000)
    after = max(0.0, take.start_ms / 1000 + take.length_ms / 1000 - window.end)
    return {
        "window": window.pk,
        "start": window.start,
        "end": window.end,
        "take": take.code,
        "take_offset": round(offset, 6),
        "handle_after": round(after, 6),
        "take_sound": window.take_sound,
        "colour_match": window.colour_match,
    }


def _enqueue(pk: int) -> None:
    async_task(TASK, pk, task_name=f"{TASK}:{pk}")


def cut_render_run(render_id: int) -> None:
    """The worker's step: render, store, record. Safe to run twice."""
    # Read now, not at import: the one lease of every step, which a deployment (or a test) sets.
    lease = settings.TAKE_LEASE
    render = CutRender.claim(render_id, lease)
    if render is None:
        return
    if render.attempts > 1:
        # Taken over from a worker that died (or gave up): what it was writing is in its
        # scratch, removed now rather than by the next sweep when it died on this host. What
        # cannot be removed is the sweep's to try again; it does not stop this render.
        try:
            scratch_remove_dead()
        except OSError:
            log.warning("render %s: dead workers' scratch not removed", render.pk, exc_info=True)
    if render.attempts > MAX_ATTEMPTS:
        render.finish(
            RenderState.FAILED,
            f"Rendering failed {MAX_ATTEMPTS} times, so Cutroom stopped trying; {RENDER_AGAIN}.",
        )
        return

    def renew() -> bool:
        return render.renew_lease(lease)

    try:
        with beating(renew, every=lease.total_seconds() / 4, name=f"cutroom-render-{render.pk}"):
            report, stored = _render(render)
    except (CutRefused, MediaRejected) as refused:
        render.finish(RenderState.FAILED, f"{refused.message} Nothing was stored.")
        return
    except OSError as error:
        render.finish(RenderState.FAILED, storage_problem(error, "press Render again"))
        return
    except STORAGE_ERRORS as error:  # the bucket: unreachable, gone, or refusing
        log.warning("render %s of cut %s: the bucket failed: %r", render.pk, render.cut_id, error)
        render.finish(
            RenderState.FAILED,
            f"Cutroom could not reach its storage bucket during the render "
            f"({bucket_error(error)}), so nothing of it was stored. Check that the bucket "
            f"can be reached (or ask an administrator to), {RENDER_AGAIN}.",
        )
        return
    except Exception as error:
        log.exception("render %s of cut %s failed", render.pk, render.cut_id)
        if render.attempts >= MAX_ATTEMPTS:
            render.finish(
                RenderState.FAILED,
                f"Cutroom hit an internal error while rendering ({type(error).__name__}); "
                f"{RENDER_AGAIN}.",
            )
        else:  # the sweep gives it another go
            render.requeue()
        return
    seams = [
        {
            "window": seam.window,
            "edge": seam.edge,
            "at": round(seam.at, 6),
            "score": round(seam.score, 2),
            "source_step": round(seam.source_step, 2),
            "flagged": seam.flagged,
            **pictures,
        }
        for seam, pictures in zip(report.seams, stored.seams, strict=True)
    ]
    # When another worker took the render over meanwhile this finish changes nothing, and what
    # this one stored is not deleted here: the other clears the render's folder before it
    # stores, and a name this one used may by then be that worker's own file.
    finished = render.finish(
        RenderState.READY,
        file=stored.file,
        poster=stored.poster,
        size=stored.size,
        duration=report.duration,
        frames=report.frames,
        seams=seams,
        **stored.credentials,
        ai_labelled=stored.labelled,
    )
    if finished:  # once, by the worker that stored it: the team history says who rendered it
        project = render.cut.project
        activity_log(
            team=project.team,
            actor=render.created_by,
            verb="rendered",
            summary=f"rendered {render.title}",
            project=project,
            render=render,
        )


@dataclass
class Stored:
    """The names a render's files were stored under."""

    file: str = ""
    poster: str = ""
    seams: list[dict[str, str]] = field(default_factory=list)  # per join: before, after
    names: list[str] = field(default_factory=list)  # all of them, in the order stored
    size: int = 0  # the stored video's, signed or not
    credentials: dict[str, Any] = field(default_factory=dict)  # how signing it went
    labelled: bool = False  # its AI windows carry the visible label


def _render(render: CutRender) -> tuple[CutReport, Stored]:
    from studio.models import Take

    cut, plan = render.cut, render.plan
    takes = {
        t.code: t
        for t in Take.objects.select_related("project__team").filter(
            code__in=[w["take"] for w in plan["windows"]]
        )
    }

    def progress(fraction: float) -> None:
        CutRender.objects.filter(pk=render.pk, state=RenderState.RENDERING).update(
            progress=round(fraction * 0.98, 3)
        )

    with ExitStack() as stack:
        tmp = stack.enter_context(scratch_dir())
        source = stack.enter_context(local_copy(cut.clip.source))
        splices = []
        for planned in plan["windows"]:
            take = takes.get(planned["take"])
            if take is None or not take.result:
                raise CutRefused(
                    f"The take chosen for the window at {planned['start']:.2f} s is gone."
                )
            path = stack.enter_context(local_copy(take.result))
            splices.append(
                Splice(
                    start=planned["start"],
                    end=planned["end"],
                    take=path,
                    take_offset=planned["take_offset"],
                    take_sound=planned["take_sound"],
                    colour_match=planned["colour_match"],
                    handle_after=planned["handle_after"],
                    ai_label=take.needs_ai_label,  # only over AI windows (studio.media.cut)
                )
            )
        out = tmp / f"{render.download_stem}.mp4"
        report = cut_render(
            source,
            splices,
            out,
            crossfade_frames=plan["crossfade_frames"],
            shot_cuts=tuple(plan.get("shot_cuts", ())),
            progress=progress,
        )
        poster = tmp / "poster.jpg"
        make_poster(out, poster, probe(out, max_seconds=report.duration + 60))
        # Signed after encoding, before storing, in scratch: the signed copy takes the file's
        # place, or it is stored unsigned with the reason (signing never loses a render).
        signed = sign_or_keep(source=out, scratch=tmp, manifest=lambda: render_manifest_for(render))
        if signed.signed:
            signed.path.replace(out)
        stored = _store(render, out, poster, report, tmp)
        stored.size, stored.credentials = out.stat().st_size, credentials_fields(signed)
        stored.labelled = any(splice.ai_label for splice in splices)
        return report, stored


def _store(render: CutRender, out: Path, poster: Path, report: CutReport, tmp: Path) -> Stored:
    """Store the video, its poster and each join's two pictures in the render's own folder,
    all or nothing: a store that fails part-way removes what it had stored."""
    cut = render.cut
    folder = f"cuts/{cut.project.code}/{cut.code}/v{render.number}-{render.code}"
    storage = render.file.storage
    # The folder is this render's alone: what is in it was left by an attempt whose worker died
    # while storing, and would otherwise stay beside this attempt's files for good.
    _clear_folder(storage, folder)
    stored = Stored()
    try:
        store_path(render.file, f"{folder}/{out.name}", out)
        stored.file = render.file.name or ""
        stored.names.append(stored.file)
        store_path(render.poster, f"{folder}/poster.jpg", poster)
        stored.poster = render.poster.name or ""
        stored.names.append(stored.poster)
        for number, seam in enumerate(report.seams, start=1):
            pictures: dict[str, str] = {}
            for side, data in (("before", seam.before), ("after", seam.after)):
                if not data:
                    continue
                picture = tmp / f"join-{number}-{side}.jpg"
                picture.write_bytes(data)
                pictures[side] = store_file(storage, f"{folder}/{picture.name}", picture)
                stored.names.append(pictures[side])
            stored.seams.append(pictures)
    except BaseException:
        _delete_names(stored.names, storage)
        raise
    return stored


def _clear_folder(storage: Storage, folder: str) -> None:
    try:
        _, names = storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    for name in names:
        storage.delete(f"{folder}/{name}")


def _delete_names(names: list[str], storage: Storage) -> None:
    folders = {posixpath.dirname(name) for name in names}
    for name in names:
        try:
            storage.delete(name)
        except STORAGE_ERRORS:
            log.warning("could not remove %s after a failed render", name)
    for folder in folders:
        remove_empty_folder(storage, folder)


def cut_render_delete(*, render: CutRender) -> None:
    """Delete a render: its row, and its video, poster and joins' pictures with their folder;
    with it go its comments and share links. Not while a worker may still store its files."""
    if render.state in (RenderState.QUEUED, RenderState.RENDERING):
        raise Refused(
            f"v{render.number} is still being rendered; delete it once it is ready or has failed."
        )
    delete_files(*render.files())
    render.delete()


def renders_sweep() -> int:
    """Send renders whose task was lost or whose worker died to the queue again; how many.

    Run by the active scheduler every few seconds and by the minute sweep: each render is sent
    once however many of them look at it at the same moment (CutRender.redispatch)."""
    now = timezone.now()
    lost = CutRender.objects.filter(CutRender.needing_task(now, LOST_AFTER))
    count = 0
    for pk in list(lost.values_list("pk", flat=True)):
        if CutRender.redispatch(pk, now, LOST_AFTER):
            _enqueue(pk)
            count += 1
    return count
