"""A full disk is named in the take's reason: the scratch folder is not "the media disk" (issue 21,
item 3). Each disk is a real tmpfs, filled, where the tests run as root; elsewhere the error a
full disk raises is injected at the write, and the same is asserted."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import reverse

from studio.library import clips
from studio.models import TakeState
from studio.takes import download
from tests.full_disk import FILLER
from tests.pipeline import STEPS, new_take, run
from tests.takes.test_take_faults import check

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queue")]


def no_space(filename: str | None = None) -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", filename)


@pytest.fixture
def scratch_disk(settings, tmp_path, full_disks) -> tuple[Path, Path, bool]:
    """A disk of its own (64 MB, not filled yet) holding the scratch folder, as when
    STUDIO_DATA_DIR's uploads-tmp is a mount; the disk, the folder and whether it is real."""
    disk = tmp_path / "scratch-disk"
    real = full_disks.mount(disk, megabytes=64)
    scratch = disk / "uploads-tmp"
    scratch.mkdir(parents=True)
    settings.FILE_UPLOAD_TEMP_DIR = scratch
    return disk, scratch, real


def test_a_full_scratch_folder_while_preparing_the_input_is_named(
    fake, clip, bob, scratch_disk, full_disks, monkeypatch
):
    disk, scratch, real = scratch_disk
    if real:
        full_disks.fill(disk)
    else:

        def make_input(source, out, **kwargs):
            raise no_space(str(out))  # PyAV names the file it could not write

        monkeypatch.setattr(clips, "make_input", make_input)
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.FAILED
    assert take.reason == (
        f"The scratch folder ({scratch}) is full: free space there, then run the take again."
    )
    assert fake.counts["submit"] == 0
    check(take, fake, scratch, posts=0)


def test_a_full_scratch_folder_while_saving_the_result_is_named_and_nothing_is_lost(
    fake, clip, bob, as_bob, scratch_disk, full_disks, monkeypatch
):
    """The result streams to scratch: a write that meets the full disk part-way carries no
    filename, and the reason still names the scratch folder."""
    disk, scratch, real = scratch_disk
    downloads: list[int] = []

    def download_on_a_full_disk(take_id: int) -> None:
        if real and not downloads:
            full_disks.fill(disk)  # the input was prepared; the disk fills up meanwhile
        downloads.append(take_id)
        download.take_download(take_id)

    original = Path.open
    if not real:

        def open_(self, mode="r", *args, **kwargs):
            if self.name == "result.mp4" and "w" in mode and scratch in self.parents:
                raise no_space()  # as a write part-way does: no filename
            return original(self, mode, *args, **kwargs)

        monkeypatch.setattr(Path, "open", open_)
    monkeypatch.setitem(STEPS, "download_take", download_on_a_full_disk)
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.FAILED
    assert take.reason.startswith(
        f"The scratch folder ({scratch}) is full: free space there, then choose “Try saving "
        "again” on the take's page. The paid result stays at the provider"
    ), take.reason
    assert "media" not in take.reason
    assert len(downloads) == download.DOWNLOAD_BUDGET
    check(take, fake, scratch)
    # Room is made: saving again fetches the same paid result, with no new POST.
    if real:
        (disk / FILLER).unlink()
    else:
        monkeypatch.setattr(Path, "open", original)
    assert as_bob.post(reverse("take_save_again", args=[take.code])).status_code == 302
    run(take)
    assert take.state == TakeState.SUCCEEDED and fake.counts["submit"] == 1
    check(take, fake, scratch)


def test_a_full_media_disk_is_named_as_such(
    fake, clip, bob, settings, full_disks, monkeypatch, tmp_path
):
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "scratch"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    takes = Path(settings.MEDIA_ROOT) / "takes"  # where results are stored, on a disk of its own
    if full_disks.mount(takes):
        full_disks.fill(takes)
    else:
        original = FileSystemStorage._save

        def save(self, name, content):
            if name.startswith("takes/"):
                raise no_space()  # os.write part-way: no filename
            return original(self, name, content)

        monkeypatch.setattr(FileSystemStorage, "_save", save)
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.FAILED
    assert take.reason.startswith(
        f"The media folder ({settings.MEDIA_ROOT}) is full: free space there, then choose"
    ), take.reason
    assert "scratch" not in take.reason
    check(take, fake, settings.FILE_UPLOAD_TEMP_DIR)
