"""The fake Modellix's realistic results: made from the request's own input as wan2.7-videoedit
returns them (30 fps, the model's size for the resolution and ratio, the asked length, sound per
audio_setting), clearly edited yet moving with the source, and imperfect on request."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from studio.models import TakeState
from tests.fake_modellix import FakeModellix
from tests.fake_results import make_result
from tests.pipeline import new_take, run
from tests.samples import Samples

BODY = {"resolution": "720P", "duration": 2, "audio_setting": "origin"}
SMALL = (160, 90)  # frames are compared at this size where the full picture is not needed


@dataclass
class Decoded:
    width: int
    height: int
    rate: Fraction
    times: list[Fraction]  # every frame's presentation time, in decode order
    has_audio: bool


def decoded(data: bytes, folder: Path) -> Decoded:
    path = folder / "result.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [Fraction(f.pts) * f.time_base for f in container.decode(stream)]
        return Decoded(
            stream.codec_context.width,
            stream.codec_context.height,
            stream.average_rate,
            times,
            bool(container.streams.audio),
        )


def pictures(path: Path, size: tuple[int, int] | None = SMALL) -> Iterator[Image.Image]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_image()
            yield image.resize(size) if size else image


def sound(path: Path) -> list[float]:
    """The first audio track as mono 48 kHz samples."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=48000)
    samples: list[float] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            for chunk in resampler.resample(frame):
                samples += struct.unpack(
                    f"<{chunk.samples}f", bytes(chunk.planes[0])[: chunk.samples * 4]
                )
    return samples


def correlation(x: list[float], y: list[float]) -> float:
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two pictures, 0-255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def psnr(a: Image.Image, b: Image.Image) -> float:
    squares = sum(ImageStat.Stat(ImageChops.difference(a, b)).sum2)
    mse = squares / (3 * a.width * a.height)
    return 10 * math.log10(255**2 / mse) if mse else math.inf


def plane_means(path: Path) -> list[float]:
    """Mean Y, U and V over every frame (the stored levels, before any RGB conversion)."""
    totals, count = [0.0, 0.0, 0.0], 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            for index, plane in enumerate(frame.planes):
                image = Image.frombytes(
                    "L", (plane.width, plane.height), bytes(plane), "raw", "L", plane.line_size
                )
                totals[index] += ImageStat.Stat(image).mean[0]
            count += 1
    return [total / count for total in totals]


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("sample", "body", "size", "frames"),
    [
        # 25 fps, 2.4 s: two seconds asked, no ratio (the input's 16:9).
        ("fake-input-25.mp4", BODY, (1280, 720), 60),
        # The whole input (2.4 s) cropped to a square; 1:1 at 720P is 960x960.
        ("fake-input-25.mp4", {"resolution": "720P", "ratio": "1:1"}, (960, 960), 72),
        # 24 fps 4:3 input kept 4:3; asking longer than the input gives the input's length.
        ("tiny.mp4", {"resolution": "720P", "duration": 5}, (1104, 832), 90),
    ],
)
def test_results_are_30_fps_at_the_model_size_and_the_asked_length(
    samples: Samples, tmp_path: Path, sample: str, body: dict[str, Any], size, frames
) -> None:
    result = make_result(samples[sample].read_bytes(), body)
    got = decoded(result.data, tmp_path)
    assert (got.width, got.height) == size == (result.width, result.height)
    assert got.rate == 30
    assert len(got.times) == frames == result.frames
    assert sorted(got.times) == [Fraction(n, 30) for n in range(frames)]


def test_extra_frames_make_the_result_longer_than_asked(samples: Samples, tmp_path: Path) -> None:
    video = samples["fake-input-25.mp4"].read_bytes()
    assert len(decoded(make_result(video, BODY, extra_frames=3).data, tmp_path).times) == 63
    assert len(decoded(make_result(video, BODY, extra_frames=-2).data, tmp_path).times) == 58
    # Past the input's end (2.4 s = 72 frames) the last picture is held.
    whole = make_result(video, {"resolution": "720P"}, extra_frames=2)
    assert len(decoded(whole.data, tmp_path).times) == 74
    last = list(pictures(write(tmp_path, "whole.mp4", whole.data)))[-3:]
    assert max(difference(last[0], other) for other in last[1:]) < 1


