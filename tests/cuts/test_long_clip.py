"""The issue's clip end to end: 40 s of 1920x1080 at 25 fps with a tone and hard shot cuts at
12 s and 27 s, uploaded and prepared, split into windows on its shot cuts, every window edited
(on the local engine, and on the fake Modellix whose results are made from each window's own
input at 30 fps and 1280x720), each window's take chosen, and the cut rendered by the worker's
step. The render must be the clip again, whole: same length to the frame, the source's pictures
outside the windows, edited ones inside, the source's sound, every join scored."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from studio.cuts import renders, services
from studio.cuts.models import RenderState
from studio.media.probe import probe
from studio.models import TakeState
from studio.storage.files import local_copy
from studio.takes.parameters import EditParameters
from tests import pipeline
from tests.conftest import upload_clip
from tests.media_checks import correlation, psnr, sound, stream_pictures

FPS = 25
SHOT_CUTS = (12.0, 27.0)
PART = (4.0, 34.0)  # split this part: the clip's first 4 s and last 6 s stay the source


@pytest.mark.django_db(transaction=True)  # the steps run as the worker runs them
@pytest.mark.parametrize("provider", ["local", "modellix"])
def test_a_40_s_clip_edited_window_by_window_comes_back_whole(
    provider: str, request: Any, as_bob, project, samples, bob, queue, tmp_path
):
    if provider == "modellix":
        request.getfixturevalue("fake").realistic = True
    clip = upload_clip(as_bob, project, samples["shots-40s-1080p.mp4"])
    assert clip.shot_cuts == pytest.approx(SHOT_CUTS, abs=0.5 / FPS)

    # Split: windows of 2-10 s, back to back over the part, with edges on both shot cuts.
    cut = services.cut_create(clip=clip, author=bob, name="Clay version")
    windows = services.cut_windows_split(cut=cut, start=PART[0], end=PART[1])
    spans = [(w.start, w.end) for w in windows]
    assert spans[0][0] == PART[0] and spans[-1][1] == PART[1]
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False)), spans
    assert all(2.0 <= end - start <= 10.0 for start, end in spans), spans
    edges = {edge for span in spans for edge in span}
    assert set(SHOT_CUTS) <= edges, spans
    assert all(round(edge * FPS, 6) == round(edge * FPS) for edge in edges)  # on frames

    # Edit every window at once, in the source's shape; each window gets its own take.
    takes = services.cut_takes_create(
        cut=cut,
        author=bob,
        parameters=EditParameters(prompt="Turn the scene into clay style", resolution="720P"),
    )
    assert len(takes) == len(windows)
    pipeline.run(*takes, seconds=900)
    assert all(t.state == TakeState.SUCCEEDED for t in takes), [(t.state, t.reason) for t in takes]
    for window, take in zip(windows, takes, strict=True):
        services.window_choose(window=window, take=take)

    made = renders.cut_render_request(cut=cut, author=bob)
    renders.cut_render_run(made.pk)
    made.refresh_from_db()
    assert made.state == RenderState.READY, made.reason

    # Outside the windows and their blends: the source (PSNR >= 40 dB). Inside: edited.
    blend = cut.crossfade_frames / FPS
    outside, inside, times = [], [], []
    with local_copy(clip.source) as source_path, local_copy(made.file) as cut_path:
        source_info, cut_info = probe(source_path, max_seconds=60), probe(cut_path, max_seconds=60)
        source_sound, cut_sound = sound(source_path), sound(cut_path)
        both = zip(stream_pictures(cut_path), stream_pictures(source_path), strict=True)
        for (t, picture), (_, original) in both:
            times.append(t)
            if all(t < start - blend - 1e-6 or t >= end + blend - 1e-6 for start, end in spans):
                outside.append(psnr(picture, original))
            elif any(start + blend <= t < end - blend for start, end in spans):
                inside.append(psnr(picture, original))

    # The whole clip again: its size, its rate, its length to the frame, every frame.
    assert (cut_info.width, cut_info.height) == (1920, 1080)
    assert abs(cut_info.duration - source_info.duration) <= 1 / FPS + 1e-3
    assert len(times) == made.frames == 40 * FPS
    assert [round(t * FPS) for t in times] == list(range(40 * FPS))
    assert len(outside) >= (PART[0] + 40 - PART[1]) * FPS - 2 * cut.crossfade_frames
    assert min(outside) >= 40.0, min(outside)
    assert statistics.median(inside) < 30.0, statistics.median(inside)

    # The source's sound under the whole cut, untouched.
    assert abs(len(cut_sound) - len(source_sound)) <= 2048
    assert correlation(cut_sound, source_sound) >= 0.99

    # Every join scored, with where it is; the clip's ends are no joins.
    assert len(made.seams) == len(spans) + 1  # into the first window, between each, out of the last
    assert all(isinstance(seam["score"], (int, float)) for seam in made.seams)
    assert sorted(round(seam["at"], 3) for seam in made.seams) == sorted(
        {round(e, 3) for e in edges}
    )
    # Kept with the takes it used.
    assert [w["take"] for w in made.plan["windows"]] == [t.code for t in takes]
