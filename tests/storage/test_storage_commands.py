"""Moving an instance to object storage: `manage.py storage_copy` and `manage.py storage_check`.

A small instance is made with local storage (a real clip with its poster, thumbnail and input
cut, a processed reference image, a take with its result, poster, thumbnail and export), then
the default storage is switched to a bucket on moto's real S3 server, as STUDIO_STORAGE=s3 does.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from studio.library import clips, references
from studio.models import Clip, MediaState
from studio.storage import services as moving
from studio.storage.services import file_fields, file_rows
from tests.conftest import upload_clip
from tests.samples import make_image

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def run(command: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(command: str, *args: str) -> tuple[str, str]:
    """Run a command that must end with status 1; what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command(command, *args, stdout=out, stderr=err)
    assert failed.value.returncode == 1
    return out.getvalue(), err.getvalue() + str(failed.value)


def local(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


@pytest.fixture
def instance(project, as_bob, bob, samples, make_take) -> dict[str, Any]:
    """An instance with every kind of stored file, written to the local media folder."""
    clip = upload_clip(as_bob, project, samples["tiny.mp4"])
    assert clip.state == MediaState.READY and clip.size and clip.sha256
    cut = clips.input_clip_prepare(clip=clip, start=0.5, length=2.0)
    picture = make_image(size=(320, 240), fmt="PNG")
    reference, _ = references.reference_receive(
        project=project,
        author=bob,
        upload=SimpleUploadedFile("mood.png", picture),
        upload_key=uuid.uuid4(),
    )
    references.reference_process(reference_id=reference.pk)
    reference.refresh_from_db()
    assert reference.state == MediaState.READY
    result = os.urandom(40_000)
    take = make_take(
        clip=clip, prompt="golden hour", seed=7, length_ms=2000, input_clip=cut, result=result
    )
    base = f"takes/{project.code}/{take.code}"
    take.result_poster.save(f"{base}/poster.jpg", ContentFile(b"poster " * 300), save=False)
    take.result_thumb.save(f"{base}/poster-thumb.jpg", ContentFile(b"thumb " * 90), save=False)
    take.export_file.save(f"{base}/side-by-side.mp4", ContentFile(os.urandom(9000)), save=False)
    take.save()
    names = sorted({row.name for row in file_rows()})
    # The clip's source, poster, thumbnail, filmstrip and cut; the image and its thumbnail; the
    # take's four.
    assert len(names) == 11
    return {"clip": clip, "take": take, "reference": reference, "cut": cut, "names": names}


@pytest.fixture
def bucket(instance, request):
    """The instance's storage switched to a fresh, empty bucket."""
    return request.getfixturevalue("s3")


def test_file_fields_are_found_in_the_app_registry():
    found = {f"{model._meta.label}.{field.name}" for model, field in file_fields()}
    assert {
        "studio.Clip.source",
        "studio.Clip.poster",
        "studio.Clip.poster_thumb",
        "studio.Clip.proxy",
        "studio.Clip.filmstrip",
        "studio.Reference.image",
        "studio.Reference.thumb",
        "studio.InputClip.file",
        "studio.Take.result",
        "studio.Take.result_poster",
        "studio.Take.result_thumb",
        "studio.Take.export_file",
    } <= found


def test_copy_puts_every_file_in_the_bucket_and_the_studio_serves_it(instance, bucket, as_bob):
    out, _ = run("storage_copy")
    names = instance["names"]
    assert "11 file(s)" in out and "Uploaded 11" in out and "failed 0" in out
    assert bucket.keys() == sorted(f"studio/{name}" for name in names)
    client = bucket.client()
    for name in names:
        body = local(name).read_bytes()
        assert bucket.read(f"studio/{name}") == body
        head = client.head_object(Bucket=bucket.name, Key=f"studio/{name}")
        assert head["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest()
        assert head["CacheControl"] == "private, max-age=86400"  # as the storage's own uploads
    clip = instance["clip"]
    assert client.head_object(Bucket=bucket.name, Key=f"studio/{clip.source.name}")[
        "ContentType"
    ] == ("video/mp4")
    # Switched over, the studio serves the copies from the bucket.
    target = as_bob.get(reverse("media_file", args=["clip", clip.code, "source"]))["Location"]
    assert requests.get(target, timeout=10).content == local(clip.source.name).read_bytes()
    out, _ = run("storage_check")
    assert "Checked 11 file(s) named by 11 row field(s): 0 problem(s)." in out


def modified_times(bucket) -> dict[str, Any]:
    client, keys = bucket.client(), bucket.keys()
    return {key: client.head_object(Bucket=bucket.name, Key=key)["LastModified"] for key in keys}


def no_download(self, key):
    raise AssertionError(f"{key} was downloaded")


def test_a_second_run_skips_what_is_already_there(instance, bucket, monkeypatch):
    run("storage_copy")
    monkeypatch.setattr(moving.Bucket, "read_sha256", no_download)  # ETags match: no reading
    before = modified_times(bucket)
    out, _ = run("storage_copy", "--verbosity", "2")
    assert "Uploaded 0 (0 bytes), already in the bucket 11" in out
    assert out.count("skipped ") == 11 and "uploaded " not in out
    after = modified_times(bucket)
    assert after == before


def test_changed_objects_are_reported_and_uploaded_again(instance, bucket):
    run("storage_copy")
    clip, take = instance["clip"], instance["take"]
    client = bucket.client()
    # Another size for the clip's source; the same size but other bytes for the take's result
    # (and no metadata: written by some other tool).
    client.put_object(Bucket=bucket.name, Key=f"studio/{clip.source.name}", Body=b"short")
    other = os.urandom(take.result_size)
    client.put_object(Bucket=bucket.name, Key=f"studio/{take.result.name}", Body=other)
    out, _ = fails("storage_check")
    assert f"size      studio.Clip {clip.code} source {clip.source.name}" in out
    assert "stored 5 bytes" in out
    assert take.result.name not in out  # same size: only reading it shows the difference
    out, _ = fails("storage_check", "--checksums")
    assert f"checksum  studio.Take {take.code} result {take.result.name}" in out
    out, _ = run("storage_copy", "-v", "2")
    assert f"uploaded     {clip.source.name}" in out
    assert f"uploaded     {take.result.name}" in out
    assert "Uploaded 2" in out and "already in the bucket 9" in out
    assert bucket.read(f"studio/{take.result.name}") == local(take.result.name).read_bytes()
    run("storage_check", "--checksums")


def test_an_interrupted_run_goes_on_where_it_stopped(instance, bucket, monkeypatch):
    real_upload = moving.Bucket.upload
    uploaded: list[str] = []

    def upload(self, path, key, local_file, *, part_size):
        if len(uploaded) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the third upload
        real_upload(self, path, key, local_file, part_size=part_size)
        uploaded.append(key)

    monkeypatch.setattr(moving.Bucket, "upload", upload)
    with pytest.raises(KeyboardInterrupt):
        run("storage_copy")
    assert bucket.keys() == sorted(uploaded)
    first_two = list(uploaded)

    def counted_upload(self, path, key, local_file, *, part_size):
        uploaded.append(key)
        real_upload(self, path, key, local_file, part_size=part_size)

    monkeypatch.setattr(moving.Bucket, "upload", counted_upload)
    out, _ = run("storage_copy")
    assert "Uploaded 9" in out and "already in the bucket 2" in out
    assert len(uploaded) == 11 and not set(first_two) & set(uploaded[2:])
    assert bucket.keys() == sorted(f"studio/{name}" for name in instance["names"])


def test_a_large_file_goes_up_in_parts_and_a_killed_upload_is_cleaned_up(
    instance, bucket, monkeypatch
):
    take = instance["take"]
    big = os.urandom(11 * MB + 123)
    local(take.export_file.name).write_bytes(big)
    key = f"studio/{take.export_file.name}"
    client = bucket.client()
    # A run killed in the middle of this file: a multipart upload begun, one part sent. It is
    # no object (S3 shows one only once it is completed).
    begun = client.create_multipart_upload(Bucket=bucket.name, Key=key)["UploadId"]
    client.upload_part(
        Bucket=bucket.name, Key=key, UploadId=begun, PartNumber=1, Body=big[: 5 * MB]
    )
    assert bucket.keys() == []
    out, _ = run("storage_copy", "--part-size", "5")
    assert "Uploaded 11" in out and "failed 0" in out
    assert bucket.read(key) == big
    head = client.head_object(Bucket=bucket.name, Key=key)
    assert head["ETag"].strip('"').endswith("-3")  # three parts, checked against ours
    assert client.list_multipart_uploads(Bucket=bucket.name).get("Uploads", []) == []
    monkeypatch.setattr(moving.Bucket, "read_sha256", no_download)
    # The same part size next time: matched by its ETag, neither read nor uploaded again.
    out, _ = run("storage_copy", "--part-size", "5")
    assert "Uploaded 0" in out
    # Another part size gives another ETag: matched by the SHA-256 metadata instead.
    out, _ = run("storage_copy")
    assert "Uploaded 0" in out and "already in the bucket 11" in out


def test_an_object_that_differs_after_upload_is_deleted_and_fails_the_run(
    instance, bucket, monkeypatch
):
    take = instance["take"]
    real_upload = moving.Bucket.upload

    def damaging_upload(self, path, key, local_file, *, part_size):
        if key.endswith("/result.mp4"):  # a store that flips a byte of this one
            damaged = bytearray(path.read_bytes())
            damaged[100] ^= 0xFF
            copy = path.with_name("damaged.mp4")
            copy.write_bytes(bytes(damaged))
            path = copy
        real_upload(self, path, key, local_file, part_size=part_size)

    monkeypatch.setattr(moving.Bucket, "upload", damaging_upload)
    _, err = fails("storage_copy")
    assert f"failed       {take.result.name}: the object's SHA-256 differs" in err
    assert "Not everything was copied: 1 failed." in err
    stored = bucket.keys()
    assert f"studio/{take.result.name}" not in stored and len(stored) == 10


def test_files_missing_locally_are_listed_and_fail_the_run(instance, bucket):
    clip, reference = instance["clip"], instance["reference"]
    local(clip.poster.name).unlink()
    local(reference.thumb.name).unlink()
    out, err = fails("storage_copy")
    assert "9 file(s)" in out and "Uploaded 9" in out
    assert "2 row(s) name files missing from" in err
    assert f"missing      studio.Clip {clip.code} poster {clip.poster.name}" in err
    assert f"missing      studio.Reference {reference.code} thumb {reference.thumb.name}" in err
    assert "Not everything was copied: 2 missing." in err
    out, err = run("storage_copy", "--allow-missing")
    assert "Uploaded 0" in out and f"missing      studio.Clip {clip.code} poster" in err
    out, _ = fails("storage_check")
    assert f"missing   studio.Clip {clip.code} poster {clip.poster.name}" in out
    assert "2 problem(s)" in out


def test_check_finds_a_deleted_object_and_lists_orphans(instance, bucket):
    run("storage_copy")
    clip = instance["clip"]
    client = bucket.client()
    client.delete_object(Bucket=bucket.name, Key=f"studio/{clip.poster_thumb.name}")
    out, _ = fails("storage_check")
    assert f"missing   studio.Clip {clip.code} poster_thumb {clip.poster_thumb.name}" in out
    assert "1 problem(s)." in out
    run("storage_copy")
    client.put_object(Bucket=bucket.name, Key="studio/clips/stray/left-over.mp4", Body=b"x")
    client.put_object(Bucket=bucket.name, Key="studio/local-engine/job.mp4", Body=b"x")
    client.put_object(Bucket=bucket.name, Key="elsewhere/not-ours.mp4", Body=b"x")
    out, _ = run("storage_check", "--orphans")
    assert "orphan    clips/stray/left-over.mp4" in out
    assert "local-engine" not in out and "not-ours" not in out
    assert "0 problem(s), 1 orphan(s)." in out


def test_orphan_names_are_printed_escaped(instance, bucket):
    """A key can hold a terminal's escape sequences: they reach the screen as text."""
    run("storage_copy")
    client = bucket.client()
    key = "studio/clips/\x1b[31mred\x1b]0;owned\x07.mp4"  # red, and a new window title
    client.put_object(Bucket=bucket.name, Key=key, Body=b"x")
    out, _ = run("storage_check", "--orphans")
    assert "\x1b" not in out and "\x07" not in out
    assert "orphan    clips/\\x1b[31mred\\x1b]0;owned\\x07.mp4" in out


def open_multipart(bucket) -> list[str]:
    uploads = bucket.client().list_multipart_uploads(Bucket=bucket.name).get("Uploads", [])
    return sorted(upload["Key"] for upload in uploads)


def test_check_lists_open_multipart_uploads_and_aborts_the_abandoned(instance, bucket, clock):
    """An upload that failed mid-way (or a killed process) leaves its multipart upload open:
    no object, but parts the bucket keeps. --orphans lists them; --abort-multipart aborts those
    with no new part for an hour, and only those."""
    run("storage_copy")
    client = bucket.client()
    # C1's CSI (as ESC [ does) and a right-to-left override (moto refuses ESC in these keys).
    stuck = "studio/clips/p1/c1/\x9b31msource\u202e4pm.mp4"
    begun = client.create_multipart_upload(Bucket=bucket.name, Key=stuck)["UploadId"]
    client.upload_part(Bucket=bucket.name, Key=stuck, UploadId=begun, PartNumber=1, Body=b"x")
    # moto says every upload began in 2010: the parts' times (real ones) tell the age here.
    for key in ("studio/takes/p1/t1/result.mp4", "elsewhere/not-ours.mp4"):
        other = client.create_multipart_upload(Bucket=bucket.name, Key=key)["UploadId"]
        client.upload_part(Bucket=bucket.name, Key=key, UploadId=other, PartNumber=1, Body=b"y")
    out, _ = run("storage_check", "--orphans")
    assert "multipart clips/p1/c1/\\x9b31msource\\u202e4pm.mp4 (open multipart upload begun" in out
    assert f"upload id {begun})" in out and "\x9b" not in out and "\u202e" not in out
    assert "multipart takes/p1/t1/result.mp4 (open multipart upload" in out
    assert "not-ours" not in out
    assert "0 problem(s), 0 orphan(s), 2 open multipart upload(s)." in out
    clock.advance(30 * 60)  # still under way, maybe
    out, _ = run("storage_check", "--abort-multipart")
    assert out.count("under way within the hour, left open") == 2
    assert "2 open multipart upload(s), 0 aborted." in out
    assert len(open_multipart(bucket)) == 3
    clock.advance(31 * 60)
    out, _ = run("storage_check", "--abort-multipart")
    assert "aborted   clips/p1/c1/\\x9b31msource\\u202e4pm.mp4 (open multipart upload" in out
    assert "aborted   takes/p1/t1/result.mp4" in out
    assert "2 open multipart upload(s), 2 aborted." in out
    assert open_multipart(bucket) == ["elsewhere/not-ours.mp4"]  # outside Cutroom's prefix
    out, _ = run("storage_check", "--orphans")
    assert "multipart" not in out and "0 problem(s), 0 orphan(s)." in out


def test_the_sweep_aborts_abandoned_multipart_uploads_once_an_hour(instance, bucket, clock):
    from studio import tasks
    from studio.storage import multipart

    client = bucket.client()
    key = f"studio/{instance['clip'].source.name}.part"
    begun = client.create_multipart_upload(Bucket=bucket.name, Key=key)["UploadId"]
    client.upload_part(Bucket=bucket.name, Key=key, UploadId=begun, PartNumber=1, Body=b"x")
    assert multipart.uploads_abort_abandoned() == []  # parts arrived just now
    clock.advance(multipart.ABANDONED_AFTER.total_seconds() + 60)
    assert multipart.uploads_abort_abandoned_hourly() == 1
    assert open_multipart(bucket) == []
    client.create_multipart_upload(Bucket=bucket.name, Key=key)
    clock.advance(multipart.ABANDONED_AFTER.total_seconds() + 60)
    assert multipart.uploads_abort_abandoned_hourly() == 0  # once an hour: next time
    tasks.sweep()  # also once an hour, with the rest of the sweep
    assert open_multipart(bucket) == [key]


def test_a_dry_run_writes_nothing(instance, bucket):
    take = instance["take"]
    key = f"studio/{take.result.name}"
    begun = bucket.client().create_multipart_upload(Bucket=bucket.name, Key=key)["UploadId"]
    out, _ = run("storage_copy", "--dry-run", "-v", "2")
    assert out.count("would upload ") == 11
    assert "Would upload 11" in out
    assert bucket.keys() == []
    uploads = bucket.client().list_multipart_uploads(Bucket=bucket.name)["Uploads"]
    assert [upload["UploadId"] for upload in uploads] == [begun]


def test_copy_refuses_when_the_storage_is_local(instance):
    with pytest.raises(CommandError, match="keeps files on this disk: set STUDIO_STORAGE=s3"):
        run("storage_copy")


def test_copy_refuses_a_folder_that_is_not_there(instance, bucket):
    with pytest.raises(CommandError, match="There is no folder /nonexistent/media"):
        run("storage_copy", "--from", "/nonexistent/media")
    assert bucket.keys() == []


def test_copy_from_another_folder(instance, bucket, tmp_path):
    moved = tmp_path / "old-media"
    Path(settings.MEDIA_ROOT).rename(moved)
    out, _ = run("storage_copy", "--from", str(moved))
    assert "Uploaded 11" in out
    assert (
        bucket.read(f"studio/{instance['clip'].source.name}")
        == (moved / instance["clip"].source.name).read_bytes()
    )


def test_check_on_local_storage(instance):
    out, _ = run("storage_check", "--checksums")
    assert "0 problem(s)." in out
    clip = Clip.objects.get(pk=instance["clip"].pk)
    local(clip.poster.name).unlink()
    (local("clips") / "stray.bin").write_bytes(b"x")
    out, _ = fails("storage_check", "--orphans")
    assert f"missing   studio.Clip {clip.code} poster {clip.poster.name}" in out
    assert "orphan    clips/stray.bin" in out
