"""Moving an instance's files into object storage, and checking that every file row has its file.

Both find the files through the app registry: every FileField (ImageFields included) of every
installed model, so a file field added later is covered without a change here.

`storage_copy` uploads the files that rows name from a local media folder into the bucket of the
default storage (STUDIO_STORAGE=s3), under the same names (the storage adds its prefix). It can
be stopped at any moment and run again:
- S3 shows an object only once its upload is complete (one PUT, or a multipart upload that was
  completed), so an interrupted run leaves no half object under a final name. A multipart upload
  a killed run left open is aborted when the next run comes to that file.
- An object already there is skipped when its size matches the local file's and so does its
  ETag, the MD5 the store computed of what it holds (for a multipart upload the MD5 of the parts'
  MD5s, which we compute for the same part size), or else the SHA-256 this command stores as the
  object's metadata (x-amz-meta-sha256; stores whose ETag is no MD5, such as SSE-KMS buckets).
  An object of the same size that matches neither is downloaded and hashed; a different one is
  uploaded again.
- Every upload is checked the same way afterwards; a mismatch is deleted and reported.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from django.apps import apps
from django.core.exceptions import SuspiciousOperation
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import models
from django.db.models.fields.files import FieldFile
from s3transfer.utils import ChunksizeAdjuster
from storages.utils import clean_name

from studio.storage.files import CHUNK, is_remote

MB = 1024 * 1024
PART_SIZE = 16 * MB
MIN_PART_SIZE = 5 * MB  # S3's smallest part (but the last)
UPLOAD_THREADS = 4  # parts in flight: memory stays within UPLOAD_THREADS * part size
# Where a row records the size and SHA-256 of the file that one of its fields names. The other
# size fields describe something else: a reference's are those of the image as it was uploaded,
# which processing replaced by a clean copy.
RECORDED = {
    ("studio.Clip", "source"): ("size", "sha256"),
    ("studio.InputClip", "file"): ("size", "sha256"),
    ("studio.Take", "result"): ("result_size", "result_sha256"),
}
# Work folders beside the stored files that no row is meant to name (not reported as orphans).
WORK_PREFIXES = ("local-engine/", "uploads-tmp/")
# A failure of one file: the others are still copied, and the run ends with an error.
TRANSFER_ERRORS = (BotoCoreError, ClientError, S3UploadFailedError, OSError, SuspiciousOperation)


class CannotCopy(Exception):
    """Nothing can be copied: the default storage is no bucket, or the folder is not there."""


class CopyFailed(Exception):
    """An object in the bucket does not hold what was uploaded."""


@dataclass(frozen=True)
class FileRow:
    """A row's file field and the stored name it holds, with the size and SHA-256 the row
    records of that file, where it does."""

    model: str
    ident: str  # the row's code, or its primary key when the model has no code
    field: str
    name: str
    size: int | None = None
    sha256: str = ""

    def __str__(self) -> str:
        return f"{self.model} {self.ident} {self.field} {self.name}"


def file_fields() -> Iterator[tuple[type[models.Model], models.FileField]]:
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for each in model._meta.concrete_fields:
            if isinstance(each, models.FileField):
                yield model, each


def file_rows() -> Iterator[FileRow]:
    """Every file that a row names (empty fields are no file)."""
    for model, each in file_fields():
        label = model._meta.label
        ident = "code" if any(f.name == "code" for f in model._meta.concrete_fields) else "pk"
        recorded = RECORDED.get((label, each.name), ())
        rows = (
            model._base_manager.exclude(**{each.attname: ""})
            .exclude(**{f"{each.attname}__isnull": True})
            .order_by("pk")
            .values_list(ident, each.attname, *recorded)
        )
        for values in rows.iterator(chunk_size=2000):
            # A size of 0 is "not known": an empty upload is refused.
            size, sha = (values[2] or None, values[3] or "") if recorded else (None, "")
            yield FileRow(label, str(values[0]), each.name, values[1], size, sha)


def rows_by_name(rows: Iterable[FileRow]) -> dict[str, list[FileRow]]:
    named: dict[str, list[FileRow]] = {}
    for row in rows:
        named.setdefault(row.name, []).append(row)
    return named


@dataclass(frozen=True)
class Fingerprint:
    """A local file's size, SHA-256, and the ETag an S3 store gives it when uploaded in parts
    of `part_size` bytes (the MD5 when it goes up in one piece)."""

    size: int
    sha256: str
    etag: str


def fingerprint(path: Path, *, part_size: int) -> Fingerprint:
    expected = path.stat().st_size
    # The part size boto3 will really use: larger when the file would need over 10,000 parts.
    part = ChunksizeAdjuster().adjust_chunksize(part_size, expected)
    sha, whole = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    current, filled, parts = hashlib.md5(usedforsecurity=False), 0, []
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            sha.update(block)
            whole.update(block)
            size += len(block)
            view = memoryview(block)
            while view:
                piece = view[: part - filled]
                current.update(piece)
                filled += len(piece)
                view = view[len(piece) :]
                if filled == part:
                    parts.append(current.digest())
                    current, filled = hashlib.md5(usedforsecurity=False), 0
    if filled:
        parts.append(current.digest())
    if size >= part_size:  # boto3's multipart threshold is the configured part size
        joined = hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest()
        etag = f"{joined}-{len(parts)}"
    else:
        etag = whole.hexdigest()
    return Fingerprint(size, sha.hexdigest(), etag)


@dataclass(frozen=True)
class Stored:
    """What the storage says of an object: its size, and (buckets) its ETag and SHA-256 metadata."""

    size: int
    etag: str = ""
    sha256: str = ""

    def matches(self, local: Fingerprint) -> bool:
        """Proven equal without downloading it (see the module's docstring)."""
        same = self.etag == local.etag or self.sha256 == local.sha256
        return self.size == local.size and same


class Bucket:
    """The bucket behind an S3 storage, reached with the storage's own client and credentials."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage
        self.client = storage.connection.meta.client
        self.name: str = storage.bucket_name
        self.prefix = f"{storage.location.strip('/')}/" if storage.location.strip("/") else ""

    def key(self, name: str) -> str:
        """The object key of a stored name: under the storage's prefix, as the storage puts it."""
        return str(self.storage._normalize_name(clean_name(name)))

    def head(self, key: str) -> Stored | None:
        try:
            answer = self.client.head_object(Bucket=self.name, Key=key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise
        return Stored(
            size=int(answer["ContentLength"]),
            etag=str(answer.get("ETag", "")).strip('"'),
            sha256=str(answer.get("Metadata", {}).get("sha256", "")),
        )

    def read_sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        body = self.client.get_object(Bucket=self.name, Key=key)["Body"]
        for chunk in body.iter_chunks(CHUNK):
            digest.update(chunk)
        return digest.hexdigest()

    def upload(self, path: Path, key: str, local: Fingerprint, *, part_size: int) -> None:
        """Upload in parts of `part_size` (one PUT below it), with the storage's own object
        parameters (content type, caching, ACL) and the SHA-256 as metadata."""
        name = key[len(self.prefix) :]
        extra: dict[str, Any] = self.storage.get_object_parameters(name)
        content_type, encoding = mimetypes.guess_type(name)
        extra.setdefault("ContentType", content_type or self.storage.default_content_type)
        if encoding:
            extra.setdefault("ContentEncoding", encoding)
        if self.storage.default_acl:
            extra.setdefault("ACL", self.storage.default_acl)
        extra["Metadata"] = {**extra.get("Metadata", {}), "sha256": local.sha256}
        config = TransferConfig(
            multipart_threshold=part_size,
            multipart_chunksize=part_size,
            max_concurrency=UPLOAD_THREADS,
        )
        self.client.upload_file(str(path), self.name, key, ExtraArgs=extra, Config=config)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.name, Key=key)

    def open_uploads(self) -> dict[str, list[str]]:
        """Multipart uploads begun under the prefix and never completed or aborted: the upload
        ids by key."""
        found: dict[str, list[str]] = {}
        for key, upload_id, _ in self.multipart_uploads():
            found.setdefault(key, []).append(upload_id)
        return found

    def multipart_uploads(self) -> Iterator[tuple[str, str, datetime]]:
        """Each open multipart upload under the prefix: its key, upload id and start."""
        pages = self.client.get_paginator("list_multipart_uploads")
        for page in pages.paginate(Bucket=self.name, Prefix=self.prefix):
            for upload in page.get("Uploads", []):
                yield str(upload["Key"]), str(upload["UploadId"]), upload["Initiated"]

    def last_part(self, key: str, upload_id: str) -> datetime | None:
        """When the newest part of an open multipart upload arrived; None without parts."""
        newest = None
        pages = self.client.get_paginator("list_parts")
        for page in pages.paginate(Bucket=self.name, Key=key, UploadId=upload_id):
            for part in page.get("Parts", []):
                if newest is None or part["LastModified"] > newest:
                    newest = part["LastModified"]
        return newest

    def abort(self, key: str, upload_id: str) -> None:
        self.client.abort_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id)

    def names(self) -> Iterator[str]:
        """Every stored name under the prefix."""
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.name, Prefix=self.prefix):
            for item in page.get("Contents", []):
                yield str(item["Key"])[len(self.prefix) :]


