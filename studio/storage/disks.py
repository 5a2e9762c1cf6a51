"""The folders Cutroom writes to on this host, and which of them a failed write was on.

A full disk is reported by naming its folder (the media folder, the scratch folder, the folder of
temporary uploads, the database's folder), so that whoever reads the reason or /healthz knows
where to free space. The system tells which file a write failed on only when it failed while
opening it: a write that meets a full disk part-way (os.write, shutil.copyfileobj) raises an
OSError without a filename. `writing_to` gives such an error the folder being written.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
# Errors that belong to the folder being written (a full or read-only disk), as opposed to
# network errors, which are OSErrors too.
DISK_ERRORS = (*DISK_FULL, errno.EROFS)
SCRATCH_PREFIX = "cutroom-"  # how scratch copies begin (studio.storage.files.scratch_prefix)
FOLDER_LABELS = {
    "media": "the media folder",
    "scratch": "the scratch folder",
    "uploads": "the temporary-upload folder",
    "database": "the database folder",
    "data": "the data folder",
}


@dataclass(frozen=True)
class Folder:
    """A folder Cutroom writes to: `kind` for /healthz, `label` for people."""

    kind: str
    label: str
    path: Path
    # Folders that share a path are told apart by the name of the entry written in them.
    prefix: str = ""

    @property
    def named(self) -> str:
        """As put in a sentence: the scratch folder (/var/cutroom/uploads-tmp)."""
        return f"{self.label} ({self.path})"

    def holds(self, entry: str) -> bool:
        return entry.startswith(self.prefix)


def written_folders() -> list[Folder]:
    """Every folder this host writes to, the more specific first where two share a path.

    The media folder only with local storage (a bucket's disk is not ours); the scratch copies
    of the workers and the temporary uploads of the web share FILE_UPLOAD_TEMP_DIR, told apart
    by their names; the database's folder only with SQLite.
    """
    temporary = Path(settings.FILE_UPLOAD_TEMP_DIR)
    folders = []
    if settings.STORAGE != "s3":
        folders.append(Folder("media", FOLDER_LABELS["media"], Path(settings.MEDIA_ROOT)))
    folders += [
        Folder("scratch", FOLDER_LABELS["scratch"], temporary, prefix=SCRATCH_PREFIX),
        Folder("uploads", FOLDER_LABELS["uploads"], temporary),
    ]
    if connection.vendor == "sqlite":
        database = Path(str(connection.settings_dict["NAME"]))
        folders.append(
            Folder("database", FOLDER_LABELS["database"], database.parent, database.name)
        )
    folders.append(Folder("data", FOLDER_LABELS["data"], Path(settings.DATA_DIR)))
    return folders


def folder_of(filename: str | os.PathLike[str]) -> Folder | None:
    """The folder that `filename` is in, or failing that the first one on its disk; None when
    it is on none of them."""
    path = Path(filename).resolve()
    folders = written_folders()
    inside = [
        (len(resolved.parts), folder)
        for folder in folders
        if (resolved := folder.path.resolve()) == path or resolved in path.parents
    ]
    if inside:
        deepest = max(depth for depth, _ in inside)
        tied = [folder for depth, folder in inside if depth == deepest]
        entry = path.parts[deepest] if len(path.parts) > deepest else ""
        return next((folder for folder in tied if folder.holds(entry)), tied[-1])
    # Not inside any of them (a path another program chose): a folder on the same disk.
    device = _device(path)
    return next((f for f in folders if device is not None and _device(f.path) == device), None)


def folder_name_of(error: OSError) -> str | None:
    """Which folder a failed write was on ("the media folder (/srv/media)"), or None when it
    cannot be told."""
    if error.filename is None:
        return None
    folder = folder_of(os.fsdecode(error.filename))
    return folder.named if folder is not None else None


def disk_full_reason(error: OSError, then: str) -> str:
    """The sentence for a write that met a full disk; `then` says what to do once there is
    room."""
    where = folder_name_of(error)
    if where is None:
        return f"A disk Cutroom writes to is full: free space on the server, then {then}."
    return f"{where[0].upper()}{where[1:]} is full: free space there, then {then}."


@contextmanager
def writing_to(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Name `folder` in a disk error raised without a filename by the writes inside."""
    try:
        yield
    except OSError as error:
        if error.filename is None and error.errno in DISK_ERRORS:
            error.filename = os.fspath(folder)
        raise


def nearest_existing(path: Path) -> Path:
    """`path`, or its nearest parent that exists (a folder not made yet will be made there)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _device(path: Path) -> int | None:
    try:
        return nearest_existing(path).stat().st_dev
    except OSError:
        return None
