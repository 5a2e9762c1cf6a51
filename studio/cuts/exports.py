"""A cut's timeline for editing software: OpenTimelineIO, FCP 7 XML (xmeml) and CMX 3600 EDL.

Pure functions: `timeline()` turns a render's plan (studio/cuts/renders.py `cut_plan`) and the
names of the media into frames on the source's grid; `otio_text`, `xml_text` and `edl_text`
write that one timeline in each format, so the three always agree.

- The timeline is the whole clip at the source's frame rate (NTSC rates as 24000/1001 and the
  like, counted in non-drop-frame timecode from 00:00:00:00, as the comment exports do). Outside
  the windows it is the source at the same frames; inside each window the take from where the
  window's start falls in it (its handle before, `take_offset`), so the take's handles stay
  available to the editor for trims and the dissolves.
- The render's crossfades lie in the handles, before the in-point and after the out-point
  (studio/media/cut.py); here they are dissolves of the same length at the same place, computed
  by the render's own rule (`crossfades`): an OTIO Transition, a `D nnn` event, a transitionitem.
- Sound: the source's track under the whole clip, cut only where a window uses its take's sound.
  A clip without sound has no audio track (as its render has no sound).
- Takes are placed frame for frame: a take the render retimed by a few frames to fit its
  window (studio/media/cut_plan.py) keeps its own speed here; the editor sees it as is.
- Media are referenced by relative paths (`media/<file>`), laid out so in the zip with the
  media (studio/cuts/bundles.py): unzipped, the .otio and .xml open with their media found.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

import opentimelineio as otio

from studio.core.text import printable
from studio.cuts.windows import FrameGrid
from studio.media.cut_plan import crossfades
from studio.review.timecodes import timecode

MEDIA_FOLDER = "media"
REEL = "AX"  # the "auxiliary source" reel: editors conform such events by their clip names
DISSOLVE = "Cross Dissolve"
Span = tuple[int, int]


@dataclass(frozen=True)
class Media:
    """A file the timeline uses, as it lies beside the timeline files."""

    name: str  # the file's name, unique within an export
    seconds: float  # its length
    has_audio: bool = True

    @property
    def path(self) -> str:
        return f"{MEDIA_FOLDER}/{self.name}"


@dataclass(frozen=True)
class Piece:
    """A stretch of one track: `media` from frame `source_in`, on the timeline's frames
    [record_in, record_out). A take's piece blends in over the `fade_in` frames before its
    in-point and out over the `fade_out` frames after its out-point, using its handles."""

    media: Media
    record_in: int
    record_out: int
    source_in: int
    window: int | None = None  # the window's number on the cut page; None for the source
    take: str = ""  # the take's code
    fade_in: int = 0
    fade_out: int = 0

    @property
    def frames(self) -> int:
        return self.record_out - self.record_in

    @property
    def source_out(self) -> int:
        return self.source_in + self.frames


@dataclass(frozen=True)
class Timeline:
    name: str
    rate: Fraction  # frames a second, exactly (24000/1001 for 23.976)
    frames: int  # the whole clip
    width: int
    height: int
    source: Media
    video: tuple[Piece, ...]
    audio: tuple[Piece, ...]  # empty when the clip has no sound

    @property
    def media(self) -> list[Media]:
        """Every file used, the source first, each once."""
        found = {self.source.name: self.source}
        for piece in self.video + self.audio:
            found.setdefault(piece.media.name, piece.media)
        return list(found.values())

    def frames_of(self, media: Media) -> int:
        """A file's length in whole frames of the timeline's rate."""
        return max(1, math.floor(media.seconds * self.rate + Fraction(1, 1000)))


class ExportProblem(ValueError):
    """The plan does not fit the clip (a window outside it, windows out of order)."""


def timeline(
    *,
    name: str,
    plan: Mapping[str, Any],
    source: Media,
    takes: Mapping[str, Media],
    fps: float,
    duration: float,
    width: int,
    height: int,
    numbers: Sequence[int] | None = None,
) -> Timeline:
    """The timeline of a plan: `takes` are the media of the plan's takes by code, `numbers`
    the windows' numbers on the cut page (default 1, 2, ...)."""
    grid = FrameGrid(duration=duration, fps=fps)
    rate = grid.rate
    if rate is None:  # FrameGrid with an fps always has one
        raise ExportProblem("The clip's frame rate is not known.")
    step = 1 / float(rate)
    planned = list(plan.get("windows", ()))
    numbers = list(numbers or range(1, len(planned) + 1))
    spans = [
        (float(w["start"]), float(w["end"]), float(w["take_offset"]), float(w["handle_after"]))
        for w in planned
    ]
    blends = crossfades(
        spans, step, int(plan.get("crossfade_frames", 0)), plan.get("shot_cuts") or ()
    )
    # Where two windows meet, the render blends the first take's tail (its handle after) into
    # the second over `cross` frames: in a timeline, the first take's dissolve out.
    fades = [
        (fade_in, fade_out or (blends[i + 1][2] if i + 1 < len(blends) else 0))
        for i, (fade_in, fade_out, _) in enumerate(blends)
    ]
    video: list[Piece] = []
    audio: list[Piece] = []
    at = 0
    for window, number, (fade_in, fade_out) in zip(planned, numbers, fades, strict=True):
        first, last = grid.nearest(float(window["start"])), grid.nearest(float(window["end"]))
        if first < at or last <= first:
            raise ExportProblem(f"Window {number} does not follow the one before it in the clip.")
        if first > at:
            video.append(Piece(source, at, first, at))
        # No blend reaches past the clip's ends (the render has no frames there either).
        fade_in, fade_out = min(fade_in, first), min(fade_out, grid.last - last)
        take = takes[window["take"]]
        offset = round(float(window["take_offset"]) * rate)
        video.append(Piece(take, first, last, offset, number, window["take"], fade_in, fade_out))
        if window.get("take_sound"):
            audio.append(Piece(take, first, last, offset, number, window["take"]))
        at = last
    if at < grid.last:
        video.append(Piece(source, at, grid.last, at))
    return Timeline(
        name=printable(name),
        rate=rate,
        frames=grid.last,
        width=width,
        height=height,
        source=source,
        video=tuple(video),
        audio=tuple(_source_sound(source, audio, grid.last)) if source.has_audio else (),
    )


