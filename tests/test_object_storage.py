"""Object storage (STUDIO_STORAGE=s3) against moto's real S3 server on loopback.

Every stored file lands in the bucket under the prefix; media is served by a redirect to a
presigned address that expires, after the access check; share media stops with its link.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from studio.models import Clip, MediaState, Project

pytestmark = pytest.mark.django_db

BODY = bytes(range(256)) * 64


@pytest.fixture
def clip(s3, team):
    project = Project.objects.create(team=team, name="Ad")
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
