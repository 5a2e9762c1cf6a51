"""Exporting a cut for editing software (studio/cuts/exports.py, bundles.py, export_views.py):
OpenTimelineIO read back with opentimelineio, the EDL read by a strict CMX 3600 parser below,
the FCP 7 XML by xml.etree, and the zip with the media by zipfile.

The main cut is the issue's 40 s, 25 fps 1080p clip with two windows edited (one of them
starting on a shot cut) and one more window left without a take: the timeline is the whole clip,
the source outside the windows and the takes inside, from where each window starts in its take
(its 1 s handle), with dissolves in the handles as the render blends."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree as ET

import opentimelineio as otio
import pytest
from django.urls import reverse

from studio.cuts import bundles, exports, renders, services
from studio.cuts.models import Cut, CutRender, RenderState
from studio.media.cut import CutReport
from studio.media.inputs import make_input
from studio.media.probe import probe
from tests.conftest import take_row, upload_clip
from tests.cuts.rows import stored_clip, window_edited
from tests.fake_results import make_result

# The exports read a cut's rows by plain lookups that the cut pages make on both databases; what
# they prove is the files (timelines, media, zip) made from the 1080p clip, whose takes
# cost 17 s to make: the SQLite pass only (docs/development.md, "Suites and markers").
pytestmark = [pytest.mark.django_db, pytest.mark.once]

RATE = 25
WINDOWS = ((4.0, 8.0), (12.0, 17.0))


@pytest.fixture(scope="module")
def forty_takes(samples, tmp_path_factory) -> dict[tuple[float, float], Path]:
    """What the provider returns for windows 4-8 s and 12-17 s of the 40 s clip, each sent with
    its 1 s handles: the fake Modellix's result (30 fps, 720P) made from the real input."""
    source = samples["shots-40s-1080p.mp4"]
    info = probe(source, max_seconds=60)
    folder = tmp_path_factory.mktemp("exports")
    made = {}
    for start, end in WINDOWS:
        sent, result = folder / f"{start:g}-input.mp4", folder / f"{start:g}.mp4"
        make_input(source, sent, info=info, start=start - 1, length=end - start + 2)
        body = {"resolution": "720P", "ratio": "16:9", "audio_setting": "origin"}
        result.write_bytes(make_result(sent.read_bytes(), body).data)
        made[(start, end)] = result
    return made


@pytest.fixture
def forty(project, samples, bob, forty_takes):
    """The issue's 40 s, 25 fps 1080p clip (shot cuts at 12 s and 27 s) cut into windows 4-8 s
    and 12-17 s, each with its take chosen, and 30-34 s without a take. The clip and its takes
    are real files, stored as the upload and the provider's download store them (both are
    tested on their own; through them a 1080p clip costs 45 s a test)."""
    clip = stored_clip(project, samples["shots-40s-1080p.mp4"], shot_cuts=[12.0, 27.0])
    cut = services.cut_create(clip=clip, author=bob, name="Clay version")
    for (start, end), result in forty_takes.items():
        window_edited(cut, start, end, result, bob)
    services.window_add(cut=cut, start=30.0, end=34.0)
    return cut


def export(client, cut: Cut, fmt: str, render: CutRender | None = None):
    query = f"?render={render.code}" if render is not None else ""
    return client.get(reverse("cut_export", args=[cut.code, fmt]) + query)


def take_names(cut: Cut) -> list[str]:
    """The chosen takes' files as the export names them: media/<clip>-w<n>-<take>.mp4."""
    return [
        f"shots-40s-1080p-w{n}-{w.chosen.version_label}.mp4"
        for n, w in enumerate(cut.windows.all(), start=1)
        if w.chosen
    ]


