"""The local engine renders every parameter like the real model's output (and is not AI)."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import av
import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from studio.media.probe import probe
from studio.providers.base import EditRequest, Failure, Media, ProviderError
from studio.providers.local import engine as local
from studio.providers.local import render as engine
from studio.providers.local.models import PENDING_STALE_SECONDS, LocalJob
from studio.takes.parameters import EditParameters
from tests.cluster import wait_for

ROOT = Path(__file__).resolve().parents[2]
CLAY = EditParameters("clay", "", "720P", "", 0, "auto", True, 1)
SHORT = EditParameters("clay", "", "720P", "", 2, "auto", True, 1)  # two seconds: quick


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


def stored(path: Path, name: str = "") -> Media:
    """A sample saved into the default storage, as the input of a take names it."""
    with path.open("rb") as handle:
        kept = default_storage.save(f"inputs/{name or path.name}", File(handle))
    return Media("input", "c", "file", path, "video/mp4", path.name, stored=kept)


def sent(engine_: local.LocalEngine, video: Media, parameters: EditParameters = CLAY) -> str:
    return engine_.send(engine_.prepare(EditRequest(parameters, video))).task_id


def leftovers(settings) -> list[str]:
    """Files the engine left: its rendered files in the storage, scratch files on this host."""
    results = Path(settings.MEDIA_ROOT) / local.RESULTS
    scratch = Path(settings.FILE_UPLOAD_TEMP_DIR)
    return [str(p) for folder in (results, scratch) if folder.exists() for p in folder.rglob("*")]


@pytest.fixture
def engine_host(settings, tmp_path, monkeypatch):
    """The engine with its render tasks collected instead of queued, scratch under tmp_path."""
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "scratch"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    queued: list[str] = []
    monkeypatch.setattr(local, "queue_render", queued.append)
    return queued


def test_the_payload_names_stored_files_not_paths(tmp_path):
    video = Media(
        "input", "c", "file", tmp_path / "copy.mp4", "video/mp4", "x.mp4", stored="in/c.mp4"
    )
    ref = Media(
        "ref", "r", "image", tmp_path / "copy.png", "image/png", "r.png", stored="refs/r.png"
    )
    payload = local.LocalEngine().prepare(EditRequest(CLAY, video, (ref,)))
    assert (payload["video"], payload["references"]) == ("in/c.mp4", ["refs/r.png"])
    unnamed = Media("input", "c", "file", tmp_path / "copy.mp4", "video/mp4", "x.mp4")
    with pytest.raises(ProviderError):
        local.LocalEngine().prepare(EditRequest(CLAY, unnamed))


@pytest.mark.django_db
def test_a_render_stores_its_result_and_forget_removes_it(samples, settings, engine_host):
    engine_ = local.LocalEngine()
    task_id = sent(engine_, stored(samples["h264.mp4"]), SHORT)
    assert engine_host == [task_id] and engine_.status(task_id).state == "pending"
    local.render_job(task_id)
    status = engine_.status(task_id)
    assert status.state == "succeeded" and status.extra["progress"] == 1.0
    job = LocalJob.objects.get(task_id=task_id)
    assert job.result == f"local-engine/{task_id}.mp4" and default_storage.exists(job.result)
    local.render_job(task_id)  # a second delivery of the task renders nothing
    assert LocalJob.objects.get(task_id=task_id).result == job.result
    dest = settings.FILE_UPLOAD_TEMP_DIR / "fetched.mp4"
    assert engine_.fetch(status.result_urls[0], dest, max_bytes=10**9) == dest.stat().st_size
    assert probe(dest, max_seconds=60).duration == pytest.approx(2.0, abs=0.1)
    dest.unlink()
    engine_.forget(task_id)
    assert not LocalJob.objects.exists() and leftovers(settings) == []
    with pytest.raises(ProviderError) as gone:
        engine_.fetch(status.result_urls[0], dest, max_bytes=10**9)
    assert gone.value.failure == Failure.EXPIRED


@pytest.mark.django_db
def test_cancelled_and_failed_renders_leave_no_files(samples, settings, engine_host):
    engine_ = local.LocalEngine()
    canceled = sent(engine_, stored(samples["long.mp4"]))
    local.cancel(canceled)
    local.render_job(canceled)
    failed = sent(engine_, stored(samples["text.mp4"]))
    local.render_job(failed)
    assert engine_.status(failed).state == "failed"
    local.cancel(failed)
    assert not LocalJob.objects.exists()
    assert leftovers(settings) == []


@pytest.mark.django_db
def test_a_render_on_a_full_scratch_disk_names_the_scratch_folder(
    samples, settings, engine_host, full_disks, tmp_path, monkeypatch
):
    """Not "could not render this clip": the clip is fine, the scratch disk is full."""
    disk = tmp_path / "scratch-disk"
    if full_disks.mount(disk):
        full_disks.fill(disk)
    else:

        def full(source, output, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device", str(output))  # as PyAV does

        monkeypatch.setattr(engine, "render", full)
    settings.FILE_UPLOAD_TEMP_DIR = disk / "uploads-tmp"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    engine_ = local.LocalEngine()
    task_id = sent(engine_, stored(samples["h264.mp4"]), SHORT)
    local.render_job(task_id)
    status = engine_.status(task_id)
    assert status.state == "failed"
    assert status.message == (
        f"The scratch folder ({settings.FILE_UPLOAD_TEMP_DIR}) is full: free space there, then "
        "run the take again."
    )
    local.forget(task_id)
    assert leftovers(settings) == []


@pytest.mark.django_db
@pytest.mark.parametrize("when", ["rendering", "storing"])
def test_a_cancel_during_a_render_wins_and_the_render_removes_its_files(
    samples, settings, engine_host, monkeypatch, when
):
    """The cancel lands while the render is busy (it reports progress), or after it stored its
    result but before it recorded it: either way the job ends canceled and nothing remains."""
    engine_ = local.LocalEngine()
    task_id = sent(engine_, stored(samples["h264.mp4"]), SHORT)
    real_render, real_store = engine.render, local.store_file

    def render_then_cancel(*args, **kwargs):
        local.cancel(task_id)
        kwargs["progress"](0.5)  # the render's next report finds the job canceled
        return real_render(*args, **kwargs)

    def store_then_cancel(*args, **kwargs):
        name = real_store(*args, **kwargs)
        assert default_storage.exists(name)
        local.cancel(task_id)
        return name

    if when == "rendering":
        monkeypatch.setattr(local.render, "render", render_then_cancel)
    else:
        monkeypatch.setattr(local, "store_file", store_then_cancel)
    local.render_job(task_id)
    assert not LocalJob.objects.exists()
    assert leftovers(settings) == []


@pytest.mark.django_db
def test_a_render_on_another_host_reads_and_stores_through_the_storage_only(
    samples, settings, engine_host, tmp_path
):
    """Sent with one data folder, rendered and fetched with another: the job and its files are
    found through the database and the storage, and neither host's data folder keeps any."""
    engine_ = local.LocalEngine()
    task_id = sent(engine_, stored(samples["h264.mp4"]), SHORT)
    settings.DATA_DIR = tmp_path / "worker"
    settings.FILE_UPLOAD_TEMP_DIR = settings.DATA_DIR / "uploads-tmp"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir(parents=True)
    local.render_job(task_id)
    dest = tmp_path / "result.mp4"
    engine_.fetch(engine_.status(task_id).result_urls[0], dest, max_bytes=10**9)
    assert probe(dest, max_seconds=60).video_codec == "h264"
    engine_.forget(task_id)
    assert [p for p in settings.DATA_DIR.rglob("*") if p.is_file()] == []


