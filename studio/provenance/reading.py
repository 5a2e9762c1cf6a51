"""Reading a video's content credentials back for people: the verify pages and the Content
credentials panel of take and render pages.

`reading_of_file` reads a local file (an upload in the scratch folder); `reading_of_stored`
reads a stored result through the scratch folder and keeps what it found in the cache, keyed by
the stored name, its size and the signing identity, so a page seen again does not read the
whole file again. What a reading says in words is decided here (`Reading`), not in templates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from django.core.cache import cache
from django.db.models.fields.files import FieldFile

from studio.provenance.credentials import CredentialIngredient, Credentials
from studio.provenance.disclosure import LOCAL_WORDS
from studio.provenance.identity import IdentityError, SigningIdentity, signing_identity
from studio.provenance.manifests import SOFTWARE, SigningError, manifest_read
from studio.storage.files import STORAGE_ERRORS, scratch_dir, stored_copy
from studio.storage.services import bucket_of, stored_chunks

log = logging.getLogger(__name__)

# Valid for a week: a stored file never changes under its name and size (signing it again
# stores a file of another size), so the entry only has to outlive repeated visits.
CACHE_SECONDS = 7 * 24 * 60 * 60
# Part of the cache key: a change to Reading or Credentials bumps it, so entries pickled by the
# code before are never read back into the new classes.
CACHE_VERSION = 1
BEFORE_CREDENTIALS = "No content credentials (made before Cutroom signed its results)."
NO_CREDENTIALS = "No content credentials: nothing in this file says who made it or how."

# The first bytes of the containers people are likely to drop, and what c2pa makes of them.
# ISO media (MP4, MOV, M4V) and AVI carry credentials; WebM, Matroska, MPEG-TS, FLV and WMV
# cannot (c2pa has no reader for them); anything else is not a video.
IMAGE_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis", b"M4A ", b"M4B ")
QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip")


class VerifyRefused(Exception):
    """The file cannot be read for credentials: the message says why, in words."""


def video_mime(head: bytes) -> str:
    """The MIME type c2pa reads this video as, from its first 16 bytes; VerifyRefused when it
    is not a video or a video c2pa cannot read."""
    kind = head[4:8]
    if kind == b"ftyp":
        brand = head[8:12]
        if brand in IMAGE_BRANDS:
            raise VerifyRefused("This file is not a video (it is a picture or sound file).")
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if kind in QUICKTIME_ATOMS:
        return "video/quicktime"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/avi"
    unreadable = {
        b"\x1a\x45\xdf\xa3": "WebM or Matroska",
        b"FLV\x01": "FLV",
        b"\x30\x26\xb2\x75": "WMV",
    }
    for magic, name in unreadable.items():
        if head.startswith(magic):
            raise VerifyRefused(
                f"This is a {name} video, a format content credentials (C2PA) cannot be read "
                "from. Cutroom signs MP4 files; try the MP4 you downloaded."
            )
    if head[:1] == b"\x47" or head[:4] == b"\x00\x00\x01\xba":
        raise VerifyRefused(
            "This is an MPEG stream, a format content credentials (C2PA) cannot be read from. "
            "Cutroom signs MP4 files; try the MP4 you downloaded."
        )
    raise VerifyRefused("This file is not a video Cutroom can read (MP4, MOV, M4V or AVI).")


@dataclass(frozen=True)
class Source:
    """One ingredient, in words."""

    title: str
    sha256: str
    role: str  # "source clip", "reference image", "window 2 of the cut", ...
    start: float | None
    end: float | None

    @property
    def span(self) -> str:
        """Where a cut's window sits in the cut, e.g. "0.5 s to 1.75 s"; empty for others."""
        if self.start is None or self.end is None:
            return ""
        return f"{self.start:g} s to {self.end:g} s"


