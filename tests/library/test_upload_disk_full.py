"""An upload that meets a full or unwritable disk: 503 saying the file was not kept and what to
do, nothing of it left anywhere (no partial file, no temporary file, no empty folder, no row),
and the next upload that fits works.

Each test runs twice: on a really full disk, a 1 MiB tmpfs mounted on the media folder or on the
temporary-upload folder (where the tests run as root; elsewhere this run uses the stand-in too),
and on a stand-in that writes until 1 MiB and then raises ENOSPC, as a full disk does.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files import temp
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio.models import Clip, Reference
from tests.full_disk import FullDisks
from tests.samples import make_image

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
DISK = 1 * MB


@pytest.fixture(params=["tmpfs", "stand-in"])
def disk(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def full_disk(folder: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> Iterator[str]:
    """`folder` on a disk of DISK bytes: a real tmpfs, or the stand-in (see above)."""
    disks = FullDisks()
    if kind == "tmpfs" and disks.mount(folder, megabytes=DISK // MB):
        try:
            yield "tmpfs"
        finally:
            disks.unmount()
        return
    with monkeypatch.context() as patched:
        _simulate_full(folder, patched)
        yield "stand-in"


def _simulate_full(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes of more than DISK bytes under `folder` fail with ENOSPC once DISK is written."""

    def limited(handle: Any) -> Any:
        write, written = handle.write, [0]

        def write_some(data: bytes) -> int:
            room = DISK - written[0]
            if len(data) > room:
                write(data[:room])
                written[0] = DISK
                raise OSError(errno.ENOSPC, "No space left on device")
            written[0] += len(data)
            return int(write(data))

        handle.write = write_some
        return handle

    if Path(settings.FILE_UPLOAD_TEMP_DIR) == folder:
        real = temp.NamedTemporaryFile
        monkeypatch.setattr(temp, "NamedTemporaryFile", lambda **kw: limited(real(**kw)))
    else:
        real_save = FileSystemStorage._save

        def save(storage: FileSystemStorage, name: str, content: Any) -> str:
            path = Path(storage.path(name))
            path.parent.mkdir(parents=True, exist_ok=True)
            content.seek(0)
            with path.open("wb") as out:
                limited(out)
                while chunk := content.read(256 * 1024):
                    out.write(chunk)
            return str(real_save(storage, name, content))  # never reached when it is too big

        monkeypatch.setattr(FileSystemStorage, "_save", save)


def left_behind() -> dict[str, list[str]]:
    """Every file under the media root and every upload's own folder there (clips/<project>/
    <clip>: the folders above are shared and stay), and every temporary upload."""
    media = Path(settings.MEDIA_ROOT)
    kept = [p for p in media.rglob("*") if p.is_file() or len(p.relative_to(media).parts) > 2]
    return {
        "media": sorted(str(p.relative_to(media)) for p in kept),
        "temporary": sorted(p.name for p in Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()),
    }


def big_video(samples: Any) -> bytes:
    """A video of 3 MiB: a real one with data after it (only the worker reads further)."""
    data = samples["h264.mp4"].read_bytes()
    return data + os.urandom(3 * MB - len(data))


def post_upload(client: Any, project: Any, name: str, data: bytes, *, json: bool = True) -> Any:
    view = "reference_upload" if name.endswith(".png") else "clip_upload"
    payload = {"file": SimpleUploadedFile(name, data), "upload_key": str(uuid.uuid4())}
    accept = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post(reverse(view, args=[project.code]), payload, **accept)


def nothing_kept(response: Any, says: str) -> None:
    assert response.status_code == 503, response.content[:500]
    body = response.json()
    assert body["ok"] is False and body["kept"] is False
    assert body["error"].startswith(says), body["error"]
    assert "was not kept" in body["error"] and "upload it again" in body["error"].lower()
    assert not Clip.objects.exists() and not Reference.objects.exists()
    assert left_behind() == {"media": [], "temporary": []}


@pytest.mark.parametrize("folder", ["media", "temporary"])
def test_a_full_disk_keeps_nothing_of_the_upload_and_the_next_upload_works(
    as_bob, project, samples, monkeypatch, disk, folder
):
    where = Path(settings.MEDIA_ROOT if folder == "media" else settings.FILE_UPLOAD_TEMP_DIR)
    says = {
        "media": "The media folder is full, so clip.mp4 was not kept",
        "temporary": "The temporary-upload folder is full, so clip.mp4 was not kept",
    }[folder]
    with full_disk(where, monkeypatch, disk):
        nothing_kept(post_upload(as_bob, project, "clip.mp4", big_video(samples)), says)
        # Nothing of it holds the disk: a file that fits is taken in on the same full disk.
        small = samples["h264.mp4"].read_bytes()
        assert len(small) < DISK // 2
        response = post_upload(as_bob, project, "again.mp4", small)
        assert response.status_code == 201, response.content
        clip = Clip.objects.get()
        assert clip.original_name == "again.mp4"
        assert Path(clip.source.path).read_bytes() == small
        assert left_behind()["temporary"] == []


def test_a_plain_form_gets_a_page_that_says_the_file_was_not_kept(
    as_bob, project, samples, monkeypatch, disk
):
    with full_disk(Path(settings.MEDIA_ROOT), monkeypatch, disk):
        response = post_upload(as_bob, project, "clip.mp4", big_video(samples), json=False)
    assert response.status_code == 503
    page = response.content.decode()
    assert "The upload was not kept" in page
    assert "The media folder is full, so clip.mp4 was not kept" in page
    assert reverse("project_detail", args=[project.code]) in page
    assert not Clip.objects.exists()
    assert left_behind() == {"media": [], "temporary": []}


def test_a_reference_image_on_a_full_disk_is_not_kept(as_bob, project, monkeypatch, disk):
    picture = make_image(None, (2000, 2000), "PNG")
    picture += os.urandom(2 * MB)  # past the image's end: only its header is read here
    with full_disk(Path(settings.MEDIA_ROOT), monkeypatch, disk):
        response = post_upload(as_bob, project, "mood.png", picture)
    nothing_kept(response, "The media folder is full, so mood.png was not kept")


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (errno.EROFS, "Cutroom cannot write to the media folder (read-only file system)"),
        (errno.EACCES, "Cutroom cannot write to the media folder (permission denied)"),
        (errno.EDQUOT, "The media folder is full"),
    ],
)
def test_a_media_folder_that_cannot_be_written_says_why(
    as_bob, project, samples, monkeypatch, code, says
):
    def refuse(storage: FileSystemStorage, name: str, content: Any) -> str:
        path = Path(storage.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(FileSystemStorage, "_save", refuse)
    response = post_upload(as_bob, project, "clip.mp4", samples["h264.mp4"].read_bytes())
    nothing_kept(response, says)


def test_a_temporary_folder_that_cannot_be_written_says_why(as_bob, project, samples, monkeypatch):
    def read_only(**kwargs: Any) -> Any:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(temp, "NamedTemporaryFile", read_only)
    response = post_upload(as_bob, project, "clip.mp4", samples["h264.mp4"].read_bytes())
    nothing_kept(
        response,
        "Cutroom cannot write to the temporary-upload folder (read-only file system), so "
        "clip.mp4 was not kept. An administrator must make it writable",
    )
