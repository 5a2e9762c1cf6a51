"""Shot cuts are found once, when a clip is prepared; a clip whose cuts cannot be found is ready."""

from __future__ import annotations

import logging

import av
import pytest
from django.core.management import call_command

from studio.library import clips
from studio.models import Clip, MediaState
from tests.conftest import clip_row, upload_clip

pytestmark = pytest.mark.django_db
CUTS = [2.0, 2.6, 5.04, 8.0]  # samples' shots-close-cuts.mp4


def test_preparing_a_clip_stores_its_shot_cuts(as_bob, project, samples):
    clip = upload_clip(as_bob, project, samples["shots-close-cuts.mp4"])
    assert clip.state == MediaState.READY
    assert clip.shot_cuts == CUTS


def test_a_clip_in_one_shot_has_none(as_bob, project, samples):
    # MKV: the clip gets a proxy too, and its progress goes on after the cuts are found.
    clip = upload_clip(as_bob, project, samples["mpeg4.mkv"])
    assert clip.state == MediaState.READY and clip.proxy
    assert clip.shot_cuts == []
    assert clip.progress == 1.0


def test_a_clip_whose_cuts_cannot_be_found_is_ready_all_the_same(
    as_bob, project, samples, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise av.InvalidDataError(1094995529, "Invalid data found when processing input")

    monkeypatch.setattr(clips, "shot_cuts", broken)
    with caplog.at_level(logging.ERROR, logger="studio.library.clips"):
        clip = upload_clip(as_bob, project, samples["shots-close-cuts.mp4"])
    assert clip.state == MediaState.READY and clip.reason == ""
    assert clip.poster and clip.duration
    assert clip.shot_cuts is None  # not known, which is not "no cuts"
    assert "shot cuts of clip" in caplog.text


def test_the_command_finds_the_cuts_of_clips_without_them(as_bob, project, samples, capsys):
    known = upload_clip(as_bob, project, samples["shots-close-cuts.mp4"])
    older = upload_clip(as_bob, project, samples["shots-close-cuts.mp4"])
    Clip.objects.filter(pk=older.pk).update(shot_cuts=None)
    unreadable = clip_row(project)  # its source is not a video
    Clip.objects.filter(pk=known.pk).update(shot_cuts=[1.0])
    call_command("detect_shots")
    older.refresh_from_db()
    known.refresh_from_db()
    unreadable.refresh_from_db()
    assert older.shot_cuts == CUTS
    assert known.shot_cuts == [1.0]  # left as it was
    assert unreadable.shot_cuts is None and unreadable.state == MediaState.READY
    out = capsys.readouterr().out
    assert "made the filmstrip of 1 clip(s); 1 could not be read; 1 clip(s) still" in out
    call_command("detect_shots", "--again")
    known.refresh_from_db()
    assert known.shot_cuts == CUTS


def test_a_clip_that_is_not_ready_is_left_alone(as_bob, project, samples):
    clip = upload_clip(as_bob, project, samples["shots-close-cuts.mp4"], prepare=False)
    assert clips.clip_shots_detect(clip=clip) is False
    clip.refresh_from_db()
    assert clip.shot_cuts is None


def test_the_issue_clip_gets_windows_on_its_two_shot_cuts(as_bob, project, samples):
    # The 40 s 25 fps 1080p clip with a tone and hard cuts at 12 s and 27 s, prepared as the
    # worker does: its cuts are stored, and the proposed windows have their edges on them.
    from studio.cuts.windows import windows_propose

    clip = upload_clip(as_bob, project, samples["shots-40s-1080p.mp4"])
    assert clip.state == MediaState.READY and clip.has_audio and clip.fps == 25
    assert clip.shot_cuts == [12.0, 27.0]
    proposal = windows_propose(duration=clip.duration, shot_cuts=clip.shot_cuts, fps=clip.fps)
    edges = {window.start for window in proposal.windows}
    assert {12.0, 27.0} <= edges
    assert not any(window.crosses_cut for window in proposal.windows)
    assert proposal.windows[-1].end == 40.0
