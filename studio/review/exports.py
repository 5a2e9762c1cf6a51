"""A take's (or a cut render's) comments as markers for editing software: CSV, EDL and FCPXML.

A guest's name is marked "(guest)" in every format (docs/review.md "How the team sees them").
Every text goes through `printable` first: a control character that an old comment still holds
would make the XML unreadable (XML 1.0 cannot hold it, escaped or not) and reach a terminal
from the EDL or CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from studio.core.text import printable
from studio.models import Clip, CutRender, Side, Take
from studio.review.comments import comments_on, subject_fps
from studio.review.timecodes import timecode, timecode_rate

# A take plays one part of its clip; a render plays the whole clip, so its frames are the
# clip's own from 0.
Subject = Take | CutRender


def _subject(subject: Subject) -> dict[str, Any]:
    return {"render": subject} if isinstance(subject, CutRender) else {"take": subject}


def _offset(subject: Subject) -> float:
    return subject.start_ms / 1000 if isinstance(subject, Take) else 0.0


def _name(subject: Subject) -> str:
    if isinstance(subject, CutRender):
        return f"{subject.cut.name} v{subject.number}"
    return subject.title or subject.prompt


def _clip(subject: Subject) -> Clip | None:
    return subject.cut.clip if isinstance(subject, CutRender) else subject.clip


# -- exports ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Marker:
    number: int
    seconds: float  # from the start of the source clip
    frames: int  # at the timecode rate
    rate: int
    timecode: str
    take_frame: int
    side: str
    who: str  # "Kim (guest)" for a guest
    guest: bool
    body: str
    colour: str
    resolved: bool
    replies: list[str]
    created_at: str


def markers(subject: Subject) -> list[Marker]:
    """A take's or render's threads as markers on the source clip's timeline (hidden and
    deleted ones left out), in time order."""
    offset = _offset(subject)
    found = []
    threads = [
        c for c in comments_on(**_subject(subject)) if c.hidden_at is None and c.deleted_at is None
    ]
    for number, comment in enumerate(threads, start=1):
        fps = comment.fps or subject_fps(**_subject(subject))
        rate = timecode_rate(fps)
        seconds = offset + (comment.frame or 0) / fps
        frames = round(seconds * rate)
        colour = comment.drawing[0]["colour"] if comment.drawing else "blue"
        found.append(
            Marker(
                number=number,
                seconds=seconds,
                frames=frames,
                rate=rate,
                timecode=timecode(frames, rate),
                take_frame=comment.frame or 0,
                side=comment.side,
                who=printable(comment.byline),
                guest=comment.is_guest,
                body=printable(comment.body),
                colour=colour,
                resolved=comment.resolved_at is not None,
                replies=[
                    printable(f"{r.byline}: {r.body}")
                    for r in comment.replies.all()
                    if r.hidden_at is None and r.deleted_at is None
                ],
                created_at=comment.created_at.isoformat(timespec="seconds"),
            )
        )
    return found


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet never runs as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def comments_csv(subject: Subject) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "number",
            "source timecode",
            "source seconds",
            "take frame" if isinstance(subject, Take) else "cut frame",
            "side",
            "author",
            "guest",
            "comment",
            "drawing colour",
            "resolved",
            "replies",
            "written at",
        ]
    )
    for m in markers(subject):
        writer.writerow(
            [
                m.number,
                m.timecode,
                f"{m.seconds:.3f}",
                m.take_frame,
                Side(m.side).label if m.side else "",
                _cell(m.who),
                "yes" if m.guest else "no",
                _cell(m.body),
                m.colour,
                "yes" if m.resolved else "no",
                _cell(" | ".join(m.replies)),
                m.created_at,
            ]
        )
    return out.getvalue()


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(printable(text).split())[:limit]


def comments_edl(subject: Subject) -> str:
    """CMX 3600 with one marker event per thread, as DaVinci Resolve imports markers."""
    title = _one_line(_name(subject), 60).replace("|", "/")
    lines = [f"TITLE: {title or subject.code}", "FCM: NON-DROP FRAME", ""]
    for m in markers(subject):
        start, end = m.timecode, timecode(m.frames + 1, m.rate)
        lines.append(f"{m.number:03d}  001      V     C        {start} {end} {start} {end}  ")
        note = _one_line(f"{m.who}: {m.body}").replace("|", "/")
        colour = _RESOLVE_COLOURS.get(m.colour, "ResolveColorBlue")
        lines.append(f" |C:{colour} |M:{note} |D:1")
        lines.append("")
    return "\r\n".join(lines)


def comments_fcpxml(subject: Subject) -> str:
    """Final Cut Pro 7 XML (xmeml): a sequence with one marker per thread, which Premiere Pro
    imports with File > Import."""
    fps = subject_fps(**_subject(subject))
    rate = timecode_rate(fps)
    ntsc = "TRUE" if abs(fps - rate) > 0.01 else "FALSE"
    clip = _clip(subject)
    clip_seconds = float(clip.duration) if clip and clip.duration else 0.0
    all_markers = markers(subject)
    duration = max([round(clip_seconds * rate), *(m.frames + 1 for m in all_markers), 1])
    name = escape(_one_line(_name(subject), 80) or subject.code)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!DOCTYPE xmeml>",
        '<xmeml version="4">',
        "  <sequence>",
        f"    <name>{name}</name>",
        f"    <duration>{duration}</duration>",
        f"    <rate><timebase>{rate}</timebase><ntsc>{ntsc}</ntsc></rate>",
        "    <timecode>",
        f"      <rate><timebase>{rate}</timebase><ntsc>{ntsc}</ntsc></rate>",
        "      <string>00:00:00:00</string><frame>0</frame><displayformat>NDF</displayformat>",
        "    </timecode>",
    ]
    for m in all_markers:
        parts += [
            "    <marker>",
            f"      <name>{escape(_one_line(m.who, 80))}</name>",
            f"      <comment>{escape(_one_line(m.body, 1000))}</comment>",
            f"      <in>{m.frames}</in>",
            "      <out>-1</out>",
            "    </marker>",
        ]
    parts += [
        "    <media><video><format><samplecharacteristics>",
        f"      <rate><timebase>{rate}</timebase><ntsc>{ntsc}</ntsc></rate>",
        "    </samplecharacteristics></format></video></media>",
        "  </sequence>",
        "</xmeml>",
        "",
    ]
    return "\n".join(parts)


_RESOLVE_COLOURS = {
    "red": "ResolveColorRed",
    "yellow": "ResolveColorYellow",
    "green": "ResolveColorGreen",
    "blue": "ResolveColorBlue",
    "white": "ResolveColorCream",
}
