"""C2PA manifests: what Cutroom says about a file it made, signing it in, and reading it back.

The builders are pure functions of plain values (titles, hashes, names, times) so that takes,
exports and cuts can call them without this package importing their models.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings

from studio.provenance.credentials import Credentials, credentials_from_store
from studio.provenance.identity import IdentityError, SigningIdentity, signing_identity

log = logging.getLogger(__name__)

SOFTWARE = "Cutroom"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_MEDIA = IPTC + "trainedAlgorithmicMedia"
COMPOSITE_WITH_AI = IPTC + "compositeWithTrainedAlgorithmicMedia"
COMPOSITE = IPTC + "composite"
# The containers Cutroom hands out that c2pa can sign (it cannot sign WebM).
MIME_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".zip": "application/zip",
}


class SigningError(Exception):
    """The file could not be signed (or read): the message says why, for the page to show."""


@dataclass(frozen=True)
class Source:
    """A file that went into a result, named by its title and content hash, never its bytes."""

    title: str
    sha256: str
    format: str = "video/mp4"


@dataclass(frozen=True)
class Window:
    """One window of a cut: the chosen take's file and where it sits in the cut, in seconds."""

    take: Source
    start: float
    end: float
    model: str  # empty for the local engine
    made_with_ai: bool


def _ingredient(source: Source, label: str, relationship: str, **extra: float) -> dict[str, Any]:
    return {
        "title": source.title,
        "format": source.format,
        "relationship": relationship,
        "label": label,
        "instance_id": label,
        # c2pa keeps an ingredient's metadata but drops a hash given without the file's bytes.
        "metadata": {"cutroom": {"sha256": source.sha256, **extra}},
    }


def _manifest(
    *, title: str, version: str, actions: list[dict[str, Any]], ingredients: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": SOFTWARE, "version": version}],
        "title": title,
        "ingredients": ingredients,
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": actions}}],
    }


def take_manifest(
    *,
    title: str,
    source: Source,
    references: Sequence[Source],
    model: str,
    provider: str,
    made_with_ai: bool,
    version: str,
    when: dt.datetime,
    prompt: str | None = None,
) -> dict[str, Any]:
    """A take: the source clip opened, then edited by a model (AI) or the local engine (not AI).

    The prompt goes in only when given: a team decides whether its prompts may travel."""
    ingredients = [_ingredient(source, "source", "parentOf")]
    ingredients += [
        _ingredient(reference, f"reference-{index}", "inputTo")
        for index, reference in enumerate(references, start=1)
    ]
    parameters: dict[str, Any] = {
        "ingredientIds": [i["label"] for i in ingredients],
        "model": model,
        "provider": provider,
    }
    if prompt:
        parameters["prompt"] = prompt
    edited: dict[str, Any] = {
        "action": "c2pa.edited",
        "when": when.isoformat(),
        "softwareAgent": {"name": SOFTWARE, "version": version},
        "parameters": parameters,
    }
    if made_with_ai:
        edited["digitalSourceType"] = AI_MEDIA
        edited["description"] = f"Made with AI ({model}, through {provider})."
    else:
        edited["description"] = f"Edited with {SOFTWARE}'s local engine, not AI."
    opened = {
        "action": "c2pa.opened",
        "when": when.isoformat(),
        "parameters": {"ingredientIds": ["source"]},
    }
    return _manifest(
        title=title, version=version, actions=[opened, edited], ingredients=ingredients
    )


def cut_manifest(
    *, title: str, clip: Source, windows: Sequence[Window], version: str, when: dt.datetime
) -> dict[str, Any]:
    """A cut render: the clip opened, each window's take placed over its range."""
    ingredients = [_ingredient(clip, "clip", "parentOf")]
    actions: list[dict[str, Any]] = [
        {
            "action": "c2pa.opened",
            "when": when.isoformat(),
            "parameters": {"ingredientIds": ["clip"]},
        }
    ]
    for index, window in enumerate(windows, start=1):
        label = f"window-{index}"
        ingredients.append(
            _ingredient(window.take, label, "componentOf", start=window.start, end=window.end)
        )
        placed: dict[str, Any] = {
            "action": "c2pa.placed",
            "when": when.isoformat(),
            "description": f"{window.take.title} over {window.start:g}s to {window.end:g}s.",
            "parameters": {"ingredientIds": [label]},
        }
        if window.made_with_ai:
            placed["digitalSourceType"] = AI_MEDIA
            placed["parameters"]["model"] = window.model
        actions.append(placed)
    any_ai = any(window.made_with_ai for window in windows)
    actions.append(
        {
            "action": "c2pa.edited",
            "when": when.isoformat(),
            "softwareAgent": {"name": SOFTWARE, "version": version},
            "digitalSourceType": COMPOSITE_WITH_AI if any_ai else COMPOSITE,
            "description": f"Cut of {clip.title} with {len(windows)} replaced window(s).",
        }
    )
    return _manifest(title=title, version=version, actions=actions, ingredients=ingredients)


LABEL_WORDS = "Burned a visible AI-generated label"