def bucket_of(storage: Storage) -> Bucket | None:
    """The bucket of an S3 storage (django-storages' S3Storage), None for any other."""
    if is_remote(storage) and hasattr(storage, "bucket_name") and hasattr(storage, "connection"):
        return Bucket(storage)
    return None


def stored_chunks(field: FieldFile) -> Iterator[bytes]:
    """A stored file's bytes as they arrive, for streaming it out (zips of takes and of cuts).
    From a bucket, straight off the object's body: the storage's own File would fetch the
    whole object into memory before the first byte."""
    name = field.name or ""
    bucket = bucket_of(field.storage)
    if bucket is not None:
        body = bucket.client.get_object(Bucket=bucket.name, Key=bucket.key(name))["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()
        return
    with field.storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


# --- Copying ---------------------------------------------------------------------------------


@dataclass
class CopyReport:
    files: int = 0  # named by rows and found in the local folder
    bytes: int = 0
    done: int = 0
    done_bytes: int = 0
    uploaded: int = 0  # or, in a dry run, that would be
    uploaded_bytes: int = 0
    skipped: int = 0
    skipped_bytes: int = 0
    missing: list[FileRow] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, why)


# Told of every file once it is dealt with: the report so far, the outcome and the name.
CopyProgress = Callable[[CopyReport, str, str], None]


