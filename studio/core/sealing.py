"""Secrets kept encrypted at rest, with a key derived from SECRET_KEY (Fernet: AES-128-CBC with
an HMAC-SHA256, from the `cryptography` library).

Each use names a `purpose`, so one use's sealed values never open as another's. A database leak
alone does not open them: the key is not in the database. Changing SECRET_KEY makes every value
sealed before it unreadable (`unseal` answers None), which callers must say in words.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SALT = b"cutroom sealing v1"


@lru_cache(maxsize=8)
def _fernet(secret: str, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=purpose.encode()).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str, *, purpose: str) -> str:
    return _fernet(settings.SECRET_KEY, purpose).encrypt(value.encode()).decode("ascii")


def unseal(sealed: str, *, purpose: str) -> str | None:
    """The value, or None when there is none or it was sealed under another SECRET_KEY."""
    if not sealed:
        return None
    try:
        return _fernet(settings.SECRET_KEY, purpose).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        return None
