"""Nothing is left behind: a rejected or deleted upload leaves no empty folder, and the sweep
removes empty folders left by older versions. A chunked upload (no Content-Length) is either
taken in or told what is wrong, never answered "This field is required"."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from studio.library import clips, references
from studio.library import processing as media
from studio.models import Clip, MediaState, Reference
from studio.projects.trash import trash_sweep
from tests.cluster import ROOT, Cluster, cluster_env, wait_for
from tests.conftest import client_for, upload_clip
from tests.samples import make_image


def folders() -> list[str]:
    """Every folder under the media root, relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())


def send_clip(client, project, path: Path):
    data = {"file": SimpleUploadedFile(path.name, path.read_bytes()), "upload_key": uuid.uuid4()}
    return client.post(
        reverse("clip_upload", args=[project.code]), data, HTTP_ACCEPT="application/json"
    )


def send_reference(client, project, name: str, data: bytes):
    payload = {"file": SimpleUploadedFile(name, data), "upload_key": str(uuid.uuid4())}
    return client.post(
        reverse("reference_upload", args=[project.code]), payload, HTTP_ACCEPT="application/json"
    )


# -- folders --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_rejected_clip_leaves_no_folder(as_bob, project, samples):
    send_clip(as_bob, project, samples["truncated.mp4"])
    clip = Clip.objects.get()
    assert f"clips/{project.code}/{clip.code}" in folders()
    clips.clip_process(clip_id=clip.pk)
    clip.refresh_from_db()
    assert clip.state == MediaState.REJECTED
    assert f"clips/{project.code}/{clip.code}" not in folders()


@pytest.mark.django_db
def test_a_deleted_clip_leaves_no_folder(as_bob, project, samples):
    clip = upload_clip(as_bob, project, samples["long.mp4"])
    clips.input_clip_prepare(clip=clip, start=1.0, length=3.0)  # a provider input, too
    assert f"clips/{project.code}/{clip.code}" in folders()
    as_bob.post(reverse("clip_delete", args=[clip.code]))
    Clip.objects.filter(pk=clip.pk).update(purge_after=timezone.now())  # the trash emptied
    trash_sweep()
    assert f"clips/{project.code}/{clip.code}" not in folders()