def _source_sound(source: Media, takes: list[Piece], frames: int) -> list[Piece]:
    """The source's sound under the whole clip but where a take's own sound is used."""
    pieces: list[Piece] = []
    at = 0
    for piece in takes:
        if piece.record_in > at:
            pieces.append(Piece(source, at, piece.record_in, at))
        pieces.append(piece)
        at = piece.record_out
    if at < frames:
        pieces.append(Piece(source, at, frames, at))
    return pieces


def _name(piece: Piece) -> str:
    return piece.media.name


# -- OpenTimelineIO --------------------------------------------------------------------------
def otio_timeline(line: Timeline) -> otio.schema.Timeline:
    rate = float(line.rate)

    def time(frames: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(frames, rate)

    references: dict[str, otio.schema.ExternalReference] = {}

    def reference(media: Media) -> otio.schema.ExternalReference:
        # One reference object per file, shared by its clips, as an editor's media pool has it.
        if media.name not in references:
            references[media.name] = otio.schema.ExternalReference(
                target_url=media.path,
                available_range=otio.opentime.TimeRange(time(0), time(line.frames_of(media))),
            )
        return references[media.name]

    def track(name: str, kind: str, pieces: Sequence[Piece]) -> otio.schema.Track:
        made = otio.schema.Track(name=name, kind=kind)
        for piece in pieces:
            if piece.fade_in:
                made.append(_dissolve(time(piece.fade_in), time(0)))
            clip = otio.schema.Clip(
                name=_name(piece),
                media_reference=reference(piece.media),
                source_range=otio.opentime.TimeRange(time(piece.source_in), time(piece.frames)),
            )
            if piece.window is not None:
                clip.metadata["cutroom"] = {"window": piece.window, "take": piece.take}
            made.append(clip)
            if piece.fade_out:
                made.append(_dissolve(time(0), time(piece.fade_out)))
        return made

    result = otio.schema.Timeline(name=line.name, global_start_time=time(0))
    result.tracks.append(track("V1", otio.schema.TrackKind.Video, line.video))
    if line.audio:
        result.tracks.append(track("A1", otio.schema.TrackKind.Audio, line.audio))
    return result


def _dissolve(
    before: otio.opentime.RationalTime, after: otio.opentime.RationalTime
) -> otio.schema.Transition:
    return otio.schema.Transition(
        name=DISSOLVE,
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=before,
        out_offset=after,
    )


def otio_text(line: Timeline) -> str:
    return otio.adapters.write_to_string(otio_timeline(line), "otio_json")


# -- CMX 3600 EDL ----------------------------------------------------------------------------
def edl_text(line: Timeline) -> str:
    """Video events first (V), then the sound (AA); each event's record range follows the
    one before it, a dissolve's event starting where its dissolve starts."""
    count = max(1, round(line.rate))

    def tc(frames: int) -> str:
        return timecode(frames, count)

    def event(number: int, channel: str, kind: str, src: Span, rec: Span) -> str:
        return (
            f"{number:03d}  {REEL:<8} {channel:<5} {kind:<8} "
            f"{tc(src[0])} {tc(src[1])} {tc(rec[0])} {tc(rec[1])}"
        )

    # CMX 3600 keeps titles short; a long one is cut rather than broken over lines.
    lines = [f"TITLE: {_edl_safe(line.name)[:70]}", "FCM: NON-DROP FRAME", ""]
    number = 0
    for channel, pieces in (("V", line.video), ("AA", line.audio)):
        for index, piece in enumerate(pieces):
            number += 1
            before = pieces[index - 1] if index else None
            # A dissolve into this piece: its own (the take's head) or the take before's tail.
            length = piece.fade_in or (before.fade_out if before is not None else 0)
            start = piece.record_in - piece.fade_in
            end = piece.record_out - (pieces[index + 1].fade_in if index + 1 < len(pieces) else 0)
            source = (piece.source_in - piece.fade_in, piece.source_in + (end - piece.record_in))
            if length and before is not None:
                held = before.source_in + (start - before.record_in)
                lines.append(event(number, channel, "C", (held, held), (start, start)))
                lines.append(event(number, channel, f"D    {length:03d}", source, (start, end)))
                lines += _edl_clip("FROM", before) + _edl_clip("TO", piece)
            else:
                lines.append(event(number, channel, "C", source, (start, end)))
                lines += _edl_clip("FROM", piece)
            lines.append(f"* SOURCE FILE: {_edl_safe(piece.media.path)}")
            lines.append("")
    return "\n".join(lines)


def _edl_clip(side: str, piece: Piece) -> list[str]:
    """The comments that name an event's clip (Premiere conforms an AX event by it) and its file
    (as Avid writes it: OpenTimelineIO's reader links media so; Resolve reads SOURCE FILE)."""
    return [
        f"* {side} CLIP NAME: {_edl_safe(_name(piece))}",
        f"* {side} CLIP: {_edl_safe(piece.media.path)}",
    ]


def _edl_safe(text: str) -> str:
    """One line of printable text: an EDL is read line by line."""
    return " ".join(printable(text).split())


# -- FCP 7 XML (xmeml) -----------------------------------------------------------------------
def xml_text(line: Timeline) -> str:
    root = ET.Element("xmeml", version="4")
    sequence = ET.SubElement(root, "sequence", id="sequence-1")
    _text(sequence, "name", line.name)
    _text(sequence, "duration", line.frames)
    sequence.append(_rate(line.rate))
    sequence.append(_timecode(line.rate, 0))
    media = ET.SubElement(sequence, "media")
    video = ET.SubElement(media, "video")
    form = ET.SubElement(video, "format")
    form.append(_picture(line))
    files: dict[str, str] = {}
    video.append(_xml_track(line, line.video, "video", files))
    if line.audio:
        sound = ET.SubElement(media, "audio")
        _text(sound, "numOutputChannels", 2)
        sound.append(_xml_track(line, line.audio, "audio", files))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n{body}\n'


def _xml_track(
    line: Timeline, pieces: Sequence[Piece], kind: str, files: dict[str, str]
) -> ET.Element:
    track = ET.Element("track")
    for index, piece in enumerate(pieces):
        if piece.fade_in:
            track.append(_transition(line, piece.record_in - piece.fade_in, piece.record_in, "end"))
        item = ET.SubElement(track, "clipitem", id=f"clipitem-{kind}-{index + 1}")
        _text(item, "name", _name(piece))
        _text(item, "duration", line.frames_of(piece.media))
        item.append(_rate(line.rate))
        _text(item, "start", piece.record_in)
        _text(item, "end", piece.record_out)
        _text(item, "in", piece.source_in)
        _text(item, "out", piece.source_out)
        item.append(_file(line, piece.media, files))
        if kind == "audio":
            source_track = ET.SubElement(item, "sourcetrack")
            _text(source_track, "mediatype", "audio")
            _text(source_track, "trackindex", 1)
        if piece.fade_out:
            track.append(
                _transition(line, piece.record_out, piece.record_out + piece.fade_out, "start")
            )
    return track


def _file(line: Timeline, media: Media, files: dict[str, str]) -> ET.Element:
    """A file in full the first time, then by its id (as xmeml wants)."""
    if media.name in files:
        return ET.Element("file", id=files[media.name])
    files[media.name] = f"file-{len(files) + 1}"
    file = ET.Element("file", id=files[media.name])
    _text(file, "name", media.name)
    _text(file, "pathurl", quote(media.path))
    file.append(_rate(line.rate))
    _text(file, "duration", line.frames_of(media))
    file.append(_timecode(line.rate, 0))
    inside = ET.SubElement(file, "media")
    ET.SubElement(inside, "video").append(_picture(line))
    if media.has_audio:
        sound = ET.SubElement(inside, "audio")
        characteristics = ET.SubElement(sound, "samplecharacteristics")
        _text(characteristics, "depth", 16)
        _text(characteristics, "samplerate", 48000)
        _text(sound, "channelcount", 2)
    return file


def _transition(line: Timeline, start: int, end: int, alignment: str) -> ET.Element:
    item = ET.Element("transitionitem")
    _text(item, "start", start)
    _text(item, "end", end)
    _text(item, "alignment", alignment)
    item.append(_rate(line.rate))
    effect = ET.SubElement(item, "effect")
    _text(effect, "name", DISSOLVE)
    _text(effect, "effectid", DISSOLVE)
    _text(effect, "effectcategory", "Dissolve")
    _text(effect, "effecttype", "transition")
    _text(effect, "mediatype", "video")
    return item


def _rate(rate: Fraction) -> ET.Element:
    element = ET.Element("rate")
    _text(element, "timebase", round(rate))
    _text(element, "ntsc", "TRUE" if rate.denominator == 1001 else "FALSE")
    return element


def _timecode(rate: Fraction, frame: int) -> ET.Element:
    element = ET.Element("timecode")
    element.append(_rate(rate))
    _text(element, "string", timecode(frame, max(1, round(rate))))
    _text(element, "frame", frame)
    _text(element, "displayformat", "NDF")
    return element


def _picture(line: Timeline) -> ET.Element:
    characteristics = ET.Element("samplecharacteristics")
    characteristics.append(_rate(line.rate))
    _text(characteristics, "width", line.width)
    _text(characteristics, "height", line.height)
    _text(characteristics, "pixelaspectratio", "square")
    _text(characteristics, "fielddominance", "none")
    return characteristics


def _text(parent: ET.Element, tag: str, value: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = printable(str(value))
    return element
