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
from studio.cuts.models import Cut, CutRender, CutWindow, RenderState
from studio.media.probe import probe
from studio.media.transcode import make_poster
from studio.models import Clip, MediaState, Project, TakeState
from studio.storage.files import store_path
from tests.conftest import clip_row, take_row
from tests.samples import Samples


def stored_clip(project: Project, source: Path, **fields: object) -> Clip:
    """A ready clip of the real file `source`, stored as the upload stores it (in the default
    storage: a bucket or the media folder) without going through it; the upload is tested on
    its own, and through it a 1080p clip costs many seconds a test."""
    info = probe(source, max_seconds=60)
    clip = Clip(
        project=project,
        state=MediaState.READY,
        original_name=source.name,
        duration=info.duration,
        fps=info.fps,
        width=info.width,
        height=info.height,
        has_audio=info.has_audio,
        **fields,
    )
    store_path(clip.source, f"clips/{project.code}/{source.name}", source)
    clip.save()
    return clip


def window_edited(cut: Cut, start: float, end: float, result: Path, author: User) -> CutWindow:
    """Window [start, end) of `cut`, its take finished with the real file `result` (what the
    provider returned for the window and its handles) and chosen."""
    window = services.window_add(cut=cut, start=start, end=end)
    sent = services.window_request(window)
    take = take_row(
        cut.project,
        clip=cut.clip,
        window=window,
        start_ms=round(sent.start * 1000),
        length_ms=round(sent.length * 1000),
        result=result.read_bytes(),
        created_by=author,
    )
    take.result_duration = probe(result, max_seconds=60).duration
    take.save(update_fields=["result_duration"])
    services.window_choose(window=window, take=take)
    return window


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
