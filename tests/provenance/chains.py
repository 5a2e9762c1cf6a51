"""Certificate chains made in the test, as an operator would bring them: a root, an intermediate
and a leaf with the key usages C2PA asks for, each of which a test may spoil."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from studio.provenance.identity import SigningKey, key_usage


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _cert(
    name: str,
    key: SigningKey,
    issuer: x509.Certificate | None,
    issuer_key: SigningKey,
    *,
    ca: bool,
    start: dt.datetime,
    end: dt.datetime,
    leaf_usage: bool = True,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(issuer.subject if issuer else _name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(key_usage(sign=not ca and leaf_usage, ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    if not ca:
        eku = [ExtendedKeyUsageOID.EMAIL_PROTECTION]
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Chain:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: SigningKey

    @property
    def chain_pem(self) -> bytes:
        return pem(self.leaf) + pem(self.intermediate) + pem(self.root)

    @property
    def key_pem(self) -> bytes:
        return self.leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def make_chain(
    *,
    leaf_days: tuple[int, int] = (-1, 365),
    leaf_usage: bool = True,
    leaf_key: SigningKey | None = None,
) -> Chain:
    """Root -> intermediate -> leaf; the leaf valid from now+leaf_days[0] to now+leaf_days[1],
    with an EC P-256 key unless another is given."""
    now = dt.datetime.now(dt.UTC)
    keys: list[SigningKey] = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    if leaf_key is not None:
        keys[2] = leaf_key
    long = {"start": now - dt.timedelta(days=2), "end": now + dt.timedelta(days=3650)}
    root = _cert("Test Root CA", keys[0], None, keys[0], ca=True, **long)
    intermediate = _cert("Test Intermediate CA", keys[1], root, keys[0], ca=True, **long)
    leaf = _cert(
        "Test Newsroom Signer",
        keys[2],
        intermediate,
        keys[1],
        ca=False,
        start=now + dt.timedelta(days=leaf_days[0]),
        end=now + dt.timedelta(days=leaf_days[1]),
        leaf_usage=leaf_usage,
    )
    return Chain(root=root, intermediate=intermediate, leaf=leaf, leaf_key=keys[2])
