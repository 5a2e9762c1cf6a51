"""Rendering a cut: ask for a render (what it will use is fixed then), and the worker's step.

The step works as the clips' preparation does: a compare-and-set claim with a lease that a
heartbeat renews while the render runs, counted attempts, the sweep re-queueing a render whose
worker died, and a final state with a reason a person can act on. The file is written to
scratch and stored in one go, so a render never leaves a partial file in the storage.
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

from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from studio.core.errors import Refused
from studio.core.heartbeat import beating
from studio.cuts.models import Cut, CutRender, CutWindow, RenderState
from studio.media.cut import CutRefused, CutReport, Splice, cut_render
from studio.media.probe import MediaRejected, probe
from studio.media.transcode import make_poster
from studio.models import TakeState
from studio.storage.files import (
    STORAGE_ERRORS,
    delete_files,
    local_copy,
    remove_empty_folder,
    scratch_dir,
    store_file,
    store_path,
)
from studio.takes.common import storage_problem

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 3
LOST_AFTER = timedelta(minutes=3)  # a queued render this old has probably lost its task
TASK = "studio.tasks.render_cut"
RENDER_AGAIN = "then press Render again"


def cut_render_request(*, cut: Cut, author: User, source_where_missing: bool = False) -> CutRender:
    """Queue a render of the cut as it is now. Every window needs a chosen take, unless the
    person says to keep the source where there is none: never silently."""
    windows = list(cut.windows.select_related("chosen"))
    if not windows:
        raise Refused("This cut has no windows yet: split the clip into windows first.")
    missing = [n for n, w in enumerate(windows, start=1) if not _usable(w)]
    if missing and not source_where_missing:
        which = ", ".join(str(n) for n in missing)
        raise Refused(
            f"Window{'s' if len(missing) > 1 else ''} {which} ha{'ve' if len(missing) > 1 else 's'}"
            " no finished take chosen. Choose one, or tick “Keep the source where a window has "
            "no take” to render the source there."
        )
    if len(missing) == len(windows):
        raise Refused("No window has a finished take chosen: the render would be the source.")
    plan: dict[str, Any] = {
        "crossfade_frames": cut.crossfade_frames,
        "windows": [_planned(w) for w in windows if _usable(w)],
        "source_kept": missing,
    }
    for _ in range(3):  # two requests at once may pick the same number: the second tries again
        number = (cut.renders.aggregate(top=Max("number"))["top"] or 0) + 1
        try:
            with transaction.atomic():
                render = CutRender.objects.create(
                    cut=cut, number=number, plan=plan, created_by=author
                )
                transaction.on_commit(partial(_enqueue, render.pk))
            return render
        except IntegrityError:
            continue
    raise Refused("Another render of this cut was asked for at the same moment; try again.")


def _usable(window: CutWindow) -> bool:
    take = window.chosen
    return take is not None and take.state == TakeState.SUCCEEDED and bool(take.result)


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
    render = CutRender.claim(render_id, LEASE)
    if render is None:
        return
    if render.attempts > MAX_ATTEMPTS:
        render.finish(
            RenderState.FAILED,
            f"Rendering failed {MAX_ATTEMPTS} times, so Cutroom stopped trying; {RENDER_AGAIN}.",
        )
        return

    def renew() -> bool:
        return render.renew_lease(LEASE)

    try:
        with beating(renew, every=LEASE.total_seconds() / 4, name=f"cutroom-render-{render.pk}"):
            report, stored = _render(render)
    except (CutRefused, MediaRejected) as refused:
        render.finish(RenderState.FAILED, f"{refused.message} Nothing was stored.")
        return
    except OSError as error:
        render.finish(RenderState.FAILED, storage_problem(error, RENDER_AGAIN))
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
            "flagged": seam.flagged,
            **pictures,
        }
        for seam, pictures in zip(report.seams, stored.seams, strict=True)
    ]
    # When another worker took the render over meanwhile this finish changes nothing, and what
    # this one stored is not deleted here: the other clears the render's folder before it
    # stores, and a name this one used may by then be that worker's own file.
    render.finish(
        RenderState.READY,
        file=stored.file,
        poster=stored.poster,
        size=report.size,
        duration=report.duration,
        frames=report.frames,
        seams=seams,
    )


@dataclass
class Stored:
    """The names a render's files were stored under."""

    file: str = ""
    poster: str = ""
    seams: list[dict[str, str]] = field(default_factory=list)  # per join: before, after
    names: list[str] = field(default_factory=list)  # all of them, in the order stored


def _render(render: CutRender) -> tuple[CutReport, Stored]:
    from studio.models import Take

    cut, plan = render.cut, render.plan
    takes = {t.code: t for t in Take.objects.filter(code__in=[w["take"] for w in plan["windows"]])}

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
                )
            )
        out = tmp / f"{render.download_stem}.mp4"
        report = cut_render(
            source, splices, out, crossfade_frames=plan["crossfade_frames"], progress=progress
        )
        poster = tmp / "poster.jpg"
        make_poster(out, poster, probe(out, max_seconds=report.duration + 60))
        return report, _store(render, out, poster, report, tmp)


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
    """Delete a render: its row, and its video, poster and joins' pictures with their folder."""
    delete_files(*render.files())
    render.delete()


def renders_sweep() -> int:
    """Re-queue renders whose task was lost or whose worker died; how many."""
    now = timezone.now()
    lost = CutRender.objects.filter(
        Q(state=RenderState.QUEUED, created_at__lt=now - LOST_AFTER)
        | Q(state=RenderState.RENDERING, lease_until__lt=now)
    )
    count = 0
    for pk in list(lost.values_list("pk", flat=True)):
        _enqueue(pk)
        count += 1
    return count
