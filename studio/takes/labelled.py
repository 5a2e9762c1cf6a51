"""A take's labelled copy: its result with the visible "AI-generated" label burned in, signed
with content credentials that name the result it came from (docs/provenance.md).

While a team asks for labelled downloads (Team.ai_label_downloads), every download of an AI
take hands out this copy, never the provider's bytes: those stay untouched for playback and
comparison. The copy is made in the worker (take_label, a thin task), once per take: when the
take succeeds, and for older takes on demand (their page, a share link's page, a download, or
"Try again" after a failure). A web request never encodes.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.db import transaction
from django.utils import timezone

from studio.media.label import burn_label
from studio.media.probe import MediaRejected, probe
from studio.models import CutRender, Take, TakeState
from studio.provenance.manifests import Source, label_manifest
from studio.provenance.signing import sign_or_keep, software_version
from studio.storage.files import local_copy, scratch_dir, sha256_of, store_path
from studio.takes.gallery import export_failure

log = logging.getLogger(__name__)

WORKING, READY, FAILED = "working", "ready", "failed"


def take_label_request(*, take: Take, again: bool = False) -> bool:
    """Queue the labelled copy when the take needs one and has none (`again`: or the last one
    failed, a person's "Try again"); False when there is nothing to do. Safe to call from any
    request, pages included: it only queues, once."""
    if take.state != TakeState.SUCCEEDED or not take.result or not take.needs_ai_label:
        return False
    if take.labelled_state not in ("", FAILED) or (take.labelled_state == FAILED and not again):
        return False
    # Compare-and-set: two pages asking at once queue one copy.
    moved = Take.objects.filter(pk=take.pk, labelled_state=take.labelled_state).update(
        labelled_state=WORKING, labelled_reason=""
    )
    if not moved:
        return False
    take.labelled_state, take.labelled_reason = WORKING, ""
    pk = take.pk
    transaction.on_commit(lambda: _enqueue(pk))
    return True


def _enqueue(pk: int) -> None:
    from django_q.tasks import async_task

    async_task("studio.tasks.label_take", pk, task_name=f"label:{pk}")


def label_on_take_ended(*, take: Take, **_: Any) -> None:
    """A take that just succeeded gets its labelled copy at once, when its team asks for them
    (take_ended, sent in fire()'s transaction: the task is queued once it commits)."""
    if take.state != TakeState.SUCCEEDED:
        return
    fresh = Take.objects.select_related("project__team").filter(pk=take.pk).first()
    if fresh is not None:
        take_label_request(take=fresh)


def take_label(*, take_id: int) -> None:
    """Burn the label into the take's result and store the signed copy (safe to run twice: a
    take no longer "working" is left alone)."""
    take = Take.objects.select_related("project__team").get(pk=take_id)
    if take.labelled_state != WORKING:
        return
    if not take.result:
        _fail(take, "the take's result is gone.")
        return
    name = f"takes/{take.project.code}/{take.code}/labelled.mp4"
    try:
        with local_copy(take.result) as result, scratch_dir() as tmp:
            burned = tmp / "labelled.mp4"
            rotation = probe(result, max_seconds=math.inf).rotation
            burn_label(result, burned, rotation=rotation)
            parent = Source(f"{take.download_stem}.mp4", take.result_sha256 or sha256_of(result))
            signed = sign_or_keep(
                source=burned,
                scratch=tmp,
                manifest=lambda: label_manifest(
                    title=f"{take.download_stem}.mp4",
                    parent=parent,
                    version=software_version(),
                    when=timezone.now(),
                    model=take.engine.model,
                ),
            )
            # A copy left by an earlier run (the task ran twice) is replaced, not kept beside.
            old, storage = take.labelled_file.name or "", take.labelled_file.storage
            for stale in {old, name} - {""}:
                if storage.exists(stale):
                    storage.delete(stale)
            store_path(take.labelled_file, name, signed.path)
    except MediaRejected as rejected:
        # The result cannot be decoded: trying again will not help, and nothing is to be logged
        # as a crash; the page says why.
        _fail(take, rejected.message)
        return
    except Exception as error:
        _fail(take, export_failure(error))
        raise
    Take.objects.filter(pk=take.pk, labelled_state=WORKING).update(
        labelled_state=READY,
        labelled_file=take.labelled_file.name,
        labelled_unsigned=signed.error,
        labelled_reason="",
    )


def _fail(take: Take, reason: str) -> None:
    log.warning("labelled copy of take %s failed: %s", take.code, reason)
    Take.objects.filter(pk=take.pk, labelled_state=WORKING).update(
        labelled_state=FAILED, labelled_reason=reason
    )


def labelled_download(take: Take) -> tuple[str, str]:
    """What a download of the take's result hands out: ("result", "") without a label to add,
    ("labelled_file", "") when the labelled copy is ready, else ("", why not in words)."""
    if not take.needs_ai_label:
        return "result", ""
    if take.labelled_state == READY and take.labelled_file:
        return "labelled_file", ""
    if take.labelled_state == FAILED:
        return "", f"The labelled copy could not be made: {take.labelled_reason}"
    return "", "The copy with the “AI-generated” label is being made."


def unlabelled_made_file(obj: object, variant: str) -> str:
    """Why a side-by-side export or a render made before the team asked for labels is not
    handed out as a download (they are labelled while they are encoded: made again, they are);
    "" when it may be."""
    if isinstance(obj, Take) and variant == "export_file" and obj.export_label_missing:
        return (
            "This side-by-side video was made before your team asked for the “AI-generated” "
            "label. Export it again from the take's page to download it with the label."
        )
    if isinstance(obj, CutRender) and variant == "file" and obj.label_missing:
        return (
            "This render was made before your team asked for the “AI-generated” label. Render "
            "the cut again to download it with the label over its AI windows."
        )
    return ""
