"""Rendering a cut (studio/cuts/renders.py): every window edited on the local engine, the cut
rendered by the worker's step and stored with its windows; and what goes wrong: a window with
no take (never the source silently), a full disk, a worker that dies mid-render.

The render's pictures and sound are checked frame by frame in tests/media/test_cut_render.py;
here it is the step around it."""

from __future__ import annotations

import errno
import io
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from studio.core.errors import Refused
from studio.cuts import renders, services
from studio.cuts.models import CutRender, RenderState
from studio.library.trash import clip_purge, clip_trash
from studio.media.cut import CutReport, Seam
from studio.media.probe import probe
from studio.models import Take, TakeState
from studio.storage.files import local_copy
from studio.takes.parameters import EditParameters
from tests import pipeline
from tests.conftest import clip_row, take_row, upload_clip
from tests.full_disk import FILLER

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited(as_bob, project, samples, bob, queue):
    """A 9 s, 25 fps clip cut into two windows, both edited on the local engine and chosen."""
    clip = upload_clip(as_bob, project, samples["cut-25.mp4"])
    cut = services.cut_create(clip=clip, author=bob, name="Clay version")
    first = services.window_add(cut=cut, start=1.0, end=3.0)
    second = services.window_add(cut=cut, start=5.0, end=7.0)
    takes = services.cut_takes_create(
        cut=cut, author=bob, parameters=EditParameters(prompt="clay, warm", resolution="720P")
    )
    pipeline.run(*takes)
    assert all(take.state == TakeState.SUCCEEDED for take in takes), [t.reason for t in takes]
    services.window_choose(window=first, take=takes[0])
    services.window_choose(window=second, take=takes[1])
    return cut


@pytest.fixture
def planned(project, bob, samples, monkeypatch):
    """A cut of two windows with finished takes, rendered by a stand-in that writes a real video
    (the render itself is tests/media/test_cut_render.py's): for the step's faults."""
    clip = clip_row(project, duration=9.0, fps=25.0)
    cut = services.cut_create(clip=clip, author=bob, name="Clay version")
    for start, end in ((1.0, 3.0), (5.0, 7.0)):
        window = services.window_add(cut=cut, start=start, end=end)
        sent = services.window_request(window)
        take = take_row(
            project,
            state=TakeState.SUCCEEDED,
            created_by=bob,
            clip=clip,
            start_ms=round(sent.start * 1000),
            length_ms=round(sent.length * 1000),
            window=window,
        )
        services.window_choose(window=window, take=take)

    def stand_in(source, splices, out, *, crossfade_frames, shot_cuts, progress):
        shutil.copyfile(samples["cut-25.mp4"], out)
        progress(0.5)
        seams = (
            Seam(0, "in", 1.0, 4.5, 1.0, False, picture((90, 90, 90)), picture((100, 90, 80))),
            Seam(0, "out", 3.0, 31.0, 1.0, True, picture((100, 90, 80)), picture((200, 200, 200))),
        )
        return CutReport(
            frames=225,
            duration=9.0,
            width=480,
            height=270,
            fps=25.0,
            has_audio=True,
            size=out.stat().st_size,
            stretch=(1.0, 1.0),
            seams=seams,
        )

    monkeypatch.setattr(renders, "cut_render", stand_in)
    return cut