# -- OpenTimelineIO --------------------------------------------------------------------------
def test_the_otio_timeline_is_the_whole_clip_with_the_takes_in_their_windows(forty, as_bob):
    response = export(as_bob, forty, "otio")
    assert response.status_code == 200
    assert 'filename="shots-40s-1080p-clay-version.otio"' in response["Content-Disposition"]
    timeline = otio.adapters.read_from_string(response.content.decode(), "otio_json")
    video, audio = timeline.tracks
    assert video.kind == otio.schema.TrackKind.Video and audio.kind == otio.schema.TrackKind.Audio
    assert timeline.duration() == otio.opentime.RationalTime(40 * RATE, RATE)
    assert video.duration() == audio.duration() == timeline.duration()

    clips = list(video.find_clips())
    first, second = take_names(forty)
    assert [c.name for c in clips] == [
        "shots-40s-1080p.mp4",
        first,
        "shots-40s-1080p.mp4",
        second,
        "shots-40s-1080p.mp4",  # window 3 has no take: the source, uncut
    ]
    assert [c.media_reference.target_url for c in clips] == [
        "media/shots-40s-1080p.mp4",
        f"media/{first}",
        "media/shots-40s-1080p.mp4",
        f"media/{second}",
        "media/shots-40s-1080p.mp4",
    ]

    def frames(item) -> tuple[int, int, float]:
        span = item.source_range
        return span.start_time.value, span.duration.value, span.start_time.rate

    # Takes start 1 s (25 frames) in: the window's start in a take sent with a 1 s handle.
    assert [frames(c) for c in clips] == [
        (0, 100, 25),
        (25, 100, 25),
        (200, 100, 25),
        (25, 125, 25),
        (425, 575, 25),
    ]
    assert [video.range_of_child(c).start_time.value for c in clips] == [0, 100, 200, 300, 425]
    assert clips[1].metadata["cutroom"]["window"] == 1
    assert clips[3].metadata["cutroom"]["take"] == forty.windows.all()[1].chosen.code
    # The take's reference is the whole take: its handles are there for trimming.
    take_range = clips[1].media_reference.available_range
    assert (take_range.start_time.value, take_range.duration.value) == (0, 150)

    # The render's 6-frame crossfades, in the handles: before each in-point, after each out;
    # none into window 2, which starts on the clip's shot cut at 12 s (the source cuts hard).
    transitions = [item for item in video if isinstance(item, otio.schema.Transition)]
    assert [(t.in_offset.value, t.out_offset.value) for t in transitions] == [
        (6, 0),
        (0, 6),
        (0, 6),
    ]
    assert all(t.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve for t in transitions)
    # The source's sound under the whole clip: no window uses its take's sound.
    assert [(c.name, frames(c)) for c in audio.find_clips()] == [
        ("shots-40s-1080p.mp4", (0, 1000, 25))
    ]


# -- CMX 3600 EDL ----------------------------------------------------------------------------
EVENT = re.compile(
    r"^(?P<number>\d{3})  (?P<reel>\S{1,8}) +(?P<channel>V|AA|A|A2|B) +"
    r"(?P<kind>C|D) +(?:(?P<length>\d{3}) +)?"
    r"(?P<src_in>\d\d:\d\d:\d\d:\d\d) (?P<src_out>\d\d:\d\d:\d\d:\d\d) "
    r"(?P<rec_in>\d\d:\d\d:\d\d:\d\d) (?P<rec_out>\d\d:\d\d:\d\d:\d\d)$"
)


@dataclass
class Event:
    number: int
    channel: str
    kind: str
    length: int
    src: tuple[int, int]
    rec: tuple[int, int]
    notes: list[str]


def parse_edl(text: str, rate: int) -> tuple[str, list[Event]]:
    """A strict reading of a CMX 3600 EDL: every line is the title, the frame-code mode, an
    event, a comment or blank; timecodes are at `rate`, never past its last frame."""

    def frames(code: str) -> int:
        hh, mm, ss, ff = map(int, code.split(":"))
        assert mm < 60 and ss < 60 and ff < rate, code
        return ((hh * 60 + mm) * 60 + ss) * rate + ff

    lines = text.splitlines()
    assert lines[0].startswith("TITLE: ") and len(lines[0]) <= 80
    assert lines[1] == "FCM: NON-DROP FRAME"
    title, events = lines[0][7:], []
    for line in lines[2:]:
        if not line.strip():
            continue
        if line.startswith("* "):
            events[-1].notes.append(line[2:])
            continue
        match = EVENT.match(line)
        assert match, f"not an EDL event: {line!r}"
        event = Event(
            int(match["number"]),
            match["channel"],
            match["kind"],
            int(match["length"] or 0),
            (frames(match["src_in"]), frames(match["src_out"])),
            (frames(match["rec_in"]), frames(match["rec_out"])),
            [],
        )
        assert event.src[1] - event.src[0] == event.rec[1] - event.rec[0], line
        assert (event.length > 0) == (event.kind == "D"), line
        events.append(event)
    return title, events


