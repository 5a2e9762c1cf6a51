"""The local engine as a provider: renders in the worker, behind the same interface as Modellix.

`send` writes a job file and queues the render task, so the take goes through the same states
as with Modellix (running, with progress, then the result is fetched). The job file is the
engine's own record: state, progress, a heartbeat, the looks applied. A render whose worker died
(stale heartbeat) is simply queued again: nothing is paid, so repeating is safe. While a render
runs, a heartbeat thread touches its job file every quarter lease, so a dead render is noticed
within one lease (STUDIO_TAKE_LEASE_SECONDS) and a live one never is.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from studio.heartbeat import beating
from studio.media import engine
from studio.media.probe import MediaRejected, probe
from studio.parameters import EditParameters
from studio.providers.base import EditRequest, Failure, ProviderError, Submitted, TaskStatus

PENDING_STALE_SECONDS = 90  # queued, never started: its task was lost


def folder() -> Path:
    path = Path(settings.DATA_DIR) / "local-engine"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _job_path(task_id: str) -> Path:
    if not task_id.startswith("local-") or not task_id[6:].isalnum():
        raise ProviderError("The local engine has no such task.", Failure.REJECTED)
    return folder() / f"{task_id}.json"


def read_job(task_id: str) -> dict[str, Any]:
    try:
        return json.loads(_job_path(task_id).read_text())
    except FileNotFoundError:
        raise ProviderError("The local engine has no such task.", Failure.REJECTED) from None


def write_job(task_id: str, job: dict[str, Any]) -> None:
    path = _job_path(task_id)
    temporary = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(job))
    temporary.replace(path)  # atomic: a reader never sees half a file


def queue_render(task_id: str) -> None:
    from django_q.tasks import async_task

    async_task("studio.tasks.render_local", task_id, task_name=f"render_local:{task_id}")


class LocalEngine:
    name = "local"
    label = "Local engine: filters, not AI"
    bills = False
    is_ai = False
    can_cancel = True  # the render ends and its files go

    def prepare(self, request: EditRequest) -> dict[str, Any]:
        return {
            "video": str(request.video.path),
            "references": [str(ref.path) for ref in request.references],
            **request.parameters.as_dict(),
        }

    def send(self, payload: dict[str, Any]) -> Submitted:
        task_id = f"local-{uuid.uuid4().hex[:16]}"
        now = time.time()
        write_job(task_id, {"state": "pending", "progress": 0.0, "beat": now, "payload": payload})
        queue_render(task_id)
        return Submitted(task_id=task_id)

    def status(self, task_id: str) -> TaskStatus:
        job = read_job(task_id)
        state = job["state"]
        silent = time.time() - last_beat(task_id, job)
        if state in ("pending", "running") and silent > stale_after(state):
            job.update(state="pending", beat=time.time())
            write_job(task_id, job)
            queue_render(task_id)  # its worker died; rendering again costs nothing
        extra = {
            "progress": job.get("progress", 0.0),
            "looks": job.get("looks", []),
            "extended_prompt": job.get("extended_prompt", ""),
        }
        if state == "succeeded":
            return TaskStatus("succeeded", (f"local://{task_id}",), raw_status=state, extra=extra)
        if state == "failed":
            return TaskStatus("failed", message=job.get("message", ""), raw_status=state)
        return TaskStatus(
            "pending" if state == "pending" else "running", raw_status=state, extra=extra
        )

    def fetch(self, url: str, dest: Path, *, max_bytes: int) -> int:
        task_id = url.removeprefix("local://")
        source = folder() / f"{task_id}.mp4"
        if not source.exists():
            raise ProviderError("The local engine's result is gone.", Failure.EXPIRED)
        shutil.copyfile(source, dest)
        return dest.stat().st_size

    def cancel(self, task_id: str) -> None:
        cancel(task_id)

    def forget(self, task_id: str) -> None:
        forget(task_id)


def stale_after(state: str) -> float:
    return settings.TAKE_LEASE.total_seconds() if state == "running" else PENDING_STALE_SECONDS


def last_beat(task_id: str, job: dict[str, Any]) -> float:
    """The newer of the job's own beat and its file's time (which the heartbeat touches)."""
    try:
        touched = _job_path(task_id).stat().st_mtime
    except FileNotFoundError:
        touched = 0.0
    return max(float(job.get("beat", 0.0)), touched)


def _touch(task_id: str) -> bool:
    try:
        os.utime(_job_path(task_id))
    except FileNotFoundError:
        return False  # canceled and removed: nothing left to keep alive
    return True


def render_job(task_id: str) -> None:
    """The render task: safe to run twice (the second sees the job finished and stops)."""
    every = settings.TAKE_LEASE.total_seconds() / 4
    with beating(lambda: _touch(task_id), every=every, name=f"cutroom-render-{task_id}"):
        _render(task_id)


def _render(task_id: str) -> None:
    job = read_job(task_id)
    if job["state"] == "canceled":
        forget(task_id)
        return
    if job["state"] not in ("pending", "running"):
        return
    job.update(state="running", beat=time.time(), progress=0.0)
    write_job(task_id, job)
    payload = job["payload"]
    parameters = EditParameters.of(payload)
    output = folder() / f"{task_id}.mp4"
    partial = folder() / f"{task_id}.part.mp4"

    def progress(done: float) -> None:
        if read_job(task_id)["state"] == "canceled":
            raise Canceled
        job.update(progress=round(done, 3), beat=time.time())
        write_job(task_id, job)

    try:
        source = Path(payload["video"])
        info = probe(source, max_seconds=60)
        rendered = engine.render(
            source,
            partial,
            info=info,
            parameters=parameters,
            references=[Path(p) for p in payload["references"]],
            progress=progress,
        )
    except Canceled:
        forget(task_id)
        return
    except (MediaRejected, OSError, ValueError) as error:
        partial.unlink(missing_ok=True)
        job.update(state="failed", message=f"The local engine could not render this clip: {error}")
        write_job(task_id, job)
        return
    if read_job(task_id)["state"] == "canceled":
        forget(task_id)
        return
    partial.replace(output)
    description = ""
    if parameters.prompt_extend:
        description = engine.extended_prompt(
            parameters.prompt,
            rendered,
            resolution=parameters.resolution,
            ratio=parameters.ratio,
            seed=parameters.seed or 0,
            has_audio=rendered.encoded.has_audio,
            references=len(payload["references"]),
        )
    job.update(
        state="succeeded",
        progress=1.0,
        beat=time.time(),
        looks=rendered.looks,
        removed=rendered.removed,
        extended_prompt=description,
    )
    write_job(task_id, job)


class Canceled(Exception):
    pass


def cancel(task_id: str) -> None:
    """Stop a render: a running one notices within a second and removes its files."""
    try:
        job = read_job(task_id)
    except ProviderError:
        return
    if job["state"] in ("pending", "running"):
        job["state"] = "canceled"
        write_job(task_id, job)
    else:
        forget(task_id)


def forget(task_id: str) -> None:
    """Remove the engine's files for a task (after the result is stored, or on cancel)."""
    for suffix in (".json", ".mp4", ".part.mp4"):
        (folder() / f"{task_id}{suffix}").unlink(missing_ok=True)
