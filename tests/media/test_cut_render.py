"""Rendering a cut: the source at full length with takes spliced into its windows.

Takes are what the fake Modellix returns for each window's provider input (its handles
included): 30 fps, 1280x720, the input's motion with a plain "edit" on it.
"""

from __future__ import annotations

from array import array
from fractions import Fraction
from pathlib import Path

import av
import pytest
from av.video.frame import VideoFrame
from PIL import Image, ImageStat

from studio.media.cut import CutRefused, Splice, cut_render
from studio.media.inputs import make_input
from studio.media.probe import probe
from tests.fake_results import make_result
from tests.media_checks import correlation, pictures, psnr, sound

HANDLE = 1.0


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cuts")


def take(
    source: Path,
    folder: Path,
    start: float,
    end: float,
    *,
    ratio: str = "16:9",
    audio: str = "origin",
    **result: object,
) -> Splice:
    """The fake provider's result for the window [start, end) sent with 1 s handles."""
    info = probe(source, max_seconds=60)
    first, last = max(0.0, start - HANDLE), min(info.duration, end + HANDLE)
    name = f"{source.stem}-{start}-{end}-{ratio.replace(':', 'x')}-{audio}-{sorted(result.items())}"
    sent, made = folder / f"{name}-input.mp4", folder / f"{name}.mp4"
    if not made.exists():
        make_input(source, sent, info=info, start=first, length=last - first)
        body = {"resolution": "720P", "ratio": ratio, "audio_setting": audio}
        made.write_bytes(make_result(sent.read_bytes(), body, **result).data)  # type: ignore[arg-type]
    return Splice(start=start, end=end, take=made, take_offset=start - first)


def inside(t: float, spans: list[tuple[float, float]]) -> bool:
    return any(a - 0.01 <= t < b - 0.01 for a, b in spans)


def test_cut_keeps_the_source_outside_its_windows_and_the_takes_inside(samples, work):
    source = samples["cut-25.mp4"]
    splices = [take(source, work, 2.0, 4.0), take(source, work, 5.6, 7.2)]
    out = work / "cut.mp4"
    report = cut_render(source, splices, out)

    before, after = pictures(source), pictures(out)
    assert len(after) == len(before) == report.frames == 225
    assert [t for t, _ in after] == pytest.approx([t for t, _ in before], abs=1e-6)
    info = probe(out, max_seconds=60)
    assert abs(info.duration - probe(source, max_seconds=60).duration) <= 1 / 25
    assert (info.width, info.height, info.fps) == (480, 270, 25.0)
    fades = 6 / 25
    edited = [(2.0 - fades, 4.0 + fades), (5.6 - fades, 7.2 + fades)]
    windows = [(2.0, 4.0), (5.6, 7.2)]
    for (t, original), (_, cut) in zip(before, after, strict=True):
        if not inside(t, edited):
            assert psnr(original, cut) >= 40, t
        elif inside(t, windows):
            assert psnr(original, cut) < 30, t
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert container.streams.audio[0].codec_context.name == "aac"
    assert out.read_bytes().find(b"moov") < out.read_bytes().find(b"mdat")  # faststart
    assert correlation(sound(source), sound(out)) >= 0.99
    edges = [(seam.window, seam.edge, seam.at) for seam in report.seams]
    assert edges == [(0, "in", 2.0), (0, "out", 4.0), (1, "in", 5.6), (1, "out", 7.2)]
    for seam in report.seams:
        assert seam.score > 0
        assert seam.before.startswith(b"\xff\xd8") and seam.after.startswith(b"\xff\xd8")
    assert report.stretch == (1.0, 1.0)


def test_crossfades_blend_real_frames_of_both_sides(samples, work):
    source = samples["cut-25.mp4"]
    splice = take(source, work, 3.0, 5.0)
    out = work / "blend.mp4"
    cut_render(source, [splice], out, crossfade_frames=4)
    before, after = pictures(source), pictures(out)
    takes = pictures(splice.take)
    for index in (71, 72, 73, 74, 125, 126, 127, 128):  # 4 frames each side: 2.84-2.96, 5.0-5.12
        t, original = before[index]
        weight = (index - 70) / 5 if index < 75 else (129 - index) / 5
        at = t - splice.start + splice.take_offset
        picture = [frame for time, frame in takes if time <= at + 1e-4][-1]
        expected = Image.blend(
            original.reformat(format="gray").to_image(),
            picture.reformat(width=480, height=270, format="gray").to_image(),
            weight,
        )
        got = after[index][1]
        assert psnr(original, got) < 40  # not the source ...
        assert psnr(VideoFrame.from_image(expected.convert("RGB")), got) > 38  # ... the blend
    assert psnr(before[70][1], after[70][1]) >= 40
    assert psnr(before[129][1], after[129][1]) >= 40


