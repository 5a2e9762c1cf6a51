"""The local engine as a provider: renders in the worker, behind the same interface as Modellix.

`send` records a job (studio.providers.local.models.LocalJob) and queues the render task, so the
take goes
through the same states as with Modellix (running, with progress, then the result is fetched).
The job row is the engine's own record: state, progress, a heartbeat, the looks applied. It
names stored files, never paths: the render copies its inputs from the default storage to a
scratch folder and stores the result there, so the web and the workers share nothing but the
database and the storage, and any worker host can render a job that any web host sent.

A render whose worker died (stale heartbeat) is simply queued again: nothing is paid, so
repeating is safe. While a render runs, a heartbeat thread renews its job's beat every quarter
lease, so a dead render is noticed within one lease (STUDIO_TAKE_LEASE_SECONDS) and a live one
never is.
"""

from __future__ import annotations

import shutil
import uuid
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from studio.core.heartbeat import beating
from studio.media.probe import MediaRejected, probe
from studio.providers.base import EditRequest, Failure, ProviderError, Submitted, TaskStatus
from studio.providers.local import render
from studio.providers.local.models import LocalJob
from studio.storage.disks import DISK_FULL, disk_full_reason
from studio.storage.files import CHUNK, scratch_dir, store_file, stored_copy
from studio.takes.parameters import EditParameters

RESULTS = "local-engine"  # the storage folder of rendered files until the take stores its own
State = LocalJob.State


def _job(task_id: str) -> LocalJob:
    if not task_id.startswith("local-") or not task_id[6:].isalnum():
        raise ProviderError("The local engine has no such task.", Failure.REJECTED)
    job = LocalJob.objects.filter(task_id=task_id).first()
    if job is None:
        raise ProviderError("The local engine has no such task.", Failure.REJECTED)
    return job


def queue_render(task_id: str) -> None:
    from django_q.tasks import async_task

    async_task("studio.tasks.render_local", task_id, task_name=f"render_local:{task_id}")


class LocalEngine:
    name = "local"
    # A name only: whether its work is AI is said by studio.provenance.disclosure, everywhere.
    label = "Cutroom's local engine"
    bills = False
    is_ai = False
    model = ""  # filters, not a model
    can_cancel = True  # the render ends and its files go
    watermark = False
    watermark_note = "The local engine is not AI, so it adds no AI mark."

    def prepare(self, request: EditRequest) -> dict[str, Any]:
        # Storage names, not the paths in the request: those may be copies that are gone once
        # `send` returns, and the render may run on another host.
        stored = [request.video.stored, *(ref.stored for ref in request.references)]
        if not all(stored):
            raise ProviderError(
                "The local engine renders stored files only.",
                Failure.REJECTED,
                detail=f"inputs without a storage name: {request}",
            )
        return {"video": stored[0], "references": stored[1:], **request.parameters.as_dict()}

    def send(self, payload: dict[str, Any]) -> Submitted:
        task_id = f"local-{uuid.uuid4().hex[:16]}"
        LocalJob.objects.create(task_id=task_id, payload=payload)
        queue_render(task_id)
        return Submitted(task_id=task_id)

    def status(self, task_id: str) -> TaskStatus:
        job = _job(task_id)
        now, state = timezone.now(), job.state
        if job.stale(now) and job.requeue(now):
            queue_render(task_id)  # its worker died or its task was lost; rendering is free
            state = State.PENDING
        extra = {
            "progress": job.progress,
            "looks": job.looks,
            "extended_prompt": job.extended_prompt,
        }
        if state == State.SUCCEEDED:
            urls = (f"local://{task_id}",)
            return TaskStatus("succeeded", urls, raw_status=state, extra=extra)
        if state == State.FAILED:
            return TaskStatus("failed", message=job.message, raw_status=state)
        return TaskStatus(
            "pending" if state == State.PENDING else "running", raw_status=state, extra=extra
        )

    def fetch(self, url: str, dest: Path, *, max_bytes: int) -> int:
        task_id = url.removeprefix("local://")
        job = LocalJob.objects.filter(task_id=task_id).first()
        if job is None or job.state != State.SUCCEEDED or not job.result:
            raise ProviderError("The local engine's result is gone.", Failure.EXPIRED)
        try:
            with default_storage.open(job.result, "rb") as stored, dest.open("wb") as out:
                shutil.copyfileobj(stored, out, CHUNK)
        except FileNotFoundError:
            raise ProviderError("The local engine's result is gone.", Failure.EXPIRED) from None
        return dest.stat().st_size

    def cancel(self, task_id: str) -> None:
        cancel(task_id)

    def forget(self, task_id: str) -> None:
        forget(task_id)


