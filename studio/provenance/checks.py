"""Start-up refuses a signing identity that cannot sign.

`manage.py check`, `runserver` and `migrate` run Django's system checks, so a bad or expired
certificate stops them with its message."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from studio.provenance.identity import IdentityError, signing_identity


@register("security")
def check_signing_identity(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        signing_identity()
    except IdentityError as error:
        return [
            Error(
                str(error),
                hint="Fix STUDIO_C2PA_CERT and STUDIO_C2PA_KEY, or unset both to sign with "
                "this instance's own certificate.",
                id="studio.E031",
            )
        ]
    return []


def identity_required() -> None:
    """For gunicorn, which runs no system checks: refuse to serve with an identity that cannot
    sign, with the same message."""
    try:
        signing_identity()
    except IdentityError as error:
        raise ImproperlyConfigured(f"{error} (studio.E031)") from error
