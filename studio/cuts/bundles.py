"""A cut's export for editing software: its timeline in three formats, alone or zipped with
its media.

`cut_export` gathers what a timeline needs: the plan (a render's, exactly as rendered, or the
cut as it stands now), the source and each take's stored file, named as they lie in the zip.
A file that is gone is a refusal with the window it belongs to, before anything is sent.
`export_zip` streams the zip (stored, not compressed: video does not shrink) straight from
the storage, file by file and chunk by chunk (from a bucket too), so a request never holds the
media in memory or on disk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.db.models.fields.files import FieldFile
from django.utils.text import slugify
from zipstream import ZIP_STORED, ZipStream

from studio.core.errors import Refused
from studio.cuts import exports
from studio.cuts.models import Cut, CutRender
from studio.cuts.renders import cut_plan
from studio.models import Take
from studio.storage.files import STORAGE_ERRORS
from studio.storage.services import stored_chunks
from studio.takes.labelled import labelled_download, take_label_request

FORMATS = {
    "otio": ("application/json", exports.otio_text),
    "xml": ("application/xml", exports.xml_text),
    "edl": ("text/plain; charset=utf-8", exports.edl_text),
}


@dataclass(frozen=True)
class Stored:
    media: exports.Media
    field: FieldFile
    size: int


@dataclass(frozen=True)
class Export:
    stem: str  # `<clip>-<cut>`, `-v<n>` for a render
    timeline: exports.Timeline
    files: tuple[Stored, ...]  # the source first, then the takes

    def text(self, fmt: str) -> str:
        return FORMATS[fmt][1](self.timeline)


def cut_export(*, cut: Cut, render: CutRender | None = None, with_media: bool = False) -> Export:
    """The export of a ready render (the takes it used) or, without one, of the cut now.
    `with_media`: its files are handed out (the zip), so an AI take whose team asks for labels is
    its labelled copy (studio.takes.labelled), refused while that is not made yet."""
    clip = cut.clip
    if not clip.fps or not clip.duration or not clip.width or not clip.height:
        raise Refused("This clip's frame rate and size are not known yet: it cannot be exported.")
    plan = render.plan if render is not None else cut_plan(cut)
    numbers = _numbers(plan)
    stem = PurePosixPath(clip.original_name).stem
    name = _file_name(clip.original_name)
    source = _stored(clip.source, exports.Media(name, clip.duration, clip.has_audio))
    if source is None:
        raise Refused("The clip's source file is no longer stored, so the cut cannot be exported.")
    takes = {
        t.code: t
        for t in Take.objects.select_related("project__team").filter(
            code__in=[w["take"] for w in plan["windows"]]
        )
    }
    if with_media and (why := _labels_waiting(takes.values())):
        raise Refused(why)
    files, media = [source], {}
    for window, number in zip(plan["windows"], numbers, strict=True):
        stored = _take_file(
            takes.get(window["take"]), window, f"{slugify(stem) or 'clip'}-w{number}"
        )
        if stored is None:
            raise Refused(_gone(window, number, render))
        files.append(stored)
        media[window["take"]] = stored.media
    version = f" v{render.number}" if render is not None else ""
    line = exports.timeline(
        name=f"{cut.name}{version} ({clip.original_name})",
        plan=plan,
        source=source.media,
        takes=media,
        fps=clip.fps,
        duration=clip.duration,
        width=clip.width,
        height=clip.height,
        numbers=numbers,
    )
    return Export(
        stem=render.download_stem if render is not None else cut.download_stem,
        timeline=line,
        files=tuple(files),
    )


def _gone(window: dict, number: int, render: CutRender | None) -> str:
    where = f"render v{render.number}" if render is not None else "the cut"
    then = (
        "Export the cut as it stands, or choose another take and render again."
        if render is not None
        else "Choose another take for that window."
    )
    return (
        f"The take {where} uses for window {number} ({window['start']:.2f}–{window['end']:.2f} s)"
        f" is no longer stored, so the export cannot point to it. {then}"
    )


def _labels_waiting(takes: Iterable[Take]) -> str:
    """Why the zip cannot hand out every take labelled yet ("" when it can); asks for the
    labelled copies that are missing (the worker makes them)."""
    for take in takes:
        take_label_request(take=take)
        _, why = labelled_download(take)
        if why:
            return (
                f"{why.rstrip('.')} for {take.version_label or take.code} (your team asks for "
                "the “AI-generated” label on downloads). Download the zip again in a moment."
            )
    return ""


def _take_file(take: Take | None, window: dict, prefix: str) -> Stored | None:
    """A planned window's take file, `<clip>-w<n>-v<version>.mp4`; None when it is gone. An AI
    take whose team asks for labels is its labelled copy once made (same frames and times)."""
    if take is None or not take.result:
        return None
    variant, _ = labelled_download(take)
    field: FieldFile = getattr(take, variant or "result")
    # The take's whole length: the window with the handles it was sent with.
    seconds = take.result_duration or (
        window["take_offset"] + window["end"] - window["start"] + window["handle_after"]
    )
    # Named like the take's own download (its version), in ASCII for the timelines' addresses.
    name = f"{prefix}-{take.version_label or take.code}{_suffix(take.result.name or '')}"
    return _stored(field, exports.Media(name, seconds, bool(window.get("take_sound"))))


def _numbers(plan: dict) -> list[int]:
    """The planned windows' numbers on the cut page: those kept as the source are left out."""
    kept = set(plan.get("source_kept", ()))
    count = len(plan["windows"]) + len(kept)
    return [n for n in range(1, count + 1) if n not in kept]


def _file_name(name: str) -> str:
    """A file name safe in a zip and in a relative URL: `My clip.MOV` is `my-clip.mov`."""
    return f"{slugify(PurePosixPath(name).stem) or 'clip'}{_suffix(name)}"


def _suffix(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if suffix[1:].isalnum() else ".mp4"


def _stored(field: FieldFile, media: exports.Media) -> Stored | None:
    """The stored file with its size; None when it is gone (or the storage cannot say)."""
    if not field.name:
        return None
    try:
        size = field.storage.size(field.name)
    except (FileNotFoundError, *STORAGE_ERRORS):
        return None
    return Stored(media, field, size)


def export_zip(export: Export) -> ZipStream:
    """The zip, sized (its length is known before the first byte) and not yet read."""
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    for fmt in FORMATS:
        stream.add(export.text(fmt), f"{export.stem}.{fmt}")
    for stored in export.files:
        stream.add(stored_chunks(stored.field), stored.media.path, size=stored.size)
    return stream
