"""An upload that meets an unreachable bucket (STUDIO_STORAGE=s3): 503 saying the file was not
kept and what to do, no row, no temporary file, and no multipart upload left open for good; the
same upload works once the bucket is back.

The bucket is moto's real S3 server behind tests.s3.FlakyProxy, which refuses connections on
demand, or from the moment the first part of a multipart upload is sent.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio.models import Clip
from studio.storage import multipart
from tests.s3 import FlakyProxy

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def proxy(s3: Any, settings: Any) -> Any:
    """The test's bucket, reached through a proxy that can make it unreachable."""
    flaky = FlakyProxy(s3.endpoint)
    storages = s3.storages()
    storages["default"]["OPTIONS"] |= {
        "endpoint_url": flaky.endpoint,
        # No retries (boto3 would wait seconds before giving up), path-style addresses as
        # s3.storages() asks for, and parts of 5 MB (S3's smallest) from 5 MB on.
        "client_config": Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 1, "mode": "standard"},
        ),
        "transfer_config": TransferConfig(
            multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=2
        ),
    }
    settings.STORAGES = storages
    yield flaky
    flaky.refuse()


def post_clip(client: Any, project: Any, data: bytes) -> Any:
    payload = {"file": SimpleUploadedFile("clip.mp4", data), "upload_key": str(uuid.uuid4())}
    return client.post(
        reverse("clip_upload", args=[project.code]), payload, HTTP_ACCEPT="application/json"
    )


def open_uploads(bucket: Any) -> list[str]:
    uploads = bucket.client().list_multipart_uploads(Bucket=bucket.name).get("Uploads", [])
    return [upload["Key"] for upload in uploads]


def not_kept(response: Any, says: str) -> None:
    assert response.status_code == 503, response.content[:500]
    body = response.json()
    assert set(body) == {"ok", "kept", "error"}
    assert body["ok"] is False and body["kept"] is False
    assert body["error"].startswith(says), body["error"]
    assert "Upload it again in a few minutes" in body["error"]
    assert not Clip.objects.exists()
    assert list(Path(django_settings.FILE_UPLOAD_TEMP_DIR).iterdir()) == []


def test_a_bucket_that_refuses_connections_keeps_nothing(as_bob, project, samples, s3, proxy):
    data = samples["h264.mp4"].read_bytes()
    proxy.refuse()
    not_kept(
        post_clip(as_bob, project, data),
        "Cutroom could not store clip.mp4 in its storage bucket (it could not be reached), "
        "so it was not kept.",
    )
    assert s3.keys() == [] and open_uploads(s3) == []
    proxy.restore()
    response = post_clip(as_bob, project, data)
    assert response.status_code == 201, response.content
    clip = Clip.objects.get()
    assert s3.read(f"studio/{clip.source.name}") == data


def test_a_bucket_lost_mid_upload_leaves_no_upload_open(as_bob, project, samples, s3, proxy, clock):
    head = samples["h264.mp4"].read_bytes()
    data = head + os.urandom(6 * MB)  # two parts; only the worker reads past the video
    proxy.fail_at = b"partNumber="  # the bucket goes away once the upload is begun
    not_kept(
        post_clip(as_bob, project, data),
        "Cutroom could not store clip.mp4 in its storage bucket (",
    )
    # boto3 could not abort it either (the bucket was gone): it stays open, and no object.
    [stuck] = open_uploads(s3)
    assert stuck.startswith("studio/clips/") and stuck.endswith("/source.mp4")
    assert s3.keys() == []
    proxy.restore()
    response = post_clip(as_bob, project, data)  # trying again works
    assert response.status_code == 201, response.content
    clip = Clip.objects.get()
    assert s3.read(f"studio/{clip.source.name}") == data
    # The hourly sweep aborts the upload left open once it has had no part for an hour.
    clock.advance(multipart.ABANDONED_AFTER.total_seconds() + 60)
    assert multipart.uploads_abort_abandoned_hourly() == 1
    assert open_uploads(s3) == []
    assert s3.keys() == [f"studio/{clip.source.name}"]


def test_a_bucket_that_answers_with_an_error_keeps_nothing(as_bob, project, samples, s3, settings):
    storages = s3.storages()
    storages["default"]["OPTIONS"]["bucket_name"] = "cutroom-no-such-bucket"
    settings.STORAGES = storages
    not_kept(
        post_clip(as_bob, project, samples["h264.mp4"].read_bytes()),
        "Cutroom could not store clip.mp4 in its storage bucket (it answered NoSuchBucket), "
        "so it was not kept.",
    )
