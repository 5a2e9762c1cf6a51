"""Verify anything: real videos signed with c2pa in the test, posted to the team's verify page
and to the public /verify/, and the Content credentials panel of take and render pages."""

from __future__ import annotations

import datetime as dt
import html
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from studio.media.probe import probe
from studio.models import Cut, CutRender
from studio.provenance import reading, views
from studio.provenance.identity import identity_load
from studio.provenance.manifests import Source, Window, cut_manifest, manifest_sign
from tests.library.test_upload_disk_full import full_disk
from tests.provenance.chains import make_chain
from tests.provenance.test_manifests import a_take, sha256
from tests.samples import Samples

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(samples: Samples, tmp_path: Path) -> Path:
    """half.mp4 signed as a take of wan2.7-videoedit through modellix, by this instance."""
    dest = tmp_path / "signed.mp4"
    manifest_sign(source=samples["half.mp4"], dest=dest, manifest=a_take(samples["half.mp4"]))
    return dest


def post(client: Client, url: str, path: Path, name: str = "take.mp4", **extra: Any) -> Any:
    return client.post(url, {"file": SimpleUploadedFile(name, path.read_bytes())}, **extra)


def scratch() -> list[str]:
    return sorted(p.name for p in Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())


def text(response: Any) -> str:
    """What the page says: its words without the tags, spaces collapsed."""
    words = re.sub(r"<[^>]*>", "", response.content.decode())
    return html.unescape(" ".join(words.split()))


def test_the_team_page_reads_a_signed_take_and_links_the_take_it_is(
    as_carol: Client, team: Any, make_take: Any, signed: Path, samples: Samples
) -> None:
    take = make_take(provider="modellix", result=signed.read_bytes())
    url = reverse("team_verify", args=[team.code])
    assert "Drop a video here" in text(as_carol.get(url))
    response = post(as_carol, url, signed)
    page = text(response)
    assert response.status_code == 200
    assert "Valid: the file is exactly as it was signed." in page
    assert "Made with AI (wan2.7-videoedit)" in page
    assert "modellix" in page and "Cutroom 0.1.0" in page
    assert "Signed by this Cutroom instance, not by a trusted authority." in page
    assert "7 Dec 2026, 21:30" in page  # when it was signed
    # The sources, by title and hash, never their bytes.
    assert "street.mp4" in page and sha256(samples["half.mp4"]) in page
    assert "umbrella.png" in page and "reference image" in page
    assert reverse("take_detail", args=[take.code]) in response.content.decode()
    assert scratch() == []


def test_one_changed_byte_reads_tampered_and_an_unsigned_file_has_none(
    as_bob: Client, team: Any, signed: Path, samples: Samples, tmp_path: Path
) -> None:
    data = bytearray(signed.read_bytes())
    data[data.index(b"mdat") + 64] ^= 0x01
    changed = tmp_path / "changed.mp4"
    changed.write_bytes(bytes(data))
    url = reverse("team_verify", args=[team.code])
    page = text(post(as_bob, url, changed))
    assert "Tampered (Invalid): the file was changed after it was signed." in page
    assert "mismatch" in page  # c2pa's reason, in its words
    assert "not one of" not in page and "none of" in page  # no longer matches any file
    unsigned = text(post(as_bob, url, samples["half.mp4"]))
    assert "No content credentials" in unsigned and "Valid" not in unsigned
    stripped = tmp_path / "stripped.mp4"
    stripped.write_bytes(strip_manifest(signed.read_bytes()))
    probe(stripped, max_seconds=60)  # still a whole video: only the credentials are gone
    page = text(post(as_bob, url, stripped))
    assert "No content credentials" in page and "Valid" not in page
    assert scratch() == []


C2PA_BOX = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")  # the uuid of C2PA's boxes in MP4