@pytest.mark.django_db
def test_on_object_storage_the_result_is_an_object_and_scratch_copies_go(
    s3, samples, settings, engine_host
):
    engine_ = local.LocalEngine()
    video = stored(samples["h264.mp4"])
    task_id = sent(engine_, video, SHORT)
    local.render_job(task_id)
    assert s3.keys() == sorted([f"studio/{video.stored}", f"studio/local-engine/{task_id}.mp4"])
    assert list(settings.FILE_UPLOAD_TEMP_DIR.iterdir()) == []
    dest = settings.FILE_UPLOAD_TEMP_DIR / "fetched.mp4"
    engine_.fetch(engine_.status(task_id).result_urls[0], dest, max_bytes=10**9)
    assert probe(dest, max_seconds=60).video_codec == "h264"
    engine_.forget(task_id)
    assert s3.keys() == [f"studio/{video.stored}"]


@pytest.mark.django_db(transaction=True)  # the render runs in a thread of its own
def test_a_live_render_keeps_beating_and_a_dead_one_is_queued_again_within_a_lease(
    samples, settings, engine_host, monkeypatch, clock
):
    """A render that is alive but quiet (no progress for longer than a lease) is left alone; one
    whose worker died is queued again once a lease has passed without a beat.

    The test moves the clock (timezone.now, which the beats and the checks read) and waits for
    the render's heartbeat to catch up, so a busy machine only makes it slower, never wrong."""
    settings.TAKE_LEASE = timedelta(seconds=0.4)  # a beat every 0.1 s
    queued = engine_host
    finish = threading.Event()

    def quiet_render(*args, **kwargs):
        finish.wait(120)
        raise OSError("stopped by the test")

    def job(task_id: str) -> LocalJob:
        return LocalJob.objects.get(task_id=task_id)

    monkeypatch.setattr(local.render, "render", quiet_render)
    engine_ = local.LocalEngine()
    video = stored(samples["long.mp4"])
    alive = sent(engine_, video)
    render = threading.Thread(target=local.render_job, args=(alive,))
    render.start()
    try:
        wait_for(lambda: job(alive).state == "running", 120, "the render to start")
        for _ in range(4):  # three leases without progress, a beat within each
            clock.advance(0.3)
            wait_for(lambda: job(alive).beat == clock.now, 120, "a beat at the new time")
            assert engine_.status(alive).state == "running"
        assert queued == [alive]  # only the first queueing, by send()
        # A second delivery of its task while it is alive leaves it to the live render.
        runner = job(alive).runner
        local.render_job(alive)
        assert job(alive).runner == runner
    finally:
        finish.set()
        render.join(timeout=120)
    assert engine_.status(alive).state == "failed"
    # A render whose worker died: running, and no beat for longer than a lease.
    dead = sent(engine_, video)
    LocalJob.objects.filter(task_id=dead).update(
        state="running", runner="gone", beat=timezone.now() - timedelta(seconds=1)
    )
    assert engine_.status(dead).state == "pending"
    engine_.status(dead)  # queued once: the requeue just renewed its beat
    assert queued == [alive, dead, dead]
    assert LocalJob.objects.get(task_id=dead).state == "pending"
    # Queued, never started, for longer than PENDING_STALE_SECONDS: its task was lost.
    LocalJob.objects.filter(task_id=dead).update(
        beat=timezone.now() - timedelta(seconds=PENDING_STALE_SECONDS + 1)
    )
    engine_.status(dead)
    assert queued == [alive, dead, dead, dead]