@dataclass(frozen=True)
class Reading:
    """What a file's credentials say, for a page. `state` is "valid", "tampered", "none"
    (no credentials) or "unreadable" (`problem` says why)."""

    state: str
    credentials: Credentials | None = None
    signer_kind: str = ""  # "own", "operator" or "other"
    problem: str = ""

    @property
    def headline(self) -> str:
        if self.state == "valid":
            return "Valid: the file is exactly as it was signed."
        if self.state == "tampered":
            return "Tampered (Invalid): the file was changed after it was signed."
        if self.state == "none":
            return self.problem or NO_CREDENTIALS
        return self.problem

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.credentials.reasons if self.credentials else ()

    @property
    def made_by(self) -> str:
        """The software that wrote the credentials (the claim generator)."""
        if not self.credentials:
            return ""
        agents = [a.software_agent for a in self.credentials.actions if a.software_agent]
        return self.credentials.claim_generator or (agents[0] if agents else "not said")

    @property
    def signed_at(self) -> dt.datetime | None:
        return self.credentials.signed_at if self.credentials else None

    @property
    def ai_words(self) -> str:
        """Made with AI or not, in the words the take and render pages use."""
        made = self.credentials
        if made is None:
            return ""
        if made.made_with_ai:
            models = ", ".join(made.models)
            return f"Made with AI ({models})" if models else "Made with AI"
        if made.claim_generator.startswith(SOFTWARE):
            return LOCAL_WORDS
        return "Not AI, as far as its credentials say"

    @property
    def providers(self) -> tuple[str, ...]:
        if not self.credentials:
            return ()
        return tuple(dict.fromkeys(a.provider for a in self.credentials.actions if a.provider))

    @property
    def steps(self) -> tuple[str, ...]:
        """What was done, each step as its credentials describe it."""
        if not self.credentials:
            return ()
        return tuple(a.description for a in self.credentials.actions if a.description)

    @property
    def prompt(self) -> str:
        if not self.credentials:
            return ""
        return next((a.prompt for a in self.credentials.actions if a.prompt), "")

    @property
    def sources(self) -> tuple[Source, ...]:
        if not self.credentials:
            return ()
        return tuple(_source(i) for i in self.credentials.ingredients)

    @property
    def signer_words(self) -> str:
        made = self.credentials
        if made is None:
            return ""
        if self.signer_kind == "own":
            return "Signed by this Cutroom instance, not by a trusted authority."
        issued = f", issued by {made.issuer}" if made.issuer else ""
        if self.signer_kind == "operator":
            return f"Signed with this Cutroom's operator certificate: {made.signer}{issued}."
        return (
            f"Signed by someone else: {made.signer or 'an unnamed certificate'}{issued}. "
            "This Cutroom does not know that certificate, so it cannot say who stands behind it."
        )


def _source(ingredient: CredentialIngredient) -> Source:
    roles = {"parentOf": "source clip", "inputTo": "reference", "componentOf": "window of the cut"}
    role = roles.get(ingredient.relationship, ingredient.relationship or "source")
    if ingredient.format.startswith("image/") and ingredient.relationship == "inputTo":
        role = "reference image"
    return Source(ingredient.title, ingredient.sha256, role, ingredient.start, ingredient.end)


def _signer_kind(made: Credentials, identity: SigningIdentity) -> str:
    if made.own_signer:
        return "own"
    # Trusted means the chain ends at this instance's anchor: the operator's, when one is set.
    # A tampered file is never trusted, so its signer is recognised by the certificate's name.
    ours = made.trusted or (not made.valid and made.signer == identity.common_name)
    return "operator" if ours and not identity.own else "other"


def reading_of_file(path: Path, *, mime: str | None = None) -> Reading:
    """Read the credentials of the video at `path` and check them against its bytes."""
    try:
        identity = signing_identity()
    except IdentityError as error:
        return Reading("unreadable", problem=f"Cutroom cannot check credentials now: {error}")
    if mime is None:
        with path.open("rb") as reading:
            mime = video_mime(reading.read(16))
    try:
        made = manifest_read(path, identity=identity, mime=mime)
    except SigningError:
        log.info("credentials of %s could not be read", path.name, exc_info=True)
        return Reading(
            "unreadable",
            problem=(
                "The credentials of this file cannot be read: the video is damaged, or its "
                "credentials were written in a way C2PA cannot read."
            ),
        )
    if made is None:
        return Reading("none")
    state = "valid" if made.valid else "tampered"
    return Reading(state, credentials=made, signer_kind=_signer_kind(made, identity))


def _cache_key(name: str, size: int) -> str:
    try:
        serial = signing_identity().leaf.serial_number
    except IdentityError:
        serial = 0
    digest = hashlib.sha256(f"{name}\0{size}\0{serial}".encode()).hexdigest()
    return f"credentials:v{CACHE_VERSION}:{digest}"


def reading_of_stored(field: FieldFile) -> Reading:
    """The credentials of a stored result, read once per file and then from the cache. A file
    on a bucket is copied to the scratch folder first (and removed after)."""
    name = field.name or ""
    try:
        size = field.storage.size(name)
    except STORAGE_ERRORS:
        return Reading("unreadable", problem="The stored file cannot be reached just now.")
    key = _cache_key(name, size)
    if (found := cache.get(key)) is not None:
        return found
    try:
        reading = _read_stored(field, name)
    except VerifyRefused as refused:
        reading = Reading("unreadable", problem=str(refused))
    except STORAGE_ERRORS:
        log.warning("could not read %s for its credentials", name, exc_info=True)
        return Reading("unreadable", problem="The stored file cannot be reached just now.")
    cache.set(key, reading, CACHE_SECONDS)
    return reading


def _read_stored(field: FieldFile, name: str) -> Reading:
    if bucket_of(field.storage) is None:
        with stored_copy(field.storage, name) as path:
            return reading_of_file(path)
    # Straight off the object's body into the scratch folder: the storage's own File would hold
    # the whole object in memory.
    with scratch_dir() as folder:
        path = folder / f"stored{Path(name).suffix}"
        with path.open("wb") as copy:
            for chunk in stored_chunks(field):
                copy.write(chunk)
        return reading_of_file(path)
