"""Signing real (tiny) videos and reading the credentials back with c2pa's own reader."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import av
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from studio.provenance.identity import SigningIdentity, identity_load, signing_identity
from studio.provenance.manifests import (
    AI_MEDIA,
    COMPOSITE_WITH_AI,
    SigningError,
    Source,
    Window,
    cut_manifest,
    manifest_read,
    manifest_sign,
    manifest_sign_or_keep,
    take_manifest,
)
from tests.full_disk import FILLER, FullDisks
from tests.provenance.chains import make_chain
from tests.samples import Samples

WHEN = dt.datetime(2026, 12, 7, 21, 30, tzinfo=dt.UTC)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def a_take(source: Path, *, ai: bool = True, prompt: str | None = None) -> dict[str, Any]:
    return take_manifest(
        title="Rainy street, take 3.mp4",
        source=Source("street.mp4", sha256(source)),
        references=[Source("umbrella.png", "c" * 64, "image/png")],
        model="wan2.7-videoedit" if ai else "local",
        provider="modellix" if ai else "local engine",
        made_with_ai=ai,
        version="0.1.0",
        when=WHEN,
        prompt=prompt,
    )


def frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_take_signed_reads_back_valid_with_model_provider_and_sources(
    samples: Samples, tmp_path: Path
) -> None:
    source = samples["half.mp4"]
    dest = tmp_path / "take.mp4"
    manifest_sign(source=source, dest=dest, manifest=a_take(source))
    read = manifest_read(dest)
    assert read is not None
    assert (read.valid, read.trusted, read.reasons) == (True, True, ())
    assert read.own_signer is True and signing_identity().own is True
    assert read.signer.startswith("Cutroom instance")
    assert read.claim_generator.startswith("Cutroom 0.1.0")
    assert read.signed_at == WHEN
    edited = read.actions[-1]
    assert (edited.action, edited.digital_source_type) == ("c2pa.edited", AI_MEDIA)
    assert (edited.model, edited.provider) == ("wan2.7-videoedit", "modellix")
    assert edited.software_agent == "Cutroom 0.1.0"
    assert edited.prompt == ""  # not asked for: prompts can be private
    assert read.made_with_ai and read.models == ("wan2.7-videoedit",)
    assert [(i.title, i.relationship, i.sha256) for i in read.ingredients] == [
        ("street.mp4", "parentOf", sha256(source)),
        ("umbrella.png", "inputTo", "c" * 64),
    ]
    # The signed file is the same video: every frame is still there, and the source is untouched.
    assert frames(dest) == frames(source) == 12
    assert manifest_read(source) is None


def test_the_local_engine_is_said_not_ai_and_the_prompt_travels_when_asked(
    samples: Samples, tmp_path: Path
) -> None:
    source = samples["half.mp4"]
    dest = tmp_path / "local.mp4"
    manifest_sign(source=source, dest=dest, manifest=a_take(source, ai=False, prompt="Add rain"))
    read = manifest_read(dest)
    assert read is not None and read.valid
    assert read.made_with_ai is False
    edited = read.actions[-1]
    assert edited.digital_source_type == ""
    assert edited.description == "Edited with Cutroom's local engine, not AI."
    assert edited.prompt == "Add rain"


def test_a_cut_lists_each_windows_take_with_its_range(samples: Samples, tmp_path: Path) -> None:
    source = samples["half.mp4"]
    windows = [
        Window(Source("take 2 (window 1).mp4", "a" * 64), 0.5, 1.75, "wan2.7-videoedit", True),
        Window(Source("take 5 (window 2).mp4", "b" * 64), 4.0, 6.0, "", False),
    ]
    manifest = cut_manifest(
        title="Cut.mp4",
        clip=Source("street.mp4", sha256(source)),
        windows=windows,
        version="0.1.0",
        when=WHEN,
    )
    dest = tmp_path / "cut.mp4"
    manifest_sign(source=source, dest=dest, manifest=manifest)
    read = manifest_read(dest)
    assert read is not None and read.valid
    assert [(i.title, i.relationship, i.sha256, i.start, i.end) for i in read.ingredients] == [
        ("street.mp4", "parentOf", sha256(source), None, None),
        ("take 2 (window 1).mp4", "componentOf", "a" * 64, 0.5, 1.75),
        ("take 5 (window 2).mp4", "componentOf", "b" * 64, 4.0, 6.0),
    ]
    placed = [a for a in read.actions if a.action == "c2pa.placed"]
    assert [(a.digital_source_type, a.model) for a in placed] == [
        (AI_MEDIA, "wan2.7-videoedit"),
        ("", ""),
    ]
    assert read.actions[-1].digital_source_type == COMPOSITE_WITH_AI


def test_one_changed_byte_of_media_data_fails_validation(samples: Samples, tmp_path: Path) -> None:
    source = samples["half.mp4"]
    dest = tmp_path / "take.mp4"
    manifest_sign(source=source, dest=dest, manifest=a_take(source))
    data = bytearray(dest.read_bytes())
    data[data.index(b"mdat") + 64] ^= 0x01
    dest.write_bytes(bytes(data))
    read = manifest_read(dest)
    assert read is not None
    assert (read.valid, read.trusted) == (False, False)
    assert any("hash" in reason and "mismatch" in reason for reason in read.reasons), read.reasons


def test_a_file_never_signed_has_no_credentials(samples: Samples) -> None:
    assert manifest_read(samples["half.mp4"]) is None


def test_an_operator_chain_signs_and_validates(
    samples: Samples, tmp_path: Path, settings: Any
) -> None:
    chain = make_chain()
    settings.C2PA_CERT = chain.chain_pem.decode()
    settings.C2PA_KEY = chain.key_pem.decode()
    source = samples["half.mp4"]
    dest = tmp_path / "take.mp4"
    manifest_sign(source=source, dest=dest, manifest=a_take(source))
    read = manifest_read(dest)
    assert read is not None
    assert (read.valid, read.trusted, read.own_signer) == (True, True, False)
    assert read.signer == "Test Newsroom Signer"
    # Another instance, which does not know this operator's root: valid, yet not trusted.
    stranger: SigningIdentity = identity_load(cert="", key="", data_dir=tmp_path)
    elsewhere = manifest_read(dest, identity=stranger)
    assert elsewhere is not None
    assert (elsewhere.valid, elsewhere.trusted, elsewhere.own_signer) == (True, False, False)


def test_a_container_c2pa_cannot_sign_is_refused_without_leaving_a_file(
    samples: Samples, tmp_path: Path
) -> None:
    dest = tmp_path / "take.webm"
    with pytest.raises(SigningError, match=r"cannot be added to \.webm files"):
        manifest_sign(source=samples["vp9.webm"], dest=dest, manifest=a_take(samples["vp9.webm"]))
    assert not dest.exists()
    broken = tmp_path / "broken.mp4"
    with pytest.raises(SigningError, match="Signing text.mp4 failed"):
        manifest_sign(source=samples["text.mp4"], dest=broken, manifest=a_take(samples["text.mp4"]))
    assert not broken.exists()


@pytest.mark.parametrize(
    ("make_key", "algorithm"),
    [
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "ps256"),
        (ed25519.Ed25519PrivateKey.generate, "ed25519"),
    ],
    ids=["rsa", "ed25519"],
)
def test_rsa_and_ed25519_operator_keys_sign_too(
    samples: Samples, tmp_path: Path, make_key: Any, algorithm: str
) -> None:
    chain = make_chain(leaf_key=make_key())
    identity = identity_load(
        cert=chain.chain_pem.decode(), key=chain.key_pem.decode(), data_dir=tmp_path
    )
    assert identity.algorithm == algorithm
    source = samples["half.mp4"]
    dest = tmp_path / "take.mp4"
    manifest_sign(source=source, dest=dest, manifest=a_take(source), identity=identity)
    read = manifest_read(dest, identity=identity)
    assert read is not None and (read.valid, read.trusted) == (True, True)


def test_a_full_disk_while_signing_keeps_the_result_unsigned_and_says_why(
    samples: Samples, settings: Any, full_disks: FullDisks, tmp_path: Path
) -> None:
    """c2pa writes its working copies into the scratch folder (not /tmp): when that disk is
    full the signing fails, the original is kept for storing, and nothing is left behind."""
    disk = Path(settings.FILE_UPLOAD_TEMP_DIR) / "disk"
    if not full_disks.mount(disk):
        pytest.skip("mounting a small disk needs root (the CI has it)")
    settings.FILE_UPLOAD_TEMP_DIR = disk
    full_disks.fill(disk)
    # Over c2pa's 1 MB in-memory threshold (STREAMING): a video padded with a 2 MB free box.
    source = tmp_path / "half.mp4"
    padding = 2 * 1024 * 1024
    source.write_bytes(
        samples["half.mp4"].read_bytes() + (padding + 8).to_bytes(4) + b"free" + bytes(padding)
    )
    scratch = tmp_path / "scratch"  # on another disk: only c2pa's own copies meet the full one
    scratch.mkdir()
    tmpdir = os.environ.get("TMPDIR")
    kept = manifest_sign_or_keep(source=source, scratch=scratch, manifest=a_take(source))
    assert (kept.path, kept.signed) == (source, False)
    assert kept.error.startswith("Signing half.mp4 failed"), kept.error
    assert os.environ.get("TMPDIR") == tmpdir  # the process's own, put back
    assert sorted(p.name for p in disk.iterdir()) == [FILLER]
    assert list(scratch.iterdir()) == []
    assert manifest_read(source) is None


def test_an_unreadable_key_keeps_the_result_unsigned_then_signing_again_works(
    samples: Samples, settings: Any, tmp_path: Path
) -> None:
    chain = make_chain()
    key = tmp_path / "key.pem"
    key.write_bytes(chain.key_pem)
    settings.C2PA_CERT = chain.chain_pem.decode()
    settings.C2PA_KEY = str(key.with_name("moved-away.pem"))
    source = samples["half.mp4"]
    kept = manifest_sign_or_keep(source=source, scratch=tmp_path, manifest=a_take(source))
    assert (kept.path, kept.signed) == (source, False)
    assert kept.error == (
        f"STUDIO_C2PA_KEY: cannot read {tmp_path / 'moved-away.pem'}: No such file or directory."
    )
    settings.C2PA_KEY = str(key)
    again = manifest_sign_or_keep(source=source, scratch=tmp_path, manifest=a_take(source))
    assert (again.path, again.signed) == (tmp_path / "signed-half.mp4", True)
    read = manifest_read(again.path)
    assert read is not None and read.valid and read.signer == "Test Newsroom Signer"
