"""Reference images: a per-project library, checked against the provider's limits."""

from __future__ import annotations

import logging
import uuid

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from accounts.models import User
from studio.library import processing as media
from studio.media import images
from studio.models import MediaState, Project, Reference
from studio.storage.files import (
    delete_files,
    local_copy,
    safe_display_name,
    scratch_dir,
    store_content,
    store_path,
)

log = logging.getLogger(__name__)
CLEAN_BATCH = 20  # a few at a time, so that one sweep tick stays short


def reference_receive(
    *, project: Project, author: User, upload: UploadedFile, upload_key: uuid.UUID
) -> tuple[Reference, bool]:
    """Check the image's header now (cheap), store it, and queue the full decode and thumbnail.

    Raises MediaRejected, storing nothing, when the header already shows the image is unusable.
    """
    existing = Reference.objects.filter(project=project, upload_key=upload_key).first()
    if existing is not None:
        return existing, False
    upload.seek(0)
    info = images.inspect(upload, upload.size or 0)
    upload.seek(0)
    reference = Reference(
        project=project,
        uploaded_by=author,
        upload_key=upload_key,
        original_name=safe_display_name(upload.name or "", "reference"),
        size=upload.size or 0,
        sha256=getattr(upload, "sha256", ""),
        format=info.format,
        width=info.width,
        height=info.height,
    )
    name = f"refs/{project.code}/{reference.code}/original.{info.extension}"
    store_content(reference.image, name, upload)  # nothing partial is kept, nor any row
    try:
        with transaction.atomic():
            reference.save()
    except IntegrityError:
        delete_files(reference.image)
        return Reference.objects.get(project=project, upload_key=upload_key), False
    project.touch()
    media.enqueue(reference)
    return reference, True


def reference_process(*, reference_id: int) -> None:
    media.run(Reference, reference_id, _prepare)


def _prepare(reference: Reference) -> None:
    original, old_thumb = reference.image.name, reference.thumb.name
    info = _store_clean_copy(reference)
    saved = media.finish(
        reference,
        MediaState.READY,
        image=reference.image.name,
        thumb=reference.thumb.name,
        width=info.width,
        height=info.height,
        format=info.format,
    )
    _keep_one(reference, saved, original, old_thumb)


def _store_clean_copy(reference: Reference) -> images.ImageInfo:
    """Store the upright copy without metadata, and its thumbnail, in place of what was sent.

    Only the fields change here; the caller updates the row and removes the upload (GPS
    position, camera and all), which is never kept once this has run.
    """
    base = f"refs/{reference.project.code}/{reference.code}"
    original = reference.image.name
    with local_copy(reference.image) as path, scratch_dir() as tmp, path.open("rb") as handle:
        info = images.inspect(handle, path.stat().st_size)
        clean = tmp / f"image.{info.extension}"
        images.prepare(path, clean, tmp / "thumb.jpg", info)
        store_path(reference.image, f"{base}/image.{info.extension}", clean)
        try:
            store_path(reference.thumb, f"{base}/thumb.jpg", tmp / "thumb.jpg")
        except BaseException:
            delete_files(reference.image)
            reference.image.name = original
            raise
    return info


def _keep_one(
    reference: Reference, saved: bool, original: str | None, old_thumb: str | None
) -> None:
    """Remove the files the row no longer points to: the upload and an older thumbnail when it
    was updated, else the new copies (it was deleted or taken over meanwhile)."""
    new = {reference.image.name, reference.thumb.name}
    old = {original, old_thumb}
    for name in (old - new) if saved else (new - old):
        if name:
            reference.image.storage.delete(name)


def references_clean_backfill(*, limit: int | None = CLEAN_BATCH) -> int:
    """Clean references kept as they were sent by versions before metadata was stripped.

    Their image is still named original.<ext>; once cleaned it is image.<ext>. Run by the
    one-minute sweep a few at a time; returns how many were cleaned.
    """
    rows = Reference.objects.filter(state=MediaState.READY, image__contains="/original.")
    cleaned = 0
    for reference in rows.select_related("project").order_by("pk")[:limit]:
        original, old_thumb = reference.image.name, reference.thumb.name
        try:
            _store_clean_copy(reference)
        except (OSError, images.MediaRejected) as error:
            log.warning("reference %s could not be cleaned: %s", reference.pk, error)
            continue
        saved = Reference.objects.filter(pk=reference.pk, image=original).update(
            image=reference.image.name, thumb=reference.thumb.name
        )
        _keep_one(reference, bool(saved), original, old_thumb)
        cleaned += bool(saved)
    return cleaned


def reference_delete(*, reference: Reference) -> None:
    delete_files(*media.files_of(reference))
    reference.delete()
