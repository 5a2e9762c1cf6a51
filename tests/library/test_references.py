"""Reference images: the provider's limits, EXIF orientation, bombs, thumbnails."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from studio.library import references
from studio.models import MediaState, Reference
from tests.samples import make_image

pytestmark = pytest.mark.django_db


def send(client, project, name: str, data: bytes):
    payload = {"file": SimpleUploadedFile(name, data), "upload_key": str(uuid.uuid4())}
    return client.post(
        reverse("reference_upload", args=[project.code]), payload, HTTP_ACCEPT="application/json"
    )


def stored_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_png_is_accepted_and_thumbnailed(as_bob, project):
    response = send(as_bob, project, "style.png", make_image(None, (1200, 800)))
    assert response.status_code == 201, response.content
    reference = Reference.objects.get()
    references.reference_process(reference_id=reference.pk)
    reference.refresh_from_db()
    assert reference.state == MediaState.READY
    assert (reference.format, reference.width, reference.height) == ("PNG", 1200, 800)
    with Image.open(reference.thumb.path) as thumb:
        assert thumb.size == (480, 320) and thumb.format == "JPEG"
    assert reference.content_type("image") == "image/png"


def test_exif_orientation_is_applied(as_bob, project):
    image = Image.linear_gradient("L").resize((800, 400)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees clockwise
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    send(as_bob, project, "phone.jpg", buffer.getvalue())
    reference = Reference.objects.get()
    assert (reference.width, reference.height) == (400, 800)
    references.reference_process(reference_id=reference.pk)
    reference.refresh_from_db()
    with Image.open(reference.image.path) as upright:
        assert upright.size == (400, 800)
        assert upright.getexif().get(0x0112) in (None, 1)
    assert len(stored_files()) == 2  # the upright copy replaced the original


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("small.png", make_image(None, (200, 600)), "at least 240 pixels per side"),
        ("strip.png", make_image(None, (2700, 300)), "aspect ratio is about 1:9"),
        ("anim.gif", make_image(None, (400, 400), "GIF"), "This is a GIF image; use JPEG"),
        ("notes.png", b"hello, these are notes", "This file is a text file, not an image."),
        ("empty.png", b"", "The file is empty (0 bytes)."),
    ],
)
def test_bad_images_are_refused_with_a_reason(as_bob, project, name, data, message):
    response = send(as_bob, project, name, data)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Reference.objects.exists() and stored_files() == []


def test_decompression_bomb_is_refused_before_decoding(as_bob, project, samples):
    data = samples["bomb.png"].read_bytes()
    assert len(data) < 100_000  # tiny file, 2.5 billion declared pixels
    response = send(as_bob, project, "bomb.png", data)
    assert response.status_code == 400
    assert "decompression bomb" in response.json()["error"]
    assert stored_files() == []


def test_over_20_mb(as_bob, project, settings):
    big = make_image(None, (300, 300)) + b"\0" * (20 * 1024 * 1024)
    response = send(as_bob, project, "huge.png", big)
    assert "reference images may be at most 20 MB" in response.json()["error"]


def test_damaged_image_is_rejected_by_the_worker(as_bob, project):
    data = make_image(None, (800, 600), "JPEG")
    send(as_bob, project, "cut.jpg", data[: len(data) // 3])
    reference = Reference.objects.get()
    references.reference_process(reference_id=reference.pk)
    reference.refresh_from_db()
    assert reference.state == MediaState.REJECTED
    assert "damaged or incomplete" in reference.reason
    assert stored_files() == []


def test_viewer_cannot_add_or_remove(as_carol, as_bob, project):
    assert send(as_carol, project, "a.png", make_image(None)).status_code == 403
    send(as_bob, project, "a.png", make_image(None))
    reference = Reference.objects.get()
    assert as_carol.post(reverse("reference_delete", args=[reference.code])).status_code == 403
    as_bob.post(reverse("reference_delete", args=[reference.code]))
    assert not Reference.objects.exists() and stored_files() == []