def edits(events: list[Event], channel: str) -> list[Event]:
    """The events of a channel as played: a dissolve's zero-length C line (the outgoing clip
    where the dissolve starts) is part of the D event with the same number."""
    found = [e for e in events if e.channel == channel]
    for held in (e for e in found if e.kind == "C" and e.rec[0] == e.rec[1]):
        assert any(e.number == held.number and e.kind == "D" for e in found), held
    return [e for e in found if e.rec[0] != e.rec[1]]


def test_the_edl_events_follow_each_other_and_cover_the_clip(forty, as_bob):
    response = export(as_bob, forty, "edl")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    title, events = parse_edl(response.content.decode(), RATE)
    assert title == "Clay version (shots-40s-1080p.mp4)"
    video = edits(events, "V")
    assert [e.rec for e in video] == [(0, 94), (94, 200), (200, 300), (300, 425), (425, 1000)]
    first, second = take_names(forty)
    assert [e.notes[-1] for e in video] == [
        "SOURCE FILE: media/shots-40s-1080p.mp4",
        f"SOURCE FILE: media/{first}",
        "SOURCE FILE: media/shots-40s-1080p.mp4",
        f"SOURCE FILE: media/{second}",
        "SOURCE FILE: media/shots-40s-1080p.mp4",
    ]
    # Into a take: the dissolve starts 6 frames before the in-point, on the take's handle (its
    # frame 19 is the source's frame 94); out of it: at the out-point, into the source there.
    # Window 2 starts on the shot cut at 12 s (frame 300): a cut, as in the source.
    assert [(e.kind, e.length, e.src) for e in video] == [
        ("C", 0, (0, 94)),
        ("D", 6, (19, 125)),
        ("D", 6, (200, 300)),
        ("C", 0, (25, 150)),
        ("D", 6, (425, 1000)),
    ]
    assert video[1].notes == [
        "FROM CLIP NAME: shots-40s-1080p.mp4",
        "FROM CLIP: media/shots-40s-1080p.mp4",
        f"TO CLIP NAME: {first}",
        f"TO CLIP: media/{first}",
        f"SOURCE FILE: media/{first}",
    ]
    held = [e for e in events if e.kind == "C" and e.rec[0] == e.rec[1]]
    assert [(e.number, e.src, e.rec) for e in held] == [
        (2, (94, 94), (94, 94)),
        (3, (125, 125), (200, 200)),  # the first take's last frame in the window
        (5, (150, 150), (425, 425)),
    ]
    sound = edits(events, "AA")
    assert [(e.src, e.rec) for e in sound] == [((0, 1000), (0, 1000))]
    numbers = [e.number for e in events]
    assert numbers == sorted(numbers) and numbers[0] == 1


