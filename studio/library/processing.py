"""What clips and reference images share: the worker's processing run and the sweep."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django_q.tasks import async_task

from studio.library.models import ProcessedMedia
from studio.media.probe import MediaRejected
from studio.models import MAX_PROCESSING_ATTEMPTS, Clip, MediaState, Reference
from studio.storage.files import SCRATCH_OWNER, delete_files, scratch_owner_gone

log = logging.getLogger(__name__)
TEMP_MAX_AGE = timedelta(hours=6)  # far beyond any upload or task (timeout 30 min)
# A temporary upload is written to until its request has it all, then moved or sent into the
# storage at once: one untouched this long was left by a request that failed or was killed.
UPLOAD_MAX_AGE = timedelta(hours=1)
# An empty folder this old is no folder about to get its file (that takes a moment).
EMPTY_FOLDER_AGE = timedelta(hours=1)
EMPTY_FOLDER_SWEEP_EVERY = 60 * 60  # seconds; walking every media folder each minute is waste
LOST_AFTER = timedelta(minutes=3)  # a RECEIVED upload this old has probably lost its task
TASKS = {Clip: "studio.tasks.process_clip", Reference: "studio.tasks.process_reference"}
GAVE_UP = (
    "Preparing this file failed {n} times, so Cutroom stopped trying and removed it. "
    "Upload it again, or export it in another format."
)


def enqueue(obj: ProcessedMedia) -> None:
    """Queue processing once the row is committed (the worker must be able to see it)."""
    task, pk = TASKS[type(obj)], obj.pk
    transaction.on_commit(lambda: async_task(task, pk, task_name=f"{task}:{pk}"))


def files_of(obj: ProcessedMedia) -> list[FieldFile]:
    names = (
        ("source", "poster", "poster_thumb", "proxy", "filmstrip")
        if isinstance(obj, Clip)
        else ("image", "thumb")
    )
    return [getattr(obj, name) for name in names]


def finish(obj: ProcessedMedia, state: str, reason: str = "", **fields: object) -> bool:
    """Compare-and-set the final state; False if the row was deleted or taken over meanwhile."""
    return obj.finish(state, reason, **fields)


def end_without_files(obj: ProcessedMedia, state: str, reason: str) -> None:
    """Rejected and failed uploads keep only the row the person sees (name and reason)."""
    delete_files(*files_of(obj))
    finish(obj, state, reason, **{field.field.name: "" for field in files_of(obj)})


def run[P: ProcessedMedia](model: type[P], pk: int, work: Callable[[P], None]) -> None:
    """Claim the upload, run `work`, and record how it ended. Safe to run twice."""
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None or not obj.claim():
        return
    if obj.attempts > MAX_PROCESSING_ATTEMPTS:
        end_without_files(obj, MediaState.FAILED, GAVE_UP.format(n=MAX_PROCESSING_ATTEMPTS))
        return
    try:
        work(obj)
    except MediaRejected as rejected:
        end_without_files(obj, MediaState.REJECTED, rejected.message)
    except Exception:
        # Unexpected: keep the file and let the sweep try again (attempts are counted).
        log.exception("processing %s %s failed", model.__name__, pk)
        obj.release()
        raise


def sweep() -> int:
    """Re-queue uploads whose task was lost (web died before enqueueing, worker died mid-way)."""
    now = timezone.now()
    count = 0
    for model in (Clip, Reference):
        lost = model.objects.filter(
            Q(state=MediaState.RECEIVED, updated_at__lt=now - LOST_AFTER)
            | Q(state=MediaState.PROCESSING, lease_until__lt=now)
        )
        for pk in list(lost.values_list("pk", flat=True)):
            # Touch first, so a busy queue does not get the same upload again every minute.
            model.objects.filter(pk=pk, state=MediaState.RECEIVED).update(updated_at=now)
            async_task(TASKS[model], pk, task_name=f"{TASKS[model]}:{pk}:sweep")
            count += 1
    if count:
        log.info("sweep re-queued %d upload(s)", count)
    return count


def _newest_mtime(path: Path) -> float:
    if path.is_dir():
        return max([path.stat().st_mtime, *(p.stat().st_mtime for p in path.rglob("*"))])
    return path.stat().st_mtime


def clean_temp() -> int:
    """Remove temporary uploads and scratch folders left behind by processes that were killed,
    and the job files of the local engine before it kept its jobs in the database: a worker's
    scratch as soon as its process is gone (studio.storage.files.scratch_prefix), or after
    TEMP_MAX_AGE; anything else in the temporary-upload folder (Django names its temporary
    uploads tmp….upload.<ext>) once it is untouched for UPLOAD_MAX_AGE."""
    now = time.time()
    removed = 0
    engine = Path(settings.DATA_DIR) / "local-engine"
    temporary = [*Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()]
    leftovers = [*engine.iterdir()] if engine.exists() else []
    for entry in temporary + leftovers:
        scratch = entry in leftovers or SCRATCH_OWNER.match(entry.name) is not None
        max_age = TEMP_MAX_AGE if scratch else UPLOAD_MAX_AGE
        try:
            if (
                not scratch_owner_gone(entry.name)
                and _newest_mtime(entry) >= now - max_age.total_seconds()
            ):
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except FileNotFoundError:
            continue  # finished and cleaned up by its owner meanwhile
    return removed


def clean_empty_folders() -> int:
    """Remove empty folders under the media root: those left by versions that did not remove
    them, or by work that was interrupted. Returns how many were removed.

    Only folders unchanged for EMPTY_FOLDER_AGE go, so that a folder just made for a file being
    stored is left alone; the top folders (clips, refs, takes) stay. Removing a folder makes its
    parent newer, so an emptied project folder goes on a later sweep.
    """
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return 0
    cutoff = time.time() - EMPTY_FOLDER_AGE.total_seconds()
    removed = 0
    for folder, _subfolders, files in os.walk(root, topdown=False):
        path = Path(folder)
        if files or path == root or path.parent == root:
            continue
        try:
            if path.stat().st_mtime >= cutoff or any(path.iterdir()):
                continue
            path.rmdir()
        except OSError:
            continue  # filled or removed meanwhile
        removed += 1
    if removed:
        log.info("removed %d empty media folder(s)", removed)
    return removed


def clean_empty_folders_hourly() -> int:
    """clean_empty_folders, at most once an hour across every worker (the one-minute sweep)."""
    if not cache.add("sweep:empty-media-folders", True, timeout=EMPTY_FOLDER_SWEEP_EVERY):
        return 0
    return clean_empty_folders()
