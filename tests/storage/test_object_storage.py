"""Object storage (STUDIO_STORAGE=s3) against moto's real S3 server on loopback.

Every stored file lands in the bucket under the prefix; media is served by a redirect to a
presigned address that expires, after the access check; share media stops with its link.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from studio.models import Clip, MediaState, TakeState
from tests.cluster import ROOT, production_env
from tests.conftest import upload_clip
from tests.pipeline import new_take, run

pytestmark = pytest.mark.django_db

BODY = bytes(range(256)) * 64


@pytest.fixture
def clip(s3, project):
    """A clip row whose source is BODY, in the bucket."""
    clip = Clip(project=project, original_name="Plage à Nice.mp4", state=MediaState.READY)
    clip.source.save("x/source.mp4", ContentFile(BODY), save=False)
    clip.save()
    return clip


def media(clip, variant="source"):
    return reverse("media_file", args=["clip", clip.code, variant])


def test_a_stored_file_is_an_object_under_the_prefix(s3, clip):
    assert s3.keys() == [f"studio/{clip.source.name}"]
    assert s3.read(f"studio/{clip.source.name}") == BODY


def test_private_media_redirects_to_a_short_lived_presigned_address(s3, clip, as_bob, as_dave):
    answer = as_bob.get(media(clip))
    assert answer.status_code == 302 and answer["Cache-Control"] == "private, no-store"
    target = answer["Location"]
    assert target.startswith(f"{s3.endpoint}/{s3.name}/studio/")
    query = parse_qs(urlsplit(target).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-cache-control"] == ["private, max-age=300"]
    part = requests.get(target, headers={"Range": "bytes=10-19"}, timeout=10)
    assert part.status_code == 206 and part.content == BODY[10:20]
    assert part.headers["Content-Type"] == "video/mp4"
    # The access check comes first: an outsider gets no address at all.
    assert as_dave.get(media(clip)).status_code == 404
    assert Client().get(media(clip)).status_code == 302  # to the sign-in page
    assert "X-Amz" not in Client().get(media(clip))["Location"]


def test_a_download_is_signed_with_its_name(s3, clip, as_bob):
    target = as_bob.get(media(clip) + "?download=1")["Location"]
    whole = requests.get(target, timeout=10)
    assert whole.content == BODY
    assert whole.headers["Content-Disposition"].startswith("attachment;")
    assert "Plage" in whole.headers["Content-Disposition"]


@pytest.fixture
def uploaded(s3, as_bob, project, samples):
    return upload_clip(as_bob, project, samples["long.mp4"])


def files_under(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_an_upload_and_its_derived_files_are_all_in_the_bucket(s3, uploaded, settings):
    stored = [uploaded.source, uploaded.poster, uploaded.poster_thumb, uploaded.filmstrip]
    assert uploaded.filmstrip.name.endswith("/filmstrip.jpg")
    assert s3.keys() == sorted(f"studio/{field.name}" for field in stored)
    # Nothing was written to the local media folder, and no scratch copy is left.
    assert not settings.MEDIA_ROOT.exists() or files_under(settings.MEDIA_ROOT) == []
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


@pytest.mark.usefixtures("queue")
def test_the_provider_fetches_inputs_by_presigned_address(s3, fake, uploaded, bob, settings):
    settings.MODELLIX_MEDIA_MODE = "url"
    settings.PUBLIC_URL = ""  # no public address of our own is needed
    take = new_take(uploaded, bob)
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    url = fake.requests[0][2]["video_url"]
    assert url.startswith(f"{s3.endpoint}/{s3.name}/studio/")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == [str(settings.S3_PROVIDER_URL_SECONDS)]
    assert fake.tasks[take.provider_task_id].video == take.input_clip.file.read()
    assert fake.counts["submit"] == 1 and fake.counts["upload"] == 0
    assert f"studio/{take.result.name}" in set(s3.keys())
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


@pytest.fixture
def shared(s3, clip, make_take):
    return make_take(clip=clip, result=BODY)


def test_share_media_redirects_briefly_and_stops_when_revoked(s3, shared, bob, settings):
    from studio.review import shares

    link, token = shares.share_create(
        take=shared, author=bob, days=7, allow_download=False, show_prompt=True
    )
    guest = Client()
    answer = guest.get(f"/s/{token}/media/result")
    assert answer.status_code == 302 and answer["Cache-Control"] == "private, no-store"
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["X-Amz-Expires"] == [str(settings.S3_SHARE_URL_SECONDS)] == ["60"]
    assert query["response-cache-control"] == ["private, no-store"]
    part = requests.get(answer["Location"], headers={"Range": "bytes=0-99"}, timeout=10)
    assert part.status_code == 206 and part.content == BODY[:100]
    assert part.headers["Cache-Control"] == "private, no-store"
    # Revoked: the next request gets no address, at once.
    shares.share_revoke(link=link, actor=bob)
    assert guest.get(f"/s/{token}/media/result").status_code == 404


def settings_in_a_process(tmp_path, **env: str) -> dict:
    """The settings studio/settings.py makes from this environment, in a fresh process."""
    import json
    import subprocess
    import sys

    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'csp': s.SECURE_CSP, 'storages': s.STORAGES}, default=str))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(tmp_path, DJANGO_SETTINGS_MODULE="studio.settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 or not done.stdout, done.stderr
    return json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr}


def test_the_settings_switch_storage_and_allow_only_the_buckets_origin(tmp_path, s3):
    made = settings_in_a_process(tmp_path, **s3.env())
    options = made["storages"]["default"]["OPTIONS"]
    assert made["storages"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == s3.name and options["location"] == "studio"
    assert options["endpoint_url"] == s3.endpoint and options["addressing_style"] == "path"
    assert options["file_overwrite"] is False and options["default_acl"] is None
    csp = made["csp"]
    assert csp["media-src"][-1] == s3.endpoint and csp["img-src"][-1] == s3.endpoint
    for directive in ("script-src", "style-src", "connect-src", "default-src"):
        assert s3.endpoint not in csp[directive]
    # Virtual-hosted buckets are served from the bucket's own host name.
    virtual = settings_in_a_process(tmp_path, **(s3.env() | {"STUDIO_S3_PATH_STYLE": "false"}))
    assert (
        virtual["csp"]["media-src"][-1]
        == f"http://{s3.name}.127.0.0.1:{s3.endpoint.rsplit(':', 1)[1]}"
    )
    aws = settings_in_a_process(
        tmp_path, STUDIO_STORAGE="s3", STUDIO_S3_BUCKET="clips", STUDIO_S3_REGION="eu-west-1"
    )
    assert aws["csp"]["media-src"][-1] == "https://clips.s3.eu-west-1.amazonaws.com"
    assert aws["storages"]["default"]["OPTIONS"]["endpoint_url"] is None
    # Local storage (the default) allows nothing beyond our own origin.
    local = settings_in_a_process(tmp_path)
    assert local["csp"]["media-src"] == ["'self'", "blob:"]


def test_object_storage_without_a_bucket_stops_start_up_with_a_message(tmp_path):
    made = settings_in_a_process(tmp_path, STUDIO_STORAGE="s3")
    assert "STUDIO_STORAGE=s3 needs STUDIO_S3_BUCKET" in made["error"]
    made = settings_in_a_process(
        tmp_path, STUDIO_STORAGE="s3", STUDIO_S3_BUCKET="b", STUDIO_S3_ENDPOINT_URL="minio:9000"
    )
    assert "STUDIO_S3_ENDPOINT_URL must be an http(s) address" in made["error"]


def test_healthz_reports_the_bucket_reachable_then_not(s3, client, settings):
    from studio.ops import health
    from tests.conftest import scheduler_lease
    from tests.s3 import free_port

    health.beat()
    scheduler_lease()
    answer = client.get(reverse("healthz"))
    assert answer.status_code == 200, answer.json()
    report = answer.json()["storage"]
    assert (
        report["ok"] is True
        and report["backend"] == "s3"
        and report["bucket"] == settings.S3_BUCKET
    )
    # A bucket that is gone...
    s3.client().delete_bucket(Bucket=s3.name)
    answer = client.get(reverse("healthz"))
    assert answer.status_code == 503
    assert answer.json()["storage"]["error"] == "the bucket answered 404"
    # ...and a storage server that does not answer at all: not ok, within seconds.
    settings.STORAGES = s3.storages() | {
        "default": s3.storages()["default"]
        | {
            "OPTIONS": s3.storages()["default"]["OPTIONS"]
            | {"endpoint_url": f"http://127.0.0.1:{free_port()}"}
        }
    }
    answer = client.get(reverse("healthz"))
    assert answer.status_code == 503
    assert (
        answer.json()["storage"]["error"]
        == "the bucket cannot be reached (EndpointConnectionError)"
    )
    assert answer.json()["database"]["ok"] is True


def test_healthz_reports_local_storage(client, settings, tmp_path):
    report = client.get(reverse("healthz")).json()["storage"]
    assert report == {"ok": True, "backend": "local"}
    settings.MEDIA_ROOT = tmp_path / "locked" / "media"
    (tmp_path / "locked").mkdir(mode=0o500)
    report = client.get(reverse("healthz")).json()["storage"]
    if os.geteuid() != 0:  # root may write anywhere
        assert report == {
            "ok": False,
            "backend": "local",
            "error": "the media folder is not writable",
        }


def test_studio_info_says_where_the_files_are(s3, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.S3_ENDPOINT_URL, settings.S3_PREFIX = s3.endpoint, "studio"
    out = StringIO()
    call_command("studio_info", stdout=out)
    assert f"Media files:    s3://{s3.name}/studio ({s3.endpoint}, us-east-1)" in out.getvalue()


def test_an_address_is_given_again_for_half_its_life_so_browsers_cache_the_object(
    s3, clip, as_bob, monkeypatch
):
    from studio.storage import files

    first = as_bob.get(media(clip))["Location"]
    assert as_bob.get(media(clip))["Location"] == first
    assert as_bob.get(media(clip) + "?download=1")["Location"] != first  # other headers
    later = time.monotonic() + 151  # past half of its 300 s
    monkeypatch.setattr(files.time, "monotonic", lambda: later)
    renewed = as_bob.get(media(clip))["Location"]
    # Signed anew (within the same second the signature may come out the same).
    assert "X-Amz-Expires=300" in renewed
    assert [made for url, made in files._signed.values() if url == renewed] == [later]


def test_a_missing_object_is_refused_by_the_bucket_without_asking_first(s3, clip, as_bob):
    s3.client().delete_object(Bucket=s3.name, Key=f"studio/{clip.source.name}")
    answer = as_bob.get(media(clip))
    assert answer.status_code == 302
    assert requests.get(answer["Location"], timeout=10).status_code in (403, 404)