def test_a_window_at_the_clips_start_has_no_blend_or_join_there(samples, work):
    source = samples["cut-25.mp4"]
    report = cut_render(source, [take(source, work, 0.0, 2.0)], work / "start.mp4")
    assert [(seam.edge, seam.at) for seam in report.seams] == [("out", 2.0)]
    first = pictures(work / "start.mp4")[0][1]
    assert psnr(pictures(source)[0][1], first) < 30


def test_take_sound_replaces_the_sources_in_its_window_only(samples, work):
    source = samples["cut-25.mp4"]
    plain = take(source, work, 3.0, 6.0, audio="auto")
    splice = Splice(**{**plain.__dict__, "take_sound": True})
    out = work / "sound.mp4"
    cut_render(source, [splice], out)
    original, theirs, cut = sound(source), sound(splice.take), sound(out)

    def part(samples: array, start: float, end: float) -> array:
        return samples[round(start * 48000) : round(end * 48000)]

    offset = round(splice.take_offset * 48000)
    assert correlation(part(cut, 3.1, 5.9), theirs[offset + 4800 : offset + 4800 + 134400]) > 0.99
    assert correlation(part(cut, 3.1, 5.9), part(original, 3.1, 5.9)) < 0.5
    assert correlation(part(cut, 0.0, 2.95), part(original, 0.0, 2.95)) > 0.99
    assert correlation(part(cut, 6.05, 9.0), part(original, 6.05, 9.0)) > 0.99


def test_a_take_a_few_frames_short_is_retimed(samples, work):
    source = samples["cut-25.mp4"]
    splice = take(source, work, 3.0, 5.0, extra_frames=-3)
    report = cut_render(source, [splice], work / "retimed.mp4")
    assert report.frames == 225
    assert report.stretch[0] == pytest.approx(117 / 120, abs=1e-3)


def test_a_take_much_shorter_is_refused_with_the_reason(samples, work):
    source = samples["cut-25.mp4"]
    splice = take(source, work, 3.0, 5.0, extra_frames=-24)
    out = work / "refused.mp4"
    with pytest.raises(CutRefused, match=r"0\.8 s shorter than its window"):
        cut_render(source, [splice], out)
    assert not out.exists()


def test_a_take_in_another_aspect_is_refused(samples, work):
    source = samples["cut-25.mp4"]
    with pytest.raises(CutRefused, match="aspect ratio"):
        cut_render(source, [take(source, work, 3.0, 5.0, ratio="1:1")], work / "square.mp4")


def test_colour_matching_pulls_a_shifted_take_back_to_the_source(samples, work):
    source = samples["cut-25.mp4"]
    shifted = take(source, work, 3.0, 5.0, colour_shift=40)
    matched = Splice(**{**shifted.__dict__, "colour_match": True})
    plain_out, matched_out = work / "shifted.mp4", work / "matched.mp4"
    cut_render(source, [shifted], plain_out)
    cut_render(source, [matched], matched_out)

    def mean_luma(path: Path) -> float:
        frames = [frame for t, frame in pictures(path) if 3.0 <= t < 4.99]
        return sum(_mean(frame) for frame in frames) / len(frames)

    reference = sum(_mean(frame) for t, frame in pictures(source) if 3.0 <= t < 4.99) / 50
    assert abs(mean_luma(plain_out) - reference) > 20
    assert abs(mean_luma(matched_out) - reference) < 6


def _mean(frame: VideoFrame) -> float:
    histogram = frame.reformat(format="gray").to_image().convert("L").histogram()
    return sum(value * count for value, count in enumerate(histogram)) / sum(histogram)


def test_a_source_without_sound_gives_a_cut_without_sound(samples, work):
    source = samples["cut-silent.mp4"]
    out = work / "silent-cut.mp4"
    report = cut_render(source, [take(source, work, 2.0, 4.0)], out)
    assert report.has_audio is False
    with av.open(str(out)) as container:
        assert not container.streams.audio