@pytest.mark.django_db
def test_old_jobs_are_forgotten_with_their_results(samples, settings, engine_host):
    engine_ = local.LocalEngine()
    old = sent(engine_, stored(samples["h264.mp4"]), SHORT)
    local.render_job(old)
    fresh = sent(engine_, stored(samples["h264.mp4"]), SHORT)
    LocalJob.objects.filter(task_id=old).update(updated_at=timezone.now() - timedelta(hours=7))
    assert local.forget_old(older_than=timedelta(hours=6)) == 1
    assert list(LocalJob.objects.values_list("task_id", flat=True)) == [fresh]
    assert leftovers(settings) == []


RENDER_ALONE = """
import sys
from pathlib import Path

import django

django.setup()
from studio.providers.local import render as engine
from studio.media.probe import probe
from studio.takes.parameters import EditParameters

src, dest = Path(sys.argv[1]), Path(sys.argv[2])
asked = EditParameters(prompt="clay", resolution="720P", seed=7)
engine.render(src, dest, info=probe(src, max_seconds=60), parameters=asked)
"""


@pytest.mark.slow
def test_a_render_does_not_depend_on_what_memory_held(samples, tmp_path):
    """The same render in two processes whose fresh memory holds different bytes (glibc's
    MALLOC_PERTURB_) writes the same file: the encoder reads nothing it did not write. The
    source has B-frames, as phone clips do, and the output a size x264's AVX-512 code got
    wrong (studio.media.transcode.x264_options)."""
    made = []
    for perturb in ("42", "165"):
        dest = tmp_path / f"render-{perturb}.mp4"
        env = os.environ | {
            "MALLOC_PERTURB_": perturb,
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_DATA_DIR": str(tmp_path / "data"),
        }
        subprocess.run(  # noqa: S603 (our own interpreter and script)
            [sys.executable, "-c", RENDER_ALONE, str(samples["hevc-portrait.mov"]), str(dest)],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=300,
        )
        made.append(dest.read_bytes())
    assert made[0] == made[1]
