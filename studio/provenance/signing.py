"""Signing the files Cutroom stores for people: when they are first stored, and again later.

Both keep the rule of manifests.manifest_sign_or_keep: a failure never loses the file. When it
is first stored, the signed copy is made in the scratch folder and stored once (or the original,
with the reason). "Sign again" reads the stored file, signs it into scratch and stores the signed
copy under a new name; the caller switches its row to that name and deletes the old file.
"""

from __future__ import annotations

import errno
import importlib.metadata
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db.models.fields.files import FieldFile

from studio.provenance.manifests import Signed, manifest_sign_or_keep
from studio.storage.disks import disk_full_reason
from studio.storage.files import scratch_dir, sha256_of, store_file, stored_copy

log = logging.getLogger(__name__)


@cache
def software_version() -> str:
    """Cutroom's version as installed (pyproject.toml), for the manifest's software agent."""
    try:
        return importlib.metadata.version("cutroom")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# How c2pa (Rust) words a full disk or quota in the error it raises from a write.
FULL_DISK_WORDS = ("No space left on device", "Disk quota exceeded")


def sign_or_keep(*, source: Path, scratch: Path, manifest: Callable[[], dict[str, Any]]) -> Signed:
    """manifest_sign_or_keep, also when describing the file fails (a row gone meanwhile, a
    bug): the result is stored unsigned with the reason, never lost. A full disk is said as
    every other full disk is, naming the folder and what to do."""
    try:
        signed = manifest_sign_or_keep(source=source, scratch=scratch, manifest=manifest())
    except Exception as error:
        log.exception("content credentials not added to %s", source.name)
        return Signed(
            path=source,
            error=f"Cutroom hit an internal error while signing ({type(error).__name__}).",
        )
    if not signed.signed and any(words in signed.error for words in FULL_DISK_WORDS):
        full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(scratch))
        return Signed(path=signed.path, error=disk_full_reason(full, "press “Sign again”"))
    return signed


@dataclass(frozen=True)
class Resigned:
    signed: Signed
    name: str = ""  # the signed copy's stored name (empty when signing failed)
    size: int = 0
    sha256: str = ""


def stored_sign(field: FieldFile, *, manifest: Callable[[], dict[str, Any]]) -> Resigned:
    """Sign the file `field` names into a new stored file beside it (the old one is kept)."""
    storage, name = field.storage, field.name or ""
    with scratch_dir() as tmp, stored_copy(storage, name) as original:
        # A local file is read where it is (and never changed); a bucket's is downloaded into
        # scratch first, keeping its extension, which tells c2pa the container.
        signed = sign_or_keep(source=original, scratch=tmp, manifest=manifest)
        if not signed.signed:
            return Resigned(signed)
        stored = store_file(storage, name, signed.path)
        return Resigned(signed, stored, signed.path.stat().st_size, sha256_of(signed.path))
