"""Multipart uploads left open in the bucket: listed, and aborted once abandoned.

A file of boto3's threshold or more goes up in parts, as a multipart upload that is completed at
its end. Until then it is no object: `list_objects` does not show it, but the bucket keeps (and
bills) the parts sent. boto3 aborts an upload whose part failed, but that abort fails too when
the bucket has become unreachable meanwhile, and nothing aborts the upload of a process that was
killed. So the hourly sweep aborts every upload under Cutroom's prefix that has had no new part
for ABANDONED_AFTER, and `storage_check --orphans` lists open uploads (`--abort-multipart` aborts
the abandoned ones). A bucket lifecycle rule (AbortIncompleteMultipartUpload) does the same on
the bucket's side.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.files.storage import Storage, default_storage
from django.utils import timezone

from studio.storage.files import STORAGE_ERRORS
from studio.storage.services import Bucket, bucket_of

log = logging.getLogger(__name__)
# An upload in progress sends a part every few seconds (parts of 5 to 16 MB); one with no new
# part for an hour was left by a failure or a killed process.
ABANDONED_AFTER = timedelta(hours=1)
SWEEP_EVERY = 60 * 60  # seconds: listing the bucket's open uploads each minute is waste


@dataclass(frozen=True)
class OpenUpload:
    name: str  # the stored name it was meant to become (the key without the storage's prefix)
    key: str
    upload_id: str
    begun: datetime
    last_part: datetime | None

    @property
    def last_active(self) -> datetime:
        return max(self.begun, self.last_part or self.begun)

    def abandoned(self, now: datetime) -> bool:
        return now - self.last_active >= ABANDONED_AFTER


def open_uploads(bucket: Bucket) -> list[OpenUpload]:
    """The bucket's open multipart uploads under the storage's prefix, oldest first."""
    found = [
        OpenUpload(
            key[len(bucket.prefix) :], key, upload_id, begun, bucket.last_part(key, upload_id)
        )
        for key, upload_id, begun in bucket.multipart_uploads()
    ]
    return sorted(found, key=lambda upload: (upload.begun, upload.key))


def uploads_abort_abandoned(
    *, bucket: Bucket | None = None, storage: Storage | None = None
) -> list[OpenUpload]:
    """Abort the open multipart uploads with no new part for ABANDONED_AFTER; those aborted.

    Nothing for storages that are no bucket.
    """
    bucket = bucket or bucket_of(storage or default_storage)
    if bucket is None:
        return []
    now = timezone.now()
    aborted = []
    for upload in open_uploads(bucket):
        if upload.abandoned(now):
            bucket.abort(upload.key, upload.upload_id)
            aborted.append(upload)
    return aborted


def uploads_abort_abandoned_hourly() -> int:
    """uploads_abort_abandoned, at most once an hour across every worker (the one-minute sweep);
    how many were aborted. A bucket that cannot be reached is tried again an hour later."""
    if not cache.add("sweep:abandoned-multipart-uploads", True, timeout=SWEEP_EVERY):
        return 0
    try:
        aborted = uploads_abort_abandoned()
    except STORAGE_ERRORS as error:
        log.warning("the bucket's open multipart uploads could not be checked: %r", error)
        return 0
    for upload in aborted:
        log.info("aborted the abandoned multipart upload of %r", upload.key)
    return len(aborted)