# -- FCP 7 XML -------------------------------------------------------------------------------
def test_the_fcp_xml_has_the_clip_items_at_their_frames(forty, as_bob):
    response = export(as_bob, forty, "xml")
    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>')
    root = ET.fromstring(text)  # noqa: S314 (our own output)
    assert root.tag == "xmeml"
    sequence = root.find("sequence")
    assert sequence.findtext("duration") == "1000"
    assert sequence.findtext("rate/timebase") == "25"
    assert sequence.findtext("rate/ntsc") == "FALSE"
    video = sequence.find("media/video/track")

    def item(element) -> tuple[str, int, int, int, int]:
        return (
            element.findtext("name"),
            *(int(element.findtext(tag)) for tag in ("start", "end", "in", "out")),
        )

    first, second = take_names(forty)
    assert [item(e) for e in video.findall("clipitem")] == [
        ("shots-40s-1080p.mp4", 0, 100, 0, 100),
        (first, 100, 200, 25, 125),
        ("shots-40s-1080p.mp4", 200, 300, 200, 300),
        (second, 300, 425, 25, 150),
        ("shots-40s-1080p.mp4", 425, 1000, 425, 1000),
    ]
    transitions = video.findall("transitionitem")
    assert [
        (int(t.findtext("start")), int(t.findtext("end")), t.findtext("alignment"))
        for t in transitions
    ] == [(94, 100, "end"), (200, 206, "start"), (425, 431, "start")]
    assert {t.findtext("effect/effectid") for t in transitions} == {"Cross Dissolve"}
    # Each file is described once, then referred to by its id.
    files = {f.get("id"): f for f in sequence.iter("file") if f.find("pathurl") is not None}
    assert sorted(f.findtext("pathurl") for f in files.values()) == sorted(
        ["media/shots-40s-1080p.mp4", f"media/{first}", f"media/{second}"]
    )
    for element in sequence.iter("file"):
        assert element.get("id") in files
    source = next(f for f in files.values() if f.findtext("name") == "shots-40s-1080p.mp4")
    assert source.findtext("duration") == "1000"
    assert source.findtext("media/video/samplecharacteristics/width") == "1920"
    sound = sequence.findall("media/audio/track/clipitem")
    assert [item(e) for e in sound] == [("shots-40s-1080p.mp4", 0, 1000, 0, 1000)]


# -- the zip with the media ------------------------------------------------------------------
def test_the_zip_holds_the_media_and_the_timelines_point_into_it(forty, as_carol, tmp_path):
    response = export(as_carol, forty, "zip")  # a viewer may export
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    assert 'filename="shots-40s-1080p-clay-version.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    first, second = take_names(forty)
    stem = "shots-40s-1080p-clay-version"
    assert sorted(archive.namelist()) == sorted(
        [
            f"{stem}.otio",
            f"{stem}.xml",
            f"{stem}.edl",
            "media/shots-40s-1080p.mp4",
            f"media/{first}",
            f"media/{second}",
        ]
    )
    # The media are the stored files, whole, and stored as they are (video does not shrink).
    windows = [w for w in forty.windows.all() if w.chosen]
    stored = [forty.clip.source, windows[0].chosen.result, windows[1].chosen.result]
    for name, field in zip([f"media/{n}" for n in ("shots-40s-1080p.mp4", first, second)],
                           stored, strict=True):  # fmt: skip
        info = archive.getinfo(name)
        assert info.compress_type == zipfile.ZIP_STORED
        assert info.file_size == field.size
        with field.open("rb") as handle:
            assert archive.read(name) == handle.read()

    # Unzipped, every reference of the .otio and the .xml is a file of the folder.
    archive.extractall(tmp_path)
    timeline = otio.adapters.read_from_file(str(tmp_path / f"{stem}.otio"))
    urls = {c.media_reference.target_url for c in timeline.find_clips()}
    assert urls == {"media/shots-40s-1080p.mp4", f"media/{first}", f"media/{second}"}
    assert all((tmp_path / url).is_file() for url in urls)
    xml = ET.parse(tmp_path / f"{stem}.xml")  # noqa: S314 (our own output)
    paths = {unquote(p.text) for p in xml.iter("pathurl")}
    assert paths == urls
    _, events = parse_edl((tmp_path / f"{stem}.edl").read_text(), RATE)
    assert {n[len("SOURCE FILE: ") :] for e in events for n in e.notes if "SOURCE FILE" in n} == (
        urls
    )