def test_sound_follows_audio_setting_and_the_input(samples: Samples, tmp_path: Path) -> None:
    video = samples["fake-input-25.mp4"].read_bytes()
    source = sound(samples["fake-input-25.mp4"])
    kept = make_result(video, BODY)
    assert kept.has_audio
    kept_sound = sound(write(tmp_path, "kept.mp4", kept.data))
    assert len(kept_sound) == pytest.approx(2 * 48000, abs=1024)
    assert correlation(source, kept_sound) >= 0.99
    # "auto": the model's own sound, not the input's.
    own = make_result(video, {**BODY, "audio_setting": "auto"})
    own_sound = sound(write(tmp_path, "own.mp4", own.data))
    assert own.has_audio and len(own_sound) == pytest.approx(2 * 48000, abs=1024)
    assert abs(correlation(source, own_sound)) < 0.2
    assert max(abs(v) for v in own_sound) > 0.1
    # A silent input keeps no sound with "origin", and gets the model's own with "auto".
    silent = samples["silent.mp4"].read_bytes()
    assert not decoded(make_result(silent, BODY).data, tmp_path).has_audio
    assert decoded(make_result(silent, {**BODY, "audio_setting": "auto"}).data, tmp_path).has_audio


def test_frames_differ_from_the_source_but_move_with_it(samples: Samples, tmp_path: Path) -> None:
    path = samples["fake-input-25.mp4"]
    result = write(tmp_path, "result.mp4", make_result(path.read_bytes(), BODY).data)
    source = list(pictures(path))  # 25 fps
    edited = list(pictures(result))  # 30 fps
    # Output frame n is the input frame on screen at n/30 s: frame floor(n * 25 / 30).
    shown = [source[n * 25 // 30] for n in range(len(edited))]
    full = list(zip(pictures(path, None), range(3), strict=False))
    for (picture, index), out in zip(full, pictures(result, None), strict=False):
        assert psnr(picture.resize(out.size), out) < 30, index
    source_motion = [difference(a, b) for a, b in zip(shown, shown[1:], strict=False)]
    edited_motion = [difference(a, b) for a, b in zip(edited, edited[1:], strict=False)]
    assert correlation(source_motion, edited_motion) >= 0.9
    # Every sixth output frame repeats the one before it (25 -> 30 fps), as the source did.
    assert [n for n, value in enumerate(edited_motion, 1) if value < 0.5] == list(range(1, 60, 6))


def test_colour_shift_is_a_small_global_shift(samples: Samples, tmp_path: Path) -> None:
    video = samples["fake-input-25.mp4"].read_bytes()
    plain = plane_means(write(tmp_path, "plain.mp4", make_result(video, BODY).data))
    # A brightness shift of 10 levels raises luma by 10 * 219/255 and leaves colour alone.
    brighter = plane_means(write(tmp_path, "b.mp4", make_result(video, BODY, colour_shift=10).data))
    assert brighter[0] - plain[0] == pytest.approx(8.6, abs=0.5)
    assert brighter[1] == pytest.approx(plain[1], abs=0.5)
    assert brighter[2] == pytest.approx(plain[2], abs=0.5)
    # Warmer: more red, less blue (BT.601 studio range: Cr up, Cb down, luma about the same).
    warmer = make_result(video, BODY, colour_shift=(12, 0, -12))
    y, u, v = plane_means(write(tmp_path, "w.mp4", warmer.data))
    assert y - plain[0] == pytest.approx(12 * (0.257 - 0.098), abs=0.5)
    assert u - plain[1] == pytest.approx(-12 * (0.148 + 0.439), abs=1)
    assert v - plain[2] == pytest.approx(12 * (0.439 + 0.071), abs=1)


def _post(fake: FakeModellix, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (the fake on 127.0.0.1)
        fake.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer test-key", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())["data"]


def test_the_fake_serves_realistic_results_per_task(samples: Samples, tmp_path: Path) -> None:
    fake = FakeModellix(task_seconds=0, pending_seconds=0, realistic=True).start()
    try:
        video = samples["fake-input-25.mp4"].read_bytes()
        url = "data:video/mp4;base64," + base64.b64encode(video).decode()
        fake.next_result(extra_frames=2)
        submit = "/api/v1/alibaba/wan2.7-videoedit/async"
        first = _post(fake, submit, {**BODY, "video_url": url})["task_id"]
        second = _post(fake, submit, {**BODY, "ratio": "9:16", "video_url": url})["task_id"]
        fake.next_result()  # a task the model cannot read fails with a reason
        broken = _post(fake, submit, {**BODY, "video_url": "data:video/mp4;base64,AAAA"})
        for task_id, size, frames in ((first, (1280, 720), 62), (second, (720, 1280), 60)):
            data = _post(fake, f"/api/v1/tasks/{task_id}")
            assert data["status"] == "success"
            resource = data["result"]["resources"][0]
            assert (resource["width"], resource["height"]) == size
            with urllib.request.urlopen(resource["url"], timeout=30) as response:  # noqa: S310
                got = decoded(response.read(), tmp_path)
            assert (got.width, got.height) == size and len(got.times) == frames
        assert fake.tasks[first].video == video  # what the fake was given is kept as it came
        failed = _post(fake, f"/api/v1/tasks/{broken['task_id']}")
        assert failed["status"] == "failed"
        assert "could not read the input video" in failed["error"]["message"]
    finally:
        fake.stop()


@pytest.mark.django_db
@pytest.mark.usefixtures("queue")
@pytest.mark.parametrize("mode", ["upload", "base64"])
def test_a_take_keeps_the_realistic_result(fake, clip, bob, settings, mode: str) -> None:
    """Through the studio: the input arrives by upload or inline, and the take stores the
    model-shaped result (not the input the fake was given)."""
    settings.MODELLIX_MEDIA_MODE = mode
    fake.realistic = True
    take = new_take(clip, bob, resolution="720P", duration=2, audio_setting="origin")
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert (take.result_width, take.result_height) == (1280, 720)
    assert take.result_duration == pytest.approx(2.0, abs=0.01)
    task = fake.tasks[take.provider_task_id]
    assert task.video == take.input_clip.file.read() and task.result is not None
    assert take.result_fetched_sha256 == hashlib.sha256(task.result.data).hexdigest()
    assert take.result_fetched_sha256 != hashlib.sha256(task.video).hexdigest()


def test_a_natural_result_is_a_smooth_grade_at_an_ordinary_bitrate(
    samples: Samples, tmp_path: Path
) -> None:
    """For benchmarks: the input's picture cooled and lifted a little (no posterized steps),
    with the posterized result's size, rate and length, in fewer bits."""
    path = samples["fake-input-25.mp4"]
    posterized = make_result(path.read_bytes(), BODY)
    natural = make_result(path.read_bytes(), BODY, natural=True)
    assert (natural.width, natural.height, natural.frames) == (1280, 720, 60)
    assert len(natural.data) < len(posterized.data) / 2
    result = write(tmp_path, "natural.mp4", natural.data)
    source = next(pictures(path, None)).resize((1280, 720))
    graded = next(pictures(result, None))
    assert 1 < difference(source, graded) < 20  # edited, yet close to the input
    assert len(graded.convert("L").getcolors(256) or []) > 40  # no 8-level posterizing
    _, u, v = plane_means(result)
    _, source_u, source_v = plane_means(path)
    assert u > source_u + 5 and v < source_v - 3  # cooler: more blue, less red
