"""Stored files go through Django's storage API only, so the media folder can be a bucket.

The worker needs local paths for PyAV; `local_copy` gives one for any storage backend. Object
storage (STUDIO_STORAGE=s3) serves its files itself: `direct_url` gives a presigned address.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile

from studio.core.filenames import content_disposition
from studio.storage.disks import SCRATCH_PREFIX, writing_to

CHUNK = 1024 * 1024
NAME_LIMIT = 120
# What a storage raises when it cannot keep a file: the disk (full, read-only, not ours) or the
# bucket (unreachable, or answering with an error).
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError, S3UploadFailedError)


def bucket_error(error: BaseException) -> str:
    """What a bucket's failure was, in a few words for a reason a person reads."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Code"):
        return f"it answered {response['Error']['Code']}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return "it could not be reached"


def safe_display_name(name: str, fallback: str = "upload") -> str:
    """A file name fit to show and to offer as a download name; never used to store files.

    Folders are dropped (path traversal), control and odd characters removed, length capped
    while keeping the extension.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C",))
    name = re.sub(r"[<>:\"|?*]", "_", name).strip(" .")
    if not name:
        return fallback
    if len(name) > NAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 8:
            name = stem[: NAME_LIMIT - len(ext) - 2] + "…." + ext
        else:
            name = name[: NAME_LIMIT - 1] + "…"
    return name


def extension_of(name: str, allowed: set[str], default: str) -> str:
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    return ext if ext in allowed else default


@contextmanager
def local_copy(field: FieldFile) -> Iterator[Path]:
    """A local path holding the stored file: the file itself on disk storage, else a copy."""
    with stored_copy(field.storage, field.name or "") as path:
        yield path


@contextmanager
def stored_copy(storage: Storage, name: str) -> Iterator[Path]:
    """A local path holding the file `name` of `storage` (local_copy for a bare storage name).

    Storages without local files (S3 and the like) raise NotImplementedError from path(); the
    file is then downloaded to a temporary copy that is removed afterwards.
    """
    try:
        on_disk = Path(storage.path(name))
    except NotImplementedError:
        on_disk = None
    if on_disk is not None:
        yield on_disk
        return
    suffix = Path(name).suffix
    with tempfile.NamedTemporaryFile(
        prefix=scratch_prefix(), suffix=suffix, dir=settings.FILE_UPLOAD_TEMP_DIR
    ) as tmp:
        with writing_to(tmp.name), storage.open(name, "rb") as stored:
            shutil.copyfileobj(stored, tmp, CHUNK)
            tmp.flush()
        yield Path(tmp.name)


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """A folder of this process's own in the scratch folder, removed with what is in it.

    A write in it that meets a full disk names it, unless the error already names its file
    (a store to the media folder inside the block names the media file).
    """
    with (
        tempfile.TemporaryDirectory(
            prefix=scratch_prefix(), dir=settings.FILE_UPLOAD_TEMP_DIR
        ) as name,
        writing_to(name),
    ):
        yield Path(name)


SCRATCH_OWNER = re.compile(rf"^{SCRATCH_PREFIX}(\d+)-")


def scratch_prefix() -> str:
    """How this process's scratch copies and folders are named: after its process id, so that
    those of a process that is gone (a worker killed mid-step) can be removed at once."""
    return f"{SCRATCH_PREFIX}{os.getpid()}-"


def scratch_owner_gone(name: str) -> bool:
    """Whether `name` is scratch of a process that no longer runs on this host.

    A host's data folder is its own, so its process ids are this machine's. A process id used
    again by another process only keeps the scratch until the age rule removes it.
    """
    match = SCRATCH_OWNER.match(name)
    if match is None:
        return False
    pid = int(match.group(1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether the process has ended but not been reaped yet: a worker killed with its cluster
    stays a zombie where nothing reaps orphans (a container whose first process does not), and
    a zombie writes nothing more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # not Linux, or gone this instant (the next look says so)
    # "pid (command) state ...": the command may hold spaces and parentheses.
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def scratch_remove_dead() -> int:
    """Remove the scratch copies and folders of processes no longer running on this host (a
    worker killed mid-step); how many. Those of live processes are theirs."""
    removed = 0
    for entry in Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir():
        if not scratch_owner_gone(entry.name):
            continue
        try:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue  # removed by another worker meanwhile
        removed += 1
    return removed


def store_path(field: FieldFile, name: str, path: Path) -> None:
    """Save a local file into `field` under the generated `name` (not saving the model).

    A write that fails part-way (a full disk) leaves nothing behind: the storage would keep the
    partial file, and the next attempt would be stored beside it under another name.
    """
    with path.open("rb") as handle:
        store_content(field, name, File(handle))


def store_content(field: FieldFile, name: str, content: File) -> None:
    """Save `content` (an open file, an upload) into `field` under the generated `name`.

    As with store_path, a write that fails part-way leaves nothing behind.
    """
    # The name the storage will write to (our file fields have no upload_to, so saving under it
    # keeps it as it is), known beforehand so that a partial file can be found and removed.
    target = field.storage.get_available_name(field.field.generate_filename(field.instance, name))
    with _nothing_partial(field.storage, target):
        field.save(target, content, save=False)


def store_file(storage: Storage, name: str, path: Path) -> str:
    """Save a local file into `storage` as `name`, or a free name beside it; the name used.

    As with store_path, a write that fails part-way leaves nothing behind.
    """
    target = storage.get_available_name(name)
    with _nothing_partial(storage, target), path.open("rb") as handle:
        return storage.save(target, File(handle))


@contextmanager
def _nothing_partial(storage: Storage, target: str) -> Iterator[None]:
    """Remove what a failed write of `target` left: the partial file, and its folder if that
    left it empty. (A bucket shows no partial object; a multipart upload its failure could not
    abort is aborted by studio.storage.multipart.)"""
    try:
        with writing_to(storage.path(target)) if not is_remote(storage) else nullcontext():
            yield
    except BaseException:
        try:
            if storage.exists(target):
                storage.delete(target)
            remove_empty_folder(storage, posixpath.dirname(target))
        except STORAGE_ERRORS:
            pass  # the error being raised says more than this one
        raise


def delete_files(*fields: FieldFile) -> None:
    """Delete the fields' files, then their folders when that left them empty.

    Every stored object has a folder of its own (clips/<project>/<clip>/...), so an upload that
    is rejected or deleted leaves nothing behind. Only that folder is removed, never its parent:
    another upload may be creating a sibling folder in it at this moment.
    """
    folders: dict[tuple[int, str], Storage] = {}
    for field in fields:
        if field and field.name:
            field.storage.delete(field.name)
            folders[(id(field.storage), posixpath.dirname(field.name))] = field.storage
    for (_, folder), storage in folders.items():
        remove_empty_folder(storage, folder)


def remove_empty_folder(storage: Storage, name: str) -> bool:
    """Remove the storage's folder `name` if it is empty; True if it was removed.

    Storages without folders (buckets) have nothing to remove. A folder that is not empty (a
    file is being written there) or already gone is left as it is.
    """
    if not name:
        return False
    try:
        path = Path(storage.path(name))
    except NotImplementedError:
        return False
    try:
        path.rmdir()
    except OSError:
        return False
    return True


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_remote(storage: Storage) -> bool:
    """Whether the storage keeps its files elsewhere (a bucket) rather than on this disk."""
    try:
        storage.path("probe")
    except NotImplementedError:
        return True
    return False


def direct_url(
    field: FieldFile,
    *,
    seconds: int,
    content_type: str = "",
    download_name: str = "",
    as_attachment: bool = False,
    cache_control: str = "",
) -> str | None:
    """A presigned address of the stored file that works for `seconds`, or None.

    None for storages that cannot sign one (local files are streamed by studio.storage.serving). The
    answer's headers are signed into the address, so the bucket sends the type, download name
    and caching we would have sent.
    """
    storage = field.storage
    if not field.name or not is_remote(storage) or not hasattr(storage, "bucket"):
        return None
    parameters: dict[str, Any] = {}
    if content_type:
        parameters["ResponseContentType"] = content_type
    if download_name:
        parameters["ResponseContentDisposition"] = content_disposition(
            download_name, as_attachment=as_attachment
        )
    if cache_control:
        parameters["ResponseCacheControl"] = cache_control
    where = tuple(
        getattr(storage, name, "") for name in ("endpoint_url", "bucket_name", "location")
    )
    key = (where, field.name, seconds, tuple(sorted(parameters.items())))
    now = time.monotonic()
    with _signed_lock:
        made = _signed.get(key)
        if made is not None and now - made[1] < seconds / 2:
            return made[0]
    sign: Any = storage.url  # S3Storage.url takes these; Storage.url does not
    url = str(sign(field.name, parameters=parameters, expire=seconds))
    with _signed_lock:
        if len(_signed) >= SIGNED_KEPT:
            _signed.clear()
        _signed[key] = (url, now)
    return url


# The same address is given out again for the first half of its life, so that the browser's
# cache of the object (max-age: its life) is used when a page shows it again. Each request
# still passes the access check first; a share link's address lives a minute at most.
SIGNED_KEPT = 10_000
_signed: dict[tuple[Any, ...], tuple[str, float]] = {}
_signed_lock = threading.Lock()
