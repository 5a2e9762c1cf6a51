"""Which folder a failed write was on, so that a full disk is named rightly (issue 21, item 3)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage, default_storage

from studio.storage import disks
from studio.storage.files import scratch_dir, store_file
from studio.takes.common import storage_problem

pytestmark = pytest.mark.django_db


def full(filename: str | Path | None) -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", filename)


@pytest.fixture
def folders(settings, tmp_path) -> dict[str, Path]:
    """The data folder with the media and temporary folders inside, as by default."""
    settings.DATA_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "var" / "uploads-tmp"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir(parents=True)
    return {"media": settings.MEDIA_ROOT, "temporary": settings.FILE_UPLOAD_TEMP_DIR}


def test_a_file_in_the_media_folder_is_the_media_folder(folders):
    error = full(folders["media"] / "takes" / "p1" / "t1" / "result.mp4")  # not made yet
    assert disks.folder_name_of(error) == f"the media folder ({folders['media']})"
    assert storage_problem(error, "run the take again") == (
        f"The media folder ({folders['media']}) is full: free space there, then run the take again."
    )


def test_a_scratch_copy_is_the_scratch_folder(folders):
    error = full(folders["temporary"] / "cutroom-4242-x1y2" / "input.mp4")
    assert disks.folder_of(error.filename).kind == "scratch"
    reason = storage_problem(error, "run the take again")
    assert reason.startswith(f"The scratch folder ({folders['temporary']}) is full")
    assert "media" not in reason


def test_a_temporary_upload_is_the_temporary_upload_folder(folders):
    error = full(folders["temporary"] / "tmpab12cd.upload.mp4")
    assert disks.folder_of(error.filename).kind == "uploads"
    assert disks.folder_name_of(error) == f"the temporary-upload folder ({folders['temporary']})"


def test_the_sqlite_file_is_the_database_folder_and_the_rest_the_data_folder(folders, settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        assert "database" not in {folder.kind for folder in disks.written_folders()}
        return
    database = Path(connection.settings_dict["NAME"])
    assert disks.folder_of(Path(f"{database}-wal")).kind == "database"
    settings.DATA_DIR = database.parent
    assert disks.folder_of(database.parent / "secret_key").kind == "data"


def test_symlinks_and_relative_parts_are_resolved(folders, tmp_path):
    (tmp_path / "link").symlink_to(folders["media"].parent)
    error = full(tmp_path / "link" / "media" / ".." / "media" / "clips" / "a.mp4")
    assert disks.folder_of(error.filename).kind == "media"


def test_a_path_elsewhere_on_a_folders_disk_names_that_folder(folders, tmp_path):
    """Not inside any folder, but on the same disk (the same device): that disk is full."""
    assert disks.folder_of(tmp_path / "elsewhere" / "file").kind == "media"


def test_a_write_that_cannot_be_placed_says_so_honestly(folders):
    assert disks.folder_name_of(full(None)) is None
    assert disks.folder_of("/proc/not-a-folder-of-ours") is None  # another file system
    for error in (full(None), full("/proc/not-a-folder-of-ours")):
        assert storage_problem(error, "run the take again") == (
            "A disk Cutroom writes to is full: free space on the server, then run the take again."
        )


def test_with_object_storage_the_media_folder_is_not_ours(folders, settings):
    settings.STORAGE = "s3"
    assert "media" not in {folder.kind for folder in disks.written_folders()}


def test_a_write_in_a_scratch_folder_without_a_filename_names_the_scratch_folder(folders):
    """What a full disk raises part-way through a write (no filename) gets the folder."""
    with pytest.raises(OSError, match="No space left") as raised, scratch_dir() as tmp:
        raise full(None)
    assert raised.value.filename == str(tmp)
    assert disks.folder_of(raised.value.filename).kind == "scratch"


def test_a_store_to_the_media_folder_inside_a_scratch_folder_names_the_media_folder(
    folders, monkeypatch
):
    def save(self, name, content):
        raise full(None)  # as os.write does part-way

    monkeypatch.setattr(FileSystemStorage, "_save", save)
    with pytest.raises(OSError) as raised, scratch_dir() as tmp:
        (tmp / "result.mp4").write_bytes(b"video")
        store_file(default_storage, "takes/p1/t1/result.mp4", tmp / "result.mp4")
    assert disks.folder_of(raised.value.filename).kind == "media"


def test_a_filename_the_system_gave_is_kept(folders):
    given = folders["temporary"] / "cutroom-1-a" / "x.mp4"
    with pytest.raises(OSError) as raised, disks.writing_to(folders["media"]):
        raise full(given)
    assert raised.value.filename == given


def test_errors_that_are_not_about_the_disk_are_left_alone(folders):
    with pytest.raises(OSError) as raised, disks.writing_to(folders["media"]):
        raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    assert raised.value.filename is None
