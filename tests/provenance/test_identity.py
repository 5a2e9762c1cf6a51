"""The signing identity: an operator's chain and key are checked at start-up with a clear message;
without them the instance makes its own once, privately, and reuses it."""

from __future__ import annotations

import importlib
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from studio.provenance.identity import (
    OWN_IDENTITY_FILE,
    IdentityError,
    identity_check,
    identity_load,
    own_identity_file,
    signing_identity,
)
from tests.provenance.chains import make_chain, pem


def test_operator_chain_from_files_and_from_text(tmp_path: Path) -> None:
    chain = make_chain()
    (tmp_path / "chain.pem").write_bytes(chain.chain_pem)
    (tmp_path / "key.pem").write_bytes(chain.key_pem)
    from_files = identity_load(
        cert=str(tmp_path / "chain.pem"), key=str(tmp_path / "key.pem"), data_dir=tmp_path
    )
    from_text = identity_load(
        cert=chain.chain_pem.decode(), key=chain.key_pem.decode(), data_dir=tmp_path
    )
    for identity in (from_files, from_text):
        assert identity.own is False
        assert identity.common_name == "Test Newsroom Signer"
        assert identity.algorithm == "es256"
        assert identity.root == chain.root
    # An operator's identity never makes the instance's own.
    assert not (tmp_path / OWN_IDENTITY_FILE).exists()


def test_refuses_a_key_that_does_not_match() -> None:
    chain, other = make_chain(), make_chain()
    with pytest.raises(IdentityError, match="STUDIO_C2PA_KEY does not match the certificate"):
        identity_check(chain.chain_pem, other.key_pem)


def test_refuses_an_expired_or_not_yet_valid_leaf() -> None:
    expired = make_chain(leaf_days=(-30, -1))
    with pytest.raises(IdentityError, match="'Test Newsroom Signer' .* expired on .* renew it"):
        identity_check(expired.chain_pem, expired.key_pem)
    early = make_chain(leaf_days=(2, 30))
    with pytest.raises(IdentityError, match="'Test Newsroom Signer' .* is not valid yet"):
        identity_check(early.chain_pem, early.key_pem)


def test_refuses_a_chain_in_the_wrong_order() -> None:
    chain = make_chain()
    root_first = pem(chain.root) + pem(chain.intermediate) + pem(chain.leaf)
    with pytest.raises(IdentityError, match="wrong order: the signing certificate .* must come"):
        identity_check(root_first, chain.key_pem)
    issuers_swapped = pem(chain.leaf) + pem(chain.root) + pem(chain.intermediate)
    with pytest.raises(
        IdentityError,
        match="wrong order or incomplete: 'Test Newsroom Signer' is not issued by the next "
        "certificate 'Test Root CA'",
    ):
        identity_check(issuers_swapped, chain.key_pem)


def test_refuses_a_leaf_without_the_signing_usage_or_alone() -> None:
    chain = make_chain(leaf_usage=False)
    with pytest.raises(IdentityError, match="lacks the digitalSignature key usage"):
        identity_check(chain.chain_pem, chain.key_pem)
    good = make_chain()
    with pytest.raises(IdentityError, match="followed by the certificate of the authority"):
        identity_check(pem(good.leaf), good.key_pem)


def test_start_up_stops_with_the_message(settings: Any) -> None:
    chain, other = make_chain(), make_chain()
    settings.C2PA_CERT = chain.chain_pem.decode()
    settings.C2PA_KEY = other.key_pem.decode()
    with pytest.raises(SystemCheckError) as refused:
        call_command("check", tags=["security"])
    assert "(studio.E031) STUDIO_C2PA_KEY does not match the certificate" in str(refused.value)
    settings.C2PA_CERT = chain.chain_pem.decode()
    settings.C2PA_KEY = ""
    with pytest.raises(SystemCheckError, match="Set both STUDIO_C2PA_CERT and STUDIO_C2PA_KEY"):
        call_command("check", tags=["security"])
    settings.C2PA_KEY = chain.key_pem.decode()
    call_command("check", tags=["security"])
    assert signing_identity().own is False


def test_own_identity_is_made_once_privately_and_reused(settings: Any) -> None:
    settings.C2PA_CERT = settings.C2PA_KEY = ""
    first = identity_load(cert="", key="", data_dir=settings.DATA_DIR)
    kept = Path(settings.DATA_DIR) / OWN_IDENTITY_FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert not str(kept).startswith(str(settings.MEDIA_ROOT))
    again = identity_load(cert="", key="", data_dir=settings.DATA_DIR)
    assert first.own is again.own is True
    assert again.leaf.fingerprint(hashes.SHA256()) == first.leaf.fingerprint(hashes.SHA256())
    assert again.key_pem == first.key_pem
    assert first.common_name.startswith("Cutroom instance")
    assert list(Path(settings.DATA_DIR).iterdir()) == [kept]  # no temporary file left behind
    assert signing_identity().leaf == first.leaf


def test_processes_starting_at_once_agree_on_one_own_identity(tmp_path: Path) -> None:
    """Web and worker threads make the identity together: one file wins, every caller reads it."""
    start = threading.Barrier(6)
    made: list[bytes] = []

    def make() -> None:
        start.wait()
        made.append(own_identity_file(tmp_path).read_bytes())

    threads = [threading.Thread(target=make) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 6 and len(set(made)) == 1
    assert list(tmp_path.iterdir()) == [tmp_path / OWN_IDENTITY_FILE]
    assert identity_load(cert="", key="", data_dir=tmp_path).key_pem in made[0]


def test_a_damaged_own_identity_stops_start_up_saying_which_file(settings: Any) -> None:
    settings.C2PA_CERT = settings.C2PA_KEY = ""
    kept = Path(settings.DATA_DIR) / OWN_IDENTITY_FILE
    own_identity_file(Path(settings.DATA_DIR))
    kept.write_bytes(kept.read_bytes()[:300])  # cut short: the key and no certificate
    with pytest.raises(SystemCheckError) as refused:
        call_command("check", tags=["security"])
    assert (
        f"(studio.E031) This instance's own signing certificate in {kept} is unusable "
        "(STUDIO_C2PA_CERT holds no readable PEM certificate.) Delete the file to make a new one"
    ) in str(refused.value)
    kept.unlink()
    call_command("check", tags=["security"])
    assert signing_identity().own is True


def test_gunicorn_refuses_to_start_with_an_identity_that_cannot_sign(settings: Any) -> None:
    import studio.wsgi

    expired = make_chain(leaf_days=(-30, -1))
    settings.C2PA_CERT = expired.chain_pem.decode()
    settings.C2PA_KEY = expired.key_pem.decode()
    with pytest.raises(ImproperlyConfigured, match=r"expired on .* renew it\. \(studio\.E031\)"):
        importlib.reload(studio.wsgi)