def storage_copy(
    *,
    source: Path,
    part_size: int = PART_SIZE,
    dry_run: bool = False,
    progress: CopyProgress | None = None,
) -> CopyReport:
    """Copy the files rows name from the folder `source` into the default storage's bucket.

    Files missing from `source` are listed in the report; failures of single files too (the
    others are still copied). Raises CannotCopy when the default storage is not a bucket.
    """
    bucket = bucket_of(default_storage)
    if bucket is None:
        raise CannotCopy(
            "The default storage keeps files on this disk: set STUDIO_STORAGE=s3 and the "
            "STUDIO_S3_* variables of the bucket to copy into, then run this again."
        )
    if not source.is_dir():
        raise CannotCopy(f"There is no folder {source} to copy from.")
    local = FileSystemStorage(location=source)
    report = CopyReport()
    todo: list[tuple[str, Path, int]] = []
    for name, rows in rows_by_name(file_rows()).items():
        try:
            path = Path(local.path(name))
            size = path.stat().st_size
        except FileNotFoundError:
            report.missing.extend(rows)
            continue
        except TRANSFER_ERRORS as error:
            report.failed.append((name, str(error)))
            continue
        todo.append((name, path, size))
        report.files += 1
        report.bytes += size
    open_uploads = {} if dry_run else bucket.open_uploads()
    for name, path, size in todo:
        try:
            key = bucket.key(name)
            for upload_id in open_uploads.pop(key, []):
                bucket.abort(key, upload_id)  # left by an earlier run that was killed
            local_file = fingerprint(path, part_size=part_size)
            uploaded = _copy_one(bucket, key, path, local_file, part_size, dry_run=dry_run)
        except (*TRANSFER_ERRORS, CopyFailed) as error:
            report.failed.append((name, str(error) or type(error).__name__))
            outcome = "failed"
        else:
            outcome = "uploaded" if uploaded else "skipped"
            if uploaded:
                report.uploaded += 1
                report.uploaded_bytes += local_file.size
            else:
                report.skipped += 1
                report.skipped_bytes += local_file.size
        report.done += 1
        report.done_bytes += size
        if progress is not None:
            progress(report, outcome, name)
    return report


