"""Names for the files Cutroom hands out: safe on every file system, readable in any script.

`safe_stem` cleans a person's text (a clip's title, a cut's name) into a name Windows, macOS
and Linux all accept: no path separators, none of `\\ : * ? " < > |`, no control or invisible
formatting characters (a right-to-left override could disguise `.exe`), no trailing dots or
spaces (Windows drops them), and a length that fits
every file system's 255-byte limit with room for what follows. `content_disposition` sends such
a name: as is when it is ASCII, else as RFC 6266's `filename*` (UTF-8) with an ASCII
`filename=` fallback for the clients that do not read it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from django.utils.http import content_disposition_header

# Forbidden on Windows (and "/" everywhere); runs of them and of spaces become one.
_UNSAFE = re.compile(r'[/\\:*?"<>|]+')
_SPACES = re.compile(r"\s+")
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in range(10)}
# Well under 255 bytes: the stem takes a version, timecodes, a seed and a suffix after it.
STEM_BYTES = 120


def safe_stem(text: str, *, fallback: str = "file", limit: int = STEM_BYTES) -> str:
    """`text` as a file name's stem (see the module), at most `limit` UTF-8 bytes."""
    text = unicodedata.normalize("NFC", text)
    # Control (Cc), format (Cf: bidi overrides, zero-width), unassigned and private characters
    # go; line and paragraph separators are spaces.
    text = "".join(
        " " if unicodedata.category(c)[0] == "Z" else c
        for c in text
        if unicodedata.category(c)[0] != "C"
    )
    text = _SPACES.sub(" ", _UNSAFE.sub("-", text)).strip(" .-_")
    while len(text.encode()) > limit:
        text = text[:-1]
    return text.rstrip(" .-_") or fallback


def file_name(stem: str, suffix: str) -> str:
    """`stem` + `suffix` (".mp4"), the suffix kept only when it is a plain extension, and never
    a reserved device name of Windows (CON, NUL, COM1…, with or without an extension)."""
    suffix = suffix.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else ""
    name = f"{stem}{suffix}"
    # "con.mp4" is as reserved on Windows as "con".
    if PurePosixPath(name).stem.split(".")[0].upper() in _RESERVED:
        name = f"{stem}_{suffix}"
    return name


def ascii_name(name: str) -> str:
    """The closest ASCII name: accents dropped (é -> e), other scripts left out."""
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    decomposed = unicodedata.normalize("NFKD", stem)
    plain = "".join(c for c in decomposed if c.isascii() and c.isprintable())
    plain = _SPACES.sub(" ", _UNSAFE.sub("-", plain)).strip(" .-_")
    return file_name(plain or "download", suffix if suffix.isascii() else "")


def content_disposition(name: str, *, as_attachment: bool) -> str:
    """The Content-Disposition header for `name`: Django's (RFC 6266, `filename*` for
    non-ASCII names) with the ASCII `filename=` fallback placed first, as RFC 6266 advises."""
    header = content_disposition_header(as_attachment, name) or ""
    if name.isascii():
        return header
    kind, _, extended = header.partition("; ")
    return f'{kind}; filename="{ascii_name(name)}"; {extended}'


def window_timecode(ms: int, fps: float | None, *, hours: bool) -> str:
    """A point of a clip as `MM-SS-FF` (`HH-MM-SS-FF` with `hours`) at the clip's frame rate,
    counted in whole frames (23.976 counts as 24, as in the comment timecodes); `MM-SS` when
    the rate is not known."""
    rate = max(1, round(fps)) if fps else 0
    seconds, frames = divmod(round(ms * rate / 1000), rate) if rate else (ms // 1000, None)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    parts = [hh, mm, ss] if hours else [minutes, ss]
    if frames is not None:
        parts.append(frames)
    return "-".join(f"{part:02d}" for part in parts)
