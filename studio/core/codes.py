"""Short random public codes: the identifiers in addresses, never sequential keys."""

from __future__ import annotations

import secrets


def new_code() -> str:
    return secrets.token_urlsafe(8)
