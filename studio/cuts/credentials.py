"""A cut render's content credentials: what its manifest says, and signing its file again.

The manifest names the clip and, for each edited window, the take chosen for it (by its
download name and the SHA-256 of its stored result) with the window's range in the cut.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from studio.core.errors import Refused
from studio.cuts.models import CutRender, RenderState
from studio.provenance.manifests import Source, Window, cut_manifest
from studio.provenance.signing import software_version, stored_sign
from studio.provenance.state import CredentialsState

TASK = "studio.tasks.sign_render"


def render_manifest_for(render: CutRender, *, when: dt.datetime | None = None) -> dict[str, Any]:
    from studio.models import Take

    clip = render.cut.clip
    planned = render.plan.get("windows", [])
    takes = {t.code: t for t in Take.objects.filter(code__in=[w["take"] for w in planned])}
    windows = []
    for window in planned:
        take = takes.get(window["take"])
        if take is None:  # deleted for good since: named by its code, said to be maybe AI
            source, model, ai = Source(f"take {window['take']} (deleted)", ""), "", True
        else:
            source = Source(f"{take.download_stem}.mp4", take.result_sha256)
            model, ai = take.engine.model, take.disclosure.is_ai
        windows.append(Window(source, float(window["start"]), float(window["end"]), model, ai))
    return cut_manifest(
        title=f"{render.download_stem}.mp4",
        clip=Source(clip.original_name, clip.sha256),
        windows=windows,
        version=software_version(),
        when=when or timezone.now(),
    )


def render_sign_again_request(*, render: CutRender) -> None:
    """Queue signing a render whose credentials are missing; nothing while one is under way."""
    if render.state != RenderState.READY or not render.file:
        raise Refused("Only a finished render can be signed.")
    if render.credentials_signing:
        return
    if not render.credentials_sign_start():
        raise Refused("This render already has its content credentials.")
    pk = render.pk
    transaction.on_commit(lambda: async_task(TASK, pk, task_name=f"{TASK}:{pk}"))


def render_sign_again(render_id: int) -> None:
    """The worker's step, as a take's (studio.takes.credentials.take_sign_again)."""
    render = CutRender.objects.select_related("cut__clip", "cut__project").filter(pk=render_id)
    found = render.first()
    if found is None or found.credentials != CredentialsState.SIGNING or not found.file:
        return
    old = found.file.name or ""
    done = stored_sign(found.file, manifest=lambda: render_manifest_for(found))
    fields = {"file": done.name, "size": done.size}
    if found.credentials_sign_end(done.signed, where={"state": RenderState.READY}, **fields):
        if done.signed.signed:
            found.file.storage.delete(old)
    elif done.name:
        found.file.storage.delete(done.name)