def strip_manifest(data: bytes) -> bytes:
    """The file with every top-level C2PA box (the manifest store, the Merkle hashes) turned
    into a `free` box of the same size: what a tool that drops credentials leaves, with every
    offset into the media data still right."""
    out, at, stripped = bytearray(data), 0, 0
    while at + 8 <= len(out):
        size, kind = struct.unpack(">I4s", out[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", out[at + 8 : at + 16])[0]
        if kind == b"uuid" and out[at + 8 : at + 24] == C2PA_BOX:
            out[at + 4 : at + 8] = b"free"
            stripped += 1
        at += size or len(out)
    assert stripped, "no C2PA box found to strip"
    return bytes(out)


def test_an_operator_certificate_is_named_and_a_strangers_is_said_to_be_unknown(
    as_bob: Client, team: Any, samples: Samples, tmp_path: Path, settings: Any
) -> None:
    chain = make_chain()
    operator = identity_load(
        cert=chain.chain_pem.decode(), key=chain.key_pem.decode(), data_dir=tmp_path
    )
    dest = tmp_path / "operator.mp4"
    source = samples["half.mp4"]
    manifest_sign(source=source, dest=dest, manifest=a_take(source), identity=operator)
    url = reverse("team_verify", args=[team.code])
    # This instance signs with its own certificate: the operator's chain is someone else's.
    page = text(post(as_bob, url, dest))
    assert "Valid" in page
    assert "Signed by someone else: Test Newsroom Signer." in page
    assert "This Cutroom does not know that certificate" in page
    # The same file where that chain is this Cutroom's operator certificate.
    settings.C2PA_CERT, settings.C2PA_KEY = chain.chain_pem.decode(), chain.key_pem.decode()
    page = text(post(as_bob, url, dest))
    assert "Signed with this Cutroom's operator certificate: Test Newsroom Signer" in page
    assert "not by a trusted authority" not in page


@pytest.mark.parametrize(
    ("name", "status", "says"),
    [
        ("text.mp4", 415, "This file is not a video Cutroom can read"),
        ("photo.jpg", 415, "This file is not a video Cutroom can read"),
        ("vp9.webm", 415, "a WebM or Matroska video, a format content credentials (C2PA) cannot"),
        ("cut-short.mp4", 422, "The credentials of this file cannot be read: the video is damaged"),
    ],
)
def test_files_that_cannot_be_read_are_refused_in_words(
    as_bob: Client, team: Any, samples: Samples, signed: Path, name: str, status: int, says: str
) -> None:
    path = signed.with_name(name)
    if name == "cut-short.mp4":  # a signed video cut short: c2pa cannot parse its boxes
        path.write_bytes(signed.read_bytes()[: signed.stat().st_size // 10])
    else:
        path = samples[name]
    response = post(as_bob, reverse("team_verify", args=[team.code]), path, name)
    assert response.status_code == status
    assert says in text(response)
    assert scratch() == []


def test_too_big_and_a_full_scratch_disk_are_said_and_nothing_is_left(
    as_bob: Client, team: Any, signed: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = reverse("team_verify", args=[team.code])
    settings.MAX_UPLOAD_BYTES = 1000
    response = post(as_bob, url, signed)
    assert response.status_code == 413
    assert "The file is larger than the upload limit of 1000" in text(response)
    settings.MAX_UPLOAD_BYTES = 1024 * 1024 * 1024
    big = Path(settings.DATA_DIR) / "big.mp4"
    big.write_bytes(signed.read_bytes() + bytes(2 * 1024 * 1024))
    with full_disk(Path(settings.FILE_UPLOAD_TEMP_DIR), monkeypatch, "stand-in"):
        response = post(as_bob, url, big)
    assert response.status_code == 503
    assert "The temporary-upload folder is full, so take.mp4 was not kept" in text(response)
    assert scratch() == []


def test_the_public_page_reads_without_sign_in_names_no_team_and_keeps_nothing(
    client: Client, make_take: Any, signed: Path, samples: Samples, monkeypatch: Any
) -> None:
    take = make_take(provider="modellix", result=signed.read_bytes())
    assert 'href="/verify/"' in client.get("/").content.decode()  # the landing page says where
    page = text(client.get("/verify/"))
    assert "Your file is read and deleted at once; nothing is kept." in page
    response = post(client, "/verify/", signed)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    page = text(response)
    assert "Valid" in page and "Made with AI (wan2.7-videoedit)" in page
    markup = response.content.decode()
    assert take.code not in markup and "/k/" not in markup and "/t/" not in markup
    assert scratch() == []  # after a success
    refused = post(client, "/verify/", samples["text.mp4"], "notes.mp4")
    assert refused.status_code == 415 and scratch() == []  # after a rejected file

    def broken(path: Path, **kwargs: Any) -> Any:
        raise RuntimeError("a bug while reading")

    monkeypatch.setattr(views, "reading_of_file", broken)
    crashing = Client(raise_request_exception=False)
    assert post(crashing, "/verify/", signed).status_code == 500
    assert scratch() == []  # after an exception


def test_the_public_page_is_rate_limited_per_address_with_words(
    client: Client, samples: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PUBLIC_RATE", (2, 600))
    codes = [post(client, "/verify/", samples["half.mp4"]).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = post(client, "/verify/", samples["half.mp4"])
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 600
    assert "Too many files were read from your address just now" in text(refused)
    assert "this one was not read (and not kept). Try again in" in text(refused)
    assert scratch() == []


def test_the_take_panel_reads_the_stored_result_once_and_outsiders_get_nothing(
    as_carol: Client,
    as_dave: Client,
    team: Any,
    make_take: Any,
    signed: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache.clear()
    take = make_take(provider="modellix", result=signed.read_bytes())
    page = as_carol.get(reverse("take_detail", args=[take.code])).content.decode()
    credentials_url = reverse("take_credentials", args=[take.code])
    assert "Content credentials" in page and f'data-credentials-from="{credentials_url}"' in page
    panel = text(as_carol.get(credentials_url))
    assert "Valid" in panel and "Made with AI (wan2.7-videoedit)" in panel
    # Seen again, it comes from the cache: the file is not read again.
    monkeypatch.setattr(reading, "reading_of_file", lambda *a, **k: pytest.fail("read again"))
    assert "Made with AI (wan2.7-videoedit)" in text(as_carol.get(credentials_url))
    assert as_dave.get(credentials_url).status_code == 404
    assert as_dave.get(reverse("team_verify", args=[team.code])).status_code == 404
    assert as_dave.post(reverse("team_verify", args=[team.code])).status_code == 404


def test_a_result_made_before_signing_says_so_and_a_render_names_its_windows(
    as_bob: Client, make_take: Any, project: Any, samples: Samples, tmp_path: Path
) -> None:
    cache.clear()
    old = make_take(result=samples["half.mp4"].read_bytes())
    panel = text(as_bob.get(reverse("take_credentials", args=[old.code])))
    assert "No content credentials (made before Cutroom signed its results)." in panel
    # Signing that failed says so, in the words its page shows beside "Sign again".
    failed = make_take(result=samples["half.mp4"].read_bytes())
    failed.credentials, failed.credentials_reason = "missing", "The scratch folder is full."
    failed.save(update_fields=["credentials", "credentials_reason"])
    panel = text(as_bob.get(reverse("take_credentials", args=[failed.code])))
    assert "No content credentials: The scratch folder is full." in panel
    assert "made before" not in panel
    source = samples["half.mp4"]
    window = Window(Source("take 2 (window 1).mp4", "a" * 64), 0.5, 1.75, "wan2.7-videoedit", True)
    manifest = cut_manifest(
        title="Rain.mp4",
        clip=Source("street.mp4", sha256(source)),
        windows=[window],
        version="0.1.0",
        when=dt.datetime(2026, 12, 7, 21, 30, tzinfo=dt.UTC),
    )
    signed = tmp_path / "cut.mp4"
    manifest_sign(source=source, dest=signed, manifest=manifest)
    cut = Cut.objects.create(project=project, clip=old.clip, name="Rain", created_by=None)
    made = CutRender.objects.create(cut=cut, number=1, state="ready", size=signed.stat().st_size)
    with signed.open("rb") as video:
        made.file.save(f"cuts/{cut.code}/v1.mp4", File(video), save=True)
    url = reverse("render_credentials", args=[cut.code, 1])
    page = as_bob.get(reverse("render_detail", args=[cut.code, 1])).content.decode()
    assert f'data-credentials-from="{url}"' in page
    panel = text(as_bob.get(url))
    assert "Valid" in panel and "Made with AI (wan2.7-videoedit)" in panel
    assert "take 2 (window 1).mp4 (window of the cut, 0.5 s to 1.75 s)" in panel
    assert "Cut of street.mp4 with 1 replaced window(s)." in panel
    # The team page links the render that is this very file (found by its size, then hash).
    found = post(as_bob, reverse("team_verify", args=[project.team.code]), signed)
    assert reverse("render_detail", args=[cut.code, 1]) in found.content.decode()
    assert "Cut Rain v1" in text(found)


def test_the_panel_reads_a_result_stored_in_a_bucket_through_the_scratch_folder(
    s3: Any, as_bob: Client, make_take: Any, signed: Path
) -> None:
    cache.clear()
    take = make_take(provider="modellix", result=signed.read_bytes())
    assert take.result.storage.__class__.__name__ == "S3Storage"
    panel = text(as_bob.get(reverse("take_credentials", args=[take.code])))
    assert "Valid: the file is exactly as it was signed." in panel
    assert "Made with AI (wan2.7-videoedit)" in panel
    assert scratch() == []  # the copy from the bucket is gone
