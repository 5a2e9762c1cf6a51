"""The identity that signs content credentials: the operator's chain and key, or the instance's own.

An operator sets STUDIO_C2PA_CERT (the chain, leaf first) and STUDIO_C2PA_KEY (the leaf's private
key), each a file path or the PEM text itself. Without them, the instance makes its own root and
leaf on first use and keeps both, with the leaf's key, in STUDIO_DATA_DIR/c2pa_identity.pem beside
the secret key (never in the media folder). Credentials signed with it are honest but not from a
trusted authority: `SigningIdentity.own` says so, for the pages to say it too.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.utils import timezone

OWN_IDENTITY_FILE = "c2pa_identity.pem"
OWN_LEAF_NAME = "Cutroom instance (its own certificate, not a trusted authority)"
OWN_ROOT_NAME = "Cutroom instance root"
# Extended key usages the C2PA certificate profile accepts for a signer (see __init__).
ACCEPTED_EKUS = (
    ExtendedKeyUsageOID.EMAIL_PROTECTION,
    x509.ObjectIdentifier("1.3.6.1.4.1.311.76.59.1.9"),  # Microsoft: C2PA signing
    x509.ObjectIdentifier("1.3.6.1.4.1.62558.2.1"),  # C2PA: claim signing
)


type SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class IdentityError(Exception):
    """The configured signing identity cannot sign: the message says what to fix."""


@dataclass(frozen=True)
class SigningIdentity:
    chain_pem: bytes  # leaf first, then each issuer
    key_pem: bytes
    algorithm: str  # "es256", "ps256" or "ed25519", as c2pa names them
    own: bool  # made by this instance, not issued by a trusted authority
    leaf: x509.Certificate
    root: x509.Certificate  # the last certificate of the chain: the reader's trust anchor

    @property
    def common_name(self) -> str:
        return _common_name(self.leaf)


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _pem_text(value: str, setting: str) -> bytes:
    """A setting holds the PEM text itself or the path of a file holding it."""
    if "-----BEGIN" in value:
        return value.encode()
    path = Path(value).expanduser()
    try:
        return path.read_bytes()
    except OSError as error:
        raise IdentityError(f"{setting}: cannot read {path}: {error.strerror}.") from error


def _load_chain(pem: bytes, setting: str) -> list[x509.Certificate]:
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError as error:
        raise IdentityError(f"{setting} holds no readable PEM certificate.") from error
    return chain


def _load_key(pem: bytes, setting: str) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise IdentityError(
            f"{setting} holds no readable unencrypted PEM private key (PKCS#8 or traditional)."
        ) from error
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise IdentityError(f"{setting}: C2PA signs with an EC P-256, RSA or Ed25519 key only.")


def _algorithm(key: SigningKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "es256"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    return "ed25519"


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _key_matches(leaf: x509.Certificate, key: SigningKey) -> bool:
    public = key.public_key()
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(leaf.public_key().public_bytes(*raw) == public.public_bytes(*raw))


def identity_check(
    chain_pem: bytes, key_pem: bytes, *, now: dt.datetime | None = None
) -> list[x509.Certificate]:
    """Refuse a chain and key that c2pa would refuse or that would sign untruthfully.

    Returns the chain, leaf first. Each refusal says which setting to fix and how.
    """
    chain = _load_chain(chain_pem, "STUDIO_C2PA_CERT")
    key = _load_key(key_pem, "STUDIO_C2PA_KEY")
    leaf = chain[0]
    if not _key_matches(leaf, key):
        if any(_key_matches(cert, key) for cert in chain[1:]):
            raise IdentityError(
                "STUDIO_C2PA_CERT is in the wrong order: the signing certificate (the one whose "
                "key is STUDIO_C2PA_KEY) must come first, then each issuer up to the root."
            )
        raise IdentityError(
            "STUDIO_C2PA_KEY does not match the certificate: the key must be the private key of "
            "the first certificate in STUDIO_C2PA_CERT (the leaf)."
        )
    if len(chain) < 2 or leaf.issuer == leaf.subject:
        raise IdentityError(
            "STUDIO_C2PA_CERT holds a self-signed certificate only: C2PA needs the signing "
            "certificate followed by the certificate of the authority that issued it."
        )
    for cert, issuer in zip(chain, chain[1:], strict=False):
        if not _issued_by(cert, issuer):
            raise IdentityError(
                "STUDIO_C2PA_CERT is in the wrong order or incomplete: "
                f"'{_common_name(cert)}' is not issued by the next certificate "
                f"'{_common_name(issuer)}'. Put the signing (leaf) certificate first, then each "
                "issuer up to the root."
            )
    moment = now or timezone.now()
    for cert in chain:
        if moment < cert.not_valid_before_utc:
            raise IdentityError(
                f"The certificate '{_common_name(cert)}' in STUDIO_C2PA_CERT is not valid yet: "
                f"it starts on {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC."
            )
        if moment > cert.not_valid_after_utc:
            raise IdentityError(
                f"The certificate '{_common_name(cert)}' in STUDIO_C2PA_CERT expired on "
                f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC: renew it."
            )
    _check_leaf_usage(leaf)
    return chain


def _check_leaf_usage(leaf: x509.Certificate) -> None:
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.digital_signature:
        raise IdentityError(
            "The signing certificate in STUDIO_C2PA_CERT lacks the digitalSignature key usage "
            "that C2PA requires."
        )
    try:
        ekus = list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        ekus = []
    if not any(eku in ACCEPTED_EKUS for eku in ekus):
        raise IdentityError(
            "The signing certificate in STUDIO_C2PA_CERT lacks an extended key usage that C2PA "
            "accepts for signing (emailProtection, or the C2PA claim-signing usage)."
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cutroom"),
        ]
    )


def key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def own_identity_make(*, now: dt.datetime | None = None) -> bytes:
    """A fresh root and leaf (EC P-256): the leaf's key, then the leaf, then the root, in PEM."""
    moment = now or timezone.now()
    root_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(OWN_ROOT_NAME))
        .issuer_name(_name(OWN_ROOT_NAME))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - dt.timedelta(hours=1))
        .not_valid_after(moment + dt.timedelta(days=365 * 30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    # Twenty-five years: an instance's own leaf should not stop start-up in a future year.
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(OWN_LEAF_NAME))
        .issuer_name(root.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - dt.timedelta(hours=1))
        .not_valid_after(moment + dt.timedelta(days=365 * 25))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key + leaf.public_bytes(pem) + root.public_bytes(pem)


def own_identity_file(data_dir: Path) -> Path:
    """The instance's identity file, made once: web and worker may start together, so it is
    written privately (0600) under a temporary name and linked into place; whichever process
    wins, all read the same complete file."""
    path = data_dir / OWN_IDENTITY_FILE
    if not path.exists():
        # The process id and a random part: threads of one process may race here too.
        temporary = data_dir / f".{OWN_IDENTITY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(own_identity_make())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path


def identity_load(*, cert: str, key: str, data_dir: Path) -> SigningIdentity:
    """The operator's identity when both settings are set, else the instance's own."""
    if bool(cert) != bool(key):
        raise IdentityError(
            "Set both STUDIO_C2PA_CERT and STUDIO_C2PA_KEY (the chain and its leaf's key), or "
            "neither to let this instance sign with its own certificate."
        )
    if cert:
        chain_pem = _pem_text(cert, "STUDIO_C2PA_CERT")
        key_pem = _pem_text(key, "STUDIO_C2PA_KEY")
        chain = identity_check(chain_pem, key_pem)
        own = False
    else:
        path = own_identity_file(data_dir)
        text = path.read_bytes()
        start = text.find(b"-----BEGIN CERTIFICATE")
        key_pem, chain_pem = text[: max(start, 0)], text[max(start, 0) :]
        try:
            chain = identity_check(chain_pem, key_pem)
        except IdentityError as error:
            raise IdentityError(
                f"This instance's own signing certificate in {path} is unusable ({error}) "
                "Delete the file to make a new one, or set STUDIO_C2PA_CERT and STUDIO_C2PA_KEY."
            ) from error
        own = True
    loaded = _load_key(key_pem, "STUDIO_C2PA_KEY")
    return SigningIdentity(
        chain_pem=b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain),
        key_pem=key_pem,
        algorithm=_algorithm(loaded),
        own=own,
        leaf=chain[0],
        root=chain[-1],
    )


def signing_identity() -> SigningIdentity:
    """This process's identity, from the settings (loaded once for each value of them)."""
    return _identity(settings.C2PA_CERT, settings.C2PA_KEY, str(settings.DATA_DIR))


@cache
def _identity(cert: str, key: str, data_dir: str) -> SigningIdentity:
    return identity_load(cert=cert, key=key, data_dir=Path(data_dir))