def label_manifest(
    *, title: str, parent: Source, version: str, when: dt.datetime, model: str = ""
) -> dict[str, Any]:
    """A visible label burned into `parent` (a take's result): the parent opened, then edited by
    Cutroom. The picture is still the model's, so the edit keeps trainedAlgorithmicMedia."""
    opened = {
        "action": "c2pa.opened",
        "when": when.isoformat(),
        "parameters": {"ingredientIds": ["parent"]},
    }
    parameters: dict[str, Any] = {"ingredientIds": ["parent"]}
    if model:
        parameters["model"] = model
    edited = {
        "action": "c2pa.edited",
        "when": when.isoformat(),
        "softwareAgent": {"name": SOFTWARE, "version": version},
        "digitalSourceType": AI_MEDIA,
        "description": LABEL_WORDS,
        "parameters": parameters,
    }
    return _manifest(
        title=title,
        version=version,
        actions=[opened, edited],
        ingredients=[_ingredient(parent, "parent", "parentOf")],
    )


def _mime_type(path: Path) -> str:
    try:
        return MIME_TYPES[path.suffix.lower()]
    except KeyError:
        raise SigningError(f"Content credentials cannot be added to {path.suffix} files.") from None


# Found by measuring (bench/provenance.py): with c2pa's defaults, signing a 500 MB MP4 holds
# twice the file in memory (the signed copy is built in memory, and the media data is hashed
# whole). A 1 MB threshold makes c2pa build the copy in a temporary file, and hashing the media
# data as a Merkle tree of 1 MB chunks reads it chunk by chunk: memory stays flat (~7 MB).
STREAMING = {
    "core": {"backing_store_memory_threshold_in_mb": 1, "merkle_tree_chunk_size_in_kb": 1024}
}


def manifest_sign(
    *, source: Path, dest: Path, manifest: dict[str, Any], identity: SigningIdentity | None = None
) -> None:
    """Write `source` with `manifest` signed into it to `dest` (in a scratch folder: the caller
    stores dest once). Both files are streamed through c2pa, never read whole into memory. On
    failure dest is removed and SigningError says why; source is never touched."""
    identity = identity or signing_identity()
    mime = _mime_type(dest)
    info = c2pa.C2paSignerInfo(identity.algorithm, identity.chain_pem, identity.key_pem, None)
    try:
        with (
            _temporaries_in(Path(settings.FILE_UPLOAD_TEMP_DIR)),
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(manifest, context=c2pa.Context.from_dict(STREAMING)) as builder,
            source.open("rb") as reading,
            dest.open("w+b") as writing,
        ):
            builder.sign(signer, mime, reading, writing)
    except (c2pa.C2paError, OSError) as error:
        dest.unlink(missing_ok=True)
        raise SigningError(f"Signing {source.name} failed: {error}") from error


_TMPDIR_HELD = threading.Lock()


@contextmanager
def _temporaries_in(folder: Path) -> Iterator[None]:
    """c2pa builds the signed copy in unnamed temporary files (up to the file's size each) in
    TMPDIR, which it reads at each signing: in the scratch folder they count where scratch copies
    count, and a full disk fails the signing there rather than filling /tmp. TMPDIR is the
    process's, so signings in one process take turns and it is put back after each."""
    with _TMPDIR_HELD:
        before = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(folder)
        try:
            yield
        finally:
            if before is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = before


@dataclass(frozen=True)
class Signed:
    path: Path  # the file to store: the signed copy, or the original when signing failed
    error: str  # why the credentials are missing; empty when signed

    @property
    def signed(self) -> bool:
        return not self.error


def manifest_sign_or_keep(*, source: Path, scratch: Path, manifest: dict[str, Any]) -> Signed:
    """Sign `source` into the scratch folder; when that fails for any reason (a bad or unreadable
    key, a full disk, a container c2pa cannot sign), keep the result unsigned and say why, for
    its page to show "credentials missing" and offer to sign again. Signing never loses a
    result."""
    dest = scratch / f"signed-{source.name}"
    try:
        manifest_sign(source=source, dest=dest, manifest=manifest)
    except (SigningError, IdentityError) as error:
        log.warning("content credentials not added to %s: %s", source.name, error)
        return Signed(path=source, error=str(error))
    return Signed(path=dest, error="")


def _reader_context(identity: SigningIdentity) -> c2pa.Context:
    """Files signed by this instance's identity read as trusted; others as valid or not."""
    anchor = identity.root.public_bytes(Encoding.PEM).decode()
    return c2pa.Context.from_dict({"trust": {"trust_anchors": anchor}})


def manifest_read(
    path: Path, *, identity: SigningIdentity | None = None, mime: str | None = None
) -> Credentials | None:
    """The credentials in `path`, checked against its bytes; None when it has no manifest.
    `mime` says what the file is when its name does not (an upload of any name)."""
    identity = identity or signing_identity()
    mime = mime or MIME_TYPES.get(path.suffix.lower(), "")
    try:
        with path.open("rb") as reading:
            reader = c2pa.Reader.try_create(
                mime or None, reading, context=_reader_context(identity)
            )
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as error:
        raise SigningError(f"The credentials of {path.name} cannot be read: {error}") from error
    return credentials_from_store(
        store, own_serial=str(identity.leaf.serial_number) if identity.own else None
    )
