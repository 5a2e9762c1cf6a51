"""Export a before/after comparison as one MP4: the two videos side by side, labelled."""

from __future__ import annotations

from pathlib import Path

import av
from av.video.frame import VideoFrame
from PIL import Image, ImageDraw, ImageFont

from studio.media.label import label_rgb
from studio.media.transcode import (
    AAC_FRAME,
    AUDIO_RATE,
    _chain,
    _encode_audio,
    _push,
    even,
    open_video,
)

LABEL_HEIGHT = 44
GAP = 8


def _fit(frame: VideoFrame, height: int, width: int) -> Image.Image:
    return frame.reformat(width=width, height=height, format="rgb24").to_image()


def _audio_stream(out: av.container.OutputContainer):
    audio = out.add_stream("aac", rate=AUDIO_RATE)
    audio.layout = "stereo"
    return audio


def side_by_side(
    before: Path,
    after: Path,
    dest: Path,
    *,
    labels: tuple[str, str] = ("Before", "After"),
    height: int = 720,
    ai_label: bool = False,
) -> int:
    """Write the comparison at the after-video's frame rate; returns the number of frames.
    With `ai_label`, the after-video carries the visible "AI-generated" label in its corner."""
    font = ImageFont.load_default(size=26)
    frames = 0
    with open_video(before) as a_in, open_video(after) as b_in:
        a_stream, b_stream = a_in.streams.video[0], b_in.streams.video[0]
        a_ctx, b_ctx = a_stream.codec_context, b_stream.codec_context
        left_w = even(a_ctx.width * height / a_ctx.height)
        right_w = even(b_ctx.width * height / b_ctx.height)
        width = even(left_w + GAP + right_w)
        rate = b_stream.average_rate or 30
        a_frames = a_in.decode(a_stream)
        current_a = next(a_frames, None)
        nxt_a = next(a_frames, None)
        with av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            # Every stream is added before the first packet is written.
            stream = out.add_stream("libx264", rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height + LABEL_HEIGHT, "yuv420p"
            stream.options = {"preset": "veryfast", "crf": "20"}
            audio = _audio_stream(out) if b_in.streams.audio else None
            for b_frame in b_in.decode(b_stream):
                t = b_frame.time or 0.0
                while nxt_a is not None and (nxt_a.time or 0.0) <= t + 1e-3:
                    current_a, nxt_a = nxt_a, next(a_frames, None)
                canvas = Image.new("RGB", (width, height + LABEL_HEIGHT), (12, 14, 19))
                if current_a is not None:
                    canvas.paste(_fit(current_a, height, left_w), (0, LABEL_HEIGHT))
                after_picture = _fit(b_frame, height, right_w)
                if ai_label:
                    label_rgb(after_picture)
                canvas.paste(after_picture, (left_w + GAP, LABEL_HEIGHT))
                draw = ImageDraw.Draw(canvas)
                draw.text((12, 8), labels[0], fill=(231, 233, 238), font=font)
                draw.text((left_w + GAP + 12, 8), labels[1], fill=(231, 233, 238), font=font)
                frame = VideoFrame.from_image(canvas).reformat(format="yuv420p")
                frame.pts = frames
                out.mux(stream.encode(frame))
                frames += 1
            out.mux(stream.encode())
            if audio is not None:
                _copy_audio(after, out, audio)
    return frames


def _copy_audio(source: Path, out: av.container.OutputContainer, aout) -> None:
    """The after-video's sound, re-encoded to AAC, so the export plays with the edit's audio."""
    from av.filter import Graph

    with open_video(source) as container:
        ain = container.streams.audio[0]
        graph = Graph()
        _chain(
            graph,
            graph.add_abuffer(template=ain),
            [
                ("aresample", str(AUDIO_RATE)),
                ("aformat", f"sample_fmts=fltp:sample_rates={AUDIO_RATE}:channel_layouts=stereo"),
                ("asetnsamples", f"n={AAC_FRAME}:p=0"),
            ],
            "abuffersink",
        )
        samples = 0
        for frame in container.decode(ain):
            _push(graph, frame)
            samples += _encode_audio(graph, aout, out, samples)
        _push(graph, None)
        _encode_audio(graph, aout, out, samples)
        out.mux(aout.encode())