def render_job(task_id: str) -> None:
    """The render task: safe to run twice (the second finds the job taken or finished)."""
    job = LocalJob.objects.filter(task_id=task_id).first()
    if job is not None and job.state == State.CANCELED:
        forget(task_id)  # canceled before any render took it
        return
    runner = uuid.uuid4().hex
    job = LocalJob.claim(task_id, runner)
    if job is None:
        return
    every = settings.TAKE_LEASE.total_seconds() / 4
    with beating(
        lambda: LocalJob.report(task_id, runner, beat=timezone.now()),
        every=every,
        name=f"cutroom-render-{task_id}",
    ):
        _render(job, runner)


class Lost(Exception):
    """The render no longer holds its job: it was canceled, or another render took it over."""


def _render(job: LocalJob, runner: str) -> None:
    task_id, payload = job.task_id, job.payload
    parameters = EditParameters.of(payload)

    def progress(done: float) -> None:
        if not LocalJob.report(task_id, runner, progress=round(done, 3), beat=timezone.now()):
            raise Lost

    stored = ""
    try:
        # Inputs are copied from the storage (on a local disk, used where they are) and the
        # result is rendered beside them; everything here goes when the block ends.
        with scratch_dir() as scratch, ExitStack() as copies:
            source = copies.enter_context(stored_copy(default_storage, payload["video"]))
            references = [
                copies.enter_context(stored_copy(default_storage, name))
                for name in payload["references"]
            ]
            info = probe(source, max_seconds=60)
            output = scratch / "result.mp4"
            rendered = render.render(
                source,
                output,
                info=info,
                parameters=parameters,
                references=references,
                progress=progress,
            )
            if not LocalJob.report(task_id, runner, beat=timezone.now()):
                raise Lost
            stored = store_file(default_storage, f"{RESULTS}/{task_id}.mp4", output)
    except Lost:
        return _let_go(task_id, stored)
    except (MediaRejected, OSError, ValueError) as error:
        message = f"The local engine could not render this clip: {error}"
        if isinstance(error, OSError) and error.errno in DISK_FULL:
            # Not the clip's fault: say which disk needs room.
            message = disk_full_reason(error, "run the take again")
        if not LocalJob.report(task_id, runner, state=State.FAILED, message=message):
            _let_go(task_id, stored)
        return
    description = ""
    if parameters.prompt_extend:
        description = render.extended_prompt(
            parameters.prompt,
            rendered,
            resolution=parameters.resolution,
            ratio=parameters.ratio,
            seed=parameters.seed or 0,
            has_audio=rendered.encoded.has_audio,
            references=len(payload["references"]),
        )
    finished = LocalJob.report(
        task_id,
        runner,
        state=State.SUCCEEDED,
        progress=1.0,
        beat=timezone.now(),
        result=stored,
        looks=rendered.looks,
        removed=rendered.removed,
        extended_prompt=description,
    )
    if not finished:
        _let_go(task_id, stored)


def _let_go(task_id: str, stored: str) -> None:
    """A render that lost its job takes back what it stored; a canceled job goes entirely."""
    if stored:
        default_storage.delete(stored)
    if LocalJob.objects.filter(task_id=task_id, state=State.CANCELED).exists():
        forget(task_id)


def cancel(task_id: str) -> None:
    """Stop a render: a running one notices within a second and removes its files."""
    if not LocalJob.cancel(task_id):
        forget(task_id)  # already finished: nothing to stop, only files to remove


def forget(task_id: str) -> None:
    """Remove the engine's record and stored result of a task (after the take stored its own
    copy, or on cancel)."""
    job = LocalJob.objects.filter(task_id=task_id).first()
    if job is None:
        return
    if job.result:
        default_storage.delete(job.result)
    LocalJob.objects.filter(pk=job.pk).delete()


def forget_old(*, older_than: timedelta) -> int:
    """Forget jobs unchanged for `older_than` (their takes were deleted or gave up, or a canceled
    render died before it noticed); returns how many."""
    cutoff = timezone.now() - older_than
    old = list(LocalJob.objects.filter(updated_at__lt=cutoff).values_list("task_id", flat=True))
    for task_id in old:
        forget(task_id)
    return len(old)