@pytest.mark.django_db
def test_a_rejected_or_deleted_reference_leaves_no_folder(as_bob, project):
    data = make_image(None, (800, 600), "JPEG")
    send_reference(as_bob, project, "cut.jpg", data[: len(data) // 3])
    send_reference(as_bob, project, "fine.png", make_image(None, (800, 600)))
    damaged, fine = Reference.objects.order_by("pk")
    for reference in (damaged, fine):
        references.reference_process(reference_id=reference.pk)
    damaged.refresh_from_db()
    assert damaged.state == MediaState.REJECTED
    assert f"refs/{project.code}/{damaged.code}" not in folders()
    assert f"refs/{project.code}/{fine.code}" in folders()
    as_bob.post(reverse("reference_delete", args=[fine.code]))
    assert f"refs/{project.code}/{fine.code}" not in folders()


def test_the_sweep_removes_old_empty_folders_only(settings, tmp_path):
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    old_empty = root / "clips" / "p1" / "c1"
    old_project = root / "refs" / "p2"
    fresh_empty = root / "clips" / "p1" / "c2"
    kept = root / "takes" / "p3" / "t1"
    for folder in (old_empty, old_project, fresh_empty, kept):
        folder.mkdir(parents=True)
    (kept / "result.mp4").write_bytes(b"x")
    long_ago = time.time() - media.EMPTY_FOLDER_AGE.total_seconds() - 60
    for folder in (old_empty, old_project, kept, kept.parent):
        os.utime(folder, (long_ago, long_ago))
    assert media.clean_empty_folders() == 2
    assert not old_empty.exists() and not old_project.exists()
    assert fresh_empty.exists() and (kept / "result.mp4").exists()
    assert (root / "clips").exists() and (root / "refs").exists()  # the top folders stay


def test_the_sweep_walks_the_folders_once_an_hour(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    long_ago = time.time() - media.EMPTY_FOLDER_AGE.total_seconds() - 60
    for name in ("a", "b"):
        (tmp_path / "clips" / name).mkdir(parents=True)
        os.utime(tmp_path / "clips" / name, (long_ago, long_ago))
        assert media.clean_empty_folders_hourly() == (1 if name == "a" else 0)
    assert (tmp_path / "clips" / "b").exists()


def test_the_sweep_copes_without_a_media_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "not-made-yet"
    assert media.clean_empty_folders() == 0


# -- chunked uploads --------------------------------------------------------------------------
def multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: video/mp4\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def chunked_post(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """POST `body` with Transfer-Encoding: chunked (no Content-Length) over a raw socket.

    A server may answer and close before reading the body; what it answered is still returned.
    """
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Transfer-Encoding: chunked"]
    head += [f"{key}: {value}" for key, value in headers.items()]
    request = "\r\n".join([*head, "Connection: close", "", ""]).encode()
    for start in range(0, len(body), 64 * 1024):
        piece = body[start : start + 64 * 1024]
        request += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    request += b"0\r\n\r\n"
    answer = b""
    with socket.create_connection((host, port), timeout=30) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


def signed_in_headers(user) -> dict[str, str]:
    client = client_for(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    token = "a" * 32  # an unmasked CSRF secret, sent as cookie and header alike
    return {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={token}",
        "X-CSRFToken": token,
        "Accept": "application/json",
    }


@pytest.mark.django_db
def test_chunked_upload_is_taken_in_when_the_server_ends_the_body(as_bob, project, samples):
    """gunicorn (and other servers that mark wsgi.input_terminated) de-chunk the body."""
    data = samples["h264.mp4"].read_bytes()
    body, boundary = multipart({"upload_key": str(uuid.uuid4())}, "chunked.mp4", data)
    response = as_bob.generic(
        "POST",
        reverse("clip_upload", args=[project.code]),
        b"",
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_ACCEPT="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_TYPE=f"multipart/form-data; boundary={boundary}",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )
    assert response.status_code == 201, response.content
    clip = Clip.objects.get()
    assert Path(clip.source.path).read_bytes() == data


@pytest.mark.django_db
def test_chunked_upload_over_the_cap_is_stopped(as_bob, project, samples, settings):
    settings.MAX_UPLOAD_BYTES = 10_000
    body, boundary = multipart(
        {"upload_key": str(uuid.uuid4())}, "big.mp4", samples["h264.mp4"].read_bytes()
    )
    response = as_bob.generic(
        "POST",
        reverse("clip_upload", args=[project.code]),
        b"",
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_ACCEPT="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_TYPE=f"multipart/form-data; boundary={boundary}",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert "larger than the upload limit" in response.json()["error"]
    assert not Clip.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_chunked_upload_to_a_server_that_cannot_end_the_body_says_what_is_wrong(
    live_server, bob, project
):
    """Django's development server (live_server) hands the raw chunked bytes on: refused, 411."""
    body, boundary = multipart({"upload_key": str(uuid.uuid4())}, "chunked.mp4", b"\0" * 1000)
    headers = signed_in_headers(bob) | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    host, port = live_server.thread.host, live_server.thread.port
    url = reverse("clip_upload", args=[project.code])
    answer = chunked_post(host, port, url, body, headers)
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 411 " in status_line, answer[:500]
    assert b"This field is required" not in answer
    assert b"without its size" in rest
    assert not Clip.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_chunked_upload_through_gunicorn_is_stored_whole(bob, project, samples, tmp_path):
    """What `make run` serves with: gunicorn de-chunks the body and ends it."""
    data = samples["h264.mp4"].read_bytes()
    body, boundary = multipart({"upload_key": str(uuid.uuid4())}, "chunked.mp4", data)
    headers = signed_in_headers(bob) | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--threads", "2"],
        cwd=ROOT,
        env=cluster_env(STUDIO_DATA_DIR=str(tmp_path / "data"), SECRET_KEY=settings.SECRET_KEY),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def listening() -> bool:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            return False

        watched = Cluster(server, tmp_path / "gunicorn.log")  # its log, if it exits
        wait_for(listening, 120, "gunicorn to listen", watched)
        url = reverse("clip_upload", args=[project.code])
        answer = chunked_post("127.0.0.1", port, url, body, headers)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    assert answer.startswith(b"HTTP/1.1 201"), (tmp_path / "gunicorn.log").read_text()[-3000:]
    clip = Clip.objects.get()
    assert Path(clip.source.path).read_bytes() == data


def test_a_chunked_body_is_read_to_its_end_but_never_past_the_cap(rf):
    from studio.library.uploads import EndedBody

    request = rf.post("/")
    body = EndedBody(io.BytesIO(b"line one\nline two\n" + b"x" * 100), 30, request)
    assert body.readline() == b"line one\n"
    assert body.read(1000) == b"line two\n" + b"x" * 12
    assert not getattr(request, "upload_too_large", False)
    assert body.read() == b""
    assert request.upload_too_large is True  # more was sent than any upload may hold
