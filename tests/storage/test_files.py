"""Storage helpers: local paths for any storage backend, clean display names."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile

from studio.models import Clip
from studio.storage.files import (
    local_copy,
    safe_display_name,
    scratch_owner_gone,
    scratch_remove_dead,
)
from tests.cluster import wait_for


class RemoteStorage(FileSystemStorage):
    """Behaves like S3: no local path, files only through open()."""

    def path(self, name: str) -> str:
        raise NotImplementedError("no local paths")

    def _open(self, name: str, mode: str = "rb"):
        return open(FileSystemStorage.path(self, name), mode)  # noqa: SIM115


def test_remote_storage_gets_a_temporary_copy(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "tmp"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    name = FileSystemStorage(location=tmp_path / "bucket").save(
        "a.mp4", ContentFile(b"video bytes")
    )
    storage = RemoteStorage(location=tmp_path / "bucket")
    field = FieldFile(None, Clip._meta.get_field("source"), name)
    field.storage = storage
    with local_copy(field) as path:
        assert path.read_bytes() == b"video bytes"
        assert path.parent == settings.FILE_UPLOAD_TEMP_DIR
    assert not path.exists()  # the copy is gone afterwards


def test_disk_storage_uses_the_file_itself(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    name = storage.save("a.mp4", ContentFile(b"x"))
    field = FieldFile(None, Clip._meta.get_field("source"), name)
    field.storage = storage
    with local_copy(field) as path:
        assert path == tmp_path / "a.mp4"


def test_errors_inside_the_block_are_not_swallowed(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    field = FieldFile(
        None, Clip._meta.get_field("source"), storage.save("a.mp4", ContentFile(b"x"))
    )
    field.storage = storage
    with pytest.raises(NotImplementedError), local_copy(field):
        raise NotImplementedError("from the caller")


def test_display_names():
    assert safe_display_name("../../x.mp4") == "x.mp4"
    assert safe_display_name("  ..  ") == "upload"


def test_a_failed_store_leaves_no_partial_file(tmp_path, settings, monkeypatch):
    import errno

    from django.core.files.storage import FileSystemStorage

    from studio.models import Project
    from studio.storage.files import store_path

    settings.MEDIA_ROOT = tmp_path / "media"
    original = FileSystemStorage._save

    def full(self, name, content):
        Path(self.path(name)).parent.mkdir(parents=True, exist_ok=True)
        Path(self.path(name)).write_bytes(content.read(10))  # as a real full disk does
        raise OSError(errno.ENOSPC, "No space left on device")

    source = tmp_path / "x.bin"
    source.write_bytes(b"0123456789" * 100)
    clip = Clip(project=Project(name="p"), original_name="x.mp4")
    monkeypatch.setattr(FileSystemStorage, "_save", full)
    with pytest.raises(OSError, match="No space"):
        store_path(clip.source, "clips/p/c/source.mp4", source)
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []
    monkeypatch.setattr(FileSystemStorage, "_save", original)
    store_path(clip.source, "clips/p/c/source.mp4", source)
    assert clip.source.name == "clips/p/c/source.mp4"
    assert (tmp_path / "media" / clip.source.name).read_bytes() == source.read_bytes()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
def test_scratch_of_a_killed_process_not_yet_reaped_is_removed(settings, tmp_path):
    """A worker killed with its cluster stays a zombie where nothing reaps orphans (a container
    whose first process does not): its scratch is dead all the same. A live process's stays."""
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path
    zombie = subprocess.Popen(["true"])  # noqa: S607 (ended, not waited for: a zombie)
    try:
        wait_for(lambda: _state(zombie.pid) == "Z", 60, "the child to end")
        live = subprocess.Popen(["sleep", "60"])  # noqa: S607
        try:
            (tmp_path / f"cutroom-{zombie.pid}-render").mkdir()
            (tmp_path / f"cutroom-{zombie.pid}-render" / ".cut.mp4-x.part").write_bytes(b"x")
            (tmp_path / f"cutroom-{zombie.pid}-copy.mp4").write_bytes(b"y")
            (tmp_path / f"cutroom-{live.pid}-render").mkdir()
            (tmp_path / "tmpabc.upload.mp4").write_bytes(b"z")  # not scratch: the age rule's
            assert scratch_owner_gone(f"cutroom-{zombie.pid}-render")
            assert scratch_remove_dead() == 2
            assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
                [f"cutroom-{live.pid}-render", "tmpabc.upload.mp4"]
            )
        finally:
            live.kill()
            live.wait()
    finally:
        zombie.wait()


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
