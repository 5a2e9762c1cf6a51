"""Shot cuts (studio/media/shots.py): hard cuts found on their first frame, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.media import shots
from studio.media.probe import MediaRejected
from tests.samples import Samples, make_shots

FRAME = 1 / 25


def on_a_frame(at: float, fps: float = 25) -> bool:
    return abs(at * fps - round(at * fps)) < 1e-6


def test_the_two_hard_cuts_of_the_40_s_clip_on_their_first_frames(samples: Samples):
    cuts = shots.shot_cuts(samples["shots-40s-1080p.mp4"], duration=40.0)
    assert len(cuts) == 2
    for found, made in zip(cuts, (12.0, 27.0), strict=True):
        assert abs(found - made) <= FRAME + 1e-9
        assert on_a_frame(found)


def test_close_cuts_each_on_the_frame_that_starts_the_shot(samples: Samples):
    # 19.5 s is between frames: the shot starts on the next one (frame 488, 19.52 s) and so
    # does 5.04 s, exactly on frame 126.
    cuts = shots.shot_cuts(samples["shots-close-cuts.mp4"])
    assert cuts == [2.0, 2.6, 5.04, 8.0]


@pytest.mark.parametrize("first", [0, 1, 2, 3])
@pytest.mark.parametrize("speed", [1, 6])
def test_motion_without_a_cut_is_one_shot(tmp_path: Path, first: int, speed: int):
    # Gradients, sliding bars and stripes, a drifting checkerboard; at speed 6 the bars move
    # half their width each frame, so every frame differs a lot from the one before.
    path = make_shots(
        tmp_path / "motion.mp4",
        seconds=4.0,
        width=320,
        height=180,
        cuts=(),
        first=first,
        speed=speed,
        audio=False,
    )
    assert shots.shot_cuts(path) == []


def test_a_fade_through_black_is_not_a_hard_cut(samples: Samples):
    assert shots.shot_cuts(samples["shots-fade.mp4"]) == []


def test_an_existing_sample_without_cuts(samples: Samples):
    assert shots.shot_cuts(samples["h264.mp4"]) == []


def test_progress_is_reported_as_a_fraction(samples: Samples, monkeypatch):
    monkeypatch.setattr(shots.clock, "monotonic", iter(range(0, 10_000, 2)).__next__)
    seen: list[float] = []
    shots.shot_cuts(samples["shots-close-cuts.mp4"], duration=10.0, progress=seen.append)
    assert seen and all(0.0 <= value <= 1.0 for value in seen)
    assert seen == sorted(seen)


def test_a_file_that_is_not_a_video_is_rejected(samples: Samples):
    with pytest.raises(MediaRejected):
        shots.shot_cuts(samples["text.mp4"])


def thumb(level: int) -> bytes:
    size = shots.SIZE[0] * shots.SIZE[1]
    return bytes([level]) * size + bytes([128]) * (size // 2)


def frames(levels: list[int], fps: float = 25) -> list[tuple[float, bytes]]:
    return [(index / fps, thumb(level)) for index, level in enumerate(levels)]


def test_a_flash_frame_is_not_a_cut():
    levels = [40] * 20 + [230] + [40] * 20
    assert list(shots.hard_cuts(frames(levels))) == []


def test_a_cut_after_a_short_shot_is_dropped():
    # Shots of 20 frames, 5 frames (0.2 s, under MIN_SHOT) and 20 frames: the second cut goes.
    levels = [40] * 20 + [200] * 5 + [100] * 20
    assert list(shots.hard_cuts(frames(levels))) == [20 / 25]


def test_a_steady_ramp_is_not_a_cut():
    levels = [min(235, 16 + 4 * index) for index in range(60)]
    assert list(shots.hard_cuts(frames(levels))) == []
