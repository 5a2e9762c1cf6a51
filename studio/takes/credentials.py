"""A take's content credentials: what its manifest says, and signing its result again.

`take_manifest_for` is the one description of a take's result (the download step signs with it,
"Sign again" too, and anything else that signs a take's result may reuse it). The prompt goes in
only when the take's team allows it (Team.credentials_prompts, off by default).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from studio.core.errors import Refused
from studio.models import Take, TakeState
from studio.provenance.manifests import Source, take_manifest
from studio.provenance.signing import software_version, stored_sign
from studio.provenance.state import CredentialsState

log = logging.getLogger(__name__)
TASK = "studio.tasks.sign_take"
MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


def _reference(reference: Any) -> Source:
    ext = (reference.format or reference.original_name.rpartition(".")[2]).lower()
    return Source(reference.original_name, reference.sha256, MIME.get(ext, "image/png"))


def take_manifest_for(
    take: Take, *, title: str = "", when: dt.datetime | None = None
) -> dict[str, Any]:
    """The manifest of a take's result (or of a file made from it, named `title`: the
    side-by-side export): its source clip and reference images by title and hash, the model
    and provider, whether AI made it, Cutroom's version and the time."""
    clip = take.clip
    source = (
        Source(clip.original_name, clip.sha256)
        if clip is not None
        else Source("a clip since deleted", "")
    )
    references = [
        _reference(link.reference)
        for link in take.takereference_set.select_related("reference").order_by("position")
    ]
    engine = take.engine
    return take_manifest(
        title=title or f"{take.download_stem}.mp4",
        source=source,
        references=references,
        model=engine.model,
        provider=engine.label,
        made_with_ai=take.disclosure.is_ai,
        version=software_version(),
        when=when or timezone.now(),
        prompt=take.prompt if take.project.team.credentials_prompts else None,
    )


def take_sign_again_request(*, take: Take, author: User) -> None:
    """Queue signing a result whose credentials are missing (the worker signs, never the web
    request). Asking while a signing is under way changes nothing."""
    if take.state != TakeState.SUCCEEDED or not take.result or take.is_trashed:
        raise Refused("Only a finished take's result, outside the trash, can be signed.")
    if take.credentials_signing:
        return
    if not take.credentials_sign_start():
        raise Refused("This take's result already has its content credentials.")
    take.note(f"Signing the result again (asked by {author.display_name})")
    pk = take.pk
    transaction.on_commit(lambda: async_task(TASK, pk, task_name=f"{TASK}:{pk}"))


def take_sign_again(take_id: int) -> None:
    """The worker's step: sign the stored result into a new file, switch to it, delete the old.
    Safe to run twice: only the signing under way is recorded, once."""
    take = Take.objects.select_related("project__team", "clip").filter(pk=take_id).first()
    if take is None or take.credentials != CredentialsState.SIGNING or not take.result:
        return
    if take.is_trashed:
        # Left alone: the trash keeps it as it was (and may remove it for good meanwhile).
        Take.objects.filter(pk=take.pk, credentials=CredentialsState.SIGNING).update(
            credentials=CredentialsState.MISSING
        )
        return
    old = take.result.name or ""
    done = stored_sign(take.result, manifest=lambda: take_manifest_for(take))
    fields = {"result": done.name, "result_size": done.size, "result_sha256": done.sha256}
    if take.credentials_sign_end(done.signed, where={"trashed_at__isnull": True}, **fields):
        if done.signed.signed:
            take.result.storage.delete(old)
            take.note("Signed the result again: its content credentials are in the file.")
        else:
            take.note(f"Signing the result again failed: {done.signed.error}")
    elif done.name:
        # Trashed, or another signing took over meanwhile: the row still names the old file.
        take.result.storage.delete(done.name)