@pytest.mark.parametrize(
    ("name", "rate"), [("cut-23976.mp4", Fraction(24000, 1001)), ("cut-30.mp4", Fraction(30))]
)
def test_the_cut_keeps_the_sources_frame_rate(samples, work, name, rate):
    source = samples[name]
    out = work / f"rate-{name}"
    cut_render(source, [take(source, work, 2.0, 4.0)], out)
    before, after = pictures(source), pictures(out)
    assert len(after) == len(before)
    assert [t for t, _ in after] == pytest.approx([t for t, _ in before], abs=1e-6)
    with av.open(str(out)) as container:
        assert container.streams.video[0].average_rate == rate


@pytest.fixture(scope="module")
def vfr_source(work: Path) -> Path:
    """8 s at an irregular rate: frames 30, 50 and 40 ms apart in turn (the pts say so)."""
    path = work / "vfr.mp4"
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 480, 270, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"preset": "ultrafast"}
        source = pictures(make_cut_25_copy(work))
        at, index = 0, 0
        while at < 8000:
            frame = source[index % len(source)][1].reformat(format="yuv420p")
            frame.pts, frame.time_base = at, Fraction(1, 1000)
            frame.pict_type = av.video.frame.PictureType.NONE
            out.mux(stream.encode(frame))
            at += (30, 50, 40)[index % 3]
            index += 1
        out.mux(stream.encode())
    return path


def make_cut_25_copy(work: Path) -> Path:
    from tests.samples import make_video

    path = work / "vfr-pictures.mp4"
    if not path.exists():
        make_video(path, seconds=4.0, fps=25, width=480, height=270, audio=False)
    return path


def test_a_variable_frame_rate_source_keeps_its_timestamps(work, vfr_source):
    out = work / "vfr-cut.mp4"
    splice = take(vfr_source, work, 2.0, 4.0)
    report = cut_render(vfr_source, [splice], out)
    before, after = pictures(vfr_source), pictures(out)
    assert report.frames == len(after) == len(before)
    assert [t for t, _ in after] == pytest.approx([t for t, _ in before], abs=1e-3)


