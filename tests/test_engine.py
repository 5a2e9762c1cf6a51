"""The local engine renders every parameter like the real model's output (and is not AI)."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from datetime import timedelta
from pathlib import Path

import av
import pytest
from PIL import Image

from studio.media import engine
from studio.media.probe import probe
from studio.parameters import EditParameters
from studio.providers import local
from studio.providers.base import EditRequest, Media

CLAY = EditParameters("clay", "", "720P", "", 0, "auto", True, 1)


def render(
    samples, tmp_path, name="h264.mp4", references=(), **params
) -> tuple[Path, engine.Rendered]:
    src = samples[name]
    dest = tmp_path / f"out-{len(list(tmp_path.iterdir()))}.mp4"
    asked = EditParameters(**({"prompt": "x"} | params))
    result = engine.render(
        src, dest, info=probe(src, max_seconds=60), parameters=asked, references=references
    )
    return dest, result


def frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return [frame for frame in container.decode(video=0)]


def plane_bytes(frame, index: int) -> bytes:
    """The picture bytes of one plane, without the padding at the end of each row."""
    plane = frame.planes[index]
    data, width = bytes(plane), plane.width
    return b"".join(
        data[y * plane.line_size : y * plane.line_size + width] for y in range(plane.height)
    )


def chroma_spread(frame) -> float:
    """How far U and V stray from neutral grey (128): 0 for black and white."""
    u, v = plane_bytes(frame, 1), plane_bytes(frame, 2)
    return max(abs(sum(u) / len(u) - 128), abs(sum(v) / len(v) - 128))


@pytest.mark.parametrize("resolution", ["720P", "1080P"])
@pytest.mark.parametrize("ratio", ["16:9", "9:16", "1:1", "4:3", "3:4"])
def test_sizes_for_every_ratio_and_resolution(samples, tmp_path, resolution, ratio):
    dest, _ = render(samples, tmp_path, resolution=resolution, ratio=ratio, duration=2)
    info = probe(dest, max_seconds=60)
    assert (info.width, info.height) == engine.SIZES[resolution][ratio]
    assert (info.container, info.video_codec, info.pix_fmt) == ("mp4", "h264", "yuv420p")
    assert info.fps == 30.0
    assert info.duration == pytest.approx(2.0, abs=1 / 30 + 0.01)


def test_no_ratio_keeps_the_aspect_at_the_same_area(samples, tmp_path):
    dest, _ = render(samples, tmp_path, name="hevc-portrait.mov", resolution="720P")
    info = probe(dest, max_seconds=60)
    assert info.width / info.height == pytest.approx(240 / 320, abs=0.01)
    assert info.width * info.height == pytest.approx(1280 * 720, rel=0.01)
    assert info.width % 2 == 0 and info.height % 2 == 0


def test_duration_zero_keeps_the_input_length_and_sound(samples, tmp_path):
    dest, result = render(samples, tmp_path, name="hevc-portrait.mov", resolution="720P")
    info = probe(dest, max_seconds=60)
    assert info.duration == pytest.approx(3.0, abs=1 / 30 + 0.01)
    assert info.audio_codec == "aac" and result.encoded.has_audio


def test_silent_input_gives_silent_output(samples, tmp_path):
    dest, _ = render(
        samples, tmp_path, name="silent.mp4", resolution="720P", audio_setting="origin"
    )
    assert probe(dest, max_seconds=60).has_audio is False


def test_monochrome_prompt_has_no_colour(samples, tmp_path):
    dest, result = render(samples, tmp_path, prompt="make it 黑白, like old TV", resolution="720P")
    assert result.looks == ["black and white"]
    assert max(chroma_spread(frame) for frame in frames(dest)) < 1.5
    plain, _ = render(samples, tmp_path, prompt="warm", resolution="720P")
    assert max(chroma_spread(frame) for frame in frames(plain)) > 10


def test_reference_image_moves_the_colours_toward_it(samples, tmp_path):
    red = tmp_path / "red.png"
    Image.new("RGB", (300, 300), (220, 30, 30)).save(red)
    without, _ = render(samples, tmp_path, prompt="a quiet grade", resolution="720P", seed=1)
    with_ref, _ = render(
        samples, tmp_path, prompt="a quiet grade", resolution="720P", seed=1, references=[red]
    )

    def mean_v(path):
        values = [plane_bytes(f, 2) for f in frames(path)]
        return sum(sum(v) / len(v) for v in values) / len(values)

    assert mean_v(with_ref) > mean_v(without) + 10  # Cr rises toward red


def digest(path: Path) -> str:
    hashed = hashlib.sha256()
    for frame in frames(path):
        for plane in frame.planes:
            hashed.update(bytes(plane))
    return hashed.hexdigest()


def test_same_seed_same_frames_other_seed_differs(samples, tmp_path):
    a, _ = render(samples, tmp_path, prompt="clay", resolution="720P", seed=7)
    b, _ = render(samples, tmp_path, prompt="clay", resolution="720P", seed=7)
    c, _ = render(samples, tmp_path, prompt="clay", resolution="720P", seed=8)
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_looks_combine_in_english_and_chinese():
    looks, _ = engine.choose_looks("粘土 figures at sunset, cyberpunk signs", "")
    assert [look.name for look in looks] == ["clay", "neon", "warm"]
    assert [look.name for look in engine.choose_looks("a walk in the park", "")[0]] == [
        "mild grade"
    ]


def test_negative_prompt_removes_what_it_names():
    chosen = engine.plan(
        prompt="clay, sepia", negative="blur, grain, dark", seed=1, size=(640, 360)
    )
    names = [name for name, _ in chosen.post]
    assert "gblur" not in names and "noise" not in names and "vignette" not in names
    assert chosen.looks == ["clay", "sepia"]
    assert "film grain" in chosen.removed and "soft focus (clay look)" in chosen.removed
    assert chosen.done == [
        "clay look with flat clay-like shading and richer colour",
        "sepia look with warm brown sepia tones and the faded contrast of old film",
    ]
    dropped = engine.plan(prompt="black and white noir", negative="noir", seed=1, size=(640, 360))
    assert dropped.looks == ["black and white"] and "the noir look" in dropped.removed


def test_extended_prompt_describes_what_was_done(samples, tmp_path):
    _, result = render(
        samples,
        tmp_path,
        prompt="clay",
        negative_prompt="grain",
        resolution="720P",
        ratio="16:9",
        seed=42,
    )
    text = engine.extended_prompt(
        "clay", result, resolution="720P", ratio="16:9", seed=42, has_audio=True, references=2
    )
    assert text == (
        "clay. Rendered by the local engine (filters, not AI): clay look with soft focus, flat "
        "clay-like shading and richer colour. Left out because of the negative prompt: film "
        "grain. Colours moved toward 2 reference images. 1280×720 (720p, 16:9), 2.0 s at 30 "
        "frames a second, original sound kept; seed 42 sets the grain and the strength."
    )
    _, pixels = render(samples, tmp_path, prompt="pixel art", resolution="720P", ratio="1:1")
    text = engine.extended_prompt(
        "pixel art", pixels, resolution="720P", ratio="1:1", seed=3, has_audio=False, references=0
    )
    assert "chunky 8-bit pixels and a reduced palette; fine film grain." in text
    assert "960×960 (720p, 1:1)" in text and "no sound (the clip has none)" in text


FILTER_NAMES = re.compile(
    r"\b(gblur|lutyuv|hue|edgedetect|unsharp|vignette|noise|pixelate|scale|crop|neighbor"
    r"|posterize|c0s|sigma)\b|=|:\s*\w+,"
)


@pytest.mark.parametrize("look", [*engine.LOOKS, engine.MILD], ids=lambda look: look.name)
def test_descriptions_use_words_not_filter_names(look):
    """What a person reads names what happened to the picture, never a filter."""
    prompt = look.words[0] if look.words else "a walk in the park"
    every_tag = " ".join(tag for effect in look.effects for tag in effect.tags)
    for negative in ("", every_tag + " grain"):
        chosen = engine.plan(prompt=prompt, negative=negative, seed=1, size=(640, 360))
        for text in (*chosen.done, *chosen.removed):
            assert not FILTER_NAMES.search(text), text
        assert chosen.done or chosen.removed


@pytest.mark.django_db
def test_cancelled_and_failed_renders_leave_no_files(samples, tmp_path, settings, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(local, "queue_render", lambda task_id: None)
    engine_ = local.LocalEngine()
    video = Media("input", "c", "file", samples["long.mp4"], "video/mp4", "x.mp4")
    request = EditRequest(CLAY, video)
    canceled = engine_.send(engine_.prepare(request)).task_id
    local.cancel(canceled)
    local.render_job(canceled)
    broken = Media("input", "c", "file", samples["text.mp4"], "video/mp4", "x.mp4")
    failed = engine_.send(engine_.prepare(EditRequest(CLAY, broken))).task_id
    local.render_job(failed)
    assert engine_.status(failed).state == "failed"
    local.cancel(failed)
    assert sorted(p.name for p in (tmp_path / "local-engine").iterdir()) == []


@pytest.mark.django_db
def test_a_live_render_keeps_beating_and_a_dead_one_is_queued_again_within_a_lease(
    samples, tmp_path, settings, monkeypatch
):
    """A render that is alive but quiet (no progress for longer than a lease) is left alone; one
    whose worker died is queued again once a lease has passed without a beat."""
    settings.DATA_DIR = tmp_path
    settings.TAKE_LEASE = timedelta(seconds=0.4)  # a beat every 0.1 s
    queued: list[str] = []
    monkeypatch.setattr(local, "queue_render", queued.append)
    finish = threading.Event()

    def quiet_render(*args, **kwargs):
        finish.wait(30)
        raise OSError("stopped by the test")

    monkeypatch.setattr(local.engine, "render", quiet_render)
    engine_ = local.LocalEngine()
    video = Media("input", "c", "file", samples["long.mp4"], "video/mp4", "x.mp4")
    request = EditRequest(CLAY, video)
    alive = engine_.send(engine_.prepare(request)).task_id
    render = threading.Thread(target=local.render_job, args=(alive,))
    render.start()
    try:
        deadline = time.monotonic() + 30
        while local.read_job(alive)["state"] != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(10):  # 1.5 s: almost four leases without progress
            time.sleep(0.15)
            assert engine_.status(alive).state == "running"
        assert queued == [alive]  # only the first queueing, by send()
    finally:
        finish.set()
        render.join(timeout=30)
    # A render whose worker died: running, and no beat for longer than a lease.
    dead = engine_.send(engine_.prepare(request)).task_id
    job = local.read_job(dead)
    job.update(state="running", beat=time.time() - 1)
    local.write_job(dead, job)
    old = time.time() - 1
    os.utime(local.folder() / f"{dead}.json", (old, old))
    engine_.status(dead)
    assert queued == [alive, dead, dead] and local.read_job(dead)["state"] == "pending"