# -- a render's exact plan, and the cut as it stands -----------------------------------------
def test_a_render_exports_the_takes_it_used_and_the_cut_its_choices_now(
    forty, bob, as_bob, samples, monkeypatch
):
    def stand_in(source, splices, out, *, crossfade_frames, shot_cuts, progress):
        # The render itself is tests/media/test_cut_render.py's; its exports need its plan.
        shutil.copyfile(samples["cut-25.mp4"], out)
        return CutReport(1000, 40.0, 1920, 1080, 25.0, True, out.stat().st_size, (1.0,) * 2, ())

    monkeypatch.setattr(renders, "cut_render", stand_in)
    render = renders.cut_render_request(cut=forty, author=bob, source_where_missing=True)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY, render.reason
    used = take_names(forty)
    # Window 2 gets another take afterwards: v1 keeps what it used, the cut moves on.
    second = forty.windows.all()[1]
    newer = take_row(
        forty.project,
        clip=forty.clip,
        window=second,
        start_ms=11000,
        length_ms=7000,
        result=samples["cut-25.mp4"].read_bytes(),
        created_by=bob,
    )
    services.window_choose(window=second, take=newer)

    response = export(as_bob, forty, "otio", render)
    assert 'filename="shots-40s-1080p-clay-version-v1.otio"' in response["Content-Disposition"]
    then = otio.adapters.read_from_string(response.content.decode(), "otio_json")
    assert [c.name for c in then.tracks[0].find_clips() if c.name != "shots-40s-1080p.mp4"] == used
    now = otio.adapters.read_from_string(export(as_bob, forty, "otio").content.decode())
    assert [c.name for c in now.tracks[0].find_clips() if c.name != "shots-40s-1080p.mp4"] == [
        used[0],
        f"shots-40s-1080p-w2-{newer.version_label}.mp4",
    ]
    page = as_bob.get(reverse("cut_detail", args=[forty.code])).content.decode()
    assert reverse("cut_export", args=[forty.code, "zip"]) + f"?render={render.code}" in page
    assert reverse("cut_export", args=[forty.code, "edl"]) + '"' in page
    # Only a ready render of this cut exports.
    CutRender.objects.filter(pk=render.pk).update(state=RenderState.FAILED)
    assert export(as_bob, forty, "otio", render).status_code == 404


# -- 23.976 ----------------------------------------------------------------------------------
def test_a_23976_source_gets_ntsc_rates_and_timecodes(as_bob, project, samples, bob):
    clip = upload_clip(as_bob, project, samples["cut-23976.mp4"])
    assert clip.fps == pytest.approx(23.976, abs=1e-3)
    cut = services.cut_create(clip=clip, author=bob, name="Winter")
    window = services.window_add(cut=cut, start=2.0, end=4.0)  # frames 48 and 96 at 24000/1001
    sent = services.window_request(window)
    take = take_row(
        project,
        clip=clip,
        window=window,
        start_ms=round(sent.start * 1000),
        length_ms=round(sent.length * 1000),
        created_by=bob,
    )
    services.window_choose(window=window, take=take)
    window.refresh_from_db()
    rate = Fraction(24000, 1001)
    first, last = round(window.start * rate), round(window.end * rate)
    frames = round(clip.duration * rate)
    assert (first, last, frames) == (48, 96, 144)
    offset = round((window.start - sent.start) * rate)

    timeline = otio.adapters.read_from_string(export(as_bob, cut, "otio").content.decode())
    clips = list(timeline.tracks[0].find_clips())
    assert all(c.source_range.start_time.rate == pytest.approx(24000 / 1001) for c in clips)
    assert [(c.source_range.start_time.value, c.source_range.duration.value) for c in clips] == [
        (0, first),
        (offset, last - first),
        (last, frames - last),
    ]
    assert otio.opentime.to_timecode(timeline.duration()) == "00:00:06:00"

    _, events = parse_edl(export(as_bob, cut, "edl").content.decode(), 24)
    # The dissolve into the take starts 6 frames before its in-point, and the take's event
    # there: frames 42 and 96 are 00:00:01:18 and 00:00:04:00, counted at 24 (non-drop).
    assert [e.rec for e in edits(events, "V")] == [
        (0, first - 6),
        (first - 6, last),
        (last, frames),
    ]
    assert "00:00:01:18 00:00:04:00\n" in export(as_bob, cut, "edl").content.decode()

    root = ET.fromstring(export(as_bob, cut, "xml").content)  # noqa: S314
    assert root.findtext("sequence/rate/timebase") == "24"
    assert root.findtext("sequence/rate/ntsc") == "TRUE"
    assert [
        (int(e.findtext("start")), int(e.findtext("end")))
        for e in root.findall("sequence/media/video/track/clipitem")
    ] == [(0, first), (first, last), (last, frames)]


