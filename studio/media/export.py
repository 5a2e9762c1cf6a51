"""Export a before/after comparison as one MP4: the two videos side by side, labelled."""

from __future__ import annotations

from pathlib import Path

import av
from av.video.frame import VideoFrame
from PIL import Image, ImageDraw, ImageFont

from studio.media.transcode import even, open_video

LABEL_HEIGHT = 44
GAP = 8


def _fit(frame: VideoFrame, height: int) -> Image.Image:
    width = even(frame.width * height / frame.height)
    return frame.reformat(width=width, height=height, format="rgb24").to_image()


def side_by_side(
    before: Path,
    after: Path,
    dest: Path,
    *,
    labels: tuple[str, str] = ("Before", "After"),
    height: int = 720,
) -> int:
    """Write the comparison at the after-video's frame rate; returns the number of frames."""
    font = ImageFont.load_default(size=26)
    frames = 0
    with open_video(before) as a_in, open_video(after) as b_in:
        a_stream, b_stream = a_in.streams.video[0], b_in.streams.video[0]
        rate = b_stream.average_rate or 30
        a_frames = a_in.decode(a_stream)
        current_a = next(a_frames, None)
        nxt_a = next(a_frames, None)
        with av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = None
            for b_frame in b_in.decode(b_stream):
                t = b_frame.time or 0.0
                while nxt_a is not None and (nxt_a.time or 0.0) <= t + 1e-3:
                    current_a, nxt_a = nxt_a, next(a_frames, None)
                left = _fit(current_a, height) if current_a is not None else None
                right = _fit(b_frame, height)
                left_w = left.width if left else right.width
                width = even(left_w + GAP + right.width)
                canvas = Image.new("RGB", (width, height + LABEL_HEIGHT), (12, 14, 19))
                if left:
                    canvas.paste(left, (0, LABEL_HEIGHT))
                canvas.paste(right, (left_w + GAP, LABEL_HEIGHT))
                draw = ImageDraw.Draw(canvas)
                draw.text((12, 8), labels[0], fill=(231, 233, 238), font=font)
                draw.text((left_w + GAP + 12, 8), labels[1], fill=(231, 233, 238), font=font)
                if stream is None:
                    stream = out.add_stream("libx264", rate=rate)
                    stream.width, stream.height, stream.pix_fmt = (
                        canvas.width,
                        canvas.height,
                        "yuv420p",
                    )
                    stream.options = {"preset": "veryfast", "crf": "20"}
                frame = VideoFrame.from_image(canvas).reformat(format="yuv420p")
                frame.pts = frames
                out.mux(stream.encode(frame))
                frames += 1
            if stream is not None:
                out.mux(stream.encode())
    return frames
