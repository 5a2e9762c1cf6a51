"""No stored image keeps its maker's metadata: reference images (the kept copy and its
thumbnail), clip posters and every poster thumbnail lose EXIF (GPS position, camera, times), XMP,
comments and text chunks. Only the ICC colour profile stays, because the colours depend on it."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from studio.library import references
from studio.media.transcode import make_thumbnail
from studio.models import MediaState, Reference
from tests.conftest import upload_clip

pytestmark = pytest.mark.django_db
# What a phone puts in a photo: where (GPS), with what (camera), and notes.
SECRETS = (b"Canon", b"EOS 5D Mark IV", b"2026:05:01 09:30:00", b"at home", b"secret place")


def tagged_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "EOS 5D Mark IV"
    exif[ExifTags.Base.DateTime] = "2026:05:01 09:30:00"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (48.0, 51.0, 29.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 17.0, 40.2),
    }
    return exif


def photo(fmt: str = "JPEG", size: tuple[int, int] = (800, 600), orientation: int = 1) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    extra: dict = {"exif": tagged_exif(orientation), "icc_profile": srgb}
    if fmt == "JPEG":
        extra |= {"comment": b"at home", "xmp": b"<x:xmpmeta>secret place</x:xmpmeta>"}
    if fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "at home")
        text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret place</x:xmpmeta>")
        extra["pnginfo"] = text
    if fmt == "WEBP":
        extra["xmp"] = b"<x:xmpmeta>secret place</x:xmpmeta>"
    image.save(buffer, format=fmt, **extra)
    data = buffer.getvalue()
    assert all(secret in data for secret in SECRETS[:3])  # the test photo really carries them
    return data


def assert_clean(path: Path) -> None:
    data = path.read_bytes()
    leaked = [secret for secret in SECRETS if secret in data]
    assert not leaked, f"{path.name} still holds {leaked}"
    with Image.open(path) as image:
        assert dict(image.getexif()) == {}
        assert not {"exif", "xmp", "comment", "Comment", "XML:com.adobe.xmp"} & set(image.info)


def stored_files() -> list[Path]:
    return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


def add_reference(project, bob, name: str, data: bytes) -> Reference:
    upload = SimpleUploadedFile(name, data)
    reference, _ = references.reference_receive(
        project=project, author=bob, upload=upload, upload_key=uuid.uuid4()
    )
    references.reference_process(reference_id=reference.pk)
    reference.refresh_from_db()
    assert reference.state == MediaState.READY, reference.reason
    return reference


@pytest.mark.parametrize(("fmt", "ext"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_reference_images_lose_gps_and_camera_data(project, bob, fmt, ext):
    reference = add_reference(project, bob, f"holiday.{ext}", photo(fmt))
    assert stored_files() == sorted([Path(reference.image.path), Path(reference.thumb.path)])
    assert_clean(Path(reference.image.path))
    assert_clean(Path(reference.thumb.path))
    with Image.open(reference.image.path) as kept:
        assert kept.format == fmt and kept.size == (800, 600)
        assert kept.info.get("icc_profile")  # the colours stay as they were


def test_a_turned_photo_is_upright_and_clean(project, bob):
    reference = add_reference(project, bob, "phone.jpg", photo(orientation=6))
    assert_clean(Path(reference.image.path))
    with Image.open(reference.image.path) as kept:
        assert kept.size == (600, 800)


def test_a_lossless_webp_stays_lossless(project, bob):
    image = Image.radial_gradient("L").resize((400, 400)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", lossless=True, exif=tagged_exif())
    reference = add_reference(project, bob, "flat.webp", buffer.getvalue())
    assert_clean(Path(reference.image.path))
    with Image.open(reference.image.path) as kept:
        assert kept.convert("RGB").tobytes() == image.tobytes()


def test_references_stored_before_cleaning_are_cleaned_by_the_sweep(project, bob):
    """Uploads kept as sent by an older version are cleaned a few at a time, once each."""
    reference = Reference(
        project=project, original_name="old.jpg", state=MediaState.READY, format="JPEG"
    )
    reference.image.save("refs/old/original.jpg", io.BytesIO(photo()), save=False)
    reference.thumb.save("refs/old/thumb.jpg", io.BytesIO(photo(size=(480, 360))), save=False)
    reference.width, reference.height = 800, 600
    reference.save()
    assert references.references_clean_backfill() == 1
    reference.refresh_from_db()
    assert reference.image.name.endswith("/image.jpg")
    assert_clean(Path(reference.image.path))
    assert_clean(Path(reference.thumb.path))
    assert stored_files() == sorted([Path(reference.image.path), Path(reference.thumb.path)])
    assert references.references_clean_backfill() == 0


def test_clip_posters_and_their_thumbnails_carry_no_metadata(as_bob, project, samples):
    clip = upload_clip(as_bob, project, samples["long.mp4"])
    assert_clean(Path(clip.poster.path))
    assert_clean(Path(clip.poster_thumb.path))


def test_a_thumbnail_of_a_tagged_poster_drops_the_tags(tmp_path):
    """Posters made before, or by another tool, may carry tags: their thumbnails must not."""
    poster = tmp_path / "poster.jpg"
    poster.write_bytes(photo(size=(960, 540)))
    make_thumbnail(poster, tmp_path / "thumb.jpg")
    assert_clean(tmp_path / "thumb.jpg")
