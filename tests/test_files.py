"""Storage helpers: local paths for any storage backend, clean display names."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile

from studio.files import local_copy, safe_display_name
from studio.models import Clip


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