# -- access and refusals ---------------------------------------------------------------------
def test_an_outsider_gets_404_and_an_unknown_format_or_render_too(forty, as_dave, as_carol):
    for fmt in ("otio", "xml", "edl", "zip"):
        assert export(as_dave, forty, fmt).status_code == 404
    assert export(as_carol, forty, "edl").status_code == 200
    assert as_carol.get(reverse("cut_export", args=[forty.code, "aaf"])).status_code == 404
    url = reverse("cut_export", args=[forty.code, "otio"])
    assert as_carol.get(f"{url}?render=nothing").status_code == 404
    assert as_carol.post(url).status_code == 405


def test_a_take_file_that_went_missing_is_refused_with_a_reason(forty, as_bob):
    gone = forty.windows.all()[1].chosen
    gone.result.storage.delete(gone.result.name)
    for fmt in ("otio", "zip"):
        response = export(as_bob, forty, fmt)
        assert response.status_code == 302
        assert response.url == reverse("cut_detail", args=[forty.code])
    page = as_bob.get(response.url).content.decode()
    assert "The take the cut uses for window 2 (12.00–17.00 s) is no longer stored" in page
    assert "Choose another take for that window." in page
    # A render that used it says so, and what can still be exported.
    render = CutRender.objects.create(
        cut=forty, number=1, state=RenderState.READY, plan=renders.cut_plan(forty)
    )
    assert export(as_bob, forty, "xml", render).status_code == 302
    page = as_bob.get(reverse("cut_detail", args=[forty.code])).content.decode()
    assert "The take render v1 uses for window 2 (12.00–17.00 s) is no longer stored" in page
    assert "Export the cut as it stands, or choose another take and render again." in page


def test_the_zip_streams_from_a_bucket(s3, project, bob, as_bob, monkeypatch):
    from storages.backends.s3 import S3Storage

    from tests.conftest import clip_row

    clip = clip_row(project, original_name="Harbour Dawn.MOV", duration=6.0, fps=29.97)
    cut = services.cut_create(clip=clip, author=bob, name="Night")
    window = services.window_add(cut=cut, start=2.0, end=4.0)
    take = take_row(
        project, clip=clip, window=window, start_ms=1000, length_ms=4000, created_by=bob
    )
    services.window_choose(window=window, take=take)

    def whole(*args, **kwargs):
        raise AssertionError("the storage's File fetches the whole object before reading")

    monkeypatch.setattr(S3Storage, "_open", whole)
    response = export(as_bob, cut, "zip")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    name = f"media/harbour-dawn-w1-{take.version_label}.mp4"
    assert archive.read("media/harbour-dawn.mov") == b"not really a video"
    assert archive.read(name) == f"the result of take {take.code}".encode()
    timeline = otio.adapters.read_from_string(archive.read("Harbour Dawn-night.otio").decode())
    assert timeline.tracks[0].find_clips()[0].source_range.start_time.rate == pytest.approx(
        30000 / 1001
    )
    assert [c.media_reference.target_url for c in timeline.find_clips()] == [
        "media/harbour-dawn.mov",
        name,
        "media/harbour-dawn.mov",
    ]


# -- the timeline's rules, without files -----------------------------------------------------
def plan_of(*windows: tuple[float, float, float, float], crossfade: int = 6) -> dict:
    return {
        "crossfade_frames": crossfade,
        "windows": [
            {
                "start": start,
                "end": end,
                "take": f"t{n}",
                "take_offset": before,
                "handle_after": after,
                "take_sound": n == 1,
            }
            for n, (start, end, before, after) in enumerate(windows)
        ],
        "source_kept": [],
    }