def test_an_error_mid_render_leaves_no_partial_file(samples, work, tmp_path):
    source = samples["cut-25.mp4"]
    splice = take(source, work, 3.0, 5.0)

    def stop(fraction: float) -> None:
        if fraction > 0.5:
            raise RuntimeError("the worker lost its lease")

    with pytest.raises(RuntimeError, match="lease"):
        cut_render(source, [splice], tmp_path / "cut.mp4", progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_progress_runs_from_zero_to_one(samples, work, tmp_path):
    source = samples["cut-25.mp4"]
    seen: list[float] = []
    cut_render(source, [take(source, work, 3.0, 5.0)], tmp_path / "cut.mp4", progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 10
    assert [path.name for path in tmp_path.iterdir()] == ["cut.mp4"]


def test_a_hard_jump_at_a_join_is_flagged_and_a_crossfade_softens_it(samples, work):
    source = samples["cut-25.mp4"]
    shifted = take(source, work, 3.0, 5.0, colour_shift=40)
    hard = cut_render(source, [shifted], work / "hard.mp4", crossfade_frames=0)
    soft = cut_render(source, [shifted], work / "soft.mp4", crossfade_frames=6)
    assert [seam.flagged for seam in hard.seams] == [True, True]
    for rough, smooth in zip(hard.seams, soft.seams, strict=True):
        assert smooth.score < rough.score / 2


def test_a_turned_source_keeps_its_rotation_and_takes_are_turned_to_match(samples, work):
    source = samples["hevc-portrait.mov"]  # coded 320x240, shown upright as 240x320
    splice = take(source, work, 1.0, 2.0, ratio="")
    out = work / "turned.mp4"
    cut_render(source, [splice], out)
    info = probe(out, max_seconds=60)
    assert (info.rotation, info.width, info.height) == (270, 240, 320)
    before, after = pictures(source), pictures(out)
    assert len(before) == len(after)
    for (t, original), (_, cut) in zip(before, after, strict=True):
        if not inside(t, [(1.0 - 6 / 24, 2.0 + 6 / 24)]):
            assert psnr(original, cut) >= 40, t
        elif inside(t, [(1.0, 2.0)]):
            assert psnr(original, cut) < 30, t


@pytest.fixture(scope="module")
def anamorphic_source(work: Path) -> Path:
    """360x240 pixels 32:27 wide each, shown as 16:9 (as DV and some phones store video)."""
    path = work / "anamorphic.mp4"
    with av.open(str(path), "w") as out, av.open(str(make_cut_25_copy(work))) as container:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 360, 240, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(32, 27)
        stream.options = {"preset": "ultrafast"}
        for frame in container.decode(video=0):
            picture = frame.reformat(width=360, height=240)
            picture.pict_type = av.video.frame.PictureType.NONE
            out.mux(stream.encode(picture))
        out.mux(stream.encode())
    return path


def test_the_cut_keeps_the_sources_pixel_aspect(work, anamorphic_source):
    out = work / "anamorphic-cut.mp4"
    report = cut_render(anamorphic_source, [take(anamorphic_source, work, 1.0, 2.0)], out)
    assert (report.width, report.height) == (360, 240)
    with av.open(str(out)) as container:
        assert container.streams.video[0].sample_aspect_ratio == Fraction(32, 27)


def test_two_windows_closer_than_two_crossfades_share_the_gap(samples, work):
    source = samples["cut-25.mp4"]
    first, second = take(source, work, 2.0, 4.0), take(source, work, 4.4, 6.0)  # 10 frames apart
    report = cut_render(source, [first, second], work / "close.mp4", crossfade_frames=6)
    before, after = pictures(source), pictures(work / "close.mp4")
    assert report.frames == len(after) == len(before)
    for index in range(100, 110):  # the gap: 5 frames fade out of the first, 5 into the second
        assert psnr(before[index][1], after[index][1]) < 40
    edges = [(seam.window, seam.edge) for seam in report.seams]
    assert edges == [(0, "in"), (0, "out"), (1, "in"), (1, "out")]


def test_overlapping_windows_are_refused(samples, work):
    source = samples["cut-25.mp4"]
    with pytest.raises(CutRefused, match="overlaps the window before it"):
        cut_render(
            source,
            [take(source, work, 2.0, 4.0), take(source, work, 3.0, 5.0)],
            work / "overlap.mp4",
        )
    assert not (work / "overlap.mp4").exists()


def mean_luma(frame: VideoFrame) -> float:
    return float(ImageStat.Stat(frame.reformat(format="gray").to_image()).mean[0])


def test_two_windows_that_meet_blend_take_to_take_and_make_one_join(samples, work):
    source = samples["cut-25.mp4"]
    first, second = take(source, work, 2.0, 4.0), take(source, work, 4.0, 6.0, colour_shift=40)
    report = cut_render(source, [first, second], work / "meet.mp4", crossfade_frames=6)
    after = pictures(work / "meet.mp4")
    assert report.frames == len(after) == 225
    # Frames 100-105 (4.00-4.20 s) go from the first take's handle to the brighter second
    # take step by step; 106 on are the second take alone.
    lumas = [mean_luma(after[index][1]) for index in range(99, 108)]
    assert all(a < b for a, b in zip(lumas[:7], lumas[1:7], strict=False)), lumas
    assert lumas[7] - lumas[6] < (lumas[6] - lumas[0]) / 4, lumas
    assert [round(seam.at, 2) for seam in report.seams] == [2.0, 4.0, 6.0]  # one join at 4 s
    assert not report.seams[1].flagged


def test_an_edge_on_a_shot_cut_is_a_hard_join_and_not_flagged(samples, work):
    source = samples["shots-close-cuts.mp4"]  # hard cuts at 2.0, 2.6, 5.04 and 8.0 s
    splice = take(source, work, 5.04, 8.0)
    cut_render(source, [splice], work / "on-cut-blended.mp4", crossfade_frames=6)
    hard = cut_render(
        source, [splice], work / "on-cut.mp4", crossfade_frames=6, shot_cuts=(2.0, 5.04, 8.0)
    )
    before, blend, cut = (
        pictures(source),
        pictures(work / "on-cut-blended.mp4"),
        pictures(work / "on-cut.mp4"),
    )
    # 5.04 s is frame 126: the six frames before it are the source's when the edge is on the cut,
    # a dissolve into the next shot when it is not.
    for index in range(120, 126):
        assert psnr(before[index][1], cut[index][1]) >= 40
    assert psnr(before[125][1], blend[125][1]) < 30
    # The step at each edge is the source's own shot cut, not a seam to look at.
    assert [round(seam.at, 2) for seam in hard.seams] == [5.04, 8.0]
    assert all(seam.source_step > 15 for seam in hard.seams), hard.seams
    assert not any(seam.flagged for seam in hard.seams), hard.seams