def picture(colour: tuple[int, int, int]) -> bytes:
    """A small JPEG, as the render gives for each side of a join."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# The render's pictures and sound; its claims, retries and losses are the tests below, on both
# databases.
@pytest.mark.once
@pytest.mark.django_db(transaction=True)  # the local engine renders as the worker does
def test_a_cut_renders_at_full_length_with_its_windows(edited, bob, as_bob, settings):
    render = renders.cut_render_request(cut=edited, author=bob)
    assert render.number == 1 and render.state == RenderState.QUEUED
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY, render.reason
    with local_copy(edited.clip.source) as source, local_copy(render.file) as made:
        clip, cut = probe(source, max_seconds=60), probe(made, max_seconds=60)
    assert (cut.width, cut.height) == (clip.width, clip.height)
    assert abs(cut.duration - clip.duration) <= 1 / 25 + 1e-3
    assert render.frames == round(clip.duration * 25) and render.progress == 1.0
    assert render.poster and len(render.seams) == 4  # in and out of two windows
    for seam in render.seams:  # each join's two sides, stored as JPEGs beside the video
        for side in ("before", "after"):
            with default_storage.open(seam[side]) as stored:
                assert stored.read(3) == b"\xff\xd8\xff"
    # Kept with what it used: a later choice does not change what v1 was.
    assert [w["take"] for w in render.plan["windows"]] == [
        w.chosen.code for w in edited.windows.all()
    ]
    download = as_bob.get(
        reverse("media_file", args=["render", render.code, "file"]) + "?download=1"
    )
    assert download.status_code == 200
    assert "cut-25-clay-version-v1.mp4" in download["Content-Disposition"]
    page = as_bob.get(reverse("cut_detail", args=[edited.code])).content.decode()
    assert "v1" in page and "Download cut-25-clay-version-v1.mp4" in page
    # Run twice (a task delivered again): nothing changes, one file.
    renders.cut_render_run(render.pk)
    assert (
        len([n for n in files_under(settings.MEDIA_ROOT) if n.endswith(".mp4") and "/v1-" in n])
        == 1
    )


def test_a_window_without_a_take_is_the_source_only_when_asked(planned, bob):
    services.window_add(cut=planned, start=7.0, end=9.0)
    with pytest.raises(Refused, match="Window 3 has no finished take chosen"):
        renders.cut_render_request(cut=planned, author=bob)
    assert not CutRender.objects.exists()
    render = renders.cut_render_request(cut=planned, author=bob, source_where_missing=True)
    assert render.plan["source_kept"] == [3] and len(render.plan["windows"]) == 2


def test_a_full_disk_fails_the_render_with_the_folder_and_keeps_nothing(
    planned, bob, as_bob, monkeypatch, settings, full_disks
):
    """The renders' folder of the media folder is a disk of its own, full (a real tmpfs where
    the tests run as root, as in CI; else the error a full disk raises, injected at the write)."""
    cuts = Path(settings.MEDIA_ROOT) / "cuts"
    if full_disks.mount(cuts):
        full_disks.fill(cuts)
    else:
        original = FileSystemStorage._save

        def save(self, name, content):
            if name.startswith("cuts/"):
                raise OSError(errno.ENOSPC, "No space left on device")  # part-way: no name
            return original(self, name, content)

        monkeypatch.setattr(FileSystemStorage, "_save", save)
    render = renders.cut_render_request(cut=planned, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.FAILED
    assert render.reason == (
        f"The media folder ({settings.MEDIA_ROOT}) is full: free space there, then press "
        "Render again."
    )
    assert not render.file and not render.poster
    assert [n for n in files_under(cuts) if n != FILLER] == []
    assert not list(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())  # no scratch left either
    # The cut page says why, and offers to render again.
    page = as_bob.get(reverse("cut_detail", args=[planned.code])).content.decode()
    assert escape(render.reason) in page
    assert ">Render again</button>" in page


def test_a_render_whose_worker_died_is_sent_again_once_and_starts_afresh(
    planned, bob, monkeypatch, settings
):
    settings.TAKE_LEASE = timedelta(seconds=7)  # the steps' lease, read when the step runs
    render = renders.cut_render_request(cut=planned, author=bob)
    # Its task went a minute ago; a worker claimed it, wrote some of it, then died: its lease
    # ran out with nothing stored, its scratch left behind.
    now = timezone.now()
    CutRender.objects.filter(pk=render.pk).update(
        state=RenderState.RENDERING,
        attempts=1,
        progress=0.4,
        dispatched_at=now - timedelta(minutes=1),
        lease_until=now - timedelta(seconds=1),
    )
    dead = subprocess.Popen(["true"])  # noqa: S607
    dead.wait()
    left = Path(settings.FILE_UPLOAD_TEMP_DIR) / f"cutroom-{dead.pid}-render"
    left.mkdir()
    (left / ".cut.mp4-x.part").write_bytes(b"half a video")
    queued = []
    monkeypatch.setattr(renders, "_enqueue", queued.append)
    assert renders.renders_sweep() == 1 and queued == [render.pk]
    # The scheduler and the minute sweep both look: the task just sent is waiting for a free
    # worker, and is not sent twice.
    assert renders.renders_sweep() == 0 and queued == [render.pk]

    seen = {}
    stand_in = renders.cut_render

    def watched(*args, **kwargs):
        row = CutRender.objects.get(pk=render.pk)
        seen["lease"] = (row.lease_until - timezone.now()).total_seconds()
        seen["progress"] = row.progress
        seen["scratch left"] = left.exists()
        return stand_in(*args, **kwargs)

    monkeypatch.setattr(renders, "cut_render", watched)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY and render.attempts == 2
    assert 5 < seen["lease"] <= 7 and seen["progress"] == 0.0
    assert seen["scratch left"] is False  # removed by the worker that took it over


def test_a_task_that_is_lost_is_sent_again_after_a_while(planned, bob, monkeypatch, clock):
    queued = []
    monkeypatch.setattr(renders, "_enqueue", queued.append)
    render = renders.cut_render_request(cut=planned, author=bob)
    assert renders.renders_sweep() == 0  # its task is on its way
    clock.advance(renders.LOST_AFTER.total_seconds() + 1)
    assert renders.renders_sweep() == 1 and queued == [render.pk]
    assert renders.renders_sweep() == 0
    # A worker died with it; the task sent for it then is lost too: sent once more later.
    CutRender.objects.filter(pk=render.pk).update(
        state=RenderState.RENDERING, attempts=1, lease_until=clock.now - timedelta(minutes=5)
    )
    assert renders.renders_sweep() == 0
    clock.advance(renders.LOST_AFTER.total_seconds() + 1)
    assert renders.renders_sweep() == 1 and queued == [render.pk, render.pk]


def test_a_render_that_keeps_failing_stops_with_a_reason(planned, bob, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("decoder crashed")

    monkeypatch.setattr(renders, "cut_render", broken)
    render = renders.cut_render_request(cut=planned, author=bob)
    for _ in range(renders.MAX_ATTEMPTS + 1):
        renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.FAILED
    assert "internal error while rendering (RuntimeError)" in render.reason
    assert "Render again" in render.reason and render.attempts == renders.MAX_ATTEMPTS


def test_renders_are_numbered_and_a_take_that_went_is_a_reason(planned, bob):
    first = renders.cut_render_request(cut=planned, author=bob)
    second = renders.cut_render_request(cut=planned, author=bob)
    assert (first.number, second.number) == (1, 2)
    Take.objects.filter(window__cut=planned).first().result.delete()
    renders.cut_render_run(second.pk)
    second.refresh_from_db()
    assert second.state == RenderState.FAILED and "is gone" in second.reason


def test_after_a_render_the_page_says_what_the_next_would_change(planned, bob, as_bob, project):
    render = renders.cut_render_request(cut=planned, author=bob)
    renders.cut_render_run(render.pk)
    page = as_bob.get(reverse("cut_detail", args=[planned.code])).content.decode()
    assert "v1 is the cut as it stands" in page and ">Render v2</button>" in page
    # Another take for window 2, colour matching on window 1, window 1 moved, crossfades shorter.
    first, second = planned.windows.all()
    sent = services.window_request(second)
    newer = take_row(
        project,
        state=TakeState.SUCCEEDED,
        created_by=bob,
        clip=planned.clip,
        start_ms=round(sent.start * 1000),
        length_ms=round(sent.length * 1000),
        window=second,
    )
    services.window_choose(window=second, take=newer)
    first.colour_match = True
    first.save(update_fields=["colour_match"])
    planned.crossfade_frames = 3
    planned.save(update_fields=["crossfade_frames"])
    page = as_bob.get(reverse("cut_detail", args=[planned.code])).content.decode()
    assert "Changed since v1:" in page
    assert "The window at 5.00–7.00 s uses another take." in page
    assert "Colour matching is on for the window at 1.00–3.00 s." in page
    assert "Crossfades are 3 frames (were 6)." in page
    services.window_remove(window=second)
    page = as_bob.get(reverse("cut_detail", args=[planned.code])).content.decode()
    assert "The window at 5.00–7.00 s is no longer edited." in page


def seam_url(render: CutRender, variant: str) -> str:
    return reverse("media_file", args=["render", render.code, variant])


def test_the_joins_pictures_are_stored_with_the_render_and_served_like_it(
    planned, bob, as_bob, as_carol, as_dave, settings
):
    render = renders.cut_render_request(cut=planned, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY, render.reason
    folder = str(Path(render.file.name).parent)
    # Each join names its two pictures, stored in the render's own folder.
    assert [(s["edge"], s["flagged"]) for s in render.seams] == [("in", False), ("out", True)]
    for seam, colours in zip(
        render.seams, (((90,) * 3, (100, 90, 80)), ((100, 90, 80), (200,) * 3)), strict=True
    ):
        for side, colour in zip(("before", "after"), colours, strict=True):
            assert str(Path(seam[side]).parent) == folder
            with default_storage.open(seam[side]) as stored:
                assert stored.read() == picture(colour)
    assert len([n for n in files_under(settings.MEDIA_ROOT) if n.endswith(".jpg")]) == 5
    # Served as the render's file is: to members (viewers too), never to outsiders.
    for client in (as_bob, as_carol):
        response = client.get(seam_url(render, "seam-2-after"))
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content) == picture((200, 200, 200))
    assert as_dave.get(seam_url(render, "seam-2-after")).status_code == 404
    assert as_dave.get(seam_url(render, "file")).status_code == 404
    for missing in ("seam-3-before", "seam-0-after", "seam-1-middle", "seams"):
        assert as_bob.get(seam_url(render, missing)).status_code == 404
    download = as_bob.get(seam_url(render, "seam-1-before") + "?download=1")
    assert f"{render.download_stem}-seam-1-before.jpg" in download["Content-Disposition"]


def test_the_cut_page_shows_each_join_both_sides_flagged_first(planned, bob, as_bob):
    render = renders.cut_render_request(cut=planned, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    page = as_bob.get(reverse("cut_detail", args=[planned.code])).content.decode()
    flagged, plain = page.index("Join 2: "), page.index("Join 1: ")
    assert flagged < plain  # the join to look at comes first
    assert page.count("look at this join") == 1
    assert page.index("look at this join") < plain
    for number, edge in ((1, "into"), (2, "out of")):
        for side in ("before", "after"):
            assert f'src="{seam_url(render, f"seam-{number}-{side}")}"' in page
        assert f"Join {number} ({edge} window 1 at " in page
        assert f"step {render.seams[number - 1]['score']}" in page
    assert page.count("the last frame before it") == page.count("the first frame after it") == 2


def test_a_render_that_fails_while_storing_leaves_no_pictures(planned, bob, monkeypatch, settings):
    stored = []

    def full_on_the_third(storage, name, path):
        if len(stored) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        stored.append(name)
        return real(storage, name, path)

    real = renders.store_file
    monkeypatch.setattr(renders, "store_file", full_on_the_third)
    render = renders.cut_render_request(cut=planned, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.FAILED and "is full" in render.reason
    assert len(stored) == 2 and render.seams == [] and not render.file
    assert not any("/cuts/" in f"/{n}" for n in files_under(settings.MEDIA_ROOT))
    folder = Path(settings.MEDIA_ROOT) / "cuts" / planned.project.code / planned.code
    assert not (folder / f"v1-{render.code}").exists()


def test_a_render_taken_up_again_clears_what_a_dead_attempt_stored(planned, bob, settings):
    render = renders.cut_render_request(cut=planned, author=bob)
    folder = f"cuts/{planned.project.code}/{planned.code}/v{render.number}-{render.code}"
    # A worker died while storing: a video and a picture are in the render's folder.
    default_storage.save(f"{folder}/join-1-before.jpg", io.BytesIO(picture((1, 2, 3))))
    default_storage.save(f"{folder}/cut-25-clay-version-v1.mp4", io.BytesIO(b"partial"))
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY
    kept = [n for n in files_under(settings.MEDIA_ROOT) if n.startswith(folder)]
    assert sorted(kept) == sorted(f.name for f in render.files())
    assert len(kept) == 6  # the video, its poster, two joins' two sides


def test_deleting_a_render_or_its_clip_deletes_its_pictures(planned, bob, settings):
    first = renders.cut_render_request(cut=planned, author=bob)
    second = renders.cut_render_request(cut=planned, author=bob)
    for render in (first, second):
        renders.cut_render_run(render.pk)
        render.refresh_from_db()
    folder = Path(settings.MEDIA_ROOT) / Path(first.file.name).parent
    assert len(list(folder.iterdir())) == 6
    renders.cut_render_delete(render=first)
    assert not folder.exists() and not CutRender.objects.filter(pk=first.pk).exists()
    assert len([n for n in files_under(settings.MEDIA_ROOT) if "/cuts/" in f"/{n}"]) == 6
    clip_trash(planned.clip, bob)
    assert [n for n in files_under(settings.MEDIA_ROOT) if "/cuts/" in f"/{n}"]  # in the trash
    clip_purge(planned.clip)
    assert not [n for n in files_under(settings.MEDIA_ROOT) if "/cuts/" in f"/{n}"]


def test_the_joins_pictures_go_to_the_bucket_and_are_served_from_it(s3, planned, bob, as_bob):
    render = renders.cut_render_request(cut=planned, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY, render.reason
    names = [render.seams[0]["before"], render.seams[1]["after"]]
    keys = s3.keys()
    assert all(f"{s3.prefix}/{name}" in keys for name in names)
    assert s3.read(f"{s3.prefix}/{names[1]}") == picture((200, 200, 200))
    response = as_bob.get(seam_url(render, "seam-2-after"))
    assert response.status_code == 302 and names[1] in response["Location"]
    renders.cut_render_delete(render=render)
    left = s3.keys()
    assert not [key for key in left if key.startswith(f"{s3.prefix}/cuts/")]


def test_an_editor_deletes_a_render_and_its_number_is_not_given_again(
    planned, bob, as_bob, as_carol, settings
):
    first = renders.cut_render_request(cut=planned, author=bob)
    refused = as_bob.post(reverse("render_delete", args=[planned.code, 1]), follow=True)
    assert "still being rendered" in refused.content.decode()  # queued: a worker may store it
    renders.cut_render_run(first.pk)
    second = renders.cut_render_request(cut=planned, author=bob)
    renders.cut_render_run(second.pk)
    second.refresh_from_db()
    folder = Path(settings.MEDIA_ROOT) / Path(second.file.name).parent
    page = as_bob.get(reverse("render_detail", args=[planned.code, 2])).content.decode()
    assert "Delete v2</button>" in page
    assert as_carol.post(reverse("render_delete", args=[planned.code, 2])).status_code == 403
    response = as_bob.post(reverse("render_delete", args=[planned.code, 2]), follow=True)
    assert "v2 and its files are deleted" in response.content.decode()
    assert not folder.exists() and not CutRender.objects.filter(pk=second.pk).exists()
    assert renders.cut_render_request(cut=planned, author=bob).number == 3