def test_close_windows_share_their_gap_and_a_take_sound_cuts_the_source_sound():
    source = exports.Media("clip.mp4", 12.0)
    takes = {f"t{n}": exports.Media(f"t{n}.mp4", 6.0, has_audio=True) for n in range(3)}
    # Windows 2-4 and 4.2-6 s (a 5-frame gap), then 6-9 s right after, at 25 fps.
    plan = plan_of((2.0, 4.0, 1.0, 1.0), (4.2, 6.0, 1.0, 1.0), (6.0, 9.0, 1.0, 1.0))
    line = exports.timeline(
        name="clip", plan=plan, source=source, takes=takes, fps=25, duration=12.0, width=640,
        height=360,
    )  # fmt: skip
    assert [
        (p.media.name, p.record_in, p.record_out, p.fade_in, p.fade_out) for p in line.video
    ] == [
        ("clip.mp4", 0, 50, 0, 0),
        ("t0.mp4", 50, 100, 6, 2),  # 5 frames between: 2 of them blend out of window 1 ...
        ("clip.mp4", 100, 105, 0, 0),
        ("t1.mp4", 105, 150, 3, 6),  # ... and 3 into window 2; with no gap, window 2's
        ("t2.mp4", 150, 225, 0, 6),  # tail (its handle after) dissolves into window 3
        ("clip.mp4", 225, 300, 0, 0),
    ]
    assert [(p.media.name, p.record_in, p.record_out) for p in line.audio] == [
        ("clip.mp4", 0, 105),
        ("t1.mp4", 105, 150),
        ("clip.mp4", 150, 300),
    ]
    _, events = parse_edl(exports.edl_text(line), 25)
    assert [e.rec for e in edits(events, "V")] == [
        (0, 44), (44, 100), (100, 102), (102, 150), (150, 225), (225, 300),
    ]  # fmt: skip
    assert [e.rec for e in edits(events, "AA")] == [(0, 105), (105, 150), (150, 300)]
    timeline = otio.adapters.read_from_string(exports.otio_text(line))
    assert timeline.duration().value == 300
    silent = exports.timeline(
        name="clip", plan=plan, source=exports.Media("clip.mp4", 12.0, has_audio=False),
        takes=takes, fps=25, duration=12.0, width=640, height=360,
    )  # fmt: skip
    assert silent.audio == () and len(otio.adapters.read_from_string(
        exports.otio_text(silent)).tracks) == 1  # fmt: skip
    sequence = ET.fromstring(exports.xml_text(silent)).find("sequence")  # noqa: S314
    assert sequence.find("media/audio") is None


def test_a_long_name_makes_a_short_edl_title_on_one_line():
    line = exports.timeline(
        name="Winter\nversion " * 20, plan=plan_of(), source=exports.Media("clip.mp4", 4.0),
        takes={}, fps=25, duration=4.0, width=640, height=360,
    )  # fmt: skip
    title, events = parse_edl(exports.edl_text(line), 25)
    assert title.startswith("Winter version Winter") and len(title) == 70
    assert [(e.src, e.rec) for e in edits(events, "V")] == [((0, 100), (0, 100))]


def test_windows_out_of_order_are_a_problem_not_a_timeline():
    plan = plan_of((4.0, 6.0, 1.0, 1.0), (3.0, 5.0, 1.0, 1.0))
    with pytest.raises(exports.ExportProblem, match="Window 2 does not follow"):
        exports.timeline(
            name="clip", plan=plan, source=exports.Media("clip.mp4", 12.0),
            takes={"t0": exports.Media("a.mp4", 4.0), "t1": exports.Media("b.mp4", 4.0)},
            fps=25, duration=12.0, width=640, height=360,
        )  # fmt: skip


def test_the_file_names_are_safe_in_a_zip_and_a_url():
    assert bundles._file_name("My Clip (final).MOV") == "my-clip-final.mov"
    assert bundles._file_name("../../etc/passwd") == "passwd.mp4"
    assert bundles._file_name("…") == "clip.mp4"
    assert Path(bundles._file_name("a.b.c.webm")).suffix == ".webm"
