"""A cut with a ready render, as rows: two windows with finished takes and a render whose file is
a real 9 s 25 fps video (the sample the cut is of), for the render's pages and review tests
that never render (the render itself is tests/cuts/test_cut_renders.py's)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import User
from studio.cuts import services
from studio.cuts.models import CutRender, RenderState
from studio.media.probe import probe
from studio.media.transcode import make_poster
from studio.models import Project, TakeState
from tests.conftest import clip_row, take_row
from tests.samples import Samples


def render_row(project: Project, author: User, samples: Samples) -> CutRender:
    clip = clip_row(project, original_name="interview.mp4", duration=9.0, fps=25.0)
    clip.source.save("rows/interview.mp4", ContentFile(samples["cut-25.mp4"].read_bytes()))
    cut = services.cut_create(clip=clip, author=author, name="Clay version")
    plan = []
    for start, end in ((1.0, 3.0), (5.0, 7.0)):
        window = services.window_add(cut=cut, start=start, end=end)
        sent = services.window_request(window)
        take = take_row(
            project,
            state=TakeState.SUCCEEDED,
            created_by=author,
            clip=clip,
            start_ms=round(sent.start * 1000),
            length_ms=round(sent.length * 1000),
            window=window,
            prompt=f"clay from {start:g} s",
        )
        services.window_choose(window=window, take=take)
        plan.append({"window": window.pk, "start": start, "end": end, "take": take.code})
    render = CutRender.objects.create(
        cut=cut,
        number=cut.render_number_take(),
        state=RenderState.READY,
        plan={"crossfade_frames": 6, "windows": plan, "source_kept": []},
        duration=9.0,
        frames=225,
        seams=[
            {"window": 0, "edge": "in", "at": 1.0, "score": 3.2, "flagged": False},
            {"window": 0, "edge": "out", "at": 3.0, "score": 41.5, "flagged": True},
            {"window": 1, "edge": "in", "at": 5.0, "score": 2.0, "flagged": False},
            {"window": 1, "edge": "out", "at": 7.0, "score": 2.5, "flagged": False},
        ],
        created_by=author,
        finished_at=timezone.now(),
    )
    video = samples["cut-25.mp4"]
    data = video.read_bytes()
    folder = f"cuts/{project.code}/{cut.code}/v1"
    render.file.save(f"{folder}/render.mp4", ContentFile(data), save=False)
    with tempfile.TemporaryDirectory() as tmp:
        poster = Path(tmp) / "poster.jpg"
        make_poster(video, poster, probe(video, max_seconds=60))
        render.poster.save(f"{folder}/poster.jpg", ContentFile(poster.read_bytes()), save=False)
    render.size = len(data)
    render.save(update_fields=["file", "poster", "size"])
    return render
