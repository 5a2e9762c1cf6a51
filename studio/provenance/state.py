"""Where a stored file's content credentials stand, kept on the row that names the file.

A take's result and a cut's render each carry the same fields (`Credentialed`): signed (when, by
which identity, the instance's own certificate or the operator's), missing (why), or being
signed again. They change only through the methods below and, for a take's first result, the
fields `credentials_fields` gives its SAVED transition, so a page never shows a state no signing
produced.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.provenance.identity import signing_identity

if TYPE_CHECKING:  # the models load this module; c2pa is imported by the workers that sign
    from studio.provenance.manifests import Signed

# What the migration says of results stored before Cutroom signed anything.
BEFORE_CREDENTIALS = "Not signed (made before content credentials)."
# A "Sign again" whose worker died is given up after this long: the button works again.
SIGNING_STALE = timedelta(minutes=10)


class CredentialsState(models.TextChoices):
    NONE = "", "No file yet"
    SIGNED = "signed", "Signed"
    MISSING = "missing", "Missing"
    SIGNING = "signing", "Being signed again"


def credentials_fields(signed: Signed) -> dict[str, Any]:
    """The fields that record how signing a file went (the signer as configured now)."""
    if not signed.signed:
        return {
            "credentials": CredentialsState.MISSING,
            "credentials_reason": signed.error[:2000],
            "credentials_signed_at": None,
            "credentials_signer": "",
            "credentials_own": None,
        }
    identity = signing_identity()
    return {
        "credentials": CredentialsState.SIGNED,
        "credentials_reason": "",
        "credentials_signed_at": timezone.now(),
        "credentials_signer": identity.common_name[:200],
        "credentials_own": identity.own,
    }


class Credentialed(models.Model):
    """The content credentials of the row's main file (a take's result, a render's video)."""

    credentials = models.CharField(
        max_length=8, choices=CredentialsState.choices, blank=True, default=CredentialsState.NONE
    )
    credentials_reason = models.TextField(blank=True)  # why they are missing, for the page
    credentials_signed_at = models.DateTimeField(null=True, blank=True)
    credentials_signer = models.CharField(max_length=200, blank=True)  # the leaf's common name
    # True: this instance's own certificate; False: the operator's chain; None: not signed.
    credentials_own = models.BooleanField(null=True, blank=True)
    credentials_asked_at = models.DateTimeField(null=True, blank=True)  # the last "Sign again"

    class Meta:
        abstract = True

    @property
    def credentials_missing(self) -> bool:
        return self.credentials in (CredentialsState.MISSING, CredentialsState.SIGNING)

    @property
    def credentials_signing(self) -> bool:
        """A "Sign again" is under way (one whose worker died long ago no longer counts: the
        page offers the button again)."""
        asked = self.credentials_asked_at
        return (
            self.credentials == CredentialsState.SIGNING
            and asked is not None
            and asked >= timezone.now() - SIGNING_STALE
        )

    def _rows(self) -> models.QuerySet[Any]:
        return type(self)._default_manager.filter(pk=self.pk)

    def credentials_sign_start(self) -> bool:
        """Mark the file as being signed again: False when it is signed, has none, or a "Sign
        again" is already under way (one whose worker died long ago is taken over)."""
        now = timezone.now()
        waiting = Q(credentials=CredentialsState.MISSING) | Q(
            credentials=CredentialsState.SIGNING, credentials_asked_at__lt=now - SIGNING_STALE
        )
        started = bool(
            self._rows()
            .filter(waiting)
            .update(credentials=CredentialsState.SIGNING, credentials_asked_at=now)
        )
        if started:
            self.refresh_from_db()
        return started

    def credentials_sign_end(
        self, signed: Signed, *, where: dict[str, Any] | None = None, **file_fields: Any
    ) -> bool:
        """Record how signing again went, with the new file's name, size and hash when it was
        signed; False (changing nothing) when this signing is no longer the one under way, or
        the row no longer matches `where` (e.g. a take trashed meanwhile)."""
        fields = {**credentials_fields(signed), **(file_fields if signed.signed else {})}
        ended = bool(
            self._rows()
            .filter(**(where or {}))
            .filter(
                credentials=CredentialsState.SIGNING,
                credentials_asked_at=self.credentials_asked_at,
            )
            .update(**fields)
        )
        if ended:
            self.refresh_from_db()
        return ended
