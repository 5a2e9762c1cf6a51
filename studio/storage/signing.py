"""Signed, expiring addresses of input files for a provider to fetch (MODELLIX_MEDIA_MODE=url).

The address names one stored file (its kind, its row's code, its variant) and works for 24
hours; studio.storage.views.provider_media serves it and answers anything else with a plain 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

MEDIA_SALT = "cutroom.provider-media"
MEDIA_URL_MAX_AGE = 24 * 3600


def signed_media_url(*, kind: str, code: str, variant: str) -> str:
    token = signing.dumps({"k": kind, "c": code, "v": variant}, salt=MEDIA_SALT, compress=True)
    return settings.PUBLIC_URL + reverse("provider_media", args=[token])


def signed_media_spec(token: str) -> dict[str, Any] | None:
    """The file a signed address names, or None when the address is forged or has run out."""
    try:
        spec = signing.loads(token, salt=MEDIA_SALT, max_age=MEDIA_URL_MAX_AGE)
        return {"kind": spec["k"], "code": spec["c"], "variant": spec["v"]}
    except (signing.BadSignature, KeyError, TypeError):
        return None
