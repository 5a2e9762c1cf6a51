"""Reference images: a per-project library, checked against the provider's limits."""

from __future__ import annotations

import uuid

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from accounts.models import User
from studio.files import delete_files, local_copy, safe_display_name, scratch_dir, store_path
from studio.media import images
from studio.models import MediaState, Project, Reference
from studio.services import media


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
    reference.image.save(name, upload, save=False)
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
    info = None
    base = f"refs/{reference.project.code}/{reference.code}"
    with local_copy(reference.image) as path, scratch_dir() as tmp, path.open("rb") as handle:
        info = images.inspect(handle, path.stat().st_size)
        upright = tmp / f"image.{info.extension}"
        original = reference.image.name
        if images.prepare(path, upright, tmp / "thumb.jpg", info):
            store_path(reference.image, f"{base}/image.{info.extension}", upright)
        store_path(reference.thumb, f"{base}/thumb.jpg", tmp / "thumb.jpg")
    saved = media.finish(
        reference,
        MediaState.READY,
        image=reference.image.name,
        thumb=reference.thumb.name,
        width=info.width,
        height=info.height,
        format=info.format,
    )
    if not saved:
        delete_files(reference.thumb)
        if reference.image.name != original:
            delete_files(reference.image)
    elif reference.image.name != original:
        reference.image.storage.delete(original)  # replaced by the upright copy


def reference_delete(*, reference: Reference) -> None:
    delete_files(*media.files_of(reference))
    reference.delete()