def _copy_one(
    bucket: Bucket, key: str, path: Path, local: Fingerprint, part_size: int, *, dry_run: bool
) -> bool:
    """Upload the file unless the bucket already holds it; True if it was (or would be) uploaded."""
    stored = bucket.head(key)
    if (
        stored is not None
        and stored.size == local.size
        and (stored.matches(local) or bucket.read_sha256(key) == local.sha256)
    ):
        return False
    if dry_run:
        return True
    bucket.upload(path, key, local, part_size=part_size)
    stored = bucket.head(key)
    if stored is None:
        raise CopyFailed("the object is not in the bucket after its upload")
    if stored.size != local.size:
        bucket.delete(key)
        raise CopyFailed(f"the object has {stored.size} bytes, the file {local.size}; deleted")
    if stored.etag != local.etag and bucket.read_sha256(key) != local.sha256:
        bucket.delete(key)
        raise CopyFailed("the object's SHA-256 differs from the local file's; it was deleted")
    return True


# --- Checking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: FileRow
    kind: str  # "missing", "size" or "checksum"
    detail: str = ""


@dataclass
class CheckReport:
    files: int = 0
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


def storage_check(*, checksums: bool = False, orphans: bool = False) -> CheckReport:
    """Check that the default storage holds every file a row names, of the size the row records.

    Objects that carry the SHA-256 metadata storage_copy writes are compared with the row's
    SHA-256 too; with `checksums`, every file whose row records a SHA-256 is read and hashed.
    With `orphans`, stored files that no row names are listed (work folders left out).
    """
    storage = default_storage
    bucket = bucket_of(storage)
    report = CheckReport()
    named = rows_by_name(file_rows())
    for name, rows in named.items():
        report.files += 1
        report.rows += len(rows)
        try:
            stored = _stat(storage, bucket, name)
        except SuspiciousOperation:
            report.problems += [
                Problem(row, "missing", "a name outside the storage") for row in rows
            ]
            continue
        if stored is None:
            report.problems += [Problem(row, "missing") for row in rows]
            continue
        report.problems += _compare(rows, stored)
        if checksums and any(row.sha256 for row in rows):
            actual = _read_sha256(storage, bucket, name)
            report.problems += [
                Problem(row, "checksum", f"stored SHA-256 {actual}, the row says {row.sha256}")
                for row in rows
                if row.sha256 and row.sha256 != actual
            ]
    if orphans:
        report.orphans = sorted(
            name
            for name in (bucket.names() if bucket else _walk(storage))
            if name not in named and not name.startswith(WORK_PREFIXES)
        )
    return report


def _compare(rows: list[FileRow], stored: Stored) -> list[Problem]:
    problems = []
    for row in rows:
        if row.size is not None and row.size != stored.size:
            detail = f"stored {stored.size} bytes, the row says {row.size}"
            problems.append(Problem(row, "size", detail))
        elif row.sha256 and stored.sha256 and row.sha256 != stored.sha256:
            detail = f"the object's SHA-256 metadata is {stored.sha256}, the row says {row.sha256}"
            problems.append(Problem(row, "checksum", detail))
    return problems


def _stat(storage: Storage, bucket: Bucket | None, name: str) -> Stored | None:
    if bucket is not None:
        return bucket.head(bucket.key(name))
    try:
        return Stored(size=storage.size(name))
    except FileNotFoundError:
        return None


def _read_sha256(storage: Storage, bucket: Bucket | None, name: str) -> str:
    if bucket is not None:
        return bucket.read_sha256(bucket.key(name))
    digest = hashlib.sha256()
    with storage.open(name, "rb") as stored:
        while chunk := stored.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every stored name under `folder`, for storages with folders (the local one)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for each in files:
        yield f"{folder}/{each}" if folder else each
    for each in folders:
        yield from _walk(storage, f"{folder}/{each}" if folder else each)
