"""The issue's clip end to end: 40 s of 1920x1080 at 25 fps with a tone and hard shot cuts at
12 s and 27 s, uploaded and prepared, split into windows on its shot cuts; the windows of the
middle shot edited (one on the local engine; the team then sets up Modellix, here the fake whose
results are made from each window's own input at 30 fps and 1280x720, and edits the other), their
takes chosen, the others removed, and the cut rendered by the worker's step. The render must be
the clip again, whole: same length to the frame, the source's pictures outside the windows,
edited ones inside, the source's sound, every join scored: two on the shot cuts (hard, as the
source) and one take to take inside the shot.

Decoding, editing and rendering 40 s of 1080p is the heaviest test of the suite, and the
database plays no part in it beyond the other cut tests': it runs in the first pass only
(marker `once`)."""

from __future__ import annotations

import statistics

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


@pytest.mark.once
@pytest.mark.django_db(transaction=True)  # the steps run as the worker runs them
def test_a_40_s_clip_edited_window_by_window_comes_back_whole(
    fake, settings, as_bob, project, samples, bob, queue
):
    fake.realistic = True
    settings.STUDIO_PROVIDER = "local"  # until the second window
    clip = upload_clip(as_bob, project, samples["shots-40s-1080p.mp4"])
    assert clip.shot_cuts == pytest.approx(SHOT_CUTS, abs=0.5 / FPS)

    # Split: windows of 2-10 s, back to back over the clip, with edges on both shot cuts.
    cut = services.cut_create(clip=clip, author=bob, name="Clay version")
    proposed = services.cut_windows_split(cut=cut)
    spans = [(w.start, w.end) for w in proposed]
    assert spans[0][0] == 0.0 and spans[-1][1] == pytest.approx(40.0)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False)), spans
    assert all(2.0 <= end - start <= 10.0 for start, end in spans), spans
    assert set(SHOT_CUTS) <= {edge for span in spans for edge in span}, spans
    assert all(round(edge * FPS, 6) == round(edge * FPS) for span in spans for edge in span)

    # Keep the middle shot's windows (12-27 s, two of them) and edit them in the source's shape:
    # the first on the local engine, the second on Modellix.
    windows = [w for w in proposed if SHOT_CUTS[0] <= w.start and w.end <= SHOT_CUTS[1]]
    assert len(windows) == 2, spans
    for window in proposed:
        if window not in windows:
            services.window_remove(window=window)
    spans = [(w.start, w.end) for w in windows]
    edges = {edge for span in spans for edge in span}
    asked = EditParameters(prompt="Turn the scene into clay style", resolution="720P")
    takes = services.cut_takes_create(cut=cut, author=bob, parameters=asked, windows=windows[:1])
    settings.STUDIO_PROVIDER = "modellix"
    takes += services.cut_takes_create(cut=cut, author=bob, parameters=asked, windows=windows[1:])
    pipeline.run(*takes, seconds=900)
    assert [t.provider for t in takes] == ["local", "modellix"]
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
    assert len(outside) >= (40 - (SHOT_CUTS[1] - SHOT_CUTS[0])) * FPS - 2 * cut.crossfade_frames
    assert min(outside) >= 40.0, min(outside)
    assert statistics.median(inside) < 30.0, statistics.median(inside)

    # The source's sound under the whole cut, untouched.
    assert abs(len(cut_sound) - len(source_sound)) <= 2048
    assert correlation(cut_sound, source_sound) >= 0.99

    # Every join scored: on the shot cuts the step is the source's own, not a flaw to look at;
    # the one between the two takes inside the shot steps less than the source does at a cut.
    assert sorted(round(seam["at"], 3) for seam in made.seams) == sorted(round(e, 3) for e in edges)
    on_cuts = [s for s in made.seams if any(abs(s["at"] - at) < 0.5 / FPS for at in SHOT_CUTS)]
    inside_shot = [s for s in made.seams if s not in on_cuts]
    assert len(on_cuts) == 2 and len(inside_shot) == 1, made.seams
    assert all(s["source_step"] > 40 and not s["flagged"] for s in on_cuts), made.seams
    assert 0 < inside_shot[0]["score"] < min(s["source_step"] for s in on_cuts), made.seams
    # Kept with the takes it used.
    assert [w["take"] for w in made.plan["windows"]] == [t.code for t in takes]
