"""The visible "AI-generated" label (studio/media/label.py): burned into a copy of a result, a
side-by-side export and a cut's AI windows, read back from the decoded frames."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from studio.media.cut import Splice, cut_render
from studio.media.export import side_by_side
from studio.media.label import MIN_TEXT_PX, burn_label, label_box, label_image
from tests.media.test_cut_render import take as cut_take
from tests.media_checks import pictures
from tests.samples import make_video


def first_picture(path: Path, index: int = 0) -> Image.Image:
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number == index:
                return frame.to_image()
    raise AssertionError(f"{path.name} has no frame {index}")


def difference(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Mean absolute difference (0-255) of the two pictures' grey levels inside box."""
    grey = ImageChops.difference(a.convert("L").crop(box), b.convert("L").crop(box))
    return ImageStat.Stat(grey).mean[0]


def corners(width: int, height: int) -> dict[str, tuple[int, int, int, int]]:
    label = label_box(width, height)
    plate_w, plate_h = label[2] - label[0], label[3] - label[1]
    cx, cy = width // 2, height // 2
    return {
        "label": label,
        "opposite": (label[0] - width + plate_w + 8, 8, 8 + plate_w, 8 + plate_h),
        "centre": (cx - plate_w // 2, cy - plate_h // 2, cx + plate_w // 2, cy + plate_h // 2),
    }


@pytest.mark.parametrize("size", [(320, 180), (180, 320)], ids=["16x9", "9x16"])
def test_a_labelled_copy_has_the_label_in_its_corner_and_nothing_else_changed(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    width, height = size
    source = make_video(tmp_path / "result.mp4", seconds=0.5, width=width, height=height)
    labelled = tmp_path / "labelled.mp4"
    frames = burn_label(source, labelled)

    assert frames == 12
    boxes = corners(width, height)
    box = boxes["label"]
    assert box[2] <= width - 8 and box[3] <= height - 8  # inside the bottom-right margin
    for index in (0, 11):
        before, after = first_picture(source, index), first_picture(labelled, index)
        assert difference(before, after, box) > 25, index  # the plate and its words
        assert difference(before, after, boxes["opposite"]) < 3, index
        assert difference(before, after, boxes["centre"]) < 3, index
    # Light text on a dark plate: both extremes are inside the label's box.
    darkest, lightest = first_picture(labelled).convert("L").crop(box).getextrema()
    assert darkest < 60 and lightest > 200
    with av.open(str(source)) as a, av.open(str(labelled)) as b:
        assert b.streams.video[0].codec_context.width == width
        assert b.streams.audio[0].frames == a.streams.audio[0].frames  # sound copied as is


def test_the_label_is_sized_for_phones_in_every_shape() -> None:
    for width, height in ((1920, 1080), (1080, 1920), (1080, 1080), (160, 90)):
        plate = label_image(width, height)
        # Never wider than a third of the picture; at least MIN_TEXT_PX of text.
        assert plate.width <= width * 0.34 or plate.height <= MIN_TEXT_PX * 1.8
        assert plate.height >= MIN_TEXT_PX
    assert 0.035 * 1080 <= label_image(1920, 1080).height * 0.62 <= 0.045 * 1080
    # A plate about two-thirds opaque, so what is under it still shows a little.
    alpha = label_image(1920, 1080).getchannel("A")
    assert 150 <= alpha.getpixel((alpha.width // 2, 2)) <= 180


def test_the_side_by_side_export_labels_the_after_video_only_when_asked(tmp_path: Path) -> None:
    before = make_video(tmp_path / "before.mp4", seconds=0.25, width=320, height=180)
    after = make_video(tmp_path / "after.mp4", seconds=0.25, width=320, height=180, audio=False)
    plain, labelled = tmp_path / "plain.mp4", tmp_path / "labelled.mp4"
    side_by_side(before, after, plain, height=360)
    side_by_side(before, after, labelled, height=360, ai_label=True)

    a, b = first_picture(plain), first_picture(labelled)
    right_w = 640  # 320x180 at 360 high
    left = b.width - right_w
    box = label_box(right_w, 360)
    in_export = (left + box[0], 44 + box[1], left + box[2], 44 + box[3])
    assert difference(a, b, in_export) > 25
    assert difference(a, b, (0, 44, left - 8, b.height)) < 3  # the before-video is untouched


def test_a_cut_is_labelled_over_its_ai_windows_only(samples, tmp_path: Path) -> None:
    source = samples["cut-30.mp4"]
    window = cut_take(source, tmp_path, 2.0, 3.0)
    plain, labelled = tmp_path / "plain.mp4", tmp_path / "labelled.mp4"
    cut_render(source, [window], plain, crossfade_frames=3)
    ai = Splice(**{**window.__dict__, "ai_label": True})
    cut_render(source, [ai], labelled, crossfade_frames=3)

    box = label_box(480, 270)
    fades = 3 / 30
    for (t, a), (_, b) in zip(pictures(plain), pictures(labelled), strict=True):
        changed = difference(a.to_image(), b.to_image(), box)
        if 2.0 - fades - 0.01 <= t < 3.0 + fades - 0.01:
            assert changed > 25, t
        elif t < 2.0 - fades - 0.05 or t > 3.0 + fades + 0.05:
            assert changed < 3, t
